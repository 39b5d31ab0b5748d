//! Randomized collector test: random operations build object graphs
//! (pairs, vectors, boxes, strings, flonums, with sharing and cycles) on the
//! heap and, in parallel, in a plain Rust model. After every step the heap
//! graph reachable from the registers must be isomorphic to the model,
//! identity included: two paths to one model node reach `eq` heap objects,
//! and distinct model nodes are distinct objects. Steps run in stress mode
//! (a collection at every allocation, minor or major) or with explicit
//! minor and major collections. A minor collection must move exactly the
//! nursery objects, a major one every object. The whole binary runs with
//! `VALK_GC_VERIFY=1` (docs/gc.md, "Verification"), so a store that missed
//! the write barrier fails before the minor collection that would lose it.

use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use valk_runtime::gc;
use valk_runtime::globals;
use valk_runtime::object;
use valk_runtime::value::{ObjType, Value};

static LOCK: Mutex<()> = Mutex::new(());

/// Registers: the roots of the graph. They are spread over three root
/// kinds: root-stack slots, a registered root range and global cells.
const REGS: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq)]
enum MVal {
    Fix(i64),
    Nil,
    Node(usize),
}

#[derive(Clone, Debug)]
enum MNode {
    Pair(MVal, MVal),
    Vector(Vec<MVal>),
    Box(MVal),
    Str(String),
    Flo(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Fix(usize, i64),
    Pair(usize, usize, usize),
    Vector(usize, Vec<usize>),
    Box(usize, usize),
    Str(usize, String),
    Flo(usize, f64),
    /// `obj.field[k] = src` for a pair, vector or box in register `obj`.
    SetField(usize, usize, usize),
    /// `dst = obj.field[k]`.
    Load(usize, usize, usize),
    Clear(usize),
    /// Unrooted allocations.
    Garbage(usize),
    Collect,
    CollectMinor,
    Stress(bool),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let r = 0..REGS;
    prop_oneof![
        1 => (r.clone(), -1000i64..1000).prop_map(|(d, n)| Op::Fix(d, n)),
        3 => (r.clone(), r.clone(), r.clone()).prop_map(|(d, a, b)| Op::Pair(d, a, b)),
        2 => (r.clone(), prop::collection::vec(r.clone(), 0..5))
            .prop_map(|(d, v)| Op::Vector(d, v)),
        1 => (r.clone(), r.clone()).prop_map(|(d, s)| Op::Box(d, s)),
        1 => (r.clone(), "\\PC{0,12}").prop_map(|(d, s)| Op::Str(d, s)),
        1 => (r.clone(), any::<f64>()).prop_map(|(d, x)| Op::Flo(d, x)),
        4 => (r.clone(), 0usize..8, r.clone()).prop_map(|(o, k, s)| Op::SetField(o, k, s)),
        3 => (r.clone(), r.clone(), 0usize..8).prop_map(|(d, o, k)| Op::Load(d, o, k)),
        1 => (r.clone()).prop_map(Op::Clear),
        1 => (1usize..50).prop_map(Op::Garbage),
        1 => Just(Op::Collect),
        2 => Just(Op::CollectMinor),
        1 => any::<bool>().prop_map(Op::Stress),
    ]
}

/// Where register `i` lives on the heap side.
fn reg_slot(i: usize, base_sp: usize) -> *mut Value {
    static RANGE: OnceLock<usize> = OnceLock::new();
    match i {
        0..=2 => gc::root_slot(base_sp + i),
        3 | 4 => {
            let range = *RANGE.get_or_init(|| {
                let cells: &'static mut [Value; 2] = Box::leak(Box::new([Value::NIL; 2]));
                // SAFETY: the leaked cells hold 2 values for the rest of the
                // process.
                unsafe { gc::add_root_range(cells.as_mut_ptr(), 2) };
                cells.as_mut_ptr() as usize
            });
            (range as *mut Value).wrapping_add(i - 3)
        }
        _ => globals::slot(globals::global_id("gc-proptest-register")),
    }
}

struct Machine {
    nodes: Vec<MNode>,
    regs: [MVal; REGS],
    base_sp: usize,
    /// Model node id -> heap address at the last check.
    last_addrs: HashMap<usize, u64>,
}

/// Turns on the collector's heap verification for this test binary: set
/// before the heap exists (the first `Machine`), which reads it once.
fn verify_heap() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| std::env::set_var("VALK_GC_VERIFY", "1"));
}

