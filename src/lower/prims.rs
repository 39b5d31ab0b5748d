//! Builtins the lowering compiles inline or calls through `call_runtime`.
//! (The arity and letrec-initialisation errors are the VIR opcodes
//! `arity_error` and `check_init`, see `docs/vir.md`.)
//!
//! A call `(name args...)` of a global `name` that is a builtin nobody
//! redefines becomes inline VIR when [`lookup`] knows the name at that
//! argument count; any other builtin call with an acceptable argument
//! count becomes `call_runtime "name"(args)`, except the control builtins
//! ([`is_control_builtin`]), which go through the global's closure like
//! user procedures (so that `(apply f l)` in tail position stays a
//! `tail_call_closure`).

use valk_vir::{Cond, FxOp, Ty};

/// An inline primitive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Prim {
    /// `car`/`cdr`: `type_check.pair` then `car`/`cdr`.
    Car,
    Cdr,
    Cons,
    /// Two-argument `+ - * quotient remainder modulo`: `fx.OP.chk`.
    Arith(FxOp),
    /// Two-argument `= < > <= >=`: `fx.CC.chk`.
    Compare(Cond),
    Eq,
    Not,
    /// One-argument type predicates: `type_is.T`.
    Is(Ty),
    VectorRef,
    VectorSet,
    VectorLength,
    StringRef,
    StringLength,
    /// `(list a ...)`: a chain of `cons` (up to [`MAX_INLINE_ARGS`]).
    List,
    /// `c[ad]{2,4}r`, the letters between `c` and `r`: `type_is.pair`
    /// steps; the failing path calls the builtin (its error shows the
    /// whole argument).
    Cxr(&'static str),
    /// `set-car!`/`set-cdr!`: `type_check.pair` then `store 0`/`store 1`.
    SetCar,
    SetCdr,
    /// `+ - *` of three or more arguments: left fold of `fx.OP.chk`.
    ArithN(FxOp),
    /// `= < > <= >=` of three or more arguments: every adjacent pair
    /// compared with `fx.CC.chk` (each argument evaluated once, every
    /// pair checked as the builtin checks every argument), then joined.
    CompareN(Cond),
    /// `zero?`: `eq` with 0 on fixnums, the builtin otherwise.
    IsZero,
    /// `eqv?` and `equal?`: `#t` when `eq`; `#f` when not `eq` and the
    /// first argument is a fixnum or a symbol (or, for `equal?`, a char,
    /// boolean or `()`), whose equivalence is identity; the builtin
    /// otherwise (flonums, bignums, strings, pairs...).
    Eqv,
    Equal,
    /// `char->integer`: `char_to_int` after `type_is.char`.
    CharToInteger,
    /// `integer->char`: `int_to_char` after the scalar-value range check.
    IntegerToChar,
    /// Two-argument `char=? char<? char>? char<=? char>=?`.
    CharCompare(Cond),
    /// `string-set!`: `string_set` after `type_is` tests of its three
    /// arguments (the builtin raises when one fails).
    StringSet,
    /// `(vector a ...)`: `alloc.vector` (up to [`MAX_INLINE_ARGS`]).
    Vector,
    /// `make-vector` of a constant size up to [`MAX_INLINE_ARGS`]:
    /// `alloc.vector` of the fill.
    MakeVector,
    /// The record primitives that `define-record-type` expands to
    /// (docs/lowering.md, "Records"): `record_new`, `record_is`,
    /// `record_ref.I`, `record_set.I`.
    RecordNew,
    RecordIs,
    RecordRef,
    RecordSet,
}

/// The most arguments `list`, `vector`, n-ary arithmetic and
/// `make-vector` expand in line.
pub(crate) const MAX_INLINE_ARGS: usize = 16;

