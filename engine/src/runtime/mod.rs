//! The durable runtime: work items walk their flows, handlers run, every transition is
//! persisted in the transaction that causes it.
//!
//! Entry point: [`Runtime`]. A worker calls [`Runtime::run_batch`] in a loop; each batch is
//! one transaction that claims runnable items, moves each as far as it can go (running
//! handlers, creating tasks, timers, outbox entries and child items) and appends the
//! transitions. A crash loses at most the open batch, which simply runs again.
//!
//! Invariant: the runtime never prints and never reads the system clock; time comes from
//! the injected [`Clock`], settings from the caller.

pub mod audit;
mod cancel;
pub mod clock;
pub mod dates;
pub mod handler;
pub mod model;
mod nodes;
mod ops;
pub mod outbox;
mod queue;
mod run;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::flow::{Catalog, Flow, parse_stored};
use crate::store::{IdTable, Store, StoreError, StoreTx};
pub use cancel::{CancelReport, CancelledItem, MAX_REASON_CHARS};
pub use clock::{Clock, SystemClock, TestClock};
pub use dates::{OfficeCalendar, WeekendsOnly};
pub use handler::{Handler, HandlerContext, HandlerError, HandlerRegistry};
pub use model::*;
pub use ops::{AuditReport, Delivery, DeliveryReceipt, DeliveryTarget, MigrationReport, Refusal};
pub use outbox::{
    ExportReport, Exported, OutboxContent, OutboxKind, OutboxSink, Placed, SinkError,
    outbox_content,
};
use run::{ItemRun, Pending};

/// Returns the key a receive node waiting for `document` with a correlation value waits on.
pub fn message_wait_key(document: &str, value: &str) -> String {
    nodes::message_key(document, value)
}

/// Why a runtime operation did not happen. Nothing was changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("flow `{0}` is not registered: check that its file is among the flows")]
    UnknownFlow(String),
    #[error("the stored flow version {hash} cannot be used: {message}")]
    Definition { hash: String, message: String },
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    /// The operation does not fit the current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The input is wrong (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// A delivery was refused.
    #[error("{0}")]
    Refused(Refusal),
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Items claimed and worked on.
    pub items: usize,
    /// Transitions recorded.
    pub transitions: usize,
}

/// At most this many node actions per item per batch, so that a loop without a wait cannot
/// hold a batch forever; the item continues in the next batch.
const MAX_ACTIONS_PER_CLAIM: usize = 200;

/// Walks work items through their flows.
pub struct Runtime {
    store: Arc<dyn Store>,
    handlers: Arc<HandlerRegistry>,
    clock: Arc<dyn Clock>,
    settings: Arc<Value>,
    /// The office's working days, for `bd` periods of due dates and timers.
    calendar: Arc<dyn OfficeCalendar>,
    /// Parsed flow versions by content hash.
    flows: Mutex<HashMap<String, Arc<Flow>>>,
    /// The current version of each flow id (from the registered catalog).
    current: Mutex<HashMap<String, String>>,
}

impl Runtime {
    /// Returns a runtime on a store, with handlers and a clock.
    pub fn new(store: Arc<dyn Store>, handlers: HandlerRegistry, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            handlers: Arc::new(handlers),
            clock,
            settings: Arc::new(Value::Null),
            calendar: Arc::new(WeekendsOnly),
            flows: Mutex::new(HashMap::new()),
            current: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the settings handed to handlers.
    #[must_use]
    pub fn with_settings(mut self, settings: Value) -> Self {
        self.settings = Arc::new(settings);
        self
    }

    /// Sets the office calendar that `bd` periods count in (default: weekends only).
    #[must_use]
    pub fn with_calendar(mut self, calendar: Arc<dyn OfficeCalendar>) -> Self {
        self.calendar = calendar;
        self
    }

    /// Returns the store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Returns the handler registry.
    pub fn handlers(&self) -> &HandlerRegistry {
        &self.handlers
    }

    /// Returns the current time, cut to microseconds.
    pub fn now(&self) -> DateTime<Utc> {
        clock::truncate(self.clock.now())
    }

    /// Stores every flow of the catalog (by content hash) and makes them the versions new
    /// work items start on. Items already running keep the version they started with.
    pub async fn register_catalog(&self, catalog: &Catalog) -> Result<(), RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut result = Ok(());
        for flow in catalog.flows() {
            let def = FlowDefinition {
                hash: flow.content_hash.clone(),
                flow_id: flow.id.value.clone(),
                version: i64::from(flow.version),
                title: flow.title.clone(),
                source: flow.file.text().to_owned(),
                registered_at: now,
            };
            if let Err(err) = tx.upsert_definition(&def).await {
                result = Err(err.into());
                break;
            }
        }
        finish(tx, result).await?;
        let mut flows = self.flows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        for flow in catalog.flows() {
            flows.insert(flow.content_hash.clone(), Arc::clone(flow));
            current.insert(flow.id.value.clone(), flow.content_hash.clone());
        }
        Ok(())
    }

