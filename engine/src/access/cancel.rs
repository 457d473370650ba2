//! Who may cancel a work item: a supervisor who works on one of the lane roles of the
//! item's flow. Cancelling ends a case for good and withdraws its colleagues' tasks, which
//! in a municipal office is the 係長's decision, not every clerk's; auditors never.

use super::{AccessError, ItemView, Principal, SUPERVISOR, Service};
use crate::runtime::{CancelReport, RuntimeError};

impl Service {
    /// Cancels a running, waiting or failed work item (and the items it called), with a
    /// reason recorded in its history.
    pub async fn cancel(
        &self,
        by: &Principal,
        id: i64,
        reason: &str,
    ) -> Result<(ItemView, CancelReport), AccessError> {
        self.workable_item(by, id, "cancel").await?;
        if !by.has(SUPERVISOR) {
            return Err(AccessError::Forbidden(format!(
                "{} is not a supervisor: only supervisors of the item's lanes cancel work items",
                by.name
            )));
        }
        if reason.trim().is_empty() {
            return Err(AccessError::invalid(
                "reason",
                "a cancellation needs a reason",
            ));
        }
        let report = self
            .rt
            .cancel(id, &by.actor(), reason)
            .await
            .map_err(|e| match e {
                RuntimeError::Invalid(message) => AccessError::invalid("reason", message),
                other => other.into(),
            })?;
        Ok((self.item(by, id).await?, report))
    }
}
