//! 還付加算金: interest added to a refund (or an appropriation) of an overpayment.
//!
//! Rules (rules.md §5; 地方税法17条の4, applied "地方税の例により" by the municipal rule):
//! - Counting starts the day after a day that depends on why the money was overpaid:
//!   過納 by a 更正・賦課決定 → the payment day (or the due date, when paid before it);
//!   誤納 → "納付日の翌日から起算して1月を経過する日"; 更正の請求 → the earlier of
//!   "請求日の翌日から起算して3月を経過する日" and "更正日の翌日から起算して1月を経過する日".
//! - Counting ends on the day the refund payment is decided (支出決定日) or the
//!   appropriation is made, or the earlier day the appropriation became possible (充当適状).
//! - Days after 30 days from a refund notice, while no refund is claimed, are excluded
//!   (17条の4②).
//! - The refund is truncated to 1,000円 (none under 2,000円); interest = base × rate × days
//!   ÷ 365 by calendar year, fraction dropped, none under 1,000円, truncated to 100円.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::DomainError;
use super::calendar::{add_days, days_inclusive, next_day, period_end, ymd};
use super::late_fee::{base_of, interest, round_total};
use super::money::Yen;
use super::rates::RateTable;
use super::settings::RefundInterestSettings;

/// Why the money was overpaid, which decides when interest starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverpaymentKind {
    /// 過納: the amount was lowered by a 更正・賦課決定 after it was paid (17条の4①1号).
    Overpaid,
    /// 誤納: paid without any amount being due, such as a double payment (17条の4①4号).
    Erroneous,
    /// 過納 after a 更正の請求 (17条の4①2号).
    CorrectionRequest,
}

impl OverpaymentKind {
    /// Every kind with its command-line name, for parsing.
    pub const ALL: [(&'static str, Self); 3] = [
        ("overpaid", Self::Overpaid),
        ("erroneous", Self::Erroneous),
        ("correction-request", Self::CorrectionRequest),
    ];
}

/// What the interest is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefundInterestInput {
    /// The amount refunded or appropriated.
    pub amount: Yen,
    /// Why it was overpaid.
    pub kind: OverpaymentKind,
    /// The day it was paid.
    pub paid: NaiveDate,
    /// The due date of what was paid, used when it was paid early (過納 only).
    pub due_date: Option<NaiveDate>,
    /// The day the 更正の請求 was made (correction requests only).
    pub requested: Option<NaiveDate>,
    /// The day of the 更正 (correction requests only).
    pub corrected: Option<NaiveDate>,
    /// The day the refund payment was decided, or the appropriation was made.
    pub decided: NaiveDate,
    /// The day the appropriation became possible (充当適状), when earlier than `decided`.
    pub appropriation_ready: Option<NaiveDate>,
    /// The day a refund notice was sent.
    pub notice_sent: Option<NaiveDate>,
    /// The day the refund was claimed after the notice.
    pub claimed: Option<NaiveDate>,
}

/// One stretch of counted days within one calendar year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterestSegment {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
    /// Number of days.
    pub days: i64,
    /// The base.
    pub base: Yen,
    /// The rate in percent per year.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// base × rate × days ÷ 365, shown to two decimals.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A range of days excluded from counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// First excluded day.
    pub from: NaiveDate,
    /// Last excluded day.
    pub to: NaiveDate,
}

/// The interest on one refund, with every segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefundInterest {
    /// The amount refunded.
    pub amount: Yen,
    /// The base after truncation (zero under the minimum).
    pub base: Yen,
    /// Why it was overpaid.
    pub kind: OverpaymentKind,
    /// The first day counted.
    pub start_date: NaiveDate,
    /// The last day counted.
    pub end_date: NaiveDate,
    /// Days excluded after an unclaimed refund notice.
    pub excluded: Option<Excluded>,
    /// Every segment, in date order.
    pub segments: Vec<InterestSegment>,
    /// The sum of the segments before rounding.
    #[serde(with = "rust_decimal::serde::str")]
    pub exact_total: Decimal,
    /// The interest to add.
    pub refund_interest: Yen,
}

