//! Lowering from the core AST ([`crate::ast`]) to VIR ([`valk_vir`]).
//!
//! Closure conversion, assignment conversion, tail calls, known calls,
//! contification of loops and primitive inlining; see `docs/lowering.md`
//! for the design and for what the backend must implement for each
//! operation emitted here.
//!
//! ```text
//! tops ─► GlobalsInfo (whole program: defines, set!s, fixed globals)
//!      ─► per top-level form: analysis::analyze (free variables, known
//!         and contified functions, boxes)
//!      ─► func::lower_top (one VIR function per top-level form and per
//!         lambda that is not contified)
//! ```

mod analysis;
mod capture;
mod escapes;
mod ffi;
mod func;
mod prims;
#[cfg(test)]
mod tests;

use crate::ast::{Expr, ExprKind, Lambda, LocalId, TopLevel};
use crate::syntax::diag::Diagnostic;
use crate::syntax::source::{SourceMap, Span};
use std::collections::{HashMap, HashSet};
use valk_runtime::host::{self, HostError};
use valk_vir::{FuncId, Module, Signature};

pub use prims::is_control_builtin;

/// Options of [`lower_program`].
#[derive(Clone, Debug, Default)]
pub struct LowerOptions {
    /// Whole-program compilation (AOT): a global defined exactly once, at
    /// top level, with a lambda, and never `set!`, is called directly
    /// (`call @f`) where the arity matches. Its cell is still written.
    /// When false (REPL/JIT) every call of a global goes through its cell.
    pub fixed_globals: bool,
    /// Globals defined by code outside this compilation unit (the prelude
    /// when it is not part of `tops`, earlier REPL inputs). They are
    /// treated as bound, are never fixed, and a builtin name among them is
    /// not inlined (it may have been redefined).
    pub predefined: HashSet<String>,
    /// Tiered compilation (docs/tiering.md, "Guarded calls"): top-level
    /// form index → the global that will hold the closure its lambda (the
    /// form's whole body) makes. A call of that global with a matching
    /// arity tests the global's value (`eq?` to the running closure for a
    /// self call, `proc_is` otherwise) and calls the function directly
    /// when it is that procedure, through the cell otherwise.
    pub guarded: HashMap<usize, String>,
}

/// The procedure a location's code belongs to, as the interpreter sees
/// it (backtraces, docs/debugging.md): compiled code may run it inside
/// another function (contification), yet it keeps its own frame; the
/// frame below it, when it was entered from a non-tail place, is given by
/// an inlined location (docs/vir.md, "Locations").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SiteProc {
    TopLevel,
    /// `None`: anonymous.
    Proc(Option<String>),
    /// Not a frame of the program: the procedure a typed foreign function
    /// compiles to (the interpreter calls the C function as a builtin).
    Hidden,
    /// The call of a chunk of a long body (`split_long_sequences`): the
    /// chunk's code is its owner's, so this frame is not shown.
    ChunkCall,
}

/// The result of [`lower_program`].
pub struct Lowered {
    pub module: Module,
    /// One function per top-level form, to be run in order. Each takes no
    /// parameters, is not a closure, and returns the form's value.
    pub toplevels: Vec<FuncId>,
    /// `Loc` id → source span (instructions that can raise carry a `Loc`).
    pub locs: Vec<Span>,
    /// `Loc` id of a call whose operator is a global → that global's name
    /// (the tail-call marker of backtraces, docs/debugging.md).
    pub callees: std::collections::HashMap<u32, String>,
    /// `Loc` id → the procedure whose code it is in (backtraces).
    pub loc_procs: std::collections::HashMap<u32, SiteProc>,
    /// The Scheme name of each function (indexed by `FuncId`), for
    /// `#<procedure name>` and arity errors; `None` for anonymous lambdas
    /// and top-level forms.
    pub proc_names: Vec<Option<String>>,
}

impl Lowered {
    /// The Scheme procedure name of a closure body or known function.
    pub fn proc_name(&self, f: FuncId) -> Option<&str> {
        self.proc_names.get(f.index()).and_then(|n| n.as_deref())
    }

