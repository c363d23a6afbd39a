//! The benchmark's driver (`scripts/bench-monitor.sh`): the same library calls as
//! `anxin monitor gen|ingest|run`, in a small binary so that a release build needs only this
//! crate's dependencies. Not a test: it prints one JSON line per step.
//!
//! bench gen OUT WORKERS ORDERS SEED
//! bench ingest DATA PLATFORMS.csv INSURED.csv FILE...   (files named CODE-YYYY-MM.parquet)
//! bench run DATA YYYY-MM THREADS
//! bench explain DATA YYYY-MM QUERY|FILE.sql THREADS     (EXPLAIN ANALYZE of one query, or of a
//!                                                       variant in a file, with its seconds)

use std::path::{Path, PathBuf};

use anxin_domain::YearMonth;
use anxin_monitor::platforms::Registry;
use anxin_monitor::{ingest, layout, run, synth};
use anxin_records::keys::DataKey;

fn key() -> DataKey {
    // A fixed key: the benchmark's data is synthetic.
    DataKey::from_secret(&[42u8; 32])
}

fn main() -> Result<(), String> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let err = |e: anxin_monitor::Error| e.en;
    let t0 = std::time::Instant::now();
    match a.first().map(String::as_str) {
        Some("gen") if a.len() == 5 => {
            let o = synth::GenOptions {
                workers: a[2].parse().map_err(|_| "workers")?,
                orders: a[3].parse().map_err(|_| "orders")?,
                seed: a[4].parse().map_err(|_| "seed")?,
                month: YearMonth::new(2026, 3).ok_or("month")?,
                months: 1,
                format: synth::Format::Parquet,
            };
            let s = synth::generate(Path::new(&a[1]), &o).map_err(err)?;
            let bytes: u64 = s.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
            println!(
                "{}",
                serde_json::json!({"step": "gen", "orders": s.orders, "workers": s.workers, "delivery_bytes": bytes, "seconds": t0.elapsed().as_secs_f64()})
            );
        }
        Some("ingest") if a.len() >= 4 => {
            let data = PathBuf::from(&a[1]);
            let reg = Registry::read(Path::new(&a[2])).map_err(err)?;
            reg.write(&layout::platforms_file(&data)).map_err(err)?;
            let k = key();
            let runs = ingest::load_insured(&data, &k, Path::new(&a[3])).map_err(err)?;
            let t1 = std::time::Instant::now();
            let (mut rows, mut landed, mut bytes) = (0u64, 0u64, 0u64);
            for f in &a[4..] {
                let p = Path::new(f);
                let stem = p.file_stem().and_then(|s| s.to_str()).ok_or("file name")?;
                let (code, m) = stem.split_at(18);
                let month = YearMonth::parse(m.trim_start_matches('-')).map_err(|_| "month in file name")?;
                let r = ingest::ingest(
                    &data,
                    &k,
                    &reg,
                    &ingest::IngestOptions { file: p, platform: code, month, now: jiff::Timestamp::now() },
                )
                .map_err(err)?;
                rows += r.rows;
                landed += r.landed;
                bytes += r.file_bytes;
            }
            let secs = t1.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({"step": "ingest", "rows": rows, "landed": landed, "stored_bytes": bytes,
                    "bytes_per_order": bytes as f64 / landed.max(1) as f64, "orders_per_second": rows as f64 / secs,
                    "insured_runs": runs, "seconds": secs})
            );
        }
        Some("run") if a.len() == 4 => {
            let data = PathBuf::from(&a[1]);
            let reg = Registry::of_data_dir(&data).map_err(err)?;
            let policy = anxin_policy::Policy::embedded().map_err(|e| format!("{e:?}"))?;
            let month = YearMonth::parse(&a[2]).map_err(|_| "month")?;
            let o = run::RunOptions {
                region: "330000".into(),
                month,
                reforms: vec!["platform-union-dues".into()],
                threads: a[3].parse().map_err(|_| "threads")?,
            };
            let r = run::run(&data, &policy, &reg, &o).map_err(err)?;
            let dir = layout::runs_dir(&data, month);
            run::write_outputs(&dir, &r).map_err(err)?;
            println!(
                "{}",
                serde_json::json!({"step": "run", "alerts": r.alerts.len(), "compliance": r.compliance.len(),
                    "injury": r.injury.len(), "queries": r.seconds, "seconds": t0.elapsed().as_secs_f64(),
                    "results": dir})
            );
        }
        Some("explain") if a.len() == 5 => {
            let policy = anxin_policy::Policy::embedded().map_err(|e| format!("{e:?}"))?;
            let o = run::RunOptions {
                region: "330000".into(),
                month: YearMonth::parse(&a[2]).map_err(|_| "month")?,
                reforms: vec!["platform-union-dues".into()],
                threads: a[4].parse().map_err(|_| "threads")?,
            };
            // A query's name, or a file of SQL with the same placeholders (a variant to try).
            let plan = if a[3].ends_with(".sql") {
                let sql = std::fs::read_to_string(&a[3]).map_err(|e| format!("{}: {e}", a[3]))?;
                run::explain_sql(Path::new(&a[1]), &policy, &o, &sql)
            } else {
                run::explain(Path::new(&a[1]), &policy, &o, &a[3])
            };
            println!("{}", plan.map_err(err)?);
            eprintln!("seconds: {:.3}", t0.elapsed().as_secs_f64());
        }
        _ => return Err("usage: bench gen OUT WORKERS ORDERS SEED | ingest DATA PLATFORMS INSURED FILE... | run DATA YYYY-MM THREADS | explain DATA YYYY-MM QUERY|FILE.sql THREADS".into()),
    }
    Ok(())
}
