//! Cases through the API (issue 15): file a case, read it, take a step, the queue. Thin: every
//! rule, clock and permission is `anxin_service::cases` / `access`; this file only reads the
//! request and turns the answer or the refusal into JSON.

use std::sync::OnceLock;

use anxin_service::access::Why;
use anxin_service::cases::evidence::{self, Upload};
use anxin_service::cases::{self, CaseError, Engine, FileRequest, Kinds};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::list::{ListQuery, Page};
use crate::{ApiError, AppState, Params};
use anxin_records::access::Role;

/// Every use case's answer (a case's, an alert's, an account's): a step the state of the case
/// or the alert does not allow is a conflict with it as it is, not a permission: 409 (the party
/// may take it, just not now); other refusals by their reason; failures below by their kind.
impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        match e {
            CaseError::Denied(d) if d.why == Why::State => {
                ApiError::new(axum::http::StatusCode::CONFLICT, "conflict", d.zh, d.en)
            }
            CaseError::Denied(d) => d.into(),
            CaseError::Records(e) => e.into(),
        }
    }
}

/// The kinds compiled in, read once.
pub(crate) fn kinds() -> Result<&'static Kinds, ApiError> {
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
pub(crate) async fn with_engine<T: Send + 'static>(
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

/// `POST /api/cases {"kind", "subject", "party"?, "months"?}`: a worker files a case for
/// themselves (a complaint, a back-payment request, an enrolment).
pub async fn api_file(
    State(state): State<AppState>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: FileRequest = body(&bytes, "{\"kind\", \"subject\", \"party\"?, \"months\"?}")?;
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

/// Largest complaint form: the files of one case at the largest total anxin ships
/// (`case.evidence.max_total_bytes`, 30 MB) and the form's fields; the limits themselves are
/// checked by the parameters in force.
pub const MAX_FORM_BODY: usize = 32 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    name: Option<String>,
}

