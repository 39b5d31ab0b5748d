//! Hash tables: SRFI 69, SRFI 125's additional names and the R6RS
//! `hashtable` aliases (docs/hash-tables.md). The table itself is in
//! `hashtables/table.rs`, the hash functions in `hashtables/hashing.rs`.
//!
//! Procedures that call Valk code once per entry (`-walk`, `-fold`,
//! `-map!`...) walk a snapshot of the entries, so the procedure may change
//! the table and may collect.

mod hashing;
pub(crate) mod table;

use super::{arg, fixed, opt, opt_arg, other_error, var, Builtin};
use crate::call;
use crate::error::{self, VResult};
use crate::gc::{Root, Scope};
use crate::globals;
use crate::object;
use crate::value::{ObjType, Value};
use table::{Equiv, Hash, Tbl};

fn table_arg(who: &str, v: Value) -> VResult<Value> {
    if table::is_table(v) {
        // A weak table's entries whose keys died leave it here, before
        // its count or contents are read.
        table::refresh(v);
        Ok(v)
    } else {
        Err(error::wrong_type(who, "a hash table", v))
    }
}

fn proc_arg(who: &str, v: Value) -> VResult<Value> {
    if v.is_closure() {
        Ok(v)
    } else {
        Err(error::wrong_type(who, "a procedure", v))
    }
}

/// The name of builtin closure `f` (`None` for other procedures).
fn builtin_name(f: Value) -> Option<&'static str> {
    if !f.is_closure() {
        return None;
    }
    let info = object::closure_info(f);
    let name = info.name()?;
    let b = super::proc_info(name)?;
    std::ptr::eq(b, info).then_some(name)
}

fn equiv_of(f: Value) -> Equiv {
    match builtin_name(f) {
        Some("eq?") => Equiv::Eq,
        Some("eqv?") => Equiv::Eqv,
        Some("equal?") => Equiv::Equal,
        Some("string=?") => Equiv::String,
        Some("string-ci=?") => Equiv::StringCi,
        Some("=") => Equiv::Num,
        _ => Equiv::Custom,
    }
}

fn global(name: &str) -> Value {
    globals::get(globals::global_id(name))
}

/// A new table for equivalence procedure `equiv` (default `equal?`) and
/// optional hash procedure `hash`. A built-in equivalence always uses its
/// native hash, which agrees with it whatever hash procedure was given.
fn new_table(who: &str, equiv: Option<Value>, hash: Option<Value>, size: usize) -> VResult {
    let equiv = match equiv {
        Some(e) => proc_arg(who, e)?,
        None => global("equal?"),
    };
    if let Some(h) = hash {
        proc_arg(who, h)?;
    }
    let ek = equiv_of(equiv);
    let hk = match (ek, hash) {
        (Equiv::Custom, Some(_)) => Hash::Custom,
        (ek, _) => ek.native_hash(),
    };
    Ok(table::make(
        ek,
        hk,
        equiv,
        hash.unwrap_or(Value::FALSE),
        size,
    ))
}

/// The size hint among `make-hash-table`'s extra arguments.
fn size_hint(extra: &[Value]) -> usize {
    extra
        .iter()
        .find_map(|v| v.fixnum_value())
        .map_or(0, |n| n.clamp(0, 1 << 24) as usize)
}

// ---------------------------------------------------------------------------
// Constructors

fn make_hash_table(args: &[Value]) -> VResult {
    let who = "make-hash-table";
    let equiv = opt_arg(args, 0);
    let hash = opt_arg(args, 1).filter(|v| v.is_closure());
    let extra = if hash.is_some() {
        args.get(2..)
    } else {
        args.get(1..)
    };
    new_table(who, equiv, hash, size_hint(extra.unwrap_or(&[])))
}

fn alist_to_hash_table(args: &[Value]) -> VResult {
    let who = "alist->hash-table";
    let items = super::list_arg(who, args[0])?;
    for &a in &items {
        super::pair_arg(who, a)?;
    }
    let s = Scope::new();
    let hash = opt_arg(args, 2).filter(|v| v.is_closure());
    let t = s.root(new_table(who, opt_arg(args, 1), hash, items.len())?);
    // The first association of a key wins.
    let mut l = arg(args, 0);
    let cur = s.root(l);
    while l.is_pair() {
        let a = l.car();
        let k = s.root(a.car());
        let v = s.root(a.cdr());
        if table::get(who, t.get(), k.get())?.is_none() {
            table::set(who, t.get(), k.get(), v.get())?;
        }
        l = cur.get().cdr();
        cur.set(l);
    }
    Ok(t.get())
}

