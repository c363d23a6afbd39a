//! The other kinds of case (issue 15), each a rules file under `policy/cases/` and its
//! parameters: back-payment requests by region from `data/backpay.toml` (months refused with
//! the rule cited, months paid refused, approval recorded in the ledger naming the case) and
//! enrolment without an employer (income evidence, approval with a first quote, refusal with
//! the rule), on a real SQLite file, each ending with a clean audit.

use std::path::PathBuf;

use anxin_domain::{CreditCode, EmploymentForm, RegionCode, TestClock};
use anxin_policy::Policy;
use anxin_records::access::{AccountRow, Role};
use anxin_records::audit::AuditScope;
use anxin_records::conformance::{contribution, resident_id, secrets};
use anxin_records::log::Suite;
use anxin_records::{Input, PersonInput, Records, Store};
use anxin_service::access::Actor;
use anxin_service::cases::evidence::{self, Upload};
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
    residence: String,
    #[serde(default)]
    reforms: Vec<String>,
    at: String,
    #[serde(default)]
    paid: Vec<String>,
    months: Vec<String>,
    want: String,
    #[serde(default)]
    contains: Vec<String>,
    lines: Option<usize>,
    total_fen: Option<i64>,
    late_fee_total_fen: Option<i64>,
    #[serde(default)]
    paid_after: Vec<String>,
    approve: Option<String>,
}

/// A database path in a fresh directory, which is removed when the first value is dropped.
fn temp_db(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("anxin-kinds-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().join("anxin.db");
    (dir, path)
}

fn init(path: &std::path::Path) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(path).unwrap());
    Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap()
}

const ID: &str = "33010619900101123";

/// A worker living in `residence`; returns their person key.
fn register(records: &mut Records<Box<dyn Store>>, residence: &str) -> [u8; 32] {
    let id = resident_id(ID);
    let person = Input::Person(PersonInput {
        person_id: id.clone(),
        name: "张三".into(),
        hukou_region: Some(RegionCode::parse("341200").unwrap()),
        residence_region: RegionCode::parse(residence).unwrap(),
        employment_form: EmploymentForm::MultiPlatform,
        platforms: vec![CreditCode::parse(anxin_records::conformance::PLATFORM).unwrap()],
        permit_region: None,
        permit_since: None,
        household: None,
        record_id: None,
    });
    let committed = records
        .append(vec![anxin_records::conformance::platform(), person])
        .unwrap();
    assert!(
        committed
            .outcomes
            .iter()
            .all(|o| matches!(o, anxin_records::Outcome::Added(_)))
    );
    records.person_key(&id).0
}

/// Pension months paid by the platform (in 杭州, as the conformance helper records them).
fn pay(records: &mut Records<Box<dyn Store>>, months: &[String]) {
    let id = resident_id(ID);
    let rows = months
        .iter()
        .map(|m| {
            contribution(
                &id,
                &format!("paid-{m}"),
                m,
                anxin_domain::Payer::Platform,
                "997.20",
            )
        })
        .collect();
    let committed = records.append(rows).unwrap();
    assert!(
        committed
            .outcomes
            .iter()
            .all(|o| matches!(o, anxin_records::Outcome::Added(_)))
    );
}

fn account(role: Role, region: Option<u32>, person: Option<[u8; 32]>) -> AccountRow {
    AccountRow {
        id: 1,
        username: role.as_str().into(),
        role: role.as_str().into(),
        region,
        person,
        org: None,
        password_hash: String::new(),
        created_at: 0,
    }
}

fn text_of(e: &CaseError) -> String {
    match e {
        CaseError::Denied(d) => format!("denied {:?}: {} / {}", d.why, d.zh, d.en),
        CaseError::Records(e) => {
            assert_eq!(e.kind(), anxin_domain::ErrorKind::Refused, "{e}");
            e.to_string()
        }
    }
}

