//! The copying engine shared by minor and major collections (docs/gc.md,
//! "Collections"): Cheney's algorithm from a set of from-ranges into one
//! to-space, plus marking of the large objects a major collection reaches.

use super::large::LargeSpace;
use super::{frames, RootVisitor, WeakVisitor};
use crate::value::{
    header_is_forward, header_size, header_type, ObjType, Value, HEADER_MARK, PAIR_BYTES,
    PAIR_FORWARD, TAG_MASK,
};

/// An address range `[lo, lo + size)`.
#[derive(Clone, Copy)]
pub(super) struct Range {
    pub lo: u64,
    pub size: u64,
}

impl Range {
    pub const EMPTY: Range = Range { lo: 0, size: 0 };
    #[inline(always)]
    pub fn contains(self, a: u64) -> bool {
        a.wrapping_sub(self.lo) < self.size
    }
}

pub(super) struct Copier {
    /// The nursery: copied by every collection.
    pub young: Range,
    /// The old from-space: copied by a major collection, empty in a minor.
    pub old: Range,
    /// The to-space (in a minor: the old space, filled from its top).
    pub to: Range,
    pub top: u64,
    pub moved: u64,
    /// A major collection: references outside the from-ranges and the
    /// to-space are large objects, marked and scanned in place.
    pub major: bool,
    pub large: LargeSpace,
    /// Marked large objects not yet scanned.
    pub large_pending: Vec<u64>,
    /// Headers of the weak objects scanned, for the weak processing
    /// (`weak::process`).
    pub weak: Vec<u64>,
}

impl Copier {
    #[inline(always)]
    fn in_from(&self, a: u64) -> bool {
        self.young.contains(a) || self.old.contains(a)
    }

    #[inline]
    pub fn forward(&mut self, v: Value) -> Value {
        if !v.is_heap() {
            return v;
        }
        let a = v.addr() as u64;
        if self.in_from(a) {
            return self.copy(v);
        }
        if self.major && !self.to.contains(a) {
            self.mark_large(a);
        }
        v
    }

    fn copy(&mut self, v: Value) -> Value {
        if v.is_pair() {
            return self.copy_pair(v);
        }
        let addr = v.addr();
        // SAFETY: `v` points into a from-range, which still holds every
        // object it held (not yet freed): `addr` is an object's header, or
        // its forwarding pointer.
        let h = unsafe { *addr };
        if header_is_forward(h) {
            return Value(h);
        }
        let words = header_size(h) + 1;
        let new = self.top as *mut u64;
        // SAFETY: the object is `words` words at `addr`; the caller sized
        // the to-space for everything the from-ranges hold, so the words
        // at `top` are unused to-space, disjoint from the from-ranges. The
        // header is then replaced by the forwarding pointer.
        unsafe {
            std::ptr::copy_nonoverlapping(addr, new, words);
            *addr = Value(new as u64 | v.tag()).0;
        }
        self.top += words as u64 * 8;
        self.moved += 1;
        Value(new as u64 | v.tag())
    }

    /// A pair has no header: its car is overwritten by [`PAIR_FORWARD`]
    /// and its cdr by the new address (docs/gc.md, "Objects").
    fn copy_pair(&mut self, v: Value) -> Value {
        let car = v.start();
        // SAFETY: `v` is a pair in a from-range, which still holds it (or
        // its forwarding words): two words at `car`.
        let first = unsafe { *car };
        if first == PAIR_FORWARD {
            // SAFETY: as above; the second word is the new address.
            return Value(unsafe { *car.add(1) });
        }
        let new = self.top as *mut u64;
        let moved = Value::pair_at(new);
        // SAFETY: the two words at `top` are unused to-space, disjoint from
        // the from-ranges (sized by the caller).
        unsafe {
            std::ptr::copy_nonoverlapping(car, new, 2);
            *car = PAIR_FORWARD;
            *car.add(1) = moved.0;
        }
        self.top += PAIR_BYTES;
        self.moved += 1;
        moved
    }