/// `(hash-table equiv key value ...)`: SRFI 125's constructor, with an
/// equivalence procedure where SRFI 125 has a comparator.
fn hash_table(args: &[Value]) -> VResult {
    let who = "hash-table";
    if args.len() % 2 != 1 {
        return Err(other_error(
            &format!("{who}: keys and values must come in pairs"),
            &[],
        ));
    }
    let s = Scope::new();
    let t = s.root(new_table(who, Some(args[0]), None, args.len() / 2)?);
    let mut i = 1;
    while i < args.len() {
        table::set(who, t.get(), arg(args, i), arg(args, i + 1))?;
        i += 2;
    }
    table::set_immutable(t.get());
    Ok(t.get())
}

/// Splits a `(values a b)` result (or a single value with `None`).
fn two_results(who: &str, r: Value) -> VResult<(Value, Value)> {
    if r.has_type(ObjType::Values) && r.size() == 2 {
        Ok((r.field(0), r.field(1)))
    } else {
        Err(other_error(
            &format!("{who}: expected two values from the mapper"),
            &[r],
        ))
    }
}

/// `(hash-table-unfold stop? mapper successor seed equiv [hash] ...)`.
fn hash_table_unfold(args: &[Value]) -> VResult {
    let who = "hash-table-unfold";
    for &p in &args[..3] {
        proc_arg(who, p)?;
    }
    let s = Scope::new();
    let hash = opt_arg(args, 5).filter(|v| v.is_closure());
    let t = s.root(new_table(who, Some(args[4]), hash, 0)?);
    let seed = s.root(arg(args, 3));
    loop {
        if call::call(arg(args, 0), &[seed.get()])?.is_true() {
            return Ok(t.get());
        }
        let r = call::call(arg(args, 1), &[seed.get()])?;
        let (k, v) = two_results(who, r)?;
        table::set(who, t.get(), k, v)?;
        seed.set(call::call(arg(args, 2), &[seed.get()])?);
    }
}

fn make_kind(who: &str, equiv: &str, args: &[Value]) -> VResult {
    let size = opt_arg(args, 0).and_then(|v| v.fixnum_value()).unwrap_or(0);
    new_table(
        who,
        Some(global(equiv)),
        None,
        size.clamp(0, 1 << 24) as usize,
    )
}
fn make_eq_hashtable(args: &[Value]) -> VResult {
    make_kind("make-eq-hashtable", "eq?", args)
}
fn make_eqv_hashtable(args: &[Value]) -> VResult {
    make_kind("make-eqv-hashtable", "eqv?", args)
}
/// A weak table (docs/gc.md, "Weak references, ephemerons and
/// guardians"): Chez Scheme's weak and ephemeron tables are both made with
/// ephemeron entries here.
fn make_weak_kind(who: &str, equiv: &str, args: &[Value]) -> VResult {
    let t = make_kind(who, equiv, args)?;
    Ok(table::set_weak(t))
}
fn make_weak_eq_hashtable(args: &[Value]) -> VResult {
    make_weak_kind("make-weak-eq-hashtable", "eq?", args)
}
fn make_weak_eqv_hashtable(args: &[Value]) -> VResult {
    make_weak_kind("make-weak-eqv-hashtable", "eqv?", args)
}
fn make_ephemeron_eq_hashtable(args: &[Value]) -> VResult {
    make_weak_kind("make-ephemeron-eq-hashtable", "eq?", args)
}
fn make_ephemeron_eqv_hashtable(args: &[Value]) -> VResult {
    make_weak_kind("make-ephemeron-eqv-hashtable", "eqv?", args)
}
fn hashtable_weak_p(args: &[Value]) -> VResult {
    let t = table_arg("hashtable-weak?", args[0])?;
    Ok(Value::bool(table::is_weak(t)))
}
fn make_equal_hashtable(args: &[Value]) -> VResult {
    make_kind("make-equal-hashtable", "equal?", args)
}
fn make_string_hashtable(args: &[Value]) -> VResult {
    make_kind("make-string-hashtable", "string=?", args)
}
/// R6RS `(make-hashtable hash equiv [k])`.
fn make_hashtable(args: &[Value]) -> VResult {
    let who = "make-hashtable";
    proc_arg(who, args[0])?;
    let size = opt_arg(args, 2).and_then(|v| v.fixnum_value()).unwrap_or(0);
    new_table(
        who,
        Some(args[1]),
        Some(args[0]),
        size.clamp(0, 1 << 24) as usize,
    )
}

// ---------------------------------------------------------------------------
// Queries

fn is_hash_table(args: &[Value]) -> VResult {
    Ok(Value::bool(table::is_table(args[0])))
}

fn equivalence_function(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-equivalence-function", args[0])?;
    Ok(Tbl(t).equiv_proc())
}

