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
    assert_eq!(datum_to_value(&datum("abc")), datum_to_value(&datum("abc")));
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

/// About 10 MB of S-expressions: records of symbols, numbers, strings and
/// nested lists, as a data file would hold.
fn bench_text() -> String {
    let mut text = String::with_capacity(11 << 20);
    let mut i = 0u64;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "(record {i} (name \"item-{i}\") (price {}.{:02}) (tags alpha beta-{} gamma) #(1 2 {}) (nested (a (b (c {i})))) #\\x)\n",
            i % 1000,
            i % 100,
            i % 7,
            i * 31 % 1000
        ));
        i += 1;
    }
    text
}

/// `cargo test --release -p valk_runtime bench_read_10mb -- --ignored --nocapture`:
/// throughput of `read_one` + `datum_to_value`, as `read` will use them.
#[test]
#[ignore]
fn bench_read_10mb() {
    let _g = testing::lock();
    let text = bench_text();
    let mb = text.len() as f64 / (1 << 20) as f64;
    for _ in 0..6 {
        let t = std::time::Instant::now();
        let mut opts = ReadOptions::default();
        let mut rest = text.as_str();
        let (mut n, mut read_time) = (0, std::time::Duration::ZERO);
        loop {
            let r0 = std::time::Instant::now();
            let one = read_one(rest, &mut opts);
            read_time += r0.elapsed();
            match one {
                ReadOne::Datum(d, end) => {
                    let _ = datum_to_value(&d);
                    n += 1;
                    rest = &rest[end..];
                }
                ReadOne::Eof(_) => break,
                other => panic!("{other:?}"),
            }
        }
        let all = t.elapsed().as_secs_f64();
        eprintln!(
            "{n} datums, {mb:.1} MB: read_one {:.0} MB/s, with datum_to_value {:.0} MB/s ({all:.3} s)",
            mb / read_time.as_secs_f64(),
            mb / all
        );
    }
    // One list of the whole text.
    let big = format!("({text})");
    let t = std::time::Instant::now();
    let d = match read_one(&big, &mut ReadOptions::default()) {
        ReadOne::Datum(d, _) => d,
        other => panic!("{other:?}"),
    };
    let r = t.elapsed().as_secs_f64();
    let _ = datum_to_value(&d);
    let all = t.elapsed().as_secs_f64();
    eprintln!(
        "one 10 MB datum: read_one {:.0} MB/s, with datum_to_value {:.0} MB/s",
        mb / r,
        mb / all
    );
}
