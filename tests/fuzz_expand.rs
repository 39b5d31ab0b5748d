//! Fuzzing the reader + expander: random token soups and random
//! S-expressions built from special-form names must never panic (errors
//! are fine). `PROPTEST_CASES` sets the number of cases (default 64).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use valk::expand::{print_toplevel, Expander};
use valk::syntax::reader::read_str;
use valk::syntax::source::SourceMap;

/// The expander's special-form names plus a few symbols that matter to
/// macros and imports.
fn keywords() -> Vec<&'static str> {
    let mut k = valk::expand::SPECIAL_FORMS.to_vec();
    k.extend(["...", "_", "scheme", "m"]);
    k
}

const ATOMS: &[&str] = &[
    "x", "y", "z", "f", "1", "2", "-3", "2.5", "#t", "#f", "\"s\"", "\"\"", "#\\a", "'x", "()",
    "#()", "#u8(1)",
];

const PUNCT: &[&str] = &["(", ")", "(", ")", "[", "]", "'", "`", ",", ",@", ".", "#("];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// Reads `src` and expands every datum with one expander (so macros defined
/// early are used later); returns how many forms expanded without error.
fn read_and_expand(src: &str) -> usize {
    let mut sm = SourceMap::new();
    let Ok(datums) = read_str(&mut sm, "fuzz.valk", src) else {
        return 0;
    };
    let mut ex = Expander::new();
    let mut ok = 0;
    for d in &datums {
        if let Ok(tops) = ex.expand_toplevel(d, &mut sm) {
            for t in &tops {
                // Printing walks the whole AST: it must not panic either.
                let _ = print_toplevel(t);
            }
            ok += 1;
        }
    }
    ok
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(PUNCT).prop_map(str::to_string),
        3 => prop::sample::select(keywords()).prop_map(str::to_string),
        2 => prop::sample::select(ATOMS).prop_map(str::to_string),
    ]
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..60).prop_map(|ts| ts.join(" "))
}

/// A random S-expression whose lists mostly start with a keyword.
fn sexpr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(ATOMS).prop_map(str::to_string),
        prop::sample::select(keywords()).prop_map(str::to_string),
    ];
    leaf.prop_recursive(6, 80, 6, |inner| {
        prop_oneof![
            // (keyword arg ...)
            4 => (prop::sample::select(keywords()), prop::collection::vec(inner.clone(), 0..5))
                .prop_map(|(k, args)| format!("({k} {})", args.join(" "))),
            // (arg ...) and dotted lists
            2 => prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|args| format!("({})", args.join(" "))),
            1 => (prop::collection::vec(inner.clone(), 1..4), inner.clone())
                .prop_map(|(args, t)| format!("({} . {t})", args.join(" "))),
            1 => prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|args| format!("#({})", args.join(" "))),
            // quote-like prefixes
            1 => (prop::sample::select(&["'", "`", ",", ",@"][..]), inner)
                .prop_map(|(p, x)| format!("{p}{x}")),
        ]
    })
}

/// A `syntax-rules` macro `m` with random patterns and templates, then
/// random uses of it.
fn macro_program() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(valk_gen::fuzz::MACRO_PIECES).prop_map(str::to_string);
    let rule = (
        prop::collection::vec(piece.clone(), 0..4),
        prop::collection::vec(piece.clone(), 0..4),
        prop::sample::select(valk_gen::fuzz::MACRO_HEADS),
    )
        .prop_map(|(p, t, head)| format!("((_ {}) ({head}{}))", p.join(" "), t.join(" ")));
    (
        prop::collection::vec(rule, 1..4),
        prop::collection::vec(sexpr(), 0..4),
        prop::collection::vec(prop::collection::vec(piece, 0..5), 1..4),
    )
        .prop_map(|(rules, extra, uses)| {
            let mut s = format!(
                "(define-syntax m (syntax-rules (else) {}))\n",
                rules.join(" ")
            );
            for u in uses {
                s.push_str(&format!(
                    "(m {})\n(define (g) (m {}) 1)\n",
                    u.join(" "),
                    u.join(" ")
                ));
            }
            for e in extra {
                s.push_str(&format!("(m {e})\n"));
            }
            s
        })
}

/// Runs the cases; prints how many forms expanded cleanly (to see that the
/// generators reach the expander's success paths, not only its errors).
fn run(name: &str, strategy: impl Strategy<Value = String>) {
    let expanded = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |src| {
            expanded.set(expanded.get() + read_and_expand(&src));
            Ok(())
        })
        .expect("expander panicked");
    println!(
        "{name}: {} cases, {} forms expanded",
        cases(),
        expanded.get()
    );
}

#[test]
fn fuzz_expand_token_soup() {
    run("token soup", token_soup());
}

#[test]
fn fuzz_expand_sexprs() {
    run(
        "s-expressions",
        prop::collection::vec(sexpr(), 1..4).prop_map(|v| v.join("\n")),
    );
}

#[test]
fn fuzz_expand_macros() {
    run("macros", macro_program());
}

#[test]
fn fuzz_expand_sanity() {
    // The harness really expands things.
    assert_eq!(read_and_expand("(define (f x) (if x 1 2)) (f 1)"), 2);
    assert_eq!(read_and_expand("(if)"), 0);
}
