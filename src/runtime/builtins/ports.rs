//! Ports and input/output (R7RS 6.13, `(scheme file)`, `(scheme read)`,
//! `(scheme write)`; docs/ports.md): the procedures over the port states of
//! `crate::port`.
//!
//! The current ports are the parameters `current-input-port`,
//! `current-output-port` and `current-error-port`, defined by the prelude
//! with `make-parameter`; it registers them here
//! (`%register-standard-port-parameter!`) so that `display` with no port
//! argument finds the current binding without calling Valk code: the
//! innermost `parameterize` binding in the dynamic environment, else the
//! parameter's global cell.

use super::{arg, char_arg, fixed, index_arg, opt, opt_arg, range_args, string_arg, Builtin};
use crate::error::{self, ErrorKind, Raised, VResult};
use crate::gc::{self, RootVisitor};
use crate::guarded::Guarded;
use crate::io;
use crate::object;
use crate::port::{self, Direction, Fail, PortState, Route, Step};
use crate::printer::{self, PrintMode};
use crate::syntax::reader::{self, ReadOne, ReadOptions};
use crate::syntax::to_value::datum_to_value;
use crate::value::{ObjType, Value};

// ----- current ports -------------------------------------------------------

/// Per standard port: the parameter procedure and its global cell (a
/// one-element list), as the prelude's `make-parameter` builds them.
// SAFETY: the runtime is single-threaded (docs/architecture.md).
static CURRENT: Guarded<[Value; 6]> =
    unsafe { Guarded::new("the current-port parameters", || [Value::UNDEFINED; 6]) };

fn visit_current(v: &mut dyn RootVisitor) {
    CURRENT.with(|c| {
        for slot in c.iter_mut() {
            v.visit(slot);
        }
    });
}

/// Creates the standard ports (once).
pub(super) fn install() {
    gc::add_root_hook(visit_current);
    port::install();
}

/// The current input ([`port::STDIN`]), output or error port.
pub fn current_port(which: usize) -> Value {
    let (param, global) = CURRENT.with(|c| (c[2 * which], c[2 * which + 1]));
    if !global.is_pair() {
        return port::standard(which);
    }
    let mut l = crate::dynamic::params();
    while l.is_pair() {
        let binding = l.car();
        if binding.is_pair() && binding.car() == param && binding.cdr().is_pair() {
            return binding.cdr().car();
        }
        l = l.cdr();
    }
    global.car()
}

/// `(%register-standard-port-parameter! k parameter cell)`.
fn register_standard_port_parameter(args: &[Value]) -> VResult {
    let which = index_arg("%register-standard-port-parameter!", args[0])?;
    if which > port::STDERR || !args[2].is_pair() {
        return Err(super::other_error(
            "%register-standard-port-parameter!: bad arguments",
            &[args[0], args[2]],
        ));
    }
    CURRENT.with(|c| {
        c[2 * which] = args[1];
        c[2 * which + 1] = args[2];
    });
    Ok(Value::UNSPECIFIED)
}

/// `(%standard-port k)`: stdin, stdout or stderr.
fn standard_port(args: &[Value]) -> VResult {
    let which = index_arg("%standard-port", args[0])?;
    if which > port::STDERR {
        return Err(error::out_of_range("%standard-port", args[0]));
    }
    Ok(port::standard(which))
}

// ----- arguments and errors ---------------------------------------------------

/// The error a failed port operation raises.
fn fail(who: &str, p: Value, f: Fail) -> Raised {
    match f {
        Fail::Io(e) => {
            let name = port::with_port(p, |s| s.name.clone());
            error::file_error(who, &name, &e)
        }
        Fail::BadUtf8 { line, col } => error::error(
            ErrorKind::Read,
            &format!(
                "{who}: invalid UTF-8 in the input at line {line}, column {}",
                col + 1
            ),
            &[p],
        ),
        Fail::Syntax { message, line, col } => error::error(
            ErrorKind::Read,
            &format!("{who}: {message} at line {line}, column {}", col + 1),
            &[p],
        ),
        Fail::Interrupted => match crate::interrupt::poll() {
            Err(raised) => raised,
            Ok(()) => crate::interrupt::raise(),
        },
    }
}

