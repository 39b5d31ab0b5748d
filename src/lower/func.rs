//! Expression lowering: one VIR function per top-level form and per lambda
//! that is a real function (escaping or known). See `docs/lowering.md`.
//!
//! Each expression is lowered against a continuation ([`Cont`]): `Value`
//! (the caller uses the value and continues in the current block),
//! `Return` (tail position of the function: `ret`, `tail_call`,
//! `tail_call_closure`) or `Jump` (tail position of a join point: `br` to
//! the join block with the value and the current values of the variables
//! it carries).
//!
//! Variables live in an environment with an undo log: SSA values (also for
//! assigned variables that no other function captures: `set!` rebinds
//! them, and joins carry them as block parameters), boxes, known functions.

use super::analysis::{assigned_in, LamId, LamKind, Placement, TopInfo};
use super::prims::{self, Prim};
use super::GlobalsInfo;
use crate::ast::{Expr, ExprKind, Lambda, LocalId, TopLevel};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::diag::Diagnostic;
use crate::syntax::source::Span;
use std::collections::{BTreeSet, HashMap, HashSet};
use valk_vir::ir::fits_fixnum;
use valk_vir::{
    Block, BlockCall, Checked, ConstData, FuncId, Function, FxMode, Loc, Module, Op, Signature, Ty,
    Value,
};

mod calls;
mod inline;

type R<T> = Result<T, Diagnostic>;

fn internal(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(format!(
        "internal error in the VIR lowering: {}",
        msg.into()
    ))
}

/// Module-wide lowering state.
pub(crate) struct Ctx<'g> {
    pub module: Module,
    pub locs: Vec<Span>,
    loc_ids: HashMap<Span, Loc>,
    /// `Loc` id of a call whose operator is a global → that global.
    pub callees: HashMap<u32, String>,
    /// `Loc` id → the procedure its code is in (backtraces).
    pub loc_procs: HashMap<u32, crate::lower::SiteProc>,
    /// Inlined locations made so far (`Module::inlined`), by (loc, at).
    inlined_ids: HashMap<(Loc, Loc), Loc>,
    /// Locations of other procedures' code at the span of a location.
    loc_variants: HashMap<(u32, crate::lower::SiteProc), Loc>,
    pub proc_names: Vec<Option<String>>,
    pub globals: &'g GlobalsInfo,
    names: Names,
}

/// Unique function names (`base`, `base.1`, ...) without rescanning the
/// module for each new function.
#[derive(Default)]
pub(crate) struct Names {
    taken: HashSet<String>,
    next: HashMap<String, u32>,
}

