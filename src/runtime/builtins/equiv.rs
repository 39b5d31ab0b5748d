//! Booleans and equivalence: `eq?`, `eqv?`, `equal?`.
//!
//! `equal?` never recurses on the Rust stack and terminates on circular
//! data: it first compares with a work budget; structures too large for the
//! budget are compared again while merging the compared object pairs into
//! equivalence classes (union-find), so a pair already assumed equal is not
//! compared twice and a cycle is walked only once. Neither pass allocates
//! on the Valk heap, so the values stay in place.

use super::{fixed, var, Builtin};
use crate::error::{self, VResult};
use crate::object;
use crate::printer::AddrMap;
use crate::value::{ObjType, Value};

/// `eqv?`: identity, plus numbers with the same value and exactness
/// (flonums by their bits, so `0.0` and `-0.0` differ and NaNs with the
/// same bits agree). Canonical forms make the comparison structural
/// (docs/numbers.md); nothing is allocated.
pub fn eqv(a: Value, b: Value) -> bool {
    if a == b {
        return true;
    }
    let (Some(ta), Some(tb)) = (a.obj_type(), b.obj_type()) else {
        return false;
    };
    if ta != tb {
        return false;
    }
    match ta {
        ObjType::Flonum => a.raw(0) == b.raw(0),
        ObjType::Bignum => crate::num::bignum_limbs(a) == crate::num::bignum_limbs(b),
        ObjType::Rational | ObjType::Complex => {
            eqv(a.field(0), b.field(0)) && eqv(a.field(1), b.field(1))
        }
        _ => false,
    }
}

/// Structure compared by `equal?` beyond `eqv?`.
fn atoms_equal(a: Value, b: Value) -> Option<bool> {
    let (ta, tb) = (a.obj_type()?, b.obj_type()?);
    if ta != tb {
        return Some(false);
    }
    match ta {
        ObjType::String => {
            let n = object::string_len(a);
            Some(
                n == object::string_len(b)
                    && (0..n).all(|i| object::string_ref(a, i) == object::string_ref(b, i)),
            )
        }
        ObjType::Bytevector => {
            Some(object::bytevector_bytes_mut(a) == object::bytevector_bytes_mut(b))
        }
        _ => None,
    }
}

/// Compound objects `equal?` looks into.
fn is_container(v: Value) -> bool {
    v.is_pair() || v.is_vector()
}

/// Union-find over object addresses.
#[derive(Default)]
struct Classes {
    parent: AddrMap<u64>,
}

impl Classes {
    fn find(&mut self, x: u64) -> u64 {
        let mut root = x;
        while let Some(&p) = self.parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        // Path compression.
        let mut y = x;
        while y != root {
            let next = self.parent.get(&y).copied().unwrap_or(root);
            self.parent.insert(y, root);
            y = next;
        }
        root
    }

    /// Merges the classes of `a` and `b`; false when they were already one.
    fn union(&mut self, a: u64, b: u64) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent.insert(ra, rb);
        self.parent.entry(rb).or_insert(rb);
        true
    }
}

