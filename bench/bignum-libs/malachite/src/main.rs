include!("../../common.rs");
use malachite_base::num::arithmetic::traits::{DivRem, FloorSqrt, Pow};
use malachite_nz::integer::Integer;
use malachite_nz::natural::Natural;
const LIB: &str = "malachite-nz";

fn from_limbs(l: &[u64]) -> Integer { Integer::from_sign_and_abs(true, Natural::from_limbs_asc(l)) }
fn ck(x: &Integer) -> u64 { checksum(x.unsigned_abs_ref().as_limbs_asc().iter().copied()) }

chudnovsky!(Integer, |x| Integer::from(x), |a, b| a * b, |a, b| a + b, |a, b| a / b, |x| Integer::from(x.unsigned_abs_ref().floor_sqrt()), |d| Integer::from(Natural::from(10u32).pow(d as u64)));

fn main() {
    let args = which();
    if want(&args, "mul") { for n in SIZES {
        let a = from_limbs(&random_limbs(n, 1)); let b = from_limbs(&random_limbs(n, 2));
        println!("CHECK\tmul {n}\t{:016x}", ck(&(&a * &b)));
        measure(LIB, &format!("mul {n}"), 1, || { black_box(&a * &b); });
    }}
    if want(&args, "div") { for n in SIZES {
        let a = from_limbs(&random_limbs(2 * n, 3)); let b = from_limbs(&random_limbs(n, 4));
        let (q, r) = (&a).div_rem(&b);
        println!("CHECK\tdiv {n}\t{:016x} {:016x}", ck(&q), ck(&r));
        measure(LIB, &format!("divrem {n}"), 1, || { black_box((&a).div_rem(&b)); });
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
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(&oa[j] + &ob[(j * 7 + 1) & (POOL - 1)]); }
        });
        measure(LIB, "small mul objects", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(&oa[j] * &ob[(j * 7 + 1) & (POOL - 1)]); }
        });
        let mut out = [0u64; 5];
        fn put(c: &Integer, out: &mut [u64; 5]) {
            let w = c.unsigned_abs_ref().as_limbs_asc();
            out[0] = (*c < 0) as u64;
            out[1..1 + w.len()].copy_from_slice(w);
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
        println!("CHECK\tsmall\t{acc:x}");
    }
}
