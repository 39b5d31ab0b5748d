//! Typed foreign procedures (`define-c-function`, `c-function`;
//! docs/ffi.md, "Typed foreign procedures").
//!
//! The interpreter gets a runtime closure from `%make-c-function` that
//! calls through libffi ([`invoke::call`]). Compiled code calls the C
//! function directly (the backend's `ffi_call`, docs/vir.md) and uses the
//! entry points below only off its fast path: resolving the address on the
//! first call, converting an argument the inline checks do not handle (and
//! raising the interpreter's error for a bad one), boxing a result that is
//! not a fixnum or flonum, freeing temporary copies, re-raising an error a
//! callback raised. The call itself goes through the exit trampoline
//! [`valk_ffi_exit`] (docs/calling-convention.md, "Foreign calls").

use super::dl;
use super::invoke;
use super::types::{self, CType, Signature, Temp};
use crate::error::{self, VResult};
use crate::gc;
use crate::object;
use crate::value::{ProcInfo, Value};
use std::sync::Mutex;

/// The C types by the code the backend uses (`valk_vir::FfiTy` order).
pub const TYPE_CODES: [CType; 15] = [
    CType::Void,
    CType::I8,
    CType::I16,
    CType::I32,
    CType::I64,
    CType::U8,
    CType::U16,
    CType::U32,
    CType::U64,
    CType::Float,
    CType::Double,
    CType::Bool,
    CType::Pointer,
    CType::String,
    CType::Bytevector,
];

fn ctype_of(code: u64) -> CType {
    TYPE_CODES
        .get(code as usize)
        .copied()
        .unwrap_or_else(|| error::fatal("internal error: bad foreign type code"))
}

/// The address of the C function compiled code calls through
/// [`valk_ffi_exit`]; stored right before each call.
#[no_mangle]
pub static mut valk_ffi_target: u64 = 0;

/// How many temporary copies (strings, movable bytevectors) wait for the
/// end of their foreign call: compiled code compares it with its value
/// before the arguments were converted and calls [`valk_ffi_finish`] only
/// when it grew.
#[no_mangle]
pub static mut valk_ffi_ntemps: u64 = 0;

/// Non-zero while an error raised in a callback waits for its foreign call
/// (mirrors `callback::error_pending`, tested in line after each call).
#[no_mangle]
pub static mut valk_ffi_pending: u64 = 0;

/// `errno` right after the latest foreign call (`(errno)`).
#[no_mangle]
pub static mut valk_ffi_errno: i32 = 0;

/// Sets [`valk_ffi_pending`].
pub fn set_pending_flag(on: bool) {
    // SAFETY: a plain aligned static, used by the runtime's one thread.
    unsafe { std::ptr::write_volatile(&raw mut valk_ffi_pending, on as u64) };
}

struct Pending {
    temp: Temp,
    /// The root stack pointer before the conversion that made it.
    root_sp: usize,
}

// SAFETY: the buffers belong to the runtime's one thread.
unsafe impl Send for Pending {}

static TEMPS: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

fn temps() -> std::sync::MutexGuard<'static, Vec<Pending>> {
    TEMPS.lock().unwrap_or_else(|e| e.into_inner())
}

fn set_ntemps(n: usize) {
    // SAFETY: as in `set_pending_flag`.
    unsafe { std::ptr::write_volatile(&raw mut valk_ffi_ntemps, n as u64) };
}

/// Frees (and copies back) the temporaries above `mark` and restores the
/// root stack as it was before them.
pub fn finish_from(mark: usize) {
    let (mut done, sp) = {
        let mut t = temps();
        if t.len() <= mark {
            return;
        }
        let tail: Vec<Pending> = t.drain(mark..).collect();
        set_ntemps(t.len());
        let sp = tail[0].root_sp;
        let done: Vec<Temp> = tail.into_iter().map(|p| p.temp).collect();
        (done, sp)
    };
    types::finish_temps(&mut done);
    gc::set_root_sp(sp);
}

/// The address of `sym` in library `lib` (`None`: the process and the
/// libraries opened so far), opening it; the error names both.
pub fn resolve(lib: Option<&str>, sym: &str) -> VResult<usize> {
    // A foreign function may write with C's stdio: from now on Valk's
    // flushes flush C's buffers too (docs/ffi.md, "Output").
    crate::io::note_foreign_output();
    let found = match lib {
        Some(l) => {
            let h = dl::open(l).map_err(|reason| {
                error::error(
                    error::ErrorKind::Other,
                    &format!("{sym}: cannot open library: {reason}"),
                    &[object::string_from(l)],
                )
            })?;
            dl::symbol(h, sym)
        }
        None => dl::symbol_anywhere(sym),
    };
    found.map_err(|_| {
        let place = match lib {
            Some(l) => format!("in {l}"),
            None => "in the process".to_string(),
        };
        error::error(
            error::ErrorKind::Other,
            &format!("{sym}: C symbol not found {place}"),
            &[],
        )
    })
}

