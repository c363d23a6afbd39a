//! C3 — back-payment: which missed months may still be paid under the region's rule, and at
//! what cost. Many regions forbid it for flexible workers; the answer says so plainly.

use std::collections::BTreeMap;

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::calc::quote::{BaseBasis, BaseRule, RateRule};
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::param;
use crate::scope::{ParamRef, Scope};
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

    let p = BackpayParams::resolve(&scope, &months)?;
    let ask = BackpayAsk {
        as_of,
        months,
        tier_percent: req.tier_percent,
        base_fen: req.base_fen,
        income: req.income_fen.map(Fen),
    };
    let f = compute(&p, &ask)?;
    Ok(explain(&p, &ask, &f, trace))
}

/// Everything a back-payment needs, resolved once: the rule, today's base rule and rate,
/// and, where back-payment follows the original year's base, the base rule of each month.
#[derive(Clone, Debug)]
pub struct BackpayParams {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    pub window: i64,
    pub base_rule: String,
    pub fee_applies: bool,
    pub fee_daily: Bps,
    pub rounding: Rounding,
    pub current: BaseRule,
    pub rates: RateRule,
    /// The base rule in force in each missed month (only when `base_rule` is "original").
    pub original: BTreeMap<YearMonth, std::result::Result<BaseRule, Error>>,
    /// window, base rule, late fee applies, late fee.
    refs: [ParamRef; 4],
}

impl BackpayParams {
    pub fn resolve(scope: &Scope, months: &[YearMonth]) -> Result<BackpayParams> {
        let (window, w_r) = scope.int(param::FLEX_BACKPAY_WINDOW_MONTHS)?;
        let (base_rule, br_r) = scope.word(param::FLEX_BACKPAY_BASE_RULE)?;
        let (fee_applies, fa_r) = scope.flag(param::FLEX_BACKPAY_LATE_FEE_APPLIES)?;
        let (fee_daily, fd_r) = scope.rate(param::FLEX_BACKPAY_LATE_FEE_DAILY)?;
        let (rounding, _) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
        let current = BaseRule::resolve(scope)?;
        let rates = RateRule::resolve(scope)?;
        let original = if base_rule == "original" {
            months
                .iter()
                .map(|m| (*m, BaseRule::resolve(&scope.at(m.first_day()))))
                .collect()
        } else {
            BTreeMap::new()
        };
        Ok(BackpayParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            window,
            base_rule,
            fee_applies,
            fee_daily,
            rounding,
            current,
            rates,
            original,
            refs: [w_r, br_r, fa_r, fd_r],
        })
    }
}

/// A back-payment request, checked: the missed months sorted and without repeats.
#[derive(Clone, Debug)]
pub struct BackpayAsk {
    pub as_of: YearMonth,
    pub months: Vec<YearMonth>,
    pub tier_percent: Option<u32>,
    pub base_fen: Option<i64>,
    pub income: Option<Fen>,
}

/// What the rule says of one missed month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonthOutcome {
    NotPassed,
    NotAllowedHere,
    PastWindow {
        age: i32,
    },
    /// The base of that month's year could not be found.
    NoBase(Error),
    Allowed {
        base: Fen,
        amount: Fen,
        days: i64,
        fee: Fen,
    },
}

/// The figures of a back-payment.
#[derive(Clone, Debug)]
pub struct BackpayFigures {
    pub basis: BaseBasis,
    pub current_base: Fen,
    pub rate: Bps,
    pub months: Vec<(YearMonth, MonthOutcome)>,
}

/// The back-payment, with no explanation.
pub fn compute(p: &BackpayParams, ask: &BackpayAsk) -> Result<BackpayFigures> {
    let basis = BaseBasis::of(ask.tier_percent, ask.base_fen, false, p.current.tier_min);
    let current_base = p.current.base(basis, ask.income)?;
    let (rate, _) = p.rates.rates(ask.income)?;
    let mut months = Vec::new();
    for &m in &ask.months {
        let age = m.months_until(ask.as_of);
        let outcome = if age <= 0 {
            MonthOutcome::NotPassed
        } else if p.window <= 0 {
            MonthOutcome::NotAllowedHere
        } else if age as i64 > p.window {
            MonthOutcome::PastWindow { age }
        } else {
            let base = match p.original.get(&m) {
                Some(rule) => rule.as_ref().map_err(Clone::clone).and_then(|r| {
                    r.base(
                        BaseBasis::of(ask.tier_percent, ask.base_fen, false, r.tier_min),
                        ask.income,
                    )
                }),
                None => Ok(current_base),
            };
            match base {
                Err(e) => MonthOutcome::NoBase(e),
                Ok(base) => {
                    let amount = base.times_rate(rate, p.rounding);
                    // Late from the first day of the month after the missed one, to the first
                    // of this month.
                    let due = m.plus(1).first_day();
                    let days = due
                        .until(ask.as_of.first_day())
                        .map(|s| s.get_days() as i64)
                        .unwrap_or(0)
                        .max(0);
                    let fee = if p.fee_applies {
                        amount.mul_ratio(p.fee_daily.0 as i64 * days, 10_000, p.rounding)
                    } else {
                        Fen::ZERO
                    };
                    MonthOutcome::Allowed {
                        base,
                        amount,
                        days,
                        fee,
                    }
                }
            }
        };
        months.push((m, outcome));
    }
    Ok(BackpayFigures {
        basis,
        current_base,
        rate,
        months,
    })
}

