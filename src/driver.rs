//! The engine-independent driver: a session owns the source map and the
//! expander, loads the prelude, runs programs and REPL inputs, and reports
//! errors in the one format every engine shares.

use crate::ast::TopLevel;
use crate::expand::Expander;
use crate::interp;
use crate::jit::{JitEngine, JitFailure};
use crate::lower::LowerOptions;
use crate::pipeline;
use crate::prelude;
use crate::syntax::diag::Diagnostic;
use crate::syntax::reader;
use crate::syntax::source::SourceMap;
use crate::tier;
use std::cell::RefCell;
use std::rc::Rc;
use valk_runtime::error::{self, ERROR_EXIT_STATUS};
use valk_runtime::host::{self, HostError, Uncaught};
use valk_runtime::value::ObjType;
use valk_runtime::{builtins, gc, io, Value};

/// Why evaluating some source stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A diagnostic or runtime error was reported on stderr.
    Reported,
    /// The program called `exit` with this status: the session is over.
    Exit(i32),
}

impl Failure {
    /// The exit status of a program that stopped this way.
    pub fn status(self) -> i32 {
        match self {
            Failure::Reported => ERROR_EXIT_STATUS,
            Failure::Exit(status) => status,
        }
    }
}

/// Why a session could not start (reported on stderr already).
#[derive(Debug)]
pub struct StartError;

impl From<StartError> for Failure {
    fn from(_: StartError) -> Failure {
        Failure::Reported
    }
}

/// The engine that evaluates a session's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// The reference interpreter (`valk --no-jit`).
    Interpreter,
    /// The ORC JIT (`valk --jit`, the default).
    Jit,
}

enum Engine {
    Interp,
    /// Shared with tiered execution, which links compiled procedures into
    /// the same JIT (src/tier.rs).
    Jit(Rc<RefCell<JitEngine>>),
}

/// `valk --opt-whole FILE`: compile the whole program with -O2 before it
/// runs, whatever `VALK_TIER` says (docs/tiering.md).
static WHOLE_PROGRAM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes `valk FILE` compile the whole program first (`--opt-whole`).
pub fn set_whole_program(on: bool) {
    WHOLE_PROGRAM.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The tier mode of the REPL and `valk -e` when `VALK_TIER` is unset:
/// forms answer at once on the interpreter, hot procedures are compiled
/// in the background (docs/tiering.md).
pub const DEFAULT_TIER: tier::Mode = tier::Mode::Auto;

/// `valk FILE` without `VALK_TIER`: the whole program compiled with -O2
/// when its object is cached (faster than tiered code), else run tiered
/// while another process compiles it for the next run (docs/tiering.md,
/// "Defaults").
static CACHE_FILL_ARGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// The arguments of `valk` that compile the current program into the
/// cache without running it (`--cache-only`, the `-I` options, the file).
pub fn set_cache_fill_args(args: Vec<String>) {
    *CACHE_FILL_ARGS.lock().unwrap_or_else(|e| e.into_inner()) = args;
}

pub struct Session {
    pub sources: SourceMap,
    /// Shared with `eval`, for which it is the interaction environment's
    /// expander (docs/libraries.md, "eval"): borrowed here only while
    /// expanding, never while code runs.
    pub expander: Rc<RefCell<Expander>>,
    engine: Engine,
    /// Warn about references to unbound variables in files run
    /// (`valk FILE`, not the REPL: src/warnings.rs).
    warn_unbound: bool,
    /// A JIT session whose forms (after the prelude) are interpreted and
    /// tiered up (`VALK_TIER` other than 1: docs/tiering.md).
    tiered: bool,
    /// The prelude is interpreted too: its object was not in the cache
    /// (a tiered session does not wait for LLVM; docs/tiering.md).
    prelude_interpreted: bool,
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.tiered {
            tier::stop();
        }
    }
}

/// Runs `f` on the evaluation thread ([`host::run_on_evaluation_thread`])
/// with the interpreter's stack check armed too; returns `f`'s result.
pub fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, HostError> {
    host::run_on_evaluation_thread(move |_| f())
}

impl Session {
    /// An interpreter session with the prelude loaded.
    pub fn new() -> Result<Session, StartError> {
        Session::with_engine(EngineKind::Interpreter)
    }

    /// Initialises the runtime (heap, builtins), creates the engine and
    /// loads the prelude. Call on the thread that runs Valk code
    /// ([`with_big_stack`]).
    pub fn with_engine(kind: EngineKind) -> Result<Session, StartError> {
        Session::with_tier(kind, tier::mode_from_env(DEFAULT_TIER))
    }

