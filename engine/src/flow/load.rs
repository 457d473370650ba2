//! Reads a flow file's YAML tree into the model, reporting every field problem.
//!
//! Reading is forgiving: a broken part is reported and skipped (or kept as
//! [`NodeKind::Invalid`]) so that later checks still see the rest of the flow.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::codes;
use super::model::*;
use crate::diagnostic::{Diagnostic, SourceFile, Span};
use crate::yaml::{self, MapReader, Node as YNode, Spanned, Value};

/// Reads a flow from a parsed file. Returns `None` only when not even the top level is a mapping.
pub fn read_flow(
    file: &Arc<SourceFile>,
    root: &YNode,
    diags: &mut Vec<Diagnostic>,
) -> Option<Flow> {
    let mut map = MapReader::new(file, root, "the flow", diags)?;
    let id = map.required_str("id", diags);
    if let Some(id) = &id
        && !is_flow_id(&id.value)
    {
        diags.push(
            Diagnostic::error(
                codes::MALFORMED_ID,
                file,
                id.span,
                format!("`{}` is not a flow id", id.value),
            )
            .with_label("expected the seed's flow number")
            .with_help("write the flow number of the seed, quoted: id: \"4.7\""),
        );
    }
    let title = map.required_str("title", diags);
    let category = map.required_str("category", diags);
    let pages = map
        .required_seq("pages", diags)
        .iter()
        .filter_map(|n| yaml::unsigned(file, n, "pages", diags).map(|s| s.value))
        .collect();
    let version = map.required_u32("version", diags);
    if let Some(v) = &version
        && v.value == 0
    {
        diags.push(
            Diagnostic::error(
                yaml::codes::INVALID_VALUE,
                file,
                v.span,
                "`version` starts at 1",
            )
            .with_help("write version: 1 for a new flow and raise it on every change"),
        );
    }
    let note = map.optional_str("note", diags).map(|s| s.value);

    let lanes = map
        .required_seq("lanes", diags)
        .iter()
        .filter_map(|n| read_lane(file, n, diags))
        .collect();
    let documents = map
        .optional_seq("documents", diags)
        .iter()
        .filter_map(|n| read_document(file, n, diags))
        .collect();
    let nodes = map
        .required_seq("nodes", diags)
        .iter()
        .filter_map(|n| read_node(file, n, diags))
        .collect();
    map.finish(diags);

    let content_hash = hex(&Sha256::digest(file.text().as_bytes()));
    Some(Flow {
        file: Arc::clone(file),
        id: id.unwrap_or_else(|| Spanned::new(String::new(), root.span)),
        title: title.map(|s| s.value).unwrap_or_default(),
        category: category.map(|s| s.value).unwrap_or_default(),
        pages,
        version: version.map_or(1, |v| v.value),
        note,
        lanes,
        documents,
        nodes,
        content_hash,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn is_flow_id(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// Returns whether `s` is a lower-case ASCII identifier (`municipal_office`).
pub fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.len() <= 64
}

fn identifier(
    file: &Arc<SourceFile>,
    map: &mut MapReader<'_>,
    name: &'static str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<String>> {
    let id = map.required_str(name, diags)?;
    if !is_identifier(&id.value) {
        diags.push(
            Diagnostic::error(
                codes::MALFORMED_ID,
                file,
                id.span,
                format!("`{}` is not a valid {name}", id.value),
            )
            .with_label("expected lower-case ASCII letters, digits and `_`")
            .with_help(format!(
                "write the {name} in English snake_case from docs/glossary.md, e.g. `municipal_office`; Japanese goes in `name` or `title`"
            )),
        );
    }
    Some(id)
}

fn read_lane(file: &Arc<SourceFile>, node: &YNode, diags: &mut Vec<Diagnostic>) -> Option<Lane> {
    let mut map = MapReader::new(file, node, "a lane", diags)?;
    let id = identifier(file, &mut map, "id", diags);
    let what = id
        .as_ref()
        .map_or_else(|| "a lane".to_owned(), |id| format!("lane `{}`", id.value));
    map.what_is(what);
    let title = map.required_str("title", diags);
    let kind = map
        .required_str("kind", diags)
        .and_then(|k| yaml::one_of(file, &k, "kind", LaneKind::WORDS, diags));
    let role = map.optional_str("role", diags);
    let note = map.optional_str("note", diags).map(|s| s.value);
    let span = map.span();
    match (kind, &role) {
        (Some(LaneKind::Staff), None) => diags.push(
            Diagnostic::error(
                codes::LANE_ROLE,
                file,
                id.as_ref().map_or(span, |i| i.span),
                format!("{} is a staff lane without a `role`", map.what()),
            )
            .with_help(
                "add `role:` naming the role whose task queue receives this lane's manual tasks",
            ),
        ),
        (Some(k), Some(r)) if k != LaneKind::Staff => diags.push(
            Diagnostic::error(
                codes::LANE_ROLE,
                file,
                r.span,
                format!(
                    "{} is not a staff lane, so it cannot have a `role`",
                    map.what()
                ),
            )
            .with_help(
                "only `kind: staff` lanes have task queues; remove `role:` or change the kind",
            ),
        ),
        _ => {}
    }
    map.finish(diags);
    Some(Lane {
        id: id?,
        title: title?.value,
        kind: kind?,
        role,
        note,
        span,
    })
}

fn read_document(
    file: &Arc<SourceFile>,
    node: &YNode,
    diags: &mut Vec<Diagnostic>,
) -> Option<Document> {
    let mut map = MapReader::new(file, node, "a document", diags)?;
    let id = identifier(file, &mut map, "id", diags);
    if let Some(id) = &id {
        map.what_is(format!("document `{}`", id.value));
    }
    let title = map.required_str("title", diags);
    let kind = map
        .required_str("kind", diags)
        .and_then(|k| yaml::one_of(file, &k, "kind", DocumentKind::WORDS, diags));
    let note = map.optional_str("note", diags).map(|s| s.value);
    map.finish(diags);
    Some(Document {
        id: id?,
        title: title?.value,
        kind: kind?,
        note,
    })
}

/// Kinds whose boxes carry no text of their own in the seed.
fn name_optional(kind: &str) -> bool {
    matches!(kind, "start" | "end" | "decision" | "parallel" | "join")
}

fn read_node(file: &Arc<SourceFile>, node: &YNode, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let mut map = MapReader::new(file, node, "a node", diags)?;
    let id = identifier(file, &mut map, "id", diags)?;
    map.what_is(format!("node `{}`", id.value));
    let kind_word = map.required_str("kind", diags);
    let kind_span = kind_word.as_ref().map_or(id.span, |k| k.span);
    let lane = map.required_str("lane", diags);
    let name = if kind_word.as_ref().is_some_and(|k| name_optional(&k.value)) {
        map.optional_str("name", diags)
    } else {
        map.required_str("name", diags)
    }
    .map(|s| s.value);
    let step = map.optional_str("step", diags);
    if let Some(step) = &step
        && !(step.value.len() == 3 && step.value.bytes().all(|b| b.is_ascii_digit()))
    {
        diags.push(
            Diagnostic::error(
                codes::MALFORMED_STEP,
                file,
                step.span,
                format!("`{}` is not a step number", step.value),
            )
            .with_label("expected three digits")
            .with_help("write the seed's step number as three digits in quotes: step: \"010\""),
        );
    }
    let requirements = map.optional_str_list("requirements", diags);
    for req in &requirements {
        if !is_requirement_id(&req.value) {
            let help = if req.value.ends_with('.') {
                format!(
                    "drop the trailing dot: \"{}\"",
                    req.value.trim_end_matches('.')
                )
            } else {
                "write the ID as numbers separated by dots, quoted: \"3.4.7\"".to_owned()
            };
            diags.push(
                Diagnostic::error(
                    codes::MALFORMED_REQUIREMENT,
                    file,
                    req.span,
                    format!("`{}` is not a requirement ID", req.value),
                )
                .with_label("expected e.g. 3.4.7")
                .with_help(help),
            );
        }
    }
    let note = map.optional_str("note", diags).map(|s| s.value);
    let page = map.optional_u32("page", diags).map(|p| p.value);
    let inferred = map
        .optional_bool("inferred", diags)
        .is_some_and(|b| b.value);
    let produces = map.optional_str_list("produces", diags);
    let consumes = map.optional_str_list("consumes", diags);
    let next = match map.optional("next") {
        None => Vec::new(),
        Some(n) => read_edges(file, n, diags),
    };
    let kind = match &kind_word {
        None => NodeKind::Invalid,
        Some(word) => read_kind(file, &mut map, word, diags),
    };
    map.finish(diags);
    Some(Node {
        id,
        kind,
        kind_span,
        lane: lane.unwrap_or_else(|| Spanned::new(String::new(), Span::default())),
        name,
        step,
        requirements,
        note,
        page,
        inferred,
        produces,
        consumes,
        next,
        span: node.span,
    })
}

/// Returns whether `s` is a function-requirement ID such as `3.4.7` or `1.4.12`.
pub fn is_requirement_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (3..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn read_kind(
    file: &Arc<SourceFile>,
    map: &mut MapReader<'_>,
    word: &Spanned<String>,
    diags: &mut Vec<Diagnostic>,
) -> NodeKind {
    let allowed: Vec<(&'static str, &'static str)> =
        NodeKind::NAMES.iter().map(|n| (*n, *n)).collect();
    let Some(kind) = yaml::one_of(file, word, "kind", &allowed, diags) else {
        map.accept_rest();
        return NodeKind::Invalid;
    };
    match kind {
        "start" => NodeKind::Start,
        "end" => NodeKind::End,
        "decision" => NodeKind::Decision,
        "parallel" => NodeKind::Parallel,
        "join" => NodeKind::Join,
        "system" => {
            let handler = map.required_str("handler", diags);
            if let Some(h) = &handler
                && !is_handler_name(&h.value)
            {
                diags.push(
                    Diagnostic::error(
                        codes::MALFORMED_HANDLER,
                        file,
                        h.span,
                        format!("`{}` is not a handler name", h.value),
                    )
                    .with_label("expected area.action")
                    .with_help("handler names are English snake_case words joined by dots, e.g. `assessment.split_installments`"),
                );
            }
            let retries = map.optional_u32("retries", diags).map_or(3, |r| r.value);
            let batch = map.optional_bool("batch", diags).is_some_and(|b| b.value);
            match handler {
                Some(handler) => NodeKind::System {
                    handler,
                    retries,
                    batch,
                },
                None => NodeKind::Invalid,
            }
        }
        "manual" => {
            let fields = map
                .optional_seq("fields", diags)
                .iter()
                .filter_map(|n| read_field(file, n, diags))
                .collect::<Vec<_>>();
            for (i, f) in fields.iter().enumerate() {
                if let Some(first) = fields[..i].iter().find(|g| g.id.value == f.id.value) {
                    diags.push(
                        Diagnostic::error(
                            codes::DUPLICATE_ID,
                            file,
                            f.id.span,
                            format!("the field id `{}` is used twice in this task", f.id.value),
                        )
                        .with_related(first.id.span, "first used here")
                        .with_help("give each recorded field its own id"),
                    );
                }
            }
            let due = map
                .optional("due")
                .and_then(|n| read_date_rule(file, n, "due", diags));
            NodeKind::Manual { fields, due }
        }
        "receive" => {
            let from = map.required_str("from", diags);
            let document = map.required_str("document", diags);
            let correlation = map.optional_str("correlation", diags).map(|s| s.value);
            match (from, document) {
                (Some(from), Some(document)) => NodeKind::Receive {
                    from,
                    document,
                    correlation,
                },
                _ => NodeKind::Invalid,
            }
        }
        "send" => {
            let to = map.required_str("to", diags);
            let document = map.required_str("document", diags);
            match (to, document) {
                (Some(to), Some(document)) => NodeKind::Send { to, document },
                _ => NodeKind::Invalid,
            }
        }
        "call" => {
            let flow = map.required_str("flow", diags);
            let wait = map.optional_bool("wait", diags).is_none_or(|b| b.value);
            let for_each = map.optional_str("for_each", diags).map(|s| s.value);
            match flow {
                Some(flow) => NodeKind::Call {
                    flow,
                    wait,
                    for_each,
                },
                None => NodeKind::Invalid,
            }
        }
        "out_of_scope" => {
            let system = map
                .required_str("system", diags)
                .and_then(|s| yaml::one_of(file, &s, "system", ExternalSystem::WORDS, diags));
            let waits = map.optional_bool("waits", diags).is_some_and(|b| b.value);
            match system {
                Some(system) => NodeKind::OutOfScope { system, waits },
                None => NodeKind::Invalid,
            }
        }
        "timer" => match map
            .required("wait", diags)
            .and_then(|n| read_date_rule(file, n, "wait", diags))
        {
            Some(wait) => NodeKind::Timer { wait },
            None => NodeKind::Invalid,
        },
        _ => NodeKind::Invalid,
    }
}

fn is_handler_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| is_identifier(p))
}

fn read_field(file: &Arc<SourceFile>, node: &YNode, diags: &mut Vec<Diagnostic>) -> Option<Field> {
    let mut map = MapReader::new(file, node, "a field", diags)?;
    let id = identifier(file, &mut map, "id", diags);
    if let Some(id) = &id {
        map.what_is(format!("field `{}`", id.value));
    }
    let label = map.required_str("label", diags);
    let kind_word = map.required_str("type", diags);
    let kind = kind_word
        .as_ref()
        .and_then(|k| yaml::one_of(file, k, "type", FieldKind::WORDS, diags));
    let choices: Vec<Spanned<String>> = map.optional_str_list("choices", diags);
    let required = map.optional_bool("required", diags).is_none_or(|b| b.value);
    if kind == Some(FieldKind::Choice) && choices.len() < 2 {
        diags.push(
            Diagnostic::error(
                codes::FIELD_CHOICES,
                file,
                kind_word.as_ref().map_or(map.span(), |k| k.span),
                format!("{} is a choice with fewer than two `choices`", map.what()),
            )
            .with_help("list the possible answers: choices: [認定, 却下]"),
        );
    } else if kind.is_some() && kind != Some(FieldKind::Choice) && !choices.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::FIELD_CHOICES,
                file,
                choices[0].span,
                format!("{} has `choices` but is not of type choice", map.what()),
            )
            .with_help("write type: choice, or remove the choices"),
        );
    }
    map.finish(diags);
    Some(Field {
        id: id?,
        label: label?.value,
        kind: kind?,
        choices: choices.into_iter().map(|c| c.value).collect(),
        required,
    })
}

