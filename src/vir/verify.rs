//! The validator. Checks, per function:
//! - the layout is non-empty, without duplicate or unknown blocks; the entry
//!   block has the signature's parameters and no predecessors;
//! - every block ends in exactly one terminator, with nothing after it, and
//!   every instruction sits in exactly one block;
//! - operand counts, result presence, branch-target counts and block
//!   argument counts match the opcode and the target block;
//! - referenced functions, globals and constants exist; direct calls pass
//!   the callee's parameter count; `closure`/`cont_new` name closure bodies;
//! - every used value is defined in the layout, and its definition
//!   dominates the use (block arguments are used at the branch);
//! - the CFG's predecessor and successor lists agree.
//!
//! Errors name the function, block and instruction (printed as text).

use crate::analysis::{Cfg, DomTree};
use crate::entity::{Block, Inst, Value};
use crate::ir::{fits_fixnum, ConstData, Function, Module, Op, ValueDef};
use crate::write::{format_inst, symbol_name, ModuleNames, Namer};
use std::collections::HashSet;
use std::fmt;

/// One problem found by the validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// `@name` of the function, empty for module-level problems.
    pub func: String,
    pub block: Option<String>,
    /// The offending instruction as printed.
    pub inst: Option<String>,
    pub msg: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.func.is_empty() {
            write!(f, "module")?;
        } else {
            write!(f, "function {}", self.func)?;
        }
        if let Some(b) = &self.block {
            write!(f, ", block {b}")?;
        }
        if let Some(i) = &self.inst {
            write!(f, ", instruction `{i}`")?;
        }
        write!(f, ": {}", self.msg)
    }
}

/// All problems found in a module or function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyErrors {}

const MAX_ERRORS: usize = 50;

/// Validate every function of a module and the module tables.
pub fn verify_module(m: &Module) -> Result<(), VerifyErrors> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for f in &m.funcs {
        if !seen.insert(f.name.as_str()) {
            errors.push(module_error(format!(
                "two functions are named {}",
                symbol_name('@', &f.name)
            )));
        }
    }
    let mut seen = HashSet::new();
    for g in &m.globals {
        if !seen.insert(g.name.as_str()) {
            errors.push(module_error(format!(
                "two globals are named {}",
                symbol_name('$', &g.name)
            )));
        }
    }
    // Inlined locations refer to plain ones or to earlier entries, so
    // their chains end.
    for (i, e) in m.inlined.iter().enumerate() {
        for l in [e.loc, e.at] {
            if l.is_none() || l.inlined_index().is_some_and(|k| k >= i) {
                errors.push(module_error(format!(
                    "inlined location !i{i} refers to {}",
                    if l.is_none() {
                        "no location".to_string()
                    } else {
                        l.to_string()
                    }
                )));
            }
        }
    }
    for f in &m.funcs {
        for d in &f.insts {
            if d.loc.inlined_index().is_some_and(|k| k >= m.inlined.len()) {
                errors.push(module_error(format!(
                    "function {} uses undefined inlined location {}",
                    symbol_name('@', &f.name),
                    d.loc
                )));
                break;
            }
        }
    }
    let names = ModuleNames::new(m);
    for f in &m.funcs {
        errors.extend(check_function(Some(m), &names, f));
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    done(errors)
}

/// Validate one function; `module` (if given) resolves and checks
/// references to functions, globals and constants.
pub fn verify_function(module: Option<&Module>, f: &Function) -> Result<(), VerifyErrors> {
    let names = module
        .map(ModuleNames::new)
        .unwrap_or_else(ModuleNames::empty);
    done(check_function(module, &names, f))
}

/// Check that `cfg` (e.g. one a pass kept up to date) matches the
/// function's current control flow.
pub fn verify_cfg(f: &Function, cfg: &Cfg) -> Result<(), VerifyErrors> {
    let fresh = Cfg::compute(f);
    let namer = Namer::new(f);
    let mut errors = Vec::new();
    for &b in &f.layout {
        let sort = |v: &[Block]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let (have_p, want_p) = (
            cfg.preds
                .get(b.index())
                .map(|p| sort(p))
                .unwrap_or_default(),
            sort(fresh.preds(b)),
        );
        let (have_s, want_s) = (
            cfg.succs
                .get(b.index())
                .map(|s| sort(s))
                .unwrap_or_default(),
            sort(fresh.succs(b)),
        );
        let show = |v: &[Block]| {
            v.iter()
                .map(|&x| namer.block(x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if have_p != want_p {
            errors.push(VerifyError {
                func: symbol_name('@', &f.name),
                block: Some(namer.block(b)),
                inst: None,
                msg: format!(
                    "CFG lists predecessors [{}] but the branches give [{}]",
                    show(&have_p),
                    show(&want_p)
                ),
            });
        }
        if have_s != want_s {
            errors.push(VerifyError {
                func: symbol_name('@', &f.name),
                block: Some(namer.block(b)),
                inst: None,
                msg: format!(
                    "CFG lists successors [{}] but the terminator gives [{}]",
                    show(&have_s),
                    show(&want_s)
                ),
            });
        }
    }
    done(errors)
}

fn done(errors: Vec<VerifyError>) -> Result<(), VerifyErrors> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(errors))
    }
}

