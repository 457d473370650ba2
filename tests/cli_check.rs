//! End-to-end checks of `nagare check`: exit statuses, the JSON form and hostile input.

use std::process::Command;

fn nagare(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run nagare");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn clean_flows_exit_zero() {
    let (code, _, err) = nagare(&["check", "tests/flows/valid"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("checked 2 flow(s): no errors"), "{err}");
}

#[test]
fn problems_exit_one_and_json_lists_them() {
    let (code, out, _) = nagare(&[
        "check",
        "--format",
        "json",
        "tests/flows/invalid/flow_unknown_lane.yaml",
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    // Warnings (a handler this build lacks, FLOW0027) come in file order too.
    let first = json
        .as_array()
        .and_then(|all| all.iter().find(|d| d["severity"] == "error"))
        .expect("an error");
    assert_eq!(first["code"], "FLOW0002");
    assert_eq!(first["file"], "tests/flows/invalid/flow_unknown_lane.yaml");
    assert_eq!(first["line"], 104);
    assert_eq!(first["column"], 11);
    assert_eq!(first["help"], "did you mean `union`?");
}

#[test]
fn human_output_names_file_line_column_code_and_help() {
    let (code, _, err) = nagare(&["check", "tests/flows/invalid/yaml_unknown_field.yaml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("tests/flows/invalid/yaml_unknown_field.yaml:91:5: error[YAML0005]"),
        "{err}"
    );
    assert!(err.contains("help: did you mean `handler`?"), "{err}");
}

#[test]
fn unreadable_path_exits_two() {
    let (code, _, err) = nagare(&["check", "tests/flows/does-not-exist"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read tests/flows/does-not-exist"),
        "{err}"
    );
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it_whole() {
    let dir = std::env::temp_dir().join(format!("nagare-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.yaml");
    let line = "note: これは大きなファイルです\n";
    let mut text = String::with_capacity(50 * 1024 * 1024 + line.len());
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, text).unwrap();
    let (code, _, err) = nagare(&["check", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("YAML0002"), "{err}");
    assert!(err.contains("at most 4194304 bytes"), "{err}");
}