fn read_date_rule(
    file: &Arc<SourceFile>,
    node: &YNode,
    field: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<DateRule> {
    let mut map = MapReader::new(file, node, format!("`{field}`"), diags)?;
    let after = map.optional_str("after", diags);
    let from = map.optional_str("from", diags);
    let until = map.optional_str("until", diags);
    map.finish(diags);
    match (after, from, until) {
        (Some(after), Some(from), None) => {
            let period = parse_period(&after.value);
            if period.is_none() {
                diags.push(
                    Diagnostic::error(
                        codes::MALFORMED_PERIOD,
                        file,
                        after.span,
                        format!("`{}` is not a period", after.value),
                    )
                    .with_label("expected a number and d, bd or m")
                    .with_help(
                        "write e.g. 20d (calendar days), 10bd (business days) or 3m (months)",
                    ),
                );
            }
            let (amount, unit) = period?;
            let from = if from.value == "entered" {
                DateBase::Entered
            } else {
                DateBase::Field(from.value)
            };
            Some(DateRule::After { amount, unit, from })
        }
        (None, None, Some(until)) => Some(DateRule::Until { field: until.value }),
        _ => {
            diags.push(
                Diagnostic::error(
                    codes::MALFORMED_PERIOD,
                    file,
                    node.span,
                    format!("`{field}` needs either `after` with `from`, or `until` alone"),
                )
                .with_help("write { after: 20d, from: due_date } or { until: plan_next_date }"),
            );
            None
        }
    }
}

/// Parses `20d`, `10bd` or `3m`.
pub fn parse_period(s: &str) -> Option<(u32, PeriodUnit)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    let amount: u32 = num.parse().ok()?;
    let unit = match unit {
        "d" => PeriodUnit::Days,
        "bd" => PeriodUnit::BusinessDays,
        "m" => PeriodUnit::Months,
        _ => return None,
    };
    (amount <= 3650).then_some((amount, unit))
}

