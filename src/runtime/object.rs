//! Constructors and accessors for heap objects. Every constructor that
//! takes values roots them before allocating, so callers may pass unrooted
//! values; what a caller holds *besides* the arguments must be rooted.

use crate::gc::{self, Scope};
use crate::guarded::Guarded;
use crate::value::{GenericEntry, ObjType, ProcInfo, Value};
use std::collections::HashMap;

pub fn cons(car: Value, cdr: Value) -> Value {
    let s = Scope::new();
    let (a, d) = (s.root(car), s.root(cdr));
    let p = gc::alloc(ObjType::Pair, 2);
    p.init_field(0, a.get());
    p.init_field(1, d.get());
    p
}

pub fn make_flonum(x: f64) -> Value {
    let v = gc::alloc(ObjType::Flonum, 1);
    v.set_raw(0, x.to_bits());
    v
}

pub fn make_box(init: Value) -> Value {
    let s = Scope::new();
    let r = s.root(init);
    let b = gc::alloc(ObjType::Box, 1);
    b.init_field(0, r.get());
    b
}

/// A vector of `n` elements, each `fill`.
pub fn make_vector(n: usize, fill: Value) -> Value {
    let s = Scope::new();
    let f = s.root(fill);
    let v = gc::alloc(ObjType::Vector, n);
    let fill = f.get();
    for i in 0..n {
        v.init_field(i, fill);
    }
    v
}

/// A vector holding `items` (rooted here first).
pub fn vector_from(items: &[Value]) -> Value {
    let s = Scope::new();
    let roots: Vec<_> = items.iter().map(|&v| s.root(v)).collect();
    let v = gc::alloc(ObjType::Vector, items.len());
    for (i, r) in roots.iter().enumerate() {
        v.init_field(i, r.get());
    }
    v
}

/// A proper list of `items` (rooted here first).
pub fn list_from(items: &[Value]) -> Value {
    list_with_tail(items, Value::NIL)
}

/// `(items ... . tail)`. The items and the tail are pushed on the root
/// stack, then the pairs are allocated in chunks of consecutive objects
/// (`gc::alloc_pairs`), so a collection can only happen between chunks.
pub fn list_with_tail(items: &[Value], tail: Value) -> Value {
    /// Pairs per allocation: large lists are built in pieces so that one
    /// request never has to be a huge contiguous block.
    const CHUNK: usize = 1024;
    let sp = gc::root_sp();
    for &v in items {
        gc::push_root(v);
    }
    let acc = gc::push_root(tail);
    let mut end = items.len();
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let base = gc::alloc_pairs(end - start);
        // No allocation from here to the end of the chunk: the values read
        // from the root stack stay valid.
        let mut list = gc::root_get(acc);
        for i in (start..end).rev() {
            // SAFETY: pair `i - start` of the chunk just allocated.
            let p = Value::pair_at(unsafe { base.add((i - start) * 2) });
            p.init_field(0, gc::root_get(sp + i));
            p.init_field(1, list);
            list = p;
        }
        gc::root_put(acc, list);
        end = start;
    }
    let list = gc::root_get(acc);
    gc::set_root_sp(sp);
    list
}

/// The elements of a proper list, or `None` for an improper or cyclic one.
/// The returned values are unrooted.
pub fn list_to_vec(mut l: Value) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    let mut slow = l;
    while l.is_pair() {
        out.push(l.car());
        l = l.cdr();
        if out.len() % 2 == 0 {
            slow = slow.cdr();
            if slow == l && l.is_pair() {
                return None;
            }
        }
    }
    if l.is_nil() {
        Some(out)
    } else {
        None
    }
}

// ---- strings: [length, UTF-32 code points two per word] ----

fn string_words(len: usize) -> usize {
    1 + len.div_ceil(2)
}

/// A string of `len` characters, each `fill`.
pub fn make_string(len: usize, fill: char) -> Value {
    let v = gc::alloc(ObjType::String, string_words(len));
    v.set_raw(0, len as u64);
    for i in 0..len {
        string_set(v, i, fill);
    }
    v
}

