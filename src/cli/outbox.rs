//! `nagare outbox list` and `nagare outbox export DIR`: what leaves the office, and getting
//! it out. The CLI acts as a named user (`--as`), checked by the access service: holders of
//! role `outbox` export; auditors and admins list metadata only.
//!
//! An export writes each pending entry into DIR atomically (a hidden temporary file
//! `.NAME.part` in DIR, fsync, rename, then an fsync of DIR), and only then marks the
//! entries sent, in the transaction that locked them. If the process dies in between, the entries stay pending
//! and the files stay in DIR: the next export into DIR finds each file under its name with
//! the same SHA-256, does not write it again, and marks the entry. A file of that name with
//! other content is never overwritten; the entry is skipped and named.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use nagare_engine::runtime::{OutboxContent, OutboxSink, Placed, SinkError, outbox::sha256_hex};
use nagare_engine::store::OutboxFilter;
use serde::Serialize;

use super::OutputFormat;
use super::queue::{Conn, Failure, block_on, open, opt, print_json, table, usage, who};
use super::{EXIT_PROBLEMS, rt};
use crate::api::outbox::{OutboxEntryOut, parse_outbox_state};

#[derive(Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    command: OutboxCommand,
}

/// Which entries: shared by `list` and `export`.
#[derive(Args, Clone, Debug)]
struct Which {
    /// Only this document (e.g. demand_letter, debit_request_data)
    #[arg(long)]
    document: Option<String>,
    /// Only entries to this recipient (a lane such as bank, or a 宛名番号)
    #[arg(long)]
    recipient: Option<String>,
    /// Only entries of this work item
    #[arg(long)]
    item: Option<i64>,
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List outbox entries (pending ones by default), by id
    List {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        which: Which,
        /// pending (default), sent or all
        #[arg(long)]
        state: Option<String>,
        /// Only entries with a greater id (paging)
        #[arg(long)]
        after: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Write each pending entry into DIR and mark it sent (holders of role `outbox`)
    Export {
        #[command(flatten)]
        conn: Conn,
        /// An existing folder: letters land as DOCUMENT-ID.txt, files as
        /// DOCUMENT-ID-FILE_NAME, send records as DOCUMENT-ID.json
        dir: PathBuf,
        #[command(flatten)]
        which: Which,
        /// Export at most this many entries
        #[arg(long)]
        limit: Option<usize>,
    },
}

/// Writes files into one folder, atomically and without overwriting anything.
struct FolderSink {
    dir: PathBuf,
    /// Files were renamed into the folder since the last sync.
    dirty: bool,
}

impl FolderSink {
    fn new(dir: &Path) -> Result<Self, Failure> {
        let meta = std::fs::metadata(dir).map_err(|e| {
            usage(format!(
                "cannot use {} as the export folder: {e}",
                dir.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(usage(format!("{} is not a folder", dir.display())));
        }
        let dir = std::fs::canonicalize(dir)
            .map_err(|e| usage(format!("cannot resolve {}: {e}", dir.display())))?;
        Ok(Self { dir, dirty: false })
    }

    /// Says whether `path` holds exactly these bytes; `None` when there is no such file.
    fn existing(path: &Path, content: &OutboxContent) -> Result<Option<bool>, SinkError> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SinkError::Fatal(format!(
                "cannot look at {}: {e}",
                path.display()
            ))),
            Ok(meta) if !meta.is_file() => Err(SinkError::Entry(format!(
                "{} exists and is not a regular file; it is left alone",
                path.display()
            ))),
            Ok(meta) if meta.len() != content.bytes.len() as u64 => Ok(Some(false)),
            Ok(_) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    SinkError::Fatal(format!("cannot read {}: {e}", path.display()))
                })?;
                Ok(Some(sha256_hex(&bytes) == content.sha256))
            }
        }
    }

    fn write_new(&self, path: &Path, content: &OutboxContent) -> Result<(), SinkError> {
        // Hidden and with a suffix transfer programs skip, in the same folder so that the
        // rename is atomic. Only the export holding the entry's lock writes this name, so a
        // fixed name is safe, and one left by a killed export is simply written over.
        let tmp = self.dir.join(format!(".{}.part", content.name));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&content.bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SinkError::Fatal(format!("cannot write {}: {e}", path.display()))
        })
    }
}

impl OutboxSink for FolderSink {
    fn target(&self) -> String {
        self.dir.display().to_string()
    }

    fn place(&mut self, content: &OutboxContent) -> Result<Placed, SinkError> {
        let path = self.dir.join(&content.name);
        match Self::existing(&path, content)? {
            Some(true) => Ok(Placed::AlreadyThere),
            Some(false) => Err(SinkError::Entry(format!(
                "{} exists with other content; it is not overwritten (move it away and export again)",
                path.display()
            ))),
            None => {
                self.write_new(&path, content)?;
                self.dirty = true;
                Ok(Placed::Written)
            }
        }
    }

