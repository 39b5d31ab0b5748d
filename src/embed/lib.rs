//! libvalk: Valk embedded in C programs (docs/embedding.md). The C API of
//! `valk.h` (generated from this crate by cbindgen) over the interpreter:
//!
//! * every API call runs on one evaluation thread with the big stack
//!   (`thread`);
//! * C code holds handles into a rooted table, never values (`handles`);
//! * failures return a null handle or `VALK_ERROR` and leave the message
//!   and the raised object for `valk_last_error_*` (per calling thread);
//! * C functions become Valk procedures (`cproc`).
//!
//! Nothing here panics on bad input: the release profile aborts on panic,
//! which would end the host process.

#![allow(non_camel_case_types)]

mod cproc;
mod engine;
mod handles;
mod thread;

use engine::{EResult, Failure};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use valk_runtime::num::{int_value, small_int, Num};
use valk_runtime::value::ObjType;
use valk_runtime::{call, cont, error, gc, globals, object, printer, Value};

/// Success.
pub const VALK_OK: c_int = 0;
/// Failure: see `valk_last_error_message`.
pub const VALK_ERROR: c_int = 1;

/// The opaque target of a handle (never defined: a handle encodes a table
/// index, not an address).
pub struct valk_value_s {
    _private: [u8; 0],
}

/// A handle to a Valk value: valid across collections until released with
/// `valk_release`. `NULL` is the result of a call that failed.
pub type valk_value = *mut valk_value_s;

/// A C function called as a Valk procedure: `argv` holds `argc` handles
/// owned by the runtime (released after the call). Returns a new handle
/// (the runtime takes it over; returning one of `argv` is allowed) or
/// `NULL` after `valk_raise_error`, or after an API call that failed (its
/// error is raised again).
pub type valk_procedure = Option<
    unsafe extern "C" fn(userdata: *mut c_void, argc: c_int, argv: *const valk_value) -> valk_value,
>;

/// Options of `valk_init` (all fields zero: the defaults).
#[repr(C)]
pub struct valk_options {
    /// Directories searched for imported libraries, separated by `:`
    /// (after the importing file's directory), or `NULL`.
    pub library_path: *const c_char,
    /// Stack size of the evaluation thread in bytes; 0: 1 GiB (lazily
    /// committed), as the `valk` binaries use; at least 128 MiB.
    pub stack_size: usize,
}

// ---------------------------------------------------------------------------
// Calls and errors

struct LastError {
    message: CString,
    object: handles::Raw,
}

thread_local! {
    /// The last failure of an API call made by this thread.
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn set_last_error(f: Failure) {
    // An interior NUL cannot be in a C string: cut the message there.
    let bytes: Vec<u8> = f.message.bytes().take_while(|&b| b != 0).collect();
    let message = CString::new(bytes).unwrap_or_default();
    let old = LAST.with(|l| {
        l.borrow_mut().replace(LastError {
            message,
            object: f.object,
        })
    });
    if let Some(old) = old.filter(|o| o.object != 0) {
        thread::post(move || {
            handles::release(old.object);
        });
    }
}

/// The raised object of this thread's last failure (a handle, 0 if none).
fn last_error_object() -> handles::Raw {
    LAST.with(|l| l.borrow().as_ref().map_or(0, |e| e.object))
}

/// Runs `f` on the evaluation thread; a failure is recorded for
/// `valk_last_error_*` and gives `fail`.
fn api<T: Send + 'static>(
    who: &'static str,
    fail: T,
    f: impl FnOnce() -> EResult<T> + Send + 'static,
) -> T {
    match thread::run(f) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_last_error(e);
            fail
        }
        Err(not_running) => {
            set_last_error(Failure::message(format!(
                "{who}: {}",
                not_running.message()
            )));
            fail
        }
    }
}

/// [`api`] for calls that give a new handle.
fn api_value(who: &'static str, f: impl FnOnce() -> EResult<Value> + Send + 'static) -> valk_value {
    let h = api(who, 0, move || f().map(handles::new));
    h as usize as valk_value
}