fn direction_text(d: Direction) -> &'static str {
    match d {
        Direction::Input => "an input port",
        Direction::Output => "an output port",
    }
}

/// The port at `i` (default: current port `which`), checked to go in
/// direction `dir`, to be textual or binary when `binary` says, and open.
fn port_arg(
    who: &str,
    args: &[Value],
    i: usize,
    dir: Direction,
    binary: Option<bool>,
) -> VResult<Value> {
    let p = match opt_arg(args, i) {
        Some(v) => v,
        None => current_port(match dir {
            Direction::Input => port::STDIN,
            Direction::Output => port::STDOUT,
        }),
    };
    if !port::is_port(p) {
        return Err(error::wrong_type(who, direction_text(dir), p));
    }
    let (d, b, open) = port::with_port(p, |s| (s.direction, s.binary, s.open));
    if d != dir {
        return Err(error::wrong_type(who, direction_text(dir), p));
    }
    if let Some(want) = binary {
        if want != b {
            let what = match (want, dir) {
                (true, Direction::Input) => "a binary input port",
                (true, Direction::Output) => "a binary output port",
                (false, Direction::Input) => "a textual input port",
                (false, Direction::Output) => "a textual output port",
            };
            return Err(error::wrong_type(who, what, p));
        }
    }
    if !open {
        return Err(error::error(
            ErrorKind::Other,
            &format!("{who}: the port is closed"),
            &[p],
        ));
    }
    Ok(p)
}

fn text_in(who: &str, args: &[Value], i: usize) -> VResult<Value> {
    port_arg(who, args, i, Direction::Input, Some(false))
}
fn bytes_in(who: &str, args: &[Value], i: usize) -> VResult<Value> {
    port_arg(who, args, i, Direction::Input, Some(true))
}
fn text_out(who: &str, args: &[Value], i: usize) -> VResult<Value> {
    port_arg(who, args, i, Direction::Output, Some(false))
}
fn bytes_out(who: &str, args: &[Value], i: usize) -> VResult<Value> {
    port_arg(who, args, i, Direction::Output, Some(true))
}

/// Writes `text` to output port `p`.
fn emit(who: &str, p: Value, text: &str) -> VResult<()> {
    match port::output_route(p) {
        Route::Stdout => io::write_stdout(text),
        // Flushes standard output first: the two stay in order.
        Route::Stderr => {
            io::write_stderr(text);
            Ok(())
        }
        Route::Buffer => emit_bytes(who, p, text.as_bytes()),
    }
}

/// Runs a port operation that may fail, raising its failure.
fn on_port<R>(
    who: &str,
    p: Value,
    op: impl FnOnce(&mut PortState) -> Result<R, Fail>,
) -> VResult<R> {
    port::with_port(p, op).map_err(|f| fail(who, p, f))
}

fn emit_bytes(who: &str, p: Value, bytes: &[u8]) -> VResult<()> {
    on_port(who, p, |s| s.write_bytes(bytes))
}

// ----- output ----------------------------------------------------------------

fn print(who: &str, args: &[Value], mode: PrintMode) -> VResult {
    // The text goes through a buffer reused by every call: `display` of
    // short strings and numbers allocated and freed one per call. (Taken
    // out of its cell while in use, so a nested print gets its own.)
    thread_local! {
        static TEXT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
    }
    let p = text_out(who, args, 1)?;
    let mut text = TEXT.take();
    text.clear();
    printer::print_mode_to(&mut text, args[0], mode);
    let r = emit(who, p, &text);
    if text.capacity() <= 1 << 16 {
        TEXT.set(text);
    }
    r?;
    Ok(Value::UNSPECIFIED)
}