fn hash_function(args: &[Value]) -> VResult {
    let tb = Tbl(table_arg("hash-table-hash-function", args[0])?);
    if tb.hash_proc().is_closure() {
        return Ok(tb.hash_proc());
    }
    Ok(global(match tb.hash() {
        Hash::Eq | Hash::Eqv => "hash-by-identity",
        Hash::String => "string-hash",
        Hash::StringCi => "string-ci-hash",
        _ => "hash",
    }))
}

/// `(hash-table-ref t key [failure [success]])`.
fn hash_table_ref(args: &[Value]) -> VResult {
    let who = "hash-table-ref";
    let t = table_arg(who, args[0])?;
    match table::get(who, t, args[1])? {
        Some(v) => match opt_arg(args, 3) {
            Some(succeed) => call::call(succeed, &[v]),
            None => Ok(v),
        },
        None => match opt_arg(args, 2) {
            Some(fail) => call::call(fail, &[]),
            None => Err(other_error(
                &format!("{who}: key not found"),
                &[arg(args, 1)],
            )),
        },
    }
}

fn ref_default(who: &str, args: &[Value]) -> VResult {
    let t = table_arg(who, args[0])?;
    Ok(table::get(who, t, args[1])?.unwrap_or_else(|| arg(args, 2)))
}
fn hash_table_ref_default(args: &[Value]) -> VResult {
    ref_default("hash-table-ref/default", args)
}
fn hashtable_ref(args: &[Value]) -> VResult {
    ref_default("hashtable-ref", args)
}

fn contains(who: &str, args: &[Value]) -> VResult {
    let t = table_arg(who, args[0])?;
    Ok(Value::bool(table::get(who, t, args[1])?.is_some()))
}
fn hash_table_exists(args: &[Value]) -> VResult {
    contains("hash-table-exists?", args)
}
fn hash_table_contains(args: &[Value]) -> VResult {
    contains("hash-table-contains?", args)
}
fn hashtable_contains(args: &[Value]) -> VResult {
    contains("hashtable-contains?", args)
}

fn size(who: &str, args: &[Value]) -> VResult {
    let t = table_arg(who, args[0])?;
    Ok(Value::fixnum(Tbl(t).count() as i64))
}
fn hash_table_size(args: &[Value]) -> VResult {
    size("hash-table-size", args)
}
fn hashtable_size(args: &[Value]) -> VResult {
    size("hashtable-size", args)
}

fn hash_table_empty(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-empty?", args[0])?;
    Ok(Value::bool(Tbl(t).count() == 0))
}

fn hash_table_mutable(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-mutable?", args[0])?;
    Ok(Value::bool(Tbl(t).is_mutable()))
}

// ---------------------------------------------------------------------------
// Mutation

/// `(hash-table-set! t key value ...)`.
fn hash_table_set(args: &[Value]) -> VResult {
    let who = "hash-table-set!";
    table_arg(who, args[0])?;
    if args.len() % 2 != 1 {
        return Err(other_error(
            &format!("{who}: keys and values must come in pairs"),
            &[],
        ));
    }
    let mut i = 1;
    while i < args.len() {
        table::set(who, arg(args, 0), arg(args, i), arg(args, i + 1))?;
        i += 2;
    }
    Ok(Value::UNSPECIFIED)
}

fn hashtable_set(args: &[Value]) -> VResult {
    let who = "hashtable-set!";
    let t = table_arg(who, args[0])?;
    table::set(who, t, args[1], args[2])?;
    Ok(Value::UNSPECIFIED)
}

/// `(hash-table-delete! t key ...)`: the number of keys removed.
fn hash_table_delete(args: &[Value]) -> VResult {
    let who = "hash-table-delete!";
    table_arg(who, args[0])?;
    let mut n = 0;
    for i in 1..args.len() {
        n += table::delete(who, arg(args, 0), arg(args, i))? as i64;
    }
    Ok(Value::fixnum(n))
}

fn hashtable_delete(args: &[Value]) -> VResult {
    let who = "hashtable-delete!";
    let t = table_arg(who, args[0])?;
    table::delete(who, t, args[1])?;
    Ok(Value::UNSPECIFIED)
}

/// `(hash-table-update! t key proc [failure [success]])`.
fn hash_table_update(args: &[Value]) -> VResult {
    let who = "hash-table-update!";
    let t = table_arg(who, args[0])?;
    proc_arg(who, args[2])?;
    table::require_mutable(who, t)?;
    let cur = match table::get(who, t, args[1])? {
        Some(v) => match opt_arg(args, 4) {
            Some(succeed) => call::call(succeed, &[v])?,
            None => v,
        },
        None => match opt_arg(args, 3) {
            Some(fail) => call::call(fail, &[])?,
            None => {
                return Err(other_error(
                    &format!("{who}: key not found"),
                    &[arg(args, 1)],
                ))
            }
        },
    };
    let v = call::call(arg(args, 2), &[cur])?;
    table::set(who, arg(args, 0), arg(args, 1), v)?;
    Ok(Value::UNSPECIFIED)
}

