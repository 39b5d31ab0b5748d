//! Per-top-level analyses that drive the lowering (see `docs/lowering.md`):
//!
//! 1. **collect**: numbers the lambdas, counts each local's uses (as a
//!    callee, as a value, by `set!`) and finds *function variables*: locals
//!    bound by `let`/`letrec` directly to a lambda and never assigned.
//! 2. **letrec safety**: which `letrec` variables may be read (or captured
//!    by a closure) before their initialisation completes. Those live in
//!    boxes holding `undefined` until initialised, and every read checks.
//! 3. **contification**: `letrec` functions whose every call returns to the
//!    same continuation become blocks of the enclosing VIR function (loops
//!    and join points) instead of functions.
//! 4. **functions and free variables**: every other lambda is a VIR
//!    function, either *known* (only ever called: lambda-lifted, its free
//!    variables become extra leading parameters) or *escaping* (a closure
//!    whose captures are its free variables). Self tail calls found here
//!    become loops.
//! 5. **boxes**: a variable lives in a box when it is assigned and captured
//!    by another function, assigned in a function that may capture a
//!    continuation (`capture.rs`), or letrec-unsafe.

use super::GlobalsInfo;
use crate::ast::{Expr, ExprKind, Lambda, LocalId, TopLevel};
use crate::syntax::diag::Diagnostic;
use std::collections::{BTreeSet, HashMap, HashSet};

pub(crate) type LamId = usize;

/// How a lambda expression is compiled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum LamKind {
    /// A closure: a VIR closure body created by `closure`.
    Escaping,
    /// Only ever called by name: a plain VIR function taking its free
    /// variables as leading parameters; no closure is ever created.
    Known,
    /// Blocks of the enclosing function (a loop header per lambda).
    Contified,
}

pub(crate) struct LamInfo<'t> {
    pub lam: &'t Lambda,
    /// The function variable the lambda is bound to (let/letrec, never
    /// assigned), if any.
    pub var: Option<LocalId>,
    pub kind: LamKind,
    /// Captures (escaping) or lifted parameters (known), in `LocalId` order.
    pub free: Vec<LocalId>,
    /// The body tail-calls the function itself: the VIR function gets a
    /// loop header after its prologue.
    pub self_loop: bool,
}

/// Where the blocks of a contified function are emitted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Placement {
    /// After the body of the `letrec` that binds it, sharing the letrec's
    /// continuation.
    AtLetrec,
    /// At this non-tail expression, which gets a join block; every call of
    /// the function is in a tail position of that expression.
    At(*const Expr),
}

#[derive(Clone, Default)]
pub(crate) struct VarInfo {
    pub assigned: bool,
    pub value_uses: u32,
    pub call_argcs: Vec<usize>,
    /// Bound directly to this lambda by let/letrec and never assigned.
    pub fun: Option<LamId>,
    pub letrec: bool,
    pub captured: bool,
    pub boxed: bool,
    /// Reads must check for `undefined` (letrec-unsafe).
    pub checked: bool,
    pub placement: Option<Placement>,
    bound: bool,
}

pub(crate) struct TopInfo<'t> {
    pub lams: Vec<LamInfo<'t>>,
    /// Keyed by address: identity only, never dereferenced.
    pub lam_ids: HashMap<*const Lambda, LamId>,
    pub vars: Vec<VarInfo>,
    /// Non-tail expressions where contified functions are placed.
    pub placements: HashMap<*const Expr, Vec<LocalId>>,
}

impl TopInfo<'_> {
    pub fn lam_id(&self, l: &Lambda) -> Option<LamId> {
        self.lam_ids.get(&(l as *const Lambda)).copied()
    }

    pub fn var(&self, x: LocalId) -> &VarInfo {
        &self.vars[x.0 as usize]
    }

    /// The kind of the lambda bound to function variable `x`.
    pub fn fun_kind(&self, x: LocalId) -> Option<(LamId, LamKind)> {
        let id = self.var(x).fun?;
        Some((id, self.lams[id].kind))
    }
}

