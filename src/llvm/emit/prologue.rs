//! Function entry and exit (docs/calling-convention.md): the definition
//! line of a direct entry with its overflow parameter vector, the stack
//! check, block parameters turned into phis (`finish_function`), the
//! interrupt poll at loop headers, and the two entries written as fixed
//! templates: a closure body's fast entry (arity check, rest list, tail
//! call of the direct entry) and the generic C-ABI `@valk_compiled_entry`
//! the runtime calls closures through.

use super::function::FnEmitter;
use super::objects::emit_alloc;
use super::text::{direct_name, fast_name, imm_op, Conv, Weight, LIKELY, UNLIKELY, V};
use super::FN_SUFFIX;
use crate::abi::{self, field_offset, TAG_CLOSURE, TAG_OBJECT};
use std::fmt::Write;
use valk_runtime::value::ObjType;
use valk_vir::analysis::{Cfg, DomTree};
use valk_vir::{Block, FuncId, Module, Op};

/// Most blocks of one function that get their own stack check; past it the
/// function checks once on entry (code size).
const MAX_STACK_CHECKS: usize = 8;

/// Closure bodies (indexed by `FuncId`, among the `live` ones) whose
/// direct entry takes no closure argument (docs/calling-convention.md,
/// "Direct entry"): their `%self` is used at most as the closure argument
/// of direct calls of such bodies, so it is never needed. Capture-free
/// procedures called by name (`fib`) are the common case. Computed as a
/// greatest fixed point, so mutually recursive bodies qualify together.
pub(super) fn selfless_closures(m: &Module, live: &[bool]) -> Vec<bool> {
    let mut out: Vec<bool> = m
        .funcs
        .iter()
        .enumerate()
        .map(|(i, f)| live.get(i).copied().unwrap_or(false) && f.sig.closure)
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for (i, f) in m.funcs.iter().enumerate() {
            if !out[i] {
                continue;
            }
            let me = f.params()[0];
            let needed = f.layout.iter().any(|&b| {
                f.block(b).insts.iter().any(|&inst| {
                    let d = f.inst(inst);
                    let passed_only_to_selfless = match d.op {
                        Op::Call(g) | Op::TailCall(g) => out[g.index()],
                        _ => false,
                    };
                    d.args
                        .iter()
                        .enumerate()
                        .any(|(k, &a)| a == me && !(k == 0 && passed_only_to_selfless))
                        || d.targets.iter().any(|t| t.args.contains(&me))
                })
            });
            if needed {
                out[i] = false;
                changed = true;
            }
        }
    }
    out
}

