//! Ports (R7RS 6.13; docs/ports.md): the state behind every port object.
//!
//! A port is a small heap object (`ObjType::Port`, one raw word: its index
//! in the port table below); its state — buffers, the open file, position
//! counters — is Rust data in the table. The table holds the objects
//! *weakly*: after each collection a weak hook drops the entries whose
//! objects died, flushing and closing their files, so a program that makes
//! string ports in a loop or forgets to close a file does not leak. The
//! three standard ports are held strongly.
//!
//! Discipline: code inside [`with_port`] must not allocate on the Valk heap
//! (a collection runs the weak hook, which needs the table). Operations
//! here therefore return Rust data and a [`Fail`] describing a failure; the
//! builtins (`builtins/ports.rs`) allocate results and raise errors after
//! the table access ends.
//!
//! Input buffering: `buf[pos..]` holds the bytes not yet consumed. On a
//! textual port, `buf[pos..valid]` is known to be valid UTF-8 and ends on
//! a character boundary, so text procedures and `read` see it as a `&str`
//! without validating it again; bytes are validated once, when they arrive.

use crate::gc::{self, RootVisitor, WeakVisitor};
use crate::guarded::Guarded;
use crate::io;
use crate::value::{ObjType, Value};
use std::fs::File;
use std::io::{Read, Write};

/// Indices of the standard ports in the table (and of their parameters).
pub const STDIN: usize = 0;
pub const STDOUT: usize = 1;
pub const STDERR: usize = 2;

/// Bytes asked of a file or of standard input at a time, and the size at
/// which buffered file output is written out.
const CHUNK: usize = 1 << 16;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    Input,
    Output,
}

/// Where a port's bytes come from or go.
enum Device {
    /// A string or bytevector port: an input port's whole input is in the
    /// buffer from the start; an output port's output stays in it.
    Memory,
    File(File),
    Stdin,
    /// Writes go through `io` (the buffered standard output and its
    /// failure handling; docs/errors.md, "Output errors").
    Stdout,
    Stderr,
    /// A file port after `close-port` (only files are closed this way).
    Closed,
}

/// How a port's writes are carried out (see [`output_route`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    Stdout,
    Stderr,
    /// The port's own buffer (memory or file).
    Buffer,
}

/// Why a port operation failed; turned into a Valk error by the caller.
#[derive(Debug)]
pub enum Fail {
    /// The operating system refused (a file port's path is in the message).
    Io(std::io::Error),
    /// Input that is not UTF-8 on a textual port, at this position.
    BadUtf8 { line: u64, col: u64 },
    /// Malformed datum for `read`: the reader's message and where.
    Syntax {
        message: String,
        line: u64,
        col: u64,
    },
    /// An interrupt (Ctrl-C, `SIGTERM`) arrived while waiting for input.
    Interrupted,
}

pub struct PortState {
    pub direction: Direction,
    pub binary: bool,
    pub open: bool,
    /// `string`, `bytevector`, `stdin`..., or the file's path.
    pub name: String,
    device: Device,
    buf: Vec<u8>,
    pos: usize,
    /// Textual input: `buf[pos..valid]` is valid UTF-8.
    valid: usize,
    /// Textual input: the bytes at `valid` are not UTF-8 (not merely a
    /// character cut by the end of a read).
    bad: bool,
    /// Input: the device has given its last byte.
    at_end: bool,
    /// Textual input: the line (from 1) and column (in characters, from 0)
    /// of `buf[pos]`, for error messages.
    line: u64,
    col: u64,
    /// `#!fold-case` seen by `read` on this port.
    pub fold_case: bool,
}

impl PortState {
    fn new(direction: Direction, binary: bool, name: &str, device: Device) -> PortState {
        PortState {
            direction,
            binary,
            open: true,
            name: name.to_string(),
            device,
            buf: Vec::new(),
            pos: 0,
            valid: 0,
            bad: false,
            at_end: false,
            line: 1,
            col: 0,
            fold_case: false,
        }
    }

    /// An input port reading `bytes` (a string port when `!binary`).
    pub fn memory_input(bytes: Vec<u8>, binary: bool) -> PortState {
        let name = if binary { "bytevector" } else { "string" };
        let mut p = PortState::new(Direction::Input, binary, name, Device::Memory);
        p.buf = bytes;
        p.at_end = true;
        p.validate();
        p
    }