#[test]
fn backpay_by_region() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let file: File = toml::from_str(include_str!("data/backpay.toml")).unwrap();
    assert!(file.scenario.len() >= 8);
    let mut failures = Vec::new();
    for (n, s) in file.scenario.iter().enumerate() {
        let (_dir, path) = temp_db(&format!("b{n}"));
        let mut records = init(&path);
        let me = register(&mut records, &s.residence);
        pay(&mut records, &s.paid);
        let engine = Engine {
            policy: &policy,
            kinds: &kinds,
            reforms: &s.reforms,
        };
        let clock = TestClock::at(s.at.parse::<Timestamp>().unwrap());
        let worker = account(Role::Worker, None, Some(me));
        let before = records.store().head().unwrap().size;
        let filed = cases::file(
            &mut records,
            &engine,
            Actor::new(&worker, Role::Worker),
            &FileRequest {
                kind: "backpay".into(),
                subject: "pension".into(),
                party: String::new(),
                months: s.months.clone(),
                terms: None,
            },
            &clock,
        );
        let here = &s.name;
        let view = match (&filed, s.want.as_str()) {
            (Ok(v), "ok") => v.clone(),
            (Err(e), "bad") => {
                let text = text_of(e);
                for c in &s.contains {
                    if !text.contains(c.as_str()) {
                        failures.push(format!("{here}: {c:?} not in {text}"));
                    }
                }
                if records.store().head().unwrap().size != before {
                    failures.push(format!("{here}: a refusal stored something"));
                }
                continue;
            }
            (r, want) => {
                failures.push(format!("{here}: want {want}, got {r:?}"));
                continue;
            }
        };
        let detail = view.steps[0].detail.clone().unwrap_or_default();
        let lines = detail["months"].as_array().map_or(0, Vec::len);
        if Some(lines) != s.lines {
            failures.push(format!(
                "{here}: {lines} months quoted (want {:?})",
                s.lines
            ));
        }
        if detail["total_fen"].as_i64() != s.total_fen {
            failures.push(format!(
                "{here}: total {} (want {:?})",
                detail["total_fen"], s.total_fen
            ));
        }
        if detail["late_fee_total_fen"].as_i64() != s.late_fee_total_fen {
            failures.push(format!(
                "{here}: late fees {}",
                detail["late_fee_total_fen"]
            ));
        }
        assert_eq!(view.holder_role, "clerk");
        assert_eq!(
            view.clocks.len(),
            2,
            "{here}: the decision and the supervisor's clocks run"
        );
        pay(&mut records, &s.paid_after);
        let region: u32 = s.residence.parse().unwrap();
        let clerk = account(Role::Clerk, Some(region), None);
        clock.advance(jiff::SignedDuration::from_hours(24));
        let before = records.store().contributions_of(&me).unwrap().len();
        let approved = cases::act(
            &mut records,
            &engine,
            Actor::new(&clerk, Role::Clerk),
            &view.id,
            "approve",
            None,
            &clock,
        );
        let rows = records.store().contributions_of(&me).unwrap();
        let backpaid: Vec<_> = rows
            .iter()
            .filter(|r| r.status == anxin_domain::Status::Backpaid)
            .collect();
        match (approved, s.approve.as_deref()) {
            (Ok(v), Some("ok")) => {
                if v.state != "approved" {
                    failures.push(format!("{here}: state {}", v.state));
                }
                if backpaid.len() != lines
                    || backpaid
                        .iter()
                        .any(|r| !r.record_id.starts_with(&format!("backpay:{}:", view.id)))
                {
                    failures.push(format!("{here}: backpaid {backpaid:?}"));
                }
                let sum: i64 = backpaid.iter().map(|r| r.amount_fen).sum();
                if Some(sum) != s.total_fen {
                    failures.push(format!("{here}: recorded {sum}"));
                }
            }
            (Err(e), Some("bad")) => {
                let text = text_of(&e);
                for c in &s.contains {
                    if !text.contains(c.as_str()) {
                        failures.push(format!("{here}: {c:?} not in {text}"));
                    }
                }
                if rows.len() != before || !backpaid.is_empty() {
                    failures.push(format!("{here}: a refused approval recorded months"));
                }
            }
            (r, want) => failures.push(format!("{here}: approve want {want:?}, got {r:?}")),
        }
        let report = records
            .audit(None, AuditScope { projections: true })
            .unwrap();
        if !report.is_clean() {
            failures.push(format!("{here}: audit {:?}", report.findings));
        }
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A back-payment is the clerk's: an inspector, a clerk of another region and the worker
/// may not approve it; approving twice is refused by the state; the worker's inbox says so.
#[test]
fn backpay_is_decided_by_the_clerk_of_the_region_only() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let reforms = vec!["relaxed-backpay".to_string()];
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &reforms,
    };
    let (_dir, path) = temp_db("who");
    let mut records = init(&path);
    let me = register(&mut records, "330100");
    let clock = TestClock::at("2026-06-15T02:00:00Z".parse().unwrap());
    let worker = account(Role::Worker, None, Some(me));
    let id = cases::file(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &FileRequest {
            kind: "backpay".into(),
            subject: "pension".into(),
            party: String::new(),
            months: vec!["2026-01".into()],
            terms: None,
        },
        &clock,
    )
    .unwrap()
    .id;
    let step = |records: &mut Records<Box<dyn Store>>, acc: &AccountRow, role: Role| {
        cases::act(
            records,
            &engine,
            Actor::new(acc, role),
            &id,
            "approve",
            None,
            &clock,
        )
        .map_err(|e| text_of(&e))
    };
    let inspector = account(Role::Inspector, Some(330100), None);
    let ningbo = account(Role::Clerk, Some(330200), None);
    for (acc, role, want) in [
        (&inspector, Role::Inspector, "NotParty"),
        (&ningbo, Role::Clerk, "OutOfRegion"),
        (&worker, Role::Worker, "NotParty"),
    ] {
        let err = step(&mut records, acc, role).unwrap_err();
        assert!(err.contains(want), "{role:?}: {err}");
    }
    // A party named, for a kind that takes none, is refused.
    let err = cases::file(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &FileRequest {
            kind: "backpay".into(),
            subject: "pension".into(),
            party: "某平台".into(),
            months: vec!["2026-02".into()],
            terms: None,
        },
        &clock,
    )
    .unwrap_err();
    assert!(
        text_of(&err).contains("names no party"),
        "{}",
        text_of(&err)
    );
    let hangzhou = account(Role::Clerk, Some(330100), None);
    assert!(step(&mut records, &hangzhou, Role::Clerk).is_ok());
    let again = step(&mut records, &hangzhou, Role::Clerk).unwrap_err();
    assert!(again.contains("State"), "{again}");
    // The clerk's queue has it; the inspector's does not.
    let queue = |records: &mut Records<Box<dyn Store>>, acc: &AccountRow, role: Role| {
        cases::queue(records, &engine, Actor::new(acc, role))
            .unwrap()
            .len()
    };
    assert_eq!(queue(&mut records, &hangzhou, Role::Clerk), 1);
    assert_eq!(queue(&mut records, &inspector, Role::Inspector), 0);
    let kinds_seen: Vec<String> = records
        .store()
        .inbox_of(&me, None, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds_seen, ["case_step", "case_filed"]);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Enrolment without an employer: one cover per request; approval needs income evidence and
