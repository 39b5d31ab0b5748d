//! Procedures, multiple values, errors and records.

use super::{arg, fixed, list_arg, other_error, var, Builtin};
use crate::call;
use crate::cont;
use crate::dynamic;
use crate::error::{self, ErrorKind, VResult};
use crate::gc;
use crate::object;
use crate::printer;
use crate::value::{ObjType, Value};

// ---- procedures and values ----

fn is_procedure(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_closure()))
}

/// `(apply f a ... list)`: the spread arguments go straight onto the root
/// stack, which is where every procedure takes its arguments from.
fn apply(args: &[Value]) -> VResult {
    let f = args[0];
    if !f.is_closure() {
        return Err(error::wrong_type("apply", "a procedure", f));
    }
    let last = args[args.len() - 1];
    let spread = list_arg("apply", last)?;
    // Nothing allocates between collecting `spread` and pushing it.
    let base = gc::root_sp();
    for &a in &args[1..args.len() - 1] {
        gc::push_root(a);
    }
    for v in spread {
        gc::push_root(v);
    }
    let n = gc::root_sp() - base;
    let r = call::call_rooted(arg(args, 0), base, n);
    gc::set_root_sp(base);
    r
}

fn values(args: &[Value]) -> VResult {
    if args.len() == 1 {
        Ok(args[0])
    } else {
        Ok(object::make_values(args))
    }
}

fn call_with_values(args: &[Value]) -> VResult {
    let produced = call::call(args[0], &[])?;
    if produced.has_type(ObjType::Values) {
        let base = gc::root_sp();
        for i in 0..produced.size() {
            gc::push_root(produced.field(i));
        }
        let r = call::call_rooted(arg(args, 1), base, produced.size());
        gc::set_root_sp(base);
        r
    } else {
        call::call(arg(args, 1), &[produced])
    }
}

fn void(_: &[Value]) -> VResult {
    Ok(Value::UNSPECIFIED)
}

// ---- errors ----

/// `(error message irritant ...)`. A non-string message is written into
/// the message text; the Chez/R6RS form `(error 'who "message" ...)` gives
/// the message `who: message`.
fn error_b(args: &[Value]) -> VResult {
    let msg = args[0];
    let (text, irritants) = if msg.is_string() {
        (object::string_to_rust(msg), &args[1..])
    } else if msg.is_symbol() && args.len() >= 2 && args[1].is_string() {
        let text = format!(
            "{}: {}",
            object::symbol_name(msg),
            object::string_to_rust(args[1])
        );
        (text, &args[2..])
    } else {
        (printer::write_string(msg), &args[1..])
    };
    Err(error::error(ErrorKind::User, &text, irritants))
}

fn raise(args: &[Value]) -> VResult {
    Err(error::raise(args[0]))
}

fn raise_continuable(args: &[Value]) -> VResult {
    dynamic::raise_continuable(args[0])
}

// ---- first-class control (docs/continuations.md) ----

/// `(%capture-continuation marker)`: the current continuation as a
/// procedure; when that continuation is invoked, returns `marker` again and
/// leaves the value for `%resume-value` (the prelude's `call/cc` tells the
/// two returns apart so that it can call its argument in tail position).
fn capture_continuation(args: &[Value]) -> VResult {
    match cont::capture_full()? {
        cont::Captured::Now(k) => Ok(k),
        cont::Captured::Resumed(v) => {
            dynamic::set_resume_value(v);
            Ok(arg(args, 0))
        }
    }
}

fn resume_value(_: &[Value]) -> VResult {
    Ok(dynamic::take_resume_value())
}

/// `(%call/ec f)`: calls `f` with a one-shot escape continuation, valid
/// while this call is active (`guard` uses it: nothing is copied).
/// `(%tail-call/ec f)` is the same here; compiled code calls it in tail
/// position through `valk_tail_call_ec`, which may reuse the escape whose
/// receiver the caller's frame is (docs/continuations.md, "Escape
/// continuations in tail position").
fn call_ec(args: &[Value]) -> VResult {
    cont::call_with_escape(args[0])
}

fn push_winder(args: &[Value]) -> VResult {
    dynamic::push_winder(args[0], args[1]);
    Ok(Value::UNSPECIFIED)
}

fn pop_winder(_: &[Value]) -> VResult {
    dynamic::pop_winder();
    Ok(Value::UNSPECIFIED)
}

fn current_handlers(_: &[Value]) -> VResult {
    Ok(dynamic::handlers())
}

fn set_handlers(args: &[Value]) -> VResult {
    dynamic::set_handlers(args[0]);
    Ok(Value::UNSPECIFIED)
}

fn current_params(_: &[Value]) -> VResult {
    Ok(dynamic::params())
}

