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
//!   in the interpreter until it returns, except for its loops.
//! * **Closures over locals** (record procedures, closures made by
//!   interpreted code): compiled as factories taking the free variables
//!   (or, for assigned ones, the interpreter frame holding them); the next
//!   call of an interpreted closure turns it into the compiled closure in
//!   place (`interp::upgrade`, docs/tiering.md "Closures over locals").

use crate::ast::{Expr, ExprKind, Lambda, LocalId, LocalInfo, TopLevel};
use crate::interp::{self, LambdaCode, Node, TierHooks};
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
    mode_from_env_opt().unwrap_or(default)
}

/// The mode `VALK_TIER` asks for, if it is set.
pub fn mode_from_env_opt() -> Option<Mode> {
    valk_runtime::host::env_setting("VALK_TIER", "0, 1, auto or eager", |s| match s {
        "0" => Some(Mode::Interpret),
        "1" => Some(Mode::Compile),
        "auto" => Some(Mode::Auto),
        "eager" => Some(Mode::Eager),
        _ => None,
    })
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
    /// Units to compile in one module (a hot procedure and the
    /// candidates it calls, docs/tiering.md "Guarded calls").
    Compile {
        units: Vec<BatchJob>,
        predefined: HashSet<String>,
    },
}

/// A finished compilation of one or more units (form `k` of the object
/// makes unit `units[k]`): the object, or the rendered error.
struct Done {
    units: Vec<usize>,
    descriptor: String,
    result: Result<Vec<u8>, String>,
    millis: f64,
}

/// At most this many units are compiled as one module: the jobs waiting
/// when the compiler thread takes one (procedures that turn hot together
/// share LLVM's per-module costs).
const BATCH: usize = 16;

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

/// What a unit's compiled form makes.
#[derive(Clone, Copy)]
enum Kind {
    /// A top-level `(define NAME (lambda ...))`: the global's interpreted
    /// closure is upgraded in place.
    Proc { global: GlobalId },
    /// A named-let loop of a candidate procedure: the compiled form is a
    /// factory taking the loop's free variables; `LambdaCode::loop_factory`
    /// points the interpreter at it (docs/tiering.md, "Loops").
    Loop,
    /// A lambda nested in a form, closing over locals: the compiled form
    /// is a factory taking its free variables; `LambdaCode::closure_factory`
    /// points the interpreter at it (docs/tiering.md, "Closures over
    /// locals").
    Closure,
    /// A form that is not a candidate but has closures or loops: only its
    /// inner units are compiled.
    Form,
}

