//! Bitwise operations on exact integers, the core of SRFI 151
//! (docs/srfi.md). They are builtins because the library's other names are
//! written in Valk on top of them, and bignum operands need two's-complement
//! arithmetic on the whole magnitude. Fixnum operands never leave `i64`.

use super::{fixed, var, Builtin};
use crate::error::{self, VResult};
use crate::num::{self, Num};
use crate::value::Value;
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

/// An exact integer argument as a `BigInt` (the slow path).
fn big(who: &str, v: Value) -> VResult<BigInt> {
    match Num::of(v) {
        Some(n) if n.is_exact_integer() => Ok(n.to_bigint().unwrap_or_default()),
        _ => Err(error::wrong_type(who, "an exact integer", v)),
    }
}

fn done(n: BigInt) -> VResult {
    Ok(Num::int(n).into_value())
}

/// Folds a bitwise operator over the arguments, starting from `unit`;
/// stays on fixnums while every argument is one.
fn fold(
    who: &str,
    args: &[Value],
    unit: i64,
    small: fn(i64, i64) -> i64,
    wide: fn(BigInt, BigInt) -> BigInt,
) -> VResult {
    let mut acc = unit;
    let mut i = 0;
    while i < args.len() {
        match args[i].fixnum_value() {
            Some(x) => acc = small(acc, x),
            None => break,
        }
        i += 1;
    }
    if i == args.len() {
        // Bitwise and/or/xor of fixnums is a fixnum.
        return Ok(Value::fixnum(acc));
    }
    let mut acc = BigInt::from(acc);
    for &a in &args[i..] {
        acc = wide(acc, big(who, a)?);
    }
    done(acc)
}

fn bitwise_and(args: &[Value]) -> VResult {
    fold("bitwise-and", args, -1, |a, b| a & b, |a, b| a & b)
}

fn bitwise_ior(args: &[Value]) -> VResult {
    fold("bitwise-ior", args, 0, |a, b| a | b, |a, b| a | b)
}

fn bitwise_xor(args: &[Value]) -> VResult {
    fold("bitwise-xor", args, 0, |a, b| a ^ b, |a, b| a ^ b)
}

fn bitwise_not(args: &[Value]) -> VResult {
    if let Some(x) = args[0].fixnum_value() {
        return Ok(Value::fixnum(!x));
    }
    done(-big("bitwise-not", args[0])? - 1)
}

/// `(arithmetic-shift n count)`: `n` times 2^count, rounded toward minus
/// infinity when `count` is negative.
fn arithmetic_shift(args: &[Value]) -> VResult {
    let who = "arithmetic-shift";
    let count = match args[1].fixnum_value() {
        Some(c) => c,
        None => {
            // A bignum count only makes sense for 0 or a right shift.
            let c = big(who, args[1])?;
            let n = big(who, args[0])?;
            if n.is_zero() || c.is_negative() {
                return Ok(Value::fixnum(if n.is_negative() { -1 } else { 0 }));
            }
            return Err(error::wrong_type(
                who,
                "a shift count of fixnum size",
                args[1],
            ));
        }
    };
    if let Some(x) = args[0].fixnum_value() {
        if count <= 0 {
            return Ok(Value::fixnum(x >> (-count).min(63)));
        }
        if count < 64 {
            return Ok(num::int_value((x as i128) << count));
        }
    }
    let n = big(who, args[0])?;
    if n.is_zero() {
        return Ok(Value::fixnum(0));
    }
    if count >= 0 {
        let c = usize::try_from(count).ok().filter(|&c| c < (1 << 34));
        match c {
            Some(c) => done(n << c),
            None => Err(error::wrong_type(
                who,
                "a shift count of reasonable size",
                args[1],
            )),
        }
    } else {
        let c = count.unsigned_abs();
        if c > n.bits() {
            return Ok(Value::fixnum(if n.is_negative() { -1 } else { 0 }));
        }
        done(n >> c as usize)
    }
}

/// `(bit-count n)`: the number of 1 bits of a non-negative `n`, of 0 bits
/// of a negative one.
fn bit_count(args: &[Value]) -> VResult {
    if let Some(x) = args[0].fixnum_value() {
        let x = if x < 0 { !x } else { x };
        return Ok(Value::fixnum(x.count_ones() as i64));
    }
    let n = big("bit-count", args[0])?;
    let n = if n.is_negative() { -n - 1 } else { n };
    let ones: u64 = n
        .magnitude()
        .iter_u64_digits()
        .map(|d| d.count_ones() as u64)
        .sum();
    Ok(Value::fixnum(ones as i64))
}

/// `(integer-length n)`: the number of bits needed for `n` besides the sign.
fn integer_length(args: &[Value]) -> VResult {
    if let Some(x) = args[0].fixnum_value() {
        let x = if x < 0 { !x } else { x };
        return Ok(Value::fixnum(64 - x.leading_zeros() as i64));
    }
    let n = big("integer-length", args[0])?;
    let n = if n.is_negative() { -n - 1 } else { n };
    Ok(Value::fixnum(n.bits().to_i64().unwrap_or(i64::MAX)))
}

pub(super) const BUILTINS: &[Builtin] = &[
    var("bitwise-and", 0, bitwise_and),
    var("bitwise-ior", 0, bitwise_ior),
    var("bitwise-xor", 0, bitwise_xor),
    fixed("bitwise-not", 1, bitwise_not),
    fixed("arithmetic-shift", 2, arithmetic_shift),
    fixed("bit-count", 1, bit_count),
    fixed("integer-length", 1, integer_length),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn bitwise() {
        let _g = lock();
        check_all(&[
            ("(bitwise-and)", "-1"),
            ("(bitwise-ior)", "0"),
            ("(bitwise-and 12 10)", "8"),
            ("(bitwise-ior 12 10)", "14"),
            ("(bitwise-xor 12 10 1)", "7"),
            ("(bitwise-not 0)", "-1"),
            ("(bitwise-not (expt 2 70))", "-1180591620717411303425"),
            (
                "(bitwise-and (- (expt 2 70)) (- (expt 2 71) 1))",
                "1180591620717411303424",
            ),
            ("(bitwise-xor (expt 2 64) 1)", "18446744073709551617"),
            ("(arithmetic-shift 1 64)", "18446744073709551616"),
            ("(arithmetic-shift -7 -1)", "-4"),
            ("(arithmetic-shift (expt 2 100) -99)", "2"),
            ("(arithmetic-shift (- (expt 2 100)) -200)", "-1"),
            ("(arithmetic-shift 5 -100)", "0"),
            ("(bit-count 13)", "3"),
            ("(bit-count -13)", "2"),
            ("(bit-count (- (expt 2 80) 1))", "80"),
            ("(integer-length 255)", "8"),
            ("(integer-length -256)", "8"),
            ("(integer-length (expt 2 90))", "91"),
        ]);
        check_errs(&[
            (
                "(bitwise-and 1 2.5)",
                "bitwise-and: expected an exact integer: 2.5",
            ),
            ("(bit-count 'a)", "bit-count: expected an exact integer: a"),
        ]);
    }
}
