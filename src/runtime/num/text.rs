//! Number syntax (R7RS 7.1.1) and number printing, shared by the reader,
//! `string->number`, `number->string` and the printer (docs/numbers.md).
//!
//! [`parse_number`] gives `Ok(None)` for text that is not number syntax
//! (the reader then makes it a symbol, `string->number` returns `#f`) and
//! `Err` for text shaped like a number that denotes none (`1/0`, `#e+inf.0`,
//! an exact exponent too large to build), which the reader reports;
//! `string->number` returns `#f` for both.

use super::{arith, Num};
use crate::printer::format_flonum;
use num_bigint::BigInt;
use num_traits::Num as _;

/// Exact decimal exponents beyond this are refused (`#e1e400` is fine; a
/// number with a billion digits is not a literal anyone means).
const MAX_EXACT_EXPONENT: i64 = 100_000;

/// Parses `text` as a number. `default_radix` (2, 8, 10 or 16) applies when
/// the text has no radix prefix.
pub fn parse_number(text: &str, default_radix: u32) -> Result<Option<Num>, String> {
    let mut s = text.as_bytes();
    let mut radix = None;
    let mut exact = None;
    // At most one radix and one exactness prefix, in either order.
    while s.first() == Some(&b'#') {
        let Some(&c) = s.get(1) else {
            return Ok(None);
        };
        match c.to_ascii_lowercase() {
            b'x' if radix.is_none() => radix = Some(16),
            b'd' if radix.is_none() => radix = Some(10),
            b'o' if radix.is_none() => radix = Some(8),
            b'b' if radix.is_none() => radix = Some(2),
            b'e' if exact.is_none() => exact = Some(true),
            b'i' if exact.is_none() => exact = Some(false),
            _ => return Ok(None),
        }
        s = &s[2..];
    }
    let radix = radix.unwrap_or(default_radix);
    if !matches!(radix, 2 | 8 | 10 | 16) {
        return Ok(None);
    }
    parse_complex(s, radix, exact)
}

/// `<complex R>`: a real, `r@θ`, `a+bi`, `+bi`, `a+i`, `+i`.
fn parse_complex(s: &[u8], radix: u32, exact: Option<bool>) -> Result<Option<Num>, String> {
    if let Some(at) = s.iter().position(|&c| c == b'@') {
        let (Some(m), Some(a)) = (
            parse_real(&s[..at], radix, exact)?,
            parse_real(&s[at + 1..], radix, exact)?,
        ) else {
            return Ok(None);
        };
        let z = arith::make_polar(&m, &a);
        return Ok(Some(if exact == Some(true) {
            z.to_exact().ok_or("a polar number cannot be exact")?
        } else {
            z
        }));
    }
    let Some((&last, body)) = s.split_last() else {
        return Ok(None);
    };
    if !matches!(last, b'i' | b'I') {
        return parse_real(s, radix, exact);
    }
    // The imaginary part starts at the last sign that is not the first
    // character and not an exponent's sign.
    let split = (1..body.len()).rev().find(|&k| {
        matches!(body[k], b'+' | b'-') && !(radix == 10 && matches!(body[k - 1], b'e' | b'E'))
    });
    let (re_text, im_text) = match split {
        Some(k) => (&body[..k], &body[k..]),
        None => (&body[..0], body),
    };
    if !matches!(im_text.first(), Some(b'+' | b'-')) {
        return Ok(None);
    }
    let im = if im_text.len() == 1 {
        let one = if exact == Some(false) {
            Num::Flo(1.0)
        } else {
            Num::Fix(1)
        };
        if im_text[0] == b'-' {
            arith::neg(&one)
        } else {
            one
        }
    } else {
        match parse_real(im_text, radix, exact)? {
            Some(n) => n,
            None => return Ok(None),
        }
    };
    let re = if re_text.is_empty() {
        if im.is_exact() {
            Num::Fix(0)
        } else {
            Num::Flo(0.0)
        }
    } else {
        match parse_real(re_text, radix, exact)? {
            Some(n) => n,
            None => return Ok(None),
        }
    };
    Ok(Some(Num::rect(re, im)))
}

/// `<real R>`: a signed integer, rational, decimal (radix 10) or inf/nan.
fn parse_real(s: &[u8], radix: u32, exact: Option<bool>) -> Result<Option<Num>, String> {
    if s.len() == 6 && matches!(s[0], b'+' | b'-') {
        let body = s[1..].to_ascii_lowercase();
        let v = match &body[..] {
            b"inf.0" => f64::INFINITY,
            b"nan.0" => f64::NAN,
            _ => return parse_signed(s, radix, exact),
        };
        if exact == Some(true) {
            return Err("an infinity or NaN cannot be exact".to_string());
        }
        return Ok(Some(Num::Flo(if s[0] == b'-' { -v } else { v })));
    }
    parse_signed(s, radix, exact)
}

fn parse_signed(s: &[u8], radix: u32, exact: Option<bool>) -> Result<Option<Num>, String> {
    let (neg, body) = match s.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Ok(None);
    }
    if let Some(slash) = body.iter().position(|&c| c == b'/') {
        return parse_rational(neg, &body[..slash], &body[slash + 1..], radix, exact);
    }
    if is_digits(body, radix) {
        let n = signed(neg, integer(body, radix));
        return Ok(Some(with_exactness(n, exact)));
    }
    if radix == 10 {
        return parse_decimal(neg, body, exact);
    }
    Ok(None)
}

fn is_digits(s: &[u8], radix: u32) -> bool {
    !s.is_empty() && s.iter().all(|&c| (c as char).is_digit(radix))
}

