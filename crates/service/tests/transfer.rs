//! The transfer package between two instances, below HTTP: 阜阳 (origin, a real SQLite ledger)
//! answers 杭州's liaison request with a signed package; 杭州 verifies it offline. Every way a
//! package can be wrong is refused with its own reason, and each case checks that reason.

use anxin_domain::{Fen, Insurance, Payer, RegionCode, ResidentId, Status, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::transfer::Period;
use anxin_records::conformance::{person, region, resident_id, secrets};
use anxin_records::log::Suite;
use anxin_records::{ContributionInput, Input, Records, Store};
use anxin_service::transfer::keys::{InstanceKey, Peers, peer_entry};
use anxin_service::transfer::message::{self, Envelope, Kind, Signed};
use anxin_service::transfer::package::{self, LiaisonRequest, Package};
use anxin_service::transfer::{Refusal, Why};
use anxin_store_sqlite::SqliteStore;

struct World {
    policy: Policy,
    origin: Records<Box<dyn Store>>,
    fy: InstanceKey,
    hz: InstanceKey,
    /// 杭州's peers (it trusts 阜阳) and 阜阳's (it trusts 杭州).
    hz_peers: Peers,
    fy_peers: Peers,
    id: ResidentId,
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn contribution(id: &ResidentId, m: YearMonth, status: Status) -> Input {
    Input::Contribution(ContributionInput {
        record_id: format!("fy-{m}"),
        person_id: id.clone(),
        month: m,
        insurance: Insurance::Pension,
        region: region("341200"),
        payer: Payer::Individual,
        payer_code: None,
        base: Fen(400_000),
        amount: Fen(80_000),
        account: Some(Fen(32_000)),
        status,
        reason: None,
        paid_on: None,
    })
}

/// A worker born 1985-06-15 (male), hukou 阜阳, who paid in 阜阳 2010–2019 at 4000 yuan.
fn world(owed: bool) -> World {
    let policy = Policy::embedded().unwrap();
    let store: Box<dyn Store> = Box::new(SqliteStore::in_memory().unwrap());
    let mut origin = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.fuyang/log",
    )
    .unwrap();
    let id = resident_id("34120219850615123");
    let mut rows = vec![person(&id)];
    let mut m = month("2010-01");
    while m <= month("2019-12") {
        rows.push(contribution(&id, m, Status::Paid));
        m = YearMonth::from_index(m.index() + 1).unwrap();
    }
    if owed {
        rows.push(contribution(&id, month("2020-01"), Status::Unpaid));
    }
    origin.append(rows).unwrap();
    let fy = InstanceKey::from_seed("fuyang", [1; 32]).unwrap();
    let hz = InstanceKey::from_seed("hangzhou", [2; 32]).unwrap();
    let hz_log = anxin_ledger::Signer::from_seed("anxin.hangzhou/log", &[3; 32])
        .unwrap()
        .verifier()
        .to_vkey();
    let hz_peers = Peers::parse(&peer_entry(
        &fy,
        "http://127.0.0.1:1",
        &origin.verifier().to_vkey(),
        &[RegionCode::parse("341200").unwrap()],
    ))
    .unwrap();
    let fy_peers = Peers::parse(&peer_entry(
        &hz,
        "http://127.0.0.1:2",
        &hz_log,
        &[RegionCode::parse("330100").unwrap()],
    ))
    .unwrap();
    World {
        policy,
        origin,
        fy,
        hz,
        hz_peers,
        fy_peers,
        id,
    }
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
        medical_gap_months: None,
    }
}

/// The whole exchange up to the package: 杭州 asks, 阜阳 opens the request and answers.
fn exchange(w: &mut World) -> Result<Signed, Refusal> {
    let origin_peer = w
        .hz_peers
        .for_region(RegionCode::parse("341200").unwrap())?;
    let asked = package::liaison_request(&w.hz, origin_peer, "hangzhou:1", &w.id, request(), 0)?;
    // At 阜阳: the request checks out offline, the ID opens, the package is built.
    let (env, from) = message::open(&w.fy_peers, "fuyang", &asked)?;
    let req: LiaisonRequest = message::body(&env, Kind::LiaisonRequest)?;
    let id = package::open_identity(&w.fy, &env, &req.identity)?;
    assert_eq!(id, w.id);
    let pkg = package::build(&mut w.origin, &w.policy, from, &env, &req, &id)?;
    package::package_message(&w.fy, &env, &pkg, 1)
}

