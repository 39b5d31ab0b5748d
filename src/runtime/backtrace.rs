//! Backtraces of raised errors (docs/debugging.md, "Backtraces").
//!
//! A backtrace lists the procedure activations live when an exception was
//! raised, innermost first, each as the *site* of the call it was
//! executing: the procedure's name and the call's source position.
//!
//! * **Compiled frames.** Every call in compiled code that may reach the
//!   runtime is a statepoint whose stack-map record ID names its site: the
//!   high bits are the module's site-table key, the low [`SITE_INDEX_BITS`]
//!   the index in that table (the emitter writes the table and the IDs,
//!   `src/llvm/emit/sites.rs`; `aot::load_module` registers the table).
//!   Code a procedure received by inlining has sites whose `parent` is the
//!   site of the inlined call, so inlined procedures keep their frames.
//! * **Interpreted frames.** The interpreter links a node for each
//!   activation ([`push_activation`]) in the Rust frame that runs it, and
//!   stores the current site in the innermost node at every call; the
//!   node's address orders it among compiled frames.
//! * **Capture.** [`error::raise`](crate::error::raise) captures the live
//!   frames of both kinds for a condition, ordered by stack address (both
//!   run on the same stack), so mixed stacks interleave correctly; other
//!   raised objects are captured when no handler takes them. A condition
//!   remembers its first capture (field 3), so re-raising it keeps the
//!   original backtrace; the last [`RING`] captures are kept.
//!
//! `VALK_BACKTRACE=0` turns capture and printing off.

use crate::value::Value;
use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::sync::RwLock;

/// One call site. The layout is shared with the tables compiled modules
/// carry (`src/llvm/emit/sites.rs`).
#[repr(C)]
#[derive(Debug)]
pub struct Site {
    /// The procedure the call is in (empty: anonymous).
    pub proc_name: *const u8,
    /// The source file (empty: no position).
    pub file: *const u8,
    /// The global the call's operator names (empty: none): a frame above
    /// that is not this procedure was reached through tail calls.
    pub callee: *const u8,
    /// For code inlined into another procedure: the site of the inlined
    /// call, in the procedure that received it (null: none).
    pub parent: *const Site,
    pub proc_len: u32,
    pub file_len: u32,
    pub callee_len: u32,
    /// 1-based; 0 when the site has no position.
    pub line: u32,
    pub col: u32,
    pub flags: u32,
}

// SAFETY: sites are immutable after creation and their pointers refer to
// static data (compiled-code tables never freed, leaked interpreter data).
unsafe impl Sync for Site {}
// SAFETY: as above.
unsafe impl Send for Site {}

/// The frame is top-level code, not a procedure.
pub const SITE_TOPLEVEL: u32 = 1;
/// Not a frame of the program: runtime glue, a procedure's entry checks
/// (their errors are reported at the caller's call, as the interpreter
/// reports them).
pub const SITE_HIDDEN: u32 = 2;
/// Code of the built-in prelude: not shown (its procedures read as
/// builtins), and it breaks the tail-call comparison.
pub const SITE_LIBRARY: u32 = 4;

/// Bits of a stack-map record ID that index the module's site table.
pub const SITE_INDEX_BITS: u32 = 24;

fn text(p: *const u8, len: u32) -> &'static str {
    if p.is_null() || len == 0 {
        return "";
    }
    // SAFETY: `p` points at `len` bytes of static UTF-8 text (the emitter
    // writes Rust strings; the interpreter leaks them).
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, len as usize)) }
}

impl Site {
    /// A site made at run time (the interpreter's): the strings must live
    /// for the rest of the process.
    pub fn new(
        proc_name: &'static str,
        file: &'static str,
        line: u32,
        col: u32,
        callee: &'static str,
        flags: u32,
    ) -> Site {
        Site {
            proc_name: proc_name.as_ptr(),
            file: file.as_ptr(),
            callee: callee.as_ptr(),
            parent: std::ptr::null(),
            proc_len: proc_name.len() as u32,
            file_len: file.len() as u32,
            callee_len: callee.len() as u32,
            line,
            col,
            flags,
        }
    }

