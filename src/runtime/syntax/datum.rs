//! Datums: the reader's output. A Rust-side tree (not heap values) so that
//! every node keeps its source span for diagnostics; constants are turned
//! into heap values by each engine when it needs them, and by `read`
//! through [`super::to_value::datum_to_value`].

use super::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub kind: DatumKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DatumKind {
    /// An exact integer in fixnum range.
    Int(i64),
    Float(f64),
    /// Any other number (a bignum, an exact rational, a complex number),
    /// as its canonical external representation, which the runtime's
    /// number parser reads back exactly (docs/numbers.md).
    Number(String),
    Bool(bool),
    Char(char),
    Str(String),
    Symbol(String),
    /// A proper list `(a b c)` when `tail` is `None`, an improper one
    /// `(a b . c)` otherwise. `()` is `List(vec![], None)`.
    List(Vec<Datum>, Option<Box<Datum>>),
    Vector(Vec<Datum>),
    Bytevector(Vec<u8>),
    /// `#N=datum` (R7RS 2.4). Only [`super::reader::read_one`] returns
    /// labels; program source has them resolved before the expander.
    Labeled(u32, Box<Datum>),
    /// `#N#`: the datum labelled `N` in the same top-level datum (possibly
    /// one that encloses it, making a cycle).
    LabelRef(u32),
}

impl Datum {
    pub fn new(kind: DatumKind, span: Span) -> Datum {
        Datum { kind, span }
    }
    pub fn sym(&self) -> Option<&str> {
        match &self.kind {
            DatumKind::Symbol(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_sym(&self, name: &str) -> bool {
        self.sym() == Some(name)
    }
    /// The elements of a proper list.
    pub fn list(&self) -> Option<&[Datum]> {
        match &self.kind {
            DatumKind::List(items, None) => Some(items),
            _ => None,
        }
    }
    pub fn is_nil(&self) -> bool {
        matches!(&self.kind, DatumKind::List(items, None) if items.is_empty())
    }
}
