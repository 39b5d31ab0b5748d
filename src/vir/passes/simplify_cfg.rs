//! CFG simplification.
//!
//! Input: any valid function. Output:
//! - every block `B` that is the single successor (via `br`) of its single
//!   predecessor `A` is merged into `A` (its parameters replaced by the
//!   branch arguments);
//! - branches to an empty jump block `J` (only `br T(args)`, parameters
//!   used only in that branch) go straight to `T` with the arguments
//!   substituted; `J` is dropped once nothing branches to it. Chains are
//!   threaded one link per run and cycles of empty blocks are left alone.

use crate::analysis::Cfg;
use crate::entity::{Block, Value};
use crate::ir::{Function, Op};
use std::collections::HashMap;

pub fn run(func: &mut Function) -> bool {
    let threaded = thread_jumps(func);
    let merged = merge_blocks(func);
    threaded || merged
}

fn merge_blocks(func: &mut Function) -> bool {
    let mut cfg = Cfg::compute(func);
    let entry = func.entry();
    let mut map: HashMap<Value, Value> = HashMap::new();
    let mut changed = false;
    let mut removed = vec![false; func.blocks.len()];
    let mut bi = 0;
    while bi < func.layout.len() {
        let a = func.layout[bi];
        let Some(t) = func.terminator(a) else {
            bi += 1;
            continue;
        };
        let d = func.inst(t);
        if d.op != Op::Br || d.targets.len() != 1 {
            bi += 1;
            continue;
        }
        let b = d.targets[0].block;
        if b == a || b == entry || cfg.preds(b) != [a] {
            bi += 1;
            continue;
        }
        // Merge `b` into `a`; stay on `a` to merge chains.
        let args = d.targets[0].args.clone();
        for (&p, &v) in func.block(b).params.iter().zip(&args) {
            map.insert(p, v);
        }
        func.block_mut(a).insts.pop();
        let moved = std::mem::take(&mut func.block_mut(b).insts);
        func.block_mut(a).insts.extend(moved);
        func.block_mut(b).params.clear();
        // Dropped from the layout once at the end (a `retain` per merge is
        // quadratic on long chains: docs/architecture.md, "Large
        // programs"); an emptied block is skipped by the loop meanwhile.
        removed[b.index()] = true;
        let succs = std::mem::take(&mut cfg.succs[b.index()]);
        for &s in &succs {
            for p in cfg.preds[s.index()].iter_mut() {
                if *p == b {
                    *p = a;
                }
            }
        }
        cfg.succs[a.index()] = succs;
        cfg.preds[b.index()].clear();
        changed = true;
    }
    if changed {
        func.layout.retain(|&x| !removed[x.index()]);
    }
    func.substitute(&map);
    changed
}

/// If `j` is an empty jump block that can be threaded, its target and
/// branch arguments.
fn forwarding(func: &Function, j: Block, counts: &[u32]) -> Option<(Block, Vec<Value>)> {
    let insts = &func.block(j).insts;
    if insts.len() != 1 || j == func.entry() {
        return None;
    }
    let d = func.inst(insts[0]);
    if d.op != Op::Br || d.targets.len() != 1 || d.targets[0].block == j {
        return None;
    }
    let target = &d.targets[0];
    for &p in &func.block(j).params {
        let local = target.args.iter().filter(|&&a| a == p).count() as u32;
        if counts.get(p.index()).copied().unwrap_or(0) != local {
            return None;
        }
    }
    Some((target.block, target.args.clone()))
}

fn thread_jumps(func: &mut Function) -> bool {
    let counts = func.use_counts();
    let mut fwd: HashMap<Block, (Block, Vec<Value>)> = HashMap::new();
    for &b in &func.layout {
        if let Some(f) = forwarding(func, b, &counts) {
            fwd.insert(b, f);
        }
    }
    if fwd.is_empty() {
        return false;
    }
    let mut changed = false;
    let mut threaded = vec![false; func.blocks.len()];
    for bi in 0..func.layout.len() {
        let p = func.layout[bi];
        let Some(t) = func.terminator(p) else {
            continue;
        };
        for ti in 0..func.inst(t).targets.len() {
            let call = &func.inst(t).targets[ti];
            let Some((target, args)) = fwd.get(&call.block) else {
                continue;
            };
            // One link at a time: a target that forwards too is threaded
            // first, which also keeps cycles of empty blocks from spinning.
            if fwd.contains_key(target) || call.block == p {
                continue;
            }
            let j = call.block;
            let subst: HashMap<Value, Value> = func
                .block(j)
                .params
                .iter()
                .copied()
                .zip(call.args.iter().copied())
                .collect();
            let new_args = args.iter().map(|a| *subst.get(a).unwrap_or(a)).collect();
            let new_target = *target;
            let c = &mut func.inst_mut(t).targets[ti];
            c.block = new_target;
            c.args = new_args;
            threaded[j.index()] = true;
            changed = true;
        }
    }
    if changed {
        let cfg = Cfg::compute(func);
        func.layout
            .retain(|b| !(threaded[b.index()] && cfg.preds(*b).is_empty()));
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;
    use crate::write::print_module;

    fn simplify(text: &str) -> String {
        let mut m = parse_module(text).unwrap();
        while run(&mut m.funcs[0]) {
            crate::verify::verify_module(&m).unwrap();
        }
        print_module(&m)
    }

    #[test]
    fn merges_straight_line_chain() {
        assert_eq!(
            simplify(
                "function @f(%x) arity 1 {
entry:
  br a(%x)
a(%y):
  %0 = cons %y, %y
  br b(%0)
b(%z):
  ret %z
}
"
            ),
            "function @f(%x) arity 1 {
entry:
  %0 = cons %x, %x
  ret %0
}
"
        );
    }

    #[test]
    fn threads_empty_jumps() {
        assert_eq!(
            simplify(
                "function @f(%x) arity 1 {
entry:
  br_if %x, j1(%x), j2()
j1(%p):
  br j2()
j2:
  br join(%x)
join(%r):
  br_if %r, entry2(), join(%r)
entry2:
  ret %r
}
"
            ),
            "function @f(%x) arity 1 {
entry:
  br_if %x, join(%x), join(%x)
join(%r):                   ; preds: entry, join
  br_if %r, entry2(), join(%r)
entry2:                     ; preds: join
  ret %r
}
"
        );
    }

    #[test]
    fn keeps_params_used_downstream_and_cycles() {
        let text = "function @f(%x) arity 1 {
entry:
  br_if %x, j(%x), k()
j(%p):
  br t()
t:                          ; preds: j
  ret %p
k:                          ; preds: entry, l
  br l()
l:                          ; preds: k
  br k()
}
";
        let out = simplify(text);
        // `j` cannot be threaded (its parameter is used in `t`), so the
        // merge pulls `t` into it; the empty `k`/`l` cycle merges into one
        // self-loop.
        assert_eq!(
            out,
            "function @f(%x) arity 1 {
entry:
  br_if %x, j(%x), k()
j(%p):                      ; preds: entry
  ret %p
k:                          ; preds: entry, k
  br k()
}
"
        );
    }
}
