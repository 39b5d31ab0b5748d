//! Generic arithmetic on decoded numbers ([`Num`]), with R7RS's exactness
//! rules: exact operands give exact results, an inexact operand makes the
//! result inexact, and a complex operand makes the operation complex. The
//! builtins (`builtins/numbers.rs`) check the operand types first, so these
//! functions only report what the types cannot rule out (a zero divisor).

use super::{Complex, Num};
use num_bigint::BigInt;
use num_complex::Complex64;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Pow, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// The exactness class two operands combine into.
enum Pair {
    Ints(BigInt, BigInt),
    Ratios(BigRational, BigRational),
    Flos(f64, f64),
    Complexes(Complex, Complex),
}

fn classify(a: &Num, b: &Num) -> Pair {
    if !a.is_real() || !b.is_real() {
        return Pair::Complexes(parts(a), parts(b));
    }
    if let (Num::Flo(_), _) | (_, Num::Flo(_)) = (a, b) {
        return Pair::Flos(a.to_f64(), b.to_f64());
    }
    match (a.to_bigint(), b.to_bigint()) {
        (Some(x), Some(y)) => Pair::Ints(x, y),
        _ => Pair::Ratios(ratio(a), ratio(b)),
    }
}

fn ratio(n: &Num) -> BigRational {
    n.to_ratio().unwrap_or_else(BigRational::zero)
}

/// A number's real and imaginary parts.
pub fn parts(n: &Num) -> Complex {
    match n {
        Num::Cpx(c) => (**c).clone(),
        _ => Complex {
            re: n.clone(),
            im: Num::Fix(0),
        },
    }
}

// ---- the four operations ----

pub fn add(a: &Num, b: &Num) -> Num {
    if let (Num::Fix(x), Num::Fix(y)) = (a, b) {
        return Num::from_i128(*x as i128 + *y as i128);
    }
    match classify(a, b) {
        Pair::Ints(x, y) => Num::int(x + y),
        Pair::Ratios(x, y) => Num::ratio(x + y),
        Pair::Flos(x, y) => Num::Flo(x + y),
        Pair::Complexes(x, y) => Num::rect(add(&x.re, &y.re), add(&x.im, &y.im)),
    }
}

pub fn sub(a: &Num, b: &Num) -> Num {
    if let (Num::Fix(x), Num::Fix(y)) = (a, b) {
        return Num::from_i128(*x as i128 - *y as i128);
    }
    match classify(a, b) {
        Pair::Ints(x, y) => Num::int(x - y),
        Pair::Ratios(x, y) => Num::ratio(x - y),
        Pair::Flos(x, y) => Num::Flo(x - y),
        Pair::Complexes(x, y) => Num::rect(sub(&x.re, &y.re), sub(&x.im, &y.im)),
    }
}

pub fn neg(a: &Num) -> Num {
    match a {
        Num::Fix(x) => Num::from_i128(-(*x as i128)),
        Num::Big(x) => Num::int(-x),
        Num::Rat(x) => Num::ratio(-x),
        Num::Flo(x) => Num::Flo(-x),
        Num::Cpx(c) => Num::rect(neg(&c.re), neg(&c.im)),
    }
}

pub fn mul(a: &Num, b: &Num) -> Num {
    if let (Num::Fix(x), Num::Fix(y)) = (a, b) {
        return Num::from_i128(*x as i128 * *y as i128);
    }
    match classify(a, b) {
        Pair::Ints(x, y) => Num::int(x * y),
        Pair::Ratios(x, y) => Num::ratio(x * y),
        Pair::Flos(x, y) => Num::Flo(x * y),
        Pair::Complexes(x, y) => {
            if !a.is_exact() || !b.is_exact() {
                let p = to_c64(&x) * to_c64(&y);
                return of_c64(p);
            }
            let re = sub(&mul(&x.re, &y.re), &mul(&x.im, &y.im));
            let im = add(&mul(&x.re, &y.im), &mul(&x.im, &y.re));
            Num::rect(re, im)
        }
    }
}

