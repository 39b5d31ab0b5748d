//! Unit and property tests of number syntax and printing
//! (`src/runtime/num/text.rs`). Expected values of the syntax tests were
//! taken from Chez Scheme (`string->number`, `number->string`), with hex
//! digits in lower case as Valk prints them.

use super::*;
use crate::num::Complex;
use crate::value::{FIXNUM_MAX, FIXNUM_MIN};
use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use proptest::prelude::*;

fn num(s: &str) -> Num {
    match parse_number(s, 10) {
        Ok(Some(n)) => n,
        other => panic!("{s}: {other:?}"),
    }
}
fn fix(s: &str) -> i64 {
    match num(s) {
        Num::Fix(n) => n,
        other => panic!("{s}: {other:?}"),
    }
}
fn flo(s: &str) -> f64 {
    match num(s) {
        Num::Flo(x) => x,
        other => panic!("{s}: {other:?}"),
    }
}
fn none(s: &str) {
    assert_eq!(parse_number(s, 10), Ok(None), "{s}");
}
fn err(s: &str) -> String {
    match parse_number(s, 10) {
        Err(m) => m,
        other => panic!("{s}: {other:?}"),
    }
}
fn big(s: &str) -> BigInt {
    s.parse().unwrap()
}
fn rat(n: i64, d: i64) -> Num {
    Num::Rat(BigRational::new(n.into(), d.into()))
}
fn cpx(re: Num, im: Num) -> Num {
    Num::Cpx(Box::new(Complex { re, im }))
}
/// The number `s` denotes, written in radix 10.
fn written(s: &str) -> String {
    format_number(&num(s), 10)
}

// ---- ported from the fixnum/flonum parser's tests ----

#[test]
fn numparse_integers() {
    assert_eq!(fix("0"), 0);
    assert_eq!(fix("42"), 42);
    assert_eq!(fix("+42"), 42);
    assert_eq!(fix("-42"), -42);
    assert_eq!(fix("-0"), 0);
    assert_eq!(fix("007"), 7);
    assert_eq!(fix(&FIXNUM_MAX.to_string()), FIXNUM_MAX);
    assert_eq!(fix(&FIXNUM_MIN.to_string()), FIXNUM_MIN);
}

#[test]
fn numparse_prefixes() {
    assert_eq!(fix("#xff"), 255);
    assert_eq!(fix("#XFF"), 255);
    assert_eq!(fix("#x-1A"), -26);
    assert_eq!(fix("#b101"), 5);
    assert_eq!(fix("#o17"), 15);
    assert_eq!(fix("#d19"), 19);
    assert_eq!(fix("#e#x10"), 16);
    assert_eq!(fix("#x#e10"), 16);
    assert_eq!(flo("#i#x10"), 16.0);
    assert_eq!(flo("#x#i10"), 16.0);
    assert_eq!(flo("#i3"), 3.0);
    assert_eq!(flo("#i-3"), -3.0);
    assert_eq!(parse_number("ff", 16), Ok(Some(Num::Fix(255))));
    assert_eq!(parse_number("#d10", 16), Ok(Some(Num::Fix(10))));
    assert_eq!(parse_number("12", 2), Ok(None));
    for bad in ["#x", "#x#x1", "#e#i1", "#b2", "#q1", "#", "#xg", "#x1.5"] {
        none(bad);
    }
}

#[test]
fn numparse_decimals() {
    assert_eq!(flo("1.5"), 1.5);
    assert_eq!(flo(".5"), 0.5);
    assert_eq!(flo("-.5"), -0.5);
    assert_eq!(flo("1."), 1.0);
    assert_eq!(flo("1e10"), 1e10);
    assert_eq!(flo("1E10"), 1e10);
    assert_eq!(flo("-2.5e-3"), -2.5e-3);
    assert_eq!(flo("+2.5e+3"), 2500.0);
    assert_eq!(flo("0.1"), 0.1);
    assert_eq!(flo("1e400"), f64::INFINITY);
    assert_eq!(flo("1e-400"), 0.0);
    assert_eq!(flo("1e99999999999999999999999"), f64::INFINITY);
    assert!(flo("-0.0").is_sign_negative());
    // Correct rounding on a classic hard case.
    assert_eq!(flo("2.2250738585072011e-308"), 2.225_073_858_507_201e-308);
    assert_eq!(flo("9007199254740993.0"), 9007199254740992.0);
    assert_eq!(flo("#d1.25"), 1.25);
    for bad in [
        ".", "..", "...", "1e", "e1", "1.2.3", "1e+", "1ee2", "-", "+", "1+", "-.", ".e1",
    ] {
        none(bad);
    }
}

