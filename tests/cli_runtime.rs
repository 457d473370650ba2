//! The runtime commands end to end on a SQLite file: start, worker, items, item, history,
//! audit verify, retry, skip and their exit statuses.

#[path = "../engine/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const FLOW: &str = r#"id: "9.8"
title: 試験
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
  - { id: step_a, kind: system, lane: municipal_office, name: 処理A, handler: test.effect, next: check }
  - id: check
    kind: decision
    lane: municipal_office
    next:
      - { to: step_b, when: amount > 0 }
      - { to: finish, when: amount == 0 }
  - { id: step_b, kind: system, lane: municipal_office, name: 処理B, handler: test.noop, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

fn nagare(dir: &Path, args: &[&str]) -> Output {
    let db = format!("sqlite://{}", dir.join("nagare.db").display());
    Command::new(env!("CARGO_BIN_EXE_nagare"))
        .args(["--db", &db, "--flows"])
        .arg(dir.join("flows"))
        .args(["--as", "tanaka"])
        .args(args)
        .output()
        .expect("run nagare")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn runtime_commands_end_to_end() {
    let dir = support::TempDir::new();
    std::fs::create_dir_all(dir.0.join("flows")).unwrap();
    std::fs::write(dir.0.join("flows/9.8.yaml"), FLOW).unwrap();
    // The effect table of `--test-handlers`.
    let store = support::sqlite_store(&dir).await;
    support::exec(
        &*store,
        "CREATE TABLE test_effects (item_id BIGINT NOT NULL, node TEXT NOT NULL)",
    )
    .await;

    let ok = json(&nagare(
        &dir.0,
        &[
            "start",
            "9.8",
            "--subject",
            "insured:1",
            "--data",
            r#"{"amount": 5}"#,
            "--format",
            "json",
        ],
    ));
    let bad = json(&nagare(
        &dir.0,
        &[
            "start",
            "9.8",
            "--subject",
            "insured:2",
            "--data",
            r#"{"amount": -1}"#,
            "--format",
            "json",
        ],
    ));
    let (ok, bad) = (ok["id"].as_i64().unwrap(), bad["id"].as_i64().unwrap());

    let unknown = nagare(&dir.0, &["start", "1.1", "--subject", "x"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not registered"));
    let not_json = nagare(&dir.0, &["start", "9.8", "--subject", "x", "--data", "[1]"]);
    assert_eq!(not_json.status.code(), Some(2));

    assert!(
        nagare(&dir.0, &["worker", "--once", "--test-handlers"])
            .status
            .success()
    );

    let items = json(&nagare(&dir.0, &["items", "--format", "json"]));
    let states: Vec<(i64, &str)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(ok, "completed"), (bad, "failed")]);
    let failed = json(&nagare(
        &dir.0,
        &["item", &bad.to_string(), "--format", "json"],
    ));
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("no branch matched"),
        "{failed}"
    );

    let history = json(&nagare(
        &dir.0,
        &["history", &ok.to_string(), "--format", "json"],
    ));
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["started", "moved", "moved", "moved", "completed"]);
    assert_eq!(history[0]["actor"], "user:tanaka");
    assert_eq!(history[1]["prev_hash"], history[0]["hash"]);

    // Staff operations: a retry of a completed item cannot run; a skip needs a reason.
    let retry = nagare(&dir.0, &["retry", &ok.to_string()]);
    assert_eq!(retry.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&retry.stderr).contains("not failed"));
    assert_eq!(
        nagare(&dir.0, &["skip", &bad.to_string()]).status.code(),
        Some(2)
    );
    let skip = nagare(
        &dir.0,
        &["skip", &bad.to_string(), "--reason", "金額を確認した"],
    );
    assert_eq!(
        skip.status.code(),
        Some(2),
        "a decision without default cannot be skipped"
    );
    assert!(
        nagare(&dir.0, &["retry", &bad.to_string()])
            .status
            .success()
    );
    let after = json(&nagare(
        &dir.0,
        &["history", &bad.to_string(), "--format", "json"],
    ));
    assert_eq!(after.as_array().unwrap().last().unwrap()["kind"], "retried");

    let human = nagare(&dir.0, &["history", &ok.to_string()]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("start → step_a"));

    let audit = json(&nagare(&dir.0, &["audit", "verify", "--format", "json"]));
    assert_eq!(audit["problems"], Value::Array(Vec::new()));
    assert_eq!(audit["items"], 2);

    support::exec(&*store, "DROP TRIGGER transitions_no_update").await;
    support::exec(
        &*store,
        "UPDATE transitions SET actor = 'user:someone' WHERE seq = 1",
    )
    .await;
    let tampered = nagare(&dir.0, &["audit", "verify"]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&tampered.stdout).contains("edited"));
}
