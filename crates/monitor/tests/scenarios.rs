//! Scenario data sets with hand-worked expectations (tests/data/scenario-*/expected.toml) and
//! every kind of bad input (tests/data/bad/cases.toml), through the real ingest and the real
//! DataFusion run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anxin_domain::{ResidentId, YearMonth};
use anxin_monitor::ingest::{self, IngestOptions};
use anxin_monitor::layout;
use anxin_monitor::platforms::Registry;
use anxin_monitor::run::{self, RunOptions};
use anxin_policy::{ErrorKind, Policy};
use anxin_records::keys::DataKey;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn key() -> DataKey {
    DataKey::from_secret(&[7u8; 32])
}

fn now() -> jiff::Timestamp {
    "2026-04-10T00:00:00+08:00".parse().unwrap()
}

fn policy() -> Policy {
    Policy::embedded().unwrap()
}

fn registered(dir: &Path, platforms: &Path) -> Registry {
    let reg = Registry::read(platforms).unwrap();
    reg.write(&layout::platforms_file(dir)).unwrap();
    reg
}

/// Splits a scenario's orders.csv into one file per platform and month, as delivered.
fn deliveries(orders: &Path, out: &Path) -> Vec<(String, YearMonth, PathBuf)> {
    let text = std::fs::read_to_string(orders).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut groups: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        groups
            .entry((f[1].to_string(), f[3][..7].to_string()))
            .or_default()
            .push(l);
    }
    groups
        .into_iter()
        .map(|((p, m), rows)| {
            let path = out.join(format!("{p}-{m}.csv"));
            std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
            (p, YearMonth::parse(&m).unwrap(), path)
        })
        .collect()
}

fn s<'a>(v: &'a toml::Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("{k}"))
}
fn i(v: &toml::Value, k: &str) -> i64 {
    v.get(k)
        .and_then(|x| x.as_integer())
        .unwrap_or_else(|| panic!("{k}"))
}

