//! Checks of one flow's references and graph shape, collecting every problem.

use std::collections::{HashMap, HashSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, EdgeFiltered, EdgeRef, Reversed};

use super::codes;
use super::expr;
use super::model::*;
use crate::diagnostic::{Diagnostic, did_you_mean};

/// Checks ids, references within the flow, decisions, parallel work and the graph's shape.
pub fn validate_flow(flow: &Flow, diags: &mut Vec<Diagnostic>) {
    let file = &flow.file;
    check_duplicates(flow, diags);

    let lane_ids: Vec<&str> = flow.lanes.iter().map(|l| l.id.value.as_str()).collect();
    let doc_ids: Vec<&str> = flow.documents.iter().map(|d| d.id.value.as_str()).collect();
    let node_ids: Vec<&str> = flow.nodes.iter().map(|n| n.id.value.as_str()).collect();
    let mut used_docs: HashSet<&str> = HashSet::new();

    let unknown =
        |code, what: &str, value: &crate::yaml::Spanned<String>, known: &[&str], declare: &str| {
            Diagnostic::error(
                code,
                file,
                value.span,
                format!("unknown {what} `{}`", value.value),
            )
            .with_label(format!("no {what} has this id"))
            .with_help_opt(
                did_you_mean(&value.value, known.iter().copied()).or_else(|| {
                    Some(format!(
                        "declare it under `{declare}:` or use one of: {}",
                        known.join(", ")
                    ))
                }),
            )
        };

    for node in &flow.nodes {
        if !node.lane.value.is_empty() && !lane_ids.contains(&node.lane.value.as_str()) {
            diags.push(unknown(
                codes::UNKNOWN_LANE,
                "lane",
                &node.lane,
                &lane_ids,
                "lanes",
            ));
        }
        for doc in node.produces.iter().chain(&node.consumes) {
            used_docs.insert(&doc.value);
            if !doc_ids.contains(&doc.value.as_str()) {
                diags.push(unknown(
                    codes::UNKNOWN_DOCUMENT,
                    "document",
                    doc,
                    &doc_ids,
                    "documents",
                ));
            }
        }
        match &node.kind {
            NodeKind::Receive {
                from: lane,
                document,
                ..
            }
            | NodeKind::Send { to: lane, document } => {
                used_docs.insert(&document.value);
                if !lane_ids.contains(&lane.value.as_str()) {
                    diags.push(unknown(
                        codes::UNKNOWN_LANE,
                        "lane",
                        lane,
                        &lane_ids,
                        "lanes",
                    ));
                }
                if !doc_ids.contains(&document.value.as_str()) {
                    diags.push(unknown(
                        codes::UNKNOWN_DOCUMENT,
                        "document",
                        document,
                        &doc_ids,
                        "documents",
                    ));
                }
            }
            _ => {}
        }
        for edge in &node.next {
            if !node_ids.contains(&edge.to.value.as_str()) {
                diags.push(unknown(
                    codes::UNKNOWN_NODE,
                    "node",
                    &edge.to,
                    &node_ids,
                    "nodes",
                ));
            }
        }
        check_next_shape(flow, node, diags);
    }

    for doc in &flow.documents {
        if !used_docs.contains(doc.id.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    codes::UNUSED_DOCUMENT,
                    file,
                    doc.id.span,
                    format!(
                        "document `{}` is declared but no node uses it",
                        doc.id.value
                    ),
                )
                .warning()
                .with_help("reference it from a send, receive, produces or consumes, or remove it"),
            );
        }
    }

    // Reachability and shape checks on a graph with broken arrows would only repeat the
    // problem already reported, once for every node behind it.
    let broken_arrows = flow.nodes.iter().any(|n| {
        n.next
            .iter()
            .any(|e| !node_ids.contains(&e.to.value.as_str()))
            || (n.next.is_empty() && !matches!(n.kind, NodeKind::End | NodeKind::Invalid))
    });
    if !broken_arrows {
        check_graph(flow, diags);
    }
}

