//! From IR text to an optimised, statepoint-rewritten, verified module and
//! then to an object file, and linking AOT executables.
//!
//! Pipeline (docs/calling-convention.md, "LLVM facts the backend relies
//! on"): `default<On>`, then (with `-g`) [`crate::entry_debug`], then
//! `"gc-leaf-function"` on
//! every `musttail` call site (after inlining, which can turn tail calls
//! into ordinary ones; RS4GC cannot rewrite a musttail call and the
//! caller's frame is gone after it anyway), then
//! `rewrite-statepoints-for-gc`, then the verifier — always, since a broken
//! module is otherwise only noticed by crashing code.

use inkwell::attributes::AttributeLoc;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine,
};
use inkwell::values::AsValueRef;
use inkwell::values::{CallSiteValue, InstructionOpcode};
use inkwell::OptimizationLevel;
use llvm_sys::prelude::LLVMValueRef;
use llvm_sys::LLVMTailCallKind;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError(pub String);

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

impl From<crate::emit::EmitError> for BackendError {
    fn from(e: crate::emit::EmitError) -> Self {
        BackendError(e.0)
    }
}

/// Runs `f`, and with `VALK_TIME_PHASES=1` prints on stderr how long it
/// took (`phase NAME: MS ms`): the compile-time switch of
/// docs/architecture.md, "Large programs".
pub fn time_phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let on = *ON.get_or_init(|| std::env::var_os("VALK_TIME_PHASES").is_some_and(|v| v != "0"));
    if !on {
        return f();
    }
    let t = std::time::Instant::now();
    let r = f();
    eprintln!("phase {name}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    r
}

/// What to produce from a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Textual LLVM IR after the whole pipeline (statepoints included).
    LlvmIr,
    /// Textual LLVM IR after optimisation, before the statepoint rewrite.
    LlvmIrBeforeGc,
    Asm,
    Object,
}

/// An LLVM context and a target machine for the host.
pub struct Backend {
    ctx: Context,
    tm: TargetMachine,
}

fn opt_level(level: u32) -> OptimizationLevel {
    match level {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    }
}

impl Backend {
    /// A backend generating code for the host at optimisation `level`
    /// (0–3; the code generator's level follows it).
    pub fn new(level: u32) -> Result<Backend, BackendError> {
        Target::initialize_native(&InitializationConfig::default()).map_err(BackendError)?;
        disable_vectorizers();
        let triple = TargetMachine::get_default_triple();
        let target = Target::from_triple(&triple).map_err(|e| BackendError(e.to_string()))?;
        let cpu = TargetMachine::get_host_cpu_name();
        let features = TargetMachine::get_host_cpu_features();
        let tm = target
            .create_target_machine(
                &triple,
                cpu.to_str().unwrap_or("x86-64"),
                features.to_str().unwrap_or(""),
                opt_level(level),
                RelocMode::PIC,
                CodeModel::Default,
            )
            .ok_or_else(|| BackendError("cannot create a target machine for the host".into()))?;
        Ok(Backend {
            ctx: Context::create(),
            tm,
        })
    }

    pub fn target_machine(&self) -> &TargetMachine {
        &self.tm
    }

