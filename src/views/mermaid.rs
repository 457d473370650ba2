//! The flow as a Mermaid flowchart: one subgraph per lane, a shape per node kind, branch
//! words and conditions on the arrows, arrows that go back dotted and marked `↺`.
//!
//! Mermaid reads its source through several regex passes before it parses it (front matter,
//! `%%{…}%%` directives, `#…;` entity codes, `style …:#…;` fix-ups) and then shows labels as
//! HTML. [`label`] therefore writes every character those passes or HTML could take as syntax
//! as a numeric entity code (`#34;`), which Mermaid turns back into the character.

use nagare_engine::flow::{Flow, NodeKind};

use super::{edge_lines, node_lines};

/// Renders the flow as Mermaid `flowchart` source.
pub fn render(flow: &Flow) -> String {
    let mut out = String::new();
    // Front matter is YAML; a JSON string is a valid YAML double-quoted scalar. Mermaid shows
    // the title through an HTML sanitiser that turns `<`, `>` and `&` into visible entity
    // text (`&lt;`) and decodes no entity codes, so those three are drawn as their
    // full-width forms, which read the same.
    let title: String = format!("{} {}", flow.id.value, flow.title)
        .chars()
        .map(|c| match c {
            '<' => '＜',
            '>' => '＞',
            '&' => '＆',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    out.push_str("---\n");
    out.push_str(&format!(
        "title: {}\n",
        serde_json::to_string(&title).unwrap_or_default()
    ));
    out.push_str("---\n");
    out.push_str("flowchart LR\n");

    for lane in &flow.lanes {
        out.push_str(&format!(
            "  subgraph {}[\"{}\"]\n",
            lane_id(&lane.id.value),
            label(std::slice::from_ref(&lane.title))
        ));
        out.push_str("    direction LR\n");
        for node in flow.nodes.iter().filter(|n| n.lane.value == lane.id.value) {
            out.push_str(&format!("    {}\n", node_shape(flow, node)));
        }
        out.push_str("  end\n");
    }
    // Nodes of undeclared lanes (only in flows with errors) are still drawn, outside lanes.
    for node in &flow.nodes {
        if flow.lane(&node.lane.value).is_none() {
            out.push_str(&format!("  {}\n", node_shape(flow, node)));
        }
    }

    for node in &flow.nodes {
        for edge in &node.next {
            let arrow = if edge.is_loop { "-.->" } else { "-->" };
            let lines = edge_lines(edge);
            let text = if lines.is_empty() {
                String::new()
            } else {
                format!("|\"{}\"|", label(&lines))
            };
            out.push_str(&format!(
                "  {} {arrow}{text} {}\n",
                node_id(&node.id.value),
                node_id(&edge.to.value)
            ));
        }
    }

    for (kind, style) in CLASS_DEFS {
        out.push_str(&format!("  classDef k_{kind} {style}\n"));
    }
    for kind in NodeKind::NAMES {
        let ids: Vec<String> = flow
            .nodes
            .iter()
            .filter(|n| n.kind.as_str() == *kind)
            .map(|n| node_id(&n.id.value))
            .collect();
        if !ids.is_empty() {
            out.push_str(&format!("  class {} k_{kind}\n", ids.join(",")));
        }
    }
    out
}

/// Node styles by kind. Class names are prefixed because `end` is a Mermaid keyword.
const CLASS_DEFS: &[(&str, &str)] = &[
    ("start", "fill:#e8f5e9,stroke:#2e7d32"),
    ("end", "fill:#ffebee,stroke:#c62828"),
    ("system", "fill:#e3f2fd,stroke:#1565c0"),
    ("manual", "fill:#fff8e1,stroke:#f9a825"),
    ("decision", "fill:#fffde7,stroke:#9e9d24"),
    ("parallel", "fill:#eeeeee,stroke:#212121"),
    ("join", "fill:#eeeeee,stroke:#212121"),
    ("receive", "fill:#f3e5f5,stroke:#6a1b9a"),
    ("send", "fill:#f3e5f5,stroke:#6a1b9a"),
    ("call", "fill:#e0f7fa,stroke:#00838f"),
    (
        "out_of_scope",
        "fill:#f5f5f5,stroke:#9e9e9e,color:#757575,stroke-dasharray:5 5",
    ),
    ("timer", "fill:#fbe9e7,stroke:#d84315"),
];

/// One node's definition: its id and its kind's shape around the quoted label.
fn node_shape(flow: &Flow, node: &nagare_engine::flow::Node) -> String {
    let text = label(&node_lines(flow, node));
    // An empty quoted label would show the id; a space keeps unnamed decisions blank.
    let text = if text.is_empty() {
        " ".to_owned()
    } else {
        text
    };
    let (open, close) = match node.kind {
        NodeKind::Start => ("((", "))"),
        NodeKind::End => ("(((", ")))"),
        NodeKind::System { .. } | NodeKind::OutOfScope { .. } | NodeKind::Invalid => ("[", "]"),
        NodeKind::Manual { .. } => ("(", ")"),
        NodeKind::Decision | NodeKind::Parallel | NodeKind::Join => ("{", "}"),
        NodeKind::Receive { .. } => ("[\\", "\\]"),
        NodeKind::Send { .. } => (">", "]"),
        NodeKind::Call { .. } => ("[[", "]]"),
        NodeKind::Timer { .. } => ("{{", "}}"),
    };
    format!("{}{open}\"{text}\"{close}", node_id(&node.id.value))
}

/// The Mermaid id of a node; the prefix keeps ids such as `end` from reading as keywords.
fn node_id(id: &str) -> String {
    format!("n_{}", ident(id))
}

/// The Mermaid id of a lane's subgraph; a different prefix from nodes, so they never clash.
fn lane_id(id: &str) -> String {
    format!("lane_{}", ident(id))
}

/// Keeps ASCII letters, digits and `_`; checked flows have only those in ids.
fn ident(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes lines of text for a double-quoted Mermaid label, joined by `<br/>`.
pub(crate) fn label(lines: &[String]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("<br/>");
        }
        for c in line.chars() {
            match c {
                // The characters Mermaid's passes or HTML treat as syntax, as entity codes.
                '"' | '#' | '%' | '&' | ':' | ';' | '<' | '>' | '`' | '|' | '\\' => {
                    out.push_str(&format!("#{};", u32::from(c)));
                }
                '\n' => out.push_str("<br/>"),
                c if c.is_control() => out.push(' '),
                c => out.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escapes_syntax_characters() {
        let lines = vec![
            "督促状\"A\" & <b>#1</b>".to_owned(),
            "x: 50%; a|b `c`".to_owned(),
        ];
        assert_eq!(
            label(&lines),
            "督促状#34;A#34; #38; #60;b#62;#35;1#60;/b#62;<br/>x#58; 50#37;#59; a#124;b #96;c#96;"
        );
    }

    #[test]
    fn label_turns_newlines_into_breaks() {
        assert_eq!(label(&["a\nb\tc".to_owned()]), "a<br/>b c");
    }
}
