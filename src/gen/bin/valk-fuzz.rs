//! `valk-fuzz`: differential runs of generated programs across the
//! engines, and in-process fuzz loops (docs/testing.md).
//!
//! ```text
//! valk-fuzz diff   [--programs N] [--hours H] [--seed S] [--threads T] [--no-stress]
//!                  [--stress-every K] [--timeout SECS] [--shrink-runs N] [--out DIR]
//! valk-fuzz inproc [--target reader|expander|compiler|all] [--inputs N] [--hours H]
//!                  [--seed S] [--hang-seconds S] [--out DIR]
//! valk-fuzz all    [--hours H] [--programs N] [--inputs N] ...   both, side by side
//! valk-fuzz gen SEED                 print generated program SEED
//! valk-fuzz check FILE               run FILE on every configuration, show differences
//! valk-fuzz shrink FILE A B          shrink FILE, which differs between configurations A and B
//! valk-fuzz shrink FILE A             shrink FILE, which runs over time on configuration A
//!                  [--runs N] [--timeout SECS]
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use valk_gen::diff::{self, Bins, Campaign, Config, Engine, Runner, Verdict};
use valk_gen::fuzz::{self, Progress, Target, HANG_STATUS};
use valk_gen::program;

struct Args {
    rest: Vec<String>,
}

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        if let Some(i) = self.rest.iter().position(|a| a == name) {
            self.rest.remove(i);
            true
        } else {
            false
        }
    }

    fn value(&mut self, name: &str) -> Option<String> {
        let i = self.rest.iter().position(|a| a == name)?;
        if i + 1 >= self.rest.len() {
            die(&format!("{name} needs a value"));
        }
        let v = self.rest.remove(i + 1);
        self.rest.remove(i);
        Some(v)
    }

    fn num<T: std::str::FromStr>(&mut self, name: &str) -> Option<T> {
        self.value(name).map(|v| {
            v.parse()
                .unwrap_or_else(|_| die(&format!("{name}: not a number: {v}")))
        })
    }

    fn done(&self) {
        if let Some(a) = self.rest.first() {
            die(&format!("unexpected argument {a}"));
        }
    }
}

fn die(msg: &str) -> ! {
    eprintln!("valk-fuzz: {msg}");
    std::process::exit(2)
}

fn bins() -> Bins {
    Bins::beside_current_exe()
        .unwrap_or_else(|| die("valk and valkc must be next to valk-fuzz (cargo build --release)"))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn default_out() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("fuzz")
}

fn main() {
    let mut all: Vec<String> = std::env::args().skip(1).collect();
    if all.is_empty() {
        die("usage: valk-fuzz diff|inproc|all|gen|check|shrink ... (see docs/testing.md)");
    }
    let cmd = all.remove(0);
    let mut a = Args { rest: all };
    match cmd.as_str() {
        "gen" => {
            let seed: u64 = a
                .rest
                .first()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| die("gen SEED"));
            let small = a.flag("--small");
            let opts = if small {
                program::Options::small()
            } else {
                program::Options::default()
            };
            print!("{}", program::generate_with(seed, &opts));
        }
        "check" => check_file(&mut a),
        "shrink" => shrink_file(&mut a),
        "diff" => {
            let c = campaign(&mut a, None);
            a.done();
            report_campaign(&c, &diff::run_campaign(&c));
        }
        "inproc" => {
            let o = inproc_opts(&mut a, None);
            a.done();
            inproc(&o);
        }
        "inproc-child" => inproc_child(&mut a),
        "all" => {
            let hours: Option<f64> = a
                .value("--hours")
                .map(|h| h.parse().unwrap_or_else(|_| die("--hours")));
            let deadline = hours.map(|h| Instant::now() + Duration::from_secs_f64(h * 3600.0));
            let mut c = campaign(&mut a, deadline);
            let mut o = inproc_opts(&mut a, deadline);
            a.done();
            (o.out, o.seed) = (c.out.clone(), c.first_seed);
            // One core for the in-process targets, the others for the
            // engines' processes.
            c.threads = c.threads.saturating_sub(1).max(1);
            std::thread::scope(|s| {
                let h = s.spawn(|| inproc(&o));
                report_campaign(&c, &diff::run_campaign(&c));
                let _ = h.join();
            });
        }
        _ => die(&format!("unknown command {cmd}")),
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn campaign(a: &mut Args, deadline: Option<Instant>) -> Campaign {
    let hours: Option<f64> = a.num("--hours");
    let deadline = deadline.or(hours.map(|h| Instant::now() + Duration::from_secs_f64(h * 3600.0)));
    Campaign {
        bins: bins(),
        out: a
            .value("--out")
            .map(PathBuf::from)
            .unwrap_or_else(default_out),
        first_seed: a.num("--seed").unwrap_or(1),
        programs: a.num("--programs").unwrap_or(if deadline.is_some() {
            u64::MAX / 2
        } else {
            100
        }),
        deadline,
        threads: a.num("--threads").unwrap_or_else(threads),
        timeout: Duration::from_secs(a.num("--timeout").unwrap_or(10)),
        stress: !a.flag("--no-stress"),
        stress_every: a.num("--stress-every").unwrap_or(1),
        shrink_runs: a.num("--shrink-runs").unwrap_or(400),
        gen: program::Options::default(),
        verbose: true,
    }
}

fn report_campaign(c: &Campaign, s: &diff::Summary) {
    let line = format!(
        "diff: {} programs (seeds {}..), {} ended in an error, {} reference timeouts, {} stress runs over time, {} findings, {:.0} s, {:.0} programs/hour, stress {}",
        s.programs,
        c.first_seed,
        s.errors,
        s.timeouts,
        s.stress_timeouts,
        s.findings.len(),
        s.elapsed.as_secs_f64(),
        s.programs as f64 / s.elapsed.as_secs_f64().max(1e-9) * 3600.0,
        if c.stress { "on" } else { "off" }
    );
    println!("{line}");
    for f in &s.findings {
        println!("  seed {}: {} ({})", f.seed, f.kind, f.dir.display());
        if let Some(r) = &f.reduced {
            println!("    reduced:\n{}", indent(r));
        }
    }
    log(&c.out, &line);
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("      {l}\n")).collect()
}