impl Names {
    pub fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        while self.taken.contains(&name) {
            let n = self.next.entry(base.to_string()).or_insert(1);
            name = format!("{base}.{n}");
            *n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

impl<'g> Ctx<'g> {
    pub fn new(
        module: Module,
        proc_names: Vec<Option<String>>,
        globals: &'g GlobalsInfo,
        names: Names,
    ) -> Self {
        Ctx {
            module,
            locs: Vec::new(),
            loc_ids: HashMap::new(),
            callees: HashMap::new(),
            loc_procs: HashMap::new(),
            inlined_ids: HashMap::new(),
            loc_variants: HashMap::new(),
            proc_names,
            globals,
            names,
        }
    }

    /// Records that the call at `span` names global `name` as its
    /// operator (backtraces: docs/debugging.md).
    pub(crate) fn note_callee(&mut self, span: Span, name: &str) {
        let l = self.loc(span);
        self.callees.insert(l.0, name.to_string());
    }

    /// `loc` as code of procedure `proc`: a location of its own when code
    /// of another procedure has the same span (macro-generated code).
    fn loc_in(&mut self, loc: Loc, proc: &crate::lower::SiteProc) -> Loc {
        let chunk_call = *proc == crate::lower::SiteProc::ChunkCall;
        match self.loc_procs.get(&loc.0) {
            // A chunk call always gets a location of its own (the span is
            // its chunk's first statement's), which then stays as it is.
            None if !chunk_call => {
                self.loc_procs.insert(loc.0, proc.clone());
                loc
            }
            Some(p) if p == proc => loc,
            Some(crate::lower::SiteProc::ChunkCall) => loc,
            _ => {
                if let Some(&l) = self.loc_variants.get(&(loc.0, proc.clone())) {
                    return l;
                }
                let l = Loc(self.locs.len() as u32);
                self.locs.push(self.locs[loc.0 as usize]);
                if let Some(c) = self.callees.get(&loc.0).cloned() {
                    self.callees.insert(l.0, c);
                }
                self.loc_procs.insert(l.0, proc.clone());
                self.loc_variants.insert((loc.0, proc.clone()), l);
                l
            }
        }
    }

    /// Code at `loc` run above the frame at `at` (a contified procedure
    /// entered from a non-tail place): an inlined location.
    fn inline_loc(&mut self, loc: Loc, at: Loc) -> Loc {
        if let Some(&l) = self.inlined_ids.get(&(loc, at)) {
            return l;
        }
        self.module.inlined.push(valk_vir::InlinedLoc { loc, at });
        let l = Loc::inlined(self.module.inlined.len() - 1);
        self.inlined_ids.insert((loc, at), l);
        l
    }

    fn loc(&mut self, span: Span) -> Loc {
        if let Some(&l) = self.loc_ids.get(&span) {
            return l;
        }
        let l = Loc(self.locs.len() as u32);
        self.locs.push(span);
        self.loc_ids.insert(span, l);
        l
    }

    fn declare(&mut self, name: &str, sig: Signature, proc_name: Option<String>) -> FuncId {
        let n = self.names.unique(name);
        let f = self.module.declare_function(&n, sig);
        if self.proc_names.len() <= f.index() {
            self.proc_names.resize(f.index() + 1, None);
        }
        self.proc_names[f.index()] = proc_name;
        f
    }
}

/// How a local is represented at some point of a function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Binding {
    Val(Value),
    /// The box holding the variable; `true`: reads check for `undefined`.
    Boxed(Value, bool),
    Known(LamId),
    /// A contified function (its header is in `FnLower::headers` once
    /// its placement has been reached).
    Contified,
}

#[derive(Default)]
struct Env {
    map: HashMap<LocalId, Binding>,
    log: Vec<(LocalId, Option<Binding>)>,
}

impl Env {
    fn get(&self, x: LocalId) -> Option<Binding> {
        self.map.get(&x).copied()
    }
    fn set(&mut self, x: LocalId, b: Binding) {
        let old = self.map.insert(x, b);
        self.log.push((x, old));
    }
    fn mark(&self) -> usize {
        self.log.len()
    }
    fn undo(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some((x, old)) = self.log.pop() {
                match old {
                    Some(b) => self.map.insert(x, b),
                    None => self.map.remove(&x),
                };
            }
        }
    }
    /// Variables bound before `mark` and rebound since, in first-change
    /// order.
    fn changed_since(&self, mark: usize) -> Vec<(LocalId, Option<Binding>)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (x, old) in &self.log[mark..] {
            if seen.insert(*x) {
                out.push((*x, *old));
            }
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cont {
    Value,
    Return,
    /// Index into `FnLower::joins`.
    Jump(usize),
}

struct Join {
    block: Block,
    carried: Vec<LocalId>,
}

struct Header {
    block: Block,
    carried: Vec<LocalId>,
}

/// Lowering state of one top-level form.
struct TopLower<'a, 'g, 't> {
    cx: &'a mut Ctx<'g>,
    top: &'t TopLevel,
    index: usize,
    info: &'a TopInfo<'t>,
    /// The VIR function of each lambda that is a real function.
    lam_funcs: Vec<Option<FuncId>>,
    /// The global whose lambda this form defines (`(define (f ...) ...)`).
    defines_lambda: Option<&'t str>,
}

/// Lowers top-level form `index` and its lambdas; returns the form's
/// function.
pub(crate) fn lower_top(cx: &mut Ctx, top: &TopLevel, index: usize, info: &TopInfo) -> R<FuncId> {
    let defines_lambda = match &top.body.kind {
        ExprKind::DefineGlobal(name, v) if matches!(v.kind, ExprKind::Lambda(_)) => {
            Some(name.as_str())
        }
        _ => None,
    };
    let mut tl = TopLower {
        cx,
        top,
        index,
        info,
        lam_funcs: vec![None; info.lams.len()],
        defines_lambda,
    };
    for (id, lam) in info.lams.iter().enumerate() {
        let l: &Lambda = lam.lam;
        let nreq = l.params.len() as u32;
        let rest = l.rest.is_some();
        let var_name = lam.var.map(|x| tl.local_name(x).to_string());
        let fixed = tl
            .cx
            .globals
            .fixed
            .values()
            .find(|f| f.top == index && std::ptr::eq(f.lam, lam.lam))
            .map(|f| f.func);
        let f = match (lam.kind, fixed) {
            (LamKind::Contified, _) => continue,
            (LamKind::Escaping, Some(f)) => f,
            (LamKind::Escaping, None) => {
                let base = l
                    .name
                    .clone()
                    .or(var_name)
                    .unwrap_or_else(|| "lambda".into());
                tl.cx
                    .declare(&base, Signature::closure(nreq, rest), l.name.clone())
            }
            (LamKind::Known, _) => {
                let base = var_name
                    .or_else(|| l.name.clone())
                    .unwrap_or_else(|| "lambda".into());
                let sig = Signature {
                    required: lam.free.len() as u32 + nreq,
                    rest,
                    closure: false,
                };
                tl.cx.declare(&base, sig, l.name.clone())
            }
        };
        tl.lam_funcs[id] = Some(f);
    }
    let fid = tl
        .cx
        .declare(&format!("toplevel.{index}"), Signature::fixed(0), None);
    let f = {
        let mut fl = FnLower::new(&mut tl, fid, None);
        let r = fl.expr(&top.body, Cont::Return)?;
        if r.is_some() {
            return Err(internal("top-level body did not end its function"));
        }
        fl.f
    };
    tl.cx.module.define_function(fid, f);
    for id in 0..info.lams.len() {
        if let Some(func) = tl.lam_funcs[id] {
            let f = lower_lambda(&mut tl, id, func, false)?;
            tl.cx.module.define_function(func, f);
            if let Some((twin, _)) = tl.twin_of(id) {
                let f = lower_lambda(&mut tl, id, twin, true)?;
                tl.cx.module.define_function(twin, f);
            }
        }
    }
    Ok(fid)
}

impl TopLower<'_, '_, '_> {
    /// The twin of lambda `id` and the globals its region reaches, when
    /// it is a guarded procedure with one (`FixedGlobal::twin`).
    fn twin_of(&self, id: LamId) -> Option<(FuncId, Vec<String>)> {
        let lam = self.info.lams[id].lam;
        self.cx
            .globals
            .fixed
            .values()
            .find(|f| f.top == self.index && std::ptr::eq(f.lam, lam))
            .and_then(|f| f.twin.clone())
    }

