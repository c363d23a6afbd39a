//! The audit on SQLite, tampered with as `sqlite3` would: each finding says what really
//! happened (an entry deleted, its bytes changed, its hash changed, a row inserted); the
//! access log is chained into the log, so a row removed or altered with the triggers dropped
//! is named; and the checkpoint kept outside the database is advanced by every commit and
//! required by the audit.

use std::sync::{Arc, Mutex};

use anxin_import::Payer;
use anxin_records::access::AccessRow;
use anxin_records::conformance::{contribution, person, platform, resident_id, secrets};
use anxin_records::{AuditReport, AuditScope, Known, OutsideCheckpoint, Records, Store, Suite};
use anxin_store_sqlite::SqliteStore;

fn records() -> Records<SqliteStore> {
    let mut r = Records::init(
        SqliteStore::in_memory().expect("open"),
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    let id = resident_id("33010619900101123");
    let mut rows = vec![platform(), person(&id)];
    for m in 1..=6 {
        rows.push(contribution(
            &id,
            &format!("c{m}"),
            &format!("2025-{m:02}"),
            Payer::Individual,
            "962.40",
        ));
    }
    r.append(rows).expect("append");
    // Events: #0 platform, #1 person, #2..#7 contributions.
    r
}

fn audit(r: &mut Records<SqliteStore>) -> AuditReport {
    r.audit(None, AuditScope { projections: true })
        .expect("audit")
}

fn text(report: &AuditReport) -> String {
    report
        .findings
        .iter()
        .map(|f| format!("[{} {}] {}\n", f.table, f.row, f.en))
        .collect()
}

fn sql(r: &mut Records<SqliteStore>, sql: &str) {
    r.store().connection().execute_batch(sql).expect(sql);
}

fn read(person: [u8; 32], purpose: &str) -> AccessRow {
    AccessRow {
        id: 0,
        at: 1_700_000_000,
        account: 3,
        username: "clerk.hz".into(),
        role: "clerk".into(),
        person,
        what: "record".into(),
        purpose: purpose.into(),
    }
}

#[test]
fn a_deleted_entry_is_called_deleted_not_inserted() {
    let mut r = records();
    assert!(audit(&mut r).is_clean());
    sql(&mut r, "DELETE FROM events WHERE seq = 4");
    let out = text(&audit(&mut r));
    assert!(out.contains("#4 to #4 were deleted"), "{out}");
    assert!(
        // The row's record ID was its entry's key (migration 19): deleted with it.
        out.contains("contributions row #4 has no log entry: its log entry was deleted"),
        "{out}"
    );
    assert!(!out.contains("inserted"), "{out}");
    assert!(!out.contains("rewritten"), "{out}");
}

#[test]
fn a_changed_body_is_called_changed_not_rewritten_with_its_hash() {
    let mut r = records();
    // A contribution's bytes are rebuilt from its contributions row (stored once, migration
    // 20): changing the row changes the entry's bytes, and the audit names both.
    let stored: Vec<u8> = r
        .store()
        .connection()
        .query_row("SELECT body FROM events WHERE seq = 5", [], |row| {
            row.get(0)
        })
        .expect("body");
    assert!(
        stored.is_empty(),
        "a contribution's body is not stored twice"
    );
    sql(
        &mut r,
        "UPDATE contribution_rows SET amount_fen = 1 WHERE seq = 5",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains("log entry #5 was edited: its bytes (or contributions row #5, which a contribution's bytes are rebuilt from) were changed"),
        "{out}"
    );
    assert!(!out.contains("rewritten together with its hash"), "{out}");

    // A stored body (a person's) edited in place.
    let mut r = records();
    sql(
        &mut r,
        "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '330100', '110000') AS BLOB) WHERE seq = 1",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains("log entry #1 was edited: its bytes were changed"),
        "{out}"
    );
    assert!(!out.contains("rewritten together with its hash"), "{out}");

    // A contributions row deleted takes its entry's bytes with it: both are named.
    let mut r = records();
    sql(&mut r, "DELETE FROM contribution_rows WHERE seq = 5");
    let out = text(&audit(&mut r));
    assert!(
        out.contains("contributions row #5 was deleted or is unreadable (log entry #5's bytes are rebuilt from it)"),
        "{out}"
    );
    assert!(out.contains("log entry #5 was edited"), "{out}");
}

#[test]
fn a_changed_hash_column_is_called_so() {
    let mut r = records();
    sql(
        &mut r,
        "UPDATE events SET leaf = zeroblob(32) WHERE seq = 3",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains("log entry #3 was edited: its stored hash column was changed"),
        "{out}"
    );
    assert!(!out.contains("bytes were changed"), "{out}");
}

#[test]
fn a_rewrite_with_its_hash_and_an_insertion_are_called_so() {
    let mut r = records();
    // The body and its leaf hash changed together: only the signed roots catch it.
    let body = r.store().events(6, 7).expect("read").remove(0).body;
    let forged = String::from_utf8(body)
        .expect("utf-8")
        .replace("\"amount_fen\":96240", "\"amount_fen\":1");
    let leaf = anxin_ledger::LogHasher::leaf(&anxin_ledger::Sha256Hasher, forged.as_bytes());
    r.store()
        .connection()
        .execute(
            "UPDATE events SET body = ?1, leaf = ?2 WHERE seq = 6",
            rusqlite::params![forged.as_bytes(), &leaf[..]],
        )
        .expect("rewrite");
    let out = text(&audit(&mut r));
    assert!(out.contains("rewritten together with its hash"), "{out}");
    assert!(!out.contains("log entry #6 was edited"), "{out}");

    let mut r = records();
    sql(
        &mut r,
        "INSERT INTO events SELECT 8, 'forged', kind, body, leaf FROM events WHERE seq = 2",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains("log entry #8 lies past the signed head: inserted behind the system's back"),
        "{out}"
    );
    assert!(!out.contains("deleted"), "{out}");
}

#[test]
fn access_rows_are_chained_and_a_row_removed_or_edited_is_named() {
    let mut r = records();
    let key = r.person_key(&resident_id("33010619900101123")).0;
    // A row from before chaining (migration 6) is accepted as it is.
    r.store()
        .log_access(&read(key, "旧的查阅"))
        .expect("legacy row");
    let before = r.store().head().expect("head").size;
    let head = r.log_access(read(key, "办理转移接续")).expect("log");
    assert_eq!(head.size, before + 1, "one access_logged entry");
    r.log_access(read(key, "核对缴费")).expect("log");
    let report = audit(&mut r);
    assert!(report.is_clean(), "{}", text(&report));
    assert_eq!(report.access_rows, 3);
    // The entry holds no purpose and no person key.
    let body: Vec<u8> = r
        .store()
        .connection()
        .query_row(
            "SELECT body FROM events WHERE seq = ?1",
            [before as i64],
            |row| row.get(0),
        )
        .expect("body");
    let body = String::from_utf8(body).expect("utf-8");
    assert!(body.starts_with("{\"kind\":\"access_logged\""), "{body}");
    assert!(
        !body.contains("转移") && !body.contains(&anxin_records::keys::hex(&key)),
        "{body}"
    );

    // Edited with the trigger dropped: named by id and entry.
    sql(
        &mut r,
        "DROP TRIGGER access_log_no_update; UPDATE access_log SET purpose = '随便看看' WHERE purpose = '核对缴费'",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains(&format!(
            "access_log row id 3 was edited (it differs from what log entry #{} recorded)",
            before + 1
        )),
        "{out}"
    );
    // Removed with the trigger dropped: the entry that recorded it says so.
    sql(
        &mut r,
        "DROP TRIGGER access_log_no_delete; DELETE FROM access_log WHERE id = 2",
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains(&format!(
            "the access_log row recorded by log entry #{before} was deleted"
        )),
        "{out}"
    );
    // A row added behind the log's back after chaining began.
    r.store()
        .log_access(&read(key, "偷偷查阅"))
        .expect("raw row");
    let out = text(&audit(&mut r));
    assert!(
        out.contains("access_log row id 4 has no log entry: inserted behind the system's back"),
        "{out}"
    );
}

/// An outside checkpoint held in memory.
#[derive(Clone, Default)]
struct Kept(Arc<Mutex<Option<String>>>);

impl OutsideCheckpoint for Kept {
    fn advance(&mut self, checkpoint: &str) -> anxin_records::Result<()> {
        *self.0.lock().unwrap() = Some(checkpoint.to_string());
        Ok(())
    }
    fn read(&self) -> anxin_records::Result<Option<String>> {
        Ok(self.0.lock().unwrap().clone())
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

#[test]
fn every_commit_advances_the_outside_checkpoint_and_the_audit_requires_it() {
    let mut r = records();
    let kept = Kept::default();
    r.set_outside(Box::new(kept.clone()));
    // Missing: the audit fails and says so.
    let out = text(&audit(&mut r));
    assert!(
        out.contains("the checkpoint file kept outside the database (memory) is missing"),
        "{out}"
    );
    let id = resident_id("33010619900101123");
    let head = r
        .append(vec![contribution(
            &id,
            "c9",
            "2025-09",
            Payer::Individual,
            "962.40",
        )])
        .expect("append")
        .head;
    assert_eq!(
        kept.read().unwrap().as_deref(),
        Some(head.checkpoint.as_str())
    );
    let key = r.person_key(&id).0;
    let head = r.log_access(read(key, "办理转移接续")).expect("log");
    assert_eq!(
        kept.read().unwrap().as_deref(),
        Some(head.checkpoint.as_str())
    );
    assert!(audit(&mut r).is_clean());

    // Roll the database back by two entries: the outside checkpoint and any other known one
    // catch it.
    let later = head.checkpoint.clone();
    let size = head.size;
    sql(
        &mut r,
        &format!(
            "DROP TRIGGER access_log_no_delete; DELETE FROM access_log WHERE seq IS NOT NULL;
             DELETE FROM events WHERE seq >= {s}; DELETE FROM contribution_rows WHERE seq >= {s};
             DELETE FROM checkpoints WHERE size > {s};
             UPDATE head SET size = {s}, checkpoint = (SELECT text FROM checkpoints WHERE size = {s})",
            s = size - 2
        ),
    );
    let out = text(&audit(&mut r));
    assert!(
        out.contains(
            "(memory) has 10 entries, the database only 8: the log was cut or rolled back"
        ),
        "{out}"
    );
    *kept.0.lock().unwrap() = None;
    let report = r
        .audit_known(
            &[Known {
                source: "peer.txt".into(),
                text: later,
            }],
            AuditScope { projections: false },
        )
        .expect("audit");
    let out = text(&report);
    assert!(
        out.contains("(peer.txt) has 10 entries, the database only 8"),
        "{out}"
    );
    assert!(out.contains("(memory) is missing"), "{out}");
}
