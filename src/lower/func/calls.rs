//! Lowering of calls: argument lists, rest lists, direct and closure
//! calls, calls of local (known or contified) and global procedures, arity
//! errors found at compile time, and inlined primitives. Part of
//! [`super::FnLower`] (docs/lowering.md, "Known calls").

use super::*;

/// How a call of a builtin is compiled when it is not a closure call
/// ([`FnLower::builtin_form`]).
#[derive(Clone, Copy)]
enum BuiltinForm {
    /// `eqv?`/`equal?` against a constant compared by identity: `eq`.
    Identity,
    /// In line.
    Prim(Prim),
    /// `call_runtime` of the builtin's function.
    Runtime,
}

impl<'x, 'a, 'g, 't> FnLower<'x, 'a, 'g, 't> {
    pub(super) fn args(&mut self, args: &'t [Expr]) -> R<Vec<Value>> {
        args.iter().map(|a| self.value(a)).collect()
    }

    /// The list of `vs` (a rest argument built by the caller).
    pub(super) fn list(&mut self, vs: &[Value]) -> Value {
        let mut l = self.push(Op::Nil, &[]);
        for &v in vs.iter().rev() {
            l = self.push(Op::Cons, &[v, l]);
        }
        l
    }

    /// Arguments for a function with `nreq` required parameters and maybe
    /// a rest list (the count was checked by the caller).
    fn spread(&mut self, mut vs: Vec<Value>, nreq: usize, rest: bool) -> Vec<Value> {
        if rest {
            let extra = vs.split_off(nreq);
            let l = self.list(&extra);
            vs.push(l);
        }
        vs
    }

    /// Whether calls in return position are tail calls: not in top-level
    /// code, whose frame backtraces show, as the interpreter keeps a
    /// top-level form's activation (docs/debugging.md). A form runs once,
    /// so this costs one frame.
    fn tail_calls(&self) -> bool {
        self.lam.is_some()
    }

    fn direct_call(
        &mut self,
        func: FuncId,
        args: &[Value],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        if cont == Cont::Return && self.tail_calls() {
            self.term_at(Op::TailCall(func), args, span);
            return Ok(None);
        }
        let v = self.push_at(Op::Call(func), args, span);
        self.finish(v, cont)
    }

    fn closure_call(
        &mut self,
        callee: Value,
        args: &[Value],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        let mut all = vec![callee];
        all.extend_from_slice(args);
        if cont == Cont::Return && self.tail_calls() {
            self.term_at(Op::TailCallClosure, &all, span);
            return Ok(None);
        }
        let v = self.push_at(Op::CallClosure, &all, span);
        self.finish(v, cont)
    }

    /// A call of `callee` through the runtime's generic call
    /// (`call_generic`: small code, for paths that almost never run).
    fn generic_call(&mut self, callee: Value, args: &[Value], span: Span) -> Value {
        let mut all = vec![callee];
        all.extend_from_slice(args);
        self.push_at(Op::CallGeneric, &all, span)
    }

    /// A self tail call: back to the loop header of this function.
    fn loop_back(&mut self, args: Vec<Value>, nreq: usize, rest: bool) {
        let vs = self.spread(args, nreq, rest);
        if let Some(h) = self.loop_header {
            self.term(Op::Br, &[], vec![BlockCall::new(h, &vs)]);
        }
    }

    fn arity_error(&mut self, l: &Lambda, got: usize, span: Span, cont: Cont) -> R<Option<Value>> {
        let who = l.name.clone().unwrap_or_else(|| "#<procedure>".into());
        let n = l.params.len();
        let expected = if l.rest.is_some() {
            format!("at least {n}")
        } else {
            n.to_string()
        };
        let m = &mut self.tl.cx.module;
        m.consts.push(ConstData::Str(who));
        let who_c = valk_vir::ConstId::new(m.consts.len() - 1);
        m.consts.push(ConstData::Str(expected));
        let exp_c = valk_vir::ConstId::new(m.consts.len() - 1);
        let a = self.push(Op::Const(who_c), &[]);
        let b = self.push(Op::Const(exp_c), &[]);
        let c = self.push(Op::Fixnum(got as i64), &[]);
        let v = self.push_at(Op::ArityError, &[a, b, c], span);
        self.finish(v, cont)
    }

