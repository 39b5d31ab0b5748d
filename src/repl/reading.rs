//! Splitting REPL input into forms and commands (docs/repl.md, "Reading").
//!
//! Lines accumulate in a [`Pending`] buffer. A lenient scanner finds where
//! each top-level datum ends by counting brackets (strings, `|symbols|`,
//! comments and character literals aside) without judging the tokens, so a
//! syntax error inside a form does not end the form early: the whole form
//! is handed to the reader, which reports the error, and none of it runs.
//! Text after a complete form waits for the next form instead of being
//! lost or glued to it.

use std::ops::Range;

/// One complete piece of input, as a byte range of the chunk it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A datum (or a stray closing bracket, which the reader reports).
    Form(Range<usize>),
    /// A meta-command: from the `,` to the end of its line.
    Command(Range<usize>),
}

/// Where the datum starting at `start` ends; `None` when the text ends
/// first (more lines could complete it).
fn datum_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    let mut depth = 0usize;
    loop {
        i = skip_atmosphere(b, i)?;
        let c = *b.get(i)?;
        i = match c {
            b'(' | b'[' => {
                depth += 1;
                i += 1;
                continue;
            }
            b')' | b']' => {
                // A stray closer at depth 0 is an item of its own.
                depth = depth.saturating_sub(1);
                i + 1
            }
            b'\'' | b'`' => {
                i += 1;
                continue;
            }
            b',' => {
                i += if b.get(i + 1) == Some(&b'@') { 2 } else { 1 };
                continue;
            }
            b'"' | b'|' => quoted_end(b, i + 1, c)?,
            b'#' => match b.get(i + 1) {
                Some(b'(') => {
                    depth += 1;
                    i += 2;
                    continue;
                }
                Some(b';') => {
                    i += 2;
                    continue;
                }
                Some(b'u') if b[i..].starts_with(b"#u8(") => {
                    depth += 1;
                    i += 4;
                    continue;
                }
                Some(b'\\') => {
                    // `#\(` and `#\;` are characters: skip one whole char.
                    let rest = std::str::from_utf8(&b[i + 2..]).ok();
                    let n = match rest.and_then(|r| r.chars().next()) {
                        Some(ch) => ch.len_utf8(),
                        None => b.len().saturating_sub(i + 2).min(1),
                    };
                    atom_end(b, i + 2 + n)
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut j = i + 1;
                    while b.get(j).is_some_and(u8::is_ascii_digit) {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'=') {
                        // A datum label prefixes the next datum.
                        i = j + 1;
                        continue;
                    }
                    atom_end(b, j)
                }
                _ => atom_end(b, i + 1),
            },
            _ => atom_end(b, i),
        };
        if depth == 0 {
            return Some(i);
        }
    }
}

/// Skips whitespace, `;` comments and (nested) `#| |#` comments; `None`
/// inside an unclosed block comment.
fn skip_atmosphere(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_whitespace() => i += 1,
            Some(b';') => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            Some(b'#') if b.get(i + 1) == Some(&b'|') => {
                let mut nest = 1;
                i += 2;
                while nest > 0 {
                    if b[i..].starts_with(b"|#") {
                        nest -= 1;
                        i += 2;
                    } else if b[i..].starts_with(b"#|") {
                        nest += 1;
                        i += 2;
                    } else if i < b.len() {
                        i += 1;
                    } else {
                        return None;
                    }
                }
            }
            _ => return Some(i),
        }
    }
}

