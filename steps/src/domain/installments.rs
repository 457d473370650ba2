//! 期割: splitting an annual premium into 普通徴収 installments, and re-splitting it when the
//! annual amount changes in the middle of the year.
//!
//! Rule (rules.md §1; 瀬戸市 "1年分を…納期数で割って…100円未満の端数は第1期に加算"): the
//! annual amount is truncated to 100円; every period but one gets floor(annual / n) truncated
//! to 100円; the remaining period (the first, by default) takes what is left.

use chrono::NaiveDate;
use serde::Serialize;

use super::DomainError;
use super::calendar::BusinessCalendar;
use super::money::Yen;
use super::settings::{OrdinaryCollectionSettings, RemainderPeriod};

/// Most periods a year can be split into (monthly collection has 12).
pub const MAX_PERIODS: u32 = 12;

/// Rounding rules for a split, usually taken from [`OrdinaryCollectionSettings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitRules {
    /// Unit the annual amount is truncated to.
    pub annual_unit: Yen,
    /// Unit of the periods that do not take the remainder.
    pub unit: Yen,
    /// Which period takes the remainder.
    pub remainder_to: RemainderPeriod,
}

impl From<&OrdinaryCollectionSettings> for SplitRules {
    fn from(s: &OrdinaryCollectionSettings) -> Self {
        Self {
            annual_unit: s.annual_unit,
            unit: s.installment_unit,
            remainder_to: s.remainder_to,
        }
    }
}

/// An annual amount split into installments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    /// The annual amount as given.
    pub annual_input: Yen,
    /// The annual amount after truncation; the installments add up to it.
    pub annual: Yen,
    /// The amount of each period, first period first.
    pub amounts: Vec<Yen>,
}

/// Splits an annual amount over `periods` installments.
///
/// # Errors
/// [`DomainError`] for a negative or huge amount, a bad unit, or a period count outside
/// 1 to [`MAX_PERIODS`].
pub fn split(annual: Yen, periods: u32, rules: &SplitRules) -> Result<Split, DomainError> {
    annual.validate("the annual amount")?;
    rules
        .annual_unit
        .validate_unit("the annual rounding unit")?;
    rules.unit.validate_unit("the installment unit")?;
    check_periods(periods)?;
    let truncated = annual.floor_to(rules.annual_unit);
    Ok(Split {
        annual_input: annual,
        annual: truncated,
        amounts: spread(truncated, periods, rules.unit, rules.remainder_to),
    })
}

fn check_periods(periods: u32) -> Result<(), DomainError> {
    if (1..=MAX_PERIODS).contains(&periods) {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "the number of periods must be 1 to {MAX_PERIODS} (got {periods})"
        )))
    }
}

/// Spreads a non-negative amount over `periods` (≥ 1) installments in whole units, with the
/// remainder in one period.
fn spread(total: Yen, periods: u32, unit: Yen, remainder_to: RemainderPeriod) -> Vec<Yen> {
    let n = i64::from(periods);
    let each = Yen(total.0 / n).floor_to(unit);
    let rest = total - Yen(each.0 * (n - 1));
    let mut amounts = vec![each; periods as usize];
    let index = match remainder_to {
        RemainderPeriod::First => 0,
        RemainderPeriod::Last => amounts.len() - 1,
    };
    amounts[index] = rest;
    amounts
}

/// The split of a changed annual amount when the first periods are already due or paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recalculation {
    /// The new annual amount as given.
    pub annual_input: Yen,
    /// The new annual amount after truncation.
    pub annual: Yen,
    /// The amounts of the periods that stay as they were.
    pub fixed: Vec<Yen>,
    /// All amounts, fixed periods first, then the re-split remaining periods.
    pub amounts: Vec<Yen>,
    /// What the fixed periods hold beyond the new annual amount: to refund or appropriate.
    pub excess: Yen,
    /// What the new annual amount needs beyond the fixed periods when no period is left to
    /// carry it: to bill separately (随時期).
    pub unallocated: Yen,
}

