//! Who may do what: accounts, roles, API tokens, and the access rules every front end (the
//! CLI and the HTTP API) goes through before the runtime changes anything.
//!
//! Roles: a **lane role** (the `role:` of a staff lane, e.g. `municipal_office`) sees and
//! works the tasks of that role and the work items of flows with such lanes; `supervisor`
//! adds reassigning tasks of the holder's lane roles; `auditor` reads every task, item and
//! history (subjects masked) and can change nothing, whatever other roles the user holds;
//! `admin` manages users; `outbox` reads and sends what leaves through the outbox
//! (`access/outbox.rs`); cancelling a work item is for supervisors (`access/cancel.rs`).
//!
//! Invariant: a refused request changes nothing. Checks run before the runtime's
//! transaction, and the runtime's own checks (claimed by someone else, already completed)
//! run inside it.

mod cancel;
mod outbox;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::flow::{Flow, NodeKind};
use crate::runtime::audit::hex;
use crate::runtime::{
    Actor, AuditReport, Data, Delivery, DeliveryReceipt, DeliveryTarget, Refusal, Runtime,
    RuntimeError, Task, TaskState, Transition, Wait, WorkItem,
};
use crate::store::{Comment, ItemFilter, Reassignment, StoreError, TaskFilter, User};

/// Manages users.
pub const ADMIN: &str = "admin";
/// Reads everything, changes nothing.
pub const AUDITOR: &str = "auditor";
/// Reassigns the tasks of the holder's lane roles.
pub const SUPERVISOR: &str = "supervisor";
pub use outbox::{MAX_OUTBOX_LIST, OUTBOX, OutboxView};
/// Roles that are not lanes.
pub const SPECIAL_ROLES: [&str; 4] = [ADMIN, AUDITOR, SUPERVISOR, OUTBOX];

/// Prefix of API tokens, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "ngr_";
/// Most tasks one listing returns.
pub const MAX_LIST: i64 = 1000;

/// An authenticated user with their roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub roles: BTreeSet<String>,
}

impl Principal {
    /// Returns the principal of an active user.
    pub fn of(user: &User) -> Self {
        Self {
            name: user.name.clone(),
            roles: user.roles.iter().cloned().collect(),
        }
    }

    /// Returns whether the user holds a role.
    pub fn has(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// Returns whether the user may only read (auditors).
    pub fn read_only(&self) -> bool {
        self.has(AUDITOR)
    }

    /// Returns the lane roles the user holds.
    pub fn lane_roles(&self) -> impl Iterator<Item = &str> {
        self.roles
            .iter()
            .map(String::as_str)
            .filter(|r| !SPECIAL_ROLES.contains(r))
    }

    /// Returns the user as the runtime records them.
    pub fn actor(&self) -> Actor {
        Actor::User(self.name.clone())
    }
}

/// Why a request was refused. Nothing was changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No user, an unknown or revoked token (HTTP 401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The user is known but may not do this (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist or the user may not see it (HTTP 404).
    #[error("{what} {id} does not exist or is not visible to you")]
    NotFound { what: &'static str, id: String },
    /// The request does not fit the current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The input is wrong; `field` names the field when one is to blame (HTTP 400).
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// A delivery was refused: unmatched (HTTP 422), duplicate or ambiguous (HTTP 409).
    #[error("{0}")]
    Refused(Refusal),
    /// The database or a stored flow failed (HTTP 500/503).
    #[error(transparent)]
    Runtime(RuntimeError),
}

impl AccessError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

impl From<StoreError> for AccessError {
    fn from(err: StoreError) -> Self {
        Self::Runtime(RuntimeError::Store(err))
    }
}

impl From<RuntimeError> for AccessError {
    fn from(err: RuntimeError) -> Self {
        match err {
            RuntimeError::NotFound { what, id } => Self::NotFound {
                what,
                id: id.to_string(),
            },
            RuntimeError::Conflict(message) => Self::Conflict(message),
            RuntimeError::Invalid(message) => Self::Invalid {
                field: first_quoted(&message),
                message,
            },
            RuntimeError::Refused(refusal) => Self::Refused(refusal),
            RuntimeError::UnknownFlow(flow) => Self::invalid(
                "flow",
                format!("flow `{flow}` is not registered: check that its file is among the flows"),
            ),
            other => Self::Runtime(other),
        }
    }
}

/// Returns the first name in backquotes: the runtime's messages name the field so.
fn first_quoted(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

/// Replaces what identifies a person in a subject (`insured:0001` → `insured:***`).
pub fn mask_subject(subject: &str) -> String {
    match subject.rfind(':') {
        Some(i) => format!("{}***", &subject[..=i]),
        None => "***".to_owned(),
    }
}

/// Returns the roles whose queues receive a flow's tasks: the staff lanes' roles, and the
/// lane id of a manual node in a lane without one (as the runtime assigns it).
pub fn flow_roles(flow: &Flow) -> BTreeSet<String> {
    let mut roles: BTreeSet<String> = flow
        .lanes
        .iter()
        .filter_map(|l| l.role.as_ref().map(|r| r.value.clone()))
        .collect();
    for node in &flow.nodes {
        if matches!(node.kind, NodeKind::Manual { .. })
            && flow.lane(&node.lane.value).is_none_or(|l| l.role.is_none())
        {
            roles.insert(node.lane.value.clone());
        }
    }
    roles
}

/// Returns today's date in Japan (the office's calendar), from an instant.
pub fn office_today(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    // Japan keeps no daylight saving time: the office's day is UTC+9.
    (now + chrono::Duration::hours(9)).date_naive()
}

/// Returns the SHA-256 (hex) under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn new_token() -> Result<String, AccessError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        AccessError::Runtime(RuntimeError::Invalid(format!(
            "the system has no random numbers: {e}"
        )))
    })?;
    Ok(format!("{TOKEN_PREFIX}{}", hex(&bytes)))
}

