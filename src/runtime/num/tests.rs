//! Unit and property tests of the numeric tower (`src/runtime/num/mod.rs`
//! and `arith.rs`), against `num-bigint`/`num-rational` used directly as a
//! reference model and against exact identities. Fixed expected values
//! were taken from Chez Scheme.

use super::arith::{self, DivKind, Round};
use super::*;
use crate::builtins::testing;
use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use proptest::prelude::*;
use std::cmp::Ordering;

// ---- the reference model ----

fn big(s: &str) -> BigInt {
    s.parse().unwrap()
}
fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}
fn pow2(k: i64) -> BigRational {
    if k >= 0 {
        BigRational::from_integer(BigInt::one() << k as usize)
    } else {
        BigRational::new(BigInt::one(), BigInt::one() << (-k) as usize)
    }
}

/// The canonical `Num` of an exact rational, built without the code under
/// test.
fn model(r: &BigRational) -> Num {
    if r.denom().is_one() {
        match r.numer().to_i64() {
            Some(k) if (FIXNUM_MIN..=FIXNUM_MAX).contains(&k) => Num::Fix(k),
            _ => Num::Big(r.numer().clone()),
        }
    } else {
        Num::Rat(r.clone())
    }
}

/// The exact value of an exact real `Num`, read without the code under
/// test.
fn value(n: &Num) -> BigRational {
    match n {
        Num::Fix(k) => BigRational::from_integer((*k).into()),
        Num::Big(b) => BigRational::from_integer(b.clone()),
        Num::Rat(r) => r.clone(),
        other => panic!("not an exact real: {other:?}"),
    }
}

fn int_value(n: &Num) -> BigInt {
    match n {
        Num::Fix(k) => (*k).into(),
        Num::Big(b) => b.clone(),
        other => panic!("not an exact integer: {other:?}"),
    }
}

/// The exact value of a finite flonum (0 for both zeros).
fn f64_value(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// Whether `n` is in the canonical form `Num::into_value` promises.
fn canonical(n: &Num) -> bool {
    match n {
        Num::Fix(k) => (FIXNUM_MIN..=FIXNUM_MAX).contains(k),
        Num::Big(b) => b
            .to_i64()
            .is_none_or(|k| !(FIXNUM_MIN..=FIXNUM_MAX).contains(&k)),
        Num::Rat(r) => {
            r.denom() > &BigInt::one() && num_integer::Integer::gcd(r.numer(), r.denom()).is_one()
        }
        Num::Flo(_) => true,
        Num::Cpx(c) => match (&c.re, &c.im) {
            (Num::Flo(_), Num::Flo(_)) => true,
            (Num::Cpx(_), _) | (_, Num::Cpx(_)) | (Num::Flo(_), _) | (_, Num::Flo(_)) => false,
            (re, im) => canonical(re) && canonical(im) && !im.is_zero(),
        },
    }
}

// ---- strategies ----

/// A random exact integer: fixnums, the fixnum boundaries and bignums up to
/// ~300 digits.
fn any_int() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<i64>().prop_map(BigInt::from),
        (-1000i64..1000).prop_map(BigInt::from),
        (FIXNUM_MIN - 3..FIXNUM_MIN + 3).prop_map(BigInt::from),
        (FIXNUM_MAX - 3..FIXNUM_MAX + 3).prop_map(BigInt::from),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 1..32)).prop_map(|(neg, d)| {
            BigInt::from_slice(if neg { Sign::Minus } else { Sign::Plus }, &d)
        }),
    ]
}

fn nonzero_int() -> impl Strategy<Value = BigInt> {
    any_int().prop_filter("non-zero", |n| !n.is_zero())
}

fn any_ratio() -> impl Strategy<Value = BigRational> {
    prop_oneof![
        any_int().prop_map(BigRational::from_integer),
        (any_int(), nonzero_int()).prop_map(|(n, d)| BigRational::new(n, d)),
        (-100i64..100, 1i64..100).prop_map(|(n, d)| q(n, d)),
    ]
}

fn nonzero_ratio() -> impl Strategy<Value = BigRational> {
    any_ratio().prop_filter("non-zero", |r| !r.is_zero())
}

/// Any finite flonum, from random bits (all exponents and subnormals).
fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        (any::<u64>(), 0u64..4).prop_map(|(m, e)| f64::from_bits(m & !(0x7ff << 52) | e << 52)),
        -1e6f64..1e6,
    ]
    .prop_filter("finite", |x| x.is_finite())
}

/// Any real: exact rationals, flonums including infinities.
fn any_real() -> impl Strategy<Value = Num> {
    prop_oneof![
        any_ratio().prop_map(|r| model(&r)),
        finite_f64().prop_map(Num::Flo),
        prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0 / 3.0])
            .prop_map(Num::Flo),
    ]
}