pub fn string_from(s: &str) -> Value {
    let chars: Vec<char> = s.chars().collect();
    string_from_chars(&chars)
}

pub fn string_from_chars(chars: &[char]) -> Value {
    let v = gc::alloc(ObjType::String, string_words(chars.len()));
    v.set_raw(0, chars.len() as u64);
    for (i, &c) in chars.iter().enumerate() {
        string_set(v, i, c);
    }
    v
}

#[inline]
pub fn string_len(v: Value) -> usize {
    v.raw(0) as usize
}

#[inline]
fn string_data(v: Value) -> *mut u32 {
    v.payload_ptr(1) as *mut u32
}

#[inline]
pub fn string_ref(v: Value, i: usize) -> char {
    debug_assert!(i < string_len(v));
    // SAFETY: `v` is a string (caller checked) whose code points follow
    // its length word, two per word, and `i` is below its length.
    let cp = unsafe { *string_data(v).add(i) };
    char::from_u32(cp).unwrap_or('\u{FFFD}')
}

#[inline]
pub fn string_set(v: Value, i: usize, c: char) {
    debug_assert!(i < string_len(v));
    // SAFETY: as in `string_ref`.
    unsafe { *string_data(v).add(i) = c as u32 }
}

pub fn string_chars(v: Value) -> Vec<char> {
    (0..string_len(v)).map(|i| string_ref(v, i)).collect()
}

pub fn string_to_rust(v: Value) -> String {
    (0..string_len(v)).map(|i| string_ref(v, i)).collect()
}

// ---- bytevectors: [length, bytes] ----

pub fn make_bytevector(len: usize, fill: u8) -> Value {
    let v = gc::alloc(ObjType::Bytevector, 1 + len.div_ceil(8));
    v.set_raw(0, len as u64);
    // SAFETY: the fresh object has `len.div_ceil(8)` payload words after
    // the length word, which hold `len` bytes.
    unsafe { std::ptr::write_bytes(v.payload_ptr(1) as *mut u8, fill, len) };
    v
}

pub fn bytevector_from(bytes: &[u8]) -> Value {
    let v = make_bytevector(bytes.len(), 0);
    bytevector_bytes_mut(v).copy_from_slice(bytes);
    v
}

pub fn bytevector_len(v: Value) -> usize {
    v.raw(0) as usize
}

/// The bytes of a bytevector; invalid after the next allocation.
pub fn bytevector_bytes_mut<'a>(v: Value) -> &'a mut [u8] {
    // SAFETY: `v` is a bytevector (caller checked): its bytes follow the
    // length word. The slice must not outlive the next allocation (see
    // above), when the object may move; callers use it at once.
    unsafe { std::slice::from_raw_parts_mut(v.payload_ptr(1) as *mut u8, bytevector_len(v)) }
}

// ---- symbols ----

// SAFETY: the runtime is single-threaded (docs/architecture.md): the table
// is used by the thread that runs Valk code only.
static SYMBOLS: Guarded<SymbolTable> =
    unsafe { Guarded::new("the symbol table", new_symbol_table) };

/// Symbol names are hashed word by word with a multiplicative hash: `read`
/// interns every symbol it reads, and names are short and not adversarial
/// enough to need a keyed hash.
#[derive(Default)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }
}

type SymbolTable = HashMap<String, Value, std::hash::BuildHasherDefault<NameHasher>>;

fn new_symbol_table() -> SymbolTable {
    gc::add_root_hook(visit_symbols);
    SymbolTable::default()
}

/// Runs `f` on the table; `f` must not allocate (docs/architecture.md,
/// "Unsafe code"): a collection runs `visit_symbols`.
#[inline]
fn with_symbols<R>(f: impl FnOnce(&mut SymbolTable) -> R) -> R {
    SYMBOLS.with(f)
}

fn visit_symbols(v: &mut dyn gc::RootVisitor) {
    with_symbols(|t| {
        for slot in t.values_mut() {
            v.visit(slot);
        }
    });
}

