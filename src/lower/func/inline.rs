//! Inline primitives beyond the two-argument core of `calls.rs`: lists,
//! `c[ad]+r`, pair mutation, n-ary arithmetic and comparisons, characters,
//! `string-set!`, small vectors, and records (docs/lowering.md, "Inline
//! primitives" and "Records"). Checks that fail call the builtin itself,
//! which raises its usual error, so error texts never change.

use super::*;
use crate::lower::RecordProc;
use valk_vir::{Cond, ValueDef};

impl<'x, 'a, 'g, 't> FnLower<'x, 'a, 'g, 't> {
    /// A fast path built by `fast` (which may branch to the slow block it
    /// is given whenever a check fails) joined with a slow path that calls
    /// builtin `name` with the original arguments.
    fn with_fallback(
        &mut self,
        name: &str,
        vs: &[Value],
        span: Span,
        fast: impl FnOnce(&mut Self, Block) -> Value,
    ) -> Value {
        let slow = self.f.create_block(Some("slow"));
        let join = self.f.create_block(Some("join"));
        let r = self.f.append_block_param(join);
        let v = fast(self, slow);
        self.term(Op::Br, &[], vec![BlockCall::new(join, &[v])]);
        self.switch_to(slow);
        let rt = self.tl.cx.module.builtin(name);
        let s = self.push_at(Op::CallRuntime(rt), vs, span);
        self.term(Op::Br, &[], vec![BlockCall::new(join, &[s])]);
        self.switch_to(join);
        r
    }

    /// Continue in a new block when `c` is true, else go to `slow`.
    fn or_slow(&mut self, c: Value, slow: Block) {
        let ok = self.f.create_block(Some("ok"));
        self.term(
            Op::BrIf,
            &[c],
            vec![BlockCall::new(ok, &[]), BlockCall::new(slow, &[])],
        );
        self.switch_to(ok);
    }

    fn test_or_slow(&mut self, ty: Ty, v: Value, slow: Block) {
        let c = self.push(Op::TypeIs(ty), &[v]);
        self.or_slow(c, slow);
    }

    /// The fixnum a value is defined as, if it is a `fixnum` constant.
    fn const_fixnum(&self, v: Value) -> Option<i64> {
        match self.f.value_def(v) {
            ValueDef::Result(i) => match self.f.inst(i).op {
                Op::Fixnum(n) => Some(n),
                _ => None,
            },
            ValueDef::Param(..) => None,
        }
    }

    /// Is `v` a symbol constant (the name in a record access error)?
    fn is_symbol_const(&self, v: Value) -> bool {
        match self.f.value_def(v) {
            ValueDef::Result(i) => match self.f.inst(i).op {
                Op::Const(c) => matches!(self.tl.cx.module.const_data(c), ConstData::Symbol(_)),
                _ => false,
            },
            ValueDef::Param(..) => false,
        }
    }

    fn runtime(&mut self, name: &str, vs: &[Value], span: Span) -> Value {
        let rt = self.tl.cx.module.builtin(name);
        self.push_at(Op::CallRuntime(rt), vs, span)
    }