/// A `step` filter is the seed's step number when it is all digits (`"002"`), else a node id.
fn split_step(step: Option<&str>) -> (Option<String>, Option<String>) {
    match step {
        Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            (None, Some(s.to_owned()))
        }
        Some(s) => (Some(s.to_owned()), None),
        None => (None, None),
    }
}

/// A task as one viewer may see it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskView {
    /// The task, its subject masked when `subject_visible` is false.
    pub task: Task,
    pub subject_visible: bool,
    /// Open and past its due date (in Japan).
    pub overdue: bool,
    /// The title of the task's flow, when the flow is registered.
    pub flow_title: Option<String>,
}

/// A task with what is needed to decide on it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskDetail {
    pub view: TaskView,
    /// The work item's data (only for viewers who see the subject).
    pub data: Option<Data>,
    pub comments: Vec<Comment>,
    pub reassignments: Vec<Reassignment>,
}

/// A work item as one viewer may see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemView {
    /// The item, its subject masked and its data emptied when `subject_visible` is false.
    pub item: WorkItem,
    pub subject_visible: bool,
}

/// Which tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub role: Option<String>,
    pub flow_id: Option<String>,
    /// A node id or a step number (`"002"`).
    pub step: Option<String>,
    /// Open tasks by default.
    pub state: Option<TaskState>,
    pub overdue: bool,
    /// Only the tasks the viewer has claimed.
    pub mine: bool,
    pub limit: Option<i64>,
}

/// Where a delivery goes, as a front end names it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRequest {
    pub target: DeliveryTarget,
    pub payload: Data,
    pub delivery_id: Option<String>,
}

/// The access rules around a [`Runtime`].
pub struct Service {
    rt: Arc<Runtime>,
}

impl Service {
    pub fn new(rt: Arc<Runtime>) -> Self {
        Self { rt }
    }

    /// Returns the runtime (for the worker and for tests).
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    // ---- who -------------------------------------------------------------------------

