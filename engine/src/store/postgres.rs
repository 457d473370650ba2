//! The PostgreSQL store: several worker processes share one database; they claim items with
//! `FOR UPDATE SKIP LOCKED` and lock single items with `FOR UPDATE`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Conn = sqlx::PgConnection;
type Row = sqlx::postgres::PgRow;

const BACKEND: Backend = Backend::Postgres;

type Dbms = sqlx::Postgres;

/// The queue's order of due dates, a task without one last; the `tasks_queue_due` index
/// is on this expression.
const DUE_SORT: &str = "COALESCE(due_date, DATE '9999-12-31')";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The runtime's tables in a PostgreSQL database (the schema is the connection's
/// `search_path`, so a URL with `options[search_path]=NAME` selects another schema).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: sqlx::PgPool,
}

struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    savepoint_open: bool,
}

/// Takes the next ids from the table's identity sequence.
async fn reserve(
    conn: &mut Conn,
    table: crate::store::IdTable,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    let sql = match table {
        crate::store::IdTable::WorkItems => {
            "SELECT nextval(pg_get_serial_sequence('work_items', 'id')) FROM generate_series(1, $1)"
        }
        crate::store::IdTable::Tokens => {
            "SELECT nextval(pg_get_serial_sequence('tokens', 'id')) FROM generate_series(1, $1)"
        }
    };
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    Ok(sqlx::query_scalar(sql)
        .bind(n)
        .fetch_all(&mut *conn)
        .await?)
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names and applies the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        // Four connections per process: more only add PostgreSQL backends competing for the
        // same cores (measured with examples/api_load on 2 cores: p99 113 ms with 4, 147 ms
        // with 8). Several processes each bring their own four.
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Returns the connection pool, for tests and benchmarks that need plain SQL.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

fn db_of(conn: &mut Conn) -> Db<'_> {
    Db::Postgres(conn)
}

fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t
}

fn get_ts(row: &Row, col: &'static str) -> Result<DateTime<Utc>, StoreError> {
    Ok(row.try_get(col)?)
}

fn get_ts_opt(row: &Row, col: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(row.try_get(col)?)
}

define_queries!(PgStore, " FOR UPDATE", " FOR UPDATE SKIP LOCKED");

type StoreType = PgStore;
define_account_queries!();
define_outbox_queries!(" FOR UPDATE", " FOR UPDATE SKIP LOCKED");

// The bulk writes bind one array per column and insert from `UNNEST`: one statement and one
// plan whatever the number of rows.

/// Inserts or updates work items.
async fn write_items(conn: &mut Conn, items: &[WorkItem]) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO work_items (id, flow_id, flow_version, flow_hash, subject, data, state, parent_id, \
         parent_token_id, error, run_at, seq, head_hash, created_at, updated_at) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::timestamptz[], $12::bigint[], $13::text[], \
         $14::timestamptz[], $15::timestamptz[]) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, state = excluded.state, \
         error = excluded.error, run_at = excluded.run_at, seq = excluded.seq, \
         head_hash = excluded.head_hash, updated_at = excluded.updated_at, \
         flow_hash = excluded.flow_hash, flow_version = excluded.flow_version",
    )
    .bind(items.iter().map(|i| i.id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.flow_id.clone()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.flow_version).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.flow_hash.clone()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.subject.clone()).collect::<Vec<_>>())
    .bind(items.iter().map(data_text).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.state.as_str()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.parent_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.parent_token_id).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.error.clone()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.run_at).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.seq).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.head_hash.clone()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.created_at).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.updated_at).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts or updates tokens.
async fn write_tokens(conn: &mut Conn, tokens: &[Token]) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO tokens (id, item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
         pending_children, error, entered_at) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::timestamptz[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::timestamptz[]) \
         ON CONFLICT (id) DO UPDATE SET node = excluded.node, state = excluded.state, \
         wait = excluded.wait, wait_key = excluded.wait_key, wake_at = excluded.wake_at, \
         fork_path = excluded.fork_path, attempts = excluded.attempts, \
         pending_children = excluded.pending_children, error = excluded.error, \
         entered_at = excluded.entered_at",
    )
    .bind(tokens.iter().map(|t| t.id).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.item_id).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.node.clone()).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.state.as_str()).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.wait.map(Wait::as_str)).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.wait_key.clone()).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.wake_at).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.fork_path.clone()).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.attempts).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.pending_children).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.error.clone()).collect::<Vec<_>>())
    .bind(tokens.iter().map(|t| t.entered_at).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends transitions.
async fn write_transitions(conn: &mut Conn, transitions: &[Transition]) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO transitions (item_id, seq, at, actor, kind, from_node, to_node, data_change, \
         detail, prev_hash, hash) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], \
         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])",
    )
    .bind(transitions.iter().map(|t| t.item_id).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.seq).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.at).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.actor.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.kind.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.from_node.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.to_node.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.data_change.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.detail.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.prev_hash.clone()).collect::<Vec<_>>())
    .bind(transitions.iter().map(|t| t.hash.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
