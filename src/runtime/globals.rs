//! Global variables live in value cells with stable addresses, so that
//! compiled code can load a global through a fixed pointer and a REPL
//! redefinition is seen by every caller. A cell holds
//! [`Value::UNDEFINED`] while the global is unbound.
//!
//! The cells of builtins are *watched* (docs/tiering.md, "Redefining
//! builtins"): every write of one sets or clears its byte in
//! [`valk_redefined`], which compiled code that inlined the builtin tests
//! before using its inline form.

use crate::gc::{self, RootVisitor};
use crate::guarded::Guarded;
use crate::object;
use crate::value::{ProcInfo, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};

/// Room in [`valk_redefined`]: one byte per builtin and per `%` alias of
/// one (`builtins::redefinition_index`).
pub const REDEFINED_CAPACITY: usize = 1024;

/// Byte `i` is 1 while the global whose redefinition index is `i` (a
/// builtin's name, or a `%` alias of one) holds anything but that builtin's
/// procedure. Compiled code that inlined the builtin (or calls its runtime
/// function directly) loads the byte before each such use and calls the
/// global's value instead when it is set (docs/tiering.md). Written only
/// by the thread that runs Valk code, at each write of a watched cell.
#[no_mangle]
pub static valk_redefined: [AtomicU8; REDEFINED_CAPACITY] =
    [const { AtomicU8::new(0) }; REDEFINED_CAPACITY];

/// A watched cell: its byte in [`valk_redefined`] and the procedure
/// information of the builtin it starts with.
#[derive(Clone, Copy)]
struct Watch {
    index: u32,
    info: &'static ProcInfo,
}

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
    /// Indexed by `GlobalId`: the watched cells (builtins).
    watch: Vec<Option<Watch>>,
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
        watch: Vec::new(),
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

/// Writes the global's cell (and, for a builtin's cell, its
/// [`valk_redefined`] byte).
#[inline]
pub fn set(id: GlobalId, v: Value) {
    let i = id.0 as usize;
    let (chunk, watch) = with_table(|t| (t.chunks[i / CHUNK], t.watch.get(i).copied().flatten()));
    chunk[i % CHUNK].set(v);
    if let Some(w) = watch {
        note(w, v);
    }
}

/// Records whether a watched cell now holds something other than its
/// builtin.
fn note(w: Watch, v: Value) {
    let builtin = v.is_closure() && std::ptr::eq(object::closure_info(v), w.info);
    valk_redefined[w.index as usize].store(u8::from(!builtin), Ordering::Relaxed);
}

/// Watches the cell of global `id`, which holds the builtin whose closures
/// carry `info`: from now on its byte `index` of [`valk_redefined`] says
/// whether it still does (`builtins::install`).
pub fn watch(id: GlobalId, index: u32, info: &'static ProcInfo) {
    assert!(
        (index as usize) < REDEFINED_CAPACITY,
        "internal error: more builtins than REDEFINED_CAPACITY"
    );
    let w = Watch { index, info };
    with_table(|t| {
        let i = id.0 as usize;
        if t.watch.len() <= i {
            t.watch.resize(i + 1, None);
        }
        t.watch[i] = Some(w);
    });
    note(w, get(id));
}

/// Called by compiled code after it wrote the cell at `cell` (a
/// `global_written` instruction follows each write of a builtin's global,
/// docs/vir.md): updates the cell's [`valk_redefined`] byte. A leaf: it
/// neither allocates nor raises.
///
/// # Safety
/// `cell` must be the address of a global's value cell ([`slot`]).
#[no_mangle]
pub unsafe extern "C" fn valk_rt_global_written(cell: *const Value) {
    let found = with_table(|t| {
        t.chunks.iter().enumerate().find_map(|(k, chunk)| {
            let base = chunk.as_ptr() as usize;
            let offset = (cell as usize).wrapping_sub(base);
            (offset < CHUNK * std::mem::size_of::<Cell<Value>>())
                .then(|| k * CHUNK + offset / std::mem::size_of::<Cell<Value>>())
                .and_then(|i| t.watch.get(i).copied().flatten())
        })
    });
    if let Some(w) = found {
        // SAFETY: `cell` is a value cell (the caller's contract), which
        // lives for the life of the process.
        note(w, unsafe { *cell });
    }
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
