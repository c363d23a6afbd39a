//! C2 — pension projection ("长缴多得"): the urban-employee pension (basic, personal account
//! and an optional transitional amount) under the retirement-age and minimum-years schedules in
//! force, beside the urban-rural resident pension, for several scenarios side by side.
//!
//! Money is projected in today's money by default (wage growth and future crediting are
//! assumption parameters, 0 unless a user or reform says otherwise), so that the figures
//! compare with what a worker earns now.

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Deserializer, Serialize};

use crate::calc::Note;
use crate::calc::quote::{BaseBasis, BaseRule, RateRule};
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::{Key, param};
use crate::scope::{ParamRef, Scope, table_at_or_before};
use crate::trace::Trace;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Track {
    /// Men: originally 60, rising to 63.
    #[default]
    Male,
    /// Women originally retiring at 55 (cadres; most flexible-worker women): to 58.
    Female55,
    /// Women originally retiring at 50 (workers): to 55.
    Female50,
}

impl Track {
    pub fn parse(s: &str) -> Option<Track> {
        match s.trim().to_lowercase().as_str() {
            "male" | "m" | "男" => Some(Track::Male),
            "female55" | "f55" | "女55" => Some(Track::Female55),
            "female50" | "f50" | "女50" => Some(Track::Female50),
            _ => None,
        }
    }
    /// The retirement-age parameters of the track: original age, first cohort, step, most delay.
    /// The track's number in a [`WorkerInput`].
    pub fn index(self) -> u8 {
        match self {
            Track::Male => 0,
            Track::Female55 => 1,
            Track::Female50 => 2,
        }
    }

    fn keys(self) -> [Key; 4] {
        match self {
            Track::Male => [
                param::RETIREMENT_MALE_ORIGINAL_AGE,
                param::RETIREMENT_MALE_FIRST_COHORT,
                param::RETIREMENT_MALE_STEP_MONTHS,
                param::RETIREMENT_MALE_MAX_DELAY_MONTHS,
            ],
            Track::Female55 => [
                param::RETIREMENT_FEMALE55_ORIGINAL_AGE,
                param::RETIREMENT_FEMALE55_FIRST_COHORT,
                param::RETIREMENT_FEMALE55_STEP_MONTHS,
                param::RETIREMENT_FEMALE55_MAX_DELAY_MONTHS,
            ],
            Track::Female50 => [
                param::RETIREMENT_FEMALE50_ORIGINAL_AGE,
                param::RETIREMENT_FEMALE50_FIRST_COHORT,
                param::RETIREMENT_FEMALE50_STEP_MONTHS,
                param::RETIREMENT_FEMALE50_MAX_DELAY_MONTHS,
            ],
        }
    }
}

/// A scenario, written "keep", "stop:12", "gap:24" or "tier:100".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Scenario {
    /// Keep paying until retirement.
    Keep,
    /// Stop after this many months (e.g. 12: after the school year).
    StopAfter(u32),
    /// A gap of this many months from now, then pay until retirement.
    Gap(u32),
    /// Keep paying at another tier (percent of the average wage).
    Tier(u32),
}

