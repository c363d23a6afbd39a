//! The columns of each kind of file, their English and Chinese headers, and the mapping of
//! a file's header onto them.

use std::collections::HashMap;

use crate::Kind;
use crate::error::{ColumnName, FileError};

/// The most columns a header may have.
pub(crate) const MAX_COLUMNS: usize = 256;

/// What a column holds; decides the hint in "required" messages and how cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    ResidentId,
    CreditCode,
    CreditCodes,
    Name,
    Text,
    Region,
    Code,
    Date,
    Month,
    Money,
    RecordId,
}

#[derive(Debug)]
pub(crate) struct Field {
    pub key: &'static str,
    /// Chinese headers; the first is the canonical one.
    pub zh: &'static [&'static str],
    pub required: bool,
    pub ty: Ty,
}

impl Field {
    pub fn zh_name(&self) -> &'static str {
        self.zh.first().copied().unwrap_or(self.key)
    }

    pub fn column_name(&self) -> ColumnName {
        ColumnName {
            en: self.key,
            zh: self.zh_name(),
            required: self.required,
        }
    }
}

const fn f(key: &'static str, zh: &'static [&'static str], required: bool, ty: Ty) -> Field {
    Field {
        key,
        zh,
        required,
        ty,
    }
}

const ID_ZH: &[&str] = &["身份证号", "身份证号码", "公民身份号码", "证件号码"];
const RECORD_ZH: &[&str] = &["记录号", "记录编号", "业务流水号", "流水号"];

pub(crate) mod person {
    pub const ID: usize = 0;
    pub const NAME: usize = 1;
    pub const HUKOU: usize = 2;
    pub const RESIDENCE: usize = 3;
    pub const FORM: usize = 4;
    pub const PLATFORMS: usize = 5;
    pub const PERMIT_REGION: usize = 6;
    pub const PERMIT_SINCE: usize = 7;
    pub const HOUSEHOLD: usize = 8;
    pub const RECORD: usize = 9;
}

pub(crate) static PERSONS: [Field; 10] = [
    f("person_id", ID_ZH, true, Ty::ResidentId),
    f("name", &["姓名"], true, Ty::Name),
    f("hukou_region", &["户籍地", "户籍所在地"], false, Ty::Region),
    f(
        "residence_region",
        &["居住地", "常住地", "经常居住地"],
        true,
        Ty::Region,
    ),
    f("employment_form", &["就业形态"], true, Ty::Code),
    f("platforms", &["平台", "平台代码"], false, Ty::CreditCodes),
    f(
        "permit_region",
        &["居住证地", "居住证所在地", "居住证签发地"],
        false,
        Ty::Region,
    ),
    f(
        "permit_since",
        &["居住证起始", "居住证起始日期", "居住证起始日"],
        false,
        Ty::Date,
    ),
    f("household", &["户号"], false, Ty::Text),
    f("record_id", RECORD_ZH, false, Ty::RecordId),
];

pub(crate) mod org {
    pub const CODE: usize = 0;
    pub const NAME: usize = 1;
    pub const KIND: usize = 2;
    pub const REGION: usize = 3;
    pub const RECORD: usize = 4;
}

pub(crate) static ORGS: [Field; 5] = [
    f(
        "credit_code",
        &["统一社会信用代码", "信用代码", "社会信用代码"],
        true,
        Ty::CreditCode,
    ),
    f("name", &["名称", "单位名称", "企业名称"], true, Ty::Text),
    f("kind", &["类型", "单位类型"], true, Ty::Code),
    f("region", &["地区", "所在地"], true, Ty::Region),
    f("record_id", RECORD_ZH, false, Ty::RecordId),
];

pub(crate) mod child {
    pub const ID: usize = 0;
    pub const NAME: usize = 1;
    pub const GUARDIAN: usize = 2;
    pub const RELATION: usize = 3;
    pub const SCHOOL: usize = 4;
    pub const RECORD: usize = 5;
}

pub(crate) static CHILDREN: [Field; 6] = [
    f(
        "child_id",
        &["子女身份证号", "子女身份证号码"],
        true,
        Ty::ResidentId,
    ),
    f("name", &["姓名", "子女姓名"], true, Ty::Name),
    f(
        "guardian_id",
        &["监护人身份证号", "监护人身份证号码"],
        true,
        Ty::ResidentId,
    ),
    f("relation", &["关系", "与监护人关系"], true, Ty::Code),
    f("school_region", &["就学地", "就读地"], false, Ty::Region),
    f("record_id", RECORD_ZH, false, Ty::RecordId),
];

pub(crate) mod contribution {
    pub const RECORD: usize = 0;
    pub const PERSON: usize = 1;
    pub const MONTH: usize = 2;
    pub const INSURANCE: usize = 3;
    pub const REGION: usize = 4;
    pub const PAYER: usize = 5;
    pub const PAYER_CODE: usize = 6;
    pub const BASE: usize = 7;
    pub const AMOUNT: usize = 8;
    pub const ACCOUNT: usize = 9;
    pub const STATUS: usize = 10;
    pub const REASON: usize = 11;
    pub const PAID_ON: usize = 12;
}

pub(crate) static CONTRIBUTIONS: [Field; 13] = [
    f("record_id", RECORD_ZH, true, Ty::RecordId),
    f("person_id", ID_ZH, true, Ty::ResidentId),
    f(
        "month",
        &["所属期", "费款所属期", "缴费月份", "月份"],
        true,
        Ty::Month,
    ),
    f("insurance", &["险种", "险种类型"], true, Ty::Code),
    f("region", &["参保地", "参保地区"], true, Ty::Region),
    f("payer", &["缴费方", "缴费主体"], true, Ty::Code),
    f(
        "payer_code",
        &["缴费单位代码", "缴费方代码", "缴费单位信用代码"],
        false,
        Ty::CreditCode,
    ),
    f("base", &["缴费基数", "基数"], true, Ty::Money),
    f("amount", &["缴费金额", "金额"], true, Ty::Money),
    f(
        "account",
        &["划入个人账户", "个人账户", "划入个人账户金额"],
        false,
        Ty::Money,
    ),
    f("status", &["状态", "缴费状态"], false, Ty::Code),
    f("reason", &["原因", "免缴原因"], false, Ty::Code),
    f("paid_on", &["缴费日期", "到账日期"], false, Ty::Date),
];

pub(crate) mod application {
    pub const ID: usize = 0;
    pub const CHILD: usize = 1;
    pub const GUARDIAN: usize = 2;
    pub const CITY: usize = 3;
    pub const MONTH: usize = 4;
    pub const HARDSHIP: usize = 5;
    pub const PROOFS: usize = 6;
}

pub(crate) static APPLICATIONS: [Field; 7] = [
    f(
        "application_id",
        &["申请编号", "申请号"],
        true,
        Ty::RecordId,
    ),
    f(
        "child_id",
        &["子女身份证号", "学生身份证号"],
        true,
        Ty::ResidentId,
    ),
    f(
        "guardian_id",
        &["监护人身份证号", "父母身份证号"],
        true,
        Ty::ResidentId,
    ),
    f("city", &["申请城市", "就学地", "城市"], true, Ty::Region),
    f("month", &["申请月份", "审核月份"], true, Ty::Month),
    f("hardship", &["困难家庭", "是否困难家庭"], false, Ty::Code),
    f("proofs", &["证明材料", "其他证明材料"], false, Ty::Code),
];

pub(crate) fn fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Applications => &APPLICATIONS,
        Kind::Persons => &PERSONS,
        Kind::Orgs => &ORGS,
        Kind::Children => &CHILDREN,
        Kind::Contributions => &CONTRIBUTIONS,
    }
}

