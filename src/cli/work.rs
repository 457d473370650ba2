//! `nagare start`, `retry`, `skip` and `migrate-items`: the commands that move work items.

use std::process::ExitCode;

use nagare_engine::runtime::{Data, HandlerRegistry};
use serde_json::{Value, json};

use super::OutputFormat;
use super::rt::{self, Flows, Global, fail};

#[derive(clap::Args)]
pub struct StartArgs {
    /// The flow to start (its id, e.g. 4.7)
    flow_id: String,
    /// Who or what the work item is about: an identifier, never a name
    #[arg(long)]
    subject: String,
    /// Input data: a JSON object, or @FILE to read it from a file
    #[arg(long)]
    data: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct RetryArgs {
    /// The failed work item
    id: i64,
}

#[derive(clap::Args)]
pub struct SkipArgs {
    /// The failed work item
    id: i64,
    /// Why the step is skipped (recorded in the history)
    #[arg(long)]
    reason: String,
}

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The flow whose running items move to the version in the flow files
    flow_id: String,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

fn read_data(arg: Option<&str>) -> Result<Data, String> {
    let Some(arg) = arg else {
        return Ok(Data::new());
    };
    let text = match arg.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
        }
        None => arg.to_owned(),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("--data must be a JSON object".to_owned()),
        Err(e) => Err(format!("--data is not valid JSON: {e}")),
    }
}

pub fn start(global: &Global, args: StartArgs) -> ExitCode {
    let data = match read_data(args.data.as_deref()) {
        Ok(data) => data,
        Err(message) => return fail(message),
    };
    rt::block_on(async {
        let runtime = match rt::runtime(global, HandlerRegistry::new(), Flows::Required).await {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        match runtime
            .start(&args.flow_id, &args.subject, data, &global.actor())
            .await
        {
            Ok(id) => {
                match args.format {
                    OutputFormat::Json => {
                        println!("{}", json!({"id": id, "flow_id": args.flow_id}));
                    }
                    OutputFormat::Human => println!("{id}"),
                }
                eprintln!("started work item {id} on flow {}", args.flow_id);
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        }
    })
}

pub fn retry(global: &Global, args: RetryArgs) -> ExitCode {
    rt::block_on(async {
        let runtime = match rt::runtime(global, HandlerRegistry::new(), Flows::None).await {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        match runtime.retry(args.id, &global.actor()).await {
            Ok(()) => {
                eprintln!(
                    "work item {} will run its failed step again; a worker picks it up",
                    args.id
                );
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        }
    })
}

pub fn skip(global: &Global, args: SkipArgs) -> ExitCode {
    rt::block_on(async {
        let runtime = match rt::runtime(global, HandlerRegistry::new(), Flows::None).await {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        match runtime.skip(args.id, &global.actor(), &args.reason).await {
            Ok(()) => {
                eprintln!("work item {} moved past its failed step", args.id);
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        }
    })
}

pub fn migrate(global: &Global, args: MigrateArgs) -> ExitCode {
    rt::block_on(async {
        let runtime = match rt::runtime(global, HandlerRegistry::new(), Flows::Required).await {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let report = match runtime.migrate_items(&args.flow_id, &global.actor()).await {
            Ok(report) => report,
            Err(err) => return fail(err),
        };
        match args.format {
            OutputFormat::Json => {
                let refused: Vec<Value> = report
                    .refused
                    .iter()
                    .map(|(id, reason)| json!({"id": id, "reason": reason}))
                    .collect();
                println!(
                    "{}",
                    json!({"flow_id": report.flow_id, "to_version": report.to_version,
                           "migrated": report.migrated, "refused": refused})
                );
            }
            OutputFormat::Human => {
                println!(
                    "{} item(s) of flow {} moved to version {}",
                    report.migrated.len(),
                    report.flow_id,
                    report.to_version
                );
                for (id, reason) in &report.refused {
                    println!("item {id} stays on its version: {reason}");
                }
            }
        }
        ExitCode::SUCCESS
    })
}
