//! Signing in and who is calling: cookie sessions for pages, bearer tokens for the API.
//!
//! - A session is a random 256-bit token; the database keeps only its SHA-256.
//! - Pages read the `anxin_session` cookie (HttpOnly, SameSite=Lax, Secure when configured);
//!   the API reads `Authorization: Bearer …` and nothing else, so no page's cookie can be
//!   ridden into an API call. Each session is stored with what it was issued for
//!   ([`SessionKind`]): a cookie's value sent as a bearer token, or a bearer token sent as the
//!   cookie, finds no session.
//! - After signing in, the form goes to `next` only when it is a plain local path.
//! - Every form that changes something carries a CSRF token derived from the session.
//! - Login attempts are limited per username and in total (Argon2id is deliberately slow).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use anxin_policy::Lang;
use anxin_records::access::{self, AccountRow, Role, SessionKind};
use anxin_service::access::{Action, Actor};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::{ApiError, AppState, Chrome, LangQuery, Params, lang_of, lang_query, url_encode};
use askama::Template;

pub const COOKIE: &str = "anxin_session";
/// How long a session lives.
pub const SESSION_SECONDS: i64 = 8 * 3600;

impl AppState {
    /// Now, in seconds since the Unix epoch, from the state's clock.
    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// Today's date in China (UTC+8), whatever the server's clock zone: certificates and the
    /// access log speak the same day.
    pub fn today_in_china(&self) -> jiff::civil::Date {
        self.clock.today()
    }
}

/// The signed-in caller.
#[derive(Clone)]
pub struct Caller {
    pub account: AccountRow,
    pub role: Role,
    token: [u8; 32],
}

impl Caller {
    /// The token forms must echo back (double submit, bound to this session).
    pub fn csrf(&self) -> String {
        csrf_of(&self.token)
    }

    pub fn check_csrf(&self, given: &str) -> Result<(), ApiError> {
        let want = self.csrf();
        // Constant time: the comparison does not stop at the first differing byte.
        let same = want.len() == given.len()
            && want
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "表单已过期或来源不明，请回到上一页重新提交",
                "the form is stale or did not come from this site: go back and submit it again",
            ))
        }
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// The caller as the service layer's actor.
    pub fn actor(&self) -> Actor<'_> {
        Actor::new(&self.account, self.role)
    }

    /// Whether the caller's role may take `action` (`anxin_service::access` decides).
    pub fn may(&self, action: Action) -> Result<(), ApiError> {
        Ok(anxin_service::access::check(self.actor(), action)?)
    }
}

fn csrf_of(token: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"anxin csrf v1");
    h.update(token);
    anxin_records::keys::hex(&h.finalize()[..16])
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The API and the C2SP log paths (`/log/…`, read by tools, not browsers): bearer tokens, 401.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/log/")
}

/// Looks up the session named by the request: the bearer token on `/api/`, the cookie elsewhere.
async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let (token, kind) = if is_api(parts.uri.path()) {
        (bearer_token(&parts.headers), SessionKind::Api)
    } else {
        (cookie_token(&parts.headers), SessionKind::Page)
    };
    let Some(token) = token else {
        return Ok(None);
    };
    // A token is 43 characters of base64url; anything else cannot be one.
    if token.len() != 43 {
        return Ok(None);
    }
    let hash = access::token_hash(&token);
    let now = state.now();
    let account = state
        .read(move |r| Ok(r.store().session_account(&hash, kind, now)?))
        .await?;
    let Some(account) = account else {
        return Ok(None);
    };
    let role = account.role().map_err(ApiError::from)?;
    Ok(Some(Caller {
        account,
        role,
        token: hash,
    }))
}

/// Who must sign in: the API answers 401, pages send the browser to the sign-in page.
pub struct SignIn {
    api: bool,
    next: String,
}

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        if self.api {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "请先登录：用 POST /api/sessions 换取令牌，放在 Authorization: Bearer 头里",
                "sign in first: get a token from POST /api/sessions and send it as Authorization: Bearer",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"anxin\""),
            );
            r
        } else {
            let next = url_encode(&self.next);
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Response> {
        match resolve(parts, state).await {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(SignIn {
                api: is_api(parts.uri.path()),
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into()),
            }
            .into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The caller if signed in, for pages that also serve the public.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<MaybeCaller, Response> {
        resolve(parts, state)
            .await
            .map(MaybeCaller)
            .map_err(IntoResponse::into_response)
    }
}

// ---- login rate limit ----

/// At most `failures_per_name` failed sign-ins per username in `window`, and
/// `attempts_per_second` attempts of any kind per second (each costs an Argon2id hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    pub failures_per_name: usize,
    pub window: Duration,
    pub attempts_per_second: u32,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            failures_per_name: 5,
            window: Duration::from_secs(15 * 60),
            attempts_per_second: 20,
        }
    }
}