/// The interned symbol named `name`.
pub fn intern(name: &str) -> Value {
    if let Some(s) = with_symbols(|t| t.get(name).copied()) {
        return s;
    }
    // Allocate outside the table, then insert in a second access.
    let scope = Scope::new();
    let str = scope.root(string_from(name));
    let sym = gc::alloc(ObjType::Symbol, 1);
    sym.set_field(0, str.get());
    with_symbols(|t| t.insert(name.to_string(), sym));
    sym
}

/// A fresh symbol that is not interned (`gensym`).
pub fn uninterned_symbol(name: &str) -> Value {
    let scope = Scope::new();
    let str = scope.root(string_from(name));
    let sym = gc::alloc(ObjType::Symbol, 1);
    sym.set_field(0, str.get());
    sym
}

pub fn symbol_name(sym: Value) -> String {
    string_to_rust(sym.field(0))
}

// ---- procedures ----

/// A closure with `ncaptured` captured values (set to fixnum 0; the caller
/// fills them with `set_field(2 + i, ..)`).
pub fn make_closure(entry: GenericEntry, info: &'static ProcInfo, ncaptured: usize) -> Value {
    let c = gc::alloc(ObjType::Closure, 2 + ncaptured);
    c.set_raw(0, entry as usize as u64);
    c.set_raw(1, info as *const ProcInfo as u64);
    c
}

pub fn closure_info(c: Value) -> &'static ProcInfo {
    // SAFETY: word 1 of a closure (caller checked) is the `&'static
    // ProcInfo` stored by `make_closure` or emitted by the backend.
    unsafe { &*(c.raw(1) as *const ProcInfo) }
}

pub fn closure_entry(c: Value) -> GenericEntry {
    // SAFETY: word 0 of a closure (caller checked) is a `GenericEntry`
    // stored by `make_closure` or emitted by the backend.
    unsafe { std::mem::transmute::<usize, GenericEntry>(c.raw(0) as usize) }
}

// ---- records ----

/// A record type descriptor.
pub fn make_record_type(name: Value, field_names: Value, nfields: usize) -> Value {
    let s = Scope::new();
    let (n, f) = (s.root(name), s.root(field_names));
    let t = gc::alloc(ObjType::RecordType, 3);
    t.set_field(0, n.get());
    t.set_field(1, f.get());
    t.set_field(2, Value::fixnum(nfields as i64));
    t
}

/// A record of type `rtd` with its fields set to `#f`.
pub fn make_record(rtd: Value) -> Value {
    let s = Scope::new();
    let t = s.root(rtd);
    let n = rtd.field(2).as_fixnum() as usize;
    let r = gc::alloc(ObjType::Record, 1 + n);
    r.set_field(0, t.get());
    for i in 0..n {
        r.set_field(1 + i, Value::FALSE);
    }
    r
}

// ---- multiple values, conditions, foreign pointers ----

pub fn make_values(items: &[Value]) -> Value {
    let s = Scope::new();
    let roots: Vec<_> = items.iter().map(|&v| s.root(v)).collect();
    let v = gc::alloc(ObjType::Values, items.len());
    for (i, r) in roots.iter().enumerate() {
        v.init_field(i, r.get());
    }
    v
}

pub fn make_condition(kind: &str, message: &str, irritants: Value) -> Value {
    let s = Scope::new();
    let irr = s.root(irritants);
    let k = s.root(intern(kind));
    let m = s.root(string_from(message));
    let c = gc::alloc(ObjType::Condition, 4);
    c.set_field(0, k.get());
    c.set_field(1, m.get());
    c.set_field(2, irr.get());
    // The backtrace captured when it is first raised (`backtrace`).
    c.set_field(3, Value::FALSE);
    c
}

pub fn make_foreign(ptr: *mut u8) -> Value {
    let v = gc::alloc(ObjType::Foreign, 1);
    v.set_raw(0, ptr as u64);
    v
}