fn module_error(msg: String) -> VerifyError {
    VerifyError {
        func: String::new(),
        block: None,
        inst: None,
        msg,
    }
}

struct Checker<'a> {
    module: Option<&'a Module>,
    names: &'a ModuleNames,
    f: &'a Function,
    namer: Namer,
    errors: Vec<VerifyError>,
}

impl Checker<'_> {
    fn error(&mut self, block: Option<Block>, inst: Option<Inst>, msg: String) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        let inst_text = inst.map(|i| format_inst(self.names, self.f, &self.namer, i));
        self.errors.push(VerifyError {
            func: symbol_name('@', &self.f.name),
            block: block.map(|b| self.namer.block(b)),
            inst: inst_text,
            msg,
        });
    }
}

fn check_function(module: Option<&Module>, names: &ModuleNames, f: &Function) -> Vec<VerifyError> {
    let mut c = Checker {
        module,
        names,
        f,
        namer: Namer::new(f),
        errors: Vec::new(),
    };
    if f.layout.is_empty() {
        c.error(None, None, "the function has no blocks".into());
        return c.errors;
    }
    // ---- layout and block structure ----
    let mut in_layout = vec![false; f.blocks.len()];
    for &b in &f.layout {
        if b.index() >= f.blocks.len() {
            c.error(None, None, format!("the layout names a nonexistent {b}"));
            return c.errors;
        }
        if std::mem::replace(&mut in_layout[b.index()], true) {
            c.error(
                Some(b),
                None,
                "the block appears twice in the layout".into(),
            );
        }
    }
    let entry = f.entry();
    if f.block(entry).params.len() != f.sig.param_count() {
        c.error(
            Some(entry),
            None,
            format!(
                "the entry block has {} parameters but the signature needs {}",
                f.block(entry).params.len(),
                f.sig.param_count()
            ),
        );
    }
    // Placement: inst -> (block, position).
    let mut place: Vec<Option<(Block, usize)>> = vec![None; f.insts.len()];
    for &b in &f.layout {
        let insts = &f.block(b).insts;
        if insts.is_empty() {
            c.error(
                Some(b),
                None,
                "the block is empty (it needs a terminator)".into(),
            );
        }
        for (pos, &i) in insts.iter().enumerate() {
            if i.index() >= f.insts.len() {
                c.error(Some(b), None, format!("the block lists a nonexistent {i}"));
                return c.errors;
            }
            if place[i.index()].is_some() {
                c.error(
                    Some(b),
                    Some(i),
                    "the instruction appears in two places".into(),
                );
            }
            place[i.index()] = Some((b, pos));
            let term = f.inst(i).op.is_terminator();
            let last = pos + 1 == insts.len();
            if term && !last {
                c.error(
                    Some(b),
                    Some(i),
                    "a terminator is followed by more instructions".into(),
                );
            }
            if !term && last {
                c.error(
                    Some(b),
                    Some(i),
                    "the block does not end in a terminator".into(),
                );
            }
        }
    }
    for &b in &f.layout {
        for (n, &p) in f.block(b).params.iter().enumerate() {
            match f.values.get(p.index()).map(|d| d.def) {
                Some(ValueDef::Param(pb, pn)) if pb == b && pn == n => {}
                _ => c.error(
                    Some(b),
                    None,
                    format!(
                        "parameter {n} ({}) does not record its definition",
                        c.namer.value(p)
                    ),
                ),
            }
        }
    }
    if !c.errors.is_empty() {
        // The remaining checks assume a well-formed block structure.
        return c.errors;
    }

    // ---- CFG ----
    let cfg = Cfg::compute(f);
    for &b in &f.layout {
        for &s in cfg.succs(b) {
            if !cfg.preds(s).contains(&b) {
                c.error(
                    Some(b),
                    None,
                    format!(
                        "successor {} does not list it as a predecessor",
                        c.namer.block(s)
                    ),
                );
            }
        }
        for &p in cfg.preds(b) {
            if !cfg.succs(p).contains(&b) {
                c.error(
                    Some(b),
                    None,
                    format!(
                        "predecessor {} does not list it as a successor",
                        c.namer.block(p)
                    ),
                );
            }
        }
    }
    if !cfg.preds(entry).is_empty() {
        c.error(
            Some(entry),
            None,
            "the entry block must not be a branch target".into(),
        );
    }
    let dom = DomTree::compute(f, &cfg);

    // ---- instructions ----
    for &b in &f.layout {
        for (pos, &i) in f.block(b).insts.iter().enumerate() {
            check_inst(&mut c, &in_layout, b, i);
            // Dominance of every use.
            let d = f.inst(i);
            let uses = d.args.iter().chain(d.targets.iter().flat_map(|t| &t.args));
            for &v in uses {
                if let Some(msg) = check_use(f, &place, &in_layout, &dom, v, b, pos) {
                    let msg = format!("{} {msg}", c.namer.value(v));
                    c.error(Some(b), Some(i), msg);
                }
            }
        }
    }
    c.errors
}