/// The `c[ad]{2,4}r` builtins and their paths.
const CXRS: &[&str] = &[
    "aa", "ad", "da", "dd", "aaa", "aad", "ada", "add", "daa", "dad", "dda", "ddd", "aaaa", "aaad",
    "aada", "aadd", "adaa", "adad", "adda", "addd", "daaa", "daad", "dada", "dadd", "ddaa", "ddad",
    "ddda", "dddd",
];

/// The inline form of builtin `name` called with `argc` arguments.
pub(crate) fn lookup(name: &str, argc: usize) -> Option<Prim> {
    use Prim::*;
    let p = match (name, argc) {
        ("car", 1) => Car,
        ("cdr", 1) => Cdr,
        ("cons", 2) => Cons,
        ("+", 2) => Arith(FxOp::Add),
        ("-", 2) => Arith(FxOp::Sub),
        ("*", 2) => Arith(FxOp::Mul),
        ("quotient", 2) => Arith(FxOp::Quo),
        ("remainder", 2) => Arith(FxOp::Rem),
        ("modulo", 2) => Arith(FxOp::Mod),
        ("=", 2) => Compare(Cond::Eq),
        ("<", 2) => Compare(Cond::Lt),
        (">", 2) => Compare(Cond::Gt),
        ("<=", 2) => Compare(Cond::Le),
        (">=", 2) => Compare(Cond::Ge),
        ("eq?", 2) => Eq,
        ("eqv?", 2) => Eqv,
        ("equal?", 2) => Equal,
        ("not", 1) => Not,
        ("null?", 1) => Is(Ty::Null),
        ("pair?", 1) => Is(Ty::Pair),
        ("vector?", 1) => Is(Ty::Vector),
        ("string?", 1) => Is(Ty::String),
        ("symbol?", 1) => Is(Ty::Symbol),
        ("char?", 1) => Is(Ty::Char),
        ("boolean?", 1) => Is(Ty::Boolean),
        ("procedure?", 1) => Is(Ty::Procedure),
        ("bytevector?", 1) => Is(Ty::Bytevector),
        ("vector-ref" | "%tier-frame-ref", 2) => VectorRef,
        ("vector-set!" | "%tier-frame-set!", 3) => VectorSet,
        ("vector-length", 1) => VectorLength,
        ("string-ref", 2) => StringRef,
        ("string-length", 1) => StringLength,
        ("list", n) if n <= MAX_INLINE_ARGS => List,
        ("set-car!", 2) => SetCar,
        ("set-cdr!", 2) => SetCdr,
        ("+", n) if (3..=MAX_INLINE_ARGS).contains(&n) => ArithN(FxOp::Add),
        ("-", n) if (3..=MAX_INLINE_ARGS).contains(&n) => ArithN(FxOp::Sub),
        ("*", n) if (3..=MAX_INLINE_ARGS).contains(&n) => ArithN(FxOp::Mul),
        ("=", n) if (3..=MAX_INLINE_ARGS).contains(&n) => CompareN(Cond::Eq),
        ("<", n) if (3..=MAX_INLINE_ARGS).contains(&n) => CompareN(Cond::Lt),
        (">", n) if (3..=MAX_INLINE_ARGS).contains(&n) => CompareN(Cond::Gt),
        ("<=", n) if (3..=MAX_INLINE_ARGS).contains(&n) => CompareN(Cond::Le),
        (">=", n) if (3..=MAX_INLINE_ARGS).contains(&n) => CompareN(Cond::Ge),
        ("zero?", 1) => IsZero,
        ("char->integer", 1) => CharToInteger,
        ("integer->char", 1) => IntegerToChar,
        ("char=?", 2) => CharCompare(Cond::Eq),
        ("char<?", 2) => CharCompare(Cond::Lt),
        ("char>?", 2) => CharCompare(Cond::Gt),
        ("char<=?", 2) => CharCompare(Cond::Le),
        ("char>=?", 2) => CharCompare(Cond::Ge),
        ("string-set!", 3) => StringSet,
        ("vector", n) if n <= MAX_INLINE_ARGS => Vector,
        ("make-vector", 1 | 2) => MakeVector,
        ("%record", n) if (1..=MAX_INLINE_ARGS + 1).contains(&n) => RecordNew,
        ("%record?", 2) => RecordIs,
        ("%record-ref", 4) => RecordRef,
        ("%record-set!", 5) => RecordSet,
        (c, 1) if c.len() > 3 && c.starts_with('c') && c.ends_with('r') => {
            let path = &c[1..c.len() - 1];
            Cxr(CXRS.iter().copied().find(|&p| p == path)?)
        }
        _ => return None,
    };
    Some(p)
}

