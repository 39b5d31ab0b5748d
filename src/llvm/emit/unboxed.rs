//! Unboxed flonums inside one function (docs/vir.md, "Unboxed flonums in
//! the backend"). VIR values are all tagged; the emitter keeps a `double`
//! beside the values known to be flonums (flonum constants, results of
//! unchecked `fl.*` and `fx.to_fl`) and hands it to the flonum operations
//! that use them, so they do not load it back from the box. A value whose
//! uses are almost all such operations (or arguments of block parameters
//! kept unboxed) is *unboxed*: it has no box at its definition, and the
//! rare use that needs the tagged value (a call, a store, `ret`, a generic
//! slow path) boxes it there. Block parameters that only receive doubles
//! become `double` phis, so loop variables of flonum loops live in
//! registers.

use super::ffi::FfiArg;
use super::function::FnEmitter;
use super::text::{Conv, Weight, V};
use std::collections::{HashMap, HashSet};
use valk_runtime::value::ObjType;
use valk_vir::{
    Block, Cfg, Checked, Cond, FfiTy, FlOp, Function, FxMode, FxOp, InstData, Op, Value,
};

/// The operand text of an unboxed value where a tagged value would be
/// used: not valid LLVM, so a missed boxing fails loudly.
pub(super) const NO_BOX: &str = "%unboxed.flonum.without.box";

/// Does `op` take every operand as a double when one is available (its
/// operand uses then need no box)?
fn takes_doubles(op: &Op) -> bool {
    if let Op::FfiCall(ff) = op {
        return ff
            .args
            .iter()
            .all(|t| matches!(t, FfiTy::Double | FfiTy::Float));
    }
    matches!(
        op,
        Op::Fl(..)
            | Op::FlCmp(..)
            | Op::Fx(FxOp::Add | FxOp::Sub | FxOp::Mul, FxMode::Chk)
            | Op::FxCmp(_, Checked::Yes)
    )
}

/// Does `op` produce a flonum whose double the emitter computes?
fn yields_double(op: &Op) -> bool {
    match op {
        Op::FfiCall(ff) => matches!(ff.ret, FfiTy::Double | FfiTy::Float),
        _ => matches!(op, Op::Fl(_, Checked::No) | Op::FxToFl),
    }
}

/// Rounds of each fixpoint of [`plan`] before it gives up.
const MAX_ROUNDS: usize = 64;

/// Blocks on a cycle of the CFG (a box made there is made per iteration).
/// Functions of many blocks count every block (conservative, and linear).
fn cyclic_blocks(f: &Function, cfg: &Cfg) -> HashSet<Block> {
    if f.layout.len() > 256 {
        return f.layout.iter().copied().collect();
    }
    let mut cyclic = HashSet::new();
    for &b in &f.layout {
        // Is `b` reachable from its own successors?
        let mut seen: HashSet<Block> = HashSet::new();
        let mut stack: Vec<Block> = cfg.succs(b).to_vec();
        while let Some(x) = stack.pop() {
            if x == b {
                cyclic.insert(b);
                break;
            }
            if seen.insert(x) {
                stack.extend_from_slice(cfg.succs(x));
            }
        }
    }
    cyclic
}