    fn local_name(&self, x: LocalId) -> &str {
        self.top
            .locals
            .get(x.0 as usize)
            .map_or("_", |l| l.name.as_str())
    }
}

/// Lowers lambda `id` into `func`; `unchecked`: into its twin
/// (`FixedGlobal::twin`), which has no closure parameter.
fn lower_lambda(tl: &mut TopLower, id: LamId, func: FuncId, unchecked: bool) -> R<Function> {
    let info = tl.info;
    let lam = &info.lams[id];
    let l: &Lambda = lam.lam;
    let twin = if unchecked { None } else { tl.twin_of(id) };
    let mut fl = FnLower::new(tl, func, Some(id));
    fl.unchecked = unchecked;
    let params = fl.f.params().to_vec();
    let mut next = 0;
    if unchecked {
        // A top-level lambda: no captures, not bound to a local.
    } else if lam.kind == LamKind::Escaping {
        let me = params[0];
        fl.f.set_value_name(me, "self");
        fl.self_val = Some(me);
        next = 1;
        for (i, &x) in lam.free.iter().enumerate() {
            let v = fl.push(Op::EnvGet(i as u32), &[me]);
            fl.bind_capture(x, v);
        }
        if let Some(x) = lam.var {
            let captured_inside = info
                .lams
                .iter()
                .enumerate()
                .any(|(j, o)| j != id && o.free.contains(&x));
            let b = if info.var(x).boxed && captured_inside {
                // Other functions capture the variable as a box: give them
                // one holding this closure.
                let bx = fl.push(Op::MakeBox, &[me]);
                fl.name_box(bx, x);
                Binding::Boxed(bx, false)
            } else {
                Binding::Val(me)
            };
            fl.env.set(x, b);
        }
    } else {
        for &x in &lam.free {
            let v = params[next];
            next += 1;
            fl.bind_capture(x, v);
        }
    }
    let mut actual: Vec<Value> = params[next..].to_vec();
    let formals: Vec<LocalId> = l.params.iter().chain(&l.rest).copied().collect();
    for (x, &v) in formals.iter().zip(&actual) {
        fl.name_value(v, *x);
    }
    if let Some((twin, region)) = twin {
        fl.enter_twin(twin, &region, &actual, l.span);
    }
    if lam.self_loop {
        let header = fl.f.create_block(Some("loop"));
        let hp: Vec<Value> = actual
            .iter()
            .map(|_| fl.f.append_block_param(header))
            .collect();
        fl.term(Op::Br, &[], vec![BlockCall::new(header, &actual)]);
        fl.switch_to(header);
        fl.loop_header = Some(header);
        actual = hp;
    }
    for (x, v) in formals.iter().zip(actual) {
        fl.bind_var(*x, v);
    }
    let r = fl.expr(&l.body, Cont::Return)?;
    if r.is_some() {
        return Err(internal("lambda body did not end its function"));
    }
    Ok(fl.f)
}

/// Lowering state of one VIR function.
struct FnLower<'x, 'a, 'g, 't> {
    tl: &'x mut TopLower<'a, 'g, 't>,
    f: Function,
    func_id: FuncId,
    cur: Block,
    env: Env,
    joins: Vec<Join>,
    headers: HashMap<LocalId, Header>,
    /// Lambdas of contified functions seen so far (by their variable).
    contified: HashMap<LocalId, &'t Lambda>,
    lam: Option<LamId>,
    self_val: Option<Value>,
    loop_header: Option<Block>,
    /// Lowering a twin (`FixedGlobal::twin`): calls of guarded procedures
    /// are calls of their twins, without tests.
    unchecked: bool,
    /// The procedure whose code is being lowered (a contified function's
    /// body is its own procedure), recorded for each `Loc` (backtraces).
    lexical: crate::lower::SiteProc,
    /// In a contified body entered from a non-tail place: that place's
    /// location; the body's locations become inlined locations at it.
    lex_parent: Option<Loc>,
}

impl<'x, 'a, 'g, 't> FnLower<'x, 'a, 'g, 't> {
    fn new(tl: &'x mut TopLower<'a, 'g, 't>, func_id: FuncId, lam: Option<LamId>) -> Self {
        let src = tl.cx.module.func(func_id);
        let f = Function::new(&src.name, src.sig);
        let cur = f.entry();
        let lexical = match lam {
            Some(id) => {
                let l = tl.info.lams[id].lam;
                if let Some(owner) = crate::lower::chunk_owner(l) {
                    owner
                } else if l.is_glue() {
                    crate::lower::SiteProc::Hidden
                } else {
                    crate::lower::SiteProc::Proc(l.name.clone())
                }
            }
            None => crate::lower::SiteProc::TopLevel,
        };
        FnLower {
            tl,
            f,
            func_id,
            cur,
            env: Env::default(),
            joins: Vec::new(),
            headers: HashMap::new(),
            contified: HashMap::new(),
            lam,
            self_val: None,
            loop_header: None,
            unchecked: false,
            lexical,
            lex_parent: None,
        }
    }

