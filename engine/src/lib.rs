//! The engine of nagare: the flow model, its loader and validator, and the durable runtime
//! that walks work items through flows.
//!
//! Invariant: the engine does no presentation and no global IO. It never prints, never
//! reads environment variables or configuration files on its own; callers hand it text,
//! a store and a clock.

#[macro_use]
mod words;

#[cfg(feature = "runtime")]
pub mod access;
pub mod diagnostic;
pub mod flow;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "runtime")]
pub mod store;
pub mod yaml;