#[test]
fn numparse_inf_nan() {
    assert_eq!(flo("+inf.0"), f64::INFINITY);
    assert_eq!(flo("-inf.0"), f64::NEG_INFINITY);
    assert_eq!(flo("+INF.0"), f64::INFINITY);
    assert!(flo("+nan.0").is_nan());
    assert!(flo("-nan.0").is_nan());
    none("inf.0");
    none("+inf");
    assert!(err("#e+inf.0").contains("exact"));
}

#[test]
fn numparse_exactness() {
    assert_eq!(fix("#e1.0"), 1);
    assert_eq!(fix("#e1e3"), 1000);
    assert_eq!(fix("#e1.5e1"), 15);
    assert_eq!(fix("#e-2.50e1"), -25);
    assert_eq!(fix("#e0.0e999999"), 0);
    assert_eq!(fix("#e.000"), 0);
    // Rationals and bignums, which the old parser refused.
    assert_eq!(num("#e1.5"), rat(3, 2));
    assert_eq!(num("#e1e-1"), rat(1, 10));
    assert_eq!(
        num("#e1e30"),
        Num::Big(big("1000000000000000000000000000000"))
    );
    assert!(err("#e1e99999999999999999999").contains("too large"));
    assert_eq!(flo("#i1/2"), 0.5);
    assert_eq!(flo("#i1.5"), 1.5);
}

#[test]
fn numparse_errors() {
    // Out of fixnum range: bignums now.
    assert_eq!(
        num(&(FIXNUM_MAX as i128 + 1).to_string()),
        Num::Big(BigInt::from(FIXNUM_MAX as i128 + 1))
    );
    assert_eq!(
        num(&(FIXNUM_MIN as i128 - 1).to_string()),
        Num::Big(BigInt::from(FIXNUM_MIN as i128 - 1))
    );
    assert_eq!(
        num("123456789012345678901234567890123456789012345"),
        Num::Big(big("123456789012345678901234567890123456789012345"))
    );
    assert_eq!(num("#xffffffffffffffff"), Num::Big(BigInt::from(u64::MAX)));
    assert_eq!(
        flo("#i123456789012345678901234567890"),
        123456789012345678901234567890.0
    );
    assert_eq!(num("1/2"), rat(1, 2));
    assert_eq!(num("-3/4"), rat(-3, 4));
    assert_eq!(fix("4/2"), 2);
    assert_eq!(fix("-6/3"), -2);
    assert!(err("1/0").contains("division by zero"));
    assert_eq!(num("1+2i"), cpx(Num::Fix(1), Num::Fix(2)));
    assert_eq!(num("-2.5i"), cpx(Num::Flo(0.0), Num::Flo(-2.5)));
    let polar = num("1@2");
    assert_eq!(polar, cpx(Num::Flo(2f64.cos()), Num::Flo(2f64.sin())));
    assert_eq!(num("+i"), cpx(Num::Fix(0), Num::Fix(1)));
    assert_eq!(num("-i"), cpx(Num::Fix(0), Num::Fix(-1)));
    none("1/");
    none("/2");
    none("1/2/3");
    none("a/b");
}

#[test]
fn numparse_symbols_and_unicode() {
    for s in [
        "abc", "λ", "1+", "+5x", "1a", "-abc", "+.a", "", "#", "1é", "١٢",
    ] {
        none(s);
    }
}

// ---- the full syntax ----