fn internal(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(format!(
        "internal error in the VIR lowering: {}",
        msg.into()
    ))
}

/// Runs every analysis on one top-level form.
pub(crate) fn analyze<'t>(
    top: &'t TopLevel,
    top_index: usize,
    globals: &GlobalsInfo,
) -> Result<TopInfo<'t>, Diagnostic> {
    let mut c = Collect {
        vars: vec![VarInfo::default(); top.locals.len()],
        lams: Vec::new(),
        lam_ids: HashMap::new(),
        letrecs: Vec::new(),
        error: None,
    };
    c.expr(&top.body);
    if let Some(e) = c.error {
        return Err(e);
    }
    let Collect {
        mut vars,
        lams,
        lam_ids,
        letrecs,
        ..
    } = c;
    let lam_params: Vec<(usize, bool)> = lams
        .iter()
        .map(|l| (l.params.len(), l.rest.is_some()))
        .collect();
    let mut info = TopInfo {
        lams: lams
            .iter()
            .map(|&lam| LamInfo {
                lam,
                var: None,
                kind: LamKind::Escaping,
                free: Vec::new(),
                self_loop: false,
            })
            .collect(),
        lam_ids,
        vars: Vec::new(),
        placements: HashMap::new(),
    };
    for v in vars.iter_mut() {
        if v.assigned {
            v.fun = None;
        }
    }
    for (i, v) in vars.iter().enumerate() {
        if let Some(l) = v.fun {
            info.lams[l].var = Some(LocalId(i as u32));
        }
    }
    // 2. letrec safety (before contification: unsafe functions are demoted
    // to ordinary variables).
    let mut unsafe_vars = HashSet::new();
    for &e in &letrecs {
        if let ExprKind::Letrec(binds, _) = &e.kind {
            letrec_safety(binds, &vars, &mut unsafe_vars);
        }
    }
    for &x in &unsafe_vars {
        let v = &mut vars[x.0 as usize];
        if let Some(l) = v.fun.take() {
            info.lams[l].var = None;
        }
    }
    info.vars = vars;
    // 3. contification.
    contify(top, &mut info, &lam_params)?;
    classify(&mut info);
    // 4. functions, free variables, self loops.
    let mut fw = FnWalk::new(&info, globals, top_index);
    fw.walk(&top.body, 0, true);
    if let Some(e) = fw.error.take() {
        return Err(e);
    }
    let (free, self_loops) = fw.solve()?;
    apply_functions(&mut info, free, self_loops);
    // 5. boxes: rule (c) of the letrec safety needs the captures.
    for &e in &letrecs {
        if let ExprKind::Letrec(binds, _) = &e.kind {
            let index: HashMap<LocalId, usize> = binds
                .iter()
                .enumerate()
                .map(|(i, (x, _))| (*x, i))
                .collect();
            for (m, (_, init)) in binds.iter().enumerate() {
                let ExprKind::Lambda(l) = &init.kind else {
                    continue;
                };
                let Some(id) = info.lam_id(l) else { continue };
                if info.lams[id].kind != LamKind::Escaping {
                    continue;
                }
                for x in &info.lams[id].free {
                    if index.get(x).is_some_and(|&j| j >= m) {
                        unsafe_vars.insert(*x);
                    }
                }
            }
        }
    }
    let functions = (0..info.vars.len() as u32)
        .map(LocalId)
        .filter(|x| info.var(*x).fun.is_some())
        .collect();
    let capture_boxed = super::capture::boxed_for_capture(top, globals, top_index, functions);
    for (i, v) in info.vars.iter_mut().enumerate() {
        let x = LocalId(i as u32);
        v.checked = unsafe_vars.contains(&x);
        v.boxed = v.checked || (v.assigned && (v.captured || capture_boxed.contains(&x)));
    }
    Ok(info)
}

