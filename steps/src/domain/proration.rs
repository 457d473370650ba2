//! 月割: the months of a fiscal year a person is liable for, from the 資格取得日 and
//! 資格喪失日, and the prorated annual amount.
//!
//! Rules (rules.md §9):
//! - 資格取得 on reaching 75 is the 75th birthday itself (法52条; 奈良市, 枚方市); a
//!   29 February birthday becomes 1 March in common years.
//! - 資格喪失 is the day after death (長岡市) or after moving out of the 広域連合's area
//!   (法53条); other losses (生活保護開始 etc.) are given as the loss date itself.
//! - Liability runs from the month of acquisition to the month before the month of loss
//!   (長岡市: loss in August → April to July).
//! - Prorated amount = annual × months / 12, truncated to the settings unit (rounding of
//!   月割 is unconfirmed in the sources; 100円 is the sample).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::DomainError;
use super::calendar::{fiscal_year_end, fiscal_year_start, next_day, ymd};
use super::money::Yen;

/// The age at which people join 後期高齢者医療.
pub const AGE_OF_ENTRY: u32 = 75;

/// Returns the day someone born on `birth` becomes insured by age: the 75th birthday, or
/// 1 March when the birthday is 29 February and that year is not a leap year.
///
/// # Errors
/// [`DomainError`] for dates beyond the calendar.
pub fn age_reaching_date(birth: NaiveDate) -> Result<NaiveDate, DomainError> {
    let year = birth.year() + i32::try_from(AGE_OF_ENTRY).unwrap_or(75);
    match NaiveDate::from_ymd_opt(year, birth.month(), birth.day()) {
        Some(date) => Ok(date),
        // Only 29 February is missing in some years.
        None => ymd(year, 3, 1),
    }
}

/// Why someone lost their insured status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "date", rename_all = "kebab-case")]
pub enum LossEvent {
    /// Death on this date: the status is lost the next day.
    Death(NaiveDate),
    /// Moving out of the 広域連合's area on this date: lost the next day.
    MovedOut(NaiveDate),
    /// Any other loss, with the loss date itself.
    Lost(NaiveDate),
}

impl LossEvent {
    /// Returns the 資格喪失日.
    ///
    /// # Errors
    /// [`DomainError`] for dates beyond the calendar.
    pub fn loss_date(self) -> Result<NaiveDate, DomainError> {
        match self {
            Self::Death(d) | Self::MovedOut(d) => next_day(d),
            Self::Lost(d) => Ok(d),
        }
    }
}

/// The months of one fiscal year a person is liable for, and the prorated amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proration {
    /// The fiscal year.
    pub fiscal_year: i32,
    /// The 資格取得日 used, if within or before the year.
    pub acquired: Option<NaiveDate>,
    /// The 資格喪失日 used.
    pub lost: Option<NaiveDate>,
    /// The liable months as `YYYY-MM`, in order.
    pub months_liable: Vec<String>,
    /// How many months.
    pub months: u32,
    /// The full annual amount.
    pub annual: Yen,
    /// annual × months / 12, truncated to the unit.
    pub prorated: Yen,
}

