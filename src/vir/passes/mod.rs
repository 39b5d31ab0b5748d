//! Optimisation passes and the pass manager.
//!
//! Each pass is one file with `pub fn run(func: &mut Function) -> bool`
//! (true when it changed something), except the whole-program `prune`,
//! whose entry point `prune_toplevels` chooses the top-level forms to
//! compile, and the module pass `inline` (`inline::run_module`), which
//! the manager runs between two rounds of the function passes. The pipeline for a level runs its
//! passes in order, repeating the sequence until nothing changes (bounded).
//! With `verify_each` (the default in debug builds and tests) the
//! validator runs after every pass and a failure names the pass.

pub mod const_fold;
pub mod copy_prop;
pub mod dce;
pub mod inline;
pub mod prune;
pub mod simplify_cfg;
pub mod type_check_elim;
pub mod unreachable;

use crate::ir::{Function, Module};
use crate::verify::{verify_function, VerifyErrors};
use std::fmt;

/// Optimisation levels (`-O0` .. `-O3`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum OptLevel {
    O0,
    O1,
    O2,
    O3,
}

impl OptLevel {
    pub fn from_number(n: u32) -> Option<OptLevel> {
        [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3]
            .get(n as usize)
            .copied()
    }
}

/// The passes, including named slots for passes still to be written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PassKind {
    ConstFold,
    CopyProp,
    Dce,
    UnreachableElim,
    SimplifyCfg,
    /// Inline small known functions (module-level: `inline::run_module`).
    Inline,
    /// Slot: mark non-escaping allocations `.stack` (not written yet).
    EscapeAnalysis,
    /// Type inference: drops proven `type_check`s, folds known `type_is`,
    /// and makes checked arithmetic on proven flonums or fixnums unchecked
    /// (`type_check_elim.rs`).
    TypeCheckElim,
}

impl PassKind {
    pub const ALL: [PassKind; 8] = [
        PassKind::ConstFold,
        PassKind::CopyProp,
        PassKind::Dce,
        PassKind::UnreachableElim,
        PassKind::SimplifyCfg,
        PassKind::Inline,
        PassKind::EscapeAnalysis,
        PassKind::TypeCheckElim,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PassKind::ConstFold => "const_fold",
            PassKind::CopyProp => "copy_prop",
            PassKind::Dce => "dce",
            PassKind::UnreachableElim => "unreachable",
            PassKind::SimplifyCfg => "simplify_cfg",
            PassKind::Inline => "inline",
            PassKind::EscapeAnalysis => "escape_analysis",
            PassKind::TypeCheckElim => "type_check_elim",
        }
    }

    pub fn from_name(s: &str) -> Option<PassKind> {
        PassKind::ALL.iter().copied().find(|p| p.name() == s)
    }

    /// Is the pass implemented (slots are not)?
    pub fn is_implemented(self) -> bool {
        !matches!(self, PassKind::EscapeAnalysis)
    }
}

/// The passes run at `level`, in order.
pub fn pipeline(level: OptLevel) -> Vec<PassKind> {
    use PassKind::*;
    match level {
        OptLevel::O0 => vec![],
        OptLevel::O1 => vec![ConstFold, CopyProp, Dce, UnreachableElim, SimplifyCfg],
        OptLevel::O2 | OptLevel::O3 => vec![
            Inline,
            ConstFold,
            CopyProp,
            TypeCheckElim,
            EscapeAnalysis,
            Dce,
            UnreachableElim,
            SimplifyCfg,
        ],
    }
}

/// Run one function pass; returns whether it changed the function.
pub fn run_pass(kind: PassKind, func: &mut Function) -> bool {
    if func.layout.is_empty() {
        // Not a valid function; the validator reports it.
        return false;
    }
    match kind {
        PassKind::ConstFold => const_fold::run(func),
        PassKind::CopyProp => copy_prop::run(func),
        PassKind::Dce => dce::run(func),
        PassKind::UnreachableElim => unreachable::run(func),
        PassKind::SimplifyCfg => simplify_cfg::run(func),
        PassKind::TypeCheckElim => type_check_elim::run(func),
        // A module pass: `optimize_with` runs it (see `inline::run_module`).
        PassKind::Inline => false,
        // Slots for later passes: no-ops until written.
        PassKind::EscapeAnalysis => false,
    }
}

/// The validator rejected the output of a pass (a compiler bug).
#[derive(Clone, Debug)]
pub struct PassError {
    pub pass: &'static str,
    pub func: String,
    pub errors: VerifyErrors,
}

impl fmt::Display for PassError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid VIR after pass `{}` on @{}:\n{}",
            self.pass, self.func, self.errors
        )
    }
}

impl std::error::Error for PassError {}

/// Rounds of the whole pipeline before giving up on a fixpoint.
const MAX_ROUNDS: usize = 8;

/// Optimise every function of the module at `level`, validating after
/// each pass in debug builds.
pub fn optimize(m: &mut Module, level: OptLevel) -> Result<(), PassError> {
    optimize_with(m, &pipeline(level), cfg!(debug_assertions))
}

/// Run `passes` over every function until nothing changes; with
/// `verify_each` validate after every pass. When `passes` holds the module
/// pass `inline`, the function passes run first (so callee sizes are
/// measured after clean-up), then `inline::run_module`, then the function
/// passes again on the functions it changed.
pub fn optimize_with(
    m: &mut Module,
    passes: &[PassKind],
    verify_each: bool,
) -> Result<(), PassError> {
    let func_passes: Vec<PassKind> = passes
        .iter()
        .copied()
        .filter(|&p| p != PassKind::Inline)
        .collect();
    let all = vec![true; m.funcs.len()];
    run_function_passes(m, &func_passes, verify_each, &all)?;
    if passes.contains(&PassKind::Inline) {
        let changed = inline::run_module(m);
        if verify_each {
            for (i, _) in changed.iter().enumerate().filter(|(_, &c)| c) {
                verify_function(Some(m), &m.funcs[i]).map_err(|errors| PassError {
                    pass: PassKind::Inline.name(),
                    func: m.funcs[i].name.clone(),
                    errors,
                })?;
            }
        }
        run_function_passes(m, &func_passes, verify_each, &changed)?;
    }
    Ok(())
}

/// The function passes over the functions selected by `which`, each to a
/// fixpoint (at most `MAX_ROUNDS` rounds).
fn run_function_passes(
    m: &mut Module,
    passes: &[PassKind],
    verify_each: bool,
    which: &[bool],
) -> Result<(), PassError> {
    for i in 0..m.funcs.len() {
        if !which.get(i).copied().unwrap_or(false) {
            continue;
        }
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for &p in passes {
                changed |= run_pass(p, &mut m.funcs[i]);
                if verify_each {
                    verify_function(Some(m), &m.funcs[i]).map_err(|errors| PassError {
                        pass: p.name(),
                        func: m.funcs[i].name.clone(),
                        errors,
                    })?;
                }
            }
            if !changed {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_names() {
        assert!(pipeline(OptLevel::O0).is_empty());
        assert_eq!(pipeline(OptLevel::O1).len(), 5);
        assert!(pipeline(OptLevel::O2).contains(&PassKind::Inline));
        assert_eq!(OptLevel::from_number(2), Some(OptLevel::O2));
        assert_eq!(OptLevel::from_number(9), None);
        for p in PassKind::ALL {
            assert_eq!(PassKind::from_name(p.name()), Some(p));
        }
        assert!(PassKind::Inline.is_implemented());
    }
}
