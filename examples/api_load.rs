//! Load benchmark of the HTTP API: concurrent clients list, claim and complete tasks for a
//! fixed time against a server in this process; prints requests per second, p50/p99
//! latency, errors, and checks that no task was completed twice.
//!
//! ```text
//! cargo run --release --example api_load -- sqlite:///tmp/load.db 200 60 30000 1000
//! cargo run --release --example api_load -- postgres://postgres@127.0.0.1:5432/load 200 60 30000 1000
//! ```
//! Arguments: database URL (a fresh, empty database), clients, seconds, open tasks at the
//! start (whole thousands; default 30000), offered load in requests per second for all
//! clients together (default 1000; `0` lets every client send as fast as it can).
//!
//! With a rate, the clients are paced (open loop): client `c` sends its next request at its
//! next slot whether or not the server kept up, and a request's latency is measured from
//! its slot, not from when it was sent. A server that falls behind therefore shows its
//! queueing delay in the percentiles instead of hiding it by slowing the clients down
//! ("coordinated omission"). Without a rate, 200 clients in a closed loop measure only
//! throughput: their latency is clients ÷ throughput by construction.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nagare::api::{self, AppState};
use nagare_engine::access::Service;
use nagare_engine::flow::check_sources;
use nagare_engine::runtime::{
    Actor, Data, Handler, HandlerContext, HandlerError, HandlerRegistry, Runtime, SystemClock,
};
use nagare_engine::store::TaskFilter;
use serde_json::{Value, json};

struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(&self, _ctx: &mut HandlerContext<'_>) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// The same latencies by operation: list, claim-next, complete.
    by_op: [Vec<u32>; 3],
    ok: u64,
    conflicts: u64,
    errors: u64,
    completed: u64,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "sqlite:///tmp/nagare_load.db".into());
    let clients: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(60);
    let items: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(30_000);
    let rate: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(1000);
    // Each client's gap between two requests, so that all clients together offer `rate`.
    let interval = (rate > 0).then(|| Duration::from_secs_f64(clients as f64 / rate as f64));

    let store = nagare_engine::store::open(&url)
        .await
        .expect("open the database");
    let mut handlers = HandlerRegistry::new();
    handlers.register("test.noop", Noop);
    let rt = Runtime::new(store, handlers, Arc::new(SystemClock));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/api_flows");
    let sources: Vec<(String, Vec<u8>)> = ["application.yaml", "pension.yaml"]
        .iter()
        .map(|n| {
            let p = format!("{dir}/{n}");
            (p.clone(), std::fs::read(&p).expect("flow"))
        })
        .collect();
    rt.register_catalog(&check_sources(&sources).catalog.expect("flows"))
        .await
        .expect("register");
    let svc = Arc::new(Service::new(Arc::new(rt)));

    // Enough open tasks that the clients never run dry.
    eprintln!("preparing {items} work items with an open task …");
    for chunk in 0..(items / 1000) {
        let batch: Vec<(String, Data)> = (0..1000)
            .map(|i| {
                let n = chunk * 1000 + i;
                let data = json!({"received_on": "2026-04-01", "customer_no": format!("C-{n}")});
                (
                    format!("insured:{n:06}"),
                    data.as_object().cloned().unwrap_or_default(),
                )
            })
            .collect();
        svc.runtime()
            .start_many("9.7", batch, &Actor::System)
            .await
            .expect("start");
    }
    while svc.runtime().run_batch(500).await.expect("worker").items > 0 {}

    let (_, _) = svc
        .add_user(None, "root", &["admin".to_owned()])
        .await
        .expect("admin");
    let root = svc.principal("root").await.expect("root");
    let mut tokens = Vec::with_capacity(clients);
    for c in 0..clients {
        let (_, token) = svc
            .add_user(
                Some(&root),
                &format!("clerk{c}"),
                &["municipal_office".to_owned()],
            )
            .await
            .expect("user");
        tokens.push(token);
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = api::router(AppState::new(Arc::clone(&svc)));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");

    eprintln!(
        "{clients} clients for {seconds} s on {}, offering {}",
        url.split('?').next().unwrap_or_default(),
        if rate > 0 {
            format!("{rate} req/s")
        } else {
            "as much as they can".into()
        }
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut handles = Vec::new();
    for (c, token) in tokens.into_iter().enumerate() {
        let (http, base, stop) = (http.clone(), base.clone(), Arc::clone(&stop));
        // Spread the clients' first slots over one interval, so they do not all fire at once.
        let offset = interval.map(|i| i.mul_f64(c as f64 / clients as f64));
        handles.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut slot = offset.map(|o| tokio::time::Instant::now() + o);
            let mut timed = async |op: usize,
                                   req: reqwest::RequestBuilder,
                                   t: &mut Tally|
                   -> Option<(u16, Value)> {
                let t0 = match (&mut slot, interval) {
                    (Some(at), Some(gap)) => {
                        tokio::time::sleep_until(*at).await;
                        let scheduled = at.into_std();
                        *at += gap;
                        scheduled
                    }
                    _ => Instant::now(),
                };
                let res = req.bearer_auth(&token).send().await;
                let out = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        Some((status, r.json::<Value>().await.unwrap_or(Value::Null)))
                    }
                    Err(_) => None,
                };
                let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                t.latencies_us.push(us);
                t.by_op[op].push(us);
                match &out {
                    Some((200..=299, _)) => t.ok += 1,
                    Some((409, _)) => t.conflicts += 1,
                    _ => t.errors += 1,
                }
                out
            };
            while !stop.load(Ordering::Relaxed) {
                let list = timed(0, http.get(format!("{base}/v1/tasks?limit=50")), &mut t).await;
                let Some((200, Value::Array(tasks))) = list else {
                    continue;
                };
                if tasks.is_empty() {
                    break;
                }
                // The clerk looks at the queue, then takes the next case ("claim next"): the
                // server hands each clerk a different task, so clerks do not collide on the
                // few tasks at the top of the list.
                let claim =
                    timed(1, http.post(format!("{base}/v1/tasks/claim-next")), &mut t).await;
                let Some((200, task)) = claim else {
                    continue;
                };
                let id = task["id"].as_i64().unwrap_or(0);
                let body = json!({"answer": {"decision": "却下"}});
                let done = timed(
                    2,
                    http.post(format!("{base}/v1/tasks/{id}/complete"))
                        .json(&body),
                    &mut t,
                )
                .await;
                if matches!(done, Some((200, _))) {
                    t.completed += 1;
                }
            }
            t
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for h in handles {
        let t = h.await.expect("client");
        all.latencies_us.extend(t.latencies_us);
        for (all, mine) in all.by_op.iter_mut().zip(t.by_op) {
            all.extend(mine);
        }
        all.ok += t.ok;
        all.conflicts += t.conflicts;
        all.errors += t.errors;
        all.completed += t.completed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    for op in &mut all.by_op {
        op.sort_unstable();
    }
    let pct_of = |sorted: &[u32], p: f64| {
        let n = sorted.len();
        if n == 0 {
            return 0.0;
        }
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        f64::from(sorted[i]) / 1000.0
    };
    let pct = |p: f64| pct_of(&all.latencies_us, p);
    let requests = all.latencies_us.len();

    // No task completed twice: every completed task has exactly one completion, and the
    // number of completed tasks is the number of successful completions.
    let done = svc
        .runtime()
        .store()
        .tasks(&TaskFilter {
            state: Some(nagare_engine::runtime::TaskState::Completed),
            ..TaskFilter::default()
        })
        .await
        .expect("tasks");
    let mut twice = 0;
    for task in &done {
        let history = svc
            .runtime()
            .store()
            .history(task.item_id)
            .await
            .expect("history");
        let completions = history
            .iter()
            .filter(|t| t.kind == "task_completed")
            .count();
        if completions != 1 {
            twice += 1;
        }
    }
    println!("database: {}", url.split(':').next().unwrap_or_default());
    println!("clients: {clients}, seconds: {elapsed:.1}, offered: {rate} req/s (0: closed loop)");
    println!(
        "requests: {requests} ({:.0} req/s)",
        requests as f64 / elapsed
    );
    println!(
        "latency ms: p50 {:.2}, p99 {:.2}, max {:.2}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    for (name, op) in ["list", "claim-next", "complete"].iter().zip(&all.by_op) {
        println!(
            "  {name}: {} requests, p50 {:.2} ms, p99 {:.2} ms",
            op.len(),
            pct_of(op, 0.50),
            pct_of(op, 0.99)
        );
    }
    println!(
        "ok: {}, conflicts (409, another clerk was faster): {}, errors: {}",
        all.ok, all.conflicts, all.errors
    );
    println!(
        "tasks completed: {} by the clients, {} in the database, completed twice: {twice}",
        all.completed,
        done.len()
    );
    if all.errors > 0 || twice > 0 || all.completed != done.len() as u64 {
        std::process::exit(1);
    }
}
