//! The REPL as a user at a terminal sees it: `valk` runs in a
//! pseudo-terminal (expectrl) and the test types keys, Ctrl-C and Ctrl-D
//! included. Every test runs on both engines (`interp::*` with `--no-jit`,
//! `jit::*` with `--jit`).
//!
//! Keys are typed only once the prompt they answer is shown: rustyline
//! asks the terminal for the cursor position before drawing a prompt and
//! would swallow keys typed meanwhile.

#[macro_use]
mod common;

use expectrl::{Eof, Session, WaitStatus};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PROMPT: &str = "valk> ";
const MORE: &str = "  ... ";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

struct Repl {
    s: Session,
    home: PathBuf,
}

impl Repl {
    /// Starts `valk ENGINE` in a terminal with HOME in a fresh directory
    /// (so the history goes there) and waits for the first prompt.
    fn start(engine: &str, test: &str) -> Repl {
        let home = std::env::temp_dir().join(format!(
            "valk-pty-{}-{test}{}",
            std::process::id(),
            engine.trim_start_matches('-')
        ));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_valk"));
        // `--jit`: every form compiled (the default REPL is tiered,
        // docs/tiering.md).
        cmd.arg(engine)
            .env("HOME", &home)
            .env("TERM", "xterm")
            .env("VALK_TIER", "1")
            .env_remove("VALK_GC_STATS");
        let mut s = Session::spawn(cmd).expect("valk starts in a pty");
        // Generous: the machine running the tests may be busy.
        s.set_expect_timeout(Some(Duration::from_secs(10)));
        let mut r = Repl { s, home };
        r.expect(PROMPT);
        r
    }

    /// Waits for `text`; returns what came before it.
    fn expect(&mut self, text: &str) -> String {
        match self.s.expect(text) {
            Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
            Err(e) => panic!("waiting for {text:?}: {e}"),
        }
    }

    fn send(&mut self, keys: &str) {
        self.s.send(keys).unwrap();
    }

    /// Types `line` and Enter, then waits for the next main prompt;
    /// returns the output in between.
    fn eval(&mut self, line: &str) -> String {
        self.send(line);
        self.send("\r");
        self.expect(PROMPT)
    }

    /// Presses Ctrl-C until the running evaluation reports `interrupted`
    /// (a press that arrives before the evaluation started is read by the
    /// line editor instead), then waits for the prompt.
    fn interrupt(&mut self) -> String {
        self.s.set_expect_timeout(Some(Duration::from_secs(2)));
        let mut seen = None;
        for _ in 0..5 {
            self.send(CTRL_C);
            if let Ok(found) = self.s.expect("error: interrupted") {
                seen = Some(String::from_utf8_lossy(found.before()).into_owned());
                break;
            }
        }
        self.s.set_expect_timeout(Some(Duration::from_secs(10)));
        let before = seen.expect("Ctrl-C interrupts the evaluation");
        self.expect(PROMPT);
        before
    }

    /// Waits for the process to end; returns its exit status.
    fn exit_status(&mut self) -> i32 {
        let _ = self.s.expect(Eof);
        match self.s.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("valk did not exit normally: {other:?}"),
        }
    }

    fn history(&self) -> String {
        std::fs::read_to_string(self.home.join(".valk_history")).unwrap_or_default()
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(Path::new(&self.home));
    }
}

fn banner_prompt_and_results(engine: &str) {
    let mut r = Repl::start(engine, "banner");
    r.send("(+ 1 2)\r");
    r.expect("3\r\n");
    r.expect(PROMPT);
    let out = r.eval("(list \"a\" #\\b 'c 1.5)");
    assert!(out.contains("(\"a\" #\\b c 1.5)"), "{out:?}");
    r.send(",quit\r");
    assert_eq!(r.exit_status(), 0);
}

