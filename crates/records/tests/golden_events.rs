//! Events already in a log must hash exactly as they did when they were appended: the
//! canonical bytes and RFC 9162 leaf hashes of events of every kind, with every code of every
//! code list, are held in `data/events.golden.jsonl`. A change that moves or renames a type
//! (the domain's vocabulary moving crates, say) must leave every line as it is.
//!
//! `ANXIN_BLESS=1 cargo test -p anxin-records --test golden_events` rewrites the file: only
//! for a new event kind or code, never to make an old line pass.

use anxin_domain::codes::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use anxin_domain::{RegionCode, YearMonth};
use anxin_records::event::{
    AlertEvent, CaseEvent, CertificateEvent, ChildEvent, ContributionEvent, Event, EvidenceEvent,
    OrgEvent, PersonEvent, TransferEvent,
};
use sha2::{Digest as _, Sha256};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/events.golden.jsonl"
);

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

/// One event of each kind and one per code of every code list an event carries.
fn events() -> Vec<Event> {
    let person = "ab".repeat(32);
    let mut all = Vec::new();
    for (i, form) in EmploymentForm::ALL.iter().enumerate() {
        all.push(Event::PersonRegistered(PersonEvent {
            key: format!("person:{i}"),
            person: person.clone(),
            sealed: "c2VhbGVk".into(),
            hukou_region: (i % 2 == 0).then(|| region("341200")),
            residence_region: region("330100"),
            employment_form: *form,
            platforms: vec!["91350100M000100Y43".into(); i % 2],
            permit_region: (i % 2 == 1).then(|| region("330100")),
            permit_since: (i % 2 == 1).then(|| "2024-06-15".into()),
            household: (i == 0).then(|| "户-1".into()),
        }));
    }
    for (i, kind) in OrgKind::ALL.iter().enumerate() {
        all.push(Event::OrgRegistered(OrgEvent {
            key: format!("org:{i}"),
            credit_code: "91350100M000100Y43".into(),
            name: "某平台".into(),
            org_kind: *kind,
            region: region("330100"),
        }));
    }
    for (i, relation) in Relation::ALL.iter().enumerate() {
        all.push(Event::ChildRegistered(ChildEvent {
            key: format!("child:{i}"),
            child: "cd".repeat(32),
            sealed: "c2VhbGVk".into(),
            guardian: person.clone(),
            relation: *relation,
            school_region: (i != 1).then(|| region("330106")),
        }));
    }
    let contribution = |i: usize, insurance, payer, status, reason| ContributionEvent {
        key: format!("c-{i}"),
        person: person.clone(),
        month: YearMonth::new(2025, 1 + (i % 12) as u32).unwrap(),
        insurance,
        region: region("330100"),
        payer,
        payer_code: matches!(payer, Payer::Platform | Payer::Employer)
            .then(|| "91350100M000100Y43".into()),
        base_fen: 481_200,
        amount_fen: 96_240,
        account_fen: 38_496,
        status,
        reason,
        paid_on: i.is_multiple_of(3).then(|| "2025-03-15".into()),
    };
    let mut i = 0;
    for insurance in Insurance::ALL {
        all.push(Event::ContributionRecorded(contribution(
            i,
            *insurance,
            Payer::Individual,
            Status::Paid,
            None,
        )));
        i += 1;
    }
    for payer in Payer::ALL {
        all.push(Event::ContributionRecorded(contribution(
            i,
            Insurance::Pension,
            *payer,
            Status::Paid,
            None,
        )));
        i += 1;
    }
    for status in Status::ALL {
        all.push(Event::ContributionRecorded(contribution(
            i,
            Insurance::Pension,
            Payer::Individual,
            *status,
            None,
        )));
        i += 1;
    }
    for reason in GapReason::ALL {
        all.push(Event::ContributionRecorded(contribution(
            i,
            Insurance::Pension,
            Payer::Individual,
            Status::Excused,
            Some(*reason),
        )));
        i += 1;
    }
    for (i, month) in [None, Some(YearMonth::new(2026, 9).unwrap())]
        .into_iter()
        .enumerate()
    {
        all.push(Event::CertificateIssued(CertificateEvent {
            key: format!("cert:{i}"),
            person: person.clone(),
            cert_type: "contribution_history".into(),
            document_sha256: "ef".repeat(32),
            month,
        }));
    }
    // A case step (issue 15): with every optional field, then with none.
    for (i, full) in [true, false].into_iter().enumerate() {
        all.push(Event::CaseStep(CaseEvent {
            key: format!("case:c-00ff00ff00ff00ff:{i}"),
            case: "c-00ff00ff00ff00ff".into(),
            step: i as u32,
            case_kind: "complaint".into(),
            action: if full { "file" } else { "escalate" }.into(),
            state: "filed".into(),
            person: person.clone(),
            region: region("330106"),
            holder_role: "inspector".into(),
            holder_region: region(if full { "330106" } else { "330100" }),
            level: i as u32,
            actor: if full { "account:7" } else { "clock" }.into(),
            at: 1_772_762_400,
            since: 1_772_762_400,
            due: full.then_some(1_773_417_600),
            clock: full.then(|| "accept".into()),
            outcome: None,
            subject: full.then(|| "unpaid_wages".into()),
            party: full.then(|| "91350100M000100Y43".into()),
            detail: None,
        }));
    }
    // A file of evidence attached to a case (issue 15): its hash, type and size only.
    all.push(Event::CaseEvidence(EvidenceEvent {
        key: "evidence:c-00ff00ff00ff00ff:1".into(),
        case: "c-00ff00ff00ff00ff".into(),
        n: 1,
        person: person.clone(),
        media_type: "image/jpeg".into(),
        size: 48_213,
        sha256: "ab".repeat(32),
        actor: "account:7".into(),
        at: 1_772_762_460,
    }));
    // A transfer's step between instances (issue 14): with every optional field, then none.
    for (i, full) in [true, false].into_iter().enumerate() {
        let state = if full { "recorded" } else { "requested" };
        all.push(Event::TransferStep(TransferEvent {
            key: format!("transfer:hangzhou:{i}:{state}"),
            transfer: format!("hangzhou:{i}"),
            role: "destination".into(),
            peer: "fuyang".into(),
            state: state.into(),
            person: full.then(|| person.clone()),
            since: "2026-03-02".into(),
            due: full.then(|| "2026-03-23".into()),
            package: full.then(|| "ef".repeat(32)),
            refusal: full.then(|| "figures_differ".into()),
            months: full.then_some(120),
        }));
    }
    // Steps on a monitor alert (issue 16): a contact with every optional field but the
    // outcome, then an acknowledgement with none, then a closing with its outcome.
    for (i, action) in ["acknowledge", "contact", "close"].into_iter().enumerate() {
        let state = ["acknowledged", "contacted", "closed"][i];
        all.push(Event::AlertStep(AlertEvent {
            key: format!("alert:2026-03-00ff00ff00ff00ff:{}", i + 1),
            alert: "2026-03-00ff00ff00ff00ff".into(),
            step: i as u32 + 1,
            month: YearMonth::new(2026, 3).unwrap(),
            area: "330106-017".into(),
            alert_kind: "uninsured".into(),
            person: "00ff00ff00ff00ff".into(),
            action: action.into(),
            state: state.into(),
            actor: "account:9".into(),
            at: 1_772_848_800 + i as i64 * 3600,
            via: (i == 1).then(|| "visit".into()),
            contact_at: (i == 1).then_some(1_772_845_200),
            note: (i == 1).then(|| "上门讲了灵活就业参保，本人愿意下周去办".into()),
            outcome: (i == 2).then(|| "will_enrol".into()),
        }));
    }
    all
}

