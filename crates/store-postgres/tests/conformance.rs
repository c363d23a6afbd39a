//! The shared conformance suite and the PostgreSQL-specific checks (migrations, concurrent
//! writers, bytewise ordering), against a real server.
//!
//! The server comes from `ANXIN_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! An unreachable server fails the tests: CI starts one. Each store gets its own fresh schema,
//! dropped at the end.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anxin_import::Payer;
use anxin_records::conformance::{self, contribution, person, platform, resident_id, secrets};
use anxin_records::store::{EventRow, OrgRow, Store, WriteBatch};
use anxin_records::{AuditScope, Error, Outcome, Records, Suite};
use anxin_store_postgres::PgStore;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var("ANXIN_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// Fails (never skips) when the server is down, saying how to start it.
fn require_server() -> String {
    let url = url();
    if let Err(e) = postgres::Client::connect(&url, postgres::NoTls) {
        let cause = std::error::Error::source(&e)
            .map(|c| c.to_string())
            .unwrap_or_default();
        panic!(
            "PostgreSQL at {url} is unreachable: {e} ({cause})\n\
             Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             or point ANXIN_TEST_POSTGRES at a running server (trust auth, database `test`)."
        );
    }
    url
}

/// A fresh schema name, unique across processes and threads.
fn schema_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "anxin_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Schemas made by one test, dropped when it ends (also when it panics).
struct Schemas {
    url: String,
    names: Vec<String>,
}

impl Schemas {
    fn new() -> Schemas {
        Schemas {
            url: require_server(),
            names: Vec::new(),
        }
    }

    fn fresh(&mut self) -> String {
        let name = schema_name();
        self.names.push(name.clone());
        name
    }

    fn store(&mut self) -> PgStore {
        let name = self.fresh();
        PgStore::connect_schema(&self.url, &name).expect("connect to a fresh schema")
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        for name in &self.names {
            if let Err(e) = PgStore::drop_schema(&self.url, name) {
                eprintln!("could not drop test schema {name}: {e}");
            }
        }
    }
}

#[test]
fn conformance_suite() {
    let mut schemas = Schemas::new();
    conformance::run_all(&mut || Box::new(schemas.store()) as Box<dyn Store>);
}

#[test]
fn migrations_are_idempotent() {
    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let mut first = PgStore::connect_schema(&schemas.url, &name).expect("first connect");
    first.set_meta("probe", "kept").expect("set meta");
    drop(first);
    let mut second =
        PgStore::connect_schema(&schemas.url, &name).expect("second connect migrates nothing");
    assert_eq!(second.meta("probe").expect("meta").as_deref(), Some("kept"));
    let versions: Vec<i32> = second
        .client()
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        (1..=PgStore::schema_version()).collect::<Vec<_>>()
    );
}

/// No anxin session compiles a statement (JIT), however costly PostgreSQL thinks it is: the
/// writer's, a reader's and one the caller set up. With JIT on, a province with no statistics
/// yet spent 80–112 ms compiling each person's read of 0.8 ms (BENCHMARKS.md).
#[test]
fn no_session_compiles_statements() {
    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let writer = PgStore::connect_schema(&schemas.url, &name).expect("writer");
    let reader = PgStore::connect_read_only(&schemas.url, Some(&name)).expect("reader");
    let mut own = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    own.batch_execute(&format!("SET search_path TO \"{name}\""))
        .expect("search path");
    let set_up = PgStore::from_client(own).expect("a caller's connection");
    for (who, mut store) in [("writer", writer), ("reader", reader), ("caller's", set_up)] {
        let client = store.client();
        // Every statement would be compiled, were JIT on.
        client
            .batch_execute("SET jit_above_cost = 0")
            .expect("jit_above_cost");
        let plan: String = client
            .query(
                "EXPLAIN (ANALYZE, FORMAT TEXT) SELECT c.seq, e.key FROM contribution_rows c
                 LEFT JOIN events e ON e.seq = c.seq WHERE c.pid = 1",
                &[],
            )
            .expect("explain")
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(plan.contains("Execution Time"), "{who}: {plan}");
        assert!(!plan.contains("JIT"), "the {who} session compiled: {plan}");
        let jit: String = client.query_one("SHOW jit", &[]).expect("show jit").get(0);
        assert_eq!(jit, "off", "{who}");
    }
}

