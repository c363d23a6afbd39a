//! Reading the cells of one row as the types of their columns, and the checks of each kind.

use anxin_domain::{CreditCode, Fen, IdError, MoneyError, RegionCode, ResidentId, YearMonth};
use jiff::civil::Date;

use crate::Regions;
use crate::cell::{Cell, excel_serial_date, float_text, halfwidth, mask_id_text, mask_name, shown};
use crate::codes::{
    Code, EmploymentForm, GapReason, Insurance, OrgKind, Payer, ProofKind, Relation, Status, YesNo,
};
use crate::columns::{self, Field, Ty};
use crate::error::{Msg, Rejection};
use crate::rows::{ApplicationRow, ChildRow, ContributionRow, OrgRow, Permit, PersonRow};

/// Contributions before the pension reform of 1992 are not imported.
const FIRST_MONTH: (i32, u32) = (1992, 1);

static EMPTY: Cell = Cell::Empty;
static NO_FIELD: Field = Field {
    key: "",
    zh: &[],
    required: false,
    ty: Ty::Text,
};

pub(crate) struct Ctx<'a> {
    pub row: u64,
    pub cells: &'a [Cell],
    pub labels: &'a [String],
    pub fields: &'static [Field],
    pub today: Date,
    pub regions: &'a dyn Regions,
}

type R<T> = Result<T, Rejection>;

