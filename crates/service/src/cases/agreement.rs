//! What a kind whose `request = "agreement"` files and what its terms do (engine code shared by
//! every such kind, [`super::rules::Request::Agreement`]): a collective agreement between the
//! filing office (a union, for its own region) and a registered platform named as the party.
//!
//! - Filing: the terms are checked here — a title; pay rates (an amount per order, hour, day,
//!   month or kilometre); the contribution base (inside each covered region's floor and
//!   ceiling, by the quote calculator); the platform's share of the workers' pension
//!   contribution (0–100 %); supplementary insurance; the regions covered (inside the union's
//!   own); the worker categories covered (employment forms of the registry); the dates (a term
//!   no longer than `case.agreement.max_term_months`). Anything wrong is refused with what is
//!   allowed, and nothing is filed. The terms are kept in the filing's event (`detail`).
//! - In force: while the case is in a `binding` state, the agreement covers each worker who
//!   works for the platform (the registry's platforms), lives in a covered region, and whose
//!   employment form is covered, on the days between its dates. [`covering`] finds them; a
//!   covered worker's quote takes the agreed base and the platform's share ([`agreed_quote`]),
//!   and says it comes from the agreement.

use anxin_domain::{Clock, EmploymentForm, Fen, RegionCode, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::quote::{QuoteRequest, quote};
use anxin_records::access::within;
use anxin_records::{NO_PERSON, PersonKey, Records, Store};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{CaseError, CaseKind, CaseView, Engine, FileRequest, Result, bad, rules};
use crate::access::Actor;

/// Most pay rates, supplementary covers, regions and categories one agreement lists (bounds on
/// input, not rules).
pub const MAX_RATES: usize = 20;
pub const MAX_SUPPLEMENTARY: usize = 10;
pub const MAX_REGIONS: usize = 50;

/// What a pay rate is counted per.
pub const PER: [(&str, &str, &str); 5] = [
    ("order", "每单", "per order"),
    ("hour", "每小时", "per hour"),
    ("day", "每天", "per day"),
    ("month", "每月", "per month"),
    ("km", "每公里", "per kilometre"),
];

/// An agreement's terms, as filed (amounts in fen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub title: String,
    #[serde(default)]
    pub pay_rates: Vec<PayRate>,
    /// The monthly contribution base agreed for the covered workers' employee pension.
    #[serde(default)]
    pub contribution_base_fen: Option<i64>,
    /// The share of each covered worker's pension contribution the platform pays, percent.
    #[serde(default)]
    pub platform_share_percent: Option<u32>,
    /// Supplementary insurance the platform provides (accident, supplementary medical, …).
    #[serde(default)]
    pub supplementary: Vec<String>,
    /// The regions covered (six-digit codes), each within the union's region.
    pub regions: Vec<String>,
    /// The worker categories covered: employment forms (`semi_dependent`, `multi_platform`, …).
    pub categories: Vec<String>,
    /// First and last day in force (`2026-01-01`).
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRate {
    /// What is paid (a delivery, an hour online, …).
    pub item: String,
    pub amount_fen: i64,
    /// order, hour, day, month or km.
    pub per: String,
}

fn chars(text: &str) -> usize {
    text.trim().chars().count()
}

fn date(text: &str, which: (&str, &str)) -> Result<Date> {
    text.trim().parse::<Date>().map_err(|_| {
        let shown: String = text.chars().take(20).collect();
        bad(
            format!("{}“{shown}”不是日期：请写成 2026-01-01 这样", which.0),
            format!(
                "{} {shown:?} is not a date: write it as 2026-01-01",
                which.1
            ),
        )
    })
}

fn month_of(d: Date) -> Result<YearMonth> {
    u32::try_from(d.month())
        .ok()
        .and_then(|m| YearMonth::new(i32::from(d.year()), m))
        .ok_or_else(|| bad("日期超出范围", "date out of range"))
}

/// The terms checked against the rules and the union's region, trimmed and in order; the
/// first thing wrong refuses them with what is allowed. `today` is the filing's date.
pub fn check_terms(
    engine: &Engine<'_>,
    terms: &Terms,
    union_region: RegionCode,
    today: Date,
) -> Result<Terms> {
    let title = terms.title.trim().to_string();
    if title.is_empty() || chars(&title) > 100 {
        return Err(bad(
            "请填写协议名称（1–100 个字）",
            "give the agreement a title (1–100 characters)",
        ));
    }
    if terms.pay_rates.len() > MAX_RATES {
        return Err(bad(
            format!("报酬标准最多 {MAX_RATES} 项"),
            format!("at most {MAX_RATES} pay rates"),
        ));
    }
    let mut pay_rates = Vec::new();
    for r in &terms.pay_rates {
        let item = r.item.trim().to_string();
        if item.is_empty() || chars(&item) > 40 {
            return Err(bad(
                "每项报酬标准要写明是什么（1–40 个字，如“每单配送费”）",
                "name what each pay rate is for (1–40 characters, e.g. a delivery)",
            ));
        }
        if !(1..=100_000_000).contains(&r.amount_fen) {
            return Err(bad(
                format!("“{item}”的金额要在 0.01 到 1000000 元之间"),
                format!("the amount of {item:?} must be 0.01 to 1,000,000 yuan"),
            ));
        }
        let per = r.per.trim();
        if !PER.iter().any(|p| p.0 == per) {
            let allowed: Vec<String> = PER.iter().map(|p| format!("{}（{}）", p.0, p.1)).collect();
            let shown: String = per.chars().take(20).collect();
            return Err(bad(
                format!("“{shown}”不是计酬单位（可选：{}）", allowed.join("、")),
                format!(
                    "{shown:?} is not a unit of pay (one of: {})",
                    PER.map(|p| p.0).join(", ")
                ),
            ));
        }
        pay_rates.push(PayRate {
            item,
            amount_fen: r.amount_fen,
            per: per.to_string(),
        });
    }
    if let Some(share) = terms.platform_share_percent
        && share > 100
    {
        return Err(bad(
            format!("平台承担比例要在 0 到 100% 之间，收到 {share}%"),
            format!("the platform's share must be 0 to 100 %, got {share} %"),
        ));
    }
    if terms.supplementary.len() > MAX_SUPPLEMENTARY {
        return Err(bad(
            format!("补充保险最多 {MAX_SUPPLEMENTARY} 项"),
            format!("at most {MAX_SUPPLEMENTARY} supplementary covers"),
        ));
    }
    let mut supplementary = Vec::new();
    for s in &terms.supplementary {
        let s = s.trim();
        if s.is_empty() || chars(s) > 50 {
            return Err(bad(
                "每项补充保险写 1–50 个字（如“意外伤害保险”）",
                "name each supplementary cover in 1–50 characters (e.g. accident insurance)",
            ));
        }
        supplementary.push(s.to_string());
    }
    if pay_rates.is_empty()
        && terms.contribution_base_fen.is_none()
        && terms.platform_share_percent.is_none()
        && supplementary.is_empty()
    {
        return Err(bad(
            "协议至少要约定一项：报酬标准、缴费基数、平台承担比例或补充保险",
            "an agreement settles at least one of: pay rates, the contribution base, the platform's share, supplementary insurance",
        ));
    }
    // Regions: each a code within the union's own region, once.
    if terms.regions.is_empty() || terms.regions.len() > MAX_REGIONS {
        return Err(bad(
            format!("请写明协议覆盖的地区（1–{MAX_REGIONS} 个六位代码）"),
            format!("name the regions covered (1 to {MAX_REGIONS} six-digit codes)"),
        ));
    }
    let mut regions: Vec<RegionCode> = Vec::new();
    for r in &terms.regions {
        let shown: String = r.trim().chars().take(20).collect();
        let code = RegionCode::parse(r.trim()).map_err(|_| {
            bad(
                format!("“{shown}”不是地区代码（六位数字，如 330100）"),
                format!("{shown:?} is not a region code (six digits, e.g. 330100)"),
            )
        })?;
        if !within(union_region.code(), code.code()) {
            return Err(bad(
                format!(
                    "地区 {shown} 不在工会的辖区 {:06} 内：工会只能为本辖区的劳动者签订集体合同",
                    union_region.code()
                ),
                format!(
                    "region {shown} lies outside the union's region {:06}: a union signs only for the workers of its own region",
                    union_region.code()
                ),
            ));
        }
        if !regions.contains(&code) {
            regions.push(code);
        }
    }
    if terms.categories.is_empty() || terms.categories.len() > EmploymentForm::ALL.len() {
        return Err(bad(
            "请写明协议覆盖的劳动者类别（至少一个就业形态）",
            "name the worker categories covered (at least one employment form)",
        ));
    }
    let mut categories = Vec::new();
    for c in &terms.categories {
        let form = EmploymentForm::parse(c.trim()).ok_or_else(|| {
            let shown: String = c.trim().chars().take(20).collect();
            let zh: Vec<String> = EmploymentForm::ALL
                .iter()
                .map(|f| format!("{}（{}）", f.as_str(), f.zh()))
                .collect();
            let en: Vec<&str> = EmploymentForm::ALL.iter().map(|f| f.as_str()).collect();
            bad(
                format!("“{shown}”不是劳动者类别（可选：{}）", zh.join("、")),
                format!(
                    "{shown:?} is not a worker category (one of: {})",
                    en.join(", ")
                ),
            )
        })?;
        let code = form.as_str().to_string();
        if !categories.contains(&code) {
            categories.push(code);
        }
    }
    let from = date(&terms.from, ("生效日期", "the first day"))?;
    let to = date(&terms.to, ("终止日期", "the last day"))?;
    if to < from {
        return Err(bad(
            "终止日期早于生效日期",
            "the last day comes before the first",
        ));
    }
    if to < today {
        return Err(bad(
            format!("终止日期 {to} 已经过去：协议无法生效"),
            format!("the last day {to} has passed: the agreement could never be in force"),
        ));
    }
    // The term: no longer than the rules' longest, counted in months from the first day.
    let scope = engine
        .policy
        .scope_at(&engine.policy_region(union_region), from, engine.reforms)
        .map_err(super::policy_err)?;
    let key = anxin_policy::Key::named("case.agreement.max_term_months")
        .ok_or_else(|| bad("参数未知", "unknown parameter"))?;
    let (max_months, r) = scope.int(key).map_err(super::policy_err)?;
    let limit = from
        .checked_add(jiff::Span::new().months(max_months))
        .map_err(|_| bad("日期超出范围", "date out of range"))?;
    if to >= limit {
        return Err(bad(
            format!(
                "协议期限超过 {max_months} 个月（{}）：请缩短，期满再续订",
                r.source.doc
            ),
            format!(
                "the term is longer than {max_months} months ({}): shorten it and renew it when it ends",
                r.source.doc
            ),
        ));
    }
    // The base: inside each covered region's floor and ceiling on the first day, as the quote
    // calculator decides it.
    if let Some(base) = terms.contribution_base_fen {
        if base <= 0 {
            return Err(bad(
                "约定的缴费基数要大于 0",
                "the agreed contribution base must be more than 0",
            ));
        }
        let month = month_of(from)?;
        for r in &regions {
            let req = QuoteRequest {
                region: engine.policy_region(*r),
                month: Some(month),
                base_fen: Some(base),
                reforms: engine.reforms.to_vec(),
                ..QuoteRequest::default()
            };
            quote(engine.policy, &req, month).map_err(|e| {
                bad(
                    format!(
                        "约定的缴费基数 {} 元在 {:06}：{}",
                        Fen(base),
                        r.code(),
                        e.zh
                    ),
                    format!(
                        "the agreed base of {} yuan in {:06}: {}",
                        Fen(base),
                        r.code(),
                        e.en
                    ),
                )
            })?;
        }
    }
    Ok(Terms {
        title,
        pay_rates,
        contribution_base_fen: terms.contribution_base_fen,
        platform_share_percent: terms.platform_share_percent,
        supplementary,
        regions: regions.iter().map(|r| format!("{:06}", r.code())).collect(),
        categories,
        from: from.to_string(),
        to: to.to_string(),
    })
}

/// Files an agreement: the union (checked by the caller's permission) for its region, with
/// a registered platform's credit code as the party and the terms checked.
pub(super) fn file<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    kind: &CaseKind,
    req: &FileRequest,
    clock: &dyn Clock,
) -> Result<CaseView> {
    super::check_subject(kind, &req.subject)?;
    if !req.months.is_empty() {
        return Err(bad(
            format!("“{}”不填月份", kind.zh),
            format!("a {} names no months", kind.en),
        ));
    }
    let Some(terms) = &req.terms else {
        return Err(bad(
            "请填写协议条款（报酬标准、缴费基数、平台承担比例、补充保险、覆盖地区和劳动者类别、起止日期）",
            "give the agreement's terms (pay rates, contribution base, platform share, supplementary insurance, regions and worker categories covered, dates)",
        ));
    };
    let code = req.party.trim();
    let platform = anxin_domain::CreditCode::parse(code).is_ok()
        && records
            .store()
            .orgs_all()?
            .iter()
            .any(|o| o.code == code && o.kind == "platform");
    if !platform {
        let shown: String = code.chars().take(30).collect();
        return Err(bad(
            format!(
                "“{shown}”不是登记在册的平台：集体合同的另一方要用平台的统一社会信用代码（从列表中选择）"
            ),
            format!(
                "{shown:?} is not a registered platform: the other side of an agreement is named by its credit code (pick one from the list)"
            ),
        ));
    }
    let union_region = actor
        .account
        .region
        .ok_or_else(|| bad("账户没有辖区", "the account has no region"))
        .and_then(super::region)?;
    let now = clock.unix_seconds();
    let today = jiff::Timestamp::from_second(now)
        .map_err(|_| bad("时间无效", "the time is not valid"))?
        .to_zoned(anxin_domain::china())
        .date();
    let checked = check_terms(engine, terms, union_region, today)?;
    let detail = super::to_json(&checked)?;
    super::file_event(
        records,
        engine,
        actor,
        kind,
        (&req.subject, Some(code.to_string()), Some(detail)),
        (PersonKey(NO_PERSON), union_region),
        clock,
        now,
    )
}

