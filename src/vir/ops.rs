//! The opcode table: every VIR opcode is one row of [`define_ops!`], which
//! gives its mnemonic, operand count, result, purity, branch targets,
//! immediate kind and operand layout. `Op`, `OpCode`, [`OPS`] and the
//! conversions between an `Op` and its immediate ([`Imm`]) are generated
//! from the rows; the printer (`write.rs`), the parser (`read.rs`), the
//! validator and the passes ask the table instead of listing opcodes.
//! See `docs/vir.md` ("The opcode table").

use crate::entity::{BuiltinId, ConstId, FuncId, GlobalId};
use crate::ir::{Cond, FlOp, Foreign, FxMode, FxOp, ObjKind, Ty};

/// Checked or unchecked variant of an operation (`.chk` in the text).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Checked {
    /// The producer guarantees the operands (or the global is bound).
    No,
    /// Operands may be anything; errors are raised at run time.
    Yes,
}

impl Checked {
    pub fn is_checked(self) -> bool {
        self == Checked::Yes
    }

    pub fn from_bool(checked: bool) -> Checked {
        if checked {
            Checked::Yes
        } else {
            Checked::No
        }
    }

    /// The mnemonic suffix: `.chk` or nothing.
    pub fn suffix(self) -> &'static str {
        match self {
            Checked::No => "",
            Checked::Yes => ".chk",
        }
    }
}

/// Where `alloc` places its object (`.stack` in the text).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AllocPlace {
    Heap,
    /// May live on the stack (set by escape analysis, later).
    Stack,
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

/// Result and control flow of an opcode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    /// Produces a value, falls through.
    Value,
    /// No value, falls through.
    Effect,
    /// Ends its block; no value.
    Terminator,
}

/// Whether an unused result may be deleted (no side effect, cannot raise;
/// allocation counts as pure).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purity {
    Pure,
    Impure,
    /// Pure unless the immediate's [`Checked`] is `Yes`.
    UnlessChecked,
    /// `fx`: pure only in `FxMode::Plain` and not a division (which can
    /// raise division-by-zero).
    PlainNonDivision,
}

/// Number of branch targets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Targets {
    Fixed(usize),
    /// `switch`: the default plus one per case.
    PerCase,
}

/// How the operands are written after the mnemonic (`IMM` is the
/// immediate's operand text, see [`ImmKind`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    /// No operands.
    Bare,
    /// ` %a, %b, ...`
    Values,
    /// ` IMM`
    Imm,
    /// ` %a, IMM`
    ValuesImm,
    /// ` %obj, IMM, %v` (`store`)
    Store,
    /// ` IMM` followed by `, %v` per value operand (globals)
    ImmValues,
    /// ` IMM(%args...)` (direct calls, closures, runtime calls)
    ImmCall,
    /// ` %callee(%args...)`
    ValueCall,
    /// ` B(args)`
    Br,
    /// ` %c, T(args), E(args)`
    BrIf,
    /// ` %x, K: B(args), ..., default: D(args)`
    Switch,
}

/// An opcode's immediate operands. Each variant holds exactly the payload
/// of the `Op` variants whose table row names it; the parts written in
/// the mnemonic (types, operators, modes) and the parts written as
/// operands (numbers, names) are listed in [`ImmKind::suffix`].
#[derive(Clone, PartialEq, Debug)]
pub enum Imm {
    None,
    I64(i64),
    /// IEEE bits of a flonum.
    F64(u64),
    Char(char),
    Bool(bool),
    Const(ConstId),
    Ty(Ty),
    /// A type and the operation named in the error.
    TyWho(Ty, String),
    Fx(FxOp, FxMode),
    Fl(FlOp, Checked),
    Cmp(Cond, Checked),
    Alloc(ObjKind, AllocPlace),
    /// A payload field or capture index.
    Field(u32),
    Global(GlobalId, Checked),
    Func(FuncId),
    Builtin(BuiltinId),
    Cases(Vec<i64>),
    Foreign(Box<Foreign>),
}

