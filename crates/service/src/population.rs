//! A population file the analyst brings (issue 17): one person a row, CSV with a header row,
//! instead of the synthetic population. The same reader serves `anxin simulate --people` and
//! the upload on the analyst's page. Each row is checked against the limits of
//! `policy/simulation/population-file.toml` (assumptions); a bad row gets its reason and
//! column, and when any row is bad nothing runs.
//!
//! Columns (order free, names as here; `id` and any other column ignored):
//! - `age` (whole years at the start), `track` (`male`, `female55`, `female50`: the
//!   retirement schedule), `income` (yuan a month, at most two decimals), `region` (a region
//!   code or name the policy files cover) — required;
//! - `sector` (one of the population file's sectors, default `other`), `volatile`,
//!   `contract`, `migrant`, `insured` (`yes`/`no`, `1`/`0`, `是`/`否`; default no),
//!   `paid_months` (months paid before the start, default 0), `balance` (personal account in
//!   yuan; empty: estimated from the months paid) — optional.

use std::collections::HashMap;

use anxin_domain::{Fen, YearMonth};
use anxin_policy::sim::{PersonIn, SimParams};
use anxin_policy::{Error, Policy};
use serde::Deserialize;

use crate::Refusal;

pub const LIMITS_FILE: &str = include_str!("../../../policy/simulation/population-file.toml");

pub const REQUIRED: [&str; 4] = ["age", "track", "income", "region"];
pub const OPTIONAL: [&str; 7] = [
    "sector",
    "volatile",
    "contract",
    "migrant",
    "insured",
    "paid_months",
    "balance",
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    title_zh: String,
    #[allow(dead_code)]
    title_en: String,
    #[allow(dead_code)]
    source: String,
}

/// The limits of a population file (all assumptions).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub min_age: u32,
    pub max_age: u32,
    pub max_income_yuan: i64,
    pub paid_from_age: u32,
    pub source: String,
    pub assumption: bool,
    pub effective: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    meta: Meta,
    limits: Limits,
}

impl Limits {
    /// The limits shipped in `policy/simulation/population-file.toml`.
    pub fn embedded() -> anxin_policy::Result<Limits> {
        let f: File = toml::from_str(LIMITS_FILE).map_err(|e| {
            Error::new(
                anxin_policy::ErrorKind::PolicyFiles,
                format!("policy/simulation/population-file.toml 读不出来：{e}"),
                format!("policy/simulation/population-file.toml cannot be read: {e}"),
            )
        })?;
        Ok(f.limits)
    }
}

/// A file that cannot be taken at all (not CSV, a required column missing, no rows).
fn whole(zh: String, en: String) -> Error {
    Error::bad_input(zh, en)
}

fn flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "0" | "false" | "否" => Some(false),
        "yes" | "y" | "1" | "true" | "是" => Some(true),
        _ => None,
    }
}