    fn info(&self) -> &'a TopInfo<'t> {
        self.tl.info
    }

    // ---------------------------------------------------------- emitting

    fn emit(&mut self, op: Op, args: &[Value], targets: Vec<BlockCall>, loc: Loc) -> Option<Value> {
        let loc = self.site_loc(loc);
        let i = self
            .f
            .append_inst(self.cur, op, args.to_vec(), targets, loc);
        self.f.inst(i).result
    }

    /// `loc` as an instruction here carries it: the procedure of its code
    /// recorded, and relocated above the entry of a contified body
    /// (backtraces, docs/debugging.md).
    fn site_loc(&mut self, loc: Loc) -> Loc {
        if loc.is_none() {
            return loc;
        }
        let loc = self.tl.cx.loc_in(loc, &self.lexical);
        match self.lex_parent {
            Some(at) => self.tl.cx.inline_loc(loc, at),
            None => loc,
        }
    }

    /// An instruction with a result that cannot raise.
    fn push(&mut self, op: Op, args: &[Value]) -> Value {
        self.emit(op, args, Vec::new(), Loc::NONE)
            .expect("opcode with a result")
    }

    /// An instruction with a result that may raise: it carries `span`.
    fn push_at(&mut self, op: Op, args: &[Value], span: Span) -> Value {
        let loc = self.tl.cx.loc(span);
        self.emit(op, args, Vec::new(), loc)
            .expect("opcode with a result")
    }

    fn effect_at(&mut self, op: Op, args: &[Value], span: Span) {
        let loc = self.tl.cx.loc(span);
        self.emit(op, args, Vec::new(), loc);
    }

    fn term(&mut self, op: Op, args: &[Value], targets: Vec<BlockCall>) {
        self.emit(op, args, targets, Loc::NONE);
    }

    fn term_at(&mut self, op: Op, args: &[Value], span: Span) {
        let loc = self.tl.cx.loc(span);
        self.emit(op, args, Vec::new(), loc);
    }

    /// Continue in `b`, moved to the end of the layout so blocks print in
    /// the order they are filled.
    fn switch_to(&mut self, b: Block) {
        if b != self.f.entry() {
            self.f.layout.retain(|&x| x != b);
            self.f.layout.push(b);
        }
        self.cur = b;
    }

    fn name_value(&mut self, v: Value, x: LocalId) {
        if self.f.value_name(v).is_none() {
            let name = self.tl.local_name(x).to_string();
            self.f.set_value_name(v, &name);
        }
    }

    fn unspecified(&mut self) -> Value {
        self.push(Op::Unspecified, &[])
    }

    // ---------------------------------------------------------- variables

    fn name_box(&mut self, b: Value, x: LocalId) {
        if self.f.value_name(b).is_none() {
            let name = format!("{}.box", self.tl.local_name(x));
            self.f.set_value_name(b, &name);
        }
    }

    fn bind_capture(&mut self, x: LocalId, v: Value) {
        let var = self.info().var(x);
        if var.boxed {
            self.name_box(v, x);
            self.env.set(x, Binding::Boxed(v, var.checked));
        } else {
            self.name_value(v, x);
            self.env.set(x, Binding::Val(v));
        }
    }

    /// Binds a new variable (parameter, `let`) to `v`, boxing it if needed.
    fn bind_var(&mut self, x: LocalId, v: Value) {
        let var = self.info().var(x);
        if var.boxed {
            self.name_value(v, x);
            let b = self.push(Op::MakeBox, &[v]);
            self.name_box(b, x);
            self.env.set(x, Binding::Boxed(b, var.checked));
        } else {
            self.name_value(v, x);
            self.env.set(x, Binding::Val(v));
        }
    }

    fn read_local(&mut self, x: LocalId, span: Span) -> R<Value> {
        match self.env.get(x) {
            Some(Binding::Val(v)) => Ok(v),
            Some(Binding::Boxed(b, checked)) => {
                let v = self.push(Op::Unbox, &[b]);
                if checked {
                    let name = self.tl.local_name(x).to_string();
                    let c = self.tl.cx.module.add_const(ConstData::Symbol(name));
                    let sym = self.push(Op::Const(c), &[]);
                    Ok(self.push_at(Op::CheckInit, &[v, sym], span))
                } else {
                    Ok(v)
                }
            }
            other => Err(internal(format!(
                "local {} ({}) read as a value while {:?}",
                x.0,
                self.tl.local_name(x),
                other
            ))),
        }
    }

    /// The value to capture or pass for variable `x`: its SSA value or its
    /// box.
    fn capture_of(&self, x: LocalId) -> R<Value> {
        match self.env.get(x) {
            Some(Binding::Val(v)) | Some(Binding::Boxed(v, _)) => Ok(v),
            other => Err(internal(format!(
                "free variable {} ({}) unavailable: {:?}",
                x.0,
                self.tl.local_name(x),
                other
            ))),
        }
    }

