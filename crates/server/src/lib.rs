//! The HTTP face of anxin: the calculators and offline-checkable certificates, as a JSON API
//! and as server-rendered pages (Chinese by default, `?lang=en`), no JavaScript needed.
//!
//! Public: the calculators, the region list and the certificate check. Signed in (see
//! [`auth`]): a worker's own record, a clerk's search with every read logged ([`person`]), a
//! platform's report on what it paid for its own workers ([`platform`]).
//!
//! The server holds no rule: every figure comes from `anxin-policy`, every verdict from
//! `anxin-records`. Errors share one JSON shape, `{"error": {"kind", "zh", "en"}}`.

use std::sync::Arc;

use anxin_domain::YearMonth;
use anxin_ledger::Verifier;
use anxin_policy::{ErrorKind, Lang, Policy};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

pub mod accounts;
pub mod accounts_api;
pub mod agreements;
pub mod analyst;
pub mod auth;
pub mod case_forms;
pub mod cases;
pub mod certificates;
pub mod gates;
pub mod imports;
pub mod inbox;
pub mod list;
pub mod listen;
pub mod log_api;
pub mod logging;
pub mod metrics;
pub mod monitor;
pub mod openapi;
pub mod options;
pub mod pension;
pub mod person;
pub mod platform;
pub mod school_office;
pub mod text;
pub mod transfer;
pub mod transfer_pages;
pub mod upload;

/// The records the server reads and writes through: a pool of readers and one writer
/// (`anxin_service::db`), used off the async workers.
pub type Shared = anxin_service::db::Db;

/// The records on a runtime-chosen backend, as a handler's closure gets them.
pub type Rec = anxin_service::db::Rec;

/// Largest request body accepted (a certificate is a few kilobytes).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler reads. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub policy: Arc<Policy>,
    /// The log's public key, for the verify page; `None` when the server has no data directory.
    pub verifier: Option<Arc<Verifier>>,
    /// "Now" for the calculators; `None`: the current month.
    pub today: Option<YearMonth>,
    /// The records: `reads` (a pool of readers) and `writer` (the one writer's queue);
    /// `None` when serving without a data directory (calculators only).
    pub records: Option<Shared>,
    pub logins: Arc<auth::LoginLimiter>,
    /// Mark the session cookie `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    pub metrics: Arc<metrics::Metrics>,
    /// Imports started from the browser, by id (kept in memory).
    pub imports: imports::SharedJobs,
    /// Limits on the heaviest work (audits, reviews).
    pub gates: Arc<gates::Gates>,
    /// "Now" and "today" (sessions, login limits, the access log, due months, imports).
    pub clock: anxin_domain::SharedClock,
    /// The reforms the deployment runs on its case clocks (`[cases] reforms` of
    /// `anxin.toml`, e.g. `complaint-72h-response`); empty: the law in force.
    pub case_reforms: Arc<Vec<String>>,
    /// This instance's side of transfers between instances (issue 14); `None`: not federated.
    pub federation: Option<Arc<anxin_service::transfer::node::Node>>,
    /// The data directory, for the monitor's run results (`DATA/monitor/runs`, issue 16);
    /// `None` when serving without one.
    pub data_dir: Option<Arc<std::path::PathBuf>>,
    /// How many nice steps below the readers an import's own thread runs (the writer's is set
    /// when the records open: `anxin_service::db::Db::start_with`); 0: the same priority.
    pub background_nice: i32,
}

impl AppState {
    /// State for the calculators only.
    pub fn new(policy: Policy) -> AppState {
        AppState {
            policy: Arc::new(policy),
            verifier: None,
            today: None,
            records: None,
            logins: Arc::default(),
            secure_cookies: false,
            metrics: Arc::default(),
            imports: Arc::default(),
            gates: Arc::default(),
            clock: anxin_domain::system_clock(),
            case_reforms: Arc::default(),
            federation: None,
            data_dir: None,
            background_nice: 0,
        }
    }

