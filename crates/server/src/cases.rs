//! Cases through the API (issue 15): file a case, read it, take a step, the queue. Thin: every
//! rule, clock and permission is `anxin_service::cases` / `access`; this file only reads the
//! request and turns the answer or the refusal into JSON.

use std::sync::OnceLock;

use anxin_service::access::Why;
use anxin_service::cases::evidence::{self, Upload};
use anxin_service::cases::{self, CaseError, Engine, FileRequest, Kinds};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::list::{ListQuery, Page};
use crate::{ApiError, AppState, Params};

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        match e {
            // A step the case's state does not allow is a conflict with the case as it is,
            // not a permission: 409 (the party may take it, just not now).
            CaseError::Denied(d) if d.why == Why::State => {
                ApiError::new(axum::http::StatusCode::CONFLICT, "conflict", d.zh, d.en)
            }
            CaseError::Denied(d) => d.into(),
            CaseError::Records(e) => e.into(),
        }
    }
}

/// The kinds compiled in, read once.
fn kinds() -> Result<&'static Kinds, ApiError> {
    static KINDS: OnceLock<Result<Kinds, String>> = OnceLock::new();
    KINDS
        .get_or_init(Kinds::embedded)
        .as_ref()
        .map_err(|_| ApiError::internal())
}

/// Runs `f` on the records with the case engine (the policy, the kinds, the deployment's
/// reforms: `[cases] reforms` of `anxin.toml`) and
/// the server's clock: on the one writer for a step (`write`), on a reader from the pool for
/// showing a case or a queue.
async fn with_engine<T: Send + 'static>(
    state: &AppState,
    write: bool,
    f: impl FnOnce(
        &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
        &Engine<'_>,
        &dyn anxin_domain::Clock,
    ) -> Result<T, CaseError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let kinds = kinds()?;
    let (policy, clock) = (state.policy.clone(), state.clock.clone());
    let reforms = state.case_reforms.clone();
    let run = move |r: &mut anxin_records::Records<Box<dyn anxin_records::Store>>| {
        let engine = Engine {
            policy: &policy,
            kinds,
            reforms: &reforms,
        };
        Ok(f(r, &engine, clock.as_ref())?)
    };
    if write {
        state.write(run).await
    } else {
        state.read(run).await
    }
}

/// A case id as the engine makes them: `c-` and 16 hex digits.
fn check_id(id: &str) -> Result<(), ApiError> {
    let ok = id.len() == 18
        && id.starts_with("c-")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "案件编号应是 c- 加 16 位十六进制数字",
            "a case id is c- followed by 16 hex digits",
        ))
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, ApiError> {
    crate::json_object(bytes).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {shape}：{e}"),
            format!("the request must be {shape}: {e}"),
        )
    })
}

/// `POST /api/cases {"kind", "subject", "party"}`: a worker files a case for themselves.
pub async fn api_file(
    State(state): State<AppState>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: FileRequest = body(&bytes, "{\"kind\", \"subject\", \"party\"}")?;
    let view = with_engine(&state, true, move |r, engine, clock| {
        cases::file(r, engine, caller.actor(), &req, clock)
    })
    .await?;
    Ok(Json(json!(view)))
}

/// `GET /api/cases/{case}`: the case, its clocks and steps, for whoever may read it.
pub async fn api_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let view = with_engine(&state, false, move |r, engine, clock| {
        cases::show(r, engine, caller.actor(), &id, clock)
    })
    .await?;
    Ok(Json(json!(view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: String,
    #[serde(default)]
    outcome: Option<String>,
}

/// `POST /api/cases/{case}/actions {"action", "outcome"?}`: take a step.
pub async fn api_act(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let b: ActBody = body(&bytes, "{\"action\", \"outcome\"?}")?;
    let view = with_engine(&state, true, move |r, engine, clock| {
        let outcome = b.outcome.as_deref();
        cases::act(r, engine, caller.actor(), &id, &b.action, outcome, clock)
    })
    .await?;
    Ok(Json(json!(view)))
}

/// `GET /api/cases?limit=&after=`: the queue of an inspector's office or a union's region,
/// in case id order, a page at a time.
pub async fn api_queue(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page<Value>>, ApiError> {
    let window = q.window(|s| (s.is_empty() || check_id(s).is_ok()).then(|| s.to_string()))?;
    let fetch = window.fetch() as usize;
    let after = window.after.clone().unwrap_or_default();
    let rows = with_engine(&state, false, move |r, engine, _| {
        let mut rows = cases::queue(r, engine, caller.actor())?;
        rows.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        Ok(rows
            .into_iter()
            .filter(|c| c.case_id > after)
            .take(fetch)
            .collect::<Vec<_>>())
    })
    .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({
                "id": c.case_id, "kind": c.case_kind, "state": c.state,
                "holder_role": c.holder_role, "holder_region": format!("{:06}", c.holder_region),
                "level": c.level, "due": c.due,
            })
        })
        .collect();
    Ok(Json(Page::of(items, &window, |v| {
        v["id"].as_str().unwrap_or_default().to_string()
    })))
}

/// Largest evidence upload body: one file at the largest per-file limit anxin ships (the
/// parameter `case.evidence.max_file_bytes`, 10 MB) with room to spare; the limit itself is
/// checked below, by the parameter in force.
pub const MAX_EVIDENCE_BODY: usize = 12 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    name: Option<String>,
}

