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
    ApiError, AppState, Chrome, Params, html, lang_of, private_html, region_choices, whole_number,
};
use askama::Template;

/// A refusal as the pages' message line (`templates/message.html`): not good, its words.
fn bad(lang: Lang, e: &ApiError) -> Option<(bool, String)> {
    Some((false, lang.pick(&e.zh, &e.en).to_string()))
}

fn good(text: &str) -> Option<(bool, String)> {
    Some((true, text.to_string()))
}

type Message = Option<(bool, String)>;

/// `templates/signup.html`: a worker's sign-up form, or where to go once it is in.
#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    c: Chrome,
    message: Message,
    name: String,
    phone: String,
    username: String,
    regions: Vec<(String, String, bool)>,
    /// The request stored: its number, the username and the place to visit.
    done: Option<(i64, String, String)>,
}

/// `templates/signups.html`: the clerk's desk of sign-up requests.
#[derive(Template)]
#[template(path = "signups.html")]
struct SignupsPage {
    c: Chrome,
    message: Message,
    requests: Vec<Request>,
    /// The next page starts after this request.
    next: Option<i64>,
    csrf: String,
    logout: String,
}

struct Request {
    id: i64,
    username: String,
    name: String,
    masked_id: String,
    phone_tail: String,
    place: String,
    sent: String,
    registered: bool,
    accounts: usize,
}

/// `templates/reset.html`: a clerk resets a worker's password (the temporary one shown once).
#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    c: Chrome,
    message: Message,
    /// The username and the temporary password.
    done: Option<(String, String)>,
    csrf: String,
    logout: String,
}

/// `templates/password.html`: choose a new password (after a reset, before any session).
#[derive(Template)]
#[template(path = "password.html")]
struct ChangePage {
    c: Chrome,
    message: Message,
    next: String,
    username: String,
}

/// `templates/own_password.html`: a signed-in caller changes their own password.
#[derive(Template)]
#[template(path = "own_password.html")]
struct OwnPage {
    c: Chrome,
    message: Message,
    done: bool,
    csrf: String,
    logout: String,
}

crate::extends_layout!(SignupPage, SignupsPage, ResetPage, ChangePage, OwnPage);

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

fn signup_form(state: &AppState, lang: Lang, f: &SignupIn, message: Message) -> SignupPage {
    SignupPage {
        c: Chrome::new(lang, lang.pick("劳动者注册", "Sign up as a worker")),
        message,
        name: f.name.clone(),
        phone: f.phone.clone(),
        username: f.username.clone(),
        regions: region_choices(&state.policy, lang, f.region.trim()),
        done: None,
    }
}

/// `GET /signup`
pub async fn signup_page(State(state): State<AppState>, Params(q): Params<SignupIn>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    html(&signup_form(&state, lang, &SignupIn::default(), None)).into_response()
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
            let mut page = signup_form(&state, lang, &SignupIn::default(), None);
            page.done = Some((id, username, place));
            html(&page).into_response()
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => e.into_response(),
        Err(e) => {
            let status = e.status;
            let mut r =
                (status, html(&signup_form(&state, lang, &f, bad(lang, &e)))).into_response();
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
    message: Message,
) -> Result<Response, ApiError> {
    caller.may(Action::ReviewSignup)?;
    let c = caller.clone();
    let list = state
        .read(move |r| Ok(accounts::pending(r, c.actor(), after, DESK_PAGE)?))
        .await?;
    let next = if list.len() == DESK_PAGE as usize {
        list.last().map(|s| s.id)
    } else {
        None
    };
    Ok(private_html(&SignupsPage {
        c: Chrome::new(lang, lang.pick("开户申请核实", "Sign-up requests")),
        message,
        requests: list
            .iter()
            .map(|s| Request {
                id: s.id,
                username: s.username.clone(),
                name: s.name.clone(),
                masked_id: s.masked_id.clone(),
                phone_tail: s.phone_tail.clone(),
                place: crate::text::place_name(&state.policy, s.region, lang),
                sent: crate::when(s.created_at),
                registered: s.registered,
                accounts: s.accounts,
            })
            .collect(),
        next,
        csrf: caller.csrf(),
        logout: logout_for(caller, lang),
    }))
}

/// `GET /clerk/signups`: the pending requests of the clerk's region.
pub async fn desk_page(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<DeskQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang.as_deref());
    let after = q.after.as_deref().and_then(whole_number).unwrap_or(0);
    desk(&state, &caller, lang, after, None).await
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
    desk(&state, &caller, lang, 0, message).await
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

fn reset_form(caller: &Caller, lang: Lang, message: Message) -> ResetPage {
    ResetPage {
        c: Chrome::new(
            lang,
            lang.pick("为劳动者重置密码", "Reset a worker's password"),
        ),
        message,
        done: None,
        csrf: caller.csrf(),
        logout: logout_for(caller, lang),
    }
}

/// `GET /clerk/password`
pub async fn reset_page(
    caller: Caller,
    Params(q): Params<DeskQuery>,
) -> Result<Response, ApiError> {
    caller.may(Action::ResetPassword)?;
    let lang = lang_of(q.lang.as_deref());
    Ok(private_html(&reset_form(&caller, lang, None)))
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
    match reset(&state, &caller, &f.card).await {
        Ok((username, temp)) => {
            let mut page = reset_form(&caller, lang, None);
            page.done = Some((username, temp));
            Ok(private_html(&page))
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        Err(e) => {
            let status = e.status;
            let mut r = private_html(&reset_form(&caller, lang, bad(lang, &e)));
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

fn change_form(lang: Lang, username: &str, next: &str, message: Message) -> ChangePage {
    ChangePage {
        c: Chrome::new(lang, lang.pick("设新密码", "Choose a new password")),
        message,
        next: next.to_string(),
        username: username.trim().to_string(),
    }
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
        html(&change_form(lang, username, next, bad(lang, e))),
    )
        .into_response()
}

/// `GET /password`
pub async fn change_get(Params(q): Params<ChangeIn>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let next = crate::auth::safe_next(q.next.as_deref());
    html(&change_form(lang, &q.username, &next, None)).into_response()
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

fn own_form(caller: &Caller, lang: Lang, message: Message) -> OwnPage {
    OwnPage {
        c: Chrome::new(lang, lang.pick("修改密码", "Change my password")),
        message,
        done: false,
        csrf: caller.csrf(),
        logout: logout_for(caller, lang),
    }
}

/// `GET /account/password`: a signed-in caller's own password, changed at will.
pub async fn own_page(caller: Caller, Params(q): Params<DeskQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    private_html(&own_form(&caller, lang, None))
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
            let mut page = own_form(&caller, lang, None);
            page.done = true;
            let mut r = private_html(&page);
            crate::auth::set_session_cookie(&state, &mut r, &token);
            Ok(r)
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        Err(e) => {
            let mut r = private_html(&own_form(&caller, lang, bad(lang, &e)));
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
