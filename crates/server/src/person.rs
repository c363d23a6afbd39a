//! A person's record: the worker's own page, a clerk's search and read (each read logged with
//! its purpose, which the worker can see), and certificates.
//!
//! Who may read whom is decided in `anxin_service::access`: a worker reads only their own
//! record; a clerk or inspector reads a person who lives or is insured in their region,
//! stating a purpose; every other role reads no person's record. The ID is shown in full only
//! to its owner.

use anxin_domain::{Fen, ResidentId};
use anxin_policy::Lang;
use anxin_records::PersonKey;
use anxin_records::access::{AccessRow, Role, check_purpose};
use anxin_records::view::PersonView;
use anxin_service::access::{self as rules, Action, PersonFacts};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use crate::auth::{Caller, logout_button};
use crate::list::{ListQuery, Page, PageQuery, Window};
use crate::text::{SummaryCard, month_text, place_name, summary_card};
use crate::{ApiError, AppState, Chrome, Params, attachment, lang_of, lang_query, url_encode};
use askama::Template;

pub fn parse_key(text: &str) -> Result<PersonKey, ApiError> {
    PersonKey::from_hex(text).ok_or_else(|| {
        ApiError::bad_input(
            "个人编号须为 64 位小写十六进制（登录后从“我的记录”进入，或由经办员查询得到）",
            "a person key is 64 lowercase hex digits (from your own record page, or a clerk's search)",
        )
    })
}

fn not_registered() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "登记册中没有此人",
        "this person is not in the registry",
    )
}

/// The key of a worker's own record, from the path: anyone else is refused with `zh`/`en`
/// (pages that are about one's own plans, not for officials).
pub fn own_key(caller: &Caller, key: &str, zh: &str, en: &str) -> Result<PersonKey, ApiError> {
    let key = parse_key(key)?;
    match rules::check_person_key(caller.actor(), Action::OwnPlans, &key) {
        Ok(true) => Ok(key),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", zh, en)),
    }
}

/// The record of `key`, or "not in the registry".
pub async fn view_of(state: &AppState, key: PersonKey) -> Result<PersonView, ApiError> {
    state
        .read(move |r| r.person_view(&key)?.ok_or_else(not_registered))
        .await
}

/// Loads the record for `caller`, logging an official's read with its purpose.
/// Returns the view and whether the caller is its owner.
async fn read(
    state: &AppState,
    caller: &Caller,
    key: PersonKey,
    what: &'static str,
    purpose: Option<String>,
) -> Result<(PersonView, bool), ApiError> {
    // Refused before anything is loaded: roles that read no records, workers asking for
    // someone else (`anxin_service::access` decides; the region is checked once loaded).
    let owner = rules::check_person_key(caller.actor(), Action::ReadPerson, &key)?;
    let purpose = if owner {
        None
    } else {
        Some(check_purpose(purpose.as_deref().unwrap_or("")).map_err(ApiError::from)?)
    };
    let c = caller.clone();
    let now = state.now();
    let view = state
        .read(move |r| {
            let view = r.person_view(&key)?.ok_or_else(not_registered)?;
            rules::check_person(
                c.actor(),
                Action::ReadPerson,
                PersonFacts {
                    key: &view.key,
                    regions: &view.regions(),
                },
            )?;
            Ok(view)
        })
        .await?;
    // An official's read is shown only once its access row is committed (by the writer,
    // grouped with other reads waiting).
    if let Some(purpose) = purpose {
        state
            .log_access(AccessRow {
                id: 0,
                at: now,
                account: caller.account.id,
                username: caller.account.username.clone(),
                role: caller.role.as_str().into(),
                person: key.0,
                what: what.into(),
                purpose,
            })
            .await?;
    }
    Ok((view, owner))
}

#[derive(Deserialize, Default)]
pub struct ReadQuery {
    lang: Option<String>,
    purpose: Option<String>,
}

// ---- API ----