/// RFC 9162 leaf hash: SHA-256(0x00 ‖ bytes).
fn leaf_hex(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn events_of_every_kind_keep_their_bytes_and_hashes() {
    let lines: Vec<String> = events()
        .iter()
        .map(|e| {
            let bytes = e.to_bytes();
            serde_json::json!({
                "leaf_sha256": leaf_hex(&bytes),
                "bytes": String::from_utf8(bytes).unwrap(),
            })
            .to_string()
        })
        .collect();
    if std::env::var_os("ANXIN_BLESS").is_some() {
        std::fs::write(GOLDEN, lines.join("\n") + "\n").unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN).unwrap();
    let golden: Vec<&str> = golden.lines().collect();
    assert_eq!(golden.len(), lines.len(), "one golden line per event");
    for (want, got) in golden.iter().zip(&lines) {
        assert_eq!(want, got);
        // The stored bytes still parse as canonical and hash to the stored leaf.
        let v: serde_json::Value = serde_json::from_str(want).unwrap();
        let bytes = v["bytes"].as_str().unwrap().as_bytes();
        let event = Event::from_bytes(bytes).unwrap();
        assert_eq!(event.to_bytes(), bytes);
        assert_eq!(v["leaf_sha256"], leaf_hex(bytes));
    }
}