/// Re-splits a changed annual amount: the first `fixed.len()` periods keep their amounts
/// (already due or paid) and the remaining periods share the rest by the same rule.
///
/// The same function gives the 12-period variant with provisional April–June amounts
/// (能美市): pass the three provisional amounts as `fixed`.
///
/// # Errors
/// [`DomainError`] for bad amounts or units, or more fixed periods than periods.
pub fn recalculate(
    annual: Yen,
    periods: u32,
    fixed: &[Yen],
    rules: &SplitRules,
) -> Result<Recalculation, DomainError> {
    annual.validate("the annual amount")?;
    rules
        .annual_unit
        .validate_unit("the annual rounding unit")?;
    rules.unit.validate_unit("the installment unit")?;
    check_periods(periods)?;
    for amount in fixed {
        amount.validate("an amount already due")?;
    }
    let remaining_periods = periods
        .checked_sub(u32::try_from(fixed.len()).unwrap_or(u32::MAX))
        .ok_or_else(|| {
            DomainError::Invalid(format!(
                "{} amounts already due were given, but there are only {periods} periods",
                fixed.len()
            ))
        })?;
    let truncated = annual.floor_to(rules.annual_unit);
    let already: Yen = fixed.iter().sum();
    let mut amounts = fixed.to_vec();
    let (mut excess, mut unallocated) = (Yen::ZERO, Yen::ZERO);
    if already > truncated {
        excess = already - truncated;
        amounts.extend(std::iter::repeat_n(Yen::ZERO, remaining_periods as usize));
    } else if remaining_periods == 0 {
        unallocated = truncated - already;
    } else {
        amounts.extend(spread(
            truncated - already,
            remaining_periods,
            rules.unit,
            rules.remainder_to,
        ));
    }
    Ok(Recalculation {
        annual_input: annual,
        annual: truncated,
        fixed: fixed.to_vec(),
        amounts,
        excess,
        unallocated,
    })
}

/// Returns the provisional monthly amount for April to June of 12-period collection:
/// the prior year's annual amount divided by 12, truncated to the unit (南伊勢町 rule).
///
/// # Errors
/// [`DomainError`] for a bad amount or unit.
pub fn provisional_monthly(prior_annual: Yen, unit: Yen) -> Result<Yen, DomainError> {
    prior_annual.validate("the prior year's annual amount")?;
    unit.validate_unit("the installment unit")?;
    Ok(Yen(prior_annual.0 / 12).floor_to(unit))
}

/// One installment with its due date as the ordinance sets it and as moved off closed days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DueInstallment {
    /// Period number, 1 for the first period.
    pub period: u32,
    /// The amount.
    pub amount: Yen,
    /// The due date written in the ordinance.
    pub ordinance_due_date: NaiveDate,
    /// The due date after moving it to the next business day.
    pub due_date: NaiveDate,
}

