//! Numbers: fixnums and flonums (bignums and exact rationals come later).
//!
//! Exact results that do not fit a fixnum raise a clean "integer overflow"
//! error. `/` of exact integers that do not divide evenly gives a flonum
//! until rationals exist.

use super::{fixed, opt, other_error, var, Builtin};
use crate::error::{self, Raised, VResult};
use crate::gc::Scope;
use crate::numparse::{self, Number};
use crate::object;
use crate::printer;
use crate::value::{Value, FIXNUM_MAX, FIXNUM_MIN};
use std::cmp::Ordering;

/// A decoded number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Fix(i64),
    Flo(f64),
}

impl Num {
    pub fn from_value(v: Value) -> Option<Num> {
        if v.is_fixnum() {
            Some(Num::Fix(v.as_fixnum()))
        } else if v.is_flonum() {
            Some(Num::Flo(v.as_flonum()))
        } else {
            None
        }
    }

    pub fn to_f64(self) -> f64 {
        match self {
            Num::Fix(n) => n as f64,
            Num::Flo(x) => x,
        }
    }

    fn is_exact(self) -> bool {
        matches!(self, Num::Fix(_))
    }

    /// The value (allocates for flonums).
    pub fn to_value(self) -> Value {
        match self {
            Num::Fix(n) => Value::fixnum(n),
            Num::Flo(x) => object::make_flonum(x),
        }
    }
}

fn num(who: &str, v: Value) -> VResult<Num> {
    Num::from_value(v).ok_or_else(|| error::wrong_type(who, "a number", v))
}

/// An integer: a fixnum or an integral flonum.
fn int(who: &str, v: Value) -> VResult<Num> {
    match Num::from_value(v) {
        Some(Num::Fix(n)) => Ok(Num::Fix(n)),
        Some(Num::Flo(x)) if x.is_finite() && x.fract() == 0.0 => Ok(Num::Flo(x)),
        _ => Err(error::wrong_type(who, "an integer", v)),
    }
}

pub fn overflow(who: &str) -> Raised {
    other_error(
        &format!("{who}: integer overflow (bignums are not supported yet)"),
        &[],
    )
}

fn complex_unsupported(who: &str, v: Value) -> Raised {
    other_error(
        &format!("{who}: complex numbers are not supported yet"),
        &[v],
    )
}

/// An exact result, or the overflow error.
fn fix(who: &str, n: i128) -> VResult<Num> {
    if (FIXNUM_MIN as i128..=FIXNUM_MAX as i128).contains(&n) {
        Ok(Num::Fix(n as i64))
    } else {
        Err(overflow(who))
    }
}

fn flo(x: f64) -> VResult {
    Ok(object::make_flonum(x))
}

// ---- arithmetic ----

/// `start` plus `sign` times each of `args`.
fn add_sub(who: &str, start: Num, args: &[Value], sign: i128) -> VResult {
    // Exact sums accumulate in i128, so only the final result must fit.
    let mut exact: i128 = 0;
    let mut float: Option<f64> = None;
    let mut add = |n: Num, sign: i128| match (n, &mut float) {
        (Num::Fix(k), None) => exact += sign * k as i128,
        (Num::Fix(k), Some(f)) => *f += sign as f64 * k as f64,
        (Num::Flo(x), f) => {
            let base = f.unwrap_or(exact as f64);
            *f = Some(base + sign as f64 * x);
        }
    };
    add(start, 1);
    for &v in args {
        add(num(who, v)?, sign);
    }
    match float {
        Some(x) => flo(x),
        None => Ok(fix(who, exact)?.to_value()),
    }
}

fn plus(args: &[Value]) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            return Ok(fix("+", a.as_fixnum() as i128 + b.as_fixnum() as i128)?.to_value());
        }
    }
    add_sub("+", Num::Fix(0), args, 1)
}

fn minus(args: &[Value]) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            return Ok(fix("-", a.as_fixnum() as i128 - b.as_fixnum() as i128)?.to_value());
        }
    }
    let first = num("-", args[0])?;
    if args.len() == 1 {
        return match first {
            Num::Fix(n) => Ok(fix("-", -(n as i128))?.to_value()),
            Num::Flo(x) => flo(-x),
        };
    }
    add_sub("-", first, &args[1..], -1)
}

