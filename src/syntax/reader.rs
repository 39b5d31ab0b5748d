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
use valk_runtime::numparse::{parse_number, Number};

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

fn number_kind(n: Number) -> DatumKind {
    match n {
        Number::Fixnum(i) => DatumKind::Int(i),
        Number::Flonum(x) => DatumKind::Float(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compact printed form of a datum, to compare whole trees at once.
    fn show(d: &Datum) -> String {
        match &d.kind {
            DatumKind::Int(n) => n.to_string(),
            DatumKind::Float(x) => format!("{x:?}f"),
            DatumKind::Bool(b) => (if *b { "#t" } else { "#f" }).to_string(),
            DatumKind::Char(c) => format!("#\\{c:?}"),
            DatumKind::Str(s) => format!("{s:?}"),
            DatumKind::Symbol(s) => s.clone(),
            DatumKind::List(items, tail) => {
                let mut parts: Vec<String> = items.iter().map(show).collect();
                if let Some(t) = tail {
                    parts.push(".".to_string());
                    parts.push(show(t));
                }
                format!("({})", parts.join(" "))
            }
            DatumKind::Vector(items) => {
                let parts: Vec<String> = items.iter().map(show).collect();
                format!("#({})", parts.join(" "))
            }
            DatumKind::Bytevector(b) => {
                let parts: Vec<String> = b.iter().map(|n| n.to_string()).collect();
                format!("#u8({})", parts.join(" "))
            }
        }
    }

    fn read(text: &str) -> Vec<Datum> {
        let mut sm = SourceMap::new();
        match read_str(&mut sm, "t.valk", text) {
            Ok(d) => d,
            Err(e) => panic!("{text:?}: {}", e.render(&sm)),
        }
    }

    /// All datums of `text`, printed and separated by spaces.
    fn r(text: &str) -> String {
        read(text).iter().map(show).collect::<Vec<_>>().join(" ")
    }

    /// The error for `text`: its message and `line:col` of its start, and
    /// the source text under its span.
    fn fail(text: &str) -> (String, String, String) {
        let mut sm = SourceMap::new();
        match read_str(&mut sm, "t.valk", text) {
            Ok(d) => panic!(
                "{text:?} read as {:?}",
                d.iter().map(show).collect::<Vec<_>>()
            ),
            Err(e) => {
                let span = e.span.expect("reader errors have spans");
                let loc = sm.location(span);
                let under = text[span.start as usize..span.end as usize].to_string();
                // Rendering must work for every reader error.
                assert!(e.render(&sm).contains(&loc));
                (
                    e.message,
                    loc.trim_start_matches("t.valk:").to_string(),
                    under,
                )
            }
        }
    }

    fn err_msg(text: &str) -> String {
        fail(text).0
    }

    #[test]
    fn reader_numbers() {
        assert_eq!(
            r("0 42 -7 +7 #xff #b-101 #o17 #d9 #e1.0 #x#e10"),
            "0 42 -7 7 255 -5 15 9 1 16"
        );
        assert_eq!(
            r("1.5 .5 -2.5e-3 1e10 #i3 1."),
            "1.5f 0.5f -0.0025f 10000000000.0f 3.0f 1.0f"
        );
        assert_eq!(r("+inf.0 -inf.0"), "inff -inff");
        assert!(matches!(read("+nan.0")[0].kind, DatumKind::Float(x) if x.is_nan()));
        assert_eq!(r("#XFF #E1E2"), "255 100");
    }

    #[test]
    fn reader_symbols() {
        assert_eq!(
            r("foo + - ... 1+ -> <=? a.b |a b| || λ Foo FOO"),
            "foo + - ... 1+ -> <=? a.b a b  λ Foo FOO"
        );
        let d = read("|a\\|b\\x41;\\n| |x y|");
        assert_eq!(d[0].sym(), Some("a|bA\n"));
        assert_eq!(d[1].sym(), Some("x y"));
        assert_eq!(read("||")[0].sym(), Some(""));
        // `|` is a delimiter.
        assert_eq!(r("abc|d e|"), "abc d e");
        // Case-sensitive unless folded.
        assert_eq!(
            r("Abc #!fold-case Abc #\\NEWLINE #!no-fold-case Abc |Q|"),
            "Abc abc #\\'\\n' Abc Q"
        );
    }

    #[test]
    fn reader_booleans() {
        assert_eq!(r("#t #f #true #false #T"), "#t #f #t #f #t");
        assert_eq!(r("(#t)"), "(#t)");
        // Booleans end at a delimiter.
        assert_eq!(err_msg("(#t#f)"), "bad `#` syntax `#t#f`");
    }

    #[test]
    fn reader_strings() {
        let d = read(r#""a\nb\tc\rd\ae\bf\0g\\h\"i\x41;\x3bb;\|""#);
        assert_eq!(
            d[0].kind,
            DatumKind::Str("a\nb\tc\rd\u{7}e\u{8}f\0g\\h\"iA\u{3bb}|".to_string())
        );
        assert_eq!(
            read("\"abc \\\n     def\"")[0].kind,
            DatumKind::Str("abc def".into())
        );
        assert_eq!(
            read("\"abc\\   \r\n\t def\"")[0].kind,
            DatumKind::Str("abcdef".into())
        );
        assert_eq!(
            read("\"two\nlines λ\"")[0].kind,
            DatumKind::Str("two\nlines λ".into())
        );
        assert_eq!(read("\"\"")[0].kind, DatumKind::Str(String::new()));
        assert_eq!(read("\"a;b\"")[0].kind, DatumKind::Str("a;b".into()));
    }

    #[test]
    fn reader_chars() {
        let cases = [
            ("#\\a", 'a'),
            ("#\\A", 'A'),
            ("#\\space", ' '),
            ("#\\newline", '\n'),
            ("#\\tab", '\t'),
            ("#\\nul", '\0'),
            ("#\\null", '\0'),
            ("#\\alarm", '\u{7}'),
            ("#\\backspace", '\u{8}'),
            ("#\\delete", '\u{7f}'),
            ("#\\escape", '\u{1b}'),
            ("#\\return", '\r'),
            ("#\\x41", 'A'),
            ("#\\x3bb", 'λ'),
            ("#\\x", 'x'),
            ("#\\λ", 'λ'),
            ("#\\(", '('),
            ("#\\)", ')'),
            ("#\\ ", ' '),
            ("#\\;", ';'),
            ("#\\\"", '"'),
            ("#\\#", '#'),
            ("#\\\\", '\\'),
        ];
        for (text, c) in cases {
            let d = read(text);
            assert_eq!(d.len(), 1, "{text}");
            assert_eq!(d[0].kind, DatumKind::Char(c), "{text}");
            assert_eq!(d[0].span.end as usize, text.len(), "{text}");
        }
        assert_eq!(r("(#\\a #\\b)"), "(#\\'a' #\\'b')");
        assert_eq!(err_msg("(#\\a#\\b)"), "unknown character name `#\\a#\\b`");
        assert_eq!(r("(#\\))"), "(#\\')')");
        assert_eq!(r("(#\\( x)"), "(#\\'(' x)");
    }

    #[test]
    fn reader_lists_and_brackets() {
        assert_eq!(r("()"), "()");
        assert_eq!(r("(a (b c) [d e] ())"), "(a (b c) (d e) ())");
        assert_eq!(r("[let ([x 1]) x]"), "(let ((x 1)) x)");
        assert_eq!(r("(a . b)"), "(a . b)");
        assert_eq!(r("(a b . c)"), "(a b . c)");
        assert_eq!(r("(a . (b c))"), "(a b c)");
        assert_eq!(r("(a . (b . c))"), "(a b . c)");
        assert_eq!(r("(a . ())"), "(a)");
        assert_eq!(r("(a .b)"), "(a .b)");
        assert_eq!(r("(a . 'b)"), "(a quote b)");
        assert_eq!(r("(1 .5)"), "(1 0.5f)");
        assert_eq!(r("a b\n c"), "a b c");
    }

    #[test]
    fn reader_vectors_and_bytevectors() {
        assert_eq!(r("#(1 a \"s\" #(2))"), "#(1 a \"s\" #(2))");
        assert_eq!(r("#()"), "#()");
        assert_eq!(r("#u8(0 1 255 #xff)"), "#u8(0 1 255 255)");
        assert_eq!(r("#U8()"), "#u8()");
        assert_eq!(r("#u8(1 #;300 2)"), "#u8(1 2)");
    }

    #[test]
    fn reader_quotes() {
        assert_eq!(
            r("'a `(b ,c ,@d) ''e"),
            "(quote a) (quasiquote (b (unquote c) (unquote-splicing d))) (quote (quote e))"
        );
        let d = read("  ,@ x");
        let items = d[0].list().unwrap();
        assert_eq!((items[0].span.start, items[0].span.end), (2, 4));
        assert_eq!((items[1].span.start, items[1].span.end), (5, 6));
        assert_eq!((d[0].span.start, d[0].span.end), (2, 6));
        assert_eq!(
            r("'#(1) '\"s\" '#\\a"),
            "(quote #(1)) (quote \"s\") (quote #\\'a')"
        );
        assert_eq!(r("' #;x y"), "(quote y)");
    }

    #[test]
    fn reader_comments() {
        assert_eq!(r("a ; comment\nb ;last"), "a b");
        assert_eq!(r("a #| block |# b"), "a b");
        assert_eq!(r("a #| outer #| inner |# still |# b"), "a b");
        assert_eq!(r("#|λ|#x"), "x");
        assert_eq!(r("(a #;b c)"), "(a c)");
        assert_eq!(r("(a #;(b (c)) d)"), "(a d)");
        assert_eq!(r("#;#;a b c"), "c");
        assert_eq!(r("(a #;b)"), "(a)");
        assert_eq!(r("(a . #;b c)"), "(a . c)");
        assert_eq!(r("#; 'x y"), "y");
        assert_eq!(r("; only a comment"), "");
        assert_eq!(r(""), "");
        assert_eq!(r("#!/usr/bin/env valk\n(x)"), "(x)");
        assert_eq!(r("a;b\nc"), "a c");
    }

    #[test]
    fn reader_spans() {
        let text = "(define (f x)\n  \"s\" #\\a 12 #(1) #u8(2))";
        let d = read(text);
        let top = &d[0];
        assert_eq!(
            (top.span.start as usize, top.span.end as usize),
            (0, text.len())
        );
        let items = top.list().unwrap();
        let spans: Vec<&str> = items
            .iter()
            .map(|i| &text[i.span.start as usize..i.span.end as usize])
            .collect();
        assert_eq!(
            spans,
            ["define", "(f x)", "\"s\"", "#\\a", "12", "#(1)", "#u8(2)"]
        );
        let inner = items[1].list().unwrap();
        assert_eq!((inner[1].span.start, inner[1].span.end), (11, 12));
        let d = read("(λ (é) é)");
        let items = d[0].list().unwrap();
        assert_eq!(
            &"(λ (é) é)"[items[2].span.start as usize..items[2].span.end as usize],
            "é"
        );
        let mut sm = SourceMap::new();
        let ds = read_str(&mut sm, "a.valk", "1\n  (x)").unwrap();
        assert_eq!(sm.location(ds[1].span), "a.valk:2:3");
        assert_eq!(ds[1].span.file, FileId(0));
        let ds = read_str(&mut sm, "b.valk", "y").unwrap();
        assert_eq!(ds[0].span.file, FileId(1));
        assert_eq!(read_all(&sm, FileId(1)).unwrap()[0].sym(), Some("y"));
        assert!(read_all(&sm, FileId(9)).is_err());
    }

    #[test]
    fn reader_errors_and_locations() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("(foo))", "unexpected `)`", "1:6", ")"),
            ("a\n]", "unexpected `]`", "2:1", "]"),
            ("(a]", "`]` does not match `(`", "1:3", "]"),
            ("[a)", "`)` does not match `[`", "1:3", ")"),
            ("#(a]", "`]` does not match `#(`", "1:4", "]"),
            ("(a\n (b)", "unterminated list: missing `)`", "1:1", "("),
            ("x [a", "unterminated list: missing `]`", "1:3", "["),
            ("#(1", "unterminated vector: missing `)`", "1:1", "#("),
            (
                "#u8(1",
                "unterminated bytevector: missing `)`",
                "1:1",
                "#u8(",
            ),
            ("(x \"abc", "unterminated string: missing `\"`", "1:4", "\""),
            ("|abc", "unterminated `|` symbol: missing `|`", "1:1", "|"),
            (
                "a #| b #| c |#",
                "unterminated block comment: missing `|#`",
                "1:3",
                "#|",
            ),
            ("(a 'b ')", "expected a datum after `'`", "1:7", "'"),
            ("(a ,@)", "expected a datum after `,@`", "1:4", ",@"),
            ("`", "expected a datum after `` ` ``", "1:1", "`"),
            ("(a #;)", "expected a datum after `#;`", "1:4", "#;"),
            ("#;", "expected a datum after `#;`", "1:1", "#;"),
            ("(. a)", "misplaced `.`", "1:2", "."),
            (".", "misplaced `.`", "1:1", "."),
            (
                "(a . b c)",
                "only one datum may follow `.` in a dotted list",
                "1:8",
                "c",
            ),
            ("(a . b . c)", "misplaced `.`", "1:8", "."),
            ("(a .)", "expected a datum after `.`", "1:4", "."),
            ("#(a . b)", "misplaced `.`", "1:5", "."),
            ("(a '.)", "misplaced `.`", "1:5", "."),
            (
                "#u8(1 256)",
                "bytevector element must be an exact integer from 0 to 255",
                "1:7",
                "256",
            ),
            (
                "#u8(-1)",
                "bytevector element must be an exact integer from 0 to 255",
                "1:5",
                "-1",
            ),
            (
                "#u8(a)",
                "bytevector element must be an exact integer from 0 to 255",
                "1:5",
                "a",
            ),
            (
                "#u8((1))",
                "bytevector element must be an exact integer from 0 to 255",
                "1:5",
                "(1)",
            ),
            (
                "#u8 (1)",
                "bad `#` syntax: `#u8` must be followed by `(`",
                "1:1",
                "#u8",
            ),
            ("# a", "bad `#` syntax: `#` alone", "1:1", "#"),
            ("#", "bad `#` syntax: `#` alone", "1:1", "#"),
            ("#foo", "bad `#` syntax `#foo`", "1:1", "#foo"),
            ("#truex", "bad `#` syntax `#truex`", "1:1", "#truex"),
            ("(#xfg)", "bad number syntax `#xfg`", "1:2", "#xfg"),
            (
                "#e1.5",
                "exact rationals are not supported yet",
                "1:1",
                "#e1.5",
            ),
            (
                "x 1/2",
                "exact rationals are not supported yet",
                "1:3",
                "1/2",
            ),
            (
                "1+2i",
                "complex numbers are not supported yet",
                "1:1",
                "1+2i",
            ),
            (
                "(+ 1 99999999999999999999)",
                "integer literal out of range (bignums are not supported yet)",
                "1:6",
                "99999999999999999999",
            ),
            ("#\\foo", "unknown character name `#\\foo`", "1:1", "#\\foo"),
            (
                "#\\xD800",
                "`#\\xD800` is not a Unicode scalar value",
                "1:1",
                "#\\xD800",
            ),
            ("#\\", "expected a character after `#\\`", "1:1", "#\\"),
            ("\"a\\qb\"", "unknown escape `\\q` in string", "1:3", "\\q"),
            (
                "|a\\qb|",
                "unknown escape `\\q` in `|` symbol",
                "1:3",
                "\\q",
            ),
            (
                "\"\\x41\"",
                "bad `\\x` escape: expected hex digits ended by `;`",
                "1:2",
                "\\x41",
            ),
            (
                "\"\\x;\"",
                "bad `\\x` escape: expected hex digits ended by `;`",
                "1:2",
                "\\x",
            ),
            (
                "\"\\xD800;\"",
                "bad `\\x` escape: #xD800 is not a Unicode scalar value",
                "1:2",
                "\\xD800;",
            ),
            (
                "\"a\\  b\"",
                "bad escape: `\\` followed by spaces must end the line",
                "1:3",
                "\\  ",
            ),
            ("#!foo", "unknown directive `#!foo`", "1:1", "#!foo"),
            ("λ \"é\\é\"", "unknown escape `\\é` in string", "1:5", "\\é"),
        ];
        for &(text, msg, loc, under) in cases {
            let (m, l, u) = fail(text);
            assert_eq!(
                (m.as_str(), l.as_str(), u.as_str()),
                (msg, loc, under),
                "input {text:?}"
            );
        }
    }

    #[test]
    fn reader_messages_quote_source_text_safely() {
        assert_eq!(err_msg("#`"), "bad `#` syntax `` #` ``");
        assert_eq!(err_msg("#\0"), "bad `#` syntax `#\\u{0}`");
        let long = format!("#{}", "9".repeat(100));
        assert_eq!(
            err_msg(&long),
            format!("bad `#` syntax `#{}...`", "9".repeat(39))
        );
    }

    #[test]
    fn reader_mismatch_note_names_the_opener() {
        let mut sm = SourceMap::new();
        let e = read_str(&mut sm, "m.valk", "(define (f)\n  [g x)").unwrap_err();
        assert_eq!(e.label.as_deref(), Some("expected `]`"));
        assert_eq!(e.notes, ["the list opened with `[` at line 2, column 3"]);
        let out = e.render(&sm);
        assert!(out.contains("m.valk:2:7"), "{out}");
        assert!(out.contains("^ expected `]`"), "{out}");
    }

    #[test]
    fn reader_first_error_wins() {
        assert_eq!(err_msg("(a)) (b"), "unexpected `)`");
        assert_eq!(err_msg("(a #\\bogus"), "unknown character name `#\\bogus`");
    }

    #[test]
    fn reader_incomplete_input() {
        for text in [
            "(",
            "(define (f x)\n  (+ x 1)",
            "[a",
            "#(1 2",
            "#u8(",
            "\"abc",
            "\"abc\\",
            "|sym",
            "#| comment",
            "#| a #| b |#",
            "'",
            "(a `",
            "#;",
            "(a . ",
            "(a #;",
            "\"a\\\n",
        ] {
            assert!(is_incomplete(text), "{text:?} should be incomplete");
        }
        for text in [
            "",
            "a",
            "(a)",
            "(a))",
            "(a]",
            "\"a\"",
            "; (",
            "#| x |#",
            "#|x|# (",
            "(a \"b\" #\\x)",
            "#\\(",
            "(a #foo",
            ")",
            "#u8(300",
        ] {
            let expect = text == "#|x|# (";
            assert_eq!(is_incomplete(text), expect, "{text:?}");
        }
    }

    #[test]
    fn reader_deep_nesting_is_an_error_not_a_crash() {
        for text in [
            "(".repeat(100_000),
            "[".repeat(100_000),
            "#(".repeat(100_000),
            "'".repeat(100_000) + "x",
            "#;".repeat(100_000) + "x",
            "(".repeat(100_000) + &")".repeat(100_000),
        ] {
            let msg = err_msg(&text);
            assert_eq!(
                msg,
                format!("too deeply nested (more than {MAX_DEPTH} levels)")
            );
            assert!(!is_incomplete(&text));
        }
    }

    #[test]
    fn reader_max_depth_tree_can_be_used_on_a_small_stack() {
        // The deepest accepted tree must survive Drop/Clone/PartialEq on a
        // thread with a modest stack (the expander runs on a larger one).
        let text = "(".repeat(MAX_DEPTH) + &")".repeat(MAX_DEPTH);
        std::thread::Builder::new()
            .stack_size(512 << 10)
            .spawn(move || {
                let d = read(&text);
                let copy = d.clone();
                assert!(copy == d);
                drop(copy);
                drop(d);
            })
            .unwrap()
            .join()
            .unwrap();
        // A long flat list is no problem at all.
        let flat = format!("({})", "x ".repeat(200_000));
        assert_eq!(read(&flat)[0].list().unwrap().len(), 200_000);
    }

    #[test]
    fn reader_never_slices_inside_a_character() {
        for text in [
            "#\\λλ",
            "#λ",
            "#\\xλ",
            "\"\\λ\"",
            "(é]",
            "#u8(é)",
            "#eé",
            "é)",
            "#|é",
            "|é\\",
            "\"é\\xé;\"",
            "\u{a0}x\u{2003}(",
            "#!λ",
            "#\\x41λ",
            "#xλ",
        ] {
            let mut sm = SourceMap::new();
            if let Err(e) = read_str(&mut sm, "u.valk", text) {
                let span = e.span.unwrap();
                assert!(text.is_char_boundary(span.start as usize), "{text:?}");
                assert!(text.is_char_boundary(span.end as usize), "{text:?}");
                let _ = e.render(&sm);
            }
            let _ = is_incomplete(text);
        }
        // Non-ASCII whitespace separates datums.
        assert_eq!(r("a\u{a0}b"), "a b");
    }
}
