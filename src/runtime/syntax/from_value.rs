//! Heap values to datums: what `eval` hands the expander
//! (docs/libraries.md, "eval"). The inverse of [`super::to_value`].
//!
//! Only data can be code: numbers, booleans, characters, strings,
//! symbols, lists, vectors and bytevectors. Any other object (a procedure,
//! a record, a port...) inside the expression is an error, since a
//! [`Datum`] cannot hold it. Shared structure is copied; a cycle is an
//! error. The conversion reads the heap and never allocates on it, so
//! nothing moves while it runs.

use super::datum::{Datum, DatumKind};
use super::source::Span;
use crate::error::{self, ErrorKind, Raised};
use crate::object;
use crate::value::{ObjType, Value};
use std::collections::HashSet;

/// Deepest nesting accepted (the expander accepts less: its own limit
/// reports deeper code with a diagnostic).
const MAX_DEPTH: usize = 10_000;

/// The datum of `v`; every node gets `span`. `who` names the caller in
/// errors (`eval`).
pub fn value_to_datum(v: Value, span: Span, who: &str) -> Result<Datum, Raised> {
    let mut c = Converter {
        span,
        who,
        open: HashSet::new(),
    };
    c.convert(v, 0)
}

struct Converter<'a> {
    span: Span,
    who: &'a str,
    /// Addresses of the pairs and vectors being converted (a cycle
    /// returns to one of them).
    open: HashSet<u64>,
}

impl Converter<'_> {
    fn datum(&self, kind: DatumKind) -> Datum {
        Datum::new(kind, self.span)
    }

    fn not_code(&self, v: Value) -> Raised {
        if v.has_type(ObjType::Closure) {
            error::error(
                ErrorKind::Other,
                &format!("{}: cannot evaluate a procedure object as code", self.who),
                &[v],
            )
        } else {
            error::error(
                ErrorKind::Other,
                &format!("{}: cannot evaluate this object as code", self.who),
                &[v],
            )
        }
    }

    fn enter(&mut self, v: Value, depth: usize) -> Result<(), Raised> {
        if depth > MAX_DEPTH {
            return Err(error::error(
                ErrorKind::Other,
                &format!("{}: expression nested too deeply", self.who),
                &[],
            ));
        }
        if !self.open.insert(v.0) {
            return Err(error::error(
                ErrorKind::Other,
                &format!("{}: cannot evaluate circular structure", self.who),
                &[],
            ));
        }
        Ok(())
    }

    fn convert(&mut self, v: Value, depth: usize) -> Result<Datum, Raised> {
        if let Some(n) = v.fixnum_value() {
            return Ok(self.datum(DatumKind::Int(n)));
        }
        if v.is_bool() {
            return Ok(self.datum(DatumKind::Bool(v == Value::TRUE)));
        }
        if v.is_char() {
            return Ok(self.datum(DatumKind::Char(v.as_char())));
        }
        if v == Value::NIL {
            return Ok(self.datum(DatumKind::List(Vec::new(), None)));
        }
        let Some(ty) = v.obj_type() else {
            return Err(self.not_code(v));
        };
        let kind = match ty {
            ObjType::Flonum => DatumKind::Float(v.as_flonum()),
            ObjType::Bignum | ObjType::Rational | ObjType::Complex => {
                DatumKind::Number(crate::printer::write_string(v))
            }
            ObjType::String => DatumKind::Str(object::string_to_rust(v)),
            ObjType::Symbol => DatumKind::Symbol(object::symbol_name(v)),
            ObjType::Bytevector => DatumKind::Bytevector(object::bytevector_bytes_mut(v).to_vec()),
            ObjType::Vector => {
                self.enter(v, depth)?;
                let mut items = Vec::with_capacity(v.size());
                for i in 0..v.size() {
                    items.push(self.convert(v.field(i), depth + 1)?);
                }
                self.open.remove(&v.0);
                DatumKind::Vector(items)
            }
            ObjType::Pair => {
                let mut items = Vec::new();
                let mut entered = Vec::new();
                let mut p = v;
                while p.is_pair() {
                    self.enter(p, depth)?;
                    entered.push(p.0);
                    items.push(self.convert(p.car(), depth + 1)?);
                    p = p.cdr();
                }
                let tail = if p == Value::NIL {
                    None
                } else {
                    Some(Box::new(self.convert(p, depth + 1)?))
                };
                for e in entered {
                    self.open.remove(&e);
                }
                DatumKind::List(items, tail)
            }
            _ => return Err(self.not_code(v)),
        };
        Ok(self.datum(kind))
    }
}