#[test]
fn newer_schema_version_is_refused() {
    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let mut store = PgStore::connect_schema(&schemas.url, &name).expect("connect");
    store
        .client()
        .execute("INSERT INTO schema_migrations (version) VALUES (999)", &[])
        .expect("pretend a newer program migrated");
    drop(store);
    match PgStore::connect_schema(&schemas.url, &name) {
        Err(Error::Refused { zh, en }) => {
            assert!(zh.contains("999") && zh.contains("升级"), "{zh}");
            assert!(en.contains("999") && en.contains("upgrade anxin"), "{en}");
        }
        Err(e) => panic!("refused with the wrong error: {e}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}

#[test]
fn invalid_schema_name_is_refused() {
    let url = require_server();
    for bad in ["", "Upper", "a-b", "x\"; DROP SCHEMA public; --", "1abc"] {
        assert!(
            matches!(
                PgStore::connect_schema(&url, bad),
                Err(Error::Refused { .. })
            ),
            "{bad:?} accepted"
        );
    }
}

/// Text is ordered bytewise, as in SQLite, whatever the database's collation.
#[test]
fn text_order_is_bytewise() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let codes = ["b", "B", "a", "Z", "é", "_x", "aa", "A"];
    let mut txn = store.begin().expect("begin");
    txn.write(&WriteBatch {
        orgs: codes
            .iter()
            .enumerate()
            .map(|(i, c)| OrgRow {
                code: c.to_string(),
                name: "n".into(),
                kind: "platform".into(),
                region: 330100,
                seq: i as u64,
            })
            .collect(),
        ..WriteBatch::default()
    })
    .expect("write");
    txn.commit().expect("commit");
    let mut want: Vec<&str> = codes.to_vec();
    want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let orgs: Vec<String> = store
        .orgs_all()
        .expect("orgs")
        .into_iter()
        .map(|o| o.code)
        .collect();
    assert_eq!(orgs, want);
}

/// Upserts in one batch: the last row for a key wins (no "affect row a second time" error).
#[test]
fn upsert_last_wins_within_a_batch() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let org = |name: &str, seq: u64| OrgRow {
        code: "91350100M000100Y43".into(),
        name: name.into(),
        kind: "platform".into(),
        region: 330100,
        seq,
    };
    let mut txn = store.begin().expect("begin");
    txn.write(&WriteBatch {
        orgs: vec![org("first", 0), org("second", 1)],
        ..WriteBatch::default()
    })
    .expect("write");
    txn.commit().expect("commit");
    let mut txn = store.begin().expect("begin");
    txn.write(&WriteBatch {
        orgs: vec![org("third", 2)],
        ..WriteBatch::default()
    })
    .expect("write");
    txn.commit().expect("commit");
    let orgs = store.orgs_all().expect("orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!((orgs[0].name.as_str(), orgs[0].seq), ("third", 2));
}

/// What `schema`'s statistics say: the manual ANALYZEs of `events` and of `contribution_rows`
/// (autovacuum's own count apart, so they cannot interfere), and the rows the last one counted
/// in `contribution_rows` (-1: never analyzed).
fn statistics(own: &mut postgres::Client, schema: &str) -> (i64, i64, f32) {
    let counts = own
        .query(
            "SELECT relname::text, analyze_count FROM pg_stat_user_tables
              WHERE schemaname = $1 AND relname IN ('events', 'contribution_rows')",
            &[&schema],
        )
        .expect("statistics");
    let count = |table: &str| {
        counts
            .iter()
            .find(|r| r.get::<_, String>(0) == table)
            .map_or(0, |r| r.get::<_, i64>(1))
    };
    let tuples: f32 = own
        .query_one(
            "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = 'contribution_rows'",
            &[&schema],
        )
        .expect("reltuples")
        .get(0);
    (count("events"), count("contribution_rows"), tuples)
}

/// A log whose writer analyzes after 10 entries, with its platform and `worker` registered.
fn analyzed_log(
    schemas: &mut Schemas,
    worker: &anxin_domain::ResidentId,
    set_up: &str,
) -> (String, Records<PgStore>) {
    let name = schemas.fresh();
    let mut store = PgStore::connect_schema(&schemas.url, &name).expect("connect");
    store.analyze_after(10);
    store.client().batch_execute(set_up).expect("set up");
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    records
        .append(vec![platform(), person(worker)])
        .expect("setup");
    (name, records)
}

/// `worker`'s pension months `from`..`to` from 1990-01, one record each.
fn months_of(
    worker: &anxin_domain::ResidentId,
    from: usize,
    to: usize,
) -> Vec<anxin_records::Input> {
    (from..to)
        .map(|n| {
            let month = format!("{}-{:02}", 1990 + n / 12, n % 12 + 1);
            contribution(
                worker,
                &format!("a{n}"),
                &month,
                Payer::Individual,
                "100.00",
            )
        })
        .collect()
}

/// The writer refreshes the planner's statistics as the log grows: a commit that makes the log
/// ten times what it was at the last `ANALYZE`, and the minimum more, runs it on the log's
/// tables; one short of either does not, and counts towards the next.
#[test]
fn the_writer_analyzes_the_log_as_it_grows() {
    let mut schemas = Schemas::new();
    let worker = resident_id("33010619900115100");
    let (name, mut records) = analyzed_log(&mut schemas, &worker, "");
    let mut own = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    let mut seen = || statistics(&mut own, &name);
    assert_eq!(
        seen().0,
        0,
        "2 entries, fewer than the minimum of 10: no ANALYZE"
    );

    records
        .append(months_of(&worker, 0, 20))
        .expect("20 months");
    let (events, rows, tuples) = seen();
    assert_eq!(
        (events, rows),
        (1, 1),
        "22 entries since none: analyzed once"
    );
    assert_eq!(
        tuples, 20.0,
        "the statistics count the rows of the commit that analyzed"
    );

    records
        .append(months_of(&worker, 20, 100))
        .expect("80 more");
    assert_eq!(seen().0, 1, "102 entries: not yet ten times 22, no ANALYZE");

    records
        .append(months_of(&worker, 100, 230))
        .expect("130 more");
    let (events, rows, tuples) = seen();
    assert_eq!(
        (events, rows),
        (2, 2),
        "232 entries: ten times 22 and more, analyzed again"
    );
    assert_eq!(tuples, 230.0);
}

/// An `ANALYZE` that cannot run (another session holds a lock it needs, which a write does
/// not, past the writer's `lock_timeout`) fails alone: the write commits all its records, the
/// statistics are as they were, and the next commit analyzes.
#[test]
fn a_failed_analyze_never_fails_the_write() {
    let mut schemas = Schemas::new();
    let worker = resident_id("33010619900115101");
    let (name, mut records) = analyzed_log(&mut schemas, &worker, "SET lock_timeout = '200ms'");
    let mut own = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    let mut other = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    let mut hold = other.transaction().expect("begin");
    hold.batch_execute(&format!(
        "LOCK TABLE \"{name}\".contribution_rows IN SHARE UPDATE EXCLUSIVE MODE"
    ))
    .expect("lock");

    let committed = records
        .append(months_of(&worker, 0, 20))
        .expect("the write commits though its ANALYZE cannot run");
    let added = committed
        .outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Added(_)))
        .count();
    assert_eq!(added, 20, "{:?}", committed.outcomes);
    let (_, rows, tuples) = statistics(&mut own, &name);
    assert_eq!(
        (rows, tuples),
        (0, -1.0),
        "contribution_rows never analyzed"
    );

    hold.rollback().expect("release the lock");
    records
        .append(months_of(&worker, 20, 21))
        .expect("one more");
    let (_, rows, tuples) = statistics(&mut own, &name);
    assert_eq!((rows, tuples), (1, 21.0), "still due, and now it runs");
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.events, 23);
}

