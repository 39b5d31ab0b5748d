//! S-expression rendering of the core AST (golden tests, debugging) and of
//! datums (diagnostics).

use super::base_name;
use crate::ast::{Expr, ExprKind, Lambda, LocalId, LocalInfo, TopLevel};
use crate::syntax::datum::{Datum, DatumKind};
use std::fmt::Write;

/// Renders a top-level form, e.g.
/// `(define-global f (lambda f (x_0) (call (global g) x_0)))`.
/// Locals print as `name_id`.
pub fn print_toplevel(t: &TopLevel) -> String {
    print_expr(&t.body, &t.locals)
}

pub fn print_expr(e: &Expr, locals: &[LocalInfo]) -> String {
    let mut out = String::new();
    expr(&mut out, e, locals);
    out
}

fn local(out: &mut String, id: LocalId, locals: &[LocalInfo]) {
    let name = locals.get(id.0 as usize).map_or("?", |l| l.name.as_str());
    let _ = write!(out, "{}_{}", name, id.0);
}

fn bindings(out: &mut String, bs: &[(LocalId, Expr)], locals: &[LocalInfo]) {
    out.push('(');
    for (i, (id, e)) in bs.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push('(');
        local(out, *id, locals);
        out.push(' ');
        expr(out, e, locals);
        out.push(')');
    }
    out.push(')');
}

fn lambda(out: &mut String, l: &Lambda, locals: &[LocalInfo]) {
    out.push_str("(lambda ");
    if let Some(n) = &l.name {
        out.push_str(n);
        out.push(' ');
    }
    if l.params.is_empty() && l.rest.is_some() {
        local(out, l.rest.unwrap_or(LocalId(0)), locals);
    } else {
        out.push('(');
        for (i, p) in l.params.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            local(out, *p, locals);
        }
        if let Some(r) = l.rest {
            out.push_str(" . ");
            local(out, r, locals);
        }
        out.push(')');
    }
    out.push(' ');
    expr(out, &l.body, locals);
    out.push(')');
}

fn expr(out: &mut String, e: &Expr, locals: &[LocalInfo]) {
    match &e.kind {
        ExprKind::Const(d) => {
            out.push_str("(const ");
            write_to(out, d);
            out.push(')');
        }
        ExprKind::Void => out.push_str("(void)"),
        ExprKind::Local(id) => local(out, *id, locals),
        ExprKind::Global(n) => {
            let _ = write!(out, "(global {n})");
        }
        ExprKind::SetLocal(id, v) => {
            out.push_str("(set! ");
            local(out, *id, locals);
            out.push(' ');
            expr(out, v, locals);
            out.push(')');
        }
        ExprKind::SetGlobal(n, v) => {
            let _ = write!(out, "(set-global! {n} ");
            expr(out, v, locals);
            out.push(')');
        }
        ExprKind::DefineGlobal(n, v) => {
            let _ = write!(out, "(define-global {n} ");
            expr(out, v, locals);
            out.push(')');
        }
        ExprKind::If(c, t, f) => {
            out.push_str("(if ");
            expr(out, c, locals);
            out.push(' ');
            expr(out, t, locals);
            out.push(' ');
            expr(out, f, locals);
            out.push(')');
        }
        ExprKind::Lambda(l) => lambda(out, l, locals),
        ExprKind::Call(f, args) => {
            out.push_str("(call ");
            expr(out, f, locals);
            for a in args {
                out.push(' ');
                expr(out, a, locals);
            }
            out.push(')');
        }
        ExprKind::Seq(es) => {
            out.push_str("(seq");
            for x in es {
                out.push(' ');
                expr(out, x, locals);
            }
            out.push(')');
        }
        ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => {
            out.push_str(if matches!(e.kind, ExprKind::Let(..)) {
                "(let "
            } else {
                "(letrec "
            });
            bindings(out, bs, locals);
            out.push(' ');
            expr(out, body, locals);
            out.push(')');
        }
    }
}

/// The written form of a datum (`write` syntax; macro aliases shown by
/// their base names).
pub fn write_datum(d: &Datum) -> String {
    let mut out = String::new();
    write_to(&mut out, d);
    out
}

/// [`write_datum`] cut to a length fit for a diagnostic.
pub(crate) fn write_short(d: &Datum) -> String {
    const MAX: usize = 60;
    let s = write_datum(d);
    if s.chars().count() <= MAX {
        return s;
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut} ...")
}

fn write_to(out: &mut String, d: &Datum) {
    match &d.kind {
        DatumKind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DatumKind::Float(f) => out.push_str(&float(*f)),
        DatumKind::Number(text) => out.push_str(text),
        DatumKind::Bool(b) => out.push_str(if *b { "#t" } else { "#f" }),
        DatumKind::Char(c) => char_name(out, *c),
        DatumKind::Str(s) => string(out, s),
        DatumKind::Symbol(s) => symbol(out, base_name(s)),
        DatumKind::List(items, tail) => {
            if let ([head, x], None) = (items.as_slice(), tail) {
                let prefix = match head.sym().map(base_name) {
                    Some("quote") => Some("'"),
                    Some("quasiquote") => Some("`"),
                    Some("unquote") => Some(","),
                    Some("unquote-splicing") => Some(",@"),
                    _ => None,
                };
                if let Some(p) = prefix {
                    out.push_str(p);
                    write_to(out, x);
                    return;
                }
            }
            out.push('(');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_to(out, x);
            }
            if let Some(t) = tail {
                out.push_str(" . ");
                write_to(out, t);
            }
            out.push(')');
        }
        DatumKind::Vector(items) => {
            out.push_str("#(");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_to(out, x);
            }
            out.push(')');
        }
        DatumKind::Bytevector(bytes) => {
            out.push_str("#u8(");
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{b}");
            }
            out.push(')');
        }
        DatumKind::Labeled(n, x) => {
            let _ = write!(out, "#{n}=");
            write_to(out, x);
        }
        DatumKind::LabelRef(n) => {
            let _ = write!(out, "#{n}#");
        }
    }
}

fn float(f: f64) -> String {
    if f.is_nan() {
        return "+nan.0".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+inf.0" } else { "-inf.0" }.into();
    }
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn char_name(out: &mut String, c: char) {
    let name = match c {
        ' ' => "space",
        '\n' => "newline",
        '\t' => "tab",
        '\r' => "return",
        '\0' => "null",
        '\u{7}' => "alarm",
        '\u{8}' => "backspace",
        '\u{7f}' => "delete",
        '\u{1b}' => "escape",
        c if c.is_control() => {
            let _ = write!(out, "#\\x{:x}", c as u32);
            return;
        }
        c => {
            let _ = write!(out, "#\\{c}");
            return;
        }
    };
    let _ = write!(out, "#\\{name}");
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:x};", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn symbol(out: &mut String, s: &str) {
    let plain = !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()[]{}\"';`,|".contains(c))
        && !s.starts_with('#')
        && s.parse::<f64>().is_err()
        && s != ".";
    if plain {
        out.push_str(s);
        return;
    }
    out.push('|');
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:x};", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('|');
}
