//! The C-ABI entry points compiled code calls (docs/calling-convention.md,
//! "Valk-to-Valk calls"), and the start-up helpers that fill a compiled
//! module's tables (constants, global cells, builtins).
//!
//! Every function compiled code calls that may allocate or raise is reached
//! through an exit trampoline (`valk_rt_*` symbols below), so the collector
//! can walk the compiled frames above it. Errors come back as
//! [`Value::EXCEPTION`] with the exception pending.
//!
//! Argument values arrive in registers, unrooted: each implementation roots
//! them before it allocates.

use crate::builtins::{self, Builtin};
use crate::error::{self, VResult};
use crate::gc;
use crate::globals;
use crate::object;
use crate::value::{ObjType, ProcInfo, Value};
use std::cell::UnsafeCell;

/// Lowest address the machine stack of compiled code may reach; compiled
/// functions that make calls compare their frame address with it on entry
/// and raise `stack overflow` below it (or `interrupted`: a Ctrl-C trips
/// it, see [`crate::interrupt`]). 0 disables the check.
#[no_mangle]
pub static mut valk_stack_limit: u64 = 0;

/// Sets [`valk_stack_limit`] (while an interrupt is pending the limit
/// stays tripped and this one takes effect when it is taken; see
/// [`crate::interrupt`]).
pub fn set_stack_limit(limit: usize) {
    crate::interrupt::set_limit(limit as u64);
}

/// The stack limit in force now (for engines that check the stack
/// themselves: the interpreter).
#[inline]
pub fn stack_limit() -> u64 {
    // SAFETY: a valid, aligned static, written whole (also by the signal
    // handler: volatile).
    unsafe { std::ptr::read_volatile(std::ptr::addr_of!(valk_stack_limit)) }
}

/// Word offsets in a compiled closure's payload: the generic entry and the
/// `ProcInfo` (as every closure), then the fast entry (a code address; it is
/// 16-byte aligned, so the collector sees a fixnum), then the captures.
pub const CLOSURE_FAST_ENTRY: usize = 2;
pub const CLOSURE_FIRST_CAPTURE: usize = 3;

/// Arguments passed in registers to a closure's fast entry: `a0 a1 a2 a3x`;
/// with more than this many arguments, `a3x` is a vector of arguments 3....
pub const FAST_ARGS: usize = 4;

/// The expected-type text of wrong-type errors raised by compiled type
/// checks, indexed by the backend's type code (`valk_vir::Ty::ALL` order).
pub const TYPE_TEXTS: [&str; 14] = [
    "an integer",
    "a flonum",
    "a number",
    "a pair",
    "the empty list",
    "a boolean",
    "a character",
    "a string",
    "a symbol",
    "a vector",
    "a bytevector",
    "a procedure",
    "a box",
    "a record",
];

/// Scheme names of the fixnum operators (`valk_vir::FxOp::ALL` order).
const FX_OPS: [&str; 6] = ["+", "-", "*", "quotient", "remainder", "modulo"];
/// Flonum operators (`valk_vir::FlOp::ALL` order).
const FL_OPS: [&str; 4] = ["+", "-", "*", "/"];
/// Comparisons (`valk_vir::Cond::ALL` order); `ne` is `=` negated.
const CONDS: [&str; 6] = ["=", "=", "<", "<=", ">", ">="];
/// Who raises index errors (the backend's range-check codes).
const RANGE_WHO: [&str; 4] = ["vector-ref", "vector-set!", "string-ref", "string-set!"];

/// Text passed by compiled code as (pointer, length).
///
/// # Safety
/// `ptr` must point at `len` bytes that live for `'a` (the backend passes
/// static strings of the module).
unsafe fn str_arg<'a>(ptr: *const u8, len: u64) -> &'a str {
    if len == 0 {
        return "";
    }
    // SAFETY: the caller's contract; non-null since `len > 0`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    std::str::from_utf8(bytes).unwrap_or("?")
}

fn ret(r: VResult) -> Value {
    r.unwrap_or_else(|_| raised())
}

/// The result of a runtime entry point that raised: the pending exception
/// is offered to the handlers, and if none takes it the form ends
/// (`cont::throw_uncaught`): compiled code never sees `EXCEPTION`
/// (docs/continuations.md, "Exceptions").
fn raised() -> Value {
    crate::dynamic::deliver();
    crate::cont::throw_uncaught()
}

