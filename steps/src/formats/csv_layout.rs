//! Table-driven CSV files: a file kind is a [`CsvLayout`] (a list of [`Column`]s), and one
//! reader and one writer serve every kind.
//!
//! Records are [`Record`]s (column name → [`FieldValue`]) so that a layout change is a
//! table change only. The header row must carry the Japanese column labels exactly, in
//! order; rows are numbered from 1 with the header as row 1, so the record number in an
//! error is the row a spreadsheet shows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use super::error::{FormatError, Position, Problem, ProblemKind, finish};
use super::text::TextEncoding;

/// What a column holds and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text up to `max_chars` characters, no control characters.
    Text {
        /// Maximum length in characters.
        max_chars: usize,
    },
    /// ASCII digits, `min..=max` of them (leading zeros kept: codes, numbers).
    Digits {
        /// Fewest digits.
        min: usize,
        /// Most digits.
        max: usize,
    },
    /// Yen as an integer; negative only when `signed`.
    Amount {
        /// Whether negative amounts are allowed (所得 can be negative).
        signed: bool,
    },
    /// A date written `YYYYMMDD` in the file and `YYYY-MM-DD` in JSON.
    Date,
    /// One of a fixed list of codes: `(code, meaning)`.
    Code(&'static [(&'static str, &'static str)]),
}

/// One column of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// English name: the JSON key and the field name in errors.
    pub name: &'static str,
    /// Japanese label: the header row text.
    pub label: &'static str,
    /// Content rule.
    pub kind: ColumnKind,
    /// Whether an empty cell is an error.
    pub required: bool,
}

impl Column {
    /// A required column.
    pub const fn req(name: &'static str, label: &'static str, kind: ColumnKind) -> Self {
        Self {
            name,
            label,
            kind,
            required: true,
        }
    }

    /// An optional column (empty cell → `null`).
    pub const fn opt(name: &'static str, label: &'static str, kind: ColumnKind) -> Self {
        Self {
            name,
            label,
            kind,
            required: false,
        }
    }
}

/// A CSV file kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvLayout {
    /// Kind name as used on the command line (`union-receipt` …).
    pub kind: &'static str,
    /// Japanese title.
    pub title: &'static str,
    /// Who sends the file.
    pub direction: &'static str,
    /// Columns in file order.
    pub columns: &'static [Column],
    /// Columns that together identify a record; a repeated key is an error.
    pub key: &'static [&'static str],
}

/// A typed cell value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Empty optional cell.
    Null,
    /// Text, digit strings and codes.
    Text(String),
    /// Amounts.
    Int(i64),
    /// Dates.
    Date(NaiveDate),
}

impl Serialize for FieldValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_none(),
            Self::Text(t) => s.serialize_str(t),
            Self::Int(i) => s.serialize_i64(*i),
            Self::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// One record: column name → value. Serializes as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Record(pub BTreeMap<String, FieldValue>);

impl Record {
    /// The text (or digit string, or code) of a column.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(FieldValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// The amount of a column.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.0.get(name) {
            Some(FieldValue::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// The date of a column.
    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.0.get(name) {
            Some(FieldValue::Date(d)) => Some(*d),
            _ => None,
        }
    }

    fn key(&self, layout: &CsvLayout) -> String {
        let mut k = String::new();
        for (i, name) in layout.key.iter().enumerate() {
            if i > 0 {
                k.push('/');
            }
            match self.0.get(*name) {
                Some(FieldValue::Text(t)) => k.push_str(t),
                Some(FieldValue::Int(v)) => {
                    let _ = write!(k, "{v}");
                }
                Some(FieldValue::Date(d)) => {
                    let _ = write!(k, "{}", d.format("%Y%m%d"));
                }
                _ => {}
            }
        }
        k
    }
}

/// Options for reading and writing a CSV kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// Text encoding of the file.
    pub encoding: TextEncoding,
}

