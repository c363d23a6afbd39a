//! The reader pool and the one writer (`anxin_service::db`), on SQLite (a file, so readers
//! have their own connections) and on PostgreSQL (`ANXIN_TEST_POSTGRES`, a schema of its own).

use std::sync::mpsc;
use std::time::Duration;

use anxin_records::Store;
use anxin_records::access::AccessRow;
use anxin_records::conformance::{fresh, person, resident_id};
use anxin_service::db::Db;

fn row(n: i64) -> AccessRow {
    AccessRow {
        id: 0,
        at: 1_780_000_000 + n,
        account: 1,
        username: "clerk-hz".into(),
        role: "clerk".into(),
        person: [7; 32],
        what: "record".into(),
        purpose: "核对缴费".into(),
    }
}

/// While the writer is busy inside a write transaction, a read from the pool is answered
/// (from the last commit); access rows that queue up meanwhile are committed as one group,
/// each caller told the same new head; the audit then finds every row against its entry.
fn story(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let id = resident_id("33010619900101123");
    records.append(vec![person(&id)]).expect("append");
    let before = records.store().head().expect("head").size;
    let db = Db::start(records, 2).expect("start");
    assert_eq!(db.reads.size(), 2, "{backend}: two readers of their own");

    // The writer holds the log's lock and waits.
    let (release, hold) = mpsc::channel::<()>();
    let (entered, inside) = mpsc::channel::<()>();
    let busy = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.write(move |r| {
                let mut txn = r.store().begin().expect("begin");
                txn.head().expect("the write lock");
                entered.send(()).unwrap();
                hold.recv().unwrap();
            })
            .expect("write")
        })
    };
    inside.recv().unwrap();
    let size = db.read(|r| r.store().head().map(|h| h.size)).expect("read");
    assert_eq!(
        size.expect("head"),
        before,
        "{backend}: read while the writer writes"
    );

    const WAITING: i64 = 12;
    let loggers: Vec<_> = (0..WAITING)
        .map(|n| {
            let db = db.clone();
            std::thread::spawn(move || db.log_access(row(n)).expect("logged"))
        })
        .collect();
    // Let every one reach the queue behind the busy writer, then let it go.
    std::thread::sleep(Duration::from_millis(300));
    release.send(()).unwrap();
    busy.join().unwrap();
    let heads: Vec<_> = loggers.into_iter().map(|l| l.join().unwrap()).collect();
    assert!(
        heads.iter().all(|h| h.size == before + WAITING as u64),
        "{backend}: one group, one commit: {:?}",
        heads.iter().map(|h| h.size).collect::<Vec<_>>()
    );
    let report = db
        .write(|r| r.audit(None, anxin_records::AuditScope { projections: true }))
        .expect("write")
        .expect("audit");
    assert!(
        report.findings.is_empty(),
        "{backend}: {:?}",
        report.findings
    );
    let rows = db
        .read(|r| r.store().access_rows(0, 100))
        .expect("read")
        .expect("rows");
    assert_eq!(rows.len(), WAITING as usize, "{backend}");
    // A job that panics loses its own work only; the writer goes on.
    assert!(db.write(|_| panic!("a job that panics")).is_err());
    assert!(
        db.log_access(row(99)).is_ok(),
        "{backend}: the writer lives on"
    );
}

#[test]
fn sqlite_readers_do_not_wait_and_reads_group_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    story(Box::new(
        anxin_store_sqlite::SqliteStore::open(&dir.path().join("anxin.db")).expect("open"),
    ));
}

