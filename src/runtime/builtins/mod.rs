//! Builtin procedures.
//!
//! Every builtin is a Rust function `fn(&[Value]) -> VResult` plus its arity,
//! listed in one table (assembled from the group modules below). [`install`]
//! binds each name to a closure whose entry is the shared C-ABI
//! [`builtin_entry`]; the closure's `ProcInfo::data` is the table index.
//!
//! GC discipline inside builtins: the argument slice lives in the root stack
//! and is updated in place by the collector. Because a `&[Value]` parameter
//! lets the optimizer assume its contents never change during the call, a
//! builtin that reads an argument after allocating must re-read it with
//! [`arg`] (a volatile read) or keep it in a [`gc::Scope`] root.

use crate::error::{self, Raised, VResult};
use crate::globals;
use crate::object;
use crate::value::{ObjType, ProcInfo, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

mod bytevectors;
mod chars;
mod control;
pub mod equiv;
mod lists;
pub mod numbers;
mod output;
mod strings;
mod symbols;
mod system;
mod vectors;

#[cfg(test)]
pub(crate) mod testing;

pub use output::{port_name, stdout_port};
pub use system::set_command_line;

/// The Rust side of a builtin: receives exactly the arguments passed
/// (arity already checked); an omitted optional argument is either absent
/// from the slice or [`Value::DEFAULT`].
pub type BuiltinFn = fn(&[Value]) -> VResult;

#[derive(Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub required: u32,
    pub optional: u32,
    /// Accepts any number of arguments beyond `required + optional`.
    pub rest: bool,
    pub func: BuiltinFn,
}

impl Builtin {
    pub fn accepts(&self, argc: usize) -> bool {
        argc >= self.required as usize
            && (self.rest || argc <= (self.required + self.optional) as usize)
    }

    /// The expected-count text of arity errors: `2`, `at least 1`, `1 to 2`.
    pub fn arity_text(&self) -> String {
        let (r, o) = (self.required, self.optional);
        if self.rest {
            format!("at least {r}")
        } else if o == 0 {
            format!("{r}")
        } else {
            format!("{r} to {}", r + o)
        }
    }
}

/// A builtin taking exactly `n` arguments.
pub(crate) const fn fixed(name: &'static str, n: u32, func: BuiltinFn) -> Builtin {
    Builtin {
        name,
        required: n,
        optional: 0,
        rest: false,
        func,
    }
}

/// A builtin taking `req` to `req + opt` arguments.
pub(crate) const fn opt(name: &'static str, req: u32, opt: u32, func: BuiltinFn) -> Builtin {
    Builtin {
        name,
        required: req,
        optional: opt,
        rest: false,
        func,
    }
}

/// A builtin taking at least `req` arguments.
pub(crate) const fn var(name: &'static str, req: u32, func: BuiltinFn) -> Builtin {
    Builtin {
        name,
        required: req,
        optional: 0,
        rest: true,
        func,
    }
}

struct Tables {
    builtins: Vec<Builtin>,
    infos: &'static [ProcInfo],
    by_name: HashMap<&'static str, usize>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut builtins = Vec::new();
        for group in [
            numbers::BUILTINS,
            equiv::BUILTINS,
            lists::BUILTINS,
            lists::CXRS,
            symbols::BUILTINS,
            chars::BUILTINS,
            chars::CHAR_COMPARES,
            strings::BUILTINS,
            strings::STRING_COMPARES,
            vectors::BUILTINS,
            bytevectors::BUILTINS,
            control::BUILTINS,
            output::BUILTINS,
            system::BUILTINS,
        ] {
            builtins.extend_from_slice(group);
        }
        let infos: Vec<ProcInfo> = builtins
            .iter()
            .enumerate()
            .map(|(i, b)| ProcInfo {
                name: b.name.as_ptr(),
                name_len: b.name.len(),
                required: b.required,
                optional: b.optional,
                rest: b.rest as u32,
                data: i,
            })
            .collect();
        let by_name = builtins
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name, i))
            .collect();
        Tables {
            builtins,
            infos: Vec::leak(infos),
            by_name,
        }
    })
}

/// All builtins, in table order.
pub fn all() -> &'static [Builtin] {
    &tables().builtins
}

/// The builtin named `name`.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    let t = tables();
    t.by_name.get(name).map(|&i| &t.builtins[i])
}

/// The `ProcInfo` shared by every closure of builtin `name`.
pub fn proc_info(name: &str) -> Option<&'static ProcInfo> {
    let t = tables();
    t.by_name.get(name).map(|&i| &t.infos[i])
}

/// Binds every builtin's global to a fresh closure. Idempotent apart from
/// replacing the closures (and so resetting user redefinitions).
pub fn install() {
    let t = tables();
    for (i, b) in t.builtins.iter().enumerate() {
        let c = object::make_closure(builtin_entry, &t.infos[i], 0);
        globals::set(globals::global_id(b.name), c);
    }
    output::install_ports();
}

