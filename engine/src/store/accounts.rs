//! Accounts and the task queue's own records: users and their roles, API tokens (stored as
//! SHA-256 digests), task comments and reassignments. The SQL is shared by both stores and
//! expanded once per backend by [`define_account_queries`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// A person (or a program) that acts on the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// Sorted, without duplicates.
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// `user:NAME` of the admin who added the user, or `system` for the first one.
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl User {
    /// Returns whether the user may still act.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A comment on a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub task_id: i64,
    pub item_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A task handed from one person to another by a supervisor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassignment {
    pub id: i64,
    pub task_id: i64,
    pub from_user: Option<String>,
    pub to_user: String,
    pub by_user: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Reading accounts and task notes.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Returns a user with their roles.
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Returns every user, by name.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Returns the active user holding an unrevoked token with this SHA-256 (hex).
    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>, StoreError>;
    /// Returns the comments of a task, oldest first.
    async fn comments(&self, task_id: i64) -> Result<Vec<Comment>, StoreError>;
    /// Returns the reassignments of a task, oldest first.
    async fn reassignments(&self, task_id: i64) -> Result<Vec<Reassignment>, StoreError>;
}

/// Writing accounts and task notes inside a transaction.
#[async_trait]
pub trait AccountTx: Send {
    /// Returns the number of users, revoked ones included.
    async fn count_users(&mut self) -> Result<i64, StoreError>;
    /// Inserts a user with roles; returns `false` (and changes nothing) when the name exists.
    async fn insert_user(&mut self, user: &User) -> Result<bool, StoreError>;
    /// Marks a user and all their tokens revoked; returns `false` when there is no such
    /// active user.
    async fn revoke_user(&mut self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Stores the digest of a new token.
    async fn insert_api_token(
        &mut self,
        user: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Inserts a comment and returns its id.
    async fn insert_comment(&mut self, comment: &Comment) -> Result<i64, StoreError>;
    /// Inserts a reassignment and returns its id.
    async fn insert_reassignment(&mut self, r: &Reassignment) -> Result<i64, StoreError>;
}

macro_rules! define_account_queries {
    () => {
        mod account_queries {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::Row as _;

            use super::{Row, Tx, get_ts, get_ts_opt, ts, ts_opt};
            use crate::store::StoreError;
            use crate::store::accounts::{AccountStore, AccountTx, Comment, Reassignment, User};

            type Store = super::StoreType;

            fn user_from(row: &Row, roles: Vec<String>) -> Result<User, StoreError> {
                Ok(User {
                    name: row.try_get("name")?,
                    roles,
                    created_at: get_ts(row, "created_at")?,
                    created_by: row.try_get("created_by")?,
                    revoked_at: get_ts_opt(row, "revoked_at")?,
                })
            }

            fn comment_from(row: &Row) -> Result<Comment, StoreError> {
                Ok(Comment {
                    id: row.try_get("id")?,
                    task_id: row.try_get("task_id")?,
                    item_id: row.try_get("item_id")?,
                    author: row.try_get("author")?,
                    body: row.try_get("body")?,
                    created_at: get_ts(row, "created_at")?,
                })
            }

            fn reassignment_from(row: &Row) -> Result<Reassignment, StoreError> {
                Ok(Reassignment {
                    id: row.try_get("id")?,
                    task_id: row.try_get("task_id")?,
                    from_user: row.try_get("from_user")?,
                    to_user: row.try_get("to_user")?,
                    by_user: row.try_get("by_user")?,
                    reason: row.try_get("reason")?,
                    at: get_ts(row, "at")?,
                })
            }

            impl Store {
                async fn roles_of(&self, name: &str) -> Result<Vec<String>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT role FROM user_roles WHERE user_name = $1 ORDER BY role",
                    )
                    .bind(name)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
                }
            }

            #[async_trait]
            impl AccountStore for Store {
                async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
                    let row = sqlx::query(
                        "SELECT name, created_at, created_by, revoked_at FROM users WHERE name = $1",
                    )
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                    match row {
                        None => Ok(None),
                        Some(row) => Ok(Some(user_from(&row, self.roles_of(name).await?)?)),
                    }
                }

                async fn users(&self) -> Result<Vec<User>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT name, created_at, created_by, revoked_at FROM users ORDER BY name",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    let mut users = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let name: String = row.try_get("name")?;
                        users.push(user_from(row, self.roles_of(&name).await?)?);
                    }
                    Ok(users)
                }

                async fn user_by_token_hash(&self, hash: &str) -> Result<Option<User>, StoreError> {
                    // Every API request asks this: the user and the roles come in one query.
                    let rows = sqlx::query(
                        "SELECT u.name, u.created_at, u.created_by, u.revoked_at, r.role FROM api_tokens t \
                         JOIN users u ON u.name = t.user_name \
                         LEFT JOIN user_roles r ON r.user_name = u.name \
                         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.revoked_at IS NULL \
                         ORDER BY r.role",
                    )
                    .bind(hash)
                    .fetch_all(&self.pool)
                    .await?;
                    let Some(first) = rows.first() else {
                        return Ok(None);
                    };
                    let roles = rows
                        .iter()
                        .filter_map(|r| r.try_get::<Option<String>, _>("role").transpose())
                        .collect::<Result<Vec<String>, _>>()?;
                    Ok(Some(user_from(first, roles)?))
                }

                async fn comments(&self, task_id: i64) -> Result<Vec<Comment>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, task_id, item_id, author, body, created_at FROM task_comments \
                         WHERE task_id = $1 ORDER BY id",
                    )
                    .bind(task_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(comment_from).collect()
                }

                async fn reassignments(&self, task_id: i64) -> Result<Vec<Reassignment>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, task_id, from_user, to_user, by_user, reason, at \
                         FROM task_reassignments WHERE task_id = $1 ORDER BY id",
                    )
                    .bind(task_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(reassignment_from).collect()
                }
            }

            #[async_trait]
            impl AccountTx for Tx {
                async fn count_users(&mut self) -> Result<i64, StoreError> {
                    let row = sqlx::query("SELECT COUNT(*) FROM users")
                        .fetch_one(&mut *self.tx)
                        .await?;
                    Ok(row.try_get(0)?)
                }

                async fn insert_user(&mut self, u: &User) -> Result<bool, StoreError> {
                    let row = sqlx::query(
                        "INSERT INTO users (name, created_at, created_by, revoked_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING name",
                    )
                    .bind(&u.name)
                    .bind(ts(u.created_at))
                    .bind(&u.created_by)
                    .bind(ts_opt(u.revoked_at))
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    if row.is_none() {
                        return Ok(false);
                    }
                    for role in &u.roles {
                        sqlx::query(
                            "INSERT INTO user_roles (user_name, role) VALUES ($1, $2) \
                             ON CONFLICT (user_name, role) DO NOTHING",
                        )
                        .bind(&u.name)
                        .bind(role)
                        .execute(&mut *self.tx)
                        .await?;
                    }
                    Ok(true)
                }

                async fn revoke_user(&mut self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE users SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                    )
                    .bind(name)
                    .bind(ts(at))
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "UPDATE api_tokens SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL",
                    )
                    .bind(name)
                    .bind(ts(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done == 1)
                }

                async fn insert_api_token(
                    &mut self,
                    user: &str,
                    token_hash: &str,
                    at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO api_tokens (user_name, token_hash, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(user)
                    .bind(token_hash)
                    .bind(ts(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn insert_comment(&mut self, c: &Comment) -> Result<i64, StoreError> {
                    let row = sqlx::query(
                        "INSERT INTO task_comments (task_id, item_id, author, body, created_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(c.task_id)
                    .bind(c.item_id)
                    .bind(&c.author)
                    .bind(&c.body)
                    .bind(ts(c.created_at))
                    .fetch_one(&mut *self.tx)
                    .await?;
                    Ok(row.try_get(0)?)
                }

                async fn insert_reassignment(&mut self, r: &Reassignment) -> Result<i64, StoreError> {
                    let row = sqlx::query(
                        "INSERT INTO task_reassignments (task_id, from_user, to_user, by_user, reason, at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(r.task_id)
                    .bind(&r.from_user)
                    .bind(&r.to_user)
                    .bind(&r.by_user)
                    .bind(&r.reason)
                    .bind(ts(r.at))
                    .fetch_one(&mut *self.tx)
                    .await?;
                    Ok(row.try_get(0)?)
                }
            }
        }
    };
}
