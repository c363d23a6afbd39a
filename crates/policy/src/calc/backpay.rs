//! C3 — back-payment: which missed months may still be paid under the region's rule, and at
//! what cost. Many regions forbid it for flexible workers; the answer says so plainly.

use anxin_domain::{Fen, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::calc::quote::{choose_base, pension_rate};
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::param;
use crate::trace::Trace;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackpayRequest {
    pub region: String,
    pub as_of: Option<YearMonth>,
    /// Missed months, listed one by one …
    pub missed: Vec<YearMonth>,
    /// … or as a range (inclusive).
    pub missed_from: Option<YearMonth>,
    pub missed_to: Option<YearMonth>,
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    pub income_fen: Option<i64>,
    pub reforms: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackpayMonth {
    pub month: YearMonth,
    pub allowed: bool,
    pub reason_zh: String,
    pub reason_en: String,
    pub amount_fen: Fen,
    pub late_fee_fen: Fen,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackpayResult {
    pub region_code: String,
    pub region_zh: String,
    pub as_of: YearMonth,
    pub window_months: i64,
    pub months: Vec<BackpayMonth>,
    pub allowed_count: u32,
    pub refused_count: u32,
    pub total_fen: Fen,
    pub late_fee_total_fen: Fen,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// Most months one request may list: fifty years.
const MAX_MONTHS: usize = 600;

pub fn backpay(policy: &Policy, req: &BackpayRequest, today: YearMonth) -> Result<BackpayResult> {
    let as_of = req.as_of.unwrap_or(today);
    let scope = policy.scope(&req.region, as_of, &req.reforms)?;
    let mut trace = Trace::default();
    trace.term("backpay");
    let mut months = req.missed.clone();
    match (req.missed_from, req.missed_to) {
        (Some(a), Some(b)) => {
            if b < a {
                return Err(Error::bad_input(
                    format!("补缴区间 {a} 到 {b} 颠倒了"),
                    format!("range {a} to {b} is reversed"),
                ));
            }
            if a.months_until(b) as usize >= MAX_MONTHS {
                return Err(Error::bad_input(
                    format!("一次最多查 {MAX_MONTHS} 个月"),
                    format!("at most {MAX_MONTHS} months at once"),
                ));
            }
            let mut m = a;
            while m <= b {
                months.push(m);
                m = m.plus(1);
            }
        }
        (None, None) => {}
        _ => {
            return Err(Error::bad_input(
                "补缴区间要同时给出起止月份",
                "a range needs both its first and last month",
            ));
        }
    }
    if months.is_empty() {
        return Err(Error::bad_input(
            "请给出没交的月份（--missed 2025-01..2025-06）",
            "give the missed months (--missed 2025-01..2025-06)",
        ));
    }
    if months.len() > MAX_MONTHS {
        return Err(Error::bad_input(
            format!("一次最多查 {MAX_MONTHS} 个月"),
            format!("at most {MAX_MONTHS} months at once"),
        ));
    }
    months.sort();
    months.dedup();

    let (window, w_r) = scope.int(param::FLEX_BACKPAY_WINDOW_MONTHS)?;
    let (base_rule, br_r) = scope.word(param::FLEX_BACKPAY_BASE_RULE)?;
    let (fee_applies, fa_r) = scope.flag(param::FLEX_BACKPAY_LATE_FEE_APPLIES)?;
    let (fee_daily, fd_r) = scope.rate(param::FLEX_BACKPAY_LATE_FEE_DAILY)?;
    let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
    let income = req.income_fen.map(Fen);
    if window <= 0 {
        trace.step(
            format!(
                "{} 不允许灵活就业人员事后补缴（依据 {}），没交的月份不能再补",
                scope.region.name_zh, w_r.source.doc
            ),
            format!(
                "{} does not let flexible workers pay missed months afterwards (source {})",
                scope.region.name_en, w_r.source.doc
            ),
            vec![w_r.clone()],
        );
    } else {
        trace.step(
            format!(
                "{} 允许补缴最近 {window} 个月内没交的月份",
                scope.region.name_zh
            ),
            format!(
                "{} allows paying months missed within the last {window} months",
                scope.region.name_en
            ),
            vec![w_r.clone(), br_r, fa_r, fd_r],
        );
    }
    let current = choose_base(
        &scope,
        req.tier_percent,
        req.base_fen,
        false,
        income,
        &mut trace,
    )?;
    let (rate, _, _) = pension_rate(&scope, income, &mut trace)?;
    let mut out = Vec::new();
    for m in months {
        let age = m.months_until(as_of);
        let refuse = |zh: String, en: String| BackpayMonth {
            month: m,
            allowed: false,
            reason_zh: zh,
            reason_en: en,
            amount_fen: Fen::ZERO,
            late_fee_fen: Fen::ZERO,
        };
        if age <= 0 {
            out.push(refuse(
                format!("{m} 还没过去，不需要补缴"),
                format!("{m} has not passed yet: nothing to back-pay"),
            ));
            continue;
        }
        if window <= 0 {
            out.push(refuse(
                format!("本地不允许灵活就业人员补缴（{}）", w_r.source.doc),
                format!(
                    "back-payment by flexible workers is not allowed here ({})",
                    w_r.source.doc
                ),
            ));
            continue;
        }
        if age as i64 > window {
            out.push(refuse(
                format!("已超过 {window} 个月的补缴期限（{m} 距今 {age} 个月）"),
                format!("past the {window}-month window ({m} was {age} months ago)"),
            ));
            continue;
        }
        let base = if base_rule == "original" {
            let s = scope.at(m.first_day());
            let mut t = Trace::default();
            match choose_base(&s, req.tier_percent, req.base_fen, false, income, &mut t) {
                Ok(b) => b.base,
                Err(e) => {
                    out.push(refuse(e.zh, e.en));
                    continue;
                }
            }
        } else {
            current.base
        };
        let amount = base.times_rate(rate, rounding);
        // Late from the first day of the month after the missed one, to the first of this month.
        let due = m.plus(1).first_day();
        let days = due
            .until(as_of.first_day())
            .map(|s| s.get_days() as i64)
            .unwrap_or(0)
            .max(0);
        let fee = if fee_applies {
            amount.mul_ratio(fee_daily.0 as i64 * days, 10_000, rounding)
        } else {
            Fen::ZERO
        };
        out.push(BackpayMonth {
            month: m,
            allowed: true,
            reason_zh: format!(
                "在 {window} 个月期限内，按基数 {base} 元 × {rate} 补缴{}",
                if fee_applies {
                    format!("，滞纳金 {days} 天 × {fee_daily}")
                } else {
                    String::new()
                }
            ),
            reason_en: format!(
                "within the {window}-month window: base {base} × {rate}{}",
                if fee_applies {
                    format!(", late fee {days} days × {fee_daily}")
                } else {
                    String::new()
                }
            ),
            amount_fen: amount,
            late_fee_fen: fee,
        });
    }
    let total: Fen = out.iter().map(|m| m.amount_fen).sum();
    let fees: Fen = out.iter().map(|m| m.late_fee_fen).sum();
    let allowed = out.iter().filter(|m| m.allowed).count() as u32;
    let refused = out.len() as u32 - allowed;
    trace.step(
        format!("可以补 {allowed} 个月，共 {total} 元，滞纳金 {fees} 元；不能补 {refused} 个月"),
        format!("{allowed} months may be paid, {total} yuan, late fees {fees} yuan; {refused} months may not"),
        vec![],
    );
    let notes = vec![Note::new(
        "到退休年龄时累计缴费不够最低年限的，按国家规定可以延长缴费或一次性缴费补足，这与上面的补缴期限无关",
        "whoever is short of the minimum years at retirement age may, by national rule, keep paying or pay a lump sum; that is separate from the window above",
    )];
    Ok(BackpayResult {
        region_code: scope.region.code.to_string(),
        region_zh: scope.region.name_zh.clone(),
        as_of,
        window_months: window,
        months: out,
        allowed_count: allowed,
        refused_count: refused,
        total_fen: total,
        late_fee_total_fen: fees,
        notes,
        trace,
    })
}