/// Header text as compared: no BOM, trimmed, lower case, spaces and hyphens as
/// underscores, without a required/optional marker ("*姓名", "姓名（必填）").
pub(crate) fn normalize(header: &str) -> String {
    let mut t = header.trim_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    t = t.trim_matches(|c: char| c == '*' || c == '＊' || c.is_whitespace());
    for suffix in [
        "(必填)",
        "（必填）",
        "(选填)",
        "（选填）",
        "(可选)",
        "（可选）",
        "(可填)",
        "（可填）",
    ] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.trim_matches(|c: char| c == '*' || c == '＊' || c.is_whitespace());
        }
    }
    t.chars()
        .map(|c| {
            if c == ' ' || c == '-' || c == '\u{3000}' {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .to_lowercase()
}

/// Lookup from normalized header text to field index.
pub(crate) struct Lookup {
    map: HashMap<String, usize>,
}

impl Lookup {
    pub fn new(kind: Kind) -> Lookup {
        let mut map = HashMap::new();
        for (i, field) in fields(kind).iter().enumerate() {
            map.insert(normalize(field.key), i);
            for zh in field.zh {
                map.insert(normalize(zh), i);
            }
        }
        Lookup { map }
    }

    pub fn get(&self, header: &str) -> Option<usize> {
        self.map.get(&normalize(header)).copied()
    }
}

/// A header cut for display in lists and messages.
pub(crate) fn display_header(header: &str) -> String {
    let t = header.trim_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    let mut out: String = t.chars().take(64).collect();
    if t.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

/// How a file's header maps onto the fields of its kind.
pub(crate) struct Header {
    /// For each column of the file, the field it holds.
    pub by_column: Vec<Option<usize>>,
    /// For each field, the header as written (or the English key when absent).
    pub labels: Vec<String>,
    pub ignored: Vec<String>,
}

/// Maps header cells onto fields. Checks the column count, duplicate columns and that every
/// required column is present.
pub(crate) fn map_header<S: AsRef<str>>(kind: Kind, headers: &[S]) -> Result<Header, FileError> {
    let nonempty = headers
        .iter()
        .filter(|h| !h.as_ref().trim().is_empty())
        .count();
    // Empty header cells are ignored, but not without bound.
    if nonempty > MAX_COLUMNS || headers.len() > MAX_COLUMNS * 64 {
        return Err(FileError::TooManyColumns {
            found: if nonempty > MAX_COLUMNS {
                nonempty
            } else {
                headers.len()
            },
            max: MAX_COLUMNS,
        });
    }
    let fields = fields(kind);
    let lookup = Lookup::new(kind);
    let mut by_column = Vec::with_capacity(headers.len().min(MAX_COLUMNS * 4));
    let mut labels: Vec<Option<String>> = vec![None; fields.len()];
    let mut ignored = Vec::new();
    for h in headers {
        let h = h.as_ref();
        let shown = display_header(h);
        match lookup.get(h) {
            Some(i) => {
                let slot = labels.get_mut(i);
                if let Some(slot) = slot {
                    if let Some(first) = slot {
                        let column = fields.get(i).map(Field::column_name).unwrap_or(ColumnName {
                            en: "",
                            zh: "",
                            required: false,
                        });
                        return Err(FileError::DuplicateColumn {
                            first: first.clone(),
                            second: shown,
                            column,
                        });
                    }
                    *slot = Some(shown);
                }
                by_column.push(Some(i));
            }
            None => {
                if !shown.is_empty() && !ignored.contains(&shown) {
                    ignored.push(shown);
                }
                by_column.push(None);
            }
        }
    }
    let missing: Vec<ColumnName> = fields
        .iter()
        .zip(&labels)
        .filter(|(f, l)| f.required && l.is_none())
        .map(|(f, _)| f.column_name())
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns {
            missing,
            allowed: fields.iter().map(Field::column_name).collect(),
        });
    }
    let labels = fields
        .iter()
        .zip(labels)
        .map(|(f, l)| l.unwrap_or_else(|| f.key.to_string()))
        .collect();
    Ok(Header {
        by_column,
        labels,
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalize() {
        assert_eq!(normalize("\u{feff} Person ID "), "person_id");
        assert_eq!(normalize("*姓名（必填）"), "姓名");
        assert_eq!(normalize("RESIDENCE-REGION"), "residence_region");
        let l = Lookup::new(Kind::Contributions);
        assert_eq!(l.get("所属期"), Some(contribution::MONTH));
        assert_eq!(l.get("Paid_On"), Some(contribution::PAID_ON));
        assert_eq!(l.get("nope"), None);
    }

    #[test]
    fn every_kind_has_distinct_headers() {
        for kind in [
            Kind::Persons,
            Kind::Orgs,
            Kind::Children,
            Kind::Contributions,
        ] {
            let mut seen = std::collections::HashSet::new();
            for f in fields(kind) {
                assert!(seen.insert(normalize(f.key)), "{}", f.key);
                for z in f.zh {
                    assert!(seen.insert(normalize(z)), "{z}");
                }
            }
        }
    }
}
