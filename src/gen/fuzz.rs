//! In-process fuzz targets (docs/testing.md, "Fuzz targets"): the reader,
//! the expander, and the compiler on generated programs (lowering, VIR
//! validation after every pass, LLVM emission, the LLVM verifier and code
//! generation). Every input is a function of (target, seed, index), so a
//! finding is reproduced from those three numbers alone.
//!
//! A target *fails* by panicking. [`fuzz_loop`] catches panics where the
//! build unwinds (tests, `dev`); the release profile aborts on panic, so
//! `valk-fuzz` runs the loop in a child process and restarts it after the
//! input that killed it (see `bin/valk-fuzz.rs`). A watchdog thread ends
//! the process with status [`HANG_STATUS`] when one input runs longer than
//! the hang limit, after writing the input down.

use crate::program;
use crate::rng::Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use valk::expand::{print_toplevel, Expander};
use valk::lower::LowerOptions;
use valk::pipeline;
use valk::syntax::reader::{is_incomplete, read_one, read_str, ReadOne, ReadOptions};
use valk::syntax::source::SourceMap;

/// The exit status of a fuzz process whose watchdog saw a hang.
pub const HANG_STATUS: i32 = 124;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Reader,
    Expander,
    Compiler,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Reader, Target::Expander, Target::Compiler];

    pub fn name(self) -> &'static str {
        match self {
            Target::Reader => "reader",
            Target::Expander => "expander",
            Target::Compiler => "compiler",
        }
    }

    pub fn from_name(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The input of `target` number `index` of the run with `seed`.
/// `corpus`: texts to mutate (the golden programs).
pub fn input(target: Target, seed: u64, index: u64, corpus: &[String]) -> String {
    let mut rng =
        Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ index.wrapping_mul(0x9e37_79b9));
    match target {
        Target::Reader => match rng.below(4) {
            0 => random_bytes(&mut rng),
            1 => soup(&mut rng, READER_TOKENS, 80),
            _ => {
                let base = if corpus.is_empty() {
                    soup(&mut rng, READER_TOKENS, 40)
                } else {
                    rng.pick(corpus).clone()
                };
                mutate(&mut rng, &base)
            }
        },
        Target::Expander => match rng.below(5) {
            0 => soup(&mut rng, &expander_tokens(), 60),
            1 | 2 => {
                let n = rng.range(1, 4);
                (0..n)
                    .map(|_| sexpr(&mut rng, 5))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            3 => macro_program(&mut rng),
            _ => {
                let p = program::generate_with(rng.next_u64(), &program::Options::small());
                mutate(&mut rng, &p)
            }
        },
        Target::Compiler => program::generate_with(rng.next_u64(), &program::Options::small()),
    }
}

const READER_TOKENS: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    "[",
    "]",
    "#(",
    "#u8(",
    "'",
    "`",
    ",",
    ",@",
    ".",
    " ",
    " ",
    "\n",
    "\"s\"",
    "\"un",
    "\"\\x41;\"",
    "\"\\q\"",
    "#\\",
    "#\\x41",
    "#\\space",
    "#\\(",
    "#|",
    "|#",
    "#;",
    ";c\n",
    "#!fold-case",
    "#!no-fold-case",
    "#0=",
    "#0#",
    "#1=",
    "|sym|",
    "|a\\|b|",
    "1/2",
    "#e1.5",
    "#x-ff",
    "1e400",
    "+nan.0",
    "-inf.0",
    "-i",
    "1@2",
    "#b102",
    "#t",
    "#false",
    "x",
    "λ",
    "\\x;",
    "+",
    "-",
    "...",
    "1.",
    ".5",
    "#d",
    "#i#x10",
    "+1/0",
    "1e",
    "#\\xD800",
    "#!eof",
    "\u{0}",
    "\u{7f}",
    "\t",
];

fn expander_tokens() -> Vec<&'static str> {
    let mut k = valk::expand::SPECIAL_FORMS.to_vec();
    k.extend([
        "(",
        ")",
        "(",
        ")",
        "(",
        ")",
        "'",
        "`",
        ",",
        ",@",
        ".",
        "...",
        "_",
        "x",
        "y",
        "1",
        "\"s\"",
        "#t",
        "()",
        "#(",
        "else",
        "=>",
        "syntax-rules",
        "define-syntax",
        "m",
    ]);
    k
}

const ATOMS: &[&str] = &[
    "x", "y", "z", "f", "1", "2", "-3", "2.5", "#t", "#f", "\"s\"", "\"\"", "#\\a", "'x", "()",
    "#()", "#u8(1)", "...", "_", "else", "=>",
];

