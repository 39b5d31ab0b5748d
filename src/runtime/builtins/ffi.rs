//! `(valk ffi)`: libraries and symbols, `c-call`, functions registered by
//! name, callbacks, foreign memory and `errno` (docs/ffi.md).

use super::{arg, check_type, fixed, index_arg, opt, opt_arg, string_arg, var, Builtin};
use crate::error::{self, Raised, VResult};
use crate::ffi::types::{self, make_pointer, pointer_value};
use crate::ffi::{callback, dl, invoke, CType, Signature};
use crate::gc;
use crate::num;
use crate::object;
use crate::value::{ObjType, Value};

fn other(who: &str, what: &str, irritants: &[Value]) -> Raised {
    error::error(
        error::ErrorKind::Other,
        &format!("{who}: {what}"),
        irritants,
    )
}

/// A non-NULL address: a foreign pointer or a non-negative exact integer.
fn address_arg(who: &str, v: Value) -> VResult<usize> {
    match pointer_value(v) {
        Some(0) => Err(other(who, "null pointer", &[v])),
        Some(a) => Ok(a as usize),
        None => Err(error::wrong_type(who, "a pointer", v)),
    }
}

/// A library: a handle from `dlopen`, a library name (opened now), or `#f`
/// for the process.
fn library_arg(who: &str, v: Value) -> VResult<usize> {
    if v == Value::FALSE {
        return Ok(0);
    }
    if v.is_string() {
        let name = object::string_to_rust(v);
        return dl::open(&name).map_err(|e| cannot_open(who, &e, v));
    }
    match pointer_value(v) {
        Some(h) if dl::is_library(h as usize) => Ok(h as usize),
        _ => Err(error::wrong_type(who, "a library (from dlopen)", v)),
    }
}

fn cannot_open(who: &str, reason: &str, name: Value) -> Raised {
    other(who, &format!("cannot open library: {reason}"), &[name])
}

fn dlopen(args: &[Value]) -> VResult {
    let v = string_arg("dlopen", args[0])?;
    let name = object::string_to_rust(v);
    let h = dl::open(&name).map_err(|e| cannot_open("dlopen", &e, v))?;
    Ok(make_pointer(h as u64))
}

fn dlsym(args: &[Value]) -> VResult {
    let lib = library_arg("dlsym", args[0])?;
    let name = string_arg("dlsym", arg(args, 1))?;
    let a = dl::symbol(lib, &object::string_to_rust(name))
        .map_err(|_| other("dlsym", "symbol not found", &[name]))?;
    Ok(make_pointer(a as u64))
}

/// `(c-call f signature arg ...)` with `f` a function pointer, or
/// `(c-call "name" arg ...)` with a function registered by `c-register`.
fn c_call(args: &[Value]) -> VResult {
    let f = args[0];
    if f.is_string() {
        let name = object::string_to_rust(f);
        let Some(r) = invoke::registered(&name) else {
            return Err(other(
                "c-call",
                "no C function registered under this name (see c-register)",
                &[f],
            ));
        };
        return r.call(&name, &args[1..]);
    }
    let addr = address_arg("c-call", f)?;
    if args.len() < 2 {
        return Err(error::arity("c-call", "at least 2", args.len()));
    }
    invoke::call_with_spec("c-call", addr, args[1], &args[2..])
}

/// `(c-register "name" signature [library])`.
fn c_register(args: &[Value]) -> VResult {
    let name = string_arg("c-register", args[0])?;
    let sig = Signature::parse("c-register", args[1])?;
    let lib = match opt_arg(args, 2) {
        Some(l) => Some(library_arg("c-register", l)?),
        None => None,
    };
    let text = object::string_to_rust(name);
    invoke::register(&text, lib.filter(|&h| h != 0), sig)
        .map_err(|_| other("c-register", "symbol not found", &[name]))?;
    Ok(Value::UNSPECIFIED)
}

fn c_registered_p(args: &[Value]) -> VResult {
    let name = string_arg("c-registered?", args[0])?;
    Ok(Value::bool(
        invoke::registered(&object::string_to_rust(name)).is_some(),
    ))
}

