//! Callbacks: a Valk procedure as a C function pointer (a libffi closure).
//!
//! C calls the closure's code; libffi calls [`dispatch`], which converts
//! the C arguments, calls the procedure through `call::call` (the entry
//! boundary every runtime-to-Valk call uses, so the collector walks the
//! Valk frames on both sides of the C frames precisely) and converts the
//! result back. An error raised in the procedure never unwinds through the
//! C frames: the callback runs under a handler of its own that escapes to
//! [`dispatch`], which records the condition and returns zero to C; later
//! callbacks of the same foreign call return zero at once, and the foreign
//! call re-raises the condition when C returns (docs/ffi.md,
//! "Callbacks").

use super::invoke::Prepared;
use super::types::{self, CType, Signature};
use crate::call;
use crate::cont;
use crate::dynamic;
use crate::error::{self, VResult};
use crate::gc::{self, Scope};
use crate::object;
use crate::value::{ProcInfo, Value};
use libffi_sys::{ffi_cif, ffi_closure, ffi_closure_alloc, ffi_closure_free, ffi_prep_closure_loc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One callback: its interface, the procedure (a root slot), its code.
struct Callback {
    prepared: Box<Prepared>,
    slot: usize,
    closure: *mut ffi_closure,
    /// The thread that runs Valk (`pthread_self`: cheaper to compare than
    /// `std::thread::current`, which clones a handle).
    thread: libc::pthread_t,
}

// SAFETY: a callback's pointers are used only by the runtime's thread
// (checked in `dispatch`).
unsafe impl Send for Callback {}

struct Table {
    by_code: BTreeMap<usize, Box<Callback>>,
    /// The procedures, traced as roots; freed slots hold `#f`.
    procs: Vec<Value>,
    free_slots: Vec<usize>,
    /// An error raised in a callback, to be re-raised when the foreign
    /// call returns.
    pending: Option<Value>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    by_code: BTreeMap::new(),
    procs: Vec::new(),
    free_slots: Vec::new(),
    pending: None,
});

fn table() -> std::sync::MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

fn visit_roots(visitor: &mut dyn gc::RootVisitor) {
    let mut t = table();
    for v in t.procs.iter_mut() {
        visitor.visit(v);
    }
    if let Some(p) = t.pending.as_mut() {
        visitor.visit(p);
    }
}

/// Whether an error raised in a callback waits for its foreign call: one
/// load of the flag compiled typed calls test too
/// ([`super::typed::valk_ffi_pending`]).
#[inline]
pub fn error_pending() -> bool {
    // SAFETY: a plain aligned static, used by the runtime's one thread.
    unsafe { std::ptr::read_volatile(&raw const super::typed::valk_ffi_pending) != 0 }
}

/// Takes the error a callback raised, if any.
pub fn take_pending_error() -> Option<Value> {
    super::typed::set_pending_flag(false);
    table().pending.take()
}

fn set_pending_error(e: Value) {
    let mut t = table();
    if t.pending.is_none() {
        t.pending = Some(e);
        super::typed::set_pending_flag(true);
    }
}

/// A C function pointer that calls `proc` with signature `sig` (no
/// variadic arguments; strings and bytevectors only as arguments).
pub fn make(who: &str, proc_: Value, sig: &Signature) -> VResult<usize> {
    if sig.variadic {
        return Err(error::error(
            error::ErrorKind::Other,
            &format!("{who}: a callback cannot be variadic"),
            &[],
        ));
    }
    if matches!(sig.ret, CType::String | CType::Bytevector) {
        return Err(error::error(
            error::ErrorKind::Other,
            &format!(
                "{who}: a callback cannot return {} (return a pointer)",
                sig.ret.name()
            ),
            &[],
        ));
    }
    gc::add_root_hook(visit_roots);
    let prepared = Prepared::new(sig.ret, sig.args.clone(), None);
    let mut code: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: allocates a closure of the right size; `code` receives its
    // executable address.
    let closure = unsafe { ffi_closure_alloc(std::mem::size_of::<ffi_closure>(), &mut code) }
        as *mut ffi_closure;
    if closure.is_null() {
        error::fatal("out of memory (libffi closure)");
    }
    let slot = {
        let mut t = table();
        match t.free_slots.pop() {
            Some(s) => {
                t.procs[s] = proc_;
                s
            }
            None => {
                t.procs.push(proc_);
                t.procs.len() - 1
            }
        }
    };
    let mut cb = Box::new(Callback {
        prepared,
        slot,
        closure,
        // SAFETY: `pthread_self` has no preconditions.
        thread: unsafe { libc::pthread_self() },
    });
    let user = &mut *cb as *mut Callback as *mut libc::c_void;
    // SAFETY: `closure` and `code` come from `ffi_closure_alloc`; the cif
    // lives in the boxed callback, as does `user`, and both stay until
    // `free` releases the closure.
    let status = unsafe {
        ffi_prep_closure_loc(
            closure,
            &mut cb.prepared.cif as *mut ffi_cif,
            Some(dispatch),
            user,
            code,
        )
    };
    if status != libffi_sys::ffi_status_FFI_OK {
        error::fatal("internal error: libffi rejected a callback");
    }
    table().by_code.insert(code as usize, cb);
    Ok(code as usize)
}

