//! Import tests. Most cases are data: each `tests/data/NAME` input has a
//! `NAME.expect.json` listing the accepted count, the ignored columns and every rejection
//! (row, column, and a keyword that must appear in the Chinese and in the English reason),
//! or, for a whole-file error, keywords of its text. Every input is read from memory and
//! from a path; every CSV is also read with a BOM and as GBK, with the same expectations.

use std::path::{Path, PathBuf};

use anxin_domain::{CreditCode, Fen, RegionCode, YearMonth};
use anxin_import::{
    AnyRegionCode, EmploymentForm, FileError, Format, GapReason, Insurance, Kind, Options, OrgKind,
    Payer, Progress, ProofKind, Rejection, Relation, Row, Rows, Status, from_bytes, open, open_as,
};
use encoding_rs::GB18030;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use serde_json::Value;

const TODAY: Date = date(2026, 11, 22);

fn opts() -> Options {
    Options::new(TODAY)
}

/// The regions the tests know, by code and by name.
fn regions(text: &str) -> Option<RegionCode> {
    let code = match text {
        "330100" | "杭州" | "杭州市" => "330100",
        "330000" | "浙江" | "浙江省" => "330000",
        "330106" | "西湖区" => "330106",
        "110105" | "朝阳区" | "北京市朝阳区" => "110105",
        "110000" | "北京" | "北京市" => "110000",
        "440300" | "深圳" | "深圳市" => "440300",
        "350100" | "福州" | "福州市" => "350100",
        _ => return None,
    };
    RegionCode::parse(code).ok()
}

/// Completes a 17-digit prefix with its GB 11643 check character.
fn with_check(prefix17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = prefix17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{prefix17}{check}")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn tmp_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("anxin-import");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[derive(Debug)]
struct Outcome {
    accepted: Vec<Row>,
    rejections: Vec<Rejection>,
    ignored: Vec<String>,
    progress: Progress,
    stopped: Option<FileError>,
}

fn drain(mut rows: Rows<'_>) -> Outcome {
    let mut accepted = Vec::new();
    let mut rejections = Vec::new();
    for r in rows.by_ref() {
        match r {
            Ok(row) => accepted.push(row),
            Err(rej) => rejections.push(rej),
        }
    }
    Outcome {
        accepted,
        rejections,
        ignored: rows.ignored_columns().to_vec(),
        progress: rows.progress(),
        stopped: rows.stopped().cloned(),
    }
}

fn read_bytes(bytes: &[u8], format: Format, kind: Kind) -> Result<Outcome, FileError> {
    from_bytes(bytes, format, kind, opts(), &regions).map(drain)
}

fn read_path(path: &Path, kind: Kind) -> Result<Outcome, FileError> {
    open(path, kind, opts(), &regions).map(drain)
}

/// Every 18-character resident-ID-like string in a text: 17 digits then a digit or X, with
/// a birth date of 19xx or 20xx in characters 7–14 (all-digit credit codes are not IDs).
fn ids_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len().saturating_sub(17) {
        let w = &chars[i..i + 18];
        let before_ok = i == 0 || !chars[i - 1].is_ascii_digit();
        if before_ok
            && w[..17].iter().all(char::is_ascii_digit)
            && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x')
            && matches!((w[6], w[7]), ('1', '9') | ('2', '0'))
            && matches!((w[10], w[11]), ('0', '1'..='9') | ('1', '0'..='2'))
        {
            out.push(w.iter().collect());
        }
    }
    out
}

fn assert_no_clear_ids(what: &str, outcome: &Outcome, ids: &[String]) {
    for r in &outcome.rejections {
        let shown = format!(
            "{} {} {} {} {} {r} {r:?}",
            r.column, r.value, r.reason_zh, r.reason_en, r.field
        );
        for id in ids {
            assert!(
                !shown.contains(id.as_str()),
                "{what}: rejection of row {} shows a clear ID: {shown}",
                r.row
            );
        }
    }
    for row in &outcome.accepted {
        let debug = format!("{row:?}");
        for id in ids {
            assert!(
                !debug.contains(id.as_str()),
                "{what}: Debug shows a clear ID"
            );
        }
    }
}

