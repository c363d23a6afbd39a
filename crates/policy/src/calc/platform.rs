//! C5 — what a platform pays for N workers: contributions, the tax deduction (1.5× under the
//! super-deduction reform), the immediate refund for small platforms, and union dues.

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::quote::{BaseBasis, BaseRule, RateRule};
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::param;
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformRequest {
    pub region: String,
    pub month: Option<YearMonth>,
    pub workers: u32,
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    /// Share of each worker's contribution the platform pays, percent (default 100).
    pub platform_share_percent: Option<u32>,
    /// Average monthly pay per worker (fen), for union dues.
    pub avg_pay_fen: Option<i64>,
    /// Annual revenue (fen), for the immediate-refund threshold.
    pub annual_revenue_fen: Option<i64>,
    pub reforms: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlatformResult {
    pub region_code: String,
    pub region_zh: String,
    pub workers: u32,
    pub per_worker_monthly_fen: Fen,
    pub platform_monthly_fen: Fen,
    pub platform_annual_fen: Fen,
    pub deduction_annual_fen: Fen,
    pub tax_saving_annual_fen: Fen,
    /// Saving beyond an ordinary 1× deduction.
    pub extra_saving_annual_fen: Fen,
    pub refund_immediately: bool,
    pub union_dues_annual_fen: Fen,
    pub net_annual_cost_fen: Fen,
    pub trace: Trace,
}

pub const MAX_WORKERS: u32 = 20_000_000;

/// Everything a platform quote needs, resolved once from the scope.
#[derive(Clone, Debug)]
pub struct PlatformParams {
    pub region_code: String,
    pub region_zh: String,
    pub base: BaseRule,
    pub rates: RateRule,
    pub rounding: Rounding,
    pub deduction_multiplier: (i64, i64),
    pub cit_rate: Bps,
    /// How the deduction and the tax saving are rounded (`rounding.tax`).
    pub tax_rounding: Rounding,
    pub refund_revenue_limit: Fen,
    pub union_dues_rate: Bps,
    refs: PlatformRefs,
}

#[derive(Clone, Debug)]
struct PlatformRefs {
    multiplier: ParamRef,
    cit: ParamRef,
    tax_rounding: ParamRef,
    limit: ParamRef,
    dues: ParamRef,
}

impl PlatformParams {
    pub fn resolve(scope: &Scope) -> Result<PlatformParams> {
        let base = BaseRule::resolve(scope)?;
        let rates = RateRule::resolve(scope)?;
        let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
        let (deduction_multiplier, multiplier) =
            scope.ratio(param::PLATFORM_DEDUCTION_MULTIPLIER)?;
        let (cit_rate, cit) = scope.rate(param::PLATFORM_CIT_RATE)?;
        let (tax_rounding, tax_rounding_r) = scope.rounding(param::ROUNDING_TAX)?;
        let (refund_revenue_limit, limit) = scope.money(param::PLATFORM_REFUND_REVENUE_LIMIT)?;
        let (union_dues_rate, dues) = scope.rate(param::UNION_DUES_RATE)?;
        Ok(PlatformParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            base,
            rates,
            rounding,
            deduction_multiplier,
            cit_rate,
            tax_rounding,
            refund_revenue_limit,
            union_dues_rate,
            refs: PlatformRefs {
                multiplier,
                cit,
                tax_rounding: tax_rounding_r,
                limit,
                dues,
            },
        })
    }
}

/// The figures of a platform quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformFigures {
    pub basis: BaseBasis,
    pub base: Fen,
    pub share_percent: u32,
    pub per_worker: Fen,
    pub platform_per_worker: Fen,
    pub monthly: Fen,
    pub annual: Fen,
    pub deduction: Fen,
    pub saving: Fen,
    pub plain_saving: Fen,
    pub refund: bool,
    pub dues: Option<Fen>,
}

/// Checks a request's counts and shares.
fn check(req: &PlatformRequest) -> Result<()> {
    if req.workers == 0 || req.workers > MAX_WORKERS {
        return Err(Error::bad_input(
            format!("从业人员人数要在 1 到 {MAX_WORKERS} 之间"),
            format!("the number of workers must be 1 to {MAX_WORKERS}"),
        ));
    }
    let share = req.platform_share_percent.unwrap_or(100);
    if share > 100 {
        return Err(Error::bad_input(
            "平台承担比例在 0 到 100% 之间",
            "the platform's share is 0 to 100 %",
        ));
    }
    Ok(())
}

