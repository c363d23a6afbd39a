//! Transfers survive their instances being stopped at any step (issue 14, migration 15): each
//! side is a real ledger on SQLite (a file) or PostgreSQL (`ANXIN_TEST_POSTGRES`, a schema of
//! its own), and between every two messages the side that just committed is dropped and
//! started again from its database alone. Messages delivered again after a restart are
//! answered with the stored reply, byte for byte, and acted on once; the transfer ends sealed
//! at 阜阳 and done at 杭州 with 120 months recorded, each state once in each log, and both
//! audits clean.

use anxin_domain::{Fen, Insurance, Payer, RegionCode, ResidentId, Status, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::transfer::Period;
use anxin_records::conformance::{person, region, resident_id};
use anxin_records::log::Suite;
use anxin_records::{AuditScope, ContributionInput, DataKey, Input, Records, Secrets, Store};
use anxin_service::transfer::keys::{InstanceKey, Peers, peer_entry};
use anxin_service::transfer::ledger::LedgerBook;
use anxin_service::transfer::machine::{Clocks, Side, State};
use anxin_service::transfer::message::Signed;
use anxin_service::transfer::package::LiaisonRequest;

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn secrets(seed: u8) -> Secrets {
    Secrets {
        data_key: DataKey::from_secret(&[seed; 32]),
        signer: anxin_ledger::Signer::from_seed("log", &[seed + 1; 32]).unwrap(),
    }
}

/// A month paid by the worker in 阜阳 (base 4,000 yuan).
fn paid(id: &ResidentId, insurance: Insurance, m: YearMonth, amount: i64, account: i64) -> Input {
    Input::Contribution(ContributionInput {
        record_id: format!("fy-{}-{m}", insurance.as_str()),
        person_id: id.clone(),
        month: m,
        insurance,
        region: region("341200"),
        payer: Payer::Individual,
        payer_code: None,
        base: Fen(400_000),
        amount: Fen(amount),
        account: Some(Fen(account)),
        status: Status::Paid,
        reason: None,
        paid_on: None,
    })
}

/// Pension 2010–2019, and employee medical insurance for the last two years with its account
/// part.
fn origin_rows(id: &ResidentId) -> Vec<Input> {
    let mut rows = vec![person(id)];
    let mut m = month("2010-01");
    while m <= month("2019-12") {
        rows.push(paid(id, Insurance::Pension, m, 80_000, 32_000));
        if m >= month("2018-01") {
            rows.push(paid(id, Insurance::Medical, m, 40_000, 5_000));
        }
        m = YearMonth::from_index(m.index() + 1).unwrap();
    }
    rows
}

fn request() -> LiaisonRequest {
    LiaisonRequest {
        identity: String::new(),
        from_region: "341200".into(),
        to_region: "330100".into(),
        date: "2026-03-02".into(),
        elsewhere: vec![Period {
            region: "330100".into(),
            from: month("2020-01"),
            to: month("2026-02"),
            base_fen: Some(Fen(600_000)),
            total_base_fen: None,
        }],
        approved_transfer: false,
        // Two months without cover before joining 杭州: within the limit.
        medical_gap_months: Some(2),
    }
}

type Open<'a> = &'a dyn Fn() -> Box<dyn Store>;

fn story(open_fy: Open<'_>, open_hz: Open<'_>) {
    let policy = Policy::embedded().unwrap();
    let cal = &policy.calendar;
    let day = jiff::civil::date(2026, 3, 2);
    let clocks = Clocks::of(&policy, day).unwrap();
    let id = resident_id("34120219850615123");
    let mut fy_records =
        Records::init(open_fy(), secrets(10), Suite::Standard, "anxin.fuyang/log").unwrap();
    fy_records.append(origin_rows(&id)).unwrap();
    let hz_records = Records::init(
        open_hz(),
        secrets(20),
        Suite::Standard,
        "anxin.hangzhou/log",
    )
    .unwrap();
    let fy_key = InstanceKey::from_seed("fuyang", [1; 32]).unwrap();
    let hz_key = InstanceKey::from_seed("hangzhou", [2; 32]).unwrap();
    let hz_peers = Peers::parse(&peer_entry(
        &fy_key,
        "http://127.0.0.1:1",
        &fy_records.verifier().to_vkey(),
        &[RegionCode::parse("341200").unwrap()],
    ))
    .unwrap();
    let fy_peers = Peers::parse(&peer_entry(
        &hz_key,
        "http://127.0.0.1:2",
        &hz_records.verifier().to_vkey(),
        &[RegionCode::parse("330100").unwrap()],
    ))
    .unwrap();
    drop((fy_records, hz_records));
    // Each side as a restarted instance finds it: from its database alone.
    let fy = || {
        let records = Records::open(open_fy(), secrets(10)).unwrap();
        let book = LedgerBook::new(records, &policy, fy_key.clone());
        Side::load(fy_key.clone(), fy_peers.clone(), book, clocks).unwrap()
    };
    let hz = || {
        let records = Records::open(open_hz(), secrets(20)).unwrap();
        let book = LedgerBook::new(records, &policy, hz_key.clone());
        Side::load(hz_key.clone(), hz_peers.clone(), book, clocks).unwrap()
    };
    let sends = |side: &mut Side<LedgerBook<'_, Box<dyn Store>>>| -> Vec<Signed> {
        side.pump(1_000).into_iter().map(|d| d.signed).collect()
    };

    // 杭州 asks; stopped at once, it still has the request to send, and the request's body.
    let transfer = {
        let mut side = hz();
        let id = id.clone();
        side.request(cal, "fuyang", day, 0, move |book, transfer, origin| {
            book.ask(transfer, origin, &id, request())
        })
        .unwrap()
    };
    assert_eq!(transfer, "hangzhou:1");
    let mut side = hz();
    assert_eq!(side.transfers[&transfer].state, State::Requested);
    assert!(side.book.sent.contains_key(&transfer));
    let out = sends(&mut side);
    assert_eq!(out.len(), 1, "the request is still to send");
    let asked = out[0].clone();
    drop(side);

    // 阜阳 freezes and answers with the package; stopped, it still has the package to send
    // and the request again gets the same package, without a second freeze.
    let package = fy().handle(cal, &asked, day, 10).unwrap().remove(0);
    let mut side = fy();
    assert_eq!(side.transfers[&transfer].state, State::Frozen);
    assert_eq!(side.book.frozen.len(), 1);
    assert_eq!(sends(&mut side), vec![package.clone()]);
    assert_eq!(
        side.handle(cal, &asked, day, 20).unwrap(),
        vec![package.clone()]
    );
    drop(side);
    // A second request for the same worker while this one is open is refused at 阜阳.
    let second = {
        let mut side = hz();
        let id = id.clone();
        side.request(cal, "fuyang", day, 30, move |book, transfer, origin| {
            book.ask(transfer, origin, &id, request())
        })
        .unwrap()
    };
    assert_eq!(second, "hangzhou:2", "the number goes on after a restart");
    let asked2 = hz()
        .pump(1_000)
        .into_iter()
        .map(|d| d.signed)
        .find(|s| s.message.contains("hangzhou:2"))
        .unwrap();
    let refusal = fy().handle(cal, &asked2, day, 40).unwrap().remove(0);
    assert!(
        refusal.message.contains("open_transfer"),
        "{}",
        refusal.message
    );
    assert!(hz().handle(cal, &refusal, day, 50).unwrap().is_empty());
    assert_eq!(hz().transfers[&second].state, State::Refused);

    // 杭州 records the months and acknowledges; restarted, it has them all, and the package
    // delivered again gets the same acknowledgement and records nothing twice.
    let ack = hz().handle(cal, &package, day, 60).unwrap().remove(0);
    let mut side = hz();
    assert_eq!(side.transfers[&transfer].state, State::Recorded);
    let got = &side.book.received[&transfer];
    assert_eq!(got.months.len(), 120 + 24);
    assert!(got.months.iter().all(|m| m.origin == "fuyang"));
    assert_eq!(got.pension_total_fen, Some(5_760_000 + 3_840_000));
    // Medical moved too (kept through the restart): 24 months' account parts, the gap
    // within the limit, so cover is continuous.
    let medical = got.medical.clone().expect("medical moved");
    assert_eq!(medical.account_fen, Some(24 * 5_000));
    assert_eq!(medical.gap_months, Some(2));
    assert_eq!(medical.continuous, Some(true));
    assert_eq!(
        side.handle(cal, &package, day, 70).unwrap(),
        vec![ack.clone()]
    );
    assert_eq!(sends(&mut side), vec![ack.clone()]);
    drop(side);

    // 阜阳 seals; the acknowledgement again gets the same seal.
    let seal = fy().handle(cal, &ack, day, 80).unwrap().remove(0);
    let mut side = fy();
    assert_eq!(side.transfers[&transfer].state, State::Sealed);
    assert!(side.book.frozen.is_empty() && side.book.sealed.len() == 1);
    assert!(side.outbox.is_empty());
    assert_eq!(side.handle(cal, &ack, day, 90).unwrap(), vec![seal.clone()]);
    drop(side);

    // 杭州 is done: the seal kept for the voucher, nothing left to send.
    assert!(hz().handle(cal, &seal, day, 100).unwrap().is_empty());
    let mut side = hz();
    assert_eq!(side.transfers[&transfer].state, State::Done);
    assert_eq!(side.transfers[&transfer].seal.as_ref(), Some(&seal));
    assert!(side.outbox.is_empty());
    assert!(side.handle(cal, &seal, day, 110).unwrap().is_empty());
    assert_eq!(side.book.received[&transfer].months.len(), 120 + 24);
    assert!(side.queue(cal, day).is_empty());
    drop(side);

    // Each state once in each log, and both audits clean.
    for (open, secret, want) in [
        (open_fy, 10, &["frozen", "refused", "sealed"][..]),
        (
            open_hz,
            20,
            &["requested", "recorded", "done", "refused"][..],
        ),
    ] {
        let mut records = Records::open(open(), secrets(secret)).unwrap();
        let size = records.store().head().unwrap().size;
        let events = records.store().events(0, size).unwrap();
        let steps: Vec<&str> = events
            .iter()
            .filter(|e| e.kind == "transfer_step")
            .map(|e| e.key.as_str())
            .collect();
        for state in want {
            assert_eq!(
                steps
                    .iter()
                    .filter(|k| k.ends_with(&format!(":{state}")))
                    .count(),
                if *state == "requested" { 2 } else { 1 },
                "{state} in {steps:?}"
            );
        }
        let report = records
            .audit(None, AuditScope { projections: true })
            .unwrap();
        assert!(report.is_clean(), "{:?}", report.findings);
    }
}

#[test]
fn a_transfer_survives_restarts_at_every_step_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (fy, hz) = (dir.path().join("fy.db"), dir.path().join("hz.db"));
    story(
        &|| Box::new(anxin_store_sqlite::SqliteStore::open(&fy).unwrap()),
        &|| Box::new(anxin_store_sqlite::SqliteStore::open(&hz).unwrap()),
    );
}

#[test]
fn a_transfer_survives_restarts_at_every_step_on_postgres() {
    let url = std::env::var("ANXIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (fy, hz) = (
        format!("xfer_fy_{}", std::process::id()),
        format!("xfer_hz_{}", std::process::id()),
    );
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        story(
            &|| Box::new(anxin_store_postgres::PgStore::connect_schema(&url, &fy).unwrap()),
            &|| Box::new(anxin_store_postgres::PgStore::connect_schema(&url, &hz).unwrap()),
        )
    }));
    for schema in [&fy, &hz] {
        let _ = anxin_store_postgres::PgStore::drop_schema(&url, schema);
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
