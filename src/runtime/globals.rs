//! Global variables live in value cells with stable addresses, so that
//! compiled code can load a global through a fixed pointer and a REPL
//! redefinition is seen by every caller. A cell holds
//! [`Value::UNDEFINED`] while the global is unbound.

use crate::gc::{self, RootVisitor};
use crate::value::Value;
use std::cell::UnsafeCell;
use std::collections::HashMap;

const CHUNK: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalId(pub u32);

#[derive(Default)]
struct Table {
    chunks: Vec<Box<[Value; CHUNK]>>,
    names: Vec<String>,
    by_name: HashMap<String, GlobalId>,
}

struct Cell(UnsafeCell<Option<Table>>);
// SAFETY: the runtime is single-threaded (docs/architecture.md).
unsafe impl Sync for Cell {}
static GLOBALS: Cell = Cell(UnsafeCell::new(None));

/// The table. Callers use the reference for one operation and never hold
/// it across an allocation, which may run the root hook `visit`.
fn table() -> &'static mut Table {
    // SAFETY: single-threaded (see `Cell`), and no reference from an
    // earlier call is still in use (see above).
    unsafe {
        let t = &mut *GLOBALS.0.get();
        if t.is_none() {
            *t = Some(Table::default());
            gc::add_root_hook(visit);
        }
        t.as_mut().unwrap()
    }
}

fn visit(v: &mut dyn RootVisitor) {
    let t = table();
    let n = t.names.len();
    for i in 0..n {
        v.visit(&mut t.chunks[i / CHUNK][i % CHUNK]);
    }
}

/// The id of the global named `name`, creating an unbound cell if needed.
pub fn global_id(name: &str) -> GlobalId {
    let t = table();
    if let Some(&id) = t.by_name.get(name) {
        return id;
    }
    let i = t.names.len();
    if i.is_multiple_of(CHUNK) {
        t.chunks.push(Box::new([Value::UNDEFINED; CHUNK]));
    }
    t.names.push(name.to_string());
    let id = GlobalId(i as u32);
    t.by_name.insert(name.to_string(), id);
    id
}

/// The id of `name` if a cell exists.
pub fn lookup(name: &str) -> Option<GlobalId> {
    table().by_name.get(name).copied()
}

pub fn name(id: GlobalId) -> &'static str {
    &table().names[id.0 as usize]
}

/// The cell's address, stable for the life of the process.
#[inline]
pub fn slot(id: GlobalId) -> *mut Value {
    let i = id.0 as usize;
    &mut table().chunks[i / CHUNK][i % CHUNK] as *mut Value
}

#[inline]
pub fn get(id: GlobalId) -> Value {
    // SAFETY: a cell of the table: boxed chunks never move or get freed.
    unsafe { *slot(id) }
}

#[inline]
pub fn set(id: GlobalId, v: Value) {
    // SAFETY: as in `get`.
    unsafe { *slot(id) = v }
}

/// Names of all bound globals (REPL completion).
pub fn bound_names() -> Vec<String> {
    let t = table();
    (0..t.names.len())
        .filter(|&i| t.chunks[i / CHUNK][i % CHUNK] != Value::UNDEFINED)
        .map(|i| t.names[i].clone())
        .collect()
}