fn check_duplicates(flow: &Flow, diags: &mut Vec<Diagnostic>) {
    let file = &flow.file;
    let mut report = |what: &str, ids: Vec<&crate::yaml::Spanned<String>>| {
        let mut seen: HashMap<&str, &crate::yaml::Spanned<String>> = HashMap::new();
        for id in ids {
            if let Some(first) = seen.get(id.value.as_str()) {
                diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_ID,
                        file,
                        id.span,
                        format!("the {what} `{}` is defined twice", id.value),
                    )
                    .with_label("second definition")
                    .with_related(first.span, "first defined here")
                    .with_help(format!("give each {what} its own id")),
                );
            } else {
                seen.insert(&id.value, id);
            }
        }
    };
    report("lane", flow.lanes.iter().map(|l| &l.id).collect());
    report("document", flow.documents.iter().map(|d| &d.id).collect());
    report("node", flow.nodes.iter().map(|n| &n.id).collect());
    report(
        "step number",
        flow.nodes.iter().filter_map(|n| n.step.as_ref()).collect(),
    );
}

/// Checks that `next` has the shape the node's kind needs.
fn check_next_shape(flow: &Flow, node: &Node, diags: &mut Vec<Diagnostic>) {
    let file = &flow.file;
    let id = &node.id.value;
    let err = |span, message: String, help: &str| {
        Diagnostic::error(codes::NEXT_SHAPE, file, span, message).with_help(help.to_owned())
    };
    match node.kind {
        NodeKind::Invalid => {}
        NodeKind::End => {
            if let Some(edge) = node.next.first() {
                diags.push(err(
                    edge.span,
                    format!("end node `{id}` has a `next`"),
                    "an end node finishes its path; remove `next` or change the kind",
                ));
            }
        }
        NodeKind::Decision => {
            if node.next.len() < 2 {
                diags.push(
                    Diagnostic::error(
                        codes::DECISION_BRANCHES,
                        file,
                        node.id.span,
                        format!("decision `{id}` has {} branch(es); a decision needs at least two", node.next.len()),
                    )
                    .with_help("list each way out under `next:` with `when:` (or `default: true`), or make the node a plain step"),
                );
            }
            let defaults: Vec<&Edge> = node.next.iter().filter(|e| e.default).collect();
            for extra in defaults.iter().skip(1) {
                diags.push(
                    Diagnostic::error(
                        codes::DECISION_DEFAULT,
                        file,
                        extra.span,
                        format!("decision `{id}` has more than one default branch"),
                    )
                    .with_related(defaults[0].span, "first default")
                    .with_help("keep `default: true` on one branch only"),
                );
            }
            for edge in &node.next {
                match (&edge.when, edge.default) {
                    (None, false) => diags.push(
                        Diagnostic::error(
                            codes::DECISION_CONDITION,
                            file,
                            edge.span,
                            format!("branch of decision `{id}` to `{}` has no condition", edge.to.value),
                        )
                        .with_label("needs `when:` or `default: true`")
                        .with_help("write when: <condition over the work item's data>, e.g. when: has_payment_slip"),
                    ),
                    (Some(when), true) => diags.push(
                        Diagnostic::error(
                            codes::DECISION_CONDITION,
                            file,
                            when.span,
                            format!("branch of decision `{id}` has both `when` and `default`"),
                        )
                        .with_help("the default branch is taken when no condition holds; remove one of the two"),
                    ),
                    (Some(when), false) => {
                        if let Err(message) = expr::check(&when.value) {
                            diags.push(
                                Diagnostic::error(
                                    codes::CONDITION_SYNTAX,
                                    file,
                                    when.span,
                                    format!("the condition `{}` does not parse: {message}", when.value),
                                )
                                .with_label("not a valid expression")
                                .with_help("conditions use minijinja expressions: field == \"value\", a and not b, x in [\"1\", \"2\"]"),
                            );
                        }
                    }
                    (None, true) => {}
                }
            }
        }
        NodeKind::Parallel => {
            if node.next.len() < 2 {
                diags.push(err(
                    node.id.span,
                    format!("parallel split `{id}` has fewer than two branches"),
                    "list every branch that runs at the same time under `next:`",
                ));
            }
            for edge in &node.next {
                if let Some(when) = &edge.when {
                    diags.push(err(
                        when.span,
                        format!("branch of parallel split `{id}` has a condition"),
                        "every branch of a parallel split runs; use a decision for conditional branches",
                    ));
                }
            }
        }
        _ => {
            if node.next.is_empty() {
                diags.push(
                    Diagnostic::error(
                        codes::NEXT_SHAPE,
                        file,
                        node.id.span,
                        format!("node `{id}` has no `next`"),
                    )
                    .with_label("the flow stops here")
                    .with_help("add `next:` with the following node, or make this an `end` node"),
                );
            } else if node.next.len() > 1 {
                diags.push(err(
                    node.next[1].span,
                    format!(
                        "{} node `{id}` has several `next` nodes",
                        node.kind.as_str()
                    ),
                    "only decisions and parallel splits branch; add a decision or a parallel node",
                ));
            }
            for edge in &node.next {
                if edge.when.is_some() || edge.default {
                    diags.push(err(
                        edge.span,
                        format!("node `{id}` is not a decision, so its arrow cannot have `when` or `default`"),
                        "put the condition on a decision node's branches",
                    ));
                }
            }
        }
    }
}