fn check_expectations(what: &str, got: &Result<Outcome, FileError>, expect: &Value) {
    if let Some(words) = expect.get("file_error") {
        let err = match got {
            Err(e) => e,
            Ok(o) => panic!("{what}: expected a file error, got {o:?}"),
        };
        let text = format!("{} || {}", err.zh(), err.en());
        for w in words.as_array().unwrap() {
            let w = w.as_str().unwrap();
            assert!(text.contains(w), "{what}: file error lacks {w:?}: {text}");
        }
        return;
    }
    let o = match got {
        Ok(o) => o,
        Err(e) => panic!("{what}: unexpected file error: {e} / {}", e.en()),
    };
    let listing = o
        .rejections
        .iter()
        .map(|r| {
            format!(
                "  row {} [{}] {} | {}",
                r.row, r.field, r.reason_zh, r.reason_en
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        o.accepted.len() as u64,
        expect["accepted"].as_u64().unwrap(),
        "{what}: accepted count; rejections:\n{listing}"
    );
    let want = expect["rejections"].as_array().unwrap();
    assert_eq!(
        o.rejections.len(),
        want.len(),
        "{what}: rejection count; got:\n{listing}"
    );
    for (r, w) in o.rejections.iter().zip(want) {
        assert_eq!(
            r.row,
            w["row"].as_u64().unwrap(),
            "{what}: rows; got:\n{listing}"
        );
        assert_eq!(
            r.field,
            w["field"].as_str().unwrap(),
            "{what} row {}",
            r.row
        );
        let zh = w["zh"].as_str().unwrap();
        let en = w["en"].as_str().unwrap();
        assert!(
            r.reason_zh.contains(zh),
            "{what} row {}: {:?} lacks {zh:?}",
            r.row,
            r.reason_zh
        );
        assert!(
            r.reason_en.contains(en),
            "{what} row {}: {:?} lacks {en:?}",
            r.row,
            r.reason_en
        );
        // Both languages are really there.
        assert!(
            r.reason_zh
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
        assert!(
            r.reason_en
                .chars()
                .filter(char::is_ascii_alphabetic)
                .count()
                > 10
                && !r.reason_en.contains(['，', '：', '。', '、', '「']),
            "{what} row {}: not English: {}",
            r.row,
            r.reason_en
        );
    }
    if let Some(ignored) = expect.get("ignored_columns") {
        let want: Vec<&str> = ignored
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(o.ignored, want, "{what}: ignored columns");
    }
    assert!(o.stopped.is_none(), "{what}: stopped early");
    assert_eq!(
        o.progress.rows_read,
        o.accepted.len() as u64 + o.rejections.len() as u64
    );
}

fn kind_of(name: &str) -> Kind {
    name.split(['_', '.']).next().unwrap().parse().unwrap()
}

fn format_of(name: &str) -> Format {
    if name.ends_with(".csv") {
        Format::Csv
    } else {
        Format::Json
    }
}

#[test]
fn data_files_match_their_expectations() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "{inputs:?}");
    for path in inputs {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expect_path = data_dir().join(format!("{name}.expect.json"));
        let expect: Value = serde_json::from_str(
            &std::fs::read_to_string(&expect_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display())),
        )
        .unwrap();
        let kind = kind_of(&name);
        let format = format_of(&name);
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let ids = ids_in(&text);

        let mut variants: Vec<(String, Vec<u8>)> = vec![(name.clone(), bytes.clone())];
        if format == Format::Csv {
            let body = text.trim_start_matches('\u{feff}');
            // With a BOM.
            variants.push((
                format!("{name} +BOM"),
                [b"\xEF\xBB\xBF", body.as_bytes()].concat(),
            ));
            // With Windows line ends.
            variants.push((
                format!("{name} CRLF"),
                body.replace('\n', "\r\n").into_bytes(),
            ));
            // As GBK, the way Chinese Excel saves "CSV".
            let (gbk, _, unmappable) = GB18030.encode(body);
            assert!(!unmappable);
            if gbk.as_ref() != body.as_bytes() {
                variants.push((format!("{name} as GBK"), gbk.into_owned()));
            }
        }
        for (i, (what, input)) in variants.into_iter().enumerate() {
            let in_memory = read_bytes(&input, format, kind);
            check_expectations(&format!("{what} (bytes)"), &in_memory, &expect);
            let file = tmp_path(&format!("v{i}-{name}"));
            std::fs::write(&file, &input).unwrap();
            let streamed = read_path(&file, kind);
            check_expectations(&format!("{what} (path)"), &streamed, &expect);
            if let (Ok(a), Ok(b)) = (&in_memory, &streamed) {
                assert_eq!(a.accepted, b.accepted, "{what}");
                assert_eq!(a.rejections, b.rejections, "{what}");
                assert_eq!(a.progress, b.progress, "{what}");
                assert_no_clear_ids(&what, a, &ids);
            }
        }
    }
}

