//! The interfaces compiled code uses: the stack walker (slots and
//! (base, derived) pairs in compiled frames) and the exported allocation
//! fast path (`valk_alloc_ptr`, `valk_alloc_limit`, `valk_gc_alloc_slow`).

use std::cell::UnsafeCell;
use std::sync::{Mutex, MutexGuard};
use valk_runtime::gc::{self, RootVisitor, Scope};
use valk_runtime::object;
use valk_runtime::value::{make_header, ObjType, Value, TAG_MASK};

/// The heap is one per process; tests of this file take turns.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    let l = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // Sizes here assume normal mode even when the suite runs with
    // `VALK_GC_STRESS` set.
    gc::set_stress(false);
    l
}

fn fx(n: i64) -> Value {
    Value::fixnum(n)
}

/// What a compiled frame would hold at a safepoint: plain slots and
/// derived pointers (field addresses) with their bases.
struct FakeFrame {
    slots: Vec<Value>,
    /// (base, derived address)
    derived: Vec<(Value, u64)>,
}

struct FrameCell(UnsafeCell<FakeFrame>);
// SAFETY: only touched with the heap lock held, so by one thread at a time.
unsafe impl Sync for FrameCell {}
static FRAME: FrameCell = FrameCell(UnsafeCell::new(FakeFrame {
    slots: Vec::new(),
    derived: Vec::new(),
}));

fn frame() -> &'static mut FakeFrame {
    // SAFETY: see `FrameCell`; tests use the reference for one step and the
    // walker's runs during `collect`, when the test holds none.
    unsafe { &mut *FRAME.0.get() }
}

/// Reports the fake frame the way a stack-map walker would: derived
/// pointers first, then their bases and the other slots.
unsafe fn fake_walker(v: &mut dyn RootVisitor) {
    let f = frame();
    for (base, derived) in f.derived.iter_mut() {
        v.visit_derived(base, derived);
    }
    for (base, _) in f.derived.iter_mut() {
        v.visit(base);
    }
    for slot in f.slots.iter_mut() {
        v.visit(slot);
    }
}

fn install_walker() {
    gc::set_stack_walker(fake_walker);
    let f = frame();
    f.slots.clear();
    f.derived.clear();
}

/// Address of payload word `i` of `v`, computed from the tagged pointer the
/// way generated code does (`gep` off the tagged base).
fn field_addr(v: Value, i: usize) -> u64 {
    v.0.wrapping_sub(v.tag()).wrapping_add(8 * (i as u64 + 1))
}

#[test]
fn walker_slots_and_derived_pointers_are_updated() {
    let _l = lock();
    install_walker();
    let vec = object::vector_from(&[fx(0), fx(1), fx(2), fx(3), fx(4), fx(5)]);
    frame().slots.push(vec);
    let s = object::string_from("five");
    frame().slots[0].set_field(5, s);
    let pair = object::cons(fx(10), object::make_flonum(2.5));
    // Two derived pointers off the vector, one off the pair (its cdr).
    let v0 = frame().slots[0];
    frame().derived.push((v0, field_addr(v0, 5)));
    frame().derived.push((v0, field_addr(v0, 2)));
    frame().derived.push((pair, field_addr(pair, 1)));
    let old_vec = v0;
    let old_pair = pair;
    let moved0 = gc::stats().objects_moved;
    gc::collect();
    assert!(gc::stats().objects_moved - moved0 >= 4);
    let f = frame();
    let v = f.slots[0];
    assert_ne!(v, old_vec, "vector moved");
    assert!(v.is_vector() && v.size() == 6);
    assert_eq!(object::string_to_rust(v.field(5)), "five");
    // Bases moved, and each derived pointer was rebased onto its new base.
    let (b0, d0) = f.derived[0];
    let (b1, d1) = f.derived[1];
    let (b2, d2) = f.derived[2];
    assert_eq!(b0, v);
    assert_eq!(b1, v);
    assert_ne!(b2, old_pair);
    assert!(b2.is_pair());
    assert_eq!(d0, field_addr(v, 5));
    assert_eq!(d1, field_addr(v, 2));
    assert_eq!(d2, field_addr(b2, 1));
    // Loads through the rebased derived pointers see the moved objects.
    // SAFETY: each derived address is a field of a live object (checked
    // equal to `field_addr` above), and nothing allocates meanwhile.
    unsafe {
        let via0 = *(d0 as *const Value);
        assert_eq!(object::string_to_rust(via0), "five");
        assert_eq!(*(d1 as *const Value), fx(2));
        let via2 = *(d2 as *const Value);
        assert_eq!(via2.as_flonum(), 2.5);
    }
    assert_eq!(b2.car(), fx(10));
    f.slots.clear();
    f.derived.clear();
}

