//! The batch kernels and the calculators are one rule (issue 11): for every shipped region,
//! several months and every reform (alone, and all that apply together), the column-wise
//! kernels give the calculators' figures to the fen.

use anxin_domain::{Fen, YearMonth};
use anxin_policy::batch::{QuoteKernel, QuoteOut, project_population};
use anxin_policy::calc::pension::{
    PensionRequest, Projector, Scenario, Track, WorkerInput, WorkerOutcome, project,
};
use anxin_policy::calc::quote::{QuoteRequest, quote};
use anxin_policy::{Policy, Trace};
use proptest::prelude::*;

fn policy() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| Policy::embedded().expect("policy files"))
}

const MONTHS: [&str; 5] = ["2024-06", "2025-01", "2025-07", "2026-06", "2027-03"];

/// Every (region, month, reforms) the policy can be asked about: no reform, each reform alone,
/// and all the reforms that apply there together.
fn scopes() -> &'static Vec<(String, YearMonth, Vec<String>)> {
    static S: std::sync::OnceLock<Vec<(String, YearMonth, Vec<String>)>> =
        std::sync::OnceLock::new();
    S.get_or_init(|| {
        let p = policy();
        let mut out = Vec::new();
        for code in p.regions.keys() {
            for m in MONTHS {
                let month = YearMonth::parse(m).unwrap();
                let region = code.to_string();
                let applies = |names: &[String]| p.scope(&region, month, names).is_ok();
                let mut sets: Vec<Vec<String>> = vec![vec![]];
                let mut all = Vec::new();
                for name in p.reforms.keys() {
                    let one = vec![name.clone()];
                    if applies(&one) {
                        sets.push(one);
                        all.push(name.clone());
                    }
                }
                if all.len() > 1 {
                    sets.push(all);
                }
                for reforms in sets {
                    // Only where the law in force has a contribution rule at all.
                    if let Ok(scope) = p.scope(&region, month, &reforms)
                        && QuoteKernel::load(&scope).is_ok()
                    {
                        out.push((region.clone(), month, reforms));
                    }
                }
            }
        }
        out
    })
}

