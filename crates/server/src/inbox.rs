//! The inbox (SPEC §M4): what `anxin_service::inbox` generated for the signed-in worker.
//! - `GET /inbox`: their messages as cards, newest first, each unread one with a "mark as
//!   read" button (`POST /inbox/{id}/read`);
//! - `GET /api/inbox?limit=&after=`: the same a page at a time ([`crate::list`]; the cursor
//!   is the message id), `POST /api/inbox/{id}/read`: marks one read (204; 404 for a message
//!   that is not the caller's);
//! - `GET /api/inbox/rates`, `GET /clerk/inbox`: delivery and read rates per message kind,
//!   for clerks, inspectors and analysts (counts only, no person).
//!
//! The owner's messages only: `anxin_service::access::own_inbox` gives the caller's own
//! person, and every query is by that person. Reading one's own messages is not an official's
//! read of a record, so it is not in the access log.

use anxin_policy::Lang;
use anxin_records::inbox::MessageRow;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, logout_button};
use crate::list::{ListQuery, Page, PageQuery, Window};
use crate::{ApiError, AppState, Chrome, Params, lang_of, private_html};
use anxin_service::access::{self as rules, Action};
use anxin_service::inbox as rules_inbox;
use askama::Template;

/// One message as the API gives it.
#[derive(Debug, Serialize)]
pub struct MessageItem {
    /// The message id (also the cursor).
    pub id: i64,
    pub kind: String,
    /// The month it is about.
    pub month: String,
    /// Unix seconds.
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub title_zh: String,
    pub title_en: String,
    pub text_zh: String,
    pub text_en: String,
}

fn item(m: MessageRow) -> MessageItem {
    let r = rules_inbox::render_row(&m);
    let (title_zh, title_en, text_zh, text_en) = match r {
        Some(r) => (r.title_zh, r.title_en, r.body_zh, r.body_en),
        None => (
            "消息".into(),
            "Message".into(),
            "这条消息的模板已不在本版本中".into(),
            "this message's template is not in this version".into(),
        ),
    };
    MessageItem {
        id: m.id,
        kind: m.kind,
        month: m.month,
        created_at: m.created_at,
        read_at: m.read_at,
        title_zh,
        title_en,
        text_zh,
        text_en,
    }
}

async fn messages(
    state: &AppState,
    caller: &Caller,
    window: Window<i64>,
) -> Result<Page<MessageItem>, ApiError> {
    let person = rules::own_inbox(caller.actor())?;
    let rows = state
        .read(move |r| {
            Ok(r.store()
                .inbox_of(&person.0, window.after, window.fetch())?)
        })
        .await?;
    let rows: Vec<MessageItem> = rows.into_iter().map(item).collect();
    Ok(Page::of(rows, &window, |m| m.id.to_string()))
}

/// `GET /api/inbox`
pub async fn api_inbox(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page<MessageItem>>, ApiError> {
    let window = q.by_id()?;
    Ok(Json(messages(&state, &caller, window).await?))
}

fn not_yours() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这条消息（或它不是你的）",
        "no such message (or it is not yours)",
    )
}

fn message_id(text: &str) -> Result<i64, ApiError> {
    crate::whole_number::<i64>(text)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ApiError::bad_input(
                "消息编号应是正整数",
                "a message id is a positive whole number",
            )
        })
}

async fn mark_read(state: &AppState, caller: &Caller, id: i64) -> Result<(), ApiError> {
    let person = rules::own_inbox(caller.actor())?;
    let now = state.clock.unix_seconds();
    let found = state
        .write(move |r| Ok(r.store().inbox_mark_read(&person.0, id, now)?))
        .await?;
    if found { Ok(()) } else { Err(not_yours()) }
}

/// `POST /api/inbox/{id}/read`
pub async fn api_mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    mark_read(&state, &caller, message_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReadForm {
    csrf: String,
    lang: Option<String>,
}

/// `POST /inbox/{id}/read`: the page's button; back to the inbox.
pub async fn mark_read_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ReadForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    mark_read(&state, &caller, message_id(&id)?).await?;
    let lang = lang_of(f.lang.as_deref());
    Ok(Redirect::to(&format!("/inbox?lang={}", lang.code())).into_response())
}

fn day(seconds: i64, lang: Lang) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_zoned(anxin_domain::china()).date().to_string())
        .unwrap_or_else(|_| lang.pick("未知", "unknown").into())
}