/// An agreement's terms in words, one (Chinese, English) line each (pages, the CLI).
pub fn terms_lines(t: &Terms) -> Vec<(String, String)> {
    let mut out = vec![(format!("《{}》", t.title), format!("\"{}\"", t.title))];
    for r in &t.pay_rates {
        let per = PER
            .iter()
            .find(|p| p.0 == r.per)
            .copied()
            .unwrap_or(("", "", ""));
        out.push((
            format!("报酬：{} {}{} 元", r.item, per.1, Fen(r.amount_fen)),
            format!("pay: {} {} yuan {}", r.item, Fen(r.amount_fen), per.2),
        ));
    }
    if let Some(b) = t.contribution_base_fen {
        out.push((
            format!("职工养老保险缴费基数：每月 {} 元", Fen(b)),
            format!("employee pension base: {} yuan a month", Fen(b)),
        ));
    }
    if let Some(p) = t.platform_share_percent {
        out.push((
            format!("平台承担劳动者养老保险缴费的 {p}%"),
            format!("the platform pays {p} % of the worker's pension contribution"),
        ));
    }
    if !t.supplementary.is_empty() {
        out.push((
            format!("补充保险：{}", t.supplementary.join("、")),
            format!("supplementary insurance: {}", t.supplementary.join(", ")),
        ));
    }
    let forms: Vec<(String, String)> = t
        .categories
        .iter()
        .map(|c| {
            EmploymentForm::parse(c)
                .map(|f| (f.zh().to_string(), f.as_str().replace('_', " ")))
                .unwrap_or((c.clone(), c.clone()))
        })
        .collect();
    out.push((
        format!(
            "覆盖：{} 的{}",
            t.regions.join("、"),
            forms
                .iter()
                .map(|f| f.0.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ),
        format!(
            "covers: {} workers in {}",
            forms
                .iter()
                .map(|f| f.1.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            t.regions.join(", ")
        ),
    ));
    let (from, to) = (t.from.parse::<Date>(), t.to.parse::<Date>());
    if let (Ok(f), Ok(e)) = (from, to) {
        let (fz, fe) = super::day_words(f);
        let (tz, te) = super::day_words(e);
        out.push((format!("期限：{fz} 至 {tz}"), format!("term: {fe} to {te}")));
    }
    out
}

/// An agreement as a covered worker (or anyone reading it) sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementView {
    pub case: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub subject_zh: String,
    pub subject_en: String,
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    /// The platform's credit code and its registered name.
    pub platform: String,
    pub platform_name: String,
    /// The union's region.
    pub region: String,
    pub terms: Terms,
}

/// The terms an agreement was filed with.
pub fn terms_of<S: Store>(records: &mut Records<S>, id: &str) -> Result<Terms> {
    super::filing_detail(records, id)
}

/// The agreements in force on `today` that cover the worker `person`: the platform is one the
/// registry says they work for, they live in a covered region, their employment form is
/// covered. Not found when the worker is not in the registry.
pub fn covering<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    person: &PersonKey,
    today: Date,
) -> Result<Vec<AgreementView>> {
    let row = records.store().person(&person.0)?.ok_or_else(|| {
        CaseError::Records(anxin_records::Error::not_found(
            "登记册中没有你的记录：请先参保登记",
            "you are not in the registry: register first",
        ))
    })?;
    let platforms: Vec<&str> = row.platforms.split(';').map(str::trim).collect();
    let mut out = Vec::new();
    for latest in records.store().cases_latest()? {
        let Some(kind) = engine.kinds.get(&latest.case_kind) else {
            continue;
        };
        if kind.request != rules::Request::Agreement
            || !kind.state(&latest.state).is_some_and(|s| s.binding)
        {
            continue;
        }
        let Some(code) = latest.party.clone() else {
            continue;
        };
        if !platforms.contains(&code.as_str()) {
            continue;
        }
        let terms = terms_of(records, &latest.case_id)?;
        let in_dates = terms.from.parse::<Date>().is_ok_and(|f| f <= today)
            && terms.to.parse::<Date>().is_ok_and(|t| today <= t);
        let in_region = terms.regions.iter().any(|r| {
            r.parse::<u32>()
                .is_ok_and(|r| within(r, row.residence_region))
        });
        let in_category = terms.categories.contains(&row.employment_form);
        if in_dates && in_region && in_category {
            out.push(view_of(records, kind, &latest, terms)?);
        }
    }
    Ok(out)
}

