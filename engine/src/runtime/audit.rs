//! The tamper-evident chain of transitions.
//!
//! Each record's hash is SHA-256 over its content and the previous record's hash, so every
//! item's history is a chain; the item row keeps the chain's head (hash and count).
//! [`verify_item`] walks one chain and names each record that was edited, deleted or moved.

use sha2::{Digest, Sha256};

use super::clock::format_ts;
use super::model::{ChainHead, Transition};

/// Returns the hash a transition must carry.
pub fn hash_transition(t: &Transition) -> String {
    let mut h = Sha256::new();
    h.update(b"nagare-transition-v1\0");
    let at = format_ts(t.at);
    let item = t.item_id.to_string();
    let fields: [Option<&str>; 9] = [
        Some(&item),
        Some(&at),
        Some(&t.actor),
        Some(&t.kind),
        t.from_node.as_deref(),
        t.to_node.as_deref(),
        t.data_change.as_deref(),
        t.detail.as_deref(),
        Some(&t.prev_hash),
    ];
    for field in fields {
        match field {
            None => h.update(b"\xff"),
            Some(s) => {
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    hex(&h.finalize())
}

/// Returns bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// What is wrong with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The record's content does not match its hash.
    Edited,
    /// A record is missing from the chain.
    Deleted,
    /// A record sits at another place than where it was written.
    Reordered,
}

impl ProblemKind {
    /// Returns the word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edited => "edited",
            Self::Deleted => "deleted",
            Self::Reordered => "reordered",
        }
    }
}

/// One finding of the audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub item_id: i64,
    /// The database id of the record concerned, when it still exists.
    pub transition_id: Option<i64>,
    /// Its position in the item's history (1, 2 …).
    pub seq: i64,
    pub kind: ProblemKind,
    pub message: String,
}

/// Walks an item's chain (its transitions ordered by seq) and returns every problem.
pub fn verify_item(head: &ChainHead, transitions: &[&Transition]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |t: Option<&Transition>, seq: i64, kind: ProblemKind, message: String| Problem {
        item_id: head.item_id,
        transition_id: t.map(|t| t.id),
        seq,
        kind,
        message,
    };
    let mut prev_hash = String::new();
    for (i, t) in transitions.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if hash_transition(t) != t.hash {
            problems.push(problem(
                Some(t),
                t.seq,
                ProblemKind::Edited,
                format!(
                    "record {} (#{}) does not match its hash: its content was changed",
                    t.id, t.seq
                ),
            ));
        }
        if t.prev_hash != prev_hash {
            let found = transitions.iter().find(|o| o.hash == t.prev_hash);
            match found {
                Some(o) => problems.push(problem(
                    Some(t),
                    t.seq,
                    ProblemKind::Reordered,
                    format!(
                        "record {} (#{}) was written after record {} (now #{}): the records were reordered",
                        t.id, t.seq, o.id, o.seq
                    ),
                )),
                None => problems.push(problem(
                    Some(t),
                    t.seq,
                    ProblemKind::Deleted,
                    format!("the record before record {} (#{}) is missing: it was deleted", t.id, t.seq),
                )),
            }
        } else if t.seq != expected_seq {
            problems.push(problem(
                Some(t),
                t.seq,
                ProblemKind::Edited,
                format!(
                    "record {} is numbered #{} but is number {expected_seq} in the chain",
                    t.id, t.seq
                ),
            ));
        }
        prev_hash.clone_from(&t.hash);
    }
    let count = transitions.len() as i64;
    if count < head.seq {
        problems.push(problem(
            None,
            count + 1,
            ProblemKind::Deleted,
            format!(
                "the item records {} transitions but {count} exist: the last ones were deleted",
                head.seq
            ),
        ));
    } else if count > head.seq || prev_hash != head.head_hash {
        problems.push(problem(
            transitions.last().copied(),
            count,
            ProblemKind::Edited,
            format!(
                "the item's recorded chain head (#{}) does not match its last record (#{count})",
                head.seq
            ),
        ));
    }
    problems
}

/// The digest of every item's chain head, in item order. An auditor who notes it down can
/// tell later whether the database still holds the same histories: a chain rewritten from
/// scratch (hashes recomputed) passes [`verify_item`] but changes this digest.
#[derive(Default)]
pub struct HeadsDigest {
    hasher: Sha256,
}

impl HeadsDigest {
    /// Adds one item's head.
    pub fn add(&mut self, head: &ChainHead) {
        self.hasher.update(head.item_id.to_be_bytes());
        self.hasher.update(head.seq.to_be_bytes());
        self.hasher.update(head.head_hash.as_bytes());
    }

    /// Returns the digest, hex.
    pub fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}