impl Scenario {
    pub fn parse(s: &str) -> Option<Scenario> {
        let s = s.trim();
        if s == "keep" {
            return Some(Scenario::Keep);
        }
        let (k, v) = s.split_once(':')?;
        let n: u32 = v.trim().parse().ok().filter(|n| *n <= 1200)?;
        match k.trim() {
            "stop" => Some(Scenario::StopAfter(n)),
            "gap" => Some(Scenario::Gap(n)),
            "tier" => Some(Scenario::Tier(n)),
            _ => None,
        }
    }
    fn labels(self) -> (String, String) {
        match self {
            Scenario::Keep => ("一直交到退休".into(), "keep paying until retirement".into()),
            Scenario::StopAfter(12) => (
                "交满一个学年（12 个月）就停".into(),
                "stop after the school year (12 months)".into(),
            ),
            Scenario::StopAfter(n) => (
                format!("再交 {n} 个月就停"),
                format!("stop after {n} more months"),
            ),
            Scenario::Gap(n) => (
                format!("先断 {n} 个月，再交到退休"),
                format!("a {n}-month gap, then pay until retirement"),
            ),
            Scenario::Tier(p) => (
                format!("按 {p}% 档交到退休"),
                format!("pay at the {p}% tier until retirement"),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Scenario {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scenario::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{s}' is not a scenario: use keep, stop:N, gap:N or tier:P"
            ))
        })
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PensionRequest {
    pub region: String,
    /// Projection date (default: this month).
    pub as_of: Option<YearMonth>,
    pub birth: Option<YearMonth>,
    pub track: Track,
    /// Months already paid into the employee pension (all regions).
    pub paid_months: u32,
    /// Personal-account balance today, fen.
    pub account_balance_fen: i64,
    /// Average base tier of the months already paid (percent); default: the tier chosen now.
    pub past_tier_percent: Option<u32>,
    /// The tier (or base) paid from now on.
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    /// Monthly income (fen): to compare the pension with it, and for income-band reforms.
    pub income_fen: Option<i64>,
    /// Transitional pension (过渡性养老金) per month, fen; 0 for almost every flexible worker.
    pub transitional_fen: i64,
    /// Yearly tier of the resident pension to compare with (fen); default 500 yuan.
    pub resident_tier_fen: Option<i64>,
    pub scenarios: Vec<Scenario>,
    pub reforms: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub label_zh: String,
    pub label_en: String,
    pub future_months: u32,
    pub total_months: u32,
    pub min_months: u32,
    pub eligible: bool,
    pub shortfall_months: u32,
    pub account_balance_fen: Fen,
    pub basic_fen: Fen,
    pub account_pension_fen: Fen,
    pub transitional_fen: Fen,
    pub total_fen: Fen,
    /// Pension as a share of the calculation base (the local average wage).
    pub replacement_bps: Bps,
    /// Pension as a share of the worker's own income, when given.
    pub own_replacement_bps: Option<Bps>,
    /// What the worker pays from now to retirement.
    pub own_paid_fen: Fen,
    /// Months of pension that repay what the worker paid from now on.
    pub payback_months: Option<u32>,
    /// The resident pension for the same years at the compared tier.
    pub resident_total_fen: Fen,
    pub resident_eligible: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PensionResult {
    pub region_code: String,
    pub region_zh: String,
    pub as_of: YearMonth,
    pub birth: YearMonth,
    pub track: Track,
    pub retirement_age_months: u32,
    pub retirement_month: YearMonth,
    pub payout_months_tenths: u32,
    pub calc_base_fen: Fen,
    pub monthly_contribution_fen: Fen,
    pub resident_tier_fen: Fen,
    pub resident_age: u32,
    pub scenarios: Vec<ScenarioResult>,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// The statutory retirement schedule of one track, from the parameter files.
#[derive(Clone, Copy, Debug)]
pub struct RetirementRule {
    pub original_age_months: i64,
    pub first_cohort: YearMonth,
    pub step_months: i64,
    pub max_delay_months: i64,
}

impl RetirementRule {
    pub fn load(scope: &Scope, track: Track) -> Result<(RetirementRule, Vec<ParamRef>)> {
        let [age_k, cohort_k, step_k, max_k] = track.keys();
        let (age, r1) = scope.int(age_k)?;
        let (cohort, r2) = scope.int(cohort_k)?;
        let (step, r3) = scope.int(step_k)?;
        let (max, r4) = scope.int(max_k)?;
        let first_cohort = YearMonth::new((cohort / 100) as i32, (cohort % 100) as u32)
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::PolicyFiles,
                    format!("{cohort_k} 不是年月"),
                    format!("{cohort_k} is not a yyyymm month"),
                )
            })?;
        Ok((
            RetirementRule {
                original_age_months: age * 12,
                first_cohort,
                step_months: step.max(1),
                max_delay_months: max.max(0),
            },
            vec![r1, r2, r3, r4],
        ))
    }

    /// Statutory retirement age in months for a birth month: one month of delay per `step`
    /// months of birth cohort from the first affected cohort, the first cohort itself delayed
    /// one month (as the appendix tables of the 2024 decision show), up to the maximum.
    pub fn age_months(&self, birth: YearMonth) -> i64 {
        self.age_months_at(birth.index())
    }

    /// The same, for a birth month given as a month index (see [`YearMonth::index`]).
    pub fn age_months_at(&self, birth_index: i32) -> i64 {
        let off = (birth_index - self.first_cohort.index()) as i64;
        let delay = if off < 0 {
            0
        } else {
            (off / self.step_months + 1).min(self.max_delay_months)
        };
        self.original_age_months + delay
    }
}

/// Everything the projection of one worker needs, resolved once for a region and date, so
/// that a population is projected without touching the parameter files again.
#[derive(Clone, Debug)]
pub struct Projector {
    pub calc_base: Fen,
    pub basic_rate: Bps,
    pub crediting: Bps,
    pub wage_growth: Bps,
    /// Payout months in tenths, by retirement age in whole months from 40 years.
    pub payout_tenths_by_age_month: Vec<u32>,
    /// Minimum months by retirement year, as a (year, months) table.
    pub min_months: Vec<(i64, i64)>,
    pub rules: [RetirementRule; 3],
    /// How the basic pension is rounded (`rounding.pension.basic`).
    pub basic_rounding: Rounding,
    /// How the personal-account pension is rounded (`rounding.pension.account`).
    pub account_rounding: Rounding,
    /// How a year's crediting interest and wage indexation are rounded
    /// (`rounding.pension.projection`).
    pub projection_rounding: Rounding,
}

/// `n / d` fen rounded by `rounding`, in i64 for the hot loop when `n ≥ 0` and `d > 0` (the
/// same result as [`Rounding::apply`], which handles every other case).
#[inline]
pub fn div_round(rounding: Rounding, n: i64, d: i64) -> i64 {
    if n < 0 || d <= 0 {
        return rounding.apply(n as i128, d as i128).0;
    }
    match rounding {
        Rounding::TruncateFen => n / d,
        Rounding::HalfUpFen => {
            let (q, r) = (n / d, n % d);
            if r >= d - r { q + 1 } else { q }
        }
        other => other.apply(n as i128, d as i128).0,
    }
}

