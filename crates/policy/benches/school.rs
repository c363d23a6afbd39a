//! 100,000 school applications reviewed and ranked (target: under 30 s on the 2-core machine),
//! beside a baseline that only counts each application's paid months.
//!
//! `cargo bench -p anxin-policy --bench school`

use std::time::Instant;

use anxin_domain::YearMonth;
use anxin_domain::codes::{Insurance, Status};
use anxin_policy::Policy;
use anxin_policy::calc::school::{Application, MonthRecord, RankRequest, rank};

fn main() {
    let n: usize = std::env::var("ANXIN_BENCH_APPLICATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let policy = Policy::embedded().expect("embedded policy loads");
    let month = YearMonth::new(2026, 9).expect("valid month");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Each guardian: 36 months of records, with a random gap and an excused childbirth pair.
    let applications: Vec<Application> = (0..n)
        .map(|i| {
            let gap_at = (next() % 36) as i32;
            let gap_len = (next() % 4) as i32;
            let months = (0..36)
                .map(|k| {
                    let m = month.plus(k - 35);
                    let status = if k >= gap_at && k < gap_at + gap_len {
                        Status::Unpaid
                    } else {
                        Status::Paid
                    };
                    MonthRecord {
                        month: m,
                        insurance: Insurance::Pension,
                        status,
                        reason: None,
                        evidence: false,
                    }
                })
                .collect();
            Application {
                id: format!("A{i}"),
                permit: next() % 10 != 0,
                permit_since: Some(month.plus(-((next() % 96) as i32))),
                hardship: next() % 20 == 0,
                months,
                paid_ranges: Vec::new(),
                proofs: Vec::new(),
            }
        })
        .collect();
    let started = Instant::now();
    let paid: usize = applications
        .iter()
        .map(|a| a.months.iter().filter(|m| m.status == Status::Paid).count())
        .sum();
    let baseline_s = started.elapsed().as_secs_f64();
    for reforms in [vec![], vec!["school-cumulative-first".to_string()]] {
        let request = RankRequest {
            region: "330100".into(),
            month: Some(month),
            places: (n / 3) as u32,
            reforms: reforms.clone(),
            applications: applications.clone(),
        };
        let started = Instant::now();
        let result = rank(&policy, &request, month).expect("ranks");
        let s = started.elapsed().as_secs_f64();
        println!(
            "{n} applications reviewed and ranked ({}): {s:.2} s ({:.0}/s), {} eligible, {} admitted; target < 30 s: {:.0}× under; baseline (count paid months, {paid}) {baseline_s:.3} s, ratio {:.0}",
            if reforms.is_empty() {
                "law in force"
            } else {
                "cumulative-first"
            },
            n as f64 / s,
            result.eligible,
            result.admitted,
            30.0 / s,
            s / baseline_s
        );
    }
}
