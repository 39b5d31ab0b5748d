//! Compile-time warnings: references to global variables that no
//! definition in the program, its libraries, its `load`ed and included
//! files or the prelude binds, and that are not builtins
//! (docs/errors.md, "Warnings"). The program still compiles and runs: the
//! reference is an error only if it is evaluated.
//!
//! `valkc compile` (and every whole-program compile: `valkc run`, the
//! JIT's `valk FILE`) and the interpreter's `valk --no-jit FILE` warn; the
//! REPL does not (its forms come one at a time). `VALK_WARNINGS=0` turns
//! the warnings off.

use crate::ast::{Expr, ExprKind, TopLevel};
use crate::syntax::diag::Diagnostic;
use crate::syntax::source::{SourceMap, Span};
use std::collections::HashSet;

/// Whether warnings are wanted (`VALK_WARNINGS=0` turns them off).
pub fn enabled() -> bool {
    valk_runtime::host::env_switch("VALK_WARNINGS").unwrap_or(true)
}

/// The references of `tops` to globals that nothing defines: no
/// `define` among `tops`, not a builtin, not `predefined`. None at all
/// when the program uses `eval`, `environment` or run-time `load`, which
/// may define any name (pipeline::EVAL_PROCEDURES).
pub fn unbound_references<'a>(
    tops: impl IntoIterator<Item = &'a TopLevel>,
    predefined: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut w = Walk::default();
    for t in tops {
        w.top(&t.body);
    }
    w.refs.sort_by_key(|(_, s)| (s.file.0, s.start, s.end));
    let uses_eval = w.refs.iter().any(|(n, _)| {
        crate::pipeline::EVAL_PROCEDURES.contains(&valk_runtime::globals::user_name(n))
    });
    if uses_eval {
        return Vec::new();
    }
    let mut seen = HashSet::new();
    w.refs
        .iter()
        .filter(|(name, _)| {
            !w.defined.contains(name.as_str())
                // Private helpers of the runtime and the prelude.
                && !name.starts_with('%')
                && valk_runtime::builtins::lookup(name).is_none()
                && !predefined(name)
        })
        // One warning per place (a macro may copy a reference).
        .filter(|(_, span)| seen.insert(*span))
        .map(|(name, span)| {
            Diagnostic::at(
                *span,
                format!(
                    "reference to unbound variable '{}'",
                    valk_runtime::globals::user_name(name)
                ),
            )
        })
        .collect()
}

/// Prints the warnings about `tops` on stderr (unless turned off).
pub fn warn_unbound<'a>(
    tops: impl IntoIterator<Item = &'a TopLevel>,
    sources: &SourceMap,
    predefined: &dyn Fn(&str) -> bool,
) {
    if !enabled() {
        return;
    }
    for d in unbound_references(tops, predefined) {
        valk_runtime::eprint_quiet!("{}", d.render_warning(sources));
    }
}

#[derive(Default)]
struct Walk {
    defined: HashSet<String>,
    /// (global, where it is read or assigned).
    refs: Vec<(String, Span)>,
}

impl Walk {
    /// Iterative: expressions may nest deeper than the stack allows.
    fn top(&mut self, e: &Expr) {
        let mut work = vec![e];
        while let Some(e) = work.pop() {
            match &e.kind {
                ExprKind::Const(_) | ExprKind::Void | ExprKind::Local(_) => {}
                ExprKind::Global(n) => self.refs.push((n.clone(), e.span)),
                ExprKind::SetGlobal(n, v) => {
                    self.refs.push((n.clone(), e.span));
                    work.push(v);
                }
                ExprKind::DefineGlobal(n, v) => {
                    self.defined.insert(n.clone());
                    work.push(v);
                }
                ExprKind::SetLocal(_, v) => work.push(v),
                ExprKind::If(a, b, c) => work.extend([&**a, &**b, &**c]),
                ExprKind::Lambda(l) => work.push(&l.body),
                ExprKind::Call(f, args) => {
                    work.push(f);
                    work.extend(args);
                }
                ExprKind::Seq(es) => work.extend(es),
                ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => {
                    work.extend(bs.iter().map(|(_, x)| x));
                    work.push(body);
                }
            }
        }
    }
}
