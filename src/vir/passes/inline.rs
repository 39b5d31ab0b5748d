//! Inlining of small known functions (module-level; docs/vir.md,
//! "Passes and pipeline").
//!
//! Input: a valid module. Output: the same module where direct calls
//! (`call @f(...)`, `tail_call @f(...)`) of eligible callees are replaced
//! by a copy of the callee's blocks. Eligible callees:
//!
//! - are small: at most [`MAX_CALLEE_INSTS`] laid-out instructions;
//! - are not recursive: no cycle of direct calls (`call`/`tail_call`)
//!   leads from the callee back to itself, so copying always terminates
//!   and a callee never reaches its caller through known calls;
//! - hold no `cont_new` (it reifies the return point of the function it
//!   is in, which inlining would change).
//!
//! Parameters map to the call's arguments (a closure body's `%self` is
//! the closure the direct call passes explicitly, so `env_get` on it
//! stays exact). A copied instruction's location becomes an inlined
//! location (`Module::inlined`): its own `Loc` at the call's, so errors
//! name the callee's source and backtraces keep the callee's frame. At a
//! `call` site the block is split: the callee's `ret %v` becomes
//! `br cont(%v)`, where `cont`'s parameter is the call's old result, and
//! the callee's tail calls become ordinary calls followed by that branch. This keeps the stack bounded: while the callee's tail
//! callee runs, the stack held the caller's frame before and holds it
//! now, with no frame for the inlined function either way. At a
//! `tail_call` site `ret` and tail calls stay as they are.
//!
//! Before inlining into a function, and after each round of it, calls of
//! closures made in that function become direct calls and their
//! `env_get`s read the captures ([`resolve_known_closures`]; closures are
//! never written after `closure` makes them, docs/vir.md).
//!
//! Functions are processed callees first, so a callee's own inlined calls
//! are copied with it; a caller stops receiving code at
//! [`MAX_CALLER_INSTS`]. The pass runs once per optimisation (it is no
//! per-function pass); the manager runs the function passes before it (so
//! sizes are measured on cleaned-up callees) and again on the functions
//! it changed.

use crate::entity::{Block, FuncId, Inst, Loc, Value};
use crate::ir::{BlockCall, Function, InlinedLoc, Module, Op, ValueDef};
use std::collections::HashMap;

/// Largest callee (laid-out instructions, terminators included) copied
/// into its callers.
pub const MAX_CALLEE_INSTS: usize = 24;

/// A caller that has grown to this many instructions receives no more.
pub const MAX_CALLER_INSTS: usize = 2000;

/// Rounds of (known closures, inlining) per caller: inlined code can
/// expose closures whose calls become direct.
const ROUNDS: usize = 6;

/// Calls of closures made in `m.funcs[fi]` itself: `env_get` of a
/// `closure @g(caps)` value becomes a `copy` of the capture, and
/// `call_closure`/`tail_call_closure` of it becomes `call @g`/`tail_call
/// @g` when the argument count is exactly `g`'s (no rest list, so no
/// arity error or list building is skipped). The operands stay as they
/// are: the closure first, then the arguments.
fn resolve_known_closures(m: &mut Module, fi: usize) -> bool {
    let sigs: Vec<crate::ir::Signature> = m.funcs.iter().map(|f| f.sig).collect();
    let f = &mut m.funcs[fi];
    // An inlined callee's result reaches its use through the continuation
    // parameter; copy propagation makes the closure visible again.
    let mut changed = super::copy_prop::run(f);
    let mut known: HashMap<Value, (FuncId, Vec<Value>)> = HashMap::new();
    let mut insts = Vec::new();
    for b in &f.layout {
        for &i in &f.blocks[b.index()].insts {
            let d = f.inst(i);
            if let (Op::Closure(g), Some(r)) = (&d.op, d.result) {
                known.insert(r, (*g, d.args.clone()));
            }
            insts.push(i);
        }
    }
    if known.is_empty() {
        return changed;
    }
    // `env_get`s turned into copies here, so a call of a captured known
    // closure resolves in the same sweep.
    let mut alias: HashMap<Value, Value> = HashMap::new();
    for i in insts {
        let d = f.inst_mut(i);
        let Some(&c) = d.args.first() else {
            continue;
        };
        let c = alias.get(&c).copied().unwrap_or(c);
        let Some((g, caps)) = known.get(&c) else {
            continue;
        };
        let direct = sigs
            .get(g.index())
            .is_some_and(|s| s.closure && !s.rest && s.required as usize + 1 == d.args.len());
        match d.op {
            Op::EnvGet(n) if (n as usize) < caps.len() => {
                let cap = caps[n as usize];
                d.args = vec![cap];
                d.op = Op::Copy;
                if let Some(r) = d.result {
                    alias.insert(r, alias.get(&cap).copied().unwrap_or(cap));
                }
            }
            Op::CallClosure if direct => d.op = Op::Call(*g),
            Op::TailCallClosure if direct => d.op = Op::TailCall(*g),
            _ => continue,
        }
        changed = true;
    }
    changed
}

