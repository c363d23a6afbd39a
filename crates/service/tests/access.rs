//! Who may do what to whom, as data: `access.toml` holds object-level cases (a person read by
//! each kind of official, rows imported by clerks of each level) with the expected decision,
//! each with where the expectation comes from. The role-level table is the unit test in
//! `src/access.rs`.

use anxin_domain::RegionCode;
use anxin_records::Input;
use anxin_records::access::{AccountRow, Role};
use anxin_records::conformance::{contribution, person, resident_id};
use anxin_service::access::{self, Action, Actor, PersonFacts, Why};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    person: Vec<PersonCase>,
    import: Vec<ImportCase>,
    case: Vec<CaseCase>,
    inbox: Vec<InboxCase>,
    signup: Vec<SignupCase>,
    reset: Vec<ResetCase>,
}

/// A clerk (or anyone) deciding a sign-up request that names region `names`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupCase {
    case: String,
    role: String,
    region: Option<u32>,
    names: u32,
    want: String,
}

/// Resetting the password of an account of role `target` opened in `opened`, whose person
/// lives or is insured in `regions` (absent: not in the registry).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetCase {
    case: String,
    role: String,
    region: Option<u32>,
    target: String,
    opened: Option<u32>,
    regions: Option<Vec<u32>>,
    want: String,
}

/// A decision about a case (issue 15): `act` is "file", "read", "queue" or a step whose
/// parties are `by` ("handler", "filer") and which the kind's rules allow from the current
/// state or not (`from_ok`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseCase {
    case: String,
    role: String,
    region: Option<u32>,
    #[serde(default)]
    own: bool,
    case_region: u32,
    holder_region: u32,
    act: String,
    #[serde(default)]
    by: Vec<String>,
    #[serde(default = "yes")]
    from_ok: bool,
    /// The kind's handling role: "inspector" (a complaint, the default; the union sees it) or
    /// "clerk" (a back-payment, an enrolment; nobody else sees it).
    #[serde(default)]
    handler: Option<String>,
    /// The role holding the case now (default: the handler): "supervisor" once an overdue
    /// case was escalated to one.
    #[serde(default)]
    holder: Option<String>,
    /// The role that files the kind (default "worker"; "union" for an agreement, whose
    /// viewers are none).
    #[serde(default)]
    filer: Option<String>,
    /// The platform an agreement names (its credit code); platform accounts here have
    /// 91350100M000100Y43.
    #[serde(default)]
    counterparty: Option<String>,
    want: String,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxCase {
    case: String,
    role: String,
    action: String,
    #[serde(default)]
    linked: bool,
    want: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonCase {
    case: String,
    role: String,
    region: Option<u32>,
    #[serde(default)]
    own: bool,
    regions: Vec<u32>,
    want: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportCase {
    case: String,
    region: Option<u32>,
    row: String,
    row_region: u32,
    known: Option<Vec<u32>>,
    want: String,
}

fn why(w: Why) -> &'static str {
    match w {
        Why::Role => "role",
        Why::NotOwner => "not_owner",
        Why::OutOfRegion => "out_of_region",
        Why::NotStarter => "not_starter",
        Why::NoOrg => "no_org",
        Why::Widening => "widening",
        Why::NotParty => "not_party",
        Why::State => "state",
    }
}

/// "ok", or the reason of a refusal (which must say why in both languages).
fn outcome(got: Result<(), access::Denied>, case: &str) -> &'static str {
    match got {
        Ok(()) => "ok",
        Err(d) => {
            assert!(!d.zh.is_empty() && !d.en.is_empty(), "{case}: words");
            why(d.why)
        }
    }
}

fn account(role: Role, region: Option<u32>, person: Option<[u8; 32]>) -> AccountRow {
    AccountRow {
        id: 1,
        username: "case".into(),
        role: role.as_str().into(),
        region,
        person,
        org: (role == Role::Platform).then(|| "91350100M000100Y43".into()),
        password_hash: String::new(),
        created_at: 0,
    }
}

fn cases() -> Cases {
    let text = include_str!("access.toml");
    toml::from_str(text).expect("access.toml parses")
}

#[test]
fn reading_a_person_follows_ownership_and_region() {
    let key = anxin_records::PersonKey([7; 32]);
    for c in cases().person {
        let role = Role::parse(&c.role).unwrap();
        let a = account(role, c.region, c.own.then_some(key.0));
        let got = access::check_person(
            Actor::new(&a, role),
            Action::ReadPerson,
            PersonFacts {
                key: &key,
                regions: &c.regions,
            },
        );
        assert_eq!(outcome(got, &c.case), c.want, "{}", c.case);
    }
}

#[test]
fn importing_follows_the_clerks_region_and_never_widens_it() {
    let id = resident_id("33010619900101123");
    for c in cases().import {
        let a = account(Role::Clerk, c.region, None);
        let region = RegionCode::parse(&format!("{:06}", c.row_region)).unwrap();
        let input = match c.row.as_str() {
            "person" => {
                let Input::Person(mut p) = person(&id) else {
                    unreachable!()
                };
                p.residence_region = region;
                Input::Person(p)
            }
            "contribution" => {
                let Input::Contribution(mut r) = contribution(
                    &id,
                    "c1",
                    "2025-01",
                    anxin_domain::codes::Payer::Individual,
                    "962.40",
                ) else {
                    unreachable!()
                };
                r.region = region;
                Input::Contribution(r)
            }
            other => panic!("{}: unknown row kind {other}", c.case),
        };
        let got =
            match access::check_import_row(Actor::new(&a, Role::Clerk), &input, c.known.as_deref())
            {
                Ok(()) => "ok",
                Err((column, d)) => {
                    assert!(!column.is_empty(), "{}: a refusal names its column", c.case);
                    why(d.why)
                }
            };
        assert_eq!(got, c.want, "{}", c.case);
    }
}

