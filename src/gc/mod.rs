//! The collector: precise, moving, Cheney-style semispace copying.
//!
//! * Allocation bumps [`valk_alloc_ptr`] up to [`valk_alloc_limit`]; both are
//!   exported symbols so that generated code can inline the fast path and
//!   call [`valk_gc_alloc_slow`] when it fails.
//! * Roots are explicit: the root stack (handles for Rust code, the
//!   interpreter's temporaries and argument vectors), root hooks registered
//!   by runtime modules (globals, symbol table, pending exception), root
//!   ranges registered by engines (constant tables), and compiled frames
//!   reported by the stack walker installed with [`set_stack_walker`].
//! * The heap grows when live data needs it (each semispace stays at least
//!   twice the live data); past `VALK_HEAP_MAX` allocation fails with a clean
//!   "heap exhausted" error.
//! * `VALK_GC_STRESS=1` collects at every allocation (`VALK_GC_STRESS=N`:
//!   at every N-th); `VALK_GC_STATS=1` prints statistics at exit ([`finish`]).
//! * The collector's state is reached only through the scoped accessor
//!   `with_gc`, and a collection holds no reference to it while root hooks
//!   or the stack walker run (docs/gc.md, "Access discipline").
//!
//! The runtime is single-threaded: one heap per process, used by the thread
//! that runs Valk code.

pub mod frames;
mod space;
pub mod stackmap;
#[cfg(test)]
mod tests;

pub use frames::valk_gc_alloc_slow;

use crate::host::{env_flag, env_setting, parse_size};
use crate::value::{header_is_forward, header_size, header_type, make_header, ObjType, Value};
use space::Space;
use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

/// Next free byte of the current semispace (read and bumped by generated code).
#[no_mangle]
pub static mut valk_alloc_ptr: u64 = 0;
/// End of the allocatable area; set equal to the pointer in stress mode so
/// every allocation takes the slow path.
#[no_mangle]
pub static mut valk_alloc_limit: u64 = 0;

/// The number of collections so far, for tables that hash objects by
/// address: a table whose recorded count differs rehashes those keys
/// (docs/hash-tables.md). A plain counter outside the guarded state, so
/// reading it is one load.
static EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The collection count (see [`EPOCH`]): objects have not moved since it
/// was last read if it is unchanged.
#[inline]
pub fn epoch() -> u64 {
    EPOCH.load(std::sync::atomic::Ordering::Relaxed)
}

/// Visits root slots; the collector passes one to every root source.
pub trait RootVisitor {
    /// `slot` holds a value; it is updated in place when its object moves.
    fn visit(&mut self, slot: &mut Value);
    /// `derived` is an interior address computed from the value in `base`
    /// (a field address in compiled code); it is rebased when `base` moves.
    /// Call this before `base` itself is visited.
    fn visit_derived(&mut self, base: &Value, derived: &mut u64);
}

/// A source of roots outside the collector (a runtime module's table).
pub type RootHook = fn(&mut dyn RootVisitor);

/// Answers, after a collection has traced everything, whether an object
/// survived: what a table holding objects weakly needs (docs/gc.md, "Weak
/// references").
pub trait WeakVisitor {
    /// The object's new reference if it survived (a non-heap value is
    /// returned unchanged), `None` if it is garbage.
    fn survivor(&self, v: Value) -> Option<Value>;
}

/// A table of weak references outside the collector: called once per
/// collection, after tracing, to update its survivors and drop (finalise)
/// its dead entries. It must not allocate on the Valk heap.
pub type WeakHook = fn(&dyn WeakVisitor);

/// Reports the live references in compiled frames (installed by the backend
/// once stack maps exist). Unsafe to call: only the collector calls it,
/// during a collection, when every compiled frame is stopped at a call
/// through an exit trampoline (docs/calling-convention.md).
pub type StackWalker = unsafe fn(&mut dyn RootVisitor);

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub collections: u64,
    pub bytes_allocated: u64,
    pub bytes_copied: u64,
    pub objects_moved: u64,
    pub total_pause: Duration,
    pub max_pause: Duration,
    /// Size of one semispace in bytes.
    pub heap_size: u64,
}

const DEFAULT_INITIAL: usize = 32 << 20;
const DEFAULT_MAX: usize = 8 << 30;
const ROOT_STACK_SLOTS: usize = 64 << 20;

