//! The reader: source text to [`Datum`]s with spans (R7RS 7.1.1 lexical
//! syntax, plus `[ ]` as list brackets and datum labels `#N=` / `#N#`).
//!
//! It lives in the runtime so that `read` and the compiler share one reader
//! (AOT executables link only the runtime; docs/architecture.md). Two entry
//! points: [`read_all`] for program source (labels resolved, errors as
//! [`ReadError`], which the `valk` crate turns into diagnostics) and
//! [`read_one`] for ports (one datum at a time, labels kept).
//!
//! Reading is iterative (an explicit stack of open lists, vectors, prefixes,
//! labels and datum comments) so that no input can overflow the Rust stack.
//! Nesting is still capped at [`MAX_DEPTH`] because every consumer of the
//! datum tree (the expander, `Drop`, `Clone`, `Debug`) walks it recursively:
//! a tree of that depth is dropped, cloned and compared within 512 KiB of
//! stack.

use super::datum::{Datum, DatumKind};
use super::source::{FileId, SourceMap, Span};
use crate::num::text::{format_number, parse_number};
use crate::num::Num;

/// Deepest nesting of lists, vectors, quote prefixes, labels and datum
/// comments the reader accepts (real programs stay far below; raise it only
/// together with the stack given to the expander).
pub const MAX_DEPTH: usize = 1_000;

/// Most datum nodes that copies of labelled datums may add to one datum of
/// program source (`#0=(a a) #1=(#0# #0#) ...` doubles at each label).
const MAX_LABEL_COPY_NODES: usize = 1 << 22;

/// A reader error: what the compiler shows as a diagnostic (the `valk`
/// crate converts it) and what `read` raises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    pub span: Option<Span>,
    /// Text shown next to the caret.
    pub label: Option<String>,
    pub notes: Vec<String>,
    /// The input ended too early: more text could complete it.
    pub incomplete: bool,
}