/// `GET /api/persons/{key}?purpose=…`
pub async fn api_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<ReadQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key = parse_key(&key)?;
    let (view, owner) = read(&state, &caller, key, "record", q.purpose).await?;
    Ok(Json(view.to_json(owner)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    id: String,
    purpose: String,
}

fn parse_id(text: &str) -> Result<ResidentId, ApiError> {
    ResidentId::parse(text.trim()).map_err(|e| {
        ApiError::bad_input(
            format!("身份证号无效：{e}（18 位，最后一位是 GB 11643 校验码 0–9 或 X）"),
            format!(
                "invalid resident ID: {e} (18 characters, the last a GB 11643 check digit 0–9 or X)"
            ),
        )
    })
}

/// Finds the person key of a resident ID for an official (logged as a lookup).
async fn lookup(
    state: &AppState,
    caller: &Caller,
    id: &str,
    purpose: &str,
) -> Result<PersonKey, ApiError> {
    caller.may(Action::LookupPerson)?;
    let id = parse_id(id)?;
    let purpose = purpose.to_string();
    let c = caller.clone();
    let key = state.read(move |r| Ok(r.person_key(&id))).await?;
    read(state, &c, key, "lookup", Some(purpose)).await?;
    Ok(key)
}

/// `POST /api/persons/lookup {"id", "purpose"}` → the person key.
pub async fn api_lookup(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let l: Lookup = crate::json_object(&body).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"id\": 身份证号, \"purpose\": 用途}}：{e}"),
            format!("the request must be {{\"id\": resident ID, \"purpose\": why}}: {e}"),
        )
    })?;
    let key = lookup(&state, &caller, &l.id, &l.purpose).await?;
    Ok(Json(serde_json::json!({ "person": key.hex() })))
}

/// A page of the reads of the owner's record, newest first (owner only).
async fn access_list(
    state: &AppState,
    caller: &Caller,
    key: PersonKey,
    window: Window<i64>,
) -> Result<Page<AccessRow>, ApiError> {
    rules::check_person_key(caller.actor(), Action::ReadAccessLog, &key)?;
    let rows = state
        .read(move |r| Ok(r.store().access_to(&key.0, window.after, window.fetch())?))
        .await?;
    Ok(Page::of(rows, &window, |row| row.id.to_string()))
}

/// `GET /api/persons/{key}/access?limit=&after=`
pub async fn api_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page<AccessRow>>, ApiError> {
    let key = parse_key(&key)?;
    let window = q.by_id()?;
    Ok(Json(access_list(&state, &caller, key, window).await?))
}

/// `GET /persons/{key}/access?after=`: older pages of "who read my record".
pub async fn access_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let key = parse_key(&key)?;
    let window = q.list.by_id()?;
    let list = access_list(&state, &caller, key, window).await?;
    Ok(crate::private_html(&AccessPage {
        c: Chrome::new(lang, lang.pick("谁查阅过我的记录", "Who read my record")),
        key: key.hex(),
        access: Access::of(&list, lang),
    }))
}

/// `templates/access_page.html`: older pages of the reads of one's record.
#[derive(Template)]
#[template(path = "access_page.html")]
struct AccessPage {
    c: Chrome,
    key: String,
    access: Access,
}

/// The reads of a record as `templates/access_table.html` shows them, and the link to older
/// ones.
struct Access {
    rows: Vec<AccessLine>,
    next: Option<String>,
}

struct AccessLine {
    when: String,
    who: String,
    what: String,
    purpose: String,
}

impl Access {
    fn of(list: &Page<AccessRow>, lang: Lang) -> Access {
        Access {
            rows: list.items.iter().map(|a| access_line(a, lang)).collect(),
            next: list.next.clone(),
        }
    }
}

/// Issues a contribution-history certificate of the person (the owner, or an official stating
/// why; the issue is recorded in the log).
async fn certificate(
    state: &AppState,
    caller: &Caller,
    key: PersonKey,
    purpose: Option<String>,
) -> Result<anxin_records::Certificate, ApiError> {
    let (view, _) = read(state, caller, key, "certificate", purpose).await?;
    let today = state.today_in_china();
    let now = state.now();
    state
        .write(move |r| {
            let cert = r.issue_certificate(&view.id, today)?;
            // The holder is told in their inbox (no code, no record in the message).
            let told = anxin_service::inbox::certificate_issued(&view.key, cert.leaf_index, today);
            r.store().inbox_add(&[told], now)?;
            Ok(cert)
        })
        .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CertRequest {
    purpose: Option<String>,
}

/// `POST /api/persons/{key}/certificate`
pub async fn api_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let key = parse_key(&key)?;
    let req: CertRequest = if body.is_empty() {
        CertRequest::default()
    } else {
        crate::json_object(&body).map_err(|e| {
            ApiError::bad_input(
                format!("请求须为 {{\"purpose\": 用途}} 或空：{e}"),
                format!("the request must be {{\"purpose\": why}} or empty: {e}"),
            )
        })?
    };
    let cert = certificate(&state, &caller, key, req.purpose).await?;
    let bytes = cert.to_bytes();
    let code = state.read(move |r| Ok(r.certificate_code(&cert))).await?;
    let mut r = attachment(bytes, "application/json", "certificate.json");
    if let Ok(v) = axum::http::HeaderValue::from_str(&code.grouped()) {
        r.headers_mut().insert(CODE_HEADER, v);
    }
    Ok(r)
}

