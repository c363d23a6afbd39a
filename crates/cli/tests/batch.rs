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
            "calibration.parquet",
            "deciles.csv",
            "deciles.parquet",
            "stdout",
            "window.csv",
            "window.parquet",
            "winners.csv",
            "winners.parquet",
            "years.csv",
            "years.parquet"
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

/// A CSV file as its header and rows of text.
fn csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r
        .headers()
        .unwrap()
        .iter()
        .map(|s| s.trim_start_matches('\u{feff}').to_string())
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (h, rows)
}

fn parquet_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let f = std::fs::File::open(path).unwrap();
    anxin_service::parquet_table::TableReader::open(f)
        .unwrap()
        .read_all()
        .unwrap()
}

#[test]
fn every_table_of_a_run_reads_back_from_parquet_as_its_csv() {
    let dir = tmp("sim-parquet");
    let a = simulate(&dir.join("a"), "7");
    for name in ["calibration", "deciles", "window", "winners", "years"] {
        let csv = csv_table(&dir.join(format!("a/{name}.csv")));
        assert!(!csv.1.is_empty(), "{name} has rows");
        assert_eq!(
            parquet_table(&dir.join(format!("a/{name}.parquet"))),
            csv,
            "{name}"
        );
        assert_eq!(&a[&format!("{name}.parquet")][..4], b"PAR1");
    }
}

#[test]
fn batch_reads_and_writes_parquet_as_it_does_csv() {
    let pension = tmp("parquet-pension-in").join("pension.csv");
    std::fs::write(
        &pension,
        "id,avg_wage,contribution_index,contribution_months,account_balance,retirement_age_months\n\
         a,8310,1.00,180,50000,720\n\
         b,8310,0.6,240,38000.55,660\n\
         c,8310,1.2345,360,120000.10,600\n\
         d,-1,1,180,0,720\n\
         e,8310,x,180,0,720\n",
    )
    .unwrap();
    for (kind, file) in [("quote", data("batch-quote.csv")), ("pension", pension)] {
        let dir = tmp(&format!("parquet-{kind}"));
        let (out_csv, report_csv) = run_batch(kind, &file, &dir);
        let want = csv_table(&out_csv);
        assert!(!want.1.is_empty());
        // The same file as Parquet in, Parquet out.
        let (h, rows) = csv_table(&file);
        let h: Vec<&str> = h.iter().map(String::as_str).collect();
        let input = dir.join("in.parquet");
        std::fs::write(
            &input,
            anxin_service::parquet_table::table_bytes(&h, &rows).unwrap(),
        )
        .unwrap();
        let (out, report) = (dir.join("out.parquet"), dir.join("refused2.csv"));
        let st = bin()
            .args(["batch", kind])
            .arg(&input)
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
        assert_eq!(parquet_table(&out), want, "{kind}");
        assert_eq!(
            std::fs::read(&report).unwrap(),
            std::fs::read(&report_csv).unwrap(),
            "{kind}: the same rows refused for the same reasons"
        );
    }
}

#[test]
fn simulate_follows_a_population_file_and_refuses_a_bad_one() {
    let dir = tmp("people");
    let good = dir.join("people.csv");
    let mut text = String::from("age,track,income,region,sector,insured,paid_months\n");
    for i in 0..40u32 {
        text.push_str(&format!(
            "{},{},{}.00,{},delivery,{},{}\n",
            20 + i % 25,
            if i % 3 == 0 { "female50" } else { "male" },
            3000 + 100 * i,
            if i % 2 == 0 { "330100" } else { "330200" },
            if i % 4 == 0 { "yes" } else { "no" },
            (i % 25) * 6
        ));
    }
    std::fs::write(&good, text).unwrap();
    let run = |file: &Path, out: &Path| {
        bin()
            .args([
                "simulate",
                "--reform",
                "income-band-rate",
                "--years",
                "3",
                "--start",
                "2026-07",
                "--seed",
                "7",
                "--people",
            ])
            .arg(file)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let st = run(&good, &dir.join("a"));
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let years = rows(&dir.join("a/years.csv"));
    assert_eq!(years.len(), 2 * 3, "baseline and one reform, 3 years");
    assert_eq!(
        years[0]["persons"], "40",
        "everyone of the file, none drawn"
    );
    assert_eq!(
        std::fs::read(dir.join("a/years.csv")).unwrap(),
        {
            let again = run(&good, &dir.join("b"));
            assert!(again.status.success());
            std::fs::read(dir.join("b/years.csv")).unwrap()
        },
        "the same file and seed give the same bytes"
    );

    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "age,track,income,region\n35,male,4000,330100\n9,male,4000,330100\n35,male,-1,330100\n",
    )
    .unwrap();
    let st = run(&bad, &dir.join("c"));
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("row 3")
            && err.contains("age")
            && err.contains("row 4")
            && err.contains("income"),
        "{err}"
    );
    assert!(
        !dir.join("c").exists(),
        "nothing written for a refused file"
    );
}
