//! Program output. Standard output is buffered by the runtime and flushed
//! at exit, on errors, and before reading input, so that output is never
//! lost and ordering with stderr is preserved.

use std::io::Write;
use std::sync::Mutex;

static STDOUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

const FLUSH_AT: usize = 1 << 16;

fn buffer() -> std::sync::MutexGuard<'static, Vec<u8>> {
    STDOUT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Appends text to standard output.
pub fn write_stdout(s: &str) {
    let mut b = buffer();
    b.extend_from_slice(s.as_bytes());
    if b.len() >= FLUSH_AT {
        let _ = std::io::stdout().write_all(&b);
        b.clear();
    }
}

/// Writes buffered output to the real standard output.
pub fn flush_stdout() {
    let mut b = buffer();
    let mut out = std::io::stdout();
    let _ = out.write_all(&b);
    let _ = out.flush();
    b.clear();
}
