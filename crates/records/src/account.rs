//! The personal work account (个人工作账户): a worker's months by insurance and region, and
//! across regions — cumulative months, the longest continuous run, and every gap with why.
//!
//! Pure functions over stored rows: no IO, cannot fail.

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::YearMonth;
use anxin_domain::codes::{Insurance, Status};
use serde::Serialize;

use crate::store::ContributionRow;

/// What one month looks like for one insurance in one region (or across all regions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthState {
    /// Paid on time or back-paid: the month counts.
    Paid,
    /// Excused (childbirth, illness, …): does not count, reason recorded.
    Excused,
    Deferred,
    Unpaid,
    /// No record at all.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
    /// The worst state in the gap, and the reasons recorded for excused months.
    pub state: MonthState,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub from: YearMonth,
    pub to: YearMonth,
    pub months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub insurance: Insurance,
    /// `None`: across every region.
    pub region: Option<u32>,
    pub paid_months: u32,
    pub back_paid_months: u32,
    pub first: Option<YearMonth>,
    pub last: Option<YearMonth>,
    pub longest_run: Option<Run>,
    /// The run that ends at the last paid month.
    pub current_run: Option<Run>,
    pub gaps: Vec<Gap>,
    pub amount_fen: i64,
    pub account_fen: i64,
    /// Amount paid by each payer kind ("self", "platform", …).
    pub by_payer_fen: BTreeMap<String, i64>,
}

/// Summaries per (insurance, region) and per insurance across regions, in that order.
pub fn summarize(rows: &[ContributionRow]) -> Vec<Summary> {
    // Ordered by the insurance's code, as the summaries always were.
    type Group<'r> = (Insurance, Vec<&'r ContributionRow>);
    let mut groups: BTreeMap<(&'static str, Option<u32>), Group<'_>> = BTreeMap::new();
    for row in rows {
        for region in [Some(row.region), None] {
            groups
                .entry((row.insurance.as_str(), region))
                .or_insert_with(|| (row.insurance, Vec::new()))
                .1
                .push(row);
        }
    }
    groups
        .into_iter()
        .map(|((_, region), (insurance, rows))| summarize_group(insurance, region, &rows))
        .collect()
}

fn state_of(status: Status) -> MonthState {
    match status {
        Status::Paid | Status::Backpaid => MonthState::Paid,
        Status::Excused => MonthState::Excused,
        Status::Deferred => MonthState::Deferred,
        Status::Unpaid => MonthState::Unpaid,
    }
}

