//! Views of flows: committed snapshots of the Mermaid, DOT and BPMN of
//! `tests/flows/valid/demand-small.yaml`; structural checks of every view of every flow
//! (the test corpus, the real flows under `flows/`, and a flow full of characters that need
//! escaping); the `graph`, `bpmn` and `flows` commands; and an independent BPMN
//! implementation (npm `bpmn-moddle` and `bpmn-engine`, `tests/bpmn/validate.mjs`) reading
//! every exported flow.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nagare::cli::check::read_flow_sources;
use nagare::report::render_human;
use nagare::views;
use nagare_engine::flow::{Catalog, Flow, NodeKind, check_sources};

/// A flow whose every text needs escaping in every format: quotes, `<`, `>`, `&`, `#`,
/// Mermaid's `%%{…}%%` and `style …:#…;`, Graphviz's `\N`, backticks, pipes, newlines.
const HOSTILE: &str = r#"
id: "9.9"
title: "記号\"試験\" <&> #1; %%{init: {}}%%"
category: "9.試験 & <検証>"
pages: [1]
version: 1
note: "a\\b\nc"
lanes:
  - id: office
    title: "課 \"A\" <B> & C"
    kind: staff
    role: municipal_office
  - id: other
    title: "style: #fff; `x` | y"
    kind: external
documents:
  - id: doc
    title: "通知書<&\">"
    kind: notice
nodes:
  - id: start
    kind: start
    lane: office
    next: step_a
  - id: step_a
    kind: system
    lane: office
    step: "010"
    name: "抽出 \"X\" & <Y> #35; %%{init}%% \\N end]]>"
    requirements: ["1.2.3"]
    handler: test.step_a
    next: choose
  - id: choose
    kind: decision
    lane: office
    name: "分岐 a<b & c>d"
    next:
      - to: send_doc
        label: "あり \"1\" & <2>"
        when: 'kind == "a&b" and n < 3'
      - to: end
        label: "なし|x: y;"
        default: true
  - id: send_doc
    kind: send
    lane: other
    name: "送付\n（改行）"
    to: office
    document: doc
    next: end
  - id: end
    kind: end
    lane: office
"#;

/// Checks the flows and returns the catalog, failing the test with the diagnostics if any
/// flow has errors.
fn checked(sources: &[(String, Vec<u8>)], what: &str) -> Catalog {
    let outcome = check_sources(sources);
    let rendered = render_human(&outcome.diagnostics, false);
    match outcome.catalog {
        Some(catalog) if !outcome.has_errors() => catalog,
        _ => panic!("{what} have errors, so they cannot be viewed:\n{rendered}"),
    }
}

fn corpus() -> Catalog {
    let sources = read_flow_sources(&[PathBuf::from("tests/flows/valid")]).expect("corpus");
    checked(&sources, "tests/flows/valid")
}

/// The real flows under `flows/`, when there are any (a fresh worktree may have none yet).
fn real_flows() -> Option<Catalog> {
    let dir = Path::new("flows");
    if !dir.is_dir() {
        return None;
    }
    let sources = read_flow_sources(&[dir.to_path_buf()]).ok()?;
    Some(checked(&sources, "the flows under flows/"))
}

fn hostile() -> Catalog {
    checked(
        &[("hostile.yaml".to_owned(), HOSTILE.as_bytes().to_vec())],
        "the hostile flow",
    )
}

/// Every flow the views must handle, with a name for messages and file names.
fn every_flow() -> Vec<(String, std::sync::Arc<Flow>)> {
    let mut all = Vec::new();
    for (origin, catalog) in [
        ("valid", Some(corpus())),
        ("flows", real_flows()),
        ("hostile", Some(hostile())),
    ] {
        for flow in catalog.iter().flat_map(Catalog::flows) {
            all.push((format!("{origin}-{}", flow.id.value), flow.clone()));
        }
    }
    all
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "views/snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn demand_small_mermaid_matches_its_snapshot() {
    let catalog = corpus();
    snapshot(
        "demand_small_mermaid",
        &views::mermaid::render(catalog.get("9.1").unwrap()),
    );
}

#[test]
fn demand_small_dot_matches_its_snapshot() {
    let catalog = corpus();
    snapshot(
        "demand_small_dot",
        &views::dot::render(catalog.get("9.1").unwrap()),
    );
}

