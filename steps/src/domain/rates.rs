//! The year-by-year rates of 延滞金 and 還付加算金 (`steps/data/rates.csv`).
//!
//! The ordinance rates are 7.3% and 14.6%, but 地方税法附則3条の2 replaces them every
//! calendar year with rates derived from the 財務大臣's announcement; municipalities apply
//! the same table to 後期高齢者医療保険料 through their ordinances. The table is data, with
//! its sources, and is extended each December.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::DomainError;

static RATES_CSV: &str = include_str!("../../data/rates.csv");

static OFFICIAL: LazyLock<RateTable> = LazyLock::new(|| {
    // Compiled in and parsed by a unit test on every build: a failure means the committed
    // data file itself is corrupt.
    RateTable::parse(RATES_CSV).expect("steps/data/rates.csv is well formed")
});

/// The rates in force during one calendar year, in percent per year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearRates {
    /// The calendar year.
    pub year: i32,
    /// 特例基準割合 (to 2020) or 延滞金特例基準割合 (from 2021).
    #[serde(with = "rust_decimal::serde::str")]
    pub special_base_rate: Decimal,
    /// 延滞金 rate up to the switch-over (納期限の翌日から1か月または3か月を経過する日まで).
    #[serde(with = "rust_decimal::serde::str")]
    pub late_fee_within: Decimal,
    /// 延滞金 rate after the switch-over.
    #[serde(with = "rust_decimal::serde::str")]
    pub late_fee_after: Decimal,
    /// 還付加算金 rate.
    #[serde(with = "rust_decimal::serde::str")]
    pub refund_interest: Decimal,
    /// Public pages that print these rates.
    pub sources: Vec<&'static str>,
}

/// Rates for a contiguous run of calendar years.
#[derive(Debug)]
pub struct RateTable {
    years: BTreeMap<i32, YearRates>,
}