    fn assign(&mut self, x: LocalId, v: Value) -> R<()> {
        match self.env.get(x) {
            Some(Binding::Val(_)) => {
                self.name_value(v, x);
                self.env.set(x, Binding::Val(v));
                Ok(())
            }
            Some(Binding::Boxed(b, _)) => {
                self.emit(Op::SetBox, &[b, v], Vec::new(), Loc::NONE);
                Ok(())
            }
            other => Err(internal(format!("set! of local {} while {:?}", x.0, other))),
        }
    }

    /// The assigned variables held as SSA values that some code in `es`
    /// may rebind: the variables a join or loop header carries.
    fn carried_for(&self, es: &[&Expr]) -> Vec<LocalId> {
        let mut s = BTreeSet::new();
        for e in es {
            assigned_in(e, self.info(), &mut s);
        }
        s.into_iter()
            .filter(|x| matches!(self.env.get(*x), Some(Binding::Val(_))))
            .collect()
    }

    fn current_values(&self, xs: &[LocalId]) -> R<Vec<Value>> {
        xs.iter()
            .map(|&x| match self.env.get(x) {
                Some(Binding::Val(v)) => Ok(v),
                other => Err(internal(format!("carried variable {} is {:?}", x.0, other))),
            })
            .collect()
    }

    fn new_join(&mut self, carried: Vec<LocalId>) -> usize {
        let block = self.f.create_block(Some("join"));
        self.f.append_block_param(block);
        for _ in &carried {
            self.f.append_block_param(block);
        }
        self.joins.push(Join { block, carried });
        self.joins.len() - 1
    }

    /// Continue at join `j`: rebinds its carried variables; returns the
    /// joined value.
    fn enter_join(&mut self, j: usize) -> Value {
        let block = self.joins[j].block;
        self.switch_to(block);
        let params = self.f.block(block).params.clone();
        let carried = self.joins[j].carried.clone();
        for (x, &p) in carried.iter().zip(&params[1..]) {
            self.name_value(p, *x);
            self.env.set(*x, Binding::Val(p));
        }
        params[0]
    }

    fn jump(&mut self, j: usize, v: Value) -> R<()> {
        let mut args = vec![v];
        args.extend(self.current_values(&self.joins[j].carried.clone())?);
        let block = self.joins[j].block;
        self.term(Op::Br, &[], vec![BlockCall::new(block, &args)]);
        Ok(())
    }

    /// Deliver `v` to the continuation.
    fn finish(&mut self, v: Value, cont: Cont) -> R<Option<Value>> {
        match cont {
            Cont::Value => Ok(Some(v)),
            Cont::Return => {
                self.term(Op::Ret, &[v], Vec::new());
                Ok(None)
            }
            Cont::Jump(j) => {
                self.jump(j, v)?;
                Ok(None)
            }
        }
    }

    // -------------------------------------------------------- expressions

    fn value(&mut self, e: &'t Expr) -> R<Value> {
        self.expr(e, Cont::Value)?
            .ok_or_else(|| internal("expression in value position ended its block"))
    }

    fn expr(&mut self, e: &'t Expr, cont: Cont) -> R<Option<Value>> {
        if cont == Cont::Value {
            if let Some(xs) = self.info().placements.get(&(e as *const Expr)) {
                return self.placed(e, xs).map(Some);
            }
        }
        self.expr_kind(e, cont)
    }

    fn expr_kind(&mut self, e: &'t Expr, cont: Cont) -> R<Option<Value>> {
        match &e.kind {
            ExprKind::Const(d) => {
                let v = self.constant(d);
                self.finish(v, cont)
            }
            ExprKind::Void => {
                let v = self.unspecified();
                self.finish(v, cont)
            }
            ExprKind::Local(x) => {
                let v = self.read_local(*x, e.span)?;
                self.finish(v, cont)
            }
            ExprKind::Global(name) => {
                let v = self.read_global(name, e.span);
                self.finish(v, cont)
            }
            ExprKind::SetLocal(x, val) => {
                let v = self.value(val)?;
                self.assign(*x, v)?;
                let u = self.unspecified();
                self.finish(u, cont)
            }
            ExprKind::SetGlobal(name, val) => {
                let v = self.value(val)?;
                let g = self.tl.cx.module.global(name);
                self.effect_at(Op::GlobalSet(g, Checked::Yes), &[v], e.span);
                self.note_written(name, g);
                let u = self.unspecified();
                self.finish(u, cont)
            }
            ExprKind::DefineGlobal(name, val) => {
                let v = self.value(val)?;
                let g = self.tl.cx.module.global(name);
                self.emit(Op::GlobalSet(g, Checked::No), &[v], Vec::new(), Loc::NONE);
                self.note_written(name, g);
                let u = self.unspecified();
                self.finish(u, cont)
            }
            ExprKind::If(c, t, f) => self.if_(c, t, f, cont),
            ExprKind::Lambda(l) => {
                let v = self.closure(l)?;
                self.finish(v, cont)
            }
            ExprKind::Call(f, args) => self.call(e, f, args, cont),
            ExprKind::Seq(es) => {
                let Some((last, init)) = es.split_last() else {
                    let u = self.unspecified();
                    return self.finish(u, cont);
                };
                for x in init {
                    self.value(x)?;
                }
                self.expr(last, cont)
            }
            ExprKind::Let(binds, body) => {
                for (x, init) in binds {
                    if let Some((id, LamKind::Known)) = self.info().fun_kind(*x) {
                        self.env.set(*x, Binding::Known(id));
                        continue;
                    }
                    let v = self.value(init)?;
                    self.bind_var(*x, v);
                }
                self.expr(body, cont)
            }
            ExprKind::Letrec(binds, body) => self.letrec(e, binds, body, cont),
        }
    }

