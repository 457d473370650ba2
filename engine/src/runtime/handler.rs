//! Step handlers: the Rust code behind `system` nodes, registered by name.
//!
//! A handler runs inside the transaction that records the step's transition: what it writes
//! through [`HandlerContext::db`], [`HandlerContext::execute`] and
//! [`HandlerContext::outbox`] commits together with the move to the next node, or not at
//! all. A failed handler's writes are undone (a savepoint is set before its first write).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::clock::civil_date;
use super::model::{Data, OutboxEntry, OutboxState, WorkItem};
use crate::store::{Db, Param, StoreError, StoreTx};

/// The code behind a `system` node.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Does the step. Returning `Ok` moves the item on; the data changes and the writes made
    /// through the context commit with that move.
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError>;
}

/// Why a handler did not finish.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// May work when tried again (a file not there yet, a conflict): retried with backoff up
    /// to the node's `retries`.
    #[error("{0}")]
    Failed(String),
    /// Will not work until someone changes something (invalid data): the item fails at once.
    #[error("{0}")]
    Permanent(String),
    /// A statement of the handler failed; retried like [`HandlerError::Failed`].
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for HandlerError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(err))
    }
}

/// Handlers by the name flows use (`demand.create_letters`).
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: BTreeMap<String, Arc<dyn Handler>>,
}

impl HandlerRegistry {
    /// Returns an empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a handler under a name, replacing an earlier one of that name.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        handler: impl Handler + 'static,
    ) -> &mut Self {
        self.handlers.insert(name.into(), Arc::new(handler));
        self
    }

    /// Returns the handler of a name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(name)
    }

    /// Returns whether a handler is registered under a name.
    pub fn contains(&self, name: &str) -> bool {
        self.handlers.contains_key(name)
    }

    /// Returns every registered name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

/// What a handler sees and may change.
pub struct HandlerContext<'a> {
    pub(crate) item: &'a WorkItem,
    pub(crate) node: &'a str,
    pub(crate) step: Option<&'a str>,
    pub(crate) attempt: i64,
    pub(crate) patch: Data,
    pub(crate) tx: &'a mut dyn StoreTx,
    pub(crate) savepoint: bool,
    pub(crate) now: DateTime<Utc>,
    pub(crate) settings: &'a Value,
}

impl<'a> HandlerContext<'a> {
    /// Returns the work item's id.
    pub fn item_id(&self) -> i64 {
        self.item.id
    }

    /// Returns the flow id (`"4.7"`).
    pub fn flow_id(&self) -> &str {
        &self.item.flow_id
    }

    /// Returns the subject (an identifier of the person, household or batch).
    pub fn subject(&self) -> &str {
        &self.item.subject
    }

    /// Returns the node being run.
    pub fn node(&self) -> &str {
        self.node
    }

    /// Returns the seed's step number of the node, when it has one.
    pub fn step(&self) -> Option<&str> {
        self.step
    }

    /// Returns which attempt this is: 1 for the first run, 2 for the first retry …
    pub fn attempt(&self) -> i64 {
        self.attempt
    }

    /// Returns a data field, with this run's changes applied.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.patch.get(key) {
            Some(Value::Null) => None,
            Some(v) => Some(v),
            None => self.item.data.get(key),
        }
    }

    /// Returns the data as it was when the step started.
    pub fn data(&self) -> &Data {
        &self.item.data
    }

    /// Sets a data field; recorded in the transition when the step succeeds.
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        self.patch.insert(key.into(), value);
    }

    /// Removes a data field.
    pub fn remove(&mut self, key: impl Into<String>) {
        self.patch.insert(key.into(), Value::Null);
    }

    /// Returns the time the step runs at (from the injected clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Returns today's date in Japan.
    pub fn today(&self) -> NaiveDate {
        civil_date(self.now)
    }

    /// Returns the settings (an opaque JSON value the binary loads).
    pub fn settings(&self) -> &Value {
        self.settings
    }

    async fn ensure_savepoint(&mut self) -> Result<(), StoreError> {
        if !self.savepoint {
            self.tx.savepoint().await?;
            self.savepoint = true;
        }
        Ok(())
    }

    /// Returns the step's database connection, inside its transaction.
    pub async fn db(&mut self) -> Result<Db<'_>, HandlerError> {
        self.ensure_savepoint().await?;
        Ok(self.tx.db())
    }

    /// Runs one statement (`$1`, `$2` … parameters, valid on both databases) in the step's
    /// transaction and returns the number of rows changed.
    pub async fn execute(
        &mut self,
        sql: &'static str,
        params: &[Param],
    ) -> Result<u64, HandlerError> {
        self.ensure_savepoint().await?;
        Ok(self.tx.db().execute(sql, params).await?)
    }

    /// Queues an outbound document or file; it is written only if the step commits, so a
    /// retried step never sends twice. Returns the outbox entry's id.
    pub async fn outbox(
        &mut self,
        document: &str,
        recipient: Option<&str>,
        payload: Value,
    ) -> Result<i64, HandlerError> {
        self.ensure_savepoint().await?;
        let entry = OutboxEntry {
            id: 0,
            item_id: self.item.id,
            node: self.node.to_owned(),
            document: document.to_owned(),
            recipient: recipient.map(str::to_owned),
            payload,
            state: OutboxState::Pending,
            created_at: self.now,
            sent_at: None,
            sent_by: None,
            sent_as: None,
            sent_sha256: None,
            sent_to: None,
        };
        Ok(self.tx.insert_outbox(&entry).await?)
    }
}
