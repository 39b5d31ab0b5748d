//! The numeric builtins of `(scheme base)`, `(scheme inexact)` and
//! `(scheme complex)` over the whole tower (docs/numbers.md).
//!
//! Each builtin tests for fixnums (and, where it pays, flonums) on the
//! tagged values first; only other numbers are decoded into a [`Num`] and
//! computed on by `num::arith`. The compiled code's inline fixnum paths
//! call the same builtins on overflow or other operand types
//! (`rt::valk_rt_arith`).

use super::{fixed, opt, other_error, var, Builtin};
use crate::error::{self, VResult};
use crate::gc::Scope;
use crate::num::arith::{self, DivKind, ExptError, Func, Round};
use crate::num::text::{format_number, parse_number, printable_in};
use crate::num::{self, Num};
use crate::object;
use crate::value::Value;
use std::cmp::Ordering;

// ---- argument decoding ----

fn num(who: &str, v: Value) -> VResult<Num> {
    Num::of(v).ok_or_else(|| error::wrong_type(who, "a number", v))
}

fn real(who: &str, v: Value) -> VResult<Num> {
    match Num::of(v) {
        Some(n) if n.is_real() => Ok(n),
        _ => Err(error::wrong_type(who, "a real number", v)),
    }
}

/// An integer: exact, or an integral flonum.
fn integer(who: &str, v: Value) -> VResult<Num> {
    match Num::of(v) {
        Some(n) if n.is_integer() => Ok(n),
        _ => Err(error::wrong_type(who, "an integer", v)),
    }
}

fn rational(who: &str, v: Value) -> VResult<Num> {
    match Num::of(v) {
        Some(n) if n.is_rational() => Ok(n),
        _ => Err(error::wrong_type(who, "a rational number", v)),
    }
}

fn flo(x: f64) -> VResult {
    Ok(object::make_flonum(x))
}

fn done(n: Num) -> VResult {
    Ok(n.into_value())
}

// ---- arithmetic ----

/// An exact integer result computed in `i128`: a fixnum when it fits (the
/// common case), a one- or two-limb bignum otherwise.
#[inline(always)]
fn exact_result(n: i128) -> VResult {
    Ok(num::int_value(n))
}

/// Folds `op` over the arguments, with the two-fixnum and two-flonum cases
/// decided on the tagged values first, and two integers of at most 64
/// bits (fixnums, one-limb bignums) computed in `i128`.
#[inline(always)]
fn fold(
    who: &str,
    args: &[Value],
    fix: fn(i128, i128) -> Option<i128>,
    flonum: fn(f64, f64) -> f64,
    generic: fn(&Num, &Num) -> Num,
) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            // Two fixnums never overflow `i128`.
            if let Some(r) = fix(a.as_fixnum() as i128, b.as_fixnum() as i128) {
                return exact_result(r);
            }
        }
        if a.is_flonum() && b.is_flonum() {
            return flo(flonum(a.as_flonum(), b.as_flonum()));
        }
        if let (Some(x), Some(y)) = (num::small_int(*a), num::small_int(*b)) {
            if let Some(r) = fix(x, y) {
                return exact_result(r);
            }
        }
    }
    fold_generic(who, args, fix, generic)
}

/// The general case of [`fold`]: every argument decoded. A run of
/// fixnums at the start (`(+ 1 (f l) (f r))`) is summed in `i128` first.
fn fold_generic(
    who: &str,
    args: &[Value],
    fix: fn(i128, i128) -> Option<i128>,
    generic: fn(&Num, &Num) -> Num,
) -> VResult {
    if args[0].is_fixnum() {
        let mut acc = args[0].as_fixnum() as i128;
        let mut i = 1;
        while i < args.len() && args[i].is_fixnum() {
            // Fixnums are below 2^61: an i128 overflows only after 2^66 of
            // them; a product may, and then takes the general path.
            match fix(acc, args[i].as_fixnum() as i128) {
                Some(r) if r.unsigned_abs() < 1 << 100 => acc = r,
                _ => break,
            }
            i += 1;
        }
        if i == args.len() {
            return exact_result(acc);
        }
    }
    let mut acc = num(who, args[0])?;
    for &v in &args[1..] {
        acc = generic(&acc, &num(who, v)?);
    }
    done(acc)
}

