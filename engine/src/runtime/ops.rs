//! Operations from outside the worker: people completing tasks, messages arriving, staff
//! retrying or skipping a failed step, moving items to a new flow version, and the audit.
//! Each is one transaction and, where it changes an item, one or more transitions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::audit::{self, HeadsDigest, Problem};
use super::model::{
    Actor, Data, ItemState, Message, Task, TaskState, TokenState, TransitionKind, Wait,
};
use super::nodes::{item_key, message_key};
use super::queue;
use super::run::{ItemRun, single_next};
use super::{Runtime, RuntimeError, finish};
use crate::flow::NodeKind;
use crate::store::{StoreTx, TaskFilter};

/// Why a delivery was refused; nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No work item waits for it.
    Unmatched(String),
    /// The same delivery arrived before.
    Duplicate(String),
    /// Several work items wait for the same key.
    Ambiguous(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unmatched(m) | Self::Duplicate(m) | Self::Ambiguous(m) => f.write_str(m),
        }
    }
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryTarget {
    /// The item whose receive node for `document` waits with this correlation value.
    Correlated { document: String, value: String },
    /// An item's receive node (without correlation) or out-of-scope node that waits.
    Item { item_id: i64, node: String },
}

/// A message or an outside result for a waiting work item.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub target: DeliveryTarget,
    /// Merged into the item's data, so following decisions can test it.
    pub payload: Data,
    /// Identifies the delivery (a file name and date, the sender's message id); a second
    /// delivery with the same id is refused. Defaults to a hash of target and payload.
    pub delivery_id: Option<String>,
    pub actor: Actor,
}

/// What a delivery did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReceipt {
    pub message_id: i64,
    pub item_id: i64,
    pub delivery_id: String,
}

/// What `migrate_items` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    pub flow_id: String,
    pub to_version: i64,
    pub migrated: Vec<i64>,
    /// Items left on their version, with the reason.
    pub refused: Vec<(i64, String)>,
}

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditReport {
    pub items: u64,
    pub transitions: u64,
    pub problems: Vec<Problem>,
    /// Digest of every chain head (see [`audit::HeadsDigest`]).
    pub digest: String,
}

/// Where a task stands in its queue: by due date, a task without one last, then by id.
fn queue_order(task: &Task) -> (bool, Option<NaiveDate>, i64) {
    (task.due_date.is_none(), task.due_date, task.id)
}

/// Records that `user` claimed `task`, in the transaction that changes it.
async fn mark_claimed(
    tx: &mut dyn StoreTx,
    task: &mut Task,
    user: &str,
    now: DateTime<Utc>,
) -> Result<(), RuntimeError> {
    task.claimed_by = Some(user.to_owned());
    task.claimed_at = Some(now);
    tx.update_task(task).await?;
    let detail = format!("task {}", task.id);
    queue::note(
        tx,
        task,
        &Actor::User(user.to_owned()),
        TransitionKind::TaskClaimed,
        detail,
        now,
    )
    .await
}

