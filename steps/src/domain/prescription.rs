//! 時効 and 執行停止: when a premium claim or a refund right is extinguished.
//!
//! Rules (rules.md §7):
//! - 法160条1項: the right to collect and the right to a refund are prescribed after 2 years
//!   "from when they can be exercised". A claim can be exercised from the day after its
//!   納期限, which is counted as the first day (it starts at midnight, 民法140条ただし書);
//!   so a claim due 2023-07-31 is prescribed at the end of 2025-07-31.
//! - 法160条2項: a 督促 renews the period (時効の更新). When the renewal takes effect is set
//!   by `demand_renewal_days` (地方税法18条の2①2号, "督促状を発した日から起算して10日を
//!   経過した日", applied "地方税の例により"); an acknowledgement (承認: a partial payment,
//!   a 分納誓約) renews it on its own day. The new period counts from the next day
//!   (民法140条本文). Neither point is confirmed for 後期 in the sources.
//! - A renewal after the period has run out does nothing: public claims are extinguished
//!   without invocation (地方自治法236条2項).
//! - 地方税法15条の7④: a debt whose enforcement has been suspended (執行停止) for 3 years in
//!   a row is extinguished; the time limit keeps running during the suspension.

use chrono::NaiveDate;
use serde::Serialize;

use super::DomainError;
use super::calendar::{add_days, fiscal_year, next_day, period_end};
use super::settings::PrescriptionSettings;

/// An event that renews the time limit of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "date", rename_all = "kebab-case")]
pub enum Renewal {
    /// A 督促状 sent on this date.
    DemandSent(NaiveDate),
    /// An acknowledgement of the debt on this date (partial payment, 分納誓約).
    Acknowledged(NaiveDate),
}

/// One renewal and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenewalOutcome {
    /// The event.
    pub event: Renewal,
    /// The day the renewal takes effect.
    pub renewed_on: NaiveDate,
    /// Whether it renewed the period (false when the claim was already prescribed).
    pub applied: bool,
}

/// When a 執行停止 extinguishes the debt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnforcementSuspension {
    /// The day enforcement was suspended.
    pub suspended_on: NaiveDate,
    /// The first day the debt no longer exists, if the suspension is never lifted.
    pub extinguished_on: NaiveDate,
}

/// Why a debt ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// The time limit ran out (時効).
    Prescription,
    /// Three years of 執行停止.
    EnforcementSuspension,
}

/// When a premium claim ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimPrescription {
    /// The due date.
    pub due_date: NaiveDate,
    /// The first day of the last running period.
    pub counting_from: NaiveDate,
    /// Every renewal given, in date order.
    pub renewals: Vec<RenewalOutcome>,
    /// The claim is prescribed at the end of this day.
    pub prescribed_at_end_of: NaiveDate,
    /// The first day the claim no longer exists by prescription.
    pub extinguished_on: NaiveDate,
    /// The 執行停止, when one was given.
    pub enforcement_suspension: Option<EnforcementSuspension>,
    /// The first day the debt no longer exists, by whichever comes first.
    pub debt_ends_on: NaiveDate,
    /// Which rule ends it.
    pub ended_by: EndReason,
    /// The fiscal year in which the 不納欠損 can be booked.
    pub write_off_fiscal_year: i32,
}

