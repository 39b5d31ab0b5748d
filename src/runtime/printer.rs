//! `display` and `write`: Scheme's external representation.
//!
//! The printer never allocates on the Valk heap, so the values it walks stay
//! put. It walks with an explicit work stack (a million-element list or a
//! deeply nested car chain does not touch the Rust stack). Datum labels
//! (`#0=(1 . #0#)`) depend on the [`PrintMode`], as R7RS 6.13.3 asks:
//! `write` and `display` label the objects that close a cycle, so they
//! terminate on circular data and print shared acyclic structure in full;
//! `write-shared` labels every object that occurs more than once;
//! `write-simple` uses no labels.

use crate::num::{text as numtext, Num};
use crate::object;
use crate::value::{ObjType, Value};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// How [`print_mode_to`] prints: the procedures of R7RS 6.13.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintMode {
    /// `display`: strings and characters as their text; labels for cycles.
    Display,
    /// `write`: labels only for the objects that close a cycle.
    Write,
    /// `write-shared`: labels for every pair, vector, record, non-empty
    /// string and non-empty bytevector reached more than once.
    WriteShared,
    /// `write-simple`: no labels; does not terminate on circular data.
    WriteSimple,
}

/// `write` representation of `v`.
pub fn write_string(v: Value) -> String {
    let mut s = String::new();
    print_to(&mut s, v, true);
    s
}

/// `display` representation of `v`.
pub fn display_string(v: Value) -> String {
    let mut s = String::new();
    print_to(&mut s, v, false);
    s
}

/// Appends the `write` (`write == true`) or `display` representation of `v`.
pub fn print_to(out: &mut String, v: Value, write: bool) {
    let mode = if write {
        PrintMode::Write
    } else {
        PrintMode::Display
    };
    print_mode_to(out, v, mode);
}

/// Appends the representation of `v` in `mode`.
pub fn print_mode_to(out: &mut String, v: Value, mode: PrintMode) {
    let targets = match mode {
        PrintMode::Display | PrintMode::Write => cycle_targets(v),
        PrintMode::WriteShared => shared_targets(v),
        PrintMode::WriteSimple => AddrSet::default(),
    };
    let mut p = Printer {
        out,
        write: mode != PrintMode::Display,
        targets,
        labels: HashMap::default(),
    };
    p.run(v);
}

/// The representation of `v` in `mode`, as a new string.
pub fn mode_string(v: Value, mode: PrintMode) -> String {
    let mut s = String::new();
    print_mode_to(&mut s, v, mode);
    s
}

/// Hashes object addresses (already unique and well spread in their upper
/// bits) cheaply.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type AddrBuild = BuildHasherDefault<AddrHasher>;
pub(crate) type AddrSet = HashSet<u64, AddrBuild>;
pub(crate) type AddrMap<V> = HashMap<u64, V, AddrBuild>;

/// Whether the printer looks inside `v` (and so may loop through it).
fn is_compound(v: Value) -> bool {
    matches!(
        v.obj_type(),
        Some(
            ObjType::Pair
                | ObjType::WeakPair
                | ObjType::Vector
                | ObjType::Record
                | ObjType::Values
                | ObjType::Condition
        )
    )
}

/// The children the printer visits, as `(first, end)` field indices.
fn child_range(v: Value) -> (usize, usize) {
    match v.obj_type() {
        Some(ObjType::Pair | ObjType::WeakPair) => (0, 2),
        Some(ObjType::Vector | ObjType::Values) => (0, v.size()),
        Some(ObjType::Record) => (1, v.size()),
        // Only the irritant list; the message is a string.
        Some(ObjType::Condition) => (2, 3),
        _ => (0, 0),
    }
}

