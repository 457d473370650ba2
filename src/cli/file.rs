//! `nagare file`: check, show and write interchange files.
//!
//! Staff use it to look into a file before importing it and to produce one by hand when
//! something went wrong. Exit status: 0 valid / written, 1 problems found (every problem
//! is listed with record number, field and position), 2 the command could not run.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nagare_steps::formats::fixed::{LineEnding, RecordStyle};
use nagare_steps::formats::kind::{self, KindError, KindOptions};
use nagare_steps::formats::zengin::BankProfile;
use nagare_steps::formats::zengin::kana::ZenginCharset;
use nagare_steps::formats::{FormatError, Limits, TextEncoding, read_file};

use super::{EXIT_PROBLEMS, EXIT_USAGE};

/// Arguments of `nagare file`.
#[derive(clap::Args)]
pub struct FileArgs {
    #[command(subcommand)]
    command: FileCommand,
}

#[derive(clap::Subcommand)]
enum FileCommand {
    /// Check a file: exit 0 when valid, 1 listing every problem, 2 when it could not run
    Check {
        /// File kind (see `nagare file kinds`)
        kind: String,
        /// The file to check
        file: PathBuf,
        #[command(flatten)]
        opts: CommonOpts,
    },
    /// Print the parsed records of a valid file
    Show {
        /// File kind (see `nagare file kinds`)
        kind: String,
        /// The file to show
        file: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
        #[command(flatten)]
        opts: CommonOpts,
    },
    /// Write a file of KIND from JSON records (the shape `show --format json` prints) to standard output
    Write {
        /// File kind (see `nagare file kinds`)
        kind: String,
        /// JSON file with the records
        #[arg(long)]
        input: PathBuf,
        #[command(flatten)]
        opts: CommonOpts,
    },
    /// List the file kinds
    Kinds,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ShowFormat {
    /// One line per record
    Text,
    /// Pretty-printed JSON
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LineEndingArg {
    None,
    Crlf,
    Lf,
}

#[derive(clap::Args)]
struct CommonOpts {
    /// Text encoding of CSV kinds: utf-8 or shift_jis
    #[arg(long, default_value = "utf-8")]
    encoding: String,
    /// Expected 委託者コード (zengin kinds): a file for another consignor is refused
    #[arg(long)]
    consignor: Option<String>,
    /// Expected 5-digit 市町村コード (pension kinds)
    #[arg(long)]
    municipality: Option<String>,
    /// File with the keys we issued, one per line (顧客番号 or barcodes): results for other keys are refused
    #[arg(long)]
    known_keys: Option<PathBuf>,
    /// Refuse input files larger than this many bytes
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    max_bytes: u64,
    /// Convenience-store amount limit in yen
    #[arg(long, default_value_t = nagare_steps::formats::cvs::barcode::DEFAULT_MAX_AMOUNT_YEN)]
    max_amount: i64,
    /// Record separator when writing fixed-width files
    #[arg(long, value_enum, default_value = "crlf")]
    line_ending: LineEndingArg,
    /// Append an EOF byte (0x1A) when writing fixed-width files
    #[arg(long)]
    eof: bool,
    /// Extra half-width symbols the bank accepts in names, e.g. ",｢｣"
    #[arg(long, default_value = "")]
    allowed_symbols: String,
    /// Do not check bank and branch codes against the data set (a bank newer than the data)
    #[arg(long)]
    no_validate_codes: bool,
    /// Fill empty bank and branch names from the data set
    #[arg(long)]
    fill_bank_names: bool,
}

/// A failure that stops the command, with its exit status.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

impl From<KindError> for Failure {
    fn from(e: KindError) -> Self {
        match e {
            KindError::Format(FormatError::Invalid(p)) => Failure {
                code: EXIT_PROBLEMS,
                message: format!("{p}\n{} problem(s) found", p.len()),
            },
            KindError::Json { .. } => Failure {
                code: EXIT_PROBLEMS,
                message: e.to_string(),
            },
            other => usage(other.to_string()),
        }
    }
}

impl CommonOpts {
    fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_bytes,
        }
    }