fn raw(v: valk_value) -> handles::Raw {
    v as usize as handles::Raw
}

/// The value of handle `h` (on the evaluation thread).
fn val(who: &str, h: handles::Raw) -> EResult<Value> {
    handles::get(h).ok_or_else(|| Failure::message(format!("{who}: {}", handles::invalid_text(h))))
}

/// A C string argument as Rust text (copied on the calling thread).
///
/// # Safety
/// `p` is null or a NUL-terminated string.
unsafe fn text_arg(who: &str, what: &str, p: *const c_char) -> EResult<String> {
    if p.is_null() {
        return Err(Failure::message(format!("{who}: the {what} is NULL")));
    }
    // SAFETY: the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| Failure::message(format!("{who}: the {what} is not UTF-8")))
}

/// Records a failure found on the calling thread (bad arguments).
fn fail_with<T>(e: Failure, fail: T) -> T {
    set_last_error(e);
    fail
}

fn wrong_type(who: &str, expected: &str, v: Value) -> Failure {
    Failure::message(format!(
        "{who}: expected {expected}: {}",
        printer::write_string(v)
    ))
}

// ---------------------------------------------------------------------------
// Start-up and shut-down

/// Starts the runtime: the evaluation thread, the heap, the builtins and
/// the prelude. `options` may be `NULL`. Calling it again while the runtime
/// runs does nothing; after `valk_shutdown` it fails.
///
/// # Safety
/// `options` is `NULL` or points at a `valk_options` whose `library_path`
/// is `NULL` or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_init(options: *const valk_options) -> c_int {
    let (path, stack) = if options.is_null() {
        (None, 0)
    } else {
        // SAFETY: the caller's contract.
        let o = unsafe { &*options };
        let path = if o.library_path.is_null() {
            None
        } else {
            // SAFETY: the caller's contract.
            match unsafe { text_arg("valk_init", "library path", o.library_path) } {
                Ok(p) => Some(p),
                Err(e) => return fail_with(e, VALK_ERROR),
            }
        };
        (path, o.stack_size)
    };
    let stack = if stack == 0 {
        valk_runtime::host::STACK_SIZE
    } else {
        stack
    };
    if let Some(p) = path {
        let dirs = p
            .split(':')
            .filter(|d| !d.is_empty())
            .map(Into::into)
            .collect();
        valk_eval::expand::set_library_dirs(dirs);
    }
    if let Err(m) = thread::start(stack) {
        return fail_with(Failure::message(m), VALK_ERROR);
    }
    api("valk_init", VALK_ERROR, || engine::init().map(|()| VALK_OK))
}

/// Flushes Valk's output ports and ends the runtime: every later call
/// fails (the runtime cannot be started again in this process). Handles
/// need not be released first.
#[no_mangle]
pub extern "C" fn valk_shutdown() {
    thread::stop(|| {
        let _ = valk_runtime::port::flush_all();
        valk_runtime::io::flush_stdout();
        gc::finish();
    });
}

// ---------------------------------------------------------------------------
// Evaluation

/// Reads, expands and evaluates every form of `source`; a handle to the
/// last form's value.
///
/// # Safety
/// `source` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_eval_string(source: *const c_char) -> valk_value {
    // SAFETY: the caller's contract.
    match unsafe { text_arg("valk_eval_string", "source", source) } {
        Ok(text) => api_value("valk_eval_string", move || {
            engine::run_source("<valk_eval_string>", &text)
        }),
        Err(e) => fail_with(e, std::ptr::null_mut()),
    }
}

/// Loads (reads, expands and evaluates) a source file; a handle to the
/// value of its last form.
///
/// # Safety
/// `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_load_file(path: *const c_char) -> valk_value {
    // SAFETY: the caller's contract.
    match unsafe { text_arg("valk_load_file", "path", path) } {
        Ok(path) => api_value("valk_load_file", move || engine::load_file(&path)),
        Err(e) => fail_with(e, std::ptr::null_mut()),
    }
}

