//! The engines under test: how each is found (and installed when missing),
//! how a benchmark source is generated for it (per-implementation glue +
//! the portable program + the common driver), how it is compiled, and the
//! command line of one run.

use crate::programs::Program;
use crate::runner;
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Longest a compilation may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest a probe or version query may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    ValkInterp,
    ValkJit,
    ValkAot,
    Chez,
    Racket,
    Guile,
    Chicken,
    Gambit,
    C,
}

impl Engine {
    /// Every engine, in table order.
    pub const ALL: [Engine; 9] = [
        Engine::ValkInterp,
        Engine::ValkJit,
        Engine::ValkAot,
        Engine::Chez,
        Engine::Racket,
        Engine::Guile,
        Engine::Chicken,
        Engine::Gambit,
        Engine::C,
    ];

    /// The name used on the command line and in the CSV.
    pub fn key(self) -> &'static str {
        match self {
            Engine::ValkInterp => "valk-interp",
            Engine::ValkJit => "valk-jit",
            Engine::ValkAot => "valk-aot",
            Engine::Chez => "chez",
            Engine::Racket => "racket",
            Engine::Guile => "guile",
            Engine::Chicken => "chicken",
            Engine::Gambit => "gambit",
            Engine::C => "c",
        }
    }

    /// The column heading in the tables and the chart legend.
    pub fn label(self) -> &'static str {
        match self {
            Engine::ValkInterp => "Valk interp",
            Engine::ValkJit => "Valk JIT",
            Engine::ValkAot => "Valk AOT",
            Engine::Chez => "Chez",
            Engine::Racket => "Racket",
            Engine::Guile => "Guile",
            Engine::Chicken => "Chicken",
            Engine::Gambit => "Gambit",
            Engine::C => "C (gcc -O2)",
        }
    }

    /// How the engine runs a program, for the report.
    pub fn how(self) -> &'static str {
        match self {
            Engine::ValkInterp => "`valk --no-jit FILE` (the reference interpreter)",
            Engine::ValkJit => {
                "`valk --cache-only FILE` compiles the whole program at -O2 into the JIT's object cache, then `valk --jit FILE` links the cached object (the tiered first run is measured by `bench/tier-steady.py` and `bench/compile-time/`)"
            }
            Engine::ValkAot => "`valkc compile -O2 FILE -o EXE`, then `EXE`",
            Engine::Chez => {
                "`chezscheme --program FILE` (an R6RS top-level program, compiled when loaded; safe mode)"
            }
            Engine::Racket => "`raco make FILE.rkt` (a `racket/base` module), then `racket FILE.rkt`",
            Engine::Guile => {
                "`compile-file` at `-O2` (as `guild compile` and auto-compilation do), then `guile --no-auto-compile` loads the `.go`"
            }
            Engine::Chicken => {
                "`csc -O2 -local -inline-global` (`-O3` without `-specialize`, which miscompiles `sieve` in CHICKEN 5.3), then `EXE`"
            }
            Engine::Gambit => {
                "`gsc -exe` with `(declare (standard-bindings) (extended-bindings) (block))` (still safe), then `EXE -:f8` (files in UTF-8)"
            }
            Engine::C => "`gcc -O2` on the C version (fib, tak, sieve and readline only)",
        }
    }

    /// Parses a comma-separated engine list; `valk` means all three Valk
    /// engines and `peers` the five other Schemes.
    pub fn parse_list(list: &str) -> Result<Vec<Engine>, String> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let engines: Vec<Engine> = match name {
                "valk" => vec![Engine::ValkInterp, Engine::ValkJit, Engine::ValkAot],
                "peers" => vec![
                    Engine::Chez,
                    Engine::Racket,
                    Engine::Guile,
                    Engine::Chicken,
                    Engine::Gambit,
                ],
                "interp" => vec![Engine::ValkInterp],
                "jit" => vec![Engine::ValkJit],
                "aot" => vec![Engine::ValkAot],
                "gcc" => vec![Engine::C],
                _ => match Engine::ALL.iter().find(|e| e.key() == name) {
                    Some(&e) => vec![e],
                    None => {
                        let known: Vec<&str> = Engine::ALL.iter().map(|e| e.key()).collect();
                        return Err(format!(
                            "unknown engine `{name}` (known: {}, valk, peers)",
                            known.join(", ")
                        ));
                    }
                },
            };
            for e in engines {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn is_valk(self) -> bool {
        matches!(self, Engine::ValkInterp | Engine::ValkJit | Engine::ValkAot)
    }

    /// Whether this engine has a version of `program` (only C is partial).
    pub fn runs(self, program: &Program) -> bool {
        self != Engine::C || program.c_source.is_some()
    }

    /// The tools a peer needs: (binary, Debian package providing it).
    fn tools(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Engine::Chez => &[("chezscheme", "chezscheme")],
            Engine::Racket => &[("racket", "racket"), ("raco", "racket")],
            Engine::Guile => &[("guile", "guile-3.0")],
            Engine::Chicken => &[("csc", "chicken-bin")],
            Engine::Gambit => &[("gsc", "gambc")],
            Engine::C => &[("gcc", "gcc")],
            Engine::ValkInterp | Engine::ValkJit | Engine::ValkAot => &[],
        }
    }

    /// The glue file (in `bench/glue/`) put before the program.
    fn glue(self) -> &'static str {
        match self {
            Engine::ValkInterp | Engine::ValkJit | Engine::ValkAot => "valk.scm",
            Engine::Chez => "chez.ss",
            Engine::Racket => "racket.rkt",
            Engine::Guile => "guile.scm",
            Engine::Chicken => "chicken.scm",
            Engine::Gambit => "gambit.scm",
            Engine::C => "",
        }
    }

    fn source_ext(self) -> &'static str {
        match self {
            Engine::Chez => "ss",
            Engine::Racket => "rkt",
            Engine::C => "c",
            _ => "scm",
        }
    }
}