fn update_default(who: &str, args: &[Value]) -> VResult {
    let t = table_arg(who, args[0])?;
    proc_arg(who, args[2])?;
    table::require_mutable(who, t)?;
    let cur = table::get(who, t, args[1])?.unwrap_or_else(|| arg(args, 3));
    let v = call::call(arg(args, 2), &[cur])?;
    table::set(who, arg(args, 0), arg(args, 1), v)?;
    Ok(Value::UNSPECIFIED)
}
/// `(hash-table-update!/default t key proc default)`.
fn hash_table_update_default(args: &[Value]) -> VResult {
    update_default("hash-table-update!/default", args)
}
/// R6RS `(hashtable-update! t key proc default)`.
fn hashtable_update(args: &[Value]) -> VResult {
    update_default("hashtable-update!", args)
}

/// `(hash-table-intern! t key failure)`.
fn hash_table_intern(args: &[Value]) -> VResult {
    let who = "hash-table-intern!";
    let t = table_arg(who, args[0])?;
    if let Some(v) = table::get(who, t, args[1])? {
        return Ok(v);
    }
    table::require_mutable(who, t)?;
    let s = Scope::new();
    let v = s.root(call::call(arg(args, 2), &[])?);
    table::set(who, arg(args, 0), arg(args, 1), v.get())?;
    Ok(v.get())
}

/// `(hash-table-pop! t)`: removes some entry, returns its key and value.
fn hash_table_pop(args: &[Value]) -> VResult {
    let who = "hash-table-pop!";
    let t = table_arg(who, args[0])?;
    table::require_mutable(who, t)?;
    let tb = Tbl(t);
    let Some(i) = table::any_slot(tb) else {
        return Err(other_error(&format!("{who}: hash table is empty"), &[]));
    };
    let (k, v) = (tb.key_at(i), tb.value_at(i));
    table::remove_slot(tb, i);
    Ok(object::make_values(&[k, v]))
}

fn clear(who: &str, args: &[Value]) -> VResult {
    let t = table_arg(who, args[0])?;
    table::clear(who, t)?;
    Ok(Value::UNSPECIFIED)
}
fn hash_table_clear(args: &[Value]) -> VResult {
    clear("hash-table-clear!", args)
}
fn hashtable_clear(args: &[Value]) -> VResult {
    clear("hashtable-clear!", args)
}

/// `(hash-table-copy t [mutable?])`: mutable unless `mutable?` is `#f`
/// (SRFI 69 copies are mutable).
fn hash_table_copy(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-copy", args[0])?;
    let mutable = opt_arg(args, 1).is_none_or(|m| m.is_true());
    Ok(table::copy(t, mutable))
}
/// R6RS `(hashtable-copy t [mutable?])`: immutable unless asked.
fn hashtable_copy(args: &[Value]) -> VResult {
    let t = table_arg("hashtable-copy", args[0])?;
    let mutable = opt_arg(args, 1).is_some_and(|m| m.is_true());
    Ok(table::copy(t, mutable))
}

fn hash_table_empty_copy(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-empty-copy", args[0])?;
    Ok(table::empty_copy(t))
}

// ---------------------------------------------------------------------------
// Whole-table procedures

/// The table and procedure of `(name proc t)` (SRFI 125) or `(name t
/// proc)` (SRFI 69 and older drafts), whichever order was given.
fn proc_and_table(who: &str, a: Value, b: Value) -> VResult<(Value, Value)> {
    if table::is_table(a) {
        Ok((proc_arg(who, b)?, a))
    } else if table::is_table(b) || a.is_closure() {
        Ok((proc_arg(who, a)?, table_arg(who, b)?))
    } else {
        Err(error::wrong_type(who, "a hash table", a))
    }
}

/// Calls `f` on each entry of a snapshot of `t`: `f(key, value)`, stopping
/// early when it returns `Some`.
fn each_entry(
    t: Value,
    mut f: impl FnMut(Value, Value) -> VResult<Option<Value>>,
) -> VResult<Option<Value>> {
    let s = Scope::new();
    let snap = s.root(table::snapshot(t));
    let n = snap.get().size();
    let mut i = 0;
    while i < n {
        let (k, v) = (snap.get().field(i), snap.get().field(i + 1));
        if let Some(r) = f(k, v)? {
            return Ok(Some(r));
        }
        i += 2;
    }
    Ok(None)
}

fn walk(proc_: Value, t: Value) -> VResult {
    let s = Scope::new();
    let p = s.root(proc_);
    each_entry(t, |k, v| {
        call::call(p.get(), &[k, v])?;
        Ok(None)
    })?;
    Ok(Value::UNSPECIFIED)
}