// ---------------------------------------------------------------- collect

struct Collect<'t> {
    vars: Vec<VarInfo>,
    lams: Vec<&'t Lambda>,
    lam_ids: HashMap<*const Lambda, LamId>,
    letrecs: Vec<&'t Expr>,
    error: Option<Diagnostic>,
}

impl<'t> Collect<'t> {
    fn var(&mut self, x: LocalId) -> Option<&mut VarInfo> {
        let r = self.vars.get_mut(x.0 as usize);
        if r.is_none() && self.error.is_none() {
            self.error = Some(internal(format!("local {} out of range", x.0)));
        }
        r
    }

    fn bind(&mut self, x: LocalId) {
        let dup = match self.var(x) {
            Some(v) => std::mem::replace(&mut v.bound, true),
            None => false,
        };
        if dup && self.error.is_none() {
            self.error = Some(internal(format!("local {} is bound twice", x.0)));
        }
    }

    fn lambda(&mut self, l: &'t Lambda) -> LamId {
        let id = self.lams.len();
        self.lams.push(l);
        self.lam_ids.insert(l as *const Lambda, id);
        for &p in l.params.iter().chain(&l.rest) {
            self.bind(p);
        }
        self.expr(&l.body);
        id
    }

    fn expr(&mut self, e: &'t Expr) {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) => {}
            ExprKind::Local(x) => {
                if let Some(v) = self.var(*x) {
                    v.value_uses += 1;
                }
            }
            ExprKind::SetLocal(x, v) => {
                if let Some(i) = self.var(*x) {
                    i.assigned = true;
                }
                self.expr(v);
            }
            ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => self.expr(v),
            ExprKind::If(c, t, f) => {
                self.expr(c);
                self.expr(t);
                self.expr(f);
            }
            ExprKind::Lambda(l) => {
                self.lambda(l);
            }
            ExprKind::Call(f, args) => {
                if let ExprKind::Local(x) = &f.kind {
                    if let Some(v) = self.var(*x) {
                        v.call_argcs.push(args.len());
                    }
                } else {
                    self.expr(f);
                }
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Seq(es) => {
                for x in es {
                    self.expr(x);
                }
            }
            ExprKind::Let(binds, body) => {
                for (x, init) in binds {
                    self.binding(*x, init, false);
                }
                for (x, _) in binds {
                    self.bind(*x);
                }
                self.expr(body);
            }
            ExprKind::Letrec(binds, body) => {
                self.letrecs.push(e);
                for (x, _) in binds {
                    self.bind(*x);
                }
                for (x, init) in binds {
                    self.binding(*x, init, true);
                }
                self.expr(body);
            }
        }
    }

    fn binding(&mut self, x: LocalId, init: &'t Expr, letrec: bool) {
        if let ExprKind::Lambda(l) = &init.kind {
            let id = self.lambda(l);
            if let Some(v) = self.var(x) {
                v.fun = Some(id);
                v.letrec = letrec;
            }
        } else {
            if let Some(v) = self.var(x) {
                v.letrec = letrec;
            }
            self.expr(init);
        }
    }
}

// ---------------------------------------------------------- letrec safety

/// Every occurrence (reference, assignment, call) of a local in `e`,
/// nested lambdas included.
fn occurrences(e: &Expr, out: &mut Vec<LocalId>) {
    match &e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) => {}
        ExprKind::Local(x) => out.push(*x),
        ExprKind::SetLocal(x, v) => {
            out.push(*x);
            occurrences(v, out);
        }
        ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => occurrences(v, out),
        ExprKind::If(c, t, f) => {
            occurrences(c, out);
            occurrences(t, out);
            occurrences(f, out);
        }
        ExprKind::Lambda(l) => occurrences(&l.body, out),
        ExprKind::Call(f, args) => {
            occurrences(f, out);
            for a in args {
                occurrences(a, out);
            }
        }
        ExprKind::Seq(es) => {
            for x in es {
                occurrences(x, out);
            }
        }
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (_, init) in binds {
                occurrences(init, out);
            }
            occurrences(body, out);
        }
    }
}

