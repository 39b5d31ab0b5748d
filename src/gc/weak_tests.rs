//! Weak pairs, ephemerons and guardians against minor and major
//! collections (docs/gc.md, "Weak references, ephemerons and guardians").
//! Every test holds the heap lock and runs with `VALK_GC_VERIFY`'s checks
//! on.

use super::super::{collect, collect_minor, root_sp, set_root_sp, set_stress, with_gc, Scope};
use super::*;
use crate::builtins::testing;
use crate::object::{cons, list_from, list_to_vec};
use std::sync::MutexGuard;

struct Guard {
    sp: usize,
    verify: bool,
    _lock: MutexGuard<'static, ()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        set_root_sp(self.sp);
        set_stress(false);
        let v = self.verify;
        with_gc(|g| g.verify = v);
    }
}

fn lock() -> Guard {
    let l = testing::lock();
    let verify = with_gc(|g| std::mem::replace(&mut g.verify, true));
    Guard {
        sp: root_sp(),
        verify,
        _lock: l,
    }
}

fn fx(n: i64) -> Value {
    Value::fixnum(n)
}

fn weak_cons(a: Value, d: Value) -> Value {
    let s = Scope::new();
    let (a, d) = (s.root(a), s.root(d));
    let w = super::super::alloc(ObjType::WeakPair, 2);
    w.set_raw(0, a.get().0);
    w.set_raw(1, d.get().0);
    w
}

fn ephemeron(k: Value, d: Value) -> Value {
    let s = Scope::new();
    let (k, d) = (s.root(k), s.root(d));
    let e = super::super::alloc(ObjType::Ephemeron, 2);
    e.set_raw(0, k.get().0);
    e.set_raw(1, d.get().0);
    e
}

fn list3(a: i64) -> Value {
    list_from(&[fx(a), fx(a + 1), fx(a + 2)])
}

fn is_list3(v: Value, a: i64) -> bool {
    list_to_vec(v) == Some(vec![fx(a), fx(a + 1), fx(a + 2)])
}

fn young(v: Value) -> bool {
    super::is_young(v.0)
}

#[test]
fn weak_car_of_a_nursery_object_cleared_by_a_minor_collection() {
    let _g = lock();
    let s = Scope::new();
    let kept = s.root(list3(1));
    let w_dead = s.root(weak_cons(list3(10), fx(0)));
    let w_live = s.root(weak_cons(kept.get(), fx(1)));
    let w_imm = s.root(weak_cons(fx(7), Value::NIL));
    assert!(young(w_dead.get().field(0)));
    collect_minor();
    assert_eq!(w_dead.get().field(0), Value::BWP);
    assert_eq!(
        w_live.get().field(0),
        kept.get(),
        "updated to the moved object"
    );
    assert!(is_list3(w_live.get().field(0), 1));
    assert_eq!(w_imm.get().field(0), fx(7));
    assert_eq!(w_live.get().field(1), fx(1));
}

#[test]
fn weak_car_of_an_old_object_cleared_only_by_a_major_collection() {
    let _g = lock();
    let s = Scope::new();
    let obj = s.root(list3(20));
    let w = s.root(weak_cons(obj.get(), Value::NIL));
    collect_minor();
    assert!(!young(obj.get()));
    obj.set(Value::FALSE);
    // Old objects are alive as far as a minor collection knows.
    collect_minor();
    assert!(is_list3(w.get().field(0), 20));
    collect();
    assert_eq!(w.get().field(0), Value::BWP);
}

#[test]
fn weak_car_never_cleared_while_reachable() {
    let _g = lock();
    let s = Scope::new();
    let objs = s.root(Value::NIL);
    let weaks = s.root(Value::NIL);
    set_stress(true);
    for i in 0..200 {
        let o = list3(3 * i);
        objs.set(cons(o, objs.get()));
        let w = weak_cons(objs.get().car(), fx(i));
        weaks.set(cons(w, weaks.get()));
    }
    set_stress(false);
    collect_minor();
    collect();
    let (objs, weaks) = (
        list_to_vec(objs.get()).unwrap(),
        list_to_vec(weaks.get()).unwrap(),
    );
    for (i, (o, w)) in objs.iter().zip(&weaks).enumerate() {
        let n = 199 - i as i64;
        assert_eq!(w.field(0), *o);
        assert!(is_list3(*o, 3 * n));
        assert_eq!(w.field(1), fx(n));
    }
}

#[test]
fn ephemeron_datum_referring_to_its_key_does_not_keep_it() {
    let _g = lock();
    let s = Scope::new();
    let k = s.root(list3(30));
    let e_live = s.root(ephemeron(k.get(), cons(k.get(), fx(1))));
    let k2 = s.root(list3(40));
    let e_dead = s.root(ephemeron(k2.get(), cons(k2.get(), fx(2))));
    k2.set(Value::FALSE);
    collect_minor();
    assert_eq!(e_dead.get().field(0), Value::BWP);
    assert_eq!(e_dead.get().field(1), Value::BWP);
    assert_eq!(e_live.get().field(0), k.get());
    assert_eq!(e_live.get().field(1).car(), k.get());
    // Old now: only a major collection decides.
    let k3 = s.root(list3(50));
    let e_old = s.root(ephemeron(k3.get(), cons(k3.get(), list3(60))));
    collect_minor();
    k3.set(Value::FALSE);
    collect_minor();
    assert!(is_list3(e_old.get().field(0), 50));
    assert!(is_list3(e_old.get().field(1).cdr(), 60));
    collect();
    assert_eq!(e_old.get().field(0), Value::BWP);
    assert_eq!(e_live.get().field(0), k.get());
    assert!(is_list3(e_live.get().field(1).car(), 30));
}

