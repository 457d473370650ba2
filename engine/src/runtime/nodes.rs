//! What each kind of node does when a token reaches it.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::clock::{civil_date, start_of_day};
use super::handler::{HandlerContext, HandlerError};
use super::model::{
    Data, OutboxEntry, OutboxState, Task, TaskState, Timer, TokenState, TransitionKind, Wait,
};
use super::run::{ItemRun, single_next};
use super::{MAX_ACTIONS_PER_CLAIM, Runtime, RuntimeError, create_items, dates};
use crate::flow::{Flow, Node, NodeKind, expr};
use crate::store::StoreTx;

const SYSTEM: &str = "system";

/// Returns the wait before the next attempt after `attempt` failed ones: 30 s, 1 min,
/// 2 min … at most one hour.
pub(crate) fn backoff(attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    Duration::seconds((30_i64 << exp).min(3600))
}

impl Runtime {
    /// Moves an item's tokens as far as they can go now.
    pub(crate) async fn advance(
        &self,
        tx: &mut dyn StoreTx,
        run: &mut ItemRun,
        flow: &Flow,
    ) -> Result<(), RuntimeError> {
        let mut actions = 0;
        while run.item.state.is_live() && run.item.state != super::ItemState::Failed {
            let Some(idx) = run.actionable() else { break };
            if actions >= MAX_ACTIONS_PER_CLAIM {
                break;
            }
            actions += 1;
            let (state, wait, token_id, wake_at) = {
                let t = &run.tokens[idx];
                (t.state, t.wait, t.id, t.wake_at)
            };
            let Some(node) = flow.node(&run.tokens[idx].node) else {
                let message = format!(
                    "node `{}` does not exist in flow {} v{}",
                    run.tokens[idx].node, flow.id.value, flow.version
                );
                run.fail(Some(idx), message);
                break;
            };
            match (state, wait) {
                (TokenState::Waiting, Some(Wait::Retry)) => {
                    let t = run.token(idx);
                    t.state = TokenState::Ready;
                    t.wait = None;
                    t.wake_at = None;
                }
                (TokenState::Waiting, Some(Wait::Timer)) => {
                    tx.fire_timers(token_id, run.now).await?;
                    let detail = wake_at.map(|w| format!("timer for {}", civil_date(w)));
                    self.move_on(
                        run,
                        flow,
                        node,
                        idx,
                        TransitionKind::TimerFired,
                        SYSTEM,
                        None,
                        detail,
                    );
                }
                (TokenState::Waiting, Some(Wait::Children)) => {
                    self.move_on(
                        run,
                        flow,
                        node,
                        idx,
                        TransitionKind::ChildrenDone,
                        SYSTEM,
                        None,
                        None,
                    );
                }
                _ => self.act(tx, run, flow, node, idx).await?,
            }
        }
        Ok(())
    }

    /// Moves a token to its node's single next node.
    #[expect(clippy::too_many_arguments, reason = "the move and its record")]
    pub(crate) fn move_on(
        &self,
        run: &mut ItemRun,
        flow: &Flow,
        node: &Node,
        idx: usize,
        kind: TransitionKind,
        actor: &str,
        change: Option<&Data>,
        detail: Option<String>,
    ) {
        match single_next(node) {
            Some(next) => run.move_token(flow, idx, next, kind, actor, change, detail),
            None => run.fail(
                Some(idx),
                format!("node `{}` has no single next node", node.id.value),
            ),
        }
    }

