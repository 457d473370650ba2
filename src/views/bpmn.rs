//! The flow as BPMN 2.0 XML, with diagram interchange (BPMNDI) so that bpmn.io or Camunda
//! Modeler opens it laid out.
//!
//! Mapping: the flow is one process in one pool (participant) whose lanes are the flow's
//! lanes, in declaration order. `start`/`end` → start and end events, `system` →
//! `serviceTask`, `manual` → `userTask`, `decision` → `exclusiveGateway` (its `default`
//! names the default branch, the other branches carry a `conditionExpression`), `parallel`
//! and `join` → `parallelGateway`, `receive`/`send` → `receiveTask`/`sendTask`, `call` →
//! `callActivity` whose `calledElement` is the process id the called flow exports as,
//! `out_of_scope` → plain `task` (done by another system, not executed), `timer` →
//! `intermediateCatchEvent` with a `timerEventDefinition`. Step numbers, requirement IDs and
//! the rest of what the flow says go in `documentation` for people and in
//! `extensionElements` (namespace [`NAGARE_NS`]) for programs.
//!
//! Layout: x is the node's longest-path layer from the start (arrows marked `loop` ignored),
//! y is its lane; nodes of the same layer and lane are stacked, ordered by where their
//! predecessors are, to keep arrows short. Arrows are drawn with right angles; an arrow whose
//! direct path would cross a shape, and every arrow that goes back, runs along a row
//! boundary (a corridor no shape touches), on its own track when another arrow is there.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use nagare_engine::flow::{DateBase, DateRule, Edge, Flow, Node, NodeKind, PeriodUnit};

use super::{describe_rule, document_title, lane_title, layers, system_title};

/// The namespace of nagare's extension elements.
pub const NAGARE_NS: &str = "https://nagare.invalid/bpmn/1";

/// The expression language of conditions (see docs/flow-format.md, *Conditions*).
const CONDITION_LANGUAGE: &str = "https://docs.rs/minijinja";

// Layout, in BPMN diagram units (pixels in bpmn.io).
const POOL_X: i64 = 160;
const POOL_Y: i64 = 80;
/// The pool's and each lane's title band on the left.
const HEADER: i64 = 30;
/// Space between the lane's title band and the first column.
const MARGIN: i64 = 40;
/// The widest shape (a task); every column is centred on this width.
const SLOT_W: i64 = 100;
/// Column pitch: a task plus room for a branch label on the arrow.
const COL_W: i64 = 170;
/// Row pitch inside a lane: a task plus room for an event's or gateway's name below it.
const ROW_H: i64 = 120;
/// Space above the first and below the last row of a lane.
const LANE_PAD: i64 = 15;

/// Returns the id of the `process` element a flow exports as; a `callActivity` of another
/// flow names it in `calledElement`, so the exported files refer to each other.
pub fn process_id(flow_id: &str) -> String {
    format!("Process_{}", ncname(flow_id))
}