/// Objects reached again while still on the depth-first path: every cycle
/// contains one, so labelling them is enough to terminate.
fn cycle_targets(root: Value) -> AddrSet {
    let mut targets = AddrSet::default();
    if !is_compound(root) {
        return targets;
    }
    // Colour: true = on the current path, false = finished.
    let mut state: AddrMap<bool> = AddrMap::default();
    let mut stack: Vec<(Value, usize)> = Vec::new();
    state.insert(root.0, true);
    stack.push((root, child_range(root).0));
    while let Some(top) = stack.last_mut() {
        let (v, i) = *top;
        let end = child_range(v).1;
        if i >= end {
            state.insert(v.0, false);
            stack.pop();
            continue;
        }
        top.1 = i + 1;
        let c = v.field(i);
        if !is_compound(c) {
            continue;
        }
        match state.get(&c.0) {
            Some(true) => {
                targets.insert(c.0);
            }
            Some(false) => {}
            None => {
                state.insert(c.0, true);
                stack.push((c, child_range(c).0));
            }
        }
    }
    targets
}

/// Whether `write-shared` labels `v` when it occurs more than once: the
/// compound objects and the non-empty strings and bytevectors (empty ones
/// have no identity worth showing).
fn is_shareable(v: Value) -> bool {
    match v.obj_type() {
        Some(ObjType::String) => object::string_len(v) > 0,
        Some(ObjType::Bytevector) => object::bytevector_len(v) > 0,
        Some(ObjType::Vector) => v.size() > 0,
        _ => is_compound(v),
    }
}

/// Objects reached more than once (the targets of `write-shared`).
fn shared_targets(root: Value) -> AddrSet {
    let mut targets = AddrSet::default();
    let mut seen = AddrSet::default();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        if !is_shareable(v) {
            continue;
        }
        if !seen.insert(v.0) {
            targets.insert(v.0);
            continue;
        }
        if is_compound(v) {
            let (first, end) = child_range(v);
            stack.extend((first..end).rev().map(|i| v.field(i)));
        }
    }
    targets
}

enum Task {
    Val(Value),
    Text(&'static str),
    /// The rest of a list after an element.
    ListRest(Value),
    /// Fields `i..end` of `obj`, separated by spaces (none before `first`).
    Fields {
        obj: Value,
        i: usize,
        first: usize,
        end: usize,
    },
}

struct Printer<'a> {
    out: &'a mut String,
    write: bool,
    targets: AddrSet,
    labels: AddrMap<usize>,
}