/// Marks the variables of one `letrec*` group that may be read before
/// their initialisation completes. Init `s` runs in "segment" `s`; a
/// function of the group (a function variable bound directly to a lambda)
/// runs no earlier than `run[s]`, the earliest segment referring to it
/// (directly, or from a function that itself runs then).
fn letrec_safety(binds: &[(LocalId, Expr)], vars: &[VarInfo], unsafe_vars: &mut HashSet<LocalId>) {
    let n = binds.len();
    let index: HashMap<LocalId, usize> = binds
        .iter()
        .enumerate()
        .map(|(i, (x, _))| (*x, i))
        .collect();
    let is_group_fn: Vec<bool> = binds
        .iter()
        .map(|(x, init)| {
            vars[x.0 as usize].fun.is_some() && matches!(init.kind, ExprKind::Lambda(_))
        })
        .collect();
    // direct[s]: members occurring in init s outside group functions;
    // inside[m]: members occurring anywhere in group function m.
    let mut direct: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut inside: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (s, (_, init)) in binds.iter().enumerate() {
        let mut occ = Vec::new();
        match (&init.kind, is_group_fn[s]) {
            (ExprKind::Lambda(l), true) => occurrences(&l.body, &mut occ),
            _ => occurrences(init, &mut occ),
        }
        let members: Vec<usize> = occ.iter().filter_map(|x| index.get(x).copied()).collect();
        if is_group_fn[s] {
            inside[s] = members;
        } else {
            direct[s] = members;
        }
    }
    const NEVER: usize = usize::MAX;
    let mut run = vec![NEVER; n];
    for (s, ms) in direct.iter().enumerate() {
        for &k in ms {
            if is_group_fn[k] {
                run[k] = run[k].min(s);
            }
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for m in 0..n {
            if run[m] == NEVER {
                continue;
            }
            for &k in &inside[m] {
                if is_group_fn[k] && run[m] < run[k] {
                    run[k] = run[m];
                    changed = true;
                }
            }
        }
    }
    for (s, ms) in direct.iter().enumerate() {
        for &j in ms {
            if s <= j {
                unsafe_vars.insert(binds[j].0);
            }
        }
    }
    for (m, ms) in inside.iter().enumerate() {
        for &j in ms {
            if run[m] <= j {
                unsafe_vars.insert(binds[j].0);
            }
        }
    }
}

// ---------------------------------------------------------- contification

/// Union-find over continuation ids.
struct Uf(Vec<u32>);

impl Uf {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a as usize] = b;
        }
    }
}

/// One pass of the contification walk: assigns a continuation id to every
/// position (tail positions share their context's id, each non-tail
/// position and each function return gets a fresh one) and records the
/// id and function of every call of a candidate. A candidate's body is
/// walked in tail position of its own symbolic id `B_x`.
struct CWalk<'a> {
    info: &'a TopInfo<'a>,
    cand: &'a [bool],
    next: u32,
    /// Ids that are concrete continuations (not some `B_x`).
    concrete: Vec<bool>,
    nontail: HashMap<u32, *const Expr>,
    letrec_k: HashMap<*const Expr, u32>,
    /// Per candidate: (B id, function context of its binding, its letrec).
    cand_info: HashMap<LocalId, (u32, u32, *const Expr)>,
    sites: Vec<(LocalId, u32, u32)>,
    /// Per candidate: has a call site that is itself a non-tail call.
    nontail_site: HashSet<LocalId>,
}

