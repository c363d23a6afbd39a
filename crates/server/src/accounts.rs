//! Accounts people make and mend (issue 13), as pages: a worker's sign-up (`/signup`), the
//! clerk's desk of sign-up requests of their region (`/clerk/signups`: confirm by typing the
//! number on the ID card shown, or refuse with a reason), a clerk's password reset for a
//! worker at the desk (`/clerk/password`: a temporary password shown once), and choosing a
//! new password (`/password`, required after a reset before any session opens).
//!
//! Every rule and permission is `anxin_service::accounts` / `access`; this module translates.

use anxin_policy::Lang;
use anxin_records::access::{AccountRow, SessionKind};
use anxin_service::access::Action;
use anxin_service::accounts::{self, SignupForm, SignupStatus};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{Caller, ClientIp, logout_button as logout_for};
use crate::{
    ApiError, AppState, Params, esc, lang_of, lang_query, page, private_page, region_options,
    whole_number,
};

/// Where accounts come from, under the sign-in form.
pub fn whence(lang: Lang) -> String {
    let ls = lang_query(lang, true);
    format!(
        "<p>{} <a href=\"/signup{ls}\">{}</a>{}</p><p>{}</p>",
        lang.pick("没有账户？劳动者请", "No account? Workers,"),
        lang.pick("注册", "sign up"),
        lang.pick(
            "：填好后带身份证到所选地区的社保经办窗口，工作人员核实身份后即可登录。经办员、平台、学校等单位的账户由管理员开设。",
            ": then take your ID card to the social insurance office of the region you chose; once a clerk has confirmed who you are, you can sign in. Accounts of clerks, platforms, schools and other offices are made by an administrator.",
        ),
        lang.pick(
            "忘记密码：带身份证到社保经办窗口，工作人员会给你一个临时密码，登录时换成自己的新密码。",
            "Forgot your password? Take your ID card to a social insurance office: a clerk gives you a temporary password, which you replace with your own when you sign in.",
        ),
    )
}

fn when(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn bad(lang: Lang, e: &ApiError) -> String {
    format!("<p class=bad>{}</p>", esc(lang.pick(&e.zh, &e.en)))
}

fn good(text: &str) -> String {
    format!("<p class=good>{}</p>", esc(text))
}

fn csrf_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    if crate::auth::same_origin(headers) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "表单必须从本站提交",
            "the form must be posted from this site",
        ))
    }
}

// ---- a worker's sign-up ----

#[derive(Deserialize, Default)]
pub struct SignupIn {
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    region: String,
    lang: Option<String>,
}

fn signup_form(state: &AppState, lang: Lang, f: &SignupIn, message: &str) -> String {
    format!(
        "<p>{intro}</p>{message}<form method=\"post\" action=\"/signup\">\
         <input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <label>{id}<input name=\"resident_id\" autocomplete=\"off\" maxlength=\"18\" required></label>\
         <label>{nm}<input name=\"name\" autocomplete=\"name\" maxlength=\"40\" required value=\"{name}\"></label>\
         <label>{ph}<input name=\"phone\" type=\"tel\" autocomplete=\"tel\" maxlength=\"20\" required value=\"{phone}\"></label>\
         <label>{un}<input name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" maxlength=\"32\" required value=\"{username}\"></label>\
         <label>{pw}<input name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></label>\
         <label>{rg}<select name=\"region\" required>{options}</select></label>\
         <button>{go}</button></form><p>{privacy}</p>",
        intro = lang.pick(
            "劳动者在这里申请账户。提交后请带身份证到下面所选地区的社保经办窗口，工作人员核对证件后开通，之后就能用你的用户名和密码登录，查看自己的参保记录、消息和谁查过你的记录。",
            "Workers apply for an account here. Then take your ID card to the social insurance office of the region you choose below: once a clerk has checked it, your account opens and you sign in with your username and password to see your own record, your messages and who read your record.",
        ),
        l = lang.code(),
        id = lang.pick("身份证号（18 位）", "Resident ID (18 characters)"),
        nm = lang.pick("姓名（与身份证一致）", "Name (as on the ID card)"),
        name = esc(&f.name),
        ph = lang.pick("手机号", "Mobile number"),
        phone = esc(&f.phone),
        un = lang.pick(
            "用户名（3–32 个小写字母、数字或 . _ -，可用手机号）",
            "Username (3–32 lowercase letters, digits or . _ -; your mobile number will do)",
        ),
        username = esc(&f.username),
        pw = lang.pick("密码（至少 10 个字符）", "Password (at least 10 characters)"),
        rg = lang.pick("去哪里的社保窗口核实身份", "Office where you will confirm who you are"),
        options = region_options(&state.policy, lang, f.region.trim()),
        go = lang.pick("提交申请", "Apply"),
        privacy = lang.pick(
            "身份证号、姓名和手机号加密保存，只有核实你身份的经办员能看到姓名、证件号的前后几位和手机尾号。",
            "Your resident ID, name and phone are stored encrypted; only the clerk confirming who you are sees your name, the first and last digits of the ID and the phone's last four.",
        ),
    )
}

