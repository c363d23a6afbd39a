//! The monitor's results below HTTP (issue 16): who sees which alerts, compliance and ratings
//! (`monitor.toml`, against the hand-written run in `data/monitor`), a denial for every role
//! on every monitor action, and a grid worker's steps on an alert as `alert_step` events in
//! the log — on a real SQLite file, checked by the audit, carrying no resident ID.

use std::path::{Path, PathBuf};

use anxin_domain::TestClock;
use anxin_records::access::{AccountRow, Role};
use anxin_records::audit::AuditScope;
use anxin_records::conformance::secrets;
use anxin_records::log::Suite;
use anxin_records::{Records, Store};
use anxin_service::access::{Actor, Why};
use anxin_service::monitor::{self, MonitorError, StepRequest};
use anxin_store_sqlite::SqliteStore;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    desk: Vec<Desk>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Desk {
    case: String,
    role: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    region: Option<u32>,
    #[serde(default)]
    org: Option<String>,
    what: String,
    #[serde(default)]
    month: Option<String>,
    #[serde(default)]
    see: Vec<String>,
    #[serde(default)]
    sanction: Option<Vec<String>>,
    #[serde(default)]
    counted: Option<Vec<String>>,
    #[serde(default)]
    refused: Option<String>,
}

/// A fresh data directory holding a copy of `data/monitor`, removed when dropped.
fn data_dir(name: &str) -> tempfile::TempDir {
    let dir = scratch(name);
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/monitor"),
        &dir.path().join("monitor"),
    );
    dir
}

/// A fresh, empty directory, removed when dropped.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("anxin-monitor-{name}-"))
        .tempdir()
        .unwrap()
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn init(dir: &Path) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(&dir.join("anxin.db")).unwrap());
    Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap()
}

fn account(role: &str, username: &str, region: Option<u32>, org: Option<&str>) -> AccountRow {
    AccountRow {
        id: 9,
        username: username.into(),
        role: role.into(),
        region,
        person: None,
        org: org.map(String::from),
        password_hash: String::new(),
        created_at: 0,
    }
}

fn why(e: MonitorError) -> Why {
    match e {
        MonitorError::Denied(d) => d.why,
        MonitorError::Records(e) => panic!("expected a refusal, got {e}"),
    }
}

#[test]
fn who_sees_what() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/monitor.toml"))
            .unwrap();
    let cases: Cases = toml::from_str(&text).unwrap();
    assert!(cases.desk.len() >= 9);
    let tmp = data_dir("see");
    let dir = tmp.path();
    let mut records = init(dir);
    for c in &cases.desk {
        let a = account(
            &c.role,
            c.username.as_deref().unwrap_or("x"),
            c.region,
            c.org.as_deref(),
        );
        let actor = Actor::new(&a, a.role().unwrap());
        let month = c.month.as_deref();
        let got: Result<Vec<String>, MonitorError> = match c.what.as_str() {
            "grid" => monitor::grid_desk(&mut records, dir, actor, month)
                .map(|d| d.alerts.into_iter().map(|a| a.alert.id).collect()),
            "compliance" => monitor::compliance(dir, actor, month).map(|d| {
                if let Some(want) = &c.sanction {
                    let got: Vec<String> =
                        d.sanction_list.iter().map(|r| r.platform.clone()).collect();
                    assert_eq!(&got, want, "{}: sanction list", c.case);
                    // Every platform seen has its bill lines, and only those.
                    for l in &d.injury {
                        assert!(
                            d.rows.iter().any(|r| r.platform == l.platform),
                            "{}",
                            c.case
                        );
                    }
                }
                d.rows.into_iter().map(|r| r.platform).collect()
            }),
            "rating" => monitor::rating(dir, actor, month).map(|r| {
                if let Some(want) = &c.counted {
                    assert_eq!(&r.counted.clone().unwrap_or_default(), want, "{}", c.case);
                }
                for l in &r.injury {
                    assert_eq!(l.platform, r.platform, "{}: only its own bill", c.case);
                }
                r.rating.into_iter().map(|x| x.platform).collect()
            }),
            other => panic!("{other}"),
        };
        match (&c.refused, got) {
            (None, Ok(mut ids)) => {
                ids.sort();
                let mut want = c.see.clone();
                want.sort();
                assert_eq!(ids, want, "{}", c.case);
            }
            (Some(r), Err(e)) => {
                let w = why(e);
                let want = match r.as_str() {
                    "role" => Why::Role,
                    "no_org" => Why::NoOrg,
                    other => panic!("{other}"),
                };
                assert_eq!(w, want, "{}", c.case);
            }
            (want, got) => panic!("{}: want {want:?}, got {:?}", c.case, got.map(|_| ())),
        }
    }
}

