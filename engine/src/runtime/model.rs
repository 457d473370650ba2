//! What the runtime stores: work items, their tokens, tasks, messages, outbox entries,
//! timers and the transition log.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// The data of a work item: a JSON object.
pub type Data = Map<String, Value>;

string_enum! {
    /// Where a work item is in its life.
    ItemState {
        /// Has work the worker can do now or at `run_at` (a step, a retry after backoff).
        Running => "running",
        /// Every token waits for something outside: a person, a message, a date, children.
        Waiting => "waiting",
        /// A step failed for good; staff retry or skip it.
        Failed => "failed",
        Completed => "completed",
        Cancelled => "cancelled",
    }
}

impl ItemState {
    /// Returns whether the item can still change.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Running | Self::Waiting | Self::Failed)
    }
}

string_enum! {
    /// Where a token is at its node.
    TokenState {
        /// The node's action is to be done.
        Ready => "ready",
        /// The node's action is done and the token waits (see [`Wait`]).
        Waiting => "waiting",
        /// Arrived at a join; waits for its sibling branches.
        Joined => "joined",
        /// The node failed; the item is failed.
        Failed => "failed",
        /// Gone: reached an end, split, or merged at a join.
        Done => "done",
    }
}

string_enum! {
    /// What a waiting token waits for.
    Wait {
        /// A person completing the task (`wait_key` = task id).
        Task => "task",
        /// A correlated message (`wait_key` = the delivery key).
        Message => "message",
        /// The result of another system (out-of-scope node that waits).
        External => "external",
        /// A date (`wake_at`).
        Timer => "timer",
        /// Child work items (`pending_children`).
        Children => "children",
        /// The next attempt of a failed step (`wake_at`).
        Retry => "retry",
    }
}

/// Who caused a transition: the runtime itself or a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    System,
    User(String),
}

impl Actor {
    /// Returns the actor as stored: `system` or `user:NAME`.
    pub fn to_stored(&self) -> String {
        match self {
            Self::System => "system".to_owned(),
            Self::User(name) => format!("user:{name}"),
        }
    }

    /// Returns the user name, for people.
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::System => None,
            Self::User(name) => Some(name),
        }
    }
}

/// One run of one flow for one subject.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkItem {
    pub id: i64,
    pub flow_id: String,
    pub flow_version: i64,
    /// SHA-256 of the flow file the item runs on (see `flow_definitions`).
    pub flow_hash: String,
    /// A person, a household or a batch: an identifier, never a name.
    pub subject: String,
    pub data: Data,
    pub state: ItemState,
    pub parent_id: Option<i64>,
    /// The parent's token that waits for this item, when the parent waits.
    pub parent_token_id: Option<i64>,
    /// Why the item failed, for staff.
    pub error: Option<String>,
    /// When the worker should next look at the item; `None` while only outside events can
    /// move it.
    pub run_at: Option<DateTime<Utc>>,
    /// Number of transitions recorded.
    pub seq: i64,
    /// Hash of the last transition ("" before the first).
    pub head_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A position in the flow graph; an item has one, or several between a split and a join.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub id: i64,
    pub item_id: i64,
    pub node: String,
    pub state: TokenState,
    pub wait: Option<Wait>,
    pub wait_key: Option<String>,
    pub wake_at: Option<DateTime<Utc>>,
    /// The parallel splits the token is inside: ids of the splitting tokens, `/`-separated.
    pub fork_path: String,
    /// Failed attempts of the current step.
    pub attempts: i64,
    /// Children still running, while waiting at a call.
    pub pending_children: i64,
    pub error: Option<String>,
    pub entered_at: DateTime<Utc>,
}