/// The platform's cost, with no explanation.
pub fn compute(p: &PlatformParams, req: &PlatformRequest) -> Result<PlatformFigures> {
    check(req)?;
    let share = req.platform_share_percent.unwrap_or(100);
    let basis = BaseBasis::of(req.tier_percent, req.base_fen, false, p.base.tier_min);
    let base = p.base.base(basis, None)?;
    let (rate, _) = p.rates.rates(None)?;
    let per_worker = base.times_rate(rate, p.rounding);
    let platform_per_worker = per_worker.mul_ratio(share as i64, 100, p.rounding);
    let monthly = platform_per_worker * req.workers as i64;
    let annual = monthly * 12;
    let (mn, md) = p.deduction_multiplier;
    let deduction = annual.mul_ratio(mn, md, p.tax_rounding);
    let saving = deduction.times_rate(p.cit_rate, p.tax_rounding);
    let plain_saving = annual.times_rate(p.cit_rate, p.tax_rounding);
    let limit = p.refund_revenue_limit;
    let refund = limit > Fen::ZERO
        && req
            .annual_revenue_fen
            .is_some_and(|r| r >= 0 && Fen(r) < limit);
    let dues = match req.avg_pay_fen {
        Some(pay) if (0..=1_000_000_000).contains(&pay) => {
            Some((Fen(pay) * req.workers as i64 * 12).times_rate(p.union_dues_rate, p.rounding))
        }
        Some(_) => {
            return Err(Error::bad_input(
                "平均月工资要在 0 到 1000 万元之间",
                "average monthly pay must be between 0 and 10 million yuan",
            ));
        }
        None => None,
    };
    Ok(PlatformFigures {
        basis,
        base,
        share_percent: share,
        per_worker,
        platform_per_worker,
        monthly,
        annual,
        deduction,
        saving,
        plain_saving,
        refund,
        dues,
    })
}

pub fn platform(
    policy: &Policy,
    req: &PlatformRequest,
    today: YearMonth,
) -> Result<PlatformResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    check(req)?;
    let p = PlatformParams::resolve(&scope)?;
    let f = compute(&p, req)?;
    Ok(explain(&p, req, &f))
}

/// The result with its explanation, from the parameters and the figures.
pub fn explain(p: &PlatformParams, req: &PlatformRequest, f: &PlatformFigures) -> PlatformResult {
    let mut trace = Trace::default();
    p.base.explain(f.basis, f.base, None, &mut trace);
    let (per_worker, share, platform_pw, annual) = (
        f.per_worker,
        f.share_percent,
        f.platform_per_worker,
        f.annual,
    );
    trace.step(
        format!("每人每月养老保险费 {per_worker} 元，平台承担 {share}% 即 {platform_pw} 元；{} 人每年共 {annual} 元", req.workers),
        format!("{per_worker} yuan per worker a month, the platform pays {share}% = {platform_pw} yuan; {} workers cost {annual} yuan a year", req.workers),
        vec![],
    );
    let ((mn, md), cit, deduction, saving, plain_saving) = (
        p.deduction_multiplier,
        p.cit_rate,
        f.deduction,
        f.saving,
        f.plain_saving,
    );
    trace.term("super_deduction");
    trace.step(
        format!("算企业所得税时，每交 1 元可扣除 {mn}/{md} 元：共扣除 {deduction} 元，按税率 {cit} 少交税 {saving} 元（比普通扣除多省 {} 元）", saving - plain_saving),
        format!("for corporate income tax each yuan paid deducts {mn}/{md} yuan: {deduction} yuan deducted, saving {saving} yuan at {cit} ({} more than a plain deduction)", saving - plain_saving),
        vec![p.refs.multiplier.clone(), p.refs.cit.clone(), p.refs.tax_rounding.clone()],
    );
    let limit = p.refund_revenue_limit;
    if limit > Fen::ZERO {
        trace.term("refund");
        trace.step(
            if f.refund { format!("年营业收入低于 {limit} 元，这部分税收优惠即征即退，不用等年底") } else { format!("年营业收入不低于 {limit} 元（或未提供），不享受即征即退") },
            if f.refund { format!("annual revenue under {limit} yuan: the benefit is refunded at once, not at year end") } else { format!("annual revenue not under {limit} yuan (or not given): no immediate refund") },
            vec![p.refs.limit.clone()],
        );
    }
    let dues_rate = p.union_dues_rate;
    if let Some(dues) = f.dues {
        trace.step(
            format!("工会经费 = 工资总额 × {dues_rate} = 每年 {dues} 元"),
            format!("union dues = payroll × {dues_rate} = {dues} yuan a year"),
            vec![p.refs.dues.clone()],
        );
    }
    let dues = f.dues.unwrap_or_default();
    PlatformResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        workers: req.workers,
        per_worker_monthly_fen: per_worker,
        platform_monthly_fen: f.monthly,
        platform_annual_fen: annual,
        deduction_annual_fen: deduction,
        tax_saving_annual_fen: saving,
        extra_saving_annual_fen: saving - plain_saving,
        refund_immediately: f.refund,
        union_dues_annual_fen: dues,
        net_annual_cost_fen: annual + dues - saving,
        trace,
    }
}
