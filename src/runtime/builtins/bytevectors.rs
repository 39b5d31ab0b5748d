//! Bytevectors.

use super::{fixed, index_arg, opt, range_args, string_arg, var, Builtin};
use crate::error::{self, VResult};
use crate::object;
use crate::value::{ObjType, Value};

fn bytevector_arg(who: &str, v: Value) -> VResult<Value> {
    super::check_type(who, "a bytevector", v, ObjType::Bytevector)?;
    Ok(v)
}

fn byte_arg(who: &str, v: Value) -> VResult<u8> {
    match v.fixnum_value() {
        Some(n) if (0..=255).contains(&n) => Ok(n as u8),
        _ => Err(error::wrong_type(who, "a byte", v)),
    }
}

/// A valid index into bytevector `bv` for `who`.
fn byte_index(who: &str, bv: Value, k: Value) -> VResult<usize> {
    super::element_index_arg(who, k, object::bytevector_len(bv))
}

/// Bytes of bytevector argument 0 in the optional range at `i`.
fn range_bytes(who: &str, args: &[Value], i: usize) -> VResult<Vec<u8>> {
    let bv = bytevector_arg(who, args[0])?;
    let (start, end) = range_args(who, args, i, object::bytevector_len(bv))?;
    Ok(object::bytevector_bytes_mut(bv)[start..end].to_vec())
}