impl RateTable {
    /// Returns the committed table (2000 onwards).
    pub fn official() -> &'static Self {
        &OFFICIAL
    }

    /// Parses the CSV format of `steps/data/rates.csv`: a header line, then one line per
    /// year; `#` lines are comments. Rates are read as decimal text, never through floats.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the bad line, a gap between years, or a missing source.
    pub fn parse(text: &'static str) -> Result<Self, DomainError> {
        let mut years = BTreeMap::new();
        let mut header_seen = false;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                |why: &str| DomainError::Invalid(format!("rate table line {}: {why}", index + 1));
            if !header_seen {
                if line
                    != "year,special_base_rate,late_fee_within,late_fee_after,refund_interest,sources"
                {
                    return Err(bad("unexpected header"));
                }
                header_seen = true;
                continue;
            }
            let fields: Vec<&str> = line.splitn(6, ',').collect();
            let [year, base, within, after, refund, sources] = fields[..] else {
                return Err(bad("expected 6 fields"));
            };
            let year: i32 = year.parse().map_err(|_| bad("bad year"))?;
            let rate = |s: &str| {
                Decimal::from_str(s.trim())
                    .ok()
                    .filter(|r| !r.is_sign_negative() && *r <= Decimal::from(100))
                    .ok_or_else(|| bad("bad rate"))
            };
            let sources: Vec<&'static str> = sources.split_whitespace().collect();
            if sources.is_empty() {
                return Err(bad("every year needs at least one source"));
            }
            let rates = YearRates {
                year,
                special_base_rate: rate(base)?,
                late_fee_within: rate(within)?,
                late_fee_after: rate(after)?,
                refund_interest: rate(refund)?,
                sources,
            };
            if let Some((&last, _)) = years.last_key_value()
                && year != last + 1
            {
                return Err(bad("years must follow each other without gaps"));
            }
            years.insert(year, rates);
        }
        if years.is_empty() {
            return Err(DomainError::Invalid("the rate table is empty".to_owned()));
        }
        Ok(Self { years })
    }

    /// Returns the first year covered.
    pub fn first_year(&self) -> i32 {
        self.years.keys().next().copied().unwrap_or_default()
    }

    /// Returns the last year covered.
    pub fn last_year(&self) -> i32 {
        self.years.keys().next_back().copied().unwrap_or_default()
    }

    /// Returns the rates in force on a date.
    ///
    /// # Errors
    /// [`DomainError::OutsideRateTable`] when the year is not in the table.
    pub fn for_date(&self, date: NaiveDate) -> Result<&YearRates, DomainError> {
        self.years
            .get(&date.year())
            .ok_or(DomainError::OutsideRateTable {
                date,
                first: self.first_year(),
                last: self.last_year(),
            })
    }

    /// Returns every year's rates, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &YearRates> {
        self.years.values()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_table_covers_2000_to_2026() {
        let t = RateTable::official();
        assert_eq!(t.first_year(), 2000);
        assert_eq!(t.last_year(), 2026);
        assert_eq!(t.iter().count(), 27);
        assert!(matches!(
            t.for_date(d("1999-12-31")),
            Err(DomainError::OutsideRateTable {
                first: 2000,
                last: 2026,
                ..
            })
        ));
        assert!(t.for_date(d("2027-01-01")).is_err());
    }

    // Spot values printed on the cited pages: 2021 (品川区 example 2.5/8.8), 2022 (矢吹町
    // example 2.4/8.7), 2017 (東かがわ市 example 2.7/9.0), 2026 (日野市 2.8/9.1/1.3),
    // 2025 還付加算金 0.9 and 2026 1.3 (rules.md §5 example).
    #[test]
    fn spot_values_match_the_sources() {
        let t = RateTable::official();
        let r = |s| t.for_date(d(s)).unwrap();
        assert_eq!(
            (
                r("2021-06-01").late_fee_within,
                r("2021-06-01").late_fee_after
            ),
            (dec!(2.5), dec!(8.8))
        );
        assert_eq!(
            (
                r("2022-06-01").late_fee_within,
                r("2022-06-01").late_fee_after
            ),
            (dec!(2.4), dec!(8.7))
        );
        assert_eq!(
            (
                r("2017-06-01").late_fee_within,
                r("2017-06-01").late_fee_after
            ),
            (dec!(2.7), dec!(9.0))
        );
        assert_eq!(r("2026-01-01").late_fee_within, dec!(2.8));
        assert_eq!(r("2026-12-31").late_fee_after, dec!(9.1));
        assert_eq!(r("2025-12-31").refund_interest, dec!(0.9));
        assert_eq!(r("2026-01-01").refund_interest, dec!(1.3));
        assert_eq!(r("2008-05-01").late_fee_within, dec!(4.7));
    }

    // Each row must follow the statutory formula for its period (地方税法附則3条の2 and
    // 3条の2の2 as amended in 1999, 2013 and 2020), so a typo in one column is caught.
    #[test]
    fn every_row_follows_the_formula_of_its_period() {
        for r in RateTable::official().iter() {
            let base = r.special_base_rate;
            let (within, after, refund) = match r.year {
                ..=2013 => (base.min(dec!(7.3)), dec!(14.6), base.min(dec!(7.3))),
                2014..=2020 => (
                    (base + dec!(1)).min(dec!(7.3)),
                    (base + dec!(7.3)).min(dec!(14.6)),
                    base.min(dec!(7.3)),
                ),
                _ => (
                    (base + dec!(1)).min(dec!(7.3)),
                    (base + dec!(7.3)).min(dec!(14.6)),
                    // 還付加算金特例基準割合 = 平均貸付割合 + 0.5% = 延滞金特例基準割合 − 0.5%.
                    (base - dec!(0.5)).min(dec!(7.3)),
                ),
            };
            assert_eq!(
                (r.late_fee_within, r.late_fee_after, r.refund_interest),
                (within, after, refund),
                "{}",
                r.year
            );
            assert!(
                r.sources.iter().all(|s| s.starts_with("http")),
                "{}",
                r.year
            );
        }
    }

    #[test]
    fn malformed_tables_are_refused() {
        let header =
            "year,special_base_rate,late_fee_within,late_fee_after,refund_interest,sources\n";
        assert!(RateTable::parse("").is_err());
        assert!(RateTable::parse(header).is_err());
        let gap: &'static str = "year,special_base_rate,late_fee_within,late_fee_after,refund_interest,sources\n2020,1,2,3,1,http://a\n2022,1,2,3,1,http://a\n";
        assert!(RateTable::parse(gap).is_err());
        let no_source: &'static str = "year,special_base_rate,late_fee_within,late_fee_after,refund_interest,sources\n2020,1,2,3,1,\n";
        assert!(RateTable::parse(no_source).is_err());
        let negative: &'static str = "year,special_base_rate,late_fee_within,late_fee_after,refund_interest,sources\n2020,1,-2,3,1,http://a\n";
        assert!(RateTable::parse(negative).is_err());
    }
}