fn times(args: &[Value]) -> VResult {
    let mut exact: i128 = 1;
    let mut float: Option<f64> = None;
    for &v in args {
        match (num("*", v)?, &mut float) {
            (Num::Fix(k), None) => {
                exact = exact
                    .checked_mul(k as i128)
                    .filter(|p| p.unsigned_abs() <= 1u128 << 100)
                    .ok_or_else(|| overflow("*"))?;
            }
            (Num::Fix(k), Some(f)) => *f *= k as f64,
            (Num::Flo(x), f) => *f = Some(f.unwrap_or(exact as f64) * x),
        }
    }
    match float {
        Some(x) => flo(x),
        None => Ok(fix("*", exact)?.to_value()),
    }
}

/// `a / b` for two numbers.
fn div2(a: Num, b: Num) -> VResult<Num> {
    match (a, b) {
        (Num::Fix(_), Num::Fix(0)) => Err(error::division_by_zero("/")),
        (Num::Fix(x), Num::Fix(y)) => {
            if x % y == 0 {
                fix("/", x as i128 / y as i128)
            } else {
                Ok(Num::Flo(x as f64 / y as f64))
            }
        }
        _ => Ok(Num::Flo(a.to_f64() / b.to_f64())),
    }
}

fn divide(args: &[Value]) -> VResult {
    let first = num("/", args[0])?;
    if args.len() == 1 {
        return Ok(div2(Num::Fix(1), first)?.to_value());
    }
    let mut acc = first;
    for &v in &args[1..] {
        acc = div2(acc, num("/", v)?)?;
    }
    Ok(acc.to_value())
}

// ---- comparison ----

/// Exact comparison of a fixnum and a flonum (`None` for NaN).
fn cmp_fix_flo(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO63 {
        return Some(Ordering::Less);
    }
    if f < -TWO63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    Some(match i.cmp(&(t as i64)) {
        Ordering::Equal if f > t => Ordering::Less,
        Ordering::Equal if f < t => Ordering::Greater,
        o => o,
    })
}

pub fn compare(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => Some(x.cmp(&y)),
        (Num::Flo(x), Num::Flo(y)) => x.partial_cmp(&y),
        (Num::Fix(x), Num::Flo(y)) => cmp_fix_flo(x, y),
        (Num::Flo(x), Num::Fix(y)) => cmp_fix_flo(y, x).map(Ordering::reverse),
    }
}

fn compare_chain(who: &str, args: &[Value], ok: fn(Ordering) -> bool) -> VResult {
    if let [a, b] = args {
        if a.is_fixnum() && b.is_fixnum() {
            return Ok(Value::bool(ok(a.as_fixnum().cmp(&b.as_fixnum()))));
        }
    }
    let nums = args
        .iter()
        .map(|&v| num(who, v))
        .collect::<VResult<Vec<Num>>>()?;
    let all = nums.windows(2).all(|w| compare(w[0], w[1]).is_some_and(ok));
    Ok(Value::bool(all))
}