impl CWalk<'_> {
    fn fresh(&mut self, concrete: bool) -> u32 {
        self.next += 1;
        self.concrete.push(concrete);
        self.next - 1
    }

    fn sub(&mut self, e: &Expr, fnctx: u32) {
        let id = self.fresh(true);
        self.nontail.insert(id, e as *const Expr);
        self.walk(e, id, fnctx);
    }

    fn is_cand(&self, x: LocalId) -> bool {
        self.cand.get(x.0 as usize).copied().unwrap_or(false)
    }

    fn walk(&mut self, e: &Expr, k: u32, fnctx: u32) {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
            ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
                self.sub(v, fnctx)
            }
            ExprKind::If(c, t, f) => {
                self.sub(c, fnctx);
                self.walk(t, k, fnctx);
                self.walk(f, k, fnctx);
            }
            ExprKind::Lambda(l) => {
                let r = self.fresh(true);
                let ctx = self.info.lam_id(l).map_or(u32::MAX, |i| i as u32 + 1);
                self.walk(&l.body, r, ctx);
            }
            ExprKind::Call(f, args) => {
                match &f.kind {
                    ExprKind::Local(x) if self.is_cand(*x) => {
                        self.sites.push((*x, k, fnctx));
                        if self.nontail.get(&k) == Some(&(e as *const Expr)) {
                            self.nontail_site.insert(*x);
                        }
                    }
                    _ => self.sub(f, fnctx),
                }
                for a in args {
                    self.sub(a, fnctx);
                }
            }
            ExprKind::Seq(es) => {
                if let Some((last, init)) = es.split_last() {
                    for x in init {
                        self.sub(x, fnctx);
                    }
                    self.walk(last, k, fnctx);
                }
            }
            ExprKind::Let(binds, body) => {
                for (_, init) in binds {
                    self.sub(init, fnctx);
                }
                self.walk(body, k, fnctx);
            }
            ExprKind::Letrec(binds, body) => {
                self.letrec_k.insert(e as *const Expr, k);
                let mut deferred = Vec::new();
                for (x, init) in binds {
                    match &init.kind {
                        ExprKind::Lambda(l) if self.is_cand(*x) => {
                            let b = self.fresh(false);
                            self.cand_info.insert(*x, (b, fnctx, e as *const Expr));
                            deferred.push((b, l));
                        }
                        _ => self.sub(init, fnctx),
                    }
                }
                self.walk(body, k, fnctx);
                for (b, l) in deferred {
                    self.walk(&l.body, b, fnctx);
                }
            }
        }
    }
}