    /// Parses IR text (as `emit::emit_module` writes it) for this target.
    pub fn parse<'a>(&'a self, ir: &str) -> Result<Module<'a>, BackendError> {
        let buf = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "valk");
        let m = self
            .ctx
            .create_module_from_ir(buf)
            .map_err(|e| BackendError(format!("internal error: bad LLVM IR: {e}")))?;
        m.set_triple(&self.tm.get_triple());
        m.set_data_layout(&self.tm.get_target_data().get_data_layout());
        Ok(m)
    }

    /// Runs the pipeline on `m`. With `gc == false` it stops before the
    /// statepoint rewrite (for `emit-llvm --before-gc`).
    pub fn optimize(&self, m: &Module, level: u32, gc: bool) -> Result<(), BackendError> {
        let passes = format!("default<O{}>", level.min(3));
        time_phase("llvm passes", || {
            m.run_passes(&passes, &self.tm, pass_options())
        })
        .map_err(|e| BackendError(format!("internal error: LLVM passes failed: {e}")))?;
        time_phase("entry debug", || {
            crate::entry_debug::flatten_entry_inlining(m)
        });
        if !gc {
            return verify(m);
        }
        mark_musttail_gc_leaf(&self.ctx, m);
        time_phase("rs4gc", || {
            m.run_passes("rewrite-statepoints-for-gc", &self.tm, pass_options())
        })
        .map_err(|e| BackendError(format!("internal error: statepoint rewrite failed: {e}")))?;
        time_phase("drop dead gc-live", || drop_dead_gc_live(m));
        verify(m)?;
        check_scalar_relocations(m)
    }

    /// Compiles IR text into an object at `obj_path`, links it with the
    /// runtime library into the executable `exe` and removes the object:
    /// the last step of every AOT build.
    pub fn compile_and_link(
        &self,
        ir: &str,
        level: u32,
        runtime_lib: &Path,
        exe: &Path,
        obj_path: &Path,
    ) -> Result<(), BackendError> {
        let obj = self.compile(ir, level, Output::Object)?;
        std::fs::write(obj_path, obj)
            .map_err(|e| BackendError(format!("cannot write {}: {e}", obj_path.display())))?;
        let r = link_executable(obj_path, runtime_lib, exe);
        let _ = std::fs::remove_file(obj_path);
        r
    }

    /// Compiles IR text through the pipeline into the requested output.
    pub fn compile(&self, ir: &str, level: u32, out: Output) -> Result<Vec<u8>, BackendError> {
        let m = time_phase("llvm parse", || self.parse(ir))?;
        time_phase("llvm verify", || verify(&m))?;
        self.optimize(&m, level, out != Output::LlvmIrBeforeGc)?;
        match out {
            Output::LlvmIr | Output::LlvmIrBeforeGc => {
                Ok(m.print_to_string().to_string().into_bytes())
            }
            Output::Asm => self.emit(&m, FileType::Assembly),
            Output::Object => {
                let mut obj = self.emit(&m, FileType::Object)?;
                set_stackmaps_writable(&mut obj)?;
                Ok(obj)
            }
        }
    }

    fn emit(&self, m: &Module, ft: FileType) -> Result<Vec<u8>, BackendError> {
        let buf = time_phase("codegen", || self.tm.write_to_memory_buffer(m, ft))
            .map_err(|e| BackendError(format!("internal error: code generation failed: {e}")))?;
        Ok(buf.as_slice().to_vec())
    }
}

/// Turns the SLP and loop vectorisers off process-wide (the pipeline
/// options alone do not keep `default<O2>` from running SLP on some
/// targets). See [`pass_options`] for why.
fn disable_vectorizers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let args = [
            c"valk".as_ptr(),
            c"-vectorize-slp=false".as_ptr(),
            c"-vectorize-loops=false".as_ptr(),
        ];
        // SAFETY: three static C strings; called once, before any pass runs
        // (LLVM's option parser is not thread-safe).
        unsafe {
            llvm_sys::support::LLVMParseCommandLineOptions(
                args.len() as i32,
                args.as_ptr(),
                std::ptr::null(),
            )
        };
    });
}

/// No vectorisation: a vector of GC values is relocated as one stack map
/// location of 16+ bytes, which the stack walker (8-byte slots) would only
/// half update.
fn pass_options() -> PassBuilderOptions {
    let o = PassBuilderOptions::create();
    o.set_loop_vectorization(false);
    o.set_loop_slp_vectorization(false);
    o
}

/// Fails if the rewrite relocated a vector of GC values (see
/// [`pass_options`]): better a compile error than a heap corruption.
fn check_scalar_relocations(m: &Module) -> Result<(), BackendError> {
    let mut f = m.get_first_function();
    while let Some(func) = f {
        let name = func.get_name().to_string_lossy();
        if name.starts_with("llvm.experimental.gc.relocate.v") {
            return Err(BackendError(format!(
                "internal error: vector of GC values relocated ({name})"
            )));
        }
        f = func.get_next_function();
    }
    Ok(())
}

fn verify(m: &Module) -> Result<(), BackendError> {
    m.verify()
        .map_err(|e| BackendError(format!("internal error: invalid LLVM module: {e}")))
}

/// Adds `"gc-leaf-function"` to every `musttail` call site.
fn mark_musttail_gc_leaf(ctx: &Context, m: &Module) {
    let attr = ctx.create_string_attribute("gc-leaf-function", "");
    let mut f = m.get_first_function();
    while let Some(func) = f {
        for bb in func.get_basic_blocks() {
            let mut i = bb.get_first_instruction();
            while let Some(inst) = i {
                if inst.get_opcode() == InstructionOpcode::Call
                    && inst.get_tail_call_kind() == Ok(LLVMTailCallKind::LLVMTailCallKindMustTail)
                {
                    if let Ok(cs) = CallSiteValue::try_from(inst) {
                        cs.add_attribute(AttributeLoc::Function, attr);
                    }
                }
                i = inst.get_next_instruction();
            }
        }
        f = func.get_next_function();
    }
}

