//! One VIR function → its direct entry: the per-function state
//! ([`FnEmitter`]), operand names of VIR values, the walk over blocks in
//! reverse postorder, the instruction dispatch (one `match` on `Op` that
//! hands each operation to its concern module) and the terminators with
//! the edges that become phis (`prologue.rs` writes the phis).

use super::text::{imm_op, Weight};
use super::{EmitError, EmitOptions, ModCx};
use crate::abi;
use std::collections::{HashMap, HashSet};
use valk_vir::{Block, BlockCall, FuncId, Function, InstData, Module, Op, Value, ValueDef};

/// Emits one VIR function as its direct entry.
pub(super) struct FnEmitter<'m, 'c, 'o> {
    pub(super) m: &'m Module,
    pub(super) f: &'m Function,
    pub(super) id: FuncId,
    pub(super) cx: &'c mut ModCx,
    pub(super) opts: &'o EmitOptions<'o>,
    /// Operand text of every VIR value (set when its definition is
    /// emitted; blocks are emitted in reverse postorder).
    pub(super) names: Vec<String>,
    /// Values that are another value (`copy`, `cast`, `type_check`).
    alias: HashMap<usize, Value>,
    /// Text of the current VIR block (with the LLVM blocks split off it).
    pub(super) body: String,
    pub(super) blocks: Vec<(Block, String)>,
    /// The LLVM block being written.
    pub(super) cur: String,
    pub(super) tmp: u32,
    /// Incoming `(predecessor label, arguments)` of each block with
    /// parameters, recorded at the edges.
    pub(super) phis: HashMap<Block, Vec<(String, Vec<String>)>>,
    /// Slots of the argument array for calls through the runtime.
    pub(super) argv_slots: usize,
    /// Lines of the `start` block (after the stack check).
    pub(super) prologue: String,
    /// The stack check is on entry (`start`), or at the start of the
    /// blocks marked here (`prologue.rs`, `plan_stack_checks`).
    pub(super) entry_check: bool,
    pub(super) checked_blocks: Vec<bool>,
    /// Flonum values kept without a box, and the doubles of flonum values
    /// (`unboxed.rs`).
    pub(super) unboxed: HashSet<Value>,
    pub(super) dbl: HashMap<Value, String>,
    /// The function shows flonum code (a flonum constant, a flonum op or a
    /// conversion): only then do checked generic operations get their
    /// inline flonum paths (`arith.rs`). Elsewhere those paths only cost
    /// registers on the fixnum path (docs/vir.md, "Flonums in line").
    pub(super) flonum_code: bool,
    /// The frame backtraces show for this function's calls
    /// (`sites.rs`); `None`: no site table is being built.
    pub(super) site_frame: Option<(Option<String>, bool)>,
}

/// Builtins whose call shows flonum code as well as a flonum constant does
/// (`FnEmitter::flonum_code`): they make or take flonums, so the generic
/// arithmetic around them likely meets some (docs/vir.md).
const FLONUM_BUILTINS: &[&str] = &[
    "/",
    "exact->inexact",
    "inexact",
    "sqrt",
    "exp",
    "log",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "expt",
    "round",
    "floor",
    "ceiling",
    "truncate",
];

impl<'m, 'c, 'o> FnEmitter<'m, 'c, 'o> {
    pub(super) fn new(
        m: &'m Module,
        f: &'m Function,
        id: FuncId,
        cx: &'c mut ModCx,
        opts: &'o EmitOptions<'o>,
    ) -> Self {
        FnEmitter {
            m,
            f,
            id,
            cx,
            opts,
            names: Vec::new(),
            alias: HashMap::new(),
            body: String::new(),
            blocks: Vec::new(),
            cur: String::new(),
            tmp: 0,
            phis: HashMap::new(),
            argv_slots: 0,
            prologue: String::new(),
            entry_check: false,
            checked_blocks: Vec::new(),
            unboxed: HashSet::new(),
            dbl: HashMap::new(),
            flonum_code: f.insts.iter().any(|i| match i.op {
                Op::Flonum(_) | Op::FxToFl | Op::Fl(..) | Op::FlCmp(..) => true,
                Op::CallRuntime(b) => FLONUM_BUILTINS.contains(&m.builtin_name(b)),
                _ => false,
            }),
            site_frame: None,
        }
    }

    /// The operand text of `v` (following copies and casts).
    pub(super) fn op(&self, v: Value) -> String {
        let mut i = v.index();
        for _ in 0..=self.alias.len() {
            match self.alias.get(&i) {
                Some(w) => i = w.index(),
                None => break,
            }
        }
        self.names[i].clone()
    }