fn display(args: &[Value]) -> VResult {
    print("display", args, PrintMode::Display)
}
fn write(args: &[Value]) -> VResult {
    print("write", args, PrintMode::Write)
}
fn write_shared(args: &[Value]) -> VResult {
    print("write-shared", args, PrintMode::WriteShared)
}
fn write_simple(args: &[Value]) -> VResult {
    print("write-simple", args, PrintMode::WriteSimple)
}
fn write_string(args: &[Value]) -> VResult {
    let who = "write-string";
    let s = string_arg(who, args[0])?;
    let p = text_out(who, args, 1)?;
    let (start, end) = range_args(who, args, 2, object::string_len(s))?;
    let text: String = (start..end).map(|i| object::string_ref(s, i)).collect();
    emit(who, p, &text)?;
    Ok(Value::UNSPECIFIED)
}
fn write_char(args: &[Value]) -> VResult {
    let c = char_arg("write-char", args[0])?;
    let p = text_out("write-char", args, 1)?;
    emit("write-char", p, c.encode_utf8(&mut [0; 4]))?;
    Ok(Value::UNSPECIFIED)
}
fn newline(args: &[Value]) -> VResult {
    let p = text_out("newline", args, 0)?;
    emit("newline", p, "\n")?;
    Ok(Value::UNSPECIFIED)
}
fn write_u8(args: &[Value]) -> VResult {
    let who = "write-u8";
    let b = match args[0].fixnum_value() {
        Some(n @ 0..=255) => n as u8,
        _ => return Err(error::wrong_type(who, "a byte", args[0])),
    };
    let p = bytes_out(who, args, 1)?;
    emit_bytes(who, p, &[b])?;
    Ok(Value::UNSPECIFIED)
}
fn write_bytevector(args: &[Value]) -> VResult {
    let who = "write-bytevector";
    super::check_type(who, "a bytevector", args[0], ObjType::Bytevector)?;
    let p = bytes_out(who, args, 1)?;
    let bv = args[0];
    let (start, end) = range_args(who, args, 2, object::bytevector_len(bv))?;
    let bytes = &object::bytevector_bytes_mut(bv)[start..end];
    // No allocation between reading the bytes and copying them.
    emit_bytes(who, p, bytes)?;
    Ok(Value::UNSPECIFIED)
}
fn flush_output_port(args: &[Value]) -> VResult {
    let who = "flush-output-port";
    let p = port_arg(who, args, 0, Direction::Output, None)?;
    match port::output_route(p) {
        Route::Stdout => {
            io::flush_stdout();
            // A failure shows at once, as at any write.
            io::write_stdout("")?;
        }
        Route::Stderr => {}
        Route::Buffer => on_port(who, p, |s| s.flush())?,
    }
    Ok(Value::UNSPECIFIED)
}

// ----- input -----------------------------------------------------------------

fn char_result(r: Option<char>) -> Value {
    r.map_or(Value::EOF, Value::char)
}