/// `GET /signup`
pub async fn signup_page(State(state): State<AppState>, Params(q): Params<SignupIn>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    page(
        lang,
        lang.pick("劳动者注册", "Sign up as a worker"),
        &signup_form(&state, lang, &SignupIn::default(), ""),
    )
    .into_response()
}

/// Checks a sign-up form, counts it against the client's limit, and stores the request
/// (pending): (its number, the region to visit, the username). The page and the API alike.
pub(crate) async fn add_signup(
    state: &AppState,
    client: &ClientIp,
    form: &SignupForm,
) -> Result<(i64, u32, String), ApiError> {
    let checked = form.check(&state.policy).map_err(ApiError::from)?;
    state.gates.signup(client.0, state.clock.now())?;
    let (checked, hash) = tokio::task::spawn_blocking(move || {
        let hash = checked.hash_password();
        (checked, hash)
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let hash = hash.map_err(ApiError::from)?;
    let now = state.now();
    let region = checked.region.code();
    let username = checked.username.clone();
    let id = state
        .write(move |r| Ok(accounts::add_signup(r, &checked, hash, now)?))
        .await?;
    Ok((id, region, username))
}

/// `POST /signup`: checks every field, limits requests per client, stores the request
/// (pending) and says where to go next.
pub async fn signup_submit(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignupIn>,
) -> Response {
    let lang = lang_of(f.lang.as_deref());
    let title = lang.pick("劳动者注册", "Sign up as a worker");
    let done = async {
        csrf_origin(&headers)?;
        let form = SignupForm {
            resident_id: f.resident_id.clone(),
            name: f.name.clone(),
            phone: f.phone.clone(),
            username: f.username.clone(),
            password: f.password.clone(),
            region: f.region.clone(),
        };
        add_signup(&state, &client, &form).await
    }
    .await;
    match done {
        Ok((id, region, username)) => {
            let place = crate::text::place_name(&state.policy, region, lang);
            let body = format!(
                "{}<div class=card><h3>{} {id}</h3><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></div><p>{}</p><p><a href=\"/login{}\">{}</a></p>",
                good(lang.pick("申请已提交。", "Your request is in.")),
                lang.pick("申请编号", "Request no."),
                lang.pick("用户名", "Username"),
                esc(&username),
                lang.pick("去这里核实身份", "Confirm who you are at"),
                esc(&format!(
                    "{place}{}",
                    lang.pick("的社保经办窗口", " social insurance office")
                )),
                lang.pick(
                    "请带上身份证原件。工作人员核对后账户即开通；在那之前登录会告诉你申请的进展，如果不予开通，也会写明原因。",
                    "Bring your ID card. Once the clerk has checked it your account opens; until then, signing in tells you how the request stands, and if it is refused, why.",
                ),
                lang_query(lang, true),
                lang.pick("去登录", "Go to sign in"),
            );
            page(lang, title, &body).into_response()
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => e.into_response(),
        Err(e) => {
            let status = e.status;
            let mut r = (
                status,
                page(lang, title, &signup_form(&state, lang, &f, &bad(lang, &e))),
            )
                .into_response();
            if let Some(v) = e.retry_after {
                r.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(v),
                );
            }
            r
        }
    }
}

/// What to tell someone signing in with a name that is only a sign-up request, when the
/// password is the request's: it waits for the desk, or it was refused and why. `None`
/// otherwise (a stranger learns nothing).
pub(crate) async fn signup_news(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<ApiError>, ApiError> {
    let name = username.to_string();
    let password = password.to_string();
    let status = state
        .read(move |r| Ok(accounts::signup_status(r, &name, &password)?))
        .await?;
    Ok(status.map(|s| match s {
        SignupStatus::Pending { region, id } => {
            let zh_place = crate::text::place_name(&state.policy, region, Lang::Zh);
            let en_place = crate::text::place_name(&state.policy, region, Lang::En);
            ApiError::new(
                StatusCode::FORBIDDEN,
                "account_pending",
                format!(
                    "你的开户申请（编号 {id}）还在等待核实：请带身份证到{zh_place}的社保经办窗口"
                ),
                format!(
                    "your sign-up request (no. {id}) is waiting: take your ID card to the social insurance office of {en_place}"
                ),
            )
        }
        SignupStatus::Refused { reason } => ApiError::new(
            StatusCode::FORBIDDEN,
            "account_refused",
            format!("你的开户申请未通过，原因：{reason}。可以重新申请，或到社保经办窗口咨询"),
            format!(
                "your sign-up request was refused, because: {reason}. You may apply again or ask at a social insurance office"
            ),
        ),
    }))
}

// ---- the clerk's desk ----

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    lang: Option<String>,
    after: Option<String>,
}

const DESK_PAGE: u32 = 50;

async fn desk(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    after: i64,
    message: &str,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSignup)?;
    let c = caller.clone();
    let list = state
        .read(move |r| Ok(accounts::pending(r, c.actor(), after, DESK_PAGE)?))
        .await?;
    let ls = lang_query(lang, true);
    let mut body = format!(
        "<p>{}</p>{message}",
        lang.pick(
            "劳动者在网上提交的开户申请，按提交先后排列。请本人出示身份证原件：核对姓名与证件，在“证件上的号码”里输入证件号，与申请一致才会开通；不符就写明原因，不予开通（本人登录时会看到原因）。",
            "Sign-up requests workers sent online, oldest first. Ask for the ID card itself: compare the name, type the number on the card under \"Number on the card\" — the account opens only if it is the number of the request; otherwise refuse with the reason (the worker reads it when signing in).",
        )
    );
    if list.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick("没有待核实的开户申请。", "No sign-up request is waiting.")
        ));
    }
    for s in &list {
        let accounts_line = if s.accounts > 0 {
            format!(
                "<dt>{}</dt><dd class=bad>{}</dd>",
                lang.pick("已有账户", "Accounts already"),
                esc(&format!(
                    "{} {}",
                    s.accounts,
                    lang.pick("个：请问清楚为什么还要一个", "— ask why another is needed")
                ))
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<div class=card><h3>{req} {id} · {user}</h3><dl>\
             <dt>{nm}</dt><dd>{name}</dd><dt>{idl}</dt><dd>{masked}</dd><dt>{ph}</dt><dd>{tail}</dd>\
             <dt>{rg}</dt><dd>{place}</dd><dt>{at}</dt><dd>{when}</dd><dt>{reg}</dt><dd>{registered}</dd>{accounts_line}</dl>\
             <form method=\"post\" action=\"/clerk/signups/{id}/confirm\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
             <label>{card}<input name=\"card\" autocomplete=\"off\" maxlength=\"18\" required></label>\
             <button>{yes}</button></form>\
             <form method=\"post\" action=\"/clerk/signups/{id}/refuse\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
             <label>{why}<input name=\"reason\" required minlength=\"2\" maxlength=\"200\" placeholder=\"{why_eg}\"></label>\
             <button>{no}</button></form></div>",
            req = lang.pick("申请", "Request"),
            id = s.id,
            user = esc(&s.username),
            nm = lang.pick("姓名", "Name"),
            name = esc(&s.name),
            idl = lang.pick("身份证", "Resident ID"),
            masked = esc(&s.masked_id),
            ph = lang.pick("手机尾号", "Phone ends in"),
            tail = esc(&s.phone_tail),
            rg = lang.pick("办理地区", "Office region"),
            place = esc(&crate::text::place_name(&state.policy, s.region, lang)),
            at = lang.pick("提交时间", "Sent"),
            when = when(s.created_at),
            reg = lang.pick("登记簿", "Registry"),
            registered = if s.registered {
                lang.pick("已登记", "registered")
            } else {
                lang.pick(
                    "尚未登记：开通后请为其办理参保登记",
                    "not registered yet: register them after opening the account",
                )
            },
            csrf = caller.csrf(),
            l = lang.code(),
            card = lang.pick("证件上的号码", "Number on the card"),
            yes = lang.pick("核实无误，开通账户", "Identity confirmed: open the account"),
            why = lang.pick("不予开通的原因（本人会看到）", "Reason to refuse (the worker reads it)"),
            why_eg = lang.pick("证件与本人不符", "the ID card is not the applicant's"),
            no = lang.pick("不予开通", "Refuse"),
        ));
    }
    if list.len() == DESK_PAGE as usize
        && let Some(last) = list.last()
    {
        body.push_str(&format!(
            "<p><a href=\"/clerk/signups?after={}{}\">{}</a></p>",
            last.id,
            lang_query(lang, false),
            lang.pick("下一页", "Next page")
        ));
    }
    body.push_str(&format!(
        "<p><a href=\"/clerk/password{ls}\">{}</a> · <a href=\"/clerk{ls}\">{}</a></p>{}",
        lang.pick("为劳动者重置密码", "Reset a worker's password"),
        lang.pick("回到经办首页", "Back to the clerk's page"),
        logout_for(caller, lang),
    ));
    Ok(private_page(
        lang,
        lang.pick("开户申请核实", "Sign-up requests"),
        &body,
    ))
}