/// `a / b`; `None` when `b` is an exact zero and `a` is exact.
pub fn div(a: &Num, b: &Num) -> Option<Num> {
    if b.is_exact() && b.is_zero() {
        if a.is_exact() {
            return None;
        }
        // An inexact dividend makes the quotient inexact, over an inexact
        // zero: `(/ 1.0 0)` is +inf.0, `(/ 0.0 0)` is +nan.0.
        return div(a, &Num::Flo(0.0));
    }
    Some(match classify(a, b) {
        Pair::Ints(x, y) => Num::fraction(x, y),
        Pair::Ratios(x, y) => Num::ratio(x / y),
        Pair::Flos(x, y) => Num::Flo(x / y),
        Pair::Complexes(x, y) => {
            if !a.is_exact() || !b.is_exact() {
                return Some(of_c64(to_c64(&x) / to_c64(&y)));
            }
            // (a+bi)/(c+di) = ((ac+bd) + (bc-ad)i) / (c²+d²)
            let den = add(&mul(&y.re, &y.re), &mul(&y.im, &y.im));
            let re = add(&mul(&x.re, &y.re), &mul(&x.im, &y.im));
            let im = sub(&mul(&x.im, &y.re), &mul(&x.re, &y.im));
            Num::rect(div(&re, &den)?, div(&im, &den)?)
        }
    })
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

/// Exact comparison of an exact real and a flonum.
fn cmp_exact_flo(a: &Num, f: f64) -> Option<Ordering> {
    if let Num::Fix(i) = a {
        return cmp_fix_flo(*i, f);
    }
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let exact = Num::exact_of_f64(f)?;
    compare(a, &exact)
}

/// The order of two real numbers, compared exactly (`None` for NaN).
pub fn compare(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Fix(x), Num::Fix(y)) => Some(x.cmp(y)),
        (Num::Flo(x), Num::Flo(y)) => x.partial_cmp(y),
        (Num::Flo(x), _) => cmp_exact_flo(b, *x).map(Ordering::reverse),
        (_, Num::Flo(y)) => cmp_exact_flo(a, *y),
        _ => match (a.to_bigint(), b.to_bigint()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(ratio(a).cmp(&ratio(b))),
        },
    }
}

/// `=` on any two numbers.
pub fn num_eq(a: &Num, b: &Num) -> bool {
    if a.is_real() && b.is_real() {
        return compare(a, b) == Some(Ordering::Equal);
    }
    let (x, y) = (parts(a), parts(b));
    num_eq(&x.re, &y.re) && num_eq(&x.im, &y.im)
}

// ---- integer division ----

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DivKind {
    Truncate,
    Floor,
}

/// Quotient and remainder of two integers (exact or integral flonums);
/// `None` when the divisor is zero.
pub fn int_div(a: &Num, b: &Num, kind: DivKind) -> Option<(Num, Num)> {
    if b.is_zero() {
        return None;
    }
    if let (Num::Fix(p), Num::Fix(q)) = (a, b) {
        let (p, q) = (*p as i128, *q as i128);
        let (mut quo, mut rem) = (p / q, p % q);
        if kind == DivKind::Floor && rem != 0 && ((rem < 0) != (q < 0)) {
            quo -= 1;
            rem += q;
        }
        return Some((Num::from_i128(quo), Num::from_i128(rem)));
    }
    if let (Some(p), Some(q)) = (a.to_bigint(), b.to_bigint()) {
        let (quo, rem) = match kind {
            DivKind::Truncate => p.div_rem(&q),
            DivKind::Floor => p.div_mod_floor(&q),
        };
        return Some((Num::int(quo), Num::int(rem)));
    }
    let (p, q) = (a.to_f64(), b.to_f64());
    let mut rem = p % q;
    if kind == DivKind::Floor && rem != 0.0 && ((rem < 0.0) != (q < 0.0)) {
        rem += q;
    }
    Some((Num::Flo(((p - rem) / q).round()), Num::Flo(rem)))
}

/// The greatest common divisor of two integers (exact or integral
/// flonums), non-negative.
pub fn gcd(a: &Num, b: &Num) -> Num {
    let exact = a.is_exact() && b.is_exact();
    let (x, y) = (integer_value(a), integer_value(b));
    let g = Num::int(x.gcd(&y));
    if exact {
        g
    } else {
        g.to_inexact()
    }
}

/// The least common multiple, non-negative.
pub fn lcm(a: &Num, b: &Num) -> Num {
    let exact = a.is_exact() && b.is_exact();
    let (x, y) = (integer_value(a), integer_value(b));
    let l = Num::int(x.lcm(&y));
    if exact {
        l
    } else {
        l.to_inexact()
    }
}