impl Ctx<'_> {
    fn cell(&self, f: usize) -> &Cell {
        self.cells.get(f).unwrap_or(&EMPTY)
    }

    fn field(&self, f: usize) -> &'static Field {
        self.fields.get(f).unwrap_or(&NO_FIELD)
    }

    fn label(&self, f: usize) -> &str {
        self.labels
            .get(f)
            .map(String::as_str)
            .unwrap_or(self.field(f).key)
    }

    /// The column's value as it may be shown: IDs and names masked, the rest cut and scrubbed.
    pub fn shown_value(&self, f: usize) -> String {
        let raw = self.cell(f).raw_display();
        match self.field(f).ty {
            Ty::ResidentId => match ResidentId::parse(&normalize_id(&raw)) {
                Ok(id) => id.masked(),
                Err(_) => mask_id_text(&raw),
            },
            Ty::Name => mask_name(&raw),
            _ => shown(&raw),
        }
    }

    pub fn reject_with(&self, f: usize, value: String, msg: Msg) -> Rejection {
        Rejection::new(self.row, self.label(f), self.field(f).key, value, msg)
    }

    /// A rejection of column `f`, showing its (masked) value.
    pub fn reject(&self, f: usize, msg: Msg) -> Rejection {
        self.reject_with(f, self.shown_value(f), msg)
    }

    /// "zh（en）" of the column, e.g. 「所属期（month）」 — what messages call the column.
    fn names(&self, f: usize) -> (&'static str, &'static str) {
        let field = self.field(f);
        (field.zh_name(), field.key)
    }

    fn hint(&self, f: usize) -> Msg {
        let field = self.field(f);
        match (field.ty, field.key) {
            (Ty::ResidentId, _) => Msg::new(
                "18 位居民身份证号码（17 位数字加 1 位数字或 X）",
                "an 18-character resident ID number (17 digits then a digit or X)",
            ),
            (Ty::CreditCode, _) => Msg::new(
                "18 位统一社会信用代码，如 91350100M000100Y43",
                "an 18-character unified social credit code, e.g. 91350100M000100Y43",
            ),
            (Ty::CreditCodes, _) => Msg::new(
                "统一社会信用代码，多个用 ; 分隔",
                "unified social credit codes separated by ;",
            ),
            (Ty::Name, _) => Msg::new("1–50 个字的姓名", "a name of 1 to 50 characters"),
            (Ty::Text, "household") => Msg::new("不超过 64 个字", "at most 64 characters"),
            (Ty::Text, _) => Msg::new("1–200 个字的名称", "a name of 1 to 200 characters"),
            (Ty::Region, _) => Msg::new(
                "已知地区的 6 位代码或名称，如 330100 或 杭州",
                "the 6-digit code or the name of a known region, e.g. 330100 or 杭州",
            ),
            (Ty::Date, _) => Msg::new(
                "日期 YYYY-MM-DD，如 2025-03-01",
                "a date YYYY-MM-DD, e.g. 2025-03-01",
            ),
            (Ty::Month, _) => Msg::new(
                "月份 YYYY-MM、YYYYMM 或 YYYY/MM，从 1992-01 到本月",
                "a month YYYY-MM, YYYYMM or YYYY/MM from 1992-01 to the current month",
            ),
            (Ty::Money, _) => Msg::new(
                "以元为单位、最多两位小数的金额，如 3500 或 3,500.00",
                "an amount in yuan with at most two decimals, e.g. 3500 or 3,500.00",
            ),
            (Ty::RecordId, _) => Msg::new(
                "1–64 个字符，只能用字母、数字和 . _ : -",
                "1 to 64 characters from A-Z, a-z, 0-9 and . _ : -",
            ),
            (Ty::Code, "employment_form") => code_hint::<EmploymentForm>(),
            (Ty::Code, "kind") => code_hint::<OrgKind>(),
            (Ty::Code, "relation") => code_hint::<Relation>(),
            (Ty::Code, "insurance") => code_hint::<Insurance>(),
            (Ty::Code, "payer") => code_hint::<Payer>(),
            (Ty::Code, "status") => code_hint::<Status>(),
            (Ty::Code, "reason") => code_hint::<GapReason>(),
            (Ty::Code, "proofs") => {
                let h = code_hint::<ProofKind>();
                Msg::new(
                    format!("{}，多项用分号 ; 隔开", h.zh),
                    format!("{}, several separated by ;", h.en),
                )
            }
            (Ty::Code, _) => Msg::new("规定的代码", "one of the listed codes"),
        }
    }

    /// `None` (blank) becomes a "required" rejection.
    fn need<T>(&self, f: usize, value: Option<T>) -> R<T> {
        value.ok_or_else(|| {
            let (zh, en) = self.names(f);
            let hint = self.hint(f);
            self.reject_with(
                f,
                String::new(),
                Msg::new(
                    format!("{zh}为必填项，不能为空：请填{}", hint.zh),
                    format!("{en} is required and must not be empty: write {}", hint.en),
                ),
            )
        })
    }

    fn unusable(&self, f: usize, zh_what: &str, en_what: &str) -> Rejection {
        let (zh, en) = self.names(f);
        let hint = self.hint(f);
        self.reject(
            f,
            Msg::new(
                format!("{zh}的单元格是{zh_what}，不是可用的值：请填{}", hint.zh),
                format!(
                    "the {en} cell holds {en_what}, not a usable value: write {}",
                    hint.en
                ),
            ),
        )
    }

    fn too_long(&self, f: usize, bytes: usize) -> Rejection {
        let (zh, en) = self.names(f);
        self.reject_with(
            f,
            format!("<{bytes} bytes>"),
            Msg::new(
                format!("{zh}有 {bytes} 字节，超过单元格上限 4096 字节（4 KiB）"),
                format!(
                    "{en} has {bytes} bytes, more than the limit of 4096 bytes (4 KiB) per cell"
                ),
            ),
        )
    }

    /// The cell as trimmed text; `None` if blank.
    pub fn text(&self, f: usize) -> R<Option<String>> {
        let t = match self.cell(f) {
            Cell::Empty => return Ok(None),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(x) => float_text(*x),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::TooLong(n) => return Err(self.too_long(f, *n)),
            Cell::Unusable { zh, en } => return Err(self.unusable(f, zh, en)),
        };
        Ok(if t.is_empty() { None } else { Some(t) })
    }

    /// Free text of at most `max` characters, without control characters.
    pub fn plain(&self, f: usize, max: usize) -> R<Option<String>> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        let (zh, en) = self.names(f);
        let n = t.chars().count();
        if n > max {
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}有 {n} 个字，最多 {max} 个字"),
                    format!("{en} has {n} characters; at most {max} are allowed"),
                ),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}含有控制字符（如换行、制表符）：请只填可见的文字"),
                    format!("{en} contains control characters (such as line breaks or tabs): write visible text only"),
                ),
            ));
        }
        Ok(Some(t))
    }

    /// A person's name: 1–50 characters, no digits (a number here means a shifted column).
    pub fn person_name(&self, f: usize) -> R<Option<String>> {
        let name = self.plain(f, 50)?;
        if let Some(n) = &name
            && n.chars()
                .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
        {
            let (zh, en) = self.names(f);
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}不能含数字：请填本人的姓名（身份证号等请填在各自的列中）"),
                    format!("{en} must not contain digits: write the person's name (ID numbers and the like go in their own columns)"),
                ),
            ));
        }
        Ok(name)
    }

    /// A resident ID. Numbers from a spreadsheet are refused: Excel keeps 15 digits.
    pub fn resident_id(&self, f: usize) -> R<Option<ResidentId>> {
        self.identifier(f, ResidentId::parse)
    }

    /// An identifier with a check character, read as text.
    fn identifier<T>(&self, f: usize, parse: fn(&str) -> Result<T, IdError>) -> R<Option<T>> {
        if matches!(self.cell(f), Cell::Float(_)) {
            return Err(self.numeric_id(f));
        }
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        if looks_scientific(&t) {
            return Err(self.numeric_id(f));
        }
        let (zh, _) = self.names(f);
        parse(&normalize_id(&t))
            .map(Some)
            .map_err(|e| self.reject(f, id_error(zh, &e)))
    }

    fn numeric_id(&self, f: usize) -> Rejection {
        let (zh, en) = self.names(f);
        let code = self.field(f).ty == Ty::CreditCode || self.field(f).ty == Ty::CreditCodes;
        let (what_zh, what_en) = if code {
            ("代码", "code")
        } else {
            ("身份证号", "ID")
        };
        self.reject(
            f,
            Msg::new(
                format!(
                    "{zh}是数字格式，Excel 只保留 15 位有效数字，后几位已丢失：{zh}列请设为文本格式，再重新填写{what_zh}"
                ),
                format!(
                    "{en} arrived as a number, and Excel keeps only 15 significant digits, so the last digits are lost: format the {what_en} column as text and enter the values again"
                ),
            ),
        )
    }

    pub fn credit_code(&self, f: usize) -> R<Option<CreditCode>> {
        self.identifier(f, CreditCode::parse)
    }

    /// Credit codes separated by `;` or `；`, each checked; repeats are dropped.
    pub fn credit_codes(&self, f: usize) -> R<Vec<CreditCode>> {
        if matches!(self.cell(f), Cell::Float(_)) {
            return Err(self.numeric_id(f));
        }
        let Some(t) = self.text(f)? else {
            return Ok(Vec::new());
        };
        let (zh, en) = self.names(f);
        let mut out: Vec<CreditCode> = Vec::new();
        for (i, part) in t.split([';', '；']).enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            match CreditCode::parse(&normalize_id(part)) {
                Ok(code) => {
                    if !out.contains(&code) {
                        out.push(code);
                    }
                }
                Err(e) => {
                    let inner = id_error(zh, &e);
                    let n = i + 1;
                    return Err(self.reject_with(
                        f,
                        shown(part),
                        Msg::new(
                            format!("第 {n} 个代码「{}」有误：{}（多个代码用 ; 分隔）", shown(part), inner.zh),
                            format!("code {n} ('{}') of {en} is wrong: {} (separate several codes with ;)", shown(part), inner.en),
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    pub fn region(&self, f: usize) -> R<Option<RegionCode>> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        let t = halfwidth(&t);
        let t = t.trim();
        match self.regions.resolve(t) {
            Some(code) => Ok(Some(code)),
            None => {
                let (zh, en) = self.names(f);
                let v = shown(t);
                Err(self.reject(
                    f,
                    Msg::new(
                        format!("{zh}「{v}」不是已知地区：请填已知地区的 6 位代码或名称，如 330100 或 杭州"),
                        format!("{en} '{v}' is not a known region: write the 6-digit code or the name of a known region, e.g. 330100 or 杭州"),
                    ),
                ))
            }
        }
    }

    pub fn code<T: Code>(&self, f: usize) -> R<Option<T>> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        match T::parse(&halfwidth(&t)) {
            Some(c) => Ok(Some(c)),
            None => {
                let (zh, en) = self.names(f);
                let v = shown(&t);
                let (allowed_zh, allowed_en) = (T::allowed_zh(), T::allowed_en());
                Err(self.reject(
                    f,
                    Msg::new(
                        format!("{zh}「{v}」不认识：可填 {allowed_zh}"),
                        format!("{en} '{v}' is not a known code: use one of {allowed_en}"),
                    ),
                ))
            }
        }
    }

    /// Money in yuan to fen, never through a float parse of text.
    pub fn money(&self, f: usize) -> R<Option<Fen>> {
        let (zh, en) = self.names(f);
        let result = match self.cell(f) {
            Cell::Empty => return Ok(None),
            Cell::Text(s) if s.trim().is_empty() => return Ok(None),
            Cell::Text(s) => money_text(s),
            Cell::Number(s) => {
                if s.contains(['e', 'E']) {
                    Err(MoneyProblem::Exponent)
                } else {
                    money_text(s)
                }
            }
            Cell::Int(i) => i
                .checked_mul(100)
                .map(Fen)
                .ok_or(MoneyProblem::Domain(MoneyError::OutOfRange(i.to_string()))),
            Cell::Float(x) => {
                if x.is_finite() {
                    // Exact to 1e-9 after rounding, then the string rules apply: a spreadsheet
                    // 0.1 + 0.2 is 0.30, but 12.345 has three decimals.
                    Fen::parse_yuan(&format!("{x:.9}")).map_err(MoneyProblem::Domain)
                } else {
                    Err(MoneyProblem::Domain(MoneyError::Malformed(x.to_string())))
                }
            }
            Cell::Date(_) | Cell::Bool(_) => {
                Err(MoneyProblem::Domain(MoneyError::Malformed(String::new())))
            }
            Cell::TooLong(n) => return Err(self.too_long(f, *n)),
            Cell::Unusable { zh, en } => return Err(self.unusable(f, zh, en)),
        };
        result.map(Some).map_err(|p| {
            let v = self.shown_value(f);
            let msg = match p {
                MoneyProblem::Domain(MoneyError::TooPrecise(_)) => Msg::new(
                    format!("{zh}「{v}」超过两位小数：金额以元为单位，最多精确到分（两位小数）"),
                    format!("{en} '{v}' has more than two decimals: amounts are in yuan, to the fen (at most two decimals)"),
                ),
                MoneyProblem::Domain(MoneyError::OutOfRange(_)) => Msg::new(
                    format!("{zh}「{v}」超出范围：金额须在 ±90 万亿元以内"),
                    format!("{en} '{v}' is out of range: amounts must lie within ±90 trillion yuan"),
                ),
                MoneyProblem::Separator => Msg::new(
                    format!("{zh}「{v}」的逗号位置不对：逗号只能用作千位分隔（如 3,500.00），小数点用 “.”"),
                    format!("{en} '{v}' has a misplaced comma: a comma may only separate thousands (as in 3,500.00); the decimal mark is '.'"),
                ),
                MoneyProblem::BarePoint => Msg::new(
                    format!("{zh}「{v}」的小数点前须有数字，如 0.5，小数点后也须有数字"),
                    format!("{en} '{v}' needs a digit on each side of the decimal point, e.g. 0.5"),
                ),
                MoneyProblem::Exponent => Msg::new(
                    format!("{zh}「{v}」用了科学计数法：请写成普通小数，如 3500 或 0.01"),
                    format!("{en} '{v}' uses an exponent: write a plain decimal such as 3500 or 0.01"),
                ),
                MoneyProblem::Domain(_) => Msg::new(
                    format!("{zh}「{v}」不是金额：请填以元为单位、最多两位小数的数字，如 3500 或 3,500.00"),
                    format!("{en} '{v}' is not an amount: write yuan with at most two decimals, e.g. 3500 or 3,500.00"),
                ),
            };
            self.reject(f, msg)
        })
    }

    pub fn date(&self, f: usize) -> R<Option<Date>> {
        let parsed = match self.cell(f) {
            Cell::Empty => return Ok(None),
            Cell::Text(s) if s.trim().is_empty() => return Ok(None),
            Cell::Date(d) => Some(*d),
            Cell::Text(s) | Cell::Number(s) => parse_date(s),
            Cell::Int(i) => parse_date(&i.to_string()),
            Cell::Float(x) => {
                if x.fract() == 0.0 && (19_000_101.0..=22_001_231.0).contains(x) {
                    parse_date(&float_text(*x))
                } else {
                    excel_serial_date(*x)
                }
            }
            Cell::Bool(_) => None,
            Cell::TooLong(n) => return Err(self.too_long(f, *n)),
            Cell::Unusable { zh, en } => return Err(self.unusable(f, zh, en)),
        };
        match parsed {
            Some(d) => Ok(Some(d)),
            None => {
                let (zh, en) = self.names(f);
                let v = self.shown_value(f);
                Err(self.reject(
                    f,
                    Msg::new(
                        format!("{zh}「{v}」不是日期：请写 YYYY-MM-DD，如 2025-03-01"),
                        format!("{en} '{v}' is not a date: write YYYY-MM-DD, e.g. 2025-03-01"),
                    ),
                ))
            }
        }
    }

    /// A date that must not lie after today.
    pub fn past_date(&self, f: usize) -> R<Option<Date>> {
        let d = self.date(f)?;
        if let Some(d) = d
            && d > self.today
        {
            let (zh, en) = self.names(f);
            let today = self.today;
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh} {d} 在未来（今天 {today}）：只能填今天或以前的日期"),
                    format!("{en} {d} is in the future (today {today}); only dates up to today are allowed"),
                ),
            ));
        }
        Ok(d)
    }

    pub fn month(&self, f: usize) -> R<Option<YearMonth>> {
        self.month_in(f, false)
    }

    /// A month that may lie ahead (an application for next school year).
    pub fn month_any(&self, f: usize) -> R<Option<YearMonth>> {
        self.month_in(f, true)
    }

    fn month_in(&self, f: usize, allow_future: bool) -> R<Option<YearMonth>> {
        let parsed = match self.cell(f) {
            Cell::Empty => return Ok(None),
            Cell::Text(s) if s.trim().is_empty() => return Ok(None),
            Cell::Date(d) => YearMonth::of_date(*d),
            Cell::Text(s) | Cell::Number(s) => parse_month(s),
            Cell::Int(i) => parse_month(&i.to_string()),
            Cell::Float(x) => {
                if x.fract() == 0.0 && (190_001.0..=220_012.0).contains(x) {
                    parse_month(&float_text(*x))
                } else {
                    excel_serial_date(*x).and_then(YearMonth::of_date)
                }
            }
            Cell::Bool(_) => None,
            Cell::TooLong(n) => return Err(self.too_long(f, *n)),
            Cell::Unusable { zh, en } => return Err(self.unusable(f, zh, en)),
        };
        let (zh, en) = self.names(f);
        let Some(m) = parsed else {
            let v = self.shown_value(f);
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}「{v}」不是月份：请写 YYYY-MM、YYYYMM 或 YYYY/MM，如 2025-03"),
                    format!(
                        "{en} '{v}' is not a month: write YYYY-MM, YYYYMM or YYYY/MM, e.g. 2025-03"
                    ),
                ),
            ));
        };
        let first = YearMonth::new(FIRST_MONTH.0, FIRST_MONTH.1);
        if let Some(first) = first
            && m < first
        {
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh} {m} 早于 {first}：只能导入 {first} 及以后的月份"),
                    format!(
                        "{en} {m} is before {first}; only months from {first} on can be imported"
                    ),
                ),
            ));
        }
        if let Some(now) = YearMonth::of_date(self.today)
            && m > now
            && !allow_future
        {
            let today = self.today;
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh} {m} 在未来（今天 {today}），只能导入已到的月份"),
                    format!("{en} {m} is in the future (today {today}); only months up to the current one can be imported"),
                ),
            ));
        }
        Ok(Some(m))
    }

    pub fn record_id(&self, f: usize) -> R<Option<String>> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        let (zh, en) = self.names(f);
        let n = t.chars().count();
        if n > 64 {
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}有 {n} 个字符，最多 64 个：请用 1–64 个字母、数字或 . _ : -"),
                    format!("{en} has {n} characters; at most 64 are allowed: use 1 to 64 of A-Z, a-z, 0-9 and . _ : -"),
                ),
            ));
        }
        let bad = t
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')));
        if let Some((i, c)) = bad {
            let pos = i.saturating_add(1);
            let shown_c = if c.is_whitespace() {
                "空格".to_string()
            } else {
                c.to_string()
            };
            let shown_c_en = if c.is_whitespace() {
                "a space".to_string()
            } else {
                format!("'{c}'")
            };
            return Err(self.reject(
                f,
                Msg::new(
                    format!("{zh}第 {pos} 个字符（{shown_c}）不允许：只能用字母、数字和 . _ : -"),
                    format!("character {pos} of {en} ({shown_c_en}) is not allowed: use only A-Z, a-z, 0-9 and . _ : -"),
                ),
            ));
        }
        Ok(Some(t))
    }
}

