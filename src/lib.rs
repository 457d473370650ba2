//! The `nagare` command line and HTTP front end: everything that prints, reads files or
//! talks to people lives here; the engine and the domain stay free of presentation.

pub mod api;
pub mod cli;
pub mod handlers;
pub mod report;
pub mod traceability;
pub mod views;
