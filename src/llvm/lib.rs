//! `valk_llvm`: the LLVM backend. VIR → LLVM IR with `gc.statepoint` stack
//! maps → object files, and AOT executables linked with
//! `libvalk_runtime.a`.
//!
//! * [`emit`]: VIR → textual LLVM IR (calling convention, inline fast paths,
//!   runtime calls through exit trampolines);
//! * [`pipeline`]: parse, optimise, statepoint rewrite, verify, emit
//!   objects, link;
//! * [`entry_debug`]: with `-g`, one debugger frame per procedure called
//!   through its closure;
//! * [`jit`]: the in-process ORC JIT (objects linked by RTDyld, stack maps
//!   registered with the collector).
//!
//! The conventions shared with the runtime are documented in
//! `docs/calling-convention.md` ("Valk-to-Valk calls").

pub mod abi;
pub mod consts;
pub mod disasm;
pub mod emit;
pub mod entry_debug;
pub mod jit;
pub mod pipeline;

pub use emit::{
    default_proc_name, emit_module, EmitError, EmitOptions, LocResolver, SiteFrame, SiteResolver,
    SiteSource, SourcePos,
};
pub use pipeline::{
    find_eval_lib, find_runtime_lib, link_executable, link_flags, set_link_flags,
    set_stackmaps_writable, time_phase, Backend, BackendError, Output,
};

use std::path::Path;
use valk_vir::{FuncId, Loc, Module};

/// Compiles and links an AOT executable at `exe` (the object goes to a
/// temporary file next to it).
pub fn build_executable(
    m: &Module,
    toplevels: &[FuncId],
    level: u32,
    runtime_lib: &Path,
    exe: &Path,
) -> Result<(), BackendError> {
    let no_diag = |_: Loc, _: &str| None;
    let opts = EmitOptions {
        aot: true,
        descriptor: None,
        install_eval: None,
        unbound_diag: &no_diag,
        proc_name: &default_proc_name,
        debug: None,
        sites: None,
    };
    let ir = emit_module(m, toplevels, &opts)?;
    Backend::new(level)?.compile_and_link(
        &ir,
        level,
        runtime_lib,
        exe,
        &exe.with_extension("valk.o"),
    )
}
