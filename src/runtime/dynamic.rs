//! The dynamic environment: `dynamic-wind` winders, exception handlers and
//! parameter bindings, and the delivery of raised objects to handlers
//! (docs/continuations.md, "Dynamic environment" and "Exceptions").
//!
//! All three are immutable Scheme lists held here; a continuation saves
//! the three lists when it is captured and reinstates them when it is
//! invoked (after running the `dynamic-wind` transitions), so escapes and
//! re-entries need no bookkeeping by the forms that extend them.
//!
//! * Winders: a list of entries `#(before after handlers params)`, the
//!   innermost first; the handlers and parameters are those of the
//!   `dynamic-wind` call, in force while its thunks run.
//! * Handlers: a list of procedures, the innermost first.
//! * Parameters: an association list `((parameter . cell) ...)`, the
//!   innermost binding first.

use crate::call;
use crate::error::{self, ErrorKind, VResult};
use crate::gc::{self, RootVisitor};
use crate::guarded::Guarded;
use crate::object;
use crate::value::Value;

const WINDERS: usize = 0;
const HANDLERS: usize = 1;
const PARAMS: usize = 2;
/// The value a resumed continuation returns (rooted while in transit).
const RESUME: usize = 3;
/// The meta-continuation of `shift`/`reset` (`#f` outside any `reset`):
/// global state of the form, not saved by continuations (Filinski's
/// construction needs it so; docs/continuations.md).
const META: usize = 4;
const SLOTS: usize = 5;

// SAFETY: the runtime is single-threaded (docs/architecture.md): only the
// thread that runs Valk code (or a test under the heap lock) uses it.
static STATE: Guarded<[Value; SLOTS]> = unsafe { Guarded::new("the dynamic environment", initial) };

fn initial() -> [Value; SLOTS] {
    let mut s = [Value::NIL; SLOTS];
    s[META] = Value::FALSE;
    s
}

fn visit(v: &mut dyn RootVisitor) {
    STATE.with(|s| {
        for slot in s.iter_mut() {
            v.visit(slot);
        }
    });
}