/// `(hash-table-walk t proc)`.
fn hash_table_walk(args: &[Value]) -> VResult {
    let (p, t) = proc_and_table("hash-table-walk", args[0], args[1])?;
    walk(p, t)
}
/// `(hash-table-for-each proc t)` (either order).
fn hash_table_for_each(args: &[Value]) -> VResult {
    let (p, t) = proc_and_table("hash-table-for-each", args[0], args[1])?;
    walk(p, t)
}

/// `(hash-table-fold t kons knil)` (SRFI 69) or `(hash-table-fold kons
/// knil t)` (SRFI 125); `kons` receives key, value and the accumulator.
fn hash_table_fold(args: &[Value]) -> VResult {
    let who = "hash-table-fold";
    let (t, kons, knil) = if table::is_table(args[0]) {
        (args[0], args[1], args[2])
    } else {
        (table_arg(who, args[2])?, args[0], args[1])
    };
    proc_arg(who, kons)?;
    let s = Scope::new();
    let (kons, acc) = (s.root(kons), s.root(knil));
    each_entry(t, |k, v| {
        acc.set(call::call(kons.get(), &[k, v, acc.get()])?);
        Ok(None)
    })?;
    Ok(acc.get())
}

/// A list built by `f` from each entry (`None`: skip the entry).
fn collect_list(t: Value, mut f: impl FnMut(Value, Value) -> VResult<Option<Value>>) -> VResult {
    let s = Scope::new();
    let acc: Root = s.root(Value::NIL);
    each_entry(t, |k, v| {
        if let Some(x) = f(k, v)? {
            acc.set(object::cons(x, acc.get()));
        }
        Ok(None)
    })?;
    Ok(acc.get())
}

fn hash_table_keys(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-keys", args[0])?;
    collect_list(t, |k, _| Ok(Some(k)))
}
fn hash_table_values(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-values", args[0])?;
    collect_list(t, |_, v| Ok(Some(v)))
}
fn hash_table_to_alist(args: &[Value]) -> VResult {
    let t = table_arg("hash-table->alist", args[0])?;
    collect_list(t, |k, v| Ok(Some(object::cons(k, v))))
}

/// `(hash-table-entries t)`: the keys and the values, as two lists.
fn hash_table_entries(args: &[Value]) -> VResult {
    let t = table_arg("hash-table-entries", args[0])?;
    let s = Scope::new();
    let snap = s.root(table::snapshot(t));
    let (ks, vs) = (s.root(Value::NIL), s.root(Value::NIL));
    let n = snap.get().size();
    for i in (0..n).step_by(2) {
        ks.set(object::cons(snap.get().field(i), ks.get()));
        vs.set(object::cons(snap.get().field(i + 1), vs.get()));
    }
    Ok(object::make_values(&[ks.get(), vs.get()]))
}

/// R6RS: keys and values as vectors.
fn snapshot_half(t: Value, offset: usize) -> Value {
    let s = Scope::new();
    let snap = s.root(table::snapshot(t));
    let n = snap.get().size() / 2;
    let v = object::make_vector(n, Value::FALSE);
    for i in 0..n {
        v.set_field(i, snap.get().field(2 * i + offset));
    }
    v
}
fn hashtable_keys(args: &[Value]) -> VResult {
    let t = table_arg("hashtable-keys", args[0])?;
    Ok(snapshot_half(t, 0))
}
fn hashtable_values(args: &[Value]) -> VResult {
    let t = table_arg("hashtable-values", args[0])?;
    Ok(snapshot_half(t, 1))
}
fn hashtable_entries(args: &[Value]) -> VResult {
    let t = table_arg("hashtable-entries", args[0])?;
    let s = Scope::new();
    let t = s.root(t);
    let ks = s.root(snapshot_half(t.get(), 0));
    let vs = snapshot_half(t.get(), 1);
    Ok(object::make_values(&[ks.get(), vs]))
}

/// `(hash-table-find proc t failure)`: the first true `(proc key value)`.
fn hash_table_find(args: &[Value]) -> VResult {
    let who = "hash-table-find";
    let (p, t) = proc_and_table(who, args[0], args[1])?;
    let s = Scope::new();
    let p = s.root(p);
    let found = each_entry(t, |k, v| {
        let r = call::call(p.get(), &[k, v])?;
        Ok(r.is_true().then_some(r))
    })?;
    match found {
        Some(r) => Ok(r),
        None => call::call(arg(args, 2), &[]),
    }
}

