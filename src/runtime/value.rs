//! The value representation: one 64-bit tagged word.
//!
//! ```text
//!  low 3 bits   meaning
//!  000          fixnum, value = n << 3 (61-bit signed)
//!  001          pair        (pointer to header | 1)
//!  011          other heap object (pointer to header | 3), type in header
//!  101          closure     (pointer to header | 5)
//!  110          immediate: bits 3..8 subtype, bits 8.. payload
//!  010 100 111  reserved (111 never appears in a value: it marks headers)
//! ```
//! Every heap pointer has the low bit set, so `is_heap` is one test. A heap
//! pointer points at the object's header word; field `i` lives at
//! `(v - tag) + 8 * (i + 1)`.
//!
//! Header word: bits 0..3 = `111`, bits 3..11 = [`ObjType`], bits 16..64 =
//! payload size in words (not counting the header). A forwarded header holds
//! the new tagged value instead, whose low bits are never `111`.

use std::fmt;

#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value(pub u64);

pub const TAG_BITS: u32 = 3;
pub const TAG_MASK: u64 = 7;
pub const TAG_FIXNUM: u64 = 0;
pub const TAG_PAIR: u64 = 1;
pub const TAG_OBJECT: u64 = 3;
pub const TAG_CLOSURE: u64 = 5;
pub const TAG_IMMEDIATE: u64 = 6;

/// Immediate subtypes (bits 3..8 of an immediate).
pub const IMM_BOOL: u64 = 0;
pub const IMM_NIL: u64 = 1;
pub const IMM_UNSPECIFIED: u64 = 2;
pub const IMM_EOF: u64 = 3;
pub const IMM_CHAR: u64 = 4;
/// Marks an unbound global or a `letrec` variable read before its init.
pub const IMM_UNDEFINED: u64 = 5;
/// Returned through the C ABI when an exception is pending (see `error.rs`).
pub const IMM_EXCEPTION: u64 = 6;
/// The default value of an optional argument not supplied.
pub const IMM_DEFAULT: u64 = 7;
/// The broken-weak-pointer object `#!bwp`: what a collection leaves in a
/// weak field whose object died (docs/gc.md, "Weak references,
/// ephemerons and guardians").
pub const IMM_BWP: u64 = 8;

pub const FIXNUM_BITS: u32 = 61;
pub const FIXNUM_MAX: i64 = (1i64 << (FIXNUM_BITS - 1)) - 1;
pub const FIXNUM_MIN: i64 = -(1i64 << (FIXNUM_BITS - 1));

const fn imm(sub: u64, payload: u64) -> Value {
    Value((payload << 8) | (sub << 3) | TAG_IMMEDIATE)
}

