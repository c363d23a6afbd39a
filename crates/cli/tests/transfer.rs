//! `anxin transfer plan` as a user runs it: from flags and from a JSON request file, in
//! Chinese, English and JSON, with the explanation; a date whose deadlines leave the recorded
//! calendar, an unknown region and a malformed period refused with the documented exit code.

mod support;

/// Runs `anxin --today 2026-06 ARGS…` with a clean environment: (exit code, stdout, stderr).
fn anxin(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--today", "2026-06"];
    all.extend_from_slice(args);
    let out = support::command(&all).output().expect("run anxin");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

const PLAN: &[&str] = &[
    "transfer",
    "plan",
    "--from",
    "341200",
    "--to",
    "330100",
    "--hukou",
    "341200",
    "--sex",
    "male",
    "--birth",
    "1985-06-15",
    "--date",
    "2026-03-02",
    "--period",
    "341200:2010-01..2019-12:4000",
    "--period",
    "330100:2020-01..2026-02:6000",
    "--account",
    "42000",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    PLAN.iter().chain(extra).copied().collect()
}

#[test]
fn plan_from_flags_in_chinese_english_and_json() {
    let (code, out, err) = anxin(PLAN);
    assert_eq!(code, 0, "{err}");
    for want in [
        "统筹基金",
        "57600.00 元",
        "99600.00 元",
        "2026-03-23",
        "2026-04-14",
        "2026-05-08",
        "待遇领取地",
        "安徽省（340000）",
        "规则三",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
    let (code, out, _) = anxin(&with(&["--lang", "en"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("pooling fund")
            && out.contains("57600.00 yuan")
            && out.contains("place of claim"),
        "{out}"
    );
    let (code, out, _) = anxin(&with(&["--json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pension"]["pooling_fen"], 5_760_000);
    assert_eq!(v["pension"]["total_fen"], 9_960_000);
    assert_eq!(v["claim"]["rule"], 3);
    let (code, out, _) = anxin(&with(&["--explain"]));
    assert_eq!(code, 0);
    for want in [
        "怎么算出来的",
        "国办发〔2009〕66号",
        "国务院办公厅关于2026年部分节假日安排的通知",
        "名词解释",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
}

#[test]
fn plan_from_a_request_file() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/transfer/fuyang-hangzhou.json"
    );
    let (code, out, err) = anxin(&["transfer", "plan", "--request", file, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // 1996–97: 18 months before 1998 move no pooling fund; 2010-01..2020-06: 126 × 480 元.
    assert_eq!(v["pension"]["pooling_fen"], 6_048_000);
    assert_eq!(v["pension"]["months_before_pooling"], 18);
    assert_eq!(v["duplicates"][0]["months"], 6);
    assert_eq!(v["duplicates"][0]["refund_fen"], 192_000);
    assert_eq!(v["medical"]["account_fen"], 350_000);
}

#[test]
fn refusals_say_why_with_their_exit_code() {
    // 45 working days from 2027-12-01 run into 2028, which the calendar does not record.
    let mut args = with(&[]);
    let i = args.iter().position(|a| *a == "2026-03-02").unwrap();
    args[i] = "2027-12-01";
    let (code, _, err) = anxin(&args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("2028")
            && err.contains("不按周一至周五推算")
            && err.contains("does not guess"),
        "{err}"
    );
    // An unknown region.
    let mut args = with(&[]);
    args[3] = "拉萨";
    let (code, _, err) = anxin(&args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("未知地区") && err.contains("unknown region"),
        "{err}"
    );
    // A malformed period: clap refuses it with the shape to write.
    let (code, _, err) = anxin(&with(&["--period", "341200:2010-01:4000"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("REGION:FROM..TO:BASE"), "{err}");
    // The same province at both ends: not a transfer under 66号.
    let mut args = with(&[]);
    args[5] = "330200";
    args[3] = "330100";
    let (code, _, err) = anxin(&args);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("跨省"), "{err}");
}
