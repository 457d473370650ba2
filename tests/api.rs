//! The HTTP API and its access rules, on SQLite and on PostgreSQL (`NAGARE_TEST_PG_URL`).
//!
//! The access tests try to break the rules (another role, another claimant, a revoked
//! token, an auditor writing, malformed JSON, wrong types) through the router in process and
//! check that nothing changed; the end-to-end test runs a real server on a TCP port and
//! drives a flow with two users, the worker in process, a delivered file and the history.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use nagare::api::{self, AppState};
use nagare_engine::access::Service;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, TestClock,
};
use nagare_engine::store::{self, Store};
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---- set-up ---------------------------------------------------------------------------

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A database for one test: a SQLite file in a temporary folder, or a fresh schema.
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
    let dir = std::env::temp_dir().join(unique("nagare_api"));
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
    let schema = unique("api").to_lowercase();
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

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        ctx.set("prepared", json!(true));
        Ok(())
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Harness {
    _db: Db,
    svc: Arc<Service>,
    app: Router,
    clock: Arc<TestClock>,
    tokens: HashMap<&'static str, String>,
}

const USERS: &[(&str, &[&str])] = &[
    ("alice", &["municipal_office"]),
    ("bob", &["municipal_office"]),
    ("carol", &["municipal_office", "supervisor"]),
    ("pat", &["pension_desk"]),
    ("audrey", &["auditor"]),
];

async fn harness(db: Db) -> Harness {
    let store: Arc<dyn Store> = store::open(&db.url).await.expect("open store");
    let clock = Arc::new(TestClock::new(t0()));
    let mut handlers = HandlerRegistry::new();
    handlers.register("test.noop", Noop);
    let rt = Runtime::new(store, handlers, clock.clone());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/api_flows");
    let mut sources = Vec::new();
    for name in ["application.yaml", "pension.yaml"] {
        let path = format!("{dir}/{name}");
        sources.push((path.clone(), std::fs::read(&path).expect("flow file")));
    }
    let catalog = check_sources(&sources).catalog.expect("test flows check");
    rt.register_catalog(&catalog).await.expect("register");
    let svc = Arc::new(Service::new(Arc::new(rt)));
    let mut tokens = HashMap::new();
    let (_, admin) = svc
        .add_user(None, "root", &["admin".to_owned()])
        .await
        .expect("first admin");
    let root = svc.principal("root").await.unwrap();
    tokens.insert("root", admin);
    for (name, roles) in USERS {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let (_, token) = svc
            .add_user(Some(&root), name, &roles)
            .await
            .expect("add user");
        tokens.insert(*name, token);
    }
    let app = api::router(AppState::new(Arc::clone(&svc)));
    Harness {
        _db: db,
        svc,
        app,
        clock,
        tokens,
    }
}

