//! Time, process and miscellany: `current-jiffy`, `command-line`, `exit`,
//! the environment, `file-exists?`/`delete-file`, `eof-object`.

use super::{fixed, opt, string_arg, Builtin};
use crate::error::{self, VResult};
use crate::gc::Scope;
use crate::object;
use crate::value::Value;
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static COMMAND_LINE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Sets what `(command-line)` returns: the program name, then its
/// arguments. Engines call this before running a program.
pub fn set_command_line(args: Vec<String>) {
    *COMMAND_LINE.lock().unwrap_or_else(|e| e.into_inner()) = args;
}

fn command_line(_: &[Value]) -> VResult {
    let args = COMMAND_LINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(list_of(&args, |a| object::string_from(a)))
}

/// A list of `make(item)` for each item, built from the end with the list
/// rooted while each element is made.
fn list_of<T>(items: &[T], make: impl Fn(&T) -> Value) -> Value {
    let s = Scope::new();
    let acc = s.root(Value::NIL);
    for item in items.iter().rev() {
        let v = make(item);
        acc.set(object::cons(v, acc.get()));
    }
    acc.get()
}

fn start_instant() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

const JIFFIES_PER_SECOND: i64 = 1_000_000_000;

/// Nanoseconds since the first call (a fixnum for 36 years).
fn current_jiffy(_: &[Value]) -> VResult {
    Ok(Value::fixnum(start_instant().elapsed().as_nanos() as i64))
}
fn jiffies_per_second(_: &[Value]) -> VResult {
    Ok(Value::fixnum(JIFFIES_PER_SECOND))
}
fn current_second(_: &[Value]) -> VResult {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    Ok(object::make_flonum(t))
}

/// `(features)`: the feature identifiers `cond-expand` tests (R7RS
/// 6.14, appendix B).
pub const FEATURES: &[&str] = &[
    "r7rs",
    "exact-closed",
    "exact-complex",
    "ieee-float",
    "full-unicode",
    "ratios",
    "valk",
    "posix",
    #[cfg(target_os = "linux")]
    "linux",
    "unix",
    #[cfg(target_arch = "x86_64")]
    "x86-64",
    #[cfg(target_arch = "aarch64")]
    "aarch64",
    #[cfg(target_endian = "little")]
    "little-endian",
    #[cfg(target_endian = "big")]
    "big-endian",
    "lp64",
];

fn features(_: &[Value]) -> VResult {
    Ok(list_of(FEATURES, |name| object::intern(name)))
}

fn eof_object(_: &[Value]) -> VResult {
    Ok(Value::EOF)
}
fn is_eof_object(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0] == Value::EOF))
}

/// The process exit status for `(exit [obj])`: 0 for none or `#t`, 1 for
/// `#f`, an integer from 0 to 255 as itself, and 1 for any other object
/// (R7RS accepts any object; an operating system keeps only 8 bits, so
/// `(exit 256)` must not look like success).
fn exit_status(args: &[Value]) -> i32 {
    match super::opt_arg(args, 0) {
        None | Some(Value::TRUE) => 0,
        Some(v) => match v.fixnum_value() {
            Some(n @ 0..=255) => n as i32,
            _ => 1,
        },
    }
}

/// `(exit [status])`: runs the after thunks of every outstanding
/// `dynamic-wind` (innermost first), then unwinds to the host, which
/// flushes output, reports GC statistics if asked, and ends the process
/// with the status.
fn exit(args: &[Value]) -> VResult {
    let code = exit_status(args);
    crate::dynamic::unwind_all()?;
    Err(error::request_exit("exit", code))
}
/// `(emergency-exit [status])`: as `exit` without running any
/// `dynamic-wind` after thunk.
fn emergency_exit(args: &[Value]) -> VResult {
    let code = exit_status(args);
    Err(error::request_exit("emergency-exit", code))
}

/// `(get-environment-variable name)`: the value, or `#f` when unset.
fn get_environment_variable(args: &[Value]) -> VResult {
    let name = object::string_to_rust(string_arg("get-environment-variable", args[0])?);
    Ok(match std::env::var_os(&name) {
        Some(v) => object::string_from(&v.to_string_lossy()),
        None => Value::FALSE,
    })
}

/// `(get-environment-variables)`: an association list of name and value
/// strings, in the order the operating system gives them.
fn get_environment_variables(_: &[Value]) -> VResult {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let s = Scope::new();
    let acc = s.root(Value::NIL);
    let key = s.root(Value::NIL);
    for (k, v) in vars.iter().rev() {
        key.set(object::string_from(k));
        let value = object::string_from(v);
        let entry = object::cons(key.get(), value);
        acc.set(object::cons(entry, acc.get()));
    }
    Ok(acc.get())
}