/// Renders the flow as a BPMN 2.0 `definitions` document with its diagram.
pub fn render(flow: &Flow) -> String {
    let ids = Ids::new(flow);
    let mut layout = Layout::new(flow, &ids);
    let mut x = Xml::default();

    x.line(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.open(&format!(
        r#"bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:nagare="{NAGARE_NS}" id="{}" targetNamespace="{}" expressionLanguage="{CONDITION_LANGUAGE}" exporter="nagare" exporterVersion="{}""#,
        attr(&ids.definitions),
        attr(&format!("urn:nagare:flow:{}", flow.id.value)),
        env!("CARGO_PKG_VERSION"),
    ));

    x.open(&format!(
        r#"bpmn:collaboration id="{}""#,
        attr(&ids.collaboration)
    ));
    x.empty(&format!(
        r#"bpmn:participant id="{}" name="{}" processRef="{}""#,
        attr(&ids.participant),
        attr(&format!("{} {}", flow.id.value, flow.title)),
        attr(&ids.process)
    ));
    x.close("bpmn:collaboration");

    x.open(&format!(
        r#"bpmn:process id="{}" name="{}" isExecutable="false""#,
        attr(&ids.process),
        attr(&flow.title)
    ));
    let mut doc = vec![format!("分類 {}", flow.category)];
    if !flow.pages.is_empty() {
        let pages: Vec<String> = flow.pages.iter().map(u32::to_string).collect();
        doc.push(format!("別紙1 p.{}", pages.join(", ")));
    }
    doc.push(format!("版 {}", flow.version));
    doc.extend(flow.note.clone());
    x.documentation(&doc);
    x.open("bpmn:extensionElements");
    x.empty(&format!(
        r#"nagare:flow id="{}" version="{}" category="{}" file="{}" contentHash="{}""#,
        attr(&flow.id.value),
        flow.version,
        attr(&flow.category),
        attr(flow.file.path()),
        attr(&flow.content_hash)
    ));
    x.close("bpmn:extensionElements");

    x.open(&format!(r#"bpmn:laneSet id="{}""#, attr(&ids.lane_set)));
    for (li, lane) in flow.lanes.iter().enumerate() {
        let refs: Vec<&str> = flow
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.lane.value == lane.id.value)
            .map(|(ni, _)| ids.nodes[ni].as_str())
            .collect();
        let head = format!(
            r#"bpmn:lane id="{}" name="{}""#,
            attr(&ids.lanes[li]),
            attr(&lane.title)
        );
        if refs.is_empty() {
            x.empty(&head);
            continue;
        }
        x.open(&head);
        for r in refs {
            x.line(&format!("<bpmn:flowNodeRef>{}</bpmn:flowNodeRef>", text(r)));
        }
        x.close("bpmn:lane");
    }
    x.close("bpmn:laneSet");

    for (ni, node) in flow.nodes.iter().enumerate() {
        write_node(&mut x, flow, &ids, ni, node);
    }
    for (ni, node) in flow.nodes.iter().enumerate() {
        for (ei, edge) in node.next.iter().enumerate() {
            write_edge(&mut x, &ids, ni, ei, edge);
        }
    }
    x.close("bpmn:process");

    x.open(&format!(
        r#"bpmndi:BPMNDiagram id="{}""#,
        attr(&ids.diagram)
    ));
    x.open(&format!(
        r#"bpmndi:BPMNPlane id="{}" bpmnElement="{}""#,
        attr(&ids.plane),
        attr(&ids.collaboration)
    ));
    x.shape(&ids.participant, layout.pool, " isHorizontal=\"true\"");
    for (li, rect) in layout.lanes.iter().enumerate() {
        x.shape(&ids.lanes[li], *rect, " isHorizontal=\"true\"");
    }
    for (ni, node) in flow.nodes.iter().enumerate() {
        // The X marker is what readers expect on an exclusive gateway.
        let extra = if matches!(node.kind, NodeKind::Decision) {
            " isMarkerVisible=\"true\""
        } else {
            ""
        };
        x.shape(&ids.nodes[ni], layout.nodes[ni], extra);
    }
    for (ni, node) in flow.nodes.iter().enumerate() {
        for (ei, edge) in node.next.iter().enumerate() {
            let Some(target) = ids.target(&edge.to.value) else {
                continue;
            };
            let points = layout.route(
                ni,
                is_gateway(&node.kind),
                target,
                is_gateway(&flow.nodes[target].kind),
            );
            x.open(&format!(
                r#"bpmndi:BPMNEdge id="{}_di" bpmnElement="{}""#,
                attr(&ids.edges[ni][ei]),
                attr(&ids.edges[ni][ei])
            ));
            for &(px, py) in &points {
                x.empty(&format!(r#"di:waypoint x="{px}" y="{py}""#));
            }
            if let Some(label) = &edge.label {
                let r = label_bounds(&points, label);
                x.open("bpmndi:BPMNLabel");
                x.empty(&format!(
                    r#"dc:Bounds x="{}" y="{}" width="{}" height="{}""#,
                    r.x, r.y, r.w, r.h
                ));
                x.close("bpmndi:BPMNLabel");
            }
            x.close("bpmndi:BPMNEdge");
        }
    }
    x.close("bpmndi:BPMNPlane");
    x.close("bpmndi:BPMNDiagram");
    x.close("bpmn:definitions");
    x.out
}

/// Where a branch label goes: just above the arrow's first horizontal stretch, at the end
/// it starts from. That stretch is where branches of one gateway part, so each label sits
/// by its own branch; left to bpmn.io, labels sit at the middle of the arrow, which on long
/// arrows is far from the branch they name.
fn label_bounds(points: &[(i64, i64)], label: &str) -> Rect {
    // bpmn.io draws flow labels 90 wide, centred on the bounds, about 12 units a character.
    const W: i64 = 90;
    let chars = label.chars().count() as i64;
    let h = 14 * ((chars * 12 + W - 1) / W).max(1);
    let stretch = points
        .windows(2)
        .find(|seg| seg[0].1 == seg[1].1 && seg[0].0 != seg[1].0)
        .map_or((points[0], points[0]), |seg| (seg[0], seg[1]));
    let ((xa, y), (xb, _)) = stretch;
    let x = if xb < xa { xa - W - 6 } else { xa + 6 };
    Rect {
        x,
        y: y - h - 2,
        w: W,
        h,
    }
}

/// The BPMN element name of a node kind.
fn element(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Start => "bpmn:startEvent",
        NodeKind::End => "bpmn:endEvent",
        NodeKind::System { .. } => "bpmn:serviceTask",
        NodeKind::Manual { .. } => "bpmn:userTask",
        NodeKind::Decision => "bpmn:exclusiveGateway",
        NodeKind::Parallel | NodeKind::Join => "bpmn:parallelGateway",
        NodeKind::Receive { .. } => "bpmn:receiveTask",
        NodeKind::Send { .. } => "bpmn:sendTask",
        NodeKind::Call { .. } => "bpmn:callActivity",
        NodeKind::OutOfScope { .. } | NodeKind::Invalid => "bpmn:task",
        NodeKind::Timer { .. } => "bpmn:intermediateCatchEvent",
    }
}

fn is_gateway(kind: &NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Decision | NodeKind::Parallel | NodeKind::Join
    )
}

/// The size of a node's shape: bpmn.io's defaults for events, gateways and tasks.
fn size(kind: &NodeKind) -> (i64, i64) {
    match kind {
        NodeKind::Start | NodeKind::End | NodeKind::Timer { .. } => (36, 36),
        NodeKind::Decision | NodeKind::Parallel | NodeKind::Join => (50, 50),
        _ => (SLOT_W, 80),
    }
}

/// The name shown on the node. Receive and send tasks add the document when the name does
/// not already say it, since 受領 or 送付 alone does not tell what arrives or leaves.
fn node_name(flow: &Flow, node: &Node) -> Option<String> {
    let name = node.name.clone();
    let document = match &node.kind {
        NodeKind::Receive { document, .. } | NodeKind::Send { document, .. } => {
            Some(document_title(flow, &document.value))
        }
        _ => None,
    };
    match (name, document) {
        (Some(name), Some(doc)) if !name.contains(doc) => Some(format!("{name}（{doc}）")),
        (name, _) => name,
    }
}

/// Lines of the node's `documentation`: what the flow file says about it, in words.
fn node_documentation(flow: &Flow, node: &Node) -> Vec<String> {
    let mut doc = Vec::new();
    if let Some(step) = &node.step {
        doc.push(format!("手順 {}", step.value));
    }
    if !node.requirements.is_empty() {
        let ids: Vec<&str> = node.requirements.iter().map(|r| r.value.as_str()).collect();
        doc.push(format!("機能要件 {}", ids.join(", ")));
    }
    match &node.kind {
        NodeKind::System {
            handler,
            retries,
            batch,
        } => {
            doc.push(format!(
                "処理 {}{}（再試行 {retries} 回）",
                handler.value,
                if *batch { "・一括" } else { "" }
            ));
        }
        NodeKind::Manual { fields, due } => {
            if !fields.is_empty() {
                let shown: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let mut s = format!("{}（{}", f.label, f.kind.as_str());
                        if !f.choices.is_empty() {
                            s.push_str(&format!(": {}", f.choices.join("/")));
                        }
                        if !f.required {
                            s.push_str("・任意");
                        }
                        s.push('）');
                        s
                    })
                    .collect();
                doc.push(format!("記録 {}", shown.join(", ")));
            }
            if let Some(due) = due {
                doc.push(format!("期限 {}", describe_rule(due)));
            }
        }
        NodeKind::Receive {
            from,
            document,
            correlation,
        } => {
            let mut s = format!(
                "受領 {}（{}から）",
                document_title(flow, &document.value),
                lane_title(flow, &from.value)
            );
            if let Some(key) = correlation {
                s.push_str(&format!(" 照合キー {key}"));
            }
            doc.push(s);
        }
        NodeKind::Send { to, document } => doc.push(format!(
            "送付 {}（{}へ）",
            document_title(flow, &document.value),
            lane_title(flow, &to.value)
        )),
        NodeKind::Call {
            flow: called,
            wait,
            for_each,
        } => {
            let mut s = format!("業務フロー {} を実行", called.value);
            if let Some(list) = for_each {
                s.push_str(&format!("（{list} の要素ごと）"));
            }
            s.push_str(if *wait {
                "し、終了を待つ"
            } else {
                "し、待たない"
            });
            doc.push(s);
        }
        NodeKind::OutOfScope { system, waits } => doc.push(format!(
            "後期高齢支援システム対象外: {}が行う{}",
            system_title(*system),
            if *waits { "（結果を待つ）" } else { "" }
        )),
        NodeKind::Timer { wait } => doc.push(format!("待機 {}", describe_rule(wait))),
        _ => {}
    }
    let titles = |ids: &[nagare_engine::yaml::Spanned<String>]| -> String {
        ids.iter()
            .map(|d| document_title(flow, &d.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !node.produces.is_empty() {
        doc.push(format!("作成 {}", titles(&node.produces)));
    }
    if !node.consumes.is_empty() {
        doc.push(format!("使用 {}", titles(&node.consumes)));
    }
    if let Some(page) = node.page {
        doc.push(format!("別紙1 p.{page}"));
    }
    if node.inferred {
        doc.push("名称は推定".to_owned());
    }
    doc.extend(node.note.clone());
    doc
}

/// Writes one flow node: the element, documentation, extension elements, incoming and
/// outgoing flows, and for timers the timer definition.
fn write_node(x: &mut Xml, flow: &Flow, ids: &Ids, ni: usize, node: &Node) {
    let tag = element(&node.kind);
    let mut head = format!("{tag} id=\"{}\"", attr(&ids.nodes[ni]));
    if let Some(name) = node_name(flow, node) {
        let _ = write!(head, " name=\"{}\"", attr(&name));
    }
    if let NodeKind::Call { flow: called, .. } = &node.kind {
        let _ = write!(
            head,
            " calledElement=\"{}\"",
            attr(&process_id(&called.value))
        );
    }
    if matches!(node.kind, NodeKind::Decision)
        && let Some(ei) = node.next.iter().position(|e| e.default)
    {
        let _ = write!(head, " default=\"{}\"", attr(&ids.edges[ni][ei]));
    }
    x.open(&head);
    x.documentation(&node_documentation(flow, node));
    write_extension(x, node);
    for (si, source) in flow.nodes.iter().enumerate() {
        for (ei, edge) in source.next.iter().enumerate() {
            if edge.to.value == node.id.value {
                x.line(&format!(
                    "<bpmn:incoming>{}</bpmn:incoming>",
                    text(&ids.edges[si][ei])
                ));
            }
        }
    }
    for (ei, edge) in node.next.iter().enumerate() {
        if ids.target(&edge.to.value).is_some() {
            x.line(&format!(
                "<bpmn:outgoing>{}</bpmn:outgoing>",
                text(&ids.edges[ni][ei])
            ));
        }
    }
    if let NodeKind::Timer { wait } = &node.kind {
        x.open(&format!(
            r#"bpmn:timerEventDefinition id="{}_timer""#,
            attr(&ids.nodes[ni])
        ));
        let (element, value) = timer(wait);
        x.line(&format!(
            r#"<bpmn:{element} xsi:type="bpmn:tFormalExpression">{}</bpmn:{element}>"#,
            text(&value)
        ));
        x.close("bpmn:timerEventDefinition");
    }
    x.close(tag);
}

/// The timer's BPMN form: an ISO 8601 duration when the wait is counted from entering the
/// node in days or months (what BPMN engines understand), otherwise a date expression in
/// the flow's own words (`due_date + 20d`, `retry_date`), since BPMN has no business days.
fn timer(rule: &DateRule) -> (&'static str, String) {
    match rule {
        DateRule::After {
            amount,
            unit: PeriodUnit::Days,
            from: DateBase::Entered,
        } => ("timeDuration", format!("P{amount}D")),
        DateRule::After {
            amount,
            unit: PeriodUnit::Months,
            from: DateBase::Entered,
        } => ("timeDuration", format!("P{amount}M")),
        DateRule::After { amount, unit, from } => {
            let unit = match unit {
                PeriodUnit::Days => "d",
                PeriodUnit::BusinessDays => "bd",
                PeriodUnit::Months => "m",
            };
            let base = match from {
                DateBase::Entered => "entered",
                DateBase::Field(field) => field.as_str(),
            };
            ("timeDate", format!("{base} + {amount}{unit}"))
        }
        DateRule::Until { field } => ("timeDate", field.clone()),
    }
}

/// Writes the machine-readable facts of a node as `nagare:` extension elements.
fn write_extension(x: &mut Xml, node: &Node) {
    let mut head = format!(
        r#"nagare:node id="{}" kind="{}""#,
        attr(&node.id.value),
        node.kind.as_str()
    );
    if let Some(step) = &node.step {
        let _ = write!(head, " step=\"{}\"", attr(&step.value));
    }
    match &node.kind {
        NodeKind::System { handler, .. } => {
            let _ = write!(head, " handler=\"{}\"", attr(&handler.value));
        }
        NodeKind::Call { flow, .. } => {
            let _ = write!(head, " flow=\"{}\"", attr(&flow.value));
        }
        NodeKind::Receive { from, document, .. } => {
            let _ = write!(
                head,
                " lane=\"{}\" document=\"{}\"",
                attr(&from.value),
                attr(&document.value)
            );
        }
        NodeKind::Send { to, document } => {
            let _ = write!(
                head,
                " lane=\"{}\" document=\"{}\"",
                attr(&to.value),
                attr(&document.value)
            );
        }
        NodeKind::OutOfScope { system, .. } => {
            let _ = write!(head, " system=\"{}\"", system.as_str());
        }
        _ => {}
    }
    x.open("bpmn:extensionElements");
    if node.requirements.is_empty() {
        x.empty(&head);
    } else {
        x.open(&head);
        for r in &node.requirements {
            x.line(&format!(
                "<nagare:requirement>{}</nagare:requirement>",
                text(&r.value)
            ));
        }
        x.close("nagare:node");
    }
    x.close("bpmn:extensionElements");
}

/// Writes one sequence flow: named by the branch words, with its condition, and a note in
/// the documentation for arrows that go back.
fn write_edge(x: &mut Xml, ids: &Ids, ni: usize, ei: usize, edge: &Edge) {
    let Some(target) = ids.target(&edge.to.value) else {
        return;
    };
    let mut head = format!(
        r#"bpmn:sequenceFlow id="{}" sourceRef="{}" targetRef="{}""#,
        attr(&ids.edges[ni][ei]),
        attr(&ids.nodes[ni]),
        attr(&ids.nodes[target])
    );
    if let Some(label) = &edge.label {
        let _ = write!(head, " name=\"{}\"", attr(label));
    }
    let mut doc = Vec::new();
    if edge.is_loop {
        doc.push("ループ: 前の手順に戻る".to_owned());
    }
    if edge.default {
        doc.push("既定の分岐".to_owned());
    }
    doc.extend(edge.note.clone());
    if doc.is_empty() && edge.when.is_none() {
        x.empty(&head);
        return;
    }
    x.open(&head);
    x.documentation(&doc);
    if let Some(when) = &edge.when {
        x.line(&format!(
            r#"<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="{CONDITION_LANGUAGE}">{}</bpmn:conditionExpression>"#,
            text(&when.value)
        ));
    }
    x.close("bpmn:sequenceFlow");
}

/// The ids of every element, unique and valid as XML ids (NCName), derived from the flow's
/// own ids so that a reader of the XML recognises them.
struct Ids {
    definitions: String,
    collaboration: String,
    participant: String,
    process: String,
    lane_set: String,
    diagram: String,
    plane: String,
    lanes: Vec<String>,
    nodes: Vec<String>,
    /// `edges[node][i]` is the id of the node's `i`-th arrow.
    edges: Vec<Vec<String>>,
    by_node_id: HashMap<String, usize>,
}

impl Ids {
    fn new(flow: &Flow) -> Self {
        let mut used = HashSet::new();
        let mut unique = |base: String| -> String {
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}_{n}");
                n += 1;
            }
            id
        };
        let f = ncname(&flow.id.value);
        let definitions = unique(format!("Definitions_{f}"));
        let collaboration = unique(format!("Collaboration_{f}"));
        let participant = unique(format!("Participant_{f}"));
        let process = unique(process_id(&flow.id.value));
        let lane_set = unique(format!("LaneSet_{f}"));
        let diagram = unique(format!("BPMNDiagram_{f}"));
        let plane = unique(format!("BPMNPlane_{f}"));
        let lanes = flow
            .lanes
            .iter()
            .map(|l| unique(format!("Lane_{}", ncname(&l.id.value))))
            .collect();
        let nodes: Vec<String> = flow
            .nodes
            .iter()
            .map(|n| unique(format!("Node_{}", ncname(&n.id.value))))
            .collect();
        let edges = flow
            .nodes
            .iter()
            .map(|n| {
                n.next
                    .iter()
                    .map(|e| {
                        unique(format!(
                            "Flow_{}_{}",
                            ncname(&n.id.value),
                            ncname(&e.to.value)
                        ))
                    })
                    .collect()
            })
            .collect();
        let mut by_node_id = HashMap::new();
        for (i, n) in flow.nodes.iter().enumerate() {
            by_node_id.entry(n.id.value.clone()).or_insert(i);
        }
        Self {
            definitions,
            collaboration,
            participant,
            process,
            lane_set,
            diagram,
            plane,
            lanes,
            nodes,
            edges,
            by_node_id,
        }
    }

    /// Returns the index of the node an arrow leads to (none for unknown nodes, which only
    /// flows with errors have; their arrows are left out rather than pointing nowhere).
    fn target(&self, node_id: &str) -> Option<usize> {
        self.by_node_id.get(node_id).copied()
    }
}

/// Makes text usable inside an XML id: ASCII letters, digits, `_` and `-` are kept,
/// anything else becomes `_`. Callers add a letter prefix, so the id never starts with a digit.
fn ncname(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

impl Rect {
    fn centered(cx: i64, cy: i64, (w, h): (i64, i64)) -> Self {
        Self {
            x: cx - w / 2,
            y: cy - h / 2,
            w,
            h,
        }
    }
    fn cx(self) -> i64 {
        self.x + self.w / 2
    }
    fn cy(self) -> i64 {
        self.y + self.h / 2
    }
    fn right(self) -> i64 {
        self.x + self.w
    }
    fn bottom(self) -> i64 {
        self.y + self.h
    }
}

/// Where every shape goes, and the free horizontal lines arrows may run along.
struct Layout {
    pool: Rect,
    lanes: Vec<Rect>,
    nodes: Vec<Rect>,
    /// The top and bottom of the row each node sits in.
    rows: Vec<(i64, i64)>,
    /// Every row boundary of every lane, sorted. Shapes sit inside rows with room to spare,
    /// so a horizontal line along a boundary never crosses a shape.
    corridors: Vec<i64>,
    /// Horizontal stretches arrows already run along, as (y, left, right), so that the next
    /// arrow on the same corridor takes a parallel track instead of hiding under it.
    taken: Vec<(i64, i64, i64)>,
}

impl Layout {
    fn new(flow: &Flow, ids: &Ids) -> Self {
        let layer = layers(flow);
        let columns = layer.iter().max().map_or(1, |m| m + 1);
        let lane_of: Vec<Option<usize>> = flow
            .nodes
            .iter()
            .map(|n| flow.lanes.iter().position(|l| l.id.value == n.lane.value))
            .collect();
        // Nodes of undeclared lanes (flows with errors only) get a band of their own below.
        let bands = flow.lanes.len() + usize::from(lane_of.iter().any(Option::is_none));
        let band = |ni: usize| lane_of[ni].unwrap_or(flow.lanes.len());

        // Rows: stack the nodes that share a band and a layer. Going left to right, order
        // each stack by the mean position of the node's predecessors, so branches keep the
        // order of the arrows that lead to them and arrows cross less.
        let mut row = vec![0usize; flow.nodes.len()];
        let mut rows_in_band = vec![1usize; bands];
        let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); flow.nodes.len()];
        for (si, node) in flow.nodes.iter().enumerate() {
            for edge in node.next.iter().filter(|e| !e.is_loop) {
                if let Some(t) = ids.target(&edge.to.value) {
                    predecessors[t].push(si);
                }
            }
        }
        let mut placed_key = vec![None::<(usize, usize)>; flow.nodes.len()];
        for l in 0..columns {
            for (b, band_rows) in rows_in_band.iter_mut().enumerate() {
                let mut stack: Vec<usize> = (0..flow.nodes.len())
                    .filter(|&ni| layer[ni] == l && band(ni) == b)
                    .collect();
                let key = |ni: usize| -> f64 {
                    let keys: Vec<f64> = predecessors[ni]
                        .iter()
                        .filter_map(|&p| placed_key[p])
                        .map(|(pb, pr)| pb as f64 * 1000.0 + pr as f64)
                        .collect();
                    if keys.is_empty() {
                        f64::MAX
                    } else {
                        keys.iter().sum::<f64>() / keys.len() as f64
                    }
                };
                // A stable sort keeps declaration order among equals.
                stack.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
                for (r, &ni) in stack.iter().enumerate() {
                    row[ni] = r;
                    placed_key[ni] = Some((b, r));
                }
                *band_rows = (*band_rows).max(stack.len());
            }
        }

        let width = HEADER * 2 + MARGIN + columns as i64 * COL_W;
        let mut lanes = Vec::with_capacity(bands);
        let mut corridors = Vec::new();
        let mut y = POOL_Y;
        for rows in &rows_in_band {
            let h = *rows as i64 * ROW_H + 2 * LANE_PAD;
            lanes.push(Rect {
                x: POOL_X + HEADER,
                y,
                w: width - HEADER,
                h,
            });
            corridors.extend((0..=*rows as i64).map(|r| y + LANE_PAD + r * ROW_H));
            y += h;
        }
        let pool = Rect {
            x: POOL_X,
            y: POOL_Y,
            w: width,
            h: y - POOL_Y,
        };
        let rows: Vec<(i64, i64)> = (0..flow.nodes.len())
            .map(|ni| {
                let top = lanes[band(ni)].y + LANE_PAD + row[ni] as i64 * ROW_H;
                (top, top + ROW_H)
            })
            .collect();
        let nodes = flow
            .nodes
            .iter()
            .enumerate()
            .map(|(ni, node)| {
                let cx = column_left(layer[ni]) + SLOT_W / 2;
                Rect::centered(cx, rows[ni].0 + ROW_H / 2, size(&node.kind))
            })
            .collect();
        // The undeclared-lanes band has no lane element; only its nodes are drawn.
        lanes.truncate(flow.lanes.len());
        Self {
            pool,
            lanes,
            nodes,
            rows,
            corridors,
            taken: Vec::new(),
        }
    }

    /// The waypoints of the arrow from node `s` to node `d`, with right angles only.
    ///
    /// The direct route is tried first (straight, or turning once or twice the way bpmn.io
    /// draws branches); when it would cross another shape, the arrow leaves into the gap
    /// after its source's column, runs along the nearest free row boundary, and comes back
    /// in the gap before its target's column. Gaps between columns hold no shapes, so the
    /// detour never crosses one.
    fn route(&mut self, s: usize, s_gateway: bool, d: usize, d_gateway: bool) -> Vec<(i64, i64)> {
        let (src, dst) = (self.nodes[s], self.nodes[d]);
        let gap_after = |r: Rect| column_left_of(r) + SLOT_W + (COL_W - SLOT_W) / 2;
        let gap_before = |r: Rect| column_left_of(r) - (COL_W - SLOT_W) / 2;
        if s == d {
            // Round the node's right, bottom and left sides back into it.
            let below = self.track(self.rows[s].1, gap_before(src), gap_after(src));
            return vec![
                (src.right(), src.cy()),
                (gap_after(src), src.cy()),
                (gap_after(src), below),
                (gap_before(src), below),
                (gap_before(src), src.cy()),
                (src.x, src.cy()),
            ];
        }
        if dst.cx() == src.cx() {
            // Same column, another row (only arrows marked `loop` do this): round the left.
            return vec![
                (src.x, src.cy()),
                (gap_before(src), src.cy()),
                (gap_before(src), dst.cy()),
                (dst.x, dst.cy()),
            ];
        }
        if dst.cx() < src.cx() {
            // Back to an earlier column: along the row boundary below the lower of the two,
            // leaving and entering through the bottom when that crosses nothing.
            let lowest = self.rows[s].1.max(self.rows[d].1);
            let below = self.track(lowest, gap_before(dst), gap_after(src));
            let mut points = if self.rows[s].1 == lowest {
                vec![(src.cx(), src.bottom())]
            } else {
                vec![
                    (src.right(), src.cy()),
                    (gap_after(src), src.cy()),
                    (gap_after(src), below),
                ]
            };
            if self.rows[d].1 == lowest {
                points.extend([(dst.cx(), below), (dst.cx(), dst.bottom())]);
            } else {
                points.extend([
                    (gap_before(dst), below),
                    (gap_before(dst), dst.cy()),
                    (dst.x, dst.cy()),
                ]);
            }
            if points[0].0 == src.cx() {
                points.insert(1, (src.cx(), below));
            }
            return points;
        }

        let down = dst.cy() > src.cy();
        let direct = if src.cy() == dst.cy() {
            vec![(src.right(), src.cy()), (dst.x, dst.cy())]
        } else if s_gateway {
            // Branches leave a gateway from its top or bottom corner, as bpmn.io draws them.
            let corner = if down { src.bottom() } else { src.y };
            vec![(src.cx(), corner), (src.cx(), dst.cy()), (dst.x, dst.cy())]
        } else if d_gateway {
            let corner = if down { dst.y } else { dst.bottom() };
            vec![
                (src.right(), src.cy()),
                (dst.cx(), src.cy()),
                (dst.cx(), corner),
            ]
        } else {
            // Turn in the gap before the target's column, so arrows into one node merge there.
            vec![
                (src.right(), src.cy()),
                (gap_before(dst), src.cy()),
                (gap_before(dst), dst.cy()),
                (dst.x, dst.cy()),
            ]
        };
        if !self.crosses(&direct, s, d) {
            return direct;
        }
        // The free line closest to both ends; below wins a tie, as back arrows also run below.
        let lane = self
            .corridors
            .iter()
            .copied()
            .min_by_key(|&c| ((c - src.cy()).abs() + (c - dst.cy()).abs(), -c))
            .unwrap_or(self.rows[s].1);
        let lane = self.track(lane, src.cx(), dst.cx());
        // Gateways keep their corners for branches, when the corridor runs along their row.
        let beside = |rows: (i64, i64)| rows.0 - 10 <= lane && lane <= rows.1 + 10;
        let mut points = Vec::new();
        if s_gateway && beside(self.rows[s]) {
            let corner = if lane > src.cy() { src.bottom() } else { src.y };
            points.extend([(src.cx(), corner), (src.cx(), lane)]);
        } else {
            points.extend([
                (src.right(), src.cy()),
                (gap_after(src), src.cy()),
                (gap_after(src), lane),
            ]);
        }
        if d_gateway && beside(self.rows[d]) {
            let corner = if lane > dst.cy() { dst.bottom() } else { dst.y };
            points.extend([(dst.cx(), lane), (dst.cx(), corner)]);
        } else {
            points.extend([
                (gap_before(dst), lane),
                (gap_before(dst), dst.cy()),
                (dst.x, dst.cy()),
            ]);
        }
        points
    }

    /// Takes a track along a corridor for the stretch from `x0` to `x1`: the corridor
    /// itself, or 10 units above or below it when an earlier arrow runs there. Shapes keep
    /// at least 20 units from a corridor, so every track stays clear of them.
    fn track(&mut self, corridor: i64, x0: i64, x1: i64) -> i64 {
        let (x0, x1) = (x0.min(x1), x0.max(x1));
        let y = [0, 10, -10]
            .into_iter()
            .map(|offset| corridor + offset)
            .find(|&y| {
                !self
                    .taken
                    .iter()
                    .any(|&(ty, t0, t1)| ty == y && t0 <= x1 && x0 <= t1)
            })
            .unwrap_or(corridor);
        self.taken.push((y, x0, x1));
        y
    }

    /// Returns whether a path crosses any shape but the two it joins.
    fn crosses(&self, points: &[(i64, i64)], s: usize, d: usize) -> bool {
        points.windows(2).any(|seg| {
            let (x0, x1) = (seg[0].0.min(seg[1].0), seg[0].0.max(seg[1].0));
            let (y0, y1) = (seg[0].1.min(seg[1].1), seg[0].1.max(seg[1].1));
            self.nodes.iter().enumerate().any(|(i, r)| {
                i != s && i != d && x0 < r.right() && x1 > r.x && y0 < r.bottom() && y1 > r.y
            })
        })
    }
}

