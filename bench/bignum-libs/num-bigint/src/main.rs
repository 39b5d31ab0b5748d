include!("../../common.rs");
use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::Pow;
const LIB: &str = "num-bigint";

fn u32s(l: &[u64]) -> Vec<u32> { l.iter().flat_map(|&x| [x as u32, (x >> 32) as u32]).collect() }
fn from_limbs(l: &[u64]) -> BigInt { BigInt::from_biguint(Sign::Plus, BigUint::from_slice(&u32s(l))) }
fn ck(x: &BigInt) -> u64 { checksum(x.iter_u64_digits()) }

chudnovsky!(BigInt, |x| BigInt::from(x), |a, b| a * b, |a, b| a + b, |a, b| a / b, |x| x.sqrt(), |d| BigInt::from(10u32).pow(d as u32));

fn main() {
    let args = which();
    if want(&args, "mul") { for n in SIZES {
        let a = from_limbs(&random_limbs(n, 1)); let b = from_limbs(&random_limbs(n, 2));
        println!("CHECK\tmul {n}\t{:016x}", ck(&(&a * &b)));
        measure(LIB, &format!("mul {n}"), 1, || { black_box(&a * &b); });
    }}
    if want(&args, "div") { for n in SIZES {
        let a = from_limbs(&random_limbs(2 * n, 3)); let b = from_limbs(&random_limbs(n, 4));
        let (q, r) = a.div_rem(&b);
        println!("CHECK\tdiv {n}\t{:016x} {:016x}", ck(&q), ck(&r));
        measure(LIB, &format!("divrem {n}"), 1, || { black_box(a.div_rem(&b)); });
    }}
    if want(&args, "str") { for n in STR_SIZES {
        let a = from_limbs(&random_limbs(n, 5));
        println!("CHECK\tstr {n}\t{}", str_sum(&a.to_string()));
        measure(LIB, &format!("to_string {n}"), 1, || { black_box(a.to_string()); });
    }}
    if want(&args, "pi") { pi_bench(LIB, pi_digits); }
    if want(&args, "small") {
        let pa = small_pool(6); let pb = small_pool(7);
        let oa: Vec<BigInt> = pa.iter().map(|x| from_limbs(x)).collect();
        let ob: Vec<BigInt> = pb.iter().map(|x| from_limbs(x)).collect();
        measure(LIB, "small add objects", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(&oa[j] + &ob[(j * 7 + 1) & (POOL - 1)]); }
        });
        measure(LIB, "small mul objects", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1); black_box(&oa[j] * &ob[(j * 7 + 1) & (POOL - 1)]); }
        });
        let mut out = [0u64; 5];
        // copy-in: limb slice -> value (via the u32-digit constructor); copy-out: limbs + sign into caller buffer
        fn mk(x: &[u64; 2]) -> BigInt {
            let d = [x[0] as u32, (x[0] >> 32) as u32, x[1] as u32, (x[1] >> 32) as u32];
            BigInt::from_biguint(Sign::Plus, BigUint::from_slice(&d))
        }
        fn put(c: &BigInt, out: &mut [u64; 5]) {
            out[0] = (c.sign() == Sign::Minus) as u64;
            for (o, d) in out[1..].iter_mut().zip(c.iter_u64_digits()) { *o = d; }
        }
        let mut acc = 0u64;
        measure(LIB, "small add copy-in/out", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                let c = mk(&pa[j]) + mk(&pb[(j * 7 + 1) & (POOL - 1)]); put(&c, &mut out); acc ^= black_box(out[1]); }
        });
        measure(LIB, "small mul copy-in/out", SMALL_N as u64, || {
            for i in 0..SMALL_N { let j = i & (POOL - 1);
                let c = mk(&pa[j]) * mk(&pb[(j * 7 + 1) & (POOL - 1)]); put(&c, &mut out); acc ^= black_box(out[1]); }
        });
        println!("CHECK\tsmall\t{acc:x}");
    }
}
