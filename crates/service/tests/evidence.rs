//! Evidence for a complaint end to end on a real SQLite file: the upload rules as data
//! (`data/evidence.toml`: types against content, sizes, counts, totals; a refusal stores
//! nothing), who may attach and when, encryption at rest, and the evidence bundle verified
//! offline with the log's public key alone — one changed byte in any file is named.

use std::path::{Path, PathBuf};

use anxin_domain::TestClock;
use anxin_policy::Policy;
use anxin_records::access::{AccountRow, Role};
use anxin_records::audit::AuditScope;
use anxin_records::conformance::{person, resident_id, secrets};
use anxin_records::log::Suite;
use anxin_records::{Records, Store};
use anxin_service::access::Actor;
use anxin_service::cases::evidence::{self, Bundle, Upload};
use anxin_service::cases::{self, CaseError, Engine, FileRequest, Kinds};
use anxin_store_sqlite::SqliteStore;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    request: Vec<Request>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    name: String,
    want: String,
    files: Vec<FileSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: String,
    content_type: Option<String>,
    content: String,
    size: toml::Value,
}

const MAX: usize = 10 * 1024 * 1024;

fn make(spec: &FileSpec) -> Upload {
    let size = match &spec.size {
        toml::Value::Integer(n) => *n as usize,
        toml::Value::String(s) if s == "max" => MAX,
        toml::Value::String(s) if s == "max+1" => MAX + 1,
        other => panic!("size {other:?}"),
    };
    let head: &[u8] = match spec.content.as_str() {
        "jpeg" => &[0xFF, 0xD8, 0xFF, 0xE0],
        "png" => &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
        "pdf" => b"%PDF-1.7\n",
        "text" => "2026-03-01 站长：这个月工资下周发\n".as_bytes(),
        "binary" => &[0x4D, 0x5A, 0x00, 0x01],
        "empty" => b"",
        other => panic!("content {other}"),
    };
    let mut bytes = Vec::with_capacity(size);
    while bytes.len() < size {
        let fill: &[u8] = if bytes.is_empty() {
            head
        } else if spec.content == "text" {
            b"ok "
        } else {
            &[0x00, 0x41]
        };
        bytes.extend_from_slice(fill);
    }
    bytes.truncate(size);
    Upload {
        name: spec.name.clone(),
        content_type: spec.content_type.clone(),
        bytes,
    }
}