/// Calls builtin `b` with `args` copied to the root stack.
fn call_builtin_with(b: &Builtin, args: &[Value]) -> VResult {
    let sp = gc::root_sp();
    for &a in args {
        gc::push_root(a);
    }
    // SAFETY: slots `sp..sp + len` were just pushed, so they are initialised
    // and stay on the root stack (which never reallocates) until popped
    // below; `call_builtin` updates them in place through this slice only.
    let slice = unsafe { std::slice::from_raw_parts(gc::root_slot(sp), args.len()) };
    let r = builtins::call_builtin(b, slice);
    gc::set_root_sp(sp);
    r
}

// ---------------------------------------------------------------------------
// Errors

struct DiagCell(UnsafeCell<Option<&'static str>>);
// SAFETY: the runtime is single-threaded (docs/architecture.md): only the
// thread that runs Valk code uses the cell, and never by reference across
// a call.
unsafe impl Sync for DiagCell {}
static UNBOUND_DIAG: DiagCell = DiagCell(UnsafeCell::new(None));

/// The rendered location diagnostic of the last unbound-variable error
/// raised by compiled code (the compiler renders it; see `valk_rt_unbound`).
pub fn take_unbound_diagnostic() -> Option<&'static str> {
    // SAFETY: single-threaded (see `DiagCell`); the reference lives only
    // for this statement.
    unsafe { (*UNBOUND_DIAG.0.get()).take() }
}

unsafe extern "C" fn wrong_type_impl(who: *const u8, who_len: u64, ty: u64, x: Value) -> Value {
    let expected = TYPE_TEXTS.get(ty as usize).copied().unwrap_or("?");
    // SAFETY: compiled code passes the caller's name as static text.
    let who = unsafe { str_arg(who, who_len) };
    if ty == 0 && x.has_type(crate::value::ObjType::Bignum) {
        // The inline checks want a fixnum index; a bignum is an integer,
        // just out of every range.
        error::out_of_range(who, x);
    } else {
        error::wrong_type(who, expected, x);
    }
    raised()
}

crate::exit_trampoline! {
    /// Raises `who: expected <type>: x` (type code: [`TYPE_TEXTS`]).
    pub fn valk_rt_wrong_type(who: *const u8, who_len: u64, ty: u64, x: Value) -> Value
        => wrong_type_impl;
}

/// The arity error of a call of closure `f` with `argc` arguments, worded
/// like the interpreter's.
pub fn arity_error(f: Value, argc: usize) -> Value {
    let info = object::closure_info(f);
    let expected = if info.rest != 0 {
        format!("at least {}", info.required)
    } else {
        info.required.to_string()
    };
    error::arity(info.name().unwrap_or("#<procedure>"), &expected, argc);
    raised()
}

extern "C" fn arity_impl(f: Value, argc: u64) -> Value {
    arity_error(f, argc as usize)
}

crate::exit_trampoline! {
    /// Raises the arity error of calling closure `f` with `argc` arguments.
    pub fn valk_rt_arity(f: Value, argc: u64) -> Value => arity_impl;
}

unsafe extern "C" fn unbound_impl(name: *const u8, len: u64, diag: *const u8, dlen: u64) -> Value {
    // SAFETY: compiled code passes the name and the diagnostic as static
    // text of the module (so `'static` is right); the cell as in
    // `take_unbound_diagnostic`.
    unsafe {
        error::unbound(str_arg(name, len));
        *UNBOUND_DIAG.0.get() = if dlen == 0 {
            None
        } else {
            Some(str_arg(diag, dlen))
        };
    }
    raised()
}

crate::exit_trampoline! {
    /// Raises `unbound variable: name`; `diag` (static text, may be empty)
    /// is the rendered location diagnostic the top level prints.
    pub fn valk_rt_unbound(name: *const u8, len: u64, diag: *const u8, dlen: u64) -> Value
        => unbound_impl;
}

extern "C" fn undefined_impl(name: Value) -> Value {
    // SAFETY: as in `take_unbound_diagnostic`.
    unsafe { *UNBOUND_DIAG.0.get() = None };
    let name = if name.is_symbol() {
        object::symbol_name(name)
    } else {
        crate::printer::display_string(name)
    };
    error::used_before_definition(&name);
    raised()
}

