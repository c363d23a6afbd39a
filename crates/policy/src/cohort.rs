//! A school cohort forward (issue 17, seed 000): the guardians a school review drove to
//! enrol (the identification ledger's cohorts), followed month by month after the review
//! under the law in force and under reforms — how many are still paying after 3, 6, 12 and
//! 24 months.
//!
//! - The behavioural model is data (`policy/simulation/school-cohort.toml`, every coefficient
//!   marked as an assumption): each month a guardian pays again (or resumes) with a logistic
//!   probability in the burden, their own monthly contribution over their income.
//! - The burden is the quote's own [`compute_month`] at the guardian's base, as a school-driven
//!   first enrolment, under the rules and reforms in force at the start of the run (the
//!   question is "this cohort under today's rules, or under a reform", not a replay of the
//!   past): no rule is written twice, and a reform only changes parameters. Where the school
//!   review counts cumulative months (`school.rule`), the model's `cumulative` shift applies.
//! - The ledger holds no income: each guardian's is drawn from the population file's income
//!   bands. Every guardian is followed `draws` times, each time with a stream of their own
//!   (ChaCha8, stream = 1 + guardian × draws + draw), the same in every scenario: the same
//!   seed gives the same bytes, whatever the number of cores.

use anxin_domain::YearMonth;
use chacha20::ChaCha8Rng;
use chacha20::rand_core::SeedableRng;
use serde::Deserialize;

use crate::Policy;
use crate::batch::QuoteKernel;
use crate::calc::quote::compute_month;
use crate::error::{Error, Result};
use crate::schema::param;
use crate::sim::{Logistic, Meta, SimParams, below, pick};

/// The model file shipped with anxin.
pub const EMBEDDED: &str = include_str!("../../../policy/simulation/school-cohort.toml");

/// The months after the review the forecast reports (those of the ledger's retention table).
pub const MONTHS: [u32; 4] = [3, 6, 12, 24];

/// Most draws per guardian.
pub const MAX_DRAWS: u32 = 10_000;

/// Logit coefficients in thousandths; `slope` per percentage point of burden.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortBehaviour {
    pub stay: i64,
    pub slope: i64,
    pub resume: i64,
    pub cumulative: i64,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortParams {
    pub meta: Meta,
    pub behaviour: CohortBehaviour,
}

impl CohortParams {
    pub fn embedded() -> Result<CohortParams> {
        CohortParams::parse(EMBEDDED, "policy/simulation/school-cohort.toml")
    }

    /// Reads and checks a model file: every figure has its source.
    pub fn parse(text: &str, name: &str) -> Result<CohortParams> {
        let p: CohortParams = toml::from_str(text).map_err(|e| {
            Error::new(
                crate::ErrorKind::PolicyFiles,
                format!("行为模型文件 {name} 读不出来：{e}"),
                format!("the model file {name} cannot be read: {e}"),
            )
        })?;
        if p.meta.source.trim().is_empty() || p.behaviour.source.trim().is_empty() {
            return Err(Error::new(
                crate::ErrorKind::PolicyFiles,
                format!("行为模型文件 {name}：每个数字都要写明出处，或注明是假设"),
                format!(
                    "the model file {name}: every figure needs its source, or to say it is an assumption"
                ),
            ));
        }
        Ok(p)
    }
}

/// One guardian of a cohort: where they pay and at what base.
#[derive(Clone, Debug)]
pub struct Member {
    /// Six digits.
    pub region: u32,
    pub base_fen: i64,
}

/// A cohort: the guardians reviewed in one region and year.
#[derive(Clone, Debug)]
pub struct Cohort {
    pub region: u32,
    pub year: i32,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug)]
pub struct CohortRequest {
    pub seed: u64,
    /// Times each guardian is followed (1–[`MAX_DRAWS`]).
    pub draws: u32,
    /// The rules of this month (and the reforms) are the rules of the run.
    pub start: YearMonth,
    /// The reforms to compare with the law in force, each alone.
    pub reforms: Vec<String>,
}

/// One cohort under one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forecast {
    /// For 3, 6, 12 and 24 months: the guardian-draws paying then (of members × draws).
    Paying([u64; 4]),
    /// The scenario does not apply here (a reform outside the cohort's region), and why.
    NotApplicable { zh: String, en: String },
}

#[derive(Clone, Debug)]
pub struct ScenarioForecast {
    pub name: String,
    pub reforms: Vec<String>,
    /// One per cohort, in the order given.
    pub cohorts: Vec<Forecast>,
}

#[derive(Clone, Debug)]
pub struct CohortResult {
    pub request: CohortRequest,
    pub scenarios: Vec<ScenarioForecast>,
}