impl Printer<'_> {
    fn run(&mut self, v: Value) {
        let mut stack = vec![Task::Val(v)];
        while let Some(t) = stack.pop() {
            match t {
                Task::Text(s) => self.out.push_str(s),
                Task::Val(v) => self.value(v, &mut stack),
                Task::ListRest(rest) => {
                    if rest.is_nil() {
                        self.out.push(')');
                    } else if rest.is_pair() && !self.targets.contains(&rest.0) {
                        self.out.push(' ');
                        stack.push(Task::ListRest(rest.cdr()));
                        stack.push(Task::Val(rest.car()));
                    } else {
                        self.out.push_str(" . ");
                        stack.push(Task::Text(")"));
                        stack.push(Task::Val(rest));
                    }
                }
                Task::Fields { obj, i, first, end } => {
                    if i < end {
                        if i > first {
                            self.out.push(' ');
                        }
                        stack.push(Task::Fields {
                            obj,
                            i: i + 1,
                            first,
                            end,
                        });
                        stack.push(Task::Val(obj.field(i)));
                    }
                }
            }
        }
    }

    /// Prints a label definition or reference for cycle targets; returns
    /// true when a reference was printed (nothing more to do).
    fn label(&mut self, v: Value) -> bool {
        if self.targets.is_empty() || !self.targets.contains(&v.0) {
            return false;
        }
        if let Some(n) = self.labels.get(&v.0) {
            self.out.push_str(&format!("#{n}#"));
            return true;
        }
        let n = self.labels.len();
        self.labels.insert(v.0, n);
        self.out.push_str(&format!("#{n}="));
        false
    }

    fn value(&mut self, v: Value, stack: &mut Vec<Task>) {
        if v.is_fixnum() {
            self.out.push_str(&v.as_fixnum().to_string());
            return;
        }
        if v.is_immediate() {
            self.immediate(v);
            return;
        }
        let Some(ty) = v.obj_type() else {
            self.out.push_str("#<object>");
            return;
        };
        match ty {
            ObjType::Pair => {
                if self.label(v) {
                    return;
                }
                if let Some(prefix) = self.abbreviation(v) {
                    self.out.push_str(prefix);
                    stack.push(Task::Val(v.cdr().car()));
                    return;
                }
                self.out.push('(');
                stack.push(Task::ListRest(v.cdr()));
                stack.push(Task::Val(v.car()));
            }
            ObjType::Vector => {
                if self.label(v) {
                    return;
                }
                self.out.push_str("#(");
                stack.push(Task::Text(")"));
                stack.push(Task::Fields {
                    obj: v,
                    i: 0,
                    first: 0,
                    end: v.size(),
                });
            }
            ObjType::Record => {
                if self.label(v) {
                    return;
                }
                self.out.push_str("#<");
                self.out.push_str(&record_type_name(v.field(0)));
                let n = v.size();
                stack.push(Task::Text(">"));
                if n > 1 {
                    self.out.push(' ');
                    stack.push(Task::Fields {
                        obj: v,
                        i: 1,
                        first: 1,
                        end: n,
                    });
                }
            }
            ObjType::Values => {
                if self.label(v) {
                    return;
                }
                stack.push(Task::Fields {
                    obj: v,
                    i: 0,
                    first: 0,
                    end: v.size(),
                });
            }
            ObjType::Condition => {
                if self.label(v) {
                    return;
                }
                self.out.push_str("#<condition ");
                let msg = v.field(1);
                if msg.is_string() {
                    self.out.push_str(&object::string_to_rust(msg));
                }
                stack.push(Task::Text(">"));
                // Irritants follow the message like list elements.
                let irritants = v.field(2);
                match object::list_to_vec(irritants) {
                    Some(items) => {
                        for &it in items.iter().rev() {
                            stack.push(Task::Val(it));
                            stack.push(Task::Text(" "));
                        }
                    }
                    None => {
                        stack.push(Task::Val(irritants));
                        stack.push(Task::Text(" . "));
                    }
                }
            }
            ObjType::Flonum => self.out.push_str(&format_flonum(v.as_flonum())),
            ObjType::String => {
                if self.label(v) {
                    return;
                }
                if self.write {
                    write_string_literal(self.out, v);
                } else {
                    for i in 0..object::string_len(v) {
                        self.out.push(object::string_ref(v, i));
                    }
                }
            }
            ObjType::Symbol => {
                let name = object::symbol_name(v);
                if self.write {
                    write_symbol_name(self.out, &name);
                } else {
                    self.out.push_str(&name);
                }
            }
            ObjType::Bytevector => {
                if self.label(v) {
                    return;
                }
                self.out.push_str("#u8(");
                for (i, b) in object::bytevector_bytes_mut(v).iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.out.push_str(&b.to_string());
                }
                self.out.push(')');
            }
            ObjType::Closure => match object::closure_info(v).name() {
                Some(name) => {
                    self.out.push_str("#<procedure ");
                    self.out.push_str(name);
                    self.out.push('>');
                }
                None => self.out.push_str("#<procedure>"),
            },
            ObjType::Box => self.out.push_str("#<box>"),
            ObjType::RecordType => {
                self.out.push_str("#<record-type ");
                self.out.push_str(&record_type_name(v));
                self.out.push('>');
            }
            ObjType::Foreign => self.out.push_str(&format!("#<pointer {:#x}>", v.raw(0))),
            ObjType::Port => self.out.push_str(&crate::port::describe(v)),
            ObjType::Continuation => self.out.push_str("#<continuation>"),
            ObjType::Environment => self.out.push_str("#<environment>"),
            // Printed as a pair, as Chez Scheme does (docs/gc.md, "Weak
            // references, ephemerons and guardians").
            ObjType::WeakPair => {
                if self.label(v) {
                    return;
                }
                self.out.push('(');
                stack.push(Task::ListRest(v.field(1)));
                stack.push(Task::Val(v.field(0)));
            }
            ObjType::Ephemeron => self.out.push_str("#<ephemeron>"),
            ObjType::WeakEntries => self.out.push_str("#<weak-entries>"),
            ObjType::HashTable => self.out.push_str("#<hash-table>"),
            ObjType::Bignum | ObjType::Rational | ObjType::Complex => match Num::of(v) {
                Some(n) => self.out.push_str(&numtext::format_number(&n, 10)),
                None => self.out.push_str("#<number>"),
            },
        }
    }

    /// `'x` for `(quote x)` and likewise for the other quote forms.
    fn abbreviation(&self, v: Value) -> Option<&'static str> {
        let head = v.car();
        let rest = v.cdr();
        if !head.is_symbol() || !rest.is_pair() || !rest.cdr().is_nil() {
            return None;
        }
        if self.targets.contains(&rest.0) {
            return None;
        }
        Some(match object::symbol_name(head).as_str() {
            "quote" => "'",
            "quasiquote" => "`",
            "unquote" => ",",
            "unquote-splicing" => ",@",
            _ => return None,
        })
    }

    fn immediate(&mut self, v: Value) {
        let s = match v {
            Value::TRUE => "#t",
            Value::FALSE => "#f",
            Value::NIL => "()",
            Value::UNSPECIFIED => "#<unspecified>",
            Value::EOF => "#<eof>",
            Value::UNDEFINED => "#<undefined>",
            Value::EXCEPTION => "#<exception>",
            Value::DEFAULT => "#<default>",
            Value::BWP => "#!bwp",
            _ if v.is_char() => {
                let c = v.as_char();
                if self.write {
                    write_char_literal(self.out, c);
                } else {
                    self.out.push(c);
                }
                return;
            }
            _ => "#<immediate>",
        };
        self.out.push_str(s);
    }
}