/// One worker's state and choice, as the projector sees it. All amounts fen.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerInput {
    pub birth: i32, // YearMonth index
    pub track: u8,  // 0 male, 1 female55, 2 female50
    pub paid_months: u32,
    pub past_tier_bps: u32,
    pub balance_fen: i64,
    pub monthly_account_fen: i64,
    pub tier_bps: u32,
    /// Contribution window from now, in months: [start, end).
    pub pay_from: u32,
    pub pay_until: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerOutcome {
    pub retirement_age_months: u32,
    pub future_months: u32,
    pub total_months: u32,
    pub min_months: u32,
    pub balance_fen: i64,
    pub basic_fen: i64,
    pub account_pension_fen: i64,
    pub calc_base_at_retirement_fen: i64,
}

const PAYOUT_FIRST_AGE: i64 = 40;

impl Projector {
    /// Resolves the projector and explains which parameters it uses.
    pub fn load(scope: &Scope, trace: &mut Trace) -> Result<Projector> {
        let (proj, refs) = Projector::resolve(scope)?;
        proj.explain(refs, trace);
        Ok(proj)
    }

    /// Resolves the projector from the scope, with the parameters it rests on.
    pub fn resolve(scope: &Scope) -> Result<(Projector, Vec<ParamRef>)> {
        let (calc_base, cb_r) = scope.money(param::PENSION_CALC_BASE)?;
        let (basic_rate, br_r) = scope.rate(param::PENSION_BASIC_RATE_PER_YEAR)?;
        let (crediting, cr_r) = scope.rate(param::PENSION_CREDITING_RATE_FUTURE)?;
        let (wage_growth, wg_r) = scope.rate(param::PROJECTION_WAGE_GROWTH)?;
        let (table, t_r) = scope.table(param::PENSION_PAYOUT_MONTHS)?;
        let (interp, i_r) = scope.flag(param::PENSION_PAYOUT_MONTHS_INTERPOLATE)?;
        let (min_months, mm_r) = scope.table(param::PENSION_MIN_MONTHS)?;
        let (basic_rounding, rb_r) = scope.rounding(param::ROUNDING_PENSION_BASIC)?;
        let (account_rounding, ra_r) = scope.rounding(param::ROUNDING_PENSION_ACCOUNT)?;
        let (projection_rounding, rp_r) = scope.rounding(param::ROUNDING_PENSION_PROJECTION)?;
        let mut payout = Vec::new();
        for age_m in PAYOUT_FIRST_AGE * 12..=70 * 12 {
            let (y, m) = (age_m / 12, age_m % 12);
            let at = |a: i64| table.iter().find(|(k, _)| *k == a).map(|(_, v)| *v);
            let here = at(y)
                .or_else(|| table.first().map(|(_, v)| *v))
                .unwrap_or(139);
            let tenths = if interp && m > 0 {
                let next = at(y + 1).unwrap_or(here);
                // Linear by month, to the tenth of a month, as 济南 does (60y1m → 138.4).
                let num = (here * 10) * 12 - (here - next) * 10 * m;
                (num * 2 + 12) / 24
            } else {
                here * 10
            };
            payout.push(tenths.max(1) as u32);
        }
        let mut rules = Vec::new();
        let mut rule_refs = Vec::new();
        for t in [Track::Male, Track::Female55, Track::Female50] {
            let (r, refs) = RetirementRule::load(scope, t)?;
            rules.push(r);
            rule_refs.extend(refs);
        }
        let refs = [
            vec![cb_r, br_r, t_r, i_r, mm_r, cr_r, wg_r, rb_r, ra_r, rp_r],
            rule_refs,
        ]
        .concat();
        Ok((
            Projector {
                calc_base,
                basic_rate,
                crediting,
                wage_growth,
                payout_tenths_by_age_month: payout,
                min_months,
                rules: [rules[0], rules[1], rules[2]],
                basic_rounding,
                account_rounding,
                projection_rounding,
            },
            refs,
        ))
    }

    /// The explanation of the parameters the projector uses.
    pub fn explain(&self, refs: Vec<ParamRef>, trace: &mut Trace) {
        let (basic_rounding, account_rounding) = (self.basic_rounding, self.account_rounding);
        trace.term("calc_base");
        trace.term("payout_months");
        trace.term("min_years");
        trace.step(
            format!(
                "用到的养老金参数：计发基数、每年 1% 的计发比例、计发月数表、最低缴费年限表、延迟退休办法、记账利率和工资增长的假设；基础养老金{}，个人账户养老金{}",
                rounding_zh(basic_rounding),
                rounding_zh(account_rounding)
            ),
            format!(
                "pension parameters used: calculation base, 1 % per year, payout-months table, minimum-years schedule, retirement-age schedule, the crediting and wage-growth assumptions; the basic pension is {}, the account pension {}",
                rounding_en(basic_rounding),
                rounding_en(account_rounding)
            ),
            refs,
        )
    }

    /// The first and last retirement ages (months) the payout table covers.
    pub fn payout_ages(&self) -> (i64, i64) {
        let first = PAYOUT_FIRST_AGE * 12;
        (
            first,
            first + self.payout_tenths_by_age_month.len() as i64 - 1,
        )
    }

    pub fn payout_tenths(&self, age_months: i64) -> u32 {
        let i = (age_months - PAYOUT_FIRST_AGE * 12)
            .clamp(0, self.payout_tenths_by_age_month.len() as i64 - 1);
        self.payout_tenths_by_age_month[i as usize]
    }

