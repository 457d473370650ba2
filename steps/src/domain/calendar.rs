//! Fiscal years, periods counted by months (民法143条), the national holiday table and
//! business days.
//!
//! Holidays come from a committed copy of the Cabinet Office list (`steps/data/holidays.csv`,
//! 1955 onwards). A date outside that table is an error rather than a guess: a 納期限 moved
//! by a wrong holiday table would send staff to collect on the wrong day.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::DomainError;

static HOLIDAYS_CSV: &str = include_str!("../../data/holidays.csv");

static OFFICIAL: LazyLock<HolidayTable> = LazyLock::new(|| {
    // The table is compiled into the binary and parsed by a unit test on every build, so a
    // failure here means the committed data file itself is corrupt.
    HolidayTable::parse(HOLIDAYS_CSV).expect("steps/data/holidays.csv is well formed")
});

/// Returns the fiscal year (年度, April to March) that a date belongs to.
pub fn fiscal_year(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// Returns the first day (April 1) of a fiscal year.
///
/// # Errors
/// [`DomainError::Invalid`] for years chrono cannot represent.
pub fn fiscal_year_start(fiscal_year: i32) -> Result<NaiveDate, DomainError> {
    ymd(fiscal_year, 4, 1)
}

/// Returns the last day (March 31 of the next calendar year) of a fiscal year.
///
/// # Errors
/// [`DomainError::Invalid`] for years chrono cannot represent.
pub fn fiscal_year_end(fiscal_year: i32) -> Result<NaiveDate, DomainError> {
    ymd(fiscal_year + 1, 3, 31)
}

/// Builds a date, turning an impossible one into an error that names it.
///
/// # Errors
/// [`DomainError::Invalid`] when the year, month and day do not form a date.
pub fn ymd(year: i32, month: u32, day: u32) -> Result<NaiveDate, DomainError> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| DomainError::Invalid(format!("{year:04}-{month:02}-{day:02} is not a date")))
}

/// Returns the last day of a month.
///
/// # Errors
/// [`DomainError::Invalid`] for years chrono cannot represent.
pub fn last_day_of_month(year: i32, month: u32) -> Result<NaiveDate, DomainError> {
    let first = ymd(year, month, 1)?;
    first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| DomainError::Invalid(format!("{year:04}-{month:02} is out of range")))
}

/// Returns the date `days` days after `date`.
///
/// # Errors
/// [`DomainError::DateOutOfRange`] beyond the calendar's range.
pub fn add_days(date: NaiveDate, days: u64) -> Result<NaiveDate, DomainError> {
    date.checked_add_days(Days::new(days))
        .ok_or(DomainError::DateOutOfRange {
            date,
            reason: "the result is beyond the supported calendar",
        })
}

/// Returns the day after `date`.
///
/// # Errors
/// [`DomainError::DateOutOfRange`] on the last representable date.
pub fn next_day(date: NaiveDate) -> Result<NaiveDate, DomainError> {
    add_days(date, 1)
}

/// Returns the number of days from `from` to `to`, both counted (`from == to` is one day).
pub fn days_inclusive(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

/// Returns the last day of a period of `months` months whose first counted day is `start`
/// (民法143条: the period ends on the day before the day that corresponds to `start` in the
/// last month; when that month has no such day, on its last day).
///
/// This is how "納期限の翌日から起算して1月を経過する日" is computed: call it with the day
/// after the due date. Examples: start 8/2 → 9/1; start 6/1 → 6/30; start 1/31 → 2/28.
///
/// # Errors
/// [`DomainError::DateOutOfRange`] beyond the calendar's range.
pub fn period_end(start: NaiveDate, months: u32) -> Result<NaiveDate, DomainError> {
    let out_of_range = DomainError::DateOutOfRange {
        date: start,
        reason: "the period ends beyond the supported calendar",
    };
    let month_index = i64::from(start.year()) * 12 + i64::from(start.month0()) + i64::from(months);
    let year = i32::try_from(month_index.div_euclid(12)).map_err(|_| out_of_range.clone())?;
    let month = u32::try_from(month_index.rem_euclid(12)).map_err(|_| out_of_range.clone())? + 1;
    match NaiveDate::from_ymd_opt(year, month, start.day()) {
        Some(corresponding) => corresponding.pred_opt().ok_or(out_of_range),
        None => last_day_of_month(year, month).map_err(|_| out_of_range),
    }
}

/// A day of the year without a year, such as 12/29.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MonthDay {
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
}

