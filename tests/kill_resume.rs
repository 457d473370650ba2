//! Kill-and-resume: the real `nagare worker` binary works through 10,000 work items of an
//! all-system-step flow whose handlers write one effect row per (item, step); it is killed
//! with SIGKILL part-way and started again. Every item must finish with exactly the expected
//! transitions and every effect exactly once. On PostgreSQL two workers run at once.
//!
//! The handlers are the binary's test handlers (`nagare worker --test-handlers`, hidden):
//! `test.effect` inserts into `test_effects(item_id, node)`, which this test creates.

#[path = "../engine/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{Actor, Data, HandlerRegistry, ItemState, Runtime, SystemClock};
use nagare_engine::store::{Db, Store};

const ITEMS: usize = 10_000;
const STEPS: [&str; 4] = ["step_a", "step_b", "step_c", "step_d"];

const FLOW: &str = r#"id: "9.8"
title: 再開試験
category: 9.試験
pages: [1]
version: 1
lanes:
  - id: municipal_office
    title: 後期高齢担当課
    kind: staff
    role: municipal_office
nodes:
  - { id: start, kind: start, lane: municipal_office, next: step_a }
  - { id: step_a, kind: system, lane: municipal_office, name: 処理A, handler: test.effect, next: step_b }
  - { id: step_b, kind: system, lane: municipal_office, name: 処理B, handler: test.effect, next: step_c }
  - { id: step_c, kind: system, lane: municipal_office, name: 処理C, handler: test.effect, next: step_d }
  - { id: step_d, kind: system, lane: municipal_office, name: 処理D, handler: test.effect, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

/// Runs one scalar query on either database.
async fn scalar(store: &dyn Store, sql: &'static str) -> i64 {
    let mut tx = store.begin().await.expect("begin");
    let value = match tx.db() {
        Db::Sqlite(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
        Db::Postgres(c) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.rollback().await.expect("rollback");
    value
}

/// Returns every transition as (item, seq, kind, from, to), ordered.
async fn transitions(store: &dyn Store) -> Vec<(i64, i64, String, Option<String>, Option<String>)> {
    const SQL: &str =
        "SELECT item_id, seq, kind, from_node, to_node FROM transitions ORDER BY item_id, seq";
    let mut tx = store.begin().await.expect("begin");
    let rows = match tx.db() {
        Db::Sqlite(c) => sqlx::query_as(SQL).fetch_all(&mut *c).await,
        Db::Postgres(c) => sqlx::query_as(SQL).fetch_all(&mut *c).await,
    }
    .expect("transitions");
    tx.rollback().await.expect("rollback");
    rows
}

async fn prepare(store: Arc<dyn Store>, flows: &Path) -> Runtime {
    support::exec(
        &*store,
        "CREATE TABLE test_effects (item_id BIGINT NOT NULL, node TEXT NOT NULL)",
    )
    .await;
    std::fs::create_dir_all(flows).expect("flows dir");
    std::fs::write(flows.join("9.8.yaml"), FLOW).expect("write flow");
    let outcome = check_sources(&[("9.8.yaml".to_owned(), FLOW.as_bytes().to_vec())]);
    let catalog = outcome.catalog.expect("the test flow checks");
    let rt = Runtime::new(store, HandlerRegistry::new(), Arc::new(SystemClock));
    rt.register_catalog(&catalog).await.expect("register");
    for chunk in 0..ITEMS / 1000 {
        let items: Vec<(String, Data)> = (0..1000)
            .map(|i| (format!("batch:{}", chunk * 1000 + i), Data::new()))
            .collect();
        rt.start_many("9.8", items, &Actor::System)
            .await
            .expect("start items");
    }
    rt
}

fn worker(db: &str, flows: &Path, once: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nagare"));
    cmd.args(["--db", db, "--flows"])
        .arg(flows)
        .args([
            "worker",
            "--test-handlers",
            "--batch",
            "50",
            "--poll-ms",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if once {
        cmd.arg("--once");
    }
    cmd.spawn().expect("start nagare worker")
}

async fn completed(store: &dyn Store) -> i64 {
    let counts = store.item_counts(None).await.expect("count items");
    counts
        .iter()
        .find(|(s, _)| *s == ItemState::Completed)
        .map_or(0, |(_, n)| *n)
}

/// Waits until at least `n` items are complete, then kills the workers with SIGKILL.
async fn kill_after(store: &dyn Store, n: i64, workers: &mut [Child]) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    while completed(store).await < n {
        assert!(
            Instant::now() < deadline,
            "the workers made no progress in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for w in workers.iter_mut() {
        w.kill().expect("SIGKILL the worker");
        w.wait().expect("reap the worker");
    }
    completed(store).await
}

async fn check_outcome(rt: &Runtime) {
    let store = &**rt.store();
    assert_eq!(completed(store).await, ITEMS as i64, "every item completed");
    let effects = scalar(store, "SELECT COUNT(*) FROM test_effects").await;
    let doubled = scalar(
        store,
        "SELECT COUNT(*) FROM (SELECT item_id, node FROM test_effects GROUP BY item_id, node HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(doubled, 0, "no effect applied twice");
    assert_eq!(effects, (ITEMS * STEPS.len()) as i64, "no effect lost");

    let mut expected: Vec<(String, Option<String>, Option<String>)> = vec![
        ("started".into(), None, Some("start".into())),
        ("moved".into(), Some("start".into()), Some(STEPS[0].into())),
    ];
    for w in STEPS.windows(2) {
        expected.push(("moved".into(), Some(w[0].into()), Some(w[1].into())));
    }
    expected.push((
        "completed".into(),
        Some(STEPS[STEPS.len() - 1].into()),
        Some("finish".into()),
    ));
    let all = transitions(store).await;
    assert_eq!(
        all.len(),
        ITEMS * expected.len(),
        "exactly the expected number of transitions"
    );
    for (chunk_no, chunk) in all.chunks(expected.len()).enumerate() {
        let item = chunk[0].0;
        for (i, ((id, seq, kind, from, to), want)) in chunk.iter().zip(&expected).enumerate() {
            let got = (kind.clone(), from.clone(), to.clone());
            assert!(
                *id == item && *seq == i as i64 + 1 && &got == want,
                "item {item} (#{chunk_no}): transition {i} is {got:?} (seq {seq}), expected {want:?}"
            );
        }
    }
    let audit = rt.verify_audit().await.expect("audit");
    assert!(
        audit.problems.is_empty(),
        "{:?}",
        &audit.problems[..audit.problems.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_and_restarted() {
    let dir = support::TempDir::new();
    let url = support::sqlite_url(&dir);
    let flows = dir.0.join("flows");
    let rt = prepare(support::sqlite_store(&dir).await, &flows).await;

    let mut first = [worker(&url, &flows, false)];
    let at_kill = kill_after(&**rt.store(), 1000, &mut first).await;
    assert!(
        at_kill < ITEMS as i64,
        "the worker was killed part-way ({at_kill} done)"
    );

    let status = worker(&url, &flows, true).wait().expect("second worker");
    assert!(
        status.success(),
        "the restarted worker ends cleanly: {status}"
    );
    check_outcome(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers_killed_and_restarted() {
    let url = support::pg_schema_url().await;
    let store: Arc<dyn Store> = Arc::new(
        nagare_engine::store::PgStore::open(&url)
            .await
            .expect("open"),
    );
    let dir = support::TempDir::new();
    let flows = dir.0.join("flows");
    let rt = prepare(store, &flows).await;

    let mut first = [worker(&url, &flows, false), worker(&url, &flows, false)];
    let at_kill = kill_after(&**rt.store(), 1000, &mut first).await;
    assert!(
        at_kill < ITEMS as i64,
        "the workers were killed part-way ({at_kill} done)"
    );

    let mut second = [worker(&url, &flows, true), worker(&url, &flows, true)];
    for w in &mut second {
        let status = w.wait().expect("restarted worker");
        assert!(
            status.success(),
            "a restarted worker ends cleanly: {status}"
        );
    }
    check_outcome(&rt).await;
}
