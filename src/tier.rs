//! Tiered execution (docs/tiering.md): top-level forms run at once on the
//! interpreter (tier 0); a procedure defined at top level by a lambda that
//! turns out to be hot is compiled by the JIT's -O2 pipeline (tier 1) on a
//! compiler thread and installed at the interpreter's next evaluation step.
//!
//! * **Counting.** Every lambda of a top-level form shares one counter
//!   (`interp::LambdaCode::hot`), armed with the threshold when the form
//!   is `(define NAME (lambda ...))`; calls of inner lambdas (named-let
//!   loops) count too, so a procedure whose loops run long is hot early.
//! * **Compiling.** The compiler thread gets the lambda as the body of a
//!   top-level form of its own and the set of globals that may not hold
//!   their builtin; lowering, VIR passes, emission and LLVM read no
//!   runtime state, so it runs beside the program. The thread keeps its
//!   own copy of the session's source files (sent once each) for the
//!   texts of unbound-variable errors.
//! * **Installing.** On the evaluation thread, at a point where the
//!   collector may run: the object is linked into the session's JIT, its
//!   one form makes the compiled closure, and when the global still holds
//!   the interpreted closure of that form (it was not redefined), the
//!   closure's three words (entry, procedure info, fast entry) are copied
//!   over the interpreted closure's (entry, info, environment). The
//!   closure keeps its identity (`eq?`, tables, lists that hold it), and
//!   every caller — the interpreter, compiled code, builtins — enters the
//!   compiled code at its next call. An activation already running stays
//!   in the interpreter until it returns.

use crate::ast::{ExprKind, TopLevel};
use crate::interp::{self, LambdaCode, TierHooks};
use crate::jit::{self, JitEngine};
use crate::syntax::source::SourceMap;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use valk_runtime::globals::{self, GlobalId};
use valk_runtime::{builtins, object, Value};

/// How a JIT session runs top-level forms (`VALK_TIER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `1`: every form compiled by the JIT before it runs.
    Compile,
    /// `0`: every form interpreted, nothing tiered up (the prelude stays
    /// compiled).
    Interpret,
    /// `auto`: interpreted, hot procedures compiled in the background.
    Auto,
    /// `eager`: every candidate procedure compiled at its first call, and
    /// the program waits for it (tests: tier 1 code everywhere it can be).
    Eager,
}

/// Default number of calls (of the procedure and of the lambdas inside
/// it) after which a procedure is compiled (`VALK_TIER_CALLS`).
pub const DEFAULT_CALLS: u32 = 1000;

/// The mode `VALK_TIER` asks for, or `default`.
pub fn mode_from_env(default: Mode) -> Mode {
    valk_runtime::host::env_setting("VALK_TIER", "0, 1, auto or eager", |s| match s {
        "0" => Some(Mode::Interpret),
        "1" => Some(Mode::Compile),
        "auto" => Some(Mode::Auto),
        "eager" => Some(Mode::Eager),
        _ => None,
    })
    .unwrap_or(default)
}

fn calls_from_env() -> u32 {
    valk_runtime::host::env_setting("VALK_TIER_CALLS", "a number of calls from 1", |s| {
        s.parse::<u32>().ok().filter(|&n| n >= 1)
    })
    .unwrap_or(DEFAULT_CALLS)
}

/// Work for the compiler thread.
enum Job {
    /// A source file of the session (sent once, in order: `FileId`s match).
    File(String, String),
    Compile {
        unit: usize,
        top: Box<TopLevel>,
        predefined: HashSet<String>,
        descriptor: String,
    },
}