/// Parses one cell according to its column. Errors carry no cell content.
fn parse_cell(col: &Column, cell: &str) -> Result<FieldValue, ProblemKind> {
    if cell.is_empty() {
        return if col.required {
            Err(ProblemKind::Missing("a value in a required column"))
        } else {
            Ok(FieldValue::Null)
        };
    }
    match col.kind {
        ColumnKind::Text { max_chars } => {
            if let Some(ch) = cell.chars().find(|c| c.is_control()) {
                return Err(ProblemKind::Unrepresentable {
                    ch,
                    charset: "a CSV text column (control characters are not allowed)",
                });
            }
            let n = cell.chars().count();
            if n > max_chars {
                return Err(ProblemKind::TooLong {
                    max: max_chars,
                    found: n,
                });
            }
            Ok(FieldValue::Text(cell.to_owned()))
        }
        ColumnKind::Digits { min, max } => {
            if !cell.bytes().all(|b| b.is_ascii_digit()) {
                Err(ProblemKind::NotDigits)
            } else if cell.len() < min || cell.len() > max {
                Err(ProblemKind::InvalidValue(if min == max {
                    format!("expected {min} digits")
                } else {
                    format!("expected {min} to {max} digits")
                }))
            } else {
                Ok(FieldValue::Text(cell.to_owned()))
            }
        }
        ColumnKind::Amount { signed } => {
            let digits = cell.strip_prefix('-').filter(|_| signed).unwrap_or(cell);
            if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(ProblemKind::InvalidValue(if signed {
                    "expected an integer amount in yen (up to 15 digits, optional '-')".into()
                } else {
                    "expected a non-negative integer amount in yen (up to 15 digits)".into()
                }));
            }
            cell.parse::<i64>()
                .map(FieldValue::Int)
                .map_err(|_| ProblemKind::InvalidValue("amount out of range".into()))
        }
        ColumnKind::Date => {
            if cell.len() != 8 || !cell.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ProblemKind::InvalidValue("expected a date YYYYMMDD".into()));
            }
            NaiveDate::parse_from_str(cell, "%Y%m%d")
                .map(FieldValue::Date)
                .map_err(|_| ProblemKind::InvalidValue("not a calendar date".into()))
        }
        ColumnKind::Code(codes) => {
            if codes.iter().any(|(c, _)| *c == cell) {
                Ok(FieldValue::Text(cell.to_owned()))
            } else {
                Err(ProblemKind::UnknownCode {
                    found: cell.chars().take(8).collect(),
                })
            }
        }
    }
}

/// Renders a value back to its cell text (the inverse of [`parse_cell`]).
fn format_value(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => String::new(),
        FieldValue::Text(t) => t.clone(),
        FieldValue::Int(i) => i.to_string(),
        FieldValue::Date(d) => d.format("%Y%m%d").to_string(),
    }
}

/// Converts one JSON value to a cell value under the column's rule.
fn json_to_cell(col: &Column, v: &serde_json::Value) -> Result<FieldValue, ProblemKind> {
    use serde_json::Value as J;
    let cell = match (v, col.kind) {
        (J::Null, _) => String::new(),
        (J::Number(n), ColumnKind::Amount { .. }) => n.to_string(),
        (J::String(s), ColumnKind::Date) => {
            // JSON carries ISO dates; the file form is also accepted.
            match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => d.format("%Y%m%d").to_string(),
                Err(_) => s.clone(),
            }
        }
        (J::String(s), _) => s.clone(),
        _ => {
            return Err(ProblemKind::InvalidValue(
                "wrong JSON type for this column".into(),
            ));
        }
    };
    parse_cell(col, &cell)
}

/// Builds records from JSON objects (as `show --format json` prints them), checking
/// every column; unknown keys are errors so that a typo is not silently dropped.
pub fn records_from_json(
    layout: &CsvLayout,
    rows: &[serde_json::Value],
) -> Result<Vec<Record>, FormatError> {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let no = i + 1;
        let Some(obj) = row.as_object() else {
            problems.push(Problem::new(
                no,
                "record",
                Position::Whole,
                ProblemKind::InvalidValue("expected a JSON object".into()),
            ));
            continue;
        };
        for k in obj.keys() {
            if !layout.columns.iter().any(|c| c.name == k) {
                problems.push(Problem::new(
                    no,
                    k.clone(),
                    Position::Whole,
                    ProblemKind::InvalidValue("unknown column".into()),
                ));
            }
        }
        let mut rec = Record::default();
        for (ci, col) in layout.columns.iter().enumerate() {
            let v = obj.get(col.name).unwrap_or(&serde_json::Value::Null);
            match json_to_cell(col, v) {
                Ok(val) => {
                    rec.0.insert(col.name.to_owned(), val);
                }
                Err(kind) => problems.push(Problem::new(
                    no,
                    col.name,
                    Position::Column { column: ci + 1 },
                    kind,
                )),
            }
        }
        out.push(rec);
    }
    finish(out, problems)
}

