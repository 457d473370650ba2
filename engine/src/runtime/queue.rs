//! The task queue's own actions besides completing a task: reassigning a task and
//! commenting on it. Like claims and releases, each is recorded in the work item's history
//! with its actor, in the transaction that makes it.

use chrono::{DateTime, Utc};

use super::model::{Actor, Task, TaskState, TransitionKind};
use super::run::ItemRun;
use super::{Runtime, RuntimeError, finish};
use crate::store::{Comment, Reassignment, StoreTx};

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Appends a transition about a task (claim, release, reassignment, comment) to its item's
/// chain. Nothing about the item's tokens or data changes.
pub(crate) async fn note(
    tx: &mut dyn StoreTx,
    task: &Task,
    actor: &Actor,
    kind: TransitionKind,
    detail: String,
    now: DateTime<Utc>,
) -> Result<(), RuntimeError> {
    let item = tx
        .lock_item(task.item_id)
        .await?
        .ok_or(RuntimeError::NotFound {
            what: "work item",
            id: task.item_id,
        })?;
    let mut run = ItemRun::new(item, Vec::new(), now);
    // A note, not a move: no from/to node, so a replay of the moves is not confused.
    let detail = format!("{detail} at `{}`", task.node);
    run.record(
        &actor.to_stored(),
        kind,
        None,
        None,
        None,
        Some(detail),
        now,
    );
    run.write(tx).await?;
    Ok(())
}

impl Runtime {
    /// Hands an open task to another person (a supervisor's action): the task becomes
    /// claimed by `to`, whoever held it before.
    pub async fn reassign_task(
        &self,
        task_id: i64,
        by: &Actor,
        to: &str,
        reason: Option<&str>,
    ) -> Result<Task, RuntimeError> {
        if to.trim().is_empty() {
            return Err(RuntimeError::Invalid(
                "the person to hand the task to is empty".to_owned(),
            ));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<Task, RuntimeError> = async {
            let mut task = tx.lock_task(task_id).await?.ok_or(RuntimeError::NotFound {
                what: "task",
                id: task_id,
            })?;
            if task.state != TaskState::Open {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is {}",
                    task.state
                )));
            }
            if task.claimed_by.as_deref() == Some(to) {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is already claimed by {to}"
                )));
            }
            let from = task.claimed_by.replace(to.to_owned());
            task.claimed_at = Some(now);
            tx.update_task(&task).await?;
            let by_name = by.user().unwrap_or("system").to_owned();
            tx.insert_reassignment(&Reassignment {
                id: 0,
                task_id,
                from_user: from.clone(),
                to_user: to.to_owned(),
                by_user: by_name,
                reason: reason.map(str::to_owned),
                at: now,
            })
            .await?;
            let detail = format!(
                "task {task_id}: {} → {to}",
                from.as_deref().unwrap_or("(unclaimed)")
            );
            note(
                &mut *tx,
                &task,
                by,
                TransitionKind::TaskReassigned,
                detail,
                now,
            )
            .await?;
            Ok(task)
        }
        .await;
        finish(tx, result).await
    }

    /// Adds a comment to a task (open or not); the comment's text stays in the comments
    /// table, the history records that a comment was made.
    pub async fn comment_task(
        &self,
        task_id: i64,
        actor: &Actor,
        body: &str,
    ) -> Result<Comment, RuntimeError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(RuntimeError::Invalid("the comment is empty".to_owned()));
        }
        if body.chars().count() > MAX_COMMENT_CHARS {
            return Err(RuntimeError::Invalid(format!(
                "the comment is longer than {MAX_COMMENT_CHARS} characters"
            )));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<Comment, RuntimeError> = async {
            let task = tx.lock_task(task_id).await?.ok_or(RuntimeError::NotFound {
                what: "task",
                id: task_id,
            })?;
            let mut comment = Comment {
                id: 0,
                task_id,
                item_id: task.item_id,
                author: actor.user().unwrap_or("system").to_owned(),
                body: body.to_owned(),
                created_at: now,
            };
            comment.id = tx.insert_comment(&comment).await?;
            let detail = format!("task {task_id}: comment {}", comment.id);
            note(
                &mut *tx,
                &task,
                actor,
                TransitionKind::TaskCommented,
                detail,
                now,
            )
            .await?;
            Ok(comment)
        }
        .await;
        finish(tx, result).await
    }
}