string_enum! {
    /// What a transition records.
    TransitionKind {
        /// The item was created at its start node.
        Started => "started",
        /// A token moved from one node to the next.
        Moved => "moved",
        /// A token reached an end and the item is complete.
        Completed => "completed",
        /// A step's handler failed; it will be tried again.
        StepFailed => "step_failed",
        /// The item stopped with an error staff must look at.
        Failed => "failed",
        /// Staff asked for the failed step to run again.
        Retried => "retried",
        /// Staff moved past the failed step, with a reason.
        Skipped => "skipped",
        /// A person completed a manual task.
        TaskCompleted => "task_completed",
        /// A message or an outside result arrived.
        MessageReceived => "message_received",
        /// A timer's date came.
        TimerFired => "timer_fired",
        /// Every child item of a call finished.
        ChildrenDone => "children_done",
        /// The item was moved to another version of its flow.
        Migrated => "migrated",
        /// A person took a task (one person at a time).
        TaskClaimed => "task_claimed",
        /// A person gave a claimed task back to the queue.
        TaskReleased => "task_released",
        /// A supervisor handed a task to another person.
        TaskReassigned => "task_reassigned",
        /// A person commented on a task.
        TaskCommented => "task_commented",
        /// Staff ended the item (or its parent was cancelled), with the reason: its tasks,
        /// timers and waits are withdrawn.
        Cancelled => "cancelled",
        /// A child item this item waited for was cancelled; it counts as finished.
        ChildCancelled => "child_cancelled",
    }
}

/// One record of the append-only log.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// Database id; 0 before it is stored.
    pub id: i64,
    pub item_id: i64,
    /// 1, 2, 3 … within the item.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// `system` or `user:NAME`.
    pub actor: String,
    pub kind: String,
    pub from_node: Option<String>,
    pub to_node: Option<String>,
    /// The JSON object merged into the data (a `null` value removes the key).
    pub data_change: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

string_enum! {
    /// Where a manual task is.
    TaskState {
        Open => "open",
        Completed => "completed",
        Cancelled => "cancelled",
    }
}

/// A manual task in a role's queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: i64,
    pub item_id: i64,
    pub token_id: i64,
    pub flow_id: String,
    pub node: String,
    pub step: Option<String>,
    pub name: String,
    pub lane: String,
    pub role: String,
    pub subject: String,
    /// The fields to record, as JSON: `[{"id", "label", "type", "choices", "required"}]`.
    pub fields: Value,
    pub due_date: Option<NaiveDate>,
    pub state: TaskState,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub answer: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// A message delivered to a receive node (or the result of another system).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: i64,
    /// Unique: a second delivery with the same id is refused.
    pub delivery_id: String,
    pub item_id: i64,
    pub node: String,
    pub document: String,
    pub correlation_key: Option<String>,
    pub correlation_value: Option<String>,
    pub payload: Value,
    pub received_by: String,
    pub received_at: DateTime<Utc>,
}

string_enum! {
    /// Whether an outbox entry was handed on.
    OutboxState {
        Pending => "pending",
        Sent => "sent",
    }
}

/// An outbound document or file, written in the transaction of the step that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub id: i64,
    pub item_id: i64,
    pub node: String,
    pub document: String,
    pub recipient: Option<String>,
    pub payload: Value,
    pub state: OutboxState,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Who dispatched it (`user:NAME`), once sent.
    pub sent_by: Option<String>,
    /// The file name it left under.
    pub sent_as: Option<String>,
    /// SHA-256 (hex) of the bytes that left.
    pub sent_sha256: Option<String>,
    /// Where it went: the export folder, or `http` when fetched over the API.
    pub sent_to: Option<String>,
}

/// A timer set by a timer node.
#[derive(Clone, Debug, PartialEq)]
pub struct Timer {
    pub id: i64,
    pub item_id: i64,
    pub token_id: i64,
    pub node: String,
    pub wake_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
    /// When the timer was withdrawn because its item was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A stored version of a flow file.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowDefinition {
    /// SHA-256 of `source`, hex.
    pub hash: String,
    pub flow_id: String,
    pub version: i64,
    pub title: String,
    pub source: String,
    pub registered_at: DateTime<Utc>,
}

/// The head of an item's chain, as the item row records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub item_id: i64,
    pub seq: i64,
    pub head_hash: String,
}
