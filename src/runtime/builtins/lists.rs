//! Pairs and lists. (`map`, `append`, `reverse`, `assoc`, ... are written
//! in Valk in the prelude.)

use super::{fixed, index_arg, list_arg, opt, pair_arg, var, Builtin};
use crate::error::{self, VResult};
use crate::gc::Scope;
use crate::object;
use crate::value::Value;

fn cons(args: &[Value]) -> VResult {
    Ok(object::cons(args[0], args[1]))
}
fn car(args: &[Value]) -> VResult {
    Ok(pair_arg("car", args[0])?.car())
}
fn cdr(args: &[Value]) -> VResult {
    Ok(pair_arg("cdr", args[0])?.cdr())
}
fn set_car(args: &[Value]) -> VResult {
    pair_arg("set-car!", args[0])?.set_car(args[1]);
    Ok(Value::UNSPECIFIED)
}
fn set_cdr(args: &[Value]) -> VResult {
    pair_arg("set-cdr!", args[0])?.set_cdr(args[1]);
    Ok(Value::UNSPECIFIED)
}

/// `c[ad]+r`: `path` is the letters between `c` and `r`, applied right to
/// left. Errors name the whole accessor and show its argument.
fn cxr(who: &str, path: &str, v: Value) -> VResult {
    let mut x = v;
    for step in path.bytes().rev() {
        if !x.is_pair() {
            return Err(error::wrong_type(who, "a pair", v));
        }
        x = if step == b'a' { x.car() } else { x.cdr() };
    }
    Ok(x)
}

macro_rules! cxrs {
    ($($f:ident $name:literal $path:literal),* $(,)?) => {
        $(fn $f(args: &[Value]) -> VResult { cxr($name, $path, args[0]) })*
        pub(super) const CXRS: &[Builtin] = &[$(fixed($name, 1, $f)),*];
    };
}

cxrs! {
    caar "caar" "aa", cadr "cadr" "ad", cdar "cdar" "da", cddr "cddr" "dd",
    caaar "caaar" "aaa", caadr "caadr" "aad", cadar "cadar" "ada", caddr "caddr" "add",
    cdaar "cdaar" "daa", cdadr "cdadr" "dad", cddar "cddar" "dda", cdddr "cdddr" "ddd",
    caaaar "caaaar" "aaaa", caaadr "caaadr" "aaad", caadar "caadar" "aada",
    caaddr "caaddr" "aadd", cadaar "cadaar" "adaa", cadadr "cadadr" "adad",
    caddar "caddar" "adda", cadddr "cadddr" "addd", cdaaar "cdaaar" "daaa",
    cdaadr "cdaadr" "daad", cdadar "cdadar" "dada", cdaddr "cdaddr" "dadd",
    cddaar "cddaar" "ddaa", cddadr "cddadr" "ddad", cdddar "cdddar" "ddda",
    cddddr "cddddr" "dddd",
}

fn is_pair(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_pair()))
}
fn is_null(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_nil()))
}

/// Length of a proper list, `None` for improper or circular ones.
pub fn proper_length(mut l: Value) -> Option<usize> {
    let mut slow = l;
    let mut n = 0usize;
    while l.is_pair() {
        l = l.cdr();
        n += 1;
        if n.is_multiple_of(2) {
            slow = slow.cdr();
            if slow == l && l.is_pair() {
                return None;
            }
        }
    }
    l.is_nil().then_some(n)
}

fn is_list(args: &[Value]) -> VResult {
    Ok(Value::bool(proper_length(args[0]).is_some()))
}
fn list(args: &[Value]) -> VResult {
    Ok(object::list_from(args))
}
fn make_list(args: &[Value]) -> VResult {
    let n = index_arg("make-list", args[0])?;
    let s = Scope::new();
    let fill = s.root(super::opt_arg(args, 1).unwrap_or(Value::FALSE));
    let acc = s.root(Value::NIL);
    for _ in 0..n {
        acc.set(object::cons(fill.get(), acc.get()));
    }
    Ok(acc.get())
}
/// `(%count who n)`: `n` if it is a non-negative integer, else the
/// wrong-type error builtins give, naming `who` (a symbol): for prelude
/// procedures that take a count, such as `iota`.
fn count(args: &[Value]) -> VResult {
    if !args[0].is_symbol() {
        return Err(error::wrong_type("%count", "a symbol", args[0]));
    }
    index_arg(&object::symbol_name(args[0]), args[1])?;
    Ok(args[1])
}
fn length(args: &[Value]) -> VResult {
    match proper_length(args[0]) {
        Some(n) => Ok(Value::fixnum(n as i64)),
        None => Err(error::wrong_type("length", "a proper list", args[0])),
    }
}

/// The pair or tail `k` cdrs down `l`.
fn tail(who: &str, l: Value, kv: Value) -> VResult {
    let k = index_arg(who, kv)?;
    let mut x = l;
    for _ in 0..k {
        if !x.is_pair() {
            return Err(error::out_of_range(who, kv));
        }
        x = x.cdr();
    }
    Ok(x)
}

