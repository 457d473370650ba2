//! Command-line entry point: parses arguments and dispatches to one module per command group.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod calc;
pub mod cancel;
pub mod check;
pub mod demo;
pub mod file;
pub mod items;
pub mod outbox;
pub mod progress;
pub mod queue;
pub mod reqs;
pub mod rt;
pub mod views;
pub mod work;
pub mod worker;

/// Exit status when the command ran and found problems in its input.
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit status when the command could not run (bad arguments, unreadable path).
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "nagare",
    version,
    about = "Workflow engine for the 後期高齢者医療 office"
)]
struct Cli {
    #[command(flatten)]
    global: rt::Global,
    #[command(subcommand)]
    command: Command,
}

/// How a command prints data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Text and tables for people
    Human,
    /// JSON for programs
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Validate flow files and report every problem
    Check(check::CheckArgs),
    /// Compute premiums, installments, late fees and other amounts
    Calc(calc::CalcArgs),
    /// Check, show and write interchange files
    File(file::FileArgs),
    /// Draw a flow as a swimlane diagram (Mermaid or Graphviz DOT)
    Graph(views::GraphArgs),
    /// Export a flow as BPMN 2.0 XML with its diagram (bpmn.io, Camunda Modeler)
    Bpmn(views::BpmnArgs),
    /// List the flows with their lanes, node counts and requirement IDs
    Flows(views::FlowsArgs),
    /// Trace requirement IDs to flows, steps and handlers, with handler coverage
    Reqs(reqs::ReqsArgs),
    /// Start a work item on a flow
    Start(work::StartArgs),
    /// Run system steps, timers and calls
    Worker(worker::WorkerArgs),
    /// List work items
    Items(items::ItemsArgs),
    /// Show one work item
    Item(items::ItemArgs),
    /// Print the whole story of a work item
    History(items::ItemArgs),
    /// Check the tamper-evident history
    Audit(audit::AuditArgs),
    /// Run a failed item's failed step again
    Retry(work::RetryArgs),
    /// Move a failed item past its failed step, with a reason
    Skip(work::SkipArgs),
    /// Move running items of a flow to the version in the flow files
    MigrateItems(work::MigrateArgs),
    /// End a running, waiting or failed work item, with a reason (supervisors)
    Cancel(cancel::CancelArgs),
    /// List what leaves the office, and export it into a folder
    Outbox(outbox::OutboxArgs),
    /// Run a year of municipal work on synthetic people and print a summary
    Demo(demo::DemoArgs),
    /// List tasks of my roles' queues, by due date
    Tasks(queue::TasksArgs),
    /// Show one task: flow, step, subject, due date, fields to record, comments
    Task(queue::TaskIdArgs),
    /// Claim a task (one person at a time)
    Claim(queue::ClaimArgs),
    /// Give a claimed task back to the queue
    Release(queue::TaskIdArgs),
    /// Complete a task with the recorded fields
    Complete(queue::CompleteArgs),
    /// Hand a task to another person (supervisors)
    Reassign(queue::ReassignArgs),
    /// Comment on a task
    Comment(queue::CommentArgs),
    /// Deliver a message or a file to the work item waiting for it
    Deliver(queue::DeliverArgs),
    /// Manage users and API tokens (admins)
    User(queue::UserArgs),
    /// Serve the HTTP JSON API
    Serve(queue::ServeArgs),
    /// Print the OpenAPI 3.1 document of the HTTP API
    Openapi,
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    let global = &cli.global;
    queue::set_global(global);
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Calc(args) => calc::run(args),
        Command::File(args) => file::run(args),
        Command::Graph(args) => views::graph(args),
        Command::Bpmn(args) => views::bpmn(args),
        Command::Flows(args) => views::flows(args),
        Command::Reqs(args) => reqs::run(args),
        Command::Start(args) => work::start(global, args),
        Command::Worker(args) => worker::run(global, args),
        Command::Items(args) => items::list(global, args),
        Command::Item(args) => items::show(global, args),
        Command::History(args) => items::history(global, args),
        Command::Audit(args) => audit::run(global, args),
        Command::Retry(args) => work::retry(global, args),
        Command::Skip(args) => work::skip(global, args),
        Command::MigrateItems(args) => work::migrate(global, args),
        Command::Cancel(args) => cancel::run(args),
        Command::Outbox(args) => outbox::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Tasks(args) => queue::tasks(args),
        Command::Task(args) => queue::task(args),
        Command::Claim(args) => queue::claim(args),
        Command::Release(args) => queue::release(args),
        Command::Complete(args) => queue::complete(args),
        Command::Reassign(args) => queue::reassign(args),
        Command::Comment(args) => queue::comment(args),
        Command::Deliver(args) => queue::deliver(args),
        Command::User(args) => queue::user(args),
        Command::Serve(args) => queue::serve(global, args),
        Command::Openapi => queue::openapi(),
    }
}

/// Logs to stderr, filtered by `NAGARE_LOG` (default: warnings). Logs carry ids only.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NAGARE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
