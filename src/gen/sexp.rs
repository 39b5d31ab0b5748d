//! A minimal S-expression tree for the shrinker: enough of Valk's lexical
//! syntax to take a generated (or hand-written) program apart and print it
//! back. Comments are dropped; anything it does not understand stays an
//! atom, so printing never changes what the reader sees.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sexp {
    Atom(String),
    /// A list and its opening bracket (`(`, `#(`, `#u8(`).
    List(&'static str, Vec<Sexp>),
    /// A quote-like prefix (`'`, `` ` ``, `,`, `,@`) and its datum.
    Prefix(&'static str, Box<Sexp>),
}

impl Sexp {
    pub fn print(&self, out: &mut String) {
        match self {
            Sexp::Atom(a) => out.push_str(a),
            Sexp::List(open, xs) => {
                out.push_str(open);
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    x.print(out);
                }
                out.push(')');
            }
            Sexp::Prefix(p, x) => {
                out.push_str(p);
                x.print(out);
            }
        }
    }

    /// Number of nodes (the shrinker's measure of size).
    pub fn size(&self) -> usize {
        match self {
            Sexp::Atom(_) => 1,
            Sexp::List(_, xs) => 1 + xs.iter().map(Sexp::size).sum::<usize>(),
            Sexp::Prefix(_, x) => 1 + x.size(),
        }
    }
}

/// Prints top-level forms one a line.
pub fn print_program(forms: &[Sexp]) -> String {
    let mut out = String::new();
    for f in forms {
        f.print(&mut out);
        out.push('\n');
    }
    out
}

/// Parses `text` into its top-level forms (`None` when the brackets do not
/// balance).
pub fn parse(text: &str) -> Option<Vec<Sexp>> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip();
        if p.i >= p.s.len() {
            return Some(out);
        }
        out.push(p.datum()?);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                b';' => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn starts(&self, p: &str) -> bool {
        self.s[self.i..].starts_with(p.as_bytes())
    }

    fn datum(&mut self) -> Option<Sexp> {
        self.skip();
        if self.i >= self.s.len() {
            return None;
        }
        for (p, open) in [("#u8(", "#u8("), ("#(", "#("), ("(", "("), ("[", "(")] {
            if self.starts(p) {
                self.i += p.len();
                let mut xs = Vec::new();
                loop {
                    self.skip();
                    if self.i >= self.s.len() {
                        return None;
                    }
                    if self.s[self.i] == b')' || self.s[self.i] == b']' {
                        self.i += 1;
                        return Some(Sexp::List(open, xs));
                    }
                    xs.push(self.datum()?);
                }
            }
        }
        for p in [",@", "'", "`", ","] {
            if self.starts(p) {
                self.i += p.len();
                let x = self.datum()?;
                let p: &'static str = match p {
                    ",@" => ",@",
                    "'" => "'",
                    "`" => "`",
                    _ => ",",
                };
                return Some(Sexp::Prefix(p, Box::new(x)));
            }
        }
        if self.s[self.i] == b')' || self.s[self.i] == b']' {
            return None;
        }
        let start = self.i;
        if self.s[self.i] == b'"' || self.s[self.i] == b'|' {
            let q = self.s[self.i];
            self.i += 1;
            while self.i < self.s.len() && self.s[self.i] != q {
                if self.s[self.i] == b'\\' {
                    self.i += 1;
                }
                self.i += 1;
            }
            self.i = (self.i + 1).min(self.s.len());
        } else {
            if self.starts("#\\") {
                // A character: its first character is taken whatever it is.
                self.i += 2;
                self.i += self.text[self.i..].chars().next().map_or(0, char::len_utf8);
            }
            while self.i < self.s.len()
                && !matches!(
                    self.s[self.i],
                    b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'[' | b']' | b'"' | b';'
                )
            {
                self.i += 1;
            }
        }
        Some(Sexp::Atom(self.text[start..self.i].to_string()))
    }
}

/// Replacements of the node `x` itself, smallest first: a constant, one
/// of its elements, itself with one element deleted.
pub fn local_candidates(x: &Sexp) -> Vec<Sexp> {
    let mut out = Vec::new();
    match x {
        Sexp::Atom(a) => {
            if a != "0" && a.parse::<i128>().is_ok() {
                out.push(Sexp::Atom("0".into()));
            }
        }
        Sexp::Prefix(..) => out.push(Sexp::Atom("0".into())),
        Sexp::List(open, xs) => {
            for c in ["0", "#f", "'()"] {
                out.push(Sexp::Atom(c.into()));
            }
            let mut hoisted: Vec<&Sexp> = xs.iter().skip(1).collect();
            hoisted.sort_by_key(|x| x.size());
            out.extend(hoisted.into_iter().cloned());
            for i in (1..xs.len()).rev() {
                let mut v = xs.clone();
                v.remove(i);
                out.push(Sexp::List(open, v));
            }
        }
    }
    out
}

/// The node at `path` (indices into lists and prefixes) of `forms`.
pub fn get<'a>(forms: &'a [Sexp], path: &[usize]) -> Option<&'a Sexp> {
    let mut x = forms.get(path[0])?;
    for &i in &path[1..] {
        x = match x {
            Sexp::List(_, xs) => xs.get(i)?,
            Sexp::Prefix(_, y) => y,
            Sexp::Atom(_) => return None,
        };
    }
    Some(x)
}

/// `forms` with the node at `path` replaced by `new`.
pub fn replace(forms: &[Sexp], path: &[usize], new: Sexp) -> Vec<Sexp> {
    fn go(x: &mut Sexp, path: &[usize], new: Sexp) {
        if path.is_empty() {
            *x = new;
            return;
        }
        match x {
            Sexp::List(_, xs) => go(&mut xs[path[0]], &path[1..], new),
            Sexp::Prefix(_, y) => go(y, &path[1..], new),
            Sexp::Atom(_) => {}
        }
    }
    let mut v = forms.to_vec();
    go(&mut v[path[0]], &path[1..], new);
    v
}

/// The paths of every node of `forms`, in pre-order.
pub fn paths(forms: &[Sexp]) -> Vec<Vec<usize>> {
    fn go(x: &Sexp, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        out.push(path.clone());
        match x {
            Sexp::List(_, xs) => {
                for (i, y) in xs.iter().enumerate() {
                    path.push(i);
                    go(y, path, out);
                    path.pop();
                }
            }
            Sexp::Prefix(_, y) => {
                path.push(0);
                go(y, path, out);
                path.pop();
            }
            Sexp::Atom(_) => {}
        }
    }
    let mut out = Vec::new();
    for (i, f) in forms.iter().enumerate() {
        go(f, &mut vec![i], &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text =
            "(define (f x) (if x #\\( \"a)\\\"b\"))\n'(1 . 2) #(1 2) #u8(3) `(a ,b ,@c) #\\space";
        let forms = parse(text).unwrap();
        let printed = print_program(&forms);
        assert_eq!(parse(&printed).unwrap(), forms);
        assert_eq!(forms.len(), 6);
    }

    #[test]
    fn unbalanced() {
        assert!(parse("(a (b)").is_none());
        assert!(parse("a)").is_none());
    }
}
