//! Stores for the behavioural suite: a fresh SQLite file, or a fresh PostgreSQL schema on
//! the database `NAGARE_TEST_PG_URL` names.

#![allow(dead_code, reason = "each test binary uses part of the support")]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use nagare_engine::store::{PgStore, SqliteStore, Store};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Returns a name no other test (in this or another process) uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A SQLite file in a fresh temporary folder (removed when dropped).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("nagare_test"));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Returns the URL of a fresh SQLite database in `dir`.
pub fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.0.join("nagare.db").display())
}

pub async fn sqlite_store(dir: &TempDir) -> Arc<dyn Store> {
    Arc::new(
        SqliteStore::open(&sqlite_url(dir))
            .await
            .expect("open sqlite store"),
    )
}

/// Returns the PostgreSQL URL of the test database; fails the test when it is not set.
pub fn pg_base_url() -> String {
    match std::env::var("NAGARE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "NAGARE_TEST_PG_URL is not set: the PostgreSQL half of the suite needs a database. \
             Start PostgreSQL and set e.g. NAGARE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test"
        ),
    }
}

/// Creates a fresh schema and returns a URL whose connections use it.
pub async fn pg_schema_url() -> String {
    let base = pg_base_url();
    let schema = unique("t").to_lowercase();
    let pool = sqlx::PgPool::connect(&base)
        .await
        .expect("connect to NAGARE_TEST_PG_URL");
    drop_schemas_of_finished_runs(&pool).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("create test schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options[search_path]={schema}")
}

/// Drops the schemas of earlier test processes that are gone (`t_PID_…`), so that a local
/// database does not fill up; schemas of running processes are left alone.
async fn drop_schemas_of_finished_runs(pool: &sqlx::PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("list schemas: {e}"));
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // Another test process may be dropping the same schema; either way it goes.
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE"
        )))
        .execute(pool)
        .await;
    }
}

pub async fn pg_store() -> Arc<dyn Store> {
    Arc::new(
        PgStore::open(&pg_schema_url().await)
            .await
            .expect("open postgres store"),
    )
}

/// Runs a statement through a store's own connection.
pub async fn exec(store: &dyn Store, sql: &'static str) {
    let mut tx = store.begin().await.expect("begin");
    tx.db()
        .execute(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.expect("commit");
}
