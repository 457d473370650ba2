//! Who may see and send what leaves through the outbox.
//!
//! - `outbox` (発送担当, the staff who print, post and transfer) lists entries, reads their
//!   content, exports them and marks them dispatched.
//! - `auditor` and `admin` list the entries' metadata (document, kind, size, digest, state,
//!   who sent it when and where), never their content, and see a letter's recipient (a
//!   宛名番号) masked; they cannot filter by recipient either, which would tell the same.
//! - An auditor who also holds `outbox` is still an auditor: read only.

use super::{ADMIN, AUDITOR, AccessError, Principal, Service};
use crate::runtime::{
    ExportReport, OutboxContent, OutboxEntry, OutboxKind, OutboxSink, OutboxState, RuntimeError,
    outbox_content,
};
use crate::store::OutboxFilter;

/// Reads, exports and dispatches the outbox.
pub const OUTBOX: &str = "outbox";

/// Most entries one listing returns.
pub const MAX_OUTBOX_LIST: i64 = 1000;

/// An outbox entry as one viewer may see it: its metadata, never its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxView {
    pub id: i64,
    pub item_id: i64,
    pub node: String,
    pub document: String,
    /// A lane (`bank`, `union`) or a person's 宛名番号 (letters), masked for viewers who may
    /// not read the content.
    pub recipient: Option<String>,
    pub recipient_masked: bool,
    pub state: OutboxState,
    /// `None` when the payload cannot be read; `problem` says why.
    pub kind: Option<OutboxKind>,
    /// The file name it leaves with.
    pub name: Option<String>,
    /// The file name the producing step gave (files only).
    pub source_name: Option<String>,
    pub size: Option<usize>,
    pub sha256: Option<String>,
    /// Counts and totals the producing step recorded (files: records, total in yen).
    pub records: Option<i64>,
    pub total_yen: Option<i64>,
    pub problem: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sent_by: Option<String>,
    pub sent_as: Option<String>,
    pub sent_sha256: Option<String>,
    pub sent_to: Option<String>,
}

impl OutboxView {
    fn of(entry: &OutboxEntry, reader: bool) -> Self {
        let content = outbox_content(entry);
        let (kind, name, source_name, size, sha256, problem) = match &content {
            Ok(c) => (
                Some(c.kind),
                Some(c.name.clone()),
                c.source_name.clone(),
                Some(c.bytes.len()),
                Some(c.sha256.clone()),
                None,
            ),
            Err(m) => (None, None, None, None, None, Some(m.clone())),
        };
        // A letter goes to a person; files and records go to a lane.
        let masked = !reader && kind != Some(OutboxKind::File) && kind != Some(OutboxKind::Record);
        let number = |key: &str| entry.payload.get(key).and_then(serde_json::Value::as_i64);
        Self {
            id: entry.id,
            item_id: entry.item_id,
            node: entry.node.clone(),
            document: entry.document.clone(),
            recipient: if masked {
                entry.recipient.as_ref().map(|_| "***".to_owned())
            } else {
                entry.recipient.clone()
            },
            recipient_masked: masked && entry.recipient.is_some(),
            state: entry.state,
            kind,
            name,
            source_name,
            size,
            sha256,
            records: (kind == Some(OutboxKind::File))
                .then(|| number("records"))
                .flatten(),
            total_yen: (kind == Some(OutboxKind::File))
                .then(|| number("total_yen"))
                .flatten(),
            problem,
            created_at: entry.created_at,
            sent_at: entry.sent_at,
            sent_by: entry.sent_by.clone(),
            sent_as: entry.sent_as.clone(),
            sent_sha256: entry.sent_sha256.clone(),
            sent_to: entry.sent_to.clone(),
        }
    }
}

impl Service {
    /// Returns whether the user may read and send the outbox's content.
    fn outbox_reader(by: &Principal) -> bool {
        by.has(OUTBOX) && !by.read_only()
    }

