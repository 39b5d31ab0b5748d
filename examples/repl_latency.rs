//! JIT latency per REPL form: feeds a session of typical definitions and
//! expressions to a JIT session, one input at a time as the REPL does, and
//! reports the median and 95th percentile of the time from input text to
//! printed result (read, expand, lower, LLVM, link, run).
//!
//! `cargo run --release --example repl_latency [-- N | FILE]` (N inputs,
//! default 200; or the lines of FILE, one input each); `VALK_JIT_OPT` and
//! `VALK_TIER` select the level and the tier mode as for `valk`
//! (docs/tiering.md).

use std::time::Instant;
use valk::driver::{self, EngineKind, Session};

/// Input `i` of the session: definitions and uses cycle through the kinds
/// of forms people type (procedures, loops, lists, strings, closures,
/// records, arithmetic), each with fresh names.
fn form(i: usize) -> String {
    let k = i / 10;
    match i % 10 {
        0 => format!("(define (fib{k} n) (if (< n 2) n (+ (fib{k} (- n 1)) (fib{k} (- n 2)))))"),
        1 => format!("(fib{k} 20)"),
        2 => format!(
            "(define (sum-list{k} xs) (let loop ((xs xs) (acc 0)) \
             (if (null? xs) acc (loop (cdr xs) (+ acc (car xs))))))"
        ),
        3 => format!("(sum-list{k} (map (lambda (x) (* x x)) (iota 100)))"),
        4 => format!("(define counter{k} (let ((n 0)) (lambda () (set! n (+ n 1)) n)))"),
        5 => format!("(begin (counter{k}) (counter{k}) (counter{k}))"),
        6 => format!(
            "(define-record-type point{k} (make-point{k} x y) point{k}? \
             (x point{k}-x) (y point{k}-y set-point{k}-y!))"
        ),
        7 => format!("(let ((p (make-point{k} {k} 2))) (set-point{k}-y! p 5) (+ (point{k}-x p) (point{k}-y p)))"),
        8 => format!(
            "(define (greet{k} name) (string-append \"hello, \" name \"!\"))"
        ),
        _ => format!("(list (greet{k} \"valk\") (vector-map (lambda (x) (+ x 1)) #(1 2 3)) (assq 'b '((a 1) (b 2))))"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let arg = std::env::args().nth(1);
    let inputs: Vec<String> = match arg.as_deref().map(|a| (a, a.parse::<usize>())) {
        Some((_, Ok(n))) => (0..n).map(form).collect(),
        Some((path, Err(_))) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        None => (0..200).map(form).collect(),
    };
    let n = inputs.len();
    let (startup, mut times) = driver::with_big_stack(move || {
        let t0 = Instant::now();
        let mut session = Session::with_engine(EngineKind::Jit).expect("JIT session starts");
        let startup = t0.elapsed().as_secs_f64() * 1e3;
        let mut times = Vec::with_capacity(n);
        for (i, text) in inputs.iter().enumerate() {
            let t = Instant::now();
            if session.run_source("<repl>", text, true).is_err() {
                eprintln!("input {i} failed: {text}");
                std::process::exit(1);
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        valk_runtime::io::flush_stdout();
        (startup, times)
    })
    .expect("the evaluation thread runs");
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    eprintln!(
        "JIT REPL latency over {n} inputs (VALK_JIT_OPT={}, VALK_TIER={}): median {:.2} ms, p95 {:.2} ms, \
         mean {:.2} ms, max {:.2} ms; session start-up (prelude) {:.0} ms",
        std::env::var("VALK_JIT_OPT").unwrap_or_else(|_| valk::jit::DEFAULT_OPT.to_string()),
        std::env::var("VALK_TIER").unwrap_or_else(|_| "default".into()),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        mean,
        times[times.len() - 1],
        startup
    );
}
