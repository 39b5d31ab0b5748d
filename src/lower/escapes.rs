//! Escape-only `call/cc` (docs/continuations.md, "Escape-only call/cc"):
//! a whole-program analysis of the core AST that runs before the lowering
//! when globals are fixed (`valkc`, `valk --opt-whole`).
//!
//! **Input:** the top-level forms of a whole program (prelude included).
//! **Output:** the calls `(call/cc (lambda (k) body))` (or
//! `call-with-current-continuation`) that the lowering compiles as
//! `(%call/ec (lambda (k) body))` instead, or as `(%tail-call/ec ...)` when
//! in tail position: a map from the address of the receiver expression (in
//! `tops`, which the lowering then reads unchanged) to that builtin.
//!
//! A site is converted when
//! 1. `call/cc` is the prelude's procedure (defined once, never assigned)
//!    and `%call/ec`, `%tail-call/ec` the runtime's builtins;
//! 2. `k` can only be invoked while the call is active: it is never
//!    assigned, and every occurrence of it is the callee of a call, or an
//!    argument that the callee only calls or passes on the same way (a
//!    parameter of a fixed global or of a local function with that
//!    property, the first argument of `apply`), possibly inside local
//!    functions and lambdas that are themselves only called so. Then `k`
//!    is unreachable once the call returns, and an escape continuation
//!    (which copies nothing) behaves exactly like the full one;
//! 3. in tail position, it becomes `%tail-call/ec`, which reuses the
//!    escape whose receiver the current frame is, so a loop through the
//!    site runs in constant space as `call/cc` does;
//! 4. (speed only) the receiver cannot reach, through its body and the
//!    fixed globals it calls, a `call/cc` that stays a full capture: such a
//!    capture would copy the escape's frames too (measured: ctak's inner
//!    sites made escapes triple its copying while its tail sites were
//!    full).

use super::push_children;
use crate::ast::{Expr, ExprKind, Lambda, LocalId, TopLevel};
use std::collections::{HashMap, HashSet};

const CALL_CC: [&str; 2] = ["call/cc", "call-with-current-continuation"];
const CALL_EC: &str = "%call/ec";
const TAIL_CALL_EC: &str = "%tail-call/ec";
const CAPTURE: &str = "%capture-continuation";
/// Expression visits one analysis may make (per top-level form and
/// question).
const BUDGET: usize = 200_000;

/// The sites to convert: receiver expression address → builtin.
pub(crate) fn escape_sites(
    tops: &[TopLevel],
    predefined: &HashSet<String>,
) -> HashMap<usize, &'static str> {
    let Some(program) = Program::new(tops, predefined) else {
        return HashMap::new();
    };
    let sites = program.sites();
    let convert = program.decide(&sites);
    sites
        .iter()
        .zip(convert)
        .filter(|(_, c)| *c)
        .filter_map(|(s, _)| {
            let receiver = s.receiver_expr?;
            let via = if s.tail { TAIL_CALL_EC } else { CALL_EC };
            Some((receiver as *const Expr as usize, via))
        })
        .collect()
}

struct Fixed<'t> {
    top: usize,
    lam: &'t Lambda,
}

struct Program<'t> {
    tops: &'t [TopLevel],
    fixed: HashMap<&'t str, Fixed<'t>>,
    /// Per fixed global, per required parameter: only called (or passed
    /// on to such parameters) by the body.
    params_called: HashMap<&'t str, Vec<bool>>,
}

/// One `(call/cc RECEIVER)` or `(%capture-continuation ...)` call.
struct Site<'t> {
    /// The call expression.
    expr: &'t Expr,
    top: usize,
    /// In tail position of a lambda?
    tail: bool,
    /// The receiver, for sites that may become escapes: its expression
    /// and its lambda.
    receiver_expr: Option<&'t Expr>,
    receiver: Option<&'t Lambda>,
    /// Enclosing fixed global (its lambda's top), if any.
    owner: Option<&'t str>,
}