    /// An output port collecting its output in memory.
    pub fn memory_output(binary: bool) -> PortState {
        let name = if binary { "bytevector" } else { "string" };
        PortState::new(Direction::Output, binary, name, Device::Memory)
    }

    /// A port on an open file.
    pub fn file(direction: Direction, binary: bool, path: &str, file: File) -> PortState {
        PortState::new(direction, binary, path, Device::File(file))
    }

    fn standard(which: usize) -> PortState {
        match which {
            STDIN => PortState::new(Direction::Input, false, "stdin", Device::Stdin),
            STDOUT => PortState::new(Direction::Output, false, "stdout", Device::Stdout),
            _ => PortState::new(Direction::Output, false, "stderr", Device::Stderr),
        }
    }

    // ----- input ------------------------------------------------------

    /// Extends the valid-UTF-8 prefix over newly arrived bytes.
    fn validate(&mut self) {
        if self.binary || self.bad {
            return;
        }
        match std::str::from_utf8(&self.buf[self.valid..]) {
            Ok(_) => self.valid = self.buf.len(),
            Err(e) => {
                self.valid += e.valid_up_to();
                // A character cut by the end of the buffer may still be
                // completed by the next read, unless there is none.
                self.bad = e.error_len().is_some() || self.at_end;
            }
        }
    }

    /// Reads more input from the device: at least one byte unless the
    /// device is at its end (then `at_end` is set). Asks for `want` bytes
    /// (at least [`CHUNK`]), so a caller that re-reads its whole buffer
    /// after each fill (as `read` does for a long datum) doubles it.
    fn fill(&mut self, want: usize) -> Result<(), Fail> {
        if self.at_end {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.valid -= self.pos;
            self.pos = 0;
        }
        let old = self.buf.len();
        // At most 64 MiB a time: `want` may be a program's huge count.
        let want = want.clamp(CHUNK, 1 << 26);
        self.buf.resize(old + want, 0);
        let result = match &mut self.device {
            Device::File(f) => read_retrying(f, &mut self.buf[old..]),
            Device::Stdin => read_stdin(&mut self.buf[old..]),
            _ => Ok(0),
        };
        let n = match result {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(old);
                return Err(e);
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.at_end = true;
        }
        self.validate();
        Ok(())
    }

    /// More input may still arrive (for the text procedures: the valid
    /// text may still grow).
    fn more_text_possible(&self) -> bool {
        !self.at_end && !self.bad
    }

    fn bad_utf8(&self) -> Fail {
        Fail::BadUtf8 {
            line: self.line,
            col: self.col,
        }
    }

    /// The valid text not yet consumed.
    fn text(&self) -> &str {
        // SAFETY: `validate` checked `buf[..valid]` from the last position
        // it reached; consumption only moves `pos` forward over whole
        // characters (every text procedure consumes a prefix of `text()`
        // ending on a character boundary), and `fill` shifts `pos` and
        // `valid` together.
        unsafe { std::str::from_utf8_unchecked(&self.buf[self.pos..self.valid]) }
    }