fn any_num() -> impl Strategy<Value = Num> {
    prop_oneof![
        any_real(),
        (any_ratio(), nonzero_ratio()).prop_map(|(a, b)| Num::rect(model(&a), model(&b))),
        (finite_f64(), finite_f64()).prop_map(|(a, b)| Num::rect(Num::Flo(a), Num::Flo(b))),
    ]
}

// ---- unit tests ----

#[test]
fn canonical_constructors() {
    assert_eq!(Num::int(BigInt::from(FIXNUM_MAX)), Num::Fix(FIXNUM_MAX));
    assert_eq!(
        Num::int(BigInt::from(FIXNUM_MAX) + 1),
        Num::Big(BigInt::from(FIXNUM_MAX) + 1)
    );
    assert_eq!(Num::from_i128(FIXNUM_MIN as i128), Num::Fix(FIXNUM_MIN));
    assert_eq!(
        Num::from_i128(FIXNUM_MIN as i128 - 1),
        Num::Big(BigInt::from(FIXNUM_MIN) - 1)
    );
    assert_eq!(Num::from_i128(i128::MAX), Num::Big(BigInt::from(i128::MAX)));
    assert_eq!(Num::fraction(6.into(), (-4).into()), Num::Rat(q(-3, 2)));
    assert_eq!(Num::fraction(6.into(), 3.into()), Num::Fix(2));
    assert_eq!(Num::rect(Num::Fix(1), Num::Fix(0)), Num::Fix(1));
    assert_eq!(
        Num::rect(Num::Fix(1), Num::Flo(0.0)),
        Num::Cpx(Box::new(Complex {
            re: Num::Flo(1.0),
            im: Num::Flo(0.0)
        }))
    );
    assert_eq!(
        Num::rect(Num::Rat(q(1, 2)), Num::Flo(2.0)),
        Num::Cpx(Box::new(Complex {
            re: Num::Flo(0.5),
            im: Num::Flo(2.0)
        }))
    );
    assert_eq!(Num::rect(Num::Flo(1.5), Num::Fix(0)), Num::Flo(1.5));
}

#[test]
fn heap_round_trip_every_kind() {
    let _g = testing::lock();
    let nums = [
        Num::Fix(0),
        Num::Fix(FIXNUM_MIN),
        Num::Fix(FIXNUM_MAX),
        Num::Big(BigInt::from(FIXNUM_MAX) + 1),
        Num::Big(BigInt::from(FIXNUM_MIN) - 1),
        Num::Big(BigInt::from(u64::MAX)),
        Num::Big(-(BigInt::one() << 64usize)),
        Num::Big(big(
            "-123456789012345678901234567890123456789012345678901234567890",
        )),
        Num::Rat(q(-1, 3)),
        Num::Rat(BigRational::new(big("1") << 200usize, big("3") * 7 * 11)),
        Num::Flo(-0.0),
        Num::Flo(f64::NAN),
        Num::Flo(5e-324),
        Num::rect(Num::Fix(0), Num::Fix(-1)),
        Num::rect(
            Num::Rat(BigRational::new(big("1") << 100usize, 3.into())),
            Num::Big(big("-1") << 70usize),
        ),
        Num::rect(Num::Flo(f64::INFINITY), Num::Flo(-0.0)),
    ];
    for n in &nums {
        assert!(canonical(n), "{n:?}");
        let back = Num::of(n.clone().into_value());
        assert!(same(back.as_ref(), n), "{n:?} came back as {back:?}");
    }
    // Also when the collector moves the objects, and under stress (a
    // collection at every allocation, also between a rational's or complex
    // number's parts and the object holding them).
    let s = gc::Scope::new();
    let roots: Vec<_> = nums
        .iter()
        .map(|n| s.root(testing::with_stress(|| n.clone().into_value())))
        .collect();
    let before: Vec<_> = roots.iter().map(|r| r.get()).collect();
    gc::collect();
    for ((n, r), old) in nums.iter().zip(&roots).zip(&before) {
        if !n.is_exact_integer() || matches!(n, Num::Big(_)) {
            assert_ne!(r.get().addr(), old.addr(), "{n:?} did not move");
        }
        let back = Num::of(r.get());
        assert!(same(back.as_ref(), n), "{n:?} came back as {back:?}");
    }
    gc::collect();
    for (n, r) in nums.iter().zip(&roots) {
        let back = Num::of(r.get());
        assert!(same(back.as_ref(), n), "{n:?} came back as {back:?}");
    }
    assert_eq!(Num::of(Value::TRUE), None);
    assert_eq!(Num::of(crate::object::string_from("1")), None);
}