/// Registers the root hook on first use (one flag test afterwards).
#[inline]
fn registered() {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !DONE.load(std::sync::atomic::Ordering::Relaxed) {
        gc::add_root_hook(visit);
        DONE.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn get(i: usize) -> Value {
    registered();
    STATE.with(|s| s[i])
}

fn set(i: usize, v: Value) {
    registered();
    STATE.with(|s| s[i] = v);
}

/// Empties the dynamic environment (each top-level form starts so).
pub fn reset() {
    for (i, v) in initial().into_iter().enumerate() {
        set(i, v);
    }
}

pub fn meta_continuation() -> Value {
    get(META)
}
pub fn set_meta_continuation(v: Value) {
    set(META, v)
}

/// The current winders, handlers and parameter bindings.
pub fn current() -> (Value, Value, Value) {
    registered();
    STATE.with(|s| (s[WINDERS], s[HANDLERS], s[PARAMS]))
}

/// Reinstates handlers and parameter bindings (winders are changed by
/// [`rewind`] only).
pub fn set_current(handlers: Value, params: Value) {
    set(HANDLERS, handlers);
    set(PARAMS, params);
}

pub fn winders() -> Value {
    get(WINDERS)
}
pub fn handlers() -> Value {
    get(HANDLERS)
}
pub fn set_handlers(v: Value) {
    set(HANDLERS, v)
}
pub fn params() -> Value {
    get(PARAMS)
}
pub fn set_params(v: Value) {
    set(PARAMS, v)
}

pub fn set_resume_value(v: Value) {
    set(RESUME, v)
}
pub fn take_resume_value() -> Value {
    let v = get(RESUME);
    set(RESUME, Value::NIL);
    v
}

/// Enters a `dynamic-wind`: pushes `#(before after handlers params)`.
pub fn push_winder(before: Value, after: Value) {
    let scope = gc::Scope::new();
    let before = scope.root(before);
    let after = scope.root(after);
    let e = scope.root(object::make_vector(4, Value::FALSE));
    e.get().set_field(0, before.get());
    e.get().set_field(1, after.get());
    e.get().set_field(2, handlers());
    e.get().set_field(3, params());
    let l = object::cons(e.get(), winders());
    set(WINDERS, l);
}

/// Leaves the innermost `dynamic-wind` (its after thunk is the caller's).
pub fn pop_winder() {
    let w = winders();
    if w.is_pair() {
        set(WINDERS, w.cdr());
    }
}

fn list_len(mut l: Value) -> usize {
    let mut n = 0;
    while l.is_pair() {
        n += 1;
        l = l.cdr();
    }
    n
}

/// Calls thunk `which` (0 = before, 1 = after) of winder entry `e` in the
/// dynamic environment of its `dynamic-wind`.
fn call_winder_thunk(e: Value, which: usize) -> VResult {
    set_current(e.field(2), e.field(3));
    call::call(e.field(which), &[])
}

/// Runs the `dynamic-wind` transitions from the current winders to
/// `target`: after thunks of the extents left (innermost first), then
/// before thunks of the extents entered (outermost first). Each thunk runs
/// with the winders of its own `dynamic-wind` call.
pub fn rewind(target: Value) -> VResult<()> {
    // The common case: the continuation was captured in this extent.
    if winders() == target {
        return Ok(());
    }
    let scope = gc::Scope::new();
    let target = scope.root(target);
    // The common tail of the two lists (they share structure).
    let (mut a, mut b) = (winders(), target.get());
    let (la, lb) = (list_len(a), list_len(b));
    for _ in lb..la {
        a = a.cdr();
    }
    for _ in la..lb {
        b = b.cdr();
    }
    while a != b {
        a = a.cdr();
        b = b.cdr();
    }
    let common = scope.root(a);
    while winders() != common.get() {
        let w = winders();
        set(WINDERS, w.cdr());
        call_winder_thunk(w.car(), 1)?;
    }
    // The extents entered, outermost last, in root-stack slots rather than
    // a Vec: a before thunk may capture a continuation that re-enters this
    // frame after it returned, and root slots are saved with it
    // (docs/continuations.md, "Runtime frames that are re-entered").
    let first = gc::root_sp();
    let mut n = target.get();
    while n != common.get() {
        gc::push_root(n);
        n = n.cdr();
    }
    let mut i = gc::root_sp();
    while i > first {
        i -= 1;
        call_winder_thunk(gc::root_get(i).car(), 0)?;
        set(WINDERS, gc::root_get(i));
    }
    Ok(())
}

/// Runs every outstanding after thunk, innermost first (`exit`).
pub fn unwind_all() -> VResult<()> {
    loop {
        let w = winders();
        if !w.is_pair() {
            return Ok(());
        }
        set(WINDERS, w.cdr());
        call_winder_thunk(w.car(), 1)?;
    }
}

/// Offers the pending exception to the current handlers, once: called
/// where a raised error first reaches Valk code (the generic entry of
/// builtins, the runtime entry points of compiled code, the interpreter's
/// `eval`). The innermost handler is called with the outer ones installed;
/// if it escapes (a `guard`), this never returns. If it returns, the raise
/// was not continuable: a secondary error ("exception handler returned")
/// is raised in the handler's dynamic environment, i.e. offered to the
/// next handler out. When no handler is left, the pending exception
/// propagates to the top level as before. `(exit)` requests and Ctrl-C
/// interrupts are not offered to handlers.
pub fn deliver() {
    if !error::take_delivery() {
        return;
    }
    let exc = error::pending();
    if error::has_kind(exc, ErrorKind::Exit) || error::has_kind(exc, ErrorKind::Interrupted) {
        return;
    }
    if !handlers().is_pair() {
        crate::backtrace::capture_unhandled(exc);
    }
    let scope = gc::Scope::new();
    let original = scope.root(handlers());
    let exc = scope.root(exc);
    let remaining = scope.root(original.get());
    while remaining.get().is_pair() {
        let list = remaining.get();
        let borrowed = error::has_kind(exc.get(), ErrorKind::StackOverflow)
            && crate::cont::borrow_stack_margin();
        set_handlers(list.cdr());
        let r = call::call(list.car(), &[exc.get()]);
        if borrowed {
            crate::cont::restore_stack_limit();
        }
        if r.is_err() {
            // The handler raised: that exception propagates from here.
            break;
        }
        let secondary = handler_returned(exc.get());
        exc.set(secondary);
        error::raise(secondary);
        error::take_delivery();
        remaining.set(remaining.get().cdr());
    }
    set_handlers(original.get());
}

/// The secondary error of a handler that returned from `raise`.
fn handler_returned(exc: Value) -> Value {
    let scope = gc::Scope::new();
    let irritants = scope.root(object::cons(exc, Value::NIL));
    object::make_condition(
        ErrorKind::User.symbol_name(),
        "exception handler returned from non-continuable raise",
        irritants.get(),
    )
}

/// `raise-continuable`: calls the innermost handler with the outer ones
/// installed and returns its value; with no handler the object is raised
/// to the top level.
pub fn raise_continuable(obj: Value) -> VResult {
    let scope = gc::Scope::new();
    let hs = scope.root(handlers());
    if !hs.get().is_pair() {
        return Err(error::raise(obj));
    }
    set_handlers(hs.get().cdr());
    let r = call::call(hs.get().car(), &[obj]);
    set_handlers(hs.get());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winders_push_and_pop_with_the_dynamic_environment() {
        let _l = crate::builtins::testing::lock();
        reset();
        set_handlers(object::cons(Value::fixnum(1), Value::NIL));
        push_winder(Value::fixnum(10), Value::fixnum(11));
        let w = winders();
        assert!(w.is_pair() && w.cdr() == Value::NIL);
        let e = w.car();
        assert_eq!(
            (e.field(0), e.field(1)),
            (Value::fixnum(10), Value::fixnum(11))
        );
        assert_eq!(e.field(2), handlers());
        pop_winder();
        assert_eq!(winders(), Value::NIL);
        // Rewinding to the current list runs nothing.
        assert!(rewind(Value::NIL).is_ok());
        reset();
        assert_eq!(
            (winders(), handlers(), params()),
            (Value::NIL, Value::NIL, Value::NIL)
        );
        assert_eq!(meta_continuation(), Value::FALSE);
    }
}
