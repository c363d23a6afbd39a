//! Microsimulation (SPEC §A1): a synthetic population of flexible workers, calibrated to the
//! seed documents (`policy/simulation/*.toml`, every figure with its source or marked as an
//! assumption), followed year by year under the law in force and under reforms.
//!
//! - The population is drawn once from the seed (ChaCha8, stream 0). Each person then has a
//!   stream of their own (stream = 1 + their index) from which exactly the same draws are taken
//!   every year in every scenario: the baseline and the reforms meet the same people with the
//!   same luck (common random numbers), and the result does not depend on how the work is
//!   split across cores. Same seed, same bytes.
//! - What a person pays is the quote's own [`compute_month`] (through [`QuoteKernel::ask`]),
//!   resolved once per (scenario, year, region); pensions are [`Projector::project`]. No rule
//!   is written twice.
//! - Whether a worker without a contract pays in a year is a logistic choice in the burden
//!   (own monthly contribution over income), its coefficients in the parameter file (all
//!   assumptions). Workers lapse, return, change job (and lose or find a contract), move city
//!   and retire at the statutory age of their schedule.
//!
//! Probabilities are the only non-integer numbers: the logistic curve is tabulated once per
//! thousandth of its argument (f64, then parts per million); money stays in fen.

use std::collections::BTreeMap;

use anxin_domain::{Fen, YearMonth};
use chacha20::ChaCha8Rng;
use chacha20::rand_core::{Rng, SeedableRng};
use serde::Deserialize;

use crate::Policy;
use crate::batch::QuoteKernel;
use crate::calc::pension::{Projector, WorkerInput, div_round};
use crate::calc::quote::compute_month;
use crate::error::{Error, Result};

/// The population file shipped with anxin.
pub const EMBEDDED: &str = include_str!("../../../policy/simulation/zhejiang-flex.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub title_zh: String,
    pub title_en: String,
    pub source: String,
}

/// `[from, to, share]` bands (whole yuan or years; share in basis points), uniform inside.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub bands: Vec<[i64; 3]>,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    pub items: Vec<(String, u32)>,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volatility {
    pub share: u32,
    pub source: String,
    pub drop: u32,
    pub drop_source: String,
    pub bad_year: u32,
    pub bad_year_source: String,
    #[serde(default)]
    pub bad_year_assumption: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub share: u32,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turnover {
    pub trades: Vec<String>,
    pub yearly: u32,
    pub source: String,
    pub other_yearly: u32,
    pub other_source: String,
    #[serde(default)]
    pub other_assumption: bool,
    pub move_region: u32,
    pub move_source: String,
    #[serde(default)]
    pub move_assumption: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hukou {
    pub migrant: u32,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
    pub inter_provincial: u32,
    pub inter_provincial_source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub insured: u32,
    pub paid_share: u32,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
}

/// Logit coefficients in thousandths; `slope` per percentage point of burden.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    pub stay: i64,
    pub join: i64,
    pub slope: i64,
    pub volatile: i64,
    pub migrant: i64,
    pub young: i64,
    pub young_below: u32,
    pub source: String,
    #[serde(default)]
    pub assumption: bool,
}

/// A population file (`policy/simulation/*.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimParams {
    pub meta: Meta,
    pub income: Bands,
    pub volatility: Volatility,
    pub contract: Contract,
    pub turnover: Turnover,
    pub age: Bands,
    pub track: Mix,
    pub hukou: Hukou,
    pub sector: Mix,
    pub region: Mix,
    pub history: History,
    pub behaviour: Behaviour,
}

fn bad(zh: String, en: String) -> Error {
    Error::new(crate::ErrorKind::PolicyFiles, zh, en)
}

impl SimParams {
    /// The population file shipped with anxin.
    pub fn embedded() -> Result<SimParams> {
        SimParams::parse(EMBEDDED, "policy/simulation/zhejiang-flex.toml")
    }

