//! `nagare graph`, `nagare bpmn` and `nagare flows`: views of checked flows for people.
//!
//! Each command reads and checks every flow under `--flows` (a call names another flow, so
//! one flow cannot be checked alone), refuses to draw anything while any flow has errors,
//! and prints the view on standard output so it can be redirected to a file.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use nagare_engine::diagnostic::{Severity, did_you_mean};
use nagare_engine::flow::{Catalog, Flow};

use super::{EXIT_PROBLEMS, EXIT_USAGE, OutputFormat, check};
use crate::{report, views};

/// The language of `nagare graph`'s diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart (GitHub, GitLab and many editors show it)
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`)
    Dot,
}

/// Arguments of `nagare graph`.
#[derive(clap::Args)]
pub struct GraphArgs {
    /// The flow's id, as written in its file: 4.7
    #[arg(value_name = "FLOW_ID")]
    flow_id: String,
    /// Diagram language
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Flow file or folder to read; repeat for several (the flows it calls must be there too)
    #[arg(long = "flows", value_name = "PATH", default_value = "flows")]
    flows: Vec<PathBuf>,
}

/// Arguments of `nagare bpmn`.
#[derive(clap::Args)]
pub struct BpmnArgs {
    /// The flow's id, as written in its file: 4.7
    #[arg(value_name = "FLOW_ID")]
    flow_id: String,
    /// Flow file or folder to read; repeat for several (the flows it calls must be there too)
    #[arg(long = "flows", value_name = "PATH", default_value = "flows")]
    flows: Vec<PathBuf>,
}

/// Arguments of `nagare flows`.
#[derive(clap::Args)]
pub struct FlowsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Flow file or folder to read; repeat for several
    #[arg(long = "flows", value_name = "PATH", default_value = "flows")]
    flows: Vec<PathBuf>,
}

/// `nagare graph`: prints the flow as a Mermaid or DOT swimlane diagram.
pub fn graph(args: GraphArgs) -> ExitCode {
    let catalog = match load_catalog(&args.flows) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let flow = match find(&catalog, &args.flow_id, &args.flows) {
        Ok(flow) => flow,
        Err(code) => return code,
    };
    emit(&match args.format {
        GraphFormat::Mermaid => views::mermaid::render(flow),
        GraphFormat::Dot => views::dot::render(flow),
    })
}

/// `nagare bpmn`: prints the flow as BPMN 2.0 XML with its diagram.
pub fn bpmn(args: BpmnArgs) -> ExitCode {
    let catalog = match load_catalog(&args.flows) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    match find(&catalog, &args.flow_id, &args.flows) {
        Ok(flow) => emit(&views::bpmn::render(flow)),
        Err(code) => code,
    }
}

/// `nagare flows`: lists the flows with their lanes, node counts and requirement IDs.
pub fn flows(args: FlowsArgs) -> ExitCode {
    let catalog = match load_catalog(&args.flows) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let summaries: Vec<views::FlowSummary> = catalog.flows().map(|f| views::summary(f)).collect();
    match args.format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&summaries).unwrap_or_default();
            text.push('\n');
            emit(&text)
        }
        OutputFormat::Human => emit(&human_list(&summaries)),
    }
}

/// The list of flows for people: a heading line per flow, then its lanes, nodes and
/// requirements, indented.
fn human_list(summaries: &[views::FlowSummary]) -> String {
    let mut out = String::new();
    for s in summaries {
        out.push_str(&format!(
            "{}  {}  [{}]  v{}  {}\n",
            s.id, s.title, s.category, s.version, s.file
        ));
        let lanes: Vec<String> = s
            .lanes
            .iter()
            .map(|l| match &l.role {
                Some(role) => format!("{} ({}, role {role})", l.title, l.kind),
                None => format!("{} ({})", l.title, l.kind),
            })
            .collect();
        out.push_str(&format!("    lanes: {}\n", lanes.join(", ")));
        let counts: Vec<String> = s
            .node_counts
            .0
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        out.push_str(&format!(
            "    nodes: {} ({}); numbered steps: {}\n",
            s.nodes,
            counts.join(", "),
            s.steps
        ));
        let requirements = if s.requirements.is_empty() {
            "none".to_owned()
        } else {
            s.requirements.join(", ")
        };
        out.push_str(&format!("    requirements: {requirements}\n"));
        if !s.calls.is_empty() {
            out.push_str(&format!("    calls: {}\n", s.calls.join(", ")));
        }
    }
    out.push_str(&format!("{} flow(s)\n", summaries.len()));
    out
}

/// Reads and checks the flows; on errors prints them as `nagare check` does and returns
/// the exit status. Warnings do not stop a view; they are counted on standard error.
pub(crate) fn load_catalog(paths: &[PathBuf]) -> Result<Catalog, ExitCode> {
    let outcome = check::load(paths)?;
    let diags = &outcome.diagnostics;
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    match outcome.catalog {
        Some(catalog) if errors == 0 => {
            if warnings > 0 {
                eprintln!("note: the flows have {warnings} warning(s); `nagare check` shows them");
            }
            Ok(catalog)
        }
        _ => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", report::render_human(diags, color));
            eprintln!(
                "{errors} error(s), {warnings} warning(s): fix the flows before viewing them"
            );
            Err(ExitCode::from(EXIT_PROBLEMS))
        }
    }
}

/// Finds the flow, or prints which flow was probably meant and returns the usage status.
fn find<'a>(catalog: &'a Catalog, id: &str, paths: &[PathBuf]) -> Result<&'a Arc<Flow>, ExitCode> {
    if let Some(flow) = catalog.get(id) {
        return Ok(flow);
    }
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    eprintln!("error: no flow with id `{id}` under {}", shown.join(", "));
    eprintln!("  help: {}", suggestion(catalog, id));
    Err(ExitCode::from(EXIT_USAGE))
}

/// The help line for an unknown flow id: a close id, a flow whose title or file name was
/// given instead of its id, or else the ids there are.
fn suggestion(catalog: &Catalog, wrong: &str) -> String {
    // Analysts also write 4-7 or 4_7 for 4.7.
    let normalised = wrong.trim().replace(['-', '_', '．'], ".");
    if let Some(flow) = catalog.get(&normalised) {
        return format!("did you mean `{}` ({})?", flow.id.value, flow.title);
    }
    if let Some(help) = did_you_mean(wrong, catalog.flows().map(|f| f.id.value.as_str())) {
        return help;
    }
    let by_name = catalog.flows().find(|f| {
        let stem = std::path::Path::new(f.file.path())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        !wrong.is_empty() && (f.title.contains(wrong) || stem == wrong)
    });
    if let Some(flow) = by_name {
        return format!(
            "did you mean `{}` ({})? give the flow's id, not its title or file name",
            flow.id.value, flow.title
        );
    }
    let ids: Vec<&str> = catalog.flows().map(|f| f.id.value.as_str()).collect();
    format!(
        "the flows there are: {} (`nagare flows` lists them)",
        ids.join(", ")
    )
}

/// Writes a view to standard output; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the output: {err}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