/// The kinds of [`Imm`], one per variant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ImmKind {
    None,
    I64,
    F64,
    Char,
    Bool,
    Const,
    Ty,
    TyWho,
    Fx,
    Fl,
    Cmp,
    Alloc,
    Field,
    Global,
    Func,
    Builtin,
    Cases,
    Foreign,
}

impl Imm {
    pub fn kind(&self) -> ImmKind {
        match self {
            Imm::None => ImmKind::None,
            Imm::I64(_) => ImmKind::I64,
            Imm::F64(_) => ImmKind::F64,
            Imm::Char(_) => ImmKind::Char,
            Imm::Bool(_) => ImmKind::Bool,
            Imm::Const(_) => ImmKind::Const,
            Imm::Ty(_) => ImmKind::Ty,
            Imm::TyWho(..) => ImmKind::TyWho,
            Imm::Fx(..) => ImmKind::Fx,
            Imm::Fl(..) => ImmKind::Fl,
            Imm::Cmp(..) => ImmKind::Cmp,
            Imm::Alloc(..) => ImmKind::Alloc,
            Imm::Field(_) => ImmKind::Field,
            Imm::Global(..) => ImmKind::Global,
            Imm::Func(_) => ImmKind::Func,
            Imm::Builtin(_) => ImmKind::Builtin,
            Imm::Cases(_) => ImmKind::Cases,
            Imm::Foreign(_) => ImmKind::Foreign,
        }
    }

    /// The mnemonic suffix the immediate contributes (`.pair`,
    /// `.add.ovf`, `.lt.chk`, `.vector.stack`, `.chk`).
    pub fn suffix(&self) -> String {
        match self {
            Imm::Ty(t) | Imm::TyWho(t, _) => format!(".{}", t.name()),
            Imm::Fx(op, mode) => format!(
                ".{}{}",
                op.name(),
                match mode {
                    FxMode::Plain => "",
                    FxMode::Ovf => ".ovf",
                    FxMode::Chk => ".chk",
                }
            ),
            Imm::Fl(op, c) => format!(".{}{}", op.name(), c.suffix()),
            Imm::Cmp(cond, c) => format!(".{}{}", cond.name(), c.suffix()),
            Imm::Alloc(k, place) => format!(
                ".{}{}",
                k.name(),
                match place {
                    AllocPlace::Heap => "",
                    AllocPlace::Stack => ".stack",
                }
            ),
            Imm::Global(_, c) => c.suffix().to_string(),
            _ => String::new(),
        }
    }
}

/// Why a mnemonic was not recognised.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MnemonicError {
    Unknown,
    UnknownType(String),
    UnknownKind(String),
}

