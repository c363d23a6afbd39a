//! The domain's closed code lists: insurance types, payers, month statuses, gap reasons,
//! proofs, employment forms, organisation kinds, relations. Each code has a stable English snake_case form
//! ([`as_str`](Insurance::as_str), also its serde form, stored in the ledger's canonical
//! JSON events: never rename one) and a Chinese label ([`zh`](Insurance::zh)). Parsing
//! accepts the English code, the Chinese label and a few common Chinese synonyms, ignoring
//! case and surrounding whitespace.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The error of parsing a code: the text was none of the allowed codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode {
    pub text: String,
    /// The allowed codes as "code (中文)", joined by ", ".
    pub allowed: String,
}

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a known code: use {}",
            self.text, self.allowed
        )
    }
}
impl std::error::Error for UnknownCode {}

/// What every code list offers; used by the row validators to parse and to list the
/// allowed values in a rejection.
pub trait Code: Copy + Sized + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn zh(self) -> &'static str;
    /// Further accepted spellings (Chinese synonyms), besides the code and `zh()`.
    fn aliases(self) -> &'static [&'static str];

    /// The code exactly as stored (`as_str`): no synonyms, no case folding. For reading back
    /// what anxin itself wrote.
    fn from_code(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }

    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::ALL.iter().copied().find(|c| {
            c.as_str().eq_ignore_ascii_case(t)
                || c.zh() == t
                || c.aliases().iter().any(|a| a.eq_ignore_ascii_case(t))
        })
    }

    /// "pension（养老）、medical（医疗）…"
    fn allowed_zh() -> String {
        Self::ALL
            .iter()
            .map(|c| format!("{}（{}）", c.as_str(), c.zh()))
            .collect::<Vec<_>>()
            .join("、")
    }

    /// "pension (养老), medical (医疗), …"
    fn allowed_en() -> String {
        Self::ALL
            .iter()
            .map(|c| format!("{} ({})", c.as_str(), c.zh()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal, [$($alias:literal),*]; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable English code (snake_case), as stored in the ledger.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Accepts the code, the Chinese label or a synonym, case-insensitively.
            pub fn parse(text: &str) -> Option<$name> {
                <$name as Code>::parse(text)
            }
        }

        impl Code for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn zh(self) -> &'static str { $name::zh(self) }
            fn aliases(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($alias),*]),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<$name, UnknownCode> {
                $name::parse(s).ok_or_else(|| UnknownCode {
                    text: s.to_string(),
                    allowed: <$name as Code>::allowed_en(),
                })
            }
        }
    };
}

code_list! {
    /// 险种: the five social insurances.
    Insurance {
        Pension = "pension", "养老", ["养老保险", "基本养老保险", "企业职工基本养老保险", "城乡居民基本养老保险"];
        Medical = "medical", "医疗", ["医疗保险", "基本医疗保险", "医保"];
        Unemployment = "unemployment", "失业", ["失业保险"];
        /// Work injury, including the occupational injury protection of platform workers.
        Injury = "injury", "工伤", ["工伤保险", "职业伤害", "职业伤害保障"];
        Maternity = "maternity", "生育", ["生育保险"];
    }
}

code_list! {
    /// 缴费方: who paid a contribution.
    Payer {
        /// The insured person (code `self`).
        Individual = "self", "个人", ["本人", "个人缴费"];
        Platform = "platform", "平台", ["平台企业"];
        Employer = "employer", "单位", ["用人单位", "雇主"];
        /// A government subsidy (e.g. 灵活就业社保补贴).
        Subsidy = "subsidy", "补贴", ["政府补贴", "社保补贴"];
        Voucher = "voucher", "消费券", ["券"];
    }
}

code_list! {
    /// 状态: the state of a contribution month.
    Status {
        Paid = "paid", "已缴", ["已缴费", "正常"];
        Unpaid = "unpaid", "未缴", ["未缴费", "欠缴"];
        Deferred = "deferred", "缓缴", [];
        Backpaid = "backpaid", "补缴", ["已补缴"];
        Excused = "excused", "免缴", [];
    }
}

impl Insurance {
    /// The insurance's full name in Chinese ("养老保险").
    pub fn name_zh(self) -> String {
        format!("{}保险", self.zh())
    }

