//! Persistence of the runtime: one [`Store`] trait, two implementations (SQLite and
//! PostgreSQL) on sqlx with runtime queries. The SQL text is shared where the dialects agree
//! (both accept `$1` parameters, `RETURNING` and `ON CONFLICT`); the differences are the
//! row locks (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one writer in `BEGIN IMMEDIATE` on
//! SQLite) and how timestamps are kept (TEXT on SQLite, TIMESTAMPTZ on PostgreSQL).
//!
//! Invariant: every change to an item's tokens, tasks and timers happens while the item's
//! row is locked ([`StoreTx::claim_runnable`] or [`StoreTx::lock_item`]) in the same
//! transaction, so several workers never move the same item at once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::runtime::model::{
    ChainHead, FlowDefinition, ItemState, Message, OutboxEntry, Task, TaskState, Timer, Token,
    Transition, WorkItem,
};

#[macro_use]
mod queries;
#[macro_use]
pub mod accounts;
#[macro_use]
pub mod outbox;
pub mod postgres;
pub mod sqlite;

pub use accounts::{AccountStore, AccountTx, Comment, Reassignment, User};
pub use outbox::{OutboxFilter, OutboxStore, OutboxTx, SentRecord};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL scheme `{0}`: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
}

impl StoreError {
    /// Returns whether trying the same transaction again may succeed (lock conflicts,
    /// deadlocks, a busy SQLite file).
    pub fn is_transient(&self) -> bool {
        let Self::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Database(db) => {
                let code = db.code();
                matches!(
                    code.as_deref(),
                    // PostgreSQL: serialization failure, deadlock, lock not available.
                    Some("40001" | "40P01" | "55P03")
                    // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
                    | Some("5" | "6" | "261" | "262" | "517" | "773")
                )
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
            _ => false,
        }
    }
}

/// Returns `(…), (…)` with the bind markers of a multi-row statement of `rows` rows of
/// `cols` values: `?` on SQLite (binding numbered parameters there costs time quadratic in
/// their count), `$1, $2 …` on PostgreSQL.
pub fn values_list(backend: Backend, rows: usize, cols: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = 1;
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    let _ = write!(s, "${n}");
                }
            }
            n += 1;
        }
        s.push(')');
    }
    s
}

/// Rows per multi-row statement: well below both databases' limits on parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;

pub(crate) fn corrupt(table: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        message: message.into(),
    }
}

/// Tables whose ids [`StoreTx::reserve_ids`] hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTable {
    WorkItems,
    Tokens,
}

/// Which database a store uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection of an open transaction, for handlers that write their own effects with
/// typed sqlx queries. Statements run inside the step's transaction.
pub enum Db<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// A value bound to a portable statement (`$1`, `$2` … on both databases).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    Date(NaiveDate),
    /// Bound as JSON text.
    Json(serde_json::Value),
    /// Bound as each store keeps times (fixed-format TEXT on SQLite, TIMESTAMPTZ on
    /// PostgreSQL).
    Timestamp(DateTime<Utc>),
}

impl Db<'_> {
    /// Runs one statement with `$n` parameters and returns the number of rows changed.
    pub async fn execute(
        &mut self,
        sql: impl sqlx::SqlSafeStr,
        params: &[Param],
    ) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(conn) => {
                let mut q = sqlx::query::<sqlx::Sqlite>(sql);
                for p in params {
                    q = match p {
                        Param::Null => q.bind(None::<String>),
                        Param::Bool(v) => q.bind(*v),
                        Param::Int(v) => q.bind(*v),
                        Param::Text(v) => q.bind(v.clone()),
                        Param::Date(v) => q.bind(*v),
                        Param::Json(v) => q.bind(v.to_string()),
                        Param::Timestamp(t) => q.bind(crate::runtime::clock::format_ts(*t)),
                    };
                }
                Ok(q.execute(&mut **conn).await?.rows_affected())
            }
            Self::Postgres(conn) => {
                let mut q = sqlx::query::<sqlx::Postgres>(sql);
                for p in params {
                    q = match p {
                        Param::Null => q.bind(None::<String>),
                        Param::Bool(v) => q.bind(*v),
                        Param::Int(v) => q.bind(*v),
                        Param::Text(v) => q.bind(v.clone()),
                        Param::Date(v) => q.bind(*v),
                        Param::Json(v) => q.bind(v.to_string()),
                        Param::Timestamp(t) => q.bind(*t),
                    };
                }
                Ok(q.execute(&mut **conn).await?.rows_affected())
            }
        }
    }
}

