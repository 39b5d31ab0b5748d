//! Calling procedures from Rust: builtins such as `apply` or `vector-map`,
//! the REPL and embedders call any closure (interpreted, builtin or
//! compiled) through its generic entry.

use crate::error::{self, Raised, VResult};
use crate::gc;
use crate::object::closure_entry;
use crate::value::Value;

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