fn set_params(args: &[Value]) -> VResult {
    dynamic::set_params(args[0]);
    Ok(Value::UNSPECIFIED)
}

fn meta_continuation(_: &[Value]) -> VResult {
    Ok(dynamic::meta_continuation())
}

fn set_meta_continuation(args: &[Value]) -> VResult {
    dynamic::set_meta_continuation(args[0]);
    Ok(Value::UNSPECIFIED)
}

fn condition_arg(who: &str, v: Value) -> VResult<Value> {
    super::check_type(who, "an error object", v, ObjType::Condition)?;
    Ok(v)
}

fn is_error_object(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].has_type(ObjType::Condition)))
}
fn error_object_message(args: &[Value]) -> VResult {
    Ok(condition_arg("error-object-message", args[0])?.field(1))
}
fn error_object_irritants(args: &[Value]) -> VResult {
    Ok(condition_arg("error-object-irritants", args[0])?.field(2))
}
/// `(error-object-backtrace e)`: the frames live when `e` was first
/// raised, innermost first, each `(name file line column)` (`name` `#f`
/// for top-level code, `file` `#f` and the numbers 0 without a position),
/// with the symbol `tail-calls-elided` where tail calls ran between two
/// frames; `#f` when none was captured (docs/debugging.md).
fn error_object_backtrace(args: &[Value]) -> VResult {
    let e = condition_arg("error-object-backtrace", args[0])?;
    let Some((frames, _)) = crate::backtrace::frames_of(e) else {
        return Ok(Value::FALSE);
    };
    let scope = gc::Scope::new();
    let list = scope.root(Value::NIL);
    for f in frames.iter().rev() {
        let name = match &f.name {
            Some(n) => object::string_from(n),
            None => Value::FALSE,
        };
        let name = scope.root(name);
        let file = if f.line == 0 {
            Value::FALSE
        } else {
            object::string_from(&f.file)
        };
        let file = scope.root(file);
        let tail = scope.root(object::cons(Value::fixnum(f.col as i64), Value::NIL));
        tail.set(object::cons(Value::fixnum(f.line as i64), tail.get()));
        tail.set(object::cons(file.get(), tail.get()));
        tail.set(object::cons(name.get(), tail.get()));
        list.set(object::cons(tail.get(), list.get()));
        if f.tail_calls_elided {
            let marker = object::intern("tail-calls-elided");
            list.set(object::cons(marker, list.get()));
        }
    }
    Ok(list.get())
}

/// Whether `v` is a condition of kind `kind`.
fn has_kind(v: Value, kind: &str) -> bool {
    v.has_type(ObjType::Condition) && {
        let k = v.field(0);
        k.is_symbol() && object::symbol_name(k) == kind
    }
}
fn is_file_error(args: &[Value]) -> VResult {
    Ok(Value::bool(has_kind(args[0], "file-error")))
}
fn is_read_error(args: &[Value]) -> VResult {
    Ok(Value::bool(has_kind(args[0], "read-error")))
}

// ---- records ----

/// `(%make-record-type name-symbol field-names)`.
fn make_record_type(args: &[Value]) -> VResult {
    let who = "%make-record-type";
    let name = args[0];
    if !name.is_symbol() && !name.is_string() {
        return Err(error::wrong_type(who, "a symbol", name));
    }
    let fields = list_arg(who, args[1])?;
    if let Some(&bad) = fields.iter().find(|f| !f.is_symbol()) {
        return Err(error::wrong_type(who, "a field name symbol", bad));
    }
    Ok(object::make_record_type(args[0], args[1], fields.len()))
}

fn rtd_arg(who: &str, v: Value) -> VResult<Value> {
    super::check_type(who, "a record type", v, ObjType::RecordType)?;
    Ok(v)
}

fn field_count(rtd: Value) -> usize {
    rtd.field(2).as_fixnum() as usize
}

/// `(%record rtd v ...)`: a new record with the fields in order.
fn record(args: &[Value]) -> VResult {
    let rtd = rtd_arg("%record", args[0])?;
    let n = field_count(rtd);
    if args.len() - 1 != n {
        return Err(other_error(
            &format!(
                "{}: wrong number of field values (expected {n}, got {})",
                printer::record_type_name(rtd),
                args.len() - 1
            ),
            &[],
        ));
    }
    let r = object::make_record(rtd);
    for i in 0..n {
        r.set_field(1 + i, arg(args, 1 + i));
    }
    Ok(r)
}

fn is_record_of(v: Value, rtd: Value) -> bool {
    v.has_type(ObjType::Record) && v.field(0) == rtd
}

fn is_record(args: &[Value]) -> VResult {
    Ok(Value::bool(is_record_of(args[0], args[1])))
}