/// An integer (exact or an integral flonum) as a `BigInt`.
fn integer_value(n: &Num) -> BigInt {
    match n {
        Num::Flo(x) => match Num::exact_of_f64(*x) {
            Some(e) => e.to_bigint().unwrap_or_default(),
            None => BigInt::zero(),
        },
        _ => n.to_bigint().unwrap_or_default(),
    }
}

// ---- rounding ----

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Floor,
    Ceiling,
    Truncate,
    /// To nearest, ties to even.
    Nearest,
}

/// A real number rounded to an integer of the same exactness.
pub fn round(a: &Num, mode: Round) -> Num {
    match a {
        Num::Fix(_) | Num::Big(_) => a.clone(),
        Num::Flo(x) => Num::Flo(match mode {
            Round::Floor => x.floor(),
            Round::Ceiling => x.ceil(),
            Round::Truncate => x.trunc(),
            Round::Nearest => x.round_ties_even(),
        }),
        Num::Rat(r) => Num::int(round_ratio(r, mode)),
        Num::Cpx(_) => a.clone(),
    }
}

fn round_ratio(r: &BigRational, mode: Round) -> BigInt {
    let floor = r.numer().div_floor(r.denom());
    match mode {
        Round::Floor => floor,
        Round::Ceiling => floor + 1,
        Round::Truncate => {
            if r.is_negative() {
                floor + 1
            } else {
                floor
            }
        }
        Round::Nearest => {
            // r is not an integer: compare its fraction with 1/2.
            let frac = r - BigRational::from_integer(floor.clone());
            let twice = frac * BigRational::from_integer(BigInt::from(2));
            match twice.cmp(&BigRational::one()) {
                Ordering::Less => floor,
                Ordering::Greater => floor + 1,
                Ordering::Equal => {
                    if floor.is_even() {
                        floor
                    } else {
                        floor + 1
                    }
                }
            }
        }
    }
}

/// The simplest rational within `y` of `x` (R7RS `rationalize`), inexact
/// when either argument is.
pub fn rationalize(x: &Num, y: &Num) -> Num {
    let inexact = !x.is_exact() || !y.is_exact();
    if inexact {
        let (fx, fy) = (x.to_f64(), y.to_f64());
        if fx.is_nan() || fy.is_nan() {
            return Num::Flo(f64::NAN);
        }
        if fy.is_infinite() {
            return Num::Flo(if fx.is_infinite() { f64::NAN } else { 0.0 });
        }
        if fx.is_infinite() {
            return Num::Flo(fx);
        }
    }
    let (ex, ey) = match (x.to_exact(), y.to_exact()) {
        (Some(a), Some(b)) => (ratio(&a), ratio(&b).abs()),
        _ => return Num::Flo(f64::NAN),
    };
    let r = Num::ratio(simplest_between(&(&ex - &ey), &(&ex + &ey)));
    if inexact {
        r.to_inexact()
    } else {
        r
    }
}

/// The simplest rational in `[lo, hi]` (`lo <= hi`).
fn simplest_between(lo: &BigRational, hi: &BigRational) -> BigRational {
    if lo.is_positive() {
        simplest_positive(lo, hi)
    } else if hi.is_negative() {
        -simplest_positive(&-hi, &-lo)
    } else {
        BigRational::zero()
    }
}

/// The simplest rational in `[lo, hi]`, `0 < lo <= hi`, by continued
/// fractions.
fn simplest_positive(lo: &BigRational, hi: &BigRational) -> BigRational {
    let fl = lo.floor();
    if &fl == lo {
        return fl;
    }
    if fl < hi.floor() {
        return fl + BigRational::one();
    }
    let inner = simplest_positive(&(hi - &fl).recip(), &(lo - &fl).recip());
    fl + inner.recip()
}

// ---- powers and roots ----

/// An error of `expt` that the operand types cannot rule out.
#[derive(Debug, PartialEq, Eq)]
pub enum ExptError {
    DivisionByZero,
    /// The exact result would not fit in memory.
    TooLarge,
}

/// Results larger than this many bits are refused, not attempted.
const MAX_RESULT_BITS: u64 = 1 << 30;

