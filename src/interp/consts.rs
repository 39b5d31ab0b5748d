//! The interpreter's table of heap constants (quoted data, strings,
//! flonums), rooted for the life of the process.

use std::cell::UnsafeCell;
use valk_runtime::gc::{self, RootVisitor};
use valk_runtime::Value;

struct Table(UnsafeCell<Vec<Value>>);
// SAFETY: the runtime is single-threaded (docs/architecture.md).
unsafe impl Sync for Table {}
static CONSTS: Table = Table(UnsafeCell::new(Vec::new()));

fn table() -> &'static mut Vec<Value> {
    // SAFETY: single-threaded; callers use the reference for one operation
    // and never across an allocation (which may run the hook `visit`).
    unsafe { &mut *CONSTS.0.get() }
}

fn visit(v: &mut dyn RootVisitor) {
    for slot in table().iter_mut() {
        v.visit(slot);
    }
}

pub fn add(v: Value) -> u32 {
    gc::add_root_hook(visit);
    table().push(v);
    (table().len() - 1) as u32
}

#[inline]
pub fn get(i: u32) -> Value {
    table()[i as usize]
}