fn contify(
    top: &TopLevel,
    info: &mut TopInfo<'_>,
    lam_params: &[(usize, bool)],
) -> Result<(), Diagnostic> {
    let mut cand: Vec<bool> = info
        .vars
        .iter()
        .map(|v| match v.fun {
            Some(l) => {
                let (n, rest) = lam_params[l];
                v.letrec
                    && !rest
                    && v.value_uses == 0
                    && !v.call_argcs.is_empty()
                    && v.call_argcs.iter().all(|&a| a == n)
            }
            None => false,
        })
        .collect();
    // Each round demotes at least one candidate, so this terminates; the
    // bound only guards against a pathological number of rounds.
    for _round in 0..64 {
        if !cand.iter().any(|&c| c) {
            return Ok(());
        }
        let mut w = CWalk {
            info,
            cand: &cand,
            next: 0,
            concrete: Vec::new(),
            nontail: HashMap::new(),
            letrec_k: HashMap::new(),
            cand_info: HashMap::new(),
            sites: Vec::new(),
            nontail_site: HashSet::new(),
        };
        let r = w.fresh(true);
        w.walk(&top.body, r, 0);
        let CWalk {
            next,
            concrete,
            nontail,
            letrec_k,
            cand_info,
            sites,
            nontail_site,
            ..
        } = w;
        let mut uf = Uf((0..next).collect());
        let mut bad: HashSet<LocalId> = HashSet::new();
        for &(x, k, fnctx) in &sites {
            match cand_info.get(&x) {
                Some(&(b, bind_ctx, _)) => {
                    uf.union(b, k);
                    if fnctx != bind_ctx {
                        bad.insert(x);
                    }
                }
                None => {
                    bad.insert(x);
                }
            }
        }
        // Concrete continuations per class.
        let mut class_concrete: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        for id in 0..next {
            if concrete[id as usize] {
                let root = uf.find(id);
                class_concrete.entry(root).or_default().insert(id);
            }
        }
        let mut members: HashMap<u32, Vec<LocalId>> = HashMap::new();
        let mut cands: Vec<LocalId> = cand_info.keys().copied().collect();
        cands.sort();
        for &x in &cands {
            let root = uf.find(cand_info[&x].0);
            members.entry(root).or_default().push(x);
        }
        let mut demote: BTreeSet<LocalId> = bad.iter().copied().collect();
        for (root, xs) in &members {
            let n = class_concrete.get(root).map_or(0, |s| s.len());
            if n == 1 {
                continue;
            }
            if n == 0 {
                demote.extend(xs.iter().copied());
                continue;
            }
            let culprits: Vec<LocalId> = xs
                .iter()
                .copied()
                .filter(|x| nontail_site.contains(x))
                .collect();
            if culprits.is_empty() {
                demote.extend(xs.iter().copied());
            } else {
                demote.extend(culprits);
            }
        }
        // Candidates never reached (not walked) are not contified.
        for (i, c) in cand.iter_mut().enumerate() {
            if *c && !cand_info.contains_key(&LocalId(i as u32)) {
                *c = false;
            }
        }
        if !demote.is_empty() {
            for x in demote {
                cand[x.0 as usize] = false;
            }
            continue;
        }
        // Stable: record placements.
        for &x in &cands {
            let (b, _, letrec) = cand_info[&x];
            let root = uf.find(b);
            let k = class_concrete
                .get(&root)
                .and_then(|s| s.iter().next().copied())
                .ok_or_else(|| internal("contified function without continuation"))?;
            let at_letrec = match letrec_k.get(&letrec) {
                Some(&lk) => uf.find(lk) == root,
                None => false,
            };
            let placement = if at_letrec {
                Placement::AtLetrec
            } else if let Some(&p) = nontail.get(&k) {
                info.placements.entry(p).or_default().push(x);
                Placement::At(p)
            } else {
                return Err(internal("contified function has no placement"));
            };
            let v = &mut info.vars[x.0 as usize];
            v.placement = Some(placement);
            if let Some(l) = v.fun {
                info.lams[l].kind = LamKind::Contified;
            }
        }
        return Ok(());
    }
    Ok(())
}

// ------------------------------------------ functions and free variables

/// Function contexts: 0 is the top-level form, `lam + 1` a lambda that
/// is a real VIR function.
struct FnData {
    direct: BTreeSet<LocalId>,
    known_calls: BTreeSet<LamId>,
    children: Vec<usize>,
    bound: HashSet<LocalId>,
}

struct FnWalk<'a> {
    info: &'a TopInfo<'a>,
    globals: &'a GlobalsInfo,
    top_index: usize,
    fns: Vec<FnData>,
    self_loops: HashSet<LamId>,
    error: Option<Diagnostic>,
}

impl<'a> FnWalk<'a> {
    fn new(info: &'a TopInfo<'a>, globals: &'a GlobalsInfo, top_index: usize) -> Self {
        let fns = (0..=info.lams.len())
            .map(|_| FnData {
                direct: BTreeSet::new(),
                known_calls: BTreeSet::new(),
                children: Vec::new(),
                bound: HashSet::new(),
            })
            .collect();
        FnWalk {
            info,
            globals,
            top_index,
            fns,
            self_loops: HashSet::new(),
            error: None,
        }
    }

    fn bind(&mut self, x: LocalId, f: usize) {
        self.fns[f].bound.insert(x);
    }

    fn reference(&mut self, x: LocalId, f: usize) {
        self.fns[f].direct.insert(x);
    }

