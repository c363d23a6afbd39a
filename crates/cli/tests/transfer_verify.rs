//! `anxin transfer key` and `anxin transfer verify` as an operator runs them: 杭州's data
//! directory gets its federation key and lists 阜阳 as a peer; a package 阜阳 built from its
//! own ledger (in this process) verifies offline with the figures; the same package with a
//! raised base, or from an unlisted instance, is refused with its reason and a non-zero exit.

mod support;

use anxin_domain::{CreditCode, EmploymentForm, Fen, Insurance, Payer, RegionCode, Status};
use anxin_domain::{ResidentId, YearMonth};
use anxin_records::log::Suite;
use anxin_records::{ContributionInput, DataKey, Input, PersonInput, Records, Secrets, Store};
use anxin_service::transfer::keys::{InstanceKey, Peers, peer_entry};
use anxin_service::transfer::message::{self, Envelope, Kind};
use anxin_service::transfer::package::{self, LiaisonRequest, Package};

fn anxin(args: &[&str]) -> (i32, String, String) {
    let out = support::command(args).output().expect("run anxin");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn region(c: &str) -> RegionCode {
    RegionCode::parse(c).unwrap()
}

/// 阜阳's ledger: a worker (hukou 阜阳) who paid 2010–2019 at 4000 yuan.
fn origin(id: &ResidentId) -> Records<Box<dyn Store>> {
    let store: Box<dyn Store> = Box::new(anxin_store_sqlite::SqliteStore::in_memory().unwrap());
    let secrets = Secrets {
        data_key: DataKey::from_secret(&[5; 32]),
        signer: anxin_ledger::Signer::from_seed("anxin.fuyang/log", &[9; 32]).unwrap(),
    };
    let mut r = Records::init(store, secrets, Suite::Standard, "anxin.fuyang/log").unwrap();
    let mut rows = vec![Input::Person(PersonInput {
        person_id: id.clone(),
        name: "张三".into(),
        hukou_region: Some(region("341200")),
        residence_region: region("341200"),
        employment_form: EmploymentForm::Flexible,
        platforms: Vec::<CreditCode>::new(),
        permit_region: None,
        permit_since: None,
        household: None,
        record_id: None,
    })];
    let mut m = YearMonth::parse("2010-01").unwrap();
    while m <= YearMonth::parse("2019-12").unwrap() {
        rows.push(Input::Contribution(ContributionInput {
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
            status: Status::Paid,
            reason: None,
            paid_on: None,
        }));
        m = YearMonth::from_index(m.index() + 1).unwrap();
    }
    r.append(rows).unwrap();
    r
}

#[test]
fn an_operator_verifies_a_package_offline() {
    let dir = tempfile_dir();
    let data = dir.join("hz");
    let data_s = data.to_str().unwrap();
    let (code, _, err) = anxin(&["init", "--data", data_s]);
    assert_eq!(code, 0, "{err}");
    let (code, entry, err) = anxin(&[
        "transfer",
        "key",
        "--data",
        data_s,
        "--name",
        "hangzhou",
        "--url",
        "http://127.0.0.1:8080",
        "--region",
        "330100",
    ]);
    assert_eq!(code, 0, "{err}");
    // The printed entry is a valid peers file naming 杭州's key.
    let hz = Peers::parse(&entry).unwrap().peers.remove(0);
    assert_eq!(hz.name, "hangzhou");
    assert!(hz.serves(region("330100")));
    // The same key the second time.
    let (_, again, _) = anxin(&[
        "transfer",
        "key",
        "--data",
        data_s,
        "--name",
        "hangzhou",
        "--url",
        "http://127.0.0.1:8080",
        "--region",
        "330100",
    ]);
    assert_eq!(again, entry);

    // 阜阳 builds a package for 杭州 from its ledger.
    let id = ResidentId::complete("34120219850615123").unwrap();
    let mut records = origin(&id);
    let fy = InstanceKey::from_seed("fuyang", [1; 32]).unwrap();
    std::fs::write(
        data.join("peers.toml"),
        peer_entry(
            &fy,
            "http://127.0.0.1:8081",
            &records.verifier().to_vkey(),
            &[region("341200")],
        ),
    )
    .unwrap();
    let request_env = Envelope {
        v: 1,
        kind: Kind::LiaisonRequest,
        from: "hangzhou".into(),
        to: "fuyang".into(),
        transfer: "hangzhou:1".into(),
        idem: "hangzhou:1:request".into(),
        at: 0,
        body: serde_json::Value::Null,
    };
    let request = LiaisonRequest {
        identity: String::new(),
        from_region: "341200".into(),
        to_region: "330100".into(),
        date: "2026-03-02".into(),
        elsewhere: vec![],
        approved_transfer: false,
        medical_gap_months: None,
    };
    let policy = anxin_policy::Policy::embedded().unwrap();
    let pkg = package::build(&mut records, &policy, &hz, &request_env, &request, &id).unwrap();
    let signed = package::package_message(&fy, &request_env, &pkg, 0).unwrap();
    let file = dir.join("package.json");
    std::fs::write(&file, signed.to_json()).unwrap();
    let file_s = file.to_str().unwrap();

    let verify = |lang: &str, f: &str| {
        anxin(&[
            "--lang", lang, "transfer", "verify", "--data", data_s, "--name", "hangzhou", f,
        ])
    };
    let (code, out, err) = verify("zh", file_s);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("转移包核验通过"), "{out}");
    assert!(out.contains("121"), "every entry proven: {out}");
    assert!(out.contains("57600"), "the pooling fund: {out}");
    assert!(!out.contains(id.expose()), "the ID only masked");
    let (code, out, _) = verify("en", file_s);
    assert_eq!(code, 0);
    assert!(out.contains("Transfer package verified"), "{out}");

    // A raised base, re-signed by 阜阳: refused, the reason names the field.
    let mut env: Envelope = serde_json::from_str(&signed.message).unwrap();
    let mut changed: Package = serde_json::from_value(env.body.clone()).unwrap();
    changed.history[0].base_fen = Some(Fen(500_000));
    env.body = serde_json::to_value(&changed).unwrap();
    let tampered = dir.join("tampered.json");
    std::fs::write(&tampered, message::sign(&fy, &env).unwrap().to_json()).unwrap();
    let (code, out, err) = verify("zh", tampered.to_str().unwrap());
    assert_ne!(code, 0);
    assert!(out.is_empty(), "nothing certified: {out}");
    assert!(err.contains("history.0.base_fen"), "{err}");
    assert!(err.contains("缴费历史"), "Chinese first: {err}");

    // From an instance 杭州 does not list.
    let mut env: Envelope = serde_json::from_str(&signed.message).unwrap();
    env.from = "shenzhen".into();
    let sz = InstanceKey::from_seed("shenzhen", [4; 32]).unwrap();
    let stranger = dir.join("stranger.json");
    std::fs::write(&stranger, message::sign(&sz, &env).unwrap().to_json()).unwrap();
    let (code, _, err) = verify("en", stranger.to_str().unwrap());
    assert_ne!(code, 0);
    assert!(
        err.contains("shenzhen") && err.contains("peers.toml"),
        "{err}"
    );

    // Garbage.
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let (code, _, err) = verify("en", garbage.to_str().unwrap());
    assert_ne!(code, 0);
    assert!(err.contains("malformed"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-transfer-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