    fn constant(&mut self, d: &Datum) -> Value {
        let op = match &d.kind {
            DatumKind::Int(n) if fits_fixnum(*n) => Op::Fixnum(*n),
            DatumKind::Float(x) => Op::flonum(*x),
            DatumKind::Bool(b) => Op::Bool(*b),
            DatumKind::Char(c) => Op::Char(*c),
            DatumKind::List(items, None) if items.is_empty() => Op::Nil,
            DatumKind::Symbol(s) => {
                Op::Const(self.tl.cx.module.add_const(ConstData::Symbol(s.clone())))
            }
            _ => {
                // Not shared: each literal is its own object, as in the
                // interpreter.
                let m = &mut self.tl.cx.module;
                m.consts.push(datum_to_const(d));
                Op::Const(valk_vir::ConstId::new(m.consts.len() - 1))
            }
        };
        self.push(op, &[])
    }

    /// After a write of global `name` (`g`): when it is a builtin's name,
    /// the runtime notes whether it still holds the builtin (the `intact`
    /// tests of code compiled earlier read that; docs/tiering.md,
    /// "Redefining builtins").
    fn note_written(&mut self, name: &str, g: valk_vir::GlobalId) {
        if valk_runtime::builtins::redefinition_index(name).is_some() {
            self.emit(
                Op::GlobalWritten(g, Checked::No),
                &[],
                Vec::new(),
                Loc::NONE,
            );
        }
    }

    /// On entry of a guarded procedure with a twin: when every global of
    /// its region holds its procedure and every builtin it lists is intact
    /// (`FixedGlobal::twin`), tail-call the twin with the arguments
    /// `args`; otherwise go on in this block.
    fn enter_twin(&mut self, twin: FuncId, region: &[String], args: &[Value], span: Span) {
        let fallback = self.f.create_block(Some("guarded"));
        for name in region {
            let t = if let Some(fx) = self.tl.cx.globals.fixed.get(name) {
                let func = fx.func;
                let g = self.tl.cx.module.global(name);
                // Unchecked: an unbound global holds a non-closure, so the
                // test fails and the guarded code raises the error where
                // it would.
                let v = self.push(Op::GlobalGet(g, Checked::No), &[]);
                self.push(Op::ProcIs(func), &[v])
            } else if let Some(n) = valk_runtime::builtins::redefinition_index(name) {
                self.push(Op::Intact(n), &[])
            } else {
                continue;
            };
            let next = self.f.create_block(Some("holds"));
            self.term(
                Op::BrIf,
                &[t],
                vec![BlockCall::new(next, &[]), BlockCall::new(fallback, &[])],
            );
            self.switch_to(next);
        }
        self.term_at(Op::TailCall(twin), args, span);
        self.switch_to(fallback);
    }

    fn read_global(&mut self, name: &str, span: Span) -> Value {
        let bound = self.global_bound(name);
        let g = self.tl.cx.module.global(name);
        if bound {
            self.push(Op::GlobalGet(g, Checked::No), &[])
        } else {
            self.push_at(Op::GlobalGet(g, Checked::Yes), &[], span)
        }
    }

    fn global_bound(&self, name: &str) -> bool {
        let own = self.lam.is_some() && self.tl.defines_lambda == Some(name);
        self.tl.cx.globals.is_bound(name, self.tl.index, own)
    }

