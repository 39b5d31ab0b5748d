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
}

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
        ("vector-ref", 2) => VectorRef,
        ("vector-set!", 3) => VectorSet,
        ("vector-length", 1) => VectorLength,
        ("string-ref", 2) => StringRef,
        ("string-length", 1) => StringLength,
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
        ] {
            let b = valk_runtime::builtins::lookup(name)
                .unwrap_or_else(|| panic!("{name} is not a builtin"));
            let argc = (0..4)
                .find(|&n| lookup(name, n).is_some())
                .unwrap_or_else(|| panic!("{name} has no inline form"));
            assert!(b.accepts(argc), "{name}/{argc}");
        }
        assert_eq!(lookup("+", 3), None);
        assert_eq!(lookup("car", 2), None);
    }

    #[test]
    fn control_builtins_are_not_runtime_calls() {
        assert!(!runtime_callable("apply", 2));
        assert!(runtime_callable("display", 1));
        assert!(!runtime_callable("display", 5));
        assert!(!runtime_callable("no-such-builtin", 1));
    }
}
