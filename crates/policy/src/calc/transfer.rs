//! W2 — the rules of a transfer between regions, below any network protocol: what moves when
//! a worker's urban-employee pension moves from one province to another (国办发〔2009〕66号),
//! whether a temporary account opens instead, which months were paid twice and what is
//! refunded ("先转后清"), the deadline of each step in working days by the official calendar
//! (pension: 66号 第八条; medical: 医保办发〔2021〕43号), and where the pension will be claimed
//! (待遇领取地, 66号 第六条) from the whole history.
//!
//! resolve → compute → explain, like the other calculators: [`TransferParams::resolve`] reads
//! every parameter once, [`compute`] is pure arithmetic over a checked request, [`explain`]
//! builds the result and its trace. The transfer protocol between instances (a later slice of
//! issue 14) calls [`transfer`] at the origin to size the package and at the destination to
//! check it, so both ends compute the same figures from the same history.

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::{Bps, ErrorKind, Fen, RegionCode, Rounding, Sex, YearMonth};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::load::{Policy, Region};
use crate::schema::param;
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;

/// A run of months paid in one region at one base.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Region code, name or alias.
    pub region: String,
    /// First month paid (YYYY-MM).
    pub from: YearMonth,
    /// Last month paid, included.
    pub to: YearMonth,
    /// Actual contribution base of each month (缴费工资), in fen.
    #[serde(default)]
    pub base_fen: Option<Fen>,
    /// Or the sum of the bases of the run (e.g. a year's 缴费工资总额); the run must then lie
    /// in one calendar year.
    #[serde(default)]
    pub total_base_fen: Option<Fen>,
}

/// A worker's request to move their pension and medical insurance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Where the relationship is now (转出地).
    pub from: String,
    /// Where the worker now pays (转入地).
    pub to: String,
    /// The hukou region (户籍所在地).
    pub hukou: String,
    pub sex: Sex,
    /// Birth date, YYYY-MM-DD.
    pub birth: String,
    /// The day the request is made, YYYY-MM-DD; deadlines count from it.
    pub date: String,
    /// Every month paid, in every region.
    pub history: Vec<Period>,
    /// The personal-account balance (储存额, with interest) the origin records; it moves in
    /// full. Without it the result gives the pooling part only.
    #[serde(default)]
    pub personal_account_fen: Option<Fen>,
    /// The employee medical-insurance personal-account balance; it moves in full.
    #[serde(default)]
    pub medical_account_fen: Option<Fen>,
    /// The move was approved by a county-level (or higher) organisation department or
    /// human-resources bureau (66号 第五条（三）): no temporary account, whatever the age.
    #[serde(default)]
    pub approved_transfer: bool,
    /// Months without employee medical cover between leaving the origin and joining the
    /// destination (0: none); decides continuity and the waiting period.
    #[serde(default)]
    pub medical_gap_months: Option<u32>,
    #[serde(default)]
    pub reforms: Vec<String>,
}

/// A region as the result names it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Place {
    pub code: RegionCode,
    pub zh: String,
    pub en: String,
}

