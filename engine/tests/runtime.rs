//! The behavioural suite of the runtime, written once against `dyn Store` and run on SQLite
//! (a temporary file) and on PostgreSQL (a fresh schema on `NAGARE_TEST_PG_URL`).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use nagare_engine::flow::{Catalog, check_sources};
use nagare_engine::runtime::audit::ProblemKind;
use nagare_engine::runtime::{
    Actor, Data, Delivery, DeliveryTarget, Handler, HandlerContext, HandlerError, HandlerRegistry,
    ItemState, Refusal, Runtime, RuntimeError, TaskState, TestClock,
};
use nagare_engine::store::{Backend, ItemFilter, Param, Store, TaskFilter};
use serde_json::{Value, json};

// ---- handlers -----------------------------------------------------------------------

/// Writes an effect row for (item, node) and marks the data.
struct Record;

#[async_trait]
impl Handler for Record {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let (item, node) = (ctx.item_id(), ctx.node().to_owned());
        ctx.execute(
            "INSERT INTO test_effects (item_id, node) VALUES ($1, $2)",
            &[Param::Int(item), Param::Text(node.clone())],
        )
        .await?;
        ctx.set(format!("{node}_done"), json!(true));
        Ok(())
    }
}

/// Writes an effect and a letter to the outbox.
struct Letters;

#[async_trait]
impl Handler for Letters {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Record.run(ctx).await?;
        let subject = ctx.subject().to_owned();
        ctx.outbox(
            "demand_letter",
            Some("resident"),
            json!({"subject": subject}),
        )
        .await?;
        ctx.set("demand_letter", json!({"letter": "督促状"}));
        Ok(())
    }
}

/// Writes an effect, then fails while `failures` is above zero.
struct Flaky(Arc<AtomicI64>);

#[async_trait]
impl Handler for Flaky {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Record.run(ctx).await?;
        if self.0.fetch_sub(1, Ordering::SeqCst) > 0 {
            return Err(HandlerError::Failed(
                "the bank file is not there yet".into(),
            ));
        }
        Ok(())
    }
}

struct Permanent;

#[async_trait]
impl Handler for Permanent {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Err(HandlerError::Permanent(
            "the assessment year is missing".into(),
        ))
    }
}

// ---- flows --------------------------------------------------------------------------

const LANES: &str = r#"
lanes:
  - id: municipal_office
    title: 後期高齢担当課
    kind: staff
    role: municipal_office
"#;

fn flow(head: &str, nodes: &str) -> String {
    format!("{head}\ncategory: 9.試験\npages: [1]\n{LANES}\nnodes:\n{nodes}")
}

const FLAKY_FLOW_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: flaky }
  - { id: flaky, kind: system, lane: municipal_office, name: 試験処理, handler: test.flaky, retries: 1, next: route }
  - id: route
    kind: decision
    lane: municipal_office
    next:
      - { to: end_a, when: kind == "a" }
      - { to: end_b, when: kind == "b" }
  - { id: end_a, kind: end, lane: municipal_office }
  - { id: end_b, kind: end, lane: municipal_office }
"#;

const PERMANENT_FLOW_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: broken }
  - { id: broken, kind: system, lane: municipal_office, name: 試験処理, handler: test.permanent, next: after }
  - { id: after, kind: system, lane: municipal_office, name: 後処理, handler: test.record, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const FAN_OUT_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: per_person }
  - { id: per_person, kind: call, lane: municipal_office, name: 個別処理, flow: "9.5", for_each: targets, next: notify }
  - { id: notify, kind: call, lane: municipal_office, name: 通知, flow: "9.5", wait: false, next: after }
  - { id: after, kind: system, lane: municipal_office, name: 集計, handler: test.record, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const CHILD_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: work }
  - { id: work, kind: system, lane: municipal_office, name: 個別作業, handler: test.record, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const V1_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: which }
  - id: which
    kind: decision
    lane: municipal_office
    next:
      - { to: review, when: path == "a" }
      - { to: legacy, default: true }
  - id: review
    kind: manual
    lane: municipal_office
    name: 内容確認
    fields: [{ id: ok, label: 確認した, type: bool }]
    next: step
  - id: legacy
    kind: manual
    lane: municipal_office
    name: 旧確認
    fields: [{ id: ok, label: 確認した, type: bool }]
    next: finish
  - { id: step, kind: system, lane: municipal_office, name: 処理, handler: test.record, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const V2_NODES: &str = r#"
  - { id: start, kind: start, lane: municipal_office, next: review }
  - id: review
    kind: manual
    lane: municipal_office
    name: 内容確認
    fields: [{ id: ok, label: 確認した, type: bool }]
    next: extra
  - { id: extra, kind: system, lane: municipal_office, name: 追加処理, handler: test.record, next: step }
  - { id: step, kind: system, lane: municipal_office, name: 処理, handler: test.record, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

fn catalog(files: &[(&str, String)]) -> Catalog {
    let sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.clone().into_bytes()))
        .collect();
    let outcome = check_sources(&sources);
    let messages: Vec<String> = outcome
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    outcome
        .catalog
        .unwrap_or_else(|| panic!("test flows do not check: {messages:?}"))
}