crate::exit_trampoline! {
    /// Raises `variable used before its definition: NAME` (a `letrec`
    /// variable read before its initialisation; `name` is a symbol).
    pub fn valk_rt_undefined(name: Value) -> Value => undefined_impl;
}

extern "C" fn arity_error_impl(who: Value, expected: Value, got: Value) -> Value {
    let text = |v: Value| {
        if v.is_string() {
            object::string_to_rust(v)
        } else {
            crate::printer::display_string(v)
        }
    };
    error::arity(
        &text(who),
        &text(expected),
        got.fixnum_value().unwrap_or(0) as usize,
    );
    raised()
}

crate::exit_trampoline! {
    /// Raises `WHO: wrong number of arguments (expected EXPECTED, got GOT)`
    /// (`who`, `expected`: strings; `got`: a fixnum).
    pub fn valk_rt_arity_error(who: Value, expected: Value, got: Value) -> Value
        => arity_error_impl;
}

extern "C" fn div_zero_impl(op: u64) -> Value {
    error::division_by_zero(FX_OPS.get(op as usize).copied().unwrap_or("/"));
    raised()
}

crate::exit_trampoline! {
    /// Raises `<op>: division by zero` (op code: `FxOp::ALL` order).
    pub fn valk_rt_div_zero(op: u64) -> Value => div_zero_impl;
}

extern "C" fn range_impl(who: u64, index: Value) -> Value {
    error::out_of_range(RANGE_WHO.get(who as usize).copied().unwrap_or("?"), index);
    raised()
}

crate::exit_trampoline! {
    /// Raises `<who>: index out of range: index` (who code: vector-ref,
    /// vector-set!, string-ref, string-set!).
    pub fn valk_rt_range(who: u64, index: Value) -> Value => range_impl;
}

pub(crate) extern "C" fn stack_overflow_impl() -> Value {
    // A pending Ctrl-C trips the stack limit (see `interrupt`).
    if crate::interrupt::take() {
        crate::interrupt::raise();
        return raised();
    }
    error::stack_overflow();
    raised()
}

crate::exit_trampoline! {
    /// Raises `stack overflow`, or `interrupted` when the check failed
    /// because an interrupt is pending.
    pub fn valk_rt_stack_overflow() -> Value => stack_overflow_impl;
}

pub(crate) extern "C" fn interrupt_impl() -> Value {
    if crate::interrupt::take() {
        crate::interrupt::raise();
        return raised();
    }
    Value::UNSPECIFIED
}

crate::exit_trampoline! {
    /// The poll of loop back edges, called when `valk_interrupt` is set:
    /// raises `interrupted` (returns `EXCEPTION`), or returns
    /// `UNSPECIFIED` when the interrupt was taken meanwhile.
    pub fn valk_rt_interrupt() -> Value => interrupt_impl;
}

// ---------------------------------------------------------------------------
// Generic arithmetic (the slow paths of the inline fixnum/flonum code)

extern "C" fn arith_impl(op: u64, a: Value, b: Value) -> Value {
    ret(builtins::numbers::generic_arith(op, a, b))
}

crate::exit_trampoline! {
    /// `(op a b)` by the generic builtin (`FxOp::ALL` order): flonums,
    /// overflow and wrong-type errors.
    pub fn valk_rt_arith(op: u64, a: Value, b: Value) -> Value => arith_impl;
}

extern "C" fn compare_impl(cc: u64, a: Value, b: Value) -> Value {
    ret(builtins::numbers::generic_compare(cc, a, b))
}

crate::exit_trampoline! {
    /// `(cc a b)` by the generic comparison (`Cond::ALL` order).
    pub fn valk_rt_compare(cc: u64, a: Value, b: Value) -> Value => compare_impl;
}

/// `(%capture-continuation marker)` as compiled code calls it: straight
/// from the compiled frame (an exit trampoline), so that neither the
/// capture nor any resumption copies the frames of the generic builtin
/// call (docs/continuations.md, "Capture"). The marker stays in a root
/// slot, which the continuation saves and the collector updates.
extern "C" fn capture_impl(marker: Value) -> Value {
    let scope = gc::Scope::new();
    let marker = scope.root(marker);
    ret(match crate::cont::capture_full() {
        Ok(crate::cont::Captured::Now(k)) => Ok(k),
        Ok(crate::cont::Captured::Resumed(v)) => {
            crate::dynamic::set_resume_value(v);
            Ok(marker.get())
        }
        Err(e) => Err(e),
    })
}

