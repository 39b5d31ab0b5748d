//! A small reference evaluator for VIR, used to test that passes preserve
//! meaning. Fixnums are `i64` (61-bit range), heap objects live in a toy
//! heap without collection. Continuation ops are not supported.

use crate::entity::{ConstId, FuncId, Value};
use crate::ir::{fits_fixnum, ConstData, FlOp, Function, FxMode, FxOp, Module, ObjKind, Op, Ty};
use std::collections::HashMap;
use std::fmt;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum EvalValue {
    Fixnum(i64),
    Flonum(f64),
    Bool(bool),
    Char(char),
    Nil,
    Unspecified,
    Undefined,
    /// Index into the toy heap.
    Obj(usize),
}

#[derive(Clone, Debug)]
enum HeapObj {
    Pair(EvalValue, EvalValue),
    /// Vectors, boxes, records, multiple values.
    Fields(ObjKind, Vec<EvalValue>),
    Str(Vec<char>),
    Symbol(String),
    Bytevector(Vec<u8>),
    Closure(FuncId, Vec<EvalValue>),
    /// A number beyond fixnums and flonums, kept as its text: the model
    /// only passes it around and prints it.
    Number(String),
}

/// Why evaluation stopped without a result.
#[derive(Clone, PartialEq, Debug)]
pub enum EvalError {
    WrongType {
        who: String,
        expected: String,
    },
    IndexOutOfRange,
    DivisionByZero,
    Unbound(String),
    /// `check_init` of `undefined`: the variable's name.
    UsedBeforeDefinition(String),
    Arity,
    Unreachable,
    /// An unchecked operation got operands it does not allow (a producer
    /// bug, or random IR that broke a precondition).
    Precondition(String),
    Unsupported(String),
    OutOfFuel,
    StackOverflow,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

type EResult<T> = Result<T, EvalError>;

const MAX_DEPTH: usize = 200;

pub struct Machine<'m> {
    module: &'m Module,
    heap: Vec<HeapObj>,
    pub globals: Vec<EvalValue>,
    consts: HashMap<ConstId, EvalValue>,
    fuel: u64,
    depth: usize,
}

