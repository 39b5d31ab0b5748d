//! The VIR data structures: opcodes, instructions, blocks, functions and
//! modules.
//!
//! Every VIR value is a tagged 64-bit Valk value (see
//! `src/runtime/value.rs`): fixnums are `n << 3`, flonums are boxed, heap
//! objects are tagged pointers, `#t #f '()` etc. are immediates. No opcode
//! produces an untagged word yet; unboxing is a later optimisation.

use crate::entity::{Block, ConstId, FuncId, GlobalId, Inst, Loc, Value};
use std::collections::HashMap;

/// Bits of a fixnum payload (mirrors `valk_runtime::value::FIXNUM_BITS`).
pub const FIXNUM_BITS: u32 = 61;
pub const FIXNUM_MAX: i64 = (1i64 << (FIXNUM_BITS - 1)) - 1;
pub const FIXNUM_MIN: i64 = -(1i64 << (FIXNUM_BITS - 1));

/// Is `n` representable as a fixnum?
pub fn fits_fixnum(n: i64) -> bool {
    (FIXNUM_MIN..=FIXNUM_MAX).contains(&n)
}

/// Wrap an integer to the 61-bit fixnum range (two's complement), the
/// result of the unchecked fixnum operations.
pub fn wrap_fixnum(n: i64) -> i64 {
    (n << (64 - FIXNUM_BITS)) >> (64 - FIXNUM_BITS)
}

/// Types that tag tests, checks and casts talk about.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Fixnum,
    Flonum,
    /// Fixnum or flonum.
    Number,
    Pair,
    /// The empty list.
    Null,
    Boolean,
    Char,
    String,
    Symbol,
    Vector,
    Bytevector,
    /// A closure (every procedure value is one).
    Procedure,
    Box,
    Record,
}

impl Ty {
    pub const ALL: [Ty; 14] = [
        Ty::Fixnum,
        Ty::Flonum,
        Ty::Number,
        Ty::Pair,
        Ty::Null,
        Ty::Boolean,
        Ty::Char,
        Ty::String,
        Ty::Symbol,
        Ty::Vector,
        Ty::Bytevector,
        Ty::Procedure,
        Ty::Box,
        Ty::Record,
    ];

    /// The name used in the text format and in wrong-type messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Fixnum => "fixnum",
            Ty::Flonum => "flonum",
            Ty::Number => "number",
            Ty::Pair => "pair",
            Ty::Null => "null",
            Ty::Boolean => "boolean",
            Ty::Char => "char",
            Ty::String => "string",
            Ty::Symbol => "symbol",
            Ty::Vector => "vector",
            Ty::Bytevector => "bytevector",
            Ty::Procedure => "procedure",
            Ty::Box => "box",
            Ty::Record => "record",
        }
    }

    pub fn from_name(s: &str) -> Option<Ty> {
        Ty::ALL.iter().copied().find(|t| t.name() == s)
    }
}

/// Object kinds `alloc` can create (those whose payload is all tagged
/// values; closures have their own opcode).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ObjKind {
    Pair,
    Vector,
    Box,
    Record,
    Values,
}

impl ObjKind {
    pub const ALL: [ObjKind; 5] = [
        ObjKind::Pair,
        ObjKind::Vector,
        ObjKind::Box,
        ObjKind::Record,
        ObjKind::Values,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjKind::Pair => "pair",
            ObjKind::Vector => "vector",
            ObjKind::Box => "box",
            ObjKind::Record => "record",
            ObjKind::Values => "values",
        }
    }

    pub fn from_name(s: &str) -> Option<ObjKind> {
        ObjKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// The exact field count, for kinds that have one.
    pub fn fixed_size(self) -> Option<usize> {
        match self {
            ObjKind::Pair => Some(2),
            ObjKind::Box => Some(1),
            _ => None,
        }
    }
}

/// Fixnum arithmetic operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FxOp {
    Add,
    Sub,
    Mul,
    /// Truncating quotient (`quotient`).
    Quo,
    /// Remainder with the sign of the dividend (`remainder`).
    Rem,
    /// Modulo with the sign of the divisor (`modulo`).
    Mod,
}

