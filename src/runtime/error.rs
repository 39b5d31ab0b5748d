//! Raising and reporting errors.
//!
//! Builtins return [`VResult`]; `Err(Raised)` means an exception is pending:
//! the raised object sits in a rooted slot until an engine takes it with
//! [`take_pending`]. Through the C ABI the same state is signalled by
//! returning [`Value::EXCEPTION`]. Error objects are `Condition` heap
//! objects `[kind, message, irritants]`; every engine prints them with
//! [`format_error`], so messages are identical everywhere.

use crate::gc::{self, RootVisitor};
use crate::object;
use crate::value::{ObjType, Value};
use std::cell::UnsafeCell;

/// Marker: an exception is pending (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised;

pub type VResult<T = Value> = Result<T, Raised>;

/// The error kinds of the catalogue (docs/errors.md). The kind is stored in
/// the condition as a symbol of this name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `(error msg irritant ...)` from user code.
    User,
    WrongType,
    Arity,
    Unbound,
    Range,
    DivisionByZero,
    StackOverflow,
    HeapExhausted,
    /// Ctrl-C stopped the running computation (`interrupt`).
    Interrupted,
    /// Not an error: `(exit)` unwinding to the host ([`request_exit`]).
    Exit,
    /// A file operation failed (`file-error?`).
    File,
    /// Malformed input: a datum `read` cannot parse, or bytes that are not
    /// UTF-8 on a textual port (`read-error?`).
    Read,
    /// Code given to `eval` or `load` that the expander rejects
    /// (docs/libraries.md, "eval").
    Syntax,
    /// Anything else a builtin rejects (bad argument value, unsupported).
    Other,
}

impl ErrorKind {
    pub fn symbol_name(self) -> &'static str {
        match self {
            ErrorKind::User => "error",
            ErrorKind::WrongType => "wrong-type",
            ErrorKind::Arity => "wrong-arity",
            ErrorKind::Unbound => "unbound-variable",
            ErrorKind::Range => "out-of-range",
            ErrorKind::DivisionByZero => "division-by-zero",
            ErrorKind::StackOverflow => "stack-overflow",
            ErrorKind::HeapExhausted => "heap-exhausted",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Exit => "%exit",
            ErrorKind::File => "file-error",
            ErrorKind::Read => "read-error",
            ErrorKind::Syntax => "syntax-error",
            ErrorKind::Other => "error",
        }
    }
}

struct Pending(UnsafeCell<Value>);
// SAFETY: the runtime is single-threaded (docs/architecture.md).
unsafe impl Sync for Pending {}
static PENDING: Pending = Pending(UnsafeCell::new(Value::UNDEFINED));

fn visit_pending(v: &mut dyn RootVisitor) {
    // SAFETY: single-threaded; the collector calls hooks while no other
    // reference into the cell exists (every other use is one statement).
    unsafe { v.visit(&mut *PENDING.0.get()) }
}

/// Whether the pending exception has been offered to the current
/// exception handlers yet (`dynamic::deliver`).
static DELIVERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Raises `obj` (any value): stores it as the pending exception, not yet
/// delivered to the handlers (see `dynamic::deliver`).
pub fn raise(obj: Value) -> Raised {
    crate::backtrace::capture_for(obj);
    gc::add_root_hook(visit_pending);
    // SAFETY: as in `visit_pending`.
    unsafe { *PENDING.0.get() = obj };
    DELIVERED.store(false, std::sync::atomic::Ordering::Relaxed);
    Raised
}

/// Marks the pending exception delivered; true when it was not before.
pub fn take_delivery() -> bool {
    !DELIVERED.swap(true, std::sync::atomic::Ordering::Relaxed)
}

/// The pending exception (left pending).
pub fn pending() -> Value {
    // SAFETY: as in `visit_pending`.
    unsafe { *PENDING.0.get() }
}

/// Takes the pending exception (leaving none).
pub fn take_pending() -> Value {
    // SAFETY: as in `visit_pending`.
    unsafe { std::mem::replace(&mut *PENDING.0.get(), Value::UNDEFINED) }
}

/// Builds a condition and raises it. `irritants` need not be rooted: they
/// are rooted here before anything is allocated.
pub fn error(kind: ErrorKind, message: &str, irritants: &[Value]) -> Raised {
    let scope = gc::Scope::new();
    let irr: Vec<gc::Root> = irritants.iter().map(|&v| scope.root(v)).collect();
    let list = scope.root(Value::NIL);
    for r in irr.iter().rev() {
        list.set(object::cons(r.get(), list.get()));
    }
    let c = object::make_condition(kind.symbol_name(), message, list.get());
    raise(c)
}

/// `name: not a <expected>: <value>`
pub fn wrong_type(who: &str, expected: &str, got: Value) -> Raised {
    error(
        ErrorKind::WrongType,
        &format!("{who}: expected {expected}"),
        &[got],
    )
}

