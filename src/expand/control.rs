//! Control forms that expand into calls of the prelude's control procedures
//! (docs/continuations.md): `guard`, `parameterize`, and the Valk forms
//! `reset` and `shift`.
//!
//! * `(guard (var clause ...) body ...)` is
//!   `(%guard (lambda () body ...) (lambda (var reraise) (cond clause ... (else (reraise)))))`
//!   where `reraise` is a name no program can write; the `else` clause is
//!   added only when the last clause is not one already.
//! * `(parameterize ((p v) ...) body ...)` is
//!   `(%parameterize (list p ...) (list v ...) (lambda () body ...))`.
//! * `(reset body ...)` is `(%reset (lambda () body ...))` and
//!   `(shift k body ...)` is `(%shift (lambda (k) body ...))`.

use super::forms::proper;
use super::{call_global, err, write_datum, Expander, Res};
use crate::ast::Expr;
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;

/// The re-raise procedure's parameter in a `guard` handler: a symbol with
/// a space cannot be written in a program, so no clause can capture it.
const RERAISE: &str = "guard reraise";

fn sym(name: &str, span: Span) -> Datum {
    Datum::new(DatumKind::Symbol(name.to_string()), span)
}

fn list(items: Vec<Datum>, span: Span) -> Datum {
    Datum::new(DatumKind::List(items, None), span)
}

impl Expander {
    /// A thunk `(lambda () body ...)` of the forms `body`.
    fn thunk(&mut self, body: &[Datum], span: Span) -> Res<Expr> {
        self.lambda_form(None, &[], None, body, span)
    }

    #[inline(never)]
    pub(super) fn guard(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "guard: expected (guard (variable clause ...) body ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 {
            return Err(err(span, SYNTAX));
        }
        let spec = proper(&items[1], SYNTAX)?;
        let Some((var, clauses)) = spec.split_first() else {
            return Err(err(items[1].span, SYNTAX));
        };
        if var.sym().is_none() {
            return Err(err(
                var.span,
                format!("guard: expected a variable name, got {}", write_datum(var)),
            ));
        }
        let body = self.thunk(&items[2..], span)?;
        let has_else = clauses.last().is_some_and(|c| {
            c.list()
                .and_then(|p| p.first())
                .is_some_and(|h| self.is_keyword(h, "else"))
        });
        let mut cond = vec![sym("cond", span)];
        cond.extend(clauses.iter().cloned());
        if !has_else {
            cond.push(list(
                vec![sym("else", span), list(vec![sym(RERAISE, span)], span)],
                span,
            ));
        }
        let params = [var.clone(), sym(RERAISE, span)];
        let handler = self.lambda_form(None, &params, None, &[list(cond, span)], span)?;
        Ok(call_global("%guard", vec![body, handler], span))
    }

    #[inline(never)]
    pub(super) fn parameterize(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str =
            "parameterize: expected (parameterize ((parameter value) ...) body ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 {
            return Err(err(span, SYNTAX));
        }
        let mut params = Vec::new();
        let mut values = Vec::new();
        for b in proper(&items[1], SYNTAX)? {
            match b.list() {
                Some([p, v]) => {
                    params.push(self.expr(p)?);
                    values.push(self.expr(v)?);
                }
                _ => {
                    return Err(err(
                        b.span,
                        format!(
                            "parameterize: bad binding {}: expected (parameter value)",
                            write_datum(b)
                        ),
                    ))
                }
            }
        }
        let body = self.thunk(&items[2..], span)?;
        Ok(call_global(
            "%parameterize",
            vec![
                call_global("list", params, span),
                call_global("list", values, span),
                body,
            ],
            span,
        ))
    }

    #[inline(never)]
    pub(super) fn reset(&mut self, d: &Datum) -> Res<Expr> {
        let span = d.span;
        let items = proper(d, "reset: expected (reset body ...)")?;
        if items.len() < 2 {
            return Err(err(span, "reset: expected (reset body ...)"));
        }
        let body = self.thunk(&items[1..], span)?;
        Ok(call_global("%reset", vec![body], span))
    }

    #[inline(never)]
    pub(super) fn shift(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "shift: expected (shift variable body ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 || items[1].sym().is_none() {
            return Err(err(span, SYNTAX));
        }
        let f = self.lambda_form(None, &items[1..2], None, &items[2..], span)?;
        Ok(call_global("%shift", vec![f], span))
    }
}
