//! `(valk weak)`: weak pairs, ephemerons (SRFI 124 names), guardians and
//! explicit collections (docs/gc.md, "Weak references, ephemerons and
//! guardians"). The weak hash tables are in `hashtables.rs`.

use super::{check_type, fixed, opt, Builtin};
use crate::error::{self, VResult};
use crate::gc::{self, weak, Scope};
use crate::object;
use crate::value::{ObjType, ProcInfo, Value};

fn weak_pair_arg(who: &str, v: Value) -> VResult<Value> {
    check_type(who, "a weak pair", v, ObjType::WeakPair)?;
    Ok(v)
}

fn ephemeron_arg(who: &str, v: Value) -> VResult<Value> {
    check_type(who, "an ephemeron", v, ObjType::Ephemeron)?;
    Ok(v)
}

/// A fresh object of weak type `ty` with fields `a`, `b`: stores into a
/// young object with no allocation in between need no barrier or note.
fn make2(ty: ObjType, a: Value, b: Value) -> Value {
    let s = Scope::new();
    let (a, b) = (s.root(a), s.root(b));
    let o = gc::alloc(ty, 2);
    o.set_raw(0, a.get().0);
    o.set_raw(1, b.get().0);
    o
}

fn weak_cons(args: &[Value]) -> VResult {
    let o = make2(ObjType::WeakPair, args[0], args[1]);
    // The cdr is an ordinary field; the object is young, so no barrier is
    // needed for it either.
    Ok(o)
}

fn weak_pair_p(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].has_type(ObjType::WeakPair)))
}

fn weak_car(args: &[Value]) -> VResult {
    Ok(weak_pair_arg("weak-car", args[0])?.field(0))
}

fn weak_cdr(args: &[Value]) -> VResult {
    Ok(weak_pair_arg("weak-cdr", args[0])?.field(1))
}

fn weak_set_car(args: &[Value]) -> VResult {
    let p = weak_pair_arg("weak-set-car!", args[0])?;
    weak::store(p, 0, args[1]);
    Ok(Value::UNSPECIFIED)
}

fn weak_set_cdr(args: &[Value]) -> VResult {
    let p = weak_pair_arg("weak-set-cdr!", args[0])?;
    p.set_field(1, args[1]);
    Ok(Value::UNSPECIFIED)
}

fn bwp_object_p(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0] == Value::BWP))
}

fn make_ephemeron(args: &[Value]) -> VResult {
    Ok(make2(ObjType::Ephemeron, args[0], args[1]))
}

fn ephemeron_p(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].has_type(ObjType::Ephemeron)))
}

fn ephemeron_key(args: &[Value]) -> VResult {
    Ok(ephemeron_arg("ephemeron-key", args[0])?.field(0))
}

fn ephemeron_datum(args: &[Value]) -> VResult {
    Ok(ephemeron_arg("ephemeron-datum", args[0])?.field(1))
}

fn ephemeron_broken_p(args: &[Value]) -> VResult {
    let e = ephemeron_arg("ephemeron-broken?", args[0])?;
    Ok(Value::bool(e.field(0) == Value::BWP))
}

/// SRFI 124: keeps its argument reachable up to the call.
fn reference_barrier(_: &[Value]) -> VResult {
    Ok(Value::UNSPECIFIED)
}

const GUARDIAN_NAME: &str = "guardian";
static GUARDIAN_INFO: ProcInfo = ProcInfo {
    name: GUARDIAN_NAME.as_ptr(),
    name_len: GUARDIAN_NAME.len(),
    required: 0,
    optional: 2,
    rest: 0,
    data: 0,
};

/// `(make-guardian)`: a procedure over a queue `(head . tail)` of the
/// resurrected objects (its captured value).
fn make_guardian(_: &[Value]) -> VResult {
    let s = Scope::new();
    let q = s.root(object::cons(Value::NIL, Value::NIL));
    let g = object::make_closure(guardian_entry, &GUARDIAN_INFO, 1);
    g.set_field(2, q.get());
    Ok(g)
}

fn guardian_p(args: &[Value]) -> VResult {
    let v = args[0];
    Ok(Value::bool(
        v.is_closure() && std::ptr::eq(object::closure_info(v), &GUARDIAN_INFO),
    ))
}

/// `(g obj)` registers `obj`; `(g obj rep)` registers `obj` with the
/// representative `rep`, which `(g)` returns in place of `obj` once `obj`
/// is unreachable (`obj` is not resurrected then); `(g)` dequeues a
/// resurrected object or representative, or returns `#f`.
unsafe extern "C" fn guardian_entry(this: Value, argc: u64, argv: *const Value) -> Value {
    let q = this.field(2);
    match argc {
        0 => {
            let head = q.car();
            if !head.is_pair() {
                return Value::FALSE;
            }
            let next = head.cdr();
            q.set_car(next);
            if !next.is_pair() {
                q.set_cdr(Value::NIL);
            }
            head.car()
        }
        1 | 2 => {
            // SAFETY: `argc` arguments at `argv` (the generic entry's
            // contract).
            let (obj, rep) = unsafe { (*argv, (argc == 2).then(|| *argv.add(1))) };
            weak::register(q, obj, rep);
            Value::UNSPECIFIED
        }
        n => {
            let _ = error::arity(GUARDIAN_NAME, "0 to 2", n as usize);
            crate::dynamic::deliver();
            Value::EXCEPTION
        }
    }
}

/// `(collect)`: a major collection; `(collect 0)`: a minor one (Chez
/// Scheme's generation argument; Valk has two generations).
fn collect(args: &[Value]) -> VResult {
    match super::opt_arg(args, 0) {
        Some(g) if g == Value::fixnum(0) => gc::collect_minor(),
        Some(g) if !g.is_fixnum() || g.as_fixnum() < 0 => {
            return Err(error::wrong_type(
                "collect",
                "a non-negative generation number",
                g,
            ))
        }
        _ => gc::collect(),
    }
    Ok(Value::UNSPECIFIED)
}

pub const BUILTINS: &[Builtin] = &[
    fixed("weak-cons", 2, weak_cons),
    fixed("weak-pair?", 1, weak_pair_p),
    fixed("weak-car", 1, weak_car),
    fixed("weak-cdr", 1, weak_cdr),
    fixed("weak-set-car!", 2, weak_set_car),
    fixed("weak-set-cdr!", 2, weak_set_cdr),
    fixed("bwp-object?", 1, bwp_object_p),
    fixed("make-ephemeron", 2, make_ephemeron),
    fixed("ephemeron?", 1, ephemeron_p),
    fixed("ephemeron-key", 1, ephemeron_key),
    fixed("ephemeron-datum", 1, ephemeron_datum),
    fixed("ephemeron-broken?", 1, ephemeron_broken_p),
    fixed("reference-barrier", 1, reference_barrier),
    fixed("make-guardian", 0, make_guardian),
    fixed("guardian?", 1, guardian_p),
    opt("collect", 0, 1, collect),
];