    pub(super) fn call(
        &mut self,
        e: &'t Expr,
        f: &'t Expr,
        args: &'t [Expr],
        cont: Cont,
    ) -> R<Option<Value>> {
        let span = e.span;
        match &f.kind {
            ExprKind::Global(name) => {
                self.tl.cx.note_callee(span, name);
                self.global_call(name, f.span, args, span, cont)
            }
            ExprKind::Local(x) => self.local_call(*x, f.span, args, span, cont),
            _ => {
                let callee = self.value(f)?;
                let vs = self.args(args)?;
                self.closure_call(callee, &vs, span, cont)
            }
        }
    }

    fn local_call(
        &mut self,
        x: LocalId,
        fspan: Span,
        args: &'t [Expr],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        let info = self.info();
        match (self.env.get(x), info.fun_kind(x)) {
            (_, Some((_, LamKind::Contified))) => {
                let vs = self.args(args)?;
                let (block, carried) = match self.headers.get(&x) {
                    Some(h) => (h.block, h.carried.clone()),
                    None => return Err(internal("call of a contified function before its header")),
                };
                if cont == Cont::Value {
                    return Err(internal("contified call in value position"));
                }
                let mut all = vs;
                all.extend(self.current_values(&carried)?);
                self.term(Op::Br, &[], vec![BlockCall::new(block, &all)]);
                Ok(None)
            }
            (_, Some((id, LamKind::Known))) => {
                let l: &Lambda = info.lams[id].lam;
                let vs = self.args(args)?;
                let (n, rest) = (l.params.len(), l.rest.is_some());
                if vs.len() < n || (!rest && vs.len() > n) {
                    return self.arity_error(l, vs.len(), span, cont);
                }
                if cont == Cont::Return && self.lam == Some(id) && self.loop_header.is_some() {
                    self.loop_back(vs, n, rest);
                    return Ok(None);
                }
                let func = self.tl.lam_funcs[id]
                    .ok_or_else(|| internal("known function without function"))?;
                let mut all = info.lams[id]
                    .free
                    .iter()
                    .map(|&y| self.capture_of(y))
                    .collect::<R<Vec<Value>>>()?;
                all.extend(self.spread(vs, n, rest));
                if cont != Cont::Return && crate::lower::chunk_owner(l).is_some() {
                    // Not a frame in backtraces: the chunk's code is the
                    // caller's own.
                    let loc = self.tl.cx.loc(span);
                    let loc = self.tl.cx.loc_in(loc, &crate::lower::SiteProc::ChunkCall);
                    let v = self
                        .emit(Op::Call(func), &all, Vec::new(), loc)
                        .expect("call has a result");
                    return self.finish(v, cont);
                }
                self.direct_call(func, &all, span, cont)
            }
            (Some(_), Some((id, LamKind::Escaping))) => {
                let l: &Lambda = info.lams[id].lam;
                let callee = self.read_local(x, fspan)?;
                let vs = self.args(args)?;
                let (n, rest) = (l.params.len(), l.rest.is_some());
                if vs.len() < n || (!rest && vs.len() > n) {
                    return self.closure_call(callee, &vs, span, cont);
                }
                if cont == Cont::Return && self.lam == Some(id) && self.loop_header.is_some() {
                    self.loop_back(vs, n, rest);
                    return Ok(None);
                }
                let func =
                    self.tl.lam_funcs[id].ok_or_else(|| internal("lambda without function"))?;
                let mut all = vec![callee];
                all.extend(self.spread(vs, n, rest));
                self.direct_call(func, &all, span, cont)
            }
            _ => {
                let callee = self.read_local(x, fspan)?;
                let vs = self.args(args)?;
                self.closure_call(callee, &vs, span, cont)
            }
        }
    }

