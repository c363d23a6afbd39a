//! The case engine end to end on a real SQLite file: the complaint's scenarios from
//! `data/complaint.toml` (clocks across a weekend and the Spring Festival, the extension,
//! mediation, the 72-hour reform and escalation by the clock, steps refused), a case that
//! survives reopening the store, and an audit that rebuilds the case rows from the events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anxin_domain::TestClock;
use anxin_policy::Policy;
use anxin_records::access::{AccountRow, Role};
use anxin_records::audit::AuditScope;
use anxin_records::conformance::{person, resident_id, secrets};
use anxin_records::log::Suite;
use anxin_records::{Records, Store};
use anxin_service::access::Actor;
use anxin_service::cases::{self, CaseError, Engine, FileRequest, Kinds};
use anxin_store_sqlite::SqliteStore;
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    reforms: Vec<String>,
    op: Vec<Op>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Op {
    at: String,
    #[serde(rename = "do")]
    action: String,
    #[serde(default = "worker")]
    by: String,
    outcome: Option<String>,
    #[serde(default = "ok")]
    want: String,
    state: Option<String>,
    holder: Option<String>,
    level: Option<u32>,
    clocks: Option<BTreeMap<String, String>>,
    steps: Option<usize>,
}

fn worker() -> String {
    "worker".into()
}
fn ok() -> String {
    "ok".into()
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-cases-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("anxin.db")
}

fn open(path: &Path) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(path).unwrap());
    Records::open(store, secrets(Suite::Standard)).unwrap()
}

fn init(path: &Path) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(path).unwrap());
    Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap()
}

/// Two workers living in 杭州 (330100); returns their person keys.
fn register(records: &mut Records<Box<dyn Store>>) -> ([u8; 32], [u8; 32]) {
    let a = resident_id("33010619900101123");
    let b = resident_id("33010619920202234");
    let committed = records.append(vec![person(&a), person(&b)]).unwrap();
    assert!(
        committed
            .outcomes
            .iter()
            .all(|o| matches!(o, anxin_records::records::Outcome::Added(_)))
    );
    (records.person_key(&a).0, records.person_key(&b).0)
}

fn account(by: &str, me: [u8; 32], other: [u8; 32]) -> AccountRow {
    let (role, region, person) = match by {
        "worker" => (Role::Worker, None, Some(me)),
        "other_worker" => (Role::Worker, None, Some(other)),
        _ => {
            let (role, region) = by.split_once(':').expect("ROLE:REGION");
            let region = (region != "national").then(|| region.parse().unwrap());
            (Role::parse(role).unwrap(), region, None)
        }
    };
    AccountRow {
        id: 1,
        username: by.into(),
        role: role.as_str().into(),
        region,
        person,
        org: None,
        password_hash: String::new(),
        created_at: 0,
    }
}

fn outcome_of(result: &Result<cases::CaseView, CaseError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(CaseError::Denied(d)) => {
            assert!(!d.zh.is_empty() && !d.en.is_empty());
            format!("{:?}", d.why)
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let lower = c.to_ascii_lowercase();
                    if c.is_uppercase() && i > 0 {
                        vec!['_', lower]
                    } else {
                        vec![lower]
                    }
                })
                .collect()
        }
        Err(CaseError::Records(e)) => {
            assert_eq!(e.kind(), anxin_domain::ErrorKind::Refused, "{e}");
            "bad".into()
        }
    }
}