#[test]
fn full_syntax() {
    let cases = [
        ("1/2", "1/2"),
        ("#e1.5", "3/2"),
        ("#e1e30", "1000000000000000000000000000000"),
        ("1+2i", "1+2i"),
        ("+i", "0+1i"),
        ("-i", "0-1i"),
        ("#i1/3", "0.3333333333333333"),
        ("-0.0", "-0.0"),
        ("+inf.0i", "0.0+inf.0i"),
        ("-inf.0i", "0.0-inf.0i"),
        ("+inf.0+nan.0i", "+inf.0+nan.0i"),
        ("1@0", "1"),
        ("#e1@0", "1"),
        ("1@1", "0.5403023058681398+0.8414709848078965i"),
        ("+nan.0@0", "+nan.0"),
        ("2@-0.0", "2.0-0.0i"),
        ("#x1/A", "1/10"),
        ("#x#e1/A", "1/10"),
        ("#e#x1/A", "1/10"),
        ("#i#x1/A", "0.1"),
        ("#x#i1/A", "0.1"),
        ("1e10", "1e10"),
        ("#e1e10", "10000000000"),
        ("#e1.5+2.5i", "3/2+5/2i"),
        ("#e.5+.25i", "1/2+1/4i"),
        ("#i1+2i", "1.0+2.0i"),
        ("#i3/4+1/2i", "0.75+0.5i"),
        ("1.5+2i", "1.5+2.0i"),
        ("1+2.5i", "1.0+2.5i"),
        ("#b101/11", "5/3"),
        ("#o-17/4", "-15/4"),
        ("#x-ff/2", "-255/2"),
        ("#x+ai", "0+10i"),
        ("1e2+3e-1i", "100.0+0.3i"),
        ("#e1e-3", "1/1000"),
        ("#e1.2e-2", "3/250"),
        ("1-i", "1-1i"),
        ("-1+i", "-1+1i"),
        ("+1/2i", "0+1/2i"),
        ("-3/4-5/6i", "-3/4-5/6i"),
        ("#d1/2", "1/2"),
        ("#e-0.0", "0"),
        ("0/5", "0"),
        ("-0/5", "0"),
        ("#i0+0i", "0.0+0.0i"),
        ("0+0i", "0"),
        ("0.0+0i", "0.0"),
        ("1+0.0i", "1.0+0.0i"),
        (
            "123456789012345678901234567890",
            "123456789012345678901234567890",
        ),
        (
            "-123456789012345678901234567890/7",
            "-17636684144620811271604938270",
        ),
        ("#x-1000000000000000", "-1152921504606846976"),
        ("#x1000000000000000", "1152921504606846976"),
    ];
    for (text, want) in cases {
        assert_eq!(written(text), want, "parsing {text}");
    }
    // Kinds, not only spellings.
    assert!(matches!(num("#x-1000000000000000"), Num::Fix(FIXNUM_MIN)));
    assert!(matches!(num("#x1000000000000000"), Num::Big(_)));
    assert!(matches!(num("1e10"), Num::Flo(_)));
    assert_eq!(num("#e1e10"), Num::Fix(10_000_000_000));
    assert_eq!(
        num("#e1e400"),
        Num::Big(num_traits::pow(BigInt::from(10), 400))
    );
    let z = flo("-0.0");
    assert!(z == 0.0 && z.is_sign_negative());
    assert!(flo("#i-0").to_bits() == 0.0f64.to_bits());
    // The order of the prefixes does not matter.
    for (a, b) in [
        ("#e#x1.8", "#x#e1.8"),
        ("#e#b-101/11", "#b#e-101/11"),
        ("#i#o7/2", "#o#i7/2"),
        ("#e#d1.25+.5i", "#d#e1.25+.5i"),
        ("#i#x1+fi", "#x#i1+fi"),
    ] {
        assert_eq!(parse_number(a, 10), parse_number(b, 10), "{a} vs {b}");
    }
    assert_eq!(written("#e#b-101/11"), "-5/3");
    assert_eq!(written("#i#o7/2"), "3.5");
    assert_eq!(written("#d#e1.25+.5i"), "5/4+1/2i");
    assert_eq!(written("#x#i1+fi"), "1.0+15.0i");
    // Decimals are radix 10 only.
    none("#x1.8");
    assert_eq!(parse_number("#x1.8", 10), parse_number("#e#x1.8", 10));
}

#[test]
fn not_numbers() {
    for s in [
        "+", "-", "...", "->x", "pi", "-pi", "i", "1+", "a+bi", "+.i", "1i", "i1", "1+ii", "1++i",
        "@1", "1@", "1@2@3", "1/2/3", "1.5/2", "+-i", "1+2", "1+2j", "#b1e1", "1/2e2", "#e", "#e#",
        "1/-2", "+/2",
    ] {
        none(s);
    }
    for s in ["1/0", "#i1/0", "1/0+i", "#e+nan.0", "#e1@1e999999"] {
        assert!(parse_number(s, 10).is_err(), "{s}");
    }
}