    fn require_outbox_lister(by: &Principal) -> Result<(), AccessError> {
        if Self::outbox_reader(by) || by.has(AUDITOR) || by.has(ADMIN) {
            Ok(())
        } else {
            Err(AccessError::Forbidden(format!(
                "{} holds none of the roles `{OUTBOX}`, `{AUDITOR}`, `{ADMIN}` that see the outbox",
                by.name
            )))
        }
    }

    fn require_outbox_sender(by: &Principal, what: &str) -> Result<(), AccessError> {
        if Self::outbox_reader(by) {
            return Ok(());
        }
        let why = if by.read_only() {
            "auditors see the outbox's metadata only".to_owned()
        } else {
            format!("only holders of role `{OUTBOX}` do")
        };
        Err(AccessError::Forbidden(format!(
            "{} may not {what} outbox entries: {why}",
            by.name
        )))
    }

    /// Lists the outbox entries matching the filter (every state when it names none), by id.
    pub async fn outbox(
        &self,
        by: &Principal,
        filter: &OutboxFilter,
    ) -> Result<Vec<OutboxView>, AccessError> {
        Self::require_outbox_lister(by)?;
        let reader = Self::outbox_reader(by);
        if filter.recipient.is_some() && !reader {
            return Err(AccessError::Forbidden(format!(
                "{} may not look up recipients: only holders of role `{OUTBOX}` do",
                by.name
            )));
        }
        let limit = filter.limit.unwrap_or(100);
        if !(1..=MAX_OUTBOX_LIST).contains(&limit) {
            return Err(AccessError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_OUTBOX_LIST}"),
            ));
        }
        let entries = self
            .rt
            .store()
            .outbox_entries(&OutboxFilter {
                limit: Some(limit),
                ..filter.clone()
            })
            .await?;
        Ok(entries.iter().map(|e| OutboxView::of(e, reader)).collect())
    }

    /// Returns one outbox entry's metadata.
    pub async fn outbox_entry(&self, by: &Principal, id: i64) -> Result<OutboxView, AccessError> {
        Self::require_outbox_lister(by)?;
        let entry = self.stored_entry(id).await?;
        Ok(OutboxView::of(&entry, Self::outbox_reader(by)))
    }

    async fn stored_entry(&self, id: i64) -> Result<OutboxEntry, AccessError> {
        self.rt
            .store()
            .outbox_entry(id)
            .await?
            .ok_or_else(|| AccessError::NotFound {
                what: "outbox entry",
                id: id.to_string(),
            })
    }

    /// Returns an entry's content (holders of `outbox`); fetching does not mark it sent.
    pub async fn outbox_content(
        &self,
        by: &Principal,
        id: i64,
    ) -> Result<(OutboxView, OutboxContent), AccessError> {
        Self::require_outbox_sender(by, "read")?;
        let entry = self.stored_entry(id).await?;
        let content = outbox_content(&entry)
            .map_err(|m| AccessError::Conflict(format!("outbox entry {id} cannot be read: {m}")))?;
        Ok((OutboxView::of(&entry, true), content))
    }

    /// Exports the pending entries matching the filter through a sink (holders of
    /// `outbox`), marking each sent by the user.
    pub async fn export_outbox(
        &self,
        by: &Principal,
        filter: &OutboxFilter,
        limit: Option<usize>,
        sink: &mut dyn OutboxSink,
    ) -> Result<ExportReport, AccessError> {
        Self::require_outbox_sender(by, "export")?;
        Ok(self
            .rt
            .export_outbox(filter, &by.actor(), limit, sink)
            .await?)
    }

    /// Marks an entry dispatched by the user after they fetched its content; `sha256` is
    /// the digest of what they received (holders of `outbox`).
    pub async fn dispatch_outbox(
        &self,
        by: &Principal,
        id: i64,
        sha256: &str,
    ) -> Result<OutboxView, AccessError> {
        Self::require_outbox_sender(by, "dispatch")?;
        let entry = self
            .rt
            .dispatch_outbox(id, &by.actor(), sha256)
            .await
            .map_err(|e| match e {
                RuntimeError::Invalid(message) => AccessError::invalid("sha256", message),
                other => other.into(),
            })?;
        Ok(OutboxView::of(&entry, true))
    }
}
