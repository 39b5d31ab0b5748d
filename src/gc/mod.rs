//! The collector: precise, moving, generational (docs/gc.md).
//!
//! * A **nursery** of fixed size takes every new object: allocation bumps
//!   [`valk_alloc_ptr`] up to [`valk_alloc_limit`], exported so that
//!   generated code inlines the fast path and calls [`valk_gc_alloc_slow`]
//!   when it fails.
//! * A **minor collection** copies the nursery's survivors into the old
//!   space (promotion at the first survival); its roots are the usual roots
//!   plus the fields the write barrier remembered (`barrier`) and the large
//!   objects allocated since the last collection.
//! * A **major collection** copies the nursery and the old space into a
//!   fresh old space sized from the live data, and marks the large objects
//!   (`large`): those never move and are unmapped when unreachable.
//! * Roots are explicit: the root stack (handles for Rust code, the
//!   interpreter's temporaries and argument vectors), root hooks registered
//!   by runtime modules (globals, symbol table, pending exception), root
//!   ranges registered by engines (constant tables), and compiled frames
//!   reported by the stack walker installed with [`set_stack_walker`].
//! * Past `VALK_HEAP_MAX` allocation fails with a clean "heap exhausted".
//! * `VALK_GC_STRESS` collects at every allocation (minor, major or mixed);
//!   `VALK_GC_VERIFY=1` checks the heap around every collection (`verify`);
//!   `VALK_GC_STATS=1` prints statistics at exit ([`finish`]).
//! * The collector's state is reached only through the scoped accessor
//!   `with_gc`, and a collection holds no reference to it while root hooks
//!   or the stack walker run (docs/gc.md, "Access discipline").
//!
//! The runtime is single-threaded: one heap per process, used by the thread
//! that runs Valk code.

pub mod barrier;
mod copier;
pub mod frames;
mod large;
mod space;
pub mod stackmap;
#[cfg(test)]
mod tests;
mod verify;
pub mod watermark;
pub mod weak;

pub use barrier::{valk_gc_remember, write_barrier};
pub use frames::valk_gc_alloc_slow;
pub use large::LARGE_MIN;

use crate::host::{env_flag, env_setting, parse_size};
use crate::value::{make_header, ObjType, Value, PAIR_BYTES};
use copier::{Copier, Range};
use large::LargeSpace;
use space::Space;
use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

/// Next free byte of the nursery (read and bumped by generated code).
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

/// The number of major collections: objects outside the nursery (which
/// [`barrier::is_young`] tells apart) have not moved since it was last
/// read if it is unchanged; minor collections move nursery objects only.
static MAJOR_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// See [`MAJOR_EPOCH`].
#[inline]
pub fn major_epoch() -> u64 {
    MAJOR_EPOCH.load(std::sync::atomic::Ordering::Relaxed)
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
    /// The object's new reference if it survived (a non-heap value, or an
    /// object of a generation this collection did not collect, is returned
    /// unchanged), `None` if it is garbage.
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

/// Pauses of one kind of collection.
#[derive(Clone, Copy, Debug, Default)]
pub struct PauseStats {
    pub count: u64,
    pub total: Duration,
    pub max: Duration,
}

impl PauseStats {
    fn add(&mut self, d: Duration) {
        self.count += 1;
        self.total += d;
        self.max = self.max.max(d);
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Minor and major collections together.
    pub collections: u64,
    pub minor: PauseStats,
    pub major: PauseStats,
    pub bytes_allocated: u64,
    /// Bytes copied by all collections (promotion included).
    pub bytes_copied: u64,
    /// Bytes copied out of the nursery into the old space.
    pub bytes_promoted: u64,
    pub objects_moved: u64,
    pub total_pause: Duration,
    pub max_pause: Duration,
    /// Size of the old space in bytes.
    pub heap_size: u64,
    /// Old-space bytes in use.
    pub old_bytes: u64,
    pub nursery_size: u64,
    /// Large objects and their bytes.
    pub large_objects: u64,
    pub large_bytes: u64,
    /// The most bytes the old space and the large objects held together.
    pub peak_heap_bytes: u64,
}

const DEFAULT_INITIAL: usize = 32 << 20;
const DEFAULT_MAX: usize = 8 << 30;
const DEFAULT_NURSERY: usize = 4 << 20;
const ROOT_STACK_SLOTS: usize = 64 << 20;
/// After a major collection with `live` bytes, the next one comes when the
/// old space and the large objects hold `GROWTH * live` bytes (at least
/// the initial size).
const GROWTH: usize = 2;

/// Which collection a stressed allocation runs (`VALK_GC_STRESS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StressKind {
    /// Minor collections, every [`MIXED_MAJOR_EVERY`]-th one major.
    Mixed,
    Minor,
    Major,
}
const MIXED_MAJOR_EVERY: u64 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Minor,
    Major,
}

