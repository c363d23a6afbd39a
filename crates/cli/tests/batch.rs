//! `anxin batch` and `anxin simulate` as a user runs them.
//!
//! - batch == the calculators, row by row: the population files in `tests/data/` go through
//!   the binary, and every result row equals what `anxin quote` / the pension calculator gives
//!   that person; each broken row is refused, naming the column the data file expects;
//! - the same seed gives byte-identical tables, and a different seed does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anxin_domain::{Fen, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::pension::{PensionRequest, Scenario, Track, project};
use anxin_policy::calc::quote::{QuoteRequest, quote};

const REGION: &str = "330100";
const MONTH: &str = "2025-08";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anxin"));
    c.env_remove("ANXIN_POLICY");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs `anxin batch KIND FILE` in `dir`; the result file and the rejection report.
fn run_batch(kind: &str, file: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (out, report) = (dir.join("out.csv"), dir.join("refused.csv"));
    let st = bin()
        .args(["batch", kind])
        .arg(file)
        .arg(&out)
        .args(["--region", REGION, "--month", MONTH, "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    (out, report)
}

/// Rows of a CSV file as maps from header to value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|s| s.trim_start_matches('\u{feff}').to_string())
        .collect();
    r.records()
        .map(|rec| {
            h.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn yuan(f: Fen) -> String {
    f.yuan_string()
}

/// The refusals of a report by spreadsheet row: (column, reason).
fn refusals(report: &Path) -> BTreeMap<u64, (String, String)> {
    rows(report)
        .into_iter()
        .map(|r| {
            (
                r["行号 row"].parse().unwrap(),
                (
                    r["列 column"].clone(),
                    format!("{} | {}", r["原因"], r["reason"]),
                ),
            )
        })
        .collect()
}

/// Checks the refusals against the data file's `expect` column (the column refused, or `rule`
/// for a row the rule refuses), and that every other row has a result.
fn check_expectations(
    input: &[BTreeMap<String, String>],
    out: &Path,
    report: &Path,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let refused = refusals(report);
    let results: BTreeMap<String, BTreeMap<String, String>> = rows(out)
        .into_iter()
        .map(|r| (r["id"].clone(), r))
        .collect();
    for (i, row) in input.iter().enumerate() {
        let line = i as u64 + 2;
        let id = &row["id"];
        match row["expect"].as_str() {
            "" => {
                assert!(
                    results.contains_key(id),
                    "{id}: no result; refused as {:?}",
                    refused.get(&line)
                );
                assert!(
                    !refused.contains_key(&line),
                    "{id} refused: {:?}",
                    refused[&line]
                );
            }
            want => {
                let (col, reason) = refused
                    .get(&line)
                    .unwrap_or_else(|| panic!("{id} (row {line}) was not refused"));
                let want_col = if want == "rule" { "" } else { want };
                assert_eq!(col, want_col, "{id}: refused on the wrong column: {reason}");
                assert!(
                    !reason.trim().starts_with('|') && !reason.trim().ends_with('|'),
                    "{id}: a reason in both languages: {reason}"
                );
                assert!(!results.contains_key(id), "{id} refused and computed");
            }
        }
    }
    assert_eq!(
        refused.len(),
        input.iter().filter(|r| !r["expect"].is_empty()).count(),
        "exactly the broken rows are refused"
    );
    results
}

#[test]
fn batch_quote_is_the_quote_calculator_row_by_row() {
    let dir = tmp("quote");
    let (out, report) = run_batch("quote", &data("batch-quote.csv"), &dir);
    let input = rows(&data("batch-quote.csv"));
    let results = check_expectations(&input, &out, &report);
    let policy = Policy::embedded().unwrap();
    let month = YearMonth::parse(MONTH).unwrap();
    let mut checked = 0;
    for row in input.iter().filter(|r| r["expect"].is_empty()) {
        let base = (!row["base"].is_empty()).then(|| Fen::parse_yuan(&row["base"]).unwrap().0);
        let income = Fen::parse_yuan(&row["income"]).unwrap().0;
        let req = QuoteRequest {
            region: REGION.into(),
            month: Some(month),
            base_fen: base,
            income_fen: Some(income),
            ..Default::default()
        };
        let q = quote(&policy, &req, month).unwrap();
        let got = &results[&row["id"]];
        let id = &row["id"];
        assert_eq!(got["base"], yuan(q.base_fen), "{id}");
        assert_eq!(got["monthly"], yuan(q.monthly_fen), "{id}");
        assert_eq!(got["personal_account"], yuan(q.account_fen), "{id}");
        assert_eq!(got["pooling"], yuan(q.monthly_fen - q.account_fen), "{id}");
        assert_eq!(got["net"], yuan(q.net_monthly_fen), "{id}");
        checked += 1;
    }
    assert_eq!(checked, 7);
}

/// The pension rows are people retiring in MONTH: the test finds, for each row's schedule,
/// the birth month that retires then, asks the pension calculator for that person on that
/// day, and writes the batch columns from the same person (the calculation base the
/// calculator used, the index, months, balance and age).
#[test]
fn batch_pension_is_the_pension_calculator_row_by_row() {
    let policy = Policy::embedded().unwrap();
    let month = YearMonth::parse(MONTH).unwrap();
    let input = rows(&data("batch-pension.csv"));
    let dir = tmp("pension");
    let file = dir.join("in.csv");
    let mut w = csv::Writer::from_path(&file).unwrap();
    w.write_record([
        "id",
        "avg_wage",
        "contribution_index",
        "contribution_months",
        "account_balance",
        "retirement_age_months",
    ])
    .unwrap();
    let mut expected = BTreeMap::new();
    for row in &input {
        let track = Track::parse(&row["track"]).unwrap();
        // The person born so that they retire this month (ages 40–70 tried in order).
        let mut found = None;
        for a in 40 * 12..=70 * 12 {
            let birth = month.plus(-a);
            let probe = PensionRequest {
                region: REGION.into(),
                as_of: Some(month),
                birth: Some(birth),
                track,
                ..Default::default()
            };
            let r = project(&policy, &probe, month).unwrap();
            if r.retirement_age_months as i32 == a {
                found = Some((birth, a));
                break;
            }
        }
        let (birth, age) =
            found.unwrap_or_else(|| panic!("{}: no birth month retiring in {month}", row["id"]));
        let age_col = if row["retirement_age_months"].is_empty() {
            age.to_string()
        } else {
            row["retirement_age_months"].clone()
        };
        let mut calc_base = String::from("8310");
        if row["expect"].is_empty() {
            let index = row["contribution_index"]
                .parse::<f64>()
                .map(|x| (x * 10_000.0).round() as u32)
                .unwrap();
            let req = PensionRequest {
                region: REGION.into(),
                as_of: Some(month),
                birth: Some(birth),
                track,
                paid_months: row["contribution_months"].parse().unwrap(),
                account_balance_fen: Fen::parse_yuan(&row["account_balance"]).unwrap().0,
                past_tier_percent: None,
                scenarios: vec![Scenario::Keep],
                ..Default::default()
            };
            // The calculator takes the past index in whole percent; rows with a finer index are
            // compared through the projector the calculator runs (tests/kernels.rs in policy).
            let req = if index % 100 == 0 {
                PensionRequest {
                    past_tier_percent: Some(index / 100),
                    ..req
                }
            } else {
                req
            };
            let r = project(&policy, &req, month).unwrap();
            assert_eq!(r.retirement_month, month);
            calc_base = r.calc_base_fen.yuan_string();
            if index % 100 == 0 {
                expected.insert(row["id"].clone(), r.scenarios[0].clone());
            }
        }
        w.write_record([
            &row["id"],
            &calc_base,
            &row["contribution_index"],
            &row["contribution_months"],
            &row["account_balance"],
            &age_col,
        ])
        .unwrap();
    }
    w.flush().unwrap();
    // The derived file keeps the data file's rows in order, so its expectations still apply.
    let (out, report) = run_batch("pension", &file, &dir);
    let results = check_expectations(&input, &out, &report);
    assert_eq!(expected.len(), 5, "the rows with a whole-percent index");
    for (id, sc) in &expected {
        let got = &results[id];
        assert_eq!(
            got["eligible"],
            if sc.eligible { "yes" } else { "no" },
            "{id}"
        );
        assert_eq!(got["basic_pension"], yuan(sc.basic_fen), "{id}");
        assert_eq!(got["account_pension"], yuan(sc.account_pension_fen), "{id}");
        assert_eq!(
            got["total_pension"],
            yuan(sc.basic_fen + sc.account_pension_fen),
            "{id}"
        );
    }
}

#[test]
fn batch_refuses_a_file_without_its_columns() {
    let dir = tmp("columns");
    let file = dir.join("in.csv");
    std::fs::write(&file, "id,income\n1,5000\n").unwrap();
    let st = bin()
        .args(["batch", "quote"])
        .arg(&file)
        .arg(dir.join("out.csv"))
        .args(["--region", REGION, "--month", MONTH])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("base") && err.contains("缺少"), "{err}");
}

fn simulate(dir: &Path, seed: &str) -> BTreeMap<String, Vec<u8>> {
    let st = bin()
        .args([
            "simulate",
            "--reform",
            "income-band-rate",
            "--reform",
            "provincial-subsidy",
            "--years",
            "4",
            "--persons",
            "6000",
            "--start",
            "2026-07",
            "--seed",
            seed,
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let summary = String::from_utf8(st.stdout).unwrap();
    assert!(summary.contains("对比现行规定"), "{summary}");
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        files.insert(
            p.file_name().unwrap().to_string_lossy().to_string(),
            std::fs::read(&p).unwrap(),
        );
    }
    files.insert(
        "stdout".into(),
        summary
            .replace(&dir.display().to_string(), "DIR")
            .into_bytes(),
    );
    files
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tmp("sim");
    let a = simulate(&dir.join("a"), "7");
    let b = simulate(&dir.join("b"), "7");
    let c = simulate(&dir.join("c"), "8");
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        [
            "calibration.csv",
            "deciles.csv",
            "stdout",
            "window.csv",
            "winners.csv",
            "years.csv"
        ]
    );
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(
        a["years.csv"], c["years.csv"],
        "another seed, another population"
    );
    // Baseline, each reform, and both together, for each of the 4 years.
    let years = rows(&dir.join("a/years.csv"));
    assert_eq!(years.len(), 4 * 4);
}