    /// Consumes `n` bytes of text, keeping the line and column.
    fn advance_text(&mut self, n: usize) {
        let s = &self.buf[self.pos..self.pos + n];
        match s.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += s.iter().filter(|&&b| b == b'\n').count() as u64;
                self.col = char_count(&s[last + 1..]);
            }
            None => self.col += char_count(s),
        }
        self.pos += n;
    }

    /// Makes at least one character available, unless the input is at its
    /// end. `Ok(false)` at the end; a decoding error when the next bytes
    /// are not UTF-8.
    fn ensure_text(&mut self) -> Result<bool, Fail> {
        while self.pos == self.valid {
            if self.bad {
                return Err(self.bad_utf8());
            }
            if self.at_end {
                return Ok(false);
            }
            self.fill(CHUNK)?;
        }
        Ok(true)
    }

    /// `read-char` (`peek == false`) and `peek-char`.
    pub fn read_char(&mut self, peek: bool) -> Result<Option<char>, Fail> {
        if !self.ensure_text()? {
            return Ok(None);
        }
        let c = self.text().chars().next().unwrap_or('\0');
        if !peek {
            self.pos += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += 1;
            }
        }
        Ok(Some(c))
    }

    /// `read-line`: the characters up to a line end (`\n`, or `\r\n`),
    /// which is consumed but not returned; `None` at the end of input.
    pub fn read_line(&mut self) -> Result<Option<String>, Fail> {
        let mut scanned = 0;
        loop {
            let text = self.text().as_bytes();
            if let Some(i) = text[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                let line_end = if end > 0 && text[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                let line = self.text()[..line_end].to_string();
                self.pos += end + 1;
                self.line += 1;
                self.col = 0;
                return Ok(Some(line));
            }
            scanned = text.len();
            if self.more_text_possible() {
                self.fill(self.valid - self.pos)?;
                continue;
            }
            if self.bad {
                // Consume the good part so the error shows where the bad
                // bytes are.
                self.advance_text(scanned);
                return Err(self.bad_utf8());
            }
            if scanned == 0 {
                return Ok(None);
            }
            let line = self.text().to_string();
            self.advance_text(scanned);
            return Ok(Some(line));
        }
    }

    /// A line of raw bytes (its `\n` included), whatever their encoding:
    /// how the piped REPL reads its input from the same buffer as the
    /// program's `(read)` and `(read-line)` (docs/ports.md).
    pub fn read_raw_line(&mut self) -> Result<Option<Vec<u8>>, Fail> {
        let mut scanned = 0;
        loop {
            let rest = &self.buf[self.pos..];
            let end = match rest[scanned..].iter().position(|&b| b == b'\n') {
                Some(i) => scanned + i + 1,
                None if !self.at_end => {
                    scanned = rest.len();
                    self.fill(self.buf.len() - self.pos)?;
                    continue;
                }
                None if rest.is_empty() => return Ok(None),
                None => rest.len(),
            };
            let line = rest[..end].to_vec();
            self.pos += end;
            self.line += line.iter().filter(|&&b| b == b'\n').count() as u64;
            self.col = 0;
            if self.pos > self.valid {
                // Skipped past the validated text (or bad bytes): validate
                // afresh from here.
                self.valid = self.pos;
                self.bad = false;
                self.validate();
            }
            return Ok(Some(line));
        }
    }

    /// `read-string`: up to `k` characters (fewer only at the end of
    /// input); `None` when the input is at its end already.
    pub fn read_string(&mut self, k: usize) -> Result<Option<String>, Fail> {
        let mut out = String::new();
        let mut got = 0;
        while got < k {
            if !self.ensure_text()? {
                break;
            }
            let text = self.text();
            let (bytes, n) = match text.char_indices().nth(k - got) {
                Some((i, _)) => (i, k - got),
                None => (text.len(), text.chars().count()),
            };
            out.push_str(&text[..bytes]);
            got += n;
            self.advance_text(bytes);
        }
        Ok(if k > 0 && got == 0 { None } else { Some(out) })
    }

    /// `char-ready?`: a character (or the end of input) is available
    /// without waiting.
    pub fn char_ready(&mut self) -> bool {
        self.pos < self.valid || self.at_end || self.bad || self.device_ready()
    }

    /// `u8-ready?`.
    pub fn u8_ready(&mut self) -> bool {
        self.pos < self.buf.len() || self.at_end || self.device_ready()
    }

    fn device_ready(&self) -> bool {
        match self.device {
            Device::Stdin => stdin_ready(),
            _ => true,
        }
    }

    /// `read-u8` / `peek-u8`.
    pub fn read_u8(&mut self, peek: bool) -> Result<Option<u8>, Fail> {
        while self.pos == self.buf.len() {
            if self.at_end {
                return Ok(None);
            }
            self.fill(CHUNK)?;
        }
        let b = self.buf[self.pos];
        if !peek {
            self.pos += 1;
        }
        Ok(Some(b))
    }

    /// `read-bytevector!`: copies up to `into.len()` bytes, waiting only
    /// for the first; `None` at the end of input.
    pub fn read_into(&mut self, into: &mut [u8]) -> Result<Option<usize>, Fail> {
        if into.is_empty() {
            return Ok(Some(0));
        }
        while self.pos == self.buf.len() {
            if self.at_end {
                return Ok(None);
            }
            self.fill(CHUNK)?;
        }
        let n = into.len().min(self.buf.len() - self.pos);
        into[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(Some(n))
    }

    /// `read-bytevector`: up to `k` bytes (fewer only at the end of input);
    /// `None` when the input is at its end already.
    pub fn read_bytes(&mut self, k: usize) -> Result<Option<Vec<u8>>, Fail> {
        let mut out = Vec::with_capacity(k.min(CHUNK));
        while out.len() < k {
            if self.pos == self.buf.len() {
                if self.at_end {
                    break;
                }
                self.fill(k - out.len())?;
                continue;
            }
            let n = (k - out.len()).min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
        }
        Ok(if k > 0 && out.is_empty() {
            None
        } else {
            Some(out)
        })
    }

    /// Runs `step` on the unread text until it is satisfied: `step`
    /// returns `Some((result, consumed))` to finish, or `None` when it
    /// needs more text than there is (then the buffer grows, unless the
    /// input is at its end, when `at_end` is called instead). Used by
    /// `read`, whose reader re-reads the text from the start each time:
    /// growing by the buffered size keeps that linear overall.
    pub fn scan_text<T>(
        &mut self,
        mut step: impl FnMut(&str, bool, &mut bool) -> Step<T>,
    ) -> Result<T, Fail> {
        loop {
            let more = self.more_text_possible();
            let mut fold = self.fold_case;
            let r = step(self.text(), more, &mut fold);
            match r {
                Step::Done(value, consumed) => {
                    self.fold_case = fold;
                    self.advance_text(consumed);
                    return Ok(value);
                }
                Step::More => {
                    if more {
                        self.fill(self.valid - self.pos)?;
                        continue;
                    }
                    if self.bad {
                        return Err(self.bad_utf8());
                    }
                    unreachable!("scan_text: more input asked at its end");
                }
                Step::Error {
                    message,
                    start,
                    end,
                } => {
                    self.advance_text(start);
                    let (line, col) = (self.line, self.col);
                    self.advance_text(end - start);
                    return Err(Fail::Syntax { message, line, col });
                }
            }
        }
    }

    // ----- output -----------------------------------------------------

    /// Appends output to a memory or file port's buffer, writing a file's
    /// buffer out when it is large.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK && matches!(self.device, Device::File(_)) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes a file port's buffered output to the file.
    pub fn flush(&mut self) -> Result<(), Fail> {
        if let Device::File(f) = &mut self.device {
            if self.direction == Direction::Output && !self.buf.is_empty() {
                let r = f.write_all(&self.buf);
                self.buf.clear();
                r.map_err(Fail::Io)?;
            }
        }
        Ok(())
    }

    /// A file port, open or closed.
    pub fn is_file(&self) -> bool {
        matches!(self.device, Device::File(_) | Device::Closed)
    }

    /// A string or bytevector port.
    pub fn is_memory(&self) -> bool {
        matches!(self.device, Device::Memory)
    }

    /// What an output string or bytevector port has collected.
    pub fn contents(&self) -> &[u8] {
        &self.buf
    }

    /// `close-port`: flushes, closes the file, frees an input buffer. An
    /// output memory port keeps its contents.
    pub fn close(&mut self) -> Result<(), Fail> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        let flushed = self.flush();
        match self.device {
            Device::File(_) => {
                self.device = Device::Closed;
                self.buf = Vec::new();
            }
            Device::Memory if self.direction == Direction::Input => self.buf = Vec::new(),
            _ => {}
        }
        self.pos = 0;
        self.valid = 0;
        flushed
    }
}