/// `GET /clerk/signups`: the pending requests of the clerk's region.
pub async fn desk_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DeskQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let after = q.after.as_deref().and_then(whole_number).unwrap_or(0);
    desk(&state, &caller, lang, after, "").await
}

#[derive(Deserialize)]
pub struct DecideForm {
    csrf: String,
    #[serde(default)]
    card: String,
    #[serde(default)]
    reason: String,
    lang: Option<String>,
}

fn request_id(text: &str) -> Result<i64, ApiError> {
    whole_number(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有这份开户申请",
            "no such sign-up request",
        )
    })
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    f: DecideForm,
    confirm: bool,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    caller.may(Action::ReviewSignup)?;
    let id = request_id(&id)?;
    let now = state.now();
    let c = caller.clone();
    let done = state
        .write(move |r| {
            if confirm {
                Ok(accounts::confirm(r, c.actor(), id, &f.card, now)?)
            } else {
                accounts::refuse(r, c.actor(), id, &f.reason, now)?;
                Ok(String::new())
            }
        })
        .await;
    let message = match done {
        Ok(username) if confirm => good(&format!(
            "{} {id} {} {username}{}",
            lang.pick("申请", "Request"),
            lang.pick("已开通，用户名", "confirmed: the account"),
            lang.pick(
                "。请告诉本人现在可以登录了。",
                " is open; tell the worker they can sign in now."
            ),
        )),
        Ok(_) => good(&format!(
            "{} {id} {}",
            lang.pick("申请", "Request"),
            lang.pick(
                "已不予开通，原因已告知本人。",
                "refused; the worker will read the reason."
            ),
        )),
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => return Err(e),
        Err(e) if e.status == StatusCode::FORBIDDEN && e.kind == "forbidden" => return Err(e),
        Err(e) => bad(lang, &e),
    };
    desk(&state, &caller, lang, 0, &message).await
}