/// The response header that carries an issued certificate's verification code.
pub const CODE_HEADER: &str = "anxin-verification-code";

// ---- pages ----

fn access_line(a: &AccessRow, lang: Lang) -> AccessLine {
    let role = Role::parse(&a.role)
        .map(|r| lang.pick(r.name_zh(), r.as_str()).to_string())
        .unwrap_or_else(|_| a.role.clone());
    let what = match a.what.as_str() {
        "record" => lang.pick("缴费记录", "record"),
        "certificate" => lang.pick("开具凭证", "certificate"),
        "lookup" => lang.pick("按身份证号查找", "lookup by ID"),
        "account_opened" => lang.pick("核实身份，开通账户", "identity confirmed, account opened"),
        "password_reset" => lang.pick("重置密码", "password reset"),
        "password_changed" => lang.pick("本人修改密码", "password changed by its holder"),
        "case_evidence" => lang.pick("查看案件证据", "case evidence"),
        "case_bundle" => lang.pick("下载案件证据包", "case evidence bundle"),
        other => other,
    };
    AccessLine {
        when: crate::when(a.at),
        who: format!("{role} {}", a.username),
        what: what.to_string(),
        purpose: purpose_in(&a.purpose, lang).to_string(),
    }
}

/// A purpose the system wrote in both languages ("中文 (English)" or "中文 / English"), in
/// the page's language alone; a purpose an official typed, as typed.
fn purpose_in(purpose: &str, lang: Lang) -> &str {
    let split = purpose
        .strip_suffix(')')
        .and_then(|p| p.rsplit_once(" ("))
        .or_else(|| purpose.split_once(" / "));
    match split {
        // Only where the first part is Chinese and the second is not.
        Some((zh, en))
            if zh.chars().any(|c| c > '\u{2e80}') && !en.chars().any(|c| c > '\u{2e80}') =>
        {
            lang.pick(zh, en)
        }
        _ => purpose,
    }
}

/// `templates/purpose_form.html`: an official states why before a record opens.
#[derive(Template)]
#[template(path = "purpose_form.html")]
struct PurposeForm {
    c: Chrome,
    key: String,
}

/// `templates/person.html`: a record as cards, each month in a table that turns into cards
/// on a phone.
#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    name: String,
    id_text: String,
    place: String,
    form: String,
    /// Platforms by their registered names, joined (empty: none).
    platforms: String,
    no_months: bool,
    /// Per insurance: its name and its summary cards (`templates/summary_card.html`).
    sections: Vec<(String, Vec<SummaryCard>)>,
    owner: bool,
    /// Whether to offer asking for a transfer here (an instance with peers).
    transfers: bool,
    key: String,
    csrf: String,
    purpose: String,
    month_labels: [&'static str; 6],
    months: Vec<[String; 6]>,
    access: Option<Access>,
    logout: String,
}

crate::extends_layout!(AccessPage, PurposeForm, PersonPage);