    /// [`Session::with_engine`] with the given tier mode (JIT sessions).
    pub fn with_tier(kind: EngineKind, mode: tier::Mode) -> Result<Session, StartError> {
        let mut s = Session::without_prelude(kind, mode)?;
        if let (true, Engine::Jit(jit)) = (s.tiered, &s.engine) {
            if !jit.borrow().is_cached(PRELUDE_KEY) {
                s.prelude_interpreted = true;
                fill_prelude_cache();
            }
        }
        if s.run_source(prelude::NAME, prelude::TEXT, false).is_err() {
            valk_runtime::eprintln_quiet!("error: the prelude failed to load");
            return Err(StartError);
        }
        Ok(s)
    }

    fn without_prelude(kind: EngineKind, mode: tier::Mode) -> Result<Session, StartError> {
        gc::init();
        builtins::install();
        let engine = match kind {
            EngineKind::Interpreter => Engine::Interp,
            EngineKind::Jit => match JitEngine::new() {
                Ok(j) => Engine::Jit(Rc::new(RefCell::new(j))),
                Err(e) => {
                    valk_runtime::eprintln_quiet!("error: cannot start the JIT: {e}");
                    return Err(StartError);
                }
            },
        };
        let tiered = matches!(engine, Engine::Jit(_)) && mode != tier::Mode::Compile;
        if let (true, Engine::Jit(jit)) = (tiered, &engine) {
            if let Err(e) = tier::start(jit.clone(), mode) {
                valk_runtime::eprintln_quiet!("error: {e}");
                return Err(StartError);
            }
        }
        let mut s = Session {
            sources: SourceMap::new(),
            expander: Rc::default(),
            engine,
            warn_unbound: false,
            tiered,
            prelude_interpreted: false,
        };
        valk_eval::evaluator::install();
        s.share_expander(Expander::new());
        Ok(s)
    }

    /// Makes `expander` this session's, and `eval`'s for the interaction
    /// environment.
    fn share_expander(&mut self, expander: Expander) {
        self.expander = Rc::new(RefCell::new(expander));
        valk_eval::evaluator::set_interaction_expander(self.expander.clone());
    }

    /// Runs the program in `path` the way `valk FILE` does. On the JIT the
    /// prelude and the program are compiled as one module, as for an AOT
    /// executable (globals defined once are called directly, unused
    /// prelude definitions are dropped).
    ///
    /// `VALK_JIT_WHOLE_PROGRAM=0` runs the file as the REPL's `,load`
    /// would instead (prelude module, then the file's module, globals
    /// through cells): the test corpus checks that mode too.
    pub fn run_program(kind: EngineKind, path: &str) -> Result<(), Failure> {
        let whole = WHOLE_PROGRAM.load(std::sync::atomic::Ordering::Relaxed);
        let incremental = !host::env_switch("VALK_JIT_WHOLE_PROGRAM").unwrap_or(true);
        // `None`: the default, decided by the cache below.
        let mode = if whole {
            Some(tier::Mode::Compile)
        } else {
            tier::mode_from_env_opt()
        };
        if kind == EngineKind::Interpreter
            || (incremental && !whole)
            || mode.is_some_and(|m| m != tier::Mode::Compile)
        {
            let mut s = Session::with_tier(kind, mode.unwrap_or(tier::Mode::Compile))?;
            s.warn_unbound = true;
            return s.run_file(path);
        }
        let mut s = Session::without_prelude(kind, mode.unwrap_or(tier::Mode::Auto))?;
        let mut sources = SourceMap::new();
        let (prelude_tops, program_tops) = match pipeline::front_end(&mut sources, path) {
            Ok(mut x) => {
                s.share_expander(std::mem::take(&mut x.expander));
                (x.prelude, x.program)
            }
            Err(e) => {
                valk_runtime::eprint_quiet!("{e}");
                return Err(Failure::Reported);
            }
        };
        let Engine::Jit(jit) = &s.engine else {
            unreachable!("a JIT session")
        };
        let jit = jit.clone();
        if mode.is_none() {
            let (key, cached) = jit.borrow().program_cache_state(&sources);
            if !cached {
                // Not compiled yet: run it tiered now, and compile it
                // whole for the next run in a process of its own
                // (docs/tiering.md, "Defaults").
                fill_program_cache(&key);
                s.sources = sources;
                if !jit.borrow().is_cached(PRELUDE_KEY) {
                    s.prelude_interpreted = true;
                    fill_prelude_cache();
                }
                s.run_tops(&prelude_tops, false, true)?;
                s.run_tops(&program_tops, false, false)?;
                io::flush_stdout();
                return Ok(());
            }
        }
        let mut tops = prelude_tops;
        tops.extend(program_tops);
        let loaded = jit.borrow_mut().load_program(&tops, &sources);
        s.sources = sources;
        let m = match loaded {
            Ok(m) => m,
            Err(f) => return Err(s.report_jit_failure(f)),
        };
        for i in 0..m.len() {
            if m.run(i).is_none() {
                return Err(s.report_runtime_error());
            }
        }
        io::flush_stdout();
        Ok(())
    }