    /// Names every VIR value: immediates are folded into their uses,
    /// copies and casts alias their operand, the rest are `%v<n>`.
    fn compute_names(&mut self) {
        let f = self.f;
        let mut names = Vec::with_capacity(f.values.len());
        for i in 0..f.values.len() {
            let v = Value::new(i);
            let n = match f.value_def(v) {
                ValueDef::Param(..) => format!("%v{i}"),
                ValueDef::Result(inst) => {
                    let d = f.inst(inst);
                    match &d.op {
                        Op::Fixnum(n) => imm_op((*n << 3) as u64),
                        Op::Char(c) => imm_op(abi::char_value(*c)),
                        Op::Bool(b) => imm_op(if *b { abi::TRUE } else { abi::FALSE }),
                        Op::Nil => imm_op(abi::NIL),
                        Op::Unspecified => imm_op(abi::UNSPECIFIED),
                        Op::Undefined => imm_op(abi::UNDEFINED),
                        Op::Copy | Op::Cast(_) | Op::TypeCheck(..) if !d.args.is_empty() => {
                            self.alias.insert(i, d.args[0]);
                            "undef".into()
                        }
                        _ => format!("%v{i}"),
                    }
                }
            };
            names.push(n);
        }
        self.names = names;
    }

    /// Emits the body blocks; `finish_function` (`prologue.rs`) then wraps
    /// them in the definition.
    pub(super) fn emit_direct(&mut self) -> Result<(), EmitError> {
        self.compute_names();
        self.start_unboxed();
        let f = self.f;
        let cfg = valk_vir::Cfg::compute(f);
        let rpo = valk_vir::analysis::reverse_postorder(f, &cfg);
        let mut position = vec![usize::MAX; f.blocks.len()];
        for (k, b) in rpo.iter().enumerate() {
            position[b.index()] = k;
        }
        let has_loop = rpo.iter().any(|&b| {
            cfg.preds(b)
                .iter()
                .any(|p| position[p.index()] >= position[b.index()])
        });
        self.plan_stack_checks(&cfg, has_loop);
        for &b in &rpo {
            self.body.clear();
            self.cur = format!("b{}", b.0);
            if self.checked_blocks[b.index()] {
                self.stack_check();
            }
            // A loop header (the target of a back edge) polls for Ctrl-C:
            // a loop compiled to branches has no prologue stack check.
            if cfg
                .preds(b)
                .iter()
                .any(|p| position[p.index()] >= position[b.index()])
            {
                self.interrupt_poll();
            }
            let insts = &f.block(b).insts;
            let mut skip_ret = false;
            for (j, &i) in insts.iter().enumerate() {
                let d = f.inst(i);
                if std::mem::take(&mut skip_ret) {
                    continue;
                }
                if let Some(r) = self.tail_escape_site(d, insts.get(j + 1).map(|&n| f.inst(n))) {
                    // The `ret` is part of the `musttail` call.
                    self.tail_call_ec(&r);
                    skip_ret = true;
                    continue;
                }
                if self.opts.debug.is_some() && !d.loc.is_none() {
                    let loc = self.m.original_loc(d.loc);
                    let marker = format!("  {}{}\n", super::debuginfo::MARKER, loc.0);
                    self.body.push_str(&marker);
                }
                let site_from = self.body.len();
                self.emit_inst(d).map_err(|e| {
                    EmitError(format!(
                        "function @{}: {} ({})",
                        f.name,
                        e.0,
                        d.op.mnemonic()
                    ))
                })?;
                self.annotate_sites(site_from, d.loc);
            }
            let text = std::mem::take(&mut self.body);
            self.blocks.push((b, text));
        }
        Ok(())
    }

    /// Gives the calls emitted for an instruction at `loc` (the text from
    /// `from` on) their site (`sites.rs`).
    fn annotate_sites(&mut self, from: usize, loc: valk_vir::Loc) {
        let (Some((name, library)), Some(resolve)) = (&self.site_frame, self.opts.sites) else {
            return;
        };
        let frame = super::sites::ProcFrame {
            name: name.as_deref(),
            library: *library,
            hidden: false,
        };
        let site = self
            .cx
            .sites
            .site_of_loc(frame, resolve, &self.m.inlined, loc);
        super::sites::annotate(&mut self.body, from, site);
    }

    /// `(%tail-call/ec f)` whose result `next` returns: the operand `f`.
    fn tail_escape_site(&mut self, d: &InstData, next: Option<&InstData>) -> Option<String> {
        let Op::CallRuntime(b) = &d.op else {
            return None;
        };
        let next = next?;
        (self.m.builtin_name(*b) == super::calls::TAIL_CALL_EC
            && d.args.len() == 1
            && matches!(next.op, Op::Ret)
            && d.result.is_some_and(|r| next.args == [r]))
        .then(|| self.boxed_op(d.args[0]))
    }