impl ReadError {
    fn at(span: Span, message: impl Into<String>) -> ReadError {
        ReadError {
            message: message.into(),
            span: Some(span),
            label: None,
            notes: Vec::new(),
            incomplete: false,
        }
    }
    fn with_label(mut self, label: impl Into<String>) -> ReadError {
        self.label = Some(label.into());
        self
    }
    fn with_note(mut self, note: impl Into<String>) -> ReadError {
        self.notes.push(note.into());
        self
    }
    fn eof(mut self) -> ReadError {
        self.incomplete = true;
        self
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReadError {}

/// Reads every datum of a file registered in `sources` (program source:
/// datum labels are resolved, see [`resolve_labels`]).
pub fn read_all(sources: &SourceMap, file: FileId) -> Result<Vec<Datum>, ReadError> {
    let Some(f) = sources.files().get(file.0 as usize) else {
        return Err(ReadError {
            message: format!("unknown source file #{}", file.0),
            span: None,
            label: None,
            notes: Vec::new(),
            incomplete: false,
        });
    };
    Reader::new(&f.text, file).read_all()
}

/// Registers `text` under `name` in `sources` and reads it.
pub fn read_str(sources: &mut SourceMap, name: &str, text: &str) -> Result<Vec<Datum>, ReadError> {
    let file = sources.add(name, text);
    read_all(sources, file)
}

/// Reads the datums in bytes `start..end` of a file registered in
/// `sources`; spans stay offsets into the whole file, so diagnostics show
/// the lines around the range (the REPL reads one form of a line at a time).
pub fn read_range(
    sources: &SourceMap,
    file: FileId,
    start: usize,
    end: usize,
) -> Result<Vec<Datum>, ReadError> {
    let text = sources.get(file).text.as_str();
    let mut r = Reader::new(&text[..end.min(text.len())], file);
    r.pos = start.min(end);
    r.script = false;
    r.read_all()
}

/// True when `text` ends inside an unclosed list, vector, string, `|symbol|`,
/// block comment, quote prefix, label or datum comment: the REPL should then
/// read another line before evaluating. Other errors give false (the REPL
/// reports them at once).
pub fn is_incomplete(text: &str) -> bool {
    matches!(Reader::new(text, FileId(0)).read_all(), Err(e) if e.incomplete)
}

/// Reader state that outlives one datum: kept per port by `read`'s caller.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// `#!fold-case` is in effect (R7RS 2.1); `#!no-fold-case` clears it.
    pub fold_case: bool,
}

/// The result of [`read_one`].
#[derive(Clone, Debug, PartialEq)]
pub enum ReadOne {
    /// A datum, and the byte offset just past its last character (the
    /// delimiter after it is NOT consumed).
    Datum(Datum, usize),
    /// Only whitespace, comments and directives before the end of `text`:
    /// the offset consumed (= text.len()).
    Eof(usize),
    /// `text` ends inside a datum (an open list, string, `#|` comment, a
    /// `'` or `#;` waiting for its datum...): more input could complete it.
    Incomplete,
    /// Malformed input: the message (the compiler's wording) and the byte
    /// range of the offending text; the caller consumes up to `end`. When
    /// `end == text.len()` the offending token may have been cut short by
    /// the end of `text` (`#\spa`, `"\x4`): as for a datum ending there,
    /// the caller re-reads with more input unless the port is at its end.
    Error {
        message: String,
        start: usize,
        end: usize,
    },
}

/// Reads one datum from the start of `text` (after whitespace, comments,
/// `#;` datum comments and directives), honouring and updating
/// `opts.fold_case`. Datum labels are kept as read
/// ([`DatumKind::Labeled`], [`DatumKind::LabelRef`]); spans are offsets into
/// `text` in `FileId(0)`.
pub fn read_one(text: &str, opts: &mut ReadOptions) -> ReadOne {
    if text.len() > u32::MAX as usize {
        return ReadOne::Error {
            message: "input too large (over 4 GiB)".to_string(),
            start: 0,
            end: 0,
        };
    }
    let mut r = Reader::new(text, FileId(0));
    r.fold_case = opts.fold_case;
    r.script = false;
    (r.frames, r.items) = SCRATCH.take();
    let result = r.read_datum();
    opts.fold_case = r.fold_case;
    r.frames.clear();
    r.items.clear();
    SCRATCH.set((std::mem::take(&mut r.frames), std::mem::take(&mut r.items)));
    match result {
        Ok(Some(d)) => ReadOne::Datum(d, r.pos),
        Ok(None) => ReadOne::Eof(text.len()),
        Err(e) if e.incomplete => ReadOne::Incomplete,
        Err(e) => {
            let (start, end) = e
                .span
                .map_or((0, 0), |s| (s.start as usize, s.end as usize));
            ReadOne::Error {
                message: e.message,
                start,
                end,
            }
        }
    }
}

type RResult<T> = Result<T, ReadError>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    Paren,
    Bracket,
    Vector,
    Bytevector,
}

impl Open {
    fn opener(self) -> &'static str {
        match self {
            Open::Paren => "(",
            Open::Bracket => "[",
            Open::Vector => "#(",
            Open::Bytevector => "#u8(",
        }
    }
    fn closer(self) -> u8 {
        if self == Open::Bracket {
            b']'
        } else {
            b')'
        }
    }
    fn what(self) -> &'static str {
        match self {
            Open::Paren | Open::Bracket => "list",
            Open::Vector => "vector",
            Open::Bytevector => "bytevector",
        }
    }
}

