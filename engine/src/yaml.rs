//! A YAML tree that remembers where every value came from, and a reader that checks a
//! mapping against the fields it may hold while collecting every problem.
//!
//! We parse with `granit-parser` (pure Rust, no `unsafe`, the parser behind serde-saphyr)
//! and build our own tree instead of going through serde: serde stops at the first error,
//! while analysts need every problem of a file in one run, each with its exact span.
//!
//! Files people edit are untrusted input: the tree refuses aliases and anchors (no "billion
//! laughs"), tags, duplicate keys, documents deeper than [`MAX_DEPTH`] and more than
//! [`MAX_NODES`] values, and never panics.

use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

use crate::diagnostic::{Diagnostic, SourceFile, Span, did_you_mean};

/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars, mappings, sequences) accepted in one document.
pub const MAX_NODES: usize = 200_000;
/// Largest file accepted, in bytes; flow and settings files are a few kilobytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Codes of problems found while reading YAML, shared by every kind of file.
pub mod codes {
    /// The YAML is not well formed.
    pub const SYNTAX: &str = "YAML0001";
    /// The file cannot be used at all: not UTF-8, empty, too large, several documents.
    pub const FILE: &str = "YAML0002";
    /// Anchors, aliases or tags are used.
    pub const UNSUPPORTED: &str = "YAML0003";
    /// A key appears twice in one mapping.
    pub const DUPLICATE_KEY: &str = "YAML0004";
    /// A mapping holds a field that is not allowed there.
    pub const UNKNOWN_FIELD: &str = "YAML0005";
    /// A required field is missing.
    pub const MISSING_FIELD: &str = "YAML0006";
    /// A value has the wrong type.
    pub const WRONG_TYPE: &str = "YAML0007";
    /// A value is not one of the allowed values.
    pub const INVALID_VALUE: &str = "YAML0008";
    /// The document is nested too deeply or has too many values.
    pub const TOO_COMPLEX: &str = "YAML0009";
}

/// A value of the tree with its source span.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// The kinds of YAML values, with scalars resolved by the YAML 1.2 core schema.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A number with a fraction or exponent, kept as written: we never compute with floats.
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// Returns the name of the value's type as users know it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) => "an integer",
            Self::Float(_) => "a decimal number",
            Self::Str(_) => "a string",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// Returns the string if the node is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Decodes bytes as UTF-8 and parses them as one YAML document.
///
/// Returns the source file (for later diagnostics) and the tree, or every problem found.
pub fn parse_bytes(path: &str, bytes: &[u8]) -> (Arc<SourceFile>, Result<Node, Vec<Diagnostic>>) {
    if bytes.len() > MAX_FILE_BYTES {
        let file = SourceFile::new(path, String::new());
        let diag = Diagnostic::error(
            codes::FILE,
            &file,
            Span::default(),
            format!(
                "the file is {} bytes long; at most {MAX_FILE_BYTES} bytes are accepted",
                bytes.len()
            ),
        )
        .with_help("split the flow into several files, or check that this is the right file");
        return (file, Err(vec![diag]));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let file = SourceFile::new(path, text);
            let tree = parse(&file);
            (file, tree)
        }
        Err(err) => {
            let valid = err.valid_up_to();
            // Keep the valid prefix so the location can be shown with its line.
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let file = SourceFile::new(path, text);
            let diag = Diagnostic::error(
                codes::FILE,
                &file,
                Span::new(valid, valid),
                format!("the file is not valid UTF-8 (invalid byte at offset {valid})"),
            )
            .with_help("save the file as UTF-8; Shift_JIS files must be converted first");
            (file, Err(vec![diag]))
        }
    }
}

/// Parses the text of a source file as one YAML document.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        documents: 0,
        root: None,
        nodes: 0,
        diagnostics: Vec::new(),
    };
    for item in Parser::new_from_str(file.text()) {
        match item {
            Ok((event, span)) => {
                let span = builder.span(span.start, span.end);
                if builder.event(event, span).is_err() {
                    break;
                }
            }
            Err(err) => {
                builder.diagnostics.push(syntax_error(file, &err));
                break;
            }
        }
    }
    if builder.diagnostics.is_empty() {
        match builder.root {
            Some(root) => return Ok(root),
            None => {
                let end = file.text().len();
                builder.diagnostics.push(
                    Diagnostic::error(
                        codes::FILE,
                        file,
                        Span::new(end, end),
                        "the file holds no YAML document",
                    )
                    .with_help("a flow file starts with `id:`, `title:` and the other fields of docs/flow-format.md"),
                );
            }
        }
    }
    Err(builder.diagnostics)
}

