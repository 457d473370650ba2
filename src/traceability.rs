//! Requirement traceability: each function-requirement ID of the standard → the flows and
//! numbered steps that implement it → the handler that runs each step, and whether that
//! handler is registered. This is the coverage figure the project drives to 100%.

use std::collections::{BTreeMap, BTreeSet};

use nagare_engine::flow::{Catalog, NodeKind};
use serde::Serialize;

/// One step that implements a requirement.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StepRef {
    pub flow: String,
    pub flow_title: String,
    pub step: Option<String>,
    pub node: String,
    pub name: String,
    /// The handler of a system step; `None` for steps done elsewhere (manual, out of scope).
    pub handler: Option<String>,
    pub registered: bool,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub requirements: BTreeMap<String, Vec<StepRef>>,
    pub summary: Summary,
}

/// Counts for the summary line.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub requirement_ids: usize,
    /// Requirement IDs all of whose system steps have a registered handler.
    pub requirement_ids_covered: usize,
    pub numbered_steps: usize,
    pub system_steps: usize,
    pub system_steps_with_handler: usize,
}

/// Builds the report; `registered` tells whether a handler name has a registered handler.
pub fn report(catalog: &Catalog, registered: &dyn Fn(&str) -> bool) -> Report {
    let mut requirements: BTreeMap<String, Vec<StepRef>> = BTreeMap::new();
    let mut numbered_steps = 0;
    let mut system_steps = 0;
    let mut system_steps_with_handler = 0;
    for flow in catalog.flows() {
        for node in &flow.nodes {
            if node.step.is_some() {
                numbered_steps += 1;
            }
            let handler = match &node.kind {
                NodeKind::System { handler, .. } => Some(handler.value.clone()),
                _ => None,
            };
            let is_registered = handler.as_deref().is_some_and(registered);
            if handler.is_some() {
                system_steps += 1;
                if is_registered {
                    system_steps_with_handler += 1;
                }
            }
            for req in &node.requirements {
                requirements
                    .entry(req.value.clone())
                    .or_default()
                    .push(StepRef {
                        flow: flow.id.value.clone(),
                        flow_title: flow.title.clone(),
                        step: node.step.as_ref().map(|s| s.value.clone()),
                        node: node.id.value.clone(),
                        name: node.display_name().to_owned(),
                        handler: handler.clone(),
                        registered: is_registered,
                    });
            }
        }
    }
    // Sort IDs numerically (3.4.10 after 3.4.9), not as text.
    let requirements: BTreeMap<String, Vec<StepRef>> = requirements.into_iter().collect();
    let requirement_ids = requirements.len();
    let requirement_ids_covered = requirements
        .values()
        .filter(|steps| {
            let system: Vec<&StepRef> = steps.iter().filter(|s| s.handler.is_some()).collect();
            !system.is_empty() && system.iter().all(|s| s.registered)
        })
        .count();
    Report {
        requirements,
        summary: Summary {
            requirement_ids,
            requirement_ids_covered,
            numbered_steps,
            system_steps,
            system_steps_with_handler,
        },
    }
}

/// Returns every handler name the catalog's `system` nodes use, sorted and once each.
pub fn handler_names(catalog: &Catalog) -> BTreeSet<String> {
    catalog
        .flows()
        .flat_map(|f| f.nodes.iter())
        .filter_map(|n| match &n.kind {
            NodeKind::System { handler, .. } => Some(handler.value.clone()),
            _ => None,
        })
        .collect()
}

/// The header of the expectation list of unregistered handlers.
pub const UNREGISTERED_HEADER: &str = "\
# Handler names that system nodes of flows/ use and that no registered handler implements.
# tests/handler_registry.rs checks that this list is exactly that set; after registering a
# handler or naming a new one in a flow, regenerate it and review the diff:
#   cargo run -q -- reqs --unregistered > tests/data/unregistered_handlers.txt
";

/// Returns the expectation list: [`UNREGISTERED_HEADER`], then each handler name the
/// catalog uses that `registered` does not know, one a line.
pub fn unregistered_list(catalog: &Catalog, registered: &dyn Fn(&str) -> bool) -> String {
    let mut out = UNREGISTERED_HEADER.to_owned();
    for name in handler_names(catalog) {
        if !registered(&name) {
            out.push_str(&name);
            out.push('\n');
        }
    }
    out
}

/// Orders requirement IDs by their numbers: `3.4.9` before `3.4.10`.
pub fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<u32> {
        s.split('.')
            .map(|p| p.parse().unwrap_or(u32::MAX))
            .collect()
    };
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nagare_engine::flow::check_sources;

    fn catalog() -> Catalog {
        let mut sources = Vec::new();
        for name in ["demand-small.yaml", "enforcement-small.yaml"] {
            let path = format!("tests/flows/valid/{name}");
            sources.push((path.clone(), std::fs::read(&path).unwrap()));
        }
        check_sources(&sources).catalog.unwrap()
    }

    #[test]
    fn maps_ids_to_steps_and_counts_registered_handlers() {
        let report = report(&catalog(), &|h| h == "demand.create_letters");
        let r = &report.requirements;
        assert_eq!(
            r.keys().collect::<Vec<_>>(),
            ["4.7.1", "4.7.2", "4.7.3", "5.3.1"]
        );
        assert_eq!(
            r["4.7.2"][0].handler.as_deref(),
            Some("demand.create_letters")
        );
        assert!(r["4.7.2"][0].registered);
        assert!(!r["4.7.1"][0].registered);
        assert_eq!(
            report.summary,
            Summary {
                requirement_ids: 4,
                requirement_ids_covered: 2,
                numbered_steps: 3,
                system_steps: 3,
                system_steps_with_handler: 1,
            }
        );
    }

    #[test]
    fn orders_ids_by_number() {
        let mut ids = vec!["3.4.10", "3.4.9", "1.4.12", "3.4.1"];
        ids.sort_by(|a, b| numeric_order(a, b));
        assert_eq!(ids, ["1.4.12", "3.4.1", "3.4.9", "3.4.10"]);
    }
}