/// Where things are.
#[derive(Clone, Debug)]
pub struct Context {
    /// `bench/` (programs, glue, C versions).
    pub bench_dir: PathBuf,
    /// Generated sources and executables go under here.
    pub work_dir: PathBuf,
    /// Directory holding the `valk` and `valkc` binaries.
    pub valk_dir: PathBuf,
    /// Whether missing peers may be installed with apt-get.
    pub install: bool,
}

impl Context {
    fn valk(&self) -> PathBuf {
        self.valk_dir.join("valk")
    }

    fn valkc(&self) -> PathBuf {
        self.valk_dir.join("valkc")
    }
}

/// Finds an executable on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Installs Debian packages on demand, each at most once per run.
#[derive(Default)]
pub struct Installer {
    tried: BTreeMap<String, Result<(), String>>,
    updated: bool,
}

impl Installer {
    /// Makes sure `binary` is on `PATH`, installing `package` if allowed.
    pub fn ensure(
        &mut self,
        binary: &str,
        package: &str,
        allowed: bool,
    ) -> Result<PathBuf, String> {
        if let Some(p) = which(binary) {
            return Ok(p);
        }
        if !allowed {
            return Err(format!(
                "`{binary}` not found (package {package}; installing disabled)"
            ));
        }
        self.install_package(package)
            .map_err(|e| format!("`{binary}` not found and {e}"))?;
        which(binary)
            .ok_or_else(|| format!("`{binary}` still not found after installing {package}"))
    }

    /// Installs a Debian package (once per run, whatever the outcome).
    pub fn install_package(&mut self, package: &str) -> Result<(), String> {
        if let Some(r) = self.tried.get(package) {
            return r.clone();
        }
        let r = self.apt_install(package);
        self.tried.insert(package.to_string(), r.clone());
        r
    }

