//! Start-up and shut-down of an evaluation, in one place for every engine:
//! the interpreter and the JIT (`valk`), and AOT executables
//! ([`crate::aot::valk_aot_main`]).
//!
//! * Valk code runs on a thread of its own with a large, lazily committed
//!   stack ([`run_on_evaluation_thread`]), so that deep non-tail recursion
//!   works; the stack limit that compiled code checks is armed there.
//! * An uncaught error is printed by [`report_uncaught`], so every engine
//!   prints the same text (docs/errors.md).
//! * `(exit)` does not end the process from inside the library: it raises
//!   an exit request ([`crate::error::request_exit`]) that unwinds to the
//!   host like an error, and the host returns the status to the binary,
//!   which calls [`finish`] and ends the process (status
//!   [`crate::error::ERROR_EXIT_STATUS`] after an uncaught error). Only
//!   heap exhaustion and internal failures, which cannot be raised as
//!   values, end the process from inside the runtime
//!   ([`crate::error::fatal`]).

use crate::error;
use crate::gc;
use crate::io;
use crate::rt;
use crate::value::Value;

/// Stack reserved for the thread that runs Valk code (1 GiB): deep non-tail
/// recursion (a million frames) must work. Lazily committed by the OS.
pub const STACK_SIZE: usize = 1 << 30;
/// Head room kept below the stack limit for runtime code between checks.
pub const STACK_MARGIN: usize = 16 << 20;

/// Why the evaluation thread gave no result.
#[derive(Debug)]
pub enum HostError {
    /// The thread could not be created.
    Spawn(std::io::Error),
    /// The thread panicked (an internal error).
    Panicked,
}

impl HostError {
    /// Prints the error as every engine does (after flushing program
    /// output); the caller then exits with
    /// [`crate::error::ERROR_EXIT_STATUS`].
    pub fn report(&self) {
        match self {
            HostError::Spawn(e) => {
                crate::eprintln_quiet!("error: cannot start the evaluation thread: {e}")
            }
            HostError::Panicked => {
                crate::eprintln_quiet!("error: internal error (the evaluation thread panicked)")
            }
        }
    }
}

/// Runs `f` on a new thread named `name` with a `stack_size`-byte stack
/// (lazily committed by the OS) and waits for its result. `f` may borrow
/// from the caller. The one place Valk starts a big-stack thread: for
/// evaluation ([`run_on_evaluation_thread`]) and for compiler passes that
/// recurse on deep trees (the lowering).
pub fn run_with_stack<T: Send>(
    name: &str,
    stack_size: usize,
    f: impl FnOnce() -> T + Send,
) -> Result<T, HostError> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name(name.into())
            .stack_size(stack_size)
            .spawn_scoped(s, f)
            .map_err(HostError::Spawn)?;
        handle.join().map_err(|_| HostError::Panicked)
    })
}

/// Runs `f` on a thread with a [`STACK_SIZE`] stack, with the stack limit of
/// compiled code armed, and returns its result. `f` receives that limit
/// (the lowest address evaluation may reach) for engines that check the
/// stack themselves (the interpreter).
pub fn run_on_evaluation_thread<T: Send>(
    f: impl FnOnce(usize) -> T + Send,
) -> Result<T, HostError> {
    run_with_stack("valk", STACK_SIZE, || {
        let marker = 0u8;
        let top = &marker as *const u8 as usize;
        let limit = top.saturating_sub(STACK_SIZE - STACK_MARGIN);
        rt::set_stack_limit(limit);
        crate::cont::set_control_base(top);
        f(limit)
    })
}

/// How an evaluation that raised ends: an `(exit)` request or an error.
pub enum Uncaught {
    /// `(exit status)` or `(emergency-exit status)` unwound to the host.
    Exit(i32),
    /// An uncaught error; it has been printed.
    Error,
}

