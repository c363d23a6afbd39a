//! The records commands as a clerk runs them: init, import, person show, certificates,
//! proofs and the audit — then the same data damaged with the `sqlite3` tool, and an import
//! killed with SIGKILL at random points.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use support::{POSTGRES, Scratch, anxin_in, id, psql, scratch};

fn worker(n: u32) -> String {
    id(&format!("3401021990{:07}", 1_010_000 + n))
}

/// A name without digits (the import refuses digits in names): 工人一二 for 12.
fn person_name(n: u32) -> String {
    let digits = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    format!(
        "工人{}",
        n.to_string()
            .chars()
            .map(|c| digits[c.to_digit(10).unwrap() as usize])
            .collect::<String>()
    )
}

const PLATFORM: &str = "91350100M000100Y43";

/// A data directory with one platform, `persons` workers and `months` months of pension each.
fn populated(name: &str, persons: u32, months: u32) -> (Scratch, PathBuf) {
    populated_on(name, persons, months, None)
}

fn populated_on(
    name: &str,
    persons: u32,
    months: u32,
    database: Option<&str>,
) -> (Scratch, PathBuf) {
    let root = scratch("cli", name);
    let data = root.join("data");
    let mut init = vec!["init"];
    if let Some(url) = database {
        init.extend(["--database", url]);
    }
    let (code, out, err) = anxin_in(&data, &init);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(
        root.join("orgs.csv"),
        format!("统一社会信用代码,名称,类型,地区\n{PLATFORM},某外卖平台,平台,杭州\n"),
    )
    .unwrap();
    let mut p = String::from("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n");
    for n in 0..persons {
        p.push_str(&format!(
            "{},{},阜阳,杭州,多平台,{PLATFORM},杭州,2023-03-01\n",
            worker(n),
            person_name(n)
        ));
    }
    std::fs::write(root.join("persons.csv"), p).unwrap();
    let mut c = String::from(
        "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n",
    );
    for n in 0..persons {
        for m in 0..months {
            let month = format!("{}-{:02}", 2024 + m / 12, m % 12 + 1);
            let (payer, code) = if m % 3 == 0 {
                ("platform", PLATFORM)
            } else {
                ("self", "")
            };
            c.push_str(&format!(
                "r-{n}-{m},{},{month},pension,330100,{payer},{code},4812,962.40,paid\n",
                worker(n)
            ));
        }
    }
    std::fs::write(root.join("contributions.csv"), c).unwrap();
    for kind in ["orgs", "persons", "contributions"] {
        let file = root.join(format!("{kind}.csv"));
        let (code, out, err) = anxin_in(&data, &["import", kind, file.to_str().unwrap()]);
        assert_eq!(code, 0, "{kind}: {out}{err}");
        assert!(out.contains("拒收 0"), "{kind}: {out}");
    }
    (root, data)
}