    /// Reads and checks a population file: every mix adds up to 10 000, every band is
    /// ordered, every share is at most 10 000, every figure has a source.
    pub fn parse(text: &str, name: &str) -> Result<SimParams> {
        let p: SimParams = toml::from_str(text).map_err(|e| {
            bad(
                format!("人口参数文件 {name} 读不出来：{e}"),
                format!("the population file {name} cannot be read: {e}"),
            )
        })?;
        let fail = |what: &str, why_zh: &str, why_en: &str| {
            Err(bad(
                format!("人口参数文件 {name} 的 [{what}]：{why_zh}"),
                format!("the population file {name}, [{what}]: {why_en}"),
            ))
        };
        for (what, b) in [("income", &p.income), ("age", &p.age)] {
            let sum: i64 = b.bands.iter().map(|x| x[2]).sum();
            if b.bands.is_empty()
                || sum != 10_000
                || b.bands.iter().any(|x| x[0] >= x[1] || x[0] < 0 || x[2] < 0)
            {
                return fail(
                    what,
                    "各档比例之和须为 10000，每档下限小于上限且不为负",
                    "the shares must add up to 10000, each band from < to, none negative",
                );
            }
        }
        for (what, m) in [
            ("track", &p.track),
            ("sector", &p.sector),
            ("region", &p.region),
        ] {
            if m.items.is_empty() || m.items.iter().map(|x| x.1 as u64).sum::<u64>() != 10_000 {
                return fail(
                    what,
                    "各项比例之和须为 10000",
                    "the shares must add up to 10000",
                );
            }
        }
        if p.track
            .items
            .iter()
            .any(|(t, _)| !["male", "female55", "female50"].contains(&t.as_str()))
        {
            return fail(
                "track",
                "只能是 male、female55、female50",
                "only male, female55 and female50",
            );
        }
        let shares = [
            p.volatility.share,
            p.volatility.drop,
            p.volatility.bad_year,
            p.contract.share,
            p.turnover.yearly,
            p.turnover.other_yearly,
            p.turnover.move_region,
            p.hukou.migrant,
            p.hukou.inter_provincial,
            p.history.insured,
            p.history.paid_share,
        ];
        if shares.iter().any(|s| *s > 10_000) {
            return fail(
                "shares",
                "比例不能超过 10000（100%）",
                "a share cannot exceed 10000 (100 %)",
            );
        }
        let sources = [
            &p.meta.source,
            &p.income.source,
            &p.volatility.source,
            &p.volatility.drop_source,
            &p.volatility.bad_year_source,
            &p.contract.source,
            &p.turnover.source,
            &p.turnover.other_source,
            &p.turnover.move_source,
            &p.age.source,
            &p.track.source,
            &p.hukou.source,
            &p.hukou.inter_provincial_source,
            &p.sector.source,
            &p.region.source,
            &p.history.source,
            &p.behaviour.source,
        ];
        if sources.iter().any(|s| s.trim().is_empty()) {
            return fail(
                "source",
                "每个数字都要写明出处，或注明是假设",
                "every figure needs its source, or to say it is an assumption",
            );
        }
        Ok(p)
    }

    /// Every figure of the file as (table, figure, value, source, assumption), for the
    /// calibration table beside the results.
    pub fn figures(&self) -> Vec<(String, String, String, String, bool)> {
        let mut v = Vec::new();
        let mut add = |t: &str, f: String, val: String, src: &str, a: bool| {
            v.push((t.to_string(), f, val, src.to_string(), a))
        };
        for b in &self.income.bands {
            add(
                "income",
                format!("{}–{} yuan", b[0], b[1]),
                bps(b[2]),
                &self.income.source,
                self.income.assumption,
            );
        }
        add(
            "volatility",
            "share".into(),
            bps(self.volatility.share as i64),
            &self.volatility.source,
            false,
        );
        add(
            "volatility",
            "drop".into(),
            bps(self.volatility.drop as i64),
            &self.volatility.drop_source,
            false,
        );
        add(
            "volatility",
            "bad_year".into(),
            bps(self.volatility.bad_year as i64),
            &self.volatility.bad_year_source,
            self.volatility.bad_year_assumption,
        );
        add(
            "contract",
            "share".into(),
            bps(self.contract.share as i64),
            &self.contract.source,
            false,
        );
        add(
            "turnover",
            format!("yearly ({})", self.turnover.trades.join(" ")),
            bps(self.turnover.yearly as i64),
            &self.turnover.source,
            false,
        );
        add(
            "turnover",
            "other_yearly".into(),
            bps(self.turnover.other_yearly as i64),
            &self.turnover.other_source,
            self.turnover.other_assumption,
        );
        add(
            "turnover",
            "move_region".into(),
            bps(self.turnover.move_region as i64),
            &self.turnover.move_source,
            self.turnover.move_assumption,
        );
        for b in &self.age.bands {
            add(
                "age",
                format!("{}–{}", b[0], b[1]),
                bps(b[2]),
                &self.age.source,
                self.age.assumption,
            );
        }
        for (name, m) in [
            ("track", &self.track),
            ("sector", &self.sector),
            ("region", &self.region),
        ] {
            for (k, s) in &m.items {
                add(name, k.clone(), bps(*s as i64), &m.source, m.assumption);
            }
        }
        add(
            "hukou",
            "migrant".into(),
            bps(self.hukou.migrant as i64),
            &self.hukou.source,
            self.hukou.assumption,
        );
        add(
            "hukou",
            "inter_provincial".into(),
            bps(self.hukou.inter_provincial as i64),
            &self.hukou.inter_provincial_source,
            false,
        );
        add(
            "history",
            "insured".into(),
            bps(self.history.insured as i64),
            &self.history.source,
            self.history.assumption,
        );
        add(
            "history",
            "paid_share".into(),
            bps(self.history.paid_share as i64),
            &self.history.source,
            self.history.assumption,
        );
        let b = &self.behaviour;
        for (k, x) in [
            ("stay", b.stay),
            ("join", b.join),
            ("slope", b.slope),
            ("volatile", b.volatile),
            ("migrant", b.migrant),
            ("young", b.young),
        ] {
            add(
                "behaviour",
                k.into(),
                thousandths(x),
                &b.source,
                b.assumption,
            );
        }
        add(
            "behaviour",
            "young_below".into(),
            b.young_below.to_string(),
            &b.source,
            b.assumption,
        );
        v
    }
}

