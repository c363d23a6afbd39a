//! Hostile import files against the real `anxin import` binary: each is refused with its
//! documented message, and the child's peak memory (its maximum resident set, read with
//! `wait4`) stays under 256 MB whatever the file. The files are made here, not committed.
//!
//! The cases are those of issue 12: a 1 MB .xlsx with one 1 GiB cell, the same in the
//! shared-strings table, millions of tiny rows in a small .xlsx, and for CSV and JSON a
//! single huge field, a huge array and deep nesting.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use zip::write::SimpleFileOptions;

const LIMIT_KIB: i64 = 256 * 1024;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-import-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `anxin import` and returns its exit code, stderr and peak RSS in KiB.
fn import(data: &Path, kind: &str, file: &Path) -> (i32, String, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-11", "--data"])
        .arg(data)
        .args(["import", kind])
        .arg(file)
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(file.with_extension("stderr")).unwrap())
        .spawn()
        .expect("run anxin");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; both pointers are to live locals.
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4");
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let stderr = std::fs::read_to_string(file.with_extension("stderr")).unwrap_or_default();
    (code, stderr, usage.ru_maxrss)
}

/// Writes the content of one part of a workbook.
type Part<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// An .xlsx written by hand: the given sheet XML (streamed from `sheet`) and optionally a
/// shared-strings part, deflated.
fn xlsx(path: &Path, sheet: Part<'_>, shared: Option<Part<'_>>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let parts: [(&str, &str); 3] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        z.start_file(name, opts).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    if let Some(shared) = shared {
        z.start_file("xl/sharedStrings.xml", opts).unwrap();
        shared(&mut z);
    }
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    sheet(&mut z);
    z.finish().unwrap();
}

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_END: &str = "</sheetData></worksheet>";
/// The header of a persons file as inline strings.
const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>身份证号</t></is></c><c r="B1" t="inlineStr"><is><t>姓名</t></is></c><c r="C1" t="inlineStr"><is><t>居住地</t></is></c><c r="D1" t="inlineStr"><is><t>就业形态</t></is></c></row>"#;

/// Writes `n` bytes of `a` in 1 MiB pieces.
fn write_a(w: &mut dyn Write, n: usize) {
    let piece = vec![b'a'; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(piece.len());
        w.write_all(&piece[..k]).unwrap();
        left -= k;
    }
}

const GIB: usize = 1 << 30;