/// The value of global variable `name`.
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_lookup(name: *const c_char) -> valk_value {
    // SAFETY: the caller's contract.
    match unsafe { text_arg("valk_lookup", "name", name) } {
        Ok(name) => api_value("valk_lookup", move || {
            match globals::lookup(&name).map(globals::get) {
                Some(v) if v != Value::UNDEFINED => Ok(v),
                _ => Err(Failure::message(format!("unbound variable: {name}"))),
            }
        }),
        Err(e) => fail_with(e, std::ptr::null_mut()),
    }
}

/// The body of a [`valk_call`] on the control stack (docs/continuations.md,
/// "Top-level forms"): the procedure and its arguments are in root-stack
/// slots `base..`.
extern "C" fn call_on_base(base: u64, argc: u64) -> u64 {
    let f = gc::root_get(base as usize);
    match call::call_rooted(f, base as usize + 1, argc as usize) {
        Ok(v) => v.0,
        Err(_) => Value::EXCEPTION.0,
    }
}

/// Calls `procedure` with `argc` arguments; a handle to its result.
///
/// # Safety
/// `argv` points at `argc` handles (it may be `NULL` when `argc` is 0).
#[no_mangle]
pub unsafe extern "C" fn valk_call(
    procedure: valk_value,
    argc: c_int,
    argv: *const valk_value,
) -> valk_value {
    let args: Vec<handles::Raw> = if argc <= 0 || argv.is_null() {
        Vec::new()
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(argv, argc as usize) }
            .iter()
            .map(|&h| raw(h))
            .collect()
    };
    if argc < 0 || (argc > 0 && argv.is_null()) {
        let e = Failure::message("valk_call: bad argument vector (argc < 0 or argv NULL)");
        return fail_with(e, std::ptr::null_mut());
    }
    let f = raw(procedure);
    api_value("valk_call", move || call_handles(f, &args))
}

/// Calls the procedure of handle `f` with the values of `args`.
fn call_handles(f: handles::Raw, args: &[handles::Raw]) -> EResult<Value> {
    let base = gc::root_sp();
    gc::push_root(val("valk_call", f)?);
    for (i, &a) in args.iter().enumerate() {
        match handles::get(a) {
            Some(v) => {
                gc::push_root(v);
            }
            None => {
                gc::set_root_sp(base);
                return Err(Failure::message(format!(
                    "valk_call: argument {}: {}",
                    i + 1,
                    handles::invalid_text(a)
                )));
            }
        }
    }
    flush_c_stdio();
    let r = cont::run_on_base(call_on_base, base as u64, args.len() as u64);
    gc::set_root_sp(base);
    valk_runtime::io::flush_stdout();
    if r == Value::EXCEPTION {
        Err(Failure::take_pending())
    } else {
        Ok(r)
    }
}