#[test]
fn every_region_month_and_reform_is_covered() {
    let s = scopes();
    let regions: std::collections::BTreeSet<&str> = s.iter().map(|(r, _, _)| r.as_str()).collect();
    let reforms: std::collections::BTreeSet<&String> = s.iter().flat_map(|(_, _, f)| f).collect();
    assert_eq!(
        regions.len(),
        policy().regions.len() - 1,
        "every region but the national level"
    );
    assert_eq!(reforms.len(), policy().reforms.len(), "every reform");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// QuoteKernel::one is the quote calculator's figures, everywhere.
    #[test]
    fn quote_kernel_is_the_calculator(tier_pick in 0u32..=1000, income in 0i64..3_000_000) {
        for (region, month, reforms) in scopes() {
            let scope = policy().scope(region, *month, reforms).unwrap();
            let k = QuoteKernel::load(&scope).unwrap();
            let b = &k.params.base;
            let tier = b.tier_min.0 / 100 + tier_pick % (b.tier_max.0 / 100 - b.tier_min.0 / 100 + 1);
            let one: QuoteOut = k.one(tier * 100, income);
            let req = QuoteRequest {
                region: region.clone(),
                month: Some(*month),
                tier_percent: Some(tier),
                income_fen: Some(income),
                income_based: b.income_based_allowed(),
                reforms: reforms.clone(),
                ..Default::default()
            };
            let full = quote(policy(), &req, *month).unwrap();
            let at = format!("{region} {month} {reforms:?} tier {tier} income {income}");
            prop_assert_eq!(one.base_fen, full.base_fen.0, "{}", at);
            prop_assert_eq!(one.gross_fen, full.monthly_fen.0, "{}", at);
            prop_assert_eq!(one.account_fen, full.account_fen.0, "{}", at);
            prop_assert_eq!(one.net_fen, full.net_monthly_fen.0, "{}", at);
            let paid_now: i64 = full.subsidies.iter().filter(|s| !s.conditional).map(|s| s.monthly_fen.0).sum();
            prop_assert_eq!(one.subsidy_fen, paid_now, "{}", at);
        }
    }

    /// project_population gives the pension calculator's figures for each scenario, everywhere,
    /// with the worker built from the quote kernel as a batch caller builds it.
    #[test]
    fn pension_kernel_is_the_calculator(
        birth_year in 1966i32..2008,
        birth_month in 1u32..=12,
        track in 0u8..3,
        paid_pick in 0u32..400,
        balance in 0i64..30_000_000,
        tier_pick in 0u32..=1000,
        income in 100_000i64..3_000_000,
        stop in 0u32..400,
        gap in 0u32..200,
    ) {
        let birth = YearMonth::new(birth_year, birth_month).unwrap();
        let tr = [Track::Male, Track::Female55, Track::Female50][track as usize];
        for (region, month, reforms) in scopes() {
            let age_now = birth.months_until(*month);
            if age_now < 16 * 12 {
                continue;
            }
            let paid = paid_pick.min((age_now - 16 * 12) as u32);
            let scope = policy().scope(region, *month, reforms).unwrap();
            let k = QuoteKernel::load(&scope).unwrap();
            if k.params.base.income_based_allowed() {
                continue; // the pension calculator asks for a tier, never an income-based base
            }
            let Ok(proj) = Projector::load(&scope, &mut Trace::default()) else { continue };
            let b = &k.params.base;
            let tier = b.tier_min.0 / 100 + tier_pick % (b.tier_max.0 / 100 - b.tier_min.0 / 100 + 1);
            let q = k.one(tier * 100, income);
            let tier_bps = Fen(q.base_fen).share_of(b.avg).0;
            let scenarios = [Scenario::Keep, Scenario::StopAfter(stop), Scenario::Gap(gap)];
            let req = PensionRequest {
                region: region.clone(),
                as_of: Some(*month),
                birth: Some(birth),
                track: tr,
                paid_months: paid,
                account_balance_fen: balance,
                tier_percent: Some(tier),
                income_fen: Some(income),
                scenarios: scenarios.to_vec(),
                reforms: reforms.clone(),
                ..Default::default()
            };
            let full = project(policy(), &req, *month).unwrap();
            let horizon = month.months_until(full.retirement_month).max(0) as u32;
            let workers: Vec<WorkerInput> = scenarios.iter().map(|sc| {
                let (from, until) = match sc {
                    Scenario::StopAfter(n) => (0, (*n).min(horizon)),
                    Scenario::Gap(n) => ((*n).min(horizon), horizon),
                    _ => (0, horizon),
                };
                WorkerInput {
                    birth: birth.index(),
                    track,
                    paid_months: paid,
                    past_tier_bps: tier_bps,
                    balance_fen: balance,
                    monthly_account_fen: q.account_fen,
                    tier_bps,
                    pay_from: from,
                    pay_until: until,
                }
            }).collect();
            let mut out = vec![WorkerOutcome::default(); workers.len()];
            project_population(&proj, month.index(), &workers, &mut out);
            for (o, s) in out.iter().zip(&full.scenarios) {
                let at = format!("{region} {month} {reforms:?} {birth} {tr:?} paid {paid} tier {tier} {:?}", s.scenario);
                prop_assert_eq!(o.total_months, s.total_months, "{}", at);
                prop_assert_eq!(o.min_months, s.min_months, "{}", at);
                prop_assert_eq!(o.balance_fen, s.account_balance_fen.0, "{}", at);
                let eligible = o.total_months >= o.min_months;
                prop_assert_eq!(eligible, s.eligible, "{}", at);
                if eligible {
                    prop_assert_eq!(o.basic_fen, s.basic_fen.0, "{}", at);
                    prop_assert_eq!(o.account_pension_fen, s.account_pension_fen.0, "{}", at);
                }
            }
        }
    }
}
