//! Flows: the model, reading flow files, and every check an analyst needs.
//!
//! Entry point: [`check_sources`] takes file contents (the engine does no file IO) and
//! returns the [`Catalog`] of valid flows and every diagnostic, each with a stable code.

mod catalog;
pub mod expr;
mod handlers;
pub mod load;
pub mod model;
mod validate;

pub use catalog::{Catalog, CheckOutcome, check_sources, check_sources_with, parse_stored};
pub use model::*;

/// Stable codes of flow problems; each has a page `docs/errors/CODE.md`.
///
/// Problems of the YAML itself (syntax, unknown or missing fields, wrong types) use the
/// `YAML` codes of [`crate::yaml::codes`], shared with settings files.
pub mod codes {
    /// Two lanes, documents, nodes or step numbers share an id.
    pub const DUPLICATE_ID: &str = "FLOW0001";
    /// A node names a lane that is not declared.
    pub const UNKNOWN_LANE: &str = "FLOW0002";
    /// An arrow leads to a node that does not exist.
    pub const UNKNOWN_NODE: &str = "FLOW0003";
    /// A node names a document that is not declared.
    pub const UNKNOWN_DOCUMENT: &str = "FLOW0004";
    /// A call names a flow that does not exist.
    pub const UNKNOWN_FLOW: &str = "FLOW0005";
    /// The flow has no start node.
    pub const NO_START: &str = "FLOW0006";
    /// The flow has several start nodes.
    pub const SEVERAL_STARTS: &str = "FLOW0007";
    /// A node cannot be reached from the start.
    pub const UNREACHABLE: &str = "FLOW0008";
    /// No end can be reached from a node.
    pub const DEAD_END: &str = "FLOW0009";
    /// A decision has fewer than two branches.
    pub const DECISION_BRANCHES: &str = "FLOW0010";
    /// A decision branch has no condition (or both a condition and `default`).
    pub const DECISION_CONDITION: &str = "FLOW0011";
    /// A condition does not parse.
    pub const CONDITION_SYNTAX: &str = "FLOW0012";
    /// Parallel branches never meet at a join, or a join has a single arrow in.
    pub const PARALLEL_JOIN: &str = "FLOW0013";
    /// A cycle has no arrow marked `loop: true`.
    pub const UNMARKED_CYCLE: &str = "FLOW0014";
    /// A requirement ID is malformed.
    pub const MALFORMED_REQUIREMENT: &str = "FLOW0015";
    /// A step number is malformed.
    pub const MALFORMED_STEP: &str = "FLOW0016";
    /// A handler name is malformed.
    pub const MALFORMED_HANDLER: &str = "FLOW0017";
    /// Flows call each other in a cycle.
    pub const CALL_CYCLE: &str = "FLOW0018";
    /// Two files declare the same flow id.
    pub const DUPLICATE_FLOW: &str = "FLOW0019";
    /// An id is not lower-case ASCII snake_case (or a flow id is not `N.N`).
    pub const MALFORMED_ID: &str = "FLOW0020";
    /// `next` does not have the shape the node's kind needs.
    pub const NEXT_SHAPE: &str = "FLOW0021";
    /// A decision has more than one default branch.
    pub const DECISION_DEFAULT: &str = "FLOW0022";
    /// A staff lane has no role, or another lane has one.
    pub const LANE_ROLE: &str = "FLOW0023";
    /// A period or date rule is malformed.
    pub const MALFORMED_PERIOD: &str = "FLOW0024";
    /// A choice field has too few choices, or another type has choices.
    pub const FIELD_CHOICES: &str = "FLOW0025";
    /// A document is declared but never used (warning).
    pub const UNUSED_DOCUMENT: &str = "FLOW0026";
    /// A system node's handler is not registered in the running binary (warning; only
    /// when the caller gives the registered names).
    pub const UNREGISTERED_HANDLER: &str = "FLOW0027";
}