/// Returns when a premium claim is prescribed, and when the debt ends.
///
/// # Errors
/// [`DomainError::Invalid`] for a 督促状 sent on or before the due date, or a suspension
/// before it; [`DomainError`] for dates beyond the calendar or bad settings.
pub fn claim_prescription(
    due_date: NaiveDate,
    renewals: &[Renewal],
    suspended_on: Option<NaiveDate>,
    settings: &PrescriptionSettings,
) -> Result<ClaimPrescription, DomainError> {
    let months = period_months(settings.years, "the prescription period")?;
    let mut counting_from = next_day(due_date)?;
    let mut end = period_end(counting_from, months)?;
    let mut events = renewals.to_vec();
    events.sort_by_key(|r| match r {
        Renewal::DemandSent(d) | Renewal::Acknowledged(d) => *d,
    });
    let mut outcomes = Vec::with_capacity(events.len());
    for event in events {
        let renewed_on = match event {
            Renewal::DemandSent(sent) => {
                if sent <= due_date {
                    return Err(DomainError::Invalid(format!(
                        "a 督促状 can only be sent after the due date {due_date} has passed (got {sent})"
                    )));
                }
                add_days(sent, u64::from(settings.demand_renewal_days))?
            }
            Renewal::Acknowledged(date) => date,
        };
        // Renewals before the claim can be exercised or after it is prescribed do nothing.
        let applied = renewed_on >= counting_from && renewed_on <= end;
        if applied {
            counting_from = next_day(renewed_on)?;
            end = period_end(counting_from, months)?;
        }
        outcomes.push(RenewalOutcome {
            event,
            renewed_on,
            applied,
        });
    }
    let extinguished_on = next_day(end)?;
    let enforcement_suspension = match suspended_on {
        Some(date) => {
            if date <= due_date {
                return Err(DomainError::Invalid(format!(
                    "enforcement can only be suspended after the due date {due_date} (got {date})"
                )));
            }
            let months = period_months(
                settings.enforcement_suspension_years,
                "the enforcement suspension period",
            )?;
            Some(EnforcementSuspension {
                suspended_on: date,
                extinguished_on: next_day(period_end(next_day(date)?, months)?)?,
            })
        }
        None => None,
    };
    let (debt_ends_on, ended_by) = match &enforcement_suspension {
        Some(s) if s.extinguished_on < extinguished_on => {
            (s.extinguished_on, EndReason::EnforcementSuspension)
        }
        _ => (extinguished_on, EndReason::Prescription),
    };
    Ok(ClaimPrescription {
        due_date,
        counting_from,
        renewals: outcomes,
        prescribed_at_end_of: end,
        extinguished_on,
        enforcement_suspension,
        debt_ends_on,
        ended_by,
        write_off_fiscal_year: fiscal_year(debt_ends_on),
    })
}

/// When a refund right is prescribed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefundPrescription {
    /// The day the overpayment arose (the right to the refund came into being).
    pub arisen: NaiveDate,
    /// The first day counted.
    pub counting_from: NaiveDate,
    /// The right is prescribed at the end of this day.
    pub prescribed_at_end_of: NaiveDate,
    /// The first day the right no longer exists.
    pub extinguished_on: NaiveDate,
}

/// Returns when the right to a refund is prescribed (法160条1項, 2 years; 中野区: refund
/// claims lapse after 2年). The right arises during the day of the overpayment, so counting
/// starts the next day (民法140条本文).
///
/// # Errors
/// [`DomainError`] for dates beyond the calendar or bad settings.
pub fn refund_prescription(
    arisen: NaiveDate,
    settings: &PrescriptionSettings,
) -> Result<RefundPrescription, DomainError> {
    let months = period_months(settings.years, "the prescription period")?;
    let counting_from = next_day(arisen)?;
    let end = period_end(counting_from, months)?;
    Ok(RefundPrescription {
        arisen,
        counting_from,
        prescribed_at_end_of: end,
        extinguished_on: next_day(end)?,
    })
}