/// Computes the liable months of a fiscal year and the prorated amount.
///
/// # Errors
/// [`DomainError`] for a negative amount, a bad unit, or a loss before the acquisition.
pub fn prorate(
    fiscal_year: i32,
    annual: Yen,
    acquired: Option<NaiveDate>,
    lost: Option<NaiveDate>,
    unit: Yen,
) -> Result<Proration, DomainError> {
    annual.validate("the annual amount")?;
    unit.validate_unit("the proration unit")?;
    if let (Some(a), Some(l)) = (acquired, lost)
        && l < a
    {
        return Err(DomainError::DatesOutOfOrder {
            earlier_what: "the 資格取得日",
            earlier: a,
            later_what: "the 資格喪失日",
            later: l,
        });
    }
    let year_start = fiscal_year_start(fiscal_year)?;
    let year_end = fiscal_year_end(fiscal_year)?;
    // Months are numbered year*12 + month0 so that ranges across the year end are simple.
    let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let first = acquired.map_or(index(year_start), |a| index(a).max(index(year_start)));
    let end_exclusive = lost.map_or(index(year_end) + 1, |l| index(l).min(index(year_end) + 1));
    let months_liable: Vec<String> = (first..end_exclusive)
        .map(|i| format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
        .collect();
    let months = u32::try_from(months_liable.len()).unwrap_or(0);
    let prorated = Yen(annual.0 * i64::from(months) / 12).floor_to(unit);
    Ok(Proration {
        fiscal_year,
        acquired,
        lost,
        months_liable,
        months,
        annual,
        prorated,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    // rules.md §9 [der] table (東京 均等割 47,300): born 1950-11-15 or 1950-11-01 → Nov–Mar,
    // 5 months, 47,300×5/12 = 19,708.3 → 19,700. The birth-month rule is 足利市's example:
    // https://www.city.ashikaga.tochigi.jp/living/000017/000126/000554/p002431.html
    // (11月 birthday → 後期 covers 11月〜3月, 5か月).
    #[test]
    fn age_reachers_pay_from_the_birthday_month() {
        for birth in ["1950-11-15", "1950-11-01"] {
            let acquired = age_reaching_date(d(birth)).unwrap();
            let p = prorate(2025, Yen(47_300), Some(acquired), None, Yen(100)).unwrap();
            assert_eq!(p.months, 5, "{birth}");
            assert_eq!(p.months_liable.first().map(String::as_str), Some("2025-11"));
            assert_eq!(p.prorated, Yen(19_700));
        }
    }

    #[test]
    fn a_leap_day_birthday_joins_on_1_march() {
        assert_eq!(age_reaching_date(d("1952-02-29")).unwrap(), d("2027-03-01"));
        assert_eq!(age_reaching_date(d("1949-02-28")).unwrap(), d("2024-02-28"));
    }

    // rules.md §9 [der]: death 2025-08-31 → loss 9/1 → April–August, 5 months; death
    // 2025-07-31 → loss 8/1 → 4 months. 長岡市 FAQ
    // https://qa.city.nagaoka.niigata.jp/print/faq/1106?category_id=496&site_domain=default
    // ("8月に資格を喪失…4月から7月まで（年額の4か月相当分）").
    #[test]
    fn death_ends_liability_with_the_month_before_the_loss() {
        let loss = LossEvent::Death(d("2025-08-31")).loss_date().unwrap();
        assert_eq!(loss, d("2025-09-01"));
        let p = prorate(2025, Yen(47_300), None, Some(loss), Yen(100)).unwrap();
        assert_eq!(p.months, 5);
        let loss = LossEvent::Death(d("2025-07-31")).loss_date().unwrap();
        let p = prorate(2025, Yen(120_000), None, Some(loss), Yen(100)).unwrap();
        assert_eq!(p.months, 4);
        assert_eq!(p.prorated, Yen(40_000));
        assert_eq!(
            p.months_liable,
            ["2025-04", "2025-05", "2025-06", "2025-07"]
        );
    }

    #[test]
    fn moving_out_and_other_losses() {
        assert_eq!(
            LossEvent::MovedOut(d("2025-10-15")).loss_date().unwrap(),
            d("2025-10-16")
        );
        assert_eq!(
            LossEvent::Lost(d("2025-10-15")).loss_date().unwrap(),
            d("2025-10-15")
        );
        // Loss on 1 April: nothing in the new year.
        let p = prorate(2025, Yen(47_300), None, Some(d("2025-04-01")), Yen(100)).unwrap();
        assert_eq!(p.months, 0);
        // Acquired in one year and lost in the next: only this year's months count.
        let p = prorate(
            2025,
            Yen(60_000),
            Some(d("2024-12-10")),
            Some(d("2026-02-01")),
            Yen(100),
        )
        .unwrap();
        assert_eq!(p.months, 10);
        assert_eq!(p.prorated, Yen(50_000));
        assert!(
            prorate(
                2025,
                Yen(1),
                Some(d("2025-06-01")),
                Some(d("2025-05-01")),
                Yen(100)
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn prorated_amounts_stay_within_the_annual_amount(
            annual in 0i64..1_000_000,
            acquired in 0i64..800,
            lost_after in 0i64..800,
        ) {
            let a = d("2024-06-01") + chrono::Duration::days(acquired);
            let l = a + chrono::Duration::days(lost_after);
            let p = prorate(2025, Yen(annual), Some(a), Some(l), Yen(100)).unwrap();
            prop_assert!(p.months <= 12);
            prop_assert!(p.prorated.0 >= 0 && p.prorated.0 <= annual);
        }
    }
}