/// Raises the pending exception from an entry point of compiled code
/// (never returns to it when no handler takes it).
fn raised() -> Value {
    crate::dynamic::deliver();
    crate::cont::throw_uncaught()
}

/// Text passed by compiled code as (pointer, length); null: none.
///
/// # Safety
/// `ptr` must be null or point at `len` bytes of static text.
unsafe fn text<'a>(ptr: *const u8, len: u64) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    Some(std::str::from_utf8(bytes).unwrap_or("?"))
}

unsafe extern "C" fn resolve_impl(
    lib: *const u8,
    lib_len: u64,
    sym: *const u8,
    sym_len: u64,
) -> u64 {
    // SAFETY: compiled code passes static text of its module.
    let (lib, sym) = unsafe { (text(lib, lib_len), text(sym, sym_len).unwrap_or("?")) };
    match resolve(lib, sym) {
        Ok(a) => a as u64,
        Err(_) => {
            raised();
            0
        }
    }
}

crate::exit_trampoline! {
    /// The address of C function `sym` in library `lib` (null: the
    /// process), or raises the interpreter's error.
    pub fn valk_ffi_resolve(lib: *const u8, lib_len: u64, sym: *const u8, sym_len: u64) -> u64
        => resolve_impl;
}

unsafe extern "C" fn arg_impl(
    who: *const u8,
    who_len: u64,
    i: u64,
    ty: u64,
    v: Value,
    mark: u64,
) -> u64 {
    // SAFETY: static text of the module.
    let who = unsafe { text(who, who_len) }.unwrap_or("?");
    let sp = gc::root_sp();
    let mut made = Vec::new();
    match types::to_c(who, i as usize, ctype_of(ty), v, &mut made) {
        Ok(w) => {
            let mut t = temps();
            for temp in made {
                t.push(Pending { temp, root_sp: sp });
            }
            set_ntemps(t.len());
            w
        }
        Err(_) => {
            types::finish_temps(&mut made);
            gc::set_root_sp(sp);
            finish_from(mark as usize);
            raised();
            0
        }
    }
}

crate::exit_trampoline! {
    /// Argument `i` (0-based) of type code `ty` as its C word, for the
    /// values the inline conversion does not handle; copies are finished
    /// by [`valk_ffi_finish`]. A bad argument raises `to_c`'s error after
    /// finishing the copies above `mark`.
    pub fn valk_ffi_arg(who: *const u8, who_len: u64, i: u64, ty: u64, v: Value, mark: u64) -> u64
        => arg_impl;
}

extern "C" fn finish_impl(mark: u64) {
    finish_from(mark as usize);
}

crate::exit_trampoline! {
    /// Frees the temporary copies made since [`valk_ffi_ntemps`] was
    /// `mark`, copying movable bytevectors back.
    pub fn valk_ffi_finish(mark: u64) => finish_impl;
}

extern "C" fn reraise_impl() -> Value {
    match super::callback::take_pending_error() {
        Some(e) => {
            let _ = error::raise(e);
            raised()
        }
        None => Value::UNSPECIFIED,
    }
}

crate::exit_trampoline! {
    /// Raises the error a callback raised during the foreign call that
    /// just returned.
    pub fn valk_ffi_reraise() -> Value => reraise_impl;
}

extern "C" fn box_impl(ty: u64, w: u64) -> Value {
    types::from_c(ctype_of(ty), w)
}

crate::exit_trampoline! {
    /// The Valk value of C result `w` of type code `ty` (may allocate).
    pub fn valk_ffi_box(ty: u64, w: u64) -> Value => box_impl;
}

/// A leaf call (it never touches the Valk heap): writes Valk's buffered
/// standard output before a foreign call (compiled code calls it only when
/// `valk_stdout_pending` says there is some).
#[no_mangle]
pub extern "C" fn valk_ffi_flush() {
    invoke::before_foreign_call();
}