struct Gc {
    nursery: Space,
    /// The old generation: objects are promoted by bumping its `top`.
    old: Space,
    large: LargeSpace,
    /// A major collection comes when the old space and the large objects
    /// hold more than this.
    major_threshold: usize,
    /// The old space's size at start-up (`VALK_HEAP_INITIAL`).
    min_old: usize,
    max_space: usize,
    stress: bool,
    stress_kind: StressKind,
    /// In stress mode, collect at every `stress_interval`-th allocation.
    stress_interval: u64,
    stress_count: u64,
    verify: bool,
    print_stats: bool,
    stats: Stats,
    /// Pauses in microseconds, kept for the percentiles when statistics are
    /// printed.
    minor_pauses: Vec<u32>,
    major_pauses: Vec<u32>,
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
        let nursery_size = env_setting("VALK_NURSERY", SIZE, parse_size)
            .unwrap_or(DEFAULT_NURSERY)
            .clamp(4 * LARGE_MIN, 1 << 30);
        let (stress_kind, stress_every) = env_setting(
            "VALK_GC_STRESS",
            "0, 1, an interval N, or minor, major, minor:N or major:N",
            parse_stress,
        )
        .unwrap_or((StressKind::Mixed, 0));
        let nursery = Space::new(nursery_size).unwrap_or_else(|| heap_exhausted(nursery_size));
        let old = Space::new(initial).unwrap_or_else(|| heap_exhausted(initial));
        barrier::set_young_range(nursery.start(), nursery.size() as u64);
        let mut gc = Gc {
            nursery,
            old,
            large: LargeSpace::default(),
            major_threshold: initial,
            min_old: initial,
            max_space,
            stress: stress_every > 0,
            stress_kind,
            stress_interval: stress_every.max(1),
            stress_count: 0,
            verify: env_flag("VALK_GC_VERIFY"),
            print_stats: env_flag("VALK_GC_STATS"),
            stats: Stats::default(),
            minor_pauses: Vec::new(),
            major_pauses: Vec::new(),
            root_hooks: Vec::new(),
            weak_hooks: Vec::new(),
            root_ranges: Vec::new(),
            stack_walker: None,
            in_collection: false,
        };
        gc.stats.heap_size = gc.old.size() as u64;
        gc.stats.nursery_size = gc.nursery.size() as u64;
        gc.reset_limit();
        gc
    }

    /// Restarts allocation at the nursery's `top`.
    fn reset_limit(&mut self) {
        set_alloc_ptr(self.nursery.top);
        set_alloc_limit(if self.stress {
            self.nursery.top
        } else {
            self.nursery.end()
        });
    }

    fn nursery_used(&self) -> usize {
        (alloc_ptr() - self.nursery.start()) as usize
    }

    /// `bytes` more fit in the nursery.
    fn fits(&self, bytes: usize) -> bool {
        alloc_ptr() as usize + bytes <= self.nursery.end() as usize
    }

    /// The old space and the large objects.
    fn heap_bytes(&self) -> usize {
        self.old.used() + self.large.bytes
    }

    /// The collection to run now: a minor one unless the old space might
    /// not hold the nursery's survivors or has reached its threshold.
    fn choose(&mut self, stressed: bool) -> Kind {
        let forced = stressed
            && match self.stress_kind {
                StressKind::Major => true,
                StressKind::Minor => false,
                StressKind::Mixed => {
                    self.stats.collections % MIXED_MAJOR_EVERY == MIXED_MAJOR_EVERY - 1
                }
            };
        if forced
            || self.old.free() < self.nursery_used()
            || self.heap_bytes() > self.major_threshold
        {
            Kind::Major
        } else {
            Kind::Minor
        }
    }
}

/// `VALK_GC_STRESS`: `N` (mixed), `minor`, `major`, `minor:N`, `major:N`.
fn parse_stress(s: &str) -> Option<(StressKind, u64)> {
    let (kind, n) = match s.split_once(':') {
        Some((k, n)) => (k, n.parse().ok().filter(|&n| n > 0)?),
        None => match s {
            "minor" | "major" => (s, 1),
            _ => ("mixed", s.parse().ok()?),
        },
    };
    let kind = match kind {
        "mixed" => StressKind::Mixed,
        "minor" => StressKind::Minor,
        "major" => StressKind::Major,
        _ => return None,
    };
    Some((kind, n))
}