fn resign(w: &World, signed: &Signed, change: impl FnOnce(&mut Package)) -> Signed {
    let mut env: Envelope = serde_json::from_str(&signed.message).unwrap();
    let mut pkg: Package = serde_json::from_value(env.body.clone()).unwrap();
    change(&mut pkg);
    env.body = serde_json::to_value(&pkg).unwrap();
    message::sign(&w.fy, &env).unwrap()
}

fn verify(w: &World, signed: &Signed) -> Result<package::Verified, Refusal> {
    package::verify(&w.policy, &w.hz, &w.hz_peers, signed, Some(&request())).map(|(_, v)| v)
}

fn refused(r: Result<package::Verified, Refusal>, why: Why, mentions: &str) {
    let e = r.expect_err("must be refused");
    assert_eq!(e.why, why, "{e}");
    assert!(!e.zh.is_empty() && !e.en.is_empty());
    assert!(
        e.en.contains(mentions),
        "the reason names {mentions:?}: {}",
        e.en
    );
    // Personal data never in a refusal.
    assert!(!e.zh.contains("341202") && !e.en.contains("341202"));
}

#[test]
fn a_package_verifies_offline_with_the_calculators_figures() {
    let mut w = world(false);
    let signed = exchange(&mut w).unwrap();
    // The ID is not on the wire in clear.
    assert!(!signed.message.contains(w.id.expose()));
    let started = std::time::Instant::now();
    let v = verify(&w, &signed).unwrap();
    eprintln!(
        "package of {} entries: {} bytes, verified in {:?}",
        v.package.entries.len(),
        signed.message.len(),
        started.elapsed()
    );
    assert_eq!(v.id, w.id);
    // 66号 第四条: 10 years × 12 × 4000 × 12 % = 57600 yuan; the account 120 × 320 yuan.
    assert_eq!(v.result.pension.pooling_fen, Fen(5_760_000));
    assert_eq!(v.result.pension.personal_account_fen, Some(Fen(3_840_000)));
    assert_eq!(v.result.pension.months, 120);
    assert_eq!(v.months.len(), 120);
    assert_eq!(v.package.history.len(), 1);
    assert_eq!(
        v.package.entries.len(),
        121,
        "the registration and every month, proven"
    );
    assert_eq!(v.result.pension.deadline.as_deref(), Some("2026-05-08"));
}