impl FxOp {
    pub const ALL: [FxOp; 6] = [
        FxOp::Add,
        FxOp::Sub,
        FxOp::Mul,
        FxOp::Quo,
        FxOp::Rem,
        FxOp::Mod,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FxOp::Add => "add",
            FxOp::Sub => "sub",
            FxOp::Mul => "mul",
            FxOp::Quo => "quo",
            FxOp::Rem => "rem",
            FxOp::Mod => "mod",
        }
    }

    /// The Scheme procedure a checked variant names in its errors.
    pub fn scheme_name(self) -> &'static str {
        match self {
            FxOp::Add => "+",
            FxOp::Sub => "-",
            FxOp::Mul => "*",
            FxOp::Quo => "quotient",
            FxOp::Rem => "remainder",
            FxOp::Mod => "modulo",
        }
    }

    pub fn is_division(self) -> bool {
        matches!(self, FxOp::Quo | FxOp::Rem | FxOp::Mod)
    }

    /// Exact result on integers, `None` on i64 overflow or division by
    /// zero. The caller decides what an out-of-fixnum-range result means.
    pub fn apply(self, a: i64, b: i64) -> Option<i64> {
        match self {
            FxOp::Add => a.checked_add(b),
            FxOp::Sub => a.checked_sub(b),
            FxOp::Mul => a.checked_mul(b),
            FxOp::Quo => a.checked_div(b),
            FxOp::Rem => a.checked_rem(b),
            FxOp::Mod => {
                let r = a.checked_rem(b)?;
                Some(if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                })
            }
        }
    }

    /// The result of the unchecked (`plain`) variant: exact arithmetic
    /// wrapped to 61 bits; `None` only for division by zero.
    pub fn apply_wrapping(self, a: i64, b: i64) -> Option<i64> {
        if self.is_division() && b == 0 {
            return None;
        }
        // Operands are 61-bit, so i128 never overflows here.
        let (a, b) = (a as i128, b as i128);
        let r = match self {
            FxOp::Add => a + b,
            FxOp::Sub => a - b,
            FxOp::Mul => a * b,
            FxOp::Quo => a / b,
            FxOp::Rem => a % b,
            FxOp::Mod => {
                let r = a % b;
                if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }
            }
        };
        Some(wrap_fixnum(r as i64))
    }
}

/// How a fixnum arithmetic instruction treats its operands and result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FxMode {
    /// Operands are fixnums and the result is known to fit (the result
    /// wraps to 61 bits if it does not). `fx.add`.
    Plain,
    /// Operands are fixnums; on overflow the runtime's generic operation
    /// computes the result (promotion). `fx.add.ovf`.
    Ovf,
    /// Operands may be anything: fixnums take the fast path, everything
    /// else goes to the runtime's generic operation, which handles
    /// flonums and raises the wrong-type error. `fx.add.chk`.
    Chk,
}

/// Flonum arithmetic operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FlOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl FlOp {
    pub const ALL: [FlOp; 4] = [FlOp::Add, FlOp::Sub, FlOp::Mul, FlOp::Div];

    pub fn name(self) -> &'static str {
        match self {
            FlOp::Add => "add",
            FlOp::Sub => "sub",
            FlOp::Mul => "mul",
            FlOp::Div => "div",
        }
    }

    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            FlOp::Add => a + b,
            FlOp::Sub => a - b,
            FlOp::Mul => a * b,
            FlOp::Div => a / b,
        }
    }
}

/// Comparison conditions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cond {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cond {
    pub const ALL: [Cond; 6] = [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Le, Cond::Gt, Cond::Ge];

    pub fn name(self) -> &'static str {
        match self {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Lt => "lt",
            Cond::Le => "le",
            Cond::Gt => "gt",
            Cond::Ge => "ge",
        }
    }

    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::Lt => a < b,
            Cond::Le => a <= b,
            Cond::Gt => a > b,
            Cond::Ge => a >= b,
        }
    }
}

