//! Global variables live in value cells with stable addresses, so that
//! compiled code can load a global through a fixed pointer and a REPL
//! redefinition is seen by every caller. A cell holds
//! [`Value::UNDEFINED`] while the global is unbound.

use crate::gc::{self, RootVisitor};
use crate::guarded::Guarded;
use crate::value::Value;
use std::cell::Cell;
use std::collections::HashMap;

const CHUNK: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalId(pub u32);

/// A chunk of value cells, leaked so that a cell's address is stable and
/// `&'static`: compiled code reads and writes the cells through raw
/// pointers (`slot`), which `Cell` permits.
type Chunk = [Cell<Value>; CHUNK];

struct Table {
    chunks: Vec<&'static Chunk>,
    /// Names are leaked too (globals are never removed), so `name` can
    /// return them without holding the table.
    names: Vec<&'static str>,
    by_name: HashMap<&'static str, GlobalId>,
}

// SAFETY: the runtime is single-threaded (docs/architecture.md): the table
// is used by the thread that runs Valk code only.
static GLOBALS: Guarded<Table> = unsafe { Guarded::new("the global table", new_table) };

fn new_table() -> Table {
    gc::add_root_hook(visit);
    Table {
        chunks: Vec::new(),
        names: Vec::new(),
        by_name: HashMap::new(),
    }
}

/// Runs `f` on the table; `f` must not allocate on the Valk heap
/// (docs/architecture.md, "Unsafe code"): a collection runs `visit`.
#[inline]
fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    GLOBALS.with(f)
}

fn visit(v: &mut dyn RootVisitor) {
    with_table(|t| {
        for i in 0..t.names.len() {
            let cell = &t.chunks[i / CHUNK][i % CHUNK];
            let mut x = cell.get();
            v.visit(&mut x);
            cell.set(x);
        }
    });
}

/// The id of the global named `name`, creating an unbound cell if needed.
pub fn global_id(name: &str) -> GlobalId {
    with_table(|t| {
        if let Some(&id) = t.by_name.get(name) {
            return id;
        }
        let i = t.names.len();
        if i.is_multiple_of(CHUNK) {
            let chunk: Box<Chunk> = Box::new([const { Cell::new(Value::UNDEFINED) }; CHUNK]);
            t.chunks.push(Box::leak(chunk));
        }
        let name: &'static str = Box::leak(name.into());
        t.names.push(name);
        let id = GlobalId(i as u32);
        t.by_name.insert(name, id);
        id
    })
}

/// The id of `name` if a cell exists.
pub fn lookup(name: &str) -> Option<GlobalId> {
    with_table(|t| t.by_name.get(name).copied())
}

pub fn name(id: GlobalId) -> &'static str {
    with_table(|t| t.names[id.0 as usize])
}

/// The global's value cell, which lives for the life of the process.
#[inline]
pub fn cell(id: GlobalId) -> &'static Cell<Value> {
    let i = id.0 as usize;
    let chunk: &'static Chunk = with_table(|t| t.chunks[i / CHUNK]);
    &chunk[i % CHUNK]
}

/// The cell's address, stable for the life of the process.
#[inline]
pub fn slot(id: GlobalId) -> *mut Value {
    cell(id).as_ptr()
}

#[inline]
pub fn get(id: GlobalId) -> Value {
    cell(id).get()
}

#[inline]
pub fn set(id: GlobalId, v: Value) {
    cell(id).set(v)
}

/// Names of all bound globals (REPL completion).
/// The name the user wrote for a global cell: definitions in a library or
/// in a program with `import` live in cells renamed `(lib name)::name`
/// (docs/libraries.md).
pub fn user_name(cell: &str) -> &str {
    match cell.find(")::") {
        Some(i) if cell.starts_with('(') => &cell[i + 3..],
        _ => cell,
    }
}

pub fn bound_names() -> Vec<String> {
    with_table(|t| {
        (0..t.names.len())
            .filter(|&i| t.chunks[i / CHUNK][i % CHUNK].get() != Value::UNDEFINED)
            .map(|i| t.names[i].to_string())
            .collect()
    })
}
