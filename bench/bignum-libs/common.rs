// Shared harness, include!()d by every bench crate.
use std::hint::black_box;
use std::time::{Duration, Instant};

pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng { Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1) }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

/// Random little-endian limbs of a number with exactly `digits` decimal digits:
/// bit length b = floor(digits*log2 10) puts the value in [2^(b-1), 2^b) ⊂ [10^(d-1), 10^d).
pub fn random_limbs(digits: usize, seed: u64) -> Vec<u64> {
    let bits = (digits as f64 * std::f64::consts::LOG2_10).floor() as usize;
    let n = (bits + 63) / 64;
    let mut r = Rng::new(seed);
    let mut v: Vec<u64> = (0..n).map(|_| r.next()).collect();
    let top = bits - 64 * (n - 1); // 1..=64
    if top < 64 { v[n - 1] &= (1u64 << top) - 1; }
    v[n - 1] |= 1u64 << (top - 1);
    v
}

/// FNV-style checksum over limbs, to cross-check libraries agree.
pub fn checksum(limbs: impl IntoIterator<Item = u64>) -> u64 {
    let mut h = 0xcbf29ce484222325u64;
    for l in limbs { h = (h ^ l).wrapping_mul(0x100000001b3); }
    h
}
pub fn str_sum(s: &str) -> String {
    let h = checksum(s.bytes().map(|b| b as u64));
    format!("len={} head={} tail={} h={:016x}", s.len(), &s[..12.min(s.len())], &s[s.len().saturating_sub(12)..], h)
}

#[repr(C)]
struct Timespec { tv_sec: i64, tv_nsec: i64 }
unsafe extern "C" { fn clock_gettime(clk: i32, ts: *mut Timespec) -> i32; }
/// Thread CPU time in ns: the machine is shared, so CPU time is less disturbed than wall time.
pub fn cpu_ns() -> u128 {
    let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut t) };
    t.tv_sec as u128 * 1_000_000_000 + t.tv_nsec as u128
}

/// Runs `f` (which performs `ops` operations) enough times that one sample lasts >= 150 ms
/// (at least once), 5 samples; prints median thread-CPU and wall time per op, returns CPU median.
pub fn measure(lib: &str, label: &str, ops: u64, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    let one = t.elapsed();
    let reps = if one >= Duration::from_millis(150) { 1 } else {
        ((150_000_000f64 / (one.as_nanos().max(1) as f64)).ceil() as u64).max(1)
    };
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..5 {
        let c = cpu_ns();
        let t = Instant::now();
        for _ in 0..reps { f(); }
        wall.push(t.elapsed().as_nanos() as f64 / (reps * ops) as f64);
        cpu.push((cpu_ns() - c) as f64 / (reps * ops) as f64);
    }
    let med = |v: &Vec<f64>| { let mut s = v.clone(); s.sort_by(|a, b| a.partial_cmp(b).unwrap()); s[2] };
    println!("RESULT\t{lib}\t{label}\tcpu_median={}\twall_median={}\tcpu=[{}]\treps={reps}",
        fmt_ns(med(&cpu)), fmt_ns(med(&wall)),
        cpu.iter().map(|x| fmt_ns(*x)).collect::<Vec<_>>().join(", "));
    med(&cpu)
}
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 { format!("{:.3} s", ns / 1e9) }
    else if ns >= 1e6 { format!("{:.3} ms", ns / 1e6) }
    else if ns >= 1e3 { format!("{:.2} us", ns / 1e3) }
    else { format!("{:.1} ns", ns) }
}

pub const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
pub const STR_SIZES: [usize; 2] = [100_000, 1_000_000];
pub const SMALL_N: usize = 1_000_000;
pub const POOL: usize = 1024;

/// Pool of 2-limb operands (top limb nonzero) held as caller-owned limb arrays,
/// standing in for Valk heap objects.
pub fn small_pool(seed: u64) -> Vec<[u64; 2]> {
    let mut r = Rng::new(seed);
    (0..POOL).map(|_| [r.next(), (r.next() >> 1) | 1]).collect()
}

pub fn which() -> Vec<String> { std::env::args().skip(1).collect() }
pub fn want(args: &[String], k: &str) -> bool { args.is_empty() || args.iter().any(|a| a == k) }
#[allow(dead_code)]
fn _bb<T>(x: T) -> T { black_box(x) }

/// Chudnovsky pi by binary splitting (public algorithm), parametrised over a library's
/// integer type.  Returns the decimal digits "31415..." (d+1 digits).
macro_rules! chudnovsky {
    ($T:ty, $int:expr, $mul:expr, $add:expr, $div:expr, $isqrt:expr, $pow10:expr) => {
        fn bs(a: u64, b: u64) -> ($T, $T, $T) {
            let int: fn(i128) -> $T = $int;
            let mul: fn(&$T, &$T) -> $T = $mul;
            let add: fn(&$T, &$T) -> $T = $add;
            if b - a == 1 {
                if a == 0 { return (int(1), int(1), int(13591409)); }
                let ai = a as i128;
                let p = int((6 * ai - 5) * (2 * ai - 1) * (6 * ai - 1));
                let q = int(ai * ai * ai * 10939058860032000);
                let k = 13591409 + 545140134 * ai;
                let t = mul(&p, &int(if a % 2 == 1 { -k } else { k }));
                return (p, q, t);
            }
            let m = (a + b) / 2;
            let (p1, q1, t1) = bs(a, m);
            let (p2, q2, t2) = bs(m, b);
            (mul(&p1, &p2), mul(&q1, &q2), add(&mul(&t1, &q2), &mul(&p1, &t2)))
        }
        fn pi_digits(d: usize) -> String {
            let int: fn(i128) -> $T = $int;
            let mul: fn(&$T, &$T) -> $T = $mul;
            let div: fn(&$T, &$T) -> $T = $div;
            let isqrt: fn(&$T) -> $T = $isqrt;
            let pow10: fn(usize) -> $T = $pow10;
            let n = (d as f64 / 14.181647462725477) as u64 + 2;
            let (_p, q, t) = bs(0, n);
            let one = pow10(d);
            let s = isqrt(&mul(&mul(&int(10005), &one), &one));
            let num = mul(&mul(&q, &int(426880)), &s);
            div(&num, &t).to_string()
        }
    };
}
pub fn pi_bench(lib: &str, f: fn(usize) -> String) {
    for d in [10_000usize, 100_000] {
        println!("CHECK\tpi {d}\t{}", str_sum(&f(d)));
        measure(lib, &format!("pi chudnovsky {d}"), 1, || { black_box(f(d)); });
    }
}
