//! The platform's report on its own workers (SPEC §X2, role platform: "its own workers'
//! activity reports and the contributions it paid"):
//! - `GET /api/platform/workers?limit=&after=`: the workers it paid for, a page at a time
//!   ([`crate::list`]; the cursor is the person key), each with the masked ID, the months it
//!   paid, the first and last of them, the amount in fen and the insurances;
//! - `GET /api/platform/months`: month by month, how many workers it paid for and how much;
//! - `GET /platform`: both on one page, the months as a bar chart, in yuan, with a link to the
//!   platform's rating (`/platform/rating`, the monitor's).
//!
//! A platform account sees only the rows its own credit code (the account's `org`) paid:
//! never another payer's rows of the same workers, never a month it did not pay.
//!
//! Not in the access log. A clerk's read of a record is logged because it shows the worker's
//! whole record; this report shows a platform only its own payments, each worker by masked
//! ID (first four and last four characters) and person key — no name, no full ID, no registry
//! facts, nothing another payer paid. Logging one row per listed worker on every page would
//! fill each worker's log with the platform's routine bookkeeping and bury the reads that
//! matter. Should the report ever show more than the platform's own payments, it must be
//! logged like a clerk's read.

use anxin_domain::Fen;
use anxin_policy::Lang;
use anxin_records::PersonKey;
use anxin_records::cert::insurance_zh;
use anxin_records::store::PayerMonthRow;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use crate::auth::{Caller, logout_button};
use crate::list::{ListQuery, Page, PageQuery, Window};
use crate::text::month_text;
use crate::{ApiError, AppState, CardsTable, Chrome, Params, lang_of, private_html};
use anxin_service::access::{self as rules, Action};

/// Months drawn in the page's chart (the table below it has every month).
const CHART_MONTHS: usize = 24;

/// The caller's own credit code: platform accounts only, and only one that has a code.
fn own_org(caller: &Caller) -> Result<String, ApiError> {
    caller.may(Action::PlatformReport)?;
    rules::own_org(caller.actor())
        .map(String::from)
        .ok_or_else(ApiError::internal)
}

/// One worker the platform paid for.
#[derive(Debug, Serialize)]
pub struct WorkerItem {
    /// The person key (also the cursor).
    pub key: String,
    pub id_masked: String,
    /// Months with a contribution this platform paid.
    pub months: u32,
    pub first_month: String,
    pub last_month: String,
    /// What this platform paid for them, in fen.
    pub amount_fen: i64,
    pub insurances: Vec<String>,
}

/// A page of the platform's workers, by person key.
async fn workers(
    state: &AppState,
    org: String,
    window: Window<PersonKey>,
) -> Result<Page<WorkerItem>, ApiError> {
    let rows = state
        .read(move |r| Ok(r.payer_workers(&org, window.after.as_ref(), window.fetch())?))
        .await?;
    let items = rows
        .into_iter()
        .map(|w| WorkerItem {
            key: w.key.hex(),
            id_masked: w.id_masked,
            months: w.paid.months,
            first_month: month_text(w.paid.first_month),
            last_month: month_text(w.paid.last_month),
            amount_fen: w.paid.amount_fen,
            insurances: w.paid.insurances,
        })
        .collect();
    Ok(Page::of(items, &window, |w| w.key.clone()))
}

/// One month of what the platform paid.
#[derive(Debug, Serialize)]
pub struct MonthItem {
    pub month: String,
    pub workers: u64,
    pub amount_fen: i64,
}

/// The platform's months and their total.
#[derive(Debug, Serialize)]
pub struct Months {
    pub org: String,
    pub months: Vec<MonthItem>,
    /// Everything it paid, in fen.
    pub amount_fen: i64,
}

async fn months(state: &AppState, org: String) -> Result<Months, ApiError> {
    let code = org.clone();
    let rows: Vec<PayerMonthRow> = state
        .read(move |r| Ok(r.store().payer_months(&code)?))
        .await?;
    let amount_fen = rows
        .iter()
        .try_fold(0i64, |sum, m| sum.checked_add(m.amount_fen))
        .ok_or_else(ApiError::internal)?;
    let months = rows
        .into_iter()
        .map(|m| MonthItem {
            month: month_text(m.month),
            workers: m.workers,
            amount_fen: m.amount_fen,
        })
        .collect();
    Ok(Months {
        org,
        months,
        amount_fen,
    })
}

