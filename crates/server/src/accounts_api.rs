//! The accounts as a JSON API (issue 13), beside the pages of [`crate::accounts`] and with
//! the same rules (`anxin_service::accounts`), permissions and limits: a worker's sign-up
//! (`POST /api/signups`, limited per client), the clerk's desk of the region's requests
//! (`GET /api/signups`, `POST /api/signups/{id}/confirm|refuse`), a clerk's password reset
//! for a worker at the desk (`POST /api/password-resets`: the temporary password, once), and
//! changing one's own password (`POST /api/account/password`: every session ends, a fresh
//! token comes back).

use anxin_records::access::SessionKind;
use anxin_service::access::Action;
use anxin_service::accounts::{self, SignupForm};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{Caller, ClientIp, account_json};
use crate::list::{ListQuery, Page};
use crate::{ApiError, AppState, Params};

/// The body as the JSON object `shape` describes, or a bilingual 400 saying so.
fn body<T: DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, ApiError> {
    crate::json_object(bytes).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {shape}：{e}"),
            format!("the request must be {shape}: {e}"),
        )
    })
}

/// Never cached, by the client or anything in between (a password, personal data).
fn no_store(status: StatusCode, v: Value) -> Response {
    let mut r = (status, Json(v)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    resident_id: String,
    name: String,
    phone: String,
    username: String,
    password: String,
    region: String,
}

/// `POST /api/signups`: a worker's request for an account, pending until a clerk of the
/// region confirms it at the desk.
pub async fn api_signup(
    State(state): State<AppState>,
    client: ClientIp,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b: SignupBody = body(
        &bytes,
        "{\"resident_id\", \"name\", \"phone\", \"username\", \"password\", \"region\"}",
    )?;
    let form = SignupForm {
        resident_id: b.resident_id,
        name: b.name,
        phone: b.phone,
        username: b.username,
        password: b.password,
        region: b.region,
    };
    let (id, region, username) = crate::accounts::add_signup(&state, &client, &form).await?;
    let zh_place = crate::text::place_name(&state.policy, region, anxin_policy::Lang::Zh);
    let en_place = crate::text::place_name(&state.policy, region, anxin_policy::Lang::En);
    Ok(no_store(
        StatusCode::CREATED,
        json!({
            "id": id,
            "username": username,
            "region": format!("{region:06}"),
            "state": "pending",
            "zh": format!("申请已提交（编号 {id}）：请带身份证到{zh_place}的社保经办窗口核实身份，核实后即可登录"),
            "en": format!("request no. {id} is in: take your ID card to the social insurance office of {en_place}; once a clerk has confirmed who you are, you can sign in"),
        }),
    ))
}

/// `GET /api/signups`: the pending requests of the clerk's region, oldest first, a page at
/// a time; each with the name to compare with the card, the masked ID and the phone's tail.
pub async fn api_pending(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSignup)?;
    let window = q.by_id()?;
    let after = window.after.unwrap_or(0);
    let fetch = window.fetch();
    let c = caller.clone();
    let rows = state
        .read(move |r| Ok(accounts::pending(r, c.actor(), after, fetch)?))
        .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "username": s.username,
                "name": s.name,
                "masked_id": s.masked_id,
                "phone_tail": s.phone_tail,
                "region": format!("{:06}", s.region),
                "created_at": s.created_at,
                "registered": s.registered,
                "accounts": s.accounts,
            })
        })
        .collect();
    let page = Page::of(items, &window, |v| v["id"].to_string());
    Ok(no_store(StatusCode::OK, json!(page)))
}

fn request_id(text: &str) -> Result<i64, ApiError> {
    crate::whole_number::<i64>(text)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "没有这份开户申请",
                "no such sign-up request",
            )
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardBody {
    card: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: String,
}

/// `POST /api/signups/{id}/confirm`: `{"card": "…"}`, the number on the ID card the worker
/// shows; the account opens only if it is the request's.
pub async fn api_confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSignup)?;
    let b: CardBody = body(&bytes, "{\"card\": 证件上的号码 the number on the card}")?;
    let id = request_id(&id)?;
    let now = state.now();
    let c = caller.clone();
    let username = state
        .write(move |r| Ok(accounts::confirm(r, c.actor(), id, &b.card, now)?))
        .await?;
    Ok(no_store(
        StatusCode::OK,
        json!({ "id": id, "state": "confirmed", "username": username }),
    ))
}

/// `POST /api/signups/{id}/refuse`: `{"reason": "…"}`, which the worker reads when signing in.
pub async fn api_refuse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSignup)?;
    let b: ReasonBody = body(&bytes, "{\"reason\": 不予开通的原因 the reason}")?;
    let id = request_id(&id)?;
    let now = state.now();
    let c = caller.clone();
    state
        .write(move |r| Ok(accounts::refuse(r, c.actor(), id, &b.reason, now)?))
        .await?;
    Ok(no_store(
        StatusCode::OK,
        json!({ "id": id, "state": "refused" }),
    ))
}

/// `POST /api/password-resets`: `{"card": "…"}` of a worker at the desk → the account's
/// username and a temporary password, shown once; every session of the account ends and
/// the worker must choose a new password before any opens.
pub async fn api_reset(
    State(state): State<AppState>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.may(Action::ResetPassword)?;
    let b: CardBody = body(&bytes, "{\"card\": 证件上的号码 the number on the card}")?;
    let (username, temporary) = crate::accounts::reset(&state, &caller, &b.card).await?;
    Ok(no_store(
        StatusCode::OK,
        json!({ "username": username, "temporary_password": temporary, "must_change": true }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    current: String,
    new: String,
}

/// `POST /api/account/password`: `{"current", "new"}` → a fresh bearer token; every session
/// of the account (this token's too) has ended.
pub async fn api_change(
    State(state): State<AppState>,
    client: ClientIp,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b: ChangeBody = body(
        &bytes,
        "{\"current\": 现在的密码 the current password, \"new\": 新密码 the new one}",
    )?;
    let (token, account, expires) = crate::accounts::change_own(
        &state,
        &client,
        &caller,
        &b.current,
        &b.new,
        &b.new,
        SessionKind::Api,
    )
    .await?;
    Ok(no_store(
        StatusCode::OK,
        json!({ "token": token, "expires_at": expires, "account": account_json(&account) }),
    ))
}
