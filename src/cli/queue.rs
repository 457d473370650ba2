//! Staff commands on the task queue and accounts: `tasks`, `task`, `claim`, `release`,
//! `complete`, `reassign`, `comment`, `deliver`, `user`, and `serve` (the HTTP API).
//! The CLI acts as a named user (`--as USER` or `NAGARE_USER`), checked by the same access
//! service as the HTTP API.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use nagare_engine::access::{AccessError, DeliveryRequest, Principal, Service, TaskQuery};
use nagare_engine::runtime::{DeliveryTarget, HandlerRegistry, Runtime, SystemClock, TaskState};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{EXIT_PROBLEMS, EXIT_USAGE, OutputFormat};
use crate::api::{self, dto::*};

/// Options of the queue commands. Where the data is and who acts come from the global
/// `--db`, `--as` and `--flows` options (see [`set_global`]).
#[derive(Args, Clone, Debug)]
pub struct Conn {
    /// Output: human tables or JSON for programs
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
}

#[derive(Args)]
pub struct TasksArgs {
    #[command(flatten)]
    conn: Conn,
    /// Only this role's queue
    #[arg(long)]
    role: Option<String>,
    /// Only this flow
    #[arg(long)]
    flow: Option<String>,
    /// A node id or a three-digit step number
    #[arg(long)]
    step: Option<String>,
    /// open (default), completed or cancelled
    #[arg(long)]
    state: Option<String>,
    /// Only open tasks past their due date
    #[arg(long)]
    overdue: bool,
    /// Only tasks I have claimed
    #[arg(long)]
    mine: bool,
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

#[derive(Args)]
pub struct TaskIdArgs {
    #[command(flatten)]
    conn: Conn,
    /// The task's id
    id: i64,
}

#[derive(Args)]
pub struct ClaimArgs {
    #[command(flatten)]
    conn: Conn,
    /// The task's id
    #[arg(required_unless_present = "next", conflicts_with = "next")]
    id: Option<i64>,
    /// Claim the first unclaimed task of your queues by due date instead
    #[arg(long)]
    next: bool,
    /// With --next: only this role's queue
    #[arg(long, requires = "next")]
    role: Option<String>,
    /// With --next: only this flow
    #[arg(long, requires = "next")]
    flow: Option<String>,
    /// With --next: only this step (number such as 002, or node id)
    #[arg(long, requires = "next")]
    step: Option<String>,
}

#[derive(Args)]
pub struct CompleteArgs {
    #[command(flatten)]
    conn: Conn,
    id: i64,
    /// A recorded field: KEY=VALUE (typed by the task's declared field)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// A JSON file with the recorded fields as an object
    #[arg(long, value_name = "FILE.json")]
    input: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReassignArgs {
    #[command(flatten)]
    conn: Conn,
    id: i64,
    /// The user to hand the task to
    #[arg(long)]
    to: String,
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Args)]
pub struct CommentArgs {
    #[command(flatten)]
    conn: Conn,
    id: i64,
    /// The comment's text
    message: String,
}

#[derive(Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    conn: Conn,
    /// The document a receive step waits for (with --key)
    #[arg(long, requires = "key", conflicts_with_all = ["item", "node"])]
    document: Option<String>,
    /// The correlation value (e.g. the customer number)
    #[arg(long)]
    key: Option<String>,
    /// The waiting work item (with --node)
    #[arg(long, requires = "node")]
    item: Option<i64>,
    /// The node the item waits at
    #[arg(long)]
    node: Option<String>,
    /// A field of the message: KEY=VALUE (JSON values are read as JSON)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// A JSON file with the message as an object
    #[arg(long, value_name = "FILE.json")]
    input: Option<PathBuf>,
    /// A file to deliver (its name, size, SHA-256 and bytes go with the message)
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Identifies the delivery; a second one with the same id is refused
    #[arg(long = "id")]
    delivery_id: Option<String>,
}

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user and print their API token (shown once)
    Add {
        #[command(flatten)]
        conn: Conn,
        name: String,
        /// A role: admin, auditor, supervisor, outbox or a lane role of the flows
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// List the users
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Revoke a user and all their tokens
    Revoke {
        #[command(flatten)]
        conn: Conn,
        name: String,
    },
    /// Issue another API token for a user (shown once)
    Token {
        #[command(flatten)]
        conn: Conn,
        name: String,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    conn: Conn,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Also run system steps and timers in this process, as `nagare worker` does: one
    /// process serves the office (on PostgreSQL, more `nagare worker` processes can join)
    #[arg(long)]
    worker: bool,
    /// With --worker: work items per batch (one transaction)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// With --worker: milliseconds to wait when there is no work
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// With --worker: register the test handlers (`test.noop`, `test.effect`), as
    /// `nagare worker --test-handlers` does
    #[arg(long, hide = true)]
    test_handlers: bool,
}

/// A failure of a queue command: printed, then turned into the exit status.
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) message: String,
}