impl<'m> Machine<'m> {
    /// A machine with every global unbound and `fuel` instructions to run.
    pub fn new(module: &'m Module, fuel: u64) -> Machine<'m> {
        Machine {
            module,
            heap: Vec::new(),
            globals: vec![EvalValue::Undefined; module.globals.len()],
            consts: HashMap::new(),
            fuel,
            depth: 0,
        }
    }

    pub fn fixnum_list(&mut self, items: &[i64]) -> EvalValue {
        let mut l = EvalValue::Nil;
        for &n in items.iter().rev() {
            l = self.alloc(HeapObj::Pair(EvalValue::Fixnum(n), l));
        }
        l
    }

    fn alloc(&mut self, o: HeapObj) -> EvalValue {
        self.heap.push(o);
        EvalValue::Obj(self.heap.len() - 1)
    }

    /// Render a value as text (for comparing runs; heap indices vary).
    pub fn render(&self, v: EvalValue) -> String {
        let mut out = String::new();
        self.render_into(&mut out, v, 0);
        out
    }

    fn render_into(&self, out: &mut String, v: EvalValue, depth: usize) {
        if depth > 50 {
            out.push_str("...");
            return;
        }
        match v {
            EvalValue::Fixnum(n) => out.push_str(&n.to_string()),
            EvalValue::Flonum(x) => out.push_str(&crate::write::format_flonum(x)),
            EvalValue::Bool(b) => out.push_str(if b { "#t" } else { "#f" }),
            EvalValue::Char(c) => out.push_str(&crate::write::format_char(c)),
            EvalValue::Nil => out.push_str("()"),
            EvalValue::Unspecified => out.push_str("#<unspecified>"),
            EvalValue::Undefined => out.push_str("#<undefined>"),
            EvalValue::Obj(i) => match &self.heap[i] {
                HeapObj::Pair(a, d) => {
                    out.push('(');
                    self.render_into(out, *a, depth + 1);
                    out.push_str(" . ");
                    self.render_into(out, *d, depth + 1);
                    out.push(')');
                }
                HeapObj::Fields(k, fs) => {
                    out.push_str(&format!("#<{}", k.name()));
                    for f in fs {
                        out.push(' ');
                        self.render_into(out, *f, depth + 1);
                    }
                    out.push('>');
                }
                HeapObj::Str(s) => {
                    out.push_str(&crate::write::quote_string(&s.iter().collect::<String>()))
                }
                HeapObj::Symbol(s) | HeapObj::Number(s) => out.push_str(s),
                HeapObj::Bytevector(b) => out.push_str(&format!("#u8{b:?}")),
                HeapObj::Closure(f, caps) => {
                    out.push_str(&format!("#<procedure {}", self.module.func(*f).name));
                    for c in caps {
                        out.push(' ');
                        self.render_into(out, *c, depth + 1);
                    }
                    out.push('>');
                }
            },
        }
    }

    fn constant(&mut self, c: ConstId) -> EResult<EvalValue> {
        if let Some(&v) = self.consts.get(&c) {
            return Ok(v);
        }
        let data = self
            .module
            .consts
            .get(c.index())
            .ok_or_else(|| EvalError::Precondition(format!("no constant {c}")))?
            .clone();
        let v = self.materialise(&data);
        self.consts.insert(c, v);
        Ok(v)
    }

    fn materialise(&mut self, d: &ConstData) -> EvalValue {
        match d {
            ConstData::Int(n) => EvalValue::Fixnum(*n),
            ConstData::Float(x) => EvalValue::Flonum(*x),
            ConstData::Bool(b) => EvalValue::Bool(*b),
            ConstData::Char(c) => EvalValue::Char(*c),
            ConstData::Str(s) => self.alloc(HeapObj::Str(s.chars().collect())),
            ConstData::Symbol(s) => self.alloc(HeapObj::Symbol(s.clone())),
            ConstData::Number(s) => self.alloc(HeapObj::Number(s.clone())),
            ConstData::Bytevector(b) => self.alloc(HeapObj::Bytevector(b.clone())),
            ConstData::Vector(items) => {
                let vs = items.iter().map(|x| self.materialise(x)).collect();
                self.alloc(HeapObj::Fields(ObjKind::Vector, vs))
            }
            ConstData::List(items, tail) => {
                let mut l = match tail {
                    Some(t) => self.materialise(t),
                    None => EvalValue::Nil,
                };
                for x in items.iter().rev() {
                    let a = self.materialise(x);
                    l = self.alloc(HeapObj::Pair(a, l));
                }
                l
            }
        }
    }

    fn has_type(&self, v: EvalValue, t: Ty) -> bool {
        use EvalValue as V;
        match (v, t) {
            (V::Fixnum(_), Ty::Fixnum | Ty::Number) => true,
            (V::Flonum(_), Ty::Flonum | Ty::Number) => true,
            (V::Bool(_), Ty::Boolean) => true,
            (V::Char(_), Ty::Char) => true,
            (V::Nil, Ty::Null) => true,
            (V::Obj(i), t) => matches!(
                (&self.heap[i], t),
                (HeapObj::Pair(..), Ty::Pair)
                    | (HeapObj::Fields(ObjKind::Vector, _), Ty::Vector)
                    | (HeapObj::Fields(ObjKind::Box, _), Ty::Box)
                    | (HeapObj::Fields(ObjKind::Record, _), Ty::Record)
                    | (HeapObj::Str(_), Ty::String)
                    | (HeapObj::Symbol(_), Ty::Symbol)
                    | (HeapObj::Bytevector(_), Ty::Bytevector)
                    | (HeapObj::Closure(..), Ty::Procedure)
            ),
            _ => false,
        }
    }

    /// Call function `f` with its full parameter list.
    pub fn call(&mut self, f: FuncId, args: Vec<EvalValue>) -> EResult<EvalValue> {
        if self.depth >= MAX_DEPTH {
            return Err(EvalError::StackOverflow);
        }
        self.depth += 1;
        let r = self.run_function(f, args);
        self.depth -= 1;
        r
    }

    /// Parameters for calling closure `c` with `args` (arity checked, rest
    /// list built).
    fn closure_params(
        &mut self,
        c: EvalValue,
        args: &[EvalValue],
    ) -> EResult<(FuncId, Vec<EvalValue>)> {
        let EvalValue::Obj(i) = c else {
            return Err(wrong("apply", "procedure"));
        };
        let HeapObj::Closure(f, _) = &self.heap[i] else {
            return Err(wrong("apply", "procedure"));
        };
        let f = *f;
        let sig = self.module.func(f).sig;
        let req = sig.required as usize;
        if args.len() < req || (!sig.rest && args.len() > req) {
            return Err(EvalError::Arity);
        }
        let mut params = Vec::with_capacity(sig.param_count());
        if sig.closure {
            params.push(c);
        }
        params.extend_from_slice(&args[..req]);
        if sig.rest {
            let mut l = EvalValue::Nil;
            for &a in args[req..].iter().rev() {
                l = self.alloc(HeapObj::Pair(a, l));
            }
            params.push(l);
        }
        Ok((f, params))
    }

    fn run_function(&mut self, mut fid: FuncId, mut args: Vec<EvalValue>) -> EResult<EvalValue> {
        let module = self.module;
        'call: loop {
            let func: &Function = module
                .funcs
                .get(fid.index())
                .ok_or_else(|| EvalError::Precondition(format!("no function {fid}")))?;
            let mut env: Vec<Option<EvalValue>> = vec![None; func.values.len()];
            if args.len() != func.params().len() {
                return Err(EvalError::Arity);
            }
            for (&p, &a) in func.params().iter().zip(&args) {
                env[p.index()] = Some(a);
            }
            let mut block = func.entry();
            loop {
                let insts = &func.block(block).insts;
                for &i in insts {
                    if self.fuel == 0 {
                        return Err(EvalError::OutOfFuel);
                    }
                    self.fuel -= 1;
                    let d = func.inst(i);
                    let get = |v: Value| -> EResult<EvalValue> {
                        env.get(v.index()).copied().flatten().ok_or_else(|| {
                            EvalError::Precondition(format!("{v} read before definition"))
                        })
                    };
                    let a: Vec<EvalValue> =
                        d.args.iter().map(|&v| get(v)).collect::<EResult<_>>()?;
                    if d.op.is_terminator() {
                        match &d.op {
                            Op::Ret => return Ok(a[0]),
                            Op::Unreachable => return Err(EvalError::Unreachable),
                            Op::TailCall(f) => {
                                fid = *f;
                                args = a;
                                continue 'call;
                            }
                            Op::TailCallClosure => {
                                let (f, ps) = self.closure_params(a[0], &a[1..])?;
                                fid = f;
                                args = ps;
                                continue 'call;
                            }
                            Op::ContCall => return Err(EvalError::Unsupported("cont_call".into())),
                            _ => {}
                        }
                        let t = match &d.op {
                            Op::Br => 0,
                            Op::BrIf => usize::from(a[0] == EvalValue::Bool(false)),
                            Op::Switch(cases) => match a[0] {
                                EvalValue::Fixnum(n) => {
                                    cases.iter().position(|&c| c == n).map_or(0, |p| p + 1)
                                }
                                _ => {
                                    return Err(EvalError::Precondition(
                                        "switch on a non-fixnum".into(),
                                    ))
                                }
                            },
                            _ => unreachable!("all terminators handled"),
                        };
                        let call = &d.targets[t];
                        let vals: Vec<EvalValue> =
                            call.args.iter().map(|&v| get(v)).collect::<EResult<_>>()?;
                        for (&p, v) in func.block(call.block).params.iter().zip(vals) {
                            env[p.index()] = Some(v);
                        }
                        block = call.block;
                        break;
                    }
                    let r = self.exec(&d.op, &a)?;
                    if let Some(res) = d.result {
                        env[res.index()] = Some(r);
                    }
                }
            }
        }
    }

