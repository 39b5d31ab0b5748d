//! Valk's benchmark harness: runs the portable programs of `bench/programs`
//! on the Valk engines and on the peer Schemes (and C for some of them),
//! interleaved, checks every result, and writes a CSV, a Markdown report
//! and a chart. See `bench/README.md`.

pub mod chart;
pub mod engines;
pub mod inputs;
pub mod programs;
pub mod report;
pub mod runner;
pub mod sysinfo;

use engines::{Built, Context, Engine, Installer, Status};
use programs::Program;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

pub const USAGE: &str = "\
usage: valk-bench [OPTIONS]

Runs the benchmark programs of bench/programs on the Valk engines and the
peer Schemes, checks their results and writes a CSV, a Markdown report and
a chart (by default docs/BENCHMARKS.md, docs/bench.png, bench/results.csv).

options:
  --quick            smoke mode: tiny inputs, one run per engine, no warm-up;
                     output goes to <target>/valk-bench/quick/ unless --out
  --only A,B,...     run only these programs
  --engines E,...    run only these engines: valk-interp valk-jit valk-aot
                     chez racket guile chicken gambit c (also: valk, peers)
  --reps N           measured runs per program and engine (default 3; quick 1)
  --warmup N         warm-up runs before them (default 1; quick 0)
  --timeout SECS     limit for one run (default 120)
  --slow SECS        a warm-up run longer than this is the only sample
                     taken (default 10)
  --out DIR          write results.csv, BENCHMARKS.md and bench.png into DIR
  --no-chart         do not draw the PNG chart
  --no-install       do not apt-get install missing peers or fonts
  --no-build         do not run `cargo build --release -p valk` first
  --valk-dir DIR     where the valk and valkc binaries are
                     (default <target>/release, honouring CARGO_TARGET_DIR)
  --gc               the collector report: the GC programs (bintrees gcbench
                     perm destruc rewrite gcchurn gcold) on valk-aot valk-jit
                     chez c unless --only/--engines say otherwise, no chart;
                     writes docs/BENCHMARKS-gc.md and bench/results-gc.csv
  -h, --help         this text
";

/// Command-line options.
#[derive(Clone, Debug)]
pub struct Options {
    pub quick: bool,
    pub only: Option<Vec<String>>,
    pub engines: Vec<Engine>,
    pub reps: usize,
    pub warmup: usize,
    pub timeout: Duration,
    pub slow: Duration,
    pub out_dir: Option<PathBuf>,
    pub chart: bool,
    pub install: bool,
    pub build_valk: bool,
    pub valk_dir: Option<PathBuf>,
    /// `--gc`: the collector report (see [`GC_PROGRAMS`]).
    pub gc: bool,
}

/// The programs of the collector report (`--gc`), the ones issue #18's
/// goals name and the two that stress the old generation.
pub const GC_PROGRAMS: [&str; 7] = [
    "bintrees", "gcbench", "perm", "destruc", "rewrite", "gcchurn", "gcold",
];

/// The engines of the collector report unless `--engines` is given.
pub const GC_ENGINES: [Engine; 4] = [Engine::ValkAot, Engine::ValkJit, Engine::Chez, Engine::C];

impl Default for Options {
    fn default() -> Self {
        Options {
            quick: false,
            only: None,
            engines: Engine::ALL.to_vec(),
            reps: 3,
            warmup: 1,
            timeout: Duration::from_secs(120),
            slow: Duration::from_secs(10),
            out_dir: None,
            chart: true,
            install: true,
            build_valk: true,
            valk_dir: None,
            gc: false,
        }
    }
}

