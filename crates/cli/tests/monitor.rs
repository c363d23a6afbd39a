//! `anxin monitor` as an office runs it: a data directory, a generated month of deliveries,
//! the platforms and insured state, every delivery ingested, the monthly run; a bad delivery
//! refused with its reasons; no resident ID in any output or stored file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anxin"));
    c.env_remove("ANXIN_POLICY").env_remove("ANXIN_DATA_KEY");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("monitor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn files(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn generate_ingest_and_run_a_month() {
    let dir = tmp("month");
    let data = dir.join("data");
    let gdir = dir.join("gen");
    let d = data.to_str().unwrap();
    ok(bin().args(["--data", d, "init"]).output().unwrap());
    let out = ok(bin()
        .args([
            "monitor",
            "gen",
            "--workers",
            "300",
            "--orders",
            "4000",
            "--seed",
            "3",
            "--months",
            "2",
        ])
        .arg(&gdir)
        .output()
        .unwrap());
    assert!(out.contains("8000"), "{out}");
    ok(bin()
        .args(["--data", d, "monitor", "platforms"])
        .arg(gdir.join("platforms.csv"))
        .output()
        .unwrap());
    ok(bin()
        .args(["--data", d, "monitor", "insured"])
        .arg(gdir.join("insured.csv"))
        .output()
        .unwrap());
    let mut landed = 0u64;
    for f in files(&gdir.join("orders")) {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let (code, month) = name.split_at(18);
        let out = ok(bin()
            .args([
                "--data",
                d,
                "--json",
                "monitor",
                "ingest",
                "--platform",
                code,
                "--month",
                &month[1..],
            ])
            .arg(&f)
            .output()
            .unwrap());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["report"]["refused"], 0, "{out}");
        landed += v["report"]["landed"].as_u64().unwrap();
    }
    assert_eq!(landed, 8000);
    let out = ok(bin()
        .args([
            "--data",
            d,
            "monitor",
            "run",
            "--month",
            "2026-03",
            "--reform",
            "platform-union-dues",
            "--threads",
            "2",
        ])
        .output()
        .unwrap());
    assert!(out.contains("预警") && out.contains("alerts"), "{out}");
    let runs = data.join("monitor/runs/2026-03");
    for f in [
        "alerts.csv",
        "cells.csv",
        "compliance.csv",
        "injury.csv",
        "union.csv",
        "params.json",
    ] {
        assert!(runs.join(f).exists(), "{f}");
    }
    let union = std::fs::read_to_string(runs.join("union.csv")).unwrap();
    assert_eq!(union.lines().count(), 7, "{union}");
    // No generated resident ID in anything stored under the data directory.
    let ids: Vec<String> = std::fs::read_to_string(gdir.join("insured.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty());
    for f in files(&data.join("monitor")) {
        let bytes = std::fs::read(&f).unwrap();
        for id in ids.iter().take(50) {
            assert!(
                !bytes.windows(18).any(|w| w == id.as_bytes()),
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn bad_deliveries_are_refused_with_reasons_in_both_languages() {
    let dir = tmp("bad");
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    ok(bin().args(["--data", d, "init"]).output().unwrap());
    // Nothing registered yet: the ingest says what to do first.
    let f = dir.join("a.csv");
    std::fs::write(
        &f,
        "order_id,platform,resident_id,time,amount_fen,sector,area\n",
    )
    .unwrap();
    let o = bin()
        .args([
            "--data",
            d,
            "monitor",
            "ingest",
            "--platform",
            "91330106MA2H0000AA",
            "--month",
            "2026-03",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("anxin monitor platforms"), "{err}");
    let p = dir.join("p.csv");
    std::fs::write(
        &p,
        "credit_code,name,sector,delivery_tier\n91330106MA2H0000AA,示例出行A,ride-hailing,\n",
    )
    .unwrap();
    ok(bin()
        .args(["--data", d, "monitor", "platforms"])
        .arg(&p)
        .output()
        .unwrap());
    std::fs::write(
        &f,
        "order_id,platform,resident_id,time,amount_fen,sector,area\n\
         A-1,91330106MA2H0000AA,33010619810315101X,2026-03-05T10:00:00+08:00,2000,ride-hailing,330106-001\n\
         A-2,91330106MA2H0000AA,330106198203151020,2026-03-05T10:00:00+08:00,2000,ride-hailing,330106-001\n\
         A-3,91330106MA2H0000AA,330106198203151025,2026-03-05T10:00:00+08:00,-1,ride-hailing,330106-001\n",
    )
    .unwrap();
    let out = ok(bin()
        .args([
            "--data",
            d,
            "monitor",
            "ingest",
            "--platform",
            "91330106MA2H0000AA",
            "--month",
            "2026-03",
        ])
        .arg(&f)
        .output()
        .unwrap());
    assert!(
        out.contains("malformed_id: 1") && out.contains("negative_amount: 1"),
        "{out}"
    );
    assert!(!out.contains("330106198203151020") && !out.contains("33010619810315101X"));
    // Columns renamed: refused whole, exit code 2, both languages.
    std::fs::write(&f, "order_id,platform,id,time,amount_fen,sector,area\n").unwrap();
    let o = bin()
        .args([
            "--data",
            d,
            "monitor",
            "ingest",
            "--platform",
            "91330106MA2H0000AA",
            "--month",
            "2026-03",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("未导入") && err.contains("nothing was imported"),
        "{err}"
    );
}

/// The insured state read from the instance's own records store (`monitor insured
/// --from-records`) finds what the same runs given as a CSV find: A paid to 2026-01 (two
/// insurances, counted once) misses months in 2026-03, B last paid 2025-06 has stopped, C is
/// in no record, D pays in the month; an unpaid month counts for nothing.
#[test]
fn insured_state_from_the_records_store() {
    let dir = tmp("records");
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    ok(bin().args(["--data", d, "init"]).output().unwrap());
    let (a, b, c, p) = (
        "33010619810315101X",
        "330106198303151030",
        "330106198403151046",
        "330106198503151051",
    );
    std::fs::write(
        dir.join("persons.csv"),
        format!(
            "身份证号,姓名,户籍地,居住地,就业形态\n{a},甲,杭州,杭州,灵活就业\n{b},乙,杭州,杭州,灵活就业\n{p},丁,杭州,杭州,灵活就业\n"
        ),
    )
    .unwrap();
    let mut rows = String::from(
        "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n",
    );
    let mut row = |id: &str, who: &str, m: &str, ins: &str, status: &str| {
        rows.push_str(&format!(
            "{id},{who},{m},{ins},330100,self,,4000,800,{status}\n"
        ));
    };
    for (i, m) in ["2025-11", "2025-12", "2026-01"].iter().enumerate() {
        row(&format!("a-p{i}"), a, m, "pension", "paid");
        row(&format!("a-m{i}"), a, m, "medical", "paid");
    }
    row("a-u", a, "2026-02", "pension", "unpaid");
    for (i, m) in ["2025-03", "2025-04", "2025-06"].iter().enumerate() {
        row(&format!("b-{i}"), b, m, "pension", "paid");
    }
    row("d-0", p, "2026-03", "pension", "paid");
    std::fs::write(dir.join("contributions.csv"), rows).unwrap();
    for kind in ["persons", "contributions"] {
        ok(bin()
            .args(["--data", d, "import", kind])
            .arg(dir.join(format!("{kind}.csv")))
            .output()
            .unwrap());
    }
    let out = ok(bin()
        .args([
            "--data",
            d,
            "--json",
            "monitor",
            "insured",
            "--from-records",
        ])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["insured"]["months_read"], 11, "{out}");
    assert_eq!(v["insured"]["paid"], 10, "{out}");
    assert_eq!(v["insured"]["persons"], 3, "{out}");
    // A 2025-11..2026-01; B 2025-03..04 and 2025-06; D 2026-03.
    assert_eq!(v["insured"]["runs"], 4, "{out}");

    // One platform's month: four orders each (the active minimum) for A, B, C and D.
    const PLATFORM: &str = "91330106MA2H0000AA";
    std::fs::write(
        dir.join("platforms.csv"),
        format!("credit_code,name,sector,delivery_tier\n{PLATFORM},示例出行A,ride-hailing,\n"),
    )
    .unwrap();
    let mut orders = String::from("order_id,platform,resident_id,time,amount_fen,sector,area\n");
    for (w, who) in [a, b, c, p].iter().enumerate() {
        for k in 0..4 {
            orders.push_str(&format!(
                "O-{w}-{k},{PLATFORM},{who},2026-03-1{k}T10:00:00+08:00,5000,ride-hailing,330108-005\n"
            ));
        }
    }
    std::fs::write(dir.join("orders.csv"), orders).unwrap();
    ok(bin()
        .args(["--data", d, "monitor", "platforms"])
        .arg(dir.join("platforms.csv"))
        .output()
        .unwrap());
    ok(bin()
        .args([
            "--data",
            d,
            "monitor",
            "ingest",
            "--platform",
            PLATFORM,
            "--month",
            "2026-03",
        ])
        .arg(dir.join("orders.csv"))
        .output()
        .unwrap());
    let run = |out: &str| {
        ok(bin()
            .args([
                "--data", d, "monitor", "run", "--month", "2026-03", "--out", out,
            ])
            .output()
            .unwrap());
        let text = std::fs::read_to_string(Path::new(out).join("alerts.csv")).unwrap();
        let mut kinds: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect();
        kinds.sort();
        (kinds, text)
    };
    let from_records = dir.join("from-records");
    let (kinds, text) = run(from_records.to_str().unwrap());
    assert_eq!(kinds, ["missed", "stopped", "uninsured"], "{text}");

    // The same runs as a CSV: the same findings.
    std::fs::write(
        dir.join("insured.csv"),
        format!(
            "resident_id,from,to,region\n{a},2025-11,2026-01,330100\n{b},2025-03,2025-04,330100\n{b},2025-06,2025-06,330100\n{p},2026-03,2026-03,330100\n"
        ),
    )
    .unwrap();
    ok(bin()
        .args(["--data", d, "monitor", "insured"])
        .arg(dir.join("insured.csv"))
        .output()
        .unwrap());
    let from_csv = dir.join("from-csv");
    let (_, csv_text) = run(from_csv.to_str().unwrap());
    assert_eq!(text, csv_text);
    // Neither a file nor --from-records: refused before anything is read.
    let o = bin()
        .args(["--data", d, "monitor", "insured"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