#[test]
fn derived_pointer_whose_base_was_already_moved_by_another_root() {
    let _l = lock();
    install_walker();
    let s = Scope::new();
    // The root stack is scanned before compiled frames, so the object is
    // already forwarded when the walker reports the derived pointer.
    let r = s.root(object::vector_from(&[fx(7), fx(8), fx(9)]));
    let v = r.get();
    frame().derived.push((v, field_addr(v, 2)));
    gc::collect();
    let (b, d) = frame().derived[0];
    assert_ne!(r.get(), v);
    assert_eq!(b, r.get(), "same object through both roots");
    assert_eq!(d, field_addr(b, 2));
    // SAFETY: `d` is field 2 of the live vector (checked above).
    assert_eq!(unsafe { *(d as *const Value) }, fx(9));
    // Derived pointers need not lie inside the object: a one-past-the-end
    // address (loop bound) is rebased by the same offset.
    frame().derived[0].1 = field_addr(b, 3);
    gc::collect();
    let (b2, d2) = frame().derived[0];
    assert_ne!(b2, b);
    assert_eq!(d2, field_addr(b2, 3));
    frame().derived.clear();
}

#[test]
fn walker_non_heap_values_are_left_alone() {
    let _l = lock();
    install_walker();
    let f = frame();
    f.slots
        .extend([fx(-5), Value::NIL, Value::TRUE, Value::char('q')]);
    gc::collect();
    assert_eq!(
        frame().slots,
        vec![fx(-5), Value::NIL, Value::TRUE, Value::char('q')]
    );
    frame().slots.clear();
}

/// What the backend inlines: bump `valk_alloc_ptr` up to `valk_alloc_limit`,
/// else call `valk_gc_alloc_slow`; then write the header and clear the
/// payload.
fn generated_alloc(ty: ObjType, words: usize) -> Value {
    // A pair is its two fields, without a header (docs/gc.md, "Objects").
    let pair = ty == ObjType::Pair;
    let bytes = if pair { 16 } else { (words as u64 + 1) * 8 };
    // SAFETY: the exported allocation state is read and written by value on
    // the thread holding the heap lock; `valk_gc_alloc_slow` is called from
    // Rust here on purpose (its exit record names no compiled frame), and
    // the space between pointer and limit is free.
    unsafe {
        let ptr = std::ptr::addr_of_mut!(gc::valk_alloc_ptr);
        let limit = std::ptr::addr_of!(gc::valk_alloc_limit).read();
        let p = ptr.read();
        let addr = if p + bytes <= limit {
            ptr.write(p + bytes);
            p as *mut u64
        } else {
            gc::valk_gc_alloc_slow(bytes)
        };
        assert_eq!(addr as u64 & TAG_MASK, 0, "8-byte aligned");
        if pair {
            *addr = 0;
            *addr.add(1) = 0;
            return Value::pair_at(addr);
        }
        *addr = make_header(ty, words);
        for i in 0..words {
            *addr.add(1 + i) = 0;
        }
        Value::from_addr(addr, ty)
    }
}

fn generated_list(n: i64) -> Vec<Value> {
    let s = Scope::new();
    let acc = s.root(Value::NIL);
    for i in 0..n {
        let p = generated_alloc(ObjType::Pair, 2);
        p.set_car(fx(i));
        p.set_cdr(acc.get());
        acc.set(p);
    }
    object::list_to_vec(acc.get()).expect("proper list")
}

#[test]
fn exported_fast_path_and_slow_path() {
    let _l = lock();
    gc::init();
    let c0 = gc::stats().collections;
    // Enough pairs to exhaust the current semispace several times.
    let n = (3 * gc::stats().heap_size / 16) as i64;
    let l = generated_list(n);
    assert!(gc::stats().collections > c0, "slow path collected");
    assert_eq!(l.len() as i64, n);
    for (k, v) in l.iter().enumerate() {
        assert_eq!(*v, fx(n - 1 - k as i64));
    }
    drop(l);
    // Stress mode: the limit equals the pointer, so every allocation takes
    // the slow path and collects.
    gc::set_stress(true);
    // SAFETY: by-value reads of the exported allocation state.
    unsafe {
        assert_eq!(
            std::ptr::addr_of!(gc::valk_alloc_ptr).read(),
            std::ptr::addr_of!(gc::valk_alloc_limit).read()
        );
    }
    let c1 = gc::stats().collections;
    let l = generated_list(300);
    assert!(gc::stats().collections - c1 >= 300 / gc_stress_interval());
    gc::set_stress(false);
    assert_eq!(l.len(), 300);
    assert_eq!(l[0], fx(299));
    assert_eq!(l[299], fx(0));
}

/// `VALK_GC_STRESS=N` (if the suite runs under it) collects at every N-th
/// allocation.
fn gc_stress_interval() -> u64 {
    std::env::var("VALK_GC_STRESS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}
