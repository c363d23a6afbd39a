//! Measures what SQLite alone costs for the ledger's rows (no records layer): 1 M contribution
//! records, month by month, batches of 50,000, WAL with synchronous=FULL, for a few schemas.
//! `cargo run --release -p anxin-store-sqlite --example schema_cost -- VARIANT...`
use std::time::Instant;

fn main() {
    let total: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let persons = total / 100;
    let batch = 50_000;
    for variant in std::env::args().skip(1) {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("x.db")).unwrap();
        let page = if variant.contains("p8k") {
            8192
        } else if variant.contains("p16k") {
            16384
        } else {
            4096
        };
        conn.execute_batch(&format!(
            "PRAGMA page_size = {page}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             PRAGMA cache_size = -262144; PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY;"
        )).unwrap();
        let events = !variant.contains("noevents");
        let contribs = !variant.contains("nocontrib");
        conn.execute_batch("CREATE TABLE events (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, body BLOB NOT NULL, leaf BLOB NOT NULL);
            CREATE TABLE contributions (seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, person BLOB NOT NULL, month INTEGER NOT NULL,
            insurance TEXT NOT NULL, region INTEGER NOT NULL, payer TEXT NOT NULL, payer_code TEXT NOT NULL, base_fen INTEGER NOT NULL,
            amount_fen INTEGER NOT NULL, account_fen INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, paid_on TEXT);").unwrap();
        if variant.contains("personslot") {
            conn.execute_batch("CREATE UNIQUE INDEX s ON contributions (person, month, insurance, region, payer, payer_code)").unwrap();
        }
        if variant.contains("monthslot") {
            conn.execute_batch("CREATE UNIQUE INDEX s ON contributions (month, person, insurance, region, payer, payer_code)").unwrap();
        }
        if variant.contains("yearslot") {
            conn.execute_batch("CREATE UNIQUE INDEX s ON contributions (month / 12, person, month, insurance, region, payer, payer_code)").unwrap();
        }
        if variant.contains("person8") {
            conn.execute_batch("CREATE INDEX p8 ON contributions (substr(person, 1, 8))")
                .unwrap();
        }
        if variant.contains("personfull") {
            conn.execute_batch("CREATE INDEX pf ON contributions (person)")
                .unwrap();
        }
        let person_keys: Vec<[u8; 32]> = (0..persons)
            .map(|p| {
                let mut k = [0u8; 32];
                for (i, b) in k.iter_mut().enumerate() {
                    *b = ((p as u64)
                        .wrapping_mul(0x9E3779B97F4A7C15)
                        .rotate_left(i as u32 * 7)
                        >> 13) as u8;
                }
                k
            })
            .collect();
        let body = vec![b'x'; 290];
        let started = Instant::now();
        let mut seq = 0i64;
        let mut commit_s = 0.0;
        for b in 0..total / batch {
            let tx = conn.unchecked_transaction().unwrap();
            {
                let mut ev = tx.prepare_cached("INSERT INTO events (seq, key, kind, body, leaf) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
                let mut co = tx.prepare_cached("INSERT INTO contributions VALUES (?1, ?2, ?3, ?4, 'pension', 330100, ?5, ?6, 481200, 96240, 0, 'paid', NULL, NULL)").unwrap();
                for i in 0..batch {
                    let n = b * batch + i;
                    let (p, m) = if std::env::var("ORDER").is_ok_and(|o| o == "person") {
                        (n / 100, n % 100)
                    } else {
                        (n % persons, n / persons)
                    };
                    let key = format!("r{n}");
                    if events {
                        ev.execute(rusqlite::params![
                            seq,
                            key,
                            "contribution_recorded",
                            &body[..],
                            &person_keys[p][..]
                        ])
                        .unwrap();
                    }
                    if contribs {
                        let payer = if n % 3 == 0 { "platform" } else { "self" };
                        let code = if n % 3 == 0 { "91330100MA27XYZ12X" } else { "" };
                        co.execute(rusqlite::params![
                            seq,
                            key,
                            &person_keys[p][..],
                            24192 + m as i64,
                            payer,
                            code
                        ])
                        .unwrap();
                    }
                    seq += 1;
                }
            }
            let c = Instant::now();
            tx.commit().unwrap();
            commit_s += c.elapsed().as_secs_f64();
        }
        let s = started.elapsed().as_secs_f64();
        let wal = std::fs::metadata(dir.path().join("x.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
        let db = std::fs::metadata(dir.path().join("x.db"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{variant:40} {s:6.2} s {:>9.0}/s  commit {:5.2} µs/rec  insert {:5.2} µs/rec  db {} MB wal {} MB",
            total as f64 / s,
            commit_s * 1e6 / total as f64,
            (s - commit_s) * 1e6 / total as f64,
            db >> 20,
            wal >> 20
        );
    }
}