fn heap_exhausted(request: usize) -> ! {
    crate::error::fatal(&format!(
        "heap exhausted (needed {} MiB more; the limit is set by VALK_HEAP_MAX)",
        request.div_ceil(1 << 20)
    ))
}

/// `bytes` (a multiple of 8) of fresh space: the inline bump, or the slow
/// path, which may collect (large requests always take it).
#[inline]
fn bump(bytes: u64) -> *mut u64 {
    let p = alloc_ptr();
    let np = p.wrapping_add(bytes);
    if np <= alloc_limit() && np > p && bytes < LARGE_MIN as u64 {
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
    if ty == ObjType::Pair {
        debug_assert_eq!(size, 2);
        return alloc_pair();
    }
    let bytes = (size as u64 + 1) * 8;
    let addr = bump(bytes);
    // SAFETY: `addr` is the start of `bytes` = 8 * (size + 1) bytes of
    // unused, 8-aligned space (below the limit on the fast path, or from
    // `alloc_slow`), which nothing else refers to.
    unsafe {
        *addr = make_header(ty, size);
        std::ptr::write_bytes(addr.add(1), 0, size);
    }
    Value::from_addr(addr, ty)
}

/// Allocates an object of a type whose payload the collector never reads
/// (bytevectors, strings, flonums, bignums) *without* clearing it: for
/// callers that overwrite the whole payload at once, before anything else
/// reads it (a continuation's stack copy, docs/continuations.md). Saves a
/// fill as long as the payload. May collect, like [`alloc`].
#[inline]
pub fn alloc_raw(ty: ObjType, size: usize) -> Value {
    debug_assert!(ty.traced_from(size) >= size && !ty.is_weak());
    let bytes = (size as u64 + 1) * 8;
    let addr = bump(bytes);
    // SAFETY: as in `alloc`; the payload is raw data the collector copies
    // bit for bit and never interprets, so stale bytes in it are harmless
    // to the heap (the caller fills them).
    unsafe { *addr = make_header(ty, size) };
    Value::from_addr(addr, ty)
}

/// A pair with car and cdr set to fixnum 0: two words, no header
/// (docs/gc.md, "Objects"). May collect, like [`alloc`].
#[inline]
pub fn alloc_pair() -> Value {
    let addr = bump(PAIR_BYTES);
    // SAFETY: `addr` is the start of 16 bytes of unused, 8-aligned space.
    unsafe { std::ptr::write_bytes(addr, 0, 2) };
    Value::pair_at(addr)
}

/// Allocates `count` consecutive pairs (cars and cdrs set to fixnum 0) in
/// one bump, and returns the address of the first car; pair `i`'s car is
/// `2 * i` words later ([`Value::pair_at`]). One allocation instead of
/// `count`: builders of lists need no root per intermediate pair. May
/// collect, like [`alloc`]. The block must stay below [`LARGE_MIN`] bytes:
/// a large object's space holds one object.
pub fn alloc_pairs(count: usize) -> *mut u64 {
    let bytes = PAIR_BYTES * count as u64;
    debug_assert!(bytes < LARGE_MIN as u64);
    let addr = bump(bytes);
    // SAFETY: `addr` starts `bytes` bytes of fresh, 8-aligned space (as in
    // `alloc`).
    unsafe { std::ptr::write_bytes(addr, 0, 2 * count) };
    addr
}

/// The allocation slow path behind the exit trampoline
/// [`valk_gc_alloc_slow`] that generated code calls: returns the address of
/// `bytes` bytes (a multiple of 8) of fresh space, collecting first.
extern "C" fn alloc_slow_entry(bytes: u64) -> *mut u64 {
    alloc_slow(bytes as usize)
}

/// What the allocation slow path does before allocating.
enum SlowStep {
    Allocate,
    Collect(Kind),
    TooLarge,
    InCollection,
}

#[cold]
fn alloc_slow(bytes: usize) -> *mut u64 {
    alloc_slow_in(bytes, bytes >= LARGE_MIN)
}

/// Allocates an object that never moves: in the large-object space
/// whatever its size (a mapping of its own, so at least a page). For data
/// that foreign code keeps a pointer to (docs/ffi.md, "Bytevectors").
/// May collect, like [`alloc`].
pub fn alloc_immobile(ty: ObjType, size: usize) -> Value {
    debug_assert!(ty != ObjType::Pair, "pairs have no header");
    let addr = alloc_slow_in((size + 1) * 8, true);
    // SAFETY: as in `alloc`: fresh, 8-aligned space of `size + 1` words.
    unsafe {
        *addr = make_header(ty, size);
        std::ptr::write_bytes(addr.add(1), 0, size);
    }
    Value::from_addr(addr, ty)
}

/// Whether heap object `v` never moves (it is in the large-object space).
pub fn is_immobile(v: Value) -> bool {
    v.is_heap() && with_gc(|g| g.large.contains(v.addr() as u64))
}

#[cold]
fn alloc_slow_in(bytes: usize, large: bool) -> *mut u64 {
    // Decide under the accessor; collect and report errors outside it
    // (both re-enter the collector: `fatal` prints its statistics).
    let step = with_gc(|g| {
        if g.in_collection {
            return SlowStep::InCollection;
        }
        // Hopeless requests fail before collecting.
        if bytes > g.max_space {
            return SlowStep::TooLarge;
        }
        let stress_now = g.stress && {
            g.stress_count += 1;
            g.stress_count.is_multiple_of(g.stress_interval)
        };
        if large {
            if stress_now {
                SlowStep::Collect(g.choose(true))
            } else if g.heap_bytes() + bytes > g.major_threshold {
                SlowStep::Collect(Kind::Major)
            } else {
                SlowStep::Allocate
            }
        } else if stress_now || !g.fits(bytes) {
            SlowStep::Collect(g.choose(stress_now))
        } else {
            SlowStep::Allocate
        }
    });
    match step {
        SlowStep::InCollection => {
            crate::error::fatal("internal error: allocation during garbage collection")
        }
        SlowStep::TooLarge => heap_exhausted(bytes),
        SlowStep::Collect(Kind::Minor) => collect_minor(),
        SlowStep::Collect(Kind::Major) => collect_major(if large { bytes } else { 0 }),
        SlowStep::Allocate => {}
    }
    let p = with_gc(|g| {
        if large {
            if g.heap_bytes() + bytes > g.max_space {
                return None;
            }
            let p = g.large.alloc(bytes)?;
            let heap = g.heap_bytes() as u64;
            g.stats.peak_heap_bytes = g.stats.peak_heap_bytes.max(heap);
            g.stats.bytes_allocated += bytes as u64;
            return Some(p as u64);
        }
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

/// Forces a major collection: every object that can move, moves.
pub fn collect() {
    collect_major(0);
}

/// Forces a minor collection (a major one if the old space might not hold
/// the nursery's survivors).
pub fn collect_minor() {
    match with_gc(|g| g.choose(false)) {
        Kind::Minor => minor(),
        Kind::Major => collect_major(0),
    }
}

/// Everything a collection needs to find its roots, fetched under the
/// accessor and called outside it.
fn visit_roots(v: &mut dyn RootVisitor) {
    // The root stack's slots are cells: no accessor needed.
    for slot in &root_slots()[..GC.root_sp.get()] {
        let mut x = slot.get();
        v.visit(&mut x);
        slot.set(x);
    }
    // Hooks one at a time, each fetched under the accessor and called
    // outside it.
    let mut i = 0;
    while let Some(hook) = with_gc(|g| g.root_hooks.get(i).copied()) {
        hook(v);
        i += 1;
    }
    let (ranges, walker) = with_gc(|g| (g.root_ranges.clone(), g.stack_walker));
    for (ptr, len) in ranges {
        for i in 0..len {
            // SAFETY: `add_root_range`'s contract: `len` values at `ptr`
            // valid for the life of the process, not otherwise borrowed
            // while the collector runs.
            v.visit(unsafe { &mut *ptr.add(i) });
        }
    }
    if let Some(walker) = walker {
        // SAFETY: a collection is the walker's calling context (see
        // `StackWalker`): every compiled frame is stopped at a call that
        // went through an exit trampoline, since the only way into the
        // collector from compiled code is such a call.
        unsafe { walker(v) };
    }
}

/// Calls the weak hooks, after everything live has been copied; one at a
/// time, outside the accessor (as the root hooks).
fn visit_weak(c: &Copier) {
    let mut i = 0;
    while let Some(hook) = with_gc(|g| g.weak_hooks.get(i).copied()) {
        hook(c);
        i += 1;
    }
}

/// Minor collection: copies the nursery's survivors to the top of the old
/// space. The caller made sure they fit (`Gc::choose`).
///
/// Root hooks and the stack walker are code outside the collector (and may
/// fail through `fatal`, which reads the statistics), so they run with no
/// `&mut Gc` alive: the copying state is the local `Copier`, passed to them
/// explicitly, and the collector's state is reacquired afterwards
/// (docs/gc.md, "Access discipline").
fn minor() {
    let t0 = Instant::now();
    let (mut copier, verify) = with_gc(|g| {
        g.in_collection = true;
        g.stats.bytes_allocated += g.nursery_used() as u64;
        let used = g.nursery_used() as u64;
        let c = Copier {
            young: Range {
                lo: g.nursery.start(),
                size: used,
            },
            old: Range::EMPTY,
            to: Range {
                lo: g.old.start(),
                size: g.old.size() as u64,
            },
            top: g.old.top,
            moved: 0,
            major: false,
            large: std::mem::take(&mut g.large),
            large_pending: Vec::new(),
            weak: Vec::new(),
        };
        (c, g.verify)
    });
    let start = copier.top;
    let remembered = barrier::take();
    if verify {
        verify::check_barrier(
            copier.young,
            (copier.to.lo, copier.top),
            &copier.large,
            &remembered,
            &weak::remembered(),
        );
    }
    watermark::begin_walk(true);
    visit_roots(&mut copier);
    for &slot in &remembered {
        // SAFETY: a remembered slot is a field of an object outside the
        // nursery (the barrier's test), which stays where it is until the
        // next major collection, and that empties the set.
        copier.visit(unsafe { &mut *(slot as *mut Value) });
    }
    barrier::put_back(remembered);
    // Large objects allocated since the last collection were initialised
    // without the barrier: all their fields are roots.
    for a in std::mem::take(&mut copier.large.young) {
        copier.scan_object(a as *mut u64);
    }
    copier.scan(start);
    weak::process(&mut copier, true);
    visit_weak(&copier);
    watermark::end_walk(frames::innermost_compiled_fp());
    let promoted = copier.top - start;
    finish_collection(Kind::Minor, t0, copier, promoted, verify, |g, c| {
        g.old.top = c.top;
    });
}

/// Major collection: copies the nursery and the old space into a fresh old
/// space, marks and sweeps the large objects, and sets the next threshold
/// from the live data. `request`: bytes of a large object about to be
/// allocated, counted as live.
fn collect_major(request: usize) {
    let t0 = Instant::now();
    let (from_young, from_old, to_size, min_old, verify) = with_gc(|g| {
        g.in_collection = true;
        g.stats.bytes_allocated += g.nursery_used() as u64;
        let required = g.old.used() + g.nursery_used();
        // Everything may survive, so the to-space holds all of it; room
        // beyond that is only address space until used.
        let want = (GROWTH * (required + g.large.bytes + request) + g.nursery.size())
            .max(g.min_old)
            .min(g.max_space);
        (
            Range {
                lo: g.nursery.start(),
                size: g.nursery_used() as u64,
            },
            Range {
                lo: g.old.start(),
                size: g.old.used() as u64,
            },
            want.max(required),
            g.min_old,
            g.verify,
        )
    });
    let to = Space::new(to_size).unwrap_or_else(|| heap_exhausted(to_size));
    let large = with_gc(|g| std::mem::take(&mut g.large));
    let mut copier = Copier {
        young: from_young,
        old: from_old,
        to: Range {
            lo: to.start(),
            size: to.size() as u64,
        },
        top: to.top,
        moved: 0,
        major: true,
        large,
        large_pending: Vec::new(),
        weak: Vec::new(),
    };
    // The remembered fields are all traced from the roots now.
    barrier::put_back(barrier::take());
    watermark::begin_walk(false);
    visit_roots(&mut copier);
    copier.scan(to.top);
    weak::process(&mut copier, false);
    visit_weak(&copier);
    watermark::end_walk(frames::innermost_compiled_fp());
    copier.large.sweep();
    let copied = copier.top - to.top;
    let mut to = Some(to);
    finish_collection(Kind::Major, t0, copier, copied, verify, |g, c| {
        let mut to = to.take().expect("to-space");
        to.top = c.top;
        // The previous old space is unmapped here: its memory goes back
        // to the system.
        g.old = to;
        let live = copied as usize + c.large.bytes;
        g.major_threshold = (GROWTH * live).max(min_old);
    });
    let short = with_gc(|g| {
        let need = g.heap_bytes() + request;
        (need > g.max_space).then_some(need - g.max_space)
    });
    if let Some(short) = short {
        heap_exhausted(short);
    }
}

/// Installs the result of a collection that copied `copied` bytes:
/// `install` updates the old space, then the nursery is emptied and the statistics updated.
fn finish_collection(
    kind: Kind,
    t0: Instant,
    copier: Copier,
    copied: u64,
    verify: bool,
    install: impl FnOnce(&mut Gc, &Copier),
) {
    with_gc(|g| {
        install(g, &copier);
        g.nursery.top = g.nursery.first();
        g.stats.collections += 1;
        EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if kind == Kind::Major {
            MAJOR_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        g.stats.bytes_copied += copied;
        g.stats.objects_moved += copier.moved;
        if kind == Kind::Minor {
            g.stats.bytes_promoted += copied;
        }
        g.large = copier.large;
        g.in_collection = false;
        g.reset_limit();
        g.update_sizes();
        let pause = t0.elapsed();
        g.stats.total_pause += pause;
        g.stats.max_pause = g.stats.max_pause.max(pause);
        let (stats, log) = match kind {
            Kind::Minor => (&mut g.stats.minor, &mut g.minor_pauses),
            Kind::Major => (&mut g.stats.major, &mut g.major_pauses),
        };
        stats.add(pause);
        if g.print_stats {
            log.push(pause.as_micros().min(u32::MAX as u128) as u32);
        }
    });
    if verify {
        let (old, large) = with_gc(|g| ((g.old.start(), g.old.top), std::mem::take(&mut g.large)));
        verify::check_heap(old, &large, visit_roots);
        with_gc(|g| g.large = large);
    }
}

impl Gc {
    fn update_sizes(&mut self) {
        let s = &mut self.stats;
        s.heap_size = self.old.size() as u64;
        s.old_bytes = self.old.used() as u64;
        s.large_objects = self.large.len() as u64;
        s.large_bytes = self.large.bytes as u64;
        s.peak_heap_bytes = s.peak_heap_bytes.max(s.old_bytes + s.large_bytes);
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
        s.bytes_allocated += g.nursery_used() as u64;
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
        // `reset_limit` restarts allocation at `nursery.top`, which is only
        // current right after a collection: keep what was allocated since.
        g.nursery.top = alloc_ptr();
        g.reset_limit();
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Human-readable statistics, one line each.
pub fn format_stats(s: &Stats) -> String {
    let kind = |name: &str, p: &PauseStats| {
        format!(
            "gc: {name} collections: {} (total {:.3} ms, max {:.3} ms)\n",
            p.count,
            ms(p.total),
            ms(p.max)
        )
    };
    format!(
        "gc: collections:    {}\n{}{}gc: bytes allocated: {}\ngc: bytes promoted: {}\n\
         gc: bytes copied:   {}\ngc: objects moved:  {}\ngc: total pause:    {:.3} ms\n\
         gc: max pause:      {:.3} ms\ngc: nursery size:   {} KiB\n\
         gc: old space:      {} KiB used of {} KiB\ngc: large objects:  {} ({} KiB)\n\
         gc: peak heap:      {} KiB\n",
        s.collections,
        kind("minor", &s.minor),
        kind("major", &s.major),
        s.bytes_allocated,
        s.bytes_promoted,
        s.bytes_copied,
        s.objects_moved,
        ms(s.total_pause),
        ms(s.max_pause),
        s.nursery_size / 1024,
        s.old_bytes / 1024,
        s.heap_size / 1024,
        s.large_objects,
        s.large_bytes / 1024,
        s.peak_heap_bytes / 1024,
    )
}

/// `p50 / p99 / max` of pauses in microseconds, as milliseconds.
fn percentiles(log: &[u32]) -> String {
    if log.is_empty() {
        return "-".into();
    }
    let mut v = log.to_vec();
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1e3;
    format!("{:.3} / {:.3} / {:.3} ms", at(0.5), at(0.99), at(1.0))
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
        let (minor, major) =
            with_gc(|g| (percentiles(&g.minor_pauses), percentiles(&g.major_pauses)));
        crate::eprint_quiet!(
            "{}gc: minor pauses p50/p99/max: {minor}\ngc: major pauses p50/p99/max: {major}\n",
            format_stats(&stats())
        );
    }
}
