//! The monitor's results on pages and in the API (issue 16; SPEC §M1–§M3). Thin: what each
//! account sees and every step's rules are `anxin_service::monitor` and `access`; this file
//! reads the request and writes HTML or JSON. The server never runs the monthly run (that is
//! `anxin monitor run`, DataFusion): it reads the run's files under the data directory.
//!
//! - `GET /grid`: the grid worker's phone page — the alerts of their cells, reason and
//!   evidence in plain words, buttons to acknowledge, record a contact and close
//!   (`POST /grid/{alert}/act`, a form: no script);
//! - `GET /monitor/compliance`: the inspector's page — each platform of the region in the
//!   run's year: coverage, grade and why, the under-80 %-for-3-years list, injury bills;
//! - `GET /platform/rating`: a platform's own rating, bill and the workers counted against it
//!   (pseudonyms only);
//! - `GET /api/grid/alerts`, `POST /api/grid/alerts/{alert}/steps`,
//!   `GET /api/monitor/compliance`, `GET /api/monitor/rating`: the same as JSON;
//! - `POST /api/platform/activity?month=YYYY-MM`: a platform delivers a batch of its month's
//!   orders (the body: CSV with the delivery columns, or Parquet), checked row by row like a
//!   delivered file; the answer lists every refused row with its reason.
//!
//! Each takes `month=YYYY-MM` (default: the latest run).

use std::path::PathBuf;
use std::sync::Arc;

use anxin_domain::Fen;
use anxin_policy::Lang;
use anxin_service::monitor::{
    self as rules, AlertView, ComplianceDesk, Delivery, GridDesk, OUTCOMES, Rating, StepRequest,
    VIAS,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use anxin_service::access::Action;

use crate::auth::{Caller, logout_button};
use crate::{ApiError, AppState, Chrome, Params, lang_of, private_html};

/// The monitor's routes, mounted by [`crate::router`].
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/grid", get(grid_page))
        .route("/grid/{alert}/act", post(act_submit))
        .route("/monitor/compliance", get(compliance_page))
        .route("/platform/rating", get(rating_page))
        .route("/api/grid/alerts", get(api_alerts))
        .route("/api/grid/alerts/{alert}/steps", post(api_step))
        .route("/api/monitor/compliance", get(api_compliance))
        .route("/api/monitor/rating", get(api_rating))
        .route(
            "/api/platform/activity",
            post(api_deliver).layer(axum::extract::DefaultBodyLimit::max(
                rules::MAX_DELIVERY_BYTES,
            )),
        )
}

/// The query of every monitor page and read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    pub month: Option<String>,
    pub lang: Option<String>,
}

/// The data directory whose monitor files the server reads.
fn data_dir(state: &AppState) -> Result<Arc<PathBuf>, ApiError> {
    state.data_dir.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_records",
            "本服务没有打开数据目录：用 anxin serve --data 目录 启动",
            "this server has no data directory: start it with anxin serve --data DIR",
        )
    })
}

async fn desk(
    state: &AppState,
    caller: Caller,
    month: Option<String>,
) -> Result<GridDesk, ApiError> {
    caller.may(Action::GridAlerts)?;
    let dir = data_dir(state)?;
    state
        .read(move |r| Ok(rules::grid_desk(r, &dir, caller.actor(), month.as_deref())?))
        .await
}

async fn step(
    state: &AppState,
    caller: Caller,
    id: String,
    req: StepRequest,
) -> Result<AlertView, ApiError> {
    caller.may(Action::GridAlerts)?;
    let dir = data_dir(state)?;
    let clock = state.clock.clone();
    state
        .write(move |r| {
            Ok(rules::act(
                r,
                &dir,
                caller.actor(),
                &id,
                &req,
                clock.as_ref(),
            )?)
        })
        .await
}