    fn sync(&mut self) -> Result<(), SinkError> {
        if self.dirty {
            // The renames are durable only once the folder itself is.
            std::fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| {
                    SinkError::Fatal(format!("cannot sync {}: {e}", self.dir.display()))
                })?;
            self.dirty = false;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct ExportedOut {
    id: i64,
    document: String,
    kind: &'static str,
    name: String,
    size_bytes: usize,
    sha256: String,
    /// An interrupted export had written the file; it was checked, not written again.
    already_there: bool,
}

#[derive(Serialize)]
struct SkippedOut {
    id: i64,
    reason: String,
}

#[derive(Serialize)]
struct ExportOut {
    to: String,
    exported: Vec<ExportedOut>,
    skipped: Vec<SkippedOut>,
    stopped: Option<String>,
}

fn filter(which: Which) -> OutboxFilter {
    OutboxFilter {
        document: which.document,
        recipient: which.recipient,
        item_id: which.item,
        ..OutboxFilter::default()
    }
}

fn print_entries(entries: &[OutboxEntryOut]) {
    let mut t = table(&[
        "id",
        "item",
        "document",
        "kind",
        "recipient",
        "file",
        "bytes",
        "state",
        "created",
        "sent",
    ]);
    for e in entries {
        let sent = match (&e.sent_at, &e.sent_by) {
            (Some(at), by) => format!("{} by {}", rt::when(*at), opt(by.as_ref())),
            (None, _) => "-".to_owned(),
        };
        t.add_row(vec![
            e.id.to_string(),
            e.item_id.to_string(),
            e.document.clone(),
            opt(e.kind.as_ref()),
            opt(e.recipient.as_ref()),
            e.name
                .clone()
                .or_else(|| e.problem.as_ref().map(|p| format!("(unreadable: {p})")))
                .unwrap_or_default(),
            opt(e.size_bytes),
            e.state.clone(),
            rt::when(e.created_at),
            sent,
        ]);
    }
    println!("{t}");
    println!(
        "{} entr{}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
}

pub fn run(args: OutboxArgs) -> ExitCode {
    match args.command {
        OutboxCommand::List {
            conn,
            which,
            state,
            after,
            limit,
        } => block_on(async move {
            let state = parse_outbox_state("--state", state.as_deref()).map_err(usage)?;
            let svc = open(&conn).await?;
            let p = who(&svc, &conn).await?;
            let f = OutboxFilter {
                state,
                after_id: after,
                limit: Some(limit),
                ..filter(which)
            };
            let entries: Vec<OutboxEntryOut> = svc
                .outbox(&p, &f)
                .await?
                .iter()
                .map(OutboxEntryOut::from)
                .collect();
            match conn.format {
                OutputFormat::Json => print_json(&entries),
                OutputFormat::Human => {
                    print_entries(&entries);
                    Ok(())
                }
            }
        }),
        OutboxCommand::Export {
            conn,
            dir,
            which,
            limit,
        } => {
            let mut problems = false;
            let code = block_on(async {
                let mut sink = FolderSink::new(&dir)?;
                let svc = open(&conn).await?;
                let p = who(&svc, &conn).await?;
                let report = svc
                    .export_outbox(&p, &filter(which), limit, &mut sink)
                    .await?;
                problems = !report.skipped.is_empty() || report.stopped.is_some();
                let out = ExportOut {
                    to: sink.target(),
                    exported: report
                        .exported
                        .iter()
                        .map(|e| ExportedOut {
                            id: e.id,
                            document: e.document.clone(),
                            kind: e.kind.as_str(),
                            name: e.name.clone(),
                            size_bytes: e.bytes,
                            sha256: e.sha256.clone(),
                            already_there: e.already_there,
                        })
                        .collect(),
                    skipped: report
                        .skipped
                        .iter()
                        .map(|(id, reason)| SkippedOut {
                            id: *id,
                            reason: reason.clone(),
                        })
                        .collect(),
                    stopped: report.stopped.clone(),
                };
                match conn.format {
                    OutputFormat::Json => print_json(&out)?,
                    OutputFormat::Human => print_export(&out),
                }
                Ok(())
            });
            if code == ExitCode::SUCCESS && problems {
                ExitCode::from(EXIT_PROBLEMS)
            } else {
                code
            }
        }
    }
}

fn print_export(out: &ExportOut) {
    let again = out.exported.iter().filter(|e| e.already_there).count();
    println!(
        "exported {} entr{} to {}{}",
        out.exported.len(),
        if out.exported.len() == 1 { "y" } else { "ies" },
        out.to,
        if again > 0 {
            format!(
                " ({again} written by an interrupted export were checked and not written again)"
            )
        } else {
            String::new()
        }
    );
    for e in &out.exported {
        println!(
            "  {:>8}  {}  {} bytes{}",
            e.id,
            e.name,
            e.size_bytes,
            if e.already_there { "  (was there)" } else { "" }
        );
    }
    for s in &out.skipped {
        eprintln!("skipped outbox entry {}: {}", s.id, s.reason);
    }
    if let Some(why) = &out.stopped {
        eprintln!("error: the export stopped: {why}");
    }
}