    /// The source span of an instruction's `Loc`.
    pub fn span(&self, loc: valk_vir::Loc) -> Option<Span> {
        if loc.is_none() {
            None
        } else {
            self.locs.get(loc.0 as usize).copied()
        }
    }
}

/// A global that is defined once, at top level, by a lambda, and never
/// assigned: calls with a matching arity go straight to its function.
pub(crate) struct FixedGlobal {
    pub top: usize,
    pub lam: *const Lambda,
    pub func: FuncId,
    pub required: usize,
    pub rest: bool,
    /// The global may hold another procedure (tiered code,
    /// [`LowerOptions::guarded`]): calls test it first.
    pub guarded: bool,
    /// The global is a builtin's name: until the definition runs it holds
    /// the builtin, so only code of later forms (and the procedure's own
    /// body) calls the function directly; earlier forms' code, the
    /// prelude's included, calls the global's value.
    pub builtin_name: bool,
    /// A guarded procedure whose calls are only primitives in line and
    /// guarded procedures of the same kind, with no assignment of a
    /// global and no inner lambda: the twin function (no closure, no
    /// guards: its calls of them are calls of their twins), and the
    /// globals whose procedures it may reach, followed (when
    /// [`GlobalsInfo::check_builtins`]) by the builtins the twins compile
    /// in line or call directly. While those globals hold their
    /// procedures and those builtins are intact, nothing the twins run can
    /// change them, so `func` tests them once on entry and continues in
    /// the twin (docs/tiering.md, "Guarded calls" and "Redefining
    /// builtins").
    pub twin: Option<(FuncId, Vec<String>)>,
}

/// What a procedure made by `define-record-type` does (the expansion in
/// `src/expand/records.rs`: `(let ((rtd TYPE)) (lambda ...))` calling one
/// record primitive).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RecordProc {
    /// Constructor: per field, the parameter that fills it (or `#f`).
    New(Vec<Option<usize>>),
    Is,
    /// Accessor of field `i`, and its name for errors.
    Ref(u32, String),
    /// Modifier of field `i`, and its name for errors.
    Set(u32, String),
}

/// A global defined once, at top level, as a record procedure, and never
/// assigned: direct calls become the record operation in line.
pub(crate) struct RecordGlobal {
    pub top: usize,
    pub params: usize,
    pub kind: RecordProc,
}

/// Whole-program facts about globals.
pub(crate) struct GlobalsInfo {
    /// Record procedures (whole-program mode only).
    pub records: HashMap<String, RecordGlobal>,
    /// Top-level forms (indices) whose body defines the name.
    pub defined_at: HashMap<String, Vec<usize>>,
    pub assigned: HashSet<String>,
    pub fixed: HashMap<String, FixedGlobal>,
    pub predefined: HashSet<String>,
    /// Globals that are another name for a builtin or fixed global: the
    /// form defining them, and the target.
    pub aliases: HashMap<String, (usize, String)>,
    /// Code compiled before the whole program is known (REPL inputs, the
    /// prelude's module, tiered procedures: not
    /// [`LowerOptions::fixed_globals`]): a builtin may be redefined after
    /// the code was compiled, so each use of a builtin in line (or of its
    /// runtime function) is guarded by `intact` and calls the global's
    /// value when it was redefined (docs/tiering.md, "Redefining
    /// builtins").
    pub check_builtins: bool,
    /// `call/cc` calls made escapes ([`escapes::escape_sites`]): the
    /// address of the receiver expression → the builtin called instead.
    pub escapes: HashMap<usize, &'static str>,
}

impl GlobalsInfo {
    /// The name denotes the runtime's builtin: neither this program nor
    /// earlier code defines or assigns it.
    pub fn is_pristine_builtin(&self, name: &str) -> bool {
        !self.defined_at.contains_key(name)
            && !self.assigned.contains(name)
            && !self.predefined.contains(name)
            && valk_runtime::builtins::lookup(name).is_some()
    }

