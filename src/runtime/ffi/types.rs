//! C types of foreign signatures and the conversions between Valk values
//! and C values (docs/ffi.md, "Types").

use crate::error::{self, Raised, VResult};
use crate::gc;
use crate::num;
use crate::object;
use crate::value::{ObjType, Value};

/// A C type of a foreign signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CType {
    Void,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Float,
    Double,
    Bool,
    /// An address: a foreign pointer, `#f` (NULL), an exact integer, a
    /// bytevector (its bytes) or a string (a C copy, as for `String`).
    Pointer,
    /// A NUL-terminated UTF-8 copy of a Valk string (freed after the call),
    /// `#f` (NULL) or a foreign pointer (passed as is); as a result, a C
    /// string copied into a Valk string.
    String,
    /// A bytevector's bytes (or `#f` for NULL).
    Bytevector,
}

impl CType {
    /// The type named `name`, as written in signatures.
    pub fn from_name(name: &str) -> Option<CType> {
        Some(match name {
            "void" => CType::Void,
            "int8" | "char" | "schar" => CType::I8,
            "int16" | "short" => CType::I16,
            "int32" | "int" => CType::I32,
            "int64" | "long" | "longlong" | "ssize_t" | "intptr_t" | "ptrdiff_t" => CType::I64,
            "uint8" | "uchar" => CType::U8,
            "uint16" | "ushort" => CType::U16,
            "uint32" | "uint" => CType::U32,
            "uint64" | "ulong" | "ulonglong" | "size_t" | "uintptr_t" => CType::U64,
            "float" => CType::Float,
            "double" => CType::Double,
            "bool" => CType::Bool,
            "pointer" | "void*" => CType::Pointer,
            "string" => CType::String,
            "bytevector" => CType::Bytevector,
            _ => return None,
        })
    }

    /// The canonical name (error messages, printing).
    pub fn name(self) -> &'static str {
        match self {
            CType::Void => "void",
            CType::I8 => "int8",
            CType::I16 => "int16",
            CType::I32 => "int",
            CType::I64 => "int64",
            CType::U8 => "uint8",
            CType::U16 => "uint16",
            CType::U32 => "uint32",
            CType::U64 => "uint64",
            CType::Float => "float",
            CType::Double => "double",
            CType::Bool => "bool",
            CType::Pointer => "pointer",
            CType::String => "string",
            CType::Bytevector => "bytevector",
        }
    }

    /// The range of an integer type, `None` for the others.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            CType::I8 => (i8::MIN as i128, i8::MAX as i128),
            CType::I16 => (i16::MIN as i128, i16::MAX as i128),
            CType::I32 => (i32::MIN as i128, i32::MAX as i128),
            CType::I64 => (i64::MIN as i128, i64::MAX as i128),
            CType::U8 => (0, u8::MAX as i128),
            CType::U16 => (0, u16::MAX as i128),
            CType::U32 => (0, u32::MAX as i128),
            CType::U64 => (0, u64::MAX as i128),
            _ => return None,
        })
    }
}

/// A foreign function's signature: result type, argument types, and
/// whether more (variadic) arguments may follow the fixed ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub ret: CType,
    pub args: Vec<CType>,
    pub variadic: bool,
}

impl Signature {
    /// The signature written as the list `(ret arg ...)`, optionally ending
    /// in the symbol `...` (variadic).
    pub fn parse(who: &str, spec: Value) -> VResult<Signature> {
        let items = object::list_to_vec(spec).ok_or_else(|| bad_signature(who, spec))?;
        let Some((&ret, args)) = items.split_first() else {
            return Err(bad_signature(who, spec));
        };
        Self::parse_parts(who, ret, args, spec)
    }

    /// The signature from its result type and its argument list (the
    /// order of `define-c-function`).
    pub fn parse_split(who: &str, args: Value, ret: Value) -> VResult<Signature> {
        let items = object::list_to_vec(args).ok_or_else(|| bad_signature(who, args))?;
        Self::parse_parts(who, ret, &items, args)
    }