impl Options {
    /// The options as a `./x bench` command line (defaults left out).
    pub fn command_line(&self) -> String {
        let d = Options::default();
        let mut parts = vec!["./x bench".to_string()];
        if self.gc {
            parts.push("--gc".into());
        }
        if self.quick {
            parts.push("--quick".into());
        }
        let gc_only: Vec<String> = GC_PROGRAMS.iter().map(|s| s.to_string()).collect();
        if let Some(only) = self.only.as_ref().filter(|o| !self.gc || **o != gc_only) {
            parts.push(format!("--only {}", only.join(",")));
        }
        let default_engines = if self.gc {
            GC_ENGINES.to_vec()
        } else {
            d.engines.clone()
        };
        if self.engines != default_engines {
            let keys: Vec<&str> = self.engines.iter().map(|e| e.key()).collect();
            parts.push(format!("--engines {}", keys.join(",")));
        }
        let (reps, warmup) = if self.quick {
            (1, 0)
        } else {
            (d.reps, d.warmup)
        };
        if self.reps != reps {
            parts.push(format!("--reps {}", self.reps));
        }
        if self.warmup != warmup {
            parts.push(format!("--warmup {}", self.warmup));
        }
        if self.timeout != d.timeout {
            parts.push(format!("--timeout {}", self.timeout.as_secs()));
        }
        if self.slow != d.slow {
            parts.push(format!("--slow {}", self.slow.as_secs()));
        }
        if !self.chart && !self.gc {
            parts.push("--no-chart".into());
        }
        parts.join(" ")
    }
}

/// Parses the arguments (without the program name). `Ok(None)` means help
/// was asked for.
pub fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let (mut reps, mut warmup) = (None, None);
    let mut engines_given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--quick" => o.quick = true,
            "--only" => {
                let v = value()?;
                o.only = Some(
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
            }
            "--engines" => {
                o.engines = Engine::parse_list(&value()?)?;
                engines_given = true;
            }
            "--gc" => o.gc = true,
            "--reps" => reps = Some(number(value()?)? as usize),
            "--warmup" => warmup = Some(number(value()?)? as usize),
            "--timeout" => o.timeout = Duration::from_secs(number(value()?)?),
            "--slow" => o.slow = Duration::from_secs(number(value()?)?),
            "--out" => o.out_dir = Some(PathBuf::from(value()?)),
            "--valk-dir" => o.valk_dir = Some(PathBuf::from(value()?)),
            "--no-chart" => o.chart = false,
            "--no-install" => o.install = false,
            "--no-build" => o.build_valk = false,
            _ => return Err(format!("unknown option `{arg}` (see --help)")),
        }
    }
    if o.gc {
        o.chart = false;
        if o.only.is_none() {
            o.only = Some(GC_PROGRAMS.iter().map(|s| s.to_string()).collect());
        }
        if !engines_given {
            o.engines = GC_ENGINES.to_vec();
        }
    }
    o.reps = reps.unwrap_or(if o.quick { 1 } else { 3 });
    o.warmup = warmup.unwrap_or(if o.quick { 0 } else { 1 });
    if o.reps == 0 {
        return Err("--reps must be at least 1".to_string());
    }
    if o.engines.is_empty() {
        return Err("--engines: no engine given".to_string());
    }
    Ok(Some(o))
}

/// One successful run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Time measured by the program around `bench-main`.
    pub seconds: f64,
    /// Whole-process wall time (startup, loading, compiling at load).
    pub wall: f64,
    /// Whole-process CPU time (user + system).
    pub cpu: f64,
    pub rss_kb: u64,
    /// The collector's statistics (Valk engines, which run with
    /// `VALK_GC_STATS=1`).
    pub gc: Option<GcStats>,
}

/// What a Valk run's `VALK_GC_STATS=1` lines on standard error say (the
/// format is `gc::format_stats` and `gc::finish`, see docs/gc.md). Times in
/// milliseconds; a kind of collection that never ran has zero pauses.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GcStats {
    pub minor: u64,
    pub minor_total_ms: f64,
    pub minor_max_ms: f64,
    pub major: u64,
    pub major_total_ms: f64,
    pub major_max_ms: f64,
    pub minor_p50_ms: f64,
    pub minor_p99_ms: f64,
    pub major_p50_ms: f64,
    pub major_p99_ms: f64,
    pub bytes_promoted: u64,
    pub peak_heap_kib: u64,
}

impl GcStats {
    /// The longest pause of either kind.
    pub fn max_pause_ms(&self) -> f64 {
        self.minor_max_ms.max(self.major_max_ms)
    }
}