    /// The procedure `name` certainly denotes when top-level form `top`
    /// runs, when it is an alias defined by an earlier form.
    pub fn resolve_alias<'a>(&'a self, name: &'a str, top: usize) -> &'a str {
        // `%cons`, `%eqv?`...: the runtime's private aliases that expanded
        // code calls; they are the builtin itself while neither is redefined.
        if let Some(base) = name.strip_prefix('%') {
            if valk_runtime::builtins::INTERNAL_ALIASES.contains(&base)
                && self.is_pristine_builtin(name)
                && self.is_pristine_builtin(base)
            {
                return base;
            }
        }
        match self.aliases.get(name) {
            Some((j, target)) if *j < top => target,
            _ => name,
        }
    }

    /// Is the global certainly bound when code of top-level form `top`
    /// runs? `in_own_lambda`: the reference is inside the lambda that form
    /// `top` defines under `name` (it runs only after the definition).
    pub fn is_bound(&self, name: &str, top: usize, in_own_lambda: bool) -> bool {
        valk_runtime::builtins::lookup(name).is_some()
            || self.predefined.contains(name)
            || self
                .defined_at
                .get(name)
                .is_some_and(|ts| ts.iter().any(|&j| j < top || (j == top && in_own_lambda)))
    }
}

/// Recognises the expansion of one `define-record-type` procedure:
/// `(let ((rtd T)) (lambda (params...) (%record-PRIM ...)))`, with only
/// parameters, `rtd` and constants as arguments (so the closure captures
/// exactly `rtd`). Returns the parameter count and the operation.
fn record_proc(value: &Expr, globals: &GlobalsInfo, top: usize) -> Option<(usize, RecordProc)> {
    use crate::syntax::datum::DatumKind;
    let ExprKind::Let(binds, body) = &value.kind else {
        return None;
    };
    let [(rtd, _)] = binds.as_slice() else {
        return None;
    };
    let ExprKind::Lambda(l) = &body.kind else {
        return None;
    };
    if l.rest.is_some() {
        return None;
    }
    let ExprKind::Call(f, args) = &l.body.kind else {
        return None;
    };
    let ExprKind::Global(prim) = &f.kind else {
        return None;
    };
    let prim = globals.resolve_alias(prim, top);
    if !globals.is_pristine_builtin(prim) {
        return None;
    }
    let local = |e: &Expr| match &e.kind {
        ExprKind::Local(x) => Some(*x),
        _ => None,
    };
    let param = |e: &Expr| local(e).and_then(|x| l.params.iter().position(|&p| p == x));
    let is_rtd = |e: &Expr| local(e) == Some(*rtd);
    let index = |e: &Expr| match &e.kind {
        ExprKind::Const(d) => match d.kind {
            DatumKind::Int(i) => u32::try_from(i).ok(),
            _ => None,
        },
        _ => None,
    };
    let symbol = |e: &Expr| match &e.kind {
        ExprKind::Const(d) => match &d.kind {
            DatumKind::Symbol(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let n = l.params.len();
    let kind = match (prim, args.as_slice()) {
        ("%record", [r, fields @ ..]) if is_rtd(r) => {
            let mut slots = Vec::new();
            for fe in fields {
                slots.push(match &fe.kind {
                    ExprKind::Const(d) if matches!(d.kind, DatumKind::Bool(false)) => None,
                    _ => Some(param(fe)?),
                });
            }
            RecordProc::New(slots)
        }
        ("%record?", [o, r]) if n == 1 && param(o) == Some(0) && is_rtd(r) => RecordProc::Is,
        ("%record-ref", [o, r, i, w]) if n == 1 && param(o) == Some(0) && is_rtd(r) => {
            RecordProc::Ref(index(i)?, symbol(w)?)
        }
        ("%record-set!", [o, r, i, v, w])
            if n == 2 && param(o) == Some(0) && is_rtd(r) && param(v) == Some(1) =>
        {
            RecordProc::Set(index(i)?, symbol(w)?)
        }
        _ => return None,
    };
    Some((n, kind))
}

fn collect_globals(e: &Expr, assigned: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
        ExprKind::SetGlobal(n, v) => {
            assigned.insert(n.clone());
            collect_globals(v, assigned);
        }
        ExprKind::SetLocal(_, v) | ExprKind::DefineGlobal(_, v) => collect_globals(v, assigned),
        ExprKind::If(c, t, f) => {
            collect_globals(c, assigned);
            collect_globals(t, assigned);
            collect_globals(f, assigned);
        }
        ExprKind::Lambda(l) => collect_globals(&l.body, assigned),
        ExprKind::Call(f, args) => {
            collect_globals(f, assigned);
            for a in args {
                collect_globals(a, assigned);
            }
        }
        ExprKind::Seq(es) => {
            for x in es {
                collect_globals(x, assigned);
            }
        }
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (_, init) in binds {
                collect_globals(init, assigned);
            }
            collect_globals(body, assigned);
        }
    }
}

/// Depth of the expression tree (iterative, so it works on any input).
fn expr_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&Expr, usize)> = vec![(e, 1)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        let d = d + 1;
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
            ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
                stack.push((v, d))
            }
            ExprKind::If(c, t, f) => {
                stack.push((c, d));
                stack.push((t, d));
                stack.push((f, d));
            }
            ExprKind::Lambda(l) => stack.push((&l.body, d)),
            ExprKind::Call(f, args) => {
                stack.push((f, d));
                stack.extend(args.iter().map(|a| (a, d)));
            }
            ExprKind::Seq(es) => stack.extend(es.iter().map(|x| (x, d))),
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                stack.extend(binds.iter().map(|(_, x)| (x, d)));
                stack.push((body, d));
            }
        }
    }
    max
}

