//! Calls and the ways out of a function (docs/calling-convention.md,
//! "Valk-to-Valk calls"): direct calls and `musttail` tail calls of direct
//! entries, the closure-call protocol (compiled closures through their
//! fast entry, `apply` spread in line, anything else through
//! `valk_rt_call`), builtins and runtime helpers through exit trampolines.
//! Results are never tested for `EXCEPTION`: an exception that no handler
//! takes ends the form from the runtime (docs/continuations.md), and a
//! failed check raises by calling a runtime function that does not return.

use super::function::FnEmitter;
use super::prologue::pack_direct_args;
use super::text::{direct_name, imm_op, value_args, Conv, Weight, V};
use super::EmitError;
use crate::abi::{self, field_offset, TAG_CLOSURE, TAG_OBJECT};
use valk_runtime::value::ObjType;
use valk_vir::FuncId;

/// The builtin whose `call_runtime` goes to its own entry
/// (`valk_rt_capture`): the lowering emits it for the prelude's `call/cc`
/// (docs/continuations.md, "Capture").
pub(crate) const CAPTURE: &str = "%capture-continuation";
/// Likewise `(%call/ec f)` (`valk_rt_call_ec`), told the module's generic
/// entry so that a compiled receiver is called at its fast entry
/// (docs/continuations.md, "Escape continuations").
pub(crate) const CALL_EC: &str = "%call/ec";
/// `(%tail-call/ec f)`: as `%call/ec`, but in tail position (a
/// `call_runtime` whose result the next instruction returns) it is
/// `musttail call tailcc @valk_tail_call_ec`, which reuses the escape whose
/// receiver this frame is (docs/continuations.md, "Escape continuations in
/// tail position").
pub(crate) const TAIL_CALL_EC: &str = "%tail-call/ec";