/// The answer to one request: status, content type and JSON body (`null` when none).
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.expect("router answers");
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            body,
        }
    }

    fn request(&self, method: &str, path: &str, who: Option<&str>) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(who) = who {
            b = b.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.tokens[who]),
            );
        }
        b
    }

    async fn get(&self, who: &str, path: &str) -> Answer {
        self.send(
            self.request("GET", path, Some(who))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> Answer {
        self.raw(who, path, "application/json", body.to_string())
            .await
    }

    async fn raw(&self, who: &str, path: &str, content_type: &str, body: String) -> Answer {
        self.send(
            self.request("POST", path, Some(who))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    async fn work(&self) {
        loop {
            let report = self.svc.runtime().run_batch(50).await.expect("batch");
            if report.items == 0 {
                return;
            }
        }
    }

    /// The number of transitions of an item and the state of a task, straight from the
    /// store: what must not change when a request is refused.
    async fn fingerprint(&self, item: i64, task: i64) -> (i64, String, Option<String>) {
        let store = self.svc.runtime().store();
        let item = store.item(item).await.unwrap().unwrap();
        let task = store.task(task).await.unwrap().unwrap();
        (item.seq, task.state.as_str().to_owned(), task.claimed_by)
    }
}

#[track_caller]
fn problem(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.body);
    assert_eq!(a.body["status"], status.as_u16(), "{}", a.body);
    assert!(
        a.body["type"].is_string() && a.body["title"].is_string() && a.body["detail"].is_string()
    );
}

#[track_caller]
fn problem_field(a: &Answer, field: &str) {
    problem(a, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], field, "{}", a.body);
}

async fn start(h: &Harness, who: &str, customer: &str) -> i64 {
    let a = h
        .post(
            who,
            "/v1/items",
            json!({"flow": "9.7", "subject": format!("insured:{customer}"),
                   "data": {"received_on": "2026-04-01", "customer_no": customer}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_i64().unwrap()
}

async fn open_task(h: &Harness, who: &str, item: i64) -> Value {
    let a = h.get(who, "/v1/tasks").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_id"] == item)
        .cloned()
        .unwrap_or_else(|| panic!("no open task of item {item} for {who}: {}", a.body))
}

// ---- access rules -----------------------------------------------------------------------

async fn access_rules(db: Db) {
    let h = harness(db).await;
    let item = start(&h, "alice", "C-1").await;
    h.work().await;
    let task = open_task(&h, "alice", item).await;
    let id = task["id"].as_i64().unwrap();
    assert_eq!(task["subject"], "insured:C-1");
    assert_eq!(task["subject_masked"], false);
    assert_eq!(
        (task["flow_id"].as_str(), task["step"].as_str()),
        (Some("9.7"), Some("010"))
    );
    assert_eq!(task["due_date"], "2026-04-15");
    assert_eq!(task["fields"][0]["id"], "decision");
    assert_eq!(task["fields"][0]["choices"], json!(["認定", "却下"]));
    let before = h.fingerprint(item, id).await;

    // Another role sees nothing of it, and cannot act on it.
    assert_eq!(h.get("pat", "/v1/tasks").await.body, json!([]));
    problem(
        &h.get("pat", &format!("/v1/tasks/{id}")).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.post("pat", &format!("/v1/tasks/{id}/claim"), json!(null))
            .await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.post(
            "pat",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "却下"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.get("pat", &format!("/v1/items/{item}")).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.get("pat", &format!("/v1/items/{item}/history")).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.get("pat", "/v1/tasks?role=municipal_office").await,
        StatusCode::FORBIDDEN,
    );
    // The admin manages users; tasks are not theirs.
    assert_eq!(h.get("root", "/v1/tasks").await.body, json!([]));
    problem(
        &h.post("root", &format!("/v1/tasks/{id}/claim"), json!(null))
            .await,
        StatusCode::NOT_FOUND,
    );

    // The auditor reads, subjects masked, and changes nothing.
    let seen = h.get("audrey", &format!("/v1/tasks/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(
        (
            seen.body["subject"].as_str(),
            seen.body["subject_masked"].as_bool()
        ),
        (Some("insured:***"), Some(true))
    );
    assert_eq!(
        seen.body["data"],
        Value::Null,
        "no data for a masked viewer"
    );
    let item_seen = h.get("audrey", &format!("/v1/items/{item}")).await;
    assert_eq!(item_seen.body["subject"], "insured:***");
    assert_eq!(item_seen.body["data"], json!({}));
    assert_eq!(
        h.get("audrey", &format!("/v1/items/{item}/history"))
            .await
            .status,
        StatusCode::OK
    );
    for path in ["claim", "release"] {
        problem(
            &h.post("audrey", &format!("/v1/tasks/{id}/{path}"), json!(null))
                .await,
            StatusCode::FORBIDDEN,
        );
    }
    problem(
        &h.post(
            "audrey",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "却下"}}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post(
            "audrey",
            &format!("/v1/tasks/{id}/comments"),
            json!({"body": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post(
            "audrey",
            "/v1/items",
            json!({"flow": "9.7", "subject": "insured:X", "data": {}}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post(
            "audrey",
            "/v1/deliveries",
            json!({"document": "debit_result", "correlation_value": "C-1"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post(
            "audrey",
            "/v1/users",
            json!({"name": "eve", "roles": ["admin"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(h.get("audrey", "/v1/audit/verify").await.body["ok"], true);
    problem(
        &h.get("alice", "/v1/audit/verify").await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(
        h.fingerprint(item, id).await,
        before,
        "refusals changed nothing"
    );

    // One person at a time; nobody completes what someone else claimed.
    let claimed = h
        .post("alice", &format!("/v1/tasks/{id}/claim"), json!(null))
        .await;
    assert_eq!(
        (claimed.status, claimed.body["claimed_by"].as_str()),
        (StatusCode::OK, Some("alice"))
    );
    let after_claim = h.fingerprint(item, id).await;
    assert_eq!(after_claim.0, before.0 + 1, "the claim is in the history");
    problem(
        &h.post("bob", &format!("/v1/tasks/{id}/claim"), json!(null))
            .await,
        StatusCode::CONFLICT,
    );
    problem(
        &h.post("bob", &format!("/v1/tasks/{id}/release"), json!(null))
            .await,
        StatusCode::CONFLICT,
    );
    problem(
        &h.post(
            "bob",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "却下"}}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    // Only supervisors reassign, and only to someone of the task's role.
    problem(
        &h.post(
            "bob",
            &format!("/v1/tasks/{id}/reassign"),
            json!({"to": "bob"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem_field(
        &h.post(
            "carol",
            &format!("/v1/tasks/{id}/reassign"),
            json!({"to": "pat"}),
        )
        .await,
        "to",
    );
    problem_field(
        &h.post(
            "carol",
            &format!("/v1/tasks/{id}/reassign"),
            json!({"to": "nobody"}),
        )
        .await,
        "to",
    );
    assert_eq!(
        h.fingerprint(item, id).await,
        after_claim,
        "refusals changed nothing"
    );

    // Malformed requests: 400 naming the field, nothing changes.
    let path = format!("/v1/tasks/{id}/complete");
    problem_field(
        &h.post("alice", &path, json!({"answer": {"decision": 1}}))
            .await,
        "answer.decision",
    );
    problem_field(
        &h.post(
            "alice",
            &path,
            json!({"answer": {"decision": "認定", "amount": 12.5}}),
        )
        .await,
        "answer.amount",
    );
    problem_field(
        &h.post("alice", &path, json!({"answer": {"decision": "保留"}}))
            .await,
        "answer.decision",
    );
    problem_field(
        &h.post(
            "alice",
            &path,
            json!({"answer": {"colour": "red", "decision": "認定"}}),
        )
        .await,
        "answer.colour",
    );
    problem_field(
        &h.post("alice", &path, json!({"answer": "認定"})).await,
        "answer",
    );
    problem_field(
        &h.post("alice", &path, json!({"answers": {}})).await,
        "answers",
    );
    let broken = h
        .raw("alice", &path, "application/json", "{\"answer\": {".into())
        .await;
    problem(&broken, StatusCode::BAD_REQUEST);
    problem(
        &h.raw("alice", &path, "text/plain", "{}".into()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    let huge = format!(
        "{{\"answer\": {{\"decision\": \"{}\"}}}}",
        "x".repeat(api::MAX_BODY_BYTES)
    );
    problem(
        &h.raw("alice", &path, "application/json", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    problem_field(&h.get("alice", "/v1/tasks/abc").await, "id");
    problem_field(&h.get("alice", "/v1/tasks?limit=many").await, "limit");
    problem_field(&h.get("alice", "/v1/tasks?limit=0").await, "limit");
    problem_field(&h.get("alice", "/v1/tasks?state=done").await, "state");
    problem_field(&h.get("alice", "/v1/tasks?colour=red").await, "colour");
    problem_field(
        &h.post("alice", "/v1/items", json!({"flow": "9.7", "subject": 7}))
            .await,
        "subject",
    );
    problem_field(
        &h.post(
            "alice",
            "/v1/items",
            json!({"flow": "0.0", "subject": "insured:Z"}),
        )
        .await,
        "flow",
    );
    // PostgreSQL cannot store NUL in text: refused up front, never a server error.
    problem(
        &h.post(
            "alice",
            "/v1/items",
            json!({"flow": "9.7", "subject": "insured:\u{0}"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    problem_field(&h.get("alice", "/v1/tasks?flow=%00").await, "flow");
    problem_field(
        &h.post(
            "alice",
            &format!("/v1/tasks/{id}/comments"),
            json!({"body": "  "}),
        )
        .await,
        "body",
    );
    assert_eq!(
        h.fingerprint(item, id).await,
        after_claim,
        "refusals changed nothing"
    );

    // Authentication: none, unknown, revoked.
    let none = h
        .send(
            h.request("GET", "/v1/tasks", None)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    problem(&none, StatusCode::UNAUTHORIZED);
    let forged = h
        .send(
            Request::get("/v1/tasks")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer ngr_{}", "0".repeat(64)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    problem(&forged, StatusCode::UNAUTHORIZED);
    problem(
        &h.post("alice", "/v1/users/bob/revoke", json!(null)).await,
        StatusCode::FORBIDDEN,
    );
    let revoked = h.post("root", "/v1/users/bob/revoke", json!(null)).await;
    assert_eq!(
        (revoked.status, revoked.body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    problem(&h.get("bob", "/v1/tasks").await, StatusCode::UNAUTHORIZED);
    problem(
        &h.post("root", "/v1/users/bob/revoke", json!(null)).await,
        StatusCode::NOT_FOUND,
    );
    problem_field(
        &h.post(
            "root",
            "/v1/users",
            json!({"name": "eve", "roles": ["wizard"]}),
        )
        .await,
        "roles",
    );
    problem(
        &h.post(
            "root",
            "/v1/users",
            json!({"name": "alice", "roles": ["auditor"]}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    let users = h.get("root", "/v1/users").await;
    assert_eq!(users.body.as_array().map(Vec::len), Some(USERS.len() + 1));
    assert!(
        !users.body.to_string().contains("ngr_"),
        "tokens are never listed"
    );

    // Reassignment, comments, completion: each in the history with its actor.
    let moved = h
        .post(
            "carol",
            &format!("/v1/tasks/{id}/reassign"),
            json!({"to": "carol", "reason": "休暇"}),
        )
        .await;
    assert_eq!(
        (moved.status, moved.body["claimed_by"].as_str()),
        (StatusCode::OK, Some("carol")),
        "{}",
        moved.body
    );
    problem(
        &h.post(
            "alice",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "認定"}}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    let c = h
        .post(
            "carol",
            &format!("/v1/tasks/{id}/comments"),
            json!({"body": "書類を確認中"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let done = h
        .post(
            "carol",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "却下"}}),
        )
        .await;
    assert_eq!(
        (done.status, done.body["state"].as_str()),
        (StatusCode::OK, Some("completed")),
        "{}",
        done.body
    );
    problem(
        &h.post(
            "carol",
            &format!("/v1/tasks/{id}/complete"),
            json!({"answer": {"decision": "却下"}}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    let detail = h.get("carol", &format!("/v1/tasks/{id}")).await;
    assert_eq!(detail.body["comments"][0]["body"], "書類を確認中");
    assert_eq!(detail.body["reassignments"][0]["from_user"], "alice");
    h.work().await;
    let history = h.get("alice", &format!("/v1/items/{item}/history")).await;
    let actors: Vec<String> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                t["kind"].as_str().unwrap(),
                t["actor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actors,
        [
            "started user:alice",
            "moved system",
            "task_claimed user:alice",
            "task_reassigned user:carol",
            "task_commented user:carol",
            "task_completed user:carol",
            "completed system",
        ]
    );
    assert_eq!(
        h.get("alice", &format!("/v1/items/{item}")).await.body["state"],
        "completed"
    );

    // The other role's own item stays out of sight of the office.
    let a = h
        .post(
            "pat",
            "/v1/items",
            json!({"flow": "9.8", "subject": "insured:P-1"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let pension = a.body["id"].as_i64().unwrap();
    problem(
        &h.post(
            "pat",
            "/v1/items",
            json!({"flow": "9.7", "subject": "insured:P-2"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    h.work().await;
    problem(
        &h.get("alice", &format!("/v1/items/{pension}")).await,
        StatusCode::NOT_FOUND,
    );
    let listed = h.get("alice", "/v1/items").await;
    assert!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["flow_id"] == "9.7"),
        "{}",
        listed.body
    );
    assert_eq!(
        h.get("pat", "/v1/tasks")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(h.get("alice", "/v1/tasks").await.body, json!([]));
}

/// Filters and overdue: listing by due date, by step, by state.
async fn queue_filters(db: Db) {
    let h = harness(db).await;
    let a = start(&h, "alice", "C-10").await;
    h.clock.advance(Duration::days(3));
    let b = h
        .post(
            "alice",
            "/v1/items",
            json!({"flow": "9.7", "subject": "insured:C-11", "data": {"received_on": "2026-03-20", "customer_no": "C-11"}}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    h.work().await;
    let list = h.get("bob", "/v1/tasks?flow=9.7&step=010").await;
    let items: Vec<i64> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["item_id"].as_i64().unwrap())
        .collect();
    assert_eq!(items, [b, a], "earliest due date first");
    assert_eq!(h.get("bob", "/v1/tasks?step=030").await.body, json!([]));
    assert_eq!(
        h.get("bob", "/v1/tasks?step=accept&limit=1")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    h.clock.advance(Duration::days(10)); // 2026-04-14: b (due 04-03) is overdue, a (04-15) not
    let overdue = h.get("bob", "/v1/tasks?overdue=true").await;
    let items: Vec<i64> = overdue
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["item_id"].as_i64().unwrap())
        .collect();
    assert_eq!(items, [b]);
    assert_eq!(overdue.body[0]["overdue"], true);
    let id = overdue.body[0]["id"].as_i64().unwrap();
    h.post("bob", &format!("/v1/tasks/{id}/claim"), json!(null))
        .await;
    assert_eq!(
        h.get("bob", "/v1/tasks?mine=true")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(h.get("alice", "/v1/tasks?mine=true").await.body, json!([]));
    let released = h
        .post("bob", &format!("/v1/tasks/{id}/release"), json!(null))
        .await;
    assert_eq!(released.body["claimed_by"], Value::Null);
    assert_eq!(
        h.get("bob", "/v1/tasks?state=completed").await.body,
        json!([])
    );
}

/// "Next case": each clerk gets a different unclaimed task, earliest due date first; an
/// empty queue is 404, a role the caller lacks or an auditor 403, and refusals change nothing.
async fn claim_next(db: Db) {
    let h = harness(db).await;
    let later = start(&h, "alice", "C-20").await;
    let earlier = h
        .post(
            "alice",
            "/v1/items",
            json!({"flow": "9.7", "subject": "insured:C-21", "data": {"received_on": "2026-03-20", "customer_no": "C-21"}}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    h.work().await;

    problem(
        &h.post("audrey", "/v1/tasks/claim-next", json!(null)).await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post(
            "alice",
            "/v1/tasks/claim-next?role=pension_desk",
            json!(null),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    problem(
        &h.post("pat", "/v1/tasks/claim-next", json!(null)).await,
        StatusCode::NOT_FOUND,
    );
    problem(
        &h.post("alice", "/v1/tasks/claim-next?step=030", json!(null))
            .await,
        StatusCode::NOT_FOUND,
    );
    problem_field(
        &h.post("alice", "/v1/tasks/claim-next?colour=red", json!(null))
            .await,
        "colour",
    );
    let unclaimed = |body: &Value| {
        body.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["claimed_by"].is_null())
            .count()
    };
    assert_eq!(unclaimed(&h.get("alice", "/v1/tasks").await.body), 2);

    let first = h
        .post(
            "alice",
            "/v1/tasks/claim-next?flow=9.7&step=010",
            json!(null),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        (
            first.body["item_id"].as_i64(),
            first.body["claimed_by"].as_str()
        ),
        (Some(earlier), Some("alice")),
        "the earliest due date first"
    );
    let second = h.post("bob", "/v1/tasks/claim-next", json!(null)).await;
    assert_eq!(
        (
            second.body["item_id"].as_i64(),
            second.body["claimed_by"].as_str()
        ),
        (Some(later), Some("bob")),
        "a claimed task is not handed out again"
    );
    problem(
        &h.post("carol", "/v1/tasks/claim-next", json!(null)).await,
        StatusCode::NOT_FOUND,
    );
    let history = h
        .get("audrey", &format!("/v1/items/{earlier}/history"))
        .await;
    assert!(
        history
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "task_claimed" && t["actor"] == "user:alice"),
        "{}",
        history.body
    );
}

/// Deliveries: unmatched and duplicate ones are refused with a reason, nothing changes.
async fn deliveries(db: Db) {
    let h = harness(db).await;
    let item = start(&h, "alice", "C-20").await;
    h.work().await;
    let early = h
        .post("alice", "/v1/deliveries", json!({"document": "debit_result", "correlation_value": "C-20", "payload": {"result": "0"}}))
        .await;
    problem(&early, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        early.body["detail"].as_str().unwrap().contains("C-20"),
        "{}",
        early.body
    );
    let task = open_task(&h, "alice", item).await["id"].as_i64().unwrap();
    let ok = h
        .post(
            "alice",
            &format!("/v1/tasks/{task}/complete"),
            json!({"answer": {"decision": "認定"}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    h.work().await;
    let body = json!({"document": "debit_result", "correlation_value": "C-20", "payload": {"result": "0"}, "delivery_id": "bank-0420"});
    // The pension desk holds no role of this flow: the same answer as if nothing waited.
    problem(
        &h.post("pat", "/v1/deliveries", body.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let first = h.post("bob", "/v1/deliveries", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["item_id"], item);
    let seq = h
        .svc
        .runtime()
        .store()
        .item(item)
        .await
        .unwrap()
        .unwrap()
        .seq;
    let again = h.post("bob", "/v1/deliveries", body).await;
    problem(&again, StatusCode::CONFLICT);
    assert!(again.body["detail"].as_str().unwrap().contains("bank-0420"));
    assert_eq!(
        h.svc
            .runtime()
            .store()
            .item(item)
            .await
            .unwrap()
            .unwrap()
            .seq,
        seq
    );
    problem_field(
        &h.post("bob", "/v1/deliveries", json!({"document": "debit_result"}))
            .await,
        "correlation_value",
    );
    problem_field(
        &h.post(
            "bob",
            "/v1/deliveries",
            json!({"item_id": item, "node": "x", "file": {"name": "a", "content_base64": "%%"}}),
        )
        .await,
        "file.content_base64",
    );
}

// ---- end to end over TCP ----------------------------------------------------------------

async fn end_to_end(db: Db) {
    let h = harness(db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let app = h.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, who: &str, body: Option<Value>| {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&h.tokens[who]);
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move {
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    use reqwest::Method;

    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let doc: Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // alice starts an item; the worker runs in process; alice decides, bob reviews.
    let (status, started) = call(
        Method::POST,
        "/v1/items",
        "alice",
        Some(json!({"flow": "9.7", "subject": "insured:0042", "data": {"received_on": "2026-04-01", "customer_no": "C-42"}})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let item = started["id"].as_i64().unwrap();
    h.work().await;
    let (_, tasks) = call(Method::GET, "/v1/tasks", "alice", None).await;
    let accept = tasks[0]["id"].as_i64().unwrap();
    assert_eq!(tasks[0]["name"], "申請受理");
    assert_eq!(
        call(
            Method::POST,
            &format!("/v1/tasks/{accept}/claim"),
            "alice",
            None
        )
        .await
        .0,
        200
    );
    let (status, done) = call(
        Method::POST,
        &format!("/v1/tasks/{accept}/complete"),
        "alice",
        Some(json!({"answer": {"decision": "認定", "amount": 6400}})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    h.work().await;

    // The bank's result file arrives, correlated by customer number.
    let file = "1,C-42,6400,0\n";
    let (status, receipt) = call(
        Method::POST,
        "/v1/deliveries",
        "bob",
        Some(json!({
            "document": "debit_result", "correlation_value": "C-42",
            "payload": {"result": "0"},
            "file": {"name": "furikae_20260420.csv", "content_base64": "MSxDLTQyLDY0MDAsMAo="},
            "delivery_id": "furikae-20260420"
        })),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["item_id"], item);
    h.work().await;
    let (_, item_now) = call(Method::GET, &format!("/v1/items/{item}"), "bob", None).await;
    assert_eq!(item_now["data"]["file"]["size"], file.len());
    assert_eq!(item_now["data"]["file"]["name"], "furikae_20260420.csv");

    let (_, tasks) = call(Method::GET, "/v1/tasks?step=030", "bob", None).await;
    let review = tasks[0]["id"].as_i64().unwrap();
    assert_eq!(
        call(
            Method::POST,
            &format!("/v1/tasks/{review}/claim"),
            "bob",
            None
        )
        .await
        .0,
        200
    );
    let (status, body) = call(
        Method::POST,
        &format!("/v1/tasks/{review}/complete"),
        "bob",
        Some(json!({"answer": {"ok": true}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    h.work().await;

    let (_, item_now) = call(Method::GET, &format!("/v1/items/{item}"), "alice", None).await;
    assert_eq!(item_now["state"], "completed");
    let (_, history) = call(
        Method::GET,
        &format!("/v1/items/{item}/history"),
        "audrey",
        None,
    )
    .await;
    let story: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {} {}",
                t["kind"].as_str().unwrap(),
                t["actor"].as_str().unwrap(),
                t["to_node"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        story,
        [
            "started user:alice start",
            "moved system accept",
            "task_claimed user:alice -",
            "task_completed user:alice route",
            "moved system prepare",
            "moved system receive_result",
            "message_received user:bob review",
            "task_claimed user:bob -",
            "task_completed user:bob finish",
        ]
    );
    let (_, audit) = call(Method::GET, "/v1/audit/verify", "audrey", None).await;
    assert_eq!(audit["ok"], true, "{audit}");
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("nagare_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"/v1/tasks/{id}/complete\""),
        "{metrics}"
    );
    server.abort();
}

// ---- the OpenAPI document ---------------------------------------------------------------

/// `docs/openapi.json` is the document the server serves; regenerate it with
/// `NAGARE_UPDATE_OPENAPI=1 cargo test --test api openapi`.
#[test]
fn openapi_document_is_committed() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let generated = api::openapi_document();
    if std::env::var_os("NAGARE_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not the generated document: run NAGARE_UPDATE_OPENAPI=1 cargo test --test api openapi"
    );
    let doc: Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/tasks",
        "/v1/tasks/{id}/complete",
        "/v1/deliveries",
        "/v1/users",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has responses"
            );
        }
    }
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

on_both_databases!(
    access_rules,
    queue_filters,
    claim_next,
    deliveries,
    end_to_end
);