fn code_hint<T: Code>() -> Msg {
    Msg::new(
        format!("以下之一：{}", T::allowed_zh()),
        format!("one of {}", T::allowed_en()),
    )
}

enum MoneyProblem {
    Domain(MoneyError),
    Separator,
    Exponent,
    /// ".5" or "5.": a decimal point without a digit on one side.
    BarePoint,
}

/// Yuan as written: full-width digits, a leading ¥ or a trailing 元 are accepted, and
/// commas only as thousands separators (so "3,50" is refused, not read as 350); a decimal
/// point needs a digit on each side (".5" and "5." are refused).
fn money_text(s: &str) -> Result<Fen, MoneyProblem> {
    let t = halfwidth(s);
    let mut t = t.trim();
    t = t.strip_prefix(['¥', '￥']).unwrap_or(t).trim_start();
    t = t.strip_suffix('元').unwrap_or(t).trim_end();
    {
        let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
        if unsigned.starts_with('.') || unsigned.ends_with('.') {
            return Err(MoneyProblem::BarePoint);
        }
    }
    if t.contains(',') {
        let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
        let whole = unsigned.split('.').next().unwrap_or("");
        let groups: Vec<&str> = whole.split(',').collect();
        let first_ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len()));
        let rest_ok = groups.iter().skip(1).all(|g| g.len() == 3);
        if !first_ok || !rest_ok || unsigned.split('.').nth(1).is_some_and(|f| f.contains(',')) {
            return Err(MoneyProblem::Separator);
        }
    }
    Fen::parse_yuan(t).map_err(MoneyProblem::Domain)
}

