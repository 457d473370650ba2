//! Dispatching the outbox (`Runtime::export_outbox`, `Runtime::dispatch_outbox`), on SQLite
//! and PostgreSQL: every pending entry leaves once, also with two exports at once and after
//! an export that stopped between writing and marking.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::outbox::sha256_hex;
use nagare_engine::runtime::{
    Actor, Handler, HandlerContext, HandlerError, HandlerRegistry, OutboxContent, OutboxKind,
    OutboxSink, OutboxState, Placed, Runtime, RuntimeError, SinkError, TestClock,
};
use nagare_engine::store::{OutboxFilter, Store};
use serde_json::json;

/// Queues `letters` letters to residents and one bank file.
struct Mail;

#[async_trait]
impl Handler for Mail {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let n = ctx.get("letters").and_then(|v| v.as_i64()).unwrap_or(1);
        for i in 0..n {
            ctx.outbox(
                "demand_letter",
                Some(&format!("A{i:04}")),
                json!({"template": "demand_letter.txt.j2", "text": format!("督促状 {i}\n")}),
            )
            .await?;
        }
        let file = base64::engine::general_purpose::STANDARD.encode(b"header\r\ndata\r\n");
        ctx.outbox(
            "debit_request_data",
            Some("bank"),
            json!({"file_name": "KOFURI.txt", "records": 1, "total_yen": 5000, "content_base64": file}),
        )
        .await?;
        ctx.set("debit_request_data", json!({"records": 1}));
        Ok(())
    }
}

const FLOW: &str = r#"
id: "9.30"
title: 発送
category: 9.試験
pages: [1]
version: 1
lanes:
  - { id: municipal_office, title: 後期高齢担当課, kind: staff, role: municipal_office }
  - { id: bank, title: 金融機関, kind: external }
documents:
  - { id: debit_request_data, title: 口座振替依頼データ, kind: file }
