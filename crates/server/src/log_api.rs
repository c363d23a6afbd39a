//! The log and its audit through the API: an entry's offline bundle (inclusion proof), a
//! consistency proof between two signed checkpoints, and a full audit run. The proofs are
//! `anxin_service::proofs`, the same as `anxin log prove`; the audit is `Records::audit`, the
//! same as `anxin audit` and the clerk's audit page.

use anxin_service::proofs::{self, Entry};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::{ApiError, AppState, Params};
use anxin_service::access::Action;

#[derive(Deserialize)]
pub struct InclusionQuery {
    seq: Option<String>,
    key: Option<String>,
}

/// `GET /api/log/inclusion?seq=N` or `?key=RECORD_ID`: the entry's bytes, its inclusion proof
/// and the signed checkpoint, checkable offline with the log's public key (clerks, inspectors,
/// auditors: an entry's bytes name a person by key).
pub async fn inclusion(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.may(Action::ProveLog)?;
    let entry = match (q.seq.as_deref(), q.key) {
        (Some(s), None) => Entry::Seq(size(s, "seq")?),
        (None, Some(k)) if !k.is_empty() && k.len() <= 200 => Entry::Key(k),
        _ => {
            return Err(ApiError::bad_input(
                "请给出 seq（日志序号，从 0 起）或 key（记录号，1–200 个字符）之一",
                "give exactly one of seq (the entry's place in the log, from 0) or key (its record id, 1–200 characters)",
            ));
        }
    };
    let bundle = state
        .write(move |r| Ok(proofs::inclusion(r, &entry)?))
        .await?;
    serde_json::to_value(&bundle)
        .map(Json)
        .map_err(|_| ApiError::internal())
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/log/consistency?from=SIZE[&to=SIZE]`: proof that the log at `to` (default: now)
/// extends the log at `from`; both must be sizes the log signed a checkpoint at.
pub async fn consistency(
    State(state): State<AppState>,
    _caller: Caller,
    Params(q): Params<ConsistencyQuery>,
) -> Result<Json<proofs::Consistency>, ApiError> {
    let from = size(q.from.as_deref().unwrap_or(""), "from")?;
    let to = q.to.as_deref().map(|t| size(t, "to")).transpose()?;
    Ok(Json(
        state
            .write(move |r| Ok(proofs::consistency(r, from, to)?))
            .await?,
    ))
}

/// A log position or size: a whole number from 0.
fn size(text: &str, name: &str) -> Result<u64, ApiError> {
    crate::whole_number(text).ok_or_else(|| {
        let shown: String = text.chars().take(20).collect();
        ApiError::bad_input(
            format!("{name} 须为从 0 起的整数，收到「{shown}」"),
            format!("{name} must be a whole number from 0, got \"{shown}\""),
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// Also rebuild every projection (persons, contributions, …) from the log and compare.
    #[serde(default)]
    projections: bool,
}

/// `POST /api/audit {"projections": bool}`: recomputes the log from the stored rows (and,
/// asked, every projection) and names every row changed behind the log's back.
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.may(Action::Audit)?;
    let req: AuditRequest = if body.is_empty() {
        AuditRequest::default()
    } else {
        crate::json_object(&body).map_err(|e| {
            ApiError::bad_input(
                format!("请求须为 {{\"projections\": true 或 false}}：{e}"),
                format!("the request must be {{\"projections\": true or false}}: {e}"),
            )
        })?
    };
    let _running = state.gates.audit()?;
    let started = std::time::Instant::now();
    let projections = req.projections;
    let report = state
        .write(move |r| Ok(r.audit(None, anxin_records::AuditScope { projections })?))
        .await?;
    let mut value = report.to_json();
    value["seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
    Ok(Json(value))
}
