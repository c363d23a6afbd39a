//! The shared records story on SQLite: in memory and on disk.

use anxin_records::Store;
use anxin_store_sqlite::SqliteStore;

#[test]
fn conformance_in_memory() {
    anxin_records::conformance::run_all(&mut || {
        Box::new(SqliteStore::in_memory().expect("open")) as Box<dyn Store>
    });
}

#[test]
fn conformance_on_disk_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    anxin_records::conformance::run_all(&mut || {
        n += 1;
        Box::new(SqliteStore::open(&dir.path().join(format!("db{n}.sqlite"))).expect("open"))
            as Box<dyn Store>
    });
    // Re-opening a migrated database migrates nothing and keeps the data.
    let path = dir.path().join("db1.sqlite");
    let mut store = SqliteStore::open(&path).expect("reopen");
    assert!(store.meta("suite").expect("meta").is_some());
    let mut again = SqliteStore::open(&path).expect("reopen twice");
    assert_eq!(store.head().expect("head"), again.head().expect("head"));
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future.sqlite");
    drop(SqliteStore::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("open raw");
    conn.pragma_update(None, "user_version", 99)
        .expect("set version");
    drop(conn);
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("upgrade anxin") && err.contains("升级"),
        "{err}"
    );
}

#[test]
fn access_log_refuses_edits_and_deletes() {
    let mut store = SqliteStore::in_memory().expect("open");
    store
        .log_access(&anxin_records::access::AccessRow {
            id: 0,
            at: 1,
            account: 1,
            username: "clerk.hz".into(),
            role: "clerk".into(),
            person: [7; 32],
            what: "record".into(),
            purpose: "核对缴费".into(),
        })
        .expect("append");
    let conn = store.connection();
    for sql in [
        "UPDATE access_log SET purpose = 'nothing'",
        "DELETE FROM access_log",
    ] {
        let err = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.access_to(&[7; 32], None, 5).expect("read").len(), 1);
}
