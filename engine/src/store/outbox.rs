//! The outbox as the dispatch side sees it: listing entries by document, recipient and
//! state, and marking an entry sent, with who sent it, under which file name, the digest of
//! what left and where to. The SQL is shared by both stores and expanded once per backend by
//! [`define_outbox_queries`].
//!
//! Invariant: an entry is marked sent at most once. Exporters lock the pending entries they
//! write (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two exports at once take different
//! entries; the one writer of `BEGIN IMMEDIATE` on SQLite), and the mark itself is
//! conditional on the entry still being pending.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::runtime::model::{OutboxEntry, OutboxState};

/// Which outbox entries to list, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxFilter {
    /// Every state when `None`.
    pub state: Option<OutboxState>,
    pub document: Option<String>,
    pub recipient: Option<String>,
    pub item_id: Option<i64>,
    /// Only entries with a greater id (paging).
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
}

/// What marking an entry sent records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentRecord {
    pub at: DateTime<Utc>,
    /// `user:NAME`.
    pub by: String,
    /// The file name it left under.
    pub name: String,
    /// SHA-256 (hex) of the bytes that left.
    pub sha256: String,
    /// The export folder, or `http`.
    pub to: String,
}

/// Reading the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Returns outbox entries by id.
    async fn outbox_entries(&self, filter: &OutboxFilter) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Returns one outbox entry.
    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, StoreError>;
}

/// Dispatching outbox entries inside a transaction.
#[async_trait]
pub trait OutboxTx: Send {
    /// Locks and returns up to `limit` pending entries matching the filter (its state is
    /// ignored), by id. On PostgreSQL entries another transaction holds are skipped.
    async fn lock_pending_outbox(
        &mut self,
        filter: &OutboxFilter,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Locks and returns one entry, waiting for another transaction that holds it.
    async fn lock_outbox(&mut self, id: i64) -> Result<Option<OutboxEntry>, StoreError>;
    /// Marks a pending entry sent; returns `false` (and changes nothing) when it is not
    /// pending.
    async fn mark_outbox_sent(&mut self, id: i64, sent: &SentRecord) -> Result<bool, StoreError>;
}

/// Expands the outbox queries in a store module; `$for_update` and `$skip_locked` are the
/// row-lock clauses of the backend (empty on SQLite).
macro_rules! define_outbox_queries {
    ($for_update:literal, $skip_locked:literal) => {
        mod outbox_queries {
            use async_trait::async_trait;

            use super::{Dbms, Tx, outbox_from, ts};
            use crate::runtime::model::OutboxEntry;
            use crate::store::StoreError;
            use crate::store::outbox::{OutboxFilter, OutboxStore, OutboxTx, SentRecord};

            type Store = super::StoreType;

            const COLUMNS: &str = "SELECT id, item_id, node, document, recipient, payload, state, \
                created_at, sent_at, sent_by, sent_as, sent_sha256, sent_to FROM outbox WHERE TRUE";

            /// The filter's conditions, except the state.
            fn push_filter(q: &mut sqlx::QueryBuilder<Dbms>, f: &OutboxFilter) {
                if let Some(document) = &f.document {
                    q.push(" AND document = ").push_bind(document.clone());
                }
                if let Some(recipient) = &f.recipient {
                    q.push(" AND recipient = ").push_bind(recipient.clone());
                }
                if let Some(item_id) = f.item_id {
                    q.push(" AND item_id = ").push_bind(item_id);
                }
                if let Some(after) = f.after_id {
                    q.push(" AND id > ").push_bind(after);
                }
            }

            #[async_trait]
            impl OutboxStore for Store {
                async fn outbox_entries(&self, f: &OutboxFilter) -> Result<Vec<OutboxEntry>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<Dbms>::new(COLUMNS);
                    if let Some(state) = f.state {
                        q.push(" AND state = ").push_bind(state.as_str());
                    }
                    push_filter(&mut q, f);
                    q.push(" ORDER BY id");
                    if let Some(limit) = f.limit {
                        q.push(" LIMIT ").push_bind(limit);
                    }
                    let rows = q.build().fetch_all(&self.pool).await?;
                    rows.iter().map(outbox_from).collect()
                }

                async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<Dbms>::new(COLUMNS);
                    q.push(" AND id = ").push_bind(id);
                    let row = q.build().fetch_optional(&self.pool).await?;
                    row.as_ref().map(outbox_from).transpose()
                }
            }

            #[async_trait]
            impl OutboxTx for Tx {
                async fn lock_pending_outbox(
                    &mut self,
                    f: &OutboxFilter,
                    limit: i64,
                ) -> Result<Vec<OutboxEntry>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<Dbms>::new(COLUMNS);
                    q.push(" AND state = 'pending'");
                    push_filter(&mut q, f);
                    q.push(" ORDER BY id LIMIT ").push_bind(limit).push($skip_locked);
                    let rows = q.build().fetch_all(&mut *self.tx).await?;
                    rows.iter().map(outbox_from).collect()
                }

                async fn lock_outbox(&mut self, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
                    let mut q = sqlx::QueryBuilder::<Dbms>::new(COLUMNS);
                    q.push(" AND id = ").push_bind(id).push($for_update);
                    let row = q.build().fetch_optional(&mut *self.tx).await?;
                    row.as_ref().map(outbox_from).transpose()
                }

                async fn mark_outbox_sent(&mut self, id: i64, s: &SentRecord) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE outbox SET state = 'sent', sent_at = $2, sent_by = $3, sent_as = $4, \
                         sent_sha256 = $5, sent_to = $6 WHERE id = $1 AND state = 'pending'",
                    )
                    .bind(id)
                    .bind(ts(s.at))
                    .bind(&s.by)
                    .bind(&s.name)
                    .bind(&s.sha256)
                    .bind(&s.to)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }
        }
    };
}
