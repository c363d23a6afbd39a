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
use crate::calc::quote::{choose_base, pension_rate};
use crate::error::{Error, Result};
use crate::load::Policy;
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
    fn key(self) -> &'static str {
        match self {
            Track::Male => "male",
            Track::Female55 => "female55",
            Track::Female50 => "female50",
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
        let k = |s: &str| format!("retirement.{}.{s}", track.key());
        let (age, r1) = scope.int(&k("original_age"))?;
        let (cohort, r2) = scope.int(&k("first_cohort"))?;
        let (step, r3) = scope.int(&k("step_months"))?;
        let (max, r4) = scope.int(&k("max_delay_months"))?;
        let first_cohort = YearMonth::new((cohort / 100) as i32, (cohort % 100) as u32)
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::PolicyFiles,
                    format!("{} 不是年月", k("first_cohort")),
                    format!("{} is not a yyyymm month", k("first_cohort")),
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
    pub fn load(scope: &Scope, trace: &mut Trace) -> Result<Projector> {
        let (calc_base, cb_r) = scope.money("pension.calc_base")?;
        let (basic_rate, br_r) = scope.rate("pension.basic_rate_per_year")?;
        let (crediting, cr_r) = scope.rate("pension.crediting_rate.future")?;
        let (wage_growth, wg_r) = scope.rate("projection.wage_growth")?;
        let (table, t_r) = scope.table("pension.payout_months")?;
        let (interp, i_r) = scope.flag("pension.payout_months.interpolate")?;
        let (min_months, mm_r) = scope.table("pension.min_months")?;
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
        trace.term("calc_base");
        trace.term("payout_months");
        trace.term("min_years");
        trace.step(
            "用到的养老金参数：计发基数、每年 1% 的计发比例、计发月数表、最低缴费年限表、延迟退休办法，以及记账利率和工资增长的假设",
            "pension parameters used: calculation base, 1 % per year, payout-months table, minimum-years schedule, retirement-age schedule, and the crediting and wage-growth assumptions",
            [vec![cb_r, br_r, t_r, i_r, mm_r, cr_r, wg_r], rule_refs].concat(),
        );
        Ok(Projector {
            calc_base,
            basic_rate,
            crediting,
            wage_growth,
            payout_tenths_by_age_month: payout,
            min_months,
            rules: [rules[0], rules[1], rules[2]],
        })
    }

    pub fn payout_tenths(&self, age_months: i64) -> u32 {
        let i = (age_months - PAYOUT_FIRST_AGE * 12)
            .clamp(0, self.payout_tenths_by_age_month.len() as i64 - 1);
        self.payout_tenths_by_age_month[i as usize]
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
        let min_months = table_at_or_before(&self.min_months, retire_year).unwrap_or(180) as u32;

        // Personal account, year by year: interest on the opening balance for the segment, and
        // half a segment's interest on the segment's contributions (they arrive through it).
        let r = self.crediting.0 as i64;
        let g = self.wage_growth.0 as i64;
        let mut bal = w.balance_fen;
        let mut contrib = w.monthly_account_fen;
        let mut cbase = self.calc_base.0;
        let mut t = 0i64;
        while t < horizon {
            let len = (horizon - t).min(12);
            let paid = (pay_until.min(t + len) - pay_from.max(t)).max(0);
            let c = contrib * paid;
            bal += bal * r * len / 120_000 + c + c * r * len / 240_000;
            t += len;
            if len == 12 && g != 0 {
                contrib += contrib * g / 10_000;
                cbase += cbase * g / 10_000;
            }
        }
        // Basic pension: (C + C × Z) / 2 × years × 1 %, with Z the average tier.
        let z_num =
            w.past_tier_bps as i64 * w.paid_months as i64 + w.tier_bps as i64 * future as i64;
        let z = if total > 0 { z_num / total as i64 } else { 0 };
        let basic =
            (cbase as i128 * (10_000 + z) as i128 * total as i128 * self.basic_rate.0 as i128)
                / (20_000i128 * 12 * 10_000);
        let tenths = self.payout_tenths(age);
        let acct = bal as i128 * 10 / tenths.max(1) as i128;
        WorkerOutcome {
            retirement_age_months: age as u32,
            future_months: future,
            total_months: total,
            min_months,
            balance_fen: bal,
            basic_fen: basic as i64,
            account_pension_fen: acct as i64,
            calc_base_at_retirement_fen: cbase,
        }
    }
}