/// `(hash-table-count pred t)`: entries satisfying `(pred key value)`;
/// `(hash-table-count t)` is the size, as in older drafts.
fn hash_table_count(args: &[Value]) -> VResult {
    let who = "hash-table-count";
    if args.len() == 1 {
        return size(who, args);
    }
    let (p, t) = proc_and_table(who, args[0], args[1])?;
    let s = Scope::new();
    let p = s.root(p);
    let mut n = 0;
    each_entry(t, |k, v| {
        n += call::call(p.get(), &[k, v])?.is_true() as i64;
        Ok(None)
    })?;
    Ok(Value::fixnum(n))
}

/// `(hash-table-map proc equiv t)`: a new table with the same keys and
/// `(proc value)` as values (an equivalence procedure where SRFI 125 has a
/// comparator).
fn hash_table_map(args: &[Value]) -> VResult {
    let who = "hash-table-map";
    proc_arg(who, args[0])?;
    let t = table_arg(who, args[2])?;
    let s = Scope::new();
    let src = s.root(t);
    let n = s.root(new_table(who, Some(args[1]), None, Tbl(t).count())?);
    each_entry(src.get(), |k, v| {
        let kr = s.root(k);
        let nv = call::call(arg(args, 0), &[v])?;
        table::set(who, n.get(), kr.get(), nv)?;
        Ok(None)
    })?;
    Ok(n.get())
}

/// `(hash-table-map! proc t)`: each value becomes `(proc key value)`.
fn hash_table_map_mut(args: &[Value]) -> VResult {
    let who = "hash-table-map!";
    let (p, t) = proc_and_table(who, args[0], args[1])?;
    table::require_mutable(who, t)?;
    let s = Scope::new();
    let (p, t) = (s.root(p), s.root(t));
    each_entry(t.get(), |k, v| {
        let kr = s.root(k);
        let nv = call::call(p.get(), &[k, v])?;
        table::set(who, t.get(), kr.get(), nv)?;
        Ok(None)
    })?;
    Ok(Value::UNSPECIFIED)
}

/// `(hash-table-map->list proc t)`.
fn hash_table_map_to_list(args: &[Value]) -> VResult {
    let who = "hash-table-map->list";
    let (p, t) = proc_and_table(who, args[0], args[1])?;
    let s = Scope::new();
    let p = s.root(p);
    collect_list(t, |k, v| Ok(Some(call::call(p.get(), &[k, v])?)))
}

/// `(hash-table-prune! proc t)`: removes entries where `(proc key value)`.
fn hash_table_prune(args: &[Value]) -> VResult {
    let who = "hash-table-prune!";
    let (p, t) = proc_and_table(who, args[0], args[1])?;
    table::require_mutable(who, t)?;
    let s = Scope::new();
    let (p, t) = (s.root(p), s.root(t));
    each_entry(t.get(), |k, v| {
        let kr = s.root(k);
        if call::call(p.get(), &[k, v])?.is_true() {
            table::delete(who, t.get(), kr.get())?;
        }
        Ok(None)
    })?;
    Ok(Value::UNSPECIFIED)
}

/// `(hash-table=? value-equiv t1 t2)`: same keys, values equal by
/// `value-equiv` (a procedure where SRFI 125 has a comparator).
fn hash_table_eq(args: &[Value]) -> VResult {
    let who = "hash-table=?";
    proc_arg(who, args[0])?;
    let t1 = table_arg(who, args[1])?;
    let t2 = table_arg(who, args[2])?;
    if Tbl(t1).count() != Tbl(t2).count() {
        return Ok(Value::FALSE);
    }
    let s = Scope::new();
    let t2 = s.root(t2);
    let differs = each_entry(t1, |k, v| {
        let vr = s.root(v);
        let Some(w) = table::get(who, t2.get(), k)? else {
            return Ok(Some(Value::FALSE));
        };
        let same = call::call(arg(args, 0), &[vr.get(), w])?;
        Ok((!same.is_true()).then_some(Value::FALSE))
    })?;
    Ok(Value::bool(differs.is_none()))
}

/// Merges `t2` into `t1`; `overwrite`: `t2`'s values win.
fn merge(who: &str, args: &[Value], overwrite: bool) -> VResult {
    let t1 = table_arg(who, args[0])?;
    let t2 = table_arg(who, args[1])?;
    table::require_mutable(who, t1)?;
    let s = Scope::new();
    let t1 = s.root(t1);
    each_entry(t2, |k, v| {
        let (kr, vr) = (s.root(k), s.root(v));
        if overwrite || table::get(who, t1.get(), kr.get())?.is_none() {
            table::set(who, t1.get(), kr.get(), vr.get())?;
        }
        Ok(None)
    })?;
    Ok(t1.get())
}
/// `(hash-table-merge! t1 t2)` (SRFI 69): every entry of `t2` into `t1`.
fn hash_table_merge(args: &[Value]) -> VResult {
    merge("hash-table-merge!", args, true)
}
/// `(hash-table-union! t1 t2)`: entries of `t2` whose key `t1` lacks.
fn hash_table_union(args: &[Value]) -> VResult {
    merge("hash-table-union!", args, false)
}

