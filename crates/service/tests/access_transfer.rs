//! Who may ask for a transfer between instances and see its queue, as data
//! (`access_transfer.toml`): each row a decision of `anxin_service::access` with its reason.

use anxin_records::PersonKey;
use anxin_records::access::{AccountRow, Role};
use anxin_service::access::{self, Action, Actor, Why};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    request: Vec<RequestCase>,
    queue: Vec<QueueCase>,
    read: Vec<ReadCase>,
    own: Vec<OwnCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadCase {
    case: String,
    role: String,
    region: Option<u32>,
    #[serde(default)]
    own: bool,
    to: Option<u32>,
    want: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnCase {
    case: String,
    role: String,
    region: Option<u32>,
    #[serde(default)]
    own: bool,
    want: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestCase {
    case: String,
    role: String,
    region: Option<u32>,
    #[serde(default)]
    own: bool,
    to: u32,
    want: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueCase {
    case: String,
    role: String,
    region: Option<u32>,
    want: String,
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

/// The account of a case: a worker owns `worker` when `own`, else someone else's record.
fn actor_of(role: &str, region: Option<u32>, own: bool, worker: &PersonKey) -> (Role, AccountRow) {
    let role = Role::parse(role).unwrap();
    let person = own.then_some(worker.0).or(Some([8; 32]));
    (
        role,
        account(role, region, person.filter(|_| role == Role::Worker)),
    )
}

fn outcome(r: Result<(), access::Denied>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(d) => {
            // Every refusal says why in both languages.
            assert!(!d.zh.is_empty() && !d.en.is_empty());
            match d.why {
                Why::Role => "role",
                Why::NotOwner => "not_owner",
                Why::OutOfRegion => "out_of_region",
                other => panic!("unexpected reason {other:?}"),
            }
            .into()
        }
    }
}

fn cases() -> Cases {
    toml::from_str(include_str!("access_transfer.toml")).expect("access_transfer.toml parses")
}

#[test]
fn asking_for_a_transfer_follows_ownership_and_the_destination_region() {
    let cases = cases().request;
    assert!(cases.iter().any(|c| c.want != "ok"), "denials are tested");
    let worker = PersonKey([7; 32]);
    for c in cases {
        let (role, a) = actor_of(&c.role, c.region, c.own, &worker);
        let got = outcome(access::check_request_transfer(
            Actor::new(&a, role),
            &worker,
            c.to,
        ));
        assert_eq!(got, c.want, "{}", c.case);
    }
}

#[test]
fn the_transfer_queue_is_for_clerks() {
    let cases = cases().queue;
    assert!(cases.iter().any(|c| c.want != "ok"), "denials are tested");
    for c in cases {
        let role = Role::parse(&c.role).unwrap();
        let a = account(role, c.region, None);
        let got = outcome(access::check(Actor::new(&a, role), Action::TransferQueue));
        assert_eq!(got, c.want, "{}", c.case);
    }
}

#[test]
fn reading_a_transfer_is_the_worker_s_own_or_a_clerk_s_of_its_region() {
    let cases = cases().read;
    assert!(cases.iter().any(|c| c.want != "ok"), "denials are tested");
    let worker = PersonKey([7; 32]);
    for c in cases {
        let (role, a) = actor_of(&c.role, c.region, c.own, &worker);
        let got = outcome(access::check_read_transfer(
            Actor::new(&a, role),
            Some(&worker),
            c.to,
        ));
        assert_eq!(got, c.want, "{}", c.case);
    }
}

#[test]
fn a_worker_asks_for_their_own_record_and_a_clerk_names_the_person() {
    let cases = cases().own;
    assert!(
        cases.iter().any(|c| c.want == "not_owner"),
        "denials are tested"
    );
    for c in cases {
        let role = Role::parse(&c.role).unwrap();
        let person = (c.own && role == Role::Worker).then_some([7; 32]);
        let a = account(role, c.region, person);
        let got = match access::own_transfer_person(Actor::new(&a, role)) {
            Ok(Some(p)) => {
                assert!(p == PersonKey([7; 32]), "{}", c.case);
                "own".to_string()
            }
            Ok(None) => "named".to_string(),
            Err(d) => outcome(Err(d)),
        };
        assert_eq!(got, c.want, "{}", c.case);
    }
}