fn corpus() -> Catalog {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/flows/valid");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("tests/flows/valid")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("read flow"),
            )
        })
        .collect();
    files.sort();
    let refs: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    catalog(&refs)
}

// ---- helpers ------------------------------------------------------------------------

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Env {
    rt: Runtime,
    clock: Arc<TestClock>,
    flaky: Arc<AtomicI64>,
}

async fn env(store: Arc<dyn Store>) -> Env {
    support::exec(
        &*store,
        "CREATE TABLE test_effects (item_id BIGINT NOT NULL, node TEXT NOT NULL)",
    )
    .await;
    let clock = Arc::new(TestClock::new(t0()));
    let flaky = Arc::new(AtomicI64::new(0));
    let mut handlers = HandlerRegistry::new();
    handlers
        .register("demand.extract_targets", Record)
        .register("demand.create_letters", Letters)
        .register("enforcement.register", Record)
        .register("test.record", Record)
        .register("test.flaky", Flaky(Arc::clone(&flaky)))
        .register("test.permanent", Permanent);
    let rt = Runtime::new(store, handlers, clock.clone());
    Env { rt, clock, flaky }
}

fn data(v: Value) -> Data {
    v.as_object().expect("object").clone()
}

async fn idle(rt: &Runtime) -> usize {
    let mut transitions = 0;
    loop {
        let report = rt.run_batch(50).await.expect("batch");
        transitions += report.transitions;
        if report.items == 0 {
            return transitions;
        }
    }
}

