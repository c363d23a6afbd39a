//! Transfers between regional instances over HTTP (issue 14). A peer posts one signed message
//! to `POST /federation/v1/messages`; the answer is the JSON list of signed replies (the
//! package to a liaison request, the acknowledgement to a package, the seal to an
//! acknowledgement; the same bytes to a message sent again). A message that is refused
//! (garbage, an unknown peer, a key that does not verify, a step that does not fit the
//! transfer) gets a bilingual refusal with its reason's code and changes nothing. Every check
//! is the state machine's (`anxin_service::transfer`); this only translates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use anxin_service::transfer::{Refusal, Why};

use crate::{ApiError, AppState};

/// The largest message body a peer may post (a package with its proofs, with room).
pub const MAX_MESSAGE_BODY: usize = anxin_service::transfer::message::MAX_MESSAGE_BYTES + 4096;

/// The HTTP status of a refused message.
pub fn status_of(why: Why) -> StatusCode {
    match why {
        Why::Malformed | Why::WrongKind => StatusCode::BAD_REQUEST,
        Why::UnknownPeer | Why::WrongKey | Why::NotForUs => StatusCode::FORBIDDEN,
        Why::OutOfOrder | Why::OpenTransfer | Why::Arrears => StatusCode::CONFLICT,
        Why::NoSuchPerson => StatusCode::NOT_FOUND,
        Why::Internal => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A refusal as the API answers it: `{"error": {"kind": <reason code>, "zh", "en"}}`.
pub fn refused(r: Refusal) -> ApiError {
    let e = ApiError::new(status_of(r.why), r.why.code(), r.zh, r.en);
    if r.why == Why::Internal {
        e.retry_after(5)
    } else {
        e
    }
}

fn not_federated() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "本实例没有开启实例间转移（启动时用 --federation-name 指定本实例的名字）",
        "this instance takes no transfers between instances (start it with --federation-name)",
    )
}

/// `POST /federation/v1/messages`: one signed message from a peer.
pub async fn receive(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Some(node) = state.federation.clone() else {
        return not_federated().into_response();
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return refused(Refusal::new(
            Why::Malformed,
            "消息不是 UTF-8 文本",
            "the message is not UTF-8 text",
        ))
        .into_response();
    };
    match tokio::task::spawn_blocking(move || node.receive(&text)).await {
        Ok(Ok(replies)) => (StatusCode::OK, Json(replies)).into_response(),
        Ok(Err(r)) => {
            tracing::info!(target: crate::logging::SERVER, reason = r.why.code(), "federation message refused");
            refused(r).into_response()
        }
        Err(_) => ApiError::internal().into_response(),
    }
}

/// `POST /api/transfers`: a worker asks to move their insurance here, or a clerk of this
/// region asks for a worker at the desk.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The worker's resident ID, for a clerk asking for a worker at the desk (sealed to the
    /// origin before it leaves; never logged). A worker leaves it out: their own record's is
    /// used.
    #[serde(default)]
    pub person_id: Option<String>,
    /// Where the worker was insured (the origin instance is the peer keeping it).
    pub from_region: String,
    /// Where the worker moves to (this instance's region).
    pub to_region: String,
    /// Pension periods elsewhere this instance knows of (the calculator's periods).
    #[serde(default)]
    pub elsewhere: Vec<anxin_policy::calc::transfer::Period>,
    /// Months without medical insurance before joining here, when medical moves too.
    #[serde(default)]
    pub medical_gap_months: Option<u32>,
}

pub async fn api_ask(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let node = state.federation.clone().ok_or_else(not_federated)?;
    caller.may(anxin_service::access::Action::RequestTransfer)?;
    let ask: AskBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_input(
            format!("请求不是有效的转移申请：{e}（需要 from_region、to_region；经办员代办时还要 person_id）"),
            format!("the body is not a transfer request: {e} (from_region and to_region are needed, and person_id when a clerk asks for a worker)"),
        )
    })?;
    let (started, _) = start(&state, node, caller, ask).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// Asks for a transfer (the API's and the page's form): the new transfer's JSON and its id.