    pub fn proc_name(&self) -> &'static str {
        text(self.proc_name, self.proc_len)
    }

    pub fn file(&self) -> &'static str {
        text(self.file, self.file_len)
    }

    pub fn callee(&self) -> &'static str {
        text(self.callee, self.callee_len)
    }
}

/// The site of top-level code that has made no call yet.
pub static TOPLEVEL_SITE: Site = Site {
    proc_name: std::ptr::null(),
    file: std::ptr::null(),
    callee: std::ptr::null(),
    parent: std::ptr::null(),
    proc_len: 0,
    file_len: 0,
    callee_len: 0,
    line: 0,
    col: 0,
    flags: SITE_TOPLEVEL,
};

/// Whether backtraces are on (`VALK_BACKTRACE`, default on).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("VALK_BACKTRACE").is_none_or(|v| v != "0"))
}

// ---------------------------------------------------------------------------
// Site tables of compiled modules

type Tables = HashMap<u64, (usize, usize)>;
static TABLES: RwLock<Option<Tables>> = RwLock::new(None);

/// Registers the site table of a compiled module under `key` (the high
/// bits of its record IDs). Identical keys come from identical tables.
///
/// # Safety
/// `sites` must point at `n` sites that live as long as the process.
pub unsafe fn register_sites(key: u64, sites: *const Site, n: usize) {
    if n == 0 || sites.is_null() {
        return;
    }
    let mut t = TABLES.write().unwrap_or_else(|e| e.into_inner());
    let fresh = t
        .get_or_insert_with(HashMap::new)
        .insert(key, (sites as usize, n))
        .is_none();
    drop(t);
    if fresh {
        // SAFETY: the caller's contract.
        let table: &'static [Site] = unsafe { std::slice::from_raw_parts(sites, n) };
        for site in table {
            note_library_site(site);
        }
    }
}

/// Names of the library's procedures (the prelude's): every procedure
/// has a site, the one of its entry or prologue, so the names come from
/// the sites the engines make. The tail-call marker needs them.
static LIBRARY_PROCS: RwLock<Option<std::collections::HashSet<&'static str>>> = RwLock::new(None);

/// Notes the procedure of `site` as a library procedure if the site is
/// the library's (`SITE_LIBRARY`).
pub fn note_library_site(site: &'static Site) {
    let name = site.proc_name();
    if site.flags & SITE_LIBRARY == 0 || name.is_empty() {
        return;
    }
    let mut set = LIBRARY_PROCS.write().unwrap_or_else(|e| e.into_inner());
    set.get_or_insert_with(Default::default).insert(name);
}

fn is_library_proc(name: &str) -> bool {
    let set = LIBRARY_PROCS.read().unwrap_or_else(|e| e.into_inner());
    set.as_ref().is_some_and(|s| s.contains(name))
}

/// The site a stack-map record ID names, if its module registered one.
fn lookup(t: &Tables, id: u64) -> Option<&'static Site> {
    let key = id >> SITE_INDEX_BITS;
    let index = (id & ((1 << SITE_INDEX_BITS) - 1)) as usize;
    let &(base, n) = t.get(&key)?;
    // SAFETY: a registered table of `n` static sites (`register_sites`).
    (index < n).then(|| unsafe { &*(base as *const Site).add(index) })
}

// ---------------------------------------------------------------------------
// The interpreter's activations

/// An interpreter activation: a node in the Rust frame that runs it,
/// linked to the activation below (docs/debugging.md, "Backtraces"). The
/// nodes live on the control stack, so a continuation's stack copy holds
/// them; the interpreter's steps cost one store of the current site.
#[repr(C)]
pub struct Activation {
    prev: Cell<*const Activation>,
    site: Cell<*const Site>,
}

impl Activation {
    const fn new() -> Self {
        Activation {
            prev: Cell::new(std::ptr::null()),
            site: Cell::new(std::ptr::null()),
        }
    }

