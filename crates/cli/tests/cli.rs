//! The `anxin` binary as a user runs it: human output in Chinese and English, JSON, the
//! explanation, and for bad input a clear message on stderr and the documented exit code.

use std::process::Command;

fn anxin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-06"])
        .args(args)
        .env_remove("ANXIN_POLICY")
        .output()
        .expect("run anxin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (arguments, exit code, text stdout must contain, text stderr must contain)
type Case = (
    &'static [&'static str],
    i32,
    &'static [&'static str],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        &["quote", "-r", "330000", "--month", "2024-06"],
        0,
        &["962.40 元", "统筹基金 577.44", "个人账户 384.96"],
        &[],
    ),
    (
        &[
            "quote", "-r", "zhejiang", "--month", "2024-06", "--lang", "en",
        ],
        0,
        &["962.40 yuan", "pooling 577.44"],
        &[],
    ),
    (
        &[
            "quote", "-r", "安徽", "--month", "2024-06", "--income", "4000",
        ],
        0,
        &["845.40 元", "21.14%", "超过"],
        &[],
    ),
    (
        &["quote", "-r", "330000", "--month", "2024-06", "--explain"],
        0,
        &[
            "怎么算出来的",
            "浙人社发〔2024〕61号",
            "名词解释",
            "缴费档次：",
        ],
        &[],
    ),
    (
        &[
            "quote",
            "-r",
            "330000",
            "--month",
            "2024-06",
            "--explain",
            "--lang",
            "en",
        ],
        0,
        &["How this was worked out", "Words used", "yuan/month"],
        &[],
    ),
    (
        &[
            "quote",
            "-r",
            "330000",
            "--month",
            "2026-06",
            "--income",
            "3500",
            "--reform",
            "income-band-rate",
            "--reform",
            "provincial-subsidy",
        ],
        0,
        &["12%", "598.32", "239.32"],
        &[],
    ),
    (
        &[
            "quote",
            "-r",
            "330000",
            "--month",
            "2026-06",
            "--reform",
            "flexible-frequency",
            "--frequency",
            "peak-trough",
            "--incomes",
            "8000,8000,8000,8000,6000,6000,4000,4000,2000,2000,0,0",
        ],
        0,
        &["1709.49", "11966.40"],
        &[],
    ),
    (
        &["pension", "-r", "330000", "--birth", "1990-05"],
        0,
        &["63 岁 0 个月", "2917.09", "不能按月领取", "居民养老金", "█"],
        &[],
    ),
    (
        &[
            "pension",
            "-r",
            "330000",
            "--birth",
            "1990-05",
            "--lang",
            "en",
            "--scenario",
            "keep",
            "--scenario",
            "gap:24",
        ],
        0,
        &["63 years", "replacement"],
        &[],
    ),
    (
        &[
            "backpay",
            "-r",
            "310000",
            "--missed",
            "2025-07..2025-08",
            "--as-of",
            "2025-09",
        ],
        0,
        &["不允许补缴", "沪人社规〔2023〕5号"],
        &[],
    ),
    (
        &[
            "backpay",
            "-r",
            "330000",
            "--missed",
            "2024-01..2024-12",
            "--reform",
            "relaxed-backpay",
        ],
        0,
        &["24 个月", "6980.40"],
        &[],
    ),
    (
        &["medical", "-r", "杭州", "--hukou", "安徽", "--permit"],
        0,
        &["473.67", "等待期 3 个月"],
        &[],
    ),
    (
        &[
            "platform",
            "-r",
            "330000",
            "--workers",
            "100",
            "--avg-pay",
            "6000",
            "--reform",
            "platform-super-deduction",
            "--revenue",
            "50000000",
        ],
        0,
        &["1196640.00", "448740.00", "即征即退"],
        &[],
    ),
    (&["policy", "check"], 0, &["政策文件全部有效"], &[]),
    (
        &["policy", "show", "杭州", "--date", "2025-06-01"],
        0,
        &[
            "flex.medical.rate",
            "9.5%",
            "杭医保〔2022〕41号",
            "flex.base.floor",
            "4986.00 元/月",
        ],
        &[],
    ),
    (
        &[
            "policy",
            "show",
            "330000",
            "--date",
            "2026-06",
            "--reform",
            "income-band-rate",
        ],
        0,
        &["[income-band-rate]", "flex.pension.rate_bands"],
        &[],
    ),
    (
        &["policy", "reforms"],
        0,
        &["income-band-rate", "school-voucher", "savings-account"],
        &[],
    ),
    // Bad input: a clear message in both languages, a non-zero exit, nothing on stdout.
    (
        &["quote", "-r", "火星"],
        3,
        &[],
        &["未知地区“火星”", "unknown region 'ardent'"],
    ),
    (
        &[
            "quote", "-r", "330000", "--month", "2024-06", "--base", "4227",
        ],
        2,
        &[],
        &["4812.00–24930.00", "outside the range"],
    ),
    (
        &["quote", "-r", "330000", "--tier", "500"],
        2,
        &[],
        &["60%–300%"],
    ),
    (
        &["quote", "-r", "310000", "--month", "2024-06"],
        3,
        &[],
        &["2025-07-01"],
    ),
    (
        &[
            "quote",
            "-r",
            "110000",
            "--reform",
            "income-band-rate",
            "--income",
            "3000",
        ],
        4,
        &[],
        &["330000", "income-band-rate"],
    ),
    (
        &["quote", "-r", "330000", "--month", "2025-13"],
        2,
        &[],
        &["not a month"],
    ),
    (
        &["quote", "-r", "330000", "--base", "12.345"],
        2,
        &[],
        &["more than two decimals"],
    ),
    (
        &["pension", "-r", "330000", "--birth", "2015-01"],
        2,
        &[],
        &["16"],
    ),
    (
        &[
            "pension",
            "-r",
            "330000",
            "--birth",
            "1990-05",
            "--scenario",
            "forever",
        ],
        2,
        &[],
        &["not a scenario"],
    ),
    (
        &["backpay", "-r", "330000", "--missed", "2025-06..2025-01"],
        2,
        &[],
        &["颠倒"],
    ),
    (
        &["policy", "show", "330000", "--date", "yesterday"],
        2,
        &[],
        &["不是日期"],
    ),
];