fn num_eq(args: &[Value]) -> VResult {
    compare_chain("=", args, |o| o == Ordering::Equal)
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

#[derive(Clone, Copy)]
enum DivKind {
    Truncate,
    Floor,
}

/// Quotient and remainder of integer division.
fn int_div(who: &str, a: Value, b: Value, kind: DivKind) -> VResult<(Num, Num)> {
    let (x, y) = (int(who, a)?, int(who, b)?);
    match (x, y) {
        (Num::Fix(p), Num::Fix(q)) => {
            if q == 0 {
                return Err(error::division_by_zero(who));
            }
            let (mut quo, mut rem) = (p as i128 / q as i128, p as i128 % q as i128);
            if let DivKind::Floor = kind {
                if rem != 0 && ((rem < 0) != (q < 0)) {
                    quo -= 1;
                    rem += q as i128;
                }
            }
            Ok((fix(who, quo)?, Num::Fix(rem as i64)))
        }
        _ => {
            let (p, q) = (x.to_f64(), y.to_f64());
            if q == 0.0 {
                return Err(error::division_by_zero(who));
            }
            let mut rem = p % q;
            if let DivKind::Floor = kind {
                if rem != 0.0 && ((rem < 0.0) != (q < 0.0)) {
                    rem += q;
                }
            }
            Ok((Num::Flo(((p - rem) / q).round()), Num::Flo(rem)))
        }
    }
}

fn quotient(args: &[Value]) -> VResult {
    Ok(int_div("quotient", args[0], args[1], DivKind::Truncate)?
        .0
        .to_value())
}
fn remainder(args: &[Value]) -> VResult {
    Ok(int_div("remainder", args[0], args[1], DivKind::Truncate)?
        .1
        .to_value())
}
fn modulo(args: &[Value]) -> VResult {
    Ok(int_div("modulo", args[0], args[1], DivKind::Floor)?
        .1
        .to_value())
}
fn truncate_quotient(args: &[Value]) -> VResult {
    Ok(
        int_div("truncate-quotient", args[0], args[1], DivKind::Truncate)?
            .0
            .to_value(),
    )
}
fn truncate_remainder(args: &[Value]) -> VResult {
    Ok(
        int_div("truncate-remainder", args[0], args[1], DivKind::Truncate)?
            .1
            .to_value(),
    )
}
fn floor_quotient(args: &[Value]) -> VResult {
    Ok(int_div("floor-quotient", args[0], args[1], DivKind::Floor)?
        .0
        .to_value())
}
fn floor_remainder(args: &[Value]) -> VResult {
    Ok(
        int_div("floor-remainder", args[0], args[1], DivKind::Floor)?
            .1
            .to_value(),
    )
}

/// Two numbers as multiple values.
fn two_values(a: Num, b: Num) -> VResult {
    let s = Scope::new();
    let x = s.root(a.to_value());
    let y = b.to_value();
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

/// Floor of the square root of `n >= 0`.
fn isqrt(n: i64) -> i64 {
    let mut s = (n as f64).sqrt() as i64;
    while s * s > n {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= n {
        s += 1;
    }
    s
}

fn exact_integer_sqrt(args: &[Value]) -> VResult {
    match args[0].fixnum_value() {
        Some(n) if n >= 0 => {
            let s = isqrt(n);
            two_values(Num::Fix(s), Num::Fix(n - s * s))
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
    match num("abs", args[0])? {
        Num::Fix(n) => Ok(fix("abs", (n as i128).abs())?.to_value()),
        Num::Flo(x) => flo(x.abs()),
    }
}

fn min_max(who: &str, args: &[Value], want: Ordering) -> VResult {
    let mut best = num(who, args[0])?;
    let mut inexact = !best.is_exact();
    let mut nan = matches!(best, Num::Flo(x) if x.is_nan());
    for &v in &args[1..] {
        let n = num(who, v)?;
        inexact |= !n.is_exact();
        match n {
            Num::Flo(x) if x.is_nan() => nan = true,
            _ => {
                if compare(n, best) == Some(want) {
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
    Ok(best.to_value())
}

fn min(args: &[Value]) -> VResult {
    min_max("min", args, Ordering::Less)
}
fn max(args: &[Value]) -> VResult {
    min_max("max", args, Ordering::Greater)
}

fn gcd_u(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn gcd_lcm(who: &str, args: &[Value], lcm: bool) -> VResult {
    let mut acc: u128 = if lcm { 1 } else { 0 };
    let mut inexact = false;
    for &v in args {
        let n = int(who, v)?;
        inexact |= !n.is_exact();
        let k = match n {
            Num::Fix(k) => k.unsigned_abs() as u128,
            Num::Flo(x) => {
                if x.abs() >= 2f64.powi(62) {
                    return Err(overflow(who));
                }
                x.abs() as u128
            }
        };
        acc = if lcm {
            if k == 0 || acc == 0 {
                0
            } else {
                acc / gcd_u(acc, k) * k
            }
        } else {
            gcd_u(acc, k)
        };
        if acc > FIXNUM_MAX as u128 {
            return Err(overflow(who));
        }
    }
    if inexact {
        flo(acc as f64)
    } else {
        Ok(Value::fixnum(acc as i64))
    }
}

fn gcd(args: &[Value]) -> VResult {
    gcd_lcm("gcd", args, false)
}
fn lcm(args: &[Value]) -> VResult {
    gcd_lcm("lcm", args, true)
}

fn expt(args: &[Value]) -> VResult {
    let (b, e) = (num("expt", args[0])?, num("expt", args[1])?);
    match (b, e) {
        (Num::Fix(base), Num::Fix(exp)) if exp >= 0 => {
            let r = match base {
                0 => (exp == 0) as i64,
                1 => 1,
                -1 => {
                    if exp % 2 == 0 {
                        1
                    } else {
                        -1
                    }
                }
                _ => u32::try_from(exp)
                    .ok()
                    .and_then(|e| base.checked_pow(e))
                    .ok_or_else(|| overflow("expt"))?,
            };
            Ok(fix("expt", r as i128)?.to_value())
        }
        (Num::Fix(0), Num::Fix(_)) => Err(error::division_by_zero("expt")),
        (Num::Fix(base @ (1 | -1)), Num::Fix(exp)) => {
            Ok(Value::fixnum(if exp % 2 == 0 { 1 } else { base }))
        }
        _ => {
            let (x, y) = (b.to_f64(), e.to_f64());
            if x < 0.0 && y.fract() != 0.0 && y.is_finite() {
                return Err(complex_unsupported("expt", args[0]));
            }
            flo(x.powf(y))
        }
    }
}

fn square(args: &[Value]) -> VResult {
    match num("square", args[0])? {
        Num::Fix(n) => Ok(fix("square", n as i128 * n as i128)?.to_value()),
        Num::Flo(x) => flo(x * x),
    }
}

fn sqrt(args: &[Value]) -> VResult {
    match num("sqrt", args[0])? {
        Num::Fix(n) if n < 0 => Err(complex_unsupported("sqrt", args[0])),
        Num::Fix(n) => {
            let s = isqrt(n);
            if s * s == n {
                Ok(Value::fixnum(s))
            } else {
                flo((n as f64).sqrt())
            }
        }
        Num::Flo(x) if x < 0.0 => Err(complex_unsupported("sqrt", args[0])),
        Num::Flo(x) => flo(x.sqrt()),
    }
}

/// A transcendental function with Chez's exact special case (`(exp 0)` is
/// exact 1, ...): `exact_at` maps an exact argument to an exact result.
fn transcendental(
    who: &str,
    v: Value,
    exact_at: Option<(i64, i64)>,
    f: fn(f64) -> f64,
    domain: fn(f64) -> bool,
) -> VResult {
    let n = num(who, v)?;
    if let (Num::Fix(k), Some((at, r))) = (n, exact_at) {
        if k == at {
            return Ok(Value::fixnum(r));
        }
    }
    let x = n.to_f64();
    if !domain(x) {
        return Err(complex_unsupported(who, v));
    }
    flo(f(x))
}

fn any(_: f64) -> bool {
    true
}
fn unit(x: f64) -> bool {
    x.is_nan() || (-1.0..=1.0).contains(&x)
}

fn exp(args: &[Value]) -> VResult {
    transcendental("exp", args[0], Some((0, 1)), f64::exp, any)
}
fn sin(args: &[Value]) -> VResult {
    transcendental("sin", args[0], Some((0, 0)), f64::sin, any)
}
fn cos(args: &[Value]) -> VResult {
    transcendental("cos", args[0], Some((0, 1)), f64::cos, any)
}
fn tan(args: &[Value]) -> VResult {
    transcendental("tan", args[0], Some((0, 0)), f64::tan, any)
}
fn asin(args: &[Value]) -> VResult {
    transcendental("asin", args[0], Some((0, 0)), f64::asin, unit)
}
fn acos(args: &[Value]) -> VResult {
    transcendental("acos", args[0], Some((1, 0)), f64::acos, unit)
}

fn atan(args: &[Value]) -> VResult {
    if args.len() == 1 {
        return transcendental("atan", args[0], Some((0, 0)), f64::atan, any);
    }
    let (y, x) = (num("atan", args[0])?, num("atan", args[1])?);
    if let (Num::Fix(0), Num::Fix(k)) = (y, x) {
        if k > 0 {
            return Ok(Value::fixnum(0));
        }
        if k == 0 {
            return Err(other_error("atan: undefined for 0 and 0", &[]));
        }
    }
    flo(y.to_f64().atan2(x.to_f64()))
}

fn log(args: &[Value]) -> VResult {
    let nonneg = |x: f64| x.is_nan() || x >= 0.0;
    if args.len() == 1 {
        return transcendental("log", args[0], Some((1, 0)), f64::ln, nonneg);
    }
    let z = num("log", args[0])?;
    let b = num("log", args[1])?;
    if z.to_f64() < 0.0 {
        return Err(complex_unsupported("log", args[0]));
    }
    if b.to_f64() < 0.0 {
        return Err(complex_unsupported("log", args[1]));
    }
    if let (Num::Fix(1), Num::Fix(_)) = (z, b) {
        return Ok(Value::fixnum(0));
    }
    let x = z.to_f64();
    flo(match b.to_f64() {
        2.0 => x.log2(),
        10.0 => x.log10(),
        base => x.ln() / base.ln(),
    })
}

fn rounding(who: &str, v: Value, f: fn(f64) -> f64) -> VResult {
    match num(who, v)? {
        Num::Fix(_) => Ok(v),
        Num::Flo(x) => flo(f(x)),
    }
}

fn floor(args: &[Value]) -> VResult {
    rounding("floor", args[0], f64::floor)
}
fn ceiling(args: &[Value]) -> VResult {
    rounding("ceiling", args[0], f64::ceil)
}
fn round(args: &[Value]) -> VResult {
    rounding("round", args[0], f64::round_ties_even)
}
fn truncate(args: &[Value]) -> VResult {
    rounding("truncate", args[0], f64::trunc)
}

/// `exact` of a flonum.
pub fn flonum_to_exact(who: &str, x: f64, v: Value) -> VResult {
    if !x.is_finite() {
        return Err(other_error(
            &format!("{who}: no exact representation"),
            &[v],
        ));
    }
    if x.fract() != 0.0 {
        return Err(other_error(
            &format!("{who}: exact rationals are not supported yet"),
            &[v],
        ));
    }
    if x < FIXNUM_MIN as f64 || x > FIXNUM_MAX as f64 {
        return Err(overflow(who));
    }
    Ok(Value::fixnum(x as i64))
}

fn exact_named(who: &str, args: &[Value]) -> VResult {
    match num(who, args[0])? {
        Num::Fix(_) => Ok(args[0]),
        Num::Flo(x) => flonum_to_exact(who, x, args[0]),
    }
}
fn exact(args: &[Value]) -> VResult {
    exact_named("exact", args)
}
fn inexact_to_exact(args: &[Value]) -> VResult {
    exact_named("inexact->exact", args)
}

fn inexact_named(who: &str, args: &[Value]) -> VResult {
    match num(who, args[0])? {
        Num::Fix(n) => flo(n as f64),
        Num::Flo(_) => Ok(args[0]),
    }
}
fn inexact(args: &[Value]) -> VResult {
    inexact_named("inexact", args)
}
fn exact_to_inexact(args: &[Value]) -> VResult {
    inexact_named("exact->inexact", args)
}

/// Numerator and denominator of a flonum as flonums (the denominator is a
/// power of two).
fn flonum_ratio(x: f64) -> (f64, f64) {
    if !x.is_finite() || x.fract() == 0.0 {
        return (x, 1.0);
    }
    let (mut n, mut d) = (x, 1.0f64);
    while n.fract() != 0.0 {
        n *= 2.0;
        d *= 2.0;
    }
    (n, d)
}

fn numerator(args: &[Value]) -> VResult {
    match num("numerator", args[0])? {
        Num::Fix(_) => Ok(args[0]),
        Num::Flo(x) => flo(flonum_ratio(x).0),
    }
}
fn denominator(args: &[Value]) -> VResult {
    match num("denominator", args[0])? {
        Num::Fix(_) => Ok(Value::fixnum(1)),
        Num::Flo(x) => flo(flonum_ratio(x).1),
    }
}

// ---- predicates ----

fn is_number(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_number()))
}
fn is_integer(args: &[Value]) -> VResult {
    Ok(Value::bool(match Num::from_value(args[0]) {
        Some(Num::Fix(_)) => true,
        Some(Num::Flo(x)) => x.is_finite() && x.fract() == 0.0,
        None => false,
    }))
}
fn is_rational(args: &[Value]) -> VResult {
    Ok(Value::bool(match Num::from_value(args[0]) {
        Some(Num::Fix(_)) => true,
        Some(Num::Flo(x)) => x.is_finite(),
        None => false,
    }))
}
fn is_exact(args: &[Value]) -> VResult {
    Ok(Value::bool(num("exact?", args[0])?.is_exact()))
}
fn is_inexact(args: &[Value]) -> VResult {
    Ok(Value::bool(!num("inexact?", args[0])?.is_exact()))
}
fn is_exact_integer(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_fixnum()))
}
fn flonum_test(who: &str, v: Value, f: fn(f64) -> bool, exact: bool) -> VResult {
    Ok(Value::bool(match num(who, v)? {
        Num::Fix(_) => exact,
        Num::Flo(x) => f(x),
    }))
}
fn is_nan(args: &[Value]) -> VResult {
    flonum_test("nan?", args[0], f64::is_nan, false)
}
fn is_infinite(args: &[Value]) -> VResult {
    flonum_test("infinite?", args[0], f64::is_infinite, false)
}
fn is_finite(args: &[Value]) -> VResult {
    flonum_test("finite?", args[0], f64::is_finite, true)
}
fn sign_test(who: &str, v: Value, want: Ordering) -> VResult {
    let n = num(who, v)?;
    Ok(Value::bool(compare(n, Num::Fix(0)) == Some(want)))
}
fn is_zero(args: &[Value]) -> VResult {
    sign_test("zero?", args[0], Ordering::Equal)
}
fn is_positive(args: &[Value]) -> VResult {
    sign_test("positive?", args[0], Ordering::Greater)
}
fn is_negative(args: &[Value]) -> VResult {
    sign_test("negative?", args[0], Ordering::Less)
}
fn is_odd(args: &[Value]) -> VResult {
    Ok(Value::bool(match int("odd?", args[0])? {
        Num::Fix(n) => n % 2 != 0,
        Num::Flo(x) => x % 2.0 != 0.0,
    }))
}
fn is_even(args: &[Value]) -> VResult {
    Ok(Value::bool(match int("even?", args[0])? {
        Num::Fix(n) => n % 2 == 0,
        Num::Flo(x) => x % 2.0 == 0.0,
    }))
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

/// `n` in `radix`, lower-case digits.
pub fn format_fixnum(n: i64, radix: u32) -> String {
    if radix == 10 {
        return n.to_string();
    }
    let mut digits = Vec::new();
    let mut m = n.unsigned_abs();
    loop {
        digits.push(std::char::from_digit((m % radix as u64) as u32, radix).unwrap_or('?'));
        m /= radix as u64;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

fn number_to_string(args: &[Value]) -> VResult {
    let radix = radix_arg("number->string", args, 1)?;
    let text = match num("number->string", args[0])? {
        Num::Fix(n) => format_fixnum(n, radix),
        Num::Flo(x) if radix == 10 => printer::format_flonum(x),
        Num::Flo(_) => {
            return Err(other_error(
                "number->string: inexact numbers can only be printed in radix 10",
                &[args[0]],
            ))
        }
    };
    Ok(object::string_from(&text))
}

fn string_to_number(args: &[Value]) -> VResult {
    let s = super::string_arg("string->number", args[0])?;
    let radix = radix_arg("string->number", args, 1)?;
    let text = object::string_to_rust(s);
    match numparse::parse_number(&text, radix) {
        Ok(Some(Number::Fixnum(n))) => Ok(Value::fixnum(n)),
        Ok(Some(Number::Flonum(x))) => flo(x),
        Ok(None) => Ok(Value::FALSE),
        Err(msg) => Err(other_error(&format!("string->number: {msg}"), &[args[0]])),
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
    fixed("magnitude", 1, abs),
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
    fixed("exact", 1, exact),
    fixed("inexact", 1, inexact),
    fixed("exact->inexact", 1, exact_to_inexact),
    fixed("inexact->exact", 1, inexact_to_exact),
    fixed("numerator", 1, numerator),
    fixed("denominator", 1, denominator),
    fixed("number?", 1, is_number),
    fixed("complex?", 1, is_number),
    fixed("real?", 1, is_number),
    fixed("rational?", 1, is_rational),
    fixed("integer?", 1, is_integer),
    fixed("exact?", 1, is_exact),
    fixed("inexact?", 1, is_inexact),
    fixed("exact-integer?", 1, is_exact_integer),
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
