//! Test support: a lock serialising heap use (the runtime is
//! single-threaded but the test harness is not), and a tiny reader and
//! evaluator for builtin calls so tests read like Scheme:
//! `ev_w("(+ 1 2)") == "3"`.
//!
//! The evaluator knows `quote`, `(guard-error e)` (evaluates `e` and returns
//! the raised object instead of failing) and calls of global procedures.

use crate::call;
use crate::error;
use crate::gc::{self, Scope};
use crate::globals;
use crate::num::{text::parse_number, Num};
use crate::object;
use crate::printer;
use crate::value::Value;
use crate::VResult;
use std::sync::{Mutex, MutexGuard};

static LOCK: Mutex<()> = Mutex::new(());

/// Serialises tests that use the heap, and installs the builtins.
pub fn lock() -> MutexGuard<'static, ()> {
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    gc::set_stress(false);
    super::install();
    g
}

/// Runs `f` with the collector in stress mode (collect at every allocation).
pub fn with_stress<R>(f: impl FnOnce() -> R) -> R {
    gc::set_stress(true);
    let r = f();
    gc::set_stress(false);
    r
}

pub fn fx(n: i64) -> Value {
    Value::fixnum(n)
}
pub fn fl(x: f64) -> Value {
    object::make_flonum(x)
}
pub fn st(s: &str) -> Value {
    object::string_from(s)
}
pub fn sym(s: &str) -> Value {
    object::intern(s)
}
pub fn w(v: Value) -> String {
    printer::write_string(v)
}
pub fn d(v: Value) -> String {
    printer::display_string(v)
}

/// Calls `f`, expecting success.
pub fn call_ok(f: Value, args: &[Value]) -> Value {
    match call::call(f, args) {
        Ok(v) => v,
        Err(_) => panic!(
            "unexpected error: {}",
            error::format_error(error::take_pending())
        ),
    }
}

/// Calls `f`, expecting an error; returns its message text.
pub fn call_err(f: Value, args: &[Value]) -> String {
    match call::call(f, args) {
        Ok(v) => panic!("expected an error, got {}", w(v)),
        Err(_) => error::format_error(error::take_pending()),
    }
}

// ---- reader ----

enum D {
    Atom(Value),
    Str(String),
    Sym(String),
    Flo(f64),
    /// Another number (bignum, rational, complex).
    Num(Num),
    List(Vec<D>, Option<Box<D>>),
    Vector(Vec<D>),
    Bytes(Vec<u8>),
}

struct Reader<'a> {
    s: &'a [char],
    i: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn token(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                break;
            }
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    fn seq(&mut self) -> (Vec<D>, Option<Box<D>>) {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(')') => {
                    self.i += 1;
                    return (items, None);
                }
                Some('.') if self.s.get(self.i + 1).is_some_and(|c| c.is_whitespace()) => {
                    self.i += 1;
                    let tail = self.read();
                    self.skip_ws();
                    assert_eq!(self.peek(), Some(')'));
                    self.i += 1;
                    return (items, Some(Box::new(tail)));
                }
                None => panic!("unterminated list"),
                _ => items.push(self.read()),
            }
        }
    }

    fn read(&mut self) -> D {
        self.skip_ws();
        let c = self.peek().expect("unexpected end of input");
        match c {
            '(' => {
                self.i += 1;
                let (items, tail) = self.seq();
                D::List(items, tail)
            }
            '\'' => {
                self.i += 1;
                D::List(vec![D::Sym("quote".into()), self.read()], None)
            }
            '"' => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let c = self.s[self.i];
                    self.i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let e = self.s[self.i];
                            self.i += 1;
                            out.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                _ => e,
                            });
                        }
                        c => out.push(c),
                    }
                }
                D::Str(out)
            }
            '#' if self.s.get(self.i + 1) == Some(&'(') => {
                self.i += 2;
                D::Vector(self.seq().0)
            }
            '#' if self.s.get(self.i + 1) == Some(&'\\') => {
                self.i += 2;
                let first = self.s[self.i];
                self.i += 1;
                let rest = self.token();
                let ch = if rest.is_empty() {
                    first
                } else {
                    let name = format!("{first}{rest}");
                    match name.as_str() {
                        "space" => ' ',
                        "newline" => '\n',
                        "tab" => '\t',
                        "nul" => '\0',
                        _ if first == 'x' => {
                            char::from_u32(u32::from_str_radix(&rest, 16).unwrap()).unwrap()
                        }
                        _ => panic!("bad char {name}"),
                    }
                };
                D::Atom(Value::char(ch))
            }
            _ => {
                let t = self.token();
                if t == "#u8" {
                    assert_eq!(self.peek(), Some('('));
                    self.i += 1;
                    let bytes = self
                        .seq()
                        .0
                        .into_iter()
                        .map(|d| match d {
                            D::Atom(v) => v.as_fixnum() as u8,
                            _ => panic!("bad byte"),
                        })
                        .collect();
                    return D::Bytes(bytes);
                }
                match t.as_str() {
                    "#t" => return D::Atom(Value::TRUE),
                    "#f" => return D::Atom(Value::FALSE),
                    _ => {}
                }
                match parse_number(&t, 10) {
                    Ok(Some(Num::Fix(n))) => D::Atom(Value::fixnum(n)),
                    Ok(Some(Num::Flo(x))) => D::Flo(x),
                    Ok(Some(n)) => D::Num(n),
                    _ => D::Sym(t),
                }
            }
        }
    }
}