/// Computes the 還付加算金 of one refund.
///
/// # Errors
/// [`DomainError`] for a negative amount, dates in the wrong order, missing dates of a
/// correction request, or days without a known rate.
pub fn refund_interest(
    input: &RefundInterestInput,
    settings: &RefundInterestSettings,
    rates: &RateTable,
) -> Result<RefundInterest, DomainError> {
    input.amount.validate("the refund amount")?;
    settings.minimum_amount.validate("the minimum refund")?;
    settings.amount_unit.validate_unit("the refund unit")?;
    settings.minimum_interest.validate("the minimum interest")?;
    settings.interest_unit.validate_unit("the interest unit")?;
    if input.decided < input.paid {
        return Err(DomainError::DatesOutOfOrder {
            earlier_what: "the payment",
            earlier: input.paid,
            later_what: "the refund decision",
            later: input.decided,
        });
    }
    let anchor = match input.kind {
        OverpaymentKind::Overpaid => match input.due_date {
            Some(due) if settings.count_from_due_when_paid_early && input.paid < due => due,
            _ => input.paid,
        },
        OverpaymentKind::Erroneous => period_end(next_day(input.paid)?, 1)?,
        OverpaymentKind::CorrectionRequest => {
            let (Some(requested), Some(corrected)) = (input.requested, input.corrected) else {
                return Err(DomainError::Invalid(
                    "a correction request needs the day it was requested and the day of the 更正"
                        .to_owned(),
                ));
            };
            if corrected < requested {
                return Err(DomainError::DatesOutOfOrder {
                    earlier_what: "the correction request",
                    earlier: requested,
                    later_what: "the 更正",
                    later: corrected,
                });
            }
            period_end(next_day(requested)?, 3)?.min(period_end(next_day(corrected)?, 1)?)
        }
    };
    let start_date = next_day(anchor)?;
    let end_date = input
        .appropriation_ready
        .map_or(input.decided, |ready| ready.min(input.decided));

    let excluded = match input.notice_sent {
        Some(sent) => {
            let last_counted = add_days(sent, u64::from(settings.unclaimed_notice_days))?;
            match input.claimed {
                Some(claimed) if claimed <= last_counted => None,
                claimed => Some(Excluded {
                    from: next_day(last_counted)?,
                    to: claimed.unwrap_or(end_date).min(end_date),
                }),
            }
        }
        None => None,
    }
    .filter(|e| e.from <= e.to);

    let base = base_of(input.amount, settings.minimum_amount, settings.amount_unit);
    let mut ranges = Vec::new();
    if start_date <= end_date && !base.is_zero() {
        match excluded {
            Some(e) if e.to >= start_date && e.from <= end_date => {
                if e.from > start_date {
                    ranges.push((start_date, e.from.pred_opt().unwrap_or(e.from)));
                }
                if e.to < end_date {
                    ranges.push((next_day(e.to)?, end_date));
                }
            }
            _ => ranges.push((start_date, end_date)),
        }
    }
    let mut segments = Vec::new();
    let mut exact_total = Decimal::ZERO;
    for (from, to) in ranges {
        for (seg_from, seg_to) in split_by_year(from, to)? {
            let rate = rates.for_date(seg_from)?.refund_interest;
            let days = days_inclusive(seg_from, seg_to);
            let exact = interest(base, rate, days);
            exact_total += exact;
            segments.push(InterestSegment {
                from: seg_from,
                to: seg_to,
                days,
                base,
                rate,
                amount: exact.round_dp_with_strategy(2, RoundingStrategy::ToZero),
            });
        }
    }
    Ok(RefundInterest {
        amount: input.amount,
        base,
        kind: input.kind,
        start_date,
        end_date,
        excluded,
        segments,
        exact_total,
        refund_interest: round_total(
            exact_total,
            settings.minimum_interest,
            settings.interest_unit,
        ),
    })
}

