//! The differential runner (docs/testing.md, "Differential runs"): a
//! program runs on every engine and configuration, each run a process with
//! a timeout; stdout, stderr and exit status must be identical to the
//! interpreter's. A disagreement is shrunk to a small reproducer.

use crate::sexp::{self, Sexp};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `valk` and `valkc` executables the runs use.
#[derive(Clone, Debug)]
pub struct Bins {
    pub valk: PathBuf,
    pub valkc: PathBuf,
}

impl Bins {
    /// The executables beside the running one (`target/release/valk-fuzz`
    /// next to `valk` and `valkc`).
    pub fn beside_current_exe() -> Option<Bins> {
        let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
        let b = Bins {
            valk: dir.join("valk"),
            valkc: dir.join("valkc"),
        };
        (b.valk.exists() && b.valkc.exists()).then_some(b)
    }
}

/// An engine: how the program is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// `valk --no-jit FILE`.
    Interp,
    /// `valk FILE` with `VALK_JIT_OPT=n` (docs/jit.md).
    Jit(u32),
    /// The JIT as the REPL uses it: the prelude, then the program as one
    /// module with globals in cells (`VALK_JIT_WHOLE_PROGRAM=0`).
    JitIncremental,
    /// `valkc compile -On`, then the executable.
    Aot(u32),
}

/// An engine, with or without `VALK_GC_STRESS=1` (docs/gc.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    pub engine: Engine,
    pub stress: bool,
}

impl Config {
    pub fn label(&self) -> String {
        let e = match self.engine {
            Engine::Interp => "interp".to_string(),
            Engine::Jit(n) => format!("jit-O{n}"),
            Engine::JitIncremental => "jit-incremental".to_string(),
            Engine::Aot(n) => format!("aot-O{n}"),
        };
        if self.stress {
            format!("{e}+stress")
        } else {
            e
        }
    }
}

/// The configurations of a differential run, the reference (the
/// interpreter without stress) first. Without stress: the interpreter,
/// the JIT at -O0 and -O2 and incremental, AOT at -O0 and -O2. With
/// `stress`, also the interpreter, the JIT at -O2 and both AOT levels
/// under `VALK_GC_STRESS` (every allocation for compiled code, every
/// [`INTERP_STRESS_INTERVAL`]-th for the interpreter; AOT executables are
/// compiled once for both).
pub fn default_configs(stress: bool) -> Vec<Config> {
    let plain = |engine| Config {
        engine,
        stress: false,
    };
    let stressed = |engine| Config {
        engine,
        stress: true,
    };
    let mut v = vec![
        plain(Engine::Interp),
        plain(Engine::Jit(0)),
        plain(Engine::Jit(2)),
        plain(Engine::JitIncremental),
        plain(Engine::Aot(0)),
        plain(Engine::Aot(2)),
    ];
    if stress {
        v.extend([
            stressed(Engine::Interp),
            stressed(Engine::Jit(2)),
            stressed(Engine::Aot(0)),
            stressed(Engine::Aot(2)),
        ]);
    }
    v
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Exit(i32),
    Signal(i32),
    Timeout,
    /// The process could not be started (message).
    NotRun(String),
}

/// What one run printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Status,
}

impl Outcome {
    fn usable(&self) -> bool {
        !matches!(self.status, Status::Timeout | Status::NotRun(_))
    }
}

/// Runs `cmd` with output to files in `dir`, killing it after `timeout`.
pub fn run_with_timeout(mut cmd: Command, dir: &Path, timeout: Duration) -> Outcome {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let files =
        std::fs::File::create(&out_path).and_then(|o| Ok((o, std::fs::File::create(&err_path)?)));
    let (o, e) = match files {
        Ok(f) => f,
        Err(e) => {
            return Outcome {
                stdout: vec![],
                stderr: vec![],
                status: Status::NotRun(e.to_string()),
            }
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(o)
        .stderr(e)
        .current_dir(dir);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                stdout: vec![],
                stderr: vec![],
                status: Status::NotRun(e.to_string()),
            }
        }
    };
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                use std::os::unix::process::ExitStatusExt;
                break match (st.code(), st.signal()) {
                    (Some(c), _) => Status::Exit(c),
                    (None, Some(s)) => Status::Signal(s),
                    _ => Status::NotRun("no status".into()),
                };
            }
            Ok(None) => {}
            Err(e) => break Status::NotRun(e.to_string()),
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break Status::Timeout;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    Outcome {
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
        status,
    }
}

/// `VALK_GC_STRESS` for the interpreter's stress runs (see
/// [`Runner::stress`]).
pub const INTERP_STRESS_INTERVAL: &str = "50";