    fn global_call(
        &mut self,
        name: &str,
        fspan: Span,
        args: &'t [Expr],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        if name == crate::lower::ffi::CALL {
            if let Some(ff) = crate::lower::ffi::foreign_of(args) {
                let vs = self.args(&args[4..])?;
                let v = self.push_at(Op::FfiCall(Box::new(ff)), &vs, span);
                return self.finish(v, cont);
            }
        }
        let globals = self.tl.cx.globals;
        // An escape-only `call/cc` (docs/continuations.md): the receiver's
        // address names the site.
        let name = match args {
            [receiver] => globals
                .escapes
                .get(&(receiver as *const Expr as usize))
                .copied()
                .unwrap_or(name),
            _ => name,
        };
        let site = name;
        let name = globals.resolve_alias(name, self.tl.index);
        let pristine = globals.is_pristine_builtin(name);
        let builtin = pristine && Self::builtin_form(name, args).is_some();
        // The interpreter frames' accessors of tiering's closure copies
        // stand for local variables: never a call of the global
        // (docs/tiering.md, "Closures over locals").
        let frame_access = name.starts_with("%tier-frame-");
        if builtin && globals.check_builtins && !self.unchecked && !frame_access {
            if let Some(n) = valk_runtime::builtins::redefinition_index(site) {
                return self.checked_builtin(site, name, n, fspan, args, span, cont);
            }
        }
        if pristine {
            if let Some(form @ (BuiltinForm::Identity | BuiltinForm::Prim(_))) =
                Self::builtin_form(name, args)
            {
                let vs = self.args(args)?;
                let v = self.builtin_fast(form, name, &vs, span);
                return self.finish(v, cont);
            }
            if matches!(name, "%capture-continuation" | "%call/ec" | "%tail-call/ec")
                && args.len() == 1
            {
                // Control builtins (capture.rs still counts them as
                // such), but called as `call_runtime`: the backend gives
                // them their own entries, so no generic call frames are
                // copied, and `%call/ec` calls a compiled receiver at its
                // fast entry.
                let vs = self.args(args)?;
                let rt = self.tl.cx.module.builtin(name);
                let v = self.push_at(Op::CallRuntime(rt), &vs, span);
                return self.finish(v, cont);
            }
        }
        if let Some(v) = self.record_call(name, fspan, args, span)? {
            return self.finish(v, cont);
        }
        if let Some(fx) = globals
            .fixed
            .get(name)
            .filter(|fx| !fx.builtin_name || fx.guarded || self.tl.index >= fx.top)
        {
            let argc = args.len();
            if argc >= fx.required && (fx.rest || argc == fx.required) {
                let (func, n, rest) = (fx.func, fx.required, fx.rest);
                if let (true, Some((twin, _))) = (self.unchecked, &fx.twin) {
                    // In a twin: the region's globals hold their procedures.
                    let twin = *twin;
                    let vs = self.args(args)?;
                    if cont == Cont::Return && twin == self.func_id && self.loop_header.is_some() {
                        self.loop_back(vs, n, rest);
                        return Ok(None);
                    }
                    return self.direct_call(twin, &vs, span, cont);
                }
                if fx.guarded {
                    return self.guarded_call(name, fspan, (func, n, rest), args, span, cont);
                }
                if cont == Cont::Return && func == self.func_id && self.loop_header.is_some() {
                    let vs = self.args(args)?;
                    self.loop_back(vs, n, rest);
                    return Ok(None);
                }
                let clo = match self.self_val {
                    Some(me) if func == self.func_id => me,
                    _ => self.read_global(name, fspan),
                };
                let vs = self.args(args)?;
                let mut all = vec![clo];
                all.extend(self.spread(vs, n, rest));
                return self.direct_call(func, &all, span, cont);
            }
        }
        if pristine && prims::runtime_callable(name, args.len()) {
            let vs = self.args(args)?;
            let v = self.builtin_fast(BuiltinForm::Runtime, name, &vs, span);
            return self.finish(v, cont);
        }
        let callee = self.read_global(name, fspan);
        let vs = self.args(args)?;
        self.closure_call(callee, &vs, span, cont)
    }

    /// How a call of builtin `name` (not redefined when the code was
    /// compiled) with `args` is compiled, if not as a closure call.
    fn builtin_form(name: &str, args: &[Expr]) -> Option<BuiltinForm> {
        if matches!(name, "eqv?" | "equal?")
            && args.len() == 2
            && args.iter().any(is_eq_comparable_const)
        {
            // Against a fixnum, character, boolean, symbol or '(), eqv?
            // and equal? are identity.
            return Some(BuiltinForm::Identity);
        }
        if let Some(p) = prims::lookup(name, args.len()) {
            return Some(BuiltinForm::Prim(p));
        }
        prims::runtime_callable(name, args.len()).then_some(BuiltinForm::Runtime)
    }

    /// The call of builtin `name` on `vs` in the form `form`.
    fn builtin_fast(&mut self, form: BuiltinForm, name: &str, vs: &[Value], span: Span) -> Value {
        match form {
            BuiltinForm::Identity => self.push(Op::Eq, vs),
            BuiltinForm::Prim(p) => self.prim(p, name, vs, span),
            BuiltinForm::Runtime => {
                let rt = self.tl.cx.module.builtin(name);
                self.push_at(Op::CallRuntime(rt), vs, span)
            }
        }
    }

    /// A call of global `site`, which held builtin `name` when the code was
    /// compiled, in code compiled before the whole program is known
    /// (`GlobalsInfo::check_builtins`, docs/tiering.md "Redefining
    /// builtins"): `if intact(n) then <the builtin in line> else <call the
    /// global's value>`. As every call, it takes the global's value before
    /// evaluating the arguments: when they run code (which might assign
    /// the global), the value and the test are taken first and kept;
    /// otherwise both are taken after them, where nothing can differ.
    #[allow(clippy::too_many_arguments)]
    fn checked_builtin(
        &mut self,
        site: &str,
        name: &str,
        n: u32,
        fspan: Span,
        args: &'t [Expr],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        let form = Self::builtin_form(name, args).ok_or_else(|| internal("not a builtin form"))?;
        let runs_code = !args.iter().all(|a| {
            matches!(
                a.kind,
                ExprKind::Const(_)
                    | ExprKind::Void
                    | ExprKind::Local(_)
                    | ExprKind::Global(_)
                    | ExprKind::Lambda(_)
            )
        });
        let early = runs_code.then(|| {
            let clo = self.read_global(site, fspan);
            (clo, self.push(Op::Intact(n), &[]))
        });
        let vs = self.args(args)?;
        let test = match early {
            Some((_, t)) => t,
            None => self.push(Op::Intact(n), &[]),
        };
        let known = self.f.create_block(Some("builtin"));
        let redefined = self.f.create_block(Some("redefined"));
        self.term(
            Op::BrIf,
            &[test],
            vec![BlockCall::new(known, &[]), BlockCall::new(redefined, &[])],
        );
        let join = (cont == Cont::Value).then(|| {
            let b = self.f.create_block(Some("join"));
            (b, self.f.append_block_param(b))
        });
        self.switch_to(known);
        let v = self.builtin_fast(form, name, &vs, span);
        match join {
            Some((b, _)) => self.term(Op::Br, &[], vec![BlockCall::new(b, &[v])]),
            None => {
                self.finish(v, cont)?;
            }
        }
        self.switch_to(redefined);
        let clo = match early {
            Some((clo, _)) => clo,
            None => self.read_global(site, fspan),
        };
        match join {
            Some((b, r)) => {
                let w = self.generic_call(clo, &vs, span);
                self.term(Op::Br, &[], vec![BlockCall::new(b, &[w])]);
                self.switch_to(b);
                Ok(Some(r))
            }
            // A tail call stays one (a loop through a redefined builtin
            // runs in constant space).
            None if cont == Cont::Return && self.tail_calls() => {
                self.closure_call(clo, &vs, span, cont)
            }
            None => {
                let w = self.generic_call(clo, &vs, span);
                self.finish(w, cont)
            }
        }
    }

    /// A call of global `name`, which tiered code expects to hold the
    /// closure of `func` (`LowerOptions::guarded`, docs/tiering.md):
    /// `if <the global's value is that closure> then call func directly
    /// (a self tail call: back to the loop header) else call the value`.
    /// The arity matches `func`'s.
    fn guarded_call(
        &mut self,
        name: &str,
        fspan: Span,
        (func, n, rest): (FuncId, usize, bool),
        args: &'t [Expr],
        span: Span,
        cont: Cont,
    ) -> R<Option<Value>> {
        let clo = self.read_global(name, fspan);
        let vs = self.args(args)?;
        let test = match self.self_val {
            Some(me) if func == self.func_id => self.push(Op::Eq, &[clo, me]),
            _ => self.push(Op::ProcIs(func), &[clo]),
        };
        let known = self.f.create_block(Some("known"));
        let unknown = self.f.create_block(Some("unknown"));
        self.term(
            Op::BrIf,
            &[test],
            vec![BlockCall::new(known, &[]), BlockCall::new(unknown, &[])],
        );
        let mut direct = vec![clo];
        direct.extend(self.spread(vs.clone(), n, rest));
        if cont != Cont::Value {
            self.switch_to(known);
            if cont == Cont::Return && func == self.func_id && self.loop_header.is_some() {
                self.loop_back(vs.clone(), n, rest);
            } else {
                self.direct_call(func, &direct, span, cont)?;
            }
            self.switch_to(unknown);
            return self.closure_call(clo, &vs, span, cont);
        }
        let join = self.f.create_block(Some("join"));
        let result = self.f.append_block_param(join);
        for (block, is_direct) in [(known, true), (unknown, false)] {
            self.switch_to(block);
            let v = if is_direct {
                self.direct_call(func, &direct, span, Cont::Value)?
            } else {
                self.closure_call(clo, &vs, span, Cont::Value)?
            }
            .ok_or_else(|| internal("call in value position ended its block"))?;
            self.term(Op::Br, &[], vec![BlockCall::new(join, &[v])]);
        }
        self.switch_to(join);
        Ok(Some(result))
    }

    fn prim(&mut self, p: Prim, name: &str, vs: &[Value], span: Span) -> Value {
        let check = |s: &mut Self, ty: Ty, v: Value| {
            s.push_at(Op::TypeCheck(ty, name.to_string()), &[v], span)
        };
        match p {
            Prim::Car | Prim::Cdr => {
                let pair = check(self, Ty::Pair, vs[0]);
                let op = if p == Prim::Car { Op::Car } else { Op::Cdr };
                self.push(op, &[pair])
            }
            Prim::Cons => self.push(Op::Cons, vs),
            Prim::Arith(op) => self.push_at(Op::Fx(op, FxMode::Chk), vs, span),
            Prim::Compare(c) => self.push_at(Op::FxCmp(c, Checked::Yes), vs, span),
            Prim::Eq => self.push(Op::Eq, vs),
            Prim::Not => self.push(Op::Not, vs),
            Prim::Is(ty) => self.push(Op::TypeIs(ty), vs),
            Prim::VectorRef | Prim::VectorSet => {
                let v = check(self, Ty::Vector, vs[0]);
                let i = check(self, Ty::Fixnum, vs[1]);
                if p == Prim::VectorRef {
                    self.push_at(Op::VectorRef, &[v, i], span)
                } else {
                    self.effect_at(Op::VectorSet, &[v, i, vs[2]], span);
                    self.unspecified()
                }
            }
            Prim::VectorLength => {
                let v = check(self, Ty::Vector, vs[0]);
                self.push(Op::VectorLength, &[v])
            }
            Prim::StringRef => {
                let s = check(self, Ty::String, vs[0]);
                let i = check(self, Ty::Fixnum, vs[1]);
                self.push_at(Op::StringRef, &[s, i], span)
            }
            Prim::StringLength => {
                let s = check(self, Ty::String, vs[0]);
                self.push(Op::StringLength, &[s])
            }
            _ => self.prim_more(p, name, vs, span),
        }
    }
}