/// Every role but the one each monitor action names is refused, before any file is read.
#[test]
fn every_other_role_is_refused() {
    let tmp = data_dir("roles");
    let dir = tmp.path();
    let mut records = init(dir);
    for role in Role::ALL {
        let a = account(
            role.as_str(),
            "wang",
            Some(330100),
            Some("91330106MA2H000011"),
        );
        let actor = Actor::new(&a, role);
        let grid = monitor::grid_desk(&mut records, dir, actor, None);
        let act = monitor::act(
            &mut records,
            dir,
            actor,
            "2026-03-00ff00ff00ff00ff",
            &StepRequest {
                action: "acknowledge".into(),
                ..StepRequest::default()
            },
            &TestClock::at(jiff::Timestamp::from_second(1_775_000_000).unwrap()),
        );
        let comp = monitor::compliance(dir, actor, None);
        let rating = monitor::rating(dir, actor, None);
        assert_eq!(grid.is_ok(), role == Role::Grid, "{role:?} grid");
        assert_eq!(comp.is_ok(), role == Role::Inspector, "{role:?} compliance");
        assert_eq!(rating.is_ok(), role == Role::Platform, "{role:?} rating");
        if role != Role::Grid {
            assert_eq!(why(grid.unwrap_err()), Why::Role);
            assert_eq!(why(act.unwrap_err()), Why::Role);
        }
        if role != Role::Inspector {
            assert_eq!(why(comp.unwrap_err()), Why::Role);
        }
        if role != Role::Platform {
            assert_eq!(why(rating.unwrap_err()), Why::Role);
        }
    }
    // Nothing was written by any refusal (the grid worker's own step was the only one).
    assert_eq!(records.store().alert_steps_all().unwrap().len(), 1);
}

fn step(action: &str) -> StepRequest {
    StepRequest {
        action: action.into(),
        ..StepRequest::default()
    }
}

