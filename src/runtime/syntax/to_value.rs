//! Datums to heap values: what `read` returns and what the interpreter's
//! quoted constants are made of.
//!
//! The conversion is iterative (an explicit stack of open lists, vectors
//! and labels; finished elements wait on the GC root stack), so a list of a
//! million elements costs no Rust stack, and the tree's nesting is bounded
//! by the reader's `MAX_DEPTH`. Datum labels give real sharing and cycles
//! (R7RS 2.4): a reference to a finished label is its value; a reference to
//! a label still being built (a cycle) leaves a placeholder that is patched
//! when the label's datum is done. Containers to patch are kept in a side
//! vector on the heap, rooted (docs/gc.md: everything held across an
//! allocation is rooted).

use super::datum::{Datum, DatumKind};
use crate::gc::{self, Scope};
use crate::num::Num;
use crate::object;
use crate::value::{ObjType, Value};
use std::collections::HashMap;

/// The heap value of `d`: fresh pairs, vectors, mutable strings and
/// bytevectors; interned symbols. The result is not rooted.
pub fn datum_to_value(d: &Datum) -> Value {
    if let Some(v) = atom(d) {
        return v;
    }
    let base = gc::root_sp();
    let side_slot = gc::push_root(Value::FALSE);
    let mut b = Builder {
        side: Side {
            slot: side_slot,
            len: 0,
            cap: 0,
        },
        labels: HashMap::new(),
        patches: HashMap::new(),
    };
    let v = b.build(d);
    gc::set_root_sp(base);
    v
}

/// The value of a datum without elements; `None` for lists, vectors and
/// labels. May allocate.
fn atom(d: &Datum) -> Option<Value> {
    Some(match &d.kind {
        DatumKind::Int(n) => Value::fixnum(*n),
        DatumKind::Float(x) => object::make_flonum(*x),
        DatumKind::Number(text) => Num::read_canonical(text).into_value(),
        DatumKind::Bool(b) => Value::bool(*b),
        DatumKind::Char(c) => Value::char(*c),
        DatumKind::Str(s) => string(s),
        DatumKind::Symbol(s) => object::intern(s),
        DatumKind::Bytevector(b) => object::bytevector_from(b),
        DatumKind::List(items, None) if items.is_empty() => Value::NIL,
        DatumKind::List(..) | DatumKind::Vector(_) | DatumKind::Labeled(..) => return None,
        // Only reachable for a reference to a label outside the datum,
        // which the reader rejects.
        DatumKind::LabelRef(_) => Value::FALSE,
    })
}

/// A fresh mutable string holding `s`.
fn string(s: &str) -> Value {
    let v = object::make_string(s.chars().count(), ' ');
    for (i, c) in s.chars().enumerate() {
        object::string_set(v, i, c);
    }
    v
}

/// A growable, rooted vector of heap values (the containers waiting for a
/// patch, and the values of finished labels), by index.
struct Side {
    /// Root stack slot holding the vector (`#f` until first used).
    slot: usize,
    len: usize,
    cap: usize,
}

impl Side {
    fn push(&mut self, v: Value) -> usize {
        let s = Scope::new();
        let v = s.root(v);
        if self.len == self.cap {
            let cap = (self.cap * 2).max(8);
            let grown = gc::alloc(ObjType::Vector, cap);
            let old = gc::root_get(self.slot);
            for i in 0..self.len {
                grown.set_field(i, old.field(i));
            }
            gc::root_put(self.slot, grown);
            self.cap = cap;
        }
        gc::root_get(self.slot).set_field(self.len, v.get());
        self.len += 1;
        self.len - 1
    }

    fn get(&self, i: usize) -> Value {
        gc::root_get(self.slot).field(i)
    }
}

#[derive(Clone, Copy)]
enum Label {
    /// Its datum is being built.
    Open,
    /// Built: its value is at this index of the side vector.
    Done(usize),
    /// `#n=#m#` with `m` open: the same value as label `m`.
    Alias(u32),
}

/// Where a placeholder sits in a container (held in the side vector).
#[derive(Clone, Copy)]
enum Slot {
    Car,
    Cdr,
    Field(usize),
}

/// An open list, vector or label.
struct Frame<'a> {
    d: &'a Datum,
    /// Elements visited so far.
    next: usize,
    /// Root stack height before the first element's value.
    base: usize,
    /// Elements whose value is a placeholder for the open label.
    pending: Vec<(usize, u32)>,
}

struct Builder {
    side: Side,
    labels: HashMap<u32, Label>,
    /// Placeholders waiting for each open label: (side index, slot).
    patches: HashMap<u32, Vec<(usize, Slot)>>,
}

impl Builder {
    /// Label `n` after following aliases: its value, or the open label
    /// it waits for.
    fn lookup(&self, mut n: u32) -> Result<Value, u32> {
        loop {
            match self.labels.get(&n) {
                Some(Label::Done(i)) => return Ok(self.side.get(*i)),
                Some(Label::Alias(m)) if *m != n => n = *m,
                Some(_) => return Err(n),
                None => return Ok(Value::FALSE),
            }
        }
    }

