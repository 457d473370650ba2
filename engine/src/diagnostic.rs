//! Problems found in files that people edit (flows, settings), with exact source locations.
//!
//! A [`Diagnostic`] is plain data: a stable code, a one-line message, the byte span in the
//! source file, an optional help line and secondary labels. Rendering (terminal, JSON, HTTP)
//! belongs to the front ends; the engine only collects.

use std::fmt;
use std::sync::Arc;

/// A file as it was read, kept so that diagnostics can point into it.
#[derive(Debug)]
pub struct SourceFile {
    path: String,
    text: String,
}

impl SourceFile {
    /// Creates a source file from its display path and its text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            path: path.into(),
            text: text.into(),
        })
    }

    /// Returns the path as given when the file was read.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Returns the 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A byte range in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// Creates a span from a start and an end byte offset.
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Returns the length in bytes.
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Returns whether the span covers no byte.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How bad a problem is: errors stop a flow from being used, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// A secondary location that helps to understand a problem ("first defined here").
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem in one file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code such as `FLOW0009`; each has a page in `docs/errors/`.
    pub code: &'static str,
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    pub file: Arc<SourceFile>,
    /// Where the problem is; empty spans point at a position.
    pub span: Span,
    /// Short text drawn under the span.
    pub label: Option<String>,
    /// What to do about it ("did you mean …").
    pub help: Option<String>,
    pub related: Vec<Label>,
}

impl Diagnostic {
    /// Creates an error with the given code and message at a span.
    pub fn error(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: Arc::clone(file),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Turns the diagnostic into a warning.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Adds the text drawn under the primary span.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line only when one is given.
    #[must_use]
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a secondary label in the same file.
    #[must_use]
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Returns the 1-based line and column of the primary span.
    pub fn line_column(&self) -> (usize, usize) {
        self.file.line_column(self.span.start)
    }
}

impl fmt::Display for Diagnostic {
    /// Writes `file:line:column: severity[CODE]: message`, the one-line form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.line_column();
        write!(
            f,
            "{}:{line}:{column}: {}[{}]: {}",
            self.file.path(),
            self.severity,
            self.code,
            self.message
        )
    }
}

/// Returns "did you mean `x`?" for the candidate closest to `wrong`, if one is close enough.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        // Jaro-Winkler favours shared prefixes, which is how ids are usually misspelt.
        let score = strsim::jaro_winkler(wrong, candidate);
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Sorts diagnostics by file, then position, then code, so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.file.path(), a.span.start, a.code).cmp(&(b.file.path(), b.span.start, b.code))
    });
}