async fn compliance(
    state: &AppState,
    caller: &Caller,
    month: Option<String>,
) -> Result<ComplianceDesk, ApiError> {
    caller.may(Action::MonitorCompliance)?;
    let dir = data_dir(state)?;
    let account = caller.account.clone();
    let role = caller.role;
    tokio::task::spawn_blocking(move || {
        let actor = anxin_service::access::Actor::new(&account, role);
        rules::compliance(&dir, actor, month.as_deref())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

async fn rating(
    state: &AppState,
    caller: &Caller,
    month: Option<String>,
) -> Result<Rating, ApiError> {
    caller.may(Action::PlatformRating)?;
    let dir = data_dir(state)?;
    let account = caller.account.clone();
    let role = caller.role;
    tokio::task::spawn_blocking(move || {
        let actor = anxin_service::access::Actor::new(&account, role);
        rules::rating(&dir, actor, month.as_deref())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

/// `GET /api/grid/alerts?month=`
pub async fn api_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<GridDesk>, ApiError> {
    Ok(Json(desk(&state, caller, q.month).await?))
}

/// `POST /api/grid/alerts/{alert}/steps {"action", "via"?, "when"?, "note"?, "outcome"?}`
pub async fn api_step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<AlertView>, ApiError> {
    let req: StepRequest = crate::json_object(&bytes).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"action\", \"via\"?, \"when\"?, \"note\"?, \"outcome\"?}}：{e}"),
            format!("the request must be {{\"action\", \"via\"?, \"when\"?, \"note\"?, \"outcome\"?}}: {e}"),
        )
    })?;
    Ok(Json(step(&state, caller, id, req).await?))
}

/// The query of a delivery: the month it is for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverQuery {
    /// Required; checked after the caller's role, so a refusal never depends on the query.
    pub month: Option<String>,
}

/// `POST /api/platform/activity?month=YYYY-MM`: a platform's batch of activity.
pub async fn api_deliver(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DeliverQuery>,
    bytes: axum::body::Bytes,
) -> Result<Json<Delivery>, ApiError> {
    caller.may(Action::DeliverActivity)?;
    let dir = data_dir(&state)?;
    let now = anxin_domain::Clock::now(state.clock.as_ref());
    // One delivery at a time: two batches of the same month never both miss each other's
    // order ids.
    let delivery = state
        .write(move |r| {
            Ok(rules::deliver(
                r,
                &dir,
                caller.actor(),
                q.month.as_deref().unwrap_or(""),
                &bytes,
                now,
            )?)
        })
        .await?;
    Ok(Json(delivery))
}

/// `GET /api/monitor/compliance?month=`
pub async fn api_compliance(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<ComplianceDesk>, ApiError> {
    Ok(Json(compliance(&state, &caller, q.month).await?))
}

/// `GET /api/monitor/rating?month=`
pub async fn api_rating(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Json<Rating>, ApiError> {
    Ok(Json(rating(&state, &caller, q.month).await?))
}

fn yuan(fen: i64) -> String {
    Fen(fen).yuan_string()
}

/// A month with a run, as the other months' links show it (`templates/month_links.html`).
struct MonthLink {
    month: String,
    current: bool,
}

/// The months with a run, newest first, the one shown marked.
fn month_links(months: &[String], current: &str) -> Vec<MonthLink> {
    months
        .iter()
        .rev()
        .map(|m| MonthLink {
            month: m.clone(),
            current: m == current,
        })
        .collect()
}

/// A step of an alert, in the page's language.
struct StepLine {
    at: String,
    action: String,
    via: Option<String>,
    contact_at: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
}

/// An alert as the grid page shows it: what, why, the facts, the steps so far and the
/// steps allowed next.
struct AlertCard {
    id: String,
    month: String,
    /// Its state's code (a class: `open`, `closed`, …).
    state: String,
    state_words: String,
    kind: String,
    reason: String,
    area: String,
    person: String,
    orders: i64,
    income: String,
    platforms: i64,
    last_paid: Option<String>,
    prev_avg: Option<String>,
    steps: Vec<StepLine>,
    acknowledge: bool,
    contact: bool,
    close: bool,
}

fn alert_card(a: &AlertView, lang: Lang) -> AlertCard {
    let x = &a.alert;
    let both = |zh: &Option<String>, en: &Option<String>| match (zh, en) {
        (Some(zh), Some(en)) => Some(lang.pick(zh, en).to_string()),
        _ => None,
    };
    let next = |n: &str| a.next.iter().any(|x| x == n);
    AlertCard {
        id: x.id.clone(),
        month: x.month.clone(),
        state: a.state.clone(),
        state_words: lang.pick(&a.state_zh, &a.state_en).to_string(),
        kind: lang.pick(&x.kind_zh, &x.kind_en).to_string(),
        reason: lang.pick(&x.reason_zh, &x.reason_en).to_string(),
        area: x.area.clone(),
        person: x.person.clone(),
        orders: x.orders,
        income: yuan(x.income_fen),
        platforms: x.platforms,
        last_paid: x.last_paid.clone(),
        prev_avg: x.prev_avg_fen.map(yuan),
        steps: a
            .steps
            .iter()
            .map(|s| {
                let via = both(&s.via_zh, &s.via_en);
                StepLine {
                    at: s.at.clone(),
                    action: lang.pick(&s.action_zh, &s.action_en).to_string(),
                    contact_at: s.contact_at.clone().filter(|_| via.is_some()),
                    via,
                    note: s.note.clone(),
                    outcome: both(&s.outcome_zh, &s.outcome_en),
                }
            })
            .collect(),
        acknowledge: next("acknowledge"),
        contact: next("contact"),
        close: next("close"),
    }
}

/// `templates/grid.html`: the grid worker's alerts, each with its forms.
#[derive(askama::Template)]
#[template(path = "grid.html")]
struct GridPage {
    c: Chrome,
    cells: String,
    month: Option<String>,
    open: usize,
    months: Vec<MonthLink>,
    months_path: &'static str,
    alerts: Vec<AlertCard>,
    /// How contacts are made and how alerts close: code and words.
    vias: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    max_note: usize,
    csrf: String,
    logout: String,
}

/// A platform as the inspector's tables show it: its name (when registered with one) over
/// its credit code.
struct PlatformLine {
    platform: String,
    name: String,
    active: i64,
    insured: i64,
    coverage: String,
    grade: String,
    why: String,
}

/// A line of an occupational-injury bill (`templates/injury_table.html`).
struct InjuryLine {
    platform: String,
    name: String,
    region: String,
    sector: String,
    orders: i64,
    per_order: String,
    bill: String,
}

/// `templates/compliance.html`: the inspector's page.
#[derive(askama::Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    c: Chrome,
    month: Option<String>,
    year: String,
    months: Vec<MonthLink>,
    months_path: &'static str,
    rows: Vec<PlatformLine>,
    sanction: Vec<PlatformLine>,
    injury: Vec<InjuryLine>,
    injury_total: String,
    logout: String,
}

/// `templates/rating.html`: a platform's own rating.
#[derive(askama::Template)]
#[template(path = "rating.html")]
struct RatingPage {
    c: Chrome,
    platform: String,
    month: Option<String>,
    months: Vec<MonthLink>,
    months_path: &'static str,
    rating: Option<RatingCard>,
    injury: Vec<InjuryLine>,
    injury_total: String,
    /// The pseudonyms shown (the first [`COUNTED_ON_PAGE`]) and how many there are.
    counted: Option<Vec<String>>,
    counted_all: usize,
    logout: String,
}

struct RatingCard {
    year: i32,
    name: String,
    grade: String,
    active: i64,
    insured: i64,
    coverage: String,
    why: String,
}

crate::extends_layout!(GridPage, CompliancePage, RatingPage);

/// `GET /grid`: the grid worker's alerts, open ones first.
pub async fn grid_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let d = desk(&state, caller.clone(), q.month).await?;
    let pick = |list: &[(&'static str, &'static str, &'static str)]| {
        list.iter()
            .map(|(c, zh, en)| (*c, lang.pick(zh, en)))
            .collect()
    };
    Ok(private_html(&GridPage {
        c: Chrome::new(lang, lang.pick("我的网格预警", "My grid alerts")),
        cells: d.cells.join("、"),
        open: d.alerts.iter().filter(|a| a.state != "closed").count(),
        months: month_links(&d.months, d.month.as_deref().unwrap_or_default()),
        months_path: "/grid",
        month: d.month,
        alerts: d.alerts.iter().map(|a| alert_card(a, lang)).collect(),
        vias: pick(&VIAS),
        outcomes: pick(&OUTCOMES),
        max_note: rules::MAX_NOTE_CHARS,
        csrf: caller.csrf(),
        logout: logout_button(&caller, lang),
    }))
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    lang: Option<String>,
    month: Option<String>,
    action: String,
    via: Option<String>,
    when: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
}

/// `POST /grid/{alert}/act`: a button of the grid page; back to the alert on the page.
pub async fn act_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StepForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    let req = StepRequest {
        action: f.action,
        via: f.via,
        when: f.when,
        note: f.note,
        outcome: f.outcome,
    };
    let v = step(&state, caller, id, req).await?;
    let month = f
        .month
        .filter(|m| anxin_domain::YearMonth::parse(m).is_ok())
        .map(|m| format!("&month={m}"))
        .unwrap_or_default();
    Ok(Redirect::to(&format!(
        "/grid?lang={}{month}#a-{}",
        lang.code(),
        v.alert.id
    ))
    .into_response())
}

/// The lines of an injury bill and their total in yuan; each platform named by `name`.
fn injury_lines(
    policy: &anxin_policy::Policy,
    lines: &[rules::InjuryRow],
    name: &dyn Fn(&str) -> String,
    lang: Lang,
) -> (Vec<InjuryLine>, String) {
    let shown = lines
        .iter()
        .map(|l| InjuryLine {
            name: name(&l.platform),
            platform: l.platform.clone(),
            region: l
                .region
                .parse::<u32>()
                .map(|r| crate::text::place_name(policy, r, lang))
                .unwrap_or_else(|_| l.region.clone()),
            sector: anxin_policy::calc::injury::Sector::parse(&l.sector)
                .map(|s| lang.pick(s.zh(), s.en()).to_string())
                .unwrap_or_else(|| l.sector.clone()),
            orders: l.orders,
            per_order: l.per_order_fen.map(yuan).unwrap_or_else(|| "—".into()),
            bill: l
                .bill_fen
                .map(yuan)
                .unwrap_or_else(|| lang.pick(&l.note_zh, &l.note_en).to_string()),
        })
        .collect();
    let total: i64 = lines.iter().filter_map(|l| l.bill_fen).sum();
    (shown, yuan(total))
}

/// `GET /monitor/compliance`: the inspector's page.
pub async fn compliance_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let d = compliance(&state, &caller, q.month).await?;
    let names: std::collections::BTreeMap<String, String> = d
        .rows
        .iter()
        .map(|r| (r.platform.clone(), r.name.clone()))
        .collect();
    let name_of = |code: &str| names.get(code).cloned().unwrap_or_default();
    let line = |r: &rules::ComplianceRow| PlatformLine {
        platform: r.platform.clone(),
        name: name_of(&r.platform),
        active: r.active,
        insured: r.insured,
        coverage: r.coverage_percent.clone(),
        grade: r.grade.clone(),
        why: lang.pick(&r.why_zh, &r.why_en).to_string(),
    };
    let year = match (d.rows.first(), &d.month) {
        (Some(r), _) => r.year.to_string(),
        (None, Some(m)) => m.chars().take(4).collect(),
        (None, None) => String::new(),
    };
    let (injury, injury_total) = injury_lines(&state.policy, &d.injury, &name_of, lang);
    Ok(private_html(&CompliancePage {
        c: Chrome::new(lang, lang.pick("平台参保合规", "Platform compliance")),
        year,
        months: month_links(&d.months, d.month.as_deref().unwrap_or_default()),
        months_path: "/monitor/compliance",
        month: d.month.clone(),
        rows: d.rows.iter().map(line).collect(),
        sanction: d.sanction_list.iter().map(line).collect(),
        injury,
        injury_total,
        logout: logout_button(&caller, lang),
    }))
}