    /// One instruction. Each arm delegates to the module owning the
    /// concern: `objects.rs` (constants, type tests, objects, globals),
    /// `arith.rs`, `calls.rs`, and the terminators below.
    fn emit_inst(&mut self, d: &InstData) -> Result<(), EmitError> {
        if self.flonum_inst(d) {
            return Ok(());
        }
        let res = d.result.map(|r| format!("%v{}", r.0));
        let res = res.as_deref().unwrap_or_default();
        let a: Vec<String> = d.args.iter().map(|&v| self.boxed_op(v)).collect();
        // The operand text of the result, for operations that compute it
        // into a fresh name rather than into `%v<n>`.
        let v: Option<String> = match &d.op {
            // Folded into their uses (`compute_names`).
            Op::Fixnum(_)
            | Op::Char(_)
            | Op::Bool(_)
            | Op::Nil
            | Op::Unspecified
            | Op::Undefined
            | Op::Copy
            | Op::Cast(_) => None,
            Op::Flonum(bits) => {
                let i = self.cx.float(*bits);
                self.load_const(res, i);
                None
            }
            Op::Const(c) => {
                self.load_const(res, c.index());
                None
            }
            Op::TypeTag => {
                self.type_tag(res, &a[0]);
                None
            }
            Op::TypeIs(t) => {
                self.type_is(res, *t, &a[0]);
                None
            }
            Op::TypeCheck(t, who) => {
                self.type_check(*t, who, &a[0]);
                None
            }
            Op::Fx(op, mode) => Some(self.fx(*op, *mode, &a[0], &a[1])),
            Op::FxToFl => Some(self.fx_to_fl(&a[0])),
            Op::Fl(op, chk) => Some(self.fl(*op, chk.is_checked(), &a[0], &a[1])),
            Op::FxCmp(c, chk) => Some(self.fx_cmp(*c, chk.is_checked(), &a[0], &a[1])),
            Op::FlCmp(c, chk) => Some(self.fl_cmp(*c, chk.is_checked(), &a[0], &a[1])),
            Op::Eq => Some(self.eq(&a[0], &a[1])),
            Op::Not => Some(self.not(&a[0])),
            Op::Alloc(kind, _) => Some(self.alloc_object(*kind, &a)),
            Op::Load(n) => {
                self.load_word(res, &a[0], *n as usize);
                None
            }
            Op::Store(n) => {
                self.store_word(&a[0], *n as usize, &a[1]);
                None
            }
            Op::Cons => Some(self.cons(&a[0], &a[1])),
            Op::Car => Some(self.car_cdr(&a[0], 0)),
            Op::Cdr => Some(self.car_cdr(&a[0], 1)),
            Op::VectorRef => {
                self.vector_ref(res, &a[0], &a[1]);
                None
            }
            Op::VectorSet => {
                self.vector_set(&a[0], &a[1], &a[2]);
                None
            }
            Op::VectorLength => {
                self.vector_length(res, &a[0]);
                None
            }
            Op::StringRef => {
                self.string_ref(res, &a[0], &a[1]);
                None
            }
            Op::StringSet => {
                self.string_set(&a[0], &a[1], &a[2]);
                None
            }
            Op::StringLength => {
                self.string_length(res, &a[0]);
                None
            }
            Op::MakeBox => Some(self.make_box(&a[0])),
            Op::Unbox => Some(self.unbox(&a[0])),
            Op::SetBox => {
                self.set_box(&a[0], &a[1]);
                None
            }
            Op::RecordNew => Some(self.record_new(&a[0], &a[1..])?),
            Op::RecordIs => Some(self.record_is(&a[0], &a[1])),
            Op::RecordRef(n) => Some(self.record_ref(*n as usize, &a[0], &a[1], &a[2])?),
            Op::RecordSet(n) => {
                self.record_set(*n as usize, &a[0], &a[1], &a[2], &a[3])?;
                None
            }
            Op::CharToInt => Some(self.char_to_int(&a[0])),
            Op::IntToChar => Some(self.int_to_char(&a[0])),
            Op::GlobalGet(g, chk) => {
                self.global_get(res, g.index(), chk.is_checked(), self.m.original_loc(d.loc));
                None
            }
            Op::GlobalSet(g, chk) => {
                let loc = self.m.original_loc(d.loc);
                self.global_set(g.index(), chk.is_checked(), loc, &a[0]);
                None
            }
            Op::Closure(body) => Some(self.closure(*body, &a)),
            Op::ProcIs(f) => {
                let c = self.proc_is(*f, &a[0]);
                Some(self.bool_of(&c))
            }
            Op::Intact(n) => {
                let c = self.intact(*n);
                Some(self.bool_of(&c))
            }
            Op::GlobalWritten(g, _) => {
                self.global_written(g.index());
                None
            }
            Op::EnvGet(n) => Some(self.env_get(&a[0], *n as usize)),
            Op::Call(callee) => {
                self.direct_call(res, *callee, &a);
                None
            }
            Op::CallClosure => Some(self.closure_call(&a[0], &a[1..], false)),
            Op::CallGeneric => Some(self.generic_call(&a[0], &a[1..])),
            Op::CallRuntime(b) => Some(self.runtime_call(self.m.builtin_name(*b), &a)?),
            Op::FfiCall(ff) => Some(self.ffi_call(ff, &a)),
            Op::CheckInit => Some(self.check_init(&a[0], &a[1])),
            Op::ArityError => Some(self.arity_error(&a[0], &a[1], &a[2])),
            Op::TailCall(callee) => {
                self.direct_tail_call(*callee, &a);
                None
            }
            Op::TailCallClosure => {
                self.closure_call(&a[0], &a[1..], true);
                None
            }
            Op::ContNew(_) | Op::ContCall => {
                return Err(EmitError(
                    "continuations are not supported by the LLVM backend yet".into(),
                ))
            }
            Op::Br => {
                self.jump(&d.targets[0]);
                None
            }
            Op::BrIf => {
                // A builtin is rarely redefined: its guard's slow path is cold.
                let weight = match self.f.value_def(d.args[0]) {
                    valk_vir::ValueDef::Result(i) if matches!(self.f.inst(i).op, Op::Intact(_)) => {
                        Weight::Likely
                    }
                    _ => Weight::Even,
                };
                self.branch_if(&a[0], &d.targets[0], &d.targets[1], weight);
                None
            }
            Op::Switch(cases) => {
                self.switch(&a[0], cases, &d.targets);
                None
            }
            Op::Ret => {
                self.ret(&a[0]);
                None
            }
            Op::Unreachable => {
                self.line("unreachable");
                None
            }
        };
        if let (Some(v), Some(r)) = (v, d.result) {
            self.names[r.index()] = v;
        }
        Ok(())
    }