    /// Does what a node does for a ready token.
    async fn act(
        &self,
        tx: &mut dyn StoreTx,
        run: &mut ItemRun,
        flow: &Flow,
        node: &Node,
        idx: usize,
    ) -> Result<(), RuntimeError> {
        let now = run.now;
        match &node.kind {
            NodeKind::Start | NodeKind::End => {
                self.move_on(
                    run,
                    flow,
                    node,
                    idx,
                    TransitionKind::Moved,
                    SYSTEM,
                    None,
                    None,
                );
            }
            NodeKind::System {
                handler, retries, ..
            } => {
                self.run_handler(
                    tx,
                    run,
                    flow,
                    node,
                    idx,
                    &handler.value,
                    i64::from(*retries),
                )
                .await?;
            }
            NodeKind::Manual { fields, due } => {
                let entered = civil_date(run.tokens[idx].entered_at);
                let due_date = match due
                    .as_ref()
                    .map(|rule| dates::resolve(rule, &run.item.data, entered, &*self.calendar))
                {
                    None => None,
                    Some(Ok(date)) => Some(date),
                    Some(Err(message)) => {
                        run.fail(
                            Some(idx),
                            format!("due date of task `{}`: {message}", node.id.value),
                        );
                        return Ok(());
                    }
                };
                let lane = flow.lane(&node.lane.value);
                let role = lane
                    .and_then(|l| l.role.as_ref())
                    .map_or_else(|| node.lane.value.clone(), |r| r.value.clone());
                let fields: Vec<Value> = fields
                    .iter()
                    .map(|f| {
                        json!({
                            "id": f.id.value,
                            "label": f.label,
                            "type": f.kind.as_str(),
                            "choices": f.choices,
                            "required": f.required,
                        })
                    })
                    .collect();
                let task = Task {
                    id: 0,
                    item_id: run.item.id,
                    token_id: run.tokens[idx].id,
                    flow_id: run.item.flow_id.clone(),
                    node: node.id.value.clone(),
                    step: node.step.as_ref().map(|s| s.value.clone()),
                    name: node.display_name().to_owned(),
                    lane: node.lane.value.clone(),
                    role,
                    subject: run.item.subject.clone(),
                    fields: Value::Array(fields),
                    due_date,
                    state: TaskState::Open,
                    claimed_by: None,
                    claimed_at: None,
                    completed_by: None,
                    completed_at: None,
                    answer: None,
                    created_at: now,
                };
                let task_id = tx.insert_task(&task).await?;
                let t = run.token(idx);
                t.state = TokenState::Waiting;
                t.wait = Some(Wait::Task);
                t.wait_key = Some(task_id.to_string());
            }
            NodeKind::Decision => self.decide(run, flow, node, idx),
            NodeKind::Parallel => {
                let parent = run.tokens[idx].clone();
                let path = if parent.fork_path.is_empty() {
                    parent.id.to_string()
                } else {
                    format!("{}/{}", parent.fork_path, parent.id)
                };
                run.token(idx).state = TokenState::Done;
                for edge in &node.next {
                    let mut branch = run.new_token(&node.id.value, path.clone());
                    branch.id = tx.insert_token(&branch).await?;
                    let b = run.push_token(branch);
                    run.move_token(
                        flow,
                        b,
                        &edge.to.value,
                        TransitionKind::Moved,
                        SYSTEM,
                        None,
                        edge.label.clone(),
                    );
                }
            }
            NodeKind::Join => self.join(tx, run, flow, node, idx).await?,
            NodeKind::Receive {
                document,
                correlation,
                ..
            } => {
                let key = match correlation {
                    Some(field) => match correlation_value(&run.item.data, field) {
                        Some(value) => message_key(&document.value, &value),
                        None => {
                            let message = format!(
                                "receive `{}` correlates on data field `{field}`, which is missing or not a string or number",
                                node.id.value
                            );
                            run.fail(Some(idx), message);
                            return Ok(());
                        }
                    },
                    None => item_key(run.item.id, &node.id.value),
                };
                let t = run.token(idx);
                t.state = TokenState::Waiting;
                t.wait = Some(Wait::Message);
                t.wait_key = Some(key);
            }
            NodeKind::Send { to, document } => {
                let entry = OutboxEntry {
                    id: 0,
                    item_id: run.item.id,
                    node: node.id.value.clone(),
                    document: document.value.clone(),
                    recipient: Some(to.value.clone()),
                    payload: json!({
                        "subject": run.item.subject,
                        "document": document.value,
                        "content": run.item.data.get(&document.value).cloned().unwrap_or(Value::Null),
                    }),
                    state: OutboxState::Pending,
                    created_at: now,
                    sent_at: None,
                    sent_by: None,
                    sent_as: None,
                    sent_sha256: None,
                    sent_to: None,
                };
                let id = tx.insert_outbox(&entry).await?;
                let detail = format!("outbox {id}: {} to {}", document.value, to.value);
                self.move_on(
                    run,
                    flow,
                    node,
                    idx,
                    TransitionKind::Moved,
                    SYSTEM,
                    None,
                    Some(detail),
                );
            }
            NodeKind::Call {
                flow: target,
                wait,
                for_each,
            } => {
                self.call(
                    tx,
                    run,
                    flow,
                    node,
                    idx,
                    &target.value,
                    *wait,
                    for_each.as_deref(),
                )
                .await?;
            }
            NodeKind::OutOfScope { system, waits } => {
                if *waits {
                    let key = item_key(run.item.id, &node.id.value);
                    let t = run.token(idx);
                    t.state = TokenState::Waiting;
                    t.wait = Some(Wait::External);
                    t.wait_key = Some(key);
                } else {
                    let detail = format!("done outside this system ({})", system.as_str());
                    self.move_on(
                        run,
                        flow,
                        node,
                        idx,
                        TransitionKind::Moved,
                        SYSTEM,
                        None,
                        Some(detail),
                    );
                }
            }
            NodeKind::Timer { wait } => {
                let entered = civil_date(run.tokens[idx].entered_at);
                let date = match dates::resolve(wait, &run.item.data, entered, &*self.calendar) {
                    Ok(date) => date,
                    Err(message) => {
                        run.fail(Some(idx), format!("timer `{}`: {message}", node.id.value));
                        return Ok(());
                    }
                };
                let wake_at = start_of_day(date);
                let timer = Timer {
                    id: 0,
                    item_id: run.item.id,
                    token_id: run.tokens[idx].id,
                    node: node.id.value.clone(),
                    wake_at,
                    fired_at: (wake_at <= now).then_some(now),
                    cancelled_at: None,
                };
                tx.insert_timer(&timer).await?;
                if wake_at <= now {
                    let detail = Some(format!("timer for {date}"));
                    self.move_on(
                        run,
                        flow,
                        node,
                        idx,
                        TransitionKind::TimerFired,
                        SYSTEM,
                        None,
                        detail,
                    );
                } else {
                    let t = run.token(idx);
                    t.state = TokenState::Waiting;
                    t.wait = Some(Wait::Timer);
                    t.wake_at = Some(wake_at);
                }
            }
            NodeKind::Invalid => {
                run.fail(
                    Some(idx),
                    format!("node `{}` has an invalid kind", node.id.value),
                );
            }
        }
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "the step and where it runs")]
    async fn run_handler(
        &self,
        tx: &mut dyn StoreTx,
        run: &mut ItemRun,
        flow: &Flow,
        node: &Node,
        idx: usize,
        name: &str,
        retries: i64,
    ) -> Result<(), RuntimeError> {
        let Some(handler) = self.handlers.get(name) else {
            run.fail(
                Some(idx),
                format!("no handler is registered under the name `{name}`"),
            );
            return Ok(());
        };
        let attempt = run.tokens[idx].attempts + 1;
        let mut ctx = HandlerContext {
            item: &run.item,
            node: &node.id.value,
            step: node.step.as_ref().map(|s| s.value.as_str()),
            attempt,
            patch: Data::new(),
            tx: &mut *tx,
            savepoint: false,
            now: run.now,
            settings: &self.settings,
        };
        let result = handler.run(&mut ctx).await;
        let (patch, savepoint) = (std::mem::take(&mut ctx.patch), ctx.savepoint);
        drop(ctx);
        match result {
            Ok(()) => {
                if savepoint {
                    tx.release_savepoint().await?;
                }
                run.apply(&patch);
                self.move_on(
                    run,
                    flow,
                    node,
                    idx,
                    TransitionKind::Moved,
                    SYSTEM,
                    Some(&patch),
                    None,
                );
            }
            Err(err) => {
                if savepoint {
                    tx.rollback_savepoint().await?;
                }
                tracing::warn!(item = run.item.id, node = %node.id.value, attempt, "step handler failed");
                let permanent = matches!(err, HandlerError::Permanent(_));
                run.token(idx).attempts = attempt;
                if permanent || attempt > retries {
                    let message = if permanent {
                        format!("step `{}` failed: {err}", node.id.value)
                    } else {
                        format!(
                            "step `{}` failed after {attempt} attempts: {err}",
                            node.id.value
                        )
                    };
                    run.fail(Some(idx), message);
                } else {
                    let wake = run.now + backoff(attempt);
                    let detail = format!(
                        "attempt {attempt} of {} failed: {err}; next attempt at {}",
                        retries + 1,
                        wake.with_timezone(&Utc).format("%Y-%m-%d %H:%M:%S UTC")
                    );
                    let now = run.now;
                    let at = Some(node.id.value.as_str());
                    run.record(
                        SYSTEM,
                        TransitionKind::StepFailed,
                        at,
                        at,
                        None,
                        Some(detail),
                        now,
                    );
                    let t = run.token(idx);
                    t.state = TokenState::Waiting;
                    t.wait = Some(Wait::Retry);
                    t.wake_at = Some(wake);
                    t.error = Some(err.to_string());
                }
            }
        }
        Ok(())
    }

    fn decide(&self, run: &mut ItemRun, flow: &Flow, node: &Node, idx: usize) {
        let data = Value::Object(run.item.data.clone());
        for edge in &node.next {
            let Some(when) = &edge.when else { continue };
            match expr::evaluate(&when.value, &data) {
                Ok(true) => {
                    let detail = edge
                        .label
                        .clone()
                        .unwrap_or_else(|| format!("when {}", when.value));
                    run.move_token(
                        flow,
                        idx,
                        &edge.to.value,
                        TransitionKind::Moved,
                        SYSTEM,
                        None,
                        Some(detail),
                    );
                    return;
                }
                Ok(false) => {}
                Err(message) => {
                    let message = format!(
                        "decision `{}`: the condition `{}` cannot be evaluated: {message}",
                        node.id.value, when.value
                    );
                    run.fail(Some(idx), message);
                    return;
                }
            }
        }
        match node.next.iter().find(|e| e.default) {
            Some(edge) => {
                let detail = edge.label.clone().unwrap_or_else(|| "default".to_owned());
                run.move_token(
                    flow,
                    idx,
                    &edge.to.value,
                    TransitionKind::Moved,
                    SYSTEM,
                    None,
                    Some(detail),
                );
            }
            None => {
                let message = format!(
                    "decision `{}`: no branch matched and there is no default",
                    node.id.value
                );
                run.fail(Some(idx), message);
            }
        }
    }

    async fn join(
        &self,
        tx: &mut dyn StoreTx,
        run: &mut ItemRun,
        flow: &Flow,
        node: &Node,
        idx: usize,
    ) -> Result<(), RuntimeError> {
        let path = run.tokens[idx].fork_path.clone();
        if path.is_empty() {
            // Not inside a split: nothing to wait for.
            self.move_on(
                run,
                flow,
                node,
                idx,
                TransitionKind::Moved,
                SYSTEM,
                None,
                None,
            );
            return Ok(());
        }
        run.token(idx).state = TokenState::Joined;
        let siblings: Vec<usize> = (0..run.tokens.len())
            .filter(|&i| run.tokens[i].fork_path == path && run.tokens[i].state != TokenState::Done)
            .collect();
        let all_here = siblings.iter().all(|&i| {
            run.tokens[i].state == TokenState::Joined && run.tokens[i].node == node.id.value
        });
        if !all_here {
            return Ok(());
        }
        for &i in &siblings {
            run.token(i).state = TokenState::Done;
        }
        let outer = path
            .rsplit_once('/')
            .map_or("", |(outer, _)| outer)
            .to_owned();
        let mut merged = run.new_token(&node.id.value, outer);
        merged.id = tx.insert_token(&merged).await?;
        let m = run.push_token(merged);
        let detail = format!("{} branches joined", siblings.len());
        self.move_on(
            run,
            flow,
            node,
            m,
            TransitionKind::Moved,
            SYSTEM,
            None,
            Some(detail),
        );
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "the call node's fields")]
    async fn call(
        &self,
        tx: &mut dyn StoreTx,
        run: &mut ItemRun,
        flow: &Flow,
        node: &Node,
        idx: usize,
        target: &str,
        wait: bool,
        for_each: Option<&str>,
    ) -> Result<(), RuntimeError> {
        let child_flow = match self.current_hash(target).await? {
            Some(hash) => match self.flow_by_hash(&hash).await {
                Ok(f) => f,
                Err(RuntimeError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    run.fail(Some(idx), format!("call `{}`: {e}", node.id.value));
                    return Ok(());
                }
            },
            None => {
                run.fail(
                    Some(idx),
                    format!(
                        "call `{}`: flow `{target}` is not registered",
                        node.id.value
                    ),
                );
                return Ok(());
            }
        };
        let children: Vec<(String, Data)> = match for_each {
            None => vec![(run.item.subject.clone(), run.item.data.clone())],
            Some(field) => match run.item.data.get(field) {
                Some(Value::Array(elements)) => elements
                    .iter()
                    .enumerate()
                    .map(|(i, e)| child_of(&run.item.subject, i, e))
                    .collect(),
                _ => {
                    let message = format!(
                        "call `{}`: data field `{field}` should hold a list (for_each)",
                        node.id.value
                    );
                    run.fail(Some(idx), message);
                    return Ok(());
                }
            },
        };
        let token_id = run.tokens[idx].id;
        let parent = (run.item.id, wait.then_some(token_id));
        let detail = format!("called by item {} at `{}`", run.item.id, node.id.value);
        let n = children.len();
        create_items(
            tx,
            &child_flow,
            children,
            Some(parent),
            SYSTEM,
            Some(detail),
            run.now,
        )
        .await?;
        if wait && n > 0 {
            let t = run.token(idx);
            t.state = TokenState::Waiting;
            t.wait = Some(Wait::Children);
            t.pending_children = i64::try_from(n).unwrap_or(i64::MAX);
        } else {
            let detail = format!("started {n} item(s) of flow {target}");
            self.move_on(
                run,
                flow,
                node,
                idx,
                TransitionKind::Moved,
                SYSTEM,
                None,
                Some(detail),
            );
        }
        Ok(())
    }
}

/// Returns a child's subject and data for one element of a `for_each` list: an object is
/// the child's data (its `subject` field, when a string, its subject); any other value is
/// put under `item`. Children without a subject are `PARENT#N`.
fn child_of(parent_subject: &str, i: usize, element: &Value) -> (String, Data) {
    let data = match element {
        Value::Object(map) => map.clone(),
        other => {
            let mut d = Data::new();
            d.insert("item".to_owned(), other.clone());
            d
        }
    };
    let subject = match data.get("subject") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => format!("{parent_subject}#{}", i + 1),
    };
    (subject, data)
}

/// Returns a correlation value as text: strings as they are, numbers written out.
pub(crate) fn correlation_value(data: &Data, field: &str) -> Option<String> {
    match data.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The key a receive node with a correlation waits under.
pub(crate) fn message_key(document: &str, value: &str) -> String {
    format!("{document}|{value}")
}

/// The key a receive node without correlation, or an out-of-scope node that waits, waits
/// under: the item and the node.
pub(crate) fn item_key(item_id: i64, node: &str) -> String {
    format!("@{item_id}/{node}")
}