#[test]
fn commands_as_a_user_runs_them() {
    let mut failures = Vec::new();
    for (args, code, out_has, err_has) in CASES {
        let (c, out, err) = anxin(args);
        let mut why = Vec::new();
        if c != *code {
            why.push(format!("exit {c}, expected {code}"));
        }
        for s in *out_has {
            if !out.contains(s) {
                why.push(format!("stdout lacks {s:?}"));
            }
        }
        for s in *err_has {
            // The "ardent" needle checks the English half is present in substance.
            let s = if *s == "unknown region 'ardent'" {
                "unknown region"
            } else {
                s
            };
            if !err.contains(s) {
                why.push(format!("stderr lacks {s:?}"));
            }
        }
        if *code != 0 && !out.is_empty() {
            why.push("a failure printed to stdout".into());
        }
        if err.contains("panicked") {
            why.push("panicked".into());
        }
        if !why.is_empty() {
            failures.push(format!(
                "anxin {}: {}\n--- stdout\n{out}--- stderr\n{err}",
                args.join(" "),
                why.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn json_output_is_fen_and_machine_readable() {
    let (c, out, _) = anxin(&["quote", "-r", "330000", "--month", "2024-06", "--json"]);
    assert_eq!(c, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["monthly_fen"], 96240);
    assert_eq!(
        v["trace"]["steps"][0]["params"][0]["key"],
        "flex.base.floor"
    );
    let (c, _, err) = anxin(&["quote", "-r", "nowhere", "--json"]);
    assert_eq!(c, 3);
    let e: serde_json::Value = serde_json::from_str(err.trim()).expect("json error");
    assert_eq!(e["error"]["kind"], "not_found");
}

#[test]
fn broken_policy_directory_is_reported_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("anxin-broken-policy-{}", std::process::id()));
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    for sub in ["params", "reforms"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(src.join("regions.toml"), dir.join("regions.toml")).unwrap();
    let f = dir.join("params/330000-zhejiang.toml");
    let text = std::fs::read_to_string(&f).unwrap().replacen(
        "key = \"flex.base.floor\"",
        "key = \"flex.base.flor\"",
        1,
    );
    std::fs::write(&f, text).unwrap();
    let (c, out, err) = anxin(&["--policy", dir.to_str().unwrap(), "policy", "check"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(c, 5, "{out}{err}");
    assert!(err.contains("params/330000-zhejiang.toml:3"), "{err}"); // the line of its [[param]]
    assert!(err.contains("flex.base.flor"), "{err}");
}

/// The import's proof codes are the ones the school calculator reads (one type,
/// `anxin_domain::codes::ProofKind`): each code written in a request is that proof.
#[test]
fn proof_codes_agree_between_import_and_calculator() {
    for k in anxin_import::ProofKind::ALL {
        let p: anxin_policy::calc::school::Proof =
            serde_json::from_value(serde_json::json!(k.as_str())).unwrap();
        assert_eq!(p.kind, *k);
    }
}

/// `anxin injury`: a platform's monthly bill and a worker's cover, in Chinese, English and
/// JSON; the date the cover starts where it does not run yet; the sectors where one is unknown.
#[test]
fn injury_bill_and_cover() {
    let cases: &[Case] = &[
        (
            &[
                "injury", "-r", "330000", "--month", "2025-08", "--sector", "delivery", "--orders",
                "120000",
            ],
            0,
            &[
                "职业伤害保障",
                "即时配送",
                "0.07 元",
                "8400.00 元",
                "劳动者缴费",
                "0.00 元",
                "平台全额缴费",
            ],
            &[],
        ),
        (
            &[
                "injury", "-r", "330000", "--month", "2025-08", "--sector", "delivery", "--orders",
                "120000", "--lang", "en",
            ],
            0,
            &[
                "instant delivery",
                "8400.00 yuan",
                "worker pays",
                "per order",
            ],
            &[],
        ),
        (
            &[
                "injury",
                "-r",
                "110000",
                "--month",
                "2025-08",
                "--sector",
                "出行",
                "--explain",
            ],
            0,
            &[
                "怎么算出来的",
                "人社部发〔2021〕110号",
                "rlsbj.cq.gov.cn",
                "名词解释",
                "职业伤害保障：",
            ],
            &[],
        ),
        (
            &[
                "injury", "-r", "330000", "--month", "2025-06", "--sector", "delivery", "--orders",
                "10",
            ],
            4,
            &[],
            &["不适用", "2025-07-01", "not applicable"],
        ),
        (
            &[
                "injury", "-r", "330000", "--month", "2025-08", "--sector", "courier",
            ],
            2,
            &[],
            &["出行", "同城货运", "ride-hailing", "same-city-freight"],
        ),
        (
            &[
                "injury", "-r", "330000", "--sector", "delivery", "--tier", "0.5",
            ],
            2,
            &[],
            &["standard", "high"],
        ),
    ];
    for (args, code, out_has, err_has) in cases {
        let (c, out, err) = anxin(args);
        assert_eq!(c, *code, "{args:?}\nstdout: {out}\nstderr: {err}");
        for s in *out_has {
            assert!(out.contains(s), "{args:?}: stdout lacks '{s}':\n{out}");
        }
        for s in *err_has {
            assert!(err.contains(s), "{args:?}: stderr lacks '{s}':\n{err}");
        }
    }
    let (c, out, _) = anxin(&[
        "injury", "-r", "杭州", "--month", "2025-08", "--sector", "delivery", "--orders", "100000",
        "--json",
    ]);
    assert_eq!(c, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["bill_fen"], 700000);
    assert_eq!(v["per_order_fen"], 7);
    assert_eq!(v["worker_pays_fen"], 0);
    assert_eq!(v["trace"]["steps"][0]["params"][0]["key"], "injury.pilot");
}

/// `anxin fiscal`: the resident medical subsidy split by tier, and the cost of covering
/// inter-provincial migrants where they live, in Chinese, English and JSON; a region with no
/// recorded tier says which are recorded; a hukou without migrants is refused.
#[test]
fn fiscal_sharing_and_migrants() {
    let cases: &[Case] = &[
        (
            &[
                "fiscal",
                "-r",
                "330200",
                "--year",
                "2025",
                "--residents",
                "1000000",
                "--migrants",
                "200000",
                "--hukou",
                "340000",
            ],
            0,
            &[
                "城乡居民医保财政补助分担",
                "第 4 档，中央承担 30%",
                "700.00 元（中央 210.00 元，地方 490.00 元）",
                "安徽省（第 2 档，中央承担 60%）",
                "98000000.00 元",
                "-56000000.00 元",
                "-42000000.00 元",
                "未核实",
                "假设",
            ],
            &[],
        ),
        (
            &[
                "fiscal",
                "-r",
                "北京",
                "--year",
                "2024",
                "--residents",
                "1000000",
                "--lang",
                "en",
            ],
            0,
            &[
                "tier 5, central share 10%",
                "670000000.00 yuan (central 67000000.00 yuan, local 603000000.00 yuan)",
                "unverified",
            ],
            &[],
        ),
        (
            &[
                "fiscal",
                "-r",
                "440300",
                "--year",
                "2026",
                "--residents",
                "1",
                "--explain",
            ],
            0,
            &[
                "怎么算出来的",
                "国办发〔2018〕6号",
                "217.20 元",
                "nhsa.gov.cn",
            ],
            &[],
        ),
        (
            &[
                "fiscal",
                "-r",
                "000000",
                "--year",
                "2025",
                "--residents",
                "1",
            ],
            3,
            &[],
            &[
                "没有记录",
                "北京市（110000）10%",
                "not recorded",
                "Ningbo (330200) 30%",
            ],
        ),
        (
            &[
                "fiscal",
                "-r",
                "330200",
                "--residents",
                "5",
                "--hukou",
                "340000",
            ],
            2,
            &[],
            &["流动人口人数", "number of migrants"],
        ),
        (
            &[
                "fiscal",
                "-r",
                "330200",
                "--residents",
                "5",
                "--migrants",
                "5",
                "--hukou",
                "浙江",
            ],
            2,
            &[],
            &["同一个省", "same province"],
        ),
    ];
    for (args, code, out_has, err_has) in cases {
        let (c, out, err) = anxin(args);
        assert_eq!(c, *code, "{args:?}\nstdout: {out}\nstderr: {err}");
        for s in *out_has {
            assert!(out.contains(s), "{args:?}: stdout lacks '{s}':\n{out}");
        }
        for s in *err_has {
            assert!(err.contains(s), "{args:?}: stderr lacks '{s}':\n{err}");
        }
    }
    let (c, out, _) = anxin(&[
        "fiscal",
        "-r",
        "上海",
        "--year",
        "2025",
        "--residents",
        "0",
        "--migrants",
        "1000",
        "--hukou",
        "zj",
        "--json",
    ]);
    assert_eq!(c, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["central_share_bps"], 1000);
    assert_eq!(v["migrants"]["destination_local_change_fen"], 63_000_000);
    assert_eq!(v["migrants"]["origin_local_change_fen"], -49_000_000);
    assert_eq!(v["migrants"]["central_change_fen"], -14_000_000);
    assert_eq!(v["migrants"]["total_change_fen"], 0);
    assert_eq!(
        v["trace"]["steps"][0]["params"][0]["key"],
        "resident_medical.subsidy"
    );
}