struct Gc {
    space: Space,
    /// The other semispace kept for reuse when its size still fits.
    spare: Option<Space>,
    /// Allocation pointer right after the last collection (for stats).
    alloc_base: u64,
    max_space: usize,
    stress: bool,
    /// In stress mode, collect at every `stress_interval`-th allocation.
    stress_interval: u64,
    stress_count: u64,
    print_stats: bool,
    stats: Stats,
    root_hooks: Vec<RootHook>,
    weak_hooks: Vec<WeakHook>,
    root_ranges: Vec<(*mut Value, usize)>,
    stack_walker: Option<StackWalker>,
    in_collection: bool,
}

/// The collector's state behind its scoped accessor [`with_gc`], and the
/// root stack (docs/gc.md, "Access discipline").
struct GcCell {
    /// [`UNINIT`], [`READY`] or [`BUSY`] (a `with_gc` closure is running).
    state: Cell<u8>,
    /// Initialised exactly when `state` is not [`UNINIT`].
    gc: UnsafeCell<MaybeUninit<Gc>>,
    /// The root stack's [`ROOT_STACK_SLOTS`] slots (empty until the heap is
    /// initialised). `Cell`s: handle operations and the collector read and
    /// write them through shared references, so they need neither a
    /// `&mut Gc` nor the guard, and raw slot addresses stay valid to use.
    root_slots: Cell<&'static [Cell<Value>]>,
    /// The number of slots in use.
    root_sp: Cell<usize>,
}
const UNINIT: u8 = 0;
const READY: u8 = 1;
const BUSY: u8 = 2;
// SAFETY: the runtime is single-threaded (module docs): the heap is only
// used by the thread that runs Valk code, or, in the test harness, by one
// test thread at a time under the heap lock (`builtins::testing::lock`),
// whose mutex orders the accesses. No access happens concurrently.
unsafe impl Sync for GcCell {}
static GC: GcCell = GcCell {
    state: Cell::new(UNINIT),
    gc: UnsafeCell::new(MaybeUninit::uninit()),
    root_slots: Cell::new(&[]),
    root_sp: Cell::new(0),
};

/// Runs `f` with exclusive access to the collector's state: the only way to
/// reach it. `f` must not run code that can re-enter the collector (allocate,
/// collect, call root hooks or the stack walker, raise errors): a nested
/// access panics with an internal error instead of creating a second
/// `&mut Gc` (docs/gc.md, "Access discipline").
///
/// The handle operations (`Scope`, `Root`, `push_root`) do not come here:
/// the root stack is made of cells outside the guarded state, so they stay
/// a few inlined instructions. The first-use path stays out of line.
#[inline]
fn with_gc<R>(f: impl FnOnce(&mut Gc) -> R) -> R {
    match GC.state.get() {
        READY => {}
        UNINIT => gc_init(),
        _ => reentered(),
    }
    GC.state.set(BUSY);
    // Resets the state when `f` returns or unwinds (test builds unwind).
    struct Release;
    impl Drop for Release {
        #[inline]
        fn drop(&mut self) {
            GC.state.set(READY);
        }
    }
    let _release = Release;
    // SAFETY: the state was READY, so the cell is initialised and no other
    // reference into it exists: every `&mut Gc` is created here and lives
    // only while `f` runs, with the state BUSY, and the runtime is
    // single-threaded (see `GcCell`).
    let g = unsafe { (*GC.gc.get()).assume_init_mut() };
    f(g)
}

#[cold]
#[inline(never)]
fn gc_init() {
    // `Gc::new` does not touch `GC`; if it fails (the initial heap cannot
    // be mapped) it exits through `fatal`, whose `finish` sees UNINIT.
    let g = Gc::new();
    // SAFETY: UNINIT: nothing has been stored and no reference into the
    // cell exists (single thread, see `GcCell`).
    unsafe { (*GC.gc.get()).write(g) };
    GC.root_slots.set(new_root_stack());
    GC.state.set(READY);
}

/// The root stack's slots: zeroed memory (lazily committed), never freed or
/// reallocated, so slot addresses are stable for the life of the process.
fn new_root_stack() -> &'static [Cell<Value>] {
    let layout =
        std::alloc::Layout::array::<Cell<Value>>(ROOT_STACK_SLOTS).expect("root stack layout");
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: `p` is a fresh, aligned allocation of `ROOT_STACK_SLOTS`
    // slots, all zero bits, which is a valid `Cell<Value>` (fixnum 0); it is
    // leaked, so `'static` is right, and only shared references exist.
    unsafe { std::slice::from_raw_parts(p as *const Cell<Value>, ROOT_STACK_SLOTS) }
}

