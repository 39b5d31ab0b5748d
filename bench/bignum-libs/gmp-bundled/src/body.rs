include!("../../common.rs");
use gmp_mpfr_sys::gmp;
use rug::{Assign, Integer, integer::Order};

fn from_limbs(l: &[u64]) -> Integer { Integer::from_digits(l, Order::Lsf) }
fn ck(x: &Integer) -> u64 { checksum(x.to_digits::<u64>(Order::Lsf)) }

chudnovsky!(Integer, |x| Integer::from(x), |a, b| Integer::from(a * b), |a, b| Integer::from(a + b), |a, b| Integer::from(a / b), |x| Integer::from(x.sqrt_ref()), |d| Integer::from(Integer::u_pow_u(10, d as u32)));

fn main() {
    let args = which();
    println!("INFO\tGMP version {}", unsafe { std::ffi::CStr::from_ptr(gmp::version) }.to_string_lossy());
    if want(&args, "mul") { for n in SIZES {
        let a = from_limbs(&random_limbs(n, 1)); let b = from_limbs(&random_limbs(n, 2));
        println!("CHECK\tmul {n}\t{:016x}", ck(&Integer::from(&a * &b)));
        measure(LIB, &format!("mul {n}"), 1, || { black_box(Integer::from(&a * &b)); });
    }}
    if want(&args, "div") { for n in SIZES {
        let a = from_limbs(&random_limbs(2 * n, 3)); let b = from_limbs(&random_limbs(n, 4));
        let (q, r) = <(Integer, Integer)>::from(a.div_rem_ref(&b));
        println!("CHECK\tdiv {n}\t{:016x} {:016x}", ck(&q), ck(&r));
        measure(LIB, &format!("divrem {n}"), 1, || { black_box(<(Integer, Integer)>::from(a.div_rem_ref(&b))); });
    }}
    if want(&args, "str") { for n in STR_SIZES {
        let a = from_limbs(&random_limbs(n, 5));
        println!("CHECK\tstr {n}\t{}", str_sum(&a.to_string()));
        measure(LIB, &format!("to_string {n}"), 1, || { black_box(a.to_string()); });
    }}
    if want(&args, "pi") { pi_bench(LIB, pi_digits); }
    if want(&args, "small") {
        let pa = small_pool(6); let pb = small_pool(7);
        let oa: Vec<Integer> = pa.iter().map(|x| from_limbs(x)).collect();
        let ob: Vec<Integer> = pb.iter().map(|x| from_limbs(x)).collect();
        measure(LIB, "small add objects", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(Integer::from(&oa[j] + &ob[(j * 7 + 1) & (POOL - 1)])); }
        });
        measure(LIB, "small mul objects", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(Integer::from(&oa[j] * &ob[(j * 7 + 1) & (POOL - 1)])); }
        });
        let mut out = [0u64; 5];
        fn put(c: &Integer, out: &mut [u64; 5]) {
            let n = c.significant_digits::<u64>();
            out[0] = (*c < 0) as u64;
            c.write_digits(&mut out[1..1 + n], Order::Lsf);
        }
        let mut acc = 0u64;
        measure(LIB, "small add copy-in/out", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                let c = from_limbs(&pa[j]) + from_limbs(&pb[(j * 7 + 1) & (POOL - 1)]); put(&c, &mut out); acc ^= black_box(out[1]); }
        });
        measure(LIB, "small mul copy-in/out", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                let c = from_limbs(&pa[j]) * from_limbs(&pb[(j * 7 + 1) & (POOL - 1)]); put(&c, &mut out); acc ^= black_box(out[1]); }
        });
        // copy-in/out into reused scratch mpz values (no allocation after warm-up)
        let (mut x, mut y, mut z) = (Integer::with_capacity(256), Integer::with_capacity(256), Integer::with_capacity(256));
        measure(LIB, "small add copy-in/out scratch", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                x.assign_digits(&pa[j], Order::Lsf); y.assign_digits(&pb[(j * 7 + 1) & (POOL - 1)], Order::Lsf);
                z.assign(&x + &y); put(&z, &mut out); acc ^= black_box(out[1]); }
        });
        measure(LIB, "small mul copy-in/out scratch", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                x.assign_digits(&pa[j], Order::Lsf); y.assign_digits(&pb[(j * 7 + 1) & (POOL - 1)], Order::Lsf);
                z.assign(&x * &y); put(&z, &mut out); acc ^= black_box(out[1]); }
        });
        // slice level: mpn_* directly on caller-owned limb arrays (unsigned magnitudes; sign is the caller's job)
        let mut o4 = [0u64; 4];
        measure(LIB, "small add mpn slices", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); let (p, q) = (&pa[j], &pb[(j * 7 + 1) & (POOL - 1)]);
                unsafe { o4[2] = gmp::mpn_add_n(o4.as_mut_ptr(), p.as_ptr(), q.as_ptr(), 2); }
                acc ^= black_box(o4[0]); }
        });
        measure(LIB, "small mul mpn slices", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); let (p, q) = (&pa[j], &pb[(j * 7 + 1) & (POOL - 1)]);
                unsafe { gmp::mpn_mul_n(o4.as_mut_ptr(), p.as_ptr(), q.as_ptr(), 2); }
                acc ^= black_box(o4[0]); }
        });
        println!("CHECK\tsmall\t{acc:x}");
    }
}