fn syntax_error(file: &Arc<SourceFile>, err: &ScanError) -> Diagnostic {
    let marker = err.marker();
    let offset = marker
        .byte_offset()
        .unwrap_or_else(|| char_to_byte(file.text(), marker.index()));
    Diagnostic::error(
        codes::SYNTAX,
        file,
        Span::new(offset, offset),
        format!("invalid YAML: {}", err.info()),
    )
    .with_help("check the indentation and the `:` and `-` before this point")
}

fn char_to_byte(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(b, _)| b)
}

enum Frame {
    Seq {
        start: Span,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    stack: Vec<Frame>,
    documents: usize,
    root: Option<Node>,
    nodes: usize,
    diagnostics: Vec<Diagnostic>,
}

/// Marks that building stopped; the reason is in the diagnostics.
struct Stop;

impl Builder<'_> {
    fn span(&self, start: granit_parser::Marker, end: granit_parser::Marker) -> Span {
        let text = self.file.text();
        let s = start
            .byte_offset()
            .unwrap_or_else(|| char_to_byte(text, start.index()));
        let e = end
            .byte_offset()
            .unwrap_or_else(|| char_to_byte(text, end.index()));
        Span::new(s.min(text.len()), e.clamp(s, text.len()))
    }

    fn fail(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        help: &str,
    ) -> Stop {
        self.diagnostics
            .push(Diagnostic::error(code, self.file, span, message).with_help(help));
        Stop
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Stop> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.fail(
                        codes::FILE,
                        span,
                        "the file holds more than one YAML document",
                        "keep one flow per file; remove the `---` line",
                    ));
                }
                Ok(())
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => Err(self.fail(
                codes::UNSUPPORTED,
                span,
                "aliases (`*name`) are not allowed",
                "write the value out in full; anchors and aliases are refused to keep files readable and safe",
            )),
            // Anchor metadata is only emitted on request, comments carry no data, and the
            // event type is non-exhaustive: everything else is presentation we ignore.
            Event::Anchor(..) => Ok(()),
            Event::Scalar(text, style, anchor, tag) => {
                self.check_properties(anchor, tag.is_some(), span)?;
                let value = resolve_scalar(&text, style);
                self.push(Node { value, span })
            }
            Event::SequenceStart(_, anchor, tag) => {
                self.check_properties(anchor, tag.is_some(), span)?;
                self.open(span)?;
                self.stack.push(Frame::Seq {
                    start: span,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(_, anchor, tag) => {
                self.check_properties(anchor, tag.is_some(), span)?;
                self.open(span)?;
                self.stack.push(Frame::Map {
                    start: span,
                    entries: Vec::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { start, items }) => {
                    let span = Span::new(start.start, span.end.max(start.end));
                    self.push(Node {
                        value: Value::Seq(items),
                        span,
                    })
                }
                _ => Err(self.fail(codes::SYNTAX, span, "unbalanced sequence end", "")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map { start, entries, .. }) => {
                    let span = Span::new(start.start, span.end.max(start.end));
                    self.check_duplicates(&entries);
                    self.push(Node {
                        value: Value::Map(entries),
                        span,
                    })
                }
                _ => Err(self.fail(codes::SYNTAX, span, "unbalanced mapping end", "")),
            },
            _ => Ok(()),
        }
    }

    fn check_properties(&mut self, anchor: usize, tagged: bool, span: Span) -> Result<(), Stop> {
        if anchor != 0 {
            return Err(self.fail(
                codes::UNSUPPORTED,
                span,
                "anchors (`&name`) are not allowed",
                "write the value out in full; anchors and aliases are refused to keep files readable and safe",
            ));
        }
        if tagged {
            return Err(self.fail(
                codes::UNSUPPORTED,
                span,
                "tags (`!name`) are not allowed",
                "remove the tag; values are typed by the field they belong to",
            ));
        }
        Ok(())
    }

    fn open(&mut self, span: Span) -> Result<(), Stop> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.fail(
                codes::TOO_COMPLEX,
                span,
                format!("the document is nested more than {MAX_DEPTH} levels deep"),
                "flow files need only a few levels; check for a runaway indentation or bracket",
            ));
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), Stop> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.fail(
                codes::TOO_COMPLEX,
                node.span,
                format!("the document holds more than {MAX_NODES} values"),
                "split the file; a flow has at most a few hundred nodes",
            ));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, key, .. }) => {
                match key.take() {
                    None => {
                        if !matches!(
                            node.value,
                            Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::Null
                        ) {
                            let span = node.span;
                            return Err(self.fail(
                                codes::WRONG_TYPE,
                                span,
                                "a mapping key must be a plain word",
                                "keys such as `id:` or `next:` are written as plain text",
                            ));
                        }
                        *key = Some(node);
                    }
                    Some(k) => entries.push((k, node)),
                }
                Ok(())
            }
        }
    }

    fn check_duplicates(&mut self, entries: &[(Node, Node)]) {
        for (i, (key, _)) in entries.iter().enumerate() {
            let name = key_text(key);
            if let Some((first, _)) = entries[..i].iter().find(|(k, _)| key_text(k) == name) {
                self.diagnostics.push(
                    Diagnostic::error(
                        codes::DUPLICATE_KEY,
                        self.file,
                        key.span,
                        format!("the key `{name}` appears twice in this mapping"),
                    )
                    .with_label("second occurrence")
                    .with_related(first.span, "first occurrence")
                    .with_help("remove one of them; YAML keeps only one value per key"),
                );
            }
        }
    }
}

