//! Characters.

use super::{char_arg, fixed, var, Builtin};
use crate::error::{self, VResult};
use crate::value::Value;

/// First code point of each run of ten decimal digits (Unicode category Nd).
const DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit character (any script).
pub fn digit_value(c: char) -> Option<u32> {
    let cp = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= cp);
    let zero = *DIGIT_ZEROS.get(i.checked_sub(1)?)?;
    (cp - zero < 10).then_some(cp - zero)
}

/// Simple (one-to-one) case mappings, as R7RS asks of the `char-` procedures.
pub fn upcase(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}
pub fn downcase(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}
/// Simple case folding (docs/unicode.md): `char-foldcase` and the
/// `char-ci` comparisons.
pub fn foldcase(c: char) -> char {
    crate::unicode::fold_simple(c)
}

fn is_char(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_char()))
}
fn char_to_integer(args: &[Value]) -> VResult {
    Ok(Value::fixnum(char_arg("char->integer", args[0])? as i64))
}
fn integer_to_char(args: &[Value]) -> VResult {
    let v = args[0];
    v.fixnum_value()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(char::from_u32)
        .map(Value::char)
        .ok_or_else(|| error::wrong_type("integer->char", "a Unicode scalar value", v))
}

fn compare(who: &str, args: &[Value], fold: bool, ok: fn(char, char) -> bool) -> VResult {
    // Every argument is checked, even after a pair that fails.
    let key = |v: Value| -> VResult<char> {
        let c = char_arg(who, v)?;
        Ok(if fold { foldcase(c) } else { c })
    };
    let mut prev = key(args[0])?;
    let mut all = true;
    for &v in &args[1..] {
        let c = key(v)?;
        all &= ok(prev, c);
        prev = c;
    }
    Ok(Value::bool(all))
}

macro_rules! char_compares {
    ($($f:ident $name:literal $fold:literal $op:tt),* $(,)?) => {
        $(fn $f(args: &[Value]) -> VResult { compare($name, args, $fold, |a, b| a $op b) })*
        pub(super) const CHAR_COMPARES: &[Builtin] = &[$(var($name, 1, $f)),*];
    };
}

char_compares! {
    char_eq "char=?" false ==, char_lt "char<?" false <, char_gt "char>?" false >,
    char_le "char<=?" false <=, char_ge "char>=?" false >=,
    char_ci_eq "char-ci=?" true ==, char_ci_lt "char-ci<?" true <,
    char_ci_gt "char-ci>?" true >, char_ci_le "char-ci<=?" true <=,
    char_ci_ge "char-ci>=?" true >=,
}

fn char_upcase(args: &[Value]) -> VResult {
    Ok(Value::char(upcase(char_arg("char-upcase", args[0])?)))
}
fn char_downcase(args: &[Value]) -> VResult {
    Ok(Value::char(downcase(char_arg("char-downcase", args[0])?)))
}
fn char_foldcase(args: &[Value]) -> VResult {
    Ok(Value::char(foldcase(char_arg("char-foldcase", args[0])?)))
}
fn is_alphabetic(args: &[Value]) -> VResult {
    Ok(Value::bool(
        char_arg("char-alphabetic?", args[0])?.is_alphabetic(),
    ))
}
fn is_numeric(args: &[Value]) -> VResult {
    Ok(Value::bool(
        digit_value(char_arg("char-numeric?", args[0])?).is_some(),
    ))
}
fn is_whitespace(args: &[Value]) -> VResult {
    Ok(Value::bool(
        char_arg("char-whitespace?", args[0])?.is_whitespace(),
    ))
}
fn is_upper_case(args: &[Value]) -> VResult {
    Ok(Value::bool(
        char_arg("char-upper-case?", args[0])?.is_uppercase(),
    ))
}
fn is_lower_case(args: &[Value]) -> VResult {
    Ok(Value::bool(
        char_arg("char-lower-case?", args[0])?.is_lowercase(),
    ))
}
fn digit_value_b(args: &[Value]) -> VResult {
    Ok(match digit_value(char_arg("digit-value", args[0])?) {
        Some(d) => Value::fixnum(d as i64),
        None => Value::FALSE,
    })
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("char?", 1, is_char),
    fixed("char->integer", 1, char_to_integer),
    fixed("integer->char", 1, integer_to_char),
    fixed("char-upcase", 1, char_upcase),
    fixed("char-downcase", 1, char_downcase),
    fixed("char-foldcase", 1, char_foldcase),
    fixed("char-alphabetic?", 1, is_alphabetic),
    fixed("char-numeric?", 1, is_numeric),
    fixed("char-whitespace?", 1, is_whitespace),
    fixed("char-upper-case?", 1, is_upper_case),
    fixed("char-lower-case?", 1, is_lower_case),
    fixed("digit-value", 1, digit_value_b),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn digit_table() {
        for &z in DIGIT_ZEROS {
            for k in 0..10 {
                let c = char::from_u32(z + k).unwrap();
                assert!(c.is_numeric(), "{:x} is not numeric", z + k);
                assert_eq!(digit_value(c), Some(k));
            }
        }
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('\u{2F}'), None);
        assert_eq!(digit_value('½'), None);
        assert_eq!(digit_value('\u{663}'), Some(3));
    }

    #[test]
    fn chars() {
        let _g = lock();
        check_all(&[
            ("(char? #\\a)", "#t"),
            ("(char? \"a\")", "#f"),
            ("(char->integer #\\A)", "65"),
            ("(char->integer #\\λ)", "955"),
            ("(integer->char 955)", "#\\λ"),
            ("(integer->char 32)", "#\\space"),
            ("(char=? #\\a #\\a #\\a)", "#t"),
            ("(char<? #\\a #\\b #\\c)", "#t"),
            ("(char<? #\\a #\\c #\\b)", "#f"),
            ("(char>? #\\b #\\a)", "#t"),
            ("(char<=? #\\a #\\a #\\b)", "#t"),
            ("(char>=? #\\a #\\b)", "#f"),
            ("(char-ci=? #\\a #\\A)", "#t"),
            ("(char-ci<? #\\a #\\B)", "#t"),
            ("(char-upcase #\\a)", "#\\A"),
            ("(char-upcase #\\ß)", "#\\ß"),
            ("(char-downcase #\\Λ)", "#\\λ"),
            ("(char-foldcase #\\A)", "#\\a"),
            ("(char-alphabetic? #\\a)", "#t"),
            ("(char-alphabetic? #\\1)", "#f"),
            ("(char-numeric? #\\1)", "#t"),
            ("(char-numeric? #\\a)", "#f"),
            ("(char-whitespace? #\\space)", "#t"),
            ("(char-whitespace? #\\tab)", "#t"),
            ("(char-whitespace? #\\a)", "#f"),
            ("(char-upper-case? #\\A)", "#t"),
            ("(char-lower-case? #\\A)", "#f"),
            ("(digit-value #\\7)", "7"),
            ("(digit-value #\\x664)", "4"),
            ("(digit-value #\\a)", "#f"),
        ]);
        check_errs(&[
            (
                "(char->integer 65)",
                "char->integer: expected a character: 65",
            ),
            (
                "(integer->char 55296)",
                "integer->char: expected a Unicode scalar value: 55296",
            ),
            (
                "(integer->char -1)",
                "integer->char: expected a Unicode scalar value: -1",
            ),
            ("(char<? #\\a 1)", "char<?: expected a character: 1"),
        ]);
    }
}