    fn fixnum(&self, v: EvalValue, who: &str) -> EResult<i64> {
        match v {
            EvalValue::Fixnum(n) => Ok(n),
            _ => Err(EvalError::Precondition(format!("{who}: not a fixnum"))),
        }
    }

    fn number(v: EvalValue) -> Option<f64> {
        match v {
            EvalValue::Fixnum(n) => Some(n as f64),
            EvalValue::Flonum(x) => Some(x),
            _ => None,
        }
    }

    /// Is `v` a record (an `alloc.record` or `record_new` object) whose
    /// type word is `rtd`?
    fn record_of(&self, v: EvalValue, rtd: EvalValue) -> bool {
        match v {
            EvalValue::Obj(i) => matches!(
                &self.heap[i],
                HeapObj::Fields(ObjKind::Record, fs) if fs.first() == Some(&rtd)
            ),
            _ => false,
        }
    }

    fn fields(&mut self, v: EvalValue, who: &str) -> EResult<&mut Vec<EvalValue>> {
        match v {
            EvalValue::Obj(i) => match &mut self.heap[i] {
                HeapObj::Fields(_, fs) | HeapObj::Closure(_, fs) => Ok(fs),
                _ => Err(EvalError::Precondition(format!("{who}: no fields"))),
            },
            _ => Err(EvalError::Precondition(format!("{who}: not an object"))),
        }
    }