    /// A node whose fields [`push_activation`] will set, for frames that
    /// may never push it (most evaluations make no call of their own).
    #[inline]
    pub fn uninit() -> std::mem::MaybeUninit<Self> {
        std::mem::MaybeUninit::uninit()
    }
}

/// The bottom of every chain: not an activation (capture stops there),
/// and the target of site updates when no activation is live.
struct Sentinel(Activation);
// SAFETY: single-threaded (docs/architecture.md); the cells are only
// written by the thread running Valk code.
unsafe impl Sync for Sentinel {}
static SENTINEL: Sentinel = Sentinel(Activation::new());

struct Head(Cell<*const Activation>);
// SAFETY: as above.
unsafe impl Sync for Head {}
static HEAD: Head = Head(Cell::new(&SENTINEL.0));

/// The innermost activation, as a word (give it back to
/// [`set_activation_head`]).
#[inline]
pub fn activation_head() -> usize {
    HEAD.0.get() as usize
}

/// Makes `head` (an [`activation_head`] whose frames are live) the
/// innermost activation: drops those above it.
#[inline]
pub fn set_activation_head(head: usize) {
    HEAD.0.set(head as *const Activation);
}

/// True when `node` is the innermost activation.
#[inline]
pub fn is_innermost(node: &std::mem::MaybeUninit<Activation>) -> bool {
    std::ptr::eq(HEAD.0.get(), node.as_ptr())
}

/// Drops `node` if it is the innermost activation (its frame is done with
/// it); otherwise nothing (it was never pushed, or was dropped already).
#[inline]
pub fn pop_activation(node: &std::mem::MaybeUninit<Activation>) {
    if is_innermost(node) {
        // SAFETY: a pushed node: its fields are initialised.
        HEAD.0.set(unsafe { (*node.as_ptr()).prev.get() });
    }
}

/// Makes `node` (its fields need not be initialised) the innermost
/// activation, at `site`. `node` must stay in place until it is dropped
/// again (by [`set_activation_head`]).
#[inline]
pub fn push_activation(node: &std::mem::MaybeUninit<Activation>, site: &'static Site) {
    let p = node.as_ptr() as *mut Activation;
    // SAFETY: `p` is the node's storage; both fields are plain pointers
    // (written, never read uninitialised).
    unsafe {
        std::ptr::addr_of_mut!((*p).prev).write(Cell::new(HEAD.0.get()));
        std::ptr::addr_of_mut!((*p).site).write(Cell::new(site));
    }
    HEAD.0.set(p);
}

/// The innermost activation is now executing the call at `site`.
#[inline]
pub fn set_activation_site(site: &'static Site) {
    // SAFETY: the head is the sentinel or a live node.
    unsafe { (*HEAD.0.get()).site.set(site) }
}

/// For a continuation resumed by copying its stack back: `head` is the
/// innermost activation at capture, in the stack range `lo..hi` whose copy
/// starts at `copy`. Links the oldest activation of that range to
/// `below` (the activations under the resumed form now) in the copy, and
/// returns the head to install once the copy is back in place.
///
/// # Safety
/// `copy` holds the bytes of `lo..hi` as captured, with the nodes the
/// chain from `head` has in that range.
pub unsafe fn relink_saved_activations(
    head: usize,
    lo: usize,
    hi: usize,
    copy: *mut u8,
    below: usize,
) -> usize {
    if !(lo..hi).contains(&head) {
        return below;
    }
    let mut p = head;
    loop {
        // SAFETY: `p` is a node of the saved range (checked), whose copy
        // is at the same offset in `copy`.
        let node = unsafe { &*(copy.add(p - lo) as *const Activation) };
        let prev = node.prev.get() as usize;
        if !(lo..hi).contains(&prev) {
            node.prev.set(below as *const Activation);
            return head;
        }
        p = prev;
    }
}

// ---------------------------------------------------------------------------
// Capture

/// Captures kept for conditions that may be asked for theirs later.
const RING: usize = 64;
/// At most this many frames are captured: deeper recursion (a stack
/// overflow) is shown as its innermost frames and a note, the same in
/// every engine (each holds more frames than this when it overflows).
const MAX_FRAMES: usize = 100_000;