/// How much longer than a run `valkc compile` may take (it is the slowest
/// step, and the machine may be loaded).
pub const COMPILE_TIMEOUT_FACTOR: u32 = 6;

/// Runs programs in one scratch directory of its own (one per thread).
pub struct Runner {
    pub bins: Bins,
    pub dir: PathBuf,
    pub timeout: Duration,
    /// The cached objects kept between programs.
    keep: Mutex<Vec<std::ffi::OsString>>,
}

impl Runner {
    pub fn new(bins: Bins, dir: PathBuf, timeout: Duration) -> std::io::Result<Runner> {
        std::fs::create_dir_all(&dir)?;
        Ok(Runner {
            bins,
            dir,
            timeout,
            keep: Mutex::new(Vec::new()),
        })
    }

    fn base_command(&self, program: &Path, stress: Option<&str>) -> Command {
        let mut c = Command::new(program);
        // A clean environment: no switch of the caller's shell leaks in.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("VALK_") {
                c.env_remove(k);
            }
        }
        c.env("VALK_CACHE_DIR", self.dir.join("cache"));
        if let Some(s) = stress {
            c.env("VALK_GC_STRESS", s);
        }
        c
    }

    /// The `VALK_GC_STRESS` value of configuration `c`: a collection at
    /// every allocation for compiled code; the interpreter allocates about
    /// a thousand times more (environments, argument lists), so it
    /// collects at every [`INTERP_STRESS_INTERVAL`]-th.
    fn stress(c: &Config) -> Option<&'static str> {
        match (c.stress, c.engine) {
            (false, _) => None,
            (true, Engine::Interp) => Some(INTERP_STRESS_INTERVAL),
            (true, _) => Some("1"),
        }
    }

    /// Runs `src` under every one of `configs`, in order.
    pub fn run_all(&self, src: &str, configs: &[Config]) -> Vec<Outcome> {
        self.run_all_within(src, configs, self.timeout)
    }

    /// As [`Runner::run_all`], with `timeout` per run (compiling with
    /// `valkc` may take [`COMPILE_TIMEOUT_FACTOR`] times longer).
    pub fn run_all_within(&self, src: &str, configs: &[Config], timeout: Duration) -> Vec<Outcome> {
        let file = self.dir.join("p.valk");
        if let Err(e) = std::fs::write(&file, src) {
            let o = Outcome {
                stdout: vec![],
                stderr: vec![],
                status: Status::NotRun(e.to_string()),
            };
            return configs.iter().map(|_| o.clone()).collect();
        }
        // AOT executables, compiled once per level.
        let mut compiled: Vec<(u32, Result<PathBuf, Outcome>)> = Vec::new();
        let mut out = Vec::new();
        for c in configs {
            let o = match c.engine {
                Engine::Interp => {
                    let mut cmd = self.base_command(&self.bins.valk, Self::stress(c));
                    cmd.arg("--no-jit").arg("p.valk");
                    run_with_timeout(cmd, &self.dir, timeout)
                }
                Engine::Jit(n) => {
                    let mut cmd = self.base_command(&self.bins.valk, Self::stress(c));
                    cmd.env("VALK_JIT_OPT", n.to_string()).arg("p.valk");
                    run_with_timeout(cmd, &self.dir, timeout)
                }
                Engine::JitIncremental => {
                    let mut cmd = self.base_command(&self.bins.valk, Self::stress(c));
                    cmd.env("VALK_JIT_WHOLE_PROGRAM", "0").arg("p.valk");
                    run_with_timeout(cmd, &self.dir, timeout)
                }
                Engine::Aot(n) => {
                    if !compiled.iter().any(|(l, _)| *l == n) {
                        let exe = self.dir.join(format!("p-O{n}"));
                        let _ = std::fs::remove_file(&exe);
                        let mut cmd = self.base_command(&self.bins.valkc, None);
                        cmd.arg("compile")
                            .arg(format!("-O{n}"))
                            .arg("p.valk")
                            .arg("-o")
                            .arg(&exe);
                        let o = run_with_timeout(cmd, &self.dir, timeout * COMPILE_TIMEOUT_FACTOR);
                        let r = if o.status == Status::Exit(0) && exe.exists() {
                            Ok(exe)
                        } else {
                            Err(o)
                        };
                        compiled.push((n, r));
                    }
                    match &compiled.iter().find(|(l, _)| *l == n).unwrap().1 {
                        Ok(exe) => {
                            let cmd = self.base_command(exe, Self::stress(c));
                            run_with_timeout(cmd, &self.dir, timeout)
                        }
                        // A program valkc refuses is compared by what
                        // valkc printed (expansion errors read the same
                        // on every engine: docs/errors.md).
                        Err(o) => o.clone(),
                    }
                }
            };
            out.push(o);
        }
        self.clean_cache();
        out
    }

    /// Removes the JIT's cached objects of this program but keeps those of
    /// the first run (the prelude's, which the incremental JIT would
    /// otherwise compile for every program: docs/jit.md, "The compile
    /// cache").
    fn clean_cache(&self) {
        let jit = self.dir.join("cache").join("jit");
        let Ok(rd) = std::fs::read_dir(&jit) else {
            return;
        };
        let names: Vec<std::ffi::OsString> =
            rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
        let mut keep = self.keep.lock().unwrap();
        if keep.is_empty() {
            *keep = names;
            return;
        }
        for n in names {
            if !keep.contains(&n) {
                let _ = std::fs::remove_file(jit.join(n));
            }
        }
    }

    /// Does `src` still show a difference between `a` and `b` (both runs
    /// finished)?
    fn differs(&self, src: &str, a: Config, b: Config) -> bool {
        let r = self.run_all(src, &[a, b]);
        r[0].usable() && r[1].usable() && r[0] != r[1]
    }

    /// Does `src` still run over time on `slow` (and, with a reference,
    /// still finish there)? The reference runs only when `slow` timed out.
    fn still_times_out(&self, src: &str, slow: Config, reference: Option<Config>) -> bool {
        if self.run_all(src, &[slow])[0].status != Status::Timeout {
            return false;
        }
        reference.is_none_or(|r| self.run_all(src, &[r])[0].usable())
    }

    /// Shrinks `src`, which differs between `a` and `b`, with at most
    /// `max_runs` trial runs ([`shrink_with`]). Returns the smallest
    /// program that still differs.
    pub fn shrink(&self, src: &str, a: Config, b: Config, max_runs: usize) -> String {
        shrink_with(src, max_runs, |p| self.differs(p, a, b))
    }

    /// Shrinks `src`, which runs over time on `slow` (while `reference`,
    /// if given, finishes), with at most `max_runs` trial runs: the
    /// smallest program that still hangs there (docs/testing.md,
    /// "Shrinking"). Each trial that still hangs takes the runner's
    /// timeout.
    pub fn shrink_timeout(
        &self,
        src: &str,
        slow: Config,
        reference: Option<Config>,
        max_runs: usize,
    ) -> String {
        shrink_with(src, max_runs, |p| self.still_times_out(p, slow, reference))
    }
}