/// Is `inst` a call of the intrinsic whose name starts with `prefix`?
fn calls_intrinsic(inst: LLVMValueRef, prefix: &[u8]) -> bool {
    use llvm_sys::core::{LLVMGetCalledValue, LLVMGetValueName2, LLVMIsACallInst};
    // SAFETY: `inst` is a live instruction of a module we own; the name is
    // read before anything changes.
    unsafe {
        if LLVMIsACallInst(inst).is_null() {
            return false;
        }
        let callee = LLVMGetCalledValue(inst);
        if callee.is_null() {
            return false;
        }
        let mut len = 0usize;
        let p = LLVMGetValueName2(callee, &mut len);
        !p.is_null() && std::slice::from_raw_parts(p as *const u8, len).starts_with(prefix)
    }
}

/// Replaces by `null` every `gc-live` entry of a statepoint that no used
/// `gc.relocate` refers to, and deletes unused relocates. The rewrite
/// keeps a call's own GC arguments live across it even when nothing uses
/// them afterwards, so each dead argument cost a spill before every call;
/// a constant entry needs no slot and the collector skips it
/// (docs/calling-convention.md, "Stack maps" and "Valk-to-Valk calls").
fn drop_dead_gc_live(m: &Module) {
    let mut f = m.get_first_function();
    while let Some(func) = f {
        for bb in func.get_basic_blocks() {
            let mut i = bb.get_first_instruction();
            while let Some(inst) = i {
                i = inst.get_next_instruction();
                let v = inst.as_value_ref();
                if calls_intrinsic(v, b"llvm.experimental.gc.statepoint") {
                    prune_statepoint(v);
                }
            }
        }
        f = func.get_next_function();
    }
}

fn prune_statepoint(s: LLVMValueRef) {
    use llvm_sys::core::*;
    // SAFETY: `s` is a statepoint call of a module we own; its users are
    // collected before any of them is erased, and only operands inside
    // its single `gc-live` bundle are replaced (by constants of the same
    // type).
    unsafe {
        if LLVMGetNumOperandBundles(s) != 1 {
            return;
        }
        let b = LLVMGetOperandBundleAtIndex(s, 0);
        let mut len = 0usize;
        let tag = LLVMGetOperandBundleTag(b, &mut len);
        let is_live = std::slice::from_raw_parts(tag as *const u8, len) == b"gc-live";
        let nlive = LLVMGetNumOperandBundleArgs(b) as usize;
        LLVMDisposeOperandBundle(b);
        let nargs = LLVMGetNumArgOperands(s) as usize;
        // Operands: the arguments, the bundle's, then the callee.
        if !is_live || nargs + nlive + 1 != LLVMGetNumOperands(s) as usize {
            return;
        }
        let mut used = vec![false; nlive];
        let mut dead = Vec::new();
        let mut u = LLVMGetFirstUse(s);
        while !u.is_null() {
            let user = LLVMGetUser(u);
            u = LLVMGetNextUse(u);
            if calls_intrinsic(user, b"llvm.experimental.gc.relocate") {
                if LLVMGetFirstUse(user).is_null() {
                    dead.push(user);
                } else {
                    for k in [1, 2] {
                        let ix = LLVMConstIntGetZExtValue(LLVMGetOperand(user, k)) as usize;
                        match used.get_mut(ix) {
                            Some(x) => *x = true,
                            None => return,
                        }
                    }
                }
            } else if !calls_intrinsic(user, b"llvm.experimental.gc.result") {
                return;
            }
        }
        for d in dead {
            LLVMInstructionEraseFromParent(d);
        }
        for (k, &keep) in used.iter().enumerate() {
            let op = LLVMGetOperand(s, (nargs + k) as u32);
            if !keep && LLVMIsConstant(op) == 0 {
                LLVMSetOperand(s, (nargs + k) as u32, LLVMConstNull(LLVMTypeOf(op)));
            }
        }
    }
}

