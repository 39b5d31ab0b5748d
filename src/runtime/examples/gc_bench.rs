//! Collector measurements (see docs/gc.md, *Measurements*):
//!
//! 1. allocation throughput: pairs allocated per second when everything
//!    allocated is garbage (it dies in the nursery), through `object::cons`
//!    and through `gc::alloc`;
//! 2. the pause of a minor collection with about 100 MB in the old space
//!    and a churning nursery (garbage, survivors, and old objects pointing
//!    at young ones through the write barrier);
//! 3. the pause of a major collection with about 100 MB live.
//!
//! Run: `cargo run --release -p valk_runtime --example gc_bench`
//! (`VALK_NURSERY`, `VALK_HEAP_INITIAL`, `VALK_HEAP_MAX` apply as usual;
//! `gc_bench N` allocates N million pairs per throughput run, default 200).

use std::hint::black_box;
use std::time::{Duration, Instant};
use valk_runtime::gc::{self, Scope};
use valk_runtime::object;
use valk_runtime::value::{ObjType, Value};

/// CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time
/// it leaves out the time spent waiting for a core on a loaded machine, and
/// unlike `/proc/thread-self/schedstat` it is precise below a scheduler
/// tick (a minor collection takes a fraction of a millisecond).
fn cpu_now() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
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
         {} minor + {} major collections, {:.1} ms in the collector)",
        n as f64 / dt.as_secs_f64() / 1e6,
        n as f64 / cpu.as_secs_f64() / 1e6,
        dt.as_secs_f64(),
        s1.minor.count - s0.minor.count,
        s1.major.count - s0.major.count,
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

/// `min / median / max` of a list of durations, in ms.
fn spread(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "min {:.2} ms, median {:.2} ms, max {:.2} ms",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1])
    )
}

/// A small xorshift generator: the churn picks slots at random.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const MINORS: usize = 200;
/// Garbage pairs per churn step (1.6 MB of 16-byte pairs: much of the
/// default 4 MiB nursery).
const GARBAGE: usize = 100_000;
/// Old vectors that get a fresh flonum per churn step (remembered slots).
const STORES: usize = 200;
/// Fresh lists that survive each churn step (promoted), 100 pairs each.
const SURVIVORS: usize = 100;

fn main() {
    let millions: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let n = millions * 1_000_000;
    gc::init();
    let st = gc::stats();
    println!(
        "nursery {} KiB, old space at start {} MiB{}",
        st.nursery_size >> 10,
        st.heap_size >> 20,
        if gc::stress_enabled() {
            " (stress mode: figures are meaningless)"
        } else {
            ""
        }
    );

    println!("\n(1) allocation throughput, all garbage");
    // Warm up: fault in the nursery.
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

    let s = Scope::new();
    let top = s.root(object::make_vector(LISTS + VECTORS, Value::FALSE));
    let t0 = Instant::now();
    build_live(top);
    let built = t0.elapsed();
    // Promote everything, and settle the old space's size.
    gc::collect();
    gc::collect();
    let sb = gc::stats();
    println!(
        "\nlive data built in {:.0} ms: {:.1} MB in the old space ({} minor, {} major collections so far)",
        ms(built),
        sb.old_bytes as f64 / 1e6,
        sb.minor.count,
        sb.major.count
    );

    println!("\n(2) minor collections with ~100 MB old and a churning nursery");
    // Each step: garbage, young lists stored into an old vector (they
    // survive and are promoted), fresh flonums stored into old vectors
    // (old->young pointers, found through the remembered set); then one
    // timed minor collection. Collections the churn triggers by itself
    // count in the statistics too.
    let keep = s.root(object::make_vector(SURVIVORS * 8, Value::FALSE));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut remembered = 0;
    let s0 = gc::stats();
    for step in 0..MINORS {
        for i in 0..GARBAGE {
            black_box(object::cons(Value::fixnum(i as i64), Value::NIL));
        }
        for k in 0..SURVIVORS {
            let inner = Scope::new();
            let l = inner.root(Value::NIL);
            for j in 0..100 {
                l.set(object::cons(Value::fixnum(j), l.get()));
            }
            keep.get()
                .set_field((step * SURVIVORS + k) % (SURVIVORS * 8), l.get());
        }
        for _ in 0..STORES {
            let v = top.get().field(LISTS + rng.below(VECTORS));
            let x = object::make_flonum(step as f64);
            // `v` is old: the collector cannot have moved it since it was
            // read (no minor collection moves old objects).
            v.set_field(rng.below(VECTOR_LEN), x);
        }
        remembered = remembered.max(gc::barrier::remembered_len());
        let c = cpu_now();
        let t = Instant::now();
        gc::collect_minor();
        walls.push(t.elapsed());
        cpus.push(cpu_now() - c);
    }
    let s1 = gc::stats();
    let minors = s1.minor.count - s0.minor.count;
    println!(
        "{MINORS} timed minor collections: {} (CPU time: {})",
        spread(walls),
        spread(cpus)
    );
    println!(
        "minor collections of the phase: {minors}, mean {:.2} ms (collector's own clock); \
         {} major; {:.1} MB promoted; remembered set up to {remembered} slots",
        ms(s1.minor.total - s0.minor.total) / minors.max(1) as f64,
        s1.major.count - s0.major.count,
        (s1.bytes_promoted - s0.bytes_promoted) as f64 / 1e6
    );

    println!("\n(3) major collections with ~100 MB live");
    let mut pauses = Vec::new();
    let mut cpus = Vec::new();
    let mut live = 0;
    let mut objects = 0;
    for _ in 0..7 {
        let a = gc::stats();
        let c = cpu_now();
        gc::collect();
        cpus.push(cpu_now() - c);
        let b = gc::stats();
        live = b.bytes_copied - a.bytes_copied;
        objects = b.objects_moved - a.objects_moved;
        pauses.push(b.total_pause - a.total_pause);
    }
    let st = gc::stats();
    println!(
        "live: {:.1} MB in {} objects copied, old space {} MiB",
        live as f64 / 1e6,
        objects,
        st.heap_size >> 20
    );
    let mut sorted = cpus.clone();
    sorted.sort();
    let median_cpu = sorted[sorted.len() / 2];
    println!(
        "pause per major collection (7 runs): {} (CPU time: {})",
        spread(pauses),
        spread(cpus)
    );
    println!(
        "copy rate: {:.0} MB/s CPU",
        live as f64 / 1e6 / median_cpu.as_secs_f64()
    );
    // Keep the data alive until here and check a sample survived intact.
    let v = top.get().field(LISTS + VECTORS - 1);
    assert!(v.field(VECTOR_LEN - 1).as_flonum() >= 0.0);
    let l = top.get().field(0);
    assert_eq!(l.car().as_fixnum(), (LIST_LEN - 1) as i64);
    print!("\n{}", gc::format_stats(&st));
}