#[test]
fn complaint_scenarios() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let file: File = toml::from_str(include_str!("data/complaint.toml")).unwrap();
    assert!(file.scenario.len() >= 6);
    let mut failures = Vec::new();
    for (n, s) in file.scenario.iter().enumerate() {
        let path = temp_db(&format!("s{n}"));
        let mut records = init(&path);
        let (me, other) = register(&mut records);
        let engine = Engine {
            policy: &policy,
            kinds: &kinds,
            reforms: &s.reforms,
        };
        let clock = TestClock::at(s.op[0].at.parse::<Timestamp>().unwrap());
        let mut id = String::new();
        for (i, op) in s.op.iter().enumerate() {
            clock.set(op.at.parse::<Timestamp>().unwrap());
            let acc = account(&op.by, me, other);
            let role = Role::parse(&acc.role).unwrap();
            let actor = Actor::new(&acc, role);
            let result = match op.action.as_str() {
                "file" => cases::file(
                    &mut records,
                    &engine,
                    actor,
                    &FileRequest {
                        kind: "complaint".into(),
                        subject: "unpaid_wages".into(),
                        party: "某外卖平台（示例）".into(),
                        months: Vec::new(),
                        terms: None,
                    },
                    &clock,
                ),
                "tick" => cases::tick(&mut records, &engine, &clock)
                    .and_then(|_| cases::view(&mut records, &engine, &id, &clock)),
                step => cases::act(
                    &mut records,
                    &engine,
                    actor,
                    &id,
                    step,
                    op.outcome.as_deref(),
                    &clock,
                ),
            };
            if let Ok(v) = &result
                && op.action == "file"
            {
                id = v.id.clone();
            }
            let got = outcome_of(&result);
            let here = format!("{} / op {i} ({})", s.name, op.action);
            if got != op.want {
                failures.push(format!("{here}: want {}, got {got}", op.want));
                continue;
            }
            let view = cases::view(&mut records, &engine, &id, &clock).unwrap();
            if let Some(state) = &op.state
                && &view.state != state
            {
                failures.push(format!("{here}: state {} (want {state})", view.state));
            }
            if let Some(h) = &op.holder
                && &view.holder_region != h
            {
                failures.push(format!("{here}: holder {} (want {h})", view.holder_region));
            }
            if let Some(l) = op.level
                && view.level != l
            {
                failures.push(format!("{here}: level {} (want {l})", view.level));
            }
            if let Some(n) = op.steps
                && view.steps.len() != n
            {
                failures.push(format!("{here}: {} steps (want {n})", view.steps.len()));
            }
            if let Some(want) = &op.clocks {
                let got: BTreeMap<String, String> = view
                    .clocks
                    .iter()
                    .map(|c| (c.name.clone(), c.due.clone().unwrap_or_default()))
                    .collect();
                if &got != want {
                    failures.push(format!("{here}: clocks {got:?} (want {want:?})"));
                }
            }
        }
        let report = records
            .audit(None, AuditScope { projections: true })
            .unwrap();
        if !report.is_clean() {
            failures.push(format!("{}: audit {:?}", s.name, report.findings));
        }
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A case filed and accepted survives closing and reopening the database; the clock then
/// passes its deadline and a tick after the restart escalates it once.
#[test]
fn a_case_survives_a_restart_and_escalates_once() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let reforms: Vec<String> = Vec::new();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &reforms,
    };
    let path = temp_db("restart");
    let clock = TestClock::at("2026-03-06T02:00:00Z".parse().unwrap());
    let id = {
        let mut records = init(&path);
        let (me, _) = register(&mut records);
        let acc = account("worker", me, me);
        let view = cases::file(
            &mut records,
            &engine,
            Actor::new(&acc, Role::Worker),
            &FileRequest {
                kind: "complaint".into(),
                subject: "contributions_unpaid".into(),
                party: "某平台".into(),
                months: Vec::new(),
                terms: None,
            },
            &clock,
        )
        .unwrap();
        assert_eq!(view.state, "filed");
        view.id
    };
    let mut records = open(&path);
    let view = cases::view(&mut records, &engine, &id, &clock).unwrap();
    assert_eq!((view.state.as_str(), view.steps.len()), ("filed", 1));
    // Past the 5 working days (due at the end of 2026-03-13, China time).
    clock.set("2026-03-13T16:00:00Z".parse().unwrap());
    let first = cases::tick(&mut records, &engine, &clock).unwrap();
    let second = cases::tick(&mut records, &engine, &clock).unwrap();
    assert_eq!(first, std::slice::from_ref(&id));
    assert!(second.is_empty(), "ticking twice escalates once");
    drop(records);
    let mut records = open(&path);
    let view = cases::view(&mut records, &engine, &id, &clock).unwrap();
    assert_eq!(view.steps.len(), 2);
    assert_eq!((view.level, view.holder_region.as_str()), (1, "330000"));
    assert_eq!(view.steps[1].action, "escalate");
    // The queue: the 浙江 office holds it now, the 杭州 union still sees it, 宁波's does not.
    let queue_of = |records: &mut Records<Box<dyn Store>>, by: &str| {
        let acc = account(by, [0; 32], [0; 32]);
        let role = Role::parse(&acc.role).unwrap();
        cases::queue(records, &engine, Actor::new(&acc, role))
            .unwrap()
            .len()
    };
    assert_eq!(queue_of(&mut records, "inspector:330000"), 1);
    assert_eq!(queue_of(&mut records, "union:330100"), 1);
    assert_eq!(queue_of(&mut records, "union:330200"), 0);
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Every case kind under policy/cases loads; a kind naming an unknown state, party or
/// parameter is refused with the file's name.
#[test]
fn kinds_load_strictly() {
    let kinds = Kinds::embedded().unwrap();
    assert!(kinds.get("complaint").is_some());
    let bad = include_str!("../../../policy/cases/complaint.toml")
        .replace("to = \"accepted\"", "to = \"acepted\"")
        .replace(
            "case.complaint.finish_working_days\"]",
            "case.complaint.finish_days\"]",
        )
        .replace("by = [\"filer\"]", "by = [\"anyone\"]");
    let err = Kinds::from_files(&[("cases/bad.toml", &bad)]).unwrap_err();
    for needle in [
        "cases/bad.toml",
        "acepted",
        "case.complaint.finish_days",
        "anyone",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
}

/// The worker's inbox at every step (issue 15): filed, accepted, the deadline extended,
/// escalated by the clock, closed with its outcome — each once (a second tick adds nothing),
/// each rendered from its template with no placeholder left and no resident ID.
#[test]
fn the_worker_is_told_at_every_step() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let path = temp_db("inbox");
    let mut records = init(&path);
    let (me, other) = register(&mut records);
    let clock = TestClock::at("2026-03-02T02:00:00Z".parse().unwrap());
    let worker = account("worker", me, other);
    let inspector = account("inspector:330100", me, other);
    let id = cases::file(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &FileRequest {
            kind: "complaint".into(),
            subject: "unpaid_wages".into(),
            party: "某平台".into(),
            months: Vec::new(),
            terms: None,
        },
        &clock,
    )
    .unwrap()
    .id;
    let step = |records: &mut Records<Box<dyn Store>>, action: &str, outcome: Option<&str>| {
        cases::act(
            records,
            &engine,
            Actor::new(&inspector, Role::Inspector),
            &id,
            action,
            outcome,
            &clock,
        )
        .unwrap();
    };
    step(&mut records, "accept", None);
    step(&mut records, "extend", None);
    // Past the extended 90 working days: escalated once, however often the clock ticks.
    clock.set("2026-12-31T02:00:00Z".parse().unwrap());
    cases::tick(&mut records, &engine, &clock).unwrap();
    cases::tick(&mut records, &engine, &clock).unwrap();
    let province = account("inspector:330000", me, other);
    cases::act(
        &mut records,
        &engine,
        Actor::new(&province, Role::Inspector),
        &id,
        "close",
        Some("order_to_correct"),
        &clock,
    )
    .unwrap();
    let messages = records.store().inbox_of(&me, None, 50).unwrap();
    let mut kinds_seen: Vec<&str> = messages.iter().map(|m| m.kind.as_str()).collect();
    kinds_seen.reverse();
    assert_eq!(
        kinds_seen,
        [
            "case_filed",
            "case_accepted",
            "case_extended",
            "case_escalated",
            "case_closed"
        ]
    );
    for m in &messages {
        let r = anxin_service::inbox::render_row(m).expect("a template renders it");
        for text in [&r.title_zh, &r.body_zh, &r.title_en, &r.body_en] {
            assert!(!text.contains('{'), "{text}");
            assert!(text.contains(&id), "{text}");
            assert!(!text.contains("33010619900101123"), "{text}");
        }
    }
    let closed = anxin_service::inbox::render_row(&messages[0]).unwrap();
    assert!(closed.body_zh.contains("责令改正"), "{}", closed.body_zh);
    let accepted = anxin_service::inbox::render_row(&messages[3]).unwrap();
    assert!(accepted.body_zh.contains("前办结"), "{}", accepted.body_zh);
    // The other worker hears nothing of it.
    assert!(
        records
            .store()
            .inbox_of(&other, None, 50)
            .unwrap()
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// A complaint about a platform that does not exist: a credit code not in the registry is
/// refused in both languages and stores nothing; the same code once registered is taken, and
/// a party named in words is taken as named.
#[test]
fn a_complaint_about_an_unregistered_platform_is_refused() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let path = temp_db("party");
    let mut records = init(&path);
    let (me, other) = register(&mut records);
    let clock = TestClock::at("2026-03-02T02:00:00Z".parse().unwrap());
    let worker = account("worker", me, other);
    let code = anxin_records::conformance::PLATFORM;
    let file = |records: &mut Records<Box<dyn Store>>, party: &str| {
        clock.advance(jiff::SignedDuration::from_secs(1));
        cases::file(
            records,
            &engine,
            Actor::new(&worker, Role::Worker),
            &FileRequest {
                kind: "complaint".into(),
                subject: "unpaid_wages".into(),
                party: party.into(),
                months: Vec::new(),
                terms: None,
            },
            &clock,
        )
    };
    let size = records.store().head().unwrap().size;
    match file(&mut records, code) {
        Err(CaseError::Records(e)) => {
            let text = e.to_string();
            assert!(
                text.contains("不是登记在册") && text.contains("not a registered"),
                "{text}"
            );
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(records.store().head().unwrap().size, size, "nothing stored");
    records
        .append(vec![anxin_records::conformance::platform()])
        .unwrap();
    assert!(file(&mut records, code).is_ok());
    assert!(file(&mut records, "街口的快递站").is_ok());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
