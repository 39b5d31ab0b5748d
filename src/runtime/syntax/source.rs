//! Source files and spans. Every datum and every core-AST node carries a
//! `Span` so that diagnostics can show `file:line:col` and the source line.

use std::path::Path;

/// The largest source file the reader accepts: spans are 32-bit offsets,
/// and a runaway input (`(load "/dev/zero")`, a huge generated file) must
/// be refused, not exhaust memory.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Why a source file could not be read.
#[derive(Debug)]
pub enum SourceReadError {
    Io(std::io::Error),
    /// A directory, device, pipe or socket.
    NotRegular,
    /// Larger than [`MAX_SOURCE_BYTES`] (the size).
    TooLarge(u64),
}

impl std::fmt::Display for SourceReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceReadError::Io(e) => write!(f, "{e}"),
            SourceReadError::NotRegular => f.write_str("not a regular file"),
            SourceReadError::TooLarge(n) => write!(
                f,
                "file too large ({n} bytes; source files are limited to {} MiB)",
                MAX_SOURCE_BYTES >> 20
            ),
        }
    }
}

/// Reads a program or `load`ed file: a regular file of at most
/// [`MAX_SOURCE_BYTES`] in UTF-8; a leading byte-order mark is dropped.
pub fn read_source_file(path: &Path) -> Result<String, SourceReadError> {
    let meta = std::fs::metadata(path).map_err(SourceReadError::Io)?;
    if !meta.is_file() {
        return Err(SourceReadError::NotRegular);
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(SourceReadError::TooLarge(meta.len()));
    }
    let text = std::fs::read_to_string(path).map_err(SourceReadError::Io)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: u32, end: u32) -> Span {
        Span { file, start, end }
    }
    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<u32>,
}

impl SourceFile {
    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line as u32 + 1, col as u32 + 1)
    }

    /// The byte range of line `index` (0-based), its line ending included;
    /// `None` past the last line.
    pub fn line_range(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let start = *self.line_starts.get(index)? as usize;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&e| e as usize);
        Some(start..end)
    }
}

/// Byte offsets of the starts of the lines of `text`. A line ends with LF,
/// CRLF or a lone CR (R7RS 2.2), so that diagnostics show the right line and
/// column in files from any system.
pub fn line_starts(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut starts = vec![0u32];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i as u32 + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                i += 1;
                starts.push(i as u32 + 1);
            }
            b'\r' => starts.push(i as u32 + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// All source files seen by one process (program files, `load`ed files,
/// REPL inputs, the prelude).
#[derive(Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let line_starts = line_starts(&text);
        self.files.push(SourceFile {
            name: name.into(),
            text,
            line_starts,
        });
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
    /// `file:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let f = self.get(span.file);
        let (l, c) = f.line_col(span.start);
        format!("{}:{}:{}", f.name, l, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_with_lf_crlf_or_cr() {
        let mut sm = SourceMap::new();
        for (name, text) in [
            ("lf", "(a)\n(b)\n  (c)"),
            ("crlf", "(a)\r\n(b)\r\n  (c)"),
            ("cr", "(a)\r(b)\r  (c)"),
        ] {
            let f = sm.add(name, text);
            let c = text.find("(c)").unwrap() as u32;
            assert_eq!(sm.location(Span::new(f, c, c + 1)), format!("{name}:3:3"));
            let b = text.find("(b)").unwrap() as u32;
            assert_eq!(sm.get(f).line_col(b), (2, 1), "{name}");
            let third = sm.get(f).line_range(2).unwrap();
            assert_eq!(&text[third], "  (c)", "{name}");
            let first = &text[sm.get(f).line_range(0).unwrap()];
            assert_eq!(first.trim_end(), "(a)", "{name}");
            assert_eq!(sm.get(f).line_range(3), None);
        }
        // Offsets between CR and LF belong to the first line.
        assert_eq!(line_starts("a\r\nb"), [0, 3]);
        assert_eq!(line_starts("\r\r\n\n"), [0, 1, 3, 4]);
    }

    #[test]
    fn source_files_are_checked_before_reading() {
        let dir = std::env::temp_dir().join(format!("valk-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let reason = |p: &Path| read_source_file(p).unwrap_err().to_string();
        assert_eq!(reason(&dir), "not a regular file");
        assert_eq!(reason(Path::new("/dev/zero")), "not a regular file");
        // A sparse file one byte over the limit: nothing is read.
        let big = dir.join("big.valk");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_SOURCE_BYTES + 1).unwrap();
        assert_eq!(
            reason(&big),
            "file too large (67108865 bytes; source files are limited to 64 MiB)"
        );
        let missing = reason(&dir.join("missing.valk"));
        assert!(
            missing.starts_with("No such file or directory"),
            "{missing}"
        );
        // A byte-order mark is dropped; CRLF line ends are kept for the reader.
        let bom = dir.join("bom.valk");
        std::fs::write(&bom, "\u{feff}(display 1)\r\n").unwrap();
        assert_eq!(read_source_file(&bom).unwrap(), "(display 1)\r\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
