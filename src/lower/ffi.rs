//! Typed foreign procedures in the compiled engines (docs/ffi.md, "Typed
//! foreign procedures"; docs/lowering.md).
//!
//! The expander turns `(c-function lib sym (arg-type ...) ret-type)` into
//! `(%make-c-function lib sym '(arg-type ...) 'ret-type)`, which the
//! interpreter runs (a procedure calling through libffi). Before lowering,
//! a call with literal operands and a signature the backend supports
//! becomes `(lambda (p ...) (%ffi-call lib sym '(arg-type ...) 'ret-type p ...))`,
//! and `%ffi-call` lowers to the VIR opcode `ffi_call`: a direct native
//! call. Anything else (a computed library, a variadic signature, an
//! unknown type) stays a call of `%make-c-function`, which raises or
//! builds the libffi procedure at the same moment in every engine.

use crate::ast::{Expr, ExprKind, Lambda, LocalId, LocalInfo, TopLevel};
use crate::syntax::datum::{Datum, DatumKind};
use valk_runtime::ffi::CType;
use valk_vir::{FfiTy, Foreign};

const MAKE: &str = "%make-c-function";
/// The callee the rewritten bodies call; only this module produces it.
pub(crate) const CALL: &str = "%ffi-call";

fn ffi_ty(d: &Datum) -> Option<FfiTy> {
    let DatumKind::Symbol(name) = &d.kind else {
        return None;
    };
    FfiTy::from_name(CType::from_name(name)?.name())
}

/// The foreign function that the four literal operands of a
/// `%make-c-function` (or the first four of a `%ffi-call`) describe, when
/// the backend calls it directly.
pub(crate) fn foreign_of(ops: &[Expr]) -> Option<Foreign> {
    let [lib, sym, args, ret, ..] = ops else {
        return None;
    };
    let konst = |e: &Expr| match &e.kind {
        ExprKind::Const(d) => Some(d.clone()),
        _ => None,
    };
    let lib = match konst(lib)?.kind {
        DatumKind::Str(s) => Some(s),
        DatumKind::Bool(false) => None,
        _ => return None,
    };
    let DatumKind::Str(sym) = konst(sym)?.kind else {
        return None;
    };
    let DatumKind::List(items, None) = konst(args)?.kind else {
        return None;
    };
    let args = items.iter().map(ffi_ty).collect::<Option<Vec<_>>>()?;
    let ret = ffi_ty(&konst(ret)?)?;
    if args.contains(&FfiTy::Void) || ret == FfiTy::Bytevector || sym.contains('\0') {
        return None;
    }
    Some(Foreign {
        lib,
        sym,
        args,
        ret,
    })
}

fn is_make_call(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Call(f, args) => {
            matches!(&f.kind, ExprKind::Global(g) if g == MAKE)
                && args.len() == 4
                && foreign_of(args).is_some()
        }
        _ => false,
    }
}

fn has_make_call(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if is_make_call(e) {
            return true;
        }
        super::push_children(e, &mut stack);
    }
    false
}

/// The top-level forms with every direct-callable `%make-c-function`
/// replaced by its lambda; `None` when there is none.
pub(crate) fn rewrite(tops: &[TopLevel]) -> Option<Vec<TopLevel>> {
    if !tops.iter().any(|t| has_make_call(&t.body)) {
        return None;
    }
    Some(
        tops.iter()
            .map(|t| {
                if !has_make_call(&t.body) {
                    return t.clone();
                }
                let mut t = t.clone();
                rewrite_expr(&mut t.body, &mut t.locals);
                t
            })
            .collect(),
    )
}

fn rewrite_expr(e: &mut Expr, locals: &mut Vec<LocalInfo>) {
    if is_make_call(e) {
        let ExprKind::Call(_, ops) = &mut e.kind else {
            return;
        };
        let Some(ff) = foreign_of(ops) else {
            return;
        };
        let span = e.span;
        let mut params = Vec::new();
        let mut call_args = std::mem::take(ops);
        for i in 0..ff.args.len() {
            let id = LocalId(locals.len() as u32);
            locals.push(LocalInfo {
                name: format!("%c-arg{i}"),
                assigned: false,
            });
            params.push(id);
            call_args.push(Expr::new(ExprKind::Local(id), span));
        }
        let callee = Expr::new(ExprKind::Global(CALL.to_string()), span);
        let body = Expr::new(ExprKind::Call(Box::new(callee), call_args), span);
        let lam = Lambda {
            name: Some(ff.sym.clone()),
            params,
            rest: None,
            body,
            span,
        };
        e.kind = ExprKind::Lambda(Box::new(lam));
        return;
    }
    super::for_each_child_mut(e, |x| rewrite_expr(x, locals));
}
