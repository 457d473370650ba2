//! The SQL shared by both stores, expanded once per backend.
//!
//! The expanding module provides `DB`, `Conn`, `Row`, `Tx` (holding `tx:
//! sqlx::Transaction<'static, DB>`), the store type `$store` (holding `pool`), the timestamp
//! helpers `ts`, `ts_opt`, `get_ts`, `get_ts_opt`, and a `db_of(&mut Conn) -> Db` function.
//! The bulk writes `write_items`, `write_tokens` and `write_transitions` differ per backend
//! (multi-row `VALUES` on SQLite, `UNNEST` of arrays on PostgreSQL) and live in its module.
//! `$for_update` and `$skip_locked` are the row-lock clauses (empty on SQLite, where the
//! `BEGIN IMMEDIATE` transaction already holds the only write lock).

macro_rules! define_queries {
    ($store:ident, $for_update:literal, $skip_locked:literal) => {
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use serde_json::Value;
        use sqlx::Row as _;

        use crate::runtime::model::{
            ChainHead, FlowDefinition, ItemState, Message, OutboxEntry, OutboxState, Task,
            TaskState, Timer, Token, TokenState, Transition, Wait, WorkItem,
        };
        use crate::store::{
            Backend, Db, ItemFilter, Store, StoreError, StoreTx, TaskFilter, corrupt,
        };


        fn item_from(row: &Row) -> Result<WorkItem, StoreError> {
            let data: String = row.try_get("data")?;
            let state: String = row.try_get("state")?;
            Ok(WorkItem {
                id: row.try_get("id")?,
                flow_id: row.try_get("flow_id")?,
                flow_version: row.try_get("flow_version")?,
                flow_hash: row.try_get("flow_hash")?,
                subject: row.try_get("subject")?,
                data: serde_json::from_str(&data)
                    .map_err(|e| corrupt("work_items", format!("data is not a JSON object: {e}")))?,
                state: ItemState::parse(&state)
                    .ok_or_else(|| corrupt("work_items", format!("unknown state `{state}`")))?,
                parent_id: row.try_get("parent_id")?,
                parent_token_id: row.try_get("parent_token_id")?,
                error: row.try_get("error")?,
                run_at: get_ts_opt(row, "run_at")?,
                seq: row.try_get("seq")?,
                head_hash: row.try_get("head_hash")?,
                created_at: get_ts(row, "created_at")?,
                updated_at: get_ts(row, "updated_at")?,
            })
        }


        fn token_from(row: &Row) -> Result<Token, StoreError> {
            let state: String = row.try_get("state")?;
            let wait: Option<String> = row.try_get("wait")?;
            Ok(Token {
                id: row.try_get("id")?,
                item_id: row.try_get("item_id")?,
                node: row.try_get("node")?,
                state: TokenState::parse(&state)
                    .ok_or_else(|| corrupt("tokens", format!("unknown state `{state}`")))?,
                wait: match wait {
                    None => None,
                    Some(w) => Some(
                        Wait::parse(&w).ok_or_else(|| corrupt("tokens", format!("unknown wait `{w}`")))?,
                    ),
                },
                wait_key: row.try_get("wait_key")?,
                wake_at: get_ts_opt(row, "wake_at")?,
                fork_path: row.try_get("fork_path")?,
                attempts: row.try_get("attempts")?,
                pending_children: row.try_get("pending_children")?,
                error: row.try_get("error")?,
                entered_at: get_ts(row, "entered_at")?,
            })
        }

        /// The conditions that narrow a task query to a flow, a node or a step.
        fn push_narrowing(q: &mut sqlx::QueryBuilder<Dbms>, f: &TaskFilter) {
            if let Some(flow_id) = &f.flow_id {
                q.push(" AND flow_id = ").push_bind(flow_id.clone());
            }
            if let Some(node) = &f.node {
                q.push(" AND node = ").push_bind(node.clone());
            }
            if let Some(step) = &f.step {
                q.push(" AND step = ").push_bind(step.clone());
            }
        }

        fn json_from(table: &'static str, text: &str) -> Result<Value, StoreError> {
            serde_json::from_str(text).map_err(|e| corrupt(table, format!("invalid JSON: {e}")))
        }


        fn task_from(row: &Row) -> Result<Task, StoreError> {
            let state: String = row.try_get("state")?;
            let fields: String = row.try_get("fields")?;
            let answer: Option<String> = row.try_get("answer")?;
            Ok(Task {
                id: row.try_get("id")?,
                item_id: row.try_get("item_id")?,
                token_id: row.try_get("token_id")?,
                flow_id: row.try_get("flow_id")?,
                node: row.try_get("node")?,
                step: row.try_get("step")?,
                name: row.try_get("name")?,
                lane: row.try_get("lane")?,
                role: row.try_get("role")?,
                subject: row.try_get("subject")?,
                fields: json_from("tasks", &fields)?,
                due_date: row.try_get("due_date")?,
                state: TaskState::parse(&state)
                    .ok_or_else(|| corrupt("tasks", format!("unknown state `{state}`")))?,
                claimed_by: row.try_get("claimed_by")?,
                claimed_at: get_ts_opt(row, "claimed_at")?,
                completed_by: row.try_get("completed_by")?,
                completed_at: get_ts_opt(row, "completed_at")?,
                answer: answer.map(|a| json_from("tasks", &a)).transpose()?,
                created_at: get_ts(row, "created_at")?,
            })
        }


        fn transition_from(row: &Row) -> Result<Transition, StoreError> {
            Ok(Transition {
                id: row.try_get("id")?,
                item_id: row.try_get("item_id")?,
                seq: row.try_get("seq")?,
                at: get_ts(row, "at")?,
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                from_node: row.try_get("from_node")?,
                to_node: row.try_get("to_node")?,
                data_change: row.try_get("data_change")?,
                detail: row.try_get("detail")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            })
        }

        fn message_from(row: &Row) -> Result<Message, StoreError> {
            let payload: String = row.try_get("payload")?;
            Ok(Message {
                id: row.try_get("id")?,
                delivery_id: row.try_get("delivery_id")?,
                item_id: row.try_get("item_id")?,
                node: row.try_get("node")?,
                document: row.try_get("document")?,
                correlation_key: row.try_get("correlation_key")?,
                correlation_value: row.try_get("correlation_value")?,
                payload: json_from("messages", &payload)?,
                received_by: row.try_get("received_by")?,
                received_at: get_ts(row, "received_at")?,
            })
        }

        fn outbox_from(row: &Row) -> Result<OutboxEntry, StoreError> {
            let payload: String = row.try_get("payload")?;
            let state: String = row.try_get("state")?;
            Ok(OutboxEntry {
                id: row.try_get("id")?,
                item_id: row.try_get("item_id")?,
                node: row.try_get("node")?,
                document: row.try_get("document")?,
                recipient: row.try_get("recipient")?,
                payload: json_from("outbox", &payload)?,
                state: OutboxState::parse(&state)
                    .ok_or_else(|| corrupt("outbox", format!("unknown state `{state}`")))?,
                created_at: get_ts(row, "created_at")?,
                sent_at: get_ts_opt(row, "sent_at")?,
                sent_by: row.try_get("sent_by")?,
                sent_as: row.try_get("sent_as")?,
                sent_sha256: row.try_get("sent_sha256")?,
                sent_to: row.try_get("sent_to")?,
            })
        }

        fn timer_from(row: &Row) -> Result<Timer, StoreError> {
            Ok(Timer {
                id: row.try_get("id")?,
                item_id: row.try_get("item_id")?,
                token_id: row.try_get("token_id")?,
                node: row.try_get("node")?,
                wake_at: get_ts(row, "wake_at")?,
                fired_at: get_ts_opt(row, "fired_at")?,
                cancelled_at: get_ts_opt(row, "cancelled_at")?,
            })
        }

        fn definition_from(row: &Row) -> Result<FlowDefinition, StoreError> {
            Ok(FlowDefinition {
                hash: row.try_get("hash")?,
                flow_id: row.try_get("flow_id")?,
                version: row.try_get("version")?,
                title: row.try_get("title")?,
                source: row.try_get("source")?,
                registered_at: get_ts(row, "registered_at")?,
            })
        }

        fn data_text(item: &WorkItem) -> String {
            serde_json::Value::Object(item.data.clone()).to_string()
        }

        // ---- statements -------------------------------------------------------------

        async fn q_item(conn: &mut Conn, id: i64, lock: bool) -> Result<Option<WorkItem>, StoreError> {
            let sql = if lock {
                concat!(
                    "SELECT id, flow_id, flow_version, flow_hash, subject, data, state, parent_id, \
                     parent_token_id, error, run_at, seq, head_hash, created_at, updated_at \
                     FROM work_items WHERE id = $1",
                    $for_update
                )
            } else {
                "SELECT id, flow_id, flow_version, flow_hash, subject, data, state, parent_id, \
                 parent_token_id, error, run_at, seq, head_hash, created_at, updated_at \
                 FROM work_items WHERE id = $1"
            };
            let row = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
            row.as_ref().map(item_from).transpose()
        }

        async fn q_live_tokens(conn: &mut Conn, item_id: i64) -> Result<Vec<Token>, StoreError> {
            let rows = sqlx::query(
                "SELECT id, item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
                 pending_children, error, entered_at FROM tokens WHERE item_id = $1 AND state <> 'done' \
                 ORDER BY id",
            )
            .bind(item_id)
            .fetch_all(&mut *conn)
            .await?;
            rows.iter().map(token_from).collect()
        }

        async fn q_lock_task(conn: &mut Conn, id: i64, lock: bool) -> Result<Option<Task>, StoreError> {
            let sql = if lock {
                concat!(
                    "SELECT id, item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                     fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, \
                     created_at FROM tasks WHERE id = $1",
                    $for_update
                )
            } else {
                "SELECT id, item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                 fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, \
                 created_at FROM tasks WHERE id = $1"
            };
            let row = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
            row.as_ref().map(task_from).transpose()
        }

        async fn q_definition(conn: &mut Conn, hash: &str) -> Result<Option<FlowDefinition>, StoreError> {
            let row = sqlx::query(
                "SELECT hash, flow_id, version, title, source, registered_at FROM flow_definitions WHERE hash = $1",
            )
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref().map(definition_from).transpose()
        }

        // ---- the read side of the store ---------------------------------------------

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                BACKEND
            }

            async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
                Ok(Box::new(Tx { tx: self.begin_write().await?, savepoint_open: false }))
            }

            async fn definition(&self, hash: &str) -> Result<Option<FlowDefinition>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                q_definition(&mut conn, hash).await
            }

            async fn latest_definition(&self, flow_id: &str) -> Result<Option<FlowDefinition>, StoreError> {
                let row = sqlx::query(
                    "SELECT hash, flow_id, version, title, source, registered_at FROM flow_definitions \
                     WHERE flow_id = $1 ORDER BY registered_at DESC, version DESC LIMIT 1",
                )
                .bind(flow_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(definition_from).transpose()
            }

            async fn item(&self, id: i64) -> Result<Option<WorkItem>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                q_item(&mut conn, id, false).await
            }

            async fn items(&self, f: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, flow_id, flow_version, flow_hash, subject, data, state, parent_id, \
                     parent_token_id, error, run_at, seq, head_hash, created_at, updated_at FROM work_items \
                     WHERE ($1 IS NULL OR flow_id = $1) AND ($2 IS NULL OR state = $2) \
                     AND ($3 IS NULL OR parent_id = $3) AND id > $4 ORDER BY id LIMIT $5",
                )
                .bind(f.flow_id.clone())
                .bind(f.state.map(ItemState::as_str))
                .bind(f.parent_id)
                .bind(f.after_id.unwrap_or(0))
                .bind(f.limit.unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(item_from).collect()
            }

            async fn item_counts(&self, flow_id: Option<&str>) -> Result<Vec<(ItemState, i64)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT state, COUNT(*) AS n FROM work_items WHERE ($1 IS NULL OR flow_id = $1) \
                     GROUP BY state ORDER BY state",
                )
                .bind(flow_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let state: String = row.try_get("state")?;
                        let n: i64 = row.try_get("n")?;
                        let state = ItemState::parse(&state)
                            .ok_or_else(|| corrupt("work_items", format!("unknown state `{state}`")))?;
                        Ok((state, n))
                    })
                    .collect()
            }

            async fn tokens(&self, item_id: i64) -> Result<Vec<Token>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                q_live_tokens(&mut conn, item_id).await
            }

            async fn history(&self, item_id: i64) -> Result<Vec<Transition>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, item_id, seq, at, actor, kind, from_node, to_node, data_change, detail, \
                     prev_hash, hash FROM transitions WHERE item_id = $1 ORDER BY seq, id",
                )
                .bind(item_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(transition_from).collect()
            }

            async fn tasks(&self, f: &TaskFilter) -> Result<Vec<Task>, StoreError> {
                // Only the filters given become conditions: `($1 IS NULL OR role = $1)` would
                // keep either database from using the queue index, and a staff member's queue
                // listing is the most frequent query there is. Ordered by `DUE_SORT, id`,
                // which the `tasks_queue_due` index serves without a sort.
                let mut q = sqlx::QueryBuilder::<Dbms>::new(
                    "SELECT id, item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                     fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, \
                     created_at FROM tasks WHERE TRUE",
                );
                if let Some(role) = &f.role {
                    q.push(" AND role = ").push_bind(role.clone());
                }
                if let Some(state) = f.state {
                    q.push(" AND state = ").push_bind(state.as_str());
                }
                push_narrowing(&mut q, f);
                if let Some(item_id) = f.item_id {
                    q.push(" AND item_id = ").push_bind(item_id);
                }
                if let Some(user) = &f.claimed_by {
                    q.push(" AND claimed_by = ").push_bind(user.clone());
                }
                if let Some(day) = f.overdue_on {
                    // A task without a due date sorts as 9999-12-31 and is never overdue.
                    q.push(" AND state = 'open' AND ")
                        .push(DUE_SORT)
                        .push(" < ")
                        .push_bind(day);
                }
                q.push(" ORDER BY ").push(DUE_SORT).push(", id");
                if let Some(limit) = f.limit {
                    q.push(" LIMIT ").push_bind(limit);
                }
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(task_from).collect()
            }

            async fn task(&self, id: i64) -> Result<Option<Task>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                q_lock_task(&mut conn, id, false).await
            }

            async fn messages(&self, item_id: i64) -> Result<Vec<Message>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, delivery_id, item_id, node, document, correlation_key, correlation_value, \
                     payload, received_by, received_at FROM messages WHERE item_id = $1 ORDER BY id",
                )
                .bind(item_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(message_from).collect()
            }

            async fn outbox(&self, item_id: Option<i64>) -> Result<Vec<OutboxEntry>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, item_id, node, document, recipient, payload, state, created_at, sent_at, \
                     sent_by, sent_as, sent_sha256, sent_to FROM outbox WHERE ($1 IS NULL AND state = 'pending') OR item_id = $1 ORDER BY id",
                )
                .bind(item_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(outbox_from).collect()
            }

            async fn timers(&self, item_id: i64) -> Result<Vec<Timer>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, item_id, token_id, node, wake_at, fired_at, cancelled_at FROM timers \
                     WHERE item_id = $1 ORDER BY id",
                )
                .bind(item_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(timer_from).collect()
            }

            async fn audit_page(
                &self,
                after: i64,
                limit: i64,
            ) -> Result<(Vec<ChainHead>, Vec<Transition>), StoreError> {
                let rows = sqlx::query(
                    "SELECT id, seq, head_hash FROM work_items WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let heads = rows
                    .iter()
                    .map(|row| {
                        Ok(ChainHead {
                            item_id: row.try_get("id")?,
                            seq: row.try_get("seq")?,
                            head_hash: row.try_get("head_hash")?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let Some(last) = heads.last().map(|h| h.item_id) else {
                    return Ok((heads, Vec::new()));
                };
                let rows = sqlx::query(
                    "SELECT id, item_id, seq, at, actor, kind, from_node, to_node, data_change, detail, \
                     prev_hash, hash FROM transitions WHERE item_id > $1 AND item_id <= $2 \
                     ORDER BY item_id, seq, id",
                )
                .bind(after)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
                let transitions = rows.iter().map(transition_from).collect::<Result<Vec<_>, _>>()?;
                Ok((heads, transitions))
            }
        }

        // ---- the write side -----------------------------------------------------------

        #[async_trait]
        impl StoreTx for Tx {
            fn db(&mut self) -> Db<'_> {
                db_of(&mut self.tx)
            }

            async fn commit(self: Box<Self>) -> Result<(), StoreError> {
                self.tx.commit().await?;
                Ok(())
            }

            async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
                self.tx.rollback().await?;
                Ok(())
            }

            async fn savepoint(&mut self) -> Result<(), StoreError> {
                // The previous handler's savepoint is released here, in the same round trip.
                let sql = if self.savepoint_open {
                    "RELEASE SAVEPOINT nagare_handler; SAVEPOINT nagare_handler"
                } else {
                    "SAVEPOINT nagare_handler"
                };
                sqlx::raw_sql(sql).execute(&mut *self.tx).await?;
                self.savepoint_open = true;
                Ok(())
            }

            async fn release_savepoint(&mut self) -> Result<(), StoreError> {
                // Kept open until the next savepoint or the commit, which release it.
                Ok(())
            }

            async fn rollback_savepoint(&mut self) -> Result<(), StoreError> {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT nagare_handler; RELEASE SAVEPOINT nagare_handler")
                    .execute(&mut *self.tx)
                    .await?;
                self.savepoint_open = false;
                Ok(())
            }

            async fn reserve_ids(&mut self, table: crate::store::IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
                reserve(&mut self.tx, table, n).await
            }

            async fn upsert_definition(&mut self, d: &FlowDefinition) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO flow_definitions (hash, flow_id, version, title, source, registered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
                )
                .bind(&d.hash)
                .bind(&d.flow_id)
                .bind(d.version)
                .bind(&d.title)
                .bind(&d.source)
                .bind(ts(d.registered_at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_item(&mut self, i: &WorkItem) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO work_items (flow_id, flow_version, flow_hash, subject, data, state, \
                     parent_id, parent_token_id, error, run_at, seq, head_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                )
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
                .bind(ts(i.updated_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get(0)?)
            }

            async fn claim_runnable(&mut self, now: DateTime<Utc>, limit: i64) -> Result<Vec<WorkItem>, StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT id, flow_id, flow_version, flow_hash, subject, data, state, parent_id, \
                     parent_token_id, error, run_at, seq, head_hash, created_at, updated_at \
                     FROM work_items WHERE run_at IS NOT NULL AND run_at <= $1 ORDER BY run_at, id LIMIT $2",
                    $skip_locked
                ))
                .bind(ts(now))
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(item_from).collect()
            }

            async fn lock_item(&mut self, id: i64) -> Result<Option<WorkItem>, StoreError> {
                q_item(&mut self.tx, id, true).await
            }

            async fn update_items(&mut self, items: &[WorkItem]) -> Result<(), StoreError> {
                write_items(&mut self.tx, items).await
            }

            async fn items_on_other_versions(&mut self, flow_id: &str, hash: &str) -> Result<Vec<i64>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id FROM work_items WHERE flow_id = $1 AND flow_hash <> $2 \
                     AND state IN ('running', 'waiting', 'failed') ORDER BY id",
                )
                .bind(flow_id)
                .bind(hash)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
            }

            async fn live_tokens_of(&mut self, item_ids: &[i64]) -> Result<Vec<Token>, StoreError> {
                let mut tokens = Vec::new();
                for chunk in item_ids.chunks(crate::store::ROWS_PER_STATEMENT * 4) {
                    let sql = format!(
                        "SELECT id, item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
                         pending_children, error, entered_at FROM tokens WHERE state <> 'done' AND item_id IN {} \
                         ORDER BY item_id, id",
                        crate::store::values_list(BACKEND, 1, chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for row in q.fetch_all(&mut *self.tx).await? {
                        tokens.push(token_from(&row)?);
                    }
                }
                Ok(tokens)
            }

            async fn insert_token(&mut self, t: &Token) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO tokens (item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
                     pending_children, error, entered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
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
                .bind(ts(t.entered_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get(0)?)
            }

            async fn update_tokens(&mut self, tokens: &[Token]) -> Result<(), StoreError> {
                write_tokens(&mut self.tx, tokens).await
            }

            async fn waiting_tokens(&mut self, wait: Wait, key: &str) -> Result<Vec<Token>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, item_id, node, state, wait, wait_key, wake_at, fork_path, attempts, \
                     pending_children, error, entered_at FROM tokens \
                     WHERE state = 'waiting' AND wait = $1 AND wait_key = $2 ORDER BY id",
                )
                .bind(wait.as_str())
                .bind(key)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(token_from).collect()
            }

            async fn insert_transitions(&mut self, transitions: &[Transition]) -> Result<(), StoreError> {
                write_transitions(&mut self.tx, transitions).await
            }

            async fn insert_task(&mut self, t: &Task) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO tasks (item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                     fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                     RETURNING id",
                )
                .bind(t.item_id)
                .bind(t.token_id)
                .bind(&t.flow_id)
                .bind(&t.node)
                .bind(&t.step)
                .bind(&t.name)
                .bind(&t.lane)
                .bind(&t.role)
                .bind(&t.subject)
                .bind(t.fields.to_string())
                .bind(t.due_date)
                .bind(t.state.as_str())
                .bind(&t.claimed_by)
                .bind(ts_opt(t.claimed_at))
                .bind(&t.completed_by)
                .bind(ts_opt(t.completed_at))
                .bind(t.answer.as_ref().map(Value::to_string))
                .bind(ts(t.created_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get(0)?)
            }

            async fn lock_task(&mut self, id: i64) -> Result<Option<Task>, StoreError> {
                q_lock_task(&mut self.tx, id, true).await
            }

            async fn lock_next_task(&mut self, f: &TaskFilter) -> Result<Option<Task>, StoreError> {
                let mut q = sqlx::QueryBuilder::<Dbms>::new(
                    "SELECT id, item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                     fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, \
                     created_at FROM tasks WHERE state = 'open' AND claimed_by IS NULL AND role = ",
                );
                q.push_bind(f.role.clone().unwrap_or_default());
                push_narrowing(&mut q, f);
                q.push(" ORDER BY ").push(DUE_SORT).push(", id LIMIT 1").push($skip_locked);
                let row = q.build().fetch_optional(&mut *self.tx).await?;
                row.as_ref().map(task_from).transpose()
            }

            async fn update_task(&mut self, t: &Task) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE tasks SET state = $2, claimed_by = $3, claimed_at = $4, completed_by = $5, \
                     completed_at = $6, answer = $7, role = $8, due_date = $9 WHERE id = $1",
                )
                .bind(t.id)
                .bind(t.state.as_str())
                .bind(&t.claimed_by)
                .bind(ts_opt(t.claimed_at))
                .bind(&t.completed_by)
                .bind(ts_opt(t.completed_at))
                .bind(t.answer.as_ref().map(Value::to_string))
                .bind(&t.role)
                .bind(t.due_date)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn open_tasks_of_token(&mut self, token_id: i64) -> Result<Vec<Task>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, item_id, token_id, flow_id, node, step, name, lane, role, subject, \
                     fields, due_date, state, claimed_by, claimed_at, completed_by, completed_at, answer, \
                     created_at FROM tasks WHERE token_id = $1 AND state = 'open' ORDER BY id",
                )
                .bind(token_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(task_from).collect()
            }

            async fn insert_message(&mut self, m: &Message) -> Result<Option<i64>, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO messages (delivery_id, item_id, node, document, correlation_key, \
                     correlation_value, payload, received_by, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (delivery_id) DO NOTHING RETURNING id",
                )
                .bind(&m.delivery_id)
                .bind(m.item_id)
                .bind(&m.node)
                .bind(&m.document)
                .bind(&m.correlation_key)
                .bind(&m.correlation_value)
                .bind(m.payload.to_string())
                .bind(&m.received_by)
                .bind(ts(m.received_at))
                .fetch_optional(&mut *self.tx)
                .await?;
                row.map(|r| Ok(r.try_get(0)?)).transpose()
            }

            async fn message_exists(&mut self, delivery_id: &str) -> Result<bool, StoreError> {
                let row = sqlx::query("SELECT id FROM messages WHERE delivery_id = $1")
                    .bind(delivery_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.is_some())
            }

            async fn insert_outbox(&mut self, e: &OutboxEntry) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO outbox (item_id, node, document, recipient, payload, state, created_at, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(e.item_id)
                .bind(&e.node)
                .bind(&e.document)
                .bind(&e.recipient)
                .bind(e.payload.to_string())
                .bind(e.state.as_str())
                .bind(ts(e.created_at))
                .bind(ts_opt(e.sent_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get(0)?)
            }

            async fn insert_timer(&mut self, t: &Timer) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "INSERT INTO timers (item_id, token_id, node, wake_at, fired_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(t.item_id)
                .bind(t.token_id)
                .bind(&t.node)
                .bind(ts(t.wake_at))
                .bind(ts_opt(t.fired_at))
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get(0)?)
            }

            async fn fire_timers(&mut self, token_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE timers SET fired_at = $2 WHERE token_id = $1 AND fired_at IS NULL")
                    .bind(token_id)
                    .bind(ts(now))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn withdraw_timers(&mut self, item_id: i64, now: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
                let rows = sqlx::query(
                    "UPDATE timers SET cancelled_at = $2 \
                     WHERE item_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL RETURNING id",
                )
                .bind(item_id)
                .bind(ts(now))
                .fetch_all(&mut *self.tx)
                .await?;
                let mut ids = rows.iter().map(|r| Ok(r.try_get(0)?)).collect::<Result<Vec<i64>, StoreError>>()?;
                ids.sort_unstable();
                Ok(ids)
            }

            async fn live_children(&mut self, parent_id: i64) -> Result<Vec<i64>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id FROM work_items WHERE parent_id = $1 \
                     AND state IN ('running', 'waiting', 'failed') ORDER BY id",
                )
                .bind(parent_id)
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
            }
        }
    };
}
