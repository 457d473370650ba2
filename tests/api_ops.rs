//! `POST /v1/items/{id}/cancel` and the outbox routes (`GET /v1/outbox`, `GET
//! /v1/outbox/{id}`, `GET /v1/outbox/{id}/content`, `POST /v1/outbox/{id}/dispatch`), with
//! their role checks, through the router in process, on SQLite and PostgreSQL
//! (`NAGARE_TEST_PG_URL`). Every refused request is checked to change nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use nagare::api::{self, AppState};
use nagare_engine::access::Service;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, TestClock,
};
use nagare_engine::store::{self, Store};
use serde_json::{Value, json};
use tower::ServiceExt as _;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

struct Db {
    url: String,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn sqlite_db() -> Db {
    let dir = std::env::temp_dir().join(unique("nagare_api_ops"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    Db {
        url: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: Some(dir),
    }
}

async fn pg_db() -> Db {
    let base = match std::env::var("NAGARE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "NAGARE_TEST_PG_URL is not set: e.g. NAGARE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test"
        ),
    };
    let schema = unique("apiops").to_lowercase();
    let pool = sqlx::PgPool::connect(&base).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Db {
        url: format!("{base}{sep}options[search_path]={schema}"),
        dir: None,
    }
}

/// Queues two letters to residents and one bank file.
struct Mail;

#[async_trait]
impl Handler for Mail {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        for i in 0..2 {
            ctx.outbox(
                "demand_letter",
                Some(&format!("A{i:04}")),
                json!({"text": format!("督促状 {i}\n")}),
            )
            .await?;
        }
        let file = base64::engine::general_purpose::STANDARD.encode(b"1\r\n2\r\n");
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

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Ok(())
    }
}

const USERS: &[(&str, &[&str])] = &[
    ("alice", &["municipal_office"]),
    ("carol", &["municipal_office", "supervisor"]),
    ("sam", &["pension_desk", "supervisor"]),
    ("osamu", &["outbox"]),
    ("audrey", &["auditor", "outbox"]),
];

struct Harness {
    _db: Db,
    svc: Arc<Service>,
    app: Router,
    tokens: HashMap<&'static str, String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
    body: Value,
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn harness(db: Db) -> Harness {
    let store: Arc<dyn Store> = store::open(&db.url).await.expect("open store");
    let mut handlers = HandlerRegistry::new();
    handlers
        .register("test.mail", Mail)
        .register("test.noop", Noop);
    let rt = Runtime::new(store, handlers, Arc::new(TestClock::new(t0())));
    let root = env!("CARGO_MANIFEST_DIR");
    let mut sources = Vec::new();
    for path in [
        format!("{root}/tests/data/outbox_flows/mail.yaml"),
        format!("{root}/tests/data/api_flows/pension.yaml"),
    ] {
        sources.push((path.clone(), std::fs::read(&path).expect("flow file")));
    }
    rt.register_catalog(&check_sources(&sources).catalog.expect("flows check"))
        .await
        .expect("register");
    let svc = Arc::new(Service::new(Arc::new(rt)));
    let mut tokens = HashMap::new();
    let (_, token) = svc
        .add_user(None, "root", &["admin".to_owned()])
        .await
        .unwrap();
    tokens.insert("root", token);
    let admin = svc.principal("root").await.unwrap();
    for (name, roles) in USERS {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let (_, token) = svc.add_user(Some(&admin), name, &roles).await.unwrap();
        tokens.insert(*name, token);
    }
    let app = api::router(AppState::new(Arc::clone(&svc)));
    Harness {
        _db: db,
        svc,
        app,
        tokens,
    }
}

impl Harness {
    async fn send(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut b = Request::builder().method(method).uri(path).header(
            header::AUTHORIZATION,
            format!("Bearer {}", self.tokens[who]),
        );
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            bytes,
            body,
        }
    }