    fn records(&self) -> Result<Shared, ApiError> {
        self.records.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_records",
                "本服务没有打开数据目录，只提供测算：用 anxin serve --data 目录 启动",
                "this server has no data directory and serves only the calculators: start it with anxin serve --data DIR",
            )
        })
    }

    /// Runs `f` with the records on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Shared) -> anxin_records::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let records = self.records()?;
        Ok(tokio::task::spawn_blocking(move || f(records))
            .await
            .map_err(|_| ApiError::internal())??)
    }

    /// Runs `f` on a reader from the pool, in one snapshot, on a blocking thread: it waits
    /// for no write.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rec) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.blocking(move |records| records.read(f)).await?
    }

    /// The full audit on a reader from the pool (the checkpoint file read before its
    /// snapshot): it waits for no write and holds up none.
    pub async fn audit(
        &self,
        scope: anxin_records::AuditScope,
    ) -> Result<anxin_records::AuditReport, ApiError> {
        Ok(self.blocking(move |records| records.audit(scope)).await??)
    }

    /// Runs `f` on the one writer (after the writes queued before it): appends, sessions,
    /// certificates, case steps.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rec) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.blocking(move |records| records.write(f)).await?
    }

    /// Records an official's read of a person's data (group-committed with others waiting).
    pub async fn log_access(&self, row: anxin_records::access::AccessRow) -> Result<(), ApiError> {
        self.blocking(move |records| records.log_access(row).map(drop))
            .await
    }

    pub fn today(&self) -> YearMonth {
        self.today.unwrap_or_else(|| {
            YearMonth::of_date(self.today_in_china())
                .unwrap_or_else(|| YearMonth::new(2026, 1).expect("valid month"))
        })
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/", get(home))
        .route("/quote", get(quote_page))
        .route("/school", get(school_page))
        .route("/verify", get(verify_page).post(verify_form))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/regions", get(regions))
        .route(
            "/api/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/log/checkpoint", get(checkpoint))
        .route("/api/log/inclusion", get(log_api::inclusion))
        .route("/api/log/consistency", get(log_api::consistency))
        .route("/api/audit", post(log_api::audit))
        .route("/log/checkpoint", get(log_api::tlog_checkpoint))
        .route(
            "/log/tile/entries/{*tile_index}",
            get(log_api::entry_bundle),
        )
        .route("/log/tile/{level}/{*tile_index}", get(log_api::hash_tile))
        .route(
            "/api/imports",
            post(imports::api_import).layer(DefaultBodyLimit::max(imports::MAX_UPLOAD_BYTES)),
        )
        .route("/api/imports/{id}", get(imports::api_import_status))
        .route(
            "/api/imports/{id}/rejected",
            get(imports::api_import_rejected),
        )
        .route("/metrics", get(metrics::export).with_state(metrics.clone()))
        .route("/api/calc/{calculator}", post(calculate))
        .route("/api/certificates/verify", post(verify_api))
        .route("/api/certificates/lookup", post(certificates::api_lookup))
        .route("/api/certificates/{code}", get(certificates::api_by_code))
        .route("/api/certificates/{code}/file", get(certificates::api_file))
        .route("/verify/{code}", get(certificates::verify_code_page))
        .route("/certificates/{code}", get(certificates::print_page))
        .route("/certificates/{code}/file", get(person::certificate_file))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", post(auth::logout_submit))
        .route("/me", get(auth::me))
        .route(
            "/signup",
            get(accounts::signup_page).post(accounts::signup_submit),
        )
        .route(
            "/password",
            get(accounts::change_get).post(accounts::change_submit),
        )
        .route("/clerk/signups", get(accounts::desk_page))
        .route(
            "/clerk/signups/{id}/confirm",
            post(accounts::confirm_submit),
        )
        .route("/clerk/signups/{id}/refuse", post(accounts::refuse_submit))
        .route(
            "/clerk/password",
            get(accounts::reset_page).post(accounts::reset_submit),
        )
        .route("/clerk", get(person::clerk_page).post(person::clerk_submit))
        .route(
            "/clerk/audit",
            get(person::audit_page).post(person::audit_submit),
        )
        .route(
            "/clerk/import",
            get(imports::import_page)
                .post(imports::import_submit)
                .layer(DefaultBodyLimit::max(imports::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/school/review",
            get(school_office::review_page)
                .post(school_office::review_submit)
                .layer(DefaultBodyLimit::max(school_office::MAX_UPLOAD_BYTES)),
        )
        .route("/school/ledger", get(school_office::ledger_page))
        .route(
            "/api/school/review",
            post(school_office::api_review)
                .layer(DefaultBodyLimit::max(school_office::MAX_UPLOAD_BYTES)),
        )
        .route("/platform", get(platform::report_page))
        .route("/clerk/import/{id}", get(imports::import_status))
        .route("/clerk/templates/{file}", get(imports::template))
        .route(
            "/clerk/import/{id}/rejected.csv",
            get(imports::import_report),
        )
        .route(
            "/clerk/import/{id}/rejected.xlsx",
            get(imports::import_report_xlsx),
        )
        .route("/persons/{key}", get(person::person_page))
        .route(
            "/persons/{key}/certificate",
            post(person::certificate_submit),
        )
        .route("/persons/{key}/access", get(person::access_page))
        .route("/persons/{key}/pension", get(pension::pension_page))
        .route("/persons/{key}/options", get(options::options_page))
        .route(
            "/api/sessions",
            post(auth::api_sign_in).delete(auth::api_sign_out),
        )
        .route("/api/me", get(auth::api_me))
        // The analyst's desk (issue 17).
        .route("/analyst", get(analyst::desk_page))
        .route("/analyst/tables/{file}", get(analyst::table))
        .route("/api/analyst/simulate", post(analyst::api_simulate))
        .route("/api/analyst/fiscal", get(analyst::api_fiscal))
        .route(
            "/analyst/people",
            post(analyst::people_submit).layer(DefaultBodyLimit::max(analyst::MAX_PEOPLE_BYTES)),
        )
        .route("/api/agreements", get(agreements::api_covering))
        .route("/agreements", get(agreements::list_page))
        .route(
            "/agreements/new",
            get(agreements::new_page).post(agreements::new_submit),
        )
        .route("/api/cases", get(cases::api_queue).post(cases::api_file))
        .route("/api/cases/{case}", get(cases::api_show))
        .route("/api/cases/{case}/actions", post(cases::api_act))
        .route(
            "/api/cases/{case}/evidence",
            get(cases::api_evidence_list)
                .post(cases::api_evidence_add)
                .layer(DefaultBodyLimit::max(cases::MAX_EVIDENCE_BODY)),
        )
        .route(
            "/api/cases/{case}/evidence/{n}",
            get(cases::api_evidence_get),
        )
        .route("/api/cases/{case}/bundle", get(cases::api_bundle))
        .route("/cases", get(cases::cases_page))
        .route(
            "/cases/new",
            get(cases::new_case_page)
                .post(cases::new_case_submit)
                .layer(DefaultBodyLimit::max(cases::MAX_FORM_BODY)),
        )
        .route("/cases/{case}", get(cases::case_page))
        .route("/cases/{case}/act", post(cases::act_submit))
        .route(
            "/cases/{case}/evidence",
            post(cases::evidence_submit).layer(DefaultBodyLimit::max(cases::MAX_FORM_BODY)),
        )
        .route("/cases/{case}/evidence/{n}", get(cases::evidence_file))
        .route("/cases/{case}/bundle", get(cases::bundle_file))
        .route("/inbox", get(inbox::inbox_page))
        .route("/inbox/{id}/read", post(inbox::mark_read_submit))
        .route("/clerk/inbox", get(inbox::rates_page))
        .route("/api/inbox", get(inbox::api_inbox))
        .route("/api/inbox/{id}/read", post(inbox::api_mark_read))
        .route("/api/inbox/rates", get(inbox::api_rates))
        .route("/api/platform/workers", get(platform::api_workers))
        .route("/api/platform/months", get(platform::api_months))
        .route("/api/persons/lookup", post(person::api_lookup))
        .route("/api/persons/{key}", get(person::api_person))
        .route("/api/persons/{key}/access", get(person::api_access))
        .route(
            "/api/persons/{key}/certificate",
            post(person::api_certificate),
        )
        // Accounts as JSON and one's own password at will (issue 13).
        .route(
            "/api/signups",
            get(accounts_api::api_pending).post(accounts_api::api_signup),
        )
        .route("/api/signups/{id}/confirm", post(accounts_api::api_confirm))
        .route("/api/signups/{id}/refuse", post(accounts_api::api_refuse))
        .route("/api/password-resets", post(accounts_api::api_reset))
        .route("/api/account/password", post(accounts_api::api_change))
        .route(
            "/account/password",
            get(accounts::own_page).post(accounts::own_submit),
        )
        .route(
            "/api/transfers",
            get(transfer::api_queue).post(transfer::api_ask),
        )
        .route("/api/transfers/{transfer}", get(transfer::api_show))
        .route(
            "/api/transfers/{transfer}/voucher",
            get(transfer::api_voucher),
        )
        .merge(transfer_pages::routes())
        .route(
            anxin_service::transfer::node::MESSAGES_PATH,
            post(transfer::receive).layer(DefaultBodyLimit::max(transfer::MAX_MESSAGE_BODY)),
        )
        .route(
            anxin_service::transfer::witness::ADD_CHECKPOINT_PATH,
            post(transfer::add_checkpoint).layer(DefaultBodyLimit::max(
                anxin_service::transfer::witness::MAX_ADD_CHECKPOINT_BYTES,
            )),
        )
        .route("/api/witness", get(transfer::api_witness))
        .merge(monitor::routes())
        .route_layer(axum::middleware::from_fn(documented_query))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(framework_rejections))
        .layer(axum::middleware::from_fn(html_errors))
        .layer(axum::middleware::from_fn(lang_links))
        .layer(axum::middleware::from_fn(security_headers))
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .with_state(state)
}

/// The API takes the query parameters its OpenAPI document names and no others: a name it
/// does not know (a typo, or a parameter of another operation) is refused, naming the ones
/// allowed, rather than silently ignored. Pages keep taking `lang` and the like.
async fn documented_query(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(route) = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        return next.run(request).await;
    };
    let method = request.method().as_str().to_ascii_lowercase();
    let operation = openapi::OPERATIONS
        .iter()
        .find(|o| o.path == route && o.method == method);
    let (Some(operation), Some(_)) = (operation, request.uri().query()) else {
        return next.run(request).await;
    };
    let given = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let allowed: Vec<&str> = operation.query.iter().map(|q| q.0).collect();
    if let Some((name, _)) = given.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        let shown: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
        let (zh, en) = if allowed.is_empty() {
            (
                "这个接口不接受查询参数".to_string(),
                "this operation takes no query parameters".to_string(),
            )
        } else {
            (
                format!("这个接口可用的查询参数：{}", allowed.join("、")),
                format!(
                    "the query parameters this operation takes: {}",
                    allowed.join(", ")
                ),
            )
        };
        return ApiError::bad_input(
            format!("不认识的查询参数「{shown}」：{zh}"),
            format!("unknown query parameter \"{shown}\": {en}"),
        )
        .into_response();
    }
    next.run(request).await
}

