//! Program output. Standard output is buffered by the runtime and flushed
//! at exit, on errors, and before reading input, so that output is never
//! lost and ordering with stderr is preserved.
//!
//! Output that cannot be written is never ignored (docs/errors.md,
//! "Output errors"): the first failure is remembered, later output is
//! dropped, and the program learns of it at its next write (which raises)
//! or at its end ([`crate::host::finish`] turns it into the exit status).
//! A closed pipe (`EPIPE`) ends the program quietly with status 141, as a
//! process killed by `SIGPIPE` would; any other failure is an error with
//! the operating system's reason. Writes to standard error never fail
//! loudly: a message that cannot be shown must not become a crash.

use crate::error::{self, Raised, VResult};
use std::io::Write;
use std::sync::Mutex;

static STDOUT: Mutex<Output> = Mutex::new(Output {
    buffer: Vec::new(),
    failure: None,
});

const FLUSH_AT: usize = 1 << 16;

/// Set once a foreign call has run: C's stdio may then hold output of its
/// own, which must go out before Valk's (docs/ffi.md, "Output").
/// Non-zero while Valk's standard output buffer holds text: compiled
/// foreign calls test it in line and flush only then (docs/ffi.md,
/// "Typed foreign procedures").
#[no_mangle]
pub static valk_stdout_pending: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

static FOREIGN_OUTPUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes that foreign code may write to standard output through C's stdio.
pub fn note_foreign_output() {
    FOREIGN_OUTPUT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The exit status of a program whose output pipe was closed: what a shell
/// reports for a process killed by `SIGPIPE` (128 + 13).
pub const BROKEN_PIPE_STATUS: i32 = 141;

struct Output {
    buffer: Vec<u8>,
    /// The first write failure, if any.
    failure: Option<WriteFailure>,
}

/// Why standard output could not be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteFailure {
    /// The reader went away (`EPIPE`).
    pub broken_pipe: bool,
    /// The operating system's reason.
    pub reason: String,
    /// The program has been told (an error or exit request was raised).
    reported: bool,
}

impl WriteFailure {
    /// The text of the error: `cannot write to standard output: <reason>`.
    pub fn message(&self) -> String {
        format!("cannot write to standard output: {}", self.reason)
    }
}

fn output() -> std::sync::MutexGuard<'static, Output> {
    STDOUT.lock().unwrap_or_else(|e| e.into_inner())
}

impl Output {
    /// Writes the buffer out; on failure remembers why and drops it.
    fn flush(&mut self) {
        if FOREIGN_OUTPUT.load(std::sync::atomic::Ordering::Relaxed) {
            // SAFETY: fflush(NULL) flushes every C output stream.
            unsafe { libc::fflush(std::ptr::null_mut()) };
        }
        valk_stdout_pending.store(0, std::sync::atomic::Ordering::Relaxed);
        if self.buffer.is_empty() {
            return;
        }
        if self.failure.is_none() {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&self.buffer).and_then(|()| out.flush()) {
                self.failure = Some(WriteFailure {
                    broken_pipe: e.kind() == std::io::ErrorKind::BrokenPipe,
                    reason: error::os_reason(&e),
                    reported: false,
                });
            }
        }
        self.buffer.clear();
    }

    /// Raises what the failure means for the program, once marked told.
    fn raise_failure(&mut self) -> Option<Raised> {
        let f = self.failure.as_mut()?;
        f.reported = true;
        let f = f.clone();
        Some(if f.broken_pipe {
            error::request_exit("broken pipe", BROKEN_PIPE_STATUS)
        } else {
            error::error(error::ErrorKind::Other, &f.message(), &[])
        })
    }
}

/// Appends text to standard output. Raises when standard output has failed
/// (now or earlier): an error, or the quiet exit of a closed pipe.
pub fn write_stdout(s: &str) -> VResult<()> {
    let mut out = output();
    if out.failure.is_none() {
        out.buffer.extend_from_slice(s.as_bytes());
        valk_stdout_pending.store(1, std::sync::atomic::Ordering::Relaxed);
        if out.buffer.len() >= FLUSH_AT {
            out.flush();
        }
    }
    match out.raise_failure() {
        Some(raised) => Err(raised),
        None => Ok(()),
    }
}

/// Before a foreign call: notes that C may write through its stdio from
/// now on, and writes Valk's buffered output out if there is any (C's
/// output then follows it; Valk's later output is written after C's,
/// since every flush flushes C's stdio first).
pub fn flush_before_foreign_call() {
    note_foreign_output();
    let mut out = output();
    if !out.buffer.is_empty() {
        out.flush();
    }
}

/// Writes buffered output to the real standard output. A failure is
/// remembered for the next write or the end of the program.
pub fn flush_stdout() {
    output().flush();
}

/// Flushes standard output and returns a failure the program has not been
/// told of, if any (marking it told): what the host reports at the end.
pub fn take_unreported_failure() -> Option<WriteFailure> {
    let mut out = output();
    out.flush();
    let f = out.failure.as_mut()?;
    if f.reported {
        return None;
    }
    f.reported = true;
    Some(f.clone())
}

/// Writes to standard error after flushing standard output (so the two
/// stay in order), ignoring failures.
pub fn write_stderr(s: &str) {
    flush_stdout();
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// `eprint!` that cannot panic: see [`write_stderr`].
#[macro_export]
macro_rules! eprint_quiet {
    ($($arg:tt)*) => {
        $crate::io::write_stderr(&format!($($arg)*))
    };
}

/// `eprintln!` that cannot panic: see [`write_stderr`].
#[macro_export]
macro_rules! eprintln_quiet {
    () => {
        $crate::io::write_stderr("\n")
    };
    ($($arg:tt)*) => {{
        let mut text = format!($($arg)*);
        text.push('\n');
        $crate::io::write_stderr(&text)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reasons_lose_the_error_number() {
        let e = std::io::Error::from_raw_os_error(28);
        assert_eq!(error::os_reason(&e), "No space left on device");
        let e = std::io::Error::other("plain");
        assert_eq!(error::os_reason(&e), "plain");
    }
}
