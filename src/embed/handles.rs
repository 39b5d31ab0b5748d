//! The handle table (docs/embedding.md, "Handles"): C code never holds a
//! Valk value, which the moving collector could relocate, but a handle: an
//! index into this table, whose slots are roots (a root hook, as the
//! globals' cells are: docs/gc.md). A handle also carries the generation of
//! its slot, so a released handle (whose slot may have been reused) is
//! recognised and refused instead of reading another value.
//!
//! Used on the evaluation thread only (`thread.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use valk_runtime::gc::{self, RootVisitor};
use valk_runtime::guarded::Guarded;
use valk_runtime::Value;

struct Slot {
    value: Value,
    /// Bumped at every release: a handle names a slot and a generation.
    generation: u32,
    live: bool,
}

#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

// SAFETY: used only on the evaluation thread (module docs), the one thread
// that runs Valk code, as `Guarded::new` requires.
static TABLE: Guarded<Table> = unsafe { Guarded::new("the embedding handle table", new_table) };

static REGISTERED: AtomicBool = AtomicBool::new(false);

fn new_table() -> Table {
    Table::default()
}

/// Registers the root hook (once); called when the runtime starts.
pub fn register() {
    if !REGISTERED.swap(true, Ordering::Relaxed) {
        gc::add_root_hook(visit);
    }
}

fn visit(v: &mut dyn RootVisitor) {
    TABLE.with(|t| {
        for s in t.slots.iter_mut().filter(|s| s.live) {
            v.visit(&mut s.value);
        }
    });
}

/// A handle as C sees it: `generation << 32 | (index + 1)`, never 0 (the
/// null handle means failure).
pub type Raw = u64;

/// A new handle holding `v`. Allocates nothing on the Valk heap, so `v`
/// (just produced) cannot move before it is rooted.
pub fn new(v: Value) -> Raw {
    TABLE.with(|t| {
        let i = match t.free.pop() {
            Some(i) => i,
            None => {
                t.slots.push(Slot {
                    value: Value::FALSE,
                    generation: 1,
                    live: false,
                });
                (t.slots.len() - 1) as u32
            }
        };
        let s = &mut t.slots[i as usize];
        s.value = v;
        s.live = true;
        t.live += 1;
        ((s.generation as u64) << 32) | (i as u64 + 1)
    })
}

fn decode(h: Raw) -> (usize, u32) {
    (
        ((h & 0xffff_ffff) as usize).wrapping_sub(1),
        (h >> 32) as u32,
    )
}

/// Why a handle was refused.
pub fn invalid_text(h: Raw) -> &'static str {
    if h == 0 {
        "null handle (the result of a call that failed)"
    } else {
        "invalid or released handle"
    }
}

/// The value of a live handle.
pub fn get(h: Raw) -> Option<Value> {
    let (i, g) = decode(h);
    TABLE.with(|t| match t.slots.get(i) {
        Some(s) if s.live && s.generation == g => Some(s.value),
        _ => None,
    })
}

/// Releases a handle; false when it was not live.
pub fn release(h: Raw) -> bool {
    let (i, g) = decode(h);
    TABLE.with(|t| match t.slots.get_mut(i) {
        Some(s) if s.live && s.generation == g => {
            s.live = false;
            s.value = Value::FALSE;
            s.generation = s.generation.wrapping_add(1).max(1);
            t.free.push(i as u32);
            t.live -= 1;
            true
        }
        _ => false,
    })
}

/// The number of live handles (leak checks).
pub fn live() -> usize {
    TABLE.with(|t| t.live)
}