/// The largest body the route at `path` takes (the limits the router sets).
pub fn body_limit(path: &str) -> usize {
    match path {
        "/api/imports" | "/clerk/import" => imports::MAX_UPLOAD_BYTES,
        "/api/school/review" | "/school/review" => school_office::MAX_UPLOAD_BYTES,
        "/analyst/people" => analyst::MAX_PEOPLE_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

/// The one mapping of the framework's own refusals (a body over the limit, a form or JSON
/// body missing a field or of the wrong type, a missing content type, a method the path does
/// not take) into the one error shape: axum answers those in English plain text (or with an
/// empty body) before any handler runs. The status stays; pages then get the bilingual page
/// from [`html_errors`].
async fn framework_rejections(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = body_limit(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let plain = content_type.is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if status.as_u16() < 400 || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let mut e = rejection(status, &detail, limit);
    if let Some(seconds) = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(whole_number)
    {
        e = e.retry_after(seconds);
    }
    let mut r = e.into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        r.headers_mut().insert(header::ALLOW, allow.clone());
    }
    r
}

/// What a framework refusal with `status` and English `detail` says, in both languages.
fn rejection(status: StatusCode, detail: &str, limit: usize) -> ApiError {
    let mib = |bytes: usize| bytes / (1024 * 1024);
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "too_large",
            format!("请求体太大：这里最多收 {} MiB", mib(limit)),
            format!(
                "the request body is too large: at most {} MiB here",
                mib(limit)
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            format!("请求的内容类型（Content-Type）不对：{detail}"),
            format!("wrong Content-Type: {detail}"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "这个地址不接受这种请求方法（可用的见 Allow 头）",
            "this path does not take this method (the Allow header lists those it takes)",
        ),
        _ => {
            // serde's words for the commonest case, a field left out, in Chinese too.
            let zh = match detail
                .split_once("missing field `")
                .and_then(|(_, rest)| rest.split_once('`'))
            {
                Some((field, _)) => format!("请求缺少 {field} 一项"),
                None if detail.is_empty() => "请求的内容读不懂".to_string(),
                None => format!("请求的内容读不懂（{detail}）"),
            };
            let en = if detail.is_empty() {
                "the request could not be read".to_string()
            } else {
                format!("the request could not be read: {detail}")
            };
            ApiError::new(status, "bad_input", zh, en)
        }
    }
}

/// A page that fails answers with a page, not the API's JSON: the same message in Chinese and
/// English, and the same status.
async fn html_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // Machines' paths answer errors as JSON: the API, the log's tiles, and peer instances.
    let page_request = !["/api/", "/log/", "/federation/"]
        .iter()
        .any(|p| request.uri().path().starts_with(p));
    let lang = lang_of(
        request
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
            .map(|l| if l == "en" { "en" } else { "zh" }),
    );
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !page_request || !json || response.status().as_u16() < 400 {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (parts.status, "error").into_response();
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let zh = v["error"]["zh"].as_str().unwrap_or("出错了");
    let en = v["error"]["en"].as_str().unwrap_or("something went wrong");
    // Where to go next: sign-in only for someone not signed in (401); anyone else back to
    // their own page, never offered a sign-in they already did.
    let mut r = html(&ErrorPage {
        c: Chrome::new(lang, lang.pick("出错了", "Something went wrong")),
        said: lang.pick(zh, en).to_string(),
        other: lang.pick(en, zh).to_string(),
        signed_out: parts.status == StatusCode::UNAUTHORIZED,
    })
    .into_response();
    *r.status_mut() = parts.status;
    if let Some(v) = parts.headers.get(header::RETRY_AFTER) {
        r.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    r
}

tokio::task_local! {
    /// The query of the page being answered, without its `lang`: the layout's language
    /// switch keeps it.
    static PAGE_QUERY: Vec<String>;
}

/// The language switch keeps the page's query: `?lang=en` on `/quote?region=…&income=…`
/// is `?region=…&income=…&lang=en`. The query is handed to [`Chrome::new`] (the layout writes
/// the link), for whatever page this request renders.
async fn lang_links(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let query: Vec<String> = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .map(str::to_string)
        .collect();
    PAGE_QUERY.scope(query, next.run(request)).await
}

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Same-origin: the sign-in check may read our own Referer; no other site sees our URLs.
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ),
    );
    response
}