/// Flushes the host's C stdio streams before Valk code runs, so that what
/// the host printed comes before what Valk prints (docs/embedding.md).
fn flush_c_stdio() {
    // SAFETY: `fflush(NULL)` flushes every open output stream; it takes
    // the streams' own locks.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}

/// Registers C function `function` as the Valk procedure `name` (a global
/// variable), taking `min_args` to `max_args` arguments (`max_args` < 0:
/// any number from `min_args`). `userdata` is passed to every call.
///
/// # Safety
/// `name` is a NUL-terminated string; `function` is safe to call with `userdata`
/// whenever Valk code calls the procedure, until the runtime shuts down.
#[no_mangle]
pub unsafe extern "C" fn valk_define_procedure(
    name: *const c_char,
    function: valk_procedure,
    min_args: c_int,
    max_args: c_int,
    userdata: *mut c_void,
) -> c_int {
    const WHO: &str = "valk_define_procedure";
    // SAFETY: the caller's contract.
    let name = match unsafe { text_arg(WHO, "name", name) } {
        Ok(n) => n,
        Err(e) => return fail_with(e, VALK_ERROR),
    };
    let Some(func) = function else {
        return fail_with(
            Failure::message(format!("{WHO}: the function is NULL")),
            VALK_ERROR,
        );
    };
    if min_args < 0 || (max_args >= 0 && max_args < min_args) {
        let e = Failure::message(format!(
            "{WHO}: bad arity for {name}: {min_args} to {max_args}"
        ));
        return fail_with(e, VALK_ERROR);
    }
    let userdata = userdata as usize;
    api(WHO, VALK_ERROR, move || {
        cproc::define(&name, func, min_args as u32, max_args, userdata);
        Ok(VALK_OK)
    })
}

/// Raises an error from a C procedure: records `message` and the
/// `nirritants` irritants as the pending error and returns `NULL`, which
/// the procedure then returns (`return valk_raise_error(...)`). The error
/// reaches the Valk code that called the procedure (a `guard` can catch
/// it) and prints as `message: irritant ...`.
///
/// # Safety
/// `message` is a NUL-terminated string; `irritants` points at
/// `nirritants` handles (or is `NULL` when there are none).
#[no_mangle]
pub unsafe extern "C" fn valk_raise_error(
    message: *const c_char,
    nirritants: c_int,
    irritants: *const valk_value,
) -> valk_value {
    const WHO: &str = "valk_raise_error";
    // SAFETY: the caller's contract.
    let message = unsafe { text_arg(WHO, "message", message) }.unwrap_or_else(|e| e.message);
    let irr: Vec<handles::Raw> = if nirritants <= 0 || irritants.is_null() {
        Vec::new()
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(irritants, nirritants as usize) }
            .iter()
            .map(|&h| raw(h))
            .collect()
    };
    let made = thread::run(move || {
        let scope = gc::Scope::new();
        let values: Vec<gc::Root> = irr
            .iter()
            .map(|&h| scope.root(handles::get(h).unwrap_or(Value::FALSE)))
            .collect();
        let values: Vec<Value> = values.iter().map(|r| r.get()).collect();
        let _ = error::error(error::ErrorKind::User, &message, &values);
        let text = error::format_error(error::pending());
        let object = handles::new(error::take_pending());
        Failure {
            message: text,
            object,
        }
    });
    match made {
        Ok(f) => set_last_error(f),
        Err(nr) => set_last_error(Failure::message(format!("{WHO}: {}", nr.message()))),
    }
    std::ptr::null_mut()
}

// ---------------------------------------------------------------------------
// Last error

/// The message of the calling thread's last failure, as Valk prints it
/// (`message: irritant ...`, without `error: `), or `NULL` if no call has
/// failed. Valid until the thread's next failure.
#[no_mangle]
pub extern "C" fn valk_last_error_message() -> *const c_char {
    LAST.with(|l| {
        l.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |e| e.message.as_ptr())
    })
}

/// A new handle to the list of the last error's irritants (the empty list
/// for API misuse and for errors without irritants; a one-element list
/// holding the object for a raised non-condition), or `NULL` if no call
/// has failed.
#[no_mangle]
pub extern "C" fn valk_last_error_irritants() -> valk_value {
    if LAST.with(|l| l.borrow().is_none()) {
        return std::ptr::null_mut();
    }
    let obj = last_error_object();
    let h = thread::run(move || {
        let v = match handles::get(obj) {
            None => Value::NIL,
            Some(c) if c.has_type(ObjType::Condition) => c.field(2),
            Some(o) => {
                let s = gc::Scope::new();
                let r = s.root(o);
                object::cons(r.get(), Value::NIL)
            }
        };
        handles::new(v)
    })
    .unwrap_or(0);
    h as usize as valk_value
}