impl<'t> Program<'t> {
    fn new(tops: &'t [TopLevel], predefined: &HashSet<String>) -> Option<Program<'t>> {
        let mut defined: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut assigned = HashSet::new();
        for (i, t) in tops.iter().enumerate() {
            if let ExprKind::DefineGlobal(name, _) = &t.body.kind {
                defined.entry(name.as_str()).or_default().push(i);
            }
            super::collect_globals(&t.body, &mut assigned);
        }
        let mut fixed = HashMap::new();
        for (i, t) in tops.iter().enumerate() {
            let ExprKind::DefineGlobal(name, value) = &t.body.kind else {
                continue;
            };
            let ExprKind::Lambda(lam) = &value.kind else {
                continue;
            };
            if defined[name.as_str()].len() == 1
                && !assigned.contains(name)
                && !predefined.contains(name)
            {
                fixed.insert(name.as_str(), Fixed { top: i, lam });
            }
        }
        let pristine = |n: &str| {
            !defined.contains_key(n)
                && !assigned.contains(n)
                && !predefined.contains(n)
                && valk_runtime::builtins::lookup(n).is_some()
        };
        if !CALL_CC.iter().all(|n| fixed.contains_key(n))
            || !pristine(CALL_EC)
            || !pristine(TAIL_CALL_EC)
            || !pristine("apply")
        {
            return None;
        }
        let params_called = fixed
            .iter()
            .map(|(&n, f)| (n, vec![true; f.lam.params.len()]))
            .collect();
        let mut p = Program {
            tops,
            fixed,
            params_called,
        };
        // Greatest fixpoint: a parameter stays "only called" until a use
        // that is not shows up, given what is known of the others.
        let mut names: Vec<&str> = p.fixed.keys().copied().collect();
        names.sort_unstable();
        loop {
            let mut changed = false;
            for &n in &names {
                let f = &p.fixed[n];
                let walk = Walk::new(&p, f.top);
                let now: Vec<bool> = f
                    .lam
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        p.params_called[n][i]
                            && !walk.assigned(x)
                            && walk.only_called(x, &f.lam.body)
                    })
                    .collect();
                if now != p.params_called[n] {
                    changed = true;
                    p.params_called.insert(n, now);
                }
            }
            if !changed {
                break;
            }
        }
        Some(p)
    }

    /// Every site, with its tail position.
    fn sites(&self) -> Vec<Site<'t>> {
        let mut out = Vec::new();
        for (i, t) in self.tops.iter().enumerate() {
            let owner = match &t.body.kind {
                ExprKind::DefineGlobal(n, v)
                    if matches!(v.kind, ExprKind::Lambda(_))
                        && self.fixed.get(n.as_str()).is_some_and(|f| f.top == i) =>
                {
                    Some(*self.fixed.get_key_value(n.as_str()).expect("fixed").0)
                }
                _ => None,
            };
            let mut stack = vec![(&t.body, false)];
            let mut kids = Vec::new();
            while let Some((e, tail)) = stack.pop() {
                if let ExprKind::Call(f, args) = &e.kind {
                    if let ExprKind::Global(g) = &f.kind {
                        if CALL_CC.contains(&g.as_str()) || g == CAPTURE {
                            let receiver_expr = match args.as_slice() {
                                [r] if CALL_CC.contains(&g.as_str()) => Some(r),
                                _ => None,
                            };
                            out.push(Site {
                                expr: e,
                                top: i,
                                tail,
                                receiver_expr,
                                receiver: receiver_expr.and_then(|r| match &r.kind {
                                    ExprKind::Lambda(l) => Some(&**l),
                                    _ => None,
                                }),
                                owner,
                            });
                        }
                    }
                }
                push_children(e, &mut kids);
                stack.extend(kids.drain(..).map(|x| (x, child_is_tail(e, x, tail))));
            }
        }
        out
    }

    /// Which sites become escapes.
    fn decide(&self, sites: &[Site<'t>]) -> Vec<bool> {
        let mut convert: Vec<bool> = sites
            .iter()
            .map(|s| {
                let Some(l) = s.receiver else {
                    return false;
                };
                let ([k], None) = (l.params.as_slice(), l.rest) else {
                    return false;
                };
                let walk = Walk::new(self, s.top);
                !walk.assigned(*k) && walk.only_called(*k, &l.body)
            })
            .collect();
        // Condition 4: drop candidates that reach a full capture, until
        // none does.
        loop {
            let escapes: HashSet<*const Expr> = sites
                .iter()
                .zip(&convert)
                .filter(|(_, &c)| c)
                .map(|(s, _)| s.expr as *const Expr)
                .collect();
            let full_sites: HashSet<*const Expr> = sites
                .iter()
                .zip(&convert)
                .filter(|(_, &c)| !c)
                .map(|(s, _)| s.expr as *const Expr)
                .collect();
            // Fixed globals that capture, or refer to ones that do (other
            // than as the callee of a site that becomes an escape).
            let mut full: HashSet<&str> = sites
                .iter()
                .zip(&convert)
                .filter(|(_, &c)| !c)
                .filter_map(|(s, _)| s.owner)
                .collect();
            loop {
                let before = full.len();
                for (&n, f) in &self.fixed {
                    if !full.contains(n) && reaches_full(&f.lam.body, &full, &full_sites, &escapes)
                    {
                        full.insert(n);
                    }
                }
                if full.len() == before {
                    break;
                }
            }
            let mut changed = false;
            for (i, s) in sites.iter().enumerate() {
                if convert[i] {
                    let l = s.receiver.expect("candidates have receivers");
                    if reaches_full(&l.body, &full, &full_sites, &escapes) {
                        convert[i] = false;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        convert
    }
}

/// Does `e` contain a full capture (a site in `full_sites`) or refer to a
/// global in `full`, other than as the callee of a site in `escapes`?
fn reaches_full(
    e: &Expr,
    full: &HashSet<&str>,
    full_sites: &HashSet<*const Expr>,
    escapes: &HashSet<*const Expr>,
) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        let here = e as *const Expr;
        if full_sites.contains(&here) {
            return true;
        }
        match &e.kind {
            ExprKind::Global(g) if full.contains(g.as_str()) => return true,
            ExprKind::Call(_, args) if escapes.contains(&here) => stack.extend(args),
            _ => push_children(e, &mut stack),
        }
    }
    false
}

/// Is child `x` of `e` in tail position of a lambda, `e` being so when
/// `tail`?
fn child_is_tail(e: &Expr, x: &Expr, tail: bool) -> bool {
    let is = |y: &Expr| std::ptr::eq(x, y);
    match &e.kind {
        ExprKind::Lambda(_) => true,
        ExprKind::If(_, t, f) => tail && (is(t) || is(f)),
        ExprKind::Seq(es) => tail && es.last().is_some_and(is),
        ExprKind::Let(_, body) | ExprKind::Letrec(_, body) => tail && is(body),
        _ => false,
    }
}

/// The "only called" analysis inside one top-level form.
struct Walk<'p, 't> {
    p: &'p Program<'t>,
    top: &'t TopLevel,
    /// Local functions: variable → its lambda (let/letrec-bound lambdas).
    local_fns: HashMap<LocalId, &'t Lambda>,
    /// Local functions' parameters being checked further up: assumed
    /// only called (coinduction: a loop passing its parameter to itself
    /// keeps it only called unless some other use says otherwise).
    in_progress: std::cell::RefCell<HashSet<LocalId>>,
    /// Work left; when it runs out every answer is "no" (conservative),
    /// so nested local functions cannot make the analysis blow up.
    budget: std::cell::Cell<usize>,
}

impl<'p, 't> Walk<'p, 't> {
    fn new(p: &'p Program<'t>, top: usize) -> Self {
        let t = &p.tops[top];
        let mut local_fns = HashMap::new();
        let mut stack = vec![&t.body];
        while let Some(e) = stack.pop() {
            if let ExprKind::Let(binds, _) | ExprKind::Letrec(binds, _) = &e.kind {
                for (x, init) in binds {
                    if let ExprKind::Lambda(l) = &init.kind {
                        local_fns.insert(*x, &**l);
                    }
                }
            }
            push_children(e, &mut stack);
        }
        Walk {
            p,
            top: t,
            local_fns,
            in_progress: Default::default(),
            budget: std::cell::Cell::new(BUDGET),
        }
    }

    fn assigned(&self, x: LocalId) -> bool {
        self.top.locals.get(x.0 as usize).is_none_or(|l| l.assigned)
    }

    /// Is every occurrence of `v` in `e` the callee of a call, or an
    /// argument the callee only calls?
    fn only_called(&self, v: LocalId, e: &Expr) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        match &e.kind {
            ExprKind::Local(x) => *x != v,
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) => true,
            ExprKind::SetLocal(x, val) => *x != v && self.only_called(v, val),
            ExprKind::SetGlobal(_, val) | ExprKind::DefineGlobal(_, val) => {
                self.only_called(v, val)
            }
            ExprKind::If(c, t, f) => {
                self.only_called(v, c) && self.only_called(v, t) && self.only_called(v, f)
            }
            ExprKind::Seq(es) => es.iter().all(|x| self.only_called(v, x)),
            // A lambda as a value may be kept: `v` must not be free in it.
            ExprKind::Lambda(l) => !mentions(v, &l.body),
            ExprKind::Call(f, args) => {
                let callee_ok = match &f.kind {
                    ExprKind::Local(x) if *x == v => true,
                    ExprKind::Lambda(l) => self.only_called(v, &l.body),
                    _ => self.only_called(v, f),
                };
                callee_ok
                    && args.iter().enumerate().all(|(i, a)| match &a.kind {
                        ExprKind::Local(x) if *x == v => self.param_only_called(f, i),
                        ExprKind::Lambda(l) if self.param_only_called(f, i) => {
                            self.only_called(v, &l.body)
                        }
                        _ => self.only_called(v, a),
                    })
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                let rec = matches!(e.kind, ExprKind::Letrec(..));
                binds.iter().all(|(x, init)| match &init.kind {
                    ExprKind::Lambda(l) if self.local_fn_only_called(*x, binds, body, rec) => {
                        self.only_called(v, &l.body)
                    }
                    _ => self.only_called(v, init),
                }) && self.only_called(v, body)
            }
        }
    }

    /// Is the local function `x` (bound in `binds`) itself only called in
    /// its scope, so that what its body holds cannot outlive the calls?
    fn local_fn_only_called(
        &self,
        x: LocalId,
        binds: &[(LocalId, Expr)],
        body: &Expr,
        rec: bool,
    ) -> bool {
        if self.assigned(x) {
            return false;
        }
        let inits_ok = !rec
            || binds.iter().all(|(_, init)| match &init.kind {
                ExprKind::Lambda(l) => self.only_called(x, &l.body),
                _ => self.only_called(x, init),
            });
        inits_ok && self.only_called(x, body)
    }

    /// Does the callee `f` only call (or pass on so) its argument `i`?
    fn param_only_called(&self, f: &Expr, i: usize) -> bool {
        match &f.kind {
            ExprKind::Global(g) if g == "apply" => i == 0,
            ExprKind::Global(g) => self
                .p
                .params_called
                .get(g.as_str())
                .is_some_and(|ps| ps.get(i).copied().unwrap_or(false)),
            ExprKind::Lambda(l) => l
                .params
                .get(i)
                .is_some_and(|&x| !self.assigned(x) && self.only_called(x, &l.body)),
            ExprKind::Local(x) => {
                let Some(l) = self.local_fns.get(x) else {
                    return false;
                };
                let Some(&p) = l.params.get(i) else {
                    return false;
                };
                if self.assigned(*x) || self.assigned(p) {
                    return false;
                }
                if !self.in_progress.borrow_mut().insert(p) {
                    return true;
                }
                let r = self.only_called(p, &l.body);
                self.in_progress.borrow_mut().remove(&p);
                r
            }
            _ => false,
        }
    }
}

/// Does local `v` occur anywhere in `e`?
fn mentions(v: LocalId, e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if let ExprKind::Local(y) | ExprKind::SetLocal(y, _) = &e.kind {
            if *y == v {
                return true;
            }
        }
        push_children(e, &mut stack);
    }
    false
}