    /// Returns the user an API token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AccessError> {
        let refused = || AccessError::Unauthenticated("the API token is unknown or revoked".into());
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let user = self
            .rt
            .store()
            .user_by_token_hash(&token_hash(token))
            .await?
            .ok_or_else(refused)?;
        Ok(Principal::of(&user))
    }

    /// Returns an active user by name (the CLI acts as a named user on the local database).
    pub async fn principal(&self, name: &str) -> Result<Principal, AccessError> {
        match self.rt.store().user(name).await? {
            Some(user) if user.is_active() => Ok(Principal::of(&user)),
            Some(_) => Err(AccessError::Unauthenticated(format!(
                "user `{name}` is revoked"
            ))),
            None => Err(AccessError::Unauthenticated(format!(
                "there is no user `{name}`: an admin adds one with `nagare user add`"
            ))),
        }
    }

    /// Returns the roles a user may be given: the special roles and the lane roles of the
    /// registered flows.
    pub fn known_roles(&self) -> BTreeSet<String> {
        let mut roles: BTreeSet<String> = SPECIAL_ROLES.iter().map(|r| (*r).to_owned()).collect();
        for flow in self.rt.current_flows() {
            roles.extend(flow_roles(&flow));
        }
        roles
    }

    // ---- users -----------------------------------------------------------------------

    fn require_admin(by: &Principal) -> Result<(), AccessError> {
        if by.has(ADMIN) {
            Ok(())
        } else {
            Err(AccessError::Forbidden(format!(
                "{} is not an admin: only admins manage users",
                by.name
            )))
        }
    }

    /// Adds a user and returns them with their first API token (shown once, stored
    /// hashed). Without `by`, only the very first user can be added, and only as an admin.
    pub async fn add_user(
        &self,
        by: Option<&Principal>,
        name: &str,
        roles: &[String],
    ) -> Result<(User, String), AccessError> {
        if let Some(by) = by {
            Self::require_admin(by)?;
        }
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            });
        if !valid_name {
            return Err(AccessError::invalid(
                "name",
                format!("user name `{name}` must be 1 to 64 of a-z, 0-9, `_`, `-`, `.`"),
            ));
        }
        if roles.is_empty() {
            return Err(AccessError::invalid(
                "roles",
                "a user needs at least one role",
            ));
        }
        let known = self.known_roles();
        if let Some(unknown) = roles.iter().find(|r| !known.contains(*r)) {
            let list: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(AccessError::invalid(
                "roles",
                format!(
                    "role `{unknown}` is unknown; the roles are {}",
                    list.join(", ")
                ),
            ));
        }
        if by.is_none() && !roles.iter().any(|r| r == ADMIN) {
            return Err(AccessError::invalid(
                "roles",
                "the first user must be an admin, who then adds the others",
            ));
        }
        let now = self.rt.now();
        let token = new_token()?;
        let user = User {
            name: name.to_owned(),
            roles: roles
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            created_at: now,
            created_by: by.map_or_else(|| Actor::System.to_stored(), |p| p.actor().to_stored()),
            revoked_at: None,
        };
        let mut tx = self.rt.store().begin().await?;
        let result: Result<(), AccessError> = async {
            if by.is_none() && tx.count_users().await? > 0 {
                return Err(AccessError::Unauthenticated(
                    "users exist already: act as an admin (--as NAME) to add another".into(),
                ));
            }
            if !tx.insert_user(&user).await? {
                return Err(AccessError::Conflict(format!(
                    "user `{name}` exists already"
                )));
            }
            tx.insert_api_token(name, &token_hash(&token), now).await?;
            Ok(())
        }
        .await;
        commit(tx, result).await?;
        Ok((user, token))
    }

    /// Issues another API token for an active user (shown once).
    pub async fn issue_token(&self, by: &Principal, name: &str) -> Result<String, AccessError> {
        Self::require_admin(by)?;
        let now = self.rt.now();
        let token = new_token()?;
        let mut tx = self.rt.store().begin().await?;
        let result: Result<(), AccessError> = async {
            match self.rt.store().user(name).await? {
                Some(u) if u.is_active() => {}
                _ => {
                    return Err(AccessError::NotFound {
                        what: "active user",
                        id: name.to_owned(),
                    });
                }
            }
            tx.insert_api_token(name, &token_hash(&token), now).await?;
            Ok(())
        }
        .await;
        commit(tx, result).await?;
        Ok(token)
    }

    /// Returns every user.
    pub async fn users(&self, by: &Principal) -> Result<Vec<User>, AccessError> {
        Self::require_admin(by)?;
        Ok(self.rt.store().users().await?)
    }

    /// Revokes a user and every token of theirs.
    pub async fn revoke_user(&self, by: &Principal, name: &str) -> Result<User, AccessError> {
        Self::require_admin(by)?;
        if by.name == name {
            return Err(AccessError::Conflict(
                "an admin cannot revoke themselves; another admin can".into(),
            ));
        }
        let now = self.rt.now();
        let mut tx = self.rt.store().begin().await?;
        let result = async {
            if tx.revoke_user(name, now).await? {
                Ok(())
            } else {
                Err(AccessError::NotFound {
                    what: "active user",
                    id: name.to_owned(),
                })
            }
        }
        .await;
        commit(tx, result).await?;
        self.rt
            .store()
            .user(name)
            .await?
            .ok_or_else(|| AccessError::NotFound {
                what: "user",
                id: name.to_owned(),
            })
    }

    // ---- tasks -----------------------------------------------------------------------

    fn view(&self, by: &Principal, mut task: Task, titles: &HashMap<String, String>) -> TaskView {
        let subject_visible = by.has(&task.role);
        if !subject_visible {
            task.subject = mask_subject(&task.subject);
        }
        let today = office_today(self.rt.now());
        let overdue = task.state == TaskState::Open && task.due_date.is_some_and(|d| d < today);
        let flow_title = titles.get(&task.flow_id).cloned();
        TaskView {
            task,
            subject_visible,
            overdue,
            flow_title,
        }
    }

    fn titles(&self) -> HashMap<String, String> {
        self.rt
            .current_flows()
            .iter()
            .map(|f| (f.id.value.clone(), f.title.clone()))
            .collect()
    }

    /// Returns a task the user may see, or `NotFound`.
    async fn visible_task(&self, by: &Principal, id: i64) -> Result<Task, AccessError> {
        match self.rt.store().task(id).await? {
            Some(task) if by.has(&task.role) || by.read_only() => Ok(task),
            _ => Err(AccessError::NotFound {
                what: "task",
                id: id.to_string(),
            }),
        }
    }

    /// Returns a task the user may work on: visible, in one of their roles, and the user
    /// is not read-only.
    async fn workable_task(
        &self,
        by: &Principal,
        id: i64,
        what: &str,
    ) -> Result<Task, AccessError> {
        let task = self.visible_task(by, id).await?;
        if by.read_only() {
            return Err(AccessError::Forbidden(format!(
                "{} is an auditor: auditors cannot {what} tasks",
                by.name
            )));
        }
        Ok(task)
    }

    /// Lists the tasks of the user's roles (every task for auditors), by due date.
    pub async fn tasks(&self, by: &Principal, q: &TaskQuery) -> Result<Vec<TaskView>, AccessError> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=MAX_LIST).contains(&limit) {
            return Err(AccessError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIST}"),
            ));
        }
        let roles: Vec<Option<String>> = match &q.role {
            Some(role) if by.has(role) || by.read_only() => vec![Some(role.clone())],
            Some(role) => {
                return Err(AccessError::Forbidden(format!(
                    "{} does not hold role `{role}`",
                    by.name
                )));
            }
            None if by.read_only() => vec![None],
            None => by.lane_roles().map(|r| Some(r.to_owned())).collect(),
        };
        let (node, step) = split_step(q.step.as_deref());
        let today = office_today(self.rt.now());
        let mut tasks = Vec::new();
        // One query per role: each reads its page straight from the queue index.
        for role in roles {
            let filter = TaskFilter {
                role,
                flow_id: q.flow_id.clone(),
                node: node.clone(),
                step: step.clone(),
                state: Some(q.state.unwrap_or(TaskState::Open)),
                item_id: None,
                claimed_by: q.mine.then(|| by.name.clone()),
                overdue_on: q.overdue.then_some(today),
                limit: Some(limit),
            };
            tasks.extend(self.rt.store().tasks(&filter).await?);
        }
        tasks.sort_by(|a, b| {
            (a.due_date.is_none(), a.due_date, a.id).cmp(&(b.due_date.is_none(), b.due_date, b.id))
        });
        tasks.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let titles = self.titles();
        Ok(tasks
            .into_iter()
            .map(|t| self.view(by, t, &titles))
            .collect())
    }

    /// Returns one task with the item's data, comments and reassignments.
    pub async fn task(&self, by: &Principal, id: i64) -> Result<TaskDetail, AccessError> {
        let task = self.visible_task(by, id).await?;
        let view = self.view(by, task, &self.titles());
        let data = if view.subject_visible {
            self.rt
                .store()
                .item(view.task.item_id)
                .await?
                .map(|i| i.data)
        } else {
            None
        };
        Ok(TaskDetail {
            comments: self.rt.store().comments(id).await?,
            reassignments: self.rt.store().reassignments(id).await?,
            view,
            data,
        })
    }

    /// Claims a task for the user.
    pub async fn claim(&self, by: &Principal, id: i64) -> Result<TaskView, AccessError> {
        self.workable_task(by, id, "claim").await?;
        let task = self.rt.claim_task(id, &by.name).await?;
        Ok(self.view(by, task, &self.titles()))
    }

    /// Claims the next unclaimed task of the user's queues (one role with `q.role`) in queue
    /// order, narrowed by flow and step; `NotFound` when there is none.
    pub async fn claim_next(&self, by: &Principal, q: &TaskQuery) -> Result<TaskView, AccessError> {
        if by.read_only() {
            return Err(AccessError::Forbidden(format!(
                "{} is an auditor: auditors cannot claim tasks",
                by.name
            )));
        }
        let roles: Vec<String> = match &q.role {
            Some(role) if by.has(role) => vec![role.clone()],
            Some(role) => {
                return Err(AccessError::Forbidden(format!(
                    "{} does not hold role `{role}`",
                    by.name
                )));
            }
            None => by.lane_roles().map(str::to_owned).collect(),
        };
        let (node, step) = split_step(q.step.as_deref());
        let narrow = TaskFilter {
            flow_id: q.flow_id.clone(),
            node,
            step,
            ..TaskFilter::default()
        };
        match self.rt.claim_next_task(&roles, &narrow, &by.name).await? {
            Some(task) => Ok(self.view(by, task, &self.titles())),
            None => Err(AccessError::NotFound {
                what: "unclaimed open task",
                id: "in your queues".to_owned(),
            }),
        }
    }

    /// Gives a task the user claimed back to the queue.
    pub async fn release(&self, by: &Principal, id: i64) -> Result<TaskView, AccessError> {
        self.workable_task(by, id, "release").await?;
        let task = self.rt.release_task(id, &by.name).await?;
        Ok(self.view(by, task, &self.titles()))
    }

    /// Completes a task with the recorded fields (checked against the declared fields).
    pub async fn complete(
        &self,
        by: &Principal,
        id: i64,
        answer: Data,
    ) -> Result<TaskView, AccessError> {
        self.workable_task(by, id, "complete").await?;
        let task = self.rt.complete_task(id, &by.actor(), answer).await?;
        Ok(self.view(by, task, &self.titles()))
    }

    /// Hands a task to another holder of its role (supervisors).
    pub async fn reassign(
        &self,
        by: &Principal,
        id: i64,
        to: &str,
        reason: Option<&str>,
    ) -> Result<TaskView, AccessError> {
        let task = self.workable_task(by, id, "reassign").await?;
        if !by.has(SUPERVISOR) {
            return Err(AccessError::Forbidden(format!(
                "{} is not a supervisor: only supervisors reassign tasks",
                by.name
            )));
        }
        let target = match self.rt.store().user(to).await? {
            Some(u) if u.is_active() => Principal::of(&u),
            _ => {
                return Err(AccessError::invalid(
                    "to",
                    format!("there is no active user `{to}`"),
                ));
            }
        };
        if !target.has(&task.role) || target.read_only() {
            return Err(AccessError::invalid(
                "to",
                format!("{to} does not work on role `{}`", task.role),
            ));
        }
        let task = self.rt.reassign_task(id, &by.actor(), to, reason).await?;
        Ok(self.view(by, task, &self.titles()))
    }

    /// Adds a comment to a task.
    pub async fn comment(
        &self,
        by: &Principal,
        id: i64,
        body: &str,
    ) -> Result<Comment, AccessError> {
        self.workable_task(by, id, "comment on").await?;
        self.rt
            .comment_task(id, &by.actor(), body)
            .await
            .map_err(|e| match e {
                RuntimeError::Invalid(message) => AccessError::invalid("body", message),
                other => other.into(),
            })
    }

    // ---- work items ------------------------------------------------------------------

    async fn roles_of_hash(&self, hash: &str) -> Result<BTreeSet<String>, AccessError> {
        Ok(flow_roles(&*self.rt.flow_by_hash(hash).await?))
    }

    fn sees_subject(by: &Principal, roles: &BTreeSet<String>) -> bool {
        roles.iter().any(|r| by.has(r))
    }

    fn item_view(by: &Principal, mut item: WorkItem, roles: &BTreeSet<String>) -> ItemView {
        let subject_visible = Self::sees_subject(by, roles);
        if !subject_visible {
            item.subject = mask_subject(&item.subject);
            item.data = Data::new();
        }
        ItemView {
            item,
            subject_visible,
        }
    }

    /// Returns an item the user may see (a holder of one of its flow's roles, or an
    /// auditor), with the roles of its flow.
    async fn visible_item(
        &self,
        by: &Principal,
        id: i64,
    ) -> Result<(WorkItem, BTreeSet<String>), AccessError> {
        let not_found = || AccessError::NotFound {
            what: "work item",
            id: id.to_string(),
        };
        let item = self.rt.store().item(id).await?.ok_or_else(not_found)?;
        let roles = self.roles_of_hash(&item.flow_hash).await?;
        if Self::sees_subject(by, &roles) || by.read_only() {
            Ok((item, roles))
        } else {
            Err(not_found())
        }
    }

    /// Returns an item the user may act on.
    async fn workable_item(
        &self,
        by: &Principal,
        id: i64,
        what: &str,
    ) -> Result<WorkItem, AccessError> {
        let (item, roles) = self.visible_item(by, id).await?;
        if by.read_only() {
            return Err(AccessError::Forbidden(format!(
                "{} is an auditor: auditors cannot {what} work items",
                by.name
            )));
        }
        if !Self::sees_subject(by, &roles) {
            return Err(AccessError::NotFound {
                what: "work item",
                id: id.to_string(),
            });
        }
        Ok(item)
    }

    /// Starts a work item on a flow whose tasks the user works on.
    pub async fn start(
        &self,
        by: &Principal,
        flow_id: &str,
        subject: &str,
        data: Data,
    ) -> Result<ItemView, AccessError> {
        if by.read_only() {
            return Err(AccessError::Forbidden(format!(
                "{} is an auditor: auditors cannot start work items",
                by.name
            )));
        }
        let hash = self.rt.current_hash(flow_id).await?.ok_or_else(|| {
            AccessError::invalid("flow", format!("flow `{flow_id}` is not registered"))
        })?;
        let roles = self.roles_of_hash(&hash).await?;
        if !Self::sees_subject(by, &roles) {
            return Err(AccessError::Forbidden(format!(
                "{} holds none of the roles of flow `{flow_id}`",
                by.name
            )));
        }
        if subject.trim().is_empty() {
            return Err(AccessError::invalid("subject", "the subject is empty"));
        }
        let id = self.rt.start(flow_id, subject, data, &by.actor()).await?;
        let item = self
            .rt
            .store()
            .item(id)
            .await?
            .ok_or(AccessError::NotFound {
                what: "work item",
                id: id.to_string(),
            })?;
        Ok(Self::item_view(by, item, &roles))
    }

    /// Lists the items the user may see.
    pub async fn items(
        &self,
        by: &Principal,
        filter: &ItemFilter,
    ) -> Result<Vec<ItemView>, AccessError> {
        let limit = filter.limit.unwrap_or(100);
        if !(1..=MAX_LIST).contains(&limit) {
            return Err(AccessError::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_LIST}"),
            ));
        }
        let mut out = Vec::new();
        let mut cache: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut after = filter.after_id;
        // Page through the store until `limit` visible items are found.
        loop {
            let page = self
                .rt
                .store()
                .items(&ItemFilter {
                    after_id: after,
                    limit: Some(limit),
                    ..filter.clone()
                })
                .await?;
            let done = page.len() < usize::try_from(limit).unwrap_or(usize::MAX);
            after = page.last().map(|i| i.id).or(after);
            for item in page {
                if !cache.contains_key(&item.flow_hash) {
                    let roles = self.roles_of_hash(&item.flow_hash).await?;
                    cache.insert(item.flow_hash.clone(), roles);
                }
                let roles = &cache[&item.flow_hash];
                if Self::sees_subject(by, roles) || by.read_only() {
                    out.push(Self::item_view(by, item, roles));
                    if out.len() == usize::try_from(limit).unwrap_or(usize::MAX) {
                        return Ok(out);
                    }
                }
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Returns one item.
    pub async fn item(&self, by: &Principal, id: i64) -> Result<ItemView, AccessError> {
        let (item, roles) = self.visible_item(by, id).await?;
        Ok(Self::item_view(by, item, &roles))
    }

    /// Returns the history of an item (auditors see data changes too: they audit).
    pub async fn history(&self, by: &Principal, id: i64) -> Result<Vec<Transition>, AccessError> {
        self.visible_item(by, id).await?;
        Ok(self.rt.store().history(id).await?)
    }

    /// Delivers a message or a file to the item waiting for it.
    pub async fn deliver(
        &self,
        by: &Principal,
        req: DeliveryRequest,
    ) -> Result<DeliveryReceipt, AccessError> {
        if by.read_only() {
            return Err(AccessError::Forbidden(format!(
                "{} is an auditor: auditors cannot deliver",
                by.name
            )));
        }
        let item_id = match &req.target {
            DeliveryTarget::Item { item_id, .. } => Some(*item_id),
            DeliveryTarget::Correlated { document, value } => {
                self.waiting_item(document, value).await?
            }
        };
        if let Some(item_id) = item_id {
            let allowed = match self.rt.store().item(item_id).await? {
                Some(item) => Self::sees_subject(by, &self.roles_of_hash(&item.flow_hash).await?),
                None => false,
            };
            if !allowed {
                // The same answer as when nothing waits: a delivery must not reveal items.
                return Err(AccessError::Refused(Refusal::Unmatched(
                    match &req.target {
                        DeliveryTarget::Item { item_id, node } => format!(
                            "work item {item_id} does not wait at `{node}` for a message without correlation"
                        ),
                        DeliveryTarget::Correlated { document, value } => format!(
                            "no work item waits for `{document}` with correlation value `{value}`"
                        ),
                    },
                )));
            }
        } else if by.lane_roles().next().is_none() {
            return Err(AccessError::Forbidden(format!(
                "{} holds no lane role: only staff deliver",
                by.name
            )));
        }
        Ok(self
            .rt
            .deliver(Delivery {
                target: req.target,
                payload: req.payload,
                delivery_id: req.delivery_id,
                actor: by.actor(),
            })
            .await?)
    }

    /// Returns the item a correlated delivery would reach, when exactly one waits.
    async fn waiting_item(&self, document: &str, value: &str) -> Result<Option<i64>, AccessError> {
        let key = crate::runtime::message_wait_key(document, value);
        let mut tx = self.rt.store().begin().await?;
        let tokens = tx.waiting_tokens(Wait::Message, &key).await;
        tx.rollback().await?;
        let tokens = tokens?;
        Ok(match tokens.as_slice() {
            [t] => Some(t.item_id),
            _ => None,
        })
    }

    /// Runs a failed item's failed step again.
    pub async fn retry(&self, by: &Principal, id: i64) -> Result<ItemView, AccessError> {
        self.workable_item(by, id, "retry").await?;
        self.rt.retry(id, &by.actor()).await?;
        self.item(by, id).await
    }

    /// Moves a failed item past its failed step, with a reason.
    pub async fn skip(
        &self,
        by: &Principal,
        id: i64,
        reason: &str,
    ) -> Result<ItemView, AccessError> {
        self.workable_item(by, id, "skip steps of").await?;
        if reason.trim().is_empty() {
            return Err(AccessError::invalid("reason", "a skip needs a reason"));
        }
        self.rt.skip(id, &by.actor(), reason).await?;
        self.item(by, id).await
    }

    /// Checks the hash chains of every item (auditors and admins).
    pub async fn verify_audit(&self, by: &Principal) -> Result<AuditReport, AccessError> {
        if !by.read_only() && !by.has(ADMIN) {
            return Err(AccessError::Forbidden(format!(
                "{} is neither an auditor nor an admin",
                by.name
            )));
        }
        Ok(self.rt.verify_audit().await?)
    }

    /// Returns whether a JSON value is an object, naming the field otherwise.
    pub fn object(field: &str, value: Value) -> Result<Data, AccessError> {
        match value {
            Value::Object(map) => Ok(map),
            Value::Null => Ok(Data::new()),
            _ => Err(AccessError::invalid(
                field,
                format!("`{field}` must be a JSON object"),
            )),
        }
    }
}

async fn commit(
    tx: Box<dyn crate::store::StoreTx>,
    result: Result<(), AccessError>,
) -> Result<(), AccessError> {
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(())
        }
        Err(err) => {
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_masked_after_their_kind() {
        assert_eq!(mask_subject("insured:0001"), "insured:***");
        assert_eq!(mask_subject("household:12:3"), "household:12:***");
        assert_eq!(mask_subject("0001"), "***");
    }

    #[test]
    fn the_field_is_read_from_runtime_messages() {
        assert_eq!(
            first_quoted("field `issue` (発行) is required").as_deref(),
            Some("issue")
        );
        assert_eq!(first_quoted("nothing quoted"), None);
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn office_days_are_japanese() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-04-30T15:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            office_today(t),
            NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()
        );
    }
}
