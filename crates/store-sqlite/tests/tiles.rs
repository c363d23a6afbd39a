//! The tree's hashes stored as C2SP tiles on SQLite (migration 9): a database written before
//! them gets them when it is opened, proofs from them equal the whole tree's (both suites),
//! and the audit names a stored hash altered, missing or inserted.

use anxin_ledger::tile::level_count;
use anxin_records::conformance::{persons, secrets};
use anxin_records::{AuditScope, Records, Store, Suite};
use anxin_store_sqlite::SqliteStore;

/// `count` persons, appended in batches of `batch`.
fn fill(r: &mut Records<SqliteStore>, count: usize, batch: usize) {
    for from in (0..count).step_by(batch) {
        r.append(persons(from, batch.min(count - from)))
            .expect("append");
    }
}

fn stored(r: &mut Records<SqliteStore>, level: u8) -> u64 {
    r.store()
        .tree_hashes(level, 0, u64::MAX)
        .expect("read")
        .len() as u64
}

/// Proofs from stored hashes are the whole tree's, at a spread of entries.
fn proofs_match(r: &mut Records<SqliteStore>) {
    let tree = r.rebuild_tree().expect("tree");
    let size = tree.size();
    for index in [0, 1, 255, 256, 511, 512, size / 2, size - 1] {
        let (_, leaf, proof) = r.inclusion_proof(index).expect("stored proof");
        assert_eq!(Some(&leaf), tree.leaf_hash(index));
        assert_eq!(
            proof,
            tree.inclusion_proof(index, size).unwrap(),
            "#{index}"
        );
    }
}

#[test]
fn a_database_without_tree_hashes_gets_them_when_opened() {
    for suite in [Suite::Standard, Suite::Guomi] {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("log.db");
        let mut r = Records::init(
            SqliteStore::open(&path).expect("open"),
            secrets(suite),
            suite,
            "anxin.test/log",
        )
        .expect("init");
        fill(&mut r, 700, 250);
        let size = r.store().head().expect("head").size;
        assert_eq!(stored(&mut r, 1), level_count(size, 1));
        proofs_match(&mut r);
        // As a database from before migration 9 would be.
        r.store()
            .connection()
            .execute_batch("DELETE FROM tree_hashes")
            .expect("delete");
        assert!(r.inclusion_proof(600).is_err(), "no proof without them");
        drop(r);
        let mut r =
            Records::open(SqliteStore::open(&path).expect("open"), secrets(suite)).expect("reopen");
        assert_eq!(stored(&mut r, 1), 2, "{suite:?}: filled in");
        proofs_match(&mut r);
        let report = r
            .audit(None, AuditScope { projections: true })
            .expect("audit");
        assert!(report.is_clean(), "{:?}", report.findings);
    }
}

#[test]
fn the_audit_names_a_stored_tree_hash_altered_or_inserted() {
    let mut r = Records::init(
        SqliteStore::in_memory().expect("open"),
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    fill(&mut r, 600, 600);
    let audit = |r: &mut Records<SqliteStore>| {
        r.audit(None, AuditScope { projections: false })
            .expect("audit")
    };
    assert!(audit(&mut r).is_clean());
    r.store()
        .connection()
        .execute_batch(
            "UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 1 AND idx = 1;
             INSERT INTO tree_hashes (level, idx, hash) VALUES (1, 5, zeroblob(32));",
        )
        .expect("tamper");
    let report = audit(&mut r);
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("[{} {}] {}", f.table, f.row, f.en))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("[tree_hashes level 1 #1] this stored tree hash differs"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("[tree_hashes level 1 #5] this stored tree hash lies past"),
        "{found:?}"
    );
    // A proof through the altered hash (every proof of this log passes it) is refused,
    // never given wrong.
    for index in [10, 590] {
        let err = r.inclusion_proof(index).expect_err("refused");
        assert!(err.to_string().contains("run anxin audit"), "{err}");
    }
}