    fn build(&mut self, d: &Datum) -> Value {
        let mut stack: Vec<Frame> = vec![Frame {
            d,
            next: 0,
            base: gc::root_sp(),
            pending: Vec::new(),
        }];
        loop {
            let top = stack.last_mut().expect("a frame is open");
            let child = match &top.d.kind {
                DatumKind::List(items, tail) => match items.get(top.next) {
                    Some(c) => Some(c),
                    None if top.next == items.len() => tail.as_deref(),
                    None => None,
                },
                DatumKind::Vector(items) => items.get(top.next),
                DatumKind::Labeled(n, inner) if top.next == 0 => {
                    self.labels.insert(*n, Label::Open);
                    Some(&**inner)
                }
                _ => None,
            };
            let (value, pending) = match child {
                Some(c) => {
                    top.next += 1;
                    let index = top.next - 1;
                    if let DatumKind::LabelRef(n) = c.kind {
                        match self.lookup(n) {
                            Ok(v) => gc::push_root(v),
                            Err(open) => {
                                top.pending.push((index, open));
                                gc::push_root(Value::FALSE)
                            }
                        };
                    } else if let Some(v) = atom(c) {
                        gc::push_root(v);
                    } else {
                        let base = gc::root_sp();
                        stack.push(Frame {
                            d: c,
                            next: 0,
                            base,
                            pending: Vec::new(),
                        });
                    }
                    continue;
                }
                None => {
                    let frame = stack.pop().expect("a frame is open");
                    let done = self.finish(&frame);
                    gc::set_root_sp(frame.base);
                    done
                }
            };
            match stack.last_mut() {
                None => return value,
                Some(parent) => {
                    if let Some(open) = pending {
                        parent.pending.push((parent.next - 1, open));
                    }
                    gc::push_root(value);
                }
            }
        }
    }

    /// The value of a frame whose elements' values are on the root stack
    /// from `frame.base`; with the open label it still waits for, if any.
    fn finish(&mut self, frame: &Frame) -> (Value, Option<u32>) {
        let pending_at = |i: usize| {
            frame
                .pending
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, open)| *open)
        };
        match &frame.d.kind {
            DatumKind::List(items, tail) => {
                let n = items.len();
                let acc = match tail {
                    Some(_) => gc::root_get(frame.base + n),
                    None => Value::NIL,
                };
                if n == 0 {
                    return (acc, pending_at(0));
                }
                let acc = gc::push_root(acc);
                // `pending` is in element order: walk it backwards with
                // the elements.
                let mut waiting = frame.pending.iter().rev().peekable();
                let tail_open = match tail {
                    Some(_) => waiting.next_if(|(j, _)| *j == n).map(|&(_, open)| open),
                    None => None,
                };
                for i in (0..n).rev() {
                    // The element and the rest are rooted: allocate the
                    // pair directly, without `cons`'s own rooting.
                    let pair = gc::alloc(ObjType::Pair, 2);
                    pair.set_car(gc::root_get(frame.base + i));
                    pair.set_cdr(gc::root_get(acc));
                    gc::root_put(acc, pair);
                    if i == n - 1 {
                        if let Some(open) = tail_open {
                            self.wait(open, pair, Slot::Cdr);
                        }
                    }
                    if let Some(&(_, open)) = waiting.next_if(|(j, _)| *j == i) {
                        self.wait(open, gc::root_get(acc), Slot::Car);
                    }
                }
                (gc::root_get(acc), None)
            }
            DatumKind::Vector(items) => {
                let n = items.len();
                let v = gc::alloc(ObjType::Vector, n);
                for i in 0..n {
                    v.set_field(i, gc::root_get(frame.base + i));
                }
                if !frame.pending.is_empty() {
                    let s = Scope::new();
                    let v = s.root(v);
                    for &(i, open) in &frame.pending {
                        self.wait(open, v.get(), Slot::Field(i));
                    }
                    return (v.get(), None);
                }
                (v, None)
            }
            DatumKind::Labeled(n, _) => {
                let v = gc::root_get(frame.base);
                match pending_at(0) {
                    Some(open) if open != *n => {
                        // `#n=#m#` inside label `m`: `n` is `m`.
                        self.labels.insert(*n, Label::Alias(open));
                        if let Some(mine) = self.patches.remove(n) {
                            self.patches.entry(open).or_default().extend(mine);
                        }
                        (v, Some(open))
                    }
                    Some(_) => {
                        // `#n=#n#` (the reader rejects it): nothing to be.
                        self.labels
                            .insert(*n, Label::Done(self.side.push(Value::FALSE)));
                        (Value::FALSE, None)
                    }
                    None => {
                        let index = self.side.push(v);
                        self.labels.insert(*n, Label::Done(index));
                        for (at, slot) in self.patches.remove(n).unwrap_or_default() {
                            let c = self.side.get(at);
                            let v = self.side.get(index);
                            match slot {
                                Slot::Car => c.set_car(v),
                                Slot::Cdr => c.set_cdr(v),
                                Slot::Field(i) => c.set_field(i, v),
                            }
                        }
                        (self.side.get(index), None)
                    }
                }
            }
            _ => unreachable!("only lists, vectors and labels have frames"),
        }
    }

    /// Records that `container`'s `slot` must become label `open`'s value.
    fn wait(&mut self, open: u32, container: Value, slot: Slot) {
        let at = self.side.push(container);
        self.patches.entry(open).or_default().push((at, slot));
    }
}

#[cfg(test)]
mod tests;
