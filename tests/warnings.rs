//! Compile-time warnings about references to unbound variables
//! (src/warnings.rs, docs/errors.md "Warnings"): exact text from
//! `valkc compile`, `valk FILE` on both engines; none for names defined
//! anywhere in the program; none on the golden corpus but for the
//! programs that reference unbound variables on purpose.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-warn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// (stdout, stderr, status) of a command run in `dir`.
fn run(cmd: &mut Command, dir: &Path) -> (String, String, i32) {
    // Backtraces are checked by the golden corpus (docs/debugging.md).
    let out = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("VALK_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Writes `files` into a fresh directory and checks that `valkc compile`,
/// `valk --jit` and `valk --no-jit` on `main.valk` all print `warnings`
/// (then, when running, `stderr_after`) and the program's `stdout`.
fn check(name: &str, files: &[(&str, &str)], warnings: &str, stdout: &str, stderr_after: &str) {
    let dir = scratch(name);
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let (_, err, code) = run(
        Command::new(env!("CARGO_BIN_EXE_valkc"))
            .args(["compile", "main.valk", "-o", "main"])
            .env_remove("VALK_WARNINGS"),
        &dir,
    );
    assert_eq!(err, warnings, "valkc compile");
    assert_eq!(code, 0, "the program still compiles");
    let (out, err, _) = run(&mut Command::new(dir.join("main")), &dir);
    assert_eq!(
        (out.as_str(), err.as_str()),
        (stdout, stderr_after),
        "executable"
    );
    for engine in ["--jit", "--no-jit"] {
        let (out, err, _) = run(
            Command::new(env!("CARGO_BIN_EXE_valk"))
                .args([engine, "main.valk"])
                .env_remove("VALK_WARNINGS"),
            &dir,
        );
        assert_eq!(out, stdout, "{engine}");
        assert_eq!(err, format!("{warnings}{stderr_after}"), "{engine}");
        // VALK_WARNINGS=0 turns them off.
        let (_, err, _) = run(
            Command::new(env!("CARGO_BIN_EXE_valk"))
                .args([engine, "main.valk"])
                .env("VALK_WARNINGS", "0"),
            &dir,
        );
        assert_eq!(err, stderr_after, "{engine} with VALK_WARNINGS=0");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misspelt_procedure_in_a_procedure_never_called() {
    check(
        "fob",
        &[(
            "main.valk",
            "(define (foo x) (* x 2))\n(define (bar y)\n  (+ 1\n    (fob y)))\n(display (foo 21))\n(newline)\n",
        )],
        "warning: reference to unbound variable 'fob'\n  --> main.valk:4:6\n  |\n4 |     (fob y)))\n  |      ^^^\n\n",
        "42\n",
        "",
    );
}

#[test]
fn set_of_an_unbound_variable_and_a_reference_that_fails() {
    check(
        "set",
        &[(
            "main.valk",
            "(display \"start\")\n(newline)\n(set! counter 0)\n",
        )],
        "warning: reference to unbound variable 'counter'\n  --> main.valk:3:1\n  |\n3 | (set! counter 0)\n  | ^^^^^^^^^^^^^^^^\n\n",
        "start\n",
        "error: unbound variable: counter\n  --> main.valk:3:1\n  |\n3 | (set! counter 0)\n  | ^^^^^^^^^^^^^^^^\n\n",
    );
}

#[test]
fn names_defined_later_by_records_values_macros_and_loaded_files_are_bound() {
    check(
        "defined",
        &[
            (
                "main.valk",
                "(define (show) (list (later 1) (point-x (make-point 3)) a b (from-lib) (made-by-macro)))\n\
                 (define-syntax def-thunk (syntax-rules () ((_ n v) (define (n) v))))\n\
                 (def-thunk made-by-macro 'm)\n\
                 (define-record-type point (make-point x) point? (x point-x))\n\
                 (define-values (a b) (values 'a 'b))\n\
                 (load \"lib.valk\")\n\
                 (define (later x) (+ x (length (map car '((1))))))\n\
                 (write (show))\n(newline)\n\
                 (display (undefined-thing))\n",
            ),
            ("lib.valk", "(define (from-lib) 'lib)\n"),
        ],
        "warning: reference to unbound variable 'undefined-thing'\n   --> main.valk:10:11\n   |\n10 | (display (undefined-thing))\n   |           ^^^^^^^^^^^^^^^\n\n",
        "(2 3 a b lib m)\n",
        "error: unbound variable: undefined-thing\n   --> main.valk:10:11\n   |\n10 | (display (undefined-thing))\n   |           ^^^^^^^^^^^^^^^\n\n",
    );
}

#[test]
fn no_warnings_when_the_program_uses_eval() {
    check(
        "eval",
        &[(
            "main.valk",
            "(eval '(define defined-by-eval 5) (interaction-environment))\n(display defined-by-eval)\n(newline)\n",
        )],
        "",
        "5\n",
        "",
    );
}

#[test]
fn a_library_reference_and_an_unimported_name() {
    check(
        "lib",
        &[
            (
                "main.valk",
                "(import (scheme base) (scheme write) (mylib))\n(display (twice 4))\n(newline)\n",
            ),
            (
                "mylib.sld",
                "(define-library (mylib) (export twice) (import (scheme base))\n  (begin (define (twice x) (* 2 x)) (define (unused) (helpr 1))))\n",
            ),
        ],
        "warning: reference to unbound variable 'helpr'\n  --> ./mylib.sld:2:55\n  |\n2 |   (begin (define (twice x) (* 2 x)) (define (unused) (helpr 1))))\n  |                                                       ^^^^^\n\n",
        "8\n",
        "",
    );
}

#[test]
fn the_repl_does_not_warn() {
    let dir = scratch("repl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg("--jit")
        .current_dir(&dir)
        .env_remove("VALK_WARNINGS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"(define (f) (g))\n(define (g) 7)\n(f)\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "7\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The golden corpus: warnings only in the programs that reference
/// unbound variables on purpose (the golden test runs with warnings off,
/// since AOT executables cannot repeat the compiler's warnings).
#[test]
fn golden_corpus_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dir: Vec<PathBuf> = std::fs::read_dir(root.join("tests/programs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "valk"))
        .collect();
    dir.sort();
    let mut found = Vec::new();
    for p in &dir {
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let text = valk::syntax::source::read_source_file(p).unwrap();
        let mut sources = valk::syntax::source::SourceMap::new();
        let Ok(x) = valk::pipeline::expand_program(&mut sources, &rel, &text) else {
            continue;
        };
        for d in valk::warnings::unbound_references(x.prelude.iter().chain(&x.program), &|_| false)
        {
            found.push(format!(
                "{} {}",
                sources.location(d.span.unwrap()),
                d.message
            ));
        }
    }
    assert_eq!(
        found,
        [
            "tests/programs/control-builtin-errors.valk:25:31 reference to unbound variable 'not-defined-anywhere'",
            "tests/programs/error-set-unbound.valk:4:1 reference to unbound variable 'never-defined'",
            "tests/programs/error-unbound-in-procedure.valk:3:8 reference to unbound variable 'undefined-helper-value'",
            "tests/programs/error-unbound.valk:3:11 reference to unbound variable 'foo'",
            "tests/programs/library-not-imported.valk:7:11 reference to unbound variable 'filter'",
        ]
    );
}
