//! Golden tests of libraries and environments: source → printed core AST,
//! or the first error as `line:col: message`.

use crate::expand::{print_toplevel, EnvId, Expander};
use crate::syntax::datum::Datum;
use crate::syntax::reader::read_str;
use crate::syntax::source::SourceMap;

fn run_with(ex: &mut Expander, src: &str) -> Result<String, String> {
    crate::expand::tests::run_with(ex, &mut SourceMap::new(), src)
}

/// An expander that has seen the prelude, as every engine's has (the
/// standard libraries export some of its definitions).
fn expander() -> Expander {
    let mut ex = Expander::new();
    let mut sm = SourceMap::new();
    let ds = read_str(&mut sm, crate::prelude::NAME, crate::prelude::TEXT).unwrap();
    for d in &ds {
        ex.expand_toplevel(d, &mut sm).expect("the prelude expands");
    }
    ex
}

fn run(src: &str) -> Result<String, String> {
    run_with(&mut expander(), src)
}

#[track_caller]
fn check(src: &str, expected: &str) {
    match run(src) {
        Ok(got) => assert_eq!(got, expected, "\nsource: {src}"),
        Err(e) => panic!("source: {src}\nunexpected error: {e}"),
    }
}

#[track_caller]
fn check_err(src: &str, expected: &str) {
    match run(src) {
        Ok(got) => panic!("source: {src}\nexpected error {expected}, got {got}"),
        Err(e) => assert_eq!(e, expected, "\nsource: {src}"),
    }
}

const LIB_A: &str = "(define-library (a)
  (export f (rename g h) m)
  (import (valk core))
  (begin (define (helper x) x)
         (define (f) (helper 1))
         (define g 2)
         (define-syntax m (syntax-rules () ((_ x) (helper x))))))\n";

#[test]
fn library_definitions_are_renamed() {
    check(
        LIB_A,
        "(define-global (a)::helper (lambda helper (x_0) x_0))\n\
         (define-global (a)::f (lambda f () (call (global (a)::helper) (const 1))))\n\
         (define-global (a)::g (const 2))\n(void)",
    );
}

#[test]
fn imports_see_exports_only_and_macros_keep_their_library() {
    let src = format!("{LIB_A}(import (a)) (f) h (m 5) helper");
    let got = run(&src).expect("expands");
    let last: Vec<&str> = got.lines().rev().take(4).collect();
    assert_eq!(
        last,
        [
            "(global (program)::helper)",
            "(call (global (a)::helper) (const 5))",
            "(global (a)::g)",
            "(call (global (a)::f))",
        ]
    );
}

#[test]
fn import_set_modifiers() {
    let src = format!(
        "{LIB_A}(import (prefix (only (a) f h) a:) (rename (except (a) f h) (m mac))) (a:f) a:h (mac 1)"
    );
    let got = run(&src).expect("expands");
    let last: Vec<&str> = got.lines().rev().take(3).collect();
    assert_eq!(
        last,
        [
            "(call (global (a)::helper) (const 1))",
            "(global (a)::g)",
            "(call (global (a)::f))"
        ]
    );
    check_err(
        &format!("{LIB_A}(import (only (a) helper))"),
        "8:19: import: (a) does not export helper",
    );
    check_err(
        &format!("{LIB_A}(import (except (a) nope))"),
        "8:21: import: (a) does not export nope",
    );
}