/// Parses the statistics from a run's standard error; `None` when the
/// collection counts are missing (no statistics printed).
pub fn parse_gc_stats(stderr: &str) -> Option<GcStats> {
    let mut g = GcStats::default();
    let (mut minor, mut major) = (false, false);
    // "N (total X ms, max Y ms)"
    let counts = |rest: &str| -> Option<(u64, f64, f64)> {
        let (n, rest) = rest.trim().split_once(" (total ")?;
        let (total, rest) = rest.split_once(" ms, max ")?;
        let max = rest.strip_suffix(" ms)")?;
        Some((n.parse().ok()?, total.parse().ok()?, max.parse().ok()?))
    };
    // "a / b / c ms", or "-" when there was no such collection.
    let percentiles = |rest: &str| -> Option<(f64, f64)> {
        let rest = rest.trim();
        if rest == "-" {
            return Some((0.0, 0.0));
        }
        let mut it = rest.strip_suffix(" ms")?.split(" / ");
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    for line in stderr.lines() {
        let Some(line) = line.strip_prefix("gc: ") else {
            continue;
        };
        if let Some(rest) = line.strip_prefix("minor collections:") {
            (g.minor, g.minor_total_ms, g.minor_max_ms) = counts(rest)?;
            minor = true;
        } else if let Some(rest) = line.strip_prefix("major collections:") {
            (g.major, g.major_total_ms, g.major_max_ms) = counts(rest)?;
            major = true;
        } else if let Some(rest) = line.strip_prefix("minor pauses p50/p99/max:") {
            (g.minor_p50_ms, g.minor_p99_ms) = percentiles(rest)?;
        } else if let Some(rest) = line.strip_prefix("major pauses p50/p99/max:") {
            (g.major_p50_ms, g.major_p99_ms) = percentiles(rest)?;
        } else if let Some(rest) = line.strip_prefix("bytes promoted:") {
            g.bytes_promoted = rest.trim().parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("peak heap:") {
            g.peak_heap_kib = rest.trim().strip_suffix(" KiB")?.parse().ok()?;
        }
    }
    (minor && major).then_some(g)
}

/// Why a program/engine pair has no numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Build,
    Error,
    Timeout,
    Wrong,
}

impl Failure {
    pub fn word(self) -> &'static str {
        match self {
            Failure::Build => "build failed",
            Failure::Error => "error",
            Failure::Timeout => "timeout",
            Failure::Wrong => "wrong result",
        }
    }
}

/// The outcome for one program on one engine.
#[derive(Clone, Debug)]
pub enum Cell {
    /// The engine has no version of this program (C for most programs).
    NotApplicable,
    /// The engine is missing or does not work at all.
    Unavailable,
    Failed(Failure, String),
    /// The measured samples (at least one).
    Measured(Vec<Sample>),
}

impl Cell {
    fn stat(&self, f: impl Fn(&Sample) -> f64) -> Option<f64> {
        match self {
            Cell::Measured(samples) => Some(median(samples.iter().map(f).collect())),
            _ => None,
        }
    }
    pub fn seconds(&self) -> Option<f64> {
        self.stat(|s| s.seconds)
    }
    pub fn wall(&self) -> Option<f64> {
        self.stat(|s| s.wall)
    }
    pub fn rss_mib(&self) -> Option<f64> {
        self.stat(|s| s.rss_kb as f64 / 1024.0)
    }
    /// The collector's statistics of the measured runs: medians, except
    /// the longest pause, which is the longest of all runs.
    pub fn gc(&self) -> Option<GcStats> {
        let Cell::Measured(samples) = self else {
            return None;
        };
        let gs: Vec<GcStats> = samples.iter().filter_map(|s| s.gc).collect();
        if gs.is_empty() {
            return None;
        }
        let med = |f: fn(&GcStats) -> f64| median(gs.iter().map(f).collect());
        let max = |f: fn(&GcStats) -> f64| gs.iter().map(f).fold(0.0, f64::max);
        Some(GcStats {
            minor: med(|g| g.minor as f64).round() as u64,
            minor_total_ms: med(|g| g.minor_total_ms),
            minor_max_ms: max(|g| g.minor_max_ms),
            major: med(|g| g.major as f64).round() as u64,
            major_total_ms: med(|g| g.major_total_ms),
            major_max_ms: max(|g| g.major_max_ms),
            minor_p50_ms: med(|g| g.minor_p50_ms),
            minor_p99_ms: med(|g| g.minor_p99_ms),
            major_p50_ms: med(|g| g.major_p50_ms),
            major_p99_ms: med(|g| g.major_p99_ms),
            bytes_promoted: med(|g| g.bytes_promoted as f64).round() as u64,
            peak_heap_kib: med(|g| g.peak_heap_kib as f64).round() as u64,
        })
    }
}