crate::exit_trampoline! {
    /// The continuation of the compiled caller, or `marker` when it is
    /// resumed (the value is left for `%resume-value`).
    pub fn valk_rt_capture(marker: Value) -> Value => capture_impl;
}

/// `(%call/ec f)` as compiled code calls it: `compiled` is the module's
/// generic entry, so a compiled receiver is called at its fast entry
/// (docs/continuations.md, "Escape continuations").
pub(crate) extern "C" fn call_ec_impl(f: Value, compiled: u64) -> Value {
    ret(crate::cont::escape_call(f, compiled))
}

crate::exit_trampoline! {
    /// `f` called with an escape continuation of this call.
    pub fn valk_rt_call_ec(f: Value, compiled: u64) -> Value => call_ec_impl;
}

fn flonum_arg(who: &str, v: Value) -> VResult<f64> {
    if v.is_flonum() {
        Ok(v.as_flonum())
    } else {
        Err(error::wrong_type(who, "a flonum", v))
    }
}

extern "C" fn fl_arith_impl(op: u64, a: Value, b: Value) -> Value {
    let who = FL_OPS.get(op as usize).copied().unwrap_or("+");
    let r = flonum_arg(who, a).and_then(|x| {
        let y = flonum_arg(who, b)?;
        Ok(object::make_flonum(builtins::numbers::flonum_op(op, x, y)))
    });
    ret(r)
}

crate::exit_trampoline! {
    /// Checked flonum arithmetic when an operand is not a flonum: raises
    /// the wrong-type error (`FlOp::ALL` order).
    pub fn valk_rt_fl_arith(op: u64, a: Value, b: Value) -> Value => fl_arith_impl;
}

extern "C" fn fl_compare_impl(cc: u64, a: Value, b: Value) -> Value {
    let who = CONDS.get(cc as usize).copied().unwrap_or("=");
    let r = flonum_arg(who, a).and_then(|x| {
        let y = flonum_arg(who, b)?;
        Ok(Value::bool(builtins::numbers::flonum_cond(cc, x, y)))
    });
    ret(r)
}

crate::exit_trampoline! {
    /// Checked flonum comparison when an operand is not a flonum.
    pub fn valk_rt_fl_compare(cc: u64, a: Value, b: Value) -> Value => fl_compare_impl;
}

// ---------------------------------------------------------------------------
// Calls

/// Argument `i` of a fast-entry call with `argc` arguments.
fn fast_arg(argc: usize, i: usize, regs: &[Value; 4]) -> Value {
    if i < FAST_ARGS - 1 || argc <= FAST_ARGS {
        regs[i]
    } else {
        regs[3].field(i - 3)
    }
}

extern "C" fn rest_list_impl(
    argc: u64,
    skip: u64,
    a0: Value,
    a1: Value,
    a2: Value,
    a3x: Value,
) -> Value {
    let (argc, skip) = (argc as usize, skip as usize);
    let s = gc::Scope::new();
    let regs = [s.root(a0), s.root(a1), s.root(a2), s.root(a3x)];
    let list = s.root(Value::NIL);
    for i in (skip..argc).rev() {
        let vals = [regs[0].get(), regs[1].get(), regs[2].get(), regs[3].get()];
        list.set(object::cons(fast_arg(argc, i, &vals), list.get()));
    }
    list.get()
}

crate::exit_trampoline! {
    /// The rest list of a fast-entry call: arguments `skip..argc` of the
    /// register arguments `a0 a1 a2 a3x` (see [`FAST_ARGS`]).
    pub fn valk_rt_rest_list(argc: u64, skip: u64, a0: Value, a1: Value, a2: Value, a3x: Value)
        -> Value => rest_list_impl;
}

unsafe extern "C" fn pack_args_impl(argc: u64, argv: *const Value) -> Value {
    // `argv` is rooted memory (a generic entry's arguments): re-read after
    // allocating.
    let n = (argc as usize).saturating_sub(FAST_ARGS - 1);
    let v = gc::alloc(ObjType::Vector, n);
    for i in 0..n {
        // SAFETY: `argv` holds `argc` values (the generic entry's argument
        // vector, rooted, so re-read after the allocation).
        v.set_field(i, unsafe { *argv.add(FAST_ARGS - 1 + i) });
    }
    v
}

