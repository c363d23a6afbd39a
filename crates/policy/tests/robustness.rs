//! Property tests: no calculator panics on any request, whatever its fields hold, and every
//! failure comes back as an error with a message in both languages.

use anxin_domain::YearMonth;
use anxin_domain::codes::{GapReason, Insurance, ProofKind, Status};
use anxin_policy::calc::school;
use anxin_policy::{Policy, calc};
use proptest::prelude::*;
use serde_json::json;

fn policy() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| Policy::embedded().expect("policy files"))
}

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("330000".to_string()),
        Just("杭州".to_string()),
        Just("310000".to_string()),
        Just("440300".to_string()),
        Just("340000".to_string()),
        Just("110000".to_string()),
        "\\PC{0,8}",
    ]
}

fn month() -> impl Strategy<Value = String> {
    prop_oneof![
        (1990i32..2060, 1u32..=12).prop_map(|(y, m)| format!("{y:04}-{m:02}")),
        "\\PC{0,10}"
    ]
}

fn reforms() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            Just("income-band-rate".to_string()),
            Just("provincial-subsidy".to_string()),
            Just("school-voucher".to_string()),
            Just("relaxed-backpay".to_string()),
            Just("flexible-frequency".to_string()),
            Just("platform-super-deduction".to_string()),
            Just("savings-account".to_string()),
            Just("income-based-base".to_string()),
            "[a-z-]{0,12}",
        ],
        0..3,
    )
}

fn money() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..3_000_000,
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN),
        Just(-1)
    ]
}

fn check(calculator: &str, req: serde_json::Value) -> Result<(), TestCaseError> {
    let today = YearMonth::parse("2026-11").unwrap();
    match calc::run_json(policy(), calculator, req, today) {
        Ok(v) => prop_assert!(v.is_object()),
        Err(e) => prop_assert!(!e.zh.is_empty() && !e.en.is_empty()),
    }
    Ok(())
}

/// Any month anxin knows (1900-01 to 2200-12), mostly recent ones, the two ends included.
fn any_month() -> impl Strategy<Value = YearMonth> {
    let at = |i: i32| YearMonth::from_index(i).expect("a month anxin knows");
    prop_oneof![
        (2015 * 12..2031 * 12).prop_map(at),
        (1900 * 12..=2200 * 12 + 11).prop_map(at),
        Just(at(1900 * 12)),
        Just(at(2200 * 12 + 11)),
    ]
}

fn month_record() -> impl Strategy<Value = school::MonthRecord> {
    (
        any_month(),
        prop::sample::select(Insurance::ALL),
        prop::sample::select(Status::ALL),
        prop::option::of(prop::sample::select(GapReason::ALL)),
        any::<bool>(),
    )
        .prop_map(
            |(month, insurance, status, reason, evidence)| school::MonthRecord {
                month,
                insurance,
                status,
                reason,
                evidence,
            },
        )
}