/// One row of the CSV: every run, warm-ups and failures included.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub program: String,
    pub engine: Engine,
    /// 0-based; warm-up rounds come first.
    pub round: usize,
    pub warmup: bool,
    pub status: &'static str,
    pub sample: Option<Sample>,
    pub detail: String,
}

/// Everything a run of the harness found.
#[derive(Clone, Debug)]
pub struct Results {
    pub quick: bool,
    pub reps: usize,
    pub warmup: usize,
    pub timeout: Duration,
    pub slow: Duration,
    pub started: SystemTime,
    pub elapsed: Duration,
    pub machine: sysinfo::Machine,
    pub programs: Vec<Program>,
    pub engines: Vec<Status>,
    pub cells: BTreeMap<(String, Engine), Cell>,
    pub runs: Vec<RunRecord>,
    /// Remarks for the report (e.g. a failed Valk build, no chart).
    pub notes: Vec<String>,
    /// The options as a command line, for the report.
    pub command: String,
    /// The load averages (1 minute) before and after the run: other work
    /// on the machine distorts the numbers.
    pub load: (Option<f64>, Option<f64>),
    /// The nice value the runs had.
    pub niceness: i32,
    /// The collector report (`--gc`).
    pub gc: bool,
}

impl Results {
    pub fn cell(&self, program: &str, engine: Engine) -> &Cell {
        self.cells
            .get(&(program.to_string(), engine))
            .unwrap_or(&Cell::Unavailable)
    }

    /// Median peak RSS of `engine` over Chez's, when both have one.
    pub fn rss_ratio(&self, program: &str, engine: Engine) -> Option<f64> {
        let base = self.cell(program, Engine::Chez).rss_mib()?;
        let m = self.cell(program, engine).rss_mib()?;
        (base > 0.0).then(|| m / base)
    }

    /// Median time of `engine` over Chez's, when both have one.
    pub fn ratio(&self, program: &str, engine: Engine) -> Option<f64> {
        let base = self.cell(program, Engine::Chez).seconds()?;
        let t = self.cell(program, engine).seconds()?;
        // A zero time only says the clock was too coarse (quick mode).
        (base > 0.0 && t > 0.0).then(|| t / base)
    }

    /// Geometric mean of the ratios to Chez, and on how many programs.
    pub fn geomean_ratio(&self, engine: Engine) -> Option<(f64, usize)> {
        let ratios: Vec<f64> = self
            .programs
            .iter()
            .filter_map(|p| self.ratio(&p.name, engine))
            .collect();
        (!ratios.is_empty()).then(|| (geomean(&ratios), ratios.len()))
    }

    /// Engines that were asked for, in table order.
    pub fn engine_list(&self) -> Vec<Engine> {
        self.engines.iter().map(|s| s.engine).collect()
    }

    /// Pairs that should have produced numbers and did not.
    pub fn failures(&self) -> Vec<(&str, Engine, Failure, &str)> {
        let mut out = Vec::new();
        for ((p, e), cell) in &self.cells {
            if let Cell::Failed(kind, detail) = cell {
                out.push((p.as_str(), *e, *kind, detail.as_str()));
            }
        }
        out
    }
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

pub fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// The paths a run uses.
#[derive(Clone, Debug)]
pub struct Paths {
    pub root: PathBuf,
    pub target: PathBuf,
    pub csv: PathBuf,
    pub markdown: PathBuf,
    pub png: PathBuf,
}

impl Paths {
    pub fn new(o: &Options) -> Paths {
        let root = workspace_root();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) if !t.is_empty() => root.join(t),
            _ => root.join("target"),
        };
        let out = o
            .out_dir
            .clone()
            .or_else(|| o.quick.then(|| target.join("valk-bench").join("quick")));
        match out {
            Some(dir) if o.gc => Paths {
                csv: dir.join("results-gc.csv"),
                markdown: dir.join("BENCHMARKS-gc.md"),
                png: dir.join("bench-gc.png"),
                root,
                target,
            },
            Some(dir) => Paths {
                csv: dir.join("results.csv"),
                markdown: dir.join("BENCHMARKS.md"),
                png: dir.join("bench.png"),
                root,
                target,
            },
            None if o.gc => Paths {
                csv: root.join("bench").join("results-gc.csv"),
                markdown: root.join("docs").join("BENCHMARKS-gc.md"),
                png: root.join("docs").join("bench-gc.png"),
                root,
                target,
            },
            None => Paths {
                csv: root.join("bench").join("results.csv"),
                markdown: root.join("docs").join("BENCHMARKS.md"),
                png: root.join("docs").join("bench.png"),
                root,
                target,
            },
        }
    }
}