/// Expressions up to this depth are lowered on the caller's thread; deeper
/// ones on a helper thread with a big stack (the lowering recurses on the
/// tree; the expander accepts up to 2,500 levels).
const INLINE_DEPTH: usize = 150;
const BIG_STACK: usize = 512 << 20;

/// Lowers a whole program (its top-level forms in order) to one VIR
/// module. The result is validated; an `Err` is an internal error.
pub fn lower_program(
    tops: &[TopLevel],
    sources: &SourceMap,
    opts: &LowerOptions,
) -> Result<Lowered, Diagnostic> {
    let _ = sources;
    let deep = tops.iter().any(|t| expr_depth(&t.body) > INLINE_DEPTH);
    if !deep {
        return lower_inner(tops, opts);
    }
    match host::run_with_stack("valk-lower", BIG_STACK, || lower_inner(tops, opts)) {
        Ok(r) => r,
        Err(HostError::Panicked) => Err(Diagnostic::error(
            "internal error: the VIR lowering panicked",
        )),
        Err(HostError::Spawn(e)) => Err(Diagnostic::error(format!(
            "cannot start the lowering thread: {e}"
        ))),
    }
}

/// The globals `tops` define or assign (what a REPL input may have bound
/// or rebound; see [`LowerOptions::predefined`]).
pub fn globals_written(tops: &[TopLevel]) -> HashSet<String> {
    let mut written = HashSet::new();
    for t in tops {
        if let ExprKind::DefineGlobal(name, _) = &t.body.kind {
            written.insert(name.clone());
        }
        collect_globals(&t.body, &mut written);
    }
    written
}

/// A sequence is split when its statements hold more than twice this many
/// expression nodes; each chunk then holds about this many.
const CHUNK_NODES: usize = 600;

/// Splits every long sequence (`begin`, a body) into chunks: `(begin s1 ...
/// sN)` becomes `(let ((c1 (lambda () s1 ... sk)) ...) (c1) ... sm ... sN)`,
/// each chunk a procedure called once, known to the analysis (it is only
/// called), so it is a separate VIR function with its free variables as
/// parameters. The last chunk stays inline, keeping the tail position of
/// the last statement; evaluation order and results are unchanged.
/// LLVM's statepoint rewrite and its passes are super-linear in the size
/// of one function (docs/architecture.md, "Large programs"). Returns
/// `None` when no sequence is long enough.
fn split_long_sequences(tops: &[TopLevel]) -> Option<Vec<TopLevel>> {
    if !tops.iter().any(|t| has_long_sequence(&t.body)) {
        return None;
    }
    Some(
        tops.iter()
            .map(|t| {
                if !has_long_sequence(&t.body) {
                    return t.clone();
                }
                let mut t = t.clone();
                let mut locals = std::mem::take(&mut t.locals);
                split_expr(&mut t.body, &mut locals, &SiteProc::TopLevel);
                t.locals = locals;
                t
            })
            .collect(),
    )
}

