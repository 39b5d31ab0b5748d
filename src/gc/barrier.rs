//! The write barrier and the remembered set (docs/gc.md, "Write barrier").
//!
//! A store of a nursery object into a field of an object outside the
//! nursery records the field's address in the remembered set; a minor
//! collection treats those fields as roots. Compiled code inlines the
//! range tests and calls [`valk_gc_remember`] for the rare case; Rust code
//! stores through `Value::set_field`, which calls [`write_barrier`].

use crate::value::Value;
use std::cell::UnsafeCell;

/// Start of the nursery (read by generated code's barrier).
#[no_mangle]
pub static mut valk_young_lo: u64 = 0;
/// Size of the nursery in bytes; 0 until the heap exists, so every value
/// tests "not young".
#[no_mangle]
pub static mut valk_young_size: u64 = 0;

struct RememberedSet(UnsafeCell<Vec<u64>>);
// SAFETY: the runtime is single-threaded (docs/gc.md, "Access
// discipline"); the set is touched by the thread running Valk code only.
unsafe impl Sync for RememberedSet {}
static REMEMBERED: RememberedSet = RememberedSet(UnsafeCell::new(Vec::new()));

pub(super) fn set_young_range(lo: u64, size: u64) {
    // SAFETY: by-value writes of integer statics (single thread).
    unsafe {
        valk_young_lo = lo;
        valk_young_size = size;
    }
}

/// Is address (or value bits) `a` inside the nursery?
#[inline(always)]
pub fn is_young(a: u64) -> bool {
    // SAFETY: by-value reads of integer statics (single thread).
    unsafe { a.wrapping_sub(valk_young_lo) < valk_young_size }
}

/// Called before `v` is stored into the heap word at `slot`.
#[inline(always)]
pub fn write_barrier(slot: *mut u64, v: Value) {
    if is_young(v.0) && !is_young(slot as u64) {
        remember(slot as u64);
    }
}

/// Records `slot`, a field outside the nursery about to receive a nursery
/// value. A field that already holds a nursery object is in the set (that
/// is how it came to hold one), so it is not added twice.
#[cold]
#[inline(never)]
fn remember(slot: u64) {
    // SAFETY: `slot` is the address of a payload word of a live heap
    // object (the barrier's callers' contract).
    let old = unsafe { *(slot as *const u64) };
    if old & 1 != 0 && is_young(old) {
        return;
    }
    // SAFETY: single thread; no other reference to the set is live (the
    // collector takes it out with `take` before using it).
    unsafe { (*REMEMBERED.0.get()).push(slot) };
}

/// The barrier's out-of-line part for generated code: `slot` is a field
/// about to receive a nursery value; it is remembered when outside the
/// nursery. A leaf call (it neither allocates nor collects), so compiled
/// code calls it without a statepoint.
#[no_mangle]
pub extern "C" fn valk_gc_remember(slot: u64) {
    if !is_young(slot) {
        remember(slot)
    }
}

/// Takes the remembered set (the collector processes it).
pub(super) fn take() -> Vec<u64> {
    // SAFETY: as in `remember`.
    unsafe { std::mem::take(&mut *REMEMBERED.0.get()) }
}

/// Gives back an emptied set (to keep its capacity).
pub(super) fn put_back(mut set: Vec<u64>) {
    set.clear();
    // SAFETY: as in `remember`.
    unsafe {
        let cur = &mut *REMEMBERED.0.get();
        if cur.is_empty() {
            *cur = set;
        }
    }
}

/// The number of remembered fields (statistics, tests).
pub fn remembered_len() -> usize {
    // SAFETY: as in `remember`.
    unsafe { (*REMEMBERED.0.get()).len() }
}