/// `base` raised to `power`.
pub fn expt(base: &Num, power: &Num) -> Result<Num, ExptError> {
    if power.is_exact() && power.is_zero() {
        return Ok(Num::Fix(1));
    }
    if let Some(e) = power.to_bigint() {
        if base.is_exact() {
            return exact_power(base, &e);
        }
        if let (Num::Flo(x), Some(k)) = (base, e.to_i32()) {
            return Ok(Num::Flo(x.powi(k)));
        }
    }
    if base.is_real() && power.is_real() {
        let (x, y) = (base.to_f64(), power.to_f64());
        if x >= 0.0 || y.fract() == 0.0 || !y.is_finite() || x.is_nan() {
            return Ok(Num::Flo(x.powf(y)));
        }
    }
    if base.is_zero() {
        let re = parts(power).re;
        return if re.signum() > 0 {
            Ok(if base.is_exact() && power.is_exact() {
                Num::Fix(0)
            } else {
                Num::Flo(0.0)
            })
        } else {
            Err(ExptError::DivisionByZero)
        };
    }
    // exp(power * log(base)), in complex flonums.
    let z = to_c64(&parts(base));
    let w = to_c64(&parts(power));
    Ok(of_c64((w * z.ln()).exp()))
}

/// An exact base to an exact integer power.
fn exact_power(base: &Num, e: &BigInt) -> Result<Num, ExptError> {
    if base.is_zero() {
        return if e.is_negative() {
            Err(ExptError::DivisionByZero)
        } else {
            Ok(Num::Fix(0))
        };
    }
    let magnitude = e.abs();
    // ±1 to any power, without the size check.
    if let Num::Fix(b @ (1 | -1)) = base {
        let odd = magnitude.is_odd();
        return Ok(Num::Fix(if *b == -1 && odd { -1 } else { 1 }));
    }
    let bits_per_factor = match base {
        Num::Fix(b) => 64 - b.unsigned_abs().leading_zeros() as u64,
        Num::Big(b) => b.bits(),
        Num::Rat(r) => r.numer().bits().max(r.denom().bits()),
        Num::Cpx(c) => {
            let p = |n: &Num| match n {
                Num::Fix(b) => 64 - b.unsigned_abs().leading_zeros() as u64,
                Num::Big(b) => b.bits(),
                Num::Rat(r) => r.numer().bits().max(r.denom().bits()),
                _ => 64,
            };
            p(&c.re).max(p(&c.im)) + 1
        }
        Num::Flo(_) => 64,
    };
    let k = magnitude.to_u64().ok_or(ExptError::TooLarge)?;
    if k.saturating_mul(bits_per_factor.saturating_sub(1).max(1)) > MAX_RESULT_BITS {
        return Err(ExptError::TooLarge);
    }
    let p = match base {
        Num::Fix(_) | Num::Big(_) => {
            let b = base.to_bigint().unwrap_or_default();
            Num::int(Pow::pow(&b, k))
        }
        Num::Rat(r) => Num::ratio(Pow::pow(r, k)),
        _ => {
            // Exact complex: square and multiply.
            let mut result = Num::Fix(1);
            let mut square = base.clone();
            let mut k = k;
            while k > 0 {
                if k & 1 == 1 {
                    result = mul(&result, &square);
                }
                k >>= 1;
                if k > 0 {
                    square = mul(&square, &square);
                }
            }
            result
        }
    };
    if e.is_negative() {
        div(&Num::Fix(1), &p).ok_or(ExptError::DivisionByZero)
    } else {
        Ok(p)
    }
}

/// `(exact-integer-sqrt n)` for `n >= 0`: `s` and `n - s²`.
pub fn exact_integer_sqrt(n: &BigInt) -> (Num, Num) {
    let s = n.sqrt();
    let r = n - &s * &s;
    (Num::int(s), Num::int(r))
}

/// The exact square root of an exact non-negative rational, if it has one.
fn exact_sqrt(r: &BigRational) -> Option<BigRational> {
    let (n, d) = (r.numer(), r.denom());
    let (sn, sd) = (n.sqrt(), d.sqrt());
    (&sn * &sn == *n && &sd * &sd == *d).then(|| BigRational::new_raw(sn, sd))
}

/// The principal square root; exact when the argument is exact and its
/// root is (`(sqrt -4)` is `+2i`).
pub fn sqrt(a: &Num) -> Num {
    match a {
        Num::Cpx(c) => {
            if a.is_exact() {
                // An exact complex root exists when |z| and (|z| ± re)/2
                // are exact squares.
                if let Some(root) = exact_complex_sqrt(c) {
                    return root;
                }
            }
            of_c64(to_c64(c).sqrt())
        }
        Num::Flo(x) if *x < 0.0 => Num::rect(Num::Flo(0.0), Num::Flo((-x).sqrt())),
        Num::Flo(x) => Num::Flo(x.sqrt()),
        _ => {
            let r = ratio(a);
            let negative = r.is_negative();
            let m = r.abs();
            let root = match exact_sqrt(&m) {
                Some(s) => Num::ratio(s),
                None => Num::Flo(real_sqrt_f64(&Num::ratio(m))),
            };
            if negative {
                let zero = if root.is_exact() {
                    Num::Fix(0)
                } else {
                    Num::Flo(0.0)
                };
                Num::rect(zero, root)
            } else {
                root
            }
        }
    }
}

