//! Hash-table tests: random operation sequences against a model
//! (`std::collections::HashMap`) with collections forced in between, a
//! million `eq?` keys that move, and the hash functions' agreement with
//! their equivalences.

use super::super::testing::*;
use super::table;
use crate::call;
use crate::gc::{self, Scope};
use crate::globals;
use crate::object;
use crate::value::Value;
use proptest::prelude::*;
use std::collections::HashMap;

/// The heap lock, released after turning stress mode off and collecting
/// the big tables these tests leave.
struct Locked(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Drop for Locked {
    fn drop(&mut self) {
        gc::set_stress(false);
        gc::collect();
    }
}

fn locked() -> Locked {
    Locked(lock())
}

fn g(name: &str) -> Value {
    globals::get(globals::global_id(name))
}

/// Calls global procedure `name`, expecting success.
fn callg(name: &str, args: &[Value]) -> Value {
    call_ok(g(name), args)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Fixnum,
    Symbol,
    /// An object of the pool (compared by identity in `eq?` tables).
    Pair,
    Str,
    Flonum,
    Char,
}

#[derive(Clone, Debug)]
enum Op {
    Set(Kind, u8, i64),
    Delete(Kind, u8),
    Get(Kind, u8),
    Update(Kind, u8),
    Collect,
    Clear,
}

#[derive(Clone, Copy, Debug)]
enum Table {
    Eq,
    Eqv,
    Equal,
    String,
    /// `char=?` with `char->integer`: the custom path (Valk calls).
    Custom,
}

const POOL: usize = 32;

/// The key for `(kind, i)` in a table of type `t`; `pool` holds the
/// identity-compared objects.
fn make_key(t: Table, kind: Kind, i: u8, pool: Value) -> Value {
    let i = i as usize % POOL;
    match (t, kind) {
        (Table::String, _) => object::string_from(&format!("k{i}")),
        (Table::Custom, _) => Value::char(char::from_u32(0x41 + i as u32).unwrap()),
        (_, Kind::Fixnum) => Value::fixnum(i as i64 * 1_000_003 - 7),
        (_, Kind::Symbol) => object::intern(&format!("sym{i}")),
        (_, Kind::Char) => Value::char(char::from_u32(0x3b1 + i as u32).unwrap()),
        (Table::Equal, Kind::Pair) => {
            let s = Scope::new();
            let tail = s.root(object::string_from(&format!("x{i}")));
            let l = object::cons(tail.get(), Value::NIL);
            object::cons(Value::fixnum(i as i64), l)
        }
        (Table::Equal, Kind::Str) => object::string_from(&format!("str{i}")),
        (_, Kind::Flonum) => object::make_flonum(i as f64 + 0.25),
        // eq? and eqv? tables: the same object each time.
        (_, Kind::Pair) => pool.field(i),
        (_, Kind::Str) => pool.field(POOL + i),
    }
}

/// The model's key: what the table's equivalence identifies.
fn model_key(t: Table, kind: Kind, i: u8) -> (Kind, usize) {
    let i = i as usize % POOL;
    match t {
        Table::String | Table::Custom => (Kind::Str, i),
        // eq? on flonums is identity: each fresh flonum is a new key, so
        // they are left out of eq tables (see `kinds`).
        _ => (kind, i),
    }
}

fn new_table(t: Table) -> Value {
    match t {
        Table::Eq => callg("make-eq-hashtable", &[]),
        Table::Eqv => callg("make-eqv-hashtable", &[]),
        Table::Equal => callg("make-hash-table", &[]),
        Table::String => callg("make-string-hashtable", &[]),
        Table::Custom => callg("make-hash-table", &[g("char=?"), g("char->integer")]),
    }
}

fn kinds(t: Table) -> Vec<Kind> {
    match t {
        Table::Eq => vec![
            Kind::Fixnum,
            Kind::Symbol,
            Kind::Pair,
            Kind::Str,
            Kind::Char,
        ],
        _ => vec![
            Kind::Fixnum,
            Kind::Symbol,
            Kind::Pair,
            Kind::Str,
            Kind::Flonum,
            Kind::Char,
        ],
    }
}

fn op_strategy(t: Table) -> impl Strategy<Value = Op> {
    let kind = proptest::sample::select(kinds(t));
    prop_oneof![
        4 => (kind.clone(), any::<u8>(), -1000i64..1000).prop_map(|(k, i, v)| Op::Set(k, i, v)),
        2 => (kind.clone(), any::<u8>()).prop_map(|(k, i)| Op::Delete(k, i)),
        3 => (kind.clone(), any::<u8>()).prop_map(|(k, i)| Op::Get(k, i)),
        1 => (kind, any::<u8>()).prop_map(|(k, i)| Op::Update(k, i)),
        1 => Just(Op::Collect),
        1 => Just(Op::Clear),
    ]
}

fn run_ops(t: Table, ops: &[Op], stress: bool) {
    let s = Scope::new();
    let pool = s.root(object::make_vector(2 * POOL, Value::FALSE));
    for i in 0..POOL {
        let p = object::cons(Value::fixnum(i as i64), Value::NIL);
        pool.get().set_field(i, p);
        let st = object::string_from(&format!("pooled{i}"));
        pool.get().set_field(POOL + i, st);
    }
    let table = s.root(new_table(t));
    let mut model: HashMap<(Kind, usize), i64> = HashMap::new();
    gc::set_stress(stress);
    for op in ops {
        match *op {
            Op::Set(kind, i, v) => {
                let k = make_key(t, kind, i, pool.get());
                callg("hash-table-set!", &[table.get(), k, Value::fixnum(v)]);
                model.insert(model_key(t, kind, i), v);
            }
            Op::Delete(kind, i) => {
                let k = make_key(t, kind, i, pool.get());
                let n = callg("hash-table-delete!", &[table.get(), k]);
                let was = model.remove(&model_key(t, kind, i)).is_some();
                assert_eq!(n, Value::fixnum(was as i64), "{op:?}");
            }
            Op::Get(kind, i) => {
                let k = make_key(t, kind, i, pool.get());
                let r = callg("hash-table-ref/default", &[table.get(), k, Value::FALSE]);
                let want = model
                    .get(&model_key(t, kind, i))
                    .map_or(Value::FALSE, |&v| Value::fixnum(v));
                assert_eq!(r, want, "{op:?}");
            }
            Op::Update(kind, i) => {
                let k = make_key(t, kind, i, pool.get());
                let ks = s.root(k);
                let old = callg(
                    "hash-table-ref/default",
                    &[table.get(), ks.get(), Value::fixnum(0)],
                );
                callg(
                    "hash-table-set!",
                    &[table.get(), ks.get(), Value::fixnum(old.as_fixnum() + 1)],
                );
                *model.entry(model_key(t, kind, i)).or_insert(0) += 1;
            }
            Op::Collect => gc::collect(),
            Op::Clear => {
                callg("hash-table-clear!", &[table.get()]);
                model.clear();
            }
        }
        let n = callg("hash-table-size", &[table.get()]);
        assert_eq!(n, Value::fixnum(model.len() as i64));
    }
    gc::set_stress(false);
    // Every entry is still found after a last collection.
    gc::collect();
    for (&(kind, i), &v) in &model {
        // Rebuild the key from its model description.
        let kind = if matches!(t, Table::String | Table::Custom) {
            Kind::Fixnum
        } else {
            kind
        };
        let k = make_key(t, kind, i as u8, pool.get());
        let r = callg("hash-table-ref/default", &[table.get(), k, Value::FALSE]);
        assert_eq!(r, Value::fixnum(v), "final lookup of {kind:?} {i}");
    }
    let keys = callg("hash-table-keys", &[table.get()]);
    assert_eq!(object::list_to_vec(keys).unwrap().len(), model.len());
}

fn table_strategy() -> impl Strategy<Value = Table> {
    proptest::sample::select(vec![
        Table::Eq,
        Table::Eqv,
        Table::Equal,
        Table::String,
        Table::Custom,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tables_match_a_model(
        (t, ops) in table_strategy().prop_flat_map(|t| (Just(t), proptest::collection::vec(op_strategy(t), 0..200))),
        stress in proptest::bool::weighted(0.2),
    ) {
        let _g = locked();
        run_ops(t, &ops, stress);
    }
}

#[test]
fn million_eq_keys_survive_collections() {
    let _g = locked();
    const N: usize = 1_000_000;
    let s = Scope::new();
    let keys = s.root(object::make_vector(N, Value::FALSE));
    for i in 0..N {
        let p = object::cons(Value::fixnum(i as i64), Value::NIL);
        keys.get().set_field(i, p);
    }
    let t = s.root(callg("make-eq-hashtable", &[]));
    for i in 0..N {
        let k = keys.get().field(i);
        table::set("test", t.get(), k, Value::fixnum(i as i64)).unwrap();
        if i % 250_000 == 0 {
            gc::collect();
        }
    }
    let before = gc::stats().collections;
    for round in 0..3 {
        gc::collect();
        for i in 0..N {
            let k = keys.get().field(i);
            let v = table::get("test", t.get(), k).unwrap();
            assert_eq!(v, Some(Value::fixnum(i as i64)), "round {round}, key {i}");
        }
    }
    assert!(gc::stats().collections >= before + 3);
    // Fresh pairs with the same contents are other keys.
    let other = object::cons(Value::fixnum(5), Value::NIL);
    assert_eq!(table::get("test", t.get(), other).unwrap(), None);
    assert_eq!(table::Tbl(t.get()).count(), N);
}

#[test]
fn hashes_agree_with_equivalences() {
    let _g = locked();
    check_all(&[
        (
            "(= (hash '(1 \"a\" #(2 3))) (hash (list 1 \"a\" (vector 2 3))))",
            "#t",
        ),
        (
            "(= (string-hash \"abc\") (string-hash (string #\\a #\\b #\\c)))",
            "#t",
        ),
        (
            "(= (string-ci-hash \"Straße\") (string-ci-hash \"STRASSE\"))",
            "#t",
        ),
        ("(= (hash-by-identity 'x) (hash-by-identity 'x))", "#t"),
        ("(< (hash \"abc\" 13) 13)", "#t"),
        ("(hash-table? (make-hash-table))", "#t"),
    ]);
    // `hash` is stable: the same for an object after it moves.
    let s = Scope::new();
    let v = s.root(object::make_vector(3, Value::FALSE));
    let h1 = callg("hash", &[v.get()]);
    let h2 = callg("hash-by-identity", &[v.get()]);
    gc::collect();
    assert_eq!(callg("hash", &[v.get()]), h1);
    assert_eq!(callg("hash-by-identity", &[v.get()]), h2);
}

#[test]
fn errors() {
    let _g = locked();
    check_errs(&[
        (
            "(hash-table-ref (make-hash-table) 'foo)",
            "hash-table-ref: key not found: foo",
        ),
        (
            "(hash-table-set! 5 1 2)",
            "hash-table-set!: expected a hash table: 5",
        ),
        (
            "(hash-table-pop! (make-hash-table))",
            "hash-table-pop!: hash table is empty",
        ),
    ]);
}

#[test]
fn call_path_runs_custom_procedures() {
    let _g = locked();
    // char=? / char->integer go through the generic call path.
    let s = Scope::new();
    let t = s.root(callg("make-hash-table", &[g("char=?"), g("char->integer")]));
    with_stress(|| {
        for c in 'a'..='z' {
            callg(
                "hash-table-set!",
                &[t.get(), Value::char(c), Value::fixnum(c as i64)],
            );
        }
    });
    let r = call::call(g("hash-table-ref"), &[t.get(), Value::char('q')]).unwrap();
    assert_eq!(r, Value::fixnum('q' as i64));
    assert_eq!(callg("hash-table-size", &[t.get()]), Value::fixnum(26));
}

/// Weak tables (docs/gc.md, "Weak references, ephemerons and guardians"):
/// an entry goes exactly when its key dies, in the nursery (minor
/// collection) or the old space (major); values referring to their key do
/// not keep it; big tables (entries in the large-object space) too.
#[test]
fn weak_table_entries_go_when_their_keys_die() {
    let _l = locked();
    let s = Scope::new();
    for n in [10usize, 5000] {
        let t = s.root(callg("make-weak-eq-hashtable", &[]));
        let kept = s.root(Value::NIL);
        for i in 0..n as i64 {
            let s = Scope::new();
            let k = s.root(object::cons(fx(i), Value::NIL));
            if i % 2 == 0 {
                kept.set(object::cons(k.get(), kept.get()));
            }
            let v = object::cons(k.get(), fx(i));
            callg("hashtable-set!", &[t.get(), k.get(), v]);
        }
        assert_eq!(callg("hashtable-size", &[t.get()]), fx(n as i64));
        gc::collect_minor();
        assert_eq!(
            callg("hashtable-size", &[t.get()]),
            fx(n.div_ceil(2) as i64)
        );
        for k in object::list_to_vec(kept.get()).unwrap() {
            let v = callg("hashtable-ref", &[t.get(), k, Value::FALSE]);
            assert_eq!(v.car(), k);
            assert_eq!(v.cdr(), k.car());
        }
        // Old now: only a major collection removes them.
        kept.set(object::list_to_vec(kept.get()).unwrap()[0]);
        gc::collect_minor();
        assert_eq!(
            callg("hashtable-size", &[t.get()]),
            fx(n.div_ceil(2) as i64)
        );
        gc::collect();
        assert_eq!(callg("hashtable-size", &[t.get()]), fx(1));
        let keys = callg("hashtable-keys", &[t.get()]);
        assert_eq!(keys.size(), 1);
        assert_eq!(keys.field(0), kept.get());
    }
}