#[test]
fn demand_small_bpmn_matches_its_snapshot() {
    let catalog = corpus();
    snapshot(
        "demand_small_bpmn",
        &views::bpmn::render(catalog.get("9.1").unwrap()),
    );
}

#[test]
fn mermaid_has_every_lane_node_and_arrow() {
    for (name, flow) in every_flow() {
        let text = views::mermaid::render(&flow);
        assert!(text.contains("flowchart LR\n"), "{name}");
        for lane in &flow.lanes {
            assert!(
                text.contains(&format!("  subgraph lane_{}[\"", lane.id.value)),
                "{name}: lane {} has no subgraph",
                lane.id.value
            );
        }
        for node in &flow.nodes {
            let defined = text.lines().any(|l| {
                l.trim_start().starts_with(&format!("n_{}", node.id.value)) && l.contains('"')
            });
            assert!(defined, "{name}: node {} is not drawn", node.id.value);
        }
        let arrows = text
            .lines()
            .filter(|l| l.contains("-->") || l.contains("-.->"))
            .count();
        let edges: usize = flow.nodes.iter().map(|n| n.next.len()).sum();
        assert_eq!(arrows, edges, "{name}: one arrow per edge");
        // Every label is one quoted string: the only `"` are the ones the renderer wrote.
        for line in text.lines().skip(3) {
            let quotes = line.matches('"').count();
            assert!(
                quotes == 0 || quotes == 2,
                "{name}: unbalanced quotes in {line:?}"
            );
        }
    }
}

#[test]
fn dot_has_every_lane_node_and_arrow() {
    for (name, flow) in every_flow() {
        let text = views::dot::render(&flow);
        assert!(text.starts_with("digraph "), "{name}");
        for lane in &flow.lanes {
            assert!(
                text.contains(&format!("subgraph \"cluster_{}\" {{", lane.id.value)),
                "{name}: lane {} has no cluster",
                lane.id.value
            );
        }
        for node in &flow.nodes {
            assert!(
                text.contains(&format!("    \"{}\" [shape=", node.id.value)),
                "{name}: node {} is not drawn",
                node.id.value
            );
        }
        let arrows = text.lines().filter(|l| l.contains("\" -> \"")).count();
        let edges: usize = flow.nodes.iter().map(|n| n.next.len()).sum();
        assert_eq!(arrows, edges, "{name}: one arrow per edge");
        // Every quoted string closes on its own line: no quote or newline escaped wrongly.
        for line in text.lines() {
            let (mut quoted, mut escaped) = (false, false);
            for c in line.chars() {
                match (quoted, escaped, c) {
                    (true, false, '\\') => escaped = true,
                    (_, false, '"') => quoted = !quoted,
                    _ => escaped = false,
                }
            }
            assert!(!quoted, "{name}: unterminated string in {line:?}");
        }
    }
}

/// The BPMN element each node kind must export as.
fn bpmn_tag(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Start => "startEvent",
        NodeKind::End => "endEvent",
        NodeKind::System { .. } => "serviceTask",
        NodeKind::Manual { .. } => "userTask",
        NodeKind::Decision => "exclusiveGateway",
        NodeKind::Parallel | NodeKind::Join => "parallelGateway",
        NodeKind::Receive { .. } => "receiveTask",
        NodeKind::Send { .. } => "sendTask",
        NodeKind::Call { .. } => "callActivity",
        NodeKind::OutOfScope { .. } | NodeKind::Invalid => "task",
        NodeKind::Timer { .. } => "intermediateCatchEvent",
    }
}

const BPMN: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const BPMNDI: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
const DC: &str = "http://www.omg.org/spec/DD/20100524/DC";

#[derive(Clone, Copy, Debug)]
struct Bounds {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Bounds {
    fn contains(self, other: Self) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w
            && other.y + other.h <= self.y + self.h
    }
}