impl Place {
    fn of(r: &Region) -> Place {
        Place {
            code: r.code,
            zh: r.name_zh.clone(),
            en: r.name_en.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The relationship and the money move to the destination.
    Transfer,
    /// The relationship stays at the origin; the destination opens a temporary account.
    TemporaryAccount,
}

/// One calendar year of the months that move.
#[derive(Clone, Debug, Serialize)]
pub struct YearRow {
    pub year: i16,
    pub months: u32,
    /// Sum of the actual contribution bases of those months.
    pub base_fen: Fen,
    /// 12 % of it from 1998, nothing before.
    pub pooling_fen: Fen,
}

/// One step of a procedure with its time limit.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub who: Note,
    pub what: Note,
    pub working_days: i64,
    /// The day the clock starts (the latest, if every earlier step takes its full time).
    pub starts: String,
    /// The last day allowed.
    pub deadline: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PensionPart {
    pub mode: Mode,
    /// What moves now: nothing in the temporary-account mode.
    pub moves: bool,
    pub personal_account_fen: Option<Fen>,
    pub pooling_fen: Fen,
    pub total_fen: Option<Fen>,
    /// Months paid at the origin (all of them move; duplicates are cleared after).
    pub months: u32,
    /// Of those, months before the pooling year (no pooling fund moves for them).
    pub months_before_pooling: u32,
    pub years: Vec<YearRow>,
    pub steps: Vec<Step>,
    /// The last day of the last step.
    pub deadline: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MedicalPart {
    pub account_fen: Option<Fen>,
    pub gap_months: Option<u32>,
    /// Whether the cover counts as continuous (the gap no longer than the parameter, paid
    /// back by the destination's rules); none where no gap was given.
    pub continuous: Option<bool>,
    /// After a longer gap: the longest waiting period the destination may set.
    pub max_waiting_months: Option<i64>,
    pub steps: Vec<Step>,
    pub deadline: String,
}

/// Months paid in two places at once, the relationship kept and the one cleared.
#[derive(Clone, Debug, Serialize)]
pub struct Duplicate {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
    pub kept: Place,
    pub cleared: Place,
    /// The personal part of the cleared months, refunded to the worker (without interest);
    /// none where no account rate is recorded for the year.
    pub refund_fen: Option<Fen>,
}

/// Months paid per place (at the level of `transfer.pension.place_level`), duplicates once.
#[derive(Clone, Debug, Serialize)]
pub struct PlaceMonths {
    pub place: Place,
    pub months: u32,
    pub last: YearMonth,
}

#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    pub place: Place,
    /// Which of the four rules of 66号 第六条 decided it (1–4).
    pub rule: u8,
    pub why: Note,
}

#[derive(Clone, Debug, Serialize)]
pub struct TransferResult {
    pub from: Place,
    pub to: Place,
    pub hukou: Place,
    pub date: String,
    pub age: i16,
    pub sex: Sex,
    pub pension: PensionPart,
    pub medical: MedicalPart,
    pub duplicates: Vec<Duplicate>,
    pub refund_fen: Option<Fen>,
    pub places: Vec<PlaceMonths>,
    /// Months paid anywhere, each month once (缴费年限合并计算).
    pub total_months: u32,
    pub claim: Claim,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// Most periods one history may hold, and the longest a working life can be.
pub const MAX_PERIODS: usize = 1_000;
const MAX_MONTHS: i32 = 12 * 80;
/// Largest monthly base accepted (1,000,000 yuan): far above any ceiling.
const MAX_BASE_FEN: i64 = 100_000_000;

/// Everything the calculator needs, resolved once.
#[derive(Clone, Debug)]
pub struct TransferParams<'p> {
    pub calendar: &'p Calendar,
    pub pooling_rate: (Bps, ParamRef),
    pub pooling_from_year: (i64, ParamRef),
    /// The account rate of each year of the history (none before it is recorded).
    pub account_rate: BTreeMap<i16, (Bps, ParamRef)>,
    pub temp_age_male: (i64, ParamRef),
    pub temp_age_female: (i64, ParamRef),
    pub claim_min_years: (i64, ParamRef),
    pub place_level: (String, ParamRef),
    pub pension_days: [(i64, ParamRef); 3],
    pub medical_days: [(i64, ParamRef); 2],
    /// Continuity gap and waiting-period ceiling, at the destination.
    pub medical_gap: (i64, ParamRef),
    pub medical_waiting: (i64, ParamRef),
    pub rounding: (Rounding, ParamRef),
}

impl<'p> TransferParams<'p> {
    /// Reads the parameters at the origin on the request's date (the medical continuity rule at
    /// the destination); the account rate for each of `years`.
    pub fn resolve(
        scope: &Scope<'p>,
        dest: &Scope<'p>,
        years: impl IntoIterator<Item = i16>,
    ) -> Result<Self> {
        let mut account_rate = BTreeMap::new();
        for y in years {
            let Ok(d) = jiff::civil::Date::new(y, 1, 1) else {
                continue;
            };
            if let Ok(r) = scope.at(d).rate(param::TRANSFER_PENSION_ACCOUNT_RATE) {
                account_rate.insert(y, r);
            }
        }
        Ok(TransferParams {
            calendar: &scope.policy.calendar,
            pooling_rate: scope.rate(param::TRANSFER_PENSION_POOLING_RATE)?,
            pooling_from_year: scope.int(param::TRANSFER_PENSION_POOLING_FROM_YEAR)?,
            account_rate,
            temp_age_male: scope.int(param::TRANSFER_PENSION_TEMP_ACCOUNT_AGE_MALE)?,
            temp_age_female: scope.int(param::TRANSFER_PENSION_TEMP_ACCOUNT_AGE_FEMALE)?,
            claim_min_years: scope.int(param::TRANSFER_PENSION_CLAIM_MIN_YEARS)?,
            place_level: scope.word(param::TRANSFER_PENSION_PLACE_LEVEL)?,
            pension_days: [
                scope.int(param::TRANSFER_PENSION_DAYS_ACCEPT)?,
                scope.int(param::TRANSFER_PENSION_DAYS_SEND)?,
                scope.int(param::TRANSFER_PENSION_DAYS_CLOSE)?,
            ],
            medical_days: [
                scope.int(param::TRANSFER_MEDICAL_DAYS_OUT)?,
                scope.int(param::TRANSFER_MEDICAL_DAYS_IN)?,
            ],
            medical_gap: dest.int(param::TRANSFER_MEDICAL_CONTINUITY_GAP_MONTHS)?,
            medical_waiting: dest.int(param::TRANSFER_MEDICAL_MAX_WAITING_MONTHS)?,
            rounding: scope.rounding(param::ROUNDING_TRANSFER)?,
        })
    }

    /// The place a region counts as when years are counted per place.
    fn place_code(&self, code: RegionCode) -> RegionCode {
        if self.place_level.0 == "city" && !code.is_province() && !code.is_national() {
            RegionCode::parse(&format!("{:06}", code.code() / 100 * 100)).unwrap_or(code)
        } else {
            code.province()
        }
    }
}

/// A period with its region resolved.
#[derive(Clone, Debug)]
pub struct Run {
    pub region: Place,
    pub place: Place,
    pub from: YearMonth,
    pub to: YearMonth,
    /// Base of the whole run as a fraction: (numerator, months) — `base_fen × months` over
    /// `months` for a monthly base, the total over its months otherwise.
    pub base_total: i128,
    pub months: i32,
}

impl Run {
    /// The base of `n` of the run's months (exact, as a fraction over `months`).
    fn base_of(&self, n: i32) -> (i128, i128) {
        (self.base_total * n as i128, self.months as i128)
    }
}

/// A request with its dates parsed and regions resolved.
#[derive(Clone, Debug)]
pub struct Checked {
    pub from: Place,
    pub to: Place,
    pub hukou: Place,
    pub date: Date,
    pub birth: Date,
    pub sex: Sex,
    pub runs: Vec<Run>,
    pub personal_account_fen: Option<Fen>,
    pub medical_account_fen: Option<Fen>,
    pub approved_transfer: bool,
    pub medical_gap_months: Option<u32>,
}

fn parse_day(what: (&str, &str), s: &str) -> Result<Date> {
    s.trim().parse::<Date>().map_err(|_| {
        let given: String = s.chars().take(20).collect();
        Error::bad_input(
            format!(
                "{}“{given}”不是日期：请写成 YYYY-MM-DD，例如 2026-03-02",
                what.0
            ),
            format!(
                "{} '{given}' is not a date: write YYYY-MM-DD, e.g. 2026-03-02",
                what.1
            ),
        )
    })
}

fn money_ok(what: (&str, &str), f: Option<Fen>, max: i64) -> Result<()> {
    match f {
        Some(Fen(v)) if !(0..=max).contains(&v) => Err(Error::bad_input(
            format!("{}要在 0 到 {} 元之间", what.0, Fen(max)),
            format!("{} must be 0 to {} yuan", what.1, Fen(max)),
        )),
        _ => Ok(()),
    }
}

/// Parses the dates, resolves every region (an unknown one is refused, naming the known
/// ones) and checks the history: each run in order, in the past, with exactly one kind of
/// base; the same month twice in the same region is refused (two regions: a duplicate).
pub fn check(policy: &Policy, req: &TransferRequest) -> Result<Checked> {
    let date = parse_day(("申请日期", "the request date"), &req.date)?;
    let birth = parse_day(("出生日期", "the birth date"), &req.birth)?;
    if birth >= date || date.year() - birth.year() > 120 {
        return Err(Error::bad_input(
            format!("出生日期 {birth} 要早于申请日期 {date}，且不超过 120 年"),
            format!(
                "the birth date {birth} must be before the request date {date}, and less than 120 years before it"
            ),
        ));
    }
    let from = Place::of(policy.region(&req.from)?);
    let to = Place::of(policy.region(&req.to)?);
    let hukou = Place::of(policy.region(&req.hukou)?);
    for p in [&from, &to, &hukou] {
        if p.code.is_national() {
            return Err(Error::bad_input(
                format!("转出地、转入地和户籍地要写具体的省或市，不能写“{}”", p.zh),
                format!(
                    "origin, destination and hukou must be a province or city, not '{}'",
                    p.en
                ),
            ));
        }
    }
    money_ok(
        ("个人账户储存额", "the personal-account balance"),
        req.personal_account_fen,
        MAX_BASE_FEN * 100,
    )?;
    money_ok(
        ("医保个人账户余额", "the medical account balance"),
        req.medical_account_fen,
        MAX_BASE_FEN * 100,
    )?;
    if req
        .medical_gap_months
        .is_some_and(|g| g > MAX_MONTHS as u32)
    {
        return Err(Error::bad_input(
            format!("医保中断月数（medical_gap_months）要在 0 到 {MAX_MONTHS} 之间"),
            format!("the medical gap (medical_gap_months) must be 0 to {MAX_MONTHS} months"),
        ));
    }
    if req.history.is_empty() || req.history.len() > MAX_PERIODS {
        return Err(Error::bad_input(
            format!("缴费记录（history）要有 1 到 {MAX_PERIODS} 段"),
            format!("the history must hold 1 to {MAX_PERIODS} periods"),
        ));
    }
    let today = YearMonth::of_date(date).ok_or_else(|| {
        Error::bad_input(
            format!("申请日期 {date} 超出可计算的范围"),
            format!("the request date {date} is out of range"),
        )
    })?;
    let mut runs = Vec::with_capacity(req.history.len());
    for (i, p) in req.history.iter().enumerate() {
        let n = i + 1;
        let region = Place::of(policy.region(&p.region)?);
        if region.code.is_national() {
            return Err(Error::bad_input(
                format!("第 {n} 段缴费记录的地区要写具体的省或市"),
                format!("period {n}: the region must be a province or city"),
            ));
        }
        let months = p.from.months_until(p.to) + 1;
        if !(1..=MAX_MONTHS).contains(&months) || p.to > today || p.from.year() < 1950 {
            return Err(Error::bad_input(
                format!(
                    "第 {n} 段缴费记录 {}–{} 不对：开始月不能晚于结束月，不能早于 1950 年，结束月不能晚于申请月 {today}，最长 {MAX_MONTHS} 个月",
                    p.from, p.to
                ),
                format!(
                    "period {n} ({} to {}) is wrong: the first month may not be after the last, nor before 1950, the last not after the request month {today}, at most {MAX_MONTHS} months",
                    p.from, p.to
                ),
            ));
        }
        let base_total: i128 = match (p.base_fen, p.total_base_fen) {
            (Some(b), None) => {
                money_ok(("缴费基数", "the base"), Some(b), MAX_BASE_FEN)?;
                b.0 as i128 * months as i128
            }
            (None, Some(t)) => {
                money_ok(
                    ("缴费基数合计", "the total base"),
                    Some(t),
                    MAX_BASE_FEN * 12,
                )?;
                if p.from.year() != p.to.year() {
                    return Err(Error::bad_input(
                        format!(
                            "第 {n} 段缴费记录给了基数合计（total_base_fen），就要在同一年内；{}–{} 跨了年，请按年分开或给每月基数（base_fen）",
                            p.from, p.to
                        ),
                        format!(
                            "period {n} gives a total base (total_base_fen), so it must lie in one year; {} to {} does not: split it by year or give the monthly base (base_fen)",
                            p.from, p.to
                        ),
                    ));
                }
                t.0 as i128
            }
            _ => {
                return Err(Error::bad_input(
                    format!(
                        "第 {n} 段缴费记录要给每月缴费基数（base_fen）或基数合计（total_base_fen），只给其中一个"
                    ),
                    format!(
                        "period {n} needs the monthly base (base_fen) or the total base (total_base_fen), exactly one of them"
                    ),
                ));
            }
        };
        runs.push(Run {
            region: region.clone(),
            place: region,
            from: p.from,
            to: p.to,
            base_total,
            months,
        });
    }
    // The same month twice in the same region is an error in the record, not a duplicate.
    let mut seen: BTreeMap<(RegionCode, YearMonth), usize> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        for k in 0..r.months {
            let m = r.from.plus(k);
            if let Some(j) = seen.insert((r.region.code, m), i) {
                return Err(Error::bad_input(
                    format!(
                        "第 {} 段和第 {} 段缴费记录都有 {}（{}）的 {m}：同一地区同一个月只能记一次",
                        j + 1,
                        i + 1,
                        r.region.zh,
                        r.region.code
                    ),
                    format!(
                        "periods {} and {} both hold {m} in {} ({}): a month is recorded once per region",
                        j + 1,
                        i + 1,
                        r.region.en,
                        r.region.code
                    ),
                ));
            }
        }
    }
    Ok(Checked {
        from,
        to,
        hukou,
        date,
        birth,
        sex: req.sex,
        runs,
        personal_account_fen: req.personal_account_fen,
        medical_account_fen: req.medical_account_fen,
        approved_transfer: req.approved_transfer,
        medical_gap_months: req.medical_gap_months,
    })
}

/// Which run keeps a month paid in several places: the destination's (the relationship
/// being set up), else the origin's, else the higher base, else the first listed.
fn keeper(c: &Checked, p: &TransferParams, runs: &[usize]) -> usize {
    let dest = p.place_code(c.to.code);
    let orig = p.place_code(c.from.code);
    let score = |i: &usize| {
        let r = &c.runs[*i];
        let pc = p.place_code(r.region.code);
        let (n, d) = r.base_of(1);
        (pc == dest, pc == orig, n / d.max(1), std::cmp::Reverse(*i))
    };
    runs.iter().copied().max_by_key(score).unwrap_or(0)
}

/// Full years of age on `date`.
fn age_on(birth: Date, date: Date) -> i16 {
    let mut a = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// The figures, with no explanation.
#[derive(Clone, Debug)]
pub struct Figures {
    pub age: i16,
    pub mode: Mode,
    pub temp_threshold: i64,
    pub years: Vec<YearRow>,
    pub months_origin: u32,
    pub months_before_pooling: u32,
    pub pooling: Fen,
    pub duplicates: Vec<(Duplicate, Option<ParamRef>)>,
    pub places: Vec<PlaceMonths>,
    pub total_months: u32,
    pub claim: (Place, u8),
    /// Where the relationship is after this request (the place the claim rules start from).
    pub relationship: Place,
    pub pension_steps: Vec<(i64, Date, Date)>,
    pub medical_steps: Vec<(i64, Date, Date)>,
}

fn place_named(policy_places: &BTreeMap<RegionCode, Place>, code: RegionCode) -> Place {
    policy_places.get(&code).cloned().unwrap_or(Place {
        code,
        zh: code.to_string(),
        en: code.to_string(),
    })
}

/// What moves, what is refunded, where the pension is claimed and every deadline.
pub fn compute(
    p: &TransferParams,
    c: &Checked,
    names: &BTreeMap<RegionCode, Place>,
) -> Result<Figures> {
    let orig = p.place_code(c.from.code);
    let dest = p.place_code(c.to.code);
    let home = p.place_code(c.hukou.code);
    if orig == dest {
        let o = place_named(names, orig);
        return Err(Error::new(
            ErrorKind::NotApplicable,
            format!(
                "转出地和转入地都在{}（{}）：国办发〔2009〕66号管的是跨省转移，同一参保地内的转移按当地规定办理",
                o.zh, o.code
            ),
            format!(
                "origin and destination are both in {} ({}): 国办发〔2009〕66号 governs moves between provinces; a move inside one place follows its own rules",
                o.en, o.code
            ),
        ));
    }
    // Every month, with the runs that paid it.
    let mut by_month: BTreeMap<YearMonth, Vec<usize>> = BTreeMap::new();
    for (i, r) in c.runs.iter().enumerate() {
        for k in 0..r.months {
            by_month.entry(r.from.plus(k)).or_default().push(i);
        }
    }
    // What the origin holds moves in full (先转后清: transfer first, clear after).
    let pool_year = p.pooling_from_year.0;
    let mut years: BTreeMap<i16, (u32, i128, i128)> = BTreeMap::new();
    let mut months_origin = 0u32;
    let mut months_before = 0u32;
    for r in &c.runs {
        if p.place_code(r.region.code) != orig {
            continue;
        }
        for k in 0..r.months {
            let m = r.from.plus(k);
            let e = years.entry(m.year() as i16).or_insert((0, 0, 1));
            e.0 += 1;
            // Bases of a run share its denominator (months); sum as fractions over it.
            let (n, d) = r.base_of(1);
            e.1 = e.1 * d + n * e.2;
            e.2 *= d;
            let g = gcd(e.1, e.2);
            e.1 /= g;
            e.2 /= g;
            months_origin += 1;
            if (m.year() as i64) < pool_year {
                months_before += 1;
            }
        }
    }
    if months_origin == 0 {
        let o = place_named(names, orig);
        return Err(Error::new(
            ErrorKind::NotApplicable,
            format!(
                "缴费记录里没有在转出地{}（{}）缴费的月份，没有可以转移的养老保险关系",
                o.zh, o.code
            ),
            format!(
                "the history holds no month paid at the origin {} ({}): there is no pension relationship to move",
                o.en, o.code
            ),
        ));
    }
    let rate = p.pooling_rate.0.0 as i128;
    let mut rows = Vec::new();
    let mut pooling = Fen::ZERO;
    for (y, (months, n, d)) in &years {
        let base = p.rounding.0.apply(*n, *d);
        let pool = if (*y as i64) >= pool_year {
            p.rounding.0.apply(n * rate, d * 10_000)
        } else {
            Fen::ZERO
        };
        pooling += pool;
        rows.push(YearRow {
            year: *y,
            months: *months,
            base_fen: base,
            pooling_fen: pool,
        });
    }
    // Duplicates: the kept run of each month paid in several places; the rest cleared.
    let mut kept_of: BTreeMap<YearMonth, usize> = BTreeMap::new();
    // (cleared run, year) → (first, last, months, kept run)
    let mut cleared: BTreeMap<(usize, i16, usize), (YearMonth, YearMonth, u32)> = BTreeMap::new();
    for (m, rs) in &by_month {
        let k = if rs.len() > 1 {
            keeper(c, p, rs)
        } else {
            rs[0]
        };
        kept_of.insert(*m, k);
        for &i in rs.iter().filter(|i| **i != k) {
            let e = cleared
                .entry((i, m.year() as i16, k))
                .or_insert((*m, *m, 0));
            e.1 = *m;
            e.2 += 1;
        }
    }
    let mut duplicates = Vec::new();
    for ((i, y, k), (first, last, n)) in cleared {
        let r = &c.runs[i];
        let (num, den) = r.base_of(n as i32);
        let (refund, pref) = match p.account_rate.get(&y) {
            Some((b, pr)) => (
                Some(p.rounding.0.apply(num * b.0 as i128, den * 10_000)),
                Some(pr.clone()),
            ),
            None => (None, None),
        };
        duplicates.push((
            Duplicate {
                from: first,
                to: last,
                months: n,
                kept: c.runs[k].region.clone(),
                cleared: r.region.clone(),
                refund_fen: refund,
            },
            pref,
        ));
    }
    // Months per place, each month once, at the place of the run that keeps it.
    let mut per_place: BTreeMap<RegionCode, (u32, YearMonth)> = BTreeMap::new();
    for (m, k) in &kept_of {
        let pc = p.place_code(c.runs[*k].region.code);
        let e = per_place.entry(pc).or_insert((0, *m));
        e.0 += 1;
        e.1 = e.1.max(*m);
    }
    let total_months = kept_of.len() as u32;
    let mut places: Vec<PlaceMonths> = per_place
        .iter()
        .map(|(code, (n, last))| PlaceMonths {
            place: place_named(names, *code),
            months: *n,
            last: *last,
        })
        .collect();
    places.sort_by_key(|pm| pm.last);
    // 临时缴费账户, 66号 第五条.
    let age = age_on(c.birth, c.date);
    let temp_threshold = match c.sex {
        Sex::Male => p.temp_age_male.0,
        Sex::Female => p.temp_age_female.0,
    };
    let mode = if dest != home && (age as i64) >= temp_threshold && !c.approved_transfer {
        Mode::TemporaryAccount
    } else {
        Mode::Transfer
    };
    // 待遇领取地, 66号 第六条, with the relationship where it will be after this request: at
    // the destination, or kept at the origin beside a temporary account.
    let current = if mode == Mode::TemporaryAccount {
        orig
    } else {
        dest
    };
    let need = (p.claim_min_years.0.max(0) as u32).saturating_mul(12);
    let months_at = |code: RegionCode| per_place.get(&code).map_or(0, |v| v.0);
    let claim = if current == home {
        (home, 1)
    } else if months_at(current) >= need {
        (current, 2)
    } else if let Some(pm) = places
        .iter()
        .rev()
        .find(|pm| pm.place.code != current && pm.months >= need)
    {
        (pm.place.code, 3)
    } else {
        (home, 4)
    };
    let claim = (place_named(names, claim.0), claim.1);
    let relationship = place_named(names, current);
    // Deadlines, each step from the latest day the one before may end.
    let days = |n: i64| u32::try_from(n).unwrap_or(0);
    let mut pension_steps = Vec::new();
    if mode == Mode::Transfer {
        let mut start = c.date;
        for (n, _) in &p.pension_days {
            let end = p.calendar.add_working_days(start, days(*n))?;
            pension_steps.push((*n, start, end));
            start = end;
        }
    }
    let mut medical_steps = Vec::new();
    let mut start = c.date;
    for (n, _) in &p.medical_days {
        let end = p.calendar.add_working_days(start, days(*n))?;
        medical_steps.push((*n, start, end));
        start = end;
    }
    Ok(Figures {
        age,
        mode,
        temp_threshold,
        years: rows,
        months_origin,
        months_before_pooling: months_before,
        pooling,
        duplicates,
        places,
        total_months,
        claim,
        relationship,
        pension_steps,
        medical_steps,
    })
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

/// Runs the calculator: check, resolve at the origin on the request date, compute, explain.
pub fn transfer(
    policy: &Policy,
    req: &TransferRequest,
    _today: YearMonth,
) -> Result<TransferResult> {
    let c = check(policy, req)?;
    let scope = policy.scope_at(&c.from.code.to_string(), c.date, &req.reforms)?;
    let years: BTreeSet<i16> = c
        .runs
        .iter()
        .flat_map(|r| (r.from.year()..=r.to.year()).map(|y| y as i16))
        .collect();
    let dest = policy.scope_at(&c.to.code.to_string(), c.date, &req.reforms)?;
    let p = TransferParams::resolve(&scope, &dest, years)?;
    let names: BTreeMap<RegionCode, Place> = policy
        .regions
        .values()
        .map(|r| (r.code, Place::of(r)))
        .collect();
    let f = compute(&p, &c, &names)?;
    Ok(explain(&p, &c, &f))
}

fn step_note(i: usize, medical: bool) -> (Note, Note) {
    match (medical, i) {
        (false, 0) => (
            Note::new("转入地社保经办机构", "the destination's agency"),
            Note::new(
                "审核转移申请，同意的发出同意接收函（联系函），不同意的书面说明理由",
                "reviews the request; sends the letter of acceptance (联系函), or explains a refusal in writing",
            ),
        ),
        (false, 1) => (
            Note::new("转出地社保经办机构", "the origin's agency"),
            Note::new(
                "接到同意接收函后办好转出手续：出具参保缴费凭证和信息表，转出个人账户和统筹基金",
                "from the letter, completes the transfer out: the contribution certificate, the information sheet, the personal account and the pooling fund",
            ),
        ),
        (false, _) => (
            Note::new("转入地社保经办机构", "the destination's agency"),
            Note::new(
                "收到关系和资金后办结，并通知单位或本人；重复缴费的月份此后清理（先转后清）",
                "from receiving the record and the money, closes and tells the employer or the worker; duplicate months are cleared after (先转后清)",
            ),
        ),
        (true, 0) => (
            Note::new(
                "转出地医保经办机构",
                "the origin's medical-insurance agency",
            ),
            Note::new(
                "完成医保关系转出，生成《参保人员基本医疗保险信息表》，转出个人账户余额",
                "transfers the relationship out, issues the information sheet, sends the account balance",
            ),
        ),
        (true, _) => (
            Note::new(
                "转入地医保经办机构",
                "the destination's medical-insurance agency",
            ),
            Note::new(
                "收到信息表后完成医保关系转入，个人账户到账后记入",
                "from the information sheet, transfers the relationship in; the account is credited when the money arrives",
            ),
        ),
    }
}

fn ym_months(n: u32) -> (String, String) {
    let (y, m) = (n / 12, n % 12);
    let zh = match (y, m) {
        (0, m) => format!("{m} 个月"),
        (y, 0) => format!("{y} 年"),
        (y, m) => format!("{y} 年 {m} 个月"),
    };
    let en = match (y, m) {
        (0, m) => format!("{m} months"),
        (y, 0) => format!("{y} years"),
        (y, m) => format!("{y} years {m} months"),
    };
    (zh, en)
}

/// The result and its trace.
pub fn explain(p: &TransferParams, c: &Checked, f: &Figures) -> TransferResult {
    let mut t = Trace::default();
    let mut notes = Vec::new();
    t.term("pooling_transfer");
    t.term("claim_place");
    t.term("working_day");
    // 1. The temporary-account rule.
    let sex_zh = if c.sex == Sex::Male {
        "男性"
    } else {
        "女性"
    };
    let sex_en = if c.sex == Sex::Male {
        "a man"
    } else {
        "a woman"
    };
    let age_ref = match c.sex {
        Sex::Male => p.temp_age_male.1.clone(),
        Sex::Female => p.temp_age_female.1.clone(),
    };
    let home_is_dest = p.place_code(c.to.code) == p.place_code(c.hukou.code);
    if f.mode == Mode::TemporaryAccount {
        t.term("temporary_account");
        t.step(
            format!(
                "{sex_zh}，{} 年满 {} 周岁（≥ {}），转入地{}不是户籍所在地{}：养老保险关系留在{}，{}为其建立临时基本养老保险缴费账户，记录单位和个人的全部缴费；现在不转移资金",
                c.date, f.age, f.temp_threshold, c.to.zh, c.hukou.zh, c.from.zh, c.to.zh
            ),
            format!(
                "{sex_en} aged {} on {} (≥ {}), moving to {}, which is not the hukou place {}: the pension relationship stays in {}, and {} opens a temporary contribution account recording every employer and personal contribution; no money moves now",
                f.age, c.date, f.temp_threshold, c.to.en, c.hukou.en, c.from.en, c.to.en
            ),
            vec![age_ref],
        );
        notes.push(Note::new(
            "再次跨省流动或在转入地达到领取条件时，临时账户的全部缴费本息转移归集到原参保地或待遇领取地。经县级以上党委组织部门、人社部门批准调动的，不受年龄限制（请求里写 approved_transfer）",
            "on a further move between provinces, or on reaching pension age at the destination, the temporary account's contributions and interest are collected to the old place or the place of claim. A move approved by a county-level (or higher) organisation department or human-resources bureau is exempt from the age rule (approved_transfer in the request)",
        ));
    } else {
        let why_zh = if home_is_dest {
            format!("转入地{}就是户籍所在地，不受年龄限制", c.to.zh)
        } else if c.approved_transfer {
            "经组织、人社部门批准调动，不受年龄限制".to_string()
        } else {
            format!(
                "{} 年满 {} 周岁，未到 {} 周岁",
                c.date, f.age, f.temp_threshold
            )
        };
        let why_en = if home_is_dest {
            format!(
                "the destination {} is the hukou place: no age limit",
                c.to.en
            )
        } else if c.approved_transfer {
            "an approved move: no age limit".to_string()
        } else {
            format!("aged {} on {}, under {}", f.age, c.date, f.temp_threshold)
        };
        t.step(
            format!("{sex_zh}，{why_zh}：养老保险关系和资金一起转到{}", c.to.zh),
            format!(
                "{sex_en}; {why_en}: the pension relationship and its money move to {}",
                c.to.en
            ),
            vec![age_ref],
        );
    }
    // 2. What moves.
    let rate = p.pooling_rate.0;
    let (years_zh, years_en): (Vec<String>, Vec<String>) = f
        .years
        .iter()
        .filter(|y| y.pooling_fen > Fen::ZERO)
        .map(|y| {
            let (n, b, pool) = (y.months, y.base_fen, y.pooling_fen);
            (
                format!("{} 年 {n} 个月 基数 {b} 元 × {rate} = {pool} 元", y.year),
                format!("{}: {n} months, base {b} × {rate} = {pool}", y.year),
            )
        })
        .unzip();
    let (later_zh, later_en) = if f.mode == Mode::TemporaryAccount {
        (
            "（现在不转移，关系留在原参保地；以后归集时按同一规则）",
            " (not moved now: the relationship stays at the origin; the same rule applies when it is collected)",
        )
    } else {
        ("", "")
    };
    t.step(
        format!(
            "统筹基金{later_zh}：{} 年起各年度实际缴费工资的 {} 之和，不满一年按实际月数，不计利息：{}；合计 {} 元",
            p.pooling_from_year.0,
            p.pooling_rate.0,
            if years_zh.is_empty() { "无".to_string() } else { years_zh.join("；") },
            f.pooling
        ),
        format!(
            "pooling fund{later_en}: {} of each year's actual contribution base from {}, part years by their months, no interest: {}; total {} yuan",
            p.pooling_rate.0,
            p.pooling_from_year.0,
            if years_en.is_empty() { "none".to_string() } else { years_en.join("; ") },
            f.pooling
        ),
        vec![
            p.pooling_rate.1.clone(),
            p.pooling_from_year.1.clone(),
            p.rounding.1.clone(),
        ],
    );
    if f.months_before_pooling > 0 {
        t.step(
            format!(
                "{} 年以前的 {} 个月不转统筹基金，但缴费年限照样合并计算，个人缴费本息在个人账户里一起转",
                p.pooling_from_year.0, f.months_before_pooling
            ),
            format!(
                "the {} months before {} move no pooling fund, but still count as years paid; personal contributions with interest move in the personal account",
                f.months_before_pooling, p.pooling_from_year.0
            ),
            vec![p.pooling_from_year.1.clone()],
        );
    }
    let total = match f.mode {
        Mode::Transfer => c.personal_account_fen.map(|a| a + f.pooling),
        Mode::TemporaryAccount => None,
    };
    match c.personal_account_fen {
        _ if f.mode == Mode::TemporaryAccount => {}
        Some(a) => t.step(
            format!(
                "个人账户储存额（含本息）全部转移：{a} 元；共转移 {} 元",
                total.unwrap_or_default()
            ),
            format!(
                "the personal account (with interest) moves in full: {a} yuan; {} yuan in all",
                total.unwrap_or_default()
            ),
            vec![],
        ),
        None => notes.push(Note::new(
            "没有给出个人账户储存额：个人账户按转出地记录的储存额（含本息）全部转移，这里只算了统筹基金",
            "no personal-account balance given: the account moves in full as the origin records it (with interest); only the pooling fund is computed here",
        )),
    }
    // 3. Duplicates.
    let mut refund = Some(Fen::ZERO);
    for (d, pref) in &f.duplicates {
        refund = match (refund, d.refund_fen) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        let (amt_zh, amt_en) = match d.refund_fen {
            Some(r) => (
                format!("退还本人个人缴费部分 {r} 元（不含利息）"),
                format!("the personal part, {r} yuan (without interest), is refunded to the worker"),
            ),
            None => (
                "个人部分按当地记录退还（这一年没有记录记账比例）".to_string(),
                "the personal part is refunded as the place records it (no account rate recorded for the year)".to_string(),
            ),
        };
        t.step(
            format!(
                "{}–{} 共 {} 个月在{}和{}重复缴费：保留{}的关系，清理{}的这几个月，{amt_zh}，缴费年限不重复计算",
                d.from, d.to, d.months, d.kept.zh, d.cleared.zh, d.kept.zh, d.cleared.zh
            ),
            format!(
                "{} to {}, {} months paid both in {} and {}: the relationship in {} is kept, those months in {} are cleared, {amt_en}, and the months count once",
                d.from, d.to, d.months, d.kept.en, d.cleared.en, d.kept.en, d.cleared.en
            ),
            pref.iter().cloned().collect(),
        );
    }
    if !f.duplicates.is_empty() {
        notes.push(Note::new(
            "重复缴费按“先转后清”：先转移，再由转入地经办机构清理；保留哪一个关系由经办机构与本人协商确定，这里按转入地优先、其次转出地、其次基数较高的提出建议",
            "duplicate months follow 先转后清 (transfer first, clear after): the receiving agency clears them after the transfer; which relationship is kept is agreed between the agency and the worker — anxin proposes the destination's, else the origin's, else the higher base",
        ));
    }
    let refund_fen = if f.duplicates.is_empty() {
        None
    } else {
        refund
    };
    // 4. The place of claim.
    let need = p.claim_min_years.0;
    let (tot_zh, tot_en) = ym_months(f.total_months);
    let per_zh: Vec<String> = f
        .places
        .iter()
        .map(|pm| format!("{} {}", pm.place.zh, ym_months(pm.months).0))
        .collect();
    let per_en: Vec<String> = f
        .places
        .iter()
        .map(|pm| format!("{} {}", pm.place.en, ym_months(pm.months).1))
        .collect();
    t.step(
        format!("缴费年限合并计算：共 {tot_zh}（{}）", per_zh.join("，")),
        format!("years paid add up: {tot_en} in all ({})", per_en.join(", ")),
        vec![p.place_level.1.clone()],
    );
    let (cp, rule) = (&f.claim.0, f.claim.1);
    let (dzh, den) = (&f.relationship.zh, &f.relationship.en);
    let why = match rule {
        1 => Note::new(
            format!("规则一：基本养老保险关系在户籍所在地{dzh}，由户籍所在地办理待遇领取"),
            format!(
                "rule 1: the relationship is at the hukou place {den}, which handles the claim"
            ),
        ),
        2 => Note::new(
            format!("规则二：关系不在户籍地，但在关系所在地{dzh}累计缴费满 {need} 年，在{dzh}领取"),
            format!(
                "rule 2: the relationship is not at the hukou place, but {den}, where it is, has {need} years or more paid: claim there"
            ),
        ),
        3 => Note::new(
            format!(
                "规则三：关系所在地{dzh}累计缴费不满 {need} 年，转回上一个缴费满 {need} 年的原参保地{}",
                cp.zh
            ),
            format!(
                "rule 3: {den}, where the relationship is, has fewer than {need} years: it goes back to the last earlier place with {need} years or more, {}",
                cp.en
            ),
        ),
        _ => Note::new(
            format!(
                "规则四：哪里都不满 {need} 年，归集到户籍所在地{}，由户籍所在地办理",
                cp.zh
            ),
            format!(
                "rule 4: no place reaches {need} years: the record is collected to the hukou place {}, which handles the claim",
                cp.en
            ),
        ),
    };
    t.step(
        format!(
            "待遇领取地（国办发〔2009〕66号 第六条）：{}（按到 {} 为止的缴费记录）",
            why.zh, c.date
        ),
        format!(
            "place of claim (国办发〔2009〕66号 art. 6): {} (on the history up to {})",
            why.en, c.date
        ),
        vec![p.claim_min_years.1.clone()],
    );
    notes.push(Note::new(
        "待遇领取地按目前的缴费记录判断；以后再交的年份会改变结果，到达领取条件时以那时的记录为准",
        "the place of claim follows the history so far; later years can change it, and the record at pension age decides",
    ));
    if f.mode == Mode::TemporaryAccount {
        notes.push(Note::new(
            "开临时账户时关系留在原参保地，领取地按原参保地判断；临时账户期间的缴费也计入该地的累计缴费年限（攀枝花等地经办指南：在本省累计缴费满 10 年的可在本省领取）",
            "with a temporary account the relationship stays at the origin, so the claim rules start from there; months in a temporary account still count towards that place's years (service guides such as 攀枝花's: 10 years paid in the province allow the claim there)",
        ));
    }
    // 5. Deadlines.
    let mk = |steps: &[(i64, Date, Date)], medical: bool| -> Vec<Step> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (n, s, e))| {
                let (who, what) = step_note(i, medical);
                Step {
                    who,
                    what,
                    working_days: *n,
                    starts: s.to_string(),
                    deadline: e.to_string(),
                }
            })
            .collect()
    };
    let pension_steps = mk(&f.pension_steps, false);
    let medical_steps = mk(&f.medical_steps, true);
    let notice_refs = |steps: &[(i64, Date, Date)]| -> (String, String) {
        let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
            return (String::new(), String::new());
        };
        let hs = p.calendar.holidays_between(first.1, last.2);
        if hs.is_empty() {
            return (String::new(), String::new());
        }
        let zh: Vec<String> = hs.iter().map(|h| h.name_zh.clone()).collect();
        let en: Vec<String> = hs.iter().map(|h| h.name_en.clone()).collect();
        let doc = p
            .calendar
            .notice(first.1)
            .map(|n| n.source.doc.clone())
            .unwrap_or_default();
        (
            format!("；其间有{}的放假调休（{doc}）", zh.join("、")),
            format!(
                "; the holidays and make-up days of {} fall in between ({doc})",
                en.join(", ")
            ),
        )
    };
    if let Some(last) = f.pension_steps.last() {
        let (hz, he) = notice_refs(&f.pension_steps);
        let d: Vec<String> = f.pension_steps.iter().map(|s| s.2.to_string()).collect();
        t.step(
            format!(
                "养老保险转移时限（国办发〔2009〕66号 第八条）：从 {} 起，转入地 {} 个工作日内发同意接收函（最迟 {}），转出地接函后 {} 个工作日内转出（最迟 {}），转入地收到后 {} 个工作日内办结（最迟 {}）{hz}",
                c.date, f.pension_steps[0].0, d[0], f.pension_steps[1].0, d[1], f.pension_steps[2].0, last.2
            ),
            format!(
                "pension time limits (国办发〔2009〕66号 art. 8): from {}, the destination sends the acceptance letter within {} working days (by {}), the origin sends within {} working days of the letter (by {}), the destination closes within {} working days (by {}){he}",
                c.date, f.pension_steps[0].0, d[0], f.pension_steps[1].0, d[1], f.pension_steps[2].0, last.2
            ),
            p.pension_days.iter().map(|d| d.1.clone()).collect(),
        );
    }
    {
        let (hz, he) = notice_refs(&f.medical_steps);
        let m = &f.medical_steps;
        t.step(
            format!(
                "医保转移时限（医保办发〔2021〕43号）：转出地 {} 个工作日内转出（最迟 {}），转入地收到信息表后 {} 个工作日内转入（最迟 {}）{hz}",
                m[0].0, m[0].2, m[1].0, m[1].2
            ),
            format!(
                "medical time limits (医保办发〔2021〕43号): the origin transfers out within {} working days (by {}), the destination in within {} working days of the sheet (by {}){he}",
                m[0].0, m[0].2, m[1].0, m[1].2
            ),
            p.medical_days.iter().map(|d| d.1.clone()).collect(),
        );
    }
    let continuous = c
        .medical_gap_months
        .map(|g| i64::from(g) <= p.medical_gap.0);
    let max_waiting = match continuous {
        Some(false) => Some(p.medical_waiting.0),
        _ => None,
    };
    if let (Some(g), Some(cont)) = (c.medical_gap_months, continuous) {
        let (zh, en) = if cont {
            (
                format!(
                    "医保中断 {g} 个月，不超过 {} 个月：按转入地规定补缴后视为连续参保，缴费当月即可享受待遇，中断期间的待遇可追溯",
                    p.medical_gap.0
                ),
                format!(
                    "a medical gap of {g} months, no more than {}: paid back by the destination's rules, cover counts as continuous, benefits start the month paid and the gap is covered retroactively",
                    p.medical_gap.0
                ),
            )
        } else {
            (
                format!(
                    "医保中断 {g} 个月，超过 {} 个月：转入地可设不超过 {} 个月的待遇等待期（以当地规定为准）",
                    p.medical_gap.0, p.medical_waiting.0
                ),
                format!(
                    "a medical gap of {g} months, more than {}: the destination may set a waiting period of up to {} months (its own rule decides)",
                    p.medical_gap.0, p.medical_waiting.0
                ),
            )
        };
        t.step(
            zh,
            en,
            vec![p.medical_gap.1.clone(), p.medical_waiting.1.clone()],
        );
    }
    if let Some(n) = p.calendar.notice(c.date) {
        t.step(
            format!("工作日按 {} 计算", n.source.doc),
            format!("working days follow {}", n.source.doc),
            vec![],
        );
    }
    let pension = PensionPart {
        mode: f.mode,
        moves: f.mode == Mode::Transfer,
        personal_account_fen: c.personal_account_fen,
        pooling_fen: f.pooling,
        total_fen: total,
        months: f.months_origin,
        months_before_pooling: f.months_before_pooling,
        years: f.years.clone(),
        deadline: pension_steps.last().map(|s| s.deadline.clone()),
        steps: pension_steps,
    };
    let medical = MedicalPart {
        account_fen: c.medical_account_fen,
        gap_months: c.medical_gap_months,
        continuous,
        max_waiting_months: max_waiting,
        deadline: medical_steps
            .last()
            .map(|s| s.deadline.clone())
            .unwrap_or_default(),
        steps: medical_steps,
    };
    TransferResult {
        from: c.from.clone(),
        to: c.to.clone(),
        hukou: c.hukou.clone(),
        date: c.date.to_string(),
        age: f.age,
        sex: c.sex,
        pension,
        medical,
        duplicates: f.duplicates.iter().map(|(d, _)| d.clone()).collect(),
        refund_fen,
        places: f.places.clone(),
        total_months: f.total_months,
        claim: Claim {
            place: f.claim.0.clone(),
            rule: f.claim.1,
            why,
        },
        notes,
        trace: t,
    }
}