enum Token {
    Open(Open, usize),
    Close(u8, usize),
    /// `'` `` ` `` `,` `,@`: the symbol it stands for and its span.
    Prefix(&'static str, Span),
    DatumComment(Span),
    /// `#N=`.
    LabelDef(u32, Span),
    /// `#N#`.
    LabelRef(u32, Span),
    Dot(Span),
    Atom(Datum),
    Eof,
}

enum Dot {
    No,
    /// Saw `.`, waiting for the tail.
    Seen(Span),
    /// Got the tail, only `)` may follow.
    Tail(Box<Datum>),
}

enum Frame {
    /// Elements are `Reader::items[items..]` (one shared stack, so that
    /// each list gets one allocation of the exact size when it closes).
    List {
        open: Open,
        start: usize,
        items: usize,
        dot: Dot,
    },
    Vector {
        start: usize,
        items: usize,
    },
    Bytevector {
        start: usize,
        bytes: Vec<u8>,
    },
    Prefix {
        name: &'static str,
        span: Span,
    },
    /// `#N=` waiting for its datum.
    Label {
        n: u32,
        span: Span,
    },
    Comment {
        span: Span,
        /// Labels defined before the comment: the ones defined inside it
        /// are forgotten with the datum it drops.
        labels: usize,
    },
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: FileId,
    fold_case: bool,
    /// Labels defined so far in the current top-level datum (their scope,
    /// R7RS 2.4).
    labels: Vec<u32>,
    /// Elements of the open lists and vectors, innermost last.
    items: Vec<Datum>,
    /// The open frames' stack, kept between datums for its capacity.
    frames: Vec<Frame>,
    /// The text is a whole file, which may start with a `#!/...` line (not
    /// so for `read_one`, whose text starts anywhere in a port).
    script: bool,
}

thread_local! {
    /// `read_one`'s frame and element stacks, reused from call to call
    /// (`read` calls it once per datum).
    static SCRATCH: std::cell::Cell<(Vec<Frame>, Vec<Datum>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"' | ';' | '|')
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, file: FileId) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            file,
            fold_case: false,
            labels: Vec::new(),
            items: Vec::new(),
            frames: Vec::new(),
            script: true,
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start as u32, end as u32)
    }

    fn err(&self, start: usize, end: usize, msg: impl Into<String>) -> ReadError {
        ReadError::at(self.span(start, end), msg)
    }

    fn eof_err(&self, start: usize, end: usize, msg: impl Into<String>) -> ReadError {
        self.err(start, end, msg).eof()
    }

    fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    /// End of the run of non-delimiter characters starting at `from`.
    fn token_end(&self, from: usize) -> usize {
        let rest = &self.bytes[from..];
        // ASCII bytes decide alone; other characters (non-ASCII whitespace
        // is a delimiter too) go through `char`.
        let mut i = 0;
        while i < rest.len() {
            let b = rest[i];
            if b < 0x80 {
                if matches!(
                    b,
                    b'(' | b')' | b'[' | b']' | b'"' | b';' | b'|' | b' ' | b'\t'..=b'\r'
                ) {
                    return from + i;
                }
                i += 1;
            } else {
                let c = self.text[from + i..].chars().next().unwrap_or(' ');
                if c.is_whitespace() {
                    return from + i;
                }
                i += c.len_utf8();
            }
        }
        self.text.len()
    }

    /// 1-based line and column (in characters) of a byte offset, for notes.
    fn line_col(&self, pos: usize) -> (usize, usize) {
        let before = &self.text[..pos];
        let starts = super::source::line_starts(before);
        let line_start = *starts.last().unwrap_or(&0) as usize;
        (starts.len(), before[line_start..].chars().count() + 1)
    }

    fn read_all(mut self) -> RResult<Vec<Datum>> {
        if self.text.len() > u32::MAX as usize {
            return Err(ReadError {
                message: "source file too large (over 4 GiB)".to_string(),
                span: None,
                label: None,
                notes: Vec::new(),
                incomplete: false,
            });
        }
        let mut out = Vec::new();
        while let Some(d) = self.read_datum()? {
            out.push(if self.labels.is_empty() {
                d
            } else {
                resolve_labels(d)?
            });
        }
        Ok(out)
    }

    /// Reads the next top-level datum; `None` at the end of the text.
    fn read_datum(&mut self) -> RResult<Option<Datum>> {
        self.labels.clear();
        self.items.clear();
        let mut stack = std::mem::take(&mut self.frames);
        stack.clear();
        let r = self.read_datum_on(&mut stack);
        self.frames = stack;
        r
    }

    fn read_datum_on(&mut self, stack: &mut Vec<Frame>) -> RResult<Option<Datum>> {
        loop {
            let token = self.next_token()?;
            let opens = matches!(
                token,
                Token::Open(..) | Token::Prefix(..) | Token::DatumComment(_) | Token::LabelDef(..)
            );
            if opens && stack.len() >= MAX_DEPTH {
                let (s, e) = match &token {
                    Token::Open(_, s) => (*s, *s + 1),
                    Token::Prefix(_, sp) | Token::DatumComment(sp) | Token::LabelDef(_, sp) => {
                        (sp.start as usize, sp.end as usize)
                    }
                    _ => (self.pos, self.pos),
                };
                return Err(self.err(
                    s,
                    e,
                    format!("too deeply nested (more than {MAX_DEPTH} levels)"),
                ));
            }
            let datum = match token {
                Token::Eof => {
                    return match stack.last() {
                        None => Ok(None),
                        Some(frame) => Err(self.unclosed(frame)),
                    };
                }
                Token::Open(open, start) => {
                    stack.push(match open {
                        Open::Paren | Open::Bracket => Frame::List {
                            open,
                            start,
                            items: self.items.len(),
                            dot: Dot::No,
                        },
                        Open::Vector => Frame::Vector {
                            start,
                            items: self.items.len(),
                        },
                        Open::Bytevector => Frame::Bytevector {
                            start,
                            bytes: Vec::new(),
                        },
                    });
                    continue;
                }
                Token::Prefix(name, span) => {
                    stack.push(Frame::Prefix { name, span });
                    continue;
                }
                Token::DatumComment(span) => {
                    stack.push(Frame::Comment {
                        span,
                        labels: self.labels.len(),
                    });
                    continue;
                }
                Token::LabelDef(n, span) => {
                    if self.labels.contains(&n) {
                        return Err(self.err(
                            span.start as usize,
                            span.end as usize,
                            format!("datum label `#{n}=` is defined twice"),
                        ));
                    }
                    self.labels.push(n);
                    stack.push(Frame::Label { n, span });
                    continue;
                }
                Token::LabelRef(n, span) => {
                    if !self.labels.contains(&n) {
                        return Err(self.err(
                            span.start as usize,
                            span.end as usize,
                            format!("reference to undefined datum label `#{n}#`"),
                        ));
                    }
                    Datum::new(DatumKind::LabelRef(n), span)
                }
                Token::Dot(span) => match stack.last_mut() {
                    Some(Frame::List { items, dot, .. })
                        if self.items.len() > *items && matches!(dot, Dot::No) =>
                    {
                        *dot = Dot::Seen(span);
                        continue;
                    }
                    _ => {
                        return Err(ReadError::at(span, "misplaced `.`")
                            .with_label("`.` may only appear before the last datum of a list"))
                    }
                },
                Token::Close(c, pos) => self.close(stack.pop(), c, pos)?,
                Token::Atom(datum) => datum,
            };
            if let Some(d) = self.deliver(stack, datum)? {
                return Ok(Some(d));
            }
        }
    }

    /// The error for input that ends while `frame` is still open.
    fn unclosed(&self, frame: &Frame) -> ReadError {
        match frame {
            Frame::List { open, start, .. } => self.eof_err(
                *start,
                start + 1,
                format!("unterminated list: missing `{}`", open.closer() as char),
            ),
            Frame::Vector { start, .. } => {
                self.eof_err(*start, start + 2, "unterminated vector: missing `)`")
            }
            Frame::Bytevector { start, .. } => {
                self.eof_err(*start, start + 4, "unterminated bytevector: missing `)`")
            }
            Frame::Prefix { span, .. } | Frame::Label { span, .. } => ReadError::at(
                *span,
                format!("expected a datum after {}", code(self.slice(*span))),
            )
            .eof(),
            Frame::Comment { span, .. } => {
                ReadError::at(*span, "expected a datum after `#;`").eof()
            }
        }
    }

    fn slice(&self, span: Span) -> &'a str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// Handles a closing `)`/`]` at `pos` for the innermost open frame.
    fn close(&mut self, frame: Option<Frame>, c: u8, pos: usize) -> RResult<Datum> {
        let closer = c as char;
        let (open, start) = match &frame {
            None => return Err(self.err(pos, pos + 1, format!("unexpected `{closer}`"))),
            Some(Frame::List { open, start, .. }) => (*open, *start),
            Some(Frame::Vector { start, .. }) => (Open::Vector, *start),
            Some(Frame::Bytevector { start, .. }) => (Open::Bytevector, *start),
            Some(Frame::Prefix { span, .. } | Frame::Label { span, .. }) => {
                return Err(self.err(
                    span.start as usize,
                    span.end as usize,
                    format!("expected a datum after {}", code(self.slice(*span))),
                ))
            }
            Some(Frame::Comment { span, .. }) => {
                return Err(self.err(
                    span.start as usize,
                    span.end as usize,
                    "expected a datum after `#;`",
                ))
            }
        };
        if open.closer() != c {
            let (line, col) = self.line_col(start);
            return Err(ReadError::at(
                self.span(pos, pos + 1),
                format!("`{closer}` does not match `{}`", open.opener()),
            )
            .with_label(format!("expected `{}`", open.closer() as char))
            .with_note(format!(
                "the {} opened with `{}` at line {line}, column {col}",
                open.what(),
                open.opener()
            )));
        }
        let span = self.span(start, pos + 1);
        let kind = match frame {
            Some(Frame::List { items, dot, .. }) => match dot {
                Dot::No => DatumKind::List(self.items.drain(items..).collect(), None),
                Dot::Seen(dspan) => {
                    return Err(ReadError::at(dspan, "expected a datum after `.`"));
                }
                Dot::Tail(tail) => match tail.kind {
                    // `(a . (b c))` is the list `(a b c)`.
                    DatumKind::List(more, rest) => {
                        let mut all = Vec::with_capacity(self.items.len() - items + more.len());
                        all.extend(self.items.drain(items..));
                        all.extend(more);
                        DatumKind::List(all, rest)
                    }
                    _ => DatumKind::List(self.items.drain(items..).collect(), Some(tail)),
                },
            },
            Some(Frame::Vector { items, .. }) => {
                DatumKind::Vector(self.items.drain(items..).collect())
            }
            Some(Frame::Bytevector { bytes, .. }) => DatumKind::Bytevector(bytes),
            _ => unreachable!("handled above"),
        };
        Ok(Datum::new(kind, span))
    }

    /// Gives a finished datum to the innermost open frame; returns it when
    /// it completes a top-level datum.
    fn deliver(&mut self, stack: &mut Vec<Frame>, mut datum: Datum) -> RResult<Option<Datum>> {
        loop {
            match stack.last_mut() {
                None => return Ok(Some(datum)),
                Some(Frame::Prefix { name, span }) => {
                    let head = Datum::new(DatumKind::Symbol((*name).to_string()), *span);
                    let whole = span.to(datum.span);
                    datum = Datum::new(DatumKind::List(vec![head, datum], None), whole);
                    stack.pop();
                }
                Some(Frame::Label { n, span }) => {
                    let n = *n;
                    if matches!(datum.kind, DatumKind::LabelRef(m) if m == n) {
                        return Err(ReadError::at(
                            datum.span,
                            format!("datum label `#{n}=` refers to itself"),
                        ));
                    }
                    let whole = span.to(datum.span);
                    datum = Datum::new(DatumKind::Labeled(n, Box::new(datum)), whole);
                    stack.pop();
                }
                Some(Frame::Comment { labels, .. }) => {
                    self.labels.truncate(*labels);
                    stack.pop();
                    return Ok(None);
                }
                Some(Frame::List { dot, .. }) => {
                    match dot {
                        Dot::No => self.items.push(datum),
                        Dot::Seen(_) => *dot = Dot::Tail(Box::new(datum)),
                        Dot::Tail(_) => {
                            return Err(ReadError::at(
                                datum.span,
                                "only one datum may follow `.` in a dotted list",
                            ))
                        }
                    }
                    return Ok(None);
                }
                Some(Frame::Vector { .. }) => {
                    self.items.push(datum);
                    return Ok(None);
                }
                Some(Frame::Bytevector { bytes, .. }) => {
                    match datum.kind {
                        DatumKind::Int(n) if (0..=255).contains(&n) => bytes.push(n as u8),
                        _ => {
                            return Err(ReadError::at(
                                datum.span,
                                "bytevector element must be an exact integer from 0 to 255",
                            ))
                        }
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Skips whitespace, comments and directives; returns the next token.
    fn next_token(&mut self) -> RResult<Token> {
        loop {
            // ASCII whitespace, the common case, byte by byte.
            while let Some(b' ' | b'\t'..=b'\r') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            let Some(c) = self.peek_char() else {
                return Ok(Token::Eof);
            };
            let next = self.bytes.get(self.pos + 1).copied();
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if c == ';' {
                self.skip_line();
            } else if c == '#' && next == Some(b'|') {
                self.skip_block_comment()?;
            } else if c == '#'
                && next == Some(b'!')
                && self.pos == 0
                && self.script
                && matches!(self.bytes.get(2), Some(b'/' | b' '))
            {
                // `#!/usr/bin/env valk` first line of a script.
                self.skip_line();
            } else if c == '#' && next == Some(b'!') {
                let start = self.pos;
                let end = self.token_end(start);
                match &self.text[start..end] {
                    "#!fold-case" => self.fold_case = true,
                    "#!no-fold-case" => self.fold_case = false,
                    other => {
                        return Err(self.err(
                            start,
                            end,
                            format!("unknown directive {}", code(other)),
                        ))
                    }
                }
                self.pos = end;
            } else {
                break;
            }
        }
        let start = self.pos;
        let c = self.bytes[start];
        let next = self.bytes.get(start + 1).copied();
        let token = match c {
            b'(' => {
                self.pos += 1;
                Token::Open(Open::Paren, start)
            }
            b'[' => {
                self.pos += 1;
                Token::Open(Open::Bracket, start)
            }
            b')' | b']' => {
                self.pos += 1;
                Token::Close(c, start)
            }
            b'\'' => self.prefix("quote", 1),
            b'`' => self.prefix("quasiquote", 1),
            b',' if next == Some(b'@') => self.prefix("unquote-splicing", 2),
            b',' => self.prefix("unquote", 1),
            b'"' => {
                let s = self.read_delimited(b'"')?;
                Token::Atom(Datum::new(DatumKind::Str(s), self.span(start, self.pos)))
            }
            b'|' => {
                let s = self.read_delimited(b'|')?;
                Token::Atom(Datum::new(DatumKind::Symbol(s), self.span(start, self.pos)))
            }
            b'#' => self.read_hash()?,
            _ => self.read_atom()?,
        };
        Ok(token)
    }

    fn prefix(&mut self, name: &'static str, len: usize) -> Token {
        let span = self.span(self.pos, self.pos + len);
        self.pos += len;
        Token::Prefix(name, span)
    }

    /// Skips to the start of the next line (a line ends with LF, CRLF or a
    /// lone CR, R7RS 2.2).
    fn skip_line(&mut self) {
        self.pos = match self.bytes[self.pos..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            Some(i) => self.pos + i + 1,
            None => self.bytes.len(),
        };
    }

    /// `#| ... |#`, nesting. Only ASCII markers are compared, so byte
    /// stepping never splits a character in a way that matters.
    fn skip_block_comment(&mut self) -> RResult<()> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut i = self.pos;
        while i < self.bytes.len() {
            match (self.bytes[i], self.bytes.get(i + 1)) {
                (b'#', Some(b'|')) => {
                    depth += 1;
                    i += 2;
                }
                (b'|', Some(b'#')) => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        self.pos = i;
                        return Ok(());
                    }
                }
                _ => i += 1,
            }
        }
        Err(self.eof_err(start, start + 2, "unterminated block comment: missing `|#`"))
    }

    /// A string (`"`) or a `|symbol|`: reads up to the closing `quote`
    /// (current position is the opening one), decoding escapes.
    fn read_delimited(&mut self, quote: u8) -> RResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let what = if quote == b'"' {
            "string"
        } else {
            "`|` symbol"
        };
        loop {
            // Copy the run up to the next quote or backslash at once.
            let run = self.bytes[self.pos..]
                .iter()
                .position(|&b| b == quote || b == b'\\')
                .unwrap_or(self.bytes.len() - self.pos);
            out.push_str(&self.text[self.pos..self.pos + run]);
            self.pos += run;
            let Some(c) = self.peek_char() else {
                return Err(self.eof_err(
                    start,
                    start + 1,
                    format!("unterminated {what}: missing `{}`", quote as char),
                ));
            };
            if c == quote as char {
                self.pos += 1;
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                self.pos += c.len_utf8();
                continue;
            }
            let esc = self.pos;
            self.pos += 1;
            let Some(e) = self.peek_char() else {
                continue; // reported as unterminated above
            };
            self.pos += e.len_utf8();
            match e {
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                't' => out.push('\t'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '"' | '\\' | '|' => out.push(e),
                'x' | 'X' => out.push(self.hex_escape(esc)?),
                ' ' | '\t' | '\n' | '\r' => {
                    self.pos = esc + 1;
                    self.line_continuation(esc)?;
                }
                _ => {
                    return Err(self.err(
                        esc,
                        self.pos,
                        format!("unknown escape {} in {what}", code(&format!("\\{e}"))),
                    ))
                }
            }
        }
    }

    /// `\xHH;` (position is after the `x`).
    fn hex_escape(&mut self, esc: usize) -> RResult<char> {
        let digits_start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_hexdigit() {
            self.pos += 1;
        }
        let digits = &self.text[digits_start..self.pos];
        if self.pos == self.bytes.len() {
            // Cut short by the end of the text: the string is unterminated.
            return Err(self.eof_err(
                esc,
                self.pos,
                "bad `\\x` escape: expected hex digits ended by `;`",
            ));
        }
        if self.bytes.get(self.pos) != Some(&b';') || digits.is_empty() {
            return Err(self.err(
                esc,
                self.pos,
                "bad `\\x` escape: expected hex digits ended by `;`",
            ));
        }
        self.pos += 1;
        u32::from_str_radix(digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                self.err(
                    esc,
                    self.pos,
                    format!("bad `\\x` escape: #x{digits} is not a Unicode scalar value"),
                )
            })
    }

    /// `\<spaces><newline><spaces>` inside a string: nothing. Position is
    /// just after the backslash.
    fn line_continuation(&mut self, esc: usize) -> RResult<()> {
        let intraline = |b: u8| b == b' ' || b == b'\t';
        while self.bytes.get(self.pos).copied().is_some_and(intraline) {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.bytes.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
            Some(b'\r') => self.pos += 1,
            None => return Ok(()), // reported as unterminated by the caller
            Some(_) => {
                return Err(self.err(
                    esc,
                    self.pos,
                    "bad escape: `\\` followed by spaces must end the line",
                ))
            }
        }
        while self.bytes.get(self.pos).copied().is_some_and(intraline) {
            self.pos += 1;
        }
        Ok(())
    }

    /// Everything starting with `#` other than comments and directives.
    fn read_hash(&mut self) -> RResult<Token> {
        let start = self.pos;
        let rest = &self.bytes[start + 1..];
        match rest {
            [b'(', ..] => {
                self.pos += 2;
                return Ok(Token::Open(Open::Vector, start));
            }
            [b'u' | b'U', b'8', b'(', ..] => {
                self.pos += 4;
                return Ok(Token::Open(Open::Bytevector, start));
            }
            [b'\\', ..] => return self.read_char(),
            [b';', ..] => {
                self.pos += 2;
                return Ok(Token::DatumComment(self.span(start, start + 2)));
            }
            [b'0'..=b'9', ..] => {
                let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                let after = start + 1 + digits;
                let mark = self.bytes.get(after).copied();
                if matches!(mark, Some(b'=' | b'#')) {
                    return self.read_label(start, after, mark == Some(b'='));
                }
            }
            _ => {}
        }
        let end = self.token_end(start + 1);
        let text = &self.text[start..end];
        self.pos = end;
        let span = self.span(start, end);
        // Only short tokens can be booleans or `#u8`: lowercase those in a
        // small buffer, without allocating.
        let mut buf = [0u8; 8];
        let lower = match text.len() {
            n if n <= buf.len() => {
                buf[..n].copy_from_slice(text.as_bytes());
                buf[..n].make_ascii_lowercase();
                std::str::from_utf8(&buf[..n]).unwrap_or("")
            }
            _ => "",
        };
        let kind = match lower {
            "#t" | "#true" => DatumKind::Bool(true),
            "#f" | "#false" => DatumKind::Bool(false),
            "#" => {
                return Err(self.err(start, start + 1, "bad `#` syntax: `#` alone"));
            }
            "#u8" => {
                return Err(self.err(start, end, "bad `#` syntax: `#u8` must be followed by `(`"));
            }
            _ if matches!(
                self.bytes[start + 1].to_ascii_lowercase(),
                b'x' | b'b' | b'o' | b'd' | b'e' | b'i'
            ) =>
            {
                match parse_number(text, 10) {
                    Ok(Some(n)) => number_kind(n),
                    Ok(None) => {
                        return Err(self.err(
                            start,
                            end,
                            format!("bad number syntax {}", code(text)),
                        ))
                    }
                    Err(msg) => return Err(self.err(start, end, msg)),
                }
            }
            _ => return Err(self.err(start, end, format!("bad `#` syntax {}", code(text)))),
        };
        Ok(Token::Atom(Datum::new(kind, span)))
    }

    /// `#N=` or `#N#` (R7RS 2.4): `start` is at `#`, `mark` at `=`/`#`.
    fn read_label(&mut self, start: usize, mark: usize, def: bool) -> RResult<Token> {
        let end = mark + 1;
        if !def {
            // `#0#` is a whole token: a delimiter must follow.
            let token_end = self.token_end(end);
            if token_end != end {
                self.pos = token_end;
                let text = &self.text[start..token_end];
                return Err(self.err(start, token_end, format!("bad `#` syntax {}", code(text))));
            }
        }
        self.pos = end;
        let span = self.span(start, end);
        let Ok(n) = self.text[start + 1..mark].parse::<u32>() else {
            return Err(self.err(
                start,
                end,
                format!("datum label {} is too large", code(self.slice(span))),
            ));
        };
        Ok(if def {
            Token::LabelDef(n, span)
        } else {
            Token::LabelRef(n, span)
        })
    }

    /// `#\a`, `#\space`, `#\x41`, `#\λ`, `#\(`.
    fn read_char(&mut self) -> RResult<Token> {
        let start = self.pos;
        let body = start + 2;
        self.pos = body;
        let Some(first) = self.peek_char() else {
            return Err(self.err(start, body, "expected a character after `#\\`"));
        };
        // A delimiter right after `#\` is the character itself.
        let end = if is_delimiter(first) {
            body + first.len_utf8()
        } else {
            self.token_end(body)
        };
        self.pos = end;
        let name = &self.text[body..end];
        let span = self.span(start, end);
        let mut chars = name.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Token::Atom(Datum::new(DatumKind::Char(c), span)));
        }
        let folded;
        let key = if self.fold_case {
            folded = fold_case(name);
            folded.as_str()
        } else {
            name
        };
        let c = match key {
            "alarm" => '\u{7}',
            "backspace" => '\u{8}',
            "delete" => '\u{7f}',
            "escape" => '\u{1b}',
            "newline" | "linefeed" => '\n',
            "null" | "nul" => '\0',
            "return" => '\r',
            "space" => ' ',
            "tab" => '\t',
            _ => match key.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(c) => c,
                        None => {
                            return Err(self.err(
                                start,
                                end,
                                format!(
                                    "{} is not a Unicode scalar value",
                                    code(&format!("#\\{name}"))
                                ),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(self.err(
                        start,
                        end,
                        format!("unknown character name {}", code(&format!("#\\{name}"))),
                    ))
                }
            },
        };
        Ok(Token::Atom(Datum::new(DatumKind::Char(c), span)))
    }

    /// A number, a symbol or `.`.
    fn read_atom(&mut self) -> RResult<Token> {
        let start = self.pos;
        let end = self.token_end(start);
        self.pos = end;
        let text = &self.text[start..end];
        let span = self.span(start, end);
        if text == "." {
            return Ok(Token::Dot(span));
        }
        let first = self.bytes[start];
        // Fast paths: a token that cannot start a number (R7RS 7.1.1: numbers
        // start with a digit, a sign, `.` or `#`) is a symbol; a short run of
        // decimal digits is a fixnum.
        if !matches!(first, b'0'..=b'9' | b'+' | b'-' | b'.') {
            return Ok(Token::Atom(Datum::new(
                DatumKind::Symbol(if self.fold_case {
                    fold_case(text)
                } else {
                    text.to_string()
                }),
                span,
            )));
        }
        if text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()) {
            let n = text.bytes().fold(0i64, |n, b| n * 10 + (b - b'0') as i64);
            return Ok(Token::Atom(Datum::new(DatumKind::Int(n), span)));
        }
        let kind = match parse_number(text, 10) {
            Ok(Some(n)) => number_kind(n),
            Ok(None) if self.fold_case => DatumKind::Symbol(fold_case(text)),
            Ok(None) => DatumKind::Symbol(text.to_string()),
            Err(msg) => return Err(self.err(start, end, msg)),
        };
        Ok(Token::Atom(Datum::new(kind, span)))
    }
}

/// Source text quoted as inline code in a message: control characters
/// escaped, long text shortened, backquotes kept readable.
fn code(text: &str) -> String {
    const MAX: usize = 40;
    let mut shown = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            shown.push_str("...");
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if shown.contains('`') {
        format!("`` {shown} ``")
    } else {
        format!("`{shown}`")
    }
}

fn number_kind(n: Num) -> DatumKind {
    match n {
        Num::Fix(i) => DatumKind::Int(i),
        Num::Flo(x) => DatumKind::Float(x),
        n => DatumKind::Number(format_number(&n, 10)),
    }
}

/// `#!fold-case` folds identifiers and character names as `string-foldcase`
/// does (R7RS 2.1): full Unicode case folding (docs/unicode.md).
fn fold_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        crate::unicode::fold_full_into(c, &mut out);
    }
    out
}

mod labels;
pub use labels::resolve_labels;

#[cfg(test)]
mod tests;
