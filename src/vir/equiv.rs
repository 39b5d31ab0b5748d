//! Structural equality of modules and functions: same shape up to the
//! numbering of values, instructions and blocks and up to debug names.
//! `parse(print(m))` is equivalent to `m`.

use crate::entity::{Block, Value};
use crate::ir::{Function, Module};
use crate::ops::Op;
use std::collections::HashMap;

/// `Ok` if the modules are structurally equal, else the first difference.
pub fn module_equiv(a: &Module, b: &Module) -> Result<(), String> {
    if a.globals != b.globals {
        return Err("the global tables differ".into());
    }
    if a.consts.len() != b.consts.len() || a.consts.iter().zip(&b.consts).any(|(x, y)| !x.same(y)) {
        return Err("the constant tables differ".into());
    }
    if a.funcs.len() != b.funcs.len() {
        return Err(format!("{} functions vs {}", a.funcs.len(), b.funcs.len()));
    }
    for (fa, fb) in a.funcs.iter().zip(&b.funcs) {
        function_equiv_in(fa, fb, Some((a, b)))?;
    }
    Ok(())
}

/// `Ok` if the functions are structurally equal, else the first difference.
pub fn function_equiv(a: &Function, b: &Function) -> Result<(), String> {
    function_equiv_in(a, b, None)
}

/// Within modules, `call_runtime` compares builtins by name: the builtin
/// tables are not printed, so a parsed module numbers them by first use.
fn function_equiv_in(
    a: &Function,
    b: &Function,
    modules: Option<(&Module, &Module)>,
) -> Result<(), String> {
    let same_op = |x: &Op, y: &Op| match (x, y, modules) {
        (Op::CallRuntime(p), Op::CallRuntime(q), Some((ma, mb))) => {
            ma.builtins.get(p.index()) == mb.builtins.get(q.index())
        }
        _ => x == y,
    };
    let ctx = format!("function @{}", a.name);
    if a.name != b.name || a.sig != b.sig {
        return Err(format!("{ctx}: name or signature differs from @{}", b.name));
    }
    if a.layout.len() != b.layout.len() {
        return Err(format!(
            "{ctx}: {} blocks vs {}",
            a.layout.len(),
            b.layout.len()
        ));
    }
    let blocks: HashMap<Block, Block> = a
        .layout
        .iter()
        .copied()
        .zip(b.layout.iter().copied())
        .collect();
    // Definitions first (uses may precede definitions in layout order).
    let mut values: HashMap<Value, Value> = HashMap::new();
    for (&ba, &bb) in a.layout.iter().zip(&b.layout) {
        let (da, db) = (a.block(ba), b.block(bb));
        if da.params.len() != db.params.len() || da.insts.len() != db.insts.len() {
            return Err(format!("{ctx}: block {ba} differs in parameters or length"));
        }
        values.extend(da.params.iter().copied().zip(db.params.iter().copied()));
        for (&ia, &ib) in da.insts.iter().zip(&db.insts) {
            match (a.inst(ia).result, b.inst(ib).result) {
                (Some(x), Some(y)) => {
                    values.insert(x, y);
                }
                (None, None) => {}
                _ => return Err(format!("{ctx}: {ia} differs in having a result")),
            }
        }
    }
    let same_value = |x: &Value, y: &Value| values.get(x) == Some(y);
    for (&ba, &bb) in a.layout.iter().zip(&b.layout) {
        for (&ia, &ib) in a.block(ba).insts.iter().zip(&b.block(bb).insts) {
            let (x, y) = (a.inst(ia), b.inst(ib));
            let same = same_op(&x.op, &y.op)
                && x.loc == y.loc
                && x.args.len() == y.args.len()
                && x.args.iter().zip(&y.args).all(|(p, q)| same_value(p, q))
                && x.targets.len() == y.targets.len()
                && x.targets.iter().zip(&y.targets).all(|(s, t)| {
                    blocks.get(&s.block) == Some(&t.block)
                        && s.args.len() == t.args.len()
                        && s.args.iter().zip(&t.args).all(|(p, q)| same_value(p, q))
                });
            if !same {
                return Err(format!(
                    "{ctx}: {ia} in {ba} differs ({:?} vs {:?})",
                    x.op, y.op
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;

    #[test]
    fn detects_differences() {
        let a =
            parse_module("function @f(%x) arity 1 {\nentry:\n  %0 = cons %x, %x\n  ret %0\n}\n")
                .unwrap();
        let b =
            parse_module("function @f(%y) arity 1 {\nstart:\n  %r = cons %y, %y\n  ret %r\n}\n")
                .unwrap();
        assert_eq!(module_equiv(&a, &b), Ok(()));
        let c =
            parse_module("function @f(%x) arity 1 {\nentry:\n  %0 = cons %x, %x\n  ret %x\n}\n")
                .unwrap();
        assert!(module_equiv(&a, &c).is_err());
        let d =
            parse_module("function @f(%x) arity 1 {\nentry:\n  %0 = cons %x, %x !2\n  ret %0\n}\n")
                .unwrap();
        assert!(module_equiv(&a, &d).is_err());
    }
}
