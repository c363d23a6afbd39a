//! Time is passed in: a test moves the clock instead of waiting. Sessions expire, the login
//! limit's window passes, the access log and "today" follow the clock.

use std::sync::Arc;

use anxin_domain::{Clock as _, SignedDuration, TestClock, YearMonth};
use anxin_records::access::{NewAccount, Role};
use anxin_records::conformance::{person, resident_id, secrets};
use anxin_records::{Records, Suite};
use anxin_server::auth::SESSION_SECONDS;
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

const PASSWORD: &str = "test password 1";

fn world(clock: Arc<TestClock>) -> (AppState, String) {
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
    let key = records.person_key(&hz);
    records.append(vec![person(&hz)]).unwrap();
    for (name, role, region, person) in [
        ("clerk", Role::Clerk, Some("330100"), None),
        ("worker", Role::Worker, None, Some(key.0)),
    ] {
        let a = NewAccount::new(
            name,
            role,
            PASSWORD,
            region.map(anxin_records::conformance::region),
            person,
            None,
        )
        .unwrap();
        records.store().create_account(&a, 0).unwrap();
    }
    let state = AppState {
        records: Some(anxin_service::db::Db::start(records, anxin_service::db::READERS).unwrap()),
        clock: clock.clone(),
        ..AppState::new(anxin_policy::Policy::embedded().unwrap())
    };
    (state, key.hex())
}

fn clock() -> Arc<TestClock> {
    Arc::new(TestClock::on(jiff::civil::date(2026, 6, 15)))
}

async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let response = router(state.clone())
        .oneshot(b.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn sign_in(state: &AppState, user: &str, password: &str) -> (StatusCode, String) {
    send(
        state,
        "POST",
        "/api/sessions",
        None,
        &format!(r#"{{"username":"{user}","password":"{password}"}}"#),
    )
    .await
}

async fn token(state: &AppState, user: &str) -> String {
    let (status, body) = sign_in(state, user, PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_session_expires_when_the_clock_passes_its_lifetime() {
    let clock = clock();
    let (state, _) = world(clock.clone());
    let started = clock.unix_seconds();
    let (status, body) = sign_in(&state, "clerk", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["expires_at"],
        started + SESSION_SECONDS,
        "expiry from the clock"
    );
    let t = v["token"].as_str().unwrap().to_string();
    assert_eq!(
        send(&state, "GET", "/api/me", Some(&t), "").await.0,
        StatusCode::OK
    );
    clock.advance(SignedDuration::from_secs(SESSION_SECONDS - 1));
    assert_eq!(
        send(&state, "GET", "/api/me", Some(&t), "").await.0,
        StatusCode::OK,
        "one second before its end the session still holds"
    );
    clock.advance(SignedDuration::from_secs(2));
    assert_eq!(
        send(&state, "GET", "/api/me", Some(&t), "").await.0,
        StatusCode::UNAUTHORIZED,
        "past its lifetime the session is gone"
    );
}

#[tokio::test]
async fn the_login_limit_window_passes_with_the_clock() {
    let clock = clock();
    let (state, _) = world(clock.clone());
    for _ in 0..5 {
        assert_eq!(
            sign_in(&state, "clerk", "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
        // Past the per-second limit, never near it.
        clock.advance(SignedDuration::from_secs(1));
    }
    let (status, body) = sign_in(&state, "clerk", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    clock.advance(SignedDuration::from_mins(10));
    assert_eq!(
        sign_in(&state, "clerk", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the window (15 minutes) has not passed"
    );
    clock.advance(SignedDuration::from_mins(5));
    let (status, body) = sign_in(&state, "clerk", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "the window passed: {body}");
}

#[tokio::test]
async fn the_access_log_and_today_follow_the_clock() {
    let clock = clock();
    let (state, hz) = world(clock.clone());
    assert_eq!(state.today(), YearMonth::new(2026, 6).unwrap());
    clock.advance(SignedDuration::from_hours(24 * 20));
    assert_eq!(
        state.today(),
        YearMonth::new(2026, 7).unwrap(),
        "the due month moved"
    );
    let clerk = token(&state, "clerk").await;
    let worker = token(&state, "worker").await;
    let read_at = clock.unix_seconds();
    let (status, body) = send(
        &state,
        "GET",
        &format!("/api/persons/{hz}?purpose=核对"),
        Some(&clerk),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &state,
        "GET",
        &format!("/api/persons/{hz}/access"),
        Some(&worker),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"][0]["at"], read_at, "{body}");
}