/// `POST /clerk/signups/{id}/confirm`
pub async fn confirm_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, ApiError> {
    decide(state, caller, id, f, true).await
}

/// `POST /clerk/signups/{id}/refuse`
pub async fn refuse_submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, ApiError> {
    decide(state, caller, id, f, false).await
}

// ---- a clerk resets a worker's password ----

fn reset_form(caller: &Caller, lang: Lang, message: &str) -> String {
    format!(
        "<p>{}</p>{message}<form method=\"post\" action=\"/clerk/password\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label>{}<input name=\"card\" autocomplete=\"off\" maxlength=\"18\" required></label>\
         <button>{}</button></form><p><a href=\"/clerk/signups{ls}\">{}</a> · <a href=\"/clerk{ls}\">{}</a></p>{}",
        lang.pick(
            "劳动者本人带身份证到窗口、忘了密码时用。输入证件上的号码，系统给出一个临时密码（只显示一次），本人登录时须换成自己的新密码；这次重置会记入本人能看到的查阅记录。",
            "For a worker at the desk with their ID card who forgot their password. Type the number on the card: you get a temporary password (shown once), which the worker must replace with their own at the next sign-in; the reset goes to the log of reads the worker sees.",
        ),
        caller.csrf(),
        lang.code(),
        lang.pick("证件上的号码", "Number on the card"),
        lang.pick("重置密码", "Reset the password"),
        lang.pick("开户申请核实", "Sign-up requests"),
        lang.pick("回到经办首页", "Back to the clerk's page"),
        logout_for(caller, lang),
        ls = lang_query(lang, true),
    )
}