#[test]
fn bpmn_has_every_lane_node_flow_and_their_diagram() {
    for (name, flow) in every_flow() {
        let xml = views::bpmn::render(&flow);
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{name}: the BPMN is not well-formed XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(BPMN), "{name}");
        assert_eq!(root.tag_name().name(), "definitions", "{name}");
        let by_id: HashMap<&str, roxmltree::Node> = doc
            .descendants()
            .filter_map(|n| n.attribute("id").map(|id| (id, n)))
            .collect();
        let elements = |ns: &'static str, tag: &'static str| {
            doc.descendants()
                .filter(move |n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == tag)
        };
        let mut shapes: HashMap<&str, Bounds> = HashMap::new();
        for shape in elements(BPMNDI, "BPMNShape") {
            let b = shape
                .children()
                .find(|c| c.tag_name().namespace() == Some(DC) && c.tag_name().name() == "Bounds")
                .unwrap_or_else(|| panic!("{name}: a shape without bounds"));
            let num = |a: &str| b.attribute(a).unwrap().parse::<f64>().unwrap();
            shapes.insert(
                shape.attribute("bpmnElement").unwrap(),
                Bounds {
                    x: num("x"),
                    y: num("y"),
                    w: num("width"),
                    h: num("height"),
                },
            );
        }

        // One pool, drawn, holding the process.
        let participant = elements(BPMN, "participant").next().expect("participant");
        let pool = shapes[participant.attribute("id").unwrap()];
        let process = elements(BPMN, "process").next().expect("process");
        assert_eq!(participant.attribute("processRef"), process.attribute("id"));

        // Lanes: one per flow lane, in declaration order, stacked top to bottom in the pool.
        let lanes: Vec<roxmltree::Node> = elements(BPMN, "lane").collect();
        assert_eq!(
            lanes.len(),
            flow.lanes.len(),
            "{name}: one lane element per lane"
        );
        let mut last_bottom = pool.y;
        for (lane, element) in flow.lanes.iter().zip(&lanes) {
            assert_eq!(
                element.attribute("name"),
                Some(lane.title.as_str()),
                "{name}"
            );
            let b = shapes[element.attribute("id").unwrap()];
            assert!(
                pool.contains(b),
                "{name}: lane {} outside the pool",
                lane.id.value
            );
            assert_eq!(b.y, last_bottom, "{name}: lanes stack in order");
            last_bottom = b.y + b.h;
        }
        assert_eq!(
            last_bottom,
            pool.y + pool.h,
            "{name}: the lanes fill the pool"
        );

        // Nodes: the right element, named, in its lane's flowNodeRef and drawn inside it.
        for node in &flow.nodes {
            let id = format!("Node_{}", node.id.value);
            let element = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{name}: node {} is not exported", node.id.value));
            assert_eq!(
                element.tag_name().name(),
                bpmn_tag(&node.kind),
                "{name}: {id}"
            );
            if let Some(node_name) = &node.name {
                assert!(
                    element
                        .attribute("name")
                        .unwrap_or("")
                        .contains(node_name.as_str()),
                    "{name}: {id} is not named {node_name:?}"
                );
            }
            let lane_index = flow
                .lanes
                .iter()
                .position(|l| l.id.value == node.lane.value)
                .unwrap();
            let refs: Vec<&str> = lanes[lane_index]
                .children()
                .filter(|c| c.tag_name().name() == "flowNodeRef")
                .filter_map(|c| c.text())
                .collect();
            assert!(
                refs.contains(&id.as_str()),
                "{name}: {id} is not in its lane"
            );
            let shape = shapes
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{name}: {id} has no BPMNShape"));
            let lane_shape = shapes[lanes[lane_index].attribute("id").unwrap()];
            assert!(
                lane_shape.contains(*shape),
                "{name}: {id} is drawn outside its lane"
            );
            let documentation = element
                .children()
                .find(|c| c.tag_name().name() == "documentation")
                .and_then(|c| c.text())
                .unwrap_or("");
            if let Some(step) = &node.step {
                assert!(
                    documentation.contains(&step.value),
                    "{name}: {id} lacks its step"
                );
            }
            for r in &node.requirements {
                assert!(
                    documentation.contains(&r.value),
                    "{name}: {id} lacks {}",
                    r.value
                );
            }
            match &node.kind {
                NodeKind::Call { flow: called, .. } => assert_eq!(
                    element.attribute("calledElement"),
                    Some(views::bpmn::process_id(&called.value).as_str()),
                    "{name}: {id}"
                ),
                NodeKind::Timer { .. } => assert!(
                    element
                        .children()
                        .any(|c| c.tag_name().name() == "timerEventDefinition"),
                    "{name}: {id} has no timer definition"
                ),
                _ => {}
            }
        }
        assert_eq!(
            shapes.len(),
            1 + flow.lanes.len() + flow.nodes.len(),
            "{name}: a shape for the pool, every lane and every node, nothing else"
        );

        // Sequence flows: one per edge, named by the label, with conditions and defaults,
        // each drawn with at least two waypoints.
        let flows: Vec<roxmltree::Node> = elements(BPMN, "sequenceFlow").collect();
        let edges: usize = flow.nodes.iter().map(|n| n.next.len()).sum();
        assert_eq!(flows.len(), edges, "{name}: one sequenceFlow per edge");
        let mut flows = flows.into_iter();
        for node in &flow.nodes {
            let gateway = by_id[format!("Node_{}", node.id.value).as_str()];
            for edge in &node.next {
                let f = flows.next().unwrap();
                let fid = f.attribute("id").unwrap();
                assert_eq!(
                    f.attribute("targetRef"),
                    Some(format!("Node_{}", edge.to.value).as_str()),
                    "{name}: {fid}"
                );
                assert_eq!(f.attribute("name"), edge.label.as_deref(), "{name}: {fid}");
                let condition = f
                    .children()
                    .find(|c| c.tag_name().name() == "conditionExpression")
                    .and_then(|c| c.text());
                assert_eq!(
                    condition,
                    edge.when.as_ref().map(|w| w.value.as_str()),
                    "{name}: {fid}"
                );
                if edge.default {
                    assert_eq!(gateway.attribute("default"), Some(fid), "{name}: {fid}");
                }
                let drawn = elements(BPMNDI, "BPMNEdge")
                    .find(|e| e.attribute("bpmnElement") == Some(fid))
                    .unwrap_or_else(|| panic!("{name}: {fid} has no BPMNEdge"));
                let waypoints = drawn
                    .children()
                    .filter(|c| c.tag_name().name() == "waypoint")
                    .count();
                assert!(waypoints >= 2, "{name}: {fid} has {waypoints} waypoint(s)");
            }
        }
    }
}