#[test]
fn every_wrong_package_is_refused_with_its_reason() {
    let mut w = world(false);
    let good = exchange(&mut w).unwrap();

    // Altered after signing: the signature no longer verifies.
    let altered = Signed {
        message: good
            .message
            .replace("\"hukou\":\"341200\"", "\"hukou\":\"440300\""),
        signature: good.signature.clone(),
    };
    assert_ne!(altered.message, good.message);
    refused(verify(&w, &altered), Why::WrongKey, "fuyang");

    // Signed by a key that is not the peer's.
    let env: Envelope = serde_json::from_str(&good.message).unwrap();
    let impostor = InstanceKey::from_seed("fuyang", [7; 32]).unwrap();
    refused(
        verify(&w, &message::sign(&impostor, &env).unwrap()),
        Why::WrongKey,
        "listed key",
    );

    // From an instance 杭州 does not list.
    let mut stranger = env.clone();
    stranger.from = "shenzhen".into();
    let sz = InstanceKey::from_seed("shenzhen", [8; 32]).unwrap();
    refused(
        verify(&w, &message::sign(&sz, &stranger).unwrap()),
        Why::UnknownPeer,
        "shenzhen",
    );

    // Addressed to another instance.
    let mut elsewhere = env.clone();
    elsewhere.to = "ningbo".into();
    refused(
        verify(&w, &message::sign(&w.fy, &elsewhere).unwrap()),
        Why::NotForUs,
        "ningbo",
    );

    // A month's base raised in the history (and re-signed by the origin): the proven
    // entries say otherwise.
    let raised = resign(&w, &good, |p| p.history[0].base_fen = Some(Fen(500_000)));
    refused(
        verify(&w, &raised),
        Why::HistoryDiffers,
        "history.0.base_fen",
    );

    // A month dropped from the proofs: the history no longer matches.
    let dropped = resign(&w, &good, |p| {
        p.entries.pop();
    });
    refused(verify(&w, &dropped), Why::HistoryDiffers, "history.0.to");

    // An entry's data changed: its proof fails.
    let forged = resign(&w, &good, |p| {
        let e = &mut p.entries[5];
        let mut bytes = base64_decode(&e.leaf_data_base64);
        let text = String::from_utf8(bytes.clone()).unwrap();
        bytes = text.replace("400000", "900000").into_bytes();
        e.leaf_data_base64 = base64_encode(&bytes);
    });
    refused(verify(&w, &forged), Why::ProofInvalid, "entry #");

    // A proof hash flipped.
    let bad_proof = resign(&w, &good, |p| {
        p.entries[3].inclusion_proof_base64[0] = base64_encode(&[0u8; 32]);
    });
    refused(verify(&w, &bad_proof), Why::ProofInvalid, "inclusion proof");

    // The pooling fund inflated in the figures: re-running the calculator disagrees.
    let inflated = resign(&w, &good, |p| {
        p.result["pension"]["pooling_fen"] = serde_json::json!(9_999_999);
    });
    refused(
        verify(&w, &inflated),
        Why::FiguresDiffer,
        "pension.pooling_fen",
    );

    // The account balance raised beyond what the entries sum to.
    let richer = resign(&w, &good, |p| p.personal_account_fen = Some(Fen(9_000_000)));
    refused(
        verify(&w, &richer),
        Why::AccountDiffers,
        "personal_account_fen",
    );

    // The identity sealed to someone else.
    let resealed = resign(&w, &good, |p| {
        p.identity = anxin_service::transfer::keys::seal_to(
            &InstanceKey::from_seed("x", [9; 32]).unwrap().public(),
            b"",
            b"34120219850615123X",
        )
        .unwrap();
    });
    refused(
        verify(&w, &resealed),
        Why::IdentityDoesNotOpen,
        "sealed identity",
    );

    // The checkpoint signed by another log key.
    let other_log = resign(&w, &good, |p| {
        let cp = anxin_ledger::Checkpoint::parse_text(
            anxin_ledger::open_note(&p.checkpoint, w.origin.verifier()).unwrap(),
        )
        .unwrap();
        let signer = anxin_ledger::Signer::from_seed("anxin.fuyang/log", &[4; 32]).unwrap();
        p.checkpoint = anxin_ledger::sign_checkpoint(&signer, &cp).unwrap();
    });
    refused(verify(&w, &other_log), Why::CheckpointInvalid, "log key");

    // The request echoed with another date.
    let redated = resign(&w, &good, |p| p.date = "2026-03-03".into());
    refused(verify(&w, &redated), Why::HistoryDiffers, "liaison request");

    // Garbage.
    refused(
        verify(
            &w,
            &Signed {
                message: "{\"v\":1}".into(),
                signature: String::new(),
            },
        ),
        Why::Malformed,
        "malformed",
    );
    // A liaison request where a package is expected.
    let mut wrong_kind = env.clone();
    wrong_kind.kind = Kind::Ack;
    refused(
        verify(&w, &message::sign(&w.fy, &wrong_kind).unwrap()),
        Why::WrongKind,
        "expected a package",
    );

    // And the good one still verifies.
    assert!(verify(&w, &good).is_ok());
}

