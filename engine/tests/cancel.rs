//! Cancelling work items (`Runtime::cancel`), on SQLite and PostgreSQL: what is withdrawn,
//! what the history records, and that a cancelled item stays put.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nagare_engine::flow::{Catalog, check_sources};
use nagare_engine::runtime::{
    Actor, Data, Delivery, DeliveryTarget, Handler, HandlerContext, HandlerError, HandlerRegistry,
    ItemState, Refusal, Runtime, RuntimeError, TaskState, TestClock,
};
use nagare_engine::store::{ItemFilter, Store, TaskFilter};
use serde_json::{Value, json};

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
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

const HEAD: &str = r#"
category: 9.試験
pages: [1]
lanes:
  - { id: municipal_office, title: 後期高齢担当課, kind: staff, role: municipal_office }
  - { id: bank, title: 金融機関, kind: external }
documents:
  - { id: debit_result, title: 振替結果, kind: file }
"#;

/// A notice to the bank, then three waits at once: a task, a timer and a correlated message.
const WAITS: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: notify }
  - { id: notify, kind: send, lane: municipal_office, name: 通知, to: bank, document: debit_result, next: split }
  - { id: split, kind: parallel, lane: municipal_office, next: [review, wait_days, result] }
  - id: review
    kind: manual
    lane: municipal_office
    name: 内容確認
    fields: [{ id: ok, label: 確認した, type: bool }]
    next: joined
  - { id: wait_days, kind: timer, lane: municipal_office, name: 待機, wait: { after: 10d, from: entered }, next: joined }
  - { id: result, kind: receive, lane: municipal_office, name: 受領, from: bank, document: debit_result, correlation: customer_no, next: joined }
  - { id: joined, kind: join, lane: municipal_office, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

/// One child per target, each waiting at a task; then a step.
const BATCH: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: per_person }
  - { id: per_person, kind: call, lane: municipal_office, name: 個別処理, flow: "9.22", for_each: targets, next: tally }
  - { id: tally, kind: system, lane: municipal_office, name: 集計, handler: test.noop, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

const PERSON: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: review }
  - id: review
    kind: manual
    lane: municipal_office
    name: 個別確認
    fields: [{ id: ok, label: 確認した, type: bool }]
    next: finish
  - { id: finish, kind: end, lane: municipal_office }
"#;