/// Pseudonyms listed on the page at most (the API has them all).
const COUNTED_ON_PAGE: usize = 500;

/// `GET /platform/rating`: the platform's own rating.
pub async fn rating_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<MonthQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let r = rating(&state, &caller, q.month).await?;
    // The platform's own lines: its credit code alone.
    let (injury, injury_total) = injury_lines(&state.policy, &r.injury, &|_| String::new(), lang);
    Ok(private_html(&RatingPage {
        c: Chrome::new(lang, lang.pick("本平台的参保评级", "Our rating")),
        months: month_links(&r.months, r.month.as_deref().unwrap_or_default()),
        months_path: "/platform/rating",
        rating: r.rating.as_ref().map(|c| RatingCard {
            year: c.year,
            name: c.name.clone(),
            grade: c.grade.clone(),
            active: c.active,
            insured: c.insured,
            coverage: c.coverage_percent.clone(),
            why: lang.pick(&c.why_zh, &c.why_en).to_string(),
        }),
        injury,
        injury_total,
        counted_all: r.counted.as_ref().map_or(0, Vec::len),
        counted: r
            .counted
            .map(|list| list.into_iter().take(COUNTED_ON_PAGE).collect()),
        platform: r.platform,
        month: r.month,
        logout: logout_button(&caller, lang),
    }))
}

