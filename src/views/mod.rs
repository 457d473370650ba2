//! Views of a flow for people: a swimlane diagram (Mermaid, Graphviz DOT), BPMN 2.0 XML with
//! diagram interchange for bpmn.io / Camunda Modeler, and a summary for `nagare flows`.
//!
//! Every function here is pure: it takes a [`Flow`] and returns text or data, so the CLI
//! decides where it goes and the tests can compare it byte for byte. The views are meant for
//! flows that passed `nagare check`; given anything else they still return text, never panic.
//!
//! The texts the three diagrams draw on boxes and arrows are built once here, so a box reads
//! the same in every format; each format module only escapes and arranges them.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use nagare_engine::flow::{
    DateBase, DateRule, Edge, ExternalSystem, Flow, Node, NodeKind, PeriodUnit,
};
use serde::Serialize;
use serde::ser::SerializeMap;

pub mod bpmn;
pub mod dot;
pub mod mermaid;

/// The longest-path layer of every node (index = position in `flow.nodes`): the start is
/// layer 0 and every node sits one layer right of its furthest predecessor. Arrows marked
/// `loop` are ignored, which leaves a DAG for every checked flow; nodes left over by a cycle
/// without a loop mark (only in flows with errors) are placed after their placed predecessors.
pub(crate) fn layers(flow: &Flow) -> Vec<usize> {
    let index: HashMap<&str, usize> = flow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.value.as_str(), i))
        .collect();
    let count = flow.nodes.len();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut indegree = vec![0usize; count];
    for (from, node) in flow.nodes.iter().enumerate() {
        for edge in node.next.iter().filter(|e| !e.is_loop) {
            if let Some(&to) = index.get(edge.to.value.as_str())
                && to != from
            {
                successors[from].push(to);
                indegree[to] += 1;
            }
        }
    }
    let mut layer = vec![0usize; count];
    let mut placed = vec![false; count];
    // Kahn's algorithm in declaration order, so equal inputs give equal layouts.
    let mut ready: std::collections::VecDeque<usize> =
        (0..count).filter(|&i| indegree[i] == 0).collect();
    while let Some(u) = ready.pop_front() {
        placed[u] = true;
        for &v in &successors[u] {
            layer[v] = layer[v].max(layer[u] + 1);
            indegree[v] -= 1;
            if indegree[v] == 0 {
                ready.push_back(v);
            }
        }
    }
    for v in 0..count {
        if !placed[v] {
            let before = (0..count)
                .filter(|&u| placed[u] && successors[u].contains(&v))
                .map(|u| layer[u] + 1)
                .max()
                .unwrap_or(0);
            layer[v] = layer[v].max(before);
            placed[v] = true;
        }
    }
    layer
}

/// Japanese name of the other system that does an out-of-scope step.
pub(crate) fn system_title(system: ExternalSystem) -> &'static str {
    match system {
        ExternalSystem::UnionSystem => "広域標準システム",
        ExternalSystem::IntermediateServer => "自治体中間サーバー",
        ExternalSystem::Other => "他システム",
    }
}

/// A date rule in words: `due_date から20日後`, `入ってから10日後`, `retry_date まで`.
pub(crate) fn describe_rule(rule: &DateRule) -> String {
    match rule {
        DateRule::After { amount, unit, from } => {
            let period = match unit {
                PeriodUnit::Days => format!("{amount}日"),
                PeriodUnit::BusinessDays => format!("{amount}営業日"),
                PeriodUnit::Months => format!("{amount}か月"),
            };
            match from {
                DateBase::Entered => format!("到達から{period}後"),
                DateBase::Field(field) => format!("{field} から{period}後"),
            }
        }
        DateRule::Until { field } => format!("{field} まで"),
    }
}

/// Returns the title of a lane, or its id when the lane is not declared.
fn lane_title<'a>(flow: &'a Flow, id: &'a str) -> &'a str {
    flow.lane(id).map_or(id, |l| l.title.as_str())
}

