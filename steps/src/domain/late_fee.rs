//! 延滞金: the late fee on one installment.
//!
//! Rules (rules.md §3; municipal ordinance modelled on 地方税法):
//! - Days run from the day after the 納期限 through the payment day.
//! - The lower rate applies until "納期限の翌日から起算して1か月 (or 3か月) を経過する日"
//!   (民法143条), the higher rate after it; the rates change every calendar year.
//! - Each segment: base × rate × days ÷ 365, even in leap years (小平市, 福岡市).
//! - The base: a principal under 2,000円 bears no fee; the principal is truncated to
//!   1,000円. A partial payment lowers the base from the day after its date (国税通則法62条,
//!   applied by the same rule); payments go to the principal first.
//! - The fee: fractions of a yen dropped (per segment where the ordinance says so), under
//!   1,000円 nothing, otherwise truncated to 100円.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::DomainError;
use super::calendar::{days_inclusive, next_day, period_end, ymd};
use super::money::Yen;
use super::rates::RateTable;
use super::settings::LateFeeSettings;

/// Days in a year for interest, even in leap years (地方税法 "年当たりの割合は、閏年の日を
/// 含む期間についても、365日当たりの割合とする").
pub const DAYS_IN_YEAR: i64 = 365;

/// A payment towards an installment's principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// The day it was paid.
    pub date: NaiveDate,
    /// The amount.
    pub amount: Yen,
}

/// What the late fee is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateFeeInput {
    /// The installment's principal (本料).
    pub principal: Yen,
    /// Its due date (納期限), already moved off closed days.
    pub due_date: NaiveDate,
    /// Payments towards the principal, in any order.
    pub payments: Vec<Payment>,
    /// The day to compute up to when the principal is not fully paid (the day of the
    /// calculation, or the day a full payment is expected).
    pub until: Option<NaiveDate>,
}

/// Which of the two rates a segment bears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RatePeriod {
    /// Up to the switch-over (年7.3% or its special rate).
    Within,
    /// After the switch-over (年14.6% or its special rate).
    After,
}

/// A stretch of days with one base, one rate and one calendar year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
    /// Number of days, both ends counted.
    pub days: i64,
    /// The base (remaining principal, truncated).
    pub base: Yen,
    /// Which rate applies.
    pub period: RatePeriod,
    /// The rate in percent per year.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// base × rate × days ÷ 365, truncated to whole yen when the settings say so and
    /// otherwise shown to two decimals (the total uses the exact value).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// The late fee on one installment, with every segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LateFee {
    /// The principal.
    pub principal: Yen,
    /// The due date.
    pub due_date: NaiveDate,
    /// The switch-over setting used, in months.
    pub switch_months: u32,
    /// The last day of the lower rate.
    pub switch_date: NaiveDate,
    /// The last day counted.
    pub end_date: NaiveDate,
    /// Principal still unpaid after the end date.
    pub unpaid_principal: Yen,
    /// Every segment that bears a fee, in date order; stretches whose remaining principal
    /// is under the minimum bear nothing and are left out.
    pub segments: Vec<Segment>,
    /// The sum of the segments before any rounding of the total.
    #[serde(with = "rust_decimal::serde::str")]
    pub exact_total: Decimal,
    /// The late fee to charge.
    pub late_fee: Yen,
}

