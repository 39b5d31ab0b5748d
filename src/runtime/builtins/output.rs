//! Output: `display`, `write` and friends on the standard output and error
//! ports. A port is a `Foreign` object kept in a rooted table, so
//! `(current-output-port)` is always the same (`eq?`) object; string and
//! file ports come later.

use super::{char_arg, fixed, opt, range_args, string_arg, Builtin};
use crate::error::{self, VResult};
use crate::gc::{self, RootVisitor};
use crate::guarded::Guarded;
use crate::io;
use crate::object;
use crate::printer;
use crate::value::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Port {
    Stdout,
    Stderr,
}

const PORT_NAMES: [&str; 2] = ["stdout", "stderr"];

// SAFETY: the runtime is single-threaded (docs/architecture.md): the table
// is used by the thread that runs Valk code only.
static PORTS: Guarded<[Value; 2]> =
    unsafe { Guarded::new("the port table", || [Value::UNDEFINED; 2]) };

/// Runs `f` on the port objects; `f` must not allocate (docs/architecture.md,
/// "Unsafe code"): a collection runs `visit_ports`.
#[inline]
fn with_ports<R>(f: impl FnOnce(&mut [Value; 2]) -> R) -> R {
    PORTS.with(f)
}

fn visit_ports(v: &mut dyn RootVisitor) {
    with_ports(|ports| {
        for slot in ports.iter_mut() {
            v.visit(slot);
        }
    });
}

/// Creates the port objects (once).
pub(super) fn install_ports() {
    gc::add_root_hook(visit_ports);
    for i in 0..2 {
        if with_ports(|ports| ports[i]) == Value::UNDEFINED {
            let p = object::make_foreign((i + 1) as *mut u8);
            with_ports(|ports| ports[i] = p);
        }
    }
}

/// The standard output port object.
pub fn stdout_port() -> Value {
    install_ports();
    with_ports(|ports| ports[0])
}

/// `Some("stdout")` etc. when `v` is one of the runtime's port objects.
pub fn port_name(v: Value) -> Option<&'static str> {
    with_ports(|ports| ports.iter().position(|&p| p == v && v.is_heap())).map(|i| PORT_NAMES[i])
}

/// The port argument at `i` (default: standard output).
fn port_arg(who: &str, args: &[Value], i: usize) -> VResult<Port> {
    match super::opt_arg(args, i) {
        None => Ok(Port::Stdout),
        Some(v) => match port_name(v) {
            Some("stdout") => Ok(Port::Stdout),
            Some(_) => Ok(Port::Stderr),
            None => Err(error::wrong_type(who, "an output port", v)),
        },
    }
}

fn emit(port: Port, text: &str) -> VResult<()> {
    match port {
        Port::Stdout => io::write_stdout(text),
        // Flushes standard output first: the two stay in order.
        Port::Stderr => {
            io::write_stderr(text);
            Ok(())
        }
    }
}

fn print(who: &str, args: &[Value], write: bool) -> VResult {
    let port = port_arg(who, args, 1)?;
    let mut text = String::new();
    printer::print_to(&mut text, args[0], write);
    emit(port, &text)?;
    Ok(Value::UNSPECIFIED)
}

fn display(args: &[Value]) -> VResult {
    print("display", args, false)
}
fn write(args: &[Value]) -> VResult {
    print("write", args, true)
}
fn write_shared(args: &[Value]) -> VResult {
    print("write-shared", args, true)
}
fn write_simple(args: &[Value]) -> VResult {
    print("write-simple", args, true)
}
fn write_string(args: &[Value]) -> VResult {
    let who = "write-string";
    let s = string_arg(who, args[0])?;
    let port = port_arg(who, args, 1)?;
    let (start, end) = range_args(who, args, 2, object::string_len(s))?;
    let text: String = (start..end).map(|i| object::string_ref(s, i)).collect();
    emit(port, &text)?;
    Ok(Value::UNSPECIFIED)
}
fn write_char(args: &[Value]) -> VResult {
    let c = char_arg("write-char", args[0])?;
    let port = port_arg("write-char", args, 1)?;
    emit(port, c.encode_utf8(&mut [0; 4]))?;
    Ok(Value::UNSPECIFIED)
}
fn newline(args: &[Value]) -> VResult {
    emit(port_arg("newline", args, 0)?, "\n")?;
    Ok(Value::UNSPECIFIED)
}
fn current_output_port(_: &[Value]) -> VResult {
    Ok(stdout_port())
}
fn current_error_port(_: &[Value]) -> VResult {
    install_ports();
    Ok(with_ports(|ports| ports[1]))
}
fn flush_output_port(args: &[Value]) -> VResult {
    port_arg("flush-output-port", args, 0)?;
    io::flush_stdout();
    // A failure shows at once, as at any write.
    io::write_stdout("")?;
    Ok(Value::UNSPECIFIED)
}
fn is_output_port(args: &[Value]) -> VResult {
    Ok(Value::bool(port_name(args[0]).is_some()))
}
fn is_input_port(_: &[Value]) -> VResult {
    Ok(Value::FALSE)
}

pub(super) const BUILTINS: &[Builtin] = &[
    opt("display", 1, 1, display),
    opt("write", 1, 1, write),
    opt("write-shared", 1, 1, write_shared),
    opt("write-simple", 1, 1, write_simple),
    opt("write-string", 1, 3, write_string),
    opt("write-char", 1, 1, write_char),
    opt("newline", 0, 1, newline),
    fixed("current-output-port", 0, current_output_port),
    fixed("current-error-port", 0, current_error_port),
    opt("flush-output-port", 0, 1, flush_output_port),
    fixed("output-port?", 1, is_output_port),
    fixed("textual-port?", 1, is_output_port),
    fixed("port?", 1, is_output_port),
    fixed("input-port?", 1, is_input_port),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn ports_and_errors() {
        let _g = lock();
        check_all(&[
            ("(eq? (current-output-port) (current-output-port))", "#t"),
            ("(output-port? (current-output-port))", "#t"),
            ("(output-port? 5)", "#f"),
            ("(input-port? (current-output-port))", "#f"),
            ("(current-error-port)", "#<output-port stderr>"),
            ("(display \"\" (current-output-port))", "#<unspecified>"),
            ("(write-string \"\")", "#<unspecified>"),
        ]);
        check_errs(&[
            ("(display 1 5)", "display: expected an output port: 5"),
            (
                "(write-char \"a\")",
                "write-char: expected a character: \"a\"",
            ),
            ("(write-string 'a)", "write-string: expected a string: a"),
            ("(newline 'x)", "newline: expected an output port: x"),
        ]);
        assert_eq!(port_arg("t", &[], 0), Ok(Port::Stdout));
        let err = stdout_port();
        assert_eq!(port_name(err), Some("stdout"));
        gc::collect();
        assert_eq!(port_name(stdout_port()), Some("stdout"));
    }
}