struct Captures {
    serial: u64,
    ring: Vec<(u64, Vec<*const Site>, bool)>,
}

struct CaptureCell(UnsafeCell<Captures>);
// SAFETY: single-threaded, as above.
unsafe impl Sync for CaptureCell {}
static CAPTURES: CaptureCell = CaptureCell(UnsafeCell::new(Captures {
    serial: 0,
    ring: Vec::new(),
}));

fn captures() -> &'static mut Captures {
    // SAFETY: single-threaded; callers hold the reference for one call.
    unsafe { &mut *CAPTURES.0.get() }
}

/// The live frames as sites, innermost first (inlined frames expanded),
/// and whether older frames were left out ([`MAX_FRAMES`]).
fn capture_frames() -> (Vec<*const Site>, bool) {
    let mut raw: Vec<(usize, u64)> = Vec::new();
    crate::gc::frames::for_each_compiled_frame(&mut |fp, id| {
        raw.push((fp as usize, id));
        raw.len() < MAX_FRAMES
    });
    let mut cut = raw.len() >= MAX_FRAMES;
    let mut frames: Vec<(usize, *const Site)> = Vec::with_capacity(raw.len());
    {
        // One lock for the whole walk (a raise in a loop pays per frame).
        let t = TABLES.read().unwrap_or_else(|e| e.into_inner());
        for (fp, id) in raw {
            if let Some(site) = t.as_ref().and_then(|t| lookup(t, id)) {
                frames.push((fp, site));
            }
        }
    }
    let sentinel: *const Activation = &SENTINEL.0;
    let mut a = HEAD.0.get();
    let mut n = 0;
    while a != sentinel {
        if n == MAX_FRAMES {
            cut = true;
            break;
        }
        // SAFETY: the chain from the head holds live nodes down to the
        // sentinel (`push_activation`, `set_activation_head`).
        let node = unsafe { &*a };
        frames.push((a as usize, node.site.get()));
        a = node.prev.get();
        n += 1;
    }
    // Stacks grow down: the innermost frame has the lowest address.
    frames.sort_by_key(|&(addr, _)| addr);
    cut |= frames.len() > MAX_FRAMES;
    let mut out = Vec::with_capacity(frames.len().min(MAX_FRAMES));
    for (_, mut s) in frames.into_iter().take(MAX_FRAMES) {
        while !s.is_null() {
            out.push(s);
            // SAFETY: sites and their parents are static (see `Site`).
            s = unsafe { (*s).parent };
        }
    }
    (out, cut)
}

fn is_condition(exc: Value) -> bool {
    exc.has_type(crate::value::ObjType::Condition) && exc.size() > 3
}

/// At a raise: captures the current frames for a condition without a
/// capture yet, which records it in its field 3. Other raised objects are
/// captured only when no handler is installed ([`capture_unhandled`]):
/// programs that raise them in loops, under `guard`, pay nothing.
/// Allocates nothing on the Valk heap.
pub fn capture_for(exc: Value) {
    if enabled() && is_condition(exc) && exc.field(3).fixnum_value().is_none() {
        capture(exc);
    }
}

/// When a raised object meets no handler (`dynamic::deliver`, with the
/// raising frames still live): captures it unless it has its capture.
pub fn capture_unhandled(exc: Value) {
    if enabled() && !is_condition(exc) {
        capture(exc);
    }
}

fn capture(exc: Value) {
    let is_condition = is_condition(exc);
    let (frames, cut) = capture_frames();
    let c = captures();
    c.serial += 1;
    let serial = c.serial;
    if c.ring.len() == RING {
        c.ring.remove(0);
    }
    c.ring.push((serial, frames, cut));
    if is_condition {
        exc.set_field(3, Value::fixnum(serial as i64));
    }
}

/// The capture of `exc`: its own for a condition, else the latest one.
fn capture_of(exc: Value) -> Option<(&'static [*const Site], bool)> {
    let c = captures();
    let serial = if is_condition(exc) {
        exc.field(3).fixnum_value().map(|n| n as u64)
    } else {
        c.ring.last().map(|e| e.0)
    }?;
    c.ring
        .iter()
        .find(|e| e.0 == serial)
        .map(|e| (e.1.as_slice(), e.2))
}