/// Inline eligible direct calls throughout `m`; returns, per function,
/// whether it changed.
pub fn run_module(m: &mut Module) -> Vec<bool> {
    let n = m.funcs.len();
    let mut changed = vec![false; n];
    let (order, cyclic) = call_graph_order(m);
    for f in order {
        let fi = f.index();
        if m.funcs[fi].layout.is_empty() {
            continue;
        }
        for _ in 0..ROUNDS {
            let mut round = resolve_known_closures(m, fi);
            // Each site is looked at once per round, with the callee's
            // current body.
            let sites: Vec<Inst> = {
                let func = &m.funcs[fi];
                func.layout
                    .iter()
                    .flat_map(|b| func.blocks[b.index()].insts.iter().copied())
                    .filter(|&i| match func.inst(i).op {
                        Op::Call(g) | Op::TailCall(g) => g != f && eligible(m, g, &cyclic),
                        _ => false,
                    })
                    .collect()
            };
            for i in sites {
                if m.funcs[fi].inst_count() >= MAX_CALLER_INSTS {
                    break;
                }
                let g = match m.funcs[fi].inst(i).op {
                    Op::Call(g) | Op::TailCall(g) => g,
                    _ => continue,
                };
                let callee = m.funcs[g.index()].clone();
                inline_site(&mut m.funcs[fi], &mut m.inlined, i, &callee);
                round = true;
            }
            if !round {
                break;
            }
            changed[fi] = true;
            // A callee that never returns leaves its continuation block
            // without predecessors.
            super::unreachable::run(&mut m.funcs[fi]);
        }
    }
    changed
}

/// Can calls of `g` be inlined (see the module comment)?
fn eligible(m: &Module, g: FuncId, cyclic: &[bool]) -> bool {
    let Some(callee) = m.funcs.get(g.index()) else {
        return false;
    };
    !cyclic[g.index()]
        && !callee.layout.is_empty()
        && callee.inst_count() <= MAX_CALLEE_INSTS
        && !callee.layout.iter().any(|b| {
            callee.blocks[b.index()]
                .insts
                .iter()
                .any(|&i| matches!(callee.inst(i).op, Op::ContNew(_)))
        })
}

/// The direct callees of `f` (`call` and `tail_call`).
fn direct_callees(f: &Function) -> Vec<FuncId> {
    let mut out = Vec::new();
    for b in &f.layout {
        for &i in &f.blocks[b.index()].insts {
            if let Op::Call(g) | Op::TailCall(g) = f.inst(i).op {
                if !out.contains(&g) {
                    out.push(g);
                }
            }
        }
    }
    out
}

/// Functions in an order where every callee outside a cycle comes before
/// its callers (Tarjan's SCCs come out callees first), and whether each
/// function lies on a cycle of direct calls.
fn call_graph_order(m: &Module) -> (Vec<FuncId>, Vec<bool>) {
    let n = m.funcs.len();
    let succs: Vec<Vec<usize>> = m
        .funcs
        .iter()
        .map(|f| {
            direct_callees(f)
                .into_iter()
                .map(|g| g.index())
                .filter(|&g| g < n)
                .collect()
        })
        .collect();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut order = Vec::with_capacity(n);
    let mut cyclic = vec![false; n];
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // Iterative DFS: (node, next successor position).
        let mut dfs = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = dfs.last_mut() {
            if let Some(&w) = succs[v].get(*pos) {
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    dfs.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            dfs.pop();
            if let Some(&(u, _)) = dfs.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                let on_cycle = scc.len() > 1 || succs[v].contains(&v);
                for &w in &scc {
                    cyclic[w] = on_cycle;
                    order.push(FuncId::new(w));
                }
            }
        }
    }
    (order, cyclic)
}