    fn if_(&mut self, c: &'t Expr, t: &'t Expr, f: &'t Expr, cont: Cont) -> R<Option<Value>> {
        let cv = self.value(c)?;
        let tb = self.f.create_block(Some("then"));
        let eb = self.f.create_block(Some("else"));
        self.term(
            Op::BrIf,
            &[cv],
            vec![BlockCall::new(tb, &[]), BlockCall::new(eb, &[])],
        );
        let mark = self.env.mark();
        if cont != Cont::Value {
            self.switch_to(tb);
            self.expr(t, cont)?;
            self.env.undo(mark);
            self.switch_to(eb);
            self.expr(f, cont)?;
            self.env.undo(mark);
            return Ok(None);
        }
        // Value: both arms continue at a join that receives the value and
        // every SSA variable the arms left with different values.
        // Per arm: its last block, its value, and the SSA variables bound
        // before the `if` that it rebound (with their final bindings).
        type Changes = HashMap<LocalId, Option<Binding>>;
        let mut arms: Vec<(Block, Value, Changes)> = Vec::new();
        let mut vars: Vec<LocalId> = Vec::new();
        let mut seen = HashSet::new();
        for (b, x) in [(tb, t), (eb, f)] {
            self.switch_to(b);
            let v = self.value(x)?;
            let mut changes = Changes::new();
            for (x, old) in self.env.changed_since(mark) {
                if matches!(old, Some(Binding::Val(_))) {
                    changes.insert(x, self.env.get(x));
                    if seen.insert(x) {
                        vars.push(x);
                    }
                }
            }
            arms.push((self.cur, v, changes));
            self.env.undo(mark);
        }
        let value_in = |arm: &Changes, x: LocalId, env: &Env| -> Option<Binding> {
            arm.get(&x).copied().unwrap_or_else(|| env.get(x))
        };
        let mut differing = Vec::new();
        for &x in &vars {
            let a = value_in(&arms[0].2, x, &self.env);
            let b = value_in(&arms[1].2, x, &self.env);
            if a != b {
                match (a, b) {
                    (Some(Binding::Val(_)), Some(Binding::Val(_))) => differing.push(x),
                    _ => return Err(internal("variable changed representation in an arm")),
                }
            }
        }
        let join = self.f.create_block(Some("join"));
        let result = self.f.append_block_param(join);
        for (end, v, changes) in &arms {
            let mut args = vec![*v];
            for &x in &differing {
                match value_in(changes, x, &self.env) {
                    Some(Binding::Val(w)) => args.push(w),
                    _ => return Err(internal("join argument is not a value")),
                }
            }
            self.f.append_inst(
                *end,
                Op::Br,
                vec![],
                vec![BlockCall::new(join, &args)],
                Loc::NONE,
            );
        }
        self.switch_to(join);
        for &x in &differing {
            let p = self.f.append_block_param(join);
            self.name_value(p, x);
            self.env.set(x, Binding::Val(p));
        }
        // Variables changed identically in both arms keep that value.
        for &x in &vars {
            if !differing.contains(&x) {
                if let Some(b) = value_in(&arms[0].2, x, &self.env) {
                    if self.env.get(x) != Some(b) {
                        self.env.set(x, b);
                    }
                }
            }
        }
        Ok(Some(result))
    }

    // ------------------------------------------------------------ lambdas

    /// `closure @f(captures)` for an escaping lambda.
    fn closure(&mut self, l: &Lambda) -> R<Value> {
        let info = self.info();
        let id = info
            .lam_id(l)
            .ok_or_else(|| internal("unnumbered lambda"))?;
        let lam = &info.lams[id];
        if lam.kind != LamKind::Escaping {
            return Err(internal(format!("{:?} lambda used as a value", lam.kind)));
        }
        let func = self.tl.lam_funcs[id].ok_or_else(|| internal("lambda without function"))?;
        let caps = lam
            .free
            .iter()
            .map(|&x| self.capture_of(x))
            .collect::<R<Vec<Value>>>()?;
        Ok(self.push(Op::Closure(func), &caps))
    }

    // ------------------------------------------------------------ letrec

    fn letrec(
        &mut self,
        e: &'t Expr,
        binds: &'t [(LocalId, Expr)],
        body: &'t Expr,
        cont: Cont,
    ) -> R<Option<Value>> {
        let info = self.info();
        let here: Vec<LocalId> = binds
            .iter()
            .map(|(x, _)| *x)
            .filter(|x| info.var(*x).placement == Some(Placement::AtLetrec))
            .collect();
        for (x, init) in binds {
            let var = info.var(*x);
            match info.fun_kind(*x) {
                Some((_, LamKind::Contified)) => {
                    if let ExprKind::Lambda(l) = &init.kind {
                        self.contified.insert(*x, l);
                    }
                    self.env.set(*x, Binding::Contified);
                }
                Some((id, LamKind::Known)) => self.env.set(*x, Binding::Known(id)),
                _ if var.boxed => {
                    let u = self.push(Op::Undefined, &[]);
                    let b = self.push(Op::MakeBox, &[u]);
                    self.name_box(b, *x);
                    self.env.set(*x, Binding::Boxed(b, var.checked));
                }
                _ => {}
            }
        }
        for (x, init) in binds {
            if matches!(
                self.info().fun_kind(*x),
                Some((_, LamKind::Contified | LamKind::Known))
            ) {
                continue;
            }
            let v = self.value(init)?;
            match self.env.get(*x) {
                Some(Binding::Boxed(b, _)) => {
                    self.name_value(v, *x);
                    self.emit(Op::SetBox, &[b, v], Vec::new(), Loc::NONE);
                }
                _ => {
                    self.name_value(v, *x);
                    self.env.set(*x, Binding::Val(v));
                }
            }
        }
        if here.is_empty() {
            return self.expr(body, cont);
        }
        // The functions placed here are entered only from the body and
        // from each other: their headers (and the join, if any) carry the
        // SSA variables, the letrec's own included, that the letrec may
        // rebind.
        let carried = self.carried_for(&[e]);
        for &x in &here {
            self.make_header(x, &carried)?;
        }
        let (inner, join) = match cont {
            Cont::Value => {
                let j = self.new_join(carried.clone());
                (Cont::Jump(j), Some(j))
            }
            c => (c, None),
        };
        let mark = self.env.mark();
        let r = self.expr(body, inner)?;
        if r.is_some() {
            return Err(internal("letrec body did not end its block"));
        }
        // Entered from the body: in tail position they replace this
        // procedure's frame; otherwise they run above it, entered (for
        // backtraces) at the `letrec`.
        let entry = (inner != Cont::Return).then(|| {
            let l = self.tl.cx.loc(e.span);
            self.site_loc(l)
        });
        for x in here {
            self.env.undo(mark);
            self.lower_contified(x, inner, entry)?;
        }
        self.env.undo(mark);
        match join {
            Some(j) => Ok(Some(self.enter_join(j))),
            None => Ok(None),
        }
    }

