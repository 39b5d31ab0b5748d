//! Whole-program pruning (a module-level VIR pass): top-level forms that
//! only define globals nobody reads are dropped (most of the prelude, for
//! a typical program), and only functions reachable from the remaining
//! top-level forms are compiled.
//!
//! Input: a whole program's module and its top-level forms in order.
//! Output ([`prune_toplevels`], the entry point): the forms worth running;
//! the module is not changed. [`reachable_functions`] tells the backend
//! which functions those forms can reach.

use crate::{Checked, FuncId, Module, Op};

/// The functions reachable from `roots` through calls, closures and
/// continuation bodies (indexed by `FuncId`).
pub fn reachable_functions(m: &Module, roots: &[FuncId]) -> Vec<bool> {
    let mut live = vec![false; m.funcs.len()];
    let mut stack: Vec<FuncId> = roots.to_vec();
    while let Some(f) = stack.pop() {
        if f.index() >= live.len() || std::mem::replace(&mut live[f.index()], true) {
            continue;
        }
        let func = m.func(f);
        for &b in &func.layout {
            for &i in &func.block(b).insts {
                if let Some(g) = func.inst(i).op.func_ref() {
                    stack.push(g);
                }
            }
        }
    }
    live
}

/// The globals a top-level form defines if all it does is define them
/// (pure instructions and `global_set` only); `None` if it has any other
/// effect.
fn only_defines(m: &Module, top: FuncId) -> Option<Vec<usize>> {
    let f = m.func(top);
    let mut defs = Vec::new();
    for &b in &f.layout {
        for &i in &f.block(b).insts {
            match &f.inst(i).op {
                Op::GlobalSet(g, Checked::No) => defs.push(g.index()),
                // Part of the definition of a builtin's name: the runtime
                // notes the new value (docs/vir.md).
                Op::GlobalWritten(..) => {}
                Op::Br | Op::BrIf | Op::Ret => {}
                op if op.is_pure() => {}
                _ => return None,
            }
        }
    }
    Some(defs)
}

/// The top-level forms worth running, in order: a form that only defines
/// globals none of the kept code reads is dropped (repeated until nothing
/// changes, since dropping one can leave others unread).
pub fn prune_toplevels(m: &Module, toplevels: &[FuncId]) -> Vec<FuncId> {
    let defines: Vec<Option<Vec<usize>>> = toplevels.iter().map(|&t| only_defines(m, t)).collect();
    let mut keep = vec![true; toplevels.len()];
    loop {
        let roots: Vec<FuncId> = toplevels
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&t, _)| t)
            .collect();
        let live = reachable_functions(m, &roots);
        let mut read = vec![false; m.globals.len()];
        for (i, f) in m.funcs.iter().enumerate() {
            if !live[i] {
                continue;
            }
            for &b in &f.layout {
                for &inst in &f.block(b).insts {
                    match &f.inst(inst).op {
                        Op::GlobalGet(g, _) | Op::GlobalSet(g, Checked::Yes) => {
                            read[g.index()] = true
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut changed = false;
        for (k, d) in defines.iter().enumerate() {
            if let (true, Some(gs)) = (keep[k], d) {
                if gs.iter().all(|&g| !read[g]) {
                    keep[k] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return roots;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_unread_definitions_transitively() {
        let m = crate::parse_module(
            r#"global $a
global $b
global $c

function @fa(%self) arity 0 closure {
entry:
  %x = global_get $b
  ret %x
}

function @fb(%self) arity 0 closure {
entry:
  %x = fixnum 1
  ret %x
}

function @top0() arity 0 {
entry:
  %c = closure @fa()
  global_set $a, %c
  %u = unspecified
  ret %u
}

function @top1() arity 0 {
entry:
  %c = closure @fb()
  global_set $b, %c
  %u = unspecified
  ret %u
}

function @top2() arity 0 {
entry:
  %x = global_get.chk $c
  ret %x
}
"#,
        )
        .unwrap();
        let tops = [FuncId(2), FuncId(3), FuncId(4)];
        // $a is unread, so top0 goes; then $b is unread, so top1 goes;
        // top2 may raise, so it stays.
        assert_eq!(prune_toplevels(&m, &tops), vec![FuncId(4)]);
        let live = reachable_functions(&m, &[FuncId(2)]);
        assert_eq!(live, vec![true, false, true, false, false]);
    }
}