fn plus(args: &[Value]) -> VResult {
    if args.is_empty() {
        return Ok(Value::fixnum(0));
    }
    fold("+", args, i128::checked_add, |a, b| a + b, arith::add)
}

fn minus(args: &[Value]) -> VResult {
    if let [a] = args {
        return done(arith::neg(&num("-", *a)?));
    }
    fold("-", args, i128::checked_sub, |a, b| a - b, arith::sub)
}

fn times(args: &[Value]) -> VResult {
    if args.is_empty() {
        return Ok(Value::fixnum(1));
    }
    fold("*", args, i128::checked_mul, |a, b| a * b, arith::mul)
}

fn divide(args: &[Value]) -> VResult {
    if let [a, b] = args {
        if a.is_flonum() && b.is_flonum() {
            return flo(a.as_flonum() / b.as_flonum());
        }
        if a.is_fixnum() && b.is_fixnum() {
            let (x, y) = (a.as_fixnum(), b.as_fixnum());
            if y != 0 && x % y == 0 {
                return exact_result(x as i128 / y as i128);
            }
        }
    }
    let (mut acc, rest) = match args {
        [a] => (Num::Fix(1), std::slice::from_ref(a)),
        _ => (num("/", args[0])?, &args[1..]),
    };
    for &v in rest {
        let d = num("/", v)?;
        acc = arith::div(&acc, &d).ok_or_else(|| error::division_by_zero("/"))?;
    }
    done(acc)
}

// ---- comparison ----

fn compare_chain(who: &str, args: &[Value], ok: fn(Ordering) -> bool) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            return Ok(Value::bool(ok(a.as_fixnum().cmp(&b.as_fixnum()))));
        }
        if a.is_flonum() && b.is_flonum() {
            let o = a.as_flonum().partial_cmp(&b.as_flonum());
            return Ok(Value::bool(o.is_some_and(ok)));
        }
        if let (Some(x), Some(y)) = (num::small_int(*a), num::small_int(*b)) {
            return Ok(Value::bool(ok(x.cmp(&y))));
        }
    }
    // Every argument is checked, even after a pair that fails.
    let mut prev = real(who, args[0])?;
    let mut all = true;
    for &v in &args[1..] {
        let n = real(who, v)?;
        all = all && arith::compare(&prev, &n).is_some_and(ok);
        prev = n;
    }
    Ok(Value::bool(all))
}

fn num_eq(args: &[Value]) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            return Ok(Value::bool(a == b));
        }
        if let (Some(x), Some(y)) = (num::small_int(*a), num::small_int(*b)) {
            return Ok(Value::bool(x == y));
        }
    }
    let mut prev = num("=", args[0])?;
    let mut all = true;
    for &v in &args[1..] {
        let n = num("=", v)?;
        all = all && arith::num_eq(&prev, &n);
        prev = n;
    }
    Ok(Value::bool(all))
}
fn num_lt(args: &[Value]) -> VResult {
    compare_chain("<", args, |o| o == Ordering::Less)
}
fn num_gt(args: &[Value]) -> VResult {
    compare_chain(">", args, |o| o == Ordering::Greater)
}
fn num_le(args: &[Value]) -> VResult {
    compare_chain("<=", args, |o| o != Ordering::Greater)
}
fn num_ge(args: &[Value]) -> VResult {
    compare_chain(">=", args, |o| o != Ordering::Less)
}

// ---- integer division ----

/// Quotient and remainder of integer division.
fn int_div(who: &str, a: Value, b: Value, kind: DivKind) -> VResult<(Num, Num)> {
    let (x, y) = (integer(who, a)?, integer(who, b)?);
    arith::int_div(&x, &y, kind).ok_or_else(|| error::division_by_zero(who))
}

/// One of the two results of an integer division, with the two-fixnum
/// case in line (`MIN / -1` and zero divisors take the general path).
fn int_div_one(who: &str, args: &[Value], kind: DivKind, want_quotient: bool) -> VResult {
    let (a, b) = (args[0], args[1]);
    if a.is_fixnum() && b.is_fixnum() {
        let (p, q) = (a.as_fixnum(), b.as_fixnum());
        if q != 0 && q != -1 {
            let (mut quo, mut rem) = (p / q, p % q);
            if kind == DivKind::Floor && rem != 0 && ((rem < 0) != (q < 0)) {
                quo -= 1;
                rem += q;
            }
            return Ok(Value::fixnum(if want_quotient { quo } else { rem }));
        }
    }
    let (q, r) = int_div(who, a, b, kind)?;
    done(if want_quotient { q } else { r })
}