    fn contified_lambda(&self, x: LocalId) -> R<&'t Lambda> {
        self.contified
            .get(&x)
            .copied()
            .ok_or_else(|| internal("contified function without lambda"))
    }

    fn make_header(&mut self, x: LocalId, carried: &[LocalId]) -> R<()> {
        let l = self.contified_lambda(x)?;
        let name = self.tl.local_name(x).to_string();
        let block = self.f.create_block(Some(&name));
        for _ in 0..l.params.len() + carried.len() {
            self.f.append_block_param(block);
        }
        self.headers.insert(
            x,
            Header {
                block,
                carried: carried.to_vec(),
            },
        );
        Ok(())
    }

    /// Emits the body of contified function `x` at its header.
    fn lower_contified(&mut self, x: LocalId, cont: Cont, entry: Option<Loc>) -> R<()> {
        let l = self.contified_lambda(x)?;
        let (block, carried) = match self.headers.get(&x) {
            Some(h) => (h.block, h.carried.clone()),
            None => return Err(internal("contified function without header")),
        };
        self.switch_to(block);
        let params = self.f.block(block).params.clone();
        let n = l.params.len();
        for (c, &p) in carried.iter().zip(&params[n..]) {
            self.name_value(p, *c);
            self.env.set(*c, Binding::Val(p));
        }
        for (p, &v) in l.params.iter().zip(&params[..n]) {
            self.bind_var(*p, v);
        }
        // In the interpreter the body runs as its own procedure: above the
        // caller's frame when entered from a non-tail place (`entry`).
        let outer = std::mem::replace(
            &mut self.lexical,
            crate::lower::SiteProc::Proc(l.name.clone()),
        );
        // Entered in tail position, it replaces the frame it was entered
        // from; otherwise it runs above the frame of `entry`.
        let outer_parent = self.lex_parent;
        self.lex_parent = entry.or(outer_parent);
        let r = self.expr(&l.body, cont);
        self.lexical = outer;
        self.lex_parent = outer_parent;
        if r?.is_some() {
            return Err(internal("contified body did not end its block"));
        }
        Ok(())
    }

    /// A non-tail expression where contified functions are placed: it and
    /// their bodies end at a new join.
    fn placed(&mut self, e: &'t Expr, xs: &[LocalId]) -> R<Value> {
        let mut es: Vec<&Expr> = vec![e];
        for &x in xs {
            es.push(&self.contified_lambda(x)?.body);
        }
        let carried = self.carried_for(&es);
        let j = self.new_join(carried.clone());
        for &x in xs {
            self.make_header(x, &carried)?;
        }
        let mark = self.env.mark();
        let r = self.expr_kind(e, Cont::Jump(j))?;
        if r.is_some() {
            return Err(internal("placed expression did not end its block"));
        }
        // The place is the call that enters the functions (as a frame of
        // the procedure around it).
        let entry = self.tl.cx.loc(e.span);
        let entry = self.site_loc(entry);
        for &x in xs {
            self.env.undo(mark);
            self.lower_contified(x, Cont::Jump(j), Some(entry))?;
        }
        self.env.undo(mark);
        Ok(self.enter_join(j))
    }
}

/// A constant whose `eqv?`/`equal?` comparisons are identity (`eq?`).
fn is_eq_comparable_const(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(d) => match &d.kind {
            DatumKind::Int(n) => fits_fixnum(*n),
            DatumKind::Char(_) | DatumKind::Bool(_) | DatumKind::Symbol(_) => true,
            DatumKind::List(items, None) => items.is_empty(),
            _ => false,
        },
        ExprKind::Void => true,
        _ => false,
    }
}

fn datum_to_const(d: &Datum) -> ConstData {
    match &d.kind {
        DatumKind::Int(n) => ConstData::Int(*n),
        DatumKind::Float(x) => ConstData::Float(*x),
        DatumKind::Number(text) => ConstData::Number(text.clone()),
        DatumKind::Bool(b) => ConstData::Bool(*b),
        DatumKind::Char(c) => ConstData::Char(*c),
        DatumKind::Str(s) => ConstData::Str(s.clone()),
        DatumKind::Symbol(s) => ConstData::Symbol(s.clone()),
        DatumKind::List(items, tail) => ConstData::List(
            items.iter().map(datum_to_const).collect(),
            tail.as_ref().map(|t| Box::new(datum_to_const(t))),
        ),
        DatumKind::Vector(items) => ConstData::Vector(items.iter().map(datum_to_const).collect()),
        DatumKind::Bytevector(b) => ConstData::Bytevector(b.clone()),
        // Program source has its labels resolved by the reader (`read_all`);
        // these arms only keep the match total.
        DatumKind::Labeled(_, inner) => datum_to_const(inner),
        DatumKind::LabelRef(_) => ConstData::Bool(false),
    }
}
