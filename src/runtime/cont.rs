//! First-class continuations by copying the machine stack
//! (docs/continuations.md).
//!
//! Every top-level form runs on the *control stack* ([`run_on_base`]): the
//! stack pointer is moved to one fixed address, the *base*, so that every
//! frame of Valk code (compiled frames, interpreter frames and the runtime
//! frames between them) lies below it, at the same addresses whichever form
//! is running.
//!
//! * **Capture** ([`capture_full`]): an assembly routine saves the
//!   callee-saved registers, the stack pointer and the return address of its
//!   caller, then the copier moves the stack between that stack pointer and
//!   the base into a heap object, together with the root-stack slots and
//!   the compiled-segment records the form pushed since it started.
//! * **Resume** ([`resume`]): the saved bytes are copied back to the same
//!   addresses (from a scratch area below them), the root stack and segment
//!   records are restored, and the registers are reloaded: the capture call
//!   returns a second time. The frames are bit-for-bit those of the capture,
//!   except that the collector has updated the heap references in them.
//! * **Escape** ([`capture_escape`]): a one-shot, upward-only continuation
//!   that saves the registers only; invoking it while its frame is live is a
//!   `longjmp`. `guard` uses it, so a guard that does not raise copies
//!   nothing.
//!
//! The collector sees the frames of a saved stack precisely: the compiled
//! ones through their stack maps (`gc::frames::walk_saved_stack`), the
//! runtime ones hold no unrooted values across a call that may capture
//! (docs/gc.md, "Access discipline"), and their root-stack slots are saved
//! as an ordinary vector.
//!
//! Runtime frames are re-entered by resumption, so a runtime function that
//! calls procedures must not hold resources that its return releases
//! (borrows of a runtime table, heap memory owned by the frame) across such
//! a call; the ones that do are listed in docs/continuations.md.

use crate::dynamic;
use crate::error::{self, VResult};
use crate::gc::{self, frames};
use crate::object;
use crate::value::{ObjType, ProcInfo, Value};
use std::cell::UnsafeCell;

/// Registers saved by a capture: the callee-saved registers of the System V
/// ABI, the caller's stack pointer after the capture returns, and the
/// return address. Offsets are part of the assembly below.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Regs {
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    /// The caller's stack pointer once the capture returns (the lowest
    /// address of the captured stack).
    sp: u64,
    /// Where the capture returns to.
    ra: u64,
}

// The assembly below addresses these fields by offset.
const _: () = {
    assert!(std::mem::offset_of!(Regs, rbx) == 0);
    assert!(std::mem::offset_of!(Regs, rbp) == 8);
    assert!(std::mem::offset_of!(Regs, r15) == 40);
    assert!(std::mem::offset_of!(Regs, sp) == 48);
    assert!(std::mem::offset_of!(Regs, ra) == 56);
    assert!(std::mem::size_of::<Regs>() == 64);
};

/// Where evaluation stands with respect to the control stack.
struct BaseState {
    /// The base address (16-byte aligned; 0 until the host sets it).
    base: u64,
    /// True while a form runs on the control stack.
    on_base: bool,
    /// Root-stack height and segment depth when the current form started.
    root_base: usize,
    seg_base: usize,
    /// The innermost interpreter activation when the current form started
    /// (backtraces: `backtrace::activation_head`).
    act_base: usize,
    /// The driver's stack pointer while a form runs (read by the switch).
    driver_sp: u64,
    /// Serial numbers of escape continuations.
    serial: u64,
    /// The innermost live escape ([`EscapeFrame`], 0 for none): the live
    /// escapes are a chain through their frames, innermost first.
    escapes: u64,
    /// The normal stack limit while a handler of `stack overflow` runs
    /// with part of the margin (see [`dynamic::deliver`]).
    saved_limit: Option<u64>,
    /// The procedure [`run_on_base`] runs, read by [`base_entry`].
    entry: Option<extern "C" fn(u64, u64) -> u64>,
    /// The escape of the current form (where an uncaught exception goes:
    /// [`throw_uncaught`]), valid while `base_armed`.
    base_regs: Regs,
    base_armed: bool,
}

struct BaseCell(UnsafeCell<BaseState>);
// SAFETY: the runtime is single-threaded (docs/architecture.md): the cell
// is used by the thread that runs Valk code only, never by reference
// across a call (each access is one statement or a short block).
unsafe impl Sync for BaseCell {}

static BASE: BaseCell = BaseCell(UnsafeCell::new(BaseState {
    base: 0,
    on_base: false,
    root_base: 0,
    seg_base: 0,
    act_base: 0,
    driver_sp: 0,
    serial: 0,
    escapes: 0,
    saved_limit: None,
    entry: None,
    base_regs: Regs {
        rbx: 0,
        rbp: 0,
        r12: 0,
        r13: 0,
        r14: 0,
        r15: 0,
        sp: 0,
        ra: 0,
    },
    base_armed: false,
}));

fn state() -> *mut BaseState {
    BASE.0.get()
}

/// How far below the evaluation thread's top the base lies: the room the
/// driver (reader, expander, LLVM) keeps for its own frames.
pub const DRIVER_RESERVE: usize = 64 << 20;

/// Sets the base of the control stack: called by the host on the
/// evaluation thread with the address of its stack top.
pub fn set_control_base(stack_top: usize) {
    let base = (stack_top.saturating_sub(DRIVER_RESERVE) & !15) as u64;
    // SAFETY: see `BaseCell`.
    unsafe { (*state()).base = base };
}

/// Is a form running on the control stack?
pub fn on_base() -> bool {
    // SAFETY: see `BaseCell`.
    unsafe { (*state()).on_base }
}