/// The result with its explanation, from the parameters and the figures.
pub fn explain(
    p: &BackpayParams,
    ask: &BackpayAsk,
    f: &BackpayFigures,
    mut trace: Trace,
) -> BackpayResult {
    let (window, fee_applies, fee_daily, rate) = (p.window, p.fee_applies, p.fee_daily, f.rate);
    let w_r = &p.refs[0];
    // A window that is anxin's assumption (say, the national default where no city rule was
    // found) is said to be one, with where it comes from.
    let assumed = w_r.is_assumed();
    if window <= 0 && assumed {
        trace.step(
            format!(
                "{} 的补缴规则未收录：按 {} 的默认推定不能补缴（{}）。这是推定，不是本地规定，请向当地社保经办机构确认",
                p.region_zh, w_r.region_name(crate::Lang::Zh), w_r.source.doc
            ),
            format!(
                "{}'s back-payment rule is not recorded: assumed not allowed, from the default of {} ({}). This is an assumption, not a local rule: ask the local social insurance office",
                p.region_en, w_r.region_name(crate::Lang::En), w_r.source.doc
            ),
            vec![w_r.clone()],
        );
    } else if window <= 0 {
        trace.step(
            format!(
                "{} 不允许灵活就业人员事后补缴（依据 {}），没交的月份不能再补",
                p.region_zh, w_r.source.doc
            ),
            format!(
                "{} does not let flexible workers pay missed months afterwards (source {})",
                p.region_en, w_r.source.doc
            ),
            vec![w_r.clone()],
        );
    } else if assumed {
        trace.step(
            format!(
                "{} 的补缴期限未收录：按 {} 推定允许补缴最近 {window} 个月内没交的月份，请向当地社保经办机构确认",
                p.region_zh, w_r.region_name(crate::Lang::Zh)
            ),
            format!(
                "{}'s back-payment window is not recorded: assumed to be the last {window} months, from {}; ask the local social insurance office",
                p.region_en, w_r.region_name(crate::Lang::En)
            ),
            p.refs.to_vec(),
        );
    } else {
        trace.step(
            format!("{} 允许补缴最近 {window} 个月内没交的月份", p.region_zh),
            format!(
                "{} allows paying months missed within the last {window} months",
                p.region_en
            ),
            p.refs.to_vec(),
        );
    }
    p.current
        .explain(f.basis, f.current_base, ask.income, &mut trace);
    p.rates.explain(ask.income, rate, &mut trace);
    let mut out = Vec::new();
    for (m, outcome) in &f.months {
        let m = *m;
        let refuse = |zh: String, en: String| BackpayMonth {
            month: m,
            allowed: false,
            reason_zh: zh,
            reason_en: en,
            amount_fen: Fen::ZERO,
            late_fee_fen: Fen::ZERO,
        };
        out.push(match outcome {
            MonthOutcome::NotPassed => refuse(
                format!("{m} 还没过去，不需要补缴"),
                format!("{m} has not passed yet: nothing to back-pay"),
            ),
            MonthOutcome::NotAllowedHere if assumed => refuse(
                format!(
                    "本地规则未收录，按 {} 的默认推定不能补缴（{}）",
                    w_r.region_name(crate::Lang::Zh),
                    w_r.source.doc
                ),
                format!(
                    "no local rule recorded: assumed not allowed, from the default of {} ({})",
                    w_r.region_name(crate::Lang::En),
                    w_r.source.doc
                ),
            ),
            MonthOutcome::NotAllowedHere => refuse(
                format!("本地不允许灵活就业人员补缴（{}）", w_r.source.doc),
                format!(
                    "back-payment by flexible workers is not allowed here ({})",
                    w_r.source.doc
                ),
            ),
            MonthOutcome::PastWindow { age } => refuse(
                format!("已超过 {window} 个月的补缴期限（{m} 距今 {age} 个月）"),
                format!("past the {window}-month window ({m} was {age} months ago)"),
            ),
            MonthOutcome::NoBase(e) => refuse(e.zh.clone(), e.en.clone()),
            MonthOutcome::Allowed {
                base,
                amount,
                days,
                fee,
            } => BackpayMonth {
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
                amount_fen: *amount,
                late_fee_fen: *fee,
            },
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
    BackpayResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        as_of: ask.as_of,
        window_months: window,
        months: out,
        allowed_count: allowed,
        refused_count: refused,
        total_fen: total,
        late_fee_total_fen: fees,
        notes,
        trace,
    }
}