/// A long read that fails on a row half-way (a leaf hash cut short behind the store's back)
/// reports that row, and leaves its connection sound: the rows still in flight are discarded,
/// and the next reads on the same connection answer in full, before the bad row and past it.
#[test]
fn a_read_that_fails_half_way_leaves_the_connection_sound() {
    let mut schemas = Schemas::new();
    let worker = resident_id("33010619900115101");
    let (name, mut records) = analyzed_log(&mut schemas, &worker, "SELECT 1");
    records
        .append(months_of(&worker, 0, 2_000))
        .expect("2,000 months");
    let mut other = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    other
        .batch_execute(&format!(
            "UPDATE \"{name}\".events SET leaf = '\\x00' WHERE seq = 1000"
        ))
        .expect("cut one leaf hash");
    let err = records
        .store()
        .events(0, 2_002)
        .expect_err("a cut leaf hash does not read");
    assert!(err.to_string().contains("leaf hash"), "{err}");
    let before = records
        .store()
        .events(0, 1_000)
        .expect("the same connection reads again");
    assert_eq!(
        before.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (0..1_000).collect::<Vec<_>>()
    );
    let past = records
        .store()
        .events(1_001, 2_002)
        .expect("and past the bad row");
    assert_eq!(
        past.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1_001..2_002).collect::<Vec<_>>()
    );
    assert!(
        records
            .store()
            .contributions(0, 2_002)
            .expect("another kind of read")
            .len()
            == 2_000
    );
}