/// The printed name of a record type: its name without surrounding `<>`
/// (`<point>` prints as `point`).
pub fn record_type_name(rtd: Value) -> String {
    if !rtd.has_type(ObjType::RecordType) {
        return "record".to_string();
    }
    let name = rtd.field(0);
    let s = if name.is_symbol() {
        object::symbol_name(name)
    } else if name.is_string() {
        object::string_to_rust(name)
    } else {
        return "record".to_string();
    };
    match s.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        Some(inner) if !inner.is_empty() => inner.to_string(),
        _ => s,
    }
}

/// The name `write` uses for a character (`space`, `x1f`, ...), if any.
pub fn char_name(c: char) -> Option<String> {
    Some(
        match c {
            ' ' => "space",
            '\n' => "newline",
            '\t' => "tab",
            '\0' => "nul",
            '\x07' => "alarm",
            '\x08' => "backspace",
            '\x7f' => "delete",
            '\x1b' => "escape",
            '\r' => "return",
            _ if c.is_control() || c.is_whitespace() => return Some(format!("x{:x}", c as u32)),
            _ => return None,
        }
        .to_string(),
    )
}

fn write_char_literal(out: &mut String, c: char) {
    out.push_str("#\\");
    match char_name(c) {
        Some(name) => out.push_str(&name),
        None => out.push(c),
    }
}

