//! `nagare outbox list|export` and `nagare cancel` end to end: the `nagare` binary on a
//! SQLite file, with the worker run in the test process. The export writes real files:
//! atomically, never over another file, recognising what an interrupted export left, and
//! never twice, even with two export processes at once.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Actor, Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, SystemClock,
};
use serde_json::{Value, json};

/// Queues `letters` letters to residents and one bank file.
struct Mail;

#[async_trait]
impl Handler for Mail {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let n = ctx.get("letters").and_then(Value::as_i64).unwrap_or(1);
        for i in 0..n {
            ctx.outbox(
                "demand_letter",
                Some(&format!("A{i:04}")),
                json!({"text": format!("督促状 {i}\n様\n")}),
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

fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/outbox_flows")
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
    fn command(&self, who: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nagare"));
        cmd.args(args)
            .args(["--db", &self.db, "--as", who])
            .arg("--flows")
            .arg(flows_dir())
            .current_dir(&self.dir)
            .env_remove("NAGARE_USER")
            .env_remove("NAGARE_DB");
        cmd
    }

    fn run(&self, who: &str, args: &[&str]) -> Out {
        let out = self.command(who, args).output().expect("run nagare");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, who: &str, args: &[&str]) -> Out {
        let out = self.run(who, args);
        assert_eq!(out.code, 0, "nagare {args:?}: {}{}", out.stdout, out.stderr);
        out
    }

    fn refused(&self, who: &str, args: &[&str], reason: &str) {
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
    handlers.register("test.mail", Mail);
    let rt = Runtime::new(store, handlers, Arc::new(SystemClock));
    let p = flows_dir().join("mail.yaml");
    let sources = vec![(p.display().to_string(), std::fs::read(&p).expect("flow"))];
    rt.register_catalog(&check_sources(&sources).catalog.expect("flow checks"))
        .await
        .expect("register");
    rt
}

async fn work(rt: &Runtime) {
    while rt.run_batch(50).await.expect("batch").items > 0 {}
}

/// Starts an item, answers its review task and lets the worker queue the mail.
async fn mail(rt: &Runtime, letters: i64) -> i64 {
    let id = rt
        .start(
            "9.40",
            "batch:督促2026",
            json!({"letters": letters}).as_object().unwrap().clone(),
            &Actor::System,
        )
        .await
        .unwrap();
    work(rt).await;
    let task = rt
        .store()
        .tasks(&nagare_engine::store::TaskFilter {
            item_id: Some(id),
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id;
    rt.complete_task(
        task,
        &Actor::User("alice".into()),
        json!({"ok": true}).as_object().unwrap().clone(),
    )
    .await
    .unwrap();
    work(rt).await;
    id
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nagare_cli_ops_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn users(cli: &Cli) {
    let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
        .args(["user", "add", "root", "--role", "admin", "--db", &cli.db])
        .arg("--flows")
        .arg(flows_dir())
        .env_remove("NAGARE_USER")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, roles) in [
        ("alice", vec!["municipal_office"]),
        ("carol", vec!["municipal_office", "supervisor"]),
        ("osamu", vec!["outbox"]),
        ("otto", vec!["outbox"]),
        ("audrey", vec!["auditor", "outbox"]),
    ] {
        let mut args = vec!["user", "add", name];
        for r in &roles {
            args.extend(["--role", r]);
        }
        cli.ok("root", &args);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_export_writes_each_entry_once() {
    let dir = temp_dir("export");
    let cli = Cli {
        db: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: dir.clone(),
    };
    users(&cli);
    let rt = runtime(&cli.db).await;
    let item = mail(&rt, 3).await;
    let entries = rt.store().outbox(Some(item)).await.unwrap();
    assert_eq!(entries.len(), 5, "three letters, a file, the send record");
    let id = |i: usize| entries[i].id;

    // Who may see what.
    let listed = cli
        .ok("audrey", &["outbox", "list", "--format", "json"])
        .json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0]["recipient"], "***", "an auditor sees no 宛名番号");
    assert_eq!(listed[0]["kind"], "letter");
    assert_eq!(listed[3]["recipient"], "bank");
    assert_eq!(listed[3]["records"], 1);
    assert_eq!(listed[3]["total_yen"], 5000);
    assert!(
        listed
            .iter()
            .all(|e| e.get("payload").is_none() && e.get("text").is_none())
    );
    let out = cli
        .ok("osamu", &["outbox", "list", "--format", "json"])
        .json();
    assert_eq!(out[0]["recipient"], "A0000");
    let human = cli.ok("osamu", &["outbox", "list"]).stdout;
    assert!(human.contains("5 entries"), "{human}");
    let export_dir = temp_dir("export_out");
    let target = export_dir.to_str().unwrap();
    cli.refused(
        "audrey",
        &["outbox", "export", target],
        "auditors see the outbox's metadata only",
    );
    cli.refused(
        "alice",
        &["outbox", "export", target],
        "only holders of role `outbox`",
    );
    cli.refused("alice", &["outbox", "list"], "see the outbox");
    cli.refused(
        "audrey",
        &["outbox", "list", "--recipient", "A0000"],
        "may not look up recipients",
    );
    let missing = dir.join("no_such_folder");
    let out = cli.run("osamu", &["outbox", "export", missing.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(files(&export_dir).is_empty());

    // The letters.
    let out = cli
        .ok(
            "osamu",
            &[
                "outbox",
                "export",
                target,
                "--document",
                "demand_letter",
                "--format",
                "json",
            ],
        )
        .json();
    let exported = out["exported"].as_array().unwrap();
    assert_eq!(exported.len(), 3);
    assert_eq!(
        out["to"],
        std::fs::canonicalize(&export_dir)
            .unwrap()
            .to_str()
            .unwrap()
    );
    let letter = format!("demand_letter-{:08}.txt", id(0));
    assert_eq!(exported[0]["name"], letter.as_str());
    assert_eq!(
        std::fs::read_to_string(export_dir.join(&letter)).unwrap(),
        "督促状 0\n様\n"
    );
    assert_eq!(files(&export_dir).len(), 3, "no temporary file is left");

    // An export that died after writing the bank file and before marking it: the file is
    // there, the entry pending. Another file squats the send record's name.
    let bank_file = format!("debit_request_data-{:08}-KOFURI.txt", id(3));
    std::fs::write(export_dir.join(&bank_file), b"1\r\n2\r\n").unwrap();
    let inode = std::fs::metadata(export_dir.join(&bank_file))
        .unwrap()
        .ino();
    let record = format!("debit_request_data-{:08}.json", id(4));
    std::fs::write(export_dir.join(&record), b"someone else's file").unwrap();
    let out = cli.run("osamu", &["outbox", "export", target, "--format", "json"]);
    assert_eq!(out.code, 1, "a skipped entry is a problem: {}", out.stderr);
    let report = out.json();
    assert_eq!(report["exported"][0]["name"], bank_file.as_str());
    assert_eq!(report["exported"][0]["already_there"], true);
    assert_eq!(
        std::fs::metadata(export_dir.join(&bank_file))
            .unwrap()
            .ino(),
        inode,
        "the file was not written again"
    );
    assert_eq!(report["skipped"][0]["id"], id(4));
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("exists with other content"),
        "{report}"
    );
    assert_eq!(
        std::fs::read(export_dir.join(&record)).unwrap(),
        b"someone else's file",
        "never overwritten"
    );
    let pending = cli
        .ok("osamu", &["outbox", "list", "--format", "json"])
        .json();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], id(4));

    // With the squatter moved away, the last entry leaves; then there is nothing left.
    std::fs::remove_file(export_dir.join(&record)).unwrap();
    let human = cli.ok("osamu", &["outbox", "export", target]).stdout;
    assert!(human.contains("exported 1 entry"), "{human}");
    let record_json: Value =
        serde_json::from_slice(&std::fs::read(export_dir.join(&record)).unwrap()).unwrap();
    assert_eq!(record_json["content"], json!({"records": 1}));
    let again = cli
        .ok("osamu", &["outbox", "export", target, "--format", "json"])
        .json();
    assert_eq!(again["exported"], json!([]));
    assert_eq!(files(&export_dir).len(), 5);

    let sent = cli
        .ok(
            "audrey",
            &["outbox", "list", "--state", "sent", "--format", "json"],
        )
        .json();
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter()
            .all(|e| e["sent_by"] == "user:osamu" && e["state"] == "sent")
    );
    assert!(sent.iter().all(|e| e["sent_sha256"] == e["sha256"]));
    assert_eq!(sent[0]["sent_as"], letter.as_str());
    let out = cli.run("osamu", &["outbox", "list", "--state", "gone"]);
    assert_eq!(out.code, 2, "a bad argument is a usage error");
    assert!(
        out.stderr.contains("not one of pending, sent, all"),
        "{}",
        out.stderr
    );

    // Two export processes at once into two folders: every letter leaves once.
    mail(&rt, 300).await;
    let (a, b) = (temp_dir("export_a"), temp_dir("export_b"));
    let spawn = |who: &str, to: &Path| {
        cli.command(
            who,
            &["outbox", "export", to.to_str().unwrap(), "--format", "json"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (pa, pb) = (spawn("osamu", &a), spawn("otto", &b));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    assert!(
        oa.status.success(),
        "{}",
        String::from_utf8_lossy(&oa.stderr)
    );
    assert!(
        ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len() + fb.len(), 302);
    assert!(
        fa.is_disjoint(&fb),
        "an entry was exported into both folders"
    );
    let left = cli
        .ok("osamu", &["outbox", "list", "--format", "json"])
        .json();
    assert_eq!(left, json!([]));

    for d in [&dir, &export_dir, &a, &b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_an_item_from_the_cli() {
    let dir = temp_dir("cancel");
    let cli = Cli {
        db: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: dir.clone(),
    };
    users(&cli);
    let rt = runtime(&cli.db).await;
    let id = rt
        .start("9.40", "insured:0007", Default::default(), &Actor::System)
        .await
        .unwrap();
    work(&rt).await;
    let task = rt.store().tasks(&Default::default()).await.unwrap()[0].id;
    let item = id.to_string();

    cli.refused(
        "alice",
        &["cancel", &item, "--reason", "転出"],
        "not a supervisor",
    );
    cli.refused(
        "audrey",
        &["cancel", &item, "--reason", "転出"],
        "auditors cannot cancel",
    );
    cli.refused(
        "osamu",
        &["cancel", &item, "--reason", "転出"],
        "does not exist or is not visible",
    );
    cli.refused(
        "carol",
        &["cancel", &item, "--reason", " "],
        "needs a reason",
    );
    let out = cli.ok("carol", &["cancel", &item, "--reason", "転出のため"]);
    assert!(
        out.stdout.contains(&format!(
            "work item {id} cancelled; task(s) {task} withdrawn"
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("task at `review`"), "{}", out.stdout);
    cli.refused(
        "carol",
        &["cancel", &item, "--reason", "再度"],
        "is cancelled",
    );
    cli.refused("alice", &["claim", &task.to_string()], "is cancelled");

    let history = cli
        .ok("carol", &["history", &item, "--format", "json"])
        .json();
    let last = history
        .as_array()
        .and_then(|h| h.last())
        .expect("a history");
    assert_eq!(last["kind"], "cancelled");
    assert_eq!(last["actor"], "user:carol");
    assert_eq!(last["detail"], "転出のため");
    assert_eq!(
        rt.store().item(id).await.unwrap().unwrap().state,
        nagare_engine::runtime::ItemState::Cancelled
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real crash: an export of 1,000 letters is killed with SIGKILL part-way, then run again
/// into the same folder. Every entry ends up sent once, as exactly one complete file, and no
/// temporary file is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_killed_part_way_finishes_on_the_next_run() {
    let dir = temp_dir("kill");
    let cli = Cli {
        db: format!("sqlite://{}", dir.join("nagare.db").display()),
        dir: dir.clone(),
    };
    users(&cli);
    let rt = runtime(&cli.db).await;
    let item = mail(&rt, 1000).await;
    let out_dir = temp_dir("kill_out");
    let target = out_dir.to_str().unwrap();
    let mut child = cli
        .command("osamu", &["outbox", "export", target])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some files are out, before it is through.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while files(&out_dir).len() < 60 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let before = files(&out_dir).len();
    assert!(
        before < 1002,
        "the export was not interrupted: {before} files, {status}"
    );
    let sent_before = rt
        .store()
        .outbox(Some(item))
        .await
        .unwrap()
        .iter()
        .filter(|e| e.state == nagare_engine::runtime::OutboxState::Sent)
        .count();
    assert!(sent_before <= before, "only written files are marked sent");

    let report = cli
        .ok("osamu", &["outbox", "export", target, "--format", "json"])
        .json();
    let again = report["exported"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["already_there"] == true)
        .count();
    assert_eq!(
        sent_before + report["exported"].as_array().unwrap().len(),
        1002,
        "every entry was exported once, across both runs"
    );
    assert!(again <= before - sent_before);
    let names = files(&out_dir);
    assert_eq!(
        names.len(),
        1002,
        "{:?}",
        names
            .iter()
            .filter(|n| n.starts_with('.'))
            .collect::<Vec<_>>()
    );
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "a temporary file is left"
    );
    let entries = rt.store().outbox(Some(item)).await.unwrap();
    for e in &entries {
        assert_eq!(e.state, nagare_engine::runtime::OutboxState::Sent);
        let name = e.sent_as.as_deref().unwrap();
        let bytes = std::fs::read(out_dir.join(name)).unwrap();
        assert_eq!(
            nagare_engine::runtime::outbox::sha256_hex(&bytes),
            e.sent_sha256.as_deref().unwrap(),
            "{name} is complete"
        );
    }
    eprintln!(
        "killed after {before} files ({sent_before} marked); the second run found {again} written and not marked"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&out_dir);
}