/// `GET /persons/{key}`: the record page.
pub async fn person_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(q): Params<ReadQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let key = parse_key(&key)?;
    let owner = rules::check_person_key(caller.actor(), Action::ReadPerson, &key)?;
    if !owner && q.purpose.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Ok(crate::html(&PurposeForm {
            c: Chrome::new(lang, lang.pick("查阅记录", "Read a record")),
            key: key.hex(),
        })
        .into_response());
    }
    let purpose = q.purpose.clone();
    let (view, owner) = read(&state, &caller, key, "record", q.purpose).await?;
    let access = if owner {
        let window = ListQuery::default().by_id()?;
        Some(Access::of(
            &access_list(&state, &caller, key, window).await?,
            lang,
        ))
    } else {
        None
    };
    let policy = &state.policy;
    let row = &view.row;
    let form = anxin_import::EmploymentForm::parse(&row.employment_form)
        .map_or(row.employment_form.as_str(), |f| {
            lang.pick(f.zh(), f.as_str())
        });
    // Platforms by their registered names; a code the registry does not know stays a code.
    let platforms: Vec<&str> = row
        .platforms
        .split(';')
        .filter(|c| !c.is_empty())
        .map(|c| view.org_names.get(c).map_or(c, String::as_str))
        .collect();
    // One section per insurance, a card per region and one for all regions together.
    let mut sections: Vec<(String, Vec<SummaryCard>)> = Vec::new();
    let mut current = None;
    for s in &view.summaries {
        if current != Some(s.insurance) {
            current = Some(s.insurance);
            sections.push((
                lang.pick(&s.insurance.name_zh(), s.insurance.name_en())
                    .to_string(),
                Vec::new(),
            ));
        }
        if let Some((_, cards)) = sections.last_mut() {
            cards.push(summary_card(s, policy, lang));
        }
    }
    let months = view
        .months
        .iter()
        .map(|m| {
            [
                month_text(m.month),
                lang.pick(m.insurance.zh(), m.insurance.as_str())
                    .to_string(),
                place_name(policy, m.region, lang),
                match view.org_names.get(&m.payer_code) {
                    Some(name) => format!("{} {name}", lang.pick(m.payer.zh(), m.payer.as_str())),
                    None => lang.pick(m.payer.zh(), m.payer.as_str()).to_string(),
                },
                lang.pick(m.status.zh(), m.status.as_str()).to_string(),
                Fen(m.amount_fen).yuan_string(),
            ]
        })
        .collect();
    let title = if owner {
        lang.pick("我的社保记录", "My insurance record")
    } else {
        lang.pick("参保记录", "Insurance record")
    };
    Ok(crate::private_html(&PersonPage {
        c: Chrome::new(lang, title),
        name: view.name.clone(),
        id_text: view.id_text(owner),
        place: place_name(policy, row.residence_region, lang),
        form: form.to_string(),
        platforms: platforms.join(lang.pick("、", ", ")),
        no_months: view.months.is_empty(),
        sections,
        owner,
        key: key.hex(),
        csrf: caller.csrf(),
        purpose: purpose.unwrap_or_default(),
        month_labels: [
            lang.pick("所属期", "Month"),
            lang.pick("险种", "Insurance"),
            lang.pick("参保地", "Region"),
            lang.pick("缴费方", "Payer"),
            lang.pick("状态", "Status"),
            lang.pick("金额（元）", "Amount (yuan)"),
        ],
        months,
        access,
        transfers: owner && crate::transfer_pages::offered(&state, &caller),
        logout: logout_button(&caller, lang),
    }))
}

#[derive(Deserialize)]
pub struct CertForm {
    csrf: String,
    purpose: Option<String>,
}

/// `POST /persons/{key}/certificate`: issues the certificate and opens its printable page.
pub async fn certificate_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(f): Form<CertForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let key = parse_key(&key)?;
    let purpose = f.purpose.filter(|p| !p.trim().is_empty());
    let cert = certificate(&state, &caller, key, purpose).await?;
    let code = state.read(move |r| Ok(r.certificate_code(&cert))).await?;
    Ok(Redirect::to(&format!("/certificates/{}", code.as_str())).into_response())
}

#[derive(Deserialize, Default)]
pub struct FileQuery {
    purpose: Option<String>,
}

/// `GET /certificates/{code}/file`: the full certificate file of a code, for whoever may read
/// its holder's record (the holder; an official stating why, logged), proved against the
/// current signed head.
pub async fn certificate_file(
    State(state): State<AppState>,
    caller: Caller,
    client: crate::auth::ClientIp,
    Path(code): Path<String>,
    Params(q): Params<FileQuery>,
) -> Result<Response, ApiError> {
    let check = crate::certificates::lookup(&state, &client, code).await?;
    read(&state, &caller, check.holder, "certificate", q.purpose).await?;
    Ok(attachment(
        check.certificate.to_bytes(),
        "application/json",
        "certificate.json",
    ))
}

/// `GET /clerk`: find a person by resident ID, stating why.
pub async fn clerk_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ReadQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::LookupPerson)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(crate::html(&clerk_form(&state, &caller, lang, String::new())).into_response())
}

/// `templates/clerk.html`: the official's desk: find a person, and the desk's other work.
#[derive(Template)]
#[template(path = "clerk.html")]
struct ClerkPage {
    c: Chrome,
    username: String,
    role: &'static str,
    region: String,
    /// Why the last lookup was refused (empty: none).
    message: String,
    csrf: String,
    links: Vec<(&'static str, &'static str)>,
    logout: String,
}

/// `templates/audit.html`: the signed head, the last audit's result and the button.
#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    /// The log's size and signed checkpoint (before an audit is run).
    head: Option<(u64, String)>,
    report: Option<AuditLines>,
    csrf: String,
}

struct AuditLines {
    clean: bool,
    events: u64,
    checkpoints: u64,
    contributions: u64,
    seconds: String,
    findings: Vec<String>,
}

crate::extends_layout!(ClerkPage, AuditPage);