impl MonthDay {
    /// Creates a month and day, checking that it exists in a leap year.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] for days such as 4/31.
    pub fn new(month: u32, day: u32) -> Result<Self, DomainError> {
        // 2000 is a leap year, so 2/29 is accepted here and handled per year by callers.
        ymd(2000, month, day)?;
        Ok(Self { month, day })
    }

    fn of(date: NaiveDate) -> Self {
        Self {
            month: date.month(),
            day: date.day(),
        }
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// A stretch of days that repeats every year, both ends included; it may wrap the year end
/// (12/29 to 1/3 is the usual 年末年始 closure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualPeriod {
    /// First day of the stretch.
    pub from: MonthDay,
    /// Last day of the stretch.
    pub to: MonthDay,
}

impl AnnualPeriod {
    /// Returns whether a date falls in the stretch.
    pub fn contains(&self, date: NaiveDate) -> bool {
        let md = MonthDay::of(date);
        if self.from <= self.to {
            self.from <= md && md <= self.to
        } else {
            md >= self.from || md <= self.to
        }
    }
}

/// The national holidays (国民の祝日・休日) by date.
#[derive(Debug)]
pub struct HolidayTable {
    days: BTreeMap<NaiveDate, &'static str>,
    first: NaiveDate,
    last: NaiveDate,
}

impl HolidayTable {
    /// Returns the committed table from the Cabinet Office list.
    pub fn official() -> &'static Self {
        &OFFICIAL
    }

    /// Parses `date,name` lines; blank lines and lines starting with `#` are skipped.
    ///
    /// The table covers whole years, from January 1 of the first year listed to December 31
    /// of the last.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the line that is malformed, duplicated or out of order.
    pub fn parse(text: &'static str) -> Result<Self, DomainError> {
        let mut days = BTreeMap::new();
        let mut previous: Option<NaiveDate> = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| {
                DomainError::Invalid(format!("holiday table line {}: {why}", index + 1))
            };
            let (date, name) = line
                .split_once(',')
                .ok_or_else(|| bad("expected `date,name`"))?;
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad("bad date"))?;
            if name.trim().is_empty() {
                return Err(bad("the name is empty"));
            }
            if previous.is_some_and(|p| p >= date) {
                return Err(bad("dates must be in increasing order without repeats"));
            }
            previous = Some(date);
            days.insert(date, name.trim());
        }
        let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
            return Err(DomainError::Invalid(
                "the holiday table is empty".to_owned(),
            ));
        };
        Ok(Self {
            first: ymd(first.year(), 1, 1)?,
            last: ymd(last.year(), 12, 31)?,
            days,
        })
    }

    /// Returns the first day the table covers.
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// Returns the last day the table covers.
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// Returns whether the table covers a date.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first..=self.last).contains(&date)
    }

    /// Returns the holiday's name, or `None` for an ordinary day.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the table does not cover the date.
    pub fn name(&self, date: NaiveDate) -> Result<Option<&'static str>, DomainError> {
        if !self.covers(date) {
            return Err(DomainError::OutsideHolidayTable {
                date,
                first: self.first,
                last: self.last,
            });
        }
        Ok(self.days.get(&date).copied())
    }

    /// Returns every holiday in date order.
    pub fn iter(&self) -> impl Iterator<Item = (NaiveDate, &'static str)> + '_ {
        self.days.iter().map(|(d, n)| (*d, *n))
    }
}

