//! Scheme number syntax (R7RS 7.1.1) for the numbers Valk can represent:
//! fixnums and flonums. Shared by the reader and `string->number`.
//!
//! `Ok(None)` means the text is not number syntax at all (the reader then
//! makes it a symbol); `Err` means it is a number Valk cannot represent yet
//! (bignums, exact rationals, complex numbers).

use crate::value::{FIXNUM_MAX, FIXNUM_MIN};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Fixnum(i64),
    Flonum(f64),
}

const OUT_OF_RANGE: &str = "integer literal out of range (bignums are not supported yet)";
const RATIONAL: &str = "exact rationals are not supported yet";
const COMPLEX: &str = "complex numbers are not supported yet";

/// Parses `text` as a number. `default_radix` (2, 8, 10 or 16) applies when
/// the text has no radix prefix.
pub fn parse_number(text: &str, default_radix: u32) -> Result<Option<Number>, String> {
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
    match parse_real(s, radix, exact)? {
        Some(n) => Ok(Some(n)),
        None if looks_complex(s, radix) => Err(COMPLEX.to_string()),
        None => Ok(None),
    }
}

/// `<real R>`: signed integer, rational, decimal (radix 10) or inf/nan.
fn parse_real(s: &[u8], radix: u32, exact: Option<bool>) -> Result<Option<Number>, String> {
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
        return Ok(Some(Number::Flonum(if s[0] == b'-' { -v } else { v })));
    }
    parse_signed(s, radix, exact)
}

fn parse_signed(s: &[u8], radix: u32, exact: Option<bool>) -> Result<Option<Number>, String> {
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
        return Ok(Some(integer(neg, body, radix, exact)?));
    }
    if radix == 10 {
        return parse_decimal(neg, body, exact);
    }
    Ok(None)
}

fn digit_value(c: u8, radix: u32) -> Option<u32> {
    (c as char).to_digit(radix)
}

fn is_digits(s: &[u8], radix: u32) -> bool {
    !s.is_empty() && s.iter().all(|&c| digit_value(c, radix).is_some())
}

/// The magnitude of a digit string, or `None` when it does not fit in i128.
fn magnitude(digits: &[u8], radix: u32) -> Option<i128> {
    let mut acc: i128 = 0;
    for &c in digits {
        let d = digit_value(c, radix)? as i128;
        acc = acc.checked_mul(radix as i128)?.checked_add(d)?;
    }
    Some(acc)
}

/// A digit string as a float: correctly rounded in radix 10.
fn magnitude_f64(digits: &[u8], radix: u32) -> f64 {
    if radix == 10 {
        // The digits are ASCII, so this is valid UTF-8 and valid f64 syntax.
        return std::str::from_utf8(digits)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
    }
    digits.iter().fold(0.0, |acc, &c| {
        acc * radix as f64 + digit_value(c, radix).unwrap_or(0) as f64
    })
}

fn fixnum(neg: bool, mag: Option<i128>) -> Result<Number, String> {
    let v = mag.map(|m| if neg { -m } else { m });
    match v {
        Some(v) if (FIXNUM_MIN as i128..=FIXNUM_MAX as i128).contains(&v) => {
            Ok(Number::Fixnum(v as i64))
        }
        _ => Err(OUT_OF_RANGE.to_string()),
    }
}

fn signed_f64(neg: bool, v: f64) -> Number {
    Number::Flonum(if neg { -v } else { v })
}

fn integer(neg: bool, digits: &[u8], radix: u32, exact: Option<bool>) -> Result<Number, String> {
    if exact == Some(false) {
        return Ok(signed_f64(neg, magnitude_f64(digits, radix)));
    }
    fixnum(neg, magnitude(digits, radix))
}

fn parse_rational(
    neg: bool,
    num: &[u8],
    den: &[u8],
    radix: u32,
    exact: Option<bool>,
) -> Result<Option<Number>, String> {
    if !is_digits(num, radix) || !is_digits(den, radix) {
        return Ok(None);
    }
    if exact == Some(false) {
        let v = magnitude_f64(num, radix) / magnitude_f64(den, radix);
        return Ok(Some(signed_f64(neg, v)));
    }
    let (Some(n), Some(d)) = (magnitude(num, radix), magnitude(den, radix)) else {
        return Err(RATIONAL.to_string());
    };
    if d == 0 {
        return Err("division by zero in a number literal".to_string());
    }
    if n % d != 0 {
        return Err(RATIONAL.to_string());
    }
    fixnum(neg, Some(n / d)).map(Some)
}

/// `<decimal 10>`: digits with an optional point and an optional exponent.
fn parse_decimal(neg: bool, body: &[u8], exact: Option<bool>) -> Result<Option<Number>, String> {
    let mut i = 0;
    let int_start = i;
    while i < body.len() && body[i].is_ascii_digit() {
        i += 1;
    }
    let int_part = &body[int_start..i];
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
        Ok(v) => Ok(Some(Number::Flonum(v))),
        Err(_) => Ok(None),
    }
}