    /// The pension on the day of retirement, in fen a month: the basic pension
    /// (C + C × Z) / 2 × years × the yearly rate, with C the calculation base (the average
    /// wage), Z the average contribution index in basis points and years counted in months;
    /// and the account pension, the balance ÷ the payout months of the retirement age.
    /// [`Projector::project`] ends here, and so does the batch over population files.
    #[inline]
    pub fn at_retirement(
        &self,
        calc_base: i64,
        index_bps: i64,
        months: u32,
        balance: i64,
        age_months: i64,
    ) -> (i64, i64) {
        let basic = self
            .basic_rounding
            .apply(
                calc_base as i128
                    * (10_000 + index_bps) as i128
                    * months as i128
                    * self.basic_rate.0 as i128,
                20_000i128 * 12 * 10_000,
            )
            .0;
        let tenths = self.payout_tenths(age_months);
        let acct = div_round(self.account_rounding, balance * 10, tenths.max(1) as i64);
        (basic, acct)
    }

    /// The fewest months of contributions that give a pension to someone retiring in `year`.
    pub fn min_months_in(&self, year: i64) -> u32 {
        table_at_or_before(&self.min_months, year).unwrap_or(180) as u32
    }

    /// Projects one worker from `as_of` (a month index) to retirement. Integer arithmetic only;
    /// about 50 operations a year of horizon, so a population of millions takes seconds.
    pub fn project(&self, as_of: i32, w: &WorkerInput) -> WorkerOutcome {
        let rule = &self.rules[(w.track as usize).min(2)];
        let age = rule.age_months_at(w.birth);
        let retire_idx = w.birth as i64 + age;
        let horizon = (retire_idx - as_of as i64).max(0);
        let pay_until = (w.pay_until as i64).min(horizon);
        let pay_from = (w.pay_from as i64).min(pay_until);
        let future = (pay_until - pay_from) as u32;
        let total = w.paid_months + future;
        let retire_year = retire_idx.div_euclid(12);
        let min_months = self.min_months_in(retire_year);

        // Personal account, year by year: interest on the opening balance for the segment, and
        // half a segment's interest on the segment's contributions (they arrive through it).
        let r = self.crediting.0 as i64;
        let g = self.wage_growth.0 as i64;
        let mut bal = w.balance_fen;
        let mut contrib = w.monthly_account_fen;
        let mut cbase = self.calc_base.0;
        let pr = self.projection_rounding;
        let mut t = 0i64;
        while t < horizon {
            let len = (horizon - t).min(12);
            let paid = (pay_until.min(t + len) - pay_from.max(t)).max(0);
            let c = contrib * paid;
            if r != 0 {
                bal += div_round(pr, bal * r * len, 120_000) + div_round(pr, c * r * len, 240_000);
            }
            bal += c;
            t += len;
            if len == 12 && g != 0 {
                contrib += div_round(pr, contrib * g, 10_000);
                cbase += div_round(pr, cbase * g, 10_000);
            }
        }
        let z_num =
            w.past_tier_bps as i64 * w.paid_months as i64 + w.tier_bps as i64 * future as i64;
        let z = if total > 0 { z_num / total as i64 } else { 0 };
        let (basic, acct) = self.at_retirement(cbase, z, total, bal, age);
        WorkerOutcome {
            retirement_age_months: age as u32,
            future_months: future,
            total_months: total,
            min_months,
            balance_fen: bal,
            basic_fen: basic,
            account_pension_fen: acct,
            calc_base_at_retirement_fen: cbase,
        }
    }
}

/// The resident (urban-rural) pension compared beside the employee pension, resolved once.
#[derive(Clone, Debug)]
pub struct ResidentRule {
    pub tiers: Vec<Fen>,
    pub subsidy_low: Fen,
    pub subsidy_high: Fen,
    pub subsidy_high_from: Fen,
    pub basic: Fen,
    pub divisor: i64,
    pub min_months: i64,
    pub age: i64,
    pub rounding: Rounding,
    refs: Vec<ParamRef>,
}

impl ResidentRule {
    pub fn resolve(scope: &Scope) -> Result<ResidentRule> {
        let (tiers, tiers_r) = scope.money_list(param::RESIDENT_PENSION_TIERS)?;
        let (subsidy_low, sl_r) = scope.money(param::RESIDENT_PENSION_SUBSIDY_LOW)?;
        let (subsidy_high, sh_r) = scope.money(param::RESIDENT_PENSION_SUBSIDY_HIGH)?;
        let (subsidy_high_from, hf_r) = scope.money(param::RESIDENT_PENSION_SUBSIDY_HIGH_FROM)?;
        let (basic, rb_r) = scope.money(param::RESIDENT_PENSION_BASIC)?;
        let (divisor, rd_r) = scope.int(param::RESIDENT_PENSION_DIVISOR)?;
        let (min_months, rm_r) = scope.int(param::RESIDENT_PENSION_MIN_MONTHS)?;
        let (age, ra_r) = scope.int(param::RESIDENT_PENSION_AGE)?;
        let (rounding, rr_r) = scope.rounding(param::ROUNDING_RESIDENT_PENSION_ACCOUNT)?;
        Ok(ResidentRule {
            tiers,
            subsidy_low,
            subsidy_high,
            subsidy_high_from,
            basic,
            divisor,
            min_months,
            age,
            rounding,
            refs: vec![tiers_r, sl_r, sh_r, hf_r, rb_r, rd_r, rm_r, ra_r, rr_r],
        })
    }