// ---- the API document's schemas ----

pub fn step_body() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "additionalProperties": false, "required": ["action"],
        "properties": {
            "action": { "type": "string", "enum": ["acknowledge", "contact", "close"] },
            "via": { "type": ["string", "null"], "enum": ["visit", "phone", "message", "other", null] },
            "when": { "type": ["string", "null"], "description": "联系时间 YYYY-MM-DD, YYYY-MM-DDTHH:MM (China time) or RFC 3339; empty: now" },
            "note": { "type": ["string", "null"], "maxLength": rules::MAX_NOTE_CHARS, "description": "联系情况 what came of the contact (no ID or phone numbers)" },
            "outcome": { "type": ["string", "null"], "enum": ["enrolled", "will_enrol", "resumed", "insured_elsewhere", "declined", "unreachable", "moved_away", "data_error", null] }
        }
    })
}

pub fn alert_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["id", "month", "area", "kind", "person", "reason_zh", "reason_en", "state", "steps", "next"],
        "properties": {
            "id": { "type": "string" }, "month": { "type": "string" }, "area": { "type": "string" },
            "kind": { "type": "string", "enum": ["uninsured", "stopped", "missed", "school_cohort", "income_drop"] },
            "person": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
            "orders": { "type": "integer" }, "income_fen": { "type": "integer" },
            "platforms": { "type": "integer" },
            "last_paid": { "type": ["string", "null"] }, "prev_avg_fen": { "type": ["integer", "null"] },
            "reason_zh": { "type": "string" }, "reason_en": { "type": "string" },
            "state": { "type": "string", "enum": ["open", "acknowledged", "contacted", "closed"] },
            "steps": { "type": "array", "items": { "type": "object" } },
            "next": { "type": "array", "items": { "type": "string" } }
        }
    })
}