fn ascii<'a>(digits: &'a [u8], empty: &'a str) -> &'a str {
    match std::str::from_utf8(digits) {
        Ok("") | Err(_) => empty,
        Ok(s) => s,
    }
}

/// `#e` applied to a decimal: exact only when the value is an integer.
fn exact_decimal(
    neg: bool,
    int_part: &[u8],
    frac_part: &[u8],
    exp_neg: bool,
    exp_digits: &[u8],
) -> Result<Number, String> {
    let mut digits: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    let lead = digits.iter().take_while(|&&c| c == b'0').count();
    digits.drain(..lead);
    if digits.is_empty() {
        return Ok(Number::Fixnum(0));
    }
    // Saturate huge exponents: any value past this is out of range anyway.
    let e = exp_digits
        .iter()
        .try_fold(0i64, |acc, &c| {
            acc.checked_mul(10)?.checked_add((c - b'0') as i64)
        })
        .unwrap_or(i64::MAX / 4)
        .min(1 << 40);
    let mut exp = if exp_neg { -e } else { e } - frac_part.len() as i64;
    while digits.last() == Some(&b'0') {
        digits.pop();
        exp += 1;
    }
    if exp < 0 {
        return Err(RATIONAL.to_string());
    }
    if digits.len() as i64 + exp > 30 {
        return Err(OUT_OF_RANGE.to_string());
    }
    let mut mag = magnitude(&digits, 10);
    for _ in 0..exp {
        mag = mag.and_then(|m| m.checked_mul(10));
    }
    fixnum(neg, mag)
}

/// Rectangular (`1+2i`, `-3.5i`) or polar (`1@2`) complex syntax.
fn looks_complex(s: &[u8], radix: u32) -> bool {
    if let Some(at) = s.iter().position(|&c| c == b'@') {
        let real = |part: &[u8]| matches!(parse_real(part, radix, None), Ok(Some(_)) | Err(_));
        return real(&s[..at]) && real(&s[at + 1..]);
    }
    let Some((&last, rest)) = s.split_last() else {
        return false;
    };
    if !matches!(last, b'i' | b'I') {
        return false;
    }
    let has_digit = rest.iter().any(|&c| digit_value(c, radix).is_some());
    let numeric = rest.iter().all(|&c| {
        digit_value(c, radix).is_some() || matches!(c, b'+' | b'-' | b'.' | b'/' | b'e' | b'E')
    });
    has_digit && numeric && matches!(rest.first(), Some(b'+' | b'-' | b'0'..=b'9' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> i64 {
        match parse_number(s, 10) {
            Ok(Some(Number::Fixnum(n))) => n,
            other => panic!("{s}: {other:?}"),
        }
    }
    fn flo(s: &str) -> f64 {
        match parse_number(s, 10) {
            Ok(Some(Number::Flonum(x))) => x,
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
        assert_eq!(parse_number("ff", 16), Ok(Some(Number::Fixnum(255))));
        assert_eq!(parse_number("#d10", 16), Ok(Some(Number::Fixnum(10))));
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
        assert_eq!(err("#e1.5"), RATIONAL);
        assert_eq!(err("#e1e-1"), RATIONAL);
        assert_eq!(err("#e1e30"), OUT_OF_RANGE);
        assert_eq!(err("#e1e99999999999999999999"), OUT_OF_RANGE);
        assert_eq!(flo("#i1/2"), 0.5);
        assert_eq!(flo("#i1.5"), 1.5);
    }

    #[test]
    fn numparse_errors() {
        assert_eq!(err(&(FIXNUM_MAX as i128 + 1).to_string()), OUT_OF_RANGE);
        assert_eq!(err(&(FIXNUM_MIN as i128 - 1).to_string()), OUT_OF_RANGE);
        assert_eq!(
            err("123456789012345678901234567890123456789012345"),
            OUT_OF_RANGE
        );
        assert_eq!(err("#xffffffffffffffff"), OUT_OF_RANGE);
        assert_eq!(
            flo("#i123456789012345678901234567890"),
            123456789012345678901234567890.0
        );
        assert_eq!(err("1/2"), RATIONAL);
        assert_eq!(err("-3/4"), RATIONAL);
        assert_eq!(fix("4/2"), 2);
        assert_eq!(fix("-6/3"), -2);
        assert!(err("1/0").contains("division by zero"));
        assert_eq!(err("1+2i"), COMPLEX);
        assert_eq!(err("-2.5i"), COMPLEX);
        assert_eq!(err("1@2"), COMPLEX);
        none("+i");
        none("-i");
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
}