/// Replace the direct call `call_inst` of `caller` by a copy of `callee`.
fn inline_site(
    caller: &mut Function,
    inlined: &mut Vec<InlinedLoc>,
    call_inst: Inst,
    callee: &Function,
) {
    let Some(b) = caller
        .layout
        .iter()
        .copied()
        .find(|b| caller.blocks[b.index()].insts.contains(&call_inst))
    else {
        return;
    };
    let pos = caller.blocks[b.index()]
        .insts
        .iter()
        .position(|&i| i == call_inst)
        .unwrap_or(0);
    let call = caller.inst(call_inst).clone();
    let is_tail = matches!(call.op, Op::TailCall(_));
    let layout_before = caller.layout.len();

    // The instructions after the call move to the continuation block.
    let rest = caller.blocks[b.index()].insts.split_off(pos + 1);
    caller.blocks[b.index()].insts.pop();

    // Blocks: the callee's, in its order, then the continuation.
    let mut bmap: HashMap<Block, Block> = HashMap::new();
    let mut vmap: HashMap<Value, Value> = HashMap::new();
    let centry = callee.entry();
    for (k, &cb) in callee.layout.iter().enumerate() {
        let name = if k == 0 {
            Some(callee.name.clone())
        } else {
            callee.blocks[cb.index()].name.clone()
        };
        let nb = caller.create_block(name.as_deref());
        bmap.insert(cb, nb);
        if cb == centry {
            for (&p, &a) in callee.blocks[cb.index()].params.iter().zip(&call.args) {
                vmap.insert(p, a);
            }
        } else {
            for &p in &callee.blocks[cb.index()].params {
                let np = caller.append_block_param(nb);
                copy_name(caller, np, callee, p);
                vmap.insert(p, np);
            }
        }
    }
    let cont = if is_tail {
        None
    } else {
        let c = caller.create_block(Some("cont"));
        let r = call.result.expect("call has a result");
        caller.values[r.index()].def = ValueDef::Param(c, 0);
        caller.blocks[c.index()].params.push(r);
        caller.blocks[c.index()].insts = rest;
        Some(c)
    };

    // Instructions, created first so forward references map. Their
    // locations say they were inlined at the call (backtraces keep the
    // callee's frame).
    // At a tail call the callee replaces the caller's innermost frame, so
    // its code sits on the frames below that one.
    let at = if is_tail {
        frames_below(inlined, call.loc)
    } else {
        Some(call.loc).filter(|l| !l.is_none())
    };
    let mut locs: HashMap<Loc, Loc> = HashMap::new();
    let mut relocate = |loc: Loc| {
        let Some(at) = at.filter(|_| !loc.is_none()) else {
            return loc;
        };
        *locs.entry(loc).or_insert_with(|| {
            inlined.push(InlinedLoc { loc, at });
            Loc::inlined(inlined.len() - 1)
        })
    };
    let mut copies: Vec<(Block, Inst, Inst)> = Vec::new();
    for &cb in &callee.layout {
        for &ci in &callee.blocks[cb.index()].insts {
            let d = callee.inst(ci);
            let ni = caller.make_inst(d.op.clone(), Vec::new(), Vec::new(), relocate(d.loc));
            if let (Some(old), Some(new)) = (d.result, caller.inst(ni).result) {
                vmap.insert(old, new);
                copy_name(caller, new, callee, old);
            }
            copies.push((bmap[&cb], ci, ni));
        }
    }
    let map = |v: &Value| vmap.get(v).copied().unwrap_or(*v);
    for (nb, ci, ni) in copies {
        let d = callee.inst(ci);
        // The copy's location (relocated above).
        let loc = caller.inst(ni).loc;
        let args: Vec<Value> = d.args.iter().map(map).collect();
        let targets: Vec<BlockCall> = d
            .targets
            .iter()
            .map(|t| BlockCall {
                block: bmap[&t.block],
                args: t.args.iter().map(map).collect(),
            })
            .collect();
        let to_cont = |caller: &mut Function, v: Value| {
            let c = cont.expect("non-tail site");
            caller.append_inst(nb, Op::Br, vec![], vec![BlockCall::new(c, &[v])], loc);
        };
        match (&d.op, cont) {
            (Op::Ret, Some(_)) => to_cont(caller, args[0]),
            (Op::TailCall(g), Some(_)) => {
                // The callee's frame is gone during its tail call: the
                // call's site is the frame below it.
                let loc = frames_below(inlined, loc).unwrap_or(loc);
                let c = caller.append_inst(nb, Op::Call(*g), args, vec![], loc);
                let r = caller.inst(c).result.expect("call has a result");
                to_cont(caller, r);
            }
            (Op::TailCallClosure, Some(_)) => {
                let loc = frames_below(inlined, loc).unwrap_or(loc);
                let c = caller.append_inst(nb, Op::CallClosure, args, vec![], loc);
                let r = caller.inst(c).result.expect("call has a result");
                to_cont(caller, r);
            }
            _ => {
                let inst = caller.inst_mut(ni);
                inst.args = args;
                inst.targets = targets;
                caller.blocks[nb.index()].insts.push(ni);
            }
        }
    }

    // The call becomes a jump to the copied entry.
    caller.append_inst(
        b,
        Op::Br,
        vec![],
        vec![BlockCall::new(bmap[&centry], &[])],
        call.loc,
    );
    // Place the new blocks right after `b`, so layout order (the backend's
    // back-edge test) is kept for every old edge.
    let new_blocks = caller.layout.split_off(layout_before);
    let at = caller.layout.iter().position(|&x| x == b).unwrap_or(0) + 1;
    caller.layout.splice(at..at, new_blocks);
}