impl Runtime {
    /// Claims an open task for a user (one person at a time).
    pub async fn claim_task(&self, task_id: i64, user: &str) -> Result<Task, RuntimeError> {
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
            match &task.claimed_by {
                Some(other) if other != user => {
                    return Err(RuntimeError::Conflict(format!(
                        "task {task_id} is claimed by {other}"
                    )));
                }
                Some(_) => {}
                None => mark_claimed(&mut *tx, &mut task, user, now).await?,
            }
            Ok(task)
        }
        .await;
        finish(tx, result).await
    }

    /// Claims the first unclaimed open task of the given roles' queues in queue order (due
    /// date, then id), narrowed by flow, node or step: the clerk's "next case" button.
    /// Returns `None` when those queues hold no unclaimed task.
    pub async fn claim_next_task(
        &self,
        roles: &[String],
        narrow: &TaskFilter,
        user: &str,
    ) -> Result<Option<Task>, RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<Option<Task>, RuntimeError> = async {
            // One indexed probe per role; the earliest candidate wins. (PostgreSQL keeps the
            // losers locked until the commit, a few milliseconds later.)
            let mut best: Option<Task> = None;
            for role in roles {
                let filter = TaskFilter {
                    role: Some(role.clone()),
                    ..narrow.clone()
                };
                if let Some(task) = tx.lock_next_task(&filter).await?
                    && best
                        .as_ref()
                        .is_none_or(|b| queue_order(&task) < queue_order(b))
                {
                    best = Some(task);
                }
            }
            let Some(mut task) = best else {
                return Ok(None);
            };
            mark_claimed(&mut *tx, &mut task, user, now).await?;
            Ok(Some(task))
        }
        .await;
        finish(tx, result).await
    }

    /// Releases a task the user claimed.
    pub async fn release_task(&self, task_id: i64, user: &str) -> Result<Task, RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<Task, RuntimeError> = async {
            let mut task = tx.lock_task(task_id).await?.ok_or(RuntimeError::NotFound {
                what: "task",
                id: task_id,
            })?;
            if task.claimed_by.as_deref() != Some(user) {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is not claimed by {user}"
                )));
            }
            if task.state != TaskState::Open {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is {}",
                    task.state
                )));
            }
            task.claimed_by = None;
            task.claimed_at = None;
            tx.update_task(&task).await?;
            let actor = Actor::User(user.to_owned());
            let detail = format!("task {task_id}");
            queue::note(
                &mut *tx,
                &task,
                &actor,
                TransitionKind::TaskReleased,
                detail,
                now,
            )
            .await?;
            Ok(task)
        }
        .await;
        finish(tx, result).await
    }

    /// Completes a manual task with the recorded fields: the answer is checked against the
    /// task's fields, merged into the item's data, and the item moves on.
    pub async fn complete_task(
        &self,
        task_id: i64,
        actor: &Actor,
        answer: Data,
    ) -> Result<Task, RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<Task, RuntimeError> = async {
            let mut task = tx.lock_task(task_id).await?.ok_or(RuntimeError::NotFound {
                what: "task",
                id: task_id,
            })?;
            if task.state != TaskState::Open {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is already {}",
                    task.state
                )));
            }
            if let Some(holder) = &task.claimed_by
                && actor.user() != Some(holder.as_str())
            {
                return Err(RuntimeError::Conflict(format!(
                    "task {task_id} is claimed by {holder}"
                )));
            }
            validate_answer(&task.fields, &answer).map_err(RuntimeError::Invalid)?;
            let item = tx
                .lock_item(task.item_id)
                .await?
                .ok_or(RuntimeError::NotFound {
                    what: "work item",
                    id: task.item_id,
                })?;
            if !item.state.is_live() {
                return Err(RuntimeError::Conflict(format!(
                    "work item {} is {}",
                    item.id, item.state
                )));
            }
            let flow = self.flow_by_hash(&item.flow_hash).await?;
            let mut run = ItemRun::load(&mut *tx, item, now).await?;
            let idx = run
                .tokens
                .iter()
                .position(|t| {
                    t.id == task.token_id
                        && t.state == TokenState::Waiting
                        && t.wait == Some(Wait::Task)
                })
                .ok_or_else(|| {
                    RuntimeError::Conflict(format!(
                        "work item {} no longer waits for task {task_id}",
                        run.item.id
                    ))
                })?;
            let node = flow.node(&task.node).ok_or_else(|| {
                RuntimeError::Conflict(format!(
                    "node `{}` is not in the item's flow version",
                    task.node
                ))
            })?;
            task.state = TaskState::Completed;
            task.completed_by = Some(actor.user().unwrap_or("system").to_owned());
            task.completed_at = Some(now);
            task.answer = Some(Value::Object(answer.clone()));
            tx.update_task(&task).await?;
            run.apply(&answer);
            let detail = Some(format!("task {task_id}"));
            self.move_on(
                &mut run,
                &flow,
                node,
                idx,
                TransitionKind::TaskCompleted,
                &actor.to_stored(),
                Some(&answer),
                detail,
            );
            run.settle();
            self.save(&mut *tx, run).await?;
            Ok(task)
        }
        .await;
        finish(tx, result).await
    }

    /// Delivers a message (or another system's result) to the work item waiting for it.
    /// Unmatched, ambiguous and duplicate deliveries are refused and change nothing.
    pub async fn deliver(&self, delivery: Delivery) -> Result<DeliveryReceipt, RuntimeError> {
        let now = self.now();
        let payload_text = Value::Object(delivery.payload.clone()).to_string();
        let delivery_id = delivery.delivery_id.clone().unwrap_or_else(|| {
            let target = match &delivery.target {
                DeliveryTarget::Correlated { document, value } => message_key(document, value),
                DeliveryTarget::Item { item_id, node } => item_key(*item_id, node),
            };
            let digest = Sha256::digest(format!("{target}\0{payload_text}").as_bytes());
            format!("sha256:{}", audit::hex(&digest))
        });
        let mut tx = self.store.begin().await?;
        let result: Result<DeliveryReceipt, RuntimeError> = async {
            if tx.message_exists(&delivery_id).await? {
                return Err(RuntimeError::Refused(Refusal::Duplicate(format!(
                    "delivery `{delivery_id}` was already received"
                ))));
            }
            let (item_id, token_id, correlation) = match &delivery.target {
                DeliveryTarget::Correlated { document, value } => {
                    let waiting = tx.waiting_tokens(Wait::Message, &message_key(document, value)).await?;
                    match waiting.as_slice() {
                        [] => {
                            return Err(RuntimeError::Refused(Refusal::Unmatched(format!(
                                "no work item waits for `{document}` with correlation value `{value}`"
                            ))));
                        }
                        [t] => (t.item_id, t.id, Some(value.clone())),
                        many => {
                            let ids: Vec<String> = many.iter().map(|t| t.item_id.to_string()).collect();
                            return Err(RuntimeError::Refused(Refusal::Ambiguous(format!(
                                "work items {} all wait for `{document}` with correlation value `{value}`",
                                ids.join(", ")
                            ))));
                        }
                    }
                }
                DeliveryTarget::Item { item_id, node } => {
                    if let Some(item) = self.store.item(*item_id).await?
                        && item.state == ItemState::Cancelled
                    {
                        return Err(RuntimeError::Refused(Refusal::Unmatched(format!(
                            "work item {item_id} is cancelled: it takes no deliveries"
                        ))));
                    }
                    let tokens = self.store.tokens(*item_id).await?;
                    let key = item_key(*item_id, node);
                    let token = tokens.iter().find(|t| {
                        t.state == TokenState::Waiting
                            && matches!(t.wait, Some(Wait::Message | Wait::External))
                            && t.wait_key.as_deref() == Some(key.as_str())
                    });
                    match token {
                        Some(t) => (*item_id, t.id, None),
                        None => {
                            return Err(RuntimeError::Refused(Refusal::Unmatched(format!(
                                "work item {item_id} does not wait at `{node}` for a message without correlation"
                            ))));
                        }
                    }
                }
            };
            let unmatched = || {
                RuntimeError::Refused(Refusal::Unmatched(format!("work item {item_id} no longer waits for this delivery")))
            };
            let item = tx.lock_item(item_id).await?.ok_or_else(unmatched)?;
            if !item.state.is_live() {
                return Err(unmatched());
            }
            let flow = self.flow_by_hash(&item.flow_hash).await?;
            let mut run = ItemRun::load(&mut *tx, item, now).await?;
            let idx = run
                .tokens
                .iter()
                .position(|t| t.id == token_id && t.state == TokenState::Waiting)
                .ok_or_else(unmatched)?;
            let node = flow.node(&run.tokens[idx].node).ok_or_else(unmatched)?;
            let (document, correlation_key) = match &node.kind {
                NodeKind::Receive { document, correlation, .. } => (document.value.clone(), correlation.clone()),
                _ => (node.id.value.clone(), None),
            };
            let message = Message {
                id: 0,
                delivery_id: delivery_id.clone(),
                item_id,
                node: node.id.value.clone(),
                document: document.clone(),
                correlation_key: correlation.as_ref().and(correlation_key),
                correlation_value: correlation,
                payload: Value::Object(delivery.payload.clone()),
                received_by: delivery.actor.to_stored(),
                received_at: now,
            };
            let Some(message_id) = tx.insert_message(&message).await? else {
                return Err(RuntimeError::Refused(Refusal::Duplicate(format!(
                    "delivery `{delivery_id}` was already received"
                ))));
            };
            run.apply(&delivery.payload);
            let detail = Some(format!("message {message_id}: {document}"));
            let actor = delivery.actor.to_stored();
            self.move_on(&mut run, &flow, node, idx, TransitionKind::MessageReceived, &actor, Some(&delivery.payload), detail);
            run.settle();
            self.save(&mut *tx, run).await?;
            Ok(DeliveryReceipt { message_id, item_id, delivery_id })
        }
        .await;
        finish(tx, result).await
    }

    /// Runs a failed item's failed step again (with a fresh count of attempts).
    pub async fn retry(&self, item_id: i64, actor: &Actor) -> Result<(), RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<(), RuntimeError> = async {
            let item = tx.lock_item(item_id).await?.ok_or(RuntimeError::NotFound {
                what: "work item",
                id: item_id,
            })?;
            if item.state != ItemState::Failed {
                return Err(RuntimeError::Conflict(format!(
                    "work item {item_id} is {}, not failed",
                    item.state
                )));
            }
            let mut run = ItemRun::load(&mut *tx, item, now).await?;
            let failed: Vec<usize> = (0..run.tokens.len())
                .filter(|&i| run.tokens[i].state == TokenState::Failed)
                .collect();
            run.item.state = ItemState::Running;
            run.item.error = None;
            let actor = actor.to_stored();
            if failed.is_empty() {
                run.record(&actor, TransitionKind::Retried, None, None, None, None, now);
            }
            for i in failed {
                let t = run.token(i);
                t.state = TokenState::Ready;
                t.attempts = 0;
                t.error = None;
                let node = t.node.clone();
                run.record(
                    &actor,
                    TransitionKind::Retried,
                    Some(&node),
                    Some(&node),
                    None,
                    None,
                    now,
                );
            }
            run.settle();
            self.save(&mut *tx, run).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    /// Moves a failed item past its failed step, with the reason recorded. A decision is
    /// skipped along its default branch; nodes with several ways on cannot be skipped.
    pub async fn skip(
        &self,
        item_id: i64,
        actor: &Actor,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        if reason.trim().is_empty() {
            return Err(RuntimeError::Invalid("a skip needs a reason".to_owned()));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<(), RuntimeError> = async {
            let item = tx
                .lock_item(item_id)
                .await?
                .ok_or(RuntimeError::NotFound { what: "work item", id: item_id })?;
            if item.state != ItemState::Failed {
                return Err(RuntimeError::Conflict(format!("work item {item_id} is {}, not failed", item.state)));
            }
            let flow = self.flow_by_hash(&item.flow_hash).await?;
            let mut run = ItemRun::load(&mut *tx, item, now).await?;
            let idx = run
                .tokens
                .iter()
                .position(|t| t.state == TokenState::Failed)
                .ok_or_else(|| RuntimeError::Conflict(format!("work item {item_id} has no failed step to skip; retry it")))?;
            let node = flow
                .node(&run.tokens[idx].node)
                .ok_or_else(|| RuntimeError::Conflict(format!("node `{}` is not in the item's flow", run.tokens[idx].node)))?;
            let next = single_next(node).ok_or_else(|| {
                RuntimeError::Conflict(format!(
                    "node `{}` has several ways on and no default; correct the data and retry instead",
                    node.id.value
                ))
            })?;
            for mut task in tx.open_tasks_of_token(run.tokens[idx].id).await? {
                task.state = TaskState::Cancelled;
                tx.update_task(&task).await?;
            }
            run.item.state = ItemState::Running;
            run.item.error = None;
            let actor = actor.to_stored();
            run.move_token(&flow, idx, next, TransitionKind::Skipped, &actor, None, Some(reason.to_owned()));
            run.settle();
            self.save(&mut *tx, run).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    /// Moves the live items of a flow to its current version. An item moves only when each
    /// of its tokens stands on a node that exists in the new version with the same kind.
    pub async fn migrate_items(
        &self,
        flow_id: &str,
        actor: &Actor,
    ) -> Result<MigrationReport, RuntimeError> {
        let hash = self
            .current_hash(flow_id)
            .await?
            .ok_or_else(|| RuntimeError::UnknownFlow(flow_id.to_owned()))?;
        let new_flow = self.flow_by_hash(&hash).await?;
        let now = self.now();
        let mut report = MigrationReport {
            flow_id: flow_id.to_owned(),
            to_version: i64::from(new_flow.version),
            ..MigrationReport::default()
        };
        let mut tx = self.store.begin().await?;
        let result: Result<MigrationReport, RuntimeError> = async {
            let actor = actor.to_stored();
            for id in tx.items_on_other_versions(flow_id, &hash).await? {
                let Some(item) = tx.lock_item(id).await? else {
                    continue;
                };
                let old_flow = self.flow_by_hash(&item.flow_hash).await.ok();
                let mut run = ItemRun::load(&mut *tx, item, now).await?;
                let mut refusal = None;
                for t in &run.tokens {
                    let old_kind = old_flow
                        .as_ref()
                        .and_then(|f| f.node(&t.node))
                        .map(|n| n.kind.as_str());
                    match new_flow.node(&t.node) {
                        None => {
                            refusal = Some(format!(
                                "node `{}` does not exist in version {}",
                                t.node, new_flow.version
                            ));
                        }
                        Some(n) if old_kind.is_some_and(|k| k != n.kind.as_str()) => {
                            refusal = Some(format!(
                                "node `{}` is a {} node in version {} but a {} node in version {}",
                                t.node,
                                old_kind.unwrap_or_default(),
                                run.item.flow_version,
                                n.kind.as_str(),
                                new_flow.version
                            ));
                        }
                        Some(_) => {}
                    }
                }
                if let Some(reason) = refusal {
                    report.refused.push((id, reason));
                    continue;
                }
                let detail = format!(
                    "version {} ({}) → version {} ({})",
                    run.item.flow_version,
                    &run.item.flow_hash[..run.item.flow_hash.len().min(12)],
                    new_flow.version,
                    &hash[..hash.len().min(12)]
                );
                run.item.flow_hash.clone_from(&hash);
                run.item.flow_version = i64::from(new_flow.version);
                run.record(
                    &actor,
                    TransitionKind::Migrated,
                    None,
                    None,
                    None,
                    Some(detail),
                    now,
                );
                run.write(&mut *tx).await?;
                report.migrated.push(id);
            }
            Ok(report)
        }
        .await;
        finish(tx, result).await
    }

    /// Checks every item's chain of transitions and names each edited, deleted or
    /// reordered record.
    pub async fn verify_audit(&self) -> Result<AuditReport, RuntimeError> {
        const PAGE: i64 = 500;
        let mut report = AuditReport::default();
        let mut digest = HeadsDigest::default();
        let mut after = 0;
        loop {
            let (heads, transitions) = self.store.audit_page(after, PAGE).await?;
            let Some(last) = heads.last() else { break };
            after = last.item_id;
            let mut by_item: HashMap<i64, Vec<&super::Transition>> = HashMap::new();
            for t in &transitions {
                by_item.entry(t.item_id).or_default().push(t);
            }
            for head in &heads {
                digest.add(head);
                let chain = by_item.remove(&head.item_id).unwrap_or_default();
                report.items += 1;
                report.transitions += chain.len() as u64;
                report.problems.extend(audit::verify_item(head, &chain));
            }
        }
        report.digest = digest.finish();
        Ok(report)
    }
}

/// Checks a task's answer against its declared fields.
pub(crate) fn validate_answer(fields: &Value, answer: &Data) -> Result<(), String> {
    let fields = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    let declared = |key: &str| {
        fields
            .iter()
            .any(|f| f.get("id").and_then(Value::as_str) == Some(key))
    };
    if let Some(unknown) = answer.keys().find(|k| !declared(k)) {
        return Err(format!("`{unknown}` is not a field of this task"));
    }
    for f in fields {
        let id = f.get("id").and_then(Value::as_str).unwrap_or_default();
        let label = f.get("label").and_then(Value::as_str).unwrap_or(id);
        let required = f.get("required").and_then(Value::as_bool).unwrap_or(true);
        let value = match answer.get(id) {
            None | Some(Value::Null) if required => {
                return Err(format!("field `{id}` ({label}) is required"));
            }
            None | Some(Value::Null) => continue,
            Some(v) => v,
        };
        let ok = match f.get("type").and_then(Value::as_str).unwrap_or("text") {
            "bool" => value.is_boolean(),
            "text" => value.is_string(),
            // Yen are whole numbers: never a fraction, never a float.
            "integer" | "yen" => value.is_i64(),
            "date" => value
                .as_str()
                .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            "choice" => {
                let choices = f
                    .get("choices")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                value
                    .as_str()
                    .is_some_and(|s| choices.iter().any(|c| c.as_str() == Some(s)))
            }
            _ => false,
        };
        if !ok {
            let kind = f.get("type").and_then(Value::as_str).unwrap_or("text");
            let expected = match kind {
                "bool" => "true or false".to_owned(),
                "text" => "a text".to_owned(),
                "integer" => "a whole number".to_owned(),
                "yen" => "a whole number of yen".to_owned(),
                "date" => "a date YYYY-MM-DD".to_owned(),
                "choice" => {
                    let choices = f
                        .get("choices")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let names: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
                    format!("one of {}", names.join(", "))
                }
                other => format!("a value of type {other}"),
            };
            return Err(format!("field `{id}` ({label}) must be {expected}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Data {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn answers_are_checked_against_the_fields() {
        let fields = json!([
            {"id": "issue", "label": "発行", "type": "bool", "choices": [], "required": true},
            {"id": "reason", "label": "理由", "type": "choice", "choices": ["未納", "一部納付"], "required": false},
            {"id": "amount", "label": "金額", "type": "yen", "choices": [], "required": false},
        ]);
        assert_eq!(
            validate_answer(&fields, &data(json!({"issue": true, "reason": "未納"}))),
            Ok(())
        );
        assert!(
            validate_answer(&fields, &data(json!({})))
                .unwrap_err()
                .contains("required")
        );
        assert!(
            validate_answer(&fields, &data(json!({"issue": "yes"})))
                .unwrap_err()
                .contains("true or false")
        );
        assert!(
            validate_answer(&fields, &data(json!({"issue": true, "reason": "x"})))
                .unwrap_err()
                .contains("one of")
        );
        assert!(
            validate_answer(&fields, &data(json!({"issue": true, "amount": 12.5})))
                .unwrap_err()
                .contains("yen")
        );
        assert!(
            validate_answer(&fields, &data(json!({"issue": true, "other": 1})))
                .unwrap_err()
                .contains("not a field")
        );
    }
}