/// `GET /clerk/password`
pub async fn reset_page(
    caller: Caller,
    Params(q): Params<DeskQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::ResetPassword)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(private_page(
        lang,
        lang.pick("为劳动者重置密码", "Reset a worker's password"),
        &reset_form(&caller, lang, ""),
    ))
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    card: String,
    lang: Option<String>,
}

/// Resets the password of the worker whose ID card the clerk has in hand: (the account's
/// username, the temporary password to hand over). The page and the API alike.
pub(crate) async fn reset(
    state: &AppState,
    caller: &Caller,
    card: &str,
) -> Result<(String, String), ApiError> {
    caller.may(Action::ResetPassword)?;
    let (temp, hash) = tokio::task::spawn_blocking(accounts::temporary_password)
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)?;
    let now = state.now();
    let c = caller.clone();
    let card = card.to_string();
    let username = state
        .write(move |r| Ok(accounts::reset_password(r, c.actor(), &card, &hash, now)?))
        .await?;
    Ok((username, temp))
}

/// `POST /clerk/password`: the temporary password, shown once on a page never cached.
pub async fn reset_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<ResetForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    caller.may(Action::ResetPassword)?;
    let lang = lang_of(f.lang.as_deref());
    let title = lang.pick("为劳动者重置密码", "Reset a worker's password");
    match reset(&state, &caller, &f.card).await {
        Ok((username, temp)) => Ok(private_page(
            lang,
            title,
            &format!(
                "<div class=card><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd class=big>{}</dd></dl></div><p>{}</p>{}",
                lang.pick("用户名", "Username"),
                esc(&username),
                lang.pick("临时密码", "Temporary password"),
                esc(&temp),
                lang.pick(
                    "只显示这一次：请当面交给本人。本人用它登录时，须先换成自己的新密码；原来的密码和已登录的设备都已失效。",
                    "Shown only this once: hand it to the worker in person. Signing in with it, they must first choose their own new password; the old password and every signed-in device no longer work.",
                ),
                reset_form(&caller, lang, ""),
            ),
        )),
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        Err(e) => {
            let status = e.status;
            let mut r = private_page(lang, title, &reset_form(&caller, lang, &bad(lang, &e)));
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

// ---- choosing a new password ----

#[derive(Deserialize, Default)]
pub struct ChangeIn {
    #[serde(default)]
    username: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
    next: Option<String>,
    lang: Option<String>,
}

fn change_form(lang: Lang, username: &str, next: &str, message: &str) -> String {
    format!(
        "{message}<form method=\"post\" action=\"/password\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <label>{u}<input name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required value=\"{username}\"></label>\
         <label>{c}<input name=\"current\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>{n}<input name=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></label>\
         <label>{a}<input name=\"again\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></label>\
         <button>{go}</button></form>",
        next = esc(next),
        l = lang.code(),
        u = lang.pick("用户名", "Username"),
        username = esc(username.trim()),
        c = lang.pick(
            "现在的密码（或经办员给的临时密码）",
            "Current password (or the clerk's temporary one)"
        ),
        n = lang.pick(
            "新密码（至少 10 个字符）",
            "New password (at least 10 characters)"
        ),
        a = lang.pick("再输一遍新密码", "New password again"),
        go = lang.pick("设好新密码并登录", "Set the new password and sign in"),
    )
}

/// The change-password page, with `e` saying why (a reset, a typo).
pub fn change_page(
    lang: Lang,
    username: &str,
    next: &str,
    e: &ApiError,
    status: StatusCode,
) -> Response {
    (
        status,
        page(
            lang,
            lang.pick("设新密码", "Choose a new password"),
            &change_form(lang, username, next, &bad(lang, e)),
        ),
    )
        .into_response()
}

/// `GET /password`
pub async fn change_get(Params(q): Params<ChangeIn>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let next = crate::auth::safe_next(q.next.as_deref());
    page(
        lang,
        lang.pick("设新密码", "Choose a new password"),
        &change_form(lang, &q.username, &next, ""),
    )
    .into_response()
}

/// `POST /password`: the current (or temporary) password checked under the sign-in limits,
/// the new one set, every other session ended, and a page session opened.
pub async fn change_submit(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<ChangeIn>,
) -> Response {
    let lang = lang_of(f.lang.as_deref());
    let next = crate::auth::safe_next(f.next.as_deref());
    let done = async {
        csrf_origin(&headers)?;
        accounts::check_new_password(&f.current, &f.new, &f.again).map_err(ApiError::from)?;
        let account =
            crate::auth::check_credentials(&state, &client, &f.username, &f.current).await?;
        set_own_password(&state, account, &f.new, SessionKind::Page).await
    }
    .await;
    match done {
        Ok((token, _, _)) => {
            let mut r = Redirect::to(&next).into_response();
            crate::auth::set_session_cookie(&state, &mut r, &token);
            r
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => e.into_response(),
        Err(e) => change_page(lang, &f.username, &next, &e, e.status),
    }
}

// ---- changing one's own password at will ----

/// 403: the current password given to change it is not the account's.
fn wrong_password() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "wrong_password",
        "现在的密码不对，密码没有改",
        "the current password is wrong; the password is unchanged",
    )
}

/// Sets `account`'s new password (its rules checked, the current one verified): hashed off
/// the async workers, every session of the account ended, the change in a worker's access
/// log, and a fresh session of `kind` opened for the one who changed it.
pub(crate) async fn set_own_password(
    state: &AppState,
    account: AccountRow,
    new: &str,
    kind: SessionKind,
) -> Result<(String, AccountRow, i64), ApiError> {
    let new = new.to_string();
    let hash = tokio::task::spawn_blocking(move || anxin_records::access::hash_password(&new))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)?;
    let role = account.role().map_err(ApiError::from)?;
    let now = state.now();
    let a = account.clone();
    state
        .write(move |r| {
            let actor = anxin_service::access::Actor::new(&a, role);
            Ok(accounts::change_own_password(r, actor, &hash, now)?)
        })
        .await?;
    crate::auth::open_session(state, account, kind).await
}