/// Heap object types, stored in the header.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjType {
    /// [car, cdr]
    Pair = 1,
    /// [name: string]
    Symbol = 2,
    /// [length (raw), UTF-32 code points packed two per word (raw)]
    String = 3,
    /// [elements...]
    Vector = 4,
    /// [length (raw), bytes (raw)]
    Bytevector = 5,
    /// [f64 bits (raw)]
    Flonum = 6,
    /// [entry (raw code pointer), info (raw `*const ProcInfo`), captured values...]
    Closure = 7,
    /// [value] — an assigned variable captured by a closure.
    Box = 8,
    /// [record type, fields...]
    Record = 9,
    /// [name: symbol, field names: list of symbols, field count: fixnum]
    RecordType = 10,
    /// [raw pointer]
    Foreign = 11,
    /// [values...] — the result of `(values ...)` with other than one value.
    Values = 12,
    /// [kind: symbol, message: string, irritants: list] — an error object.
    Condition = 13,
    /// [sign and limb count (raw): bit 63 = negative, low bits = count;
    /// little-endian u64 limbs (raw)] — an exact integer outside the
    /// fixnum range (docs/numbers.md).
    Bignum = 14,
    /// [numerator, denominator] — an exact non-integer rational in lowest
    /// terms; the denominator is above 1 (docs/numbers.md).
    Rational = 15,
    /// [buffer: bytevector (registers, segment records, saved stack bytes),
    /// winders, handlers, parameters, saved root-stack slots: vector] — a
    /// captured continuation (docs/continuations.md); the collector also
    /// updates the compiled frames inside the buffer.
    Continuation = 16,
    /// [real part, imaginary part] — a non-real complex number: both parts
    /// exact (the imaginary part non-zero) or both flonums.
    Complex = 17,
    /// [port id (raw)] — an input or output port; its state lives in the
    /// runtime's port table, which holds the object weakly (docs/ports.md).
    Port = 18,
    /// [equality kind, hash kind, equivalence procedure, hash procedure,
    /// count, used slots, entries: vector of key/value pairs, hashes:
    /// bytevector of u64, collection epoch, flags] — a hash table
    /// (docs/hash-tables.md).
    HashTable = 19,
    /// [environment number (raw)] — a first-class top-level environment
    /// (`environment`, `interaction-environment`); the number is the
    /// expander's `EnvId` (docs/libraries.md, "eval").
    Environment = 20,
    /// [car (weak), cdr] — a weak pair (`weak-cons`): the collector does
    /// not trace the car, and replaces it with `#!bwp` when its object
    /// dies. Not a `Pair`: `car` and `pair?` reject it (docs/gc.md, "Weak
    /// references, ephemerons and guardians").
    WeakPair = 21,
    /// [key (weak), datum] — an ephemeron: the datum is traced only once
    /// the key is found live; both become `#!bwp` when the key dies.
    Ephemeron = 22,
    /// [key, value, key, value, ...] — the entries of a weak hash table:
    /// each key/value pair is an ephemeron (docs/hash-tables.md); a dead
    /// key's pair becomes a deleted slot.
    WeakEntries = 23,
}

impl ObjType {
    pub fn from_u8(b: u8) -> Option<ObjType> {
        use ObjType::*;
        Some(match b {
            1 => Pair,
            2 => Symbol,
            3 => String,
            4 => Vector,
            5 => Bytevector,
            6 => Flonum,
            7 => Closure,
            8 => Box,
            9 => Record,
            10 => RecordType,
            11 => Foreign,
            12 => Values,
            13 => Condition,
            14 => Bignum,
            15 => Rational,
            16 => Continuation,
            17 => Complex,
            18 => Port,
            19 => HashTable,
            20 => Environment,
            21 => WeakPair,
            22 => Ephemeron,
            23 => WeakEntries,
            _ => return None,
        })
    }

    /// The payload words the collector traces: `start..size` (end is the
    /// object size). Raw types trace nothing; weak types trace only their
    /// strong fields here, the rest is the collector's weak processing
    /// (`gc::weak`).
    pub fn traced_from(self, size: usize) -> usize {
        use ObjType::*;
        match self {
            String | Bytevector | Flonum | Foreign | Bignum | Port | Environment => size,
            Ephemeron | WeakEntries => size,
            Closure => 2,
            WeakPair => 1,
            _ => 0,
        }
    }

    /// Has fields the collector does not trace strongly (see
    /// `traced_from`).
    #[inline]
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            ObjType::WeakPair | ObjType::Ephemeron | ObjType::WeakEntries
        )
    }

    /// The tag a pointer to an object of this type carries.
    pub fn tag(self) -> u64 {
        match self {
            ObjType::Pair => TAG_PAIR,
            ObjType::Closure => TAG_CLOSURE,
            _ => TAG_OBJECT,
        }
    }
}

pub const HEADER_MARK: u64 = 7;

#[inline]
pub const fn make_header(ty: ObjType, size_words: usize) -> u64 {
    ((size_words as u64) << 16) | ((ty as u64) << 3) | HEADER_MARK
}
#[inline]
pub fn header_type(h: u64) -> Option<ObjType> {
    ObjType::from_u8(((h >> 3) & 0xff) as u8)
}
#[inline]
pub fn header_size(h: u64) -> usize {
    (h >> 16) as usize
}
#[inline]
pub fn header_is_forward(h: u64) -> bool {
    h & TAG_MASK != HEADER_MARK
}

/// The word a collection writes over the car of a pair it has copied (the
/// new address goes in the cdr). Pairs have no header (docs/gc.md,
/// "Objects"), and no value ends in `111`, so a car never looks like it.
pub const PAIR_FORWARD: u64 = make_header(ObjType::Pair, 0);