impl From<AccessError> for Failure {
    fn from(err: AccessError) -> Self {
        let message = match &err {
            AccessError::Invalid { field: Some(f), .. } => format!("{err} (field `{f}`)"),
            _ => err.to_string(),
        };
        Self {
            code: EXIT_PROBLEMS,
            message,
        }
    }
}

pub(super) fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

pub(super) fn block_on<F: Future<Output = Result<(), Failure>>>(f: F) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => finish(rt.block_on(f)),
        Err(e) => finish(Err(usage(format!("cannot start the async runtime: {e}")))),
    }
}

/// The global options the queue commands act with: database, acting user, flows.
struct Context {
    db: String,
    as_user: Option<String>,
    flows: Vec<PathBuf>,
    global: super::rt::Global,
}

// Set once by the dispatcher before a queue command runs; the commands' argument structs
// are nested (e.g. `user add`), so threading the global options through each would repeat
// the same plumbing in every command.
static CONTEXT: std::sync::OnceLock<Context> = std::sync::OnceLock::new();

/// Records the global options for the queue commands; called once per process.
pub fn set_global(global: &super::rt::Global) {
    let _ = CONTEXT.set(Context {
        db: global.db_url().to_owned(),
        as_user: global.user.clone(),
        flows: vec![global.flows.clone()],
        global: global.clone(),
    });
}

fn context() -> &'static Context {
    CONTEXT.get_or_init(|| Context {
        db: super::rt::DEFAULT_DB.to_owned(),
        as_user: None,
        flows: vec![PathBuf::from("flows")],
        global: super::rt::Global {
            db: None,
            flows: PathBuf::from("flows"),
            settings: None,
            user: None,
        },
    })
}

