//! The flow model: what a flow file says, after it has been read.
//!
//! Ids and references keep their spans so that validation can point at them.

use std::sync::Arc;

use crate::diagnostic::{SourceFile, Span};
use crate::yaml::Spanned;

/// One business flow of the seed document, as read from one file.
#[derive(Debug)]
pub struct Flow {
    pub file: Arc<SourceFile>,
    pub id: Spanned<String>,
    pub title: String,
    pub category: String,
    pub pages: Vec<u32>,
    pub version: u32,
    pub note: Option<String>,
    pub lanes: Vec<Lane>,
    pub documents: Vec<Document>,
    pub nodes: Vec<Node>,
    /// SHA-256 of the file's text, hex; stored with every work item started on this flow.
    pub content_hash: String,
}

impl Flow {
    /// Returns the node with the given id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id.value == id)
    }

    /// Returns the lane with the given id.
    pub fn lane(&self, id: &str) -> Option<&Lane> {
        self.lanes.iter().find(|l| l.id.value == id)
    }

    /// Returns the document with the given id.
    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.id.value == id)
    }

    /// Returns the start node (validated flows have exactly one).
    pub fn start(&self) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| matches!(n.kind, NodeKind::Start))
    }

    /// Returns the ids of the nodes whose `next` leads to the given node.
    pub fn predecessors<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.next.iter().any(|e| e.to.value == id))
    }
}

/// A swimlane: who does the work drawn in its column.
#[derive(Debug)]
pub struct Lane {
    pub id: Spanned<String>,
    pub title: String,
    pub kind: LaneKind,
    /// The role whose queue gets this lane's manual tasks (staff lanes only).
    pub role: Option<Spanned<String>>,
    pub note: Option<String>,
    pub span: Span,
}

string_enum! {
    LaneKind {
        /// This office; manual tasks go to a queue.
        Staff => "staff",
        /// Another division of the municipality.
        OtherOffice => "other_office",
        /// Another organisation or its system.
        External => "external",
        Resident => "resident",
    }
}

/// A document or data set that nodes send, receive, produce or consume.
#[derive(Debug)]
pub struct Document {
    pub id: Spanned<String>,
    pub title: String,
    pub kind: DocumentKind,
    pub note: Option<String>,
}

string_enum! {
    DocumentKind {
        Notice => "notice",
        Form => "form",
        File => "file",
        Data => "data",
    }
}

/// A box of the flow.
#[derive(Debug)]
pub struct Node {
    pub id: Spanned<String>,
    pub kind: NodeKind,
    /// The span of the `kind` value, for messages about the kind.
    pub kind_span: Span,
    pub lane: Spanned<String>,
    pub name: Option<String>,
    /// The seed's three-digit step number.
    pub step: Option<Spanned<String>>,
    /// Function-requirement IDs such as `3.4.7`.
    pub requirements: Vec<Spanned<String>>,
    pub note: Option<String>,
    pub page: Option<u32>,
    /// The name was reconstructed rather than read from the seed.
    pub inferred: bool,
    pub produces: Vec<Spanned<String>>,
    pub consumes: Vec<Spanned<String>>,
    pub next: Vec<Edge>,
    /// The span of the whole node mapping.
    pub span: Span,
}

impl Node {
    /// Returns the text shown for the node: its name, or its kind for unnamed nodes.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.kind.as_str())
    }
}

/// What a node does.
#[derive(Debug)]
pub enum NodeKind {
    Start,
    End,
    /// A step of this system, done by a registered Rust handler.
    System {
        handler: Spanned<String>,
        retries: u32,
        batch: bool,
    },
    /// Work a person in the lane does and records.
    Manual {
        fields: Vec<Field>,
        due: Option<DateRule>,
    },
    Decision,
    Parallel,
    Join,
    /// Waits for a document or data from another lane.
    Receive {
        from: Spanned<String>,
        document: Spanned<String>,
        correlation: Option<String>,
    },
    /// Hands a document or file to another lane.
    Send {
        to: Spanned<String>,
        document: Spanned<String>,
    },
    /// Runs another flow.
    Call {
        flow: Spanned<String>,
        wait: bool,
        for_each: Option<String>,
    },
    /// Work of another system (広域標準システム, 自治体中間サーバー): recorded, not executed.
    OutOfScope {
        system: ExternalSystem,
        waits: bool,
    },
    /// Waits until a date.
    Timer {
        wait: DateRule,
    },
    /// The kind could not be read; only present in flows that have errors.
    Invalid,
}

impl NodeKind {
    /// The kind words of flow files, in the order the documentation lists them.
    pub const NAMES: &'static [&'static str] = &[
        "start",
        "end",
        "system",
        "manual",
        "decision",
        "parallel",
        "join",
        "receive",
        "send",
        "call",
        "out_of_scope",
        "timer",
    ];

    /// Returns the word used in flow files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::End => "end",
            Self::System { .. } => "system",
            Self::Manual { .. } => "manual",
            Self::Decision => "decision",
            Self::Parallel => "parallel",
            Self::Join => "join",
            Self::Receive { .. } => "receive",
            Self::Send { .. } => "send",
            Self::Call { .. } => "call",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::Timer { .. } => "timer",
            Self::Invalid => "invalid",
        }
    }
}

string_enum! {
    /// The other system that does an out-of-scope step.
    ExternalSystem {
        /// 広域標準システム.
        UnionSystem => "union_system",
        /// 自治体中間サーバー.
        IntermediateServer => "intermediate_server",
        Other => "other",
    }
}

/// An arrow from one node to the next.
#[derive(Debug)]
pub struct Edge {
    pub to: Spanned<String>,
    pub label: Option<String>,
    /// The condition (decisions only), in minijinja expression syntax.
    pub when: Option<Spanned<String>>,
    pub default: bool,
    /// The arrow goes back and closes an intended cycle.
    pub is_loop: bool,
    pub note: Option<String>,
    pub span: Span,
}

/// A value a person records when doing a manual task.
#[derive(Debug)]
pub struct Field {
    pub id: Spanned<String>,
    pub label: String,
    pub kind: FieldKind,
    pub choices: Vec<String>,
    pub required: bool,
}

string_enum! {
    FieldKind {
        Bool => "bool",
        Text => "text",
        Integer => "integer",
        Yen => "yen",
        Date => "date",
        Choice => "choice",
    }
}

/// A date computed from the work item: a deadline or the end of a wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateRule {
    /// A period after a date held in a data field, or after entering the node.
    After {
        amount: u32,
        unit: PeriodUnit,
        from: DateBase,
    },
    /// The date held in a data field.
    Until { field: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateBase {
    /// The moment the work item reached the node.
    Entered,
    /// A data field holding a date.
    Field(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodUnit {
    Days,
    BusinessDays,
    Months,
}