/// The workspace root (the parent of this package).
pub fn workspace_root() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).to_path_buf()
}

/// Runs the whole harness and writes its outputs.
pub fn run(o: &Options) -> Result<Results, String> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let load_before = sysinfo::load_average();
    let paths = Paths::new(o);
    let bench_dir = paths.root.join("bench");
    let mut notes = Vec::new();

    let mut programs = programs::load_programs(&bench_dir)?;
    if let Some(only) = &o.only {
        for name in only {
            if !programs.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = programs.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "unknown program `{name}` (known: {})",
                    known.join(", ")
                ));
            }
        }
        programs.retain(|p| only.contains(&p.name));
    }

    let ctx = Context {
        bench_dir: bench_dir.clone(),
        work_dir: paths.target.join("valk-bench").join("work"),
        valk_dir: o
            .valk_dir
            .clone()
            .unwrap_or_else(|| paths.target.join("release")),
        install: o.install,
    };
    std::fs::create_dir_all(&ctx.work_dir)
        .map_err(|e| format!("cannot create {}: {e}", ctx.work_dir.display()))?;

    let valk_build = if o.build_valk && o.engines.iter().any(|e| e.is_valk()) {
        build_valk(&paths.root)
    } else {
        Ok(())
    };
    if let Err(e) = &valk_build {
        notes.push(format!("Building Valk failed, so no Valk engine ran: {e}"));
    }

    let mut installer = Installer::default();
    let statuses: Vec<Status> = o
        .engines
        .iter()
        .map(|&e| match (&valk_build, e.is_valk()) {
            (Err(err), true) => Status {
                engine: e,
                version: None,
                problem: Some(format!("build failed: {err}")),
            },
            _ => {
                let st = engines::check(e, &ctx, &mut installer);
                match &st.problem {
                    None => log(&format!(
                        "{}: {}",
                        e.key(),
                        st.version.as_deref().unwrap_or("")
                    )),
                    Some(p) => log(&format!("{}: NOT AVAILABLE: {p}", e.key())),
                }
                st
            }
        })
        .collect();

    let mut cells = BTreeMap::new();
    let mut runs = Vec::new();
    let inputs = prepare_inputs(&programs, o.quick, &ctx);
    let built = build_all(&programs, &statuses, &ctx, &inputs);
    for program in &programs {
        measure_program(o, program, &statuses, &built, &mut cells, &mut runs);
    }

    let mut results = Results {
        quick: o.quick,
        reps: o.reps,
        warmup: o.warmup,
        timeout: o.timeout,
        slow: o.slow,
        started,
        elapsed: clock.elapsed(),
        machine: sysinfo::machine(),
        programs,
        engines: statuses,
        cells,
        runs,
        notes,
        command: o.command_line(),
        load: (load_before, sysinfo::load_average()),
        niceness: sysinfo::niceness(),
        gc: o.gc,
    };

    let png = if o.chart {
        match chart::font(&mut installer, o.install)
            .and_then(|font| chart::draw(&results, &paths.png, font))
        {
            Ok(()) => Some(paths.png.clone()),
            Err(e) => {
                log(&format!("no chart: {e}"));
                results.notes.push(format!("No chart was drawn: {e}"));
                None
            }
        }
    } else {
        None
    };
    report::write_csv(&results, &paths.csv)?;
    let md = report::markdown(&results, &paths.markdown, png.as_deref(), &paths.csv);
    write_file(&paths.markdown, &md)?;
    log(&format!(
        "wrote {}, {}{}",
        paths.csv.display(),
        paths.markdown.display(),
        png.map(|p| format!(", {}", p.display()))
            .unwrap_or_default()
    ));
    Ok(results)
}

pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn log(msg: &str) {
    eprintln!("valk-bench: {msg}");
}

/// `cargo build --release -p valk --bins`, output shown as it comes.
fn build_valk(root: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    log("building valk (cargo build --release -p valk --bins)");
    let status = std::process::Command::new(&cargo)
        .args(["build", "--release", "-p", "valk", "--bins"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build --release -p valk exited with {status}"
        ))
    }
}