    /// Execute a non-terminator.
    fn exec(&mut self, op: &Op, a: &[EvalValue]) -> EResult<EvalValue> {
        use EvalValue as V;
        Ok(match op {
            Op::Fixnum(n) => V::Fixnum(*n),
            Op::Flonum(b) => V::Flonum(f64::from_bits(*b)),
            Op::Char(c) => V::Char(*c),
            Op::Bool(b) => V::Bool(*b),
            Op::Nil => V::Nil,
            Op::Unspecified => V::Unspecified,
            Op::Undefined => V::Undefined,
            Op::Const(c) => self.constant(*c)?,
            Op::Copy | Op::Cast(_) => a[0],
            Op::TypeTag => V::Fixnum(match a[0] {
                V::Fixnum(_) => 0,
                V::Obj(i) => match self.heap[i] {
                    HeapObj::Pair(..) => 1,
                    HeapObj::Closure(..) => 5,
                    _ => 3,
                },
                V::Flonum(_) => 3,
                _ => 6,
            }),
            Op::TypeIs(t) => V::Bool(self.has_type(a[0], *t)),
            Op::TypeCheck(t, who) => {
                if !self.has_type(a[0], *t) {
                    return Err(wrong(who, t.name()));
                }
                a[0]
            }
            Op::Fx(fop, mode) => self.fx(*fop, *mode, a[0], a[1])?,
            Op::FxToFl => V::Flonum(self.fixnum(a[0], "fx.to_fl")? as f64),
            Op::Fl(fop, checked) => match (a[0], a[1]) {
                (V::Flonum(x), V::Flonum(y)) => V::Flonum(fop.apply(x, y)),
                _ if checked.is_checked() => return Err(wrong(fl_name(*fop), "flonum")),
                _ => return Err(EvalError::Precondition("fl: not flonums".into())),
            },
            Op::FxCmp(c, checked) => match (a[0], a[1]) {
                (V::Fixnum(x), V::Fixnum(y)) => V::Bool(c.holds(x, y)),
                (x, y) if checked.is_checked() => match (Self::number(x), Self::number(y)) {
                    (Some(x), Some(y)) => V::Bool(c.holds(x, y)),
                    _ => return Err(wrong(c.name(), "number")),
                },
                _ => return Err(EvalError::Precondition("fx cmp: not fixnums".into())),
            },
            Op::FlCmp(c, checked) => match (a[0], a[1]) {
                (V::Flonum(x), V::Flonum(y)) => V::Bool(c.holds(x, y)),
                _ if checked.is_checked() => return Err(wrong(c.name(), "flonum")),
                _ => return Err(EvalError::Precondition("fl cmp: not flonums".into())),
            },
            Op::Eq => V::Bool(match (a[0], a[1]) {
                (V::Flonum(x), V::Flonum(y)) => x.to_bits() == y.to_bits(),
                (x, y) => x == y,
            }),
            Op::Not => V::Bool(a[0] == V::Bool(false)),
            Op::Alloc(kind, _) => match kind {
                ObjKind::Pair => self.alloc(HeapObj::Pair(a[0], a[1])),
                k => self.alloc(HeapObj::Fields(*k, a.to_vec())),
            },
            Op::Load(n) => match a[0] {
                V::Obj(i) => match &self.heap[i] {
                    HeapObj::Pair(x, y) => [*x, *y].get(*n as usize).copied(),
                    HeapObj::Fields(_, fs) => fs.get(*n as usize).copied(),
                    _ => None,
                }
                .ok_or_else(|| EvalError::Precondition("load: bad field".into()))?,
                _ => return Err(EvalError::Precondition("load: not an object".into())),
            },
            Op::Store(n) => {
                let idx = *n as usize;
                match a[0] {
                    V::Obj(i) => match &mut self.heap[i] {
                        HeapObj::Pair(x, y) if idx < 2 => *[x, y][idx] = a[1],
                        HeapObj::Fields(_, fs) if idx < fs.len() => fs[idx] = a[1],
                        _ => return Err(EvalError::Precondition("store: bad field".into())),
                    },
                    _ => return Err(EvalError::Precondition("store: not an object".into())),
                }
                V::Unspecified
            }
            Op::Cons => self.alloc(HeapObj::Pair(a[0], a[1])),
            Op::Car | Op::Cdr => match a[0] {
                V::Obj(i) => match self.heap[i] {
                    HeapObj::Pair(x, y) => {
                        if *op == Op::Car {
                            x
                        } else {
                            y
                        }
                    }
                    _ => return Err(EvalError::Precondition("car/cdr: not a pair".into())),
                },
                _ => return Err(EvalError::Precondition("car/cdr: not a pair".into())),
            },
            Op::VectorRef | Op::VectorSet | Op::VectorLength => {
                let who = op.mnemonic();
                let idx = if *op == Op::VectorLength {
                    0
                } else {
                    self.fixnum(a[1], &who)?
                };
                let fs = self.fields(a[0], &who)?;
                if *op == Op::VectorLength {
                    return Ok(V::Fixnum(fs.len() as i64));
                }
                let slot = usize::try_from(idx)
                    .ok()
                    .filter(|&k| k < fs.len())
                    .ok_or(EvalError::IndexOutOfRange)?;
                if *op == Op::VectorRef {
                    fs[slot]
                } else {
                    fs[slot] = a[2];
                    V::Unspecified
                }
            }
            Op::StringRef | Op::StringSet | Op::StringLength => {
                let idx = if *op == Op::StringLength {
                    0
                } else {
                    self.fixnum(a[1], "string")?
                };
                let V::Obj(i) = a[0] else {
                    return Err(EvalError::Precondition("string op: not a string".into()));
                };
                let HeapObj::Str(s) = &mut self.heap[i] else {
                    return Err(EvalError::Precondition("string op: not a string".into()));
                };
                if *op == Op::StringLength {
                    return Ok(V::Fixnum(s.len() as i64));
                }
                let slot = usize::try_from(idx)
                    .ok()
                    .filter(|&k| k < s.len())
                    .ok_or(EvalError::IndexOutOfRange)?;
                if *op == Op::StringRef {
                    V::Char(s[slot])
                } else {
                    let V::Char(c) = a[2] else {
                        return Err(EvalError::Precondition("string_set: not a char".into()));
                    };
                    s[slot] = c;
                    V::Unspecified
                }
            }
            Op::MakeBox => self.alloc(HeapObj::Fields(ObjKind::Box, vec![a[0]])),
            Op::Unbox => self.fields(a[0], "unbox")?[0],
            Op::SetBox => {
                self.fields(a[0], "set_box")?[0] = a[1];
                V::Unspecified
            }
            Op::RecordNew => self.alloc(HeapObj::Fields(ObjKind::Record, a.to_vec())),
            Op::RecordIs => V::Bool(self.record_of(a[0], a[1])),
            Op::RecordRef(n) | Op::RecordSet(n) => {
                let who = if *op == Op::RecordRef(*n) { a[2] } else { a[3] };
                if !self.record_of(a[0], a[1]) {
                    return Err(wrong(&self.render(who), "record"));
                }
                let fs = self.fields(a[0], "record")?;
                let slot = 1 + *n as usize;
                if slot >= fs.len() {
                    return Err(EvalError::Precondition("record: no such field".into()));
                }
                if *op == Op::RecordRef(*n) {
                    fs[slot]
                } else {
                    fs[slot] = a[2];
                    V::Unspecified
                }
            }
            Op::CharToInt => match a[0] {
                V::Char(c) => V::Fixnum(c as i64),
                _ => return Err(EvalError::Precondition("char_to_int: not a char".into())),
            },
            Op::IntToChar => match a[0] {
                V::Fixnum(n) => u32::try_from(n)
                    .ok()
                    .and_then(char::from_u32)
                    .map(V::Char)
                    .ok_or_else(|| EvalError::Precondition("int_to_char: not a scalar".into()))?,
                _ => return Err(EvalError::Precondition("int_to_char: not a fixnum".into())),
            },
            Op::GlobalGet(g, checked) => {
                let v = self.globals[g.index()];
                if checked.is_checked() && v == V::Undefined {
                    return Err(EvalError::Unbound(self.module.global_name(*g).to_string()));
                }
                v
            }
            Op::GlobalSet(g, checked) => {
                if checked.is_checked() && self.globals[g.index()] == V::Undefined {
                    return Err(EvalError::Unbound(self.module.global_name(*g).to_string()));
                }
                self.globals[g.index()] = a[0];
                V::Unspecified
            }
            Op::Call(f) => self.call(*f, a.to_vec())?,
            Op::CallClosure | Op::CallGeneric => {
                let (f, ps) = self.closure_params(a[0], &a[1..])?;
                self.call(f, ps)?
            }
            Op::CheckInit => {
                if a[0] == V::Undefined {
                    return Err(EvalError::UsedBeforeDefinition(self.render(a[1])));
                }
                a[0]
            }
            Op::ArityError => return Err(EvalError::Arity),
            Op::CallRuntime(b) => self.runtime(self.module.builtin_name(*b), a)?,
            Op::Closure(f) => self.alloc(HeapObj::Closure(*f, a.to_vec())),
            Op::ProcIs(f) => V::Bool(
                matches!(a[0], V::Obj(i) if matches!(&self.heap[i], HeapObj::Closure(g, _) if g == f)),
            ),
            // One module runs here: a builtin it does not define itself
            // is never redefined.
            Op::Intact(_) => V::Bool(true),
            Op::GlobalWritten(..) => V::Unspecified,
            Op::EnvGet(n) => self
                .fields(a[0], "env_get")?
                .get(*n as usize)
                .copied()
                .ok_or_else(|| EvalError::Precondition("env_get: no such capture".into()))?,
            Op::ContNew(_) => return Err(EvalError::Unsupported("cont_new".into())),
            // The reference evaluator has no C functions to call.
            Op::FfiCall(_) => return Err(EvalError::Unsupported("ffi_call".into())),
            _ => {
                return Err(EvalError::Precondition(format!(
                    "{} is a terminator",
                    op.mnemonic()
                )))
            }
        })
    }