impl FnEmitter<'_, '_, '_> {
    // ---- checks ----

    /// Continues in a fresh block when `c` holds; otherwise runs `fail`
    /// (which must end its block, typically by returning).
    pub(super) fn guard(&mut self, c: &str, fail: impl FnOnce(&mut Self)) {
        let (bad, ok) = (self.label(), self.label());
        self.br_if(c, &ok, &bad, Weight::Likely);
        self.start_block(&bad);
        fail(self);
        self.start_block(&ok);
    }

    /// Calls runtime function `callee`, which always raises, and returns
    /// its result (the exception).
    pub(super) fn raise(&mut self, callee: &str, args: &str) {
        let e = self.call(Conv::C, callee, args);
        self.ret(&e);
    }

    /// Stores `args` into the function's argument array (rooted memory the
    /// runtime reads); returns `%argv`.
    fn argv(&mut self, args: &[String]) -> String {
        self.argv_slots = self.argv_slots.max(args.len().max(1));
        for (i, a) in args.iter().enumerate() {
            let p = self.gep_elem(V, "%argv", i);
            self.store_mem(a, &p);
        }
        "%argv".into()
    }

    // ---- direct calls ----

    /// Arguments of a direct call (packing past six parameters).
    fn direct_args(&mut self, a: &[String]) -> Vec<String> {
        let params: Vec<String> = a.iter().map(|x| format!("{V} {x}")).collect();
        if params.len() <= abi::MAX_DIRECT_PARAMS {
            return params;
        }
        self.tmp += 1;
        let prefix = format!("pk{}", self.tmp);
        let mut s = String::new();
        let out = pack_direct_args(&mut s, params, &prefix);
        self.body.push_str(&s);
        self.cur = format!("{prefix}.join");
        out
    }

    /// Is `f` a closure body whose direct entry takes no closure
    /// (`prologue::selfless_closures`)?
    pub(super) fn selfless(&self, f: FuncId) -> bool {
        self.cx.selfless.get(f.index()).copied().unwrap_or(false)
    }

    /// The VIR arguments of a direct call of `callee` that its direct
    /// entry takes.
    fn entry_args<'s>(&self, callee: FuncId, a: &'s [String]) -> &'s [String] {
        &a[usize::from(self.selfless(callee))..]
    }

    /// A call of direct entry `callee`.
    pub(super) fn direct_call(&mut self, res: &str, callee: FuncId, a: &[String]) {
        let a = self.entry_args(callee, a);
        let args = self.direct_args(a);
        let name = direct_name(self.m, callee);
        self.call_to(res, Conv::Tail, &name, &args.join(", "));
    }

    /// A tail call of direct entry `callee` (`musttail`: constant stack).
    pub(super) fn direct_tail_call(&mut self, callee: FuncId, a: &[String]) {
        let a = self.entry_args(callee, a);
        let args = self.direct_args(a);
        let name = direct_name(self.m, callee);
        let r = self.call(Conv::MustTail, &name, &args.join(", "));
        self.ret(&r);
    }

    // ---- the closure-call protocol ----

    /// Branches to `yes` when `c` (integer `ci`) is a compiled closure,
    /// else to `no`.
    fn branch_if_compiled(&mut self, c: &str, ci: &str, yes: &str, no: &str) {
        let tag = self.tag_of(ci);
        let isclo = self.icmp("eq", &tag, TAG_CLOSURE);
        let l1 = self.label();
        self.br_if(&isclo, &l1, no, Weight::Likely);
        self.start_block(&l1);
        let w0p = self.gep(c, field_offset(TAG_CLOSURE, 0));
        let w0 = self.load("ptr", &w0p);
        let isc = self.def(format!("icmp eq ptr {w0}, @valk_compiled_entry"));
        self.br_if(&isc, yes, no, Weight::Likely);
    }

    /// Calls the fast entry of compiled closure `c` with `argc` (an i64
    /// operand) and the four register arguments; returns the result (for a
    /// tail call the block is closed with `ret`).
    fn fast_call(&mut self, c: &str, argc: &str, regs: &[String], tail: bool) -> String {
        let fp = self.gep(c, field_offset(TAG_CLOSURE, abi::CLOSURE_FAST_ENTRY));
        let fe = self.load("ptr", &fp);
        let call_args = format!("{V} {c}, i64 {argc}, {}", value_args(regs));
        let conv = if tail { Conv::MustTail } else { Conv::Tail };
        let r = self.call(conv, &fe, &call_args);
        if tail {
            self.ret(&r);
        }
        r
    }

    /// The tail call described by call object `sp` (`[procedure, argc,
    /// four registers]`, as `valk_rt_apply_spread` makes it): `musttail`
    /// to the fast entry of a compiled callee, else through
    /// `valk_rt_call_spread`. Closes the block.
    fn spread_tail_call(&mut self, sp: &str) {
        let g = self.load_field(sp, TAG_OBJECT, 0);
        let nv = self.load_field(sp, TAG_OBJECT, 1);
        let nvi = self.int(&nv);
        let nn = self.bin("ashr", &nvi, 3);
        let sregs: Vec<String> = (0..abi::FAST_ARGS)
            .map(|i| self.load_field(sp, TAG_OBJECT, 2 + i))
            .collect();
        let gi = self.int(&g);
        let (lgfast, lgslow) = (self.label(), self.label());
        self.branch_if_compiled(&g, &gi, &lgfast, &lgslow);
        self.start_block(&lgfast);
        self.fast_call(&g, &nn, &sregs, true);
        self.start_block(&lgslow);
        let r = self.call(Conv::C, "@valk_rt_call_spread", &format!("{V} {sp}"));
        self.ret(&r);
    }

    /// A call of an unknown procedure: compiled closures through their
    /// fast entry; `apply` spread in line (so `(apply f l)` in tail
    /// position is a tail call, as in the interpreter); anything else
    /// through `valk_rt_call`.
    pub(super) fn closure_call(&mut self, c: &str, args: &[String], tail: bool) -> String {
        let ci = self.int(c);
        let (lfast, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.branch_if_compiled(c, &ci, &lfast, &lslow);
        self.start_block(&lfast);
        let n = args.len();
        // Unused registers carry null (they are GC values: never garbage).
        let mut regs: Vec<String> = args.iter().take(abi::FAST_ARGS).cloned().collect();
        regs.resize(abi::FAST_ARGS, "null".into());
        if n > abi::FAST_ARGS {
            let extra = &args[abi::FAST_ARGS - 1..];
            let o = self.alloc(ObjType::Vector, extra.len());
            for (i, x) in extra.iter().enumerate() {
                self.store_field(&o, TAG_OBJECT, i, x);
            }
            regs[abi::FAST_ARGS - 1] = o;
        }
        let mut results: Vec<(String, String)> = Vec::new();
        let r1 = self.fast_call(c, &n.to_string(), &regs, tail);
        if !tail {
            results.push((r1, self.cur.clone()));
            self.br(&ljoin);
        }
        self.start_block(&lslow);
        let lplain = self.label();
        if n >= 1 {
            // Is the callee the `apply` builtin?
            let tag = self.tag_of(&ci);
            let isclo = self.icmp("eq", &tag, TAG_CLOSURE);
            let (lchk, lapply) = (self.label(), self.label());
            self.br_if(&isclo, &lchk, &lplain, Weight::Even);
            self.start_block(&lchk);
            let w1p = self.gep(c, field_offset(TAG_CLOSURE, 1));
            let w1 = self.load("i64", &w1p);
            let ai = self.load_mem("i64", "@valk_apply_info");
            let isapply = self.icmp("eq", &w1, &ai);
            self.br_if(&isapply, &lapply, &lplain, Weight::Even);
            self.start_block(&lapply);
            let argv = self.argv(args);
            let sp = self.call(
                Conv::C,
                "@valk_rt_apply_spread",
                &format!("i64 {n}, ptr {argv}"),
            );
            // The spread call: [procedure, argc, four registers].
            let g = self.load_field(&sp, TAG_OBJECT, 0);
            let nv = self.load_field(&sp, TAG_OBJECT, 1);
            let nvi = self.int(&nv);
            let nn = self.bin("ashr", &nvi, 3);
            let sregs: Vec<String> = (0..abi::FAST_ARGS)
                .map(|i| self.load_field(&sp, TAG_OBJECT, 2 + i))
                .collect();
            let gi = self.int(&g);
            let (lgfast, lgslow) = (self.label(), self.label());
            self.branch_if_compiled(&g, &gi, &lgfast, &lgslow);
            self.start_block(&lgfast);
            let r3 = self.fast_call(&g, &nn, &sregs, tail);
            if !tail {
                results.push((r3, self.cur.clone()));
                self.br(&ljoin);
            }
            self.start_block(&lgslow);
            let r4 = self.call(Conv::C, "@valk_rt_call_spread", &format!("{V} {sp}"));
            if tail {
                self.ret(&r4);
            } else {
                results.push((r4, self.cur.clone()));
                self.br(&ljoin);
            }
        } else {
            self.br(&lplain);
        }
        self.start_block(&lplain);
        let argv = self.argv(args);
        let r2 = self.call(
            Conv::C,
            if tail {
                "@valk_rt_tail_call"
            } else {
                "@valk_rt_call"
            },
            &format!("{V} {c}, i64 {n}, ptr {argv}"),
        );
        if tail {
            // An interpreted callee may end in a tail call of compiled
            // code, returned as a call object for this frame to make
            // (docs/tiering.md, "Tail calls across tiers").
            let pending = self.load_mem("i64", "@valk_tail_pending");
            let isp = self.icmp("ne", &pending, "0");
            let (lpend, lret) = (self.label(), self.label());
            self.br_if(&isp, &lpend, &lret, Weight::Unlikely);
            self.start_block(&lpend);
            self.line("store i64 0, ptr @valk_tail_pending");
            self.spread_tail_call(&r2);
            self.start_block(&lret);
            self.ret(&r2);
            // Nothing follows a tail call; keep a block for the emitter.
            self.start_block(&ljoin);
            self.line("unreachable");
            return String::new();
        }
        results.push((r2, self.cur.clone()));
        self.br(&ljoin);
        self.start_block(&ljoin);
        let incoming: Vec<(&str, &str)> = results
            .iter()
            .map(|(v, b)| (v.as_str(), b.as_str()))
            .collect();
        self.phi(V, &incoming)
    }

    /// `call_generic %c(args)`: the runtime's generic call of any
    /// procedure (`valk_rt_call`, which checks the arity and enters
    /// compiled, interpreted and builtin procedures alike). One call site
    /// where `closure_call` has up to four: the slow path of guarded
    /// builtins stays small to compile.
    pub(super) fn generic_call(&mut self, c: &str, args: &[String]) -> String {
        let argv = self.argv(args);
        self.call(
            Conv::C,
            "@valk_rt_call",
            &format!("{V} {c}, i64 {}, ptr {argv}", args.len()),
        )
    }

    // ---- the runtime ----

    /// `check_init %v, %name`: `v` unless it is `undefined`, else raise
    /// `variable used before its definition` naming the symbol `name`.
    pub(super) fn check_init(&mut self, v: &str, sym: &str) -> String {
        let c = self.icmp_v("ne", v, &imm_op(abi::UNDEFINED));
        let args = format!("{V} {sym}");
        self.guard(&c, |e| e.raise("@valk_rt_undefined", &args));
        v.to_string()
    }

    /// `arity_error %who, %expected, %got`: raise the arity error and
    /// return the exception.
    pub(super) fn arity_error(&mut self, who: &str, expected: &str, got: &str) -> String {
        let r = self.call(
            Conv::C,
            "@valk_rt_arity_error",
            &value_args(&[who.to_string(), expected.to_string(), got.to_string()]),
        );
        self.ret(&r);
        // Never returns; later code of the block is unreachable.
        let l = self.label();
        self.start_block(&l);
        imm_op(abi::UNSPECIFIED)
    }

    /// `(%tail-call/ec f)` in tail position: closes the block.
    pub(super) fn tail_call_ec(&mut self, f: &str) {
        let r = self.call(
            Conv::MustTail,
            "@valk_tail_call_ec",
            &format!("{V} {f}, i64 ptrtoint (ptr @valk_compiled_entry to i64)"),
        );
        self.ret(&r);
    }

    /// `call_runtime`: a builtin through `valk_rt_call_builtin` and the
    /// module's builtin table.
    pub(super) fn runtime_call(&mut self, name: &str, a: &[String]) -> Result<String, EmitError> {
        if name.starts_with('$') {
            return Err(EmitError(format!(
                "runtime helper \"{name}\" with {} arguments is not supported",
                a.len()
            )));
        }
        if valk_runtime::builtins::lookup(name).is_none() {
            return Err(EmitError(format!("unknown runtime function \"{name}\"")));
        }
        if name == CAPTURE && a.len() == 1 {
            // Its own entry: no generic builtin frames under the capture.
            return Ok(self.call(Conv::C, "@valk_rt_capture", &format!("{V} {}", a[0])));
        }
        if (name == CALL_EC || name == TAIL_CALL_EC) && a.len() == 1 {
            return Ok(self.call(
                Conv::C,
                "@valk_rt_call_ec",
                &format!(
                    "{V} {}, i64 ptrtoint (ptr @valk_compiled_entry to i64)",
                    a[0]
                ),
            ));
        }
        let b = self.cx.builtin(name);
        let bp = self.gep_elem("ptr", "@valk_builtins", b);
        let bv = self.load_mem("ptr", &bp);
        let argv = self.argv(a);
        let r = self.call(
            Conv::C,
            "@valk_rt_call_builtin",
            &format!("ptr {bv}, i64 {}, ptr {argv}", a.len()),
        );
        Ok(r)
    }
}