    fn apt_install(&mut self, package: &str) -> Result<(), String> {
        // SAFETY: plain syscall.
        let root = unsafe { libc::geteuid() } == 0;
        let mut prefix: Vec<OsString> = Vec::new();
        if !root {
            match which("sudo") {
                Some(sudo) => prefix.extend([sudo.into_os_string(), "-n".into()]),
                None => return Err(format!("installing {package} needs root")),
            }
        }
        if which("apt-get").is_none() {
            return Err(format!("installing {package} needs apt-get"));
        }
        eprintln!("valk-bench: installing {package} with apt-get");
        let apt = |args: &[&str]| -> Result<(), String> {
            let mut argv = prefix.clone();
            argv.push("env".into());
            argv.push("DEBIAN_FRONTEND=noninteractive".into());
            argv.push("apt-get".into());
            argv.extend(args.iter().map(OsString::from));
            let o = runner::run(&argv, Path::new("/"), "", Duration::from_secs(900))?;
            if o.success() {
                Ok(())
            } else {
                Err(o.failure_summary())
            }
        };
        let first = apt(&["install", "-y", "-q", "--no-install-recommends", package]);
        if first.is_ok() || self.updated {
            return first.map_err(|e| format!("apt-get install {package} failed: {e}"));
        }
        // The package lists may be missing or stale: update once and retry.
        self.updated = true;
        apt(&["update", "-q"]).map_err(|e| format!("apt-get update failed: {e}"))?;
        apt(&["install", "-y", "-q", "--no-install-recommends", package])
            .map_err(|e| format!("apt-get install {package} failed: {e}"))
    }
}

/// An engine's state after the availability check.
#[derive(Clone, Debug)]
pub struct Status {
    pub engine: Engine,
    /// Version string when the engine is usable.
    pub version: Option<String>,
    /// Why it is not usable.
    pub problem: Option<String>,
}

impl Status {
    pub fn available(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks (and if needed installs) an engine.
pub fn check(engine: Engine, ctx: &Context, installer: &mut Installer) -> Status {
    let result = if engine.is_valk() {
        probe_valk(engine, ctx)
    } else {
        engine
            .tools()
            .iter()
            .try_for_each(|(bin, pkg)| installer.ensure(bin, pkg, ctx.install).map(drop))
            .map(|()| peer_version(engine))
    };
    match result {
        Ok(version) => Status {
            engine,
            version: Some(version),
            problem: None,
        },
        Err(problem) => Status {
            engine,
            version: None,
            problem: Some(problem),
        },
    }
}

/// Runs a command for its output (stdout and stderr together).
fn query(argv: &[&str]) -> Option<String> {
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    let o = runner::run(&argv, Path::new("/"), "", PROBE_TIMEOUT).ok()?;
    Some(format!("{}{}", o.stdout, o.stderr))
}

fn peer_version(engine: Engine) -> String {
    let text = match engine {
        Engine::Chez => {
            query(&["chezscheme", "--version"]).map(|v| format!("Chez Scheme {}", v.trim()))
        }
        Engine::Racket => query(&["racket", "--version"]).map(|v| {
            v.trim()
                .trim_start_matches("Welcome to ")
                .trim_end_matches('.')
                .to_string()
        }),
        Engine::Guile => {
            query(&["guile", "--version"]).and_then(|v| v.lines().next().map(str::to_string))
        }
        Engine::Chicken => query(&["csc", "-version"]).and_then(|v| {
            v.lines()
                .find(|l| l.starts_with("Version"))
                .map(|l| format!("CHICKEN {}", l.trim_start_matches("Version ")))
        }),
        Engine::Gambit => query(&["gsc", "-v"])
            .and_then(|v| v.split_whitespace().next().map(|s| format!("Gambit {s}"))),
        Engine::C => {
            query(&["gcc", "--version"]).and_then(|v| v.lines().next().map(str::to_string))
        }
        Engine::ValkInterp | Engine::ValkJit | Engine::ValkAot => None,
    };
    text.map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "version unknown".to_string())
}

/// A Valk engine is available when it runs a probe program correctly.
fn probe_valk(engine: Engine, ctx: &Context) -> Result<String, String> {
    let valk = ctx.valk();
    if !is_executable(&valk) {
        return Err(format!("{} not found (not built?)", valk.display()));
    }
    let dir = ctx.work_dir.join("probe");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let src = dir.join("probe.scm");
    fs::write(&src, "(display (+ 40 2))\n(newline)\n")
        .map_err(|e| format!("cannot write {}: {e}", src.display()))?;
    let argv: Vec<OsString> = match engine {
        Engine::ValkInterp => vec![valk.clone().into(), "--no-jit".into(), src.into()],
        Engine::ValkJit => vec![valk.clone().into(), "--jit".into(), src.into()],
        _ => {
            let exe = dir.join("probe-aot");
            let _ = fs::remove_file(&exe);
            let compile: Vec<OsString> = vec![
                ctx.valkc().into(),
                "compile".into(),
                "-O2".into(),
                src.into(),
                "-o".into(),
                exe.clone().into(),
            ];
            let o = runner::run(&compile, &dir, "", BUILD_TIMEOUT)?;
            if !o.success() {
                return Err(format!("`valkc compile` failed: {}", o.failure_summary()));
            }
            vec![exe.into()]
        }
    };
    let o = runner::run(&argv, &dir, "", PROBE_TIMEOUT)?;
    if !o.success() {
        return Err(format!("probe failed: {}", o.failure_summary()));
    }
    if o.stdout.trim() != "42" {
        return Err(format!("probe printed `{}` instead of 42", o.stdout.trim()));
    }
    let version = query(&[&valk.to_string_lossy(), "--version"])
        .and_then(|v| v.lines().next().map(|l| l.trim().to_string()))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "valk (version unknown)".to_string());
    Ok(match git_revision(&ctx.bench_dir) {
        Some(rev) => format!("{version} ({rev})"),
        None => version,
    })
}

