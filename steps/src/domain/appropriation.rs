//! 充当: applying an overpayment to the same person's unpaid installments and late fees
//! before refunding what is left.
//!
//! Rules (rules.md §6; 地方税法17条の2 and 施行令6条の14, applied by the municipal rule):
//! - The overpayment must go to unpaid amounts (17条の2①), the principal on which a late
//!   fee runs before that late fee (③), oldest due date first (assumed: no public rule on
//!   the order among installments was found).
//! - The appropriation takes effect at 充当適状 (④): the later of the installment's due
//!   date and the day the overpayment arose. The late fee therefore stops on that day.
//! - A late fee is final only once its principal is fully covered; while part of the
//!   principal stays unpaid its late fee keeps running and is not appropriated here.

use chrono::NaiveDate;
use serde::Serialize;

use super::DomainError;
use super::late_fee::{LateFeeInput, Payment, late_fee};
use super::money::Yen;
use super::rates::RateTable;
use super::settings::LateFeeSettings;

/// One unpaid installment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debt {
    /// A label for the output, such as `令和7年度 第3期`.
    pub label: String,
    /// Its due date.
    pub due_date: NaiveDate,
    /// The unpaid principal.
    pub principal: Yen,
    /// The late fee when already known (after earlier partial payments, for instance);
    /// `None` computes it up to the 充当適状 day from the principal and due date.
    pub late_fee: Option<Yen>,
}

/// Which part of a debt an amount went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// The principal (本料).
    Principal,
    /// The late fee on it (延滞金).
    LateFee,
}

/// One amount applied to one part of one debt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The debt's label.
    pub label: String,
    /// The debt's due date.
    pub due_date: NaiveDate,
    /// Principal or late fee.
    pub part: Part,
    /// What was owed on that part before the appropriation.
    pub owed: Yen,
    /// What was applied to it.
    pub applied: Yen,
    /// The day the appropriation takes effect (充当適状).
    pub appropriation_ready: NaiveDate,
}

/// A late fee that could not be appropriated because its principal is still partly unpaid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingLateFee {
    /// The debt's label.
    pub label: String,
    /// The principal still unpaid after the appropriation.
    pub unpaid_principal: Yen,
}

/// The result of appropriating one overpayment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Appropriation {
    /// The overpayment.
    pub amount: Yen,
    /// The day it arose.
    pub arisen: NaiveDate,
    /// Every part something was applied to, in the order applied.
    pub applied: Vec<Applied>,
    /// Late fees left open because their principal is not fully paid.
    pub pending_late_fees: Vec<PendingLateFee>,
    /// The total applied.
    pub applied_total: Yen,
    /// What is left to refund.
    pub refund: Yen,
}

