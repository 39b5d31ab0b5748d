//! Bodies (of `lambda`, `let`, ...): internal definitions become one
//! `Letrec` with `letrec*` semantics around the expressions.

use super::forms::{call_with_values, check_params, parse_formals, proper};
use super::records::{self, RecordPart, RecordSpec};
use super::{
    base_name, call_global, constant, err, lambda_expr, local, seq, Expander, Meaning, Res,
};
use crate::ast::{Expr, ExprKind, LocalId};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::rc::Rc;

pub(crate) const DEFINE_VALUES_SYNTAX: &str =
    "define-values: expected (define-values formals expr)";

/// The parts of a `define` (or `fun`) form.
pub(crate) enum DefineShape<'d> {
    Var {
        name: &'d Datum,
        value: Option<&'d Datum>,
    },
    Proc {
        name: &'d Datum,
        params: &'d [Datum],
        rest: Option<&'d Datum>,
        body: &'d [Datum],
    },
}

impl DefineShape<'_> {
    pub(crate) fn name_str(&self) -> &str {
        let (DefineShape::Var { name, .. } | DefineShape::Proc { name, .. }) = self;
        name.sym().unwrap_or_default()
    }
}

/// Parses `(define name [expr])`, `(define (name . formals) body ...)` or
/// `(fun name formals body ...)`.
pub(crate) fn parse_define<'d>(d: &'d Datum, kw: &str) -> Res<DefineShape<'d>> {
    if kw == "fun" {
        const SYNTAX: &str = "fun: expected (fun name (param ...) body ...)";
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 || items[1].sym().is_none() {
            return Err(err(d.span, SYNTAX));
        }
        let (params, rest) = parse_formals(&items[2], "fun")?;
        return Ok(DefineShape::Proc {
            name: &items[1],
            params,
            rest,
            body: &items[3..],
        });
    }
    const SYNTAX: &str =
        "define: expected (define name expr) or (define (name param ...) body ...)";
    let items = proper(d, SYNTAX)?;
    match items {
        [_, name] if name.sym().is_some() => Ok(DefineShape::Var { name, value: None }),
        [_, name, value] if name.sym().is_some() => Ok(DefineShape::Var {
            name,
            value: Some(value),
        }),
        [_, head, body @ ..] => match &head.kind {
            DatumKind::List(h, tail) if !h.is_empty() => {
                if h[0].list().is_some() || matches!(h[0].kind, DatumKind::List(..)) {
                    return Err(err(
                        head.span,
                        "define: curried define (define ((f a) b) ...) is not supported",
                    ));
                }
                if h[0].sym().is_none() {
                    return Err(err(h[0].span, "define: the name must be an identifier"));
                }
                let rest = tail.as_deref();
                check_params(&h[1..], rest, "define")?;
                Ok(DefineShape::Proc {
                    name: &h[0],
                    params: &h[1..],
                    rest,
                    body,
                })
            }
            _ => Err(err(d.span, SYNTAX)),
        },
        _ => Err(err(d.span, SYNTAX)),
    }
}

/// One classified form of a body.
enum Item<'a> {
    Define {
        form: Cow<'a, Datum>,
        kw: &'static str,
        id: LocalId,
    },
    Values {
        form: Cow<'a, Datum>,
        ids: Vec<LocalId>,
        tmp: LocalId,
    },
    Record {
        spec: Rc<RecordSpec>,
        part: RecordPart,
        id: LocalId,
        span: Span,
    },
    Expr(Cow<'a, Datum>),
}

impl Expander {
    /// The value of a `define` form (a lambda for the procedure shorthand).
    pub(crate) fn define_value(&mut self, def: &DefineShape<'_>, span: Span) -> Res<Expr> {
        match def {
            DefineShape::Var { name, value } => match value {
                Some(v) => self.expr_named(v, name.sym().unwrap_or_default()),
                None => Ok(Expr::new(ExprKind::Void, span)),
            },
            DefineShape::Proc {
                name,
                params,
                rest,
                body,
            } => {
                let name = base_name(name.sym().unwrap_or_default()).to_string();
                self.lambda_form(Some(name), params, *rest, body, span)
            }
        }
    }

    /// Expands a body in a new scope. Definitions first (possibly produced
    /// by macros or inside `begin`), then expressions; definitions and
    /// expressions may also be interleaved: the whole body is then one
    /// `letrec*` whose bindings run in order, expressions before the last
    /// definition being bound to unused temporaries.
    pub(crate) fn body(&mut self, forms: &[Datum], span: Span) -> Res<Expr> {
        self.push_frame();
        let r = self.body_inner(forms, span);
        self.pop_frame();
        r
    }