    /// Are this session's forms interpreted and tiered up (docs/tiering.md)?
    pub fn is_tiered(&self) -> bool {
        self.tiered
    }

    /// `valk --cache-only FILE`: compiles the whole program into the JIT
    /// cache without running it (started by a tiered `valk FILE` whose
    /// program was not cached, docs/tiering.md).
    pub fn cache_program(path: &str) -> Result<(), Failure> {
        let mut s = Session::without_prelude(EngineKind::Jit, tier::Mode::Compile)?;
        let mut sources = SourceMap::new();
        let tops = match pipeline::front_end(&mut sources, path) {
            Ok(x) => x.whole_program(),
            Err(_) => return Err(Failure::Reported),
        };
        let Engine::Jit(jit) = &mut s.engine else {
            unreachable!("a JIT session")
        };
        let loaded = jit.borrow_mut().load_program(&tops, &sources);
        s.sources = sources;
        loaded.map(drop).map_err(|f| s.report_jit_failure(f))
    }

    /// The engine evaluating this session's code, for banners.
    pub fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Interp => "interpreter",
            Engine::Jit(_) => "JIT",
        }
    }

    /// Reads, expands and evaluates every form of `text`. With `print`, the
    /// value of each form is written (REPL, `-e`). Errors are reported on
    /// stderr before returning `Err`.
    ///
    /// With `print` (REPL inputs, `-e`) each datum is expanded and run in
    /// turn, the JIT compiling it as one module. Otherwise (files, the
    /// prelude) the whole text is expanded before any of it runs, so an
    /// expansion error is a compile-time error on every engine, as it is
    /// for AOT executables (docs/errors.md); the JIT then compiles all the
    /// forms as one module, and they run in order.
    pub fn run_source(&mut self, name: &str, text: &str, print: bool) -> Result<(), Failure> {
        let datums = match reader::read_str(&mut self.sources, name, text) {
            Ok(d) => d,
            Err(diag) => return Err(self.report_diag(&diag)),
        };
        let is_prelude = name == prelude::NAME && std::ptr::eq(text, prelude::TEXT);
        self.run_datums(&datums, print, is_prelude)
    }

    /// Reads and runs bytes `start..end` of a source registered with
    /// [`Session::add_source`], as [`Session::run_source`] with `print`
    /// (the REPL runs each form of its input this way, docs/repl.md).
    pub fn run_range(
        &mut self,
        file: crate::syntax::source::FileId,
        start: usize,
        end: usize,
    ) -> Result<(), Failure> {
        match reader::read_range(&self.sources, file, start, end) {
            Ok(d) => self.run_datums(&d, true, false),
            Err(diag) => Err(self.report_diag(&diag)),
        }
    }

    /// Registers REPL input text, for [`Session::run_range`].
    pub fn add_source(&mut self, name: &str, text: &str) -> crate::syntax::source::FileId {
        self.sources.add(name, text)
    }

    fn run_datums(
        &mut self,
        datums: &[crate::syntax::datum::Datum],
        print: bool,
        is_prelude: bool,
    ) -> Result<(), Failure> {
        let mut batch: Vec<TopLevel> = Vec::new();
        for d in datums {
            let tops = match self
                .expander
                .borrow_mut()
                .expand_toplevel(d, &mut self.sources)
            {
                Ok(t) => t,
                Err(diag) => return Err(self.report_diag(&diag)),
            };
            if print {
                self.run_tops(&tops, print, is_prelude)?;
            } else {
                batch.extend(tops);
            }
        }
        if self.warn_unbound && !print && !is_prelude {
            // The prelude has run: its globals (and the builtins) are bound.
            let bound = |n: &str| {
                valk_runtime::globals::lookup(n)
                    .is_some_and(|id| valk_runtime::globals::get(id) != Value::UNDEFINED)
            };
            crate::warnings::warn_unbound(&batch, &self.sources, &bound);
        }
        self.run_tops(&batch, print, is_prelude)?;
        io::flush_stdout();
        Ok(())
    }

    /// Evaluates expanded top-level forms in order.
    fn run_tops(
        &mut self,
        tops: &[TopLevel],
        print: bool,
        is_prelude: bool,
    ) -> Result<(), Failure> {
        if tops.is_empty() {
            return Ok(());
        }
        let interpreted = !matches!(self.engine, Engine::Jit(_))
            || (self.tiered && (!is_prelude || self.prelude_interpreted));
        if interpreted {
            if self.tiered {
                tier::sync_sources(&self.sources);
            }
            for top in tops {
                let compiled = interp::compile_toplevel(top, Some(&self.sources));
                let printed = interp::run_compiled(compiled).and_then(|v| {
                    if print {
                        print_result(v)
                    } else {
                        Ok(())
                    }
                });
                if printed.is_err() {
                    return Err(self.report_runtime_error());
                }
                if self.tiered {
                    tier::note_form(top, compiled.node());
                }
            }
            return Ok(());
        }
        let Engine::Jit(jit) = &self.engine else {
            unreachable!("a JIT session")
        };
        let jit = jit.clone();
        // The prelude is the first module of every session: its object is
        // cached by its text.
        let key: Option<&[&[u8]]> = if is_prelude { Some(PRELUDE_KEY) } else { None };
        let loaded = jit.borrow_mut().load(tops, &self.sources, key);
        let m = match loaded {
            Ok(m) => m,
            Err(f) => return Err(self.report_jit_failure(f)),
        };
        let mut ok = true;
        for i in 0..m.len() {
            let printed = match m.run(i) {
                Some(v) if print => print_result(v),
                Some(_) => Ok(()),
                None => Err(error::Raised),
            };
            if printed.is_err() {
                ok = false;
                break;
            }
        }
        jit.borrow_mut().note_bindings(&m);
        if ok {
            Ok(())
        } else {
            Err(self.report_runtime_error())
        }
    }

    fn report_jit_failure(&self, f: JitFailure) -> Failure {
        match f {
            JitFailure::Diag(d) => self.report_diag(&d),
            JitFailure::Message(m) => {
                valk_runtime::eprintln_quiet!("{}", m.trim_end());
                Failure::Reported
            }
            JitFailure::Raised => self.report_runtime_error(),
        }
    }

    /// Runs a program file.
    pub fn run_file(&mut self, path: &str) -> Result<(), Failure> {
        match crate::syntax::source::read_source_file(std::path::Path::new(path)) {
            Ok(text) => self.run_source(path, &text, false),
            Err(e) => {
                valk_runtime::eprintln_quiet!("error: cannot read {path}: {e}");
                Err(Failure::Reported)
            }
        }
    }

    fn report_diag(&self, diag: &Diagnostic) -> Failure {
        valk_runtime::eprint_quiet!("{}", diag.render(&self.sources));
        Failure::Reported
    }

    /// Takes the pending exception: an `exit` request ends the session
    /// with its status; an error is printed as `error: ...`, with the
    /// source location when the interpreter recorded one.
    fn report_runtime_error(&self) -> Failure {
        let span = interp::take_error_span();
        let located = |exc| {
            span.map(|span| Diagnostic::at(span, error::format_error(exc)).render(&self.sources))
        };
        match host::take_uncaught(located) {
            Uncaught::Exit(status) => Failure::Exit(status),
            Uncaught::Error => Failure::Reported,
        }
    }
}

