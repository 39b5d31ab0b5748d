//! The reader: source text to [`Datum`]s with spans (R7RS 7.1.1 lexical
//! syntax, plus `[ ]` as list brackets).
//!
//! Reading is iterative (an explicit stack of open lists, vectors, prefixes
//! and datum comments) so that no input can overflow the Rust stack. Nesting
//! is still capped at [`MAX_DEPTH`] because every consumer of the datum tree
//! (the expander, `Drop`, `Clone`, `Debug`) walks it recursively: a tree of
//! that depth is dropped, cloned and compared within 512 KiB of stack.

use super::datum::{Datum, DatumKind};
use super::diag::Diagnostic;
use super::source::{FileId, SourceMap, Span};
use valk_runtime::num::text::{format_number, parse_number};
use valk_runtime::num::Num;

/// Deepest nesting of lists, vectors, quote prefixes and datum comments the
/// reader accepts (real programs stay far below; raise it only together with
/// the stack given to the expander).
pub const MAX_DEPTH: usize = 1_000;

/// Reads every datum of a file registered in `sources`.
pub fn read_all(sources: &SourceMap, file: FileId) -> Result<Vec<Datum>, Diagnostic> {
    let Some(f) = sources.files().get(file.0 as usize) else {
        return Err(Diagnostic::error(format!(
            "unknown source file #{}",
            file.0
        )));
    };
    Reader::new(&f.text, file).read_all().map_err(|e| e.diag)
}

/// Registers `text` under `name` in `sources` and reads it.
pub fn read_str(sources: &mut SourceMap, name: &str, text: &str) -> Result<Vec<Datum>, Diagnostic> {
    let file = sources.add(name, text);
    read_all(sources, file)
}

/// True when `text` ends inside an unclosed list, vector, string, `|symbol|`,
/// block comment, quote prefix or datum comment: the REPL should then read
/// another line before evaluating. Other errors give false (the REPL reports
/// them at once).
pub fn is_incomplete(text: &str) -> bool {
    matches!(Reader::new(text, FileId(0)).read_all(), Err(e) if e.incomplete)
}

