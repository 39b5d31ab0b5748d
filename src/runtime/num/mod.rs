//! The numeric tower (docs/numbers.md): fixnums, bignums, exact rationals,
//! flonums and complex numbers.
//!
//! A number is decoded from its `Value` into a [`Num`] (no Valk-heap
//! allocation: bignum limbs are copied into a `BigInt`), computed on with
//! `num-bigint`/`num-rational`, and encoded back into the heap by
//! [`Num::into_value`], which always produces the canonical form:
//! - an exact integer is a fixnum when it fits, a bignum otherwise;
//! - an exact rational is in lowest terms with a denominator above 1,
//!   otherwise it is an integer;
//! - a complex number has both parts exact (with a non-zero imaginary part,
//!   otherwise it is real) or both parts flonums.
//!
//! The fixnum and flonum paths of the builtins test the operands' tags
//! before decoding, so they never reach this module's allocating code.

pub mod arith;
pub mod text;

use crate::gc::{self, Scope};
use crate::value::{ObjType, Value, FIXNUM_MAX, FIXNUM_MIN};
use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};

// Bignum limbs are read from the heap as `u32` pairs (`BigUint::from_slice`),
// which is only the same number on a little-endian machine.
#[cfg(not(target_endian = "little"))]
compile_error!("the bignum layout assumes a little-endian target");

/// A decoded number.
#[derive(Clone, Debug, PartialEq)]
pub enum Num {
    /// An exact integer in fixnum range.
    Fix(i64),
    /// An exact integer outside fixnum range.
    Big(BigInt),
    /// An exact rational in lowest terms whose denominator is above 1.
    Rat(BigRational),
    Flo(f64),
    /// A non-real complex number (see the module comment).
    Cpx(Box<Complex>),
}

/// The parts of a complex number: real numbers, never `Cpx`.
#[derive(Clone, Debug, PartialEq)]
pub struct Complex {
    pub re: Num,
    pub im: Num,
}

/// Bit 63 of a bignum's first word: the sign.
const BIGNUM_NEGATIVE: u64 = 1 << 63;

fn fits_fixnum(n: i64) -> bool {
    (FIXNUM_MIN..=FIXNUM_MAX).contains(&n)
}

impl Num {
    // ---- canonical constructors ----

    /// An exact integer, as a fixnum when it fits.
    pub fn int(n: BigInt) -> Num {
        match n.to_i64() {
            Some(k) if fits_fixnum(k) => Num::Fix(k),
            _ => Num::Big(n),
        }
    }

    pub fn from_i128(n: i128) -> Num {
        match i64::try_from(n) {
            Ok(k) if fits_fixnum(k) => Num::Fix(k),
            _ => Num::Big(BigInt::from(n)),
        }
    }

    /// An exact rational (already in lowest terms with a positive
    /// denominator, as `BigRational`'s operations leave it).
    pub fn ratio(r: BigRational) -> Num {
        if r.denom().is_one() {
            Num::int(r.numer().clone())
        } else {
            Num::Rat(r)
        }
    }

    /// `n/d` reduced; `d` is non-zero.
    pub fn fraction(n: BigInt, d: BigInt) -> Num {
        Num::ratio(BigRational::new(n, d))
    }

    /// The complex number `re + im i` of two real numbers.
    pub fn rect(re: Num, im: Num) -> Num {
        debug_assert!(re.is_real() && im.is_real());
        if im.is_exact() && im.is_zero() {
            return re;
        }
        if re.is_exact() && im.is_exact() {
            Num::Cpx(Box::new(Complex { re, im }))
        } else {
            Num::Cpx(Box::new(Complex {
                re: Num::Flo(re.to_f64()),
                im: Num::Flo(im.to_f64()),
            }))
        }
    }

    // ---- decoding and encoding ----

    /// The number `v` holds, or `None` when it is not a number.
    pub fn of(v: Value) -> Option<Num> {
        if v.is_fixnum() {
            return Some(Num::Fix(v.as_fixnum()));
        }
        Some(match v.obj_type()? {
            ObjType::Flonum => Num::Flo(v.as_flonum()),
            ObjType::Bignum => Num::Big(read_bignum(v)),
            ObjType::Rational => {
                let n = exact_integer_of(v.field(0));
                let d = exact_integer_of(v.field(1));
                Num::Rat(BigRational::new_raw(n, d))
            }
            ObjType::Complex => Num::Cpx(Box::new(Complex {
                re: Num::of(v.field(0))?,
                im: Num::of(v.field(1))?,
            })),
            _ => return None,
        })
    }

