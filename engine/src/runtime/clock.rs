//! Time, injected: the runtime never reads the system clock on its own.
//!
//! Timestamps are UTC with microsecond precision (what both databases keep exactly, so a
//! stored time hashes the same when it is read back). Civil dates are Japan's (UTC+9, no
//! daylight saving).

use std::sync::Mutex;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Timelike, Utc,
};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Returns the current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock, for the binary.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A settable clock for tests.
#[derive(Debug)]
pub struct TestClock {
    now: Mutex<DateTime<Utc>>,
}

impl TestClock {
    /// Returns a clock standing at the given time.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Japan Standard Time, UTC+9.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| Utc.fix())
}

/// Returns the time cut to whole microseconds.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Returns the civil date in Japan at the given time.
pub fn civil_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&jst()).date_naive()
}

/// Returns the start of the given civil date in Japan (00:00 JST) as UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match jst().from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        _ => midnight.and_utc(),
    }
}

/// Formats a timestamp the one way the store and the audit chain use.
pub fn format_ts(t: DateTime<Utc>) -> String {
    fn push(s: &mut String, value: u32, width: u32) {
        for i in (0..width).rev() {
            let digit = value / 10u32.pow(i) % 10;
            s.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
    }
    let n = t.naive_utc();
    let mut s = String::with_capacity(27);
    push(&mut s, u32::try_from(n.year()).unwrap_or(0), 4);
    s.push('-');
    push(&mut s, n.month(), 2);
    s.push('-');
    push(&mut s, n.day(), 2);
    s.push('T');
    push(&mut s, n.hour(), 2);
    s.push(':');
    push(&mut s, n.minute(), 2);
    s.push(':');
    push(&mut s, n.second(), 2);
    s.push('.');
    push(&mut s, n.nanosecond() / 1000 % 1_000_000, 6);
    s.push('Z');
    s
}

/// Parses a timestamp written by [`format_ts`].
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_japanese() {
        let t = parse_ts("2026-03-31T15:30:00.000000Z").unwrap();
        assert_eq!(civil_date(t), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(
            format_ts(start_of_day(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())),
            "2026-03-31T15:00:00.000000Z"
        );
    }

    #[test]
    fn timestamps_round_trip_at_microseconds() {
        let t = truncate(Utc::now());
        assert_eq!(parse_ts(&format_ts(t)), Some(t));
    }
}