/// The root stack's slots, initialising the heap on first use.
#[inline]
fn root_slots() -> &'static [Cell<Value>] {
    let slots = GC.root_slots.get();
    if slots.is_empty() {
        root_slots_init()
    } else {
        slots
    }
}

#[cold]
#[inline(never)]
fn root_slots_init() -> &'static [Cell<Value>] {
    init();
    GC.root_slots.get()
}

#[cold]
#[inline(never)]
fn reentered() -> ! {
    panic!(
        "internal error: nested access to the collector's state \
         (code that can re-enter the collector ran inside `gc::with_gc`)"
    )
}

/// Prepares the heap (reads the environment switches). Idempotent; the first
/// allocation calls it too.
pub fn init() {
    with_gc(|_| ());
}

// The allocation pointer and limit are plain integers shared with generated
// code on the same thread; these accessors are the only Rust code that reads
// or writes them.

#[inline]
fn alloc_ptr() -> u64 {
    // SAFETY: a by-value read of an integer static; the runtime is
    // single-threaded (see `GcCell`), so no write races with it.
    unsafe { valk_alloc_ptr }
}

#[inline]
fn set_alloc_ptr(p: u64) {
    // SAFETY: as in `alloc_ptr`: a by-value write, no reference is formed.
    unsafe { valk_alloc_ptr = p }
}

#[inline]
fn alloc_limit() -> u64 {
    // SAFETY: as in `alloc_ptr`.
    unsafe { valk_alloc_limit }
}

#[inline]
fn set_alloc_limit(p: u64) {
    // SAFETY: as in `set_alloc_ptr`.
    unsafe { valk_alloc_limit = p }
}

impl Gc {
    fn new() -> Gc {
        const SIZE: &str = "a size such as 512M, 4G or 1048576";
        let max_space = env_setting("VALK_HEAP_MAX", SIZE, parse_size)
            .unwrap_or(DEFAULT_MAX)
            .max(1 << 20);
        let initial = env_setting("VALK_HEAP_INITIAL", SIZE, parse_size)
            .unwrap_or(DEFAULT_INITIAL)
            .clamp(64 << 10, max_space);
        // 0: off; N: a collection at every N-th allocation.
        let stress_every = env_setting("VALK_GC_STRESS", "0, 1 or a collection interval N", |s| {
            s.parse::<u64>().ok()
        })
        .unwrap_or(0);
        let space = Space::new(initial).unwrap_or_else(|| heap_exhausted(initial));
        let mut gc = Gc {
            alloc_base: space.start(),
            space,
            spare: None,
            max_space,
            stress: stress_every > 0,
            stress_interval: stress_every.max(1),
            stress_count: 0,
            print_stats: env_flag("VALK_GC_STATS"),
            stats: Stats::default(),
            root_hooks: Vec::new(),
            weak_hooks: Vec::new(),
            root_ranges: Vec::new(),
            stack_walker: None,
            in_collection: false,
        };
        gc.stats.heap_size = initial as u64;
        gc.reset_limit();
        gc
    }

    fn reset_limit(&mut self) {
        set_alloc_ptr(self.space.top);
        set_alloc_limit(if self.stress {
            self.space.top
        } else {
            self.space.end()
        });
    }

    fn live_bytes(&self) -> usize {
        (alloc_ptr() - self.space.start()) as usize
    }

    /// `bytes` more fit in the current semispace.
    fn fits(&self, bytes: usize) -> bool {
        alloc_ptr() as usize + bytes <= self.space.end() as usize
    }
}

fn heap_exhausted(request: usize) -> ! {
    crate::error::fatal(&format!(
        "heap exhausted (needed {} MiB more; the limit is set by VALK_HEAP_MAX)",
        request.div_ceil(1 << 20)
    ))
}

/// `bytes` (a multiple of 8) of fresh space: the inline bump, or the slow
/// path, which may collect.
#[inline]
fn bump(bytes: u64) -> *mut u64 {
    let p = alloc_ptr();
    let np = p.wrapping_add(bytes);
    if np <= alloc_limit() && np > p {
        set_alloc_ptr(np);
        p as *mut u64
    } else {
        alloc_slow(bytes as usize)
    }
}