fn approximate_sp() -> u64 {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as u64
}

/// Runs `f(a, b)` as a top-level evaluation on the control stack and
/// returns its result (`Value::EXCEPTION` with the exception pending when
/// it raised). The dynamic environment (winders, handlers, parameters)
/// starts empty. `f` must not use memory of its caller's frames once it
/// has called Valk code: a continuation captured in one form may be
/// resumed during another, and then returns here in that other form's
/// place (docs/continuations.md, "Top-level forms").
///
/// Nested calls (a form that evaluates another) and threads without a
/// control stack (unit tests) run `f` in place; continuations captured
/// there report an error when invoked across the missing base.
pub fn run_on_base(f: extern "C" fn(u64, u64) -> u64, a: u64, b: u64) -> Value {
    // SAFETY: see `BaseCell`.
    let (base, nested) = unsafe { ((*state()).base, (*state()).on_base) };
    // The driver must be above the base with room to spare.
    if base == 0 || nested || approximate_sp() < base + (1 << 20) {
        return Value(f(a, b));
    }
    dynamic::reset();
    // SAFETY: see `BaseCell`.
    unsafe {
        let s = &mut *state();
        s.on_base = true;
        s.root_base = gc::root_sp();
        s.seg_base = frames::segment_depth();
        s.act_base = crate::backtrace::activation_head();
        s.entry = Some(f);
        s.escapes = 0;
    }
    // SAFETY: `base` is 16-byte aligned, inside this thread's stack and
    // below every frame of the driver (checked above); the switch saves the
    // driver's stack pointer in `driver_sp` and restores it after the call.
    let r = unsafe { valk_cont_switch(base_entry, a, b, base) };
    // SAFETY: see `BaseCell`.
    unsafe {
        let s = &mut *state();
        s.on_base = false;
        s.base_armed = false;
    }
    Value(r)
}

/// The outermost frame of every form on the control stack: runs the
/// form's procedure under the form's escape, so that an uncaught exception
/// ends the form from wherever it is raised ([`throw_uncaught`]).
extern "C" fn base_entry(a: u64, b: u64) -> u64 {
    // SAFETY: see `BaseCell`; `entry` was set by `run_on_base` just before.
    let f = unsafe { (*state()).entry.expect("run_on_base sets the entry") };
    let mut ctx = BaseCtx {
        f,
        a,
        b,
        result: Value::EXCEPTION.0,
    };
    // SAFETY: `base_body` does not unwind; `ctx` lives on this frame.
    let thrown = unsafe { valk_cont_with_escape(&mut ctx as *mut BaseCtx as *mut u8, base_body) };
    if thrown != 0 {
        Value::EXCEPTION.0
    } else {
        ctx.result
    }
}

struct BaseCtx {
    f: extern "C" fn(u64, u64) -> u64,
    a: u64,
    b: u64,
    result: u64,
}

unsafe extern "C" fn base_body(ctx: *mut u8, regs: *const Regs) -> u64 {
    // SAFETY: `ctx` is `base_entry`'s `BaseCtx` and `regs` the escape
    // frame's registers, both alive during this call.
    let ctx = unsafe { &mut *(ctx as *mut BaseCtx) };
    // SAFETY: see `BaseCell`.
    unsafe {
        let s = &mut *state();
        s.base_regs = *regs;
        s.base_armed = true;
    }
    ctx.result = (ctx.f)(ctx.a, ctx.b);
    0
}

/// Ends the current form with its pending exception: called where an
/// exception that no handler took would otherwise be returned to compiled
/// code (the runtime entry points of `rt.rs`, `valk_rt_call`), so compiled
/// code never tests results for `EXCEPTION` (docs/continuations.md,
/// "Uncaught exceptions"). Returns `EXCEPTION` only off the control stack
/// (runtime unit tests), where the frames between are Rust's.
pub fn throw_uncaught() -> Value {
    // SAFETY: see `BaseCell`.
    let (armed, root_base, seg_base, act_base) = unsafe {
        let s = &*state();
        (
            s.on_base && s.base_armed,
            s.root_base,
            s.seg_base,
            s.act_base,
        )
    };
    if !armed {
        return Value::EXCEPTION;
    }
    restore_stack_limit();
    gc::set_root_sp(root_base);
    frames::restore_segments(seg_base, &[], frames::ExitRecord::default());
    crate::backtrace::set_activation_head(act_base);
    gc::watermark::take_down(u64::MAX);
    // SAFETY: see `BaseCell`.
    unsafe { (*state()).escapes = 0 };
    // SAFETY: the base's escape frame is live (`base_armed`: the form has
    // not returned); its registers are in a static, outside the stack.
    unsafe {
        valk_cont_resume(
            std::ptr::addr_of!((*state()).base_regs),
            std::ptr::null(),
            0,
            1,
        )
    }
}

// ---------------------------------------------------------------------------
// Assembly: switch, capture, resume (x86-64 System V; docs/continuations.md)

/// Calls `f(a, b)` with the stack pointer at `base`, then returns to the
/// driver's stack (whose pointer is kept in `BaseState::driver_sp`, so a
/// resumed continuation of an earlier form returns to the current driver).
///
/// # Safety
/// `base` must be a 16-byte-aligned address of this thread's stack below
/// every live frame.
#[unsafe(naked)]
unsafe extern "C" fn valk_cont_switch(
    f: extern "C" fn(u64, u64) -> u64,
    a: u64,
    b: u64,
    base: u64,
) -> u64 {
    core::arch::naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "mov qword ptr [rip + {state} + {driver_sp}], rsp",
        "mov rsp, rcx",
        "mov rax, rdi",
        "mov rdi, rsi",
        "mov rsi, rdx",
        "call rax",
        "mov rsp, qword ptr [rip + {state} + {driver_sp}]",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        state = sym BASE,
        driver_sp = const std::mem::offset_of!(BaseState, driver_sp),
    )
}