    /// The government top-up for a yearly tier.
    pub fn subsidy(&self, tier: Fen) -> Fen {
        if tier >= self.subsidy_high_from {
            self.subsidy_high
        } else {
            self.subsidy_low
        }
    }

    /// The monthly resident pension after `years` whole years at `tier`, and whether those
    /// years are enough.
    pub fn pension(&self, tier: Fen, years: u32) -> (Fen, bool) {
        let account = (tier + self.subsidy(tier)) * years as i64;
        let eligible = (years as i64) * 12 >= self.min_months;
        if eligible {
            (
                self.basic + account.mul_ratio(1, self.divisor.max(1), self.rounding),
                true,
            )
        } else {
            (Fen::ZERO, false)
        }
    }
}

/// Everything a pension projection needs, resolved once from the scope (region, date,
/// reforms).
#[derive(Clone, Debug)]
pub struct PensionParams {
    pub region_code: String,
    pub region_zh: String,
    pub projector: Projector,
    projector_refs: Vec<ParamRef>,
    pub base: BaseRule,
    pub rates: RateRule,
    /// How contributions are rounded (`rounding.contribution`).
    pub rounding: Rounding,
    pub resident: ResidentRule,
}

impl PensionParams {
    pub fn resolve(scope: &Scope) -> Result<PensionParams> {
        let (projector, projector_refs) = Projector::resolve(scope)?;
        let base = BaseRule::resolve(scope)?;
        let rates = RateRule::resolve(scope)?;
        let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
        let resident = ResidentRule::resolve(scope)?;
        Ok(PensionParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            projector,
            projector_refs,
            base,
            rates,
            rounding,
            resident,
        })
    }

    /// The worker's state for one scenario, as the batch projection takes it: the same
    /// contribution rule as the quote, at the request's tier (or the scenario's).
    pub fn worker(
        &self,
        ask: &PensionAsk,
        horizon: u32,
        scenario: Scenario,
    ) -> Result<(WorkerInput, Fen)> {
        let own_basis = ask.basis(self.base.tier_min);
        let own_tier_bps = self
            .base
            .base(own_basis, ask.income)?
            .share_of(self.base.avg)
            .0;
        let basis = match scenario {
            Scenario::Tier(p) => BaseBasis::Tier(Bps(p.saturating_mul(100))),
            _ => own_basis,
        };
        let base = self.base.base(basis, ask.income)?;
        let (rate, account_rate) = self.rates.rates(ask.income)?;
        let monthly = base.times_rate(rate, self.rounding);
        let monthly_account = base.times_rate(account_rate, self.rounding);
        let tier_bps = base.share_of(self.base.avg).0;
        let (from, until) = match scenario {
            Scenario::Keep | Scenario::Tier(_) => (0, horizon),
            Scenario::StopAfter(n) => (0, n.min(horizon)),
            Scenario::Gap(n) => (n.min(horizon), horizon),
        };
        let past_tier_bps = if ask.paid_months == 0 {
            tier_bps
        } else {
            ask.past_tier_bps.unwrap_or(own_tier_bps)
        };
        Ok((
            WorkerInput {
                birth: ask.birth.index(),
                track: ask.track.index(),
                paid_months: ask.paid_months,
                past_tier_bps,
                balance_fen: ask.balance.0,
                monthly_account_fen: monthly_account.0,
                tier_bps,
                pay_from: from,
                pay_until: until,
            },
            monthly,
        ))
    }
}

/// A projection request, checked: what [`compute`] takes.
#[derive(Clone, Debug)]
pub struct PensionAsk {
    pub as_of: YearMonth,
    pub birth: YearMonth,
    pub track: Track,
    pub paid_months: u32,
    pub balance: Fen,
    /// The average tier of the months already paid, when given (basis points).
    pub past_tier_bps: Option<u32>,
    /// The tier (percent) or the base (fen) paid from now on; the lowest tier when neither.
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    pub income: Option<Fen>,
    pub transitional: Fen,
    pub resident_tier: Fen,
    pub scenarios: Vec<Scenario>,
}

impl PensionAsk {
    /// How the base paid from now on is asked for.
    pub fn basis(&self, tier_min: Bps) -> BaseBasis {
        BaseBasis::of(self.tier_percent, self.base_fen, false, tier_min)
    }

