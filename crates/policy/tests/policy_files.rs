//! The parameter loader refuses every kind of broken file, naming file and line, and the
//! shipped files load both from disk and from the copy compiled in.

use std::path::Path;

use anxin_policy::Policy;

const REGIONS: &str = r#"
[[region]]
code = "000000"
name_zh = "全国"
name_en = "National"

[[region]]
code = "330000"
name_zh = "浙江省"
name_en = "Zhejiang"
parent = "000000"
"#;

const GOOD: &str = r#"region = "330000"

[[param]]
key = "flex.base.floor"
unit = "yuan/month"
from = 2024-01-01
value = 4812
source = "浙人社发〔2024〕61号"
url = "https://example.invalid/a"
confidence = "official-quoted"
"#;

fn load(regions: &str, params: &str) -> Result<Policy, Vec<anxin_policy::LoadError>> {
    Policy::load_files(&[
        ("regions.toml".into(), regions.into()),
        ("params/330000.toml".into(), params.into()),
    ])
}

/// (what is broken, the broken params file, text the error must contain, line it must name)
const BROKEN: &[(&str, &str, &str, usize)] = &[
    (
        "unknown key, with a suggestion",
        "region = \"330000\"\n\n[[param]]\nkey = \"flex.base.flor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "did you mean 'flex.base.floor'",
        3,
    ),
    (
        "wrong unit",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/year\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "expected 'yuan/month'",
        2,
    ),
    (
        "missing source",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nconfidence = \"secondary\"\n",
        "has no source",
        2,
    ),
    (
        "missing confidence",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\n",
        "has no confidence",
        2,
    ),
    (
        "official without url",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"official-quoted\"\n",
        "has no url",
        2,
    ),
    (
        "money as a float",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812.5\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "is a float",
        2,
    ),
    (
        "money with three decimals",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = \"4812.505\"\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "more than two decimals",
        2,
    ),
    (
        "no date",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "no date it takes effect",
        2,
    ),
    (
        "bad date",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = \"2024-13-01\"\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "not a date",
        2,
    ),
    (
        "unknown field",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\nsourse = \"y\"\n",
        "unknown field",
        9,
    ),
    (
        "dates out of order",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2025-01-01\nvalue = 4986\nsource = \"x\"\nconfidence = \"secondary\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "out of order",
        9,
    ),
    (
        "overlapping dates",
        "region = \"330000\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2024-01-01\nuntil = 2025-06-01\nvalue = 4812\nsource = \"x\"\nconfidence = \"secondary\"\n[[param]]\nkey = \"flex.base.floor\"\nunit = \"yuan/month\"\nfrom = 2025-01-01\nvalue = 4986\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "overlaps",
        10,
    ),
    (
        "unknown region",
        "region = \"440000\"\n",
        "not listed in regions.toml",
        1,
    ),
    (
        "malformed region",
        "region = \"zhejiang\"\n",
        "not a region code",
        1,
    ),
    (
        "rate out of range",
        "region = \"330000\"\n[[param]]\nkey = \"flex.pension.rate\"\nunit = \"percent\"\nfrom = 2024-01-01\nvalue = 2000\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "percentage between 0 and 1000",
        2,
    ),
    (
        "bands not starting at 0",
        "region = \"330000\"\n[[param]]\nkey = \"flex.pension.rate_bands\"\nunit = \"yuan/month→percent\"\nfrom = 2024-01-01\nvalue = [[100, 12]]\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "must start at 0",
        2,
    ),
    (
        "table keys not increasing",
        "region = \"330000\"\n[[param]]\nkey = \"pension.payout_months\"\nunit = \"age→months\"\nfrom = 2024-01-01\nvalue = [[60, 139], [59, 145]]\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "increase strictly",
        2,
    ),
    (
        "word outside its list",
        "region = \"330000\"\n[[param]]\nkey = \"rounding.base\"\nunit = \"rounding\"\nfrom = 2024-01-01\nvalue = \"banker\"\nsource = \"x\"\nconfidence = \"secondary\"\n",
        "expected one of",
        2,
    ),
    ("not TOML at all", "region = \n", "", 1),
];

#[test]
fn good_file_loads() {
    let p = load(REGIONS, GOOD).expect("loads");
    assert_eq!(p.regions.len(), 2);
}

#[test]
fn every_broken_file_is_refused_with_file_and_line() {
    for (what, text, needle, line) in BROKEN {
        match load(REGIONS, text) {
            Ok(_) => panic!("{what}: accepted"),
            Err(errs) => {
                let hit = errs.iter().find(|e| e.message.contains(needle));
                let e =
                    hit.unwrap_or_else(|| panic!("{what}: no error contains {needle:?}: {errs:?}"));
                assert_eq!(e.file, "params/330000.toml", "{what}");
                assert_eq!(e.line, *line, "{what}: {e}");
            }
        }
    }
}