#[test]
fn bpmn_keeps_every_character_of_hostile_text() {
    let catalog = hostile();
    let flow = catalog.get("9.9").unwrap();
    let xml = views::bpmn::render(flow);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let named = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .and_then(|n| n.attribute("name"))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        named("Node_step_a"),
        "抽出 \"X\" & <Y> #35; %%{init}%% \\N end]]>"
    );
    assert_eq!(named("Lane_office"), "課 \"A\" <B> & C");
    assert_eq!(named("Node_send_doc"), "送付\n（改行）（通知書<&\">）");
    assert_eq!(named("Flow_choose_send_doc"), "あり \"1\" & <2>");
    let condition = doc
        .descendants()
        .find(|n| n.tag_name().name() == "conditionExpression")
        .and_then(|n| n.text());
    assert_eq!(condition, Some("kind == \"a&b\" and n < 3"));
}

#[test]
fn dot_and_mermaid_escape_hostile_text() {
    let catalog = hostile();
    let flow = catalog.get("9.9").unwrap();
    let dot = views::dot::render(flow);
    assert!(
        dot.contains(r#"label="010 抽出 \"X\" &amp; <Y> #35; %%{init}%% \\N end]]>\n要件 1.2.3""#)
    );
    assert!(dot.contains(r#"label="送付\n（改行）\n通知書<&amp;\"> → 課 \"A\" <B> &amp; C""#));
    let mermaid = views::mermaid::render(flow);
    assert!(mermaid.contains(
        "n_step_a[\"010 抽出 #34;X#34; #38; #60;Y#62; #35;35#59; #37;#37;{init}#37;#37; #92;N end]]#62;<br/>要件 1.2.3\"]"
    ));
    assert!(mermaid.contains("title: \"9.9 記号\\\"試験\\\" ＜＆＞ #1; %%{init: {}}%%\"\n"));
    assert!(mermaid.contains("subgraph lane_other[\"style#58; #35;fff#59; #96;x#96; #124; y\"]"));
}

#[test]
fn flows_summary_counts_kinds_steps_and_requirements() {
    let catalog = corpus();
    let s = views::summary(catalog.get("9.1").unwrap());
    assert_eq!(s.nodes, 15);
    assert_eq!(s.node_counts.get("system"), 2);
    assert_eq!(s.node_counts.get("timer"), 2);
    assert_eq!(s.node_counts.0.len(), NodeKind::NAMES.len());
    assert_eq!(s.steps, 2);
    assert_eq!(s.requirements, ["4.7.1", "4.7.2", "4.7.3"]);
    assert_eq!(s.calls, ["9.2"]);
    assert_eq!(s.lanes.len(), 4);
    assert_eq!(s.lanes[1].role.as_deref(), Some("municipal_office"));
}

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
fn graph_and_bpmn_commands_print_the_views() {
    let catalog = corpus();
    let flow = catalog.get("9.1").unwrap();
    let (code, out, err) = nagare(&["graph", "9.1", "--flows", "tests/flows/valid"]);
    assert_eq!(
        (code, out.as_str()),
        (0, views::mermaid::render(flow).as_str()),
        "{err}"
    );
    let (code, out, err) = nagare(&[
        "graph",
        "9.1",
        "--format",
        "dot",
        "--flows",
        "tests/flows/valid",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (0, views::dot::render(flow).as_str()),
        "{err}"
    );
    let (code, out, err) = nagare(&["bpmn", "9.1", "--flows", "tests/flows/valid"]);
    assert_eq!(
        (code, out.as_str()),
        (0, views::bpmn::render(flow).as_str()),
        "{err}"
    );
}

#[test]
fn flows_command_lists_the_flows_as_json_and_text() {
    let (code, out, err) = nagare(&["flows", "--format", "json", "--flows", "tests/flows/valid"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], "9.1");
    assert_eq!(list[0]["title"], "督促（試験用）");
    assert_eq!(list[0]["category"], "9.試験");
    assert_eq!(list[0]["version"], 1);
    assert_eq!(list[0]["node_counts"]["decision"], 2);
    assert_eq!(list[0]["node_counts"]["manual"], 1);
    assert_eq!(list[0]["steps"], 2);
    assert_eq!(
        list[0]["requirements"],
        serde_json::json!(["4.7.1", "4.7.2", "4.7.3"])
    );
    assert_eq!(list[0]["lanes"][0]["title"], "住民");
    assert_eq!(list[1]["id"], "9.2");

    let (code, out, err) = nagare(&["flows", "--flows", "tests/flows/valid"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("9.1  督促（試験用）  [9.試験]  v1"),
        "{out}"
    );
    assert!(
        out.contains("    requirements: 4.7.1, 4.7.2, 4.7.3\n"),
        "{out}"
    );
    assert!(out.ends_with("2 flow(s)\n"), "{out}");
}

#[test]
fn unknown_flow_id_says_which_was_meant() {
    let (code, out, err) = nagare(&["graph", "9.3", "--flows", "tests/flows/valid"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("error: no flow with id `9.3` under tests/flows/valid"),
        "{err}"
    );
    assert!(err.contains("did you mean `9.1`?"), "{err}");

    let (code, _, err) = nagare(&["bpmn", "督促", "--flows", "tests/flows/valid"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean `9.1` (督促（試験用）)?"),
        "{err}"
    );

    let (code, _, err) = nagare(&["bpmn", "9-2", "--flows", "tests/flows/valid"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `9.2`"), "{err}");
}

#[test]
fn flows_with_errors_are_reported_not_drawn() {
    let (code, out, err) = nagare(&[
        "graph",
        "9.1",
        "--flows",
        "tests/flows/invalid/flow_no_start.yaml",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("FLOW0006"), "{err}");
    assert!(err.contains("fix the flows before viewing them"), "{err}");

    let (code, _, err) = nagare(&["flows", "--flows", "tests/no-such-folder"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read tests/no-such-folder"), "{err}");
}

/// Exports every flow to BPMN files and has `tests/bpmn/validate.mjs` read them with
/// bpmn-moddle and bpmn-engine. CI installs them with `npm ci --prefix tests/bpmn`.
#[test]
fn an_independent_bpmn_implementation_reads_every_exported_flow() {
    let checker = Path::new("tests/bpmn");
    assert!(
        checker.join("node_modules/bpmn-moddle").is_dir()
            && checker.join("node_modules/bpmn-engine").is_dir(),
        "the BPMN checkers are not installed; run `npm ci --prefix tests/bpmn` first"
    );
    let dir = std::env::temp_dir().join(format!("nagare-views-bpmn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, flow) in every_flow() {
        let path = dir.join(format!("{name}.bpmn"));
        std::fs::write(&path, views::bpmn::render(&flow)).unwrap();
        files.push(path);
    }
    let output = Command::new("node")
        .arg(checker.join("validate.mjs"))
        .args(&files)
        .output()
        .expect("run node (Node.js is needed for the BPMN check)");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bpmn-moddle / bpmn-engine rejected exported flows:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", files.len())),
        "{stdout}"
    );
}