#[test]
fn import_show_certify_prove_audit() {
    let (root, data) = populated("story", 3, 14);
    // Importing again changes nothing.
    let file = root.join("contributions.csv");
    let (code, out, _) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("新增 0，已存在未变 42，拒收 0"), "{out}");

    // A file with broken rows: the good ones land, each bad one is reported with its reason.
    let bad = root.join("bad.csv");
    let broken = format!(
        "{}{}",
        &worker(1)[..17],
        if worker(1).ends_with('0') { '1' } else { '0' }
    );
    std::fs::write(
        &bad,
        format!(
            "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n\
             ok-1,{w},2025-03,pension,330100,self,,4812,962.40,paid\n\
             bad-id,{broken},2025-03,pension,330100,self,,4812,962.40,paid\n\
             bad-decimals,{w},2025-04,pension,330100,self,,4812,962.401,paid\n\
             bad-future,{w},2027-01,pension,330100,self,,4812,962.40,paid\n\
             bad-region,{w},2025-05,pension,990100,self,,4812,962.40,paid\n\
             r-0-0,{w},2024-01,pension,330100,self,,4812,1.00,paid\n\
             unknown-person,{stranger},2025-03,pension,330100,self,,4812,962.40,paid\n",
            w = worker(0),
            stranger = worker(99),
        ),
    )
    .unwrap();
    let report = root.join("bad.report.csv");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "import",
            "contributions",
            bad.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("新增 1") && out.contains("拒收 6"), "{out}");
    let text = std::fs::read_to_string(&report).unwrap();
    for (row, column) in [
        (3, "person_id"),
        (4, "amount"),
        (5, "month"),
        (6, "region"),
        (7, "record_id"),
        (8, "person_id"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{row},")) && l.contains(column)),
            "row {row} column {column} in report:\n{text}"
        );
    }
    assert!(
        !text.contains(&worker(1)[..17]),
        "no clear ID in the report:\n{text}"
    );

    // The personal work account.
    let (code, out, err) = anxin_in(&data, &["person", "show", &worker(0)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&person_name(0)) && out.contains("累计 15 个月"),
        "{out}"
    );
    assert!(out.contains("按缴费方：") && out.contains("平台"), "{out}");
    let (code, out, _) = anxin_in(
        &data,
        &["--lang", "en", "person", "show", &worker(0), "--months"],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("15 months in all") && out.contains("2025-03"),
        "{out}"
    );
    let (code, out, _) = anxin_in(&data, &["--json", "person", "show", &worker(1)]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["months"].as_array().unwrap().len(), 14);
    assert!(!out.contains(&worker(1)), "JSON shows the masked ID only");
    let (code, _, err) = anxin_in(&data, &["person", "show", &worker(98)]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = anxin_in(&data, &["person", "show", "12345"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("身份证号无效") && err.contains("invalid resident ID"),
        "{err}"
    );

    // A certificate, verified offline with only the public key, and every kind of damage.
    let out_dir = root.join("certs");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "cert",
            "issue",
            &worker(2),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let cert = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let html = std::fs::read_to_string(cert.with_extension("html")).unwrap();
    assert!(
        html.contains("参保缴费凭证") && html.contains("<svg") && html.contains(&person_name(2))
    );
    let vkey = data.join("keys/log.vkey");
    let elsewhere = scratch("cli", "verify-elsewhere");
    let (code, out, err) = anxin_in(
        &elsewhere,
        &[
            "verify",
            cert.to_str().unwrap(),
            "--key",
            vkey.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("凭证有效"), "{out}");
    let bytes = std::fs::read(&cert).unwrap();
    let altered = root.join("altered.json");
    let text = String::from_utf8(bytes.clone()).unwrap();
    let changed = text.replacen("96240", "96241", 1);
    assert_ne!(changed, text);
    std::fs::write(&altered, changed).unwrap();
    let (code, out, _) = anxin_in(
        &elsewhere,
        &[
            "verify",
            altered.to_str().unwrap(),
            "--key",
            vkey.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 7);
    assert!(
        out.contains("✗ 文件签名") && out.contains("✗ 日志条目记录了此文件"),
        "{out}"
    );
    assert!(
        out.contains("✓ 检查点签名"),
        "only what changed fails:\n{out}"
    );
    let other_root = scratch("cli", "other-issuer");
    let other = other_root.join("d");
    assert_eq!(anxin_in(&other, &["init"]).0, 0);
    let (code, out, _) = anxin_in(
        &elsewhere,
        &[
            "verify",
            cert.to_str().unwrap(),
            "--key",
            other.join("keys/log.vkey").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 7, "another issuer's key must not verify it: {out}");

    // Proofs and the signed head.
    let (code, out, _) = anxin_in(&data, &["log", "checkpoint"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("anxin.local/log\n"), "{out}");
    let (code, out, err) = anxin_in(&data, &["log", "prove", "--key", "r-1-5"]);
    assert_eq!(code, 0, "{err}");
    let bundle = anxin_ledger::Bundle::from_json(&out).unwrap();
    let verifier =
        anxin_ledger::Verifier::from_vkey(std::fs::read_to_string(&vkey).unwrap().trim()).unwrap();
    let proven = bundle.verify(&verifier).unwrap();
    assert!(
        String::from_utf8(proven.leaf_data.unwrap())
            .unwrap()
            .contains("\"key\":\"r-1-5\"")
    );
    let (code, out, err) = anxin_in(&data, &["log", "prove", "--from", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("consistency_proof_hex"));
    assert_eq!(anxin_in(&data, &["log", "prove", "--seq", "100000"]).0, 3);

    let (code, out, err) = anxin_in(&data, &["audit"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("✓"), "{out}");
}

#[test]
fn bad_input_is_refused_clearly() {
    let root = scratch("cli", "bad");
    let data = root.join("data");
    let (code, _, err) = anxin_in(&data, &["person", "show", &worker(0)]);
    assert_eq!(code, 3, "no data directory yet: {err}");
    assert!(err.contains("anxin init"), "{err}");
    assert_eq!(anxin_in(&data, &["init", "--suite", "rot13"]).0, 2);
    assert_eq!(anxin_in(&data, &["init"]).0, 0);
    let (code, _, err) = anxin_in(&data, &["init"]);
    assert_eq!(code, 2, "{err}");
    let missing = root.join("nope.csv");
    assert_eq!(
        anxin_in(&data, &["import", "persons", missing.to_str().unwrap()]).0,
        2
    );
    let f = root.join("x.csv");
    std::fs::write(&f, "a,b\n1,2\n").unwrap();
    let (code, _, err) = anxin_in(&data, &["import", "persons", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("person_id") || err.contains("身份证号"),
        "missing columns named: {err}"
    );
    let (code, _, err) = anxin_in(&data, &["import", "things", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("contributions"), "{err}");
    let (code, _, _) = anxin_in(&data, &["verify", f.to_str().unwrap()]);
    assert_eq!(code, 7, "garbage is not a certificate");
}

fn sqlite(db: &Path, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 tool (apt-get install sqlite3)");
    assert!(
        out.status.success(),
        "sqlite3 {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// RFC 9162 leaf hash, for forging a row together with its hash.
fn leaf_hex(body: &[u8]) -> String {
    use anxin_ledger::LogHasher as _;
    anxin_ledger::Sha256Hasher
        .leaf(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn tampering_with_sqlite3_is_caught_and_named() {
    let (root, pristine) = populated("tamper", 2, 6);
    assert_eq!(anxin_in(&pristine, &["audit"]).0, 0);
    // Events: #0 org, #1..#2 persons, #3..#14 contributions. A contribution's bytes are
    // rebuilt from its contributions row (stored once, migration 17); a person's are stored.
    let body_of = |seq: u32| -> String {
        let out = Command::new("sqlite3")
            .arg(pristine.join("anxin.db"))
            .arg(format!("SELECT body FROM events WHERE seq = {seq}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(body_of(5), "", "a contribution's body is not stored twice");
    let body1 = body_of(1);
    let forged1 = body1.replace("330100", "110000");
    assert_ne!(forged1, body1);
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("edit a contribution", "UPDATE contribution_rows SET amount_fen = 1 WHERE seq = 7".into(), &["log entry #7 was edited", "contributions row #7"]),
        ("edit an event body", format!("UPDATE events SET body = CAST('{forged1}' AS BLOB) WHERE seq = 1"), &["log entry #1 was edited"]),
        ("rewrite an event with its hash", format!("UPDATE events SET body = CAST('{forged1}' AS BLOB), leaf = X'{}' WHERE seq = 1", leaf_hex(forged1.as_bytes())), &["#1", "signed root"]),
        ("delete an event", "DELETE FROM events WHERE seq = 9".into(), &["#9 to #9 were deleted"]),
        ("delete a contribution", "DELETE FROM contribution_rows WHERE seq = 10".into(), &["contributions row #10", "deleted"]),
        ("insert a contribution", "INSERT INTO contribution_rows SELECT seq + 1000, pid, month + 100, insurance, region, payer, payer_code, base_fen, amount_fen, account_fen, status, reason, paid_on FROM contribution_rows WHERE seq = 4".into(), &["#1004", "no log entry"]),
        ("insert an event", "INSERT INTO events SELECT 15, 'forged', kind, body, leaf FROM events WHERE seq = 4".into(), &["#15", "past the signed head"]),
        ("move money between the pooling fund and the personal account", "UPDATE contribution_rows SET account_fen = 0 WHERE seq = 6".into(), &["log entry #6 was edited", "contributions row #6"]),
        ("edit a person", "UPDATE persons SET residence_region = 110000 WHERE seq = 1".into(), &["persons row key"]),
        ("edit the head", "UPDATE head SET size = 3".into(), &["head"]),
        ("roll back", "DELETE FROM events WHERE seq >= 12; DELETE FROM contribution_rows WHERE seq >= 12; UPDATE head SET size = 12, checkpoint = (SELECT text FROM checkpoints WHERE size = 3); DELETE FROM checkpoints WHERE size > 3".into(), &["outside the database"]),
    ];
    for (name, sql, expect) in cases {
        let dir = root.join(format!("case-{}", name.replace(' ', "-")));
        copy_dir(&pristine, &dir);
        sqlite(&dir.join("anxin.db"), &sql);
        let (code, out, err) = anxin_in(&dir, &["--lang", "en", "audit"]);
        assert_eq!(code, 7, "{name}: the audit must fail\n{out}{err}");
        for e in expect {
            assert!(out.contains(e), "{name}: expected {e:?} in\n{out}");
        }
    }
}

#[cfg(unix)]
#[test]
fn import_killed_at_random_points_loses_nothing_acknowledged() {
    let root = scratch("cli", "crash");
    let data = root.join("data");
    assert_eq!(anxin_in(&data, &["init"]).0, 0);
    let persons: u32 = 300;
    let months: u32 = 100;
    std::fs::write(
        root.join("orgs.csv"),
        format!("credit_code,name,kind,region\n{PLATFORM},P,platform,330100\n"),
    )
    .unwrap();
    let mut p = String::from("person_id,name,residence_region,employment_form\n");
    for n in 0..persons {
        p.push_str(&format!(
            "{},{},330100,flexible\n",
            worker(n),
            person_name(n)
        ));
    }
    std::fs::write(root.join("persons.csv"), p).unwrap();
    for kind in ["orgs", "persons"] {
        assert_eq!(
            anxin_in(
                &data,
                &[
                    "import",
                    kind,
                    root.join(format!("{kind}.csv")).to_str().unwrap()
                ]
            )
            .0,
            0
        );
    }
    let mut c = String::from("record_id,person_id,month,insurance,region,payer,base,amount\n");
    let mut ids = Vec::new();
    for n in 0..persons {
        for m in 0..months {
            let month = format!("{}-{:02}", 2018 + m / 12, m % 12 + 1);
            ids.push(format!("k-{n}-{m}"));
            c.push_str(&format!(
                "k-{n}-{m},{},{month},pension,330100,self,4812,962.40\n",
                worker(n)
            ));
        }
    }
    let file = root.join("contributions.csv");
    std::fs::write(&file, c).unwrap();

    // A small deterministic generator: the kill points differ run to run of the loop.
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Each round is killed at a point inside the import, whatever the build's speed: after its
    // first or second durable commit (its "ack" line read), then 0 to 7 ms later, which lands
    // anywhere from between two commits to the middle of one. The file holds 60 batches, more
    // than 12 rounds can commit, so no round finishes by itself.
    let mut kills = 0;
    for round in 0..12 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anxin"))
            .args(["--today", "2026-11", "--data"])
            .arg(&data)
            .args(["import", "contributions", "--ack", "--batch", "500"])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after_acks = 1 + next() % 2;
        let delay = next() % 8;
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
            child.stdout.take().expect("stdout"),
        ));
        let mut seen = Vec::new();
        while seen
            .iter()
            .filter(|l: &&String| l.starts_with("ack "))
            .count()
            < after_acks as usize
        {
            match lines.next() {
                Some(Ok(line)) => seen.push(line),
                _ => break,
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL on Unix
        seen.extend(lines.map_while(|l| l.ok()));
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt as _;
        // Killed mid-import (not after it had finished by itself).
        kills += (status.signal() == Some(9)) as u32;
        let acked: Vec<(u64, u64)> = seen
            .iter()
            .filter_map(|l| {
                let mut parts = l.strip_prefix("ack ")?.split(' ');
                Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
            })
            .collect();
        assert!(
            !acked.is_empty(),
            "round {round}: no commit was acknowledged"
        );
        // After the crash: the audit passes and every acknowledged row is there.
        let (code, audit, err) = anxin_in(&data, &["--lang", "en", "audit"]);
        assert_eq!(
            code, 0,
            "round {round} (killed {delay} ms after ack {after_acks}): {audit}{err}"
        );
        if let Some(&(last_row, size)) = acked.last() {
            let mut store = anxin_store_sqlite::SqliteStore::open(&data.join("anxin.db")).unwrap();
            use anxin_records::Store as _;
            assert!(
                store.head().unwrap().size >= size,
                "round {round}: acknowledged size {size} lost"
            );
            // Data rows start at spreadsheet row 2.
            for id in ids.iter().take((last_row - 1) as usize) {
                assert!(
                    store.event_by_key(id).unwrap().is_some(),
                    "round {round}: acknowledged {id} lost"
                );
            }
        }
    }
    assert_eq!(
        kills, 12,
        "only {kills} of 12 rounds were cut off mid-import"
    );
    // Finishing the import afterwards lands exactly the rest.
    let (code, out, err) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = anxin_in(&data, &["--json", "audit"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["contributions"], (persons * months) as u64);
    assert_eq!(v["postings_sum_fen"], 0);
}

#[test]
fn tampering_with_psql_is_caught_and_named() {
    let db = format!("anxin_cli_{}", std::process::id());
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let (root, pristine) = populated_on("pg-tamper", 2, 6, Some(&format!("{POSTGRES}/{db}")));
    assert_eq!(anxin_in(&pristine, &["audit"]).0, 0);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "edit a contribution",
            "UPDATE contribution_rows SET amount_fen = 1 WHERE seq = 7",
            &["log entry #7 was edited", "contributions row #7"],
        ),
        (
            "edit an event body",
            "UPDATE events SET body = convert_to(replace(convert_from(body, 'UTF8'), '330100', '110000'), 'UTF8') WHERE seq = 1",
            &["log entry #1 was edited"],
        ),
        (
            "delete an event",
            "DELETE FROM events WHERE seq = 9",
            &["#9 to #9 were deleted"],
        ),
        (
            "insert a contribution",
            "INSERT INTO contribution_rows SELECT seq + 1000, base_fen, amount_fen, account_fen, pid, month + 100, region, insurance, payer, status, reason, payer_code, paid_on FROM contribution_rows WHERE seq = 4",
            &["#1004", "no log entry"],
        ),
        (
            "insert an event",
            "INSERT INTO events SELECT 15, kind, 'forged', body, leaf FROM events WHERE seq = 4",
            &["#15", "past the signed head"],
        ),
        (
            "move money between the pooling fund and the personal account",
            "UPDATE contribution_rows SET account_fen = 0 WHERE seq = 6",
            &["log entry #6 was edited", "contributions row #6"],
        ),
        (
            "edit a person",
            "UPDATE persons SET residence_region = 110000 WHERE seq = 1",
            &["persons row key"],
        ),
    ];
    for (i, (name, sql, expect)) in cases.iter().enumerate() {
        let copy = format!("{db}_{i}");
        psql("postgres", &format!("DROP DATABASE IF EXISTS {copy}"));
        psql("postgres", &format!("CREATE DATABASE {copy} TEMPLATE {db}"));
        let dir = root.join(format!("case-{i}"));
        copy_dir(&pristine, &dir);
        let config = std::fs::read_to_string(dir.join("anxin.toml"))
            .unwrap()
            .replace(&format!("/{db}\""), &format!("/{copy}\""));
        std::fs::write(dir.join("anxin.toml"), config).unwrap();
        psql(&copy, sql);
        let (code, out, err) = anxin_in(&dir, &["--lang", "en", "audit"]);
        assert_eq!(code, 7, "{name}: the audit must fail\n{out}{err}");
        for e in *expect {
            assert!(out.contains(e), "{name}: expected {e:?} in\n{out}");
        }
        psql("postgres", &format!("DROP DATABASE {copy}"));
    }
    psql("postgres", &format!("DROP DATABASE {db}"));
}

#[test]
fn guomi_suite_end_to_end() {
    let root = scratch("cli", "guomi");
    let data = root.join("data");
    let (code, out, err) = anxin_in(&data, &["init", "--suite", "guomi"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("guomi"), "{out}");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/records");
    for kind in ["orgs", "persons", "children", "contributions"] {
        let file = examples.join(format!("{kind}.csv"));
        let report = root.join(format!("{kind}.rejected.csv"));
        let (code, out, err) = anxin_in(
            &data,
            &[
                "import",
                kind,
                file.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{kind}: {out}{err}");
    }
    let (code, out, _) = anxin_in(&data, &["person", "show", "341221199003150024"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("王秀英") && out.contains("免缴 (生育)"),
        "{out}"
    );
    // The school review on her own ledger months: 2025-07..12 paid after a childbirth gap.
    let (code, out, err) = anxin_in(
        &data,
        &[
            "school",
            "check",
            "341221199003150024",
            "--month",
            "2025-12",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("暂不符合") && out.contains("还差连续缴费 6 个月") && out.contains("2026-06"),
        "{out}"
    );
    let (code, out, _) = anxin_in(
        &data,
        &[
            "--json",
            "school",
            "check",
            "341221199003150024",
            "--month",
            "2026-02",
            "--reform",
            "school-cumulative-first",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["forgiven"][0]["reason"], "childbirth", "{out}");
    assert_eq!(
        anxin_in(
            &data,
            &["school", "check", "341221199003150024", "--city", "火星"]
        )
        .0,
        3
    );
    // The attestation for the school office: decision and points, no months, verifiable offline.
    let attest_dir = root.join("attest");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "school",
            "attest",
            "341221199003150024",
            "--month",
            "2025-12",
            "--out",
            attest_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let attestation = std::fs::read_dir(&attest_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let text = std::fs::read_to_string(&attestation).unwrap();
    assert!(
        text.contains("school_eligibility") && text.contains("not_yet") && text.contains("points"),
        "{text}"
    );
    assert!(
        !text.contains("2025-07") && !text.contains("amount_fen") && !text.contains("96240"),
        "no month-by-month history or amounts: {text}"
    );
    let vkey_file = data.join("keys/log.vkey");
    let (code, out, _) = anxin_in(
        &root.join("school-office"),
        &[
            "verify",
            attestation.to_str().unwrap(),
            "--key",
            vkey_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let forged = root.join("forged.json");
    std::fs::write(&forged, text.replacen("not_yet", "eligible", 1)).unwrap();
    let (code, out, _) = anxin_in(
        &root.join("school-office"),
        &[
            "verify",
            forged.to_str().unwrap(),
            "--key",
            vkey_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 7, "a tampered attestation is rejected: {out}");
    // A file of applications: two reviewed and ranked, four refused with their reasons.
    let results = root.join("results.csv");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "school",
            "review",
            examples.join("applications.csv").to_str().unwrap(),
            "--places",
            "1",
            "--out",
            results.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("审核 2 份申请") && out.contains("4 份因资料问题未审核"),
        "{out}"
    );
    let table = std::fs::read_to_string(&results).unwrap();
    for expect in [
        "A-001,330100,2025-12,not_yet,20",
        "超过 15 周岁",
        "guardian is not in the registry",
        "duplicate of row 2",
        "火星",
    ] {
        assert!(table.contains(expect), "{expect:?} in\n{table}");
    }
    // The identification ledger: both guardians the file review reviewed are in the log
    // (the office's review signs an attestation of each); she enrolled 2025-01, was reviewed
    // 2025-12 and has paid nothing since (today is 2026-11): school-driven, stopped — and so
    // was the other guardian.
    let (code, out, err) = anxin_in(&data, &["school", "ledger"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("入学审核 2 人，其中因入学参保 2 人")
            && out.contains("2025-01 → 2025-12")
            && out.contains("已断缴"),
        "{out}"
    );
    assert!(
        out.contains("3: 0/2 (0%)"),
        "retention after 3 months: {out}"
    );
    let certs = root.join("certs");
    assert_eq!(
        anxin_in(
            &data,
            &[
                "cert",
                "issue",
                "341221199003150024",
                "--out",
                certs.to_str().unwrap()
            ]
        )
        .0,
        0
    );
    let cert = std::fs::read_dir(&certs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&cert).unwrap();
    assert!(text.contains("\"suite\":\"guomi\""));
    let vkey = std::fs::read_to_string(data.join("keys/log.vkey")).unwrap();
    let (code, out, err) = anxin_in(
        &root.join("elsewhere"),
        &["verify", cert.to_str().unwrap(), "--key", vkey.trim()],
    );
    assert_eq!(
        code, 0,
        "SM2 + SM3 certificate verifies offline: {out}{err}"
    );
    let (code, out, _) = anxin_in(&data, &["audit"]);
    assert_eq!(code, 0, "{out}");
}

/// A file of school applications with every kind of bad row: each gets its reason in the
/// results file, in file order, and the good rows are reviewed and ranked. A proof in the
/// file counts under the reform.
#[test]
fn school_review_file_refuses_bad_rows_and_reviews_the_rest() {
    let root = scratch("cli", "school-review");
    let data = root.join("data");
    assert_eq!(anxin_in(&data, &["init"]).0, 0);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/records");
    for kind in ["orgs", "persons", "children", "contributions"] {
        let file = examples.join(format!("{kind}.csv"));
        let report = root.join(format!("{kind}.rejected.csv"));
        let (code, out, err) = anxin_in(
            &data,
            &[
                "import",
                kind,
                file.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{kind}: {out}{err}");
    }
    // 李建国 paid 2025-01..07 and 2025-11: at 2026-02 no continuous months; a labour
    // contract stands for the last 12 months under the reform.
    let li = "341202198811070037";
    let wang = "341221199003150024";
    let (c1, c2, c3) = (
        id("34120220170707001"),
        id("34120220160606001"),
        id("34120220180303009"),
    );
    let file = root.join("applications.csv");
    std::fs::write(
        &file,
        format!(
            "申请编号,子女身份证号,监护人身份证号,申请城市,申请月份,困难家庭,证明材料\n\
             B-1,341202201905120052,{li},杭州,2026-02,否,劳动合同\n\
             B-2,330106201809010045,{wang},杭州,2026-02,否,\n\
             B-3,{c3},{li},火星,2026-02,否,\n\
             B-4,341202200501010063,{li},杭州,2026-02,否,\n\
             B-5,341202202002020071,341202198001010083,杭州,2026-02,否,\n\
             B-6,{c1},{li},杭州,2026-02,否,营业执照;水电费单\n\
             B-1,{c2},{li},杭州,2026-02,否,\n\
             B-8,330106201809010045,{wang},杭州,2026-02,否,\n\
             B-9,{c3},{wang},杭州,2025-12,否,\n"
        ),
    )
    .unwrap();
    let results = root.join("results.csv");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "school",
            "review",
            file.to_str().unwrap(),
            "--places",
            "1",
            "--reform",
            "school-cumulative-first",
            "--out",
            results.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("审核 2 份申请，录取 1 份，7 份因资料问题未审核"),
        "{out}"
    );
    let table = std::fs::read_to_string(&results).unwrap();
    let lines: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(lines.len(), 9, "every row once:\n{table}");
    let expect: [(&str, &[&str]); 9] = [
        ("2,B-1,330100,2026-02,eligible,12,1,yes", &[]),
        ("3,B-2,330100,2026-02,not_yet", &[]),
        ("4,", &["火星", "not a known region"]),
        ("5,B-4,", &["超过 15 周岁", "past school age"]),
        (
            "6,B-5,",
            &["监护人不在登记册中", "guardian is not in the registry"],
        ),
        (
            "7,",
            &[
                "水电费单",
                "business_licence（营业执照）",
                "not a known proof",
            ],
        ),
        ("8,", &["与第 2 行重复", "duplicate of row 2"]),
        ("9,", &["与第 3 行重复", "duplicate of row 3"]),
        ("10,B-9,330100,2025-12,rejected", &["2026-01-01"]),
    ];
    for (line, (start, words)) in lines.iter().zip(expect) {
        assert!(line.starts_with(start), "{start:?}: {line}");
        for w in words {
            assert!(line.contains(w), "{w:?} in {line}");
        }
    }
    // Under the law in force (example) the labour contract does not count.
    let (code, out, err) = anxin_in(
        &data,
        &[
            "school",
            "review",
            file.to_str().unwrap(),
            "--places",
            "1",
            "--out",
            results.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let table = std::fs::read_to_string(&results).unwrap();
    assert!(
        table.contains("\n2,B-1,330100,2026-02,not_yet,12,,no"),
        "{table}"
    );
    // The same proof on the command line, and one it does not know.
    let (code, out, _) = anxin_in(
        &data,
        &[
            "school",
            "check",
            li,
            "--month",
            "2026-02",
            "--reform",
            "school-cumulative-first",
            "--proof",
            "labour_contract@2025-06",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("符合入学的社保条件")
            && out.contains("劳动合同可抵 2025-06 至 2026-02 共 9 个月"),
        "{out}"
    );
    let (code, _, err) = anxin_in(&data, &["school", "check", li, "--proof", "utility_bill"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("未知的证明材料")
            && err.contains("unknown proof")
            && err.contains("community_residence"),
        "{err}"
    );
    // The ledger's retention chart: an SVG with one line per city × year cohort.
    let (code, _, _) = anxin_in(
        &data,
        &[
            "school",
            "attest",
            wang,
            "--month",
            "2025-12",
            "--out",
            root.join("att").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let chart = root.join("retention.svg");
    let (code, out, err) = anxin_in(
        &data,
        &["school", "ledger", "--chart", chart.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("retention chart written"), "{out}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(
        svg.contains("杭州市 2025（1 人）")
            && !svg.contains("Hangzhou")
            && svg.contains("width=\"100%\""),
        "{svg}"
    );
    assert_eq!(
        svg.matches("<circle").count(),
        2,
        "3 and 6 months are due, 12 and 24 not yet"
    );
}

#[test]
fn serve_demo_answers_over_http() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let mut child = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args([
            "--today",
            "2026-10",
            "serve",
            "--demo",
            "--demo-workers",
            "120",
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(
        printed.contains("Demo region ready: 120") && printed.contains("生育免缴"),
        "{printed}"
    );
    let get = |request: String| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let health = get(format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ));
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );
    let body = r#"{"region":"杭州","income_fen":350000}"#;
    let quote = get(format!(
        "POST /api/calc/quote HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(
        quote.starts_with("HTTP/1.1 200") && quote.contains("\"monthly_fen\":99720"),
        "{quote}"
    );
    let page = get(format!(
        "GET /verify HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ));
    assert!(page.contains("核验凭证"), "{page}");
    child.kill().unwrap();
    let _ = child.wait();
    // Killed, the server could not remove its demo directory (it does on SIGTERM): this does.
    let data = printed
        .lines()
        .find_map(|l| l.split("数据目录 data: ").nth(1));
    if let Some(dir) = data.map(str::trim).filter(|d| d.contains("anxin-demo-")) {
        std::fs::remove_dir_all(dir).expect("remove the demo's directory");
    }
}

/// `anxin inbox run` on a day: reminders generated once however often it runs; with a webhook
/// that cannot be reached and one attempt allowed, each goes to the dead-letter list that
/// `anxin inbox dead` shows; a webhook that is not plain HTTP is refused with the reason.
#[test]
fn inbox_run_generates_once_and_dead_letters_an_unreachable_webhook() {
    let (_root, data) = populated("inbox", 2, 14);
    let run = |data: &Path| anxin_in(data, &["inbox", "run", "--date", "2025-03-26"]);
    let (code, out, err) = run(&data);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("查看 2 人，应有消息 2 条，新增 2 条"), "{out}");
    assert!(out.contains("没有配置 webhook"), "{out}");
    let (_, out, _) = run(&data);
    assert!(out.contains("新增 0 条"), "{out}");

    let config = data.join("anxin.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        data.join("keys/webhook.secret"),
        "a secret of sixteen bytes or more\n",
    )
    .unwrap();
    let hook = |url: &str| {
        std::fs::write(
            &config,
            format!(
                "{base}\n[inbox.webhook]\nurl = \"{url}\"\nsecret_file = \"keys/webhook.secret\"\nmax_attempts = 1\ntimeout_seconds = 2\n"
            ),
        )
        .unwrap();
    };
    hook("https://gateway.example/hook");
    let (code, _, err) = run(&data);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("http://") && err.contains("TLS proxy"),
        "{err}"
    );
    // Nothing listens on the discard port.
    hook("http://127.0.0.1:9/hook");
    let (code, out, err) = run(&data);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("送达 0，待重试 0，转入死信 2"), "{out}");
    let (code, out, _) = anxin_in(&data, &["inbox", "dead"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("payment_reminder:") && l.contains("2025-03")),
        "{out}"
    );
    // Dead letters are not posted again.
    let (_, out, _) = run(&data);
    assert!(out.contains("送达 0，待重试 0，转入死信 0"), "{out}");
}