#[test]
fn format_every_kind() {
    let radixes = [2, 8, 10, 16];
    let p = |s: &str| num(s);
    let cases: Vec<(Num, [&str; 4])> = vec![
        (Num::Fix(0), ["0", "0", "0", "0"]),
        (Num::Fix(-1), ["-1", "-1", "-1", "-1"]),
        (Num::Fix(255), ["11111111", "377", "255", "ff"]),
        (Num::Fix(-255), ["-11111111", "-377", "-255", "-ff"]),
        (
            Num::Fix(FIXNUM_MAX),
            [
                "111111111111111111111111111111111111111111111111111111111111",
                "77777777777777777777",
                "1152921504606846975",
                "fffffffffffffff",
            ],
        ),
        (
            Num::Fix(FIXNUM_MIN),
            [
                "-1000000000000000000000000000000000000000000000000000000000000",
                "-100000000000000000000",
                "-1152921504606846976",
                "-1000000000000000",
            ],
        ),
        (
            p("1152921504606846976"),
            [
                "1000000000000000000000000000000000000000000000000000000000000",
                "100000000000000000000",
                "1152921504606846976",
                "1000000000000000",
            ],
        ),
        (
            Num::Big(-(BigInt::from(1) << 100usize)),
            [
                "-10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
                "-2000000000000000000000000000000000",
                "-1267650600228229401496703205376",
                "-10000000000000000000000000",
            ],
        ),
        (
            Num::Big(num_traits::pow(BigInt::from(3), 50)),
            [
                "10011000000001010101001111110000110110110010111111010000100111011110001111001001",
                "230012517606662772047361711",
                "717897987691852588770249",
                "980553f0db2fd09de3c9",
            ],
        ),
        (rat(1, 2), ["1/10", "1/2", "1/2", "1/2"]),
        (rat(-255, 16), ["-11111111/10000", "-377/20", "-255/16", "-ff/10"]),
        (
            Num::Rat(BigRational::new(BigInt::from(1) << 70usize, 3.into())),
            [
                "10000000000000000000000000000000000000000000000000000000000000000000000/11",
                "200000000000000000000000/3",
                "1180591620717411303424/3",
                "400000000000000000/3",
            ],
        ),
        (
            cpx(Num::Fix(1), Num::Fix(2)),
            ["1+10i", "1+2i", "1+2i", "1+2i"],
        ),
        (
            cpx(rat(-1, 2), rat(-3, 4)),
            ["-1/10-11/100i", "-1/2-3/4i", "-1/2-3/4i", "-1/2-3/4i"],
        ),
        (cpx(Num::Fix(0), Num::Fix(1)), ["0+1i", "0+1i", "0+1i", "0+1i"]),
        (
            cpx(Num::Big(BigInt::from(1) << 64usize), rat(-1, 3)),
            [
                "10000000000000000000000000000000000000000000000000000000000000000-1/11i",
                "2000000000000000000000-1/3i",
                "18446744073709551616-1/3i",
                "10000000000000000-1/3i",
            ],
        ),
    ];
    for (n, want) in &cases {
        for (r, w) in radixes.iter().zip(want) {
            assert_eq!(format_number(n, *r), *w, "{n:?} in radix {r}");
            assert!(printable_in(n, *r));
            assert_eq!(parse_number(w, *r), Ok(Some(n.clone())), "{w} in radix {r}");
        }
    }
    // Inexact numbers: radix 10 only.
    let inexact = [
        (Num::Flo(1.5), "1.5"),
        (Num::Flo(-0.0), "-0.0"),
        (Num::Flo(f64::INFINITY), "+inf.0"),
        (Num::Flo(f64::NEG_INFINITY), "-inf.0"),
        (Num::Flo(f64::NAN), "+nan.0"),
        (Num::Flo(1e21), "1e21"),
        (Num::Flo(1e-7), "1e-7"),
        (Num::Flo(123.456), "123.456"),
        (Num::Flo(5e-324), "5e-324"),
        (cpx(Num::Flo(1.5), Num::Flo(2.5)), "1.5+2.5i"),
        (cpx(Num::Flo(-0.0), Num::Flo(-0.0)), "-0.0-0.0i"),
        (
            cpx(Num::Flo(f64::INFINITY), Num::Flo(f64::NEG_INFINITY)),
            "+inf.0-inf.0i",
        ),
        (cpx(Num::Flo(f64::NAN), Num::Flo(1e300)), "+nan.0+1e300i"),
    ];
    for (n, want) in &inexact {
        assert_eq!(format_number(n, 10), *want);
        assert!(printable_in(n, 10));
        for r in [2, 8, 16] {
            assert!(!printable_in(n, r));
        }
    }
    assert_eq!(format_fixnum(i64::MIN, 16), "-8000000000000000");
    assert_eq!(format_fixnum(-7, 2), "-111");
}

