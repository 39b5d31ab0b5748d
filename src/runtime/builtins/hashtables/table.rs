//! The hash table object and its operations (docs/hash-tables.md).
//!
//! Open addressing with linear probing. The table object (`ObjType::HashTable`)
//! points at two ordinary heap objects: a vector of `2 * cap` words holding
//! key/value pairs side by side, and a bytevector of `cap` raw `u64` hashes
//! (compared before the keys, and reused when the table grows). Free slots
//! hold [`EMPTY`], deleted ones [`TOMB`]: immediates no program can make.
//!
//! Keys hashed by address (see `hashing.rs`) set `FLAG_ADDR`; the table
//! records the collector's epoch when it computed their hashes (all
//! collections if some such key was in the nursery, else major ones:
//! `epoch_for`) and, when the epoch has moved on, rehashes in place before
//! its next use. Nothing
//! between that check and the end of a probe allocates, so no collection
//! can intervene.
//!
//! Every store of a value into a heap object goes through [`put_entry`],
//! [`clear_slot`] or [`Tbl::set`] (docs/hash-tables.md, "Stores").

use super::hashing;
use crate::call;
use crate::error::{self, VResult};
use crate::gc::{self, Root, Scope};
use crate::object;
use crate::value::{ObjType, Value, IMM_UNDEFINED, TAG_IMMEDIATE};

/// A free slot's key.
pub const EMPTY: Value = Value((1 << 8) | (IMM_UNDEFINED << 3) | TAG_IMMEDIATE);
/// A deleted slot's key (also what the collector leaves for a dead key of
/// a weak table).
pub const TOMB: Value = crate::gc::weak::DEAD_KEY;

// Fields of the table object.
const F_EKIND: usize = 0;
const F_HKIND: usize = 1;
const F_EQUIV: usize = 2;
const F_HASHF: usize = 3;
const F_COUNT: usize = 4;
const F_USED: usize = 5;
const F_ENTRIES: usize = 6;
const F_HASHES: usize = 7;
const F_EPOCH: usize = 8;
const F_FLAGS: usize = 9;
const T_SIZE: usize = 10;

const FLAG_IMMUTABLE: i64 = 1;
const FLAG_ADDR: i64 = 2;
/// A weak table: the entries are a `WeakEntries` object, whose keys the
/// collector holds like ephemerons' (docs/gc.md, "Weak references,
/// ephemerons and guardians"); dead keys become tombstones, and the count
/// is corrected by the rehash that follows every collection (`refresh`).
const FLAG_WEAK: i64 = 4;
/// Some key hashed by address was in the nursery when it was hashed: a
/// minor collection may move it (docs/hash-tables.md, "Generations").
const FLAG_YOUNG: i64 = 8;

pub const MIN_CAP: usize = 8;

/// How keys are compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Equiv {
    Eq = 0,
    Eqv = 1,
    Equal = 2,
    String = 3,
    StringCi = 4,
    Num = 5,
    /// Calls the table's equivalence procedure.
    Custom = 6,
}

/// How keys are hashed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Hash {
    Eq = 0,
    Eqv = 1,
    Equal = 2,
    String = 3,
    StringCi = 4,
    Num = 5,
    /// `equal?` structure with identity-compared objects hashed by type:
    /// the default for a custom equivalence without a hash procedure.
    Stable = 6,
    /// Calls the table's hash procedure.
    Custom = 7,
}

impl Equiv {
    fn of(n: i64) -> Equiv {
        use Equiv::*;
        [Eq, Eqv, Equal, String, StringCi, Num, Custom][n as usize]
    }
    /// The native hash that agrees with this equivalence.
    pub fn native_hash(self) -> Hash {
        match self {
            Equiv::Eq => Hash::Eq,
            Equiv::Eqv => Hash::Eqv,
            Equiv::Equal => Hash::Equal,
            Equiv::String => Hash::String,
            Equiv::StringCi => Hash::StringCi,
            Equiv::Num => Hash::Num,
            Equiv::Custom => Hash::Stable,
        }
    }
}

impl Hash {
    fn of(n: i64) -> Hash {
        use Hash::*;
        [Eq, Eqv, Equal, String, StringCi, Num, Stable, Custom][n as usize]
    }
}

