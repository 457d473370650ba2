//! Cancelling a work item: staff end a case that is running, waiting or failed (the person
//! died, moved away, the case was opened by mistake). Everything that could still move it
//! is withdrawn in the same transaction: its open tasks, its timers, its waits for messages,
//! other systems' results and retries, and its child items (called flows), which are
//! cancelled in turn. Each cancelled item records a `cancelled` transition with the actor and
//! the reason; a parent that waited for a cancelled child counts it as finished and records
//! a `child_cancelled` note, so the rest of a batch carries on.
//!
//! A cancelled item is final: it cannot be retried, skipped, claimed or completed, and a
//! delivery to it is refused. Its outbox entries that have not left stay in the outbox and
//! are named in the report: whether a printed letter still goes is the sender's call.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::model::{Actor, ItemState, OutboxState, TaskState, TokenState, TransitionKind, Wait};
use super::run::ItemRun;
use super::{Runtime, RuntimeError, finish};
use crate::store::{OutboxFilter, StoreTx};

/// Longest cancellation reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// What cancelling one item withdrew.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CancelledItem {
    pub item_id: i64,
    /// The item whose cancellation cancelled this one (`None` for the item asked for).
    pub because_of: Option<i64>,
    /// Open tasks taken out of their queues.
    pub tasks: Vec<i64>,
    /// Timers that will not fire.
    pub timers: Vec<i64>,
    /// What the item's tokens waited for, e.g. `message at receive_result`.
    pub waits: Vec<String>,
    /// Outbox entries of the item not sent yet. They stay: a letter may be printed already,
    /// and whether it goes is the sender's decision (`nagare outbox list --item ID`).
    pub pending_outbox: Vec<i64>,
}

/// What a cancellation did: the item asked for first, then its descendants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CancelReport {
    pub items: Vec<CancelledItem>,
    /// The parent that waited for the cancelled item and now counts it as finished.
    pub parent_notified: Option<i64>,
}

/// Describes what a token waits for, for the record.
fn wait_text(wait: Option<Wait>, node: &str) -> String {
    let what = match wait {
        Some(Wait::Task) => "task",
        Some(Wait::Message) => "message",
        Some(Wait::External) => "other system's result",
        Some(Wait::Timer) => "timer",
        Some(Wait::Children) => "child items",
        Some(Wait::Retry) => "retry",
        None => "step",
    };
    format!("{what} at `{node}`")
}

impl Runtime {
    /// Cancels a running, waiting or failed work item and every live item it called, with a
    /// reason; see the module documentation. Nothing changes when an error is returned.
    pub async fn cancel(
        &self,
        item_id: i64,
        actor: &Actor,
        reason: &str,
    ) -> Result<CancelReport, RuntimeError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(RuntimeError::Invalid(
                "a cancellation needs a `reason`".to_owned(),
            ));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(RuntimeError::Invalid(format!(
                "the `reason` is longer than {MAX_REASON_CHARS} characters"
            )));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result = self.cancel_in(&mut *tx, item_id, actor, reason, now).await;
        finish(tx, result).await
    }

    async fn cancel_in(
        &self,
        tx: &mut dyn StoreTx,
        item_id: i64,
        actor: &Actor,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<CancelReport, RuntimeError> {
        let item = tx.lock_item(item_id).await?.ok_or(RuntimeError::NotFound {
            what: "work item",
            id: item_id,
        })?;
        if !item.state.is_live() {
            return Err(RuntimeError::Conflict(format!(
                "work item {item_id} is {}; only running, waiting or failed items can be cancelled",
                item.state
            )));
        }
        let parent = item.parent_id.zip(item.parent_token_id);
        let actor_text = actor.to_stored();
        let mut report = CancelReport::default();
        // Breadth first: the item, its children, their children … Each is locked before it
        // changes; the worker locks a child only with its own batch, so no child can start
        // or finish while its parent is held here.
        let mut queue = VecDeque::from([(item, None::<i64>)]);
        while let Some((item, because_of)) = queue.pop_front() {
            let id = item.id;
            let mut run = ItemRun::load(tx, item, now).await?;
            let mut done = CancelledItem {
                item_id: id,
                because_of,
                ..CancelledItem::default()
            };
            for i in 0..run.tokens.len() {
                let token = run.token(i);
                if token.state == TokenState::Waiting {
                    done.waits.push(wait_text(token.wait, &token.node));
                }
                let token_id = token.id;
                token.state = TokenState::Done;
                token.wait = None;
                token.wait_key = None;
                token.wake_at = None;
                for mut task in tx.open_tasks_of_token(token_id).await? {
                    task.state = TaskState::Cancelled;
                    tx.update_task(&task).await?;
                    done.tasks.push(task.id);
                }
            }
            done.timers = tx.withdraw_timers(id, now).await?;
            done.pending_outbox = self
                .store
                .outbox_entries(&OutboxFilter {
                    state: Some(OutboxState::Pending),
                    item_id: Some(id),
                    ..OutboxFilter::default()
                })
                .await?
                .iter()
                .map(|e| e.id)
                .collect();
            let from = match run.tokens.as_slice() {
                [only] => Some(only.node.clone()),
                _ => None,
            };
            let detail = match because_of {
                None => reason.to_owned(),
                Some(parent) => format!("work item {parent} was cancelled: {reason}"),
            };
            run.item.state = ItemState::Cancelled;
            run.item.error = None;
            run.record(
                &actor_text,
                TransitionKind::Cancelled,
                from.as_deref(),
                None,
                None,
                Some(detail),
                now,
            );
            run.settle();
            run.write(tx).await?;
            for child in tx.live_children(id).await? {
                if let Some(child) = tx.lock_item(child).await? {
                    queue.push_back((child, Some(id)));
                }
            }
            report.items.push(done);
        }
        if let Some((parent_id, token_id)) = parent {
            report.parent_notified = self
                .child_cancelled(tx, parent_id, token_id, item_id, &actor_text, reason, now)
                .await?;
        }
        Ok(report)
    }

    /// Counts a cancelled child as finished for the parent that waits for it, and notes it
    /// in the parent's history; returns the parent's id when it was still live.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parent, the child and the record"
    )]
    async fn child_cancelled(
        &self,
        tx: &mut dyn StoreTx,
        parent_id: i64,
        token_id: i64,
        child_id: i64,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, RuntimeError> {
        match tx.lock_item(parent_id).await? {
            Some(parent) if parent.state.is_live() => {}
            _ => return Ok(None),
        }
        self.child_finished(tx, parent_id, token_id, now).await?;
        // Read again: counting the child may have made the parent runnable.
        let Some(parent) = tx.lock_item(parent_id).await? else {
            return Ok(None);
        };
        let mut run = ItemRun::new(parent, Vec::new(), now);
        run.record(
            actor,
            TransitionKind::ChildCancelled,
            None,
            None,
            None,
            Some(format!("work item {child_id} was cancelled: {reason}")),
            now,
        );
        run.write(tx).await?;
        Ok(Some(parent_id))
    }
}