fn clerk_form(state: &AppState, caller: &Caller, lang: Lang, message: String) -> ClerkPage {
    // Each link only for whom the access table lets do it (an inspector imports nothing and
    // has no accounts desk).
    let links = [
        (Action::Import, "/clerk/import", "导入文件", "Import a file"),
        (
            Action::Audit,
            "/clerk/audit",
            "账本审计状态",
            "Ledger audit status",
        ),
        (
            Action::InboxRates,
            "/clerk/inbox",
            "消息送达和阅读",
            "Messages delivered and read",
        ),
        (
            Action::ReviewSignup,
            "/clerk/signups",
            "开户申请核实",
            "Sign-up requests",
        ),
        (
            Action::ResetPassword,
            "/clerk/password",
            "重置劳动者密码",
            "Reset a worker's password",
        ),
        (
            Action::CaseQueue,
            "/cases",
            "案件队列（补缴、参保申请、维权投诉，逾期在前）",
            "Case queue (back-payments, enrolments, complaints; overdue first)",
        ),
        (
            Action::MonitorCompliance,
            "/monitor/compliance",
            "平台合规评级",
            "Platform compliance",
        ),
        (
            Action::TransferQueue,
            "/transfers",
            "转移接续：待办队列（逾期在前）",
            "Transfers: the queue (overdue first)",
        ),
    ]
    .into_iter()
    // Transfers only on an instance that has peers.
    .filter(|(action, href, ..)| {
        caller.may(*action).is_ok() && (*href != "/transfers" || state.federation.is_some())
    })
    .map(|(_, href, zh, en)| (href, lang.pick(zh, en)))
    .collect();
    ClerkPage {
        c: Chrome::new(lang, lang.pick("查找参保人", "Find a person")),
        username: caller.account.username.clone(),
        role: lang.pick(caller.role.name_zh(), caller.role.as_str()),
        region: caller
            .account
            .region
            .map(|r| place_name(&state.policy, r, lang))
            .unwrap_or_else(|| lang.pick("全国", "national").into()),
        message,
        csrf: caller.csrf(),
        links,
        logout: logout_button(caller, lang),
    }
}

#[derive(Deserialize)]
pub struct ClerkForm {
    csrf: String,
    id: String,
    purpose: String,
    lang: Option<String>,
}

/// `POST /clerk`: look the ID up and go to the record (the ID never enters a URL).
pub async fn clerk_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<ClerkForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    match lookup(&state, &caller, &f.id, &f.purpose).await {
        Ok(key) => {
            let purpose = url_encode(f.purpose.trim());
            Ok(Redirect::to(&format!(
                "/persons/{}?purpose={purpose}{}",
                key.hex(),
                lang_query(lang, false)
            ))
            .into_response())
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        Err(e) => {
            let message = lang.pick(&e.zh, &e.en).to_string();
            Ok((
                e.status,
                crate::html(&clerk_form(&state, &caller, lang, message)),
            )
                .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AuditForm {
    csrf: String,
    /// Also recompute every projection row from the log (slower).
    projections: Option<String>,
    lang: Option<String>,
}

/// `GET /clerk/audit`: the signed head of the ledger and a button to audit it.
pub async fn audit_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ReadQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::Audit)?;
    let lang = lang_of(q.lang.as_deref());
    let head = state.read(|r| Ok(r.store().head()?)).await?;
    Ok(crate::html(&AuditPage {
        c: Chrome::new(lang, lang.pick("账本审计", "Ledger audit")),
        head: Some((head.size, head.checkpoint)),
        report: None,
        csrf: caller.csrf(),
    })
    .into_response())
}

/// `POST /clerk/audit`: recomputes the log (and optionally every projection) and names every
/// row that does not match.
pub async fn audit_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<AuditForm>,
) -> Result<Response, ApiError> {
    caller.may(Action::Audit)?;
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    let projections = f.projections.is_some();
    let _running = state.gates.audit()?;
    let started = std::time::Instant::now();
    let report = state
        .audit(anxin_records::AuditScope { projections })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(crate::html(&AuditPage {
        c: Chrome::new(lang, lang.pick("账本审计", "Ledger audit")),
        head: None,
        report: Some(AuditLines {
            clean: report.is_clean(),
            events: report.events,
            checkpoints: report.checkpoints,
            contributions: report.contributions,
            seconds: format!("{seconds:.2}"),
            findings: report
                .findings
                .iter()
                .map(|f| format!("{} {}: {}", f.table, f.row, lang.pick(&f.zh, &f.en)))
                .collect(),
        }),
        csrf: caller.csrf(),
    })
    .into_response())
}