/// Why a day is not a business day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ClosedReason {
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
    /// A national holiday, with its name as the Cabinet Office writes it.
    Holiday { name: String },
    /// A day the office (or the banks) is closed every year, such as 12/29 to 1/3.
    AnnualClosure,
    /// A one-off closure date set by the municipality.
    ClosedDate,
}

impl fmt::Display for ClosedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Saturday => f.write_str("Saturday"),
            Self::Sunday => f.write_str("Sunday"),
            Self::Holiday { name } => write!(f, "national holiday ({name})"),
            Self::AnnualClosure => f.write_str("annual closure"),
            Self::ClosedDate => f.write_str("closure date"),
        }
    }
}

/// Which way a date on a closed day moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// To the next business day: 納期限 (地方自治法4条の2④ and the municipal rules).
    Forward,
    /// To the previous business day: pension paydays (年金の支払日).
    Backward,
}

/// A date moved off closed days, with each day that was skipped and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Adjustment {
    /// The date as given.
    pub date: NaiveDate,
    /// The business day it moves to (the same date when it is a business day).
    pub adjusted: NaiveDate,
    /// The direction of the move.
    pub direction: Direction,
    /// The closed days passed over, in the order they were passed.
    pub skipped: Vec<SkippedDay>,
}

/// One closed day passed over by an [`Adjustment`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    /// The closed day.
    pub date: NaiveDate,
    /// Why it is closed.
    pub reason: ClosedReason,
}

/// Decides which days are business days: not a weekend, not a national holiday, not in an
/// annual closure, not a one-off closure date.
#[derive(Clone, Debug)]
pub struct BusinessCalendar<'a> {
    holidays: &'a HolidayTable,
    annual_closures: Vec<AnnualPeriod>,
    closed_dates: Vec<NaiveDate>,
}

impl<'a> BusinessCalendar<'a> {
    /// Creates a calendar from a holiday table, annual closures and one-off closure dates.
    pub fn new(
        holidays: &'a HolidayTable,
        annual_closures: &[AnnualPeriod],
        closed_dates: &[NaiveDate],
    ) -> Self {
        Self {
            holidays,
            annual_closures: annual_closures.to_vec(),
            closed_dates: closed_dates.to_vec(),
        }
    }

    /// Returns the calendar of banks (銀行法施行令5条: weekends, national holidays and
    /// 12/31 to 1/3), which decides pension paydays and debit dates.
    pub fn banks(holidays: &'a HolidayTable) -> Self {
        let year_end = AnnualPeriod {
            from: MonthDay { month: 12, day: 31 },
            to: MonthDay { month: 1, day: 3 },
        };
        Self::new(holidays, &[year_end], &[])
    }

    /// Returns why a day is closed, or `None` for a business day.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the holiday table does not cover the date.
    pub fn closed_reason(&self, date: NaiveDate) -> Result<Option<ClosedReason>, DomainError> {
        // Look the holiday up first so that a date outside the table is always an error,
        // even on a weekend.
        let holiday = self.holidays.name(date)?;
        Ok(match date.weekday() {
            Weekday::Sat => Some(ClosedReason::Saturday),
            Weekday::Sun => Some(ClosedReason::Sunday),
            _ => {
                if let Some(name) = holiday {
                    Some(ClosedReason::Holiday {
                        name: name.to_owned(),
                    })
                } else if self.annual_closures.iter().any(|p| p.contains(date)) {
                    Some(ClosedReason::AnnualClosure)
                } else if self.closed_dates.contains(&date) {
                    Some(ClosedReason::ClosedDate)
                } else {
                    None
                }
            }
        })
    }

    /// Returns whether a day is a business day.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the holiday table does not cover the date.
    pub fn is_business_day(&self, date: NaiveDate) -> Result<bool, DomainError> {
        Ok(self.closed_reason(date)?.is_none())
    }