fn is_bytevector(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].has_type(ObjType::Bytevector)))
}
fn make_bytevector(args: &[Value]) -> VResult {
    let n = index_arg("make-bytevector", args[0])?;
    let fill = match super::opt_arg(args, 1) {
        Some(v) => byte_arg("make-bytevector", v)?,
        None => 0,
    };
    Ok(object::make_bytevector(n, fill))
}
fn bytevector(args: &[Value]) -> VResult {
    let bytes = args
        .iter()
        .map(|&v| byte_arg("bytevector", v))
        .collect::<VResult<Vec<u8>>>()?;
    Ok(object::bytevector_from(&bytes))
}
fn bytevector_u8_ref(args: &[Value]) -> VResult {
    let bv = bytevector_arg("bytevector-u8-ref", args[0])?;
    let i = byte_index("bytevector-u8-ref", bv, args[1])?;
    Ok(Value::fixnum(object::bytevector_bytes_mut(bv)[i] as i64))
}
fn bytevector_u8_set(args: &[Value]) -> VResult {
    let who = "bytevector-u8-set!";
    let bv = bytevector_arg(who, args[0])?;
    let i = byte_index(who, bv, args[1])?;
    let b = byte_arg(who, args[2])?;
    object::bytevector_bytes_mut(bv)[i] = b;
    Ok(Value::UNSPECIFIED)
}
fn bytevector_length(args: &[Value]) -> VResult {
    let bv = bytevector_arg("bytevector-length", args[0])?;
    Ok(Value::fixnum(object::bytevector_len(bv) as i64))
}
fn bytevector_copy(args: &[Value]) -> VResult {
    let bytes = range_bytes("bytevector-copy", args, 1)?;
    Ok(object::bytevector_from(&bytes))
}
/// `(bytevector-copy! to at from [start [end]])`.
fn bytevector_copy_to(args: &[Value]) -> VResult {
    let who = "bytevector-copy!";
    let to = bytevector_arg(who, args[0])?;
    let at = index_arg(who, args[1])?;
    let from = bytevector_arg(who, args[2])?;
    let (start, end) = range_args(who, args, 3, object::bytevector_len(from))?;
    let len = object::bytevector_len(to);
    if at > len || len - at < end - start {
        return Err(error::out_of_range(who, args[1]));
    }
    let bytes = object::bytevector_bytes_mut(from)[start..end].to_vec();
    object::bytevector_bytes_mut(to)[at..at + bytes.len()].copy_from_slice(&bytes);
    Ok(Value::UNSPECIFIED)
}
fn bytevector_append(args: &[Value]) -> VResult {
    let mut bytes = Vec::new();
    for &v in args {
        let bv = bytevector_arg("bytevector-append", v)?;
        bytes.extend_from_slice(object::bytevector_bytes_mut(bv));
    }
    Ok(object::bytevector_from(&bytes))
}
fn utf8_to_string(args: &[Value]) -> VResult {
    let who = "utf8->string";
    let bv = bytevector_arg(who, args[0])?;
    let (start, end) = range_args(who, args, 1, object::bytevector_len(bv))?;
    // A copy: making the string may move the bytevector.
    let bytes = object::bytevector_bytes_mut(bv)[start..end].to_vec();
    // Invalid sequences are an error (docs/unicode.md), not U+FFFD.
    let text = crate::unicode::decode_utf8(who, &bytes, start)?;
    Ok(object::string_from(text))
}
fn string_to_utf8(args: &[Value]) -> VResult {
    let s = string_arg("string->utf8", args[0])?;
    let (start, end) = range_args("string->utf8", args, 1, object::string_len(s))?;
    let text: String = (start..end).map(|i| object::string_ref(s, i)).collect();
    Ok(object::bytevector_from(text.as_bytes()))
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("bytevector?", 1, is_bytevector),
    opt("make-bytevector", 1, 1, make_bytevector),
    var("bytevector", 0, bytevector),
    fixed("bytevector-u8-ref", 2, bytevector_u8_ref),
    fixed("bytevector-u8-set!", 3, bytevector_u8_set),
    fixed("bytevector-length", 1, bytevector_length),
    opt("bytevector-copy", 1, 2, bytevector_copy),
    opt("bytevector-copy!", 3, 2, bytevector_copy_to),
    var("bytevector-append", 0, bytevector_append),
    opt("utf8->string", 1, 2, utf8_to_string),
    opt("string->utf8", 1, 2, string_to_utf8),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn bytevectors() {
        let _g = lock();
        check_all(&[
            ("(bytevector? #u8(1))", "#t"),
            ("(bytevector? #(1))", "#f"),
            ("(make-bytevector 3 7)", "#u8(7 7 7)"),
            ("(make-bytevector 2)", "#u8(0 0)"),
            ("(bytevector 1 2 255)", "#u8(1 2 255)"),
            ("(bytevector-u8-ref #u8(5 6) 1)", "6"),
            ("(bytevector-length #u8(5 6 7))", "3"),
            ("(bytevector-copy #u8(1 2 3) 1)", "#u8(2 3)"),
            ("(bytevector-append #u8(1) #u8() #u8(2 3))", "#u8(1 2 3)"),
            ("(utf8->string #u8(206 187 97))", "\"λa\""),
            ("(utf8->string #u8(97 98 99) 1 2)", "\"b\""),
            ("(string->utf8 \"λa\")", "#u8(206 187 97)"),
            ("(string->utf8 \"abc\" 1)", "#u8(98 99)"),
            ("(utf8->string #u8(255 97 98) 1)", "\"ab\""),
            ("(utf8->string #u8(97 255) 0 1)", "\"a\""),
            ("(utf8->string #u8(240 159 152 128))", "\"😀\""),
        ]);
        check_errs(&[
            ("(bytevector 256)", "bytevector: expected a byte: 256"),
            (
                "(bytevector-u8-ref #u8(1) 1)",
                "bytevector-u8-ref: index out of range: 1",
            ),
            (
                "(bytevector-u8-set! #u8(1) 0 -1)",
                "bytevector-u8-set!: expected a byte: -1",
            ),
            (
                "(bytevector-length \"a\")",
                "bytevector-length: expected a bytevector: \"a\"",
            ),
            (
                "(utf8->string #u8(97 255 98))",
                "utf8->string: invalid UTF-8 at byte 1: #u8(255)",
            ),
            (
                "(utf8->string #u8(0 97 98 206) 1)",
                "utf8->string: invalid UTF-8 at byte 3: #u8(206)",
            ),
            (
                "(utf8->string #u8(97 240 159 97))",
                "utf8->string: invalid UTF-8 at byte 1: #u8(240 159)",
            ),
            (
                "(utf8->string #u8(237 160 128))",
                "utf8->string: invalid UTF-8 at byte 0: #u8(237)",
            ),
            (
                "(utf8->string #u8(192 175))",
                "utf8->string: invalid UTF-8 at byte 0: #u8(192)",
            ),
        ]);
    }

    #[test]
    fn mutation() {
        let _g = lock();
        let s = crate::gc::Scope::new();
        let b = s.root(ev("(bytevector 1 2 3 4)"));
        call_ok(ev("bytevector-u8-set!"), &[b.get(), fx(0), fx(9)]);
        assert_eq!(w(b.get()), "#u8(9 2 3 4)");
        call_ok(
            ev("bytevector-copy!"),
            &[b.get(), fx(1), b.get(), fx(0), fx(3)],
        );
        assert_eq!(w(b.get()), "#u8(9 9 2 3)");
        let src = s.root(ev("#u8(1 2)"));
        assert_eq!(
            call_err(ev("bytevector-copy!"), &[b.get(), fx(3), src.get()]),
            "bytevector-copy!: index out of range: 3"
        );
    }
}