/// An opcode with its immediate operands. Value operands live in
/// [`InstData::args`], branch targets in [`InstData::targets`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    // ---- constants (no operands) ----
    /// A fixnum; the immediate must be in fixnum range.
    Fixnum(i64),
    /// A flonum, given by its IEEE bits (boxed at run time).
    Flonum(u64),
    Char(char),
    Bool(bool),
    /// The empty list.
    Nil,
    Unspecified,
    /// The "not yet initialised" marker (`letrec`, unbound globals).
    Undefined,
    /// A heap constant from the module's constant table.
    Const(ConstId),
    /// `[x] -> x`; removed by copy propagation.
    Copy,

    // ---- tags and types ----
    /// `[x] -> fixnum`: the low 3 tag bits of `x`.
    TypeTag,
    /// `[x] -> boolean`: does `x` have type `Ty`?
    TypeIs(Ty),
    /// `[x] -> x`: raises a wrong-type error naming the operation (the
    /// string) unless `x` has type `Ty`.
    TypeCheck(Ty, String),
    /// `[x] -> x`: unchecked cast; the producer guarantees the type.
    Cast(Ty),

    // ---- arithmetic and comparisons ----
    /// `[a, b] -> number`.
    Fx(FxOp, FxMode),
    /// `[fixnum] -> flonum`.
    FxToFl,
    /// `[a, b] -> flonum`; `true` = checked (wrong-type error unless both
    /// are flonums), `false` = operands known to be flonums.
    Fl(FlOp, bool),
    /// `[a, b] -> boolean`; `true` = checked (generic numeric comparison,
    /// wrong-type error on non-numbers), `false` = both fixnums.
    FxCmp(Cond, bool),
    /// `[a, b] -> boolean`; `true` = checked, `false` = both flonums.
    FlCmp(Cond, bool),
    /// `[a, b] -> boolean`: identity (`eq?`).
    Eq,
    /// `[x] -> boolean`: `#t` iff `x` is `#f`.
    Not,

    // ---- memory ----
    /// `[fields...] -> object`: a new object of the kind whose payload is
    /// the operands; `true` = may be allocated on the stack (set by escape
    /// analysis, later).
    Alloc(ObjKind, bool),
    /// `[obj] -> value`: payload field `n` (unchecked).
    Load(u32),
    /// `[obj, v]`: store into payload field `n`, with write barrier.
    Store(u32),
    /// `[a, b] -> pair`.
    Cons,
    /// `[pair] -> value` (unchecked: use `type_check.pair` first).
    Car,
    /// `[pair] -> value` (unchecked).
    Cdr,
    /// `[vector, fixnum] -> value`; raises an index error when out of range.
    VectorRef,
    /// `[vector, fixnum, v]`; raises an index error when out of range.
    VectorSet,
    /// `[vector] -> fixnum`.
    VectorLength,
    /// `[string, fixnum] -> char`; raises an index error when out of range.
    StringRef,
    /// `[string, fixnum, char]`; raises an index error when out of range.
    StringSet,
    /// `[string] -> fixnum`.
    StringLength,
    /// `[v] -> box`: a cell for an assigned, captured variable.
    MakeBox,
    /// `[box] -> value`.
    Unbox,
    /// `[box, v]`.
    SetBox,

    // ---- globals ----
    /// `[] -> value`: read the global's value cell; `true` = raise an
    /// unbound-variable error if the cell holds `undefined`.
    GlobalGet(GlobalId, bool),
    /// `[v]`: write the cell (`define`); `true` = raise an unbound
    /// error first if the cell is unbound (`set!`).
    GlobalSet(GlobalId, bool),

    // ---- calls and closures ----
    /// `[args...] -> value`: direct call of a known function with exactly
    /// its parameters (closure first if it is a closure body).
    Call(FuncId),
    /// `[callee, args...] -> value`: unknown callee; the callee receives
    /// itself and the argument count and checks arity.
    CallClosure,
    /// `[args...] -> value`: call a runtime builtin by name.
    CallRuntime(String),
    /// `[captures...] -> closure` of a closure-body function.
    Closure(FuncId),
    /// `[closure] -> value`: captured variable `n` of a closure.
    EnvGet(u32),
    /// `[captures...] -> continuation`: reify the current continuation
    /// (the return point of this function) composed with the closure-body
    /// function, which receives the values passed to the continuation.
    ContNew(FuncId),

    // ---- terminators ----
    /// `[]`, one target.
    Br,
    /// `[cond]`, targets `[then, else]`; `then` unless `cond` is `#f`.
    BrIf,
    /// `[fixnum]`, targets `[default, case0, case1, ...]`, one immediate
    /// per case.
    Switch(Vec<i64>),
    /// `[v]`.
    Ret,
    /// `[args...]`: direct tail call (`musttail`).
    TailCall(FuncId),
    /// `[callee, args...]`: unknown tail call.
    TailCallClosure,
    /// `[k, values...]`: invoke a continuation; never returns.
    ContCall,
    Unreachable,
}

/// How many value operands an opcode takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArgCount {
    Exact(usize),
    AtLeast(usize),
}

impl ArgCount {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            ArgCount::Exact(k) => n == k,
            ArgCount::AtLeast(k) => n >= k,
        }
    }
}

impl Op {
    pub fn flonum(x: f64) -> Op {
        Op::Flonum(x.to_bits())
    }

    pub fn is_terminator(&self) -> bool {
        matches!(
            self,
            Op::Br
                | Op::BrIf
                | Op::Switch(_)
                | Op::Ret
                | Op::TailCall(_)
                | Op::TailCallClosure
                | Op::ContCall
                | Op::Unreachable
        )
    }

    /// Is this a constant (no operands, no effects)?
    pub fn is_constant(&self) -> bool {
        matches!(
            self,
            Op::Fixnum(_)
                | Op::Flonum(_)
                | Op::Char(_)
                | Op::Bool(_)
                | Op::Nil
                | Op::Unspecified
                | Op::Undefined
                | Op::Const(_)
        )
    }