type BuildResults = BTreeMap<(String, Engine), Result<Built, String>>;

/// Generates (or finds cached) the input files of the programs that read
/// one, before any timing; maps each such program to the directory it runs
/// in, or to why its input could not be made.
fn prepare_inputs(
    programs: &[Program],
    quick: bool,
    ctx: &Context,
) -> BTreeMap<String, Result<PathBuf, String>> {
    let dir = ctx.work_dir.join("inputs");
    let mut out = BTreeMap::new();
    for p in programs {
        if let Some(spec) = p.input(quick) {
            let path = spec.dir(&dir).join(spec.file_name());
            if !path.exists() {
                log(&format!("generating {}", path.display()));
            }
            let r = spec.ensure(&dir);
            if let Err(e) = &r {
                log(&format!("{}: {e}", p.name));
            }
            out.insert(p.name.clone(), r);
        }
    }
    out
}

/// Generates and compiles every (program, engine) pair before any timing,
/// two at a time, so that compilations do not disturb measurements.
fn build_all(
    programs: &[Program],
    statuses: &[Status],
    ctx: &Context,
    inputs: &BTreeMap<String, Result<PathBuf, String>>,
) -> BuildResults {
    let jobs: Vec<(&Program, Engine)> = programs
        .iter()
        .flat_map(|p| {
            statuses
                .iter()
                .filter(|s| s.available() && s.engine.runs(p))
                .map(move |s| (p, s.engine))
        })
        .collect();
    if !jobs.is_empty() {
        log(&format!("preparing {} program/engine pairs", jobs.len()));
    }
    let queue = Mutex::new(jobs);
    let done = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let job = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                let Some((program, engine)) = job else { break };
                let r = match inputs.get(&program.name) {
                    None => engines::build(engine, program, ctx),
                    Some(Err(e)) => Err(format!("no input file: {e}")),
                    // A program that reads a file runs where the file is.
                    Some(Ok(dir)) => engines::build(engine, program, ctx).map(|b| Built {
                        dir: dir.clone(),
                        ..b
                    }),
                };
                if let Err(e) = &r {
                    log(&format!("{} on {}: {e}", program.name, engine.key()));
                }
                if let Ok(mut d) = done.lock() {
                    d.insert((program.name.clone(), engine), r);
                }
            });
        }
    });
    done.into_inner().unwrap_or_default()
}

