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
use crate::text::{month_text, place_name, summary_card};
use crate::{
    ApiError, AppState, Params, attachment, cards_head, cards_row, esc, lang_of, lang_query, page,
    table_head, url_encode,
};

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
    let body = format!(
        "{}<p><a href=\"/persons/{}?lang={}\">{}</a></p>",
        access_section(&list, &key, lang),
        key.hex(),
        lang.code(),
        lang.pick("回到我的记录", "Back to my record"),
    );
    Ok(crate::private_page(
        lang,
        lang.pick("谁查阅过我的记录", "Who read my record"),
        &body,
    ))
}

/// The table of reads and, when older ones remain, the link to them.
fn access_section(list: &Page<AccessRow>, key: &PersonKey, lang: Lang) -> String {
    let mut html = access_table(&list.items, lang);
    if let Some(next) = &list.next {
        html.push_str(&format!(
            "<p><a href=\"/persons/{}/access?after={}&amp;lang={}\">{}</a></p>",
            key.hex(),
            next,
            lang.code(),
            lang.pick("更早的查阅 →", "Older reads →"),
        ));
    }
    html
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

fn when(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn access_table(list: &[AccessRow], lang: Lang) -> String {
    if list.is_empty() {
        return format!(
            "<p>{}</p>",
            lang.pick(
                "还没有工作人员查阅过你的记录。",
                "No official has read your record."
            )
        );
    }
    let mut out = table_head(&[
        lang.pick("时间", "When"),
        lang.pick("谁", "Who"),
        lang.pick("查了什么", "What"),
        lang.pick("用途", "Purpose"),
    ]);
    for a in list {
        let role = Role::parse(&a.role)
            .map(|r| lang.pick(r.name_zh(), r.as_str()).to_string())
            .unwrap_or_else(|_| a.role.clone());
        let what = match a.what.as_str() {
            "record" => lang.pick("缴费记录", "record"),
            "certificate" => lang.pick("开具凭证", "certificate"),
            "lookup" => lang.pick("按身份证号查找", "lookup by ID"),
            "account_opened" => {
                lang.pick("核实身份，开通账户", "identity confirmed, account opened")
            }
            "password_reset" => lang.pick("重置密码", "password reset"),
            "password_changed" => lang.pick("本人修改密码", "password changed by its holder"),
            "case_evidence" => lang.pick("查看案件证据", "case evidence"),
            "case_bundle" => lang.pick("下载案件证据包", "case evidence bundle"),
            other => other,
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            when(a.at),
            esc(&role),
            esc(&a.username),
            esc(what),
            esc(purpose_in(&a.purpose, lang))
        ));
    }
    out.push_str("</table>");
    out
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

fn purpose_form(lang: Lang, key: &PersonKey) -> String {
    format!(
        "<form method=\"get\" action=\"/persons/{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label>{}<input name=\"purpose\" required minlength=\"2\" maxlength=\"200\" placeholder=\"{}\"></label><button>{}</button></form>",
        key.hex(),
        lang.code(),
        lang.pick(
            "查阅他人记录须说明用途（本人可以看到）",
            "State why you read this record (the person will see it)"
        ),
        lang.pick("办理转移接续", "transfer request"),
        lang.pick("查阅", "Read"),
    )
}

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
        return Ok(page(
            lang,
            lang.pick("查阅记录", "Read a record"),
            &purpose_form(lang, &key),
        )
        .into_response());
    }
    let purpose = q.purpose.clone();
    let (view, owner) = read(&state, &caller, key, "record", q.purpose).await?;
    let access = if owner {
        let window = ListQuery::default().by_id()?;
        Some(access_list(&state, &caller, key, window).await?)
    } else {
        None
    };
    let policy = &state.policy;
    let row = &view.row;
    let mut body = format!(
        "<p class=big>{} <small>{}</small></p><p>{}{}",
        esc(&view.name),
        esc(&view.id_text(owner)),
        lang.pick("居住地 ", "lives in "),
        esc(&place_name(policy, row.residence_region, lang)),
    );
    let form = anxin_import::EmploymentForm::parse(&row.employment_form)
        .map_or(row.employment_form.as_str(), |f| {
            lang.pick(f.zh(), f.as_str())
        });
    body.push_str(&format!(
        " · {}{}",
        lang.pick("就业形态 ", "works as "),
        esc(form)
    ));
    // Platforms by their registered names; a code the registry does not know stays a code.
    let platforms: Vec<&str> = row
        .platforms
        .split(';')
        .filter(|c| !c.is_empty())
        .map(|c| view.org_names.get(c).map_or(c, String::as_str))
        .collect();
    if !platforms.is_empty() {
        body.push_str(&format!(
            " · {}{}",
            lang.pick("平台 ", "platforms "),
            esc(&platforms.join(lang.pick("、", ", ")))
        ));
    }
    body.push_str("</p>");
    if view.months.is_empty() {
        body.push_str(lang.pick(
            "<p>还没有缴费记录。</p>",
            "<p>No contribution records yet.</p>",
        ));
    }
    // One section per insurance, a card per region and one for all regions together.
    let mut current = None;
    for s in &view.summaries {
        if current != Some(s.insurance) {
            current = Some(s.insurance);
            body.push_str(&format!(
                "<h2>{}</h2>",
                lang.pick(&s.insurance.name_zh(), s.insurance.name_en())
            ));
        }
        body.push_str(&summary_card(s, policy, lang));
    }
    let ls = lang_query(lang, true);
    if owner {
        body.push_str(&format!(
            "<h2>{}</h2><ul><li><a href=\"/persons/{k}/pension{ls}\">{}</a></li><li><a href=\"/persons/{k}/options{ls}\">{}</a></li><li><a href=\"/quote{ls}\">{}</a></li><li><a href=\"/school{ls}\">{}</a></li><li><a href=\"/account/password{ls}\">{}</a></li></ul>",
            lang.pick("我能做什么", "What I can do"),
            lang.pick("养老金测算：继续缴与停缴对比", "Pension projection: keep paying or stop"),
            lang.pick("断缴能不能补、医保怎么选", "Back-payment and medical insurance options"),
            lang.pick("缴费测算", "Contribution quote"),
            lang.pick("孩子能不能上学", "Will my child qualify for school?"),
            lang.pick("修改密码", "Change my password"),
            k = key.hex(),
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/persons/{}/certificate\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"purpose\" value=\"{}\"><button>{}</button></form>",
        key.hex(),
        caller.csrf(),
        esc(purpose.as_deref().unwrap_or("")),
        lang.pick("开具参保缴费凭证（可打印，带核验码）", "Issue a certificate (printable, with a verification code)")
    ));
    let month_labels = [
        lang.pick("所属期", "Month"),
        lang.pick("险种", "Insurance"),
        lang.pick("参保地", "Region"),
        lang.pick("缴费方", "Payer"),
        lang.pick("状态", "Status"),
        lang.pick("金额（元）", "Amount (yuan)"),
    ];
    body.push_str(&format!(
        "<details><summary>{}</summary>{}",
        lang.pick("逐月明细", "Every month"),
        cards_head(&month_labels)
    ));
    for m in &view.months {
        body.push_str(&cards_row(
            &month_labels,
            &[
                month_text(m.month),
                esc(lang.pick(m.insurance.zh(), m.insurance.as_str())),
                esc(&place_name(policy, m.region, lang)),
                esc(&match view.org_names.get(&m.payer_code) {
                    Some(name) => format!("{} {name}", lang.pick(m.payer.zh(), m.payer.as_str())),
                    None => lang.pick(m.payer.zh(), m.payer.as_str()).to_string(),
                }),
                esc(lang.pick(m.status.zh(), m.status.as_str())),
                Fen(m.amount_fen).yuan_string(),
            ],
            "",
        ));
    }
    body.push_str("</table></details>");
    if owner {
        body.push_str(&format!(
            "<p><a href=\"/inbox?lang={}\">{}</a></p>",
            lang.code(),
            lang.pick(
                "我的消息（缴费提醒、断缴提醒）",
                "My messages (reminders and warnings)"
            ),
        ));
        body.push_str(&crate::transfer_pages::link(&state, &caller, lang));
    }
    if let Some(list) = access {
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            lang.pick("谁查阅过我的记录", "Who read my record"),
            access_section(&list, &key, lang)
        ));
    }
    body.push_str(&logout_button(&caller, lang));
    Ok(crate::private_page(
        lang,
        lang.pick(
            if owner {
                "我的社保记录"
            } else {
                "参保记录"
            },
            if owner {
                "My insurance record"
            } else {
                "Insurance record"
            },
        ),
        &body,
    ))
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
    Ok(page(
        lang,
        lang.pick("查找参保人", "Find a person"),
        &(clerk_form(&caller, lang, "") + &crate::transfer_pages::link(&state, &caller, lang)),
    )
    .into_response())
}

