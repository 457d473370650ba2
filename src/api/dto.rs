//! The JSON shapes of the HTTP API and of `--format json` on the CLI. They are defined here,
//! in the front end, from the engine's types, so that the engine can change freely.

use chrono::{DateTime, NaiveDate, Utc};
use nagare_engine::access::{ItemView, TaskDetail, TaskView};
use nagare_engine::runtime::{AuditReport, DeliveryReceipt, Transition};
use nagare_engine::store::{Comment, Reassignment, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// An RFC 9457 problem: what went wrong, for people and programs.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field to blame (a JSON path such as `answer.issue`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A field a person records to complete a task.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldOut {
    pub id: String,
    pub label: String,
    /// `bool`, `text`, `integer`, `yen`, `date` or `choice`.
    #[serde(rename = "type")]
    pub kind: String,
    pub choices: Vec<String>,
    pub required: bool,
}

/// A manual task in a role's queue.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub item_id: i64,
    pub flow_id: String,
    pub flow_title: Option<String>,
    /// The seed's three-digit step number, when the step has one.
    pub step: Option<String>,
    pub node: String,
    pub name: String,
    pub lane: String,
    pub role: String,
    /// The subject, masked (`insured:***`) for viewers who do not work on the task's role.
    pub subject: String,
    pub subject_masked: bool,
    pub fields: Vec<FieldOut>,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    /// `open`, `completed` or `cancelled`.
    pub state: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The recorded fields, once completed.
    pub answer: Option<Value>,
    pub created_at: DateTime<Utc>,
}

impl From<&TaskView> for TaskOut {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        let fields = t
            .fields
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|f| {
                let text = |k: &str| {
                    f.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                FieldOut {
                    id: text("id"),
                    label: text("label"),
                    kind: text("type"),
                    choices: f
                        .get("choices")
                        .and_then(Value::as_array)
                        .map(|c| {
                            c.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    required: f.get("required").and_then(Value::as_bool).unwrap_or(true),
                }
            })
            .collect();
        Self {
            id: t.id,
            item_id: t.item_id,
            flow_id: t.flow_id.clone(),
            flow_title: v.flow_title.clone(),
            step: t.step.clone(),
            node: t.node.clone(),
            name: t.name.clone(),
            lane: t.lane.clone(),
            role: t.role.clone(),
            subject: t.subject.clone(),
            subject_masked: !v.subject_visible,
            fields,
            due_date: t.due_date,
            overdue: v.overdue,
            state: t.state.as_str().to_owned(),
            claimed_by: t.claimed_by.clone(),
            claimed_at: t.claimed_at,
            completed_by: t.completed_by.clone(),
            completed_at: t.completed_at,
            answer: t.answer.clone(),
            created_at: t.created_at,
        }
    }
}

/// A comment on a task.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub task_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Comment> for CommentOut {
    fn from(c: &Comment) -> Self {
        Self {
            id: c.id,
            task_id: c.task_id,
            author: c.author.clone(),
            body: c.body.clone(),
            created_at: c.created_at,
        }
    }
}

/// A task handed from one person to another.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReassignmentOut {
    pub from_user: Option<String>,
    pub to_user: String,
    pub by_user: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&Reassignment> for ReassignmentOut {
    fn from(r: &Reassignment) -> Self {
        Self {
            from_user: r.from_user.clone(),
            to_user: r.to_user.clone(),
            by_user: r.by_user.clone(),
            reason: r.reason.clone(),
            at: r.at,
        }
    }
}

/// A task with what is needed to decide on it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskDetailOut {
    #[serde(flatten)]
    pub task: TaskOut,
    /// The work item's data; absent for viewers who do not see the subject.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Map<String, Value>>,
    pub comments: Vec<CommentOut>,
    pub reassignments: Vec<ReassignmentOut>,
}

impl From<&TaskDetail> for TaskDetailOut {
    fn from(d: &TaskDetail) -> Self {
        Self {
            task: TaskOut::from(&d.view),
            data: d.data.clone(),
            comments: d.comments.iter().map(CommentOut::from).collect(),
            reassignments: d.reassignments.iter().map(ReassignmentOut::from).collect(),
        }
    }
}

