//! Certificates by their short verification code (核验码): the printable certificate page with
//! its QR code, the public check (`/verify`, `/verify/{code}`) and its JSON twins.
//!
//! Every lookup goes through `Records::certificate_by_code` (anxin-records), which rebuilds the
//! file and runs the offline checks on it; this module only counts lookups per client
//! (`gates::Gates::code_lookup`) and renders what it returns, in Chinese with English beside.

use anxin_domain::codes::{Code as _, Insurance};
use anxin_policy::{Lang, Policy};
use anxin_records::cert_code::{Certified, CodeCheck};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{ClientIp, MaybeCaller};
use crate::text::place_name;
use crate::{ApiError, AppState, Chrome, Params, html, private_html};
use askama::Template;

/// Looks `code` up for `client`, counted against the client's limit.
pub async fn lookup(
    state: &AppState,
    client: &ClientIp,
    code: String,
) -> Result<CodeCheck, ApiError> {
    state.gates.code_lookup(client.0, state.clock.now())?;
    state.read(move |r| Ok(r.certificate_by_code(&code)?)).await
}

/// The address the QR code opens: this server's `/verify/{code}`, as the browser reached it.
fn verify_url(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/verify/{code}")
}

/// What a certificate states, as `templates/certified.html` shows it (in Chinese with
/// English beside, whatever the page's language: a certificate is read by anyone).
pub struct CertView {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) issued_on: String,
    /// A type other than the contribution history: its names.
    pub(crate) other_type: Option<(String, String)>,
    pub(crate) no_contributions: bool,
    pub(crate) insurances: Vec<InsuranceView>,
}

pub(crate) struct InsuranceView {
    pub(crate) zh: String,
    pub(crate) en: String,
    pub(crate) paid_months: u64,
    pub(crate) first: String,
    pub(crate) last: String,
    /// A run in Chinese (with its months) and its months in English.
    pub(crate) longest: (String, String),
    pub(crate) current: (String, String),
    pub(crate) gaps: u64,
    /// Name in Chinese and English, months.
    pub(crate) regions: Vec<(String, String, u64)>,
}

