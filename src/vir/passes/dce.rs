//! Dead-code elimination (mark and sweep over values).
//!
//! Input: any valid function. Output: every pure instruction (see
//! `Op::is_pure`) whose result is not needed is removed, and so is every
//! non-entry block parameter that is not needed, with its arguments in
//! every branch. A value is needed when an impure instruction or a
//! terminator uses it as an operand, when a needed instruction uses it,
//! or when it is passed to a needed block parameter — so dead cycles
//! through loop parameters go too.

use crate::entity::{Block, Value};
use crate::ir::{Function, ValueDef};

pub fn run(func: &mut Function) -> bool {
    let inst_blocks = func.inst_blocks();
    let mut live = vec![false; func.values.len()];
    let mut work: Vec<Value> = Vec::new();
    let mark = |v: Value, live: &mut Vec<bool>, work: &mut Vec<Value>| {
        if let Some(l) = live.get_mut(v.index()) {
            if !*l {
                *l = true;
                work.push(v);
            }
        }
    };
    // Incoming branch arguments per (block, parameter index).
    let mut incoming: Vec<Vec<Vec<Value>>> = func
        .blocks
        .iter()
        .map(|b| vec![Vec::new(); b.params.len()])
        .collect();
    for &b in &func.layout {
        for &i in &func.block(b).insts {
            let d = func.inst(i);
            for c in &d.targets {
                for (k, &a) in c.args.iter().enumerate() {
                    if let Some(slot) = incoming.get_mut(c.block.index()).and_then(|p| p.get_mut(k))
                    {
                        slot.push(a);
                    }
                }
            }
            if !d.op.is_pure() {
                for &a in &d.args {
                    mark(a, &mut live, &mut work);
                }
            }
        }
    }
    for &p in func.params() {
        mark(p, &mut live, &mut work);
    }
    while let Some(v) = work.pop() {
        match func.values[v.index()].def {
            ValueDef::Result(i) => {
                if inst_blocks.get(i.index()).copied().flatten().is_some() {
                    for &a in &func.inst(i).args {
                        mark(a, &mut live, &mut work);
                    }
                }
            }
            ValueDef::Param(b, k) => {
                let args = incoming
                    .get_mut(b.index())
                    .and_then(|p| p.get_mut(k))
                    .map(std::mem::take)
                    .unwrap_or_default();
                for a in args {
                    mark(a, &mut live, &mut work);
                }
            }
        }
    }
    let mut changed = false;
    // Sweep instructions.
    for bi in 0..func.layout.len() {
        let b = func.layout[bi];
        let insts = std::mem::take(&mut func.blocks[b.index()].insts);
        let before = insts.len();
        let kept: Vec<_> = insts
            .into_iter()
            .filter(|&i| {
                let d = func.inst(i);
                !(d.op.is_pure() && d.result.is_some_and(|r| !live[r.index()]))
            })
            .collect();
        changed |= kept.len() != before;
        func.blocks[b.index()].insts = kept;
    }
    // Sweep parameters, last first so indices stay valid.
    let blocks: Vec<Block> = func.layout.iter().skip(1).copied().collect();
    for b in blocks {
        for k in (0..func.block(b).params.len()).rev() {
            if !live[func.block(b).params[k].index()] {
                func.remove_block_param(b, k);
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;
    use crate::write::print_module;

    #[test]
    fn removes_dead_pure_code_only() {
        let mut m = parse_module(
            "global $g

function @f(%x) arity 1 {
entry:
  %0 = fixnum 1
  %1 = fx.add %x, %0
  %2 = cons %1, %1
  %3 = fx.quo %x, %0
  %4 = global_get.chk $g
  %5 = global_get $g
  %6 = call_runtime \"display\"(%x)
  br loop(%x, %0)
loop(%i, %dead):
  %7 = fx.add %dead, %dead
  br_if %i, loop(%i, %7), out()
out:
  ret %x
}
",
        )
        .unwrap();
        assert!(run(&mut m.funcs[0]));
        crate::verify::verify_module(&m).unwrap();
        assert_eq!(
            print_module(&m),
            "global $g

function @f(%x) arity 1 {
entry:
  %0 = fixnum 1
  %1 = fx.quo %x, %0
  %2 = global_get.chk $g
  %3 = call_runtime \"display\"(%x)
  br loop(%x)
loop(%i):                   ; preds: entry, loop
  br_if %i, loop(%i), out()
out:                        ; preds: loop
  ret %x
}
"
        );
        assert!(!run(&mut m.funcs[0]));
    }
}