pub async fn start(
    state: &AppState,
    node: std::sync::Arc<anxin_service::transfer::node::Node>,
    caller: crate::auth::Caller,
    ask: AskBody,
) -> Result<(serde_json::Value, String), ApiError> {
    let id = ask
        .person_id
        .as_deref()
        .map(|text| {
            anxin_domain::ResidentId::parse(text.trim()).map_err(|_| {
                ApiError::bad_input(
                    "person_id 不是有效的公民身份号码（18 位，最后一位可为 X）",
                    "person_id is not a valid resident ID (18 characters, the last may be X)",
                )
            })
        })
        .transpose()?;
    let today = state.clock.today();
    let request = anxin_service::transfer::package::LiaisonRequest {
        identity: String::new(),
        from_region: ask.from_region,
        to_region: ask.to_region,
        date: today.to_string(),
        elsewhere: ask.elsewhere,
        approved_transfer: false,
        medical_gap_months: ask.medical_gap_months,
    };
    let started = tokio::task::spawn_blocking(move || {
        let transfer = node.ask_as(caller.actor(), id.as_ref(), request)?;
        let t = node
            .transfer(&transfer)
            .map_err(anxin_service::transfer::node::AskError::Refused)?;
        Ok::<_, anxin_service::transfer::node::AskError>((transfer, t))
    })
    .await
    .map_err(|_| ApiError::internal())?;
    use anxin_service::transfer::node::AskError;
    match started {
        Ok((transfer, t)) => Ok((
            serde_json::json!({
                "id": transfer,
                "state": t.as_ref().map(|t| t.state.code()),
                "peer": t.as_ref().map(|t| t.peer.clone()),
                "due": t.as_ref().and_then(|t| t.due).map(|d| d.to_string()),
            }),
            transfer,
        )),
        Err(AskError::Denied(d)) => Err(d.into()),
        Err(AskError::Refused(r)) => Err(refused(r)),
    }
}

/// `GET /api/transfers`: the open transfers of this instance, most urgent first, with the
/// working days left on each step's clock (negative: overdue). Clerks.
pub async fn api_queue(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let node = state.federation.clone().ok_or_else(not_federated)?;
    caller.may(anxin_service::access::Action::TransferQueue)?;
    let rows = tokio::task::spawn_blocking(move || {
        let queue = node.queue()?;
        let mut out = Vec::with_capacity(queue.len());
        for q in queue {
            let peer = node.transfer(&q.transfer)?.map(|t| t.peer);
            out.push(serde_json::json!({
                "id": q.transfer,
                "role": q.role.code(),
                "state": q.state.code(),
                "peer": peer,
                "due": q.due.map(|d| d.to_string()),
                "working_days_left": q.days_left,
            }));
        }
        Ok::<_, Refusal>(out)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(refused)?;
    Ok(Json(serde_json::json!({ "items": rows })))
}

fn no_such_transfer() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "本实例没有这笔转移",
        "this instance has no such transfer",
    )
}

/// One transfer, if the caller may read it (`anxin_service::access::check_read_transfer`:
/// the worker it moves, or a clerk of its destination's region); a transfer the caller may
/// not read is refused the same whether it exists or not.
pub async fn readable(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: String,
) -> Result<anxin_service::transfer::node::Detail, ApiError> {
    let node = state.federation.clone().ok_or_else(not_federated)?;
    caller.may(anxin_service::access::Action::ReadTransfer)?;
    let found = tokio::task::spawn_blocking(move || node.detail(&id))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(refused)?;
    let Some(d) = found else {
        return Err(no_such_transfer());
    };
    let to = d.to_region.as_deref().and_then(|r| r.parse::<u32>().ok());
    anxin_service::access::check_read_transfer(caller.actor(), d.person.as_ref(), to)
        .map_err(|e| -> ApiError { e.into() })?;
    Ok(d)
}

/// `GET /api/transfers/{id}/voucher`: the transfer voucher (转移凭证) of a transfer done here.
pub async fn api_voucher(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    voucher_response(&state, &caller, id).await
}

