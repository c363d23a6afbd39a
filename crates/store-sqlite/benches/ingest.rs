//! Ingest, proof and audit figures on SQLite, each beside a baseline run in the same process.
//!
//! `cargo bench -p anxin-store-sqlite --bench ingest` (release). Set `ANXIN_BENCH_RECORDS` to
//! change the number of contribution records (default 1,000,000).
//!
//! - ingest: `Records::append_all` in batches of 100,000 (`ANXIN_BENCH_BATCH`; what `anxin
//!   import` writes) — canonical event, leaf hash, registry and slot checks, contribution row,
//!   double entries, frontier, signed checkpoint, durable commit (WAL, synchronous=FULL), the
//!   next batch prepared on the other core meanwhile — against SQLite alone writing the same
//!   rows with the same schema and indexes, against the ledger one batch at a time
//!   (`Records::append`), and against a plain bulk insert of the same contribution rows (same
//!   columns, same batch size, same pragmas, no log, no checks, no index but the key).
//! - inclusion proof: from the in-memory tree rebuilt from the stored leaves; the rebuild is
//!   timed too.
//! - full-log verification: `audit` without projections (every event re-hashed, the tree
//!   recomputed and checked against every signed checkpoint), then with projections.

use std::time::Instant;

use anxin_import::Payer;
use anxin_records::conformance::{contribution, person, platform, resident_id, secrets};
use anxin_records::store::WriteBatch;
use anxin_records::{AuditScope, Input, Records, Store, Suite};
use anxin_store_sqlite::{SqliteStore, codes};