#[test]
fn a_grid_worker_acknowledges_contacts_and_closes() {
    let tmp = data_dir("steps");
    let dir = tmp.path();
    let mut records = init(dir);
    // 2026-04-02 08:00 China time.
    let clock = TestClock::at(jiff::Timestamp::from_second(1_775_088_000).unwrap());
    let wang = account("grid", "wang", Some(330100), None);
    let wang = Actor::new(&wang, Role::Grid);
    let li = account("grid", "li.nb", Some(330212), None);
    let li = Actor::new(&li, Role::Grid);
    let id = "2026-03-00ff00ff00ff00ff";

    // Another cell's grid worker: refused, and cannot read it either.
    let e = monitor::act(&mut records, dir, li, id, &step("acknowledge"), &clock).unwrap_err();
    assert_eq!(why(e), Why::OutOfRegion);
    assert_eq!(
        why(monitor::alert(&mut records, dir, li, id).unwrap_err()),
        Why::OutOfRegion
    );
    // A cell in li's file but outside li's region: refused too.
    let e = monitor::act(
        &mut records,
        dir,
        li,
        "2026-03-5555666677778888",
        &step("acknowledge"),
        &clock,
    )
    .unwrap_err();
    assert_eq!(why(e), Why::OutOfRegion);

    let v = monitor::act(&mut records, dir, wang, id, &step("acknowledge"), &clock).unwrap();
    assert_eq!(v.state, "acknowledged");
    assert_eq!(v.next, ["contact", "close"]);
    // Acknowledging twice is refused by the state.
    let e = monitor::act(&mut records, dir, wang, id, &step("acknowledge"), &clock).unwrap_err();
    assert_eq!(why(e), Why::State);

    // Bad contacts change nothing: each with its reason.
    for (req, words) in [
        (
            StepRequest {
                via: Some("fax".into()),
                note: Some("x".into()),
                ..step("contact")
            },
            "visit",
        ),
        (
            StepRequest {
                via: Some("phone".into()),
                note: Some("打了 13812345678".into()),
                ..step("contact")
            },
            "phone number",
        ),
        (
            StepRequest {
                via: Some("visit".into()),
                when: Some("2026-05-01".into()),
                note: Some("上门".into()),
                ..step("contact")
            },
            "future",
        ),
        (
            StepRequest {
                via: Some("visit".into()),
                when: Some("2026-02-27".into()),
                note: Some("上门".into()),
                ..step("contact")
            },
            "before the alert's month",
        ),
        (
            StepRequest {
                via: Some("visit".into()),
                when: Some("yesterday".into()),
                note: Some("上门".into()),
                ..step("contact")
            },
            "not understood",
        ),
        (
            StepRequest {
                via: Some("visit".into()),
                ..step("contact")
            },
            "write what came",
        ),
        (
            StepRequest {
                outcome: Some("gone".into()),
                ..step("close")
            },
            "outcome",
        ),
        (step("shout"), "unknown step"),
    ] {
        match monitor::act(&mut records, dir, wang, id, &req, &clock) {
            Err(MonitorError::Records(e)) => {
                assert!(e.to_string().contains(words), "{words}: {e}")
            }
            other => panic!("{words}: {:?}", other.map(|v| v.state)),
        }
    }
    assert_eq!(records.store().alert_steps_in("2026-03").unwrap().len(), 1);

    let v = monitor::act(
        &mut records,
        dir,
        wang,
        id,
        &StepRequest {
            via: Some("visit".into()),
            when: Some("2026-04-01T15:30".into()),
            note: Some("上门讲了灵活就业参保，本人愿意下周去办".into()),
            ..step("contact")
        },
        &clock,
    )
    .unwrap();
    assert_eq!(v.state, "contacted");
    assert_eq!(v.steps[1].contact_at.as_deref(), Some("2026-04-01 15:30"));
    assert_eq!(v.steps[1].via_zh.as_deref(), Some("上门"));
    let v = monitor::act(
        &mut records,
        dir,
        wang,
        id,
        &StepRequest {
            outcome: Some("will_enrol".into()),
            ..step("close")
        },
        &clock,
    )
    .unwrap();
    assert_eq!(v.state, "closed");
    assert!(v.next.is_empty());
    assert_eq!(v.steps.len(), 3);
    assert_eq!(v.steps[2].outcome_zh.as_deref(), Some("同意参保，尚未办理"));
    // Closed is final.
    let e = monitor::act(&mut records, dir, wang, id, &step("acknowledge"), &clock).unwrap_err();
    assert_eq!(why(e), Why::State);
    // The desk lists it last, closed.
    let desk = monitor::grid_desk(&mut records, dir, wang, None).unwrap();
    assert_eq!(desk.alerts.last().unwrap().alert.id, id);
    assert_eq!(desk.alerts.last().unwrap().state, "closed");
    assert_eq!(desk.cells, ["330105", "330106-017"]);

    // The steps are events in the log, checked by the audit, with the pseudonym only.
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let head = records.store().head().unwrap();
    let events = records.store().events(0, head.size).unwrap();
    assert_eq!(events.len(), 3);
    for e in &events {
        let text = String::from_utf8(e.body.clone()).unwrap();
        assert!(text.contains("\"kind\":\"alert_step\""), "{text}");
        assert!(text.contains("00ff00ff00ff00ff"), "{text}");
    }
}