    fn lambda_fn(&mut self, l: &Lambda, parent: usize, as_child: bool) {
        let Some(id) = self.info.lam_id(l) else {
            self.error = Some(internal("unnumbered lambda"));
            return;
        };
        let f = id + 1;
        if as_child {
            self.fns[parent].children.push(f);
        }
        for &p in l.params.iter().chain(&l.rest) {
            self.bind(p, f);
        }
        if let Some(x) = self.info.lams[id].var {
            if self.info.lams[id].kind == LamKind::Escaping {
                // The closure refers to itself through its parameter 0.
                self.fns[f].bound.insert(x);
            }
        }
        self.walk(&l.body, f, true);
    }

    /// `tail`: in tail position of function `f` (loops need it).
    fn walk(&mut self, e: &Expr, f: usize, tail: bool) {
        match &e.kind {
            ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) => {}
            ExprKind::Local(x) => self.reference(*x, f),
            ExprKind::SetLocal(x, v) => {
                self.reference(*x, f);
                self.walk(v, f, false);
            }
            ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => self.walk(v, f, false),
            ExprKind::If(c, t, e2) => {
                self.walk(c, f, false);
                self.walk(t, f, tail);
                self.walk(e2, f, tail);
            }
            ExprKind::Lambda(l) => self.lambda_fn(l, f, true),
            ExprKind::Call(callee, args) => {
                match &callee.kind {
                    ExprKind::Local(x) => match self.info.fun_kind(*x) {
                        Some((_, LamKind::Contified)) => {}
                        Some((id, LamKind::Known)) => {
                            self.fns[f].known_calls.insert(id);
                            if tail && id + 1 == f && self.arity_ok(id, args.len()) {
                                self.self_loops.insert(id);
                            }
                        }
                        Some((id, LamKind::Escaping)) => {
                            self.reference(*x, f);
                            if tail && id + 1 == f && self.arity_ok(id, args.len()) {
                                self.self_loops.insert(id);
                            }
                        }
                        None => self.reference(*x, f),
                    },
                    ExprKind::Global(name) => {
                        if tail && f > 0 {
                            if let Some(fx) = self.globals.fixed.get(name) {
                                let id = f - 1;
                                if fx.top == self.top_index
                                    && std::ptr::eq(fx.lam, self.info.lams[id].lam)
                                    && self.arity_ok(id, args.len())
                                {
                                    self.self_loops.insert(id);
                                }
                            }
                        }
                    }
                    _ => self.walk(callee, f, false),
                }
                for a in args {
                    self.walk(a, f, false);
                }
            }
            ExprKind::Seq(es) => {
                if let Some((last, init)) = es.split_last() {
                    for x in init {
                        self.walk(x, f, false);
                    }
                    self.walk(last, f, tail);
                }
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                for (x, _) in binds {
                    self.bind(*x, f);
                }
                let mut contified = Vec::new();
                for (x, init) in binds {
                    match (&init.kind, self.info.fun_kind(*x)) {
                        (ExprKind::Lambda(l), Some((_, LamKind::Contified))) => {
                            contified.push((*x, &**l));
                        }
                        (ExprKind::Lambda(l), Some((_, LamKind::Known))) => {
                            self.lambda_fn(l, f, false)
                        }
                        _ => self.walk(init, f, false),
                    }
                }
                self.walk(body, f, tail);
                for (x, l) in contified {
                    for &p in &l.params {
                        self.bind(p, f);
                    }
                    // Its calls are in tail position of the function iff
                    // it is placed at a letrec in tail position.
                    let t = tail && self.info.var(x).placement == Some(Placement::AtLetrec);
                    self.walk(&l.body, f, t);
                }
            }
        }
    }

    fn arity_ok(&self, id: LamId, argc: usize) -> bool {
        let l = self.info.lams[id].lam;
        if l.rest.is_some() {
            argc >= l.params.len()
        } else {
            argc == l.params.len()
        }
    }

    /// Free variables of every function (fixpoint over children and known
    /// callees), indexed by function context, and the self loops.
    fn solve(self) -> Result<(Vec<BTreeSet<LocalId>>, HashSet<LamId>), Diagnostic> {
        let n = self.fns.len();
        let mut free: Vec<BTreeSet<LocalId>> = vec![BTreeSet::new(); n];
        let mut changed = true;
        let mut rounds = 0usize;
        while changed {
            changed = false;
            rounds += 1;
            if rounds > n + 8 {
                return Err(internal("free variables do not converge"));
            }
            for f in (0..n).rev() {
                let d = &self.fns[f];
                let mut s: BTreeSet<LocalId> = d.direct.clone();
                for &c in &d.children {
                    s.extend(free[c].iter().copied());
                }
                for &g in &d.known_calls {
                    s.extend(free[g + 1].iter().copied());
                }
                s.retain(|x| !d.bound.contains(x));
                if s != free[f] {
                    free[f] = s;
                    changed = true;
                }
            }
        }
        if !free[0].is_empty() {
            return Err(internal("top-level form has free locals"));
        }
        Ok((free, self.self_loops))
    }
}

