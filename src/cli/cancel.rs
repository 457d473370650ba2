//! `nagare cancel ITEM --reason TEXT`: a supervisor of the item's lanes ends a running,
//! waiting or failed work item and the items it called; open tasks, timers and waits are
//! withdrawn and the reason is recorded in the history. Acts as the `--as` user, checked by
//! the same access service as `POST /v1/items/{id}/cancel`.

use std::process::ExitCode;

use clap::Args;

use super::OutputFormat;
use super::queue::{Conn, block_on, open, print_json, who};
use crate::api::cancel::CancelOut;
use crate::api::dto::ItemOut;

#[derive(Args)]
pub struct CancelArgs {
    #[command(flatten)]
    conn: Conn,
    /// The work item to cancel
    id: i64,
    /// Why (recorded in the item's history)
    #[arg(long)]
    reason: String,
}

fn ids(ids: &[i64]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(args: CancelArgs) -> ExitCode {
    block_on(async move {
        let svc = open(&args.conn).await?;
        let p = who(&svc, &args.conn).await?;
        let (view, report) = svc.cancel(&p, args.id, &args.reason).await?;
        let out = CancelOut::new(ItemOut::from(&view), &report);
        match args.conn.format {
            OutputFormat::Json => print_json(&out),
            OutputFormat::Human => {
                for c in &out.cancelled {
                    let mut line = match c.because_of {
                        None => format!("work item {} cancelled", c.item_id),
                        Some(parent) => {
                            format!("work item {} cancelled with its parent {parent}", c.item_id)
                        }
                    };
                    if !c.withdrawn_tasks.is_empty() {
                        line.push_str(&format!("; task(s) {} withdrawn", ids(&c.withdrawn_tasks)));
                    }
                    if !c.withdrawn_timers.is_empty() {
                        line.push_str(&format!(
                            "; timer(s) {} withdrawn",
                            ids(&c.withdrawn_timers)
                        ));
                    }
                    if !c.waits.is_empty() {
                        line.push_str(&format!("; it waited for: {}", c.waits.join(", ")));
                    }
                    println!("{line}");
                    if !c.pending_outbox.is_empty() {
                        println!(
                            "  its outbox entries {} are not sent yet and stay in the outbox (`nagare outbox list --item {}`)",
                            ids(&c.pending_outbox),
                            c.item_id
                        );
                    }
                }
                if let Some(parent) = out.parent_notified {
                    println!("work item {parent} no longer waits for it");
                }
                Ok(())
            }
        }
    })
}