/// Returns the title of a document, or its id when the document is not declared.
fn document_title<'a>(flow: &'a Flow, id: &'a str) -> &'a str {
    flow.document(id).map_or(id, |d| d.title.as_str())
}

/// The text a diagram draws in a node's box, one line per element: step number and name,
/// what the kind adds (document and partner lane, called flow, other system, wait), and the
/// requirement IDs. Text is raw; each format escapes it.
pub(crate) fn node_lines(flow: &Flow, node: &Node) -> Vec<String> {
    let mut lines = Vec::new();
    let name = match (&node.kind, node.name.as_deref()) {
        (_, Some(name)) => name.to_owned(),
        (NodeKind::Start, None) => "開始".to_owned(),
        (NodeKind::End, None) => "終了".to_owned(),
        (NodeKind::Parallel | NodeKind::Join, None) => "+".to_owned(),
        (_, None) => String::new(),
    };
    let first = match &node.step {
        Some(step) if name.is_empty() => step.value.clone(),
        Some(step) => format!("{} {name}", step.value),
        None => name,
    };
    if !first.is_empty() {
        lines.push(first);
    }
    match &node.kind {
        NodeKind::Receive { from, document, .. } => lines.push(format!(
            "{} ← {}",
            document_title(flow, &document.value),
            lane_title(flow, &from.value)
        )),
        NodeKind::Send { to, document } => lines.push(format!(
            "{} → {}",
            document_title(flow, &document.value),
            lane_title(flow, &to.value)
        )),
        NodeKind::Call {
            flow: called,
            for_each,
            ..
        } => {
            // Names such as 業務フロー[3.4.確定賦課]参照 already name the called flow.
            let named = node
                .name
                .as_deref()
                .is_some_and(|n| n.contains(&called.value));
            let mut line = if named {
                String::new()
            } else {
                format!("業務フロー {}", called.value)
            };
            if let Some(list) = for_each {
                line.push_str(&format!("（{list} の要素ごと）"));
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
        NodeKind::OutOfScope { system, waits } => lines.push(format!(
            "{}・対象外{}",
            system_title(*system),
            if *waits { "（結果を待つ）" } else { "" }
        )),
        NodeKind::Timer { wait } => lines.push(format!("待機 {}", describe_rule(wait))),
        NodeKind::Manual { due: Some(due), .. } => {
            lines.push(format!("期限 {}", describe_rule(due)));
        }
        _ => {}
    }
    if !node.requirements.is_empty() {
        let ids: Vec<&str> = node.requirements.iter().map(|r| r.value.as_str()).collect();
        lines.push(format!("要件 {}", ids.join(", ")));
    }
    lines
}

/// The text a diagram writes on an arrow: the branch words, then the condition in brackets
/// (`[既定]` for the default branch); arrows that go back start with `↺`.
pub(crate) fn edge_lines(edge: &Edge) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(label) = &edge.label {
        lines.push(label.clone());
    }
    if let Some(when) = &edge.when {
        lines.push(format!("[{}]", when.value));
    } else if edge.default {
        lines.push("[既定]".to_owned());
    }
    if edge.is_loop {
        match lines.first_mut() {
            Some(first) => first.insert_str(0, "↺ "),
            None => lines.push("↺".to_owned()),
        }
    }
    lines
}

/// Orders requirement IDs by their numeric parts, so `4.7.10` follows `4.7.9`.
fn compare_requirements(a: &str, b: &str) -> Ordering {
    let key = |s: &str| -> Vec<(u64, String)> {
        s.split('.')
            .map(|p| (p.parse().unwrap_or(u64::MAX), p.to_owned()))
            .collect()
    };
    key(a).cmp(&key(b))
}

/// What `nagare flows` tells about one flow.
#[derive(Debug, Serialize)]
pub struct FlowSummary {
    /// The seed's flow number, `"4.7"`.
    pub id: String,
    pub title: String,
    pub category: String,
    pub version: u32,
    pub pages: Vec<u32>,
    /// The file the flow was read from, as given on the command line.
    pub file: String,
    pub lanes: Vec<LaneSummary>,
    /// The number of nodes of every kind.
    pub nodes: usize,
    /// The number of nodes per kind, every kind listed, in the documentation's order.
    pub node_counts: NodeCounts,
    /// The number of nodes that carry a seed step number.
    pub steps: usize,
    /// Every requirement ID named by a node, once, in numeric order.
    pub requirements: Vec<String>,
    /// The flows this flow calls, once each, in order of first call.
    pub calls: Vec<String>,
}

/// One lane in a [`FlowSummary`].
#[derive(Debug, Serialize)]
pub struct LaneSummary {
    pub id: String,
    pub title: String,
    /// `staff`, `other_office`, `external` or `resident`.
    pub kind: &'static str,
    pub role: Option<String>,
}

/// Node counts per kind; serialised as a map with every kind of [`NodeKind::NAMES`], in
/// that order, zeros included, so programs see the same keys for every flow.
#[derive(Debug, Default)]
pub struct NodeCounts(pub Vec<(&'static str, usize)>);

impl NodeCounts {
    /// Returns the count for a kind word (`"system"`), zero when absent.
    pub fn get(&self, kind: &str) -> usize {
        self.0
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

impl Serialize for NodeCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (kind, count) in &self.0 {
            map.serialize_entry(kind, count)?;
        }
        map.end()
    }
}

/// Summarises a flow for `nagare flows`.
pub fn summary(flow: &Flow) -> FlowSummary {
    let counts = NodeKind::NAMES
        .iter()
        .map(|&kind| {
            let n = flow
                .nodes
                .iter()
                .filter(|n| n.kind.as_str() == kind)
                .count();
            (kind, n)
        })
        .collect();
    let mut requirements: Vec<String> = flow
        .nodes
        .iter()
        .flat_map(|n| n.requirements.iter().map(|r| r.value.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    requirements.sort_by(|a, b| compare_requirements(a, b));
    let mut calls: Vec<String> = Vec::new();
    for node in &flow.nodes {
        if let NodeKind::Call { flow: called, .. } = &node.kind
            && !calls.contains(&called.value)
        {
            calls.push(called.value.clone());
        }
    }
    FlowSummary {
        id: flow.id.value.clone(),
        title: flow.title.clone(),
        category: flow.category.clone(),
        version: flow.version,
        pages: flow.pages.clone(),
        file: flow.file.path().to_owned(),
        lanes: flow
            .lanes
            .iter()
            .map(|l| LaneSummary {
                id: l.id.value.clone(),
                title: l.title.clone(),
                kind: l.kind.as_str(),
                role: l.role.as_ref().map(|r| r.value.clone()),
            })
            .collect(),
        nodes: flow.nodes.len(),
        node_counts: NodeCounts(counts),
        steps: flow.nodes.iter().filter(|n| n.step.is_some()).count(),
        requirements,
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_sort_numerically() {
        let mut ids = vec!["4.7.10", "4.7.9", "10.1.1", "4.10.1"];
        ids.sort_by(|a, b| compare_requirements(a, b));
        assert_eq!(ids, ["4.7.9", "4.7.10", "4.10.1", "10.1.1"]);
    }

    #[test]
    fn date_rules_read_as_japanese() {
        let rule = DateRule::After {
            amount: 20,
            unit: PeriodUnit::Days,
            from: DateBase::Field("due_date".into()),
        };
        assert_eq!(describe_rule(&rule), "due_date から20日後");
        let rule = DateRule::After {
            amount: 3,
            unit: PeriodUnit::BusinessDays,
            from: DateBase::Entered,
        };
        assert_eq!(describe_rule(&rule), "到達から3営業日後");
        let rule = DateRule::Until {
            field: "retry_date".into(),
        };
        assert_eq!(describe_rule(&rule), "retry_date まで");
    }
}