/// The frames of location `loc` but its innermost one, as a location
/// (`None`: no frame below it in this function).
fn frames_below(inlined: &mut Vec<InlinedLoc>, loc: Loc) -> Option<Loc> {
    let i = loc.inlined_index()?;
    let e = *inlined.get(i)?;
    Some(match frames_below(inlined, e.loc) {
        Some(inner) => {
            inlined.push(InlinedLoc {
                loc: inner,
                at: e.at,
            });
            Loc::inlined(inlined.len() - 1)
        }
        None => e.at,
    })
}

fn copy_name(caller: &mut Function, new: Value, callee: &Function, old: Value) {
    if let Some(n) = callee.value_name(old) {
        caller.set_value_name(new, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::run_to_string;
    use crate::read::parse_module;
    use crate::verify::verify_module;
    use crate::write::print_module;

    fn inline_text(text: &str) -> (Module, Module) {
        let m = parse_module(text).unwrap();
        verify_module(&m).unwrap();
        let mut out = m.clone();
        run_module(&mut out);
        if let Err(e) = verify_module(&out) {
            panic!("{e}\n{}", print_module(&out));
        }
        (m, out)
    }

    #[test]
    fn copies_get_inlined_locations_at_the_call() {
        let (_, out) = inline_text(
            "function @main(%x) arity 1 {
entry:
  %0 = call @inc(%x) !7
  %1 = call @inc(%0) !8
  ret %1
}

function @inc(%n) arity 1 {
entry:
  %0 = fixnum 1
  %1 = fx.add.chk %n, %0 !3
  ret %1
}
",
        );
        let text = print_module(&out);
        // One entry per call site; the copies name it.
        assert!(
            text.contains("inlined !i0 = !3 at !7\ninlined !i1 = !3 at !8\n"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("fx.add.chk") && l.ends_with("!i0")),
            "{text}"
        );
        assert_eq!(out.original_loc(Loc::inlined(1)), Loc(3));
        // The text reads back to the same module.
        let again = parse_module(&text).unwrap();
        assert_eq!(print_module(&again), text);
    }

    #[test]
    fn inlined_locations_must_refer_backwards() {
        let m = parse_module(
            "inlined !i0 = !i1 at !2
inlined !i1 = !1 at !2

function @f() arity 0 {
entry:
  %0 = fixnum 1
  ret %0
}
",
        )
        .unwrap();
        let e = verify_module(&m).unwrap_err().to_string();
        assert!(e.contains("inlined location !i0 refers to !i1"), "{e}");
        let bad = parse_module("inlined !i3 = !1 at !2\n").unwrap_err();
        assert!(bad.to_string().contains("numbered !i0, !i1"), "{bad}");
    }

    #[test]
    fn recursive_callees_stay_calls() {
        let (_, out) = inline_text(
            "function @main(%x) arity 1 {
entry:
  %0 = call @even(%x)
  ret %0
}

function @even(%n) arity 1 {
entry:
  %0 = fixnum 0
  %1 = fx.eq %n, %0
  br_if %1, yes(), no()
yes:
  %2 = bool #t
  ret %2
no:
  %3 = fixnum 1
  %4 = fx.sub %n, %3
  tail_call @odd(%4)
}

function @odd(%n) arity 1 {
entry:
  %0 = fixnum 0
  %1 = fx.eq %n, %0
  br_if %1, yes(), no()
yes:
  %2 = bool #f
  ret %2
no:
  %3 = fixnum 1
  %4 = fx.sub %n, %3
  tail_call @even(%4)
}
",
        );
        let main = print_module(&out);
        assert!(main.contains("call @even(%x)"), "{main}");
    }

    #[test]
    fn nested_inlining_and_tail_calls() {
        let (before, out) = inline_text(
            "function @main(%x) arity 1 {
entry:
  %0 = call @f(%x)
  %1 = fixnum 1
  %2 = fx.add.chk %0, %1
  tail_call @g(%2)
}

function @f(%a) arity 1 {
entry:
  %0 = fixnum 0
  %1 = fx.lt %a, %0
  br_if %1, neg(), pos()
neg:
  tail_call @g(%a)
pos:
  %2 = fixnum 2
  %3 = fx.mul.chk %a, %2 !3
  ret %3
}

function @g(%b) arity 1 {
entry:
  %0 = fixnum 10
  %1 = fx.sub.chk %b, %0
  ret %1
}
",
        );
        let text = print_module(&out);
        let main = text.split("function @f").next().unwrap();
        assert!(!main.contains("call"), "{text}");
        assert!(main.contains("!3"), "locations are kept: {text}");
        for x in [-5, 0, 7] {
            assert_eq!(
                run_to_string(&before, FuncId(0), &[x], 10_000),
                run_to_string(&out, FuncId(0), &[x], 10_000)
            );
        }
    }
}