/// Removes from `t1` the keys whose presence in `t2` is `in_t2`.
fn remove_by(who: &str, args: &[Value], in_t2: bool) -> VResult {
    let t1 = table_arg(who, args[0])?;
    let t2 = table_arg(who, args[1])?;
    table::require_mutable(who, t1)?;
    let s = Scope::new();
    let (t1, t2) = (s.root(t1), s.root(t2));
    each_entry(t1.get(), |k, _| {
        let kr = s.root(k);
        if table::get(who, t2.get(), kr.get())?.is_some() == in_t2 {
            table::delete(who, t1.get(), kr.get())?;
        }
        Ok(None)
    })?;
    Ok(t1.get())
}
fn hash_table_intersection(args: &[Value]) -> VResult {
    remove_by("hash-table-intersection!", args, false)
}
fn hash_table_difference(args: &[Value]) -> VResult {
    remove_by("hash-table-difference!", args, true)
}

/// `(hash-table-xor! t1 t2)`: keys in exactly one of the two tables.
fn hash_table_xor(args: &[Value]) -> VResult {
    let who = "hash-table-xor!";
    let t1 = table_arg(who, args[0])?;
    let t2 = table_arg(who, args[1])?;
    table::require_mutable(who, t1)?;
    let s = Scope::new();
    let t1 = s.root(t1);
    each_entry(t2, |k, v| {
        let (kr, vr) = (s.root(k), s.root(v));
        if table::get(who, t1.get(), kr.get())?.is_some() {
            table::delete(who, t1.get(), kr.get())?;
        } else {
            table::set(who, t1.get(), kr.get(), vr.get())?;
        }
        Ok(None)
    })?;
    Ok(t1.get())
}

// ---------------------------------------------------------------------------
// Hash functions

/// A hash as a non-negative fixnum, reduced modulo the optional bound.
fn bounded(who: &str, h: u64, bound: Option<Value>) -> VResult {
    let h = h >> 4;
    match bound {
        None => Ok(Value::fixnum(h as i64)),
        Some(b) => match b.fixnum_value() {
            Some(n) if n > 0 => Ok(Value::fixnum((h % n as u64) as i64)),
            _ => Err(error::wrong_type(who, "a positive integer bound", b)),
        },
    }
}

/// `(hash obj [bound])`: consistent with `equal?`, and stable (objects
/// compared by identity hash by type, never by address).
fn hash(args: &[Value]) -> VResult {
    let h = hashing::equal_hash(args[0], true, &mut false);
    bounded("hash", h, opt_arg(args, 1))
}
fn equal_hash(args: &[Value]) -> VResult {
    let h = hashing::equal_hash(args[0], true, &mut false);
    bounded("equal-hash", h, opt_arg(args, 1))
}
/// `(string-hash s [bound [start [end]]])`: SRFI 69's, with SRFI 13's
/// optional range, so that `(srfi 13)` and `(srfi 69)` export one binding.
fn string_hash(args: &[Value]) -> VResult {
    let who = "string-hash";
    let s = super::string_arg(who, args[0])?;
    let (start, end) = super::range_args(who, args, 2, object::string_len(s))?;
    let bound = opt_arg(args, 1).filter(|b| *b != Value::FALSE);
    if (start, end) == (0, object::string_len(s)) {
        return bounded(who, hashing::string_hash(s), bound);
    }
    let part: Vec<char> = (start..end).map(|i| object::string_ref(s, i)).collect();
    let part = object::string_from_chars(&part);
    bounded(who, hashing::string_hash(part), bound)
}
fn string_ci_hash(args: &[Value]) -> VResult {
    let s = super::string_arg("string-ci-hash", args[0])?;
    bounded(
        "string-ci-hash",
        hashing::string_ci_hash(s),
        opt_arg(args, 1),
    )
}
fn symbol_hash(args: &[Value]) -> VResult {
    super::check_type("symbol-hash", "a symbol", args[0], ObjType::Symbol)?;
    bounded(
        "symbol-hash",
        hashing::symbol_hash(args[0]),
        opt_arg(args, 1),
    )
}
/// `(hash-by-identity obj [bound])`: consistent with `eq?` and stable,
/// like `hash`.
fn hash_by_identity(args: &[Value]) -> VResult {
    let h = hashing::eq_hash(args[0], true, &mut false);
    bounded("hash-by-identity", h, opt_arg(args, 1))
}