/// A new handle to the object the last error raised (a condition, or what
/// `raise` was given), or `NULL` if there is none (API misuse, syntax
/// errors, no failure).
#[no_mangle]
pub extern "C" fn valk_last_error_object() -> valk_value {
    let obj = last_error_object();
    if obj == 0 {
        return std::ptr::null_mut();
    }
    let h = thread::run(move || handles::get(obj).map_or(0, handles::new)).unwrap_or(0);
    h as usize as valk_value
}

// ---------------------------------------------------------------------------
// Handles

/// Releases a handle. Releasing `NULL` does nothing; releasing a handle
/// twice (or one of a shut-down runtime) is ignored.
#[no_mangle]
pub extern "C" fn valk_release(v: valk_value) {
    let h = raw(v);
    if h != 0 {
        let _ = thread::run(move || handles::release(h));
    }
}

/// A second handle to the value of `v` (released separately).
#[no_mangle]
pub extern "C" fn valk_dup(v: valk_value) -> valk_value {
    let h = raw(v);
    api_value("valk_dup", move || val("valk_dup", h))
}

/// The number of live handles (for leak checks).
#[no_mangle]
pub extern "C" fn valk_handle_count() -> usize {
    thread::run(handles::live).unwrap_or(0)
}

/// Forces a collection: a major one when `major` is non-zero, a minor one
/// otherwise. Handles stay valid (the objects may move).
#[no_mangle]
pub extern "C" fn valk_collect_garbage(major: c_int) -> c_int {
    api("valk_collect_garbage", VALK_ERROR, move || {
        if major != 0 {
            gc::collect();
        } else {
            gc::collect_minor();
        }
        Ok(VALK_OK)
    })
}

// ---------------------------------------------------------------------------
// Constructors

/// An exact integer (a fixnum, or a bignum beyond the fixnum range).
#[no_mangle]
pub extern "C" fn valk_integer(n: i64) -> valk_value {
    api_value("valk_integer", move || Ok(int_value(n as i128)))
}

/// A flonum.
#[no_mangle]
pub extern "C" fn valk_flonum(x: f64) -> valk_value {
    api_value("valk_flonum", move || Ok(object::make_flonum(x)))
}

/// `#t` when `b` is non-zero, else `#f`.
#[no_mangle]
pub extern "C" fn valk_boolean(b: c_int) -> valk_value {
    api_value("valk_boolean", move || Ok(Value::bool(b != 0)))
}

/// The empty list.
#[no_mangle]
pub extern "C" fn valk_null() -> valk_value {
    api_value("valk_null", || Ok(Value::NIL))
}

/// The unspecified value (what `(if #f #f)` gives).
#[no_mangle]
pub extern "C" fn valk_unspecified() -> valk_value {
    api_value("valk_unspecified", || Ok(Value::UNSPECIFIED))
}

/// A new string holding a copy of `len` bytes of UTF-8 at `utf8`.
///
/// # Safety
/// `utf8` points at `len` readable bytes (or is `NULL` when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn valk_string_n(utf8: *const c_char, len: usize) -> valk_value {
    const WHO: &str = "valk_string";
    let bytes: &[u8] = if len == 0 {
        &[]
    } else if utf8.is_null() {
        return fail_with(
            Failure::message(format!("{WHO}: the text is NULL")),
            std::ptr::null_mut(),
        );
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(utf8 as *const u8, len) }
    };
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let s = s.to_owned();
            api_value(WHO, move || Ok(object::string_from(&s)))
        }
        Err(_) => fail_with(
            Failure::message(format!("{WHO}: the text is not UTF-8")),
            std::ptr::null_mut(),
        ),
    }
}

/// A new string holding a copy of the NUL-terminated UTF-8 text `utf8`.
///
/// # Safety
/// `utf8` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_string(utf8: *const c_char) -> valk_value {
    // SAFETY: the caller's contract.
    match unsafe { text_arg("valk_string", "text", utf8) } {
        Ok(s) => api_value("valk_string", move || Ok(object::string_from(&s))),
        Err(e) => fail_with(e, std::ptr::null_mut()),
    }
}