/// Computes the late fee of one installment.
///
/// # Errors
/// [`DomainError::PaidBeforeDue`] for a payment before the due date,
/// [`DomainError::OutsideRateTable`] when a counted day has no known rate, and
/// [`DomainError`] for negative amounts, payments beyond the principal, or a missing or
/// early `until` date when the principal is not fully paid.
pub fn late_fee(
    input: &LateFeeInput,
    settings: &LateFeeSettings,
    rates: &RateTable,
) -> Result<LateFee, DomainError> {
    input.principal.validate("the principal")?;
    check_settings(settings)?;
    let mut payments = input.payments.clone();
    payments.sort_by_key(|p| p.date);
    for p in &payments {
        p.amount.validate("a payment")?;
        if p.date < input.due_date {
            return Err(DomainError::PaidBeforeDue {
                paid: p.date,
                due: input.due_date,
            });
        }
    }
    let paid: Yen = payments.iter().map(|p| p.amount).sum();
    if paid > input.principal {
        return Err(DomainError::Invalid(format!(
            "the payments ({}) exceed the principal ({}); apply the excess as an overpayment",
            paid.get(),
            input.principal.get()
        )));
    }
    let unpaid_principal = input.principal - paid;
    let end_date = match (unpaid_principal.is_zero(), input.until, payments.last()) {
        (true, _, Some(last)) => last.date,
        (true, _, None) => input.due_date,
        (false, Some(until), _) => {
            if let Some(last) = payments.last()
                && until < last.date
            {
                return Err(DomainError::DatesOutOfOrder {
                    earlier_what: "the last payment",
                    earlier: last.date,
                    later_what: "the calculation date",
                    later: until,
                });
            }
            if until < input.due_date {
                return Err(DomainError::DatesOutOfOrder {
                    earlier_what: "the due date",
                    earlier: input.due_date,
                    later_what: "the calculation date",
                    later: until,
                });
            }
            until
        }
        (false, None, _) => {
            return Err(DomainError::Invalid(format!(
                "{} of the principal is unpaid: give the date to compute up to",
                unpaid_principal.get()
            )));
        }
    };

    let start = next_day(input.due_date)?;
    let switch_date = period_end(start, settings.switch_months)?;
    let segments = if end_date < start {
        Vec::new()
    } else {
        segments(
            input.principal,
            &payments,
            start,
            end_date,
            switch_date,
            settings,
            rates,
        )?
    };
    let exact_total: Decimal = segments.iter().map(|s| s.exact).sum();
    let fee = round_total(exact_total, settings.minimum_fee, settings.fee_unit);
    Ok(LateFee {
        principal: input.principal,
        due_date: input.due_date,
        switch_months: settings.switch_months,
        switch_date,
        end_date,
        unpaid_principal,
        segments: segments.into_iter().map(|s| s.shown).collect(),
        exact_total,
        late_fee: fee,
    })
}

fn check_settings(settings: &LateFeeSettings) -> Result<(), DomainError> {
    if !(1..=12).contains(&settings.switch_months) {
        return Err(DomainError::Invalid(format!(
            "the late-fee switch-over must be 1 to 12 months (got {})",
            settings.switch_months
        )));
    }
    settings
        .minimum_principal
        .validate("the minimum principal")?;
    settings
        .principal_unit
        .validate_unit("the principal unit")?;
    settings.minimum_fee.validate("the minimum late fee")?;
    settings.fee_unit.validate_unit("the late-fee unit")?;
    Ok(())
}

/// Drops the fraction, then applies the minimum and the unit of a total (延滞金 and
/// 還付加算金 alike).
pub(crate) fn round_total(exact: Decimal, minimum: Yen, unit: Yen) -> Yen {
    let whole = Yen::from_decimal_floor(exact);
    if whole < minimum {
        Yen::ZERO
    } else {
        whole.floor_to(unit)
    }
}

/// Returns `base × rate% × days ÷ 365`.
pub(crate) fn interest(base: Yen, rate: Decimal, days: i64) -> Decimal {
    base.to_decimal() * rate * Decimal::from(days) / Decimal::from(100 * DAYS_IN_YEAR)
}

/// Returns the base of a remaining amount: nothing under the minimum, otherwise truncated.
pub(crate) fn base_of(remaining: Yen, minimum: Yen, unit: Yen) -> Yen {
    if remaining < minimum {
        Yen::ZERO
    } else {
        remaining.floor_to(unit)
    }
}

struct Computed {
    exact: Decimal,
    shown: Segment,
}

