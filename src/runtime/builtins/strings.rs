//! Strings: mutable, UTF-32, O(1) `string-ref`.
//!
//! Builtins copy the characters they need into Rust vectors before
//! allocating the result, so no heap value is held across an allocation.

use super::{char_arg, fixed, index_arg, opt, range_args, string_arg, var, Builtin};
use crate::error::{self, VResult};
use crate::object;
use crate::value::Value;

/// Characters `start..end` of string `s` (checked by the caller).
fn chars_of(s: Value, start: usize, end: usize) -> Vec<char> {
    (start..end).map(|i| object::string_ref(s, i)).collect()
}

/// A string argument's characters in the optional range at `i`.
fn range_chars(who: &str, args: &[Value], i: usize) -> VResult<Vec<char>> {
    let s = string_arg(who, args[0])?;
    let (start, end) = range_args(who, args, i, object::string_len(s))?;
    Ok(chars_of(s, start, end))
}

fn is_string(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_string()))
}
fn make_string(args: &[Value]) -> VResult {
    let n = index_arg("make-string", args[0])?;
    let fill = match super::opt_arg(args, 1) {
        Some(v) => char_arg("make-string", v)?,
        None => ' ',
    };
    Ok(object::make_string(n, fill))
}
fn string(args: &[Value]) -> VResult {
    let chars = args
        .iter()
        .map(|&v| char_arg("string", v))
        .collect::<VResult<Vec<char>>>()?;
    Ok(object::string_from_chars(&chars))
}
fn string_length(args: &[Value]) -> VResult {
    let s = string_arg("string-length", args[0])?;
    Ok(Value::fixnum(object::string_len(s) as i64))
}

/// A valid index into string `s` for `who`.
fn string_index_arg(who: &str, s: Value, k: Value) -> VResult<usize> {
    super::element_index_arg(who, k, object::string_len(s))
}

fn string_ref(args: &[Value]) -> VResult {
    let s = string_arg("string-ref", args[0])?;
    let i = string_index_arg("string-ref", s, args[1])?;
    Ok(Value::char(object::string_ref(s, i)))
}
fn string_set(args: &[Value]) -> VResult {
    let s = string_arg("string-set!", args[0])?;
    let i = string_index_arg("string-set!", s, args[1])?;
    let c = char_arg("string-set!", args[2])?;
    object::string_set(s, i, c);
    Ok(Value::UNSPECIFIED)
}

fn compare(who: &str, args: &[Value], fold: bool, ok: fn(&[char], &[char]) -> bool) -> VResult {
    let mut strs = Vec::with_capacity(args.len());
    for &v in args {
        let s = string_arg(who, v)?;
        let chars = chars_of(s, 0, object::string_len(s));
        strs.push(if fold { foldcase(&chars) } else { chars });
    }
    Ok(Value::bool(strs.windows(2).all(|w| ok(&w[0], &w[1]))))
}

macro_rules! string_compares {
    ($($f:ident $name:literal $fold:literal $op:tt),* $(,)?) => {
        $(fn $f(args: &[Value]) -> VResult { compare($name, args, $fold, |a, b| a $op b) })*
        pub(super) const STRING_COMPARES: &[Builtin] = &[$(var($name, 1, $f)),*];
    };
}

string_compares! {
    string_eq "string=?" false ==, string_lt "string<?" false <,
    string_gt "string>?" false >, string_le "string<=?" false <=,
    string_ge "string>=?" false >=,
    string_ci_eq "string-ci=?" true ==, string_ci_lt "string-ci<?" true <,
    string_ci_gt "string-ci>?" true >, string_ci_le "string-ci<=?" true <=,
    string_ci_ge "string-ci>=?" true >=,
}

/// Full case folding (docs/unicode.md): `string-foldcase` and the
/// `string-ci` comparisons, so `ß` folds to `ss`.
fn foldcase(chars: &[char]) -> Vec<char> {
    crate::unicode::fold_full(chars.iter().copied())
}

