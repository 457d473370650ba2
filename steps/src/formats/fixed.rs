//! Fixed-width records: field tables, record framing, and field-level reading and writing
//! that collect problems instead of stopping at the first one.
//!
//! Used by the 全銀 (120-byte) and 年金特別徴収 (500-byte) formats. A layout is a `const`
//! table of [`Field`]s; tests check that each table is contiguous and covers the record.

use serde::{Deserialize, Serialize};

use super::error::{Position, Problem, ProblemKind};
use super::text::{
    JIS_X0208_SPACE, jis_x0201_decode, jis_x0201_encode, jis_x0208_decode, jis_x0208_encode,
};

/// How a field's bytes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `N`: ASCII digits, right-aligned, zero-filled.
    Digits,
    /// `C`: JIS X 0201 characters, left-aligned, space-filled.
    Text,
    /// Double-byte JIS X 0208 characters, padded with the double-byte space.
    Kanji,
    /// Filler (ダミー / 予備): spaces.
    Filler,
    /// Constant bytes (record type, shift codes).
    Constant(&'static [u8]),
}

/// One field of a fixed-width layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// English name, used in errors and JSON.
    pub name: &'static str,
    /// Japanese name as the specification prints it.
    pub label: &'static str,
    /// First byte, 1-based.
    pub start: usize,
    /// Length in bytes.
    pub len: usize,
    /// Interpretation.
    pub kind: FieldKind,
}

impl Field {
    /// Creates a field.
    pub const fn new(
        name: &'static str,
        label: &'static str,
        start: usize,
        len: usize,
        kind: FieldKind,
    ) -> Self {
        Self {
            name,
            label,
            start,
            len,
            kind,
        }
    }

    /// Byte position for error messages.
    pub fn position(&self) -> Position {
        Position::Bytes {
            start: self.start,
            end: self.start + self.len - 1,
        }
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.start - 1..self.start - 1 + self.len
    }
}

/// Checks that a layout table is contiguous from byte 1 and exactly `record_len` long.
/// Returns the first gap or overlap as text; used by the layout tests.
pub fn check_layout(fields: &[Field], record_len: usize) -> Result<(), String> {
    let mut next = 1;
    for f in fields {
        if f.start != next {
            return Err(format!("{} starts at {}, expected {next}", f.name, f.start));
        }
        if f.len == 0 {
            return Err(format!("{} has length 0", f.name));
        }
        if let FieldKind::Constant(c) = f.kind
            && c.len() != f.len
        {
            return Err(format!("{} constant has the wrong length", f.name));
        }
        next += f.len;
    }
    if next - 1 != record_len {
        return Err(format!(
            "layout covers {} bytes, expected {record_len}",
            next - 1
        ));
    }
    Ok(())
}

/// What separates records in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnding {
    /// Records follow each other with no separator (the 全銀 canonical form).
    None,
    /// CR LF after every record (most banks' "改行あり").
    #[default]
    Crlf,
    /// LF after every record (some banks reject it; accepted on input).
    Lf,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::None => b"",
            Self::Crlf => b"\r\n",
            Self::Lf => b"\n",
        }
    }
}

/// How records are laid out in an output file; configurable per bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStyle {
    /// Separator after each record.
    #[serde(default)]
    pub line_ending: LineEnding,
    /// Append an EOF byte 0x1A after the last record (MS-DOS convention some banks keep).
    #[serde(default)]
    pub eof: bool,
}

/// Joins records into a file in the given style.
pub fn join_records(records: &[Vec<u8>], style: RecordStyle) -> Vec<u8> {
    let sep = style.line_ending.bytes();
    let total: usize = records.iter().map(|r| r.len() + sep.len()).sum();
    let mut out = Vec::with_capacity(total + 1);
    for r in records {
        out.extend_from_slice(r);
        out.extend_from_slice(sep);
    }
    if style.eof {
        out.push(0x1A);
    }
    out
}

/// Splits a file into records of `record_len` bytes.
///
/// Accepted: no separators, CR LF or LF after every record (the last one may lack it),
/// and one trailing EOF byte 0x1A. Every wrong-length record is reported, not just the
/// first. A CR or LF byte can never be part of a JIS X 0201 field, so splitting on them
/// cannot cut a valid record.
pub fn split_records(input: &[u8], record_len: usize) -> Result<Vec<&[u8]>, Vec<Problem>> {
    let input = input.strip_suffix(&[0x1A]).unwrap_or(input);
    if input.is_empty() {
        return Err(vec![Problem::file(ProblemKind::Empty)]);
    }
    let mut problems = Vec::new();
    let mut records = Vec::new();
    if input.contains(&b'\n') || input.contains(&b'\r') {
        let body = input.strip_suffix(b"\n").unwrap_or(input);
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            let no = i + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.contains(&b'\r') {
                problems.push(Problem::new(
                    no,
                    "record",
                    Position::Whole,
                    ProblemKind::LineEnding("bare CR inside a record"),
                ));
            } else if line.len() != record_len {
                problems.push(Problem::new(
                    no,
                    "record",
                    Position::Whole,
                    ProblemKind::RecordLength {
                        expected: record_len,
                        found: line.len(),
                    },
                ));
            } else {
                records.push(line);
            }
        }
    } else {
        let mut chunks = input.chunks_exact(record_len);
        records.extend(chunks.by_ref());
        let rest = chunks.remainder();
        if !rest.is_empty() {
            problems.push(Problem::new(
                records.len() + 1,
                "record",
                Position::Whole,
                ProblemKind::Truncated {
                    expected: record_len,
                    found: rest.len(),
                },
            ));
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

/// Renders a record type byte for messages without echoing arbitrary binary.
pub fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        char::from(b).to_string()
    } else {
        format!("0x{b:02X}")
    }
}