fn log(out: &Path, line: &str) {
    use std::io::Write;
    let _ = std::fs::create_dir_all(out);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join("runs.log"))
    {
        let _ = writeln!(f, "{line}");
    }
}

fn parse_config(s: &str) -> Config {
    let (e, stress) = match s.strip_suffix("+stress") {
        Some(e) => (e, true),
        None => (s, false),
    };
    let engine = match e {
        "interp" => Engine::Interp,
        "jit-incremental" => Engine::JitIncremental,
        _ => {
            if let Some(n) = e.strip_prefix("jit-O") {
                Engine::Jit(n.parse().unwrap_or_else(|_| die(s)))
            } else if let Some(n) = e.strip_prefix("aot-O") {
                Engine::Aot(n.parse().unwrap_or_else(|_| die(s)))
            } else {
                die(&format!(
                    "unknown configuration {s} (interp, jit-O0, aot-O2+stress, ...)"
                ))
            }
        }
    };
    Config { engine, stress }
}

fn scratch_runner() -> Runner {
    scratch_runner_within(Duration::from_secs(10))
}

fn scratch_runner_within(timeout: Duration) -> Runner {
    let dir = default_out()
        .join("work")
        .join(format!("cli-{}", std::process::id()));
    Runner::new(bins(), dir, timeout).unwrap_or_else(|e| die(&e.to_string()))
}

fn check_file(a: &mut Args) {
    let no_stress = a.flag("--no-stress");
    let file = a.rest.first().cloned().unwrap_or_else(|| die("check FILE"));
    let src = std::fs::read_to_string(&file).unwrap_or_else(|e| die(&format!("{file}: {e}")));
    let runner = scratch_runner();
    let configs = diff::default_configs(!no_stress);
    match diff::check(&runner, &src, &configs) {
        Verdict::Agree(o, _) => {
            println!(
                "all {} configurations agree ({:?})",
                configs.len(),
                o.status
            );
        }
        Verdict::Disagree(r) => {
            print!("{}", diff::describe(&r));
            std::process::exit(1);
        }
    }
    let _ = std::fs::remove_dir_all(&runner.dir);
}