    fn kind_options(&self) -> Result<KindOptions, Failure> {
        let encoding = TextEncoding::parse(&self.encoding).ok_or_else(|| {
            usage(format!(
                "unknown encoding {:?}; use utf-8 or shift_jis",
                self.encoding
            ))
        })?;
        let known_keys = match &self.known_keys {
            None => None,
            Some(path) => {
                let bytes = read_file(path, &self.limits())
                    .map_err(|e| usage(format!("{}: {e}", path.display())))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| usage(format!("{}: not UTF-8 text", path.display())))?;
                Some(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect::<HashSet<_>>(),
                )
            }
        };
        Ok(KindOptions {
            encoding,
            consignor_code: self.consignor.clone(),
            municipality_code: self.municipality.clone(),
            known_keys,
            profile: BankProfile {
                style: RecordStyle {
                    line_ending: match self.line_ending {
                        LineEndingArg::None => LineEnding::None,
                        LineEndingArg::Crlf => LineEnding::Crlf,
                        LineEndingArg::Lf => LineEnding::Lf,
                    },
                    eof: self.eof,
                },
                charset: ZenginCharset {
                    extra: self.allowed_symbols.chars().collect(),
                },
                validate_codes: !self.no_validate_codes,
                fill_bank_names: self.fill_bank_names,
            },
            max_amount_yen: self.max_amount,
        })
    }
}

fn known_kind(kind: &str) -> Result<(), Failure> {
    if kind::names().contains(&kind) {
        Ok(())
    } else {
        Err(usage(KindError::UnknownKind(kind.to_owned()).to_string()))
    }
}

fn read_input(path: &Path, opts: &CommonOpts) -> Result<Vec<u8>, Failure> {
    read_file(path, &opts.limits()).map_err(|e| usage(format!("{}: {e}", path.display())))
}

fn count_records(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => a.len(),
        other => other
            .get("records")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len),
    }
}

/// Renders one JSON value on a line for the text format: nested objects are flattened
/// as `a.b=value`.
fn text_line(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                text_line(&key, v, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push(format!("{prefix}={s}")),
        other => out.push(format!("{prefix}={other}")),
    }
}

fn print_text(v: &serde_json::Value) -> String {
    let mut s = String::new();
    let (header, records) = match v {
        serde_json::Value::Array(a) => (None, a.as_slice()),
        other => (
            other.get("header"),
            other
                .get("records")
                .and_then(serde_json::Value::as_array)
                .map_or(&[][..], Vec::as_slice),
        ),
    };
    if let Some(h) = header {
        let mut parts = Vec::new();
        text_line("", h, &mut parts);
        s.push_str(&format!("header: {}\n", parts.join(" ")));
    }
    for (i, r) in records.iter().enumerate() {
        let mut parts = Vec::new();
        text_line("", r, &mut parts);
        s.push_str(&format!("{}: {}\n", i + 1, parts.join(" ")));
    }
    if let Some(t) = v.get("totals") {
        let mut parts = Vec::new();
        text_line("", t, &mut parts);
        s.push_str(&format!("totals: {}\n", parts.join(" ")));
    }
    s
}

fn check(kind: &str, file: &Path, opts: &CommonOpts) -> Result<String, Failure> {
    known_kind(kind)?;
    let kopts = opts.kind_options()?;
    let bytes = read_input(file, opts)?;
    let json = kind::read_to_json(kind, &bytes, &kopts)?;
    Ok(format!("ok: {} record(s)\n", count_records(&json)))
}

fn show(kind: &str, file: &Path, format: ShowFormat, opts: &CommonOpts) -> Result<String, Failure> {
    known_kind(kind)?;
    let kopts = opts.kind_options()?;
    let bytes = read_input(file, opts)?;
    let json = kind::read_to_json(kind, &bytes, &kopts)?;
    Ok(match format {
        ShowFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&json)
                .map_err(|e| usage(format!("cannot print JSON: {e}")))?
        ),
        ShowFormat::Text => print_text(&json),
    })
}

fn run_write(kind: &str, input: &Path, opts: &CommonOpts) -> Result<Vec<u8>, Failure> {
    known_kind(kind)?;
    let kopts = opts.kind_options()?;
    let bytes = read_input(input, opts)?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| usage(format!("{}: not valid JSON: {e}", input.display())))?;
    Ok(kind::write_from_json(kind, &json, &kopts)?)
}

/// Runs `nagare file …` and returns the exit status.
pub fn run(args: FileArgs) -> ExitCode {
    let result = match args.command {
        FileCommand::Kinds => {
            for (k, title) in kind::all() {
                println!("{k}\t{title}");
            }
            Ok(())
        }
        FileCommand::Write { kind, input, opts } => {
            run_write(&kind, &input, &opts).and_then(|bytes| {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| usage(format!("cannot write to standard output: {e}")))
            })
        }
        FileCommand::Check { kind, file, opts } => match check(&kind, &file, &opts) {
            Ok(text) => {
                print!("{text}");
                Ok(())
            }
            // The problems of a checked file are the command's output: stdout.
            Err(f) if f.code == EXIT_PROBLEMS => {
                println!("{}", f.message);
                return ExitCode::from(EXIT_PROBLEMS);
            }
            Err(f) => Err(f),
        },
        FileCommand::Show {
            kind,
            file,
            format,
            opts,
        } => show(&kind, &file, format, &opts).map(|text| print!("{text}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
