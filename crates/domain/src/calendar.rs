//! Working days by an official calendar: which days are off (public holidays, including the
//! weekend days a holiday runs over) and which weekend days are worked instead (调休). The
//! days come from data (the policy files hold one State Council notice per year); this type
//! only counts. A year the calendar does not record is refused, never guessed: a weekday
//! rule would be wrong for every year with a holiday.
//!
//! Counting follows how a legal clock runs ("在15个工作日内"): the day of the event is day 0,
//! the first working day after it is day 1. So `add_working_days(d, n)` is the n-th working
//! day after `d`, and `working_days_between(d, add_working_days(d, n)) == n`.

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};

use crate::text::Text;

/// An official working-day calendar over whole recorded years.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeSet<i16>,
    off: BTreeSet<Date>,
    on: BTreeSet<Date>,
}

/// Why a calendar cannot be built or a count cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date lies in a year the calendar does not record.
    #[error("{}", .text)]
    Outside { date: Date, text: Text },
    /// The days given contradict each other.
    #[error("{}", .text)]
    Invalid { text: Text },
}

impl CalendarError {
    /// The message in both languages.
    pub fn text(&self) -> &Text {
        match self {
            CalendarError::Outside { text, .. } | CalendarError::Invalid { text } => text,
        }
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Longest count one call accepts: far beyond any legal clock (a few hundred working days).
pub const MAX_WORKING_DAYS: u32 = 5_000;

impl WorkCalendar {
    /// A calendar over `years`: `off` are the days off by the notices (a holiday's weekend days
    /// may be listed too), `on` the weekend days worked instead. Every day must fall in a
    /// listed year; a day both off and on, or a worked day that is not a weekend day, is
    /// refused.
    pub fn new(
        years: impl IntoIterator<Item = i16>,
        off: impl IntoIterator<Item = Date>,
        on: impl IntoIterator<Item = Date>,
    ) -> Result<WorkCalendar, CalendarError> {
        let cal = WorkCalendar {
            years: years.into_iter().collect(),
            off: off.into_iter().collect(),
            on: on.into_iter().collect(),
        };
        let invalid = |zh: String, en: String| CalendarError::Invalid {
            text: Text::new(zh, en),
        };
        for d in cal.off.iter().chain(&cal.on) {
            if !cal.years.contains(&d.year()) {
                return Err(invalid(
                    format!("{d} 不在所列年份内"),
                    format!("{d} is not in a listed year"),
                ));
            }
        }
        if let Some(d) = cal.off.intersection(&cal.on).next() {
            return Err(invalid(
                format!("{d} 既列为放假又列为上班"),
                format!("{d} is listed both as a day off and as a working day"),
            ));
        }
        if let Some(d) = cal.on.iter().find(|d| !is_weekend(**d)) {
            return Err(invalid(
                format!("{d} 是工作日，不能列为调休上班日（调休上班日只能是周六或周日）"),
                format!(
                    "{d} is a weekday: only a Saturday or Sunday can be listed as a make-up working day"
                ),
            ));
        }
        Ok(cal)
    }

    /// The recorded years, in order.
    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.iter().copied()
    }

    /// Whether the date's year is recorded.
    pub fn covers(&self, d: Date) -> bool {
        self.years.contains(&d.year())
    }

    fn outside(&self, d: Date) -> CalendarError {
        let years: Vec<String> = self.years.iter().map(|y| y.to_string()).collect();
        let (zh, en) = if years.is_empty() {
            ("没有任何年份".to_string(), "no year at all".to_string())
        } else {
            (years.join("、"), years.join(", "))
        };
        CalendarError::Outside {
            date: d,
            text: Text::new(
                format!(
                    "{d} 所在的 {} 年不在工作日历内：工作日按国务院办公厅每年的节假日安排通知计算，已收录的年份只有 {zh}；不按周一至周五推算",
                    d.year()
                ),
                format!(
                    "{d} is in {}, which the working-day calendar does not record: working days follow the State Council's yearly holiday notice, and the calendar records only {en}; it does not guess from weekdays",
                    d.year()
                ),
            ),
        }
    }

    /// Whether `d` is a working day; refused outside the recorded years.
    pub fn is_working_day(&self, d: Date) -> Result<bool, CalendarError> {
        if !self.covers(d) {
            return Err(self.outside(d));
        }
        Ok(self.on.contains(&d) || (!is_weekend(d) && !self.off.contains(&d)))
    }

    /// The `n`-th working day after `d` (`d` itself for 0). Every day passed must be in a
    /// recorded year.
    pub fn add_working_days(&self, d: Date, n: u32) -> Result<Date, CalendarError> {
        if !self.covers(d) {
            return Err(self.outside(d));
        }
        if n > MAX_WORKING_DAYS {
            return Err(CalendarError::Invalid {
                text: Text::new(
                    format!("工作日数 {n} 太大，最多 {MAX_WORKING_DAYS}"),
                    format!("{n} working days is too many: at most {MAX_WORKING_DAYS}"),
                ),
            });
        }
        let mut cur = d;
        let mut left = n;
        while left > 0 {
            cur = cur.tomorrow().map_err(|_| self.outside(cur))?;
            if self.is_working_day(cur)? {
                left -= 1;
            }
        }
        Ok(cur)
    }

    /// Working days after `from` up to and including `to`; negative when `to` is before
    /// `from` (a deadline already passed). Every day counted must be in a recorded year.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        let (a, b, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        if !self.covers(a) {
            return Err(self.outside(a));
        }
        if !self.covers(b) {
            return Err(self.outside(b));
        }
        let mut n: i64 = 0;
        let mut cur = a;
        while cur < b {
            cur = cur.tomorrow().map_err(|_| self.outside(cur))?;
            if self.is_working_day(cur)? {
                n += 1;
            }
        }
        Ok(sign * n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// 2026 by the State Council notice of 2025-11-04 (the policy files hold the source).
    fn cal2026() -> WorkCalendar {
        let range = |a: Date, b: Date| {
            let mut v = vec![a];
            while *v.last().unwrap() < b {
                v.push(v.last().unwrap().tomorrow().unwrap());
            }
            v
        };
        let mut off = Vec::new();
        off.extend(range(date(2026, 1, 1), date(2026, 1, 3)));
        off.extend(range(date(2026, 2, 15), date(2026, 2, 23)));
        off.extend(range(date(2026, 4, 4), date(2026, 4, 6)));
        off.extend(range(date(2026, 5, 1), date(2026, 5, 5)));
        off.extend(range(date(2026, 6, 19), date(2026, 6, 21)));
        off.extend(range(date(2026, 9, 25), date(2026, 9, 27)));
        off.extend(range(date(2026, 10, 1), date(2026, 10, 7)));
        let on = [
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ];
        WorkCalendar::new([2026], off, on).unwrap()
    }

    #[test]
    fn spring_festival_2026() {
        let c = cal2026();
        // Friday 13 Feb; Sat 14 Feb is worked; 15–23 off; Tue 24 Feb the next.
        assert_eq!(
            c.add_working_days(date(2026, 2, 13), 1).unwrap(),
            date(2026, 2, 14)
        );
        assert_eq!(
            c.add_working_days(date(2026, 2, 13), 2).unwrap(),
            date(2026, 2, 24)
        );
        assert!(c.is_working_day(date(2026, 1, 4)).unwrap());
        assert!(!c.is_working_day(date(2026, 1, 2)).unwrap());
        assert!(!c.is_working_day(date(2026, 3, 1)).unwrap()); // an ordinary Sunday
        assert_eq!(
            c.add_working_days(date(2026, 3, 2), 0).unwrap(),
            date(2026, 3, 2)
        );
    }

    #[test]
    fn refuses_outside_years() {
        let c = cal2026();
        let e = c.add_working_days(date(2026, 12, 28), 10).unwrap_err();
        assert!(matches!(e, CalendarError::Outside { date: d, .. } if d == date(2027, 1, 1)));
        assert!(e.text().zh.contains("2027") && e.text().en.contains("2026"));
        assert!(c.is_working_day(date(2025, 6, 3)).is_err());
        assert!(
            c.working_days_between(date(2025, 12, 31), date(2026, 1, 5))
                .is_err()
        );
    }

    #[test]
    fn refuses_contradictions() {
        let d = date(2026, 1, 4);
        assert!(WorkCalendar::new([2026], [d], [d]).is_err());
        assert!(WorkCalendar::new([2026], [], [date(2026, 1, 5)]).is_err()); // a Monday
        assert!(WorkCalendar::new([2025], [d], []).is_err());
    }

    proptest! {
        #[test]
        fn add_then_count_is_identity(day in 0i32..365, n in 0u32..120) {
            let c = cal2026();
            let d = date(2026, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap();
            match c.add_working_days(d, n) {
                Ok(end) => {
                    prop_assert_eq!(c.working_days_between(d, end).unwrap(), n as i64);
                    prop_assert_eq!(c.working_days_between(end, d).unwrap(), -(n as i64));
                    if n > 0 {
                        prop_assert!(c.is_working_day(end).unwrap());
                        prop_assert!(end > d);
                    }
                    // One more working day is later.
                    if let Ok(next) = c.add_working_days(d, n + 1) {
                        prop_assert!(next > end);
                    }
                }
                Err(CalendarError::Outside { date, .. }) => prop_assert_eq!(date.year(), 2027),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn between_is_additive(a in 0i32..365, b in 0i32..365, m in 0i32..365) {
            let c = cal2026();
            let day = |k: i32| date(2026, 1, 1).checked_add(jiff::Span::new().days(k)).unwrap();
            let (x, y, z) = (day(a), day(b), day(m));
            let xy = c.working_days_between(x, y).unwrap();
            let yz = c.working_days_between(y, z).unwrap();
            prop_assert_eq!(c.working_days_between(x, z).unwrap(), xy + yz);
        }
    }
}