/// Query parameters whose refusal speaks the one error shape (axum's own would be plain text).
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Params<T>, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|e| {
                ApiError::bad_input(
                    format!("查询参数有误：{}", e.body_text()),
                    format!("bad query parameters: {}", e.body_text()),
                )
            })
    }
}

/// A request body that must be a JSON object, read into `T`. serde also reads a struct from
/// a JSON array (its fields in order), so `[]` would pass for `{}`: the API documents objects
/// and takes nothing else.
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    if !value.is_object() {
        return Err(serde::de::Error::custom(
            "a JSON object {…} is expected, not an array or a single value",
        ));
    }
    serde_json::from_value(value)
}

/// The one error shape of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub zh: String,
    pub en: String,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn bad_input(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_input", zh, en)
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务内部出错，请稍后再试",
            "internal error: try again later",
        )
    }

    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    pub fn new(
        status: StatusCode,
        kind: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            kind,
            zh: zh.into(),
            en: en.into(),
            retry_after: None,
        }
    }
}

impl From<anxin_records::Error> for ApiError {
    fn from(e: anxin_records::Error) -> ApiError {
        use anxin_records::Error as E;
        let kind = e.kind();
        match e {
            E::NotFound { zh, en } | E::Refused { zh, en } => ApiError::of(kind, zh, en),
            // Database and corruption details stay out of responses (they may name rows).
            _ => ApiError::internal(),
        }
    }
}

/// The HTTP status of each kind of failure: the one table (the CLI's exit codes are its twin).
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadInput | ErrorKind::Refused => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::NotApplicable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::PolicyFiles | ErrorKind::Corrupt | ErrorKind::Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl ApiError {
    /// An error of `kind`, its status from [`status_of`].
    pub fn of(kind: ErrorKind, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(status_of(kind), kind.as_str(), zh, en)
    }
}

/// A permission refused by the service layer: 403 with its words.
impl From<anxin_service::access::Denied> for ApiError {
    fn from(d: anxin_service::access::Denied) -> ApiError {
        ApiError::of(ErrorKind::Forbidden, d.zh, d.en)
    }
}

impl From<anxin_policy::Error> for ApiError {
    fn from(e: anxin_policy::Error) -> ApiError {
        ApiError::of(e.kind, e.zh, e.en)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": { "kind": self.kind, "zh": self.zh, "en": self.en } });
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个地址：页面有 /、/quote、/school、/verify、/login、/me；接口见 /api/openapi.json（如 /api/calc/quote、/api/sessions）",
        "no such path: pages are /, /quote, /school, /verify, /login, /me; the API (e.g. /api/calc/quote, /api/sessions) is described at /api/openapi.json",
    )
}

async fn regions(State(state): State<AppState>) -> Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = state
        .policy
        .regions
        .values()
        .map(|r| serde_json::json!({ "code": r.code, "zh": r.name_zh, "en": r.name_en, "parent": r.parent }))
        .collect();
    Json(serde_json::json!({ "regions": list }))
}

#[derive(Deserialize)]
struct CalcQuery {
    /// "Now" for this request, YYYY-MM.
    today: Option<String>,
}

async fn calculate(
    State(state): State<AppState>,
    Path(calculator): Path<String>,
    Params(q): Params<CalcQuery>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_input",
            format!("请求不是有效的 JSON：{e}"),
            format!("the request is not valid JSON: {e}"),
        )
    })?;
    let today = match q.today {
        Some(t) => YearMonth::parse(&t).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_input",
                format!("today={t:?} 不是 YYYY-MM"),
                format!("today={t:?} is not YYYY-MM"),
            )
        })?,
        None => state.today(),
    };
    let policy = state.policy.clone();
    // The calculators are pure CPU work: keep them off the async workers.
    let result = tokio::task::spawn_blocking(move || {
        anxin_policy::calc::run_json(&policy, &calculator, request, today)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "计算中断",
            "the calculation was interrupted",
        )
    })??;
    Ok(Json(result))
}

/// `GET /api/log/checkpoint`: the latest signed tree head, for auditors and witnesses.
async fn checkpoint(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let head = state.read(|r| Ok(r.store().head()?)).await?;
    Ok(Json(
        serde_json::json!({ "size": head.size, "checkpoint": head.checkpoint }),
    ))
}

async fn verify_api(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let verifier = state.verifier.as_deref().ok_or_else(no_key)?;
    if !serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v.is_object()) {
        return Err(ApiError::bad_input(
            "请求体须为凭证文件（JSON 对象）的内容",
            "the body must be the certificate file (a JSON object)",
        ));
    }
    let v = anxin_records::cert::verify(&body, verifier);
    Ok(Json(
        serde_json::json!({ "ok": v.ok(), "checks": v.checks, "document": v.document }),
    ))
}

fn no_key() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_key",
        "本服务没有签发机构的公钥，不能核验凭证",
        "this server has no issuer key and cannot verify certificates",
    )
}

// ---- pages ----

#[derive(Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
}

pub fn lang_of(q: Option<&str>) -> Lang {
    match q {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// The query that keeps a link in the reader's language: `?lang=en` (or `&lang=en` when the
/// link already has a query) for English, nothing for Chinese, the default.
pub fn lang_query(lang: Lang, first: bool) -> &'static str {
    match (lang, first) {
        (Lang::En, true) => "?lang=en",
        (Lang::En, false) => "&lang=en",
        _ => "",
    }
}

/// Percent-encodes `s` for a URL path or query value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A download: the bytes as `name`, never cached.
pub fn attachment(bytes: Vec<u8>, mime: &'static str, name: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A table as an Excel (.xlsx) download: the header in bold, every cell text (so IDs, codes
/// and months stay as written), columns wide enough to read.
pub fn xlsx_download<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
    name: &str,
) -> Response {
    xlsx_table(&header, rows, name)
}

/// [`xlsx_download`] for a table whose width is known only when it is made.
pub fn xlsx_table<R: AsRef<[String]>>(
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
    name: &str,
) -> Response {
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = book.add_worksheet();
        for (c, h) in header.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            sheet.set_column_width(c, 18)?;
            sheet.write_string_with_format(0, c, *h, &bold)?;
        }
        for (r, row) in rows.into_iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in row.as_ref().iter().enumerate() {
                if !cell.is_empty() {
                    sheet.write_string(r, u16::try_from(c).unwrap_or(u16::MAX), cell)?;
                }
            }
        }
        book.save_to_buffer()
    };
    match build() {
        Ok(bytes) => attachment(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            name,
        ),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// A CSV download in UTF-8 with a byte-order mark, so Excel shows the Chinese.
pub fn csv_download<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
    name: &str,
) -> Response {
    csv_table(&header, rows, name)
}