/// Arity error for a call of `who` with `got` arguments.
pub fn arity(who: &str, expected: &str, got: usize) -> Raised {
    error(
        ErrorKind::Arity,
        &format!("{who}: wrong number of arguments (expected {expected}, got {got})"),
        &[],
    )
}

pub fn out_of_range(who: &str, index: Value) -> Raised {
    error(
        ErrorKind::Range,
        &format!("{who}: index out of range"),
        &[index],
    )
}

pub fn division_by_zero(who: &str) -> Raised {
    error(
        ErrorKind::DivisionByZero,
        &format!("{who}: division by zero"),
        &[],
    )
}

pub fn unbound(name: &str) -> Raised {
    error(
        ErrorKind::Unbound,
        &format!("unbound variable: {}", crate::globals::user_name(name)),
        &[],
    )
}

/// `variable used before its definition: NAME` (a `letrec` variable or
/// internal definition read before its initialisation).
pub fn used_before_definition(name: &str) -> Raised {
    error(
        ErrorKind::Unbound,
        &format!("variable used before its definition: {name}"),
        &[],
    )
}

/// `WHO: <reason>: "path"`, a `file-error?` condition: a file operation on
/// `path` failed with the operating system's `reason`.
pub fn file_error(who: &str, path: &str, e: &std::io::Error) -> Raised {
    let path = object::string_from(path);
    error(
        ErrorKind::File,
        &format!("{who}: {}", os_reason(e)),
        &[path],
    )
}

/// The operating system's reason, without Rust's `(os error N)` suffix:
/// `No space left on device`.
pub fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `stack overflow`: the machine stack or the root stack is exhausted.
pub fn stack_overflow() -> Raised {
    error(ErrorKind::StackOverflow, "stack overflow", &[])
}

/// `interrupted`: Ctrl-C stopped the running computation.
pub fn interrupted() -> Raised {
    error(ErrorKind::Interrupted, "interrupted", &[])
}

/// `attempt to call a non-procedure: OBJ`.
pub fn not_a_procedure(f: Value) -> Raised {
    error(
        ErrorKind::WrongType,
        "attempt to call a non-procedure",
        &[f],
    )
}

/// Is `exc` a condition of this kind?
pub fn has_kind(exc: Value, kind: ErrorKind) -> bool {
    exc.has_type(ObjType::Condition) && object::symbol_name(exc.field(0)) == kind.symbol_name()
}

/// Is `exc` an unbound-variable error (printed with its location)?
pub fn is_unbound_error(exc: Value) -> bool {
    has_kind(exc, ErrorKind::Unbound)
}

/// Raises the request to end the program with `status` (`exit`,
/// `emergency-exit`): it unwinds to the host like an error, and the host
/// ends the process (docs/errors.md, "Exit").
pub fn request_exit(who: &str, status: i32) -> Raised {
    error(ErrorKind::Exit, who, &[Value::fixnum(status as i64)])
}

/// The status of an exit request, `None` for anything else.
pub fn exit_request_status(exc: Value) -> Option<i32> {
    if !has_kind(exc, ErrorKind::Exit) {
        return None;
    }
    let irritants = exc.field(2);
    Some(if irritants.is_pair() {
        irritants
            .car()
            .fixnum_value()
            .unwrap_or(ERROR_EXIT_STATUS as i64) as i32
    } else {
        ERROR_EXIT_STATUS
    })
}

/// The text every engine prints for an uncaught exception, without the
/// leading `error: ` and trailing newline: `message: irritant irritant`
/// for conditions (no second colon when the message ends with one),
/// `uncaught exception: <obj>` for other raised objects.
pub fn format_error(obj: Value) -> String {
    if obj.has_type(ObjType::Condition) {
        let msg = object::string_to_rust(obj.field(1));
        let mut irritants = obj.field(2);
        let mut out = msg;
        let mut first = true;
        while irritants.is_pair() {
            // `(error "bad thing:" x)` reads `bad thing: x`, not `bad thing:: x`.
            out.push_str(match (first, out.ends_with(':')) {
                (true, false) => ": ",
                _ => " ",
            });
            first = false;
            // A condition among the irritants (the secondary error of a
            // handler that returned) reads as its own message.
            let irritant = irritants.car();
            if irritant.has_type(ObjType::Condition) {
                out.push_str(&format_error(irritant));
            } else {
                out.push_str(&crate::printer::write_string(irritant));
            }
            irritants = irritants.cdr();
        }
        out
    } else {
        format!("uncaught exception: {}", crate::printer::write_string(obj))
    }
}

/// Prints `error: <msg>` after flushing program output, prints GC
/// statistics if asked, and exits with status 1. For conditions the runtime
/// cannot raise as a value (heap exhausted, internal limits): an allocation
/// has no way to fail at its call sites, so this is the one place where the
/// library ends the process itself (docs/errors.md).
pub fn fatal(msg: &str) -> ! {
    crate::eprintln_quiet!("error: {msg}");
    gc::finish();
    std::process::exit(ERROR_EXIT_STATUS);
}

/// Exit status of a program that ended with an uncaught error.
pub const ERROR_EXIT_STATUS: i32 = 1;