/// The commit the workspace is at, and whether it has local changes
/// (read-only git queries).
fn git_revision(dir: &Path) -> Option<String> {
    let dir = dir.to_string_lossy();
    let head = query(&["git", "-C", &dir, "rev-parse", "--short=10", "HEAD"])?;
    let head = head.trim();
    if head.is_empty() || head.contains(' ') {
        return None;
    }
    let dirty = query(&[
        "git",
        "-C",
        &dir,
        "status",
        "--porcelain",
        "--untracked-files=no",
    ])
    .is_some_and(|s| !s.trim().is_empty());
    Some(format!(
        "commit {head}{}",
        if dirty {
            " with uncommitted changes"
        } else {
            ""
        }
    ))
}

/// The full text of the file `engine` compiles or loads for `program`.
pub fn generate_source(
    engine: Engine,
    program: &Program,
    bench_dir: &Path,
) -> Result<String, String> {
    if engine == Engine::C {
        return program
            .c_source
            .clone()
            .ok_or_else(|| format!("{} has no C version", program.name));
    }
    let read = |name: &str| {
        let path = bench_dir.join("glue").join(name);
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut glue = read(engine.glue())?;
    if let Some(name) = &program.glue {
        // The program's extra glue, for the engines that need one.
        let (stem, ext) = engine.glue().split_once('.').unwrap_or((engine.glue(), ""));
        let extra = format!("{stem}.{name}.{ext}");
        if glue_exists(bench_dir, &extra) {
            glue.push_str(&format!("\n;; ---- bench/glue/{extra} ----\n"));
            glue.push_str(&read(&extra)?);
        }
    }
    let driver = read("driver.scm")?;
    Ok(format!(
        "{glue}\n;; ---- bench/programs/{}.scm ----\n{}\n;; ---- bench/glue/driver.scm ----\n{driver}",
        program.name, program.source
    ))
}

fn glue_exists(bench_dir: &Path, name: &str) -> bool {
    bench_dir.join("glue").join(name).is_file()
}

/// How to run one benchmark on one engine, once built.
#[derive(Clone, Debug)]
pub struct Built {
    pub argv: Vec<OsString>,
    /// The directory the run starts in.
    pub dir: PathBuf,
}

/// Writes the generated source and compiles it when the engine compiles
/// ahead. Compilations are cached: a build whose inputs (source, command,
/// compiler binary) did not change is reused.
pub fn build(engine: Engine, program: &Program, ctx: &Context) -> Result<Built, String> {
    let dir = ctx.work_dir.join(engine.key());
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let source = generate_source(engine, program, &ctx.bench_dir)?;
    let src = dir.join(format!("{}.{}", program.name, engine.source_ext()));
    write_if_changed(&src, &source)?;
    let exe = dir.join(format!("{}.exe", program.name));
    let s = |p: &Path| OsString::from(p);
    let (compile, run, output): (Option<Vec<OsString>>, Vec<OsString>, PathBuf) = match engine {
        Engine::ValkInterp => (
            None,
            vec![s(&ctx.valk()), "--no-jit".into(), s(&src)],
            src.clone(),
        ),
        // `--cache-only` compiles the whole program into the JIT's object
        // cache before any run. Without it the warm-up run is tiered and only
        // starts the cache fill in the background, which may not finish before
        // the measured runs (then they measure tiering's start, not the JIT).
        Engine::ValkJit => (
            Some(vec![s(&ctx.valk()), "--cache-only".into(), s(&src)]),
            vec![s(&ctx.valk()), "--jit".into(), s(&src)],
            src.clone(),
        ),
        Engine::ValkAot => (
            Some(vec![
                s(&ctx.valkc()),
                "compile".into(),
                "-O2".into(),
                s(&src),
                "-o".into(),
                s(&exe),
            ]),
            vec![s(&exe)],
            exe.clone(),
        ),
        Engine::Chez => (
            None,
            vec!["chezscheme".into(), "--program".into(), s(&src)],
            src.clone(),
        ),
        Engine::Racket => (
            Some(vec!["raco".into(), "make".into(), s(&src)]),
            vec!["racket".into(), s(&src)],
            dir.join("compiled")
                .join(format!("{}_rkt.zo", program.name)),
        ),
        Engine::Guile => {
            let go = dir.join(format!("{}.go", program.name));
            let compile = format!(
                "(use-modules (system base compile)) (compile-file {} #:output-file {} #:optimization-level 2)",
                scheme_string(&src),
                scheme_string(&go)
            );
            let load = format!("(load-compiled {})", scheme_string(&go));
            (
                Some(vec![
                    "guile".into(),
                    "--no-auto-compile".into(),
                    "-c".into(),
                    compile.into(),
                ]),
                vec![
                    "guile".into(),
                    "--no-auto-compile".into(),
                    "-c".into(),
                    load.into(),
                ],
                go,
            )
        }
        Engine::Chicken => (
            Some(vec![
                "csc".into(),
                "-O2".into(),
                "-local".into(),
                "-inline-global".into(),
                s(&src),
                "-o".into(),
                s(&exe),
            ]),
            vec![s(&exe)],
            exe.clone(),
        ),
        Engine::Gambit => (
            Some(vec![
                "gsc".into(),
                "-exe".into(),
                "-o".into(),
                s(&exe),
                s(&src),
            ]),
            // Gambit reads files as ISO-8859-1 unless told otherwise: the
            // runtime option `-:f8` makes files UTF-8, as the other
            // implementations read them.
            vec![s(&exe), "-:f8".into()],
            exe.clone(),
        ),
        Engine::C => (
            Some(vec![
                "gcc".into(),
                "-O2".into(),
                "-I".into(),
                s(&ctx.bench_dir.join("c")),
                s(&src),
                "-o".into(),
                s(&exe),
            ]),
            vec![s(&exe)],
            exe.clone(),
        ),
    };
    if let Some(compile) = compile {
        let key = build_key(&source, &compile, ctx, engine);
        let stamp = dir.join(format!("{}.{}.key", program.name, engine.source_ext()));
        let fresh = fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str());
        // The JIT's object cache lives outside `dir` and may have been
        // emptied since the stamp was written; filling it is quick when full.
        if !(fresh && output.exists()) || engine == Engine::ValkJit {
            let _ = fs::remove_file(&stamp);
            let o = runner::run(&compile, &dir, "", BUILD_TIMEOUT)?;
            if !o.success() {
                return Err(format!("compilation failed: {}", o.failure_summary()));
            }
            fs::write(&stamp, key).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
        }
    }
    Ok(Built { argv: run, dir })
}

