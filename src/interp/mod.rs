//! The reference interpreter: evaluates the core AST (after a resolving
//! pass, `compile.rs`) directly on the runtime heap.
//!
//! * Every temporary lives on the runtime's root stack, so the moving
//!   collector may run at any allocation.
//! * Proper tail calls: `eval_loop` handles the callee of a call in its own
//!   loop, so a call that is the last thing an evaluation does reuses the
//!   Rust frame; only non-tail subexpressions recurse.
//! * Interpreted closures are ordinary runtime closures whose generic entry
//!   is [`interp_entry`], so builtins (`apply`, `vector-map`...) and the
//!   compiled engines call them like any other procedure.
//! * Deep recursion runs on the big stack the driver provides; past
//!   [`set_stack_limit`] the program gets a clean `stack overflow` error.

mod compile;
mod consts;

use crate::ast::TopLevel;
use crate::syntax::source::{SourceMap, Span};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use valk_runtime::backtrace::{self, Site};
use valk_runtime::error::{self, Raised, VResult};
use valk_runtime::gc;
use valk_runtime::globals::{self, GlobalId};
use valk_runtime::object;
use valk_runtime::value::{ObjType, ProcInfo, Value};

/// The interpreter's tree. Nodes are leaked (`&'static`): code lives as
/// long as the process, like compiled code.
pub enum Node {
    Imm(Value),
    Const(u32),
    /// (depth, slot): `depth` frames up the parent chain.
    Local(u32, u32),
    /// A `letrec` variable: reading it before its initialisation is an error.
    LocalChecked(u32, u32, &'static str),
    /// The site is where an unbound-variable error is reported.
    Global(GlobalId, Span, &'static Site),
    SetLocal(u32, u32, Box<Node>),
    SetGlobal(GlobalId, Box<Node>, Span, &'static Site),
    Define(GlobalId, Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>),
    Lambda(&'static LambdaCode),
    /// The site names the call in backtraces.
    Call(Box<Node>, Vec<Node>, &'static Site),
    Seq(Vec<Node>),
    Let(Vec<(u32, Node)>, Box<Node>),
    Letrec(Vec<(u32, Node)>, Box<Node>),
}

pub struct LambdaCode {
    pub required: u32,
    pub rest: bool,
    pub frame_size: u32,
    pub body: Node,
    pub name: Option<&'static str>,
    /// The site of an activation that has made no call yet.
    pub entry_site: &'static Site,
    pub info: ProcInfo,
    /// Calls left before the top-level form this lambda belongs to is hot
    /// (docs/tiering.md): shared by every lambda of one form, 0 when no
    /// one counts. Calls of inner lambdas (named-let loops) count for the
    /// form, so a procedure with a long-running loop becomes hot too.
    pub hot: &'static Cell<u32>,
    /// The lambda's free variables: (local id, depth, slot) in its
    /// closure's environment (tiering's loop transfer).
    pub free: Box<[(u32, u32, u32)]>,
    /// A compiled procedure (in this global's cell) that takes the free
    /// variables' values and returns a compiled copy of this lambda: calls
    /// of the interpreted closure continue in the copy (docs/tiering.md,
    /// "Loops").
    pub loop_factory: Cell<Option<GlobalId>>,
    /// A compiled procedure (in this global's cell) that takes the free
    /// variables' values and returns a compiled closure of this lambda:
    /// the next call of an interpreted closure of this code turns that
    /// closure into the compiled one in place (docs/tiering.md, "Closures
    /// over locals").
    pub closure_factory: Cell<Option<GlobalId>>,
    /// Words allocated after the environment in this lambda's closures,
    /// so that the compiled closure (`3 + free.len()` words) fits in
    /// place: `free.len()` when tiering may upgrade them, else 0.
    pub pad: u32,
    /// Per free variable: it is assigned, so the closure factory takes the
    /// frame holding it (the compiled copy reads and writes its slot)
    /// rather than its value.
    pub free_frame: Box<[bool]>,
}

/// Hooks of tiered execution (docs/tiering.md), set by the engine that
/// compiles hot procedures.
#[derive(Clone, Copy)]
pub struct TierHooks {
    /// Called when a form's counter (`LambdaCode::hot`) reaches zero, with
    /// the lambda whose call made it so.
    pub on_hot: fn(&'static LambdaCode),
    /// Called at an evaluation step after [`tier_ready`]: installs the
    /// compiled code that is ready (the collector may run).
    pub on_ready: fn(),
}

thread_local! {
    static TIER_HOOKS: Cell<Option<TierHooks>> = const { Cell::new(None) };
    /// Tiering counts calls: closures get room for their compiled form.
    static PAD_CLOSURES: Cell<bool> = const { Cell::new(false) };
}

/// Do lambdas compiled now get closures with room for their compiled
/// form (`LambdaCode::pad`)?
pub(crate) fn pad_closures() -> bool {
    PAD_CLOSURES.with(|p| p.get())
}

/// Set by [`tier_ready`] (from any thread), taken by the next evaluation
/// step of the interpreter.
static TIER_READY: AtomicBool = AtomicBool::new(false);

/// Installs (or with `None` removes) the tiering hooks of this thread.
pub fn set_tier_hooks(hooks: Option<TierHooks>) {
    PAD_CLOSURES.with(|p| p.set(hooks.is_some()));
    TIER_HOOKS.with(|h| h.set(hooks));
}

/// Tells the runtime the interpreter's generic entry, so that compiled
/// code's tail calls of interpreted closures are proper (docs/tiering.md,
/// "Tail calls across tiers").
pub fn register_entry() {
    valk_runtime::call::set_interp_entry(interp_entry as *const () as usize);
}

/// Asks the interpreter to call `on_ready` at its next step (callable
/// from a compiler thread).
pub fn tier_ready() {
    TIER_READY.store(true, Ordering::Release);
}

/// The code of an interpreted closure (`None` for any other value).
pub fn code_of(f: Value) -> Option<&'static LambdaCode> {
    lambda_code(f)
}

#[cold]
fn tier_poll() {
    if TIER_READY.swap(false, Ordering::Acquire) {
        if let Some(h) = TIER_HOOKS.with(|h| h.get()) {
            (h.on_ready)();
        }
    }
}

#[cold]
fn tier_hot(code: &'static LambdaCode) {
    if let Some(h) = TIER_HOOKS.with(|h| h.get()) {
        (h.on_hot)(code);
    }
}

thread_local! {
    static ERROR_SPAN: Cell<Option<Span>> = const { Cell::new(None) };
}

/// The source location of the last error raised by the interpreter, if it
/// has one (unbound variables); taken by the driver when it reports.
pub fn take_error_span() -> Option<Span> {
    ERROR_SPAN.with(|s| s.take())
}

/// Runs at every evaluation step: also the interpreter's poll point for
/// Ctrl-C (`interrupt::poll`, one load when nothing is pending).
#[inline]
fn check_stack() -> VResult<()> {
    valk_runtime::interrupt::poll()?;
    if TIER_READY.load(Ordering::Relaxed) {
        tier_poll();
    }
    let marker = 0u8;
    let sp = &marker as *const u8 as u64;
    // The limit compiled code checks too (lowered while a handler of
    // `stack overflow` runs, tripped by a Ctrl-C: docs/continuations.md).
    if sp < valk_runtime::rt::stack_limit() || gc::root_stack_nearly_full() {
        valk_runtime::interrupt::poll_tripped()?;
        return Err(error::stack_overflow());
    }
    Ok(())
}

/// Evaluates a top-level form (on the control stack, like compiled forms:
/// docs/continuations.md).
///
/// `sources` resolves the positions of backtrace sites (`None`: code
/// without positions, such as `eval`'s).
pub fn eval_toplevel(top: &TopLevel, sources: Option<&SourceMap>) -> VResult {
    run_compiled(compile_toplevel(top, sources))
}

/// A top-level form compiled for the interpreter ([`compile_toplevel`]).
#[derive(Clone, Copy)]
pub struct CompiledTop {
    node: &'static Node,
    frame_size: u32,
}

impl CompiledTop {
    /// The form's tree (tiering walks it with the core AST).
    pub fn node(&self) -> &'static Node {
        self.node
    }
}

/// Compiles a form without running it (for callers that must not hold
/// `sources` while it runs).
pub fn compile_toplevel(top: &TopLevel, sources: Option<&SourceMap>) -> CompiledTop {
    let (node, frame_size) = compile::compile_toplevel(top, sources);
    CompiledTop { node, frame_size }
}

/// Runs a compiled form, as [`eval_toplevel`] does.
pub fn run_compiled(c: CompiledTop) -> VResult {
    let CompiledTop { node, frame_size } = c;
    let r = valk_runtime::cont::run_on_base(
        eval_toplevel_on_base,
        node as *const Node as u64,
        frame_size as u64,
    );
    if r == Value::EXCEPTION {
        Err(Raised)
    } else {
        Ok(r)
    }
}

/// The body of [`eval_toplevel`]: takes its arguments by value (a
/// continuation of this form may return here while another form runs).
extern "C" fn eval_toplevel_on_base(node: u64, frame_size: u64) -> u64 {
    // SAFETY: `node` is the `&'static Node` `eval_toplevel` passed.
    let node = unsafe { &*(node as *const Node) };
    let frame = new_frame(Value::FALSE, frame_size as usize);
    let below = backtrace::activation_head();
    let act = backtrace::Activation::uninit();
    backtrace::push_activation(&act, &backtrace::TOPLEVEL_SITE);
    let r = eval(node, frame).unwrap_or(Value::EXCEPTION).0;
    backtrace::set_activation_head(below);
    r
}

/// Converts a datum to a heap value (quoted constants): the runtime's
/// conversion, shared with `read`.
pub use valk_runtime::syntax::to_value::datum_to_value;

fn new_frame(parent: Value, size: usize) -> Value {
    let s = gc::Scope::new();
    let p = s.root(parent);
    let f = gc::alloc(ObjType::Vector, 1 + size);
    f.set_field(0, p.get());
    for i in 0..size {
        f.set_field(1 + i, Value::UNDEFINED);
    }
    f
}

#[inline]
fn frame_at(mut env: Value, depth: u32) -> Value {
    for _ in 0..depth {
        env = env.field(0);
    }
    env
}

/// Evaluates `node` in environment `env` (which need not be rooted).
pub fn eval(node: &'static Node, env: Value) -> VResult {
    // Operands that are constants or local variables (most arguments)
    // need none of an evaluation's bookkeeping; the step that evaluates
    // them polls for interrupts and the stack already.
    match node {
        Node::Imm(v) => Ok(*v),
        Node::Const(i) => Ok(consts::get(*i)),
        Node::Local(d, i) => Ok(frame_at(env, *d).field(1 + *i as usize)),
        _ => eval_with(node, env, false, None),
    }
}

/// [`eval`]; with `tail_exit` (the body of a closure that compiled code
/// tail-called), a tail call of compiled code is not made but returned as
/// a call object for the compiled caller to make (docs/tiering.md, "Tail
/// calls across tiers").
///
/// `body_of`: `node` is the body of a procedure entered through its
/// generic entry, whose activation starts at this entry site; otherwise
/// the evaluation starts in its caller's activation (docs/debugging.md,
/// "Backtraces").
fn eval_with(
    node: &'static Node,
    env: Value,
    tail_exit: bool,
    body_of: Option<&'static Site>,
) -> VResult {
    let base = gc::root_sp();
    gc::push_root(env);
    let act = backtrace::Activation::uninit();
    if let Some(entry) = body_of {
        backtrace::push_activation(&act, entry);
    }
    let r = eval_loop(node, base, tail_exit, &act);
    backtrace::pop_activation(&act);
    gc::set_root_sp(base);
    if r.is_err() {
        // The interpreter's own errors reach the handlers here (builtins'
        // errors were offered already; docs/continuations.md).
        valk_runtime::dynamic::deliver();
    }
    r
}

fn unbound(id: GlobalId, span: Span) -> Raised {
    ERROR_SPAN.with(|s| s.set(Some(span)));
    error::unbound(globals::name(id))
}

/// The body of [`eval`]: root slot `e` holds the current environment.
///
/// Backtraces: the evaluation starts in the activation of the procedure
/// whose (sub)expression `node` is; a call of an interpreted procedure
/// makes `act` that procedure's activation (docs/debugging.md), which the
/// following tail calls replace and which [`eval_with`] drops when this
/// returns.
fn eval_loop(
    mut node: &'static Node,
    e: usize,
    tail_exit: bool,
    act: &std::mem::MaybeUninit<backtrace::Activation>,
) -> VResult {
    loop {
        check_stack()?;
        match node {
            Node::Imm(v) => return Ok(*v),
            Node::Const(i) => return Ok(consts::get(*i)),
            Node::Local(d, i) => return Ok(frame_at(gc::root_get(e), *d).field(1 + *i as usize)),
            Node::LocalChecked(d, i, name) => {
                let v = frame_at(gc::root_get(e), *d).field(1 + *i as usize);
                if v == Value::UNDEFINED {
                    return Err(error::used_before_definition(name));
                }
                return Ok(v);
            }
            Node::Global(id, span, site) => {
                let v = globals::get(*id);
                if v == Value::UNDEFINED {
                    backtrace::set_activation_site(site);
                    return Err(unbound(*id, *span));
                }
                return Ok(v);
            }
            Node::SetLocal(d, i, val) => {
                let v = eval(val, gc::root_get(e))?;
                frame_at(gc::root_get(e), *d).set_field(1 + *i as usize, v);
                return Ok(Value::UNSPECIFIED);
            }
            Node::SetGlobal(id, val, span, site) => {
                let v = eval(val, gc::root_get(e))?;
                if globals::get(*id) == Value::UNDEFINED {
                    backtrace::set_activation_site(site);
                    return Err(unbound(*id, *span));
                }
                globals::set(*id, v);
                return Ok(Value::UNSPECIFIED);
            }
            Node::Define(id, val) => {
                let v = eval(val, gc::root_get(e))?;
                globals::set(*id, v);
                return Ok(Value::UNSPECIFIED);
            }
            Node::If(c, t, f) => {
                let cv = eval(c, gc::root_get(e))?;
                node = if cv.is_true() { t } else { f };
            }
            Node::Seq(nodes) => {
                let (last, init) = nodes.split_last().expect("empty sequence");
                for n in init {
                    eval(n, gc::root_get(e))?;
                }
                node = last;
            }
            Node::Lambda(code) => return Ok(make_closure(code, gc::root_get(e))),
            Node::Let(binds, body) => {
                let sp = gc::root_sp();
                for (_, init) in binds {
                    let v = eval(init, gc::root_get(e))?;
                    gc::push_root(v);
                }
                let frame = gc::root_get(e);
                for (k, (slot, _)) in binds.iter().enumerate() {
                    frame.set_field(1 + *slot as usize, gc::root_get(sp + k));
                }
                gc::set_root_sp(sp);
                node = body;
            }
            Node::Letrec(binds, body) => {
                for (slot, init) in binds {
                    let v = eval(init, gc::root_get(e))?;
                    gc::root_get(e).set_field(1 + *slot as usize, v);
                }
                node = body;
            }
            Node::Call(f, args, site) => {
                let root = gc::root_sp();
                let fv = eval(f, gc::root_get(e))?;
                gc::push_root(fv);
                for a in args {
                    let v = eval(a, gc::root_get(e))?;
                    gc::push_root(v);
                }
                backtrace::set_activation_site(site);
                // A tail call of compiled code from a procedure body leaves
                // no frame of this procedure in compiled code, nor here
                // (the Rust frame stays; docs/debugging.md). Builtins are
                // not frames: their errors belong to this one.
                if backtrace::is_innermost(act)
                    && valk_runtime::call::is_compiled(gc::root_get(root))
                {
                    backtrace::pop_activation(act);
                }
                match prepare_call(root, args.len(), tail_exit)? {
                    Prepared::Interp(code, frame) => {
                        if !backtrace::is_innermost(act) {
                            backtrace::push_activation(act, code.entry_site);
                        } else {
                            backtrace::set_activation_site(code.entry_site);
                        }
                        gc::root_put(e, frame);
                        gc::set_root_sp(e + 1);
                        node = &code.body;
                    }
                    Prepared::Done(v) => {
                        gc::set_root_sp(e + 1);
                        return Ok(v);
                    }
                }
            }
        }
    }
}

enum Prepared {
    /// Continue by evaluating this interpreted body in this frame.
    Interp(&'static LambdaCode, Value),
    /// The callee (a builtin or compiled procedure) already ran.
    Done(Value),
}

fn is_interp_closure(v: Value) -> bool {
    v.is_closure() && v.raw(0) == interp_entry as *const () as usize as u64
}

/// The code of `f` if it is an interpreted closure.
#[inline]
fn lambda_code(f: Value) -> Option<&'static LambdaCode> {
    // SAFETY: the `ProcInfo` of every closure with the interpreter's entry
    // is the `info` of a leaked `LambdaCode`, whose `data` is the address
    // of that `LambdaCode` (`compile.rs`).
    is_interp_closure(f).then(|| unsafe { &*(object::closure_info(f).data as *const LambdaCode) })
}

/// The callee is in root slot `sp`, its `argc` arguments above it. Builds
/// the frame of an interpreted callee, or runs any other callee. `apply`
/// is handled here so that `(apply f args)` in tail position is a proper
/// tail call.
///
/// Every call reaching here is in tail position of the `eval_loop` that
/// makes it; with `tail_exit` a compiled callee is returned as a call
/// object (see [`eval_with`]).
fn prepare_call(sp: usize, mut argc: usize, tail_exit: bool) -> VResult<Prepared> {
    loop {
        let f = gc::root_get(sp);
        if let Some(code) = lambda_code(f) {
            if code.closure_factory.get().is_some() && upgrade(code, sp)? {
                // The closure in slot `sp` is compiled now.
                continue;
            }
            if code.loop_factory.get().is_none() || !transfer(code, sp)? {
                return Ok(Prepared::Interp(code, build_frame(code, sp, argc)?));
            }
            // The callee in slot `sp` is now the compiled copy.
            continue;
        }
        if f.is_closure() && std::ptr::eq(object::closure_info(f), apply_info()) && argc >= 1 {
            // (apply g a ... list): spread the list onto the root stack.
            let list = gc::root_get(sp + argc);
            let items = match object::list_to_vec(list) {
                Some(items) => items,
                None => return Err(error::wrong_type("apply", "a proper list", list)),
            };
            gc::set_root_sp(sp + argc);
            for v in items {
                gc::push_root(v);
            }
            // Shift the new callee and arguments down by one slot.
            let n = gc::root_sp() - (sp + 1);
            for k in 0..n {
                gc::root_put(sp + k, gc::root_get(sp + 1 + k));
            }
            gc::set_root_sp(sp + n);
            argc = n - 1;
            continue;
        }
        if tail_exit && valk_runtime::call::is_compiled(f) {
            let call = valk_runtime::rt::spread_call(sp, argc);
            valk_runtime::rt::set_tail_pending();
            return Ok(Prepared::Done(call));
        }
        return valk_runtime::call::call_rooted(f, sp + 1, argc).map(Prepared::Done);
    }
}

/// Replaces the interpreted closure in root slot `sp` by the compiled copy
/// its code's loop factory makes from the closure's free variables; false
/// (nothing changed) while one of them is not initialised.
#[cold]
fn transfer(code: &'static LambdaCode, sp: usize) -> VResult<bool> {
    let Some(factory) = code.loop_factory.get() else {
        return Ok(false);
    };
    let base = gc::root_sp();
    gc::push_root(globals::get(factory));
    let env = gc::root_get(sp).field(2);
    for &(_, depth, slot) in code.free.iter() {
        let v = frame_at(env, depth).field(1 + slot as usize);
        if v == Value::UNDEFINED {
            gc::set_root_sp(base);
            return Ok(false);
        }
        gc::push_root(v);
    }
    let f = gc::root_get(base);
    let r = valk_runtime::call::call_rooted(f, base + 1, code.free.len());
    gc::set_root_sp(base);
    gc::root_put(sp, r?);
    Ok(true)
}

/// Turns the interpreted closure in root slot `sp` into the compiled
/// closure its code's closure factory makes from the closure's free
/// variables, in place: same object, so `eq?`, tables and lists that hold
/// it see the compiled procedure (docs/tiering.md, "Closures over
/// locals"). False (nothing changed) while a free variable is not
/// initialised, or when the closure has no room for the compiled one.
#[cold]
fn upgrade(code: &'static LambdaCode, sp: usize) -> VResult<bool> {
    let Some(factory) = code.closure_factory.get() else {
        return Ok(false);
    };
    // Closures made before tiering started have no room.
    if gc::root_get(sp).size() < 3 + code.free.len() {
        return Ok(false);
    }
    let base = gc::root_sp();
    gc::push_root(globals::get(factory));
    let env = gc::root_get(sp).field(2);
    for (k, &(_, depth, slot)) in code.free.iter().enumerate() {
        let frame = frame_at(env, depth);
        let v = frame.field(1 + slot as usize);
        // Once initialised a variable never holds the marker again, so
        // the copy need not check for it.
        if v == Value::UNDEFINED {
            gc::set_root_sp(base);
            return Ok(false);
        }
        gc::push_root(if code.free_frame[k] { frame } else { v });
    }
    let f = gc::root_get(base);
    let r = valk_runtime::call::call_rooted(f, base + 1, code.free.len());
    gc::set_root_sp(base);
    let c = r?;
    let v = gc::root_get(sp);
    // Nothing below allocates. The compiled closure is `[entry, info,
    // fast entry, captures...]`, the interpreted one `[entry, info, env,
    // pad...]` (docs/calling-convention.md); the collector traces both
    // from word 2.
    if !c.is_closure() || c.size() > v.size() || lambda_code(v).is_none() {
        // Not the layout expected: never try again.
        code.closure_factory.set(None);
        return Ok(false);
    }
    v.set_raw(0, c.raw(0));
    v.set_raw(1, c.raw(1));
    for i in 2..v.size() {
        v.set_field(
            i,
            if i < c.size() {
                c.field(i)
            } else {
                Value::fixnum(0)
            },
        );
    }
    Ok(true)
}

fn apply_info() -> *const ProcInfo {
    thread_local! {
        static APPLY: Cell<usize> = const { Cell::new(0) };
    }
    APPLY.with(|a| {
        if a.get() == 0 {
            if let Some(id) = globals::lookup("apply") {
                let v = globals::get(id);
                if v.is_closure() {
                    a.set(object::closure_info(v) as *const ProcInfo as usize);
                }
            }
        }
        a.get() as *const ProcInfo
    })
}

fn procedure_name(code: &LambdaCode) -> &str {
    code.name.unwrap_or("#<procedure>")
}

/// Checks arity and builds the callee frame from callee slot `sp` and the
/// arguments above it.
fn build_frame(code: &'static LambdaCode, sp: usize, argc: usize) -> VResult<Value> {
    let hot = code.hot.get();
    if hot != 0 {
        code.hot.set(hot - 1);
        if hot == 1 {
            tier_hot(code);
        }
    }
    let req = code.required as usize;
    if argc < req || (!code.rest && argc > req) {
        let expected = if code.rest {
            format!("at least {req}")
        } else {
            req.to_string()
        };
        return Err(error::arity(procedure_name(code), &expected, argc));
    }
    let rest = if code.rest {
        let extra: Vec<Value> = (req..argc).map(|i| gc::root_get(sp + 1 + i)).collect();
        object::list_from(&extra)
    } else {
        Value::NIL
    };
    let s = gc::Scope::new();
    let rest = s.root(rest);
    let frame = gc::alloc(ObjType::Vector, 1 + code.frame_size as usize);
    let f = gc::root_get(sp);
    frame.set_field(0, f.field(2));
    for i in 0..req {
        frame.set_field(1 + i, gc::root_get(sp + 1 + i));
    }
    let mut next = req;
    if code.rest {
        frame.set_field(1 + req, rest.get());
        next += 1;
    }
    for i in next..code.frame_size as usize {
        frame.set_field(1 + i, Value::UNDEFINED);
    }
    Ok(frame)
}

fn make_closure(code: &'static LambdaCode, env: Value) -> Value {
    let s = gc::Scope::new();
    let env = s.root(env);
    let c = object::make_closure(interp_entry, &code.info, 1 + code.pad as usize);
    c.set_field(2, env.get());
    c
}

/// True for a closure the interpreter made (REPL `,describe`, `,disasm`).
pub fn is_interpreted(c: Value) -> bool {
    object::closure_entry(c) as usize == interp_entry as *const () as usize
}

/// Generic entry of interpreted closures: how builtins and compiled code
/// call them. `argv` points into the root stack.
unsafe extern "C" fn interp_entry(this: Value, argc: u64, argv: *const Value) -> Value {
    let tail_exit = valk_runtime::call::take_tail_exit();
    let base = gc::root_sp();
    gc::push_root(this);
    for i in 0..argc as usize {
        // SAFETY: `argc` values at `argv` (the generic entry's contract),
        // copied before anything allocates.
        gc::push_root(unsafe { *argv.add(i) });
    }
    let code = lambda_code(this).expect("interp_entry of an interpreted closure");
    if code.closure_factory.get().is_some() {
        // Compiled now: call it as the caller would have (a tail call of
        // it as a call object, docs/tiering.md "Tail calls across tiers").
        let r = upgrade(code, base).and_then(|done| {
            if !done {
                return Ok(None);
            }
            if tail_exit {
                let call = valk_runtime::rt::spread_call(base, argc as usize);
                valk_runtime::rt::set_tail_pending();
                return Ok(Some(call));
            }
            valk_runtime::call::call_rooted(gc::root_get(base), base + 1, argc as usize).map(Some)
        });
        match r {
            Ok(None) => {}
            Ok(Some(v)) => {
                gc::set_root_sp(base);
                return v;
            }
            Err(_) => {
                gc::set_root_sp(base);
                return Value::EXCEPTION;
            }
        }
    }
    let r = build_frame(code, base, argc as usize).and_then(|frame| {
        gc::set_root_sp(base);
        eval_with(&code.body, frame, tail_exit, Some(code.entry_site))
    });
    gc::set_root_sp(base);
    r.unwrap_or(Value::EXCEPTION)
}