    /// The insurance's full name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            Insurance::Pension => "Pension insurance",
            Insurance::Medical => "Medical insurance",
            Insurance::Unemployment => "Unemployment insurance",
            Insurance::Injury => "Work-injury insurance",
            Insurance::Maternity => "Maternity insurance",
        }
    }
}

impl Status {
    /// Whether money moved for the month: paid on time or back-paid.
    pub fn is_paid(self) -> bool {
        matches!(self, Status::Paid | Status::Backpaid)
    }
}

code_list! {
    /// 原因: why a month was excused.
    GapReason {
        Childbirth = "childbirth", "生育", ["产假"];
        Care = "care", "照护", ["照料", "护理"];
        Illness = "illness", "疾病", ["生病", "病假"];
        Unemployment = "unemployment", "失业", [];
        PlatformRule = "platform_rule", "平台规则变更", ["平台规则"];
        Other = "other", "其他", ["其它"];
    }
}

code_list! {
    /// 证明材料: other proofs of stable work or residence a family shows for the school
    /// review (seed 000 §四(一)); the school calculator's requests use this type.
    ProofKind {
        BusinessLicence = "business_licence", "营业执照", ["个体工商户营业执照"];
        LabourContract = "labour_contract", "劳动合同", ["劳动合同书"];
        TaxRecords = "tax_records", "纳税记录", ["纳税证明", "完税证明"];
        PlatformOrders = "platform_orders", "平台接单记录", ["接单记录", "平台订单记录"];
        CommunityResidence = "community_residence", "社区居住证明", ["居住证明", "社区证明"];
    }
}

code_list! {
    /// 就业形态: how a person works.
    EmploymentForm {
        SelfEmployed = "self_employed", "个体", ["个体工商户", "个体户"];
        Flexible = "flexible", "灵活就业", ["灵活就业人员"];
        /// Work with an incomplete labour relationship (不完全劳动关系), e.g. most platform riders.
        SemiDependent = "semi_dependent", "不完全劳动关系", ["半依赖", "不完全符合确立劳动关系情形"];
        MultiPlatform = "multi_platform", "多平台", ["多平台就业"];
        Employee = "employee", "职工", ["劳动关系", "企业职工"];
    }
}

code_list! {
    /// 类型: what an organisation is to the platform workers.
    OrgKind {
        Platform = "platform", "平台", ["平台企业"];
        Employer = "employer", "单位", ["用人单位", "雇主"];
    }
}

code_list! {
    /// 是否: a yes/no cell.
    YesNo {
        Yes = "yes", "是", ["y", "true", "1", "有"];
        No = "no", "否", ["n", "false", "0", "无"];
    }
}

code_list! {
    /// 关系: how a guardian is related to a child.
    Relation {
        Parent = "parent", "父母", ["父亲", "母亲", "父", "母"];
        Grandparent = "grandparent", "祖父母", ["祖父", "祖母", "外祖父", "外祖母", "外祖父母"];
        Other = "other", "其他", ["其它"];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Code + Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>() {
        for c in T::ALL {
            let json = serde_json::to_string(c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(&back, c);
            assert_eq!(T::parse(c.as_str()), Some(*c));
            assert_eq!(T::parse(&c.as_str().to_uppercase()), Some(*c));
            assert_eq!(T::parse(c.zh()), Some(*c));
            for a in c.aliases() {
                assert_eq!(T::parse(a), Some(*c), "{a}");
            }
        }
    }

    #[test]
    fn codes_are_stable_and_round_trip() {
        check::<Insurance>();
        check::<Payer>();
        check::<Status>();
        check::<GapReason>();
        check::<ProofKind>();
        check::<EmploymentForm>();
        check::<OrgKind>();
        check::<Relation>();
        assert_eq!(Payer::Individual.as_str(), "self");
        assert_eq!(GapReason::PlatformRule.as_str(), "platform_rule");
        assert_eq!(EmploymentForm::SemiDependent.as_str(), "semi_dependent");
        assert_eq!(" 养老 ".parse::<Insurance>(), Ok(Insurance::Pension));
        assert!("pensions".parse::<Insurance>().is_err());
    }
}