fn random_bytes(rng: &mut Rng) -> String {
    let n = rng.below(200) as usize;
    let bytes: Vec<u8> = (0..n)
        .map(|_| {
            if rng.chance(3, 4) {
                // Mostly printable ASCII, which reaches the reader's
                // interesting paths more often than arbitrary bytes.
                32 + rng.below(95) as u8
            } else {
                rng.below(256) as u8
            }
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn soup(rng: &mut Rng, tokens: &[&str], max: u64) -> String {
    let n = rng.below(max);
    let mut s = String::new();
    for _ in 0..n {
        let t: &&str = rng.pick(tokens);
        s.push_str(t);
        if rng.chance(2, 3) {
            s.push(' ');
        }
    }
    s
}

/// A few random edits of `text`: deletions, insertions of reader tokens,
/// duplications, byte changes (kept valid UTF-8).
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..rng.range(1, 8) {
        let len = b.len() as u64;
        let at = rng.below(len + 1) as usize;
        match rng.below(4) {
            0 if len > 0 => {
                let end = (at + rng.below(20) as usize).min(b.len());
                b.drain(at..end);
            }
            1 => {
                let t = rng.pick(READER_TOKENS).as_bytes().to_vec();
                b.splice(at..at, t);
            }
            2 if len > 0 => {
                let end = (at + rng.below(40) as usize).min(b.len());
                let piece = b[at..end].to_vec();
                let to = rng.below(b.len() as u64 + 1) as usize;
                b.splice(to..to, piece);
            }
            _ if len > 0 => {
                let i = (at).min(b.len() - 1);
                b[i] = rng.below(128) as u8;
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// A random S-expression whose lists mostly start with a special form.
fn sexpr(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.chance(1, 4) {
        return if rng.chance(1, 2) {
            rng.pick(ATOMS).to_string()
        } else {
            rng.pick(valk::expand::SPECIAL_FORMS).to_string()
        };
    }
    let n = rng.below(5);
    let args: Vec<String> = (0..n).map(|_| sexpr(rng, depth - 1)).collect();
    match rng.below(9) {
        0..=3 => format!(
            "({} {})",
            rng.pick(valk::expand::SPECIAL_FORMS),
            args.join(" ")
        ),
        4 | 5 => format!("({})", args.join(" ")),
        6 => format!("({} . {})", args.join(" "), sexpr(rng, depth - 1)),
        7 => format!("#({})", args.join(" ")),
        _ => format!(
            "{}{}",
            rng.pick(&["'", "`", ",", ",@"]),
            sexpr(rng, depth - 1)
        ),
    }
}

/// Pieces of `syntax-rules` patterns, templates and uses (also the
/// expander's property tests, `tests/fuzz_expand.rs`).
pub const MACRO_PIECES: &[&str] = &[
    "a",
    "b",
    "c",
    "...",
    "_",
    "x",
    "1",
    "else",
    "(a ...)",
    "(b c ...)",
    "#(a ...)",
    "(a . b)",
    "((a b ...) ...)",
    "(... ...)",
];
/// Heads of `syntax-rules` templates.
pub const MACRO_HEADS: &[&str] = &[
    "",
    "if ",
    "m ",
    "let ((x 1)) ",
    "list ",
    "begin ",
    "define y ",
    "lambda (a) ",
];

/// A `syntax-rules` macro `m` with random patterns and templates, and
/// uses of it (also inside a body, where definitions may splice).
fn macro_program(rng: &mut Rng) -> String {
    let rule = |rng: &mut Rng| {
        let p: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(MACRO_PIECES)).collect();
        let t: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(MACRO_PIECES)).collect();
        format!(
            "((_ {}) ({}{}))",
            p.join(" "),
            rng.pick(MACRO_HEADS),
            t.join(" ")
        )
    };
    let rules: Vec<String> = (0..rng.range(1, 3)).map(|_| rule(rng)).collect();
    let lits = if rng.chance(1, 2) { "(else)" } else { "()" };
    let mut s = format!(
        "(define-syntax m (syntax-rules {lits} {}))\n",
        rules.join(" ")
    );
    for _ in 0..rng.range(1, 4) {
        let u: Vec<&str> = (0..rng.below(5)).map(|_| *rng.pick(MACRO_PIECES)).collect();
        let u = u.join(" ");
        s.push_str(&format!(
            "(m {u})\n(define (g) (m {u}) 1)\n(let () (m {u}))\n"
        ));
    }
    if rng.chance(1, 3) {
        s.push_str(&format!("(m {})\n", sexpr(rng, 3)));
    }
    s
}

/// What a target keeps between inputs (LLVM backends are made once).
#[derive(Default)]
pub struct Ctx {
    backends: Vec<(u32, valk_llvm::Backend)>,
}

/// Runs one input through `target`; panics on a defect (a panic inside
/// the compiler, or a generated program it refuses).
pub fn run_one(target: Target, text: &str, ctx: &mut Ctx, index: u64) {
    match target {
        Target::Reader => reader_one(text),
        Target::Expander => expander_one(text),
        Target::Compiler => compiler_one(text, ctx, index),
    }
}

fn reader_one(text: &str) {
    check_reader_input(text);
}

/// The invariants every reader input must satisfy, whatever it is: no
/// panic through `read_str` or the incremental `read_one`, error spans
/// inside the text on character boundaries, errors rendered with the file
/// name, and both entry points agreeing on whether the text is incomplete
/// (also the property tests' check, `tests/fuzz_reader.rs`).
pub fn check_reader_input(text: &str) {
    let mut sm = SourceMap::new();
    let result = read_str(&mut sm, "fuzz.valk", text);
    let incomplete = is_incomplete(text);
    match result {
        Ok(_) => assert!(!incomplete, "read fine but reported incomplete: {text:?}"),
        Err(e) => {
            let span = e.span.expect("reader errors carry a span");
            let (s, t) = (span.start as usize, span.end as usize);
            assert!(s <= t && t <= text.len(), "span {s}..{t} outside {text:?}");
            assert!(
                text.is_char_boundary(s) && text.is_char_boundary(t),
                "span {s}..{t} splits a character in {text:?}"
            );
            let out = e.render(&sm);
            assert!(out.starts_with("error: "), "{out}");
            assert!(out.contains("fuzz.valk:"), "{out}");
        }
    }
    check_read_one(text);
}

/// `read_one` on `text` and on every suffix where it stops: never panics,
/// offsets stay inside the text on character boundaries.
fn check_read_one(text: &str) {
    let mut opts = ReadOptions::default();
    let mut rest = text;
    for _ in 0..100 {
        let at = |n: usize| {
            assert!(n <= rest.len(), "{n} past the end of {rest:?}");
            assert!(
                rest.is_char_boundary(n),
                "{n} splits a character in {rest:?}"
            );
        };
        match read_one(rest, &mut opts) {
            ReadOne::Datum(d, end) => {
                at(end);
                assert!(end > 0, "{rest:?}");
                assert!(d.span.start as usize <= d.span.end as usize);
                assert_eq!(d.span.end as usize, end, "{rest:?}");
                rest = &rest[end..];
            }
            ReadOne::Eof(n) => {
                assert_eq!(n, rest.len());
                return;
            }
            ReadOne::Incomplete => return,
            ReadOne::Error { start, end, .. } => {
                at(start);
                at(end);
                assert!(start <= end, "{rest:?}");
                if end == 0 {
                    return;
                }
                rest = &rest[end..];
            }
        }
    }
}

fn expander_one(text: &str) {
    let mut sm = SourceMap::new();
    let Ok(datums) = read_str(&mut sm, "fuzz.valk", text) else {
        return;
    };
    let mut ex = Expander::new();
    for d in &datums {
        if let Ok(tops) = ex.expand_toplevel(d, &mut sm) {
            for t in &tops {
                let _ = print_toplevel(t);
            }
        }
    }
}

/// A generated program, expanded after the prelude, lowered (alone, the
/// prelude's globals predefined; globals fixed or in cells alternately)
/// at -O0 and -O2 with the validator after every pass, emitted as a JIT
/// module and compiled by LLVM (verifier included) into an object.
fn compiler_one(text: &str, ctx: &mut Ctx, index: u64) {
    let mut sources = SourceMap::new();
    let ex = match pipeline::expand_program(&mut sources, "fuzz.valk", text) {
        Ok(ex) => ex,
        Err(d) => panic!(
            "a generated program does not expand:\n{}",
            d.render(&sources)
        ),
    };
    let opts = LowerOptions {
        fixed_globals: index.is_multiple_of(2),
        predefined: ex.prelude_globals(),
        ..LowerOptions::default()
    };
    for level in [0u32, 2] {
        let mut l = valk::lower::lower_program(&ex.program, &sources, &opts)
            .unwrap_or_else(|d| panic!("lowering failed: {}", d.render(&sources)));
        pipeline::optimize_verified(&mut l, pipeline::opt_level(level))
            .unwrap_or_else(|d| panic!("-O{level}: {}", d.message));
        valk_vir::verify_module(&l.module).unwrap_or_else(|e| panic!("-O{level}: {e}"));
        let tops = l.toplevels.clone();
        let ir = pipeline::emit_llvm(
            &l,
            &tops,
            &sources,
            pipeline::Target::JitModule {
                descriptor: "fuzz_desc",
            },
        )
        .unwrap_or_else(|e| panic!("-O{level}: emit: {e}"));
        if !ctx.backends.iter().any(|(n, _)| *n == level) {
            let b = valk_llvm::Backend::new(level).unwrap_or_else(|e| panic!("backend: {e}"));
            ctx.backends.push((level, b));
        }
        let backend = &ctx.backends.iter().find(|(n, _)| *n == level).unwrap().1;
        backend
            .compile(&ir, level, valk_llvm::Output::Object)
            .unwrap_or_else(|e| panic!("-O{level}: LLVM: {e}"));
    }
}

/// The golden programs' texts (the reader's mutation corpus).
pub fn load_corpus(dir: &Path) -> Vec<String> {
    let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "valk"))
                .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.into_iter().map(|(_, t)| t).collect()
}

/// A defect found by [`fuzz_loop`].
#[derive(Clone, Debug)]
pub struct Crash {
    pub index: u64,
    pub input: String,
    pub message: String,
}

/// Where a loop reports the input it is on (so a process that died can be
/// resumed after it), and where a hang is written down.
pub struct Progress {
    /// A file holding the current index as 8 little-endian bytes.
    pub current: Option<std::fs::File>,
    /// Directory for hang reports (`hang-<target>-<seed>-<index>.valk`).
    pub findings: Option<PathBuf>,
    /// Self-test of the harness: panic on this input ...
    pub inject_panic: Option<u64>,
    /// ... and hang on this one (`VALK_FUZZ_SELFTEST`, docs/testing.md).
    pub inject_hang: Option<u64>,
}

impl Progress {
    /// No progress file, no findings directory, no injected defects.
    pub fn none() -> Progress {
        Progress {
            current: None,
            findings: None,
            inject_panic: None,
            inject_hang: None,
        }
    }
}

/// Runs inputs `start..start+count` of `target` (or until `deadline`),
/// catching panics where the build unwinds; a watchdog ends the process
/// with [`HANG_STATUS`] if one input takes longer than `hang`. Returns the
/// crashes and the number of inputs run.
#[allow(clippy::too_many_arguments)]
pub fn fuzz_loop(
    target: Target,
    seed: u64,
    start: u64,
    count: u64,
    deadline: Option<Instant>,
    corpus: &[String],
    hang: Duration,
    progress: &mut Progress,
) -> (Vec<Crash>, u64) {
    let epoch = Instant::now();
    // The index being run and when it started (ms since `epoch`, +1 so
    // that 0 means "idle").
    let current = Arc::new(AtomicU64::new(start));
    let started = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (current, started, done) = (current.clone(), started.clone(), done.clone());
        let corpus = corpus.to_vec();
        let findings = progress.findings.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let s = started.load(Ordering::Relaxed);
                if s == 0 {
                    continue;
                }
                let now = epoch.elapsed().as_millis() as u64 + 1;
                if now.saturating_sub(s) > hang.as_millis() as u64 {
                    let i = current.load(Ordering::Relaxed);
                    let text = input(target, seed, i, &corpus);
                    let name = format!("hang-{}-{seed}-{i}.valk", target.name());
                    if let Some(dir) = &findings {
                        let _ = std::fs::create_dir_all(dir);
                        let _ = std::fs::write(dir.join(&name), &text);
                    }
                    eprintln!(
                        "valk-fuzz: {} input {i} (seed {seed}) ran over {:?}: {name}\n{text}",
                        target.name(),
                        hang
                    );
                    std::process::exit(HANG_STATUS);
                }
            }
        })
    };
    let mut ctx = Ctx::default();
    let mut crashes = Vec::new();
    let mut n = 0;
    for i in start..start.saturating_add(count) {
        if n % 64 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let text = input(target, seed, i, corpus);
        current.store(i, Ordering::Relaxed);
        if let Some(f) = &progress.current {
            use std::os::unix::fs::FileExt;
            let _ = f.write_at(&i.to_le_bytes(), 0);
        }
        started.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let (inject_panic, inject_hang) = (progress.inject_panic, progress.inject_hang);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if inject_panic == Some(i) {
                panic!("injected panic (VALK_FUZZ_SELFTEST)");
            }
            if inject_hang == Some(i) {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            run_one(target, &text, &mut ctx, i)
        }));
        started.store(0, Ordering::Relaxed);
        n += 1;
        if let Err(p) = r {
            let message = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            // A panic may leave LLVM state half-built: start afresh.
            ctx = Ctx::default();
            crashes.push(Crash {
                index: i,
                input: text,
                message,
            });
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    (crashes, n)
}
