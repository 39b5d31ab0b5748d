//! The AOT compile driver behind `valkc compile` and `valkc emit-llvm`:
//! read and expand the program after the prelude (as every engine loads
//! it), lower the whole program to one VIR module, run the VIR passes of
//! the level, generate LLVM IR, run the LLVM pipeline, and link the object
//! with `libvalk_runtime.a`.

use crate::lower::{self, LowerOptions, Lowered};
use crate::syntax::diag::Diagnostic;
use crate::syntax::source::SourceMap;
use std::path::Path;
use valk_llvm::{Backend, EmitOptions, Output};
use valk_vir::{FuncId, Function, Loc, OptLevel};

/// A failure, already rendered for stderr (diagnostics include their
/// source excerpt).
#[derive(Debug)]
pub struct AotError(pub String);

impl std::fmt::Display for AotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn internal(e: impl std::fmt::Display) -> AotError {
    AotError(format!("error: {e}\n"))
}

/// A program lowered and optimised at the VIR level.
pub struct Program {
    pub sources: SourceMap,
    pub lowered: Lowered,
}

/// Reads `path`, expands it after the prelude and lowers both into one
/// module (whole-program: globals defined once are called directly).
pub fn lower_file(path: &str, opt: u32) -> Result<Program, AotError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AotError(format!("error: cannot read {path}: {e}\n")))?;
    let mut sources = SourceMap::new();
    let render = |d: Diagnostic, s: &SourceMap| AotError(d.render(s));
    let expanded = match lower::expand_program(&mut sources, path, &text) {
        Ok(x) => x,
        Err(d) => return Err(render(d, &sources)),
    };
    let mut tops = expanded.prelude;
    tops.extend(expanded.program);
    let opts = LowerOptions {
        fixed_globals: true,
        ..LowerOptions::default()
    };
    let mut lowered =
        lower::lower_program(&tops, &sources, &opts).map_err(|d| render(d, &sources))?;
    let level = OptLevel::from_number(opt.min(3)).unwrap_or(OptLevel::O2);
    lower::optimize(&mut lowered, level).map_err(|d| render(d, &sources))?;
    Ok(Program { sources, lowered })
}

/// The LLVM IR text of a lowered program, before the LLVM pipeline.
pub fn program_ir(p: &Program) -> Result<String, AotError> {
    let lowered = &p.lowered;
    let tops = valk_llvm::prune::prune_toplevels(&lowered.module, &lowered.toplevels);
    emit_lowered(lowered, &tops, &p.sources, None).map_err(internal)
}

/// The LLVM IR of the lowered `toplevels`: an AOT executable's
/// (`jit_descriptor == None`) or a JIT module exporting its descriptor
/// under that name.
pub fn emit_lowered(
    lowered: &Lowered,
    toplevels: &[FuncId],
    sources: &SourceMap,
    jit_descriptor: Option<&str>,
) -> Result<String, valk_llvm::EmitError> {
    // The interpreter prints unbound variables with their location; the
    // text is rendered here and embedded in the code.
    let unbound = |loc: Loc, name: &str| {
        lowered
            .span(loc)
            .map(|span| Diagnostic::at(span, format!("unbound variable: {name}")).render(sources))
    };
    let proc_name = |id: FuncId, _: &Function| lowered.proc_name(id).map(str::to_string);
    let opts = EmitOptions {
        aot: jit_descriptor.is_none(),
        descriptor: jit_descriptor,
        unbound_diag: &unbound,
        proc_name: &proc_name,
    };
    valk_llvm::emit_module(&lowered.module, toplevels, &opts)
}

/// Compiles `path` into the requested output (IR, assembly, object).
pub fn compile_file(path: &str, opt: u32, out: Output) -> Result<Vec<u8>, AotError> {
    let p = lower_file(path, opt)?;
    let ir = program_ir(&p)?;
    let backend = Backend::new(opt).map_err(internal)?;
    backend.compile(&ir, opt, out).map_err(internal)
}

/// Compiles `path` into the executable `exe`.
pub fn build_executable(path: &str, exe: &Path, opt: u32) -> Result<(), AotError> {
    let p = lower_file(path, opt)?;
    link_program(&p, opt, exe, &exe.with_extension("valk.o"))
}

/// Compiles a lowered program and links it with `libvalk_runtime.a` into
/// `exe`; the object goes to `obj_path` and is removed afterwards.
pub fn link_program(p: &Program, opt: u32, exe: &Path, obj_path: &Path) -> Result<(), AotError> {
    let lib = valk_llvm::find_runtime_lib().ok_or_else(|| {
        AotError(
            "error: cannot find libvalk_runtime.a (build the workspace, or set VALK_RUNTIME_LIB)\n"
                .into(),
        )
    })?;
    let ir = program_ir(p)?;
    let backend = Backend::new(opt).map_err(internal)?;
    let obj = backend
        .compile(&ir, opt, Output::Object)
        .map_err(internal)?;
    std::fs::write(obj_path, obj)
        .map_err(|e| AotError(format!("error: cannot write {}: {e}\n", obj_path.display())))?;
    let r = valk_llvm::link_executable(obj_path, &lib, exe).map_err(internal);
    let _ = std::fs::remove_file(obj_path);
    r
}