#[test]
fn hostile_imports_are_refused_within_256_mb() {
    let dir = scratch();
    let data = dir.join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-11", "--data"])
        .arg(&data)
        .arg("init")
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cases: Vec<(&str, PathBuf, &str, &str)> = Vec::new();

    // One 1 GiB inline-string cell.
    let huge_cell = dir.join("huge_cell.xlsx");
    xlsx(
        &huge_cell,
        &mut |w| {
            w.write_all(SHEET_START.as_bytes()).unwrap();
            w.write_all(HEADER_ROW.as_bytes()).unwrap();
            w.write_all(br#"<row r="2"><c r="A2" t="inlineStr"><is><t>"#)
                .unwrap();
            write_a(w, GIB);
            w.write_all(b"</t></is></c></row>").unwrap();
            w.write_all(SHEET_END.as_bytes()).unwrap();
        },
        None,
    );
    cases.push((
        "persons",
        huge_cell,
        "longer than the limit of 1024 KiB",
        "1024 KiB 的上限",
    ));

    // One 1 GiB shared string.
    let huge_shared = dir.join("huge_shared.xlsx");
    xlsx(
        &huge_shared,
        &mut |w| {
            w.write_all(SHEET_START.as_bytes()).unwrap();
            w.write_all(HEADER_ROW.as_bytes()).unwrap();
            w.write_all(br#"<row r="2"><c r="A2" t="s"><v>0</v></c></row>"#)
                .unwrap();
            w.write_all(SHEET_END.as_bytes()).unwrap();
        },
        Some(&mut |w| {
            w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#).unwrap();
            write_a(w, GIB);
            w.write_all(b"</t></si></sst>").unwrap();
        }),
    );
    cases.push((
        "persons",
        huge_shared,
        "exceeds the limit of 64 MiB",
        "64 MiB 的上限",
    ));

    // A full shared-strings table: two million one-letter strings, all within the limits,
    // and one data row (refused: it has only an ID) that uses the last of them.
    let many_strings = dir.join("many_strings.xlsx");
    xlsx(
        &many_strings,
        &mut |w| {
            w.write_all(SHEET_START.as_bytes()).unwrap();
            w.write_all(HEADER_ROW.as_bytes()).unwrap();
            w.write_all(br#"<row r="2"><c r="A2" t="s"><v>1999999</v></c></row>"#)
                .unwrap();
            w.write_all(SHEET_END.as_bytes()).unwrap();
        },
        Some(&mut |w| {
            w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2000000" uniqueCount="2000000">"#).unwrap();
            let strings = "<si><t>a</t></si>".repeat(10_000);
            for _ in 0..200 {
                w.write_all(strings.as_bytes()).unwrap();
            }
            w.write_all(b"</sst>").unwrap();
        }),
    );
    cases.push((
        "persons",
        many_strings,
        "all 1 rows were rejected",
        "全部 1 行都被拒收",
    ));

    // Millions of tiny rows (each a 1 in column A, no row numbers) in a small file.
    let many_rows = dir.join("many_rows.xlsx");
    xlsx(
        &many_rows,
        &mut |w| {
            w.write_all(SHEET_START.as_bytes()).unwrap();
            w.write_all(HEADER_ROW.as_bytes()).unwrap();
            let rows = "<row><c><v>1</v></c></row>".repeat(10_000);
            for _ in 0..500 {
                w.write_all(rows.as_bytes()).unwrap();
            }
            w.write_all(SHEET_END.as_bytes()).unwrap();
        },
        None,
    );
    cases.push((
        "persons",
        many_rows,
        "more than the limit of 1048575",
        "1048575 行的上限",
    ));

    // CSV: one 400 MiB quoted field.
    let huge_field = dir.join("huge_field.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge_field).unwrap());
        f.write_all("身份证号,姓名,居住地,就业形态\n\"".as_bytes())
            .unwrap();
        write_a(&mut f, 400 << 20);
        f.write_all("\",x,杭州,多平台\n".as_bytes()).unwrap();
    }
    cases.push((
        "persons",
        huge_field,
        "a row longer than the limit of 2 MiB",
        "2 MiB 的上限",
    ));

    // JSON: a 400 MiB array, one 400 MiB NDJSON line, and deep nesting.
    let huge_array = dir.join("huge_array.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge_array).unwrap());
        f.write_all("[{\"身份证号\": \"".as_bytes()).unwrap();
        write_a(&mut f, 400 << 20);
        f.write_all(b"\"}]").unwrap();
    }
    cases.push((
        "persons",
        huge_array,
        "larger than the limit of 16 MiB",
        "16 MiB 的上限",
    ));
    let huge_line = dir.join("huge_line.ndjson");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge_line).unwrap());
        f.write_all("{\"身份证号\": \"".as_bytes()).unwrap();
        write_a(&mut f, 400 << 20);
        f.write_all(b"\"}\n").unwrap();
    }
    cases.push(("persons", huge_line, "wrong shape", "结构不对"));
    // A JSON array just under its size limit, of millions of empty objects.
    let tiny_items = dir.join("tiny_items.json");
    {
        let n = ((16 << 20) - 2) / 3;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tiny_items).unwrap());
        f.write_all(b"[{}").unwrap();
        for _ in 1..n {
            f.write_all(b",{}").unwrap();
        }
        f.write_all(b"]").unwrap();
    }
    cases.push((
        "persons",
        tiny_items,
        "more than the limit of 5000000",
        "5000000 行的上限",
    ));
    let deep = dir.join("deep.json");
    std::fs::write(
        &deep,
        format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000)),
    )
    .unwrap();
    cases.push(("persons", deep, "JSON", "JSON"));

    let mut failures = Vec::new();
    for (kind, file, en, zh) in &cases {
        let size = std::fs::metadata(file).unwrap().len();
        let started = std::time::Instant::now();
        let (code, stderr, peak_kib) = import(&data, kind, file);
        let name = file.file_name().unwrap().to_string_lossy();
        eprintln!(
            "{name}: {size} bytes on disk, exit {code}, peak RSS {} MiB, {:.1} s",
            peak_kib / 1024,
            started.elapsed().as_secs_f64()
        );
        if code != 2 || !stderr.contains(en) || !stderr.contains(zh) {
            failures.push(format!(
                "{name}: exit {code}, expected 2 and {en:?} / {zh:?}: {stderr}"
            ));
        }
        if peak_kib > LIMIT_KIB {
            failures.push(format!(
                "{name}: peak RSS {} MiB > 256 MiB",
                peak_kib / 1024
            ));
        }
        let _ = std::fs::remove_file(file);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