/// `GET /inbox`: the signed-in worker's messages as cards.
pub async fn inbox_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let window = q.list.by_id()?;
    let list = messages(&state, &caller, window).await?;
    Ok(private_html(&InboxPage {
        c: Chrome::new(lang, lang.pick("我的消息", "My messages")),
        empty: list.items.is_empty() && window.after.is_none(),
        messages: list
            .items
            .iter()
            .map(|m| Shown {
                id: m.id,
                unread: m.read_at.is_none(),
                title: lang.pick(&m.title_zh, &m.title_en).to_string(),
                text: lang.pick(&m.text_zh, &m.text_en).to_string(),
                other: lang.pick(&m.text_en, &m.text_zh).to_string(),
                sent: day(m.created_at, lang),
                read: m.read_at.map(|t| day(t, lang)).unwrap_or_default(),
            })
            .collect(),
        next: list.next.clone(),
        csrf: caller.csrf(),
        logout: logout_button(&caller, lang),
    }))
}

/// `templates/inbox.html`: the messages as cards that read at 360 px, newest first.
#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    /// No message at all (not merely none older).
    empty: bool,
    messages: Vec<Shown>,
    next: Option<String>,
    csrf: String,
    logout: String,
}

/// A message as its card shows it: in the page's language, the other beside it.
struct Shown {
    id: i64,
    unread: bool,
    title: String,
    text: String,
    other: String,
    sent: String,
    read: String,
}

/// `templates/inbox_rates.html`: delivery and read rates per kind (cards on a phone).
#[derive(Template)]
#[template(path = "inbox_rates.html")]
struct RatesPage {
    c: Chrome,
    labels: [&'static str; 5],
    rows: Vec<[String; 5]>,
    logout: String,
}

crate::extends_layout!(InboxPage, RatesPage);

/// Delivery and read rates of one message kind.
#[derive(Debug, Serialize)]
pub struct KindRate {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub messages: u64,
    pub read: u64,
    pub delivered: u64,
    /// In the dead-letter list.
    pub dead: u64,
    /// Read and delivered as a share of the messages, in whole percent (rounded down).
    pub read_percent: u64,
    pub delivered_percent: u64,
}

#[derive(Debug, Serialize)]
pub struct Rates {
    pub kinds: Vec<KindRate>,
}

async fn rates(state: &AppState, caller: &Caller) -> Result<Rates, ApiError> {
    caller.may(Action::InboxRates)?;
    let counts = state.read(|r| Ok(r.store().inbox_counts()?)).await?;
    let percent = |part: u64, whole: u64| (part * 100).checked_div(whole).unwrap_or(0);
    Ok(Rates {
        kinds: counts
            .into_iter()
            .map(|c| {
                let (zh, en) = rules_inbox::kind_name(&c.kind);
                KindRate {
                    name_zh: zh.into(),
                    name_en: en.into(),
                    read_percent: percent(c.read, c.messages),
                    delivered_percent: percent(c.delivered, c.messages),
                    kind: c.kind,
                    messages: c.messages,
                    read: c.read,
                    delivered: c.delivered,
                    dead: c.dead,
                }
            })
            .collect(),
    })
}

/// `GET /api/inbox/rates`
pub async fn api_rates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Rates>, ApiError> {
    Ok(Json(rates(&state, &caller).await?))
}

/// `GET /clerk/inbox`: the rates as a table (cards on a phone).
pub async fn rates_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let r = rates(&state, &caller).await?;
    Ok(private_html(&RatesPage {
        c: Chrome::new(
            lang,
            lang.pick("消息送达和阅读", "Messages delivered and read"),
        ),
        labels: [
            lang.pick("消息类型", "Kind"),
            lang.pick("条数", "Messages"),
            lang.pick("已送达网关", "Delivered"),
            lang.pick("已读", "Read"),
            lang.pick("投递失败（死信）", "Dead letters"),
        ],
        rows: r
            .kinds
            .iter()
            .map(|k| {
                [
                    lang.pick(&k.name_zh, &k.name_en).to_string(),
                    k.messages.to_string(),
                    format!("{} ({}%)", k.delivered, k.delivered_percent),
                    format!("{} ({}%)", k.read, k.read_percent),
                    k.dead.to_string(),
                ]
            })
            .collect(),
        logout: logout_button(&caller, lang),
    }))
}