crate::exit_trampoline! {
    /// The overflow vector of arguments `3..argc` for a fast-entry call
    /// from a generic entry (`argv` must be rooted memory).
    pub fn valk_rt_pack_args(argc: u64, argv: *const Value) -> Value => pack_args_impl;
}

unsafe extern "C" fn call_builtin_impl(b: *const Builtin, argc: u64, argv: *const Value) -> Value {
    // SAFETY: compiled code passes `argc` values at `argv` (non-null when
    // `argc > 0`), read before anything allocates, and `b` from the
    // builtin table filled at start-up (builtins live for the process).
    let (args, b) = unsafe {
        let args = if argc == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(argv, argc as usize)
        };
        (args, &*b)
    };
    ret(call_builtin_with(b, args))
}

crate::exit_trampoline! {
    /// Calls builtin `b` (a table entry resolved at start-up) with
    /// `argv[0..argc]` (any memory: copied to the root stack first).
    pub fn valk_rt_call_builtin(b: *const Builtin, argc: u64, argv: *const Value) -> Value
        => call_builtin_impl;
}

/// The `ProcInfo` of the `apply` builtin (0 until [`set_apply_info`]):
/// compiled code compares a callee's info word with it to run `apply` in
/// line, so that `(apply f args)` in tail position is a proper tail call
/// and errors read like the interpreter's.
#[no_mangle]
pub static mut valk_apply_info: u64 = 0;

/// Sets [`valk_apply_info`]; call after `builtins::install`.
pub fn set_apply_info() {
    let p = builtins::proc_info("apply").map_or(0, |i| i as *const ProcInfo as u64);
    // SAFETY: a by-value write of an integer static on the runtime's only
    // thread, before any compiled code reads it.
    unsafe { valk_apply_info = p };
}

/// Fields of the call object [`valk_rt_apply_spread`] returns.
pub const SPREAD_FIELDS: usize = 6;

unsafe extern "C" fn apply_spread_impl(argc: u64, argv: *const Value) -> Value {
    let base = gc::root_sp();
    let argc = argc as usize;
    for i in 0..argc.saturating_sub(1) {
        // SAFETY: compiled code passes `argc` values at `argv`, and
        // `push_root` does not allocate, so all are read before anything
        // can move.
        gc::push_root(unsafe { *argv.add(i) });
    }
    let list = if argc == 0 {
        Value::NIL
    } else {
        // SAFETY: see above.
        unsafe { *argv.add(argc - 1) }
    };
    let Some(items) = object::list_to_vec(list) else {
        gc::set_root_sp(base);
        error::wrong_type("apply", "a proper list", list);
        return raised();
    };
    // Nothing allocates between collecting `items` and pushing them.
    for v in items {
        gc::push_root(v);
    }
    let total = gc::root_sp() - base;
    if total == 0 {
        gc::set_root_sp(base);
        error::arity("apply", "at least 1", 0);
        return raised();
    }
    let call = spread_call(base, total - 1);
    gc::set_root_sp(base);
    call
}

/// The call of the procedure in root slot `base` with the `n` arguments
/// above it, as `[callee, n, a0, a1, a2, a3x]` (fast-entry form, a
/// `Values` object): what [`valk_rt_apply_spread`] returns, and what the
/// interpreter returns for a tail call of compiled code
/// ([`valk_tail_pending`]). Leaves the root stack as it found it.
pub fn spread_call(base: usize, n: usize) -> Value {
    let top = gc::root_sp();
    let arg = |i: usize| gc::root_get(base + 1 + i);
    let a3x = if n > FAST_ARGS {
        let v = gc::alloc(ObjType::Vector, n - (FAST_ARGS - 1));
        for i in FAST_ARGS - 1..n {
            v.set_field(i - (FAST_ARGS - 1), arg(i));
        }
        gc::push_root(v)
    } else {
        gc::push_root(if n == FAST_ARGS {
            arg(3)
        } else {
            Value::fixnum(0)
        })
    };
    let call = gc::alloc(ObjType::Values, SPREAD_FIELDS);
    call.set_field(0, gc::root_get(base));
    call.set_field(1, Value::fixnum(n as i64));
    for i in 0..FAST_ARGS - 1 {
        call.set_field(2 + i, if i < n { arg(i) } else { Value::fixnum(0) });
    }
    call.set_field(5, gc::root_get(a3x));
    gc::set_root_sp(top);
    call
}