/// The exact integer a digit string denotes (the digits are valid).
fn integer(digits: &[u8], radix: u32) -> Num {
    if digits.len() <= 15 {
        // Fits an i64 in every radix up to 16: no bignum on the common path.
        let n = digits.iter().fold(0i64, |acc, &c| {
            acc * radix as i64 + (c as char).to_digit(radix).unwrap_or(0) as i64
        });
        return Num::from_i128(n as i128);
    }
    let text = std::str::from_utf8(digits).unwrap_or("0");
    Num::int(BigInt::from_str_radix(text, radix).unwrap_or_default())
}

fn signed(neg: bool, n: Num) -> Num {
    if neg {
        arith::neg(&n)
    } else {
        n
    }
}

/// An exact number made inexact under `#i`.
fn with_exactness(n: Num, exact: Option<bool>) -> Num {
    if exact == Some(false) {
        n.to_inexact()
    } else {
        n
    }
}

fn parse_rational(
    neg: bool,
    num: &[u8],
    den: &[u8],
    radix: u32,
    exact: Option<bool>,
) -> Result<Option<Num>, String> {
    if !is_digits(num, radix) || !is_digits(den, radix) {
        return Ok(None);
    }
    let (n, d) = (integer(num, radix), integer(den, radix));
    match arith::div(&n, &d) {
        Some(q) => Ok(Some(with_exactness(signed(neg, q), exact))),
        None => Err("division by zero in a number literal".to_string()),
    }
}

/// `<decimal 10>`: digits with an optional point and an optional exponent.
fn parse_decimal(neg: bool, body: &[u8], exact: Option<bool>) -> Result<Option<Num>, String> {
    let mut i = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &body[..i];
    let mut frac_part: &[u8] = &[];
    if i < body.len() && body[i] == b'.' {
        i += 1;
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        frac_part = &body[start..i];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Ok(None);
    }
    let mut exp_neg = false;
    let mut exp_digits: &[u8] = &[];
    if i < body.len() && matches!(body[i], b'e' | b'E') {
        i += 1;
        if i < body.len() && matches!(body[i], b'+' | b'-') {
            exp_neg = body[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        exp_digits = &body[start..i];
        if exp_digits.is_empty() {
            return Ok(None);
        }
    }
    if i != body.len() {
        return Ok(None);
    }
    if exact == Some(true) {
        return exact_decimal(neg, int_part, frac_part, exp_neg, exp_digits).map(Some);
    }
    // Rebuild a plain `d.dEsd` string so that Rust's correctly rounded
    // parser sees nothing but syntax it accepts.
    let mut norm = String::with_capacity(body.len() + 8);
    norm.push(if neg { '-' } else { '+' });
    norm.push_str(ascii(int_part, "0"));
    norm.push('.');
    norm.push_str(ascii(frac_part, "0"));
    if !exp_digits.is_empty() {
        norm.push('e');
        norm.push(if exp_neg { '-' } else { '+' });
        norm.push_str(ascii(exp_digits, "0"));
    }
    match norm.parse::<f64>() {
        Ok(v) => Ok(Some(Num::Flo(v))),
        Err(_) => Ok(None),
    }
}

fn ascii<'a>(digits: &'a [u8], empty: &'a str) -> &'a str {
    match std::str::from_utf8(digits) {
        Ok("") | Err(_) => empty,
        Ok(s) => s,
    }
}

/// `#e` applied to a decimal: the exact value of the digits.
fn exact_decimal(
    neg: bool,
    int_part: &[u8],
    frac_part: &[u8],
    exp_neg: bool,
    exp_digits: &[u8],
) -> Result<Num, String> {
    let digits: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    let mantissa = integer(&digits, 10);
    if mantissa.is_zero() {
        return Ok(Num::Fix(0));
    }
    let e = exp_digits
        .iter()
        .try_fold(0i64, |acc, &c| {
            acc.checked_mul(10)?.checked_add((c - b'0') as i64)
        })
        .unwrap_or(i64::MAX / 4);
    let exp = if exp_neg { -e } else { e } - frac_part.len() as i64;
    if exp.abs() > MAX_EXACT_EXPONENT {
        return Err("the exponent of an exact number literal is too large".to_string());
    }
    let scale = Num::int(num_traits::pow(
        BigInt::from(10),
        exp.unsigned_abs() as usize,
    ));
    let v = if exp >= 0 {
        arith::mul(&mantissa, &scale)
    } else {
        arith::div(&mantissa, &scale).unwrap_or(Num::Fix(0))
    };
    Ok(signed(neg, v))
}

impl Num {
    /// The number a canonical representation written by [`format_number`]
    /// denotes (a constant of compiled code); 0 for text that is not one,
    /// which the compiler never produces.
    pub fn read_canonical(text: &str) -> Num {
        match parse_number(text, 10) {
            Ok(Some(n)) => n,
            _ => Num::Fix(0),
        }
    }
}

// ---- printing ----

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

/// The external representation of `n` in `radix` (flonums: radix 10
/// only; the caller checks).
pub fn format_number(n: &Num, radix: u32) -> String {
    match n {
        Num::Fix(k) => format_fixnum(*k, radix),
        Num::Big(b) => b.to_str_radix(radix),
        Num::Rat(r) => format!(
            "{}/{}",
            r.numer().to_str_radix(radix),
            r.denom().to_str_radix(radix)
        ),
        Num::Flo(x) => format_flonum(*x),
        Num::Cpx(c) => {
            let re = format_number(&c.re, radix);
            let im = format_number(&c.im, radix);
            if im.starts_with(['+', '-']) {
                format!("{re}{im}i")
            } else {
                format!("{re}+{im}i")
            }
        }
    }
}

/// Whether `n` has a representation in `radix` (inexact numbers are
/// written in radix 10 only).
pub fn printable_in(n: &Num, radix: u32) -> bool {
    radix == 10 || n.is_exact()
}

#[cfg(test)]
mod tests;