/// Applies an overpayment to debts in legal order and returns what is left to refund.
///
/// # Errors
/// [`DomainError`] for negative amounts, or a late fee that cannot be computed (no rate
/// for its days).
pub fn appropriate(
    amount: Yen,
    arisen: NaiveDate,
    debts: &[Debt],
    settings: &LateFeeSettings,
    rates: &RateTable,
) -> Result<Appropriation, DomainError> {
    amount.validate("the overpayment")?;
    for debt in debts {
        debt.principal.validate("a principal")?;
        if let Some(fee) = debt.late_fee {
            fee.validate("a late fee")?;
        }
    }
    let mut order: Vec<&Debt> = debts.iter().collect();
    // A stable sort keeps the caller's order among debts due on the same day.
    order.sort_by_key(|debt| debt.due_date);

    let mut left = amount;
    let mut applied = Vec::new();
    let mut pending = Vec::new();
    for debt in order {
        let appropriation_ready = debt.due_date.max(arisen);
        let to_principal = left.min(debt.principal);
        if !to_principal.is_zero() {
            applied.push(Applied {
                label: debt.label.clone(),
                due_date: debt.due_date,
                part: Part::Principal,
                owed: debt.principal,
                applied: to_principal,
                appropriation_ready,
            });
            left -= to_principal;
        }
        if to_principal < debt.principal {
            pending.push(PendingLateFee {
                label: debt.label.clone(),
                unpaid_principal: debt.principal - to_principal,
            });
            continue;
        }
        let fee = match debt.late_fee {
            Some(fee) => fee,
            None => {
                let input = LateFeeInput {
                    principal: debt.principal,
                    due_date: debt.due_date,
                    payments: vec![Payment {
                        date: appropriation_ready,
                        amount: debt.principal,
                    }],
                    until: None,
                };
                late_fee(&input, settings, rates)?.late_fee
            }
        };
        let to_fee = left.min(fee);
        if !fee.is_zero() {
            applied.push(Applied {
                label: debt.label.clone(),
                due_date: debt.due_date,
                part: Part::LateFee,
                owed: fee,
                applied: to_fee,
                appropriation_ready,
            });
            left -= to_fee;
        }
    }
    Ok(Appropriation {
        amount,
        arisen,
        applied_total: amount - left,
        applied,
        pending_late_fees: pending,
        refund: left,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::settings::Settings;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn debt(label: &str, due: &str, principal: i64, late_fee: Option<i64>) -> Debt {
        Debt {
            label: label.to_owned(),
            due_date: d(due),
            principal: Yen(principal),
            late_fee: late_fee.map(Yen),
        }
    }

    fn run(amount: i64, arisen: &str, debts: &[Debt]) -> Appropriation {
        appropriate(
            Yen(amount),
            d(arisen),
            debts,
            &Settings::sample().late_fee,
            RateTable::official(),
        )
        .unwrap()
    }

    fn parts(a: &Appropriation) -> Vec<(&str, Part, i64)> {
        a.applied
            .iter()
            .map(|x| (x.label.as_str(), x.part, x.applied.get()))
            .collect()
    }

    // rules.md §6 [der] (地方税法17条の2③ https://www.zeiken.co.jp/hourei/HHCHI000000/17-2.html,
    // 施行令6条の14 https://www.zeiken.co.jp/hourei/HHCHI000010/6-14.html): 過納 20,000 arises
    // 2025-10-15; 第3期 (due 9/30) 15,000 plus its late fee → 15,000 to the principal first,
    // the rest to the late fee, then to later installments. With the late fee computed, 15
    // days on 15,000 come to under 1,000円, so nothing is owed on it and 5,000 goes on.
    #[test]
    fn derived_example_principal_before_late_fee() {
        let debts = [
            debt("第4期", "2025-10-31", 13_800, None),
            debt("第3期", "2025-09-30", 15_000, Some(1_000)),
        ];
        let a = run(20_000, "2025-10-15", &debts);
        assert_eq!(
            parts(&a),
            [
                ("第3期", Part::Principal, 15_000),
                ("第3期", Part::LateFee, 1_000),
                ("第4期", Part::Principal, 4_000)
            ]
        );
        assert_eq!(a.applied[0].appropriation_ready, d("2025-10-15"));
        assert_eq!(a.applied[2].appropriation_ready, d("2025-10-31"));
        assert_eq!(a.refund, Yen(0));
        assert_eq!(a.pending_late_fees[0].unpaid_principal, Yen(9_800));

        let computed = run(
            20_000,
            "2025-10-15",
            &[debts[1].clone().with_computed_fee()],
        );
        assert_eq!(parts(&computed), [("第3期", Part::Principal, 15_000)]);
        assert_eq!(computed.refund, Yen(5_000));
    }

    // An old installment: the late fee is computed up to the day the overpayment arose
    // (1-month switch-over; 2024: 2.4/8.7, 2025: 2.4/8.7).
    #[test]
    fn late_fees_stop_when_the_appropriation_takes_effect() {
        let a = run(
            150_000,
            "2025-07-31",
            &[debt("第1期", "2024-07-31", 100_000, None)],
        );
        let fee = a.applied.iter().find(|x| x.part == Part::LateFee).unwrap();
        // 8/1–8/31/2024 31d @2.4 = 203.83; 9/1–12/31 122d @8.7 = 2,907.94;
        // 2025 1/1–7/31 212d @8.7 = 5,053.15 → 8,164 → 8,100.
        assert_eq!(fee.owed, Yen(8_100));
        assert_eq!(a.refund, Yen(150_000 - 100_000 - 8_100));
    }

    #[test]
    fn oldest_due_date_first_and_the_rest_is_refunded() {
        let debts = [
            debt("b", "2025-08-31", 5_000, Some(0)),
            debt("a", "2025-07-31", 5_000, Some(0)),
        ];
        let a = run(12_000, "2025-10-01", &debts);
        assert_eq!(
            parts(&a),
            [("a", Part::Principal, 5_000), ("b", Part::Principal, 5_000)]
        );
        assert_eq!(a.refund, Yen(2_000));
        let none = run(12_000, "2025-10-01", &[]);
        assert_eq!(none.refund, Yen(12_000));
        assert!(
            appropriate(
                Yen(-1),
                d("2025-10-01"),
                &[],
                &Settings::sample().late_fee,
                RateTable::official()
            )
            .is_err()
        );
    }

    impl Debt {
        fn with_computed_fee(mut self) -> Self {
            self.late_fee = None;
            self
        }
    }

    proptest! {
        #[test]
        fn appropriation_never_creates_money(
            amount in 0i64..500_000,
            debts in prop::collection::vec((0i64..900, 0i64..200_000, prop::option::of(0i64..20_000)), 0..8),
            arisen in 0i64..900,
        ) {
            let base = d("2023-04-01");
            let debts: Vec<Debt> = debts
                .into_iter()
                .enumerate()
                .map(|(i, (due, principal, fee))| Debt {
                    label: format!("期{i}"),
                    due_date: base + chrono::Duration::days(due),
                    principal: Yen(principal),
                    late_fee: fee.map(Yen),
                })
                .collect();
            let a = appropriate(
                Yen(amount),
                base + chrono::Duration::days(arisen),
                &debts,
                &Settings::sample().late_fee,
                RateTable::official(),
            ).unwrap();
            let applied: Yen = a.applied.iter().map(|x| x.applied).sum();
            prop_assert_eq!(applied + a.refund, Yen(amount));
            prop_assert_eq!(applied, a.applied_total);
            prop_assert!(a.refund.0 >= 0);
            prop_assert!(a.applied.iter().all(|x| x.applied.0 >= 0 && x.applied <= x.owed));
            // Money is refunded only when every debt is fully covered.
            if a.refund.0 > 0 {
                prop_assert!(a.pending_late_fees.is_empty());
            }
        }
    }
}