/// Basis points as a percentage with two decimals ("86.72").
pub fn bps(x: i64) -> String {
    let sign = if x < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", x.abs() / 100, x.abs() % 100)
}

fn thousandths(x: i64) -> String {
    let sign = if x < 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", x.abs() / 1000, x.abs() % 1000)
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimRequest {
    pub seed: u64,
    pub persons: u32,
    pub years: u32,
    /// The first simulated month; each year is taken at this month of its year.
    pub start: YearMonth,
    /// The reforms to compare with the law in force: each alone, and all together when more
    /// than one.
    pub reforms: Vec<String>,
    /// Everyone in this region instead of the file's region mix.
    pub region: Option<String>,
}

/// One person, as drawn.
#[derive(Clone, Copy, Debug, Default)]
struct Person {
    birth: i32,
    track: u8,
    sector: u8,
    region: u8,
    volatile: bool,
    contract: bool,
    migrant: bool,
    insured: bool,
    income: i64,
    paid: u32,
    balance: i64,
}

/// One year of one scenario, summed over the population.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YearStats {
    pub year: i32,
    /// Not yet retired at the start of the year.
    pub alive: u64,
    /// Insured through an employer (a contract).
    pub contract: u64,
    /// Flexible workers (no contract) paying this year.
    pub paying: u64,
    /// Flexible workers who paid last year, and those of them paying again.
    pub paid_before: u64,
    pub stayed: u64,
    pub joined: u64,
    pub lapsed: u64,
    pub retired: u64,
    pub retired_eligible: u64,
    /// Monthly pensions of those who retired this year, summed (fen).
    pub retired_pension: i64,
    /// Contributions of the flexible workers over the year (fen).
    pub gross: i64,
    pub pooling: i64,
    pub account: i64,
    /// Subsidies by who pays: the employment-difficulty subsidy (local), the provincial
    /// subsidy, and the school voucher (local, paid later).
    pub subsidy_local: i64,
    pub subsidy_provincial: i64,
    pub subsidy_voucher: i64,
    /// What the workers paid themselves.
    pub net: i64,
    /// Burden (own contribution ÷ income, basis points) summed over the payers.
    pub burden_bps_sum: i64,
}

impl YearStats {
    fn add(&mut self, o: &YearStats) {
        self.alive += o.alive;
        self.contract += o.contract;
        self.paying += o.paying;
        self.paid_before += o.paid_before;
        self.stayed += o.stayed;
        self.joined += o.joined;
        self.lapsed += o.lapsed;
        self.retired += o.retired;
        self.retired_eligible += o.retired_eligible;
        self.retired_pension += o.retired_pension;
        self.gross += o.gross;
        self.pooling += o.pooling;
        self.account += o.account;
        self.subsidy_local += o.subsidy_local;
        self.subsidy_provincial += o.subsidy_provincial;
        self.subsidy_voucher += o.subsidy_voucher;
        self.net += o.net;
        self.burden_bps_sum += o.burden_bps_sum;
    }

    /// Flexible workers (alive, no contract).
    pub fn flexible(&self) -> u64 {
        self.alive - self.contract
    }
}

/// One person's outcome in one scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonOut {
    /// What they paid themselves over the window (fen).
    pub paid: i64,
    /// Their monthly pension: at retirement if they retired in the window, else projected
    /// from the end of the window (keeping up what they did in its last year); 0 when short
    /// of the minimum months.
    pub pension: i64,
}

/// One scenario: its name, its reforms, per year and per person.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    pub name: String,
    pub reforms: Vec<String>,
    pub years: Vec<YearStats>,
    pub people: Vec<PersonOut>,
}

/// The whole run.
#[derive(Clone, Debug)]
pub struct SimResult {
    pub request: SimRequest,
    pub regions: Vec<String>,
    /// Income decile (0–9) of each person, by their monthly income at the start.
    pub decile: Vec<u8>,
    /// Each person's monthly income at the start (fen).
    pub income: Vec<i64>,
    /// As drawn: (figure, target in bps, drawn in bps), to check the calibration.
    pub drawn: Vec<(String, u32, u32)>,
    pub scenarios: Vec<ScenarioRun>,
}

/// Parts per million of 1 / (1 + e^(−z/1000)), z in thousandths from −12 to 12.
pub(crate) struct Logistic(Vec<u32>);

const LOGIT_SPAN: i64 = 12_000;

impl Logistic {
    pub(crate) fn new() -> Logistic {
        Logistic(
            (-LOGIT_SPAN..=LOGIT_SPAN)
                .map(|z| {
                    let p = 1.0 / (1.0 + (-(z as f64) / 1000.0).exp());
                    (p * 1_000_000.0).round() as u32
                })
                .collect(),
        )
    }
    pub(crate) fn ppm(&self, z: i64) -> u32 {
        self.0[(z.clamp(-LOGIT_SPAN, LOGIT_SPAN) + LOGIT_SPAN) as usize]
    }
}