/// Bytes of a pair: its car and cdr, no header.
pub const PAIR_BYTES: u64 = 16;

impl Value {
    pub const FALSE: Value = imm(IMM_BOOL, 0);
    pub const TRUE: Value = imm(IMM_BOOL, 1);
    pub const NIL: Value = imm(IMM_NIL, 0);
    pub const UNSPECIFIED: Value = imm(IMM_UNSPECIFIED, 0);
    pub const EOF: Value = imm(IMM_EOF, 0);
    pub const UNDEFINED: Value = imm(IMM_UNDEFINED, 0);
    pub const EXCEPTION: Value = imm(IMM_EXCEPTION, 0);
    pub const DEFAULT: Value = imm(IMM_DEFAULT, 0);
    pub const BWP: Value = imm(IMM_BWP, 0);

    #[inline]
    pub fn tag(self) -> u64 {
        self.0 & TAG_MASK
    }

    // ---- fixnums ----
    /// A fixnum; the caller guarantees `FIXNUM_MIN <= n <= FIXNUM_MAX`.
    #[inline]
    pub fn fixnum(n: i64) -> Value {
        debug_assert!((FIXNUM_MIN..=FIXNUM_MAX).contains(&n));
        Value((n << TAG_BITS) as u64)
    }
    /// A fixnum if `n` fits.
    #[inline]
    pub fn try_fixnum(n: i64) -> Option<Value> {
        if (FIXNUM_MIN..=FIXNUM_MAX).contains(&n) {
            Some(Value((n << TAG_BITS) as u64))
        } else {
            None
        }
    }
    #[inline]
    pub fn is_fixnum(self) -> bool {
        self.0 & TAG_MASK == TAG_FIXNUM
    }
    #[inline]
    pub fn as_fixnum(self) -> i64 {
        (self.0 as i64) >> TAG_BITS
    }
    #[inline]
    pub fn fixnum_value(self) -> Option<i64> {
        if self.is_fixnum() {
            Some(self.as_fixnum())
        } else {
            None
        }
    }

    // ---- immediates ----
    #[inline]
    pub fn bool(b: bool) -> Value {
        if b {
            Value::TRUE
        } else {
            Value::FALSE
        }
    }
    /// Scheme truth: everything but `#f` is true.
    #[inline]
    pub fn is_true(self) -> bool {
        self != Value::FALSE
    }
    #[inline]
    pub fn is_bool(self) -> bool {
        self == Value::TRUE || self == Value::FALSE
    }
    #[inline]
    pub fn is_immediate(self) -> bool {
        self.0 & TAG_MASK == TAG_IMMEDIATE
    }
    #[inline]
    pub fn imm_subtype(self) -> u64 {
        (self.0 >> 3) & 0x1f
    }
    #[inline]
    pub fn char(c: char) -> Value {
        imm(IMM_CHAR, c as u64)
    }
    #[inline]
    pub fn is_char(self) -> bool {
        self.is_immediate() && self.imm_subtype() == IMM_CHAR
    }
    /// The character of a char value (caller checked `is_char`).
    #[inline]
    pub fn as_char(self) -> char {
        char::from_u32((self.0 >> 8) as u32).unwrap_or('\u{FFFD}')
    }
    #[inline]
    pub fn is_nil(self) -> bool {
        self == Value::NIL
    }