fn read_char(args: &[Value]) -> VResult {
    let p = text_in("read-char", args, 0)?;
    let r = on_port("read-char", p, |s| s.read_char(false))?;
    Ok(char_result(r))
}
fn peek_char(args: &[Value]) -> VResult {
    let p = text_in("peek-char", args, 0)?;
    let r = on_port("peek-char", p, |s| s.read_char(true))?;
    Ok(char_result(r))
}
fn char_ready(args: &[Value]) -> VResult {
    let p = text_in("char-ready?", args, 0)?;
    Ok(Value::bool(port::with_port(p, |s| s.char_ready())))
}
fn read_line(args: &[Value]) -> VResult {
    let p = text_in("read-line", args, 0)?;
    let r = on_port("read-line", p, |s| s.read_line())?;
    Ok(r.map_or(Value::EOF, |line| object::string_from(&line)))
}
fn read_string(args: &[Value]) -> VResult {
    let who = "read-string";
    let k = index_arg(who, args[0])?;
    let p = text_in(who, args, 1)?;
    let r = on_port(who, p, |s| s.read_string(k))?;
    Ok(r.map_or(Value::EOF, |text| object::string_from(&text)))
}
fn read_u8(args: &[Value]) -> VResult {
    let p = bytes_in("read-u8", args, 0)?;
    let r = on_port("read-u8", p, |s| s.read_u8(false))?;
    Ok(r.map_or(Value::EOF, |b| Value::fixnum(b as i64)))
}
fn peek_u8(args: &[Value]) -> VResult {
    let p = bytes_in("peek-u8", args, 0)?;
    let r = on_port("peek-u8", p, |s| s.read_u8(true))?;
    Ok(r.map_or(Value::EOF, |b| Value::fixnum(b as i64)))
}
fn u8_ready(args: &[Value]) -> VResult {
    let p = bytes_in("u8-ready?", args, 0)?;
    Ok(Value::bool(port::with_port(p, |s| s.u8_ready())))
}
fn read_bytevector(args: &[Value]) -> VResult {
    let who = "read-bytevector";
    let k = index_arg(who, args[0])?;
    let p = bytes_in(who, args, 1)?;
    let r = on_port(who, p, |s| s.read_bytes(k))?;
    Ok(r.map_or(Value::EOF, |bytes| object::bytevector_from(&bytes)))
}
fn read_bytevector_into(args: &[Value]) -> VResult {
    let who = "read-bytevector!";
    super::check_type(who, "a bytevector", args[0], ObjType::Bytevector)?;
    let p = bytes_in(who, args, 1)?;
    let bv = arg(args, 0);
    let (start, end) = range_args(who, args, 2, object::bytevector_len(bv))?;
    // The bytevector's bytes are borrowed across the table access, which
    // does not allocate (so nothing moves).
    let into = &mut object::bytevector_bytes_mut(bv)[start..end];
    let r = on_port(who, p, |s| s.read_into(into))?;
    Ok(r.map_or(Value::EOF, |n| Value::fixnum(n as i64)))
}

/// `(read [port])`: the next datum, with the compiler's reader
/// (docs/ports.md, "read").
fn read(args: &[Value]) -> VResult {
    let who = "read";
    let p = text_in(who, args, 0)?;
    let r = on_port(who, p, |s| {
        s.scan_text(|text, more, fold| {
            let mut opts = ReadOptions { fold_case: *fold };
            let r = reader::read_one(text, &mut opts);
            *fold = opts.fold_case;
            match r {
                // A token that runs to the end of the buffer may go on in
                // the input not read yet.
                ReadOne::Datum(_, end) | ReadOne::Eof(end) if more && end == text.len() => {
                    Step::More
                }
                // So may a token cut short by it (`#` of `#\λ`, `1e`).
                ReadOne::Incomplete if more => Step::More,
                ReadOne::Error { end, .. } if more && end == text.len() => Step::More,
                ReadOne::Datum(d, end) => Step::Done(Some(d), end),
                ReadOne::Eof(end) => Step::Done(None, end),
                ReadOne::Incomplete => Step::Error {
                    message: "the input ends inside a datum".to_string(),
                    start: text.len() - text.trim_start().len(),
                    end: text.len(),
                },
                ReadOne::Error {
                    message,
                    start,
                    end,
                } => Step::Error {
                    message,
                    start,
                    end,
                },
            }
        })
    })?;
    Ok(match r {
        Some(d) => datum_to_value(&d),
        None => Value::EOF,
    })
}

// ----- port objects ----------------------------------------------------------

fn port_info(v: Value) -> Option<(Direction, bool, bool)> {
    port::is_port(v).then(|| port::with_port(v, |s| (s.direction, s.binary, s.open)))
}

