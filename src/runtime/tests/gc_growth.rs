//! Heap growth: starting from a 1 MiB semispace (`VALK_HEAP_INITIAL`), keep
//! about 200 MB live across many collections. One test in this file: the
//! heap reads its configuration from the environment on first use, once
//! per process.

use valk_runtime::gc::{self, Scope};
use valk_runtime::object;
use valk_runtime::value::Value;

const UNITS: usize = 47_000;
const LIST_LEN: usize = 100;
const BYTES: usize = 1000;

/// One unit of live data, about 4.3 KB: `#(list-of-100-flonums bytevector
/// string)`.
fn make_unit(i: usize) -> Value {
    let s = Scope::new();
    let list = s.root(Value::NIL);
    for k in 0..LIST_LEN {
        // Garbage between live objects, so collections compact.
        object::cons(Value::NIL, Value::NIL);
        let x = object::make_flonum((i * LIST_LEN + k) as f64);
        list.set(object::cons(x, list.get()));
    }
    let bytes: Vec<u8> = (0..BYTES).map(|k| (i + k) as u8).collect();
    let bv = s.root(object::bytevector_from(&bytes));
    let st = s.root(object::string_from(&format!("unit {i}")));
    object::vector_from(&[list.get(), bv.get(), st.get()])
}

fn check_unit(u: Value, i: usize) {
    assert!(u.is_vector() && u.size() == 3, "unit {i}");
    let mut l = u.field(0);
    for k in (0..LIST_LEN).rev() {
        assert_eq!(l.car().as_flonum(), (i * LIST_LEN + k) as f64, "unit {i}");
        l = l.cdr();
    }
    assert!(l.is_nil());
    let bytes = object::bytevector_bytes_mut(u.field(1));
    assert_eq!(bytes.len(), BYTES);
    assert!(bytes.iter().enumerate().all(|(k, &b)| b == (i + k) as u8));
    assert_eq!(object::string_to_rust(u.field(2)), format!("unit {i}"));
}

#[test]
fn heap_grows_to_keep_200mb_live() {
    std::env::set_var("VALK_HEAP_INITIAL", "1M");
    std::env::remove_var("VALK_HEAP_MAX");
    std::env::remove_var("VALK_GC_STRESS");
    gc::init();
    let start = gc::stats();
    assert_eq!(start.heap_size, 1 << 20);

    let s = Scope::new();
    let top = s.root(object::make_vector(UNITS, Value::FALSE));
    for i in 0..UNITS {
        let u = make_unit(i);
        top.get().set_field(i, u);
    }
    let built = gc::stats();
    assert!(built.collections > 10, "{} collections", built.collections);

    // Every unit survived the collections that happened while building.
    for i in (0..UNITS).step_by(97) {
        check_unit(top.get().field(i), i);
    }

    // This collection may still grow the heap (a second copy); the next one
    // copies exactly the live data once.
    gc::collect();
    let settled = gc::stats();
    let before: Vec<u64> = (0..UNITS).map(|i| top.get().field(i).0).collect();
    gc::collect();
    let after = gc::stats();
    assert_eq!(after.collections, settled.collections + 1);
    // Each major collection maps a fresh old space sized from what it may
    // copy (docs/gc.md), so the size varies a little, but no longer grows.
    assert!(
        after.heap_size <= settled.heap_size + settled.heap_size / 100,
        "no growth when settled: {} then {}",
        settled.heap_size,
        after.heap_size
    );
    let live = after.bytes_copied - settled.bytes_copied;
    assert!(live >= 200_000_000, "live data {live} bytes");
    assert!(
        after.heap_size >= 2 * live,
        "old space {} for {live} live",
        after.heap_size
    );
    assert!(after.objects_moved - settled.objects_moved >= (UNITS * (2 * LIST_LEN + 3)) as u64);
    for (i, &old) in before.iter().enumerate() {
        let u = top.get().field(i);
        assert_ne!(u.0, old, "unit {i} moved");
        check_unit(u, i);
    }
    eprint!("{}", gc::format_stats(&after));
}