#[test]
fn the_origin_refuses_arrears_and_strangers() {
    let mut w = world(true);
    let e = exchange(&mut w).unwrap_err();
    assert_eq!(e.why, Why::Arrears, "{e}");
    assert!(e.en.contains("2020-01"));

    let mut w = world(false);
    w.id = resident_id("34120219900101002");
    let e = exchange(&mut w).unwrap_err();
    assert_eq!(e.why, Why::NoSuchPerson, "{e}");

    // 阜阳 does not list the sender: the request is refused before anything is read.
    let w = world(false);
    let origin_peer = w
        .hz_peers
        .for_region(RegionCode::parse("341200").unwrap())
        .unwrap();
    let asked =
        package::liaison_request(&w.hz, origin_peer, "hangzhou:1", &w.id, request(), 0).unwrap();
    let e = message::open(&Peers::default(), "fuyang", &asked).unwrap_err();
    assert_eq!(e.why, Why::UnknownPeer);
    assert!(e.en.contains("hangzhou"));
    // A region no peer keeps.
    assert_eq!(
        w.hz_peers
            .for_region(RegionCode::parse("440300").unwrap())
            .unwrap_err()
            .why,
        Why::UnknownPeer
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Both instances with real ledgers and their own data keys, through the state machine: the
/// request, the package verified at 杭州, the acknowledgement and the seal; a second request
/// while the first is open, and one after the account moved out, are refused.
#[test]
fn two_ledgers_complete_a_transfer_through_the_machine() {
    use anxin_service::transfer::ledger::LedgerBook;
    use anxin_service::transfer::machine::{Clocks, Side, State};

    let w = world(false);
    let policy = Policy::embedded().unwrap();
    let cal = &policy.calendar;
    let dest_store: Box<dyn Store> = Box::new(SqliteStore::in_memory().unwrap());
    let dest_records = Records::init(
        dest_store,
        anxin_records::Secrets {
            data_key: anxin_records::DataKey::from_secret(&[6; 32]),
            signer: anxin_ledger::Signer::from_seed("anxin.hangzhou/log", &[3; 32]).unwrap(),
        },
        Suite::Standard,
        "anxin.hangzhou/log",
    )
    .unwrap();
    let day = jiff::civil::date(2026, 3, 2);
    let clocks = Clocks::of(&policy, day).unwrap();
    let mut hz = Side::new(
        w.hz.clone(),
        w.hz_peers.clone(),
        LedgerBook::new(dest_records, &policy, w.hz.clone()),
        clocks,
    );
    let mut fy = Side::new(
        w.fy.clone(),
        w.fy_peers.clone(),
        LedgerBook::new(w.origin, &policy, w.fy.clone()),
        clocks,
    );
    let id = w.id.clone();
    let ask = |side: &mut Side<LedgerBook<'_, Box<dyn Store>>>, now: i64| {
        let id = id.clone();
        side.request(cal, "fuyang", day, now, move |book, transfer, origin| {
            book.ask(transfer, origin, &id, request())
        })
        .unwrap()
    };
    let first = ask(&mut hz, 0);
    let second = ask(&mut hz, 0);
    // Deliver everything, both ways, until nothing is left to send.
    let mut now = 0;
    for _ in 0..10 {
        let mut wire: Vec<(bool, Signed)> = Vec::new();
        wire.extend(hz.pump(now).into_iter().map(|d| (true, d.signed)));
        wire.extend(fy.pump(now).into_iter().map(|d| (false, d.signed)));
        // First sent, first delivered: the first request freezes the account before the
        // second arrives.
        while !wire.is_empty() {
            let (to_fy, signed) = wire.remove(0);
            let replies = if to_fy {
                fy.handle(cal, &signed, day, now)
            } else {
                hz.handle(cal, &signed, day, now)
            }
            .unwrap_or_default();
            wire.extend(replies.into_iter().map(|r| (!to_fy, r)));
        }
        now += 700;
    }
    assert!(hz.outbox.is_empty() && fy.outbox.is_empty());
    assert_eq!(
        hz.transfers[&first].state,
        State::Done,
        "{:?}",
        hz.transfers[&first].refusal
    );
    assert_eq!(fy.transfers[&first].state, State::Sealed);
    let second_state = &hz.transfers[&second];
    assert_eq!(second_state.state, State::Refused);
    assert_eq!(
        second_state.refusal.as_ref().map(|r| r.0.as_str()),
        Some("open_transfer")
    );
    let got = &hz.book.received[&first];
    assert_eq!(got.months.len(), 120);
    assert!(
        got.months
            .iter()
            .all(|m| m.origin == "fuyang" && m.entry >= 1)
    );
    assert_eq!(got.pension_total_fen, Some(5_760_000 + 3_840_000));
    // Pension only: no medical months, no gap given.
    assert!(got.medical.is_none());
    // 杭州 keys the person with its own secret: not 阜阳's key.
    assert_ne!(got.person, fy.book.records.person_key(&w.id));
    assert!(hz.queue(cal, day).is_empty() && fy.queue(cal, day).is_empty());

    // The voucher: signed by 杭州, carrying 阜阳's seal; checked offline with both keys.
    use anxin_service::transfer::voucher::{self, SignedVoucher};
    let done = &hz.transfers[&first];
    let issued = voucher::issue(
        &w.hz,
        &first,
        "fuyang",
        done.package.as_deref().unwrap(),
        done.seal.as_ref().unwrap(),
        got,
        "2026-03-02",
    )
    .unwrap();
    assert!(!issued.voucher.contains(w.id.expose()));
    let v = voucher::verify(&issued, &w.hz.public(), &w.fy.public()).unwrap();
    assert_eq!(v.months.len(), 1);
    assert_eq!(
        (v.months[0].first.as_str(), v.months[0].months),
        ("2010-01", 120)
    );
    assert_eq!(v.pooling_fen, 5_760_000);
    assert_eq!(v.holder, w.id.masked());
    // Altered months, another origin key, a seal of another transfer: each refused.
    let altered = SignedVoucher {
        voucher: issued.voucher.replace("\"months\":120", "\"months\":240"),
        signature: issued.signature.clone(),
    };
    assert_ne!(altered.voucher, issued.voucher);
    assert!(voucher::verify(&altered, &w.hz.public(), &w.fy.public()).is_err());
    let e = voucher::verify(&issued, &w.hz.public(), &w.hz.public()).unwrap_err();
    assert!(e.en.contains("seal is not signed"), "{e}");
    let second_seal = voucher::issue(
        &w.hz,
        &second,
        "fuyang",
        done.package.as_deref().unwrap(),
        done.seal.as_ref().unwrap(),
        got,
        "2026-03-02",
    )
    .unwrap();
    let e = voucher::verify(&second_seal, &w.hz.public(), &w.fy.public()).unwrap_err();
    assert!(e.en.contains("not this transfer's"), "{e}");

    // After the seal, 阜阳 has nothing left to move.
    let third = ask(&mut hz, now);
    for s in hz.pump(now).into_iter().map(|d| d.signed) {
        for r in fy.handle(cal, &s, day, now).unwrap() {
            hz.handle(cal, &r, day, now).unwrap();
        }
    }
    let refused = hz.transfers[&third].refusal.clone().unwrap();
    assert_eq!(refused.0, "no_such_person", "{refused:?}");
}

fn unhex32(s: &str) -> [u8; 32] {
    anxin_records::keys::unhex(s).unwrap().try_into().unwrap()
}

/// 杭州 witnesses 阜阳's log: it cosigns each checkpoint consistent with the last it saw, and
/// catches 阜阳 rolling its log back or showing another history.
#[test]
fn a_witness_cosigns_growth_and_catches_a_rollback_and_a_fork() {
    use anxin_service::transfer::witness::verify_cosignature;
    let mut w = world(false);
    let fy_peer = w.hz_peers.named("fuyang").unwrap().clone();
    let mut witness = w.hz.witness("anxin.hangzhou/witness");
    let first = w.origin.store().head().unwrap();
    let line = witness
        .observe(&fy_peer, &first.checkpoint, &[], 1_780_000_000)
        .unwrap();
    let body = anxin_ledger::open_note(&first.checkpoint, &fy_peer.log_key).unwrap();
    assert_eq!(
        verify_cosignature(witness.name(), &witness.public(), body, &line).unwrap(),
        1_780_000_000
    );
    // The cosigned note is still a valid note of 阜阳's log (other signatures are ignored).
    let cosigned = format!("{}{line}", first.checkpoint);
    assert!(anxin_ledger::open_note(&cosigned, &fy_peer.log_key).is_ok());
    // Another witness's key, or another checkpoint, does not verify.
    let other = InstanceKey::from_seed("x", [9; 32])
        .unwrap()
        .witness("anxin.hangzhou/witness");
    assert!(verify_cosignature(witness.name(), &other.public(), body, &line).is_err());

    // The log grows: cosigned with the consistency proof.
    w.origin
        .append(vec![contribution(&w.id, month("2020-02"), Status::Paid)])
        .unwrap();
    let second = w.origin.store().head().unwrap();
    let proof = anxin_service::proofs::consistency(&mut w.origin, first.size, None).unwrap();
    let hashes: Vec<[u8; 32]> = proof
        .consistency_proof_hex
        .iter()
        .map(|h| unhex32(h))
        .collect();
    witness
        .observe(&fy_peer, &second.checkpoint, &hashes, 1_780_000_100)
        .unwrap();
    // The same checkpoint again needs no proof.
    assert!(
        witness
            .observe(&fy_peer, &second.checkpoint, &[], 1)
            .is_ok()
    );
    // A larger one without its proof is not cosigned.
    let mut grown = world(false).origin;
    grown
        .append(vec![
            contribution(&w.id, month("2020-02"), Status::Paid),
            contribution(&w.id, month("2020-03"), Status::Paid),
        ])
        .unwrap();
    let third = grown.store().head().unwrap();
    assert!(third.size > second.size);
    let e = witness
        .observe(&fy_peer, &third.checkpoint, &[], 1)
        .unwrap_err();
    assert_eq!(e.why, Why::Fork, "{e}");
    assert_eq!(witness.seen["fuyang"].size, second.size);

    // Rolled back to the first checkpoint: refused, and the witness keeps the larger one.
    let e = witness
        .observe(&fy_peer, &first.checkpoint, &[], 1_780_000_200)
        .unwrap_err();
    assert_eq!(e.why, Why::Rollback, "{e}");
    assert!(e.en.contains("rolled back"));
    assert_eq!(witness.seen["fuyang"].size, second.size);

    // Another history signed by the same key: a log that dropped the last month and wrote
    // something else, at the same size.
    let mut fork = world(false).origin;
    fork.append(vec![contribution(&w.id, month("2021-05"), Status::Paid)])
        .unwrap();
    let forked = fork.store().head().unwrap();
    assert_eq!(forked.size, second.size);
    let e = witness
        .observe(&fy_peer, &forked.checkpoint, &[], 1)
        .unwrap_err();
    assert_eq!(e.why, Why::Fork, "{e}");
    // Larger, with a proof from the forked history: the proof does not tie it to what was seen.
    fork.append(vec![contribution(&w.id, month("2021-06"), Status::Paid)])
        .unwrap();
    let bigger = fork.store().head().unwrap();
    let p = anxin_service::proofs::consistency(&mut fork, second.size, None).unwrap();
    let hashes: Vec<[u8; 32]> = p.consistency_proof_hex.iter().map(|h| unhex32(h)).collect();
    let e = witness
        .observe(&fy_peer, &bigger.checkpoint, &hashes, 1)
        .unwrap_err();
    assert_eq!(e.why, Why::Fork, "{e}");
    // A checkpoint by another key is not 阜阳's at all.
    let stranger = anxin_ledger::Signer::from_seed("anxin.fuyang/log", &[4; 32]).unwrap();
    let cp = anxin_ledger::Checkpoint::parse_text(body).unwrap();
    let forged = anxin_ledger::sign_checkpoint(&stranger, &cp).unwrap();
    assert_eq!(
        witness.observe(&fy_peer, &forged, &[], 1).unwrap_err().why,
        Why::CheckpointInvalid
    );
}

/// No input makes verification panic, and none but the original passes: 200 packages with
/// one value changed anywhere (numbers made huge, negative or zero, strings replaced, arrays
/// cut), each re-signed by the origin so the checks beyond the signature run.
#[test]
fn mutated_packages_are_refused_without_panic() {
    use serde_json::Value;
    let mut w = world(false);
    let good = exchange(&mut w).unwrap();
    let env: Envelope = serde_json::from_str(&good.message).unwrap();
    let mut seed = 0x00C0_FFEEu64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(k.clone());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                out.push(path.clone());
                for (i, x) in a.iter().enumerate().take(3) {
                    path.push(i.to_string());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut paths = Vec::new();
    leaves(&env.body, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 100, "{} places to change", paths.len());
    let mut refused: std::collections::BTreeMap<&'static str, u32> = Default::default();
    for _ in 0..200 {
        let mut body = env.body.clone();
        let path = &paths[(next() % paths.len() as u64) as usize];
        let mut at = &mut body;
        for p in path {
            at = match at {
                Value::Object(m) => m.get_mut(p).unwrap(),
                Value::Array(a) => &mut a[p.parse::<usize>().unwrap()],
                _ => unreachable!(),
            };
        }
        let before = at.clone();
        *at = match (next() % 6, &before) {
            (_, Value::Array(a)) if !a.is_empty() => Value::Array(a[..a.len() - 1].to_vec()),
            (0, _) => Value::from(i64::MAX),
            (1, _) => Value::from(-1),
            (2, _) => Value::from(0),
            (3, _) => Value::from("2026-13-45"),
            (4, _) => Value::Null,
            _ => Value::from("\u{202e}341200 ✗ 𝕏"),
        };
        if *at == before {
            continue;
        }
        let mut changed = env.clone();
        changed.body = body;
        let signed = message::sign(&w.fy, &changed).unwrap();
        match verify(&w, &signed) {
            Err(e) => *refused.entry(e.why.code()).or_default() += 1,
            // A change the checks cannot see must be one that changes nothing checked: the
            // trace's explanatory words, say, are re-computed and compared too, so none.
            Ok(_) => panic!("accepted a package with {} changed", path.join(".")),
        }
    }
    eprintln!("refusals by reason: {refused:?}");
    assert!(
        refused.len() >= 5,
        "many different checks fired: {refused:?}"
    );
}