/// Typed access to a table object's fields (no allocation).
#[derive(Clone, Copy)]
pub struct Tbl(pub Value);

impl Tbl {
    #[inline]
    fn int(self, f: usize) -> i64 {
        self.0.field(f).as_fixnum()
    }
    #[inline]
    fn set_int(self, f: usize, n: i64) {
        self.0.set_field(f, Value::fixnum(n))
    }
    /// A store into the table object itself (docs/hash-tables.md, "Stores").
    #[inline]
    fn set(self, f: usize, v: Value) {
        self.0.set_field(f, v)
    }
    #[inline]
    pub fn equiv(self) -> Equiv {
        Equiv::of(self.int(F_EKIND))
    }
    #[inline]
    pub fn hash(self) -> Hash {
        Hash::of(self.int(F_HKIND))
    }
    pub fn equiv_proc(self) -> Value {
        self.0.field(F_EQUIV)
    }
    pub fn hash_proc(self) -> Value {
        self.0.field(F_HASHF)
    }
    #[inline]
    pub fn count(self) -> usize {
        self.int(F_COUNT) as usize
    }
    #[inline]
    fn used(self) -> usize {
        self.int(F_USED) as usize
    }
    #[inline]
    fn entries(self) -> Value {
        self.0.field(F_ENTRIES)
    }
    #[inline]
    fn hashes(self) -> Value {
        self.0.field(F_HASHES)
    }
    #[inline]
    pub fn cap(self) -> usize {
        self.entries().size() / 2
    }
    #[inline]
    fn flags(self) -> i64 {
        self.int(F_FLAGS)
    }
    pub fn is_mutable(self) -> bool {
        self.flags() & FLAG_IMMUTABLE == 0
    }
    /// The key in slot `i` (`EMPTY`/`TOMB` for free ones).
    #[inline]
    pub fn key_at(self, i: usize) -> Value {
        self.entries().field(2 * i)
    }
    #[inline]
    pub fn value_at(self, i: usize) -> Value {
        self.entries().field(2 * i + 1)
    }
    /// Replaces the value of occupied slot `i`.
    #[inline]
    pub fn set_value_at(self, i: usize, v: Value) {
        put_entry(self.entries(), 2 * i + 1, v)
    }
}

/// A store of a key or value into an entries vector: with [`clear_slot`],
/// the one place a table's contents are written (a write barrier goes
/// here).
#[inline]
fn put_entry(entries: Value, i: usize, v: Value) {
    if entries.has_type(ObjType::WeakEntries) {
        gc::weak::store(entries, i, v)
    } else {
        entries.set_field(i, v)
    }
}

/// Fresh entries for `cap` slots: a vector, or for a weak table a
/// `WeakEntries` object.
fn make_entries(cap: usize, weak: bool) -> Value {
    if !weak {
        return object::make_vector(2 * cap, EMPTY);
    }
    let e = gc::alloc(ObjType::WeakEntries, 2 * cap);
    for i in 0..2 * cap {
        // An immediate: no barrier needed.
        e.set_raw(i, EMPTY.0);
    }
    e
}

/// Is `t` a weak table?
pub fn is_weak(t: Value) -> bool {
    Tbl(t).flags() & FLAG_WEAK != 0
}

/// Makes the new, empty table `t` weak; returns it (it may have moved).
pub fn set_weak(t: Value) -> Value {
    let s = Scope::new();
    let t = s.root(t);
    let tb = Tbl(t.get());
    tb.set_int(F_FLAGS, tb.flags() | FLAG_WEAK);
    install_arrays(t, tb.cap());
    t.get()
}

#[inline]
fn clear_slot(entries: Value, slot: usize, key: Value) {
    put_entry(entries, 2 * slot, key);
    put_entry(entries, 2 * slot + 1, Value::FALSE);
}

#[inline]
fn get_hash(hashes: Value, i: usize) -> u64 {
    debug_assert!(i < object::bytevector_len(hashes) / 8);
    // SAFETY: `hashes` is a table's hash bytevector, whose `8 * cap` bytes
    // (8-aligned, after the length word) hold `cap` u64s; `i < cap`.
    unsafe { *(hashes.payload_ptr(1) as *const u64).add(i) }
}