    /// Checks a request against what is possible (ages, months, amounts).
    pub fn of(req: &PensionRequest, as_of: YearMonth) -> Result<PensionAsk> {
        let birth = req.birth.ok_or_else(|| {
            Error::bad_input(
                "请提供出生年月（--birth 1990-05）",
                "give the birth month (--birth 1990-05)",
            )
        })?;
        let age_now = birth.months_until(as_of);
        if age_now < 16 * 12 {
            return Err(Error::bad_input(
                format!("出生年月 {birth} 不合理：到 {as_of} 还不满 16 岁，不能参加职工养老保险"),
                format!(
                    "birth month {birth} is impossible here: the person is under 16 on {as_of} and cannot join the employee pension"
                ),
            ));
        }
        if age_now > 100 * 12 {
            return Err(Error::bad_input(
                format!("出生年月 {birth} 不合理：已超过 100 岁"),
                format!("birth month {birth} is impossible here: over 100 years old"),
            ));
        }
        if req.paid_months as i32 > age_now - 16 * 12 {
            return Err(Error::bad_input(
                format!(
                    "已缴 {} 个月不可能：16 岁以来只有 {} 个月",
                    req.paid_months,
                    age_now - 16 * 12
                ),
                format!(
                    "{} months paid is impossible: only {} months have passed since age 16",
                    req.paid_months,
                    age_now - 16 * 12
                ),
            ));
        }
        if req.account_balance_fen < 0
            || req.transitional_fen < 0
            || req.account_balance_fen > 10_000_000_000
            || req.transitional_fen > 100_000_000
        {
            return Err(Error::bad_input(
                "账户余额和过渡性养老金不能为负数；余额不超过 1 亿元，过渡性养老金每月不超过 100 万元",
                "the account balance and transitional pension cannot be negative; the balance is at most 100 million yuan, the transitional pension at most 1 million yuan a month",
            ));
        }
        let scenarios = if req.scenarios.is_empty() {
            vec![Scenario::Keep, Scenario::StopAfter(12), Scenario::Tier(100)]
        } else {
            req.scenarios.clone()
        };
        Ok(PensionAsk {
            as_of,
            birth,
            track: req.track,
            paid_months: req.paid_months,
            balance: Fen(req.account_balance_fen),
            past_tier_bps: req.past_tier_percent.map(|p| p.min(300) * 100),
            tier_percent: req.tier_percent,
            base_fen: req.base_fen,
            income: req.income_fen.map(Fen),
            transitional: Fen(req.transitional_fen),
            resident_tier: Fen(req.resident_tier_fen.unwrap_or(50_000)),
            scenarios,
        })
    }
}

/// The figures of one scenario.
#[derive(Clone, Copy, Debug)]
pub struct ScenarioFigures {
    pub scenario: Scenario,
    pub worker: WorkerInput,
    pub outcome: WorkerOutcome,
    pub monthly: Fen,
    pub eligible: bool,
    pub basic: Fen,
    pub account: Fen,
    pub transitional: Fen,
    pub total: Fen,
    pub own_paid: Fen,
    pub payback_months: Option<u32>,
    pub resident_total: Fen,
    pub resident_eligible: bool,
}

/// The figures of a projection.
#[derive(Clone, Debug)]
pub struct PensionFigures {
    pub basis: BaseBasis,
    pub base: Fen,
    pub rate: Bps,
    pub monthly: Fen,
    pub age_months: i64,
    pub retirement: YearMonth,
    pub horizon: u32,
    pub payout_tenths: u32,
    pub resident_subsidy: Fen,
    pub scenarios: Vec<ScenarioFigures>,
}

/// The projection itself, with no explanation: every scenario goes through
/// [`Projector::project`], the function the batch projection runs for a population.
pub fn compute(p: &PensionParams, ask: &PensionAsk) -> Result<PensionFigures> {
    let basis = ask.basis(p.base.tier_min);
    let base = p.base.base(basis, ask.income)?;
    let (rate, _) = p.rates.rates(ask.income)?;
    let monthly = base.times_rate(rate, p.rounding);
    let rule = p.projector.rules[ask.track.index() as usize];
    let age = rule.age_months(ask.birth);
    let retirement = ask.birth.plus(age as i32);
    let horizon = ask.as_of.months_until(retirement).max(0) as u32;
    let payout_tenths = p.projector.payout_tenths(age);
    let res = &p.resident;
    if !res.tiers.contains(&ask.resident_tier) {
        let list: Vec<String> = res.tiers.iter().map(|t| t.to_string()).collect();
        let res_tier = ask.resident_tier;
        return Err(Error::bad_input(
            format!(
                "居民养老保险没有每年 {res_tier} 元这一档；可选：{}",
                list.join("、")
            ),
            format!(
                "the resident pension has no tier of {res_tier} yuan a year; choose one of {}",
                list.join(", ")
            ),
        ));
    }
    if ask.scenarios.len() > 8 {
        return Err(Error::bad_input(
            "最多同时比较 8 种情况",
            "at most 8 scenarios at once",
        ));
    }
    let mut scenarios = Vec::new();
    for &sc in &ask.scenarios {
        let (w, w_monthly) = p.worker(ask, horizon, sc)?;
        let o = p.projector.project(ask.as_of.index(), &w);
        let eligible = o.total_months >= o.min_months;
        let (basic, account) = if eligible {
            (Fen(o.basic_fen), Fen(o.account_pension_fen))
        } else {
            (Fen::ZERO, Fen::ZERO)
        };
        let transitional = if eligible {
            ask.transitional
        } else {
            Fen::ZERO
        };
        let total = basic + account + transitional;
        let own_paid = w_monthly * o.future_months as i64;
        // The resident pension for the same number of whole years.
        let (resident_total, resident_eligible) =
            res.pension(ask.resident_tier, o.total_months / 12);
        let payback_months = if total.0 > 0 {
            Some(((own_paid.0 + total.0 - 1) / total.0) as u32)
        } else {
            None
        };
        scenarios.push(ScenarioFigures {
            scenario: sc,
            worker: w,
            outcome: o,
            monthly: w_monthly,
            eligible,
            basic,
            account,
            transitional,
            total,
            own_paid,
            payback_months,
            resident_total,
            resident_eligible,
        });
    }
    Ok(PensionFigures {
        basis,
        base,
        rate,
        monthly,
        age_months: age,
        retirement,
        horizon,
        payout_tenths,
        resident_subsidy: res.subsidy(ask.resident_tier),
        scenarios,
    })
}

