//! `nagare items`, `item` and `history`: reading work items and their story.

use std::process::ExitCode;

use nagare_engine::runtime::{ItemState, Token, Transition, WorkItem};
use nagare_engine::store::{ItemFilter, Store, TaskFilter};
use serde_json::{Value, json};

use super::OutputFormat;
use super::rt::{self, Global, clip, fail, print_table, when, when_json};

#[derive(clap::Args)]
pub struct ItemsArgs {
    /// Only items of this flow
    #[arg(long)]
    flow: Option<String>,
    /// Only items in this state (running, waiting, failed, completed, cancelled)
    #[arg(long, value_parser = parse_state)]
    state: Option<ItemState>,
    /// Only items with an id above this (for paging)
    #[arg(long)]
    after: Option<i64>,
    /// At most this many items
    #[arg(long, default_value_t = 100)]
    limit: i64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

#[derive(clap::Args)]
pub struct ItemArgs {
    /// The work item
    id: i64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
}

fn parse_state(s: &str) -> Result<ItemState, String> {
    ItemState::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ItemState::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown state `{s}`; use one of {}", all.join(", "))
    })
}

fn nodes_of(tokens: &[Token]) -> String {
    let nodes: Vec<String> = tokens
        .iter()
        .map(|t| match t.wait {
            Some(w) => format!("{} ({w})", t.node),
            None => t.node.clone(),
        })
        .collect();
    nodes.join(", ")
}

fn item_json(item: &WorkItem, tokens: &[Token]) -> Value {
    json!({
        "id": item.id,
        "flow_id": item.flow_id,
        "flow_version": item.flow_version,
        "flow_hash": item.flow_hash,
        "subject": item.subject,
        "state": item.state.as_str(),
        "nodes": tokens.iter().map(|t| json!({
            "node": t.node,
            "state": t.state.as_str(),
            "waits_for": t.wait.map(|w| w.as_str()),
            "wake_at": t.wake_at.map(when_json),
            "attempts": t.attempts,
            "error": t.error,
        })).collect::<Vec<_>>(),
        "error": item.error,
        "parent_id": item.parent_id,
        "run_at": item.run_at.map(when_json),
        "transitions": item.seq,
        "created_at": when_json(item.created_at),
        "updated_at": when_json(item.updated_at),
    })
}

pub fn list(global: &Global, args: ItemsArgs) -> ExitCode {
    rt::block_on(async {
        let store = match rt::open_store(global).await {
            Ok(store) => store,
            Err(code) => return code,
        };
        match list_items(&*store, &args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(err),
        }
    })
}

async fn list_items(
    store: &dyn Store,
    args: &ItemsArgs,
) -> Result<(), nagare_engine::store::StoreError> {
    let filter = ItemFilter {
        flow_id: args.flow.clone(),
        state: args.state,
        after_id: args.after,
        limit: Some(args.limit),
        ..ItemFilter::default()
    };
    let items = store.items(&filter).await?;
    let mut rows = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let tokens = store.tokens(item.id).await?;
        match args.format {
            OutputFormat::Json => out.push(item_json(item, &tokens)),
            OutputFormat::Human => rows.push(vec![
                item.id.to_string(),
                format!("{} v{}", item.flow_id, item.flow_version),
                clip(&item.subject, 24),
                item.state.to_string(),
                clip(&nodes_of(&tokens), 40),
                when(item.updated_at),
                clip(item.error.as_deref().unwrap_or(""), 60),
            ]),
        }
    }
    match args.format {
        OutputFormat::Json => println!("{}", Value::Array(out)),
        OutputFormat::Human => {
            print_table(
                &["ID", "FLOW", "SUBJECT", "STATE", "NODE", "UPDATED", "ERROR"],
                &rows,
            );
            let counts = store.item_counts(args.flow.as_deref()).await?;
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            eprintln!(
                "{} shown; in all: {}",
                items.len(),
                if summary.is_empty() {
                    "none".to_owned()
                } else {
                    summary.join(", ")
                }
            );
        }
    }
    Ok(())
}

pub fn show(global: &Global, args: ItemArgs) -> ExitCode {
    rt::block_on(async {
        let store = match rt::open_store(global).await {
            Ok(store) => store,
            Err(code) => return code,
        };
        match show_item(&*store, &args).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => fail(format!("work item {} does not exist", args.id)),
            Err(err) => fail(err),
        }
    })
}

