//! The monitor's pages and API (issue 16) against the hand-written run of
//! `crates/service/tests/data/monitor`: every monitor route against every role, the grid
//! worker's page and its three buttons (acknowledge, record a contact, close) as forms, the
//! same steps through the API, the inspector's and the platform's pages, and the landing page
//! after sign-in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anxin_records::access::{NewAccount, Role, SessionKind};
use anxin_records::conformance::{region, secrets};
use anxin_records::{Records, Suite};
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

const PASSWORD: &str = "test password 1";

/// (username, role, region, credit code)
const ACCOUNTS: [(&str, Role, Option<&str>, Option<&str>); 9] = [
    ("wang", Role::Grid, Some("330100"), None),
    ("li.nb", Role::Grid, Some("330200"), None),
    ("inspector-zj", Role::Inspector, Some("330000"), None),
    ("inspector-nb", Role::Inspector, Some("330200"), None),
    (
        "platform-d",
        Role::Platform,
        Some("330100"),
        Some("91330106MA2H000022"),
    ),
    ("clerk-hz", Role::Clerk, Some("330100"), None),
    ("union", Role::Union, Some("330100"), None),
    ("analyst", Role::Analyst, None, None),
    ("admin", Role::Admin, None, None),
];

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The server's state over a copy of the monitor's test data in a fresh directory, which is
/// removed when the first value is dropped.
fn world(name: &str) -> (tempfile::TempDir, AppState) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("anxin-server-monitor-{name}-"))
        .tempdir()
        .unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../service/tests/data/monitor"),
        &dir.join("monitor"),
    );
    let store: Box<dyn anxin_records::Store> =
        Box::new(anxin_store_sqlite::SqliteStore::in_memory().unwrap());
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap();
    for (name, role, reg, org) in ACCOUNTS {
        let a = NewAccount::new(
            name,
            role,
            PASSWORD,
            reg.map(region),
            None,
            org.map(String::from),
        )
        .unwrap();
        records.store().create_account(&a, 0).unwrap();
    }
    let state = AppState {
        records: Some(anxin_service::db::Db::start(records, anxin_service::db::READERS).unwrap()),
        data_dir: Some(Arc::new(dir)),
        clock: Arc::new(anxin_domain::TestClock::at(
            jiff::Timestamp::from_second(1_775_088_000).unwrap(),
        )),
        ..AppState::new(anxin_policy::Policy::embedded().unwrap())
    };
    (tmp, state)
}

/// A session of `kind` for `username`, made in the store.
fn session(state: &AppState, username: &str, kind: SessionKind) -> String {
    let username = username.to_string();
    let now = state.clock.now().as_second();
    state
        .records
        .as_ref()
        .unwrap()
        .write(move |records| {
            let account = records.store().account_named(&username).unwrap().unwrap();
            let (token, hash) = anxin_records::access::new_token().unwrap();
            records
                .store()
                .create_session(&hash, account.id, kind, now + 3600, now)
                .unwrap();
            token
        })
        .unwrap()
}

struct Reply {
    status: StatusCode,
    location: String,
    body: String,
}