/// Which work items to list.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    pub flow_id: Option<String>,
    pub state: Option<ItemState>,
    pub parent_id: Option<i64>,
    /// Only items with an id greater than this (for paging).
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
}

/// Which tasks to list; ordered by due date (tasks without one last), then id.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub role: Option<String>,
    pub flow_id: Option<String>,
    pub node: Option<String>,
    /// The seed's step number (`"002"`).
    pub step: Option<String>,
    pub state: Option<TaskState>,
    pub item_id: Option<i64>,
    /// Only tasks this user has claimed.
    pub claimed_by: Option<String>,
    /// Only open tasks whose due date is before this date.
    pub overdue_on: Option<NaiveDate>,
    pub limit: Option<i64>,
}

/// Reading and writing the runtime's tables.
#[async_trait]
pub trait Store: AccountStore + OutboxStore + Send + Sync {
    /// Returns which database this is.
    fn backend(&self) -> Backend;

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError>;

    /// Returns a stored flow version.
    async fn definition(&self, hash: &str) -> Result<Option<FlowDefinition>, StoreError>;
    /// Returns the most recently registered version of a flow.
    async fn latest_definition(&self, flow_id: &str) -> Result<Option<FlowDefinition>, StoreError>;

    /// Returns one work item.
    async fn item(&self, id: i64) -> Result<Option<WorkItem>, StoreError>;
    /// Returns work items by id.
    async fn items(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, StoreError>;
    /// Returns the number of items in each state.
    async fn item_counts(&self, flow_id: Option<&str>)
    -> Result<Vec<(ItemState, i64)>, StoreError>;
    /// Returns the tokens of an item that are not done.
    async fn tokens(&self, item_id: i64) -> Result<Vec<Token>, StoreError>;
    /// Returns the transitions of an item in order.
    async fn history(&self, item_id: i64) -> Result<Vec<Transition>, StoreError>;

    /// Returns tasks.
    async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>, StoreError>;
    /// Returns one task.
    async fn task(&self, id: i64) -> Result<Option<Task>, StoreError>;
    /// Returns the messages delivered to an item.
    async fn messages(&self, item_id: i64) -> Result<Vec<Message>, StoreError>;
    /// Returns the outbox entries of an item, or the pending ones of every item.
    async fn outbox(&self, item_id: Option<i64>) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Returns the timers of an item.
    async fn timers(&self, item_id: i64) -> Result<Vec<Timer>, StoreError>;

    /// Returns the chain heads of up to `limit` items with an id above `after`, in id order,
    /// and all their transitions (by item, then seq).
    async fn audit_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<ChainHead>, Vec<Transition>), StoreError>;
}

/// One open write transaction. Dropping it without [`StoreTx::commit`] rolls it back.
#[async_trait]
pub trait StoreTx: AccountTx + OutboxTx + Send {
    /// Returns the transaction's connection, for handlers' own statements.
    fn db(&mut self) -> Db<'_>;
    /// Commits.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Rolls back at once (a dropped transaction rolls back only when its connection is
    /// next used, holding its locks until then).
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;