/// Runs one program on every engine, interleaved round by round.
fn measure_program(
    o: &Options,
    program: &Program,
    statuses: &[Status],
    built: &BuildResults,
    cells: &mut BTreeMap<(String, Engine), Cell>,
    runs: &mut Vec<RunRecord>,
) {
    let (args, expect) = program.inputs(o.quick);
    let key = |e: Engine| (program.name.clone(), e);
    let mut active: Vec<(Engine, &Built)> = Vec::new();
    for st in statuses {
        let e = st.engine;
        if !e.runs(program) {
            cells.insert(key(e), Cell::NotApplicable);
            continue;
        }
        if !st.available() {
            cells.insert(key(e), Cell::Unavailable);
            runs.push(RunRecord {
                program: program.name.clone(),
                engine: e,
                round: 0,
                warmup: false,
                status: "unavailable",
                sample: None,
                detail: st.problem.clone().unwrap_or_default(),
            });
            continue;
        }
        match built.get(&key(e)) {
            Some(Ok(b)) => active.push((e, b)),
            other => {
                let detail = match other {
                    Some(Err(msg)) => msg.clone(),
                    _ => "not built".to_string(),
                };
                runs.push(RunRecord {
                    program: program.name.clone(),
                    engine: e,
                    round: 0,
                    warmup: false,
                    status: "build-failed",
                    sample: None,
                    detail: detail.clone(),
                });
                cells.insert(key(e), Cell::Failed(Failure::Build, detail));
            }
        }
    }

    let mut samples: BTreeMap<Engine, Vec<Sample>> = BTreeMap::new();
    let mut finished: BTreeSet<Engine> = BTreeSet::new();
    let stdin = format!("{args}\n");
    for round in 0..o.warmup + o.reps {
        let warmup = round < o.warmup;
        for &(e, b) in &active {
            if finished.contains(&e) {
                continue;
            }
            let argv = b.argv.clone();
            // Valk prints its collector's statistics at exit (docs/gc.md).
            let env: &[(&str, &str)] = if e.is_valk() {
                &[("VALK_GC_STATS", "1")]
            } else {
                &[]
            };
            let outcome = runner::run_with_env(&argv, &b.dir, &stdin, o.timeout, env);
            let judged = match outcome {
                Ok(out) => judge(&out, expect, o.timeout),
                Err(msg) => Err((Failure::Error, msg)),
            };
            let what = if warmup { "warm-up" } else { "run" };
            match judged {
                Ok(sample) => {
                    log(&format!(
                        "{:<11} {:<11} {what} {}: {:.3} s (process {:.3} s, {:.1} MiB)",
                        program.name,
                        e.key(),
                        round + 1,
                        sample.seconds,
                        sample.wall,
                        sample.rss_kb as f64 / 1024.0
                    ));
                    let slow = warmup && sample.wall > o.slow.as_secs_f64();
                    runs.push(RunRecord {
                        program: program.name.clone(),
                        engine: e,
                        round,
                        warmup: warmup && !slow,
                        status: "ok",
                        sample: Some(sample),
                        detail: if slow {
                            "slow warm-up kept as the only sample".to_string()
                        } else {
                            String::new()
                        },
                    });
                    if !warmup || slow {
                        samples.entry(e).or_default().push(sample);
                    }
                    if slow {
                        finished.insert(e);
                    }
                }
                Err((kind, detail)) => {
                    log(&format!(
                        "{:<11} {:<11} {what} {}: {}: {detail}",
                        program.name,
                        e.key(),
                        round + 1,
                        kind.word()
                    ));
                    runs.push(RunRecord {
                        program: program.name.clone(),
                        engine: e,
                        round,
                        warmup,
                        status: match kind {
                            Failure::Build => "build-failed",
                            Failure::Error => "error",
                            Failure::Timeout => "timeout",
                            Failure::Wrong => "wrong",
                        },
                        sample: None,
                        detail: detail.clone(),
                    });
                    cells.insert(key(e), Cell::Failed(kind, detail));
                    finished.insert(e);
                }
            }
        }
    }
    for (e, s) in samples {
        cells.entry(key(e)).or_insert(Cell::Measured(s));
    }
}

/// Checks a run's output against the expected result.
fn judge(
    out: &runner::Outcome,
    expect: &str,
    timeout: Duration,
) -> Result<Sample, (Failure, String)> {
    match out.exit {
        runner::Exit::Timeout => {
            return Err((
                Failure::Timeout,
                format!("no result within {} s", timeout.as_secs()),
            ));
        }
        _ if !out.success() => return Err((Failure::Error, out.failure_summary())),
        _ => {}
    }
    let (result, seconds) = parse_output(&out.stdout).map_err(|e| (Failure::Error, e))?;
    if result != expect {
        return Err((
            Failure::Wrong,
            format!("printed `{result}`, expected `{expect}`"),
        ));
    }
    Ok(Sample {
        seconds,
        wall: out.wall.as_secs_f64(),
        cpu: out.cpu.as_secs_f64(),
        rss_kb: out.max_rss_kb,
        gc: parse_gc_stats(&out.stderr),
    })
}