impl Machine {
    fn new() -> Machine {
        verify_heap();
        let base_sp = gc::root_sp();
        for _ in 0..3 {
            gc::push_root(Value::NIL);
        }
        let m = Machine {
            nodes: Vec::new(),
            regs: [MVal::Nil; REGS],
            base_sp,
            last_addrs: HashMap::new(),
        };
        for i in 0..REGS {
            m.put(i, Value::NIL);
        }
        m
    }

    fn get(&self, i: usize) -> Value {
        // SAFETY: every register slot is a root-stack slot pushed in `new`,
        // a leaked root-range cell or a global cell: all live and aligned.
        unsafe { *reg_slot(i, self.base_sp) }
    }

    fn put(&self, i: usize, v: Value) {
        // SAFETY: as in `get`.
        unsafe { *reg_slot(i, self.base_sp) = v }
    }

    fn new_node(&mut self, dst: usize, n: MNode, v: Value) {
        self.nodes.push(n);
        self.regs[dst] = MVal::Node(self.nodes.len() - 1);
        self.put(dst, v);
    }

    /// The number of mutable fields of the object in register `r`.
    fn field_count(&self, r: usize) -> usize {
        match self.regs[r] {
            MVal::Node(id) => match &self.nodes[id] {
                MNode::Pair(..) => 2,
                MNode::Vector(v) => v.len(),
                MNode::Box(_) => 1,
                MNode::Str(_) | MNode::Flo(_) => 0,
            },
            _ => 0,
        }
    }

    fn model_field(&mut self, id: usize, k: usize) -> &mut MVal {
        match &mut self.nodes[id] {
            MNode::Pair(a, d) => {
                if k == 0 {
                    a
                } else {
                    d
                }
            }
            MNode::Vector(v) => &mut v[k],
            MNode::Box(b) => b,
            _ => unreachable!("no fields"),
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Fix(d, n) => {
                self.regs[d] = MVal::Fix(n);
                self.put(d, Value::fixnum(n));
            }
            Op::Pair(d, a, b) => {
                let v = object::cons(self.get(a), self.get(b));
                self.new_node(d, MNode::Pair(self.regs[a], self.regs[b]), v);
            }
            Op::Vector(d, ref srcs) => {
                let vals: Vec<Value> = srcs.iter().map(|&s| self.get(s)).collect();
                let v = object::vector_from(&vals);
                let model = srcs.iter().map(|&s| self.regs[s]).collect();
                self.new_node(d, MNode::Vector(model), v);
            }
            Op::Box(d, s) => {
                let v = object::make_box(self.get(s));
                self.new_node(d, MNode::Box(self.regs[s]), v);
            }
            Op::Str(d, ref s) => {
                let v = object::string_from(s);
                self.new_node(d, MNode::Str(s.clone()), v);
            }
            Op::Flo(d, x) => {
                let v = object::make_flonum(x);
                self.new_node(d, MNode::Flo(x.to_bits()), v);
            }
            Op::SetField(o, k, s) => {
                let n = self.field_count(o);
                if n > 0 {
                    let MVal::Node(id) = self.regs[o] else {
                        unreachable!()
                    };
                    let k = k % n;
                    *self.model_field(id, k) = self.regs[s];
                    self.get(o).set_field(k, self.get(s));
                }
            }
            Op::Load(d, o, k) => {
                let n = self.field_count(o);
                if n > 0 {
                    let MVal::Node(id) = self.regs[o] else {
                        unreachable!()
                    };
                    let k = k % n;
                    self.regs[d] = *self.model_field(id, k);
                    self.put(d, self.get(o).field(k));
                }
            }
            Op::Clear(d) => {
                self.regs[d] = MVal::Nil;
                self.put(d, Value::NIL);
            }
            Op::Garbage(n) => {
                for i in 0..n {
                    object::cons(Value::fixnum(i as i64), Value::NIL);
                }
            }
            Op::Collect => {
                let before = gc::stats();
                gc::collect();
                let after = gc::stats();
                assert_eq!(after.collections, before.collections + 1);
            }
            Op::CollectMinor => {
                let before = gc::stats();
                gc::collect_minor();
                let after = gc::stats();
                assert_eq!(after.collections, before.collections + 1);
            }
            Op::Stress(on) => gc::set_stress(on),
        }
    }

