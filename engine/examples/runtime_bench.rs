//! Benchmark of the runtime: N work items of a 10-node flow (start, 8 system steps with a
//! trivial handler, end) started and run to completion, against inserting the same rows
//! (items, tokens, transitions) with plain multi-row SQL in the same process.
//!
//! ```text
//! cargo run --release -p nagare-engine --example runtime_bench -- sqlite [ITEMS]
//! NAGARE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p nagare-engine --example runtime_bench -- postgres [ITEMS]
//! ```
//!
//! Prints one JSON object. Peak memory is the process's high-water mark (VmHWM) after the
//! runtime phase, which runs first.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::Utc;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Actor, Data, Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, SystemClock,
};
use nagare_engine::store::{Param, PgStore, SqliteStore, Store, values_list};
use serde_json::json;

const STEPS: usize = 8;

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn flow() -> String {
    let mut nodes = String::from("  - { id: start, kind: start, lane: office, next: s1 }\n");
    for i in 1..=STEPS {
        let next = if i == STEPS {
            "finish".to_owned()
        } else {
            format!("s{}", i + 1)
        };
        nodes.push_str(&format!(
            "  - {{ id: s{i}, kind: system, lane: office, name: 処理{i}, handler: bench.noop, next: {next} }}\n"
        ));
    }
    nodes.push_str("  - { id: finish, kind: end, lane: office }\n");
    format!(
        "id: \"9.9\"\ntitle: 性能\ncategory: 9.試験\npages: [1]\nversion: 1\nlanes:\n  - {{ id: office, title: 担当課, kind: staff, role: office }}\nnodes:\n{nodes}"
    )
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

async fn open(kind: &str, tag: &str) -> Arc<dyn Store> {
    match kind {
        "sqlite" => {
            let dir =
                std::env::temp_dir().join(format!("nagare_bench_{}_{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            Arc::new(SqliteStore::open(&url).await.expect("open sqlite"))
        }
        "postgres" => {
            let base = std::env::var("NAGARE_TEST_PG_URL")
                .expect("set NAGARE_TEST_PG_URL for the PostgreSQL bench");
            let schema = format!("bench_{}_{tag}", std::process::id());
            let pool = sqlx::PgPool::connect(&base).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&pool)
                .await
                .expect("schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            Arc::new(
                PgStore::open(&format!("{base}{sep}options[search_path]={schema}"))
                    .await
                    .expect("open pg"),
            )
        }
        other => panic!("unknown database `{other}`: use sqlite or postgres"),
    }
}

/// Inserts the rows the runtime writes for `items` completed items, with plain multi-row
/// SQL, 1,000 items per transaction. Returns the number of rows.
async fn plain_inserts(store: &dyn Store, items: usize, hash: &str) -> usize {
    let now = Utc::now();
    let transitions_per_item = STEPS + 2;
    let mut rows = 0;
    for chunk_start in (0..items).step_by(1000) {
        let n = 1000.min(items - chunk_start);
        let mut tx = store.begin().await.expect("begin");
        let mut db = tx.db();
        let ids: Vec<i64> = (chunk_start..chunk_start + n)
            .map(|i| i as i64 + 1)
            .collect();
        for part in ids.chunks(64) {
            let mut params = Vec::with_capacity(part.len() * 11);
            for &id in part {
                params.extend([
                    Param::Int(id),
                    Param::Text("9.9".into()),
                    Param::Int(1),
                    Param::Text(hash.into()),
                    Param::Text(format!("batch:{id}")),
                    Param::Text(r#"{"year":2026}"#.into()),
                    Param::Text("completed".into()),
                    Param::Int(transitions_per_item as i64),
                    Param::Text("f".repeat(64)),
                    Param::Timestamp(now),
                    Param::Timestamp(now),
                ]);
            }
            let sql = format!(
                "INSERT INTO work_items (id, flow_id, flow_version, flow_hash, subject, data, state, seq, \
                 head_hash, created_at, updated_at) VALUES {}",
                values_list(store.backend(), part.len(), 11)
            );
            db.execute(sqlx::AssertSqlSafe(sql), &params)
                .await
                .expect("items");
            let mut params = Vec::with_capacity(part.len() * 8);
            for &id in part {
                params.extend([
                    Param::Int(id),
                    Param::Int(id),
                    Param::Text("finish".into()),
                    Param::Text("done".into()),
                    Param::Text(String::new()),
                    Param::Int(0),
                    Param::Int(0),
                    Param::Timestamp(now),
                ]);
            }
            let sql = format!(
                "INSERT INTO tokens (id, item_id, node, state, fork_path, attempts, pending_children, \
                 entered_at) VALUES {}",
                values_list(store.backend(), part.len(), 8)
            );
            db.execute(sqlx::AssertSqlSafe(sql), &params)
                .await
                .expect("tokens");
            rows += part.len() * 2;
        }
        let mut transitions = Vec::with_capacity(n * transitions_per_item);
        for &id in &ids {
            for seq in 1..=transitions_per_item {
                transitions.push((id, seq as i64));
            }
        }
        for part in transitions.chunks(64) {
            let mut params = Vec::with_capacity(part.len() * 11);
            for &(id, seq) in part {
                params.extend([
                    Param::Int(id),
                    Param::Int(seq),
                    Param::Timestamp(now),
                    Param::Text("system".into()),
                    Param::Text("moved".into()),
                    Param::Text(format!("s{seq}")),
                    Param::Text(format!("s{}", seq + 1)),
                    Param::Null,
                    Param::Null,
                    Param::Text("e".repeat(64)),
                    Param::Text("f".repeat(64)),
                ]);
            }
            let sql = format!(
                "INSERT INTO transitions (item_id, seq, at, actor, kind, from_node, to_node, data_change, \
                 detail, prev_hash, hash) VALUES {}",
                values_list(store.backend(), part.len(), 11)
            );
            db.execute(sqlx::AssertSqlSafe(sql), &params)
                .await
                .expect("transitions");
            rows += part.len();
        }
        tx.commit().await.expect("commit");
    }
    rows
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "sqlite".to_owned());
    let items: usize = args
        .next()
        .map_or(100_000, |n| n.parse().expect("ITEMS is a number"));
    let batch: usize = std::env::var("NAGARE_BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(500);

    let source = flow();
    let catalog = check_sources(&[("9.9.yaml".to_owned(), source.into_bytes())])
        .catalog
        .expect("bench flow checks");
    let hash = catalog.get("9.9").expect("flow").content_hash.clone();

    // The runtime: start every item, then run batches until nothing is left.
    let store = open(&kind, "runtime").await;
    let mut handlers = HandlerRegistry::new();
    handlers.register("bench.noop", Noop);
    let rt = Runtime::new(store, handlers, Arc::new(SystemClock));
    rt.register_catalog(&catalog).await.expect("register");
    let started = Instant::now();
    let mut transitions = 0usize;
    for chunk_start in (0..items).step_by(1000) {
        let n = 1000.min(items - chunk_start);
        let specs: Vec<(String, Data)> = (chunk_start..chunk_start + n)
            .map(|i| {
                (
                    format!("batch:{i}"),
                    json!({"year": 2026})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        transitions += rt
            .start_many("9.9", specs, &Actor::System)
            .await
            .expect("start")
            .len();
    }
    let start_secs = started.elapsed().as_secs_f64();
    loop {
        let report = rt.run_batch(batch).await.expect("batch");
        if report.items == 0 {
            break;
        }
        transitions += report.transitions;
    }
    let runtime_secs = started.elapsed().as_secs_f64();
    let peak_kib = peak_rss_kib();
    let expected = items * (STEPS + 2);
    assert_eq!(transitions, expected, "every item ran to its end");

    // The physical limit: the same rows, plain SQL, same process.
    eprintln!(
        "runtime: {transitions} transitions in {runtime_secs:.3} s, peak {} MiB",
        peak_kib / 1024
    );
    let plain_store = open(&kind, "plain").await;
    // The items refer to their flow version; registering it is not part of the timing.
    Runtime::new(
        Arc::clone(&plain_store),
        HandlerRegistry::new(),
        Arc::new(SystemClock),
    )
    .register_catalog(&catalog)
    .await
    .expect("register");
    let plain_started = Instant::now();
    let rows = plain_inserts(&*plain_store, items, &hash).await;
    let plain_secs = plain_started.elapsed().as_secs_f64();

    println!(
        "{}",
        json!({
            "database": kind,
            "items": items,
            "nodes": STEPS + 2,
            "batch": batch,
            "transitions": transitions,
            "runtime_seconds": (runtime_secs * 1000.0).round() / 1000.0,
            "of_which_start_seconds": (start_secs * 1000.0).round() / 1000.0,
            "transitions_per_second": (transitions as f64 / runtime_secs).round(),
            "peak_rss_mib": peak_kib / 1024,
            "plain_rows": rows,
            "plain_seconds": (plain_secs * 1000.0).round() / 1000.0,
            "plain_rows_per_second": (rows as f64 / plain_secs).round(),
            "runtime_vs_plain": ((runtime_secs / plain_secs) * 100.0).round() / 100.0,
        })
    );
}