/// One frame as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `None` for top-level code.
    pub name: Option<String>,
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// Tail calls ran between this frame's call and the frame above it.
    pub tail_calls_elided: bool,
}

/// The frames of `exc`'s capture as shown: hidden and library frames
/// dropped, the tail-call marker computed (docs/debugging.md).
pub fn frames_of(exc: Value) -> Option<(Vec<Frame>, bool)> {
    let (sites, cut) = capture_of(exc)?;
    Some((visible_frames(sites), cut))
}

fn visible_frames(sites: &[*const Site]) -> Vec<Frame> {
    let mut out: Vec<Frame> = Vec::new();
    // The procedure of the frame directly above (inner), shown or not: a
    // frame whose call names another procedure than that one was left by
    // tail calls. Library frames count although they are not shown, so
    // the marker does not depend on whether an engine keeps a frame for a
    // library procedure that was tail-called (compiled library code
    // called from the interpreter has one; the interpreter and compiled
    // callers tail-call through it). A call of a library procedure is
    // never marked: tail calls inside the library are its own business.
    let mut inner: Option<&str> = None;
    let mut library_above = false;
    for &s in sites {
        // SAFETY: static sites (see `Site`).
        let s = unsafe { &*s };
        if s.flags & (SITE_HIDDEN | SITE_LIBRARY) != 0 {
            let name = s.proc_name();
            inner = (!name.is_empty()).then_some(name);
            library_above |= s.flags & SITE_LIBRARY != 0;
            continue;
        }
        let toplevel = s.flags & SITE_TOPLEVEL != 0;
        let callee = crate::globals::user_name(s.callee());
        let elided = match inner {
            Some(i) => {
                !callee.is_empty() && callee != i && !(library_above && is_library_proc(s.callee()))
            }
            None => false,
        };
        library_above = false;
        inner = Some(if toplevel { "" } else { s.proc_name() });
        out.push(Frame {
            name: (!toplevel).then(|| {
                let n = s.proc_name();
                if n.is_empty() {
                    "#<procedure>".to_string()
                } else {
                    crate::globals::user_name(n).to_string()
                }
            }),
            file: s.file().to_string(),
            line: s.line,
            col: s.col,
            tail_calls_elided: elided,
        });
    }
    out
}

/// Shown lines at most; a longer backtrace keeps its innermost
/// `MAX_LINES - TAIL_LINES` and outermost `TAIL_LINES` lines.
const MAX_LINES: usize = 24;
const TAIL_LINES: usize = 4;

fn frame_text(f: &Frame) -> String {
    let at = if f.line == 0 {
        String::new()
    } else {
        format!("{}:{}:{}", f.file, f.line, f.col)
    };
    match (&f.name, at.is_empty()) {
        (Some(n), false) => format!("  in {n} at {at}"),
        (Some(n), true) => format!("  in {n}"),
        (None, false) => format!("  at top level, {at}"),
        (None, true) => "  at top level".to_string(),
    }
}

/// The printed backtrace (`backtrace (most recent call first):` and one
/// line per frame; repeated frames folded), or `None` when there is
/// nothing to show.
/// `cut`: older frames were not captured.
pub fn format_frames(frames: &[Frame], cut: bool) -> Option<String> {
    if frames.is_empty() {
        return None;
    }
    let mut lines: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let f = &frames[i];
        if f.tail_calls_elided && i > 0 {
            lines.push("  ... tail calls elided".to_string());
        }
        let mut j = i + 1;
        while j < frames.len() && frames[j] == *f {
            j += 1;
        }
        lines.push(frame_text(f));
        if j - i > 1 {
            lines.push(format!("  ... repeated {} more times", j - i - 1));
        }
        i = j;
    }
    if cut {
        lines.push("  ... older frames not shown".to_string());
    }
    if lines.len() > MAX_LINES {
        let omitted = lines.len() - MAX_LINES;
        let tail = lines.split_off(lines.len() - TAIL_LINES);
        lines.truncate(MAX_LINES - TAIL_LINES);
        lines.push(format!("  ... {omitted} more lines"));
        lines.extend(tail);
    }
    let mut s = String::from("backtrace (most recent call first):\n");
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    Some(s)
}