#[inline]
fn set_hash(hashes: Value, i: usize, h: u64) {
    debug_assert!(i < object::bytevector_len(hashes) / 8);
    // SAFETY: as in `get_hash`; raw bytes, invisible to the collector.
    unsafe { *hashes.payload_ptr(1).add(i) = h }
}

pub fn is_table(v: Value) -> bool {
    v.has_type(ObjType::HashTable)
}

/// A new empty table with room for about `size` entries.
pub fn make(equiv: Equiv, hash: Hash, equiv_proc: Value, hash_proc: Value, size: usize) -> Value {
    let s = Scope::new();
    let ep = s.root(equiv_proc);
    let hp = s.root(hash_proc);
    let t = s.root(gc::alloc(ObjType::HashTable, T_SIZE));
    let tb = Tbl(t.get());
    tb.set_int(F_EKIND, equiv as i64);
    tb.set_int(F_HKIND, hash as i64);
    tb.set(F_EQUIV, ep.get());
    tb.set(F_HASHF, hp.get());
    tb.set_int(F_FLAGS, 0);
    install_arrays(t, cap_for(size));
    t.get()
}

/// The capacity for `n` entries: at most half full after a resize.
fn cap_for(n: usize) -> usize {
    (2 * n).next_power_of_two().max(MIN_CAP)
}

/// The collector epoch a table's hashes are checked against: the count of
/// all collections when one may change them (a key hashed by address that
/// was in the nursery, or a weak table's entries), else the count of major
/// collections, since a minor collection moves nursery objects only.
fn epoch_for(flags: i64) -> i64 {
    if flags & (FLAG_YOUNG | FLAG_WEAK) != 0 {
        gc::epoch() as i64
    } else {
        gc::major_epoch() as i64
    }
}

/// Is any key of `entries` (with `cap` slots) hashed by address and in the
/// nursery?
fn young_address_keys(entries: Value, cap: usize, hash: Hash) -> bool {
    (0..cap).any(|i| {
        let k = entries.field(2 * i);
        k != EMPTY && k != TOMB && gc::barrier::is_young(k.0) && !surely_stable(hash, k)
    })
}

/// Gives `t` fresh empty arrays of `cap` slots.
fn install_arrays(t: Root, cap: usize) {
    let s = Scope::new();
    let e = s.root(make_entries(cap, is_weak(t.get())));
    let h = object::make_bytevector(8 * cap, 0);
    let tb = Tbl(t.get());
    tb.set(F_ENTRIES, e.get());
    tb.set(F_HASHES, h);
    tb.set_int(F_COUNT, 0);
    tb.set_int(F_USED, 0);
    let flags = tb.flags() & !(FLAG_ADDR | FLAG_YOUNG);
    tb.set_int(F_FLAGS, flags);
    tb.set_int(F_EPOCH, epoch_for(flags));
}

pub fn set_immutable(t: Value) {
    let tb = Tbl(t);
    tb.set_int(F_FLAGS, tb.flags() | FLAG_IMMUTABLE);
}

/// The native hash of `key`, or `None` for a key the table cannot hold
/// (a non-string in a string table, a non-number in a `=` table). Sets
/// `addr` when the hash depends on the key's address.
#[inline]
pub fn native_hash(hash: Hash, key: Value, addr: &mut bool) -> Option<u64> {
    match hash {
        Hash::Eq => Some(hashing::eq_hash(key, false, addr)),
        Hash::Eqv => Some(hashing::eqv_hash(key, addr)),
        Hash::Equal => Some(hashing::equal_hash(key, false, addr)),
        Hash::Stable => Some(hashing::equal_hash(key, true, addr)),
        Hash::String => key.is_string().then(|| hashing::string_hash(key)),
        Hash::StringCi => key.is_string().then(|| hashing::string_ci_hash(key)),
        Hash::Num => hashing::numeric_hash(key),
        Hash::Custom => None,
    }
}

/// The expected key type of a table that rejected a key.
fn key_kind(hash: Hash) -> &'static str {
    match hash {
        Hash::String | Hash::StringCi => "a string key",
        Hash::Num => "a number key",
        _ => "a valid key",
    }
}

