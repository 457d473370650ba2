//! `nagare check`: validates flow files and reports every problem.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nagare_engine::diagnostic::Severity;
use nagare_engine::flow::{CheckOutcome, check_sources, check_sources_with};

use super::{EXIT_PROBLEMS, EXIT_USAGE, OutputFormat};
use crate::report;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Flow files or folders to check (folders are searched for *.yaml)
    #[arg(default_value = "flows")]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Treat warnings (an unused document, a handler this build has not registered) as
    /// errors: exit 1 when there is any
    #[arg(long)]
    strict: bool,
}

/// Why flow files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no flow files (*.yaml) found under {0}")]
    Empty(String),
}

/// Reads every `*.yaml` / `*.yml` file under the paths, sorted, as (display path, bytes).
pub fn read_flow_sources(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, ReadError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(ReadError::Empty(shown.join(", ")));
    }
    files
        .into_iter()
        .map(|f| {
            let bytes = read_limited(&f).map_err(|source| ReadError::Io {
                path: f.display().to_string(),
                source,
            })?;
            Ok((f.display().to_string(), bytes))
        })
        .collect()
}

/// Reads a file, but never more than one byte past the YAML size limit: a huge file is
/// refused by the parser with a clear message without being read into memory.
fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let limit = nagare_engine::yaml::MAX_FILE_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(|source| ReadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| ReadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ReadError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let p = entry.path();
            if p.is_dir() {
                collect(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Reads and checks the flows under the paths; prints the read error and returns `Err`
/// with the exit status when they cannot be read.
pub fn load(paths: &[PathBuf]) -> Result<CheckOutcome, ExitCode> {
    match read_flow_sources(paths) {
        Ok(sources) => Ok(check_sources(&sources)),
        Err(err) => {
            eprintln!("error: {err}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    // The handlers this binary runs with: a system node naming another is reported.
    let registry = crate::handlers::registry();
    let names: Vec<&str> = registry.names().collect();
    let outcome = match read_flow_sources(&args.paths) {
        Ok(sources) => check_sources_with(&sources, Some(&names)),
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let diags = &outcome.diagnostics;
    match args.format {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report::to_json(diags)).unwrap_or_default()
            );
        }
        OutputFormat::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", report::render_human(diags, color));
            let errors = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let warnings = diags.len() - errors;
            let strict = if args.strict && warnings > 0 {
                " (--strict: warnings count as errors)"
            } else {
                ""
            };
            match &outcome.catalog {
                Some(catalog) => eprintln!(
                    "checked {} flow(s): no errors, {warnings} warning(s){strict}",
                    catalog.len()
                ),
                None => eprintln!("{errors} error(s), {warnings} warning(s){strict}"),
            }
        }
    }
    if outcome.has_errors() || (args.strict && !outcome.diagnostics.is_empty()) {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}