/// The fast entry of closure body `id`: arity check, rest list, then a tail
/// call of the direct entry (without the closure when `selfless`).
pub(super) fn emit_fast_entry(m: &Module, id: FuncId, selfless: bool) -> String {
    let f = m.func(id);
    let r = f.sig.required as usize;
    let rest = f.sig.rest;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "define internal tailcc {V} {}({V} %self, i64 %argc, {V} %a0, {V} %a1, {V} %a2, {V} %a3x) \
         align 16 {FN_SUFFIX} {{\nstart:",
        fast_name(m, id)
    );
    let pred = if rest { "uge" } else { "eq" };
    let _ = writeln!(
        s,
        "  %ok = icmp {pred} i64 %argc, {r}\n  br i1 %ok, label %go, label %bad, {LIKELY}\n\
         bad:\n  %e = call {V} @valk_rt_arity({V} %self, i64 %argc)\n  ret {V} %e\ngo:"
    );
    let mut params = if selfless {
        Vec::new()
    } else {
        vec![format!("{V} %self")]
    };
    let mut cur = "go".to_string();
    for i in 0..r {
        if i < 3 {
            params.push(format!("{V} %a{i}"));
        } else if i == 3 && (!rest && r == 4) {
            params.push(format!("{V} %a3x"));
        } else if i == 3 && rest {
            // Argument 3 is `a3x` itself when at most 4 were passed.
            let _ = writeln!(
                s,
                "  %in3 = icmp ule i64 %argc, 4\n  br i1 %in3, label %j3, label %v3\nv3:\n  \
                 %p3p = getelementptr i8, {V} %a3x, i64 {}\n  %p3v = load {V}, {V} %p3p\n  \
                 br label %j3\nj3:\n  %p3 = phi {V} [ %a3x, %{cur} ], [ %p3v, %v3 ]",
                field_offset(TAG_OBJECT, 0)
            );
            cur = "j3".into();
            params.push(format!("{V} %p3"));
        } else {
            let _ = writeln!(
                s,
                "  %p{i}p = getelementptr i8, {V} %a3x, i64 {}\n  %p{i} = load {V}, {V} %p{i}p",
                field_offset(TAG_OBJECT, i - 3)
            );
            params.push(format!("{V} %p{i}"));
        }
    }
    if rest {
        let _ = writeln!(
            s,
            "  %rest = call {V} @valk_rt_rest_list(i64 %argc, i64 {r}, {V} %a0, {V} %a1, {V} %a2, \
             {V} %a3x)\n  %rx = icmp eq {V} %rest, {}\n  br i1 %rx, label %exc, label %call, \
             {UNLIKELY}\nexc:\n  ret {V} %rest\ncall:",
            imm_op(abi::EXCEPTION)
        );
        params.push(format!("{V} %rest"));
    }
    let _ = cur;
    let args = pack_direct_args(&mut s, params, "pk");
    let _ = writeln!(
        s,
        "  %r = musttail call tailcc {V} {}({})\n  ret {V} %r\n}}\n",
        direct_name(m, id),
        args.join(", ")
    );
    s
}

/// Direct-entry arguments: past [`abi::MAX_DIRECT_PARAMS`], the last
/// register carries a vector of the rest (allocated here, inline).
pub(super) fn pack_direct_args(s: &mut String, params: Vec<String>, prefix: &str) -> Vec<String> {
    if params.len() <= abi::MAX_DIRECT_PARAMS {
        return params;
    }
    let keep = abi::MAX_DIRECT_PARAMS - 1;
    let extra = &params[keep..];
    let obj = emit_alloc(s, prefix, ObjType::Vector, extra.len());
    for (i, p) in extra.iter().enumerate() {
        let _ = writeln!(
            s,
            "  %{prefix}.f{i} = getelementptr i8, {V} {obj}, i64 {}\n  store {p}, {V} %{prefix}.f{i}",
            field_offset(TAG_OBJECT, i)
        );
    }
    let mut out = params[..keep].to_vec();
    out.push(format!("{V} {obj}"));
    out
}

/// The generic C-ABI entry of every compiled closure: moves the arguments
/// from `argv` (rooted memory) into the fast-entry registers and calls it.
pub(super) fn emit_compiled_entry(aot: bool) -> String {
    let mut s = String::new();
    // Internal in an executable (only its own closures point at it).
    let linkage = if aot { "internal " } else { "" };
    let _ = writeln!(
        s,
        "define {linkage}{V} @valk_compiled_entry({V} %self, i64 %argc, ptr %argv) {FN_SUFFIX} {{\nstart:\n  \
         %big = icmp ugt i64 %argc, 4\n  br i1 %big, label %pack, label %l3c\npack:\n  \
         %v = call {V} @valk_rt_pack_args(i64 %argc, ptr %argv)\n  %vx = icmp eq {V} %v, {exc}\n  \
         br i1 %vx, label %exc, label %j3, {UNLIKELY}\nexc:\n  ret {V} %v\nl3c:\n  \
         %n3 = icmp ugt i64 %argc, 3\n  br i1 %n3, label %l3, label %j3\nl3:\n  \
         %x3p = getelementptr ptr addrspace(1), ptr %argv, i64 3\n  %x3 = load {V}, ptr %x3p\n  \
         br label %j3\nj3:\n  %a3 = phi {V} [ %v, %pack ], [ %x3, %l3 ], [ null, %l3c ]",
        exc = imm_op(abi::EXCEPTION)
    );
    for i in (0..3).rev() {
        let prev = format!("j{}", i + 1);
        let _ = writeln!(
            s,
            "  %n{i} = icmp ugt i64 %argc, {i}\n  br i1 %n{i}, label %l{i}, label %j{i}\nl{i}:\n  \
             %x{i}p = getelementptr ptr addrspace(1), ptr %argv, i64 {i}\n  %x{i} = load {V}, ptr %x{i}p\n  \
             br label %j{i}\nj{i}:\n  %a{i} = phi {V} [ %x{i}, %l{i} ], [ null, %{prev} ]"
        );
    }
    let _ = writeln!(
        s,
        "  %fp = getelementptr i8, {V} %self, i64 {off}\n  %f = load ptr, {V} %fp\n  \
         %r = call tailcc {V} %f({V} %self, i64 %argc, {V} %a0, {V} %a1, {V} %a2, {V} %a3)\n  \
         ret {V} %r\n}}\n",
        off = field_offset(TAG_CLOSURE, abi::CLOSURE_FAST_ENTRY)
    );
    s
}