nodes:
  - { id: start, kind: start, lane: municipal_office, next: mail }
  - { id: mail, kind: system, lane: municipal_office, name: 作成, handler: test.mail, produces: [debit_request_data], next: hand_over }
  - { id: hand_over, kind: send, lane: municipal_office, name: 送付, to: bank, document: debit_request_data, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn runtime(store: Arc<dyn Store>) -> (Arc<Runtime>, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(t0()));
    let mut handlers = HandlerRegistry::new();
    handlers.register("test.mail", Mail);
    let rt = Runtime::new(store, handlers, clock.clone());
    let outcome = check_sources(&[("9.30.yaml".into(), FLOW.as_bytes().to_vec())]);
    let catalog = outcome.catalog.unwrap_or_else(|| {
        panic!(
            "{:?}",
            outcome
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    });
    rt.register_catalog(&catalog).await.unwrap();
    (Arc::new(rt), clock)
}

/// Runs one item that queues `letters` letters, a file and a send record.
async fn mail(rt: &Runtime, letters: i64) -> i64 {
    let id = rt
        .start(
            "9.30",
            "batch:督促2026",
            json!({"letters": letters}).as_object().unwrap().clone(),
            &Actor::System,
        )
        .await
        .unwrap();
    while rt.run_batch(10).await.unwrap().items > 0 {}
    id
}

/// A sink in memory: what it placed, by name; it can be told to find files there already,
/// to refuse some names, or to fail when syncing.
#[derive(Default)]
struct MemorySink {
    placed: BTreeMap<String, Vec<u8>>,
    there: BTreeMap<String, Vec<u8>>,
    refuse: BTreeSet<String>,
    fail_sync: bool,
    synced: usize,
    /// Files placed by every sink of a test, to see that no entry left twice.
    all: Option<Arc<Mutex<Vec<String>>>>,
    slow: bool,
}

impl OutboxSink for MemorySink {
    fn target(&self) -> String {
        "memory".into()
    }

    fn place(&mut self, c: &OutboxContent) -> Result<Placed, SinkError> {
        if self.refuse.contains(&c.name) {
            return Err(SinkError::Entry(format!("{} is taken", c.name)));
        }
        if let Some(bytes) = self.there.get(&c.name) {
            assert_eq!(sha256_hex(bytes), c.sha256);
            return Ok(Placed::AlreadyThere);
        }
        if self.slow {
            // Long enough for a second export to run into the same entries.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if let Some(all) = &self.all {
            all.lock().unwrap().push(c.name.clone());
        }
        self.placed.insert(c.name.clone(), c.bytes.clone());
        Ok(Placed::Written)
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        if self.fail_sync {
            return Err(SinkError::Fatal("the disk is full".into()));
        }
        self.synced += 1;
        Ok(())
    }
}

fn clerk() -> Actor {
    Actor::User("hassou".into())
}

async fn pending(rt: &Runtime) -> Vec<i64> {
    rt.store()
        .outbox_entries(&OutboxFilter {
            state: Some(OutboxState::Pending),
            ..OutboxFilter::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect()
}

/// Letters, a file and a send record leave with their content, names and digests, are
/// marked sent by the clerk at the clock's time, and never leave again.
async fn export_writes_and_marks_each_entry_once(store: Arc<dyn Store>) {
    let (rt, clock) = runtime(store).await;
    let item = mail(&rt, 2).await;
    let entries = rt.store().outbox(Some(item)).await.unwrap();
    assert_eq!(entries.len(), 4, "two letters, a file and the send record");

    // Only the bank file first.
    clock.advance(Duration::hours(2));
    let mut sink = MemorySink::default();
    let only_files = OutboxFilter {
        document: Some("debit_request_data".into()),
        recipient: Some("bank".into()),
        ..OutboxFilter::default()
    };
    let report = rt
        .export_outbox(&only_files, &clerk(), None, &mut sink)
        .await
        .unwrap();
    let names: Vec<&str> = report.exported.iter().map(|e| e.name.as_str()).collect();
    let file_id = entries[2].id;
    let record_id = entries[3].id;
    assert_eq!(
        names,
        [
            format!("debit_request_data-{file_id:08}-KOFURI.txt"),
            format!("debit_request_data-{record_id:08}.json"),
        ]
    );
    assert_eq!(report.exported[0].kind, OutboxKind::File);
    assert_eq!(report.exported[1].kind, OutboxKind::Record);
    assert_eq!(sink.placed[names[0]], b"header\r\ndata\r\n");
    let record: serde_json::Value = serde_json::from_slice(&sink.placed[names[1]]).unwrap();
    assert_eq!(record["content"], json!({"records": 1}));
    assert!(report.skipped.is_empty() && report.stopped.is_none());

    let sent = rt.store().outbox_entry(file_id).await.unwrap().unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.sent_at, Some(t0() + Duration::hours(2)));
    assert_eq!(sent.sent_by.as_deref(), Some("user:hassou"));
    assert_eq!(sent.sent_as.as_deref(), Some(names[0]));
    assert_eq!(
        sent.sent_sha256.as_deref(),
        Some(sha256_hex(b"header\r\ndata\r\n").as_str())
    );
    assert_eq!(sent.sent_to.as_deref(), Some("memory"));

    // Then the rest; then nothing.
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), None, &mut sink)
        .await
        .unwrap();
    assert_eq!(report.exported.len(), 2);
    assert!(report.exported.iter().all(|e| e.kind == OutboxKind::Letter));
    assert_eq!(
        sink.placed[&format!("demand_letter-{:08}.txt", entries[0].id)],
        "督促状 0\n".as_bytes()
    );
    assert!(pending(&rt).await.is_empty());
    let again = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), None, &mut sink)
        .await
        .unwrap();
    assert!(again.exported.is_empty());
    assert_eq!(sink.placed.len(), 4);
}

/// A file an interrupted export wrote is recognised and not written again; a name taken by
/// other content skips that entry only; a failed sync marks nothing.
async fn interrupted_and_refused_exports(store: Arc<dyn Store>) {
    let (rt, _clock) = runtime(store).await;
    let item = mail(&rt, 3).await;
    let entries = rt.store().outbox(Some(item)).await.unwrap();
    let name = |i: usize| format!("demand_letter-{:08}.txt", entries[i].id);

    // The disk fills up: nothing is marked.
    let mut full = MemorySink {
        fail_sync: true,
        ..MemorySink::default()
    };
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), None, &mut full)
        .await
        .unwrap();
    assert!(report.exported.is_empty());
    assert_eq!(report.stopped.as_deref(), Some("the disk is full"));
    assert_eq!(pending(&rt).await.len(), 5);

    // The files of letters 0 and 1 are there from that run; letter 2's name is taken.
    let mut sink = MemorySink::default();
    sink.there.insert(name(0), full.placed[&name(0)].clone());
    sink.there.insert(name(1), full.placed[&name(1)].clone());
    sink.refuse.insert(name(2));
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), None, &mut sink)
        .await
        .unwrap();
    let done: Vec<(i64, bool)> = report
        .exported
        .iter()
        .map(|e| (e.id, e.already_there))
        .collect();
    assert_eq!(
        done,
        [
            (entries[0].id, true),
            (entries[1].id, true),
            (entries[3].id, false),
            (entries[4].id, false)
        ]
    );
    assert!(!sink.placed.contains_key(&name(0)), "not written again");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].0, entries[2].id);
    assert_eq!(pending(&rt).await, [entries[2].id]);

    // With the name free, the last one leaves; `limit` caps an export.
    let mut sink = MemorySink::default();
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), Some(0), &mut sink)
        .await
        .unwrap();
    assert!(report.exported.is_empty());
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), Some(5), &mut sink)
        .await
        .unwrap();
    assert_eq!(report.exported.len(), 1);
    assert!(pending(&rt).await.is_empty());
}

