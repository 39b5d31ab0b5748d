//! The compile pipeline, in one place: every engine that compiles (the JIT,
//! `valkc compile`, `valkc run`, the REPL's `,vir`/`,llvm`) goes through
//! these steps, and none of them assembles the steps itself.
//!
//! ```text
//! text ─read─► datums ─expand (after the prelude)─► core AST   [front_end]
//!      ─lower─► VIR ─VIR passes of the level─► VIR             [lower]
//!      ─prune (whole programs)─► emit─► LLVM IR text            [emit_llvm]
//!      ─LLVM passes, statepoints, codegen─► object               [valk_llvm::Backend]
//!      ─link with libvalk_runtime.a─► executable                [link_program]
//! ```
//!
//! Errors come back rendered ([`PipelineError`]): a diagnostic with its
//! source excerpt, or `error: ...` for everything else. See
//! docs/architecture.md for where each step lives.

use crate::ast::{ExprKind, TopLevel};
use crate::expand::Expander;
use crate::lower::{self, LowerOptions, Lowered};
use crate::prelude;
use crate::syntax::diag::Diagnostic;
use crate::syntax::reader;
use crate::syntax::source::{read_source_file, SourceMap};
use std::collections::HashSet;
use std::path::Path;
use valk_llvm::{time_phase, Backend, EmitError, EmitOptions, Output};
use valk_vir::{FuncId, Function, Loc, OptLevel};

/// A failure, already rendered for stderr (diagnostics include their
/// source excerpt).
#[derive(Debug)]
pub struct PipelineError(pub String);

impl std::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn internal(e: impl std::fmt::Display) -> PipelineError {
    PipelineError(format!("error: {e}\n"))
}

/// The VIR optimisation level for a numeric level (0–3; larger means 3).
pub fn opt_level(n: u32) -> OptLevel {
    OptLevel::from_number(n.min(3)).unwrap_or(OptLevel::O2)
}

// ----- front end ------------------------------------------------------------

/// A program read and expanded the way the interpreter does it: the
/// prelude first (its macros and definitions are visible to the program),
/// then the program's forms (`load` is handled by the expander).
pub struct Expanded {
    pub prelude: Vec<TopLevel>,
    pub program: Vec<TopLevel>,
    /// The expander after the program: the JIT's whole-program session
    /// hands it to `eval` as the interaction environment's.
    pub expander: Expander,
}

