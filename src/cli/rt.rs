//! What the runtime commands share: the global options, opening the store, loading and
//! registering the flows, the handler registry, and printing tables and times.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nagare_engine::runtime::clock::jst;
use nagare_engine::runtime::{Actor, HandlerRegistry, Runtime, SystemClock};
use nagare_engine::store::{self, Store};
use unicode_width::UnicodeWidthStr;

use super::EXIT_USAGE;
use super::check::{ReadError, read_flow_sources};
use crate::report;

/// Options every runtime command takes.
#[derive(Clone, Debug, clap::Args)]
pub struct Global {
    /// Database: sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://nagare.db]
    // No clap default: a default would be propagated into `nagare demo`, which must never
    // write its synthetic data into the working database unless told to.
    #[arg(long, global = true, env = "NAGARE_DB")]
    pub db: Option<String>,
    /// Folder (or file) of flow files
    #[arg(long, global = true, default_value = "flows")]
    pub flows: PathBuf,
    /// Municipal settings file (periods, due dates, rounding, 督促手数料 …); see
    /// examples/settings/city.yaml. Without it the sample city's settings are used.
    #[arg(long, global = true, env = "NAGARE_SETTINGS", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Who is acting, recorded in the history (default: $USER)
    #[arg(long = "as", global = true, env = "NAGARE_USER", value_name = "USER")]
    pub user: Option<String>,
}

/// The database used when neither `--db` nor `NAGARE_DB` names one.
pub const DEFAULT_DB: &str = "sqlite://nagare.db";

impl Global {
    /// Returns the database URL to use.
    pub fn db_url(&self) -> &str {
        self.db.as_deref().unwrap_or(DEFAULT_DB)
    }

    /// Returns the person the command acts for.
    pub fn actor(&self) -> Actor {
        let name = self
            .user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Actor::User(name)
    }
}

/// Prints an error and returns the exit status of a command that could not run.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Runs an async command on a small tokio runtime.
pub fn block_on(fut: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(err) => fail(format!("cannot start the async runtime: {err}")),
    }
}

/// Opens the store the global options name.
pub async fn open_store(global: &Global) -> Result<Arc<dyn Store>, ExitCode> {
    store::open(global.db_url())
        .await
        .map_err(|err| fail(format!("cannot open the database: {err}")))
}

/// Reads the municipal settings the handlers compute with; the settings file is checked
/// like a flow file and every problem is printed.
/// The municipality's settings from `--settings` (the sample city's without it), for the
/// handlers and for the office calendar that `bd` periods count in.
fn municipal_settings(
    global: &Global,
    note: bool,
) -> Result<nagare_steps::domain::settings::Settings, ExitCode> {
    use nagare_steps::handlers::common::HandlerSettings;
    let Some(path) = &global.settings else {
        if note {
            eprintln!(
                "note: no --settings given; handlers use the sample city's settings (examples/settings/city.yaml)"
            );
        }
        return Ok(HandlerSettings::sample().municipal);
    };
    let bytes = std::fs::read(path)
        .map_err(|err| fail(format!("cannot read {}: {err}", path.display())))?;
    nagare_steps::domain::settings::from_yaml(&path.display().to_string(), &bytes).map_err(
        |diags| {
            eprint!("{}", crate::report::render_human(&diags, false));
            ExitCode::from(super::EXIT_PROBLEMS)
        },
    )
}

/// Gives a runtime the municipality's settings and its office calendar; `note` says on
/// stderr when the sample city's settings stand in (commands that run handlers).
pub fn with_municipality(rt: Runtime, global: &Global, note: bool) -> Result<Runtime, ExitCode> {
    use nagare_steps::handlers::common::HandlerSettings;
    let municipal = municipal_settings(global, note)?;
    let calendar = Arc::new(municipal.business_calendar());
    Ok(rt.with_calendar(calendar).with_settings(
        HandlerSettings {
            municipal,
            ..HandlerSettings::sample()
        }
        .to_json(),
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flows {
    /// The command starts or migrates items: the flows must read and check clean.
    Required,
    /// The command can work from the versions stored in the database when the folder is
    /// missing; flows with errors still stop it.
    Optional,
    /// The command only reads the database.
    None,
}

/// Opens the store, loads and registers the flows, and returns a runtime.
pub async fn runtime(
    global: &Global,
    handlers: HandlerRegistry,
    flows: Flows,
) -> Result<Runtime, ExitCode> {
    let store = open_store(global).await?;
    let rt = Runtime::new(store, handlers, Arc::new(SystemClock));
    if flows == Flows::None {
        return Ok(rt);
    }
    let rt = with_municipality(rt, global, true)?;
    let sources = match read_flow_sources(std::slice::from_ref(&global.flows)) {
        Ok(sources) => sources,
        Err(err) if flows == Flows::Optional && is_missing(&err, &global.flows) => {
            eprintln!(
                "note: no flows under {}; running on the versions stored in the database",
                global.flows.display()
            );
            return Ok(rt);
        }
        Err(err) => return Err(fail(err)),
    };
    let outcome = nagare_engine::flow::check_sources(&sources);
    let Some(catalog) = outcome.catalog else {
        eprint!("{}", report::render_human(&outcome.diagnostics, false));
        return Err(fail(format!(
            "the flows under {} have errors; `nagare check` shows them",
            global.flows.display()
        )));
    };
    rt.register_catalog(&catalog)
        .await
        .map_err(|err| fail(format!("cannot register the flows: {err}")))?;
    Ok(rt)
}

fn is_missing(err: &ReadError, path: &Path) -> bool {
    match err {
        ReadError::Empty(_) => true,
        ReadError::Io { source, .. } => {
            source.kind() == std::io::ErrorKind::NotFound && !path.exists()
        }
    }
}

/// Formats a time for people: Japan time, to the second.
pub fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&jst())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Formats a time for programs: RFC 3339 in UTC.
pub fn when_json(t: DateTime<Utc>) -> String {
    nagare_engine::runtime::clock::format_ts(t)
}

/// Prints rows as a table with aligned columns (wide characters count double).
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i + 1 == widths.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - cell.width() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

/// Returns the text cut to `max` columns, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + c.to_string().width() + 1 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The handlers the binary runs: every handler of `nagare-steps`; `test` adds the handlers
/// the kill-and-resume tests use.
pub fn handlers(test: bool) -> HandlerRegistry {
    let mut registry = crate::handlers::registry();
    if test {
        super::worker::register_test_handlers(&mut registry);
    }
    registry
}