    /// Sets the handler savepoint (one at a time).
    async fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps the changes since the handler savepoint (the savepoint itself may be released
    /// later, with the next one or at commit).
    async fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Returns `n` new ids for rows of a table, for inserting many rows at once.
    async fn reserve_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError>;
    /// Undoes everything since the handler savepoint.
    async fn rollback_savepoint(&mut self) -> Result<(), StoreError>;

    /// Stores a flow version unless it is already stored.
    async fn upsert_definition(&mut self, def: &FlowDefinition) -> Result<(), StoreError>;

    /// Inserts a work item (its `id` is ignored) and returns its id.
    async fn insert_item(&mut self, item: &WorkItem) -> Result<i64, StoreError>;
    /// Locks and returns up to `limit` items whose `run_at` has come, oldest first,
    /// skipping items another transaction holds.
    async fn claim_runnable(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<WorkItem>, StoreError>;
    /// Locks and returns one item, waiting for another transaction that holds it.
    async fn lock_item(&mut self, id: i64) -> Result<Option<WorkItem>, StoreError>;
    /// Writes back items' data, state, error, run_at, chain head and flow version.
    async fn update_items(&mut self, items: &[WorkItem]) -> Result<(), StoreError>;
    /// Writes back one item.
    async fn update_item(&mut self, item: &WorkItem) -> Result<(), StoreError> {
        self.update_items(std::slice::from_ref(item)).await
    }
    /// Returns the ids of live items of a flow that run on another version than `hash`.
    async fn items_on_other_versions(
        &mut self,
        flow_id: &str,
        hash: &str,
    ) -> Result<Vec<i64>, StoreError>;

    /// Returns the tokens of an item that are not done.
    async fn live_tokens(&mut self, item_id: i64) -> Result<Vec<Token>, StoreError> {
        self.live_tokens_of(&[item_id]).await
    }
    /// Returns the tokens of several items that are not done, by item then id.
    async fn live_tokens_of(&mut self, item_ids: &[i64]) -> Result<Vec<Token>, StoreError>;
    /// Inserts a token (its `id` is ignored) and returns its id.
    async fn insert_token(&mut self, token: &Token) -> Result<i64, StoreError>;
    /// Writes back tokens.
    async fn update_tokens(&mut self, tokens: &[Token]) -> Result<(), StoreError>;
    /// Writes back one token.
    async fn update_token(&mut self, token: &Token) -> Result<(), StoreError> {
        self.update_tokens(std::slice::from_ref(token)).await
    }
    /// Returns waiting tokens of any item that wait for the given key.
    async fn waiting_tokens(
        &mut self,
        wait: crate::runtime::model::Wait,
        key: &str,
    ) -> Result<Vec<Token>, StoreError>;

    /// Appends transitions.
    async fn insert_transitions(&mut self, transitions: &[Transition]) -> Result<(), StoreError>;

    /// Inserts a task (its `id` is ignored) and returns its id.
    async fn insert_task(&mut self, task: &Task) -> Result<i64, StoreError>;
    /// Locks and returns a task.
    async fn lock_task(&mut self, id: i64) -> Result<Option<Task>, StoreError>;
    /// Locks and returns the first open, unclaimed task of `filter.role` in queue order
    /// (due date, then id), narrowed by the filter's flow, node and step. On PostgreSQL a
    /// task that another transaction holds is skipped, so clerks asking at the same moment
    /// get different tasks instead of waiting for each other.
    async fn lock_next_task(&mut self, filter: &TaskFilter) -> Result<Option<Task>, StoreError>;
    /// Writes back a task's state, claim, completion and answer.
    async fn update_task(&mut self, task: &Task) -> Result<(), StoreError>;
    /// Returns the open tasks of a token.
    async fn open_tasks_of_token(&mut self, token_id: i64) -> Result<Vec<Task>, StoreError>;

    /// Inserts a message unless its delivery id is known; returns its id, or `None` for a
    /// duplicate.
    async fn insert_message(&mut self, message: &Message) -> Result<Option<i64>, StoreError>;
    /// Returns whether a delivery id is known.
    async fn message_exists(&mut self, delivery_id: &str) -> Result<bool, StoreError>;
    /// Inserts an outbox entry and returns its id.
    async fn insert_outbox(&mut self, entry: &OutboxEntry) -> Result<i64, StoreError>;
    /// Inserts a timer and returns its id.
    async fn insert_timer(&mut self, timer: &Timer) -> Result<i64, StoreError>;
    /// Marks the unfired timers of a token as fired.
    async fn fire_timers(&mut self, token_id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Withdraws the timers of an item that have not fired (the item is cancelled) and
    /// returns their ids.
    async fn withdraw_timers(
        &mut self,
        item_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Returns the ids of the running, waiting or failed child items of an item.
    async fn live_children(&mut self, parent_id: i64) -> Result<Vec<i64>, StoreError>;
}

/// Opens the store a URL names (`sqlite://FILE`, `postgres://…`; a plain path is a SQLite
/// file), creating a SQLite file when missing, and applies the migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if !url.contains("://") && !url.starts_with("sqlite:") {
        return Ok(Arc::new(
            SqliteStore::open(&format!("sqlite://{url}")).await?,
        ));
    }
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        // Only the scheme: the rest may hold a password.
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        Err(StoreError::UnsupportedUrl(scheme.to_owned()))
    }
}