/// The square root of a non-negative exact number as a flonum, also for
/// numbers beyond the flonum range.
fn real_sqrt_f64(n: &Num) -> f64 {
    let x = n.to_f64();
    if x.is_finite() {
        return x.sqrt();
    }
    // Huge: the integer square root of the integer part is close enough.
    let i = round(n, Round::Floor).to_bigint().unwrap_or_default();
    super::bigint_to_f64(&i.sqrt())
}

fn exact_complex_sqrt(c: &Complex) -> Option<Num> {
    let norm2 = ratio(&add(&mul(&c.re, &c.re), &mul(&c.im, &c.im)));
    let m = exact_sqrt(&norm2)?;
    let re = ratio(&c.re);
    let two = BigRational::from_integer(BigInt::from(2));
    let x = exact_sqrt(&((&m + &re) / &two))?;
    let mut y = exact_sqrt(&((&m - &re) / &two))?;
    if ratio(&c.im).is_negative() {
        y = -y;
    }
    Some(Num::rect(Num::ratio(x), Num::ratio(y)))
}

/// `|z|`: the absolute value of a real, the modulus of a complex number
/// (exact when its parts and the root are).
pub fn magnitude(a: &Num) -> Num {
    match a {
        Num::Cpx(c) => {
            if a.is_exact() {
                let norm2 = add(&mul(&c.re, &c.re), &mul(&c.im, &c.im));
                return sqrt(&norm2);
            }
            Num::Flo(c.re.to_f64().hypot(c.im.to_f64()))
        }
        _ => {
            if a.signum() < 0 {
                neg(a)
            } else if let Num::Flo(x) = a {
                Num::Flo(x.abs())
            } else {
                a.clone()
            }
        }
    }
}

/// The argument of `z`: exact 0 for exact non-negative reals.
pub fn angle(a: &Num) -> Num {
    match a {
        Num::Cpx(c) => Num::Flo(c.im.to_f64().atan2(c.re.to_f64())),
        Num::Flo(x) => Num::Flo(0f64.atan2(*x)),
        _ if a.signum() < 0 => Num::Flo(std::f64::consts::PI),
        _ => Num::Fix(0),
    }
}

/// `(make-polar m θ)`.
pub fn make_polar(m: &Num, theta: &Num) -> Num {
    if theta.is_exact() && theta.is_zero() {
        return m.clone();
    }
    let (r, t) = (m.to_f64(), theta.to_f64());
    Num::rect(Num::Flo(r * t.cos()), Num::Flo(r * t.sin()))
}

// ---- transcendental functions ----

pub fn to_c64(c: &Complex) -> Complex64 {
    Complex64::new(c.re.to_f64(), c.im.to_f64())
}

/// A complex flonum result (kept complex even when its imaginary part is
/// 0.0, as inexact complex numbers are).
pub fn of_c64(z: Complex64) -> Num {
    Num::Cpx(Box::new(Complex {
        re: Num::Flo(z.re),
        im: Num::Flo(z.im),
    }))
}

/// A transcendental function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Func {
    Exp,
    Log,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
}

impl Func {
    /// The exact argument at which the function has an exact result.
    fn exact_point(self) -> Option<(i64, i64)> {
        Some(match self {
            Func::Exp => (0, 1),
            Func::Log => (1, 0),
            Func::Sin | Func::Tan | Func::Asin | Func::Atan => (0, 0),
            Func::Cos => (0, 1),
            Func::Acos => (1, 0),
        })
    }

    /// Whether the real function is defined (real-valued) at `x`.
    fn real_domain(self, x: f64) -> bool {
        match self {
            Func::Log => x.is_nan() || x >= 0.0,
            Func::Asin | Func::Acos => x.is_nan() || (-1.0..=1.0).contains(&x),
            _ => true,
        }
    }

    fn real(self, x: f64) -> f64 {
        match self {
            Func::Exp => x.exp(),
            Func::Log => x.ln(),
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => x.atan(),
        }
    }