fn substring(args: &[Value]) -> VResult {
    let chars = range_chars("substring", args, 1)?;
    Ok(object::string_from_chars(&chars))
}
fn string_append(args: &[Value]) -> VResult {
    // The characters are gathered in a buffer reused by every call (a
    // fresh Vec per call was most of the cost of short appends); the
    // string is allocated last, when no argument is read any more.
    thread_local! {
        static CHARS: std::cell::Cell<Vec<char>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut chars = CHARS.take();
    chars.clear();
    for &v in args {
        let s = match string_arg("string-append", v) {
            Ok(s) => s,
            Err(e) => {
                CHARS.set(chars);
                return Err(e);
            }
        };
        chars.extend((0..object::string_len(s)).map(|i| object::string_ref(s, i)));
    }
    let r = object::string_from_chars(&chars);
    if chars.capacity() <= 1 << 16 {
        CHARS.set(chars);
    }
    Ok(r)
}
fn string_copy(args: &[Value]) -> VResult {
    let chars = range_chars("string-copy", args, 1)?;
    Ok(object::string_from_chars(&chars))
}
/// `(string-copy! to at from [start [end]])`.
fn string_copy_to(args: &[Value]) -> VResult {
    let who = "string-copy!";
    let to = string_arg(who, args[0])?;
    let at = index_arg(who, args[1])?;
    let from = string_arg(who, args[2])?;
    let (start, end) = range_args(who, args, 3, object::string_len(from))?;
    if at > object::string_len(to) || object::string_len(to) - at < end - start {
        return Err(error::out_of_range(who, args[1]));
    }
    // Copy out first: `to` and `from` may be the same string.
    let chars = chars_of(from, start, end);
    for (k, &c) in chars.iter().enumerate() {
        object::string_set(to, at + k, c);
    }
    Ok(Value::UNSPECIFIED)
}
fn string_fill(args: &[Value]) -> VResult {
    let s = string_arg("string-fill!", args[0])?;
    let c = char_arg("string-fill!", args[1])?;
    let (start, end) = range_args("string-fill!", args, 2, object::string_len(s))?;
    for i in start..end {
        object::string_set(s, i, c);
    }
    Ok(Value::UNSPECIFIED)
}
fn string_to_list(args: &[Value]) -> VResult {
    let chars = range_chars("string->list", args, 1)?;
    let items: Vec<Value> = chars.into_iter().map(Value::char).collect();
    Ok(object::list_from(&items))
}
fn string_to_vector(args: &[Value]) -> VResult {
    let chars = range_chars("string->vector", args, 1)?;
    let items: Vec<Value> = chars.into_iter().map(Value::char).collect();
    Ok(object::vector_from(&items))
}
fn vector_to_string(args: &[Value]) -> VResult {
    let who = "vector->string";
    let v = args[0];
    if !v.is_vector() {
        return Err(error::wrong_type(who, "a vector", v));
    }
    let (start, end) = range_args(who, args, 1, v.size())?;
    let chars = (start..end)
        .map(|i| char_arg(who, v.field(i)))
        .collect::<VResult<Vec<char>>>()?;
    Ok(object::string_from_chars(&chars))
}
fn string_upcase(args: &[Value]) -> VResult {
    let s = string_arg("string-upcase", args[0])?;
    Ok(object::string_from(
        &object::string_to_rust(s).to_uppercase(),
    ))
}
fn string_downcase(args: &[Value]) -> VResult {
    let s = string_arg("string-downcase", args[0])?;
    Ok(object::string_from(
        &object::string_to_rust(s).to_lowercase(),
    ))
}
fn string_foldcase(args: &[Value]) -> VResult {
    let s = string_arg("string-foldcase", args[0])?;
    let chars = foldcase(&object::string_chars(s));
    Ok(object::string_from_chars(&chars))
}

/// `(string-index s c)`: the index of the first `c` in `s`, or `#f`. `c`
/// may also be a predicate procedure.
fn string_index(args: &[Value]) -> VResult {
    let who = "string-index";
    let s = string_arg(who, args[0])?;
    let target = args[1];
    if target.is_char() {
        let c = target.as_char();
        let found = (0..object::string_len(s)).find(|&i| object::string_ref(s, i) == c);
        return Ok(found.map_or(Value::FALSE, |i| Value::fixnum(i as i64)));
    }
    if !target.is_closure() {
        return Err(error::wrong_type(who, "a character or a procedure", target));
    }
    let mut i = 0;
    loop {
        // Re-read: the predicate may allocate and move the string.
        let s = super::arg(args, 0);
        if i >= object::string_len(s) {
            return Ok(Value::FALSE);
        }
        let c = Value::char(object::string_ref(s, i));
        if crate::call::call(super::arg(args, 1), &[c])?.is_true() {
            return Ok(Value::fixnum(i as i64));
        }
        i += 1;
    }
}

/// `(string-contains s1 s2)`: the index of the first occurrence of `s2` in
/// `s1`, or `#f`.
fn string_contains(args: &[Value]) -> VResult {
    let hay = object::string_chars(string_arg("string-contains", args[0])?);
    let needle = object::string_chars(string_arg("string-contains", args[1])?);
    if needle.is_empty() {
        return Ok(Value::fixnum(0));
    }
    let found = hay
        .windows(needle.len())
        .position(|w| w == needle.as_slice());
    Ok(found.map_or(Value::FALSE, |i| Value::fixnum(i as i64)))
}
fn string_null(args: &[Value]) -> VResult {
    let s = string_arg("string-null?", args[0])?;
    Ok(Value::bool(object::string_len(s) == 0))
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("string?", 1, is_string),
    opt("make-string", 1, 1, make_string),
    var("string", 0, string),
    fixed("string-length", 1, string_length),
    fixed("string-ref", 2, string_ref),
    fixed("string-set!", 3, string_set),
    opt("substring", 2, 1, substring),
    var("string-append", 0, string_append),
    opt("string-copy", 1, 2, string_copy),
    opt("string-copy!", 3, 2, string_copy_to),
    opt("string-fill!", 2, 2, string_fill),
    opt("string->list", 1, 2, string_to_list),
    opt("string->vector", 1, 2, string_to_vector),
    opt("vector->string", 1, 2, vector_to_string),
    fixed("string-upcase", 1, string_upcase),
    fixed("string-downcase", 1, string_downcase),
    fixed("string-foldcase", 1, string_foldcase),
    fixed("string-index", 2, string_index),
    fixed("string-contains", 2, string_contains),
    fixed("string-null?", 1, string_null),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn strings() {
        let _g = lock();
        check_all(&[
            ("(string? \"a\")", "#t"),
            ("(string? 'a)", "#f"),
            ("(make-string 3 #\\x)", "\"xxx\""),
            ("(make-string 2)", "\"  \""),
            ("(string #\\a #\\λ)", "\"aλ\""),
            ("(string)", "\"\""),
            ("(string-length \"aλc\")", "3"),
            ("(string-ref \"aλc\" 1)", "#\\λ"),
            ("(string=? \"ab\" \"ab\" \"ab\")", "#t"),
            ("(string=? \"ab\" \"abc\")", "#f"),
            ("(string<? \"ab\" \"abc\" \"b\")", "#t"),
            ("(string<? \"b\" \"abc\")", "#f"),
            ("(string>? \"b\" \"a\")", "#t"),
            ("(string<=? \"a\" \"a\")", "#t"),
            ("(string>=? \"a\" \"b\")", "#f"),
            ("(string-ci=? \"Straße\" \"STRASSE\")", "#t"),
            ("(string-ci<? \"abc\" \"ABD\")", "#t"),
            ("(substring \"hello\" 1 3)", "\"el\""),
            ("(substring \"hello\" 2)", "\"llo\""),
            ("(string-append \"a\" \"bc\" \"\" \"d\")", "\"abcd\""),
            ("(string-append)", "\"\""),
            ("(string-copy \"hello\")", "\"hello\""),
            ("(string-copy \"hello\" 1)", "\"ello\""),
            ("(string-copy \"hello\" 1 2)", "\"e\""),
            ("(string->list \"abc\")", "(#\\a #\\b #\\c)"),
            ("(string->list \"abc\" 1)", "(#\\b #\\c)"),
            ("(string->vector \"ab\")", "#(#\\a #\\b)"),
            ("(vector->string #(#\\a #\\b))", "\"ab\""),
            ("(string-upcase \"straße\")", "\"STRASSE\""),
            ("(string-downcase \"ABC\")", "\"abc\""),
            ("(string-foldcase \"ABß\")", "\"abss\""),
            ("(string-index \"hello\" #\\l)", "2"),
            ("(string-index \"hello\" #\\z)", "#f"),
            ("(string-index \"hel1o\" char-numeric?)", "3"),
            ("(string-contains \"hello world\" \"o w\")", "4"),
            ("(string-contains \"hello\" \"xyz\")", "#f"),
            ("(string-contains \"hello\" \"\")", "0"),
            ("(string-null? \"\")", "#t"),
            ("(string-null? \"a\")", "#f"),
        ]);
        check_errs(&[
            (
                "(string-ref \"abc\" 3)",
                "string-ref: index out of range: 3",
            ),
            (
                "(string-ref \"abc\" -1)",
                "string-ref: index out of range: -1",
            ),
            (
                "(string-ref \"abc\" 1.0)",
                "string-ref: expected an integer: 1.0",
            ),
            ("(string-ref 'abc 0)", "string-ref: expected a string: abc"),
            (
                "(substring \"abc\" 2 1)",
                "substring: index out of range: 2",
            ),
            (
                "(substring \"abc\" 0 4)",
                "substring: index out of range: 4",
            ),
            (
                "(string-append \"a\" 5)",
                "string-append: expected a string: 5",
            ),
            ("(string #\\a 1)", "string: expected a character: 1"),
            ("(string<? \"a\" 'b)", "string<?: expected a string: b"),
            (
                "(make-string 2 \"x\")",
                "make-string: expected a character: \"x\"",
            ),
            (
                "(vector->string #(1))",
                "vector->string: expected a character: 1",
            ),
            (
                "(string-index \"a\" 1)",
                "string-index: expected a character or a procedure: 1",
            ),
        ]);
    }

    #[test]
    fn mutation() {
        let _g = lock();
        let s = crate::gc::Scope::new();
        let st1 = s.root(st("hello"));
        call_ok(
            ev("string-set!"),
            &[st1.get(), fx(0), crate::Value::char('j')],
        );
        assert_eq!(w(st1.get()), "\"jello\"");
        call_ok(
            ev("string-fill!"),
            &[st1.get(), crate::Value::char('z'), fx(3)],
        );
        assert_eq!(w(st1.get()), "\"jelzz\"");
        // Overlapping copy within one string.
        let st2 = s.root(st("abcdef"));
        call_ok(
            ev("string-copy!"),
            &[st2.get(), fx(2), st2.get(), fx(0), fx(4)],
        );
        assert_eq!(w(st2.get()), "\"ababcd\"");
        let src = s.root(st("xyz"));
        assert_eq!(
            call_err(ev("string-copy!"), &[st2.get(), fx(4), src.get()]),
            "string-copy!: index out of range: 4"
        );
        assert_eq!(
            call_err(
                ev("string-set!"),
                &[st2.get(), fx(6), crate::Value::char('a')]
            ),
            "string-set!: index out of range: 6"
        );
    }

    #[test]
    fn strings_under_stress() {
        let _g = lock();
        with_stress(|| {
            check_all(&[
                (
                    "(string-append \"ab\" (make-string 2 #\\c) (string #\\d))",
                    "\"abccd\"",
                ),
                (
                    "(string->list (substring \"hello\" 1 4))",
                    "(#\\e #\\l #\\l)",
                ),
                ("(string-index (string-copy \"ab1\") char-numeric?)", "2"),
            ]);
        });
    }
}