fn clerk_form(caller: &Caller, lang: Lang, message: &str) -> String {
    // Each link only for whom the access table lets do it (an inspector imports nothing and
    // has no accounts desk).
    let ls = lang_query(lang, true);
    let links: Vec<String> = [
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
    ]
    .into_iter()
    .filter(|(action, ..)| caller.may(*action).is_ok())
    .map(|(_, href, zh, en)| format!("<a href=\"{href}{ls}\">{}</a>", lang.pick(zh, en)))
    .collect();
    let region = caller
        .account
        .region
        .map(|r| format!("{r:06}"))
        .unwrap_or_else(|| lang.pick("全国", "national").into());
    format!(
        "<p>{} {} · {} {}</p>{message}<form method=\"post\" action=\"/clerk\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label>{}<input name=\"id\" autocomplete=\"off\" maxlength=\"18\" required></label>\
         <label>{}<input name=\"purpose\" required minlength=\"2\" maxlength=\"200\" placeholder=\"{}\"></label>\
         <button>{}</button></form><p>{}</p>{}",
        esc(&caller.account.username),
        lang.pick(caller.role.name_zh(), caller.role.as_str()),
        lang.pick("辖区", "region"),
        region,
        caller.csrf(),
        lang.code(),
        lang.pick("身份证号", "Resident ID"),
        lang.pick("用途（本人可以看到）", "Purpose (the person will see it)"),
        lang.pick("办理转移接续", "transfer request"),
        lang.pick("查找", "Find"),
        links.join(" · "),
        logout_button(caller, lang),
    )
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
            let message = format!("<p class=bad>{}</p>", esc(lang.pick(&e.zh, &e.en)));
            Ok((
                e.status,
                page(
                    lang,
                    lang.pick("查找参保人", "Find a person"),
                    &clerk_form(&caller, lang, &message),
                ),
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

fn audit_form(caller: &Caller, lang: Lang) -> String {
    format!(
        "<form method=\"post\" action=\"/clerk/audit\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label><input type=\"checkbox\" name=\"projections\" value=\"1\" style=\"width:auto\"> {}</label><button>{}</button></form>",
        caller.csrf(),
        lang.code(),
        lang.pick(
            "同时逐行核对所有查询表（较慢）",
            "Also check every projection row (slower)"
        ),
        lang.pick("现在审计", "Run the audit"),
    )
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
    let body = format!(
        "<p>{} <b>{}</b></p><pre>{}</pre>{}",
        lang.pick("账本条目数", "Log size"),
        head.size,
        esc(&head.checkpoint),
        audit_form(&caller, lang)
    );
    Ok(page(lang, lang.pick("账本审计", "Ledger audit"), &body).into_response())
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
    let mut body = if report.is_clean() {
        format!(
            "<p class=\"big good\">✓ {}</p>",
            lang.pick(
                "账本完整：每条记录都与签名日志一致",
                "The ledger is intact: every row matches the signed log"
            )
        )
    } else {
        format!(
            "<p class=\"big bad\">✗ {}</p>",
            lang.pick(
                "发现被改动的记录",
                "Rows were changed behind the system's back"
            )
        )
    };
    body.push_str(&format!(
        "<p>{} {} · {} {} · {} {} · {:.2} s</p><ul>",
        lang.pick("日志", "log"),
        report.events,
        lang.pick("检查点", "checkpoints"),
        report.checkpoints,
        lang.pick("缴费记录", "contributions"),
        report.contributions,
        seconds
    ));
    for finding in &report.findings {
        body.push_str(&format!(
            "<li class=bad>{} {}: {}</li>",
            esc(finding.table),
            esc(&finding.row),
            esc(lang.pick(&finding.zh, &finding.en))
        ));
    }
    body.push_str("</ul>");
    body.push_str(&audit_form(&caller, lang));
    Ok(page(lang, lang.pick("账本审计", "Ledger audit"), &body).into_response())
}