fn quotient(args: &[Value]) -> VResult {
    int_div_one("quotient", args, DivKind::Truncate, true)
}
fn remainder(args: &[Value]) -> VResult {
    int_div_one("remainder", args, DivKind::Truncate, false)
}
fn modulo(args: &[Value]) -> VResult {
    int_div_one("modulo", args, DivKind::Floor, false)
}
fn truncate_quotient(args: &[Value]) -> VResult {
    int_div_one("truncate-quotient", args, DivKind::Truncate, true)
}
fn truncate_remainder(args: &[Value]) -> VResult {
    int_div_one("truncate-remainder", args, DivKind::Truncate, false)
}
fn floor_quotient(args: &[Value]) -> VResult {
    int_div_one("floor-quotient", args, DivKind::Floor, true)
}
fn floor_remainder(args: &[Value]) -> VResult {
    int_div_one("floor-remainder", args, DivKind::Floor, false)
}

/// Two numbers as multiple values.
fn two_values(a: Num, b: Num) -> VResult {
    let s = Scope::new();
    let x = s.root(a.into_value());
    let y = b.into_value();
    Ok(object::make_values(&[x.get(), y]))
}

fn floor_slash(args: &[Value]) -> VResult {
    let (q, r) = int_div("floor/", args[0], args[1], DivKind::Floor)?;
    two_values(q, r)
}
fn truncate_slash(args: &[Value]) -> VResult {
    let (q, r) = int_div("truncate/", args[0], args[1], DivKind::Truncate)?;
    two_values(q, r)
}

fn exact_integer_sqrt(args: &[Value]) -> VResult {
    match Num::of(args[0]).and_then(|n| n.to_bigint()) {
        Some(n) if n.sign() != num_bigint::Sign::Minus => {
            let (s, r) = arith::exact_integer_sqrt(&n);
            two_values(s, r)
        }
        _ => Err(error::wrong_type(
            "exact-integer-sqrt",
            "a non-negative exact integer",
            args[0],
        )),
    }
}

// ---- other arithmetic ----

fn abs(args: &[Value]) -> VResult {
    done(arith::magnitude(&real("abs", args[0])?))
}

fn magnitude(args: &[Value]) -> VResult {
    done(arith::magnitude(&num("magnitude", args[0])?))
}

fn min_max(who: &str, args: &[Value], want: Ordering) -> VResult {
    let mut best = real(who, args[0])?;
    let mut inexact = !best.is_exact();
    let mut nan = matches!(best, Num::Flo(x) if x.is_nan());
    for &v in &args[1..] {
        let n = real(who, v)?;
        inexact |= !n.is_exact();
        match n {
            Num::Flo(x) if x.is_nan() => nan = true,
            _ => {
                if arith::compare(&n, &best) == Some(want) {
                    best = n;
                }
            }
        }
    }
    if nan {
        return flo(f64::NAN);
    }
    if inexact {
        return flo(best.to_f64());
    }
    done(best)
}

fn min(args: &[Value]) -> VResult {
    min_max("min", args, Ordering::Less)
}
fn max(args: &[Value]) -> VResult {
    min_max("max", args, Ordering::Greater)
}

fn gcd_lcm(who: &str, args: &[Value], lcm: bool) -> VResult {
    let mut acc = Num::Fix(if lcm { 1 } else { 0 });
    for &v in args {
        let n = integer(who, v)?;
        acc = if lcm {
            arith::lcm(&acc, &n)
        } else {
            arith::gcd(&acc, &n)
        };
    }
    done(acc)
}

fn gcd(args: &[Value]) -> VResult {
    gcd_lcm("gcd", args, false)
}
fn lcm(args: &[Value]) -> VResult {
    gcd_lcm("lcm", args, true)
}

fn expt(args: &[Value]) -> VResult {
    let (b, e) = (num("expt", args[0])?, num("expt", args[1])?);
    match arith::expt(&b, &e) {
        Ok(n) => done(n),
        Err(ExptError::DivisionByZero) => Err(error::division_by_zero("expt")),
        Err(ExptError::TooLarge) => Err(other_error(
            "expt: the exact result is too large",
            &[args[0], args[1]],
        )),
    }
}

