//! Presentation of diagnostics: the human form with the source line underlined (miette),
//! and a JSON form for programs.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use nagare_engine::diagnostic::{Diagnostic, Severity};
use serde::Serialize;

/// Adapts an engine diagnostic to miette's trait for rendering.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let text_len = self.diag.file.text().len();
        let clamp = |start: usize, len: usize| {
            let start = start.min(text_len);
            (start, len.min(text_len - start))
        };
        let (start, len) = clamp(self.diag.span.start, self.diag.span.len());
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            self.diag.label.clone(),
            (start, len),
        )];
        for related in &self.diag.related {
            let (s, l) = clamp(related.span.start, related.span.len());
            labels.push(LabeledSpan::new_with_span(
                Some(related.message.clone()),
                (s, l),
            ));
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Renders diagnostics for people: a `file:line:column` heading line per problem, then the
/// source line with the span underlined and the help line.
pub fn render_human(diags: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    for diag in diags {
        let report = Report {
            diag,
            source: NamedSource::new(diag.file.path(), diag.file.text().to_owned()),
        };
        out.push_str(&diag.to_string());
        out.push('\n');
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str("  (the source could not be shown)\n");
        }
        out.push('\n');
    }
    out
}

/// The JSON form of one diagnostic.
#[derive(Serialize)]
pub struct DiagnosticDto<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub offset: usize,
    pub length: usize,
    pub severity: String,
    pub code: &'a str,
    pub message: &'a str,
    pub label: Option<&'a str>,
    pub help: Option<&'a str>,
    pub related: Vec<RelatedDto<'a>>,
}

#[derive(Serialize)]
pub struct RelatedDto<'a> {
    pub line: usize,
    pub column: usize,
    pub message: &'a str,
}

/// Converts diagnostics to their JSON form.
pub fn to_json(diags: &[Diagnostic]) -> Vec<DiagnosticDto<'_>> {
    diags
        .iter()
        .map(|d| {
            let (line, column) = d.line_column();
            let (end_line, end_column) = d.file.line_column(d.span.end);
            DiagnosticDto {
                file: d.file.path(),
                line,
                column,
                end_line,
                end_column,
                offset: d.span.start,
                length: d.span.len(),
                severity: d.severity.to_string(),
                code: d.code,
                message: &d.message,
                label: d.label.as_deref(),
                help: d.help.as_deref(),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let (line, column) = d.file.line_column(r.span.start);
                        RelatedDto {
                            line,
                            column,
                            message: &r.message,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}
