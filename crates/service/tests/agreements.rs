//! Collective agreements, the fourth kind of case (issue 15): a rules file
//! (`policy/cases/agreement.toml`) and its parameters, on a real SQLite file. The union files
//! the terms, each side signs in a step of its own (both before it goes anywhere), the
//! platform sends it for review, and when the review days pass with no objection the clock
//! takes it into force; then it covers the workers it names — on their page and in their
//! quote — and nobody else. Every party's inbox hears of every step; terms that break a rule
//! are refused from `data/agreement.toml`; an objection ends it; the audit stays clean and the
//! agreement survives a restart.

use std::path::PathBuf;

use anxin_domain::{CreditCode, EmploymentForm, RegionCode, TestClock, YearMonth};
use anxin_policy::Policy;
use anxin_records::access::{AccountRow, Role};
use anxin_records::audit::AuditScope;
use anxin_records::conformance::{PLATFORM, platform, resident_id, secrets};
use anxin_records::log::Suite;
use anxin_records::{Input, OrgInput, PersonInput, PersonKey, Records, Store};
use anxin_service::access::{Actor, account_inbox};
use anxin_service::cases::agreement::{self, Terms};
use anxin_service::cases::{self, CaseError, Engine, FileRequest, Kinds};
use anxin_store_sqlite::SqliteStore;
use serde::Deserialize;

const TERMS: &str = include_str!("../../../examples/cases/agreement-terms.json");
const EMPLOYER: &str = "91110000600037341L";
const OTHER_PLATFORM: &str = "91330100MA27XXXXXX";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    refused: Vec<Refused>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refused {
    name: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    terms: Option<toml::Table>,
    party: Option<String>,
    union_region: Option<u32>,
    want: String,
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-agree-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("anxin.db")
}

fn open(path: &std::path::Path, fresh: bool) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(SqliteStore::open(path).unwrap());
    if fresh {
        Records::init(
            store,
            secrets(Suite::Standard),
            Suite::Standard,
            "anxin.test/log",
        )
        .unwrap()
    } else {
        Records::open(store, secrets(Suite::Standard)).unwrap()
    }
}

/// A worker of `residence` working as `form` for the test platform; their key.
fn worker(
    records: &mut Records<Box<dyn Store>>,
    prefix: &str,
    residence: &str,
    form: EmploymentForm,
) -> [u8; 32] {
    let id = resident_id(prefix);
    let person = Input::Person(PersonInput {
        person_id: id.clone(),
        name: "张三".into(),
        hukou_region: Some(RegionCode::parse("341200").unwrap()),
        residence_region: RegionCode::parse(residence).unwrap(),
        employment_form: form,
        platforms: vec![CreditCode::parse(PLATFORM).unwrap()],
        permit_region: None,
        permit_since: None,
        household: None,
        record_id: None,
    });
    let committed = records.append(vec![person]).unwrap();
    assert!(
        committed
            .outcomes
            .iter()
            .all(|o| matches!(o, anxin_records::Outcome::Added(_)))
    );
    records.person_key(&id).0
}

/// The registry: the platform, an employer, and three workers — covered (杭州, multi-platform),
/// of a form not covered (杭州, employee) and of a region not covered (宁波).
fn registry(records: &mut Records<Box<dyn Store>>) -> [[u8; 32]; 3] {
    let employer = Input::Org(OrgInput {
        credit_code: CreditCode::parse(EMPLOYER).unwrap(),
        name: "某用人单位".into(),
        kind: anxin_domain::OrgKind::Employer,
        region: RegionCode::parse("110000").unwrap(),
        record_id: None,
    });
    records.append(vec![platform(), employer]).unwrap();
    [
        worker(
            records,
            "33010619900101123",
            "330106",
            EmploymentForm::MultiPlatform,
        ),
        worker(
            records,
            "33010619900101456",
            "330106",
            EmploymentForm::Employee,
        ),
        worker(
            records,
            "33020319900101789",
            "330203",
            EmploymentForm::MultiPlatform,
        ),
    ]
}

/// Accounts as the store keeps them, so that each party's inbox can be read.
fn account(
    records: &mut Records<Box<dyn Store>>,
    name: &str,
    role: Role,
    region: Option<&str>,
    person: Option<[u8; 32]>,
    org: Option<&str>,
) -> AccountRow {
    records
        .store()
        .create_account(
            &anxin_records::access::NewAccount {
                username: name.into(),
                role,
                region: region.map(|r| RegionCode::parse(r).unwrap()),
                person,
                org: org.map(str::to_string),
                password_hash: "x".into(),
            },
            0,
        )
        .unwrap();
    records.store().account_named(name).unwrap().unwrap()
}

