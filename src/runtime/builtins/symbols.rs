//! Symbols.

use super::{fixed, opt, string_arg, var, Builtin};
use crate::error::{self, VResult};
use crate::object;
use crate::value::Value;
use std::sync::atomic::{AtomicU64, Ordering};

fn symbol_arg(who: &str, v: Value) -> VResult<Value> {
    if v.is_symbol() {
        Ok(v)
    } else {
        Err(error::wrong_type(who, "a symbol", v))
    }
}

fn is_symbol(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_symbol()))
}
fn symbol_to_string(args: &[Value]) -> VResult {
    let s = symbol_arg("symbol->string", args[0])?;
    // A copy: the symbol's own name must not be mutated by `string-set!`.
    let chars = object::string_chars(s.field(0));
    Ok(object::string_from_chars(&chars))
}
fn string_to_symbol(args: &[Value]) -> VResult {
    let s = string_arg("string->symbol", args[0])?;
    Ok(object::intern(&object::string_to_rust(s)))
}
fn symbol_eq(args: &[Value]) -> VResult {
    for &v in args {
        symbol_arg("symbol=?", v)?;
    }
    Ok(Value::bool(args.windows(2).all(|w| w[0] == w[1])))
}

static GENSYM_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `(gensym [prefix])`: a fresh uninterned symbol named `<prefix><n>`
/// (prefix `g` by default; a string or a symbol).
fn gensym(args: &[Value]) -> VResult {
    let prefix = match super::opt_arg(args, 0) {
        None => "g".to_string(),
        Some(v) if v.is_string() => object::string_to_rust(v),
        Some(v) if v.is_symbol() => object::symbol_name(v),
        Some(v) => return Err(error::wrong_type("gensym", "a string or a symbol", v)),
    };
    let n = GENSYM_COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(object::uninterned_symbol(&format!("{prefix}{n}")))
}

fn string_to_uninterned_symbol(args: &[Value]) -> VResult {
    let s = string_arg("string->uninterned-symbol", args[0])?;
    Ok(object::uninterned_symbol(&object::string_to_rust(s)))
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("symbol?", 1, is_symbol),
    fixed("symbol->string", 1, symbol_to_string),
    fixed("string->symbol", 1, string_to_symbol),
    var("symbol=?", 1, symbol_eq),
    opt("gensym", 0, 1, gensym),
    fixed("string->uninterned-symbol", 1, string_to_uninterned_symbol),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn symbols() {
        let _g = lock();
        check_all(&[
            ("(symbol? 'a)", "#t"),
            ("(symbol? \"a\")", "#f"),
            ("(symbol->string 'abc)", "\"abc\""),
            ("(string->symbol \"hello world\")", "|hello world|"),
            ("(eq? (string->symbol \"abc\") 'abc)", "#t"),
            ("(symbol=? 'a 'a 'a)", "#t"),
            ("(symbol=? 'a 'b)", "#f"),
            ("(symbol? (gensym))", "#t"),
            ("(eq? (gensym) (gensym))", "#f"),
            ("(eq? (string->uninterned-symbol \"a\") 'a)", "#f"),
        ]);
        let g = ev("(gensym \"tmp\")");
        assert!(d(g).starts_with("tmp"));
        let g = ev("(symbol->string (gensym 'k))");
        assert!(d(g).starts_with('k'));
        check_errs(&[
            (
                "(symbol->string \"a\")",
                "symbol->string: expected a symbol: \"a\"",
            ),
            (
                "(string->symbol 'a)",
                "string->symbol: expected a string: a",
            ),
            ("(gensym 1)", "gensym: expected a string or a symbol: 1"),
        ]);
        // symbol->string returns a fresh string.
        assert_eq!(
            ev_w("(eq? (symbol->string 'abc) (symbol->string 'abc))"),
            "#f"
        );
    }
}