/// Enforces [`LoginLimits`].
#[derive(Default)]
pub struct LoginLimiter {
    inner: Mutex<Limits>,
    limits: LoginLimits,
}

#[derive(Default)]
struct Limits {
    failures: HashMap<String, VecDeque<Timestamp>>,
    second: Option<Timestamp>,
    in_second: u32,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            inner: Mutex::default(),
            limits,
        }
    }

    /// `Err(seconds to wait)` when this attempt, at `now`, is over a limit.
    pub fn admit(&self, username: &str, now: Timestamp) -> Result<(), u64> {
        let mut l = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Time read from a clock that went back counts as no time passed.
        let since = |t: Timestamp| Duration::try_from(now.duration_since(t)).unwrap_or_default();
        match l.second {
            Some(s) if since(s) < Duration::from_secs(1) => {
                if l.in_second >= self.limits.attempts_per_second {
                    return Err(1);
                }
                l.in_second += 1;
            }
            _ => {
                l.second = Some(now);
                l.in_second = 1;
            }
        }
        if let Some(q) = l.failures.get_mut(username) {
            while q.front().is_some_and(|t| since(*t) > self.limits.window) {
                q.pop_front();
            }
            if q.len() >= self.limits.failures_per_name {
                let wait = self.limits.window.saturating_sub(since(q[0]));
                return Err(wait.as_secs().max(1));
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in at `now`.
    pub fn failed(&self, username: &str, now: Timestamp) {
        let mut l = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if l.failures.len() > 100_000 {
            l.failures.clear();
        }
        l.failures
            .entry(username.to_string())
            .or_default()
            .push_back(now);
    }

    fn succeeded(&self, username: &str) {
        let mut l = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        l.failures.remove(username);
    }
}

fn too_many(wait: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("登录尝试太多，请 {wait} 秒后再试"),
        format!("too many sign-in attempts: try again in {wait} s"),
    )
    .retry_after(wait)
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "用户名或密码不对",
        "wrong username or password",
    )
}

/// The client's address, when the server knows it (not in tests driving the router directly).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Checks a username and password and opens a session: (token, account, expiry).
/// Failures are counted per username and client address, so a stranger's wrong guesses do
/// not lock the owner out. An account whose password a clerk reset opens no session: its
/// holder must choose a new password first (`password_change_required`).
async fn sign_in(
    state: &AppState,
    client: ClientIp,
    kind: SessionKind,
    username: &str,
    password: &str,
) -> Result<(String, AccountRow, i64), ApiError> {
    let account = check_credentials(state, &client, username, password).await?;
    let id = account.id;
    if state
        .read(move |r| Ok(r.store().must_change_password(id)?))
        .await?
    {
        return Err(change_required());
    }
    open_session(state, account, kind).await
}

/// 403: the password was reset by a clerk and must be changed before any session opens.
pub fn change_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "password_change_required",
        "密码已由经办员重置：请先设一个新密码（登录页会带你去）",
        "your password was reset by a clerk: choose a new one first (the sign-in page takes you there)",
    )
}

/// The account a username and password name, under the login limits; a wrong pair is
/// counted against the name and client. A name that is only a sign-up request, with its
/// password, is told where the request stands (waiting for the desk, or refused and why).
pub(crate) async fn check_credentials(
    state: &AppState,
    client: &ClientIp,
    username: &str,
    password: &str,
) -> Result<AccountRow, ApiError> {
    let username = username.trim().to_lowercase();
    let limit_key = match client.0 {
        Some(ip) => format!("{username} {ip}"),
        None => username.clone(),
    };
    state
        .logins
        .admit(&limit_key, state.clock.now())
        .map_err(too_many)?;
    let name = username.clone();
    let found = state
        .read(move |r| Ok(r.store().account_named(&name)?))
        .await?;
    // Hash even for an unknown name, so timing does not tell which names exist.
    let stored = found
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| access::decoy_hash().to_string());
    let given = password.to_string();
    let ok = tokio::task::spawn_blocking(move || access::verify_password(&stored, &given))
        .await
        .unwrap_or(false);
    match (ok, found) {
        (true, Some(a)) => {
            state.logins.succeeded(&limit_key);
            Ok(a)
        }
        (_, found) => {
            state.logins.failed(&limit_key, state.clock.now());
            if found.is_none()
                && let Some(news) = crate::accounts::signup_news(state, &username, password).await?
            {
                return Err(news);
            }
            Err(bad_credentials())
        }
    }
}