/// Shrinks `src`, for which `still_fails` holds, with at most `max_runs`
/// calls of it: top-level forms deleted (halves, quarters, ... single
/// forms), then every node replaced by a constant, by one of its elements
/// or by itself less an element (docs/testing.md, "Shrinking"). Returns
/// the smallest program found for which `still_fails` holds (`src` when
/// it does not parse).
pub fn shrink_with(
    src: &str,
    max_runs: usize,
    mut still_fails: impl FnMut(&str) -> bool,
) -> String {
    let Some(mut forms) = sexp::parse(src) else {
        return src.to_string();
    };
    let mut runs = 0;
    let mut test = |forms: &[Sexp], runs: &mut usize| {
        *runs += 1;
        still_fails(&sexp::print_program(forms))
    };
    // Top-level forms, in chunks.
    let mut chunk = forms.len().div_ceil(2);
    while chunk >= 1 && runs < max_runs {
        let mut start = 0;
        let mut removed_any = false;
        while start < forms.len() && runs < max_runs {
            let end = (start + chunk).min(forms.len());
            let mut v = forms[..start].to_vec();
            v.extend_from_slice(&forms[end..]);
            if !v.is_empty() && test(&v, &mut runs) {
                forms = v;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if !removed_any {
            chunk /= 2;
        }
    }
    // Nodes, outermost first.
    let mut i = 0;
    loop {
        let paths = sexp::paths(&forms);
        if i >= paths.len() || runs >= max_runs {
            break;
        }
        let path = &paths[i];
        let node = sexp::get(&forms, path).cloned();
        let mut changed = false;
        if let Some(node) = node {
            for cand in sexp::local_candidates(&node) {
                if runs >= max_runs {
                    break;
                }
                if cand.size() >= node.size() && !matches!(cand, Sexp::Atom(_)) {
                    continue;
                }
                let v = sexp::replace(&forms, path, cand);
                if test(&v, &mut runs) {
                    forms = v;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            i += 1;
        }
    }
    sexp::print_program(&forms)
}

/// The result of checking one program.
#[derive(Debug)]
pub enum Verdict {
    /// Every configuration printed the same; the reference's outcome and
    /// the number of stress runs that did not finish in time (not
    /// compared: a collection at every allocation may make a program a
    /// hundred times slower).
    Agree(Outcome, u32),
    /// Some configurations differ from the reference (the first).
    Disagree(Vec<(Config, Outcome)>),
}

/// Runs `src` on `configs` and compares each with the first.
pub fn check(runner: &Runner, src: &str, configs: &[Config]) -> Verdict {
    let mut outs = runner.run_all(src, configs);
    // A run over time while the reference finished is run again with
    // three times the time: on a loaded machine, slowness alone is no
    // disagreement.
    if outs[0].usable() {
        for (i, c) in configs.iter().enumerate() {
            if outs[i].status == Status::Timeout {
                outs[i] = runner
                    .run_all_within(src, &[*c], runner.timeout * 3)
                    .remove(0);
            }
        }
    }
    let slow =
        |c: &Config, o: &Outcome| c.stress && o.status == Status::Timeout && outs[0].usable();
    let agree = configs
        .iter()
        .zip(&outs)
        .all(|(c, o)| *o == outs[0] || slow(c, o));
    if agree {
        let n = configs
            .iter()
            .zip(&outs)
            .filter(|(c, o)| slow(c, o))
            .count() as u32;
        Verdict::Agree(outs[0].clone(), n)
    } else {
        Verdict::Disagree(configs.iter().copied().zip(outs).collect())
    }
}

/// A readable account of every configuration's outcome.
pub fn describe(results: &[(Config, Outcome)]) -> String {
    let mut s = String::new();
    for (c, o) in results {
        s.push_str(&format!(
            "== {} ({:?})\n-- stdout ({} bytes):\n{}\n-- stderr:\n{}\n",
            c.label(),
            o.status,
            o.stdout.len(),
            tail(&o.stdout, 2000),
            tail(&o.stderr, 2000)
        ));
    }
    s
}

fn tail(b: &[u8], n: usize) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() <= n {
        s.into_owned()
    } else {
        let mut k = s.len() - n;
        while !s.is_char_boundary(k) {
            k += 1;
        }
        format!("...{}", &s[k..])
    }
}

/// What a campaign is asked to do.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub bins: Bins,
    /// Findings, logs and scratch directories go here (`target/fuzz`).
    pub out: PathBuf,
    pub first_seed: u64,
    /// Stop after this many programs...
    pub programs: u64,
    /// ... or at this time, whichever comes first.
    pub deadline: Option<Instant>,
    pub threads: usize,
    pub timeout: Duration,
    pub stress: bool,
    /// With `stress`, the stress configurations run on every k-th program
    /// only (1: every program).
    pub stress_every: u64,
    /// Shrink findings (at most this many trial runs each; 0: do not).
    pub shrink_runs: usize,
    pub gen: crate::program::Options,
    /// Print a line per finding and a progress line now and then.
    pub verbose: bool,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub programs: u64,
    /// Programs that ended with an error status on the reference engine.
    pub errors: u64,
    /// Programs the reference engine did not finish in time (the
    /// generator's fault or a hang: each is a finding).
    pub timeouts: u64,
    /// Stress runs that did not finish in time (not compared).
    pub stress_timeouts: u64,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub seed: u64,
    pub kind: String,
    pub dir: PathBuf,
    pub reduced: Option<String>,
}

/// Runs programs `first_seed..` on `threads` threads until `programs` or
/// the deadline; writes every disagreement (program, outcomes, shrunk
/// reproducer) to `out/findings/seed-N/`.
pub fn run_campaign(c: &Campaign) -> Summary {
    let next = Arc::new(AtomicU64::new(c.first_seed));
    let summary = Arc::new(Mutex::new(Summary::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let with_stress = default_configs(c.stress);
    let without = default_configs(false);
    std::thread::scope(|s| {
        for t in 0..c.threads.max(1) {
            let (next, summary, stop) = (&next, &summary, &stop);
            let (with_stress, without) = (&with_stress, &without);
            s.spawn(move || {
                let dir = c
                    .out
                    .join("work")
                    .join(format!("t{t}-{}", std::process::id()));
                let runner = match Runner::new(c.bins.clone(), dir.clone(), c.timeout) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("valk-fuzz: {}: {e}", dir.display());
                        return;
                    }
                };
                loop {
                    if stop.load(Ordering::Relaxed)
                        || c.deadline.is_some_and(|d| Instant::now() >= d)
                    {
                        break;
                    }
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= c.first_seed + c.programs {
                        break;
                    }
                    let src = crate::program::generate_with(seed, &c.gen);
                    let configs = if seed % c.stress_every.max(1) == 0 {
                        with_stress
                    } else {
                        without
                    };
                    let verdict = check(&runner, &src, configs);
                    let mut finding = None;
                    let (err, timeout) = match &verdict {
                        Verdict::Agree(o, slow) => {
                            summary.lock().unwrap().stress_timeouts += *slow as u64;
                            (o.status != Status::Exit(0), o.status == Status::Timeout)
                        }
                        Verdict::Disagree(r) => {
                            finding = Some(record(&runner, c, seed, &src, r));
                            (
                                r[0].1.status != Status::Exit(0),
                                r[0].1.status == Status::Timeout,
                            )
                        }
                    };
                    let mut sm = summary.lock().unwrap();
                    sm.programs += 1;
                    sm.errors += err as u64;
                    if timeout {
                        sm.timeouts += 1;
                        if finding.is_none() {
                            finding = Some(record(&runner, c, seed, &src, &[]));
                        }
                    }
                    if let Some(f) = finding {
                        if c.verbose {
                            eprintln!("valk-fuzz: seed {seed}: {} ({})", f.kind, f.dir.display());
                        }
                        sm.findings.push(f);
                    }
                    if c.verbose && sm.programs % 100 == 0 {
                        eprintln!(
                            "valk-fuzz: {} programs, {} findings, {:.0} programs/hour",
                            sm.programs,
                            sm.findings.len(),
                            sm.programs as f64 / start.elapsed().as_secs_f64() * 3600.0
                        );
                    }
                }
                let _ = std::fs::remove_dir_all(&dir);
            });
        }
    });
    let mut s = Arc::try_unwrap(summary).unwrap().into_inner().unwrap();
    s.elapsed = start.elapsed();
    s
}

/// Writes a finding's files; shrinks it when asked.
fn record(
    runner: &Runner,
    c: &Campaign,
    seed: u64,
    src: &str,
    results: &[(Config, Outcome)],
) -> Finding {
    let dir = c.out.join("findings").join(format!("seed-{seed}"));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("program.valk"), src);
    let kind = if results.is_empty() {
        "timeout on the reference engine".to_string()
    } else {
        let bad: Vec<String> = results
            .iter()
            .filter(|(_, o)| *o != results[0].1)
            .map(|(cfg, o)| {
                let what = if o.status == Status::Timeout {
                    "timeout"
                } else if o.stdout != results[0].1.stdout {
                    "stdout"
                } else if o.stderr != results[0].1.stderr {
                    "stderr"
                } else {
                    "status"
                };
                format!("{} ({what})", cfg.label())
            })
            .collect();
        format!("differs from interp: {}", bad.join(", "))
    };
    let _ = std::fs::write(
        dir.join("report.txt"),
        format!("seed {seed}: {kind}\n\n{}", describe(results)),
    );
    let mut reduced = None;
    let mut keep = |small: String, configs: &[Config]| {
        let _ = std::fs::write(dir.join("reduced.valk"), &small);
        let outs = runner.run_all(&small, configs);
        let pairs: Vec<(Config, Outcome)> = configs.iter().copied().zip(outs).collect();
        let _ = std::fs::write(dir.join("reduced.txt"), describe(&pairs));
        reduced = Some(small);
    };
    if c.shrink_runs > 0 && results.is_empty() {
        // The reference hangs: the smallest program that still hangs there.
        let reference = default_configs(false)[0];
        keep(
            runner.shrink_timeout(src, reference, None, c.shrink_runs),
            &[reference],
        );
    } else if c.shrink_runs > 0 && results[0].1.usable() {
        let reference = results[0].0;
        // The first differing configuration that finished; else the first
        // that ran over time.
        let differing = |o: &Outcome| *o != results[0].1;
        let finished = results
            .iter()
            .skip(1)
            .find(|(_, o)| differing(o) && o.usable());
        let hung = results
            .iter()
            .skip(1)
            .find(|(_, o)| differing(o) && o.status == Status::Timeout);
        if let Some(&(b, _)) = finished {
            keep(
                runner.shrink(src, reference, b, c.shrink_runs),
                &[reference, b],
            );
        } else if let Some(&(b, _)) = hung {
            keep(
                runner.shrink_timeout(src, b, Some(reference), c.shrink_runs),
                &[reference, b],
            );
        }
    }
    Finding {
        seed,
        kind,
        dir,
        reduced,
    }
}
