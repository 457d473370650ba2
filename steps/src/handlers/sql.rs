//! Portable statements on the ledger: `$1` parameters, INTEGER/BIGINT and TEXT columns only,
//! so one SQL text runs on SQLite and PostgreSQL.

use nagare_engine::store::{Db, Param, StoreError};
use sqlx::Row as _;

/// One cell of a result row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// One result row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row(pub Vec<Cell>);

impl Row {
    /// The integer in column `i` (0 for NULL, as in `SUM` over no rows).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Cell::Int(v)) => *v,
            Some(Cell::Text(t)) => t.parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// The text in column `i` ("" for NULL).
    pub fn text(&self, i: usize) -> String {
        match self.0.get(i) {
            Some(Cell::Text(t)) => t.clone(),
            Some(Cell::Int(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// The text in column `i`, `None` for NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Cell::Null) | None => None,
            _ => Some(self.text(i)),
        }
    }
}

macro_rules! bind_all {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                Param::Null => q.bind(None::<String>),
                Param::Bool(v) => q.bind(*v),
                Param::Int(v) => q.bind(*v),
                Param::Text(v) => q.bind(v.clone()),
                // Ledger dates are TEXT on both databases.
                Param::Date(v) => q.bind(v.format("%Y-%m-%d").to_string()),
                Param::Json(v) => q.bind(v.to_string()),
                // Ledger times are TEXT too, in the runtime's one fixed format.
                Param::Timestamp(v) => q.bind(nagare_engine::runtime::clock::format_ts(*v)),
            };
        }
        q
    }};
}

/// Runs a query and returns its rows.
pub async fn fetch(
    db: &mut Db<'_>,
    sql: &'static str,
    params: &[Param],
) -> Result<Vec<Row>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let q = bind_all!(sqlx::query::<sqlx::Sqlite>(sql), params);
            let rows = q.fetch_all(&mut **conn).await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Row((0..r.len())
                        .map(|i| {
                            if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                                v.map_or(Cell::Null, Cell::Int)
                            } else {
                                r.try_get::<Option<String>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map_or(Cell::Null, Cell::Text)
                            }
                        })
                        .collect())
                })
                .collect())
        }
        Db::Postgres(conn) => {
            let q = bind_all!(sqlx::query::<sqlx::Postgres>(sql), params);
            let rows = q.fetch_all(&mut **conn).await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Row((0..r.len())
                        .map(|i| {
                            if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                                v.map_or(Cell::Null, Cell::Int)
                            } else {
                                r.try_get::<Option<String>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map_or(Cell::Null, Cell::Text)
                            }
                        })
                        .collect())
                })
                .collect())
        }
    }
}

/// Runs a statement and returns the rows it changed.
pub async fn execute(
    db: &mut Db<'_>,
    sql: &'static str,
    params: &[Param],
) -> Result<u64, StoreError> {
    db.execute(sql, params).await
}
