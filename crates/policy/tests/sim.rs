//! The simulation's population file and its refusals (the runs themselves, and their
//! reproducibility, are tested through the binary in crates/cli/tests/batch.rs).

use anxin_domain::YearMonth;
use anxin_policy::sim::{SimParams, SimRequest, band, simulate};
use anxin_policy::{ErrorKind, Policy};

fn req(reforms: &[&str], region: Option<&str>) -> SimRequest {
    SimRequest {
        seed: 3,
        persons: 300,
        years: 2,
        start: YearMonth::parse("2026-07").unwrap(),
        reforms: reforms.iter().map(|s| s.to_string()).collect(),
        region: region.map(String::from),
    }
}

#[test]
fn the_shipped_population_file_is_valid_and_every_figure_has_a_source() {
    let p = SimParams::embedded().unwrap();
    let figures = p.figures();
    assert!(figures.len() > 30);
    for (table, figure, _, source, _) in &figures {
        assert!(!source.trim().is_empty(), "{table}.{figure} has no source");
    }
    // The seed figures are there as the seeds give them.
    let value = |t: &str, f: &str| {
        figures
            .iter()
            .find(|x| x.0 == t && x.1 == f)
            .map(|x| x.2.clone())
    };
    assert_eq!(value("volatility", "share").as_deref(), Some("86.72"));
    assert_eq!(value("contract", "share").as_deref(), Some("34.69"));
    assert!(
        figures.iter().any(|x| x.0 == "behaviour" && x.4),
        "the behaviour model is marked as an assumption"
    );
}

#[test]
fn a_population_file_whose_shares_do_not_add_up_is_refused() {
    let text = anxin_policy::sim::EMBEDDED.replace("[\"female50\", 1500]", "[\"female50\", 1400]");
    let e = SimParams::parse(&text, "x.toml").unwrap_err();
    assert_eq!(e.kind, ErrorKind::PolicyFiles);
    assert!(e.zh.contains("[track]") && e.en.contains("10000"), "{e:?}");
    let text =
        anxin_policy::sim::EMBEDDED.replace("[behaviour]\n", "[behaviour]\nelasticity = 3\n");
    assert!(
        SimParams::parse(&text, "x.toml").is_err(),
        "an unknown key is refused"
    );
}

#[test]
fn unknown_reforms_and_reforms_outside_their_region_are_refused() {
    let policy = Policy::embedded().unwrap();
    let p = SimParams::embedded().unwrap();
    let e = simulate(&policy, &p, &req(&["no-such-reform"], None)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e:?}");
    // income-band-rate is a Zhejiang proposal: not in Shenzhen.
    let e = simulate(&policy, &p, &req(&["income-band-rate"], Some("440300"))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotApplicable, "{e:?}");
    let e = simulate(
        &policy,
        &p,
        &SimRequest {
            persons: 0,
            ..req(&[], None)
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadInput);
}

#[test]
fn a_reform_that_changes_nothing_for_people_leaves_them_in_the_middle_band() {
    assert_eq!(band(100_000, 100_000), 2);
    assert_eq!(band(100_000, 105_001), 0);
    assert_eq!(band(100_000, 105_000), 1);
    assert_eq!(band(100_000, 95_000), 3);
    assert_eq!(band(100_000, 94_999), 4);
    assert_eq!(band(0, 1), 0);
    let policy = Policy::embedded().unwrap();
    let p = SimParams::embedded().unwrap();
    // school-cumulative-first changes the school rules only: every pension is unchanged.
    let r = simulate(
        &policy,
        &p,
        &req(&["school-cumulative-first"], Some("330100")),
    )
    .unwrap();
    assert_eq!(r.scenarios.len(), 2);
    assert_eq!(r.scenarios[0].years, r.scenarios[1].years);
    assert!(
        r.scenarios[1]
            .people
            .iter()
            .zip(&r.scenarios[0].people)
            .all(|(a, b)| band(b.pension, a.pension) == 2)
    );
}

/// What the simulation charges a person is what `anxin quote` tells that person: in a
/// one-year run in one city, everyone who paid paid twelve times the calculator's net monthly
/// amount at the lowest base for their income (or their bad-year income, when the year was a
/// bad one), under the law in force and under each reform.
#[test]
fn the_simulation_charges_what_the_quote_calculator_says() {
    use anxin_domain::{Bps, Fen, Rounding};
    use anxin_policy::calc::quote::{QuoteRequest, quote};
    let policy = Policy::embedded().unwrap();
    let p = SimParams::embedded().unwrap();
    let r = req(&["income-band-rate", "provincial-subsidy"], Some("330100"));
    let r = SimRequest {
        years: 1,
        persons: 400,
        ..r
    };
    let res = simulate(&policy, &p, &r).unwrap();
    let net = |income: i64, reforms: &[String]| {
        let q = QuoteRequest {
            region: "330100".into(),
            month: Some(r.start),
            income_fen: Some(income),
            reforms: reforms.to_vec(),
            ..Default::default()
        };
        12 * quote(&policy, &q, r.start).unwrap().net_monthly_fen.0
    };
    let mut payers = 0;
    for s in &res.scenarios {
        for (i, person) in s.people.iter().enumerate() {
            if person.paid == 0 {
                continue;
            }
            payers += 1;
            let income = res.income[i];
            let bad = income
                - Fen(income)
                    .times_rate(Bps(p.volatility.drop), Rounding::HalfUpFen)
                    .0;
            assert!(
                person.paid == net(income, &s.reforms) || person.paid == net(bad, &s.reforms),
                "{} person {i}: paid {} on an income of {income} fen",
                s.name,
                person.paid
            );
        }
    }
    assert!(payers > 100, "enough payers to say something: {payers}");
}