fn is_port(args: &[Value]) -> VResult {
    Ok(Value::bool(port::is_port(args[0])))
}
fn is_input_port(args: &[Value]) -> VResult {
    Ok(Value::bool(matches!(
        port_info(args[0]),
        Some((Direction::Input, _, _))
    )))
}
fn is_output_port(args: &[Value]) -> VResult {
    Ok(Value::bool(matches!(
        port_info(args[0]),
        Some((Direction::Output, _, _))
    )))
}
fn is_textual_port(args: &[Value]) -> VResult {
    Ok(Value::bool(matches!(
        port_info(args[0]),
        Some((_, false, _))
    )))
}
fn is_binary_port(args: &[Value]) -> VResult {
    Ok(Value::bool(matches!(
        port_info(args[0]),
        Some((_, true, _))
    )))
}
fn any_port(who: &str, v: Value) -> VResult<(Direction, bool, bool)> {
    port_info(v).ok_or_else(|| error::wrong_type(who, "a port", v))
}
fn is_input_port_open(args: &[Value]) -> VResult {
    let (d, _, open) = any_port("input-port-open?", args[0])?;
    Ok(Value::bool(d == Direction::Input && open))
}
fn is_output_port_open(args: &[Value]) -> VResult {
    let (d, _, open) = any_port("output-port-open?", args[0])?;
    Ok(Value::bool(d == Direction::Output && open))
}

fn close(who: &str, p: Value, want: Option<Direction>) -> VResult {
    let (d, _, _) = any_port(who, p)?;
    if let Some(want) = want {
        if d != want {
            return Err(error::wrong_type(who, direction_text(want), p));
        }
    }
    if port::output_route(p) == Route::Stdout {
        // Closing standard output writes what is buffered; the program
        // may still print (docs/ports.md).
        io::flush_stdout();
        io::write_stdout("")?;
        return Ok(Value::UNSPECIFIED);
    }
    on_port(who, p, |s| s.close())?;
    Ok(Value::UNSPECIFIED)
}
fn close_port(args: &[Value]) -> VResult {
    close("close-port", args[0], None)
}
fn close_input_port(args: &[Value]) -> VResult {
    close("close-input-port", args[0], Some(Direction::Input))
}
fn close_output_port(args: &[Value]) -> VResult {
    close("close-output-port", args[0], Some(Direction::Output))
}

fn open_input_string(args: &[Value]) -> VResult {
    let s = string_arg("open-input-string", args[0])?;
    let text = object::string_to_rust(s);
    Ok(port::make(PortState::memory_input(
        text.into_bytes(),
        false,
    )))
}
fn open_output_string(_: &[Value]) -> VResult {
    Ok(port::make(PortState::memory_output(false)))
}
fn open_input_bytevector(args: &[Value]) -> VResult {
    let who = "open-input-bytevector";
    super::check_type(who, "a bytevector", args[0], ObjType::Bytevector)?;
    let bytes = object::bytevector_bytes_mut(args[0]).to_vec();
    Ok(port::make(PortState::memory_input(bytes, true)))
}
fn open_output_bytevector(_: &[Value]) -> VResult {
    Ok(port::make(PortState::memory_output(true)))
}

/// An output memory port of the given kind, or a wrong-type error.
fn memory_output_arg(who: &str, v: Value, binary: bool) -> VResult<Value> {
    let ok = port::is_port(v)
        && port::with_port(v, |s| {
            s.direction == Direction::Output && s.binary == binary && s.is_memory()
        });
    if !ok {
        let what = if binary {
            "an output bytevector port"
        } else {
            "an output string port"
        };
        return Err(error::wrong_type(who, what, v));
    }
    Ok(v)
}
fn get_output_string(args: &[Value]) -> VResult {
    let p = memory_output_arg("get-output-string", args[0], false)?;
    Ok(object::string_from(&port::output_string(p)))
}
fn get_output_bytevector(args: &[Value]) -> VResult {
    let p = memory_output_arg("get-output-bytevector", args[0], true)?;
    let bytes = port::with_port(p, |s| s.contents().to_vec());
    Ok(object::bytevector_from(&bytes))
}

