//! Parameter values, converted from TOML exactly (never through a float).

use anxin_domain::{Bps, Fen};
use serde::Serialize;

use crate::schema::Kind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Money(Fen),
    Rate(Bps),
    Ratio(i64, i64),
    Int(i64),
    Bool(bool),
    Word(String),
    Set(Vec<String>),
    Table(Vec<(i64, i64)>),
    MoneyList(Vec<Fen>),
    Bands(Vec<(Fen, Bps)>),
}

impl Value {
    /// Converts a TOML value to the kind the schema asks for; the error says what is allowed.
    pub fn from_toml(kind: Kind, v: &toml::Value) -> Result<Value, String> {
        match kind {
            Kind::Money => money(v).map(Value::Money),
            Kind::Rate => rate(v).map(Value::Rate),
            Kind::Ratio => match v {
                toml::Value::Integer(i) => Ok(Value::Ratio(*i, 1)),
                toml::Value::String(s) => {
                    let (n, d) = s.split_once('/').ok_or_else(|| {
                        format!("'{s}' is not a fraction: write it as \"2/3\" or \"3/2\"")
                    })?;
                    let n: i64 = n
                        .trim()
                        .parse()
                        .map_err(|_| format!("'{s}' is not a fraction"))?;
                    let d: i64 = d
                        .trim()
                        .parse()
                        .map_err(|_| format!("'{s}' is not a fraction"))?;
                    if d <= 0 || !(0..=1_000_000).contains(&n) || d > 1_000_000 {
                        return Err(format!(
                            "'{s}': numerator and denominator must be 0–1000000, denominator positive"
                        ));
                    }
                    Ok(Value::Ratio(n, d))
                }
                other => Err(format!(
                    "expected a fraction such as \"2/3\", found {}",
                    other.type_str()
                )),
            },
            Kind::Int => match v {
                toml::Value::Integer(i) => Ok(Value::Int(*i)),
                other => Err(format!(
                    "expected a whole number, found {}",
                    other.type_str()
                )),
            },
            Kind::Bool => match v {
                toml::Value::Boolean(b) => Ok(Value::Bool(*b)),
                other => Err(format!(
                    "expected true or false, found {}",
                    other.type_str()
                )),
            },
            Kind::Enum(allowed) => match v {
                toml::Value::String(s) if allowed.contains(&s.as_str()) => {
                    Ok(Value::Word(s.clone()))
                }
                other => Err(format!(
                    "expected one of {}, found {other}",
                    allowed.join(", ")
                )),
            },
            Kind::Set(allowed) => {
                let arr = v.as_array().ok_or("expected a list of words")?;
                let mut out = Vec::new();
                for item in arr {
                    match item.as_str() {
                        Some(s) if allowed.contains(&s) => out.push(s.to_string()),
                        _ => {
                            return Err(format!(
                                "expected words among {}, found {item}",
                                allowed.join(", ")
                            ));
                        }
                    }
                }
                Ok(Value::Set(out))
            }
            Kind::Table => {
                let arr = v
                    .as_array()
                    .ok_or("expected a list of [key, value] pairs, e.g. [[60, 139], [61, 132]]")?;
                let mut out: Vec<(i64, i64)> = Vec::new();
                for item in arr {
                    let pair = item.as_array().filter(|p| p.len() == 2);
                    let (k, val) = match pair.map(|p| (p[0].as_integer(), p[1].as_integer())) {
                        Some((Some(k), Some(val))) => (k, val),
                        _ => {
                            return Err(format!(
                                "table entry {item} is not a [whole number, whole number] pair"
                            ));
                        }
                    };
                    if out.last().is_some_and(|(pk, _)| *pk >= k) {
                        return Err(format!(
                            "table keys must increase strictly; {k} comes after {}",
                            out.last().map(|p| p.0).unwrap_or(0)
                        ));
                    }
                    out.push((k, val));
                }
                if out.is_empty() {
                    return Err("a table needs at least one entry".into());
                }
                Ok(Value::Table(out))
            }
            Kind::MoneyList => {
                let arr = v.as_array().ok_or("expected a list of amounts in yuan")?;
                let list = arr.iter().map(money).collect::<Result<Vec<_>, _>>()?;
                if list.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("amounts must increase strictly".into());
                }
                Ok(Value::MoneyList(list))
            }
            Kind::Bands => {
                let arr = v
                    .as_array()
                    .ok_or("expected bands as [[lower bound in yuan, percent], …]")?;
                let mut out: Vec<(Fen, Bps)> = Vec::new();
                for item in arr {
                    let pair = item.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                        format!("band {item} is not a [lower bound in yuan, percent] pair")
                    })?;
                    let lo = money(&pair[0])?;
                    let r = rate(&pair[1])?;
                    if let Some((prev, _)) = out.last() {
                        if *prev >= lo {
                            return Err(format!(
                                "band lower bounds must increase strictly; {lo} comes after {prev}"
                            ));
                        }
                    } else if lo != Fen::ZERO {
                        return Err("the first band must start at 0".into());
                    }
                    out.push((lo, r));
                }
                if out.is_empty() {
                    return Err("at least one band is needed".into());
                }
                Ok(Value::Bands(out))
            }
        }
    }

    /// Short human form, e.g. "4812.00 元/月", "20%", "2/3".
    pub fn display(&self, unit: &str, lang: crate::Lang) -> String {
        let unit_zh = |u: &str| -> String {
            match lang {
                crate::Lang::Zh => unit_zh(u).to_string(),
                crate::Lang::En => u.to_string(),
            }
        };
        match self {
            Value::Money(f) => format!("{} {}", f, unit_zh(unit)),
            Value::Rate(b) => b.to_string(),
            Value::Ratio(n, d) => format!("{n}/{d}"),
            Value::Int(i) => format!("{i} {}", unit_zh(unit)),
            Value::Bool(b) => lang
                .pick(if *b { "是" } else { "否" }, if *b { "yes" } else { "no" })
                .to_string(),
            Value::Word(w) => word(w, lang).to_string(),
            Value::Set(s) => match lang {
                crate::Lang::Zh => s
                    .iter()
                    .map(|w| word(w, lang))
                    .collect::<Vec<_>>()
                    .join("、"),
                crate::Lang::En => s.join(", "),
            },
            Value::Table(t) => {
                let mut s: Vec<String> =
                    t.iter().take(4).map(|(k, v)| format!("{k}→{v}")).collect();
                if t.len() > 4 {
                    s.push(format!("… ({} rows)", t.len()));
                }
                s.join(", ")
            }
            Value::MoneyList(l) => l
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Value::Bands(b) => b
                .iter()
                .map(|(lo, r)| format!("≥{lo}:{r}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// A word of an enumerated parameter (the schema's lists: roundings, frequencies,
/// insurances, …) as a reader of `lang` says it; in English the word itself.
fn word(w: &str, lang: crate::Lang) -> &str {
    if lang == crate::Lang::En {
        return w;
    }
    match w {
        "half-up-fen" => "四舍五入到分",
        "half-up-jiao" => "四舍五入到角",
        "half-up-yuan" => "四舍五入到元",
        "truncate-fen" => "舍去分以下",
        "province" => "省",
        "city" => "市",
        "monthly" => "按月",
        "quarterly" => "按季",
        "yearly" => "按年",
        "peak-trough" => "旺季多缴、淡季少缴",
        "current" => "按补缴时的基数",
        "original" => "按原所属期的基数",
        "continuous" => "连续缴费",
        "cumulative-first" => "累计缴费优先",
        "pension" => "养老保险",
        "medical" => "医疗保险",
        "unemployment" => "失业保险",
        "injury" => "工伤保险",
        "maternity" => "生育保险",
        "ride-hailing" => "网约车",
        "food-delivery" => "外卖",
        "instant-delivery" => "即时配送",
        "same-city-freight" => "同城货运",
        other => other,
    }
}

fn unit_zh(unit: &str) -> &str {
    match unit {
        "yuan/month" => "元/月",
        "yuan/year" => "元/年",
        "yuan/order" => "元/单",
        "months" => "个月",
        "years" => "年",
        "working days" => "个工作日",
        other => other,
    }
}

fn money(v: &toml::Value) -> Result<Fen, String> {
    match v {
        toml::Value::Integer(i) if i.unsigned_abs() < 90_000_000_000_000 => Ok(Fen::from_yuan(*i)),
        toml::Value::String(s) => Fen::parse_yuan(s).map_err(|e| e.to_string()),
        toml::Value::Float(f) => Err(format!(
            "{f} is a float: write amounts with decimals as strings, e.g. \"962.40\", so no precision is lost"
        )),
        other => Err(format!("expected an amount in yuan, found {other}")),
    }
}

fn rate(v: &toml::Value) -> Result<Bps, String> {
    match v {
        toml::Value::Integer(i) if (0..=1000).contains(i) => Ok(Bps(*i as u32 * 100)),
        toml::Value::String(s) => Bps::parse_percent(s).map_err(|e| e.to_string()),
        toml::Value::Float(f) => Err(format!(
            "{f} is a float: write percentages with decimals as strings, e.g. \"9.5\""
        )),
        other => Err(format!(
            "expected a percentage between 0 and 1000, found {other}"
        )),
    }
}