    /// Moves a date off closed days in the given direction.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the move reaches beyond the holiday table.
    pub fn adjust(&self, date: NaiveDate, direction: Direction) -> Result<Adjustment, DomainError> {
        let mut current = date;
        let mut skipped = Vec::new();
        while let Some(reason) = self.closed_reason(current)? {
            skipped.push(SkippedDay {
                date: current,
                reason,
            });
            let step = match direction {
                Direction::Forward => current.succ_opt(),
                Direction::Backward => current.pred_opt(),
            };
            current = step.ok_or(DomainError::DateOutOfRange {
                date,
                reason: "no business day within the supported calendar",
            })?;
        }
        Ok(Adjustment {
            date,
            adjusted: current,
            direction,
            skipped,
        })
    }

    /// Returns the date itself when it is a business day, otherwise the next business day.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the move reaches beyond the holiday table.
    pub fn next_business_day(&self, date: NaiveDate) -> Result<NaiveDate, DomainError> {
        Ok(self.adjust(date, Direction::Forward)?.adjusted)
    }

    /// Returns the date itself when it is a business day, otherwise the previous business day.
    ///
    /// # Errors
    /// [`DomainError::OutsideHolidayTable`] when the move reaches beyond the holiday table.
    pub fn previous_business_day(&self, date: NaiveDate) -> Result<NaiveDate, DomainError> {
        Ok(self.adjust(date, Direction::Backward)?.adjusted)
    }
}

/// Returns the pension payday of an even month: the 15th, moved to the previous bank
/// business day when it is closed (国民年金法・厚生年金保険法の支払期月; 年金は偶数月15日払い).
///
/// # Errors
/// [`DomainError::Invalid`] for an odd month, [`DomainError::OutsideHolidayTable`] beyond
/// the holiday table.
pub fn pension_payday(
    holidays: &HolidayTable,
    year: i32,
    month: u32,
) -> Result<Adjustment, DomainError> {
    if !(1..=12).contains(&month) || !month.is_multiple_of(2) {
        return Err(DomainError::Invalid(format!(
            "pensions are paid in even months (2, 4, 6, 8, 10, 12), not in month {month}"
        )));
    }
    BusinessCalendar::banks(holidays).adjust(ymd(year, month, 15)?, Direction::Backward)
}

