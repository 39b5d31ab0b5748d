//! Type inference over VIR, and the rewrites it proves safe.
//!
//! Input: any valid function. Output: the same function where
//! - `type_check.T %x` whose operand is proven to have type `T` is a
//!   `copy %x` (copy propagation then removes it);
//! - `type_is.T %x` whose answer is known is a `bool` constant;
//! - `fx.OP.chk` (`add`, `sub`, `mul`) on two proven flonums is the
//!   unchecked `fl.OP`, and on two proven fixnums `fx.OP.ovf`;
//! - `fx.CC.chk` on two proven flonums is `fl.CC`, on two proven fixnums
//!   `fx.CC`.
//!
//! A checked operation with only one operand proven a flonum stays generic:
//! `fl.OP.chk` would report a wrong operand as "expected a flonum" where
//! the generic operation says "expected a number" (docs/errors.md).
//!
//! The facts: each SSA value gets the set of kinds it may have (a bit
//! mask, see [`K_FX`] ...), from constants, the results of `fl.*`, `cons`,
//! allocations, closures, unchecked fixnum operations and comparisons;
//! block parameters join the arguments of every incoming edge, solved
//! optimistically to a fixpoint over the CFG (so loop variables that start
//! and stay flonums are flonums). Within the region dominated by a
//! `type_check.T %x`, or by the edge of a `br_if` on `type_is.T %x`, uses
//! of `%x` are narrowed to `T` (or to not-`T` on the false edge).

use crate::analysis::{Cfg, DomTree};
use crate::entity::{Block, Value};
use crate::ir::{Checked, FfiTy, FlOp, Function, FxMode, FxOp, ObjKind, Op, Ty, ValueDef};
use std::collections::{HashMap, HashSet};

// Kinds of values (one bit each).
const K_FX: u32 = 1 << 0;
const K_FL: u32 = 1 << 1;
/// Bignums, exact rationals, complex numbers.
const K_ONUM: u32 = 1 << 2;
const K_PAIR: u32 = 1 << 3;
const K_NULL: u32 = 1 << 4;
const K_BOOL: u32 = 1 << 5;
const K_CHAR: u32 = 1 << 6;
const K_STR: u32 = 1 << 7;
const K_SYM: u32 = 1 << 8;
const K_VEC: u32 = 1 << 9;
const K_BV: u32 = 1 << 10;
const K_PROC: u32 = 1 << 11;
const K_BOX: u32 = 1 << 12;
const K_REC: u32 = 1 << 13;
/// Anything else (unspecified, ports, hash tables, ...).
const K_OTHER: u32 = 1 << 14;
const TOP: u32 = (1 << 15) - 1;
const NUMBER: u32 = K_FX | K_FL | K_ONUM;

/// The kinds every value of which has type `t` (a value of these kinds
/// passes `type_check.t`).
fn sure(t: Ty) -> u32 {
    match t {
        // Conservative: whether `number` tests accept the other numbers
        // is the backend's business.
        Ty::Number => K_FX | K_FL,
        _ => may(t),
    }
}

/// The kinds a value of type `t` may have.
fn may(t: Ty) -> u32 {
    match t {
        Ty::Fixnum => K_FX,
        Ty::Flonum => K_FL,
        Ty::Number => NUMBER,
        Ty::Pair => K_PAIR,
        Ty::Null => K_NULL,
        Ty::Boolean => K_BOOL,
        Ty::Char => K_CHAR,
        Ty::String => K_STR,
        Ty::Symbol => K_SYM,
        Ty::Vector => K_VEC,
        Ty::Bytevector => K_BV,
        Ty::Procedure => K_PROC,
        Ty::Box => K_BOX,
        Ty::Record => K_REC,
    }
}

/// Is mask `m` non-empty and within `within`?
fn proven(m: u32, within: u32) -> bool {
    m != 0 && m & !within == 0
}

/// A narrowing of a value's kinds in a region of the function.
type Narrowing = (Value, u32);

struct Facts {
    /// Kinds per value (0: no definition reached yet).
    kinds: Vec<u32>,
    /// Narrowings established by a block (the edge into it, then its
    /// `type_check`s), applying to the blocks it dominates.
    block_narrow: HashMap<Block, Vec<Narrowing>>,
    /// Values that have a narrowing anywhere (the others skip the search).
    narrowed: HashSet<Value>,
}