/// Releases the callback whose code is at `code`; false if there is none.
pub fn free(code: usize) -> bool {
    let mut t = table();
    let Some(cb) = t.by_code.remove(&code) else {
        return false;
    };
    t.procs[cb.slot] = Value::FALSE;
    t.free_slots.push(cb.slot);
    // SAFETY: the closure came from `ffi_closure_alloc` and is freed once;
    // C must not call it afterwards (documented).
    unsafe { ffi_closure_free(cb.closure as *mut libc::c_void) };
    true
}

/// Whether `code` is a live callback.
pub fn is_callback(code: usize) -> bool {
    table().by_code.contains_key(&code)
}

/// Writes the zero of the result type (after an error).
///
/// # Safety
/// `ret` must point at libffi's result buffer for the callback.
unsafe fn write_zero(ret: *mut libc::c_void) {
    // SAFETY: libffi's result buffer holds at least a full word.
    unsafe { *(ret as *mut u64) = 0 };
}

/// Called by libffi when C calls a callback's code.
unsafe extern "C" fn dispatch(
    _cif: *mut ffi_cif,
    ret: *mut libc::c_void,
    args: *mut *mut libc::c_void,
    user: *mut libc::c_void,
) {
    // SAFETY: `user` is the boxed `Callback` given to
    // `ffi_prep_closure_loc`; it lives until `free`.
    let cb = unsafe { &*(user as *const Callback) };
    // SAFETY: `pthread_self` has no preconditions.
    if unsafe { libc::pthread_self() } != cb.thread {
        error::fatal("a Valk callback was called from a thread that does not run Valk");
    }
    if error_pending() {
        // An earlier callback of this foreign call failed: let C finish.
        // SAFETY: `ret` is the result buffer (libffi's contract).
        unsafe { write_zero(ret) };
        return;
    }
    let scope = Scope::new();
    let n = cb.prepared.arg_types.len();
    let argv = scope.root(object::make_vector(n, Value::FALSE));
    for (i, &t) in cb.prepared.arg_types.iter().enumerate() {
        // SAFETY: libffi passes `n` argument pointers, each at a value of
        // the declared type.
        let w = unsafe { read_arg(*args.add(i), t) };
        let v = types::from_c(t, w);
        argv.get().set_field(i, v);
    }
    let proc_ = table().procs[cb.slot];
    let result = match run_guarded(proc_, argv.get()) {
        Ok(v) => v,
        Err(()) => {
            // SAFETY: as above.
            unsafe { write_zero(ret) };
            return;
        }
    };
    let mut temps = Vec::new();
    let ret_type = cb.prepared.ret;
    if ret_type == CType::Void {
        return;
    }
    match types::to_c("callback", types::RESULT, ret_type, result, &mut temps) {
        Ok(w) => {
            types::finish_temps(&mut temps);
            // SAFETY: `ret` is libffi's result buffer: integers are
            // written widened to a full word, floats in their own width.
            unsafe {
                match ret_type {
                    CType::Float => *(ret as *mut u32) = w as u32,
                    CType::I8 => *(ret as *mut i64) = w as i8 as i64,
                    CType::I16 => *(ret as *mut i64) = w as i16 as i64,
                    CType::I32 => *(ret as *mut i64) = w as i32 as i64,
                    CType::U8 | CType::Bool => *(ret as *mut u64) = w as u8 as u64,
                    CType::U16 => *(ret as *mut u64) = w as u16 as u64,
                    CType::U32 => *(ret as *mut u64) = w as u32 as u64,
                    _ => *(ret as *mut u64) = w,
                }
            }
        }
        Err(_) => {
            types::finish_temps(&mut temps);
            set_pending_error(error::take_pending());
            // SAFETY: as above.
            unsafe { write_zero(ret) };
        }
    }
}