async fn show_item(
    store: &dyn Store,
    args: &ItemArgs,
) -> Result<bool, nagare_engine::store::StoreError> {
    let Some(item) = store.item(args.id).await? else {
        return Ok(false);
    };
    let tokens = store.tokens(item.id).await?;
    let tasks = store
        .tasks(&TaskFilter {
            item_id: Some(item.id),
            ..TaskFilter::default()
        })
        .await?;
    let outbox = store.outbox(Some(item.id)).await?;
    let children = store
        .items(&ItemFilter {
            parent_id: Some(item.id),
            ..ItemFilter::default()
        })
        .await?;
    match args.format {
        OutputFormat::Json => {
            let mut v = item_json(&item, &tokens);
            v["data"] = Value::Object(item.data.clone());
            v["tasks"] = tasks
                .iter()
                .map(|t| {
                    json!({"id": t.id, "node": t.node, "name": t.name, "role": t.role, "state": t.state.as_str(),
                           "due_date": t.due_date.map(|d| d.to_string()), "claimed_by": t.claimed_by})
                })
                .collect();
            v["outbox"] = outbox
                .iter()
                .map(|o| json!({"id": o.id, "node": o.node, "document": o.document, "recipient": o.recipient, "state": o.state.as_str()}))
                .collect();
            v["children"] = children
                .iter()
                .map(|c| json!({"id": c.id, "flow_id": c.flow_id, "state": c.state.as_str()}))
                .collect();
            println!("{v}");
        }
        OutputFormat::Human => {
            println!("work item {}", item.id);
            println!(
                "  flow      {} v{} ({})",
                item.flow_id,
                item.flow_version,
                &item.flow_hash[..item.flow_hash.len().min(12)]
            );
            println!("  subject   {}", item.subject);
            println!("  state     {}", item.state);
            if let Some(error) = &item.error {
                println!("  error     {error}");
            }
            for t in &tokens {
                let wait = t
                    .wait
                    .map(|w| format!(", waits for {w}"))
                    .unwrap_or_default();
                let wake = t
                    .wake_at
                    .map(|w| format!(" until {}", when(w)))
                    .unwrap_or_default();
                println!("  at        {} ({}{wait}{wake})", t.node, t.state);
            }
            if let Some(parent) = item.parent_id {
                println!("  parent    {parent}");
            }
            println!(
                "  history   {} transition(s); `nagare history {}`",
                item.seq, item.id
            );
            println!("  created   {}", when(item.created_at));
            println!("  updated   {}", when(item.updated_at));
            for t in &tasks {
                let due = t.due_date.map(|d| format!(", due {d}")).unwrap_or_default();
                let claim = t
                    .claimed_by
                    .as_ref()
                    .map(|c| format!(", claimed by {c}"))
                    .unwrap_or_default();
                println!(
                    "  task {}    {} [{}] for {}{due}{claim}",
                    t.id, t.name, t.state, t.role
                );
            }
            for o in &outbox {
                println!(
                    "  outbox {}  {} to {} ({})",
                    o.id,
                    o.document,
                    o.recipient.as_deref().unwrap_or("-"),
                    o.state
                );
            }
            for c in &children {
                println!("  child {}   flow {} ({})", c.id, c.flow_id, c.state);
            }
        }
    }
    Ok(true)
}

pub fn history(global: &Global, args: ItemArgs) -> ExitCode {
    rt::block_on(async {
        let store = match rt::open_store(global).await {
            Ok(store) => store,
            Err(code) => return code,
        };
        match store.item(args.id).await {
            Ok(Some(_)) => {}
            Ok(None) => return fail(format!("work item {} does not exist", args.id)),
            Err(err) => return fail(err),
        }
        let history = match store.history(args.id).await {
            Ok(history) => history,
            Err(err) => return fail(err),
        };
        print_history(&history, args.format);
        ExitCode::SUCCESS
    })
}

fn print_history(history: &[Transition], format: OutputFormat) {
    match format {
        OutputFormat::Json => {
            let records: Vec<Value> = history
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id,
                        "seq": t.seq,
                        "at": when_json(t.at),
                        "actor": t.actor,
                        "kind": t.kind,
                        "from": t.from_node,
                        "to": t.to_node,
                        "data_change": t.data_change.as_deref().and_then(|c| serde_json::from_str::<Value>(c).ok()),
                        "detail": t.detail,
                        "prev_hash": t.prev_hash,
                        "hash": t.hash,
                    })
                })
                .collect();
            println!("{}", Value::Array(records));
        }
        OutputFormat::Human => {
            let rows: Vec<Vec<String>> = history
                .iter()
                .map(|t| {
                    vec![
                        t.seq.to_string(),
                        when(t.at),
                        t.actor.clone(),
                        t.kind.clone(),
                        format!(
                            "{} → {}",
                            t.from_node.as_deref().unwrap_or("·"),
                            t.to_node.as_deref().unwrap_or("·")
                        ),
                        clip(t.data_change.as_deref().unwrap_or(""), 40),
                        clip(t.detail.as_deref().unwrap_or(""), 60),
                    ]
                })
                .collect();
            print_table(
                &["#", "AT (JST)", "ACTOR", "KIND", "MOVE", "DATA", "DETAIL"],
                &rows,
            );
        }
    }
}