impl Facts {
    /// The kinds of `v` at a use in block `b`, with `local` the narrowings
    /// of `b` seen so far.
    fn at(&self, v: Value, b: Block, local: &[Narrowing], dom: &DomTree) -> u32 {
        let mut m = self.kinds[v.index()];
        if !self.narrowed.contains(&v) {
            return m;
        }
        for &(w, n) in local {
            if w == v {
                m &= n;
            }
        }
        let mut cur = dom.idom(b);
        while let Some(d) = cur {
            if let Some(ns) = self.block_narrow.get(&d) {
                for &(w, n) in ns {
                    if w == v {
                        m &= n;
                    }
                }
            }
            cur = dom.idom(d);
        }
        m
    }
}

/// The narrowing on the edge into `b`, when its only predecessor branches
/// on `type_is.T %x` (and reaches `b` on one side only).
fn edge_narrowing(func: &Function, cfg: &Cfg, b: Block) -> Option<Narrowing> {
    let [p] = cfg.preds(b) else { return None };
    let t = func.inst(func.terminator(*p)?);
    if t.op != Op::BrIf || t.targets.len() != 2 || t.targets[0].block == t.targets[1].block {
        return None;
    }
    let c = *t.args.first()?;
    let ValueDef::Result(ci) = func.value_def(c) else {
        return None;
    };
    let cd = func.inst(ci);
    let Op::TypeIs(ty) = cd.op else { return None };
    let x = *cd.args.first()?;
    if t.targets[0].block == b {
        Some((x, may(ty)))
    } else {
        Some((x, !sure(ty)))
    }
}

/// The kinds of the result of `op` on operands of kinds `a`.
fn transfer(op: &Op, a: &[u32]) -> u32 {
    let arg = |i: usize| a.get(i).copied().unwrap_or(TOP);
    match op {
        Op::Fixnum(_) => K_FX,
        Op::Flonum(_) => K_FL,
        Op::Char(_) => K_CHAR,
        Op::Bool(_) => K_BOOL,
        Op::Nil => K_NULL,
        Op::Unspecified | Op::Undefined => K_OTHER,
        Op::Copy => arg(0),
        Op::TypeTag => K_FX,
        Op::TypeIs(_)
        | Op::ProcIs(_)
        | Op::Intact(_)
        | Op::FxCmp(..)
        | Op::FlCmp(..)
        | Op::Eq
        | Op::Not => K_BOOL,
        Op::TypeCheck(t, _) | Op::Cast(t) => arg(0) & may(*t),
        Op::Fx(op, mode) => match mode {
            FxMode::Plain => K_FX,
            FxMode::Ovf => K_FX | K_ONUM,
            FxMode::Chk => {
                let (x, y) = (arg(0), arg(1));
                let arith = matches!(op, FxOp::Add | FxOp::Sub | FxOp::Mul);
                // A flonum with a fixnum or a flonum gives a flonum.
                if arith
                    && ((proven(x, K_FL) && proven(y, K_FX | K_FL))
                        || (proven(y, K_FL) && proven(x, K_FX | K_FL)))
                {
                    K_FL
                } else if proven(x, K_FX) && proven(y, K_FX) {
                    K_FX | K_ONUM
                } else {
                    NUMBER
                }
            }
        },
        Op::FxToFl | Op::Fl(..) => K_FL,
        Op::Alloc(ObjKind::Pair, _) | Op::Cons => K_PAIR,
        Op::Alloc(ObjKind::Vector, _) => K_VEC,
        Op::Closure(_) => K_PROC,
        Op::VectorLength | Op::StringLength => K_FX,
        // The result kinds of C types (docs/vir.md, "Foreign calls").
        Op::FfiCall(ff) => match ff.ret {
            FfiTy::Double | FfiTy::Float => K_FL,
            FfiTy::I8 | FfiTy::I16 | FfiTy::I32 | FfiTy::U8 | FfiTy::U16 | FfiTy::U32 => K_FX,
            FfiTy::Bool => K_BOOL,
            _ => TOP,
        },
        _ => TOP,
    }
}