/// The symbol named `name` (interned).
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn valk_symbol(name: *const c_char) -> valk_value {
    // SAFETY: the caller's contract.
    match unsafe { text_arg("valk_symbol", "name", name) } {
        Ok(s) => api_value("valk_symbol", move || Ok(object::intern(&s))),
        Err(e) => fail_with(e, std::ptr::null_mut()),
    }
}

/// A new pair.
#[no_mangle]
pub extern "C" fn valk_cons(car: valk_value, cdr: valk_value) -> valk_value {
    let (a, d) = (raw(car), raw(cdr));
    api_value("valk_cons", move || {
        let (a, d) = (val("valk_cons", a)?, val("valk_cons", d)?);
        // `cons` roots its arguments before it allocates.
        Ok(object::cons(a, d))
    })
}

/// A new list of the `n` values of `items`.
///
/// # Safety
/// `items` points at `n` handles (or is `NULL` when `n` is 0).
#[no_mangle]
pub unsafe extern "C" fn valk_list(n: usize, items: *const valk_value) -> valk_value {
    // SAFETY: the caller's contract.
    let hs = unsafe { handle_vec(n, items) };
    api_value("valk_list", move || {
        let vs = values_of("valk_list", &hs)?;
        Ok(object::list_from(&vs))
    })
}

/// A new vector of the `n` values of `items`.
///
/// # Safety
/// `items` points at `n` handles (or is `NULL` when `n` is 0).
#[no_mangle]
pub unsafe extern "C" fn valk_vector(n: usize, items: *const valk_value) -> valk_value {
    // SAFETY: the caller's contract.
    let hs = unsafe { handle_vec(n, items) };
    api_value("valk_vector", move || {
        let vs = values_of("valk_vector", &hs)?;
        Ok(object::vector_from(&vs))
    })
}

/// # Safety
/// `items` points at `n` handles or is `NULL`.
unsafe fn handle_vec(n: usize, items: *const valk_value) -> Vec<handles::Raw> {
    if n == 0 || items.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(items, n) }
        .iter()
        .map(|&h| raw(h))
        .collect()
}

/// The values of handles, for a builder that roots them before it
/// allocates (`list_from`, `vector_from`): nothing allocates in between.
fn values_of(who: &str, hs: &[handles::Raw]) -> EResult<Vec<Value>> {
    hs.iter().map(|&h| val(who, h)).collect()
}

// ---------------------------------------------------------------------------
// Predicates

fn predicate(v: valk_value, test: fn(Value) -> bool) -> c_int {
    let h = raw(v);
    api("valk_is_*", 0, move || {
        Ok(val("valk_is_*", h).map_or(0, |v| test(v) as c_int))
    })
}

/// Non-zero for an exact integer (fixnum or bignum).
#[no_mangle]
pub extern "C" fn valk_is_integer(v: valk_value) -> c_int {
    predicate(v, |v| v.is_fixnum() || v.has_type(ObjType::Bignum))
}
/// Non-zero for a flonum.
#[no_mangle]
pub extern "C" fn valk_is_flonum(v: valk_value) -> c_int {
    predicate(v, Value::is_flonum)
}
/// Non-zero for any number.
#[no_mangle]
pub extern "C" fn valk_is_number(v: valk_value) -> c_int {
    predicate(v, Value::is_number)
}
/// Non-zero for a string.
#[no_mangle]
pub extern "C" fn valk_is_string(v: valk_value) -> c_int {
    predicate(v, Value::is_string)
}
/// Non-zero for a symbol.
#[no_mangle]
pub extern "C" fn valk_is_symbol(v: valk_value) -> c_int {
    predicate(v, Value::is_symbol)
}
/// Non-zero for a pair.
#[no_mangle]
pub extern "C" fn valk_is_pair(v: valk_value) -> c_int {
    predicate(v, Value::is_pair)
}
/// Non-zero for the empty list.
#[no_mangle]
pub extern "C" fn valk_is_null(v: valk_value) -> c_int {
    predicate(v, Value::is_nil)
}
/// Non-zero for a vector.
#[no_mangle]
pub extern "C" fn valk_is_vector(v: valk_value) -> c_int {
    predicate(v, Value::is_vector)
}
/// Non-zero for `#t` or `#f`.
#[no_mangle]
pub extern "C" fn valk_is_boolean(v: valk_value) -> c_int {
    predicate(v, Value::is_bool)
}
/// Non-zero for a procedure.
#[no_mangle]
pub extern "C" fn valk_is_procedure(v: valk_value) -> c_int {
    predicate(v, Value::is_closure)
}
/// Non-zero for every value but `#f` (Scheme's truth).
#[no_mangle]
pub extern "C" fn valk_is_true(v: valk_value) -> c_int {
    predicate(v, Value::is_true)
}