const CHUNK_PREFIX: &str = "%chunk:";

/// The name of a chunk of `owner`'s code: `%chunk:` then `t` (top level),
/// `a` (anonymous) or `p` and the procedure's name.
fn chunk_name(owner: &SiteProc) -> String {
    match owner {
        SiteProc::TopLevel => format!("{CHUNK_PREFIX}t"),
        SiteProc::Proc(None) | SiteProc::Hidden | SiteProc::ChunkCall => {
            format!("{CHUNK_PREFIX}a")
        }
        SiteProc::Proc(Some(n)) => format!("{CHUNK_PREFIX}p{n}"),
    }
}

/// The procedure whose code chunk `l` holds, if `l` is a chunk.
pub(crate) fn chunk_owner(l: &Lambda) -> Option<SiteProc> {
    let rest = l.name.as_deref()?.strip_prefix(CHUNK_PREFIX)?;
    Some(match rest.split_at_checked(1) {
        Some(("t", _)) => SiteProc::TopLevel,
        Some(("p", n)) => SiteProc::Proc(Some(n.to_string())),
        _ => SiteProc::Proc(None),
    })
}

/// Pushes the direct subexpressions of `e` on `stack` (for iterative
/// walks, which must handle any depth: these below, tiering's).
pub(crate) fn push_children<'a>(e: &'a Expr, stack: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
        ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
            stack.push(v)
        }
        ExprKind::If(c, t, f) => stack.extend([&**c, &**t, &**f]),
        ExprKind::Lambda(l) => stack.push(&l.body),
        ExprKind::Call(f, args) => {
            stack.push(f);
            stack.extend(args);
        }
        ExprKind::Seq(es) => stack.extend(es),
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            stack.extend(binds.iter().map(|(_, x)| x));
            stack.push(body);
        }
    }
}

/// Calls `f` on each direct subexpression of `e`, for rewrites in place
/// (the mutable counterpart of [`push_children`]).
pub(crate) fn for_each_child_mut(e: &mut Expr, mut f: impl FnMut(&mut Expr)) {
    match &mut e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
        ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => f(v),
        ExprKind::If(c, t, e) => {
            f(c);
            f(t);
            f(e);
        }
        ExprKind::Lambda(l) => f(&mut l.body),
        ExprKind::Call(callee, args) => {
            f(callee);
            args.iter_mut().for_each(f);
        }
        ExprKind::Seq(es) => es.iter_mut().for_each(f),
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (_, x) in binds.iter_mut() {
                f(x);
            }
            f(body);
        }
    }
}

/// The number of expression nodes of `e` (iterative: any depth).
fn node_count(e: &Expr) -> usize {
    let mut n = 0;
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        n += 1;
        push_children(e, &mut stack);
    }
    n
}

fn is_long_sequence(es: &[Expr]) -> bool {
    es.len() > 2 && es.iter().map(node_count).sum::<usize>() > 2 * CHUNK_NODES
}

/// Does `e` contain a sequence [`split_long_sequences`] splits?
fn has_long_sequence(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let ExprKind::Seq(es) = &e.kind {
            if is_long_sequence(es) {
                return true;
            }
        }
        push_children(e, &mut stack);
    }
    false
}