/// Attaches the due dates of a fiscal year to a list of amounts.
///
/// # Errors
/// [`DomainError::Invalid`] when the number of amounts differs from the number of periods in
/// the settings, or the calendar cannot place a date.
pub fn with_due_dates(
    amounts: &[Yen],
    fiscal_year: i32,
    settings: &OrdinaryCollectionSettings,
    calendar: &BusinessCalendar<'_>,
) -> Result<Vec<DueInstallment>, DomainError> {
    if amounts.len() != settings.due_dates.len() {
        return Err(DomainError::Invalid(format!(
            "the settings define {} periods with due dates, but {} amounts were given",
            settings.due_dates.len(),
            amounts.len()
        )));
    }
    amounts
        .iter()
        .zip(&settings.due_dates)
        .zip(1..)
        .map(|((amount, rule), period)| {
            let ordinance_due_date = rule.date_in(fiscal_year)?;
            Ok(DueInstallment {
                period,
                amount: *amount,
                ordinance_due_date,
                due_date: calendar.next_business_day(ordinance_due_date)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::settings::Settings;

    fn rules() -> SplitRules {
        SplitRules::from(&Settings::sample().ordinary_collection)
    }

    fn yen(v: &[i64]) -> Vec<Yen> {
        v.iter().copied().map(Yen).collect()
    }

    // rules.md §1 [der] table, applying the 瀬戸市 rule ("100円未満の端数は第1期に加算",
    // https://www.city.seto.aichi.jp/docs/2020/06/29/00108/) to the 埼玉広域 R6 annual
    // amounts of rules.md §10.
    #[test]
    fn seto_rule_examples() {
        let cases = [
            (124_400, 9, 14_000, 13_800),
            (178_600, 9, 20_200, 19_800),
            (60_000, 8, 7_500, 7_500),
            (13_700, 9, 1_700, 1_500),
            (49_200, 9, 6_000, 5_400),
        ];
        for (annual, periods, first, rest) in cases {
            let s = split(Yen(annual), periods, &rules()).unwrap();
            assert_eq!(s.amounts[0], Yen(first), "{annual}");
            assert!(s.amounts[1..].iter().all(|a| *a == Yen(rest)), "{annual}");
            assert_eq!(s.amounts.len(), periods as usize);
        }
    }

    #[test]
    fn the_annual_amount_is_truncated_to_100_yen_first() {
        let s = split(Yen(124_480), 9, &rules()).unwrap();
        assert_eq!(s.annual, Yen(124_400));
        assert_eq!(s.amounts.iter().sum::<Yen>(), Yen(124_400));
    }

    #[test]
    fn the_remainder_can_go_last() {
        let last = SplitRules {
            remainder_to: RemainderPeriod::Last,
            ..rules()
        };
        let s = split(Yen(124_400), 9, &last).unwrap();
        assert_eq!(s.amounts[8], Yen(14_000));
        assert_eq!(s.amounts[0], Yen(13_800));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(matches!(
            split(Yen(-1), 9, &rules()),
            Err(DomainError::NegativeAmount { .. })
        ));
        assert!(split(Yen(100), 0, &rules()).is_err());
        assert!(split(Yen(100), 13, &rules()).is_err());
        let zero_unit = SplitRules {
            unit: Yen(0),
            ..rules()
        };
        assert!(split(Yen(100), 9, &zero_unit).is_err());
    }

    // A change of annual amount after the first three of nine periods fell due.
    #[test]
    fn recalculation_keeps_the_fixed_periods() {
        let r = recalculate(Yen(150_000), 9, &yen(&[14_000, 13_800, 13_800]), &rules()).unwrap();
        // 150,000 − 41,600 = 108,400 over 6 periods: 18,066 → 18,000; first takes 18,400.
        assert_eq!(
            r.amounts,
            yen(&[
                14_000, 13_800, 13_800, 18_400, 18_000, 18_000, 18_000, 18_000, 18_000
            ])
        );
        assert_eq!(r.amounts.iter().sum::<Yen>(), Yen(150_000));
        assert_eq!((r.excess, r.unallocated), (Yen(0), Yen(0)));
    }

    #[test]
    fn a_reduction_below_what_is_due_leaves_an_excess() {
        let r = recalculate(Yen(30_000), 9, &yen(&[14_000, 13_800, 13_800]), &rules()).unwrap();
        assert_eq!(r.excess, Yen(11_600));
        assert!(r.amounts[3..].iter().all(|a| a.is_zero()));
        let all_fixed = recalculate(Yen(50_000), 2, &yen(&[14_000, 13_800]), &rules()).unwrap();
        assert_eq!(all_fixed.unallocated, Yen(22_200));
        assert!(recalculate(Yen(50_000), 2, &yen(&[1, 2, 3]), &rules()).is_err());
    }

    // 12期 with 暫定額 in April to June (能美市
    // https://www.city.nomi.ishikawa.jp/www/contents/1001000000756/index.html; provisional
    // = 前年度額/12 truncated to 100円 as 南伊勢町 states,
    // https://www.town.minamiise.lg.jp/admin/shoshiki/zeimujumin/kenkouhoken/kokuhozei/3713.html):
    // July takes the remainder so that August to March are in 100円.
    #[test]
    fn twelve_period_variant_with_provisional_months() {
        let p = provisional_monthly(Yen(124_400), Yen(100)).unwrap();
        assert_eq!(p, Yen(10_300));
        let r = recalculate(Yen(130_000), 12, &[p, p, p], &rules()).unwrap();
        // 130,000 − 30,900 = 99,100 over 9: 11,011 → 11,000; July 11,100.
        assert_eq!(r.amounts[3], Yen(11_100));
        assert!(r.amounts[4..].iter().all(|a| *a == Yen(11_000)));
        assert_eq!(r.amounts.iter().sum::<Yen>(), Yen(130_000));
    }

    #[test]
    fn due_dates_come_from_the_settings_and_skip_closed_days() {
        let s = Settings::sample();
        let split = split(Yen(124_400), 9, &rules()).unwrap();
        let due = with_due_dates(
            &split.amounts,
            2023,
            &s.ordinary_collection,
            &s.business_calendar(),
        )
        .unwrap();
        let d = |x: &str| NaiveDate::parse_from_str(x, "%Y-%m-%d").unwrap();
        // 茅ヶ崎 R5 (rules.md §8): 9/30 Sat → 10/2; 12/31 → 1/4; 3/31 Sun → 4/1.
        assert_eq!(due[2].due_date, d("2023-10-02"));
        assert_eq!(due[5].due_date, d("2024-01-04"));
        assert_eq!(due[7].due_date, d("2024-02-29"));
        assert_eq!(due[8].due_date, d("2024-04-01"));
        assert_eq!(due[0].ordinance_due_date, d("2023-07-31"));
        assert!(
            with_due_dates(
                &split.amounts[..3],
                2023,
                &s.ordinary_collection,
                &s.business_calendar()
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn installments_sum_to_the_annual_amount(
            annual in 0i64..5_000_000,
            periods in 1u32..=12,
            unit in prop::sample::select(vec![1i64, 10, 100, 1000]),
            last in any::<bool>(),
        ) {
            let rules = SplitRules {
                annual_unit: Yen(100),
                unit: Yen(unit),
                remainder_to: if last { RemainderPeriod::Last } else { RemainderPeriod::First },
            };
            let s = split(Yen(annual), periods, &rules).unwrap();
            prop_assert_eq!(s.amounts.iter().sum::<Yen>(), s.annual);
            prop_assert!(s.amounts.iter().all(|a| a.0 >= 0));
            prop_assert!(s.annual <= s.annual_input && s.annual_input.0 - s.annual.0 < 100);
            let index = if last { s.amounts.len() - 1 } else { 0 };
            for (i, a) in s.amounts.iter().enumerate() {
                if i != index {
                    prop_assert_eq!(a.0 % unit, 0);
                    prop_assert!(*a <= s.amounts[index]);
                }
            }
        }

        #[test]
        fn recalculated_installments_never_go_negative(
            annual in 0i64..2_000_000,
            fixed in prop::collection::vec(0i64..100_000, 0..9),
        ) {
            let fixed: Vec<Yen> = fixed.into_iter().map(Yen).collect();
            let r = recalculate(Yen(annual), 9, &fixed, &rules()).unwrap();
            prop_assert!(r.amounts.iter().all(|a| a.0 >= 0));
            prop_assert_eq!(r.amounts.len(), 9);
            let total: Yen = r.amounts.iter().sum();
            prop_assert_eq!(total - r.excess + r.unallocated, r.annual);
        }
    }
}