/// Calls builtin `b` from Rust with an arity check. `args` must live in the
/// root stack (see module docs).
pub fn call_builtin(b: &Builtin, args: &[Value]) -> VResult {
    if !b.accepts(args.len()) {
        return Err(error::arity(b.name, &b.arity_text(), args.len()));
    }
    // Omitted optionals passed as `DEFAULT` look omitted to the builtin.
    let mut n = args.len();
    while n > b.required as usize && args[n - 1] == Value::DEFAULT {
        n -= 1;
    }
    (b.func)(&args[..n])
}

/// The generic entry of every builtin closure.
///
/// # Safety
/// `self_` must be a builtin closure made by [`install`] and `argv` must
/// point at `argc` values in the root stack.
pub unsafe extern "C" fn builtin_entry(self_: Value, argc: u64, argv: *const Value) -> Value {
    let info = object::closure_info(self_);
    let Some(b) = tables().builtins.get(info.data) else {
        error::fatal("internal error: closure is not a builtin");
    };
    let argc = argc as usize;
    let args: &[Value] = if argc == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(argv, argc)
    };
    match call_builtin(b, args) {
        Ok(v) => v,
        Err(Raised) => Value::EXCEPTION,
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the group modules.

/// Re-reads argument `i` from the root stack (see module docs).
#[inline]
pub(crate) fn arg(args: &[Value], i: usize) -> Value {
    assert!(i < args.len());
    unsafe { std::ptr::read_volatile(args.as_ptr().add(i)) }
}

/// Optional argument `i`, or `None` when it was omitted.
#[inline]
pub(crate) fn opt_arg(args: &[Value], i: usize) -> Option<Value> {
    match args.get(i) {
        Some(&v) if v != Value::DEFAULT => Some(v),
        _ => None,
    }
}

/// A non-negative fixnum (an index or a size).
pub(crate) fn index_arg(who: &str, v: Value) -> VResult<usize> {
    match v.fixnum_value() {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(error::wrong_type(who, "a non-negative integer", v)),
    }
}

/// The optional `start`/`end` arguments at positions `i` and `i + 1` for a
/// sequence of length `len`, checked `0 <= start <= end <= len`.
pub(crate) fn range_args(
    who: &str,
    args: &[Value],
    i: usize,
    len: usize,
) -> VResult<(usize, usize)> {
    let start = match opt_arg(args, i) {
        Some(v) => index_arg(who, v)?,
        None => 0,
    };
    let end = match opt_arg(args, i + 1) {
        Some(v) => index_arg(who, v)?,
        None => len,
    };
    if end > len {
        return Err(error::out_of_range(who, args[i + 1]));
    }
    if start > end {
        return Err(error::out_of_range(who, args[i]));
    }
    Ok((start, end))
}

pub(crate) fn check_type(who: &str, what: &str, v: Value, ty: ObjType) -> VResult<()> {
    if v.has_type(ty) {
        Ok(())
    } else {
        Err(error::wrong_type(who, what, v))
    }
}

pub(crate) fn string_arg(who: &str, v: Value) -> VResult<Value> {
    check_type(who, "a string", v, ObjType::String)?;
    Ok(v)
}

pub(crate) fn char_arg(who: &str, v: Value) -> VResult<char> {
    if v.is_char() {
        Ok(v.as_char())
    } else {
        Err(error::wrong_type(who, "a character", v))
    }
}

pub(crate) fn pair_arg(who: &str, v: Value) -> VResult<Value> {
    if v.is_pair() {
        Ok(v)
    } else {
        Err(error::wrong_type(who, "a pair", v))
    }
}

/// The elements of a proper list (unrooted: use before allocating).
pub(crate) fn list_arg(who: &str, v: Value) -> VResult<Vec<Value>> {
    object::list_to_vec(v).ok_or_else(|| error::wrong_type(who, "a proper list", v))
}

/// A raised error of kind `Other` with the given irritants.
pub(crate) fn other_error(message: &str, irritants: &[Value]) -> Raised {
    error::error(error::ErrorKind::Other, message, irritants)
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in all() {
            assert!(seen.insert(b.name), "duplicate builtin {}", b.name);
        }
    }

    #[test]
    fn arity_text() {
        assert_eq!(lookup("car").unwrap().arity_text(), "1");
        assert_eq!(lookup("+").unwrap().arity_text(), "at least 0");
        assert_eq!(lookup("number->string").unwrap().arity_text(), "1 to 2");
    }

    #[test]
    fn entry_checks_arity() {
        let _g = lock();
        install();
        let car = globals::get(globals::global_id("car"));
        assert!(car.is_closure());
        assert_eq!(object::closure_info(car).name(), Some("car"));
        let e = call_err(car, &[]);
        assert_eq!(e, "car: wrong number of arguments (expected 1, got 0)");
        let arg = object::cons(Value::fixnum(1), Value::NIL);
        let car = globals::get(globals::global_id("car"));
        let r = call_ok(car, &[arg]);
        assert_eq!(r, Value::fixnum(1));
        let sub = globals::get(globals::global_id("substring"));
        assert_eq!(
            call_err(sub, &[Value::NIL]),
            "substring: wrong number of arguments (expected 2 to 3, got 1)"
        );
    }

    #[test]
    fn prelude_names_are_not_builtins() {
        for name in ["map", "for-each", "append", "reverse", "assoc", "memq"] {
            assert!(lookup(name).is_none(), "{name} belongs to the prelude");
        }
    }
}