fn window(q: &ListQuery) -> Result<Window<PersonKey>, ApiError> {
    q.window(PersonKey::from_hex)
}

/// `GET /api/platform/workers?limit=&after=`: the workers this platform paid for (see the
/// module: masked IDs, its own payments only, not in the access log).
pub async fn api_workers(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page<WorkerItem>>, ApiError> {
    let org = own_org(&caller)?;
    let window = window(&q)?;
    Ok(Json(workers(&state, org, window).await?))
}

/// `GET /api/platform/months`: what this platform paid, month by month.
pub async fn api_months(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Months>, ApiError> {
    let org = own_org(&caller)?;
    Ok(Json(months(&state, org).await?))
}

/// `GET /platform?after=`: the report page — months as a chart and a table, then a page of
/// workers with a link to the next.
pub async fn report_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let org = own_org(&caller)?;
    let window = window(&q.list)?;
    let summary = months(&state, org.clone()).await?;
    let list = workers(&state, org, window).await?;
    let chart = if summary.months.is_empty() {
        String::new()
    } else {
        chart(&summary.months, lang)
    };
    let limit = (window.limit != crate::list::DEFAULT_LIMIT).then_some(window.limit);
    Ok(private_html(&ReportPage {
        c: Chrome::new(
            lang,
            lang.pick("本平台缴费报告", "Our contributions report"),
        ),
        org: summary.org,
        total: Fen(summary.amount_fen).yuan_string(),
        chart,
        months: summary
            .months
            .iter()
            .rev()
            .map(|m| MonthLine {
                month: m.month.clone(),
                workers: m.workers,
                amount: Fen(m.amount_fen).yuan_string(),
            })
            .collect(),
        workers: workers_table(&list.items, lang),
        first_page: window.after.is_some(),
        next: list.next,
        limit,
        logout: logout_button(&caller, lang),
    }))
}

/// A month of the report's table, in yuan.
struct MonthLine {
    month: String,
    workers: u64,
    amount: String,
}

/// `templates/platform.html`: the report.
#[derive(askama::Template)]
#[template(path = "platform.html")]
struct ReportPage {
    c: Chrome,
    org: String,
    /// Everything paid, in yuan.
    total: String,
    chart: String,
    /// The months, newest first.
    months: Vec<MonthLine>,
    workers: CardsTable,
    /// Whether this is a later page (a link back to the first).
    first_page: bool,
    /// The next page's cursor, and the page size when not the default.
    next: Option<String>,
    limit: Option<u32>,
    logout: String,
}
crate::extends_layout!(ReportPage);

/// Amounts paid by month, the last [`CHART_MONTHS`], as bars in yuan.
fn chart(months: &[MonthItem], lang: Lang) -> String {
    // The page's language only: both side by side crowd a phone.
    let one = |zh: &str, en: &str| anxin_chart::Text::new(lang.pick(zh, en), "");
    let shown = &months[months.len().saturating_sub(CHART_MONTHS)..];
    let amounts: Vec<Option<i64>> = shown.iter().map(|m| Some(m.amount_fen)).collect();
    anxin_chart::BarChart {
        title: one("每月缴费金额", "Paid each month"),
        x_label: one("月份", "month"),
        y_label: one("元", "yuan"),
        categories: shown.iter().map(|m| m.month.clone()).collect(),
        series: vec![anxin_chart::Series::from_fen(
            lang.pick("本平台缴纳", "paid by this platform"),
            &amounts,
        )],
        unit: anxin_chart::Unit::Yuan,
    }
    .to_svg()
}

/// The workers of a page, as cards on a phone.
fn workers_table(items: &[WorkerItem], lang: Lang) -> CardsTable {
    CardsTable {
        labels: crate::names(&[
            lang.pick("证件号", "ID"),
            lang.pick("月数", "Months"),
            lang.pick("起止", "From – to"),
            lang.pick("险种", "Insurances"),
            lang.pick("金额（元）", "Amount (yuan)"),
        ]),
        rows: items
            .iter()
            .map(|w| {
                let insurances: Vec<&str> = w
                    .insurances
                    .iter()
                    .map(|i| lang.pick(insurance_zh(i), i))
                    .collect();
                (
                    "",
                    vec![
                        w.id_masked.clone(),
                        w.months.to_string(),
                        format!("{} – {}", w.first_month, w.last_month),
                        insurances.join(lang.pick("、", ", ")),
                        Fen(w.amount_fen).yuan_string(),
                    ],
                )
            })
            .collect(),
    }
}