    pub fn has_result(&self) -> bool {
        !self.is_terminator()
            && !matches!(
                self,
                Op::Store(_) | Op::VectorSet | Op::StringSet | Op::SetBox | Op::GlobalSet(..)
            )
    }

    pub fn arg_count(&self) -> ArgCount {
        use ArgCount::*;
        match self {
            Op::Fixnum(_)
            | Op::Flonum(_)
            | Op::Char(_)
            | Op::Bool(_)
            | Op::Nil
            | Op::Unspecified
            | Op::Undefined
            | Op::Const(_)
            | Op::GlobalGet(..)
            | Op::Br
            | Op::Unreachable => Exact(0),
            Op::Copy
            | Op::TypeTag
            | Op::TypeIs(_)
            | Op::TypeCheck(..)
            | Op::Cast(_)
            | Op::FxToFl
            | Op::Not
            | Op::Load(_)
            | Op::Car
            | Op::Cdr
            | Op::VectorLength
            | Op::StringLength
            | Op::MakeBox
            | Op::Unbox
            | Op::GlobalSet(..)
            | Op::EnvGet(_)
            | Op::BrIf
            | Op::Switch(_)
            | Op::Ret => Exact(1),
            Op::Fx(..)
            | Op::Fl(..)
            | Op::FxCmp(..)
            | Op::FlCmp(..)
            | Op::Eq
            | Op::Store(_)
            | Op::Cons
            | Op::VectorRef
            | Op::StringRef
            | Op::SetBox => Exact(2),
            Op::VectorSet | Op::StringSet => Exact(3),
            Op::Alloc(..)
            | Op::Call(_)
            | Op::CallRuntime(_)
            | Op::Closure(_)
            | Op::ContNew(_)
            | Op::TailCall(_) => AtLeast(0),
            Op::CallClosure | Op::TailCallClosure | Op::ContCall => AtLeast(1),
        }
    }

    /// The number of branch targets (`switch`: one more than its cases).
    pub fn target_count(&self) -> usize {
        match self {
            Op::Br => 1,
            Op::BrIf => 2,
            Op::Switch(cases) => cases.len() + 1,
            _ => 0,
        }
    }

    /// Pure: no side effect, cannot raise, so an instruction whose result
    /// is unused can be deleted. (Allocation counts as pure.)
    pub fn is_pure(&self) -> bool {
        match self {
            Op::Fixnum(_)
            | Op::Flonum(_)
            | Op::Char(_)
            | Op::Bool(_)
            | Op::Nil
            | Op::Unspecified
            | Op::Undefined
            | Op::Const(_)
            | Op::Copy
            | Op::TypeTag
            | Op::TypeIs(_)
            | Op::Cast(_)
            | Op::FxToFl
            | Op::Eq
            | Op::Not
            | Op::Alloc(..)
            | Op::Load(_)
            | Op::Cons
            | Op::Car
            | Op::Cdr
            | Op::VectorLength
            | Op::StringLength
            | Op::MakeBox
            | Op::Unbox
            | Op::Closure(_)
            | Op::EnvGet(_) => true,
            Op::Fx(op, FxMode::Plain) => !op.is_division(),
            Op::Fl(_, checked) | Op::FxCmp(_, checked) | Op::FlCmp(_, checked) => !checked,
            Op::GlobalGet(_, checked) => !checked,
            _ => false,
        }
    }

    /// The referenced function, if any.
    pub fn func_ref(&self) -> Option<FuncId> {
        match self {
            Op::Call(f) | Op::Closure(f) | Op::ContNew(f) | Op::TailCall(f) => Some(*f),
            _ => None,
        }
    }