#[test]
fn region_without_parent_is_refused() {
    let regions = "[[region]]\ncode = \"000000\"\nname_zh = \"全国\"\nname_en = \"National\"\n\n[[region]]\ncode = \"330000\"\nname_zh = \"浙江省\"\nname_en = \"Zhejiang\"\n";
    let errs = load(regions, GOOD).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.message.contains("has no parent") && e.line == 6),
        "{errs:?}"
    );
    let regions = "[[region]]\ncode = \"000000\"\nname_zh = \"全国\"\nname_en = \"National\"\n\n[[region]]\ncode = \"330000\"\nname_zh = \"浙江省\"\nname_en = \"Zhejiang\"\nparent = \"340000\"\n";
    let errs = load(regions, GOOD).unwrap_err();
    assert!(
        errs.iter().any(|e| e.message.contains("not listed")),
        "{errs:?}"
    );
}

#[test]
fn reform_errors() {
    let reform = "[reform]\nname = \"x\"\ntitle_zh = \"x\"\ntitle_en = \"x\"\nsummary_zh = \"x\"\nsummary_en = \"x\"\nsource = \"x\"\nregions = [\"440000\"]\nfrom = 2026-01-01\n\n[[param]]\nkey = \"flex.pension.rate\"\nunit = \"percent\"\nfrom = 2025-01-01\nvalue = 12\nsource = \"x\"\nconfidence = \"proposal\"\n";
    let errs = Policy::load_files(&[
        ("regions.toml".into(), REGIONS.into()),
        ("params/330000.toml".into(), GOOD.into()),
        ("reforms/x.toml".into(), reform.into()),
    ])
    .unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.message.contains("region 440000 is not listed")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.message.contains("before the reform itself") && e.line == 11),
        "{errs:?}"
    );
}

#[test]
fn shipped_files_load_from_disk_and_embedded_alike() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let disk = Policy::load_dir(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    let emb = Policy::embedded().unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(disk.regions.len(), emb.regions.len());
    assert_eq!(disk.reforms.len(), emb.reforms.len());
    assert!(
        emb.regions.len() >= 10,
        "national, Zhejiang and at least three more regions"
    );
    // Zhejiang and its cities, a sending region, and the three other destinations.
    for r in [
        "330000", "330100", "340000", "110000", "310000", "440000", "440300",
    ] {
        emb.region(r).unwrap();
    }
    for r in [
        "income-band-rate",
        "provincial-subsidy",
        "school-voucher",
        "relaxed-backpay",
        "flexible-frequency",
        "platform-super-deduction",
        "savings-account",
    ] {
        emb.reform(r).unwrap();
    }
}

/// A city may value another proof differently from the national example: the review then
/// counts it under the law in force, and every other city keeps the example.
#[test]
fn a_city_overrides_what_a_proof_is_worth() {
    use anxin_domain::YearMonth;
    use anxin_policy::calc::school::{Proof, SchoolRequest, review};
    let files: Vec<(String, String)> = anxin_policy::EMBEDDED
        .iter()
        .map(|(p, t)| {
            let mut text = t.to_string();
            if *p == "params/330100-hangzhou.toml" {
                text.push_str(
                    "\n[[param]]\nkey = \"school.proof.labour_contract.months\"\nunit = \"months\"\nfrom = 2024-01-01\nvalue = 12\nsource = \"test\"\nconfidence = \"assumption\"\n",
                );
            }
            (p.to_string(), text)
        })
        .collect();
    let policy = Policy::load_files(&files).unwrap_or_else(|e| panic!("{e:?}"));
    let month: YearMonth = "2026-09".parse().unwrap();
    let request = |region: &str| SchoolRequest {
        region: region.into(),
        month: Some(month),
        permit: true,
        paid_ranges: vec![("2026-01".parse().unwrap(), "2026-09".parse().unwrap())],
        proofs: vec![Proof {
            kind: anxin_domain::codes::ProofKind::LabourContract,
            since: None,
        }],
        ..SchoolRequest::default()
    };
    // Hangzhou: 2025-10..2026-09 by the contract, 12 continuous months.
    let r = review(&policy, &request("330100"), month).unwrap();
    assert_eq!(
        (r.decision, r.continuous_months, r.proof_months),
        ("eligible", 12, 3)
    );
    // Zhejiang as a whole keeps the national example: not accepted.
    let r = review(&policy, &request("330000"), month).unwrap();
    assert_eq!((r.decision, r.proofs[0].months), ("not_yet", 0));
}
