//! What a case does besides moving: the filing requests and the transitions' effects a kind's
//! rules name (`request`, `effect` in `policy/cases/*.toml`, [`super::rules`]). Each is engine
//! code shared by every kind that names it; a kind names none by its own name. A fifth kind
//! that reuses these is a rules file and its parameters; a kind that needs a new request or
//! effect adds one here.
//!
//! - `request = "months"` (back-payment, 补缴): the worker's missed months, checked by the
//!   policy engine's back-payment rules of the worker's region (window, base, late fee,
//!   `policy/params`, reforms such as `relaxed-backpay`) and against the ledger (a month paid
//!   is refused). Any month refused refuses the filing, each named with its rule: a month is
//!   never dropped silently. The figures quoted are kept in the filing's event (`detail`).
//! - `effect = "record_backpay"`: on approval the ledger records those months as `backpaid`
//!   individual pension contributions whose keys name the case, in the step's transaction.
//! - `effect = "enrol"`: on approval the worker is enrolled in the cover the subject names
//!   and the step carries a first quote of the worker's region for it.

use anxin_domain::{Fen, Insurance, Payer, RegionCode, Status, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::backpay::{self, BackpayAsk, BackpayParams, MonthOutcome};
use anxin_records::event::ContributionEvent;
use anxin_records::{PersonKey, Records, Store};
use serde::{Deserialize, Serialize};

use super::{CaseError, Result, bad};

/// Most months one back-payment request may list: ten years (a bound on input, not a rule:
/// the region's window decides which of them may be paid).
pub const MAX_MONTHS: usize = 120;

/// The insurance a back-payment pays: the flexible worker's employee pension, as the
/// policy engine's back-payment rules compute it.
pub const BACKPAY_INSURANCE: Insurance = Insurance::Pension;

/// The covers a worker may enrol in without an employer, each on its own (险种解绑).
pub const COVERS: [&str; 3] = ["pension", "medical", "injury"];

/// A back-payment as quoted when filed: kept in the filing's event, paid as quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackpayDetail {
    /// The month the rules were read for (the filing's month, China time).
    pub as_of: String,
    /// The region whose rules decided (the policy region of the worker's residence).
    pub rules_region: String,
    pub window_months: i64,
    pub months: Vec<BackpayLine>,
    pub total_fen: i64,
    pub late_fee_total_fen: i64,
    /// The rules' words for each month allowed, and where the window comes from.
    pub basis_zh: String,
    pub basis_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackpayLine {
    pub month: String,
    pub base_fen: i64,
    pub amount_fen: i64,
    pub late_fee_fen: i64,
}

/// A month refused, with the rule that refuses it.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub month: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// Parses the months a worker picked ("2025-07"), sorted and once each.
pub fn parse_months(months: &[String]) -> Result<Vec<YearMonth>> {
    if months.is_empty() {
        return Err(bad(
            "请选择要补缴的月份（至少一个，格式 2025-07）",
            "pick the months to pay (at least one, as 2025-07)",
        ));
    }
    if months.len() > MAX_MONTHS {
        return Err(bad(
            format!(
                "一次最多申请补缴 {MAX_MONTHS} 个月，收到 {} 个",
                months.len()
            ),
            format!(
                "at most {MAX_MONTHS} months in one request, got {}",
                months.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(months.len());
    for m in months {
        let m = m.trim();
        let ym = YearMonth::parse(m).map_err(|_| {
            let shown: String = m.chars().take(20).collect();
            bad(
                format!("“{shown}”不是月份：请写成 2025-07 这样"),
                format!("{shown:?} is not a month: write it as 2025-07"),
            )
        })?;
        out.push(ym);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The months the worker has already paid (any payer, any region) and the slots the ledger
/// already holds for an individual payment in `region`, of the back-payment's insurance.
fn paid_and_taken<S: Store>(
    records: &mut Records<S>,
    person: &PersonKey,
    region: RegionCode,
) -> Result<(Vec<i32>, Vec<i32>)> {
    let rows = records.store().contributions_of(&person.0)?;
    let mine = rows.iter().filter(|r| r.insurance == BACKPAY_INSURANCE);
    let paid = mine.clone().filter(|r| r.status.is_paid()).map(|r| r.month);
    let taken = mine
        .filter(|r| r.payer == Payer::Individual && r.region == region.code())
        .map(|r| r.month);
    Ok((paid.collect(), taken.collect()))
}

/// Quotes a back-payment of `months` for a worker of `region` (its policy region
/// `rules_region`) as of `as_of`; any month the rules forbid, already paid, or already on the
/// ledger refuses the whole request, each such month named with its reason.
#[allow(clippy::too_many_arguments)]
pub fn quote_backpay<S: Store>(
    records: &mut Records<S>,
    policy: &Policy,
    reforms: &[String],
    person: &PersonKey,
    region: RegionCode,
    rules_region: &str,
    as_of: YearMonth,
    months: &[YearMonth],
) -> Result<BackpayDetail> {
    let scope = policy
        .scope(rules_region, as_of, reforms)
        .map_err(super::policy_err)?;
    let p = BackpayParams::resolve(&scope, months).map_err(super::policy_err)?;
    let ask = BackpayAsk {
        as_of,
        months: months.to_vec(),
        tier_percent: None,
        base_fen: None,
        income: None,
    };
    let f = backpay::compute(&p, &ask).map_err(super::policy_err)?;
    let explained = backpay::explain(&p, &ask, &f, anxin_policy::Trace::default());
    let (paid, taken) = paid_and_taken(records, person, region)?;
    let mut refused = Vec::new();
    let mut lines = Vec::new();
    for ((m, outcome), said) in f.months.iter().zip(&explained.months) {
        let shown = m.to_string();
        if paid.contains(&m.index()) {
            refused.push(Refused {
                month: shown,
                reason_zh: format!("{m} 已经缴过，不能再补"),
                reason_en: format!("{m} is already paid: it cannot be paid again"),
            });
            continue;
        }
        if taken.contains(&m.index()) {
            refused.push(Refused {
                month: shown,
                reason_zh: format!("账本里已有你 {m} 的个人缴费记录，请到经办窗口更正"),
                reason_en: format!(
                    "the ledger already holds your own payment record for {m}: ask a clerk to correct it"
                ),
            });
            continue;
        }
        match outcome {
            MonthOutcome::Allowed {
                base, amount, fee, ..
            } => lines.push(BackpayLine {
                month: shown,
                base_fen: base.0,
                amount_fen: amount.0,
                late_fee_fen: fee.0,
            }),
            _ => refused.push(Refused {
                month: shown,
                reason_zh: said.reason_zh.clone(),
                reason_en: said.reason_en.clone(),
            }),
        }
    }
    if !refused.is_empty() {
        let zh: Vec<String> = refused
            .iter()
            .map(|r| format!("{}：{}", r.month, r.reason_zh))
            .collect();
        let en: Vec<String> = refused
            .iter()
            .map(|r| format!("{}: {}", r.month, r.reason_en))
            .collect();
        return Err(bad(
            format!(
                "以下月份不能补缴，申请未提交（去掉这些月份再申请）：{}",
                zh.join("；")
            ),
            format!(
                "these months cannot be paid, nothing was filed (leave them out and file again): {}",
                en.join("; ")
            ),
        ));
    }
    let basis = explained
        .trace
        .steps
        .first()
        .map(|s| (s.zh.clone(), s.en.clone()))
        .unwrap_or_default();
    Ok(BackpayDetail {
        as_of: as_of.to_string(),
        rules_region: rules_region.to_string(),
        window_months: explained.window_months,
        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
        late_fee_total_fen: lines.iter().map(|l| l.late_fee_fen).sum(),
        months: lines,
        basis_zh: basis.0,
        basis_en: basis.1,
    })
}

/// Checks, when a back-payment is approved, that none of its months was paid since it was
/// filed (nor its slot filled); a month that was is named and nothing is recorded.
pub fn check_unpaid<S: Store>(
    records: &mut Records<S>,
    person: &PersonKey,
    region: RegionCode,
    detail: &BackpayDetail,
) -> Result<()> {
    let (paid, taken) = paid_and_taken(records, person, region)?;
    let late: Vec<&str> = detail
        .months
        .iter()
        .filter(|l| {
            YearMonth::parse(&l.month)
                .is_ok_and(|m| paid.contains(&m.index()) || taken.contains(&m.index()))
        })
        .map(|l| l.month.as_str())
        .collect();
    if late.is_empty() {
        Ok(())
    } else {
        Err(bad(
            format!(
                "{} 在申请后已有缴费记录，不能再按本申请补缴：请退回申请",
                late.join("、")
            ),
            format!(
                "{} were recorded after the request was filed: they cannot be back-paid again; refuse the request",
                late.join(", ")
            ),
        ))
    }
}

/// The contributions a back-payment approved records: each month `backpaid` by the worker,
/// keyed `backpay:{case}:{month}` so the ledger names the case.
pub fn backpaid_months(
    detail: &BackpayDetail,
    case: &str,
    person: &PersonKey,
    region: RegionCode,
    paid_on: &str,
) -> Result<Vec<ContributionEvent>> {
    detail
        .months
        .iter()
        .map(|l| {
            let month = YearMonth::parse(&l.month)
                .map_err(|_| CaseError::Records(anxin_records::Error::Corrupt(l.month.clone())))?;
            Ok(ContributionEvent {
                key: format!("backpay:{case}:{month}"),
                person: person.hex(),
                month,
                insurance: BACKPAY_INSURANCE,
                region,
                payer: Payer::Individual,
                payer_code: None,
                base_fen: l.base_fen,
                amount_fen: l.amount_fen,
                account_fen: 0,
                status: Status::Backpaid,
                reason: None,
                paid_on: Some(paid_on.to_string()),
            })
        })
        .collect()
}

/// A first quote for a cover the worker enrolled in: what they pay each month, in fen, and
/// the words of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstQuote {
    pub cover: String,
    pub month: String,
    pub monthly_fen: Option<i64>,
    pub zh: String,
    pub en: String,
}

/// The first quote of `cover` for a worker of `rules_region` in `month`.
pub fn first_quote(
    policy: &Policy,
    reforms: &[String],
    rules_region: &str,
    month: YearMonth,
    cover: &str,
) -> Result<FirstQuote> {
    use anxin_policy::calc::quote::{QuoteRequest, quote};
    match cover {
        "pension" => {
            let req = QuoteRequest {
                region: rules_region.to_string(),
                month: Some(month),
                reforms: reforms.to_vec(),
                ..QuoteRequest::default()
            };
            let q = quote(policy, &req, month).map_err(super::policy_err)?;
            Ok(FirstQuote {
                cover: cover.into(),
                month: month.to_string(),
                monthly_fen: Some(q.net_monthly_fen.0),
                zh: format!(
                    "职工养老保险：按最低档基数 {} 元，每月缴 {} 元（{}）",
                    q.base_fen, q.net_monthly_fen, q.region_zh
                ),
                en: format!(
                    "employee pension: at the lowest base, {} yuan, {} yuan a month ({})",
                    q.base_fen, q.net_monthly_fen, q.region_en
                ),
            })
        }
        "injury" => Ok(FirstQuote {
            cover: cover.into(),
            month: month.to_string(),
            monthly_fen: Some(Fen::ZERO.0),
            zh: anxin_policy::calc::injury::who_pays().zh,
            en: anxin_policy::calc::injury::who_pays().en,
        }),
        _ => Ok(FirstQuote {
            cover: cover.into(),
            month: month.to_string(),
            monthly_fen: None,
            zh: "职工医疗保险：缴费额以参保地经办机构核定为准，可用“医保”计算器估算".into(),
            en: "employee medical insurance: the amount is set by the local office; the medical calculator estimates it".into(),
        }),
    }
}

/// A step's detail in words, one (Chinese, English) line each: a back-payment's months and
/// total, or an enrolment's first quote (what pages and the CLI show).
pub fn detail_lines(detail: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(b) = serde_json::from_value::<BackpayDetail>(detail.clone()) {
        out.push((b.basis_zh.clone(), b.basis_en.clone()));
        for l in &b.months {
            let fee = if l.late_fee_fen > 0 {
                (
                    format!("，滞纳金 {} 元", Fen(l.late_fee_fen)),
                    format!(", late fee {} yuan", Fen(l.late_fee_fen)),
                )
            } else {
                (String::new(), String::new())
            };
            out.push((
                format!(
                    "{}：基数 {} 元，补缴 {} 元{}",
                    l.month,
                    Fen(l.base_fen),
                    Fen(l.amount_fen),
                    fee.0
                ),
                format!(
                    "{}: base {} yuan, {} yuan{}",
                    l.month,
                    Fen(l.base_fen),
                    Fen(l.amount_fen),
                    fee.1
                ),
            ));
        }
        out.push((
            format!(
                "合计 {} 元，滞纳金 {} 元（按 {} 的规则，{} 时测算）",
                Fen(b.total_fen),
                Fen(b.late_fee_total_fen),
                b.rules_region,
                b.as_of
            ),
            format!(
                "total {} yuan, late fees {} yuan (the rules of {}, as of {})",
                Fen(b.total_fen),
                Fen(b.late_fee_total_fen),
                b.rules_region,
                b.as_of
            ),
        ));
    } else if let Ok(q) = serde_json::from_value::<FirstQuote>(detail.clone()) {
        out.push((
            format!("首次缴费测算（{}）：{}", q.month, q.zh),
            format!("first quote ({}): {}", q.month, q.en),
        ));
    } else if let Ok(t) = serde_json::from_value::<super::agreement::Terms>(detail.clone()) {
        out.extend(super::agreement::terms_lines(&t));
    }
    out
}