#[test]
fn core_is_open_and_weak() {
    // A library's own definition of a core name wins, also for uses
    // before the definition.
    check(
        "(define-library (b) (export car2) (import (valk core))
           (begin (define (car2 x) (car x)) (define (car x) 'mine)))",
        "(define-global (b)::car2 (lambda car2 (x_0) (call (global (b)::car) x_0)))\n\
         (define-global (b)::car (lambda car (x_0) (const mine)))\n(void)",
    );
    // Prefixed core: only the prefixed names are visible.
    check(
        "(define-library (c) (export x) (import (prefix (valk core) k:))
           (begin (k:define x (k:car '(1)))))",
        "(define-global (c)::x (call (global car) (const (1))))\n(void)",
    );
}

#[test]
fn library_errors() {
    check_err(
        "(define-library (d) (export nope) (import (valk core)) (begin (define x 1)))",
        "1:29: define-library: (d) exports nope, which it neither defines nor imports",
    );
    check_err(
        "(define-library (d) (frob))",
        "1:21: define-library: unknown declaration (frob)",
    );
    check_err(
        "(import (scheme base)) (define car 1)",
        "1:24: car is imported from (scheme base) and cannot be defined here as well",
    );
    check_err(
        "(import (nowhere at all))",
        "1:9: import: unknown library (nowhere at all) (looked for nowhere/at/all.sld, .scm or .valk in ., the installed libraries)",
    );
    check_err(
        "(import (1.5))",
        "1:9: expected a library name like (foo bar), got (1.5)",
    );
}

#[test]
fn programs_with_imports_see_only_their_imports() {
    check(
        "(import (only (scheme base) define car)) (define x (car '(1))) cdr",
        "(void)\n(define-global (program)::x (call (global car) (const (1))))\n\
         (global (program)::cdr)",
    );
    // `if` was not imported: it is an ordinary (unbound) variable.
    check(
        "(import (only (scheme base) car)) (if 1 2)",
        "(void)\n(call (global (program)::if) (const 1) (const 2))",
    );
}

#[test]
fn interactive_imports_add_to_everything() {
    let mut ex = expander();
    ex.set_interactive(true);
    let got = run_with(
        &mut ex,
        &format!("{LIB_A}(import (prefix (a) p:)) (p:f) (cdr x)"),
    )
    .unwrap();
    let last: Vec<&str> = got.lines().rev().take(2).collect();
    assert_eq!(
        last,
        ["(call (global cdr) (global x))", "(call (global (a)::f))"]
    );
}

#[test]
fn cond_expand_requirements() {
    check(
        "(cond-expand ((and r7rs (not no-such-feature) (or foo valk)) 1) (else 2))",
        "(const 1)",
    );
    check(
        "(cond-expand ((library (scheme base)) 1) (else 2))",
        "(const 1)",
    );
    check(
        "(cond-expand ((library (no such)) 1) (else 2))",
        "(const 2)",
    );
    check("(cond-expand (no-such-feature 1))", "");
    check(
        "(define (f) (cond-expand (valk 1 2) (else 3)))",
        "(define-global f (lambda f () (seq (const 1) (const 2))))",
    );
    check_err(
        "(cond-expand ((frob x) 1))",
        "1:15: cond-expand: bad requirement (frob x)",
    );
}

#[test]
fn syntax_error_reports_its_message() {
    check_err(
        "(define-syntax m (syntax-rules () ((_ x) (syntax-error \"m: bad\" x)))) (m (1 2))",
        "1:71: m: bad (1 2)",
    );
}

#[test]
fn environments_are_immutable() {
    let mut ex = expander();
    let mut sm = SourceMap::new();
    let sets = read_str(&mut sm, "e", "(scheme base) (only (scheme write) display)").unwrap();
    let mut out = Vec::new();
    let env = ex
        .environment(&sets, &mut sm, &mut out)
        .expect("environment");
    assert_ne!(env, EnvId::INTERACTION);
    // Asking again gives the same (immutable) environment.
    let again = ex.environment(&sets, &mut sm, &mut out).expect("again");
    assert_eq!(again, env);
    let form = |sm: &mut SourceMap, s: &str| -> Datum { read_str(sm, "x", s).unwrap().remove(0) };
    let d = form(&mut sm, "(display (car '(1)))");
    let tops = ex.expand_toplevel_in(env, &d, &mut sm).expect("expands");
    assert_eq!(
        print_toplevel(&tops[0]),
        "(call (global display) (call (global car) (const (1))))"
    );
    let d = form(&mut sm, "(define x 1)");
    let e = ex
        .expand_toplevel_in(env, &d, &mut sm)
        .expect_err("an error");
    assert!(e.message.contains("immutable"), "{}", e.message);
    let d = form(&mut sm, "write");
    let tops = ex.expand_toplevel_in(env, &d, &mut sm).expect("expands");
    assert_eq!(print_toplevel(&tops[0]), "(global (environment)::write)");
}

#[test]
fn include_ci_folds_symbols() {
    let dir = std::env::temp_dir().join(format!("valk-include-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inc.scm"), "(DEFINE Xy 1)").unwrap();
    let main = dir.join("main.valk");
    let mut sm = SourceMap::new();
    let ds = read_str(
        &mut sm,
        &main.to_string_lossy(),
        "(include-ci \"inc.scm\") (include \"inc.scm\")",
    )
    .unwrap();
    let mut ex = Expander::new();
    let first = ex.expand_toplevel(&ds[0], &mut sm).expect("include-ci");
    assert_eq!(print_toplevel(&first[0]), "(define-global xy (const 1))");
    let second = ex.expand_toplevel(&ds[1], &mut sm).expect("include");
    assert_eq!(
        print_toplevel(&second[0]),
        "(call (global DEFINE) (global Xy) (const 1))"
    );
    std::fs::remove_dir_all(&dir).ok();
}