    /// The mnemonic as printed, including mode suffixes (`fx.add.ovf`,
    /// `type_is.pair`, `alloc.vector.stack`, `global_get.chk`).
    pub fn mnemonic(&self) -> String {
        let chk = |c: bool| if c { ".chk" } else { "" };
        match self {
            Op::Fixnum(_) => "fixnum".into(),
            Op::Flonum(_) => "flonum".into(),
            Op::Char(_) => "char".into(),
            Op::Bool(_) => "bool".into(),
            Op::Nil => "nil".into(),
            Op::Unspecified => "unspecified".into(),
            Op::Undefined => "undefined".into(),
            Op::Const(_) => "const".into(),
            Op::Copy => "copy".into(),
            Op::TypeTag => "type_tag".into(),
            Op::TypeIs(t) => format!("type_is.{}", t.name()),
            Op::TypeCheck(t, _) => format!("type_check.{}", t.name()),
            Op::Cast(t) => format!("cast.{}", t.name()),
            Op::Fx(op, mode) => format!(
                "fx.{}{}",
                op.name(),
                match mode {
                    FxMode::Plain => "",
                    FxMode::Ovf => ".ovf",
                    FxMode::Chk => ".chk",
                }
            ),
            Op::FxToFl => "fx.to_fl".into(),
            Op::Fl(op, c) => format!("fl.{}{}", op.name(), chk(*c)),
            Op::FxCmp(c, k) => format!("fx.{}{}", c.name(), chk(*k)),
            Op::FlCmp(c, k) => format!("fl.{}{}", c.name(), chk(*k)),
            Op::Eq => "eq".into(),
            Op::Not => "not".into(),
            Op::Alloc(k, stack) => {
                format!("alloc.{}{}", k.name(), if *stack { ".stack" } else { "" })
            }
            Op::Load(_) => "load".into(),
            Op::Store(_) => "store".into(),
            Op::Cons => "cons".into(),
            Op::Car => "car".into(),
            Op::Cdr => "cdr".into(),
            Op::VectorRef => "vector_ref".into(),
            Op::VectorSet => "vector_set".into(),
            Op::VectorLength => "vector_length".into(),
            Op::StringRef => "string_ref".into(),
            Op::StringSet => "string_set".into(),
            Op::StringLength => "string_length".into(),
            Op::MakeBox => "box".into(),
            Op::Unbox => "unbox".into(),
            Op::SetBox => "set_box".into(),
            Op::GlobalGet(_, c) => format!("global_get{}", chk(*c)),
            Op::GlobalSet(_, c) => format!("global_set{}", chk(*c)),
            Op::Call(_) => "call".into(),
            Op::CallClosure => "call_closure".into(),
            Op::CallRuntime(_) => "call_runtime".into(),
            Op::Closure(_) => "closure".into(),
            Op::EnvGet(_) => "env_get".into(),
            Op::ContNew(_) => "cont_new".into(),
            Op::Br => "br".into(),
            Op::BrIf => "br_if".into(),
            Op::Switch(_) => "switch".into(),
            Op::Ret => "ret".into(),
            Op::TailCall(_) => "tail_call".into(),
            Op::TailCallClosure => "tail_call_closure".into(),
            Op::ContCall => "cont_call".into(),
            Op::Unreachable => "unreachable".into(),
        }
    }
}

/// A branch target with the arguments for its block parameters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlockCall {
    pub block: Block,
    pub args: Vec<Value>,
}

impl BlockCall {
    pub fn new(block: Block, args: &[Value]) -> BlockCall {
        BlockCall {
            block,
            args: args.to_vec(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct InstData {
    pub op: Op,
    pub args: Vec<Value>,
    pub targets: Vec<BlockCall>,
    pub result: Option<Value>,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default)]
pub struct BlockData {
    /// A debug name (printed as the label when unique).
    pub name: Option<String>,
    pub params: Vec<Value>,
    /// The instructions in order; the last one is the terminator.
    pub insts: Vec<Inst>,
}

/// Where a value is defined.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueDef {
    /// Parameter `n` of a block.
    Param(Block, usize),
    /// The result of an instruction.
    Result(Inst),
}

#[derive(Clone, Debug)]
pub struct ValueData {
    pub def: ValueDef,
    /// A debug name (the source variable), printed when unique.
    pub name: Option<String>,
}

/// A function's calling signature.
///
/// The entry block's parameters are, in order: the closure itself when
/// `closure` is set, the `required` parameters, then the rest list when
/// `rest` is set. A direct `call` passes all of them explicitly (the
/// caller builds the rest list); `call_closure` passes only the arguments
/// and the callee's prologue (generated by the backend from this
/// signature) checks the count and builds the rest list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature {
    pub required: u32,
    pub rest: bool,
    /// The function is the body of a closure and takes it as parameter 0.
    pub closure: bool,
}

impl Signature {
    /// A plain function with `n` required parameters.
    pub fn fixed(n: u32) -> Signature {
        Signature {
            required: n,
            rest: false,
            closure: false,
        }
    }

    /// A closure body with `required` parameters and an optional rest list.
    pub fn closure(required: u32, rest: bool) -> Signature {
        Signature {
            required,
            rest,
            closure: true,
        }
    }

    /// The number of entry-block parameters.
    pub fn param_count(&self) -> usize {
        self.closure as usize + self.required as usize + self.rest as usize
    }
}

/// A VIR function: a CFG of basic blocks with block parameters.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub sig: Signature,
    /// The blocks in order; `layout[0]` is the entry block, whose
    /// parameters are the function's parameters. Blocks not in the layout
    /// are deleted.
    pub layout: Vec<Block>,
    pub blocks: Vec<BlockData>,
    pub insts: Vec<InstData>,
    pub values: Vec<ValueData>,
}