impl Expanded {
    /// The globals the prelude defines (for [`LowerOptions::predefined`]
    /// when the program is lowered without the prelude).
    pub fn prelude_globals(&self) -> HashSet<String> {
        self.prelude
            .iter()
            .filter_map(|t| match &t.body.kind {
                ExprKind::DefineGlobal(n, _) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// The prelude's forms followed by the program's: a whole program.
    pub fn whole_program(self) -> Vec<TopLevel> {
        let mut tops = self.prelude;
        tops.extend(self.program);
        tops
    }
}

/// Reads every datum of `text` (registered in `sources` as `name`) and
/// expands it with `expander`, in order.
pub fn expand_text(
    expander: &mut Expander,
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<Vec<TopLevel>, Diagnostic> {
    let datums = reader::read_str(sources, name, text)?;
    let mut out = Vec::new();
    for d in &datums {
        out.extend(expander.expand_toplevel(d, sources)?);
    }
    Ok(out)
}

/// Reads and expands the prelude and then `text` (the program, named
/// `name` in diagnostics; `load` paths are relative to it).
pub fn expand_program(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<Expanded, Diagnostic> {
    let mut expander = Expander::new();
    let prelude = expand_text(&mut expander, sources, prelude::NAME, prelude::TEXT)?;
    let program = expand_text(&mut expander, sources, name, text)?;
    Ok(Expanded {
        prelude,
        program,
        expander,
    })
}

/// Reads the file `path` into `sources` and expands it after the prelude.
pub fn front_end(sources: &mut SourceMap, path: &str) -> Result<Expanded, PipelineError> {
    let text = read_source_file(Path::new(path))
        .map_err(|e| PipelineError(format!("error: cannot read {path}: {e}\n")))?;
    let x = time_phase("front end", || expand_program(sources, path, &text))
        .map_err(|d| PipelineError(d.render(sources)))?;
    crate::warnings::warn_unbound(x.prelude.iter().chain(&x.program), sources, &|_| false);
    Ok(x)
}

// ----- lowering and VIR passes ---------------------------------------------

/// Lowers `tops` to one VIR module and runs the VIR passes of `level`
/// (validating after every pass in debug builds).
pub fn lower(
    tops: &[TopLevel],
    sources: &SourceMap,
    opts: &LowerOptions,
    level: OptLevel,
) -> Result<Lowered, Diagnostic> {
    let mut lowered = time_phase("lower", || lower::lower_program(tops, sources, opts))?;
    time_phase("vir passes", || optimize(&mut lowered, level))?;
    Ok(lowered)
}

/// Runs the VIR pass pipeline of `level` (validating after every pass in
/// debug builds).
pub fn optimize(lowered: &mut Lowered, level: OptLevel) -> Result<(), Diagnostic> {
    valk_vir::optimize(&mut lowered.module, level)
        .map_err(|e| Diagnostic::error(format!("internal error: {e}")))
}

/// Runs `level`'s passes with the validator after every pass, whatever the
/// build profile (tests).
pub fn optimize_verified(lowered: &mut Lowered, level: OptLevel) -> Result<(), Diagnostic> {
    valk_vir::passes::optimize_with(
        &mut lowered.module,
        &valk_vir::passes::pipeline(level),
        true,
    )
    .map_err(|e| Diagnostic::error(format!("internal error: {e}")))
}

/// A whole program (prelude and program forms in one module, globals
/// defined once called directly), lowered and optimised at the VIR level:
/// what `valkc compile` and `valk FILE` on the JIT compile.
pub struct Program {
    pub sources: SourceMap,
    pub lowered: Lowered,
    /// Library files looked for and not found (docs/libraries.md).
    pub absent: Vec<std::path::PathBuf>,
}

/// The lowering options of a whole program.
pub fn whole_program_options() -> LowerOptions {
    LowerOptions {
        fixed_globals: true,
        ..LowerOptions::default()
    }
}

/// Lowers the expanded whole program `tops` (read into `sources`).
pub fn lower_whole_program(
    tops: &[TopLevel],
    sources: &SourceMap,
    opt: u32,
) -> Result<Lowered, Diagnostic> {
    lower(tops, sources, &whole_program_options(), opt_level(opt))
}

/// Reads `path`, expands it after the prelude and lowers both into one
/// module at level `opt`.
pub fn lower_file(path: &str, opt: u32) -> Result<Program, PipelineError> {
    let mut sources = SourceMap::new();
    let expanded = front_end(&mut sources, path)?;
    let absent = expanded.expander.absent_library_files();
    let tops = expanded.whole_program();
    let lowered =
        lower_whole_program(&tops, &sources, opt).map_err(|d| PipelineError(d.render(&sources)))?;
    Ok(Program {
        sources,
        lowered,
        absent,
    })
}

// ----- LLVM IR ---------------------------------------------------------------

/// What the emitted LLVM module is for.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// An AOT executable's only object: `main`, the program descriptor
    /// and the stack map label.
    Executable,
    /// A JIT module exporting its descriptor under this name.
    JitModule { descriptor: &'a str },
}

static DEBUG_INFO: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether emitted objects get DWARF (docs/debugging.md): AOT objects
/// with `valkc compile -g`, JIT modules (whole programs, REPL inputs,
/// tier-1 compiles) with `valk -g`, `VALK_DEBUG=1` or `VALK_PERF=1`. Set
/// before the first compile; it is read by compiler threads too.
pub fn set_debug_info(on: bool) {
    DEBUG_INFO.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn debug_info() -> bool {
    DEBUG_INFO.load(std::sync::atomic::Ordering::Relaxed)
}

/// The LLVM IR (before any LLVM pass) of the lowered `toplevels`.
pub fn emit_llvm(
    lowered: &Lowered,
    toplevels: &[FuncId],
    sources: &SourceMap,
    target: Target,
) -> Result<String, EmitError> {
    // The interpreter prints unbound variables with their location; the
    // text is rendered here and embedded in the code.
    let unbound = |loc: Loc, name: &str| {
        lowered.span(loc).map(|span| {
            let name = valk_runtime::globals::user_name(name);
            Diagnostic::at(span, format!("unbound variable: {name}")).render(sources)
        })
    };
    let proc_name = |id: FuncId, _: &Function| lowered.proc_name(id).map(str::to_string);
    let eval_source = program_source(sources);
    let descriptor = match target {
        Target::Executable => None,
        Target::JitModule { descriptor } => Some(descriptor),
    };
    let resolve = |n: u32| {
        let span = lowered.span(Loc(n))?;
        let file = sources.get(span.file);
        let (line, col) = file.line_col(span.start);
        Some(valk_llvm::SourcePos {
            file: file.name.clone(),
            line,
            col,
            library: file.name == prelude::NAME,
        })
    };
    let site = |n: u32| {
        let span = lowered.span(Loc(n))?;
        let file = sources.get(span.file);
        let (line, col) = file.line_col(span.start);
        Some(valk_llvm::SiteSource {
            file: file.name.clone(),
            line,
            col,
            library: file.name == prelude::NAME,
            callee: lowered.callees.get(&n).cloned(),
            frame: lowered.loc_procs.get(&n).map(|p| match p {
                crate::lower::SiteProc::TopLevel => valk_llvm::SiteFrame::TopLevel,
                crate::lower::SiteProc::Proc(name) => {
                    valk_llvm::SiteFrame::Proc(name.clone().unwrap_or_default())
                }
                crate::lower::SiteProc::Hidden | crate::lower::SiteProc::ChunkCall => {
                    valk_llvm::SiteFrame::Hidden
                }
            }),
        })
    };
    // The compile unit's file: the program's, or the prelude's for the
    // JIT's prelude module.
    let main_file = sources
        .files()
        .iter()
        .find(|f| f.name != prelude::NAME)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| prelude::NAME.to_string());
    let opts = EmitOptions {
        aot: descriptor.is_none(),
        descriptor,
        install_eval: if descriptor.is_none() && uses_eval(lowered) {
            Some(&eval_source)
        } else {
            None
        },
        unbound_diag: &unbound,
        proc_name: &proc_name,
        debug: debug_info().then_some((main_file.as_str(), &resolve)),
        sites: Some(&site),
    };
    time_phase("emit", || {
        valk_llvm::emit_module(&lowered.module, toplevels, &opts)
    })
}

/// The program's main file as `name NUL text` (the first file of
/// `sources` after the prelude): what an executable that uses `eval`
/// replays into its evaluator's expander for the program's macros
/// (docs/libraries.md, "eval").
fn program_source(sources: &SourceMap) -> Vec<u8> {
    let Some(f) = sources.files().iter().find(|f| f.name != prelude::NAME) else {
        return Vec::new();
    };
    // The absolute path: re-expanding the program at run time finds the
    // libraries it imports and the files it loads from any directory (as
    // long as they are still there: docs/libraries.md, "eval").
    let name = std::fs::canonicalize(&f.name)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| f.name.clone());
    let mut out = name.into_bytes();
    out.push(0);
    out.extend_from_slice(f.text.as_bytes());
    out
}

/// The top-level forms of a whole program worth compiling: forms that only
/// define globals nothing reads are dropped, unless the program uses
/// `eval`, whose code may read any of them (docs/libraries.md, "eval").
pub fn pruned_toplevels(lowered: &Lowered) -> Vec<FuncId> {
    if uses_eval(lowered) {
        return lowered.toplevels.clone();
    }
    time_phase("prune", || {
        valk_vir::passes::prune::prune_toplevels(&lowered.module, &lowered.toplevels)
    })
}

/// The procedures that need the evaluator at run time.
pub const EVAL_PROCEDURES: &[&str] = &[
    "eval",
    "environment",
    "interaction-environment",
    "scheme-report-environment",
    "null-environment",
    "load",
];

/// Does the lowered program refer to one of [`EVAL_PROCEDURES`] (as a
/// global or a builtin)? Then an executable of it links
/// `libvalk_eval.a` and keeps every definition (docs/libraries.md,
/// "eval").
pub fn uses_eval(lowered: &Lowered) -> bool {
    let m = &lowered.module;
    m.builtins
        .iter()
        .chain(m.globals.iter().map(|g| &g.name))
        .any(|n| EVAL_PROCEDURES.contains(&n.as_str()))
}

/// The LLVM IR of a whole program, before the LLVM pipeline.
pub fn program_ir(p: &Program, target: Target) -> Result<String, PipelineError> {
    let tops = pruned_toplevels(&p.lowered);
    emit_llvm(&p.lowered, &tops, &p.sources, target).map_err(internal)
}

// ----- objects and executables ---------------------------------------------

/// Compiles `path` into the requested output (IR, assembly, object).
pub fn compile_file(path: &str, opt: u32, out: Output) -> Result<Vec<u8>, PipelineError> {
    let p = lower_file(path, opt)?;
    let ir = program_ir(&p, Target::Executable)?;
    let backend = Backend::new(opt).map_err(internal)?;
    backend.compile(&ir, opt, out).map_err(internal)
}

/// Compiles `path` into the executable `exe`.
pub fn build_executable(path: &str, exe: &Path, opt: u32) -> Result<(), PipelineError> {
    let p = lower_file(path, opt)?;
    link_program(&p, opt, exe, &exe.with_extension("valk.o"))
}

/// Compiles a whole program and links it with `libvalk_runtime.a` into
/// `exe` (with `libvalk_eval.a` instead when it uses `eval`:
/// [`uses_eval`]); the object goes to `obj_path` and is removed afterwards.
pub fn link_program(
    p: &Program,
    opt: u32,
    exe: &Path,
    obj_path: &Path,
) -> Result<(), PipelineError> {
    let (lib, name, var) = if uses_eval(&p.lowered) {
        (
            valk_llvm::find_eval_lib(),
            "libvalk_eval.a",
            "VALK_EVAL_LIB",
        )
    } else {
        (
            valk_llvm::find_runtime_lib(),
            "libvalk_runtime.a",
            "VALK_RUNTIME_LIB",
        )
    };
    let lib = lib.ok_or_else(|| {
        PipelineError(format!(
            "error: cannot find {name} (build the workspace, or set {var})\n"
        ))
    })?;
    let ir = program_ir(p, Target::Executable)?;
    let backend = Backend::new(opt).map_err(internal)?;
    backend
        .compile_and_link(&ir, opt, &lib, exe, obj_path)
        .map_err(internal)
}