    #[cold]
    fn mark_large(&mut self, header: u64) {
        match self.large.mark(header) {
            Some(true) => self.large_pending.push(header),
            Some(false) => {}
            None => crate::error::fatal(&format!(
                "internal error: the collector found a reference to {header:#x}, \
                 which is in no heap space"
            )),
        }
    }

    /// Traces the fields of the object whose header is at `addr` (and the
    /// compiled frames saved in a continuation); returns its size in bytes.
    pub fn scan_object(&mut self, addr: *mut u64) -> u64 {
        // SAFETY: `addr` is the header of a live object in the to-space, a
        // large object or an object a remembered root refers to.
        let h = unsafe { *addr };
        let ty = header_type(h).expect("corrupt header during collection");
        let n = header_size(h);
        if ty.is_weak() {
            self.weak.push(addr as u64);
        }
        for i in ty.traced_from(n)..n {
            // SAFETY: word `1 + i` is within the object's `n` payload
            // words, aligned, and not otherwise borrowed; `visit` only
            // writes objects at or above `top`.
            let field = unsafe { &mut *(addr.add(1 + i) as *mut Value) };
            self.visit(field);
        }
        if ty == ObjType::Continuation {
            // The saved stack's compiled frames (docs/continuations.md):
            // its buffer (field 0) was forwarded just above, so the frames
            // are updated in their new copy, once.
            // SAFETY: field 0 of a continuation object is its buffer.
            let buffer = unsafe { *(addr.add(1) as *const Value) };
            if buffer.is_heap() {
                // SAFETY: built by `cont` (see `walk_saved_stack`).
                unsafe { frames::walk_saved_stack(buffer, self) };
            }
        }
        (n as u64 + 1) * 8
    }

    /// Traces the object that starts at `addr` in a bump-allocated space: a
    /// header, or the car of a pair (a word that is not a header: no value
    /// ends in `111`); returns its size in bytes.
    fn scan_at(&mut self, addr: *mut u64) -> u64 {
        // SAFETY: `addr` is the first word of an object in the to-space.
        let w = unsafe { *addr };
        if w & TAG_MASK == HEADER_MARK {
            return self.scan_object(addr);
        }
        for i in 0..2 {
            // SAFETY: the pair's two words, in the to-space above `scan`.
            let field = unsafe { &mut *(addr.add(i) as *mut Value) };
            self.visit(field);
        }
        PAIR_BYTES
    }

    /// Cheney's scan from `start` (in the to-space) until the scan pointer
    /// catches up with the allocation pointer and no marked large object
    /// is left unscanned.
    pub fn scan(&mut self, start: u64) {
        let mut scan = start;
        loop {
            while scan < self.top {
                scan += self.scan_at(scan as *mut u64);
            }
            match self.large_pending.pop() {
                Some(a) => {
                    self.scan_object(a as *mut u64);
                }
                None => break,
            }
        }
    }
}

impl WeakVisitor for Copier {
    fn survivor(&self, v: Value) -> Option<Value> {
        if !v.is_heap() {
            return Some(v);
        }
        let a = v.addr() as u64;
        if self.in_from(a) {
            if v.is_pair() {
                let car = v.start();
                // SAFETY: as in `copy_pair`: the from-ranges still hold the
                // pair's two words (or its forwarding words).
                let (first, second) = unsafe { (*car, *car.add(1)) };
                return (first == PAIR_FORWARD).then_some(Value(second));
            }
            // SAFETY: as in `copy`: the from-ranges still hold every object.
            let h = unsafe { *v.addr() };
            return header_is_forward(h).then_some(Value(h));
        }
        if self.major && !self.to.contains(a) {
            return self.large.is_marked(a).then_some(v);
        }
        Some(v)
    }
}

impl RootVisitor for Copier {
    #[inline]
    fn visit(&mut self, slot: &mut Value) {
        *slot = self.forward(*slot);
    }
    fn visit_derived(&mut self, base: &Value, derived: &mut u64) {
        let offset = derived.wrapping_sub(base.0);
        let nb = self.forward(*base);
        *derived = nb.0.wrapping_add(offset);
    }
}
