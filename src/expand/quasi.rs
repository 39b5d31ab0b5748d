//! `quasiquote`: constant parts stay constants; the rest is built with
//! `list`, `cons`, `append` and `list->vector`.

use super::{call_global, constant, err, strip_datum, Expander, Res};
use crate::ast::Expr;
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;

/// A quasiquoted part: a constant datum or code building the value.
enum Q {
    C(Datum),
    E(Expr),
}

impl Q {
    fn into_expr(self) -> Expr {
        match self {
            Q::C(d) => constant(d),
            Q::E(e) => e,
        }
    }
}

/// One element of a quasiquoted list or vector.
enum Seg {
    One(Q),
    Splice(Expr),
}

/// Longest run of elements consed directly onto a non-empty tail; longer
/// runs use `append` so the AST stays shallow.
const MAX_CONS_RUN: usize = 8;

fn nil(span: Span) -> Datum {
    Datum::new(DatumKind::List(Vec::new(), None), span)
}

impl Expander {
    pub(crate) fn quasiquote(&mut self, template: &Datum) -> Res<Expr> {
        Ok(self.qq(template, 1)?.into_expr())
    }

    fn qq(&mut self, d: &Datum, level: usize) -> Res<Q> {
        self.enter(d.span)?;
        let r = self.qq_inner(d, level);
        self.depth -= 1;
        r
    }

    /// The keyword (`unquote`, ...) heading a two-element list, if any.
    fn qq_keyword(&self, d: &Datum) -> Option<&'static str> {
        match d.list() {
            Some([head, _]) => ["unquote", "unquote-splicing", "quasiquote"]
                .into_iter()
                .find(|kw| self.is_keyword(head, kw)),
            _ => None,
        }
    }

    fn qq_inner(&mut self, d: &Datum, level: usize) -> Res<Q> {
        match &d.kind {
            DatumKind::List(items, tail) if !items.is_empty() => {
                if let Some(kw) = self.qq_keyword(d) {
                    let arg = &items[1];
                    return match kw {
                        "unquote" if level == 1 => Ok(Q::E(self.expr(arg)?)),
                        "unquote-splicing" if level == 1 => Err(err(
                            d.span,
                            "unquote-splicing: not in a list or vector context",
                        )),
                        "quasiquote" => {
                            let inner = self.qq(arg, level + 1)?;
                            Ok(wrap(kw, inner, d.span))
                        }
                        _ => {
                            let inner = self.qq(arg, level - 1)?;
                            Ok(wrap(kw, inner, d.span))
                        }
                    };
                }
                let mut segs = Vec::new();
                let mut tail_q = None;
                let mut i = 0;
                while i < items.len() {
                    let item = &items[i];
                    // `(a . ,b)` reads as `(a unquote b)`.
                    if i > 0 && i + 2 == items.len() && tail.is_none() {
                        if let Some(kw) = ["unquote", "unquote-splicing"]
                            .into_iter()
                            .find(|kw| self.is_keyword(item, kw))
                        {
                            let pair = Datum::new(
                                DatumKind::List(vec![item.clone(), items[i + 1].clone()], None),
                                item.span.to(items[i + 1].span),
                            );
                            if kw == "unquote-splicing" && level == 1 {
                                return Err(err(
                                    pair.span,
                                    "unquote-splicing: not allowed in the tail of a list",
                                ));
                            }
                            tail_q = Some(self.qq(&pair, level)?);
                            break;
                        }
                    }
                    if self.qq_keyword(item) == Some("unquote-splicing") && level == 1 {
                        let arg = item.list().map(|l| &l[1]).unwrap_or(item);
                        segs.push(Seg::Splice(self.expr(arg)?));
                    } else {
                        segs.push(Seg::One(self.qq(item, level)?));
                    }
                    i += 1;
                }
                if let Some(t) = tail {
                    tail_q = Some(self.qq(t, level)?);
                }
                Ok(build_list(segs, tail_q, d.span))
            }
            DatumKind::Vector(items) => {
                let mut segs = Vec::new();
                for item in items {
                    if self.qq_keyword(item) == Some("unquote-splicing") && level == 1 {
                        let arg = item.list().map(|l| &l[1]).unwrap_or(item);
                        segs.push(Seg::Splice(self.expr(arg)?));
                    } else {
                        segs.push(Seg::One(self.qq(item, level)?));
                    }
                }
                match build_list(segs, None, d.span) {
                    Q::C(list) => {
                        let elems = match list.kind {
                            DatumKind::List(elems, _) => elems,
                            _ => Vec::new(),
                        };
                        Ok(Q::C(Datum::new(DatumKind::Vector(elems), d.span)))
                    }
                    Q::E(e) => Ok(Q::E(call_global("list->vector", vec![e], d.span))),
                }
            }
            _ => Ok(Q::C(strip_datum(d))),
        }
    }
}

