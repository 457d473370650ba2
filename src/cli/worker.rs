//! `nagare worker`: runs system steps, timers and calls, batch after batch.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use nagare_engine::runtime::{
    BatchReport, Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, RuntimeError,
};
use nagare_engine::store::Param;

use super::rt::{self, Flows, Global};

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// Stop when no work is left instead of waiting for more
    #[arg(long)]
    once: bool,
    /// Work items per batch (one transaction)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Milliseconds to wait when there is no work
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Register the test handlers (`test.effect`, `test.noop`) used by the
    /// kill-and-resume tests; `test.effect` writes to a table `test_effects(item_id, node)`
    /// that the caller creates
    #[arg(long, hide = true)]
    test_handlers: bool,
}

/// Writes one effect row per (item, node): the kill-and-resume tests count them.
struct Effect;

#[async_trait]
impl Handler for Effect {
    async fn run(&self, ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        let (item, node) = (ctx.item_id(), ctx.node().to_owned());
        ctx.execute(
            "INSERT INTO test_effects (item_id, node) VALUES ($1, $2)",
            &[Param::Int(item), Param::Text(node)],
        )
        .await?;
        Ok(())
    }
}

/// Does nothing: the trivial handler of the benchmark.
pub struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Ok(())
    }
}

pub(super) fn register_test_handlers(registry: &mut HandlerRegistry) {
    registry
        .register("test.effect", Effect)
        .register("test.noop", Noop);
}

pub fn run(global: &Global, args: WorkerArgs) -> ExitCode {
    rt::block_on(work(global, args))
}

async fn work(global: &Global, args: WorkerArgs) -> ExitCode {
    let runtime = match rt::runtime(global, rt::handlers(args.test_handlers), Flows::Optional).await
    {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let stop = Arc::new(AtomicBool::new(false));
    watch_signals(Arc::clone(&stop));
    let pace = Pace {
        batch: args.batch as usize,
        poll: Duration::from_millis(args.poll_ms),
        once: args.once,
    };
    let progress = super::progress::Progress::spinner("worker:");
    let (total, outcome) = work_loop(&runtime, pace, &stop, Some(&progress)).await;
    progress.finish();
    if let Err(err) = &outcome {
        eprintln!("error: {err}");
    }
    eprintln!(
        "worker: {} item(s) worked on, {} transition(s)",
        total.items, total.transitions
    );
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(super::EXIT_PROBLEMS),
    }
}

/// How the worker loop takes its work.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Work items per batch (one transaction).
    pub batch: usize,
    /// The wait when there is no work.
    pub poll: Duration,
    /// Return when no work is left instead of waiting for more.
    pub once: bool,
}

/// Runs batches until `stop` is set (or, with `once`, until no work is left). A batch that
/// rolls back is retried after a pause that grows with the failures in a row; with `once`,
/// three non-transient failures in a row end the loop with the last error.
pub async fn work_loop(
    runtime: &Runtime,
    pace: Pace,
    stop: &AtomicBool,
    progress: Option<&super::progress::Progress>,
) -> (BatchReport, Result<(), RuntimeError>) {
    let mut total = BatchReport::default();
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match runtime.run_batch(pace.batch).await {
            Ok(report) => {
                failures = 0;
                total.items += report.items;
                total.transitions += report.transitions;
                if let Some(p) = progress {
                    p.show(format!(
                        "{} item(s) worked on, {} transition(s){}",
                        total.items,
                        total.transitions,
                        if report.items == 0 {
                            ", waiting for work"
                        } else {
                            ""
                        }
                    ));
                }
                if report.items == 0 {
                    if pace.once {
                        break;
                    }
                    tokio::time::sleep(pace.poll).await;
                }
            }
            Err(err) => {
                failures += 1;
                let transient = matches!(&err, RuntimeError::Store(e) if e.is_transient());
                tracing::warn!(failures, transient, "batch rolled back: {err}");
                if pace.once && !transient && failures >= 3 {
                    return (total, Err(err));
                }
                let pause = if transient { 50 } else { 1000 };
                tokio::time::sleep(Duration::from_millis(pause * u64::from(failures.min(10))))
                    .await;
            }
        }
    }
    (total, Ok(()))
}

/// Stops the loop after the current batch on Ctrl-C or SIGTERM.
pub fn watch_signals(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        stop.store(true, Ordering::Relaxed);
    });
}