fn segments(
    principal: Yen,
    payments: &[Payment],
    start: NaiveDate,
    end: NaiveDate,
    switch_date: NaiveDate,
    settings: &LateFeeSettings,
    rates: &RateTable,
) -> Result<Vec<Computed>, DomainError> {
    // Segment starts: the first day, the day after the switch-over, every 1 January, and the
    // day after each payment (the base drops from then).
    let mut starts = vec![start, next_day(switch_date)?];
    for year in (start.year() + 1)..=end.year() {
        starts.push(ymd(year, 1, 1)?);
    }
    for p in payments {
        starts.push(next_day(p.date)?);
    }
    starts.retain(|d| (start..=end).contains(d));
    starts.sort();
    starts.dedup();

    let mut out = Vec::with_capacity(starts.len());
    for (i, &from) in starts.iter().enumerate() {
        let to = match starts.get(i + 1) {
            Some(next) => next.pred_opt().unwrap_or(*next),
            None => end,
        };
        let paid_before: Yen = payments
            .iter()
            .filter(|p| p.date < from)
            .map(|p| p.amount)
            .sum();
        let base = base_of(
            principal - paid_before,
            settings.minimum_principal,
            settings.principal_unit,
        );
        if base.is_zero() {
            continue;
        }
        let year_rates = rates.for_date(from)?;
        let (period, rate) = if from <= switch_date {
            (RatePeriod::Within, year_rates.late_fee_within)
        } else {
            (RatePeriod::After, year_rates.late_fee_after)
        };
        let days = days_inclusive(from, to);
        let mut exact = interest(base, rate, days);
        if settings.truncate_segments {
            exact = exact.trunc();
        }
        out.push(Computed {
            exact,
            shown: Segment {
                from,
                to,
                days,
                base,
                period,
                rate,
                amount: exact.round_dp_with_strategy(2, RoundingStrategy::ToZero),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::settings::Settings;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn settings(switch_months: u32, truncate_segments: bool) -> LateFeeSettings {
        LateFeeSettings {
            switch_months,
            truncate_segments,
            ..Settings::sample().late_fee
        }
    }

    fn paid_in_full(principal: i64, due: &str, paid: &str) -> LateFeeInput {
        LateFeeInput {
            principal: Yen(principal),
            due_date: d(due),
            payments: vec![Payment {
                date: d(paid),
                amount: Yen(principal),
            }],
            until: None,
        }
    }

    fn shape(fee: &LateFee) -> Vec<(NaiveDate, NaiveDate, i64, Decimal)> {
        fee.segments
            .iter()
            .map(|s| (s.from, s.to, s.days, s.rate))
            .collect()
    }

    // 品川区 (国保料, 3か月) https://www.city.shinagawa.tokyo.jp/PC/procedure/procedure-kenkouhoken/procedure-kenkouhoken-osamekata/hpg000022304.html
    // [re]: 100,000; 納期限 R3.4.30; paid R3.10.31 → 92d @2.5 = 630.13, 92d @8.8 = 2,218.08,
    // 2,848 → 2,800.
    #[test]
    fn shinagawa_three_month_example() {
        let fee = late_fee(
            &paid_in_full(100_000, "2021-04-30", "2021-10-31"),
            &settings(3, false),
            RateTable::official(),
        )
        .unwrap();
        assert_eq!(
            shape(&fee),
            [
                (d("2021-05-01"), d("2021-07-31"), 92, dec!(2.5)),
                (d("2021-08-01"), d("2021-10-31"), 92, dec!(8.8)),
            ]
        );
        assert_eq!(fee.segments[0].amount, dec!(630.13));
        assert_eq!(fee.segments[1].amount, dec!(2218.08));
        assert_eq!(Yen::from_decimal_floor(fee.exact_total), Yen(2_848));
        assert_eq!(fee.late_fee, Yen(2_800));
    }

    // 矢吹町 https://www.town.yabuki.fukushima.jp/faq.php?mode=detail&lc=0&c=26&code=26 [re]:
    // 64,300 → base 64,000; 納期限 R4.8.1; paid R4.11.1 → 8/2–9/1 31d @2.4 = 130,
    // 9/2–11/1 61d @8.7 = 930; 1,060 → 1,000 (矢吹町 drops yen fractions per segment).
    #[test]
    fn yabuki_one_month_example() {
        let fee = late_fee(
            &paid_in_full(64_300, "2022-08-01", "2022-11-01"),
            &settings(1, true),
            RateTable::official(),
        )
        .unwrap();
        assert_eq!(
            shape(&fee),
            [
                (d("2022-08-02"), d("2022-09-01"), 31, dec!(2.4)),
                (d("2022-09-02"), d("2022-11-01"), 61, dec!(8.7)),
            ]
        );
        assert!(fee.segments.iter().all(|s| s.base == Yen(64_000)));
        assert_eq!(fee.segments[0].amount, dec!(130));
        assert_eq!(fee.segments[1].amount, dec!(930));
        assert_eq!(fee.exact_total, dec!(1060));
        assert_eq!(fee.late_fee, Yen(1_000));
    }

    // 東かがわ市 https://www.higashikagawa.jp/kurashinojoho/zeikin/nofu/2253.html [re]:
    // 250,000; 納期限 H29.5.1; paid H29.7.10 → 31d @2.7 = 573, 39d @9.0 = 2,404; 2,977 → 2,900.
    #[test]
    fn higashikagawa_example() {
        for truncate in [false, true] {
            let fee = late_fee(
                &paid_in_full(250_000, "2017-05-01", "2017-07-10"),
                &settings(1, truncate),
                RateTable::official(),
            )
            .unwrap();
            let days: Vec<i64> = fee.segments.iter().map(|s| s.days).collect();
            assert_eq!(days, [31, 39]);
            assert_eq!(Yen::from_decimal_floor(fee.segments[0].amount), Yen(573));
            assert_eq!(Yen::from_decimal_floor(fee.segments[1].amount), Yen(2_404));
            assert_eq!(fee.late_fee, Yen(2_900));
        }
    }

    // 豊橋市 https://www.city.toyohashi.lg.jp/dd.aspx?menuid=10874 (stored copy via
    // www-city-toyohashi-lg-jp.cache.yimg.jp) [pub]: 65,000; 納期限 R3.5.31; paid R4.1.31 →
    // 6/1–6/30 30d @2.5 = 133, 7/1–12/31 184d @8.8 = 2,883, 2022 1/1–1/31 31d @8.7 = 480
    // (each segment truncated to the yen); 3,496 → 3,400. It crosses a year end.
    #[test]
    fn toyohashi_example_across_the_year_end() {
        let fee = late_fee(
            &paid_in_full(65_000, "2021-05-31", "2022-01-31"),
            &settings(1, true),
            RateTable::official(),
        )
        .unwrap();
        assert_eq!(
            shape(&fee),
            [
                (d("2021-06-01"), d("2021-06-30"), 30, dec!(2.5)),
                (d("2021-07-01"), d("2021-12-31"), 184, dec!(8.8)),
                (d("2022-01-01"), d("2022-01-31"), 31, dec!(8.7)),
            ]
        );
        let amounts: Vec<Decimal> = fee.segments.iter().map(|s| s.amount).collect();
        assert_eq!(amounts, [dec!(133), dec!(2883), dec!(480)]);
        assert_eq!(fee.exact_total, dec!(3496));
        assert_eq!(fee.late_fee, Yen(3_400));
    }

    // 福岡市 FAQ https://www.city.fukuoka.lg.jp/zaisei/zeisei/qa/FAQ3274.html [pub, partly]:
    // 152,500 → 152,000; 納期限 R7.9.1; paid R8.2.5; ① 令和7年9月2日〜10月1日 30日間. The
    // stored copy of the page stops there; the other segments follow the same rule with
    // the 2025 and 2026 rates: 10/2–12/31 91d @8.7 = 3,296, 2026 1/1–2/5 36d @9.1 = 1,364,
    // ① @2.4 = 299; 4,959 → 4,900 (福岡市 truncates each segment).
    #[test]
    fn fukuoka_example() {
        let fee = late_fee(
            &paid_in_full(152_500, "2025-09-01", "2026-02-05"),
            &settings(1, true),
            RateTable::official(),
        )
        .unwrap();
        assert_eq!(fee.segments[0].base, Yen(152_000));
        assert_eq!(
            shape(&fee),
            [
                (d("2025-09-02"), d("2025-10-01"), 30, dec!(2.4)),
                (d("2025-10-02"), d("2025-12-31"), 91, dec!(8.7)),
                (d("2026-01-01"), d("2026-02-05"), 36, dec!(9.1)),
            ]
        );
        assert_eq!(fee.exact_total, dec!(4959));
        assert_eq!(fee.late_fee, Yen(4_900));
    }

    #[test]
    fn thresholds_and_truncation() {
        let s = settings(1, false);
        // Under 2,000円 of principal: no fee at all.
        let fee = late_fee(
            &paid_in_full(1_999, "2022-08-01", "2025-08-01"),
            &s,
            RateTable::official(),
        )
        .unwrap();
        assert!(fee.segments.is_empty());
        assert_eq!(fee.late_fee, Yen(0));
        // A fee under 1,000円 is not charged.
        let fee = late_fee(
            &paid_in_full(10_000, "2022-08-01", "2022-10-01"),
            &s,
            RateTable::official(),
        )
        .unwrap();
        assert!(fee.exact_total > Decimal::ZERO);
        assert_eq!(fee.late_fee, Yen(0));
        // Paid on the due date: no late days.
        let fee = late_fee(
            &paid_in_full(100_000, "2022-08-01", "2022-08-01"),
            &s,
            RateTable::official(),
        )
        .unwrap();
        assert!(fee.segments.is_empty());
    }

    // A period across the year end splits at 1 January, because the rates are set per
    // calendar year (2025: 2.4/8.7, 2026: 2.8/9.1).
    #[test]
    fn segments_split_at_the_year_end() {
        let fee = late_fee(
            &paid_in_full(100_000, "2025-11-30", "2026-02-28"),
            &settings(1, false),
            RateTable::official(),
        )
        .unwrap();
        assert_eq!(
            shape(&fee),
            [
                (d("2025-12-01"), d("2025-12-31"), 31, dec!(2.4)),
                (d("2026-01-01"), d("2026-02-28"), 59, dec!(9.1)),
            ]
        );
        // The switch-over day is 12/31 (起算 12/1 + 1 month → 12/31), so January is "after".
        assert_eq!(fee.switch_date, d("2025-12-31"));
        assert_eq!(fee.segments[1].period, RatePeriod::After);
    }

    // Partial payments lower the base from the day after they are made (国税通則法62条
    // https://iuris.jp/国税通則法-第六十二条-一部納付が行なわれた場合の延滞税の額の計算等/jpn/a/31838).
    #[test]
    fn partial_payments_lower_the_base_from_the_next_day() {
        let input = LateFeeInput {
            principal: Yen(100_000),
            due_date: d("2022-08-01"),
            payments: vec![
                Payment {
                    date: d("2022-12-31"),
                    amount: Yen(50_000),
                },
                Payment {
                    date: d("2022-10-15"),
                    amount: Yen(30_500),
                },
            ],
            until: Some(d("2023-03-31")),
        };
        let fee = late_fee(&input, &settings(1, false), RateTable::official()).unwrap();
        let bases: Vec<(NaiveDate, i64)> = fee
            .segments
            .iter()
            .map(|s| (s.from, s.base.get()))
            .collect();
        assert_eq!(
            bases,
            [
                (d("2022-08-02"), 100_000),
                (d("2022-09-02"), 100_000),
                (d("2022-10-16"), 69_000),
                (d("2023-01-01"), 19_000),
            ]
        );
        assert_eq!(fee.unpaid_principal, Yen(19_500));
        assert_eq!(fee.end_date, d("2023-03-31"));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let s = settings(1, false);
        let rates = RateTable::official();
        assert!(matches!(
            late_fee(
                &paid_in_full(100_000, "2022-08-01", "2022-07-31"),
                &s,
                rates
            ),
            Err(DomainError::PaidBeforeDue { .. })
        ));
        assert!(matches!(
            late_fee(&paid_in_full(-5, "2022-08-01", "2022-09-30"), &s, rates),
            Err(DomainError::NegativeAmount { .. })
        ));
        assert!(matches!(
            late_fee(
                &paid_in_full(100_000, "2026-11-30", "2027-02-01"),
                &s,
                rates
            ),
            Err(DomainError::OutsideRateTable { .. })
        ));
        let unpaid = LateFeeInput {
            principal: Yen(100_000),
            due_date: d("2022-08-01"),
            payments: vec![],
            until: None,
        };
        assert!(late_fee(&unpaid, &s, rates).is_err());
        let too_much = LateFeeInput {
            payments: vec![Payment {
                date: d("2022-09-01"),
                amount: Yen(100_001),
            }],
            ..unpaid
        };
        assert!(late_fee(&too_much, &s, rates).is_err());
    }

    proptest! {
        // The fee never falls when the payment comes later.
        #[test]
        fn late_fee_is_monotone_in_days(
            principal in 0i64..3_000_000,
            due_offset in 0i64..7_300,
            days in 0i64..1_500,
            more in 0i64..400,
            switch_three in any::<bool>(),
            truncate in any::<bool>(),
        ) {
            let due = d("2000-01-01") + chrono::Duration::days(due_offset);
            let paid = due + chrono::Duration::days(days);
            let later = paid + chrono::Duration::days(more);
            let s = settings(if switch_three { 3 } else { 1 }, truncate);
            let fee = |p: NaiveDate| {
                late_fee(&paid_in_full(principal, &due.to_string(), &p.to_string()), &s, RateTable::official())
                    .unwrap()
            };
            let (a, b) = (fee(paid), fee(later));
            prop_assert!(a.late_fee <= b.late_fee);
            prop_assert!(a.exact_total <= b.exact_total);
            prop_assert!(a.late_fee.0 % 100 == 0 && a.late_fee.0 >= 0);
            let counted: i64 = a.segments.iter().map(|s| s.days).sum();
            prop_assert!(counted == days || a.segments.is_empty());
        }
    }
}