/// Two connections appending to one log at once: the head lock serializes them, sequence
/// numbers have no holes, sizes add up and the audit is clean.
#[test]
fn concurrent_writers_serialize() {
    const WRITERS: usize = 2;
    const BATCHES: usize = 12;
    const PER_BATCH: usize = 40;
    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let url = schemas.url.clone();
    let store = PgStore::connect_schema(&url, &name).expect("connect");
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    let workers: Vec<_> = (0..WRITERS)
        .map(|w| resident_id(&format!("33010619900115{:03}", 100 + w)))
        .collect();
    let mut setup = vec![platform()];
    setup.extend(workers.iter().map(person));
    let committed = records.append(setup).expect("setup");
    let base = committed.head.size;
    assert_eq!(base, 1 + WRITERS as u64);

    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let url = url.clone();
            let name = name.clone();
            let worker = workers[w].clone();
            std::thread::spawn(move || {
                let store = PgStore::connect_schema(&url, &name).expect("connect");
                let mut records = Records::open(store, secrets(Suite::Standard)).expect("open");
                let mut added = Vec::new();
                let mut unchanged = 0;
                for b in 0..BATCHES {
                    let mut rows = Vec::new();
                    for i in 0..PER_BATCH {
                        let n = b * PER_BATCH + i;
                        let month = format!("{}-{:02}", 1980 + n / 12, n % 12 + 1);
                        rows.push(contribution(
                            &worker,
                            &format!("w{w}-{n}"),
                            &month,
                            Payer::Individual,
                            "100.00",
                        ));
                    }
                    // Both writers send the same shared record: exactly one adds it.
                    rows.push(contribution(
                        &worker_zero(),
                        &format!("shared-{b}"),
                        "2030-01",
                        Payer::Platform,
                        "1.00",
                    ));
                    for outcome in records.append(rows).expect("append").outcomes {
                        match outcome {
                            Outcome::Added(seq) => added.push(seq),
                            Outcome::Unchanged(_) => unchanged += 1,
                            Outcome::Rejected(r) => {
                                // Every shared record fills the same slot: once one has landed,
                                // the others (other record ids) meet a filled slot.
                                assert_eq!(r.column, "month", "{r:?}");
                                unchanged += 1;
                            }
                        }
                    }
                }
                (added, unchanged)
            })
        })
        .collect();
    let mut all_added = Vec::new();
    for t in threads {
        let (added, _) = t.join().expect("writer thread");
        all_added.extend(added);
    }
    all_added.sort_unstable();
    let head = records.store().head().expect("head");
    assert_eq!(head.size, base + all_added.len() as u64, "sizes add up");
    assert_eq!(
        all_added,
        (base..head.size).collect::<Vec<_>>(),
        "no holes, no seq twice"
    );
    // Each writer's own rows all landed, and one shared record exactly once.
    assert_eq!(all_added.len(), WRITERS * BATCHES * PER_BATCH + 1);
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.events, head.size);
    assert_eq!(report.postings_sum_fen, 0);
    let tree = records.rebuild_tree().expect("tree");
    assert_eq!(tree.root(), head.root);
    let (_, _, proof) = records
        .inclusion_proof(head.size - 1)
        .expect("stored proof");
    assert_eq!(
        proof,
        tree.inclusion_proof(head.size - 1, head.size).unwrap()
    );
}

fn worker_zero() -> anxin_domain::ResidentId {
    resident_id("33010619900115100")
}

