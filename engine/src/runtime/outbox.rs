//! Letters and files leave through the outbox: what an entry's content is, and dispatching
//! it exactly once.
//!
//! Handlers and `send` nodes queue entries in their step's transaction (see
//! [`super::HandlerContext::outbox`]); the payload says what leaves:
//!
//! | payload | kind | content | file name |
//! |---|---|---|---|
//! | `content_base64` and `file_name` | file (全銀, 広域連合 …) | the decoded bytes | `DOCUMENT-ID-FILE_NAME` |
//! | `text` | letter (督促状, 納入通知書 …) | the text, UTF-8 | `DOCUMENT-ID.txt` |
//! | anything else (a `send` node's record) | record | the payload as JSON | `DOCUMENT-ID.json` |
//!
//! Two ways out, both marking the entry `sent` with the time, the actor, the file name, the
//! SHA-256 of the bytes and where they went:
//!
//! - [`Runtime::export_outbox`] hands pending entries to an [`OutboxSink`] (the CLI's writes
//!   files into a folder) in chunks. Each chunk is one transaction that locks its entries
//!   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two exports at once take different entries;
//!   SQLite's one writer), lets the sink place and sync the files, then marks them and
//!   commits. A process that dies after placing a file and before the commit leaves the
//!   entry pending; the sink recognises the file by its name and digest when the export runs
//!   again into the same folder and does not write it twice.
//! - [`Runtime::dispatch_outbox`] marks one entry whose content a program fetched (the HTTP
//!   API), given the digest of what it received, so a second dispatch is refused.
//!
//! The engine does no file IO itself: the sink does.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::model::{Actor, OutboxEntry, OutboxState};
use super::{Runtime, RuntimeError, finish};
use crate::store::{OutboxFilter, SentRecord};

/// Entries per export transaction. The sink syncs every file before its entry is marked,
/// and an fsync costs about 6 ms on a busy 2-core machine, so a chunk holds SQLite's one
/// writer (which the worker and staff requests also need) for about 150 ms; a commit per
/// 25 entries costs next to nothing.
pub const EXPORT_CHUNK: usize = 25;

/// `sent_to` of entries dispatched over the HTTP API.
pub const DISPATCHED_OVER_HTTP: &str = "http";

/// What kind of thing an outbox entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxKind {
    /// A rendered letter (`text`).
    Letter,
    /// An interchange file (`content_base64`, `file_name`).
    File,
    /// A record of a `send` node, or any other payload: exported as JSON.
    Record,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Letter => "letter",
            Self::File => "file",
            Self::Record => "record",
        }
    }
}

/// The bytes an outbox entry sends, under the file name they leave with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxContent {
    pub kind: OutboxKind,
    /// `DOCUMENT-ID…`: unique per entry, safe as a file name anywhere (ASCII letters, digits,
    /// `.`, `_` and `-`; the entry id keeps it unique).
    pub name: String,
    /// The file name the payload carries (files only), as the producer wrote it.
    pub source_name: Option<String>,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, hex.
    pub sha256: String,
}

/// Returns the SHA-256 of bytes in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Keeps a name to characters every file system and transfer program accepts; anything
/// else (a `/`, a space, kana) becomes `_`, and it never starts with a dot.
fn safe_name(name: &str, max: usize) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    while out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push_str("file");
    }
    out
}

/// Returns what an entry sends; an error names what is wrong with its payload.
pub fn outbox_content(entry: &OutboxEntry) -> Result<OutboxContent, String> {
    let stem = format!("{}-{:08}", safe_name(&entry.document, 64), entry.id);
    let payload = &entry.payload;
    let (kind, name, source_name, media_type, bytes) =
        if let Some(b64) = payload.get("content_base64") {
            let b64 = b64
                .as_str()
                .ok_or("`content_base64` of the payload is not text")?;
            let file_name = payload
                .get("file_name")
                .and_then(Value::as_str)
                .ok_or("the payload has `content_base64` but no `file_name`")?;
            let bytes = B64
                .decode(b64)
                .map_err(|e| format!("`content_base64` of the payload is not base64: {e}"))?;
            (
                OutboxKind::File,
                format!("{stem}-{}", safe_name(file_name, 120)),
                Some(file_name.to_owned()),
                "application/octet-stream",
                bytes,
            )
        } else if let Some(text) = payload.get("text") {
            let text = text.as_str().ok_or("`text` of the payload is not text")?;
            (
                OutboxKind::Letter,
                format!("{stem}.txt"),
                None,
                "text/plain; charset=utf-8",
                text.as_bytes().to_vec(),
            )
        } else {
            let mut text = serde_json::to_string_pretty(payload)
                .map_err(|e| format!("the payload cannot be written as JSON: {e}"))?;
            text.push('\n');
            (
                OutboxKind::Record,
                format!("{stem}.json"),
                None,
                "application/json",
                text.into_bytes(),
            )
        };
    Ok(OutboxContent {
        kind,
        sha256: sha256_hex(&bytes),
        name,
        source_name,
        media_type,
        bytes,
    })
}

