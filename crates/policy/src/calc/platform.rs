//! C5 — what a platform pays for N workers: contributions, the tax deduction (1.5× under the
//! super-deduction reform), the immediate refund for small platforms, and union dues.

use anxin_domain::{Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::quote::{choose_base, pension_rate};
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::param;
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

pub fn platform(
    policy: &Policy,
    req: &PlatformRequest,
    today: YearMonth,
) -> Result<PlatformResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
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
    let mut trace = Trace::default();
    let bc = choose_base(
        &scope,
        req.tier_percent,
        req.base_fen,
        false,
        None,
        &mut trace,
    )?;
    let (rate, _, _) = pension_rate(&scope, None, &mut trace)?;
    let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
    let per_worker = bc.base.times_rate(rate, rounding);
    let platform_pw = per_worker.mul_ratio(share as i64, 100, rounding);
    let monthly = platform_pw * req.workers as i64;
    let annual = monthly * 12;
    trace.step(
        format!("每人每月养老保险费 {per_worker} 元，平台承担 {share}% 即 {platform_pw} 元；{} 人每年共 {annual} 元", req.workers),
        format!("{per_worker} yuan per worker a month, the platform pays {share}% = {platform_pw} yuan; {} workers cost {annual} yuan a year", req.workers),
        vec![],
    );
    let ((mn, md), m_r) = scope.ratio(param::PLATFORM_DEDUCTION_MULTIPLIER)?;
    let (cit, cit_r) = scope.rate(param::PLATFORM_CIT_RATE)?;
    let deduction = annual.mul_ratio(mn, md, Rounding::TruncateFen);
    let saving = deduction.times_rate(cit, Rounding::TruncateFen);
    let plain_saving = annual.times_rate(cit, Rounding::TruncateFen);
    trace.term("super_deduction");
    trace.step(
        format!("算企业所得税时，每交 1 元可扣除 {mn}/{md} 元：共扣除 {deduction} 元，按税率 {cit} 少交税 {saving} 元（比普通扣除多省 {} 元）", saving - plain_saving),
        format!("for corporate income tax each yuan paid deducts {mn}/{md} yuan: {deduction} yuan deducted, saving {saving} yuan at {cit} ({} more than a plain deduction)", saving - plain_saving),
        vec![m_r, cit_r],
    );
    let (limit, l_r) = scope.money(param::PLATFORM_REFUND_REVENUE_LIMIT)?;
    let refund = limit > Fen::ZERO
        && req
            .annual_revenue_fen
            .is_some_and(|r| r >= 0 && Fen(r) < limit);
    if limit > Fen::ZERO {
        trace.term("refund");
        trace.step(
            if refund { format!("年营业收入低于 {limit} 元，这部分税收优惠即征即退，不用等年底") } else { format!("年营业收入不低于 {limit} 元（或未提供），不享受即征即退") },
            if refund { format!("annual revenue under {limit} yuan: the benefit is refunded at once, not at year end") } else { format!("annual revenue not under {limit} yuan (or not given): no immediate refund") },
            vec![l_r],
        );
    }
    let (dues_rate, d_r) = scope.rate(param::UNION_DUES_RATE)?;
    let dues = match req.avg_pay_fen {
        Some(p) if (0..=1_000_000_000).contains(&p) => {
            (Fen(p) * req.workers as i64 * 12).times_rate(dues_rate, rounding)
        }
        Some(_) => {
            return Err(Error::bad_input(
                "平均月工资要在 0 到 1000 万元之间",
                "average monthly pay must be between 0 and 10 million yuan",
            ));
        }
        None => Fen::ZERO,
    };
    if req.avg_pay_fen.is_some() {
        trace.step(
            format!("工会经费 = 工资总额 × {dues_rate} = 每年 {dues} 元"),
            format!("union dues = payroll × {dues_rate} = {dues} yuan a year"),
            vec![d_r],
        );
    }
    Ok(PlatformResult {
        region_code: scope.region.code.to_string(),
        region_zh: scope.region.name_zh.clone(),
        workers: req.workers,
        per_worker_monthly_fen: per_worker,
        platform_monthly_fen: monthly,
        platform_annual_fen: annual,
        deduction_annual_fen: deduction,
        tax_saving_annual_fen: saving,
        extra_saving_annual_fen: saving - plain_saving,
        refund_immediately: refund,
        union_dues_annual_fen: dues,
        net_annual_cost_fen: annual + dues - saving,
        trace,
    })
}
