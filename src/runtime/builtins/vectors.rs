//! Vectors.

use super::{arg, fixed, index_arg, opt, range_args, var, Builtin};
use crate::error::{self, VResult};
use crate::gc::Scope;
use crate::object;
use crate::value::Value;

fn vector_arg(who: &str, v: Value) -> VResult<Value> {
    if v.is_vector() {
        Ok(v)
    } else {
        Err(error::wrong_type(who, "a vector", v))
    }
}

/// A valid index into vector `v` for `who`.
fn vector_index(who: &str, v: Value, k: Value) -> VResult<usize> {
    super::element_index_arg(who, k, v.size())
}

/// A new vector holding elements `start..end` of vector argument 0.
fn copy_range(args: &[Value], start: usize, end: usize) -> Value {
    let n = end - start;
    let out = object::make_vector(n, Value::FALSE);
    let src = arg(args, 0);
    for i in 0..n {
        out.set_field(i, src.field(start + i));
    }
    out
}

fn is_vector(args: &[Value]) -> VResult {
    Ok(Value::bool(args[0].is_vector()))
}
fn make_vector(args: &[Value]) -> VResult {
    let n = index_arg("make-vector", args[0])?;
    let fill = super::opt_arg(args, 1).unwrap_or(Value::fixnum(0));
    Ok(object::make_vector(n, fill))
}
fn vector(args: &[Value]) -> VResult {
    Ok(object::vector_from(args))
}
fn vector_length(args: &[Value]) -> VResult {
    Ok(Value::fixnum(
        vector_arg("vector-length", args[0])?.size() as i64
    ))
}
fn vector_ref(args: &[Value]) -> VResult {
    let v = vector_arg("vector-ref", args[0])?;
    Ok(v.field(vector_index("vector-ref", v, args[1])?))
}
fn vector_set(args: &[Value]) -> VResult {
    let v = vector_arg("vector-set!", args[0])?;
    let i = vector_index("vector-set!", v, args[1])?;
    v.set_field(i, args[2]);
    Ok(Value::UNSPECIFIED)
}
fn vector_to_list(args: &[Value]) -> VResult {
    let v = vector_arg("vector->list", args[0])?;
    let (start, end) = range_args("vector->list", args, 1, v.size())?;
    let items: Vec<Value> = (start..end).map(|i| v.field(i)).collect();
    // `list_from` roots the items before it allocates.
    Ok(object::list_from(&items))
}
fn vector_fill(args: &[Value]) -> VResult {
    let v = vector_arg("vector-fill!", args[0])?;
    let (start, end) = range_args("vector-fill!", args, 2, v.size())?;
    for i in start..end {
        v.set_field(i, args[1]);
    }
    Ok(Value::UNSPECIFIED)
}
fn vector_copy(args: &[Value]) -> VResult {
    let v = vector_arg("vector-copy", args[0])?;
    let (start, end) = range_args("vector-copy", args, 1, v.size())?;
    Ok(copy_range(args, start, end))
}
fn subvector(args: &[Value]) -> VResult {
    let v = vector_arg("subvector", args[0])?;
    let (start, end) = range_args("subvector", args, 1, v.size())?;
    Ok(copy_range(args, start, end))
}
/// `(vector-copy! to at from [start [end]])`.
fn vector_copy_to(args: &[Value]) -> VResult {
    let who = "vector-copy!";
    let to = vector_arg(who, args[0])?;
    let at = index_arg(who, args[1])?;
    let from = vector_arg(who, args[2])?;
    let (start, end) = range_args(who, args, 3, from.size())?;
    if at > to.size() || to.size() - at < end - start {
        return Err(error::out_of_range(who, args[1]));
    }
    // Copy out first: `to` and `from` may be the same vector.
    let items: Vec<Value> = (start..end).map(|i| from.field(i)).collect();
    for (k, &x) in items.iter().enumerate() {
        to.set_field(at + k, x);
    }
    Ok(Value::UNSPECIFIED)
}
fn vector_append(args: &[Value]) -> VResult {
    let mut total = 0;
    for &v in args {
        total += vector_arg("vector-append", v)?.size();
    }
    let s = Scope::new();
    let out = s.root(object::make_vector(total, Value::FALSE));
    let mut k = 0;
    for i in 0..args.len() {
        let v = arg(args, i);
        for j in 0..v.size() {
            out.get().set_field(k, v.field(j));
            k += 1;
        }
    }
    Ok(out.get())
}