/// Reads the fields of one record, collecting problems.
pub struct FieldReader<'a> {
    rec: &'a [u8],
    no: usize,
    key: Option<String>,
    problems: &'a mut Vec<Problem>,
}

impl<'a> FieldReader<'a> {
    /// Starts reading record `no` (1-based).
    pub fn new(rec: &'a [u8], no: usize, problems: &'a mut Vec<Problem>) -> Self {
        Self {
            rec,
            no,
            key: None,
            problems,
        }
    }

    /// Attaches a key (顧客番号 …) to problems reported from now on.
    pub fn set_key(&mut self, key: Option<String>) {
        self.key = key;
    }

    /// Reports a problem for a field.
    pub fn report(&mut self, f: &Field, kind: ProblemKind) {
        self.problems
            .push(Problem::new(self.no, f.name, f.position(), kind).with_key(self.key.clone()));
    }

    fn raw(&self, f: &Field) -> &'a [u8] {
        &self.rec[f.range()]
    }

    /// An `N` field as a digit string (leading zeros kept).
    pub fn digits(&mut self, f: &Field) -> Option<String> {
        let raw = self.raw(f);
        if raw.iter().all(u8::is_ascii_digit) {
            Some(String::from_utf8_lossy(raw).into_owned())
        } else {
            self.report(f, ProblemKind::NotDigits);
            None
        }
    }

    /// An `N` field that may also be all spaces (returned as an empty string).
    pub fn digits_or_blank(&mut self, f: &Field) -> Option<String> {
        if self.raw(f).iter().all(|b| *b == b' ') {
            Some(String::new())
        } else {
            self.digits(f)
        }
    }

    /// An `N` field as a number.
    pub fn number(&mut self, f: &Field) -> Option<i64> {
        // At most 18 digits fit in i64; layouts never use wider numeric fields.
        self.digits(f).and_then(|d| d.parse::<i64>().ok())
    }

    /// A `C` field decoded from JIS X 0201, trailing spaces removed.
    pub fn text(&mut self, f: &Field) -> Option<String> {
        let raw = self.raw(f);
        let mut out = String::with_capacity(raw.len() * 3);
        for (i, b) in raw.iter().enumerate() {
            match jis_x0201_decode(*b) {
                Some(ch) => out.push(ch),
                None => {
                    self.report(
                        f,
                        ProblemKind::InvalidByte {
                            byte: *b,
                            offset: f.start + i,
                        },
                    );
                    return None;
                }
            }
        }
        Some(out.trim_end_matches(' ').to_owned())
    }

    /// A double-byte JIS X 0208 field, trailing double-byte spaces removed.
    pub fn kanji(&mut self, f: &Field) -> Option<String> {
        let raw = self.raw(f);
        // A field left blank with single-byte spaces is also accepted as empty.
        if raw.iter().all(|b| *b == b' ') {
            return Some(String::new());
        }
        match jis_x0208_decode(raw) {
            Ok(s) => Some(s.trim_end_matches('\u{3000}').to_owned()),
            Err(_) => {
                self.report(
                    f,
                    ProblemKind::InvalidEncoding {
                        encoding: "JIS X 0208",
                    },
                );
                None
            }
        }
    }

    /// A filler field: must be spaces.
    pub fn filler(&mut self, f: &Field) {
        if !self.raw(f).iter().all(|b| *b == b' ') {
            self.report(f, ProblemKind::NotBlank);
        }
    }

    /// A constant field.
    pub fn constant(&mut self, f: &Field, expected: &'static [u8]) {
        if self.raw(f) != expected {
            let found = self.raw(f).iter().map(|b| show_byte(*b)).collect();
            self.report(f, ProblemKind::UnknownCode { found });
        }
    }

    /// Reads every filler and constant field of a layout.
    pub fn check_fixed_parts(&mut self, layout: &[Field]) {
        for f in layout {
            match f.kind {
                FieldKind::Filler => self.filler(f),
                FieldKind::Constant(c) => self.constant(f, c),
                _ => {}
            }
        }
    }
}

/// Builds one record, collecting problems.
pub struct FieldWriter<'a> {
    buf: Vec<u8>,
    no: usize,
    key: Option<String>,
    problems: &'a mut Vec<Problem>,
}