/// `(c-callback procedure signature)`: a C function pointer calling
/// `procedure` (docs/ffi.md, "Callbacks").
fn c_callback(args: &[Value]) -> VResult {
    let p = args[0];
    if !p.is_closure() {
        return Err(error::wrong_type("c-callback", "a procedure", p));
    }
    let sig = Signature::parse("c-callback", args[1])?;
    let code = callback::make("c-callback", arg(args, 0), &sig)?;
    Ok(make_pointer(code as u64))
}

fn c_callback_free(args: &[Value]) -> VResult {
    let a = address_arg("c-callback-free", args[0])?;
    if !callback::free(a) {
        return Err(other("c-callback-free", "not a live callback", &[args[0]]));
    }
    Ok(Value::UNSPECIFIED)
}

fn errno(_: &[Value]) -> VResult {
    Ok(Value::fixnum(invoke::last_errno() as i64))
}

// ----- pointers -----

fn pointer_p(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].has_type(ObjType::Foreign)))
}

fn null_pointer_p(args: &[Value]) -> VResult {
    match pointer_value(args[0]) {
        Some(a) => Ok(Value::bool(a == 0)),
        None => Err(error::wrong_type("null-pointer?", "a pointer", args[0])),
    }
}

fn pointer_to_integer(args: &[Value]) -> VResult {
    match pointer_value(args[0]) {
        Some(a) => Ok(num::int_value(a as i128)),
        None => Err(error::wrong_type("pointer->integer", "a pointer", args[0])),
    }
}

fn integer_to_pointer(args: &[Value]) -> VResult {
    match num::small_int(args[0]) {
        Some(n) if (0..=u64::MAX as i128).contains(&n) => Ok(make_pointer(n as u64)),
        _ => Err(error::wrong_type(
            "integer->pointer",
            "an address (a non-negative exact integer below 2^64)",
            args[0],
        )),
    }
}

fn pointer_add(args: &[Value]) -> VResult {
    let a = match pointer_value(args[0]) {
        Some(a) => a,
        None => return Err(error::wrong_type("pointer+", "a pointer", args[0])),
    };
    let Some(d) = args[1].fixnum_value() else {
        return Err(error::wrong_type("pointer+", "a fixnum offset", args[1]));
    };
    Ok(make_pointer(a.wrapping_add(d as u64)))
}

fn pointer_eq(args: &[Value]) -> VResult {
    let get =
        |v: Value| pointer_value(v).ok_or_else(|| error::wrong_type("pointer=?", "a pointer", v));
    Ok(Value::bool(get(args[0])? == get(args[1])?))
}

/// The address `p + offset` of a foreign memory access.
fn access(who: &str, args: &[Value]) -> VResult<usize> {
    let base = address_arg(who, args[0])?;
    let Some(off) = args[1].fixnum_value() else {
        return Err(error::wrong_type(who, "a fixnum offset", args[1]));
    };
    Ok(base.wrapping_add(off as usize))
}

macro_rules! memory_accessors {
    ($(($ref_name:literal, $set_name:literal, $ref_fn:ident, $set_fn:ident, $ty:ty, $ctype:expr)),* $(,)?) => {
        $(
            fn $ref_fn(args: &[Value]) -> VResult {
                let a = access($ref_name, args)?;
                // SAFETY: foreign memory at a user-given address, as C's
                // `*(T *)p` (docs/ffi.md, "Foreign memory"); unaligned
                // reads are allowed.
                let x = unsafe { std::ptr::read_unaligned(a as *const $ty) };
                Ok(types::from_c($ctype, widen(x)))
            }
            fn $set_fn(args: &[Value]) -> VResult {
                let a = access($set_name, args)?;
                let mut temps = Vec::new();
                let w = types::to_c($set_name, 2, $ctype, args[2], &mut temps)?;
                // SAFETY: as in the accessor above; `w` holds a value of
                // the type in its low bytes.
                unsafe { std::ptr::write_unaligned(a as *mut $ty, narrow(w)) };
                Ok(Value::UNSPECIFIED)
            }
        )*
        pub(super) const MEMORY: &[Builtin] = &[
            $(fixed($ref_name, 2, $ref_fn), fixed($set_name, 3, $set_fn),)*
        ];
    };
}