#[test]
fn cases_follow_the_parties_the_regions_and_the_state() {
    let all = cases().case;
    assert!(
        all.len() >= 12,
        "cover filing, reading, the queue and steps"
    );
    let filer = anxin_records::PersonKey([7; 32]);
    let mut failures = Vec::new();
    for c in &all {
        let role = Role::parse(&c.role).unwrap();
        let person = c
            .own
            .then_some(filer.0)
            .or((role == Role::Worker).then_some([9; 32]));
        let acc = account(role, c.region, person);
        let actor = Actor::new(&acc, role);
        let handler = Role::parse(c.handler.as_deref().unwrap_or("inspector")).unwrap();
        let filer_role = Role::parse(c.filer.as_deref().unwrap_or("worker")).unwrap();
        let viewers: &[Role] = if handler == Role::Inspector && filer_role == Role::Worker {
            &[Role::Union]
        } else {
            &[]
        };
        let facts = access::CaseFacts {
            filer: &filer,
            filer_role,
            counterparty: c.counterparty.as_deref(),
            region: c.case_region,
            holder_region: c.holder_region,
            handler,
            viewers,
            holder: c
                .holder
                .as_deref()
                .map_or(handler, |h| Role::parse(h).unwrap()),
        };
        let by: Vec<access::Party> =
            c.by.iter()
                .map(|p| access::Party::parse(p).unwrap())
                .collect();
        let got = match c.act.as_str() {
            "file" => access::check_file_case(actor, filer_role, &filer),
            "read" => access::check_case_read(actor, &facts),
            "queue" => access::check_case_queue(actor),
            "attach" => access::check_case_attach(actor, &facts, c.from_ok),
            _ => access::check_case_step(actor, &facts, &by, c.from_ok),
        };
        let got = match got {
            Ok(()) => "ok",
            Err(d) => {
                assert!(
                    !d.zh.is_empty() && !d.en.is_empty(),
                    "{}: bilingual",
                    c.case
                );
                why(d.why)
            }
        };
        if got != c.want {
            failures.push(format!("{}: want {}, got {got}", c.case, c.want));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn an_inbox_is_its_owners_and_the_rates_are_the_officials() {
    let key = [9u8; 32];
    for c in cases().inbox {
        let role = Role::parse(&c.role).unwrap();
        let a = account(role, Some(330100), c.linked.then_some(key));
        let actor = Actor::new(&a, role);
        let got = match c.action.as_str() {
            "read" => access::own_inbox(actor).map(|k| {
                // A worker's is their record's; an official's or a platform's its account's.
                let want = if role == Role::Worker {
                    key
                } else {
                    access::account_inbox(a.id).0
                };
                assert_eq!(k.0, want, "{}", c.case)
            }),
            "rates" => access::check(actor, Action::InboxRates),
            other => panic!("{}: unknown action {other}", c.case),
        };
        assert_eq!(outcome(got, &c.case), c.want, "{}", c.case);
    }
}

#[test]
fn sign_up_requests_are_decided_by_clerks_of_the_region_they_name() {
    let all = cases().signup;
    assert!(
        all.len() >= 6,
        "cover the region, its parts and the other roles"
    );
    for c in all {
        let role = Role::parse(&c.role).unwrap();
        let a = account(role, c.region, (role == Role::Worker).then_some([9; 32]));
        let got = access::check_signup(Actor::new(&a, role), c.names);
        assert_eq!(outcome(got, &c.case), c.want, "{}", c.case);
    }
}

#[test]
fn the_range_of_requests_a_clerk_sees_is_their_region() {
    for (region, range) in [
        (Some(330000), (330000, 339999)),
        (Some(330100), (330100, 330199)),
        (Some(330106), (330106, 330106)),
        (None, (0, 999999)),
    ] {
        let a = account(Role::Clerk, region, None);
        let actor = Actor::new(&a, Role::Clerk);
        assert_eq!(access::signup_range(actor), range, "{region:?}");
        // Every code of the range is one the region covers, and the codes beside it are not.
        assert!(access::check_signup(actor, range.0).is_ok());
        assert!(access::check_signup(actor, range.1).is_ok());
        if range.1 < 999999 {
            assert!(access::check_signup(actor, range.1 + 1).is_err());
        }
    }
}

#[test]
fn passwords_are_reset_by_clerks_of_the_workers_region_only() {
    let all = cases().reset;
    assert!(all.len() >= 6, "cover regions, roles and targets");
    for c in all {
        let role = Role::parse(&c.role).unwrap();
        let a = account(role, c.region, (role == Role::Worker).then_some([9; 32]));
        let target_role = Role::parse(&c.target).unwrap();
        let mut target = account(
            target_role,
            c.opened,
            (target_role == Role::Worker).then_some([7; 32]),
        );
        target.id = 2;
        let got = access::check_reset(Actor::new(&a, role), &target, c.regions.as_deref());
        assert_eq!(outcome(got, &c.case), c.want, "{}", c.case);
    }
}