/// A draw in [0, n).
#[inline]
pub(crate) fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    ((rng.next_u32() as u64) * n) >> 32
}

pub(crate) fn pick(rng: &mut ChaCha8Rng, shares: impl Iterator<Item = u32>) -> usize {
    let u = below(rng, 10_000) as u32;
    let mut acc = 0;
    let mut last = 0;
    for (i, s) in shares.enumerate() {
        acc += s;
        last = i;
        if u < acc {
            return i;
        }
    }
    last
}

/// The rules of one scenario, resolved once per year and region.
struct Rules {
    kernels: Vec<Vec<QuoteKernel>>, // [year][region]
    projectors: Vec<Vec<Projector>>,
    end: Vec<Projector>,
}

fn resolve(
    policy: &Policy,
    regions: &[String],
    start: YearMonth,
    years: u32,
    reforms: &[String],
) -> Result<Rules> {
    let mut kernels = Vec::new();
    let mut projectors = Vec::new();
    for y in 0..years {
        let month = start.plus(12 * y as i32);
        let mut k = Vec::new();
        let mut p = Vec::new();
        for r in regions {
            let scope = policy.scope(r, month, reforms)?;
            k.push(QuoteKernel::load(&scope)?);
            p.push(Projector::resolve(&scope)?.0);
        }
        kernels.push(k);
        projectors.push(p);
    }
    let end_month = start.plus(12 * years as i32);
    let mut end = Vec::new();
    for r in regions {
        end.push(Projector::resolve(&policy.scope(r, end_month, reforms)?)?.0);
    }
    Ok(Rules {
        kernels,
        projectors,
        end,
    })
}

/// One person of a population file the analyst brings (`anxin simulate --people`, the
/// analyst's page): what the synthetic population would otherwise draw for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonIn {
    /// Age at the start of the run, in months.
    pub age_months: u32,
    /// 0 male, 1 female55 (women retiring at 55 under the law before the reform), 2 female50.
    pub track: u8,
    /// The index of their sector in the population file's `[sector]` mix.
    pub sector: u8,
    /// The region's code.
    pub region: String,
    pub volatile: bool,
    pub contract: bool,
    pub migrant: bool,
    /// Paying as a flexible worker at the start.
    pub insured: bool,
    /// Monthly income (fen).
    pub income: i64,
    /// Months paid before the start.
    pub paid_months: u32,
    /// Personal account balance at the start (fen); `None`: as the synthetic population
    /// estimates it (the months paid at the lowest base).
    pub balance: Option<i64>,
}

/// Runs the simulation: draws the population, then the law in force and each scenario of
/// reforms over the same people with the same draws.
pub fn simulate(policy: &Policy, params: &SimParams, req: &SimRequest) -> Result<SimResult> {
    run(policy, params, req, None)
}

/// The simulation over the people of a population file instead of a drawn population
/// (`req.persons` is taken as their number and `req.region` is ignored: each person has
/// theirs); the behavioural draws are the same as for a drawn population.
pub fn simulate_people(
    policy: &Policy,
    params: &SimParams,
    req: &SimRequest,
    people: &[PersonIn],
) -> Result<SimResult> {
    let mut req = req.clone();
    req.persons = u32::try_from(people.len()).unwrap_or(u32::MAX);
    req.region = None;
    run(policy, params, &req, Some(people))
}