fn view_of<S: Store>(
    records: &mut Records<S>,
    kind: &CaseKind,
    latest: &anxin_records::store::CaseStepRow,
    terms: Terms,
) -> Result<AgreementView> {
    let code = latest.party.clone().unwrap_or_default();
    let name = records
        .store()
        .org_names(&[code.as_str()])?
        .remove(&code)
        .unwrap_or_else(|| code.clone());
    let subject = latest.subject.as_deref().unwrap_or_default();
    let (subject_zh, subject_en) = kind.subject(subject);
    let state = kind.state(&latest.state);
    Ok(AgreementView {
        case: latest.case_id.clone(),
        kind_zh: kind.zh.clone(),
        kind_en: kind.en.clone(),
        subject_zh,
        subject_en,
        state: latest.state.clone(),
        state_zh: state.map(|s| s.zh.clone()).unwrap_or_default(),
        state_en: state.map(|s| s.en.clone()).unwrap_or_default(),
        platform: code,
        platform_name: name,
        region: format!("{:06}", latest.region),
        terms,
    })
}

/// A covered worker's monthly pension contribution under an agreement: the agreed base (kept
/// inside the region's floor and ceiling of the month) and the platform's agreed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreedQuote {
    pub case: String,
    pub title: String,
    pub month: String,
    pub region: String,
    pub base_fen: i64,
    /// Whether the base is the agreement's (else the lowest tier: it agreed none).
    pub base_agreed: bool,
    /// The agreed base fell outside the month's floor or ceiling and was brought inside.
    pub base_bounded: bool,
    /// The whole contribution of the month (before subsidies).
    pub monthly_fen: i64,
    /// What the worker pays after the subsidies paid at once, before the platform's share.
    pub net_monthly_fen: i64,
    pub platform_share_percent: u32,
    pub platform_fen: i64,
    /// What is left to the worker.
    pub worker_fen: i64,
    pub zh: String,
    pub en: String,
}