fn rd_u16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn rd_u32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn rd_u64(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// Sets `SHF_WRITE` on `.llvm_stackmaps` in an ELF64 object: the section
/// holds absolute addresses, and a read-only section with dynamic
/// relocations makes PIE links emit text relocations (docs/calling-convention.md,
/// "LLVM facts the backend relies on"). An
/// object without the section (a JIT module with no safepoint; AOT
/// objects always have it through the `valk_stackmaps` label) is left
/// as it is.
pub fn set_stackmaps_writable(obj: &mut [u8]) -> Result<(), BackendError> {
    let bad = || BackendError("internal error: unexpected object file layout".into());
    if obj.get(0..4) != Some(b"\x7fELF".as_slice()) || obj.get(4) != Some(&2) {
        return Err(bad());
    }
    let shoff = rd_u64(obj, 0x28).ok_or_else(bad)? as usize;
    let shentsize = rd_u16(obj, 0x3a).ok_or_else(bad)? as usize;
    let shnum = rd_u16(obj, 0x3c).ok_or_else(bad)? as usize;
    let shstrndx = rd_u16(obj, 0x3e).ok_or_else(bad)? as usize;
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = rd_u64(obj, sh(shstrndx) + 0x18).ok_or_else(bad)? as usize;
    for i in 0..shnum {
        let name_off = rd_u32(obj, sh(i)).ok_or_else(bad)? as usize;
        let start = strtab + name_off;
        let name = obj.get(start..).ok_or_else(bad)?;
        let end = name.iter().position(|&c| c == 0).ok_or_else(bad)?;
        if &name[..end] == b".llvm_stackmaps" {
            let fo = sh(i) + 8;
            let flags = rd_u64(obj, fo).ok_or_else(bad)? | 1;
            obj[fo..fo + 8].copy_from_slice(&flags.to_le_bytes());
            return Ok(());
        }
    }
    Ok(())
}

/// The runtime library AOT executables link: `$VALK_RUNTIME_LIB`, else the
/// newest of `libvalk_runtime.a` next to the running executable or one
/// directory up (test binaries live in `deps/`) and the
/// `libvalk_runtime-*.a` files cargo leaves in `deps/` (when the runtime
/// was only built as a dependency, e.g. by `cargo test -p valk`, the
/// uplifted copy may be stale).
pub fn find_runtime_lib() -> Option<PathBuf> {
    find_lib("valk_runtime", "VALK_RUNTIME_LIB")
}

/// `libvalk_eval.a`, the runtime with the evaluator (expander and
/// interpreter) that executables calling `eval` link instead of
/// `libvalk_runtime.a` (docs/libraries.md, "eval"); found like
/// [`find_runtime_lib`], or named by `VALK_EVAL_LIB`.
pub fn find_eval_lib() -> Option<PathBuf> {
    find_lib("valk_eval", "VALK_EVAL_LIB")
}

/// `lib<stem>.a` next to the running executable, in its parent directory,
/// in `deps/` (test binaries) or in `../lib/` (the installed layout,
/// `PREFIX/bin` and `PREFIX/lib`: docs/embedding.md), the newest if
/// several; `env` overrides.
fn find_lib(stem: &str, env: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates: Vec<PathBuf> = Vec::new();
    let installed = dir.parent().map(|p| p.join("lib"));
    for d in [Some(dir), dir.parent(), installed.as_deref()]
        .into_iter()
        .flatten()
    {
        candidates.push(d.join(format!("lib{stem}.a")));
    }
    let prefix = format!("lib{stem}-");
    for d in [dir.join("deps"), dir.to_path_buf()] {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(&prefix) && name.ends_with(".a") {
                    candidates.push(e.path());
                }
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|p| {
            let t = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
            Some((t, p))
        })
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
}

/// Links `obj` with the runtime library into executable `out` using `cc`.
/// Extra linker flags (`valkc -l NAME -L DIR`, as `-lNAME`/`-LDIR`) for
/// every executable linked afterwards (docs/ffi.md, "Typed foreign
/// procedures").
static LINK_FLAGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Sets the extra linker flags of [`link_executable`].
pub fn set_link_flags(flags: Vec<String>) {
    *LINK_FLAGS.lock().unwrap_or_else(|e| e.into_inner()) = flags;
}

/// The extra linker flags [`set_link_flags`] set.
pub fn link_flags() -> Vec<String> {
    LINK_FLAGS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub fn link_executable(obj: &Path, runtime_lib: &Path, out: &Path) -> Result<(), BackendError> {
    let mut extra = LINK_FLAGS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if !extra.is_empty() {
        // Compiled code finds the symbols with `dlsym` (library `#f`), not
        // through relocations, so the linker must keep every library.
        extra.insert(0, "-Wl,--no-as-needed".into());
    }
    let output = Command::new("cc")
        .arg(obj)
        .arg(runtime_lib)
        // The user's libraries after the runtime and before the system
        // ones, as `cc` resolves in order.
        .args(&extra)
        .args(["-lffi", "-lpthread", "-ldl", "-lm", "-o"])
        .arg(out)
        .output()
        .map_err(|e| BackendError(format!("cannot run the linker `cc`: {e}")))?;
    if !output.status.success() {
        return Err(BackendError(format!(
            "linking failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(())
}