#[inline]
fn native_equal(equiv: Equiv, a: Value, b: Value) -> bool {
    use super::super::equiv::{equal, eqv};
    match equiv {
        Equiv::Eq => a == b,
        Equiv::Eqv => eqv(a, b),
        Equiv::Equal => equal(a, b),
        Equiv::String => a == b || (a.is_string() && b.is_string() && string_eq(a, b)),
        Equiv::StringCi => {
            a.is_string()
                && b.is_string()
                && crate::unicode::fold_full(object::string_chars(a))
                    == crate::unicode::fold_full(object::string_chars(b))
        }
        Equiv::Num => {
            a == b
                || match (crate::num::Num::of(a), crate::num::Num::of(b)) {
                    (Some(x), Some(y)) => crate::num::arith::num_eq(&x, &y),
                    _ => false,
                }
        }
        Equiv::Custom => false,
    }
}

/// Strings compared word by word (two code points per word; the unused
/// half of an odd-length string's last word is masked).
#[inline]
fn string_eq(a: Value, b: Value) -> bool {
    let n = object::string_len(a);
    if n != object::string_len(b) {
        return false;
    }
    for i in 0..n / 2 {
        if a.raw(1 + i) != b.raw(1 + i) {
            return false;
        }
    }
    n.is_multiple_of(2) || (a.raw(1 + n / 2) ^ b.raw(1 + n / 2)) & 0xffff_ffff == 0
}

/// Whether the stored hash of `key` cannot depend on its address, from its
/// type alone (a cheap test; `false` only means "recompute").
#[inline]
fn surely_stable(hash: Hash, key: Value) -> bool {
    !key.is_heap()
        || key.is_symbol()
        || match hash {
            Hash::Eq => false,
            Hash::Eqv => key.is_number(),
            Hash::Equal => key.is_number() || key.is_string(),
            _ => true,
        }
}

/// Rehashes address-hashed keys if the collector ran since their hashes
/// were computed, and purges the entries of a weak table whose keys died.
/// Does not allocate on the Valk heap.
#[inline]
pub fn refresh(t: Value) {
    let tb = Tbl(t);
    let flags = tb.flags();
    if flags & (FLAG_ADDR | FLAG_WEAK) != 0 && tb.int(F_EPOCH) != epoch_for(flags) {
        rehash_in_place(tb);
    }
}

#[cold]
fn rehash_in_place(tb: Tbl) {
    let (entries, hashes, cap, hash) = (tb.entries(), tb.hashes(), tb.cap(), tb.hash());
    let mut live = Vec::with_capacity(tb.count());
    for i in 0..cap {
        let k = entries.field(2 * i);
        if k != EMPTY && k != TOMB {
            live.push((k, entries.field(2 * i + 1), get_hash(hashes, i)));
        }
        put_entry(entries, 2 * i, EMPTY);
        put_entry(entries, 2 * i + 1, Value::FALSE);
    }
    // A weak table's count drops by the entries the collector deleted.
    tb.set_int(F_COUNT, live.len() as i64);
    let addr = reinsert(entries, hashes, cap, hash, live.into_iter());
    tb.set_int(F_USED, tb.count() as i64);
    finish_rehash(tb, addr);
}

fn finish_rehash(tb: Tbl, addr: bool) {
    let mut f = tb.flags() & !(FLAG_ADDR | FLAG_YOUNG);
    if addr {
        f |= FLAG_ADDR;
        if young_address_keys(tb.entries(), tb.cap(), tb.hash()) {
            f |= FLAG_YOUNG;
        }
    }
    tb.set_int(F_FLAGS, f);
    tb.set_int(F_EPOCH, epoch_for(f));
}

/// Puts entries into empty arrays, recomputing address-dependent hashes;
/// returns whether any key is hashed by address.
fn reinsert(
    entries: Value,
    hashes: Value,
    cap: usize,
    hash: Hash,
    live: impl Iterator<Item = (Value, Value, u64)>,
) -> bool {
    let mask = cap - 1;
    let mut any_addr = false;
    for (k, v, mut h) in live {
        if !surely_stable(hash, k) {
            let mut addr = false;
            if let Some(nh) = native_hash(hash, k, &mut addr) {
                h = nh;
            }
            any_addr |= addr;
        }
        let mut i = h as usize & mask;
        while entries.field(2 * i) != EMPTY {
            i = (i + 1) & mask;
        }
        put_entry(entries, 2 * i, k);
        put_entry(entries, 2 * i + 1, v);
        set_hash(hashes, i, h);
    }
    any_addr
}

