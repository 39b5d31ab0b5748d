//! Weak pairs, ephemerons, weak hash-table entries and guardians: the
//! collector's weak processing (docs/gc.md, "Weak references, ephemerons
//! and guardians").
//!
//! The collector never traces a weak field strongly (`ObjType::traced_from`
//! leaves them out). The copier lists every weak object it scans; after the
//! Cheney scan, [`process`]:
//! 1. traces the datum of every ephemeron (and the value of every weak
//!    table entry) whose key turned out live, scans again, and repeats
//!    until nothing new is reached;
//! 2. resurrects the dead objects registered with a live guardian (they and
//!    what they reach are traced, then step 1 runs again);
//! 3. breaks what is left: a dead weak car or ephemeron becomes `#!bwp`, a
//!    dead weak-table entry a deleted slot.
//!
//! Generations: a minor collection decides only the fate of nursery
//! objects. A weak field is stored with [`store`], which records the
//! *object* (not the slot: the remembered set's slots are strong roots)
//! when an old object receives a nursery referent; the next minor
//! collection processes those objects weakly. Every collection empties the
//! nursery, so the list is cleared each time.

use super::barrier::is_young;
use super::copier::Copier;
use super::{RootVisitor, WeakVisitor};
use crate::value::{ObjType, Value};
use std::cell::UnsafeCell;

/// The key of a deleted slot of a hash table (docs/hash-tables.md): what a
/// weak table's entry becomes when its key dies. An immediate no program
/// can make.
pub const DEAD_KEY: Value =
    Value((2 << 8) | (crate::value::IMM_UNDEFINED << 3) | crate::value::TAG_IMMEDIATE);

/// A registration with a guardian: `obj` (held weakly), the guardian's
/// queue `(head . tail)` (held weakly), and `cell`, a pair made at
/// registration (held strongly) that carries `obj` into the queue when it
/// is resurrected, so that the collector need not allocate. With a
/// representative, the cell's car holds it from the start (strongly) and
/// `obj` is not resurrected.
#[derive(Clone, Copy)]
struct Registration {
    obj: Value,
    queue: Value,
    cell: Value,
    has_rep: bool,
}

#[derive(Default)]
struct WeakState {
    /// Header addresses of objects outside the nursery whose weak fields
    /// received nursery values since the last collection.
    remembered: Vec<u64>,
    registrations: Vec<Registration>,
}

struct WeakCell(UnsafeCell<Option<WeakState>>);
// SAFETY: the runtime is single-threaded (docs/gc.md, "Access
// discipline"); the state is touched by the thread running Valk code only.
unsafe impl Sync for WeakCell {}
static STATE: WeakCell = WeakCell(UnsafeCell::new(None));

/// Runs `f` on the state; `f` must not call back into this module.
fn with_state<R>(f: impl FnOnce(&mut WeakState) -> R) -> R {
    // SAFETY: single thread, and no caller holds a reference across a call
    // that re-enters (every use below is a short closure without calls
    // into the collector).
    let s = unsafe { &mut *STATE.0.get() };
    f(s.get_or_insert_with(WeakState::default))
}

/// Stores `v` into weak field `i` of `obj` (a weak pair's car, an
/// ephemeron's key or datum, a weak table entry): a raw store, plus a note
/// of `obj` for the next minor collection when `obj` is outside the
/// nursery and `v` inside it.
#[inline]
pub fn store(obj: Value, i: usize, v: Value) {
    debug_assert!(obj.obj_type().is_some_and(|t| t.is_weak()));
    let addr = obj.addr() as u64;
    // A field that already holds a nursery object got it through here,
    // so its object is in the list already (as in `barrier::remember`).
    let old = obj.raw(i);
    if v.is_heap() && is_young(v.0) && !is_young(addr) && !(old & 1 != 0 && is_young(old)) {
        with_state(|s| {
            if s.remembered.last() != Some(&addr) {
                s.remembered.push(addr)
            }
        });
    }
    obj.set_raw(i, v.0);
}

/// Registers `obj` with the guardian whose queue is the pair `queue`
/// (`(head . tail)` of a list of resurrected objects), with representative
/// `rep` if given. Allocates.
pub fn register(queue: Value, obj: Value, rep: Option<Value>) {
    let s = super::Scope::new();
    let (q, o) = (s.root(queue), s.root(obj));
    let cell = crate::object::cons(rep.unwrap_or(Value::FALSE), Value::NIL);
    with_state(|st| {
        st.registrations.push(Registration {
            obj: o.get(),
            queue: q.get(),
            cell,
            has_rep: rep.is_some(),
        })
    });
}

/// The number of live registrations with guardians (tests).
pub fn registrations() -> usize {
    with_state(|s| s.registrations.len())
}

/// Header addresses of the old weak objects noted by [`store`]
/// (`VALK_GC_VERIFY`).
pub(super) fn remembered() -> Vec<u64> {
    with_state(|s| s.remembered.clone())
}