fn list_ref(args: &[Value]) -> VResult {
    let x = tail("list-ref", args[0], args[1])?;
    if x.is_pair() {
        Ok(x.car())
    } else {
        Err(error::out_of_range("list-ref", args[1]))
    }
}
fn list_set(args: &[Value]) -> VResult {
    let x = tail("list-set!", args[0], args[1])?;
    if !x.is_pair() {
        return Err(error::out_of_range("list-set!", args[1]));
    }
    x.set_car(args[2]);
    Ok(Value::UNSPECIFIED)
}
fn list_tail(args: &[Value]) -> VResult {
    tail("list-tail", args[0], args[1])
}
fn last_pair(args: &[Value]) -> VResult {
    let mut x = pair_arg("last-pair", args[0])?;
    // Bounded by a tortoise so a circular list is an error, not a hang.
    let mut slow = x;
    let mut n = 0usize;
    while x.cdr().is_pair() {
        x = x.cdr();
        n += 1;
        if n.is_multiple_of(2) {
            slow = slow.cdr();
            if slow == x {
                return Err(error::wrong_type("last-pair", "a finite list", args[0]));
            }
        }
    }
    Ok(x)
}
fn list_to_vector(args: &[Value]) -> VResult {
    let items = list_arg("list->vector", args[0])?;
    Ok(object::vector_from(&items))
}
fn list_to_string(args: &[Value]) -> VResult {
    let items = list_arg("list->string", args[0])?;
    let mut chars = Vec::with_capacity(items.len());
    for v in items {
        chars.push(super::char_arg("list->string", v)?);
    }
    Ok(object::string_from_chars(&chars))
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("cons", 2, cons),
    fixed("car", 1, car),
    fixed("cdr", 1, cdr),
    fixed("set-car!", 2, set_car),
    fixed("set-cdr!", 2, set_cdr),
    fixed("pair?", 1, is_pair),
    fixed("null?", 1, is_null),
    fixed("list?", 1, is_list),
    var("list", 0, list),
    opt("make-list", 1, 1, make_list),
    fixed("%count", 2, count),
    fixed("length", 1, length),
    fixed("list-ref", 2, list_ref),
    fixed("list-set!", 3, list_set),
    fixed("list-tail", 2, list_tail),
    fixed("last-pair", 1, last_pair),
    fixed("list->vector", 1, list_to_vector),
    fixed("list->string", 1, list_to_string),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn lists() {
        let _g = lock();
        check_all(&[
            ("(cons 1 2)", "(1 . 2)"),
            ("(car '(1 2))", "1"),
            ("(cdr '(1 2))", "(2)"),
            ("(cadr '(1 2 3))", "2"),
            ("(cddr '(1 2 3))", "(3)"),
            ("(caddr '(1 2 3))", "3"),
            ("(cadddr '(1 2 3 4))", "4"),
            ("(cddddr '(1 2 3 4 5))", "(5)"),
            ("(caar '((1) 2))", "1"),
            ("(cdar '((1 . 5) 2))", "5"),
            ("(caadr '(0 (1)))", "1"),
            ("(pair? '(1))", "#t"),
            ("(pair? '())", "#f"),
            ("(null? '())", "#t"),
            ("(null? '(1))", "#f"),
            ("(list? '(1 2))", "#t"),
            ("(list? '(1 . 2))", "#f"),
            ("(list? '())", "#t"),
            ("(list)", "()"),
            ("(list 1 \"a\" #\\b)", "(1 \"a\" #\\b)"),
            ("(make-list 3 'x)", "(x x x)"),
            ("(make-list 0)", "()"),
            ("(length '(1 2 3))", "3"),
            ("(length '())", "0"),
            ("(list-ref '(a b c) 2)", "c"),
            ("(list-tail '(a b c) 1)", "(b c)"),
            ("(list-tail '(a b c) 3)", "()"),
            ("(last-pair '(1 2 3))", "(3)"),
            ("(list->vector '(1 2 3))", "#(1 2 3)"),
            ("(list->string '(#\\a #\\b))", "\"ab\""),
        ]);
        check_errs(&[
            ("(car 5)", "car: expected a pair: 5"),
            ("(cdr '())", "cdr: expected a pair: ()"),
            ("(cadr '(1))", "cadr: expected a pair: (1)"),
            ("(set-car! 1 2)", "set-car!: expected a pair: 1"),
            (
                "(length '(1 . 2))",
                "length: expected a proper list: (1 . 2)",
            ),
            ("(list-ref '(a b) 2)", "list-ref: index out of range: 2"),
            (
                "(list-ref '(a b) -1)",
                "list-ref: expected a non-negative integer: -1",
            ),
            ("(list-tail '(a b) 3)", "list-tail: index out of range: 3"),
            (
                "(list->string '(#\\a 1))",
                "list->string: expected a character: 1",
            ),
            (
                "(list->vector '(1 . 2))",
                "list->vector: expected a proper list: (1 . 2)",
            ),
            (
                "(make-list -1)",
                "make-list: expected a non-negative integer: -1",
            ),
        ]);
    }

    #[test]
    fn mutation_and_cycles() {
        let _g = lock();
        let s = crate::gc::Scope::new();
        let l = s.root(ev("(list 1 2 3)"));
        let f = ev("set-cdr!");
        call_ok(f, &[l.get().cdr().cdr(), l.get()]);
        assert_eq!(
            call_err(ev("length"), &[l.get()]),
            "length: expected a proper list: #0=(1 2 3 . #0#)"
        );
        assert_eq!(call_ok(ev("list?"), &[l.get()]), crate::Value::FALSE);
        assert_eq!(
            call_err(ev("last-pair"), &[l.get()]),
            "last-pair: expected a finite list: #0=(1 2 3 . #0#)"
        );
        let l2 = s.root(ev("(list 1 2 3)"));
        sym("x");
        call_ok(ev("list-set!"), &[l2.get(), fx(1), sym("x")]);
        assert_eq!(w(l2.get()), "(1 x 3)");
    }

    #[test]
    fn lists_under_stress() {
        let _g = lock();
        with_stress(|| {
            check_all(&[
                ("(make-list 5 \"s\")", "(\"s\" \"s\" \"s\" \"s\" \"s\")"),
                ("(list->vector (list 1.5 2.5))", "#(1.5 2.5)"),
                ("(list (cons 1 2) (list 3.5))", "((1 . 2) (3.5))"),
            ]);
        });
    }
}
