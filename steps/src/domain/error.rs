//! The one error type of the domain calculators: every variant is a problem with the
//! caller's input, so front ends can map all of them to "bad arguments".

use chrono::NaiveDate;

/// A calculation could not be done because its input is wrong or outside the known data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An amount is below zero.
    #[error("{what} must not be negative (got {amount})")]
    NegativeAmount { what: &'static str, amount: i64 },
    /// An amount is beyond what any premium, fee or refund can be.
    #[error("{what} is too large ({amount} yen; at most {max} yen is accepted)")]
    AmountTooLarge {
        what: &'static str,
        amount: i64,
        max: i64,
    },
    /// A payment is dated before the due date it pays.
    #[error("the payment date {paid} is before the due date {due}")]
    PaidBeforeDue { paid: NaiveDate, due: NaiveDate },
    /// Two dates are in the wrong order.
    #[error("{later_what} ({later}) must not be before {earlier_what} ({earlier})")]
    DatesOutOfOrder {
        earlier_what: &'static str,
        earlier: NaiveDate,
        later_what: &'static str,
        later: NaiveDate,
    },
    /// No 延滞金 or 還付加算金 rate is known for a date.
    #[error(
        "no rate is known for {date}: the rate table covers {first} to {last} \
         (extend steps/data/rates.csv when the next year's rates are announced)"
    )]
    OutsideRateTable {
        date: NaiveDate,
        first: i32,
        last: i32,
    },
    /// The holiday table does not cover a date, so business days cannot be decided.
    #[error(
        "{date} is outside the holiday table, which covers {first} to {last} \
         (extend steps/data/holidays.csv from the Cabinet Office list)"
    )]
    OutsideHolidayTable {
        date: NaiveDate,
        first: NaiveDate,
        last: NaiveDate,
    },
    /// A 和暦 era name that is not one of the five modern eras.
    #[error("unknown era `{0}`: use 令和, 平成, 昭和, 大正 or 明治 (or R, H, S, T, M)")]
    UnknownEra(String),
    /// Text that cannot be read as a 和暦 date.
    #[error("`{text}` is not a valid 和暦 date: {reason}")]
    InvalidWareki { text: String, reason: String },
    /// A date outside the range a rule can handle (before 明治, or beyond year 9999).
    #[error("{date} is outside the supported range: {reason}")]
    DateOutOfRange {
        date: NaiveDate,
        reason: &'static str,
    },
    /// Any other invalid input, with a sentence saying what is wrong.
    #[error("{0}")]
    Invalid(String),
}
