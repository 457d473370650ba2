//! One item in the worker's hands: its row and live tokens in memory, the transitions it
//! records, and the rules that move tokens from node to node.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::audit::hash_transition;
use super::model::{
    Data, ItemState, Token, TokenState, Transition, TransitionKind, Wait, WorkItem,
};
use crate::flow::{Flow, NodeKind};
use crate::store::{StoreError, StoreTx};

/// An item being worked on inside a transaction.
pub(crate) struct ItemRun {
    pub item: WorkItem,
    pub tokens: Vec<Token>,
    dirty: Vec<bool>,
    pub transitions: Vec<Transition>,
    pub now: DateTime<Utc>,
    /// The item reached its end during this run.
    pub completed_now: bool,
}

impl ItemRun {
    /// Loads the live tokens of an item locked in `tx`.
    pub async fn load(
        tx: &mut dyn StoreTx,
        item: WorkItem,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let tokens = tx.live_tokens(item.id).await?;
        Ok(Self::new(item, tokens, now))
    }

    pub fn new(item: WorkItem, tokens: Vec<Token>, now: DateTime<Utc>) -> Self {
        let dirty = vec![false; tokens.len()];
        Self {
            item,
            tokens,
            dirty,
            transitions: Vec::new(),
            now,
            completed_now: false,
        }
    }

    /// Returns a token for changing; it is written back on save.
    pub fn token(&mut self, idx: usize) -> &mut Token {
        self.dirty[idx] = true;
        &mut self.tokens[idx]
    }

    /// Adds a token already stored (inserted in this transaction).
    pub fn push_token(&mut self, token: Token) -> usize {
        self.tokens.push(token);
        self.dirty.push(false);
        self.tokens.len() - 1
    }

    /// Adds a token not yet stored; it is written (inserted) on save.
    pub fn push_new_token(&mut self, token: Token) -> usize {
        self.tokens.push(token);
        self.dirty.push(true);
        self.tokens.len() - 1
    }

    /// Returns a new token at a node of this item, not yet stored.
    pub fn new_token(&self, node: &str, fork_path: String) -> Token {
        Token {
            id: 0,
            item_id: self.item.id,
            node: node.to_owned(),
            state: TokenState::Ready,
            wait: None,
            wait_key: None,
            wake_at: None,
            fork_path,
            attempts: 0,
            pending_children: 0,
            error: None,
            entered_at: self.now,
        }
    }

