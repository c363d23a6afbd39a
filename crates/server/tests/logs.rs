//! The structured log as an operator reads it, and what it must never say: requests carrying
//! a resident ID, a person key and a stated purpose (in the path, the query and the body)
//! leave one event each with the route template, the status and a request id — and none of
//! those personal values.

use std::sync::{Arc, Mutex};

use anxin_domain::YearMonth;
use anxin_records::access::{NewAccount, Role};
use anxin_records::conformance::{fresh, person, region, resident_id};
use anxin_server::logging::{Filter, Format, subscriber};
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

mod support;
use support::page_session;

const PASSWORD: &str = "test password 1";
const PURPOSE: &str = "办理转移接续-核对";
/// A sign-in that a server without records cannot check: a 503.
const NO_ONE: &str = r#"{"username":"nobody","password":"nothing"}"#;

/// Everything written through the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// This thread's events, as the server writes them, into a buffer until the guard drops.
fn capture(format: Format, filter: &str) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let sink = captured.clone();
    let filter = Filter::parse(filter).unwrap();
    let guard = tracing::subscriber::set_default(subscriber(format, &filter, move || sink.clone()));
    (captured, guard)
}

/// Records with one person and a clerk and the person's own worker account.
fn state() -> (AppState, String, String) {
    let mut records = fresh(Box::new(
        anxin_store_sqlite::SqliteStore::in_memory().unwrap(),
    ));
    let id = resident_id("33010619900101123");
    records.append(vec![person(&id)]).unwrap();
    let key = records.person_key(&id);
    for (name, role, reg, person) in [
        ("clerk-hz", Role::Clerk, Some("330100"), None),
        ("worker-hz", Role::Worker, None, Some(key.0)),
    ] {
        let a = NewAccount::new(name, role, PASSWORD, reg.map(region), person, None).unwrap();
        records.store().create_account(&a, 0).unwrap();
    }
    let state = AppState {
        today: YearMonth::new(2026, 6),
        records: Some(anxin_service::db::Db::start(records, anxin_service::db::READERS).unwrap()),
        ..AppState::new(anxin_policy::Policy::embedded().unwrap())
    };
    (state, key.hex(), id.expose().to_string())
}

/// Sends one request; gives the status and the `x-request-id` it came back with.
async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(t) = token {
        b = b
            .header("authorization", format!("Bearer {t}"))
            .header("cookie", format!("anxin_session={t}"));
    }
    let response = router(state.clone())
        .oneshot(b.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    if uri == "/api/sessions" && status == 201 {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        return (status, v["token"].as_str().unwrap().to_string());
    }
    (status, id)
}