/// `(file-exists? path)`.
fn file_exists(args: &[Value]) -> VResult {
    let path = object::string_to_rust(string_arg("file-exists?", args[0])?);
    Ok(Value::bool(std::path::Path::new(&path).exists()))
}

/// `(delete-file path)`: a `file-error?` condition with the path and the
/// system's reason when the file cannot be deleted.
fn delete_file(args: &[Value]) -> VResult {
    let path = object::string_to_rust(string_arg("delete-file", args[0])?);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(Value::UNSPECIFIED),
        Err(e) => Err(error::file_error("delete-file", &path, &e)),
    }
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("current-jiffy", 0, current_jiffy),
    fixed("jiffies-per-second", 0, jiffies_per_second),
    fixed("current-second", 0, current_second),
    fixed("command-line", 0, command_line),
    fixed("features", 0, features),
    fixed("eof-object", 0, eof_object),
    fixed("eof-object?", 1, is_eof_object),
    opt("exit", 0, 1, exit),
    opt("emergency-exit", 0, 1, emergency_exit),
    fixed("get-environment-variable", 1, get_environment_variable),
    fixed("get-environment-variables", 0, get_environment_variables),
    fixed("file-exists?", 1, file_exists),
    fixed("delete-file", 1, delete_file),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn system() {
        let _g = lock();
        check_all(&[
            ("(eof-object? (eof-object))", "#t"),
            ("(eof-object? '())", "#f"),
            ("(jiffies-per-second)", "1000000000"),
            ("(exact-integer? (current-jiffy))", "#t"),
            ("(< 1600000000.0 (current-second))", "#t"),
        ]);
        let a = ev("(current-jiffy)").as_fixnum();
        let b = ev("(current-jiffy)").as_fixnum();
        assert!(b >= a);
        set_command_line(vec!["prog".into(), "a b".into()]);
        with_stress(|| assert_eq!(ev_w("(command-line)"), "(\"prog\" \"a b\")"));
        assert_eq!(exit_status(&[]), 0);
        assert_eq!(exit_status(&[Value::FALSE]), 1);
        assert_eq!(exit_status(&[Value::fixnum(3)]), 3);
        assert_eq!(exit_status(&[Value::fixnum(255)]), 255);
        assert_eq!(exit_status(&[Value::fixnum(256)]), 1);
        assert_eq!(exit_status(&[Value::fixnum(-1)]), 1);
        let big = crate::num::Num::int(num_bigint::BigInt::from(1u8) << 100usize);
        assert_eq!(exit_status(&[big.into_value()]), 1);
        assert_eq!(exit_status(&[crate::object::intern("x")]), 1);
    }

    #[test]
    fn environment_and_files() {
        let _g = lock();
        std::env::set_var("VALK_TEST_ENV_VAR", "a value");
        with_stress(|| {
            check_all(&[
                (
                    "(get-environment-variable \"VALK_TEST_ENV_VAR\")",
                    "\"a value\"",
                ),
                ("(get-environment-variable \"VALK_TEST_NO_SUCH_VAR\")", "#f"),
                ("(string? (cdr (car (get-environment-variables))))", "#t"),
                ("(file-exists? \"/\")", "#t"),
                ("(file-exists? \"/no/such/file\")", "#f"),
            ])
        });
        let all = ev_w("(get-environment-variables)");
        assert!(
            all.contains("(\"VALK_TEST_ENV_VAR\" . \"a value\")"),
            "{all}"
        );
        let dir = std::env::temp_dir().join(format!("valk-delete-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, "x").unwrap();
        let f = file.display();
        check_all(&[
            (format!("(file-exists? \"{f}\")").as_str(), "#t"),
            (format!("(delete-file \"{f}\")").as_str(), "#<unspecified>"),
            (format!("(file-exists? \"{f}\")").as_str(), "#f"),
        ]);
        check_errs(&[
            (
                format!("(delete-file \"{f}\")").as_str(),
                format!("delete-file: No such file or directory: \"{f}\"").as_str(),
            ),
            ("(file-exists? 'x)", "file-exists?: expected a string: x"),
        ]);
        let e = ev(&format!("(guard-error (delete-file \"{f}\"))"));
        assert!(error::has_kind(e, error::ErrorKind::File));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