    fn fx(&mut self, op: FxOp, mode: FxMode, x: EvalValue, y: EvalValue) -> EResult<EvalValue> {
        use EvalValue as V;
        match (x, y) {
            (V::Fixnum(a), V::Fixnum(b)) => {
                if op.is_division() && b == 0 {
                    return Err(EvalError::DivisionByZero);
                }
                if mode == FxMode::Plain {
                    return Ok(V::Fixnum(op.apply_wrapping(a, b).unwrap_or(0)));
                }
                match op.apply(a, b).filter(|&r| fits_fixnum(r)) {
                    Some(r) => Ok(V::Fixnum(r)),
                    // The generic slow path: no bignums, so promote.
                    None => Ok(V::Flonum(flo_apply(op, a as f64, b as f64))),
                }
            }
            _ if mode == FxMode::Chk => match (Self::number(x), Self::number(y)) {
                (Some(a), Some(b)) => {
                    if op.is_division() && b == 0.0 {
                        return Err(EvalError::DivisionByZero);
                    }
                    Ok(V::Flonum(flo_apply(op, a, b)))
                }
                _ => Err(wrong(op.scheme_name(), "number")),
            },
            _ => Err(EvalError::Precondition(format!(
                "fx.{}: not fixnums",
                op.name()
            ))),
        }
    }