/// The left edge of a column's slot.
fn column_left(layer: usize) -> i64 {
    POOL_X + HEADER * 2 + MARGIN + layer as i64 * COL_W
}

/// The left edge of the column slot a shape is centred in.
fn column_left_of(r: Rect) -> i64 {
    r.cx() - SLOT_W / 2
}

/// A small XML writer with indentation; the caller escapes with [`attr`] and [`text`].
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }
    fn open(&mut self, head: &str) {
        self.line(&format!("<{head}>"));
        self.depth += 1;
    }
    fn close(&mut self, tag: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(&format!("</{tag}>"));
    }
    fn empty(&mut self, head: &str) {
        self.line(&format!("<{head} />"));
    }
    fn documentation(&mut self, lines: &[String]) {
        if !lines.is_empty() {
            self.line(&format!(
                "<bpmn:documentation>{}</bpmn:documentation>",
                text(&lines.join("\n"))
            ));
        }
    }
    fn shape(&mut self, element: &str, r: Rect, extra: &str) {
        self.open(&format!(
            r#"bpmndi:BPMNShape id="{}_di" bpmnElement="{}"{extra}"#,
            attr(element),
            attr(element)
        ));
        self.empty(&format!(
            r#"dc:Bounds x="{}" y="{}" width="{}" height="{}""#,
            r.x, r.y, r.w, r.h
        ));
        self.close("bpmndi:BPMNShape");
    }
}

