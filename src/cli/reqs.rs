//! `nagare reqs`: requirement traceability and handler coverage.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_PROBLEMS, OutputFormat};
use crate::traceability::{self, numeric_order};

#[derive(clap::Args)]
pub struct ReqsArgs {
    /// Folder (or files) holding the flows
    #[arg(long, default_value = "flows")]
    flows: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Print only the handler names the flows use that this build has not registered, one
    /// a line, sorted: the expectation list `tests/data/unregistered_handlers.txt`
    #[arg(long)]
    unregistered: bool,
}

pub fn run(args: ReqsArgs) -> ExitCode {
    let outcome = match super::check::load(std::slice::from_ref(&args.flows)) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let Some(catalog) = outcome.catalog else {
        eprint!(
            "{}",
            crate::report::render_human(&outcome.diagnostics, false)
        );
        return ExitCode::from(EXIT_PROBLEMS);
    };
    let registry = crate::handlers::registry();
    if args.unregistered {
        print!(
            "{}",
            traceability::unregistered_list(&catalog, &|name| registry.contains(name))
        );
        return ExitCode::SUCCESS;
    }
    let report = traceability::report(&catalog, &|name| registry.contains(name));
    let mut ids: Vec<&String> = report.requirements.keys().collect();
    ids.sort_by(|a, b| numeric_order(a, b));
    match args.format {
        OutputFormat::Json => {
            let ordered: Vec<serde_json::Value> = ids
                .iter()
                .map(|id| serde_json::json!({ "id": id, "steps": report.requirements[*id] }))
                .collect();
            let out = serde_json::json!({ "requirements": ordered, "summary": report.summary });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        OutputFormat::Human => {
            for id in ids {
                println!("{id}");
                for s in &report.requirements[id] {
                    let handler = match (&s.handler, s.registered) {
                        (Some(h), true) => format!("{h} [registered]"),
                        (Some(h), false) => format!("{h} [no handler yet]"),
                        (None, _) => "(not a system step)".to_owned(),
                    };
                    println!(
                        "  {} {} {} {} → {handler}",
                        s.flow,
                        s.step.as_deref().unwrap_or("---"),
                        s.name,
                        s.flow_title
                    );
                }
            }
            let s = &report.summary;
            println!(
                "\n{} requirement IDs ({} fully covered by registered handlers); {} numbered steps; {} of {} system steps have a registered handler ({}%)",
                s.requirement_ids,
                s.requirement_ids_covered,
                s.numbered_steps,
                s.system_steps_with_handler,
                s.system_steps,
                (s.system_steps_with_handler * 100)
                    .checked_div(s.system_steps)
                    .unwrap_or(0)
            );
        }
    }
    ExitCode::SUCCESS
}