fn open_file(who: &str, args: &[Value], dir: Direction, binary: bool) -> VResult {
    let path = object::string_to_rust(string_arg(who, args[0])?);
    let mut opened = open_path(&path, dir);
    if matches!(&opened, Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))) {
        // Out of file descriptors: ports that are garbage still hold some;
        // a collection finalises them (docs/ports.md).
        gc::collect();
        opened = open_path(&path, dir);
    }
    match opened {
        Ok(f) => Ok(port::make(PortState::file(dir, binary, &path, f))),
        Err(e) => Err(error::file_error(who, &path, &e)),
    }
}

fn open_path(path: &str, dir: Direction) -> std::io::Result<std::fs::File> {
    match dir {
        Direction::Input => std::fs::File::open(path).and_then(|f| {
            // Reading a directory fails only at the first read: say so now.
            if f.metadata()?.is_dir() {
                return Err(std::io::Error::from_raw_os_error(libc::EISDIR));
            }
            Ok(f)
        }),
        Direction::Output => std::fs::File::create(path),
    }
}
fn open_input_file(args: &[Value]) -> VResult {
    open_file("open-input-file", args, Direction::Input, false)
}
fn open_binary_input_file(args: &[Value]) -> VResult {
    open_file("open-binary-input-file", args, Direction::Input, true)
}
fn open_output_file(args: &[Value]) -> VResult {
    open_file("open-output-file", args, Direction::Output, false)
}
fn open_binary_output_file(args: &[Value]) -> VResult {
    open_file("open-binary-output-file", args, Direction::Output, true)
}