fn batch_size() -> usize {
    std::env::var("ANXIN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn main() {
    let total: usize = std::env::var("ANXIN_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let persons = (total / 100).max(1);
    let person_major = std::env::var("ANXIN_BENCH_ORDER").is_ok_and(|v| v == "person");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "records: {total} contributions of {persons} persons, batches of {}, {} order",
        batch_size(),
        if person_major {
            "person-by-person"
        } else {
            "month-by-month"
        }
    );

    // Inputs are built before timing: parsing files is the import crate's cost, not the ledger's.
    // Distinct resident IDs for up to 23.5 M persons: 1,000 a birth day, on days 1–28 of
    // every month from 1950 to 2019.
    let ids: Vec<_> = (0..persons)
        .map(|p| {
            let (day, month, year) = (
                1 + (p / 1_000) % 28,
                1 + (p / 28_000) % 12,
                1950 + p / 336_000,
            );
            resident_id(&format!("330106{year}{month:02}{day:02}{:03}", p % 1_000))
        })
        .collect();
    let mut inputs: Vec<Input> = Vec::with_capacity(total);
    for i in 0..total {
        // Month by month (a platform's monthly report, the common and the harder case: every
        // batch touches every person's index pages) or person by person (ANXIN_BENCH_ORDER=person:
        // histories, as in a transfer).
        let (p, m) = if person_major {
            (i / 100, i % 100)
        } else {
            (i % persons, i / persons)
        };
        let month = format!("{}-{:02}", 2016 + m / 12, m % 12 + 1);
        let payer = if i % 3 == 0 {
            Payer::Platform
        } else {
            Payer::Individual
        };
        inputs.push(contribution(
            &ids[p],
            &format!("r{i}"),
            &month,
            payer,
            "962.40",
        ));
    }

    // The ledger: the next batch prepared on the other core while one is written
    // (`Records::append_all`, as `anxin import` runs), and then one batch at a time
    // (`Records::append`, preparing and writing in turn) into a database of its own.
    let serial_dir = dir.path().join("serial");
    std::fs::create_dir_all(&serial_dir).expect("dir");
    let (serial_s, serial_written, _) = ledger(&serial_dir, &ids, &inputs, false);
    let (ledger_s, ledger_written, mut records) = ledger(dir.path(), &ids, &inputs, true);
    let size = records.store().head().expect("head").size;
    assert_eq!(size as usize, total + persons + 1);

    // Bytes on disk per record: the ledger's file after a checkpoint (WAL folded in), and
    // where they go (SQLite's dbstat: each table and index).
    let ledger_bytes = disk_bytes(records.store().connection());
    let ledger_tables = dbstat(records.store().connection());

    // Baseline 1, SQLite alone: a fresh database with the same schema and indexes (the same
    // migrations, the same pragmas), the same registry rows written untimed, then the same
    // event and contribution rows — read back from the ledger, so the same bytes — written
    // by the store's own `Txn::write` in the same batches: no lookups, no checks, no hashing,
    // no tree hashes, no head, no signature.
    let first_seq = (persons + 1) as u64;
    let mut events = Vec::with_capacity(total);
    let mut contributions = Vec::with_capacity(total);
    let mut registry_events = Vec::new();
    {
        let store = records.store();
        let mut from = 0;
        while from < size {
            let to = (from + 65_536).min(size);
            for mut e in Store::events(store, from, to).expect("events") {
                // Stored as the ledger stores it: a contribution's bytes once, in its row.
                if e.kind == anxin_records::store::REBUILT_KIND {
                    e.body.clear();
                }
                if e.seq < first_seq {
                    registry_events.push(e);
                } else {
                    events.push(e);
                }
            }
            contributions.extend(Store::contributions(store, from, to).expect("contributions"));
            from = to;
        }
    }
    assert_eq!(events.len(), total);
    assert_eq!(contributions.len(), total);
    let mut alone = SqliteStore::open(&dir.path().join("alone.db")).expect("open");
    {
        let registry = WriteBatch {
            events: registry_events,
            persons: records.store().persons_all().expect("persons"),
            orgs: records.store().orgs_all().expect("orgs"),
            ..WriteBatch::default()
        };
        let mut txn = alone.begin().expect("begin");
        txn.write(&registry).expect("registry");
        txn.commit().expect("commit");
    }
    // Baseline 1b: the same rows in log order through plain statements, not the store's write
    // (both write in log order since migration 19); the better of the two is the database's
    // own rate.
    let mut in_order = SqliteStore::open(&dir.path().join("in_order.db")).expect("open");
    {
        let conn = in_order.connection();
        conn.execute_batch(&format!(
            "ATTACH '{}' AS alone; INSERT INTO main.events SELECT * FROM alone.events;
             INSERT INTO main.persons SELECT * FROM alone.persons; INSERT INTO main.orgs SELECT * FROM alone.orgs;
             DETACH alone;",
            dir.path().join("alone.db").display()
        ))
        .expect("registry");
    }
    let started = Instant::now();
    for (ev, co) in events
        .chunks(batch_size())
        .zip(contributions.chunks(batch_size()))
    {
        let tx = in_order.connection().transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO events (seq, key, kind, body, leaf)
                     VALUES (?1, ?2, (SELECT id FROM event_kinds WHERE name = ?3), ?4, ?5)",
                )
                .expect("prepare");
            for e in ev {
                stmt.execute(rusqlite::params![
                    e.seq as i64,
                    e.key,
                    e.kind,
                    e.body,
                    &e.leaf[..]
                ])
                .expect("insert");
            }
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO person_ids (person) VALUES (?1) ON CONFLICT (person) DO NOTHING",
                )
                .expect("prepare");
            for c in co {
                stmt.execute([&c.person[..]]).expect("insert");
            }
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO contribution_rows (seq, pid, month, insurance, region, payer, payer_code,
                     base_fen, amount_fen, account_fen, status, reason, paid_on)
                     VALUES (?1, (SELECT pid FROM person_ids WHERE person = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .expect("prepare");
            for c in co {
                stmt.execute(rusqlite::params![
                    c.seq as i64,
                    &c.person[..],
                    c.month,
                    codes::id(c.insurance).expect("id"),
                    c.region,
                    codes::id(c.payer).expect("id"),
                    c.payer_code,
                    c.base_fen,
                    c.amount_fen,
                    c.account_fen,
                    codes::id(c.status).expect("id"),
                    c.reason.map(|g| codes::id(g).expect("id")),
                    c.paid_on
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let in_order_s = started.elapsed().as_secs_f64();
    let in_order_bytes = disk_bytes(in_order.connection());
    drop(in_order);

    let started = Instant::now();
    let wrote = written();
    let mut ev = events.into_iter();
    let mut co = contributions.into_iter();
    loop {
        let batch = WriteBatch {
            events: ev.by_ref().take(batch_size()).collect(),
            contributions: co.by_ref().take(batch_size()).collect(),
            ..WriteBatch::default()
        };
        if batch.events.is_empty() {
            break;
        }
        let mut txn = alone.begin().expect("begin");
        txn.write(&batch).expect("write");
        txn.commit().expect("commit");
    }
    let alone_s = started.elapsed().as_secs_f64();
    let alone_written = written_since(wrote);
    let alone_bytes = disk_bytes(alone.connection());
    let alone_tables = dbstat(alone.connection());
    drop(alone);

    // Baseline 2 (kept from earlier runs): the contribution rows alone into a table with
    // only its key.
    let mut plain = SqliteStore::open(&dir.path().join("plain.db")).expect("open");
    let conn = plain.connection();
    conn.execute_batch(
        "CREATE TABLE plain (seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, person BLOB NOT NULL, month INTEGER NOT NULL,
         insurance TEXT NOT NULL, region INTEGER NOT NULL, payer TEXT NOT NULL, payer_code TEXT NOT NULL, base_fen INTEGER NOT NULL,
         amount_fen INTEGER NOT NULL, account_fen INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, paid_on TEXT)",
    )
    .expect("table");
    let key = secrets(Suite::Standard).data_key;
    let rows: Vec<_> = inputs
        .iter()
        .map(|input| match input {
            Input::Contribution(c) => (
                c.record_id.clone(),
                key.person_key(&c.person_id).0,
                c.month.index(),
                c.payer,
                c.payer_code
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                c.amount.0,
            ),
            _ => unreachable!(),
        })
        .collect();
    let started = Instant::now();
    for (b, chunk) in rows.chunks(batch_size()).enumerate() {
        let tx = conn.transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO plain VALUES (?1, ?2, ?3, ?4, 'pension', 330100, ?5, ?6, 481200, ?7, 0, 'paid', NULL, NULL)")
                .expect("prepare");
            for (i, r) in chunk.iter().enumerate() {
                stmt.execute(rusqlite::params![
                    (b * batch_size() + i) as i64,
                    r.0,
                    &r.1[..],
                    r.2,
                    r.3.as_str(),
                    r.4,
                    r.5
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let plain_s = started.elapsed().as_secs_f64();
    drop(plain);
    let ledger_rate = total as f64 / ledger_s;
    let alone_rate = total as f64 / alone_s;
    let plain_rate = total as f64 / plain_s;
    println!(
        "ingest, ledger:        {ledger_s:7.2} s  {ledger_rate:>10.0} records/s  (target ≥ 200,000/s: {:.2}×)",
        ledger_rate / 200_000.0
    );
    let serial_rate = total as f64 / serial_s;
    println!(
        "ingest, ledger, one batch at a time (no batch prepared ahead): {serial_s:7.2} s  {serial_rate:>10.0} records/s  (prepared ahead / this = {:.2}; ledger / alone = {:.2})",
        ledger_rate / serial_rate,
        serial_rate / (total as f64 / alone_s)
    );
    let in_order_rate = total as f64 / in_order_s;
    println!(
        "ingest, SQLite alone (same schema, indexes, rows, batches; the store's write): {alone_s:7.2} s  {alone_rate:>10.0} rows/s  (ledger / alone = {:.2}; target ≥ 0.8)",
        ledger_rate / alone_rate
    );
    if let (Some(l), Some(a)) = (ledger_written, alone_written) {
        println!(
            "bytes written while ingesting (WAL and checkpoints, /proc/self/io wchar): ledger {} per record, SQLite alone {} per record, ledger one batch at a time {} per record",
            l / total as u64,
            a / total as u64,
            serial_written.map_or(0, |s| s / total as u64)
        );
    }
    println!(
        "ingest, SQLite alone, rows in log order: {in_order_s:7.2} s  {in_order_rate:>10.0} rows/s  (ledger / this = {:.2}; {} bytes/entry)",
        ledger_rate / in_order_rate,
        in_order_bytes / size
    );
    println!(
        "ingest, plain insert:  {plain_s:7.2} s  {plain_rate:>10.0} rows/s     (ledger / plain = {:.2})",
        ledger_rate / plain_rate
    );
    let records_n = size as f64;
    println!(
        "bytes on disk per log entry: ledger {:.0} ({} MB for {size} entries), SQLite alone {:.0}",
        ledger_bytes as f64 / records_n,
        ledger_bytes >> 20,
        alone_bytes as f64 / records_n
    );
    for (name, bytes) in &ledger_tables {
        let alone = alone_tables
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b);
        if *bytes as f64 / records_n >= 0.5 || alone as f64 / records_n >= 0.5 {
            println!(
                "    {name:<32} ledger {:>6.1} B/entry   alone {:>6.1} B/entry",
                *bytes as f64 / records_n,
                alone as f64 / records_n
            );
        }
    }

    // Inclusion proofs.
    let started = Instant::now();
    let tree = records.rebuild_tree().expect("tree");
    let rebuild_s = started.elapsed().as_secs_f64();
    let n = 100_000u64;
    let started = Instant::now();
    let mut sink = 0u8;
    for i in 0..n {
        let proof = tree
            .inclusion_proof((i * 7919) % size, size)
            .expect("proof");
        sink ^= proof[0][0];
    }
    let proof_us = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "log verification from the stored leaf hashes (tree rebuilt, root = signed head): {rebuild_s:.2} s = {:.0} leaves/s (target ≥ 1,000,000/s: {:.2}×); inclusion proof from that tree: {proof_us:.2} µs (target < 100 µs: {:.0}× under) [{sink}]",
        size as f64 / rebuild_s,
        size as f64 / rebuild_s / 1e6,
        100.0 / proof_us
    );
    // Proofs from the stored tree hashes (C2SP tiles, migration 9): no tree in memory; each
    // proof reads O(log n) stored hashes and is checked against the signed head.
    let started = Instant::now();
    for i in 0..1_000u64 {
        let (_, _, proof) = records
            .inclusion_proof((i * 7919) % size)
            .expect("stored proof");
        sink ^= proof[0][0];
    }
    let stored_us = started.elapsed().as_secs_f64() * 1e6 / 1_000.0;
    println!(
        "inclusion proof from stored hashes (no tree held): {stored_us:.1} µs vs a tree rebuilt for it {:.0} µs ({:.0}× faster) [{sink}]",
        rebuild_s * 1e6,
        rebuild_s * 1e6 / stored_us
    );
    let started = Instant::now();
    let hasher = records.hasher();
    for i in 0..10_000u64 {
        let seq = (i * 7919) % size;
        let proof = tree.inclusion_proof(seq, size).expect("proof");
        let leaf = tree.leaf_hash(seq).copied().expect("leaf");
        anxin_ledger::verify_inclusion(&hasher, seq, size, &leaf, &proof, &tree.root())
            .expect("verifies");
    }
    println!(
        "inclusion proof generate + verify: {:.2} µs",
        started.elapsed().as_secs_f64() * 1e6 / 10_000.0
    );

    // Full-log verification.
    let started = Instant::now();
    let report = records
        .audit(None, AuditScope { projections: false })
        .expect("audit");
    let log_s = started.elapsed().as_secs_f64();
    assert!(report.is_clean());
    println!(
        "audit, log only:       {log_s:7.2} s  {:>10.0} leaves/s  (target ≥ 1,000,000/s: {:.2}×)",
        size as f64 / log_s,
        size as f64 / log_s / 1e6
    );
    let started = Instant::now();
    let mut scan = records.into_store();
    let mut bytes = 0usize;
    let mut from = 0;
    while from < size {
        let rows = Store::events(&mut scan, from, from + 65_536).expect("scan");
        bytes += rows.iter().map(|r| r.body.len()).sum::<usize>();
        from += 65_536;
    }
    let scan_s = started.elapsed().as_secs_f64();
    println!(
        "baseline, reading the same event rows without checking: {scan_s:.2} s ({:.0} rows/s, {bytes} bytes); audit / read = {:.2}",
        size as f64 / scan_s,
        log_s / scan_s
    );
    let mut records = Records::open(scan, secrets(Suite::Standard)).expect("reopen");
    let started = Instant::now();
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    let full_s = started.elapsed().as_secs_f64();
    assert!(report.is_clean(), "{:?}", report.findings);
    println!(
        "audit, with projections: {full_s:5.2} s  {:>10.0} events/s ({} contributions, {} postings, sum {} fen)",
        size as f64 / full_s,
        report.contributions,
        report.postings,
        report.postings_sum_fen
    );
}

/// Bytes this process has passed to `write` so far (Linux `/proc/self/io`, `wchar`): the WAL
/// frames and the checkpoints' copies of them. `None` where there is no such file.
fn written() -> Option<u64> {
    std::fs::read_to_string("/proc/self/io")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("wchar: "))?
        .trim()
        .parse()
        .ok()
}

/// Bytes written since `before` (a [`written`] reading).
fn written_since(before: Option<u64>) -> Option<u64> {
    Some(written()? - before?)
}

/// The database's size on disk after its WAL is folded in.
fn disk_bytes(conn: &rusqlite::Connection) -> u64 {
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let pages: u64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    let page: u64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size");
    pages * page
}

/// Bytes of each table and index (SQLite's dbstat virtual table), largest first.
fn dbstat(conn: &rusqlite::Connection) -> Vec<(String, u64)> {
    let mut stmt = conn
        .prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        .expect("dbstat");
    stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })
    .expect("dbstat")
    .collect::<rusqlite::Result<_>>()
    .expect("dbstat rows")
}

/// Ingests `inputs` into a fresh ledger in `dir` (`ledger.db`), after the registry of `ids`
/// (untimed): pipelined by `Records::append_all`, or one `Records::append` after another.
/// The seconds, the bytes written meanwhile and the records.
fn ledger(
    dir: &std::path::Path,
    ids: &[anxin_domain::ResidentId],
    inputs: &[Input],
    pipelined: bool,
) -> (f64, Option<u64>, Records<SqliteStore>) {
    let mut records = Records::init(
        SqliteStore::open(&dir.join("ledger.db")).expect("open"),
        secrets(Suite::Standard),
        Suite::Standard,
        "bench/log",
    )
    .expect("init");
    let mut registry = vec![platform()];
    registry.extend(ids.iter().map(person));
    for chunk in registry.chunks(batch_size()) {
        records.append(chunk.to_vec()).expect("registry");
    }
    let added = |committed: &anxin_records::Committed| {
        debug_assert!(
            committed
                .outcomes
                .iter()
                .all(|o| matches!(o, anxin_records::Outcome::Added(_)))
        );
    };
    let batches = inputs.chunks(batch_size()).map(<[Input]>::to_vec);
    let started = Instant::now();
    let wrote = written();
    if pipelined {
        records
            .append_all(batches, &mut |committed| {
                added(&committed);
                Ok(())
            })
            .expect("append");
    } else {
        for batch in batches {
            added(&records.append(batch).expect("append"));
        }
    }
    (
        started.elapsed().as_secs_f64(),
        written_since(wrote),
        records,
    )
}