    // ---- heap objects ----
    #[inline]
    pub fn is_heap(self) -> bool {
        self.0 & 1 == 1
    }
    #[inline]
    pub fn is_pair(self) -> bool {
        self.0 & TAG_MASK == TAG_PAIR
    }
    #[inline]
    pub fn is_closure(self) -> bool {
        self.0 & TAG_MASK == TAG_CLOSURE
    }
    /// Address of the header word. A pair has none: its address is that of
    /// the word before its car (docs/gc.md, "Objects"), so that field `i`
    /// is at `addr + 8 * (i + 1)` for every object.
    #[inline]
    pub fn addr(self) -> *mut u64 {
        (self.0 & !TAG_MASK) as *mut u64
    }
    /// Build a tagged pointer to the object whose header is at `addr` (for
    /// a pair, the word before its car: see [`Value::pair_at`]).
    #[inline]
    pub fn from_addr(addr: *mut u64, ty: ObjType) -> Value {
        Value(addr as u64 | ty.tag())
    }
    /// The pair whose car is the word at `car`.
    #[inline]
    pub fn pair_at(car: *mut u64) -> Value {
        Value((car as u64 - 8) | TAG_PAIR)
    }
    /// The first word of the object's memory: its header, or a pair's car.
    #[inline]
    pub fn start(self) -> *mut u64 {
        if self.is_pair() {
            self.addr().wrapping_add(1)
        } else {
            self.addr()
        }
    }
    /// The header of an object other than a pair.
    #[inline]
    pub fn header(self) -> u64 {
        debug_assert!(self.is_heap() && !self.is_pair());
        // SAFETY: a heap-tagged `Value` refers to a live object of the heap (the runtime's invariant, docs/gc.md), whose first word is its header (pairs, which have none, are excluded by the callers).
        unsafe { *self.addr() }
    }
    /// The heap type of this value, `None` for immediates and fixnums.
    #[inline]
    pub fn obj_type(self) -> Option<ObjType> {
        if self.is_pair() {
            Some(ObjType::Pair)
        } else if self.is_heap() {
            header_type(self.header())
        } else {
            None
        }
    }
    #[inline]
    pub fn has_type(self, ty: ObjType) -> bool {
        // The tag first: a pair has no header to read.
        self.0 & TAG_MASK == ty.tag()
            && (ty == ObjType::Pair || ((self.header() >> 3) & 0xff) == ty as u64)
    }
    /// Payload size in words.
    #[inline]
    pub fn size(self) -> usize {
        if self.is_pair() {
            2
        } else {
            header_size(self.header())
        }
    }
    #[inline]
    fn field_ptr(self, i: usize) -> *mut u64 {
        self.addr().wrapping_add(i + 1)
    }
    /// The one place payload words are read: every typed field accessor
    /// goes through here (and [`Value::write_word`]).
    #[inline]
    fn read_word(self, i: usize) -> u64 {
        // SAFETY: a heap-tagged `Value` refers to a live object of the heap (the runtime's invariant, docs/gc.md),
        // and callers pass `i` below its payload size (checked in debug
        // builds), so the word is inside the object and 8-aligned.
        unsafe { *self.field_ptr(i) }
    }
    #[inline]
    fn write_word(self, i: usize, w: u64) {
        // SAFETY: as in `read_word`; the runtime is single-threaded and
        // holds no Rust reference into heap objects across this write.
        unsafe { *self.field_ptr(i) = w }
    }
    /// Payload word `i` as a value (caller checked type and bounds).
    #[inline]
    pub fn field(self, i: usize) -> Value {
        debug_assert!(i < self.size());
        Value(self.read_word(i))
    }
    #[inline]
    pub fn set_field(self, i: usize, v: Value) {
        debug_assert!(i < self.size());
        // Every store of a value into the heap from Rust comes here, so
        // this is the runtime's one write barrier (docs/gc.md).
        crate::gc::write_barrier(self.field_ptr(i), v);
        self.write_word(i, v.0)
    }
    /// Initialises field `i` of an object allocated with no allocation
    /// since: no write barrier, because the object is still in the nursery,
    /// or is a large object that the next minor collection scans whole
    /// (docs/gc.md, "Write barrier"). Anything else must use `set_field`.
    #[inline]
    pub fn init_field(self, i: usize, v: Value) {
        debug_assert!(i < self.size());
        self.write_word(i, v.0)
    }
    /// Payload word `i` as a raw word.
    #[inline]
    pub fn raw(self, i: usize) -> u64 {
        self.read_word(i)
    }
    #[inline]
    pub fn set_raw(self, i: usize, w: u64) {
        self.write_word(i, w)
    }
    /// Pointer to payload word `i` (for raw byte/char data).
    #[inline]
    pub fn payload_ptr(self, i: usize) -> *mut u64 {
        self.field_ptr(i)
    }

