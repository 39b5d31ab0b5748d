//! Which assigned variables must live in boxes because a continuation may
//! be captured while they are live (docs/continuations.md, "Assigned
//! variables").
//!
//! Input: one top-level form's core AST, the program's globals and the
//! form's function variables (from the analysis).
//! Output: the set of locals that are assigned (`set!`) and bound in a
//! function whose body (nested lambdas included, conservatively) makes a
//! call that may capture a continuation.
//!
//! Continuations copy the machine stack, and a resumed continuation sees
//! each frame exactly as it was at the capture. A variable kept in a frame
//! slot would therefore lose the assignments made after the capture when
//! the continuation is re-entered; Scheme requires them to be seen (a
//! variable is a location). Such variables live in a box, like assigned
//! variables captured by a closure. A call may capture unless its callee
//! is a builtin (not redefined by the program) that never calls a
//! procedure; calls of local functions are not capture points themselves,
//! their bodies are scanned.

use super::prims;
use super::GlobalsInfo;
use crate::ast::{Expr, ExprKind, LocalId, TopLevel};
use std::collections::{BTreeSet, HashSet};

/// Assigned locals of `top` whose binding function may capture;
/// `functions` are the function variables the analysis found.
pub(crate) fn boxed_for_capture(
    top: &TopLevel,
    globals: &GlobalsInfo,
    index: usize,
    functions: HashSet<LocalId>,
) -> BTreeSet<LocalId> {
    let mut w = Walk {
        globals,
        index,
        functions,
        frames: vec![Frame::default()],
        out: BTreeSet::new(),
    };
    w.expr(&top.body);
    w.close_frame();
    w.out
}

#[derive(Default)]
struct Frame {
    assigned_here: Vec<LocalId>,
    bound_here: HashSet<LocalId>,
    may_capture: bool,
}

struct Walk<'g> {
    globals: &'g GlobalsInfo,
    index: usize,
    /// Function variables (bound to a lambda, never assigned: the
    /// analysis's `VarInfo::fun`): their calls are not capture points, the
    /// lambda's body is scanned where it is written.
    functions: HashSet<LocalId>,
    frames: Vec<Frame>,
    out: BTreeSet<LocalId>,
}

impl Walk<'_> {
    fn frame(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a frame")
    }

    /// Ends the innermost function: its assigned variables are boxed if it
    /// may capture; a nested function that may capture makes its parent
    /// count as capturing too (conservative: it may run in the parent's
    /// frame when contified, or be called from it).
    fn close_frame(&mut self) {
        let f = self.frames.pop().expect("a frame");
        let (mine, outer): (Vec<LocalId>, Vec<LocalId>) = f
            .assigned_here
            .into_iter()
            .partition(|x| f.bound_here.contains(x));
        if f.may_capture {
            self.out.extend(mine);
        }
        if let Some(parent) = self.frames.last_mut() {
            parent.may_capture |= f.may_capture;
            parent.assigned_here.extend(outer);
        }
    }

    fn call_may_capture(&self, f: &Expr, argc: usize) -> bool {
        match &f.kind {
            ExprKind::Local(x) => !self.functions.contains(x),
            ExprKind::Global(name) => {
                let name = self.globals.resolve_alias(name, self.index);
                !(self.globals.is_pristine_builtin(name)
                    && (prims::lookup(name, argc).is_some() || prims::runtime_callable(name, argc)))
            }
            ExprKind::Lambda(_) => false,
            _ => true,
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
            ExprKind::SetLocal(x, v) => {
                self.frame().assigned_here.push(*x);
                self.expr(v);
            }
            ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => self.expr(v),
            ExprKind::If(c, t, f) => {
                self.expr(c);
                self.expr(t);
                self.expr(f);
            }
            ExprKind::Lambda(l) => {
                self.frames.push(Frame::default());
                let f = self.frame();
                f.bound_here.extend(l.params.iter().chain(&l.rest).copied());
                self.expr(&l.body);
                self.close_frame();
            }
            ExprKind::Call(f, args) => {
                if self.call_may_capture(f, args.len()) {
                    self.frame().may_capture = true;
                }
                self.expr(f);
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Seq(es) => {
                for x in es {
                    self.expr(x);
                }
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                let f = self.frame();
                f.bound_here.extend(binds.iter().map(|(x, _)| *x));
                for (_, init) in binds {
                    self.expr(init);
                }
                self.expr(body);
            }
        }
    }
}