fn square(args: &[Value]) -> VResult {
    let n = num("square", args[0])?;
    done(arith::mul(&n, &n))
}

fn sqrt(args: &[Value]) -> VResult {
    done(arith::sqrt(&num("sqrt", args[0])?))
}

fn transcendental(who: &str, f: Func, v: Value) -> VResult {
    let n = num(who, v)?;
    match arith::apply(f, &n) {
        Some(r) => done(r),
        None => Err(other_error(&format!("{who}: undefined"), &[v])),
    }
}

fn exp(args: &[Value]) -> VResult {
    transcendental("exp", Func::Exp, args[0])
}
fn sin(args: &[Value]) -> VResult {
    transcendental("sin", Func::Sin, args[0])
}
fn cos(args: &[Value]) -> VResult {
    transcendental("cos", Func::Cos, args[0])
}
fn tan(args: &[Value]) -> VResult {
    transcendental("tan", Func::Tan, args[0])
}
fn asin(args: &[Value]) -> VResult {
    transcendental("asin", Func::Asin, args[0])
}
fn acos(args: &[Value]) -> VResult {
    transcendental("acos", Func::Acos, args[0])
}

fn atan(args: &[Value]) -> VResult {
    if args.len() == 1 {
        return transcendental("atan", Func::Atan, args[0]);
    }
    let (y, x) = (real("atan", args[0])?, real("atan", args[1])?);
    match arith::atan2(&y, &x) {
        Some(r) => done(r),
        None => Err(other_error("atan: undefined for 0 and 0", &[])),
    }
}

fn log(args: &[Value]) -> VResult {
    if args.len() == 1 {
        return transcendental("log", Func::Log, args[0]);
    }
    let (z, b) = (num("log", args[0])?, num("log", args[1])?);
    match arith::log_base(&z, &b) {
        Some(r) => done(r),
        None => Err(other_error("log: undefined", &[args[0], args[1]])),
    }
}

fn rounding(who: &str, v: Value, mode: Round) -> VResult {
    if v.is_fixnum() {
        return Ok(v);
    }
    done(arith::round(&real(who, v)?, mode))
}

fn floor(args: &[Value]) -> VResult {
    rounding("floor", args[0], Round::Floor)
}
fn ceiling(args: &[Value]) -> VResult {
    rounding("ceiling", args[0], Round::Ceiling)
}
fn round(args: &[Value]) -> VResult {
    rounding("round", args[0], Round::Nearest)
}
fn truncate(args: &[Value]) -> VResult {
    rounding("truncate", args[0], Round::Truncate)
}

fn rationalize(args: &[Value]) -> VResult {
    let x = real("rationalize", args[0])?;
    let y = real("rationalize", args[1])?;
    done(arith::rationalize(&x, &y))
}

// ---- exactness ----

fn exact_named(who: &str, args: &[Value]) -> VResult {
    let v = args[0];
    if v.is_fixnum() {
        return Ok(v);
    }
    let n = num(who, v)?;
    if n.is_exact() {
        return Ok(v);
    }
    match n.to_exact() {
        Some(e) => done(e),
        None => Err(other_error(
            &format!("{who}: no exact representation"),
            &[v],
        )),
    }
}
fn exact(args: &[Value]) -> VResult {
    exact_named("exact", args)
}
fn inexact_to_exact(args: &[Value]) -> VResult {
    exact_named("inexact->exact", args)
}

fn inexact_named(who: &str, args: &[Value]) -> VResult {
    let v = args[0];
    if v.is_fixnum() {
        return flo(v.as_fixnum() as f64);
    }
    let n = num(who, v)?;
    if n.is_exact() {
        done(n.to_inexact())
    } else {
        Ok(v)
    }
}
fn inexact(args: &[Value]) -> VResult {
    inexact_named("inexact", args)
}
fn exact_to_inexact(args: &[Value]) -> VResult {
    inexact_named("exact->inexact", args)
}