/// Saves the registers of its caller in a [`Regs`] on its own frame and
/// calls `copier(ctx, &regs)`, returning the copier's result. A later
/// [`valk_cont_resume`] with those registers returns from this call again
/// (with the resume value).
///
/// # Safety
/// `copier` must not unwind.
#[unsafe(naked)]
unsafe extern "C" fn valk_cont_capture(
    ctx: *mut u8,
    copier: unsafe extern "C" fn(*mut u8, *const Regs) -> u64,
) -> u64 {
    core::arch::naked_asm!(
        // 64 bytes of registers + 8 of padding keep the call aligned.
        "sub rsp, 72",
        "mov qword ptr [rsp], rbx",
        "mov qword ptr [rsp + 8], rbp",
        "mov qword ptr [rsp + 16], r12",
        "mov qword ptr [rsp + 24], r13",
        "mov qword ptr [rsp + 32], r14",
        "mov qword ptr [rsp + 40], r15",
        "lea rax, [rsp + 80]",
        "mov qword ptr [rsp + 48], rax",
        "mov rax, qword ptr [rsp + 72]",
        "mov qword ptr [rsp + 56], rax",
        "mov rax, rsi",
        "mov rsi, rsp",
        "call rax",
        "add rsp, 72",
        "ret",
    )
}

/// Saves the registers of its caller in a [`Regs`] on its own frame, with
/// `ra` pointing just after its call of `body(ctx, &regs)`, and returns
/// `body`'s result. An escape ([`valk_cont_resume`] with those registers
/// and no bytes) lands after that call while this frame is still live and
/// returns the escape's value (1) to the caller instead: to the caller this
/// is an ordinary call that returns once. (The escape of every form:
/// [`base_entry`].)
///
/// # Safety
/// `body` must not unwind.
#[unsafe(naked)]
unsafe extern "C" fn valk_cont_with_escape(
    ctx: *mut u8,
    body: unsafe extern "C" fn(*mut u8, *const Regs) -> u64,
) -> u64 {
    core::arch::naked_asm!(
        "sub rsp, 72",
        "mov qword ptr [rsp], rbx",
        "mov qword ptr [rsp + 8], rbp",
        "mov qword ptr [rsp + 16], r12",
        "mov qword ptr [rsp + 24], r13",
        "mov qword ptr [rsp + 32], r14",
        "mov qword ptr [rsp + 40], r15",
        "mov qword ptr [rsp + 48], rsp",
        "lea rax, [rip + 2f]",
        "mov qword ptr [rsp + 56], rax",
        "mov rax, rsi",
        "mov rsi, rsp",
        "call rax",
        "2:",
        "add rsp, 72",
        "ret",
    )
}

/// What [`valk_cont_escape_call`] returns (in `rax:rdx`).
#[repr(C)]
struct EscapeReturn {
    /// The receiver's result, or the value passed to the escape.
    value: u64,
    /// 1 when the escape was invoked.
    escaped: u64,
}

/// Saves the registers of its caller in `frame.regs`, with `sp` the stack
/// pointer of its call of the receiver and `ra` an escape landing, then
/// calls `fast(receiver, 1, k, 0, 0, 0)`: the `tailcc` fast entry of a
/// compiled closure (docs/calling-convention.md; for six register
/// arguments `tailcc` and the C convention agree but for the argument area
/// the callee pops, which the stack pointer is restored over, so
/// [`generic_receiver`] fits too). Returns `{result, 0}`; an escape ([`valk_cont_resume`] with
/// `frame.regs`, no bytes and value `v`) returns `{v, 1}` from here.
///
/// # Safety
/// `fast` must not unwind; `frame` must stay valid during the call.
#[unsafe(naked)]
unsafe extern "C" fn valk_cont_escape_call(
    frame: *mut EscapeFrame,
    fast: u64,
    receiver: Value,
    k: Value,
) -> EscapeReturn {
    core::arch::naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        // A `tailcc` callee pops an 8-byte argument area above its return
        // address (docs/calling-convention.md): this frame's scratch word.
        "sub rsp, 16",
        "mov qword ptr [rdi], rbx",
        "mov qword ptr [rdi + 8], rbp",
        "mov qword ptr [rdi + 16], r12",
        "mov qword ptr [rdi + 24], r13",
        "mov qword ptr [rdi + 32], r14",
        "mov qword ptr [rdi + 40], r15",
        "mov qword ptr [rdi + 48], rsp",
        "lea rax, [rip + 3f]",
        "mov qword ptr [rdi + 56], rax",
        "mov rax, rsi",
        "mov rdi, rdx",
        "mov rdx, rcx",
        "mov esi, 1",
        "xor ecx, ecx",
        "xor r8d, r8d",
        "xor r9d, r9d",
        "call rax",
        "xor edx, edx",
        "mov rsp, rbp",
        "pop rbp",
        "ret",
        "3:",
        "mov edx, 1",
        "mov rsp, rbp",
        "pop rbp",
        "ret",
    )
}

extern "C" fn copy_stack_bytes(dest: *mut u8, src: *const u8, len: u64) {
    // Escapes copy nothing (and may pass a null source).
    if len == 0 {
        return;
    }
    // SAFETY: called by `valk_cont_resume` only, whose contract makes
    // `src..src+len` a heap buffer and `dest..dest+len` stack memory above
    // the current stack pointer; they do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(src, dest, len as usize) }
}

