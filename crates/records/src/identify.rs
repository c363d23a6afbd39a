//! The identification ledger of school-driven enrolments (SPEC §S, seed 000 §四(二)): who
//! started or restarted paying shortly before a school review, whether they kept paying, and
//! how a cohort holds up 3, 6, 12 and 24 months after admission.
//!
//! A school review is known to the log by its signed attestation (a `certificate_issued`
//! event of type `school_eligibility`); the months come from the contributions. Pure
//! functions: no IO, cannot fail.

use std::collections::BTreeMap;

use anxin_domain::YearMonth;
use anxin_domain::codes::Insurance;
use serde::Serialize;

use crate::store::ContributionRow;

/// The windows of the retention table, in months after admission.
pub const RETENTION_MONTHS: [i32; 4] = [3, 6, 12, 24];

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// (Re-)enrolment within this many months before the review counts as school-driven.
    pub window_months: i32,
    /// A break of at least this many months makes the next paid month a renewed enrolment.
    pub reenrollment_gap_months: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Paid in the last two months, above the lowest base.
    Paying,
    /// Paying, but only at the lowest base seen in the region: the first to stop.
    MinimumOnly,
    /// Nothing paid in the last two months.
    Stopped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub person: String,
    /// Where the pension is paid (the region of the latest paid month).
    pub region: u32,
    pub enrolled: YearMonth,
    pub reviewed: YearMonth,
    pub months_paid_since: u32,
    pub last_paid: Option<YearMonth>,
    pub base_fen: i64,
    pub risk: Risk,
}