/// Reads a population file: the people, or the refusals of its bad rows (row numbers as a
/// spreadsheet counts them, the header being row 1). `Err` when the file as a whole cannot be
/// taken.
pub fn read(
    policy: &Policy,
    params: &SimParams,
    limits: &Limits,
    start: YearMonth,
    bytes: &[u8],
) -> anxin_policy::Result<Result<Vec<PersonIn>, Vec<Refusal>>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => {
            return Err(whole(
                format!("人口文件不是 UTF-8 编码的 CSV：{e}"),
                format!("the population file is not UTF-8 CSV: {e}"),
            ));
        }
    };
    let find = |name: &str| header.iter().position(|h| h == name);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| find(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(whole(
            format!(
                "人口文件缺少列：{}；必需的列：{}，可选的列：{}",
                missing.join("、"),
                REQUIRED.join("、"),
                OPTIONAL.join("、")
            ),
            format!(
                "the population file lacks the columns {}; required: {}; optional: {}",
                missing.join(", "),
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            ),
        ));
    }
    let at: Vec<Option<usize>> = REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .map(|c| find(c))
        .collect();
    let sectors: Vec<&str> = params
        .sector
        .items
        .iter()
        .map(|(s, _)| s.as_str())
        .collect();
    let mut regions: HashMap<String, Option<String>> = HashMap::new();
    let mut people = Vec::new();
    let mut refused = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut row = 1u64;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => row = rec.position().map(|p| p.line()).unwrap_or(row + 1),
            Err(e) => {
                row += 1;
                refused.push(Refusal {
                    row,
                    column: String::new(),
                    value: String::new(),
                    zh: format!("这一行读不出来：{e}"),
                    en: format!("this row cannot be read: {e}"),
                });
                continue;
            }
        }
        let cell = |k: usize| at[k].and_then(|i| rec.get(i)).unwrap_or("").trim();
        let mut bad = |k: usize, zh: String, en: String| {
            let column = REQUIRED.iter().chain(OPTIONAL.iter()).nth(k).unwrap_or(&"");
            refused.push(Refusal {
                row,
                column: column.to_string(),
                value: cell(k).chars().take(64).collect(),
                zh,
                en,
            });
        };
        let age = match cell(0).parse::<u32>() {
            Ok(a) if (limits.min_age..=limits.max_age).contains(&a) => a,
            Ok(a) => {
                bad(
                    0,
                    format!(
                        "年龄 {a} 不可能：须在 {}–{} 岁之间（假设，见 policy/simulation/population-file.toml）",
                        limits.min_age, limits.max_age
                    ),
                    format!(
                        "an age of {a} is impossible: it must be {}–{} (an assumption, policy/simulation/population-file.toml)",
                        limits.min_age, limits.max_age
                    ),
                );
                continue;
            }
            Err(_) => {
                bad(
                    0,
                    "年龄须是整数岁（如 35）".into(),
                    "the age must be whole years (such as 35)".into(),
                );
                continue;
            }
        };
        let track = match cell(1) {
            "male" => 0,
            "female55" => 1,
            "female50" => 2,
            _ => {
                bad(
                    1,
                    "退休类别须是 male、female55 或 female50".into(),
                    "the track must be male, female55 or female50".into(),
                );
                continue;
            }
        };
        let income = match Fen::parse_yuan(cell(2)) {
            Ok(f) if f < Fen::ZERO => {
                bad(
                    2,
                    "月收入不能为负数".into(),
                    "the monthly income cannot be negative".into(),
                );
                continue;
            }
            Ok(f) if f.0 > limits.max_income_yuan * 100 => {
                bad(
                    2,
                    format!("月收入超过 {} 元的上限（假设）", limits.max_income_yuan),
                    format!(
                        "the monthly income is above the limit of {} yuan (an assumption)",
                        limits.max_income_yuan
                    ),
                );
                continue;
            }
            Ok(f) => f.0,
            Err(_) => {
                bad(
                    2,
                    "月收入须是以元为单位、最多两位小数的金额（如 4812 或 962.40）".into(),
                    "the monthly income must be yuan with at most two decimals (4812 or 962.40)"
                        .into(),
                );
                continue;
            }
        };
        let region_text = cell(3).to_string();
        let region = regions
            .entry(region_text.clone())
            .or_insert_with(|| {
                policy
                    .scope(&region_text, start, &[])
                    .ok()
                    .map(|s| s.region.code.to_string())
            })
            .clone();
        let Some(region) = region else {
            bad(
                3,
                "政策文件没有这个地区（填地区代码或名称，如 330100 或 杭州）".into(),
                "the policy files do not cover this region (a code or name, such as 330100)".into(),
            );
            continue;
        };
        let sector_text = if cell(4).is_empty() { "other" } else { cell(4) };
        let Some(sector) = sectors.iter().position(|s| *s == sector_text) else {
            bad(
                4,
                format!("行业须是以下之一：{}", sectors.join("、")),
                format!("the sector must be one of {}", sectors.join(", ")),
            );
            continue;
        };
        let mut flags = [false; 4];
        let mut ok = true;
        for (i, f) in flags.iter_mut().enumerate() {
            match flag(cell(5 + i)) {
                Some(v) => *f = v,
                None => {
                    bad(
                        5 + i,
                        "须是 是/否（yes/no、1/0），或留空表示否".into(),
                        "must be yes/no (1/0), or empty for no".into(),
                    );
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let most = (age.saturating_sub(limits.paid_from_age)) * 12;
        let paid_months = match cell(9) {
            "" => 0,
            s => match s.parse::<u32>() {
                Ok(m) if m <= most => m,
                Ok(m) => {
                    bad(
                        9,
                        format!(
                            "已缴 {m} 个月超过 {} 岁以来的月数（{most}）",
                            limits.paid_from_age
                        ),
                        format!(
                            "{m} months paid is more than the months since the age of {} ({most})",
                            limits.paid_from_age
                        ),
                    );
                    continue;
                }
                Err(_) => {
                    bad(
                        9,
                        "已缴月数须是非负整数".into(),
                        "the months paid must be a whole number".into(),
                    );
                    continue;
                }
            },
        };
        let balance = match cell(10) {
            "" => None,
            s => match Fen::parse_yuan(s) {
                Ok(f) if f >= Fen::ZERO => Some(f.0),
                _ => {
                    bad(
                        10,
                        "个人账户余额须是不为负、最多两位小数的金额（元）".into(),
                        "the account balance must be yuan, not negative, at most two decimals"
                            .into(),
                    );
                    continue;
                }
            },
        };
        people.push(PersonIn {
            age_months: age * 12,
            track,
            sector: sector as u8,
            region,
            volatile: flags[0],
            contract: flags[1],
            migrant: flags[2],
            insured: flags[3],
            income,
            paid_months,
            balance,
        });
    }
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    if people.is_empty() {
        return Err(whole(
            "人口文件没有任何人（表头之后没有行）".into(),
            "the population file has nobody in it (no row after the header)".into(),
        ));
    }
    Ok(Ok(people))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> anxin_policy::Result<Result<Vec<PersonIn>, Vec<Refusal>>> {
        let policy = Policy::embedded().unwrap();
        let params = SimParams::embedded().unwrap();
        let limits = Limits::embedded().unwrap();
        read(
            &policy,
            &params,
            &limits,
            YearMonth::parse("2026-07").unwrap(),
            text.as_bytes(),
        )
    }

    #[test]
    fn the_limits_are_assumptions_with_a_source() {
        let l = Limits::embedded().unwrap();
        assert!(l.assumption && !l.source.is_empty() && !l.effective.is_empty());
        assert!(l.min_age < l.max_age);
    }

    #[test]
    fn a_good_file_gives_its_people() {
        let people = read_text(
            "\u{feff}id,age,track,income,region,sector,insured,paid_months,balance\n\
             a,35,male,4812.40,330100,delivery,yes,120,\n\
             b,50,female50,3000,330200,,否,0,1200.50\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].income, 481_240);
        assert_eq!(people[0].age_months, 35 * 12);
        assert!(people[0].insured && !people[1].insured);
        assert_eq!(people[1].track, 2);
        assert_eq!(people[1].balance, Some(120_050));
        assert_eq!(people[0].region, "330100");
    }

    #[test]
    fn every_bad_row_gets_its_reason_and_column() {
        let refused = read_text(
            "age,track,income,region,paid_months\n\
             12,male,4000,330100,0\n\
             35,male,-5,330100,0\n\
             35,male,abc,330100,0\n\
             35,robot,4000,330100,0\n\
             35,male,4000,nowhere,0\n\
             20,male,4000,330100,120\n\
             35,male,4000,330100,0\n",
        )
        .unwrap()
        .unwrap_err();
        let got: Vec<(u64, &str)> = refused.iter().map(|r| (r.row, r.column.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "age"),
                (3, "income"),
                (4, "income"),
                (5, "track"),
                (6, "region"),
                (7, "paid_months")
            ]
        );
        assert!(refused[0].zh.contains("不可能") && refused[0].en.contains("impossible"));
        assert!(refused[1].zh.contains("负数") && refused[1].en.contains("negative"));
    }

    #[test]
    fn a_file_without_its_columns_or_people_is_refused_whole() {
        let e = read_text("age,income\n35,4000\n").unwrap_err();
        assert!(
            e.zh.contains("track") && e.zh.contains("region"),
            "{}",
            e.zh
        );
        assert!(read_text("age,track,income,region\n").is_err());
    }
}