    /// Lowers the primitives listed after `StringLength` in [`Prim`].
    pub(super) fn prim_more(&mut self, p: Prim, name: &str, vs: &[Value], span: Span) -> Value {
        match p {
            Prim::List => self.list(vs),
            Prim::Cxr(path) => {
                let x = vs[0];
                self.with_fallback(name, vs, span, |s, slow| {
                    let mut v = x;
                    for step in path.bytes().rev() {
                        s.test_or_slow(Ty::Pair, v, slow);
                        let op = if step == b'a' { Op::Car } else { Op::Cdr };
                        v = s.push(op, &[v]);
                    }
                    v
                })
            }
            Prim::SetCar | Prim::SetCdr => {
                let pair = self.push_at(Op::TypeCheck(Ty::Pair, name.to_string()), &[vs[0]], span);
                let field = u32::from(p == Prim::SetCdr);
                self.effect_at(Op::Store(field), &[pair, vs[1]], span);
                self.unspecified()
            }
            Prim::ArithN(op) => {
                let mut acc = vs[0];
                for &v in &vs[1..] {
                    acc = self.push_at(Op::Fx(op, FxMode::Chk), &[acc, v], span);
                }
                acc
            }
            Prim::CompareN(c) => {
                let cs: Vec<Value> = vs
                    .windows(2)
                    .map(|w| self.push_at(Op::FxCmp(c, Checked::Yes), &[w[0], w[1]], span))
                    .collect();
                self.all_true(&cs)
            }
            Prim::IsZero => {
                let x = vs[0];
                self.with_fallback(name, vs, span, |s, slow| {
                    s.test_or_slow(Ty::Fixnum, x, slow);
                    let z = s.push(Op::Fixnum(0), &[]);
                    s.push(Op::Eq, &[x, z])
                })
            }
            Prim::Eqv | Prim::Equal => {
                let (a, b) = (vs[0], vs[1]);
                // Identity decides for these types of the first argument:
                // a number in fixnum range is always a fixnum (bignums
                // are normalised), and `(eqv? 2 2.0)` is `#f`.
                let identity: &[Ty] = if p == Prim::Eqv {
                    &[Ty::Fixnum, Ty::Symbol]
                } else {
                    &[Ty::Fixnum, Ty::Symbol, Ty::Char, Ty::Boolean, Ty::Null]
                };
                self.with_fallback(name, vs, span, |s, slow| {
                    let done = s.f.create_block(Some("same"));
                    let r = s.f.append_block_param(done);
                    let e = s.push(Op::Eq, &[a, b]);
                    let differ = s.f.create_block(Some("differ"));
                    s.term(
                        Op::BrIf,
                        &[e],
                        vec![BlockCall::new(done, &[e]), BlockCall::new(differ, &[])],
                    );
                    s.switch_to(differ);
                    for &ty in identity {
                        let is = s.push(Op::TypeIs(ty), &[a]);
                        let other = s.f.create_block(Some("other"));
                        s.term(
                            Op::BrIf,
                            &[is],
                            vec![BlockCall::new(done, &[e]), BlockCall::new(other, &[])],
                        );
                        s.switch_to(other);
                    }
                    s.term(Op::Br, &[], vec![BlockCall::new(slow, &[])]);
                    s.switch_to(done);
                    r
                })
            }
            Prim::CharToInteger => {
                let x = vs[0];
                self.with_fallback(name, vs, span, |s, slow| {
                    s.test_or_slow(Ty::Char, x, slow);
                    s.push(Op::CharToInt, &[x])
                })
            }
            Prim::IntegerToChar => {
                let n = vs[0];
                self.with_fallback(name, vs, span, |s, slow| {
                    s.test_or_slow(Ty::Fixnum, n, slow);
                    // A Unicode scalar value: [0, #xD800) or [#xE000, #x10FFFF].
                    let lo = s.push(Op::Fixnum(0xD800), &[]);
                    let below = s.push(Op::FxCmp(Cond::Lt, Checked::No), &[n, lo]);
                    let (low, high, ok) = (
                        s.f.create_block(Some("low")),
                        s.f.create_block(Some("high")),
                        s.f.create_block(Some("scalar")),
                    );
                    s.term(
                        Op::BrIf,
                        &[below],
                        vec![BlockCall::new(low, &[]), BlockCall::new(high, &[])],
                    );
                    s.switch_to(low);
                    let zero = s.push(Op::Fixnum(0), &[]);
                    let nonneg = s.push(Op::FxCmp(Cond::Ge, Checked::No), &[n, zero]);
                    s.term(
                        Op::BrIf,
                        &[nonneg],
                        vec![BlockCall::new(ok, &[]), BlockCall::new(slow, &[])],
                    );
                    s.switch_to(high);
                    let hi = s.push(Op::Fixnum(0xE000), &[]);
                    let above = s.push(Op::FxCmp(Cond::Ge, Checked::No), &[n, hi]);
                    s.or_slow(above, slow);
                    let max = s.push(Op::Fixnum(0x10FFFF), &[]);
                    let in_range = s.push(Op::FxCmp(Cond::Le, Checked::No), &[n, max]);
                    s.term(
                        Op::BrIf,
                        &[in_range],
                        vec![BlockCall::new(ok, &[]), BlockCall::new(slow, &[])],
                    );
                    s.switch_to(ok);
                    s.push(Op::IntToChar, &[n])
                })
            }
            Prim::CharCompare(c) => {
                let (a, b) = (vs[0], vs[1]);
                self.with_fallback(name, vs, span, |s, slow| {
                    s.test_or_slow(Ty::Char, a, slow);
                    s.test_or_slow(Ty::Char, b, slow);
                    if c == Cond::Eq {
                        return s.push(Op::Eq, &[a, b]);
                    }
                    let x = s.push(Op::CharToInt, &[a]);
                    let y = s.push(Op::CharToInt, &[b]);
                    s.push(Op::FxCmp(c, Checked::No), &[x, y])
                })
            }
            Prim::StringSet => {
                let (st, i, ch) = (vs[0], vs[1], vs[2]);
                self.with_fallback(name, vs, span, |s, slow| {
                    s.test_or_slow(Ty::String, st, slow);
                    s.test_or_slow(Ty::Fixnum, i, slow);
                    s.test_or_slow(Ty::Char, ch, slow);
                    s.effect_at(Op::StringSet, &[st, i, ch], span);
                    s.unspecified()
                })
            }
            Prim::Vector => self.push(
                Op::Alloc(valk_vir::ObjKind::Vector, valk_vir::AllocPlace::Heap),
                vs,
            ),
            Prim::MakeVector => match self.const_fixnum(vs[0]) {
                Some(k) if (0..=MAX_INLINE_ARGS as i64).contains(&k) => {
                    let fill = match vs.get(1) {
                        Some(&f) => f,
                        None => self.push(Op::Fixnum(0), &[]),
                    };
                    let fields = vec![fill; k as usize];
                    self.push(
                        Op::Alloc(valk_vir::ObjKind::Vector, valk_vir::AllocPlace::Heap),
                        &fields,
                    )
                }
                _ => self.runtime(name, vs, span),
            },
            Prim::RecordNew => self.push_at(Op::RecordNew, vs, span),
            Prim::RecordIs => self.push(Op::RecordIs, vs),
            Prim::RecordRef => match self.const_fixnum(vs[2]) {
                Some(i) if i >= 0 && self.is_symbol_const(vs[3]) => {
                    self.push_at(Op::RecordRef(i as u32), &[vs[0], vs[1], vs[3]], span)
                }
                _ => self.runtime(name, vs, span),
            },
            Prim::RecordSet => match self.const_fixnum(vs[2]) {
                Some(i) if i >= 0 && self.is_symbol_const(vs[4]) => {
                    self.effect_at(Op::RecordSet(i as u32), &[vs[0], vs[1], vs[3], vs[4]], span);
                    self.unspecified()
                }
                _ => self.runtime(name, vs, span),
            },
            _ => unreachable!("{p:?} is lowered by `prim`"),
        }
    }