/// Signs in and reads the person every way a path, query or body can name them; gives
/// (route template, status, request id) for each request that is not a sign-in.
async fn drive(state: &AppState, key: &str, id: &str) -> Vec<(&'static str, u16, String)> {
    let sign_in = |user: &str| format!(r#"{{"username":"{user}","password":"{PASSWORD}"}}"#);
    let (_, clerk) = send(state, "POST", "/api/sessions", None, &sign_in("clerk-hz")).await;
    let (_, _worker_api) = send(state, "POST", "/api/sessions", None, &sign_in("worker-hz")).await;
    // Pages take page sessions only (a bearer token is no cookie): made in the store, so the
    // requests logged stay the same.
    let clerk_page = page_session(state, "clerk-hz");
    let worker_page = page_session(state, "worker-hz");
    let purpose = PURPOSE; // sent unencoded where a browser would encode it: worst case
    let q = format!("?purpose={}", urlencode(purpose));
    let mut seen = Vec::new();
    for (route, method, uri, token, body) in [
        (
            "/api/persons/lookup",
            "POST",
            "/api/persons/lookup".to_string(),
            &clerk,
            format!(r#"{{"id":"{id}","purpose":"{purpose}"}}"#),
        ),
        (
            "/api/persons/{key}",
            "GET",
            format!("/api/persons/{key}{q}"),
            &clerk,
            String::new(),
        ),
        (
            "/persons/{key}",
            "GET",
            format!("/persons/{key}{q}"),
            &clerk_page,
            String::new(),
        ),
        (
            "/persons/{key}/access",
            "GET",
            format!("/persons/{key}/access?id={id}"),
            &worker_page,
            String::new(),
        ),
        (
            "/api/sessions",
            "POST",
            "/api/sessions".to_string(),
            &String::new(),
            format!(r#"{{"username":"{id}","password":"{purpose}"}}"#),
        ),
    ] {
        let token = (!token.is_empty()).then_some(token.as_str());
        let (status, request_id) = send(state, method, &uri, token, &body).await;
        seen.push((route, status, request_id));
    }
    seen
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn assert_nothing_personal(log: &str, key: &str, id: &str) {
    for (what, secret) in [
        ("person key", key),
        ("resident ID", id),
        ("purpose", PURPOSE),
        ("encoded purpose", &urlencode(PURPOSE)),
        ("ID prefix", &id[..12]),
    ] {
        assert!(!log.contains(secret), "the log holds the {what}:\n{log}");
    }
}

#[tokio::test]
async fn json_events_carry_route_templates_and_no_personal_data() {
    let (state, key, id) = state();
    let (captured, _guard) = capture(Format::Json, "info");
    let seen = drive(&state, &key, &id).await;
    let log = captured.text();
    assert_nothing_personal(&log, &key, &id);
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        events.len(),
        2 + seen.len(),
        "one event per request:\n{log}"
    );
    for (route, status, request_id) in &seen {
        let event = events
            .iter()
            .find(|e| e["request_id"] == request_id.as_str())
            .unwrap_or_else(|| panic!("no event for {route} {request_id}:\n{log}"));
        assert_eq!(event["route"], *route, "{event}");
        assert_eq!(event["status"], *status, "{event}");
        assert_eq!(event["level"], "INFO", "{event}");
        assert_eq!(event["target"], "anxin::http", "{event}");
        assert!(event["latency_ms"].is_f64(), "{event}");
        assert!(event["method"] == "GET" || event["method"] == "POST");
        assert!(event["timestamp"].is_string(), "{event}");
    }
    assert_eq!(seen[0].1, 200, "the clerk's lookup worked: {seen:?}");
    assert_eq!(seen[4].1, 401, "a wrong password is refused: {seen:?}");
}

#[tokio::test]
async fn text_events_say_the_same_and_server_errors_are_errors() {
    let (state, key, id) = state();
    let (captured, _guard) = capture(Format::Text, "info");
    let seen = drive(&state, &key, &id).await;
    // Without records, signing in is a 503: an ERROR.
    let calculators_only = AppState::new(anxin_policy::Policy::embedded().unwrap());
    let (status, _) = send(&calculators_only, "POST", "/api/sessions", None, NO_ONE).await;
    assert_eq!(status, 503);
    let log = captured.text();
    assert_nothing_personal(&log, &key, &id);
    for (route, status, request_id) in &seen {
        let line = log
            .lines()
            .find(|l| l.contains(request_id.as_str()))
            .unwrap_or_else(|| panic!("no line for {route}:\n{log}"));
        assert!(
            line.contains(" INFO anxin::http: request")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains(&format!("status={status}")),
            "{line}"
        );
    }
    let failed = log.lines().last().unwrap();
    assert!(
        failed.contains(" ERROR anxin::http: request failed") && failed.contains("status=503"),
        "{log}"
    );
}

#[tokio::test]
async fn a_warn_filter_keeps_only_failures() {
    let (captured, _guard) = capture(Format::Json, "info,anxin::http=warn");
    let state = AppState::new(anxin_policy::Policy::embedded().unwrap());
    let (ok, _) = send(&state, "GET", "/healthz", None, "").await;
    let (failed, _) = send(&state, "POST", "/api/sessions", None, NO_ONE).await;
    assert_eq!((ok, failed), (200, 503));
    let log = captured.text();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains(r#""level":"ERROR""#) && log.contains(r#""route":"/api/sessions""#));
}