/// Opens the database, registers the flows, and returns the access service.
pub(super) async fn open(_conn: &Conn) -> Result<Arc<Service>, Failure> {
    let ctx = context();
    let catalog = super::views::load_catalog(&ctx.flows).map_err(|_| Failure {
        code: EXIT_PROBLEMS,
        message: "the flows do not check (see above)".into(),
    })?;
    let store = nagare_engine::store::open(&ctx.db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    // Completing a task moves the item on, maybe to a task whose due date counts business
    // days: the office calendar comes from the municipality's settings.
    let rt = super::rt::with_municipality(
        Runtime::new(store, HandlerRegistry::new(), Arc::new(SystemClock)),
        &ctx.global,
        false,
    )
    .map_err(|_| Failure {
        code: EXIT_PROBLEMS,
        message: "the settings do not check (see above)".into(),
    })?;
    rt.register_catalog(&catalog)
        .await
        .map_err(|e| Failure::from(AccessError::from(e)))?;
    Ok(Arc::new(Service::new(Arc::new(rt))))
}

pub(super) async fn who(svc: &Service, _conn: &Conn) -> Result<Principal, Failure> {
    let name = context()
        .as_user
        .as_deref()
        .ok_or_else(|| usage("say who acts: --as USER or NAGARE_USER"))?;
    Ok(svc.principal(name).await?)
}

pub(super) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| usage(e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub(super) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

pub(super) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn print_tasks(tasks: &[TaskOut]) {
    let mut t = table(&[
        "id",
        "flow",
        "step",
        "task",
        "role",
        "subject",
        "due",
        "claimed by",
        "state",
    ]);
    for task in tasks {
        let due = match task.due_date {
            Some(d) if task.overdue => format!("{d} (overdue)"),
            d => opt(d),
        };
        t.add_row(vec![
            task.id.to_string(),
            task.flow_id.clone(),
            opt(task.step.as_ref()),
            task.name.clone(),
            task.role.clone(),
            task.subject.clone(),
            due,
            opt(task.claimed_by.as_ref()),
            task.state.clone(),
        ]);
    }
    println!("{t}");
    println!("{} task(s)", tasks.len());
}

fn print_task(task: &TaskOut) {
    let mut t = table(&["", ""]);
    t.add_row(vec!["task".into(), format!("{} {}", task.id, task.name)]);
    t.add_row(vec![
        "flow".into(),
        format!(
            "{} {}",
            task.flow_id,
            task.flow_title.clone().unwrap_or_default()
        ),
    ]);
    t.add_row(vec![
        "step".into(),
        format!("{} ({})", opt(task.step.as_ref()), task.node),
    ]);
    t.add_row(vec!["work item".into(), task.item_id.to_string()]);
    t.add_row(vec!["subject".into(), task.subject.clone()]);
    t.add_row(vec!["role".into(), task.role.clone()]);
    t.add_row(vec!["due".into(), opt(task.due_date)]);
    t.add_row(vec!["state".into(), task.state.clone()]);
    t.add_row(vec!["claimed by".into(), opt(task.claimed_by.as_ref())]);
    for f in &task.fields {
        let kind = if f.kind == "choice" {
            format!("one of {}", f.choices.join(", "))
        } else {
            f.kind.clone()
        };
        let req = if f.required { "required" } else { "optional" };
        t.add_row(vec![
            format!("field {}", f.id),
            format!("{} — {kind}, {req}", f.label),
        ]);
    }
    if let Some(answer) = &task.answer {
        t.add_row(vec!["answer".into(), answer.to_string()]);
    }
    println!("{t}");
}

fn state_arg(state: Option<&str>) -> Result<Option<TaskState>, Failure> {
    state
        .map(|s| {
            TaskState::parse(s)
                .ok_or_else(|| usage(format!("--state `{s}` is not open, completed or cancelled")))
        })
        .transpose()
}

pub fn tasks(args: TasksArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let query = TaskQuery {
            role: args.role,
            flow_id: args.flow,
            step: args.step,
            state: state_arg(args.state.as_deref())?,
            overdue: args.overdue,
            mine: args.mine,
            limit: Some(args.limit),
        };
        let tasks: Vec<TaskOut> = svc
            .tasks(&p, &query)
            .await?
            .iter()
            .map(TaskOut::from)
            .collect();
        match args.conn.format {
            OutputFormat::Json => print_json(&tasks),
            OutputFormat::Human => {
                print_tasks(&tasks);
                Ok(())
            }
        }
    })
}

pub fn task(args: TaskIdArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let detail = TaskDetailOut::from(&svc.task(&p, args.id).await?);
        match args.conn.format {
            OutputFormat::Json => print_json(&detail),
            OutputFormat::Human => {
                print_task(&detail.task);
                if let Some(data) = &detail.data {
                    println!("data: {}", Value::Object(data.clone()));
                }
                for c in &detail.comments {
                    println!(
                        "comment {} by {} at {}: {}",
                        c.id, c.author, c.created_at, c.body
                    );
                }
                for r in &detail.reassignments {
                    println!(
                        "reassigned {} → {} by {} at {}",
                        opt(r.from_user.as_ref()),
                        r.to_user,
                        r.by_user,
                        r.at
                    );
                }
                Ok(())
            }
        }
    })
}

fn print_one(format: OutputFormat, task: &TaskOut) -> Result<(), Failure> {
    match format {
        OutputFormat::Json => print_json(task),
        OutputFormat::Human => {
            print_task(task);
            Ok(())
        }
    }
}

pub fn claim(args: ClaimArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let view = match args.id {
            Some(id) => svc.claim(&p, id).await?,
            None => {
                let query = TaskQuery {
                    role: args.role,
                    flow_id: args.flow,
                    step: args.step,
                    ..TaskQuery::default()
                };
                svc.claim_next(&p, &query).await?
            }
        };
        print_one(args.conn.format, &TaskOut::from(&view))
    })
}

pub fn release(args: TaskIdArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let view = svc.release(&p, args.id).await?;
        print_one(args.conn.format, &TaskOut::from(&view))
    })
}

