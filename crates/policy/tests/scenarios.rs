//! Runs every policy scenario file under `policy/scenarios/`: inputs → expected outputs, each
//! case with the source of its expectation. One test per file, every case in it checked, and
//! all failures of a file reported together.
//!
//! A case:
//! ```toml
//! [[case]]
//! name = "…"
//! calc = "quote"            # quote | pension | backpay | medical | platform
//! source = "where the expected figures come from"
//! today = "2026-11"         # optional: the month calculators take as "now"
//! input = { region = "330000", month = "2025-06" }
//! expect = { monthly_fen = 96240, "subsidies.0.id" = "voucher" }   # dotted paths into the result
//! # or, for a case that must fail:
//! error = { kind = "bad_input", contains = ["4812.00", "范围"] }
//! ```

use std::path::{Path, PathBuf};

use anxin_domain::YearMonth;
use anxin_policy::{Policy, calc};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    calc: String,
    source: String,
    today: Option<String>,
    input: toml::Value,
    expect: Option<toml::Table>,
    error: Option<ExpectError>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectError {
    kind: String,
    #[serde(default)]
    contains: Vec<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/scenarios")
}

fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(v, |cur, part| match part.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(part),
        })
}

fn run_case(policy: &Policy, c: &Case) -> Result<usize, String> {
    if c.source.trim().is_empty() {
        return Err("a case needs a source for its expectation".into());
    }
    let today =
        YearMonth::parse(c.today.as_deref().unwrap_or("2026-11")).map_err(|e| e.to_string())?;
    let input = serde_json::to_value(&c.input).map_err(|e| e.to_string())?;
    let result = calc::run_json(policy, &c.calc, input, today);
    match (&c.expect, &c.error, result) {
        (Some(expect), None, Ok(out)) => {
            if expect.is_empty() {
                return Err("expect is empty: a case must check something".into());
            }
            let mut bad = Vec::new();
            for (path, want) in expect {
                let want = serde_json::to_value(want).map_err(|e| e.to_string())?;
                match lookup(&out, path) {
                    Some(got) if *got == want => {}
                    Some(got) => bad.push(format!("{path}: expected {want}, got {got}")),
                    None => bad.push(format!("{path}: not in the result")),
                }
            }
            if bad.is_empty() {
                Ok(expect.len())
            } else {
                Err(bad.join("; "))
            }
        }
        (None, Some(want), Err(e)) => {
            let kind = serde_json::to_value(e.kind).map_err(|e| e.to_string())?;
            if kind != serde_json::Value::String(want.kind.clone()) {
                return Err(format!(
                    "expected error kind {}, got {kind}: {e}",
                    want.kind
                ));
            }
            for s in &want.contains {
                if !e.zh.contains(s.as_str()) && !e.en.contains(s.as_str()) {
                    return Err(format!("error message lacks '{s}': {e}"));
                }
            }
            // An error message must say what is wrong in both languages.
            if e.zh.trim().is_empty() || e.en.trim().is_empty() {
                return Err("error message is empty in one language".into());
            }
            Ok(1 + want.contains.len())
        }
        (Some(_), None, Err(e)) => Err(format!("unexpected error: {e}")),
        (None, Some(_), Ok(_)) => Err("expected an error, got a result".into()),
        _ => Err("a case needs exactly one of expect and error".into()),
    }
}

#[test]
fn scenario_files() {
    let policy = Policy::embedded().unwrap_or_else(|e| panic!("policy files: {e:?}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("policy/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario files found");
    let (mut cases, mut checks, mut failures) = (0, 0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for c in &file.case {
            cases += 1;
            match run_case(&policy, c) {
                Ok(n) => checks += n,
                Err(e) => failures.push(format!(
                    "{} — {} [{}]: {e}",
                    f.file_name().unwrap().to_string_lossy(),
                    c.name,
                    c.calc
                )),
            }
        }
    }
    eprintln!(
        "{cases} scenario cases, {checks} checks, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        cases >= 30,
        "expected at least 30 scenario cases, found {cases}"
    );
}