/// Allocates an object with `size` payload words, all set to fixnum 0.
/// May collect: every value the caller holds must be rooted.
#[inline]
pub fn alloc(ty: ObjType, size: usize) -> Value {
    let bytes = (size as u64 + 1) * 8;
    let addr = bump(bytes);
    // SAFETY: `addr` is the start of `bytes` = 8 * (size + 1) bytes of
    // unused, 8-aligned space in the current semispace (below the limit on
    // the fast path, or from `alloc_slow`), which nothing else refers to.
    unsafe {
        *addr = make_header(ty, size);
        std::ptr::write_bytes(addr.add(1), 0, size);
    }
    Value::from_addr(addr, ty)
}

/// Allocates `count` consecutive objects of type `ty` with `size` payload
/// words each (payloads set to fixnum 0) in one bump, and returns the
/// address of the first header; object `i` starts `i * (size + 1)` words
/// later. One allocation instead of `count`: builders of lists need no
/// root per intermediate pair. May collect, like [`alloc`].
pub fn alloc_many(ty: ObjType, size: usize, count: usize) -> *mut u64 {
    let words = size + 1;
    let bytes = (words * count * 8) as u64;
    let addr = bump(bytes);
    for i in 0..count {
        // SAFETY: `addr` starts `bytes` bytes of fresh, 8-aligned space
        // (as in `alloc`); object `i` lies inside it.
        unsafe {
            let o = addr.add(i * words);
            *o = make_header(ty, size);
            std::ptr::write_bytes(o.add(1), 0, size);
        }
    }
    addr
}

/// The allocation slow path behind the exit trampoline
/// [`valk_gc_alloc_slow`] that generated code calls: returns the address of
/// `bytes` bytes (a multiple of 8) of fresh space, collecting first.
extern "C" fn alloc_slow_entry(bytes: u64) -> *mut u64 {
    alloc_slow(bytes as usize)
}

/// What the allocation slow path does before bumping the pointer.
enum SlowStep {
    Bump,
    Collect,
    TooLarge,
    InCollection,
}

#[cold]
fn alloc_slow(bytes: usize) -> *mut u64 {
    // Decide under the accessor; collect and report errors outside it
    // (both re-enter the collector: `fatal` prints its statistics).
    let step = with_gc(|g| {
        if g.in_collection {
            return SlowStep::InCollection;
        }
        // Hopeless requests fail before collecting or asking the system
        // for a to-space of that size.
        if bytes > g.max_space {
            return SlowStep::TooLarge;
        }
        let stress_now = g.stress && {
            g.stress_count += 1;
            g.stress_count.is_multiple_of(g.stress_interval)
        };
        if !g.fits(bytes) || stress_now {
            SlowStep::Collect
        } else {
            SlowStep::Bump
        }
    });
    match step {
        SlowStep::InCollection => {
            crate::error::fatal("internal error: allocation during garbage collection")
        }
        SlowStep::TooLarge => heap_exhausted(bytes),
        SlowStep::Collect => collect_for(bytes),
        SlowStep::Bump => {}
    }
    let p = with_gc(|g| {
        if !g.fits(bytes) {
            return None;
        }
        let p = alloc_ptr();
        set_alloc_ptr(p + bytes as u64);
        if g.stress {
            set_alloc_limit(p + bytes as u64);
        }
        Some(p)
    });
    p.unwrap_or_else(|| heap_exhausted(bytes)) as *mut u64
}

/// Forces a full collection.
pub fn collect() {
    collect_for(0);
}

/// Collects, then makes sure `request` more bytes fit with the semispace at
/// least twice the live data (growing it by a second copy when not).
fn collect_for(request: usize) {
    // Same size as the from-space (everything copied fits), so the spare
    // is reused and no fresh pages are faulted in; a request that still
    // does not fit is handled by the growth step below.
    copy_into(with_gc(|g| g.space.size()));
    let grow = with_gc(|g| {
        let live = g.live_bytes();
        let size = g.space.size();
        let want = 2 * (live + request);
        if want <= size {
            return Ok(None);
        }
        let new_size = want.max(2 * size).min(g.max_space);
        if new_size < live + request {
            return Err(live + request - size.min(live + request));
        }
        Ok((new_size > size).then_some(new_size))
    });
    match grow {
        Ok(Some(new_size)) => copy_into(new_size),
        Ok(None) => {}
        Err(short) => heap_exhausted(short),
    }
}