/// Reads `--input FILE.json` (an object) and `--set KEY=VALUE` pairs; `typed` turns a
/// value's text into JSON for its key.
fn read_fields(
    input: Option<&PathBuf>,
    set: &[String],
    typed: impl Fn(&str, &str) -> Result<Value, String>,
) -> Result<Map<String, Value>, Failure> {
    let mut map = match input {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(usage(format!("{} must hold a JSON object", path.display()))),
                Err(e) => return Err(usage(format!("{} is not JSON: {e}", path.display()))),
            }
        }
        None => Map::new(),
    };
    for pair in set {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| usage(format!("--set `{pair}` must be KEY=VALUE")))?;
        let value = typed(k, v).map_err(|m| usage(format!("--set {k}: {m}")))?;
        map.insert(k.to_owned(), value);
    }
    Ok(map)
}

/// Types a `--set` value by the task's declared field.
fn typed_field(fields: &[FieldOut], key: &str, text: &str) -> Result<Value, String> {
    let kind = fields
        .iter()
        .find(|f| f.id == key)
        .map_or("text", |f| f.kind.as_str());
    match kind {
        "bool" => match text {
            "true" | "yes" | "はい" => Ok(Value::Bool(true)),
            "false" | "no" | "いいえ" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        "integer" | "yen" => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a whole number")),
        _ => Ok(Value::String(text.to_owned())),
    }
}

pub fn complete(args: CompleteArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let detail = TaskDetailOut::from(&svc.task(&p, args.id).await?);
        let answer = read_fields(args.input.as_ref(), &args.set, |k, v| {
            typed_field(&detail.task.fields, k, v)
        })?;
        let view = svc.complete(&p, args.id, answer).await?;
        print_one(args.conn.format, &TaskOut::from(&view))
    })
}

pub fn reassign(args: ReassignArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let view = svc
            .reassign(&p, args.id, &args.to, args.reason.as_deref())
            .await?;
        print_one(args.conn.format, &TaskOut::from(&view))
    })
}

pub fn comment(args: CommentArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let c = CommentOut::from(&svc.comment(&p, args.id, &args.message).await?);
        match args.conn.format {
            OutputFormat::Json => print_json(&c),
            OutputFormat::Human => {
                println!("comment {} added to task {}", c.id, c.task_id);
                Ok(())
            }
        }
    })
}

pub fn deliver(args: DeliverArgs) -> ExitCode {
    block_on(async move {
        let target = match (args.document, args.key, args.item, args.node) {
            (Some(document), Some(value), None, None) => {
                DeliveryTarget::Correlated { document, value }
            }
            (None, None, Some(item_id), Some(node)) => DeliveryTarget::Item { item_id, node },
            _ => return Err(usage("give --document with --key, or --item with --node")),
        };
        let payload = read_fields(args.input.as_ref(), &args.set, |_, v| {
            Ok(serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned())))
        })?;
        let file = match &args.file {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                Some((name, bytes))
            }
            None => None,
        };
        let payload = api::delivery_payload(
            payload,
            file.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
        );
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let receipt = svc
            .deliver(
                &p,
                DeliveryRequest {
                    target,
                    payload,
                    delivery_id: args.delivery_id,
                },
            )
            .await?;
        let out = DeliveryOut::from(&receipt);
        match args.conn.format {
            OutputFormat::Json => print_json(&out),
            OutputFormat::Human => {
                println!(
                    "delivered to work item {} (message {}, delivery {})",
                    out.item_id, out.message_id, out.delivery_id
                );
                Ok(())
            }
        }
    })
}

fn print_users(users: &[UserOut]) {
    let mut t = table(&["name", "roles", "active", "created", "by"]);
    for u in users {
        t.add_row(vec![
            u.name.clone(),
            u.roles.join(", "),
            if u.active {
                "yes".into()
            } else {
                format!("revoked {}", opt(u.revoked_at))
            },
            u.created_at.to_string(),
            u.created_by.clone(),
        ]);
    }
    println!("{t}");
}