async fn steps(rt: &Runtime, id: i64) -> Vec<String> {
    rt.store()
        .history(id)
        .await
        .expect("history")
        .iter()
        .map(|t| {
            format!(
                "{} {}>{}",
                t.kind,
                t.from_node.as_deref().unwrap_or("-"),
                t.to_node.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

async fn effects(store: &dyn Store, item: i64) -> Vec<String> {
    // Read through a transaction so both databases answer the same way.
    let mut tx = store.begin().await.expect("begin");
    let rows: Vec<String> = match tx.db() {
        nagare_engine::store::Db::Sqlite(c) => {
            sqlx::query_scalar("SELECT node FROM test_effects WHERE item_id = $1 ORDER BY node")
                .bind(item)
                .fetch_all(&mut *c)
                .await
        }
        nagare_engine::store::Db::Postgres(c) => {
            sqlx::query_scalar("SELECT node FROM test_effects WHERE item_id = $1 ORDER BY node")
                .bind(item)
                .fetch_all(&mut *c)
                .await
        }
    }
    .expect("effects");
    rows
}

async fn item_state(rt: &Runtime, id: i64) -> ItemState {
    rt.store()
        .item(id)
        .await
        .expect("item")
        .expect("exists")
        .state
}

// ---- scenarios ------------------------------------------------------------------------

/// The test corpus's 督促 flow end to end: a batch step, a manual task with a due date, a
/// decision on its answer, a parallel split and join with an outbox letter and an
/// out-of-scope step, a timer, a correlated receive with a duplicate refused, the re-debit
/// loop taken once, and a call whose child runs and finishes.
async fn demand_flow_end_to_end(store: Arc<dyn Store>) {
    let Env { rt, clock, .. } = env(store).await;
    rt.register_catalog(&corpus()).await.expect("register");
    let id = rt
        .start(
            "9.1",
            "insured:0001",
            data(json!({"due_date": "2026-05-01", "customer_no": "C-001"})),
            &Actor::User("sato".into()),
        )
        .await
        .expect("start");
    idle(&rt).await;
    assert_eq!(item_state(&rt, id).await, ItemState::Waiting);

    let tasks = rt
        .store()
        .tasks(&TaskFilter {
            item_id: Some(id),
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(
        (task.node.as_str(), task.role.as_str()),
        ("check_targets", "municipal_office")
    );
    assert_eq!(task.due_date, NaiveDate::from_ymd_opt(2026, 5, 21));
    assert_eq!(task.state, TaskState::Open);

    let tanaka = Actor::User("tanaka".into());
    rt.complete_task(task.id, &tanaka, data(json!({"issue": true})))
        .await
        .expect("complete");
    idle(&rt).await;
    assert_eq!(
        item_state(&rt, id).await,
        ItemState::Waiting,
        "waits for the 10-day timer"
    );
    let outbox = rt.store().outbox(Some(id)).await.unwrap();
    let docs: Vec<(&str, Option<&str>)> = outbox
        .iter()
        .map(|o| (o.node.as_str(), o.recipient.as_deref()))
        .collect();
    assert_eq!(
        docs,
        [
            ("create_letters", Some("resident")),
            ("send_letters", Some("resident"))
        ]
    );

    let bank = |payload: Value, delivery: &str| Delivery {
        target: DeliveryTarget::Correlated {
            document: "debit_result".into(),
            value: "C-001".into(),
        },
        payload: data(payload),
        delivery_id: Some(delivery.into()),
        actor: Actor::System,
    };
    let early = rt.deliver(bank(json!({"result": "0"}), "early")).await;
    assert!(
        matches!(early, Err(RuntimeError::Refused(Refusal::Unmatched(_)))),
        "{early:?}"
    );

    clock.advance(Duration::days(10));
    idle(&rt).await;
    let first = bank(
        json!({"result": "1", "retry": true, "retry_date": "2026-04-20"}),
        "bank-0411",
    );
    rt.deliver(first.clone()).await.expect("first result");
    let again = rt.deliver(first).await;
    assert!(
        matches!(again, Err(RuntimeError::Refused(Refusal::Duplicate(_)))),
        "{again:?}"
    );
    let other = Delivery {
        target: DeliveryTarget::Correlated {
            document: "debit_result".into(),
            value: "C-999".into(),
        },
        ..bank(json!({"result": "0"}), "other")
    };
    assert!(matches!(
        rt.deliver(other).await,
        Err(RuntimeError::Refused(Refusal::Unmatched(_)))
    ));
    idle(&rt).await;
    assert_eq!(
        item_state(&rt, id).await,
        ItemState::Waiting,
        "waits until the re-debit date"
    );

    clock.set(
        DateTime::parse_from_rfc3339("2026-04-20T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    idle(&rt).await;
    rt.deliver(bank(json!({"result": "2", "retry": false}), "bank-0420"))
        .await
        .expect("second result");
    idle(&rt).await;

    assert_eq!(item_state(&rt, id).await, ItemState::Completed);
    let children = rt
        .store()
        .items(&ItemFilter {
            parent_id: Some(id),
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(
        (children[0].flow_id.as_str(), children[0].state),
        ("9.2", ItemState::Completed)
    );
    assert_eq!(
        steps(&rt, children[0].id).await,
        [
            "started ->start",
            "moved start>register",
            "completed register>finish"
        ]
    );

    assert_eq!(
        steps(&rt, id).await,
        [
            "started ->start",
            "moved start>extract_targets",
            "moved extract_targets>check_targets",
            "task_completed check_targets>issue_or_not",
            "moved issue_or_not>split",
            "moved split>create_letters",
            "moved split>union_registers",
            "moved create_letters>send_letters",
            "moved send_letters>joined",
            "moved union_registers>joined",
            "moved joined>wait_deadline",
            "timer_fired wait_deadline>receive_result",
            "message_received receive_result>paid_or_not",
            "moved paid_or_not>retry_wait",
            "timer_fired retry_wait>receive_result",
            "message_received receive_result>paid_or_not",
            "moved paid_or_not>enforcement",
            "children_done enforcement>finish",
        ]
    );
    let history = rt.store().history(id).await.unwrap();
    assert_eq!(history[3].actor, "user:tanaka");
    assert_eq!(history[3].data_change.as_deref(), Some(r#"{"issue":true}"#));
    assert_eq!(history[0].actor, "user:sato");
    assert_eq!(
        effects(&**rt.store(), id).await,
        ["create_letters", "extract_targets"]
    );
    assert_eq!(effects(&**rt.store(), children[0].id).await, ["register"]);
    assert_eq!(rt.store().messages(id).await.unwrap().len(), 2);

    let audit = rt.verify_audit().await.expect("audit");
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    assert_eq!(audit.items, 2);
    assert_eq!(audit.transitions, 21);
}

/// A failing handler is retried after a backoff, its effects undone each time; past its
/// `retries` the item fails with the error visible; staff retry it and it completes. A
/// decision whose conditions all fail, with no default, fails the item; staff skip it.
async fn retries_failures_retry_and_skip(store: Arc<dyn Store>) {
    let Env { rt, clock, flaky } = env(store).await;
    let head = "id: \"9.3\"\ntitle: 試験\nversion: 1";
    rt.register_catalog(&catalog(&[("9.3.yaml", flow(head, FLAKY_FLOW_NODES))]))
        .await
        .unwrap();
    flaky.store(5, Ordering::SeqCst);
    let id = rt
        .start(
            "9.3",
            "batch:2026",
            data(json!({"kind": "c"})),
            &Actor::System,
        )
        .await
        .unwrap();
    idle(&rt).await;
    let item = rt.store().item(id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Running, "waits for its retry");
    assert_eq!(item.run_at, Some(t0() + Duration::seconds(30)));
    clock.advance(Duration::seconds(30));
    idle(&rt).await;
    let item = rt.store().item(id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Failed);
    let error = item.error.unwrap();
    assert!(
        error.contains("after 2 attempts") && error.contains("bank file"),
        "{error}"
    );
    assert!(
        effects(&**rt.store(), id).await.is_empty(),
        "a failed step's effects are undone"
    );

    assert!(matches!(
        rt.skip(id, &Actor::User("sato".into()), " ").await,
        Err(RuntimeError::Invalid(_))
    ));
    flaky.store(0, Ordering::SeqCst);
    rt.retry(id, &Actor::User("sato".into())).await.unwrap();
    assert!(matches!(
        rt.retry(id, &Actor::User("sato".into())).await,
        Err(RuntimeError::Conflict(_))
    ));
    idle(&rt).await;
    let item = rt.store().item(id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Failed, "no branch matches kind c");
    assert!(item.error.unwrap().contains("no branch matched"));
    assert_eq!(
        effects(&**rt.store(), id).await,
        ["flaky"],
        "the successful attempt's effect only"
    );

    let skip = rt
        .skip(id, &Actor::User("sato".into()), "区分を確認済み")
        .await;
    assert!(
        matches!(skip, Err(RuntimeError::Conflict(_))),
        "a decision without default cannot be skipped"
    );

    let head = "id: \"9.7\"\ntitle: 試験\nversion: 1";
    rt.register_catalog(&catalog(&[("9.7.yaml", flow(head, PERMANENT_FLOW_NODES))]))
        .await
        .unwrap();
    let id2 = rt
        .start("9.7", "batch:2026", Data::new(), &Actor::System)
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(
        item_state(&rt, id2).await,
        ItemState::Failed,
        "a permanent error is not retried"
    );
    rt.skip(id2, &Actor::User("sato".into()), "年度は手入力した")
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(item_state(&rt, id2).await, ItemState::Completed);

    assert_eq!(
        steps(&rt, id).await,
        [
            "started ->start",
            "moved start>flaky",
            "step_failed flaky>flaky",
            "failed flaky>-",
            "retried flaky>flaky",
            "moved flaky>route",
            "failed route>-",
        ]
    );
    assert_eq!(
        steps(&rt, id2).await,
        [
            "started ->start",
            "moved start>broken",
            "failed broken>-",
            "skipped broken>after",
            "completed after>finish"
        ]
    );
    let history = rt.store().history(id2).await.unwrap();
    assert_eq!(history[3].actor, "user:sato");
    assert_eq!(history[3].detail.as_deref(), Some("年度は手入力した"));
    assert!(rt.verify_audit().await.unwrap().problems.is_empty());
}

/// A call with `for_each` starts one child per element and waits for all; a call with
/// `wait: false` starts its child and goes on.
async fn fan_out_waits_for_every_child(store: Arc<dyn Store>) {
    let Env { rt, .. } = env(store).await;
    rt.register_catalog(&catalog(&[
        (
            "9.4.yaml",
            flow("id: \"9.4\"\ntitle: 一括\nversion: 1", FAN_OUT_NODES),
        ),
        (
            "9.5.yaml",
            flow("id: \"9.5\"\ntitle: 個別\nversion: 1", CHILD_NODES),
        ),
    ]))
    .await
    .unwrap();
    let targets =
        json!({"targets": [{"subject": "insured:1"}, {"subject": "insured:2"}, "insured:3"]});
    let id = rt
        .start("9.4", "batch:督促2026", data(targets), &Actor::System)
        .await
        .unwrap();
    rt.run_batch(10).await.unwrap();
    assert_eq!(item_state(&rt, id).await, ItemState::Waiting);
    assert_eq!(
        steps(&rt, id).await,
        ["started ->start", "moved start>per_person"]
    );
    idle(&rt).await;
    assert_eq!(item_state(&rt, id).await, ItemState::Completed);
    let children = rt
        .store()
        .items(&ItemFilter {
            parent_id: Some(id),
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    let subjects: Vec<&str> = children.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "insured:1",
            "insured:2",
            "batch:督促2026#3",
            "batch:督促2026"
        ]
    );
    assert!(children.iter().all(|c| c.state == ItemState::Completed));
    assert_eq!(children[2].data.get("item"), Some(&json!("insured:3")));
    assert_eq!(
        children[3].parent_token_id, None,
        "wait: false does not hold the parent"
    );
    assert_eq!(
        steps(&rt, id).await,
        [
            "started ->start",
            "moved start>per_person",
            "children_done per_person>notify",
            "moved notify>after",
            "completed after>finish",
        ]
    );
}

/// Running items keep the flow version they started with; `migrate_items` moves those
/// whose tokens stand on nodes that still exist, and refuses the others.
async fn versions_and_migration(store: Arc<dyn Store>) {
    let Env { rt, .. } = env(store).await;
    let v1 = flow("id: \"9.6\"\ntitle: 版\nversion: 1", V1_NODES);
    let v2 = flow("id: \"9.6\"\ntitle: 版\nversion: 2", V2_NODES);
    rt.register_catalog(&catalog(&[("9.6.yaml", v1)]))
        .await
        .unwrap();
    let a = rt
        .start(
            "9.6",
            "insured:a",
            data(json!({"path": "a"})),
            &Actor::System,
        )
        .await
        .unwrap();
    let b = rt
        .start(
            "9.6",
            "insured:b",
            data(json!({"path": "b"})),
            &Actor::System,
        )
        .await
        .unwrap();
    idle(&rt).await;
    let old_hash = rt.store().item(a).await.unwrap().unwrap().flow_hash;

    rt.register_catalog(&catalog(&[("9.6.yaml", v2)]))
        .await
        .unwrap();
    let c = rt
        .start("9.6", "insured:c", Data::new(), &Actor::System)
        .await
        .unwrap();
    let (ia, ic) = (
        rt.store().item(a).await.unwrap().unwrap(),
        rt.store().item(c).await.unwrap().unwrap(),
    );
    assert_eq!(
        (ia.flow_version, ia.flow_hash.as_str()),
        (1, old_hash.as_str()),
        "running items keep their version"
    );
    assert_eq!(ic.flow_version, 2);

    let report = rt
        .migrate_items("9.6", &Actor::User("admin".into()))
        .await
        .unwrap();
    assert_eq!(report.migrated, [a]);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].0, b);
    assert!(
        report.refused[0].1.contains("legacy"),
        "{}",
        report.refused[0].1
    );

    let task = rt
        .store()
        .tasks(&TaskFilter {
            item_id: Some(a),
            ..TaskFilter::default()
        })
        .await
        .unwrap()[0]
        .clone();
    rt.complete_task(
        task.id,
        &Actor::User("tanaka".into()),
        data(json!({"ok": true})),
    )
    .await
    .unwrap();
    idle(&rt).await;
    assert_eq!(item_state(&rt, a).await, ItemState::Completed);
    assert_eq!(
        effects(&**rt.store(), a).await,
        ["extra", "step"],
        "the migrated item runs version 2"
    );
    let history = steps(&rt, a).await;
    assert!(history.contains(&"migrated ->-".to_owned()), "{history:?}");
    assert!(rt.verify_audit().await.unwrap().problems.is_empty());
}

/// Claims, completion by the wrong person, invalid answers and double completion.
async fn task_rules(store: Arc<dyn Store>) {
    let Env { rt, .. } = env(store).await;
    rt.register_catalog(&catalog(&[(
        "9.6.yaml",
        flow("id: \"9.6\"\ntitle: 版\nversion: 1", V1_NODES),
    )]))
    .await
    .unwrap();
    let id = rt
        .start(
            "9.6",
            "insured:a",
            data(json!({"path": "a"})),
            &Actor::System,
        )
        .await
        .unwrap();
    idle(&rt).await;
    let task = rt
        .store()
        .tasks(&TaskFilter {
            role: Some("municipal_office".into()),
            ..TaskFilter::default()
        })
        .await
        .unwrap()[0]
        .clone();
    let (alice, bob) = (Actor::User("alice".into()), Actor::User("bob".into()));
    rt.claim_task(task.id, "alice").await.unwrap();
    assert!(matches!(
        rt.claim_task(task.id, "bob").await,
        Err(RuntimeError::Conflict(_))
    ));
    assert!(matches!(
        rt.complete_task(task.id, &bob, data(json!({"ok": true})))
            .await,
        Err(RuntimeError::Conflict(_))
    ));
    assert!(matches!(
        rt.complete_task(task.id, &alice, data(json!({"ok": "yes"})))
            .await,
        Err(RuntimeError::Invalid(_))
    ));
    assert!(matches!(
        rt.complete_task(task.id, &alice, Data::new()).await,
        Err(RuntimeError::Invalid(_))
    ));
    assert!(matches!(
        rt.complete_task(999_999, &alice, Data::new()).await,
        Err(RuntimeError::NotFound { .. })
    ));
    rt.complete_task(task.id, &alice, data(json!({"ok": true})))
        .await
        .unwrap();
    assert!(matches!(
        rt.complete_task(task.id, &alice, data(json!({"ok": true})))
            .await,
        Err(RuntimeError::Conflict(_))
    ));
    let done = rt.store().task(task.id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.completed_by.as_deref()),
        (TaskState::Completed, Some("alice"))
    );
    assert_eq!(done.answer, Some(json!({"ok": true})));
    idle(&rt).await;
    assert_eq!(item_state(&rt, id).await, ItemState::Completed);
    let history = steps(&rt, id).await;
    assert_eq!(history.len(), 6, "{history:?}");
    assert!(
        history.contains(&"task_claimed ->-".to_owned()),
        "the claim is in the history: {history:?}"
    );
}

/// `verify_audit` names an edited, a deleted and a reordered record; the tables refuse
/// updates and deletes until someone removes the guard.
async fn audit_catches_tampering(store: Arc<dyn Store>) {
    let Env { rt, .. } = env(store.clone()).await;
    let head = "id: \"9.5\"\ntitle: 個別\nversion: 1";
    rt.register_catalog(&catalog(&[("9.5.yaml", flow(head, CHILD_NODES))]))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            rt.start("9.5", &format!("insured:{n}"), Data::new(), &Actor::System)
                .await
                .unwrap(),
        );
    }
    idle(&rt).await;
    assert!(rt.verify_audit().await.unwrap().problems.is_empty());

    let mut tx = store.begin().await.unwrap();
    let refused = tx
        .db()
        .execute("UPDATE transitions SET detail = 'x'", &[])
        .await;
    assert!(refused.is_err(), "the log is append-only");
    tx.rollback().await.unwrap();
    match store.backend() {
        Backend::Sqlite => {
            support::exec(&*store, "DROP TRIGGER transitions_no_update").await;
            support::exec(&*store, "DROP TRIGGER transitions_no_delete").await;
        }
        Backend::Postgres => {
            support::exec(&*store, "DROP TRIGGER transitions_no_change ON transitions").await;
        }
    }
    let mut tx = store.begin().await.unwrap();
    let mut db = tx.db();
    db.execute(
        "UPDATE transitions SET detail = 'edited' WHERE item_id = $1 AND seq = 2",
        &[Param::Int(ids[0])],
    )
    .await
    .unwrap();
    db.execute(
        "DELETE FROM transitions WHERE item_id = $1 AND seq = 2",
        &[Param::Int(ids[1])],
    )
    .await
    .unwrap();
    for (from, to) in [(2, -2), (3, 2), (-2, 3)] {
        db.execute(
            "UPDATE transitions SET seq = $3 WHERE item_id = $1 AND seq = $2",
            &[Param::Int(ids[2]), Param::Int(from), Param::Int(to)],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let report = rt.verify_audit().await.unwrap();
    let found: Vec<(i64, ProblemKind, i64)> = report
        .problems
        .iter()
        .map(|p| (p.item_id, p.kind, p.seq))
        .collect();
    assert!(
        found.contains(&(ids[0], ProblemKind::Edited, 2)),
        "{:#?}",
        report.problems
    );
    assert!(
        found.contains(&(ids[1], ProblemKind::Deleted, 3)),
        "{:#?}",
        report.problems
    );
    assert!(
        found.contains(&(ids[2], ProblemKind::Reordered, 2)),
        "{:#?}",
        report.problems
    );
    assert!(
        found.iter().all(|(item, _, _)| *item != ids[3]),
        "the untouched item is clean"
    );
    let edited = report
        .problems
        .iter()
        .find(|p| p.item_id == ids[0])
        .unwrap();
    assert!(edited.transition_id.is_some() && edited.message.contains("content was changed"));
}

/// Several runtimes (as several workers) on one store never move the same item twice.
async fn concurrent_workers(store: Arc<dyn Store>) {
    let Env { rt, .. } = env(store.clone()).await;
    let head = "id: \"9.5\"\ntitle: 個別\nversion: 1";
    let cat = catalog(&[("9.5.yaml", flow(head, CHILD_NODES))]);
    rt.register_catalog(&cat).await.unwrap();
    let items: Vec<(String, Data)> = (0..200)
        .map(|n| (format!("insured:{n}"), Data::new()))
        .collect();
    let ids = rt.start_many("9.5", items, &Actor::System).await.unwrap();
    let second = env_like(&rt, store).await;
    second.register_catalog(&cat).await.unwrap();
    let (a, b) = tokio::join!(idle(&rt), idle(&second));
    assert_eq!(a + b, 200 * 2);
    for id in [ids[0], ids[199]] {
        assert_eq!(effects(&**rt.store(), id).await, ["work"]);
    }
    let audit = rt.verify_audit().await.unwrap();
    assert!(audit.problems.is_empty());
    assert_eq!(audit.transitions, 200 * 3);
}

async fn env_like(_rt: &Runtime, store: Arc<dyn Store>) -> Runtime {
    let mut handlers = HandlerRegistry::new();
    handlers.register("test.record", Record);
    Runtime::new(store, handlers, Arc::new(TestClock::new(t0())))
}

/// Returns data that defines every variable the flows' conditions read (`X == "a"` gets
/// `"a"`, a bare `X` gets `false`) and every correlation field (a value unique to `subject`).
fn data_for_conditions(catalog: &Catalog, subject: &str) -> Data {
    use nagare_engine::flow::NodeKind;
    const WORDS: [&str; 9] = [
        "and", "or", "not", "in", "is", "defined", "true", "false", "none",
    ];
    let mut data = Data::new();
    for flow in catalog.flows() {
        for node in &flow.nodes {
            if let NodeKind::Receive {
                correlation: Some(field),
                ..
            } = &node.kind
            {
                data.insert(field.clone(), json!(format!("{field}-{subject}")));
            }
            for edge in &node.next {
                let Some(when) = &edge.when else { continue };
                let text = when.value.as_str();
                let mut rest = text;
                while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    let tail = &rest[start..];
                    let len = tail
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(tail.len());
                    let (word, after) = tail.split_at(len);
                    rest = after;
                    if WORDS.contains(&word) || data.contains_key(word) {
                        continue;
                    }
                    let literal = after
                        .trim_start()
                        .strip_prefix("==")
                        .map(str::trim_start)
                        .and_then(|a| a.strip_prefix('"'))
                        .and_then(|a| a.split('"').next());
                    data.insert(word.to_owned(), literal.map_or(json!(false), |l| json!(l)));
                }
            }
        }
    }
    data
}

/// Returns an answer that satisfies a task's fields.
fn answer_for(fields: &Value) -> Data {
    let mut answer = Data::new();
    for f in fields.as_array().into_iter().flatten() {
        let id = f["id"].as_str().unwrap_or_default().to_owned();
        let value = match f["type"].as_str().unwrap_or("text") {
            "bool" => json!(true),
            "integer" => json!(1),
            "yen" => json!(1000),
            "date" => json!("2026-04-01"),
            "choice" => f["choices"][0].clone(),
            _ => json!("確認済み"),
        };
        answer.insert(id, value);
    }
    answer
}

/// Every flow of `flows/` runs end to end: test handlers for every handler name, tasks
/// completed with valid answers, messages and outside results delivered, timers fired by
/// moving the clock.
async fn real_flows_run_end_to_end(store: Arc<dyn Store>) {
    use nagare_engine::flow::NodeKind;
    use nagare_engine::runtime::{TokenState, Wait};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../flows");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("flows/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("read flow"),
            )
        })
        .collect();
    files.sort();
    let refs: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let catalog = catalog(&refs);
    assert!(catalog.len() >= 19, "the 19 flows of 別紙1");

    support::exec(
        &*store,
        "CREATE TABLE test_effects (item_id BIGINT NOT NULL, node TEXT NOT NULL)",
    )
    .await;
    let mut handlers = HandlerRegistry::new();
    for flow in catalog.flows() {
        for node in &flow.nodes {
            if let NodeKind::System { handler, .. } = &node.kind {
                handlers.register(handler.value.clone(), Record);
            }
        }
    }
    let clock = Arc::new(TestClock::new(t0()));
    let rt = Runtime::new(store, handlers, clock.clone());
    rt.register_catalog(&catalog).await.unwrap();
    let mut roots = Vec::new();
    for flow in catalog.flows() {
        let subject = format!("test:{}", flow.id.value);
        let data = data_for_conditions(&catalog, &subject);
        roots.push(
            rt.start(&flow.id.value, &subject, data, &Actor::System)
                .await
                .unwrap(),
        );
    }
    let staff = Actor::User("tanaka".into());
    for _round in 0..60 {
        let mut moved = idle(&rt).await > 0;
        let live = rt.store().items(&ItemFilter::default()).await.unwrap();
        if let Some(item) = live.iter().find(|i| i.state == ItemState::Failed) {
            panic!(
                "item {} of flow {} failed: {:?}",
                item.id, item.flow_id, item.error
            );
        }
        let open = TaskFilter {
            state: Some(TaskState::Open),
            ..TaskFilter::default()
        };
        for task in rt.store().tasks(&open).await.unwrap() {
            rt.complete_task(task.id, &staff, answer_for(&task.fields))
                .await
                .expect("complete task");
            moved = true;
        }
        for item in live.iter().filter(|i| i.state == ItemState::Waiting) {
            for token in rt.store().tokens(item.id).await.unwrap() {
                let (TokenState::Waiting, Some(Wait::Message | Wait::External), Some(key)) =
                    (token.state, token.wait, token.wait_key.as_deref())
                else {
                    continue;
                };
                let target = match key.split_once('|') {
                    Some((document, value)) => DeliveryTarget::Correlated {
                        document: document.into(),
                        value: value.into(),
                    },
                    None => DeliveryTarget::Item {
                        item_id: item.id,
                        node: token.node.clone(),
                    },
                };
                let delivery = Delivery {
                    target,
                    payload: Data::new(),
                    delivery_id: None,
                    actor: Actor::System,
                };
                rt.deliver(delivery).await.expect("deliver");
                moved = true;
            }
        }
        if !moved {
            clock.advance(Duration::days(40));
        }
        let mut all_done = true;
        for &id in &roots {
            all_done &= item_state(&rt, id).await == ItemState::Completed;
        }
        if all_done {
            break;
        }
    }
    let items = rt.store().items(&ItemFilter::default()).await.unwrap();
    let stuck: Vec<String> = items
        .iter()
        .filter(|i| i.state != ItemState::Completed)
        .map(|i| format!("{} ({})", i.flow_id, i.state))
        .collect();
    assert!(stuck.is_empty(), "items that did not finish: {stuck:?}");
    let mut kinds = std::collections::BTreeSet::new();
    for item in &items {
        for t in rt.store().history(item.id).await.unwrap() {
            kinds.insert(t.kind);
        }
    }
    for kind in [
        "task_completed",
        "message_received",
        "children_done",
        "completed",
        "moved",
    ] {
        assert!(kinds.contains(kind), "no `{kind}` transition in {kinds:?}");
    }
    assert!(items.len() > roots.len(), "calls started child items");
    let audit = rt.verify_audit().await.unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = crate::support::TempDir::new();
                    super::$name(crate::support::sqlite_store(&dir).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::pg_store().await).await;
                }
            )*
        }
    };
}

on_both_databases!(
    demand_flow_end_to_end,
    retries_failures_retry_and_skip,
    fan_out_waits_for_every_child,
    versions_and_migration,
    task_rules,
    audit_catches_tampering,
    concurrent_workers,
    real_flows_run_end_to_end,
);