/// Follows every cohort forward under the law in force and each reform.
pub fn forward(
    policy: &Policy,
    model: &CohortParams,
    population: &SimParams,
    cohorts: &[Cohort],
    req: &CohortRequest,
) -> Result<CohortResult> {
    if req.draws == 0 || req.draws > MAX_DRAWS {
        return Err(Error::bad_input(
            format!(
                "每人模拟次数须在 1 到 {MAX_DRAWS} 之间（现为 {}）",
                req.draws
            ),
            format!("draws must be 1 to {MAX_DRAWS} (given {})", req.draws),
        ));
    }
    for r in &req.reforms {
        policy.reform(r)?;
    }
    let mut scenarios = vec![("baseline".to_string(), Vec::new())];
    for r in &req.reforms {
        scenarios.push((r.clone(), vec![r.clone()]));
    }
    let logistic = Logistic::new();
    let b = &model.behaviour;
    let mut out = Vec::new();
    for (name, reforms) in scenarios {
        let mut forecasts = Vec::new();
        // The guardians' index runs over every cohort, so each has a stream of their own.
        let mut index = 0u64;
        for c in cohorts {
            let first = index;
            index += c.members.len() as u64;
            let region = format!("{:06}", c.region);
            let scope = match policy.scope(&region, req.start, &reforms) {
                Ok(s) => s,
                Err(e) if !reforms.is_empty() => {
                    forecasts.push(Forecast::NotApplicable { zh: e.zh, en: e.en });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let kernel = QuoteKernel::load(&scope)?;
            let cumulative = scope
                .word(param::SCHOOL_RULE)
                .is_ok_and(|(w, _)| w == "cumulative-first");
            let shift = if cumulative { b.cumulative } else { 0 };
            let avg = kernel.params.base.avg.0.max(1);
            let mut paying_at = [0u64; 4];
            for (k, m) in c.members.iter().enumerate() {
                let tier = (m.base_fen.max(0) * 10_000 / avg).min(u32::MAX as i64) as u32;
                for d in 0..req.draws {
                    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
                    rng.set_stream(1 + (first + k as u64) * req.draws as u64 + d as u64);
                    let band = population.income.bands[pick(
                        &mut rng,
                        population.income.bands.iter().map(|x| x[2] as u32),
                    )];
                    let income = (band[0] * 100
                        + below(&mut rng, ((band[1] - band[0]) * 100).max(1) as u64) as i64)
                        / 100
                        * 100;
                    let mut ask = kernel.ask(tier, income);
                    ask.school_first_enrollment = true;
                    // A month the rules cannot price is a month nobody can pay.
                    let burden = match compute_month(&kernel.params, &ask) {
                        Ok(f) if income > 0 => f.net.0 * 10_000 / income,
                        _ => 10_000,
                    };
                    let z_stay = b.stay + b.slope * burden / 100 + shift;
                    let z_resume = b.resume + b.slope * burden / 100 + shift;
                    let mut paying = true;
                    for month in 1..=MONTHS[3] {
                        let u = below(&mut rng, 1_000_000) as u32;
                        let z = if paying { z_stay } else { z_resume };
                        paying = u < logistic.ppm(z);
                        if let Some(i) = MONTHS.iter().position(|n| *n == month)
                            && paying
                        {
                            paying_at[i] += 1;
                        }
                    }
                }
            }
            forecasts.push(Forecast::Paying(paying_at));
        }
        out.push(ScenarioForecast {
            name,
            reforms,
            cohorts: forecasts,
        });
    }
    Ok(CohortResult {
        request: req.clone(),
        scenarios: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cohorts() -> Vec<Cohort> {
        vec![
            Cohort {
                region: 330100,
                year: 2026,
                members: (0..30)
                    .map(|i| Member {
                        region: 330100,
                        base_fen: 498_600 + i * 1_000,
                    })
                    .collect(),
            },
            Cohort {
                region: 440300,
                year: 2026,
                members: vec![Member {
                    region: 440300,
                    base_fen: 600_000,
                }],
            },
        ]
    }

    fn req(reforms: &[&str], seed: u64) -> CohortRequest {
        CohortRequest {
            seed,
            draws: 50,
            start: YearMonth::new(2026, 9).unwrap(),
            reforms: reforms.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn fewer_pay_as_months_pass_and_a_reform_outside_its_region_says_so() {
        let policy = Policy::embedded().unwrap();
        let model = CohortParams::embedded().unwrap();
        assert!(model.behaviour.assumption, "the model is an assumption");
        let pop = SimParams::embedded().unwrap();
        let r = forward(
            &policy,
            &model,
            &pop,
            &cohorts(),
            &req(&["provincial-subsidy", "school-cumulative-first"], 3),
        )
        .unwrap();
        assert_eq!(r.scenarios.len(), 3);
        let Forecast::Paying(base) = &r.scenarios[0].cohorts[0] else {
            panic!("the law in force applies everywhere")
        };
        assert!(base.windows(2).all(|w| w[0] >= w[1]), "{base:?}");
        assert!(base[0] <= 30 * 50 && base[3] < base[0], "{base:?}");
        // The provincial subsidy is Zhejiang's: not applicable in Shenzhen, and said so.
        match &r.scenarios[1].cohorts[1] {
            Forecast::NotApplicable { en, .. } => assert!(!en.is_empty()),
            other => panic!("{other:?}"),
        }
        // Counting cumulative months keeps more paying (the model's shift), with the same draws.
        let (Forecast::Paying(cum), Forecast::Paying(sub)) =
            (&r.scenarios[2].cohorts[0], &r.scenarios[1].cohorts[0])
        else {
            panic!("both apply in Hangzhou")
        };
        assert!(cum[3] > base[3], "{cum:?} vs {base:?}");
        assert!(
            sub[3] >= base[3],
            "a lower burden never loses payers: {sub:?}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_forecast() {
        let policy = Policy::embedded().unwrap();
        let model = CohortParams::embedded().unwrap();
        let pop = SimParams::embedded().unwrap();
        let run = |seed| {
            forward(
                &policy,
                &model,
                &pop,
                &cohorts(),
                &req(&["school-cumulative-first"], seed),
            )
            .unwrap()
            .scenarios
            .into_iter()
            .map(|s| s.cohorts)
            .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let mut bad = req(&[], 1);
        bad.draws = 0;
        assert!(forward(&policy, &model, &pop, &cohorts(), &bad).is_err());
        assert!(forward(&policy, &model, &pop, &cohorts(), &req(&["nope"], 1)).is_err());
    }
}