    fn parse_parts(who: &str, ret: Value, args: &[Value], whole: Value) -> VResult<Signature> {
        let ret = parse_type(who, ret)?;
        let (args, variadic) = match args.split_last() {
            Some((&last, fixed)) if is_ellipsis(last) => (fixed, true),
            _ => (args, false),
        };
        let args = args
            .iter()
            .map(|&a| match parse_type(who, a)? {
                CType::Void => Err(error::error(
                    error::ErrorKind::Other,
                    &format!("{who}: void is not an argument type"),
                    &[whole],
                )),
                t => Ok(t),
            })
            .collect::<VResult<Vec<_>>>()?;
        if ret == CType::Bytevector {
            return Err(error::error(
                error::ErrorKind::Other,
                &format!("{who}: bytevector is not a result type (use pointer)"),
                &[whole],
            ));
        }
        Ok(Signature {
            ret,
            args,
            variadic,
        })
    }

    /// `(ret arg ...)` as text, for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("({}", self.ret.name());
        for a in &self.args {
            s.push(' ');
            s.push_str(a.name());
        }
        if self.variadic {
            s.push_str(" ...");
        }
        s.push(')');
        s
    }
}

fn is_ellipsis(v: Value) -> bool {
    v.is_symbol() && object::symbol_name(v) == "..."
}

fn parse_type(who: &str, v: Value) -> VResult<CType> {
    if v.is_symbol() {
        if let Some(t) = CType::from_name(&object::symbol_name(v)) {
            return Ok(t);
        }
    }
    Err(error::error(
        error::ErrorKind::Other,
        &format!("{who}: unknown C type"),
        &[v],
    ))
}

fn bad_signature(who: &str, v: Value) -> Raised {
    error::wrong_type(who, "a signature list (result-type argument-type ...)", v)
}

/// A C argument value in a word (or two: libffi reads the low bytes of the
/// word for narrower types on this little-endian target).
pub type Word = u64;

/// What a bytevector argument needs after the call: movable bytevectors
/// are passed as a malloc'd copy whose bytes are copied back (docs/ffi.md,
/// "Bytevectors").
pub struct Temp {
    /// malloc'd memory to free after the call.
    pub buffer: *mut u8,
    /// The bytevector to copy the buffer back into, as a root stack slot
    /// (the caller resets the root stack after [`finish_temps`]), and its
    /// length.
    pub copy_back: Option<(usize, usize)>,
}

/// The exact integer in `v` as an `i128`, checked against `ty`'s range.
fn int_arg(who: &str, i: usize, ty: CType, v: Value) -> VResult<Word> {
    let Some(n) = num::small_int(v) else {
        if v.has_type(ObjType::Bignum) {
            return Err(does_not_fit(who, i, ty, v));
        }
        return Err(arg_type(who, i, "an exact integer", v));
    };
    let (lo, hi) = ty.int_range().expect("an integer type");
    if n < lo || n > hi {
        return Err(does_not_fit(who, i, ty, v));
    }
    Ok(n as i64 as u64)
}

/// The position [`to_c`] converts for a callback's result.
pub const RESULT: usize = usize::MAX;

/// `argument N` or `result`, for messages.
fn position(i: usize) -> String {
    if i == RESULT {
        "result".to_string()
    } else {
        format!("argument {}", i + 1)
    }
}

fn arg_type(who: &str, i: usize, expected: &str, v: Value) -> Raised {
    error::error(
        error::ErrorKind::WrongType,
        &format!("{who}: {}: expected {expected}", position(i)),
        &[v],
    )
}

fn does_not_fit(who: &str, i: usize, ty: CType, v: Value) -> Raised {
    error::error(
        error::ErrorKind::Range,
        &format!(
            "{who}: {}: value does not fit the C type {}",
            position(i),
            ty.name()
        ),
        &[v],
    )
}