impl Function {
    /// A function with an empty entry block holding the parameters.
    pub fn new(name: &str, sig: Signature) -> Function {
        let mut f = Function {
            name: name.to_string(),
            sig,
            layout: Vec::new(),
            blocks: Vec::new(),
            insts: Vec::new(),
            values: Vec::new(),
        };
        let entry = f.create_block(Some("entry"));
        for _ in 0..sig.param_count() {
            f.append_block_param(entry);
        }
        f
    }

    /// The entry block. Every function has one (`Function::new` creates
    /// it, the validator rejects an empty layout, passes skip one).
    pub fn entry(&self) -> Block {
        self.layout[0]
    }

    /// The function's parameters (the entry block's).
    pub fn params(&self) -> &[Value] {
        &self.blocks[self.entry().index()].params
    }

    /// A new empty block at the end of the layout.
    pub fn create_block(&mut self, name: Option<&str>) -> Block {
        let b = Block::new(self.blocks.len());
        self.blocks.push(BlockData {
            name: name.map(str::to_string),
            ..BlockData::default()
        });
        self.layout.push(b);
        b
    }

    pub fn append_block_param(&mut self, b: Block) -> Value {
        let n = self.blocks[b.index()].params.len();
        let v = self.new_value(ValueDef::Param(b, n));
        self.blocks[b.index()].params.push(v);
        v
    }

    fn new_value(&mut self, def: ValueDef) -> Value {
        let v = Value::new(self.values.len());
        self.values.push(ValueData { def, name: None });
        v
    }

    /// Create an instruction (with a result value if the opcode has one)
    /// without placing it in a block.
    pub fn make_inst(
        &mut self,
        op: Op,
        args: Vec<Value>,
        targets: Vec<BlockCall>,
        loc: Loc,
    ) -> Inst {
        let inst = Inst::new(self.insts.len());
        let result = if op.has_result() {
            Some(self.new_value(ValueDef::Result(inst)))
        } else {
            None
        };
        self.insts.push(InstData {
            op,
            args,
            targets,
            result,
            loc,
        });
        inst
    }

    /// Create an instruction at the end of block `b`.
    pub fn append_inst(
        &mut self,
        b: Block,
        op: Op,
        args: Vec<Value>,
        targets: Vec<BlockCall>,
        loc: Loc,
    ) -> Inst {
        let inst = self.make_inst(op, args, targets, loc);
        self.blocks[b.index()].insts.push(inst);
        inst
    }

    pub fn inst(&self, i: Inst) -> &InstData {
        &self.insts[i.index()]
    }