/// Set (to 1) when a call through [`valk_rt_tail_call`] returns a call
/// object instead of a value: the interpreter, entered for a tail call of
/// compiled code, ended in a tail call of compiled code, which the caller
/// makes with `musttail` (docs/tiering.md, "Tail calls across tiers").
/// The caller clears it.
#[no_mangle]
pub static mut valk_tail_pending: u64 = 0;

/// Marks the result of the current call as a call object (the
/// interpreter, see [`valk_tail_pending`]).
pub fn set_tail_pending() {
    // SAFETY: a by-value write of an integer static on the runtime's only
    // thread.
    unsafe { valk_tail_pending = 1 };
}

unsafe extern "C" fn tail_call_impl(f: Value, argc: u64, argv: *const Value) -> Value {
    crate::call::request_tail_exit(f);
    // SAFETY: the contract of `valk_rt_call`, which this is.
    unsafe { gc::frames::rt_call_entry(f, argc, argv) }
}

crate::exit_trampoline! {
    /// `valk_rt_call` for a call in tail position whose callee is not
    /// compiled: an interpreted callee may return a call object (with
    /// [`valk_tail_pending`] set) for its own tail call of compiled code.
    pub fn valk_rt_tail_call(f: Value, argc: u64, argv: *const Value) -> Value => tail_call_impl;
}

crate::exit_trampoline! {
    /// `(apply f a ... l)` with `argv = [f, a ..., l]`: the call it makes,
    /// as `[callee, argc, a0, a1, a2, a3x]` (fast-entry form, a `Values`
    /// object), or `EXCEPTION` when `l` is not a proper list.
    pub fn valk_rt_apply_spread(argc: u64, argv: *const Value) -> Value => apply_spread_impl;
}

extern "C" fn call_spread_impl(call: Value) -> Value {
    let base = gc::root_sp();
    gc::push_root(call);
    let n = call.field(1).as_fixnum() as usize;
    for i in 0..n {
        let c = gc::root_get(base);
        let regs = [c.field(2), c.field(3), c.field(4), c.field(5)];
        gc::push_root(fast_arg(n, i, &regs));
    }
    let f = gc::root_get(base).field(0);
    let r = crate::call::call_rooted(f, base + 1, n);
    gc::set_root_sp(base);
    ret(r)
}

crate::exit_trampoline! {
    /// Makes the call described by a [`valk_rt_apply_spread`] object when
    /// its callee is not compiled code.
    pub fn valk_rt_call_spread(call: Value) -> Value => call_spread_impl;
}

// ---------------------------------------------------------------------------
// Module tables, filled before a compiled module runs

/// Byte tags of the constant encoding (`valk_llvm::consts` writes it).
pub mod const_tag {
    pub const INT: u8 = 0;
    pub const FLOAT: u8 = 1;
    pub const BOOL: u8 = 2;
    pub const CHAR: u8 = 3;
    pub const STR: u8 = 4;
    pub const SYMBOL: u8 = 5;
    pub const LIST: u8 = 6;
    pub const VECTOR: u8 = 7;
    pub const BYTEVECTOR: u8 = 8;
    /// A number other than a fixnum or flonum, as its text.
    pub const NUMBER: u8 = 9;
}

/// Error of a malformed table description (a compiler/runtime mismatch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(pub String);

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], TableError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| TableError("truncated table data".into()))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, TableError> {
        Ok(self.bytes(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, TableError> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, TableError> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap()))
    }
    fn str(&mut self) -> Result<&'a str, TableError> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| TableError("bad UTF-8 in table".into()))
    }
    fn at_end(&self) -> bool {
        self.pos == self.data.len()
    }
}