/// [`csv_download`] for a table whose width is known only when it is made.
pub fn csv_table<R: AsRef<[String]>>(
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
    name: &str,
) -> Response {
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let mut out = String::from("\u{feff}");
    out.push_str(
        &header
            .iter()
            .map(|h| quote(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for row in rows {
        out.push_str(
            &row.as_ref()
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    attachment(out.into_bytes(), "text/csv; charset=utf-8", name)
}

/// The choices of a region picker (every region but the national level): code, name and
/// whether it is `selected`.
fn region_choices(policy: &Policy, lang: Lang, selected: &str) -> Vec<(String, String, bool)> {
    policy
        .regions
        .values()
        .filter(|r| !r.code.is_national())
        .map(|r| {
            let code = r.code.to_string();
            let chosen = code == selected;
            (code, lang.pick(&r.name_zh, &r.name_en).to_string(), chosen)
        })
        .collect()
}

/// What the layout (`templates/layout.html`, with the one stylesheet `templates/style.css`
/// included when the server compiles) needs of every page: the language, the title and the
/// navigation's words. A page template has a `c: Chrome` field and `{% extends "layout.html" %}`;
/// [`extends_layout!`] lets the layout (and the page) read these by name (`{{ title }}`,
/// `{{ lang.pick("中文", "English") }}`, `{{ ls }}`).
pub struct Chrome {
    pub lang: Lang,
    /// Whether the page is in English: a sentence with values in it is written out in each
    /// language (`{% if en %}…{% else %}…{% endif %}`).
    pub en: bool,
    pub html_lang: &'static str,
    pub title: String,
    /// `?lang=en` on every link of an English page (empty on a Chinese one).
    pub ls: &'static str,
    /// The language's code for hidden form fields (`zh`, `en`).
    pub l: &'static str,
    pub mine: &'static str,
    pub quote: &'static str,
    pub school: &'static str,
    pub verify: &'static str,
    /// The other language: its code and its name, for the switch.
    pub other: &'static str,
    /// The page's query without its `lang` (each `name=value` as sent), kept by the switch.
    pub query: Vec<String>,
    pub other_name: &'static str,
}

impl Chrome {
    pub fn new(lang: Lang, title: impl Into<String>) -> Chrome {
        let (html_lang, other, other_name) = match lang {
            Lang::Zh => ("zh-CN", "en", "English"),
            Lang::En => ("en", "zh", "中文"),
        };
        Chrome {
            lang,
            en: lang == Lang::En,
            html_lang,
            title: title.into(),
            ls: lang_query(lang, true),
            l: lang.code(),
            mine: lang.pick("我的", "Mine"),
            quote: lang.pick("缴费测算", "Quote"),
            school: lang.pick("入学条件", "School"),
            verify: lang.pick("核验凭证", "Verify"),
            other,
            other_name,
            query: PAGE_QUERY.try_with(Clone::clone).unwrap_or_default(),
        }
    }
}

/// Lets a page template (a struct with a `c: Chrome` field) extend `layout.html`: the
/// layout's names (`title`, `lang`, `ls`, …) are the page's `c`'s.
#[macro_export]
macro_rules! extends_layout {
    ($($name:ident $(<$lt:lifetime>)?),* $(,)?) => {$(
        impl$(<$lt>)? std::ops::Deref for $name$(<$lt>)? {
            type Target = $crate::Chrome;
            fn deref(&self) -> &$crate::Chrome {
                &self.c
            }
        }
    )*};
}

/// A whole page from its template; rendering into a String cannot fail, and if it ever did
/// the page says so rather than panicking.
pub fn html(t: &impl askama::Template) -> Html<String> {
    Html(t.render().unwrap_or_else(|_| {
        "<!doctype html><p class=bad>出错了 Something went wrong</p>".to_string()
    }))
}

/// [`html`] for a page of personal data: never cached, by the browser or anything in between.
pub fn private_html(t: &impl askama::Template) -> Response {
    let mut r = html(t).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `templates/error.html`: what went wrong in the page's language (the other beside it) and
/// where to go next.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    said: String,
    other: String,
    signed_out: bool,
}
extends_layout!(ErrorPage);

/// A moment as the pages show it: China time to the minute (`2026-10-26 09:30`).
pub fn when(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A whole number written in decimal digits alone (no sign, no space), as the API's query
/// values and path ids are; `None` for anything else or a number too big for `T`.
pub fn whole_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// A table that turns into cards on a phone (`templates/cards_table.html`, included where a
/// page names it `t`): the column names, and each row with its class ("" or "bad").
pub struct CardsTable {
    pub labels: Vec<String>,
    pub rows: Vec<(&'static str, Vec<String>)>,
}

impl CardsTable {
    /// Refused rows of a file (an import, a population file): each row's number, column,
    /// value (masked where personal) and reason, marked bad.
    pub fn refusals<'r>(
        refused: impl IntoIterator<Item = &'r anxin_service::Refusal>,
        lang: Lang,
    ) -> CardsTable {
        CardsTable {
            labels: names(&[
                lang.pick("行号", "Row"),
                lang.pick("列", "Column"),
                lang.pick("值", "Value"),
                lang.pick("原因", "Reason"),
            ]),
            rows: refused
                .into_iter()
                .map(|r| {
                    (
                        "bad",
                        vec![
                            r.row.to_string(),
                            r.column.clone(),
                            r.value.clone(),
                            lang.pick(&r.zh, &r.en).to_string(),
                        ],
                    )
                })
                .collect(),
        }
    }
}

/// Column names for a [`CardsTable`].
pub fn names(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

/// `templates/home.html`.
#[derive(askama::Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
}
extends_layout!(Home);

async fn home(Params(q): Params<LangQuery>) -> Html<String> {
    let lang = lang_of(q.lang.as_deref());
    html(&Home {
        c: Chrome::new(lang, lang.pick("安心", "anxin")),
    })
}

#[derive(Deserialize, Default)]
struct QuoteForm {
    lang: Option<String>,
    region: Option<String>,
    /// Monthly income in yuan.
    income: Option<String>,
    /// The base tier, percent of the average wage (empty: the lowest).
    tier: Option<String>,
}

/// The whole monthly bill of a flexible worker in a city: pension plus employee medical
/// insurance, on a tier the worker picks. A signed-in worker gets their own city, hukou and
/// permit; anyone else picks a city (the first in the list until they do).
async fn quote_page(
    State(state): State<AppState>,
    auth::MaybeCaller(caller): auth::MaybeCaller,
    Params(f): Params<QuoteForm>,
) -> Response {
    let lang = lang_of(f.lang.as_deref());
    let view = match caller.as_ref() {
        Some(c) if c.role == anxin_records::access::Role::Worker => match c.account.person {
            Some(p) => person::view_of(&state, anxin_records::PersonKey(p))
                .await
                .ok(),
            None => None,
        },
        _ => None,
    };
    let own = view.as_ref().map(anxin_service::plans::bill_ask_of);
    let region = match (f.region.as_deref().map(str::trim), &own) {
        (Some(r), _) if !r.is_empty() => r.to_string(),
        (_, Some(own)) => own.region.clone(),
        _ => String::new(),
    };
    let shown = if region.is_empty() {
        // Nothing chosen: the first city of the list, marked as chosen (not whatever the
        // browser happens to show).
        state
            .policy
            .regions
            .values()
            .find(|r| !r.code.is_national())
            .map(|r| r.code.to_string())
            .unwrap_or_default()
    } else {
        region.clone()
    };
    let income = f.income.clone().unwrap_or_default();
    let tier_text = f.tier.clone().unwrap_or_default();
    let tiers = std::iter::once((String::new(), lang.pick("最低档", "the lowest").to_string()))
        .chain(
            anxin_service::plans::TIERS
                .iter()
                .map(|t| (t.to_string(), format!("{t}%"))),
        )
        .map(|(v, label)| {
            let chosen = v == tier_text.trim();
            (v, label, chosen)
        })
        .collect();
    // A covered worker's collective agreements: their agreed base and the platform's share,
    // through the same quote calculator (issue 15), beside the bill they picked.
    let (agreed, agreed_error) = match caller.as_ref() {
        Some(c) if view.is_some() => {
            let reader = c.clone();
            match cases::with_engine(&state, false, move |r, engine, clock| {
                anxin_service::cases::agreement::mine(r, engine, reader.actor(), clock)
            })
            .await
            {
                Ok(list) => (
                    list.iter()
                        .map(|(_, q)| lang.pick(&q.zh, &q.en).to_string())
                        .collect(),
                    false,
                ),
                Err(_) => (Vec::new(), true),
            }
        }
        _ => (Vec::new(), false),
    };
    let mut page = QuotePage {
        c: Chrome::new(lang, lang.pick("缴费测算", "Contribution quote")),
        agreed,
        agreed_error,
        regions: region_choices(&state.policy, lang, &shown),
        tiers,
        income: income.clone(),
        error: String::new(),
        bill: None,
    };
    if !region.is_empty() {
        let income_fen = if income.trim().is_empty() {
            Ok(None)
        } else {
            anxin_domain::Fen::parse_yuan(income.trim())
                .map(|f| Some(f.0))
                .map_err(|e| e.to_string())
        };
        let tier = match tier_text.trim() {
            "" => Ok(None),
            t => whole_number::<u32>(t).map(Some).ok_or(()),
        };
        match (income_fen, tier) {
            (Err(e), _) => {
                page.error = format!(
                    "{}{e}",
                    lang.pick("收入填写有误：", "The income is not valid: ")
                )
            }
            (_, Err(())) => {
                page.error = lang
                    .pick(
                        "缴费档次须为 60 到 300 之间的整数（百分比）",
                        "the tier must be a whole percent from 60 to 300",
                    )
                    .to_string()
            }
            (Ok(income_fen), Ok(tier_percent)) => {
                let ask = anxin_service::plans::BillAsk {
                    region: region.clone(),
                    income_fen,
                    tier_percent,
                    hukou_region: view
                        .as_ref()
                        .and_then(|v| v.row.hukou_region.map(|h| format!("{h:06}"))),
                    residence_permit: view.as_ref().is_some_and(|v| {
                        v.row
                            .permit_region
                            .is_some_and(|p| format!("{p:06}") == region)
                    }),
                };
                let policy = state.policy.clone();
                let today = state.today();
                let result = tokio::task::spawn_blocking(move || {
                    anxin_service::plans::monthly_bill(&policy, &ask, today)
                })
                .await;
                match result {
                    Ok(Ok(bill)) => page.bill = Some(BillView::of(&bill, lang)),
                    Ok(Err(e)) => page.error = lang.pick(&e.zh, &e.en).to_string(),
                    Err(_) => {
                        page.error = lang
                            .pick(
                                "计算中断，请重试",
                                "the calculation was interrupted: try again",
                            )
                            .to_string()
                    }
                }
            }
        }
    }
    private_html(&page)
}

/// `templates/quote.html`: the city and tier picked, and the bill when there is one.
#[derive(askama::Template)]
#[template(path = "quote.html")]
struct QuotePage {
    c: Chrome,
    /// The quote under each collective agreement covering the signed-in worker, in words.
    agreed: Vec<String>,
    /// The agreements could not be read (the bill still shows).
    agreed_error: bool,
    /// Code, name and whether it is the one chosen.
    regions: Vec<(String, String, bool)>,
    tiers: Vec<(String, String, bool)>,
    income: String,
    /// Why there is no bill (empty: none).
    error: String,
    bill: Option<BillView>,
}
extends_layout!(QuotePage);

/// The monthly bill as `templates/bill.html` shows it: the total, then each insurance in it,
/// then how each was computed.
struct BillView {
    region: String,
    tier: u32,
    total: String,
    medical_included: bool,
    pension: String,
    pooling: String,
    account: String,
    medical: MedicalShown,
    hukou_assumed_local: bool,
    notes: Vec<String>,
    /// The calculators' explanations, regions by name.
    traces: Vec<String>,
}

enum MedicalShown {
    /// The figure and the rate.
    Monthly(String, String),
    /// Why not.
    NotRecorded(String),
    NotEligible(String),
}

impl BillView {
    fn of(bill: &anxin_service::plans::Bill, lang: Lang) -> BillView {
        use anxin_service::plans::MedicalLine;
        let r = &bill.pension;
        BillView {
            region: lang.pick(&r.region_zh, &r.region_en).to_string(),
            tier: r.tier_bps.0 / 100,
            total: bill.total_fen.yuan_string(),
            medical_included: matches!(bill.medical, MedicalLine::Monthly { .. }),
            pension: r.monthly_fen.yuan_string(),
            pooling: r.pooling_fen.yuan_string(),
            account: r.account_fen.yuan_string(),
            medical: match &bill.medical {
                MedicalLine::Monthly { fen, rate } => {
                    MedicalShown::Monthly(fen.yuan_string(), rate.to_string())
                }
                MedicalLine::NotRecorded { zh, en } => {
                    MedicalShown::NotRecorded(lang.pick(zh, en).to_string())
                }
                MedicalLine::NotEligible { zh, en } => {
                    MedicalShown::NotEligible(lang.pick(zh, en).to_string())
                }
            },
            hukou_assumed_local: bill.hukou_assumed_local,
            notes: r
                .notes
                .iter()
                .map(|n| lang.pick(&n.zh, &n.en).to_string())
                .collect(),
            traces: std::iter::once(&r.trace)
                .chain(bill.medical_trace.as_ref())
                .map(|t| t.render_named(lang))
                .collect(),
        }
    }
}

#[derive(Deserialize, Default)]
struct SchoolForm {
    lang: Option<String>,
    region: Option<String>,
    /// Application month, YYYY-MM.
    month: Option<String>,
    /// First and last month paid without a break, YYYY-MM.
    paid_from: Option<String>,
    paid_to: Option<String>,
    /// A gap inside that span: its first month, length and reason.
    gap_from: Option<String>,
    gap_months: Option<String>,
    gap_reason: Option<String>,
    permit: Option<String>,
    /// The month the residence permit was issued, YYYY-MM (optional).
    permit_since: Option<String>,
    hardship: Option<String>,
    reform: Option<String>,
    /// Other proofs shown (seed 000 §四(一)), one checkbox each.
    p_business_licence: Option<String>,
    p_labour_contract: Option<String>,
    p_tax_records: Option<String>,
    p_platform_orders: Option<String>,
    p_community_residence: Option<String>,
}

impl SchoolForm {
    /// The proof kinds ticked, in the calculator's order.
    fn proofs(&self) -> Vec<&'static str> {
        let ticked = [
            &self.p_business_licence,
            &self.p_labour_contract,
            &self.p_tax_records,
            &self.p_platform_orders,
            &self.p_community_residence,
        ];
        anxin_domain::codes::ProofKind::ALL
            .iter()
            .zip(ticked)
            .filter(|(_, t)| t.is_some())
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// "Will my child qualify?" — a worker enters what they paid; nothing is stored. A signed-in
/// worker who has not filled the form yet finds it prefilled from their own record.
async fn school_page(
    State(state): State<AppState>,
    auth::MaybeCaller(caller): auth::MaybeCaller,
    Params(mut f): Params<SchoolForm>,
) -> Response {
    let lang = lang_of(f.lang.as_deref());
    let mut prefilled = false;
    if f.region.is_none()
        && let Some(c) = caller.as_ref()
        && c.role == anxin_records::access::Role::Worker
        && let Some(p) = c.account.person
        && let Ok(view) = person::view_of(&state, anxin_records::PersonKey(p)).await
    {
        let today = state.today();
        f.region = Some(format!("{:06}", view.row.residence_region));
        f.month = Some(today.to_string());
        if let Some(check) = anxin_service::plans::self_check_of(&view, today) {
            f.paid_from = Some(check.paid_from.to_string());
            f.paid_to = Some(check.paid_to.to_string());
            f.permit = check.permit.then(|| "1".to_string());
            f.permit_since = check.permit_since.map(|m| m.to_string());
            if let Some((from, months)) = check.gap {
                f.gap_from = Some(from.to_string());
                f.gap_months = Some(months.to_string());
                f.gap_reason = Some(
                    <anxin_domain::codes::GapReason as anxin_domain::Code>::as_str(
                        check.gap_reason,
                    )
                    .to_string(),
                );
            }
            prefilled = true;
        }
    }
    let f = f;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let reason_name = |r: &str| match r {
        "childbirth" => lang.pick("生育", "childbirth"),
        "care" => lang.pick("照护家人", "caring for family"),
        "illness" => lang.pick("生病", "illness"),
        "unemployment" => lang.pick("失业", "unemployment"),
        "platform_rule" => lang.pick("平台规则调整", "platform rule change"),
        _ => lang.pick("其他", "other"),
    };
    let reasons = [
        "childbirth",
        "care",
        "illness",
        "unemployment",
        "platform_rule",
        "other",
    ]
    .into_iter()
    .map(|r| (r, reason_name(r), f.gap_reason.as_deref() == Some(r)))
    .collect();
    let ticked = f.proofs();
    let proofs = anxin_domain::codes::ProofKind::ALL
        .iter()
        .map(|&kind| {
            let (zh, en) = anxin_policy::calc::school::proof_name(kind);
            let k = kind.as_str();
            (k, lang.pick(zh, en), ticked.contains(&k))
        })
        .collect();
    let mut page = SchoolPage {
        c: Chrome::new(
            lang,
            lang.pick(
                "孩子能不能上学：社保条件自查",
                "Will my child qualify for school?",
            ),
        ),
        prefilled,
        regions: region_choices(&state.policy, lang, f.region.as_deref().unwrap_or("")),
        month: v(&f.month),
        paid_from: v(&f.paid_from),
        paid_to: v(&f.paid_to),
        gap_from: v(&f.gap_from),
        gap_months: v(&f.gap_months),
        reasons,
        permit: f.permit.is_some(),
        permit_since: v(&f.permit_since),
        hardship: f.hardship.is_some(),
        proofs,
        reform: f.reform.is_some(),
        results: Vec::new(),
    };
    if let (Some(region), Some(month), Some(from), Some(to)) =
        (&f.region, &f.month, &f.paid_from, &f.paid_to)
    {
        let parse = |t: &str| YearMonth::parse(t.trim()).ok();
        match (parse(month), parse(from), parse(to)) {
            (Some(month), Some(from), Some(to))
                if from <= to && from.months_until(to) < anxin_service::plans::MAX_SPAN_MONTHS =>
            {
                let gap_months: i32 = f
                    .gap_months
                    .as_deref()
                    .and_then(|t| t.trim().parse().ok())
                    .unwrap_or(0)
                    .clamp(0, anxin_service::plans::MAX_GAP_MONTHS);
                let check = anxin_service::plans::SelfCheck {
                    region: region.clone(),
                    month,
                    paid_from: from,
                    paid_to: to,
                    gap: f
                        .gap_from
                        .as_deref()
                        .and_then(parse)
                        .map(|g| (g, gap_months)),
                    gap_reason: f
                        .gap_reason
                        .as_deref()
                        .and_then(<anxin_domain::codes::GapReason as anxin_domain::Code>::from_code)
                        .unwrap_or(anxin_domain::codes::GapReason::Other),
                    permit: f.permit.is_some(),
                    permit_since: f.permit_since.as_deref().and_then(parse),
                    hardship: f.hardship.is_some(),
                    proofs: ticked
                        .iter()
                        .filter_map(|k| {
                            <anxin_domain::codes::ProofKind as anxin_domain::Code>::from_code(k)
                        })
                        .collect(),
                };
                let mut runs = vec![(lang.pick("现行做法", "Law in force"), false)];
                if f.reform.is_some() {
                    runs.push((
                        lang.pick("改革建议：累计为主、连续为辅", "Proposed: cumulative first"),
                        true,
                    ));
                }
                for (title, reform) in runs {
                    let request = check.request(reform);
                    let policy = state.policy.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        anxin_policy::calc::school::review(&policy, &request, month)
                    })
                    .await;
                    page.results.push(match result {
                        Ok(Ok(r)) => {
                            let decision = match r.decision {
                                "eligible" => {
                                    lang.pick("✓ 符合入学的社保条件", "✓ meets the condition")
                                }
                                "eligible_hardship" => lang.pick(
                                    "✓ 通过困难家庭兜底渠道符合条件",
                                    "✓ qualifies through the hardship channel",
                                ),
                                _ => lang.pick("还不符合", "not yet"),
                            };
                            let mut items: Vec<String> = r
                                .missing
                                .iter()
                                .map(|m| lang.pick(&m.zh, &m.en).to_string())
                                .collect();
                            if let Some(e) = r.earliest_month {
                                items.push(format!(
                                    "{} {e}",
                                    lang.pick(
                                        "从现在起每月按时缴费，最早可以满足的月份：",
                                        "paying every month from now, the earliest month it can be met:"
                                    )
                                ));
                            }
                            let steps: Vec<&str> = r
                                .trace
                                .steps
                                .iter()
                                .map(|s| lang.pick(&s.zh, &s.en))
                                .collect();
                            SchoolOutcome::Decided(
                                title.to_string(),
                                decision.to_string(),
                                items,
                                steps.join("\n"),
                            )
                        }
                        Ok(Err(e)) => SchoolOutcome::Refused(lang.pick(&e.zh, &e.en).to_string()),
                        Err(_) => SchoolOutcome::Refused(
                            lang.pick("计算中断，请重试", "the calculation was interrupted: try again")
                                .to_string(),
                        ),
                    });
                }
            }
            _ => page.results.push(SchoolOutcome::Refused(
                lang.pick(
                    "月份请写成 2026-09 这样，开始月份不能晚于结束月份",
                    "write months as 2026-09; the first month must not be after the last",
                )
                .to_string(),
            )),
        }
    }
    html(&page).into_response()
}

/// `templates/school.html`: the self-check's form (prefilled or as typed) and its results.
#[derive(askama::Template)]
#[template(path = "school.html")]
struct SchoolPage {
    c: Chrome,
    prefilled: bool,
    regions: Vec<(String, String, bool)>,
    month: String,
    paid_from: String,
    paid_to: String,
    gap_from: String,
    gap_months: String,
    /// Code, name, chosen.
    reasons: Vec<(&'static str, &'static str, bool)>,
    permit: bool,
    permit_since: String,
    hardship: bool,
    /// Code, name, ticked.
    proofs: Vec<(&'static str, &'static str, bool)>,
    reform: bool,
    results: Vec<SchoolOutcome>,
}
extends_layout!(SchoolPage);

/// One run of the self-check: its title, the decision, what is missing and the steps; or
/// why it could not run.
enum SchoolOutcome {
    Decided(String, String, Vec<String>, String),
    Refused(String),
}

/// `templates/verify.html`: type the code, or paste the full file for the offline check
/// (`templates/verify_form.html`).
#[derive(askama::Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    c: Chrome,
    /// The code form starts empty.
    typed: String,
}

/// `templates/verify_result.html`: the offline check of a pasted file.
#[derive(askama::Template)]
#[template(path = "verify_result.html")]
struct VerifyResult {
    c: Chrome,
    cert: Option<certificates::CertView>,
    checks: Vec<anxin_records::cert::Check>,
}
extends_layout!(VerifyPage, VerifyResult);

#[derive(Deserialize, Default)]
struct VerifyQuery {
    lang: Option<String>,
    /// A verification code typed into the form.
    code: Option<String>,
}

/// `GET /verify`: type the code (or, with the file, paste it for the offline check).
async fn verify_page(
    State(state): State<AppState>,
    client: auth::ClientIp,
    Params(q): Params<VerifyQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    if let Some(code) = q.code.as_deref() {
        return certificates::verify_code_query(&state, &client, lang, code).await;
    }
    html(&VerifyPage {
        c: Chrome::new(lang, "核验凭证 Verify a certificate"),
        typed: String::new(),
    })
    .into_response()
}

#[derive(Deserialize)]
struct VerifyFormBody {
    certificate: String,
}

async fn verify_form(
    State(state): State<AppState>,
    Params(q): Params<LangQuery>,
    Form(f): Form<VerifyFormBody>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let Some(verifier) = state.verifier.as_deref() else {
        return no_key().into_response();
    };
    let v = anxin_records::cert::verify(f.certificate.trim().as_bytes(), verifier);
    let cert = v.ok().then(|| {
        let doc = v.document.clone().unwrap_or_default();
        certificates::CertView::of(&anxin_records::Certified::of(&doc), &state.policy)
    });
    private_html(&VerifyResult {
        c: Chrome::new(lang, lang.pick("核验结果", "Verification")),
        cert,
        checks: v.checks,
    })
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight. Each connection is
/// held to `limits` (see [`listen`]). The signal handlers are in place before "listening" is
/// logged, so a signal sent once the server answers always stops it gracefully.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: listen::ConnectionLimits,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let signal = shutdown_signal()?;
    tracing::info!(target: logging::SERVER, addr = %addr, "listening");
    listen::run(listener, router(state), limits, async {
        let signal = signal.await;
        tracing::info!(target: logging::SERVER, signal, "graceful shutdown begun");
    })
    .await?;
    tracing::info!(target: logging::SERVER, "graceful shutdown finished");
    Ok(())
}

/// Registers for Ctrl-C and SIGTERM now; the future names the first that arrives.
fn shutdown_signal() -> std::io::Result<impl Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! { _ = interrupt.recv() => "SIGINT", _ = terminate.recv() => "SIGTERM" }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        })
    }
}
