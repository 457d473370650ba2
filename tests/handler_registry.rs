//! `flows/` and the handler registry of the binary stay in step.
//!
//! Most system steps of the national standard's flows have no handler yet; the set of
//! those that do not is committed in `tests/data/unregistered_handlers.txt`, so this test
//! fails when a handler is registered without the list being updated, when a flow names a
//! handler nobody has written (or misspells one), and when a registered handler is named
//! by no flow. Update the list with
//! `cargo run -q -- reqs --unregistered > tests/data/unregistered_handlers.txt`.

use std::collections::BTreeSet;
use std::process::Command;

use nagare::cli::check::read_flow_sources;
use nagare::traceability::{UNREGISTERED_HEADER, handler_names, unregistered_list};
use nagare_engine::flow::{Catalog, NodeKind, check_sources, codes};

const LIST: &str = "tests/data/unregistered_handlers.txt";

fn flows() -> Catalog {
    let sources = read_flow_sources(&["flows".into()]).expect("read flows/");
    check_sources(&sources).catalog.expect("flows/ checks")
}

fn expected() -> BTreeSet<String> {
    std::fs::read_to_string(LIST)
        .unwrap_or_else(|e| panic!("read {LIST}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn unregistered_handlers_are_exactly_the_committed_list() {
    let registry = nagare::handlers::registry();
    let used = handler_names(&flows());
    let unregistered: BTreeSet<String> = used
        .iter()
        .filter(|n| !registry.contains(n))
        .cloned()
        .collect();
    let expected = expected();
    let now_registered: Vec<&String> = expected.difference(&unregistered).collect();
    let new_unknown: Vec<&String> = unregistered.difference(&expected).collect();
    assert!(
        now_registered.is_empty() && new_unknown.is_empty(),
        "{LIST} is out of step with flows/ and the registry.\n\
         listed but registered now (or no longer named by a flow): {now_registered:?}\n\
         named by a flow but neither registered nor listed (a new step, or a misspelt name): {new_unknown:?}\n\
         regenerate the list and review the diff: cargo run -q -- reqs --unregistered > {LIST}"
    );
    assert!(
        !unregistered.is_empty() || expected.is_empty(),
        "every handler is registered: empty {LIST}"
    );
}

#[test]
fn every_registered_handler_is_named_by_a_flow() {
    let used = handler_names(&flows());
    let registry = nagare::handlers::registry();
    let unused: Vec<&str> = registry.names().filter(|n| !used.contains(*n)).collect();
    assert!(
        unused.is_empty(),
        "registered handlers no flow names (renamed step, or a typo in the registry): {unused:?}"
    );
}

#[test]
fn the_list_is_what_reqs_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
        .args(["reqs", "--unregistered"])
        .output()
        .expect("run nagare");
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(printed.starts_with(UNREGISTERED_HEADER), "{printed}");
    let registry = nagare::handlers::registry();
    assert_eq!(
        printed,
        unregistered_list(&flows(), &|n| registry.contains(n))
    );
    // The committed file is byte for byte what the command prints, so the update
    // command leaves no diff behind when nothing changed.
    assert_eq!(
        std::fs::read_to_string(LIST).expect("read list"),
        printed,
        "{LIST} differs from `nagare reqs --unregistered`"
    );
}

/// `nagare check flows` warns once per system node whose handler is not registered, with
/// the stable code; `--strict` turns those warnings into exit status 1.
#[test]
fn check_warns_about_each_unregistered_step_and_strict_fails() {
    let registry = nagare::handlers::registry();
    let nodes = flows()
        .flows()
        .flat_map(|f| f.nodes.iter())
        .filter(|n| matches!(&n.kind, NodeKind::System { handler, .. } if !registry.contains(&handler.value)))
        .count();
    assert!(nodes > 0);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run nagare");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["check", "--format", "json", "flows"]);
    assert_eq!(code, Some(0), "warnings alone do not fail the check");
    let diags: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    let warned = diags
        .iter()
        .filter(|d| d["code"] == codes::UNREGISTERED_HANDLER && d["severity"] == "warning")
        .count();
    assert_eq!(warned, nodes);
    assert!(
        diags.iter().all(|d| d["severity"] == "warning"),
        "flows/ has only warnings"
    );

    let (code, _, err) = run(&["check", "--strict", "flows"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("warning[FLOW0027]"), "{err}");
    assert!(err.contains("--strict: warnings count as errors"), "{err}");
    assert!(
        err.contains("help: a work item that reaches this step fails"),
        "{err}"
    );
}

/// A flow whose handlers are all registered passes `--strict`; one misspelt name fails it
/// with a suggestion.
#[test]
fn strict_passes_a_clean_flow_and_suggests_the_registered_name() {
    let dir = std::env::temp_dir().join(format!("nagare-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flow = std::fs::read_to_string("flows/4.7-demand.yaml").unwrap();
    let registry = nagare::handlers::registry();
    let names: Vec<&str> = registry.names().collect();
    // 4.7 is one of the flows whose handlers are written.
    let catalog = check_sources(&[("4.7.yaml".into(), flow.clone().into_bytes())])
        .catalog
        .expect("4.7 checks");
    for name in handler_names(&catalog) {
        assert!(
            names.contains(&name.as_str()),
            "4.7 uses unregistered {name}"
        );
    }
    let clean = dir.join("4.7.yaml");
    std::fs::write(&clean, &flow).unwrap();
    let status = |path: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_nagare"))
            .args(["check", "--strict"])
            .arg(path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run nagare");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = status(&clean);
    assert_eq!(code, Some(0), "{err}");
    let typo = flow.replacen(
        "handler: demand.create_letters",
        "handler: demand.create_leters",
        1,
    );
    assert_ne!(typo, flow);
    let broken = dir.join("4.7-typo.yaml");
    std::fs::write(&broken, typo).unwrap();
    let (code, err) = status(&broken);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("warning[FLOW0027]"), "{err}");
    assert!(
        err.contains("help: did you mean `demand.create_letters`?"),
        "{err}"
    );
}