/// Escapes text content. Characters XML 1.0 cannot hold at all (most C0 controls) become
/// U+FFFD, so the document stays well-formed whatever a flow file says.
pub(crate) fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes a double-quoted attribute value; line breaks and tabs become character
/// references, which attribute-value normalisation would otherwise turn into spaces.
pub(crate) fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_escape_markup_quotes_and_line_breaks() {
        assert_eq!(
            attr("督促 \"A\" & <B>\n\t'x'"),
            "督促 &quot;A&quot; &amp; &lt;B&gt;&#10;&#9;'x'"
        );
    }

    #[test]
    fn text_keeps_quotes_and_replaces_forbidden_characters() {
        assert_eq!(
            text("a \"b\" <c>\n\u{1}\u{b}"),
            "a \"b\" &lt;c&gt;\n\u{fffd}\u{fffd}"
        );
    }

    #[test]
    fn ids_are_ncnames() {
        assert_eq!(process_id("9.1"), "Process_9_1");
        assert_eq!(ncname("a b/é"), "a_b__");
    }

    #[test]
    fn arrows_never_cross_shapes() {
        let mut layout = Layout {
            pool: Rect::centered(0, 0, (0, 0)),
            lanes: Vec::new(),
            nodes: vec![
                Rect::centered(column_left(0) + 50, 160, (50, 50)),
                Rect::centered(column_left(1) + 50, 160, (100, 80)),
                Rect::centered(column_left(2) + 50, 160, (36, 36)),
            ],
            rows: vec![(100, 220); 3],
            corridors: vec![100, 220],
            taken: Vec::new(),
        };
        // Gateway to end, past the task between them: detour along a row boundary.
        let points = layout.route(0, true, 2, false);
        assert!(!layout.crosses(&points, 0, 2));
        assert!(points.iter().any(|&(_, y)| y == 220));
        // A second arrow along the same stretch takes a parallel track.
        let again = layout.route(0, true, 2, false);
        assert!(again.iter().any(|&(_, y)| y == 230));
        // End back to the gateway: below the row, in and out through the bottoms.
        let back = layout.route(2, false, 0, true);
        assert_eq!(back.first(), Some(&(column_left(2) + 50, 178)));
        assert_eq!(back.last(), Some(&(column_left(0) + 50, 185)));
        assert!(back.iter().any(|&(_, y)| y == 210));
        assert!(!layout.crosses(&back, 2, 0));
    }
}
