//! Calendar months: contributions, eligibility and projections are all counted in months.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonthError {
    #[error("'{0}' is not a month: write YYYY-MM, e.g. 2025-06")]
    Malformed(String),
    #[error("'{0}' is out of range: months from 1900-01 to 2200-12 are accepted")]
    OutOfRange(String),
}

/// A calendar month, stored as the number of months since January of year 0 so that
/// arithmetic is plain integer arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth(i32);

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

impl YearMonth {
    /// `month` is 1–12. Returns `None` outside 1900-01..=2200-12.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        Some(YearMonth(year * 12 + month as i32 - 1))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1–12.
    pub fn month(self) -> u32 {
        (self.0.rem_euclid(12) + 1) as u32
    }

    /// Month index, useful as a dense key (months since year 0).
    pub fn index(self) -> i32 {
        self.0
    }

    pub fn from_index(index: i32) -> Option<YearMonth> {
        let ym = YearMonth(index);
        YearMonth::new(ym.year(), ym.month())
    }

    /// Adds (or with a negative `n`, subtracts) months, saturating at the supported range.
    pub fn plus(self, n: i32) -> YearMonth {
        let lo = MIN_YEAR * 12;
        let hi = MAX_YEAR * 12 + 11;
        YearMonth(self.0.saturating_add(n).clamp(lo, hi))
    }

    /// Months from `self` to `later` (negative if `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i32 {
        later.0 - self.0
    }

    /// The first day of the month.
    pub fn first_day(self) -> jiff::civil::Date {
        // Year and month are validated at construction, so this cannot fail.
        jiff::civil::Date::new(self.year() as i16, self.month() as i8, 1)
            .unwrap_or(jiff::civil::Date::MIN)
    }

    pub fn of_date(date: jiff::civil::Date) -> Option<YearMonth> {
        YearMonth::new(date.year() as i32, date.month() as u32)
    }

    /// Accepts "2025-06", "2025/6", "202506" and "2025-06-01" (the day is ignored).
    pub fn parse(text: &str) -> Result<YearMonth, MonthError> {
        let t = text.trim();
        let bad = || MonthError::Malformed(text.to_string());
        let (y, m) = if let Some((y, rest)) = t.split_once(['-', '/', '.']) {
            let m = rest.split(['-', '/', '.']).next().unwrap_or("");
            (y, m)
        } else if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
            (&t[..4], &t[4..])
        } else {
            return Err(bad());
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        YearMonth::new(year, month).ok_or_else(|| MonthError::OutOfRange(text.to_string()))
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}
impl fmt::Debug for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl FromStr for YearMonth {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, MonthError> {
        YearMonth::parse(s)
    }
}
impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_arith() {
        let m = YearMonth::parse("2025-06").unwrap();
        assert_eq!((m.year(), m.month()), (2025, 6));
        assert_eq!(YearMonth::parse("202506").unwrap(), m);
        assert_eq!(YearMonth::parse("2025/6").unwrap(), m);
        assert_eq!(m.plus(7).to_string(), "2026-01");
        assert_eq!(m.plus(-6).to_string(), "2024-12");
        assert_eq!(m.months_until(YearMonth::parse("2026-06").unwrap()), 12);
        for bad in [
            "2025-13", "2025-00", "25-06", "abcd-ef", "", "2025", "1899-12",
        ] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,20}") { let _ = YearMonth::parse(&s); }

        #[test]
        fn round_trips(y in 1900i32..=2200, mo in 1u32..=12) {
            let m = YearMonth::new(y, mo).unwrap();
            prop_assert_eq!(YearMonth::parse(&m.to_string()).unwrap(), m);
        }
    }
}