/// Reads a C argument of type `t` at `p` into a word.
///
/// # Safety
/// `p` must point at a value of type `t`.
unsafe fn read_arg(p: *mut libc::c_void, t: CType) -> u64 {
    // SAFETY: the caller's contract.
    unsafe {
        match t {
            CType::I8 => *(p as *const i8) as i64 as u64,
            CType::U8 | CType::Bool => *(p as *const u8) as u64,
            CType::I16 => *(p as *const i16) as i64 as u64,
            CType::U16 => *(p as *const u16) as u64,
            CType::I32 => *(p as *const i32) as i64 as u64,
            CType::U32 | CType::Float => *(p as *const u32) as u64,
            _ => *(p as *const u64),
        }
    }
}

const BODY_NAME: &str = "callback";
static BODY_INFO: ProcInfo = ProcInfo {
    name: BODY_NAME.as_ptr(),
    name_len: BODY_NAME.len(),
    required: 1,
    optional: 0,
    rest: 0,
    data: 0,
};
static HANDLER_INFO: ProcInfo = ProcInfo {
    name: BODY_NAME.as_ptr(),
    name_len: BODY_NAME.len(),
    required: 1,
    optional: 0,
    rest: 0,
    data: 0,
};

/// Calls `proc_` with the elements of vector `argv` under an escape and a
/// handler of the callback's own: `Err(())` when it raised (the condition
/// is then pending for the foreign call).
fn run_guarded(proc_: Value, argv: Value) -> Result<Value, ()> {
    let scope = Scope::new();
    let body = {
        let (p, a) = (scope.root(proc_), scope.root(argv));
        let body = object::make_closure(body_entry, &BODY_INFO, 2);
        body.set_field(2, p.get());
        body.set_field(3, a.get());
        scope.root(body)
    };
    let outer = scope.root(dynamic::handlers());
    let r = cont::call_with_escape(body.get());
    dynamic::set_handlers(outer.get());
    match r {
        Ok(v) if v == Value::BWP && error_pending() => Err(()),
        Ok(v) => Ok(v),
        Err(_) => {
            // Not offered to handlers (an exit request or an interrupt)
            // or raised while setting up: keep it for the foreign call.
            set_pending_error(error::take_pending());
            Err(())
        }
    }
}

/// The body under the escape: installs the callback's handler (which
/// escapes with the condition) and calls the procedure.
unsafe extern "C" fn body_entry(this: Value, _argc: u64, argv: *const Value) -> Value {
    let scope = Scope::new();
    // SAFETY: one argument, the escape continuation (the generic entry's
    // contract).
    let k = scope.root(unsafe { *argv });
    let this = scope.root(this);
    let handler = object::make_closure(handler_entry, &HANDLER_INFO, 1);
    handler.set_field(2, k.get());
    let handlers = object::cons(handler, Value::NIL);
    dynamic::set_handlers(handlers);
    let argv = this.get().field(3);
    let args: Vec<Value> = (0..argv.size()).map(|i| argv.field(i)).collect();
    match call::call(this.get().field(2), &args) {
        Ok(v) => v,
        Err(_) => {
            set_pending_error(error::take_pending());
            Value::BWP
        }
    }
}

/// The callback's exception handler: records the condition and escapes to
/// [`run_guarded`] (never returns).
unsafe extern "C" fn handler_entry(this: Value, _argc: u64, argv: *const Value) -> Value {
    // SAFETY: one argument, the condition.
    let condition = unsafe { *argv };
    set_pending_error(condition);
    let k = this.field(2);
    match call::call(k, &[Value::BWP]) {
        Ok(v) => v,
        Err(_) => Value::EXCEPTION,
    }
}