/// The `name` of an uploaded file as the API document allows it: 1 to 200 characters, no
/// control characters (the first 120 are kept).
fn check_file_name(name: &str) -> Result<(), ApiError> {
    let count = name.chars().count();
    if (1..=200).contains(&count) && !name.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "bad_name",
        "文件名须为 1 到 200 个字符，且不含控制字符",
        "the file name must be 1 to 200 characters with no control characters",
    ))
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
    if let Some(name) = &q.name {
        check_file_name(name)?;
    }
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
    // Through the writer: an official's download goes to the worker's access log.
    let (view, bytes) = with_engine(&state, true, move |r, engine, clock| {
        evidence::download(r, engine, caller.actor(), &id, n, clock)
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

/// JSON Schema of a filing: a complaint names its party; a back-payment its months; an
/// enrolment only its cover (the subject); an agreement (a union's) its platform's credit
/// code and its terms. A field a kind does not take is refused (400).
pub fn file_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["kind", "subject"],
        "properties": {
            "kind": { "type": "string", "enum": ["complaint", "backpay", "enrolment", "agreement"] },
            "subject": {
                "type": "string",
                "description": "complaint: unpaid_wages, contributions_unpaid, injury, account_blocked, penalty, other; backpay: pension; enrolment: pension, medical, injury; agreement: collective, wages, insurance",
                "enum": ["unpaid_wages", "contributions_unpaid", "injury", "account_blocked", "penalty", "other", "pension", "medical", "collective", "wages", "insurance"]
            },
            "party": { "type": "string", "maxLength": 100, "description": "complaint: a platform's credit code or name; agreement: the registered platform's credit code" },
            "months": {
                "type": "array", "maxItems": 120,
                "items": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" },
                "description": "backpay only: the missed months to pay, e.g. 2026-01"
            },
            "terms": crate::agreements::terms_schema()
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

// ---- pages (Chinese first, 360 px, no JavaScript) -------------------------------------------

/// What a worker may complain about, in words (the kind's subjects, in order).
const SUBJECTS: &[(&str, &str, &str)] = &[
    ("unpaid_wages", "拖欠工资、报酬", "unpaid wages or pay"),
    (
        "contributions_unpaid",
        "没有给我交社保",
        "contributions not paid",
    ),
    ("injury", "工作中受伤", "an injury at work"),
    (
        "account_blocked",
        "账号被封、被限制接单",
        "account blocked or restricted",
    ),
    ("penalty", "被罚款、扣钱", "a fine or deduction"),
    ("other", "其他", "something else"),
];

fn subject_words(code: &str, lang: anxin_policy::Lang) -> String {
    SUBJECTS
        .iter()
        .find(|s| s.0 == code)
        .map(|s| lang.pick(s.1, s.2).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A case in the list: its kind, state, the office holding it and its deadline in words.
struct Row {
    id: String,
    kind: String,
    state: String,
    holder: String,
    escalated: bool,
    due: String,
    late: bool,
}

/// `templates/cases_list.html`: the worker's filing links or the official's, then the cases
/// as cards.
#[derive(askama::Template)]
#[template(path = "cases_list.html")]
struct CasesList {
    c: crate::Chrome,
    worker: bool,
    /// The link to the collective agreements (a union's, a platform's, an inspector's).
    agreements: bool,
    rows: Vec<Row>,
    logout: String,
}

/// `templates/case_new.html`: the complaint form.
#[derive(askama::Template)]
#[template(path = "case_new.html")]
struct NewCase {
    c: crate::Chrome,
    csrf: String,
    /// What may be complained about: code and words.
    subjects: Vec<(&'static str, &'static str)>,
    /// The registered platforms: credit code and name.
    platforms: Vec<(String, String)>,
}

/// A deadline of a case, with the parameters that set it.
struct ClockLine {
    name: String,
    due: String,
    overdue: bool,
    params: Vec<ParamLine>,
}

/// A parameter behind a deadline: its words, value and source (and the reform it comes from).
struct ParamLine {
    name: String,
    value: String,
    source: String,
    reform: Option<String>,
}

struct StepLine {
    at: String,
    action: String,
    due: Option<String>,
    details: Vec<String>,
}

struct FileLine {
    n: u32,
    name: String,
    media_type: String,
    size: u64,
    /// The first 16 hex digits of its SHA-256.
    sha: String,
}

/// A step the caller may take now: its name, its words and the outcomes it can record.
struct ActLine {
    name: String,
    label: String,
    outcomes: Vec<(String, String)>,
}

/// `templates/case.html`: one case for whoever may read it.
#[derive(askama::Template)]
#[template(path = "case.html")]
struct CasePage {
    c: crate::Chrome,
    /// Why the files of a case just filed were not kept.
    notice: Option<String>,
    kind: String,
    id: String,
    state: String,
    /// What the case asks: `party` (a complaint), `agreement`, or a cover.
    request: &'static str,
    subject: String,
    party: String,
    holder: String,
    escalated: bool,
    outcome: Option<String>,
    clocks: Vec<ClockLine>,
    steps: Vec<StepLine>,
    agreement: bool,
    files: Vec<FileLine>,
    upload: bool,
    acts: Vec<ActLine>,
    csrf: String,
}

crate::extends_layout!(CasesList, NewCase, CasePage);

/// `GET /cases`: a worker's own cases and the way to file one; an inspector's, a clerk's, a
/// union's, a supervisor's or a platform's queue, overdue first; each deadline as a day and
/// what is left.
pub async fn cases_page(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Params(q): Params<crate::LangQuery>,
) -> Result<axum::response::Response, ApiError> {
    let lang = crate::lang_of(q.lang.as_deref());
    let worker = caller.role == Role::Worker;
    let now = state.clock.unix_seconds();
    let reader = caller.clone();
    let found = with_engine(&state, false, move |r, engine, _| {
        if worker {
            cases::mine(r, engine, reader.actor())
        } else {
            cases::queue(r, engine, reader.actor())
        }
    })
    .await?;
    let kinds = kinds()?;
    let rows = found
        .iter()
        .map(|c| {
            let kind = kinds.get(&c.case_kind);
            let state_words = kind
                .and_then(|k| k.state(&c.state))
                .map(|s| lang.pick(&s.zh, &s.en).to_string())
                .unwrap_or_else(|| c.state.clone());
            Row {
                id: c.case_id.clone(),
                kind: kind
                    .map(|k| lang.pick(&k.zh, &k.en).to_string())
                    .unwrap_or_default(),
                state: state_words,
                holder: crate::text::place_name(&state.policy, c.holder_region, lang),
                escalated: c.level > 0,
                due: match (c.due, kind) {
                    (Some(d), Some(k)) => {
                        let (zh, en) =
                            cases::clock_words(&state.policy, k, c.clock.as_deref(), d, now);
                        lang.pick(&zh, &en).to_string()
                    }
                    _ => "—".to_string(),
                },
                late: c.due.is_some_and(|d| d <= now),
            }
        })
        .collect();
    let title = if worker {
        lang.pick("我的案件", "My cases")
    } else {
        lang.pick("案件队列（逾期在前）", "Case queue (overdue first)")
    };
    Ok(crate::private_html(&CasesList {
        c: crate::Chrome::new(lang, title),
        worker,
        agreements: matches!(caller.role, Role::Union | Role::Platform | Role::Inspector),
        rows,
        logout: crate::auth::logout_button(&caller, lang),
    }))
}

/// The registered platforms (credit code, name), for the forms' lists.
pub(crate) async fn platforms(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    state
        .read(|r| {
            Ok(r.store()
                .orgs_all()?
                .into_iter()
                .filter(|o| o.kind == "platform")
                .map(|o| (o.code, o.name))
                .collect())
        })
        .await
}

/// The query of the filing form: which kind (default the complaint).
#[derive(Deserialize)]
pub struct NewCaseQuery {
    lang: Option<String>,
    kind: Option<String>,
}

/// `GET /cases/new`: the complaint form (what is wrong, the party, files); with
/// `?kind=backpay` the back-payment form (the missed months), with `?kind=enrolment` the
/// enrolment form (the cover, the income evidence).
pub async fn new_case_page(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Params(q): Params<NewCaseQuery>,
) -> Result<axum::response::Response, ApiError> {
    let lang = crate::lang_of(q.lang.as_deref());
    caller.may(anxin_service::access::Action::FileCase)?;
    match q.kind.as_deref() {
        None | Some("complaint") => {}
        Some("backpay") => return crate::case_forms::backpay_form(&state, &caller, lang).await,
        Some("enrolment") => return Ok(crate::case_forms::enrolment_form(&caller, lang)),
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            return Err(ApiError::bad_input(
                format!("没有“{shown}”这类案件（可用：complaint、backpay、enrolment）"),
                format!("there is no case kind {shown:?} (known: complaint, backpay, enrolment)"),
            ));
        }
    }
    let platforms = platforms(&state).await?;
    Ok(crate::private_html(&NewCase {
        c: crate::Chrome::new(lang, lang.pick("一键维权", "File a complaint")),
        csrf: caller.csrf(),
        subjects: SUBJECTS
            .iter()
            .map(|s| (s.0, lang.pick(s.1, s.2)))
            .collect(),
        platforms,
    }))
}

/// The text fields and the files (`files` parts) of a complaint form.
pub(crate) async fn read_form(
    mut multipart: axum::extract::Multipart,
) -> Result<(std::collections::HashMap<String, String>, Vec<Upload>), ApiError> {
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    let malformed = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_input(
            format!("上传的表单不完整或文件过大：{}", e.body_text()),
            format!(
                "the form is malformed or a file too large: {}",
                e.body_text()
            ),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if name == "files" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let content_type = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(malformed)?;
            // A file input left empty sends one part with no name and no bytes.
            if file_name.is_empty() && bytes.is_empty() {
                continue;
            }
            files.push(Upload {
                name: file_name,
                content_type,
                bytes: bytes.to_vec(),
            });
        } else if let Ok(text) = field.text().await {
            // A repeated field (the months ticked) keeps every value, comma-separated.
            fields
                .entry(name)
                .and_modify(|v: &mut String| {
                    v.push(',');
                    v.push_str(&text);
                })
                .or_insert(text);
        }
    }
    Ok((fields, files))
}

/// `POST /cases/new`: files the complaint, then attaches its files; a refused file leaves the
/// complaint filed and says why on its page.
pub async fn new_case_submit(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    multipart: axum::extract::Multipart,
) -> Result<axum::response::Response, ApiError> {
    let (fields, files) = read_form(multipart).await?;
    caller.check_csrf(fields.get("csrf").map_or("", String::as_str))?;
    let lang = crate::lang_of(fields.get("lang").map(String::as_str));
    let field = |n: &str| {
        fields
            .get(n)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let kind = match field("kind") {
        k if k.is_empty() => "complaint".to_string(),
        k => k,
    };
    let party = match (field("party_code"), field("party_name")) {
        (code, _) if !code.is_empty() => code,
        (_, name) => name,
    };
    let months: Vec<String> = field("month")
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    let req = FileRequest {
        kind,
        subject: field("subject"),
        party,
        months,
        terms: None,
    };
    let worker = caller.clone();
    let (id, refused) = with_engine(&state, true, move |r, engine, clock| {
        let view = cases::file(r, engine, caller.actor(), &req, clock)?;
        let refused = if files.is_empty() {
            None
        } else {
            match evidence::attach(r, engine, caller.actor(), &view.id, &files, clock) {
                Ok(_) => None,
                Err(e) => Some(ApiError::from(e)),
            }
        };
        Ok((view.id, refused))
    })
    .await?;
    match refused {
        None => Ok(
            axum::response::Redirect::to(&format!("/cases/{id}?lang={}", lang.code()))
                .into_response(),
        ),
        // Filed, but a file was refused: the case page, saying which and why.
        Some(e) => {
            let notice = lang.pick(&e.zh, &e.en).to_string();
            case_page_html(&state, worker, id, lang, Some(notice)).await
        }
    }
}

/// `GET /cases/{case}`: the case for whoever may read it — state, holder, each deadline,
/// every step, the evidence; the worker's upload form; the handler's steps.
pub async fn case_page(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
    Params(q): Params<crate::LangQuery>,
) -> Result<axum::response::Response, ApiError> {
    check_id(&id)?;
    let lang = crate::lang_of(q.lang.as_deref());
    case_page_html(&state, caller, id, lang, None).await
}

async fn case_page_html(
    state: &AppState,
    caller: crate::auth::Caller,
    id: String,
    lang: anxin_policy::Lang,
    notice: Option<String>,
) -> Result<axum::response::Response, ApiError> {
    let reader = caller.clone();
    let (view, files, party) = with_engine(state, false, move |r, engine, clock| {
        let view = cases::show(r, engine, reader.actor(), &id, clock)?;
        let files = evidence::list(r, engine, reader.actor(), &id)?;
        // A registered platform by its name (the case keeps its credit code).
        let code = view.party.clone().unwrap_or_default();
        let party = r
            .store()
            .org_names(&[code.as_str()])?
            .remove(&code)
            .unwrap_or(code);
        Ok((view, files, party))
    })
    .await?;
    let kinds = kinds()?;
    let kind = kinds.get(&view.kind);
    use anxin_service::cases::rules::Request;
    let request = kind.map_or(Request::Party, |k| k.request);
    let subject = view.subject.as_deref().unwrap_or_default();
    let (request_name, subject) = match (request, kind) {
        (Request::Party, _) => ("party", subject_words(subject, lang)),
        (Request::Agreement, Some(k)) => {
            let (zh, en) = k.subject(subject);
            ("agreement", lang.pick(&zh, &en).to_string())
        }
        _ => ("cover", crate::case_forms::cover_words(subject, lang)),
    };
    let outcome = view.outcome.as_ref().map(|o| {
        let (zh, en) = kind.map(|k| k.outcome(o)).unwrap_or((o.clone(), o.clone()));
        lang.pick(&zh, &en).to_string()
    });
    let clocks = view
        .clocks
        .iter()
        .map(|c| ClockLine {
            name: lang.pick(&c.zh, &c.en).to_string(),
            due: match (&c.due_zh, &c.due_en) {
                (Some(zh), Some(en)) => lang.pick(zh, en).to_string(),
                _ => c.note.clone().unwrap_or_default(),
            },
            overdue: c.overdue,
            params: c
                .params
                .iter()
                .map(|p| ParamLine {
                    // The parameter's words, not its key (a worker reads this page).
                    name: anxin_policy::schema::spec(&p.key)
                        .map_or(p.key.as_str(), |k| lang.pick(k.zh, k.en))
                        .to_string(),
                    value: p.value.to_string(),
                    source: p.source.clone(),
                    reform: p.reform.clone(),
                })
                .collect(),
        })
        .collect();
    let steps = view
        .steps
        .iter()
        .map(|s| StepLine {
            at: s.at.clone(),
            action: lang.pick(&s.action_zh, &s.action_en).to_string(),
            due: match (&s.due_zh, &s.due_en) {
                (Some(zh), Some(en)) => Some(lang.pick(zh, en).to_string()),
                _ => None,
            },
            details: s
                .detail
                .as_ref()
                .map(cases::effects::detail_lines)
                .unwrap_or_default()
                .iter()
                .map(|(zh, en)| lang.pick(zh, en).to_string())
                .collect(),
        })
        .collect();
    let agreement = request == Request::Agreement;
    let open = kind
        .and_then(|k| k.state(&view.state))
        .is_some_and(|s| !s.terminal);
    // The steps the kind allows now; who may take each is checked when taken (a refusal says
    // why). The worker sees only the steps the filer takes, an official the handler's.
    let mut acts = Vec::new();
    if let Some(k) = kind {
        for name in &view.next {
            let Some(t) = k.transition_at(name, &view.state) else {
                continue;
            };
            // The parties the step names, as the caller's role may be one of them (the
            // service decides who exactly may, and says why not).
            let mine = t.by.iter().any(|b| match b.as_str() {
                "filer" => caller.role == k.filer,
                "handler" => caller.role.as_str() == view.holder_role,
                "party" => caller.role == Role::Platform,
                _ => false,
            });
            if !mine {
                continue;
            }
            acts.push(ActLine {
                name: name.clone(),
                label: lang.pick(&t.zh, &t.en).to_string(),
                outcomes: t
                    .outcomes
                    .iter()
                    .map(|o| {
                        let (zh, en) = k.outcome(o);
                        (o.clone(), lang.pick(&zh, &en).to_string())
                    })
                    .collect(),
            });
        }
    }
    Ok(crate::private_html(&CasePage {
        c: crate::Chrome::new(lang, lang.pick("案件", "Case")),
        notice,
        kind: lang.pick(&view.kind_zh, &view.kind_en).to_string(),
        state: lang.pick(&view.state_zh, &view.state_en).to_string(),
        request: request_name,
        subject,
        party,
        holder: crate::text::place_name(
            &state.policy,
            view.holder_region.parse().unwrap_or(0),
            lang,
        ),
        escalated: view.level > 0,
        outcome,
        clocks,
        steps,
        agreement,
        files: files
            .iter()
            .map(|f| FileLine {
                n: f.n,
                name: f.name.clone(),
                media_type: f.media_type.clone(),
                size: f.size,
                sha: f.sha256.chars().take(16).collect(),
            })
            .collect(),
        upload: caller.role == Role::Worker && open && !agreement,
        acts,
        csrf: caller.csrf(),
        id: view.id,
    }))
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    action: String,
    outcome: Option<String>,
    lang: Option<String>,
}

/// `POST /cases/{case}/act`: a step from the case page.
pub async fn act_submit(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ActForm>,
) -> Result<axum::response::Response, ApiError> {
    check_id(&id)?;
    caller.check_csrf(&f.csrf)?;
    let lang = crate::lang_of(f.lang.as_deref());
    let to = format!("/cases/{id}?lang={}", lang.code());
    with_engine(&state, true, move |r, engine, clock| {
        let outcome = f.outcome.as_deref().filter(|o| !o.is_empty());
        cases::act(r, engine, caller.actor(), &id, &f.action, outcome, clock)
    })
    .await?;
    Ok(axum::response::Redirect::to(&to).into_response())
}

/// `POST /cases/{case}/evidence`: the worker adds files from the case page.
pub async fn evidence_submit(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
    multipart: axum::extract::Multipart,
) -> Result<axum::response::Response, ApiError> {
    check_id(&id)?;
    let (fields, files) = read_form(multipart).await?;
    caller.check_csrf(fields.get("csrf").map_or("", String::as_str))?;
    let lang = crate::lang_of(fields.get("lang").map(String::as_str));
    let to = format!("/cases/{id}?lang={}", lang.code());
    with_engine(&state, true, move |r, engine, clock| {
        evidence::attach(r, engine, caller.actor(), &id, &files, clock)
    })
    .await?;
    Ok(axum::response::Redirect::to(&to).into_response())
}

/// `GET /cases/{case}/evidence/{n}`: one file, for whoever may read the case.
pub async fn evidence_file(
    state: State<AppState>,
    caller: crate::auth::Caller,
    path: Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    api_evidence_get(state, caller, path).await
}

/// `GET /cases/{case}/bundle`: the evidence bundle as a download.
pub async fn bundle_file(
    state: State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let name = format!("attachment; filename=\"{id}-bundle.json\"");
    let mut r = api_bundle(state, caller, Path(id)).await?;
    if let Ok(v) = axum::http::HeaderValue::from_str(&name) {
        r.headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