/// Copies `len` bytes from `src` to `regs.sp` (working from a scratch area
/// below it), reloads the registers and returns `value` from the capture
/// that saved them. Never returns to its caller.
///
/// # Safety
/// `regs` and `src` must not lie in the stack area at or above
/// `regs.sp - 4096`; the bytes must be the stack saved by that capture (or
/// `len == 0` when that stack is still intact: an escape).
#[unsafe(naked)]
unsafe extern "C" fn valk_cont_resume(
    regs: *const Regs,
    src: *const u8,
    len: u64,
    value: u64,
) -> ! {
    core::arch::naked_asm!(
        "mov rbx, rdi",
        "mov r12, rcx",
        "mov rdi, qword ptr [rbx + 48]",
        "lea rsp, [rdi - 512]",
        "and rsp, -16",
        "call {copy}",
        "mov rax, r12",
        "mov rcx, qword ptr [rbx + 56]",
        "mov rbp, qword ptr [rbx + 8]",
        "mov r12, qword ptr [rbx + 16]",
        "mov r13, qword ptr [rbx + 24]",
        "mov r14, qword ptr [rbx + 32]",
        "mov r15, qword ptr [rbx + 40]",
        "mov rsp, qword ptr [rbx + 48]",
        "mov rbx, qword ptr [rbx]",
        "jmp rcx",
        copy = sym copy_stack_bytes,
    )
}

// ---------------------------------------------------------------------------
// Saved stacks

/// Header of a continuation's buffer (a bytevector): the registers, the
/// capture's bookkeeping, then `nseg` exit records and the stack bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SavedHeader {
    pub regs: Regs,
    /// Stack base at capture (the saved bytes cover `regs.sp..base`).
    pub base: u64,
    pub root_base: u64,
    /// Root-stack height at the capture.
    pub root_sp: u64,
    pub seg_base: u64,
    /// Segment depth at the capture (escapes truncate to it).
    pub seg_depth: u64,
    /// Exit records saved: the segments `seg_base..seg_depth`, then the
    /// current exit record.
    pub nseg: u64,
    /// Bytes of stack saved.
    pub stack_len: u64,
    /// The innermost interpreter activation at the capture (backtraces);
    /// a full continuation's are nodes in its saved stack.
    pub act_head: u64,
    /// The innermost live escape at the capture (its chain is in the saved
    /// stack; see [`EscapeFrame`]).
    pub escapes: u64,
}

impl SavedHeader {
    /// The lowest address of the saved stack.
    pub fn regs_sp(&self) -> u64 {
        self.regs.sp
    }
}

const HEADER_BYTES: usize = std::mem::size_of::<SavedHeader>();
const RECORD_BYTES: usize = std::mem::size_of::<frames::ExitRecord>();

/// Continuation object fields (`ObjType::Continuation`, all traced).
const K_BUFFER: usize = 0;
const K_WINDERS: usize = 1;
const K_HANDLERS: usize = 2;
const K_PARAMS: usize = 3;
const K_ROOTS: usize = 4;
const K_FIELDS: usize = 5;

fn header_ptr(buffer: Value) -> *mut SavedHeader {
    buffer.payload_ptr(1) as *mut SavedHeader
}

/// The header of a continuation buffer.
pub fn saved_header(buffer: Value) -> SavedHeader {
    // SAFETY: `buffer` is a continuation buffer: a bytevector at least
    // `HEADER_BYTES` long whose data (8-byte aligned) starts with a header.
    unsafe { *header_ptr(buffer) }
}

/// Saved exit record `i` of a continuation buffer (`i < nseg`).
pub fn saved_record(buffer: Value, i: usize) -> frames::ExitRecord {
    debug_assert!((i as u64) < saved_header(buffer).nseg);
    // SAFETY: the buffer holds `nseg` records after the header.
    unsafe {
        *((header_ptr(buffer) as *const u8).add(HEADER_BYTES + i * RECORD_BYTES)
            as *const frames::ExitRecord)
    }
}

/// The saved exit records as a slice (valid until the next allocation).
fn saved_records<'a>(buffer: Value) -> &'a [frames::ExitRecord] {
    let n = saved_header(buffer).nseg as usize;
    // SAFETY: as in `saved_record`; records are 8-byte aligned words.
    unsafe {
        std::slice::from_raw_parts(
            (header_ptr(buffer) as *const u8).add(HEADER_BYTES) as *const frames::ExitRecord,
            n,
        )
    }
}

/// Address of the saved stack bytes in a continuation buffer (valid until
/// the next allocation).
pub fn saved_stack_ptr(buffer: Value) -> *mut u8 {
    let h = saved_header(buffer);
    // SAFETY: the bytes follow the header and the records.
    unsafe { (header_ptr(buffer) as *mut u8).add(HEADER_BYTES + h.nseg as usize * RECORD_BYTES) }
}

/// The ProcInfo of continuation procedures.
const CONT_NAME: &str = "continuation";
static CONT_INFO: ProcInfo = ProcInfo {
    name: CONT_NAME.as_ptr(),
    name_len: CONT_NAME.len(),
    required: 0,
    optional: 0,
    rest: 1,
    data: 0,
};

/// Is `v` a continuation procedure (full or escape)?
pub fn is_continuation(v: Value) -> bool {
    v.is_closure() && std::ptr::eq(object::closure_info(v), &CONT_INFO)
}

/// Context of one capture, passed through the assembly to the copier.
struct CaptureCtx {
    /// Set by the copier: the continuation procedure, or an error.
    result: Option<VResult>,
}