/// What a sink did with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// The file was written.
    Written,
    /// A file of that name with exactly these bytes was there already: an earlier export
    /// wrote it and stopped before marking the entry.
    AlreadyThere,
}

/// Why a sink did not place a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkError {
    /// This entry cannot be placed (a different file holds its name); the others can.
    Entry(String),
    /// Nothing more can be placed (the folder is gone, the disk is full).
    Fatal(String),
}

/// Where exported entries go; the CLI's writes files into a folder.
pub trait OutboxSink: Send {
    /// Names where the files go, recorded with each entry (`sent_to`).
    fn target(&self) -> String;
    /// Places one file, atomically: after a crash either the whole file is there under
    /// its name or nothing is.
    fn place(&mut self, content: &OutboxContent) -> Result<Placed, SinkError>;
    /// Makes the files placed so far durable; called before their entries are marked.
    fn sync(&mut self) -> Result<(), SinkError>;
}

/// One exported entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    pub id: i64,
    pub document: String,
    pub kind: OutboxKind,
    pub name: String,
    pub bytes: usize,
    pub sha256: String,
    /// The file was there already (an interrupted export wrote it) and was not written again.
    pub already_there: bool,
}

/// What an export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub exported: Vec<Exported>,
    /// Entries left pending, with the reason (a broken payload, a name taken by another
    /// file); the others were exported.
    pub skipped: Vec<(i64, String)>,
    /// Why the export stopped early, if it did; what was exported before stays exported.
    pub stopped: Option<String>,
}

impl Runtime {
    /// Exports pending outbox entries matching the filter (its state is ignored), oldest
    /// first, at most `limit`: each is placed by the sink, then marked sent by `actor`.
    /// Safe to run twice at once and to run again after a crash (see the module
    /// documentation).
    pub async fn export_outbox(
        &self,
        filter: &OutboxFilter,
        actor: &Actor,
        limit: Option<usize>,
        sink: &mut dyn OutboxSink,
    ) -> Result<ExportReport, RuntimeError> {
        let mut report = ExportReport::default();
        let mut remaining = limit.unwrap_or(usize::MAX);
        let mut after = filter.after_id;
        let by = actor.to_stored();
        let to = sink.target();
        while remaining > 0 && report.stopped.is_none() {
            let want = remaining.min(EXPORT_CHUNK);
            let now = self.now();
            let mut tx = self.store.begin().await?;
            let chunk = OutboxFilter {
                after_id: after,
                ..filter.clone()
            };
            let entries = match tx
                .lock_pending_outbox(&chunk, i64::try_from(want).unwrap_or(i64::MAX))
                .await
            {
                Ok(entries) => entries,
                Err(err) => return finish(tx, Err(err.into())).await,
            };
            let Some(last) = entries.last() else {
                tx.rollback().await?;
                break;
            };
            after = Some(last.id);
            let mut placed = Vec::new();
            for entry in &entries {
                let content = match outbox_content(entry) {
                    Ok(content) => content,
                    Err(message) => {
                        report.skipped.push((entry.id, message));
                        continue;
                    }
                };
                match sink.place(&content) {
                    Ok(how) => placed.push((entry, content, how)),
                    Err(SinkError::Entry(message)) => report.skipped.push((entry.id, message)),
                    Err(SinkError::Fatal(message)) => {
                        report.stopped = Some(message);
                        break;
                    }
                }
            }
            if placed.is_empty() {
                tx.rollback().await?;
                continue;
            }
            if let Err(SinkError::Entry(message) | SinkError::Fatal(message)) = sink.sync() {
                // Not durable, so not marked: the next export finds the files and checks them.
                tx.rollback().await?;
                report.stopped = Some(message);
                break;
            }
            let result: Result<Vec<Exported>, RuntimeError> = async {
                let mut done = Vec::with_capacity(placed.len());
                for (entry, content, how) in placed {
                    let sent = SentRecord {
                        at: now,
                        by: by.clone(),
                        name: content.name.clone(),
                        sha256: content.sha256.clone(),
                        to: to.clone(),
                    };
                    if !tx.mark_outbox_sent(entry.id, &sent).await? {
                        return Err(RuntimeError::Conflict(format!(
                            "outbox entry {} was sent by someone else meanwhile",
                            entry.id
                        )));
                    }
                    done.push(Exported {
                        id: entry.id,
                        document: entry.document.clone(),
                        kind: content.kind,
                        bytes: content.bytes.len(),
                        name: content.name,
                        sha256: content.sha256,
                        already_there: how == Placed::AlreadyThere,
                    });
                }
                Ok(done)
            }
            .await;
            let done = finish(tx, result).await?;
            remaining = remaining.saturating_sub(done.len());
            tracing::info!(entries = done.len(), "outbox entries exported");
            report.exported.extend(done);
        }
        Ok(report)
    }

