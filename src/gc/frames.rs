//! Precise roots in compiled frames: the boundaries between compiled code
//! and the runtime, and the stack walker the collector calls.
//!
//! x86-64 Linux (System V ABI) only. The protocol (docs/calling-convention.md):
//!
//! * **Exit.** Compiled code calls every runtime function that may collect
//!   through an *exit trampoline* ([`crate::exit_trampoline!`]): it stores the
//!   compiled caller's return address (`[rsp]`), its stack pointer at the
//!   call (`rsp + 8`) and its frame pointer (`rbp`) in the *exit record*,
//!   then jumps to the Rust implementation with the argument registers
//!   untouched.
//! * **Entry.** The runtime brackets every call into code that may be
//!   compiled with [`enter_compiled`] / [`leave_compiled`]: the current exit
//!   record is pushed on the segment stack and cleared, and restored after
//!   the call. (`call::call_rooted` does this for every closure call.)
//! * **Walk.** Compiled frames between an exit and the entry below it form a
//!   *segment*. For each segment, innermost first: while the return address
//!   is a registered call site, update that frame's slots from its stack
//!   map, then step to the caller: `ra = [fp + 8]`, `sp = fp + 16`,
//!   `fp = [fp]` (every compiled function keeps a frame pointer). The first
//!   unknown return address is the runtime frame that entered the segment.

use super::stackmap::{self, SafePoint, Table};
use super::RootVisitor;
use crate::value::Value;
use std::cell::UnsafeCell;

/// Where the innermost compiled frame left off when it called the runtime.
/// `ra == 0` means no compiled frame is active above the runtime.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitRecord {
    /// Return address into the compiled caller.
    pub ra: u64,
    /// The caller's stack pointer at the call (the return address slot + 8).
    pub sp: u64,
    /// The caller's frame pointer.
    pub fp: u64,
}

/// The exit record cell written by the trampolines (field offsets 0, 8, 16
/// are part of the trampoline code).
#[doc(hidden)]
pub struct ExitCell(pub UnsafeCell<ExitRecord>);
// SAFETY: the runtime is single-threaded (see the collector's module docs):
// the trampolines and the walker run on the thread that runs Valk code.
unsafe impl Sync for ExitCell {}

#[doc(hidden)]
pub static VALK_EXIT: ExitCell = ExitCell(UnsafeCell::new(ExitRecord {
    ra: 0,
    sp: 0,
    fp: 0,
}));

struct Segments(UnsafeCell<Vec<ExitRecord>>);
// SAFETY: as for `ExitCell`.
unsafe impl Sync for Segments {}
/// Exit records of the outer segments, outermost first.
static SEGMENTS: Segments = Segments(UnsafeCell::new(Vec::new()));

/// The current exit record.
pub fn current_exit() -> ExitRecord {
    // SAFETY: a by-value copy on the runtime's only thread; no reference
    // into the cell outlives a statement in this module.
    unsafe { *VALK_EXIT.0.get() }
}

/// The number of saved outer segments.
pub fn segment_depth() -> usize {
    // SAFETY: as in `current_exit`.
    unsafe { (*SEGMENTS.0.get()).len() }
}

/// Saved outer segment `i` (0 = outermost).
pub fn segment_at(i: usize) -> ExitRecord {
    // SAFETY: as in `current_exit`.
    unsafe { (&*SEGMENTS.0.get())[i] }
}

/// Reinstates segment records saved by a continuation capture
/// (`cont::resume`): keeps the first `depth` saved segments, appends
/// `segs` and makes `current` the current exit record.
pub fn restore_segments(depth: usize, segs: &[ExitRecord], current: ExitRecord) {
    // SAFETY: as in `enter_compiled`.
    unsafe {
        let v = &mut *SEGMENTS.0.get();
        v.truncate(depth);
        v.extend_from_slice(segs);
        *VALK_EXIT.0.get() = current;
    }
}

