//! `define-record-type` (R7RS): one definition per part, each calling the
//! runtime's record primitives.

use super::forms::proper;
use super::{
    base_name, call_global, constant, err, lambda_expr, local, write_datum, Expander, Res,
};
use crate::ast::{Expr, ExprKind};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;

const SYNTAX: &str = "define-record-type: expected (define-record-type name (constructor field ...) predicate (field accessor [modifier]) ...)";

pub(crate) struct Field {
    name: String,
    accessor: Option<String>,
    modifier: Option<String>,
}

pub(crate) struct RecordSpec {
    /// The type name as written (may be a macro alias).
    type_name: String,
    type_span: Span,
    /// Constructor name and, in argument order, the index of each field it
    /// takes.
    ctor: Option<(String, Vec<usize>)>,
    pred: Option<String>,
    fields: Vec<Field>,
}

/// One definition made by `define-record-type`.
pub(crate) enum RecordPart {
    Type,
    Ctor,
    Pred,
    Accessor(usize),
    Modifier(usize),
}

fn ident(d: &Datum, what: &str) -> Res<String> {
    d.sym().map(str::to_string).ok_or_else(|| {
        err(
            d.span,
            format!(
                "define-record-type: {what} must be an identifier, got {}",
                write_datum(d)
            ),
        )
    })
}

fn is_false(d: &Datum) -> bool {
    matches!(d.kind, DatumKind::Bool(false))
}

pub(crate) fn parse(d: &Datum) -> Res<RecordSpec> {
    let items = proper(d, SYNTAX)?;
    // The constructor and predicate may be #f but not left out.
    if items.len() < 4 {
        return Err(err(d.span, SYNTAX));
    }
    let type_name = ident(&items[1], "the type name")?;
    let mut fields: Vec<Field> = Vec::new();
    for f in items.iter().skip(4) {
        let (name, accessor, modifier) = match &f.kind {
            DatumKind::Symbol(s) => (s.clone(), None, None),
            DatumKind::List(parts, None) if (1..=3).contains(&parts.len()) => (
                ident(&parts[0], "a field name")?,
                parts.get(1).map(|a| ident(a, "an accessor")).transpose()?,
                parts.get(2).map(|m| ident(m, "a modifier")).transpose()?,
            ),
            _ => {
                return Err(err(
                    f.span,
                    format!(
                    "define-record-type: bad field spec {}: expected (field accessor [modifier])",
                    write_datum(f)
                ),
                ))
            }
        };
        if fields.iter().any(|g| g.name == name) {
            return Err(err(
                f.span,
                format!("define-record-type: duplicate field {}", base_name(&name)),
            ));
        }
        fields.push(Field {
            name,
            accessor,
            modifier,
        });
    }
    let ctor = match items.get(2) {
        None => None,
        Some(c) if is_false(c) => None,
        Some(c) => match &c.kind {
            // A bare name: a constructor taking every field.
            DatumKind::Symbol(s) => Some((s.clone(), (0..fields.len()).collect())),
            DatumKind::List(parts, None) if !parts.is_empty() => {
                let name = ident(&parts[0], "the constructor name")?;
                let mut indexes = Vec::new();
                for p in &parts[1..] {
                    let f = ident(p, "a constructor argument")?;
                    let Some(i) = fields.iter().position(|g| g.name == f) else {
                        return Err(err(
                            p.span,
                            format!(
                                "define-record-type: constructor argument {} is not a field",
                                base_name(&f)
                            ),
                        ));
                    };
                    if indexes.contains(&i) {
                        return Err(err(
                            p.span,
                            format!(
                                "define-record-type: duplicate constructor argument {}",
                                base_name(&f)
                            ),
                        ));
                    }
                    indexes.push(i);
                }
                Some((name, indexes))
            }
            _ => return Err(err(c.span, SYNTAX)),
        },
    };
    let pred = match items.get(3) {
        None => None,
        Some(p) if is_false(p) => None,
        Some(p) => Some(ident(p, "the predicate name")?),
    };
    Ok(RecordSpec {
        type_name,
        type_span: items[1].span,
        ctor,
        pred,
        fields,
    })
}

