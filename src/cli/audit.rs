//! `nagare audit verify`: checks the chain of every work item's history.

use std::process::ExitCode;

use nagare_engine::runtime::HandlerRegistry;
use serde_json::{Value, json};

use super::rt::{self, Flows, Global, fail};
use super::{EXIT_PROBLEMS, OutputFormat};

#[derive(clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Check every transition against its hash and its place in the chain
    Verify {
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
}

pub fn run(global: &Global, args: AuditArgs) -> ExitCode {
    let AuditCommand::Verify { format } = args.command;
    rt::block_on(async {
        let runtime = match rt::runtime(global, HandlerRegistry::new(), Flows::None).await {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let report = match runtime.verify_audit().await {
            Ok(report) => report,
            Err(err) => return fail(err),
        };
        match format {
            OutputFormat::Json => {
                let problems: Vec<Value> = report
                    .problems
                    .iter()
                    .map(|p| {
                        json!({"item_id": p.item_id, "transition_id": p.transition_id, "seq": p.seq,
                               "kind": p.kind.as_str(), "message": p.message})
                    })
                    .collect();
                println!(
                    "{}",
                    json!({"items": report.items, "transitions": report.transitions,
                           "problems": problems, "digest": report.digest})
                );
            }
            OutputFormat::Human => {
                for p in &report.problems {
                    println!(
                        "item {} #{}: {}: {}",
                        p.item_id,
                        p.seq,
                        p.kind.as_str(),
                        p.message
                    );
                }
                println!(
                    "{} item(s), {} transition(s) checked: {}",
                    report.items,
                    report.transitions,
                    if report.problems.is_empty() {
                        "the history is intact".to_owned()
                    } else {
                        format!("{} problem(s)", report.problems.len())
                    }
                );
                println!("digest of all chain heads: {}", report.digest);
            }
        }
        if report.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_PROBLEMS)
        }
    })
}