pub fn project(policy: &Policy, req: &PensionRequest, today: YearMonth) -> Result<PensionResult> {
    let as_of = req.as_of.unwrap_or(today);
    let scope = policy.scope(&req.region, as_of, &req.reforms)?;
    let mut trace = Trace::default();
    let mut notes = Vec::new();
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
    let income = req.income_fen.map(Fen);
    let proj = Projector::load(&scope, &mut trace)?;
    let bc = choose_base(
        &scope,
        req.tier_percent,
        req.base_fen,
        false,
        income,
        &mut trace,
    )?;
    let (rate, account_rate, _) = pension_rate(&scope, income, &mut trace)?;
    let (rounding, _) = scope.rounding("rounding.contribution")?;
    let monthly = bc.base.times_rate(rate, rounding);
    let monthly_account = bc.base.times_rate(account_rate, rounding);
    let tier_bps = bc.base.share_of(bc.avg).0;
    let past_tier_bps = req
        .past_tier_percent
        .map(|p| p.min(300) * 100)
        .unwrap_or(tier_bps);

    let track_idx = match req.track {
        Track::Male => 0,
        Track::Female55 => 1,
        Track::Female50 => 2,
    };
    let rule = proj.rules[track_idx as usize];
    let age = rule.age_months(birth);
    let retire = birth.plus(age as i32);
    let horizon = as_of.months_until(retire).max(0) as u32;
    trace.step(
        format!("按渐进式延迟退休办法，{birth} 出生的{}，法定退休年龄是 {} 岁 {} 个月，{retire} 退休；从现在算还有 {horizon} 个月", track_zh(req.track), age / 12, age % 12),
        format!("under the progressive retirement-age reform, a {} born {birth} retires at {} years {} months, in {retire}; {horizon} months from now", track_en(req.track), age / 12, age % 12),
        vec![],
    );
    if horizon == 0 {
        notes.push(Note::new(
            "已经到了法定退休年龄，只按已经缴费的月数计算",
            "already at the statutory retirement age: only the months already paid count",
        ));
    }
    let tenths = proj.payout_tenths(age);

    // Resident pension beside it.
    let (tiers, tiers_r) = scope.money_list("resident_pension.tiers")?;
    let res_tier = Fen(req.resident_tier_fen.unwrap_or(50_000));
    if !tiers.contains(&res_tier) {
        let list: Vec<String> = tiers.iter().map(|t| t.to_string()).collect();
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
    let (sub_low, sl_r) = scope.money("resident_pension.subsidy_low")?;
    let (sub_high, sh_r) = scope.money("resident_pension.subsidy_high")?;
    let (high_from, hf_r) = scope.money("resident_pension.subsidy_high_from")?;
    let (res_basic, rb_r) = scope.money("resident_pension.basic")?;
    let (res_div, rd_r) = scope.int("resident_pension.divisor")?;
    let (res_min, rm_r) = scope.int("resident_pension.min_months")?;
    let (res_age, ra_r) = scope.int("resident_pension.age")?;
    let res_sub = if res_tier >= high_from {
        sub_high
    } else {
        sub_low
    };
    trace.term("resident_pension");
    trace.step(
        format!("对比城乡居民养老保险：每年交 {res_tier} 元，政府补 {res_sub} 元；{res_age} 岁起每月领基础养老金 {res_basic} 元加个人账户 ÷ {res_div}，至少交满 {} 年", res_min / 12),
        format!("compared with the resident pension: {res_tier} yuan a year plus a {res_sub} yuan top-up; from age {res_age}, a basic {res_basic} yuan a month plus the account ÷ {res_div}, after at least {} years", res_min / 12),
        vec![tiers_r, sl_r, sh_r, hf_r, rb_r, rd_r, rm_r, ra_r],
    );

    let scenarios = if req.scenarios.is_empty() {
        vec![Scenario::Keep, Scenario::StopAfter(12), Scenario::Tier(100)]
    } else {
        req.scenarios.clone()
    };
    if scenarios.len() > 8 {
        return Err(Error::bad_input(
            "最多同时比较 8 种情况",
            "at most 8 scenarios at once",
        ));
    }
    let mut results = Vec::new();
    for sc in scenarios {
        let (mut w_tier, mut w_monthly, mut w_account) = (tier_bps, monthly, monthly_account);
        let (from, until) = match sc {
            Scenario::Keep => (0, horizon),
            Scenario::StopAfter(n) => (0, n.min(horizon)),
            Scenario::Gap(n) => (n.min(horizon), horizon),
            Scenario::Tier(p) => {
                let mut t2 = Trace::default();
                let b2 = choose_base(&scope, Some(p), None, false, income, &mut t2)?;
                w_tier = b2.base.share_of(b2.avg).0;
                w_monthly = b2.base.times_rate(rate, rounding);
                w_account = b2.base.times_rate(account_rate, rounding);
                (0, horizon)
            }
        };
        let w = WorkerInput {
            birth: birth.index(),
            track: track_idx,
            paid_months: req.paid_months,
            past_tier_bps: if req.paid_months == 0 {
                w_tier
            } else {
                past_tier_bps
            },
            balance_fen: req.account_balance_fen,
            monthly_account_fen: w_account.0,
            tier_bps: w_tier,
            pay_from: from,
            pay_until: until,
        };
        let o = proj.project(as_of.index(), &w);
        let eligible = o.total_months >= o.min_months;
        let transitional = Fen(req.transitional_fen);
        let (basic, acct) = if eligible {
            (Fen(o.basic_fen), Fen(o.account_pension_fen))
        } else {
            (Fen::ZERO, Fen::ZERO)
        };
        let total = if eligible {
            basic + acct + transitional
        } else {
            Fen::ZERO
        };
        let own_paid = w_monthly * o.future_months as i64;
        // The resident pension for the same number of whole years.
        let years = o.total_months / 12;
        let per_year = res_tier + res_sub;
        let res_account = per_year * years as i64;
        let res_eligible = (years as i64) * 12 >= res_min;
        let res_total = if res_eligible {
            res_basic + res_account.mul_ratio(1, res_div.max(1), Rounding::HalfUpFen)
        } else {
            Fen::ZERO
        };
        let (zh, en) = sc.labels();
        trace.step(
            if eligible {
                format!("【{zh}】共缴 {} 个月（最低要 {} 个月）。基础养老金 = 计发基数 {} 元 ×（1 + 平均档次 {}）÷ 2 × {} 年 × 1% = {basic} 元；个人账户到退休时约 {} 元，÷ 计发月数 {}.{} = {acct} 元；合计每月 {total} 元", o.total_months, o.min_months, Fen(o.calc_base_at_retirement_fen), Bps(((w.past_tier_bps as u64 * w.paid_months as u64 + w.tier_bps as u64 * o.future_months as u64) / (o.total_months.max(1) as u64)) as u32), fmt_years(o.total_months), Fen(o.balance_fen), tenths / 10, tenths % 10)
            } else {
                format!("【{zh}】共缴 {} 个月，不到最低 {} 个月，差 {} 个月：到退休年龄时不能按月领职工养老金，可以延长缴费或一次性补足，或转入城乡居民养老保险", o.total_months, o.min_months, o.min_months - o.total_months)
            },
            if eligible {
                format!("[{en}] {} months paid in all (minimum {}). Basic pension = base {} × (1 + average tier) ÷ 2 × {} years × 1 % = {basic} yuan; the account reaches about {} yuan, ÷ {}.{} payout months = {acct} yuan; {total} yuan a month in all", o.total_months, o.min_months, Fen(o.calc_base_at_retirement_fen), fmt_years(o.total_months), Fen(o.balance_fen), tenths / 10, tenths % 10)
            } else {
                format!("[{en}] {} months paid, {} short of the minimum {}: no monthly employee pension at retirement age without paying on or a lump sum, or a transfer to the resident scheme", o.total_months, o.min_months - o.total_months, o.min_months)
            },
            vec![],
        );
        let payback = if total.0 > 0 {
            Some(((own_paid.0 + total.0 - 1) / total.0) as u32)
        } else {
            None
        };
        results.push(ScenarioResult {
            scenario: sc,
            label_zh: zh,
            label_en: en,
            future_months: o.future_months,
            total_months: o.total_months,
            min_months: o.min_months,
            eligible,
            shortfall_months: o.min_months.saturating_sub(o.total_months),
            account_balance_fen: Fen(o.balance_fen),
            basic_fen: basic,
            account_pension_fen: acct,
            transitional_fen: if eligible { transitional } else { Fen::ZERO },
            total_fen: total,
            replacement_bps: total.share_of(Fen(o.calc_base_at_retirement_fen)),
            own_replacement_bps: income.filter(|i| i.0 > 0).map(|i| total.share_of(i)),
            own_paid_fen: own_paid,
            payback_months: payback,
            resident_total_fen: res_total,
            resident_eligible: res_eligible,
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
    Ok(PensionResult {
        region_code: scope.region.code.to_string(),
        region_zh: scope.region.name_zh.clone(),
        as_of,
        birth,
        track: req.track,
        retirement_age_months: age as u32,
        retirement_month: retire,
        payout_months_tenths: tenths,
        calc_base_fen: proj.calc_base,
        monthly_contribution_fen: monthly,
        resident_tier_fen: res_tier,
        resident_age: res_age as u32,
        scenarios: results,
        notes,
        trace,
    })
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
