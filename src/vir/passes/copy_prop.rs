//! Copy propagation.
//!
//! Input: any valid function. Output: no `copy` instructions (uses of a
//! copy's result use its operand) and no trivial block parameters: a
//! parameter whose incoming arguments are all one value `v` (or the
//! parameter itself, around a loop) is replaced by `v` and removed,
//! together with its arguments in every branch. Only blocks reachable from
//! the entry are simplified: there the unique incoming value dominates the
//! block, while in unreachable code it need not even be defined before it.

use crate::analysis::{reverse_postorder, Cfg};
use crate::entity::{Block, Value};
use crate::ir::{Function, Op, ValueDef};
use std::collections::{HashMap, HashSet};

pub fn run(func: &mut Function) -> bool {
    let mut map: HashMap<Value, Value> = HashMap::new();
    let resolve = |map: &HashMap<Value, Value>, mut v: Value| {
        while let Some(&w) = map.get(&v) {
            if w == v {
                break;
            }
            v = w;
        }
        v
    };
    // 1. Copies.
    let mut changed = false;
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            let d = func.inst(i);
            if d.op == Op::Copy && d.args.len() == 1 {
                if let Some(r) = d.result {
                    map.insert(r, d.args[0]);
                }
            }
        }
    }
    // 2. Trivial block parameters, to a fixpoint.
    let inst_blocks = func.inst_blocks();
    let def_block = |func: &Function, v: Value| match func.values.get(v.index()).map(|d| d.def) {
        Some(ValueDef::Param(b, _)) => Some(b),
        Some(ValueDef::Result(i)) => inst_blocks.get(i.index()).copied().flatten(),
        None => None,
    };
    // Removing parameters does not change edges, so this stays valid.
    let cfg = Cfg::compute(func);
    let reachable: HashSet<Block> = reverse_postorder(func, &cfg).into_iter().collect();
    loop {
        let mut round = false;
        for bi in 1..func.layout.len() {
            let b = func.layout[bi];
            if !reachable.contains(&b) {
                continue;
            }
            let mut k = 0;
            while k < func.block(b).params.len() {
                let p = func.block(b).params[k];
                let incoming = incoming_args(func, &cfg, b, k);
                let mut unique: Option<Value> = None;
                let mut trivial = !incoming.is_empty();
                for v in incoming {
                    let v = resolve(&map, v);
                    if v == p || unique == Some(v) {
                        continue;
                    }
                    if unique.is_some() {
                        trivial = false;
                        break;
                    }
                    unique = Some(v);
                }
                match unique {
                    // A value defined in `b` itself can only reach here
                    // around a loop from unreachable code; leave it.
                    Some(v) if trivial && def_block(func, v) != Some(b) => {
                        map.insert(p, v);
                        remove_param(func, &cfg, b, k);
                        round = true;
                    }
                    _ => k += 1,
                }
            }
        }
        if !round {
            break;
        }
        changed = true;
    }
    if map.is_empty() {
        return changed;
    }
    func.substitute(&map);
    for bi in 0..func.layout.len() {
        let b = func.layout[bi];
        let insts = std::mem::take(&mut func.blocks[b.index()].insts);
        let kept: Vec<_> = insts
            .into_iter()
            .filter(|&i| func.inst(i).op != Op::Copy)
            .collect();
        func.blocks[b.index()].insts = kept;
    }
    true
}

/// The distinct predecessors of `b`. Only they branch to `b`: looking at
/// them instead of every block keeps the pass linear on functions with
/// thousands of blocks (docs/architecture.md, "Large programs").
fn preds(cfg: &Cfg, b: Block) -> Vec<Block> {
    let mut ps = cfg.preds(b).to_vec();
    ps.sort_unstable_by_key(|p| p.index());
    ps.dedup();
    ps
}

/// The arguments passed to parameter `k` of `b` by every branch to it.
fn incoming_args(func: &Function, cfg: &Cfg, b: Block, k: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for from in preds(cfg, b) {
        if let Some(t) = func.terminator(from) {
            for c in &func.inst(t).targets {
                if c.block == b {
                    if let Some(&v) = c.args.get(k) {
                        out.push(v);
                    }
                }
            }
        }
    }
    out
}

/// `Function::remove_block_param` restricted to the branches of `b`'s
/// predecessors (the same result, without visiting every block).
fn remove_param(func: &mut Function, cfg: &Cfg, b: Block, idx: usize) {
    func.blocks[b.index()].params.remove(idx);
    for (n, &p) in func.blocks[b.index()].params.iter().enumerate().skip(idx) {
        func.values[p.index()].def = ValueDef::Param(b, n);
    }
    for from in preds(cfg, b) {
        if let Some(t) = func.terminator(from) {
            for c in func.insts[t.index()].targets.iter_mut() {
                if c.block == b && idx < c.args.len() {
                    c.args.remove(idx);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;
    use crate::write::print_module;

    #[test]
    fn removes_copies_and_trivial_params() {
        let mut m = parse_module(
            "function @f(%x) arity 1 {
entry:
  %0 = copy %x
  %1 = copy %0
  br loop(%1, %x)
loop(%i, %j):
  %2 = fx.add %i, %j
  br_if %2, loop(%i, %2), done(%i)
done(%r):
  ret %r
}
",
        )
        .unwrap();
        assert!(run(&mut m.funcs[0]));
        crate::verify::verify_module(&m).unwrap();
        assert_eq!(
            print_module(&m),
            "function @f(%x) arity 1 {
entry:
  br loop(%x)
loop(%j):                   ; preds: entry, loop
  %0 = fx.add %x, %j
  br_if %0, loop(%0), done()
done:                       ; preds: loop
  ret %x
}
"
        );
        assert!(!run(&mut m.funcs[0]));
    }
}