/// The values of `f` to keep unboxed: results of unchecked flonum
/// operations and block parameters receiving only doubles, with at most
/// one use needing a box, and that use outside any loop unless it is in
/// the defining block.
pub(super) fn plan(f: &Function) -> HashSet<Value> {
    let cfg = Cfg::compute(f);
    let mut def_block: HashMap<Value, Block> = HashMap::new();
    let mut has_double: HashSet<Value> = HashSet::new();
    let mut cands: HashSet<Value> = HashSet::new();
    for &b in f.layout.iter().skip(1) {
        for &p in &f.block(b).params {
            def_block.insert(p, b);
            cands.insert(p);
        }
    }
    for &b in &f.layout {
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            if let Some(r) = d.result {
                def_block.insert(r, b);
                if yields_double(&d.op) {
                    cands.insert(r);
                    has_double.insert(r);
                } else if matches!(d.op, Op::Flonum(_)) {
                    has_double.insert(r);
                }
            }
        }
    }
    // Parameters: every incoming argument has a double.
    let edges: Vec<(Block, Vec<(Value, Value)>)> = f
        .layout
        .iter()
        .filter_map(|&b| f.terminator(b).map(|t| (b, t)))
        .flat_map(|(b, t)| {
            f.inst(t).targets.iter().map(move |tc| {
                let ps = &f.block(tc.block).params;
                (b, ps.iter().copied().zip(tc.args.iter().copied()).collect())
            })
        })
        .collect();
    // Each round removes a parameter; bounded, giving up (no unboxing)
    // rather than spending quadratic time on huge functions.
    for round in 0.. {
        if round > MAX_ROUNDS {
            return HashSet::new();
        }
        let mut changed = false;
        for (_, pairs) in &edges {
            for &(p, a) in pairs {
                let ok = has_double.contains(&a) || (is_param(f, a) && cands.contains(&a));
                if cands.contains(&p) && !ok {
                    cands.remove(&p);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let cyclic = cyclic_blocks(f, &cfg);
    // Drop candidates with uses needing a box, until stable (dropping a
    // parameter makes its arguments' uses boxed ones).
    for round in 0.. {
        if round > MAX_ROUNDS {
            return HashSet::new();
        }
        let mut boxed: HashMap<Value, (u32, bool)> = HashMap::new();
        let mut note = |v: Value, at: Block, n: u32| {
            let e = boxed.entry(v).or_insert((0, true));
            e.0 += n;
            let home = def_block.get(&v) == Some(&at);
            e.1 &= home || !cyclic.contains(&at);
        };
        for &b in &f.layout {
            for &i in &f.block(b).insts {
                let d = f.inst(i);
                if !takes_doubles(&d.op) {
                    for &a in &d.args {
                        // Aliases (`copy`, `cast`, `type_check`) would
                        // need the box under another name: never unbox.
                        let n = if matches!(d.op, Op::Copy | Op::Cast(_) | Op::TypeCheck(..)) {
                            1000
                        } else {
                            1
                        };
                        note(a, b, n);
                    }
                }
            }
        }
        for (b, pairs) in &edges {
            for &(p, a) in pairs {
                if !cands.contains(&p) {
                    note(a, *b, 1);
                }
            }
        }
        let before = cands.len();
        cands.retain(|v| boxed.get(v).is_none_or(|&(n, ok)| n <= 1 && ok));
        if cands.len() == before {
            break;
        }
        // Parameters whose arguments lost their double: a parameter's
        // argument keeps its double even when boxed, unless it is a
        // parameter itself.
        for round in 0.. {
            if round > MAX_ROUNDS {
                return HashSet::new();
            }
            let mut changed = false;
            for (_, pairs) in &edges {
                for &(p, a) in pairs {
                    if cands.contains(&p) && is_param(f, a) && !cands.contains(&a) {
                        cands.remove(&p);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
    cands
}

fn is_param(f: &Function, v: Value) -> bool {
    matches!(f.value_def(v), valk_vir::ValueDef::Param(..))
}

impl FnEmitter<'_, '_, '_> {
    /// Marks the unboxed block parameters: their phis are doubles.
    pub(super) fn start_unboxed(&mut self) {
        self.unboxed = plan(self.f);
        for &v in &self.unboxed {
            if is_param(self.f, v) {
                self.dbl.insert(v, format!("%v{}", v.0));
                self.names[v.index()] = NO_BOX.into();
            }
        }
    }

    /// The LLVM type of the phi of block parameter `p`.
    pub(super) fn param_type(&self, p: Value) -> &'static str {
        if self.unboxed.contains(&p) {
            "double"
        } else {
            V
        }
    }

    /// The tagged operand of `v`, boxing an unboxed flonum here.
    pub(super) fn boxed_op(&mut self, v: Value) -> String {
        if self.unboxed.contains(&v) {
            if let Some(d) = self.dbl.get(&v).cloned() {
                return self.box_flonum(&d);
            }
        }
        self.op(v)
    }

    /// The operand of argument `a` passed to block parameter `p`.
    pub(super) fn edge_arg(&mut self, p: Value, a: Value) -> String {
        if self.unboxed.contains(&p) {
            if let Some(d) = self.dbl.get(&a) {
                return d.clone();
            }
        }
        self.boxed_op(a)
    }

    /// The double of `v`, which is a flonum.
    fn double_of(&mut self, v: Value) -> String {
        match self.dbl.get(&v) {
            Some(d) => d.clone(),
            None => {
                let b = self.op(v);
                self.load_double(&b)
            }
        }
    }

    /// The double of operand `v` of a checked operation: its own double,
    /// or its box's after a type test; with `generic`, a fixnum converts
    /// (with `exact`, only one of at most 53 bits). Others go to `lrt`.
    fn checked_double(&mut self, v: Value, generic: bool, exact: bool, lrt: &str) -> String {
        if let Some(d) = self.dbl.get(&v) {
            return d.clone();
        }
        let b = self.op(v);
        let bi = self.int(&b);
        let t = self.heap_type_test(&b, &bi, ObjType::Flonum);
        let (lfl, lnot, lj) = (self.label(), self.label(), self.label());
        self.br_if(&t, &lfl, &lnot, Weight::Likely);
        self.start_block(&lfl);
        let x1 = self.load_double(&b);
        let e1 = self.cur.clone();
        self.br(&lj);
        self.start_block(&lnot);
        if !generic {
            self.br(lrt);
            self.start_block(&lj);
            return x1;
        }
        let fx = self.convertible_fixnum(&bi, exact);
        let lconv = self.label();
        self.br_if(&fx, &lconv, lrt, Weight::Likely);
        self.start_block(&lconv);
        let n = self.bin("ashr", &bi, 3);
        let x2 = self.def(format!("sitofp i64 {n} to double"));
        let e2 = self.cur.clone();
        self.br(&lj);
        self.start_block(&lj);
        self.phi("double", &[(&x1, &e1), (&x2, &e2)])
    }

    /// Emits `d` when it computes on doubles (an operand or the result
    /// has one); returns false to leave it to the ordinary dispatch.
    pub(super) fn flonum_inst(&mut self, d: &InstData) -> bool {
        let Some(r) = d.result else { return false };
        let any_double = d.args.iter().any(|a| self.dbl.contains_key(a));
        match d.op {
            Op::Flonum(bits) => {
                self.dbl.insert(r, format!("0x{bits:016X}"));
                false
            }
            Op::FxToFl => {
                let x = self.op(d.args[0]);
                let xi = self.int(&x);
                let n = self.bin("ashr", &xi, 3);
                let t = self.def(format!("sitofp i64 {n} to double"));
                self.set_double_result(r, t);
                true
            }
            Op::Fl(op, Checked::No) => {
                let x = self.double_of(d.args[0]);
                let y = self.double_of(d.args[1]);
                let t = self.def(format!("{} double {x}, {y}", fl_inst(op)));
                self.set_double_result(r, t);
                true
            }
            Op::FlCmp(c, Checked::No) if any_double => {
                let x = self.double_of(d.args[0]);
                let y = self.double_of(d.args[1]);
                let t = self.def(format!(
                    "fcmp {} double {x}, {y}",
                    super::arith::fcmp_pred(c)
                ));
                let b = self.bool_of(&t);
                self.names[r.index()] = b;
                true
            }
            // A foreign call takes the doubles of its real arguments and
            // gives the double of a real result (docs/vir.md, "Foreign
            // calls").
            Op::FfiCall(ref ff) => {
                let real = |t: &FfiTy| matches!(t, FfiTy::Double | FfiTy::Float);
                let takes = ff
                    .args
                    .iter()
                    .zip(&d.args)
                    .any(|(t, a)| real(t) && self.dbl.contains_key(a));
                if !takes && !real(&ff.ret) {
                    return false;
                }
                let args: Vec<FfiArg> = ff
                    .args
                    .iter()
                    .zip(&d.args)
                    .map(|(t, &a)| match self.dbl.get(&a) {
                        Some(x) if real(t) => FfiArg::Double(x.clone()),
                        _ => FfiArg::Boxed(self.boxed_op(a)),
                    })
                    .collect();
                let raw = self.ffi_call_raw(ff, &args);
                match ff.ret {
                    FfiTy::Double => self.set_double_result(r, raw),
                    FfiTy::Float => {
                        let x = self.def(format!("fpext float {raw} to double"));
                        self.set_double_result(r, x)
                    }
                    t => {
                        let v = self.ffi_result(t, &raw);
                        self.names[r.index()] = v;
                    }
                }
                true
            }
            Op::Fl(_, Checked::Yes)
            | Op::FlCmp(_, Checked::Yes)
            | Op::Fx(FxOp::Add | FxOp::Sub | FxOp::Mul, FxMode::Chk)
            | Op::FxCmp(_, Checked::Yes)
                if any_double =>
            {
                self.checked_with_doubles(d, r);
                true
            }
            _ => false,
        }
    }

    /// Records the double `t` of result `r`, boxing it unless unboxed.
    fn set_double_result(&mut self, r: Value, t: String) {
        self.dbl.insert(r, t.clone());
        self.names[r.index()] = if self.unboxed.contains(&r) {
            NO_BOX.into()
        } else {
            self.box_flonum(&t)
        };
    }

    /// A checked flonum or generic operation with at least one operand
    /// that is a double (so the fixnum path cannot apply): the other
    /// operand is tested in line, anything else calls the runtime with
    /// the operands boxed.
    fn checked_with_doubles(&mut self, d: &InstData, r: Value) {
        let (a, b) = (d.args[0], d.args[1]);
        let lrt = self.label();
        let (generic, exact) = match d.op {
            Op::Fx(..) => (true, false),
            Op::FxCmp(..) => (true, true),
            _ => (false, false),
        };
        let x = self.checked_double(a, generic, exact, &lrt);
        let y = self.checked_double(b, generic, exact, &lrt);
        let (fast, callee, code) = match d.op {
            Op::Fl(op, _) => {
                let t = self.def(format!("{} double {x}, {y}", fl_inst(op)));
                (self.box_flonum(&t), "@valk_rt_fl_arith", fl_index(op))
            }
            Op::FlCmp(c, _) => {
                let t = self.def(format!(
                    "fcmp {} double {x}, {y}",
                    super::arith::fcmp_pred(c)
                ));
                (self.bool_of(&t), "@valk_rt_fl_compare", cond_index(c))
            }
            Op::Fx(op, _) => {
                let fop = match op {
                    FxOp::Add => FlOp::Add,
                    FxOp::Sub => FlOp::Sub,
                    _ => FlOp::Mul,
                };
                let t = self.def(format!("{} double {x}, {y}", fl_inst(fop)));
                let code = FxOp::ALL.iter().position(|&o| o == op).unwrap_or(0);
                (self.box_flonum(&t), "@valk_rt_arith", code)
            }
            Op::FxCmp(c, _) => {
                let t = self.def(format!(
                    "fcmp {} double {x}, {y}",
                    super::arith::fcmp_pred(c)
                ));
                (self.bool_of(&t), "@valk_rt_compare", cond_index(c))
            }
            _ => unreachable!("checked_with_doubles on {}", d.op.mnemonic()),
        };
        let ljoin = self.label();
        let fast_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&lrt);
        let ab = self.boxed_op(a);
        let bb = self.boxed_op(b);
        let slow = self.call(Conv::C, callee, &format!("i64 {code}, {V} {ab}, {V} {bb}"));
        let slow_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&ljoin);
        let res = self.phi(V, &[(&fast, &fast_end), (&slow, &slow_end)]);
        self.names[r.index()] = res;
    }
}

fn fl_inst(op: FlOp) -> &'static str {
    match op {
        FlOp::Add => "fadd",
        FlOp::Sub => "fsub",
        FlOp::Mul => "fmul",
        FlOp::Div => "fdiv",
    }
}

fn fl_index(op: FlOp) -> usize {
    FlOp::ALL.iter().position(|&x| x == op).unwrap_or(0)
}

fn cond_index(c: Cond) -> usize {
    Cond::ALL.iter().position(|&x| x == c).unwrap_or(0)
}