impl Session {
    /// Expands and lowers `src` as the next REPL input would be.
    fn lower_input(&mut self, src: &str) -> Result<crate::lower::Lowered, Failure> {
        let datums = match reader::read_str(&mut self.sources, "<repl>", src) {
            Ok(d) => d,
            Err(diag) => return Err(self.report_diag(&diag)),
        };
        let mut tops = Vec::new();
        for d in &datums {
            match self
                .expander
                .borrow_mut()
                .expand_toplevel(d, &mut self.sources)
            {
                Ok(t) => tops.extend(t),
                Err(diag) => return Err(self.report_diag(&diag)),
            }
        }
        let lowered = match &self.engine {
            Engine::Jit(jit) => jit.borrow().lower(&tops, &self.sources),
            Engine::Interp => {
                let opts = LowerOptions {
                    fixed_globals: false,
                    predefined: valk_runtime::globals::bound_names()
                        .into_iter()
                        .filter(|n| builtins::lookup(n).is_none())
                        .collect(),
                    ..LowerOptions::default()
                };
                let level = pipeline::opt_level(crate::jit::DEFAULT_OPT);
                pipeline::lower(&tops, &self.sources, &opts, level)
            }
        };
        lowered.map_err(|d| self.report_diag(&d))
    }

    /// The full expansion of `src` to the core language (REPL `,expand`),
    /// one line per top-level form; libraries it imports for the first time
    /// are expanded but not shown. Macros it defines stay defined.
    pub fn expand_text(&mut self, src: &str) -> Result<String, Failure> {
        let datums = match reader::read_str(&mut self.sources, "<repl>", src) {
            Ok(d) => d,
            Err(diag) => return Err(self.report_diag(&diag)),
        };
        let mut text = String::new();
        for d in &datums {
            let expanded = self
                .expander
                .borrow_mut()
                .expand_toplevel(d, &mut self.sources);
            match expanded {
                Ok(tops) => {
                    for t in tops.iter().filter(|t| t.body.span.file == d.span.file) {
                        text.push_str(&crate::expand::print_toplevel(t));
                        text.push('\n');
                    }
                }
                Err(diag) => return Err(self.report_diag(&diag)),
            }
        }
        Ok(text)
    }