    /// Returns the flows new items start on (the registered catalog's), by flow id.
    pub fn current_flows(&self) -> Vec<Arc<Flow>> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let flows = self.flows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<Arc<Flow>> = current
            .values()
            .filter_map(|hash| flows.get(hash).cloned())
            .collect();
        out.sort_by(|a, b| a.id.value.cmp(&b.id.value));
        out
    }

    /// Returns the hash of the version new items of a flow start on: the registered
    /// catalog's, else the most recently stored one.
    pub async fn current_hash(&self, flow_id: &str) -> Result<Option<String>, RuntimeError> {
        let known = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(flow_id)
            .cloned();
        if known.is_some() {
            return Ok(known);
        }
        Ok(self.store.latest_definition(flow_id).await?.map(|d| d.hash))
    }

    /// Returns a flow version by content hash, reading and checking the stored text once.
    pub async fn flow_by_hash(&self, hash: &str) -> Result<Arc<Flow>, RuntimeError> {
        if let Some(flow) = self
            .flows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
        {
            return Ok(Arc::clone(flow));
        }
        let def = self
            .store
            .definition(hash)
            .await?
            .ok_or_else(|| RuntimeError::Definition {
                hash: hash.to_owned(),
                message: "it is not stored".to_owned(),
            })?;
        let path = format!("stored flow {} v{}", def.flow_id, def.version);
        let flow = parse_stored(&path, &def.source).map_err(|diags| RuntimeError::Definition {
            hash: hash.to_owned(),
            message: diags.first().map_or_else(
                || "it does not read as a flow".to_owned(),
                |d| d.message.clone(),
            ),
        })?;
        if flow.content_hash != hash {
            return Err(RuntimeError::Definition {
                hash: hash.to_owned(),
                message: "the stored text does not match its hash".to_owned(),
            });
        }
        let flow = Arc::new(flow);
        self.flows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash.to_owned(), Arc::clone(&flow));
        Ok(flow)
    }

    /// Starts one work item on the current version of a flow and returns its id.
    pub async fn start(
        &self,
        flow_id: &str,
        subject: &str,
        data: Data,
        actor: &Actor,
    ) -> Result<i64, RuntimeError> {
        let ids = self
            .start_many(flow_id, vec![(subject.to_owned(), data)], actor)
            .await?;
        Ok(ids[0])
    }

    /// Starts many work items of one flow in one transaction and returns their ids.
    pub async fn start_many(
        &self,
        flow_id: &str,
        items: Vec<(String, Data)>,
        actor: &Actor,
    ) -> Result<Vec<i64>, RuntimeError> {
        let hash = self
            .current_hash(flow_id)
            .await?
            .ok_or_else(|| RuntimeError::UnknownFlow(flow_id.to_owned()))?;
        let flow = self.flow_by_hash(&hash).await?;
        if let Some((subject, _)) = items.iter().find(|(s, _)| s.trim().is_empty()) {
            return Err(RuntimeError::Invalid(format!(
                "the subject `{subject}` is empty"
            )));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result =
            create_items(&mut *tx, &flow, items, None, &actor.to_stored(), None, now).await;
        finish(tx, result).await
    }

    /// Runs one batch: claims up to `limit` runnable items and moves each as far as it can
    /// go, in one transaction.
    pub async fn run_batch(&self, limit: usize) -> Result<BatchReport, RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result = self.run_batch_in(&mut *tx, now, limit).await;
        finish(tx, result).await
    }

    async fn run_batch_in(
        &self,
        tx: &mut dyn StoreTx,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<BatchReport, RuntimeError> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let items = tx.claim_runnable(now, limit).await?;
        let mut report = BatchReport {
            items: items.len(),
            transitions: 0,
        };
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let mut tokens = tx.live_tokens_of(&ids).await?.into_iter().peekable();
        let mut pending = Pending::default();
        for item in items {
            let mut own = Vec::new();
            while let Some(t) = tokens.next_if(|t| t.item_id == item.id) {
                own.push(t);
            }
            let mut run = ItemRun::new(item, own, now);
            match self.flow_by_hash(&run.item.flow_hash).await {
                Ok(flow) => self.advance(&mut *tx, &mut run, &flow).await?,
                Err(RuntimeError::Store(err)) => return Err(err.into()),
                Err(err) => {
                    let idx = run.actionable();
                    run.fail(idx, err.to_string());
                }
            }
            run.settle();
            pending.add(run);
        }
        report.transitions = self.flush(tx, pending, now).await?;
        Ok(report)
    }

    /// Writes a run back and, when the item just completed, tells a waiting parent.
    async fn save(&self, tx: &mut dyn StoreTx, run: ItemRun) -> Result<usize, RuntimeError> {
        let now = run.now;
        let mut pending = Pending::default();
        pending.add(run);
        self.flush(tx, pending, now).await
    }

    /// Writes what runs gathered, then counts completed children against their parents.
    async fn flush(
        &self,
        tx: &mut dyn StoreTx,
        mut pending: Pending,
        now: DateTime<Utc>,
    ) -> Result<usize, RuntimeError> {
        let n = pending.flush(tx).await?;
        for (parent, token) in std::mem::take(&mut pending.finished_children) {
            self.child_finished(tx, parent, token, now).await?;
        }
        Ok(n)
    }

    /// Counts a finished child against its parent's waiting call; the parent becomes
    /// runnable when the last one finishes.
    async fn child_finished(
        &self,
        tx: &mut dyn StoreTx,
        parent_id: i64,
        token_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), RuntimeError> {
        let Some(mut parent) = tx.lock_item(parent_id).await? else {
            return Ok(());
        };
        let tokens = tx.live_tokens(parent_id).await?;
        let Some(mut token) = tokens.into_iter().find(|t| {
            t.id == token_id && t.state == TokenState::Waiting && t.wait == Some(Wait::Children)
        }) else {
            return Ok(());
        };
        token.pending_children = (token.pending_children - 1).max(0);
        tx.update_token(&token).await?;
        if token.pending_children == 0
            && matches!(parent.state, ItemState::Running | ItemState::Waiting)
        {
            parent.state = ItemState::Running;
            parent.run_at = Some(now);
            parent.updated_at = now;
            tx.update_item(&parent).await?;
        }
        Ok(())
    }
}

