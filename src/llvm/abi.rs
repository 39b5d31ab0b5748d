//! Layout facts the generated code relies on, taken from the runtime so the
//! two cannot drift apart.

use valk_runtime::rt;
use valk_runtime::value::{self, make_header, ObjType, Value};

pub const TAG_PAIR: u64 = value::TAG_PAIR;
pub const TAG_OBJECT: u64 = value::TAG_OBJECT;
pub const TAG_CLOSURE: u64 = value::TAG_CLOSURE;

pub const FALSE: u64 = Value::FALSE.0;
pub const TRUE: u64 = Value::TRUE.0;
pub const NIL: u64 = Value::NIL.0;
pub const UNSPECIFIED: u64 = Value::UNSPECIFIED.0;
pub const UNDEFINED: u64 = Value::UNDEFINED.0;
pub const EXCEPTION: u64 = Value::EXCEPTION.0;
/// Low byte of every character value (tag and subtype).
pub const CHAR_LOW_BYTE: u64 = (value::IMM_CHAR << 3) | value::TAG_IMMEDIATE;

pub fn char_value(c: char) -> u64 {
    Value::char(c).0
}

pub fn header(ty: ObjType, size: usize) -> u64 {
    make_header(ty, size)
}

/// Payload word of a compiled closure holding the fast entry, and the first
/// captured value.
pub const CLOSURE_FAST_ENTRY: usize = rt::CLOSURE_FAST_ENTRY;
pub const CLOSURE_FIRST_CAPTURE: usize = rt::CLOSURE_FIRST_CAPTURE;
/// Arguments a fast entry takes in registers (`a0 a1 a2 a3x`).
pub const FAST_ARGS: usize = rt::FAST_ARGS;
/// Most parameters a direct entry takes in registers; beyond, the last one
/// is a vector of the rest (no Valk function takes stack arguments).
pub const MAX_DIRECT_PARAMS: usize = 6;

/// Byte offset from a tagged pointer with tag `tag` to payload word `i`.
pub fn field_offset(tag: u64, i: usize) -> i64 {
    8 * (i as i64 + 1) - tag as i64
}

/// The version of the program descriptor the runtime expects.
pub const ABI_VERSION: u64 = valk_runtime::aot::ABI_VERSION;