    /// The VIR of `src` (REPL `,vir`), lowered and optimised as the next
    /// REPL input would be; errors are reported on stderr.
    pub fn vir_text(&mut self, src: &str) -> Result<String, Failure> {
        let lowered = self.lower_input(src)?;
        Ok(valk_vir::print_module(&lowered.module))
    }

    /// The LLVM IR of `src` after the JIT's pipeline (REPL `,llvm`);
    /// errors are reported on stderr.
    pub fn llvm_text(&mut self, src: &str) -> Result<String, Failure> {
        let lowered = self.lower_input(src)?;
        let r = match &mut self.engine {
            Engine::Jit(jit) => jit.borrow_mut().llvm_ir(&lowered, &self.sources, true),
            Engine::Interp => match JitEngine::new() {
                Ok(mut jit) => jit.llvm_ir(&lowered, &self.sources, true),
                Err(e) => Err(JitFailure::Message(format!("error: {e}"))),
            },
        };
        r.map_err(|f| self.report_jit_failure(f))
    }

    /// Word 0 of the closures this session's JIT compiles (`None` on the
    /// interpreter): tells compiled procedures apart (REPL `,disasm`).
    pub fn compiled_entry(&mut self) -> Option<usize> {
        match &mut self.engine {
            Engine::Jit(jit) => jit.borrow_mut().compiled_entry(),
            Engine::Interp => None,
        }
    }

    /// Names bound in this session (globals and builtins) and the special
    /// forms, sorted, for tab completion.
    pub fn global_names(&self) -> Vec<String> {
        let mut names = valk_runtime::globals::bound_names();
        names.extend(crate::expand::SPECIAL_FORMS.iter().map(|s| s.to_string()));
        // Private helpers (`%cons`...) and library-internal cells are not
        // for users to type.
        names.retain(|n| !n.starts_with('%') && !n.starts_with('('));
        names.sort();
        names.dedup();
        names
    }
}

/// The cache key of the prelude's object (docs/jit.md).
const PRELUDE_KEY: &[&[u8]] = &[b"prelude", prelude::TEXT.as_bytes()];

/// Compiles the prelude into the cache in a process of its own (`valk`
/// with `VALK_TIER=1`, which compiles and caches it as its first module),
/// which this one does not wait for: a tiered session whose prelude was
/// not cached interprets it meanwhile, and the next session finds the
/// object (docs/tiering.md). A marker file keeps parallel sessions from
/// starting more than one such process a minute.
fn fill_prelude_cache() {
    let Ok(dir) = crate::store::cache_subdir("jit") else {
        return;
    };
    // With and without DWARF are different objects (docs/debugging.md).
    let marker = if crate::pipeline::debug_info() {
        "prelude-filling-g"
    } else {
        "prelude-filling"
    };
    if !claim_marker(&dir.join(marker)) {
        return;
    }
    spawn_filler(&["-e".to_string(), "#t".to_string()]);
}

