//! The SQLite store: one file, WAL, `synchronous=NORMAL`, writes in `BEGIN IMMEDIATE`.
//!
//! Timestamps are TEXT in one fixed-width format, so comparing the text compares the time.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::runtime::clock::{format_ts, parse_ts};

type Conn = sqlx::SqliteConnection;
type Row = sqlx::sqlite::SqliteRow;

const BACKEND: Backend = Backend::Sqlite;

type Dbms = sqlx::Sqlite;

/// The queue's order of due dates, a task without one last; the `tasks_queue_due` index
/// is on this very expression, which is what lets SQLite use it for `ORDER BY`.
const DUE_SORT: &str = "COALESCE(due_date, '9999-12-31')";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The runtime's tables in a SQLite file.
///
/// Reads use a pool of connections (WAL lets them run beside a writer). Writes go through a
/// pool of exactly one connection: SQLite admits one writer at a time anyway, and waiting
/// in that pool's queue is first come, first served, where several connections racing for
/// the lock would each sleep in SQLite's busy handler (up to 100 ms a time) and add that
/// sleep to a staff member's request.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    writer: sqlx::SqlitePool,
}

struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    savepoint_open: bool,
}

/// Returns the next ids of a table: the transaction holds SQLite's only write lock, so
/// nobody else can take them before it commits.
async fn reserve(
    conn: &mut Conn,
    table: crate::store::IdTable,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    let sql = match table {
        crate::store::IdTable::WorkItems => "SELECT COALESCE(MAX(id), 0) FROM work_items",
        crate::store::IdTable::Tokens => "SELECT COALESCE(MAX(id), 0) FROM tokens",
    };
    let max: i64 = sqlx::query_scalar(sql).fetch_one(&mut *conn).await?;
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    Ok((max + 1..=max + n).collect())
}

impl SqliteStore {
    /// Opens (creating when missing) the file a `sqlite://` URL names and applies the
    /// migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self { pool, writer })
    }

    /// Returns the connection pool, for tests and benchmarks that need plain SQL.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn db_of(conn: &mut Conn) -> Db<'_> {
    Db::Sqlite(conn)
}

fn ts(t: DateTime<Utc>) -> String {
    format_ts(t)
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(format_ts)
}

fn get_ts(row: &Row, col: &'static str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.try_get(col)?;
    parse_ts(&text).ok_or_else(|| corrupt("timestamp", format!("`{col}` holds `{text}`")))
}

fn get_ts_opt(row: &Row, col: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|text| {
        parse_ts(&text).ok_or_else(|| corrupt("timestamp", format!("`{col}` holds `{text}`")))
    })
    .transpose()
}

define_queries!(SqliteStore, "", "");

type StoreType = SqliteStore;
define_account_queries!();
define_outbox_queries!("", "");

/// Writes rows with multi-row statements (`?` bind markers).
async fn write_items(conn: &mut Conn, items: &[WorkItem]) -> Result<(), StoreError> {
    for chunk in items.chunks(crate::store::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO work_items (id, flow_id, flow_version, flow_hash, subject, data, state, \
             parent_id, parent_token_id, error, run_at, seq, head_hash, created_at, updated_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, state = excluded.state, \
             error = excluded.error, run_at = excluded.run_at, seq = excluded.seq, \
             head_hash = excluded.head_hash, updated_at = excluded.updated_at, \
             flow_hash = excluded.flow_hash, flow_version = excluded.flow_version",
            crate::store::values_list(BACKEND, chunk.len(), 15)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(i.id)
                .bind(&i.flow_id)
                .bind(i.flow_version)
                .bind(&i.flow_hash)
                .bind(&i.subject)
                .bind(data_text(i))
                .bind(i.state.as_str())
                .bind(i.parent_id)
                .bind(i.parent_token_id)
                .bind(&i.error)
                .bind(ts_opt(i.run_at))
                .bind(i.seq)
                .bind(&i.head_hash)
                .bind(ts(i.created_at))
                .bind(ts(i.updated_at));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes rows with multi-row statements (`?` bind markers).
async fn write_tokens(conn: &mut Conn, tokens: &[Token]) -> Result<(), StoreError> {
    for chunk in tokens.chunks(crate::store::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO tokens (id, item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
             pending_children, error, entered_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET node = excluded.node, state = excluded.state, \
             wait = excluded.wait, wait_key = excluded.wait_key, wake_at = excluded.wake_at, \
             fork_path = excluded.fork_path, attempts = excluded.attempts, \
             pending_children = excluded.pending_children, error = excluded.error, \
             entered_at = excluded.entered_at",
            crate::store::values_list(BACKEND, chunk.len(), 12)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in chunk {
            q = q
                .bind(t.id)
                .bind(t.item_id)
                .bind(&t.node)
                .bind(t.state.as_str())
                .bind(t.wait.map(Wait::as_str))
                .bind(&t.wait_key)
                .bind(ts_opt(t.wake_at))
                .bind(&t.fork_path)
                .bind(t.attempts)
                .bind(t.pending_children)
                .bind(&t.error)
                .bind(ts(t.entered_at));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes rows with multi-row statements (`?` bind markers).
async fn write_transitions(conn: &mut Conn, transitions: &[Transition]) -> Result<(), StoreError> {
    for chunk in transitions.chunks(crate::store::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO transitions (item_id, seq, at, actor, kind, from_node, to_node, \
             data_change, detail, prev_hash, hash) VALUES {}",
            crate::store::values_list(BACKEND, chunk.len(), 11)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in chunk {
            q = q
                .bind(t.item_id)
                .bind(t.seq)
                .bind(ts(t.at))
                .bind(&t.actor)
                .bind(&t.kind)
                .bind(&t.from_node)
                .bind(&t.to_node)
                .bind(&t.data_change)
                .bind(&t.detail)
                .bind(&t.prev_hash)
                .bind(&t.hash);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