/// IDs and codes as typed: full-width forms, inner spaces and Excel's text apostrophe removed.
fn normalize_id(s: &str) -> String {
    let t = halfwidth(s);
    let t = t.trim().trim_start_matches('\'');
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

/// "1.10105E+17": what Excel writes to CSV for a long number.
fn looks_scientific(s: &str) -> bool {
    let t = s.trim();
    let Some((mantissa, exp)) = t.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

fn id_error(zh_col: &str, e: &IdError) -> Msg {
    let zh = match e {
        IdError::IdLength(n) => {
            format!("{zh_col}应为 18 位（17 位数字加 1 位数字或 X），这里有 {n} 位")
        }
        IdError::IdCharacter(i) => {
            format!("{zh_col}第 {i} 位的字符不允许：前 17 位只能是数字，最后一位是数字或 X")
        }
        IdError::IdBirthDate => {
            format!("{zh_col}中的出生日期（第 7–14 位）不是真实日期，请核对号码")
        }
        IdError::IdCheck { expected } => format!(
            "{zh_col}校验位错误（GB 11643：按前 17 位，最后一位应为 {expected}），请核对号码"
        ),
        IdError::CodeLength(n) => format!(
            "{zh_col}应为 18 位（数字 0-9 和除 I、O、S、V、Z 以外的大写字母），这里有 {n} 位"
        ),
        IdError::CodeCharacter { position, .. } => format!(
            "{zh_col}第 {position} 位的字符不允许：只能用数字 0-9 和除 I、O、S、V、Z 以外的大写字母"
        ),
        IdError::CodeCheck { expected } => format!(
            "{zh_col}校验位错误（GB 32100：按前 17 位，最后一位应为 {expected}），请核对代码"
        ),
    };
    let en = match e {
        // The domain's text names the character itself; only its position is shown here.
        IdError::CodeCharacter { position, .. } => format!(
            "character {position} is not allowed in a unified social credit code: use 0-9 and A-Y without I, O, S, V, Z"
        ),
        other => other.to_string(),
    };
    Msg::new(zh, en)
}

/// YYYY-MM-DD (also with / or . or 年月日, an optional time after it, or YYYYMMDD).
fn parse_date(s: &str) -> Option<Date> {
    let t = halfwidth(s);
    let t = t.trim();
    let t = t.split(['T', ' ']).next().unwrap_or(t);
    let t = t.replace(['年', '月'], "-").replace('日', "");
    let (y, m, d) = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        (t.get(..4)?, t.get(4..6)?, t.get(6..)?)
    } else {
        let mut parts = t.split(['-', '/', '.']);
        let y = parts.next()?;
        let m = parts.next()?;
        let d = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    let digits = |p: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(y, 4, 4) || !digits(m, 1, 2) || !digits(d, 1, 2) {
        return None;
    }
    let date = Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
    (date.year() >= 1900).then_some(date)
}

/// YYYY-MM, YYYYMM, YYYY/MM (also YYYY年M月). A date such as 2024-01-15 is not a month:
/// which month a day stands for is the clerk's call, not the importer's.
fn parse_month(s: &str) -> Option<YearMonth> {
    let t = halfwidth(s);
    let t = t.trim().replace('年', "-").replace('月', "");
    let t = t.trim();
    if t.matches(['-', '/', '.']).count() > 1 {
        return None;
    }
    YearMonth::parse(t).ok()
}

// ---------------------------------------------------------------------------------------
// The checks of each kind.

pub(crate) fn person(c: &Ctx) -> R<PersonRow> {
    use columns::person::*;
    let person_id = c.need(ID, c.resident_id(ID)?)?;
    let name = c.need(NAME, c.person_name(NAME)?)?;
    let hukou_region = c.region(HUKOU)?;
    let residence_region = c.need(RESIDENCE, c.region(RESIDENCE)?)?;
    let employment_form = c.need(FORM, c.code::<EmploymentForm>(FORM)?)?;
    let platforms = c.credit_codes(PLATFORMS)?;
    let permit_region = c.region(PERMIT_REGION)?;
    let permit_since = c.past_date(PERMIT_SINCE)?;
    let permit = match (permit_region, permit_since) {
        (Some(region), Some(since)) => Some(Permit { region, since }),
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            let blank = if permit_region.is_none() {
                PERMIT_REGION
            } else {
                PERMIT_SINCE
            };
            return Err(c.reject(
                blank,
                Msg::new(
                    "居住证地和居住证起始须同时填写或同时留空",
                    "permit_region and permit_since go together: fill in both or leave both empty",
                ),
            ));
        }
    };
    let household = c.plain(HOUSEHOLD, 64)?;
    let record_id = c.record_id(RECORD)?;
    Ok(PersonRow {
        row: c.row,
        person_id,
        name,
        hukou_region,
        residence_region,
        employment_form,
        platforms,
        permit,
        household,
        record_id,
    })
}

pub(crate) fn org(c: &Ctx) -> R<OrgRow> {
    use columns::org::*;
    let credit_code = c.need(CODE, c.credit_code(CODE)?)?;
    let name = c.need(NAME, c.plain(NAME, 200)?)?;
    let kind = c.need(KIND, c.code::<OrgKind>(KIND)?)?;
    let region = c.need(REGION, c.region(REGION)?)?;
    let record_id = c.record_id(RECORD)?;
    Ok(OrgRow {
        row: c.row,
        credit_code,
        name,
        kind,
        region,
        record_id,
    })
}

pub(crate) fn child(c: &Ctx) -> R<ChildRow> {
    use columns::child::*;
    let child_id = c.need(ID, c.resident_id(ID)?)?;
    if let Some(born) = child_id.birth_date()
        && born > c.today
    {
        let today = c.today;
        return Err(c.reject(
            ID,
            Msg::new(
                format!("按子女身份证号，出生日期 {born} 在今天 {today} 之后：只能登记已出生的子女，请核对号码"),
                format!("the child's ID gives a birth date of {born}, after today {today}: only children already born can be registered; check the number"),
            ),
        ));
    }
    let name = c.need(NAME, c.person_name(NAME)?)?;
    let guardian_id = c.need(GUARDIAN, c.resident_id(GUARDIAN)?)?;
    if guardian_id == child_id {
        return Err(c.reject(
            GUARDIAN,
            Msg::new(
                "监护人身份证号与子女身份证号相同：监护人须是另一人，请填监护人本人的号码",
                "guardian_id is the same as child_id: the guardian must be another person; write the guardian's own ID",
            ),
        ));
    }
    let relation = c.need(RELATION, c.code::<Relation>(RELATION)?)?;
    let school_region = c.region(SCHOOL)?;
    let record_id = c.record_id(RECORD)?;
    Ok(ChildRow {
        row: c.row,
        child_id,
        name,
        guardian_id,
        relation,
        school_region,
        record_id,
    })
}

pub(crate) fn application(c: &Ctx) -> R<ApplicationRow> {
    use columns::application::*;
    let application_id = c.need(ID, c.record_id(ID)?)?;
    let child_id = c.need(CHILD, c.resident_id(CHILD)?)?;
    if let Some(born) = child_id.birth_date()
        && born > c.today
    {
        return Err(c.reject(
            CHILD,
            Msg::new(
                format!("按子女身份证号，出生日期 {born} 在今天之后：请核对号码"),
                format!(
                    "the child's ID gives a birth date of {born}, after today: check the number"
                ),
            ),
        ));
    }
    let guardian_id = c.need(GUARDIAN, c.resident_id(GUARDIAN)?)?;
    if guardian_id == child_id {
        return Err(c.reject(
            GUARDIAN,
            Msg::new(
                "监护人身份证号与子女身份证号相同：请填监护人本人的号码",
                "guardian_id is the same as child_id: write the guardian's own ID",
            ),
        ));
    }
    let city = c.need(CITY, c.region(CITY)?)?;
    let month = c.need(MONTH, c.month_any(MONTH)?)?;
    let hardship = c.code::<YesNo>(HARDSHIP)?.is_some_and(|v| v == YesNo::Yes);
    let mut proofs: Vec<ProofKind> = Vec::new();
    if let Some(text) = c.text(PROOFS)? {
        let text = halfwidth(&text);
        for part in text
            .split([';', '、'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match ProofKind::parse(part) {
                Some(k) if !proofs.contains(&k) => proofs.push(k),
                Some(_) => {}
                None => {
                    let (zh, en) = c.names(PROOFS);
                    let v = shown(part);
                    return Err(c.reject(
                        PROOFS,
                        Msg::new(
                            format!(
                                "{zh}「{v}」不认识：可填 {}，多项用分号 ; 隔开",
                                ProofKind::allowed_zh()
                            ),
                            format!(
                                "{en} '{v}' is not a known proof: use {}, several separated by ;",
                                ProofKind::allowed_en()
                            ),
                        ),
                    ));
                }
            }
        }
    }
    Ok(ApplicationRow {
        row: c.row,
        application_id,
        child_id,
        guardian_id,
        city,
        month,
        hardship,
        proofs,
    })
}

pub(crate) fn contribution(c: &Ctx) -> R<ContributionRow> {
    use columns::contribution::*;
    let record_id = c.need(RECORD, c.record_id(RECORD)?)?;
    let person_id = c.need(PERSON, c.resident_id(PERSON)?)?;
    let month = c.need(MONTH, c.month(MONTH)?)?;
    if let Some(born) = person_id.birth_month()
        && month < born
    {
        return Err(c.reject(
            MONTH,
            Msg::new(
                format!("所属期 {month} 早于本人出生月份 {born}（按身份证号）：请核对所属期或身份证号"),
                format!("month {month} is before the person's birth month {born} (from the ID): check the month or the ID"),
            ),
        ));
    }
    let insurance = c.need(INSURANCE, c.code::<Insurance>(INSURANCE)?)?;
    let region = c.need(REGION, c.region(REGION)?)?;
    let payer = c.need(PAYER, c.code::<Payer>(PAYER)?)?;
    let payer_code = c.credit_code(PAYER_CODE)?;
    match (payer, &payer_code) {
        (Payer::Platform | Payer::Employer, None) => {
            let who = payer.zh();
            let code = payer.as_str();
            return Err(c.reject_with(
                PAYER_CODE,
                String::new(),
                Msg::new(
                    format!("缴费方为{who}（{code}）时，缴费单位代码必填：请填该{who}的 18 位统一社会信用代码"),
                    format!("payer_code is required when the payer is {code}: write the 18-character unified social credit code of that {code}"),
                ),
            ));
        }
        (Payer::Individual, Some(_)) => {
            return Err(c.reject(
                PAYER_CODE,
                Msg::new(
                    "缴费方为个人（self）时，缴费单位代码须留空；由平台或单位缴费时请把缴费方填为 platform 或 employer",
                    "payer_code must be empty when the payer is self; if a platform or employer paid, set payer to platform or employer",
                ),
            ));
        }
        _ => {}
    }
    let base = c.need(BASE, c.money(BASE)?)?;
    if base < Fen::ZERO {
        return Err(c.reject(
            BASE,
            Msg::new(
                format!("缴费基数 {base} 是负数：缴费基数须大于或等于 0"),
                format!("base {base} is negative: the contribution base must be 0 or more"),
            ),
        ));
    }
    let amount = c.need(AMOUNT, c.money(AMOUNT)?)?;
    let status = c.code::<Status>(STATUS)?.unwrap_or(Status::Paid);
    let may_be_zero = matches!(status, Status::Unpaid | Status::Excused);
    if base == Fen::ZERO && !may_be_zero {
        let (zh, code) = (status.zh(), status.as_str());
        return Err(c.reject(
            BASE,
            Msg::new(
                format!("缴费基数 {base} 须大于 0：状态为{zh}（{code}）的缴费须有基数（只有未缴 unpaid 或免缴 excused 时可以为 0）"),
                format!("base {base} must be more than 0 for a contribution with status {code} (it may be 0 only when status is unpaid or excused)"),
            ),
        ));
    }
    if amount < Fen::ZERO || (amount == Fen::ZERO && !may_be_zero) {
        return Err(c.reject(
            AMOUNT,
            Msg::new(
                format!("缴费金额 {amount} 须大于 0（只有状态为未缴 unpaid 或免缴 excused 时可以为 0）"),
                format!("amount {amount} must be more than 0 (it may be 0 only when status is unpaid or excused)"),
            ),
        ));
    }
    let account = c.money(ACCOUNT)?;
    if let Some(acc) = account
        && (acc < Fen::ZERO || acc > amount)
    {
        return Err(c.reject(
            ACCOUNT,
            Msg::new(
                format!("划入个人账户 {acc} 须在 0 到缴费金额 {amount} 之间"),
                format!("account {acc} must lie between 0 and the amount {amount}"),
            ),
        ));
    }
    let reason = c.code::<GapReason>(REASON)?;
    match (status, reason) {
        (Status::Excused, None) => {
            return Err(c.reject_with(
                REASON,
                String::new(),
                Msg::new(
                    format!(
                        "状态为免缴（excused）时须填原因：可填 {}",
                        GapReason::allowed_zh()
                    ),
                    format!(
                        "reason is required when status is excused: use one of {}",
                        GapReason::allowed_en()
                    ),
                ),
            ));
        }
        (s, Some(_)) if s != Status::Excused => {
            let (zh, code) = (s.zh(), s.as_str());
            return Err(c.reject(
                REASON,
                Msg::new(
                    format!("只有状态为免缴（excused）时才填原因；本行状态是{zh}（{code}），请清空原因"),
                    format!("reason is only for status excused; this row's status is {code}, so leave reason empty"),
                ),
            ));
        }
        _ => {}
    }
    let paid_on = c.past_date(PAID_ON)?;
    Ok(ContributionRow {
        row: c.row,
        record_id,
        person_id,
        month,
        insurance,
        region,
        payer,
        payer_code,
        base,
        amount,
        account,
        status,
        reason,
        paid_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_texts() {
        let ok = |s: &str| money_text(s).ok().map(|f| f.0);
        assert_eq!(ok("3,500.00"), Some(350_000));
        assert_eq!(ok("１２，３４５．６"), Some(1_234_560));
        assert_eq!(ok("¥ 12"), Some(1200));
        assert_eq!(ok("12元"), Some(1200));
        assert_eq!(ok("1,234,567"), Some(123_456_700));
        assert_eq!(ok("3,50"), None);
        assert_eq!(ok("35,00.00"), None);
        assert_eq!(ok("1.234"), None);
        assert_eq!(ok("0.1"), Some(10));
        assert_eq!(ok(".5"), None);
        assert_eq!(ok("-.5"), None);
        assert_eq!(ok("5."), None);
        assert_eq!(ok("５．"), None);
    }

    #[test]
    fn dates_and_months() {
        assert_eq!(parse_date("2025-03-01"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("2025/3/1 00:00:00"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("20250301"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("2025年3月1日"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("25-02-03"), None);
        assert_eq!(parse_month("2025-03"), YearMonth::new(2025, 3));
        assert_eq!(parse_month("202503"), YearMonth::new(2025, 3));
        assert_eq!(parse_month("2025/03"), YearMonth::new(2025, 3));
        assert_eq!(parse_month("2025年3月"), YearMonth::new(2025, 3));
        assert_eq!(parse_month("2025-13"), None);
        assert_eq!(parse_month("2024-01-15"), None);
        assert_eq!(parse_month("2024/1/15"), None);
        assert_eq!(parse_month("2024年1月15日"), None);
        assert!(looks_scientific("1.10105E+17"));
        assert!(!looks_scientific("11010519491231002X"));
    }
}