/// The runtime counts `bd` periods of due dates and timers in the office's calendar:
/// national holidays and the municipality's closures, not weekends alone.
#[cfg(feature = "handlers")]
impl nagare_engine::runtime::OfficeCalendar for BusinessCalendar<'static> {
    fn is_business_day(&self, date: NaiveDate) -> Result<bool, String> {
        BusinessCalendar::is_business_day(self, date).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn office() -> BusinessCalendar<'static> {
        let closure = AnnualPeriod {
            from: MonthDay::new(12, 29).unwrap(),
            to: MonthDay::new(1, 3).unwrap(),
        };
        BusinessCalendar::new(HolidayTable::official(), &[closure], &[])
    }

    #[test]
    fn fiscal_year_runs_april_to_march() {
        assert_eq!(fiscal_year(d("2025-04-01")), 2025);
        assert_eq!(fiscal_year(d("2026-03-31")), 2025);
        assert_eq!(fiscal_year(d("2026-01-01")), 2025);
        assert_eq!(fiscal_year_start(2025).unwrap(), d("2025-04-01"));
        assert_eq!(fiscal_year_end(2025).unwrap(), d("2026-03-31"));
    }

    // 民法143条 examples from rules.md §3: 納期限 8/1 → boundary 9/1; 納期限 5/31 → 6/30.
    #[test]
    fn one_month_elapses_per_civil_code_143() {
        assert_eq!(period_end(d("2022-08-02"), 1).unwrap(), d("2022-09-01"));
        assert_eq!(period_end(d("2025-06-01"), 1).unwrap(), d("2025-06-30"));
        // 品川区 example: 納期限 R3.4.30, 3か月 → the first rate runs to 7/31.
        assert_eq!(period_end(d("2021-05-01"), 3).unwrap(), d("2021-07-31"));
        // No corresponding day in the last month: the period ends on its last day.
        assert_eq!(period_end(d("2025-01-31"), 1).unwrap(), d("2025-02-28"));
        assert_eq!(period_end(d("2024-01-31"), 1).unwrap(), d("2024-02-29"));
        assert_eq!(period_end(d("2025-01-30"), 1).unwrap(), d("2025-02-28"));
        assert_eq!(period_end(d("2025-03-31"), 1).unwrap(), d("2025-04-30"));
        // Across the year end, and two years for prescription (rules.md §7).
        assert_eq!(period_end(d("2025-12-15"), 1).unwrap(), d("2026-01-14"));
        assert_eq!(period_end(d("2023-08-01"), 24).unwrap(), d("2025-07-31"));
    }

    #[test]
    fn the_table_covers_1955_to_2027() {
        let t = HolidayTable::official();
        assert_eq!(t.first(), d("1955-01-01"));
        assert_eq!(t.last(), d("2027-12-31"));
        assert_eq!(t.name(d("1955-01-01")).unwrap(), Some("元日"));
        assert!(t.name(d("1954-12-31")).is_err());
        assert!(t.name(d("2028-01-01")).is_err());
    }

    // Test vector from formats.md §3 (verified there with PyPI jpholiday 1.0.3): 2026 has
    // 18 holidays including the 振替休日 5/6 and the 国民の休日 9/22.
    #[test]
    fn year_2026_matches_the_published_vector() {
        let t = HolidayTable::official();
        let got: Vec<String> = t
            .iter()
            .filter(|(date, _)| date.year() == 2026)
            .map(|(date, _)| date.format("%m-%d").to_string())
            .collect();
        let want = [
            "01-01", "01-12", "02-11", "02-23", "03-20", "04-29", "05-03", "05-04", "05-05",
            "05-06", "07-20", "08-11", "09-21", "09-22", "09-23", "10-12", "11-03", "11-23",
        ];
        assert_eq!(got, want);
    }

    // The one-off days of the Imperial transitions and the moved 2020/2021 Olympic holidays.
    #[test]
    fn special_days_are_in_the_table() {
        let t = HolidayTable::official();
        for day in [
            "1959-04-10",
            "1989-02-24",
            "1990-11-12",
            "1993-06-09",
            "2019-05-01",
            "2019-10-22",
            "2020-07-24",
            "2021-07-23",
            "2021-08-09",
        ] {
            assert!(t.name(d(day)).unwrap().is_some(), "{day}");
        }
        for day in ["2020-10-12", "2021-10-11", "2021-08-11", "1973-02-12"] {
            assert_eq!(t.name(d(day)).unwrap(), None, "{day}");
        }
    }

    // 茅ヶ崎 R5 (rules.md §8, [pub]): 9月期 9/30 (Sat) → 10/2; 12月期 12/31 → R6.1.4;
    // 2月期 2/29 stays; 3月期 3/31 (Sun) → 4/1.
    #[test]
    fn chigasaki_due_dates_move_forward() {
        let cal = office();
        let cases = [
            ("2023-09-30", "2023-10-02"),
            ("2023-12-31", "2024-01-04"),
            ("2024-02-29", "2024-02-29"),
            ("2024-03-31", "2024-04-01"),
        ];
        for (due, want) in cases {
            assert_eq!(cal.next_business_day(d(due)).unwrap(), d(want), "{due}");
        }
    }

    // 瀬戸 R6 (rules.md §8, [pub]): 第1期 8/10 → 8/13 (Sat, Sun, 振替休日); 11/10 → 11/11.
    #[test]
    fn seto_due_dates_move_forward() {
        let cal = office();
        let adj = cal.adjust(d("2024-08-10"), Direction::Forward).unwrap();
        assert_eq!(adj.adjusted, d("2024-08-13"));
        let reasons: Vec<_> = adj.skipped.iter().map(|s| s.reason.to_string()).collect();
        assert_eq!(reasons, ["Saturday", "Sunday", "national holiday (休日)"]);
        assert_eq!(
            cal.next_business_day(d("2024-11-10")).unwrap(),
            d("2024-11-11")
        );
    }

    #[test]
    fn office_closure_wraps_the_year_end() {
        let cal = office();
        // 2025-12-29 is a Monday, closed only by the 年末年始 rule.
        assert_eq!(
            cal.closed_reason(d("2025-12-29")).unwrap(),
            Some(ClosedReason::AnnualClosure)
        );
        assert_eq!(
            cal.next_business_day(d("2025-12-29")).unwrap(),
            d("2026-01-05")
        );
        assert!(cal.is_business_day(d("2025-12-26")).unwrap());
        let one_off = BusinessCalendar::new(HolidayTable::official(), &[], &[d("2025-07-01")]);
        assert_eq!(
            one_off.closed_reason(d("2025-07-01")).unwrap(),
            Some(ClosedReason::ClosedDate)
        );
    }

    #[test]
    fn pension_paydays_move_backward() {
        let t = HolidayTable::official();
        // 2025-06-15 is a Sunday → Friday 6/13; 2025-08-15 is a Friday and stays.
        assert_eq!(
            pension_payday(t, 2025, 6).unwrap().adjusted,
            d("2025-06-13")
        );
        assert_eq!(
            pension_payday(t, 2025, 8).unwrap().adjusted,
            d("2025-08-15")
        );
        // 2026-02-15 is a Sunday → 2/13.
        assert_eq!(
            pension_payday(t, 2026, 2).unwrap().adjusted,
            d("2026-02-13")
        );
        assert!(pension_payday(t, 2025, 7).is_err());
    }

    #[test]
    fn dates_beyond_the_table_are_errors() {
        let cal = office();
        assert!(matches!(
            cal.next_business_day(d("2028-03-31")),
            Err(DomainError::OutsideHolidayTable { .. })
        ));
        // 2027-12-31 is inside the table but the next business day is not.
        assert!(cal.next_business_day(d("2027-12-31")).is_err());
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(HolidayTable::parse("").is_err());
        assert!(HolidayTable::parse("2025-01-01\n").is_err());
        assert!(HolidayTable::parse("2025-01-02,a\n2025-01-01,b\n").is_err());
        assert!(HolidayTable::parse("2025-13-01,a\n").is_err());
    }

    #[cfg(feature = "handlers")]
    #[test]
    fn the_runtime_counts_business_days_in_the_office_calendar() {
        use nagare_engine::flow::{DateBase, DateRule, PeriodUnit};
        use nagare_engine::runtime::dates::resolve;
        use nagare_engine::runtime::{Data, WeekendsOnly};
        let three = DateRule::After {
            amount: 3,
            unit: PeriodUnit::BusinessDays,
            from: DateBase::Entered,
        };
        // Friday 2026-11-20; Monday 11-23 is 勤労感謝の日.
        let entered = d("2026-11-20");
        assert_eq!(
            resolve(&three, &Data::new(), entered, &WeekendsOnly),
            Ok(d("2026-11-25"))
        );
        assert_eq!(
            resolve(&three, &Data::new(), entered, &office()),
            Ok(d("2026-11-26"))
        );
        // Friday 2026-12-25: Monday 12-28, then the 年末年始 closure and 1/1 (元日), then
        // Monday 2027-01-04 and Tuesday 01-05.
        assert_eq!(
            resolve(&three, &Data::new(), d("2026-12-25"), &office()),
            Ok(d("2027-01-05"))
        );
        // Beyond the holiday table the step fails with the reason instead of guessing.
        assert!(resolve(&three, &Data::new(), d("2027-12-30"), &office()).is_err());
    }
}