    /// A handful of builtins for tests.
    fn runtime(&mut self, name: &str, a: &[EvalValue]) -> EResult<EvalValue> {
        match name {
            "list" => {
                let mut l = EvalValue::Nil;
                for &x in a.iter().rev() {
                    l = self.alloc(HeapObj::Pair(x, l));
                }
                Ok(l)
            }
            "vector" => Ok(self.alloc(HeapObj::Fields(ObjKind::Vector, a.to_vec()))),
            _ => Err(EvalError::Unsupported(format!("runtime builtin {name}"))),
        }
    }
}

fn flo_apply(op: FxOp, a: f64, b: f64) -> f64 {
    match op {
        FxOp::Add => a + b,
        FxOp::Sub => a - b,
        FxOp::Mul => a * b,
        FxOp::Quo => (a / b).trunc(),
        FxOp::Rem => a % b,
        FxOp::Mod => a - b * (a / b).floor(),
    }
}

fn fl_name(op: FlOp) -> &'static str {
    match op {
        FlOp::Add => "+",
        FlOp::Sub => "-",
        FlOp::Mul => "*",
        FlOp::Div => "/",
    }
}

fn wrong(who: &str, expected: &str) -> EvalError {
    EvalError::WrongType {
        who: who.to_string(),
        expected: expected.to_string(),
    }
}