fn write_string_literal(out: &mut String, s: Value) {
    out.push('"');
    for i in 0..object::string_len(s) {
        match object::string_ref(s, i) {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether a symbol named `name` must be written between bars to read back
/// as the same symbol.
pub fn symbol_needs_bars(name: &str) -> bool {
    if name.is_empty() || name == "." {
        return true;
    }
    if name.starts_with('#') {
        return true;
    }
    let special = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';' | '\'' | '`' | ',' | '|' | '\\'
            )
    };
    if name.chars().any(special) {
        return true;
    }
    // Text the reader takes as a number (or rejects as an unsupported one).
    !matches!(numtext::parse_number(name, 10), Ok(None))
}

fn write_symbol_name(out: &mut String, name: &str) {
    if !symbol_needs_bars(name) {
        out.push_str(name);
        return;
    }
    out.push('|');
    for c in name.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out.push('|');
}

/// A flonum in the shortest text that reads back as the same double, laid
/// out like Chez Scheme: positional notation for `1e-3 <= |x| < 1e10` (with
/// `.0` when integral), exponent notation otherwise (`1e10`, `9.99e-4`).
pub fn format_flonum(x: f64) -> String {
    if x.is_nan() {
        return "+nan.0".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+inf.0" } else { "-inf.0" }.to_string();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e10).contains(&a) {
        // Rust's Display gives the shortest round-trip digits, positionally.
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::*;
    use crate::gc;
    use proptest::prelude::*;

    #[test]
    fn flonums() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (1e21, "1e21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-6, "1e-6"),
            (0.001, "0.001"),
            (9.99e-4, "9.99e-4"),
            (9999999999.5, "9999999999.5"),
            (1e9, "1000000000.0"),
            (1e10, "1e10"),
            (12345678901.5, "1.23456789015e10"),
            (123456789012345680000.0, "1.2345678901234568e20"),
            (1.5e300, "1.5e300"),
            (-1e300, "-1e300"),
            (f64::INFINITY, "+inf.0"),
            (f64::NEG_INFINITY, "-inf.0"),
            (f64::NAN, "+nan.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (2.71, "2.71"),
            (1e20, "1e20"),
        ];
        for &(x, s) in cases {
            assert_eq!(format_flonum(x), s, "printing {x:?}");
        }
    }

    proptest! {
        #[test]
        fn flonum_round_trip(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let s = format_flonum(x);
            let back: f64 = s.parse().unwrap();
            prop_assert_eq!(back.to_bits(), x.to_bits(), "{} printed as {}", x, s);
        }
    }

    #[test]
    fn atoms() {
        let _g = lock();
        assert_eq!(w(fx(-42)), "-42");
        assert_eq!(w(Value::TRUE), "#t");
        assert_eq!(w(Value::FALSE), "#f");
        assert_eq!(w(Value::NIL), "()");
        assert_eq!(w(Value::UNSPECIFIED), "#<unspecified>");
        assert_eq!(w(Value::UNDEFINED), "#<undefined>");
        assert_eq!(w(Value::EOF), "#<eof>");
        assert_eq!(w(fl(2.0)), "2.0");
        for (c, s) in [
            ('a', "#\\a"),
            (' ', "#\\space"),
            ('\n', "#\\newline"),
            ('\t', "#\\tab"),
            ('\0', "#\\nul"),
            ('\x07', "#\\alarm"),
            ('\x08', "#\\backspace"),
            ('\x7f', "#\\delete"),
            ('\x1b', "#\\escape"),
            ('\r', "#\\return"),
            ('\x01', "#\\x1"),
            ('λ', "#\\λ"),
        ] {
            assert_eq!(w(Value::char(c)), s);
        }
        assert_eq!(d(Value::char('a')), "a");
        assert_eq!(d(Value::char(' ')), " ");
    }

    #[test]
    fn strings_and_symbols() {
        let _g = lock();
        assert_eq!(
            w(st("a\"b\\c\nd\te\rf\x01")),
            "\"a\\\"b\\\\c\\nd\\te\\rf\\x1;\""
        );
        assert_eq!(d(st("a\"b\n")), "a\"b\n");
        assert_eq!(w(st("λ")), "\"λ\"");
        assert_eq!(w(sym("abc")), "abc");
        assert_eq!(w(sym("hello world")), "|hello world|");
        assert_eq!(w(sym("")), "||");
        assert_eq!(w(sym("a|b")), "|a\\|b|");
        assert_eq!(w(sym("(")), "|(|");
        assert_eq!(w(sym("123")), "|123|");
        assert_eq!(w(sym("-1.5")), "|-1.5|");
        assert_eq!(w(sym("+inf.0")), "|+inf.0|");
        assert_eq!(w(sym(".")), "|.|");
        assert_eq!(w(sym("1+")), "1+");
        assert_eq!(w(sym("...")), "...");
        assert_eq!(w(sym("+")), "+");
        assert_eq!(w(sym("-")), "-");
        assert_eq!(w(sym("->x")), "->x");
        assert_eq!(d(sym("hello world")), "hello world");
    }

    #[test]
    fn compound() {
        let _g = lock();
        assert_eq!(ev_w("'(1 2 3)"), "(1 2 3)");
        assert_eq!(ev_w("'(1 2 . 3)"), "(1 2 . 3)");
        assert_eq!(ev_w("'((1) (2 (3)))"), "((1) (2 (3)))");
        assert_eq!(ev_w("''a"), "'a");
        assert_eq!(
            ev_w("'(quasiquote (a (unquote b) (unquote-splicing c)))"),
            "`(a ,b ,@c)"
        );
        assert_eq!(ev_w("'(quote a b)"), "(quote a b)");
        assert_eq!(ev_w("'(quote . a)"), "(quote . a)");
        assert_eq!(ev_w("'#(1 \"a\" #\\b)"), "#(1 \"a\" #\\b)");
        assert_eq!(ev_d("'#(1 \"a\" #\\b)"), "#(1 a b)");
        assert_eq!(ev_w("'#()"), "#()");
        assert_eq!(ev_w("'#u8(1 2 255)"), "#u8(1 2 255)");
        assert_eq!(ev_w("'#u8()"), "#u8()");
        assert_eq!(ev_w("car"), "#<procedure car>");
        assert_eq!(ev_w("(values 1 2 \"x\")"), "1 2 \"x\"");
        assert_eq!(ev_w("(eof-object)"), "#<eof>");
        assert_eq!(
            ev_w("(%record (%make-record-type '<point> '(x y)) 1 2)"),
            "#<point 1 2>"
        );
        assert_eq!(
            ev_w("(%make-record-type 'point '(x y))"),
            "#<record-type point>"
        );
        assert_eq!(ev_w("(%record (%make-record-type 'empty '()))"), "#<empty>");
        assert_eq!(
            ev_w("(guard-error (car 5))"),
            "#<condition car: expected a pair 5>"
        );
        assert_eq!(ev_w("(%standard-port 1)"), "#<output-port stdout>");
    }

    #[test]
    fn cycles() {
        let _g = lock();
        let s = gc::Scope::new();
        // #0=(1 . #0#)
        let p = s.root(object::cons(fx(1), Value::NIL));
        p.get().set_cdr(p.get());
        assert_eq!(w(p.get()), "#0=(1 . #0#)");
        assert_eq!(d(p.get()), "#0=(1 . #0#)");
        // (1 2 3 . cycle back to the 2)
        let l = s.root(ev("(list 1 2 3)"));
        let second = l.get().cdr();
        second.cdr().set_cdr(second);
        assert_eq!(w(l.get()), "(1 . #0=(2 3 . #0#))");
        // A car cycle and a vector cycle.
        let q = s.root(object::cons(Value::NIL, Value::NIL));
        q.get().set_car(q.get());
        assert_eq!(w(q.get()), "#0=(#0#)");
        let v = s.root(object::make_vector(2, fx(0)));
        v.get().set_field(1, v.get());
        assert_eq!(w(v.get()), "#0=#(0 #0#)");
        // Shared but acyclic structure prints without labels.
        let x = s.root(ev("(list 1 2)"));
        let y = object::list_from(&[x.get(), x.get()]);
        assert_eq!(w(y), "((1 2) (1 2))");
        // A cycle inside quote keeps the long form.
        let qq = s.root(ev("(list 'quote 1)"));
        qq.get().cdr().set_car(qq.get());
        assert_eq!(w(qq.get()), "#0='#0#");
    }

    fn sh(v: Value) -> String {
        mode_string(v, PrintMode::WriteShared)
    }
    fn simple(v: Value) -> String {
        mode_string(v, PrintMode::WriteSimple)
    }

    /// `write-shared` labels everything reached twice (strings and
    /// bytevectors too, as Guile 3.0 and Chez's `print-graph` do);
    /// `write-simple` labels nothing.
    #[test]
    fn shared_and_simple() {
        let _g = lock();
        let s = gc::Scope::new();
        let st = s.root(object::string_from("ab"));
        let p = s.root(ev("(list 1 2)"));
        let v = s.root(ev("(vector 3)"));
        let b = s.root(ev("(bytevector 1)"));
        let e1 = s.root(object::string_from(""));
        let e2 = s.root(ev("(vector)"));
        let e3 = s.root(ev("(vector)"));
        let lit = s.root(object::string_from("lit"));
        let one5 = s.root(ev("1.5"));
        let x = s.root(object::list_from(&[
            st.get(),
            st.get(),
            p.get(),
            p.get(),
            v.get(),
            v.get(),
            b.get(),
            b.get(),
            lit.get(),
            sym("sym"),
            sym("sym"),
            one5.get(),
            e1.get(),
            e1.get(),
            e2.get(),
            e3.get(),
        ]));
        assert_eq!(
            sh(x.get()),
            "(#0=\"ab\" #0# #1=(1 2) #1# #2=#(3) #2# #3=#u8(1) #3# \"lit\" sym sym 1.5 \"\" \"\" #() #())"
        );
        let plain =
            "(\"ab\" \"ab\" (1 2) (1 2) #(3) #(3) #u8(1) #u8(1) \"lit\" sym sym 1.5 \"\" \"\" #() #())";
        assert_eq!(w(x.get()), plain);
        assert_eq!(simple(x.get()), plain);
        assert_eq!(
            d(x.get()),
            "(ab ab (1 2) (1 2) #(3) #(3) #u8(1) #u8(1) lit sym sym 1.5   #() #())"
        );
        // A shared tail, and a shared list next to a cycle.
        let t = s.root(object::list_from(&[p.get(), p.get().cdr()]));
        assert_eq!(sh(t.get()), "((1 . #0=(2)) #0#)");
        let t = s.root(object::list_from(&[p.get().cdr(), p.get()]));
        assert_eq!(sh(t.get()), "(#0=(2) (1 . #0#))");
        let c = s.root(ev("(list 1 2 3)"));
        c.get().cdr().cdr().set_cdr(c.get());
        let inner = s.root(object::list_from(&[p.get(), c.get()]));
        let outer = object::list_from(&[p.get(), inner.get()]);
        assert_eq!(sh(outer), "(#0=(1 2) (#0# #1=(1 2 3 . #1#)))");
        assert_eq!(w(outer), "((1 2) ((1 2) #0=(1 2 3 . #0#)))");
        assert_eq!(sh(c.get()), "#0=(1 2 3 . #0#)");
        // Nested sharing inside a shared vector.
        let inner = s.root(object::make_vector(2, p.get()));
        let v = s.root(object::make_vector(2, inner.get()));
        assert_eq!(sh(v.get()), "#(#0=#(#1=(1 2) #1#) #0#)");
        assert_eq!(simple(v.get()), "#(#((1 2) (1 2)) #((1 2) (1 2)))");
        // Quote forms: the label goes before the abbreviation.
        let qf = s.root(object::list_from(&[sym("quote"), p.get()]));
        let q = object::list_from(&[qf.get(), qf.get(), p.get()]);
        assert_eq!(sh(q), "(#0='#1=(1 2) #0# #1#)");
    }

    /// `write-simple` walks deep data without the Rust stack, like `write`.
    #[test]
    fn simple_deep() {
        let _g = lock();
        let s = gc::Scope::new();
        let acc = s.root(fx(0));
        for _ in 0..200_000 {
            acc.set(object::cons(acc.get(), Value::NIL));
        }
        assert_eq!(
            simple(acc.get()),
            "(".repeat(200_000) + "0" + &")".repeat(200_000)
        );
        assert_eq!(
            sh(acc.get()),
            "(".repeat(200_000) + "0" + &")".repeat(200_000)
        );
        let l = s.root(ev("(make-list 1000000 \"s\")"));
        let text = sh(l.get());
        // make-list fills with one string object.
        assert!(text.starts_with("(#0=\"s\" #0# #0# "));
        assert!(text.ends_with(" #0#)"));
    }

    #[test]
    fn deep_structures() {
        let _g = lock();
        let s = gc::Scope::new();
        let l = s.root(ev("(make-list 1000000 7)"));
        let text = w(l.get());
        assert_eq!(text.len(), 2 * 1_000_000 + 1);
        assert!(text.starts_with("(7 7 ") && text.ends_with(" 7)"));
        // ((((... 0 ...)))) nested 200000 deep in the car.
        let acc = s.root(fx(0));
        for _ in 0..200_000 {
            acc.set(object::cons(acc.get(), Value::NIL));
        }
        let text = d(acc.get());
        assert_eq!(text, "(".repeat(200_000) + "0" + &")".repeat(200_000));
    }

    #[test]
    fn printing_survives_stress() {
        let _g = lock();
        with_stress(|| {
            assert_eq!(
                ev_w("(list 1.5 \"s\" 'sym (vector 1 2))"),
                "(1.5 \"s\" sym #(1 2))"
            );
        });
    }
}
