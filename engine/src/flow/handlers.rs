//! The check that ties flows to the code that runs them: every `system` node names a
//! handler the running binary has registered. The engine does not know that registry, so
//! the caller hands the names over ([`super::check_sources_with`]).

use super::codes;
use super::model::{Flow, NodeKind};
use crate::diagnostic::Diagnostic;

/// Warns about each `system` node whose handler is not among `registered`.
///
/// A warning, not an error: the flows of the national standard are drawn before their
/// handlers are written, and a flow with such a node still runs up to that step (where
/// the work item fails, naming the handler).
pub fn check_handlers(flow: &Flow, registered: &[&str], diags: &mut Vec<Diagnostic>) {
    for node in &flow.nodes {
        let NodeKind::System { handler, .. } = &node.kind else {
            continue;
        };
        if handler.value.is_empty() || registered.contains(&handler.value.as_str()) {
            continue;
        }
        let help = misspelt(&handler.value, registered).unwrap_or_else(|| {
            "a work item that reaches this step fails until a handler of this name is \
             registered (nagare-steps, steps/src/handlers/mod.rs); if people or another \
             system do this step, make the node `manual` or `out_of_scope`"
                .to_owned()
        });
        diags.push(
            Diagnostic::error(
                codes::UNREGISTERED_HANDLER,
                &flow.file,
                handler.span,
                format!(
                    "node `{}` runs handler `{}`, which is not registered",
                    node.id.value, handler.value
                ),
            )
            .with_label("no handler of this name in this build")
            .with_help(help)
            .warning(),
        );
    }
}

/// Suggests the registered name a handler name is a typo of: at most two edits away.
///
/// Handler names share long prefixes (`union_exchange.create_…_file`), so the similarity
/// the other checks use would call every new step a typo of an existing one.
fn misspelt(name: &str, registered: &[&str]) -> Option<String> {
    registered
        .iter()
        .map(|r| (strsim::levenshtein(name, r), *r))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, r)| format!("did you mean `{r}`?"))
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::flow::{check_sources, check_sources_with, codes};

    const FLOW: &str = r#"
id: "9.9"
title: 試験
category: 9.試験
pages: [1]
version: 1
lanes:
  - { id: municipal_office, title: 後期高齢担当課, kind: staff, role: municipal_office }
nodes:
  - { id: start, kind: start, lane: municipal_office, next: first }
  - { id: first, kind: system, lane: municipal_office, name: 抽出, handler: demand.extract_targets, next: second }
  - { id: second, kind: system, lane: municipal_office, name: 作成, handler: demand.create_leters, next: third }
  - { id: third, kind: system, lane: municipal_office, name: 登録, handler: enforcement.register, next: finish }
  - { id: finish, kind: end, lane: municipal_office }
"#;

    fn sources() -> Vec<(String, Vec<u8>)> {
        vec![("9.9.yaml".to_owned(), FLOW.as_bytes().to_vec())]
    }

    #[test]
    fn unregistered_handlers_are_warnings_naming_the_node() {
        let registered = ["demand.extract_targets", "demand.create_letters"];
        let outcome = check_sources_with(&sources(), Some(&registered));
        let found: Vec<(&str, Severity, &str)> = outcome
            .diagnostics
            .iter()
            .map(|d| (d.code, d.severity, d.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    codes::UNREGISTERED_HANDLER,
                    Severity::Warning,
                    "node `second` runs handler `demand.create_leters`, which is not registered"
                ),
                (
                    codes::UNREGISTERED_HANDLER,
                    Severity::Warning,
                    "node `third` runs handler `enforcement.register`, which is not registered"
                ),
            ]
        );
        // A misspelt name points at the registered one; an unknown one says what to do.
        assert_eq!(
            outcome.diagnostics[0].help.as_deref(),
            Some("did you mean `demand.create_letters`?")
        );
        assert!(
            outcome.diagnostics[1]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`manual` or `out_of_scope`"))
        );
        // Warnings do not keep the flows from running.
        assert!(outcome.catalog.is_some());
    }

    #[test]
    fn without_a_registry_nothing_is_said_about_handlers() {
        assert!(check_sources(&sources()).diagnostics.is_empty());
    }
}