/// A second writer's `head()` waits for the first writer's commit and then sees its head,
/// both on a log never written (no head row yet) and on one with a head row.
#[test]
fn head_lock_waits_for_the_writer_before() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use anxin_records::store::Head;

    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let url = schemas.url.clone();
    let mut first = PgStore::connect_schema(&url, &name).expect("connect");
    for size in [0u64, 1] {
        let mut txn = first.begin().expect("begin");
        let head = txn.head().expect("head");
        assert_eq!(head.size, size * 7, "head before round {size}");
        let committing = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (url, name, committing) = (url.clone(), name.clone(), committing.clone());
            std::thread::spawn(move || {
                let mut second = PgStore::connect_schema(&url, &name).expect("connect");
                let mut txn = second.begin().expect("begin");
                let head = txn.head().expect("head");
                assert!(
                    committing.load(Ordering::SeqCst),
                    "head() returned before the other writer committed"
                );
                head
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let next = Head {
            size: size * 7 + 7,
            root: [size as u8 + 1; 32],
            frontier: vec![[3; 32]],
            checkpoint: format!("checkpoint {size}"),
        };
        txn.set_head(&next).expect("set head");
        committing.store(true, Ordering::SeqCst);
        txn.commit().expect("commit");
        let seen = waiter.join().expect("waiter");
        assert_eq!(seen, next, "the waiting writer sees the committed head");
        // Leave the head at size 7 for the next round's check.
        let mut txn = first.begin().expect("begin");
        txn.head().expect("head");
        txn.set_head(&Head { size: 7, ..next }).expect("reset");
        txn.commit().expect("commit");
    }
    assert_eq!(
        first.checkpoints().expect("checkpoints").len(),
        2,
        "sizes 7 and 14 recorded once each"
    );
}

/// Several processes opening a fresh schema at once: one creates and migrates it, the others
/// wait on the advisory locks and find it done.
#[test]
fn concurrent_migrations_are_safe() {
    let mut schemas = Schemas::new();
    let name = schemas.fresh();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (url, name) = (schemas.url.clone(), name.clone());
            std::thread::spawn(move || PgStore::connect_schema(&url, &name).map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("connect and migrate");
    }
    let mut store = PgStore::connect_schema(&schemas.url, &name).expect("connect");
    let count: i64 = store
        .client()
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .expect("count")
        .get(0);
    assert_eq!(count, i64::from(PgStore::schema_version()));
}

#[test]
fn access_log_refuses_edits_and_deletes() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
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
    for sql in [
        "UPDATE access_log SET purpose = 'nothing'",
        "DELETE FROM access_log",
    ] {
        let err = store.client().execute(sql, &[]).expect_err(sql);
        let detail = err
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(detail.contains("append-only"), "{sql}: {detail}");
    }
    assert_eq!(store.access_to(&[7; 32], None, 5).expect("read").len(), 1);
}

/// TRUNCATE fires no row trigger: a statement trigger refuses it (migration 6). And a row
/// removed or altered with every trigger disabled is named by the audit, through the
/// `access_logged` entry that chains it into the log.
#[test]
fn access_log_refuses_truncate_and_the_audit_names_rows_removed_behind_its_back() {
    let mut schemas = Schemas::new();
    let mut records = Records::init(
        schemas.store(),
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    let id = worker_zero();
    records
        .append(vec![platform(), person(&id)])
        .expect("append");
    let key = records.person_key(&id).0;
    let read = |purpose: &str| anxin_records::access::AccessRow {
        id: 0,
        at: 1_700_000_000,
        account: 1,
        username: "clerk.hz".into(),
        role: "clerk".into(),
        person: key,
        what: "record".into(),
        purpose: purpose.into(),
    };
    let first = records.log_access(read("办理转移接续")).expect("log").size - 1;
    records.log_access(read("核对缴费")).expect("log");
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.access_rows, 2);

    let client = records.store().client();
    let err = client
        .batch_execute("TRUNCATE access_log")
        .expect_err("TRUNCATE is refused");
    let detail = err
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(detail.contains("append-only"), "{detail}");
    client
        .batch_execute(
            "SET session_replication_role = replica;
             UPDATE access_log SET purpose = '随便看看' WHERE purpose = '核对缴费';
             DELETE FROM access_log WHERE purpose = '办理转移接续';
             SET session_replication_role = DEFAULT;",
        )
        .expect("tamper with the triggers disabled");
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    let found: Vec<&str> = report.findings.iter().map(|f| f.en.as_str()).collect();
    assert!(
        found.contains(
            &format!("the access_log row recorded by log entry #{first} was deleted").as_str()
        ),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("access_log row id 2 was edited")),
        "{found:?}"
    );
    // With the triggers disabled TRUNCATE goes through; the audit names every row.
    records
        .store()
        .client()
        .batch_execute(
            "ALTER TABLE access_log DISABLE TRIGGER access_log_no_truncate; TRUNCATE access_log;",
        )
        .expect("truncate with the trigger disabled");
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    let deleted = report
        .findings
        .iter()
        .filter(|f| f.table == "access_log" && f.en.ends_with("was deleted"))
        .count();
    assert_eq!(deleted, 2, "{:?}", report.findings);
}