/// The backtrace printed under an uncaught `exc`, if any.
pub fn render(exc: Value) -> Option<String> {
    if !enabled() {
        return None;
    }
    let (frames, cut) = frames_of(exc)?;
    format_frames(&frames, cut)
}

static PRINT_UNCAUGHT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether an uncaught error prints its backtrace (the REPL keeps it for
/// `,bt` instead).
pub fn set_print_uncaught(on: bool) {
    PRINT_UNCAUGHT.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn print_uncaught() -> bool {
    PRINT_UNCAUGHT.load(std::sync::atomic::Ordering::Relaxed)
}

struct LastCell(UnsafeCell<Option<String>>);
// SAFETY: single-threaded, as above.
unsafe impl Sync for LastCell {}
static LAST_UNCAUGHT: LastCell = LastCell(UnsafeCell::new(None));

/// Remembers the backtrace of the last uncaught error (the REPL's `,bt`).
pub fn set_last_uncaught(text: Option<String>) {
    // SAFETY: single-threaded; one statement.
    unsafe { *LAST_UNCAUGHT.0.get() = text };
}

/// The backtrace of the last uncaught error, if it had one.
pub fn last_uncaught() -> Option<String> {
    // SAFETY: as above.
    unsafe { (*LAST_UNCAUGHT.0.get()).clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resumed continuation's copied nodes are relinked onto the
    /// activations under the current form, in the copy (addresses of the
    /// captured range translate to the copy's offsets).
    #[test]
    fn relinks_the_oldest_copied_activation() {
        // Three nodes in a "stack" range: 2 above 1 above 0, and 0 links to
        // an activation outside the range (the form's caller at capture).
        let mut stack = [0usize; 6];
        let lo = stack.as_mut_ptr() as usize;
        let hi = lo + std::mem::size_of_val(&stack);
        let node = |i: usize| lo + i * std::mem::size_of::<Activation>();
        let outside_then = 0x1000usize;
        stack[0] = outside_then; // node 0: prev
        stack[2] = node(0); // node 1: prev
        stack[4] = node(1); // node 2: prev
        let mut copy = stack;
        let below_now = 0x2000usize;
        // SAFETY: `copy` holds the bytes of `lo..hi`.
        let head = unsafe {
            relink_saved_activations(node(2), lo, hi, copy.as_mut_ptr() as *mut u8, below_now)
        };
        assert_eq!(head, node(2));
        assert_eq!(copy[0], below_now, "the oldest node now links below");
        assert_eq!((copy[2], copy[4]), (node(0), node(1)), "others unchanged");
        assert_eq!(stack[0], outside_then, "the live range is not touched");
        // No node in the range: the activations under the form are innermost.
        // SAFETY: as above.
        let head = unsafe {
            relink_saved_activations(
                outside_then,
                lo,
                hi,
                copy.as_mut_ptr() as *mut u8,
                below_now,
            )
        };
        assert_eq!(head, below_now);
    }

    #[test]
    fn pushed_nodes_are_innermost_until_popped() {
        // The chain is process-wide, like the heap: one test at a time.
        let _g = crate::builtins::testing::lock();
        let before = activation_head();
        let a = Activation::uninit();
        let b = Activation::uninit();
        push_activation(&a, &TOPLEVEL_SITE);
        assert!(is_innermost(&a));
        push_activation(&b, &TOPLEVEL_SITE);
        assert!(is_innermost(&b) && !is_innermost(&a));
        pop_activation(&a); // not innermost: nothing happens
        assert!(is_innermost(&b));
        pop_activation(&b);
        assert!(is_innermost(&a));
        pop_activation(&a);
        assert_eq!(activation_head(), before);
    }

    fn frame(name: Option<&str>, line: u32, elided: bool) -> Frame {
        Frame {
            name: name.map(str::to_string),
            file: "x.valk".into(),
            line,
            col: 3,
            tail_calls_elided: elided,
        }
    }

    #[test]
    fn formats_frames_folding_repeats_and_marking_tail_calls() {
        let fs = vec![
            frame(Some("f"), 2, false),
            frame(Some("f"), 2, false),
            frame(Some("f"), 2, false),
            frame(Some("g"), 5, true),
            frame(None, 9, false),
        ];
        let text = format_frames(&fs, false).unwrap();
        assert_eq!(
            text,
            "backtrace (most recent call first):\n  in f at x.valk:2:3\n  ... repeated 2 more times\n  ... tail calls elided\n  in g at x.valk:5:3\n  at top level, x.valk:9:3\n"
        );
        assert_eq!(format_frames(&[], false), None);
        let cut = format_frames(&fs[..1], true).unwrap();
        assert!(cut.ends_with("  ... older frames not shown\n"), "{cut}");
    }

    #[test]
    fn long_backtraces_keep_both_ends() {
        let fs: Vec<Frame> = (1..=40).map(|l| frame(Some("f"), l, false)).collect();
        let text = format_frames(&fs, false).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + MAX_LINES + 1);
        assert_eq!(lines[1], "  in f at x.valk:1:3");
        assert_eq!(lines[MAX_LINES - TAIL_LINES + 1], "  ... 16 more lines");
        assert_eq!(lines.last().unwrap(), &"  in f at x.valk:40:3");
    }

    #[test]
    fn sites_are_visible_unless_hidden_or_library() {
        let a: &'static Site = Box::leak(Box::new(Site::new("f", "x.valk", 1, 2, "", 0)));
        let b: &'static Site = Box::leak(Box::new(Site::new("g", "x.valk", 3, 4, "h", 0)));
        let hidden: &'static Site = Box::leak(Box::new(Site::new("e", "", 0, 0, "", SITE_HIDDEN)));
        let fs = visible_frames(&[hidden, a, b]);
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0].name.as_deref(), Some("f"));
        assert!(
            fs[1].tail_calls_elided,
            "g's call names h, but f ran above it"
        );
        let fs = visible_frames(&[a, hidden, b]);
        assert!(
            fs[1].tail_calls_elided,
            "g's call names h, but the hidden e ran above it"
        );
        let lib_h: &'static Site =
            Box::leak(Box::new(Site::new("h", "lib", 7, 1, "", SITE_LIBRARY)));
        let fs = visible_frames(&[a, lib_h, b]);
        assert_eq!(fs.len(), 2, "library frames are not shown");
        assert!(
            !fs[1].tail_calls_elided,
            "g called the library procedure h, which called f"
        );
        // A library procedure called directly, whose code tail-called
        // another of the library's: no marker; a user procedure that
        // tail-called into the library: the marker.
        let map: &'static Site =
            Box::leak(Box::new(Site::new("map", "lib", 1, 1, "", SITE_LIBRARY)));
        note_library_site(map);
        let map1: &'static Site =
            Box::leak(Box::new(Site::new("%map1", "lib", 2, 1, "", SITE_LIBRARY)));
        let calls_map: &'static Site =
            Box::leak(Box::new(Site::new("g", "x.valk", 3, 4, "map", 0)));
        let fs = visible_frames(&[a, map1, calls_map]);
        assert!(!fs[1].tail_calls_elided, "g called map");
        let calls_user: &'static Site =
            Box::leak(Box::new(Site::new("g", "x.valk", 3, 4, "invert-all", 0)));
        let fs = visible_frames(&[a, map1, calls_user]);
        assert!(fs[1].tail_calls_elided, "invert-all tail-called map");
        let anonymous: &'static Site =
            Box::leak(Box::new(Site::new("", "", 0, 0, "", SITE_HIDDEN)));
        let fs = visible_frames(&[a, anonymous, b]);
        assert!(
            !fs[1].tail_calls_elided,
            "an anonymous hidden frame breaks the comparison"
        );
    }
}
