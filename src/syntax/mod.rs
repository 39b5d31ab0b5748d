//! Reading Valk source: spans, datums, the reader and diagnostics.
//!
//! Spans, datums and the reader live in the runtime (`valk_runtime::syntax`)
//! so that `read` uses the compiler's reader (docs/architecture.md); this
//! module re-exports them and turns reader errors into [`Diagnostic`]s.
pub mod diag;
pub use valk_runtime::syntax::{datum, source};

/// The runtime's reader, with errors as diagnostics.
pub mod reader {
    use super::datum::Datum;
    use super::diag::Diagnostic;
    use super::source::{FileId, SourceMap};
    use valk_runtime::syntax::reader as rt;
    pub use valk_runtime::syntax::reader::{
        is_incomplete, read_one, resolve_labels, ReadError, ReadOne, ReadOptions, MAX_DEPTH,
    };

    /// Reads every datum of a file registered in `sources`.
    pub fn read_all(sources: &SourceMap, file: FileId) -> Result<Vec<Datum>, Diagnostic> {
        rt::read_all(sources, file).map_err(diagnostic)
    }

    /// Reads bytes `start..end` of a registered file (spans into the file).
    pub fn read_range(
        sources: &SourceMap,
        file: FileId,
        start: usize,
        end: usize,
    ) -> Result<Vec<Datum>, Diagnostic> {
        rt::read_range(sources, file, start, end).map_err(diagnostic)
    }

    /// Registers `text` under `name` in `sources` and reads it.
    pub fn read_str(
        sources: &mut SourceMap,
        name: &str,
        text: &str,
    ) -> Result<Vec<Datum>, Diagnostic> {
        rt::read_str(sources, name, text).map_err(diagnostic)
    }

    /// The diagnostic for a reader error.
    pub fn diagnostic(e: ReadError) -> Diagnostic {
        Diagnostic {
            message: e.message,
            span: e.span,
            label: e.label,
            notes: e.notes,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reader_errors_render_with_label_and_note() {
            let mut sm = SourceMap::new();
            let e = read_str(&mut sm, "m.valk", "(define (f)\n  [g x)").unwrap_err();
            assert_eq!(e.label.as_deref(), Some("expected `]`"));
            assert_eq!(e.notes, ["the list opened with `[` at line 2, column 3"]);
            let out = e.render(&sm);
            assert!(out.contains("m.valk:2:7"), "{out}");
            assert!(out.contains("^ expected `]`"), "{out}");
            assert!(out.contains("= the list opened with `[`"), "{out}");
        }

        #[test]
        fn diagnostics_of_cr_and_crlf_files_show_the_right_line() {
            for text in ["(a)\r\n(b)\r\n  (c))\r\n", "(a)\r(b)\r  (c))\r"] {
                let mut sm = SourceMap::new();
                let e = read_str(&mut sm, "cr.valk", text).unwrap_err();
                let out = e.render(&sm);
                assert!(out.contains("cr.valk:3:6"), "{out:?}");
                assert!(out.contains("3 |   (c))"), "{out:?}");
                assert!(!out.contains("(b)"), "{out:?}");
            }
        }

        #[test]
        fn program_source_resolves_datum_labels() {
            let mut sm = SourceMap::new();
            let d = read_str(&mut sm, "l.valk", "'(#0=(a) #0#)").unwrap();
            let shown = format!("{:?}", d[0]);
            assert!(!shown.contains("Label"), "{shown}");
            let e = read_str(&mut sm, "c.valk", "'#0=(a . #0#)").unwrap_err();
            assert_eq!(
                e.message,
                "circular datum labels are supported by `read`, not in program source"
            );
            let out = e.render(&sm);
            assert!(out.contains("c.valk:1:10"), "{out}");
        }
    }
}