/// Compares with at most `budget` container pairs (`None` when exceeded);
/// with `classes`, merges compared pairs instead and has no budget.
fn compare(a: Value, b: Value, budget: usize, classes: Option<&mut Classes>) -> Option<bool> {
    // One work stack per thread, reused: a fresh one per call was a
    // malloc/free pair on every `equal?` of two lists. Nothing here calls
    // back into Valk code, so the stack is never in use twice.
    thread_local! {
        static STACK: std::cell::Cell<Vec<(Value, Value)>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut stack = STACK.take();
    stack.clear();
    let r = compare_on(&mut stack, a, b, budget, classes);
    if stack.capacity() <= 4096 {
        STACK.set(stack);
    }
    r
}

fn compare_on(
    stack: &mut Vec<(Value, Value)>,
    a: Value,
    b: Value,
    mut budget: usize,
    mut classes: Option<&mut Classes>,
) -> Option<bool> {
    stack.push((a, b));
    while let Some((x, y)) = stack.pop() {
        if eqv(x, y) {
            continue;
        }
        if !is_container(x) || !is_container(y) {
            match atoms_equal(x, y) {
                Some(true) => continue,
                _ => return Some(false),
            }
        }
        match &mut classes {
            Some(c) => {
                if !c.union(x.0, y.0) {
                    continue;
                }
            }
            None => {
                if budget == 0 {
                    return None;
                }
                budget -= 1;
            }
        }
        if x.is_pair() && y.is_pair() {
            stack.push((x.cdr(), y.cdr()));
            stack.push((x.car(), y.car()));
        } else if x.is_vector() && y.is_vector() {
            let n = x.size();
            if n != y.size() {
                return Some(false);
            }
            for i in (0..n).rev() {
                stack.push((x.field(i), y.field(i)));
            }
        } else {
            return Some(false);
        }
    }
    Some(true)
}

/// `equal?`.
pub fn equal(a: Value, b: Value) -> bool {
    // The first step of `compare`, without its work stack: most calls (from
    // member, assoc) compare atoms, and allocating the stack dominated them.
    if eqv(a, b) {
        return true;
    }
    if !is_container(a) || !is_container(b) {
        return atoms_equal(a, b) == Some(true);
    }
    match compare(a, b, 100_000, None) {
        Some(r) => r,
        None => compare(a, b, 0, Some(&mut Classes::default())).unwrap_or(false),
    }
}

fn not(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0] == Value::FALSE))
}
fn is_boolean(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_bool()))
}
fn boolean_eq(args: &[Value]) -> VResult {
    for &v in args {
        if !v.is_bool() {
            return Err(error::wrong_type("boolean=?", "a boolean", v));
        }
    }
    Ok(Value::bool(args.windows(2).all(|w| w[0] == w[1])))
}
fn eq_p(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0] == args[1]))
}
fn eqv_p(args: &[Value]) -> VResult {
    Ok(Value::bool(eqv(args[0], args[1])))
}
fn equal_p(args: &[Value]) -> VResult {
    Ok(Value::bool(equal(args[0], args[1])))
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("not", 1, not),
    fixed("boolean?", 1, is_boolean),
    var("boolean=?", 2, boolean_eq),
    fixed("eq?", 2, eq_p),
    fixed("eqv?", 2, eqv_p),
    fixed("equal?", 2, equal_p),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::gc::Scope;

    #[test]
    fn basics() {
        let _g = lock();
        check_all(&[
            ("(not #f)", "#t"),
            ("(not '())", "#f"),
            ("(boolean? #f)", "#t"),
            ("(boolean? 0)", "#f"),
            ("(boolean=? #t #t #t)", "#t"),
            ("(boolean=? #t #f)", "#f"),
            ("(eq? 'a 'a)", "#t"),
            ("(eq? '() '())", "#t"),
            ("(eq? (list 1) (list 1))", "#f"),
            ("(eqv? 1.5 1.5)", "#t"),
            ("(eqv? 0.0 -0.0)", "#f"),
            ("(eqv? 2 2.0)", "#f"),
            ("(eqv? \"a\" \"a\")", "#f"),
            ("(equal? \"abc\" \"abc\")", "#t"),
            ("(equal? \"abc\" \"abd\")", "#f"),
            (
                "(equal? '(1 (2 #(3 \"x\")) . 4) '(1 (2 #(3 \"x\")) . 4))",
                "#t",
            ),
            (
                "(equal? '(1 (2 #(3 \"x\")) . 4) '(1 (2 #(3 \"y\")) . 4))",
                "#f",
            ),
            ("(equal? #(1 2) #(1 2 3))", "#f"),
            ("(equal? #u8(1 2) #u8(1 2))", "#t"),
            ("(equal? #u8(1 2) #u8(1 3))", "#f"),
            ("(equal? 2 2.0)", "#f"),
            ("(equal? '(1) #(1))", "#f"),
        ]);
        check_errs(&[("(boolean=? #t 1)", "boolean=?: expected a boolean: 1")]);
    }

    #[test]
    fn deep_and_circular() {
        let _g = lock();
        let s = Scope::new();
        let a = s.root(ev("(make-list 1000000 'x)"));
        let b = s.root(ev("(make-list 1000000 'x)"));
        assert!(equal(a.get(), b.get()));
        let c = s.root(ev("(make-list 1000000 'x)"));
        // Differ in the last element.
        let mut p = c.get();
        while p.cdr().is_pair() {
            p = p.cdr();
        }
        p.set_car(Value::fixnum(1));
        assert!(!equal(a.get(), c.get()));
        // Deep car nesting.
        let x = s.root(Value::NIL);
        let y = s.root(Value::NIL);
        for _ in 0..300_000 {
            x.set(object::cons(x.get(), Value::NIL));
            y.set(object::cons(y.get(), Value::NIL));
        }
        assert!(equal(x.get(), y.get()));
        // Two circular lists with the same elements but different periods.
        let c1 = s.root(ev("(list 1 2)"));
        c1.get().cdr().set_cdr(c1.get());
        let c2 = s.root(ev("(list 1 2 1 2)"));
        c2.get().cdr().cdr().cdr().set_cdr(c2.get());
        assert!(equal(c1.get(), c2.get()));
        let c3 = s.root(ev("(list 1 3)"));
        c3.get().cdr().set_cdr(c3.get());
        assert!(!equal(c1.get(), c3.get()));
        // A circular vector.
        let v1 = s.root(object::make_vector(1, Value::NIL));
        v1.get().set_field(0, v1.get());
        let v2 = s.root(object::make_vector(1, Value::NIL));
        v2.get().set_field(0, v2.get());
        assert!(equal(v1.get(), v2.get()));
    }
}