/// Token returned by [`enter_compiled`]; give it back to [`leave_compiled`].
#[must_use = "pass it to frames::leave_compiled after the call"]
#[derive(Debug)]
pub struct Saved(usize);

/// Called by the runtime right before it calls code that may be compiled:
/// saves the current exit record as an outer segment and clears it.
#[inline]
pub fn enter_compiled() -> Saved {
    // SAFETY: as in `current_exit`: these two references are the only ones
    // into the cells and end with this block.
    unsafe {
        let segs = &mut *SEGMENTS.0.get();
        let exit = &mut *VALK_EXIT.0.get();
        let depth = segs.len();
        segs.push(*exit);
        *exit = ExitRecord::default();
        Saved(depth)
    }
}

/// Called right after that call returns: restores the exit record saved by
/// the matching [`enter_compiled`]. Segments entered later and never left
/// (a non-local exit through them) are dropped too.
#[inline]
pub fn leave_compiled(saved: Saved) {
    // SAFETY: as in `enter_compiled` (`fatal` does not touch the cells).
    unsafe {
        let segs = &mut *SEGMENTS.0.get();
        match segs.get(saved.0) {
            Some(&r) => {
                *VALK_EXIT.0.get() = r;
                segs.truncate(saved.0);
            }
            None => crate::error::fatal("internal error: unbalanced compiled-code boundary"),
        }
    }
}

/// Defines an exit trampoline: a naked function `$name` that compiled code
/// calls instead of `$target` (an `extern "C"` function with the same
/// signature). It records the caller in the exit record and tail-jumps to
/// `$target`; argument registers and the stack are untouched, so any
/// signature works (`r11` is the only register used). Rust code must call
/// `$target`, never the trampoline: it would record a Rust frame in place
/// of the compiled one.
///
/// ```ignore
/// exit_trampoline! {
///     /// Docs.
///     pub fn valk_foo(a: u64, b: Value) -> Value => foo_impl;
/// }
/// ```
#[macro_export]
macro_rules! exit_trampoline {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?
        => $target:path;) => {
        $(#[$m])*
        ///
        /// # Safety
        /// An exit trampoline for compiled code: the caller must be a
        /// compiled frame at a statepoint (see `gc::frames`).
        #[unsafe(naked)]
        #[no_mangle]
        $vis unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
            ::core::arch::naked_asm!(
                "mov r11, qword ptr [rsp]",
                "mov qword ptr [rip + {exit}], r11",
                "lea r11, [rsp + 8]",
                "mov qword ptr [rip + {exit} + 8], r11",
                "mov qword ptr [rip + {exit} + 16], rbp",
                "jmp {target}",
                exit = sym $crate::gc::frames::VALK_EXIT,
                target = sym $target,
            )
        }
    };
}

exit_trampoline! {
    /// The allocation slow path as compiled code calls it: returns the
    /// address of `bytes` (a multiple of 8) fresh bytes, collecting first
    /// when needed.
    pub fn valk_gc_alloc_slow(bytes: u64) -> *mut u64 => super::alloc_slow_entry;
}

exit_trampoline! {
    /// Calls any procedure (builtin, interpreted or compiled) from compiled
    /// code: `argv[0..argc]` are the arguments (any memory; they are copied
    /// to the root stack before anything can collect). Returns the result,
    /// or `Value::EXCEPTION` with an exception pending.
    pub fn valk_rt_call(f: Value, argc: u64, argv: *const Value) -> Value => rt_call_entry;
}

/// The implementation behind [`valk_rt_call`].
///
/// # Safety
/// `argv` must point at `argc` readable values.
pub unsafe extern "C" fn rt_call_entry(f: Value, argc: u64, argv: *const Value) -> Value {
    let sp = super::root_sp();
    for i in 0..argc as usize {
        // SAFETY: `i < argc` (this function's contract); `push_root` does
        // not allocate, so nothing moves while they are copied.
        super::push_root(unsafe { *argv.add(i) });
    }
    let r = crate::call::call_rooted(f, sp, argc as usize);
    super::set_root_sp(sp);
    r.unwrap_or_else(|_| {
        crate::dynamic::deliver();
        crate::cont::throw_uncaught()
    })
}

