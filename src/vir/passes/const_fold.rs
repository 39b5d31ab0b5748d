//! Constant folding.
//!
//! Input: any valid function. Output: the same function where
//! - fixnum arithmetic and comparisons on constant operands are replaced
//!   by their result constant (checked and overflow variants only when
//!   the exact result fits a fixnum, division only by a non-zero divisor);
//!   likewise flonum arithmetic/comparisons, `fx.to_fl`, `not`, `eq` on
//!   immediates (and `eq %x, %x`), `type_is`/`type_tag` of constants;
//! - `type_check` of a constant of the right type becomes a `copy`;
//! - `br_if` on a constant condition, or with two identical targets,
//!   becomes `br`; `switch` on a constant fixnum becomes `br`; `switch`
//!   cases that branch exactly like the default are dropped (no cases
//!   left: `br`).
//!
//! Folded instructions keep their result value (the opcode changes in
//! place), so no uses need rewriting. Blocks that lose their last
//! predecessor are left for unreachable-block elimination.

use crate::entity::Value;
use crate::ir::{fits_fixnum, Function, FxMode, Op, Ty};
use std::collections::HashMap;

/// A known constant value.
#[derive(Clone, Copy, PartialEq, Debug)]
enum K {
    Fix(i64),
    Flo(f64),
    Bool(bool),
    Char(char),
    Nil,
    Unspec,
    Undef,
}

impl K {
    fn of(op: &Op) -> Option<K> {
        Some(match op {
            Op::Fixnum(n) => K::Fix(*n),
            Op::Flonum(b) => K::Flo(f64::from_bits(*b)),
            Op::Bool(b) => K::Bool(*b),
            Op::Char(c) => K::Char(*c),
            Op::Nil => K::Nil,
            Op::Unspecified => K::Unspec,
            Op::Undefined => K::Undef,
            _ => return None,
        })
    }

    fn op(self) -> Op {
        match self {
            K::Fix(n) => Op::Fixnum(n),
            K::Flo(x) => Op::flonum(x),
            K::Bool(b) => Op::Bool(b),
            K::Char(c) => Op::Char(c),
            K::Nil => Op::Nil,
            K::Unspec => Op::Unspecified,
            K::Undef => Op::Undefined,
        }
    }

    fn has_type(self, t: Ty) -> bool {
        matches!(
            (self, t),
            (K::Fix(_), Ty::Fixnum | Ty::Number)
                | (K::Flo(_), Ty::Flonum | Ty::Number)
                | (K::Bool(_), Ty::Boolean)
                | (K::Char(_), Ty::Char)
                | (K::Nil, Ty::Null)
        )
    }

    /// Immediates compare by bits under `eq?`; boxed flonums do not.
    fn is_immediate(self) -> bool {
        !matches!(self, K::Flo(_))
    }
}

enum Fold {
    Const(K),
    Copy(Value),
}

pub fn run(func: &mut Function) -> bool {
    let mut known: HashMap<Value, K> = HashMap::new();
    let mut changed = false;
    // Layout order may visit a use before its definition (loops); one more
    // run of the pass manager's loop picks those up.
    for bi in 0..func.layout.len() {
        let b = func.layout[bi];
        for ii in 0..func.block(b).insts.len() {
            let i = func.block(b).insts[ii];
            let d = func.inst(i);
            if let (Some(k), Some(r)) = (K::of(&d.op), d.result) {
                known.insert(r, k);
                continue;
            }
            if let Some(fold) = fold_value(&d.op, &d.args, &known) {
                let r = d.result;
                let d = func.inst_mut(i);
                match fold {
                    Fold::Const(k) => {
                        d.op = k.op();
                        d.args.clear();
                        if let Some(r) = r {
                            known.insert(r, k);
                        }
                    }
                    Fold::Copy(v) => {
                        d.op = Op::Copy;
                        d.args = vec![v];
                        if let (Some(r), Some(&k)) = (r, known.get(&v)) {
                            known.insert(r, k);
                        }
                    }
                }
                changed = true;
            } else if fold_branch(func, i, &known) {
                changed = true;
            }
        }
    }
    changed
}

fn fold_value(op: &Op, args: &[Value], known: &HashMap<Value, K>) -> Option<Fold> {
    let k = |i: usize| args.get(i).and_then(|v| known.get(v)).copied();
    use K::*;
    Some(match op {
        Op::Copy => Fold::Const(k(0)?),
        Op::Fx(fop, mode) => {
            let (Fix(a), Fix(b)) = (k(0)?, k(1)?) else {
                return None;
            };
            let r = match mode {
                FxMode::Plain => fop.apply_wrapping(a, b)?,
                FxMode::Ovf | FxMode::Chk => fop.apply(a, b).filter(|&r| fits_fixnum(r))?,
            };
            Fold::Const(Fix(r))
        }
        Op::FxToFl => match k(0)? {
            Fix(a) => Fold::Const(Flo(a as f64)),
            _ => return None,
        },
        Op::Fl(fop, _) => match (k(0)?, k(1)?) {
            (Flo(a), Flo(b)) => Fold::Const(Flo(fop.apply(a, b))),
            _ => return None,
        },
        Op::FxCmp(c, _) => match (k(0)?, k(1)?) {
            (Fix(a), Fix(b)) => Fold::Const(Bool(c.holds(a, b))),
            _ => return None,
        },
        Op::FlCmp(c, _) => match (k(0)?, k(1)?) {
            (Flo(a), Flo(b)) => Fold::Const(Bool(c.holds(a, b))),
            _ => return None,
        },
        Op::Eq => {
            if args.len() == 2 && args[0] == args[1] {
                return Some(Fold::Const(Bool(true)));
            }
            let (a, b) = (k(0)?, k(1)?);
            if !a.is_immediate() || !b.is_immediate() {
                return None;
            }
            Fold::Const(Bool(a == b))
        }
        Op::Not => Fold::Const(Bool(k(0)? == Bool(false))),
        Op::TypeIs(t) => Fold::Const(Bool(k(0)?.has_type(*t))),
        Op::TypeTag => Fold::Const(Fix(match k(0)? {
            Fix(_) => 0,
            Flo(_) => 3,
            _ => 6,
        })),
        Op::TypeCheck(t, _) if k(0)?.has_type(*t) => Fold::Copy(args[0]),
        _ => return None,
    })
}