/// Takes the pending exception of a failed evaluation: an exit request
/// gives its status, an error is printed (see [`report_uncaught`]; the
/// engine's `located` renders an error with its source location, if it
/// has one).
pub fn take_uncaught(located: impl FnOnce(Value) -> Option<String>) -> Uncaught {
    let exc = error::take_pending();
    match error::exit_request_status(exc) {
        Some(status) => Uncaught::Exit(status),
        None => {
            report_uncaught(exc, located(exc));
            Uncaught::Error
        }
    }
}

/// Prints an uncaught error as `error: <message>: <irritants>` after
/// flushing program output. An unbound variable is printed as the
/// location diagnostic the engine rendered: `located` (the interpreter's)
/// or the one compiled code recorded when it raised.
pub fn report_uncaught(exc: Value, located: Option<String>) {
    let unbound = error::is_unbound_error(exc);
    let compiled = rt::take_unbound_diagnostic().filter(|_| unbound);
    match (located.filter(|_| unbound), compiled) {
        (Some(text), _) => io::write_stderr(&text),
        (None, Some(text)) => io::write_stderr(text),
        (None, None) => crate::eprintln_quiet!("error: {}", error::format_error(exc)),
    }
    let bt = crate::backtrace::render(exc);
    if let Some(text) = bt.as_ref().filter(|_| crate::backtrace::print_uncaught()) {
        io::write_stderr(text);
    }
    crate::backtrace::set_last_uncaught(bt);
}

/// What every engine does before the process ends: flush program output
/// and print the collector's statistics when `VALK_GC_STATS` asks.
/// Returns the status to exit with: `status`, unless standard output
/// failed without the program being told — then 141 for a closed pipe
/// (quietly) or, after printing why, 1 (docs/errors.md, "Output errors").
pub fn finish(status: i32) -> i32 {
    // Files the program left open are written out: output must not be
    // lost (docs/ports.md).
    let file_failure = crate::port::flush_all();
    let failure = io::take_unreported_failure();
    let status = match file_failure {
        Some((path, e)) => {
            crate::eprintln_quiet!("error: cannot write to {path:?}: {}", error::os_reason(&e));
            if status == 0 {
                error::ERROR_EXIT_STATUS
            } else {
                status
            }
        }
        None => status,
    };
    gc::finish();
    match failure {
        None => status,
        Some(f) if f.broken_pipe => {
            if status == 0 {
                io::BROKEN_PIPE_STATUS
            } else {
                status
            }
        }
        Some(f) => {
            crate::eprintln_quiet!("error: {}", f.message());
            if status == 0 {
                error::ERROR_EXIT_STATUS
            } else {
                status
            }
        }
    }
}

// ----- VALK_* environment settings -----------------------------------------

/// The value of setting `name` parsed by `parse`; `None` when the variable
/// is unset or empty. A value that does not parse ends the program with
/// `error: NAME="value" is not <expected>`: a misspelt setting must not be
/// silently ignored (docs/gc.md lists the settings).
pub fn env_setting<T>(name: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let value = std::env::var_os(name)?;
    let text = value.to_string_lossy();
    if text.is_empty() {
        return None;
    }
    match value.to_str().and_then(|s| parse(s.trim())) {
        Some(v) => Some(v),
        None => error::fatal(&format!("{name}={text:?} is not {expected}")),
    }
}

/// A switch: `0` is off, `1` is on, unset or empty is `None`; anything
/// else is an error ([`env_setting`]).
pub fn env_switch(name: &str) -> Option<bool> {
    env_setting(name, "0 or 1", |s| match s {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    })
}

/// A switch that is off unless set to `1` ([`env_switch`]).
pub fn env_flag(name: &str) -> bool {
    env_switch(name).unwrap_or(false)
}

/// A size in bytes: `1048576`, `64K`, `512M`, `4G` (also `KB`/`MB`/`GB`
/// and `KiB`/`MiB`/`GiB`, all powers of 1024).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let mult: usize = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}