// ---------------------------------------------------------------------------
// Accessors

/// Stores the exact integer `v` in `*out`; `VALK_ERROR` when `v` is not an
/// exact integer or does not fit in 64 bits.
///
/// # Safety
/// `out` points at a writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn valk_to_integer(v: valk_value, out: *mut i64) -> c_int {
    const WHO: &str = "valk_to_integer";
    let h = raw(v);
    let r = api(WHO, None, move || {
        let v = val(WHO, h)?;
        match small_int(v).map(i64::try_from) {
            Some(Ok(n)) => Ok(Some(n)),
            Some(Err(_)) => Err(wrong_type(WHO, "an integer that fits in 64 bits", v)),
            None if v.has_type(ObjType::Bignum) => {
                Err(wrong_type(WHO, "an integer that fits in 64 bits", v))
            }
            None => Err(wrong_type(WHO, "an exact integer", v)),
        }
    });
    match r {
        Some(n) if !out.is_null() => {
            // SAFETY: the caller's contract.
            unsafe { *out = n };
            VALK_OK
        }
        Some(_) => fail_with(Failure::message(format!("{WHO}: out is NULL")), VALK_ERROR),
        None => VALK_ERROR,
    }
}

/// Stores the real number `v` as a double in `*out` (exact numbers are
/// converted); `VALK_ERROR` when `v` is not a real number.
///
/// # Safety
/// `out` points at a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn valk_to_double(v: valk_value, out: *mut f64) -> c_int {
    const WHO: &str = "valk_to_double";
    let h = raw(v);
    let r = api(WHO, None, move || {
        let v = val(WHO, h)?;
        match Num::of(v) {
            Some(n) if n.is_real() => Ok(Some(n.to_f64())),
            _ => Err(wrong_type(WHO, "a real number", v)),
        }
    });
    match r {
        Some(x) if !out.is_null() => {
            // SAFETY: the caller's contract.
            unsafe { *out = x };
            VALK_OK
        }
        Some(_) => fail_with(Failure::message(format!("{WHO}: out is NULL")), VALK_ERROR),
        None => VALK_ERROR,
    }
}

/// The UTF-8 text of a string or a symbol's name, NUL-terminated, in
/// memory from `malloc` that the caller frees with `free`; `NULL` for
/// other values. `*len` (if `len` is not `NULL`) receives the length in
/// bytes (the text may contain NUL characters).
///
/// # Safety
/// `len` is `NULL` or points at a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn valk_to_utf8(v: valk_value, len: *mut usize) -> *mut c_char {
    const WHO: &str = "valk_to_utf8";
    let h = raw(v);
    let text = api(WHO, None, move || {
        let v = val(WHO, h)?;
        if v.is_string() {
            Ok(Some(object::string_to_rust(v)))
        } else if v.is_symbol() {
            Ok(Some(object::symbol_name(v)))
        } else {
            Err(wrong_type(WHO, "a string or a symbol", v))
        }
    });
    match text {
        // SAFETY: `len` is the caller's.
        Some(t) => unsafe { malloc_text(&t, len) },
        None => std::ptr::null_mut(),
    }
}