fn build(d: &D) -> Value {
    match d {
        D::Atom(v) => *v,
        D::Str(s) => object::string_from(s),
        D::Sym(s) => object::intern(s),
        D::Flo(x) => object::make_flonum(*x),
        D::Num(n) => n.clone().into_value(),
        D::Bytes(b) => object::bytevector_from(b),
        D::Vector(items) => {
            let s = Scope::new();
            let roots: Vec<_> = items.iter().map(|i| s.root(build(i))).collect();
            let vals: Vec<Value> = roots.iter().map(|r| r.get()).collect();
            object::vector_from(&vals)
        }
        D::List(items, tail) => {
            let s = Scope::new();
            let acc = s.root(match tail {
                Some(t) => build(t),
                None => Value::NIL,
            });
            for i in items.iter().rev() {
                let v = build(i);
                acc.set(object::cons(v, acc.get()));
            }
            acc.get()
        }
    }
}

/// Reads one datum.
pub fn read(src: &str) -> Value {
    let chars: Vec<char> = src.chars().collect();
    let mut r = Reader { s: &chars, i: 0 };
    let d = r.read();
    build(&d)
}

// ---- evaluator ----

fn nth(l: Value, n: usize) -> Value {
    let mut l = l;
    for _ in 0..n {
        l = l.cdr();
    }
    l.car()
}

fn eval(expr: Value) -> VResult {
    if expr.is_symbol() {
        let name = object::symbol_name(expr);
        let v = globals::get(globals::global_id(&name));
        assert_ne!(v, Value::UNDEFINED, "unbound {name}");
        return Ok(v);
    }
    if !expr.is_pair() {
        return Ok(expr);
    }
    let head = expr.car();
    if head.is_symbol() {
        match object::symbol_name(head).as_str() {
            "quote" => return Ok(nth(expr, 1)),
            "guard-error" => {
                return match eval(nth(expr, 1)) {
                    Ok(v) => panic!("expected an error, got {}", w(v)),
                    Err(_) => Ok(error::take_pending()),
                }
            }
            _ => {}
        }
    }
    let s = Scope::new();
    let e = s.root(expr);
    let f = s.root(eval(head)?);
    let n = object::list_to_vec(e.get()).unwrap().len() - 1;
    let base = gc::root_sp();
    for i in 0..n {
        let v = eval(nth(e.get(), i + 1))?;
        gc::push_root(v);
    }
    let r = call::call_rooted(f.get(), base, n);
    gc::set_root_sp(base);
    r
}

/// Reads and evaluates `src`, expecting success.
pub fn ev(src: &str) -> Value {
    let e = read(src);
    match eval(e) {
        Ok(v) => v,
        Err(_) => panic!(
            "{src}: unexpected error: {}",
            error::format_error(error::take_pending())
        ),
    }
}

/// `write` of the value of `src`.
pub fn ev_w(src: &str) -> String {
    w(ev(src))
}

/// `display` of the value of `src`.
pub fn ev_d(src: &str) -> String {
    d(ev(src))
}

/// Evaluates `src`, expecting an error; returns its message text.
pub fn ev_err(src: &str) -> String {
    let e = read(src);
    match eval(e) {
        Ok(v) => panic!("{src}: expected an error, got {}", w(v)),
        Err(_) => error::format_error(error::take_pending()),
    }
}

/// Asserts that each `(source, written result)` pair holds.
pub fn check_all(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(ev_w(src), *want, "evaluating {src}");
    }
}

/// Asserts that each `(source, error message)` pair holds.
pub fn check_errs(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(ev_err(src), *want, "evaluating {src}");
    }
}