impl ImmKind {
    /// Parse the dot-separated suffix parts of a mnemonic into an
    /// immediate of this kind; operand parts (numbers, names) get
    /// placeholders that the parser fills in. `Ok(None)`: not this opcode.
    fn parse_suffix(self, parts: &[&str]) -> Result<Option<Imm>, MnemonicError> {
        let chk = |p: &[&str]| match p {
            [] => Some(Checked::No),
            ["chk"] => Some(Checked::Yes),
            _ => None,
        };
        let ty = |name: &str| Ty::from_name(name).ok_or(MnemonicError::UnknownType(name.into()));
        Ok(match (self, parts) {
            (ImmKind::Ty, [t]) => Some(Imm::Ty(ty(t)?)),
            (ImmKind::TyWho, [t]) => Some(Imm::TyWho(ty(t)?, String::new())),
            (ImmKind::Ty | ImmKind::TyWho, _) => None,
            (ImmKind::Fx, [name, mode @ ..]) => {
                let mode = match mode {
                    [] => Some(FxMode::Plain),
                    ["ovf"] => Some(FxMode::Ovf),
                    ["chk"] => Some(FxMode::Chk),
                    _ => None,
                };
                let op = FxOp::ALL.iter().find(|o| o.name() == *name);
                op.zip(mode).map(|(o, m)| Imm::Fx(*o, m))
            }
            (ImmKind::Fl, [name, c @ ..]) => {
                let op = FlOp::ALL.iter().find(|o| o.name() == *name);
                op.zip(chk(c)).map(|(o, c)| Imm::Fl(*o, c))
            }
            (ImmKind::Cmp, [name, c @ ..]) => {
                let cond = Cond::ALL.iter().find(|o| o.name() == *name);
                cond.zip(chk(c)).map(|(o, c)| Imm::Cmp(*o, c))
            }
            (ImmKind::Alloc, [kind, place @ ..]) => {
                let Some(k) = ObjKind::from_name(kind) else {
                    return Err(MnemonicError::UnknownKind(kind.to_string()));
                };
                match place {
                    [] => Some(Imm::Alloc(k, AllocPlace::Heap)),
                    ["stack"] => Some(Imm::Alloc(k, AllocPlace::Stack)),
                    _ => None,
                }
            }
            (ImmKind::Fx | ImmKind::Fl | ImmKind::Cmp | ImmKind::Alloc, []) => None,
            (ImmKind::Global, c) => chk(c).map(|c| Imm::Global(GlobalId(0), c)),
            (_, [_, ..]) => None,
            (ImmKind::None, []) => Some(Imm::None),
            (ImmKind::I64, []) => Some(Imm::I64(0)),
            (ImmKind::F64, []) => Some(Imm::F64(0)),
            (ImmKind::Char, []) => Some(Imm::Char('\0')),
            (ImmKind::Bool, []) => Some(Imm::Bool(false)),
            (ImmKind::Const, []) => Some(Imm::Const(ConstId(0))),
            (ImmKind::Field, []) => Some(Imm::Field(0)),
            (ImmKind::Func, []) => Some(Imm::Func(FuncId(0))),
            (ImmKind::Builtin, []) => Some(Imm::Builtin(BuiltinId(0))),
            (ImmKind::Cases, []) => Some(Imm::Cases(Vec::new())),
            (ImmKind::Foreign, []) => Some(Imm::Foreign(Box::new(Foreign {
                lib: None,
                sym: String::new(),
                args: Vec::new(),
                ret: crate::ir::FfiTy::Void,
            }))),
        })
    }
}

/// One row of the opcode table.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    pub code: OpCode,
    /// The mnemonic without the immediate's suffix (`fx` for `fx.add.ovf`).
    pub name: &'static str,
    pub args: ArgCount,
    pub shape: Shape,
    pub purity: Purity,
    pub targets: Targets,
    pub imm: ImmKind,
    pub layout: Layout,
}

