//! The flow as a Graphviz DOT digraph: one cluster per lane, a shape per node kind, branch
//! words and conditions on the arrows, arrows that go back dashed, marked `↺` and left out of
//! the ranking so the flow still reads left to right.
//!
//! Every string is double-quoted. Inside one, Graphviz reads `\"`, backslash escapes such as
//! `\n`/`\l`/`\N` in labels, and HTML entities such as `&amp;`; [`quote`] escapes all three.

use nagare_engine::flow::{Flow, Node, NodeKind};

use super::{edge_lines, node_lines};

/// Renders the flow as a Graphviz `digraph`.
pub fn render(flow: &Flow) -> String {
    let mut out = String::new();
    out.push_str(&format!("digraph {} {{\n", quote(&flow.id.value)));
    out.push_str(&format!(
        "  graph [rankdir=LR, newrank=true, nodesep=0.4, ranksep=0.5, fontname=\"sans-serif\", labelloc=t, label={}];\n",
        quote(&format!("{} {}", flow.id.value, flow.title))
    ));
    out.push_str("  node [fontname=\"sans-serif\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"sans-serif\", fontsize=10];\n");

    for (i, lane) in flow.lanes.iter().enumerate() {
        // Graphviz draws a subgraph as a box only when its name starts with `cluster`.
        out.push_str(&format!(
            "  subgraph {} {{\n",
            quote(&format!("cluster_{}", lane.id.value))
        ));
        out.push_str(&format!(
            "    label={}; style=filled; fillcolor={}; color=\"#9e9e9e\";\n",
            quote(&lane.title),
            if i % 2 == 0 {
                "\"#fafafa\""
            } else {
                "\"#f0f4f8\""
            }
        ));
        let mut empty = true;
        for node in flow.nodes.iter().filter(|n| n.lane.value == lane.id.value) {
            out.push_str(&format!("    {}\n", node_statement(flow, node)));
            empty = false;
        }
        if empty {
            // Graphviz drops an empty cluster; an invisible point keeps the lane on the page.
            out.push_str(&format!(
                "    {} [shape=point, style=invis, label=\"\"];\n",
                quote(&format!("lane:{}", lane.id.value))
            ));
        }
        out.push_str("  }\n");
    }
    for node in &flow.nodes {
        if flow.lane(&node.lane.value).is_none() {
            out.push_str(&format!("  {}\n", node_statement(flow, node)));
        }
    }

    for node in &flow.nodes {
        for edge in &node.next {
            let mut attrs = Vec::new();
            let lines = edge_lines(edge);
            if !lines.is_empty() {
                attrs.push(format!("label={}", quote(&lines.join("\n"))));
            }
            if edge.is_loop {
                attrs.push("style=dashed, color=\"#d84315\", constraint=false".to_owned());
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            out.push_str(&format!(
                "  {} -> {}{attrs};\n",
                quote(&node.id.value),
                quote(&edge.to.value)
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// One node statement: its id, the kind's shape and style, and its label.
fn node_statement(flow: &Flow, node: &Node) -> String {
    let text = node_lines(flow, node).join("\n");
    let style = match node.kind {
        NodeKind::Start => "shape=circle, style=filled, fillcolor=\"#e8f5e9\"",
        NodeKind::End => "shape=doublecircle, style=filled, fillcolor=\"#ffebee\"",
        NodeKind::System { .. } | NodeKind::Invalid => {
            "shape=box, style=filled, fillcolor=\"#e3f2fd\""
        }
        NodeKind::Manual { .. } => "shape=box, style=\"rounded,filled\", fillcolor=\"#fff8e1\"",
        NodeKind::Decision => "shape=diamond, style=filled, fillcolor=\"#fffde7\"",
        // A bar across the flow, as parallel gateways are drawn in activity diagrams.
        NodeKind::Parallel | NodeKind::Join => {
            "shape=box, style=filled, fillcolor=\"#212121\", fontcolor=\"#ffffff\", width=0.15, height=0.8, fixedsize=true"
        }
        NodeKind::Receive { .. } => "shape=larrow, style=filled, fillcolor=\"#f3e5f5\"",
        NodeKind::Send { .. } => "shape=rarrow, style=filled, fillcolor=\"#f3e5f5\"",
        // A subroutine box: the double border says another flow runs here.
        NodeKind::Call { .. } => "shape=box, peripheries=2, style=filled, fillcolor=\"#e0f7fa\"",
        NodeKind::OutOfScope { .. } => {
            "shape=box, style=\"dashed,filled\", fillcolor=\"#f5f5f5\", color=\"#9e9e9e\", fontcolor=\"#757575\""
        }
        NodeKind::Timer { .. } => "shape=hexagon, style=filled, fillcolor=\"#fbe9e7\"",
    };
    // The bar is too thin for text; its label goes beside it.
    let label = match node.kind {
        NodeKind::Parallel | NodeKind::Join => match &node.name {
            Some(name) => format!("label=\"+\", xlabel={}", quote(name)),
            None => "label=\"+\"".to_owned(),
        },
        _ => format!("label={}", quote(&text)),
    };
    format!("{} [{style}, {label}];", quote(&node.id.value))
}

/// Quotes text as a DOT string whose label shows exactly the text, newlines as line breaks.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            // Doubled, so `\n`, `\l`, `\N` … in the text stay text.
            '\\' => out.push_str("\\\\"),
            // Graphviz decodes entities such as `&lt;` in labels; `&amp;` keeps `&` literal.
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_quotes_backslashes_entities_and_newlines() {
        assert_eq!(
            quote("督促状\"A\" & <b> \\N\n次"),
            "\"督促状\\\"A\\\" &amp; <b> \\\\N\\n次\""
        );
    }
}