/// Builtins that call procedures or capture the continuation: compiled as
/// ordinary closure calls of the global, never as `call_runtime`.
pub fn is_control_builtin(name: &str) -> bool {
    matches!(
        name,
        "apply"
            | "call-with-values"
            | "call/cc"
            | "call-with-current-continuation"
            | "dynamic-wind"
            | "with-exception-handler"
            | "raise-continuable"
            | "values"
            | "%capture-continuation"
            | "%call/ec"
            | "%tail-call/ec"
            | "exit"
            | "string-index"
    )
}

/// May `(name args...)` with `argc` arguments be `call_runtime "name"`?
/// (The builtin exists, accepts that many arguments, and is not a
/// control builtin. A wrong count goes through the closure so the
/// runtime raises the usual arity error.)
pub(crate) fn runtime_callable(name: &str, argc: usize) -> bool {
    !is_control_builtin(name)
        && valk_runtime::builtins::lookup(name).is_some_and(|b| b.accepts(argc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_primitive_is_a_builtin_with_that_arity() {
        for name in [
            "car",
            "cdr",
            "cons",
            "+",
            "-",
            "*",
            "quotient",
            "remainder",
            "modulo",
            "=",
            "<",
            ">",
            "<=",
            ">=",
            "eq?",
            "not",
            "null?",
            "pair?",
            "vector?",
            "string?",
            "symbol?",
            "char?",
            "boolean?",
            "procedure?",
            "bytevector?",
            "vector-ref",
            "vector-set!",
            "vector-length",
            "string-ref",
            "string-length",
            "list",
            "cadr",
            "cddddr",
            "set-car!",
            "set-cdr!",
            "zero?",
            "eqv?",
            "equal?",
            "char->integer",
            "integer->char",
            "char=?",
            "char<?",
            "char>?",
            "char<=?",
            "char>=?",
            "string-set!",
            "vector",
            "make-vector",
            "%record",
            "%record?",
            "%record-ref",
            "%record-set!",
        ] {
            let b = valk_runtime::builtins::lookup(name)
                .unwrap_or_else(|| panic!("{name} is not a builtin"));
            let argc = (0..6)
                .find(|&n| lookup(name, n).is_some())
                .unwrap_or_else(|| panic!("{name} has no inline form"));
            assert!(b.accepts(argc), "{name}/{argc}");
        }
        assert_eq!(lookup("+", 3), Some(Prim::ArithN(FxOp::Add)));
        assert_eq!(lookup("<", 4), Some(Prim::CompareN(Cond::Lt)));
        assert_eq!(lookup("+", 1), None);
        assert_eq!(lookup("-", 1), None);
        assert_eq!(lookup("car", 2), None);
        assert_eq!(lookup("cxr", 1), None);
        assert_eq!(lookup("caddr", 1), Some(Prim::Cxr("add")));
        assert_eq!(lookup("cadddddr", 1), None);
        for p in CXRS {
            let name = format!("c{p}r");
            let b = valk_runtime::builtins::lookup(&name).expect("cxr builtin");
            assert!(b.accepts(1), "{name}");
        }
    }

    #[test]
    fn control_builtins_are_not_runtime_calls() {
        assert!(!runtime_callable("apply", 2));
        assert!(runtime_callable("display", 1));
        assert!(!runtime_callable("display", 5));
        assert!(!runtime_callable("no-such-builtin", 1));
    }
}