/// Why the use of `v` at (`b`, `pos`) is invalid, if it is.
fn check_use(
    f: &Function,
    place: &[Option<(Block, usize)>],
    in_layout: &[bool],
    dom: &DomTree,
    v: Value,
    b: Block,
    pos: usize,
) -> Option<String> {
    let Some(data) = f.values.get(v.index()) else {
        return Some("does not exist".into());
    };
    let (db, dpos) = match data.def {
        ValueDef::Param(pb, n) => {
            let ok = in_layout.get(pb.index()).copied().unwrap_or(false)
                && f.block(pb).params.get(n) == Some(&v);
            if !ok {
                return Some("is not defined (its block was deleted)".into());
            }
            (pb, None)
        }
        ValueDef::Result(di) => match place.get(di.index()).copied().flatten() {
            Some((db, dpos)) if f.inst(di).result == Some(v) => (db, Some(dpos)),
            _ => return Some("is not defined (its instruction was deleted)".into()),
        },
    };
    if db == b {
        return match dpos {
            Some(dp) if dp >= pos => Some("is used before its definition".into()),
            _ => None,
        };
    }
    if !dom.is_reachable(b) {
        // Dominance is meaningless in unreachable code.
        return None;
    }
    if !dom.dominates(db, b) {
        return Some("is defined in a block that does not dominate this use".into());
    }
    None
}