/// The numerator or denominator of a rational number: of its exact value
/// for a flonum, made inexact again (`(denominator 0.5)` is `2.0`).
fn ratio_part(who: &str, v: Value, denominator: bool) -> VResult {
    let n = rational(who, v)?;
    let e = n.to_exact().unwrap_or(Num::Fix(0));
    let part = match (&e, denominator) {
        (Num::Rat(r), false) => Num::int(r.numer().clone()),
        (Num::Rat(r), true) => Num::int(r.denom().clone()),
        (_, false) => e.clone(),
        (_, true) => Num::Fix(1),
    };
    done(if n.is_exact() {
        part
    } else {
        part.to_inexact()
    })
}

fn numerator(args: &[Value]) -> VResult {
    ratio_part("numerator", args[0], false)
}
fn denominator(args: &[Value]) -> VResult {
    ratio_part("denominator", args[0], true)
}

// ---- complex numbers ----

fn make_rectangular(args: &[Value]) -> VResult {
    let re = real("make-rectangular", args[0])?;
    let im = real("make-rectangular", args[1])?;
    done(Num::rect(re, im))
}

fn make_polar(args: &[Value]) -> VResult {
    let m = real("make-polar", args[0])?;
    let a = real("make-polar", args[1])?;
    done(arith::make_polar(&m, &a))
}

fn real_part(args: &[Value]) -> VResult {
    done(arith::parts(&num("real-part", args[0])?).re)
}

fn imag_part(args: &[Value]) -> VResult {
    done(arith::parts(&num("imag-part", args[0])?).im)
}

fn angle(args: &[Value]) -> VResult {
    done(arith::angle(&num("angle", args[0])?))
}

// ---- predicates ----

fn test(v: Value, f: fn(&Num) -> bool) -> VResult {
    Ok(Value::bool(Num::of(v).is_some_and(|n| f(&n))))
}

fn is_number(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_number()))
}
fn is_real(args: &[Value]) -> VResult {
    test(args[0], Num::is_real)
}
fn is_rational(args: &[Value]) -> VResult {
    test(args[0], Num::is_rational)
}
fn is_integer(args: &[Value]) -> VResult {
    if args[0].is_fixnum() {
        return Ok(Value::TRUE);
    }
    test(args[0], Num::is_integer)
}
fn is_exact(args: &[Value]) -> VResult {
    Ok(Value::bool(num("exact?", args[0])?.is_exact()))
}
fn is_inexact(args: &[Value]) -> VResult {
    Ok(Value::bool(!num("inexact?", args[0])?.is_exact()))
}
fn is_exact_integer(args: &[Value]) -> VResult {
    Ok(Value::bool(
        args[0].is_fixnum() || args[0].has_type(crate::value::ObjType::Bignum),
    ))
}
fn is_exact_rational(args: &[Value]) -> VResult {
    test(args[0], |n| n.is_exact() && n.is_real())
}

/// A flonum test on each part of a number; exact parts are `exact_answer`.
fn float_test(who: &str, v: Value, f: fn(f64) -> bool, any_part: bool) -> VResult {
    let n = num(who, v)?;
    let parts = arith::parts(&n);
    let t = |p: &Num| match p {
        Num::Flo(x) => f(*x),
        _ => f(0.0),
    };
    Ok(Value::bool(if any_part {
        t(&parts.re) || t(&parts.im)
    } else {
        t(&parts.re) && t(&parts.im)
    }))
}
fn is_nan(args: &[Value]) -> VResult {
    float_test("nan?", args[0], f64::is_nan, true)
}
fn is_infinite(args: &[Value]) -> VResult {
    float_test("infinite?", args[0], f64::is_infinite, true)
}
fn is_finite(args: &[Value]) -> VResult {
    float_test("finite?", args[0], f64::is_finite, false)
}

fn sign_test(who: &str, v: Value, want: i32) -> VResult {
    if v.is_fixnum() {
        return Ok(Value::bool(v.as_fixnum().signum() as i32 == want));
    }
    let n = real(who, v)?;
    if matches!(n, Num::Flo(x) if x.is_nan()) {
        return Ok(Value::FALSE);
    }
    Ok(Value::bool(n.signum() == want))
}
fn is_zero(args: &[Value]) -> VResult {
    if !args[0].is_fixnum() {
        // Any number, complex too: a non-number is not "a real number".
        if let n @ Num::Cpx(_) = num("zero?", args[0])? {
            return Ok(Value::bool(n.is_zero()));
        }
    }
    sign_test("zero?", args[0], 0)
}
fn is_positive(args: &[Value]) -> VResult {
    sign_test("positive?", args[0], 1)
}
fn is_negative(args: &[Value]) -> VResult {
    sign_test("negative?", args[0], -1)
}