macro_rules! define_ops {
    ($(
        $(#[$doc:meta])*
        $name:ident $(( $($field:ident : $fty:ty),* ))? = $mn:literal,
            $args:ident($n:literal), $shape:ident, $purity:ident, $targets:ident $(($t:literal))?,
            $imm:ident, $layout:ident;
    )*) => {
        /// An opcode with its immediate operands. Value operands live in
        /// [`InstData::args`](crate::ir::InstData), branch targets in
        /// `InstData::targets`. Generated from the table in `ops.rs`.
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        pub enum Op {
            $( $(#[$doc])* $name $(( $($fty),* ))?, )*
        }

        /// The opcode without its immediates (an index into [`OPS`]).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum OpCode {
            $( $name, )*
        }

        /// The opcode table, indexed by `OpCode as usize`.
        pub static OPS: &[OpInfo] = &[$(
            OpInfo {
                code: OpCode::$name,
                name: $mn,
                args: ArgCount::$args($n),
                shape: Shape::$shape,
                purity: Purity::$purity,
                targets: Targets::$targets $(($t))?,
                imm: ImmKind::$imm,
                layout: Layout::$layout,
            },
        )*];

        impl Op {
            pub fn code(&self) -> OpCode {
                match self {
                    $( Op::$name { .. } => OpCode::$name, )*
                }
            }

            /// The immediate operands.
            #[allow(clippy::clone_on_copy)]
            pub fn imm(&self) -> Imm {
                match self {
                    $( Op::$name $(( $($field),* ))? => Imm::$imm $(( $($field.clone()),* ))?, )*
                }
            }

            /// The opcode `code` with immediate `imm`, if `imm` has the
            /// kind of that opcode.
            pub fn from_imm(code: OpCode, imm: Imm) -> Option<Op> {
                #[allow(unreachable_patterns)]
                match (code, imm) {
                    $( (OpCode::$name, Imm::$imm $(( $($field),* ))?) => Some(Op::$name $(( $($field),* ))?), )*
                    _ => None,
                }
            }
        }
    };
}

define_ops! {
    // ---- constants (no operands) ----
    /// A fixnum; the immediate must be in fixnum range.
    Fixnum(n: i64) = "fixnum", Exact(0), Value, Pure, Fixed(0), I64, Imm;
    /// A flonum, given by its IEEE bits (boxed at run time).
    Flonum(bits: u64) = "flonum", Exact(0), Value, Pure, Fixed(0), F64, Imm;
    Char(c: char) = "char", Exact(0), Value, Pure, Fixed(0), Char, Imm;
    Bool(b: bool) = "bool", Exact(0), Value, Pure, Fixed(0), Bool, Imm;
    /// The empty list.
    Nil = "nil", Exact(0), Value, Pure, Fixed(0), None, Bare;
    Unspecified = "unspecified", Exact(0), Value, Pure, Fixed(0), None, Bare;
    /// The "not yet initialised" marker (`letrec`, unbound globals).
    Undefined = "undefined", Exact(0), Value, Pure, Fixed(0), None, Bare;
    /// A heap constant from the module's constant table.
    Const(c: ConstId) = "const", Exact(0), Value, Pure, Fixed(0), Const, Imm;
    /// `[x] -> x`; removed by copy propagation.
    Copy = "copy", Exact(1), Value, Pure, Fixed(0), None, Values;

    // ---- tags and types ----
    /// `[x] -> fixnum`: the low 3 tag bits of `x`.
    TypeTag = "type_tag", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[x] -> boolean`: does `x` have type `Ty`?
    TypeIs(t: Ty) = "type_is", Exact(1), Value, Pure, Fixed(0), Ty, Values;
    /// `[x] -> x`: raises a wrong-type error naming the operation (the
    /// string) unless `x` has type `Ty`.
    TypeCheck(t: Ty, who: String) = "type_check", Exact(1), Value, Impure, Fixed(0), TyWho, ValuesImm;
    /// `[x] -> x`: unchecked cast; the producer guarantees the type.
    Cast(t: Ty) = "cast", Exact(1), Value, Pure, Fixed(0), Ty, Values;

    // ---- arithmetic and comparisons ----
    /// `[a, b] -> number`.
    Fx(op: FxOp, mode: FxMode) = "fx", Exact(2), Value, PlainNonDivision, Fixed(0), Fx, Values;
    /// `[fixnum] -> flonum`.
    FxToFl = "fx.to_fl", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[a, b] -> flonum`; checked: wrong-type error unless both are
    /// flonums; unchecked: operands known to be flonums.
    Fl(op: FlOp, chk: Checked) = "fl", Exact(2), Value, UnlessChecked, Fixed(0), Fl, Values;
    /// `[a, b] -> boolean`; checked: generic numeric comparison,
    /// wrong-type error on non-numbers; unchecked: both fixnums.
    FxCmp(c: Cond, chk: Checked) = "fx", Exact(2), Value, UnlessChecked, Fixed(0), Cmp, Values;
    /// `[a, b] -> boolean`; unchecked: both flonums.
    FlCmp(c: Cond, chk: Checked) = "fl", Exact(2), Value, UnlessChecked, Fixed(0), Cmp, Values;
    /// `[a, b] -> boolean`: identity (`eq?`).
    Eq = "eq", Exact(2), Value, Pure, Fixed(0), None, Values;
    /// `[x] -> boolean`: `#t` iff `x` is `#f`.
    Not = "not", Exact(1), Value, Pure, Fixed(0), None, Values;

    // ---- memory ----
    /// `[fields...] -> object`: a new object of the kind whose payload is
    /// the operands, on the heap or (escape analysis, later) the stack.
    Alloc(k: ObjKind, place: AllocPlace) = "alloc", AtLeast(0), Value, Pure, Fixed(0), Alloc, Values;
    /// `[obj] -> value`: payload field `n` (unchecked).
    Load(n: u32) = "load", Exact(1), Value, Pure, Fixed(0), Field, ValuesImm;
    /// `[obj, v]`: store into payload field `n`, with write barrier.
    Store(n: u32) = "store", Exact(2), Effect, Impure, Fixed(0), Field, Store;
    /// `[a, b] -> pair`.
    Cons = "cons", Exact(2), Value, Pure, Fixed(0), None, Values;
    /// `[pair] -> value` (unchecked: use `type_check.pair` first).
    Car = "car", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[pair] -> value` (unchecked).
    Cdr = "cdr", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[vector, fixnum] -> value`; raises an index error when out of range.
    VectorRef = "vector_ref", Exact(2), Value, Impure, Fixed(0), None, Values;
    /// `[vector, fixnum, v]`; raises an index error when out of range.
    VectorSet = "vector_set", Exact(3), Effect, Impure, Fixed(0), None, Values;
    /// `[vector] -> fixnum`.
    VectorLength = "vector_length", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[string, fixnum] -> char`; raises an index error when out of range.
    StringRef = "string_ref", Exact(2), Value, Impure, Fixed(0), None, Values;
    /// `[string, fixnum, char]`; raises an index error when out of range.
    StringSet = "string_set", Exact(3), Effect, Impure, Fixed(0), None, Values;
    /// `[string] -> fixnum`.
    StringLength = "string_length", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[v] -> box`: a cell for an assigned, captured variable.
    MakeBox = "box", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[box] -> value`.
    Unbox = "unbox", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[box, v]`.
    SetBox = "set_box", Exact(2), Effect, Impure, Fixed(0), None, Values;
    /// `[rtd, fields...] -> record`: a new record of type `rtd` (a record
    /// type descriptor); if `rtd` is not a record type with exactly that
    /// many fields, the runtime's `%record` raises its error.
    RecordNew = "record_new", AtLeast(1), Value, Impure, Fixed(0), None, Values;
    /// `[x, rtd] -> boolean`: `x` is a record whose type is `rtd`.
    RecordIs = "record_is", Exact(2), Value, Pure, Fixed(0), None, Values;
    /// `[x, rtd, who] -> value`: field `n` of record `x` of type `rtd`;
    /// otherwise `%record-ref` raises its wrong-type error naming `who`
    /// (a symbol constant).
    RecordRef(n: u32) = "record_ref", Exact(3), Value, Impure, Fixed(0), Field, ImmValues;
    /// `[x, rtd, v, who]`: store into field `n` (with write barrier);
    /// errors as `record_ref`, raised by `%record-set!`.
    RecordSet(n: u32) = "record_set", Exact(4), Effect, Impure, Fixed(0), Field, ImmValues;
    /// `[char] -> fixnum`: the code point (unchecked).
    CharToInt = "char_to_int", Exact(1), Value, Pure, Fixed(0), None, Values;
    /// `[fixnum] -> char` (unchecked: a Unicode scalar value).
    IntToChar = "int_to_char", Exact(1), Value, Pure, Fixed(0), None, Values;

    // ---- globals and variable checks ----
    /// `[] -> value`: read the global's value cell; checked: raise an
    /// unbound-variable error if the cell holds `undefined`.
    GlobalGet(g: GlobalId, chk: Checked) = "global_get", Exact(0), Value, UnlessChecked, Fixed(0), Global, ImmValues;
    /// `[v]`: write the cell (`define`); checked: raise an unbound error
    /// first if the cell is unbound (`set!`).
    GlobalSet(g: GlobalId, chk: Checked) = "global_set", Exact(1), Effect, Impure, Fixed(0), Global, ImmValues;
    /// `[]`: the global (a builtin's name or a `%` alias of one) was just
    /// written: the runtime updates its `intact` byte. Follows every
    /// `global_set` of such a global; `chk` is always `No`.
    GlobalWritten(g: GlobalId, chk: Checked) = "global_written", Exact(0), Effect, Impure, Fixed(0), Global, ImmValues;
    /// `[v, name] -> v`: raises `variable used before its definition:
    /// NAME` when `v` is `undefined` (a `letrec` variable read too early);
    /// `name` is a symbol constant.
    CheckInit = "check_init", Exact(2), Value, Impure, Fixed(0), None, Values;
    /// `[who, expected, got] -> value`: raises the arity error `who: wrong
    /// number of arguments (expected EXPECTED, got GOT)`; `who` and
    /// `expected` are string constants, `got` a fixnum. Never returns.
    ArityError = "arity_error", Exact(3), Value, Impure, Fixed(0), None, Values;

    // ---- calls and closures ----
    /// `[args...] -> value`: direct call of a known function with exactly
    /// its parameters (closure first if it is a closure body).
    Call(f: FuncId) = "call", AtLeast(0), Value, Impure, Fixed(0), Func, ImmCall;
    /// `[callee, args...] -> value`: unknown callee; the callee receives
    /// itself and the argument count and checks arity.
    CallClosure = "call_closure", AtLeast(1), Value, Impure, Fixed(0), None, ValueCall;
    /// `[callee, args...] -> value`: as `call_closure`, through the
    /// runtime's generic call (one call site, no test of the callee): for
    /// paths that almost never run (the calls of redefined builtins,
    /// docs/tiering.md "Redefining builtins").
    CallGeneric = "call_generic", AtLeast(1), Value, Impure, Fixed(0), None, ValueCall;
    /// `[args...] -> value`: call a runtime builtin (named in the
    /// module's builtin table).
    CallRuntime(b: BuiltinId) = "call_runtime", AtLeast(0), Value, Impure, Fixed(0), Builtin, ImmCall;
    /// `[args...] -> value`: call C function `lib`/`sym` directly with the
    /// arguments converted to its C types, the result converted back
    /// (docs/vir.md, "Foreign calls"); raises the interpreter's errors for
    /// a missing library or symbol and for bad arguments.
    FfiCall(f: Box<Foreign>) = "ffi_call", AtLeast(0), Value, Impure, Fixed(0), Foreign, ImmCall;
    /// `[captures...] -> closure` of a closure-body function.
    Closure(f: FuncId) = "closure", AtLeast(0), Value, Pure, Fixed(0), Func, ImmCall;
    /// `[x] -> boolean`: is `x` a closure made by `closure @f` of this
    /// module (its procedure-info word is `f`'s)? The guard of calls of
    /// globals that tiered code expects to hold `f` (docs/tiering.md,
    /// "Guarded calls").
    ProcIs(f: FuncId) = "proc_is", Exact(1), Value, Pure, Fixed(0), Func, ImmCall;
    /// `[] -> boolean`: does the global with redefinition index `n` (a
    /// builtin's name or a `%` alias of one, numbered by the runtime's
    /// `builtins::redefinition_index`) still hold that builtin? Read at
    /// run time (byte `n` of `valk_redefined`): the guard of a builtin
    /// compiled in line, or called directly, by code compiled before the
    /// whole program is known (docs/tiering.md, "Redefining builtins").
    Intact(n: u32) = "intact", Exact(0), Value, Pure, Fixed(0), Field, Imm;
    /// `[closure] -> value`: captured variable `n` of a closure.
    EnvGet(n: u32) = "env_get", Exact(1), Value, Pure, Fixed(0), Field, ValuesImm;
    /// `[captures...] -> continuation`: reify the current continuation
    /// (the return point of this function) composed with the closure-body
    /// function, which receives the values passed to the continuation.
    ContNew(f: FuncId) = "cont_new", AtLeast(0), Value, Impure, Fixed(0), Func, ImmCall;

    // ---- terminators ----
    /// `[]`, one target.
    Br = "br", Exact(0), Terminator, Impure, Fixed(1), None, Br;
    /// `[cond]`, targets `[then, else]`; `then` unless `cond` is `#f`.
    BrIf = "br_if", Exact(1), Terminator, Impure, Fixed(2), None, BrIf;
    /// `[fixnum]`, targets `[default, case0, case1, ...]`, one immediate
    /// per case.
    Switch(cases: Vec<i64>) = "switch", Exact(1), Terminator, Impure, PerCase, Cases, Switch;
    /// `[v]`.
    Ret = "ret", Exact(1), Terminator, Impure, Fixed(0), None, Values;
    /// `[args...]`: direct tail call (`musttail`).
    TailCall(f: FuncId) = "tail_call", AtLeast(0), Terminator, Impure, Fixed(0), Func, ImmCall;
    /// `[callee, args...]`: unknown tail call.
    TailCallClosure = "tail_call_closure", AtLeast(1), Terminator, Impure, Fixed(0), None, ValueCall;
    /// `[k, values...]`: invoke a continuation; never returns.
    ContCall = "cont_call", AtLeast(1), Terminator, Impure, Fixed(0), None, ValueCall;
    Unreachable = "unreachable", Exact(0), Terminator, Impure, Fixed(0), None, Bare;
}

impl OpCode {
    pub fn info(self) -> &'static OpInfo {
        &OPS[self as usize]
    }
}

impl Op {
    pub fn flonum(x: f64) -> Op {
        Op::Flonum(x.to_bits())
    }

    /// The opcode's row in the table.
    pub fn info(&self) -> &'static OpInfo {
        self.code().info()
    }

    pub fn is_terminator(&self) -> bool {
        self.info().shape == Shape::Terminator
    }

    pub fn has_result(&self) -> bool {
        self.info().shape == Shape::Value
    }

    /// Is this a constant (no operands, no effects)?
    pub fn is_constant(&self) -> bool {
        let i = self.info();
        i.args == ArgCount::Exact(0) && i.shape == Shape::Value && i.purity == Purity::Pure
    }

    pub fn arg_count(&self) -> ArgCount {
        self.info().args
    }

    /// The number of branch targets (`switch`: one more than its cases).
    pub fn target_count(&self) -> usize {
        match (self.info().targets, self) {
            (Targets::Fixed(n), _) => n,
            (Targets::PerCase, Op::Switch(cases)) => cases.len() + 1,
            (Targets::PerCase, _) => 0,
        }
    }

    /// Pure: no side effect, cannot raise, so an instruction whose result
    /// is unused can be deleted. (Allocation counts as pure.)
    pub fn is_pure(&self) -> bool {
        match self.info().purity {
            Purity::Pure => true,
            Purity::Impure => false,
            Purity::UnlessChecked => match self.imm() {
                Imm::Fl(_, c) | Imm::Cmp(_, c) | Imm::Global(_, c) => !c.is_checked(),
                _ => false,
            },
            Purity::PlainNonDivision => {
                matches!(self.imm(), Imm::Fx(op, FxMode::Plain) if !op.is_division())
            }
        }
    }

    /// The referenced function, if any.
    pub fn func_ref(&self) -> Option<FuncId> {
        match self.info().imm {
            ImmKind::Func => match self.imm() {
                Imm::Func(f) => Some(f),
                _ => None,
            },
            _ => None,
        }
    }

    /// The mnemonic as printed, including mode suffixes (`fx.add.ovf`,
    /// `type_is.pair`, `alloc.vector.stack`, `global_get.chk`).
    pub fn mnemonic(&self) -> String {
        let info = self.info();
        match info.imm {
            ImmKind::Ty
            | ImmKind::TyWho
            | ImmKind::Fx
            | ImmKind::Fl
            | ImmKind::Cmp
            | ImmKind::Alloc
            | ImmKind::Global => format!("{}{}", info.name, self.imm().suffix()),
            _ => info.name.to_string(),
        }
    }
}