fn shrink_file(a: &mut Args) {
    let runs: usize = a.num("--runs").unwrap_or(400);
    let timeout: f64 = a.num("--timeout").unwrap_or(10.0);
    if !(timeout.is_finite() && timeout > 0.0 && timeout < 1e6) {
        die("--timeout: a number of seconds above 0");
    }
    if a.rest.len() != 2 && a.rest.len() != 3 {
        die("shrink FILE CONFIG-A [CONFIG-B] (e.g. interp aot-O2+stress; one configuration: FILE runs over time there)");
    }
    let src = std::fs::read_to_string(&a.rest[0]).unwrap_or_else(|e| die(&e.to_string()));
    let configs: Vec<Config> = a.rest[1..].iter().map(|c| parse_config(c)).collect();
    let runner = scratch_runner_within(Duration::from_secs_f64(timeout));
    let small = match configs[..] {
        [ca, cb] => runner.shrink(&src, ca, cb, runs),
        [slow] => runner.shrink_timeout(&src, slow, None, runs),
        _ => unreachable!("one or two configurations"),
    };
    print!("{small}");
    let outs = runner.run_all(&small, &configs);
    let pairs: Vec<(Config, diff::Outcome)> = configs.iter().copied().zip(outs).collect();
    eprint!("{}", diff::describe(&pairs));
    let _ = std::fs::remove_dir_all(&runner.dir);
}

// ----- in-process targets ----------------------------------------------------

struct InprocOpts {
    targets: Vec<Target>,
    seed: u64,
    /// Inputs per target (default: [`default_inputs`]).
    inputs: Option<u64>,
    deadline: Option<Instant>,
    out: PathBuf,
    /// Seconds one input may take before it counts as a hang.
    hang: f64,
}

fn inproc_opts(a: &mut Args, deadline: Option<Instant>) -> InprocOpts {
    let hours: Option<f64> = a.num("--hours");
    let deadline = deadline.or(hours.map(|h| Instant::now() + Duration::from_secs_f64(h * 3600.0)));
    let targets = match a.value("--target").as_deref() {
        None | Some("all") => Target::ALL.to_vec(),
        Some(t) => {
            vec![Target::from_name(t).unwrap_or_else(|| die(&format!("unknown target {t}")))]
        }
    };
    InprocOpts {
        targets,
        seed: a.num("--seed").unwrap_or(1),
        inputs: a.num("--inputs").or(deadline.map(|_| u64::MAX / 4)),
        deadline,
        out: a
            .value("--out")
            .map(PathBuf::from)
            .unwrap_or_else(default_out),
        hang: a.num("--hang-seconds").unwrap_or(10.0),
    }
}

/// Inputs per target without `--inputs` or a deadline: about a minute
/// each.
fn default_inputs(t: Target) -> u64 {
    match t {
        Target::Reader => 1_000_000,
        Target::Expander => 100_000,
        Target::Compiler => 200,
    }
}