fn summarize_group(
    insurance: Insurance,
    region: Option<u32>,
    rows: &[&ContributionRow],
) -> Summary {
    // Best state per month: one paying platform is enough for the month to count.
    let mut months: BTreeMap<i32, MonthState> = BTreeMap::new();
    let mut reasons: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
    let mut back_paid: BTreeSet<i32> = BTreeSet::new();
    let mut summary = Summary {
        insurance,
        region,
        paid_months: 0,
        back_paid_months: 0,
        first: None,
        last: None,
        longest_run: None,
        current_run: None,
        gaps: Vec::new(),
        amount_fen: 0,
        account_fen: 0,
        by_payer_fen: BTreeMap::new(),
    };
    for row in rows {
        let state = state_of(row.status);
        let slot = months.entry(row.month).or_insert(MonthState::Missing);
        *slot = (*slot).min(state);
        if let Some(reason) = &row.reason {
            reasons
                .entry(row.month)
                .or_default()
                .insert(reason.as_str().to_string());
        }
        if state == MonthState::Paid {
            if row.status == Status::Backpaid {
                back_paid.insert(row.month);
            }
            summary.amount_fen += row.amount_fen;
            summary.account_fen += row.account_fen;
            *summary
                .by_payer_fen
                .entry(row.payer.as_str().to_string())
                .or_default() += row.amount_fen;
        }
    }
    let paid: Vec<i32> = months
        .iter()
        .filter(|(_, s)| **s == MonthState::Paid)
        .map(|(m, _)| *m)
        .collect();
    summary.paid_months = paid.len() as u32;
    summary.back_paid_months = back_paid
        .iter()
        .filter(|m| months.get(m) == Some(&MonthState::Paid))
        .count() as u32;
    let ym = |i: i32| YearMonth::from_index(i).expect("stored months are valid");
    let (Some(&first), Some(&last)) = (months.keys().next(), months.keys().next_back()) else {
        return summary;
    };
    summary.first = Some(ym(first));
    summary.last = Some(ym(last));

    // Runs of paid months, and gaps between first and last recorded month.
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &m in &paid {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == m => *end = m,
            _ => runs.push((m, m)),
        }
    }
    let run = |(a, b): (i32, i32)| Run {
        from: ym(a),
        to: ym(b),
        months: (b - a + 1) as u32,
    };
    summary.longest_run = runs
        .iter()
        .copied()
        .max_by_key(|(a, b)| (b - a, -a))
        .map(run);
    summary.current_run = runs.last().copied().map(run);
    let mut m = first;
    while m <= last {
        let state = months.get(&m).copied().unwrap_or(MonthState::Missing);
        if state == MonthState::Paid {
            m += 1;
            continue;
        }
        let start = m;
        let mut worst = state;
        let mut why = BTreeSet::new();
        while m <= last {
            let s = months.get(&m).copied().unwrap_or(MonthState::Missing);
            if s == MonthState::Paid {
                break;
            }
            worst = worst.max(s);
            if let Some(r) = reasons.get(&m) {
                why.extend(r.iter().cloned());
            }
            m += 1;
        }
        summary.gaps.push(Gap {
            from: ym(start),
            to: ym(m - 1),
            months: (m - start) as u32,
            state: worst,
            reasons: why.into_iter().collect(),
        });
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        month: &str,
        region: u32,
        payer: &str,
        status: &str,
        amount_fen: i64,
    ) -> ContributionRow {
        ContributionRow {
            seq: 0,
            record_id: String::new(),
            person: [0; 32],
            month: YearMonth::parse(month).unwrap().index(),
            insurance: Insurance::Pension,
            region,
            payer: payer.parse().unwrap(),
            payer_code: String::new(),
            base_fen: 0,
            amount_fen,
            account_fen: amount_fen / 4,
            status: status.parse().unwrap(),
            reason: (status == "excused").then_some(anxin_domain::codes::GapReason::Childbirth),
            paid_on: None,
        }
    }

    #[test]
    fn runs_gaps_and_regions() {
        let rows = vec![
            row("2024-01", 330100, "self", "paid", 1000),
            row("2024-02", 330100, "platform", "paid", 1000),
            row("2024-02", 330100, "self", "unpaid", 0),
            row("2024-03", 330100, "self", "excused", 0),
            row("2024-04", 330100, "self", "excused", 0),
            row("2024-05", 341200, "self", "backpaid", 800),
            row("2024-06", 341200, "self", "paid", 800),
            row("2024-08", 341200, "self", "paid", 800),
        ];
        let all = summarize(&rows);
        let across = all.iter().find(|s| s.region.is_none()).unwrap();
        assert_eq!(across.paid_months, 5);
        assert_eq!(across.back_paid_months, 1);
        assert_eq!(across.amount_fen, 4400);
        assert_eq!(across.by_payer_fen["platform"], 1000);
        let longest = across.longest_run.as_ref().unwrap();
        assert_eq!(
            (longest.from.to_string().as_str(), longest.months),
            ("2024-01", 2)
        );
        assert_eq!(across.current_run.as_ref().unwrap().months, 1);
        assert_eq!(across.gaps.len(), 2);
        assert_eq!(across.gaps[0].state, MonthState::Excused);
        assert_eq!(across.gaps[0].reasons, vec!["childbirth".to_string()]);
        assert_eq!(
            (
                across.gaps[1].from.to_string().as_str(),
                across.gaps[1].state
            ),
            ("2024-07", MonthState::Missing)
        );
        let hz = all.iter().find(|s| s.region == Some(330100)).unwrap();
        assert_eq!(hz.paid_months, 2);
        let fy = all.iter().find(|s| s.region == Some(341200)).unwrap();
        assert_eq!(fy.longest_run.as_ref().unwrap().months, 2);
        assert!(summarize(&[]).is_empty());
    }
}