fn school_request() -> impl Strategy<Value = school::SchoolRequest> {
    (
        region(),
        prop::option::of(any_month()),
        any::<bool>(),
        prop::option::of(any_month()),
        any::<bool>(),
        prop::sample::select(vec![vec![], vec!["school-cumulative-first".to_string()]]),
        prop::collection::vec(month_record(), 0..60),
        prop::collection::vec((any_month(), any_month()), 0..3),
        prop::collection::vec(
            (
                prop::sample::select(ProofKind::ALL),
                prop::option::of(any_month()),
            )
                .prop_map(|(kind, since)| school::Proof { kind, since }),
            0..25,
        ),
    )
        .prop_map(
            |(
                region,
                month,
                permit,
                permit_since,
                hardship,
                reforms,
                months,
                paid_ranges,
                proofs,
            )| {
                school::SchoolRequest {
                    region,
                    month,
                    permit,
                    permit_since,
                    hardship,
                    reforms,
                    months,
                    paid_ranges,
                    proofs,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The typed school review (and a ranking of the same application) never panics, never
    /// hangs, and refuses only with a message in both languages; what it returns holds together.
    #[test]
    fn school_review_never_panics_on_any_typed_request(req in school_request(), today in any_month()) {
        match school::review(policy(), &req, today) {
            Ok(r) => {
                prop_assert!(matches!(r.decision, "eligible" | "eligible_hardship" | "not_yet"));
                prop_assert_eq!(r.points, r.points_from_months + r.points_from_permit + r.points_from_insurances);
                prop_assert_eq!(r.proofs.len(), req.proofs.len());
                prop_assert!(r.earliest_month.is_none() || r.decision == "not_yet");
            }
            Err(e) => prop_assert!(!e.zh.trim().is_empty() && !e.en.trim().is_empty()),
        }
        let rank = school::RankRequest {
            region: req.region.clone(),
            month: req.month,
            places: 1,
            reforms: req.reforms.clone(),
            applications: vec![school::Application {
                id: "A".into(),
                permit: req.permit,
                permit_since: req.permit_since,
                hardship: req.hardship,
                months: req.months.clone(),
                paid_ranges: req.paid_ranges.clone(),
                proofs: req.proofs.clone(),
            }],
        };
        match (school::rank(policy(), &rank, today), school::review(policy(), &req, today)) {
            (Ok(ranked), Ok(r)) => {
                prop_assert_eq!(ranked.applications[0].points, r.points);
                prop_assert_eq!(ranked.applications[0].decision, r.decision);
            }
            (Err(e), Err(_)) => prop_assert!(!e.zh.trim().is_empty() && !e.en.trim().is_empty()),
            (a, b) => prop_assert!(false, "rank and review disagree: {:?} vs {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn quote_never_panics(r in region(), m in month(), tier in prop::option::of(0u32..400), base in prop::option::of(money()), income in prop::option::of(money()),
                          freq in prop_oneof![Just("monthly"), Just("quarterly"), Just("yearly"), Just("peak-trough")], incomes in prop::collection::vec(money(), 0..14),
                          rf in reforms(), d in any::<bool>(), s in any::<bool>(), h in any::<bool>(), occ in prop::option::of(money())) {
        check("quote", json!({"region": r, "month": m, "tier_percent": tier, "base_fen": base, "income_fen": income, "frequency": freq, "monthly_incomes_fen": incomes,
            "reforms": rf, "employment_difficulty": d, "school_first_enrollment": s, "household_hardship": h, "occasional_income_fen": occ}))?;
    }

    #[test]
    fn pension_never_panics(r in region(), asof in month(), birth in month(), track in prop_oneof![Just("male"), Just("female55"), Just("female50")],
                            paid in 0u32..1000, bal in money(), past in prop::option::of(0u32..1000), tier in prop::option::of(0u32..400), income in prop::option::of(money()),
                            tr in money(), rt in prop::option::of(money()), sc in prop::collection::vec(prop_oneof![Just("keep".to_string()), (0u32..1300).prop_map(|n| format!("stop:{n}")), (0u32..1300).prop_map(|n| format!("gap:{n}")), (0u32..400).prop_map(|n| format!("tier:{n}"))], 0..10),
                            rf in reforms()) {
        check("pension", json!({"region": r, "as_of": asof, "birth": birth, "track": track, "paid_months": paid, "account_balance_fen": bal, "past_tier_percent": past,
            "tier_percent": tier, "income_fen": income, "transitional_fen": tr, "resident_tier_fen": rt, "scenarios": sc, "reforms": rf}))?;
    }

    #[test]
    fn backpay_never_panics(r in region(), asof in month(), missed in prop::collection::vec(month(), 0..5), from in prop::option::of(month()), to in prop::option::of(month()), tier in prop::option::of(0u32..400), rf in reforms()) {
        check("backpay", json!({"region": r, "as_of": asof, "missed": missed, "missed_from": from, "missed_to": to, "tier_percent": tier, "reforms": rf}))?;
    }

    #[test]
    fn medical_never_panics(r in region(), h in prop::option::of(region()), p in any::<bool>(), asof in month(), u in any::<u32>(), c in any::<u32>(), w in any::<bool>(), tier in prop::option::of(0u32..400)) {
        check("medical", json!({"region": r, "hukou_region": h, "residence_permit": p, "as_of": asof, "uncovered_years": u, "continuous_years": c, "in_enrollment_window": w, "tier_percent": tier}))?;
    }

    #[test]
    fn platform_never_panics(r in region(), m in month(), n in any::<u32>(), tier in prop::option::of(0u32..400), share in prop::option::of(0u32..200), pay in prop::option::of(money()), rev in prop::option::of(money()), rf in reforms()) {
        check("platform", json!({"region": r, "month": m, "workers": n, "tier_percent": tier, "platform_share_percent": share, "avg_pay_fen": pay, "annual_revenue_fen": rev, "reforms": rf}))?;
    }

    #[test]
    fn school_never_panics(r in region(), m in month(), permit in any::<bool>(), hardship in any::<bool>(),
                           months in prop::collection::vec((month(), prop::sample::select(vec!["pension", "medical", "car"]),
                               prop::sample::select(vec!["paid", "excused", "unpaid", "maybe"]),
                               prop::option::of(prop::sample::select(vec!["childbirth", "unemployment", "bored"])), any::<bool>()), 0..40),
                           ranges in prop::collection::vec((month(), month()), 0..3), rf in prop::sample::select(vec![vec![], vec!["school-cumulative-first".to_string()]]),
                           proofs in prop::collection::vec((prop::sample::select(vec!["labour_contract", "community_residence", "utility_bill", ""]), prop::option::of(month())), 0..4)) {
        let months: Vec<serde_json::Value> = months.into_iter().map(|(mo, i, s, r, e)| json!({"month": mo, "insurance": i, "status": s, "reason": r, "evidence": e})).collect();
        let proofs: Vec<serde_json::Value> = proofs.into_iter().map(|(k, since)| match since { Some(s) => json!({"kind": k, "since": s}), None => json!(k) }).collect();
        check("school", json!({"region": r, "month": m, "permit": permit, "hardship": hardship, "months": months, "paid_ranges": ranges, "reforms": rf, "proofs": proofs}))?;
    }

    #[test]
    fn injury_never_panics(r in region(), m in month(),
                           sector in prop_oneof![Just("delivery".to_string()), Just("ride-hailing".to_string()), Just("外卖".to_string()), Just("同城货运".to_string()), "\\PC{0,12}"],
                           orders in prop::option::of(prop_oneof![0u64..1_000_000, any::<u64>(), Just(u64::MAX)]),
                           tier in prop::option::of(prop_oneof![Just("standard"), Just("high"), Just("0.25")]), rf in reforms()) {
        check("injury", json!({"region": r, "month": m, "sector": sector, "orders": orders, "delivery_tier": tier, "reforms": rf}))?;
    }

    /// A platform's bill is its orders times the per-order amount, to the fen, for any count.
    #[test]
    fn injury_bill_is_orders_times_amount(orders in prop_oneof![0u64..1_000_000, 0u64..=10_000_000_000], high in any::<bool>()) {
        let today = YearMonth::parse("2026-11").unwrap();
        let tier = if high { "high" } else { "standard" };
        let v = calc::run_json(policy(), "injury", json!({"region": "330000", "month": "2025-08", "sector": "delivery", "orders": orders, "delivery_tier": tier}), today).unwrap();
        let per: i64 = if high { 25 } else { 7 };
        prop_assert_eq!(v["per_order_fen"].as_i64(), Some(per));
        prop_assert_eq!(v["bill_fen"].as_i64(), Some(orders as i64 * per));
        prop_assert_eq!(v["worker_pays_fen"].as_i64(), Some(0));
    }

    #[test]
    fn fiscal_never_panics(r in region(), year in prop::option::of(prop_oneof![2015i32..2030, any::<i32>()]),
                           residents in prop_oneof![0u64..10_000_000, any::<u64>()],
                           migrants in prop::option::of(prop_oneof![0u64..1_000_000, any::<u64>()]),
                           hukou in prop::option::of(region()), rf in reforms()) {
        check("fiscal", json!({"region": r, "year": year, "residents": residents, "migrants": migrants, "hukou": hukou, "reforms": rf}))?;
    }

    /// The central and the local part always add up to the subsidy, per resident and in total.
    #[test]
    fn fiscal_parts_add_up(residents in 0u64..=2_000_000_000, year in 2021i32..2030,
                           r in prop::sample::select(vec!["110000", "310000", "330000", "330200", "440300", "340000", "341200"])) {
        let today = YearMonth::parse("2026-11").unwrap();
        let v = calc::run_json(policy(), "fiscal", json!({"region": r, "year": year, "residents": residents}), today).unwrap();
        for part in ["per_resident", "total"] {
            let t = &v[part];
            prop_assert_eq!(t["central_fen"].as_i64().unwrap() + t["local_fen"].as_i64().unwrap(), t["subsidy_fen"].as_i64().unwrap());
        }
        prop_assert_eq!(v["total"]["subsidy_fen"].as_i64().unwrap(), v["per_resident"]["subsidy_fen"].as_i64().unwrap() * residents as i64);
    }

    #[test]
    fn arbitrary_json_never_panics(calc_name in prop_oneof![Just("quote"), Just("pension"), Just("backpay"), Just("medical"), Just("platform"), Just("school"), Just("school_rank"), Just("injury"), Just("fiscal"), Just("transfer"), Just("nope")], text in "\\PC{0,60}") {
        let v = serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::Value::String(text));
        check(calc_name, v)?;
    }

    /// The column-wise kernel agrees with the calculator for every tier and income.
    #[test]
    fn batch_kernel_matches_calculator(tier in 60u32..=300, income in 0i64..2_000_000, band in any::<bool>()) {
        let reforms: Vec<String> = if band { vec!["income-band-rate".into(), "provincial-subsidy".into()] } else { vec![] };
        let month = YearMonth::parse("2026-06").unwrap();
        let scope = policy().scope("330000", month, &reforms).unwrap();
        let k = anxin_policy::batch::QuoteKernel::load(&scope).unwrap();
        let one = k.one(tier * 100, income);
        let req = calc::quote::QuoteRequest { region: "330000".into(), month: Some(month), tier_percent: Some(tier), income_fen: Some(income), reforms, ..Default::default() };
        let full = calc::quote::quote(policy(), &req, month).unwrap();
        prop_assert_eq!(one.base_fen, full.base_fen.0);
        prop_assert_eq!(one.gross_fen, full.monthly_fen.0);
        prop_assert_eq!(one.account_fen, full.account_fen.0);
        prop_assert_eq!(one.net_fen, full.net_monthly_fen.0);
    }
}