#[test]
fn scenario_basic_gives_the_hand_worked_alerts_ratings_and_bills() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = data("scenario-basic");
    let exp: toml::Value =
        toml::from_str(&std::fs::read_to_string(sc.join("expected.toml")).unwrap()).unwrap();
    let reg = registered(d, &sc.join("platforms.csv"));
    let k = key();
    let tmp = tempfile::tempdir().unwrap();
    for (p, m, path) in deliveries(&sc.join("orders.csv"), tmp.path()) {
        let r = ingest::ingest(
            d,
            &k,
            &reg,
            &IngestOptions {
                file: &path,
                platform: &p,
                month: m,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(r.refused, 0, "{p} {m}: {:?}", r.first_refusals);
        assert!(r.landed > 0);
    }
    ingest::load_insured(d, &k, &sc.join("insured.csv")).unwrap();
    let cohort: Vec<([u8; 32], YearMonth)> = std::fs::read_to_string(sc.join("school.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (id, m) = l.split_once(',').unwrap();
            (
                k.person_key(&ResidentId::parse(id).unwrap()).0,
                YearMonth::parse(m).unwrap(),
            )
        })
        .collect();
    assert_eq!(ingest::write_school(d, &cohort).unwrap(), 3);
    let month = YearMonth::parse(s(&exp, "month")).unwrap();
    let o = RunOptions {
        region: s(&exp, "region").into(),
        month,
        reforms: vec!["platform-union-dues".into()],
        threads: 2,
    };
    let r = run::run(d, &policy(), &reg, &o).unwrap();

    let workers = exp["workers"].as_table().unwrap();
    let pseudo = |w: &str| {
        let id = ResidentId::parse(workers[w].as_str().unwrap()).unwrap();
        layout::person_hex(layout::person_id(&k, &id))
    };
    let plat = |p: &str| exp["platforms"][p].as_str().unwrap().to_string();

    let want = exp["alert"].as_array().unwrap();
    assert_eq!(r.alerts.len(), want.len(), "{:#?}", r.alerts);
    for w in want {
        let person = pseudo(s(w, "worker"));
        let a = r
            .alerts
            .iter()
            .find(|a| a.person == person)
            .unwrap_or_else(|| panic!("no alert for {}", s(w, "worker")));
        assert_eq!(a.area, s(w, "area"));
        assert_eq!(a.kind.code(), s(w, "kind"));
        assert_eq!(a.orders, i(w, "orders"));
        assert_eq!(a.income_fen.0, i(w, "income_fen"));
        assert_eq!(a.platforms, i(w, "platforms"));
        assert_eq!(
            a.last_paid.map(|m| m.to_string()),
            w.get("last_paid").map(|x| x.as_str().unwrap().to_string())
        );
        assert_eq!(
            a.prev_avg_fen.map(|f| f.0),
            w.get("prev_avg_fen").map(|x| x.as_integer().unwrap())
        );
        assert_eq!(
            a.school_review.map(|m| m.to_string()),
            w.get("school_review")
                .map(|x| x.as_str().unwrap().to_string())
        );
        assert!(!a.reason_zh.is_empty() && !a.reason_en.is_empty());
        // The reason never carries an ID.
        for id in workers.values() {
            assert!(!a.reason_zh.contains(id.as_str().unwrap()));
        }
    }
    let income_drop = r
        .alerts
        .iter()
        .find(|a| a.kind == run::AlertKind::IncomeDrop)
        .unwrap();
    assert!(
        income_drop.reason_zh.contains("60%"),
        "{}",
        income_drop.reason_zh
    );
    let school = r
        .alerts
        .iter()
        .find(|a| a.kind == run::AlertKind::SchoolCohort)
        .unwrap();
    assert!(
        school.reason_zh.contains("2025-09") && school.reason_zh.contains("第 6 个月"),
        "{}",
        school.reason_zh
    );
    assert!(
        school.reason_en.contains("6 month(s) ago"),
        "{}",
        school.reason_en
    );

    let want = exp["compliance"].as_array().unwrap();
    assert_eq!(r.compliance.len(), want.len(), "{:#?}", r.compliance);
    for (c, w) in r.compliance.iter().zip(want) {
        assert_eq!(c.platform, plat(s(w, "platform")));
        assert_eq!(c.year, 2026);
        assert_eq!(c.active, i(w, "active"));
        assert_eq!(c.insured, i(w, "insured"));
        assert_eq!(i64::from(c.coverage.0), i(w, "coverage_bps"));
        assert_eq!(c.years_under, i(w, "years_under"));
        assert_eq!(c.grade.to_string(), s(w, "grade"));
        assert_eq!(c.sanction, w["sanction"].as_bool().unwrap());
    }

    let want = exp["injury"].as_array().unwrap();
    assert_eq!(r.injury.len(), want.len(), "{:#?}", r.injury);
    for (l, w) in r.injury.iter().zip(want) {
        assert_eq!(l.platform, plat(s(w, "platform")));
        assert_eq!(l.region, s(w, "region"));
        assert_eq!(l.sector, s(w, "sector"));
        assert_eq!(l.orders, i(w, "orders"));
        assert_eq!(
            l.bill_fen.map(|f| f.0),
            Some(i(w, "bill_fen")),
            "{}",
            l.note_en
        );
    }

    let want = exp["union"].as_array().unwrap();
    assert!(r.union.rate.is_some());
    assert_eq!(r.union.lines.len(), want.len());
    for (l, w) in r.union.lines.iter().zip(want) {
        assert_eq!(l.platform, plat(s(w, "platform")));
        assert_eq!(l.active, i(w, "active"));
        assert_eq!(l.income_fen.0, i(w, "income_fen"));
        assert_eq!(l.dues_fen.0, i(w, "dues_fen"));
    }

    // Without the overlay there are no union dues, and the run says why.
    let plain = run::run(
        d,
        &policy(),
        &reg,
        &RunOptions {
            reforms: vec![],
            ..o.clone()
        },
    )
    .unwrap();
    assert!(plain.union.rate.is_none() && plain.union.lines.is_empty());
    assert!(plain.union.note_zh.contains("改革建议"));
    assert_eq!(plain.alerts.len(), r.alerts.len());

    // Before the pilot reached Zhejiang (2025-07-01) there is no bill, and the line says so.
    let early = run::run(
        d,
        &policy(),
        &reg,
        &RunOptions {
            month: YearMonth::new(2025, 6).unwrap(),
            reforms: vec![],
            ..o.clone()
        },
    )
    .unwrap();
    let zj: Vec<_> = early
        .injury
        .iter()
        .filter(|l| l.region == "330000")
        .collect();
    assert!(!zj.is_empty());
    for l in zj {
        assert!(l.bill_fen.is_none() && !l.note_zh.is_empty(), "{l:?}");
    }

    // The results as files, and the stored data hold no resident ID.
    let files = run::write_outputs(&d.join("out"), &r).unwrap();
    assert_eq!(
        files.len(),
        7,
        "alerts, cells, compliance, injury, union, counted, params"
    );
    for f in walk(d) {
        let bytes = std::fs::read(&f).unwrap();
        for id in workers.values() {
            let id = id.as_str().unwrap().as_bytes();
            assert!(
                !bytes.windows(id.len()).any(|w| w == id),
                "{} holds an ID",
                f.display()
            );
        }
    }
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_delivery_sent_twice_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = data("scenario-basic");
    let reg = registered(d, &sc.join("platforms.csv"));
    let tmp = tempfile::tempdir().unwrap();
    let (p, m, path) = deliveries(&sc.join("orders.csv"), tmp.path())
        .into_iter()
        .find(|(_, m, _)| *m == YearMonth::new(2026, 3).unwrap())
        .unwrap();
    let o = IngestOptions {
        file: &path,
        platform: &p,
        month: m,
        now: now(),
    };
    let first = ingest::ingest(d, &key(), &reg, &o).unwrap();
    assert!(first.landed > 0 && first.refused == 0);
    let again = ingest::ingest(d, &key(), &reg, &o).unwrap();
    assert_eq!(again.landed, 0);
    assert_eq!(again.refused, first.landed);
    assert_eq!(again.reasons.get("duplicate_order"), Some(&first.landed));
    assert!(again.file.is_none());
    let stored = walk(&layout::orders_dir(d));
    assert_eq!(stored.len(), 1, "{stored:?}");
}

fn bad_setup() -> (tempfile::TempDir, Registry, toml::Value) {
    let dir = tempfile::tempdir().unwrap();
    let reg = registered(dir.path(), &data("scenario-basic").join("platforms.csv"));
    let cases: toml::Value =
        toml::from_str(&std::fs::read_to_string(data("bad").join("cases.toml")).unwrap()).unwrap();
    (dir, reg, cases)
}

#[test]
fn each_bad_row_is_refused_with_its_reason_and_the_good_row_lands() {
    let (dir, reg, cases) = bad_setup();
    let pa = "91330106MA2H0000AA";
    let m = YearMonth::new(2026, 3).unwrap();
    let rows = cases["row"].as_array().unwrap();
    assert!(rows.len() >= 14);
    for (n, c) in rows.iter().enumerate() {
        let d = dir.path().join(format!("case{n}"));
        std::fs::create_dir_all(&d).unwrap();
        reg.write(&layout::platforms_file(&d)).unwrap();
        let f = d.join("in.csv");
        std::fs::write(
            &f,
            format!(
                "{}\n{}\n{}\n",
                s(&cases, "header"),
                s(&cases, "good"),
                s(c, "line")
            ),
        )
        .unwrap();
        let r = ingest::ingest(
            &d,
            &key(),
            &reg,
            &IngestOptions {
                file: &f,
                platform: pa,
                month: m,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(r.landed, 1, "{}", s(c, "name"));
        assert_eq!(r.refused, 1, "{}", s(c, "name"));
        let refusal = &r.first_refusals[0];
        assert_eq!(refusal.reason.code(), s(c, "reason"), "{}", s(c, "name"));
        assert_eq!(refusal.line, 3);
        // The report names the line and reason in both languages and never an ID.
        let report = std::fs::read_to_string(r.report.as_ref().unwrap()).unwrap();
        assert!(report.contains(refusal.reason.zh()) && report.contains(refusal.reason.en()));
        for id in [
            "330106198203151025",
            "33010619810315101X",
            "330106198203151020",
        ] {
            assert!(!report.contains(id), "{}", s(c, "name"));
        }
    }
}

#[test]
fn wrong_columns_refuse_the_whole_file_and_land_nothing() {
    let (dir, reg, cases) = bad_setup();
    let pa = "91330106MA2H0000AA";
    let m = YearMonth::new(2026, 3).unwrap();
    let d = dir.path();
    for c in cases["file"].as_array().unwrap() {
        let f = d.join("in.csv");
        std::fs::write(&f, format!("{}\n{}\n", s(c, "header"), s(c, "line"))).unwrap();
        let e = ingest::ingest(
            d,
            &key(),
            &reg,
            &IngestOptions {
                file: &f,
                platform: pa,
                month: m,
                now: now(),
            },
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadInput, "{}", s(c, "name"));
        assert!(
            e.zh.contains(s(c, "missing")) && e.en.contains(s(c, "missing")),
            "{}: {e}",
            s(c, "name")
        );
        assert!(e.zh.contains("未导入"));
        assert!(!layout::orders_dir(d).exists(), "{}", s(c, "name"));
    }
    // Not a CSV at all, an unregistered or invalid delivering platform, a missing file.
    let f = d.join("bin.csv");
    std::fs::write(&f, [0xffu8, 0xfe, 0x00, 0x41, b'\n', 0xff]).unwrap();
    assert!(
        ingest::ingest(
            d,
            &key(),
            &reg,
            &IngestOptions {
                file: &f,
                platform: pa,
                month: m,
                now: now()
            }
        )
        .is_err()
    );
    let good = d.join("good.csv");
    std::fs::write(
        &good,
        format!("{}\n{}\n", s(&cases, "header"), s(&cases, "good")),
    )
    .unwrap();
    let e = ingest::ingest(
        d,
        &key(),
        &reg,
        &IngestOptions {
            file: &good,
            platform: "91110000600037341L",
            month: m,
            now: now(),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = ingest::ingest(
        d,
        &key(),
        &reg,
        &IngestOptions {
            file: &good,
            platform: "not a code",
            month: m,
            now: now(),
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
    assert!(
        ingest::ingest(
            d,
            &key(),
            &reg,
            &IngestOptions {
                file: &d.join("nope.csv"),
                platform: pa,
                month: m,
                now: now()
            }
        )
        .is_err()
    );
    assert!(!layout::orders_dir(d).exists());
}

#[test]
fn parquet_deliveries_are_checked_like_csv() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    let (dir, reg, _) = bad_setup();
    let d = dir.path();
    let m = YearMonth::new(2026, 3).unwrap();
    let write = |path: &Path, names: [&str; 7]| {
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|n| {
                    let t = if n.starts_with("amount") {
                        DataType::Int64
                    } else {
                        DataType::Utf8
                    };
                    Field::new(*n, t, true)
                })
                .collect::<Vec<_>>(),
        ));
        let s = |v: [&str; 2]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let cols: Vec<ArrayRef> = vec![
            s(["Q-1", "Q-2"]),
            s(["91330106MA2H0000AA", "91330106MA2H0000AA"]),
            s(["33010619810315101X", "330106198203151020"]),
            s(["2026-03-05 10:00:00", "2026-03-05 11:00:00"]),
            Arc::new(Int64Array::from(vec![2000, -1])),
            s(["ride-hailing", "ride-hailing"]),
            s(["330106-001", "330106-001"]),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    };
    let good = d.join("a.parquet");
    write(
        &good,
        [
            "order_id",
            "platform",
            "resident_id",
            "time",
            "amount_fen",
            "sector",
            "area",
        ],
    );
    let r = ingest::ingest(
        d,
        &key(),
        &reg,
        &IngestOptions {
            file: &good,
            platform: "91330106MA2H0000AA",
            month: m,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!((r.landed, r.refused), (1, 1));
    assert_eq!(r.first_refusals[0].reason.code(), "malformed_id");
    let renamed = d.join("b.parquet");
    write(
        &renamed,
        [
            "order_id",
            "platform",
            "resident_id",
            "time",
            "amount",
            "sector",
            "area",
        ],
    );
    let e = ingest::ingest(
        d,
        &key(),
        &reg,
        &IngestOptions {
            file: &renamed,
            platform: "91330106MA2H0000AA",
            month: m,
            now: now(),
        },
    )
    .unwrap_err();
    assert!(e.en.contains("amount_fen"), "{e}");
}

#[test]
fn bad_insured_files_and_an_empty_data_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = d.join("ins.csv");
    for body in [
        "resident_id,from,to,region\n330106198203151020,2025-01,2026-03,330000\n",
        "resident_id,from,to,region\n330106198203151025,2026-04,2026-03,330000\n",
        "resident_id,from,to,region\n330106198203151025,2026-13,2026-03,330000\n",
        "resident_id,from,to\n330106198203151025,2025-01,2026-03\n",
    ] {
        std::fs::write(&f, body).unwrap();
        let e = ingest::load_insured(d, &key(), &f).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadInput, "{body}");
        assert!(!e.zh.contains("330106198203151025"));
        assert!(!layout::insured_file(d).exists());
    }
    let reg = Registry::default();
    let o = RunOptions {
        region: "330000".into(),
        month: YearMonth::new(2026, 3).unwrap(),
        reforms: vec![],
        threads: 1,
    };
    let e = run::run(d, &policy(), &reg, &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = run::run(
        d,
        &policy(),
        &reg,
        &RunOptions {
            region: "nowhere".into(),
            ..o.clone()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[test]
fn generated_data_ingests_without_refusals_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("gen");
    let month = YearMonth::new(2026, 3).unwrap();
    for format in [
        anxin_monitor::synth::Format::Csv,
        anxin_monitor::synth::Format::Parquet,
    ] {
        let s = anxin_monitor::synth::generate(
            &out,
            &anxin_monitor::synth::GenOptions {
                workers: 400,
                orders: 6_000,
                seed: 9,
                month,
                months: 2,
                format,
            },
        )
        .unwrap();
        assert_eq!(s.orders, 12_000);
    }
    let reg = registered(d, &out.join("platforms.csv"));
    let mut landed = 0;
    for f in walk(&out.join("orders"))
        .into_iter()
        .filter(|p| p.extension().unwrap() == "parquet")
    {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let (p, m) = name.split_at(18);
        let m = YearMonth::parse(&m[1..]).unwrap();
        let r = ingest::ingest(
            d,
            &key(),
            &reg,
            &IngestOptions {
                file: &f,
                platform: p,
                month: m,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(r.refused, 0, "{:?}", r.first_refusals);
        landed += r.landed;
    }
    assert_eq!(landed, 12_000);
    ingest::load_insured(d, &key(), &out.join("insured.csv")).unwrap();
    let o = RunOptions {
        region: "330000".into(),
        month,
        reforms: vec![],
        threads: 2,
    };
    let r = run::run(d, &policy(), &reg, &o).unwrap();
    let kinds: std::collections::BTreeSet<_> = r.alerts.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds.len(),
        4,
        "every kind of alert appears in a realistic month: {kinds:?}"
    );
    assert_eq!(r.compliance.len(), 6);
    assert!(r.injury.iter().all(|l| l.bill_fen.is_some()));
}