/// A value read from memory as the word [`types::from_c`] takes.
trait Word: Copy {
    fn to_word(self) -> u64;
    fn from_word(w: u64) -> Self;
}
macro_rules! int_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            fn to_word(self) -> u64 { self as i64 as u64 }
            fn from_word(w: u64) -> Self { w as $t }
        }
    )*};
}
int_word!(u8, i8, u16, i16, u32, i32, u64, i64);
impl Word for f32 {
    fn to_word(self) -> u64 {
        self.to_bits() as u64
    }
    fn from_word(w: u64) -> Self {
        f32::from_bits(w as u32)
    }
}
impl Word for f64 {
    fn to_word(self) -> u64 {
        self.to_bits()
    }
    fn from_word(w: u64) -> Self {
        f64::from_bits(w)
    }
}
fn widen<T: Word>(x: T) -> u64 {
    x.to_word()
}
fn narrow<T: Word>(w: u64) -> T {
    T::from_word(w)
}

memory_accessors!(
    (
        "pointer-ref-u8",
        "pointer-set-u8!",
        ref_u8,
        set_u8,
        u8,
        CType::U8
    ),
    (
        "pointer-ref-s8",
        "pointer-set-s8!",
        ref_s8,
        set_s8,
        i8,
        CType::I8
    ),
    (
        "pointer-ref-u16",
        "pointer-set-u16!",
        ref_u16,
        set_u16,
        u16,
        CType::U16
    ),
    (
        "pointer-ref-s16",
        "pointer-set-s16!",
        ref_s16,
        set_s16,
        i16,
        CType::I16
    ),
    (
        "pointer-ref-u32",
        "pointer-set-u32!",
        ref_u32,
        set_u32,
        u32,
        CType::U32
    ),
    (
        "pointer-ref-s32",
        "pointer-set-s32!",
        ref_s32,
        set_s32,
        i32,
        CType::I32
    ),
    (
        "pointer-ref-u64",
        "pointer-set-u64!",
        ref_u64,
        set_u64,
        u64,
        CType::U64
    ),
    (
        "pointer-ref-s64",
        "pointer-set-s64!",
        ref_s64,
        set_s64,
        i64,
        CType::I64
    ),
    (
        "pointer-ref-float",
        "pointer-set-float!",
        ref_float,
        set_float,
        f32,
        CType::Float
    ),
    (
        "pointer-ref-double",
        "pointer-set-double!",
        ref_double,
        set_double,
        f64,
        CType::Double
    ),
    (
        "pointer-ref-pointer",
        "pointer-set-pointer!",
        ref_pointer,
        set_pointer,
        u64,
        CType::Pointer
    ),
);

fn malloc(args: &[Value]) -> VResult {
    let n = index_arg("malloc", args[0])?;
    // SAFETY: plain malloc; NULL is reported below.
    let p = unsafe { libc::malloc(n.max(1)) };
    if p.is_null() {
        return Err(other("malloc", "out of memory", &[args[0]]));
    }
    Ok(make_pointer(p as u64))
}

fn free(args: &[Value]) -> VResult {
    match pointer_value(args[0]) {
        // SAFETY: the user passes memory from malloc (as in C); NULL is a
        // no-op, as in C.
        Some(a) => unsafe { libc::free(a as *mut libc::c_void) },
        None => return Err(error::wrong_type("free", "a pointer", args[0])),
    }
    Ok(Value::UNSPECIFIED)
}

/// `(pointer->string p [length])`: the C string at `p` (or `length` bytes),
/// decoded as UTF-8 (invalid sequences replaced).
fn pointer_to_string(args: &[Value]) -> VResult {
    let a = address_arg("pointer->string", args[0])?;
    let bytes: Vec<u8> = match opt_arg(args, 1) {
        // SAFETY: the user says `n` bytes are readable at `a`.
        Some(n) => unsafe {
            std::slice::from_raw_parts(a as *const u8, index_arg("pointer->string", n)?).to_vec()
        },
        // SAFETY: the user says a NUL-terminated string is at `a`.
        None => unsafe { std::ffi::CStr::from_ptr(a as *const libc::c_char) }
            .to_bytes()
            .to_vec(),
    };
    Ok(object::string_from(&String::from_utf8_lossy(&bytes)))
}

