//! The golden corpus: every `tests/programs/*.valk` runs on every engine
//! that exists, with and without GC stress, and must produce exactly its
//! `.out` (stdout), `.err` (stderr, when present) and `.status` (exit
//! status, 0 when absent).
//!
//! A program may say `;; gc-stress: N` in its first lines: under stress it
//! then collects at every N-th allocation instead of every one (for
//! programs making millions of allocations, which would take hours with a
//! collection at each). Everything else collects at every allocation.
//!
//! Heap verification (`VALK_GC_VERIFY=1`, docs/gc.md "Tests"): every normal
//! run verifies (collections are few there, so it costs little; the
//! programs that allocate heavily collect many times even so), but for the
//! million-frame recursions ([`VERIFY_SKIP`]). Stress runs
//! do not: checking at every collection would multiply their time by five
//! to ten. The stores that miss the write barrier are looked for by an
//! extra verified run, on the interpreter and `valk FILE`, under
//! minor-only stress at a coarser interval ([`MINOR_FACTOR`]), and the
//! collector's own programs (`gc-*`) also run verified under minor-only and
//! major-only stress on the interpreter and AOT -O2.
//!
//! A program's standard input is its `NAME.in` when that exists, else
//! null. Every run gets a fresh empty directory of its own in
//! `VALK_TEST_SCRATCH` (engines run in parallel, so programs that write
//! files must not share one), removed when the run ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Engine {
    Interp,
    /// `valkc compile -O0`, then the executable.
    AotO0,
    /// `valkc compile -O2`, then the executable.
    AotO2,
    /// As `AotO2`, with executables of its own (for the `gc-*` programs'
    /// extra modes, run while `AotO2`'s may be removed).
    AotO2Gc,
    /// `valk FILE`: the ORC JIT (the default engine).
    Jit,
    /// The JIT as the REPL uses it: the prelude, then the program as one
    /// more module with every global called through its cell
    /// (`VALK_JIT_WHOLE_PROGRAM=0`).
    JitIncremental,
    /// Tiered execution (docs/tiering.md): forms interpreted, hot
    /// procedures compiled in the background (`VALK_TIER=auto`, with a low
    /// threshold so that tier-ups happen in small programs too).
    TierAuto,
    /// Every candidate procedure compiled at its first call
    /// (`VALK_TIER=eager`).
    TierEager,
    /// Forms interpreted after the compiled prelude, never tiered up
    /// (`VALK_TIER=0`).
    TierNever,
}

impl Engine {
    fn command(self, program: &Path) -> Command {
        match self {
            Engine::Interp => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
                c.arg("--no-jit").arg(program);
                c
            }
            Engine::Jit
            | Engine::JitIncremental
            | Engine::TierAuto
            | Engine::TierEager
            | Engine::TierNever => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
                if self == Engine::JitIncremental {
                    c.env("VALK_JIT_WHOLE_PROGRAM", "0");
                }
                let tier = match self {
                    Engine::TierAuto => "auto",
                    Engine::TierEager => "eager",
                    Engine::TierNever => "0",
                    _ => "1",
                };
                c.env("VALK_TIER", tier).env("VALK_TIER_CALLS", "20");
                // The compile cache of this test process: the first run of
                // a program compiles it, the second (stress) run links the
                // cached object.
                c.arg("--jit")
                    .arg(program)
                    .env("VALK_CACHE_DIR", jit_cache_dir(self));
                c
            }
            Engine::AotO0 => aot_command(program, 0, ""),
            Engine::AotO2 => aot_command(program, 2, ""),
            Engine::AotO2Gc => aot_command(program, 2, "-gc"),
        }
    }
}

/// Executables compiled so far, by (program, level): each program is
/// compiled once per level and run with and without GC stress.
static COMPILED: Mutex<Vec<((PathBuf, String), PathBuf)>> = Mutex::new(Vec::new());

/// The executables of one AOT engine: `level`, plus `tag` to keep another
/// engine's apart.
fn aot_dir(level: u32, tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "valk-golden-aot-{}-O{level}{tag}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Compiles `program` at `level` (once) and returns the command running
/// the executable; when compilation fails, the command is the compiler
/// itself, so its diagnostic and status are what the case compares.
fn aot_command(program: &Path, level: u32, tag: &str) -> Command {
    let key = (program.to_path_buf(), format!("O{level}{tag}"));
    let cached = COMPILED
        .lock()
        .unwrap()
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, exe)| exe.clone());
    let exe = cached.or_else(|| {
        let name = program.file_stem().unwrap().to_string_lossy().into_owned();
        let exe = aot_dir(level, tag).join(&name);
        let ok = compile_command(program, level, &exe)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| {
            COMPILED.lock().unwrap().push((key, exe.clone()));
            exe
        })
    });
    match exe {
        Some(exe) => Command::new(exe),
        None => compile_command(program, level, &aot_dir(level, tag).join("failed")),
    }
}