/// Compiles the whole program into the cache under `key` in a process of
/// its own (`valk --cache-only FILE`), at most one a minute per key.
fn fill_program_cache(key: &str) {
    let args = CACHE_FILL_ARGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if args.is_empty() {
        return;
    }
    let Ok(dir) = crate::store::cache_subdir("jit") else {
        return;
    };
    if !claim_marker(&dir.join(format!("{key}.filling"))) {
        return;
    }
    spawn_filler(&args);
}

/// Creates `marker` unless one younger than a minute exists: true when
/// this process may start the work it stands for.
fn claim_marker(marker: &std::path::Path) -> bool {
    let recent = std::fs::metadata(marker)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() < 60);
    if recent {
        return false;
    }
    let _ = std::fs::remove_file(marker);
    std::fs::File::create_new(marker).is_ok()
}

/// Starts `valk ARGS` (this executable) with `VALK_TIER=1`, detached from
/// this process's standard streams, at the lowest scheduling priority (it
/// works for the next run: this one comes first). Nothing waits for it
/// but a thread that reaps it, so a long REPL session leaves no zombie
/// processes; the process exits without waiting for it.
fn spawn_filler(args: &[String]) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let child = std::process::Command::new(exe)
        .args(args)
        .env("VALK_TIER", "1")
        // The object it caches must be the one this session looks up
        // (with or without DWARF, docs/cache.md).
        .env(
            "VALK_DEBUG",
            if crate::pipeline::debug_info() {
                "1"
            } else {
                "0"
            },
        )
        .env_remove("VALK_GC_STRESS")
        .env_remove("VALK_GC_VERIFY")
        .env_remove("VALK_GC_STATS")
        .env_remove("VALK_CACHE_LOG")
        .env_remove("VALK_PERF")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut c) = child {
        // SAFETY: a system call on integers; a failure only leaves the
        // child at the normal priority.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, c.id(), 19);
        }
        // The thread touches no Valk state. If it cannot start, the child
        // stays a zombie until this process exits, as before.
        let _ = std::thread::Builder::new()
            .name("valk-cache-filler-reaper".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = c.wait();
            });
    }
}

/// REPL-style printing: results with `write`, nothing for unspecified.
/// Raises when standard output cannot be written.
pub fn print_result(v: Value) -> valk_runtime::VResult<()> {
    if v == Value::UNSPECIFIED {
        return Ok(());
    }
    if v.has_type(ObjType::Values) {
        for i in 0..v.size() {
            io::write_stdout(&valk_runtime::printer::write_string(v.field(i)))?;
            io::write_stdout("\n")?;
        }
        return Ok(());
    }
    io::write_stdout(&valk_runtime::printer::write_string(v))?;
    io::write_stdout("\n")
}

/// Where a program's own arguments start in a command line: just after the
/// first argument at or past `from` that is not an option of the tool (an
/// option in `with_value` also takes the next argument, unless attached as
/// `-O2`). `--` ends the tool's options: the argument after it is the
/// program. So `valk prog.valk -V` gives `-V` to the program instead of
/// printing valk's version.
pub fn program_args_start(args: &[std::ffi::OsString], from: usize, with_value: &[&str]) -> usize {
    let mut i = from;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            return (i + 2).min(args.len());
        }
        if a.starts_with('-') && a.len() > 1 {
            i += if with_value.contains(&a.as_ref()) {
                2
            } else {
                1
            };
            continue;
        }
        return i + 1;
    }
    args.len()
}

#[cfg(test)]
mod program_args_tests {
    use super::program_args_start;

    fn at(args: &[&str], from: usize, with_value: &[&str]) -> usize {
        let args: Vec<std::ffi::OsString> = args.iter().map(|a| a.into()).collect();
        program_args_start(&args, from, with_value)
    }

    #[test]
    fn options_after_the_program_are_its_own() {
        assert_eq!(at(&["valk", "f.valk", "-V"], 1, &["-e"]), 2);
        assert_eq!(
            at(&["valk", "--no-jit", "f.valk", "--no-jit"], 1, &["-e"]),
            3
        );
        assert_eq!(at(&["valk", "-e", "(+ 1 2)"], 1, &["-e"]), 3);
        assert_eq!(at(&["valk"], 1, &["-e"]), 1);
        assert_eq!(at(&["valk", "--", "-f.valk", "x"], 1, &["-e"]), 3);
        assert_eq!(
            at(&["valkc", "run", "-O", "0", "f.valk", "--help"], 2, &["-O"]),
            5
        );
        assert_eq!(at(&["valkc", "run", "-O0", "f.valk"], 2, &["-O"]), 4);
    }
}