/// The test platform's account.
fn the_platform(records: &mut Records<Box<dyn Store>>) -> AccountRow {
    account(
        records,
        "platform",
        Role::Platform,
        Some("330100"),
        None,
        Some(PLATFORM),
    )
}

fn engine<'a>(policy: &'a Policy, kinds: &'a Kinds) -> Engine<'a> {
    Engine {
        policy,
        kinds,
        reforms: &[],
    }
}

fn text_of(e: &CaseError) -> String {
    match e {
        CaseError::Denied(d) => {
            assert!(!d.zh.is_empty() && !d.en.is_empty());
            format!("denied {:?}: {} / {}", d.why, d.zh, d.en)
        }
        CaseError::Records(e) => {
            assert_eq!(e.kind(), anxin_domain::ErrorKind::Refused, "{e}");
            e.to_string()
        }
    }
}

fn terms() -> Terms {
    serde_json::from_str(TERMS).unwrap()
}

fn request(terms: Terms, party: &str) -> FileRequest {
    FileRequest {
        kind: "agreement".into(),
        subject: "collective".into(),
        party: party.into(),
        months: Vec::new(),
        terms: Some(terms),
    }
}

#[test]
fn terms_that_break_a_rule_are_refused_and_nothing_is_filed() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = engine(&policy, &kinds);
    let path = temp_db("refused");
    let mut records = open(&path, true);
    registry(&mut records);
    let clock = TestClock::at("2026-12-10T02:00:00Z".parse().unwrap());
    let file: File = toml::from_str(include_str!("data/agreement.toml")).unwrap();
    assert!(file.refused.len() >= 15);
    let mut failures = Vec::new();
    for (i, s) in file.refused.iter().enumerate() {
        let region = match s.union_region {
            Some(0) => None,
            Some(r) => Some(format!("{r:06}")),
            None => Some("330100".into()),
        };
        let union = account(
            &mut records,
            &format!("union{i}"),
            Role::Union,
            region.as_deref(),
            None,
            None,
        );
        let mut value = serde_json::to_value(terms()).unwrap();
        for (k, v) in s.terms.clone().unwrap_or_default() {
            let v = serde_json::to_value(v).unwrap();
            value[k.as_str()] = if v == serde_json::json!(-1) {
                serde_json::Value::Null
            } else {
                v
            };
        }
        let t: Terms = serde_json::from_value(value).unwrap();
        let before = records.store().cases_latest().unwrap().len();
        let got = cases::file(
            &mut records,
            &engine,
            Actor::new(&union, Role::Union),
            &request(t, s.party.as_deref().unwrap_or(PLATFORM)),
            &clock,
        );
        match got {
            Ok(v) => failures.push(format!("{}: filed {}", s.name, v.id)),
            Err(e) => {
                let text = text_of(&e);
                if !text.contains(&s.want) {
                    failures.push(format!("{}: {text}", s.name));
                }
            }
        }
        if records.store().cases_latest().unwrap().len() != before {
            failures.push(format!("{}: something was filed", s.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The base file itself is good.
    let union = account(
        &mut records,
        "union.ok",
        Role::Union,
        Some("330100"),
        None,
        None,
    );
    cases::file(
        &mut records,
        &engine,
        Actor::new(&union, Role::Union),
        &request(terms(), PLATFORM),
        &clock,
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn both_sign_the_clock_brings_it_into_force_and_it_covers_the_workers_it_names() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = engine(&policy, &kinds);
    let path = temp_db("flow");
    let mut records = open(&path, true);
    let [covered, employee, ningbo] = registry(&mut records);
    let union = account(
        &mut records,
        "union.hz",
        Role::Union,
        Some("330100"),
        None,
        None,
    );
    let union_nb = account(
        &mut records,
        "union.nb",
        Role::Union,
        Some("330200"),
        None,
        None,
    );
    let plat = the_platform(&mut records);
    let other = account(
        &mut records,
        "other",
        Role::Platform,
        Some("330100"),
        None,
        Some(OTHER_PLATFORM),
    );
    let inspector = account(
        &mut records,
        "inspector.zj",
        Role::Inspector,
        Some("330000"),
        None,
        None,
    );
    let w = account(
        &mut records,
        "worker1",
        Role::Worker,
        None,
        Some(covered),
        None,
    );
    // Thursday 2026-12-10, 10:00 in China.
    let clock = TestClock::at("2026-12-10T02:00:00Z".parse().unwrap());
    let view = cases::file(
        &mut records,
        &engine,
        Actor::new(&union, Role::Union),
        &request(terms(), PLATFORM),
        &clock,
    )
    .unwrap();
    let id = view.id.clone();
    assert_eq!(view.state, "proposed");
    assert_eq!(view.party.as_deref(), Some(PLATFORM));
    // The platform has 20 days to answer (集体合同规定 第三十二条): to the end of 12-30.
    let respond = &view.clocks[0];
    assert_eq!(respond.name, "respond");
    assert!(
        respond
            .due
            .as_deref()
            .unwrap()
            .starts_with("2026-12-31 00:00"),
        "{respond:?}"
    );
    let act = |records: &mut Records<Box<dyn Store>>, who: &AccountRow, step: &str, outcome| {
        let role = Role::parse(&who.role).unwrap();
        clock.advance(jiff::SignedDuration::from_hours(1));
        cases::act(
            records,
            &engine,
            Actor::new(who, role),
            &id,
            step,
            outcome,
            &clock,
        )
    };
    // Wrong parties are refused and change nothing.
    for (who, step, why) in [
        (&other, "platform_sign", "NotParty"),
        (&union_nb, "union_sign", "NotParty"),
        (&union, "platform_sign", "NotParty"),
        (&inspector, "take_effect", "NotParty"),
        (&inspector, "register", "State"),
        (&plat, "submit", "State"),
    ] {
        let e = act(&mut records, who, step, None).unwrap_err();
        assert!(text_of(&e).contains(why), "{step}: {}", text_of(&e));
    }
    // The platform signs first, then the union: signed by both.
    assert_eq!(
        act(&mut records, &plat, "platform_sign", None)
            .unwrap()
            .state,
        "platform_signed"
    );
    let e = act(&mut records, &plat, "platform_sign", None).unwrap_err();
    assert!(text_of(&e).contains("State"), "{}", text_of(&e));
    let signed = act(&mut records, &union, "union_sign", None).unwrap();
    assert_eq!(signed.state, "signed");
    // Not covering anyone yet: it is not in force.
    let day = |d: &str| d.parse::<jiff::civil::Date>().unwrap();
    assert!(
        agreement::covering(
            &mut records,
            &engine,
            &PersonKey(covered),
            day("2027-02-01")
        )
        .unwrap()
        .is_empty()
    );
    // The platform sends it (within 10 days of signing); the review's 15 days run.
    let review = act(&mut records, &plat, "submit", None).unwrap();
    assert_eq!(review.state, "review");
    let due = review.clocks[0].due.clone().unwrap();
    assert!(due.starts_with("2026-12-26 00:00"), "{due}");
    // Before the end nothing happens; after it the clock takes it into force, once.
    clock.set("2026-12-25T15:59:00Z".parse().unwrap());
    cases::tick(&mut records, &engine, &clock).unwrap();
    assert_eq!(
        cases::view(&mut records, &engine, &id, &clock)
            .unwrap()
            .state,
        "review"
    );
    clock.set("2026-12-28T01:00:00Z".parse().unwrap());
    cases::tick(&mut records, &engine, &clock).unwrap();
    cases::tick(&mut records, &engine, &clock).unwrap();
    let now = cases::view(&mut records, &engine, &id, &clock).unwrap();
    assert_eq!(now.state, "in_force");
    let last = now.steps.last().unwrap();
    assert_eq!(last.action, "take_effect");
    assert_eq!(now.steps.len(), 5, "{:?}", now.steps);
    // Covered: the 杭州 multi-platform worker, between its dates only.
    let covering = |records: &mut Records<Box<dyn Store>>, who: [u8; 32], on: &str| {
        agreement::covering(records, &engine, &PersonKey(who), day(on))
            .unwrap()
            .len()
    };
    assert_eq!(covering(&mut records, covered, "2027-03-01"), 1);
    assert_eq!(covering(&mut records, covered, "2026-12-31"), 0);
    assert_eq!(covering(&mut records, covered, "2028-01-01"), 0);
    assert_eq!(covering(&mut records, employee, "2027-03-01"), 0);
    assert_eq!(covering(&mut records, ningbo, "2027-03-01"), 0);
    // The quote of a covered worker: the agreed base, half paid by the platform.
    let t = agreement::terms_of(&mut records, &id).unwrap();
    let q = agreement::agreed_quote(
        &policy,
        &[],
        "330100",
        YearMonth::new(2027, 3).unwrap(),
        &id,
        &t,
    )
    .unwrap();
    assert_eq!(q.base_fen, 600_000);
    assert!(q.base_agreed && !q.base_bounded);
    assert_eq!(q.platform_share_percent, 50);
    assert_eq!(q.platform_fen + q.worker_fen, q.net_monthly_fen);
    assert_eq!(q.platform_fen, (q.net_monthly_fen * 50 + 50) / 100);
    assert!(q.zh.contains(&id) && q.zh.contains("集体合同"), "{}", q.zh);
    // The worker's own page: the agreement and the quote, as of the clock (2027-03-10).
    clock.set("2027-03-10T02:00:00Z".parse().unwrap());
    let mine =
        agreement::mine(&mut records, &engine, Actor::new(&w, Role::Worker), &clock).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].0.case, id);
    assert_eq!(mine[0].1.base_fen, 600_000);
    // Only a worker asks for their own; a union does not.
    let e = agreement::mine(
        &mut records,
        &engine,
        Actor::new(&union, Role::Union),
        &clock,
    )
    .unwrap_err();
    assert!(text_of(&e).contains("Role"), "{}", text_of(&e));
    // Every party heard of every step: the union, the platform, the labour administration
    // (the 浙江 inspector covers 杭州); not the other platform, not the 宁波 union; the case
    // names no worker, so no worker's inbox has it.
    for (who, want) in [
        (&union, 5),
        (&plat, 5),
        (&inspector, 5),
        (&other, 0),
        (&union_nb, 0),
    ] {
        let got = records
            .store()
            .inbox_of(&account_inbox(who.id).0, None, 100)
            .unwrap();
        assert_eq!(got.len(), want, "{}", who.username);
        assert!(got.iter().all(|m| m.kind == "case_party"));
    }
    assert!(
        records
            .store()
            .inbox_of(&covered, None, 100)
            .unwrap()
            .is_empty()
    );
    let report = records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    // A restart keeps it in force.
    drop(records);
    let mut records = open(&path, false);
    let again = cases::view(&mut records, &engine, &id, &clock).unwrap();
    assert_eq!(again.state, "in_force");
    assert_eq!(covering(&mut records, covered, "2027-03-01"), 1);
    // Either side ends it; then it covers nobody.
    let ended = cases::act(
        &mut records,
        &engine,
        Actor::new(&plat, Role::Platform),
        &id,
        "terminate",
        None,
        &clock,
    )
    .unwrap();
    assert_eq!(ended.state, "terminated");
    assert_eq!(covering(&mut records, covered, "2027-03-01"), 0);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// The labour administration objects, naming the point of review: the agreement ends there
/// and covers nobody; an objection must name its point.
#[test]
fn an_objection_names_its_point_and_the_agreement_covers_nobody() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = engine(&policy, &kinds);
    let path = temp_db("object");
    let mut records = open(&path, true);
    let [covered, ..] = registry(&mut records);
    let union = account(
        &mut records,
        "union.hz",
        Role::Union,
        Some("330100"),
        None,
        None,
    );
    let plat = the_platform(&mut records);
    let inspector = account(
        &mut records,
        "inspector.hz",
        Role::Inspector,
        Some("330100"),
        None,
        None,
    );
    let clock = TestClock::at("2026-12-10T02:00:00Z".parse().unwrap());
    let id = cases::file(
        &mut records,
        &engine,
        Actor::new(&union, Role::Union),
        &request(terms(), PLATFORM),
        &clock,
    )
    .unwrap()
    .id;
    for (who, role, step) in [
        (&union, Role::Union, "union_sign"),
        (&plat, Role::Platform, "platform_sign"),
        (&plat, Role::Platform, "submit"),
    ] {
        cases::act(
            &mut records,
            &engine,
            Actor::new(who, role),
            &id,
            step,
            None,
            &clock,
        )
        .unwrap();
    }
    let object = |records: &mut Records<Box<dyn Store>>, outcome| {
        cases::act(
            records,
            &engine,
            Actor::new(&inspector, Role::Inspector),
            &id,
            "object",
            outcome,
            &clock,
        )
    };
    let e = object(&mut records, None).unwrap_err();
    assert!(text_of(&e).contains("content_unlawful"), "{}", text_of(&e));
    let v = object(&mut records, Some("content_unlawful")).unwrap();
    assert_eq!(v.state, "objected");
    // Past the review days nothing more happens: the clock has no step from here.
    clock.set("2027-03-01T02:00:00Z".parse().unwrap());
    cases::tick(&mut records, &engine, &clock).unwrap();
    assert_eq!(
        cases::view(&mut records, &engine, &id, &clock)
            .unwrap()
            .state,
        "objected"
    );
    assert!(
        agreement::covering(
            &mut records,
            &engine,
            &PersonKey(covered),
            "2027-03-01".parse().unwrap()
        )
        .unwrap()
        .is_empty()
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