/// The copier behind every capture: runs below the captured stack, builds
/// the continuation procedure (allocation may collect: the live frames are
/// updated first) and copies the stack last, so the copy is exactly the
/// stack at the capture.
unsafe extern "C" fn copier(ctx: *mut u8, regs: *const Regs) -> u64 {
    // SAFETY: `ctx` is the `CaptureCtx` of `capture` (on its frame, alive
    // during this call) and `regs` the saved registers on the assembly's
    // frame; nothing else refers to either meanwhile.
    let (ctx, regs) = unsafe { (&mut *(ctx as *mut CaptureCtx), *regs) };
    ctx.result = Some(build(&regs));
    0
}

fn build(regs: &Regs) -> VResult {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &*state() };
    if !s.on_base {
        return Err(error::error(
            error::ErrorKind::Other,
            "call-with-current-continuation: no continuation can be captured outside a top-level evaluation",
            &[],
        ));
    }
    let root_sp = gc::root_sp();
    let seg_depth = frames::segment_depth();
    let (stack_len, nseg, nroots) = (
        s.base - regs.sp,
        seg_depth - s.seg_base + 1,
        root_sp - s.root_base,
    );
    let bytes = HEADER_BYTES + nseg * RECORD_BYTES + stack_len as usize;
    let scope = gc::Scope::new();
    // A bytevector: length word, then the bytes. Only the header and the
    // last word are cleared: a collection before the copy below scans the
    // continuation and reads the header (an empty saved stack until then);
    // the records and stack bytes are written before anything reads them.
    let words = 1 + bytes.div_ceil(8);
    let buffer = scope.root(gc::alloc_raw(ObjType::Bytevector, words));
    buffer.get().set_raw(words - 1, 0);
    buffer.get().set_raw(0, bytes as u64);
    // SAFETY: the buffer holds at least `HEADER_BYTES` after its length.
    unsafe { *header_ptr(buffer.get()) = SavedHeader::default() };
    // No root slots (forms whose runtime frames hold none):
    // `()` instead of an empty vector, which `resume` never reads.
    let roots = scope.root(if nroots == 0 {
        Value::NIL
    } else {
        object::make_vector(nroots, Value::FALSE)
    });
    // Fresh objects: fields initialised with no allocation in between.
    let k = scope.root(gc::alloc(ObjType::Continuation, K_FIELDS));
    let (winders, handlers, params) = dynamic::current();
    let kv = k.get();
    kv.init_field(K_BUFFER, buffer.get());
    kv.init_field(K_WINDERS, winders);
    kv.init_field(K_HANDLERS, handlers);
    kv.init_field(K_PARAMS, params);
    kv.init_field(K_ROOTS, roots.get());
    let proc = object::make_closure(cont_entry, &CONT_INFO, 1);
    proc.init_field(2, k.get());
    // No allocation from here on: the copies below are final. The stack
    // watermark's trampoline must not be copied (docs/gc.md, "Stack
    // watermark").
    gc::watermark::take_down(approximate_sp());
    let roots = roots.get();
    for i in 0..nroots {
        roots.set_field(i, gc::root_get(s.root_base + i));
    }
    let buffer = buffer.get();
    let header = SavedHeader {
        regs: *regs,
        base: s.base,
        root_base: s.root_base as u64,
        root_sp: root_sp as u64,
        seg_base: s.seg_base as u64,
        seg_depth: seg_depth as u64,
        nseg: nseg as u64,
        stack_len,
        act_head: crate::backtrace::activation_head() as u64,
        escapes: s.escapes,
    };
    let saved_segments = s.seg_base..seg_depth;
    // SAFETY: the buffer was sized for the header, `nseg` records and
    // `stack_len` bytes; the stack bytes `regs.sp..base` are this thread's
    // stack above the copier's frame (the capture's callers, suspended).
    unsafe {
        *header_ptr(buffer) = header;
        let rec = (header_ptr(buffer) as *mut u8).add(HEADER_BYTES) as *mut frames::ExitRecord;
        for (i, d) in saved_segments.enumerate() {
            *rec.add(i) = frames::segment_at(d);
        }
        *rec.add(nseg - 1) = frames::current_exit();
        std::ptr::copy_nonoverlapping(
            regs.sp as *const u8,
            saved_stack_ptr(buffer),
            stack_len as usize,
        );
    }
    Ok(proc)
}

/// What a capture returned.
pub enum Captured {
    /// The first return: the new continuation procedure.
    Now(Value),
    /// A later return: the continuation was invoked with this value (a
    /// `Values` object for other than one value).
    Resumed(Value),
}

#[inline(never)]
fn capture() -> VResult<Captured> {
    let mut ctx = CaptureCtx { result: None };
    // SAFETY: `copier` does not unwind (it returns errors in `ctx`); `ctx`
    // lives on this frame for the whole call.
    let r = unsafe { valk_cont_capture(&mut ctx as *mut CaptureCtx as *mut u8, copier) };
    if r != 0 {
        return Ok(Captured::Resumed(dynamic::take_resume_value()));
    }
    match ctx.result.take() {
        Some(Ok(k)) => Ok(Captured::Now(k)),
        Some(Err(e)) => Err(e),
        None => error::fatal("internal error: continuation copier did not run"),
    }
}

/// Captures the full continuation of the caller (which must be a runtime
/// frame on the control stack; the builtin `%capture-continuation`).
pub fn capture_full() -> VResult<Captured> {
    capture()
}

/// An escape's record, on the frame of [`escape_call`] while the escape
/// is live (docs/continuations.md, "Escape continuations"). Holds no heap
/// references: the escape procedure keeps the dynamic environment.
#[repr(C)]
struct EscapeFrame {
    /// Written by [`valk_cont_escape_call`]; `regs.sp` is the stack
    /// pointer of its call of the receiver.
    regs: Regs,
    /// The next live escape out (0: none).
    prev: u64,
    serial: u64,
    /// The root slot holding the escape procedure (above `root_sp`).
    k_root: u64,
    /// Root-stack height, segment depth, exit record and interpreter
    /// activation when the escape was made: what invoking it restores.
    root_sp: u64,
    seg_depth: u64,
    exit: frames::ExitRecord,
    act_head: u64,
}