pub(super) const BUILTINS: &[Builtin] = &[
    // SRFI 69
    var("make-hash-table", 0, make_hash_table),
    fixed("hash-table?", 1, is_hash_table),
    var("alist->hash-table", 1, alist_to_hash_table),
    fixed("hash-table-equivalence-function", 1, equivalence_function),
    fixed("hash-table-hash-function", 1, hash_function),
    opt("hash-table-ref", 2, 2, hash_table_ref),
    fixed("hash-table-ref/default", 3, hash_table_ref_default),
    var("hash-table-set!", 1, hash_table_set),
    var("hash-table-delete!", 1, hash_table_delete),
    fixed("hash-table-exists?", 2, hash_table_exists),
    opt("hash-table-update!", 3, 2, hash_table_update),
    fixed("hash-table-update!/default", 4, hash_table_update_default),
    fixed("hash-table-size", 1, hash_table_size),
    fixed("hash-table-keys", 1, hash_table_keys),
    fixed("hash-table-values", 1, hash_table_values),
    fixed("hash-table-walk", 2, hash_table_walk),
    fixed("hash-table-fold", 3, hash_table_fold),
    fixed("hash-table->alist", 1, hash_table_to_alist),
    opt("hash-table-copy", 1, 1, hash_table_copy),
    fixed("hash-table-merge!", 2, hash_table_merge),
    opt("hash", 1, 1, hash),
    opt("string-hash", 1, 3, string_hash),
    opt("string-ci-hash", 1, 1, string_ci_hash),
    opt("hash-by-identity", 1, 1, hash_by_identity),
    // SRFI 125
    var("hash-table", 1, hash_table),
    var("hash-table-unfold", 5, hash_table_unfold),
    fixed("hash-table-contains?", 2, hash_table_contains),
    fixed("hash-table-empty?", 1, hash_table_empty),
    fixed("hash-table=?", 3, hash_table_eq),
    fixed("hash-table-mutable?", 1, hash_table_mutable),
    fixed("hash-table-intern!", 3, hash_table_intern),
    fixed("hash-table-pop!", 1, hash_table_pop),
    fixed("hash-table-clear!", 1, hash_table_clear),
    fixed("hash-table-find", 3, hash_table_find),
    opt("hash-table-count", 1, 1, hash_table_count),
    fixed("hash-table-map", 3, hash_table_map),
    fixed("hash-table-for-each", 2, hash_table_for_each),
    fixed("hash-table-map!", 2, hash_table_map_mut),
    fixed("hash-table-map->list", 2, hash_table_map_to_list),
    fixed("hash-table-prune!", 2, hash_table_prune),
    fixed("hash-table-entries", 1, hash_table_entries),
    fixed("hash-table-union!", 2, hash_table_union),
    fixed("hash-table-intersection!", 2, hash_table_intersection),
    fixed("hash-table-difference!", 2, hash_table_difference),
    fixed("hash-table-xor!", 2, hash_table_xor),
    fixed("hash-table-empty-copy", 1, hash_table_empty_copy),
    // R6RS
    opt("make-eq-hashtable", 0, 1, make_eq_hashtable),
    opt("make-weak-eq-hashtable", 0, 1, make_weak_eq_hashtable),
    opt("make-weak-eqv-hashtable", 0, 1, make_weak_eqv_hashtable),
    opt(
        "make-ephemeron-eq-hashtable",
        0,
        1,
        make_ephemeron_eq_hashtable,
    ),
    opt(
        "make-ephemeron-eqv-hashtable",
        0,
        1,
        make_ephemeron_eqv_hashtable,
    ),
    fixed("hashtable-weak?", 1, hashtable_weak_p),
    opt("make-eqv-hashtable", 0, 1, make_eqv_hashtable),
    opt("make-equal-hashtable", 0, 1, make_equal_hashtable),
    opt("make-string-hashtable", 0, 1, make_string_hashtable),
    opt("make-hashtable", 2, 1, make_hashtable),
    fixed("hashtable?", 1, is_hash_table),
    fixed("hashtable-set!", 3, hashtable_set),
    fixed("hashtable-ref", 3, hashtable_ref),
    fixed("hashtable-delete!", 2, hashtable_delete),
    fixed("hashtable-contains?", 2, hashtable_contains),
    fixed("hashtable-update!", 4, hashtable_update),
    fixed("hashtable-size", 1, hashtable_size),
    fixed("hashtable-keys", 1, hashtable_keys),
    fixed("hashtable-values", 1, hashtable_values),
    fixed("hashtable-entries", 1, hashtable_entries),
    fixed("hashtable-clear!", 1, hashtable_clear),
    opt("hashtable-copy", 1, 1, hashtable_copy),
    opt("equal-hash", 1, 1, equal_hash),
    opt("symbol-hash", 1, 1, symbol_hash),
];

#[cfg(test)]
mod tests;
