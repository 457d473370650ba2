//! Data-driven tests over `tests/flows/{valid,invalid}`: valid flows check clean, and each
//! invalid case (a file, or a folder of files for cross-file checks) renders exactly the
//! diagnostics in its committed snapshot.

use std::path::{Path, PathBuf};

use nagare::report::render_human;
use nagare_engine::flow::check_sources;

fn sources(paths: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                files.push(e.unwrap().path());
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .collect()
}

fn entries(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn valid_flows_check_clean() {
    let outcome = check_sources(&sources(&entries("tests/flows/valid")));
    let rendered = render_human(&outcome.diagnostics, false);
    assert!(outcome.diagnostics.is_empty(), "{rendered}");
    assert_eq!(outcome.catalog.expect("catalog").len(), 2);
}

#[test]
fn invalid_cases_match_their_snapshots() {
    let cases = entries("tests/flows/invalid");
    assert!(
        cases.len() >= 30,
        "the corpus needs at least 30 invalid cases"
    );
    for case in cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let outcome = check_sources(&sources(std::slice::from_ref(&case)));
        assert!(
            !outcome.diagnostics.is_empty(),
            "{name}: an invalid case produced no diagnostic"
        );
        let mut text = render_human(&outcome.diagnostics, false);
        let codes: Vec<&str> = outcome.diagnostics.iter().map(|d| d.code).collect();
        text.insert_str(0, &format!("codes: {codes:?}\n\n"));
        insta::with_settings!({ snapshot_path => "flows/snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn every_code_has_an_error_page() {
    let mut missing = Vec::new();
    for case in entries("tests/flows/invalid") {
        let outcome = check_sources(&sources(std::slice::from_ref(&case)));
        for d in &outcome.diagnostics {
            if !Path::new(&format!("docs/errors/{}.md", d.code)).exists() {
                missing.push(d.code);
            }
        }
    }
    missing.sort_unstable();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "codes without docs/errors page: {missing:?}"
    );
}