    /// `#t` when every one of `cs` (booleans) is true, else `#f`.
    fn all_true(&mut self, cs: &[Value]) -> Value {
        let Some((&last, init)) = cs.split_last() else {
            return self.push(Op::Bool(true), &[]);
        };
        if init.is_empty() {
            return last;
        }
        let join = self.f.create_block(Some("join"));
        let r = self.f.append_block_param(join);
        let f = self.push(Op::Bool(false), &[]);
        for &c in init {
            let next = self.f.create_block(Some("and"));
            self.term(
                Op::BrIf,
                &[c],
                vec![BlockCall::new(next, &[]), BlockCall::new(join, &[f])],
            );
            self.switch_to(next);
        }
        self.term(Op::Br, &[], vec![BlockCall::new(join, &[last])]);
        self.switch_to(join);
        r
    }

    /// A direct call of a procedure `define-record-type` defined at top
    /// level (docs/lowering.md, "Records"): the record operation in line,
    /// with the type descriptor read from the procedure's closure (it
    /// captured it when it was defined). `None`: not such a call.
    pub(super) fn record_call(
        &mut self,
        name: &str,
        fspan: Span,
        args: &'t [Expr],
        span: Span,
    ) -> R<Option<Value>> {
        let Some(rp) = self.tl.cx.globals.records.get(name) else {
            return Ok(None);
        };
        if rp.top >= self.tl.index || args.len() != rp.params {
            return Ok(None);
        }
        let proc_ = rp.kind.clone();
        let clo = self.read_global(name, fspan);
        let rtd = self.push(Op::EnvGet(0), &[clo]);
        let vs = self.args(args)?;
        let who = |s: &mut Self, w: &str| {
            let c = s.tl.cx.module.add_const(ConstData::Symbol(w.to_string()));
            s.push(Op::Const(c), &[])
        };
        let v = match proc_ {
            RecordProc::New(slots) => {
                let mut fields = vec![rtd];
                for slot in slots {
                    fields.push(match slot {
                        Some(k) => vs[k],
                        None => self.push(Op::Bool(false), &[]),
                    });
                }
                self.push_at(Op::RecordNew, &fields, span)
            }
            RecordProc::Is => self.push(Op::RecordIs, &[vs[0], rtd]),
            RecordProc::Ref(i, w) => {
                let w = who(self, &w);
                self.push_at(Op::RecordRef(i), &[vs[0], rtd, w], span)
            }
            RecordProc::Set(i, w) => {
                let w = who(self, &w);
                self.effect_at(Op::RecordSet(i), &[vs[0], rtd, vs[1], w], span);
                self.unspecified()
            }
        };
        Ok(Some(v))
    }
}

use super::prims::MAX_INLINE_ARGS;