impl<'a> FieldWriter<'a> {
    /// Starts a space-filled record; `no` is the record's position in the caller's input.
    pub fn new(len: usize, no: usize, key: Option<String>, problems: &'a mut Vec<Problem>) -> Self {
        Self {
            buf: vec![b' '; len],
            no,
            key,
            problems,
        }
    }

    /// Reports a problem for a field.
    pub fn report(&mut self, f: &Field, kind: ProblemKind) {
        self.problems
            .push(Problem::new(self.no, f.name, f.position(), kind).with_key(self.key.clone()));
    }

    fn put(&mut self, f: &Field, bytes: &[u8]) {
        let r = f.range();
        self.buf[r.start..r.start + bytes.len()].copy_from_slice(bytes);
    }

    /// Writes a digit string: right-aligned and zero-filled; it must not exceed the field.
    pub fn digits(&mut self, f: &Field, value: &str) {
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            self.report(f, ProblemKind::NotDigits);
        } else if value.len() > f.len {
            self.report(
                f,
                ProblemKind::TooLong {
                    max: f.len,
                    found: value.len(),
                },
            );
        } else {
            let padded = format!("{value:0>width$}", width = f.len);
            self.put(f, padded.as_bytes());
        }
    }

    /// Writes a code that must have exactly the field's number of digits.
    pub fn exact_digits(&mut self, f: &Field, value: &str) {
        if value.len() != f.len || !value.bytes().all(|b| b.is_ascii_digit()) {
            self.report(
                f,
                ProblemKind::InvalidValue(format!("expected exactly {} digits", f.len)),
            );
        } else {
            self.put(f, value.as_bytes());
        }
    }

    /// Writes a non-negative number, right-aligned and zero-filled.
    pub fn number(&mut self, f: &Field, value: i64) {
        if value < 0 {
            self.report(
                f,
                ProblemKind::InvalidValue("negative amounts cannot be written".into()),
            );
        } else {
            self.digits(f, &value.to_string());
        }
    }

    /// Writes text already in the field's character set (JIS X 0201).
    pub fn text(&mut self, f: &Field, value: &str) {
        let mut bytes = Vec::with_capacity(value.len());
        for ch in value.chars() {
            match jis_x0201_encode(ch) {
                Some(b) => bytes.push(b),
                None => {
                    self.report(
                        f,
                        ProblemKind::Unrepresentable {
                            ch,
                            charset: "JIS X 0201",
                        },
                    );
                    return;
                }
            }
        }
        if bytes.len() > f.len {
            self.report(
                f,
                ProblemKind::TooLong {
                    max: f.len,
                    found: bytes.len(),
                },
            );
        } else {
            self.put(f, &bytes);
        }
    }

    /// Writes double-byte JIS X 0208 text padded with the double-byte space.
    pub fn kanji(&mut self, f: &Field, value: &str) {
        match jis_x0208_encode(value) {
            Err(ch) => self.report(
                f,
                ProblemKind::Unrepresentable {
                    ch,
                    charset: "JIS X 0208",
                },
            ),
            Ok(bytes) if bytes.len() > f.len => self.report(
                f,
                ProblemKind::TooLong {
                    max: f.len,
                    found: bytes.len(),
                },
            ),
            Ok(mut bytes) => {
                while bytes.len() + 2 <= f.len {
                    bytes.extend_from_slice(&JIS_X0208_SPACE);
                }
                self.put(f, &bytes);
            }
        }
    }

    /// Writes every constant field of a layout (fillers are already spaces).
    pub fn fixed_parts(&mut self, layout: &[Field]) {
        for f in layout {
            if let FieldKind::Constant(c) = f.kind {
                self.put(f, c);
            }
        }
    }

    /// Returns the finished record.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_accepts_all_framings() {
        let rec = [b'1'; 4];
        let plain = [rec, rec].concat();
        let crlf = [&rec[..], b"\r\n", &rec, b"\r\n", b"\x1A"].concat();
        let lf_last_missing = [&rec[..], b"\n", &rec].concat();
        for input in [&plain, &crlf, &lf_last_missing] {
            assert_eq!(split_records(input, 4).unwrap().len(), 2);
        }
    }

    #[test]
    fn split_reports_every_bad_record() {
        let input = b"1111\r\n111\r\n11111\r\n1111\r\n";
        let problems = split_records(input, 4).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].record, 2);
        assert_eq!(problems[1].record, 3);
        let truncated = split_records(b"11111", 4).unwrap_err();
        assert_eq!(
            truncated[0].kind,
            ProblemKind::Truncated {
                expected: 4,
                found: 1
            }
        );
        assert_eq!(truncated[0].record, 2);
        assert_eq!(
            split_records(b"\x1A", 4).unwrap_err()[0].kind,
            ProblemKind::Empty
        );
        assert!(matches!(
            split_records(b"1111\r1111", 4).unwrap_err()[0].kind,
            ProblemKind::LineEnding(_)
        ));
    }
}
