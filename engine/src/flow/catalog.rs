//! A set of flows read together, with the checks that span files: duplicate flow ids,
//! calls to flows that do not exist, and calls that form a cycle.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use super::codes;
use super::handlers::check_handlers;
use super::load::read_flow;
use super::model::{Flow, NodeKind};
use super::validate::validate_flow;
use crate::diagnostic::{self, Diagnostic, Severity, did_you_mean};
use crate::yaml;

/// Flows that passed every check, by flow id. Only [`check_sources`] builds one.
#[derive(Debug, Default)]
pub struct Catalog {
    flows: BTreeMap<String, Arc<Flow>>,
}

impl Catalog {
    /// Returns the flow with the given id.
    pub fn get(&self, id: &str) -> Option<&Arc<Flow>> {
        self.flows.get(id)
    }

    /// Returns every flow, ordered by id.
    pub fn flows(&self) -> impl Iterator<Item = &Arc<Flow>> {
        self.flows.values()
    }

    /// Returns the number of flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Returns whether the catalog holds no flow.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}

/// What checking a set of sources found.
#[derive(Debug)]
pub struct CheckOutcome {
    /// The catalog, when no error was found (warnings allowed).
    pub catalog: Option<Catalog>,
    /// Every error and warning, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckOutcome {
    /// Returns whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Reads and checks flow files given as (display path, bytes), reporting every problem.
pub fn check_sources(sources: &[(String, Vec<u8>)]) -> CheckOutcome {
    check_sources_with(sources, None)
}

/// Like [`check_sources`], and with `handlers` (the names a binary has registered) also
/// warns about each `system` node whose handler is not among them (`FLOW0027`).
pub fn check_sources_with(
    sources: &[(String, Vec<u8>)],
    handlers: Option<&[&str]>,
) -> CheckOutcome {
    let mut diagnostics = Vec::new();
    let mut flows: Vec<Flow> = Vec::new();
    for (path, bytes) in sources {
        let (file, tree) = yaml::parse_bytes(path, bytes);
        match tree {
            Err(mut errs) => diagnostics.append(&mut errs),
            Ok(root) => {
                if let Some(flow) = read_flow(&file, &root, &mut diagnostics) {
                    validate_flow(&flow, &mut diagnostics);
                    if let Some(names) = handlers {
                        check_handlers(&flow, names, &mut diagnostics);
                    }
                    flows.push(flow);
                }
            }
        }
    }
    check_across(&flows, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let catalog = (!has_errors).then(|| Catalog {
        flows: flows
            .into_iter()
            .map(|f| (f.id.value.clone(), Arc::new(f)))
            .collect(),
    });
    CheckOutcome {
        catalog,
        diagnostics,
    }
}

/// Reads and checks one stored flow version (the text kept with running work items),
/// without the checks across files: the flows it calls are resolved when it runs.
pub fn parse_stored(path: &str, text: &str) -> Result<Flow, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let (file, tree) = yaml::parse_bytes(path, text.as_bytes());
    let flow = match tree {
        Err(errs) => return Err(errs),
        Ok(root) => read_flow(&file, &root, &mut diagnostics),
    };
    if let Some(flow) = &flow {
        validate_flow(flow, &mut diagnostics);
    }
    match flow {
        Some(flow) if !diagnostics.iter().any(|d| d.severity == Severity::Error) => Ok(flow),
        _ => Err(diagnostics),
    }
}

fn check_across(flows: &[Flow], diags: &mut Vec<Diagnostic>) {
    let mut by_id: HashMap<&str, &Flow> = HashMap::new();
    for flow in flows {
        if flow.id.value.is_empty() {
            continue;
        }
        if let Some(first) = by_id.get(flow.id.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_FLOW,
                    &flow.file,
                    flow.id.span,
                    format!("flow id `{}` is also used by {}", flow.id.value, first.file.path()),
                )
                .with_help("each flow file needs its own id; one of the two is a copy or has the wrong number"),
            );
        } else {
            by_id.insert(&flow.id.value, flow);
        }
    }
    let mut ids: Vec<&str> = by_id.keys().copied().collect();
    // Sorted so that suggestions and messages do not depend on hash order.
    ids.sort_unstable();

    let mut graph: DiGraph<&str, ()> = DiGraph::new();
    let index: HashMap<&str, _> = ids.iter().map(|id| (*id, graph.add_node(*id))).collect();
    for flow in flows {
        for node in &flow.nodes {
            let NodeKind::Call { flow: target, .. } = &node.kind else {
                continue;
            };
            match index.get(target.value.as_str()) {
                None => diags.push(
                    Diagnostic::error(
                        codes::UNKNOWN_FLOW,
                        &flow.file,
                        target.span,
                        format!("node `{}` calls flow `{}`, which does not exist", node.id.value, target.value),
                    )
                    .with_label("no flow file has this id")
                    .with_help_opt(did_you_mean(&target.value, ids.iter().copied()).or_else(|| {
                        Some("check the flow number, and that its file is among the checked paths".to_owned())
                    })),
                ),
                Some(&to) => {
                    if let Some(&from) = index.get(flow.id.value.as_str()) {
                        graph.update_edge(from, to, ());
                    }
                }
            }
        }
    }
    for scc in tarjan_scc(&graph) {
        let self_call = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
        if scc.len() < 2 && !self_call {
            continue;
        }
        let mut members: Vec<&str> = scc.iter().map(|&n| graph[n]).collect();
        members.sort_unstable();
        // Report on each call node inside the cycle, so every file involved is named.
        for flow in flows
            .iter()
            .filter(|f| members.contains(&f.id.value.as_str()))
        {
            for node in &flow.nodes {
                if let NodeKind::Call { flow: target, .. } = &node.kind
                    && members.contains(&target.value.as_str())
                {
                    diags.push(
                        Diagnostic::error(
                            codes::CALL_CYCLE,
                            &flow.file,
                            target.span,
                            format!("flows {} call each other in a cycle", members.join(" → ")),
                        )
                        .with_label("this call is part of the cycle")
                        .with_help("a flow must not (indirectly) call itself; one of these calls should be a plain step or a note"),
                    );
                }
            }
        }
    }
}
