//! Datum labels in program source (docs/ports.md, "read"): the compiler
//! sees trees only, so `read_all` replaces each reference by a copy of the
//! datum it labels. `read` keeps labels and builds real sharing instead
//! (`syntax::to_value`).

use super::{RResult, ReadError, MAX_DEPTH, MAX_LABEL_COPY_NODES};
use crate::syntax::datum::{Datum, DatumKind};
use std::collections::HashMap;

/// Replaces the datum labels of one datum of program source by copies of
/// the datums they label: the expander and the compilers see trees only.
/// A reference inside the datum it refers to (a cycle) is an error, as is a
/// copy that would nest deeper than [`MAX_DEPTH`] or grow too large.
pub fn resolve_labels(d: Datum) -> Result<Datum, ReadError> {
    let mut r = Resolver {
        done: HashMap::new(),
        copied: 0,
    };
    Ok(r.resolve(d, 0)?.0)
}

struct Resolver {
    /// Finished labels: the resolved datum, its height and node count.
    done: HashMap<u32, (Datum, usize, usize)>,
    copied: usize,
}

impl Resolver {
    /// The elements of a list or vector resolved, their greatest height
    /// and their node count plus one (the list or vector itself).
    fn resolve_items(
        &mut self,
        items: Vec<Datum>,
        depth: usize,
    ) -> RResult<(Vec<Datum>, usize, usize)> {
        let (mut height, mut size) = (0, 1);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let (x, h, s) = self.resolve(item, depth + 1)?;
            height = height.max(h);
            size += s;
            out.push(x);
        }
        Ok((out, height, size))
    }

    /// The resolved datum, its height (nesting of lists and vectors) and
    /// node count. Recursion follows the tree as read, at most
    /// [`MAX_DEPTH`] deep.
    fn resolve(&mut self, d: Datum, depth: usize) -> RResult<(Datum, usize, usize)> {
        let Datum { kind, span } = d;
        Ok(match kind {
            DatumKind::List(items, tail) => {
                let (mut out, mut height, mut size) = self.resolve_items(items, depth)?;
                let tail = match tail {
                    None => None,
                    Some(t) => {
                        let (x, h, s) = self.resolve(*t, depth + 1)?;
                        height = height.max(h);
                        size += s;
                        match x.kind {
                            // `(a . #0#)` with `#0=(b)` is `(a b)`.
                            DatumKind::List(more, rest) => {
                                out.extend(more);
                                rest
                            }
                            kind => Some(Box::new(Datum::new(kind, x.span))),
                        }
                    }
                };
                (
                    Datum::new(DatumKind::List(out, tail), span),
                    height + 1,
                    size,
                )
            }
            DatumKind::Vector(items) => {
                let (out, height, size) = self.resolve_items(items, depth)?;
                (Datum::new(DatumKind::Vector(out), span), height + 1, size)
            }
            DatumKind::Labeled(n, inner) => {
                let (x, h, s) = self.resolve(*inner, depth)?;
                self.done.insert(n, (x.clone(), h, s));
                (x, h, s)
            }
            DatumKind::LabelRef(n) => {
                let Some((x, h, s)) = self.done.get(&n) else {
                    return Err(ReadError::at(
                        span,
                        "circular datum labels are supported by `read`, not in program source",
                    ));
                };
                if depth + h > MAX_DEPTH {
                    return Err(ReadError::at(
                        span,
                        format!("too deeply nested (more than {MAX_DEPTH} levels)"),
                    ));
                }
                self.copied += s;
                if self.copied > MAX_LABEL_COPY_NODES {
                    return Err(ReadError::at(
                        span,
                        "datum labels expand to too large a datum",
                    ));
                }
                let mut copy = x.clone();
                copy.span = span;
                (copy, *h, *s)
            }
            kind => (Datum::new(kind, span), 0, 1),
        })
    }
}