/// Commits a transaction when its work succeeded, and rolls it back at once otherwise so
/// that its row locks are released before the error is returned.
pub(crate) async fn finish<T>(
    tx: Box<dyn StoreTx>,
    result: Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            // The error that stopped the work matters more than one from the rollback.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

/// Inserts work items at their start node, each with its `started` transition, in a few
/// statements.
async fn create_items(
    tx: &mut dyn StoreTx,
    flow: &Flow,
    specs: Vec<(String, Data)>,
    parent: Option<(i64, Option<i64>)>,
    actor: &str,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, RuntimeError> {
    let start = flow.start().ok_or_else(|| {
        RuntimeError::Invalid(format!("flow `{}` has no start node", flow.id.value))
    })?;
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let ids = tx.reserve_ids(IdTable::WorkItems, specs.len()).await?;
    let token_ids = tx.reserve_ids(IdTable::Tokens, specs.len()).await?;
    let mut pending = Pending::default();
    for ((subject, data), (&id, &token_id)) in specs.into_iter().zip(ids.iter().zip(&token_ids)) {
        let item = WorkItem {
            id,
            flow_id: flow.id.value.clone(),
            flow_version: i64::from(flow.version),
            flow_hash: flow.content_hash.clone(),
            subject,
            data,
            state: ItemState::Running,
            parent_id: parent.map(|p| p.0),
            parent_token_id: parent.and_then(|p| p.1),
            error: None,
            run_at: Some(now),
            seq: 0,
            head_hash: String::new(),
            created_at: now,
            updated_at: now,
        };
        let mut run = ItemRun::new(item, Vec::new(), now);
        let mut token = run.new_token(&start.id.value, String::new());
        token.id = token_id;
        run.push_new_token(token);
        let initial = run.item.data.clone();
        run.record(
            actor,
            TransitionKind::Started,
            None,
            Some(&start.id.value),
            Some(&initial),
            detail.clone(),
            now,
        );
        pending.add(run);
    }
    pending.flush(tx).await?;
    Ok(ids)
}

/// The HTTP API of the task queues runs these operations in request handlers, whose futures
/// must be `Send`; this fails to compile when one stops being so.
#[cfg(test)]
#[expect(dead_code, reason = "checked by the compiler, never called")]
fn operations_are_send(rt: &Runtime, delivery: Delivery, actor: &Actor) {
    fn send<T: Send>(_: T) {}
    send(rt.run_batch(1));
    send(rt.start("f", "s", Data::new(), actor));
    send(rt.complete_task(1, actor, Data::new()));
    send(rt.claim_task(1, "u"));
    send(rt.release_task(1, "u"));
    send(rt.deliver(delivery));
    send(rt.retry(1, actor));
    send(rt.skip(1, actor, "r"));
    send(rt.migrate_items("f", actor));
    send(rt.cancel(1, actor, "r"));
    send(rt.verify_audit());
}
