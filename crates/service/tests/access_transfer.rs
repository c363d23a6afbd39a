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
        let role = Role::parse(&c.role).unwrap();
        let own = c.own.then_some(worker.0).or(Some([8; 32]));
        let a = account(role, c.region, own.filter(|_| role == Role::Worker));
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