/// A signed-in caller changes their own password: the new one by the service's rules, the
/// current one checked under the sign-in limits (a wrong one counts as a failed sign-in and
/// is refused with 403 `wrong_password`). Every session of the account ends; the caller gets
/// a fresh one of `kind`: (token, account, expiry).
pub(crate) async fn change_own(
    state: &AppState,
    client: &ClientIp,
    caller: &Caller,
    current: &str,
    new: &str,
    again: &str,
    kind: SessionKind,
) -> Result<(String, AccountRow, i64), ApiError> {
    accounts::check_new_password(current, new, again).map_err(ApiError::from)?;
    let account = match crate::auth::check_credentials(
        state,
        client,
        &caller.account.username,
        current,
    )
    .await
    {
        Ok(a) if a.id == caller.account.id => a,
        Ok(_) => return Err(wrong_password()),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(wrong_password()),
        Err(e) => return Err(e),
    };
    set_own_password(state, account, new, kind).await
}

fn own_form(caller: &Caller, lang: Lang, message: &str) -> String {
    let ls = lang_query(lang, true);
    format!(
        "<p>{intro}</p>{message}<form method=\"post\" action=\"/account/password\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
         <label>{c}<input name=\"current\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>{n}<input name=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></label>\
         <label>{a}<input name=\"again\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required></label>\
         <button>{go}</button></form><p><a href=\"/me{ls}\">{back}</a></p>{out}",
        intro = lang.pick(
            "改密码要先输入现在的密码。改好后，其他手机和电脑上的登录都会退出，这台设备保持登录；这次修改会记入你能看到的查阅记录。",
            "To change your password, type the current one first. Once changed, every other phone or computer signed in to your account is signed out, this one stays signed in, and the change goes to the log of reads you can see.",
        ),
        csrf = caller.csrf(),
        l = lang.code(),
        c = lang.pick("现在的密码", "Current password"),
        n = lang.pick("新密码（至少 10 个字符）", "New password (at least 10 characters)"),
        a = lang.pick("再输一遍新密码", "New password again"),
        go = lang.pick("修改密码", "Change the password"),
        back = lang.pick("回到我的页面", "Back to my page"),
        out = logout_for(caller, lang),
    )
}

