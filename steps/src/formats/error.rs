//! The one error type shared by every reader and writer in [`crate::formats`].
//!
//! Readers are all-or-nothing: they either return every record or
//! [`FormatError::Invalid`] with the complete list of [`Problem`]s, so a bad file from
//! outside is never half imported. Each problem names the record (1-based), the field
//! and the byte or column position. Messages never echo the content of a field, because
//! fields hold names, addresses and account numbers that must not reach logs; only
//! codes and single offending characters are quoted.

use std::borrow::Cow;
use std::fmt;

/// Where in a file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// The problem concerns the file or the record as a whole.
    Whole,
    /// Bytes `start..=end` of a fixed-width record, 1-based and inclusive, as layout
    /// tables print them.
    Bytes {
        /// First byte, 1-based.
        start: usize,
        /// Last byte, 1-based, inclusive.
        end: usize,
    },
    /// A column of a CSV row, 1-based.
    Column {
        /// Column number, 1-based.
        column: usize,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Whole => Ok(()),
            Self::Bytes { start, end } if start == end => write!(f, ", byte {start}"),
            Self::Bytes { start, end } => write!(f, ", bytes {start}-{end}"),
            Self::Column { column } => write!(f, ", column {column}"),
        }
    }
}

/// What is wrong; the `Display` text is the message shown to staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The input is empty.
    #[error("the file is empty")]
    Empty,
    /// A fixed-width record has the wrong length.
    #[error("record is {found} bytes long, expected {expected}")]
    RecordLength {
        /// Length required by the layout.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The file ends inside a record.
    #[error("the file ends inside a record ({found} of {expected} bytes)")]
    Truncated {
        /// Length required by the layout.
        expected: usize,
        /// Bytes left at the end.
        found: usize,
    },
    /// A bare CR, or a mix of line endings the reader does not accept.
    #[error("unexpected line ending: {0}")]
    LineEnding(&'static str),
    /// The record type byte is not one the layout knows.
    #[error("unknown record type {found:?}")]
    UnknownRecordType {
        /// The record type as found (one character or a hex escape).
        found: String,
    },
    /// A known record type in a place where the layout does not allow it.
    #[error("record type {found} is not allowed here, expected {expected}")]
    UnexpectedRecord {
        /// The record type found.
        found: String,
        /// What the layout expects here.
        expected: &'static str,
    },
    /// A required record or value is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A numeric field holds something other than ASCII digits.
    #[error("expected only digits 0-9")]
    NotDigits,
    /// A filler field is not blank.
    #[error("expected spaces (filler)")]
    NotBlank,
    /// A byte that the field's character set (JIS X 0201) does not define.
    #[error("byte 0x{byte:02X} at byte {offset} is not a JIS X 0201 character")]
    InvalidByte {
        /// The byte found.
        byte: u8,
        /// Its 1-based position in the record.
        offset: usize,
    },
    /// The bytes are not valid in the configured text encoding.
    #[error("invalid {encoding} byte sequence")]
    InvalidEncoding {
        /// Name of the encoding (`UTF-8`, `Shift_JIS`, `ISO-2022-JP`).
        encoding: &'static str,
    },
    /// A character that the target character set cannot represent.
    #[error("character {ch:?} (U+{code:04X}) cannot be written in {charset}", code = u32::from(*ch))]
    Unrepresentable {
        /// The offending character; a single character is not personal data.
        ch: char,
        /// The character set that lacks it.
        charset: &'static str,
    },
    /// A value is longer than its field.
    #[error("value needs {found} bytes, the field holds {max}")]
    TooLong {
        /// Capacity of the field in bytes (or characters for CSV text columns).
        max: usize,
        /// Size needed.
        found: usize,
    },
    /// A value outside the range or form the field allows; the reason names the rule,
    /// never the value of a personal field.
    #[error("{0}")]
    InvalidValue(String),
    /// A code that is not in the list of known codes for the field.
    #[error("unknown code {found:?}")]
    UnknownCode {
        /// The code found.
        found: String,
    },
    /// A trailer total that does not match the records.
    #[error("trailer says {declared}, the records add up to {computed}")]
    TotalMismatch {
        /// Value in the trailer.
        declared: i64,
        /// Value computed from the data records.
        computed: i64,
    },
    /// The header belongs to another 委託者 (consignor) or municipality.
    #[error("file is for {found}, expected {expected}")]
    WrongOwner {
        /// The code we expected.
        expected: String,
        /// The code in the file.
        found: String,
    },
    /// A result for a key (顧客番号, barcode…) that we never sent.
    #[error("no request of ours has this key")]
    UnknownKey,
    /// The same key appears twice.
    #[error("duplicate of record {first}")]
    Duplicate {
        /// The record where the key first appeared.
        first: usize,
    },
    /// A wrong check digit.
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit {
        /// The correct check digit.
        expected: u8,
        /// The digit found.
        found: u8,
    },
    /// A CSV row has the wrong number of columns.
    #[error("row has {found} columns, expected {expected}")]
    ColumnCount {
        /// Columns in the layout.
        expected: usize,
        /// Columns found.
        found: usize,
    },
}

/// One thing wrong with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Record number, 1-based; 0 when the problem concerns the file as a whole. For
    /// CSV files the header row is record 1. For writers it is the position of the
    /// record in the caller's input list.
    pub record: usize,
    /// English field name from the layout table (see docs/formats/).
    pub field: Cow<'static, str>,
    /// Byte range or column.
    pub position: Position,
    /// The record's key (顧客番号, barcode, 宛名番号) when known: it lets staff find the
    /// person's record without the error carrying the person's name.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// Creates a problem without a key.
    pub fn new(
        record: usize,
        field: impl Into<Cow<'static, str>>,
        position: Position,
        kind: ProblemKind,
    ) -> Self {
        Self {
            record,
            field: field.into(),
            position,
            key: None,
            kind,
        }
    }

    /// Creates a problem about the whole file.
    pub fn file(kind: ProblemKind) -> Self {
        Self::new(0, "file", Position::Whole, kind)
    }

    /// Attaches the record's key.
    #[must_use]
    pub fn with_key(mut self, key: Option<String>) -> Self {
        self.key = key;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.record == 0 {
            f.write_str("file")?;
        } else {
            write!(f, "record {}", self.record)?;
        }
        write!(f, ", field {}{}", self.field, self.position)?;
        if let Some(key) = &self.key {
            write!(f, " (key {key})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// A non-empty list of problems, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none (never the case inside a [`FormatError`]).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input is above the configured size limit; nothing was read past the limit.
    #[error("input is {size} bytes, above the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input (or a lower bound when the size was unknown in advance).
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The input could not be read.
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    /// The input or the records to write break the layout.
    #[error("{n} problem(s):\n{0}", n = .0.len())]
    Invalid(Problems),
}

impl FormatError {
    /// The problems, when the error is [`FormatError::Invalid`].
    pub fn problems(&self) -> Option<&Problems> {
        match self {
            Self::Invalid(p) => Some(p),
            _ => None,
        }
    }
}

/// Turns collected problems into the all-or-nothing result.
pub(crate) fn finish<T>(value: T, problems: Vec<Problem>) -> Result<T, FormatError> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(FormatError::Invalid(Problems(problems)))
    }
}