    /// Checks the heap against the model from every register; returns the
    /// address of every reachable model node.
    fn check(&self) -> Result<HashMap<usize, u64>, TestCaseError> {
        let mut to_heap: HashMap<usize, u64> = HashMap::new();
        let mut to_model: HashMap<u64, usize> = HashMap::new();
        let mut work: Vec<(MVal, Value)> = (0..REGS).map(|i| (self.regs[i], self.get(i))).collect();
        while let Some((m, h)) = work.pop() {
            let id = match m {
                MVal::Fix(n) => {
                    prop_assert_eq!(h, Value::fixnum(n));
                    continue;
                }
                MVal::Nil => {
                    prop_assert_eq!(h, Value::NIL);
                    continue;
                }
                MVal::Node(id) => id,
            };
            prop_assert!(h.is_heap(), "node {} is {:?}", id, h);
            if let Some(&a) = to_heap.get(&id) {
                prop_assert_eq!(a, h.0, "node {} reached as two objects", id);
                continue;
            }
            if let Some(&other) = to_model.get(&h.0) {
                prop_assert!(false, "nodes {} and {} share one object", id, other);
            }
            to_heap.insert(id, h.0);
            to_model.insert(h.0, id);
            match &self.nodes[id] {
                MNode::Pair(a, d) => {
                    prop_assert!(h.is_pair());
                    work.push((*a, h.car()));
                    work.push((*d, h.cdr()));
                }
                MNode::Vector(items) => {
                    prop_assert!(h.is_vector());
                    prop_assert_eq!(h.size(), items.len());
                    for (k, it) in items.iter().enumerate() {
                        work.push((*it, h.field(k)));
                    }
                }
                MNode::Box(b) => {
                    prop_assert_eq!(h.obj_type(), Some(ObjType::Box));
                    work.push((*b, h.field(0)));
                }
                MNode::Str(s) => {
                    prop_assert!(h.is_string());
                    prop_assert_eq!(&object::string_to_rust(h), s);
                }
                MNode::Flo(bits) => {
                    prop_assert!(h.is_flonum());
                    prop_assert_eq!(h.raw(0), *bits);
                }
            }
        }
        Ok(to_heap)
    }

    fn run(&mut self, ops: &[Op]) -> Result<(), TestCaseError> {
        for op in ops {
            let c0 = gc::stats().collections;
            let minor0 = gc::stats().minor.count;
            self.step(op);
            let collected = gc::stats().collections != c0;
            let addrs = self.check()?;
            let minor = gc::stats().minor.count != minor0;
            if matches!(op, Op::CollectMinor) && minor {
                // A minor collection moves the nursery objects (promoted)
                // and leaves the old ones where they are.
                for (id, a) in &addrs {
                    if let Some(&old) = self.last_addrs.get(id) {
                        prop_assert!(!gc::barrier::is_young(*a), "node {} still young", id);
                        if gc::barrier::is_young(old) {
                            prop_assert_ne!(old, *a, "young node {} did not move", id);
                        } else {
                            prop_assert_eq!(old, *a, "old node {} moved", id);
                        }
                    }
                }
            } else if matches!(op, Op::Collect | Op::CollectMinor) {
                // One collection moves every surviving object to the other
                // semispace.
                for (id, a) in &addrs {
                    if let Some(old) = self.last_addrs.get(id) {
                        prop_assert_ne!(old, a, "node {} did not move", id);
                    }
                }
            } else if !collected {
                // Without a collection nothing moves.
                for (id, a) in &addrs {
                    if let Some(old) = self.last_addrs.get(id) {
                        prop_assert_eq!(old, a, "node {} moved", id);
                    }
                }
            }
            self.last_addrs = addrs;
        }
        Ok(())
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        gc::set_stress(false);
        for i in 3..REGS {
            self.put(i, Value::NIL);
        }
        gc::set_root_sp(self.base_sp);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn heap_graph_matches_model(
        ops in prop::collection::vec(op_strategy(), 1..120),
        stress_first in any::<bool>(),
    ) {
        let _l = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut m = Machine::new();
        gc::set_stress(stress_first);
        m.run(&ops)?;
        // A final round of collections in both modes.
        m.run(&[
            Op::CollectMinor,
            Op::Collect,
            Op::Stress(true),
            Op::Garbage(3),
            Op::Collect,
        ])?;
    }
}

/// A fixed sequence exercising deep cycles under stress mode, as a smoke
/// test independent of the random generator.
#[test]
fn deep_cycle_under_stress() {
    let _l = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut m = Machine::new();
    let mut ops = vec![Op::Stress(true), Op::Fix(0, 0), Op::Pair(1, 0, 0)];
    for i in 0..300 {
        ops.push(Op::Fix(0, i));
        ops.push(Op::Pair(1, 0, 1));
        if i % 7 == 0 {
            ops.push(Op::Vector(2, vec![1, 2, 1]));
        }
    }
    // Close a ring: the second pair's cdr points back at the head.
    ops.push(Op::Load(3, 1, 1));
    ops.push(Op::SetField(3, 1, 1));
    ops.push(Op::Collect);
    m.run(&ops).unwrap();
}
