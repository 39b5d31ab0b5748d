//! Unit tests of `src/runtime/syntax/to_value.rs`.

use super::*;
use crate::builtins::testing::{self, w};
use crate::syntax::reader::{read_one, ReadOne, ReadOptions};

fn datum(text: &str) -> Datum {
    match read_one(text, &mut ReadOptions::default()) {
        ReadOne::Datum(d, _) => d,
        other => panic!("{text:?}: {other:?}"),
    }
}

/// `write` of the value of the datum in `text`.
fn conv(text: &str) -> String {
    w(datum_to_value(&datum(text)))
}

fn check_plain() {
    for (text, want) in [
        ("42", "42"),
        ("-1.5", "-1.5"),
        ("1/2", "1/2"),
        ("99999999999999999999", "99999999999999999999"),
        ("1+2i", "1+2i"),
        ("#t", "#t"),
        ("#\\a", "#\\a"),
        ("\"a\\nb\"", "\"a\\nb\""),
        ("sym", "sym"),
        ("|a b|", "|a b|"),
        ("()", "()"),
        ("(1 2 3)", "(1 2 3)"),
        ("(1 . 2)", "(1 . 2)"),
        ("(1 2 . 3)", "(1 2 . 3)"),
        ("#(1 \"x\" (y))", "#(1 \"x\" (y))"),
        ("#u8(1 255)", "#u8(1 255)"),
        ("'(a #(b (c . d)) \"e\")", "'(a #(b (c . d)) \"e\")"),
        ("(#0=(x) #0#)", "((x) (x))"),
        ("#(#0=\"s\" #0#)", "#(\"s\" \"s\")"),
    ] {
        assert_eq!(conv(text), want, "{text}");
    }
}

fn check_sharing_and_cycles() {
    let s = Scope::new();
    // `#0=(a . #0#)`: the cdr is the pair itself.
    let x = s.root(datum_to_value(&datum("#0=(a . #0#)")));
    assert!(x.get().is_pair());
    assert_eq!(x.get().cdr(), x.get());
    assert_eq!(w(x.get().car()), "a");
    // `(#0=(x) #0#)`: both elements are the same pair.
    let l = s.root(datum_to_value(&datum("(#0=(x) #0#)")));
    assert_eq!(l.get().car(), l.get().cdr().car());
    // A vector containing itself, and a list through a vector.
    let v = s.root(datum_to_value(&datum("#0=#(1 #0# 2)")));
    assert_eq!(v.get().field(1), v.get());
    let c = s.root(datum_to_value(&datum("#0=(a #(#0#) . #0#)")));
    assert_eq!(c.get().cdr().cdr(), c.get());
    assert_eq!(c.get().cdr().car().field(0), c.get());
    // A label naming another label's datum while it is open.
    let a = s.root(datum_to_value(&datum("#0=(a #1=#0# #1#)")));
    assert_eq!(a.get().cdr().car(), a.get());
    assert_eq!(a.get().cdr().cdr().car(), a.get());
    // Car and tail of the last pair both wait for the label.
    let t = s.root(datum_to_value(&datum("#0=(a #0# . #0#)")));
    let last = t.get().cdr();
    assert_eq!(last.car(), t.get());
    assert_eq!(last.cdr(), t.get());
    // Strings are fresh: two conversions give two objects.
    let s1 = s.root(datum_to_value(&datum("\"abc\"")));
    let s2 = datum_to_value(&datum("\"abc\""));
    assert_ne!(s1.get(), s2);
    // Symbols are interned.
    assert_eq!(
        datum_to_value(&datum("abc")),
        datum_to_value(&datum("abc"))
    );
}

#[test]
fn datums_become_values() {
    let _g = testing::lock();
    check_plain();
    check_sharing_and_cycles();
}

#[test]
fn datums_become_values_under_gc_stress() {
    let _g = testing::lock();
    testing::with_stress(|| {
        check_plain();
        check_sharing_and_cycles();
    });
}

#[test]
fn long_and_deep_datums_do_not_recurse() {
    let _g = testing::lock();
    let n = 1_000_000;
    let text = format!("({})", "7 ".repeat(n));
    let v = datum_to_value(&datum(&text));
    let mut len = 0;
    let mut l = v;
    while l.is_pair() {
        len += 1;
        l = l.cdr();
    }
    assert_eq!(len, n);
    let depth = crate::syntax::reader::MAX_DEPTH - 1;
    let text = "(".repeat(depth) + &")".repeat(depth);
    let mut v = datum_to_value(&datum(&text));
    let mut levels = 0;
    while v.is_pair() {
        levels += 1;
        v = v.car();
    }
    assert_eq!(levels, depth - 1);
    assert!(v.is_nil());
}
