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
        r.body.contains("GB 11643") && r.body.contains("class=bad"),
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