fn contribution_rows(name: &str) -> Vec<anxin_import::ContributionRow> {
    let bytes = std::fs::read(data_dir().join(name)).unwrap();
    let o = read_bytes(&bytes, format_of(name), Kind::Contributions).unwrap();
    o.accepted
        .into_iter()
        .map(|r| match r {
            Row::Contribution(c) => c,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn contribution_values_are_typed_exactly() {
    let rows = contribution_rows("contributions.csv");
    let c1 = &rows[0];
    assert_eq!(c1.row, 2);
    assert_eq!(c1.record_id, "c-1");
    assert_eq!(c1.person_id.expose(), "11010519491231002X");
    assert_eq!(c1.month, YearMonth::new(2025, 3).unwrap());
    assert_eq!(c1.insurance, Insurance::Pension);
    assert_eq!(c1.payer, Payer::Individual);
    assert_eq!(c1.base, Fen(350_000));
    assert_eq!(c1.amount, Fen(70_000));
    assert_eq!(c1.status, Status::Paid);
    assert_eq!(c1.paid_on, Some(date(2025, 3, 15)));
    let c2 = &rows[1];
    assert_eq!(c2.month, YearMonth::new(2025, 4).unwrap());
    assert_eq!(c2.region, RegionCode::parse("330100").unwrap());
    assert_eq!(
        c2.payer_code,
        Some(CreditCode::parse("91350100M000100Y43").unwrap())
    );
    assert_eq!(c2.amount, Fen(96_240));
    assert_eq!(c2.account, Some(Fen(10_000)));
    assert_eq!(rows[2].status, Status::Backpaid);
    assert_eq!(rows[3].status, Status::Excused);
    assert_eq!(rows[3].reason, Some(GapReason::Childbirth));
    assert_eq!(rows[3].amount, Fen::ZERO);
    assert_eq!(rows[4].payer, Payer::Subsidy);
    assert_eq!(rows[5].amount, Fen(123_450));
    assert_eq!(rows[5].payer, Payer::Voucher);
    assert_eq!(rows[5].status, Status::Unpaid);

    let zh = contribution_rows("contributions_zh.csv");
    assert_eq!(zh[1].amount, Fen(12_345), "full-width digits");
    assert_eq!(zh[1].payer, Payer::Platform);
    assert_eq!(zh[3].reason, Some(GapReason::Care));
    assert_eq!(zh[4].month, YearMonth::new(2025, 6).unwrap());
    assert_eq!(zh[4].region, RegionCode::parse("330000").unwrap());

    let json = contribution_rows("contributions.json");
    assert_eq!(json[0].amount, Fen(96_240));
    assert_eq!(json[1].amount, Fen(10), "0.1 never passes through a float");
    assert_eq!(json[1].base, Fen(481_200));
    assert_eq!(json[2].person_id.expose(), "330102198506150016");
    assert_eq!(json[3].paid_on, Some(date(2025, 7, 10)));

    let nd = contribution_rows("contributions.ndjson");
    assert_eq!(nd[0].row, 1);
    assert_eq!(nd[1].row, 6);
    assert_eq!(nd[1].month, YearMonth::new(2026, 11).unwrap());
}

#[test]
fn person_org_and_child_values_are_typed() {
    let bytes = std::fs::read(data_dir().join("persons.csv")).unwrap();
    let o = read_bytes(&bytes, Format::Csv, Kind::Persons).unwrap();
    let Row::Person(p) = &o.accepted[1] else {
        panic!()
    };
    assert_eq!(p.row, 3);
    assert_eq!(p.name, "李雷");
    assert_eq!(p.employment_form, EmploymentForm::SemiDependent);
    assert_eq!(p.hukou_region, RegionCode::parse("330106").ok());
    assert_eq!(p.platforms.len(), 2);
    let permit = p.permit.as_ref().unwrap();
    assert_eq!(permit.since, date(2024, 3, 1));
    assert_eq!(p.household.as_deref(), Some("H-001"));
    let Row::Person(p) = &o.accepted[2] else {
        panic!()
    };
    assert_eq!(p.row, 10);
    assert_eq!(p.platforms.len(), 2, "full-width ；separates too");
    let Row::Person(p) = &o.accepted[3] else {
        panic!()
    };
    assert_eq!(p.row, 12, "a quoted value over two lines is one row");

    let bytes = std::fs::read(data_dir().join("orgs.csv")).unwrap();
    let o = read_bytes(&bytes, Format::Csv, Kind::Orgs).unwrap();
    let Row::Org(org) = &o.accepted[0] else {
        panic!()
    };
    assert_eq!(org.kind, OrgKind::Platform);
    assert_eq!(org.record_id.as_deref(), Some("o-1"));

    let bytes = std::fs::read(data_dir().join("children_zh.csv")).unwrap();
    let o = read_bytes(&bytes, Format::Csv, Kind::Children).unwrap();
    let Row::Child(c) = &o.accepted[1] else {
        panic!()
    };
    assert_eq!(c.relation, Relation::Grandparent);
    assert_eq!(c.school_region, None);
    assert_eq!(c.guardian_id.expose(), "33010619900101123X");
}

#[test]
fn applications_read_proofs_and_refuse_unknown_ones() {
    let child = |n: u32| with_check(&format!("33010620180901{n:03}"));
    let guardian = with_check("34122119900315002");
    let text = format!(
        "申请编号,子女身份证号,监护人身份证号,申请城市,申请月份,困难家庭,证明材料\n\
         A-1,{},{guardian},杭州,2026-09,否,labour_contract;纳税记录；平台接单记录\n\
         A-2,{},{guardian},杭州,2026-09,,\n\
         A-3,{},{guardian},杭州,2026-09,否,营业执照;水电费单\n\
         A-4,{},{guardian},杭州,2026-09,否,社区居住证明、社区居住证明\n",
        child(1),
        child(2),
        child(3),
        child(4)
    );
    let o = read_bytes(text.as_bytes(), Format::Csv, Kind::Applications).unwrap();
    assert_eq!(o.accepted.len(), 3, "{:?}", o.rejections);
    let Row::Application(a) = &o.accepted[0] else {
        panic!()
    };
    assert_eq!(
        a.proofs,
        [
            ProofKind::LabourContract,
            ProofKind::TaxRecords,
            ProofKind::PlatformOrders
        ]
    );
    let Row::Application(a) = &o.accepted[1] else {
        panic!()
    };
    assert!(a.proofs.is_empty());
    let Row::Application(a) = &o.accepted[2] else {
        panic!()
    };
    assert_eq!(a.proofs, [ProofKind::CommunityResidence], "each kind once");
    let r = &o.rejections[0];
    assert_eq!(r.row, 4);
    assert!(
        r.reason_zh.contains("水电费单") && r.reason_zh.contains("business_licence（营业执照）"),
        "{}",
        r.reason_zh
    );
    assert!(
        r.reason_en.contains("not a known proof") && r.reason_en.contains("community_residence"),
        "{}",
        r.reason_en
    );
}

// ---------------------------------------------------------------------------------------
// xlsx

fn xlsx_bytes(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    build(sheet);
    book.save_to_buffer().unwrap()
}

#[test]
fn xlsx_cells_of_every_type() {
    let id = "11010519491231002X";
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let month_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm");
    let bytes = xlsx_bytes(|s| {
        let header = [
            "记录号",
            "身份证号",
            "所属期",
            "险种",
            "参保地",
            "缴费方",
            "缴费基数",
            "缴费金额",
            "缴费日期",
            "备注",
        ];
        for (c, h) in header.iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        let base_row = |s: &mut rust_xlsxwriter::Worksheet, r: u32, rec: &str| {
            s.write_string(r, 0, rec).unwrap();
            s.write_string(r, 1, id).unwrap();
            s.write_string(r, 2, "2025-03").unwrap();
            s.write_string(r, 3, "养老").unwrap();
            s.write_string(r, 4, "杭州").unwrap();
            s.write_string(r, 5, "个人").unwrap();
            s.write_number(r, 6, 4812.0).unwrap();
            s.write_number(r, 7, 962.4).unwrap();
        };
        // Row 2: numbers as floats, a real date cell.
        base_row(s, 1, "x-1");
        s.write_datetime_with_format(
            1,
            8,
            rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 3, 15).unwrap(),
            &date_fmt,
        )
        .unwrap();
        // Row 3: the ID typed as a number: digits are lost.
        base_row(s, 2, "x-2");
        s.write_number(2, 1, 330102198506150016.0).unwrap();
        // Row 4: 0.1 + 0.2 computed in Excel is 0.30000000000000004: that is 0.30.
        base_row(s, 3, "x-3");
        s.write_number(3, 7, 0.1 + 0.2).unwrap();
        s.write_string(3, 2, "2025-04").unwrap();
        // Row 5: three decimals.
        base_row(s, 4, "x-4");
        s.write_number(4, 7, 12.345).unwrap();
        // Row 6: month as a date cell, region as a number.
        base_row(s, 5, "x-5");
        s.write_datetime_with_format(
            5,
            2,
            rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 5, 1).unwrap(),
            &month_fmt,
        )
        .unwrap();
        s.write_number(5, 4, 330100.0).unwrap();
        // Row 7 empty; row 8 only a note in an ignored column (skipped too).
        s.write_string(7, 9, "备注而已").unwrap();
        // Row 9: month as the number 202506, a date as a string.
        base_row(s, 8, "x-6");
        s.write_number(8, 2, 202506.0).unwrap();
        s.write_string(8, 8, "2025/06/30").unwrap();
        // Row 10: a future month in a date cell.
        base_row(s, 9, "x-7");
        s.write_datetime_with_format(
            9,
            2,
            rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 1, 1).unwrap(),
            &month_fmt,
        )
        .unwrap();
        // Row 11: a formula error in the amount.
        base_row(s, 10, "x-8");
        s.write_formula(
            10,
            7,
            rust_xlsxwriter::Formula::new("=1/0").set_result("#DIV/0!"),
        )
        .unwrap();
        // Row 12: duplicate record.
        base_row(s, 11, "x-1");
        s.write_string(11, 2, "2025-08").unwrap();
    });
    let o = read_bytes(&bytes, Format::Xlsx, Kind::Contributions).unwrap();
    let listing: Vec<String> = o
        .rejections
        .iter()
        .map(|r| format!("{} {} {} {}", r.row, r.field, r.value, r.reason_en))
        .collect();
    let got: Vec<(u64, &str)> = o
        .rejections
        .iter()
        .map(|r| (r.row, r.field.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "person_id"),
            (5, "amount"),
            (10, "month"),
            (11, "amount"),
            (12, "record_id")
        ],
        "{listing:#?}"
    );
    assert!(
        o.rejections[0]
            .reason_zh
            .contains("身份证号列请设为文本格式")
    );
    assert!(
        o.rejections[0]
            .reason_en
            .contains("format the ID column as text")
    );
    assert!(!o.rejections[0].value.contains("330102198506150016"));
    assert!(o.rejections[1].reason_en.contains("more than two decimals"));
    assert!(o.rejections[2].reason_en.contains("in the future"));
    assert!(
        o.rejections[3].reason_en.contains("#DIV/0!"),
        "{listing:#?}"
    );
    assert!(o.rejections[4].reason_en.contains("duplicate of row 2"));

    let rows: Vec<_> = o
        .accepted
        .iter()
        .map(|r| match r {
            Row::Contribution(c) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].row, 2);
    assert_eq!(rows[0].amount, Fen(96_240));
    assert_eq!(rows[0].base, Fen(481_200));
    assert_eq!(rows[0].paid_on, Some(date(2025, 3, 15)));
    assert_eq!(rows[1].row, 4);
    assert_eq!(rows[1].amount, Fen(30));
    assert_eq!(rows[2].row, 6);
    assert_eq!(rows[2].month, YearMonth::new(2025, 5).unwrap());
    assert_eq!(rows[2].region, RegionCode::parse("330100").unwrap());
    assert_eq!(rows[3].row, 9);
    assert_eq!(rows[3].month, YearMonth::new(2025, 6).unwrap());
    assert_eq!(rows[3].paid_on, Some(date(2025, 6, 30)));
    assert_eq!(o.ignored, vec!["备注".to_string()]);
    assert_eq!(o.progress.rows_read, 9);

    // The same bytes from a path.
    let path = tmp_path("contributions.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let from_path = read_path(&path, Kind::Contributions).unwrap();
    assert_eq!(from_path.accepted, o.accepted);
    assert_eq!(from_path.rejections, o.rejections);
}

