//! Peak memory of the log's proofs as the log grows: proofs read from the stored tree hashes
//! (C2SP tiles, migration 9: what `Records` does now) against the whole tree held in memory
//! (what it did before), for logs of 100,000 and 1,000,000 entries. Each measurement runs in
//! a process of its own and reports its peak resident set (`VmHWM`, Linux). SQLite's page
//! cache (the store's `cache_size`, 256 MiB) fills with whatever pages are read, whoever reads
//! them, so anxin's own memory is measured with it held to 2 MiB; the proofs are also run with
//! the store's own cache, to show what a server's process would hold.
//!
//! ```text
//! cargo run --release --example log_memory -p anxin-store-sqlite [-- SIZE ...]
//! ```
//!
//! The logs are written straight through the store's transaction, as `Records::append`
//! writes them (events with their leaf hashes, the tree hashes they complete, a signed head),
//! with short synthetic entries: what is measured is the reading side.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anxin_ledger::{Checkpoint, LogHasher, sign_checkpoint};
use anxin_records::conformance::secrets;
use anxin_records::store::{EventRow, Head, WriteBatch};
use anxin_records::{Frontier, Records, Store, Suite};
use anxin_store_sqlite::SqliteStore;

const ORIGIN: &str = "anxin.test/log";
const PROOFS: u64 = 1_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2], Path::new(&args[3]), args[4] == "small");
        return;
    }
    let sizes: Vec<u64> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|a| a.parse().expect("a size"))
            .collect()
    } else {
        vec![100_000, 1_000_000]
    };
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "| entries | open + head | {PROOFS} proofs from stored hashes | whole tree in memory + {PROOFS} proofs (before) | stored / before | proofs from stored hashes, store's own 256 MiB page cache |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for size in sizes {
        let path = dir.path().join(format!("log-{size}.db"));
        build(&path, size);
        let open = run_child("open", &path, "small");
        let tiles = run_child("tiles", &path, "small");
        let tree = run_child("tree", &path, "small");
        let cached = run_child("tiles", &path, "store");
        println!(
            "| {size} | {} | {} ({:.1} ms) | {} ({:.1} ms) | {:.2} | {} |",
            kib(open.0),
            kib(tiles.0),
            tiles.1,
            kib(tree.0),
            tree.1,
            tiles.0 as f64 / tree.0 as f64,
            kib(cached.0)
        );
    }
}

fn kib(k: u64) -> String {
    format!("{:.1} MiB", k as f64 / 1024.0)
}

/// Runs one measurement in a fresh process: (peak RSS in KiB, milliseconds).
fn run_child(what: &str, path: &Path, cache: &str) -> (u64, f64) {
    let out = Command::new(std::env::current_exe().expect("this program"))
        .args(["--child", what])
        .arg(path)
        .arg(cache)
        .output()
        .expect("run the measurement");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let kib = parts.next().and_then(|p| p.parse().ok()).expect("peak RSS");
    let ms = parts.next().and_then(|p| p.parse().ok()).expect("time");
    (kib, ms)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("Linux /proc")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

fn child(what: &str, path: &Path, small_cache: bool) {
    let mut store = SqliteStore::open(path).expect("open");
    if small_cache {
        store
            .connection()
            .execute_batch("PRAGMA cache_size = -2048")
            .expect("cache size");
    }
    let mut records = Records::open(store, secrets(Suite::Standard)).expect("records");
    let head = records.store().head().expect("head");
    let started = Instant::now();
    let mut sink = 0u8;
    match what {
        "open" => {}
        "tiles" => {
            for i in 0..PROOFS {
                let (_, _, proof) = records
                    .inclusion_proof((i * 7919) % head.size)
                    .expect("proof");
                sink ^= proof[0][0];
            }
        }
        "tree" => {
            let tree = records.rebuild_tree().expect("tree");
            for i in 0..PROOFS {
                let proof = tree
                    .inclusion_proof((i * 7919) % head.size, head.size)
                    .expect("proof");
                sink ^= proof[0][0];
            }
        }
        other => panic!("unknown measurement {other}"),
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    std::hint::black_box(sink);
    println!("{} {ms:.1}", peak_rss_kib());
}

/// A log of `size` short entries, committed 100,000 at a time.
fn build(path: &Path, size: u64) {
    let secrets = secrets(Suite::Standard);
    let signer = secrets.signer.clone();
    let records = Records::init(
        SqliteStore::open(path).expect("create"),
        secrets,
        Suite::Standard,
        ORIGIN,
    )
    .expect("init");
    let hasher = records.hasher();
    let mut store = records.into_store();
    let mut seq = 0u64;
    while seq < size {
        let mut txn = store.begin().expect("begin");
        let head = txn.head().expect("head");
        let mut frontier = Frontier::from_parts(head.size, head.frontier).expect("frontier");
        let mut batch = WriteBatch::default();
        let end = (seq + 100_000).min(size);
        while seq < end {
            let body = format!("{{\"kind\":\"measure\",\"seq\":{seq}}}").into_bytes();
            let leaf = hasher.leaf(&body);
            frontier.push_storing(&hasher, leaf, |t| batch.tree_hashes.push(t));
            batch.events.push(EventRow {
                seq,
                key: format!("m:{seq}"),
                kind: "measure".into(),
                body,
                leaf,
            });
            seq += 1;
        }
        let root = frontier.root(&hasher);
        let checkpoint = sign_checkpoint(
            &signer,
            &Checkpoint::new(ORIGIN.to_string(), frontier.size(), root),
        )
        .expect("sign");
        txn.write(&batch).expect("write");
        txn.set_head(&Head {
            size: frontier.size(),
            root,
            frontier: frontier.hashes().to_vec(),
            checkpoint,
        })
        .expect("head");
        txn.commit().expect("commit");
    }
}