async fn send(state: &AppState, method: &str, uri: &str, who: Option<&str>, body: &str) -> Reply {
    let mut b = Request::builder().method(method).uri(uri);
    let api = uri.starts_with("/api/");
    if let Some(user) = who {
        b = if api {
            b.header(
                "authorization",
                format!("Bearer {}", session(state, user, SessionKind::Api)),
            )
        } else {
            b.header(
                "cookie",
                format!("anxin_session={}", session(state, user, SessionKind::Page)),
            )
        };
    }
    let ct = if api {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let request = b
        .header("content-type", ct)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Reply {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Users in order: anonymous, then [`ACCOUNTS`].
fn users() -> Vec<Option<&'static str>> {
    std::iter::once(None)
        .chain(ACCOUNTS.iter().map(|a| Some(a.0)))
        .collect()
}

/// (method, path, body, expected per user). A 200 · B 400 · C 409 · U 401 · F 403 · R 303 ·
/// N 404.
const MATRIX: &[(&str, &str, &str, &str)] = &[
    ("GET", "/grid", "", "RAAFFFFFFF"),
    ("GET", "/grid?month=2025-03", "", "RAAFFFFFFF"),
    ("GET", "/grid?month=2024-01", "", "RNNFFFFFFF"),
    ("GET", "/api/grid/alerts", "", "UAAFFFFFFF"),
    ("GET", "/api/grid/alerts?month=13", "", "UBBFFFFFFF"),
    // An empty or padded month is refused, never read as "the latest run".
    ("GET", "/api/grid/alerts?month=", "", "UBBFFFFFFF"),
    ("GET", "/api/grid/alerts?month=%202026-03", "", "UBBFFFFFFF"),
    (
        "POST",
        "/api/grid/alerts/2026-03-1111222233334444/steps",
        r#"{"action":"acknowledge"}"#,
        "UAFFFFFFFF",
    ),
    (
        "POST",
        "/api/grid/alerts/2026-03-1111222233334444/steps",
        r#"{"action":"acknowledge"}"#,
        "UCFFFFFFFF",
    ),
    (
        "POST",
        "/api/grid/alerts/2026-03-0000000000000000/steps",
        r#"{"action":"acknowledge"}"#,
        "UNNFFFFFFF",
    ),
    (
        "POST",
        "/api/grid/alerts/bad/steps",
        r#"{"action":"acknowledge"}"#,
        "UBBFFFFFFF",
    ),
    (
        "POST",
        "/api/grid/alerts/2026-03-9999aaaabbbbcccc/steps",
        r#"{"action":"close","outcome":"nope"}"#,
        "UFBFFFFFFF",
    ),
    ("GET", "/monitor/compliance", "", "RFFAAFFFFF"),
    ("GET", "/api/monitor/compliance", "", "UFFAAFFFFF"),
    ("GET", "/platform/rating", "", "RFFFFAFFFF"),
    ("GET", "/api/monitor/rating", "", "UFFFFAFFFF"),
    ("GET", "/api/monitor/rating?month=2026-03", "", "UFFFFAFFFF"),
    ("GET", "/api/monitor/compliance?month=", "", "UFFBBFFFFF"),
    ("GET", "/api/monitor/rating?month=", "", "UFFFFBFFFF"),
    // A platform's batch of activity: platforms only; this one is not registered with the
    // monitor (no platform list in this data directory), and the month is required.
    (
        "POST",
        "/api/platform/activity?month=2026-03",
        "order_id,platform,resident_id,time,amount_fen,sector,area\n",
        "UFFFFNFFFF",
    ),
    ("POST", "/api/platform/activity", "x", "UFFFFBFFFF"),
];

fn code(c: char) -> StatusCode {
    match c {
        'A' => StatusCode::OK,
        'B' => StatusCode::BAD_REQUEST,
        'C' => StatusCode::CONFLICT,
        'U' => StatusCode::UNAUTHORIZED,
        'F' => StatusCode::FORBIDDEN,
        'R' => StatusCode::SEE_OTHER,
        'N' => StatusCode::NOT_FOUND,
        _ => panic!("unknown code {c}"),
    }
}

#[tokio::test]
async fn every_monitor_route_against_every_role() {
    let (_dir, state) = world("matrix");
    let mut failures = Vec::new();
    for (method, path, body, want) in MATRIX {
        assert_eq!(want.len(), ACCOUNTS.len() + 1, "{path}");
        for (who, w) in users().into_iter().zip(want.chars()) {
            let r = send(&state, method, path, who, body).await;
            if r.status != code(w) {
                failures.push(format!(
                    "{method} {path} as {who:?}: want {}, got {} {}",
                    code(w),
                    r.status,
                    r.body.chars().take(200).collect::<String>()
                ));
            }
            if r.status.is_client_error() && path.starts_with("/api/") {
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
                assert!(v["error"]["zh"].is_string(), "{path}: {}", r.body);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_grid_page_acknowledge_contact_close() {
    let (_dir, state) = world("page");
    // One page session for the whole walk (the CSRF value is the session's).
    let token = session(&state, "wang", SessionKind::Page);
    let get = |uri: &'static str| {
        let state = state.clone();
        let token = token.clone();
        async move {
            let r = router(state)
                .oneshot(
                    Request::get(uri)
                        .header("cookie", format!("anxin_session={token}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 22).await.unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let post = |uri: String, form: String| {
        let state = state.clone();
        let token = token.clone();
        async move {
            let r = router(state)
                .oneshot(
                    Request::post(uri)
                        .header("cookie", format!("anxin_session={token}"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Body::from(form))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = r.status();
            let location = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, location)
        }
    };
    let page = get("/grid").await;
    // Chinese by default, the cells, the reasons in plain words, no script.
    assert!(
        page.contains("我的网格预警") && page.contains("330106-017"),
        "{page}"
    );
    assert!(page.contains("本实例不知其在任何地方参保"), "{page}");
    assert!(page.contains("确认收到") && page.contains("记录联系") && page.contains("办结"));
    assert!(!page.contains("<script"), "no script");
    assert!(!page.contains("5555666677778888"), "another worker's cell");
    let csrf = csrf_of(&page);
    let id = "2026-03-00ff00ff00ff00ff";
    let act = format!("/grid/{id}/act");
    let (s, loc) = post(
        act.clone(),
        format!("csrf={csrf}&lang=zh&month=2026-03&action=acknowledge"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc, format!("/grid?lang=zh&month=2026-03#a-{id}"));
    // A form without the session's CSRF value changes nothing.
    let (s, _) = post(act.clone(), "csrf=x&action=close&outcome=declined".into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        act.clone(),
        format!(
            "csrf={csrf}&lang=zh&action=contact&via=visit&when=2026-04-01T15%3A30&note=%E4%B8%8A%E9%97%A8%E8%AE%B2%E4%BA%86%E5%8F%82%E4%BF%9D"
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = post(
        act.clone(),
        format!("csrf={csrf}&lang=zh&action=close&outcome=will_enrol"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let page = get("/grid").await;
    assert!(
        page.contains("上门讲了参保") && page.contains("同意参保，尚未办理"),
        "{page}"
    );
    assert!(page.contains("已办结"), "{page}");
    let en = get("/grid?lang=en").await;
    assert!(
        en.contains("My grid alerts") && en.contains("agreed to enrol"),
        "{en}"
    );
}

#[tokio::test]
async fn inspector_and_platform_pages_and_landing() {
    let (_dir, state) = world("others");
    let r = send(
        &state,
        "GET",
        "/monitor/compliance",
        Some("inspector-zj"),
        "",
    )
    .await;
    assert!(
        r.body.contains("示例配送甲") && r.body.contains("联合惩戒"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("200.00"),
        "the injury bill in yuan: {}",
        r.body
    );
    let r = send(
        &state,
        "GET",
        "/monitor/compliance",
        Some("inspector-nb"),
        "",
    )
    .await;
    assert!(
        r.body.contains("示例配送乙") && !r.body.contains("示例配送甲"),
        "{}",
        r.body
    );
    let r = send(&state, "GET", "/platform/rating", Some("platform-d"), "").await;
    assert!(
        r.body.contains("等级 D") && r.body.contains("9999aaaabbbbcccc"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("示例出行甲"), "{}", r.body);
    let r = send(&state, "GET", "/api/monitor/rating", Some("platform-d"), "").await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["rating"]["grade"], "D");
    assert_eq!(v["counted"].as_array().unwrap().len(), 2);
    for (user, to) in [
        ("wang", "/grid"),
        ("inspector-zj", "/monitor/compliance"),
        ("platform-d", "/platform"),
    ] {
        let r = send(&state, "GET", "/me", Some(user), "").await;
        assert_eq!((r.status, r.location.as_str()), (StatusCode::SEE_OTHER, to));
    }
}

#[tokio::test]
async fn a_platform_delivers_a_batch_of_activity() {
    let (_dir, state) = world("deliver");
    let dir = state.data_dir.clone().unwrap();
    std::fs::write(
        dir.join("monitor/platforms.csv"),
        "credit_code,name,sector,delivery_tier\n91330106MA2H0000AA,示例出行A,ride-hailing,\n",
    )
    .unwrap();
    state
        .records
        .as_ref()
        .unwrap()
        .write(|records| {
            let a = NewAccount::new(
                "platform-a",
                Role::Platform,
                PASSWORD,
                Some(region("330100")),
                None,
                Some("91330106MA2H0000AA".into()),
            )
            .unwrap();
            records.store().create_account(&a, 0).unwrap();
        })
        .unwrap();
    let batch = "order_id,platform,resident_id,time,amount_fen,sector,area\n\
        A-1,91330106MA2H0000AA,33010619810315101X,2026-03-05T10:31:00+08:00,2000,ride-hailing,330106-001\n\
        A-2,91330106MA2H0000AA,33010619810315101X,2026-03-05T10:32:00+08:00,2000,ride-hailing,330106-001\n\
        A-3,91330106MA2H0000AA,330106198203151026,2026-03-05T10:33:00+08:00,2000,ride-hailing,330106-001\n";
    let r = send(
        &state,
        "POST",
        "/api/platform/activity?month=2026-03",
        Some("platform-a"),
        batch,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (v["rows"].as_u64(), v["landed"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(v["refusals"][0]["line"], 4);
    assert_eq!(v["refusals"][0]["reason"], "malformed_id");
    assert!(v["refusals"][0]["reason_zh"].is_string() && v["refusals"][0]["reason_en"].is_string());
    assert!(!r.body.contains("330106198203151026"), "{}", r.body);
    // Wrong columns: the whole batch is refused in both languages, nothing lands, and the
    // message names the upload, not a path on the server.
    let r = send(
        &state,
        "POST",
        "/api/platform/activity?month=2026-03",
        Some("platform-a"),
        "order_id,platform,id,time,amount_fen,sector,area\nA-9,x,y,z,1,ride-hailing,330106-001\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(!r.body.contains(".staging"), "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(v["error"]["zh"].is_string() && v["error"]["en"].is_string());
}
