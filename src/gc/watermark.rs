//! The stack watermark (docs/gc.md, "Stack watermark"): lets a minor
//! collection skip the compiled frames that have not run since the last
//! collection.
//!
//! After a collection nothing refers to the nursery, so a frame suspended
//! since then holds only old references, which a minor collection does
//! not move. A frame resumes when its callee returns into it, so the
//! collector marks the spot: it replaces the return address in the frame
//! of some compiled function X (the *mark*) with [`valk_watermark_return`].
//! Until that trampoline runs, X's caller and every older frame are
//! unchanged, and the walker of a minor collection stops when it reaches
//! the mark. When X returns, the trampoline restores nothing on the stack
//! (the slot is dead), moves the mark [`MARK_DEPTH`] frames further up
//! from the caller that resumes, and jumps to the real return address.
//!
//! A mark can be abandoned without its trampoline running (a non-local
//! exit, a continuation resumed over it). Then its slot is no longer in
//! the live frame chain and the walker never reaches it: it walks every
//! frame, which is always correct. The mark is only written back when the
//! walk proved it live, or when it lies above the current stack pointer.

use super::stackmap::Table;
use std::cell::UnsafeCell;

/// How many frames above a resuming caller the mark is placed: those
/// frames are scanned by every minor collection; returning through them
/// costs one trampoline run per `MARK_DEPTH` returns.
const MARK_DEPTH: usize = 8;

#[derive(Clone, Copy, Default)]
struct State {
    /// Address of the return-address slot holding the trampoline; 0: none.
    slot: u64,
    /// The return address it replaced.
    real_ra: u64,
    /// The current walk may stop at the mark (a minor collection).
    stop_at_mark: bool,
    /// The current walk reached the mark (so its slot is live).
    reached: bool,
}

struct Cell(UnsafeCell<State>);
// SAFETY: the runtime is single-threaded (docs/gc.md, "Access
// discipline"); only the thread running Valk code touches the mark.
unsafe impl Sync for Cell {}
static STATE: Cell = Cell(UnsafeCell::new(State {
    slot: 0,
    real_ra: 0,
    stop_at_mark: false,
    reached: false,
}));

fn state() -> &'static mut State {
    // SAFETY: single thread; every use is a short read-modify-write in this
    // module, with no other reference alive.
    unsafe { &mut *STATE.0.get() }
}

// The trampoline. Its address is odd (one byte of padding after a
// 16-byte boundary), so no fixnum, immediate or heap reference can ever
// equal it. On entry the returning function has popped its frame: `rbp`
// is the frame pointer of the caller about to resume, `rax` the result.
core::arch::global_asm!(
    ".text",
    ".p2align 4",
    "nop",
    ".globl valk_watermark_return",
    "valk_watermark_return:",
    "push rax",
    "push rdx",
    "push rbx",
    "mov rbx, rsp",
    "and rsp, -16",
    "mov rdi, rbp",
    "call {hit}",
    "mov rsp, rbx",
    "pop rbx",
    "pop rdx",
    "mov r11, rax",
    "pop rax",
    "jmp r11",
    hit = sym watermark_hit,
);

extern "C" {
    fn valk_watermark_return();
}

/// The trampoline's address.
#[inline]
pub fn trampoline() -> u64 {
    valk_watermark_return as *const () as u64
}

/// The mark's trampoline ran: the function whose return address was
/// replaced returned, and the caller with frame pointer `fp` resumes.
/// Returns the real return address.
extern "C" fn watermark_hit(fp: u64) -> u64 {
    let real = {
        let s = state();
        let real = s.real_ra;
        s.slot = 0;
        s.real_ra = 0;
        real
    };
    if real == 0 {
        crate::error::fatal("internal error: stack watermark trampoline without a mark");
    }
    let guard = super::stackmap::table();
    if let Some(table) = guard.as_ref() {
        if table.contains_key(&real) {
            // SAFETY: `real` is a compiled call site, so `fp` is the frame
            // pointer of a live compiled frame.
            unsafe { place(fp, table) };
        }
    }
    real
}

