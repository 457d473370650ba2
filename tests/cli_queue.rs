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

    cli.ok(Some("alice"), &["claim", &id]);
    cli.refused(Some("bob"), &["claim", &id], "claimed by alice");
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