fn banner_names_the_engine(engine: &str) {
    let home = std::env::temp_dir().join(format!("valk-pty-{}-name{engine}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_valk"));
    cmd.arg(engine).env("HOME", &home).env("TERM", "xterm");
    let mut s = Session::spawn(cmd).unwrap();
    s.set_expect_timeout(Some(Duration::from_secs(10)));
    let found = s.expect(PROMPT).expect("prompt");
    let banner = String::from_utf8_lossy(found.before()).into_owned();
    let name = if engine == "--jit" {
        "(JIT)"
    } else {
        "(interpreter)"
    };
    assert!(banner.contains("Valk "), "{banner:?}");
    assert!(banner.contains(name), "{banner:?}");
    let _ = std::fs::remove_dir_all(&home);
}

fn multi_line_input(engine: &str) {
    let mut r = Repl::start(engine, "multi");
    r.send("(define (sq x)\r");
    r.expect(MORE);
    r.send("  (* x\r");
    r.expect(MORE);
    r.send("     x))\r");
    r.expect(PROMPT);
    let out = r.eval("(sq 12)");
    assert!(out.contains("144\r\n"), "{out:?}");
    // Ctrl-C at the continuation prompt abandons the unfinished form.
    r.send("(sq\r");
    r.expect(MORE);
    r.send(CTRL_C);
    r.expect(PROMPT);
    let out = r.eval("(sq 5)");
    assert!(out.contains("25\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn redefinition(engine: &str) {
    let mut r = Repl::start(engine, "redef");
    r.eval("(define (f x) (* x 10))");
    r.eval("(define (g x) (+ (f x) 1))");
    assert!(r.eval("(g 4)").contains("41\r\n"));
    r.eval("(define (f x) (* x 100))");
    let out = r.eval("(g 4)");
    assert!(out.contains("401\r\n"), "{out:?}");
}

/// A builtin that an earlier input compiled in line, redefined by a later
/// one (docs/tiering.md, "Redefining builtins"), then restored.
fn builtin_redefinition(engine: &str) {
    let mut r = Repl::start(engine, "builtin-redef");
    r.eval("(define (f x) (car x))");
    assert!(r.eval("(f '(1))").contains("1\r\n"));
    r.eval("(define original-car car)");
    r.eval("(define (car x) 'mine)");
    let out = r.eval("(f '(1))");
    assert!(out.contains("mine\r\n"), "{out:?}");
    r.eval("(set! car original-car)");
    let out = r.eval("(f '(1))");
    assert!(out.contains("1\r\n") && !out.contains("mine"), "{out:?}");
}

fn error_then_correct_form(engine: &str) {
    let mut r = Repl::start(engine, "error");
    let out = r.eval("(car 5)");
    assert!(out.contains("error: car: expected a pair: 5"), "{out:?}");
    let out = r.eval("(no-such-procedure 1)");
    assert!(
        out.contains("error: unbound variable: no-such-procedure"),
        "{out:?}"
    );
    let out = r.eval("(* 6 7)");
    assert!(out.contains("42\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn time_command(engine: &str) {
    let mut r = Repl::start(engine, "time");
    let out = r.eval(",time (vector-length (make-vector 1000 0))");
    assert!(out.contains("1000\r\n"), "{out:?}");
    assert!(out.contains(";; "), "{out:?}");
    assert!(out.contains(" ms wall, "), "{out:?}");
    assert!(out.contains(" collections ("), "{out:?}");
    assert!(out.contains(" bytes allocated"), "{out:?}");
}

fn tab_completion(engine: &str) {
    let mut r = Repl::start(engine, "tab");
    r.eval("(define (my-unusual-procedure x) (* x 1000))");
    // One candidate: completed in full. Without completion the call below
    // would name an unbound variable.
    r.send("(my-unu");
    r.send("\t");
    r.expect("sual-procedure");
    let out = r.eval(" 7)");
    assert!(out.contains("7000\r\n"), "{out:?}");
    assert!(!out.contains("unbound"), "{out:?}");
    // A special form: `defi` completes to the common prefix `define`.
    r.send("(defi");
    r.send("\t");
    r.expect("ne");
    r.eval(" zz 5)");
    let out = r.eval("zz");
    assert!(out.contains("5\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn ctrl_c_interrupts_a_loop(engine: &str) {
    let mut r = Repl::start(engine, "ctrlc");
    r.eval("(define kept 41)");
    r.send("(let loop ((i 0)) (loop (+ i 1)))\r");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    r.interrupt();
    let out = r.eval("(+ kept 1)");
    assert!(out.contains("42\r\n"), "{out:?}");
    // And again: the interrupt was taken, not left pending.
    r.send("(let loop () (loop))\r");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    r.interrupt();
    let out = r.eval("(+ 1 2)");
    assert!(out.contains("3\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn ctrl_c_interrupts_deep_recursion(engine: &str) {
    let mut r = Repl::start(engine, "deep");
    r.eval("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))");
    // 100000 frames deep, then non-tail calls only (no loop) for ever.
    r.eval("(define (deep n) (if (= n 0) (fib 100) (+ 1 (deep (- n 1)))))");
    r.send("(deep 100000)\r");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(500));
    r.interrupt();
    let out = r.eval("(fib 15)");
    assert!(out.contains("610\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn ctrl_c_interrupts_mutual_tail_calls(engine: &str) {
    // Only tail calls: no loop back edge and no call that needs a stack
    // check, so the procedures' entries must poll.
    let mut r = Repl::start(engine, "mutual");
    r.eval("(define (ping n) (pong (+ n 1)))");
    r.eval("(define (pong n) (ping (- n 1)))");
    r.send("(ping 0)\r");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(300));
    r.interrupt();
    let out = r.eval("(+ 1 2)");
    assert!(out.contains("3\r\n"), "{out:?}");
}

fn ctrl_d_exits_and_history_is_kept(engine: &str) {
    let mut r = Repl::start(engine, "ctrld");
    r.eval("(+ 40 2)");
    r.send("(define (h x)\r");
    r.expect(MORE);
    r.send("x)\r");
    r.expect(PROMPT);
    r.send(CTRL_D);
    assert_eq!(r.exit_status(), 0);
    let text = r.history();
    assert!(text.contains("(+ 40 2)"), "{text:?}");
    assert!(text.contains("(define (h x)"), "{text:?}");
}

fn quit_saves_history_and_next_session_recalls_it(engine: &str) {
    let mut r = Repl::start(engine, "hist");
    r.eval("(* 111 3)");
    r.send(",quit\r");
    assert_eq!(r.exit_status(), 0);
    assert!(r.history().contains("(* 111 3)"), "{:?}", r.history());
    assert!(r.history().contains(",quit"), "{:?}", r.history());
    // A new session in the same HOME: Up twice recalls the expression.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_valk"));
    cmd.arg(engine).env("HOME", &r.home).env("TERM", "xterm");
    let mut s = Session::spawn(cmd).unwrap();
    s.set_expect_timeout(Some(Duration::from_secs(10)));
    s.expect(PROMPT).unwrap();
    s.send("\x1b[A\x1b[A\r").unwrap();
    s.expect("333\r\n").expect("the recalled line is evaluated");
}

fn syntax_error_discards_the_whole_form(engine: &str) {
    let mut r = Repl::start(engine, "synerr");
    r.send("(define (f x)\r");
    r.expect(MORE);
    r.send(" (+ x #q)\r");
    r.expect(MORE);
    r.send(" (display \"BOOM\")\r");
    r.expect(MORE);
    let out = r.eval(" x)");
    assert!(out.contains("error: bad `#` syntax `#q`"), "{out:?}");
    assert!(out.contains("<repl>:2:7"), "{out:?}");
    assert!(!out.contains("BOOM\r\n"), "{out:?}");
    assert!(!out.contains("unexpected"), "{out:?}");
    let out = r.eval("(+ 1 2)");
    assert!(out.contains("3\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

fn stray_closer_after_a_valid_form(engine: &str) {
    let mut r = Repl::start(engine, "stray");
    let out = r.eval("(+ 1 2))");
    assert!(out.contains("3\r\n"), "{out:?}");
    assert!(out.contains("error: unexpected `)`"), "{out:?}");
    assert!(out.contains("<repl>:1:8"), "{out:?}");
}

fn lines_typed_ahead_in_one_burst(engine: &str) {
    let mut r = Repl::start(engine, "burst");
    // One write: rustyline must keep what follows the first line.
    r.send("(define x 1)\r(define y 2)\r(+ x y)\r");
    r.expect("3\r\n");
    r.expect(PROMPT);
    let out = r.eval("(list x y)");
    assert!(out.contains("(1 2)\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
    // Typed while an evaluation runs.
    r.send("(let loop ((i 0)) (if (< i 3000000) (loop (+ i 1)) 'done))\r(* 6 7)\r");
    r.expect("done\r\n");
    r.expect("42\r\n");
}

/// Defines `fib` with a docstring, over two lines (a line wider than the
/// terminal would make rustyline redraw the prompt).
fn define_fib(r: &mut Repl) {
    r.send("(define (fib n) \"Fibonacci.\"\r");
    r.expect(MORE);
    r.eval("  (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))");
}

fn describe_and_apropos(engine: &str) {
    let mut r = Repl::start(engine, "describe");
    define_fib(&mut r);
    // Tab completes the command name.
    r.send(",descr");
    r.send("\t");
    r.expect("ibe ");
    let out = r.eval("fib");
    assert!(out.contains("fib: "), "{out:?}");
    assert!(out.contains("  arity: 1 required\r\n"), "{out:?}");
    assert!(out.contains("  defined at <repl>:1:1\r\n"), "{out:?}");
    assert!(out.contains("  doc: Fibonacci.\r\n"), "{out:?}");
    let out = r.eval(",apropos string-upc");
    assert!(out.contains("string-upcase  (procedure)\r\n"), "{out:?}");
}

fn trace_and_untrace(engine: &str) {
    let mut r = Repl::start(engine, "trace");
    define_fib(&mut r);
    r.eval(",trace fib");
    let out = r.eval("(fib 2)");
    assert!(
        out.contains("|(fib 2)\r\n| (fib 1)\r\n| 1\r\n| (fib 0)\r\n| 0\r\n|1\r\n1\r\n"),
        "{out:?}"
    );
    r.eval(",untrace fib");
    let out = r.eval("(fib 2)");
    assert!(!out.contains('|'), "{out:?}");
    assert!(out.contains("1\r\n"), "{out:?}");
}

fn profile_command(engine: &str) {
    let mut r = Repl::start(engine, "profile");
    define_fib(&mut r);
    let out = r.eval(",profile (fib 10)");
    assert!(out.contains("55\r\n"), "{out:?}");
    assert!(
        out.contains(";; profile: 177 calls of 1 procedures"),
        "{out:?}"
    );
    assert!(out.contains(";;        177   100.0  fib\r\n"), "{out:?}");
}

fn backtrace_command(engine: &str) {
    let mut r = Repl::start(engine, "bt");
    r.eval("(define (inner x) (vector-ref x 3))");
    let out = r.eval("(inner (vector 1))");
    assert!(
        out.contains("error: vector-ref: index out of range: 3"),
        "{out:?}"
    );
    assert!(!out.contains("backtrace"), "{out:?}");
    let out = r.eval(",bt");
    assert!(
        out.contains("backtrace (most recent call first):\r\n  in inner at <repl>:1:19\r\n  at top level, <repl>:1:1\r\n"),
        "{out:?}"
    );
}

fn disasm_command(engine: &str) {
    let mut r = Repl::start(engine, "disasm");
    define_fib(&mut r);
    let out = r.eval(",disasm fib");
    if engine == "--jit" {
        assert!(out.contains(";; fib: fast entry at 0x"), "{out:?}");
        assert!(out.contains("valk_rt_arity"), "{out:?}");
    } else {
        assert!(out.contains(";; fib is interpreted"), "{out:?}");
    }
}

on_both_engines!(
    builtin_redefinition,
    backtrace_command,
    describe_and_apropos,
    trace_and_untrace,
    profile_command,
    disasm_command,
    syntax_error_discards_the_whole_form,
    stray_closer_after_a_valid_form,
    lines_typed_ahead_in_one_burst,
    banner_prompt_and_results,
    banner_names_the_engine,
    multi_line_input,
    redefinition,
    error_then_correct_form,
    time_command,
    tab_completion,
    ctrl_c_interrupts_a_loop,
    ctrl_c_interrupts_deep_recursion,
    ctrl_c_interrupts_mutual_tail_calls,
    ctrl_d_exits_and_history_is_kept,
    quit_saves_history_and_next_session_recalls_it,
);