/// One Cheney collection into a to-space of `size` bytes.
///
/// Root hooks and the stack walker are code outside the collector (and may
/// fail through `fatal`, which reads the statistics), so they run with no
/// `&mut Gc` alive: the copying state is the local `Copier`, passed to them
/// explicitly, and the collector's state is reacquired afterwards
/// (docs/gc.md, "Access discipline").
fn copy_into(size: usize) {
    let t0 = Instant::now();
    let (from_start, from_end, spare) = with_gc(|g| {
        g.in_collection = true;
        g.stats.bytes_allocated += alloc_ptr() - g.alloc_base;
        (g.space.start(), g.space.end(), g.spare.take())
    });
    let to = match spare {
        Some(s) if s.size() == size => s,
        spare => {
            // Free an unusable spare before mapping its replacement.
            drop(spare);
            Space::new(size).unwrap_or_else(|| heap_exhausted(size))
        }
    };
    let mut copier = Copier {
        from_start,
        from_end,
        top: to.start(),
        moved: 0,
    };
    // Roots. The root stack's slots are cells: no accessor needed.
    for slot in &root_slots()[..GC.root_sp.get()] {
        slot.set(copier.forward(slot.get()));
    }
    // Hooks one at a time, each fetched under the accessor and called
    // outside it.
    let mut i = 0;
    while let Some(hook) = with_gc(|g| g.root_hooks.get(i).copied()) {
        hook(&mut copier);
        i += 1;
    }
    let walker = with_gc(|g| {
        for &(ptr, len) in g.root_ranges.iter() {
            for i in 0..len {
                // SAFETY: `add_root_range`'s contract: `len` values at `ptr`
                // valid for the life of the process, not otherwise borrowed
                // while the collector runs.
                copier.visit(unsafe { &mut *ptr.add(i) });
            }
        }
        g.stack_walker
    });
    if let Some(walker) = walker {
        // SAFETY: a collection is the walker's calling context (see
        // `StackWalker`): every compiled frame is stopped at a call that
        // went through an exit trampoline, since the only way into the
        // collector from compiled code is such a call.
        unsafe { walker(&mut copier) };
    }
    copier.scan(to.start());
    // Weak tables, after everything live has been copied; one at a time,
    // outside the accessor (as the root hooks).
    let mut i = 0;
    while let Some(hook) = with_gc(|g| g.weak_hooks.get(i).copied()) {
        hook(&copier);
        i += 1;
    }
    with_gc(|g| {
        let copied = copier.top - to.start();
        let old = std::mem::replace(&mut g.space, to);
        g.space.top = copier.top;
        g.spare = Some(old);
        g.alloc_base = copier.top;
        g.stats.collections += 1;
        EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        g.stats.bytes_copied += copied;
        g.stats.objects_moved += copier.moved;
        g.stats.heap_size = g.space.size() as u64;
        g.in_collection = false;
        g.reset_limit();
        let pause = t0.elapsed();
        g.stats.total_pause += pause;
        g.stats.max_pause = g.stats.max_pause.max(pause);
    });
}

struct Copier {
    from_start: u64,
    from_end: u64,
    top: u64,
    moved: u64,
}

impl Copier {
    #[inline]
    fn in_from(&self, v: Value) -> bool {
        let a = v.addr() as u64;
        v.is_heap() && a >= self.from_start && a < self.from_end
    }

    fn forward(&mut self, v: Value) -> Value {
        if !self.in_from(v) {
            return v;
        }
        let addr = v.addr();
        // SAFETY: `v` points into from-space, which still holds every
        // object of the heap (not yet freed): `addr` is an object's header,
        // or its forwarding pointer.
        let h = unsafe { *addr };
        if header_is_forward(h) {
            return Value(h);
        }
        let words = header_size(h) + 1;
        let new = self.top as *mut u64;
        // SAFETY: the object is `words` words at `addr`; to-space is at
        // least as large as from-space, so the words at `top` are unused
        // to-space, disjoint from from-space. The header is then replaced
        // by the forwarding pointer.
        unsafe {
            std::ptr::copy_nonoverlapping(addr, new, words);
            *addr = Value(new as u64 | v.tag()).0;
        }
        self.top += words as u64 * 8;
        self.moved += 1;
        Value(new as u64 | v.tag())
    }

