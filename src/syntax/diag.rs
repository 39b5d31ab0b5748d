//! Compile-time diagnostics (reader, expander, compiler) and their
//! rendering as `file:line:col`, the source line and a caret.
//!
//! Rendering goes through `codespan-reporting` with ASCII drawing
//! characters; without colour the output is stable for golden tests.

use super::source::{FileId, SourceMap, Span};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::termcolor::{Ansi, NoColor, WriteColor};
use codespan_reporting::term::{self, Chars, Config};
use std::fmt;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Option<Span>,
    /// Text shown next to the caret.
    pub label: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error without a location.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span: None,
            label: None,
            notes: Vec::new(),
        }
    }

    /// An error pointing at `span`.
    pub fn at(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span: Some(span),
            ..Diagnostic::error(message)
        }
    }

    pub fn with_span(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Plain-text rendering for files, logs and golden tests.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = NoColor::new(Vec::new());
        self.emit(sources, &mut out);
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }

    /// Plain-text rendering as a warning (`warning: ...`, then the same
    /// location, excerpt and caret as an error).
    pub fn render_warning(&self, sources: &SourceMap) -> String {
        let mut out = NoColor::new(Vec::new());
        self.emit_as(sources, &mut out, true);
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }

    /// Rendering for a terminal: ANSI colours when `color` is true.
    pub fn render_ansi(&self, sources: &SourceMap, color: bool) -> String {
        if !color {
            return self.render(sources);
        }
        let mut out = Ansi::new(Vec::new());
        self.emit(sources, &mut out);
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }

    fn emit(&self, sources: &SourceMap, out: &mut dyn WriteColor) {
        self.emit_as(sources, out, false)
    }

    fn emit_as(&self, sources: &SourceMap, out: &mut dyn WriteColor, warning: bool) {
        let files = Sources(sources);
        let d = if warning {
            CsDiagnostic::warning()
        } else {
            CsDiagnostic::error()
        };
        let mut d = d.with_message(&self.message).with_notes(self.notes.clone());
        if let Some(span) = self.span.and_then(|s| files.clamp(s)) {
            let mut label = Label::primary(span.file, span.start as usize..span.end as usize);
            if let Some(text) = &self.label {
                label = label.with_message(text);
            }
            d = d.with_labels(vec![label]);
        }
        let config = Config {
            chars: Chars::ascii(),
            ..Config::default()
        };
        if term::emit(out, &config, &files, &d).is_err() {
            // Only reachable on a write error into a Vec; fall back to
            // the one-line form rather than losing the message.
            let _ = write!(out, "{}", self);
        }
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `error: message` (no location; use `render` for that).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Adapter presenting a [`SourceMap`] to codespan.
struct Sources<'a>(&'a SourceMap);

impl Sources<'_> {
    /// A span made safe for codespan: known file, within the text, on char
    /// boundaries. `None` for an unknown file (then no source is shown).
    fn clamp(&self, span: Span) -> Option<Span> {
        let text = &self.0.files().get(span.file.0 as usize)?.text;
        let fix = |mut i: usize| {
            i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i as u32
        };
        let start = fix(span.start as usize);
        let end = fix(span.end as usize).max(start);
        Some(Span::new(span.file, start, end))
    }

    fn file(&self, id: FileId) -> Result<&super::source::SourceFile, FilesError> {
        self.0
            .files()
            .get(id.0 as usize)
            .ok_or(FilesError::FileMissing)
    }
}

impl<'a> Files<'a> for Sources<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let offset = u32::try_from(byte_index).unwrap_or(u32::MAX);
        Ok(self.file(id)?.line_col(offset).0 as usize - 1)
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let file = self.file(id)?;
        file.line_range(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: file.line_col(file.text.len() as u32).0 as usize - 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diag_render_points_at_line_and_column() {
        let mut sm = SourceMap::new();
        let f = sm.add("tests/programs/foo.valk", "(a)\n(b)\n(foo))\n(c)\n");
        let off = "(a)\n(b)\n(foo)".len() as u32;
        let d = Diagnostic::at(Span::new(f, off, off + 1), "unexpected `)`");
        let out = d.render(&sm);
        assert!(out.starts_with("error: unexpected `)`\n"), "{out}");
        assert!(out.contains("--> tests/programs/foo.valk:3:6"), "{out}");
        assert!(out.contains("3 | (foo))"), "{out}");
        let caret_line = out.lines().find(|l| l.contains('^')).unwrap();
        // The caret sits under the sixth column of line 3.
        let bar = caret_line.find('|').unwrap();
        assert_eq!(caret_line.find('^').unwrap() - bar - 2, 5, "{out}");
        assert_eq!(sm.location(d.span.unwrap()), "tests/programs/foo.valk:3:6");
    }

    #[test]
    fn diag_columns_count_characters() {
        let mut sm = SourceMap::new();
        let f = sm.add("u.valk", "(λ (ü) ü))");
        let off = "(λ (ü) ü)".len() as u32;
        let d = Diagnostic::at(Span::new(f, off, off + 1), "unexpected `)`");
        let out = d.render(&sm);
        assert!(out.contains("u.valk:1:10"), "{out}");
    }

    #[test]
    fn diag_without_span_label_and_notes() {
        let sm = SourceMap::new();
        let d = Diagnostic::error("something broke").with_note("try again");
        let out = d.render(&sm);
        assert_eq!(out.lines().next(), Some("error: something broke"));
        assert!(out.contains("= try again"), "{out}");
        assert!(!out.contains("-->"));
        assert_eq!(d.to_string(), "error: something broke");
    }

    #[test]
    fn diag_label_is_shown() {
        let mut sm = SourceMap::new();
        let f = sm.add("l.valk", "(define x \"abc");
        let d = Diagnostic::at(Span::new(f, 10, 11), "unterminated string")
            .with_label("string starts here");
        let out = d.render(&sm);
        assert!(out.contains("l.valk:1:11"), "{out}");
        assert!(out.contains("^ string starts here"), "{out}");
    }

    #[test]
    fn diag_bad_spans_do_not_panic() {
        let mut sm = SourceMap::new();
        let f = sm.add("b.valk", "é\nü");
        for (s, e) in [(0, 1), (1, 1), (1, 2), (3, 100), (100, 200), (2, 1), (0, 0)] {
            let out = Diagnostic::at(Span::new(f, s, e), "m").render(&sm);
            assert!(out.starts_with("error: m"), "{out}");
        }
        let out = Diagnostic::at(Span::new(FileId(7), 0, 1), "m").render(&sm);
        assert!(out.starts_with("error: m"), "{out}");
        let empty = sm.add("e.valk", "");
        let out = Diagnostic::at(Span::new(empty, 0, 0), "eof").render(&sm);
        assert!(out.contains("e.valk:1:1"), "{out}");
    }

    #[test]
    fn diag_ansi_colours_only_when_asked() {
        let mut sm = SourceMap::new();
        let f = sm.add("c.valk", "(x))");
        let d = Diagnostic::at(Span::new(f, 3, 4), "unexpected `)`");
        assert_eq!(d.render_ansi(&sm, false), d.render(&sm));
        assert!(d.render_ansi(&sm, true).contains('\u{1b}'));
    }
}