#[test]
fn no_run_yet_and_bad_months() {
    let empty = scratch("empty");
    let dir = empty.path();
    let mut records = init(dir);
    let a = account("grid", "wang", Some(330100), None);
    let actor = Actor::new(&a, Role::Grid);
    let desk = monitor::grid_desk(&mut records, dir, actor, None).unwrap();
    assert!(desk.month.is_none() && desk.alerts.is_empty());
    let tmp = data_dir("months");
    let dir = tmp.path();
    let mut records = init(dir);
    for (month, words) in [("2026-13", "YYYY-MM"), ("2024-01", "no monthly run")] {
        match monitor::grid_desk(&mut records, dir, actor, Some(month)) {
            Err(MonitorError::Records(e)) => assert!(e.to_string().contains(words), "{e}"),
            other => panic!("{month}: {:?}", other.map(|d| d.month)),
        }
    }
    for id in [
        "2026-03-00FF00FF00FF00FF",
        "x",
        "2026-03-00ff00ff00ff00f",
        "2026-04-00ff00ff00ff00ff",
    ] {
        assert!(matches!(
            monitor::alert(&mut records, dir, actor, id),
            Err(MonitorError::Records(_))
        ));
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deliveries {
    deliver: Vec<DeliverCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliverCase {
    case: String,
    role: String,
    org: Option<String>,
    month: String,
    body: String,
    #[serde(default)]
    landed: Option<u64>,
    #[serde(default)]
    refused: Vec<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Every Parquet file landed under the data directory's orders.
fn landed_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("monitor/orders"), &mut out);
    out
}

#[test]
fn a_platform_delivers_its_activity_through_the_api() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/monitor_deliver.toml"),
    )
    .unwrap();
    let cases: Deliveries = toml::from_str(&text).unwrap();
    let tmp = data_dir("deliver");
    let dir = tmp.path();
    std::fs::write(
        dir.join("monitor/platforms.csv"),
        "credit_code,name,sector,delivery_tier\n91330106MA2H0000AA,示例出行A,ride-hailing,\n91330106MA2H0000BD,示例配送B,instant-delivery,high\n",
    )
    .unwrap();
    let mut records = init(dir);
    let now: jiff::Timestamp = "2026-04-10T00:00:00+08:00".parse().unwrap();
    for c in &cases.deliver {
        let a = account(&c.role, "p", Some(330100), c.org.as_deref());
        let actor = Actor::new(&a, a.role().unwrap());
        let before = landed_files(dir).len();
        let got = monitor::deliver(&mut records, dir, actor, &c.month, c.body.as_bytes(), now);
        match (&c.error, got) {
            (None, Ok(d)) => {
                assert_eq!(Some(d.landed), c.landed, "{}", c.case);
                let codes: Vec<&str> = d.refusals.iter().map(|r| r.reason).collect();
                assert_eq!(codes, c.refused, "{}", c.case);
                assert_eq!(d.refused as usize, c.refused.len(), "{}", c.case);
                assert_eq!(d.rows, d.landed + d.refused, "{}", c.case);
                for r in &d.refusals {
                    assert!(!r.reason_zh.is_empty() && !r.reason_en.is_empty());
                    assert!(r.line >= 2, "{}: lines count the header", c.case);
                }
                let files = landed_files(dir).len();
                assert_eq!(files, before + usize::from(d.landed > 0), "{}", c.case);
            }
            (Some(want), Err(e)) => {
                let got = match e {
                    MonitorError::Denied(d) => match d.why {
                        Why::Role => "role",
                        Why::NoOrg => "no_org",
                        other => panic!("{}: {other:?}", c.case),
                    }
                    .to_string(),
                    MonitorError::Records(e) => {
                        let text = e.to_string();
                        // The server's staging path never reaches the caller.
                        assert!(!text.contains(".staging"), "{}: {text}", c.case);
                        e.kind().as_str().replace("refused", "bad_input")
                    }
                };
                assert_eq!(&got, want, "{}", c.case);
                assert_eq!(landed_files(dir).len(), before, "{}: nothing lands", c.case);
            }
            (want, got) => panic!("{}: wanted {want:?}, got {got:?}", c.case),
        }
    }
    // The uploads are gone from the staging directory; no resident ID is stored anywhere.
    let staging = dir.join("monitor/.staging");
    let left: Vec<_> = std::fs::read_dir(&staging)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    for f in landed_files(dir) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(18).any(|w| w == b"33010619810315101X"));
    }
}
