//! A runtime table in a static, reached only through a scoped accessor
//! with a re-entrancy guard: the symbol table, the globals, the port
//! objects, the interpreter's constants (docs/architecture.md, "Unsafe
//! code"). The collector's own state follows the same rules with its own
//! cell (docs/gc.md, "Access discipline").
//!
//! A function returning `&'static mut` to such a table lets the reference
//! be held across an allocation, whose collection runs the table's root
//! hook and so creates a second, aliasing `&mut`. [`Guarded::with`] hands
//! the reference to a closure only, and a nested access (the hook running
//! while the closure holds the table) panics instead.

use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;

/// A lazily initialised table behind [`Guarded::with`].
pub struct Guarded<T> {
    /// What the table is, for the internal-error message.
    what: &'static str,
    /// Builds the table on first access (may register a root hook; must
    /// not touch this table).
    init: fn() -> T,
    /// [`UNINIT`], [`READY`] or [`BUSY`] (being built, or a `with` closure
    /// is running).
    state: Cell<u8>,
    /// Initialised exactly when `state` is [`READY`] or a `with` closure is
    /// running.
    value: UnsafeCell<MaybeUninit<T>>,
}

const UNINIT: u8 = 0;
const READY: u8 = 1;
const BUSY: u8 = 2;

// SAFETY: `Guarded::new` is unsafe and requires every static made with it
// to be used by a single thread (the one that runs Valk code, or one test
// thread at a time under the heap lock, whose mutex orders the accesses),
// so the `Cell` and `UnsafeCell` are never accessed concurrently.
unsafe impl<T> Sync for Guarded<T> {}

impl<T> Guarded<T> {
    /// A table built by `init` on first access; `what` names it in the
    /// internal error a nested access raises ("the symbol table").
    ///
    /// # Safety
    /// The value (normally a static) must only be accessed by the thread
    /// that runs Valk code, or under the test harness's heap lock
    /// (`builtins::testing::lock`): its `Sync` implementation relies on it.
    pub const unsafe fn new(what: &'static str, init: fn() -> T) -> Self {
        Guarded {
            what,
            init,
            state: Cell::new(UNINIT),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Runs `f` with exclusive access to the table. `f` must not allocate on
    /// the Valk heap (a collection runs root hooks, which visit the tables)
    /// nor otherwise reach this table again: a nested access panics with an
    /// internal error instead of creating a second `&mut T`. Callers that
    /// need an allocation do it between two short accesses.
    ///
    /// Always inlined: the interpreter reads globals and constants through
    /// it at every step, and the first-use and error paths are out of line.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        match self.state.get() {
            READY => {}
            UNINIT => self.initialise(),
            _ => self.nested(),
        }
        self.state.set(BUSY);
        // Resets the state when `f` returns or unwinds (test builds unwind).
        struct Release<'a>(&'a Cell<u8>);
        impl Drop for Release<'_> {
            #[inline]
            fn drop(&mut self) {
                self.0.set(READY);
            }
        }
        let _release = Release(&self.state);
        // SAFETY: the state was READY (or `initialise` made it so), so the
        // value is initialised, and no other reference into it exists: every
        // `&mut T` is created here and lives only while `f` runs, with the
        // state BUSY, and only one thread uses the table (see `new`).
        let t = unsafe { (*self.value.get()).assume_init_mut() };
        f(t)
    }

    #[cold]
    #[inline(never)]
    fn initialise(&self) {
        // BUSY while `init` runs, so that an `init` reaching this table
        // fails as a nested access instead of recursing.
        self.state.set(BUSY);
        // Back to UNINIT if `init` unwinds.
        struct Reset<'a>(&'a Cell<u8>);
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                self.0.set(UNINIT);
            }
        }
        let reset = Reset(&self.state);
        let v = (self.init)();
        std::mem::forget(reset);
        // SAFETY: the state was UNINIT, so nothing has been stored and no
        // reference into the value exists (single thread, see `new`).
        unsafe { (*self.value.get()).write(v) };
        self.state.set(READY);
    }

    #[cold]
    #[inline(never)]
    fn nested(&self) -> ! {
        panic!(
            "internal error: nested access to {} (code that can allocate or \
             re-enter the table ran inside its scoped accessor)",
            self.what
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SAFETY: used by the test below only (one thread).
    static COUNTER: Guarded<Vec<u32>> = unsafe { Guarded::new("the test table", Vec::new) };

    #[test]
    fn scoped_access_and_nested_access_panics() {
        assert_eq!(COUNTER.state.get(), UNINIT);
        assert_eq!(COUNTER.with(|t| t.len()), 0, "built on first access");
        COUNTER.with(|t| t.push(1));
        assert_eq!(COUNTER.with(|t| t.clone()), vec![1]);
        let r = std::panic::catch_unwind(|| COUNTER.with(|_| COUNTER.with(|t| t.len())));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(
            msg.starts_with("internal error: nested access to the test table"),
            "{msg}"
        );
        assert_eq!(COUNTER.state.get(), READY, "released while unwinding");
        assert_eq!(COUNTER.with(|t| t.len()), 1);
    }

    // SAFETY: used by the test below only (one thread).
    static SELF_INIT: Guarded<u32> =
        unsafe { Guarded::new("the recursive table", || SELF_INIT.with(|v| *v)) };

    #[test]
    fn init_reaching_its_own_table_panics() {
        let r = std::panic::catch_unwind(|| SELF_INIT.with(|v| *v));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(
            msg.contains("nested access to the recursive table"),
            "{msg}"
        );
        assert_eq!(SELF_INIT.state.get(), UNINIT, "reset while unwinding");
    }
}