/// Something to compile: a candidate procedure, a loop or a closure.
struct Unit {
    kind: Kind,
    /// The code of the lambda compiled: for a procedure the global holds a
    /// closure of it until it is redefined.
    root: &'static LambdaCode,
    /// The loops and closures of a form (unit indices), compiled when its
    /// counter runs out after the procedure was installed.
    inner: Vec<usize>,
    /// The lambda as a top-level form of its own, until it is sent.
    top: Option<Box<TopLevel>>,
    /// A procedure's global, as the source names it (its calls in units
    /// compiled with it are guarded direct calls).
    name: Option<String>,
    /// The globals a procedure calls (candidates among them that have
    /// been called are compiled with it).
    callees: Vec<GlobalId>,
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
    /// Global → its latest procedure unit.
    by_global: HashMap<GlobalId, usize>,
    files_sent: usize,
    calls: u32,
    eager: bool,
    log: bool,
    /// `VALK_TIER_GUARDS` (default on): procedures compiled with their
    /// callees, guarded direct calls between them.
    guards: bool,
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
        by_global: HashMap::new(),
        files_sent: 0,
        calls: if mode == Mode::Eager {
            1
        } else {
            calls_from_env()
        },
        eager: mode == Mode::Eager,
        log: valk_runtime::host::env_flag("VALK_TIER_LOG"),
        guards: valk_runtime::host::env_switch("VALK_TIER_GUARDS").unwrap_or(true),
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

/// Called after the interpreter ran top-level form `top` (its tree
/// `node`): a definition of a global by a lambda becomes a candidate (its
/// counter is armed); the loops of its lambdas and the lambdas nested in
/// any form (closures over locals: record procedures, closures a
/// procedure made) become units compiled once the form's counter runs
/// out after that (docs/tiering.md, "Loops", "Closures over locals").
pub fn note_form(top: &TopLevel, node: &'static Node) {
    if !COUNTING.with(|c| c.get()) {
        return;
    }
    // A candidate: `(define NAME (lambda ...))` whose global holds a
    // closure of that lambda.
    let candidate = match (&top.body.kind, node) {
        (ExprKind::DefineGlobal(name, value), Node::Define(_, vn))
            if matches!(value.kind, ExprKind::Lambda(_)) =>
        {
            let global = globals::global_id(name);
            match (interp::code_of(globals::get(global)), vn.as_ref()) {
                (Some(code), Node::Lambda(c)) if std::ptr::eq(code, *c) => {
                    Some((name.clone(), global, code, value))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let mut found = Vec::new();
    lambdas_of(&top.body, node, None, &mut found);
    let root = candidate.as_ref().map(|c| c.2);
    let mut inner: Vec<(Kind, &'static LambdaCode, TopLevel)> = Vec::new();
    for (lp, l, c) in found {
        if root.is_some_and(|r| std::ptr::eq(r, c)) {
            continue;
        }
        if let Some(t) = lp.and_then(|lp| loop_factory_form(top, lp, l, c)) {
            inner.push((Kind::Loop, c, t));
        } else if let Some(t) = closure_factory_form(top, l, c) {
            inner.push((Kind::Closure, c, t));
        }
    }
    let Some(first) = root.or_else(|| inner.first().map(|i| i.1)) else {
        return;
    };
    STATE.with(|s| {
        let Ok(mut guard) = s.try_borrow_mut() else {
            return;
        };
        let Some(st) = guard.as_mut() else { return };
        let key = first.hot as *const Cell<u32> as usize;
        if st.by_counter.contains_key(&key) {
            return;
        }
        let n = st.units.len();
        let inner_units: Vec<usize> = (n + 1..n + 1 + inner.len()).collect();
        let unit = match &candidate {
            Some((name, global, code, value)) => {
                let ExprKind::Lambda(lambda) = &value.kind else {
                    return;
                };
                st.by_global.insert(*global, n);
                Unit {
                    kind: Kind::Proc { global: *global },
                    root: code,
                    inner: inner_units,
                    top: Some(Box::new(TopLevel {
                        body: (***value).clone(),
                        locals: top.locals.clone(),
                    })),
                    name: Some(name.clone()),
                    callees: called_globals(&lambda.body),
                    descriptor: format!("valk_tier_{n}"),
                    state: UnitState::Counting,
                }
            }
            // Nothing to compile but the inner units: as if installed.
            None => Unit {
                kind: Kind::Form,
                root: first,
                inner: inner_units,
                top: None,
                name: match &top.body.kind {
                    ExprKind::DefineGlobal(name, _) => Some(name.clone()),
                    _ => None,
                },
                callees: Vec::new(),
                descriptor: format!("valk_tier_{n}"),
                state: UnitState::Installed,
            },
        };
        st.units.push(unit);
        for (kind, c, t) in inner {
            let i = st.units.len();
            st.units.push(Unit {
                kind,
                root: c,
                inner: Vec::new(),
                top: Some(Box::new(t)),
                name: None,
                callees: Vec::new(),
                descriptor: format!("valk_tier_{i}"),
                state: UnitState::Counting,
            });
        }
        st.by_counter.insert(key, n);
        first.hot.set(st.calls);
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
        // A candidate turning hot is compiled alone; once it is installed,
        // calls that still reach the interpreter come from activations
        // that started before, which its loops' factories can move on
        // (the counter was armed again at the installation).
        let wanted: Vec<usize> = match st.units[i].state {
            UnitState::Counting => with_callees(st, i),
            UnitState::Installed => st.units[i].inner.clone(),
            _ => return None,
        };
        let mut units = Vec::new();
        for u in wanted {
            let unit = &mut st.units[u];
            let Some(top) = unit.top.take() else { continue };
            unit.state = UnitState::Compiling;
            let name = unit.name.clone().filter(|_| st.guards);
            units.push((u, top, name, unit.descriptor.clone()));
        }
        if units.is_empty() {
            return None;
        }
        if st.log {
            let what = if units[0].0 == i {
                ""
            } else {
                "the loops and closures of "
            };
            valk_runtime::eprintln_quiet!(
                "valk: tier: compiling {what}{}",
                unit_name(&st.units[i])
            );
        }
        let sent: Vec<usize> = units.iter().map(|j| j.0).collect();
        let job = Job::Compile { units, predefined };
        if st.jobs.as_ref().is_none_or(|tx| tx.send(job).is_err()) {
            for &u in &sent {
                st.units[u].state = UnitState::Failed;
            }
            return None;
        }
        st.eager.then_some(sent)
    });
    for unit in waiting.unwrap_or_default() {
        wait_for(unit);
    }
}

/// Unit `i` (a procedure turning hot) and the candidates it calls,
/// directly or through them, that have been called (any, under `eager`)
/// and are still counting: compiled as one module, their calls of each other are
/// guarded direct calls that LLVM can inline (docs/tiering.md, "Guarded
/// calls"). At most [`BATCH`] units.
fn with_callees(st: &State, i: usize) -> Vec<usize> {
    let mut wanted = vec![i];
    if !st.guards {
        return wanted;
    }
    let mut k = 0;
    while k < wanted.len() {
        for &g in &st.units[wanted[k]].callees {
            if wanted.len() >= BATCH {
                return wanted;
            }
            let Some(&j) = st.by_global.get(&g) else {
                continue;
            };
            let u = &st.units[j];
            if !wanted.contains(&j)
                && u.state == UnitState::Counting
                && u.top.is_some()
                && (st.eager || u.root.hot.get() < st.calls)
                && holds(g, u.root)
            {
                wanted.push(j);
            }
        }
        k += 1;
    }
    wanted
}

/// The globals `body` calls (each once, in order of first call).
fn called_globals(body: &Expr) -> Vec<GlobalId> {
    let mut out: Vec<GlobalId> = Vec::new();
    let mut stack = vec![body];
    while let Some(e) = stack.pop() {
        if let ExprKind::Call(f, _) = &e.kind {
            if let ExprKind::Global(name) = &f.kind {
                let g = globals::global_id(name);
                if !out.contains(&g) {
                    out.push(g);
                }
            }
        }
        crate::lower::push_children(e, &mut stack);
    }
    out
}

/// The name of a unit, for `VALK_TIER_LOG`.
fn unit_name(u: &Unit) -> String {
    match u.kind {
        Kind::Proc { global } => globals::user_name(globals::name(global)).to_string(),
        Kind::Loop => format!("loop {}", u.root.name.unwrap_or("#<procedure>")),
        Kind::Closure => format!("closure {}", u.root.name.unwrap_or("#<procedure>")),
        Kind::Form => u.name.as_deref().map_or("a top-level form".into(), |n| {
            format!("the form defining {}", globals::user_name(n))
        }),
    }
}

/// Every lambda in `e` with the interpreter's code of that lambda, and
/// for the lambda of a single-binding `letrec` (the expansion of named
/// `let` and `do`: a loop) the variable it binds: walks the core AST and
/// the interpreter's tree together (`compile.rs` maps one onto the other
/// node by node). `lp`: `e` is the initialiser of that loop variable.
fn lambdas_of<'a>(
    e: &'a Expr,
    n: &'static Node,
    lp: Option<LocalId>,
    out: &mut Vec<(Option<LocalId>, &'a Lambda, &'static LambdaCode)>,
) {
    match (&e.kind, n) {
        (ExprKind::SetLocal(_, v), Node::SetLocal(_, _, vn))
        | (ExprKind::SetGlobal(_, v), Node::SetGlobal(_, vn, _, _))
        | (ExprKind::DefineGlobal(_, v), Node::Define(_, vn)) => lambdas_of(v, vn, None, out),
        (ExprKind::If(a, b, c), Node::If(x, y, z)) => {
            lambdas_of(a, x, None, out);
            lambdas_of(b, y, None, out);
            lambdas_of(c, z, None, out);
        }
        (ExprKind::Lambda(l), Node::Lambda(code)) => {
            out.push((lp, l, code));
            lambdas_of(&l.body, &code.body, None, out)
        }
        (ExprKind::Call(f, args), Node::Call(fnode, anodes, _)) => {
            lambdas_of(f, fnode, None, out);
            for (a, an) in args.iter().zip(anodes) {
                lambdas_of(a, an, None, out);
            }
        }
        (ExprKind::Seq(es), Node::Seq(ns)) => {
            for (x, xn) in es.iter().zip(ns) {
                lambdas_of(x, xn, None, out);
            }
        }
        (ExprKind::Let(binds, body), Node::Let(nb, nbody)) => {
            for ((_, x), (_, xn)) in binds.iter().zip(nb) {
                lambdas_of(x, xn, None, out);
            }
            lambdas_of(body, nbody, None, out);
        }
        (ExprKind::Letrec(binds, body), Node::Letrec(nb, nbody)) => {
            let single = binds.len() == 1;
            for ((id, x), (_, xn)) in binds.iter().zip(nb) {
                lambdas_of(x, xn, single.then_some(*id), out);
            }
            lambdas_of(body, nbody, None, out);
        }
        _ => {}
    }
}

/// Does local `lp` occur in `e` other than as the callee of a call?
fn escapes(e: &Expr, lp: LocalId) -> bool {
    match &e.kind {
        ExprKind::Local(id) => *id == lp,
        ExprKind::Const(_) | ExprKind::Void | ExprKind::Global(_) => false,
        ExprKind::SetLocal(id, v) => *id == lp || escapes(v, lp),
        ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => escapes(v, lp),
        ExprKind::If(a, b, c) => escapes(a, lp) || escapes(b, lp) || escapes(c, lp),
        ExprKind::Lambda(l) => escapes(&l.body, lp),
        ExprKind::Call(f, args) => {
            let callee_ok = matches!(f.kind, ExprKind::Local(id) if id == lp) || !escapes(f, lp);
            !callee_ok || args.iter().any(|a| escapes(a, lp))
        }
        ExprKind::Seq(es) => es.iter().any(|x| escapes(x, lp)),
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            binds.iter().any(|(_, x)| escapes(x, lp)) || escapes(body, lp)
        }
    }
}

/// The factory of loop `lp` = `l` (interpreter code `code`) of form `top`:
/// `(lambda (free ...) (letrec ((lp l)) lp))`, its parameters the loop's
/// free variables in the order of `code.free` (the loop's own name is
/// passed too, to a fresh unused parameter). `None` when a copy made from
/// the variables' values could behave differently from the interpreted
/// closure: a free variable or `lp` is assigned, or `lp` is used other
/// than called (a copy must not be compared with the original by `eq?`).
fn loop_factory_form(
    top: &TopLevel,
    lp: LocalId,
    l: &Lambda,
    code: &'static LambdaCode,
) -> Option<TopLevel> {
    let assigned = |id: u32| top.locals.get(id as usize).is_none_or(|i| i.assigned);
    if assigned(lp.0) || escapes(&l.body, lp) {
        return None;
    }
    let mut locals = top.locals.clone();
    let mut params = Vec::new();
    for &(id, _, _) in code.free.iter() {
        if id == lp.0 {
            params.push(LocalId(locals.len() as u32));
            locals.push(LocalInfo {
                name: "%loop".into(),
                assigned: false,
            });
        } else if assigned(id) {
            return None;
        } else {
            params.push(LocalId(id));
        }
    }
    let span = l.span;
    let body = Expr::new(
        ExprKind::Letrec(
            vec![(lp, Expr::new(ExprKind::Lambda(Box::new(l.clone())), span))],
            Box::new(Expr::new(ExprKind::Local(lp), span)),
        ),
        span,
    );
    let factory = Lambda {
        name: None,
        params,
        rest: None,
        body,
        span,
    };
    Some(TopLevel {
        body: Expr::new(ExprKind::Lambda(Box::new(factory)), span),
        locals,
    })
}

/// The factory of a lambda `l` (interpreter code `code`) nested in form
/// `top`: `(lambda (free ...) l')`, one parameter per free variable in
/// the order of `code.free`. It returns a compiled closure of `l'` over
/// those values, which `interp::upgrade` copies over an interpreted
/// closure of `code` (`3 + free` words at most, the room
/// `LambdaCode::pad` left). For an assigned variable the parameter is the
/// interpreter frame holding it, and `l'` is `l` with its reads and
/// writes of the variable turned into `(%tier-frame-ref frame i)` and
/// `(%tier-frame-set! frame i v)`, so the copy shares the location with
/// the interpreter's code. `None` when the closures have no room.
fn closure_factory_form(top: &TopLevel, l: &Lambda, code: &'static LambdaCode) -> Option<TopLevel> {
    if code.free.len() != code.pad as usize {
        return None;
    }
    let mut locals = top.locals.clone();
    let mut params = Vec::new();
    let mut frames: HashMap<LocalId, (LocalId, u32)> = HashMap::new();
    for (k, &(id, _, slot)) in code.free.iter().enumerate() {
        if code.free_frame[k] {
            let fr = LocalId(locals.len() as u32);
            locals.push(LocalInfo {
                name: "%frame".into(),
                assigned: false,
            });
            frames.insert(LocalId(id), (fr, 1 + slot));
            params.push(fr);
        } else {
            params.push(LocalId(id));
        }
    }
    let mut l = l.clone();
    if !frames.is_empty() {
        to_frame_access(&mut l.body, &frames);
    }
    let span = l.span;
    let factory = Lambda {
        name: None,
        params,
        rest: None,
        body: Expr::new(ExprKind::Lambda(Box::new(l)), span),
        span,
    };
    Some(TopLevel {
        body: Expr::new(ExprKind::Lambda(Box::new(factory)), span),
        locals,
    })
}

/// Rewrites the uses of the variables of `frames` (variable → frame
/// parameter and slot index) in `e` into accesses of their frame's slot.
fn to_frame_access(e: &mut Expr, frames: &HashMap<LocalId, (LocalId, u32)>) {
    use crate::syntax::datum::{Datum, DatumKind};
    let span = e.span;
    let access = |fr: LocalId, i: u32| {
        vec![
            Expr::new(ExprKind::Local(fr), span),
            Expr::new(
                ExprKind::Const(Datum::new(DatumKind::Int(i as i64), span)),
                span,
            ),
        ]
    };
    let global = |name: &str| Box::new(Expr::new(ExprKind::Global(name.into()), span));
    match &mut e.kind {
        ExprKind::Local(id) => {
            if let Some(&(fr, i)) = frames.get(id) {
                e.kind = ExprKind::Call(global("%tier-frame-ref"), access(fr, i));
            }
        }
        ExprKind::SetLocal(id, v) => {
            to_frame_access(v, frames);
            if let Some(&(fr, i)) = frames.get(id) {
                let v = std::mem::replace(&mut **v, Expr::new(ExprKind::Void, span));
                let mut args = access(fr, i);
                args.push(v);
                e.kind = ExprKind::Call(global("%tier-frame-set!"), args);
            }
        }
        _ => crate::lower::for_each_child_mut(e, |x| to_frame_access(x, frames)),
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
        // A batch may have brought it already.
        if st.ready.iter().any(|d| d.units.contains(&unit)) {
            return;
        }
        while let Ok(d) = st.done.recv() {
            let mine = d.units.contains(&unit);
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

/// Links a finished compilation and installs each of its units (see the
/// module documentation). The collector may run.
fn install(d: Done) {
    let Some((jit, log)) = STATE.with(|s| {
        let guard = s.try_borrow().ok()?;
        let st = guard.as_ref()?;
        Some((st.jit.clone(), st.log))
    }) else {
        return;
    };
    let fail_all = |why: &str| {
        for &u in &d.units {
            if log {
                if let Some(name) = unit_info(u).map(|i| i.1) {
                    valk_runtime::eprintln_quiet!("valk: tier: {name} stays interpreted: {why}");
                }
            }
            set_state(u, UnitState::Failed);
        }
    };
    let obj = match &d.result {
        Ok(obj) => obj,
        Err(msg) => return fail_all(msg.trim_end()),
    };
    let loaded = match jit.try_borrow_mut() {
        Ok(mut j) => j.load_object(obj, &d.descriptor),
        // The JIT is busy (cannot happen while forms are interpreted).
        Err(_) => return fail_all("the JIT is busy"),
    };
    let Ok(m) = loaded else {
        return fail_all("cannot link");
    };
    for (k, &u) in d.units.iter().enumerate() {
        let installed = install_unit(&m, k, u);
        set_state(u, installed);
        if log && installed == UnitState::Installed {
            if let Some(name) = unit_info(u).map(|i| i.1) {
                valk_runtime::eprintln_quiet!(
                    "valk: tier: {name} compiled in {:.1} ms (with {} other units)",
                    d.millis,
                    d.units.len() - 1
                );
            }
        }
    }
}

/// The kind, name and code of unit `u`, the compiled closures' entry,
/// and the counter to arm for its inner units (0: it has none).
fn unit_info(u: usize) -> Option<(Kind, String, &'static LambdaCode, u64, u32)> {
    STATE.with(|s| {
        let guard = s.try_borrow().ok()?;
        let st = guard.as_ref()?;
        let unit = st.units.get(u)?;
        let rearm = if unit.inner.is_empty() { 0 } else { st.calls };
        Some((
            unit.kind,
            unit_name(unit),
            unit.root,
            st.compiled_entry,
            rearm,
        ))
    })
}

/// Runs form `k` of `m`, which makes unit `u`'s compiled closure, and
/// installs it: the new state of the unit.
fn install_unit(m: &jit::LoadedModule, k: usize, u: usize) -> UnitState {
    let Some((kind, _, root, entry, rearm)) = unit_info(u) else {
        return UnitState::Failed;
    };
    if let Kind::Proc { global } = kind {
        if !holds(global, root) {
            return UnitState::Stale;
        }
    }
    let Some(c) = m.run(k) else {
        let _ = valk_runtime::error::take_pending();
        return UnitState::Failed;
    };
    // `c` is not rooted: nothing below allocates.
    if !(c.is_closure() && c.raw(0) == entry) {
        return UnitState::Failed;
    }
    let global = match kind {
        Kind::Proc { global } => global,
        Kind::Loop => {
            let cell = globals::global_id(&format!("%tier-loop-{u}"));
            globals::set(cell, c);
            root.loop_factory.set(Some(cell));
            return UnitState::Installed;
        }
        Kind::Closure => {
            let cell = globals::global_id(&format!("%tier-closure-{u}"));
            globals::set(cell, c);
            root.closure_factory.set(Some(cell));
            return UnitState::Installed;
        }
        Kind::Form => return UnitState::Failed,
    };
    let v = globals::get(global);
    if c.size() != 3 || v.size() != 3 || !holds(global, root) {
        return UnitState::Failed;
    }
    v.set_raw(0, c.raw(0));
    v.set_raw(1, c.raw(1));
    v.set_field(2, c.field(2));
    // Interpreted calls of the form's lambdas from now on are calls of
    // older activations' loops and older closures: count them (see
    // `on_hot`).
    root.hot.set(rearm);
    UnitState::Installed
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
            let state = match st.units[i].kind {
                // A closure over locals: its own unit's state.
                Kind::Form => st.units[i]
                    .inner
                    .iter()
                    .find(|&&u| std::ptr::eq(st.units[u].root, code))
                    .map_or(UnitState::Installed, |&u| st.units[u].state),
                _ => st.units[i].state,
            };
            Some((state, st.calls))
        });
        if code.closure_factory.get().is_some() {
            return format!("{name}: tier 0 (interpreted), compiled at its next call");
        }
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

/// The compiler thread: compiles jobs in order until the session ends,
/// the ones waiting together (up to [`BATCH`]) as one module.
fn worker(level: u32, jobs: Receiver<Job>, done: Sender<Done>, cancel: Arc<AtomicBool>) {
    let mut sources = SourceMap::new();
    let mut backend: Option<Result<valk_llvm::pipeline::Backend, String>> = None;
    while let Ok(job) = jobs.recv() {
        let mut batch = Vec::new();
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::File(name, text) => {
                    sources.add(name, text);
                }
                Job::Compile { units, predefined } => {
                    for u in units {
                        batch.push((u, predefined.clone()));
                    }
                }
            }
            if batch.len() < BATCH {
                next = jobs.try_recv().ok();
            }
        }
        if batch.is_empty() || cancel.load(Ordering::SeqCst) {
            continue;
        }
        let backend = backend
            .get_or_insert_with(|| valk_llvm::pipeline::Backend::new(level).map_err(|e| e.0));
        let mut results = vec![compile_batch(backend, level, &sources, &batch)];
        // One procedure the compiler rejects must not keep the others
        // interpreted: compile them one by one.
        if results[0].result.is_err() && batch.len() > 1 {
            results = batch
                .iter()
                .map(|j| compile_batch(backend, level, &sources, std::slice::from_ref(j)))
                .collect();
        }
        for d in results {
            if done.send(d).is_err() {
                return;
            }
        }
        interp::tier_ready();
    }
}

/// A unit to compile: its index, its form, its procedure's global (none
/// for a loop) and its descriptor.
type BatchJob = (usize, Box<TopLevel>, Option<String>, String);

/// Compiles `batch` as one module (named after its first unit).
fn compile_batch(
    backend: &Result<valk_llvm::pipeline::Backend, String>,
    level: u32,
    sources: &SourceMap,
    batch: &[(BatchJob, HashSet<String>)],
) -> Done {
    let t0 = std::time::Instant::now();
    let descriptor = batch[0].0 .3.clone();
    let tops: Vec<TopLevel> = batch.iter().map(|j| (*j.0 .1).clone()).collect();
    let mut predefined = HashSet::new();
    let mut guarded = HashMap::new();
    for (k, (job, pre)) in batch.iter().enumerate() {
        predefined.extend(pre.iter().cloned());
        if let Some(name) = &job.2 {
            guarded.insert(k, name.clone());
        }
    }
    let result = match backend {
        Ok(b) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            jit::compile_detached(b, level, &tops, sources, predefined, guarded, &descriptor)
        }))
        .unwrap_or_else(|_| Err("internal error: the compiler panicked".into())),
        Err(e) => Err(e.clone()),
    };
    Done {
        units: batch.iter().map(|j| j.0 .0).collect(),
        descriptor,
        result,
        millis: t0.elapsed().as_secs_f64() * 1e3,
    }
}