// The assembly writes `regs` at offset 0.
const _: () = assert!(std::mem::offset_of!(EscapeFrame, regs) == 0);

/// Escape procedure fields (closure captures).
const E_FRAME: usize = 2;
const E_SERIAL: usize = 3;
const E_WINDERS: usize = 4;
const E_HANDLERS: usize = 5;
const E_PARAMS: usize = 6;

/// Calls `f` with an escape continuation of this call: invoking it while
/// this call is active returns its argument from here; afterwards it is an
/// error. Copies nothing.
pub fn call_with_escape(f: Value) -> VResult {
    escape_call(f, crate::call::compiled_entry())
}

/// [`call_with_escape`] for compiled code, which names its generic entry
/// `compiled` (word 0 of its closures): a compiled receiver is called at
/// its fast entry, with no runtime frame between.
pub fn escape_call(f: Value, compiled: u64) -> VResult {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &mut *state() };
    if !s.on_base {
        return Err(error::error(
            error::ErrorKind::Other,
            "call-with-current-continuation: no continuation can be captured outside a top-level evaluation",
            &[],
        ));
    }
    s.serial += 1;
    let mut frame = EscapeFrame {
        regs: Regs::default(),
        prev: s.escapes,
        serial: s.serial,
        k_root: 0,
        root_sp: gc::root_sp() as u64,
        seg_depth: frames::segment_depth() as u64,
        exit: frames::current_exit(),
        act_head: crate::backtrace::activation_head() as u64,
    };
    let k = {
        let scope = gc::Scope::new();
        let f = scope.root(f);
        let k = object::make_closure(escape_entry, &CONT_INFO, 5);
        let (winders, handlers, params) = dynamic::current();
        k.init_field(E_FRAME, Value::fixnum(&frame as *const EscapeFrame as i64));
        k.init_field(E_SERIAL, Value::fixnum(frame.serial as i64));
        k.init_field(E_WINDERS, winders);
        k.init_field(E_HANDLERS, handlers);
        k.init_field(E_PARAMS, params);
        (f.get(), k)
    };
    let (f, k) = k;
    // Kept where a tail-position site can find it ([`tail_escape_reuse`]);
    // the slot is dropped on both ways out.
    frame.k_root = gc::root_sp() as u64;
    gc::push_root(k);
    let compiled = compiled != 0 && f.is_closure() && f.raw(0) == compiled;
    let fp = &mut frame as *mut EscapeFrame;
    // SAFETY: see `BaseCell`; the frame is live until the chain is
    // restored below, on both ways out.
    unsafe { (*state()).escapes = fp as u64 };
    let r = if compiled {
        let saved = frames::enter_compiled();
        // SAFETY: `f` is a compiled closure, so word 2 is its fast entry
        // (docs/calling-convention.md); compiled code does not unwind.
        let r = unsafe { valk_cont_escape_call(fp, f.raw(2), f, k) };
        if r.escaped == 0 {
            frames::leave_compiled(saved);
        }
        r
    } else {
        // SAFETY: `generic_receiver` does not unwind.
        unsafe { valk_cont_escape_call(fp, generic_receiver as *const () as u64, f, k) }
    };
    // Either way out, this escape is no longer live.
    // SAFETY: see `BaseCell`.
    unsafe { (*state()).escapes = frame.prev };
    gc::set_root_sp(frame.root_sp as usize);
    let v = Value(r.value);
    if r.escaped == 0 && v == Value::EXCEPTION {
        Err(error::Raised)
    } else {
        Ok(v)
    }
}

/// The receiver call of [`escape_call`] for procedures that are not
/// compiled closures: the generic call, an exception as `EXCEPTION` (left
/// pending).
extern "C" fn generic_receiver(f: Value, _argc: u64, k: Value, _: u64, _: u64, _: u64) -> Value {
    crate::call::call(f, &[k]).unwrap_or(Value::EXCEPTION)
}

/// What [`tail_escape_reuse`] returns (in `rax:rdx`): the escape to
/// reuse and the receiver's fast entry, or zeros.
#[repr(C)]
struct TailReuse {
    k: u64,
    fast: u64,
}

/// Called by [`valk_tail_call_ec`] for `(%tail-call/ec r)` in tail
/// position of a compiled frame, `sp` being that frame's caller's stack
/// pointer at the call (the frame is gone: `musttail`). When that frame
/// was the receiver's frame of the innermost live escape (it sat where the
/// escape called its receiver, `regs.sp`), in the same dynamic
/// environment, returning from the frame is returning from the escape:
/// the new continuation is that escape, and `r` is called in its place
/// (docs/continuations.md, "Escape continuations in tail position").
/// Allocates nothing.
extern "C" fn tail_escape_reuse(r: Value, compiled: u64, sp: u64) -> TailReuse {
    let none = TailReuse { k: 0, fast: 0 };
    // SAFETY: see `BaseCell`.
    let s = unsafe { &*state() };
    if !s.on_base || s.escapes == 0 || compiled == 0 {
        return none;
    }
    // SAFETY: the head of the chain is a live escape frame.
    let f = unsafe { &*(s.escapes as *const EscapeFrame) };
    if f.regs.sp != sp
        || !(r.is_closure() && r.raw(0) == compiled)
        || gc::root_sp() as u64 != f.k_root + 1
        || frames::segment_depth() as u64 != f.seg_depth + 1
    {
        return none;
    }
    let k = gc::root_get(f.k_root as usize);
    let (winders, handlers, params) = dynamic::current();
    if k.field(E_WINDERS) != winders
        || k.field(E_HANDLERS) != handlers
        || k.field(E_PARAMS) != params
    {
        return none;
    }
    TailReuse {
        k: k.0,
        fast: r.raw(2),
    }
}