pub fn user(args: UserArgs) -> ExitCode {
    block_on(async move {
        match args.command {
            UserCommand::Add { conn, name, roles } => {
                let svc = open(&conn).await?;
                let by = match &context().as_user {
                    Some(_) => Some(who(&svc, &conn).await?),
                    None => None,
                };
                let (user, token) = svc.add_user(by.as_ref(), &name, &roles).await?;
                let out = NewUserOut {
                    user: UserOut::from(&user),
                    token,
                };
                match conn.format {
                    OutputFormat::Json => print_json(&out),
                    OutputFormat::Human => {
                        println!(
                            "user {} added with roles {}",
                            out.user.name,
                            out.user.roles.join(", ")
                        );
                        println!("API token (shown once; only its hash is kept):");
                        println!("{}", out.token);
                        Ok(())
                    }
                }
            }
            UserCommand::List { conn } => {
                let svc = open(&conn).await?;
                let p = who(&svc, &conn).await?;
                let users: Vec<UserOut> = svc.users(&p).await?.iter().map(UserOut::from).collect();
                match conn.format {
                    OutputFormat::Json => print_json(&users),
                    OutputFormat::Human => {
                        print_users(&users);
                        Ok(())
                    }
                }
            }
            UserCommand::Revoke { conn, name } => {
                let svc = open(&conn).await?;
                let p = who(&svc, &conn).await?;
                let user = UserOut::from(&svc.revoke_user(&p, &name).await?);
                match conn.format {
                    OutputFormat::Json => print_json(&user),
                    OutputFormat::Human => {
                        println!("user {} revoked with all their tokens", user.name);
                        Ok(())
                    }
                }
            }
            UserCommand::Token { conn, name } => {
                let svc = open(&conn).await?;
                let p = who(&svc, &conn).await?;
                let token = svc.issue_token(&p, &name).await?;
                match conn.format {
                    OutputFormat::Json => print_json(&TokenOut { token }),
                    OutputFormat::Human => {
                        println!("API token for {name} (shown once; only its hash is kept):");
                        println!("{token}");
                        Ok(())
                    }
                }
            }
        }
    })
}

pub fn serve(global: &super::rt::Global, args: ServeArgs) -> ExitCode {
    use super::worker::{Pace, watch_signals, work_loop};
    use std::sync::atomic::{AtomicBool, Ordering};

    let stop = Arc::new(AtomicBool::new(false));
    block_on(async move {
        let svc = if args.worker {
            // The worker needs the handlers and the settings; the API alone needs neither.
            let runtime = super::rt::runtime(
                global,
                super::rt::handlers(args.test_handlers),
                super::rt::Flows::Required,
            )
            .await
            .map_err(|_| Failure {
                code: EXIT_USAGE,
                message: "cannot start the worker (see above)".into(),
            })?;
            Arc::new(Service::new(Arc::new(runtime)))
        } else {
            open(&args.conn).await?
        };
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| usage(format!("cannot listen on {}: {e}", args.listen)))?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "nagare API on http://{}/v1 (OpenAPI at /openapi.json){}",
                args.listen,
                if args.worker { ", with a worker" } else { "" }
            );
        }
        tracing::info!(listen = %args.listen, worker = args.worker, "serving the API");
        let worker = args.worker.then(|| {
            watch_signals(Arc::clone(&stop));
            let (svc, stop) = (Arc::clone(&svc), Arc::clone(&stop));
            let pace = Pace {
                batch: args.batch as usize,
                poll: std::time::Duration::from_millis(args.poll_ms),
                once: false,
            };
            tokio::spawn(async move { work_loop(svc.runtime(), pace, &stop, None).await })
        });
        let app = api::router(api::AppState::new(svc));
        let stopping = Arc::clone(&stop);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = tokio::signal::ctrl_c().await;
                stopping.store(true, Ordering::Relaxed);
            })
            .await
            .map_err(|e| usage(format!("the server stopped: {e}")));
        // The worker finishes its batch (one transaction) before the process ends.
        stop.store(true, Ordering::Relaxed);
        if let Some(worker) = worker
            && let Ok((total, _)) = worker.await
        {
            eprintln!(
                "worker: {} item(s) worked on, {} transition(s)",
                total.items, total.transitions
            );
        }
        served
    })
}

/// Prints the OpenAPI document (as committed in docs/openapi.json).
pub fn openapi() -> ExitCode {
    print!("{}", api::openapi_document());
    ExitCode::SUCCESS
}