/// Solve the facts of `func` (optimistic fixpoint in reverse postorder).
fn infer(func: &Function, cfg: &Cfg, dom: &DomTree) -> Facts {
    let mut facts = Facts {
        kinds: vec![0; func.values.len()],
        block_narrow: HashMap::new(),
        narrowed: HashSet::new(),
    };
    for &p in func.params() {
        facts.kinds[p.index()] = TOP;
    }
    // The narrowings do not depend on the facts: collect them once.
    for &b in dom.rpo() {
        let mut ns: Vec<Narrowing> = edge_narrowing(func, cfg, b).into_iter().collect();
        for &i in &func.block(b).insts {
            let d = func.inst(i);
            if let Op::TypeCheck(t, _) = d.op {
                ns.push((d.args[0], may(t)));
            }
        }
        for &(v, _) in &ns {
            facts.narrowed.insert(v);
        }
        if !ns.is_empty() {
            facts.block_narrow.insert(b, ns);
        }
    }
    loop {
        let mut changed = false;
        for &b in dom.rpo() {
            let mut local: Vec<Narrowing> = edge_narrowing(func, cfg, b).into_iter().collect();
            for &i in &func.block(b).insts {
                let d = func.inst(i);
                let ks: Vec<u32> = d
                    .args
                    .iter()
                    .map(|&v| facts.at(v, b, &local, dom))
                    .collect();
                if let Some(r) = d.result {
                    let k = transfer(&d.op, &ks);
                    let old = facts.kinds[r.index()];
                    if old | k != old {
                        facts.kinds[r.index()] = old | k;
                        changed = true;
                    }
                }
                if let Op::TypeCheck(t, _) = d.op {
                    local.push((d.args[0], may(t)));
                }
                for tc in &d.targets {
                    let params = &func.block(tc.block).params;
                    for (&p, &a) in params.iter().zip(&tc.args) {
                        let k = facts.at(a, b, &local, dom);
                        let old = facts.kinds[p.index()];
                        if old | k != old {
                            facts.kinds[p.index()] = old | k;
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            return facts;
        }
    }
}

fn fl_op(op: FxOp) -> Option<FlOp> {
    match op {
        FxOp::Add => Some(FlOp::Add),
        FxOp::Sub => Some(FlOp::Sub),
        FxOp::Mul => Some(FlOp::Mul),
        _ => None,
    }
}

pub fn run(func: &mut Function) -> bool {
    let cfg = Cfg::compute(func);
    let dom = DomTree::compute(func, &cfg);
    let facts = infer(func, &cfg, &dom);
    let mut changed = false;
    for &b in dom.rpo() {
        let mut local: Vec<Narrowing> = edge_narrowing(func, &cfg, b).into_iter().collect();
        for i in func.block(b).insts.clone() {
            let d = func.inst(i);
            let ks: Vec<u32> = d
                .args
                .iter()
                .map(|&v| facts.at(v, b, &local, &dom))
                .collect();
            let kind = |j: usize| ks.get(j).copied().unwrap_or(TOP);
            let new_op = match &d.op {
                Op::TypeCheck(t, _) => {
                    local.push((d.args[0], may(*t)));
                    proven(kind(0), sure(*t)).then_some(Op::Copy)
                }
                Op::TypeIs(t) => {
                    let k = kind(0);
                    if proven(k, sure(*t)) {
                        Some(Op::Bool(true))
                    } else if k != 0 && k & may(*t) == 0 {
                        Some(Op::Bool(false))
                    } else {
                        None
                    }
                }
                Op::Fx(op, FxMode::Chk) => {
                    if proven(kind(0), K_FL) && proven(kind(1), K_FL) {
                        fl_op(*op).map(|f| Op::Fl(f, Checked::No))
                    } else if proven(kind(0), K_FX) && proven(kind(1), K_FX) {
                        Some(Op::Fx(*op, FxMode::Ovf))
                    } else {
                        None
                    }
                }
                Op::FxCmp(c, Checked::Yes) => {
                    if proven(kind(0), K_FL) && proven(kind(1), K_FL) {
                        Some(Op::FlCmp(*c, Checked::No))
                    } else if proven(kind(0), K_FX) && proven(kind(1), K_FX) {
                        Some(Op::FxCmp(*c, Checked::No))
                    } else {
                        None
                    }
                }
                Op::Fl(op, Checked::Yes) if proven(kind(0), K_FL) && proven(kind(1), K_FL) => {
                    Some(Op::Fl(*op, Checked::No))
                }
                Op::FlCmp(c, Checked::Yes) if proven(kind(0), K_FL) && proven(kind(1), K_FL) => {
                    Some(Op::FlCmp(*c, Checked::No))
                }
                _ => None,
            };
            if let Some(op) = new_op {
                let d = func.inst_mut(i);
                if matches!(op, Op::Bool(_)) {
                    d.args.clear();
                } else if op == Op::Copy {
                    d.args.truncate(1);
                }
                d.op = op;
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert!(proven(K_FL, sure(Ty::Flonum)));
        assert!(!proven(0, sure(Ty::Flonum)));
        assert!(!proven(K_ONUM, sure(Ty::Number)));
        assert!(proven(K_ONUM, may(Ty::Number)));
        assert_eq!(TOP & NUMBER, NUMBER);
    }
}