#[test]
fn read_canonical_constants() {
    for s in [
        "1/3",
        "-12345678901234567890123",
        "1.5",
        "-1/2+3i",
        "1.0-2.5i",
    ] {
        assert_eq!(Num::read_canonical(s), num(s));
    }
    assert_eq!(Num::read_canonical("junk"), Num::Fix(0));
}

// ---- round trips ----

/// A random exact integer: fixnums often, bignums up to ~300 digits.
fn any_int() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<i64>().prop_map(BigInt::from),
        (FIXNUM_MIN - 3..FIXNUM_MIN + 3).prop_map(BigInt::from),
        (FIXNUM_MAX - 3..FIXNUM_MAX + 3).prop_map(BigInt::from),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 1..32)).prop_map(|(neg, d)| {
            BigInt::from_slice(if neg { Sign::Minus } else { Sign::Plus }, &d)
        }),
    ]
}

fn nonzero_int() -> impl Strategy<Value = BigInt> {
    any_int().prop_filter("non-zero", |n| n.sign() != Sign::NoSign)
}

fn any_exact_real() -> impl Strategy<Value = Num> {
    prop_oneof![
        any_int().prop_map(Num::int),
        (any_int(), nonzero_int()).prop_map(|(n, d)| Num::fraction(n, d)),
    ]
}

fn any_exact() -> impl Strategy<Value = Num> {
    prop_oneof![
        any_exact_real(),
        (any_exact_real(), any_exact_real()).prop_map(|(a, b)| Num::rect(a, b)),
    ]
}

/// Any flonum: random bits (all exponents, subnormals, NaNs) and the
/// special values.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        prop::sample::select(vec![
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            1.0,
            -1.0,
        ]),
        -1e6f64..1e6,
    ]
}

/// Flonums equal bit for bit, any NaN equal to any other.
fn same_f64(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn same_inexact(a: &Num, b: &Num) -> bool {
    match (a, b) {
        (Num::Flo(x), Num::Flo(y)) => same_f64(*x, *y),
        (Num::Cpx(x), Num::Cpx(y)) => same_inexact(&x.re, &y.re) && same_inexact(&x.im, &y.im),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn exact_round_trip(n in any_exact(), r in prop::sample::select(vec![2u32, 8, 10, 16])) {
        let text = format_number(&n, r);
        prop_assert_eq!(parse_number(&text, r), Ok(Some(n.clone())), "{}", text);
        // The radix prefix says the same as the default radix.
        let prefix = match r { 2 => "#b", 8 => "#o", 10 => "#d", _ => "#x" };
        prop_assert_eq!(parse_number(&format!("{prefix}{text}"), 10), Ok(Some(n.clone())));
        prop_assert_eq!(parse_number(&format!("#e{prefix}{text}"), 10), Ok(Some(n)));
    }

    #[test]
    fn flonum_round_trip(x in any_f64()) {
        let n = Num::Flo(x);
        let text = format_number(&n, 10);
        match parse_number(&text, 10) {
            Ok(Some(back)) => prop_assert!(same_inexact(&n, &back), "{} read as {:?}", text, back),
            other => prop_assert!(false, "{} read as {:?}", text, other),
        }
    }

    #[test]
    fn inexact_complex_round_trip(re in any_f64(), im in any_f64()) {
        let n = Num::rect(Num::Flo(re), Num::Flo(im));
        let text = format_number(&n, 10);
        match parse_number(&text, 10) {
            Ok(Some(back)) => prop_assert!(same_inexact(&n, &back), "{} read as {:?}", text, back),
            other => prop_assert!(false, "{} read as {:?}", text, other),
        }
    }
}
