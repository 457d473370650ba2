//! The task-queue commands end to end: `user add|list|revoke`, `tasks`, `task`, `claim`,
//! `complete` (`--set` and `--input`), `reassign`, `comment` and `deliver` (a file) run as
//! the `nagare` binary on a SQLite file, with the worker run in the test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use async_trait::async_trait;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Actor, Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, SystemClock,
};
use serde_json::{Value, json};

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/api_flows")
}

struct Cli {
    db: String,
    dir: PathBuf,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

impl Cli {
    fn run(&self, who: Option<&str>, args: &[&str]) -> Out {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nagare"));
        cmd.args(args)
            .arg("--db")
            .arg(&self.db)
            .arg("--flows")
            .arg(flows_dir())
            .current_dir(&self.dir)
            .env_remove("NAGARE_USER")
            .env_remove("NAGARE_DB");
        if let Some(who) = who {
            cmd.args(["--as", who]);
        }
        let out = cmd.output().expect("run nagare");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, who: Option<&str>, args: &[&str]) -> Out {
        let out = self.run(who, args);
        assert_eq!(out.code, 0, "nagare {args:?}: {}{}", out.stdout, out.stderr);
        out
    }

    fn refused(&self, who: Option<&str>, args: &[&str], reason: &str) {
        let out = self.run(who, args);
        assert_eq!(out.code, 1, "nagare {args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(reason),
            "nagare {args:?}: {}",
            out.stderr
        );
    }
}

async fn runtime(db: &str) -> Runtime {
    let store = nagare_engine::store::open(db).await.expect("open");
    let mut handlers = HandlerRegistry::new();
    handlers.register("test.noop", Noop);
    let rt = Runtime::new(store, handlers, Arc::new(SystemClock));
    let sources: Vec<(String, Vec<u8>)> = ["application.yaml", "pension.yaml"]
        .iter()
        .map(|n| {
            let p = flows_dir().join(n);
            (p.display().to_string(), std::fs::read(&p).expect("flow"))
        })
        .collect();
    rt.register_catalog(&check_sources(&sources).catalog.expect("flows check"))
        .await
        .expect("register");
    rt
}

async fn work(rt: &Runtime) {
    while rt.run_batch(50).await.expect("batch").items > 0 {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_a_flow_from_the_cli() {
    let dir = std::env::temp_dir().join(format!("nagare_cli_queue_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cli = Cli {
        db: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: dir.clone(),
    };

    // Accounts: the first user must be an admin; then only admins add users.
    cli.refused(
        None,
        &["user", "add", "alice", "--role", "municipal_office"],
        "must be an admin",
    );
    let root = cli
        .ok(
            None,
            &["user", "add", "root", "--role", "admin", "--format", "json"],
        )
        .json();
    assert!(root["token"].as_str().unwrap().starts_with("ngr_"));
    cli.refused(
        None,
        &["user", "add", "eve", "--role", "admin"],
        "users exist already",
    );
    for (name, roles) in [
        ("alice", vec!["municipal_office"]),
        ("bob", vec!["municipal_office"]),
        ("carol", vec!["municipal_office", "supervisor"]),
    ] {
        let mut args = vec!["user", "add", name];
        for r in roles {
            args.extend(["--role", r]);
        }
        let out = cli.ok(Some("root"), &args);
        assert!(out.stdout.contains("shown once"), "{}", out.stdout);
    }
    cli.refused(
        Some("alice"),
        &["user", "add", "eve", "--role", "municipal_office"],
        "not an admin",
    );
    let users = cli
        .ok(Some("root"), &["user", "list", "--format", "json"])
        .json();
    assert_eq!(users.as_array().map(Vec::len), Some(4));
    assert!(!users.to_string().contains("ngr_"));

    // An item waits at its first task.
    let rt = runtime(&cli.db).await;
    let item = rt
        .start(
            "9.7",
            "insured:0007",
            json!({"received_on": "2026-04-01", "customer_no": "C-7"})
                .as_object()
                .unwrap()
                .clone(),
            &Actor::User("alice".into()),
        )
        .await
        .unwrap();
    work(&rt).await;

    let tasks = cli.ok(Some("alice"), &["tasks", "--format", "json"]).json();
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
    let id = tasks[0]["id"].as_i64().unwrap().to_string();
    let table = cli.ok(Some("alice"), &["tasks"]).stdout;
    assert!(
        table.contains("申請受理") && table.contains("2026-04-15"),
        "{table}"
    );
    let shown = cli.ok(Some("alice"), &["task", &id]).stdout;
    assert!(
        shown.contains("認定/却下") && shown.contains("one of 認定, 却下"),
        "{shown}"
    );

    cli.refused(
        Some("alice"),
        &["claim", "--next", "--step", "030"],
        "unclaimed open task in your queues does not exist",
    );
    // "Next case" hands alice the only unclaimed task.
    let next = cli
        .ok(Some("alice"), &["claim", "--next", "--format", "json"])
        .json();
    assert_eq!(next["id"].as_i64().map(|n| n.to_string()), Some(id.clone()));
    assert_eq!(next["claimed_by"], "alice");
    cli.ok(Some("alice"), &["claim", &id]);
    cli.refused(Some("bob"), &["claim", &id], "claimed by alice");
    cli.refused(Some("bob"), &["claim", "--next"], "does not exist");
    cli.refused(
        Some("bob"),
        &["complete", &id, "--set", "decision=認定"],
        "claimed by alice",
    );
    cli.refused(
        Some("alice"),
        &["complete", &id, "--set", "decision=保留"],
        "one of 認定, 却下",
    );
    let bad = cli.run(Some("alice"), &["complete", &id, "--set", "amount=lots"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    cli.refused(
        Some("alice"),
        &["reassign", &id, "--to", "bob"],
        "not a supervisor",
    );
    cli.ok(
        Some("carol"),
        &["reassign", &id, "--to", "bob", "--reason", "交代"],
    );
    cli.ok(Some("bob"), &["comment", &id, "通帳の写しを確認"]);
    let done = cli
        .ok(
            Some("bob"),
            &[
                "complete",
                &id,
                "--set",
                "decision=認定",
                "--set",
                "amount=6400",
                "--format",
                "json",
            ],
        )
        .json();
    assert_eq!(done["state"], "completed");
    assert_eq!(done["answer"], json!({"decision": "認定", "amount": 6400}));
    work(&rt).await;

    // The bank's file arrives; a second delivery of it is refused.
    let file = dir.join("furikae.csv");
    std::fs::write(&file, "1,C-7,6400,0\n").unwrap();
    let file = file.display().to_string();
    let args = [
        "deliver",
        "--document",
        "debit_result",
        "--key",
        "C-7",
        "--set",
        "result=\"0\"",
        "--file",
        &file,
        "--id",
        "furikae-0420",
        "--format",
        "json",
    ];
    let receipt = cli.ok(Some("alice"), &args).json();
    assert_eq!(receipt["item_id"], item);
    cli.refused(Some("alice"), &args, "already received");
    cli.refused(
        Some("alice"),
        &["deliver", "--document", "debit_result", "--key", "C-999"],
        "no work item waits",
    );
    work(&rt).await;

    let tasks = cli
        .ok(Some("bob"), &["tasks", "--step", "030", "--format", "json"])
        .json();
    let review = tasks[0]["id"].as_i64().unwrap().to_string();
    let input = dir.join("answer.json");
    std::fs::write(&input, r#"{"ok": true}"#).unwrap();
    let input = input.display().to_string();
    cli.ok(Some("bob"), &["complete", &review, "--input", &input]);
    work(&rt).await;

    let history: Vec<String> = rt
        .store()
        .history(item)
        .await
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t.kind, t.actor))
        .collect();
    assert_eq!(
        history,
        [
            "started user:alice",
            "moved system",
            "task_claimed user:alice",
            "task_reassigned user:carol",
            "task_commented user:bob",
            "task_completed user:bob",
            "moved system",
            "moved system",
            "message_received user:alice",
            "task_completed user:bob",
        ]
    );
    let data = rt.store().item(item).await.unwrap().unwrap().data;
    assert_eq!(data["file"]["name"], "furikae.csv");

    // A revoked user can no longer act.
    cli.ok(Some("root"), &["user", "revoke", "bob"]);
    cli.refused(Some("bob"), &["tasks"], "revoked");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `nagare serve --worker` alone runs a flow: the items started over HTTP move on without
/// any other process, and the tasks they reach are worked over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_worker_runs_a_flow_from_the_api_alone() {
    let dir = std::env::temp_dir().join(format!("nagare_cli_serve_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cli = Cli {
        db: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: dir.clone(),
    };
    cli.ok(None, &["user", "add", "root", "--role", "admin"]);
    let token = |name: &str| {
        cli.ok(
            Some("root"),
            &[
                "user",
                "add",
                name,
                "--role",
                "municipal_office",
                "--format",
                "json",
            ],
        )
        .json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (alice, bob) = (token("alice"), token("bob"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_nagare"))
            .args(["serve", "--worker", "--test-handlers", "--poll-ms", "20"])
            .args(["--listen", &listen, "--db", &cli.db])
            .arg("--flows")
            .arg(flows_dir())
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nagare serve"),
    );
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            up = r.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the server answers /healthz");
    let call = async |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    };
    // Polls until the worker has moved the item on, for at most 15 s.
    let wait_for = async |path: &str, token: &str, ready: &dyn Fn(&Value) -> bool| {
        for _ in 0..750 {
            let (status, body) = call(reqwest::Method::GET, path, token, None).await;
            if status == 200 && ready(&body) {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{path} never became ready");
    };
    use reqwest::Method;

    let (status, started) = call(
        Method::POST,
        "/v1/items",
        &alice,
        Some(json!({"flow": "9.7", "subject": "insured:0099",
                    "data": {"received_on": "2026-04-01", "customer_no": "C-99"}})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let item = started["id"].as_i64().unwrap();

    let tasks = wait_for("/v1/tasks", &alice, &|b| {
        b.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let accept = tasks[0]["id"].as_i64().unwrap();
    assert_eq!(tasks[0]["name"], "申請受理");
    let claim = format!("/v1/tasks/{accept}/claim");
    assert_eq!(call(Method::POST, &claim, &alice, None).await.0, 200);
    assert_eq!(call(Method::POST, &claim, &bob, None).await.0, 409);
    let (status, body) = call(
        Method::POST,
        &format!("/v1/tasks/{accept}/complete"),
        &alice,
        Some(json!({"answer": {"decision": "認定"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The worker runs 振替依頼作成 and the item then waits for the bank's result; until it
    // waits, the delivery is refused (nothing matches) and changes nothing.
    let mut delivered = None;
    for _ in 0..750 {
        let (status, receipt) = call(
            Method::POST,
            "/v1/deliveries",
            &bob,
            Some(
                json!({"document": "debit_result", "correlation_value": "C-99",
                        "payload": {"result": "0"}, "delivery_id": "furikae-c99"}),
            ),
        )
        .await;
        if status == 201 {
            delivered = Some(receipt);
            break;
        }
        assert_eq!(status, 422, "{receipt}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        delivered.expect("the delivery is accepted")["item_id"],
        item
    );
    let tasks = wait_for("/v1/tasks?step=030", &bob, &|b| {
        b.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let review = tasks[0]["id"].as_i64().unwrap();
    assert_eq!(
        call(
            Method::POST,
            &format!("/v1/tasks/{review}/claim"),
            &bob,
            None
        )
        .await
        .0,
        200
    );
    let (status, body) = call(
        Method::POST,
        &format!("/v1/tasks/{review}/complete"),
        &bob,
        Some(json!({"answer": {"ok": true}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let done = wait_for(&format!("/v1/items/{item}"), &alice, &|b| {
        b["state"] == "completed"
    })
    .await;
    assert_eq!(done["subject"], "insured:0099");
    let _ = std::fs::remove_dir_all(&dir);
}