/// Finds the driver's `result: ...` and `ticks: T PER-SECOND` lines.
pub fn parse_output(stdout: &str) -> Result<(String, f64), String> {
    let result = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("result: "))
        .map(|r| r.trim().to_string());
    let ticks = stdout.lines().rev().find_map(|l| {
        let mut parts = l.strip_prefix("ticks: ")?.split_whitespace();
        let t: f64 = parts.next()?.parse().ok()?;
        let per: f64 = parts.next()?.parse().ok()?;
        (per > 0.0).then_some(t / per)
    });
    match (result, ticks) {
        (Some(r), Some(s)) => Ok((r, s)),
        _ => Err(format!(
            "unexpected output: `{}`",
            runner::last_lines(stdout, 3)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options() {
        let o = parse_args(&args(
            "--quick --only fib,tak --engines chez,valk --timeout=5",
        ))
        .unwrap()
        .unwrap();
        assert!(o.quick);
        assert_eq!((o.reps, o.warmup), (1, 0));
        assert_eq!(o.only.as_deref().unwrap(), ["fib", "tak"]);
        assert_eq!(o.engines.len(), 4);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(
            o.command_line(),
            "./x bench --quick --only fib,tak --engines valk-interp,valk-jit,valk-aot,chez --timeout 5"
        );
        let o = parse_args(&args("--reps 5")).unwrap().unwrap();
        assert_eq!((o.reps, o.warmup), (5, 1));
        assert!(parse_args(&args("--help")).unwrap().is_none());
        assert!(parse_args(&args("--reps"))
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_args(&args("--reps x"))
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_args(&args("--reps 0")).is_err());
        assert!(parse_args(&args("--frobnicate"))
            .unwrap_err()
            .contains("unknown option"));
    }

    #[test]
    fn output_parsing() {
        let (r, s) = parse_output("noise\nresult: (1 2)\nticks: 1500 1000\n").unwrap();
        assert_eq!(r, "(1 2)");
        assert!((s - 1.5).abs() < 1e-12);
        assert!(parse_output("result: 1\n").is_err());
        assert!(parse_output("ticks: 1 0\nresult: 1\n").is_err());
    }

    #[test]
    fn gc_options() {
        let o = parse_args(&args("--gc")).unwrap().unwrap();
        assert!(o.gc && !o.chart);
        assert_eq!(o.only.as_ref().unwrap().len(), GC_PROGRAMS.len());
        assert_eq!(o.engines, GC_ENGINES);
        assert_eq!(o.command_line(), "./x bench --gc");
        let o = parse_args(&args("--gc --only gcold --engines chez"))
            .unwrap()
            .unwrap();
        assert_eq!(
            o.command_line(),
            "./x bench --gc --only gcold --engines chez"
        );
        let p = Paths::new(&o);
        assert!(p.markdown.ends_with("docs/BENCHMARKS-gc.md"));
        assert!(p.csv.ends_with("bench/results-gc.csv"));
    }

    #[test]
    fn gc_stats_parsing() {
        let text = "noise\n\
            gc: collections:    383\n\
            gc: minor collections: 372 (total 1881.698 ms, max 13.320 ms)\n\
            gc: major collections: 11 (total 2330.359 ms, max 259.989 ms)\n\
            gc: bytes allocated: 1609459280\n\
            gc: bytes promoted: 1477023584\n\
            gc: peak heap:      284289 KiB\n\
            gc: minor pauses p50/p99/max: 3.640 / 9.144 / 13.319 ms\n\
            gc: major pauses p50/p99/max: -\n";
        let g = parse_gc_stats(text).unwrap();
        assert_eq!((g.minor, g.major), (372, 11));
        assert_eq!((g.minor_total_ms, g.minor_max_ms), (1881.698, 13.320));
        assert_eq!(g.major_max_ms, 259.989);
        assert_eq!((g.minor_p50_ms, g.minor_p99_ms), (3.640, 9.144));
        assert_eq!((g.major_p50_ms, g.major_p99_ms), (0.0, 0.0));
        assert_eq!(g.bytes_promoted, 1477023584);
        assert_eq!(g.peak_heap_kib, 284289);
        assert_eq!(g.max_pause_ms(), 259.989);
        assert!(parse_gc_stats("result: 1\n").is_none());
    }

    #[test]
    fn statistics() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
        assert!((geomean(&[1.0, 4.0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn judging_runs() {
        let out = |code, stdout: &str| runner::Outcome {
            exit: runner::Exit::Code(code),
            wall: Duration::from_millis(20),
            max_rss_kb: 1000,
            cpu: Duration::from_millis(10),
            stdout: stdout.to_string(),
            stderr: "boom".to_string(),
        };
        let t = Duration::from_secs(1);
        let ok = judge(&out(0, "result: 7\nticks: 5 1000\n"), "7", t).unwrap();
        assert!((ok.seconds - 0.005).abs() < 1e-12 && ok.rss_kb == 1000);
        assert_eq!(
            judge(&out(0, "result: 8\nticks: 5 1000\n"), "7", t)
                .unwrap_err()
                .0,
            Failure::Wrong
        );
        assert_eq!(judge(&out(1, ""), "7", t).unwrap_err().0, Failure::Error);
        let mut timeout = out(0, "");
        timeout.exit = runner::Exit::Timeout;
        assert_eq!(judge(&timeout, "7", t).unwrap_err().0, Failure::Timeout);
    }
}