/// Leaves the file (and its mtime) alone when the text is already there,
/// so tools that cache by timestamp keep their caches.
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Identifies a build's inputs. For the Valk AOT compiler the binary's
/// modification time is part of it, since valkc changes under our feet.
fn build_key(source: &str, compile: &[OsString], ctx: &Context, engine: Engine) -> String {
    let mut h = DefaultHasher::new();
    source.hash(&mut h);
    compile.hash(&mut h);
    if engine == Engine::ValkAot {
        let mtime = fs::metadata(ctx.valkc())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
        mtime.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// A Scheme string literal for a path.
fn scheme_string(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::parse_program;

    #[test]
    fn engine_lists() {
        assert_eq!(
            Engine::parse_list("chez,valk").unwrap(),
            vec![
                Engine::ValkInterp,
                Engine::ValkJit,
                Engine::ValkAot,
                Engine::Chez
            ]
        );
        assert_eq!(
            Engine::parse_list("gcc, interp,c").unwrap(),
            vec![Engine::ValkInterp, Engine::C]
        );
        assert!(Engine::parse_list("chez,mit")
            .unwrap_err()
            .contains("unknown engine `mit`"));
        for e in Engine::ALL {
            assert_eq!(Engine::parse_list(e.key()).unwrap(), vec![e]);
        }
    }

    #[test]
    fn generated_sources_wrap_the_program() {
        let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
        let p = parse_program(
            "fib",
            ";;; fib: f\n;;; args: (1)\n;;; expect: 1\n;;; quick-args: (1)\n;;; quick-expect: 1\n(define (bench-main n) n)\n",
        )
        .unwrap();
        let racket = generate_source(Engine::Racket, &p, bench).unwrap();
        assert!(racket.starts_with("#lang racket/base"));
        let chez = generate_source(Engine::Chez, &p, bench).unwrap();
        assert!(chez.contains("(import"));
        for e in Engine::ALL.iter().filter(|e| **e != Engine::C) {
            let text = generate_source(*e, &p, bench).unwrap();
            let program_at = text.find("(define (bench-main n) n)").unwrap();
            let driver_at = text.find("(apply bench-main bench-args)").unwrap();
            assert!(program_at < driver_at, "{e:?}");
        }
        assert!(generate_source(Engine::C, &p, bench).is_err());
        // Extra glue named by the program goes in only where it exists.
        let mut unicode = p.clone();
        unicode.glue = Some("unicode".to_string());
        let chicken = generate_source(Engine::Chicken, &unicode, bench).unwrap();
        assert!(chicken.contains(";; ---- bench/glue/chicken.unicode.scm ----"));
        assert!(chicken.find("(define (string-length") < chicken.find("(define (bench-main"));
        let chez = generate_source(Engine::Chez, &unicode, bench).unwrap();
        assert!(!chez.contains("unicode"));
        assert!(!Engine::C.runs(&p));
        assert!(Engine::Chez.runs(&p));
    }

    #[test]
    fn scheme_strings_are_escaped() {
        assert_eq!(scheme_string(Path::new("/a\"b\\c")), "\"/a\\\"b\\\\c\"");
    }

    #[test]
    fn missing_binary_without_install_is_reported() {
        let mut inst = Installer::default();
        let e = inst
            .ensure("valk-bench-no-such-tool", "no-such-package", false)
            .unwrap_err();
        assert!(e.contains("installing disabled"), "{e}");
        assert!(which("sh").is_some());
    }

    #[test]
    fn missing_valk_is_not_available() {
        let ctx = Context {
            bench_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            work_dir: std::env::temp_dir().join("valk-bench-test-missing-valk"),
            valk_dir: PathBuf::from("/nonexistent"),
            install: false,
        };
        let st = check(Engine::ValkJit, &ctx, &mut Installer::default());
        assert!(!st.available());
        assert!(st.problem.unwrap().contains("not found"));
    }
}