/// Puts the mark in the `MARK_DEPTH`-th compiled frame above (and
/// including) the one whose frame pointer is `fp`, stopping below the
/// first frame whose caller is not compiled code.
///
/// # Safety
/// `fp` must be the frame pointer of a live compiled frame with an intact
/// frame-pointer chain above it, and no mark may be set.
unsafe fn place(fp: u64, table: &Table) {
    let mut f = fp;
    let mut chosen = 0;
    for _ in 0..MARK_DEPTH {
        // SAFETY: `f` is a live compiled frame's frame pointer (the
        // contract, then the chain): its saved caller `fp` and return
        // address are the two words at `f`.
        let (next_fp, ra) = unsafe { (*(f as *const u64), *((f + 8) as *const u64)) };
        if !table.contains_key(&ra) {
            break;
        }
        chosen = f;
        if next_fp <= f {
            break;
        }
        f = next_fp;
    }
    if chosen != 0 {
        let slot = chosen + 8;
        let s = state();
        // SAFETY: the return-address slot of the live frame `chosen`.
        unsafe {
            s.real_ra = *(slot as *const u64);
            *(slot as *mut u64) = trampoline();
        }
        s.slot = slot;
    }
}

/// The walker reads return address `ra` from the slot at `slot` of the
/// live stack: returns the real return address, and whether the walk may
/// stop there (the caller and all older frames are unchanged).
#[inline]
pub(super) fn resolve(slot: u64, ra: u64) -> (u64, bool) {
    if ra != trampoline() {
        return (ra, false);
    }
    let s = state();
    if s.slot != slot {
        crate::error::fatal(&format!(
            "internal error: stack watermark trampoline at {slot:#x}, but the mark is at {:#x}",
            s.slot
        ));
    }
    s.reached = true;
    (s.real_ra, s.stop_at_mark)
}

/// The real return address of slot `slot` holding `ra`, without the
/// side effects of [`resolve`] (backtraces read the stack outside a walk).
pub(super) fn peek(slot: u64, ra: u64) -> u64 {
    if ra != trampoline() {
        return ra;
    }
    let s = state();
    if s.slot == slot {
        s.real_ra
    } else {
        ra
    }
}

/// Before a collection's root walk: may the walk stop at the mark?
pub(super) fn begin_walk(minor: bool) {
    let s = state();
    s.stop_at_mark = minor;
    s.reached = false;
}

/// After a collection's root walk, with the innermost compiled frame's
/// frame pointer (0: no compiled frame is active): takes the old mark
/// down if the walk proved it live, and sets a new one near the top.
pub(super) fn end_walk(innermost_fp: u64) {
    let s = state();
    if s.slot != 0 && s.reached {
        // SAFETY: the walk reached the slot through the live frame chain.
        unsafe { *(s.slot as *mut u64) = s.real_ra };
    }
    s.slot = 0;
    s.real_ra = 0;
    s.stop_at_mark = false;
    s.reached = false;
    if innermost_fp == 0 {
        return;
    }
    let guard = super::stackmap::table();
    if let Some(table) = guard.as_ref() {
        // SAFETY: the collector passes the exit record's frame pointer of
        // a compiled frame stopped at a statepoint.
        unsafe { place(innermost_fp, table) };
    }
}

/// Takes the mark down before the stack is copied or replaced
/// (continuation capture and resumption, the end of a top-level form):
/// writes the real return address back when the slot is above
/// `live_above` (a stack pointer of the caller: everything above it is
/// live frames or their unused slots), else forgets it.
pub fn take_down(live_above: u64) {
    let s = state();
    if s.slot != 0 && s.slot > live_above {
        // SAFETY: the slot is in the live part of the stack; it holds the
        // trampoline (the mark's own write) or, if a live frame has since
        // reused the word, a value that frame has yet to write, which is
        // overwritten here harmlessly. Checked before writing.
        unsafe {
            if *(s.slot as *const u64) == trampoline() {
                *(s.slot as *mut u64) = s.real_ra;
            }
        }
    }
    s.slot = 0;
    s.real_ra = 0;
}
