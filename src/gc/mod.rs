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
//!
//! The runtime is single-threaded: one heap per process, used by the thread
//! that runs Valk code.

pub mod frames;
mod space;
pub mod stackmap;
#[cfg(test)]
mod tests;

pub use frames::valk_gc_alloc_slow;

use crate::value::{header_is_forward, header_size, header_type, make_header, ObjType, Value};
use space::Space;
use std::cell::UnsafeCell;
use std::time::{Duration, Instant};

/// Next free byte of the current semispace (read and bumped by generated code).
#[no_mangle]
pub static mut valk_alloc_ptr: u64 = 0;
/// End of the allocatable area; set equal to the pointer in stress mode so
/// every allocation takes the slow path.
#[no_mangle]
pub static mut valk_alloc_limit: u64 = 0;

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

/// Reports the live references in compiled frames (installed by the backend
/// once stack maps exist).
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
    roots: Vec<Value>,
    root_hooks: Vec<RootHook>,
    root_ranges: Vec<(*mut Value, usize)>,
    stack_walker: Option<StackWalker>,
    in_collection: bool,
}

struct GcCell(UnsafeCell<Option<Gc>>);
// The runtime is single-threaded (see module docs).
unsafe impl Sync for GcCell {}
static GC: GcCell = GcCell(UnsafeCell::new(None));

fn env_flag(name: &str) -> bool {
    matches!(std::env::var(name).as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

/// Parses sizes like `512M`, `4G`, `1048576`.
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1usize << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}

/// Inlined into the handle operations (`Scope`, `Root`, `push_root`) that
/// Rust code runs at every allocation; the first-use path stays out of line.
#[inline]
fn gc() -> &'static mut Gc {
    unsafe {
        match (*GC.0.get()).as_mut() {
            Some(g) => g,
            None => gc_init(),
        }
    }
}

#[cold]
#[inline(never)]
fn gc_init() -> &'static mut Gc {
    unsafe {
        let slot = &mut *GC.0.get();
        if slot.is_none() {
            *slot = Some(Gc::new());
        }
        slot.as_mut().unwrap()
    }
}

/// Prepares the heap (reads the environment switches). Idempotent; the first
/// allocation calls it too.
pub fn init() {
    gc();
}

impl Gc {
    fn new() -> Gc {
        let max_space = std::env::var("VALK_HEAP_MAX")
            .ok()
            .and_then(|s| parse_size(&s))
            .unwrap_or(DEFAULT_MAX)
            .max(1 << 20);
        let initial = std::env::var("VALK_HEAP_INITIAL")
            .ok()
            .and_then(|s| parse_size(&s))
            .unwrap_or(DEFAULT_INITIAL)
            .clamp(64 << 10, max_space);
        let space = Space::new(initial).unwrap_or_else(|| heap_exhausted(initial));
        let mut gc = Gc {
            alloc_base: space.start(),
            space,
            spare: None,
            max_space,
            stress: env_flag("VALK_GC_STRESS"),
            stress_interval: std::env::var("VALK_GC_STRESS")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .max(1),
            stress_count: 0,
            print_stats: env_flag("VALK_GC_STATS"),
            stats: Stats::default(),
            roots: Vec::with_capacity(ROOT_STACK_SLOTS),
            root_hooks: Vec::new(),
            root_ranges: Vec::new(),
            stack_walker: None,
            in_collection: false,
        };
        gc.stats.heap_size = initial as u64;
        gc.reset_limit();
        gc
    }

    fn reset_limit(&mut self) {
        unsafe {
            valk_alloc_ptr = self.space.top;
            valk_alloc_limit = if self.stress {
                self.space.top
            } else {
                self.space.end()
            };
        }
    }

    fn live_bytes(&self) -> usize {
        (unsafe { valk_alloc_ptr } - self.space.start()) as usize
    }
}

fn heap_exhausted(request: usize) -> ! {
    crate::error::fatal(&format!(
        "heap exhausted (needed {} MiB more; the limit is set by VALK_HEAP_MAX)",
        request.div_ceil(1 << 20)
    ))
}