/// Splits the long sequences of `e`, innermost first, adding the chunks'
/// variables to `locals`.
///
/// `owner` is the procedure the code belongs to: a chunk's code is still
/// that procedure's for backtraces, so the chunk's name records it
/// ([`chunk_name`]).
fn split_expr(e: &mut Expr, locals: &mut Vec<crate::ast::LocalInfo>, owner: &SiteProc) {
    match &mut e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
        ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
            split_expr(v, locals, owner)
        }
        ExprKind::If(c, t, f) => {
            split_expr(c, locals, owner);
            split_expr(t, locals, owner);
            split_expr(f, locals, owner);
        }
        ExprKind::Lambda(l) => {
            let inner = chunk_owner(l).unwrap_or_else(|| SiteProc::Proc(l.name.clone()));
            split_expr(&mut l.body, locals, &inner)
        }
        ExprKind::Call(f, args) => {
            split_expr(f, locals, owner);
            for a in args {
                split_expr(a, locals, owner);
            }
        }
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (_, x) in binds {
                split_expr(x, locals, owner);
            }
            split_expr(body, locals, owner);
        }
        ExprKind::Seq(es) => {
            for x in es.iter_mut() {
                split_expr(x, locals, owner);
            }
            if !is_long_sequence(es) {
                return;
            }
            let span = e.span;
            let stmts = std::mem::take(es);
            let sizes: Vec<usize> = stmts.iter().map(node_count).collect();
            let mut left: usize = sizes.iter().sum();
            let mut binds = Vec::new();
            let mut calls = Vec::new();
            let mut chunk: Vec<Expr> = Vec::new();
            let mut size = 0;
            for (x, n) in stmts.into_iter().zip(sizes) {
                size += n;
                left -= n;
                chunk.push(x);
                // What follows the last full chunk stays inline (the last
                // statement keeps its tail position).
                if size >= CHUNK_NODES && left > 0 {
                    let id = LocalId(locals.len() as u32);
                    locals.push(crate::ast::LocalInfo {
                        name: format!("%chunk{}", id.0),
                        assigned: false,
                    });
                    let cspan = chunk[0].span;
                    let body = Expr::new(ExprKind::Seq(std::mem::take(&mut chunk)), cspan);
                    let lam = Lambda {
                        name: Some(chunk_name(owner)),
                        params: Vec::new(),
                        rest: None,
                        body,
                        span: cspan,
                    };
                    binds.push((id, Expr::new(ExprKind::Lambda(Box::new(lam)), cspan)));
                    let callee = Expr::new(ExprKind::Local(id), cspan);
                    calls.push(Expr::new(
                        ExprKind::Call(Box::new(callee), Vec::new()),
                        cspan,
                    ));
                    size = 0;
                }
            }
            calls.extend(chunk);
            let seq = Expr::new(ExprKind::Seq(calls), span);
            e.kind = ExprKind::Let(binds, Box::new(seq));
        }
    }
}

/// The guarded globals called by the body of top-level form `top`, if the
/// body is closed: no inner lambda, no assignment of a global, and every
/// call is a primitive compiled in line (which never runs Scheme code) or
/// a guarded procedure with a matching arity; with them the globals named
/// by the calls of primitives (the twin uses them without `intact`
/// tests). `None` otherwise.
fn closed_calls(
    body: &Expr,
    globals: &GlobalsInfo,
    top: usize,
) -> Option<(HashSet<String>, HashSet<String>)> {
    let mut calls = HashSet::new();
    let mut prims_called = HashSet::new();
    let mut stack = vec![body];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Lambda(_) | ExprKind::SetGlobal(..) | ExprKind::DefineGlobal(..) => {
                return None
            }
            ExprKind::Call(f, args) => {
                let ExprKind::Global(site) = &f.kind else {
                    return None;
                };
                let name = globals.resolve_alias(site, top);
                let argc = args.len();
                let prim = globals.is_pristine_builtin(name) && prims::lookup(name, argc).is_some();
                if prim {
                    prims_called.insert(site.clone());
                } else {
                    let fx = globals.fixed.get(name)?;
                    if !fx.guarded || fx.rest || argc != fx.required {
                        return None;
                    }
                    calls.insert(name.to_string());
                }
                stack.extend(args);
            }
            _ => push_children(e, &mut stack),
        }
    }
    Some((calls, prims_called))
}

