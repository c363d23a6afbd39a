//! The worker's pension projection from their own ledger months: "keep paying" beside "stop
//! after the school year" and "a year's gap", each with its plain-language explanation and a
//! chart drawn on the server (SVG, no JavaScript).
//!
//! Every figure comes from the `pension` calculator; this page only gathers the worker's
//! months and draws.

use anxin_chart::{BarChart, Series, Text, Unit};
use anxin_policy::Lang;
use anxin_policy::calc::pension::{PensionResult, Scenario};
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::auth::Caller;
use crate::{ApiError, AppState, Params, lang_of};

#[derive(Deserialize, Default)]
pub struct PensionQuery {
    lang: Option<String>,
    /// Contribution base tier from now on, percent of the local average wage (60–300).
    tier: Option<String>,
}

/// `GET /persons/{key}/pension` (the owner only: a projection is about one's own plans).
pub async fn pension_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<PensionQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let key = crate::person::own_key(
        &caller,
        &key,
        "养老金测算只对本人开放",
        "only the worker may open their own pension projection",
    )?;
    let tier = match q.tier.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<u32>()
                .ok()
                .filter(|t| (60..=300).contains(t))
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "缴费档次须为 60 到 300 之间的整数（社平工资的百分比）",
                        "the tier is a whole number from 60 to 300 (percent of the average wage)",
                    )
                })?,
        ),
    };
    let view = crate::person::view_of(&state, key).await?;
    let req = anxin_service::plans::pension_request(&view, tier);
    let paid_months = req.paid_months;
    let policy = state.policy.clone();
    let today = state.today();
    let result = tokio::task::spawn_blocking(move || {
        anxin_policy::calc::pension::project(&policy, &req, today)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    Ok(crate::private_html(&PensionPage::of(
        &result,
        &view.name,
        paid_months,
        tier,
        key.hex(),
        lang,
    )))
}

/// `templates/pension.html`: the comparison chart with its words, the table (cards on a
/// phone), the notes and how each figure is computed.
#[derive(askama::Template)]
#[template(path = "pension.html")]
struct PensionPage {
    c: crate::Chrome,
    name: String,
    paid_months: u32,
    retirement: String,
    tier: String,
    key: String,
    /// The chart (SVG drawn by anxin-chart).
    chart: String,
    /// Why a scenario has no employee-pension bar, a line each.
    captions: Vec<String>,
    labels: [&'static str; 4],
    rows: Vec<[String; 4]>,
    notes: Vec<String>,
    trace: String,
}
crate::extends_layout!(PensionPage);

/// A scenario's short name, so three fit side by side on a phone (the table gives the full
/// ones).
fn short_name(s: &anxin_policy::calc::pension::ScenarioResult, lang: Lang) -> String {
    match (s.scenario, lang) {
        (Scenario::Keep, Lang::Zh) => "一直交".to_string(),
        (Scenario::Keep, Lang::En) => "keep paying".to_string(),
        (Scenario::StopAfter(n), Lang::Zh) => format!("再交{n}月停"),
        (Scenario::StopAfter(n), Lang::En) => format!("stop after {n}"),
        (Scenario::Gap(n), Lang::Zh) => format!("断{n}月再交"),
        (Scenario::Gap(n), Lang::En) => format!("{n}-month gap"),
        (Scenario::Tier(p), Lang::Zh) => format!("按{p}%档"),
        (Scenario::Tier(p), Lang::En) => format!("at {p}%"),
    }
}

/// Why a scenario has no employee-pension bar, in words: months in all and months short, and
/// what the law lets the worker do then (社会保险法 第十六条).
fn chart_caption(result: &PensionResult, lang: Lang) -> Vec<String> {
    let mut lines = Vec::new();
    for s in result.scenarios.iter().filter(|s| !s.eligible) {
        let line = match lang {
            Lang::Zh => format!(
                "「{}」没有职工养老金这一柱：到退休时累计 {} 个月，还差 {} 个月，不能按月领取。可以继续缴费到够年限再按月领，或者转入城乡居民养老保险（社会保险法第十六条）。",
                short_name(s, lang),
                s.total_months,
                s.shortfall_months
            ),
            Lang::En => format!(
                "\"{}\" has no employee-pension bar: {} months in all at retirement, {} short, so no monthly pension. One may keep paying until the months are met, or move to the resident pension (Social Insurance Law, art. 16).",
                s.label_en, s.total_months, s.shortfall_months
            ),
        };
        lines.push(line);
    }
    // One caption per figure (HTML allows no more), a line per scenario.
    lines
}

/// The comparison chart: monthly pension per scenario beside the resident pension, its
/// words in the page's language only (both side by side crowd a phone).
pub fn chart(result: &PensionResult, lang: Lang) -> String {
    let one = |zh: &str, en: &str| Text::new(lang.pick(zh, en), "");
    // Short names, so three fit side by side on a phone (the table gives the full ones).
    let categories = result
        .scenarios
        .iter()
        .map(|s| short_name(s, lang))
        .collect();
    // A scenario that does not reach the months to draw a pension has no employee bar (the
    // chart writes "无" there and the caption below says why), never a bar of zero.
    let employee: Vec<Option<i64>> = result
        .scenarios
        .iter()
        .map(|s| s.eligible.then_some(s.total_fen.0))
        .collect();
    let resident: Vec<Option<i64>> = result
        .scenarios
        .iter()
        .map(|s| Some(s.resident_total_fen.0))
        .collect();
    BarChart {
        title: one("退休后每月能领多少", "Monthly pension at retirement"),
        x_label: one("情形", "scenario"),
        y_label: one("元/月", "yuan a month"),
        categories,
        series: vec![
            Series::from_fen(lang.pick("职工养老保险", "employee pension"), &employee),
            Series::from_fen(lang.pick("城乡居民养老保险", "resident pension"), &resident),
        ],
        unit: Unit::Yuan,
    }
    .to_svg()
}

impl PensionPage {
    fn of(
        result: &PensionResult,
        name: &str,
        paid_months: u32,
        tier: Option<u32>,
        key: String,
        lang: Lang,
    ) -> PensionPage {
        let rows = result
            .scenarios
            .iter()
            .map(|s| {
                let eligible = if s.eligible {
                    lang.pick("✓ 够 15 年", "✓ 15 years met").to_string()
                } else {
                    match lang {
                        Lang::Zh => format!("还差 {} 个月", s.shortfall_months),
                        Lang::En => format!("{} months short", s.shortfall_months),
                    }
                };
                [
                    lang.pick(&s.label_zh, &s.label_en).to_string(),
                    s.total_months.to_string(),
                    s.total_fen.yuan_string(),
                    eligible,
                ]
            })
            .collect();
        PensionPage {
            c: crate::Chrome::new(lang, lang.pick("养老金测算", "Pension projection")),
            name: name.to_string(),
            paid_months,
            retirement: result.retirement_month.to_string(),
            tier: tier.map(|t| t.to_string()).unwrap_or_default(),
            key,
            chart: chart(result, lang),
            captions: chart_caption(result, lang),
            labels: [
                lang.pick("情形", "Scenario"),
                lang.pick("累计月数", "Months in all"),
                lang.pick("每月养老金（元）", "Pension a month (yuan)"),
                lang.pick("够不够领", "Eligible"),
            ],
            rows,
            notes: result
                .notes
                .iter()
                .map(|n| lang.pick(&n.zh, &n.en).to_string())
                .collect(),
            trace: result.trace.render_named(lang),
        }
    }
}
