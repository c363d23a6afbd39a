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
use crate::{ApiError, AppState, Params, cards_head, cards_row, esc, lang_of};

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
    let body = render(&result, &view.name, paid_months, tier, lang);
    Ok(crate::private_page(
        lang,
        lang.pick("养老金测算", "Pension projection"),
        &body,
    ))
}

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
fn chart_caption(result: &PensionResult, lang: Lang) -> String {
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
        lines.push(esc(&line));
    }
    if lines.is_empty() {
        return String::new();
    }
    // One caption per figure (HTML allows no more), a line per scenario.
    format!("<figcaption>{}</figcaption>", lines.join("<br>"))
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

fn render(
    result: &PensionResult,
    name: &str,
    paid_months: u32,
    tier: Option<u32>,
    lang: Lang,
) -> String {
    let mut body = format!(
        "<p>{} · {} {}{} · {} {}</p>",
        esc(name),
        lang.pick("已缴养老保险", "pension months paid"),
        paid_months,
        lang.pick(" 个月", ""),
        lang.pick("预计退休", "expected retirement"),
        result.retirement_month,
    );
    body.push_str(&format!(
        "<form method=\"get\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><label>{}<input name=\"tier\" inputmode=\"numeric\" placeholder=\"60\" value=\"{}\"></label><button>{}</button></form>",
        lang.code(),
        lang.pick("以后按社平工资的百分之几缴（60–300）", "Pay from now at what percent of the average wage (60–300)"),
        tier.map(|t| t.to_string()).unwrap_or_default(),
        lang.pick("重新测算", "Recalculate"),
    ));
    body.push_str(&format!(
        "<figure>{}{}</figure>",
        chart(result, lang),
        chart_caption(result, lang)
    ));
    let labels = [
        lang.pick("情形", "Scenario"),
        lang.pick("累计月数", "Months in all"),
        lang.pick("每月养老金（元）", "Pension a month (yuan)"),
        lang.pick("够不够领", "Eligible"),
    ];
    body.push_str(&cards_head(&labels));
    for s in &result.scenarios {
        let eligible = if s.eligible {
            lang.pick("✓ 够 15 年", "✓ 15 years met").to_string()
        } else {
            match lang {
                Lang::Zh => format!("还差 {} 个月", s.shortfall_months),
                Lang::En => format!("{} months short", s.shortfall_months),
            }
        };
        body.push_str(&cards_row(
            &labels,
            &[
                esc(lang.pick(&s.label_zh, &s.label_en)),
                s.total_months.to_string(),
                s.total_fen.yuan_string(),
                esc(&eligible),
            ],
            "",
        ));
    }
    body.push_str("</table>");
    for n in &result.notes {
        body.push_str(&format!("<p>{}</p>", esc(lang.pick(&n.zh, &n.en))));
    }
    body.push_str(&format!(
        "<details><summary>{}</summary><pre>{}</pre></details>",
        lang.pick(
            "每一步怎么算的（含政策出处）",
            "How each figure is computed (with sources)"
        ),
        esc(&result.trace.render(lang))
    ));
    body
}