pub(super) const BUILTINS: &[Builtin] = &[
    fixed("vector?", 1, is_vector),
    opt("make-vector", 1, 1, make_vector),
    var("vector", 0, vector),
    fixed("vector-length", 1, vector_length),
    fixed("vector-ref", 2, vector_ref),
    fixed("vector-set!", 3, vector_set),
    // A slot of an interpreter frame (a vector), for the compiled copy of
    // a closure whose free variable is assigned (docs/tiering.md,
    // "Closures over locals"). Compiled in line and never guarded: no
    // program calls them.
    fixed("%tier-frame-ref", 2, vector_ref),
    fixed("%tier-frame-set!", 3, vector_set),
    opt("vector->list", 1, 2, vector_to_list),
    opt("vector-fill!", 2, 2, vector_fill),
    opt("vector-copy", 1, 2, vector_copy),
    opt("vector-copy!", 3, 2, vector_copy_to),
    var("vector-append", 0, vector_append),
    fixed("subvector", 3, subvector),
];

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn vectors() {
        let _g = lock();
        check_all(&[
            ("(vector? #(1))", "#t"),
            ("(vector? '(1))", "#f"),
            ("(make-vector 3 'a)", "#(a a a)"),
            ("(make-vector 2)", "#(0 0)"),
            ("(vector 1 \"b\" #\\c)", "#(1 \"b\" #\\c)"),
            ("(vector)", "#()"),
            ("(vector-length #(1 2 3))", "3"),
            ("(vector-ref #(1 2 3) 1)", "2"),
            ("(vector->list #(1 2 3))", "(1 2 3)"),
            ("(vector->list #(1 2 3) 1)", "(2 3)"),
            ("(vector->list #(1 2 3) 1 2)", "(2)"),
            ("(vector-copy #(1 2 3))", "#(1 2 3)"),
            ("(vector-copy #(1 2 3) 2)", "#(3)"),
            ("(subvector #(1 2 3 4) 1 3)", "#(2 3)"),
            ("(vector-append #(1) #() #(2 3))", "#(1 2 3)"),
            ("(vector-append)", "#()"),
        ]);
        check_errs(&[
            ("(vector-ref #(1 2) 2)", "vector-ref: index out of range: 2"),
            (
                "(vector-ref #(1 2) 1.0)",
                "vector-ref: expected an integer: 1.0",
            ),
            (
                "(vector-ref #(1 2) -1)",
                "vector-ref: index out of range: -1",
            ),
            (
                "(vector-set! #(1 2) 'x 0)",
                "vector-set!: expected an integer: x",
            ),
            ("(vector-ref '(1) 0)", "vector-ref: expected a vector: (1)"),
            (
                "(vector-set! #(1) 1 0)",
                "vector-set!: index out of range: 1",
            ),
            (
                "(vector-copy #(1 2) 3)",
                "vector-copy: index out of range: 3",
            ),
            (
                "(vector-append #(1) 2)",
                "vector-append: expected a vector: 2",
            ),
            (
                "(make-vector -1)",
                "make-vector: expected a non-negative integer: -1",
            ),
        ]);
    }

    #[test]
    fn mutation() {
        let _g = lock();
        let s = crate::gc::Scope::new();
        let v = s.root(ev("(vector 1 2 3 4 5)"));
        sym("x");
        call_ok(ev("vector-set!"), &[v.get(), fx(0), sym("x")]);
        assert_eq!(w(v.get()), "#(x 2 3 4 5)");
        call_ok(ev("vector-fill!"), &[v.get(), fx(0), fx(3), fx(4)]);
        assert_eq!(w(v.get()), "#(x 2 3 0 5)");
        call_ok(ev("vector-copy!"), &[v.get(), fx(1), v.get(), fx(0), fx(3)]);
        assert_eq!(w(v.get()), "#(x x 2 3 5)");
        let src = s.root(ev("#(1 2)"));
        assert_eq!(
            call_err(ev("vector-copy!"), &[v.get(), fx(4), src.get()]),
            "vector-copy!: index out of range: 4"
        );
    }

    #[test]
    fn vectors_under_stress() {
        let _g = lock();
        with_stress(|| {
            check_all(&[
                (
                    "(vector-append (vector 1.5) (vector \"a\" 'b))",
                    "#(1.5 \"a\" b)",
                ),
                ("(vector-copy (vector 1.5 2.5 3.5) 1)", "#(2.5 3.5)"),
                ("(vector->list (make-vector 2 (list 1.5)))", "((1.5) (1.5))"),
            ]);
        });
    }
}