/// The address a pointer argument denotes, or `None` when `v` is not one
/// of the pointer forms (bytevectors are handled by the caller).
pub fn pointer_value(v: Value) -> Option<u64> {
    if v == Value::FALSE {
        return Some(0);
    }
    if v.has_type(ObjType::Foreign) {
        return Some(v.raw(0));
    }
    match num::small_int(v) {
        Some(n) if (0..=u64::MAX as i128).contains(&n) => Some(n as u64),
        _ => None,
    }
}

/// A foreign pointer object for `addr`, `#f` for NULL.
pub fn make_pointer(addr: u64) -> Value {
    if addr == 0 {
        Value::FALSE
    } else {
        object::make_foreign(addr as *mut u8)
    }
}

/// The word holding argument `i` of type `ty` for value `v`. Strings and
/// movable bytevectors are copied to malloc'd memory recorded in `temps`
/// (freed, and copied back, by [`finish_temps`]). May allocate nothing on
/// the Valk heap, except roots for the copy-back.
pub fn to_c(who: &str, i: usize, ty: CType, v: Value, temps: &mut Vec<Temp>) -> VResult<Word> {
    match ty {
        CType::Void => Err(arg_type(who, i, "no value (void)", v)),
        CType::I8
        | CType::I16
        | CType::I32
        | CType::I64
        | CType::U8
        | CType::U16
        | CType::U32
        | CType::U64 => {
            if v.is_char() && matches!(ty, CType::I8 | CType::U8 | CType::I32 | CType::U32) {
                return int_arg(who, i, ty, Value::fixnum(v.as_char() as i64));
            }
            int_arg(who, i, ty, v)
        }
        CType::Float | CType::Double => {
            let x = real_arg(who, i, v)?;
            Ok(if ty == CType::Float {
                (x as f32).to_bits() as u64
            } else {
                x.to_bits()
            })
        }
        CType::Bool => Ok(v.is_true() as u64),
        CType::Pointer => {
            if v.has_type(ObjType::Bytevector) {
                return Ok(bytevector_arg(v, temps));
            }
            if v.is_string() {
                // A read-only C copy, as for the `string` type.
                return to_c(who, i, CType::String, v, temps);
            }
            pointer_value(v).ok_or_else(|| {
                arg_type(
                    who,
                    i,
                    "a pointer, #f, an address, a bytevector or a string",
                    v,
                )
            })
        }
        CType::Bytevector => {
            if v == Value::FALSE {
                return Ok(0);
            }
            if !v.has_type(ObjType::Bytevector) {
                return Err(arg_type(who, i, "a bytevector", v));
            }
            Ok(bytevector_arg(v, temps))
        }
        CType::String => {
            if v == Value::FALSE {
                return Ok(0);
            }
            if v.has_type(ObjType::Foreign) {
                // C memory holding a string already.
                return Ok(v.raw(0));
            }
            if !v.is_string() {
                return Err(arg_type(who, i, "a string", v));
            }
            let p = c_string_copy(v).ok_or_else(|| {
                error::error(
                    error::ErrorKind::Other,
                    &format!("{who}: {}: string contains a NUL character", position(i)),
                    &[v],
                )
            })?;
            temps.push(Temp {
                buffer: p,
                copy_back: None,
            });
            Ok(p as u64)
        }
    }
}

fn real_arg(who: &str, i: usize, v: Value) -> VResult<f64> {
    if v.is_flonum() {
        return Ok(v.as_flonum());
    }
    match num::Num::of(v) {
        Some(n) if n.is_real() => Ok(n.to_f64()),
        _ => Err(arg_type(who, i, "a real number", v)),
    }
}

/// A malloc'd NUL-terminated UTF-8 copy of string `s`; `None` when it
/// contains NUL (C would see a shorter string).
pub fn c_string_copy(s: Value) -> Option<*mut u8> {
    let text = object::string_to_rust(s);
    if text.contains('\0') {
        return None;
    }
    // SAFETY: malloc of len + 1 bytes (never 0); checked for NULL below.
    let p = unsafe { libc::malloc(text.len() + 1) } as *mut u8;
    if p.is_null() {
        error::fatal("out of memory (malloc) in a foreign call");
    }
    // SAFETY: `p` has room for the bytes and the terminator.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len());
        *p.add(text.len()) = 0;
    }
    Some(p)
}