/// Gives a twin ([`FixedGlobal::twin`]) to every guarded procedure whose
/// body is closed and calls only guarded procedures that are closed too.
fn add_twins(
    globals: &mut GlobalsInfo,
    tops: &[TopLevel],
    module: &mut Module,
    proc_names: &mut Vec<Option<String>>,
    names: &mut func::Names,
) {
    let mut closed: HashMap<String, HashSet<String>> = HashMap::new();
    let mut prims_called: HashMap<String, HashSet<String>> = HashMap::new();
    for (name, fx) in &globals.fixed {
        if !fx.guarded || fx.rest {
            continue;
        }
        let Some(ExprKind::Lambda(l)) = tops.get(fx.top).map(|t| &t.body.kind) else {
            continue;
        };
        if let Some((calls, prims)) = closed_calls(&l.body, globals, fx.top) {
            closed.insert(name.clone(), calls);
            prims_called.insert(name.clone(), prims);
        }
    }
    // Drop those that call a procedure that is not closed, until none does.
    loop {
        let open: Vec<String> = closed
            .iter()
            .filter(|(_, calls)| calls.iter().any(|c| !closed.contains_key(c)))
            .map(|(n, _)| n.clone())
            .collect();
        if open.is_empty() {
            break;
        }
        for n in open {
            closed.remove(&n);
        }
    }
    let mut sorted: Vec<&String> = closed.keys().collect();
    sorted.sort();
    for name in sorted {
        // The globals reachable from `name` (itself included).
        let mut region = vec![name.clone()];
        let mut k = 0;
        while k < region.len() {
            let mut next: Vec<&String> = closed[&region[k]].iter().collect();
            next.sort();
            for c in next {
                if !region.contains(c) {
                    region.push(c.clone());
                }
            }
            k += 1;
        }
        if globals.check_builtins {
            let mut builtins: Vec<String> = region
                .iter()
                .flat_map(|g| prims_called[g].iter().cloned())
                .collect::<HashSet<String>>()
                .into_iter()
                .collect();
            builtins.sort();
            region.extend(builtins);
        }
        let fx = globals
            .fixed
            .get_mut(name)
            .expect("closed procedures are fixed");
        let sig = Signature::fixed(fx.required as u32);
        let func = module.declare_function(&names.unique(&format!("{name}.known")), sig);
        if proc_names.len() <= func.index() {
            proc_names.resize(func.index() + 1, None);
        }
        proc_names[func.index()] = proc_names.get(fx.func.index()).cloned().flatten();
        fx.twin = Some((func, region));
    }
}

/// Declares the function of global `name`, defined by top-level form `top`
/// as lambda `l`, called directly (`guarded`: after a test of the global).
fn declare_fixed(
    module: &mut Module,
    names: &mut func::Names,
    proc_names: &mut Vec<Option<String>>,
    name: &str,
    top: usize,
    l: &Lambda,
    guarded: bool,
) -> FixedGlobal {
    let sig = Signature::closure(l.params.len() as u32, l.rest.is_some());
    let func = module.declare_function(&names.unique(name), sig);
    proc_names.push(l.name.clone());
    FixedGlobal {
        top,
        lam: l as *const Lambda,
        func,
        required: l.params.len(),
        rest: l.rest.is_some(),
        guarded,
        builtin_name: valk_runtime::builtins::lookup(name).is_some(),
        twin: None,
    }
}