/// The supervisor: runs each target's loop in a child process, restarting
/// it after an input that killed it (release builds abort on panic) or
/// hung; the targets share the time left round-robin, in slices.
fn inproc(o: &InprocOpts) {
    let exe = std::env::current_exe().unwrap_or_else(|e| die(&e.to_string()));
    let findings = o.out.join("findings");
    let _ = std::fs::create_dir_all(&findings);
    let corpus = fuzz::load_corpus(&repo_root().join("tests/programs"));
    let limit: Vec<u64> = o
        .targets
        .iter()
        .map(|&t| o.inputs.unwrap_or_else(|| default_inputs(t)))
        .collect();
    let mut next: Vec<u64> = vec![0; o.targets.len()];
    let mut ran: Vec<u64> = vec![0; o.targets.len()];
    let mut crashes: Vec<u64> = vec![0; o.targets.len()];
    let start = Instant::now();
    // Slices of a few minutes when running to a deadline.
    let slice = Duration::from_secs(300);
    loop {
        let mut progressed = false;
        for (ti, &t) in o.targets.iter().enumerate() {
            if next[ti] >= limit[ti] || o.deadline.is_some_and(|d| Instant::now() >= d) {
                continue;
            }
            progressed = true;
            let until = match o.deadline {
                Some(d) => d.min(Instant::now() + slice),
                None => Instant::now() + Duration::from_secs(86_400),
            };
            let cur = o
                .out
                .join(format!("current-{}-{}", t.name(), std::process::id()));
            let errf = o
                .out
                .join(format!("stderr-{}-{}", t.name(), std::process::id()));
            let secs = until
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            let child = Command::new(&exe)
                .args(["inproc-child", "--target", t.name()])
                .args([
                    "--seed",
                    &o.seed.to_string(),
                    "--start",
                    &next[ti].to_string(),
                ])
                .args(["--count", &(limit[ti] - next[ti]).to_string()])
                .args(["--seconds", &format!("{secs:.1}")])
                .args(["--hang-seconds", &o.hang.to_string()])
                .arg("--current")
                .arg(&cur)
                .arg("--out")
                .arg(&findings)
                .stdout(Stdio::piped())
                .stderr(
                    std::fs::File::create(&errf)
                        .map(Stdio::from)
                        .unwrap_or(Stdio::null()),
                )
                .output();
            let child = match child {
                Ok(c) => c,
                Err(e) => die(&format!("cannot run {}: {e}", exe.display())),
            };
            let stdout = String::from_utf8_lossy(&child.stdout);
            // "ran N crashes C" on a clean end.
            let mut words = stdout.split_whitespace();
            if let (Some("ran"), Some(n), Some("crashes"), Some(c)) =
                (words.next(), words.next(), words.next(), words.next())
            {
                let n: u64 = n.parse().unwrap_or(0);
                ran[ti] += n;
                crashes[ti] += c.parse::<u64>().unwrap_or(0);
                next[ti] += n;
                if n == 0 {
                    // Nothing more in this slice (deadline).
                    next[ti] = next[ti].max(limit[ti].min(next[ti] + 1));
                }
            } else {
                // The child died on an input: write it down, go on after it.
                let i = std::fs::read(&cur)
                    .ok()
                    .and_then(|b| {
                        b.get(..8)
                            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
                    })
                    .unwrap_or(next[ti]);
                let hang = child.status.code() == Some(HANG_STATUS);
                let kind = if hang { "hang" } else { "crash" };
                let text = fuzz::input(t, o.seed, i, &corpus);
                let base = format!("{kind}-{}-{}-{i}", t.name(), o.seed);
                let _ = std::fs::write(findings.join(format!("{base}.valk")), &text);
                let _ = std::fs::copy(&errf, findings.join(format!("{base}.stderr")));
                eprintln!(
                    "valk-fuzz: {} input {i}: {kind} ({:?}), see {}",
                    t.name(),
                    child.status,
                    findings.join(format!("{base}.valk")).display()
                );
                crashes[ti] += 1;
                ran[ti] += i + 1 - next[ti];
                next[ti] = i + 1;
            }
            let _ = std::fs::remove_file(&cur);
            let _ = std::fs::remove_file(&errf);
        }
        if !progressed {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for (ti, t) in o.targets.iter().enumerate() {
        let line = format!(
            "inproc {}: {} inputs (seed {}), {} crashes or hangs, {:.0} inputs/s over the run",
            t.name(),
            ran[ti],
            o.seed,
            crashes[ti],
            ran[ti] as f64 / secs.max(1e-9)
        );
        println!("{line}");
        log(&o.out, &line);
    }
}

/// One target's loop in this process (started by [`inproc`]).
fn inproc_child(a: &mut Args) {
    let t = a
        .value("--target")
        .and_then(|t| Target::from_name(&t))
        .unwrap_or_else(|| die("--target"));
    let seed: u64 = a.num("--seed").unwrap_or(1);
    let start: u64 = a.num("--start").unwrap_or(0);
    let count: u64 = a.num("--count").unwrap_or(1000);
    let secs: f64 = a.num("--seconds").unwrap_or(86_400.0);
    let hang: f64 = a.num("--hang-seconds").unwrap_or(10.0);
    let current = a.value("--current").map(PathBuf::from);
    let out = a.value("--out").map(PathBuf::from);
    a.done();
    let corpus = fuzz::load_corpus(&repo_root().join("tests/programs"));
    // VALK_FUZZ_SELFTEST=panic:N,hang:M makes input N panic and input M
    // hang, to test the supervisor (tests/differential.rs).
    let selftest = std::env::var("VALK_FUZZ_SELFTEST").unwrap_or_default();
    let injected = |what: &str| {
        selftest
            .split(',')
            .find_map(|p| p.strip_prefix(what).and_then(|n| n.parse().ok()))
    };
    let mut progress = Progress {
        current: current.and_then(|p| std::fs::File::create(p).ok()),
        findings: out.clone(),
        inject_panic: injected("panic:"),
        inject_hang: injected("hang:"),
    };
    let deadline = Some(Instant::now() + Duration::from_secs_f64(secs));
    let hang = Duration::from_secs_f64(hang);
    let (crashes, n) = fuzz::fuzz_loop(
        t,
        seed,
        start,
        count,
        deadline,
        &corpus,
        hang,
        &mut progress,
    );
    for c in &crashes {
        if let Some(dir) = &out {
            let base = format!("crash-{}-{seed}-{}", t.name(), c.index);
            let _ = std::fs::write(dir.join(format!("{base}.valk")), &c.input);
            let _ = std::fs::write(dir.join(format!("{base}.txt")), &c.message);
        }
    }
    println!("ran {n} crashes {}", crashes.len());
}