impl CertView {
    /// The holder, then each insurance with its months, period, continuous runs, gaps and
    /// regions (by name where the policy knows them).
    pub fn of(c: &Certified, policy: &Policy) -> CertView {
        let contribution = c.cert_type == anxin_records::cert::CONTRIBUTION_HISTORY;
        let run = |r: &Option<anxin_records::cert_code::CertifiedRun>| match r {
            Some(r) => (
                format!("{} ~ {}，{} 个月", r.from, r.to, r.months),
                format!("{} months", r.months),
            ),
            None => ("无".to_string(), "none".to_string()),
        };
        CertView {
            name: c.name_masked.clone(),
            id: c.id_masked.clone(),
            issued_on: c.issued_on.clone(),
            other_type: (c.insurances.is_empty() && !contribution).then(|| {
                match c.cert_type.as_str() {
                    "school_eligibility" => (
                        "入学社保条件证明".to_string(),
                        "School eligibility attestation".to_string(),
                    ),
                    other => (other.to_string(), other.to_string()),
                }
            }),
            no_contributions: c.insurances.is_empty() && contribution,
            insurances: c
                .insurances
                .iter()
                .map(|i| InsuranceView {
                    zh: Insurance::from_code(&i.insurance)
                        .map_or_else(|| i.insurance_zh.clone(), |i| i.name_zh()),
                    en: Insurance::from_code(&i.insurance)
                        .map_or("Other", |i| i.name_en())
                        .to_string(),
                    paid_months: i.paid_months,
                    first: i.first.clone().unwrap_or_else(|| "—".into()),
                    last: i.last.clone().unwrap_or_else(|| "—".into()),
                    longest: run(&i.longest_run),
                    current: run(&i.current_run),
                    gaps: i.gaps,
                    regions: i
                        .regions
                        .iter()
                        .map(|(code, months)| {
                            (
                                place_name(policy, *code, Lang::Zh),
                                place_name(policy, *code, Lang::En),
                                *months,
                            )
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The checks, for the reader who wants them (`templates/cert_checks.html`): signature, log
/// inclusion, checkpoint, the code.
struct ChecksView {
    open: bool,
    items: Vec<anxin_records::cert::Check>,
    leaf: u64,
    size: u64,
    /// The peers' witnesses that cosigned the checkpoint, by name (empty: none yet).
    witnesses: String,
}

impl ChecksView {
    fn of(check: &CodeCheck, open: bool) -> ChecksView {
        ChecksView {
            open,
            items: check.verification.checks.clone(),
            leaf: check.certificate.leaf_index,
            size: check.certificate.tree_size,
            witnesses: check.witnesses.join("、"),
        }
    }
}

/// `templates/cert_refused.html`: a lookup that failed before any certificate was found.
#[derive(Template)]
#[template(path = "cert_refused.html")]
struct RefusedPage {
    c: Chrome,
    zh: String,
    en: String,
    typed: String,
}

/// `templates/verify_code.html`: what the certificate states and whether it is genuine.
#[derive(Template)]
#[template(path = "verify_code.html")]
struct CodePage {
    c: Chrome,
    code: String,
    cert: Option<CertView>,
    checks: ChecksView,
    /// The code form below starts empty.
    typed: String,
}

/// `templates/cert_print.html`: the printable certificate.
#[derive(Template)]
#[template(path = "cert_print.html")]
struct PrintPage {
    c: Chrome,
    /// The code as printed (grouped) and as a link carries it.
    code: String,
    code_id: String,
    cert: CertView,
    /// The QR code of `url`: its SVG element after `<svg` (attributes, content, end).
    qr: Option<String>,
    url: String,
    owner: bool,
}

crate::extends_layout!(RefusedPage, CodePage, PrintPage);

/// The page for a lookup that failed before any certificate was found (a malformed or
/// unknown code, too many lookups): the reason in both languages and the form again.
fn refused_page(lang: Lang, e: ApiError, typed: &str) -> Response {
    if e.status == StatusCode::INTERNAL_SERVER_ERROR || e.status == StatusCode::SERVICE_UNAVAILABLE
    {
        return e.into_response();
    }
    let mut r = html(&RefusedPage {
        c: Chrome::new(lang, "核验凭证 Verify a certificate"),
        zh: e.zh.to_string(),
        en: e.en.to_string(),
        typed: typed.to_string(),
    })
    .into_response();
    *r.status_mut() = e.status;
    if let Some(wait) = e.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, wait.into());
    }
    r
}

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    lang: Option<String>,
}

/// `GET /verify/{code}` (what the QR code opens): what the certificate states and whether it
/// is genuine, or a clear refusal.
pub async fn verify_code_page(
    State(state): State<AppState>,
    client: ClientIp,
    Path(code): Path<String>,
    Params(q): Params<CodeQuery>,
) -> Response {
    let lang = crate::lang_of(q.lang.as_deref());
    let check = match lookup(&state, &client, code.clone()).await {
        Ok(c) => c,
        Err(e) => return refused_page(lang, e, &code),
    };
    private_html(&CodePage {
        c: Chrome::new(lang, "核验结果 Verification"),
        code: check.code.to_string(),
        cert: check
            .certified
            .as_ref()
            .map(|c| CertView::of(c, &state.policy)),
        checks: ChecksView::of(&check, check.certified.is_none()),
        typed: String::new(),
    })
}

/// `GET /certificates/{code}`: the printable certificate (masked, with its code and a QR code
/// of `/verify/{code}`). Anyone holding the code may open it; the holder, signed in, also
/// gets the full file.
pub async fn print_page(
    State(state): State<AppState>,
    client: ClientIp,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Params(q): Params<CodeQuery>,
) -> Response {
    let lang = crate::lang_of(q.lang.as_deref());
    let check = match lookup(&state, &client, code.clone()).await {
        Ok(c) => c,
        Err(e) => return refused_page(lang, e, &code),
    };
    let Some(certified) = &check.certified else {
        return Redirect::to(&format!("/verify/{}", check.code.as_str())).into_response();
    };
    let url = verify_url(&state, &headers, check.code.as_str());
    let qr = match anxin_records::cert::qr_svg(&url) {
        Ok(svg) => svg,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // The QR crate's SVG starts with an XML declaration, which has no place inside HTML: the
    // page writes the element's start (with its name for a screen reader) before the rest.
    let qr = qr.split_once("<svg").map(|(_, rest)| rest.to_string());
    let owner = caller.as_ref().is_some_and(|c| {
        anxin_service::access::check_person_key(
            c.actor(),
            anxin_service::access::Action::ReadPerson,
            &check.holder,
        )
        .unwrap_or(false)
    });
    private_html(&PrintPage {
        c: Chrome::new(lang, "参保缴费凭证 Certificate"),
        code: check.code.to_string(),
        code_id: check.code.as_str().to_string(),
        cert: CertView::of(certified, &state.policy),
        qr,
        url,
        owner,
    })
}

/// The JSON answer of a lookup.
fn check_json(check: &CodeCheck) -> serde_json::Value {
    serde_json::json!({
        "ok": check.certified.is_some(),
        "code": check.code,
        "certified": check.certified,
        "checks": check.verification.checks,
        "leaf_index": check.certificate.leaf_index,
        "tree_size": check.certificate.tree_size,
        "witnesses": check.witnesses,
    })
}

/// `GET /api/certificates/{code}`
pub async fn api_by_code(
    State(state): State<AppState>,
    client: ClientIp,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(check_json(&lookup(&state, &client, code).await?)))
}

/// `GET /api/certificates/{code}/file`: the holder downloads their certificate file again,
/// proven against the latest checkpoint the peers' witnesses cosigned and carrying their
/// cosignatures (`anxin verify FILE --witness NAME=KEY` checks them offline).
pub async fn api_file(
    State(state): State<AppState>,
    client: ClientIp,
    caller: crate::auth::Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let check = lookup(&state, &client, code).await?;
    anxin_service::access::check_own_certificate(caller.actor(), &check.holder)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"anxin-certificate.json\"",
            ),
        ],
        check.certificate.to_bytes(),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/certificates/lookup {"code"}`: the same, the code kept out of URLs and logs.
pub async fn api_lookup(
    State(state): State<AppState>,
    client: ClientIp,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let b: CodeBody = crate::json_object(&body).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"code\": 核验码}}：{e}"),
            format!("the request must be {{\"code\": verification code}}: {e}"),
        )
    })?;
    Ok(Json(check_json(&lookup(&state, &client, b.code).await?)))
}

/// The `?code=` of the verify form: to the code's own page, or the form again with the reason.
pub async fn verify_code_query(
    state: &AppState,
    client: &ClientIp,
    lang: Lang,
    code: &str,
) -> Response {
    match anxin_records::VerifyCode::parse(code) {
        Ok(c) => Redirect::to(&format!(
            "/verify/{}{}",
            c.as_str(),
            crate::lang_query(lang, true)
        ))
        .into_response(),
        Err(e) => {
            // A malformed code counts too: the form is not a way round the limit.
            if let Err(limited) = state.gates.code_lookup(client.0, state.clock.now()) {
                return refused_page(lang, limited, code);
            }
            refused_page(lang, ApiError::from(e), code)
        }
    }
}
