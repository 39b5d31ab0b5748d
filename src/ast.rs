//! The core AST: what the expander produces and what every engine consumes
//! (the interpreter evaluates it, `src/lower` turns it into VIR).
//!
//! Derived forms (`let*`, `cond`, `case`, `do`, named `let`, `when`,
//! `unless`, `and`, `or`, `quasiquote`, `define-record-type`, internal
//! defines, ...) are gone: only the forms below remain. Variables are
//! resolved: a lexical variable is a [`LocalId`] unique within its
//! [`TopLevel`] (the expander alpha-renames), anything else is a global
//! looked up by name at run time.

use crate::syntax::datum::Datum;
use crate::syntax::source::Span;

/// A lexical variable, unique within one [`TopLevel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

#[derive(Clone, Debug)]
pub struct LocalInfo {
    /// The name as written by the user (for diagnostics and printers).
    pub name: String,
    /// True when some `set!` assigns this variable (assignment conversion
    /// boxes it if it is also captured).
    pub assigned: bool,
}

/// One top-level form after expansion. `locals` is indexed by `LocalId`.
#[derive(Clone, Debug)]
pub struct TopLevel {
    pub body: Expr,
    pub locals: Vec<LocalInfo>,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A quoted or self-evaluating constant.
    Const(Datum),
    /// The unspecified value (e.g. a one-armed `if` whose test is false).
    Void,
    Local(LocalId),
    /// A global variable reference; unbound at run time is an error that
    /// points at this node's span.
    Global(String),
    SetLocal(LocalId, Box<Expr>),
    SetGlobal(String, Box<Expr>),
    /// Top-level `define`: creates or replaces the global binding.
    DefineGlobal(String, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Box<Lambda>),
    /// Procedure call; the callee is evaluated first, then the arguments
    /// from left to right (all engines use this order).
    Call(Box<Expr>, Vec<Expr>),
    /// Non-empty sequence; the value is the last expression's.
    Seq(Vec<Expr>),
    /// Parallel `let`: inits are evaluated outside the new scope.
    Let(Vec<(LocalId, Expr)>, Box<Expr>),
    /// `letrec*`: bindings are created unassigned, then initialised in order;
    /// reading one before its initialisation is an error.
    Letrec(Vec<(LocalId, Expr)>, Box<Expr>),
}

#[derive(Clone, Debug)]
pub struct Lambda {
    /// The name it was defined under, if any (for error messages).
    pub name: Option<String>,
    pub params: Vec<LocalId>,
    /// The rest parameter of `(a b . rest)` or `args` lambdas.
    pub rest: Option<LocalId>,
    pub body: Expr,
    pub span: Span,
}

impl Lambda {
    /// Whether this procedure is glue the expander generated around a
    /// runtime operation (a record constructor, predicate, accessor or
    /// modifier, a typed foreign function): backtraces do not show its
    /// frame, on every engine (the compiled engines usually inline the
    /// operation; docs/debugging.md).
    pub fn is_glue(&self) -> bool {
        matches!(&self.body.kind, ExprKind::Call(f, _)
            if matches!(&f.kind, ExprKind::Global(n)
                if matches!(n.as_str(), "%record" | "%record?" | "%record-ref" | "%record-set!" | "%ffi-call")))
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}