/// Opens a session of `kind` for `account`: (token, account, expiry).
pub(crate) async fn open_session(
    state: &AppState,
    account: AccountRow,
    kind: SessionKind,
) -> Result<(String, AccountRow, i64), ApiError> {
    let (token, hash) = access::new_token().map_err(ApiError::from)?;
    let now = state.now();
    let expires = now + SESSION_SECONDS;
    let id = account.id;
    state
        .write(move |r| Ok(r.store().create_session(&hash, id, kind, expires, now)?))
        .await?;
    Ok((token, account, expires))
}

/// The session cookie for a page session's token.
pub(crate) fn set_session_cookie(state: &AppState, r: &mut Response, token: &str) {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
}

// ---- API ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// `POST /api/sessions`: a bearer token for a username and password.
pub async fn api_sign_in(
    State(state): State<AppState>,
    client: ClientIp,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let c: Credentials = crate::json_object(&body).map_err(|e| {
        ApiError::bad_input(
            format!("请求须为 {{\"username\": …, \"password\": …}}：{e}"),
            format!("the request must be {{\"username\": …, \"password\": …}}: {e}"),
        )
    })?;
    let (token, account, expires) =
        sign_in(&state, client, SessionKind::Api, &c.username, &c.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "token": token,
            "expires_at": expires,
            "account": account_json(&account),
        })),
    )
        .into_response())
}

/// `DELETE /api/sessions`: ends the bearer token's session.
pub async fn api_sign_out(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    let token = caller.token;
    state
        .write(move |r| Ok(r.store().end_session(&token)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn account_json(a: &AccountRow) -> serde_json::Value {
    serde_json::json!({
        "username": a.username,
        "role": a.role,
        "region": a.region.map(|r| format!("{r:06}")),
        "org": a.org,
        "person": a.person.map(|p| anxin_records::keys::hex(&p)),
    })
}

/// `GET /api/me`
pub async fn api_me(caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "account": account_json(&caller.account) }))
}

// ---- pages ----

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
}

/// Longest `next` followed after signing in.
const MAX_NEXT: usize = 512;

/// Where the sign-in form may send the browser: a local path of this site and nothing else,
/// else `/me`. A local path starts with one `/` (never `//host`, `/\host`), and holds only
/// visible ASCII (no control character such as CR/LF, which would split the `Location` header;
/// no space, no backslash, no raw non-ASCII: a browser sends those percent-encoded), at most
/// [`MAX_NEXT`] bytes.
pub fn safe_next(next: Option<&str>) -> String {
    let local = |n: &str| {
        n.len() <= MAX_NEXT
            && n.starts_with('/')
            && !n[1..].starts_with(['/', '\\'])
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    };
    match next {
        Some(n) if local(n) => n.into(),
        _ => "/me".into(),
    }
}

/// `templates/login.html`: the sign-in form, why the last try failed, where accounts come
/// from.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    /// Why the last try was refused (empty: none).
    message: String,
}

/// `templates/me.html`: the desk of a role without a page of its own.
#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    c: Chrome,
    username: String,
    role: &'static str,
    region: String,
    links: Vec<(&'static str, &'static str)>,
    note: &'static str,
    logout: String,
}

/// `templates/logout.html`.
#[derive(Template)]
#[template(path = "logout.html")]
struct Logout {
    csrf: String,
    label: &'static str,
}

crate::extends_layout!(LoginPage, MePage);

fn login_form(lang: Lang, next: &str, message: String) -> LoginPage {
    LoginPage {
        c: Chrome::new(lang, lang.pick("登录", "Sign in")),
        next: next.to_string(),
        message,
    }
}

pub async fn login_page(Params(q): Params<LoginQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let next = safe_next(q.next.as_deref());
    crate::html(&login_form(lang, &next, String::new())).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    lang: Option<String>,
}

/// A sign-in form posted from another site is refused (login CSRF).
/// Browsers send `Origin: null` in some privacy modes; then the Referer (sent same-origin
/// under our `Referrer-Policy: same-origin`) decides, and with neither the form is refused.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let site = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
            .is_some_and(|authority| authority == host)
    };
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some("null") => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(site),
        Some(origin) => site(origin),
    }
}