/// The address of bytevector `v`'s bytes for the duration of a call:
/// immobile bytevectors are passed directly; others are copied to malloc'd
/// memory and copied back after the call, since a callback may collect
/// and move them while C holds the address (docs/ffi.md, "Bytevectors").
fn bytevector_arg(v: Value, temps: &mut Vec<Temp>) -> u64 {
    let len = object::bytevector_len(v);
    let data = v.payload_ptr(1) as *mut u8;
    if gc::is_immobile(v) {
        return data as u64;
    }
    // SAFETY: malloc of at least one byte; checked for NULL below.
    let p = unsafe { libc::malloc(len.max(1)) } as *mut u8;
    if p.is_null() {
        error::fatal("out of memory (malloc) in a foreign call");
    }
    // SAFETY: `data` holds `len` bytes; `p` has room for them.
    unsafe { std::ptr::copy_nonoverlapping(data, p, len) };
    temps.push(Temp {
        buffer: p,
        copy_back: Some((gc::push_root(v), len)),
    });
    p as u64
}

/// Copies movable bytevectors back from their buffers and frees every
/// temporary buffer of a call.
pub fn finish_temps(temps: &mut Vec<Temp>) {
    for t in temps.drain(..) {
        if let Some((slot, len)) = t.copy_back {
            let bv = gc::root_get(slot);
            // SAFETY: the buffer holds `len` bytes copied from the
            // bytevector, whose length never changes; `bv` is its current
            // address (the root was updated by any collection).
            unsafe { std::ptr::copy_nonoverlapping(t.buffer, bv.payload_ptr(1) as *mut u8, len) };
        }
        // SAFETY: `buffer` came from malloc and is freed once.
        unsafe { libc::free(t.buffer as *mut libc::c_void) };
    }
}