    /// Appends a transition to the item's chain.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per column of the record"
    )]
    pub fn record(
        &mut self,
        actor: &str,
        kind: TransitionKind,
        from: Option<&str>,
        to: Option<&str>,
        change: Option<&Data>,
        detail: Option<String>,
        at: DateTime<Utc>,
    ) {
        let mut t = Transition {
            id: 0,
            item_id: self.item.id,
            seq: self.item.seq + 1,
            at,
            actor: actor.to_owned(),
            kind: kind.as_str().to_owned(),
            from_node: from.map(str::to_owned),
            to_node: to.map(str::to_owned),
            data_change: change
                .filter(|c| !c.is_empty())
                .map(|c| Value::Object(c.clone()).to_string()),
            detail,
            prev_hash: self.item.head_hash.clone(),
            hash: String::new(),
        };
        t.hash = hash_transition(&t);
        self.item.seq = t.seq;
        self.item.head_hash.clone_from(&t.hash);
        self.transitions.push(t);
    }

    /// Merges a change into the data (a `null` removes the key).
    pub fn apply(&mut self, change: &Data) {
        for (k, v) in change {
            if v.is_null() {
                self.item.data.remove(k);
            } else {
                self.item.data.insert(k.clone(), v.clone());
            }
        }
    }

    /// Moves a token to a node and records the move. A token that reaches an end is done;
    /// when it was the last live token the item is complete.
    #[expect(clippy::too_many_arguments, reason = "the move and its record")]
    pub fn move_token(
        &mut self,
        flow: &Flow,
        idx: usize,
        to: &str,
        mut kind: TransitionKind,
        actor: &str,
        change: Option<&Data>,
        detail: Option<String>,
    ) {
        let now = self.now;
        let from = self.tokens[idx].node.clone();
        let is_end = flow
            .node(to)
            .is_some_and(|n| matches!(n.kind, NodeKind::End));
        let t = self.token(idx);
        t.node = to.to_owned();
        t.state = if is_end {
            TokenState::Done
        } else {
            TokenState::Ready
        };
        t.wait = None;
        t.wait_key = None;
        t.wake_at = None;
        t.attempts = 0;
        t.pending_children = 0;
        t.error = None;
        t.entered_at = now;
        if is_end && self.tokens.iter().all(|t| t.state == TokenState::Done) {
            if kind == TransitionKind::Moved {
                kind = TransitionKind::Completed;
            }
            self.item.state = ItemState::Completed;
            self.item.error = None;
            self.completed_now = true;
        }
        self.record(actor, kind, Some(&from), Some(to), change, detail, now);
    }

    /// Stops the item with an error at a token's node.
    pub fn fail(&mut self, idx: Option<usize>, message: String) {
        let node = idx.map(|i| {
            let t = self.token(i);
            t.state = TokenState::Failed;
            t.wait = None;
            t.wake_at = None;
            t.error = Some(message.clone());
            t.node.clone()
        });
        self.item.state = ItemState::Failed;
        self.item.error = Some(message.clone());
        let now = self.now;
        self.record(
            "system",
            TransitionKind::Failed,
            node.as_deref(),
            None,
            None,
            Some(message),
            now,
        );
    }

    /// Returns the index of a token the worker can act on now.
    pub fn actionable(&self) -> Option<usize> {
        self.tokens.iter().position(|t| match t.state {
            TokenState::Ready => true,
            TokenState::Waiting => match t.wait {
                Some(Wait::Timer | Wait::Retry) => t.wake_at.is_some_and(|w| w <= self.now),
                Some(Wait::Children) => t.pending_children <= 0,
                _ => false,
            },
            _ => false,
        })
    }

    /// Derives the item's state and next run time from its tokens.
    pub fn settle(&mut self) {
        match self.item.state {
            ItemState::Completed | ItemState::Cancelled | ItemState::Failed => {
                self.item.run_at = None;
                return;
            }
            ItemState::Running | ItemState::Waiting => {}
        }
        let now = self.now;
        let mut runnable = false;
        let mut retrying = false;
        let mut wake: Option<DateTime<Utc>> = None;
        for t in &self.tokens {
            match (t.state, t.wait) {
                (TokenState::Ready, _) => runnable = true,
                (TokenState::Waiting, Some(Wait::Children)) if t.pending_children <= 0 => {
                    runnable = true;
                }
                (TokenState::Waiting, Some(w @ (Wait::Timer | Wait::Retry))) => {
                    retrying |= w == Wait::Retry;
                    if let Some(at) = t.wake_at {
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                    }
                }
                _ => {}
            }
        }
        if runnable {
            self.item.state = ItemState::Running;
            self.item.run_at = Some(now);
        } else {
            self.item.state = if retrying {
                ItemState::Running
            } else {
                ItemState::Waiting
            };
            self.item.run_at = wake;
        }
    }

    /// Writes the run back: transitions, changed tokens, the item row.
    pub async fn write(self, tx: &mut dyn StoreTx) -> Result<usize, StoreError> {
        let mut pending = Pending::default();
        pending.add(self);
        pending.flush(tx).await
    }
}

/// What runs write back, gathered so that a batch writes each table with few statements.
#[derive(Default)]
pub(crate) struct Pending {
    transitions: Vec<Transition>,
    tokens: Vec<Token>,
    items: Vec<WorkItem>,
    /// (parent item, parent token) of children that completed.
    pub finished_children: Vec<(i64, i64)>,
}

impl Pending {
    pub fn add(&mut self, mut run: ItemRun) {
        run.item.updated_at = run.now;
        self.transitions.append(&mut run.transitions);
        for (t, dirty) in run.tokens.into_iter().zip(run.dirty) {
            if dirty {
                self.tokens.push(t);
            }
        }
        if run.completed_now
            && let (Some(parent), Some(token)) = (run.item.parent_id, run.item.parent_token_id)
        {
            self.finished_children.push((parent, token));
        }
        self.items.push(run.item);
    }

    /// Writes everything gathered; returns the number of transitions.
    pub async fn flush(&mut self, tx: &mut dyn StoreTx) -> Result<usize, StoreError> {
        // Items first: tokens and transitions of new items refer to them.
        tx.update_items(&self.items).await?;
        tx.update_tokens(&self.tokens).await?;
        tx.insert_transitions(&self.transitions).await?;
        let n = self.transitions.len();
        self.transitions.clear();
        self.tokens.clear();
        self.items.clear();
        Ok(n)
    }
}

/// Returns the single next node of a node (the default branch of a decision).
pub(crate) fn single_next(node: &crate::flow::Node) -> Option<&str> {
    match node.kind {
        NodeKind::Decision => node
            .next
            .iter()
            .find(|e| e.default)
            .map(|e| e.to.value.as_str()),
        NodeKind::Parallel => None,
        _ if node.next.len() == 1 => Some(node.next[0].to.value.as_str()),
        _ => None,
    }
}