/// `(%tail-call/ec r)` as compiled code calls it in tail position:
/// `musttail call tailcc valk_tail_call_ec(r, compiled)`, `compiled` being
/// the module's generic entry. Reuses the innermost escape when
/// [`tail_escape_reuse`] allows, jumping to `r`'s fast entry with it (the
/// stack does not grow); otherwise makes a new escape as
/// `valk_rt_call_ec` does, recording the exit to the compiled frame this
/// one returns to, and returns as a `tailcc` callee (popping the 8-byte
/// argument area, docs/calling-convention.md).
///
/// # Safety
/// Only for compiled code, as a `tailcc` callee.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn valk_tail_call_ec(r: Value, compiled: u64) -> Value {
    core::arch::naked_asm!(
        "push rdi",
        "push rsi",
        "lea rdx, [rsp + 24]",
        "sub rsp, 8",
        "call {reuse}",
        "add rsp, 8",
        "pop rsi",
        "pop rdi",
        "test rax, rax",
        "jz 2f",
        "mov r10, rdx",
        "mov rdx, rax",
        "mov esi, 1",
        "xor ecx, ecx",
        "xor r8d, r8d",
        "xor r9d, r9d",
        "jmp r10",
        "2:",
        // The return slot is the gone frame's: it may hold the stack
        // watermark's trampoline, which an exit record must not name.
        "lea r11, [rip + valk_watermark_return]",
        "cmp qword ptr [rsp], r11",
        "jne 4f",
        "push rdi",
        "push rsi",
        "lea rdi, [rsp + 16]",
        "sub rsp, 8",
        "call {unmark}",
        "add rsp, 8",
        "pop rsi",
        "pop rdi",
        "4:",
        "mov r11, qword ptr [rsp]",
        "mov qword ptr [rip + {exit}], r11",
        "lea r11, [rsp + 8]",
        "mov qword ptr [rip + {exit} + 8], r11",
        "mov qword ptr [rip + {exit} + 16], rbp",
        "sub rsp, 8",
        "call {slow}",
        "add rsp, 8",
        "ret 8",
        reuse = sym tail_escape_reuse,
        unmark = sym unmark_slot,
        exit = sym frames::VALK_EXIT,
        slow = sym crate::rt::call_ec_impl,
    )
}

/// The stack watermark's mark is in return slot `slot` of a live frame:
/// puts the real return address back (docs/gc.md, "Stack watermark").
extern "C" fn unmark_slot(slot: u64) {
    gc::watermark::take_down(slot - 8);
}

/// Is the escape made with `frame` and `serial` live: in the chain of live
/// escapes (kept by escapes, full continuations and the end of forms)?
fn escape_is_live(frame: u64, serial: u64) -> bool {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &*state() };
    let sp = approximate_sp();
    let mut p = s.escapes;
    // Innermost first, so addresses grow along the chain; every frame in it
    // is live stack between here and the base (read only when it is).
    while p > sp && p < s.base && p <= frame {
        // SAFETY: a live escape frame (the chain holds only those).
        let f = unsafe { &*(p as *const EscapeFrame) };
        if p == frame {
            return f.serial == serial;
        }
        p = f.prev;
    }
    false
}

/// What a continuation or escape called with `argc` arguments at `argv`
/// delivers: one value as itself, several as a `Values` object (as
/// `values` returns them). May allocate (`make_values` roots the values
/// first); the caller roots `this` before.
///
/// # Safety
/// `argc` values at `argv` (the generic entry's contract).
unsafe fn delivered_value(argc: u64, argv: *const Value) -> Value {
    // SAFETY: the caller's contract.
    let args = unsafe { std::slice::from_raw_parts(argv, argc as usize) };
    if argc == 1 {
        args[0]
    } else {
        object::make_values(args)
    }
}

/// The generic entry of escape procedures: runs the `dynamic-wind`
/// transitions, restores the dynamic environment and jumps to the escape.
unsafe extern "C" fn escape_entry(this: Value, argc: u64, argv: *const Value) -> Value {
    let scope = gc::Scope::new();
    let this = scope.root(this);
    // SAFETY: the generic entry's own arguments.
    let value = scope.root(unsafe { delivered_value(argc, argv) });
    let (frame, serial) = {
        let k = this.get();
        (
            k.field(E_FRAME).as_fixnum() as u64,
            k.field(E_SERIAL).as_fixnum() as u64,
        )
    };
    let fail = |what: &str| {
        let _ = error::error(
            error::ErrorKind::Other,
            &format!("continuation: cannot be invoked {what}"),
            &[],
        );
        dynamic::deliver();
        Value::EXCEPTION
    };
    if !on_base() {
        return fail("outside a top-level evaluation");
    }
    if !escape_is_live(frame, serial) {
        return fail("outside the extent of its escape (%call/ec)");
    }
    if dynamic::rewind(this.get().field(E_WINDERS)).is_err() {
        dynamic::deliver();
        return Value::EXCEPTION;
    }
    let k = this.get();
    dynamic::set_current(k.field(E_HANDLERS), k.field(E_PARAMS));
    let v = value.get();
    // SAFETY: the escape is live (checked above; the after thunks `rewind`
    // ran returned here), so its frame is.
    let f = unsafe { &*(frame as *const EscapeFrame) };
    restore_stack_limit();
    gc::set_root_sp(f.root_sp as usize);
    frames::restore_segments(f.seg_depth as usize, &[], f.exit);
    crate::backtrace::set_activation_head(f.act_head as usize);
    // The frames above the landing stay live (a mark there is written
    // back); those below are abandoned.
    gc::watermark::take_down(f.regs.sp);
    // SAFETY: the registers are those of the live escape frame, below
    // which the stack is intact; nothing is copied and nothing allocates
    // between here and the jump (the value needs no root after it).
    unsafe { valk_cont_resume(&f.regs, std::ptr::null(), 0, v.0) }
}