struct ReadError {
    diag: Diagnostic,
    /// The error is "input ended too early".
    incomplete: bool,
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
    List {
        open: Open,
        start: usize,
        items: Vec<Datum>,
        dot: Dot,
    },
    Vector {
        start: usize,
        items: Vec<Datum>,
    },
    Bytevector {
        start: usize,
        bytes: Vec<u8>,
    },
    Prefix {
        name: &'static str,
        span: Span,
    },
    Comment {
        span: Span,
    },
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: FileId,
    fold_case: bool,
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
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start as u32, end as u32)
    }

    fn err(&self, start: usize, end: usize, msg: impl Into<String>) -> ReadError {
        ReadError {
            diag: Diagnostic::at(self.span(start, end), msg),
            incomplete: false,
        }
    }

    fn eof_err(&self, start: usize, end: usize, msg: impl Into<String>) -> ReadError {
        ReadError {
            diag: Diagnostic::at(self.span(start, end), msg),
            incomplete: true,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    /// End of the run of non-delimiter characters starting at `from`.
    fn token_end(&self, from: usize) -> usize {
        let rest = &self.text[from..];
        rest.char_indices()
            .find(|&(_, c)| is_delimiter(c))
            .map_or(self.text.len(), |(i, _)| from + i)
    }

    /// 1-based line and column (in characters) of a byte offset, for notes.
    fn line_col(&self, pos: usize) -> (usize, usize) {
        let before = &self.text[..pos];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    fn read_all(mut self) -> RResult<Vec<Datum>> {
        if self.text.len() > u32::MAX as usize {
            return Err(ReadError {
                diag: Diagnostic::error("source file too large (over 4 GiB)"),
                incomplete: false,
            });
        }
        let mut out = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let token = self.next_token()?;
            let opens = matches!(
                token,
                Token::Open(..) | Token::Prefix(..) | Token::DatumComment(_)
            );
            if opens && stack.len() >= MAX_DEPTH {
                let (s, e) = match &token {
                    Token::Open(_, s) => (*s, *s + 1),
                    Token::Prefix(_, sp) | Token::DatumComment(sp) => {
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
            match token {
                Token::Eof => {
                    return match stack.last() {
                        None => Ok(out),
                        Some(frame) => Err(self.unclosed(frame)),
                    };
                }
                Token::Open(open, start) => stack.push(match open {
                    Open::Paren | Open::Bracket => Frame::List {
                        open,
                        start,
                        items: Vec::new(),
                        dot: Dot::No,
                    },
                    Open::Vector => Frame::Vector {
                        start,
                        items: Vec::new(),
                    },
                    Open::Bytevector => Frame::Bytevector {
                        start,
                        bytes: Vec::new(),
                    },
                }),
                Token::Prefix(name, span) => stack.push(Frame::Prefix { name, span }),
                Token::DatumComment(span) => stack.push(Frame::Comment { span }),
                Token::Dot(span) => match stack.last_mut() {
                    Some(Frame::List { items, dot, .. })
                        if !items.is_empty() && matches!(dot, Dot::No) =>
                    {
                        *dot = Dot::Seen(span)
                    }
                    _ => {
                        return Err(ReadError {
                            diag: Diagnostic::at(span, "misplaced `.`")
                                .with_label("`.` may only appear before the last datum of a list"),
                            incomplete: false,
                        })
                    }
                },
                Token::Close(c, pos) => {
                    let datum = self.close(stack.pop(), c, pos)?;
                    self.deliver(&mut stack, &mut out, datum)?;
                }
                Token::Atom(datum) => self.deliver(&mut stack, &mut out, datum)?,
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
            Frame::Prefix { span, .. } => ReadError {
                diag: Diagnostic::at(
                    *span,
                    format!("expected a datum after {}", code(self.slice(*span))),
                ),
                incomplete: true,
            },
            Frame::Comment { span } => ReadError {
                diag: Diagnostic::at(*span, "expected a datum after `#;`"),
                incomplete: true,
            },
        }
    }

    fn slice(&self, span: Span) -> &'a str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// Handles a closing `)`/`]` at `pos` for the innermost open frame.
    fn close(&self, frame: Option<Frame>, c: u8, pos: usize) -> RResult<Datum> {
        let closer = c as char;
        let (open, start) = match &frame {
            None => return Err(self.err(pos, pos + 1, format!("unexpected `{closer}`"))),
            Some(Frame::List { open, start, .. }) => (*open, *start),
            Some(Frame::Vector { start, .. }) => (Open::Vector, *start),
            Some(Frame::Bytevector { start, .. }) => (Open::Bytevector, *start),
            Some(Frame::Prefix { span, .. }) => {
                return Err(self.err(
                    span.start as usize,
                    span.end as usize,
                    format!("expected a datum after {}", code(self.slice(*span))),
                ))
            }
            Some(Frame::Comment { span }) => {
                return Err(self.err(
                    span.start as usize,
                    span.end as usize,
                    "expected a datum after `#;`",
                ))
            }
        };
        if open.closer() != c {
            let (line, col) = self.line_col(start);
            return Err(ReadError {
                diag: Diagnostic::at(
                    self.span(pos, pos + 1),
                    format!("`{closer}` does not match `{}`", open.opener()),
                )
                .with_label(format!("expected `{}`", open.closer() as char))
                .with_note(format!(
                    "the {} opened with `{}` at line {line}, column {col}",
                    open.what(),
                    open.opener()
                )),
                incomplete: false,
            });
        }
        let span = self.span(start, pos + 1);
        let kind = match frame {
            Some(Frame::List { mut items, dot, .. }) => match dot {
                Dot::No => DatumKind::List(items, None),
                Dot::Seen(dspan) => {
                    return Err(ReadError {
                        diag: Diagnostic::at(dspan, "expected a datum after `.`"),
                        incomplete: false,
                    })
                }
                Dot::Tail(tail) => match tail.kind {
                    // `(a . (b c))` is the list `(a b c)`.
                    DatumKind::List(more, rest) => {
                        items.extend(more);
                        DatumKind::List(items, rest)
                    }
                    _ => DatumKind::List(items, Some(tail)),
                },
            },
            Some(Frame::Vector { items, .. }) => DatumKind::Vector(items),
            Some(Frame::Bytevector { bytes, .. }) => DatumKind::Bytevector(bytes),
            _ => unreachable!("handled above"),
        };
        Ok(Datum::new(kind, span))
    }

    /// Gives a finished datum to the innermost open frame (or the output).
    fn deliver(
        &self,
        stack: &mut Vec<Frame>,
        out: &mut Vec<Datum>,
        mut datum: Datum,
    ) -> RResult<()> {
        loop {
            match stack.last_mut() {
                None => {
                    out.push(datum);
                    return Ok(());
                }
                Some(Frame::Prefix { name, span }) => {
                    let head = Datum::new(DatumKind::Symbol((*name).to_string()), *span);
                    let whole = span.to(datum.span);
                    datum = Datum::new(DatumKind::List(vec![head, datum], None), whole);
                    stack.pop();
                }
                Some(Frame::Comment { .. }) => {
                    stack.pop();
                    return Ok(());
                }
                Some(Frame::List { items, dot, .. }) => {
                    match dot {
                        Dot::No => items.push(datum),
                        Dot::Seen(_) => *dot = Dot::Tail(Box::new(datum)),
                        Dot::Tail(_) => {
                            return Err(ReadError {
                                diag: Diagnostic::at(
                                    datum.span,
                                    "only one datum may follow `.` in a dotted list",
                                ),
                                incomplete: false,
                            })
                        }
                    }
                    return Ok(());
                }
                Some(Frame::Vector { items, .. }) => {
                    items.push(datum);
                    return Ok(());
                }
                Some(Frame::Bytevector { bytes, .. }) => {
                    match datum.kind {
                        DatumKind::Int(n) if (0..=255).contains(&n) => bytes.push(n as u8),
                        _ => {
                            return Err(ReadError {
                                diag: Diagnostic::at(
                                    datum.span,
                                    "bytevector element must be an exact integer from 0 to 255",
                                ),
                                incomplete: false,
                            })
                        }
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Skips whitespace, comments and directives; returns the next token.
    fn next_token(&mut self) -> RResult<Token> {
        loop {
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

    fn skip_line(&mut self) {
        self.pos = match self.bytes[self.pos..].iter().position(|&b| b == b'\n') {
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
            _ => {}
        }
        let end = self.token_end(start + 1);
        let text = &self.text[start..end];
        self.pos = end;
        let span = self.span(start, end);
        let lower = text.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "#t" | "#true" => DatumKind::Bool(true),
            "#f" | "#false" => DatumKind::Bool(false),
            "#" => {
                return Err(self.err(start, start + 1, "bad `#` syntax: `#` alone"));
            }
            "#u8" => {
                return Err(self.err(start, end, "bad `#` syntax: `#u8` must be followed by `(`"));
            }
            _ if matches!(lower.as_bytes()[1], b'x' | b'b' | b'o' | b'd' | b'e' | b'i') => {
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
            folded = name.to_lowercase();
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
        let kind = match parse_number(text, 10) {
            Ok(Some(n)) => number_kind(n),
            Ok(None) if self.fold_case => DatumKind::Symbol(text.to_lowercase()),
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

#[cfg(test)]
mod tests;
