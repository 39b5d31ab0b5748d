//! Large programs (docs/architecture.md, "Large programs"): small seeded
//! sizes of the shapes `bench/compile-time/gen.py` writes, compiled on
//! every engine. Only the output is checked, never the time (the machine
//! running the tests may be busy): the interpreter, the JIT and AOT at
//! `-O0` and `-O2` must print the same, and the expected values.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory, removed when dropped.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        let d =
            std::env::temp_dir().join(format!("valk-compile-time-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Sandbox(d)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout_of(mut c: Command, what: &str) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The outputs of `program` on the interpreter, the JIT (with an empty
/// compile cache) and AOT at -O0 and -O2, all checked equal; returns it.
fn run_everywhere(s: &Sandbox, name: &str, program: &str) -> String {
    let file = s.0.join(format!("{name}.valk"));
    std::fs::write(&file, program).unwrap();
    let mut interp = Command::new(env!("CARGO_BIN_EXE_valk"));
    interp.arg("--no-jit").arg(&file);
    let expected = stdout_of(interp, "interpreter");
    let mut jit = Command::new(env!("CARGO_BIN_EXE_valk"));
    jit.arg(&file).env("VALK_CACHE_DIR", s.0.join("cache"));
    assert_eq!(stdout_of(jit, "JIT"), expected, "JIT on {name}");
    for level in ["-O0", "-O2"] {
        let exe = s.0.join(format!("{name}{level}"));
        let mut valkc = Command::new(env!("CARGO_BIN_EXE_valkc"));
        valkc
            .arg("compile")
            .arg(level)
            .arg(&file)
            .arg("-o")
            .arg(&exe);
        stdout_of(valkc, "valkc compile");
        let got = stdout_of(Command::new(Path::new(&exe)), "AOT executable");
        assert_eq!(got, expected, "AOT {level} on {name}");
    }
    expected
}

/// A deterministic pseudo-random sequence (the program's shape only).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `n` top-level statements: procedure definitions, global data, calls
/// that accumulate into a global, displays, and a big quoted list.
fn program(n: usize, seed: u64) -> (String, i64) {
    let mut r = Lcg(seed);
    let mut out = String::from("(define checksum 0)\n");
    let mut sum: i64 = 0;
    let mut procs: Vec<(String, i64)> = Vec::new();
    for i in 0..n {
        match r.below(4) {
            0 => {
                let k = r.below(9) as i64 + 1;
                out.push_str(&format!("(define (f{i} x y) (+ (* x {k}) y))\n"));
                procs.push((format!("f{i}"), k));
            }
            1 if !procs.is_empty() => {
                let (f, k) = &procs[r.below(procs.len() as u64) as usize];
                let (x, y) = (r.below(50) as i64, r.below(50) as i64);
                out.push_str(&format!("(set! checksum (+ checksum ({f} {x} {y})))\n"));
                sum += x * k + y;
            }
            2 => {
                let elems: Vec<i64> = (0..3 + r.below(8)).map(|_| r.below(100) as i64).collect();
                let text: Vec<String> = elems.iter().map(|e| e.to_string()).collect();
                out.push_str(&format!(
                    "(define d{i} '({}))\n(set! checksum (+ checksum (apply + d{i})))\n",
                    text.join(" ")
                ));
                sum += elems.iter().sum::<i64>();
            }
            _ => out.push_str(&format!("(display {i}) (newline)\n")),
        }
    }
    let big: Vec<String> = (0..n).map(|i| format!("(a . {i})")).collect();
    out.push_str(&format!(
        "(define big '({}))\n(display (length big)) (newline)\n(display checksum) (newline)\n",
        big.join(" ")
    ));
    (out, sum)
}

#[test]
fn many_top_level_forms() {
    let s = Sandbox::new("program");
    let (text, sum) = program(300, 17);
    let out = run_everywhere(&s, "program", &text);
    assert!(out.ends_with(&format!("300\n{sum}\n")), "{out}");
}

#[test]
fn long_argument_list() {
    let s = Sandbox::new("list");
    let n = 3000;
    let text = format!("(display (list{}))\n(newline)\n", " 1".repeat(n));
    let out = run_everywhere(&s, "list", &text);
    assert_eq!(out, format!("({})\n", vec!["1"; n].join(" ")));
}

#[test]
fn long_procedure_body() {
    let s = Sandbox::new("function");
    let mut text = String::from("(define (main)\n  (define acc 0)\n");
    for i in 0..400 {
        text.push_str(&format!("  (set! acc (+ acc {i}))\n"));
        if i % 50 == 0 {
            text.push_str("  (display acc) (newline)\n");
        }
    }
    text.push_str("  acc)\n(display (main)) (newline)\n");
    let out = run_everywhere(&s, "function", &text);
    assert!(
        out.ends_with(&format!("{}\n", (0..400).sum::<i64>())),
        "{out}"
    );
}

/// A continuation captured in one chunk of a long body and re-entered
/// from a later one (expected output from Chez Scheme 9.5.8).
#[test]
fn continuation_in_long_body() {
    let s = Sandbox::new("callcc");
    let mut text = String::from("(define k #f)\n(define n 0)\n(define (main)\n  (define acc 0)\n");
    for i in 0..300 {
        text.push_str(&format!("  (set! acc (+ acc {i}))\n"));
        if i == 20 {
            text.push_str("  (display (call/cc (lambda (c) (set! k c) 'first))) (newline)\n");
        }
        if i % 60 == 0 {
            text.push_str("  (display acc) (newline)\n");
        }
    }
    text.push_str("  (set! n (+ n 1))\n  (if (< n 3) (k n))\n  acc)\n(display (main)) (newline)\n");
    let out = run_everywhere(&s, "callcc", &text);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>().join(" "),
        "0 first 1830 7260 16290 28920 1 46470 51900 60930 73560 2 91110 96540 105570 \
         118200 134130"
    );
}

/// An error raised in a chunk of a long body is reported as in one
/// function, on every engine.
#[test]
fn error_in_long_body() {
    let s = Sandbox::new("error");
    let mut text = String::from("(define (main)\n  (define acc 0)\n");
    for i in 0..300 {
        text.push_str(&format!("  (set! acc (+ acc {i}))\n"));
        if i == 150 {
            text.push_str("  (display acc) (newline)\n  (car acc)\n");
        }
    }
    text.push_str("  acc)\n(main)\n");
    let file = s.0.join("error.valk");
    std::fs::write(&file, &text).unwrap();
    let mut runs: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut interp = Command::new(env!("CARGO_BIN_EXE_valk"));
    interp.arg("--no-jit").arg(&file);
    let mut jit = Command::new(env!("CARGO_BIN_EXE_valk"));
    jit.arg(&file).env("VALK_CACHE_DIR", s.0.join("cache"));
    for (what, mut c) in [("interpreter", interp), ("JIT", jit)] {
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{what}");
        runs.push((what.into(), o.stdout, o.stderr));
    }
    let exe = s.0.join("error-exe");
    let o = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .arg("compile")
        .arg("-O2")
        .arg(&file)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(&exe).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "AOT");
    runs.push(("AOT".into(), o.stdout, o.stderr));
    for (what, out, err) in &runs[1..] {
        assert_eq!(out, &runs[0].1, "stdout of {what}");
        assert_eq!(err, &runs[0].2, "stderr of {what}");
    }
    assert_eq!(
        String::from_utf8_lossy(&runs[0].1),
        format!("{}\n", (0..=150).sum::<i64>())
    );
}