/// Allocates an object with `size` payload words, all set to fixnum 0.
/// May collect: every value the caller holds must be rooted.
#[inline]
pub fn alloc(ty: ObjType, size: usize) -> Value {
    let bytes = (size as u64 + 1) * 8;
    unsafe {
        let p = valk_alloc_ptr;
        let np = p.wrapping_add(bytes);
        let addr = if np <= valk_alloc_limit && np > p {
            valk_alloc_ptr = np;
            p as *mut u64
        } else {
            alloc_slow(bytes as usize)
        };
        *addr = make_header(ty, size);
        std::ptr::write_bytes(addr.add(1), 0, size);
        Value::from_addr(addr, ty)
    }
}

/// The allocation slow path behind the exit trampoline
/// [`valk_gc_alloc_slow`] that generated code calls: returns the address of
/// `bytes` bytes (a multiple of 8) of fresh space, collecting first.
extern "C" fn alloc_slow_entry(bytes: u64) -> *mut u64 {
    alloc_slow(bytes as usize)
}

#[cold]
fn alloc_slow(bytes: usize) -> *mut u64 {
    let g = gc();
    if g.in_collection {
        crate::error::fatal("internal error: allocation during garbage collection");
    }
    // Hopeless requests fail before collecting or asking the system for a
    // to-space of that size.
    if bytes > g.max_space {
        heap_exhausted(bytes);
    }
    let fits = |g: &Gc| unsafe { valk_alloc_ptr as usize + bytes <= g.space.end() as usize };
    let stress_now = g.stress && {
        g.stress_count += 1;
        g.stress_count.is_multiple_of(g.stress_interval)
    };
    if !fits(g) || stress_now {
        collect_for(bytes);
    }
    let g = gc();
    if !fits(g) {
        heap_exhausted(bytes);
    }
    unsafe {
        let p = valk_alloc_ptr;
        valk_alloc_ptr = p + bytes as u64;
        if g.stress {
            valk_alloc_limit = valk_alloc_ptr;
        }
        p as *mut u64
    }
}

/// Forces a full collection.
pub fn collect() {
    collect_for(0);
}

/// Collects, then makes sure `request` more bytes fit with the semispace at
/// least twice the live data (growing it by a second copy when not).
fn collect_for(request: usize) {
    let g = gc();
    // Same size as the from-space (everything copied fits), so the spare
    // is reused and no fresh pages are faulted in; a request that still
    // does not fit is handled by the growth step below.
    copy_into(g.space.size());
    let g = gc();
    let live = g.live_bytes();
    let want = 2 * (live + request);
    if want > g.space.size() {
        let new_size = want.max(2 * g.space.size()).min(g.max_space);
        if new_size < live + request {
            heap_exhausted(live + request - g.space.size().min(live + request));
        }
        if new_size > g.space.size() {
            copy_into(new_size);
        }
    }
}

/// One Cheney collection into a to-space of `size` bytes.
fn copy_into(size: usize) {
    let g = gc();
    let t0 = Instant::now();
    g.in_collection = true;
    g.stats.bytes_allocated += unsafe { valk_alloc_ptr } - g.alloc_base;
    let to = match g.spare.take() {
        Some(s) if s.size() == size => s,
        spare => {
            // Free an unusable spare before mapping its replacement.
            drop(spare);
            Space::new(size).unwrap_or_else(|| heap_exhausted(size))
        }
    };
    let mut copier = Copier {
        from_start: g.space.start(),
        from_end: g.space.end(),
        top: to.start(),
        moved: 0,
    };
    // Roots.
    for slot in g.roots.iter_mut() {
        copier.visit(slot);
    }
    for i in 0..g.root_hooks.len() {
        let hook = g.root_hooks[i];
        hook(&mut copier);
    }
    for &(ptr, len) in g.root_ranges.iter() {
        for i in 0..len {
            unsafe { copier.visit(&mut *ptr.add(i)) };
        }
    }
    if let Some(walker) = g.stack_walker {
        unsafe { walker(&mut copier) };
    }
    // Scan to-space.
    let mut scan = to.start();
    while scan < copier.top {
        let addr = scan as *mut u64;
        let h = unsafe { *addr };
        let ty = header_type(h).expect("corrupt header in to-space");
        let n = header_size(h);
        for i in ty.traced_from(n)..n {
            unsafe {
                let field = &mut *(addr.add(1 + i) as *mut Value);
                copier.visit(field);
            }
        }
        scan += (n as u64 + 1) * 8;
    }
    let copied = copier.top - to.start();
    let old = std::mem::replace(&mut g.space, to);
    g.space.top = copier.top;
    g.spare = Some(old);
    g.alloc_base = copier.top;
    g.stats.collections += 1;
    g.stats.bytes_copied += copied;
    g.stats.objects_moved += copier.moved;
    g.stats.heap_size = g.space.size() as u64;
    g.in_collection = false;
    g.reset_limit();
    let pause = t0.elapsed();
    g.stats.total_pause += pause;
    g.stats.max_pause = g.stats.max_pause.max(pause);
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
        let h = unsafe { *addr };
        if header_is_forward(h) {
            return Value(h);
        }
        let words = header_size(h) + 1;
        let new = self.top as *mut u64;
        unsafe { std::ptr::copy_nonoverlapping(addr, new, words) };
        self.top += words as u64 * 8;
        self.moved += 1;
        let nv = Value(new as u64 | v.tag());
        unsafe { *addr = nv.0 };
        nv
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
        gc().roots[self.0 as usize]
    }
    #[inline]
    pub fn set(self, v: Value) {
        gc().roots[self.0 as usize] = v;
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
        Scope {
            base: gc().roots.len(),
        }
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
        gc().roots.truncate(self.base);
    }
}

