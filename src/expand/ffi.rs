//! Typed foreign procedures (docs/ffi.md, "Typed foreign procedures"):
//!
//! * `(c-function lib sym (arg-type ...) ret-type)` is
//!   `(%make-c-function lib sym '(arg-type ...) 'ret-type)`; the compiled
//!   engines turn a call with literal operands into a procedure that calls
//!   the C function directly (`src/lower/ffi.rs`);
//! * `(define-c-function name lib sym (arg-type ...) ret-type)` is
//!   `(define name (c-function lib sym (arg-type ...) ret-type))`.

use super::forms::proper;
use super::{call_global, constant, err, Expander, Res};
use crate::ast::Expr;
use crate::syntax::datum::{Datum, DatumKind};

const C_FUNCTION: &str =
    "c-function: expected (c-function library symbol (argument-type ...) result-type)";
const DEFINE_C_FUNCTION: &str =
    "define-c-function: expected (define-c-function name library symbol (argument-type ...) result-type)";

impl Expander {
    pub(super) fn c_function(&mut self, d: &Datum) -> Res<Expr> {
        let span = d.span;
        let items = proper(d, C_FUNCTION)?;
        if items.len() != 5 || items[3].list().is_none() {
            return Err(err(span, C_FUNCTION));
        }
        let lib = self.expr(&items[1])?;
        let sym = self.expr(&items[2])?;
        Ok(call_global(
            "%make-c-function",
            vec![
                lib,
                sym,
                constant(items[3].clone()),
                constant(items[4].clone()),
            ],
            span,
        ))
    }
}

/// `(define-c-function name . rest)` as `(define name (c-function . rest))`.
pub(super) fn define_c_function(d: &Datum) -> Res<Datum> {
    let span = d.span;
    let items = proper(d, DEFINE_C_FUNCTION)?;
    if items.len() != 6 || items[1].sym().is_none() {
        return Err(err(span, DEFINE_C_FUNCTION));
    }
    let sym = |s: &str| Datum::new(DatumKind::Symbol(s.into()), span);
    let mut call = vec![sym("c-function")];
    call.extend(items[2..].iter().cloned());
    Ok(Datum::new(
        DatumKind::List(
            vec![
                sym("define"),
                items[1].clone(),
                Datum::new(DatumKind::List(call, None), span),
            ],
            None,
        ),
        span,
    ))
}