    /// Cheney's scan: traces the objects copied to to-space, from `start`,
    /// until the scan pointer catches up with the allocation pointer.
    fn scan(&mut self, start: u64) {
        let mut scan = start;
        while scan < self.top {
            let addr = scan as *mut u64;
            // SAFETY: `scan` is below `top`, at the header of an object this
            // copier wrote (objects are contiguous from `start`).
            let h = unsafe { *addr };
            let ty = header_type(h).expect("corrupt header in to-space");
            let n = header_size(h);
            for i in ty.traced_from(n)..n {
                // SAFETY: word `1 + i` is within that object's `n` payload
                // words, aligned, and not otherwise borrowed; `visit` only
                // writes objects above `top`.
                let field = unsafe { &mut *(addr.add(1 + i) as *mut Value) };
                self.visit(field);
            }
            if ty == ObjType::Continuation {
                // The saved stack's compiled frames (docs/continuations.md):
                // its buffer (field 0) was forwarded just above, so the
                // frames are updated in their to-space copy, once.
                // SAFETY: field 0 of a continuation object is its buffer.
                let buffer = unsafe { *(addr.add(1) as *const Value) };
                if buffer.is_heap() {
                    // SAFETY: built by `cont` (see `walk_saved_stack`).
                    unsafe { frames::walk_saved_stack(buffer, self) };
                }
            }
            scan += (n as u64 + 1) * 8;
        }
    }
}

impl WeakVisitor for Copier {
    fn survivor(&self, v: Value) -> Option<Value> {
        if !self.in_from(v) {
            return Some(v);
        }
        // SAFETY: as in `forward`: from-space still holds every object.
        let h = unsafe { *v.addr() };
        header_is_forward(h).then_some(Value(h))
    }
}

impl RootVisitor for Copier {
    #[inline]
    fn visit(&mut self, slot: &mut Value) {
        *slot = self.forward(*slot);
    }
    fn visit_derived(&mut self, base: &Value, derived: &mut u64) {
        let offset = derived.wrapping_sub(base.0);
        let nb = self.forward(*base);
        *derived = nb.0.wrapping_add(offset);
    }
}

// ---------------------------------------------------------------------------
// Roots

/// A rooted slot on the root stack; valid until its [`Scope`] ends.
#[derive(Clone, Copy, Debug)]
pub struct Root(u32);

impl Root {
    #[inline]
    pub fn get(self) -> Value {
        root_get(self.0 as usize)
    }
    #[inline]
    pub fn set(self, v: Value) {
        root_put(self.0 as usize, v)
    }
    /// The slot's address (stable: the root stack never reallocates).
    #[inline]
    pub fn slot(self) -> *mut Value {
        root_slot(self.0 as usize)
    }
}

/// A handle scope: roots created through it are popped when it is dropped.
pub struct Scope {
    base: usize,
}

impl Scope {
    #[inline]
    pub fn new() -> Scope {
        Scope { base: root_sp() }
    }
    #[inline]
    pub fn root(&self, v: Value) -> Root {
        Root(push_root(v) as u32)
    }
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        set_root_sp(self.base);
    }
}

/// Pushes a value on the root stack and returns its index.
#[inline]
pub fn push_root(v: Value) -> usize {
    let slots = root_slots();
    let sp = GC.root_sp.get();
    match slots.get(sp) {
        Some(slot) => {
            slot.set(v);
            GC.root_sp.set(sp + 1);
            sp
        }
        None => root_stack_exhausted(),
    }
}

#[cold]
#[inline(never)]
fn root_stack_exhausted() -> ! {
    crate::error::fatal("stack overflow (root stack exhausted)")
}

/// The number of slots on the root stack.
#[inline]
pub fn root_sp() -> usize {
    // Initialises the heap on first use, as every handle operation does.
    root_slots();
    GC.root_sp.get()
}

/// Capacity of the root stack in slots. Engines raise `stack overflow`
/// before reaching it (see [`root_stack_nearly_full`]).
pub const ROOT_STACK_CAPACITY: usize = ROOT_STACK_SLOTS;