pub(super) const BUILTINS: &[Builtin] = &[
    opt("display", 1, 1, display),
    opt("write", 1, 1, write),
    opt("write-shared", 1, 1, write_shared),
    opt("write-simple", 1, 1, write_simple),
    opt("write-string", 1, 3, write_string),
    opt("write-char", 1, 1, write_char),
    opt("newline", 0, 1, newline),
    opt("write-u8", 1, 1, write_u8),
    opt("write-bytevector", 1, 3, write_bytevector),
    opt("flush-output-port", 0, 1, flush_output_port),
    opt("read", 0, 1, read),
    opt("read-char", 0, 1, read_char),
    opt("peek-char", 0, 1, peek_char),
    opt("char-ready?", 0, 1, char_ready),
    opt("read-line", 0, 1, read_line),
    opt("read-string", 1, 1, read_string),
    opt("read-u8", 0, 1, read_u8),
    opt("peek-u8", 0, 1, peek_u8),
    opt("u8-ready?", 0, 1, u8_ready),
    opt("read-bytevector", 1, 1, read_bytevector),
    opt("read-bytevector!", 1, 3, read_bytevector_into),
    fixed("port?", 1, is_port),
    fixed("input-port?", 1, is_input_port),
    fixed("output-port?", 1, is_output_port),
    fixed("textual-port?", 1, is_textual_port),
    fixed("binary-port?", 1, is_binary_port),
    fixed("input-port-open?", 1, is_input_port_open),
    fixed("output-port-open?", 1, is_output_port_open),
    fixed("close-port", 1, close_port),
    fixed("close-input-port", 1, close_input_port),
    fixed("close-output-port", 1, close_output_port),
    fixed("open-input-string", 1, open_input_string),
    fixed("open-output-string", 0, open_output_string),
    fixed("get-output-string", 1, get_output_string),
    fixed("open-input-bytevector", 1, open_input_bytevector),
    fixed("open-output-bytevector", 0, open_output_bytevector),
    fixed("get-output-bytevector", 1, get_output_bytevector),
    fixed("open-input-file", 1, open_input_file),
    fixed("open-binary-input-file", 1, open_binary_input_file),
    fixed("open-output-file", 1, open_output_file),
    fixed("open-binary-output-file", 1, open_binary_output_file),
    fixed(
        "%register-standard-port-parameter!",
        3,
        register_standard_port_parameter,
    ),
    fixed("%standard-port", 1, standard_port),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn port_procedures() {
        let _g = lock();
        check_all(&[
            ("(eq? (%standard-port 1) (%standard-port 1))", "#t"),
            ("(output-port? (%standard-port 1))", "#t"),
            ("(input-port? (%standard-port 0))", "#t"),
            ("(output-port? 5)", "#f"),
            ("(port? 'p)", "#f"),
            ("(%standard-port 2)", "#<output-port stderr>"),
            ("(read-line (open-input-string \"ab\\ncd\"))", "\"ab\""),
            ("(read-string 2 (open-input-string \"λμν\"))", "\"λμ\""),
            ("(read-char (open-input-string \"\"))", "#<eof>"),
            ("(peek-char (open-input-string \"z\"))", "#\\z"),
            ("(char-ready? (open-input-string \"\"))", "#t"),
            ("(read-u8 (open-input-bytevector (bytevector 7)))", "7"),
            (
                "(read-bytevector 5 (open-input-bytevector (bytevector 1 2)))",
                "#u8(1 2)",
            ),
            ("(u8-ready? (open-input-bytevector (bytevector)))", "#t"),
            ("(get-output-string (open-output-string))", "\"\""),
            ("(get-output-bytevector (open-output-bytevector))", "#u8()"),
            ("(textual-port? (open-output-string))", "#t"),
            ("(binary-port? (open-output-bytevector))", "#t"),
            ("(input-port-open? (open-output-string))", "#f"),
            ("(output-port-open? (open-output-string))", "#t"),
            ("(open-input-string \"\")", "#<input-port string>"),
            (
                "(open-output-bytevector)",
                "#<binary-output-port bytevector>",
            ),
        ]);
        with_stress(|| {
            check_all(&[
                ("(read-line (open-input-string \"a b\"))", "\"a b\""),
                (
                    "(read-bytevector 1 (open-input-bytevector (bytevector 9 8)))",
                    "#u8(9)",
                ),
            ])
        });
    }

    #[test]
    fn port_errors() {
        let _g = lock();
        check_errs(&[
            ("(display 1 5)", "display: expected an output port: 5"),
            (
                "(display 1 (open-input-string \"\"))",
                "display: expected an output port: #<input-port string>",
            ),
            (
                "(write-char \"a\")",
                "write-char: expected a character: \"a\"",
            ),
            ("(write-string 'a)", "write-string: expected a string: a"),
            ("(newline 'x)", "newline: expected an output port: x"),
            ("(read-char 5)", "read-char: expected an input port: 5"),
            (
                "(read-char (open-input-bytevector (bytevector)))",
                "read-char: expected a textual input port: #<binary-input-port bytevector>",
            ),
            (
                "(read-u8 (open-input-string \"\"))",
                "read-u8: expected a binary input port: #<input-port string>",
            ),
            (
                "(write-u8 1 (open-output-string))",
                "write-u8: expected a binary output port: #<output-port string>",
            ),
            (
                "(write-u8 256 (open-output-bytevector))",
                "write-u8: expected a byte: 256",
            ),
            (
                "(get-output-string (open-output-bytevector))",
                "get-output-string: expected an output string port: #<binary-output-port bytevector>",
            ),
            (
                "(get-output-bytevector 1)",
                "get-output-bytevector: expected an output bytevector port: 1",
            ),
            ("(close-port 1)", "close-port: expected a port: 1"),
            (
                "(close-input-port (open-output-string))",
                "close-input-port: expected an input port: #<output-port string>",
            ),
            ("(read-string -1)", "read-string: expected a non-negative integer: -1"),
            (
                "(read-line (open-input-bytevector (bytevector 255)))",
                "read-line: expected a textual input port: #<binary-input-port bytevector>",
            ),
            (
                "(open-input-file \"/nonexistent/valk\")",
                "open-input-file: No such file or directory: \"/nonexistent/valk\"",
            ),
            (
                "(open-input-file \"/\")",
                "open-input-file: Is a directory: \"/\"",
            ),
            (
                "(open-output-file \"/nonexistent/valk\")",
                "open-output-file: No such file or directory: \"/nonexistent/valk\"",
            ),
            ("(%standard-port 3)", "%standard-port: index out of range: 3"),
        ]);
    }
}