    pub fn inst_mut(&mut self, i: Inst) -> &mut InstData {
        &mut self.insts[i.index()]
    }

    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.index()]
    }

    pub fn block_mut(&mut self, b: Block) -> &mut BlockData {
        &mut self.blocks[b.index()]
    }

    pub fn value_def(&self, v: Value) -> ValueDef {
        self.values[v.index()].def
    }

    pub fn value_name(&self, v: Value) -> Option<&str> {
        self.values.get(v.index()).and_then(|d| d.name.as_deref())
    }

    pub fn set_value_name(&mut self, v: Value, name: &str) {
        self.values[v.index()].name = Some(name.to_string());
    }

    /// The block's last instruction if it is a terminator.
    pub fn terminator(&self, b: Block) -> Option<Inst> {
        let last = *self.blocks.get(b.index())?.insts.last()?;
        self.insts
            .get(last.index())?
            .op
            .is_terminator()
            .then_some(last)
    }

    /// The distinct successor blocks of `b`, in target order.
    pub fn successors(&self, b: Block) -> Vec<Block> {
        let mut out = Vec::new();
        if let Some(t) = self.terminator(b) {
            for c in &self.insts[t.index()].targets {
                if !out.contains(&c.block) {
                    out.push(c.block);
                }
            }
        }
        out
    }

    pub fn is_in_layout(&self, b: Block) -> bool {
        self.layout.contains(&b)
    }

    /// The containing block of every instruction placed in a laid-out
    /// block (indexed by `Inst`).
    pub fn inst_blocks(&self) -> Vec<Option<Block>> {
        let mut out = vec![None; self.insts.len()];
        for &b in &self.layout {
            for &i in &self.blocks[b.index()].insts {
                out[i.index()] = Some(b);
            }
        }
        out
    }

    /// How often each value is used by laid-out instructions (operands
    /// and branch arguments), indexed by `Value`.
    pub fn use_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.values.len()];
        for &b in &self.layout {
            for &i in &self.blocks[b.index()].insts {
                let d = &self.insts[i.index()];
                for v in d.args.iter().chain(d.targets.iter().flat_map(|c| &c.args)) {
                    if let Some(c) = counts.get_mut(v.index()) {
                        *c += 1;
                    }
                }
            }
        }
        counts
    }

    /// Rewrite every operand and branch argument of laid-out instructions.
    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        for bi in 0..self.layout.len() {
            let b = self.layout[bi];
            for ii in 0..self.blocks[b.index()].insts.len() {
                let i = self.blocks[b.index()].insts[ii];
                let d = &mut self.insts[i.index()];
                for v in d.args.iter_mut() {
                    *v = f(*v);
                }
                for c in d.targets.iter_mut() {
                    for v in c.args.iter_mut() {
                        *v = f(*v);
                    }
                }
            }
        }
    }

    /// Replace uses according to `map`, following chains (`a -> b -> c`).
    pub fn substitute(&mut self, map: &HashMap<Value, Value>) {
        if map.is_empty() {
            return;
        }
        self.map_uses(|mut v| {
            // Bounded walk: a cycle in the map would be a pass bug.
            for _ in 0..=map.len() {
                match map.get(&v) {
                    Some(&w) if w != v => v = w,
                    _ => break,
                }
            }
            v
        });
    }

    /// Remove parameter `idx` of block `b` and the matching argument of
    /// every branch to `b` in laid-out blocks. Must not be used on the
    /// entry block (its parameters are the signature).
    pub fn remove_block_param(&mut self, b: Block, idx: usize) {
        self.blocks[b.index()].params.remove(idx);
        for (n, &p) in self.blocks[b.index()].params.iter().enumerate().skip(idx) {
            self.values[p.index()].def = ValueDef::Param(b, n);
        }
        for bi in 0..self.layout.len() {
            let from = self.layout[bi];
            if let Some(t) = self.terminator(from) {
                for c in self.insts[t.index()].targets.iter_mut() {
                    if c.block == b && idx < c.args.len() {
                        c.args.remove(idx);
                    }
                }
            }
        }
    }

    /// Number of laid-out instructions.
    pub fn inst_count(&self) -> usize {
        self.layout
            .iter()
            .map(|b| self.blocks[b.index()].insts.len())
            .sum()
    }
}

/// A heap constant: a quoted datum.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstData {
    Int(i64),
    Float(f64),
    Bool(bool),
    Char(char),
    Str(String),
    Symbol(String),
    /// `(a b c)` when the tail is `None`, `(a b . c)` otherwise; `()` is
    /// `List(vec![], None)`.
    List(Vec<ConstData>, Option<Box<ConstData>>),
    Vector(Vec<ConstData>),
    Bytevector(Vec<u8>),
}

impl ConstData {
    /// Equality that treats floats by their bits (so NaN equals itself).
    pub fn same(&self, other: &ConstData) -> bool {
        use ConstData::*;
        match (self, other) {
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (List(a, at), List(b, bt)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| x.same(y))
                    && match (at, bt) {
                        (None, None) => true,
                        (Some(x), Some(y)) => x.same(y),
                        _ => false,
                    }
            }
            (Vector(a), Vector(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            _ => self == other,
        }
    }
}

/// A global variable: a named value cell, shared by every module loaded
/// into the same runtime (so the REPL can redefine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalData {
    pub name: String,
}

/// A compilation unit: functions, globals and constants.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub funcs: Vec<Function>,
    pub globals: Vec<GlobalData>,
    pub consts: Vec<ConstData>,
}

impl Module {
    pub fn new() -> Module {
        Module::default()
    }

    pub fn add_function(&mut self, f: Function) -> FuncId {
        self.funcs.push(f);
        FuncId::new(self.funcs.len() - 1)
    }

    /// Reserve an id for a function whose body is built later (for
    /// forward references); fill it with [`Module::define_function`].
    pub fn declare_function(&mut self, name: &str, sig: Signature) -> FuncId {
        self.add_function(Function::new(name, sig))
    }

    pub fn define_function(&mut self, id: FuncId, f: Function) {
        self.funcs[id.index()] = f;
    }

    pub fn func(&self, id: FuncId) -> &Function {
        &self.funcs[id.index()]
    }

    pub fn func_mut(&mut self, id: FuncId) -> &mut Function {
        &mut self.funcs[id.index()]
    }