/// A database path in a fresh directory, which is removed when the first value is dropped.
fn temp_db(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("anxin-evidence-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().join("anxin.db");
    (dir, path)
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

fn account(role: Role, region: Option<u32>, person: Option<[u8; 32]>) -> AccountRow {
    AccountRow {
        id: 3,
        username: "t".into(),
        role: role.as_str().into(),
        region,
        person,
        org: None,
        password_hash: String::new(),
        created_at: 0,
    }
}

struct World {
    path: PathBuf,
    records: Records<Box<dyn Store>>,
    me: [u8; 32],
    other: [u8; 32],
    clock: TestClock,
    /// Removes the database's directory when the world is dropped (after the records).
    _dir: tempfile::TempDir,
}

fn world(name: &str) -> World {
    let (dir, path) = temp_db(name);
    let mut records = init(&path);
    let a = resident_id("33010619900101123");
    let b = resident_id("33010619920202234");
    records.append(vec![person(&a), person(&b)]).unwrap();
    World {
        _dir: dir,
        path,
        me: records.person_key(&a).0,
        other: records.person_key(&b).0,
        records,
        clock: TestClock::at("2026-03-02T02:00:00Z".parse::<Timestamp>().unwrap()),
    }
}

fn file_case(w: &mut World, engine: &Engine<'_>) -> String {
    w.clock.advance(jiff::SignedDuration::from_secs(1));
    let acc = account(Role::Worker, None, Some(w.me));
    cases::file(
        &mut w.records,
        engine,
        Actor::new(&acc, Role::Worker),
        &FileRequest {
            kind: "complaint".into(),
            subject: "unpaid_wages".into(),
            party: "某外卖平台（示例）".into(),
            months: Vec::new(),
            terms: None,
        },
        &w.clock,
    )
    .unwrap()
    .id
}

fn refusal(e: &CaseError) -> String {
    match e {
        CaseError::Denied(d) => format!("{:?}: {} / {}", d.why, d.zh, d.en),
        CaseError::Records(e) => {
            assert_eq!(e.kind(), anxin_domain::ErrorKind::Refused, "{e}");
            format!("{e}")
        }
    }
}

#[test]
fn uploads_follow_the_rules_and_a_refusal_stores_nothing() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let data: Data = toml::from_str(include_str!("data/evidence.toml")).unwrap();
    assert!(data.request.len() >= 10);
    let mut w = world("rules");
    let mut failures = Vec::new();
    for r in &data.request {
        let id = file_case(&mut w, &engine);
        let uploads: Vec<Upload> = r.files.iter().map(make).collect();
        let size = w.records.store().head().unwrap().size;
        let acc = account(Role::Worker, None, Some(w.me));
        let got = evidence::attach(
            &mut w.records,
            &engine,
            Actor::new(&acc, Role::Worker),
            &id,
            &uploads,
            &w.clock,
        );
        match (&got, r.want.as_str()) {
            (Ok(list), "ok") => {
                if list.len() != uploads.len() {
                    failures.push(format!("{}: {} files listed", r.name, list.len()));
                }
                for (v, u) in list.iter().zip(&uploads) {
                    let want = evidence::sniff(&u.bytes).unwrap().mime();
                    if v.media_type != want || v.size != u.bytes.len() as u64 {
                        failures.push(format!("{}: listed {v:?}", r.name));
                    }
                }
            }
            (Ok(_), want) => failures.push(format!("{}: accepted, wanted {want:?}", r.name)),
            (Err(e), "ok") => failures.push(format!("{}: refused: {}", r.name, refusal(e))),
            (Err(e), want) => {
                let text = refusal(e);
                let chinese = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                if !text.contains(want) || !chinese {
                    failures.push(format!("{}: got {text:?}, wanted {want:?}", r.name));
                }
                // Refused: nothing stored, nothing in the log; no file name in the error.
                if w.records.store().head().unwrap().size != size {
                    failures.push(format!("{}: the log grew", r.name));
                }
                if !w
                    .records
                    .store()
                    .case_evidence_of(&id, false)
                    .unwrap()
                    .is_empty()
                {
                    failures.push(format!("{}: rows stored", r.name));
                }
                for u in &uploads {
                    if u.name.chars().count() > 3 && text.contains(&u.name) {
                        failures.push(format!("{}: the error names the file", r.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let report = w
        .records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[test]
fn only_the_filer_attaches_and_only_while_the_case_is_open() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let mut w = world("who");
    let id = file_case(&mut w, &engine);
    let photo = Upload {
        name: "p.jpg".into(),
        content_type: None,
        bytes: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
    };
    let me = account(Role::Worker, None, Some(w.me));
    let other = account(Role::Worker, None, Some(w.other));
    let inspector = account(Role::Inspector, Some(330100), None);
    let attach = |w: &mut World, acc: &AccountRow| {
        let role = Role::parse(&acc.role).unwrap();
        evidence::attach(
            &mut w.records,
            &engine,
            Actor::new(acc, role),
            &id,
            std::slice::from_ref(&photo),
            &w.clock,
        )
    };
    for (who, acc, want) in [
        ("another worker", &other, "NotOwner"),
        ("the inspector", &inspector, "Role"),
    ] {
        match attach(&mut w, acc) {
            Err(CaseError::Denied(d)) => assert_eq!(format!("{:?}", d.why), want, "{who}"),
            r => panic!("{who}: {r:?}"),
        }
    }
    assert_eq!(attach(&mut w, &me).unwrap().len(), 1);
    // The other worker may not read the list or the file; the inspector of the region may.
    let read = |w: &mut World, acc: &AccountRow| {
        let role = Role::parse(&acc.role).unwrap();
        evidence::download(
            &mut w.records,
            &engine,
            Actor::new(acc, role),
            &id,
            1,
            &w.clock,
        )
    };
    assert!(matches!(read(&mut w, &other), Err(CaseError::Denied(_))));
    let (view, bytes) = read(&mut w, &inspector).unwrap();
    assert_eq!((view.name.as_str(), bytes), ("p.jpg", photo.bytes.clone()));
    assert!(read(&mut w, &me).is_ok());
    // The inspector's download is in the worker's access log, with the case as its purpose;
    // the worker's own is not.
    let reads = w.records.store().access_to(&w.me, None, 50).unwrap();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].what, "case_evidence");
    assert!(reads[0].purpose.contains(&id));
    // Withdrawn: no more evidence, and nothing stored.
    let role = Role::Worker;
    cases::act(
        &mut w.records,
        &engine,
        Actor::new(&me, role),
        &id,
        "withdraw",
        None,
        &w.clock,
    )
    .unwrap();
    match attach(&mut w, &me) {
        Err(CaseError::Denied(d)) => assert_eq!(format!("{:?}", d.why), "State"),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        w.records
            .store()
            .case_evidence_of(&id, false)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn evidence_is_sealed_at_rest() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let mut w = world("sealed");
    let path = w.path.clone();
    let id = file_case(&mut w, &engine);
    let marker = "SECRET-CHAT-MARKER 站长说工资不发了";
    let acc = account(Role::Worker, None, Some(w.me));
    evidence::attach(
        &mut w.records,
        &engine,
        Actor::new(&acc, Role::Worker),
        &id,
        &[Upload {
            name: "MARKER-NAME-聊天.txt".into(),
            content_type: Some("text/plain; charset=utf-8".into()),
            bytes: marker.as_bytes().to_vec(),
        }],
        &w.clock,
    )
    .unwrap();
    // Close the database, keeping its directory to read the files.
    let World { records, _dir, .. } = w;
    drop(records);
    let mut raw = Vec::new();
    for suffix in ["", "-wal"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(b) = std::fs::read(&p) {
            raw.extend(b);
        }
    }
    assert!(!raw.is_empty());
    for needle in ["SECRET-CHAT-MARKER", "MARKER-NAME"] {
        assert!(
            !raw.windows(needle.len()).any(|x| x == needle.as_bytes()),
            "{needle} is in the database file in clear"
        );
    }
}

#[test]
fn the_bundle_verifies_offline_and_names_a_changed_file() {
    let policy = Policy::embedded().unwrap();
    let kinds = Kinds::embedded().unwrap();
    let engine = Engine {
        policy: &policy,
        kinds: &kinds,
        reforms: &[],
    };
    let mut w = world("bundle");
    let id = file_case(&mut w, &engine);
    let me = account(Role::Worker, None, Some(w.me));
    let inspector = account(Role::Inspector, Some(330100), None);
    let chat = "2026-03-01 站长：这个月工资下周发\n2026-03-08 站长：再等等\n";
    let photo: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
        .into_iter()
        .chain((0..3000u32).map(|i| (i % 251) as u8))
        .collect();
    evidence::attach(
        &mut w.records,
        &engine,
        Actor::new(&me, Role::Worker),
        &id,
        &[
            Upload {
                name: "工资条.jpg".into(),
                content_type: Some("image/jpeg".into()),
                bytes: photo.clone(),
            },
            Upload {
                name: "聊天记录.txt".into(),
                content_type: None,
                bytes: chat.as_bytes().to_vec(),
            },
        ],
        &w.clock,
    )
    .unwrap();
    cases::act(
        &mut w.records,
        &engine,
        Actor::new(&inspector, Role::Inspector),
        &id,
        "accept",
        None,
        &w.clock,
    )
    .unwrap();
    // The union of another region may not have it; the inspector may.
    let far_union = account(Role::Union, Some(330200), None);
    assert!(matches!(
        evidence::bundle(
            &mut w.records,
            &engine,
            Actor::new(&far_union, Role::Union),
            &id,
            &w.clock
        ),
        Err(CaseError::Denied(_))
    ));
    let bundle = evidence::bundle(
        &mut w.records,
        &engine,
        Actor::new(&inspector, Role::Inspector),
        &id,
        &w.clock,
    )
    .unwrap();
    let bytes = bundle.to_bytes();
    // The bundle holds the worker's certificate: the inspector's read is in their access log.
    let reads = w.records.store().access_to(&w.me, None, 50).unwrap();
    assert!(
        reads
            .iter()
            .any(|r| r.what == "case_bundle" && r.purpose.contains(&id)),
        "{reads:?}"
    );
    let verifier = w.records.verifier().clone();
    let v = evidence::verify_bundle(&bytes, &verifier);
    assert!(v.ok(), "{:#?}", v.checks);
    let m = v.manifest.as_ref().unwrap();
    assert_eq!(m.files.len(), 2);
    assert_eq!(m.steps.len(), 2, "filed, accepted");
    assert_eq!(m.state, "accepted");
    // Every step and every file has its proven entry.
    assert_eq!(bundle.entries.len(), 4);

    // One changed byte in each file, anywhere: that file, and only it, is named.
    for (k, name) in [(0usize, "工资条.jpg"), (1, "聊天记录.txt")] {
        let content = BASE64.decode(&bundle.files[k].content).unwrap();
        for at in [0, content.len() / 2, content.len() - 1] {
            let mut b: Bundle = bundle.clone();
            let mut c = content.clone();
            c[at] ^= 0x01;
            b.files[k].content = BASE64.encode(&c);
            let v = evidence::verify_bundle(&b.to_bytes(), &verifier);
            assert!(!v.ok());
            let failed: Vec<String> = v.failed().map(|c| c.zh.clone()).collect();
            assert_eq!(failed.len(), 1, "{failed:?}");
            assert!(failed[0].contains(name), "{failed:?} should name {name}");
        }
    }
    // A changed byte in the raw file inside a file's base64 is also named.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let start = text.find(&bundle.files[1].content).unwrap();
    let mut raw = bytes.clone();
    let at = start + 5;
    raw[at] = if raw[at] == b'A' { b'B' } else { b'A' };
    let v = evidence::verify_bundle(&raw, &verifier);
    let failed: Vec<String> = v
        .failed()
        .map(|c| format!("{} {}", c.zh, c.detail))
        .collect();
    assert!(
        failed.iter().any(|f| f.contains("聊天记录.txt")),
        "{failed:?}"
    );
    assert!(
        !failed.iter().any(|f| f.contains("工资条.jpg")),
        "{failed:?}"
    );

    // A changed manifest (a file's name) breaks the signature.
    let mut b = bundle.clone();
    b.manifest = b.manifest.replace("工资条.jpg", "工资条.jpq");
    let v = evidence::verify_bundle(&b.to_bytes(), &verifier);
    assert!(v.failed().any(|c| c.en == "manifest signature"));
    // A changed step entry fails its proof.
    let mut b = bundle.clone();
    b.entries[0].event = b.entries[0].event.replace("unpaid_wages", "other");
    let v = evidence::verify_bundle(&b.to_bytes(), &verifier);
    assert!(v.failed().any(|c| c.en.starts_with("log entry #")));
    // Another deployment's key (same name, other secret) verifies nothing: neither the
    // manifest, nor the checkpoint, nor the certificate.
    let stranger = anxin_ledger::Signer::from_seed("anxin.test/log", &[1; 32])
        .unwrap()
        .verifier();
    let v = evidence::verify_bundle(&bytes, &stranger);
    for what in [
        "manifest signature",
        "checkpoint signature",
        "contribution-history certificate",
    ] {
        assert!(v.failed().any(|c| c.en == what), "{what}: {:#?}", v.checks);
    }
    // Not a bundle, an empty file, garbage: refused with a check, no panic.
    for junk in [&b""[..], b"{}", b"\xff\xfe", b"[1,2,3]"] {
        let v = evidence::verify_bundle(junk, &verifier);
        assert!(!v.ok());
    }
    // Pretty-printed is not the file: canonical bytes are required.
    let pretty = serde_json::to_vec_pretty(&bundle).unwrap();
    assert!(!evidence::verify_bundle(&pretty, &verifier).ok());

    let report = w
        .records
        .audit(None, AuditScope { projections: true })
        .unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}