impl FnEmitter<'_, '_, '_> {
    /// `if (valk_interrupt) { r = valk_rt_interrupt(); if exception: return it }`.
    /// The load is volatile so that it stays inside the loop.
    pub(super) fn interrupt_poll(&mut self) {
        let (flag, set) = (self.t(), self.t());
        let (slow, go) = (self.label(), self.label());
        self.assign(&flag, "load volatile i64, ptr @valk_interrupt, align 8");
        self.assign(&set, format!("icmp ne i64 {flag}, 0"));
        self.br_if(&set, &slow, &go, Weight::Unlikely);
        self.start_block(&slow);
        self.call(Conv::C, "@valk_rt_interrupt", "");
        self.br(&go);
        self.start_block(&go);
    }

    /// Does block `b` call anything (tail calls included)? Tail calls
    /// cannot overflow the stack, but the check is also how a Ctrl-C
    /// reaches code that only tail-calls (`interrupt::request` trips the
    /// limit); loops inside a function poll at their headers instead.
    fn block_calls(&self, b: Block) -> bool {
        let f = self.f;
        f.block(b).insts.iter().any(|&i| {
            matches!(
                f.inst(i).op,
                Op::Call(_)
                    | Op::CallClosure
                    | Op::CallGeneric
                    | Op::CallRuntime(_)
                    | Op::FfiCall(_)
                    | Op::CheckInit
                    | Op::ArityError
                    | Op::TailCall(_)
                    | Op::TailCallClosure
            )
        })
    }

    /// Where the stack check goes (docs/calling-convention.md, "Stack
    /// overflow and interrupts"): at the start of each block that calls
    /// and has no dominator that checked, so a leaf path (`fib`'s `n < 2`)
    /// runs no check. Falls back to one check on entry when a loop could
    /// repeat a check, or when more than [`MAX_STACK_CHECKS`] would be
    /// written. Linear in the size of the function.
    pub(super) fn plan_stack_checks(&mut self, cfg: &Cfg, has_loop: bool) {
        let f = self.f;
        let calls: Vec<bool> = (0..f.blocks.len())
            .map(|i| f.is_in_layout(Block::new(i)) && self.block_calls(Block::new(i)))
            .collect();
        self.checked_blocks = vec![false; f.blocks.len()];
        self.entry_check = false;
        if !calls.iter().any(|&c| c) {
            return;
        }
        if has_loop {
            self.entry_check = true;
            return;
        }
        let dom = DomTree::compute(f, cfg);
        // `covered[b]`: a strict dominator of `b` checks (dominators come
        // first in reverse postorder).
        let mut covered = vec![false; f.blocks.len()];
        let mut count = 0;
        for &b in dom.rpo() {
            if let Some(d) = dom.idom(b) {
                covered[b.index()] = covered[d.index()] || self.checked_blocks[d.index()];
            }
            if calls[b.index()] && !covered[b.index()] {
                self.checked_blocks[b.index()] = true;
                count += 1;
            }
        }
        // A check in the entry block stays in `start`, before everything.
        let entry = f.entry().index();
        if count > MAX_STACK_CHECKS || self.checked_blocks[entry] {
            self.checked_blocks = vec![false; f.blocks.len()];
            self.entry_check = true;
        }
    }

    /// The stack check at the start of a block: raise `stack overflow`
    /// below `valk_stack_limit`.
    pub(super) fn stack_check(&mut self) {
        let fa = self.def("call ptr @llvm.frameaddress.p0(i32 0)");
        let fai = self.def(format!("ptrtoint ptr {fa} to i64"));
        let lim = self.load_mem("i64", "@valk_stack_limit");
        let ok = self.icmp("uge", &fai, &lim);
        self.guard(&ok, |e| e.raise("@valk_rt_stack_overflow", ""));
    }

    pub(super) fn finish_function(&mut self) -> String {
        let f = self.f;
        // A selfless closure body's direct entry has no closure parameter.
        let params = &f.params()[usize::from(self.selfless(self.id))..];
        let mut s = String::new();
        let direct_params: Vec<String> = if params.len() <= abi::MAX_DIRECT_PARAMS {
            params.iter().map(|p| format!("{V} %v{}", p.0)).collect()
        } else {
            let keep = abi::MAX_DIRECT_PARAMS - 1;
            let mut v: Vec<String> = params[..keep]
                .iter()
                .map(|p| format!("{V} %v{}", p.0))
                .collect();
            v.push(format!("{V} %ovf"));
            v
        };
        let _ = writeln!(
            s,
            "define internal tailcc {V} {}({}) {FN_SUFFIX} {{\nstart:",
            direct_name(self.m, self.id),
            direct_params.join(", ")
        );
        if self.argv_slots > 0 {
            let _ = writeln!(
                s,
                "  %argv = alloca [{} x ptr addrspace(1)], align 8",
                self.argv_slots
            );
        }
        if params.len() > abi::MAX_DIRECT_PARAMS {
            for (k, p) in params[abi::MAX_DIRECT_PARAMS - 1..].iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  %ovf.{k} = getelementptr i8, {V} %ovf, i64 {}\n  %v{} = load {V}, {V} %ovf.{k}",
                    field_offset(TAG_OBJECT, k),
                    p.0
                );
            }
        }
        s.push_str(&self.prologue);
        let entry = f.entry();
        if self.entry_check {
            let _ = writeln!(
                s,
                "  %fa = call ptr @llvm.frameaddress.p0(i32 0)\n  %fai = ptrtoint ptr %fa to i64\n  \
                 %lim = load i64, ptr @valk_stack_limit\n  %so = icmp ult i64 %fai, %lim\n  \
                 br i1 %so, label %overflow, label %b{}, {UNLIKELY}\noverflow:\n  \
                 %soe = call {V} @valk_rt_stack_overflow()\n  ret {V} %soe",
                entry.0
            );
        } else {
            let _ = writeln!(s, "  br label %b{}", entry.0);
        }
        for (b, text) in std::mem::take(&mut self.blocks) {
            let _ = writeln!(s, "b{}:", b.0);
            if let Some(incoming) = self.phis.get(&b) {
                for (k, &p) in f.block(b).params.iter().enumerate() {
                    let ins: Vec<String> = incoming
                        .iter()
                        .map(|(from, args)| format!("[ {}, %{from} ]", args[k]))
                        .collect();
                    let ty = self.param_type(p);
                    let _ = writeln!(s, "  %v{} = phi {ty} {}", p.0, ins.join(", "));
                }
            }
            s.push_str(&text);
        }
        s.push_str("}\n\n");
        s
    }
}