pub fn delivery_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["batch", "platform", "month", "rows", "landed", "refused", "reasons", "refusals"],
        "properties": {
            "batch": { "type": "string" }, "platform": { "type": "string" }, "month": { "type": "string" },
            "rows": { "type": "integer" }, "landed": { "type": "integer" }, "refused": { "type": "integer" },
            "reasons": { "type": "object", "additionalProperties": { "type": "integer" } },
            "refusals": { "type": "array", "items": {
                "type": "object", "required": ["line", "order_id", "reason", "reason_zh", "reason_en"],
                "properties": {
                    "line": { "type": "integer" }, "order_id": { "type": "string" },
                    "reason": { "type": "string" }, "reason_zh": { "type": "string" }, "reason_en": { "type": "string" }
                }
            } }
        }
    })
}

pub fn desk_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "cells", "alerts"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "cells": { "type": "array", "items": { "type": "string" } },
            "alerts": { "type": "array", "items": alert_schema() }
        }
    })
}

fn compliance_row() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["platform", "name", "year", "active", "insured", "coverage_percent", "grade", "sanction"],
        "properties": {
            "platform": { "type": "string" }, "name": { "type": "string" }, "year": { "type": "integer" },
            "active": { "type": "integer" }, "insured": { "type": "integer" },
            "coverage_percent": { "type": "string" }, "years_under": { "type": "integer" },
            "sanction": { "type": "boolean" }, "grade": { "type": "string", "enum": ["A", "B", "C", "D"] },
            "why_zh": { "type": "string" }, "why_en": { "type": "string" }
        }
    })
}

fn injury_row() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["platform", "region", "sector", "orders"],
        "properties": {
            "platform": { "type": "string" }, "region": { "type": "string" }, "sector": { "type": "string" },
            "orders": { "type": "integer" }, "per_order_fen": { "type": ["integer", "null"] },
            "bill_fen": { "type": ["integer", "null"] }, "note_zh": { "type": "string" }, "note_en": { "type": "string" }
        }
    })
}

pub fn compliance_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "rows", "sanction_list", "injury"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "rows": { "type": "array", "items": compliance_row() },
            "sanction_list": { "type": "array", "items": compliance_row() },
            "injury": { "type": "array", "items": injury_row() }
        }
    })
}

pub fn rating_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object", "required": ["month", "months", "platform", "rating", "injury", "counted"],
        "properties": {
            "month": { "type": ["string", "null"] },
            "months": { "type": "array", "items": { "type": "string" } },
            "platform": { "type": "string" },
            "rating": { "oneOf": [compliance_row(), { "type": "null" }] },
            "injury": { "type": "array", "items": injury_row() },
            "counted": { "type": ["array", "null"], "items": { "type": "string", "pattern": "^[0-9a-f]{16}$" } }
        }
    })
}
