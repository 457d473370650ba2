//! Files exchanged with the 広域連合: one CSV layout per kind, declared as a table in
//! [`layouts`], read and written by the shared [`crate::formats::csv_layout`] code.
//!
//! The layouts are ours (the 標準仕様書 データ要件 was not available): they are documented
//! in `docs/formats/union.md` and can be replaced by the official ones table by table.

pub mod layouts;

use super::csv_layout::{self, CsvLayout, CsvOptions, Record};
use super::error::FormatError;

/// Every 広域連合 file kind.
pub fn all() -> &'static [&'static CsvLayout] {
    layouts::ALL
}

/// The layout of a kind, by its command-line name (`union-receipt` …).
pub fn layout(kind: &str) -> Option<&'static CsvLayout> {
    layouts::ALL.iter().copied().find(|l| l.kind == kind)
}

/// Reads a 広域連合 file: every record or every problem.
pub fn read(
    layout: &CsvLayout,
    input: &[u8],
    opts: &CsvOptions,
) -> Result<Vec<Record>, FormatError> {
    csv_layout::read(layout, input, opts)
}

/// Writes a 広域連合 file.
pub fn write(
    layout: &CsvLayout,
    records: &[Record],
    opts: &CsvOptions,
) -> Result<Vec<u8>, FormatError> {
    csv_layout::write(layout, records, opts)
}