    /// The number as a value (allocates for all but fixnums).
    pub fn into_value(self) -> Value {
        match self {
            Num::Fix(n) => Value::fixnum(n),
            Num::Flo(x) => crate::object::make_flonum(x),
            Num::Big(n) => write_bignum(&n),
            Num::Rat(r) => {
                let (n, d) = r.into_raw();
                pair_object(ObjType::Rational, Num::int(n), Num::int(d))
            }
            Num::Cpx(c) => {
                let Complex { re, im } = *c;
                pair_object(ObjType::Complex, re, im)
            }
        }
    }

    // ---- classification ----

    pub fn is_exact(&self) -> bool {
        match self {
            Num::Fix(_) | Num::Big(_) | Num::Rat(_) => true,
            Num::Flo(_) => false,
            Num::Cpx(c) => c.re.is_exact(),
        }
    }

    pub fn is_real(&self) -> bool {
        !matches!(self, Num::Cpx(_))
    }

    /// An exact integer.
    pub fn is_exact_integer(&self) -> bool {
        matches!(self, Num::Fix(_) | Num::Big(_))
    }

    /// An integer: exact, or an integral flonum.
    pub fn is_integer(&self) -> bool {
        match self {
            Num::Fix(_) | Num::Big(_) => true,
            Num::Flo(x) => x.is_finite() && x.fract() == 0.0,
            _ => false,
        }
    }

    /// A rational: exact real, or a finite flonum.
    pub fn is_rational(&self) -> bool {
        match self {
            Num::Fix(_) | Num::Big(_) | Num::Rat(_) => true,
            Num::Flo(x) => x.is_finite(),
            Num::Cpx(_) => false,
        }
    }

    pub fn is_zero(&self) -> bool {
        match self {
            Num::Fix(n) => *n == 0,
            Num::Flo(x) => *x == 0.0,
            // Canonical bignums and rationals are never zero.
            Num::Big(_) | Num::Rat(_) => false,
            Num::Cpx(c) => c.re.is_zero() && c.im.is_zero(),
        }
    }

    /// The sign of a real number: -1, 0 or 1 (0 for NaN).
    pub fn signum(&self) -> i32 {
        match self {
            Num::Fix(n) => n.signum() as i32,
            Num::Big(n) => sign_of(n.sign()),
            Num::Rat(r) => sign_of(r.numer().sign()),
            Num::Flo(x) => {
                if *x > 0.0 {
                    1
                } else if *x < 0.0 {
                    -1
                } else {
                    0
                }
            }
            Num::Cpx(_) => 0,
        }
    }

    // ---- conversions ----

    /// An exact integer as a `BigInt` (`None` for other numbers).
    pub fn to_bigint(&self) -> Option<BigInt> {
        match self {
            Num::Fix(n) => Some(BigInt::from(*n)),
            Num::Big(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// An exact real as a rational (`None` for other numbers).
    pub fn to_ratio(&self) -> Option<BigRational> {
        match self {
            Num::Fix(n) => Some(BigRational::from_integer(BigInt::from(*n))),
            Num::Big(n) => Some(BigRational::from_integer(n.clone())),
            Num::Rat(r) => Some(r.clone()),
            _ => None,
        }
    }

    /// A real number as the nearest flonum (ties to even).
    pub fn to_f64(&self) -> f64 {
        match self {
            Num::Fix(n) => *n as f64,
            Num::Big(n) => bigint_to_f64(n),
            Num::Rat(r) => ratio_to_f64(r.numer(), r.denom()),
            Num::Flo(x) => *x,
            Num::Cpx(c) => c.re.to_f64(),
        }
    }

    /// The exact number equal to a finite flonum (`None` for infinities
    /// and NaN).
    pub fn exact_of_f64(x: f64) -> Option<Num> {
        if !x.is_finite() {
            return None;
        }
        if x.fract() == 0.0 && x.abs() < 9.0e18 {
            return Some(Num::from_i128(x as i128));
        }
        let bits = x.to_bits();
        let negative = bits >> 63 == 1;
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        // x = mantissa * 2^power
        let (mantissa, power) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), exp - 1075)
        };
        let mut m = BigInt::from(mantissa);
        if negative {
            m = -m;
        }
        Some(if power >= 0 {
            Num::int(m << power as usize)
        } else {
            Num::fraction(m, BigInt::one() << (-power) as usize)
        })
    }