/// The quote of a worker of `rules_region` in `month` under the agreement `case` (its terms):
/// the quote calculator on the agreed base, then the platform's share taken off.
pub fn agreed_quote(
    policy: &Policy,
    reforms: &[String],
    rules_region: &str,
    month: YearMonth,
    case: &str,
    terms: &Terms,
) -> Result<AgreedQuote> {
    let mut req = QuoteRequest {
        region: rules_region.to_string(),
        month: Some(month),
        reforms: reforms.to_vec(),
        ..QuoteRequest::default()
    };
    let plain = quote(policy, &req, month).map_err(super::policy_err)?;
    let (base, bounded) = match terms.contribution_base_fen {
        Some(b) => {
            let kept = b.max(plain.base_floor_fen.0).min(plain.base_ceiling_fen.0);
            (Some(kept), kept != b)
        }
        None => (None, false),
    };
    let q = match base {
        Some(b) => {
            req.base_fen = Some(b);
            quote(policy, &req, month).map_err(super::policy_err)?
        }
        None => plain,
    };
    let share = terms.platform_share_percent.unwrap_or(0);
    let net = q.net_monthly_fen.0;
    // Half up, to the fen.
    let platform = (net * i64::from(share) + 50) / 100;
    let worker = (net - platform).max(0);
    let bound_note = if bounded {
        (
            "（协议基数超出本月上下限，按上下限计）",
            " (the agreed base is outside this month's floor or ceiling: bounded)",
        )
    } else {
        ("", "")
    };
    let base_words = if base.is_some() {
        (
            format!("协议约定缴费基数 {} 元{}", q.base_fen, bound_note.0),
            format!("the agreed base of {} yuan{}", q.base_fen, bound_note.1),
        )
    } else {
        (
            format!("最低档缴费基数 {} 元（协议未约定基数）", q.base_fen),
            format!(
                "the lowest base, {} yuan (the agreement sets none)",
                q.base_fen
            ),
        )
    };
    Ok(AgreedQuote {
        case: case.to_string(),
        title: terms.title.clone(),
        month: month.to_string(),
        region: q.region_code.clone(),
        base_fen: q.base_fen.0,
        base_agreed: base.is_some(),
        base_bounded: bounded,
        monthly_fen: q.monthly_fen.0,
        net_monthly_fen: net,
        platform_share_percent: share,
        platform_fen: platform,
        worker_fen: worker,
        zh: format!(
            "按集体合同《{}》（{case}）：{}，职工养老保险每月 {} 元，平台承担 {share}%（{} 元），你缴 {} 元（{}）",
            terms.title,
            base_words.0,
            Fen(net),
            Fen(platform),
            Fen(worker),
            q.region_zh
        ),
        en: format!(
            "under the collective agreement \"{}\" ({case}): {}, the employee pension is {} yuan a month; the platform pays {share} % ({} yuan), you pay {} yuan ({})",
            terms.title,
            base_words.1,
            Fen(net),
            Fen(platform),
            Fen(worker),
            q.region_en
        ),
    })
}