/// The Valk value of a C result (or callback argument) `w` of type `ty`.
/// May allocate.
pub fn from_c(ty: CType, w: Word) -> Value {
    match ty {
        CType::Void => Value::UNSPECIFIED,
        CType::I8 => Value::fixnum(w as i8 as i64),
        CType::I16 => Value::fixnum(w as i16 as i64),
        CType::I32 => Value::fixnum(w as i32 as i64),
        CType::I64 => num::int_value(w as i64 as i128),
        CType::U8 => Value::fixnum(w as u8 as i64),
        CType::U16 => Value::fixnum(w as u16 as i64),
        CType::U32 => Value::fixnum(w as u32 as i64),
        CType::U64 => num::int_value(w as i128),
        CType::Float => object::make_flonum(f32::from_bits(w as u32) as f64),
        CType::Double => object::make_flonum(f64::from_bits(w)),
        CType::Bool => Value::bool(w as u8 != 0),
        CType::Pointer | CType::Bytevector => make_pointer(w),
        CType::String => {
            if w == 0 {
                return Value::FALSE;
            }
            // SAFETY: C returned a NUL-terminated string (the signature
            // says so); it is read, not kept.
            let bytes = unsafe { std::ffi::CStr::from_ptr(w as *const libc::c_char) }.to_bytes();
            object::string_from(&String::from_utf8_lossy(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::lock;

    fn sig(text: &[&str]) -> VResult<Signature> {
        let items: Vec<Value> = text.iter().map(|s| object::intern(s)).collect();
        Signature::parse("t", object::list_from(&items))
    }

    #[test]
    fn signatures() {
        let _l = lock();
        let s = sig(&["int", "pointer", "size_t", "..."]).unwrap();
        assert_eq!(s.ret, CType::I32);
        assert_eq!(s.args, vec![CType::Pointer, CType::U64]);
        assert!(s.variadic);
        assert_eq!(s.describe(), "(int pointer uint64 ...)");
        assert!(sig(&["void"]).unwrap().args.is_empty());
        assert!(sig(&[]).is_err());
        assert!(sig(&["int", "frob"]).is_err());
        assert!(sig(&["int", "void"]).is_err());
        assert!(sig(&["bytevector"]).is_err());
    }

    #[test]
    fn integer_ranges_and_conversions() {
        let _l = lock();
        let mut temps = Vec::new();
        let conv = |t, v, temps: &mut Vec<Temp>| to_c("t", 0, t, v, temps);
        assert_eq!(
            conv(CType::I8, Value::fixnum(-128), &mut temps).unwrap() as i8,
            -128
        );
        assert!(conv(CType::I8, Value::fixnum(128), &mut temps).is_err());
        assert!(conv(CType::U8, Value::fixnum(-1), &mut temps).is_err());
        assert_eq!(
            conv(CType::U32, Value::fixnum(u32::MAX as i64), &mut temps).unwrap(),
            u32::MAX as u64
        );
        let big = num::int_value(u64::MAX as i128);
        assert_eq!(conv(CType::U64, big, &mut temps).unwrap(), u64::MAX);
        assert!(conv(CType::I64, big, &mut temps).is_err());
        let x = conv(CType::Double, Value::fixnum(3), &mut temps).unwrap();
        assert_eq!(f64::from_bits(x), 3.0);
        let f = conv(CType::Float, object::make_flonum(0.5), &mut temps).unwrap();
        assert_eq!(f32::from_bits(f as u32), 0.5);
        assert_eq!(conv(CType::Bool, Value::FALSE, &mut temps).unwrap(), 0);
        assert_eq!(conv(CType::Pointer, Value::FALSE, &mut temps).unwrap(), 0);
        assert!(temps.is_empty());
        assert_eq!(from_c(CType::I8, 0xff), Value::fixnum(-1));
        assert_eq!(from_c(CType::U16, 0xffff_ffff), Value::fixnum(0xffff));
        assert_eq!(from_c(CType::Pointer, 0), Value::FALSE);
        assert!(from_c(CType::Pointer, 16).has_type(ObjType::Foreign));
    }

    #[test]
    fn strings_are_copied_and_freed() {
        let _l = lock();
        let mut temps = Vec::new();
        let s = object::string_from("héllo");
        let p = to_c("t", 0, CType::String, s, &mut temps).unwrap();
        // SAFETY: `p` is the NUL-terminated copy just made.
        let c = unsafe { std::ffi::CStr::from_ptr(p as *const libc::c_char) };
        assert_eq!(c.to_str().unwrap(), "héllo");
        assert_eq!(temps.len(), 1);
        finish_temps(&mut temps);
        assert!(temps.is_empty());
        let nul = object::string_from("a\0b");
        assert!(to_c("t", 0, CType::String, nul, &mut temps).is_err());
    }

    #[test]
    fn movable_bytevectors_are_copied_back() {
        let _l = lock();
        let sp = gc::root_sp();
        let mut temps = Vec::new();
        let bv = object::make_bytevector(4, 1);
        let p = to_c("t", 0, CType::Bytevector, bv, &mut temps).unwrap();
        assert_ne!(p, bv.payload_ptr(1) as u64, "a copy");
        // SAFETY: the copy holds 4 bytes.
        unsafe { *(p as *mut u8).add(2) = 9 };
        gc::collect();
        finish_temps(&mut temps);
        let bv = gc::root_get(sp);
        assert_eq!(object::bytevector_bytes_mut(bv), &[1, 1, 9, 1]);
        gc::set_root_sp(sp);
        let fixed = gc::alloc_immobile(ObjType::Bytevector, 2);
        fixed.set_raw(0, 8);
        let q = to_c("t", 0, CType::Pointer, fixed, &mut temps).unwrap();
        assert_eq!(q, fixed.payload_ptr(1) as u64, "passed in place");
        assert!(temps.is_empty());
    }
}