/// The end of a string or `|symbol|` whose body starts at `i`.
fn quoted_end(b: &[u8], mut i: usize, close: u8) -> Option<usize> {
    loop {
        match *b.get(i)? {
            b'\\' => i += 2,
            c if c == close => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The end of an atom (symbol, number, `#t`...) continuing at `i`.
fn atom_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() || matches!(c, b'(' | b')' | b'[' | b']' | b'"' | b';' | b'|') {
            break;
        }
        i += 1;
    }
    i
}

/// The complete items of `text` from byte `from`, and where the unfinished
/// rest starts (`text.len()` when nothing is left).
pub fn split(text: &str, from: usize) -> (Vec<Item>, usize) {
    let b = text.as_bytes();
    let mut items = Vec::new();
    let mut i = from;
    loop {
        let Some(start) = skip_atmosphere(b, i) else {
            return (items, i);
        };
        if start >= b.len() {
            return (items, b.len());
        }
        if b[start] == b',' {
            let end = text[start..].find('\n').map_or(b.len(), |n| start + n);
            items.push(Item::Command(start..end));
            i = end;
            continue;
        }
        match datum_end(b, start) {
            Some(end) => {
                items.push(Item::Form(start..end));
                i = end;
            }
            None => return (items, start),
        }
    }
}

/// Input lines not consumed yet. `text` starts at the beginning of a line
/// (so columns in diagnostics are right); its first `skip` bytes were
/// consumed already.
#[derive(Default)]
pub struct Pending {
    text: String,
    skip: usize,
}

/// Complete items and the text they are ranges of.
pub struct Chunk {
    pub text: String,
    pub items: Vec<Item>,
}

impl Chunk {
    pub fn slice(&self, r: &Range<usize>) -> &str {
        &self.text[r.clone()]
    }

    /// The text of the items, for the history.
    pub fn entered(&self) -> &str {
        let range = |i: &Item| match i {
            Item::Form(r) | Item::Command(r) => r.clone(),
        };
        let start = self.items.first().map_or(0, |i| range(i).start);
        let end = self.items.last().map_or(0, |i| range(i).end);
        &self.text[start..end]
    }
}

impl Pending {
    /// Appends a line (its line terminator is added).
    pub fn push_line(&mut self, line: &str) {
        self.text.push_str(line.trim_end_matches(['\n', '\r']));
        self.text.push('\n');
    }

    /// True while an unfinished datum waits for more lines.
    pub fn is_waiting(&self) -> bool {
        !self.text[self.skip..].trim().is_empty()
    }

    /// Forgets the unfinished input (Ctrl-C at a continuation prompt).
    pub fn clear(&mut self) {
        self.text.clear();
        self.skip = 0;
    }

    /// Takes the complete items; what is left starts the next chunk.
    pub fn take(&mut self) -> Option<Chunk> {
        let (items, rest) = split(&self.text, self.skip);
        let line_start = self.text[..rest].rfind('\n').map_or(0, |n| n + 1);
        let text = std::mem::take(&mut self.text);
        self.text = text[line_start..].to_string();
        self.skip = rest - line_start;
        if !self.is_waiting() {
            self.clear();
        }
        (!items.is_empty()).then_some(Chunk { text, items })
    }

    /// Takes everything left, complete or not (end of input: reading the
    /// unfinished datum reports its error).
    pub fn take_all(&mut self) -> Option<Chunk> {
        if !self.is_waiting() {
            return None;
        }
        let start = self.skip;
        let text = std::mem::take(&mut self.text);
        self.clear();
        let end = text.len();
        Some(Chunk {
            text,
            items: vec![Item::Form(start..end)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> (Vec<&str>, &str) {
        let (items, rest) = split(text, 0);
        let v = items
            .iter()
            .map(|i| match i {
                Item::Form(r) | Item::Command(r) => &text[r.clone()],
            })
            .collect();
        (v, &text[rest..])
    }

    #[test]
    fn forms_end_at_their_closing_bracket() {
        assert_eq!(forms("(+ 1 2))\n"), (vec!["(+ 1 2)", ")"], ""));
        assert_eq!(
            forms("(define x 1)\n(define y 2)\n(+ x y)\n"),
            (vec!["(define x 1)", "(define y 2)", "(+ x y)"], "")
        );
        assert_eq!(
            forms("a 'b `(c ,@d) #;(e) f"),
            (vec!["a", "'b", "`(c ,@d)", "#;(e)", "f"], "")
        );
        assert_eq!(
            forms("#(1 2) #u8(3) #0=(a) \"x)\" |a)b|"),
            (vec!["#(1 2)", "#u8(3)", "#0=(a)", "\"x)\"", "|a)b|"], "")
        );
        assert_eq!(
            forms("(f #\\( #\\) #\\space) ; c\n"),
            (vec!["(f #\\( #\\) #\\space)"], "")
        );
        assert_eq!(forms("#| (a |# b"), (vec!["b"], ""));
    }

    #[test]
    fn a_bad_token_does_not_end_the_form() {
        let text = "(define (f x)\n (+ x #q)\n (display \"BOOM\")\n x)\n(g)\n";
        let (v, rest) = forms(text);
        assert_eq!(v.len(), 2);
        assert!(v[0].ends_with("x)"), "{v:?}");
        assert_eq!(rest, "");
        let (v, rest) = forms("(define (f x)\n (+ x #q)\n");
        assert!(v.is_empty());
        assert_eq!(rest, "(define (f x)\n (+ x #q)\n");
    }

    #[test]
    fn unfinished_input_waits() {
        for t in ["(a", "\"abc\n", "#| x", "'", "(a #;", "(a \"b)\" "] {
            let (v, rest) = forms(t);
            assert!(v.is_empty(), "{t:?}");
            assert_eq!(rest, t);
        }
        assert_eq!(forms("(a) (b\n"), (vec!["(a)"], "(b\n"));
    }

    #[test]
    fn commands_run_to_the_end_of_their_line() {
        assert_eq!(forms(",time (f\n(g)\n"), (vec![",time (f", "(g)"], ""));
        assert_eq!(forms("(a) ,help\n"), (vec!["(a)", ",help"], ""));
    }

    #[test]
    fn pending_keeps_the_unfinished_rest_from_its_line_start() {
        let mut p = Pending::default();
        p.push_line("(a) (b");
        let c = p.take().unwrap();
        assert_eq!(c.items, vec![Item::Form(0..3)]);
        assert!(p.is_waiting());
        p.push_line(" c)");
        let c = p.take().unwrap();
        assert_eq!(c.text, "(a) (b\n c)\n");
        assert_eq!(c.items, vec![Item::Form(4..10)]);
        assert!(!p.is_waiting());
        assert!(p.take().is_none());
        p.push_line("(x");
        assert!(p.take().is_none());
        let c = p.take_all().unwrap();
        assert_eq!(c.items, vec![Item::Form(0..3)]);
    }
}