/// True when fewer than a million root slots are left: engines check this
/// where they check the machine stack, so deep recursion ends with a clean
/// `stack overflow` error rather than the fatal root-stack one.
#[inline]
pub fn root_stack_nearly_full() -> bool {
    root_sp() > ROOT_STACK_SLOTS - (1 << 20)
}

/// Pops the root stack back to `sp`.
#[inline]
pub fn set_root_sp(sp: usize) {
    // Only pops (a larger `sp` is ignored).
    if sp < GC.root_sp.get() {
        GC.root_sp.set(sp);
    }
}

/// Address of root stack slot `i` (stable for the life of the process:
/// the root stack is allocated once and never reallocates).
#[inline]
pub fn root_slot(i: usize) -> *mut Value {
    root_slots().as_ptr().wrapping_add(i) as *mut Value
}

/// Slot `i`, which must be in use (a bug otherwise, as indexing past the
/// end of a vector).
#[inline]
fn live_slot(i: usize) -> &'static Cell<Value> {
    &root_slots()[..GC.root_sp.get()][i]
}

/// Reads root stack slot `i`.
#[inline]
pub fn root_get(i: usize) -> Value {
    live_slot(i).get()
}

/// Writes root stack slot `i`.
#[inline]
pub fn root_put(i: usize, v: Value) {
    live_slot(i).set(v)
}

/// Registers a root source (called once per runtime module at start-up).
pub fn add_root_hook(hook: RootHook) {
    with_gc(|g| {
        if !g.root_hooks.iter().any(|h| *h as usize == hook as usize) {
            g.root_hooks.push(hook);
        }
    });
}

/// Registers a weak table (called once per runtime module at start-up).
pub fn add_weak_hook(hook: WeakHook) {
    with_gc(|g| {
        if !g.weak_hooks.iter().any(|h| *h as usize == hook as usize) {
            g.weak_hooks.push(hook);
        }
    });
}

/// Registers `len` values at `ptr` as roots, e.g. a compiled module's
/// constant table.
///
/// # Safety
/// `ptr` must point at `len` initialised, aligned values that stay valid
/// (and are not freed or moved) for the life of the process; the collector
/// reads and updates them at every collection.
pub unsafe fn add_root_range(ptr: *mut Value, len: usize) {
    with_gc(|g| g.root_ranges.push((ptr, len)));
}

/// Installs the walker that reports references held in compiled frames.
pub fn set_stack_walker(walker: StackWalker) {
    with_gc(|g| g.stack_walker = Some(walker));
}

// ---------------------------------------------------------------------------
// Statistics

pub fn stats() -> Stats {
    with_gc(|g| {
        let mut s = g.stats;
        s.bytes_allocated += alloc_ptr() - g.alloc_base;
        s
    })
}

pub fn stress_enabled() -> bool {
    with_gc(|g| g.stress)
}

/// Turns stress mode on or off (tests; `VALK_GC_STRESS` sets it at start-up).
pub fn set_stress(on: bool) {
    with_gc(|g| {
        g.stress = on;
        // `reset_limit` restarts allocation at `space.top`, which is only
        // current right after a collection: keep what was allocated since.
        g.space.top = alloc_ptr();
        g.reset_limit();
    });
}

/// Human-readable statistics, one line each.
pub fn format_stats(s: &Stats) -> String {
    format!(
        "gc: collections:    {}\ngc: bytes allocated: {}\ngc: bytes copied:   {}\n\
         gc: objects moved:  {}\ngc: total pause:    {:.3} ms\ngc: max pause:      {:.3} ms\n\
         gc: semispace size: {} KiB\n",
        s.collections,
        s.bytes_allocated,
        s.bytes_copied,
        s.objects_moved,
        s.total_pause.as_secs_f64() * 1e3,
        s.max_pause.as_secs_f64() * 1e3,
        s.heap_size / 1024
    )
}

/// Called by every engine at exit: prints statistics when `VALK_GC_STATS`
/// is set.
pub fn finish() {
    // Only a ready heap: a failure while creating the heap reaches here
    // through `fatal` (there is nothing to print, and initialising again
    // would recurse), and so does one inside a `with_gc` closure.
    if GC.state.get() != READY {
        return;
    }
    if with_gc(|g| g.print_stats) {
        crate::eprint_quiet!("{}", format_stats(&stats()));
    }
}