/// A schema as a program of `version` left it: the first `version` migrations, run from the
/// files as released.
fn database_at(schemas: &mut Schemas, version: usize) -> postgres::Client {
    let name = schemas.fresh();
    let mut client = postgres::Client::connect(&schemas.url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{name}\"; SET search_path TO \"{name}\";
             CREATE TABLE schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             );"
        ))
        .expect("schema");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= version, "{files:?}");
    for (i, file) in files.iter().take(version).enumerate() {
        client
            .batch_execute(&std::fs::read_to_string(file).expect("read"))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        client
            .execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .expect("version");
    }
    client
}

/// The ids PostgreSQL stores a contribution's codes as are the records service's lists
/// (`anxin_records::stored_codes`), as SQLite's are.
#[test]
fn stored_codes_are_the_shared_lists() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let table: Vec<(String, i64, String)> = store
        .client()
        .query(
            "SELECT list, id::bigint, code FROM stored_codes ORDER BY list, id",
            &[],
        )
        .expect("table")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(table, anxin_records::stored_codes::table());
}

/// Every kind of event reads back as written, a kind the migration did not list included (it
/// is given the next id); certificates are found by their fixed id.
#[test]
fn every_event_kind_reads_back() {
    let mut schemas = Schemas::new();
    let mut store = schemas.store();
    let kinds = [
        "contribution_recorded",
        "person_registered",
        "org_registered",
        "child_registered",
        "certificate_issued",
        "access_logged",
        "case_step",
        "case_evidence",
        "transfer_step",
        "alert_step",
        "a_kind_from_later",
    ];
    let events: Vec<EventRow> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| EventRow {
            seq: i as u64,
            key: format!("k-{i}"),
            kind: kind.to_string(),
            body: format!("{{\"i\":{i}}}").into_bytes(),
            leaf: [i as u8; 32],
        })
        .collect();
    for batch in [&events[..6], &events[6..]] {
        let mut txn = store.begin().expect("begin");
        txn.write(&WriteBatch {
            events: batch.to_vec(),
            ..WriteBatch::default()
        })
        .expect("write");
        txn.commit().expect("commit");
    }
    let read: Vec<String> = store
        .events(0, kinds.len() as u64)
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(read, kinds);
    let certificates = store.certificate_events(0, 100).expect("certificates");
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].key, "k-4");
    let later: i16 = store
        .client()
        .query_one(
            "SELECT id FROM event_kinds WHERE name = 'a_kind_from_later'",
            &[],
        )
        .expect("id")
        .get(0);
    assert_eq!(later, 11);
}