pub fn project(policy: &Policy, req: &PensionRequest, today: YearMonth) -> Result<PensionResult> {
    let as_of = req.as_of.unwrap_or(today);
    let scope = policy.scope(&req.region, as_of, &req.reforms)?;
    let ask = PensionAsk::of(req, as_of)?;
    let p = PensionParams::resolve(&scope)?;
    let f = compute(&p, &ask)?;
    Ok(explain(&p, &ask, &f))
}

/// The result of a projection, with its explanation, from the parameters and the figures.
pub fn explain(p: &PensionParams, ask: &PensionAsk, f: &PensionFigures) -> PensionResult {
    let mut trace = Trace::default();
    let mut notes = Vec::new();
    let (birth, age, retire, horizon, tenths) = (
        ask.birth,
        f.age_months,
        f.retirement,
        f.horizon,
        f.payout_tenths,
    );
    p.projector.explain(p.projector_refs.clone(), &mut trace);
    p.base.explain(f.basis, f.base, ask.income, &mut trace);
    p.rates.explain(ask.income, f.rate, &mut trace);
    trace.step(
        format!("按渐进式延迟退休办法，{birth} 出生的{}，法定退休年龄是 {} 岁 {} 个月，{retire} 退休；从现在算还有 {horizon} 个月", track_zh(ask.track), age / 12, age % 12),
        format!("under the progressive retirement-age reform, a {} born {birth} retires at {} years {} months, in {retire}; {horizon} months from now", track_en(ask.track), age / 12, age % 12),
        vec![],
    );
    if horizon == 0 {
        notes.push(Note::new(
            "已经到了法定退休年龄，只按已经缴费的月数计算",
            "already at the statutory retirement age: only the months already paid count",
        ));
    }
    let res = &p.resident;
    let (res_tier, res_sub, res_age, res_basic, res_div) = (
        ask.resident_tier,
        f.resident_subsidy,
        res.age,
        res.basic,
        res.divisor,
    );
    trace.term("resident_pension");
    trace.step(
        format!("对比城乡居民养老保险：每年交 {res_tier} 元，政府补 {res_sub} 元；{res_age} 岁起每月领基础养老金 {res_basic} 元加个人账户 ÷ {res_div}，至少交满 {} 年", res.min_months / 12),
        format!("compared with the resident pension: {res_tier} yuan a year plus a {res_sub} yuan top-up; from age {res_age}, a basic {res_basic} yuan a month plus the account ÷ {res_div}, after at least {} years", res.min_months / 12),
        res.refs.clone(),
    );
    let mut results = Vec::new();
    for s in &f.scenarios {
        let (o, w) = (&s.outcome, &s.worker);
        let (basic, acct, total) = (s.basic, s.account, s.total);
        let (zh, en) = s.scenario.labels();
        trace.step(
            if s.eligible {
                format!("【{zh}】共缴 {} 个月（最低要 {} 个月）。基础养老金 = 计发基数 {} 元 ×（1 + 平均档次 {}）÷ 2 × {} 年 × 1% = {basic} 元；个人账户到退休时约 {} 元，÷ 计发月数 {}.{} = {acct} 元；合计每月 {total} 元", o.total_months, o.min_months, Fen(o.calc_base_at_retirement_fen), Bps(((w.past_tier_bps as u64 * w.paid_months as u64 + w.tier_bps as u64 * o.future_months as u64) / (o.total_months.max(1) as u64)) as u32), fmt_years(o.total_months), Fen(o.balance_fen), tenths / 10, tenths % 10)
            } else {
                format!("【{zh}】共缴 {} 个月，不到最低 {} 个月，差 {} 个月：到退休年龄时不能按月领职工养老金，可以延长缴费或一次性补足，或转入城乡居民养老保险", o.total_months, o.min_months, o.min_months - o.total_months)
            },
            if s.eligible {
                format!("[{en}] {} months paid in all (minimum {}). Basic pension = base {} × (1 + average tier) ÷ 2 × {} years × 1 % = {basic} yuan; the account reaches about {} yuan, ÷ {}.{} payout months = {acct} yuan; {total} yuan a month in all", o.total_months, o.min_months, Fen(o.calc_base_at_retirement_fen), fmt_years(o.total_months), Fen(o.balance_fen), tenths / 10, tenths % 10)
            } else {
                format!("[{en}] {} months paid, {} short of the minimum {}: no monthly employee pension at retirement age without paying on or a lump sum, or a transfer to the resident scheme", o.total_months, o.min_months - o.total_months, o.min_months)
            },
            vec![],
        );
        results.push(ScenarioResult {
            scenario: s.scenario,
            label_zh: zh,
            label_en: en,
            future_months: o.future_months,
            total_months: o.total_months,
            min_months: o.min_months,
            eligible: s.eligible,
            shortfall_months: o.min_months.saturating_sub(o.total_months),
            account_balance_fen: Fen(o.balance_fen),
            basic_fen: basic,
            account_pension_fen: acct,
            transitional_fen: s.transitional,
            total_fen: total,
            replacement_bps: total.share_of(Fen(o.calc_base_at_retirement_fen)),
            own_replacement_bps: ask.income.filter(|i| i.0 > 0).map(|i| total.share_of(i)),
            own_paid_fen: s.own_paid,
            payback_months: s.payback_months,
            resident_total_fen: s.resident_total,
            resident_eligible: s.resident_eligible,
        });
    }
    trace.term("basic_pension");
    trace.term("indexed_wage");
    trace.term("account");
    trace.term("replacement");
    notes.push(Note::new(
        "金额按今天的钱计算（工资增长和今后记账利率按参数文件中的假设），实际领取时会随工资上涨",
        "amounts are in today's money (wage growth and future crediting follow the assumptions in the parameter files); real amounts rise with wages",
    ));
    PensionResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        as_of: ask.as_of,
        birth,
        track: ask.track,
        retirement_age_months: age as u32,
        retirement_month: retire,
        payout_months_tenths: tenths,
        calc_base_fen: p.projector.calc_base,
        monthly_contribution_fen: f.monthly,
        resident_tier_fen: res_tier,
        resident_age: res_age as u32,
        scenarios: results,
        notes,
        trace,
    }
}