    /// Pass 2: expands the classified forms in the scope of every
    /// definition. Kept apart from the scan so that the frames recursion
    /// goes through stay small.
    fn body_inner(&mut self, forms: &[Datum], span: Span) -> Res<Expr> {
        let (items, split) = self.scan_body(forms, span)?;
        let mut bindings: Vec<(LocalId, Expr)> = Vec::new();
        let mut tail = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Item::Define { form, kw, id } => {
                    let def = parse_define(&form, kw)?;
                    bindings.push((id, self.define_value(&def, form.span)?));
                }
                Item::Values { form, ids, tmp } => {
                    self.body_define_values(&form, ids, tmp, &mut bindings)?;
                }
                Item::Record {
                    spec,
                    part,
                    id,
                    span,
                } => bindings.push((id, self.record_part(&spec, &part, span))),
                Item::Expr(form) => {
                    let e = self.expr(&form)?;
                    if i < split {
                        let dummy = self.fresh_local("_");
                        bindings.push((dummy, e));
                    } else {
                        tail.push(e);
                    }
                }
            }
        }
        let tail = seq(tail, span);
        if bindings.is_empty() {
            return Ok(tail);
        }
        Ok(Expr::new(ExprKind::Letrec(bindings, Box::new(tail)), span))
    }

    /// Pass 1: expands macro uses at the head of body forms, splices
    /// `begin`s, binds every defined name and classifies the forms. Also
    /// returns the index of the first form after the last definition.
    #[inline(never)]
    fn scan_body<'a>(&mut self, forms: &'a [Datum], span: Span) -> Res<(Vec<Item<'a>>, usize)> {
        let mut queue: VecDeque<Cow<'_, Datum>> = forms.iter().map(Cow::Borrowed).collect();
        let mut items: Vec<Item<'_>> = Vec::new();
        while let Some(form) = queue.pop_front() {
            let kw = match self.head_meaning(&form) {
                Some(Meaning::Macro(m)) => {
                    let out = self.expand_macro(&m, &form)?;
                    queue.push_front(Cow::Owned(out));
                    continue;
                }
                Some(Meaning::Special(kw)) => kw,
                _ => {
                    items.push(Item::Expr(form));
                    continue;
                }
            };
            // `include` and `cond-expand` stand for a `begin` spliced here.
            if let Some(next) = self.rewrite_form(kw, &form) {
                queue.push_front(Cow::Owned(next?));
                continue;
            }
            match kw {
                "begin" => {
                    proper(&form, "begin: expected (begin form ...)")?;
                    match form {
                        Cow::Borrowed(f) => {
                            let sub = f.list().unwrap_or_default();
                            for x in sub[1..].iter().rev() {
                                queue.push_front(Cow::Borrowed(x));
                            }
                        }
                        Cow::Owned(f) => {
                            if let DatumKind::List(sub, None) = f.kind {
                                for x in sub.into_iter().skip(1).rev() {
                                    queue.push_front(Cow::Owned(x));
                                }
                            }
                        }
                    }
                }
                "define" | "fun" => {
                    let def = parse_define(&form, kw)?;
                    let name = def.name_str().to_string();
                    let name_span = match &def {
                        DefineShape::Var { name, .. } | DefineShape::Proc { name, .. } => name.span,
                    };
                    let id = self.define_local(&name, name_span)?;
                    items.push(Item::Define { form, kw, id });
                }
                "define-values" => {
                    let list = proper(&form, DEFINE_VALUES_SYNTAX)?;
                    if list.len() != 3 {
                        return Err(err(form.span, DEFINE_VALUES_SYNTAX));
                    }
                    let (params, rest) = parse_formals(&list[1], "define-values")?;
                    let mut ids = Vec::new();
                    for p in params.iter().chain(rest) {
                        ids.push(self.define_local(p.sym().unwrap_or_default(), p.span)?);
                    }
                    let tmp = self.fresh_local("vals");
                    items.push(Item::Values { form, ids, tmp });
                }
                "define-record-type" => {
                    let spec = Rc::new(records::parse(&form)?);
                    for (name, part) in spec.parts() {
                        let id = self.define_local(&name, form.span)?;
                        items.push(Item::Record {
                            spec: spec.clone(),
                            part,
                            id,
                            span: form.span,
                        });
                    }
                }
                "define-syntax" => {
                    let (name, m) = self.parse_define_syntax(&form)?;
                    if self.bound_in_frame(&name) {
                        return Err(err(
                            form.span,
                            format!("duplicate definition of {}", base_name(&name)),
                        ));
                    }
                    self.bind_macro(&name, m);
                }
                _ => items.push(Item::Expr(form)),
            }
        }
        let n_exprs = items.iter().filter(|i| matches!(i, Item::Expr(_))).count();
        if n_exprs == 0 {
            return Err(err(span, "body has no expression"));
        }
        let split = match items.iter().rposition(|i| !matches!(i, Item::Expr(_))) {
            Some(k) if k + 1 == items.len() => {
                return Err(err(
                    span,
                    "body must end with an expression, not a definition",
                ))
            }
            Some(k) => k + 1,
            None => 0,
        };
        Ok((items, split))
    }

    /// Binds an internal definition's name in the body's frame.
    fn define_local(&mut self, name: &str, span: Span) -> Res<LocalId> {
        if self.bound_in_frame(name) {
            return Err(err(
                span,
                format!("duplicate definition of {}", base_name(name)),
            ));
        }
        Ok(self.bind_local(name))
    }

    /// Internal `(define-values (a b . c) expr)`: a temporary holds a vector
    /// of the values, then each variable takes its slot.
    fn body_define_values(
        &mut self,
        form: &Datum,
        ids: Vec<LocalId>,
        tmp: LocalId,
        bindings: &mut Vec<(LocalId, Expr)>,
    ) -> Res<()> {
        let span = form.span;
        let list = proper(form, DEFINE_VALUES_SYNTAX)?;
        let (params, rest) = parse_formals(&list[1], "define-values")?;
        let producer = self.expr(&list[2])?;
        let temps: Vec<LocalId> = params
            .iter()
            .chain(rest)
            .map(|p| self.fresh_local(p.sym().unwrap_or_default()))
            .collect();
        let pack = call_global(
            "vector",
            temps.iter().map(|t| local(*t, span)).collect(),
            span,
        );
        let n = params.len();
        let consumer = lambda_expr(None, temps[..n].to_vec(), temps.get(n).copied(), pack, span);
        bindings.push((tmp, call_with_values(producer, consumer, span)));
        for (i, id) in ids.into_iter().enumerate() {
            let index = constant(Datum::new(DatumKind::Int(i as i64), span));
            bindings.push((
                id,
                call_global("vector-ref", vec![local(tmp, span), index], span),
            ));
        }
        Ok(())
    }
}
