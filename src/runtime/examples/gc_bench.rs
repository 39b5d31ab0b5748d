//! Collector measurements (see docs/gc.md):
//!
//! 1. allocation throughput: pairs allocated per second when everything
//!    allocated is garbage, through `object::cons` and through `gc::alloc`;
//! 2. the pause of one full collection with about 100 MB live (lists and
//!    vectors of flonums).
//!
//! Run: `cargo run --release -p valk_runtime --example gc_bench`
//! (`VALK_HEAP_INITIAL`, `VALK_HEAP_MAX` apply as usual; `gc_bench N`
//! allocates N million pairs per throughput run, default 200).

use std::hint::black_box;
use std::time::{Duration, Instant};
use valk_runtime::gc::{self, Scope};
use valk_runtime::object;
use valk_runtime::value::{ObjType, Value};

/// CPU time of this thread (Linux `schedstat`): unlike wall time it leaves
/// out the time spent waiting for a core on a loaded machine.
fn cpu_now() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn throughput(label: &str, n: u64, mut alloc_one: impl FnMut(i64) -> Value) {
    let s0 = gc::stats();
    let c0 = cpu_now();
    let t0 = Instant::now();
    for i in 0..n {
        black_box(alloc_one(i as i64));
    }
    let dt = t0.elapsed();
    let cpu = cpu_now() - c0;
    let s1 = gc::stats();
    let gc_time = s1.total_pause - s0.total_pause;
    println!(
        "{label:<28} {:>6.1} M pairs/s wall, {:>6.1} M pairs/s CPU  ({n} pairs in {:.3} s; \
         {} collections, {:.1} ms in the collector)",
        n as f64 / dt.as_secs_f64() / 1e6,
        n as f64 / cpu.as_secs_f64() / 1e6,
        dt.as_secs_f64(),
        s1.collections - s0.collections,
        gc_time.as_secs_f64() * 1e3,
    );
}

const LISTS: usize = 500;
const LIST_LEN: usize = 4000;
const VECTORS: usize = 500;
const VECTOR_LEN: usize = 4000;

/// About 96 MB: 500 lists of 4000 fixnum pairs (48 MB) and 500 vectors of
/// 4000 flonums (48 MB), all reachable from one rooted vector.
fn build_live(top: gc::Root) {
    for i in 0..LISTS {
        let s = Scope::new();
        let l = s.root(Value::NIL);
        for k in 0..LIST_LEN {
            l.set(object::cons(Value::fixnum(k as i64), l.get()));
        }
        top.get().set_field(i, l.get());
    }
    for i in 0..VECTORS {
        let s = Scope::new();
        let v = s.root(object::make_vector(VECTOR_LEN, Value::FALSE));
        for k in 0..VECTOR_LEN {
            let x = object::make_flonum(k as f64);
            v.get().set_field(k, x);
        }
        top.get().set_field(LISTS + i, v.get());
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let millions: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let n = millions * 1_000_000;
    gc::init();
    println!(
        "semispace at start: {} MiB{}",
        gc::stats().heap_size >> 20,
        if gc::stress_enabled() {
            " (stress mode: figures are meaningless)"
        } else {
            ""
        }
    );

    println!("\n(1) allocation throughput, all garbage");
    // Warm up: fault in both semispaces.
    for i in 0..20_000_000 {
        black_box(object::cons(Value::fixnum(i), Value::NIL));
    }
    throughput("object::cons", n, |i| {
        object::cons(Value::fixnum(i), Value::NIL)
    });
    throughput("gc::alloc(Pair, 2) + init", n, |i| {
        let p = gc::alloc(ObjType::Pair, 2);
        p.set_car(Value::fixnum(i));
        p.set_cdr(Value::NIL);
        p
    });

    println!("\n(2) pause of one collection with ~100 MB live");
    let s = Scope::new();
    let top = s.root(object::make_vector(LISTS + VECTORS, Value::FALSE));
    let t0 = Instant::now();
    build_live(top);
    let built = t0.elapsed();
    let sb = gc::stats();
    println!(
        "built in {:.0} ms ({} collections so far, semispace {} MiB)",
        ms(built),
        sb.collections,
        sb.heap_size >> 20
    );
    // Settle: this one may still grow the heap (a second copy).
    gc::collect();
    let mut pauses = Vec::new();
    let mut live = 0;
    let mut objects = 0;
    for _ in 0..7 {
        let a = gc::stats();
        let c = cpu_now();
        gc::collect();
        let cpu = cpu_now() - c;
        let b = gc::stats();
        live = b.bytes_copied - a.bytes_copied;
        objects = b.objects_moved - a.objects_moved;
        pauses.push((b.total_pause - a.total_pause, cpu));
    }
    pauses.sort();
    let median = pauses[pauses.len() / 2];
    let mut cpus: Vec<Duration> = pauses.iter().map(|p| p.1).collect();
    cpus.sort();
    let st = gc::stats();
    println!(
        "live: {:.1} MB in {} objects, semispace {} MiB",
        live as f64 / 1e6,
        objects,
        st.heap_size >> 20
    );
    println!(
        "pause per collection (7 runs): min {:.1} ms, median {:.1} ms, max {:.1} ms \
         (CPU time: min {:.1} ms, median {:.1} ms)",
        ms(pauses[0].0),
        ms(median.0),
        ms(pauses[pauses.len() - 1].0),
        ms(cpus[0]),
        ms(cpus[cpus.len() / 2])
    );
    println!(
        "copy rate: {:.0} MB/s wall, {:.0} MB/s CPU",
        live as f64 / 1e6 / median.0.as_secs_f64(),
        live as f64 / 1e6 / cpus[cpus.len() / 2].as_secs_f64()
    );
    println!(
        "gc::stats().max_pause over the whole run: {:.1} ms",
        ms(st.max_pause)
    );
    // Keep the data alive until here and check a sample survived intact.
    let v = top.get().field(LISTS + VECTORS - 1);
    assert_eq!(v.field(VECTOR_LEN - 1).as_flonum(), (VECTOR_LEN - 1) as f64);
    print!("\n{}", gc::format_stats(&st));
}