/// The trampoline compiled code calls in place of the C function, with the
/// C function's own signature: records the exit record as every exit
/// trampoline does (so a callback's collection finds the compiled frames),
/// then jumps to [`valk_ffi_target`]. The C function returns straight to
/// compiled code.
///
/// # Safety
/// Compiled code only, at a statepoint, with `valk_ffi_target` set.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn valk_ffi_exit() {
    ::core::arch::naked_asm!(
        "mov r11, qword ptr [rsp]",
        "mov qword ptr [rip + {exit}], r11",
        "lea r11, [rsp + 8]",
        "mov qword ptr [rip + {exit} + 8], r11",
        "mov qword ptr [rip + {exit} + 16], rbp",
        // Through the GOT: `valk_ffi_target` is exported, so in
        // `libvalk.so` it may not be addressed PC-relatively.
        "mov r11, qword ptr [rip + {target}@GOTPCREL]",
        "jmp qword ptr [r11]",
        exit = sym crate::gc::frames::VALK_EXIT,
        target = sym valk_ffi_target,
    )
}

// ---------------------------------------------------------------------------
// The interpreter's typed foreign procedures

/// One declared foreign procedure.
struct Decl {
    lib: Option<String>,
    sym: String,
    sig: Signature,
}

/// The declarations made so far, each once (a `c-function` evaluated
/// again reuses its entry: the names and `ProcInfo`s live for the
/// process).
static DECLS: Mutex<Vec<(Decl, &'static ProcInfo)>> = Mutex::new(Vec::new());

fn decls() -> std::sync::MutexGuard<'static, Vec<(Decl, &'static ProcInfo)>> {
    DECLS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The index and `ProcInfo` of declaration `d`.
fn declare(d: Decl) -> (usize, &'static ProcInfo) {
    let mut all = decls();
    if let Some(i) = all
        .iter()
        .position(|(x, _)| x.lib == d.lib && x.sym == d.sym && x.sig == d.sig)
    {
        return (i, all[i].1);
    }
    let name: &'static str = Box::leak(d.sym.clone().into_boxed_str());
    let info: &'static ProcInfo = Box::leak(Box::new(ProcInfo {
        name: name.as_ptr(),
        name_len: name.len(),
        required: d.sig.args.len() as u32,
        optional: 0,
        rest: d.sig.variadic as u32,
        data: 0,
    }));
    all.push((d, info));
    (all.len() - 1, info)
}

const WHO: &str = "c-function";

/// `(%make-c-function lib sym '(arg-type ...) 'ret-type)`: what
/// `define-c-function` and `c-function` expand to. The library and symbol
/// are resolved on the first call, as compiled code does.
pub fn make_c_function(args: &[Value]) -> VResult {
    let (lib, sym, arg_types, ret) = (args[0], args[1], args[2], args[3]);
    let lib = if lib == Value::FALSE {
        None
    } else if lib.is_string() {
        Some(object::string_to_rust(lib))
    } else {
        return Err(error::wrong_type(WHO, "a library name or #f", lib));
    };
    if !sym.is_string() {
        return Err(error::wrong_type(WHO, "a C symbol name", sym));
    }
    let sym = object::string_to_rust(sym);
    let sig = Signature::parse_split(WHO, arg_types, ret)?;
    let (index, info) = declare(Decl { lib, sym, sig });
    let f = object::make_closure(c_function_entry, info, 2);
    f.set_raw(2, Value::fixnum(index as i64).0);
    f.set_raw(3, Value::fixnum(0).0);
    Ok(f)
}

unsafe extern "C" fn c_function_entry(this: Value, argc: u64, argv: *const Value) -> Value {
    let index = this.field(2).fixnum_value().unwrap_or(0) as usize;
    let (lib, sym, sig) = {
        let d = decls();
        let x = &d[index].0;
        (x.lib.clone(), x.sym.clone(), x.sig.clone())
    };
    // SAFETY: `argc` arguments at `argv` (the generic entry's contract).
    let args = unsafe { std::slice::from_raw_parts(argv, argc as usize) };
    let r = (|| {
        let n = sig.args.len();
        if args.len() < n || (!sig.variadic && args.len() > n) {
            // Before resolving, as compiled code checks arity on entry.
            let expected = if sig.variadic {
                format!("at least {n}")
            } else {
                n.to_string()
            };
            return Err(error::arity(&sym, &expected, args.len()));
        }
        let mut addr = this.field(3).fixnum_value().unwrap_or(0) as usize;
        if addr == 0 {
            addr = resolve(lib.as_deref(), &sym)?;
            this.set_raw(3, Value::fixnum(addr as i64).0);
        }
        invoke::call(&sym, addr, &sig, args)
    })();
    match r {
        Ok(v) => v,
        Err(_) => {
            crate::dynamic::deliver();
            Value::EXCEPTION
        }
    }
}