/// A work item.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemOut {
    pub id: i64,
    pub flow_id: String,
    pub flow_version: i64,
    pub subject: String,
    pub subject_masked: bool,
    /// `running`, `waiting`, `failed`, `completed` or `cancelled`.
    pub state: String,
    /// The item's data; empty for viewers who do not see the subject.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub parent_id: Option<i64>,
    pub error: Option<String>,
    pub transitions: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&ItemView> for ItemOut {
    fn from(v: &ItemView) -> Self {
        let i = &v.item;
        Self {
            id: i.id,
            flow_id: i.flow_id.clone(),
            flow_version: i.flow_version,
            subject: i.subject.clone(),
            subject_masked: !v.subject_visible,
            state: i.state.as_str().to_owned(),
            data: i.data.clone(),
            parent_id: i.parent_id,
            error: i.error.clone(),
            transitions: i.seq,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// One record of a work item's history.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TransitionOut {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// `system` or `user:NAME`.
    pub actor: String,
    pub kind: String,
    pub from_node: Option<String>,
    pub to_node: Option<String>,
    /// The JSON object merged into the data.
    pub data_change: Option<Value>,
    pub detail: Option<String>,
    pub hash: String,
}

impl From<&Transition> for TransitionOut {
    fn from(t: &Transition) -> Self {
        Self {
            seq: t.seq,
            at: t.at,
            actor: t.actor.clone(),
            kind: t.kind.clone(),
            from_node: t.from_node.clone(),
            to_node: t.to_node.clone(),
            data_change: t
                .data_change
                .as_deref()
                .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))),
            detail: t.detail.clone(),
            hash: t.hash.clone(),
        }
    }
}

/// A user (never their tokens).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            roles: u.roles.clone(),
            active: u.is_active(),
            created_at: u.created_at,
            created_by: u.created_by.clone(),
            revoked_at: u.revoked_at,
        }
    }
}

/// A new user with their API token. The token is shown this once; only its hash is kept.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewUserOut {
    pub user: UserOut,
    pub token: String,
}

/// A new API token, shown this once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenOut {
    pub token: String,
}

/// Who the caller is.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MeOut {
    pub name: String,
    pub roles: Vec<String>,
}

/// What a delivery did.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOut {
    pub message_id: i64,
    pub item_id: i64,
    pub delivery_id: String,
}

impl From<&DeliveryReceipt> for DeliveryOut {
    fn from(r: &DeliveryReceipt) -> Self {
        Self {
            message_id: r.message_id,
            item_id: r.item_id,
            delivery_id: r.delivery_id.clone(),
        }
    }
}

/// What the audit found.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditOut {
    pub items: u64,
    pub transitions: u64,
    pub ok: bool,
    pub problems: Vec<String>,
    pub digest: String,
}

impl From<&AuditReport> for AuditOut {
    fn from(r: &AuditReport) -> Self {
        Self {
            items: r.items,
            transitions: r.transitions,
            ok: r.problems.is_empty(),
            problems: r.problems.iter().map(|p| format!("{p:?}")).collect(),
            digest: r.digest.clone(),
        }
    }
}

/// Health of the server and its database.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthOut {
    pub status: String,
    pub database: String,
}

// ---- requests ---------------------------------------------------------------------------

/// Filters of the task list; sorted by due date (tasks without one last), then id.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskListQuery {
    /// Only this role's queue (one the caller holds).
    pub role: Option<String>,
    /// Only this flow.
    pub flow: Option<String>,
    /// A node id or a three-digit step number.
    pub step: Option<String>,
    /// `open` (default), `completed` or `cancelled`.
    pub state: Option<String>,
    /// Only open tasks past their due date.
    pub overdue: Option<bool>,
    /// Only tasks the caller has claimed.
    pub mine: Option<bool>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Which queue the next task is claimed from.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimNextQuery {
    /// Only this role's queue (one the caller holds); default: all the caller's queues.
    pub role: Option<String>,
    /// Only this flow.
    pub flow: Option<String>,
    /// A node id or a three-digit step number.
    pub step: Option<String>,
}

/// Filters of the work item list, by id.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemListQuery {
    pub flow: Option<String>,
    /// `running`, `waiting`, `failed`, `completed` or `cancelled`.
    pub state: Option<String>,
    pub parent: Option<i64>,
    /// Only items with a greater id (paging).
    pub after: Option<i64>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The recorded fields of a task.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteIn {
    /// Field id → value, checked against the task's declared fields.
    #[schema(value_type = Object)]
    pub answer: Map<String, Value>,
}

/// Whom to hand a task to.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignIn {
    pub to: String,
    pub reason: Option<String>,
}

/// A comment.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    pub body: String,
}

/// A new work item.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartIn {
    pub flow: String,
    /// An identifier (`insured:0001`), never a name.
    pub subject: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// Why a failed step is skipped.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipIn {
    pub reason: String,
}

/// A file delivered with a message.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileIn {
    pub name: String,
    /// The file's bytes, base64 (standard alphabet, with padding).
    pub content_base64: String,
}

/// A message or a file for a waiting work item: either `document` with
/// `correlation_value`, or `item_id` with `node`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverIn {
    pub document: Option<String>,
    pub correlation_value: Option<String>,
    pub item_id: Option<i64>,
    pub node: Option<String>,
    /// Merged into the item's data.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
    pub file: Option<FileIn>,
    /// Identifies the delivery; a second one with the same id is refused.
    pub delivery_id: Option<String>,
}

/// A new user.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    #[schema(pattern = "^[a-z0-9_.-]{1,64}$")]
    pub name: String,
    pub roles: Vec<String>,
}
