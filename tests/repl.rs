//! The REPL driven as a script would drive it: input piped to `valk`.

use std::io::Write;
use std::process::{Command, Stdio};

fn session(input: &str) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg("--no-jit")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("valk starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn prints_values_with_write() {
    let (out, err, code) = session("(+ 1 2)\n\"hi\"\n#\\a\n'(1 . 2)\n(if #f #f)\n(values 1 2)\n");
    assert_eq!(out, "3\n\"hi\"\n#\\a\n(1 . 2)\n1\n2\n");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

#[test]
fn multi_line_input_and_redefinition() {
    let input = "(define (f x)\n  (* x\n     10))\n(f 4)\n(define (f x) (+ x 1))\n(f 4)\n";
    let (out, _, code) = session(input);
    assert_eq!(out, "40\n5\n");
    assert_eq!(code, 0);
}

#[test]
fn error_then_correct_form() {
    let (out, err, code) = session("(car 5)\n(display \"after\")\n(undefined-thing)\n(+ 2 2)\n");
    assert_eq!(out, "after4\n");
    assert!(err.contains("error: car: expected a pair: 5"), "{err}");
    assert!(
        err.contains("error: unbound variable: undefined-thing"),
        "{err}"
    );
    assert!(err.contains("<repl>:1:2"), "{err}");
    assert_eq!(code, 0, "the REPL keeps going after errors");
}

#[test]
fn syntax_error_is_reported_and_session_goes_on() {
    let (out, err, _) = session("(if)\n)\n(* 6 7)\n");
    assert_eq!(out, "42\n");
    assert!(err.contains("error: if:"), "{err}");
    assert!(err.contains("error: unexpected `)`"), "{err}");
}

#[test]
fn meta_commands() {
    let (out, err, _) = session(",help\n,time (+ 1 1)\n,bogus\n,quit\n(display \"not reached\")\n");
    assert!(out.contains(",load FILE"), "{out}");
    assert!(out.contains("2\n"), "{out}");
    assert!(err.contains("ms,"), "{err}");
    assert!(err.contains("unknown command ,bogus"), "{err}");
    assert!(!out.contains("not reached"));
}

#[test]
fn expression_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_valk"))
        .args(["-e", "(map (lambda (x) (* x x)) '(1 2 3))"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "(1 4 9)\n");
    assert!(out.status.success());
}

#[test]
fn missing_file_is_a_clean_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg("/nonexistent/prog.valk")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("error: cannot read /nonexistent/prog.valk"));
}