/// Two exports at once, over several chunks: every entry leaves exactly once.
async fn two_exports_at_once_never_send_twice(store: Arc<dyn Store>) {
    let (rt, _clock) = runtime(store).await;
    mail(&rt, 230).await;
    let total = pending(&rt).await.len();
    assert_eq!(total, 232);
    let all = Arc::new(Mutex::new(Vec::new()));
    let run = |who: &'static str| {
        let (rt, all) = (Arc::clone(&rt), Arc::clone(&all));
        tokio::spawn(async move {
            let mut sink = MemorySink {
                all: Some(all),
                slow: true,
                ..MemorySink::default()
            };
            rt.export_outbox(
                &OutboxFilter::default(),
                &Actor::User(who.into()),
                None,
                &mut sink,
            )
            .await
            .unwrap()
        })
    };
    let (a, b) = (run("a"), run("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(
        !a.exported.is_empty() && !b.exported.is_empty(),
        "both exports took entries: {} and {}",
        a.exported.len(),
        b.exported.len()
    );
    assert_eq!(a.exported.len() + b.exported.len(), total);
    let placed = all.lock().unwrap().clone();
    let unique: BTreeSet<&String> = placed.iter().collect();
    assert_eq!(placed.len(), total, "no entry was placed twice");
    assert_eq!(unique.len(), total);
    assert!(pending(&rt).await.is_empty());
    let by: BTreeSet<String> = rt
        .store()
        .outbox_entries(&OutboxFilter::default())
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.sent_by.clone())
        .collect();
    assert!(by.is_subset(&BTreeSet::from(["user:a".into(), "user:b".into()])));
}

/// Over the API a program fetches the content, then dispatches the entry with its digest;
/// a wrong digest changes nothing and a second dispatch is refused.
async fn dispatch_needs_the_digest_and_happens_once(store: Arc<dyn Store>) {
    let (rt, _clock) = runtime(store).await;
    let item = mail(&rt, 1).await;
    let letter = rt.store().outbox(Some(item)).await.unwrap()[0].clone();
    let content = nagare_engine::runtime::outbox_content(&letter).unwrap();
    match rt
        .dispatch_outbox(letter.id, &clerk(), &"0".repeat(64))
        .await
    {
        Err(RuntimeError::Invalid(m)) => assert!(m.contains("not the digest"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(pending(&rt).await.len(), 3);
    let sent = rt
        .dispatch_outbox(letter.id, &clerk(), &content.sha256.to_uppercase())
        .await
        .unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.sent_to.as_deref(), Some("http"));
    let stored = rt.store().outbox_entry(letter.id).await.unwrap().unwrap();
    assert_eq!(stored, sent);
    match rt
        .dispatch_outbox(letter.id, &clerk(), &content.sha256)
        .await
    {
        Err(RuntimeError::Conflict(m)) => {
            assert!(
                m.contains("sent already") && m.contains("user:hassou"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An export does not take it again.
    let mut sink = MemorySink::default();
    let report = rt
        .export_outbox(&OutboxFilter::default(), &clerk(), None, &mut sink)
        .await
        .unwrap();
    assert!(report.exported.iter().all(|e| e.id != letter.id));
    match rt.dispatch_outbox(99_999, &clerk(), &content.sha256).await {
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
    export_writes_and_marks_each_entry_once,
    interrupted_and_refused_exports,
    two_exports_at_once_never_send_twice,
    dispatch_needs_the_digest_and_happens_once,
);