    fn complex(self, z: Complex64) -> Complex64 {
        match self {
            Func::Exp => z.exp(),
            Func::Log => z.ln(),
            Func::Sin => z.sin(),
            Func::Cos => z.cos(),
            Func::Tan => z.tan(),
            Func::Asin => z.asin(),
            Func::Acos => z.acos(),
            Func::Atan => z.atan(),
        }
    }
}

/// `f(a)`; `None` only for `(atan ±i)`, where the function has a pole.
pub fn apply(f: Func, a: &Num) -> Option<Num> {
    if let (Num::Fix(k), Some((at, r))) = (a, f.exact_point()) {
        if *k == at {
            return Some(Num::Fix(r));
        }
    }
    if a.is_real() {
        if f == Func::Log {
            if let Num::Big(n) = a {
                if n.is_positive() {
                    return Some(Num::Flo(log_big(n)));
                }
            }
        }
        let x = a.to_f64();
        if f.real_domain(x) {
            return Some(Num::Flo(f.real(x)));
        }
        if matches!(f, Func::Asin | Func::Acos) && x.abs() > 1.0 {
            return Some(arc_beyond_one(f, x));
        }
    }
    let z = to_c64(&parts(a));
    if f == Func::Atan && z.re == 0.0 && z.im.abs() == 1.0 {
        return None;
    }
    Some(of_c64(f.complex(z)))
}

/// `asin x` or `acos x` for a real `|x| > 1`, on the branch cuts, from
/// `acosh |x|`: the complex formulas overflow to NaN once `x²` does (and
/// lose digits well before).
fn arc_beyond_one(f: Func, x: f64) -> Num {
    use std::f64::consts::{FRAC_PI_2, LN_2, PI};
    let m = x.abs();
    // acosh m = ln(m + sqrt(m² - 1)), which is ln(2m) to double precision
    // for large m (and does not overflow there).
    let h = if m > 1e10 { m.ln() + LN_2 } else { m.acosh() };
    let (re, im) = match (f, x > 0.0) {
        (Func::Asin, true) => (FRAC_PI_2, -h),
        (Func::Asin, false) => (-FRAC_PI_2, h),
        (_, true) => (0.0, h),
        (_, false) => (PI, -h),
    };
    of_c64(Complex64::new(re, im))
}

/// `ln n` for a positive bignum, also beyond the flonum range.
fn log_big(n: &BigInt) -> f64 {
    let x = super::bigint_to_f64(n);
    if x.is_finite() {
        return x.ln();
    }
    let shift = n.bits() - 64;
    let top = super::bigint_to_f64(&(n >> shift));
    top.ln() + shift as f64 * std::f64::consts::LN_2
}

/// `(atan y x)` of two reals; `None` when both are exact zeros.
pub fn atan2(y: &Num, x: &Num) -> Option<Num> {
    if y.is_exact() && y.is_zero() && x.is_exact() {
        return match x.signum() {
            1 => Some(Num::Fix(0)),
            0 => None,
            _ => Some(Num::Flo(std::f64::consts::PI)),
        };
    }
    Some(Num::Flo(y.to_f64().atan2(x.to_f64())))
}

/// `(log z b)`; `None` for `(log 1 1)`, an exact 0/0.
pub fn log_base(z: &Num, b: &Num) -> Option<Num> {
    if let (Num::Fix(1), true) = (z, b.is_exact()) {
        return if matches!(b, Num::Fix(1)) {
            None
        } else {
            Some(Num::Fix(0))
        };
    }
    let lz = apply(Func::Log, z)?;
    if let (Num::Flo(_), Num::Fix(2 | 10)) = (&lz, b) {
        let v = z.to_f64();
        if v.is_finite() && v > 0.0 {
            return Some(Num::Flo(if matches!(b, Num::Fix(10)) {
                v.log10()
            } else {
                v.log2()
            }));
        }
    }
    let lb = apply(Func::Log, b)?;
    if lb.is_exact() && lb.is_zero() {
        // `b` is an exact 1 (and `z` is not): each part of `ln z` over an
        // inexact zero, so `(log 7 1)` is +inf.0 and `(log -7 1)` is
        // +inf.0+inf.0i (a complex division by zero would give NaNs).
        let p = to_c64(&parts(&lz));
        return Some(if lz.is_real() {
            Num::Flo(p.re / 0.0)
        } else {
            of_c64(Complex64::new(p.re / 0.0, p.im / 0.0))
        });
    }
    div(&lz, &lb)
}