fn run(
    policy: &Policy,
    params: &SimParams,
    req: &SimRequest,
    given: Option<&[PersonIn]>,
) -> Result<SimResult> {
    if req.persons == 0 || req.persons > 20_000_000 || req.years == 0 || req.years > 50 {
        return Err(Error::bad_input(
            format!(
                "人数须在 1–20000000 之间，年数在 1–50 之间（现为 {} 人、{} 年）",
                req.persons, req.years
            ),
            format!(
                "persons must be 1–20000000 and years 1–50 (given {} persons, {} years)",
                req.persons, req.years
            ),
        ));
    }
    let (regions, region_shares): (Vec<String>, Vec<u32>) = match (given, &req.region) {
        (Some(people), _) => {
            let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
            for p in people {
                *counts.entry(p.region.as_str()).or_default() += 1;
            }
            let n = people.len().max(1) as u64;
            let mut shares: Vec<u32> = counts.values().map(|c| (c * 10_000 / n) as u32).collect();
            let short = 10_000 - shares.iter().sum::<u32>().min(10_000);
            if let Some(last) = shares.last_mut() {
                *last += short;
            }
            (counts.keys().map(|k| k.to_string()).collect(), shares)
        }
        (None, Some(r)) => {
            let scope = policy.scope(r, req.start, &[])?;
            (vec![scope.region.code.to_string()], vec![10_000])
        }
        (None, None) => params.region.items.iter().cloned().unzip(),
    };
    let mut scenarios: Vec<(String, Vec<String>)> = vec![("baseline".into(), vec![])];
    for r in &req.reforms {
        scenarios.push((r.clone(), vec![r.clone()]));
    }
    if req.reforms.len() > 1 {
        scenarios.push(("all".into(), req.reforms.clone()));
    }
    let rules: Vec<Rules> = scenarios
        .iter()
        .map(|(_, f)| resolve(policy, &regions, req.start, req.years, f))
        .collect::<Result<_>>()?;
    let base = &rules[0];

    // The population, from stream 0.
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let turnover_trades: Vec<bool> = params
        .sector
        .items
        .iter()
        .map(|(s, _)| params.turnover.trades.contains(s))
        .collect();
    let track_of: Vec<u8> = params
        .track
        .items
        .iter()
        .map(|(t, _)| match t.as_str() {
            "male" => 0,
            "female55" => 1,
            _ => 2,
        })
        .collect();
    let start = req.start.index();
    let n = req.persons as usize;
    let mut people = Vec::with_capacity(n);
    for given in given.unwrap_or_default() {
        let region = regions
            .iter()
            .position(|r| *r == given.region)
            .unwrap_or_default() as u8;
        let k = &base.kernels[0][region as usize];
        let acct = k.one(k.params.base.tier_min.0, given.income).account_fen;
        people.push(Person {
            birth: start - given.age_months as i32,
            track: given.track.min(2),
            sector: given.sector,
            region,
            volatile: given.volatile,
            contract: given.contract,
            migrant: given.migrant,
            insured: given.insured && !given.contract,
            income: given.income,
            paid: given.paid_months,
            balance: given.balance.unwrap_or(acct * given.paid_months as i64),
        });
    }
    for _ in 0..if given.is_some() { 0 } else { n } {
        let b =
            params.income.bands[pick(&mut rng, params.income.bands.iter().map(|b| b[2] as u32))];
        let income =
            (b[0] * 100 + below(&mut rng, ((b[1] - b[0]) * 100) as u64) as i64) / 100 * 100;
        let a = params.age.bands[pick(&mut rng, params.age.bands.iter().map(|b| b[2] as u32))];
        let age_months = a[0] * 12 + below(&mut rng, ((a[1] - a[0]) * 12) as u64) as i64;
        let track = track_of[pick(&mut rng, params.track.items.iter().map(|x| x.1))];
        let sector = pick(&mut rng, params.sector.items.iter().map(|x| x.1)) as u8;
        let region = pick(&mut rng, region_shares.iter().copied()) as u8;
        let volatile = below(&mut rng, 10_000) < params.volatility.share as u64;
        let contract = below(&mut rng, 10_000) < params.contract.share as u64;
        let migrant = below(&mut rng, 10_000) < params.hukou.migrant as u64;
        let insured = !contract && below(&mut rng, 10_000) < params.history.insured as u64;
        let since22 = (age_months - 22 * 12).max(0);
        let share = below(&mut rng, 2 * params.history.paid_share as u64 + 1) as i64;
        let paid = (since22 * share / 10_000).min(age_months - 16 * 12).max(0) as u32;
        let k = &base.kernels[0][region as usize];
        let acct = k.one(k.params.base.tier_min.0, income).account_fen;
        people.push(Person {
            birth: start - age_months as i32,
            track,
            sector,
            region,
            volatile,
            contract,
            migrant,
            insured,
            income,
            paid,
            balance: acct * paid as i64,
        });
    }
    let share = |f: &dyn Fn(&Person) -> bool| {
        (people.iter().filter(|p| f(p)).count() as u64 * 10_000 / n as u64) as u32
    };
    let in_3k_7k = share(&|p| (300_000..700_000).contains(&p.income));
    let drawn = vec![
        (
            "income 3000–7000".to_string(),
            params
                .income
                .bands
                .iter()
                .filter(|b| b[0] >= 3000 && b[1] <= 7000)
                .map(|b| b[2] as u32)
                .sum(),
            in_3k_7k,
        ),
        (
            "volatile".to_string(),
            params.volatility.share,
            share(&|p| p.volatile),
        ),
        (
            "contract".to_string(),
            params.contract.share,
            share(&|p| p.contract),
        ),
        (
            "migrant".to_string(),
            params.hukou.migrant,
            share(&|p| p.migrant),
        ),
        (
            "insured at start (of all)".to_string(),
            (params.history.insured as u64 * (10_000 - params.contract.share as u64) / 10_000)
                as u32,
            share(&|p| p.insured),
        ),
    ];

    // Income deciles at the start (ties broken by index).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (people[i].income, i));
    let mut decile = vec![0u8; n];
    for (rank, &i) in order.iter().enumerate() {
        decile[i] = (rank * 10 / n) as u8;
    }

    let logistic = Logistic::new();
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .max(1);
    let chunk = n.div_ceil(threads).max(1);
    let mut runs = Vec::new();
    for ((name, reforms), r) in scenarios.into_iter().zip(&rules) {
        let mut outs = vec![PersonOut::default(); n];
        let parts: Vec<Vec<YearStats>> = std::thread::scope(|s| {
            let handles: Vec<_> = outs
                .chunks_mut(chunk)
                .enumerate()
                .map(|(c, out)| {
                    let people = &people[c * chunk..(c * chunk + out.len())];
                    let (logistic, base, turnover_trades, region_shares) =
                        (&logistic, base, &turnover_trades, &region_shares);
                    s.spawn(move || {
                        let mut years = vec![YearStats::default(); req.years as usize];
                        for (j, (p, o)) in people.iter().zip(out.iter_mut()).enumerate() {
                            *o = follow(
                                params,
                                req,
                                r,
                                base,
                                logistic,
                                turnover_trades,
                                region_shares,
                                (c * chunk + j) as u64,
                                *p,
                                &mut years,
                            );
                        }
                        years
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut years = vec![YearStats::default(); req.years as usize];
        for part in &parts {
            for (y, s) in years.iter_mut().zip(part) {
                y.add(s);
            }
        }
        for (y, s) in years.iter_mut().enumerate() {
            s.year = req.start.year() + y as i32;
        }
        runs.push(ScenarioRun {
            name,
            reforms,
            years,
            people: outs,
        });
    }
    Ok(SimResult {
        request: req.clone(),
        regions,
        decile,
        income: people.iter().map(|p| p.income).collect(),
        drawn,
        scenarios: runs,
    })
}

/// One person through the window in one scenario.
#[allow(clippy::too_many_arguments)]
fn follow(
    params: &SimParams,
    req: &SimRequest,
    rules: &Rules,
    base: &Rules,
    logistic: &Logistic,
    turnover_trades: &[bool],
    region_shares: &[u32],
    index: u64,
    mut p: Person,
    years: &mut [YearStats],
) -> PersonOut {
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    rng.set_stream(index + 1);
    let b = &params.behaviour;
    let start = req.start.index();
    let mut paid_last = p.insured;
    let mut tier_sum: i64 =
        p.paid as i64 * rules.kernels[0][p.region as usize].params.base.tier_min.0 as i64;
    let mut own_paid = 0i64;
    let mut last_account = 0i64;
    let mut last_tier = 0u32;
    let mut paying_now = false;
    for (y, st) in years.iter_mut().enumerate() {
        // The same six draws every year, whatever happens.
        let u_bad = below(&mut rng, 10_000) as u32;
        let u_turn = below(&mut rng, 10_000) as u32;
        let u_contract = below(&mut rng, 10_000) as u32;
        let u_move = below(&mut rng, 10_000) as u32;
        let u_region = pick(&mut rng, region_shares.iter().copied());
        let u_pay = below(&mut rng, 1_000_000) as u32;
        let month = start + 12 * y as i32;
        let proj = &rules.projectors[y][p.region as usize];
        let retire_at = p.birth as i64 + proj.rules[p.track as usize].age_months_at(p.birth);
        if month as i64 >= retire_at {
            st.retired += 1;
            let pension = pension_of(proj, month, &p, tier_sum, 0, 0, false);
            if pension > 0 {
                st.retired_eligible += 1;
            }
            st.retired_pension += pension;
            return PersonOut {
                paid: own_paid,
                pension,
            };
        }
        st.alive += 1;
        // Interest on the account for the year.
        p.balance += div_round(
            proj.projection_rounding,
            p.balance * proj.crediting.0 as i64,
            10_000,
        );
        let turnover = if turnover_trades[p.sector as usize] {
            params.turnover.yearly
        } else {
            params.turnover.other_yearly
        };
        if u_turn < turnover {
            p.contract = u_contract < params.contract.share;
            if u_move < params.turnover.move_region {
                p.region = u_region as u8;
            }
        }
        let income = if p.volatile && u_bad < params.volatility.bad_year {
            p.income
                - Fen(p.income)
                    .times_rate(
                        anxin_domain::Bps(params.volatility.drop),
                        anxin_domain::Rounding::HalfUpFen,
                    )
                    .0
        } else {
            p.income
        };
        if p.contract {
            // Insured by the employer: months and the personal account accrue as under the law
            // in force at the lowest base; not part of the flexible workers' funds.
            st.contract += 1;
            let k = &base.kernels[y][p.region as usize];
            let q = k.one(k.params.base.tier_min.0, income);
            p.paid += 12;
            tier_sum += 12 * q.base_fen * 10_000 / k.params.base.avg.0.max(1);
            p.balance += 12 * q.account_fen;
            last_account = q.account_fen;
            last_tier = (q.base_fen * 10_000 / k.params.base.avg.0.max(1)) as u32;
            paying_now = true;
            paid_last = false;
            continue;
        }
        let k = &rules.kernels[y][p.region as usize];
        let ask = k.ask(k.params.base.tier_min.0, income);
        let Ok(f) = compute_month(&k.params, &ask) else {
            paying_now = false;
            continue;
        };
        let burden = if income > 0 {
            f.net.0 * 10_000 / income
        } else {
            10_000
        };
        let age = (month - p.birth) / 12;
        let z = if paid_last { b.stay } else { b.join }
            + b.slope * burden / 100
            + if p.volatile { b.volatile } else { 0 }
            + if p.migrant { b.migrant } else { 0 }
            + if (age as u32) < b.young_below {
                b.young
            } else {
                0
            };
        let pays = u_pay < logistic.ppm(z);
        if paid_last {
            st.paid_before += 1;
            if pays { st.stayed += 1 } else { st.lapsed += 1 }
        } else if pays {
            st.joined += 1;
        }
        paying_now = pays;
        paid_last = pays;
        if !pays {
            continue;
        }
        st.paying += 1;
        st.gross += 12 * f.monthly.0;
        st.pooling += 12 * f.pooling.0;
        st.account += 12 * f.account.0;
        st.subsidy_local += 12 * f.subsidies_paid[0].unwrap_or_default().0;
        st.subsidy_provincial += 12 * f.subsidies_paid[1].unwrap_or_default().0;
        st.subsidy_voucher += 12 * f.subsidies_paid[2].unwrap_or_default().0;
        st.net += 12 * f.net.0;
        st.burden_bps_sum += burden;
        own_paid += 12 * f.net.0;
        let tier = (f.base.0 * 10_000 / k.params.base.avg.0.max(1)) as u32;
        p.paid += 12;
        tier_sum += 12 * tier as i64;
        p.balance += 12 * f.account.0;
        last_account = f.account.0;
        last_tier = tier;
    }
    // Still working at the end: projected to retirement, keeping up the last year's choice.
    let end = start + 12 * req.years as i32;
    let proj = &rules.end[p.region as usize];
    let pension = pension_of(proj, end, &p, tier_sum, last_account, last_tier, paying_now);
    PersonOut {
        paid: own_paid,
        pension,
    }
}

/// A person's monthly pension from `as_of`: their months, average index and balance, paying
/// on to retirement at `tier_bps` when `paying`; 0 when short of the minimum months.
fn pension_of(
    proj: &Projector,
    as_of: i32,
    p: &Person,
    tier_sum: i64,
    monthly_account: i64,
    tier_bps: u32,
    paying: bool,
) -> i64 {
    let z = if p.paid > 0 {
        tier_sum / p.paid as i64
    } else {
        0
    };
    let w = WorkerInput {
        birth: p.birth,
        track: p.track,
        paid_months: p.paid,
        past_tier_bps: z as u32,
        balance_fen: p.balance,
        monthly_account_fen: if paying { monthly_account } else { 0 },
        tier_bps,
        pay_from: 0,
        pay_until: if paying { u32::MAX } else { 0 },
    };
    let o = proj.project(as_of, &w);
    if o.total_months >= o.min_months {
        o.basic_fen + o.account_pension_fen
    } else {
        0
    }
}

/// Five bands of the change in a person's pension under a reform (PolicyEngine's winners
/// and losers): gain more than 5 %, gain up to 5 %, no change, lose up to 5 %, lose more
/// than 5 %. A pension that appears from nothing is a gain of more than 5 %.
pub fn band(base: i64, reform: i64) -> usize {
    if reform == base {
        return 2;
    }
    if base <= 0 {
        return if reform > base { 0 } else { 4 };
    }
    // Exactly: the change against 5 % of the baseline, with no rounding in between.
    let (change, five) = ((reform - base) as i128 * 100, base as i128 * 5);
    if change > five {
        0
    } else if change > 0 {
        1
    } else if change >= -five {
        3
    } else {
        4
    }
}

/// The tables of a run, each a header and rows of text (yuan with two decimals, shares in
/// percent with two decimals), in a fixed order: what the CLI writes as CSV and a page
/// would show.
pub fn tables(
    res: &SimResult,
    params: &SimParams,
) -> BTreeMap<&'static str, (Vec<&'static str>, Vec<Vec<String>>)> {
    let y = |f: i64| Fen(f).yuan_string();
    let pct = |a: u64, b: u64| {
        (a * 10_000)
            .checked_div(b)
            .map(|v| bps(v as i64))
            .unwrap_or_default()
    };
    let mut t = BTreeMap::new();
    let mut rows = Vec::new();
    for s in &res.scenarios {
        for st in &s.years {
            rows.push(vec![
                s.name.clone(),
                st.year.to_string(),
                st.alive.to_string(),
                st.contract.to_string(),
                st.flexible().to_string(),
                st.paying.to_string(),
                pct(st.paying + st.contract, st.alive),
                pct(st.paying, st.flexible()),
                pct(st.stayed, st.paid_before),
                st.joined.to_string(),
                st.lapsed.to_string(),
                st.retired.to_string(),
                y(st.gross),
                y(st.pooling),
                y(st.account),
                y(st.subsidy_local),
                y(st.subsidy_provincial),
                y(st.subsidy_voucher),
                y(st.net),
                if st.paying == 0 {
                    String::new()
                } else {
                    bps(st.burden_bps_sum / st.paying as i64)
                },
                if st.retired_eligible == 0 {
                    String::new()
                } else {
                    y(st.retired_pension / st.retired_eligible as i64)
                },
            ]);
        }
    }
    t.insert(
        "years",
        (
            vec![
                "scenario",
                "year",
                "persons",
                "contract",
                "flexible",
                "paying",
                "coverage_percent",
                "flexible_coverage_percent",
                "retention_percent",
                "joined",
                "lapsed",
                "retired",
                "contributions",
                "pooling_fund",
                "personal_accounts",
                "subsidy_local",
                "subsidy_provincial",
                "subsidy_voucher",
                "paid_by_workers",
                "mean_burden_percent",
                "mean_new_pension",
            ],
            rows,
        ),
    );

    let mut rows = Vec::new();
    for s in &res.scenarios {
        let mut w = YearStats::default();
        for st in &s.years {
            w.add(st);
        }
        let last = s.years.last().copied().unwrap_or_default();
        let (m, r) = pension_means(res, s);
        rows.push(vec![
            s.name.clone(),
            s.reforms.join(" "),
            y(w.gross),
            y(w.pooling),
            y(w.account),
            y(w.subsidy_local),
            y(w.subsidy_provincial),
            y(w.subsidy_voucher),
            y(w.net),
            pct(last.paying, last.flexible()),
            pct(w.stayed, w.paid_before),
            y(m),
            r,
        ]);
    }
    t.insert(
        "window",
        (
            vec![
                "scenario",
                "reforms",
                "contributions",
                "pooling_fund",
                "personal_accounts",
                "subsidy_local",
                "subsidy_provincial",
                "subsidy_voucher",
                "paid_by_workers",
                "flexible_coverage_last_year_percent",
                "retention_percent",
                "mean_pension",
                "mean_replacement_percent",
            ],
            rows,
        ),
    );

    let base = &res.scenarios[0];
    let mut rows = Vec::new();
    let mut wl = Vec::new();
    for s in &res.scenarios[1..] {
        for d in 0..=10u8 {
            let mut k = 0i64;
            let (mut pb, mut pr, mut qb, mut qr) = (0i64, 0i64, 0i64, 0i64);
            let mut bands = [0u64; 5];
            for i in 0..res.decile.len() {
                if d < 10 && res.decile[i] != d {
                    continue;
                }
                k += 1;
                pb += base.people[i].paid;
                pr += s.people[i].paid;
                qb += base.people[i].pension;
                qr += s.people[i].pension;
                bands[band(base.people[i].pension, s.people[i].pension)] += 1;
            }
            let label = if d < 10 {
                (d + 1).to_string()
            } else {
                "all".into()
            };
            let k1 = k.max(1);
            let rel = |a: i64, b: i64| {
                if a == 0 {
                    String::new()
                } else {
                    bps(((b - a) as i128 * 10_000 / a as i128) as i64)
                }
            };
            rows.push(vec![
                s.name.clone(),
                label.clone(),
                k.to_string(),
                y(pb / k1),
                y(pr / k1),
                y((pr - pb) / k1),
                rel(pb, pr),
                y(qb / k1),
                y(qr / k1),
                y((qr - qb) / k1),
                rel(qb, qr),
            ]);
            let mut row = vec![s.name.clone(), label];
            row.extend(bands.iter().map(|c| pct(*c, k as u64)));
            wl.push(row);
        }
    }
    t.insert(
        "deciles",
        (
            vec![
                "scenario",
                "decile",
                "persons",
                "paid_baseline",
                "paid_reform",
                "paid_change",
                "paid_change_percent",
                "pension_baseline",
                "pension_reform",
                "pension_change",
                "pension_change_percent",
            ],
            rows,
        ),
    );
    t.insert(
        "winners",
        (
            vec![
                "scenario",
                "decile",
                "gain_over_5_percent",
                "gain_up_to_5_percent",
                "no_change",
                "lose_up_to_5_percent",
                "lose_over_5_percent",
            ],
            wl,
        ),
    );

    let mut rows: Vec<Vec<String>> = params
        .figures()
        .into_iter()
        .map(|(tb, f, v, s, a)| {
            vec![
                tb,
                f,
                v,
                String::new(),
                if a { "yes".into() } else { "no".into() },
                s,
            ]
        })
        .collect();
    for (f, target, got) in &res.drawn {
        rows.push(vec![
            "drawn".into(),
            f.clone(),
            bps(*target as i64),
            bps(*got as i64),
            String::new(),
            "this run".into(),
        ]);
    }
    t.insert(
        "calibration",
        (
            vec![
                "table",
                "figure",
                "value_percent_or_yuan",
                "drawn_percent",
                "assumption",
                "source",
            ],
            rows,
        ),
    );
    t
}

/// Mean monthly pension of those who get one, and the mean replacement rate (pension ÷
/// income at the start) over them, as a percentage.
pub fn pension_means(res: &SimResult, s: &ScenarioRun) -> (i64, String) {
    let (mut k, mut sum, mut rr) = (0i64, 0i64, 0i128);
    for (i, p) in s.people.iter().enumerate() {
        if p.pension > 0 && res.income[i] > 0 {
            k += 1;
            sum += p.pension;
            rr += p.pension as i128 * 10_000 / res.income[i] as i128;
        }
    }
    if k == 0 {
        (0, String::new())
    } else {
        (sum / k, bps((rr / k as i128) as i64))
    }
}