    /// The inexact number nearest to this one.
    pub fn to_inexact(&self) -> Num {
        match self {
            Num::Cpx(c) => Num::Cpx(Box::new(Complex {
                re: Num::Flo(c.re.to_f64()),
                im: Num::Flo(c.im.to_f64()),
            })),
            n => Num::Flo(n.to_f64()),
        }
    }

    /// The exact number equal to this one (`None` when a part is infinite
    /// or NaN).
    pub fn to_exact(&self) -> Option<Num> {
        match self {
            Num::Flo(x) => Num::exact_of_f64(*x),
            Num::Cpx(c) => {
                let re = c.re.to_exact()?;
                let im = c.im.to_exact()?;
                Some(Num::rect(re, im))
            }
            n => Some(n.clone()),
        }
    }
}

fn sign_of(s: Sign) -> i32 {
    match s {
        Sign::Minus => -1,
        Sign::NoSign => 0,
        Sign::Plus => 1,
    }
}

/// The exact integer held by `v` (a fixnum or a bignum).
fn exact_integer_of(v: Value) -> BigInt {
    if v.is_fixnum() {
        BigInt::from(v.as_fixnum())
    } else {
        read_bignum(v)
    }
}

/// The limb count and sign of a bignum object.
fn bignum_header(v: Value) -> (usize, bool) {
    let w = v.raw(0);
    ((w & !BIGNUM_NEGATIVE) as usize, w & BIGNUM_NEGATIVE != 0)
}

/// A bignum object's value.
pub fn read_bignum(v: Value) -> BigInt {
    let (n, negative) = bignum_header(v);
    // SAFETY: a bignum (caller checked) holds `n` u64 limbs after its
    // first word; they are read at once, before any allocation on the Valk
    // heap could move the object. On a little-endian machine (checked
    // above) the limbs are also `2n` u32 digits in the same order.
    let digits = unsafe { std::slice::from_raw_parts(v.payload_ptr(1) as *const u32, 2 * n) };
    let mag = BigUint::from_slice(digits);
    BigInt::from_biguint(if negative { Sign::Minus } else { Sign::Plus }, mag)
}

/// The limbs and sign of a bignum object, without copying (for `eqv?`,
/// comparisons and hashing). Invalid after the next allocation.
pub fn bignum_limbs<'a>(v: Value) -> (&'a [u64], bool) {
    let (n, negative) = bignum_header(v);
    // SAFETY: as in `read_bignum`; the caller uses the slice before the
    // next allocation.
    let limbs = unsafe { std::slice::from_raw_parts(v.payload_ptr(1) as *const u64, n) };
    (limbs, negative)
}

/// A bignum object for `n` (which is outside fixnum range).
fn write_bignum(n: &BigInt) -> Value {
    let limbs: Vec<u64> = n.magnitude().iter_u64_digits().collect();
    bignum_object(&limbs, n.sign() == Sign::Minus)
}

/// A bignum object of `limbs` (no leading zero limb).
fn bignum_object(limbs: &[u64], negative: bool) -> Value {
    let v = gc::alloc(ObjType::Bignum, 1 + limbs.len());
    let sign = if negative { BIGNUM_NEGATIVE } else { 0 };
    v.set_raw(0, limbs.len() as u64 | sign);
    for (i, &l) in limbs.iter().enumerate() {
        v.set_raw(1 + i, l);
    }
    v
}

// ---- small exact integers, without `BigInt` ----
//
// Integers of at most 64 bits of magnitude (fixnums and one-limb bignums)
// are added, subtracted and multiplied in `i128` by the builtins: a
// counter that has left fixnum range then costs one heap object per
// operation, not the decoding into `BigInt`s (docs/numbers.md).

/// The value of a fixnum or a one-limb bignum.
#[inline]
pub fn small_int(v: Value) -> Option<i128> {
    if v.is_fixnum() {
        return Some(v.as_fixnum() as i128);
    }
    if !v.has_type(ObjType::Bignum) {
        return None;
    }
    let (limbs, negative) = bignum_limbs(v);
    match limbs {
        [m] => Some(if negative { -(*m as i128) } else { *m as i128 }),
        _ => None,
    }
}

