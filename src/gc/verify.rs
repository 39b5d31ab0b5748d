//! `VALK_GC_VERIFY=1`: heap checks around every collection (docs/gc.md,
//! "Verification"). Before a minor collection, every field of an old or
//! large object that points into the nursery must be in the remembered
//! set (the check that finds a missing write barrier). After every
//! collection, every reference in the heap and the roots must point at the
//! header of a live object in the old space or the large-object space,
//! with a tag that agrees with the header's type. A violation is a fatal
//! internal error naming the object, field and address.

use super::copier::Range;
use super::large::LargeSpace;
use super::RootVisitor;
use crate::value::{
    header_is_forward, header_size, header_type, ObjType, Value, HEADER_MARK, PAIR_BYTES,
    PAIR_FORWARD, TAG_MASK,
};
use std::collections::HashSet;

fn fail(msg: String) -> ! {
    crate::error::fatal(&format!("internal error: VALK_GC_VERIFY: {msg}"))
}

/// Calls `f(address, type, size)` for each object of the filled part
/// `[lo, top)` of a bump-allocated space whose first word is unused
/// (`Space::first`). The address is the header's; a pair, which has none,
/// reports the word before its car, as its value does (docs/gc.md).
fn each_object(lo: u64, top: u64, mut f: impl FnMut(u64, ObjType, usize)) {
    let mut a = lo + 8;
    while a < top {
        // SAFETY: `[lo + 8, top)` holds contiguous objects (a bump-allocated
        // space after a collection, or the old space between them).
        let h = unsafe { *(a as *const u64) };
        if h & TAG_MASK != HEADER_MARK {
            // Not a header: the car of a pair.
            f(a - 8, ObjType::Pair, 2);
            a += PAIR_BYTES;
            continue;
        }
        let Some(ty) = header_type(h).filter(|_| h != PAIR_FORWARD) else {
            fail(format!("bad header {h:#x} at {a:#x}"))
        };
        let n = header_size(h);
        f(a, ty, n);
        a += (n as u64 + 1) * 8;
    }
}

/// The traced fields of an object: (field index, slot address, value).
fn each_field(a: u64, ty: ObjType, n: usize, mut f: impl FnMut(usize, u64, Value)) {
    for i in ty.traced_from(n)..n {
        let slot = a + 8 * (i as u64 + 1);
        // SAFETY: a payload word of the object at `a`.
        f(i, slot, Value(unsafe { *(slot as *const u64) }));
    }
}

/// The weak fields of a weak object, which the collector does not trace
/// strongly: (field index, slot address, value).
fn each_weak_field(a: u64, ty: ObjType, n: usize, mut f: impl FnMut(usize, u64, Value)) {
    if !ty.is_weak() {
        return;
    }
    for i in 0..ty.traced_from(n) {
        let slot = a + 8 * (i as u64 + 1);
        // SAFETY: a payload word of the object at `a`.
        f(i, slot, Value(unsafe { *(slot as *const u64) }));
    }
}

/// Before a minor collection: old-to-young references are all remembered:
/// strong fields in the remembered set, weak objects (whose weak fields
/// are exempt from the set) in the weak objects' list `weak` (docs/gc.md,
/// "Weak references, ephemerons and guardians").
pub(super) fn check_barrier(
    young: Range,
    old: (u64, u64),
    large: &LargeSpace,
    remembered: &[u64],
    weak: &[u64],
) {
    let set: HashSet<u64> = remembered.iter().copied().collect();
    let weak: HashSet<u64> = weak.iter().copied().collect();
    let young_large: HashSet<u64> = large.young.iter().copied().collect();
    let mut check = |a: u64, ty: ObjType, n: usize| {
        each_weak_field(a, ty, n, |i, _, v| {
            if v.is_heap() && young.contains(v.0) && !weak.contains(&a) {
                fail(format!(
                    "weak field {i} of the {ty:?} at {a:#x} refers to the nursery object {:#x} \
                     but the object is not in the weak objects' list (a missing weak store)",
                    v.0
                ))
            }
        });
        each_field(a, ty, n, |i, slot, v| {
            if v.is_heap() && young.contains(v.0) && !set.contains(&slot) {
                fail(format!(
                    "field {i} of the {ty:?} at {a:#x} refers to the nursery object {:#x} \
                     but is not in the remembered set (a missing write barrier)",
                    v.0
                ))
            }
        })
    };
    each_object(old.0, old.1, &mut check);
    for a in large.headers().filter(|a| !young_large.contains(a)) {
        // SAFETY: a large object's header.
        let h = unsafe { *(a as *const u64) };
        check(
            a,
            header_type(h).expect("large object header"),
            header_size(h),
        );
    }
}

/// A reference is valid: a heap value points at a live header in the old
/// space or at a large object, with the matching tag.
struct Checker<'a> {
    old: (u64, u64),
    large: &'a LargeSpace,
}

impl Checker<'_> {
    fn check(&self, v: Value, what: &dyn Fn() -> String) {
        if !v.is_heap() {
            return;
        }
        let a = v.addr() as u64;
        let in_old = a >= self.old.0 && a < self.old.1;
        if !in_old && !self.large.contains(a) {
            fail(format!(
                "{} holds {:#x}, which is in no live space",
                what(),
                v.0
            ));
        }
        if v.is_pair() {
            // SAFETY: `a` is inside the old space's filled part, and the
            // pair's car a word after it.
            let car = unsafe { *((a + 8) as *const u64) };
            if car & TAG_MASK == HEADER_MARK {
                fail(format!(
                    "{} holds the pair {:#x}, whose car {car:#x} is a header",
                    what(),
                    v.0
                ))
            }
            return;
        }
        // SAFETY: `a` is inside the old space's filled part or a large
        // object's header.
        let h = unsafe { *(a as *const u64) };
        match header_type(h).filter(|_| !header_is_forward(h)) {
            Some(ty) if ty.tag() == v.tag() => {}
            _ => fail(format!(
                "{} holds {:#x}, whose header {h:#x} does not match its tag",
                what(),
                v.0
            )),
        }
    }
}

impl RootVisitor for Checker<'_> {
    fn visit(&mut self, slot: &mut Value) {
        self.check(*slot, &|| "a root".to_string());
    }
    fn visit_derived(&mut self, base: &Value, _derived: &mut u64) {
        self.check(*base, &|| "the base of a derived pointer".to_string());
    }
}

/// After a collection (the nursery is empty): the heap's references and
/// the roots reported by `roots` are valid.
pub(super) fn check_heap(
    old: (u64, u64),
    large: &LargeSpace,
    roots: impl FnOnce(&mut dyn RootVisitor),
) {
    let checker = Checker { old, large };
    let mut check = |a: u64, ty: ObjType, n: usize| {
        each_field(a, ty, n, |i, _, v| {
            checker.check(v, &|| format!("field {i} of the {ty:?} at {a:#x}"))
        });
        // A weak field holds a live object or an immediate (`#!bwp` once
        // broken).
        each_weak_field(a, ty, n, |i, _, v| {
            checker.check(v, &|| format!("weak field {i} of the {ty:?} at {a:#x}"))
        })
    };
    each_object(old.0, old.1, &mut check);
    for a in large.headers() {
        // SAFETY: a large object's header.
        let h = unsafe { *(a as *const u64) };
        check(
            a,
            header_type(h).expect("large object header"),
            header_size(h),
        );
    }
    let mut checker = Checker { old, large };
    roots(&mut checker);
}