/// The agreements covering the actor (a worker, for themselves) today, each with the quote it
/// gives them this month.
pub fn mine<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    clock: &dyn Clock,
) -> Result<Vec<(AgreementView, AgreedQuote)>> {
    crate::access::check(actor, crate::access::Action::CoveredAgreements)?;
    let person = actor.account.person.map(PersonKey).ok_or_else(|| {
        CaseError::Denied(crate::access::Denied {
            why: crate::access::Why::NotOwner,
            zh: "这个账户没有关联本人的记录".into(),
            en: "this account is not linked to a person's record".into(),
        })
    })?;
    let now = jiff::Timestamp::from_second(clock.unix_seconds())
        .map_err(|_| bad("时间无效", "the time is not valid"))?
        .to_zoned(anxin_domain::china())
        .date();
    let residence = records
        .store()
        .person(&person.0)?
        .map(|p| p.residence_region)
        .unwrap_or_default();
    let rules_region = engine.policy_region(super::region(residence)?);
    let month = month_of(now)?;
    let mut out = Vec::new();
    for a in covering(records, engine, &person, now)? {
        let q = agreed_quote(
            engine.policy,
            engine.reforms,
            &rules_region,
            month,
            &a.case,
            &a.terms,
        )?;
        out.push((a, q));
    }
    Ok(out)
}