fn lower_inner(tops: &[TopLevel], opts: &LowerOptions) -> Result<Lowered, Diagnostic> {
    let split = split_long_sequences(tops);
    let tops = split.as_deref().unwrap_or(tops);
    let typed = ffi::rewrite(tops);
    let tops = typed.as_deref().unwrap_or(tops);
    // Whole programs only: the analysis trusts that globals defined once
    // stay what they are.
    let escapes = if opts.fixed_globals {
        escapes::escape_sites(tops, &opts.predefined)
    } else {
        HashMap::new()
    };
    let mut module = Module::new();
    let mut proc_names: Vec<Option<String>> = Vec::new();
    let mut defined_at: HashMap<String, Vec<usize>> = HashMap::new();
    let mut assigned = HashSet::new();
    for (i, t) in tops.iter().enumerate() {
        if let ExprKind::DefineGlobal(name, _) = &t.body.kind {
            defined_at.entry(name.clone()).or_default().push(i);
        }
        collect_globals(&t.body, &mut assigned);
    }
    let mut fixed = HashMap::new();
    let mut names = func::Names::default();
    if opts.fixed_globals {
        for (i, t) in tops.iter().enumerate() {
            let ExprKind::DefineGlobal(name, value) = &t.body.kind else {
                continue;
            };
            let ExprKind::Lambda(l) = &value.kind else {
                continue;
            };
            if defined_at.get(name).map_or(0, Vec::len) != 1
                || assigned.contains(name)
                || opts.predefined.contains(name)
            {
                continue;
            }
            let f = declare_fixed(&mut module, &mut names, &mut proc_names, name, i, l, false);
            fixed.insert(name.clone(), f);
        }
    }
    for (&i, name) in &opts.guarded {
        let Some(ExprKind::Lambda(l)) = tops.get(i).map(|t| &t.body.kind) else {
            continue;
        };
        if fixed.contains_key(name) || opts.guarded.values().filter(|n| *n == name).count() != 1 {
            continue;
        }
        let f = declare_fixed(&mut module, &mut names, &mut proc_names, name, i, l, true);
        fixed.insert(name.clone(), f);
    }
    let mut globals = GlobalsInfo {
        records: HashMap::new(),
        defined_at,
        assigned,
        fixed,
        predefined: opts.predefined.clone(),
        aliases: HashMap::new(),
        check_builtins: !opts.fixed_globals,
        escapes,
    };
    // `(define %memv memv)`: a global defined once as the value of a
    // builtin nobody redefines, or of a fixed global defined earlier, is
    // that procedure from then on. Only when the whole program is known:
    // otherwise later code may assign the alias, whose cell no `intact`
    // byte watches.
    for (i, t) in tops.iter().enumerate().filter(|_| opts.fixed_globals) {
        let ExprKind::DefineGlobal(name, value) = &t.body.kind else {
            continue;
        };
        let ExprKind::Global(target) = &value.kind else {
            continue;
        };
        let once = globals.defined_at.get(name).map_or(0, Vec::len) == 1
            && !globals.assigned.contains(name)
            && !globals.predefined.contains(name);
        let stable = globals.is_pristine_builtin(target)
            || globals
                .fixed
                .get(target)
                .is_some_and(|f| f.top < i && !f.guarded);
        if once && stable && name != target {
            globals.aliases.insert(name.clone(), (i, target.clone()));
        }
    }
    if opts.fixed_globals {
        for (i, t) in tops.iter().enumerate() {
            let ExprKind::DefineGlobal(name, value) = &t.body.kind else {
                continue;
            };
            let once = globals.defined_at.get(name).map_or(0, Vec::len) == 1
                && !globals.assigned.contains(name)
                && !globals.predefined.contains(name);
            if !once {
                continue;
            }
            if let Some((params, kind)) = record_proc(value, &globals, i) {
                globals.records.insert(
                    name.clone(),
                    RecordGlobal {
                        top: i,
                        params,
                        kind,
                    },
                );
            }
        }
    }
    add_twins(&mut globals, tops, &mut module, &mut proc_names, &mut names);
    let globals = globals;
    let mut cx = func::Ctx::new(module, proc_names, &globals, names);
    let mut toplevels = Vec::with_capacity(tops.len());
    for (i, t) in tops.iter().enumerate() {
        let info = analysis::analyze(t, i, &globals)?;
        toplevels.push(func::lower_top(&mut cx, t, i, &info)?);
    }
    let func::Ctx {
        module,
        locs,
        callees,
        loc_procs,
        proc_names,
        ..
    } = cx;
    if let Err(errs) = valk_vir::verify_module(&module) {
        return Err(Diagnostic::error(format!(
            "internal error: the lowering produced invalid VIR:\n{errs}"
        )));
    }
    Ok(Lowered {
        module,
        toplevels,
        locs,
        callees,
        loc_procs,
        proc_names,
    })
}