impl RecordSpec {
    /// The names defined, in order, with what each is.
    pub(crate) fn parts(&self) -> Vec<(String, RecordPart)> {
        let mut out = vec![(self.type_name.clone(), RecordPart::Type)];
        if let Some((c, _)) = &self.ctor {
            out.push((c.clone(), RecordPart::Ctor));
        }
        if let Some(p) = &self.pred {
            out.push((p.clone(), RecordPart::Pred));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if let Some(a) = &f.accessor {
                out.push((a.clone(), RecordPart::Accessor(i)));
            }
            if let Some(m) = &f.modifier {
                out.push((m.clone(), RecordPart::Modifier(i)));
            }
        }
        out
    }
}

fn sym_const(name: &str, span: Span) -> Expr {
    constant(Datum::new(
        DatumKind::Symbol(base_name(name).to_string()),
        span,
    ))
}

fn int_const(i: usize, span: Span) -> Expr {
    constant(Datum::new(DatumKind::Int(i as i64), span))
}

impl Expander {
    /// The value of one record definition. Procedures capture the type
    /// descriptor in a `let` when they are created, so redefining the type
    /// name later does not break them.
    pub(crate) fn record_part(&mut self, spec: &RecordSpec, part: &RecordPart, span: Span) -> Expr {
        if let RecordPart::Type = part {
            return type_expr(spec, span);
        }
        let rtd_ref = match self.resolve(&spec.type_name) {
            super::Meaning::Local(id) => local(id, spec.type_span),
            // The type's global cell (renamed in a library: docs/libraries.md).
            super::Meaning::Global(g) => Expr::new(ExprKind::Global(g), spec.type_span),
            _ => Expr::new(
                ExprKind::Global(base_name(&spec.type_name).to_string()),
                spec.type_span,
            ),
        };
        let rtd = self.fresh_local("rtd");
        let lambda = match part {
            RecordPart::Type => return type_expr(spec, span),
            RecordPart::Ctor => {
                let (name, indexes) = spec
                    .ctor
                    .as_ref()
                    .map(|(n, i)| (n.as_str(), i.as_slice()))
                    .unwrap_or(("", &[]));
                let params: Vec<_> = indexes
                    .iter()
                    .map(|&i| self.fresh_local(&spec.fields[i].name))
                    .collect();
                let mut args = vec![local(rtd, span)];
                for i in 0..spec.fields.len() {
                    args.push(match indexes.iter().position(|&j| j == i) {
                        Some(k) => local(params[k], span),
                        None => constant(Datum::new(DatumKind::Bool(false), span)),
                    });
                }
                let body = call_global("%record", args, span);
                lambda_expr(Some(base_name(name).to_string()), params, None, body, span)
            }
            RecordPart::Pred => {
                let obj = self.fresh_local("obj");
                let body = call_global("%record?", vec![local(obj, span), local(rtd, span)], span);
                let name = spec.pred.as_deref().unwrap_or_default();
                lambda_expr(
                    Some(base_name(name).to_string()),
                    vec![obj],
                    None,
                    body,
                    span,
                )
            }
            RecordPart::Accessor(i) => {
                let name = spec.fields[*i].accessor.as_deref().unwrap_or_default();
                let obj = self.fresh_local("obj");
                let body = call_global(
                    "%record-ref",
                    vec![
                        local(obj, span),
                        local(rtd, span),
                        int_const(*i, span),
                        sym_const(name, span),
                    ],
                    span,
                );
                lambda_expr(
                    Some(base_name(name).to_string()),
                    vec![obj],
                    None,
                    body,
                    span,
                )
            }
            RecordPart::Modifier(i) => {
                let name = spec.fields[*i].modifier.as_deref().unwrap_or_default();
                let obj = self.fresh_local("obj");
                let value = self.fresh_local("value");
                let body = call_global(
                    "%record-set!",
                    vec![
                        local(obj, span),
                        local(rtd, span),
                        int_const(*i, span),
                        local(value, span),
                        sym_const(name, span),
                    ],
                    span,
                );
                lambda_expr(
                    Some(base_name(name).to_string()),
                    vec![obj, value],
                    None,
                    body,
                    span,
                )
            }
        };
        Expr::new(ExprKind::Let(vec![(rtd, rtd_ref)], Box::new(lambda)), span)
    }
}

/// `(%make-record-type 'name '(field ...))`.
fn type_expr(spec: &RecordSpec, span: Span) -> Expr {
    let fields = spec
        .fields
        .iter()
        .map(|f| Datum::new(DatumKind::Symbol(base_name(&f.name).to_string()), span))
        .collect();
    let field_list = constant(Datum::new(DatumKind::List(fields, None), span));
    call_global(
        "%make-record-type",
        vec![sym_const(&spec.type_name, span), field_list],
        span,
    )
}
