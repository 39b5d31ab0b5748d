//! The REPL driven as a script would drive it: input piped to `valk`.
//! Every session test runs on both engines (`interp::*` with `--no-jit`,
//! `jit::*` with `--jit`).

#[macro_use]
mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs `valk ENGINE` with `input` on stdin: (stdout, stderr, status).
/// `--jit` is the JIT compiling every form (`VALK_TIER=1`); no engine is
/// the default, tiered (docs/tiering.md).
fn session(engine: &str, input: &str) -> (String, String, i32) {
    session_tier(engine, if engine == "--jit" { "1" } else { "auto" }, input)
}

/// [`session`] with `VALK_TIER=tier`.
fn session_tier(engine: &str, tier: &str, input: &str) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_valk"))
        .args([engine].into_iter().filter(|e| !e.is_empty()))
        .env("VALK_TIER", tier)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("valk starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    // Written from another thread so a large output cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-repl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn prints_values_with_write(engine: &str) {
    let (out, err, code) = session(
        engine,
        "(+ 1 2)\n\"hi\"\n#\\a\n'(1 . 2)\n(if #f #f)\n(values 1 2)\n",
    );
    assert_eq!(out, "3\n\"hi\"\n#\\a\n(1 . 2)\n1\n2\n");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

fn multi_line_input(engine: &str) {
    let input = "(define (f x)\n  ; a comment inside the form\n  (* x\n     10))\n\
                 (f 4)\n\
                 (string-append \"one\n\" \"two\")\n\
                 (+ 1 2) (+ 3\n 4)\n\
                 #(1\n2)\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "40\n\"one\\ntwo\"\n3\n7\n#(1 2)\n");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

fn redefinition(engine: &str) {
    // `g` calls `f`: it must see the new `f` too.
    let input = "(define (f x) (* x 10))\n(define (g x) (+ (f x) 1))\n(f 4)\n(g 4)\n\
                 (define (f x) (- x))\n(f 4)\n(g 4)\n\
                 (define f 'no-longer-a-procedure)\nf\n(g 4)\n(define (f x) x)\n(g 4)\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "40\n41\n-4\n-3\nno-longer-a-procedure\n5\n");
    assert!(
        err.contains("error: attempt to call a non-procedure: no-longer-a-procedure"),
        "{err}"
    );
    assert_eq!(code, 0);
}

/// A builtin redefined by a later input is seen by procedures of earlier
/// inputs that compiled it in line (docs/tiering.md, "Redefining
/// builtins"), also inside a closure they made, and the builtin again once
/// it is restored.
const BUILTIN_REDEFINITION: &str = "(define (f x) (car x))\n(define (g v) (vector-ref v 0))\n\
     (define (h) (lambda (p) (cdr p)))\n(define k (h))\n(list (f '(1)) (g #(2)) (k '(3 . 4)))\n\
     (define original-car car)\n(define original-cdr cdr)\n(define (car x) 'mine)\n\
     (set! vector-ref (lambda (v i) 'mine-too))\n(define cdr car)\n\
     (list (f '(1)) (g #(2)) (k '(3 . 4)))\n\
     (define car original-car)\n(define cdr original-cdr)\n(list (f '(1)) (k '(3 . 4)))\n";
const BUILTIN_REDEFINITION_OUT: &str = "(1 2 4)\n(mine mine-too mine)\n(1 4)\n";

fn builtin_redefinition(engine: &str) {
    let (out, err, code) = session(engine, BUILTIN_REDEFINITION);
    assert_eq!(out, BUILTIN_REDEFINITION_OUT);
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

/// [`builtin_redefinition`] with the procedures compiled at their first
/// call (tier 1) and in the default mode.
#[test]
fn builtin_redefinition_in_tiered_sessions() {
    for tier in ["eager", "auto"] {
        let (out, err, code) = session_tier("", tier, BUILTIN_REDEFINITION);
        assert_eq!(out, BUILTIN_REDEFINITION_OUT, "VALK_TIER={tier}");
        assert_eq!(err, "", "VALK_TIER={tier}");
        assert_eq!(code, 0);
    }
}

fn error_then_correct_form(engine: &str) {
    let (out, err, code) = session(
        engine,
        "(car 5)\n(display \"after\")\n(undefined-thing)\n(+ 2 2)\n",
    );
    assert_eq!(out, "after4\n");
    assert!(err.contains("error: car: expected a pair: 5"), "{err}");
    assert!(
        err.contains("error: unbound variable: undefined-thing"),
        "{err}"
    );
    assert!(err.contains("<repl>:1:2"), "{err}");
    assert_eq!(code, 0, "the REPL keeps going after errors");
}

fn runtime_error_keeps_earlier_output_and_definitions(engine: &str) {
    let input =
        "(define total 5)\n(begin (display \"partial\") (newline) (vector-ref (vector) 1))\n\
                 (set! total (+ total 1))\ntotal\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "partial\n6\n");
    assert!(
        err.contains("error: vector-ref: index out of range: 1"),
        "{err}"
    );
    assert_eq!(code, 0);
}

/// A continuation captured by one input and invoked by a later one
/// finishes the earlier input's computation and prints its value as the
/// later input's (each input has its own prompt: docs/continuations.md);
/// an error inside a `dynamic-wind` or a handler leaves no dynamic state
/// behind for the next input.
fn continuations_across_inputs(engine: &str) {
    let input = "(define k #f)
                 (+ 1 (call/cc (lambda (c) (set! k c) 1)))
                 (k 10)
                 (k 20)
                 (with-exception-handler (lambda (e) 0) (lambda () (dynamic-wind (lambda () #f) (lambda () (car 5)) (lambda () (display \"out\")))))
                 (guard (e (#t (list 'caught e))) (raise 'x))
                 (reset (+ 1 (shift k (k 2))))
";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "2\n11\n21\n(caught x)\n3\n", "{err}");
    assert!(
        err.contains(
            "exception handler returned from non-continuable raise: car: expected a pair: 5"
        ),
        "{err}"
    );
    assert_eq!(code, 0);
}

fn syntax_error_is_reported_and_session_goes_on(engine: &str) {
    let (out, err, code) = session(engine, "(if)\n)\n(* 6 7)\n");
    assert_eq!(out, "42\n");
    assert!(err.contains("error: if:"), "{err}");
    assert!(err.contains("error: unexpected `)`"), "{err}");
    assert_eq!(code, 0);
}

fn unfinished_input_at_the_end(engine: &str) {
    let (out, err, code) = session(engine, "(+ 1 1)\n(display \"never\"\n");
    assert_eq!(out, "2\n");
    assert!(err.contains("error:"), "{err}");
    assert_eq!(code, 0);
}

/// The numbers of a `,time` line:
/// `;; W ms wall, C collections (G ms in GC), B bytes allocated`.
fn parse_time_line(line: &str) -> (f64, u64, f64, u64) {
    let rest = line.strip_prefix(";; ").expect(line);
    let (wall, rest) = rest.split_once(" ms wall, ").expect(line);
    let (colls, rest) = rest.split_once(" collections (").expect(line);
    let (gc, rest) = rest.split_once(" ms in GC), ").expect(line);
    let bytes = rest.strip_suffix(" bytes allocated").expect(line);
    (
        wall.parse().expect(line),
        colls.parse().expect(line),
        gc.parse().expect(line),
        bytes.parse().expect(line),
    )
}

fn time_command(engine: &str) {
    let input = "(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))\n\
                 ,time (length (build 200000))\n,time (+ 1 1)\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "200000\n2\n");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    let (wall, _, gc, bytes) = parse_time_line(lines[0]);
    assert!(wall > 0.0 && gc >= 0.0 && gc <= wall, "{err}");
    // 200000 pairs of two words at least.
    assert!(bytes >= 200_000 * 16, "{err}");
    let (_, colls, _, _) = parse_time_line(lines[1]);
    assert_eq!(colls, 0, "{err}");
    assert_eq!(code, 0);
}

fn time_of_a_failing_expression(engine: &str) {
    let (out, err, _) = session(engine, ",time (car '())\n(+ 1 2)\n");
    assert_eq!(out, "3\n");
    assert!(err.contains("error: car: expected a pair: ()"), "{err}");
    assert!(err.contains(" ms wall, "), "{err}");
}

// Needs `Session::vir_text` (the lead's lowering of REPL inputs).
fn vir_command(engine: &str) {
    let (out, err, code) = session(
        engine,
        "(define (sq x) (* x x))\n,vir (lambda (y) (sq (+ y 1)))\n(sq 3)\n",
    );
    assert!(out.contains("function @"), "{out}\n{err}");
    assert!(out.contains("$sq"), "{out}\n{err}");
    assert!(out.ends_with("\n9\n"), "{out}\n{err}");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

// Needs `Session::llvm_text` (the lead's JIT pipeline).
fn llvm_command(engine: &str) {
    let (out, err, code) = session(engine, ",llvm (lambda (y) (+ y 1))\n(+ 1 2)\n");
    assert!(out.contains("define "), "{out}\n{err}");
    assert!(out.contains("target triple"), "{out}\n{err}");
    assert!(out.ends_with("\n3\n"), "{out}\n{err}");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

fn vir_of_bad_input_is_an_error(engine: &str) {
    let (out, err, _) = session(engine, ",vir (if)\n,llvm (lambda\n(+ 2 3)\n");
    assert_eq!(out, "5\n");
    assert!(err.contains("error: if:"), "{err}");
    assert!(err.matches("error:").count() >= 2, "{err}");
}

fn load_command(engine: &str) {
    let dir = scratch(&format!("load{}", engine.trim_start_matches('-')));
    let lib = dir.join("lib.valk");
    std::fs::write(
        &lib,
        "(define (triple x) (* 3 x))\n(display \"loaded\")\n(newline)\n",
    )
    .unwrap();
    let input = format!(
        ",load {}\n(triple 14)\n,load \"{}\"\n,load {}/missing.valk\n(triple 1)\n",
        lib.display(),
        lib.display(),
        dir.display()
    );
    let (out, err, code) = session(engine, &input);
    assert_eq!(out, "loaded\n42\nloaded\n3\n");
    assert!(err.contains("error: cannot read "), "{err}");
    assert!(err.contains("missing.valk"), "{err}");
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

fn meta_commands(engine: &str) {
    let (out, err, code) = session(
        engine,
        ",help\n,bogus\n,time\n,load\n(* 2 21)\n,quit\n(display \"not reached\")\n",
    );
    for cmd in [
        ",load FILE",
        ",time EXPR",
        ",vir EXPR",
        ",llvm EXPR",
        ",describe NAME",
        ",apropos STR",
        ",trace NAME",
        ",untrace NAME",
        ",profile EXPR",
        ",disasm NAME",
        ",quit",
    ] {
        assert!(out.contains(cmd), "{out}");
    }
    assert!(out.ends_with("42\n"), "{out}");
    assert!(err.contains("error: unknown command ,bogus"), "{err}");
    assert!(err.contains("error: ,time needs an argument"), "{err}");
    assert!(err.contains("error: ,load needs an argument"), "{err}");
    assert!(!out.contains("not reached"));
    assert_eq!(code, 0);
}

fn no_banner_or_prompt_when_piped(engine: &str) {
    let (out, err, code) = session(engine, "");
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0));
}

/// `(exit n)` ends the session with status n after the output so far, also
/// from a procedure and from a `,load`ed file; input after it is not read.
fn exit_ends_the_session_with_its_status(engine: &str) {
    let (out, err, code) = session(engine, "(display \"a\")\n(exit 7)\n(display \"b\")\n");
    assert_eq!((out.as_str(), err.as_str(), code), ("a", "", 7));
    let input = "(define (quit n) (display n) (exit n))\n(+ 1 (quit 4))\n(display \"b\")\n";
    let (out, err, code) = session(engine, input);
    assert_eq!((out.as_str(), err.as_str(), code), ("4", "", 4));
    let dir = scratch(&format!("exit{engine}"));
    let file = dir.join("quits.valk");
    std::fs::write(
        &file,
        "(display \"in file\")\n(exit #f)\n(display \"not here\")\n",
    )
    .unwrap();
    let (out, err, code) = session(engine, &format!(",load {}\n1\n", file.display()));
    assert_eq!((out.as_str(), err.as_str(), code), ("in file", "", 1));
    let (out, _, code) = session(engine, "(exit)\n");
    assert_eq!((out.as_str(), code), ("", 0));
}

/// A piped session and the program's own input share standard input: a
/// form that reads takes the lines after it (docs/ports.md).
fn forms_read_the_lines_after_them(engine: &str) {
    let input = "(define line (read-line))\nhello there\n(define d (read))\n(a (b) \"c\")\n\
                 (write (list line d))\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "(\"hello there\" (a (b) \"c\"))");
    assert_eq!((err.as_str(), code), ("", 0));
}

fn syntax_error_discards_the_whole_form(engine: &str) {
    let input = "(define (f x)\n (+ x #q)\n (display \"BOOM\")\n x)\n(+ 1 2)\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(out, "3\n");
    assert!(!out.contains("BOOM"), "{out}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(
        err.starts_with("error: bad `#` syntax `#q`\n  --> <repl>:2:7\n"),
        "{err}"
    );
    assert_eq!(code, 0);
    // `f` was not defined.
    let (_, err, _) = session(engine, &format!("{input}(f 1)\n"));
    assert!(err.contains("error: unbound variable: f"), "{err}");
}

fn stray_closer_after_a_valid_form(engine: &str) {
    let (out, err, code) = session(engine, "(+ 1 2))\n(+ 3 4)\n");
    assert_eq!(out, "3\n7\n");
    assert_eq!(
        err,
        "error: unexpected `)`\n  --> <repl>:1:8\n  |\n1 | (+ 1 2))\n  |        ^\n\n"
    );
    assert_eq!(code, 0);
}

fn several_forms_in_one_write(engine: &str) {
    let (out, err, code) = session(
        engine,
        "(define x 1) (define y 2)\n(+ x y) (+ x\n y 10) ,q\n(+ 5 5)\n",
    );
    assert_eq!(out, "3\n13\n");
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

const FIB: &str =
    "(define (fib n) \"Fibonacci numbers.\" (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n";

fn describe_command(engine: &str) {
    let input = format!(
        "{FIB}(define x 42)\n(define-syntax swap! (syntax-rules () ((_ a b) (let ((t a)) (set! a b) (set! b t)))))\n\
         (define (opt a . rest) a)\n\
         ,describe fib\n,describe car\n,describe x\n,describe swap!\n,describe if\n,describe opt\n,describe nope\n"
    );
    let (out, err, code) = session(engine, &input);
    let kind = if engine == "--jit" {
        "compiled procedure (JIT)"
    } else {
        "interpreted procedure"
    };
    assert_eq!(
        out,
        format!(
            "fib: {kind}\n  arity: 1 required\n  defined at <repl>:1:1\n  doc: Fibonacci numbers.\n\
             car: builtin procedure\n  arity: 1 required\n\
             x: variable holding a number\n  value: 42\n  defined at <repl>:1:1\n\
             swap!: macro\n  defined at <repl>:1:1\n\
             if: special form\n\
             opt: {kind}\n  arity: 1 required + rest\n  defined at <repl>:1:1\n\
             nope: not bound\n"
        )
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

fn describe_shows_the_file_of_a_loaded_definition(engine: &str) {
    let dir = scratch(&format!("describe{}", engine.trim_start_matches('-')));
    let lib = dir.join("lib.valk");
    std::fs::write(
        &lib,
        "; the library\n\n  (define (triple x)\n    \"Three times x.\"\n    (* 3 x))\n",
    )
    .unwrap();
    let (out, err, _) = session(
        engine,
        &format!(",load {}\n,describe triple\n", lib.display()),
    );
    assert!(
        out.contains(&format!(
            "  defined at {}:3:3\n  doc: Three times x.\n",
            lib.display()
        )),
        "{out}"
    );
    assert_eq!(err, "");
    let _ = std::fs::remove_dir_all(&dir);
}

fn apropos_command(engine: &str) {
    let input = "(define (my-unusual-a) 1)\n(define my-unusual-b 2)\n(define-syntax my-unusual-c (syntax-rules () ((_) 3)))\n\
                 ,apropos y-unusu\n,apropos string-upc\n,apropos zzzqqq\n,apropos let*-v\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(
        out,
        "my-unusual-a  (procedure)\nmy-unusual-b  (variable)\nmy-unusual-c  (macro)\n\
         string-upcase  (procedure)\n\
         ;; no bound name contains \"zzzqqq\"\n\
         let*-values  (special form)\n"
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

/// The expected trace is Chez Scheme's (`trace` in Chez 9.5.8) for fib;
/// tail calls differ (docs/repl.md).
fn trace_and_untrace(engine: &str) {
    let input = format!(
        "{FIB}(define (v x) (values x 2))\n(define (bad x) (car x))\n\
         ,trace fib\n(fib 3)\n,trace v\n(v 1)\n,trace bad\n(bad 5)\n(fib 1)\n\
         ,untrace fib\n(fib 3)\n,trace car\n,trace x\n(define (fib n) n)\n,untrace fib\n(fib 7)\n"
    );
    let (out, err, code) = session(engine, &input);
    assert_eq!(
        out,
        "|(fib 3)\n| (fib 2)\n| |(fib 1)\n| |1\n| |(fib 0)\n| |0\n| 1\n| (fib 1)\n| 1\n|2\n2\n\
         |(v 1)\n|1\n 2\n1\n2\n\
         |(bad 5)\n\
         |(fib 1)\n|1\n1\n\
         2\n\
         7\n"
    );
    assert_eq!(
        err,
        "error: car: expected a pair: 5\n\
         error: ,trace: car is a builtin (compiled code may call it directly)\n\
         error: ,trace: x is not bound\n"
    );
    assert_eq!(code, 0);
}

fn profile_command(engine: &str) {
    let input = format!(
        "{FIB}(define (loop n) (if (> n 0) (loop (- n 1)) 'done))\n\
         ,profile (list (loop 3) (fib 10))\n(fib 10)\n,profile (+ 1 2)\n"
    );
    let (out, err, code) = session(engine, &input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "(done 55)", "{out}");
    assert!(
        lines[1].starts_with(";; profile: 181 calls of 2 procedures in "),
        "{out}"
    );
    assert_eq!(lines[2], ";;      calls       %  procedure");
    assert_eq!(lines[3], ";;        177    97.8  fib");
    assert_eq!(lines[4], ";;          4     2.2  loop");
    // The wrappers are gone afterwards.
    assert_eq!(lines[5], "55", "{out}");
    assert_eq!(lines[6], "3", "{out}");
    assert!(
        lines[7].starts_with(";; profile: 0 calls of 0 procedures"),
        "{out}"
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
}

fn disasm_command(engine: &str) {
    let input = format!("{FIB}(define (g x) (car x))\n,disasm g\n,disasm car\n,disasm if\n");
    let (out, err, code) = session(engine, &input);
    if engine == "--jit" {
        assert!(out.starts_with(";; g: fast entry at 0x"), "{out}");
        assert!(out.contains("valk_rt_arity"), "{out}");
        assert!(out.contains("  ret"), "{out}");
    } else {
        assert!(
            out.starts_with(";; g is interpreted (this session runs --no-jit): no machine code\n"),
            "{out}"
        );
    }
    assert!(
        out.ends_with(";; car is a builtin: Rust code of the runtime, not compiled by the JIT\n"),
        "{out}"
    );
    assert_eq!(err, "error: ,disasm: if is syntax, not a procedure\n");
    assert_eq!(code, 0);
}

/// Errors at the prompt print their message only; `,bt` shows the last
/// one's backtrace (docs/debugging.md).
fn backtrace_command(engine: &str) {
    let input = "(define (inner x) (car x))\n(define (outer x) (+ 1 (inner x)))\n,bt\n(outer 5)\n,bt\n(+ 1 2)\n,bt\n";
    let (out, err, code) = session(engine, input);
    assert_eq!(err, "error: car: expected a pair: 5\n");
    let trace = "backtrace (most recent call first):\n  in inner at <repl>:1:19\n  in outer at <repl>:1:24\n  at top level, <repl>:1:1\n";
    assert_eq!(
        out,
        format!(";; no backtrace: no error since the REPL started\n{trace}3\n{trace}")
    );
    assert_eq!(code, 0);
}

on_both_engines!(
    backtrace_command,
    describe_command,
    describe_shows_the_file_of_a_loaded_definition,
    apropos_command,
    trace_and_untrace,
    profile_command,
    disasm_command,
    syntax_error_discards_the_whole_form,
    stray_closer_after_a_valid_form,
    several_forms_in_one_write,
    forms_read_the_lines_after_them,
    exit_ends_the_session_with_its_status,
    prints_values_with_write,
    multi_line_input,
    redefinition,
    builtin_redefinition,
    error_then_correct_form,
    runtime_error_keeps_earlier_output_and_definitions,
    syntax_error_is_reported_and_session_goes_on,
    unfinished_input_at_the_end,
    time_command,
    time_of_a_failing_expression,
    vir_command,
    llvm_command,
    vir_of_bad_input_is_an_error,
    load_command,
    meta_commands,
    no_banner_or_prompt_when_piped,
    continuations_across_inputs,
);

#[test]
fn default_engine_reads_piped_input() {
    let (out, err, code) = session("", "(+ 1 2)\n");
    assert_eq!((out.as_str(), err.as_str(), code), ("3\n", "", 0));
}

#[test]
fn expression_flag_exit_status() {
    for engine in ["--no-jit", "--jit"] {
        let out = Command::new(env!("CARGO_BIN_EXE_valk"))
            .args([engine, "-e", "(begin (display 1) (exit 5) (display 2))"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1", "{engine}");
        assert_eq!(out.status.code(), Some(5), "{engine}");
    }
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
fn backtraces_can_be_turned_off() {
    let prog = "(define (f x) (car x))\n(f 1)\n";
    for engine in ["--no-jit", "--jit"] {
        for (setting, shown) in [("1", true), ("0", false)] {
            let out = Command::new(env!("CARGO_BIN_EXE_valk"))
                .args([engine, "-e", prog])
                .env("VALK_BACKTRACE", setting)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.starts_with("error: car: expected a pair: 1\n"), "{err}");
            assert_eq!(
                err.contains("backtrace"),
                shown,
                "{engine} {setting}: {err}"
            );
            assert_eq!(out.status.code(), Some(1));
        }
    }
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

/// The default REPL interprets forms at once and compiles a procedure once
/// it is hot: `,tier` follows it, and it keeps its identity. (`eager`
/// compiles at the first call and waits, so the output is deterministic.)
#[test]
fn tiered_repl_compiles_hot_procedures() {
    let input = format!(
        "{FIB},tier fib\n(define f fib)\n,disasm fib\n(fib 15)\n(fib 1)\n,tier fib\n(eq? f fib)\n\
         ,tier car\n,tier map\n,tier x\n(define x 1)\n,tier x\n"
    );
    let (out, err, code) = session_tier("", "eager", &input);
    assert_eq!(
        out,
        "fib: tier 0 (interpreted), 0 of 1 calls to tier 1\n\
         ;; fib is interpreted (tier 0, see ,tier fib): no machine code yet\n\
         610\n1\nfib: tier 1 (compiled)\n#t\n\
         car: builtin (native code)\nmap: tier 1 (compiled)\nx: not bound\nx is not a procedure\n"
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
}