/// Moves the entries of `t` into fresh arrays with room for `n` entries.
fn resize(t: Root, n: usize) {
    let cap = cap_for(n);
    let s = Scope::new();
    let e = s.root(make_entries(cap, is_weak(t.get())));
    let h = object::make_bytevector(8 * cap, 0);
    // No allocation from here on: addresses are final (and a weak
    // table's dead entries purged).
    refresh(t.get());
    let tb = Tbl(t.get());
    let (old_e, old_h, old_cap) = (tb.entries(), tb.hashes(), tb.cap());
    let live = (0..old_cap).filter_map(|i| {
        let k = old_e.field(2 * i);
        (k != EMPTY && k != TOMB).then(|| (k, old_e.field(2 * i + 1), get_hash(old_h, i)))
    });
    let hash = tb.hash();
    let addr = if tb.flags() & FLAG_ADDR != 0 && tb.int(F_EPOCH) == epoch_for(tb.flags()) {
        // Stored hashes are current: only the flag needs recomputing.
        reinsert(e.get(), h, cap, Hash::Custom, live);
        (0..cap).any(|i| {
            let k = e.get().field(2 * i);
            k != EMPTY && !surely_stable(hash, k)
        })
    } else if tb.flags() & FLAG_ADDR != 0 {
        reinsert(e.get(), h, cap, hash, live)
    } else {
        reinsert(e.get(), h, cap, Hash::Custom, live);
        false
    };
    tb.set(F_ENTRIES, e.get());
    tb.set(F_HASHES, h);
    tb.set_int(F_USED, tb.count() as i64);
    finish_rehash(tb, addr);
}

/// Where a key is, or where it would go.
pub struct Place {
    pub found: Option<usize>,
    /// The slot to insert into (`usize::MAX`: no free slot).
    pub free: usize,
    pub hash: u64,
    /// The hash depends on the key's address.
    pub addr: bool,
}

/// Finds `key` in table `t`. May call the table's procedures (and so
/// collect); `t` and `key` are re-read from their roots.
pub fn locate(who: &str, t: Root, key: Root) -> VResult<Place> {
    let tb = Tbl(t.get());
    let mut addr = false;
    let h = match tb.hash() {
        Hash::Custom => custom_hash(who, tb.hash_proc(), key.get())?,
        hash => {
            refresh(t.get());
            match native_hash(hash, key.get(), &mut addr) {
                Some(h) => h,
                None => return Err(error::wrong_type(who, key_kind(hash), key.get())),
            }
        }
    };
    let tb = Tbl(t.get());
    let (found, free) = match tb.equiv() {
        Equiv::Custom => probe_custom(t, key, h)?,
        equiv => probe(tb, equiv, key.get(), h),
    };
    Ok(Place {
        found,
        free,
        hash: h,
        addr,
    })
}

/// Calls a hash procedure with one argument; its result (an exact
/// integer) is spread with [`hashing::mix`].
fn custom_hash(who: &str, f: Value, key: Value) -> VResult<u64> {
    let r = call::call(f, &[key])?;
    if let Some(n) = r.fixnum_value() {
        Ok(hashing::mix(n as u64))
    } else if r.has_type(ObjType::Bignum) {
        Ok(hashing::eqv_number_hash(r))
    } else {
        Err(super::super::other_error(
            &format!("{who}: hash function must return an exact integer"),
            &[r],
        ))
    }
}

#[inline]
fn probe(tb: Tbl, equiv: Equiv, key: Value, h: u64) -> (Option<usize>, usize) {
    let (entries, hashes) = (tb.entries(), tb.hashes());
    let cap = entries.size() / 2;
    let mask = cap - 1;
    let mut i = h as usize & mask;
    let mut free = usize::MAX;
    // Identity decides for `eq?`, and for immediates and fixnums under
    // `eqv?` and `equal?`: no need to read the stored hashes.
    let identity =
        equiv == Equiv::Eq || (!key.is_heap() && matches!(equiv, Equiv::Eqv | Equiv::Equal));
    for _ in 0..cap {
        let k = entries.field(2 * i);
        if k == EMPTY {
            return (None, free.min(i));
        }
        if k == key {
            return (Some(i), i);
        }
        if k == TOMB {
            free = free.min(i);
        } else if !identity && get_hash(hashes, i) == h && native_equal(equiv, k, key) {
            return (Some(i), i);
        }
        i = (i + 1) & mask;
    }
    (None, free)
}