/// `(kw x)` around a quasiquoted part (nested levels keep the keyword).
fn wrap(kw: &str, inner: Q, span: Span) -> Q {
    let kw_datum = Datum::new(DatumKind::Symbol(kw.to_string()), span);
    match inner {
        Q::C(x) => Q::C(Datum::new(DatumKind::List(vec![kw_datum, x], None), span)),
        Q::E(e) => Q::E(call_global("list", vec![constant(kw_datum), e], span)),
    }
}

fn build_list(segs: Vec<Seg>, tail: Option<Q>, span: Span) -> Q {
    // A non-empty constant tail merged into the constant, or kept as code.
    let tail_is_nil = match &tail {
        None => true,
        Some(Q::C(t)) => t.is_nil(),
        Some(Q::E(_)) => false,
    };
    let all_const =
        segs.iter().all(|s| matches!(s, Seg::One(Q::C(_)))) && matches!(tail, None | Some(Q::C(_)));
    if all_const {
        let items: Vec<Datum> = segs
            .into_iter()
            .filter_map(|s| match s {
                Seg::One(Q::C(d)) => Some(d),
                _ => None,
            })
            .collect();
        let tail = match tail {
            Some(Q::C(t)) if !tail_is_nil => Some(t),
            _ => None,
        };
        return Q::C(super::make_list(items, tail, span));
    }
    // Parts to append, in order; runs of single elements become lists.
    let mut parts: Vec<Expr> = Vec::new();
    let mut run: Vec<Q> = Vec::new();
    for s in segs {
        match s {
            Seg::One(q) => run.push(q),
            Seg::Splice(e) => {
                if !run.is_empty() {
                    parts.push(list_of(std::mem::take(&mut run), span));
                }
                parts.push(e);
            }
        }
    }
    if tail_is_nil {
        if !run.is_empty() {
            parts.push(list_of(run, span));
        }
    } else {
        let tail = tail
            .map(Q::into_expr)
            .unwrap_or_else(|| constant(nil(span)));
        if run.len() <= MAX_CONS_RUN {
            let mut acc = tail;
            while let Some(q) = run.pop() {
                acc = call_global("cons", vec![q.into_expr(), acc], span);
            }
            parts.push(acc);
        } else {
            parts.push(list_of(run, span));
            parts.push(tail);
        }
    }
    if parts.len() == 1 {
        return Q::E(parts.pop().unwrap_or_else(|| constant(nil(span))));
    }
    Q::E(call_global("append", parts, span))
}

/// `(list a b c)`, or a constant when every element is constant.
fn list_of(run: Vec<Q>, span: Span) -> Expr {
    if run.iter().all(|q| matches!(q, Q::C(_))) {
        let items = run
            .into_iter()
            .filter_map(|q| match q {
                Q::C(d) => Some(d),
                Q::E(_) => None,
            })
            .collect();
        return constant(Datum::new(DatumKind::List(items, None), span));
    }
    call_global("list", run.into_iter().map(Q::into_expr).collect(), span)
}