/// The voucher as a file to keep (`转移凭证-{id}.json`).
pub async fn voucher_response(
    state: &AppState,
    caller: &crate::auth::Caller,
    id: String,
) -> Result<Response, ApiError> {
    let d = readable(state, caller, id.clone()).await?;
    let node = state.federation.clone().ok_or_else(not_federated)?;
    let voucher = tokio::task::spawn_blocking(move || node.voucher(&d.transfer.id))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(refused)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "这笔转移还没有办结：办结后才有转移凭证",
                "this transfer is not done yet: the voucher comes when it is",
            )
        })?;
    let file = format!("voucher-{}.json", id.replace([':', '/'], "-"));
    let mut r = Json(voucher).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        r.headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// `GET /api/transfers/{id}`: one transfer as this instance sees it (the worker it moves, or
/// clerks).
pub async fn api_show(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let d = readable(&state, &caller, id).await?;
    let (t, months) = (d.transfer, d.received.map(|r| r.months.len()));
    Ok(Json(serde_json::json!({
        "undelivered": d.undelivered,
        "id": t.id,
        "role": t.role.code(),
        "peer": t.peer,
        "state": t.state.code(),
        "since": t.since.to_string(),
        "due": t.due.map(|d| d.to_string()),
        "package": t.package,
        "refusal": t.refusal.map(|(code, zh, en)| serde_json::json!({ "kind": code, "zh": zh, "en": en })),
        "months": months,
        "sealed": t.seal.is_some(),
    })))
}

/// `POST /federation/v1/add-checkpoint`: C2SP `tlog-witness`. A peer asks this instance to
/// cosign its log's checkpoint: 200 with the cosignature line; 409 with the size this witness
/// has cosigned (`text/x.tlog.size`) when the request starts from another, also when the
/// peer's log shrank (kept as an alarm); 422 when the proof does not tie the checkpoint to the
/// one cosigned (a fork, kept as an alarm); 404 when no peer's log key signed it or the
/// instance is not federated; 400 malformed. Every check is the witness's
/// (`anxin_service::transfer::witness`).
pub async fn add_checkpoint(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    use anxin_service::transfer::witness::NotCosigned;
    let Some(node) = state.federation.clone() else {
        return not_federated().into_response();
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return refused(Refusal::new(
            Why::Malformed,
            "见证请求不是 UTF-8 文本",
            "the witness request is not UTF-8 text",
        ))
        .into_response();
    };
    match tokio::task::spawn_blocking(move || node.add_checkpoint(&text)).await {
        Ok(Ok(line)) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            line,
        )
            .into_response(),
        Ok(Err(NotCosigned::Conflict { size, refusal })) => {
            if matches!(refusal.why, Why::Rollback) {
                tracing::warn!(target: crate::logging::SERVER, reason = refusal.why.code(), "a peer's checkpoint is smaller than one cosigned: kept as an alarm");
            }
            (
                StatusCode::CONFLICT,
                [(axum::http::header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{size}\n"),
            )
                .into_response()
        }
        Ok(Err(NotCosigned::Refused(r))) => {
            tracing::info!(target: crate::logging::SERVER, reason = r.why.code(), "checkpoint not cosigned");
            let status = match r.why {
                Why::Malformed => StatusCode::BAD_REQUEST,
                Why::UnknownPeer => StatusCode::NOT_FOUND,
                Why::CheckpointInvalid => StatusCode::FORBIDDEN,
                Why::Internal => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            ApiError::new(status, r.why.code(), r.zh, r.en).into_response()
        }
        Err(_) => ApiError::internal().into_response(),
    }
}

/// `GET /api/witness`: what this instance knows of witnessing — its witness's name and key,
/// the peers' logs it cosigned, the alarms (a peer's log rolled back or forked, or this
/// instance's own log behind what a witness cosigned), each witness's latest cosignature of
/// this log (those who may audit).
pub async fn api_witness(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
) -> Result<Json<anxin_service::transfer::node::WitnessStatus>, ApiError> {
    caller.may(anxin_service::access::Action::Audit)?;
    let node = state.federation.clone().ok_or_else(not_federated)?;
    match tokio::task::spawn_blocking(move || node.witness_status()).await {
        Ok(Ok(status)) => Ok(Json(status)),
        Ok(Err(r)) => Err(refused(r)),
        Err(_) => Err(ApiError::internal()),
    }
}