/// The generic entry of continuation procedures: runs the `dynamic-wind`
/// transitions, restores the dynamic environment and resumes.
unsafe extern "C" fn cont_entry(this: Value, argc: u64, argv: *const Value) -> Value {
    let scope = gc::Scope::new();
    let this = scope.root(this);
    // SAFETY: the generic entry's own arguments.
    let value = scope.root(unsafe { delivered_value(argc, argv) });
    let k = this.get().field(2);
    let header = saved_header(k.field(K_BUFFER));
    if check_resumable(&header).is_err() {
        dynamic::deliver();
        return Value::EXCEPTION;
    }
    if dynamic::rewind(k.field(K_WINDERS)).is_err() {
        dynamic::deliver();
        return Value::EXCEPTION;
    }
    let k = this.get().field(2);
    dynamic::set_current(k.field(K_HANDLERS), k.field(K_PARAMS));
    // Escapes live at the capture are live again in its frames.
    // SAFETY: see `BaseCell`.
    unsafe { (*state()).escapes = saved_header(k.field(K_BUFFER)).escapes };
    dynamic::set_resume_value(value.get());
    resume(k)
}

fn check_resumable(h: &SavedHeader) -> VResult<()> {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &*state() };
    let fail = |what: &str| {
        Err(error::error(
            error::ErrorKind::Other,
            &format!("continuation: cannot be invoked {what}"),
            &[],
        ))
    };
    if !s.on_base || h.base != s.base {
        return fail("outside a top-level evaluation");
    }
    if h.root_base != s.root_base as u64 || h.seg_base != s.seg_base as u64 {
        return fail("from this evaluation (captured under a different driver state)");
    }
    Ok(())
}

/// Resumes continuation object `k` (the resume value is already set).
fn resume(k: Value) -> ! {
    let buffer = k.field(K_BUFFER);
    let h = saved_header(buffer);
    let roots = k.field(K_ROOTS);
    restore_stack_limit();
    // Root stack and segment records as they were at the capture.
    let n = h.root_sp - h.root_base;
    gc::set_root_sp(h.root_base as usize);
    for i in 0..n as usize {
        gc::push_root(roots.field(i));
    }
    let records = saved_records(buffer);
    let (segs, current) = records.split_at(records.len() - 1);
    frames::restore_segments(h.seg_base as usize, segs, current[0]);
    let src = saved_stack_ptr(buffer);
    // The copy's activations go on top of those under the current form.
    // SAFETY: `src` holds the stack bytes `regs.sp..base` as captured.
    let act_head = unsafe {
        crate::backtrace::relink_saved_activations(
            h.act_head as usize,
            h.regs.sp as usize,
            h.base as usize,
            src,
            (*state()).act_base,
        )
    };
    crate::backtrace::set_activation_head(act_head);
    // The registers are read from the heap buffer, not from a copy on this
    // frame: the stack copy may overwrite this frame.
    let regs = header_ptr(buffer) as *const Regs;
    // The frames the copy replaces are gone; forget the watermark.
    gc::watermark::take_down(u64::MAX);
    // SAFETY: the header's registers and stack bytes come from the capture
    // that built this continuation on the same control stack (checked by
    // `check_resumable`); the buffer is in the heap (`regs` is its first
    // field), and nothing allocates between here and the jump.
    unsafe { valk_cont_resume(regs, src, h.stack_len, 1) }
}

/// Temporarily lowers the stack limit by half the margin so a handler of
/// `stack overflow` has room to run; undone by [`restore_stack_limit`].
pub fn borrow_stack_margin() -> bool {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &mut *state() };
    if s.saved_limit.is_some() {
        return false;
    }
    let normal = crate::interrupt::limit();
    if normal == 0 {
        return false;
    }
    s.saved_limit = Some(normal);
    crate::interrupt::set_limit(normal.saturating_sub(crate::host::STACK_MARGIN as u64 / 2));
    true
}

/// Undoes [`borrow_stack_margin`] (also on every resumption).
pub fn restore_stack_limit() {
    // SAFETY: see `BaseCell`.
    let s = unsafe { &mut *state() };
    if let Some(normal) = s.saved_limit.take() {
        crate::interrupt::set_limit(normal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Off the control stack (a test thread), capture is a clean error and
    /// an uncaught exception is returned, not thrown.
    #[test]
    fn off_the_control_stack() {
        let _l = crate::builtins::testing::lock();
        assert!(!on_base());
        assert!(capture_full().is_err());
        let msg = crate::error::format_error(crate::error::take_pending());
        assert!(msg.contains("no continuation can be captured"), "{msg}");
        assert_eq!(throw_uncaught(), Value::EXCEPTION);
    }

    /// `run_on_base` runs its procedure in place when there is no control
    /// stack, with its arguments.
    #[test]
    fn run_in_place_without_a_base() {
        extern "C" fn add(a: u64, b: u64) -> u64 {
            a + b
        }
        let _l = crate::builtins::testing::lock();
        assert_eq!(run_on_base(add, 40, 2), Value(42));
    }
}
