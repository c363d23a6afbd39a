//! "Now" and "today", passed in rather than read from the system where they are needed, so
//! anything with a deadline (sessions, login limits, due months) is tested by moving time.

use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use jiff::tz::{TimeZone, offset};
use jiff::{SignedDuration, Timestamp};

/// China's clock zone (UTC+8, no daylight saving): certificates, the access log and the due
/// months all speak the same day, whatever zone the server's own clock is set to.
pub fn china() -> TimeZone {
    TimeZone::fixed(offset(8))
}

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// This instant.
    fn now(&self) -> Timestamp;

    /// Today's civil date in China (UTC+8).
    fn today(&self) -> Date {
        self.now().to_zoned(china()).date()
    }

    /// This instant in whole seconds since the Unix epoch (how the stores keep times).
    fn unix_seconds(&self) -> i64 {
        self.now().as_second()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move: for tests.
#[derive(Debug)]
pub struct TestClock(Mutex<Timestamp>);

impl TestClock {
    pub fn at(now: Timestamp) -> TestClock {
        TestClock(Mutex::new(now))
    }

    /// Noon in China on `date`.
    pub fn on(date: Date) -> TestClock {
        let noon = date
            .at(12, 0, 0, 0)
            .to_zoned(china())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        TestClock::at(noon)
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    /// Moves the clock by `by` (negative moves it back); saturates at the ends of time.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A clock shared by every part of a server or command.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_chinas_date_whatever_the_instant() {
        // 2026-03-31 17:00 UTC is already 1 April in China.
        let clock = TestClock::at("2026-03-31T17:00:00Z".parse().unwrap());
        assert_eq!(clock.today(), jiff::civil::date(2026, 4, 1));
        clock.advance(SignedDuration::from_hours(-2));
        assert_eq!(clock.today(), jiff::civil::date(2026, 3, 31));
    }

    #[test]
    fn a_test_clock_on_a_date_stays_on_it_until_moved() {
        let clock = TestClock::on(jiff::civil::date(2026, 6, 15));
        assert_eq!(clock.today(), jiff::civil::date(2026, 6, 15));
        let before = clock.unix_seconds();
        clock.advance(SignedDuration::from_secs(12 * 3600 + 1));
        assert_eq!(clock.unix_seconds(), before + 12 * 3600 + 1);
        assert_eq!(clock.today(), jiff::civil::date(2026, 6, 16));
    }

    #[test]
    fn the_system_clock_moves() {
        let a = SystemClock.now();
        assert!(SystemClock.now() >= a);
    }
}