/// `GET /account/password`: a signed-in caller's own password, changed at will.
pub async fn own_page(caller: Caller, Params(q): Params<DeskQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    private_page(
        lang,
        lang.pick("修改密码", "Change my password"),
        &own_form(&caller, lang, ""),
    )
}

#[derive(Deserialize)]
pub struct OwnForm {
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
    lang: Option<String>,
}

/// `POST /account/password`: the new password set, every other session ended, this browser
/// given a fresh session.
pub async fn own_submit(
    State(state): State<AppState>,
    client: ClientIp,
    caller: Caller,
    Form(f): Form<OwnForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let lang = lang_of(f.lang.as_deref());
    let title = lang.pick("修改密码", "Change my password");
    let done = change_own(
        &state,
        &client,
        &caller,
        &f.current,
        &f.new,
        &f.again,
        SessionKind::Page,
    )
    .await;
    match done {
        Ok((token, _, _)) => {
            let ls = lang_query(lang, true);
            let mut r = private_page(
                lang,
                title,
                &format!(
                    "{}<p><a href=\"/me{ls}\">{}</a></p>",
                    good(lang.pick(
                        "密码已修改。其他设备上的登录都已退出，这台设备仍然登录着。",
                        "Your password is changed. Every other device is signed out; this one stays signed in.",
                    )),
                    lang.pick("回到我的页面", "Back to my page"),
                ),
            );
            crate::auth::set_session_cookie(&state, &mut r, &token);
            Ok(r)
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        Err(e) => {
            let mut r = private_page(lang, title, &own_form(&caller, lang, &bad(lang, &e)));
            *r.status_mut() = e.status;
            if let Some(v) = e.retry_after {
                r.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(v),
                );
            }
            Ok(r)
        }
    }
}