fn read_edges(file: &Arc<SourceFile>, node: &YNode, diags: &mut Vec<Diagnostic>) -> Vec<Edge> {
    match &node.value {
        Value::Str(s) => vec![simple_edge(s, node.span)],
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| read_edge(file, item, diags))
            .collect(),
        other => {
            diags.push(yaml::wrong_type(
                file,
                node,
                "next",
                "a node id or a list",
                other,
            ));
            Vec::new()
        }
    }
}

fn simple_edge(to: &str, span: Span) -> Edge {
    Edge {
        to: Spanned::new(to.to_owned(), span),
        label: None,
        when: None,
        default: false,
        is_loop: false,
        note: None,
        span,
    }
}

fn read_edge(file: &Arc<SourceFile>, node: &YNode, diags: &mut Vec<Diagnostic>) -> Option<Edge> {
    if let Value::Str(s) = &node.value {
        return Some(simple_edge(s, node.span));
    }
    let mut map = MapReader::new(file, node, "an arrow in `next`", diags)?;
    let to = map.required_str("to", diags);
    let label = map.optional_str("label", diags).map(|s| s.value);
    let when = map.optional_str("when", diags);
    let default = map.optional_bool("default", diags).is_some_and(|b| b.value);
    let is_loop = map.optional_bool("loop", diags).is_some_and(|b| b.value);
    let note = map.optional_str("note", diags).map(|s| s.value);
    map.finish(diags);
    let to = to?;
    // Point at the target rather than the whole mapping, which may span several lines.
    let span = to.span;
    Some(Edge {
        to,
        label,
        when,
        default,
        is_loop,
        note,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("20d"), Some((20, PeriodUnit::Days)));
        assert_eq!(parse_period("10bd"), Some((10, PeriodUnit::BusinessDays)));
        assert_eq!(parse_period("3m"), Some((3, PeriodUnit::Months)));
        assert_eq!(parse_period("d"), None);
        assert_eq!(parse_period("3w"), None);
        assert_eq!(parse_period("-3d"), None);
    }

    #[test]
    fn requirement_ids() {
        assert!(is_requirement_id("3.4.7"));
        assert!(is_requirement_id("1.4.12"));
        assert!(!is_requirement_id("3.4.7."));
        assert!(!is_requirement_id("3.4"));
        assert!(!is_requirement_id("3.a.7"));
    }
}