fn compile_command(program: &Path, level: u32, exe: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_valkc"));
    c.arg("compile")
        .arg(program)
        .arg(format!("-O{level}"))
        .arg("-o")
        .arg(exe);
    c
}

struct Case {
    program: PathBuf,
    stdout: String,
    stderr: Option<String>,
    status: i32,
    stress_interval: u32,
    /// `NAME.in`, the program's standard input, when it exists.
    stdin: Option<PathBuf>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<Case> {
    let dir = root().join("tests/programs");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/programs exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "valk"))
        .collect();
    entries.sort();
    for p in entries {
        let text = std::fs::read_to_string(&p).unwrap();
        let stress_interval = text
            .lines()
            .take(5)
            .find_map(|l| l.trim().strip_prefix(";; gc-stress:"))
            .and_then(|n| n.split_whitespace().next()?.parse().ok())
            .unwrap_or(1);
        let read = |ext: &str| std::fs::read_to_string(p.with_extension(ext)).ok();
        out.push(Case {
            stdout: read("out").unwrap_or_else(|| panic!("{} has no .out file", p.display())),
            stderr: read("err"),
            status: read("status").map_or(0, |s| s.trim().parse().expect("status is a number")),
            stress_interval,
            stdin: Some(p.with_extension("in")).filter(|i| i.is_file()),
            program: p.strip_prefix(root()).unwrap().to_path_buf(),
        });
    }
    assert!(out.len() >= 10, "the corpus is missing");
    out
}

const TIMEOUT: Duration = Duration::from_secs(600);

/// A fresh empty directory for one run, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let d = std::env::temp_dir().join(format!(
            "valk-golden-scratch-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How the collector runs a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// No stress; the heap verified around every collection.
    Normal,
    /// `VALK_GC_STRESS=N` (mixed minor and major collections), not
    /// verified (module docs).
    Stress,
    /// `VALK_GC_STRESS=minor:K` or `major:K` (`K` = `factor` times the
    /// program's interval), verified, with a 1 MiB initial old space so
    /// that major collections keep it small and each check stays cheap.
    Minor {
        factor: u32,
    },
    Major {
        factor: u32,
    },
}

/// The verified minor-stress run of the whole corpus collects at every
/// `MINOR_FACTOR * N`-th allocation (`N` the program's `gc-stress:`
/// interval, 1 without one). Measured in docs/gc.md, "Tests".
const MINOR_FACTOR: u32 = 100;
/// Programs whose interval is at least this recurse a million frames deep:
/// each check would walk millions of root-stack slots (`control-stack-
/// overflow` takes 85 s instead of 39 s in a verified normal run), so they
/// are never verified.
const VERIFY_SKIP: u32 = 100_000;

impl Mode {
    fn describe(self) -> &'static str {
        match self {
            Mode::Normal => " with VALK_GC_VERIFY",
            Mode::Stress => " with VALK_GC_STRESS",
            Mode::Minor { .. } => " with VALK_GC_STRESS=minor:K and VALK_GC_VERIFY",
            Mode::Major { .. } => " with VALK_GC_STRESS=major:K and VALK_GC_VERIFY",
        }
    }
}

/// Runs one case; `None` when it passed, else a description of the failure.
fn run_case(engine: Engine, case: &Case, mode: Mode) -> Option<String> {
    let scratch = Scratch::new();
    let stdin = match &case.stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).expect("NAME.in opens")),
        None => Stdio::null(),
    };
    let mut cmd = engine.command(&case.program);
    cmd.current_dir(root())
        .stdin(stdin)
        .env("VALK_TEST_SCRATCH", &scratch.0)
        // Compile-time warnings go to the compiler's stderr, which AOT
        // runs do not show: off, so every engine prints the same
        // (tests/warnings.rs checks the corpus's warnings).
        .env("VALK_WARNINGS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("VALK_GC_STATS");
    let interval = case.stress_interval;
    match mode {
        Mode::Normal => cmd.env_remove("VALK_GC_STRESS"),
        Mode::Stress => cmd.env("VALK_GC_STRESS", interval.to_string()),
        Mode::Minor { factor } => cmd.env("VALK_GC_STRESS", format!("minor:{}", factor * interval)),
        Mode::Major { factor } => cmd.env("VALK_GC_STRESS", format!("major:{}", factor * interval)),
    };
    if matches!(mode, Mode::Minor { .. } | Mode::Major { .. }) {
        cmd.env("VALK_HEAP_INITIAL", "1M");
    } else {
        cmd.env_remove("VALK_HEAP_INITIAL");
    }
    if mode != Mode::Stress && case.stress_interval < VERIFY_SKIP {
        cmd.env("VALK_GC_VERIFY", "1");
    } else {
        cmd.env_remove("VALK_GC_VERIFY");
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("engine starts");
    // Drain the pipes on threads so a chatty program cannot block.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Some(format!("timed out after {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    let code = status.code().unwrap_or(-1);
    let mut problems = Vec::new();
    if code != case.status {
        problems.push(format!("exit status {code}, expected {}", case.status));
    }
    if stdout != case.stdout {
        problems.push(format!(
            "stdout differs:\n{}",
            first_difference(&case.stdout, &stdout)
        ));
    }
    match &case.stderr {
        Some(expected) if *expected != stderr => problems.push(format!(
            "stderr differs:\n{}",
            first_difference(expected, &stderr)
        )),
        None if code == 0 && !stderr.is_empty() => {
            problems.push(format!("unexpected stderr:\n{stderr}"))
        }
        _ => {}
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "{}\n  stderr was: {}",
            problems.join("\n"),
            stderr.trim_end()
        ))
    }
}

fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<_>, Vec<_>) = (expected.lines().collect(), got.lines().collect());
    for i in 0..e.len().max(g.len()) {
        let (a, b) = (e.get(i), g.get(i));
        if a != b {
            return format!(
                "  line {}: expected {:?}\n  line {}:      got {:?}",
                i + 1,
                a.unwrap_or(&"<end>"),
                i + 1,
                b.unwrap_or(&"<end>")
            );
        }
    }
    "  (trailing newline differs)".into()
}

fn run_all(engine: Engine, mode: Mode) {
    run_cases(engine, mode, cases());
}

fn run_cases(engine: Engine, mode: Mode, cases: Vec<Case>) {
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(case) = cases.get(i) else { break };
                if let Some(f) = run_case(engine, case, mode) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {f}", case.program.display()));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let mode = mode.describe();
    println!(
        "{:?}{mode}: {} programs, {} failed",
        engine,
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} programs failed on {engine:?}{mode}:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn corpus_interp() {
    run_all(Engine::Interp, Mode::Normal);
}

#[test]
fn corpus_interp_gc_stress() {
    run_all(Engine::Interp, Mode::Stress);
}

/// The corpus but its deepest recursions under minor-only stress with
/// verification: finds the stores that miss the write barrier.
fn run_minor_verified(engine: Engine) {
    let cases = cases()
        .into_iter()
        .filter(|c| c.stress_interval < VERIFY_SKIP)
        .collect();
    run_cases(
        engine,
        Mode::Minor {
            factor: MINOR_FACTOR,
        },
        cases,
    );
}

#[test]
fn corpus_interp_gc_minor_verified() {
    run_minor_verified(Engine::Interp);
}

/// The compile cache of one JIT engine in this test process.
fn jit_cache_dir(engine: Engine) -> PathBuf {
    std::env::temp_dir().join(format!(
        "valk-golden-cache-{}-{engine:?}",
        std::process::id()
    ))
}

/// A JIT engine with and without GC stress (one test, so that the stress
/// run of `valk FILE` links the object the first run cached); `valk FILE`
/// also under verified minor stress.
fn run_jit(engine: Engine) {
    run_all(engine, Mode::Normal);
    run_all(engine, Mode::Stress);
    if engine == Engine::Jit {
        run_minor_verified(engine);
    }
    let _ = std::fs::remove_dir_all(jit_cache_dir(engine));
}

#[test]
fn corpus_jit() {
    run_jit(Engine::Jit);
}

#[test]
fn corpus_jit_incremental() {
    run_jit(Engine::JitIncremental);
}

#[test]
fn corpus_tier_auto() {
    run_jit(Engine::TierAuto);
}

#[test]
fn corpus_tier_eager() {
    run_jit(Engine::TierEager);
}

#[test]
fn corpus_tier_never() {
    run_jit(Engine::TierNever);
}

/// The AOT engines: both levels, each program compiled once and run with
/// and without GC stress (one test per level, so the compilations are not
/// repeated).
fn run_aot(engine: Engine, level: u32) {
    // Executables are ~10 MB each: remove them whatever the outcome.
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(aot_dir(level, ""));
    run_all(engine, Mode::Normal);
    run_all(engine, Mode::Stress);
}

#[test]
fn corpus_aot_o0() {
    run_aot(Engine::AotO0, 0);
}

#[test]
fn corpus_aot_o2() {
    run_aot(Engine::AotO2, 2);
}

/// The collector's own programs (`gc-*`) under minor-only and major-only
/// stress with verification, on the interpreter and on AOT -O2 (the other
/// compiled engines share the backend and its write barrier).
#[test]
fn corpus_gc_programs_minor_and_major() {
    let gc_cases = || -> Vec<Case> {
        cases()
            .into_iter()
            .filter(|c| {
                c.program
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("gc-"))
            })
            .collect()
    };
    assert!(gc_cases().len() >= 5, "the gc-* programs are missing");
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let modes = [Mode::Minor { factor: 10 }, Mode::Major { factor: 10 }];
    for mode in modes {
        run_cases(Engine::Interp, mode, gc_cases());
    }
    let _cleanup = Cleanup(aot_dir(2, "-gc"));
    for mode in modes {
        run_cases(Engine::AotO2Gc, mode, gc_cases());
    }
}