    /// Marks one pending entry sent by `actor` after a program fetched its content over the
    /// HTTP API; `sha256` is the digest of what it received, and must match the content.
    /// A second dispatch of the same entry is refused.
    pub async fn dispatch_outbox(
        &self,
        id: i64,
        actor: &Actor,
        sha256: &str,
    ) -> Result<OutboxEntry, RuntimeError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let result: Result<OutboxEntry, RuntimeError> = async {
            let mut entry = tx.lock_outbox(id).await?.ok_or(RuntimeError::NotFound {
                what: "outbox entry",
                id,
            })?;
            if entry.state == OutboxState::Sent {
                return Err(RuntimeError::Conflict(sent_already(&entry)));
            }
            let content = outbox_content(&entry).map_err(|m| {
                RuntimeError::Conflict(format!("outbox entry {id} cannot be sent: {m}"))
            })?;
            if !content.sha256.eq_ignore_ascii_case(sha256.trim()) {
                return Err(RuntimeError::Invalid(format!(
                    "`sha256` {} is not the digest of outbox entry {id}'s content: fetch the content again",
                    sha256.trim()
                )));
            }
            let sent = SentRecord {
                at: now,
                by: actor.to_stored(),
                name: content.name,
                sha256: content.sha256,
                to: DISPATCHED_OVER_HTTP.to_owned(),
            };
            if !tx.mark_outbox_sent(id, &sent).await? {
                return Err(RuntimeError::Conflict(format!(
                    "outbox entry {id} was sent meanwhile"
                )));
            }
            apply(&mut entry, sent);
            Ok(entry)
        }
        .await;
        finish(tx, result).await
    }
}

fn apply(entry: &mut OutboxEntry, sent: SentRecord) {
    entry.state = OutboxState::Sent;
    entry.sent_at = Some(sent.at);
    entry.sent_by = Some(sent.by);
    entry.sent_as = Some(sent.name);
    entry.sent_sha256 = Some(sent.sha256);
    entry.sent_to = Some(sent.to);
}

/// Says when, by whom and where an entry was sent.
pub fn sent_already(entry: &OutboxEntry) -> String {
    let at = entry.sent_at.map_or_else(String::new, |t: DateTime<Utc>| {
        format!(" at {}", super::clock::format_ts(t))
    });
    format!(
        "outbox entry {} was sent already{at} by {} to {}",
        entry.id,
        entry.sent_by.as_deref().unwrap_or("an earlier version"),
        entry.sent_to.as_deref().unwrap_or("an unrecorded place"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: i64, document: &str, payload: Value) -> OutboxEntry {
        OutboxEntry {
            id,
            item_id: 1,
            node: "n".into(),
            document: document.into(),
            recipient: Some("bank".into()),
            payload,
            state: OutboxState::Pending,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            sent_at: None,
            sent_by: None,
            sent_as: None,
            sent_sha256: None,
            sent_to: None,
        }
    }

    #[test]
    fn files_letters_and_records_have_their_bytes_and_names() {
        let file = outbox_content(&entry(
            7,
            "debit_request_data",
            json!({"file_name": "KOFURI 0620.txt", "content_base64": B64.encode(b"1\r\n2"), "records": 2}),
        ))
        .unwrap();
        assert_eq!(file.kind, OutboxKind::File);
        assert_eq!(file.name, "debit_request_data-00000007-KOFURI_0620.txt");
        assert_eq!(file.source_name.as_deref(), Some("KOFURI 0620.txt"));
        assert_eq!(file.bytes, b"1\r\n2");
        assert_eq!(file.sha256, sha256_hex(b"1\r\n2"));

        let letter =
            outbox_content(&entry(12, "demand_letter", json!({"text": "督促状\n"}))).unwrap();
        assert_eq!(letter.kind, OutboxKind::Letter);
        assert_eq!(letter.name, "demand_letter-00000012.txt");
        assert_eq!(letter.bytes, "督促状\n".as_bytes());

        let record = outbox_content(&entry(
            3,
            "demand_letter",
            json!({"content": {"letters": 2}}),
        ))
        .unwrap();
        assert_eq!(record.kind, OutboxKind::Record);
        assert_eq!(record.name, "demand_letter-00000003.json");
        let back: Value = serde_json::from_slice(&record.bytes).unwrap();
        assert_eq!(back, json!({"content": {"letters": 2}}));
    }

    #[test]
    fn names_cannot_leave_the_folder() {
        let c = outbox_content(&entry(
            1,
            "../../etc",
            json!({"file_name": "../../.ssh/authorized_keys", "content_base64": ""}),
        ))
        .unwrap();
        assert_eq!(c.name, "_._.._etc-00000001-_._.._.ssh_authorized_keys");
        assert!(!c.name.contains('/'));
        assert_eq!(safe_name("...x", 10), "_..x");
        assert_eq!(safe_name("", 10), "file");
    }

    #[test]
    fn broken_payloads_are_named() {
        let err = outbox_content(&entry(1, "f", json!({"content_base64": "AAAA"}))).unwrap_err();
        assert!(err.contains("no `file_name`"), "{err}");
        let err = outbox_content(&entry(
            1,
            "f",
            json!({"file_name": "x", "content_base64": "@@"}),
        ))
        .unwrap_err();
        assert!(err.contains("not base64"), "{err}");
        let err = outbox_content(&entry(1, "f", json!({"text": 5}))).unwrap_err();
        assert!(err.contains("`text`"), "{err}");
    }
}
