//! The VIR data structures: opcodes, instructions, blocks, functions and
//! modules.
//!
//! Every VIR value is a tagged 64-bit Valk value (see
//! `src/runtime/value.rs`): fixnums are `n << 3`, flonums are boxed, heap
//! objects are tagged pointers, `#t #f '()` etc. are immediates. No opcode
//! produces an untagged word yet; unboxing is a later optimisation.

use crate::entity::{Block, BuiltinId, ConstId, FuncId, GlobalId, Inst, Loc, Value};
pub use crate::ops::{AllocPlace, ArgCount, Checked, Op};
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

/// The C types of a foreign call (`ffi_call`, docs/vir.md); the runtime's
/// `CType` in the same order (`valk_runtime::ffi::typed::TYPE_CODES`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FfiTy {
    Void,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Float,
    Double,
    Bool,
    Pointer,
    String,
    Bytevector,
}

impl FfiTy {
    pub const ALL: [FfiTy; 15] = [
        FfiTy::Void,
        FfiTy::I8,
        FfiTy::I16,
        FfiTy::I32,
        FfiTy::I64,
        FfiTy::U8,
        FfiTy::U16,
        FfiTy::U32,
        FfiTy::U64,
        FfiTy::Float,
        FfiTy::Double,
        FfiTy::Bool,
        FfiTy::Pointer,
        FfiTy::String,
        FfiTy::Bytevector,
    ];

    /// The name in the text format (the runtime's canonical C type names).
    pub fn name(self) -> &'static str {
        match self {
            FfiTy::Void => "void",
            FfiTy::I8 => "int8",
            FfiTy::I16 => "int16",
            FfiTy::I32 => "int",
            FfiTy::I64 => "int64",
            FfiTy::U8 => "uint8",
            FfiTy::U16 => "uint16",
            FfiTy::U32 => "uint32",
            FfiTy::U64 => "uint64",
            FfiTy::Float => "float",
            FfiTy::Double => "double",
            FfiTy::Bool => "bool",
            FfiTy::Pointer => "pointer",
            FfiTy::String => "string",
            FfiTy::Bytevector => "bytevector",
        }
    }

    pub fn from_name(name: &str) -> Option<FfiTy> {
        FfiTy::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The index in [`FfiTy::ALL`] (the code passed to the runtime).
    pub fn code(self) -> u64 {
        FfiTy::ALL.iter().position(|&t| t == self).unwrap_or(0) as u64
    }

    /// The range of an integer type, `None` for the others.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            FfiTy::I8 => (i8::MIN as i128, i8::MAX as i128),
            FfiTy::I16 => (i16::MIN as i128, i16::MAX as i128),
            FfiTy::I32 => (i32::MIN as i128, i32::MAX as i128),
            FfiTy::I64 => (i64::MIN as i128, i64::MAX as i128),
            FfiTy::U8 => (0, u8::MAX as i128),
            FfiTy::U16 => (0, u16::MAX as i128),
            FfiTy::U32 => (0, u32::MAX as i128),
            FfiTy::U64 => (0, u64::MAX as i128),
            _ => return None,
        })
    }
}

/// The C function an `ffi_call` calls: library (`None`: the process),
/// symbol and signature (fixed arguments only).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Foreign {
    pub lib: Option<String>,
    pub sym: String,
    pub args: Vec<FfiTy>,
    pub ret: FfiTy,
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
    /// Any other number, as its canonical external representation
    /// (docs/numbers.md): a bignum, an exact rational, a complex number.
    Number(String),
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

/// A compilation unit: functions, globals, constants and the names of
/// the runtime builtins its `call_runtime` instructions call.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub funcs: Vec<Function>,
    pub globals: Vec<GlobalData>,
    pub consts: Vec<ConstData>,
    /// Runtime builtins by Scheme name (`"string-append"`), indexed by
    /// `BuiltinId`. Not printed: the text names the builtin at each call.
    pub builtins: Vec<String>,
    /// Locations of code copied by inlining (`Loc::inlined(i)`): entry `i`
    /// is code at `loc` inlined at the call at `at`, so backtraces keep
    /// the inlined procedure's frame (docs/vir.md, "Locations").
    pub inlined: Vec<InlinedLoc>,
}

/// A location in inlined code: the callee's location and the call's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InlinedLoc {
    pub loc: Loc,
    pub at: Loc,
}

impl Module {
    pub fn new() -> Module {
        Module::default()
    }

    /// The lowering's location behind `loc` (the innermost code's, for
    /// inlined locations).
    pub fn original_loc(&self, mut loc: Loc) -> Loc {
        while let Some(e) = loc.inlined_index().and_then(|i| self.inlined.get(i)) {
            loc = e.loc;
        }
        loc
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

    /// The runtime builtin named `name`, added to the table if new.
    pub fn builtin(&mut self, name: &str) -> BuiltinId {
        if let Some(i) = self.builtins.iter().position(|b| b == name) {
            return BuiltinId::new(i);
        }
        self.builtins.push(name.to_string());
        BuiltinId::new(self.builtins.len() - 1)
    }

    pub fn builtin_name(&self, b: BuiltinId) -> &str {
        &self.builtins[b.index()]
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