    // ---- typed accessors (caller checked the type) ----
    #[inline]
    pub fn car(self) -> Value {
        self.field(0)
    }
    #[inline]
    pub fn cdr(self) -> Value {
        self.field(1)
    }
    #[inline]
    pub fn set_car(self, v: Value) {
        self.set_field(0, v)
    }
    #[inline]
    pub fn set_cdr(self, v: Value) {
        self.set_field(1, v)
    }
    pub fn is_flonum(self) -> bool {
        self.has_type(ObjType::Flonum)
    }
    pub fn as_flonum(self) -> f64 {
        f64::from_bits(self.raw(0))
    }
    pub fn is_string(self) -> bool {
        self.has_type(ObjType::String)
    }
    pub fn is_symbol(self) -> bool {
        self.has_type(ObjType::Symbol)
    }
    pub fn is_vector(self) -> bool {
        self.has_type(ObjType::Vector)
    }
    /// Any number of the tower: a fixnum, or a flonum, bignum, exact
    /// rational or complex object.
    pub fn is_number(self) -> bool {
        self.is_fixnum()
            || matches!(
                self.obj_type(),
                Some(ObjType::Flonum | ObjType::Bignum | ObjType::Rational | ObjType::Complex)
            )
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_fixnum() {
            write!(f, "Value(fixnum {})", self.as_fixnum())
        } else {
            write!(f, "Value({:#x})", self.0)
        }
    }
}

/// Static description of a procedure, pointed to by word 1 of a closure.
/// Interpreter lambdas, builtins and compiled functions each provide one.
#[repr(C)]
pub struct ProcInfo {
    /// UTF-8 name (not NUL-terminated) or null for anonymous procedures.
    pub name: *const u8,
    pub name_len: usize,
    /// Required parameter count.
    pub required: u32,
    /// Optional parameters beyond `required` (builtins only).
    pub optional: u32,
    /// Non-zero when extra arguments go into a rest list.
    pub rest: u32,
    /// Engine-specific data (the interpreter's lambda index, ...).
    pub data: usize,
}

// SAFETY: a `ProcInfo` is immutable after creation and its `name` points at
// static (or leaked) text that is never written.
unsafe impl Sync for ProcInfo {}

impl ProcInfo {
    pub fn name(&self) -> Option<&str> {
        if self.name.is_null() {
            None
        } else {
            // SAFETY: a non-null `name` points at `name_len` bytes that live
            // as long as the `ProcInfo` (static text of the runtime or a
            // compiled module, or leaked by the interpreter).
            let bytes = unsafe { std::slice::from_raw_parts(self.name, self.name_len) };
            std::str::from_utf8(bytes).ok()
        }
    }
}

/// The generic entry of every closure (word 0): `self`, argument count and a
/// pointer to the arguments, which must live in rooted memory (the runtime's
/// root stack) because the callee may collect. Returns the result, or
/// [`Value::EXCEPTION`] with an exception pending.
pub type GenericEntry = unsafe extern "C" fn(Value, u64, *const Value) -> Value;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixnum_roundtrip() {
        for n in [0i64, 1, -1, FIXNUM_MAX, FIXNUM_MIN, 12345, -98765] {
            let v = Value::fixnum(n);
            assert!(v.is_fixnum());
            assert!(!v.is_heap());
            assert_eq!(v.as_fixnum(), n);
        }
        assert!(Value::try_fixnum(FIXNUM_MAX + 1).is_none());
    }

    #[test]
    fn immediates_are_distinct() {
        let all = [
            Value::FALSE,
            Value::TRUE,
            Value::NIL,
            Value::UNSPECIFIED,
            Value::EOF,
            Value::UNDEFINED,
            Value::EXCEPTION,
            Value::DEFAULT,
            Value::BWP,
            Value::char('a'),
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.is_immediate() && !a.is_heap() && !a.is_fixnum());
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(!Value::FALSE.is_true());
        assert!(Value::NIL.is_true());
        assert_eq!(Value::char('λ').as_char(), 'λ');
        assert_eq!(Value::char('\u{10FFFF}').as_char(), '\u{10FFFF}');
    }

    #[test]
    fn headers() {
        let h = make_header(ObjType::Vector, 12345);
        assert_eq!(header_type(h), Some(ObjType::Vector));
        assert_eq!(header_size(h), 12345);
        assert!(!header_is_forward(h));
        assert!(header_is_forward(0x1000 | TAG_PAIR));
    }
}
