//! Amounts of money in whole yen.
//!
//! Premiums, fees and refunds are whole yen and every rounding rule in the ordinances
//! truncates to a unit (1円, 100円, 1,000円), so an integer newtype is exact; floats are
//! never used for money.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// An amount of money in whole yen.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Yen(pub i64);

impl Yen {
    /// Zero yen.
    pub const ZERO: Self = Self(0);
    /// The largest amount accepted as input (1兆円); it keeps every product of an amount,
    /// a rate and a day count far inside the range of `i64` and `Decimal`.
    pub const MAX_INPUT: Self = Self(1_000_000_000_000);

    /// Returns the amount as a plain integer.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Returns whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Returns the amount truncated down to a multiple of `unit` (端数切捨て).
    ///
    /// A unit of 1円 or less leaves the amount unchanged. Amounts are never negative in
    /// practice; for negative amounts the result is rounded towards negative infinity so
    /// that `x - x.floor_to(u)` is always in `0..u`.
    #[must_use]
    pub const fn floor_to(self, unit: Self) -> Self {
        if unit.0 <= 1 {
            self
        } else {
            Self(self.0 - self.0.rem_euclid(unit.0))
        }
    }

    /// Returns the amount as a decimal, for multiplication by rates.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from(self.0)
    }

    /// Returns the whole yen of a decimal amount, dropping the fraction (円未満切捨て).
    ///
    /// Values beyond the range of `i64` cannot come out of validated inputs; they saturate.
    pub fn from_decimal_floor(value: Decimal) -> Self {
        let floored = value.floor();
        Self(
            i64::try_from(floored).unwrap_or(if floored.is_sign_negative() {
                i64::MIN
            } else {
                i64::MAX
            }),
        )
    }

    /// Checks that an input amount is neither negative nor absurdly large.
    ///
    /// # Errors
    /// [`DomainError::NegativeAmount`] or [`DomainError::AmountTooLarge`], naming `what`.
    pub fn validate(self, what: &'static str) -> Result<Self, DomainError> {
        if self.0 < 0 {
            Err(DomainError::NegativeAmount {
                what,
                amount: self.0,
            })
        } else if self > Self::MAX_INPUT {
            Err(DomainError::AmountTooLarge {
                what,
                amount: self.0,
                max: Self::MAX_INPUT.0,
            })
        } else {
            Ok(self)
        }
    }

    /// Checks that a unit of rounding is at least 1円.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] when the unit is zero or negative.
    pub fn validate_unit(self, what: &'static str) -> Result<Self, DomainError> {
        if self.0 >= 1 && self <= Self::MAX_INPUT {
            Ok(self)
        } else {
            Err(DomainError::Invalid(format!(
                "{what} must be a whole number of yen of at least 1 (got {})",
                self.0
            )))
        }
    }
}

impl Add for Yen {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl AddAssign for Yen {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl Sub for Yen {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl SubAssign for Yen {
    fn sub_assign(&mut self, rhs: Self) {
        self.0 -= rhs.0;
    }
}

impl Sum for Yen {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Yen> for Yen {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl fmt::Display for Yen {
    /// Writes the amount with thousands separators and 円, as printed on notices: `124,400円`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped}円")
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn floor_to_truncates_to_the_unit() {
        assert_eq!(Yen(124_450).floor_to(Yen(100)), Yen(124_400));
        assert_eq!(Yen(64_300).floor_to(Yen(1000)), Yen(64_000));
        assert_eq!(Yen(999).floor_to(Yen(1000)), Yen(0));
        assert_eq!(Yen(1234).floor_to(Yen(1)), Yen(1234));
        assert_eq!(Yen(-150).floor_to(Yen(100)), Yen(-200));
    }

    #[test]
    fn decimal_amounts_drop_the_fraction() {
        assert_eq!(Yen::from_decimal_floor(dec!(630.1369)), Yen(630));
        assert_eq!(Yen::from_decimal_floor(dec!(0.99)), Yen(0));
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Yen(124_400).to_string(), "124,400円");
        assert_eq!(Yen(800).to_string(), "800円");
        assert_eq!(Yen(1_000_000).to_string(), "1,000,000円");
        assert_eq!(Yen(-1500).to_string(), "-1,500円");
    }

    #[test]
    fn validation_rejects_negative_and_huge_amounts() {
        assert!(Yen(0).validate("x").is_ok());
        assert_eq!(
            Yen(-1).validate("annual amount"),
            Err(DomainError::NegativeAmount {
                what: "annual amount",
                amount: -1
            })
        );
        assert!(Yen(Yen::MAX_INPUT.0 + 1).validate("x").is_err());
        assert!(Yen(0).validate_unit("unit").is_err());
    }
}
