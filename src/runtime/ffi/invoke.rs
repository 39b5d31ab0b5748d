//! Calls through libffi with a signature known at run time (`c-call`, the
//! interpreter's typed foreign procedures), the table of functions
//! registered by name (`c-register`), `errno`, and the re-raise of errors
//! caught at the callback boundary (docs/ffi.md).

use super::dl;
use super::types::{self, CType, Signature, Word};
use crate::error::{self, VResult};
use crate::gc;
use crate::value::Value;
use libffi_sys::{
    ffi_abi_FFI_DEFAULT_ABI, ffi_call, ffi_cif, ffi_prep_cif, ffi_prep_cif_var, ffi_type,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// The libffi type of `t`.
pub(super) fn ffi_type_of(t: CType) -> *mut ffi_type {
    // Only the addresses of libffi's type descriptors are taken; libffi
    // never writes them for scalar types.
    {
        match t {
            CType::Void => &raw mut libffi_sys::ffi_type_void,
            CType::I8 => &raw mut libffi_sys::ffi_type_sint8,
            CType::I16 => &raw mut libffi_sys::ffi_type_sint16,
            CType::I32 => &raw mut libffi_sys::ffi_type_sint32,
            CType::I64 => &raw mut libffi_sys::ffi_type_sint64,
            CType::U8 | CType::Bool => &raw mut libffi_sys::ffi_type_uint8,
            CType::U16 => &raw mut libffi_sys::ffi_type_uint16,
            CType::U32 => &raw mut libffi_sys::ffi_type_uint32,
            CType::U64 => &raw mut libffi_sys::ffi_type_uint64,
            CType::Float => &raw mut libffi_sys::ffi_type_float,
            CType::Double => &raw mut libffi_sys::ffi_type_double,
            CType::Pointer | CType::String | CType::Bytevector => {
                &raw mut libffi_sys::ffi_type_pointer
            }
        }
    }
}

/// A prepared libffi call interface for one signature (with the types of
/// the variadic arguments of one call, if any). Boxed: the `ffi_cif`
/// points at `arg_types`.
pub struct Prepared {
    pub(super) cif: ffi_cif,
    /// Fixed arguments, then variadic ones.
    pub(super) arg_types: Vec<CType>,
    ffi_args: Vec<*mut ffi_type>,
    pub(super) ret: CType,
}

// SAFETY: the pointers in `Prepared` point at libffi's static type
// descriptors and at its own `ffi_args`; nothing is shared mutably.
unsafe impl Send for Prepared {}

impl Prepared {
    /// Prepares `ret (args...)`, `fixed` of them fixed when variadic.
    pub fn new(ret: CType, args: Vec<CType>, fixed: Option<usize>) -> Box<Prepared> {
        let ffi_args: Vec<*mut ffi_type> = args.iter().map(|&t| ffi_type_of(t)).collect();
        let mut p = Box::new(Prepared {
            // SAFETY: an all-zero `ffi_cif` is a valid value to be filled
            // in by `ffi_prep_cif`.
            cif: unsafe { std::mem::zeroed() },
            arg_types: args,
            ffi_args,
            ret,
        });
        let n = p.ffi_args.len() as u32;
        let rtype = ffi_type_of(ret);
        let atypes = p.ffi_args.as_mut_ptr();
        // SAFETY: `cif` and `atypes` live in the box, which outlives every
        // use of the cif; the types are libffi's descriptors.
        let status = unsafe {
            match fixed {
                Some(nfixed) => ffi_prep_cif_var(
                    &mut p.cif,
                    ffi_abi_FFI_DEFAULT_ABI,
                    nfixed as u32,
                    n,
                    rtype,
                    atypes,
                ),
                None => ffi_prep_cif(&mut p.cif, ffi_abi_FFI_DEFAULT_ABI, n, rtype, atypes),
            }
        };
        if status != libffi_sys::ffi_status_FFI_OK {
            error::fatal("internal error: libffi rejected a call interface");
        }
        p
    }
}

/// Prepared interfaces by signature (fixed part) and variadic types.
type CifCache = HashMap<(CType, Vec<CType>, Option<usize>), Box<Prepared>>;

static CIFS: Mutex<Option<CifCache>> = Mutex::new(None);

/// The prepared interface for `ret (args...)` (`fixed` of them fixed when
/// variadic), made on first use. Boxes in the cache are never removed or
/// moved, so the pointer stays valid; the lock is not held during calls
/// (a callback's nested foreign call takes it again).
pub fn prepared(ret: CType, args: &[CType], fixed: Option<usize>) -> *mut Prepared {
    let mut guard = CIFS.lock().unwrap_or_else(|e| e.into_inner());
    let cifs = guard.get_or_insert_with(HashMap::new);
    let p = cifs
        .entry((ret, args.to_vec(), fixed))
        .or_insert_with(|| Prepared::new(ret, args.to_vec(), fixed));
    &mut **p
}

/// A parsed signature list and its prepared interface, cached by the
/// list's identity while nothing has moved (the collection count is
/// unchanged), so that a `c-call` in a loop parses its quoted signature
/// once.
struct CachedSignature {
    raw: u64,
    epoch: u64,
    sig: Signature,
    prepared: *mut Prepared,
}

const SIGNATURE_CACHE: usize = 8;

thread_local! {
    static SIGNATURES: std::cell::RefCell<[Option<Box<CachedSignature>>; SIGNATURE_CACHE]> =
        const { std::cell::RefCell::new([const { None }; SIGNATURE_CACHE]) };
}

/// Calls the C function at `addr` with the signature list `spec` (parsed
/// and prepared once per list, see [`CachedSignature`]).
pub fn call_with_spec(who: &str, addr: usize, spec: Value, args: &[Value]) -> VResult {
    let epoch = gc::epoch();
    let slot = (spec.0 as usize >> 4) % SIGNATURE_CACHE;
    let hit = SIGNATURES.with(|c| {
        let c = c.borrow();
        let e = c[slot].as_ref()?;
        (e.raw == spec.0 && e.epoch == epoch && !e.sig.variadic).then_some(e.prepared)
    });
    if let Some(p) = hit {
        // SAFETY: prepared interfaces live for the process.
        return call_prepared(who, addr, unsafe { &mut *p }, args);
    }
    let sig = Signature::parse(who, spec)?;
    let prep = prepared(sig.ret, &sig.args, None);
    let variadic = sig.variadic;
    SIGNATURES.with(|c| {
        c.borrow_mut()[slot] = Some(Box::new(CachedSignature {
            raw: spec.0,
            epoch,
            sig: sig.clone(),
            prepared: prep,
        }))
    });
    if variadic {
        return call(who, addr, &sig, args);
    }
    // SAFETY: as above.
    call_prepared(who, addr, unsafe { &mut *prep }, args)
}

/// `errno` as the latest foreign call left it (compiled typed calls store
/// it in `valk_ffi_errno` themselves).
pub fn last_errno() -> i32 {
    // SAFETY: a plain aligned static of the runtime's one thread.
    unsafe { std::ptr::read_volatile(&raw const super::typed::valk_ffi_errno) }
}

/// Records `errno` after a foreign call (also called by compiled typed
/// calls through `valk_ffi_after_call`).
pub fn save_errno() {
    // SAFETY: `__errno_location` returns this thread's errno cell.
    let e = unsafe { *libc::__errno_location() };
    // SAFETY: as in `last_errno`.
    unsafe { std::ptr::write_volatile(&raw mut super::typed::valk_ffi_errno, e) };
}

/// Before a foreign call that may write to standard output: write Valk's
/// buffered output first, and from now on flush C's stdio buffer before
/// Valk's (docs/ffi.md, "Output").
pub fn before_foreign_call() {
    crate::io::flush_before_foreign_call();
}

/// The C type a variadic argument gets from its value (C's default
/// argument promotions: integers as `long`, reals as `double`).
fn variadic_type(who: &str, i: usize, v: Value) -> VResult<CType> {
    Ok(if v.is_fixnum() || crate::num::small_int(v).is_some() {
        CType::I64
    } else if v.is_char() || v.is_bool() && v != Value::FALSE {
        CType::I32
    } else if v.is_flonum() || v.is_number() {
        CType::Double
    } else if v.is_string() {
        CType::String
    } else if types::pointer_value(v).is_some() || v.has_type(crate::value::ObjType::Bytevector) {
        CType::Pointer
    } else {
        return Err(error::error(
            error::ErrorKind::WrongType,
            &format!(
                "{who}: argument {}: no C type for this value in a variadic call",
                i + 1
            ),
            &[v],
        ));
    })
}

/// Calls the C function at `addr` with signature `sig` and the Valk
/// arguments `args` (which must live in the root stack, as builtin
/// arguments do). Checks the count, converts each argument (clear errors
/// for wrong types and values that do not fit), calls through libffi,
/// records `errno`, re-raises an error caught in a callback, and converts
/// the result.
pub fn call(who: &str, addr: usize, sig: &Signature, args: &[Value]) -> VResult {
    let n = args.len();
    let nfixed = sig.args.len();
    if n < nfixed || (!sig.variadic && n > nfixed) {
        return Err(arity(who, sig, n));
    }
    let p = if sig.variadic {
        let mut arg_types = sig.args.clone();
        for (i, &v) in args.iter().enumerate().skip(nfixed) {
            arg_types.push(variadic_type(who, i, v)?);
        }
        prepared(sig.ret, &arg_types, Some(nfixed))
    } else {
        prepared(sig.ret, &sig.args, None)
    };
    // SAFETY: prepared interfaces live for the process.
    call_prepared(who, addr, unsafe { &mut *p }, args)
}

fn arity(who: &str, sig: &Signature, n: usize) -> crate::error::Raised {
    let nfixed = sig.args.len();
    let expected = if sig.variadic {
        format!("at least {nfixed}")
    } else {
        nfixed.to_string()
    };
    error::arity(who, &expected, n)
}

/// Arguments converted in place up to this count; more use the heap.
const INLINE_ARGS: usize = 12;

/// [`call`] with the interface prepared (its argument types, variadic
/// ones included, are this call's).
pub fn call_prepared(who: &str, addr: usize, p: &mut Prepared, args: &[Value]) -> VResult {
    let n = args.len();
    if n != p.arg_types.len() {
        let expected = p.arg_types.len().to_string();
        return Err(error::arity(who, &expected, n));
    }
    let root_sp = gc::root_sp();
    let mut temps = Vec::new();
    let mut inline_words = [0 as Word; INLINE_ARGS];
    let mut heap_words = Vec::new();
    let words: &mut [Word] = if n <= INLINE_ARGS {
        &mut inline_words[..n]
    } else {
        heap_words.resize(n, 0);
        &mut heap_words
    };
    for (i, (&t, &v)) in p.arg_types.iter().zip(args).enumerate() {
        match types::to_c(who, i, t, v, &mut temps) {
            Ok(w) => words[i] = w,
            Err(e) => {
                types::finish_temps(&mut temps);
                gc::set_root_sp(root_sp);
                return Err(e);
            }
        }
    }
    before_foreign_call();
    let mut inline_ptrs = [std::ptr::null_mut::<libc::c_void>(); INLINE_ARGS];
    let mut heap_ptrs = Vec::new();
    let avalues: &mut [*mut libc::c_void] = if n <= INLINE_ARGS {
        &mut inline_ptrs[..n]
    } else {
        heap_ptrs.resize(n, std::ptr::null_mut());
        &mut heap_ptrs
    };
    for (a, w) in avalues.iter_mut().zip(words.iter_mut()) {
        *a = w as *mut Word as *mut libc::c_void;
    }
    // Two words: libffi writes at least a full `ffi_arg` for small types.
    let mut result = [0u64; 2];
    let ret = p.ret;
    // SAFETY: `addr` is a function the user declared with this signature
    // (a wrong declaration is the user's C-level bug, as in C); `p.cif`
    // matches `avalues`, each pointing at a word holding the converted
    // argument; `result` is large enough for any supported result type.
    unsafe {
        ffi_call(
            &mut p.cif,
            Some(std::mem::transmute::<usize, unsafe extern "C" fn()>(addr)),
            result.as_mut_ptr() as *mut libc::c_void,
            avalues.as_mut_ptr(),
        )
    };
    save_errno();
    if !temps.is_empty() {
        types::finish_temps(&mut temps);
    }
    gc::set_root_sp(root_sp);
    if super::callback::error_pending() {
        if let Some(e) = super::callback::take_pending_error() {
            return Err(error::raise(e));
        }
    }
    Ok(types::from_c(ret, result[0]))
}

/// A function registered by name (`c-register`).
#[derive(Clone)]
pub struct Registered {
    pub addr: usize,
    pub sig: Signature,
    /// The prepared interface (non-variadic signatures).
    prepared: Option<*mut Prepared>,
}

// SAFETY: see `Prepared`; prepared interfaces live for the process.
unsafe impl Send for Registered {}

impl Registered {
    /// Calls the function with `args` (see [`call`]).
    pub fn call(&self, who: &str, args: &[Value]) -> VResult {
        match self.prepared {
            Some(p) if args.len() == self.sig.args.len() => {
                // SAFETY: prepared interfaces live for the process.
                let p = unsafe { &mut *p };
                call_prepared(who, self.addr, p, args)
            }
            _ => call(who, self.addr, &self.sig, args),
        }
    }
}

static REGISTERED: Mutex<Option<HashMap<String, Registered>>> = Mutex::new(None);

/// Registers C function `name` (found in the process or in `library`, a
/// handle from [`dl::open`]) under `sig`.
pub fn register(name: &str, library: Option<usize>, sig: Signature) -> Result<(), String> {
    let addr = match library {
        Some(h) => dl::symbol(h, name)?,
        None => dl::symbol_anywhere(name)?,
    };
    let mut r = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    r.get_or_insert_with(HashMap::new).insert(
        name.to_string(),
        Registered {
            addr,
            prepared: (!sig.variadic).then(|| prepared(sig.ret, &sig.args, None)),
            sig,
        },
    );
    Ok(())
}

/// The function registered as `name`.
pub fn registered(name: &str) -> Option<Registered> {
    let r = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    r.as_ref()?.get(name).cloned()
}
