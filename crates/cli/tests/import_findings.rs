//! Smaller findings of issue 12, as a clerk meets them: an import where every row is
//! refused fails (the report is still written); refusals by the records (a filled slot) come
//! in file order and name the column as the file does; `verify --key` with a missing file
//! says the file is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn anxin_in(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-11"])
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .output()
        .expect("run anxin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-findings-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const PLATFORM: &str = "91350100M000100Y43";
const WORKER: &str = "11010519491231002X";

/// A data directory with one platform and one worker.
fn registry(name: &str) -> (PathBuf, PathBuf) {
    let root = scratch(name);
    let data = root.join("data");
    let (code, out, err) = anxin_in(&data, &["init"]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(
        root.join("orgs.csv"),
        format!("统一社会信用代码,名称,类型,地区\n{PLATFORM},某外卖平台,平台,杭州\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("persons.csv"),
        format!("身份证号,姓名,户籍地,居住地,就业形态\n{WORKER},张三,阜阳,杭州,多平台\n"),
    )
    .unwrap();
    for kind in ["orgs", "persons"] {
        let file = root.join(format!("{kind}.csv"));
        let (code, out, err) = anxin_in(&data, &["import", kind, file.to_str().unwrap()]);
        assert_eq!(code, 0, "{kind}: {out}{err}");
    }
    (root, data)
}

const CONTRIBUTIONS_ZH: &str =
    "记录号,身份证号,所属期,险种,参保地,缴费方,缴费单位代码,缴费基数,缴费金额\n";

#[test]
fn an_import_where_every_row_is_refused_fails_and_still_reports() {
    let (root, data) = registry("all-refused");
    // One row refused by the reader, one by the records (a person not registered).
    let file = root.join("refused.csv");
    std::fs::write(
        &file,
        format!(
            "{CONTRIBUTIONS_ZH}r-1,{WORKER},2025-13,养老,杭州,个人,,4812,962.40\nr-2,33010619900101123X,2025-03,养老,杭州,个人,,4812,962.40\n"
        ),
    )
    .unwrap();
    let (code, out, err) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("拒收 2"),
        "the summary is still printed: {out}"
    );
    assert!(
        err.contains("全部 2 行都被拒收") && err.contains("all 2 rows were rejected"),
        "{err}"
    );
    let report = std::fs::read_to_string(root.join("refused.csv.rejected.csv")).unwrap();
    assert_eq!(report.lines().count(), 3, "{report}");

    // One row in: success, even with a refusal beside it.
    std::fs::write(
        &file,
        format!("{CONTRIBUTIONS_ZH}r-1,{WORKER},2025-13,养老,杭州,个人,,4812,962.40\nr-3,{WORKER},2025-03,养老,杭州,个人,,4812,962.40\n"),
    )
    .unwrap();
    let (code, out, err) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    // Again: the good row is already there, which is not a failure either.
    let (code, out, err) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn slot_conflicts_come_in_file_order_named_as_the_file_names_them() {
    let (root, data) = registry("slots");
    let file = root.join("slots.csv");
    // Row 3 takes the slot of row 2 (refused by the records); row 4 is refused by the reader.
    std::fs::write(
        &file,
        format!(
            "{CONTRIBUTIONS_ZH}s-1,{WORKER},2025-03,养老,杭州,个人,,4812,962.40\ns-2,{WORKER},2025-03,养老,杭州,个人,,4812,962.40\ns-3,{WORKER},2025-13,养老,杭州,个人,,4812,962.40\n"
        ),
    )
    .unwrap();
    let (code, out, err) = anxin_in(&data, &["import", "contributions", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let report = std::fs::read_to_string(root.join("slots.csv.rejected.csv")).unwrap();
    let rows: Vec<Vec<String>> = report
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{report}");
    assert_eq!(rows[0][0], "3", "file order: {report}");
    assert_eq!(
        rows[0][1], "所属期",
        "the column as the file names it: {report}"
    );
    assert!(
        report.contains("已有记录 s-1") && report.contains("already have record s-1"),
        "{report}"
    );
    assert_eq!(rows[1][0], "4", "file order: {report}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn verify_with_a_missing_key_file_says_it_is_missing() {
    let root = scratch("vkey");
    let cert = root.join("cert.json");
    std::fs::write(&cert, "{}").unwrap();
    let missing = root.join("keys").join("issuer.vkey");
    let (code, out, err) = anxin_in(
        &root.join("data"),
        &[
            "verify",
            cert.to_str().unwrap(),
            "--key",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("找不到公钥文件") && err.contains("no key file"),
        "{err}"
    );
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