fn parity(who: &str, v: Value) -> VResult<bool> {
    if v.is_fixnum() {
        return Ok(v.as_fixnum() % 2 != 0);
    }
    let n = integer(who, v)?;
    Ok(match n {
        Num::Flo(x) => x % 2.0 != 0.0,
        n => n.to_bigint().is_some_and(|b| b.bit(0)),
    })
}
fn is_odd(args: &[Value]) -> VResult {
    Ok(Value::bool(parity("odd?", args[0])?))
}
fn is_even(args: &[Value]) -> VResult {
    Ok(Value::bool(!parity("even?", args[0])?))
}

// ---- conversion to and from text ----

fn radix_arg(who: &str, args: &[Value], i: usize) -> VResult<u32> {
    match super::opt_arg(args, i) {
        None => Ok(10),
        Some(v) => match v.fixnum_value() {
            Some(r @ (2 | 8 | 10 | 16)) => Ok(r as u32),
            _ => Err(error::wrong_type(who, "a radix (2, 8, 10 or 16)", v)),
        },
    }
}

fn number_to_string(args: &[Value]) -> VResult {
    let radix = radix_arg("number->string", args, 1)?;
    let n = num("number->string", args[0])?;
    if !printable_in(&n, radix) {
        return Err(other_error(
            "number->string: inexact numbers can only be printed in radix 10",
            &[args[0]],
        ));
    }
    Ok(object::string_from(&format_number(&n, radix)))
}

fn string_to_number(args: &[Value]) -> VResult {
    let s = super::string_arg("string->number", args[0])?;
    let radix = radix_arg("string->number", args, 1)?;
    let text = object::string_to_rust(s);
    match parse_number(&text, radix) {
        Ok(Some(n)) => done(n),
        // Text shaped like a number that denotes none (`1/0`) is not a
        // number either.
        Ok(None) | Err(_) => Ok(Value::FALSE),
    }
}

/// `(op a b)` for the compiled code's slow path (`FxOp::ALL` order: `+`,
/// `-`, `*`, `quotient`, `remainder`, `modulo`), without a name lookup. The numeric
/// builtins decode their arguments before they allocate, so `a` and `b`
/// need not be rooted.
pub fn generic_arith(op: u64, a: Value, b: Value) -> VResult {
    // Flonum `+ - *` first, as compiled code's in-line path computes them
    // (docs/numbers.md): functions without flonum code call here for them.
    if op <= 2 {
        if let Some((x, y)) = flonum_pair(a, b, false) {
            return Ok(object::make_flonum(flonum_op(op, x, y)));
        }
    }
    let args = [a, b];
    match op {
        0 => plus(&args),
        1 => minus(&args),
        2 => times(&args),
        3 => quotient(&args),
        4 => remainder(&args),
        _ => modulo(&args),
    }
}

/// `x op y` for `op` in `FlOp::ALL` order (`+`, `-`, `*`, `/`), the order
/// compiled code's flonum paths and the runtime's generic ones share.
#[inline]
pub fn flonum_op(op: u64, x: f64, y: f64) -> f64 {
    match op {
        0 => x + y,
        1 => x - y,
        2 => x * y,
        _ => x / y,
    }
}

/// `x cc y` for `cc` in `Cond::ALL` order (`=`, not `=`, `<`, `<=`, `>`,
/// `>=`), as IEEE doubles compare.
#[inline]
pub fn flonum_cond(cc: u64, x: f64, y: f64) -> bool {
    match cc {
        0 => x == y,
        1 => x != y,
        2 => x < y,
        3 => x <= y,
        4 => x > y,
        _ => x >= y,
    }
}

/// The doubles of two operands of which one is a flonum and the other a
/// flonum or a fixnum (with `exact`, one of at most 2^53 in magnitude,
/// whose double is exact, as comparisons need).
fn flonum_pair(a: Value, b: Value, exact: bool) -> Option<(f64, f64)> {
    let convert = |v: Value| {
        let n = v.as_fixnum();
        (!exact || n.unsigned_abs() <= 1 << 53).then_some(n as f64)
    };
    match (a.is_flonum(), b.is_flonum()) {
        (true, true) => Some((a.as_flonum(), b.as_flonum())),
        (true, false) if b.is_fixnum() => Some((a.as_flonum(), convert(b)?)),
        (false, true) if a.is_fixnum() => Some((convert(a)?, b.as_flonum())),
        _ => None,
    }
}