/// A database written before migration 19 (codes, kinds and person keys spelled out in every
/// row) reads the same after it, every code of every list; the `contributions` view still reads
/// the codes as text, and a row whose code was edited to no code reads as corrupt instead of
/// stopping the migration.
#[test]
fn migration_19_reads_every_code_the_same() {
    use anxin_domain::codes::{GapReason, Insurance, Payer, Status};
    let mut schemas = Schemas::new();
    let mut client = database_at(&mut schemas, 18);
    let person = [7u8; 32];
    let edited = [8u8; 32];
    let mut written = Vec::new();
    for i in 0..6usize {
        let insurance = Insurance::ALL[i % Insurance::ALL.len()].as_str();
        let payer = Payer::ALL[i % Payer::ALL.len()].as_str();
        let status = Status::ALL[i % Status::ALL.len()].as_str();
        let reason = GapReason::ALL[i].as_str();
        let seq = i as i64 + 1;
        client
            .execute(
                "INSERT INTO events (seq, key, kind, body, leaf)
                 VALUES ($1, $2, 'contribution_recorded', '', $3)",
                &[&seq, &format!("c-{seq}"), &vec![0u8; 32]],
            )
            .expect("event");
        client
            .execute(
                "INSERT INTO contributions (seq, record_id, person, month, insurance, region, payer,
                 payer_code, base_fen, amount_fen, account_fen, status, reason, paid_on)
                 VALUES ($1, $2, $3, $4, $5, 330100, $6, $7, 500000, 100000, 40000, $8, $9, $10)",
                &[
                    &seq,
                    &format!("c-{seq}"),
                    &&person[..],
                    &(24312 + i as i32 % 2),
                    &insurance,
                    &payer,
                    &(if payer == "platform" || payer == "employer" {
                        "91330100MA2XXXXX0X"
                    } else {
                        ""
                    }),
                    &status,
                    &(i != 0).then_some(reason),
                    &(i % 2 == 0).then_some("2026-01-15"),
                ],
            )
            .expect("row of schema 18");
        written.push((seq, insurance, payer, status, (i != 0).then_some(reason)));
    }
    client
        .batch_execute(
            "INSERT INTO events (seq, key, kind, body, leaf)
             VALUES (7, 'c-7', 'contribution_recorded', '', decode(repeat('00', 32), 'hex')),
                    (8, 'later', 'a_kind_from_later', '{}', decode(repeat('00', 32), 'hex'));
             INSERT INTO contributions (seq, record_id, person, month, insurance, region, payer,
                 payer_code, base_fen, amount_fen, account_fen, status)
             VALUES (7, 'c-7', '\\x0808080808080808080808080808080808080808080808080808080808080808',
                     24312, 'pension', 330100, 'self', '', 1, 1, 0, 'bogus');",
        )
        .expect("an edited row and a later kind");
    let mut store = PgStore::from_client(client).expect("migrated");

    let rows = store.contributions(1, 7).expect("read");
    let read: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.seq as i64,
                r.insurance.as_str(),
                r.payer.as_str(),
                r.status.as_str(),
                r.reason.map(|g| g.as_str()),
            )
        })
        .collect();
    assert_eq!(read, written);
    assert_eq!(rows[0].paid_on.as_deref(), Some("2026-01-15"));
    assert_eq!(rows[1].paid_on, None);
    assert_eq!(rows[0].record_id, "c-1");

    // The person's rows in the order they sorted in as text.
    let of = store.contributions_of(&person).expect("of");
    assert_eq!(of.len(), 6);
    let order: Vec<_> = of.iter().map(|r| (r.month, r.insurance.as_str())).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    // The view, for anyone reading with SQL, still says the codes and the record IDs.
    let view: Vec<(String, String, String, String, Option<String>)> = store
        .client()
        .query(
            "SELECT record_id, insurance, payer, status, reason FROM contributions
             WHERE seq <= 6 ORDER BY seq",
            &[],
        )
        .expect("view")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let expected: Vec<_> = written
        .iter()
        .map(|w| {
            (
                format!("c-{}", w.0),
                w.1.to_string(),
                w.2.to_string(),
                w.3.to_string(),
                w.4.map(String::from),
            )
        })
        .collect();
    assert_eq!(view, expected);

    // A kind the migration did not list keeps its name, under the next id.
    let events = store.events(7, 9).expect("events");
    assert_eq!(events[1].kind, "a_kind_from_later");

    // The edited row is kept, and reads as corrupt.
    let stored: i16 = store
        .client()
        .query_one("SELECT status FROM contribution_rows WHERE seq = 7", &[])
        .expect("kept")
        .get(0);
    assert_eq!(stored, -1);
    let err = store.contributions_of(&edited).expect_err("corrupt");
    assert!(
        err.to_string().contains("not a stored status code"),
        "{err}"
    );
}

/// A payer's workers page the same whether a page walks the persons or sorts the payer's rows.
#[test]
fn payer_pages_walking_and_sorting_agree() {
    let mut schemas = Schemas::new();
    conformance::payer_pages_walking_and_sorting_agree(
        schemas.store(),
        &mut |store: &mut PgStore, code, after, limit, walk| {
            store.payer_workers_walking(code, after, limit, walk)
        },
    );
}
