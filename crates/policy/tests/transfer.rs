//! Property tests of the transfer calculator: it never panics on any request, and whatever
//! the history, months and money are conserved — every month is counted once, the months per
//! place add up to the total, the pooling fund is the sum of its years, each at 12 % of the
//! year's base from 1998 and nothing before, and every deadline is its step's number of
//! working days after the day the step starts.

use anxin_domain::YearMonth;
use anxin_policy::{Policy, calc};
use proptest::prelude::*;
use serde_json::{Value, json};

fn policy() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| Policy::embedded().expect("policy files"))
}

const REGIONS: &[&str] = &[
    "341200", "340000", "330100", "330200", "330000", "310000", "110000", "440300", "440100",
];

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(REGIONS).prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

/// A run of months: region, first month index from 1990-01, length, monthly base or total.
fn period() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(REGIONS),
        0i32..(36 * 12),
        1i32..60,
        0i64..3_000_000,
        any::<bool>(),
    )
        .prop_map(|(r, start, len, base, total)| {
            let from = YearMonth::parse("1990-01").unwrap().plus(start);
            let to = if total {
                // A total base must stay in one year.
                let last = from.plus(len - 1);
                if last.year() == from.year() {
                    last
                } else {
                    YearMonth::new(from.year(), 12).unwrap()
                }
            } else {
                from.plus(len - 1)
            };
            if total {
                json!({"region": r, "from": from.to_string(), "to": to.to_string(), "total_base_fen": base * 12})
            } else {
                json!({"region": r, "from": from.to_string(), "to": to.to_string(), "base_fen": base})
            }
        })
}

fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => (2024i32..=2026, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        1 => "\\PC{0,12}",
    ]
}

fn request() -> impl Strategy<Value = Value> {
    (
        region(),
        region(),
        region(),
        any::<bool>(),
        (1950i32..2005, 1u32..=12, 1u32..=28),
        date(),
        prop::collection::vec(period(), 0..6),
        prop::option::of(0i64..100_000_000),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(
            |(from, to, hukou, male, (y, m, d), date, history, acct, approved, pick)| {
                // Mostly move from where the first period was paid, so most requests get through.
                let from = match history.first() {
                    Some(p) if pick > 0 => p["region"].as_str().unwrap_or_default().to_string(),
                    _ => from,
                };
                json!({
                    "from": from, "to": to, "hukou": hukou,
                    "sex": if male { "male" } else { "female" },
                    "birth": format!("{y}-{m:02}-{d:02}"), "date": date,
                    "history": history, "personal_account_fen": acct,
                    "approved_transfer": approved,
                })
            },
        )
}

fn months_of(p: &Value) -> i64 {
    let f = YearMonth::parse(p["from"].as_str().unwrap()).unwrap();
    let t = YearMonth::parse(p["to"].as_str().unwrap()).unwrap();
    (f.months_until(t) + 1) as i64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn never_panics_and_conserves(req in request()) {
        let today = YearMonth::parse("2026-11").unwrap();
        let out = calc::run_json(policy(), "transfer", req.clone(), today);
        let v = match out {
            Err(e) => {
                prop_assert!(!e.zh.is_empty() && !e.en.is_empty());
                return Ok(());
            }
            Ok(v) => v,
        };
        // Every month once: the total plus the cleared duplicates is every month recorded.
        let recorded: i64 = req["history"].as_array().unwrap().iter().map(months_of).sum();
        let total = v["total_months"].as_i64().unwrap();
        let cleared: i64 = v["duplicates"].as_array().unwrap().iter().map(|d| d["months"].as_i64().unwrap()).sum();
        prop_assert_eq!(total + cleared, recorded);
        let per_place: i64 = v["places"].as_array().unwrap().iter().map(|p| p["months"].as_i64().unwrap()).sum();
        prop_assert_eq!(per_place, total);
        // The pooling fund is the sum of its years; none before 1998; 12 % of the base ± ½ fen.
        let years = v["pension"]["years"].as_array().unwrap();
        let sum: i64 = years.iter().map(|y| y["pooling_fen"].as_i64().unwrap()).sum();
        prop_assert_eq!(sum, v["pension"]["pooling_fen"].as_i64().unwrap());
        let months: i64 = years.iter().map(|y| y["months"].as_i64().unwrap()).sum();
        prop_assert_eq!(months, v["pension"]["months"].as_i64().unwrap());
        for y in years {
            let pool = y["pooling_fen"].as_i64().unwrap();
            if y["year"].as_i64().unwrap() < 1998 {
                prop_assert_eq!(pool, 0);
            } else {
                let base = y["base_fen"].as_i64().unwrap();
                prop_assert!((pool * 100 - base * 12).abs() <= 100, "{y}");
            }
        }
        if let (Some(a), Some(t)) = (v["pension"]["personal_account_fen"].as_i64(), v["pension"]["total_fen"].as_i64()) {
            prop_assert_eq!(t, a + sum);
        }
        // The claim rule is one of the four, and its place is a place of the history or the hukou.
        let rule = v["claim"]["rule"].as_i64().unwrap();
        prop_assert!((1..=4).contains(&rule));
        // Each deadline is its step's working days after the day it starts.
        let cal = &policy().calendar;
        for part in ["pension", "medical"] {
            for s in v[part]["steps"].as_array().unwrap() {
                let start: jiff::civil::Date = s["starts"].as_str().unwrap().parse().unwrap();
                let end: jiff::civil::Date = s["deadline"].as_str().unwrap().parse().unwrap();
                prop_assert_eq!(cal.working_days_between(start, end).unwrap(), s["working_days"].as_i64().unwrap());
                prop_assert!(cal.is_working_day(end).unwrap());
            }
        }
        // Medical continuity: a gap of 3 months or less keeps it (医保办发〔2021〕43号).
        if let Some(g) = req["medical_gap_months"].as_i64() {
            prop_assert_eq!(v["medical"]["continuous"].as_bool(), Some(g <= 3));
        }
        // A temporary account moves nothing now and has no pension steps.
        if v["pension"]["mode"] == "temporary_account" {
            prop_assert_eq!(v["pension"]["moves"].as_bool(), Some(false));
            prop_assert!(v["pension"]["steps"].as_array().unwrap().is_empty());
        }
    }
}