    async fn get(&self, who: &str, path: &str) -> Answer {
        self.send(who, "GET", path, None).await
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> Answer {
        self.send(who, "POST", path, Some(body)).await
    }

    async fn work(&self) {
        while self.svc.runtime().run_batch(50).await.unwrap().items > 0 {}
    }

    /// Starts an item of the mail flow; it waits at its review task.
    async fn start(&self, subject: &str) -> i64 {
        let a = self
            .post(
                "carol",
                "/v1/items",
                json!({"flow": "9.40", "subject": subject}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        self.work().await;
        a.body["id"].as_i64().unwrap()
    }

    async fn seq(&self, item: i64) -> i64 {
        self.svc
            .runtime()
            .store()
            .item(item)
            .await
            .unwrap()
            .unwrap()
            .seq
    }
}

#[track_caller]
fn problem(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(
        a.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
}

async fn cancel_over_http(db: Db) {
    let h = harness(db).await;
    let item = h.start("insured:0001").await;
    let path = format!("/v1/items/{item}/cancel");
    let before = h.seq(item).await;
    let reason = json!({"reason": "転出のため"});

    problem(
        &h.post("alice", &path, reason.clone()).await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post("audrey", &path, reason.clone()).await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post("osamu", &path, reason.clone()).await,
        StatusCode::NOT_FOUND,
    );
    // A supervisor of another lane does not see the item.
    problem(
        &h.post("sam", &path, reason.clone()).await,
        StatusCode::NOT_FOUND,
    );
    let a = h.post("carol", &path, json!({"reason": ""})).await;
    problem(&a, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], "reason");
    let a = h
        .post("carol", &path, json!({"reason": "x", "force": true}))
        .await;
    problem(&a, StatusCode::BAD_REQUEST);
    assert_eq!(h.seq(item).await, before, "refusals change nothing");

    let a = h.post("carol", &path, reason.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["item"]["state"], "cancelled");
    assert_eq!(a.body["cancelled"][0]["item_id"], item);
    assert_eq!(
        a.body["cancelled"][0]["withdrawn_tasks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(a.body["cancelled"][0]["waits"], json!(["task at `review`"]));
    assert_eq!(a.body["parent_notified"], Value::Null);
    let task = a.body["cancelled"][0]["withdrawn_tasks"][0]
        .as_i64()
        .unwrap();

    problem(
        &h.post("carol", &path, reason.clone()).await,
        StatusCode::CONFLICT,
    );
    problem(
        &h.post("carol", &format!("/v1/items/{item}/retry"), json!({}))
            .await,
        StatusCode::CONFLICT,
    );
    problem(
        &h.post("alice", &format!("/v1/tasks/{task}/claim"), json!({}))
            .await,
        StatusCode::CONFLICT,
    );
    let history = h.get("carol", &format!("/v1/items/{item}/history")).await;
    let last = history.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "cancelled");
    assert_eq!(last["actor"], "user:carol");
    assert_eq!(last["detail"], "転出のため");
    problem(
        &h.post("carol", "/v1/items/999999/cancel", reason).await,
        StatusCode::NOT_FOUND,
    );
}

async fn outbox_over_http(db: Db) {
    let h = harness(db).await;
    let item = h.start("batch:督促2026").await;
    let task = h
        .svc
        .runtime()
        .store()
        .tasks(&Default::default())
        .await
        .unwrap()[0]
        .id;
    let a = h
        .post(
            "carol",
            &format!("/v1/tasks/{task}/complete"),
            json!({"answer": {"ok": true}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    h.work().await;

    // Who lists what.
    let list = h.get("osamu", "/v1/outbox").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let entries = list.body.as_array().unwrap().clone();
    assert_eq!(entries.len(), 4, "two letters, a file, the send record");
    assert!(
        entries
            .iter()
            .all(|e| e["item_id"] == item && e["state"] == "pending")
    );
    assert_eq!(entries[0]["recipient"], "A0000");
    assert_eq!(entries[0]["kind"], "letter");
    assert_eq!(entries[2]["kind"], "file");
    assert_eq!(entries[2]["source_name"], "KOFURI.txt");
    assert_eq!(entries[3]["kind"], "record");
    let audit = h.get("audrey", "/v1/outbox?state=all").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert_eq!(audit.body[0]["recipient"], "***");
    assert_eq!(audit.body[0]["recipient_masked"], true);
    assert_eq!(audit.body[2]["recipient"], "bank");
    assert_eq!(
        h.get("root", "/v1/outbox").await.body[1]["recipient"],
        "***"
    );
    problem(&h.get("alice", "/v1/outbox").await, StatusCode::FORBIDDEN);
    problem(
        &h.get("audrey", "/v1/outbox?recipient=A0000").await,
        StatusCode::FORBIDDEN,
    );
    let a = h.get("osamu", "/v1/outbox?state=gone").await;
    problem(&a, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], "state");
    let a = h.get("osamu", "/v1/outbox?limit=0").await;
    problem(&a, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], "limit");
    let files = h
        .get(
            "osamu",
            "/v1/outbox?document=debit_request_data&recipient=bank",
        )
        .await;
    assert_eq!(files.body.as_array().unwrap().len(), 2);

    // The content: holders of `outbox` only; the auditor's `outbox` role does not count.
    let letter = entries[0]["id"].as_i64().unwrap();
    let content = format!("/v1/outbox/{letter}/content");
    problem(&h.get("audrey", &content).await, StatusCode::FORBIDDEN);
    problem(&h.get("root", &content).await, StatusCode::FORBIDDEN);
    let a = h.get("osamu", &content).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(String::from_utf8(a.bytes.clone()).unwrap(), "督促状 0\n");
    assert_eq!(
        a.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/plain; charset=utf-8"
    );
    let name = format!("demand_letter-{letter:08}.txt");
    assert_eq!(
        a.headers
            .get(header::CONTENT_DISPOSITION)
            .unwrap()
            .to_str()
            .unwrap(),
        format!("attachment; filename=\"{name}\"")
    );
    let sha = entries[0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(
        a.headers.get(header::ETAG).unwrap().to_str().unwrap(),
        format!("\"{sha}\"")
    );
    assert!(a.headers.get("repr-digest").is_some());
    let file = entries[2]["id"].as_i64().unwrap();
    let a = h.get("osamu", &format!("/v1/outbox/{file}/content")).await;
    assert_eq!(a.bytes, b"1\r\n2\r\n");
    assert_eq!(
        a.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/octet-stream"
    );
    problem(
        &h.get("osamu", "/v1/outbox/999999/content").await,
        StatusCode::NOT_FOUND,
    );

    // Dispatch: the digest of what was received, once.
    let dispatch = format!("/v1/outbox/{letter}/dispatch");
    problem(
        &h.post("audrey", &dispatch, json!({"sha256": sha})).await,
        StatusCode::FORBIDDEN,
    );
    let a = h
        .post("osamu", &dispatch, json!({"sha256": "0".repeat(64)}))
        .await;
    problem(&a, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], "sha256");
    assert_eq!(
        h.get("osamu", &format!("/v1/outbox/{letter}")).await.body["state"],
        "pending"
    );
    let a = h.post("osamu", &dispatch, json!({"sha256": sha})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["state"], "sent");
    assert_eq!(a.body["sent_by"], "user:osamu");
    assert_eq!(a.body["sent_to"], "http");
    assert_eq!(a.body["sent_as"], name.as_str());
    assert_eq!(a.body["sent_sha256"], sha.as_str());
    assert_eq!(a.body["sent_at"], "2026-04-01T00:00:00Z");
    let a = h.post("osamu", &dispatch, json!({"sha256": sha})).await;
    problem(&a, StatusCode::CONFLICT);
    assert!(
        a.body["detail"].as_str().unwrap().contains("sent already"),
        "{}",
        a.body
    );
    let pending = h.get("osamu", "/v1/outbox").await;
    assert_eq!(pending.body.as_array().unwrap().len(), 3);
    let sent = h.get("audrey", "/v1/outbox?state=sent").await;
    assert_eq!(sent.body[0]["id"], letter);
    assert_eq!(sent.body[0]["sent_by"], "user:osamu");
}

/// The committed OpenAPI document describes the new routes.
#[test]
fn the_openapi_document_has_the_new_routes() {
    let doc: Value = serde_json::from_str(&api::openapi_document()).unwrap();
    for path in [
        "/v1/items/{id}/cancel",
        "/v1/outbox",
        "/v1/outbox/{id}",
        "/v1/outbox/{id}/content",
        "/v1/outbox/{id}/dispatch",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    assert!(doc["components"]["schemas"].get("OutboxEntryOut").is_some());
    assert!(doc["components"]["schemas"].get("CancelOut").is_some());
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::sqlite_db()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::pg_db().await).await;
                }
            )*
        }
    };
}

on_both_databases!(cancel_over_http, outbox_over_http);