    /// `base`, or `base.N` for the first `N` that no function uses yet
    /// (function names must be unique within a module).
    pub fn unique_function_name(&self, base: &str) -> String {
        let taken = |n: &str| self.funcs.iter().any(|f| f.name == n);
        if !taken(base) {
            return base.to_string();
        }
        (1..)
            .map(|n| format!("{base}.{n}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }

    pub fn func_by_name(&self, name: &str) -> Option<FuncId> {
        self.funcs
            .iter()
            .position(|f| f.name == name)
            .map(FuncId::new)
    }

    /// The global named `name`, created if new.
    pub fn global(&mut self, name: &str) -> GlobalId {
        if let Some(g) = self.global_by_name(name) {
            return g;
        }
        self.globals.push(GlobalData {
            name: name.to_string(),
        });
        GlobalId::new(self.globals.len() - 1)
    }

    pub fn global_by_name(&self, name: &str) -> Option<GlobalId> {
        self.globals
            .iter()
            .position(|g| g.name == name)
            .map(GlobalId::new)
    }

    pub fn global_name(&self, g: GlobalId) -> &str {
        &self.globals[g.index()].name
    }

    /// Add a constant, reusing an identical one.
    pub fn add_const(&mut self, c: ConstData) -> ConstId {
        if let Some(i) = self.consts.iter().position(|d| d.same(&c)) {
            return ConstId::new(i);
        }
        self.consts.push(c);
        ConstId::new(self.consts.len() - 1)
    }

    pub fn const_data(&self, c: ConstId) -> &ConstData {
        &self.consts[c.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixnum_arith_helpers() {
        assert_eq!(wrap_fixnum(FIXNUM_MAX + 1), FIXNUM_MIN);
        assert_eq!(FxOp::Add.apply_wrapping(FIXNUM_MAX, 1), Some(FIXNUM_MIN));
        assert_eq!(FxOp::Mod.apply(-7, 2), Some(1));
        assert_eq!(FxOp::Rem.apply(-7, 2), Some(-1));
        assert_eq!(FxOp::Mod.apply(7, -2), Some(-1));
        assert_eq!(FxOp::Quo.apply(7, 0), None);
        assert_eq!(FxOp::Quo.apply_wrapping(FIXNUM_MIN, -1), Some(FIXNUM_MIN));
        assert!(fits_fixnum(FIXNUM_MIN) && !fits_fixnum(FIXNUM_MAX + 1));
    }

    #[test]
    fn op_metadata() {
        assert!(Op::Br.is_terminator() && !Op::Br.has_result());
        assert!(!Op::Store(0).has_result() && !Op::Store(0).is_terminator());
        assert_eq!(Op::Switch(vec![1, 2]).target_count(), 3);
        assert!(Op::Fx(FxOp::Add, FxMode::Plain).is_pure());
        assert!(!Op::Fx(FxOp::Quo, FxMode::Plain).is_pure());
        assert!(!Op::Fx(FxOp::Add, FxMode::Chk).is_pure());
        assert!(!Op::GlobalGet(GlobalId(0), true).is_pure());
        assert_eq!(Op::Fx(FxOp::Add, FxMode::Ovf).mnemonic(), "fx.add.ovf");
        assert_eq!(
            Op::Alloc(ObjKind::Vector, true).mnemonic(),
            "alloc.vector.stack"
        );
        assert!(ArgCount::AtLeast(1).accepts(3) && !ArgCount::Exact(1).accepts(2));
    }

    #[test]
    fn function_params_and_blocks() {
        let mut f = Function::new("f", Signature::closure(2, true));
        assert_eq!(f.params().len(), 4);
        let b = f.create_block(None);
        let p = f.append_block_param(b);
        assert_eq!(f.value_def(p), ValueDef::Param(b, 0));
        let q = f.append_block_param(b);
        let e = f.entry();
        f.append_inst(
            e,
            Op::Br,
            vec![],
            vec![BlockCall::new(b, &[p, q])],
            Loc::NONE,
        );
        f.remove_block_param(b, 0);
        assert_eq!(f.value_def(q), ValueDef::Param(b, 0));
        let t = f.terminator(e).unwrap();
        assert_eq!(f.inst(t).targets[0].args, vec![q]);
        assert_eq!(f.successors(e), vec![b]);
    }

    #[test]
    fn module_tables() {
        let mut m = Module::new();
        let g = m.global("x");
        assert_eq!(m.global("x"), g);
        let c = m.add_const(ConstData::Str("a".into()));
        assert_eq!(m.add_const(ConstData::Str("a".into())), c);
        assert_ne!(m.add_const(ConstData::Symbol("a".into())), c);
        let f = m.declare_function("f", Signature::fixed(0));
        assert_eq!(m.func_by_name("f"), Some(f));
        assert_eq!(m.unique_function_name("g"), "g");
        assert_eq!(m.unique_function_name("f"), "f.1");
        m.declare_function("f.1", Signature::fixed(0));
        assert_eq!(m.unique_function_name("f"), "f.2");
    }
}
