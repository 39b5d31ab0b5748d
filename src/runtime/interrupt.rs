//! Ctrl-C: interrupting running Valk code, whichever engine runs it.
//!
//! A signal handler may only touch plain memory, so an interrupt is a
//! request that running code notices at its next poll point:
//!
//! * [`request`] (async-signal-safe) sets [`valk_stack_limit`] to
//!   `u64::MAX`, then [`valk_interrupt`] to 1. Every compiled function that
//!   checks the stack then fails its prologue check and calls
//!   `valk_rt_stack_overflow`, which asks [`take`] first and raises
//!   `interrupted` instead of `stack overflow`.
//! * Loops compiled as branches have no prologue: their back edges test
//!   [`valk_interrupt`] and call `valk_rt_interrupt` when it is set.
//! * The interpreter polls [`valk_interrupt`] where it checks its stack.
//!
//! The real stack limit lives in `SAVED_LIMIT` (kept current by
//! `rt::set_stack_limit`); taking the interrupt restores it.
//!
//! [`valk_stack_limit`]: crate::rt::valk_stack_limit

use crate::error::{self, Raised, VResult};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Nonzero when an interrupt was requested and not yet taken (compiled
/// code reads it as a plain `i64`: same layout as `u64`).
#[no_mangle]
pub static valk_interrupt: AtomicU64 = AtomicU64::new(0);

/// The stack limit in force when no interrupt is pending.
static SAVED_LIMIT: AtomicU64 = AtomicU64::new(0);

/// The stack limit that makes every compiled stack check fail.
const TRIP: u64 = u64::MAX;

fn limit_ptr() -> *mut u64 {
    std::ptr::addr_of_mut!(crate::rt::valk_stack_limit)
}

fn read_limit() -> u64 {
    // SAFETY: a valid, aligned static; volatile because the signal handler
    // writes it asynchronously (a whole aligned word, so never torn).
    unsafe { std::ptr::read_volatile(limit_ptr()) }
}

fn write_limit(v: u64) {
    // SAFETY: as in `read_limit`.
    unsafe { std::ptr::write_volatile(limit_ptr(), v) }
}

/// Requests an interrupt. Async-signal-safe (plain stores only); returns
/// how many requests are now pending (1 for the first), so a handler can
/// give up on code that never polls.
pub fn request() -> u64 {
    // The limit first, so that whoever sees the flag also sees the trip.
    write_limit(TRIP);
    valk_interrupt.fetch_add(1, Ordering::SeqCst) + 1
}

/// True when an interrupt is pending.
#[inline]
pub fn pending() -> bool {
    valk_interrupt.load(Ordering::Relaxed) != 0
}

/// Takes a pending interrupt: clears it and restores the stack limit.
/// Returns whether there was one. Also recognises a request caught
/// between its two stores (the tripped limit without the flag yet).
pub fn take() -> bool {
    if valk_interrupt.swap(0, Ordering::SeqCst) != 0 {
        write_limit(SAVED_LIMIT.load(Ordering::SeqCst));
        return true;
    }
    if read_limit() != TRIP {
        return false;
    }
    // A handler on another thread has tripped the limit and is about to
    // set the flag: wait for it (a few instructions away).
    while valk_interrupt.swap(0, Ordering::SeqCst) == 0 {
        std::hint::spin_loop();
    }
    write_limit(SAVED_LIMIT.load(Ordering::SeqCst));
    true
}

/// Forgets any pending interrupt (a REPL does this before evaluating, so a
/// late Ctrl-C of the previous evaluation does not stop the next one).
pub fn clear() {
    take();
}

/// The real stack limit (the one in force when no interrupt is pending).
pub(crate) fn limit() -> u64 {
    SAVED_LIMIT.load(Ordering::SeqCst)
}

/// After a failed stack check: raises `interrupted` when the failure was
/// an interrupt's tripped limit (taking it), else returns `Ok`.
pub fn poll_tripped() -> VResult<()> {
    if take() {
        return Err(raise());
    }
    Ok(())
}

/// Records the real stack limit (`rt::set_stack_limit`): stored in the
/// saved copy, and in force unless an interrupt is pending.
pub(crate) fn set_limit(limit: u64) {
    // `TRIP` itself would read as a pending interrupt.
    let limit = limit.min(TRIP - 1);
    SAVED_LIMIT.store(limit, Ordering::SeqCst);
    write_limit(limit);
    if pending() {
        write_limit(TRIP);
    }
}

/// The signal that asked a running program to stop (0: none); set only by
/// the handlers of [`install_stop_handlers`].
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Raises what a taken interrupt means: the `interrupted` error (Ctrl-C
/// at the REPL), or, when `SIGINT`/`SIGTERM` asked a program to stop, the
/// request to exit with 128 + the signal (output is flushed on the way
/// out; docs/errors.md, "Output errors").
pub fn raise() -> Raised {
    match STOP_SIGNAL.load(Ordering::SeqCst) {
        0 => error::interrupted(),
        sig => error::request_exit("signal", 128 + sig),
    }
}

extern "C" fn on_stop_signal(sig: libc::c_int) {
    // Only async-signal-safe work: atomics, `signal`, `raise`.
    let first = STOP_SIGNAL
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if !first {
        // The program did not stop at the first signal: end it now.
        // SAFETY: restoring the default disposition and raising a signal
        // at ourselves are async-signal-safe and have no preconditions.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
        return;
    }
    request();
}

/// Makes `SIGINT` and `SIGTERM` stop a running program at its next poll
/// point with its output flushed, instead of killing it with output still
/// buffered (a second signal kills it at once). For programs (`valk FILE`,
/// `valk -e`, AOT executables), not the interactive REPL, whose Ctrl-C
/// interrupts one evaluation.
pub fn install_stop_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed `sigaction` is valid plain data, passed by
        // pointer to a local; `on_stop_signal` is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as usize;
            // Reads and writes go on; the request is seen at a poll point.
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// The poll point of code that runs long: raises `interrupted` when an
/// interrupt is pending.
#[inline]
pub fn poll() -> VResult<()> {
    if pending() {
        return poll_slow();
    }
    Ok(())
}

#[cold]
fn poll_slow() -> VResult<()> {
    if take() {
        return Err(raise());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::lock;

    #[test]
    fn request_trips_the_limit_and_take_restores_it() {
        let _l = lock();
        crate::rt::set_stack_limit(0x1000);
        assert!(!pending());
        assert_eq!(request(), 1);
        assert_eq!(request(), 2);
        assert!(pending());
        assert_eq!(read_limit(), TRIP);
        // The driver sets the limit while the interrupt is pending: it
        // takes effect when the interrupt is taken.
        crate::rt::set_stack_limit(0x2000);
        assert_eq!(read_limit(), TRIP);
        assert!(take());
        assert!(!pending());
        assert_eq!(read_limit(), 0x2000);
        assert!(!take());
        assert_eq!(poll(), Ok(()));
        crate::rt::set_stack_limit(0);
    }

    #[test]
    fn poll_raises_interrupted() {
        let _l = lock();
        request();
        assert_eq!(poll(), Err(Raised));
        assert_eq!(error::format_error(error::take_pending()), "interrupted");
        assert!(!pending());
        assert_eq!(read_limit(), 0);
        request();
        clear();
        assert!(!pending());
        assert_eq!(read_limit(), 0);
    }

    #[test]
    fn stack_overflow_entry_reports_a_pending_interrupt() {
        let _l = lock();
        request();
        let r = crate::rt::stack_overflow_impl();
        assert_eq!(r, crate::value::Value::EXCEPTION);
        assert_eq!(error::format_error(error::take_pending()), "interrupted");
        let r = crate::rt::stack_overflow_impl();
        assert_eq!(r, crate::value::Value::EXCEPTION);
        assert_eq!(error::format_error(error::take_pending()), "stack overflow");
        request();
        assert_eq!(crate::rt::interrupt_impl(), crate::value::Value::EXCEPTION);
        error::take_pending();
        assert_eq!(
            crate::rt::interrupt_impl(),
            crate::value::Value::UNSPECIFIED
        );
    }
}