/// Equal numbers, NaNs equal to each other (for round trips).
fn same(a: Option<&Num>, b: &Num) -> bool {
    match (a, b) {
        (Some(Num::Flo(x)), Num::Flo(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Some(Num::Cpx(x)), Num::Cpx(y)) => same(Some(&x.re), &y.re) && same(Some(&x.im), &y.im),
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

#[test]
fn exact_of_flonums() {
    assert_eq!(
        Num::exact_of_f64(0.1),
        Some(Num::Rat(BigRational::new(
            3602879701896397i64.into(),
            36028797018963968i64.into()
        )))
    );
    assert_eq!(Num::exact_of_f64(-0.0), Some(Num::Fix(0)));
    assert_eq!(Num::exact_of_f64(2.5), Some(Num::Rat(q(5, 2))));
    assert_eq!(
        Num::exact_of_f64(1e300).map(|n| int_value(&n)),
        Some(f64_value(1e300).to_integer())
    );
    assert_eq!(Num::exact_of_f64(5e-324), Some(Num::Rat(pow2(-1074))));
    assert_eq!(Num::exact_of_f64(f64::INFINITY), None);
    assert_eq!(Num::exact_of_f64(f64::NAN), None);
    assert_eq!(
        Num::exact_of_f64(1152921504606846976.0),
        Some(Num::Big(BigInt::one() << 60usize))
    );
    assert_eq!(
        Num::exact_of_f64(-1152921504606846976.0),
        Some(Num::Fix(FIXNUM_MIN))
    );
    assert_eq!(
        Num::exact_of_f64(9.0e18),
        Some(Num::Big(BigInt::from(9_000_000_000_000_000_000u64)))
    );
}

#[test]
fn inexact_edges() {
    let two1024 = BigInt::one() << 1024usize;
    let max_half = &two1024 - (BigInt::one() << 970usize);
    assert_eq!(bigint_to_f64(&two1024), f64::INFINITY);
    assert_eq!(bigint_to_f64(&-&two1024), f64::NEG_INFINITY);
    assert_eq!(
        Num::Big(two1024.clone() << 5000usize).to_f64(),
        f64::INFINITY
    );
    // Halfway between MAX and 2^1024 rounds to even: up, to infinity.
    assert_eq!(bigint_to_f64(&max_half), f64::INFINITY);
    assert_eq!(bigint_to_f64(&(&max_half - 1)), f64::MAX);
    assert_eq!(
        Num::Rat(BigRational::new(max_half.clone() * 3 - 1, 3.into())).to_f64(),
        f64::MAX
    );
    assert_eq!(
        Num::Rat(BigRational::new(max_half * 3 + 1, 3.into())).to_f64(),
        f64::INFINITY
    );
    // Below the smallest subnormal.
    let tiny = |r: BigRational| model(&r).to_f64();
    assert_eq!(tiny(pow2(-1075)).to_bits(), 0.0f64.to_bits());
    assert_eq!(tiny(pow2(-1075) + pow2(-2000)), 5e-324);
    assert_eq!(tiny(pow2(-1076)), 0.0);
    assert_eq!(tiny(pow2(-1076) * q(3, 1)), 5e-324);
    assert_eq!(tiny(pow2(-1075) * q(3, 1)), 1e-323);
    assert_eq!(tiny(-pow2(-1076) * q(3, 1)), -5e-324);
    assert_eq!(tiny(pow2(-5000)), 0.0);
    assert_eq!(tiny(q(1, 3) * pow2(-1070)), f64::from_bits(5));
    // The largest subnormal and the smallest normal.
    assert_eq!(
        tiny(pow2(-1022) - pow2(-1074)),
        f64::from_bits((1 << 52) - 1)
    );
    assert_eq!(tiny(pow2(-1022) - pow2(-1076)), f64::MIN_POSITIVE);
    assert_eq!(Num::Rat(q(1, 3)).to_f64(), 1.0 / 3.0);
    assert_eq!(Num::Rat(q(-2, 3)).to_f64(), -2.0 / 3.0);
}

#[test]
fn comparisons_with_flonums() {
    let third = Num::Rat(q(1, 3));
    let f = Num::Flo(0.3333333333333333);
    assert_eq!(arith::compare(&f, &third), Some(Ordering::Less));
    assert_eq!(arith::compare(&third, &f), Some(Ordering::Greater));
    assert!(!arith::num_eq(&f, &third));
    let big60 = Num::Big(BigInt::one() << 60usize);
    assert_eq!(
        arith::compare(&big60, &Num::Flo(1152921504606846976.0)),
        Some(Ordering::Equal)
    );
    assert_eq!(
        arith::compare(&Num::Fix(FIXNUM_MAX), &Num::Flo(1152921504606846976.0)),
        Some(Ordering::Less)
    );
    let huge = Num::Big(BigInt::one() << 2000usize);
    assert_eq!(
        arith::compare(&huge, &Num::Flo(f64::MAX)),
        Some(Ordering::Greater)
    );
    assert_eq!(
        arith::compare(&huge, &Num::Flo(f64::INFINITY)),
        Some(Ordering::Less)
    );
    assert_eq!(
        arith::compare(&Num::Rat(pow2(-1080)), &Num::Flo(5e-324)),
        Some(Ordering::Less)
    );
    assert_eq!(
        arith::compare(&Num::Rat(pow2(-1080)), &Num::Flo(-0.0)),
        Some(Ordering::Greater)
    );
    assert_eq!(arith::compare(&third, &Num::Flo(f64::NAN)), None);
    assert_eq!(arith::compare(&Num::Fix(1), &Num::Flo(f64::NAN)), None);
    assert_eq!(
        arith::compare(&Num::Fix(i64::MAX >> 3), &Num::Flo(9.3e18)),
        Some(Ordering::Less)
    );
    assert_eq!(
        arith::compare(&Num::Fix(-1), &Num::Flo(-9.3e18)),
        Some(Ordering::Greater)
    );
    let z = Num::rect(Num::Fix(1), Num::Fix(2));
    let zf = Num::rect(Num::Flo(1.0), Num::Flo(2.0));
    assert!(arith::num_eq(&z, &zf));
    assert!(!arith::num_eq(&z, &Num::Fix(1)));
    assert!(arith::num_eq(
        &Num::Fix(1),
        &Num::rect(Num::Flo(1.0), Num::Flo(0.0))
    ));
}

#[test]
fn rounding_rationals() {
    let r = |n, d, mode| arith::round(&Num::Rat(q(n, d)), mode);
    assert_eq!(r(5, 2, Round::Nearest), Num::Fix(2));
    assert_eq!(r(7, 2, Round::Nearest), Num::Fix(4));
    assert_eq!(r(-5, 2, Round::Nearest), Num::Fix(-2));
    assert_eq!(r(-7, 2, Round::Nearest), Num::Fix(-4));
    assert_eq!(r(7, 3, Round::Nearest), Num::Fix(2));
    assert_eq!(r(-8, 3, Round::Nearest), Num::Fix(-3));
    assert_eq!(r(-7, 2, Round::Floor), Num::Fix(-4));
    assert_eq!(r(-7, 2, Round::Ceiling), Num::Fix(-3));
    assert_eq!(r(-7, 2, Round::Truncate), Num::Fix(-3));
    assert_eq!(r(7, 2, Round::Truncate), Num::Fix(3));
    assert_eq!(arith::round(&Num::Flo(-2.5), Round::Nearest).to_f64(), -2.0);
    assert!(arith::round(&Num::Flo(-0.4), Round::Nearest)
        .to_f64()
        .is_sign_negative());
}

#[test]
fn rationalize_examples() {
    let x = Num::exact_of_f64(0.3).unwrap();
    assert_eq!(
        arith::rationalize(&x, &Num::Rat(q(1, 10))),
        Num::Rat(q(1, 3))
    );
    assert_eq!(
        arith::rationalize(&Num::Flo(0.3), &Num::Rat(q(1, 10))),
        Num::Flo(0.3333333333333333)
    );
    assert_eq!(
        arith::rationalize(&Num::Rat(q(1, 3)), &Num::Rat(q(1, 100))),
        Num::Rat(q(1, 3))
    );
    assert_eq!(
        arith::rationalize(&Num::Rat(q(-1, 3)), &Num::Rat(q(1, 100))),
        Num::Rat(q(-1, 3))
    );
    assert_eq!(
        arith::rationalize(&Num::Rat(q(3, 10)), &Num::Rat(q(-1, 10))),
        Num::Rat(q(1, 3))
    );
    assert_eq!(
        arith::rationalize(&Num::Rat(q(1, 2)), &Num::Fix(1)),
        Num::Fix(0)
    );
    assert_eq!(
        arith::rationalize(&Num::Rat(q(7, 2)), &Num::Rat(q(1, 2))),
        Num::Fix(3)
    );
}

#[test]
fn exact_powers() {
    let e = |b: Num, k: i64| arith::expt(&b, &Num::Fix(k)).unwrap();
    assert_eq!(e(Num::Fix(2), -3), Num::Rat(q(1, 8)));
    assert_eq!(e(Num::Rat(q(1, 2)), -3), Num::Fix(8));
    assert_eq!(e(Num::Rat(q(-2, 3)), -3), Num::Rat(q(-27, 8)));
    assert_eq!(e(Num::Rat(q(2, 3)), -5), Num::Rat(q(243, 32)));
    let i1 = Num::rect(Num::Fix(1), Num::Fix(1));
    assert_eq!(e(i1.clone(), 4), Num::Fix(-4));
    assert_eq!(e(i1, -2), Num::rect(Num::Fix(0), Num::Rat(q(-1, 2))));
    assert_eq!(
        e(Num::rect(Num::Rat(q(1, 2)), Num::Rat(q(1, 3))), 3),
        Num::rect(Num::Rat(q(-1, 24)), Num::Rat(q(23, 108)))
    );
    assert_eq!(
        e(Num::Fix(10), 100),
        Num::Big(num_traits::pow(BigInt::from(10), 100))
    );
    assert_eq!(
        arith::expt(&Num::Fix(0), &Num::Fix(-1)),
        Err(arith::ExptError::DivisionByZero)
    );
    assert_eq!(
        arith::expt(&Num::Fix(3), &Num::Big(BigInt::one() << 70usize)),
        Err(arith::ExptError::TooLarge)
    );
    assert_eq!(
        arith::expt(&Num::Fix(-1), &Num::Big((BigInt::one() << 70usize) + 1)),
        Ok(Num::Fix(-1))
    );
}

#[test]
fn square_roots() {
    let s = |n: Num| arith::exact_integer_sqrt(&int_value(&n));
    assert_eq!(
        s(Num::Big(num_traits::pow(BigInt::from(10), 41))),
        (
            Num::Big(big("316227766016837933199")),
            Num::Big(big("562477137586013626399"))
        )
    );
    assert_eq!(arith::sqrt(&Num::Rat(q(9, 4))), Num::Rat(q(3, 2)));
    assert_eq!(
        arith::sqrt(&Num::Fix(-4)),
        Num::rect(Num::Fix(0), Num::Fix(2))
    );
    assert_eq!(
        arith::sqrt(&Num::rect(Num::Fix(3), Num::Fix(4))),
        Num::rect(Num::Fix(2), Num::Fix(1))
    );
    assert_eq!(
        arith::sqrt(&Num::rect(Num::Fix(-3), Num::Fix(-4))),
        Num::rect(Num::Fix(1), Num::Fix(-2))
    );
    let square = Num::Big(num_traits::pow(BigInt::from(7), 80));
    assert_eq!(
        arith::sqrt(&square),
        Num::Big(num_traits::pow(BigInt::from(7), 40))
    );
    let huge = Num::Big((BigInt::one() << 3000usize) + 1);
    assert_eq!(arith::sqrt(&huge), Num::Flo(2f64.powi(1500)));
}

// ---- property tests ----

/// Reference Euclid, independent of `num-integer`.
fn euclid(a: &BigInt, b: &BigInt) -> BigInt {
    let (mut a, mut b) = (a.abs(), b.abs());
    while !b.is_zero() {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

/// Whether `x` is the flonum nearest `r` (ties to even), compared exactly
/// with its two neighbours (±2^1024 standing for the neighbours beyond
/// ±MAX).
fn correctly_rounded(r: &BigRational, x: f64) -> Result<(), String> {
    let limit = pow2(1024) - pow2(970);
    if x.is_infinite() {
        let ok = if x > 0.0 { *r >= limit } else { *r <= -limit };
        return if ok {
            Ok(())
        } else {
            Err(format!("{r} gave {x}"))
        };
    }
    if x.is_nan() {
        return Err(format!("{r} gave NaN"));
    }
    let at = |y: f64| {
        if y.is_infinite() {
            if y > 0.0 {
                pow2(1024)
            } else {
                -pow2(1024)
            }
        } else {
            f64_value(y)
        }
    };
    let err = (at(x) - r).abs();
    let even = x.to_bits() & 1 == 0;
    for n in [x.next_up(), x.next_down()] {
        let other = (at(n) - r).abs();
        if err > other || (err == other && !even) {
            return Err(format!("{r} gave {x:e}, but {n:e} is nearer or even"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ring_laws(a in any_ratio(), b in any_ratio(), c in any_ratio()) {
        let (x, y, z) = (model(&a), model(&b), model(&c));
        let sum = arith::add(&x, &y);
        let diff = arith::sub(&x, &y);
        let prod = arith::mul(&x, &y);
        // Against the reference, canonical.
        prop_assert_eq!(&sum, &model(&(&a + &b)));
        prop_assert_eq!(&diff, &model(&(&a - &b)));
        prop_assert_eq!(&prod, &model(&(&a * &b)));
        prop_assert_eq!(arith::neg(&x), model(&-&a));
        for n in [&sum, &diff, &prod] {
            prop_assert!(canonical(n), "{:?}", n);
        }
        // Commutativity, associativity, distributivity.
        prop_assert_eq!(&sum, &arith::add(&y, &x));
        prop_assert_eq!(&prod, &arith::mul(&y, &x));
        prop_assert_eq!(arith::add(&sum, &z), arith::add(&x, &arith::add(&y, &z)));
        prop_assert_eq!(arith::mul(&prod, &z), arith::mul(&x, &arith::mul(&y, &z)));
        prop_assert_eq!(
            arith::mul(&x, &arith::add(&y, &z)),
            arith::add(&prod, &arith::mul(&x, &z))
        );
        // Inverses.
        prop_assert_eq!(&arith::sub(&sum, &y), &x);
        prop_assert_eq!(&arith::add(&diff, &y), &x);
        if b.is_zero() {
            prop_assert_eq!(arith::div(&x, &y), None);
        } else {
            let quo = arith::div(&x, &y).unwrap();
            prop_assert!(canonical(&quo), "{:?}", quo);
            prop_assert_eq!(&quo, &model(&(&a / &b)));
            prop_assert_eq!(arith::div(&prod, &y), Some(x.clone()));
            prop_assert_eq!(arith::mul(&quo, &y), x.clone());
        }
        // Comparison agrees with the reference.
        prop_assert_eq!(arith::compare(&x, &y), Some(a.cmp(&b)));
        prop_assert_eq!(arith::num_eq(&x, &y), a == b);
    }

    #[test]
    fn integer_ring_laws(a in any_int(), b in any_int()) {
        let (x, y) = (Num::int(a.clone()), Num::int(b.clone()));
        for (got, want) in [
            (arith::add(&x, &y), &a + &b),
            (arith::sub(&x, &y), &a - &b),
            (arith::mul(&x, &y), &a * &b),
        ] {
            prop_assert!(canonical(&got), "{:?}", got);
            prop_assert_eq!(int_value(&got), want);
        }
    }

    #[test]
    fn exact_complex_arithmetic(a in any_ratio(), b in nonzero_ratio(), c in any_ratio(), d in nonzero_ratio()) {
        let x = Num::rect(model(&a), model(&b));
        let y = Num::rect(model(&c), model(&d));
        let prod = arith::mul(&x, &y);
        let re = &a * &c - &b * &d;
        let im = &a * &d + &b * &c;
        prop_assert_eq!(&prod, &Num::rect(model(&re), model(&im)));
        prop_assert!(canonical(&prod));
        let quo = arith::div(&prod, &y).unwrap();
        prop_assert_eq!(&quo, &x);
        prop_assert_eq!(arith::sub(&arith::add(&x, &y), &y), x.clone());
    }

    #[test]
    fn heap_round_trip(n in any_num(), stress in any::<bool>()) {
        let _g = testing::lock();
        let s = gc::Scope::new();
        let v = if stress {
            testing::with_stress(|| n.clone().into_value())
        } else {
            n.clone().into_value()
        };
        let r = s.root(v);
        prop_assert!(same(Num::of(r.get()).as_ref(), &n));
        gc::collect();
        prop_assert!(same(Num::of(r.get()).as_ref(), &n));
    }

    #[test]
    fn exact_inexact_round_trip(x in finite_f64()) {
        let e = Num::exact_of_f64(x).unwrap();
        prop_assert!(canonical(&e));
        prop_assert_eq!(value(&e), f64_value(x));
        let back = e.to_f64();
        prop_assert!(back == x && (x == 0.0 || back.to_bits() == x.to_bits()), "{:e} -> {:?} -> {:e}", x, e, back);
        prop_assert_eq!(Num::Flo(x).to_exact(), Some(e));
    }

    #[test]
    fn to_f64_correctly_rounded(
        n in any_int(),
        d in nonzero_int(),
        shift in -1200i64..1200,
    ) {
        let r = BigRational::new(n, d) * pow2(shift);
        let x = model(&r).to_f64();
        prop_assert!(correctly_rounded(&r, x).is_ok(), "{:?}", correctly_rounded(&r, x));
    }

    #[test]
    fn to_f64_near_ties(x in finite_f64(), eps in -2i64..=2, k in 1usize..200) {
        // Midpoints between neighbouring flonums, and values just beside.
        prop_assume!(x != f64::MAX && x != 0.0);
        let mid = (f64_value(x) + f64_value(x.next_up())) / BigRational::from_integer(2.into());
        let r = mid + pow2(-1200 - k as i64) * q(eps, 1);
        let y = model(&r).to_f64();
        prop_assert!(correctly_rounded(&r, y).is_ok(), "{:?}", correctly_rounded(&r, y));
    }

    #[test]
    fn bignum_to_f64_correctly_rounded(n in any_int(), shift in 0usize..1100) {
        let b: BigInt = n << shift;
        let x = bigint_to_f64(&b);
        prop_assert!(correctly_rounded(&BigRational::from_integer(b), x).is_ok());
    }

    #[test]
    fn bignum_to_f64_near_ties(m in any::<u64>(), e in 1100u64..2046, eps in -1i64..=1) {
        // Integers just beside the midpoint of two flonums of at least 64
        // bits: only a sticky bit far below the top 64 bits decides them.
        let x = f64::from_bits(m & ((1 << 52) - 1) | e << 52);
        let mid = f64_value(x) + (f64_value(x.next_up()) - f64_value(x)) / BigRational::from_integer(2.into());
        let b = mid.to_integer() + eps;
        let y = bigint_to_f64(&b);
        let r = BigRational::from_integer(b);
        prop_assert!(correctly_rounded(&r, y).is_ok(), "{:?}", correctly_rounded(&r, y));
    }

    #[test]
    fn comparisons_are_exact(a in any_real(), b in any_real(), c in any_real()) {
        // Reference: the exact values, infinities beyond every rational.
        let key = |n: &Num| match n {
            Num::Flo(x) if x.is_infinite() => (if *x > 0.0 { 1 } else { -1 }, BigRational::zero()),
            Num::Flo(x) => (0, f64_value(*x)),
            n => (0, value(n)),
        };
        let o = arith::compare(&a, &b);
        prop_assert_eq!(o, Some(key(&a).cmp(&key(&b))));
        prop_assert_eq!(arith::compare(&b, &a), o.map(Ordering::reverse));
        prop_assert_eq!(arith::num_eq(&a, &b), o == Some(Ordering::Equal));
        let (ab, bc, ac) = (o.unwrap(), arith::compare(&b, &c).unwrap(), arith::compare(&a, &c).unwrap());
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert!(ac != Ordering::Greater);
        }
        if ab == Ordering::Less && bc == Ordering::Less {
            prop_assert_eq!(ac, Ordering::Less);
        }
    }

    #[test]
    fn integer_division(a in any_int(), b in nonzero_int()) {
        let (x, y) = (Num::int(a.clone()), Num::int(b.clone()));
        for kind in [DivKind::Truncate, DivKind::Floor] {
            let (qn, rn) = arith::int_div(&x, &y, kind).unwrap();
            prop_assert!(canonical(&qn) && canonical(&rn));
            let (quo, rem) = (int_value(&qn), int_value(&rn));
            prop_assert_eq!(&quo * &b + &rem, a.clone());
            prop_assert!(rem.abs() < b.abs());
            if !rem.is_zero() {
                let want = if kind == DivKind::Truncate { a.sign() } else { b.sign() };
                prop_assert_eq!(rem.sign(), want);
            }
        }
        prop_assert_eq!(arith::int_div(&x, &Num::Fix(0), DivKind::Floor), None);
    }

    #[test]
    fn fixnum_division(a in any::<i64>(), b in any::<i64>()) {
        let (a, b) = (a >> 3, b >> 3);
        prop_assume!(b != 0);
        for kind in [DivKind::Truncate, DivKind::Floor] {
            let (qn, rn) = arith::int_div(&Num::Fix(a), &Num::Fix(b), kind).unwrap();
            let (quo, rem) = (int_value(&qn), int_value(&rn));
            prop_assert!(canonical(&qn) && canonical(&rn));
            prop_assert_eq!(&quo * BigInt::from(b) + &rem, BigInt::from(a));
        }
    }

    #[test]
    fn integer_sqrt(n in any_int()) {
        let n = n.abs();
        let (s, r) = arith::exact_integer_sqrt(&n);
        prop_assert!(canonical(&s) && canonical(&r));
        let (s, r) = (int_value(&s), int_value(&r));
        prop_assert_eq!(&s * &s + &r, n.clone());
        prop_assert!(!r.is_negative());
        prop_assert!((&s + 1u32) * (&s + 1u32) > n);
    }

    #[test]
    fn gcd_lcm(a in any_int(), b in any_int()) {
        let (x, y) = (Num::int(a.clone()), Num::int(b.clone()));
        let g = arith::gcd(&x, &y);
        let l = arith::lcm(&x, &y);
        prop_assert!(canonical(&g) && canonical(&l));
        let (g, l) = (int_value(&g), int_value(&l));
        prop_assert_eq!(&g, &euclid(&a, &b));
        prop_assert_eq!(&g * &l, (&a * &b).abs());
        if !g.is_zero() {
            prop_assert!((&a % &g).is_zero() && (&b % &g).is_zero());
        }
        if !l.is_zero() {
            prop_assert!((&l % &a).is_zero() && (&l % &b).is_zero());
        }
        // Inexact integers give the same values, inexact.
        if let (Some(fa), Some(fb)) = (a.to_i32(), b.to_i32()) {
            let gf = arith::gcd(&Num::Flo(fa as f64), &Num::Fix(fb as i64));
            prop_assert_eq!(gf, Num::Flo(g.to_f64().unwrap()));
        }
    }

    #[test]
    fn powers(base in nonzero_ratio(), k in -12i64..12) {
        let got = arith::expt(&model(&base), &Num::Fix(k)).unwrap();
        prop_assert!(canonical(&got));
        let mut want = BigRational::one();
        for _ in 0..k.abs() {
            want *= &base;
        }
        if k < 0 {
            want = want.recip();
        }
        prop_assert_eq!(got, model(&want));
    }

    #[test]
    fn rounding(r in any_ratio()) {
        let n = model(&r);
        let f = value(&arith::round(&n, Round::Floor));
        let c = value(&arith::round(&n, Round::Ceiling));
        let t = value(&arith::round(&n, Round::Truncate));
        let m = value(&arith::round(&n, Round::Nearest));
        let one = BigRational::one();
        prop_assert!(f.is_integer() && f <= r && r < &f + &one);
        prop_assert!(c.is_integer() && c >= r && r > &c - &one);
        prop_assert_eq!(&t, if r.is_negative() { &c } else { &f });
        let half = q(1, 2);
        let dist = (&m - &r).abs();
        prop_assert!(m.is_integer() && dist <= half);
        if dist == half {
            prop_assert!(!m.to_integer().bit(0), "{} rounded to {}", r, m);
        }
    }

    #[test]
    fn rationalize_is_simplest(n in -200i64..200, d in 1i64..60, en in 0i64..20, ed in 1i64..60) {
        let (x, y) = (q(n, d), q(en, ed));
        let got = value(&arith::rationalize(&model(&x), &model(&y)));
        let (lo, hi) = (&x - &y, &x + &y);
        prop_assert!(lo <= got && got <= hi, "{} not within {} of {}", got, y, x);
        // No rational with a smaller denominator lies in the interval, and
        // none with the same denominator and a smaller numerator.
        let den = got.denom().to_i64().unwrap();
        for dd in 1..=den {
            let dd_r = BigRational::from_integer(dd.into());
            // The numerator nearest zero among those in [lo*dd, hi*dd].
            let (a, b) = ((&lo * &dd_r).ceil(), (&hi * &dd_r).floor());
            if a > b {
                continue;
            }
            let m = if a.is_positive() { a } else if b.is_negative() { b } else { BigRational::zero() };
            let candidate = m / dd_r;
            if dd < den {
                prop_assert!(false, "{} is simpler than {}", candidate, got);
            } else {
                prop_assert!(candidate.numer().abs() >= got.numer().abs());
            }
        }
    }
}

/// The `i128` path of the builtins: `int_value` writes the canonical
/// object (a fixnum, or a one- or two-limb bignum) and `small_int` reads
/// back exactly the fixnums and one-limb bignums.
#[test]
fn small_integers_without_bigint() {
    let _g = testing::lock();
    let max64 = u64::MAX as i128;
    let cases = [
        0,
        1,
        -1,
        FIXNUM_MAX as i128,
        FIXNUM_MIN as i128,
        FIXNUM_MAX as i128 + 1,
        FIXNUM_MIN as i128 - 1,
        max64,
        -max64,
        max64 + 1,
        -max64 - 1,
        i128::MAX,
        i128::MIN,
    ];
    for n in cases {
        let v = super::int_value(n);
        assert_eq!(Num::of(v), Some(Num::from_i128(n)), "{n}");
        let want = (n.unsigned_abs() <= u64::MAX as u128).then_some(n);
        assert_eq!(small_int(v), want, "{n}");
    }
    crate::gc::collect();
    assert_eq!(small_int(crate::object::make_flonum(1.0)), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn small_integers_round_trip(n in any::<i128>()) {
        let _g = testing::lock();
        let v = super::int_value(n);
        prop_assert_eq!(Num::of(v), Some(Num::from_i128(n)));
    }
}