/// Run `func` of `module` with `args` and at most `fuel` instructions;
/// the outcome is rendered as text together with the final globals, so
/// two runs can be compared.
pub fn run_to_string(module: &Module, func: FuncId, args: &[i64], fuel: u64) -> (String, bool) {
    let mut m = Machine::new(module, fuel);
    let args = args.iter().map(|&n| EvalValue::Fixnum(n)).collect();
    let r = m.call(func, args);
    let out_of_fuel = r == Err(EvalError::OutOfFuel);
    let mut s = match r {
        Ok(v) => m.render(v),
        Err(e) => format!("error: {e}"),
    };
    for (i, g) in m.globals.clone().into_iter().enumerate() {
        s.push_str(&format!("\n${} = {}", module.globals[i].name, m.render(g)));
    }
    (s, out_of_fuel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;

    fn eval(text: &str, args: &[i64]) -> String {
        let m = parse_module(text).unwrap();
        crate::verify::verify_module(&m).unwrap();
        run_to_string(&m, FuncId(0), args, 100_000).0
    }

    const FIB: &str = "function @fib(%n) arity 1 {
entry:
  %0 = fixnum 2
  %1 = fx.lt %n, %0
  br_if %1, then(), else()
then:
  ret %n
else:
  %2 = fixnum 1
  %3 = fx.sub %n, %2
  %4 = call @fib(%3)
  %5 = fx.sub %n, %0
  %6 = call @fib(%5)
  %7 = fx.add.ovf %4, %6
  ret %7
}
";

    #[test]
    fn fib() {
        assert_eq!(eval(FIB, &[10]), "55");
    }

    #[test]
    fn closures_boxes_and_tail_calls() {
        let text = "global $counter

function @main(%n) arity 1 {
entry:
  %0 = fixnum 0
  %b = box %0
  %k = closure @add(%b)
  tail_call @loop(%k, %n)
}

function @loop(%k, %n) arity 2 {
entry:
  %0 = fixnum 0
  %1 = fx.eq %n, %0
  br_if %1, done(), more()
done:
  %r = call_closure %k()
  %l = call_runtime \"list\"(%r, %r)
  global_set $counter, %r
  ret %l
more:
  %2 = call_closure %k(%n)
  %3 = fixnum 1
  %4 = fx.sub %n, %3
  tail_call @loop(%k, %4)
}

function @add(%self, %x) arity 0 rest closure {
entry:
  %b = env_get %self, 0
  %0 = type_is.null %x
  br_if %0, get(), put()
get:
  %v = unbox %b
  ret %v
put:
  %a = car %x
  %old = unbox %b
  %new = fx.add.chk %old, %a
  set_box %b, %new
  ret %new
}
";
        assert_eq!(eval(text, &[4]), "(10 . (10 . ()))\n$counter = 10");
    }

    #[test]
    fn errors() {
        let text = "global $g

function @f(%x) arity 1 {
entry:
  %c = const #0
  %0 = type_check.pair %x, \"car\"
  ret %0
}
";
        let text = text.replace("function", "const #0 = (1 2)\n\nfunction");
        assert_eq!(
            eval(&text, &[1]),
            "error: WrongType { who: \"car\", expected: \"pair\" }\n$g = #<undefined>"
        );
        let text2 = "global $g\n\nfunction @f(%x) arity 1 {\nentry:\n  %0 = global_get.chk $g\n  ret %0\n}\n";
        assert_eq!(
            eval(text2, &[1]),
            "error: Unbound(\"g\")\n$g = #<undefined>"
        );
        let text3 = "function @f(%x) arity 1 {\nentry:\n  %0 = fixnum 0\n  %1 = fx.quo.chk %x, %0\n  ret %1\n}\n";
        assert_eq!(eval(text3, &[1]), "error: DivisionByZero");
        let text4 = "function @f(%x) arity 1 {\nentry:\n  br l()\nl:\n  br l()\n}\n";
        assert_eq!(eval(text4, &[1]), "error: OutOfFuel");
    }

    #[test]
    fn overflow_promotes() {
        let text = "function @f(%x) arity 1 {\nentry:\n  %0 = fx.mul.ovf %x, %x\n  %1 = fx.mul %x, %x\n  %2 = call_runtime \"list\"(%0, %1)\n  ret %2\n}\n";
        assert_eq!(eval(text, &[1 << 40]), "(1.2089258196146292e24 . (0 . ()))");
    }
}