#[test]
fn postgres_readers_do_not_wait_and_reads_group_commit() {
    let url = std::env::var("ANXIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("pool_db_{}", std::process::id());
    let store = anxin_store_postgres::PgStore::connect_schema(&url, &schema).expect("connect");
    story(Box::new(store));
    anxin_store_postgres::PgStore::drop_schema(&url, &schema).expect("drop");
}

/// The full audit runs on a reader of the pool, not on the writer: it is answered while the
/// writer is held inside a write transaction, it checks the data directory's checkpoint file
/// (read before the reader's snapshot begins, so a commit landing meanwhile is no rollback),
/// and it names the file when the file is gone.
#[test]
fn the_audit_runs_on_a_reader_and_checks_the_checkpoint_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let deployment =
        anxin_service::deployment::init(&data, None, "standard", "anxin.test/log").expect("init");
    let mut records = deployment.records().expect("records");
    let ids: Vec<_> = (0..20)
        .map(|i| resident_id(&format!("330106199001{:05}", 10_000 + i)))
        .collect();
    records
        .append(ids.iter().map(person).collect())
        .expect("append");
    let db = Db::start(records, 2).expect("start");
    let scope = anxin_records::AuditScope { projections: true };

    // Commits land while audits run: none of them may see the file ahead of its snapshot.
    let writing = {
        let db = db.clone();
        let ids = ids.clone();
        std::thread::spawn(move || {
            for (n, id) in ids.iter().enumerate() {
                let rows = vec![anxin_records::conformance::contribution(
                    id,
                    &format!("c-{n}"),
                    "2025-01",
                    anxin_import::Payer::Individual,
                    "962.40",
                )];
                db.write(move |r| r.append(rows).map(drop))
                    .expect("write")
                    .expect("append");
            }
        })
    };
    for _ in 0..20 {
        let report = db.audit(scope).expect("reader").expect("audit");
        assert!(report.is_clean(), "{:?}", report.findings);
    }
    writing.join().unwrap();

    // Held inside a write transaction, the writer does not hold up the audit.
    let (release, hold) = mpsc::channel::<()>();
    let (entered, inside) = mpsc::channel::<()>();
    let busy = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.write(move |r| {
                let mut txn = r.store().begin().expect("begin");
                txn.head().expect("the write lock");
                entered.send(()).unwrap();
                hold.recv().unwrap();
            })
            .expect("write")
        })
    };
    inside.recv().unwrap();
    let report = db.audit(scope).expect("reader").expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.contributions, 20);

    // The file gone: the reader's audit says so.
    std::fs::remove_file(data.join("checkpoint")).expect("remove the file");
    let report = db.audit(scope).expect("reader").expect("audit");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.table == "checkpoint-file" && f.en.contains("missing")),
        "{:?}",
        report.findings
    );
    release.send(()).unwrap();
    busy.join().unwrap();
}

/// The writer can run below the readers' scheduling priority (`serve --background-nice`):
/// its thread (and what it starts) is `nice` steps lower, a read keeps its caller's priority,
/// and the writes are the same. On systems without per-thread priorities it is a no-op.
#[test]
fn the_writer_runs_below_the_readers_priority_and_writes_the_same() {
    use anxin_service::db::nice_of_this_thread;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = anxin_store_sqlite::SqliteStore::open(&dir.path().join("anxin.db")).expect("open");
    let mut records = fresh(Box::new(store));
    let id = resident_id("33010619900101123");
    records.append(vec![person(&id)]).expect("append");
    let mine = nice_of_this_thread();
    let db = Db::start_with(records, 2, 5).expect("start");
    let (writer, helper) = db
        .write(|r| {
            let helper = std::thread::spawn(nice_of_this_thread).join().unwrap();
            let second = resident_id("33010619900101124");
            r.append(vec![person(&second)])
                .expect("append on the writer");
            (nice_of_this_thread(), helper)
        })
        .expect("write");
    let reader = db.read(|_| nice_of_this_thread()).expect("read");
    let size = db
        .read(|r| r.store().head().map(|h| h.size))
        .expect("read")
        .expect("head");
    if cfg!(target_os = "linux") {
        assert_eq!(writer, (mine + 5).min(19), "the writer is 5 steps lower");
        assert_eq!(
            helper, writer,
            "a thread the writer starts inherits its priority"
        );
    }
    assert_eq!(reader, mine, "a read runs at its caller's priority");
    assert_eq!(
        size, 2,
        "both persons are in the log: lower priority, same writes"
    );
    // 0 leaves the writer where it was.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = anxin_store_sqlite::SqliteStore::open(&dir.path().join("anxin.db")).expect("open");
    let db = Db::start_with(fresh(Box::new(store)), 1, 0).expect("start");
    assert_eq!(db.write(|_| nice_of_this_thread()).expect("write"), mine);
}