/// Turn a conditional branch with a known outcome into `br`.
fn fold_branch(func: &mut Function, i: crate::entity::Inst, known: &HashMap<Value, K>) -> bool {
    let d = func.inst(i);
    let pick = match &d.op {
        Op::BrIf if d.targets.len() == 2 => {
            if d.targets[0] == d.targets[1] {
                Some(0)
            } else {
                match d.args.first().and_then(|v| known.get(v)) {
                    Some(K::Bool(false)) => Some(1),
                    Some(_) => Some(0),
                    None => None,
                }
            }
        }
        Op::Switch(cases) if d.targets.len() == cases.len() + 1 => {
            match d.args.first().and_then(|v| known.get(v)) {
                Some(K::Fix(n)) => Some(cases.iter().position(|c| c == n).map_or(0, |p| p + 1)),
                _ => None,
            }
        }
        _ => None,
    };
    let Some(t) = pick else {
        return drop_default_cases(func, i);
    };
    let d = func.inst_mut(i);
    let target = d.targets.swap_remove(t);
    d.op = Op::Br;
    d.args.clear();
    d.targets = vec![target];
    true
}

/// Drop `switch` cases that branch exactly like the default; a switch
/// left without cases becomes `br`.
fn drop_default_cases(func: &mut Function, i: crate::entity::Inst) -> bool {
    let d = func.inst_mut(i);
    let Op::Switch(cases) = &d.op else {
        return false;
    };
    if d.targets.len() != cases.len() + 1 {
        return false;
    }
    let keep: Vec<bool> = d.targets[1..].iter().map(|t| *t != d.targets[0]).collect();
    if keep.iter().all(|&k| k) {
        return false;
    }
    let new_cases: Vec<i64> = cases
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(c, _)| *c)
        .collect();
    let mut targets = vec![d.targets[0].clone()];
    targets.extend(
        d.targets[1..]
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(t, _)| t.clone()),
    );
    if new_cases.is_empty() {
        d.op = Op::Br;
        d.args.clear();
    } else {
        d.op = Op::Switch(new_cases);
    }
    d.targets = targets;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_module;
    use crate::write::print_module;

    fn fold(text: &str) -> String {
        let mut m = parse_module(text).unwrap();
        run(&mut m.funcs[0]);
        crate::verify::verify_module(&m).unwrap();
        print_module(&m)
    }

    #[test]
    fn folds_arithmetic_chains() {
        let out = fold(
            "function @f() arity 0 {
entry:
  %0 = fixnum 6
  %1 = fixnum 7
  %2 = fx.mul.ovf %0, %1
  %3 = fx.sub %2, %0
  %4 = fx.lt.chk %3, %2
  %5 = not %4
  %z = fixnum 0
  %6 = fx.quo.chk %0, %z
  %7 = fx.rem %0, %z
  ret %7
}
",
        );
        assert!(
            out.contains("%2 = fixnum 42\n  %3 = fixnum 36\n  %4 = bool #t\n  %5 = bool #f\n"),
            "{out}"
        );
        // Division by zero is left for run time.
        assert!(
            out.contains("fx.quo.chk") && out.contains("fx.rem"),
            "{out}"
        );
    }

    #[test]
    fn overflow_is_not_folded_except_plain() {
        let out = fold(
            "function @f() arity 0 {
entry:
  %0 = fixnum 1152921504606846975
  %1 = fixnum 1
  %2 = fx.add.ovf %0, %1
  %3 = fx.add %0, %1
  ret %2
}
",
        );
        assert!(out.contains("%2 = fx.add.ovf %0, %1"), "{out}");
        assert!(out.contains("%3 = fixnum -1152921504606846976"), "{out}");
    }

    #[test]
    fn folds_branches() {
        let out = fold(
            "function @f(%x) arity 1 {
entry:
  %0 = fixnum 2
  switch %0, 1: a(), 2: b(%x), default: c()
a:
  ret %x
b(%y):
  %1 = bool #f
  br_if %1, a(), c()
c:
  br_if %x, a(), a()
}
",
        );
        assert!(out.contains("  br b(%x)\n"), "{out}");
        assert!(out.contains("  %1 = bool #f\n  br c()\n"), "{out}");
        assert!(
            out.contains("c:                          ; preds: b\n  br a()\n"),
            "{out}"
        );
    }

    #[test]
    fn type_tests_on_constants() {
        let out = fold(
            "function @f() arity 0 {
entry:
  %0 = fixnum 2
  %1 = type_is.number %0
  %2 = type_is.pair %0
  %3 = type_check.fixnum %0, \"vector-ref\"
  %4 = nil
  %5 = eq %4, %4
  %6 = eq %0, %4
  %7 = type_tag %4
  ret %3
}
",
        );
        assert!(
            out.contains("%1 = bool #t\n  %2 = bool #f\n  %3 = copy %0\n  %4 = nil\n  %5 = bool #t\n  %6 = bool #f\n  %7 = fixnum 6"),
            "{out}"
        );
    }
}
