//! The hash functions of hash tables (docs/hash-tables.md, "Equivalences and hashing").
//!
//! None of them allocates on the Valk heap, so a hash computed from an
//! object's address stays valid until the next allocation. Every function
//! that may look at an address reports it through `addr`, so a table knows
//! it must rehash after the collector moves objects.

use crate::num::Num;
use crate::object;
use crate::value::{ObjType, Value};

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Spreads the bits of `x` over the whole word, low bits included (tables
/// index with the low bits).
#[inline]
pub fn mix(x: u64) -> u64 {
    // The finaliser of MurmurHash3 (a public algorithm): every input bit
    // reaches every output bit, so arithmetic progressions (addresses of
    // consecutive objects, counters) do not cluster under linear probing.
    let mut h = x ^ (x >> 33);
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn combine(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(K)
}

/// The contents of a string, two code points per word as stored (the
/// unused half of an odd-length string's last word is masked).
pub fn string_hash(s: Value) -> u64 {
    let n = object::string_len(s);
    let mut h = n as u64;
    for i in 0..n / 2 {
        h = combine(h, s.raw(1 + i));
    }
    if n % 2 == 1 {
        h = combine(h, s.raw(1 + n / 2) & 0xffff_ffff);
    }
    mix(h)
}

/// The case-folded contents of a string (full folding, as `string-ci=?`).
pub fn string_ci_hash(s: Value) -> u64 {
    let folded = crate::unicode::fold_full(object::string_chars(s));
    let mut h = folded.len() as u64;
    for c in folded {
        h = combine(h, c as u64);
    }
    mix(h)
}

fn bytes_hash(v: Value) -> u64 {
    let bytes = object::bytevector_bytes_mut(v);
    let mut h = bytes.len() as u64 ^ 0x55;
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = combine(h, u64::from_le_bytes(w));
    }
    mix(h)
}

/// A symbol by its name: symbols are interned, so this agrees with `eq?`
/// and never changes when the symbol moves.
#[inline]
pub fn symbol_hash(s: Value) -> u64 {
    string_hash(s.field(0)) ^ 0x5bd1_e995
}

/// Numbers as `eqv?` sees them: exactness and value (flonums by bits).
pub fn eqv_number_hash(v: Value) -> u64 {
    if v.is_fixnum() {
        return mix(v.0);
    }
    match v.obj_type() {
        Some(ObjType::Flonum) => mix(v.raw(0) ^ 0x0f0f),
        Some(ObjType::Bignum) => {
            let (limbs, neg) = crate::num::bignum_limbs(v);
            let mut h = neg as u64;
            for &l in limbs {
                h = combine(h, l);
            }
            mix(h)
        }
        Some(ObjType::Rational | ObjType::Complex) => mix(combine(
            eqv_number_hash(v.field(0)),
            eqv_number_hash(v.field(1)),
        )),
        _ => mix(v.0),
    }
}

/// Numbers as `=` sees them: by the nearest flonum of each part, so an
/// exact number and an inexact one of the same value agree (distinct
/// numbers that round alike merely collide).
pub fn numeric_hash(v: Value) -> Option<u64> {
    fn real_bits(x: f64) -> u64 {
        // -0.0 = 0.0
        if x == 0.0 {
            0
        } else {
            x.to_bits()
        }
    }
    if v.is_fixnum() {
        return Some(mix(real_bits(v.as_fixnum() as f64)));
    }
    if v.is_flonum() {
        return Some(mix(real_bits(v.as_flonum())));
    }
    match Num::of(v)? {
        Num::Cpx(c) => Some(mix(combine(
            real_bits(c.re.to_f64()),
            real_bits(c.im.to_f64()),
        ))),
        n => Some(mix(real_bits(n.to_f64()))),
    }
}

/// The type of an object, for `stable` hashes of objects compared by
/// identity.
#[inline]
fn type_hash(v: Value) -> u64 {
    // `obj_type`, not the header: a pair has none.
    mix(v.obj_type().map_or(0xff, |t| t as u64) ^ 0x7e57)
}

#[inline]
fn address_hash(v: Value, addr: &mut bool) -> u64 {
    *addr = true;
    mix(v.0)
}

/// `eq?` hash: immediates by bits, symbols by name, other objects by
/// address (or by type when `stable`).
#[inline]
pub fn eq_hash(v: Value, stable: bool, addr: &mut bool) -> u64 {
    if !v.is_heap() {
        mix(v.0)
    } else if v.is_symbol() {
        symbol_hash(v)
    } else if stable {
        type_hash(v)
    } else {
        address_hash(v, addr)
    }
}

/// `eqv?` hash: `eq?` hash, numbers by value.
#[inline]
pub fn eqv_hash(v: Value, addr: &mut bool) -> u64 {
    if v.is_number() {
        eqv_number_hash(v)
    } else {
        eq_hash(v, false, addr)
    }
}

/// How many nodes an `equal?` hash looks at: enough to tell typical keys
/// apart, bounded so a huge (or circular) key costs a constant.
const EQUAL_BUDGET: i32 = 64;

/// `equal?` hash: structure of pairs and vectors (bounded), contents of
/// strings and bytevectors, numbers by value, other objects by address (or
/// by type when `stable`, as the `hash` procedure must be).
pub fn equal_hash(v: Value, stable: bool, addr: &mut bool) -> u64 {
    let mut budget = EQUAL_BUDGET;
    equal_walk(v, stable, addr, &mut budget)
}

fn equal_walk(v: Value, stable: bool, addr: &mut bool, budget: &mut i32) -> u64 {
    if *budget <= 0 {
        return 0x3c3c;
    }
    *budget -= 1;
    if !v.is_heap() {
        return mix(v.0);
    }
    match v.obj_type() {
        Some(ObjType::Pair) => {
            let a = equal_walk(v.car(), stable, addr, budget);
            let d = equal_walk(v.cdr(), stable, addr, budget);
            mix(combine(a ^ 0x11, d))
        }
        Some(ObjType::Vector) => {
            let mut h = v.size() as u64 ^ 0x22;
            for i in 0..v.size() {
                if *budget <= 0 {
                    break;
                }
                h = combine(h, equal_walk(v.field(i), stable, addr, budget));
            }
            mix(h)
        }
        Some(ObjType::String) => string_hash(v),
        Some(ObjType::Bytevector) => bytes_hash(v),
        Some(ObjType::Symbol) => symbol_hash(v),
        Some(ObjType::Flonum | ObjType::Bignum | ObjType::Rational | ObjType::Complex) => {
            eqv_number_hash(v)
        }
        _ if stable => type_hash(v),
        _ => address_hash(v, addr),
    }
}