/// Probing with the table's equivalence procedure; restarts if a call
/// replaced the table's arrays.
fn probe_custom(t: Root, key: Root, h: u64) -> VResult<(Option<usize>, usize)> {
    'restart: loop {
        let tb = Tbl(t.get());
        let entries = tb.entries();
        let cap = tb.cap();
        let mask = cap - 1;
        let mut i = h as usize & mask;
        let mut free = usize::MAX;
        for _ in 0..cap {
            let tb = Tbl(t.get());
            if tb.entries() != entries {
                continue 'restart;
            }
            let k = tb.key_at(i);
            if k == EMPTY {
                return Ok((None, free.min(i)));
            }
            if k == TOMB {
                free = free.min(i);
            } else if get_hash(tb.hashes(), i) == h {
                let r = call::call(tb.equiv_proc(), &[k, key.get()])?;
                if r.is_true() {
                    if Tbl(t.get()).entries() != entries {
                        continue 'restart;
                    }
                    return Ok((Some(i), i));
                }
            }
            i = (i + 1) & mask;
        }
        return Ok((None, free));
    }
}

/// The value of `key`, if present.
pub fn get(who: &str, t: Value, key: Value) -> VResult<Option<Value>> {
    let s = Scope::new();
    let (t, key) = (s.root(t), s.root(key));
    let p = locate(who, t, key)?;
    Ok(p.found.map(|i| Tbl(t.get()).value_at(i)))
}

fn check_mutable(who: &str, t: Value) -> VResult<()> {
    if Tbl(t).is_mutable() {
        Ok(())
    } else {
        Err(error::wrong_type(who, "a mutable hash table", t))
    }
}

#[inline]
fn over_load(used: usize, cap: usize) -> bool {
    (used + 1) * 4 > cap * 3
}

/// Associates `key` with `value`.
pub fn set(who: &str, t: Value, key: Value, value: Value) -> VResult<()> {
    check_mutable(who, t)?;
    let s = Scope::new();
    let (t, key, value) = (s.root(t), s.root(key), s.root(value));
    loop {
        let tb = Tbl(t.get());
        if over_load(tb.used(), tb.cap()) {
            resize(t, tb.count() + 1);
        }
        let p = locate(who, t, key)?;
        let tb = Tbl(t.get());
        if let Some(i) = p.found {
            tb.set_value_at(i, value.get());
            return Ok(());
        }
        if p.free == usize::MAX || over_load(tb.used(), tb.cap()) {
            // A procedure of the table changed it while we probed.
            continue;
        }
        let entries = tb.entries();
        if entries.field(2 * p.free) != TOMB {
            tb.set_int(F_USED, tb.used() as i64 + 1);
        }
        put_entry(entries, 2 * p.free, key.get());
        put_entry(entries, 2 * p.free + 1, value.get());
        set_hash(tb.hashes(), p.free, p.hash);
        tb.set_int(F_COUNT, tb.count() as i64 + 1);
        if p.addr {
            let mut f = tb.flags() | FLAG_ADDR;
            if gc::barrier::is_young(key.get().0) && f & FLAG_YOUNG == 0 {
                // The hashes are current (nothing allocated since the
                // probe): from now on every collection may move this key.
                f |= FLAG_YOUNG;
                tb.set_int(F_EPOCH, epoch_for(f));
            }
            tb.set_int(F_FLAGS, f);
        }
        return Ok(());
    }
}

/// Removes `key`; returns whether it was present.
pub fn delete(who: &str, t: Value, key: Value) -> VResult<bool> {
    check_mutable(who, t)?;
    let s = Scope::new();
    let (t, key) = (s.root(t), s.root(key));
    let p = locate(who, t, key)?;
    let Some(i) = p.found else {
        return Ok(false);
    };
    remove_slot(Tbl(t.get()), i);
    Ok(true)
}