// ---------------------------------------------------------------------------
// The walker

/// What the last walk saw (tests and diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Segments with at least one compiled frame.
    pub segments: u64,
    pub frames: u64,
    /// Base slots updated.
    pub slots: u64,
    /// Derived slots rebased.
    pub derived: u64,
}

struct LastWalk(UnsafeCell<WalkStats>);
// SAFETY: as for `ExitCell`.
unsafe impl Sync for LastWalk {}
static LAST_WALK: LastWalk = LastWalk(UnsafeCell::new(WalkStats {
    segments: 0,
    frames: 0,
    slots: 0,
    derived: 0,
}));

/// Statistics of the most recent walk (that is, the last collection since
/// the walker was installed).
pub fn last_walk() -> WalkStats {
    // SAFETY: as in `current_exit`.
    unsafe { *LAST_WALK.0.get() }
}

/// Updates the slots of one frame. Derived slots first: each offset is
/// computed from the base's old value. Then each base slot exactly once
/// (the plan has no duplicates), so no slot is forwarded twice. Forwarding
/// a value twice would be harmless for plain slots in this collector (it
/// only copies from-space objects), but rebasing a derived slot twice is
/// not, and the plan does not rely on either.
///
/// # Safety
/// `sp` and `fp` must be those of a live compiled frame stopped at the
/// statepoint `plan` describes.
unsafe fn visit_frame(plan: &SafePoint, sp: u64, fp: u64, delta: u64, v: &mut dyn RootVisitor) {
    let at = |a: u64| a.wrapping_add(delta);
    for &(b, d) in &plan.derived {
        // SAFETY: the stack map gives the frame slots (aligned words of the
        // stopped frame) holding a base and its derived pointer; they are
        // distinct slots, and nothing else accesses the frame meanwhile.
        let (base, derived) = unsafe {
            (
                &*(at(b.addr(sp, fp)) as *const Value),
                &mut *(at(d.addr(sp, fp)) as *mut u64),
            )
        };
        v.visit_derived(base, derived);
    }
    for &b in &plan.bases {
        // SAFETY: a base slot of the stopped frame, as above.
        v.visit(unsafe { &mut *(at(b.addr(sp, fp)) as *mut Value) });
    }
}

/// Frames are read at their addresses plus `delta` (wrapping): 0 for the
/// live stack, `copy - original` for a stack saved by a continuation.
/// Returns true when the walk stopped at the stack watermark (the older
/// frames, in this and the outer segments, need no visit).
///
/// # Safety
/// `exit` must be the exit record of a segment whose compiled frames are
/// all stopped (at calls through exit trampolines) with intact frame
/// pointers, in memory at their addresses plus `delta`.
unsafe fn walk_segment(
    exit: ExitRecord,
    delta: u64,
    table: &Table,
    v: &mut dyn RootVisitor,
    stats: &mut WalkStats,
) -> bool {
    let ExitRecord {
        mut ra,
        mut sp,
        mut fp,
    } = exit;
    let mut frames = 0;
    // An exit whose return address is unknown recorded no compiled frame
    // (a Rust caller used a trampoline symbol): nothing to walk.
    while let Some(plan) = table.get(&ra) {
        // SAFETY: `ra` is a registered statepoint, so (sp, fp) are those of
        // a compiled frame stopped there (this function's contract, then
        // the frame-pointer chain, checked below).
        unsafe { visit_frame(plan, sp, fp, delta, v) };
        frames += 1;
        stats.slots += plan.bases.len() as u64;
        stats.derived += plan.derived.len() as u64;
        // SAFETY: every compiled function keeps a frame pointer, so `fp`
        // points at the saved caller `fp` with the return address above it.
        let (next_fp, next_ra) = unsafe {
            (
                *(fp.wrapping_add(delta) as *const u64),
                *((fp + 8).wrapping_add(delta) as *const u64),
            )
        };
        // The stack watermark's trampoline stands for the real return
        // address; in a minor collection, the frames from there on are
        // unchanged since the last collection (`watermark`).
        let (next_ra, stop) = if delta == 0 {
            super::watermark::resolve(fp + 8, next_ra)
        } else if next_ra == super::watermark::trampoline() {
            crate::error::fatal("internal error: a saved stack holds the watermark trampoline")
        } else {
            (next_ra, false)
        };
        if stop {
            stats.segments += 1;
            stats.frames += frames;
            return true;
        }
        ra = next_ra;
        sp = fp + 16;
        // Callers live at higher addresses; anything else means a compiled
        // function without a frame pointer or a corrupt stack.
        if table.contains_key(&ra) && next_fp <= fp {
            crate::error::fatal(&format!(
                "internal error: broken frame-pointer chain in compiled code at {ra:#x}"
            ));
        }
        fp = next_fp;
    }
    if frames > 0 {
        stats.segments += 1;
        stats.frames += frames;
    }
    false
}

