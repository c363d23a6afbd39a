//! Cases through the API (issue 15): file a case, read it, take a step, the queue. Thin: every
//! rule, clock and permission is `anxin_service::cases` / `access`; this file only reads the
//! request and turns the answer or the refusal into JSON.

use std::sync::OnceLock;

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

/// Runs `f` on the records with the case engine (the policy, the kinds, no reforms yet) and
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
    let run = move |r: &mut anxin_records::Records<Box<dyn anxin_records::Store>>| {
        let engine = Engine {
            policy: &policy,
            kinds,
            reforms: &[],
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