    // ---- terminators ----

    /// Records the edge to `bc` from the current LLVM block; returns the
    /// label to branch to. `edge` forces a separate edge block (needed when
    /// one terminator has several edges).
    fn edge(&mut self, bc: &BlockCall, edge: bool, pending: &mut Vec<String>) -> String {
        let f = self.f;
        let params = &f.block(bc.block).params;
        let args: Vec<String> = (bc.args.iter().zip(params))
            .map(|(&a, &p)| self.edge_arg(p, a))
            .collect();
        let target = format!("b{}", bc.block.0);
        if bc.args.is_empty() {
            // Phi-less targets need no edge block.
            return target;
        }
        if !edge {
            let from = self.cur.clone();
            self.phis.entry(bc.block).or_default().push((from, args));
            return target;
        }
        let e = self.label();
        self.phis
            .entry(bc.block)
            .or_default()
            .push((e.clone(), args));
        pending.push(format!("{e}:\n  br label %{target}\n"));
        e
    }

    /// Appends the edge blocks of a multi-edge terminator.
    fn flush_edges(&mut self, pending: Vec<String>) {
        for p in pending {
            self.body.push_str(&p);
        }
    }

    fn jump(&mut self, to: &BlockCall) {
        let mut pending = Vec::new();
        let t = self.edge(to, false, &mut pending);
        self.br(&t);
    }

    /// Scheme truth: everything but `#f` is true.
    fn branch_if(&mut self, c: &str, yes: &BlockCall, no: &BlockCall, weight: Weight) {
        let c = self.icmp_v("ne", c, &imm_op(abi::FALSE));
        let mut pending = Vec::new();
        let t = self.edge(yes, true, &mut pending);
        let e = self.edge(no, true, &mut pending);
        self.br_if(&c, &t, &e, weight);
        self.flush_edges(pending);
    }

    /// `switch` on a fixnum: the cases are compared tagged.
    fn switch(&mut self, x: &str, cases: &[i64], targets: &[BlockCall]) {
        let xi = self.int(x);
        let mut pending = Vec::new();
        let dflt = self.edge(&targets[0], true, &mut pending);
        let mut arms = Vec::new();
        for (k, &n) in cases.iter().enumerate() {
            let l = self.edge(&targets[k + 1], true, &mut pending);
            arms.push(format!("i64 {}, label %{l}", n << 3));
        }
        self.line(format!(
            "switch i64 {xi}, label %{dflt} [ {} ]",
            arms.join(" ")
        ));
        self.flush_edges(pending);
    }
}