/// Calls `f(fp, record id)` for every compiled frame of the live stack,
/// innermost first within each segment, the current segment first; stops
/// when `f` returns false. For backtraces (`crate::backtrace`): it reads
/// frames, updates nothing.
pub fn for_each_compiled_frame(f: &mut dyn FnMut(u64, u64) -> bool) {
    let guard = stackmap::table();
    let Some(table) = guard.as_ref() else {
        return;
    };
    // SAFETY: as in `current_exit`; `f` does not enter compiled code.
    let segs = unsafe { &*SEGMENTS.0.get() };
    let exits = std::iter::once(current_exit()).chain(segs.iter().rev().copied());
    for exit in exits {
        let (mut ra, mut fp) = (exit.ra, exit.fp);
        while let Some(plan) = table.get(&ra) {
            if !f(fp, plan.id) {
                return;
            }
            // SAFETY: as in `walk_segment`: `fp` is a compiled frame's
            // frame pointer, with the caller's `fp` and return address
            // above it.
            let (next_fp, next_ra) = unsafe { (*(fp as *const u64), *((fp + 8) as *const u64)) };
            let next_ra = super::watermark::peek(fp + 8, next_ra);
            if table.contains_key(&next_ra) && next_fp <= fp {
                return;
            }
            ra = next_ra;
            fp = next_fp;
        }
    }
}

/// The stack walker installed with `gc::set_stack_walker` when the first
/// stack map section is registered.
///
/// # Safety
/// Called by the collector only, while every compiled frame is stopped at
/// a call that went through an exit trampoline.
pub unsafe fn walk_compiled_frames(v: &mut dyn RootVisitor) {
    let guard = stackmap::table();
    let mut stats = WalkStats::default();
    if let Some(table) = guard.as_ref() {
        // SAFETY: the current exit and every saved one delimit segments of
        // frames stopped at trampoline calls (this function's contract).
        let mut stopped = unsafe { walk_segment(current_exit(), 0, table, v, &mut stats) };
        // SAFETY: as in `current_exit`; visitors do not enter or leave
        // compiled code, so the vector does not change during the walk.
        let segs = unsafe { &*SEGMENTS.0.get() };
        for &exit in segs.iter().rev() {
            if stopped {
                break;
            }
            // SAFETY: as above.
            stopped = unsafe { walk_segment(exit, 0, table, v, &mut stats) };
        }
    }
    // SAFETY: as in `current_exit`.
    unsafe { *LAST_WALK.0.get() = stats };
}