/// What a [`PortState::scan_text`] step decided.
pub enum Step<T> {
    /// Finished with this result, consuming this many bytes.
    Done(T, usize),
    /// Needs more text.
    More,
    /// Malformed input between these byte offsets.
    Error {
        message: String,
        start: usize,
        end: usize,
    },
}

fn char_count(s: &[u8]) -> u64 {
    s.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64
}

fn read_retrying(f: &mut File, into: &mut [u8]) -> Result<usize, Fail> {
    loop {
        match f.read(into) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Fail::Io(e)),
        }
    }
}

/// Reads standard input, after flushing standard output so that a prompt
/// is seen before the program waits (docs/ports.md).
fn read_stdin(into: &mut [u8]) -> Result<usize, Fail> {
    io::flush_stdout();
    loop {
        // SAFETY: `into` is a writable buffer of `into.len()` bytes.
        let n = unsafe { libc::read(0, into.as_mut_ptr().cast(), into.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            if crate::interrupt::pending() {
                return Err(Fail::Interrupted);
            }
            continue;
        }
        return Err(Fail::Io(e));
    }
}

/// Standard input has bytes (or its end) to give without waiting.
fn stdin_ready() -> bool {
    let mut fds = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid `pollfd`, no timeout.
    let n = unsafe { libc::poll(&mut fds, 1, 0) };
    n > 0
}

// ----- the table ------------------------------------------------------------

struct Slot {
    /// The port object; weak for every port but the standard ones.
    object: Value,
    state: Option<PortState>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

// SAFETY: the runtime is single-threaded (docs/architecture.md): the table
// is used by the thread that runs Valk code only.
static TABLE: Guarded<Table> = unsafe {
    Guarded::new("the port table", || Table {
        slots: Vec::new(),
        free: Vec::new(),
    })
};

/// The standard ports are roots (they are never finalised).
fn visit_standard(v: &mut dyn RootVisitor) {
    TABLE.with(|t| {
        for slot in t.slots.iter_mut().take(3) {
            v.visit(&mut slot.object);
        }
    });
}

/// After a collection: updates the ports that survived and finalises the
/// others (buffered file output is written, the file closed).
fn sweep(w: &dyn WeakVisitor) {
    TABLE.with(|t| {
        for (i, slot) in t.slots.iter_mut().enumerate().skip(3) {
            if slot.state.is_none() {
                continue;
            }
            match w.survivor(slot.object) {
                Some(v) => slot.object = v,
                None => {
                    if let Some(mut state) = slot.state.take() {
                        // Nobody can see a failure here: like a C stream
                        // never closed, its error is lost (docs/ports.md).
                        let _ = state.close();
                    }
                    slot.object = Value::FALSE;
                    t.free.push(i as u32);
                }
            }
        }
    });
}

/// Creates the standard ports (once) and registers the table with the
/// collector.
pub fn install() {
    if TABLE.with(|t| !t.slots.is_empty()) {
        return;
    }
    gc::add_root_hook(visit_standard);
    gc::add_weak_hook(sweep);
    // Slots 0 to 2, in this order: `visit_standard` roots them.
    for which in [STDIN, STDOUT, STDERR] {
        make_in_table(PortState::standard(which));
    }
}

/// A new port object for `state`.
pub fn make(state: PortState) -> Value {
    install();
    make_in_table(state)
}

fn make_in_table(state: PortState) -> Value {
    let v = gc::alloc(ObjType::Port, 1);
    let id = TABLE.with(|t| match t.free.pop() {
        Some(id) => {
            t.slots[id as usize] = Slot {
                object: v,
                state: Some(state),
            };
            id as u64
        }
        None => {
            t.slots.push(Slot {
                object: v,
                state: Some(state),
            });
            t.slots.len() as u64 - 1
        }
    });
    v.set_raw(0, id);
    v
}

/// The standard port `which` ([`STDIN`], [`STDOUT`], [`STDERR`]).
pub fn standard(which: usize) -> Value {
    install();
    TABLE.with(|t| t.slots[which].object)
}

pub fn is_port(v: Value) -> bool {
    v.has_type(ObjType::Port)
}

/// Runs `f` on the state of port `v` (which must be a port object). `f`
/// must not allocate on the Valk heap (module docs).
pub fn with_port<R>(v: Value, f: impl FnOnce(&mut PortState) -> R) -> R {
    let id = v.raw(0) as usize;
    TABLE.with(
        |t| match t.slots.get_mut(id).and_then(|s| s.state.as_mut()) {
            Some(state) => f(state),
            None => unreachable!("port object without state"),
        },
    )
}

/// How writes to output port `v` are carried out.
pub fn output_route(v: Value) -> Route {
    with_port(v, |p| match p.device {
        Device::Stdout => Route::Stdout,
        Device::Stderr => Route::Stderr,
        _ => Route::Buffer,
    })
}

/// `#<input-port string>`, `#<output-port "/tmp/out.txt">`.
pub fn describe(v: Value) -> String {
    with_port(v, |p| {
        let dir = match p.direction {
            Direction::Input => "input",
            Direction::Output => "output",
        };
        let binary = if p.binary { "binary-" } else { "" };
        if p.is_file() {
            format!("#<{binary}{dir}-port {:?}>", p.name)
        } else {
            format!("#<{binary}{dir}-port {}>", p.name)
        }
    })
}

/// Writes the buffered output of every open file port (at exit: output
/// must not be lost). Returns the first failure as `(path, error)`.
pub fn flush_all() -> Option<(String, std::io::Error)> {
    let mut first = None;
    TABLE.with(|t| {
        for slot in t.slots.iter_mut() {
            if let Some(p) = slot.state.as_mut() {
                if p.open {
                    if let Err(Fail::Io(e)) = p.flush() {
                        first.get_or_insert((p.name.clone(), e));
                    }
                }
            }
        }
    });
    first
}

/// A line of standard input as raw bytes (see
/// [`PortState::read_raw_line`]); `None` at its end or on a read error.
pub fn stdin_raw_line() -> Option<Vec<u8>> {
    let stdin = standard(STDIN);
    with_port(stdin, |p| p.read_raw_line()).ok().flatten()
}

/// The text an output string port has collected.
pub fn output_string(v: Value) -> String {
    with_port(v, |p| String::from_utf8_lossy(p.contents()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_port(s: &str) -> PortState {
        PortState::memory_input(s.as_bytes().to_vec(), false)
    }

    fn file_port(name: &str, bytes: &[u8], binary: bool) -> PortState {
        let dir = std::env::temp_dir().join(format!("valk-port-{}-{name}", std::process::id()));
        std::fs::write(&dir, bytes).unwrap();
        let f = File::open(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        PortState::file(Direction::Input, binary, name, f)
    }

    fn lines(p: &mut PortState) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = p.read_line().unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn read_line_ends() {
        let mut p = text_port("a\r\nb\n\nlast");
        assert_eq!(lines(&mut p), ["a", "b", "", "last"]);
        assert!(p.read_line().unwrap().is_none());
        let mut p = text_port("x\n");
        assert_eq!(lines(&mut p), ["x"]);
        assert_eq!(lines(&mut text_port("")), Vec::<String>::new());
    }

    #[test]
    fn chars_and_positions() {
        let mut p = text_port("λa\nb");
        assert_eq!(p.read_char(true).unwrap(), Some('λ'));
        assert_eq!(p.read_char(false).unwrap(), Some('λ'));
        assert_eq!((p.line, p.col), (1, 1));
        assert_eq!(p.read_string(3).unwrap().as_deref(), Some("a\nb"));
        assert_eq!((p.line, p.col), (2, 1));
        assert_eq!(p.read_char(false).unwrap(), None);
        assert_eq!(p.read_string(2).unwrap(), None);
        assert_eq!(text_port("").read_string(0).unwrap().as_deref(), Some(""));
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_position() {
        let mut p = PortState::memory_input(b"ok\nab\xffc".to_vec(), false);
        assert_eq!(p.read_line().unwrap().as_deref(), Some("ok"));
        match p.read_line() {
            Err(Fail::BadUtf8 { line: 2, col: 2 }) => {}
            other => panic!("{other:?}"),
        }
        // A character cut off by the end of the input is invalid too.
        let mut p = PortState::memory_input(b"a\xce".to_vec(), false);
        assert_eq!(p.read_char(false).unwrap(), Some('a'));
        assert!(matches!(p.read_char(false), Err(Fail::BadUtf8 { .. })));
    }

    #[test]
    fn file_input_across_buffer_refills() {
        // A two-byte character straddles the first 64 KiB read, and a
        // line is longer than one read.
        let mut bytes = vec![b'a'; CHUNK - 1];
        bytes.extend_from_slice("λ\n".as_bytes());
        bytes.extend(std::iter::repeat_n(b'b', 3 * CHUNK));
        bytes.extend_from_slice(b"\nend");
        let mut p = file_port("refill", &bytes, false);
        let got = lines(&mut p);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].chars().count(), CHUNK);
        assert!(got[0].ends_with('λ'));
        assert_eq!(got[1].len(), 3 * CHUNK);
        assert_eq!(got[2], "end");
        let mut p = file_port("chars", &bytes, false);
        let mut n = 0;
        while p.read_char(false).unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, CHUNK + 1 + 3 * CHUNK + 4);
    }

    #[test]
    fn binary_input() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(3 * CHUNK).collect();
        let mut p = file_port("binary", &bytes, true);
        assert_eq!(p.read_u8(true).unwrap(), Some(0));
        assert_eq!(p.read_u8(false).unwrap(), Some(0));
        let mut into = [0u8; 3];
        assert_eq!(p.read_into(&mut into).unwrap(), Some(3));
        assert_eq!(into, [1, 2, 3]);
        let rest = p.read_bytes(usize::MAX / 2).unwrap().unwrap();
        assert_eq!(rest.len(), 3 * CHUNK - 4);
        assert_eq!(rest[0], 4);
        assert_eq!(p.read_bytes(1).unwrap(), None);
        assert_eq!(p.read_into(&mut into).unwrap(), None);
        assert_eq!(p.read_into(&mut []).unwrap(), Some(0));
    }

    #[test]
    fn raw_lines_then_text() {
        let mut p = PortState::memory_input(b"\xff\xfe\n(a)\nb".to_vec(), false);
        assert_eq!(p.read_raw_line().unwrap().unwrap(), b"\xff\xfe\n");
        assert_eq!(p.read_line().unwrap().as_deref(), Some("(a)"));
        assert_eq!(p.read_raw_line().unwrap().unwrap(), b"b");
        assert_eq!(p.read_raw_line().unwrap(), None);
    }

    #[test]
    fn file_output_is_written_on_flush_and_close() {
        let path = std::env::temp_dir().join(format!("valk-port-out-{}", std::process::id()));
        let f = File::create(&path).unwrap();
        let mut p = PortState::file(Direction::Output, false, "out", f);
        p.write_bytes(b"hello ").unwrap();
        p.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello ");
        p.write_bytes(&vec![b'x'; 2 * CHUNK]).unwrap();
        p.close().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 6 + 2 * CHUNK);
        assert!(!p.open);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn scan_text_grows_until_the_step_is_satisfied() {
        let mut bytes = b"(".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 5 * CHUNK));
        bytes.extend_from_slice(b") tail");
        let mut p = file_port("scan", &bytes, false);
        let mut calls = 0;
        let n = p
            .scan_text(|text, more, _| {
                calls += 1;
                match text.find(')') {
                    Some(i) => Step::Done(i + 1, i + 1),
                    None if more => Step::More,
                    None => Step::Error {
                        message: "no )".into(),
                        start: 0,
                        end: text.len(),
                    },
                }
            })
            .unwrap();
        assert_eq!(n, 5 * CHUNK + 2);
        // The buffer doubles: a handful of re-scans, not one per 64 KiB.
        assert!(calls <= 5, "{calls} scans");
        assert_eq!(p.read_string(10).unwrap().as_deref(), Some(" tail"));
    }

    #[test]
    fn dead_ports_are_finalised() {
        let _g = crate::builtins::testing::lock();
        let path = std::env::temp_dir().join(format!("valk-port-fin-{}", std::process::id()));
        let f = File::create(&path).unwrap();
        let v = make(PortState::file(Direction::Output, false, "fin", f));
        with_port(v, |p| p.write_bytes(b"kept")).unwrap();
        let live = || TABLE.with(|t| t.slots.iter().filter(|s| s.state.is_some()).count());
        let before = live();
        gc::collect();
        // Nothing refers to the port any more: the collection closed it,
        // writing its buffered output first.
        assert_eq!(live(), before - 1);
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
        std::fs::remove_file(&path).unwrap();
        // Standard ports survive.
        assert!(is_port(standard(STDOUT)));
        assert_eq!(describe(standard(STDERR)), "#<output-port stderr>");
    }
}