/// `expected a point` / `expected an employee`.
fn expected_record(rtd: Value) -> String {
    let name = printer::record_type_name(rtd);
    let article = match name.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
    };
    format!("{article} {name}")
}

/// The accessor or modifier name in a record access error.
fn record_who(who: Value) -> String {
    if who.is_symbol() {
        object::symbol_name(who)
    } else {
        "record accessor".to_string()
    }
}

/// Checks a record access: `obj` is a record of type `rtd`; returns the
/// field's payload index. The name is built only on error (issue #17:
/// the interpreter calls this on every access).
fn record_access(obj: Value, rtd: Value, index: Value, who: Value) -> VResult<usize> {
    if !rtd.has_type(ObjType::RecordType) {
        return Err(error::wrong_type(&record_who(who), "a record type", rtd));
    }
    if !is_record_of(obj, rtd) {
        return Err(error::wrong_type(
            &record_who(who),
            &expected_record(rtd),
            obj,
        ));
    }
    match index.fixnum_value() {
        Some(i) if i >= 0 && (i as usize) < field_count(rtd) => Ok(1 + i as usize),
        _ => Err(error::out_of_range(&record_who(who), index)),
    }
}

/// `(%record-ref obj rtd index accessor-name)`.
fn record_ref(args: &[Value]) -> VResult {
    let i = record_access(args[0], args[1], args[2], args[3])?;
    Ok(args[0].field(i))
}

