//! The flows under `flows/` hold exactly the numbered steps of the seed document, each with
//! all the requirement IDs of its 【対応する機能要件】 lines, and check without any diagnostic.
//!
//! The expectation is read from the seed text itself (`tests/data/seed_business_flows.txt`),
//! not from a hand-written list, so a step missing from a flow file cannot go unnoticed.

use std::collections::{BTreeMap, BTreeSet};

use nagare_engine::flow::check_sources;
use regex::Regex;

type Steps = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Expands `4.5.2.～4.5.5.` into 4.5.2 … 4.5.5 and collects plain IDs such as `3.4.7.`.
fn requirement_ids(text: &str) -> BTreeSet<String> {
    let range = Regex::new(r"(\d+)\.(\d+)\.(\d+)\.?\s*～\s*(\d+)\.(\d+)\.(\d+)\.?").unwrap();
    let single = Regex::new(r"(\d+)\.(\d+)\.(\d+)\.").unwrap();
    let mut ids = BTreeSet::new();
    let mut rest = text.to_owned();
    for c in range.captures_iter(text) {
        let (a, b, from, to): (u32, u32, u32, u32) = (
            c[1].parse().unwrap(),
            c[2].parse().unwrap(),
            c[3].parse().unwrap(),
            c[6].parse().unwrap(),
        );
        for n in from..=to {
            ids.insert(format!("{a}.{b}.{n}"));
        }
        rest = rest.replace(&c[0], " ");
    }
    for c in single.captures_iter(&rest) {
        ids.insert(format!("{}.{}.{}", &c[1], &c[2], &c[3]));
    }
    ids
}

/// Reads, page by page, the numbered steps and requirement IDs of every flow of the seed.
fn seed_steps() -> Steps {
    let text = std::fs::read_to_string("tests/data/seed_business_flows.txt").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let entry = Regex::new(r"(?m)^(\d{3}) ([^\n⇔]+?)\s*⇔\s*([^\n]+)").unwrap();
    let bare = Regex::new(r"(?m)^(\d{3})\s+(\d+\.\d+\.\d+\.)\s*$").unwrap();
    let footer_flow = Regex::new(r"小分類\S+ (\d\.\d)\.").unwrap();
    let flow_line = Regex::new(r"^(\d\.\d)\.\S").unwrap();
    let mut steps = Steps::new();
    let mut page = String::new();
    for (i, line) in lines.iter().enumerate() {
        // A page's text ends with its footer; 3.2's footer lost its words in extraction.
        let flow = if line.starts_with("区分 後期高齢者医療") {
            footer_flow
                .captures(line)
                .map(|c| c[1].to_owned())
                .or_else(|| {
                    lines[i + 1..]
                        .iter()
                        .find(|l| !l.trim().is_empty())
                        .and_then(|l| flow_line.captures(l))
                        .map(|c| c[1].to_owned())
                })
        } else if line.trim() == "3. 3.2." {
            Some("3.2".to_owned())
        } else {
            page.push_str(line);
            page.push('\n');
            continue;
        };
        let flow = flow.unwrap_or_else(|| panic!("line {}: footer without a flow id", i + 1));
        let found = steps.entry(flow).or_default();
        for c in entry.captures_iter(&page).chain(bare.captures_iter(&page)) {
            let ids = requirement_ids(c.get(3).map_or(&c[2], |m| m.as_str()));
            found.entry(c[1].to_owned()).or_default().extend(ids);
        }
        page.clear();
    }
    steps
}

fn flow_steps() -> Steps {
    let mut sources = Vec::new();
    for e in std::fs::read_dir("flows").expect("flows/ exists") {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            sources.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    sources.sort();
    let outcome = check_sources(&sources);
    assert!(
        outcome.diagnostics.is_empty(),
        "nagare check flows/ must report nothing:\n{}",
        nagare::report::render_human(&outcome.diagnostics, false)
    );
    let catalog = outcome.catalog.unwrap();
    let mut steps = Steps::new();
    for flow in catalog.flows() {
        let found = steps.entry(flow.id.value.clone()).or_default();
        for node in &flow.nodes {
            if let Some(step) = &node.step {
                found
                    .entry(step.value.clone())
                    .or_default()
                    .extend(node.requirements.iter().map(|r| r.value.clone()));
            }
        }
    }
    steps
}

#[test]
fn the_seed_parser_reads_known_pages() {
    let seed = seed_steps();
    // Spot checks against the seed as a person reads it.
    assert_eq!(seed["3.4"]["010"], BTreeSet::from(["3.4.7".to_owned()]));
    assert_eq!(
        seed["4.5"]["002"],
        ["4.5.2", "4.5.3", "4.5.4", "4.5.5", "4.5.10", "4.5.11"]
            .map(str::to_owned)
            .into()
    );
    assert_eq!(seed["3.2"].len(), 7);
    assert_eq!(seed["1.1"].len(), 5);
}

#[test]
fn flows_hold_exactly_the_numbered_steps_of_the_seed() {
    let seed = seed_steps();
    let flows = flow_steps();
    let expected_ids = [
        "1.1", "2.1", "2.2", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "4.2", "4.3",
        "4.4", "4.5", "4.6", "4.7", "5.2", "5.3",
    ];
    let have: Vec<&str> = flows.keys().map(String::as_str).collect();
    assert_eq!(have, expected_ids, "the 19 flows of the seed");
    let mut problems = Vec::new();
    for id in expected_ids {
        let want = seed.get(id).cloned().unwrap_or_default();
        let got = &flows[id];
        if want.len() != got.len() {
            problems.push(format!(
                "{id}: seed has {} numbered steps, the flow {}",
                want.len(),
                got.len()
            ));
        }
        for (step, ids) in &want {
            match got.get(step) {
                None => problems.push(format!("{id}: step {step} is missing")),
                Some(g) if g != ids => {
                    problems.push(format!("{id}: step {step} has {g:?}, the seed {ids:?}"));
                }
                Some(_) => {}
            }
        }
        for step in got.keys().filter(|s| !want.contains_key(*s)) {
            problems.push(format!("{id}: step {step} is not in the seed"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