/// Checks start, reachability, dead ends, cycles and joins on the graph of the flow.
fn check_graph(flow: &Flow, diags: &mut Vec<Diagnostic>) {
    let file = &flow.file;
    let mut graph: DiGraph<usize, bool> = DiGraph::new();
    let mut index: HashMap<&str, NodeIndex> = HashMap::new();
    for (i, node) in flow.nodes.iter().enumerate() {
        index
            .entry(node.id.value.as_str())
            .or_insert_with(|| graph.add_node(i));
    }
    for node in &flow.nodes {
        // Arrows out of an end node are reported already and would only add a false cycle.
        if matches!(node.kind, NodeKind::End) {
            continue;
        }
        let from = index[node.id.value.as_str()];
        for edge in &node.next {
            if let Some(&to) = index.get(edge.to.value.as_str()) {
                graph.add_edge(from, to, edge.is_loop);
            }
        }
    }

    let starts: Vec<&Node> = flow
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Start))
        .collect();
    if starts.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::NO_START,
                file,
                flow.id.span,
                format!("flow `{}` has no start node", flow.id.value),
            )
            .with_help("add a node with kind: start whose next is the first box of the flow"),
        );
    }
    for extra in starts.iter().skip(1) {
        diags.push(
            Diagnostic::error(
                codes::SEVERAL_STARTS,
                file,
                extra.kind_span,
                format!("flow `{}` has more than one start node", flow.id.value),
            )
            .with_related(starts[0].kind_span, "first start")
            .with_help(
                "keep one start; several ways in are branches of a decision after the start",
            ),
        );
    }
    let mut ends_exist = false;

    // Reachability from the start.
    let mut reachable: HashSet<NodeIndex> = HashSet::new();
    if let Some(start) = starts.first() {
        let mut dfs = Dfs::new(&graph, index[start.id.value.as_str()]);
        while let Some(n) = dfs.next(&graph) {
            reachable.insert(n);
        }
        for node in &flow.nodes {
            let ix = index[node.id.value.as_str()];
            if !reachable.contains(&ix)
                && !matches!(node.kind, NodeKind::Start)
                && graph[ix] == position(flow, node)
            {
                diags.push(
                    Diagnostic::error(
                        codes::UNREACHABLE,
                        file,
                        node.id.span,
                        format!("node `{}` cannot be reached from the start", node.id.value),
                    )
                    .with_label("no path leads here")
                    .with_help("add it to the `next` of the box before it, or remove it"),
                );
            }
        }
    }

    // Dead ends: nodes from which no end can be reached. Report only where a path
    // enters such a region, so one mistake gives one message.
    let mut reaches_end: HashSet<NodeIndex> = HashSet::new();
    let reversed = Reversed(&graph);
    for node in flow
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::End))
    {
        ends_exist = true;
        let mut dfs = Dfs::new(reversed, index[node.id.value.as_str()]);
        while let Some(n) = dfs.next(reversed) {
            reaches_end.insert(n);
        }
    }
    if !ends_exist && !flow.nodes.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::DEAD_END,
                file,
                flow.id.span,
                format!("flow `{}` has no end node", flow.id.value),
            )
            .with_help("add a node with kind: end where the flow finishes"),
        );
    } else {
        for node in &flow.nodes {
            let ix = index[node.id.value.as_str()];
            if graph[ix] != position(flow, node)
                || reaches_end.contains(&ix)
                || !reachable.contains(&ix)
                || node.next.is_empty()
                || matches!(node.kind, NodeKind::Invalid)
            {
                continue;
            }
            let entered_from_good = graph
                .neighbors_directed(ix, petgraph::Direction::Incoming)
                .any(|p| reaches_end.contains(&p));
            if entered_from_good || matches!(node.kind, NodeKind::Start) {
                diags.push(
                    Diagnostic::error(
                        codes::DEAD_END,
                        file,
                        node.id.span,
                        format!("no end can be reached from node `{}`", node.id.value),
                    )
                    .with_label("every path from here goes round without finishing")
                    .with_help("give the cycle a way out (a decision branch to the rest of the flow or an end)"),
                );
            }
        }
    }

    // Cycles must be closed by an arrow marked `loop: true`.
    let mut sub: DiGraph<NodeIndex, ()> = DiGraph::new();
    let map: HashMap<NodeIndex, NodeIndex> =
        graph.node_indices().map(|n| (n, sub.add_node(n))).collect();
    for e in graph.edge_references() {
        if !*e.weight() {
            sub.add_edge(map[&e.source()], map[&e.target()], ());
        }
    }
    for scc in tarjan_scc(&sub) {
        let self_loop = scc.len() == 1 && sub.contains_edge(scc[0], scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let mut members: Vec<&Node> = scc.iter().map(|&s| &flow.nodes[graph[sub[s]]]).collect();
        members.sort_by_key(|n| n.span.start);
        let names: Vec<String> = members
            .iter()
            .map(|n| format!("`{}`", n.id.value))
            .collect();
        let mut diag = Diagnostic::error(
            codes::UNMARKED_CYCLE,
            file,
            members[0].id.span,
            format!("the nodes {} form a cycle that is not marked as a loop", names.join(", ")),
        )
        .with_help("if the flow really goes back (再振替, 再度処理を行う), add `loop: true` to the arrow that goes back");
        for m in members.iter().skip(1) {
            diag = diag.with_related(m.id.span, "part of the cycle");
        }
        diags.push(diag);
    }

    // Joins need several arrows in; parallel splits must meet again at a join.
    for node in &flow.nodes {
        let ix = index[node.id.value.as_str()];
        if graph[ix] != position(flow, node) {
            continue;
        }
        if matches!(node.kind, NodeKind::Join) {
            let incoming = graph
                .neighbors_directed(ix, petgraph::Direction::Incoming)
                .count();
            if incoming < 2 {
                diags.push(
                    Diagnostic::error(
                        codes::PARALLEL_JOIN,
                        file,
                        node.id.span,
                        format!("join `{}` has {incoming} arrow(s) in; a join needs the branches of a parallel split", node.id.value),
                    )
                    .with_help("point each branch of the parallel split at this join, or remove the join"),
                );
            }
        }
        if matches!(node.kind, NodeKind::Parallel) && node.next.len() >= 2 {
            let mut common: Option<HashSet<NodeIndex>> = None;
            for edge in &node.next {
                let Some(&b) = index.get(edge.to.value.as_str()) else {
                    continue;
                };
                let mut joins = HashSet::new();
                let avoid_split = EdgeFiltered::from_fn(&graph, |e| e.source() != ix);
                let mut dfs = Dfs::new(&avoid_split, b);
                while let Some(n) = dfs.next(&avoid_split) {
                    if matches!(flow.nodes[graph[n]].kind, NodeKind::Join) {
                        joins.insert(n);
                    }
                }
                common = Some(match common {
                    None => joins,
                    Some(c) => c.intersection(&joins).copied().collect(),
                });
            }
            if common.is_some_and(|c| c.is_empty()) {
                diags.push(
                    Diagnostic::error(
                        codes::PARALLEL_JOIN,
                        file,
                        node.id.span,
                        format!("the branches of parallel split `{}` never meet at a join", node.id.value),
                    )
                    .with_label("parallel work starts here")
                    .with_help("lead every branch to one node with kind: join, whose next continues the flow"),
                );
            }
        }
    }
}

/// Returns the index of the node in the flow's list, to tell duplicates from the first definition.
fn position(flow: &Flow, node: &Node) -> usize {
    flow.nodes
        .iter()
        .position(|n| std::ptr::eq(n, node))
        .unwrap_or(usize::MAX)
}