/// Updates the compiled frames of a stack saved by a continuation
/// (`cont`): `buffer` is the continuation's buffer, already in to-space.
/// Called once per collection for each live continuation, by the
/// collector's scan of the continuation object.
///
/// # Safety
/// `buffer` must be a continuation buffer built by `cont` (header, exit
/// records, the saved stack bytes).
pub unsafe fn walk_saved_stack(buffer: Value, v: &mut dyn RootVisitor) {
    let h = crate::cont::saved_header(buffer);
    if h.stack_len == 0 {
        return;
    }
    let guard = stackmap::table();
    let Some(table) = guard.as_ref() else {
        return;
    };
    let lo = h.regs_sp();
    let delta = (crate::cont::saved_stack_ptr(buffer) as u64).wrapping_sub(lo);
    let mut stats = WalkStats::default();
    for i in (0..h.nseg as usize).rev() {
        let exit = crate::cont::saved_record(buffer, i);
        // Only segments inside the saved stack (the others are empty).
        if exit.ra == 0 || exit.sp < lo || exit.sp >= h.base {
            continue;
        }
        // SAFETY: the record was the exit of a segment of frames stopped at
        // trampoline calls when the stack was copied; the copy holds them
        // at their addresses plus `delta`.
        unsafe { walk_segment(exit, delta, table, v, &mut stats) };
    }
}

/// The frame pointer of the innermost compiled frame (stopped at a call
/// into the runtime), 0 when no compiled frame is active in the current
/// segment.
pub(super) fn innermost_compiled_fp() -> u64 {
    let exit = current_exit();
    let guard = stackmap::table();
    match guard.as_ref() {
        Some(t) if exit.ra != 0 && t.contains_key(&exit.ra) => exit.fp,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The boundary bookkeeping is plain data; these tests do not touch the
    // heap but share the global records, so they hold the heap lock.
    #[test]
    fn segments_nest_and_restore() {
        let _l = crate::builtins::testing::lock();
        let before = current_exit();
        let depth = segment_depth();
        let outer = ExitRecord {
            ra: 0x1234,
            sp: 0x7000,
            fp: 0x7010,
        };
        // SAFETY: as in `current_exit` (and the test holds the heap lock).
        unsafe { *VALK_EXIT.0.get() = outer };
        let s1 = enter_compiled();
        assert_eq!(current_exit(), ExitRecord::default());
        assert_eq!(segment_depth(), depth + 1);
        let inner = ExitRecord {
            ra: 0x5678,
            sp: 0x6000,
            fp: 0x6010,
        };
        // SAFETY: as above.
        unsafe { *VALK_EXIT.0.get() = inner };
        let s2 = enter_compiled();
        assert_eq!(segment_depth(), depth + 2);
        leave_compiled(s2);
        assert_eq!(current_exit(), inner);
        // Leaving an outer level also drops inner levels never left.
        let _abandoned = enter_compiled();
        leave_compiled(s1);
        assert_eq!(current_exit(), outer);
        assert_eq!(segment_depth(), depth);
        // SAFETY: as above.
        unsafe { *VALK_EXIT.0.get() = before };
    }

    extern "C" fn probe_target(a: u64, b: u64) -> u64 {
        a * 10 + b
    }

    exit_trampoline! {
        fn probe_trampoline(a: u64, b: u64) -> u64 => probe_target;
    }

    #[test]
    fn trampoline_records_caller_and_forwards_arguments() {
        let _l = crate::builtins::testing::lock();
        let before = current_exit();
        // SAFETY: the trampoline only records this (Rust) caller and
        // forwards to `probe_target`, which touches no frame; the record is
        // restored below.
        let r = unsafe { probe_trampoline(4, 2) };
        assert_eq!(r, 42);
        let e = current_exit();
        // The recorded return address lies in this test function and the
        // stack pointer in this thread's stack, just above a local.
        let local = 0u64;
        let here = trampoline_records_caller_and_forwards_arguments as *const () as u64;
        assert!(e.ra > here && e.ra < here + 4096, "{e:?} vs {here:#x}");
        assert!(e.sp > &local as *const u64 as u64 - (1 << 16));
        assert!(e.sp < &local as *const u64 as u64 + (1 << 16));
        assert_ne!(e.ra, before.ra);
        // SAFETY: as above.
        unsafe { *VALK_EXIT.0.get() = before };
    }
}