const BROKEN: &str = r#"
nodes:
  - { id: start, kind: start, lane: municipal_office, next: broken }
  - { id: broken, kind: system, lane: municipal_office, name: 試験処理, handler: test.permanent, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

fn catalog() -> Catalog {
    let files = [
        ("9.20", "待機", WAITS),
        ("9.21", "一括", BATCH),
        ("9.22", "個別", PERSON),
        ("9.23", "失敗", BROKEN),
    ];
    let sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(id, title, nodes)| {
            (
                format!("{id}.yaml"),
                format!("id: \"{id}\"\ntitle: {title}\nversion: 1\n{HEAD}{nodes}").into_bytes(),
            )
        })
        .collect();
    let outcome = check_sources(&sources);
    let messages: Vec<String> = outcome
        .diagnostics
        .iter()
        .map(|d| format!("{} {}: {}", d.file.path(), d.code, d.message))
        .collect();
    outcome
        .catalog
        .unwrap_or_else(|| panic!("test flows do not check: {messages:?}"))
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn runtime(store: Arc<dyn Store>) -> (Runtime, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(t0()));
    let mut handlers = HandlerRegistry::new();
    handlers
        .register("test.noop", Noop)
        .register("test.permanent", Permanent);
    let rt = Runtime::new(store, handlers, clock.clone());
    rt.register_catalog(&catalog()).await.expect("register");
    (rt, clock)
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

async fn state(rt: &Runtime, id: i64) -> ItemState {
    rt.store().item(id).await.unwrap().expect("item").state
}

fn staff() -> Actor {
    Actor::User("kakaricho".into())
}

/// An item waiting for a task, a timer and a message at once: cancelling withdraws all
/// three, records who and why, and afterwards nothing moves it.
async fn cancel_withdraws_tasks_timers_and_waits(store: Arc<dyn Store>) {
    let (rt, clock) = runtime(store).await;
    let id = rt
        .start(
            "9.20",
            "insured:0001",
            data(json!({"customer_no": "C-1"})),
            &staff(),
        )
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(state(&rt, id).await, ItemState::Waiting);
    let tasks = rt
        .store()
        .tasks(&TaskFilter {
            item_id: Some(id),
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    let task = tasks[0].id;
    rt.claim_task(task, "tanto").await.unwrap();
    assert_eq!(rt.store().timers(id).await.unwrap().len(), 1);
    let seq_before = rt.store().item(id).await.unwrap().unwrap().seq;

    // Nothing without a reason, and nothing changes.
    let err = rt.cancel(id, &staff(), "  ").await.unwrap_err();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
    assert_eq!(state(&rt, id).await, ItemState::Waiting);

    clock.advance(Duration::hours(1));
    let report = rt.cancel(id, &staff(), "転出のため取消").await.unwrap();
    assert_eq!(report.items.len(), 1);
    let done = &report.items[0];
    assert_eq!(done.item_id, id);
    assert_eq!(done.tasks, [task]);
    assert_eq!(done.timers.len(), 1);
    assert_eq!(
        done.waits,
        [
            "task at `review`",
            "timer at `wait_days`",
            "message at `result`"
        ]
    );
    assert_eq!(report.parent_notified, None);
    let outbox = rt.store().outbox(Some(id)).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        done.pending_outbox,
        [outbox[0].id],
        "named, and left in the outbox"
    );

    let item = rt.store().item(id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Cancelled);
    assert_eq!(item.run_at, None);
    assert_eq!(item.seq, seq_before + 1);
    assert!(rt.store().tokens(id).await.unwrap().is_empty());
    let t = rt.store().task(task).await.unwrap().unwrap();
    assert_eq!(t.state, TaskState::Cancelled);
    let timers = rt.store().timers(id).await.unwrap();
    assert_eq!(timers[0].fired_at, None);
    assert_eq!(timers[0].cancelled_at, Some(t0() + Duration::hours(1)));
    let last = rt.store().history(id).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, "cancelled");
    assert_eq!(last.actor, "user:kakaricho");
    assert_eq!(last.detail.as_deref(), Some("転出のため取消"));
    assert_eq!(last.at, t0() + Duration::hours(1));

    // A cancelled item stays put.
    let conflict = |r: Result<_, RuntimeError>| match r {
        Err(RuntimeError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert!(conflict(rt.retry(id, &staff()).await.map(|_| ())).contains("cancelled"));
    assert!(conflict(rt.skip(id, &staff(), "x").await.map(|_| ())).contains("cancelled"));
    assert!(conflict(rt.cancel(id, &staff(), "again").await.map(|_| ())).contains("cancelled"));
    assert!(conflict(rt.claim_task(task, "other").await.map(|_| ())).contains("cancelled"));
    assert!(
        conflict(
            rt.complete_task(
                task,
                &Actor::User("tanto".into()),
                data(json!({"ok": true}))
            )
            .await
            .map(|_| ())
        )
        .contains("cancelled")
    );
    let delivered = rt
        .deliver(Delivery {
            target: DeliveryTarget::Correlated {
                document: "debit_result".into(),
                value: "C-1".into(),
            },
            payload: Data::new(),
            delivery_id: None,
            actor: Actor::System,
        })
        .await;
    assert!(
        matches!(delivered, Err(RuntimeError::Refused(Refusal::Unmatched(_)))),
        "{delivered:?}"
    );
    let delivered = rt
        .deliver(Delivery {
            target: DeliveryTarget::Item {
                item_id: id,
                node: "result".into(),
            },
            payload: Data::new(),
            delivery_id: None,
            actor: Actor::System,
        })
        .await;
    match delivered {
        Err(RuntimeError::Refused(Refusal::Unmatched(m))) => {
            assert!(m.contains("cancelled"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // The timer's date passes; the worker has nothing to do.
    clock.advance(Duration::days(30));
    assert_eq!(idle(&rt).await, 0);
    assert_eq!(
        rt.store().item(id).await.unwrap().unwrap().seq,
        seq_before + 1
    );
    assert!(rt.store().messages(id).await.unwrap().is_empty());
    let audit = rt.verify_audit().await.unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
}

/// Cancelling one child of a batch: the parent counts it as finished and goes on when the
/// others are done. Cancelling the batch itself cancels every live child.
async fn cancel_reaches_children_and_parents(store: Arc<dyn Store>) {
    let (rt, _clock) = runtime(store).await;
    let targets = json!({"targets": [{"subject": "insured:1"}, {"subject": "insured:2"}]});
    let batch = rt
        .start("9.21", "batch:確認2026", data(targets.clone()), &staff())
        .await
        .unwrap();
    idle(&rt).await;
    let children = |parent: i64| {
        let store = Arc::clone(rt.store());
        async move {
            store
                .items(&ItemFilter {
                    parent_id: Some(parent),
                    ..ItemFilter::default()
                })
                .await
                .unwrap()
        }
    };
    let kids = children(batch).await;
    assert_eq!(kids.len(), 2);
    assert!(kids.iter().all(|k| k.state == ItemState::Waiting));

    let report = rt.cancel(kids[0].id, &staff(), "死亡のため").await.unwrap();
    assert_eq!(report.parent_notified, Some(batch));
    assert_eq!(state(&rt, kids[0].id).await, ItemState::Cancelled);
    let note = rt.store().history(batch).await.unwrap().pop().unwrap();
    assert_eq!(note.kind, "child_cancelled");
    assert_eq!(
        note.detail.as_deref(),
        Some(format!("work item {} was cancelled: 死亡のため", kids[0].id).as_str())
    );
    assert_eq!(
        state(&rt, batch).await,
        ItemState::Waiting,
        "one child is left"
    );

    // The other child's task is answered: the batch finishes.
    let task = rt
        .store()
        .tasks(&TaskFilter {
            item_id: Some(kids[1].id),
            ..TaskFilter::default()
        })
        .await
        .unwrap()[0]
        .id;
    rt.complete_task(task, &staff(), data(json!({"ok": true})))
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(state(&rt, kids[1].id).await, ItemState::Completed);
    assert_eq!(state(&rt, batch).await, ItemState::Completed);

    // A second batch, cancelled as a whole.
    let batch = rt
        .start("9.21", "batch:確認2027", data(targets), &staff())
        .await
        .unwrap();
    idle(&rt).await;
    let kids = children(batch).await;
    let report = rt.cancel(batch, &staff(), "誤って開始").await.unwrap();
    let ids: Vec<(i64, Option<i64>)> = report
        .items
        .iter()
        .map(|c| (c.item_id, c.because_of))
        .collect();
    assert_eq!(
        ids,
        [
            (batch, None),
            (kids[0].id, Some(batch)),
            (kids[1].id, Some(batch))
        ]
    );
    assert_eq!(report.items[0].waits, ["child items at `per_person`"]);
    for kid in &kids {
        assert_eq!(state(&rt, kid.id).await, ItemState::Cancelled);
        let last = rt.store().history(kid.id).await.unwrap().pop().unwrap();
        assert_eq!(last.kind, "cancelled");
        assert_eq!(
            last.detail.as_deref(),
            Some(format!("work item {batch} was cancelled: 誤って開始").as_str())
        );
        let open = rt
            .store()
            .tasks(&TaskFilter {
                item_id: Some(kid.id),
                state: Some(TaskState::Open),
                ..TaskFilter::default()
            })
            .await
            .unwrap();
        assert!(open.is_empty());
    }
    assert_eq!(idle(&rt).await, 0);
    assert_eq!(state(&rt, batch).await, ItemState::Cancelled);
}

/// A failed item can be cancelled instead of retried or skipped; a completed one cannot.
async fn failed_items_cancel_completed_ones_do_not(store: Arc<dyn Store>) {
    let (rt, _clock) = runtime(store).await;
    let id = rt
        .start("9.23", "insured:0009", Data::new(), &staff())
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(state(&rt, id).await, ItemState::Failed);
    let report = rt.cancel(id, &staff(), "賦課対象外").await.unwrap();
    assert_eq!(report.items[0].waits, Vec::<String>::new());
    let item = rt.store().item(id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Cancelled);
    assert_eq!(item.error, None);
    let last = rt.store().history(id).await.unwrap().pop().unwrap();
    assert_eq!(last.from_node.as_deref(), Some("broken"));

    let done = rt
        .start("9.21", "batch:空", data(json!({"targets": []})), &staff())
        .await
        .unwrap();
    idle(&rt).await;
    assert_eq!(state(&rt, done).await, ItemState::Completed);
    match rt.cancel(done, &staff(), "遅すぎる").await {
        Err(RuntimeError::Conflict(m)) => assert!(m.contains("is completed"), "{m}"),
        other => panic!("{other:?}"),
    }
    match rt.cancel(9999, &staff(), "存在しない").await {
        Err(RuntimeError::NotFound { .. }) => {}
        other => panic!("{other:?}"),
    }
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
    cancel_withdraws_tasks_timers_and_waits,
    cancel_reaches_children_and_parents,
    failed_items_cancel_completed_ones_do_not,
);
