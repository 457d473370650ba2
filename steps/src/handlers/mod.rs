//! Step handlers: the code behind the `system` nodes of the flows, working on the municipal
//! ledger (`migrations/*/0002_ledger.sql`) through the step's transaction, so that what a
//! step writes commits with its transition or not at all.
//!
//! Handlers keep personal data out of the item's data: they record ids, counts and totals;
//! names and addresses go only into ledger rows and the letters queued in the outbox.

pub mod assessment;
pub mod common;
pub mod demand;
pub mod direct_debit;
pub mod sql;
pub mod union_exchange;

use nagare_engine::runtime::HandlerRegistry;

pub use common::{HandlerSettings, Office};

/// Every handler this crate implements, under the names the flows use.
pub fn registry() -> HandlerRegistry {
    let mut r = HandlerRegistry::new();
    // 3.4 確定賦課
    r.register("assessment.register_premiums", assessment::RegisterPremiums)
        .register(
            "assessment.confirm_premium_update_targets",
            assessment::ConfirmPremiumTargets,
        )
        .register(
            "assessment.split_installments",
            assessment::SplitInstallments,
        )
        .register(
            "assessment.confirm_installments",
            assessment::ConfirmInstallments,
        )
        .register(
            "assessment.create_decision_notices",
            assessment::CreateDecisionNotices,
        )
        .register(
            "union_exchange.create_installment_file",
            union_exchange::CreateInstallmentFile,
        )
        .register(
            "union_exchange.confirm_installment_targets",
            union_exchange::ConfirmInstallmentFile,
        );
    // 4.3 収納消込（口座振替）
    r.register("direct_debit.import_results", direct_debit::ImportResults)
        .register("direct_debit.confirm_results", direct_debit::ConfirmResults)
        .register(
            "direct_debit.create_failure_notices",
            direct_debit::CreateFailureNotices,
        )
        .register("direct_debit.request_retry", direct_debit::RequestRetry)
        .register(
            "direct_debit.print_failure_payment_slips",
            direct_debit::PrintFailurePaymentSlips,
        )
        .register(
            "union_exchange.create_receipt_file",
            union_exchange::CreateReceiptFile,
        )
        .register(
            "union_exchange.confirm_receipt_targets",
            union_exchange::ConfirmReceiptFile,
        );
    // 4.7 督促
    r.register("demand.identify_delinquents", demand::IdentifyDelinquents)
        .register("demand.confirm_delinquents", demand::ConfirmDelinquents)
        .register("demand.create_letters", demand::CreateLetters)
        .register(
            "demand.confirm_letter_targets",
            demand::ConfirmLetterTargets,
        )
        .register("demand.register_dispatch", demand::RegisterDispatch)
        .register(
            "union_exchange.create_delinquent_file",
            union_exchange::CreateDelinquentFile,
        )
        .register(
            "union_exchange.confirm_delinquent_targets",
            union_exchange::ConfirmDelinquentFile,
        );
    r
}