/// gives a first quote; a refusal names its rule; a subject that is not a cover is refused.
#[test]
fn enrolment_needs_income_evidence_and_gives_a_first_quote() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let (_dir, path) = temp_db("enrol");
    let mut records = init(&path);
    let me = register(&mut records, "330100");
    let clock = TestClock::at("2026-06-15T02:00:00Z".parse().unwrap());
    let worker = account(Role::Worker, None, Some(me));
    let file = |records: &mut Records<Box<dyn Store>>, subject: &str| {
        clock.advance(jiff::SignedDuration::from_secs(1));
        cases::file(
            records,
            &engine,
            Actor::new(&worker, Role::Worker),
            &FileRequest {
                kind: "enrolment".into(),
                subject: subject.into(),
                party: String::new(),
                months: Vec::new(),
                terms: None,
            },
            &clock,
        )
    };
    let err = file(&mut records, "unemployment").unwrap_err();
    assert!(
        text_of(&err).contains("pension, medical, injury"),
        "{}",
        text_of(&err)
    );
    let pension = file(&mut records, "pension").unwrap().id;
    let injury = file(&mut records, "injury").unwrap().id;
    let clerk = account(Role::Clerk, Some(330100), None);
    let act = |records: &mut Records<Box<dyn Store>>, id: &str, step: &str, outcome| {
        cases::act(
            records,
            &engine,
            Actor::new(&clerk, Role::Clerk),
            id,
            step,
            outcome,
            &clock,
        )
    };
    let err = act(&mut records, &pension, "approve", None).unwrap_err();
    assert!(text_of(&err).contains("evidence"), "{}", text_of(&err));
    let pdf = Upload {
        name: "2026年纳税记录.pdf".into(),
        content_type: Some("application/pdf".into()),
        bytes: b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n".to_vec(),
    };
    evidence::attach(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &pension,
        &[pdf],
        &clock,
    )
    .unwrap();
    let view = act(&mut records, &pension, "approve", None).unwrap();
    assert_eq!(view.state, "approved");
    let quote = view.steps.last().unwrap().detail.clone().unwrap();
    assert_eq!(quote["cover"], "pension");
    assert!(quote["monthly_fen"].as_i64().unwrap() > 0, "{quote}");
    let refused = act(&mut records, &injury, "refuse", Some("injury_by_platform")).unwrap();
    assert_eq!(refused.state, "refused");
    assert_eq!(refused.outcome.as_deref(), Some("injury_by_platform"));
    let err = act(&mut records, &injury, "refuse", None).unwrap_err();
    assert!(text_of(&err).contains("State"), "{}", text_of(&err));
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// An enrolment nobody decides: past its decision time it goes to the supervisor of the same
/// office (who may then decide it, the clerk no longer), past the supervisor's time to the
/// office of the region above; the worker is told each time, and ticking twice changes nothing.
#[test]
fn overdue_requests_go_to_the_supervisor_then_the_region_above() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let (_dir, path) = temp_db("supervisor");
    let mut records = init(&path);
    let me = register(&mut records, "330100");
    // A Monday; 15 working days end on 2026-07-07 (the Dragon Boat Festival, 06-19, is off).
    let clock = TestClock::at("2026-06-15T02:00:00Z".parse().unwrap());
    let worker = account(Role::Worker, None, Some(me));
    let id = cases::file(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &FileRequest {
            kind: "enrolment".into(),
            subject: "medical".into(),
            party: String::new(),
            months: Vec::new(),
            terms: None,
        },
        &clock,
    )
    .unwrap()
    .id;
    let tick = |records: &mut Records<Box<dyn Store>>| {
        cases::tick(records, &engine, &clock).unwrap();
        cases::tick(records, &engine, &clock).unwrap();
        cases::view(records, &engine, &id, &clock).unwrap()
    };
    clock.set("2026-07-10T02:00:00Z".parse().unwrap());
    let v = tick(&mut records);
    assert_eq!(
        (v.level, v.holder_role.as_str(), v.holder_region.as_str()),
        (1, "supervisor", "330100")
    );
    let clerk = account(Role::Clerk, Some(330100), None);
    let refuse = |records: &mut Records<Box<dyn Store>>, acc: &AccountRow, role: Role| {
        cases::act(
            records,
            &engine,
            Actor::new(acc, role),
            &id,
            "refuse",
            Some("income_not_shown"),
            &clock,
        )
        .map_err(|e| text_of(&e))
    };
    let err = refuse(&mut records, &clerk, Role::Clerk).unwrap_err();
    assert!(err.contains("NotParty"), "{err}");
    clock.set("2026-07-28T02:00:00Z".parse().unwrap());
    let v = tick(&mut records);
    assert_eq!(
        (v.level, v.holder_role.as_str(), v.holder_region.as_str()),
        (2, "clerk", "330000")
    );
    let supervisor = account(Role::Supervisor, Some(330100), None);
    let err = refuse(&mut records, &supervisor, Role::Supervisor).unwrap_err();
    assert!(err.contains("NotParty"), "{err}");
    let zhejiang = account(Role::Clerk, Some(330000), None);
    assert_eq!(
        refuse(&mut records, &zhejiang, Role::Clerk).unwrap().state,
        "refused"
    );
    let messages = records.store().inbox_of(&me, None, 10).unwrap();
    let seen: Vec<&str> = messages.iter().rev().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        seen,
        [
            "case_filed",
            "case_escalated",
            "case_escalated",
            "case_closed"
        ]
    );
    let escalated = anxin_service::inbox::render_row(&messages[2]).unwrap();
    assert!(
        escalated.body_zh.contains("主管督办"),
        "{}",
        escalated.body_zh
    );
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Someone the instance has never seen signs up, is confirmed at the counter, files an
/// enrolment without an employer with their income evidence, and is approved: the
/// confirmation entered them in the registry (in flexible employment, living in the region
/// they named, hukou unknown), so their case is taken and the approval carries a first quote
/// of that region. Before the confirmation they are not in the registry.
#[test]
fn a_worker_who_signed_up_is_registered_and_enrolled() {
    use anxin_service::accounts::{self, SignupForm};
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let (_dir, path) = temp_db("signup-enrol");
    let mut records = init(&path);
    let now = 1_781_000_000;
    let id = resident_id("44030619950505222");
    let clerk = account(Role::Clerk, Some(330100), None);
    // 王五 asks under `username`; the clerk confirms with the card; the log's size before.
    let sign_up_and_confirm = |records: &mut Records<Box<dyn Store>>, username: &str| {
        let form = SignupForm {
            resident_id: id.expose().to_string(),
            name: "王五".into(),
            phone: "13900139000".into(),
            username: username.into(),
            password: "my own password".into(),
            region: "330100".into(),
        }
        .check(&policy)
        .unwrap();
        let hash = form.hash_password().unwrap();
        let n = accounts::add_signup(records, &form, hash, now).unwrap();
        let before = records.store().head().unwrap().size;
        let key = records.person_key(&id).0;
        let known = records.store().person(&key).unwrap().is_some();
        accounts::confirm(
            records,
            Actor::new(&clerk, Role::Clerk),
            n,
            id.expose(),
            now,
        )
        .unwrap();
        (before, known)
    };
    let (_, known) = sign_up_and_confirm(&mut records, "wangwu");
    assert!(!known, "not in the registry before the confirmation");
    let key = records.person_key(&id).0;
    let person = records.store().person(&key).unwrap().expect("registered");
    assert_eq!(person.residence_region, 330100);
    assert_eq!(person.hukou_region, None);
    assert_eq!(person.employment_form, "flexible");
    let worker = records.store().account_named("wangwu").unwrap().unwrap();

    let clock = TestClock::at("2026-06-15T02:00:00Z".parse().unwrap());
    let filed = cases::file(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &FileRequest {
            kind: "enrolment".into(),
            subject: "pension".into(),
            party: String::new(),
            months: Vec::new(),
            terms: None,
        },
        &clock,
    )
    .unwrap();
    evidence::attach(
        &mut records,
        &engine,
        Actor::new(&worker, Role::Worker),
        &filed.id,
        &[Upload {
            name: "平台收入记录.pdf".into(),
            content_type: Some("application/pdf".into()),
            bytes: b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n".to_vec(),
        }],
        &clock,
    )
    .unwrap();
    clock.advance(jiff::SignedDuration::from_secs(60));
    let view = cases::act(
        &mut records,
        &engine,
        Actor::new(&clerk, Role::Clerk),
        &filed.id,
        "approve",
        None,
        &clock,
    )
    .unwrap();
    assert_eq!(view.state, "approved");
    let quote = view.steps.last().unwrap().detail.clone().unwrap();
    assert_eq!(quote["cover"], "pension");
    assert!(quote["monthly_fen"].as_i64().unwrap() > 0, "{quote}");

    // Confirming a second sign-up of the same person registers nobody twice.
    let (before, known) = sign_up_and_confirm(&mut records, "wangwu2");
    assert!(known);
    // One entry only: the confirmation in the worker's access log, no second registration.
    assert_eq!(records.store().head().unwrap().size, before + 1);
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