/// The opcode a mnemonic names, with its mnemonic part of the immediate
/// decoded; the operand parts of the immediate are placeholders.
pub fn parse_mnemonic(s: &str) -> Result<(OpCode, Imm), MnemonicError> {
    for info in OPS {
        let rest = if s == info.name {
            ""
        } else {
            match s.strip_prefix(info.name).and_then(|r| r.strip_prefix('.')) {
                Some(r) => r,
                None => continue,
            }
        };
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('.').collect()
        };
        if let Some(imm) = info.imm.parse_suffix(&parts)? {
            return Ok((info.code, imm));
        }
    }
    Err(MnemonicError::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_opcode() {
        for (i, info) in OPS.iter().enumerate() {
            assert_eq!(info.code as usize, i, "{}", info.name);
        }
    }

    #[test]
    fn op_metadata() {
        assert!(Op::Br.is_terminator() && !Op::Br.has_result());
        assert!(!Op::Store(0).has_result() && !Op::Store(0).is_terminator());
        assert_eq!(Op::Switch(vec![1, 2]).target_count(), 3);
        assert!(Op::Fx(FxOp::Add, FxMode::Plain).is_pure());
        assert!(!Op::Fx(FxOp::Quo, FxMode::Plain).is_pure());
        assert!(!Op::Fx(FxOp::Add, FxMode::Chk).is_pure());
        assert!(!Op::GlobalGet(GlobalId(0), Checked::Yes).is_pure());
        assert!(Op::GlobalGet(GlobalId(0), Checked::No).is_pure());
        assert!(
            Op::Fixnum(1).is_constant() && !Op::GlobalGet(GlobalId(0), Checked::No).is_constant()
        );
        assert_eq!(Op::Fx(FxOp::Add, FxMode::Ovf).mnemonic(), "fx.add.ovf");
        assert_eq!(
            Op::Alloc(ObjKind::Vector, AllocPlace::Stack).mnemonic(),
            "alloc.vector.stack"
        );
        assert_eq!(Op::Closure(FuncId(3)).func_ref(), Some(FuncId(3)));
        assert!(ArgCount::AtLeast(1).accepts(3) && !ArgCount::Exact(1).accepts(2));
    }

    #[test]
    fn mnemonics_parse_back() {
        assert_eq!(
            parse_mnemonic("fx.lt.chk"),
            Ok((OpCode::FxCmp, Imm::Cmp(Cond::Lt, Checked::Yes)))
        );
        assert_eq!(parse_mnemonic("fx.to_fl"), Ok((OpCode::FxToFl, Imm::None)));
        assert_eq!(parse_mnemonic("fx.lt.ovf"), Err(MnemonicError::Unknown));
        assert_eq!(
            parse_mnemonic("type_is.frob"),
            Err(MnemonicError::UnknownType("frob".into()))
        );
        assert_eq!(
            parse_mnemonic("alloc.frob"),
            Err(MnemonicError::UnknownKind("frob".into()))
        );
        assert_eq!(parse_mnemonic("call_runtimes"), Err(MnemonicError::Unknown));
    }
}