pub async fn login_submit(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(f.lang.as_deref());
    let next = safe_next(f.next.as_deref());
    if !same_origin(&headers) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "登录表单必须从本站提交",
            "the sign-in form must be posted from this site",
        )
        .into_response();
    }
    match sign_in(&state, client, SessionKind::Page, &f.username, &f.password).await {
        Ok((token, _, _)) => {
            let mut r = Redirect::to(&next).into_response();
            set_session_cookie(&state, &mut r, &token);
            r
        }
        Err(e) if e.kind == "password_change_required" => {
            crate::accounts::change_page(lang, &f.username, &next, &e, StatusCode::FORBIDDEN)
        }
        Err(e) => {
            let message = lang.pick(&e.zh, &e.en).to_string();
            (e.status, crate::html(&login_form(lang, &next, message))).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    caller.check_csrf(&f.csrf)?;
    let token = caller.token;
    state
        .write(move |r| Ok(r.store().end_session(&token)?))
        .await?;
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("anxin_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}

/// The sign-out button, for pages of a signed-in caller.
pub fn logout_button(caller: &Caller, lang: Lang) -> String {
    Logout {
        csrf: caller.csrf(),
        label: lang.pick("退出登录", "Sign out"),
    }
    .render()
    .unwrap_or_default()
}

/// `/me`: where each role starts.
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<LangQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let suffix = lang_query(lang, true);
    if let (Role::Worker, Some(p)) = (caller.role, caller.account.person) {
        return Redirect::to(&format!(
            "/persons/{}{suffix}",
            anxin_records::keys::hex(&p)
        ))
        .into_response();
    }
    // The monitor's desks (issue 16): the grid worker's alerts, the inspector's compliance
    // (which links on to the clerk's desk and the cases).
    match caller.role {
        Role::Grid => return Redirect::to(&format!("/grid{suffix}")).into_response(),
        Role::Inspector => {
            return Redirect::to(&format!("/monitor/compliance{suffix}")).into_response();
        }
        _ => {}
    }
    if caller.role.reads_persons() {
        return Redirect::to(&format!("/clerk{suffix}")).into_response();
    }
    // A role with one desk lands on it.
    match caller.role {
        Role::Platform => return Redirect::to(&format!("/platform{suffix}")).into_response(),
        Role::Auditor => return Redirect::to(&format!("/clerk/audit{suffix}")).into_response(),
        Role::Analyst => return Redirect::to(&format!("/analyst{suffix}")).into_response(),
        _ => {}
    }
    let region = caller
        .account
        .region
        .map(|r| crate::text::place_name(&state.policy, r, lang))
        .unwrap_or_else(|| lang.pick("全国", "national").into());
    let links: &[(&str, &str, &str)] = match caller.role {
        Role::Education => &[
            (
                "/school/review",
                "入学申请审核",
                "Review school applications",
            ),
            (
                "/school/ledger",
                "因入学参保人员台账",
                "Identification ledger",
            ),
        ],
        // The union's desk: the region's complaints, and the public tools it uses with
        // people.
        Role::Union => &[
            (
                "/cases",
                "本地区的维权案件（逾期在前）",
                "Rights complaints of the region (overdue first)",
            ),
            (
                "/quote",
                "帮人算缴费：每月要交多少",
                "Help someone: what to pay a month",
            ),
            (
                "/school",
                "帮人查孩子能不能上学",
                "Help someone: will their child qualify for school",
            ),
            (
                "/verify",
                "核验一份参保缴费凭证",
                "Check a contribution certificate",
            ),
        ],
        Role::Supervisor => &[(
            "/cases",
            "督办：本地区的案件（逾期转来的在前）",
            "Supervision: the region's cases (overdue ones escalated to you first)",
        )],
        _ => &[],
    };
    let note = match caller.role {
        Role::Union => lang.pick(
            "本地区的维权案件在上面的队列里；平台会费测算尚在建设中。",
            "The region's rights complaints are in the queue above; platform dues are being built.",
        ),
        Role::Admin => lang.pick(
            "劳动者在“注册”页自己申请账户，由所在地经办员核实身份后开通；其他账户由管理员在服务器上开设：anxin account add 用户名 --role 角色 --region 地区代码（密码只显示一次），anxin account list 列出全部账户。",
            "Workers apply on the sign-up page and a clerk of their region opens the account once their identity is confirmed; other accounts are made on the server: anxin account add NAME --role ROLE --region CODE (the password is shown once); anxin account list lists them.",
        ),
        _ => "",
    };
    crate::html(&MePage {
        c: Chrome::new(lang, lang.pick("我的账户", "My account")),
        username: caller.account.username.clone(),
        role: lang.pick(caller.role.name_zh(), caller.role.as_str()),
        region,
        links: links
            .iter()
            .map(|(href, zh, en)| (*href, lang.pick(zh, en)))
            .collect(),
        note,
        logout: logout_button(&caller, lang),
    })
    .into_response()
}