#[test]
fn xlsx_persons_and_missing_columns() {
    let bytes = xlsx_bytes(|s| {
        for (c, h) in ["身份证号", "姓名", "居住地", "就业形态"]
            .iter()
            .enumerate()
        {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s.write_string(1, 0, "33010619900101123X").unwrap();
        s.write_string(1, 1, "李雷").unwrap();
        s.write_string(1, 2, "杭州").unwrap();
        s.write_string(1, 3, "灵活就业").unwrap();
    });
    let o = read_bytes(&bytes, Format::Xlsx, Kind::Persons).unwrap();
    assert_eq!(o.accepted.len(), 1);
    assert!(o.rejections.is_empty());

    let err = read_bytes(&bytes, Format::Xlsx, Kind::Orgs).unwrap_err();
    let FileError::MissingColumns { missing, allowed } = &err else {
        panic!("{err:?}")
    };
    let missing: Vec<&str> = missing.iter().map(|c| c.en).collect();
    assert_eq!(missing, ["credit_code", "name", "kind", "region"]);
    assert_eq!(allowed.len(), 5);
    assert!(err.zh().contains("统一社会信用代码"), "{}", err.zh());
    assert!(err.en().contains("credit_code"), "{}", err.en());

    let empty = xlsx_bytes(|_| {});
    assert_eq!(
        read_bytes(&empty, Format::Xlsx, Kind::Persons).unwrap_err(),
        FileError::Empty
    );
}

// ---------------------------------------------------------------------------------------
// Whole-file errors

#[test]
fn whole_file_errors_say_what_and_how() {
    type Case = (&'static str, Vec<u8>, Format, fn(&FileError) -> bool);
    let cases: Vec<Case> = vec![
        // Neither UTF-8 nor GBK: 0xFF is no GB18030 byte, 0x81 0x20 no GBK pair.
        (
            "garbage",
            b"person_id,name\n\xFF\xFE\xFD,\x81 x\n".to_vec(),
            Format::Csv,
            |e| matches!(e, FileError::Encoding { offset: 15 }),
        ),
        ("utf-16", b"\xFF\xFEp\0e\0".to_vec(), Format::Csv, |e| {
            matches!(e, FileError::Utf16)
        }),
        (
            "nul",
            b"person_id,name\n\0\0\0\n".to_vec(),
            Format::Csv,
            |e| matches!(e, FileError::Binary),
        ),
        ("empty", b"".to_vec(), Format::Csv, |e| {
            matches!(e, FileError::Empty)
        }),
        ("blank lines", b"\n\n  \n".to_vec(), Format::Json, |e| {
            matches!(e, FileError::Empty)
        }),
        ("json scalar", b"42".to_vec(), Format::Json, |e| {
            matches!(e, FileError::JsonShape)
        }),
        (
            "json array of scalars",
            b"[1, 2]".to_vec(),
            Format::Json,
            |e| matches!(e, FileError::JsonShape),
        ),
        ("json syntax", b"[{\"a\": }]".to_vec(), Format::Json, |e| {
            matches!(e, FileError::Json { line: 1, .. })
        }),
        (
            "not a zip",
            b"person_id,name\n".to_vec(),
            Format::Xlsx,
            |e| matches!(e, FileError::Xlsx { .. }),
        ),
        (
            "legacy xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest".to_vec(),
            Format::Xlsx,
            |e| matches!(e, FileError::LegacyExcel),
        ),
        (
            "duplicate column",
            "person_id,身份证号,name\n".as_bytes().to_vec(),
            Format::Csv,
            |e| matches!(e, FileError::DuplicateColumn { .. }),
        ),
        (
            "too many columns",
            (0..300)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes(),
            Format::Csv,
            |e| {
                matches!(
                    e,
                    FileError::TooManyColumns {
                        found: 300,
                        max: 256
                    }
                )
            },
        ),
    ];
    for (what, bytes, format, is_expected) in cases {
        let err = from_bytes(&bytes, format, Kind::Persons, opts(), &regions)
            .map(drain)
            .unwrap_err();
        assert!(is_expected(&err), "{what}: {err:?}");
        // Chinese by default, English on request, each saying what to do.
        assert!(err.to_string() == err.zh());
        assert!(
            err.zh().contains('：') || err.zh().contains('，'),
            "{what}: {}",
            err.zh()
        );
        assert!(
            err.en().contains(':') || err.en().contains(';'),
            "{what}: {}",
            err.en()
        );
    }
    let err = read_path(Path::new("/nonexistent/缴费.csv"), Kind::Contributions).unwrap_err();
    assert!(matches!(err, FileError::Io { .. }), "{err:?}");
}

#[test]
fn too_many_rows_is_a_file_error_in_every_format() {
    let small = Options {
        today: TODAY,
        max_rows: 3,
    };
    let csv = "record_id,person_id\n".to_string() + &"x\n".repeat(4);
    let ndjson = "{\"record_id\": 1}\n".repeat(4);
    let array = format!("[{}]", ["{\"record_id\": 1}"; 4].join(","));
    let xlsx = xlsx_bytes(|s| {
        for r in 0..5 {
            s.write_string(r, 0, "x").unwrap();
        }
    });
    for (format, bytes) in [
        (Format::Csv, csv.as_bytes()),
        (Format::Json, ndjson.as_bytes()),
        (Format::Json, array.as_bytes()),
        (Format::Xlsx, &xlsx[..]),
    ] {
        let err = from_bytes(bytes, format, Kind::Contributions, small, &regions).unwrap_err();
        assert!(
            matches!(err, FileError::TooManyRows { found: 4, max: 3 }),
            "{format}: {err:?}"
        );
        assert!(err.zh().contains("拆分"));
    }
    let path = tmp_path("too_many.csv");
    std::fs::write(&path, &csv).unwrap();
    let err = open(&path, Kind::Contributions, small, &regions).unwrap_err();
    assert!(matches!(err, FileError::TooManyRows { found: 4, max: 3 }));
}

// ---------------------------------------------------------------------------------------
// Privacy, encodings, delimiters, detection

#[test]
fn rejections_never_show_a_clear_id() {
    let id = "33010619900101123X";
    let bad = "330106199001011234";
    let csv = format!(
        "person_id,name,residence_region,employment_form,household,record_id\n\
         {bad},张三,330100,flexible,,\n\
         {id},{id},330100,flexible,,\n\
         {id},张三,{id},flexible,,\n\
         {id},张三,330100,{id},,\n\
         {id},张三,330100,flexible,,{id} x\n\
         {id},张三,330100,flexible,,\n\
         {id},张三,330100,flexible,,\n\
         {},张三,330100,flexible,,\n",
        with_check("11010519491231002").replace('X', "Y")
    );
    let o = read_bytes(csv.as_bytes(), Format::Csv, Kind::Persons).unwrap();
    assert_eq!(o.accepted.len(), 1, "{:#?}", o.rejections);
    assert_eq!(o.rejections.len(), 7);
    let ids = vec![
        id.to_string(),
        bad.to_string(),
        "11010519491231002Y".to_string(),
    ];
    assert_no_clear_ids("privacy", &o, &ids);
    assert_eq!(o.rejections[0].value, "330106****");
    assert_eq!(
        o.rejections[5].value, "3301**********123X",
        "duplicate shows the masked ID"
    );
    assert_eq!(o.rejections[5].field, "person_id");
}

#[test]
fn gbk_detected_beyond_the_first_64_kib_when_streaming() {
    let mut text = String::from("record_id,person_id,month,insurance,region,payer,base,amount\n");
    let mut n = 0;
    while text.len() < 200 * 1024 {
        n += 1;
        text.push_str(&format!(
            "r-{n},11010519491231002X,2025-03,pension,330100,self,4812,962.40\n"
        ));
    }
    n += 1;
    text.push_str(&format!(
        "r-{n},11010519491231002X,2025-03,养老,杭州,个人,4812,962.40\n"
    ));
    let (gbk, _, _) = GB18030.encode(&text);
    let path = tmp_path("late_gbk.csv");
    std::fs::write(&path, &gbk).unwrap();
    let o = read_path(&path, Kind::Contributions).unwrap();
    assert_eq!(o.rejections, vec![]);
    assert_eq!(o.accepted.len(), n);
    assert_eq!(o.progress.rows_total, n as u64);
    let Some(Row::Contribution(last)) = o.accepted.last() else {
        panic!()
    };
    assert_eq!(last.region, RegionCode::parse("330100").unwrap());
    assert_eq!(last.payer, Payer::Individual);
}

#[test]
fn delimiters_excel_text_and_headers() {
    let tsv = "Person ID\tNAME\tresidence-region\t就业形态\t备注\n\
               =\"11010519491231002X\"\t王芳\t杭州\t灵活就业\tx\n";
    let o = read_bytes(tsv.as_bytes(), Format::Csv, Kind::Persons).unwrap();
    assert_eq!(o.accepted.len(), 1, "{:?}", o.rejections);
    assert_eq!(o.ignored, vec!["备注".to_string()]);
    let semi =
        "person_id;name;residence_region;employment_form\n11010519491231002X;王芳;杭州;flexible\n";
    let o = read_bytes(semi.as_bytes(), Format::Csv, Kind::Persons).unwrap();
    assert_eq!(o.accepted.len(), 1, "{:?}", o.rejections);

    let rows = from_bytes(tsv.as_bytes(), Format::Csv, Kind::Persons, opts(), &regions).unwrap();
    let cols = rows.columns();
    assert!(cols.contains(&("person_id", "Person ID")));
    assert!(cols.contains(&("residence_region", "residence-region")));
    assert!(
        cols.contains(&("household", "household")),
        "absent: English name"
    );
}

#[test]
fn long_cells_and_old_mac_line_ends() {
    let long = "名".repeat(2000); // 6000 bytes of UTF-8
    let csv = format!(
        "person_id,name,residence_region,employment_form,household\n\
         11010519491231002X,王芳,杭州,flexible,{long}\n"
    );
    let o = read_bytes(csv.as_bytes(), Format::Csv, Kind::Persons).unwrap();
    assert_eq!(o.rejections.len(), 1);
    let r = &o.rejections[0];
    assert_eq!((r.row, r.field.as_str()), (2, "household"));
    assert!(r.reason_en.contains("4096 bytes"), "{}", r.reason_en);
    assert!(r.value.len() < 64);

    let json = format!(
        "{{\"person_id\": \"11010519491231002X\", \"name\": \"{long}\", \"residence_region\": \"杭州\", \"employment_form\": \"flexible\"}}"
    );
    let o = read_bytes(json.as_bytes(), Format::Json, Kind::Persons).unwrap();
    assert_eq!(o.rejections[0].field, "name");
    assert!(o.rejections[0].reason_zh.contains("4096 字节"));

    let mac = "person_id,name,residence_region,employment_form\r\
               11010519491231002X,王芳,杭州,flexible\r\
               33010619900101123X,李雷,杭州,flexible\r";
    let o = read_bytes(mac.as_bytes(), Format::Csv, Kind::Persons).unwrap();
    assert_eq!(o.accepted.len(), 2, "{:?}", o.rejections);
    assert_eq!(o.accepted[1].row_number(), 3);
}

#[test]
fn formats_and_kinds_are_recognised() {
    let p = |s: &str| PathBuf::from(s);
    assert_eq!(Format::detect(&p("a.CSV"), b"x").unwrap(), Format::Csv);
    assert_eq!(Format::detect(&p("a.xlsx"), b"").unwrap(), Format::Xlsx);
    assert_eq!(
        Format::detect(&p("a.csv"), b"PK\x03\x04...").unwrap(),
        Format::Xlsx
    );
    assert_eq!(Format::detect(&p("a.jsonl"), b"").unwrap(), Format::Json);
    assert_eq!(
        Format::detect(&p("upload"), b"\xEF\xBB\xBF [{").unwrap(),
        Format::Json
    );
    assert_eq!(
        Format::detect(&p("upload"), "身份证号,姓名".as_bytes()).unwrap(),
        Format::Csv
    );
    assert!(matches!(
        Format::detect(&p("a.xls"), b""),
        Err(FileError::LegacyExcel)
    ));
    assert!(matches!(
        Format::detect(&p("upload"), b"\x00\x01\x02"),
        Err(FileError::UnknownFormat { .. })
    ));
    assert_eq!("persons".parse::<Kind>().unwrap(), Kind::Persons);
    assert_eq!(
        "Contributions".parse::<Kind>().unwrap(),
        Kind::Contributions
    );
    assert_eq!("子女".parse::<Kind>().unwrap(), Kind::Children);
    assert!("people".parse::<Kind>().is_err());
    assert_eq!(Kind::Orgs.columns().len(), 5);

    // open_as with an explicit format, and open's detection from content.
    let path = tmp_path("no_extension");
    std::fs::write(&path, "[]").unwrap();
    let o = open(&path, Kind::Orgs, opts(), &regions)
        .map(drain)
        .unwrap();
    assert!(o.accepted.is_empty() && o.rejections.is_empty());
    std::fs::write(
        &path,
        "credit_code,name,kind,region\n91350100M000100Y43,平台,platform,福州\n",
    )
    .unwrap();
    let o = open_as(&path, Format::Csv, Kind::Orgs, opts(), &regions)
        .map(drain)
        .unwrap();
    assert_eq!(o.accepted.len(), 1);
}

#[test]
fn check_digit_helper_agrees_with_the_domain() {
    assert_eq!(with_check("11010519491231002"), "11010519491231002X");
    assert_eq!(with_check("33010619900101123"), "33010619900101123X");
    for prefix in [
        "44030419920203002",
        "33010620150601003",
        "11010520270101001",
    ] {
        assert!(anxin_domain::ResidentId::parse(&with_check(prefix)).is_ok());
    }
}

// ---------------------------------------------------------------------------------------
// No input panics

fn drain_all(bytes: &[u8]) {
    for format in [Format::Csv, Format::Xlsx, Format::Json] {
        for kind in Kind::ALL {
            if let Ok(rows) = from_bytes(bytes, format, kind, opts(), &AnyRegionCode) {
                for r in rows {
                    let _ = r;
                }
            }
        }
    }
}

fn cell_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("11010519491231002X".to_string()),
        Just("91350100M000100Y43".to_string()),
        Just("330100".to_string()),
        Just("2025-03".to_string()),
        Just("1.10105E+17".to_string()),
        Just("\"a,\nb\"".to_string()),
        Just("=\"1\"".to_string()),
        "[0-9.,\\-]{0,12}",
        "[a-z_]{0,12}",
        "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        drain_all(&bytes);
    }

    #[test]
    fn arbitrary_rows_under_a_real_header_never_panic(
        kind in prop::sample::select(Kind::ALL.to_vec()),
        rows in proptest::collection::vec(proptest::collection::vec(cell_text(), 0..16), 0..8),
    ) {
        let header = kind.columns().iter().map(|c| c.en).collect::<Vec<_>>();
        let mut csv = header.join(",");
        let mut ndjson = String::new();
        for row in &rows {
            csv.push('\n');
            csv.push_str(&row.join(","));
            let obj: serde_json::Map<String, Value> = header
                .iter()
                .zip(row)
                .map(|(h, v)| (h.to_string(), Value::String(v.clone())))
                .collect();
            ndjson.push_str(&Value::Object(obj).to_string());
            ndjson.push('\n');
        }
        for (format, text) in [(Format::Csv, &csv), (Format::Json, &ndjson)] {
            if let Ok(rows) = from_bytes(text.as_bytes(), format, kind, opts(), &AnyRegionCode) {
                for r in rows {
                    if let Err(rej) = r {
                        prop_assert!(!rej.reason_zh.is_empty() && !rej.reason_en.is_empty());
                        prop_assert!(!rej.value.contains("11010519491231002X"));
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_workbooks_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = xlsx_bytes(|s| {
            for (c, h) in ["身份证号", "姓名", "居住地", "就业形态"].iter().enumerate() {
                s.write_string(0, c as u16, *h).unwrap();
            }
            s.write_string(1, 0, "33010619900101123X").unwrap();
            s.write_number(1, 1, 1.5).unwrap();
        });
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        drain_all(&bytes);
    }
}

// ---------------------------------------------------------------------------------------
// templates

/// Every kind's template, as .xlsx and as CSV, has every column under its Chinese header and
/// an example row that the importer itself reads back without a refusal; the order puts the
/// kinds that others name first.
#[test]
fn templates_import_back_clean() {
    use anxin_import::template::{ORDER, template_csv, template_rows, template_xlsx};
    let known = |text: &str| match text {
        "阜阳" | "阜阳市" => RegionCode::parse("341200").ok(),
        other => regions(other),
    };
    for kind in ORDER {
        let (names, values) = template_rows(kind);
        assert_eq!(names.len(), kind.columns().len(), "{kind:?}");
        assert!(
            values.iter().any(|v| !v.is_empty()),
            "{kind:?} has an example"
        );
        for (ext, bytes) in [
            ("xlsx", template_xlsx(kind).expect("xlsx")),
            ("csv", template_csv(kind)),
        ] {
            let path = tmp_path(&format!("template-{}.{ext}", kind.as_str()));
            std::fs::write(&path, bytes).unwrap();
            let rows: Vec<_> = anxin_import::open(&path, kind, opts(), &known)
                .unwrap_or_else(|e| panic!("{kind:?} {ext}: {e}"))
                .collect();
            assert_eq!(rows.len(), 1, "{kind:?} {ext}");
            assert!(rows[0].is_ok(), "{kind:?} {ext}: {:?}", rows[0]);
        }
    }
    let at = |k: Kind| ORDER.iter().position(|o| *o == k).unwrap();
    assert!(
        at(Kind::Orgs) < at(Kind::Contributions) && at(Kind::Persons) < at(Kind::Contributions)
    );
    assert!(at(Kind::Persons) < at(Kind::Children));
    assert_eq!(ORDER.len(), Kind::ALL.len());
}