fn period_months(years: u32, what: &str) -> Result<u32, DomainError> {
    if (1..=20).contains(&years) {
        Ok(years * 12)
    } else {
        Err(DomainError::Invalid(format!(
            "{what} must be 1 to 20 years (got {years})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::Settings;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn settings() -> PrescriptionSettings {
        Settings::sample().prescription
    }

    // rules.md §7 [der]: 第1期 納期限 2023-07-31, no 督促 → prescribed at the end of
    // 2025-07-31 (counting from 2023-08-01), 不納欠損 in FY2025. Starting day per 昭3.7.6
    // 保発514 (https://gyosei.biz/2051/): the day after the 納期限.
    #[test]
    fn two_years_from_the_day_after_the_due_date() {
        let p = claim_prescription(d("2023-07-31"), &[], None, &settings()).unwrap();
        assert_eq!(p.counting_from, d("2023-08-01"));
        assert_eq!(p.prescribed_at_end_of, d("2025-07-31"));
        assert_eq!(p.extinguished_on, d("2025-08-01"));
        assert_eq!(p.write_off_fiscal_year, 2025);
        assert_eq!(p.ended_by, EndReason::Prescription);
    }

    // A 督促状 sent 2023-08-20 renews on 8/30 (10 days, 地方税法18条の2①2号); the new period
    // counts from 8/31 and ends 2025-08-30.
    #[test]
    fn a_demand_renews_the_period() {
        let p = claim_prescription(
            d("2023-07-31"),
            &[Renewal::DemandSent(d("2023-08-20"))],
            None,
            &settings(),
        )
        .unwrap();
        assert_eq!(p.renewals[0].renewed_on, d("2023-08-30"));
        assert!(p.renewals[0].applied);
        assert_eq!(p.prescribed_at_end_of, d("2025-08-30"));
        let on_send_day = PrescriptionSettings {
            demand_renewal_days: 0,
            ..settings()
        };
        let p = claim_prescription(
            d("2023-07-31"),
            &[Renewal::DemandSent(d("2023-08-20"))],
            None,
            &on_send_day,
        )
        .unwrap();
        assert_eq!(p.prescribed_at_end_of, d("2025-08-20"));
    }

    #[test]
    fn acknowledgements_renew_and_late_renewals_do_nothing() {
        let renewals = [
            Renewal::Acknowledged(d("2026-01-10")),
            Renewal::Acknowledged(d("2025-03-01")),
        ];
        let p = claim_prescription(d("2023-07-31"), &renewals, None, &settings()).unwrap();
        // Sorted by date: 2025-03-01 renews (period then ends 2027-03-01) and 2026-01-10
        // renews again.
        assert_eq!(p.prescribed_at_end_of, d("2028-01-10"));
        assert!(p.renewals.iter().all(|r| r.applied));
        let late = claim_prescription(
            d("2023-07-31"),
            &[Renewal::Acknowledged(d("2025-08-01"))],
            None,
            &settings(),
        )
        .unwrap();
        assert!(!late.renewals[0].applied);
        assert_eq!(late.prescribed_at_end_of, d("2025-07-31"));
    }

    // 地方税法15条の7④: 3 years of 執行停止 extinguish the debt, but the 2-year limit usually
    // ends it first (rules.md §7).
    #[test]
    fn suspension_and_prescription_race() {
        let p =
            claim_prescription(d("2023-07-31"), &[], Some(d("2023-09-01")), &settings()).unwrap();
        assert_eq!(
            p.enforcement_suspension.as_ref().unwrap().extinguished_on,
            d("2026-09-02")
        );
        assert_eq!(p.ended_by, EndReason::Prescription);
        let renewed = [Renewal::Acknowledged(d("2025-07-01"))];
        let p = claim_prescription(
            d("2023-07-31"),
            &renewed,
            Some(d("2023-09-01")),
            &settings(),
        )
        .unwrap();
        assert_eq!(p.ended_by, EndReason::EnforcementSuspension);
        assert_eq!(p.debt_ends_on, d("2026-09-02"));
        assert_eq!(p.write_off_fiscal_year, 2026);
    }

    #[test]
    fn refund_rights_lapse_after_two_years() {
        let r = refund_prescription(d("2025-07-31"), &settings()).unwrap();
        assert_eq!(r.counting_from, d("2025-08-01"));
        assert_eq!(r.prescribed_at_end_of, d("2027-07-31"));
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(
            claim_prescription(
                d("2023-07-31"),
                &[Renewal::DemandSent(d("2023-07-31"))],
                None,
                &settings()
            )
            .is_err()
        );
        assert!(
            claim_prescription(d("2023-07-31"), &[], Some(d("2023-07-01")), &settings()).is_err()
        );
        let zero = PrescriptionSettings {
            years: 0,
            ..settings()
        };
        assert!(claim_prescription(d("2023-07-31"), &[], None, &zero).is_err());
    }
}