/// Weak processing after the Cheney scan of a collection (module docs):
/// the to-space is scanned up to `c.top`.
pub(super) fn process(c: &mut Copier, minor: bool) {
    let mut scanned = c.top;
    let (mut remembered, mut regs) = with_state(|s| {
        (
            std::mem::take(&mut s.remembered),
            std::mem::take(&mut s.registrations),
        )
    });
    if minor {
        // Old objects are alive in a minor collection: their weak fields
        // are decided like those of the promoted ones.
        remembered.sort_unstable();
        remembered.dedup();
        c.weak.append(&mut remembered);
    }
    // The cells that carry resurrected objects stay alive as long as their
    // registration.
    for r in &mut regs {
        c.visit(&mut r.cell);
    }
    c.scan(scanned);
    scanned = c.top;
    let mut pairs: Vec<u64> = Vec::new();
    let mut pending: Vec<u64> = Vec::new();
    loop {
        // Step 1: the ephemeron fixpoint.
        loop {
            for a in c.weak.drain(..) {
                if header_type(a) == ObjType::WeakPair {
                    pairs.push(a);
                } else {
                    pending.push(a);
                }
            }
            let top = c.top;
            pending.retain(|&a| !resolve(c, a));
            if c.top == top && c.large_pending.is_empty() {
                break;
            }
            c.scan(scanned);
            scanned = c.top;
        }
        // Step 2: resurrection, of every dead object registered with a
        // live guardian (decided before any is traced, so that an object
        // registered twice comes back twice). A registration with a dead
        // guardian stays: the guardian may yet be reached from an object
        // resurrected in this loop.
        let dead: Vec<bool> = regs
            .iter()
            .map(|r| c.survivor(r.obj).is_none() && c.survivor(r.queue).is_some())
            .collect();
        let any = dead.contains(&true);
        let mut dead = dead.into_iter();
        regs.retain(|r| {
            if !dead.next().unwrap_or(false) {
                return true;
            }
            let queue = c.survivor(r.queue).expect("live guardian");
            let cell = c.survivor(r.cell).expect("guardian cell traced");
            // Raw stores: after the collection the cell, the queue and
            // the object are all outside the nursery.
            if !r.has_rep {
                let obj = c.forward(r.obj);
                cell.set_raw(0, obj.0);
            }
            let tail = queue.field(1);
            if tail.is_pair() {
                tail.set_raw(1, cell.0);
            } else {
                queue.set_raw(0, cell.0);
            }
            queue.set_raw(1, cell.0);
            false
        });
        if !any {
            break;
        }
        c.scan(scanned);
        scanned = c.top;
    }
    // Step 3: break what did not survive.
    for a in pending {
        break_dead(c, a);
    }
    for a in pairs {
        let p = pair_value(a, ObjType::WeakPair);
        let car = p.field(0);
        p.set_raw(0, c.survivor(car).unwrap_or(Value::BWP).0);
    }
    regs.retain_mut(|r| match (c.survivor(r.obj), c.survivor(r.queue)) {
        (Some(obj), Some(queue)) => {
            r.obj = obj;
            r.queue = queue;
            r.cell = c.survivor(r.cell).expect("guardian cell traced");
            true
        }
        _ => false,
    });
    with_state(|s| {
        s.remembered.clear();
        s.registrations = regs;
    });
}

fn header_type(a: u64) -> ObjType {
    // SAFETY: `a` is the header of a live weak object (in the to-space, a
    // large object or, in a minor collection, the old space).
    let h = unsafe { *(a as *const u64) };
    crate::value::header_type(h).expect("weak object header")
}

fn pair_value(a: u64, ty: ObjType) -> Value {
    Value::from_addr(a as *mut u64, ty)
}

/// Traces what the live keys of the ephemeron or weak-entries object at
/// `a` keep alive; returns whether nothing is left undecided.
fn resolve(c: &mut Copier, a: u64) -> bool {
    let ty = header_type(a);
    let o = pair_value(a, ty);
    let mut done = true;
    let mut i = 0;
    while i + 1 < o.size() {
        let k = o.field(i);
        match c.survivor(k) {
            Some(k2) => {
                o.set_raw(i, k2.0);
                // SAFETY: word `i + 2` is the datum field, inside the
                // object (`i + 1 < size`).
                let datum = unsafe { &mut *(a as *mut Value).add(i + 2) };
                c.visit(datum);
            }
            None => done = false,
        }
        i += 2;
    }
    done
}

/// Breaks the entries of the ephemeron or weak-entries object at `a`
/// whose key died.
fn break_dead(c: &Copier, a: u64) {
    let ty = header_type(a);
    let o = pair_value(a, ty);
    let (dead_key, dead_value) = match ty {
        ObjType::Ephemeron => (Value::BWP, Value::BWP),
        _ => (DEAD_KEY, Value::FALSE),
    };
    let mut i = 0;
    while i + 1 < o.size() {
        if c.survivor(o.field(i)).is_none() {
            o.set_raw(i, dead_key.0);
            o.set_raw(i + 1, dead_value.0);
        }
        i += 2;
    }
}

#[cfg(test)]
#[path = "weak_tests.rs"]
mod tests;