fn check_inst(c: &mut Checker, in_layout: &[bool], b: Block, i: Inst) {
    let f = c.f;
    let d = f.inst(i);
    let op = &d.op;
    if !op.arg_count().accepts(d.args.len()) {
        let want = match op.arg_count() {
            crate::ir::ArgCount::Exact(n) => format!("{n}"),
            crate::ir::ArgCount::AtLeast(n) => format!("at least {n}"),
        };
        c.error(
            Some(b),
            Some(i),
            format!(
                "`{}` takes {want} operands, found {}",
                op.mnemonic(),
                d.args.len()
            ),
        );
    }
    match (op.has_result(), d.result) {
        (true, None) => c.error(
            Some(b),
            Some(i),
            "the instruction has no result value".into(),
        ),
        (false, Some(_)) => c.error(
            Some(b),
            Some(i),
            format!("`{}` produces no value", op.mnemonic()),
        ),
        (true, Some(r)) => {
            if f.values.get(r.index()).map(|v| v.def) != Some(ValueDef::Result(i)) {
                c.error(
                    Some(b),
                    Some(i),
                    "the result value does not record its definition".into(),
                );
            }
        }
        (false, None) => {}
    }
    if d.targets.len() != op.target_count() {
        c.error(
            Some(b),
            Some(i),
            format!(
                "`{}` needs {} branch targets, found {}",
                op.mnemonic(),
                op.target_count(),
                d.targets.len()
            ),
        );
    }
    for t in &d.targets {
        if !in_layout.get(t.block.index()).copied().unwrap_or(false) {
            c.error(
                Some(b),
                Some(i),
                format!("branch to nonexistent or deleted {}", t.block),
            );
            continue;
        }
        let want = f.block(t.block).params.len();
        if t.args.len() != want {
            c.error(
                Some(b),
                Some(i),
                format!(
                    "block {} takes {want} arguments, the branch passes {}",
                    c.namer.block(t.block),
                    t.args.len()
                ),
            );
        }
    }
    match op {
        Op::Fixnum(n) if !fits_fixnum(*n) => {
            c.error(Some(b), Some(i), format!("{n} is outside the fixnum range"));
        }
        Op::Switch(cases) => {
            let mut seen = HashSet::new();
            for k in cases {
                if !seen.insert(k) {
                    c.error(Some(b), Some(i), format!("switch case {k} appears twice"));
                }
            }
        }
        Op::Alloc(kind, _) => {
            if let Some(n) = kind.fixed_size() {
                if d.args.len() != n {
                    c.error(
                        Some(b),
                        Some(i),
                        format!("a {} has {n} fields, found {}", kind.name(), d.args.len()),
                    );
                }
            }
        }
        _ => {}
    }
    // A foreign call passes exactly its C arguments, none of them void.
    if let Op::FfiCall(ff) = op {
        if ff.args.len() != d.args.len() {
            c.error(
                Some(b),
                Some(i),
                format!(
                    "ffi_call of {} takes {} arguments, found {}",
                    ff.sym,
                    ff.args.len(),
                    d.args.len()
                ),
            );
        }
        if ff.args.contains(&crate::ir::FfiTy::Void) {
            c.error(Some(b), Some(i), "void is not a C argument type".into());
        }
        if ff.ret == crate::ir::FfiTy::Bytevector {
            c.error(Some(b), Some(i), "bytevector is not a C result type".into());
        }
    }
    let Some(m) = c.module else {
        return;
    };
    match op {
        Op::CallRuntime(k) => match m.builtins.get(k.index()) {
            None => c.error(
                Some(b),
                Some(i),
                format!("builtin {} does not exist", k.index()),
            ),
            Some(name) if name.is_empty() => {
                c.error(Some(b), Some(i), "call_runtime needs a builtin name".into());
            }
            Some(_) => {}
        },
        Op::Const(k) if k.index() >= m.consts.len() => {
            c.error(
                Some(b),
                Some(i),
                format!("constant #{} does not exist", k.index()),
            );
        }
        // The name in a record access error is a symbol constant (the
        // accessor's name, docs/vir.md).
        Op::RecordRef(_) | Op::RecordSet(_) => {
            let who = d.args.last().copied();
            if let Some(ValueDef::Result(w)) = who.map(|v| f.value_def(v)) {
                let ok = match f.inst(w).op {
                    Op::Const(k) => matches!(m.consts.get(k.index()), Some(ConstData::Symbol(_))),
                    _ => false,
                };
                if !ok {
                    c.error(
                        Some(b),
                        Some(i),
                        "the name of a record access must be a symbol constant".into(),
                    );
                }
            }
        }
        Op::GlobalGet(g, _) | Op::GlobalSet(g, _) | Op::GlobalWritten(g, _)
            if g.index() >= m.globals.len() =>
        {
            c.error(
                Some(b),
                Some(i),
                format!("global {} does not exist", g.index()),
            );
        }
        _ => {}
    }
    if let Some(fid) = op.func_ref() {
        let Some(callee) = m.funcs.get(fid.index()) else {
            c.error(
                Some(b),
                Some(i),
                format!("function {} does not exist", fid.index()),
            );
            return;
        };
        let cname = symbol_name('@', &callee.name);
        match op {
            Op::Call(_) | Op::TailCall(_) if d.args.len() != callee.sig.param_count() => {
                c.error(
                    Some(b),
                    Some(i),
                    format!(
                        "{cname} takes {} arguments{}, the call passes {}",
                        callee.sig.param_count(),
                        if callee.sig.closure {
                            " (closure included)"
                        } else {
                            ""
                        },
                        d.args.len()
                    ),
                );
            }
            Op::Closure(_) | Op::ContNew(_) if !callee.sig.closure => {
                c.error(Some(b), Some(i), format!("{cname} is not a closure body"));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::FunctionBuilder;
    use crate::entity::Loc;
    use crate::ir::{BlockCall, Cond, Signature};
    use crate::read::parse_module;

    fn errors_of(text: &str) -> Vec<String> {
        let m = parse_module(text).unwrap_or_else(|e| panic!("parse: {e}"));
        match verify_module(&m) {
            Ok(()) => Vec::new(),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn assert_error(text: &str, expected: &str) {
        let errs = errors_of(text);
        assert!(
            errs.iter().any(|e| e == expected),
            "expected error\n  {expected}\ngot\n  {}",
            errs.join("\n  ")
        );
    }

    #[test]
    fn valid_function_passes() {
        assert_eq!(
            errors_of(
                "function @f(%x) arity 1 {
entry:
  %0 = fixnum 1
  br loop(%x)
loop(%i):
  %1 = fx.lt %i, %0
  br_if %1, loop(%i), done()
done:
  ret %i
}
"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn record_access_names_a_symbol_constant() {
        assert_error(
            "function @f(%x, %t) arity 2 {
entry:
  %0 = fixnum 1
  %1 = record_ref 0, %x, %t, %0
  ret %1
}
",
            "function @f, block entry, instruction `%1 = record_ref 0, %x, %t, %0`: the name of a record access must be a symbol constant",
        );
        assert_eq!(
            errors_of(
                "const #0 = point-x

function @f(%x, %t) arity 2 {
entry:
  %0 = const #0
  record_set 0, %x, %t, %x, %0
  %1 = record_ref 0, %x, %t, %0
  ret %1
}
"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn use_not_dominated() {
        assert_error(
            "function @f(%x) arity 1 {
entry:
  br_if %x, a(), b()
a:
  %0 = fixnum 1
  br join()
b:
  br join()
join:
  ret %0
}
",
            "function @f, block join, instruction `ret %0`: %0 is defined in a block that does not dominate this use",
        );
    }

    #[test]
    fn use_before_def_in_block() {
        assert_error(
            "function @f() arity 0 {
entry:
  %1 = cons %0, %0
  %0 = nil
  ret %1
}
",
            "function @f, block entry, instruction `%0 = cons %1, %1`: %1 is used before its definition",
        );
    }

    #[test]
    fn missing_and_misplaced_terminators() {
        let mut f = Function::new("f", Signature::fixed(0));
        let mut b = FunctionBuilder::new(&mut f);
        let n = b.nil();
        b.ret(n);
        let m2 = b.nil();
        let _ = m2;
        let other = b.create_named_block("other");
        b.switch_to_block(other);
        b.nil();
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert!(errs.contains("function @f, block entry, instruction `ret %0`: a terminator is followed by more instructions"), "{errs}");
        assert!(errs.contains("function @f, block entry, instruction `%1 = nil`: the block does not end in a terminator"), "{errs}");
        assert!(errs.contains("function @f, block other, instruction `%2 = nil`: the block does not end in a terminator"), "{errs}");
    }

    #[test]
    fn empty_block() {
        let mut f = Function::new("f", Signature::fixed(0));
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert_eq!(
            errs,
            "function @f, block entry: the block is empty (it needs a terminator)"
        );
        f.layout.clear();
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert_eq!(errs, "function @f: the function has no blocks");
    }

    #[test]
    fn block_argument_count() {
        assert_error(
            "function @f(%x) arity 1 {
entry:
  br next(%x, %x)
next(%a):
  ret %a
}
",
            "function @f, block entry, instruction `br next(%x, %x)`: block next takes 1 arguments, the branch passes 2",
        );
    }

    #[test]
    fn branch_to_entry_and_deleted_block() {
        assert_error(
            "function @f(%x) arity 1 {
entry:
  br b1()
b1:
  br entry(%x)
}
",
            "function @f, block entry: the entry block must not be a branch target",
        );
        let mut f = Function::new("f", Signature::fixed(0));
        let mut b = FunctionBuilder::new(&mut f);
        let gone = b.create_block();
        b.br(gone, &[]);
        b.switch_to_block(gone);
        b.unreachable();
        f.layout.retain(|&x| x != gone);
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert!(
            errs.contains(
                "instruction `br <deleted block1>()`: branch to nonexistent or deleted block1"
            ),
            "{errs}"
        );
    }

    #[test]
    fn operand_counts_and_results() {
        let mut f = Function::new("f", Signature::fixed(1));
        let x = f.params()[0];
        let e = f.entry();
        f.append_inst(e, Op::Cons, vec![x], vec![], Loc::NONE);
        let i = f.append_inst(e, Op::Car, vec![x], vec![], Loc::NONE);
        f.inst_mut(i).result = None;
        f.append_inst(e, Op::BrIf, vec![x], vec![], Loc::NONE);
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert!(errs.contains("function @f, block entry, instruction `%1 = cons %0`: `cons` takes 2 operands, found 1"), "{errs}");
        assert!(
            errs.contains("instruction `car %0`: the instruction has no result value"),
            "{errs}"
        );
        assert!(
            errs.contains("`br_if` needs 2 branch targets, found 0"),
            "{errs}"
        );
    }

    #[test]
    fn module_references() {
        assert_error(
            "function @g(%a, %b) arity 2 {
entry:
  ret %a
}

function @f(%x) arity 1 {
entry:
  %0 = call @g(%x)
  %1 = closure @g(%x)
  ret %0
}
",
            "function @f, block entry, instruction `%0 = call @g(%x)`: @g takes 2 arguments, the call passes 1",
        );
        assert_error(
            "function @g(%a, %b) arity 2 {
entry:
  %0 = closure @g(%a)
  ret %0
}
",
            "function @g, block entry, instruction `%0 = closure @g(%a)`: @g is not a closure body",
        );
        let mut m = Module::new();
        let mut f = Function::new("f", Signature::fixed(0));
        let mut b = FunctionBuilder::new(&mut f);
        let k = b.constant(crate::entity::ConstId(3));
        b.global_set(crate::entity::GlobalId(0), crate::ops::Checked::No, k);
        b.tail_call(crate::entity::FuncId(9), &[]);
        m.add_function(f);
        let errs = verify_module(&m).unwrap_err().to_string();
        assert!(
            errs.contains("instruction `%0 = const #3`: constant #3 does not exist"),
            "{errs}"
        );
        assert!(
            errs.contains("instruction `global_set $0, %0`: global 0 does not exist"),
            "{errs}"
        );
        assert!(
            errs.contains("instruction `tail_call @9()`: function 9 does not exist"),
            "{errs}"
        );
    }

    #[test]
    fn duplicate_names_and_bad_immediates() {
        let mut m = Module::new();
        for _ in 0..2 {
            let mut f = Function::new("dup", Signature::fixed(0));
            let mut b = FunctionBuilder::new(&mut f);
            let n = b.fixnum(i64::MAX);
            b.switch(n, &[(1, f_entry_dummy(), vec![])], f_entry_dummy(), &[]);
            m.add_function(f);
        }
        let errs = verify_module(&m).unwrap_err().to_string();
        assert!(
            errs.contains("module: two functions are named @dup"),
            "{errs}"
        );
        assert!(errs.contains("is outside the fixnum range"), "{errs}");
    }

    fn f_entry_dummy() -> Block {
        Block(0)
    }

    #[test]
    fn switch_duplicate_cases() {
        assert_error(
            "function @f(%x) arity 1 {
entry:
  switch %x, 1: a(), 1: a(), default: a()
a:
  ret %x
}
",
            "function @f, block entry, instruction `switch %x, 1: a(), 1: a(), default: a()`: switch case 1 appears twice",
        );
    }

    #[test]
    fn deleted_definition() {
        let mut f = Function::new("f", Signature::fixed(0));
        let mut b = FunctionBuilder::new(&mut f);
        let n = b.nil();
        b.ret(n);
        let e = f.entry();
        f.block_mut(e).insts.remove(0);
        let errs = verify_function(None, &f).unwrap_err().to_string();
        assert!(errs.contains("instruction `ret %<undefined v0>`: %<undefined v0> is not defined (its instruction was deleted)"), "{errs}");
    }

    #[test]
    fn cfg_consistency() {
        let mut f = Function::new("f", Signature::fixed(1));
        let mut b = FunctionBuilder::new(&mut f);
        let x = b.param(0);
        let (t, e) = (b.create_named_block("t"), b.create_named_block("e"));
        b.br_if(x, t, &[], e, &[]);
        for blk in [t, e] {
            b.switch_to_block(blk);
            b.ret(x);
        }
        let mut cfg = Cfg::compute(&f);
        assert!(verify_cfg(&f, &cfg).is_ok());
        // A pass changed a branch but not its cached CFG.
        let term = f.terminator(f.entry()).unwrap();
        f.inst_mut(term).targets[1] = BlockCall::new(t, &[]);
        let errs = verify_cfg(&f, &cfg).unwrap_err().to_string();
        assert!(
            errs.contains(
                "function @f, block e: CFG lists predecessors [entry] but the branches give []"
            ),
            "{errs}"
        );
        assert!(
            errs.contains("block entry: CFG lists successors [t, e] but the terminator gives [t]"),
            "{errs}"
        );
        cfg = Cfg::compute(&f);
        assert!(verify_cfg(&f, &cfg).is_ok());
        let _ = Cond::Eq;
    }
}