/// Decodes one constant; the result is unrooted.
fn decode_const(r: &mut Reader) -> Result<Value, TableError> {
    use const_tag::*;
    Ok(match r.u8()? {
        INT => {
            let n = r.u64()? as i64;
            crate::num::Num::from_i128(n as i128).into_value()
        }
        FLOAT => object::make_flonum(f64::from_bits(r.u64()?)),
        NUMBER => crate::num::Num::read_canonical(r.str()?).into_value(),
        BOOL => Value::bool(r.u8()? != 0),
        CHAR => {
            Value::char(char::from_u32(r.u32()?).ok_or_else(|| TableError("bad character".into()))?)
        }
        STR => object::string_from(r.str()?),
        SYMBOL => object::intern(r.str()?),
        LIST => {
            let n = r.u32()? as usize;
            let sp = gc::root_sp();
            for _ in 0..n {
                let v = decode_const(r)?;
                gc::push_root(v);
            }
            let tail = if r.u8()? != 0 {
                decode_const(r)?
            } else {
                Value::NIL
            };
            let s = gc::Scope::new();
            let acc = s.root(tail);
            for i in (0..n).rev() {
                acc.set(object::cons(gc::root_get(sp + i), acc.get()));
            }
            let l = acc.get();
            drop(s);
            gc::set_root_sp(sp);
            l
        }
        VECTOR => {
            let n = r.u32()? as usize;
            let sp = gc::root_sp();
            for _ in 0..n {
                let v = decode_const(r)?;
                gc::push_root(v);
            }
            let v = gc::alloc(ObjType::Vector, n);
            for i in 0..n {
                v.set_field(i, gc::root_get(sp + i));
            }
            gc::set_root_sp(sp);
            v
        }
        BYTEVECTOR => {
            let n = r.u32()? as usize;
            object::bytevector_from(r.bytes(n)?)
        }
        t => return Err(TableError(format!("bad constant tag {t}"))),
    })
}

/// Fills `table[0..n]` with the constants encoded in `data` and registers
/// the table as a root range (it must live as long as the process).
///
/// # Safety
/// `table` must point at `n` writable values that outlive the process.
pub unsafe fn init_consts(table: *mut Value, n: usize, data: &[u8]) -> Result<(), TableError> {
    // SAFETY: `table` holds `n` writable values for the life of the process
    // (this function's contract), which is also `add_root_range`'s; the
    // table is filled with fixnums before a collection can read it.
    unsafe {
        for i in 0..n {
            *table.add(i) = Value::fixnum(0);
        }
        gc::add_root_range(table, n);
    }
    let mut r = Reader { data, pos: 0 };
    for i in 0..n {
        let v = decode_const(&mut r)?;
        // SAFETY: as above.
        unsafe { *table.add(i) = v };
    }
    if !r.at_end() {
        return Err(TableError("trailing constant data".into()));
    }
    Ok(())
}

/// Names encoded as `u32 length, UTF-8 bytes` one after another.
fn decode_names(data: &[u8], n: usize) -> Result<Vec<&str>, TableError> {
    let mut r = Reader { data, pos: 0 };
    let names = (0..n).map(|_| r.str()).collect::<Result<Vec<_>, _>>()?;
    if !r.at_end() {
        return Err(TableError("trailing name data".into()));
    }
    Ok(names)
}

/// Fills `cells[0..n]` with the addresses of the global cells named in
/// `names` (creating unbound cells as needed).
///
/// # Safety
/// `cells` must point at `n` writable pointers.
pub unsafe fn init_globals(
    cells: *mut *mut Value,
    n: usize,
    names: &[u8],
) -> Result<(), TableError> {
    for (i, name) in decode_names(names, n)?.into_iter().enumerate() {
        // SAFETY: `i < n`, and `cells` holds `n` writable pointers.
        unsafe { *cells.add(i) = globals::slot(globals::global_id(name)) };
    }
    Ok(())
}

/// Fills `table[0..n]` with the builtins named in `names`.
///
/// # Safety
/// `table` must point at `n` writable pointers.
pub unsafe fn init_builtins(
    table: *mut *const Builtin,
    n: usize,
    names: &[u8],
) -> Result<(), TableError> {
    for (i, name) in decode_names(names, n)?.into_iter().enumerate() {
        let b = builtins::lookup(name)
            .ok_or_else(|| TableError(format!("the runtime has no builtin `{name}`")))?;
        // SAFETY: `i < n`, and `table` holds `n` writable pointers.
        unsafe { *table.add(i) = b as *const Builtin };
    }
    Ok(())
}