/// The exact integer `n`: a fixnum, or a bignum of one or two limbs.
pub fn int_value(n: i128) -> Value {
    if let Some(v) = i64::try_from(n).ok().and_then(Value::try_fixnum) {
        return v;
    }
    let m = n.unsigned_abs();
    let (lo, hi) = (m as u64, (m >> 64) as u64);
    if hi == 0 {
        bignum_object(&[lo], n < 0)
    } else {
        bignum_object(&[lo, hi], n < 0)
    }
}

/// A two-field number object (a rational or a complex number).
fn pair_object(ty: ObjType, a: Num, b: Num) -> Value {
    let s = Scope::new();
    let x = s.root(a.into_value());
    let y = s.root(b.into_value());
    let v = gc::alloc(ty, 2);
    v.set_field(0, x.get());
    v.set_field(1, y.get());
    v
}

// ---- exact to inexact, correctly rounded ----

/// `m * 2^e` for a flonum `m`, exact unless the result over- or
/// underflows.
fn scale(mut m: f64, mut e: i64) -> f64 {
    // Steps that stay within the normal range keep the product exact.
    while e > 1000 {
        m *= 2f64.powi(1000);
        e -= 1000;
        if m.is_infinite() {
            return m;
        }
    }
    while e < -1000 {
        m *= 2f64.powi(-1000);
        e += 1000;
        if m == 0.0 {
            return m;
        }
    }
    m * 2f64.powi(e as i32)
}

/// The top 64 bits of `n` (`n.bits() > 64`), with the lowest set when any
/// bit below them is: rounding that to 53 bits rounds `n` correctly.
fn top64_sticky(n: &BigUint) -> u64 {
    let shift = n.bits() - 64;
    let top = (n >> shift).to_u64().unwrap_or(u64::MAX);
    let rest_nonzero = n.trailing_zeros().is_some_and(|z| z < shift);
    top | rest_nonzero as u64
}

fn biguint_to_f64(n: &BigUint) -> f64 {
    if n.bits() <= 64 {
        return n.to_u64().unwrap_or(0) as f64;
    }
    let shift = n.bits() - 64;
    scale(top64_sticky(n) as f64, shift as i64)
}

pub fn bigint_to_f64(n: &BigInt) -> f64 {
    let m = biguint_to_f64(n.magnitude());
    if n.sign() == Sign::Minus {
        -m
    } else {
        m
    }
}

/// `n / d` (`d > 0`) as the nearest flonum, ties to even, subnormals
/// included.
fn ratio_to_f64(n: &BigInt, d: &BigInt) -> f64 {
    let negative = n.sign() == Sign::Minus;
    let (n, d) = (n.magnitude(), d.magnitude());
    if n.is_zero() {
        return 0.0;
    }
    let apply_sign = |x: f64| if negative { -x } else { x };
    if n.bits() <= 53 && d.bits() <= 53 {
        // Both exact as flonums: one correctly rounded division.
        return apply_sign(n.to_u64().unwrap_or(0) as f64 / d.to_u64().unwrap_or(1) as f64);
    }
    // q = floor(n * 2^k / d) gets 65 or 66 bits, unless the result is
    // subnormal: then k = 1074 and q is the result in units of 2^-1074.
    let mut k = 65 + d.bits() as i64 - n.bits() as i64;
    let subnormal = k > 1086;
    if subnormal {
        k = 1074;
    }
    let (num, den) = if k >= 0 {
        (n << k as usize, d.clone())
    } else {
        (n.clone(), d << (-k) as usize)
    };
    let (q, r) = num.div_rem(&den);
    if q.bits() > 64 {
        let shift = q.bits() - 64;
        let mut top = top64_sticky(&q);
        top |= !r.is_zero() as u64;
        return apply_sign(scale(top as f64, shift as i64 - k));
    }
    let q64 = q.to_u64().unwrap_or(0);
    if q64 >= 1 << 53 && !subnormal {
        // 54..64 bits: fold the remainder into the sticky bit.
        let x = (q64 | !r.is_zero() as u64) as f64;
        return apply_sign(scale(x, -k));
    }
    // Round q to an integer, ties to even; q < 2^53 is then exact.
    let twice_r: BigUint = &r << 1usize;
    let up = match twice_r.cmp(&den) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q64 & 1 == 1,
        std::cmp::Ordering::Less => false,
    };
    let q = q64 + up as u64;
    apply_sign(scale(q as f64, -k))
}

#[cfg(test)]
mod tests;