/// `POST /api/cases/{case}/evidence?name=`: the worker attaches one file, sent as the body
/// with its content type (`image/jpeg`, `image/png`, `application/pdf`, `text/plain`).
pub async fn api_evidence_add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<EvidenceQuery>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let upload = Upload {
        name: q.name.unwrap_or_default(),
        content_type,
        bytes: bytes.to_vec(),
    };
    let list = with_engine(&state, true, move |r, engine, clock| {
        evidence::attach(r, engine, caller.actor(), &id, &[upload], clock)
    })
    .await?;
    Ok(Json(json!({ "files": list })))
}

/// `GET /api/cases/{case}/evidence`: the case's files (name, type, size, SHA-256, log entry).
pub async fn api_evidence_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let list = with_engine(&state, false, move |r, engine, _| {
        evidence::list(r, engine, caller.actor(), &id)
    })
    .await?;
    Ok(Json(json!({ "files": list })))
}

/// `GET /api/cases/{case}/evidence/{n}`: one file's bytes, with its type.
pub async fn api_evidence_get(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, n)): Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    check_id(&id)?;
    let n: u32 = n
        .parse()
        .ok()
        .filter(|n| (1..=9_999).contains(n))
        .ok_or_else(|| {
            ApiError::bad_input(
                "证据编号是 1 起的整数",
                "an evidence number is a whole number from 1",
            )
        })?;
    let (view, bytes) = with_engine(&state, false, move |r, engine, _| {
        evidence::download(r, engine, caller.actor(), &id, n)
    })
    .await?;
    use axum::response::IntoResponse as _;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, view.media_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"evidence-{}\"", view.n),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/cases/{case}/bundle`: the evidence bundle (issues the worker's certificate, so
/// it goes through the writer); checked offline with `anxin case bundle verify`.
pub async fn api_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    check_id(&id)?;
    let bundle = with_engine(&state, true, move |r, engine, clock| {
        evidence::bundle(r, engine, caller.actor(), &id, clock)
    })
    .await?;
    // The file's own bytes (its canonical encoding is part of what is verified).
    use axum::response::IntoResponse as _;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        bundle.to_bytes(),
    )
        .into_response())
}

/// JSON Schema of a case's evidence list.
pub fn evidence_schema() -> Value {
    json!({
        "type": "object", "required": ["files"],
        "properties": { "files": { "type": "array", "items": {
            "type": "object", "required": ["n", "name", "media_type", "size", "sha256", "log_index"],
            "properties": {
                "n": { "type": "integer", "minimum": 1 }, "name": { "type": "string" },
                "media_type": { "type": "string", "enum": ["image/jpeg", "image/png", "application/pdf", "text/plain"] },
                "size": { "type": "integer", "minimum": 1 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "log_index": { "type": "integer", "minimum": 0 }
            }
        } } }
    })
}

/// JSON Schema of an evidence bundle.
pub fn bundle_schema() -> Value {
    json!({
        "type": "object",
        "required": ["format", "suite", "manifest", "signature", "files", "entries", "tree_size", "checkpoint", "certificate"],
        "properties": {
            "format": { "type": "string", "const": evidence::BUNDLE_FORMAT },
            "suite": { "type": "string" },
            "manifest": { "type": "string", "description": "the signed manifest, exact JSON text" },
            "signature": { "type": "string" },
            "files": { "type": "array", "items": { "type": "object" } },
            "entries": { "type": "array", "items": { "type": "object" } },
            "tree_size": { "type": "integer" },
            "checkpoint": { "type": "string" },
            "certificate": { "type": "object" }
        }
    })
}

/// A file's bytes.
pub fn evidence_bytes() -> Value {
    json!({ "type": "string", "format": "binary" })
}

/// JSON Schema of a case as the API returns it.
pub fn case_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "kind", "state", "state_zh", "state_en", "holder_role", "holder_region", "level", "clocks", "next", "steps"],
        "properties": {
            "id": { "type": "string" }, "kind": { "type": "string" },
            "state": { "type": "string" }, "state_zh": { "type": "string" }, "state_en": { "type": "string" },
            "holder_role": { "type": "string" }, "holder_region": { "type": "string" },
            "level": { "type": "integer", "minimum": 0 },
            "clocks": { "type": "array", "items": { "type": "object" } },
            "next": { "type": "array", "items": { "type": "string" } },
            "steps": { "type": "array", "items": { "type": "object" } }
        }
    })
}

/// JSON Schema of a queue page.
pub fn queue_schema() -> Value {
    crate::list::schema(json!({
        "type": "object", "required": ["id", "kind", "state", "holder_role", "holder_region", "level", "due"],
        "properties": {
            "id": { "type": "string" }, "kind": { "type": "string" }, "state": { "type": "string" },
            "holder_role": { "type": "string" }, "holder_region": { "type": "string" },
            "level": { "type": "integer" }, "due": { "type": ["integer", "null"], "description": "unix seconds" }
        }
    }))
}

/// JSON Schema of a filing.
pub fn file_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["kind", "subject", "party"],
        "properties": {
            "kind": { "type": "string", "enum": ["complaint"] },
            "subject": { "type": "string", "enum": ["unpaid_wages", "contributions_unpaid", "injury", "account_blocked", "penalty", "other"] },
            "party": { "type": "string", "minLength": 1, "maxLength": 100 }
        }
    })
}

/// JSON Schema of a step.
pub fn act_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["action"],
        "properties": {
            "action": { "type": "string" },
            "outcome": { "type": "string" }
        }
    })
}
