//! Accounts people make and mend, through the pages (issue 13): a worker signs up, is told
//! the request waits, a clerk of the region confirms it with the ID card (the wrong card
//! refused), another request is refused with a reason the applicant reads, sign-ups are
//! limited per client, and a clerk's password reset forces a new password before any session.

use std::sync::Arc;

use anxin_domain::YearMonth;
use anxin_records::access::{NewAccount, Role};
use anxin_records::conformance::{person, region, resident_id, secrets};
use anxin_records::{Records, Suite};
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;

mod support;
use support::page_session;

struct Reply {
    status: StatusCode,
    body: String,
    headers: axum::http::HeaderMap,
}

async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: &str,
) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(t) = cookie {
        b = b.header("cookie", format!("anxin_session={t}"));
    }
    let response = router(state.clone())
        .oneshot(b.body(Body::from(form.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Reply {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

fn enc(s: &str) -> String {
    anxin_server::url_encode(s)
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"))
        + start.len();
    html[at..].split(end).next().unwrap()
}

fn world() -> (AppState, String, String) {
    let store: Box<dyn anxin_records::Store> =
        Box::new(anxin_store_sqlite::SqliteStore::in_memory().unwrap());
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap();
    let hz = resident_id("33010619900101123");
    let sz = resident_id("44030519850202234");
    records.append(vec![person(&hz)]).unwrap();
    for (name, role, reg) in [
        ("clerk-hz", Role::Clerk, "330100"),
        ("clerk-sz", Role::Clerk, "440300"),
        ("inspector-hz", Role::Inspector, "330100"),
    ] {
        let a =
            NewAccount::new(name, role, "test password 1", Some(region(reg)), None, None).unwrap();
        records.store().create_account(&a, 0).unwrap();
    }
    let state = AppState {
        today: YearMonth::new(2026, 6),
        verifier: Some(Arc::new(records.verifier().clone())),
        records: Some(anxin_service::db::Db::start(records, anxin_service::db::READERS).unwrap()),
        ..AppState::new(anxin_policy::Policy::embedded().unwrap())
    };
    (state, hz.expose().to_string(), sz.expose().to_string())
}

fn signup_form(id: &str, username: &str, region: &str) -> String {
    format!(
        "resident_id={id}&name={}&phone=13800138000&username={username}&password={}&region={region}",
        enc("张三"),
        enc("my own password")
    )
}

fn login(username: &str, password: &str) -> String {
    format!("username={username}&password={}", enc(password))
}

#[tokio::test]
async fn a_worker_signs_up_and_a_clerk_of_the_region_opens_the_account() {
    let (state, hz, sz) = world();

    // The sign-in page says where accounts come from.
    let r = send(&state, "GET", "/login", None, "").await;
    assert!(r.body.contains("href=\"/signup\""), "{}", r.body);
    assert!(r.body.contains("管理员"));
    let r = send(&state, "GET", "/signup", None, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("name=\"resident_id\"") && r.body.contains("<option"));

    // A wrong check digit is refused with its reason; the form keeps the other fields.
    let bad_id = format!("{}{}", &hz[..17], if hz.ends_with('0') { '1' } else { '0' });
    let r = send(
        &state,
        "POST",
        "/signup",
        None,
        &signup_form(&bad_id, "zhangsan", "330100"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("GB 11643") && r.body.contains("class=\"bad\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"zhangsan\""));
    assert!(!r.body.contains(&bad_id), "the ID is not echoed");

    // A good request: a number and where to go.
    let r = send(
        &state,
        "POST",
        "/signup",
        None,
        &signup_form(&hz, "zhangsan", "330100"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("申请已提交") && r.body.contains("杭州"),
        "{}",
        r.body
    );

    // Signing in before the desk: told it waits, and where.
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("zhangsan", "my own password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("等待核实") && r.body.contains("杭州"),
        "{}",
        r.body
    );
    // With a wrong password: nothing about the request.
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("zhangsan", "not my password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!r.body.contains("等待核实"));

    // The 深圳 clerk sees nothing; an inspector may not look.
    let sz_clerk = page_session(&state, "clerk-sz");
    let r = send(&state, "GET", "/clerk/signups", Some(&sz_clerk), "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("没有待核实的开户申请"), "{}", r.body);
    let inspector = page_session(&state, "inspector-hz");
    let r = send(&state, "GET", "/clerk/signups", Some(&inspector), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The 杭州 clerk sees the name, the masked ID and the phone's tail, never the full ID.
    let clerk = page_session(&state, "clerk-hz");
    let r = send(&state, "GET", "/clerk/signups", Some(&clerk), "").await;
    assert!(
        r.body.contains("张三") && r.body.contains("8000"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("{}**********{}", &hz[..4], &hz[14..]))
    );
    assert!(!r.body.contains(&hz));
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store",
        "a page of personal data"
    );
    let csrf = csrf_in(&r.body);
    let id = between(&r.body, "action=\"/clerk/signups/", "/confirm");

    // A forged form changes nothing; the wrong card is refused; the right one opens it.
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/confirm"),
        Some(&clerk),
        &format!("csrf=bad&card={hz}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/confirm"),
        Some(&sz_clerk),
        &format!(
            "csrf={}&card={hz}",
            csrf_in(
                &send(&state, "GET", "/clerk/signups", Some(&sz_clerk), "")
                    .await
                    .body
            )
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the 深圳 clerk may not");
    assert!(r.body.contains("不是你的辖区"), "{}", r.body);
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/confirm"),
        Some(&clerk),
        &format!("csrf={csrf}&card={sz}"),
    )
    .await;
    assert!(r.body.contains("不一致"), "{}", r.body);
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/confirm"),
        Some(&clerk),
        &format!("csrf={csrf}&card={hz}"),
    )
    .await;
    assert!(
        r.body.contains("已开通") && r.body.contains("zhangsan"),
        "{}",
        r.body
    );
    assert!(r.body.contains("没有待核实的开户申请"));

    // The worker signs in, lands on their record, and reads who opened the account.
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("zhangsan", "my own password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let worker = page_session(&state, "zhangsan");
    let me = send(&state, "GET", "/me", Some(&worker), "").await;
    let record = me
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(record.starts_with("/persons/"), "{record}");
    let r = send(
        &state,
        "GET",
        &format!("{record}/access"),
        Some(&worker),
        "",
    )
    .await;
    assert!(
        r.body.contains("核实身份，开通账户") && r.body.contains("clerk-hz"),
        "{}",
        r.body
    );

    // A second request is refused: an empty reason is not taken; the reason is read back.
    let r = send(
        &state,
        "POST",
        "/signup",
        None,
        &signup_form(&sz, "lisi", "330100"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(&state, "GET", "/clerk/signups", Some(&clerk), "").await;
    let id = between(&r.body, "action=\"/clerk/signups/", "/confirm").to_string();
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/refuse"),
        Some(&clerk),
        &format!("csrf={csrf}&reason=+"),
    )
    .await;
    assert!(r.body.contains("须写明原因"), "{}", r.body);
    let r = send(
        &state,
        "POST",
        &format!("/clerk/signups/{id}/refuse"),
        Some(&clerk),
        &format!("csrf={csrf}&reason={}", enc("本人未到场")),
    )
    .await;
    assert!(r.body.contains("已不予开通"), "{}", r.body);
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("lisi", "my own password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("未通过") && r.body.contains("本人未到场"),
        "{}",
        r.body
    );

    // Sign-ups are limited per client: the requests so far count, and past the limit 429.
    let mut limited = None;
    for i in 0..anxin_server::gates::SIGNUPS {
        let r = send(
            &state,
            "POST",
            "/signup",
            None,
            &signup_form(&sz, &format!("again{i}"), "330100"),
        )
        .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = limited.expect("the limit applies");
    assert!(r.headers.get(header::RETRY_AFTER).is_some());
    assert!(r.body.contains("太频繁"), "{}", r.body);
}

#[tokio::test]
async fn a_clerk_resets_a_password_and_the_worker_must_choose_a_new_one() {
    let (state, hz, sz) = world();
    let key = state
        .records
        .as_ref()
        .unwrap()
        .write(move |r| {
            let id = anxin_domain::ResidentId::parse(&hz).unwrap();
            let key = r.person_key(&id);
            let a = NewAccount::new(
                "worker-hz",
                Role::Worker,
                "old password 1",
                Some(region("330100")),
                Some(key.0),
                None,
            )
            .unwrap();
            r.store().create_account(&a, 0).unwrap();
            key
        })
        .unwrap();
    let hz = resident_id("33010619900101123").expose().to_string();
    let old_session = page_session(&state, "worker-hz");

    let clerk = page_session(&state, "clerk-hz");
    let r = send(&state, "GET", "/clerk/password", Some(&clerk), "").await;
    assert_eq!(r.status, StatusCode::OK);
    let csrf = csrf_in(&r.body);
    // Someone with no worker account: told so.
    let r = send(
        &state,
        "POST",
        "/clerk/password",
        Some(&clerk),
        &format!("csrf={csrf}&card={sz}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("没有劳动者账户"), "{}", r.body);
    // The 深圳 clerk may not.
    let sz_clerk = page_session(&state, "clerk-sz");
    let sz_csrf = csrf_in(
        &send(&state, "GET", "/clerk/password", Some(&sz_clerk), "")
            .await
            .body,
    );
    let r = send(
        &state,
        "POST",
        "/clerk/password",
        Some(&sz_clerk),
        &format!("csrf={sz_csrf}&card={hz}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = send(
        &state,
        "POST",
        "/clerk/password",
        Some(&clerk),
        &format!("csrf={csrf}&card={hz}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let temp = between(&r.body, "<dd class=big>", "</dd>").to_string();
    assert!(temp.len() >= 10, "{temp}");

    // The old password and the old session are gone.
    let r = send(&state, "GET", "/me", Some(&old_session), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("worker-hz", "old password 1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The temporary one opens no session: the page asks for a new password.
    let r = send(&state, "POST", "/login", None, &login("worker-hz", &temp)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert!(
        r.body.contains("action=\"/password\"") && r.body.contains("重置"),
        "{}",
        r.body
    );
    // Mismatched or unchanged new passwords are refused; then the new one works.
    let change = |new: &str, again: &str| {
        format!(
            "username=worker-hz&current={}&new={}&again={}",
            enc(&temp),
            enc(new),
            enc(again)
        )
    };
    let r = send(
        &state,
        "POST",
        "/password",
        None,
        &change("brand new pass", "brand new pas"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("不一样"));
    let r = send(&state, "POST", "/password", None, &change(&temp, &temp)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        &state,
        "POST",
        "/password",
        None,
        &change("brand new pass", "brand new pass"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("anxin_session=")
    );
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("worker-hz", "brand new pass"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The worker reads the reset in their access log.
    let worker = page_session(&state, "worker-hz");
    let r = send(
        &state,
        "GET",
        &format!("/persons/{}/access", key.hex()),
        Some(&worker),
        "",
    )
    .await;
    assert!(
        r.body.contains("重置密码") && r.body.contains("clerk-hz"),
        "{}",
        r.body
    );
    // A certificate issued for the worker is told in their inbox, without its code.
    let r = send(
        &state,
        "GET",
        &format!("/persons/{}", key.hex()),
        Some(&worker),
        "",
    )
    .await;
    let csrf = csrf_in(&r.body);
    let r = send(
        &state,
        "POST",
        &format!("/persons/{}/certificate", key.hex()),
        Some(&worker),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let printed = r
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let code = printed.trim_start_matches("/certificates/").to_string();
    let r = send(&state, "GET", "/inbox", Some(&worker), "").await;
    assert!(r.body.contains("参保缴费凭证已开具"), "{}", r.body);
    assert!(!r.body.contains(&code), "no code in the message");
}

async fn api(state: &AppState, method: &str, uri: &str, token: Option<&str>, json: &str) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let response = router(state.clone())
        .oneshot(b.body(Body::from(json.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Reply {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

fn json_of(r: &Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// A bearer token through `POST /api/sessions`.
async fn api_token(state: &AppState, username: &str, password: &str) -> String {
    let r = api(
        state,
        "POST",
        "/api/sessions",
        None,
        &serde_json::json!({ "username": username, "password": password }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    json_of(&r)["token"].as_str().unwrap().to_string()
}

fn signup_json(id: &str, username: &str) -> String {
    serde_json::json!({
        "resident_id": id, "name": "张三", "phone": "+86 138-0013-8000",
        "username": username, "password": "my own password", "region": "330100"
    })
    .to_string()
}

#[tokio::test]
async fn the_api_signs_up_confirms_refuses_and_resets_as_the_pages_do() {
    let (state, hz, sz) = world();

    // Bad input: a wrong check digit, a field the API does not know; nothing stored.
    let bad_id = format!("{}{}", &hz[..17], if hz.ends_with('0') { '1' } else { '0' });
    let r = api(
        &state,
        "POST",
        "/api/signups",
        None,
        &signup_json(&bad_id, "zhangsan"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&r)["error"]["en"]
            .as_str()
            .unwrap()
            .contains("GB 11643")
    );
    assert!(!r.body.contains(&bad_id), "the ID is not echoed");
    let mut extra: serde_json::Value = serde_json::from_str(&signup_json(&hz, "zhangsan")).unwrap();
    extra["role"] = "clerk".into();
    let r = api(&state, "POST", "/api/signups", None, &extra.to_string()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("role"), "{}", r.body);
    let r = api(&state, "POST", "/api/signups", None, "{}").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A good request: its number, pending, where to go.
    let r = api(
        &state,
        "POST",
        "/api/signups",
        None,
        &signup_json(&hz, "zhangsan"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let made = json_of(&r);
    assert_eq!(made["state"], "pending");
    assert_eq!(made["region"], "330100");
    assert!(made["zh"].as_str().unwrap().contains("杭州"), "{made}");
    let id = made["id"].as_i64().unwrap();

    // The desk: the 杭州 clerk sees it (masked), the 深圳 clerk does not, an inspector may not.
    let clerk = api_token(&state, "clerk-hz", "test password 1").await;
    let r = api(&state, "GET", "/api/signups", Some(&clerk), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = json_of(&r);
    assert_eq!(list["items"][0]["id"].as_i64(), Some(id));
    assert_eq!(list["items"][0]["name"], "张三");
    assert_eq!(list["items"][0]["phone_tail"], "8000");
    assert!(!r.body.contains(&hz), "never the full ID");
    assert!(list["next"].is_null());
    let sz_clerk = api_token(&state, "clerk-sz", "test password 1").await;
    let r = api(&state, "GET", "/api/signups", Some(&sz_clerk), "").await;
    assert_eq!(json_of(&r)["items"].as_array().unwrap().len(), 0);
    let inspector = api_token(&state, "inspector-hz", "test password 1").await;
    let r = api(&state, "GET", "/api/signups", Some(&inspector), "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(&state, "GET", "/api/signups?limit=0", Some(&clerk), "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Confirm: the 深圳 clerk may not, the wrong card is refused, the right one opens it.
    let confirm = format!("/api/signups/{id}/confirm");
    let card = |c: &str| serde_json::json!({ "card": c }).to_string();
    let r = api(&state, "POST", &confirm, Some(&sz_clerk), &card(&hz)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(&state, "POST", &confirm, Some(&clerk), &card(&sz)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("不一致"), "{}", r.body);
    let r = api(&state, "POST", &confirm, Some(&clerk), &card(&hz)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["username"], "zhangsan");
    let r = api(&state, "POST", &confirm, Some(&clerk), &card(&hz)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "decided once");
    let r = api(
        &state,
        "POST",
        "/api/signups/99999/confirm",
        Some(&clerk),
        &card(&hz),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let worker = api_token(&state, "zhangsan", "my own password").await;

    // Refuse: a reason is needed; the applicant reads it when signing in.
    let r = api(
        &state,
        "POST",
        "/api/signups",
        None,
        &signup_json(&sz, "lisi"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let refuse = format!("/api/signups/{}/refuse", json_of(&r)["id"]);
    let why = |w: &str| serde_json::json!({ "reason": w }).to_string();
    let r = api(&state, "POST", &refuse, Some(&clerk), &why(" ")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api(&state, "POST", &refuse, Some(&clerk), &why("本人未到场")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["state"], "refused");
    let r = api(
        &state,
        "POST",
        "/api/sessions",
        None,
        r#"{"username": "lisi", "password": "my own password"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("本人未到场"), "{}", r.body);

    // Sign-ups from the API and the page share one limit per client.
    let mut limited = None;
    for i in 0..anxin_server::gates::SIGNUPS {
        let r = if i % 2 == 0 {
            api(
                &state,
                "POST",
                "/api/signups",
                None,
                &signup_json(&sz, &format!("again{i}")),
            )
            .await
        } else {
            send(
                &state,
                "POST",
                "/signup",
                None,
                &signup_form(&sz, &format!("again{i}"), "330100"),
            )
            .await
        };
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the limit applies");
    assert!(r.headers.get(header::RETRY_AFTER).is_some());

    // A reset: the worker may not reset anyone; the 深圳 clerk may not reset a 杭州 worker;
    // someone without an account is told so; the 杭州 clerk gets a temporary password once.
    let r = api(
        &state,
        "POST",
        "/api/password-resets",
        Some(&worker),
        &card(&hz),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        &state,
        "POST",
        "/api/password-resets",
        Some(&sz_clerk),
        &card(&hz),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        &state,
        "POST",
        "/api/password-resets",
        Some(&clerk),
        &card(&sz),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api(
        &state,
        "POST",
        "/api/password-resets",
        Some(&clerk),
        &card("123"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api(
        &state,
        "POST",
        "/api/password-resets",
        Some(&clerk),
        &card(&hz),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let reset = json_of(&r);
    assert_eq!(reset["username"], "zhangsan");
    let temp = reset["temporary_password"].as_str().unwrap().to_string();
    // The worker's token is gone; the temporary password opens no session until changed.
    let r = api(&state, "GET", "/api/me", Some(&worker), "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = api(
        &state,
        "POST",
        "/api/sessions",
        None,
        &serde_json::json!({ "username": "zhangsan", "password": temp }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&r)["error"]["kind"], "password_change_required");
}

#[tokio::test]
async fn a_worker_changes_their_own_password_and_every_other_session_ends() {
    let (state, hz, _) = world();
    let key = state
        .records
        .as_ref()
        .unwrap()
        .write(move |r| {
            let id = anxin_domain::ResidentId::parse(&hz).unwrap();
            let key = r.person_key(&id);
            let a = NewAccount::new(
                "worker-hz",
                Role::Worker,
                "old password 1",
                Some(region("330100")),
                Some(key.0),
                None,
            )
            .unwrap();
            r.store().create_account(&a, 0).unwrap();
            key
        })
        .unwrap();
    let phone = page_session(&state, "worker-hz");
    let laptop = page_session(&state, "worker-hz");
    let app = api_token(&state, "worker-hz", "old password 1").await;

    // The worker's page offers it; the form is never cached.
    let r = send(
        &state,
        "GET",
        &format!("/persons/{}", key.hex()),
        Some(&phone),
        "",
    )
    .await;
    assert!(r.body.contains("href=\"/account/password\""), "{}", r.body);
    let r = send(&state, "GET", "/account/password", Some(&phone), "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let csrf = csrf_in(&r.body);
    let form = |csrf: &str, current: &str, new: &str, again: &str| {
        format!(
            "csrf={csrf}&current={}&new={}&again={}",
            enc(current),
            enc(new),
            enc(again)
        )
    };

    // Refused, changing nothing: a forged form, a wrong old password, a weak or mistyped new
    // one, the old one again.
    for (body, status, word) in [
        (
            form(
                "forged",
                "old password 1",
                "brand new pass",
                "brand new pass",
            ),
            403,
            "表单",
        ),
        (
            form(&csrf, "not my password", "brand new pass", "brand new pass"),
            403,
            "现在的密码不对",
        ),
        (form(&csrf, "old password 1", "short", "short"), 400, "太弱"),
        (
            form(&csrf, "old password 1", "brand new pass", "brand new pas"),
            400,
            "不一样",
        ),
        (
            form(&csrf, "old password 1", "old password 1", "old password 1"),
            400,
            "不能和现在的密码一样",
        ),
    ] {
        let r = send(&state, "POST", "/account/password", Some(&phone), &body).await;
        assert_eq!(r.status.as_u16(), status, "{word}: {}", r.body);
        assert!(r.body.contains(word), "{word}: {}", r.body);
        assert!(r.headers.get(header::SET_COOKIE).is_none());
    }
    let r = send(&state, "GET", "/me", Some(&laptop), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/persons/")
    );

    // Changed: this browser gets a fresh session, every other one (page or API) has ended.
    let r = send(
        &state,
        "POST",
        "/account/password",
        Some(&phone),
        &form(&csrf, "old password 1", "brand new pass", "brand new pass"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("密码已修改"), "{}", r.body);
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    let fresh = between(cookie, "anxin_session=", ";").to_string();
    for old in [&phone, &laptop] {
        let r = send(&state, "GET", "/me", Some(old), "").await;
        assert!(
            r.headers
                .get(header::LOCATION)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("/login"),
            "an old session still works"
        );
    }
    let r = api(&state, "GET", "/api/me", Some(&app), "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(&state, "GET", "/me", Some(&fresh), "").await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/persons/")
    );
    let r = send(
        &state,
        "POST",
        "/login",
        None,
        &login("worker-hz", "old password 1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The same through the API: wrong old password, weak new one, then a fresh token.
    let app = api_token(&state, "worker-hz", "brand new pass").await;
    let change = |current: &str, new: &str| {
        serde_json::json!({ "current": current, "new": new }).to_string()
    };
    let r = api(
        &state,
        "POST",
        "/api/account/password",
        Some(&app),
        &change("wrong one here", "third password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&r)["error"]["kind"], "wrong_password");
    let r = api(
        &state,
        "POST",
        "/api/account/password",
        Some(&app),
        &change("brand new pass", "2short"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&r)["error"]["en"]
            .as_str()
            .unwrap()
            .contains("too weak")
    );
    let r = api(
        &state,
        "POST",
        "/api/account/password",
        None,
        &change("brand new pass", "third password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = api(
        &state,
        "POST",
        "/api/account/password",
        Some(&app),
        &change("brand new pass", "third password"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = json_of(&r)["token"].as_str().unwrap().to_string();
    assert_eq!(
        api(&state, "GET", "/api/me", Some(&app), "").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api(&state, "GET", "/api/me", Some(&token), "").await.status,
        StatusCode::OK
    );
    let r = send(&state, "GET", "/me", Some(&fresh), "").await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "the page session ended too"
    );

    // Both changes are in the worker's own access log.
    let r = send(
        &state,
        "GET",
        &format!("/persons/{}/access", key.hex()),
        Some(&page_session(&state, "worker-hz")),
        "",
    )
    .await;
    assert_eq!(r.body.matches("其他设备已退出").count(), 2, "{}", r.body);
}