/// How `write` (`display` when `display` is non-zero) prints `v`, in
/// memory from `malloc` that the caller frees with `free`.
#[no_mangle]
pub extern "C" fn valk_print_string(v: valk_value, display: c_int) -> *mut c_char {
    const WHO: &str = "valk_print_string";
    let h = raw(v);
    let text = api(WHO, None, move || {
        let v = val(WHO, h)?;
        Ok(Some(if display != 0 {
            printer::display_string(v)
        } else {
            printer::write_string(v)
        }))
    });
    match text {
        // SAFETY: a null `len` is allowed.
        Some(t) => unsafe { malloc_text(&t, std::ptr::null_mut()) },
        None => std::ptr::null_mut(),
    }
}

/// Copies `t` into `malloc`ed memory with a NUL after it.
///
/// # Safety
/// `len` is `NULL` or points at a writable `size_t`.
unsafe fn malloc_text(t: &str, len: *mut usize) -> *mut c_char {
    // SAFETY: a plain allocation of `t.len() + 1` bytes.
    let p = unsafe { libc::malloc(t.len() + 1) } as *mut u8;
    if p.is_null() {
        return fail_with(Failure::message("out of memory"), std::ptr::null_mut());
    }
    // SAFETY: `p` has room for the text and the NUL; the regions differ.
    unsafe {
        std::ptr::copy_nonoverlapping(t.as_ptr(), p, t.len());
        *p.add(t.len()) = 0;
        if !len.is_null() {
            *len = t.len();
        }
    }
    p as *mut c_char
}

/// A new handle to the car of pair `pair`.
#[no_mangle]
pub extern "C" fn valk_car(pair: valk_value) -> valk_value {
    let h = raw(pair);
    api_value("valk_car", move || {
        let p = val("valk_car", h)?;
        if p.is_pair() {
            Ok(p.car())
        } else {
            Err(wrong_type("valk_car", "a pair", p))
        }
    })
}

/// A new handle to the cdr of pair `pair`.
#[no_mangle]
pub extern "C" fn valk_cdr(pair: valk_value) -> valk_value {
    let h = raw(pair);
    api_value("valk_cdr", move || {
        let p = val("valk_cdr", h)?;
        if p.is_pair() {
            Ok(p.cdr())
        } else {
            Err(wrong_type("valk_cdr", "a pair", p))
        }
    })
}

/// The length of proper list `list`, or -1 (with an error) when it is not
/// one.
#[no_mangle]
pub extern "C" fn valk_list_length(list: valk_value) -> i64 {
    const WHO: &str = "valk_list_length";
    let h = raw(list);
    api(WHO, -1, move || {
        let l = val(WHO, h)?;
        object::list_to_vec(l)
            .map(|v| v.len() as i64)
            .ok_or_else(|| wrong_type(WHO, "a proper list", l))
    })
}

/// The length of vector `vec`, or -1 (with an error) when it is not one.
#[no_mangle]
pub extern "C" fn valk_vector_length(vec: valk_value) -> i64 {
    const WHO: &str = "valk_vector_length";
    let h = raw(vec);
    api(WHO, -1, move || {
        let v = val(WHO, h)?;
        if v.is_vector() {
            Ok(v.size() as i64)
        } else {
            Err(wrong_type(WHO, "a vector", v))
        }
    })
}

/// A new handle to element `k` of vector `vec`.
#[no_mangle]
pub extern "C" fn valk_vector_ref(vec: valk_value, k: usize) -> valk_value {
    const WHO: &str = "valk_vector_ref";
    let h = raw(vec);
    api_value(WHO, move || {
        let v = val(WHO, h)?;
        if !v.is_vector() {
            return Err(wrong_type(WHO, "a vector", v));
        }
        if k >= v.size() {
            return Err(Failure::message(format!(
                "{WHO}: index out of range: {k} (length {})",
                v.size()
            )));
        }
        Ok(v.field(k))
    })
}
