//! Interchange formats: bank, convenience-store, pension-deduction and 広域連合 files.
//!
//! Every reader takes the whole file as bytes and is all-or-nothing: it returns every
//! record, or [`FormatError::Invalid`] listing every problem with record number, field and
//! position. Every writer validates all records first and names each bad one. Layouts
//! are described field by field, with sources, in `docs/formats/`.
//!
//! - [`zengin`]: 全銀 口座振替 (91) request/result and 総合振込 (21).
//! - [`cvs`]: コンビニ収納 GS1-128 barcode and payment result files.
//! - [`pension`]: 年金特別徴収 500-byte files.
//! - [`union`]: CSV files exchanged with the 広域連合.

pub mod csv_layout;
pub mod cvs;
pub mod error;
pub mod fixed;
pub mod input;
pub mod kind;
pub mod pension;
pub mod text;
pub mod union;
pub mod zengin;

pub use error::{FormatError, Position, Problem, ProblemKind, Problems};
pub use input::{Limits, read_file, read_limited};
pub use text::TextEncoding;