/// The layout of `ProcInfo` compiled code emits: checked by a test.
pub const PROC_INFO_SIZE: usize = std::mem::size_of::<ProcInfo>();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::lock;

    #[test]
    fn proc_info_layout_matches_the_backend() {
        // { ptr, i64, i32, i32, i32, i64 } in LLVM's layout.
        assert_eq!(PROC_INFO_SIZE, 40);
        assert_eq!(std::mem::offset_of!(ProcInfo, required), 16);
        assert_eq!(std::mem::offset_of!(ProcInfo, rest), 24);
        assert_eq!(std::mem::offset_of!(ProcInfo, data), 32);
    }

    fn enc_str(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }

    #[test]
    fn constants_decode_and_stay_rooted() {
        let _l = lock();
        crate::builtins::install();
        use const_tag::*;
        let mut d = vec![STR];
        enc_str(&mut d, "héllo");
        // (a 1 . #(2.5 #\x #t))
        d.push(LIST);
        d.extend(2u32.to_le_bytes());
        d.push(SYMBOL);
        enc_str(&mut d, "a");
        d.push(INT);
        d.extend(1u64.to_le_bytes());
        d.push(1);
        d.push(VECTOR);
        d.extend(3u32.to_le_bytes());
        d.push(FLOAT);
        d.extend(2.5f64.to_bits().to_le_bytes());
        d.push(CHAR);
        d.extend(('x' as u32).to_le_bytes());
        d.push(BOOL);
        d.push(1);
        d.push(BYTEVECTOR);
        d.extend(2u32.to_le_bytes());
        d.extend([7, 9]);
        let table: &'static mut [Value; 3] = Box::leak(Box::new([Value::NIL; 3]));
        // SAFETY: the leaked table holds 3 values for the rest of the process.
        unsafe { init_consts(table.as_mut_ptr(), 3, &d).unwrap() };
        gc::collect();
        let p = |v| crate::printer::write_string(v);
        assert_eq!(p(table[0]), "\"héllo\"");
        assert_eq!(p(table[1]), "(a 1 . #(2.5 #\\x #t))");
        assert_eq!(p(table[2]), "#u8(7 9)");
        let bad = [STR, 9, 0, 0, 0, b'a'];
        // Leaked too: the table is registered as a root range before the
        // data is found bad.
        let t2: &'static mut [Value; 1] = Box::leak(Box::new([Value::NIL; 1]));
        // SAFETY: as above.
        assert!(unsafe { init_consts(t2.as_mut_ptr(), 1, &bad) }.is_err());
    }

    #[test]
    fn generic_slow_paths_match_builtins() {
        let _l = lock();
        crate::builtins::install();
        assert_eq!(
            arith_impl(0, Value::fixnum(2), Value::fixnum(3)),
            Value::fixnum(5)
        );
        let r = arith_impl(0, Value::fixnum(1), Value::TRUE);
        assert_eq!(r, Value::EXCEPTION);
        assert_eq!(
            error::format_error(error::take_pending()),
            "+: expected a number: #t"
        );
        assert_eq!(
            compare_impl(1, Value::fixnum(1), Value::fixnum(2)),
            Value::TRUE
        );
        assert_eq!(
            compare_impl(2, Value::fixnum(1), Value::fixnum(2)),
            Value::TRUE
        );
        let x = object::make_flonum(1.5);
        let y = fl_arith_impl(2, x, x);
        assert_eq!(y.as_flonum(), 2.25);
        assert_eq!(fl_arith_impl(0, x, Value::fixnum(1)), Value::EXCEPTION);
        assert_eq!(
            error::format_error(error::take_pending()),
            "+: expected a flonum: 1"
        );
        assert_eq!(div_zero_impl(3), Value::EXCEPTION);
        assert_eq!(
            error::format_error(error::take_pending()),
            "quotient: division by zero"
        );
    }

    #[test]
    fn rest_lists_and_packed_arguments() {
        let _l = lock();
        let f = Value::fixnum;
        let l = rest_list_impl(3, 1, f(1), f(2), f(3), Value::NIL);
        assert_eq!(crate::printer::write_string(l), "(2 3)");
        let v = object::vector_from(&[f(4), f(5), f(6)]);
        let l = rest_list_impl(6, 2, f(1), f(2), f(3), v);
        assert_eq!(crate::printer::write_string(l), "(3 4 5 6)");
        let args = [f(0), f(1), f(2), f(3), f(4)];
        let sp = gc::root_sp();
        for a in args {
            gc::push_root(a);
        }
        // SAFETY: 5 values were just pushed at `sp` (rooted, as required).
        let v = unsafe { pack_args_impl(5, gc::root_slot(sp)) };
        gc::set_root_sp(sp);
        assert_eq!(crate::printer::write_string(v), "#(3 4)");
    }
}
