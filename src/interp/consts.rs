//! The interpreter's table of heap constants (quoted data, strings,
//! flonums), rooted for the life of the process.

use valk_runtime::gc::{self, RootVisitor};
use valk_runtime::guarded::Guarded;
use valk_runtime::Value;

// SAFETY: the runtime is single-threaded (docs/architecture.md): the table
// is used by the thread that runs Valk code only.
static CONSTS: Guarded<Vec<Value>> =
    unsafe { Guarded::new("the interpreter's constant table", Vec::new) };

/// Runs `f` on the table; `f` must not allocate (docs/architecture.md,
/// "Unsafe code"): a collection runs `visit`.
#[inline]
fn with_table<R>(f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
    CONSTS.with(f)
}

fn visit(v: &mut dyn RootVisitor) {
    with_table(|t| {
        for slot in t.iter_mut() {
            v.visit(slot);
        }
    });
}

/// Adds `v` (already allocated, so no allocation happens under the table).
pub fn add(v: Value) -> u32 {
    gc::add_root_hook(visit);
    with_table(|t| {
        t.push(v);
        (t.len() - 1) as u32
    })
}

#[inline]
pub fn get(i: u32) -> Value {
    with_table(|t| t[i as usize])
}