fn line_of_offset(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Reads a CSV file of the given kind: every row or every problem.
pub fn read(
    layout: &CsvLayout,
    input: &[u8],
    opts: &CsvOptions,
) -> Result<Vec<Record>, FormatError> {
    let text = match opts.encoding.decode(input) {
        Ok(t) => t,
        Err(offset) => {
            return finish(
                Vec::new(),
                vec![Problem::new(
                    line_of_offset(input, offset),
                    "file",
                    Position::Whole,
                    ProblemKind::InvalidEncoding {
                        encoding: opts.encoding.name(),
                    },
                )],
            );
        }
    };
    if text.trim().is_empty() {
        return finish(Vec::new(), vec![Problem::file(ProblemKind::Empty)]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut header_seen = false;
    for (i, row) in reader.records().enumerate() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i + 1, |p| p.record() as usize + 1);
                problems.push(Problem::new(
                    line,
                    "record",
                    Position::Whole,
                    ProblemKind::InvalidValue("malformed CSV row".into()),
                ));
                continue;
            }
        };
        // Record number = row number, header row 1 (equal to the line number unless a
        // quoted cell contains a line break).
        let no = row.position().map_or(i + 1, |p| p.record() as usize + 1);
        if !header_seen {
            header_seen = true;
            let labels: Vec<&str> = layout.columns.iter().map(|c| c.label).collect();
            let found: Vec<&str> = row.iter().collect();
            if found != labels {
                problems.push(Problem::new(
                    no,
                    "header",
                    Position::Whole,
                    ProblemKind::InvalidValue(format!("header row must be: {}", labels.join(","))),
                ));
            }
            continue;
        }
        if row.len() != layout.columns.len() {
            problems.push(Problem::new(
                no,
                "record",
                Position::Whole,
                ProblemKind::ColumnCount {
                    expected: layout.columns.len(),
                    found: row.len(),
                },
            ));
            continue;
        }
        let mut rec = Record::default();
        let mut ok = true;
        for (ci, (col, cell)) in layout.columns.iter().zip(row.iter()).enumerate() {
            match parse_cell(col, cell) {
                Ok(v) => {
                    rec.0.insert(col.name.to_owned(), v);
                }
                Err(kind) => {
                    ok = false;
                    problems.push(Problem::new(
                        no,
                        col.name,
                        Position::Column { column: ci + 1 },
                        kind,
                    ));
                }
            }
        }
        if ok {
            if !layout.key.is_empty() {
                let key = rec.key(layout);
                if let Some(first) = seen.get(&key) {
                    problems.push(
                        Problem::new(
                            no,
                            layout.key.join("+"),
                            Position::Whole,
                            ProblemKind::Duplicate { first: *first },
                        )
                        .with_key(Some(key)),
                    );
                } else {
                    seen.insert(key, no);
                }
            }
            out.push(rec);
        }
    }
    if !header_seen {
        problems.push(Problem::file(ProblemKind::Missing("header row")));
    }
    finish(out, problems)
}

/// Writes records as a CSV file (header row of labels, CRLF line ends), checking every
/// value and the encoding; `records` positions are the record numbers in errors.
pub fn write(
    layout: &CsvLayout,
    records: &[Record],
    opts: &CsvOptions,
) -> Result<Vec<u8>, FormatError> {
    let mut problems = Vec::new();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let labels: Vec<&str> = layout.columns.iter().map(|c| c.label).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(records.len());
    for (i, rec) in records.iter().enumerate() {
        let no = i + 1;
        for k in rec.0.keys() {
            if !layout.columns.iter().any(|c| c.name == k) {
                problems.push(Problem::new(
                    no,
                    k.clone(),
                    Position::Whole,
                    ProblemKind::InvalidValue("unknown column".into()),
                ));
            }
        }
        let mut row = Vec::with_capacity(layout.columns.len());
        for (ci, col) in layout.columns.iter().enumerate() {
            let cell = format_value(rec.0.get(col.name).unwrap_or(&FieldValue::Null));
            // Re-parse the rendered cell: the writer accepts exactly what the reader does.
            if let Err(kind) = parse_cell(col, &cell) {
                problems.push(Problem::new(
                    no,
                    col.name,
                    Position::Column { column: ci + 1 },
                    kind,
                ));
            } else if let Err(ch) = opts.encoding.encode(&cell) {
                problems.push(Problem::new(
                    no,
                    col.name,
                    Position::Column { column: ci + 1 },
                    ProblemKind::Unrepresentable {
                        ch,
                        charset: opts.encoding.name(),
                    },
                ));
            }
            row.push(cell);
        }
        if !layout.key.is_empty() && !seen.insert(rec.key(layout)) {
            problems.push(Problem::new(
                no,
                layout.key.join("+"),
                Position::Whole,
                ProblemKind::InvalidValue("the same key appears earlier in the input".into()),
            ));
        }
        rows.push(row);
    }
    if !problems.is_empty() {
        return finish(Vec::new(), problems);
    }
    let io = |e: csv::Error| FormatError::Io(std::io::Error::other(e.to_string()));
    w.write_record(&labels).map_err(io)?;
    for row in &rows {
        w.write_record(row).map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| FormatError::Io(std::io::Error::other(e.to_string())))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| FormatError::Io(std::io::Error::other(e.to_string())))?;
    opts.encoding.encode(&text).map_err(|ch| {
        // Header labels are ours and always encodable; reaching this is a layout bug.
        FormatError::Invalid(super::error::Problems(vec![Problem::file(
            ProblemKind::Unrepresentable {
                ch,
                charset: opts.encoding.name(),
            },
        )]))
    })
}
