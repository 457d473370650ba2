//! Premium, collection and arrears rules as plain, tested functions.
//!
//! Every function here is pure: dates are passed in by the caller (there is no clock),
//! amounts are whole yen ([`money::Yen`]), rates are decimals, and every municipal choice
//! comes from [`settings::Settings`]. The rules, their legal basis and the settings that
//! steer them are described in `docs/calculations.md`.

pub mod appropriation;
pub mod calendar;
pub mod demand;
pub mod error;
pub mod installments;
pub mod late_fee;
pub mod money;
pub mod pension_deduction;
pub mod prescription;
pub mod proration;
pub mod rates;
pub mod refund_interest;
pub mod settings;
pub mod wareki;

pub use error::DomainError;
pub use money::Yen;