/// `(%record-set! obj rtd index value modifier-name)`.
fn record_set(args: &[Value]) -> VResult {
    let i = record_access(args[0], args[1], args[2], args[4])?;
    args[0].set_field(i, args[3]);
    Ok(Value::UNSPECIFIED)
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("procedure?", 1, is_procedure),
    var("apply", 2, apply),
    var("values", 0, values),
    fixed("call-with-values", 2, call_with_values),
    var("void", 0, void),
    var("error", 1, error_b),
    fixed("raise", 1, raise),
    fixed("raise-continuable", 1, raise_continuable),
    fixed("%capture-continuation", 1, capture_continuation),
    fixed("%resume-value", 0, resume_value),
    fixed("%call/ec", 1, call_ec),
    fixed("%tail-call/ec", 1, call_ec),
    fixed("%push-winder!", 2, push_winder),
    fixed("%pop-winder!", 0, pop_winder),
    fixed("%handlers", 0, current_handlers),
    fixed("%set-handlers!", 1, set_handlers),
    fixed("%params", 0, current_params),
    fixed("%set-params!", 1, set_params),
    fixed("%meta-continuation", 0, meta_continuation),
    fixed("%set-meta-continuation!", 1, set_meta_continuation),
    fixed("error-object?", 1, is_error_object),
    fixed("error-object-message", 1, error_object_message),
    fixed("error-object-backtrace", 1, error_object_backtrace),
    fixed("error-object-irritants", 1, error_object_irritants),
    fixed("file-error?", 1, is_file_error),
    fixed("read-error?", 1, is_read_error),
    fixed("%make-record-type", 2, make_record_type),
    var("%record", 1, record),
    fixed("%record?", 2, is_record),
    fixed("%record-ref", 4, record_ref),
    fixed("%record-set!", 5, record_set),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::gc::Scope;
    use crate::value::ProcInfo;

    static TWO_INFO: ProcInfo = ProcInfo {
        name: std::ptr::null(),
        name_len: 0,
        required: 0,
        optional: 0,
        rest: 0,
        data: 0,
    };

    /// A thunk returning `(values 1 2.5)`, allocating as it goes.
    unsafe extern "C" fn two_values(_: Value, _: u64, _: *const Value) -> Value {
        let s = Scope::new();
        let a = s.root(object::make_flonum(2.5));
        object::make_values(&[Value::fixnum(1), a.get()])
    }

    #[test]
    fn procedures() {
        let _g = lock();
        check_all(&[
            ("(procedure? car)", "#t"),
            ("(procedure? 'car)", "#f"),
            ("(apply + 1 2 '(3 4))", "10"),
            ("(apply list '())", "()"),
            ("(apply vector 'a '(b c))", "#(a b c)"),
            ("(values 7)", "7"),
            ("(call-with-values vector list)", "(#())"),
            ("(void 1 2)", "#<unspecified>"),
        ]);
        check_errs(&[
            ("(apply 5 '())", "apply: expected a procedure: 5"),
            ("(apply + 1 2)", "apply: expected a proper list: 2"),
            (
                "(apply car '(1 2))",
                "car: wrong number of arguments (expected 1, got 2)",
            ),
        ]);
        let s = Scope::new();
        let thunk = s.root(object::make_closure(two_values, &TWO_INFO, 0));
        with_stress(|| {
            let list = ev("list");
            let r = call_ok(ev("call-with-values"), &[thunk.get(), list]);
            assert_eq!(w(r), "(1 2.5)");
            let plus = ev("+");
            let r = call_ok(ev("call-with-values"), &[thunk.get(), plus]);
            assert_eq!(w(r), "3.5");
        });
        assert_eq!(w(thunk.get()), "#<procedure>");
    }

    #[test]
    fn errors() {
        let _g = lock();
        check_errs(&[
            (
                "(error \"bad thing:\" 1 \"two\" 'three)",
                "bad thing: 1 \"two\" three",
            ),
            ("(error \"plain\")", "plain"),
            (
                "(error 'my-proc \"went wrong\" 42)",
                "my-proc: went wrong: 42",
            ),
            ("(error 'oops 1)", "oops: 1"),
            ("(raise 42)", "uncaught exception: 42"),
            ("(raise (list 1 \"a\"))", "uncaught exception: (1 \"a\")"),
        ]);
        check_all(&[
            ("(error-object? (guard-error (error \"m\" 1)))", "#t"),
            ("(error-object? 5)", "#f"),
            (
                "(error-object-message (guard-error (error \"m\" 1 2)))",
                "\"m\"",
            ),
            (
                "(error-object-irritants (guard-error (error \"m\" 1 2)))",
                "(1 2)",
            ),
            (
                "(error-object-message (guard-error (car 1)))",
                "\"car: expected a pair\"",
            ),
            ("(file-error? (guard-error (error \"m\")))", "#f"),
            ("(read-error? 1)", "#f"),
            ("(guard-error (raise 'sym))", "sym"),
        ]);
        check_errs(&[(
            "(error-object-message 5)",
            "error-object-message: expected an error object: 5",
        )]);
    }

    #[test]
    fn records() {
        let _g = lock();
        let s = Scope::new();
        // Intern the names first so building argument arrays never allocates.
        for name in ["point-x", "point-y", "set-point-x!", "employee-x"] {
            sym(name);
        }
        let rtd = s.root(ev("(%make-record-type '<point> '(x y))"));
        let p = s.root(call_ok(ev("%record"), &[rtd.get(), fx(1), fx(2)]));
        assert_eq!(w(p.get()), "#<point 1 2>");
        assert_eq!(call_ok(ev("%record?"), &[p.get(), rtd.get()]), Value::TRUE);
        assert_eq!(call_ok(ev("%record?"), &[fx(5), rtd.get()]), Value::FALSE);
        assert_eq!(
            call_ok(
                ev("%record-ref"),
                &[p.get(), rtd.get(), fx(1), sym("point-y")]
            ),
            fx(2)
        );
        assert_eq!(
            call_err(
                ev("%record-ref"),
                &[fx(5), rtd.get(), fx(0), sym("point-x")]
            ),
            "point-x: expected a point: 5"
        );
        let new = s.root(st("new"));
        call_ok(
            ev("%record-set!"),
            &[p.get(), rtd.get(), fx(0), new.get(), sym("set-point-x!")],
        );
        assert_eq!(w(p.get()), "#<point \"new\" 2>");
        assert_eq!(
            call_err(
                ev("%record-set!"),
                &[fx(1), rtd.get(), fx(0), fx(0), sym("set-point-x!")]
            ),
            "set-point-x!: expected a point: 1"
        );
        // A record of another type with the same shape is rejected.
        let other = s.root(ev("(%make-record-type 'employee '(x y))"));
        let e = s.root(call_ok(ev("%record"), &[other.get(), fx(1), fx(2)]));
        assert_eq!(
            call_err(
                ev("%record-ref"),
                &[e.get(), rtd.get(), fx(0), sym("point-x")]
            ),
            "point-x: expected a point: #<employee 1 2>"
        );
        assert_eq!(
            call_err(
                ev("%record-ref"),
                &[p.get(), other.get(), fx(0), sym("employee-x")]
            ),
            "employee-x: expected an employee: #<point \"new\" 2>"
        );
        assert_eq!(
            call_err(ev("%record"), &[rtd.get(), fx(1)]),
            "point: wrong number of field values (expected 2, got 1)"
        );
        with_stress(|| {
            let x = s.root(fl(1.5));
            let y = s.root(st("s"));
            let p2 = call_ok(ev("%record"), &[rtd.get(), x.get(), y.get()]);
            assert_eq!(w(p2), "#<point 1.5 \"s\">");
        });
        check_errs(&[(
            "(%make-record-type 'p '(x 1))",
            "%make-record-type: expected a field name symbol: 1",
        )]);
    }
}