fn fmt_years(months: u32) -> String {
    if months.is_multiple_of(12) {
        format!("{}", months / 12)
    } else {
        format!("{}又{}/12", months / 12, months % 12)
    }
}

fn track_zh(t: Track) -> &'static str {
    match t {
        Track::Male => "男性",
        Track::Female55 => "女性（原 55 岁退休）",
        Track::Female50 => "女性（原 50 岁退休）",
    }
}
fn track_en(t: Track) -> &'static str {
    match t {
        Track::Male => "man",
        Track::Female55 => "woman (originally 55)",
        Track::Female50 => "woman (originally 50)",
    }
}

/// How a rounding reads in an explanation.
pub(crate) fn rounding_zh(r: Rounding) -> &'static str {
    match r {
        Rounding::HalfUpFen => "四舍五入到分",
        Rounding::HalfUpJiao => "四舍五入到角",
        Rounding::HalfUpYuan => "四舍五入到元",
        Rounding::TruncateFen => "舍去分以下",
    }
}
pub(crate) fn rounding_en(r: Rounding) -> &'static str {
    match r {
        Rounding::HalfUpFen => "rounded half up to the fen",
        Rounding::HalfUpJiao => "rounded half up to 0.1 yuan",
        Rounding::HalfUpYuan => "rounded half up to the yuan",
        Rounding::TruncateFen => "truncated at the fen",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn account_pension_of_the_issue_is_rounded_half_up() {
        // Issue 11: 138,096.30 yuan over 138.4 payout months = 997.8055… → 997.81, not 997.80.
        assert_eq!(
            div_round(Rounding::HalfUpFen, 13_809_630 * 10, 1384),
            99_781
        );
        assert_eq!(
            div_round(Rounding::TruncateFen, 13_809_630 * 10, 1384),
            99_780
        );
        // Exactly half a fen goes up; just below stays.
        assert_eq!(div_round(Rounding::HalfUpFen, 9_999_995, 170), 58_824);
        assert_eq!(div_round(Rounding::HalfUpFen, 9_999_994, 170), 58_823);
    }

    #[test]
    fn projector_rounds_the_issue_example_half_up() {
        // Issue 11: a man of 60 years 1 month (born 1965-01, retiring 2025-02) with 138,096.30
        // yuan in his account and 济南's 138.4 payout months draws 997.81 a month, not 997.80.
        let policy = Policy::embedded().unwrap();
        let as_of = YearMonth::new(2025, 2).unwrap();
        let scope = policy.scope("330000", as_of, &[]).unwrap();
        let (mut proj, _) = Projector::resolve(&scope).unwrap();
        assert_eq!(proj.account_rounding, Rounding::HalfUpFen);
        // 济南 interpolates by month (pension.payout_months.interpolate); set 60y1m as it does.
        proj.payout_tenths_by_age_month[(60 * 12 + 1 - PAYOUT_FIRST_AGE * 12) as usize] = 1384;
        let birth = YearMonth::new(1965, 1).unwrap();
        let w = WorkerInput {
            birth: birth.index(),
            track: 0,
            paid_months: 180,
            past_tier_bps: 10_000,
            balance_fen: 13_809_630,
            ..WorkerInput::default()
        };
        let o = proj.project(as_of.index(), &w);
        assert_eq!((o.retirement_age_months, o.future_months), (721, 0));
        assert_eq!(o.account_pension_fen, 99_781);
        proj.account_rounding = Rounding::TruncateFen;
        assert_eq!(proj.project(as_of.index(), &w).account_pension_fen, 99_780);
    }

    proptest! {
        #[test]
        fn div_round_is_rounding_apply(n in any::<i64>(), d in any::<i64>()) {
            let d = if d == 0 { 1 } else { d };
            for r in Rounding::ALL {
                prop_assert_eq!(div_round(r, n, d), r.apply(n as i128, d as i128).0);
            }
        }
    }
}