/// Returns the text of a key as written (keys are scalars).
pub fn key_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) | Value::Float(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// Resolves a scalar by the YAML 1.2 core schema; quoted and block scalars are strings.
fn resolve_scalar(text: &str, style: ScalarStyle) -> Value {
    if !matches!(style, ScalarStyle::Plain) {
        return Value::Str(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let int = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Value::Int(sign * i);
    }
    let looks_float = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.contains(['.', 'e', 'E'])
        && digits.parse::<f64>().is_ok();
    if looks_float || matches!(digits, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return Value::Float(text.to_owned());
    }
    Value::Str(text.to_owned())
}

/// Reads the fields of one mapping, recording what is wrong instead of stopping.
///
/// Each accessor marks its key as known; [`MapReader::finish`] then reports every key
/// that no accessor asked for, with a "did you mean" for near misses.
pub struct MapReader<'a> {
    file: &'a Arc<SourceFile>,
    node: &'a Node,
    entries: &'a [(Node, Node)],
    known: Vec<&'static str>,
    /// What the mapping is, for messages: "node `check`", "the flow".
    what: String,
}

impl<'a> MapReader<'a> {
    /// Starts reading a node that should be a mapping; reports and returns `None` otherwise.
    pub fn new(
        file: &'a Arc<SourceFile>,
        node: &'a Node,
        what: impl Into<String>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Self> {
        let what = what.into();
        match &node.value {
            Value::Map(entries) => Some(Self {
                file,
                node,
                entries,
                known: Vec::new(),
                what,
            }),
            other => {
                diags.push(
                    Diagnostic::error(
                        codes::WRONG_TYPE,
                        file,
                        node.span,
                        format!(
                            "{what} must be a mapping of fields, not {}",
                            other.type_name()
                        ),
                    )
                    .with_label("expected `field: value` lines here"),
                );
                None
            }
        }
    }

    /// Returns the span of the whole mapping.
    pub fn span(&self) -> Span {
        self.node.span
    }

    /// Names the mapping for later messages, once its id is known ("node `check`").
    pub fn what_is(&mut self, what: impl Into<String>) {
        self.what = what.into();
    }

    /// Returns what the mapping is, as used in messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Returns the file being read.
    pub fn file(&self) -> &'a Arc<SourceFile> {
        self.file
    }

    /// Returns the key and value of a field, marking the field as known.
    pub fn get(&mut self, name: &'static str) -> Option<(&'a Node, &'a Node)> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(k, v)| (k, v))
    }

    /// Returns a field's value; reports it missing when absent.
    pub fn required(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<&'a Node> {
        match self.get(name) {
            Some((_, v)) => Some(v),
            None => {
                diags.push(self.missing(name));
                None
            }
        }
    }

    /// Returns a field's value when present.
    pub fn optional(&mut self, name: &'static str) -> Option<&'a Node> {
        self.get(name).map(|(_, v)| v)
    }

    fn missing(&self, name: &str) -> Diagnostic {
        // Point at the mapping's first key so the underline stays on one line.
        let span = self.entries.first().map_or(self.node.span, |(k, _)| k.span);
        Diagnostic::error(
            codes::MISSING_FIELD,
            self.file,
            span,
            format!("{} has no `{name}` field", self.what),
        )
        .with_label(format!("`{name}` is required here"))
        .with_help(format!("add `{name}:` to {}", self.what))
    }

    /// Returns a required string field.
    pub fn required_str(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        let node = self.required(name, diags)?;
        string(self.file, node, name, diags)
    }

    /// Returns an optional string field.
    pub fn optional_str(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        let node = self.optional(name)?;
        string(self.file, node, name, diags)
    }

    /// Returns an optional boolean field.
    pub fn optional_bool(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<bool>> {
        let node = self.optional(name)?;
        match node.value {
            Value::Bool(b) => Some(Spanned::new(b, node.span)),
            ref other => {
                diags.push(wrong_type(
                    self.file,
                    node,
                    name,
                    "`true` or `false`",
                    other,
                ));
                None
            }
        }
    }

    /// Returns an optional non-negative integer field.
    pub fn optional_u32(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<u32>> {
        let node = self.optional(name)?;
        unsigned(self.file, node, name, diags)
    }

    /// Returns a required non-negative integer field.
    pub fn required_u32(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<u32>> {
        let node = self.required(name, diags)?;
        unsigned(self.file, node, name, diags)
    }

    /// Returns the items of an optional list field (a missing list is empty).
    pub fn optional_seq(&mut self, name: &'static str, diags: &mut Vec<Diagnostic>) -> &'a [Node] {
        match self.optional(name) {
            None => &[],
            Some(node) => seq(self.file, node, name, diags),
        }
    }

    /// Returns the items of a required list field.
    pub fn required_seq(&mut self, name: &'static str, diags: &mut Vec<Diagnostic>) -> &'a [Node] {
        match self.required(name, diags) {
            None => &[],
            Some(node) => seq(self.file, node, name, diags),
        }
    }

    /// Returns a list of strings (a missing list is empty).
    pub fn optional_str_list(
        &mut self,
        name: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Spanned<String>> {
        self.optional_seq(name, diags)
            .iter()
            .filter_map(|item| string(self.file, item, name, diags))
            .collect()
    }

    /// Accepts every field without reading it: used when the mapping's kind is unknown,
    /// so that one misspelt kind does not also flag each of its fields.
    pub fn accept_rest(&mut self) {
        self.known.clear();
        self.entries = &[];
    }

    /// Reports every field that no accessor asked for.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) {
        for (key, _) in self.entries {
            let name = key_text(key);
            if self.known.iter().any(|k| *k == name) {
                continue;
            }
            let help = did_you_mean(&name, self.known.iter().copied()).unwrap_or_else(|| {
                format!("the fields allowed here are: {}", self.known.join(", "))
            });
            diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_FIELD,
                    self.file,
                    key.span,
                    format!("{} has an unknown field `{name}`", self.what),
                )
                .with_label("not a field of this mapping")
                .with_help(help),
            );
        }
    }
}

/// A value with the span it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a value with its span.
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Reports a value of the wrong type for a field.
pub fn wrong_type(
    file: &Arc<SourceFile>,
    node: &Node,
    field: &str,
    expected: &str,
    found: &Value,
) -> Diagnostic {
    let mut diag = Diagnostic::error(
        codes::WRONG_TYPE,
        file,
        node.span,
        format!("`{field}` must be {expected}, not {}", found.type_name()),
    )
    .with_label(format!("expected {expected}"));
    if matches!(found, Value::Int(_) | Value::Float(_)) && expected.contains("string") {
        diag = diag.with_help("put the value in quotes: YAML reads unquoted digits as a number");
    }
    diag
}

/// Reads a node as a string.
pub fn string(
    file: &Arc<SourceFile>,
    node: &Node,
    field: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<String>> {
    match &node.value {
        Value::Str(s) => Some(Spanned::new(s.clone(), node.span)),
        other => {
            diags.push(wrong_type(file, node, field, "a string", other));
            None
        }
    }
}

/// Reads a node as a non-negative integer that fits in `u32`.
pub fn unsigned(
    file: &Arc<SourceFile>,
    node: &Node,
    field: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<u32>> {
    match node.value {
        Value::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => Some(Spanned::new(
            u32::try_from(i).unwrap_or(u32::MAX),
            node.span,
        )),
        ref other => {
            diags.push(wrong_type(file, node, field, "a whole number ≥ 0", other));
            None
        }
    }
}

/// Reads a node as a list.
pub fn seq<'a>(
    file: &Arc<SourceFile>,
    node: &'a Node,
    field: &str,
    diags: &mut Vec<Diagnostic>,
) -> &'a [Node] {
    match &node.value {
        Value::Seq(items) => items,
        other => {
            diags.push(wrong_type(file, node, field, "a list", other));
            &[]
        }
    }
}

/// Reads a string that must be one of a fixed set of words.
pub fn one_of<T: Copy>(
    file: &Arc<SourceFile>,
    value: &Spanned<String>,
    field: &str,
    allowed: &[(&'static str, T)],
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    if let Some((_, t)) = allowed.iter().find(|(name, _)| *name == value.value) {
        return Some(*t);
    }
    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
    let help = did_you_mean(&value.value, names.iter().copied())
        .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
    diags.push(
        Diagnostic::error(
            codes::INVALID_VALUE,
            file,
            value.span,
            format!("`{}` is not a valid `{field}`", value.value),
        )
        .with_label(format!("not one of: {}", names.join(", ")))
        .with_help(help),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Vec<Diagnostic>> {
        let file = SourceFile::new("t.yaml", text);
        parse(&file)
    }

    #[test]
    fn spans_point_at_values() {
        let text = "id: \"4.7\"\nname: 督促状作成\n";
        let root = parse_str(text).unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        let (_, name) = &entries[1];
        assert_eq!(&text[name.span.start..name.span.end], "督促状作成");
        let file = SourceFile::new("t.yaml", text);
        assert_eq!(file.line_column(name.span.start), (2, 7));
    }

    #[test]
    fn scalars_follow_yaml_1_2() {
        let root = parse_str("a: yes\nb: 010\nc: '010'\nd: true\ne: 1.5\nf: ~\n").unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        let kinds: Vec<&str> = entries.iter().map(|(_, v)| v.value.type_name()).collect();
        assert_eq!(
            kinds,
            [
                "a string",
                "an integer",
                "a string",
                "a boolean",
                "a decimal number",
                "null"
            ]
        );
    }

    #[test]
    fn hostile_input_is_refused_with_codes() {
        let cases = [
            ("a: &x [1]\nb: *x\n", codes::UNSUPPORTED),
            ("a: !foo 1\n", codes::UNSUPPORTED),
            ("a: 1\na: 2\n", codes::DUPLICATE_KEY),
            ("", codes::FILE),
            ("a: [1\n", codes::SYNTAX),
            ("--- 1\n--- 2\n", codes::FILE),
        ];
        for (text, code) in cases {
            let errs = parse_str(text).unwrap_err();
            assert_eq!(errs[0].code, code, "for {text:?}: {errs:?}");
        }
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let errs = parse_str(&deep).unwrap_err();
        assert!(
            errs.iter()
                .any(|d| d.code == codes::TOO_COMPLEX || d.code == codes::SYNTAX)
        );
    }

    #[test]
    fn invalid_utf8_is_located() {
        let (_, res) = parse_bytes("t.yaml", b"id: \"1\"\nname: \xff\n");
        let errs = res.unwrap_err();
        assert_eq!(errs[0].code, codes::FILE);
        assert_eq!(errs[0].line_column(), (2, 7));
    }
}

#[cfg(test)]
mod hostile {
    use super::*;

    #[test]
    fn billion_laughs_is_refused_at_the_first_alias() {
        let mut text = String::from(
            "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
        );
        for (i, prev) in ('b'..='i').zip('a'..='h') {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{i}: &{i} [{refs}]\n"));
        }
        let file = SourceFile::new("bomb.yaml", text);
        let errs = parse(&file).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code, codes::UNSUPPORTED);
    }

    #[test]
    fn deep_nesting_of_mappings_is_refused() {
        let mut text = String::new();
        for depth in 0..200 {
            text.push_str(&"  ".repeat(depth));
            text.push_str("k:\n");
        }
        let file = SourceFile::new("deep.yaml", text);
        let errs = parse(&file).unwrap_err();
        assert!(
            errs.iter().any(|d| d.code == codes::TOO_COMPLEX),
            "{errs:?}"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic generator: the point is breadth, not cryptographic quality.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"ab:- \n\t[]{},&*!|>'\"#%@`?\x00\xff\xe3\x81\x82";
        for _ in 0..3000 {
            let len = (state % 120) as usize;
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let (_, _) = parse_bytes("fuzz.yaml", &bytes);
        }
    }
}