fn split_by_year(
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate)>, DomainError> {
    let mut out = Vec::new();
    let mut start = from;
    while start.year() < to.year() {
        let year_end = ymd(start.year(), 12, 31)?;
        out.push((start, year_end));
        start = next_day(year_end)?;
    }
    out.push((start, to));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::settings::Settings;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn input(amount: i64, kind: OverpaymentKind, paid: &str, decided: &str) -> RefundInterestInput {
        RefundInterestInput {
            amount: Yen(amount),
            kind,
            paid: d(paid),
            due_date: None,
            requested: None,
            corrected: None,
            decided: d(decided),
            appropriation_ready: None,
            notice_sent: None,
            claimed: None,
        }
    }

    fn run(i: &RefundInterestInput) -> RefundInterest {
        refund_interest(
            i,
            &Settings::sample().refund_interest,
            RateTable::official(),
        )
        .unwrap()
    }

    // rules.md §5 [der] (rates: 広島市 http://www.city.hiroshima.lg.jp/site/shizei-nouhu/2139.html,
    // 日野市 https://www.city.hino.lg.jp/kurashi/zei/oshirase/1002732.html; rounding: 中野区
    // http://www.city.tokyo-nakano.lg.jp/kurashi/koukikourei/0686369820231225105516747.html):
    // 過納 152,800 (base 152,000) paid 2025-07-31, 支出決定 2026-03-31 → 153d @0.9 = 573.43,
    // 90d @1.3 = 487.23, 1,060 → 1,000円. The same with 25,300 → 174 → 0円.
    #[test]
    fn overpayment_example() {
        let r = run(&input(
            152_800,
            OverpaymentKind::Overpaid,
            "2025-07-31",
            "2026-03-31",
        ));
        assert_eq!(r.base, Yen(152_000));
        assert_eq!(r.start_date, d("2025-08-01"));
        let seg: Vec<_> = r
            .segments
            .iter()
            .map(|s| (s.days, s.rate, s.amount))
            .collect();
        assert_eq!(
            seg,
            [
                (153, dec!(0.9), dec!(573.43)),
                (90, dec!(1.3), dec!(487.23))
            ]
        );
        assert_eq!(Yen::from_decimal_floor(r.exact_total), Yen(1_060));
        assert_eq!(r.refund_interest, Yen(1_000));

        let small = run(&input(
            25_300,
            OverpaymentKind::Overpaid,
            "2025-07-31",
            "2026-03-31",
        ));
        assert_eq!(Yen::from_decimal_floor(small.exact_total), Yen(174));
        assert_eq!(small.refund_interest, Yen(0));
    }

    #[test]
    fn refunds_under_2000_yen_bear_nothing() {
        let r = run(&input(
            1_999,
            OverpaymentKind::Overpaid,
            "2020-01-31",
            "2026-03-31",
        ));
        assert_eq!(r.base, Yen(0));
        assert!(r.segments.is_empty());
    }

    // 誤納: counting starts the day after "納付日の翌日から起算して1月を経過する日"
    // (17条の4①4号; 宮前 https://miyamae-portal.net/public_info/00000066435/?cat=153016&cmd=faq).
    #[test]
    fn erroneous_payments_wait_one_month() {
        let r = run(&input(
            100_000,
            OverpaymentKind::Erroneous,
            "2025-07-31",
            "2026-03-31",
        ));
        // 起算 8/1, one month elapses 8/31, counting from 9/1.
        assert_eq!(r.start_date, d("2025-09-01"));
        assert_eq!(r.segments[0].days, 122);
    }

    // 更正の請求: the earlier of 請求日+1 → 3か月 and 更正日+1 → 1か月 (日野市).
    #[test]
    fn correction_requests_take_the_earlier_day() {
        let mut i = input(
            100_000,
            OverpaymentKind::CorrectionRequest,
            "2025-05-31",
            "2026-03-31",
        );
        i.requested = Some(d("2025-06-10"));
        i.corrected = Some(d("2025-07-20"));
        // 3 months from 6/11 end 9/10; 1 month from 7/21 ends 8/20 → counting from 8/21.
        assert_eq!(run(&i).start_date, d("2025-08-21"));
        i.corrected = Some(d("2025-09-30"));
        assert_eq!(run(&i).start_date, d("2025-09-11"));
        i.requested = None;
        assert!(
            refund_interest(
                &i,
                &Settings::sample().refund_interest,
                RateTable::official()
            )
            .is_err()
        );
    }

    #[test]
    fn early_payments_count_from_the_due_date() {
        let mut i = input(
            100_000,
            OverpaymentKind::Overpaid,
            "2025-07-10",
            "2026-03-31",
        );
        i.due_date = Some(d("2025-07-31"));
        assert_eq!(run(&i).start_date, d("2025-08-01"));
        let mut s = Settings::sample().refund_interest;
        s.count_from_due_when_paid_early = false;
        let r = refund_interest(&i, &s, RateTable::official()).unwrap();
        assert_eq!(r.start_date, d("2025-07-11"));
    }

    // The end is the earlier of the decision and the day appropriation became possible
    // (17条の4①; https://taru-masaki.hatenablog.com/entry/2014/07/30/191411).
    #[test]
    fn appropriation_readiness_ends_counting() {
        let mut i = input(
            100_000,
            OverpaymentKind::Overpaid,
            "2025-07-31",
            "2026-03-31",
        );
        i.appropriation_ready = Some(d("2025-10-15"));
        let r = run(&i);
        assert_eq!(r.end_date, d("2025-10-15"));
        assert_eq!(r.segments.iter().map(|s| s.days).sum::<i64>(), 76);
    }

    // 17条の4②1号: notice sent, no claim within 30 days → the days from the day after the
    // 30th day to the claim day are excluded.
    #[test]
    fn unclaimed_days_after_a_notice_are_excluded() {
        let mut i = input(
            100_000,
            OverpaymentKind::Overpaid,
            "2025-07-31",
            "2026-03-31",
        );
        i.notice_sent = Some(d("2025-09-01"));
        i.claimed = Some(d("2025-11-30"));
        let r = run(&i);
        assert_eq!(
            r.excluded,
            Some(Excluded {
                from: d("2025-10-02"),
                to: d("2025-11-30")
            })
        );
        let days: Vec<i64> = r.segments.iter().map(|s| s.days).collect();
        // 8/1–10/1 = 62, 12/1–12/31 = 31, 2026 1/1–3/31 = 90.
        assert_eq!(days, [62, 31, 90]);
        i.claimed = Some(d("2025-09-20"));
        assert_eq!(run(&i).excluded, None);
        i.claimed = None;
        let never = run(&i);
        assert_eq!(
            never.excluded,
            Some(Excluded {
                from: d("2025-10-02"),
                to: d("2026-03-31")
            })
        );
        assert_eq!(never.segments.iter().map(|s| s.days).sum::<i64>(), 62);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let s = Settings::sample().refund_interest;
        let rates = RateTable::official();
        let early = input(
            100_000,
            OverpaymentKind::Overpaid,
            "2025-07-31",
            "2025-07-01",
        );
        assert!(matches!(
            refund_interest(&early, &s, rates),
            Err(DomainError::DatesOutOfOrder { .. })
        ));
        let negative = input(-1, OverpaymentKind::Overpaid, "2025-07-31", "2026-03-31");
        assert!(matches!(
            refund_interest(&negative, &s, rates),
            Err(DomainError::NegativeAmount { .. })
        ));
        let beyond = input(
            100_000,
            OverpaymentKind::Overpaid,
            "2026-07-31",
            "2027-03-31",
        );
        assert!(matches!(
            refund_interest(&beyond, &s, rates),
            Err(DomainError::OutsideRateTable { .. })
        ));
    }
}