/// Tags `person`'s school-driven enrolment if there is one: the last (re-)enrolment that
/// began within the window before `reviewed`. `floor_fen` is the lowest base in the region.
pub fn tag(
    person: &str,
    rows: &[ContributionRow],
    reviewed: YearMonth,
    today: YearMonth,
    rules: Rules,
    floor_fen: i64,
) -> Option<Entry> {
    let mut paid: BTreeMap<i32, &ContributionRow> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.insurance == Insurance::Pension && r.status.is_paid())
    {
        paid.entry(r.month).or_insert(r);
    }
    let reviewed_i = reviewed.index();
    // Starts of enrolment spells: the first paid month, and each one after a long break.
    let mut start: Option<i32> = None;
    let mut previous: Option<i32> = None;
    for &m in paid.keys().filter(|&&m| m <= reviewed_i) {
        if previous.is_none_or(|p| m - p > rules.reenrollment_gap_months) {
            start = Some(m);
        }
        previous = Some(m);
    }
    let start = start?;
    if reviewed_i - start >= rules.window_months {
        return None;
    }
    // A review for a month still ahead (an application for next term) has no months since;
    // `range` would panic on a start past its end.
    let since: Vec<(&i32, &&ContributionRow)> = if reviewed_i < today.index() {
        paid.range(reviewed_i + 1..=today.index()).collect()
    } else {
        Vec::new()
    };
    let last = paid.range(..=today.index()).next_back();
    let last_paid = last.map(|(m, _)| *m);
    let base_fen = last.map_or(0, |(_, r)| r.base_fen);
    let risk = match last_paid {
        Some(m) if today.index() - m <= 1 => {
            if base_fen <= floor_fen {
                Risk::MinimumOnly
            } else {
                Risk::Paying
            }
        }
        _ => Risk::Stopped,
    };
    Some(Entry {
        person: person.to_string(),
        region: last.map_or(0, |(_, r)| r.region),
        enrolled: YearMonth::from_index(start)?,
        reviewed,
        months_paid_since: since.len() as u32,
        last_paid: last_paid.and_then(YearMonth::from_index),
        base_fen,
        risk,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionRow {
    pub region: u32,
    pub year: i32,
    pub admitted: u32,
    /// For 3, 6, 12 and 24 months: (cohort members old enough to tell, of whom still paying).
    pub still_paying: Vec<(i32, u32, u32)>,
}

/// Share still paying N months after admission, by region and year of admission. A member
/// counts for N only when N months have passed; "still paying" means the month N after
/// admission is paid. `paid_months` gives each entry's paid month indexes.
pub fn retention(entries: &[(Entry, Vec<i32>)], today: YearMonth) -> Vec<RetentionRow> {
    // Entries with their paid months, by (region, school-year month).
    type Cohort<'e> = Vec<&'e (Entry, Vec<i32>)>;
    let mut groups: BTreeMap<(u32, i32), Cohort<'_>> = BTreeMap::new();
    for e in entries {
        groups
            .entry((e.0.region, e.0.reviewed.year()))
            .or_default()
            .push(e);
    }
    groups
        .into_iter()
        .map(|((region, year), members)| RetentionRow {
            region,
            year,
            admitted: members.len() as u32,
            still_paying: RETENTION_MONTHS
                .iter()
                .map(|&n| {
                    let due: Vec<_> = members
                        .iter()
                        .filter(|(e, _)| e.reviewed.index() + n <= today.index())
                        .collect();
                    let paying = due
                        .iter()
                        .filter(|(e, months)| {
                            months.binary_search(&(e.reviewed.index() + n)).is_ok()
                        })
                        .count();
                    (n, due.len() as u32, paying as u32)
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(month: &str, base_fen: i64) -> ContributionRow {
        ContributionRow {
            seq: 0,
            record_id: String::new(),
            person: [0; 32],
            month: YearMonth::parse(month).unwrap().index(),
            insurance: Insurance::Pension,
            region: 330100,
            payer: anxin_domain::codes::Payer::Individual,
            payer_code: String::new(),
            base_fen,
            amount_fen: base_fen / 5,
            account_fen: 0,
            status: anxin_domain::codes::Status::Paid,
            reason: None,
            paid_on: None,
        }
    }

    fn ym(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    const RULES: Rules = Rules {
        window_months: 12,
        reenrollment_gap_months: 3,
    };

    /// A review for a month still ahead of today (next term's application), or for today's
    /// month, has no months since — it never panics on the empty range.
    #[test]
    fn a_review_ahead_of_today_has_no_months_since() {
        let rows: Vec<_> = ["2026-03", "2026-04", "2026-05"]
            .iter()
            .map(|m| row(m, 600_000))
            .collect();
        for reviewed in ["2026-05", "2026-09"] {
            let e = tag("p", &rows, ym(reviewed), ym("2026-05"), RULES, 498_600)
                .expect("school-driven");
            assert_eq!(e.months_paid_since, 0, "{reviewed}");
        }
        // Years ahead: past the window, so not school-driven (and no panic).
        assert!(tag("p", &rows, ym("2030-01"), ym("2026-05"), RULES, 498_600).is_none());
        // Today before every paid month: nothing paid yet as of today.
        let e = tag("p", &rows, ym("2026-04"), ym("2026-01"), RULES, 498_600);
        assert!(e.is_none_or(|e| e.months_paid_since == 0));
    }

    #[test]
    fn school_driven_enrolment_is_tagged_and_followed() {
        // Paid long ago, stopped, restarted 2025-10 (re-enrolment), reviewed 2026-06, then stopped.
        let mut rows = vec![row("2020-01", 498_600), row("2020-02", 498_600)];
        for m in [
            "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
            "2026-06", "2026-07", "2026-08",
        ] {
            rows.push(row(m, 498_600));
        }
        let e =
            tag("p", &rows, ym("2026-06"), ym("2026-11"), RULES, 498_600).expect("school-driven");
        assert_eq!(e.enrolled, ym("2025-10"));
        assert_eq!(e.months_paid_since, 2);
        assert_eq!(e.risk, Risk::Stopped);
        // Still paying at the minimum.
        rows.extend([
            row("2026-09", 498_600),
            row("2026-10", 498_600),
            row("2026-11", 498_600),
        ]);
        let e = tag("p", &rows, ym("2026-06"), ym("2026-11"), RULES, 498_600).unwrap();
        assert_eq!(e.risk, Risk::MinimumOnly);
        // A long-time payer is not school-driven.
        let steady: Vec<_> = (0..36)
            .map(|k| row(&ym("2023-07").plus(k).to_string(), 600_000))
            .collect();
        assert!(tag("q", &steady, ym("2026-06"), ym("2026-11"), RULES, 498_600).is_none());
        // Retention: one member, 3 and 6 months after 2026-06 due (09, 12 not yet).
        let months: Vec<i32> = rows.iter().map(|r| r.month).collect();
        let mut sorted = months.clone();
        sorted.sort();
        let table = retention(&[(e, sorted)], ym("2026-11"));
        assert_eq!(table[0].admitted, 1);
        assert_eq!(table[0].still_paying[0], (3, 1, 1));
        assert_eq!(table[0].still_paying[1], (6, 0, 0));
    }
}