/// A finished compilation: the object, or the rendered error.
struct Done {
    unit: usize,
    result: Result<Vec<u8>, String>,
    millis: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnitState {
    /// Counting calls.
    Counting,
    /// Sent to the compiler thread.
    Compiling,
    /// Running compiled code.
    Installed,
    /// The compiler failed (the procedure stays interpreted).
    Failed,
    /// Compiled after the global was redefined: nothing to install.
    Stale,
}

/// A candidate procedure: a top-level `(define NAME (lambda ...))`.
struct Unit {
    global: GlobalId,
    /// The outermost lambda's code: the global holds a closure of it until
    /// it is redefined.
    root: &'static LambdaCode,
    /// The lambda as a top-level form of its own, until it is sent.
    top: Option<Box<TopLevel>>,
    descriptor: String,
    state: UnitState,
}

struct State {
    jit: Rc<RefCell<JitEngine>>,
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    worker: Option<std::thread::JoinHandle<()>>,
    cancel: Arc<AtomicBool>,
    /// Results taken while waiting for another one (eager mode).
    ready: VecDeque<Done>,
    units: Vec<Unit>,
    /// Counter address → unit.
    by_counter: HashMap<usize, usize>,
    files_sent: usize,
    calls: u32,
    eager: bool,
    log: bool,
    compiled_entry: u64,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

/// Starts tiering for this (evaluation) thread's session: the compiler
/// thread and the interpreter's hooks. `Mode::Interpret` only records the
/// JIT (nothing is counted).
pub fn start(jit: Rc<RefCell<JitEngine>>, mode: Mode) -> Result<(), String> {
    let counting = matches!(mode, Mode::Auto | Mode::Eager);
    let level = jit.borrow().level();
    let compiled_entry = jit.borrow_mut().compiled_entry().unwrap_or(0) as u64;
    let (jobs_tx, jobs_rx) = channel::<Job>();
    let (done_tx, done_rx) = channel::<Done>();
    let cancel = Arc::new(AtomicBool::new(false));
    let worker = if counting {
        let cancel = cancel.clone();
        Some(
            std::thread::Builder::new()
                .name("valk-tier".into())
                .stack_size(256 << 20)
                .spawn(move || worker(level, jobs_rx, done_tx, cancel))
                .map_err(|e| format!("cannot start the compiler thread: {e}"))?,
        )
    } else {
        None
    };
    let state = State {
        jit,
        jobs: Some(jobs_tx),
        done: done_rx,
        worker,
        cancel,
        ready: VecDeque::new(),
        units: Vec::new(),
        by_counter: HashMap::new(),
        files_sent: 0,
        calls: if mode == Mode::Eager {
            1
        } else {
            calls_from_env()
        },
        eager: mode == Mode::Eager,
        log: valk_runtime::host::env_flag("VALK_TIER_LOG"),
        compiled_entry,
    };
    STATE.with(|s| *s.borrow_mut() = Some(state));
    COUNTING.with(|c| c.set(counting));
    if counting {
        interp::set_tier_hooks(Some(TierHooks {
            on_hot,
            on_ready: install_ready,
        }));
    }
    Ok(())
}

/// Ends tiering: pending compilations are dropped and the compiler thread
/// is joined (it must not be inside LLVM while the process exits).
pub fn stop() {
    interp::set_tier_hooks(None);
    COUNTING.with(|c| c.set(false));
    let state = STATE.with(|s| s.borrow_mut().take());
    if let Some(mut st) = state {
        st.cancel.store(true, Ordering::SeqCst);
        st.jobs = None;
        if let Some(w) = st.worker.take() {
            let _ = w.join();
        }
    }
}

/// Sends the compiler thread the session's source files it lacks.
pub fn sync_sources(sources: &SourceMap) {
    if !COUNTING.with(|c| c.get()) {
        return;
    }
    STATE.with(|s| {
        let Ok(mut guard) = s.try_borrow_mut() else {
            return;
        };
        let Some(st) = guard.as_mut() else { return };
        let files = sources.files();
        while st.files_sent < files.len() {
            let f = &files[st.files_sent];
            if let Some(tx) = &st.jobs {
                let _ = tx.send(Job::File(f.name.clone(), f.text.clone()));
            }
            st.files_sent += 1;
        }
    })
}

/// Called after the interpreter ran top-level form `top`: a definition of
/// a global by a lambda becomes a candidate (its counter is armed).
pub fn note_form(top: &TopLevel) {
    if !COUNTING.with(|c| c.get()) {
        return;
    }
    let ExprKind::DefineGlobal(name, value) = &top.body.kind else {
        return;
    };
    if !matches!(value.kind, ExprKind::Lambda(_)) {
        return;
    }
    let global = globals::global_id(name);
    let Some(code) = interp::code_of(globals::get(global)) else {
        return;
    };
    STATE.with(|s| {
        let Ok(mut guard) = s.try_borrow_mut() else {
            return;
        };
        let Some(st) = guard.as_mut() else { return };
        let key = code.hot as *const Cell<u32> as usize;
        if st.by_counter.contains_key(&key) {
            return;
        }
        let n = st.units.len();
        st.units.push(Unit {
            global,
            root: code,
            top: Some(Box::new(TopLevel {
                body: (**value).clone(),
                locals: top.locals.clone(),
            })),
            descriptor: format!("valk_tier_{n}"),
            state: UnitState::Counting,
        });
        st.by_counter.insert(key, n);
        code.hot.set(st.calls);
    })
}

/// The globals compiled code must not assume hold their builtin: every
/// bound global but the builtins that still hold the runtime's procedure.
fn predefined_now() -> HashSet<String> {
    globals::bound_names()
        .into_iter()
        .filter(|n| {
            let base = match n.strip_prefix('%') {
                Some(b) if builtins::INTERNAL_ALIASES.contains(&b) => b,
                _ => n.as_str(),
            };
            let Some(info) = builtins::proc_info(base) else {
                return true;
            };
            let Some(id) = globals::lookup(n) else {
                return true;
            };
            let v = globals::get(id);
            !(v.is_closure() && std::ptr::eq(object::closure_info(v), info))
        })
        .collect()
}

/// The interpreter's hook: a form's counter reached zero.
fn on_hot(code: &'static LambdaCode) {
    let key = code.hot as *const Cell<u32> as usize;
    let predefined = predefined_now();
    let waiting = STATE.with(|s| {
        let Ok(mut guard) = s.try_borrow_mut() else {
            return None;
        };
        let st = guard.as_mut()?;
        let &i = st.by_counter.get(&key)?;
        let unit = &mut st.units[i];
        if unit.state != UnitState::Counting {
            return None;
        }
        let top = unit.top.take()?;
        unit.state = UnitState::Compiling;
        if st.log {
            valk_runtime::eprintln_quiet!(
                "valk: tier: compiling {}",
                globals::user_name(globals::name(unit.global))
            );
        }
        let job = Job::Compile {
            unit: i,
            top,
            predefined,
            descriptor: unit.descriptor.clone(),
        };
        let sent = st.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            st.units[i].state = UnitState::Failed;
            return None;
        }
        st.eager.then_some(i)
    });
    if let Some(unit) = waiting {
        wait_for(unit);
    }
}

/// Eager mode: blocks until `unit` is compiled, then asks for the
/// installation at the next step.
fn wait_for(unit: usize) {
    STATE.with(|s| {
        let Ok(mut guard) = s.try_borrow_mut() else {
            return;
        };
        let Some(st) = guard.as_mut() else { return };
        while let Ok(d) = st.done.recv() {
            let mine = d.unit == unit;
            st.ready.push_back(d);
            if mine {
                break;
            }
        }
    });
    interp::tier_ready();
}

/// The interpreter's hook at an evaluation step after `tier_ready`:
/// installs every finished compilation.
fn install_ready() {
    loop {
        let next = STATE.with(|s| {
            let Ok(mut guard) = s.try_borrow_mut() else {
                // Busy (a nested step): try again at the next one.
                interp::tier_ready();
                return None;
            };
            let st = guard.as_mut()?;
            st.ready.pop_front().or_else(|| st.done.try_recv().ok())
        });
        match next {
            Some(d) => install(d),
            None => return,
        }
    }
}

fn set_state(unit: usize, state: UnitState) {
    STATE.with(|s| {
        if let Ok(mut guard) = s.try_borrow_mut() {
            if let Some(st) = guard.as_mut() {
                st.units[unit].state = state;
            }
        }
    })
}

/// Does the global hold a closure of `root` (not redefined since)?
fn holds(global: GlobalId, root: &'static LambdaCode) -> bool {
    interp::code_of(globals::get(global)).is_some_and(|c| std::ptr::eq(c, root))
}

/// Links a finished compilation and upgrades the interpreted closure in
/// place (see the module documentation). The collector may run.
fn install(d: Done) {
    let Some((global, root, descriptor, jit, log, entry)) = STATE.with(|s| {
        let guard = s.try_borrow().ok()?;
        let st = guard.as_ref()?;
        let u = st.units.get(d.unit)?;
        Some((
            u.global,
            u.root,
            u.descriptor.clone(),
            st.jit.clone(),
            st.log,
            st.compiled_entry,
        ))
    }) else {
        return;
    };
    let name = globals::user_name(globals::name(global));
    let obj = match d.result {
        Ok(obj) => obj,
        Err(msg) => {
            if log {
                valk_runtime::eprintln_quiet!(
                    "valk: tier: {name} stays interpreted: {}",
                    msg.trim_end()
                );
            }
            set_state(d.unit, UnitState::Failed);
            return;
        }
    };
    if !holds(global, root) {
        set_state(d.unit, UnitState::Stale);
        return;
    }
    let loaded = match jit.try_borrow_mut() {
        Ok(mut j) => j.load_object(&obj, &descriptor),
        Err(_) => {
            // The JIT is busy (cannot happen while forms are interpreted):
            // keep the procedure interpreted.
            set_state(d.unit, UnitState::Failed);
            return;
        }
    };
    let Ok(m) = loaded else {
        if log {
            valk_runtime::eprintln_quiet!("valk: tier: {name} stays interpreted: cannot link");
        }
        set_state(d.unit, UnitState::Failed);
        return;
    };
    let Some(c) = m.run(0) else {
        let _ = valk_runtime::error::take_pending();
        set_state(d.unit, UnitState::Failed);
        return;
    };
    // `c` is not rooted: nothing below allocates.
    let v = globals::get(global);
    let fits = c.is_closure() && c.size() == 3 && c.raw(0) == entry && v.size() == 3;
    if !fits || !holds(global, root) {
        set_state(d.unit, UnitState::Failed);
        return;
    }
    v.set_raw(0, c.raw(0));
    v.set_raw(1, c.raw(1));
    v.set_field(2, c.field(2));
    set_state(d.unit, UnitState::Installed);
    if log {
        valk_runtime::eprintln_quiet!("valk: tier: {name} compiled in {:.1} ms", d.millis);
    }
}

/// What `,tier NAME` prints: the tier `value` (the global `name`'s
/// value) runs in.
pub fn describe(name: &str, value: Value) -> String {
    if !value.is_closure() {
        return format!("{name} is not a procedure");
    }
    if builtins::proc_info(name).is_some_and(|i| std::ptr::eq(object::closure_info(value), i)) {
        return format!("{name}: builtin (native code)");
    }
    if let Some(code) = interp::code_of(value) {
        let key = code.hot as *const Cell<u32> as usize;
        let unit = STATE.with(|s| {
            let guard = s.try_borrow().ok()?;
            let st = guard.as_ref()?;
            let &i = st.by_counter.get(&key)?;
            Some((st.units[i].state, st.calls))
        });
        return match unit {
            Some((UnitState::Counting, calls)) => format!(
                "{name}: tier 0 (interpreted), {} of {calls} calls to tier 1",
                calls - code.hot.get()
            ),
            Some((UnitState::Compiling, _)) => {
                format!("{name}: tier 0 (interpreted), being compiled for tier 1")
            }
            Some((UnitState::Failed, _)) => {
                format!("{name}: tier 0 (interpreted), the compiler failed")
            }
            _ => format!("{name}: tier 0 (interpreted; not a top-level lambda, never compiled)"),
        };
    }
    let compiled = STATE.with(|s| {
        s.try_borrow()
            .ok()
            .and_then(|g| g.as_ref().map(|st| st.compiled_entry))
    });
    if compiled.is_some_and(|e| e != 0 && value.raw(0) == e) {
        return format!("{name}: tier 1 (compiled)");
    }
    format!("{name}: native procedure")
}

/// The compiler thread: compiles jobs in order until the session ends.
fn worker(level: u32, jobs: Receiver<Job>, done: Sender<Done>, cancel: Arc<AtomicBool>) {
    let mut sources = SourceMap::new();
    let mut backend: Option<Result<valk_llvm::pipeline::Backend, String>> = None;
    for job in jobs {
        match job {
            Job::File(name, text) => {
                sources.add(name, text);
            }
            Job::Compile {
                unit,
                top,
                predefined,
                descriptor,
            } => {
                if cancel.load(Ordering::SeqCst) {
                    continue;
                }
                let t0 = std::time::Instant::now();
                let b = backend.get_or_insert_with(|| {
                    valk_llvm::pipeline::Backend::new(level).map_err(|e| e.0)
                });
                let result = match b {
                    Ok(b) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        jit::compile_detached(
                            b,
                            level,
                            std::slice::from_ref(&*top),
                            &sources,
                            predefined,
                            &descriptor,
                        )
                    }))
                    .unwrap_or_else(|_| Err("internal error: the compiler panicked".into())),
                    Err(e) => Err(e.clone()),
                };
                let millis = t0.elapsed().as_secs_f64() * 1e3;
                if done
                    .send(Done {
                        unit,
                        result,
                        millis,
                    })
                    .is_err()
                {
                    return;
                }
                interp::tier_ready();
            }
        }
    }
}
