//! Calling procedures from Rust: builtins such as `apply` or `vector-map`,
//! the REPL and embedders call any closure (interpreted, builtin or
//! compiled) through its generic entry.

use crate::error::{self, Raised, VResult};
use crate::gc;
use crate::object::closure_entry;
use crate::value::Value;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The generic entry of interpreted closures, and word 0 of compiled
/// closures (`@valk_compiled_entry` of the JIT), when known: tail calls
/// across tiers (docs/tiering.md).
static INTERP_ENTRY: AtomicUsize = AtomicUsize::new(0);
static COMPILED_ENTRY: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static TAIL_EXIT: Cell<bool> = const { Cell::new(false) };
}

/// Records the interpreter's generic entry.
pub fn set_interp_entry(entry: usize) {
    INTERP_ENTRY.store(entry, Ordering::Relaxed);
}

/// Records word 0 of the JIT's compiled closures.
pub fn set_compiled_entry(entry: usize) {
    COMPILED_ENTRY.store(entry, Ordering::Relaxed);
}

/// Word 0 of the JIT's compiled closures (0 when unknown).
pub fn compiled_entry() -> u64 {
    COMPILED_ENTRY.load(Ordering::Relaxed) as u64
}

/// Is `f` a closure of compiled code whose fast entry a compiled caller
/// can `musttail`-call?
pub fn is_compiled(f: Value) -> bool {
    let e = COMPILED_ENTRY.load(Ordering::Relaxed);
    e != 0 && f.is_closure() && f.raw(0) == e as u64
}

/// Before a tail call of `f` from compiled code (`valk_rt_tail_call`):
/// when `f` is interpreted, its entry may end in a call object.
pub fn request_tail_exit(f: Value) {
    let e = INTERP_ENTRY.load(Ordering::Relaxed);
    if e != 0 && f.is_closure() && f.raw(0) == e as u64 {
        TAIL_EXIT.with(|t| t.set(true));
    }
}

/// Taken by the interpreter's entry: was it called by `valk_rt_tail_call`?
pub fn take_tail_exit() -> bool {
    TAIL_EXIT.with(|t| t.replace(false))
}

/// Calls procedure `f` with `args`. The arguments are copied onto the root
/// stack, so they need not be rooted by the caller.
pub fn call(f: Value, args: &[Value]) -> VResult {
    let sp = gc::root_sp();
    for &a in args {
        gc::push_root(a);
    }
    let r = call_rooted(f, sp, args.len());
    gc::set_root_sp(sp);
    r
}

/// Calls `f` with the `argc` arguments in root stack slots `base..`.
pub fn call_rooted(f: Value, base: usize, argc: usize) -> VResult {
    if !f.is_closure() {
        return Err(error::not_a_procedure(f));
    }
    let entry = closure_entry(f);
    // Any entry may be compiled code: mark the boundary for the frame walker.
    let saved = gc::frames::enter_compiled();
    // SAFETY: `f` is a closure, so word 0 is its generic entry; the
    // arguments are `argc` rooted slots from `base` (this function's
    // contract) and the compiled-code boundary is marked.
    let r = unsafe { entry(f, argc as u64, gc::root_slot(base)) };
    gc::frames::leave_compiled(saved);
    if r == Value::EXCEPTION {
        Err(Raised)
    } else {
        Ok(r)
    }
}