/// Pushes a value on the root stack and returns its index.
#[inline]
pub fn push_root(v: Value) -> usize {
    let g = gc();
    if g.roots.len() == g.roots.capacity() {
        crate::error::fatal("stack overflow (root stack exhausted)");
    }
    g.roots.push(v);
    g.roots.len() - 1
}

/// The number of slots on the root stack.
#[inline]
pub fn root_sp() -> usize {
    gc().roots.len()
}

/// Capacity of the root stack in slots. Engines raise `stack overflow`
/// before reaching it (see [`root_stack_nearly_full`]).
pub const ROOT_STACK_CAPACITY: usize = ROOT_STACK_SLOTS;

/// True when fewer than a million root slots are left: engines check this
/// where they check the machine stack, so deep recursion ends with a clean
/// `stack overflow` error rather than the fatal root-stack one.
#[inline]
pub fn root_stack_nearly_full() -> bool {
    gc().roots.len() > ROOT_STACK_SLOTS - (1 << 20)
}

/// Pops the root stack back to `sp`.
#[inline]
pub fn set_root_sp(sp: usize) {
    gc().roots.truncate(sp);
}

/// Address of root stack slot `i` (stable for the life of the process).
#[inline]
pub fn root_slot(i: usize) -> *mut Value {
    unsafe { gc().roots.as_mut_ptr().add(i) }
}

/// Reads root stack slot `i`.
#[inline]
pub fn root_get(i: usize) -> Value {
    gc().roots[i]
}

/// Writes root stack slot `i`.
#[inline]
pub fn root_put(i: usize, v: Value) {
    gc().roots[i] = v;
}

/// Registers a root source (called once per runtime module at start-up).
pub fn add_root_hook(hook: RootHook) {
    let g = gc();
    if !g.root_hooks.iter().any(|h| *h as usize == hook as usize) {
        g.root_hooks.push(hook);
    }
}

/// Registers `len` values at `ptr` as roots, e.g. a compiled module's
/// constant table. The memory must stay valid for the life of the process.
pub fn add_root_range(ptr: *mut Value, len: usize) {
    gc().root_ranges.push((ptr, len));
}

/// Installs the walker that reports references held in compiled frames.
pub fn set_stack_walker(walker: StackWalker) {
    gc().stack_walker = Some(walker);
}

// ---------------------------------------------------------------------------
// Statistics

pub fn stats() -> Stats {
    let g = gc();
    let mut s = g.stats;
    s.bytes_allocated += unsafe { valk_alloc_ptr } - g.alloc_base;
    s
}

pub fn stress_enabled() -> bool {
    gc().stress
}

/// Turns stress mode on or off (tests; `VALK_GC_STRESS` sets it at start-up).
pub fn set_stress(on: bool) {
    let g = gc();
    g.stress = on;
    // `reset_limit` restarts allocation at `space.top`, which is only
    // current right after a collection: keep what was allocated since.
    g.space.top = unsafe { valk_alloc_ptr };
    g.reset_limit();
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
    // Not `gc()`: a failure while creating the heap reaches here through
    // `fatal`, and initialising again would recurse.
    let Some(g) = (unsafe { (*GC.0.get()).as_mut() }) else {
        return;
    };
    if g.print_stats {
        eprint!("{}", format_stats(&stats()));
    }
}