/// `(cc a b)` for the compiled code's slow path (`Cond::ALL` order: `=`,
/// not `=`, `<`, `<=`, `>`, `>=`).
pub fn generic_compare(cc: u64, a: Value, b: Value) -> VResult {
    // Flonums (and fixnums that convert exactly) compare as IEEE doubles,
    // as compiled code's in-line path does; the rest exactly, below.
    if let Some((x, y)) = flonum_pair(a, b, true) {
        return Ok(Value::bool(flonum_cond(cc, x, y)));
    }
    let args = [a, b];
    match cc {
        0 => num_eq(&args),
        1 => num_eq(&args).map(|v| Value::bool(!v.is_true())),
        2 => num_lt(&args),
        3 => num_le(&args),
        4 => num_gt(&args),
        _ => num_ge(&args),
    }
}

pub(super) const BUILTINS: &[Builtin] = &[
    var("+", 0, plus),
    var("-", 1, minus),
    var("*", 0, times),
    var("/", 1, divide),
    var("=", 1, num_eq),
    var("<", 1, num_lt),
    var(">", 1, num_gt),
    var("<=", 1, num_le),
    var(">=", 1, num_ge),
    fixed("quotient", 2, quotient),
    fixed("remainder", 2, remainder),
    fixed("modulo", 2, modulo),
    fixed("floor/", 2, floor_slash),
    fixed("truncate/", 2, truncate_slash),
    fixed("floor-quotient", 2, floor_quotient),
    fixed("floor-remainder", 2, floor_remainder),
    fixed("truncate-quotient", 2, truncate_quotient),
    fixed("truncate-remainder", 2, truncate_remainder),
    fixed("exact-integer-sqrt", 1, exact_integer_sqrt),
    fixed("abs", 1, abs),
    fixed("magnitude", 1, magnitude),
    var("min", 1, min),
    var("max", 1, max),
    var("gcd", 0, gcd),
    var("lcm", 0, lcm),
    fixed("expt", 2, expt),
    fixed("square", 1, square),
    fixed("sqrt", 1, sqrt),
    fixed("exp", 1, exp),
    opt("log", 1, 1, log),
    fixed("sin", 1, sin),
    fixed("cos", 1, cos),
    fixed("tan", 1, tan),
    fixed("asin", 1, asin),
    fixed("acos", 1, acos),
    opt("atan", 1, 1, atan),
    fixed("floor", 1, floor),
    fixed("ceiling", 1, ceiling),
    fixed("round", 1, round),
    fixed("truncate", 1, truncate),
    fixed("rationalize", 2, rationalize),
    fixed("exact", 1, exact),
    fixed("inexact", 1, inexact),
    fixed("exact->inexact", 1, exact_to_inexact),
    fixed("inexact->exact", 1, inexact_to_exact),
    fixed("numerator", 1, numerator),
    fixed("denominator", 1, denominator),
    fixed("make-rectangular", 2, make_rectangular),
    fixed("make-polar", 2, make_polar),
    fixed("real-part", 1, real_part),
    fixed("imag-part", 1, imag_part),
    fixed("angle", 1, angle),
    fixed("number?", 1, is_number),
    fixed("complex?", 1, is_number),
    fixed("real?", 1, is_real),
    fixed("rational?", 1, is_rational),
    fixed("integer?", 1, is_integer),
    fixed("exact?", 1, is_exact),
    fixed("inexact?", 1, is_inexact),
    fixed("exact-integer?", 1, is_exact_integer),
    fixed("exact-rational?", 1, is_exact_rational),
    fixed("nan?", 1, is_nan),
    fixed("infinite?", 1, is_infinite),
    fixed("finite?", 1, is_finite),
    fixed("zero?", 1, is_zero),
    fixed("positive?", 1, is_positive),
    fixed("negative?", 1, is_negative),
    fixed("odd?", 1, is_odd),
    fixed("even?", 1, is_even),
    opt("number->string", 1, 1, number_to_string),
    opt("string->number", 1, 1, string_to_number),
];

#[cfg(test)]
mod tests;