#[test]
fn ephemeron_chains_reach_a_fixpoint() {
    let _g = lock();
    let s = Scope::new();
    // e_i: key k_i, datum k_{i+1}; only k_0 is rooted. Built so that the
    // copier meets the ephemerons in an order that needs several rounds.
    let head = s.root(list3(0));
    let es = s.root(Value::NIL);
    let prev = s.root(head.get());
    let next = s.root(Value::FALSE);
    for i in 1..20 {
        next.set(list3(3 * i));
        let e = ephemeron(prev.get(), next.get());
        es.set(cons(e, es.get()));
        prev.set(next.get());
    }
    prev.set(Value::FALSE);
    next.set(Value::FALSE);
    for major in [false, true] {
        if major {
            collect()
        } else {
            collect_minor()
        }
        for e in list_to_vec(es.get()).unwrap() {
            assert_ne!(e.field(0), Value::BWP);
            assert_ne!(e.field(1), Value::BWP);
        }
    }
    head.set(Value::FALSE);
    collect();
    for e in list_to_vec(es.get()).unwrap() {
        assert_eq!(e.field(0), Value::BWP);
    }
}

#[test]
fn guardian_resurrects_with_contents_intact() {
    let _g = lock();
    let s = Scope::new();
    let queue = s.root(cons(Value::NIL, Value::NIL));
    let before = registrations();
    let dead = list3(70);
    register(queue.get(), dead, None);
    let kept = s.root(list3(80));
    register(queue.get(), kept.get(), None);
    let inner = s.root(list3(90));
    let w = s.root(weak_cons(inner.get(), Value::NIL));
    let holder = cons(inner.get(), Value::NIL);
    register(queue.get(), holder, None);
    inner.set(Value::FALSE);
    collect_minor();
    let got = list_to_vec(queue.get().car()).unwrap();
    assert_eq!(got.len(), 2);
    assert!(is_list3(got[0], 70));
    assert!(is_list3(got[1].car(), 90));
    // Reachable from a resurrected object: not broken.
    assert_eq!(w.get().field(0), got[1].car());
    assert_eq!(queue.get().cdr(), queue.get().car().cdr());
    assert_eq!(registrations(), before + 1);
    collect();
    assert!(is_list3(queue.get().car().car(), 70));
    // A dead guardian keeps nothing.
    queue.set(Value::FALSE);
    kept.set(Value::FALSE);
    collect();
    assert_eq!(registrations(), before);
}

#[test]
fn guardian_returns_the_representative_without_resurrecting() {
    let _g = lock();
    let s = Scope::new();
    let queue = s.root(cons(Value::NIL, Value::NIL));
    let before = registrations();
    let obj = s.root(list3(40));
    let w = s.root(weak_cons(obj.get(), Value::NIL));
    let rep = list3(41);
    register(queue.get(), obj.get(), Some(rep));
    obj.set(Value::FALSE);
    // Both generations: the object dies young, the representative is held.
    collect_minor();
    let got = list_to_vec(queue.get().car()).unwrap();
    assert_eq!(got.len(), 1);
    assert!(is_list3(got[0], 41));
    // The object itself was not resurrected: its weak reference broke.
    assert_eq!(w.get().field(0), Value::BWP);
    assert_eq!(registrations(), before);
}

#[test]
fn old_weak_pair_receiving_a_nursery_object() {
    let _g = lock();
    let s = Scope::new();
    let w = s.root(weak_cons(Value::FALSE, Value::NIL));
    collect();
    assert!(!young(w.get()));
    // With another reference: kept and updated.
    let x = s.root(list3(100));
    store(w.get(), 0, x.get());
    assert_eq!(remembered(), vec![w.get().addr() as u64]);
    collect_minor();
    assert!(remembered().is_empty());
    assert!(!young(x.get()));
    assert_eq!(w.get().field(0), x.get());
    // Without: broken by the minor collection.
    store(w.get(), 0, list3(110));
    collect_minor();
    assert_eq!(w.get().field(0), Value::BWP);
    // The cdr is strong, stored through the ordinary barrier.
    w.get().set_field(1, list3(120));
    collect_minor();
    assert!(is_list3(w.get().field(1), 120));
    // An old ephemeron whose datum is set to a nursery object, old key.
    let e = s.root(ephemeron(x.get(), Value::FALSE));
    collect();
    store(e.get(), 1, list3(130));
    collect_minor();
    assert!(is_list3(e.get().field(1), 130));
}