/// Empties occupied slot `i`.
pub fn remove_slot(tb: Tbl, i: usize) {
    let entries = tb.entries();
    let next = (i + 1) & (tb.cap() - 1);
    // A slot followed by a free one ends every probe through it: it can
    // become free itself instead of a tombstone.
    if entries.field(2 * next) == EMPTY {
        clear_slot(entries, i, EMPTY);
        tb.set_int(F_USED, tb.used() as i64 - 1);
    } else {
        clear_slot(entries, i, TOMB);
    }
    tb.set_int(F_COUNT, tb.count() as i64 - 1);
}

/// Removes every entry.
pub fn clear(who: &str, t: Value) -> VResult<()> {
    check_mutable(who, t)?;
    let s = Scope::new();
    let t = s.root(t);
    install_arrays(t, MIN_CAP);
    Ok(())
}

/// A copy of `t` with the same equivalence and hash.
pub fn copy(t: Value, mutable: bool) -> Value {
    let s = Scope::new();
    let t = s.root(t);
    let cap = Tbl(t.get()).cap();
    let weak = is_weak(t.get());
    let e = s.root(make_entries(cap, weak));
    let h = s.root(object::make_bytevector(8 * cap, 0));
    let tb = Tbl(t.get());
    let n = s.root(make(
        tb.equiv(),
        tb.hash(),
        tb.equiv_proc(),
        tb.hash_proc(),
        0,
    ));
    // No allocation from here on (a weak source is purged first).
    refresh(t.get());
    let (tb, nb) = (Tbl(t.get()), Tbl(n.get()));
    let (src_e, src_h) = (tb.entries(), tb.hashes());
    for i in 0..2 * cap {
        put_entry(e.get(), i, src_e.field(i));
    }
    object::bytevector_bytes_mut(h.get()).copy_from_slice(object::bytevector_bytes_mut(src_h));
    nb.set(F_ENTRIES, e.get());
    nb.set(F_HASHES, h.get());
    nb.set_int(F_COUNT, tb.count() as i64);
    nb.set_int(F_USED, tb.used() as i64);
    nb.set_int(F_EPOCH, tb.int(F_EPOCH));
    nb.set_int(
        F_FLAGS,
        (tb.flags() & (FLAG_ADDR | FLAG_WEAK | FLAG_YOUNG))
            | if mutable { 0 } else { FLAG_IMMUTABLE },
    );
    n.get()
}

/// A new empty table like `t`.
pub fn empty_copy(t: Value) -> Value {
    let tb = Tbl(t);
    let weak = is_weak(t);
    let n = make(tb.equiv(), tb.hash(), tb.equiv_proc(), tb.hash_proc(), 0);
    if weak {
        set_weak(n)
    } else {
        n
    }
}

/// The entries as a vector `#(k0 v0 k1 v1 ...)`: what every procedure that
/// calls Valk code per entry walks, so the table may change meanwhile.
pub fn snapshot(t: Value) -> Value {
    let s = Scope::new();
    let t = s.root(t);
    refresh(t.get());
    let n = Tbl(t.get()).count();
    let v = object::make_vector(2 * n, Value::FALSE);
    // A collection while the vector was made may have deleted entries of
    // a weak table (never added any).
    refresh(t.get());
    let tb = Tbl(t.get());
    let mut j = 0;
    for i in 0..tb.cap() {
        let k = tb.key_at(i);
        if k != EMPTY && k != TOMB {
            put_entry(v, j, k);
            put_entry(v, j + 1, tb.value_at(i));
            j += 2;
        }
    }
    if j < 2 * n {
        // SAFETY: `v` is the vector made above, with nothing allocated
        // since: it is the newest object of the nursery (or a large object
        // of its own), so a shorter header leaves words no one reads.
        unsafe { *v.addr() = crate::value::make_header(ObjType::Vector, j) };
    }
    v
}

/// Checks that `t` is mutable (for procedures that mutate through
/// [`set`]/[`delete`] later but must fail early).
pub fn require_mutable(who: &str, t: Value) -> VResult<()> {
    check_mutable(who, t)
}

/// The first occupied slot, for `hash-table-pop!`.
pub fn any_slot(tb: Tbl) -> Option<usize> {
    (0..tb.cap()).find(|&i| {
        let k = tb.key_at(i);
        k != EMPTY && k != TOMB
    })
}