/// `(string->pointer s)`: a malloc'd NUL-terminated UTF-8 copy that stays
/// until freed with `free` (the `string` argument type frees its copy after
/// the call).
fn string_to_pointer(args: &[Value]) -> VResult {
    let s = string_arg("string->pointer", args[0])?;
    match types::c_string_copy(s) {
        Some(p) => Ok(make_pointer(p as u64)),
        None => Err(other(
            "string->pointer",
            "string contains a NUL character",
            &[s],
        )),
    }
}

/// `(pointer->bytevector p n)`: a copy of `n` bytes at `p`.
fn pointer_to_bytevector(args: &[Value]) -> VResult {
    let a = address_arg("pointer->bytevector", args[0])?;
    let n = index_arg("pointer->bytevector", args[1])?;
    let bv = object::make_bytevector(n, 0);
    // SAFETY: the user says `n` bytes are readable at `a`; the fresh
    // bytevector holds `n` bytes.
    unsafe { std::ptr::copy_nonoverlapping(a as *const u8, bv.payload_ptr(1) as *mut u8, n) };
    Ok(bv)
}

/// `(make-immobile-bytevector n [fill])`: a bytevector the collector never
/// moves, whose address C may keep (`bytevector->pointer`).
fn make_immobile_bytevector(args: &[Value]) -> VResult {
    let n = index_arg("make-immobile-bytevector", args[0])?;
    let fill = match opt_arg(args, 1) {
        Some(f) => match f.fixnum_value() {
            Some(b @ 0..=255) => b as u8,
            _ => return Err(error::wrong_type("make-immobile-bytevector", "a byte", f)),
        },
        None => 0,
    };
    let v = gc::alloc_immobile(ObjType::Bytevector, 1 + n.div_ceil(8));
    v.set_raw(0, n as u64);
    object::bytevector_bytes_mut(v).fill(fill);
    Ok(v)
}

fn immobile_p(args: &[Value]) -> VResult {
    Ok(Value::bool(gc::is_immobile(args[0])))
}

/// `(bytevector->pointer bv)`: the address of an immobile bytevector's
/// bytes (movable ones are refused: the address would go stale).
fn bytevector_to_pointer(args: &[Value]) -> VResult {
    let bv = args[0];
    check_type(
        "bytevector->pointer",
        "a bytevector",
        bv,
        ObjType::Bytevector,
    )?;
    if !gc::is_immobile(bv) {
        return Err(other(
            "bytevector->pointer",
            "the bytevector can move (make it with make-immobile-bytevector)",
            &[],
        ));
    }
    Ok(make_pointer(bv.payload_ptr(1) as u64))
}

pub(super) const CALLS: &[Builtin] = &[
    fixed("dlopen", 1, dlopen),
    fixed("dlsym", 2, dlsym),
    var("c-call", 1, c_call),
    opt("c-register", 2, 1, c_register),
    fixed("c-registered?", 1, c_registered_p),
    fixed("c-callback", 2, c_callback),
    fixed("c-callback-free", 1, c_callback_free),
    fixed("errno", 0, errno),
    fixed("pointer?", 1, pointer_p),
    fixed("null-pointer?", 1, null_pointer_p),
    fixed("pointer->integer", 1, pointer_to_integer),
    fixed("integer->pointer", 1, integer_to_pointer),
    fixed("pointer+", 2, pointer_add),
    fixed("pointer=?", 2, pointer_eq),
    fixed("malloc", 1, malloc),
    fixed("free", 1, free),
    opt("pointer->string", 1, 1, pointer_to_string),
    fixed("string->pointer", 1, string_to_pointer),
    fixed("pointer->bytevector", 2, pointer_to_bytevector),
    opt("make-immobile-bytevector", 1, 1, make_immobile_bytevector),
    fixed("immobile?", 1, immobile_p),
    fixed("bytevector->pointer", 1, bytevector_to_pointer),
    fixed("%make-c-function", 4, crate::ffi::typed::make_c_function),
];