/// Records free variables, captured flags and self loops.
fn apply_functions(info: &mut TopInfo, free: Vec<BTreeSet<LocalId>>, self_loops: HashSet<LamId>) {
    for s in &free {
        for x in s {
            if let Some(v) = info.vars.get_mut(x.0 as usize) {
                v.captured = true;
            }
        }
    }
    for (id, lam) in info.lams.iter_mut().enumerate() {
        if lam.kind != LamKind::Contified {
            lam.free = free[id + 1].iter().copied().collect();
        }
        lam.self_loop = self_loops.contains(&id);
    }
}

/// Classifies function variables that are not contified: known when they
/// are never used as a value. Runs between contification and the free
/// variable walk.
fn classify(info: &mut TopInfo) {
    for lam in info.lams.iter_mut() {
        if lam.kind == LamKind::Contified {
            continue;
        }
        lam.kind = match lam.var {
            Some(x) if info.vars[x.0 as usize].value_uses == 0 => LamKind::Known,
            _ => LamKind::Escaping,
        };
    }
}

/// The locals assigned anywhere in `e` (nested lambdas included) or in
/// the body of a contified function that `e` calls (their code runs as
/// part of `e`'s), transitively.
pub(crate) fn assigned_in(e: &Expr, info: &TopInfo, out: &mut BTreeSet<LocalId>) {
    let mut visited = HashSet::new();
    assigned_walk(e, info, out, &mut visited);
}

fn assigned_walk(
    e: &Expr,
    info: &TopInfo,
    out: &mut BTreeSet<LocalId>,
    visited: &mut HashSet<LocalId>,
) {
    match &e.kind {
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) | ExprKind::Local(_) => {}
        ExprKind::SetLocal(x, v) => {
            out.insert(*x);
            assigned_walk(v, info, out, visited);
        }
        ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => {
            assigned_walk(v, info, out, visited)
        }
        ExprKind::If(c, t, f) => {
            assigned_walk(c, info, out, visited);
            assigned_walk(t, info, out, visited);
            assigned_walk(f, info, out, visited);
        }
        ExprKind::Lambda(l) => assigned_walk(&l.body, info, out, visited),
        ExprKind::Call(f, args) => {
            if let ExprKind::Local(x) = &f.kind {
                if let Some((id, LamKind::Contified)) = info.fun_kind(*x) {
                    if visited.insert(*x) {
                        let l = info.lams[id].lam;
                        assigned_walk(&l.body, info, out, visited);
                    }
                }
            }
            assigned_walk(f, info, out, visited);
            for a in args {
                assigned_walk(a, info, out, visited);
            }
        }
        ExprKind::Seq(es) => {
            for x in es {
                assigned_walk(x, info, out, visited);
            }
        }
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (_, init) in binds {
                assigned_walk(init, info, out, visited);
            }
            assigned_walk(body, info, out, visited);
        }
    }
}
