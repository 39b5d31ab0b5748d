//! The in-process ORC JIT (docs/jit.md): an LLVM `LLJIT` whose object
//! linking layer is RTDyld with our own memory manager.
//!
//! * Modules are compiled to relocatable objects by [`Backend`] (the same
//!   pipeline as AOT: VIR passes, LLVM passes, statepoint rewrite) and added
//!   with `LLVMOrcLLJITAddObjectFile`; linking happens at the first lookup.
//! * The memory manager hands out all sections from one reserved 2 GiB
//!   region (code in the lower half, data in the upper), so the small code
//!   model's 32-bit PC-relative references always reach. Each object's code
//!   starts on a fresh page and becomes read+execute when RTDyld finalises
//!   it; nothing is ever freed (REPL code lives as long as the process).
//! * The `.llvm_stackmaps` section of every object is recorded while it is
//!   allocated; it is relocated by the time the lookup returns, and is then
//!   registered with the collector, so frames of code added at any time are
//!   walked like those of the first module.
//! * Runtime symbols are absolute symbols of the main `JITDylib` (a Rust
//!   binary exports nothing dynamically); libc symbols LLVM may call
//!   (`memcpy`...) come from a process search generator.

use crate::pipeline::{Backend, BackendError, Output};
use llvm_sys::error::{LLVMDisposeErrorMessage, LLVMErrorRef, LLVMGetErrorMessage};
use llvm_sys::orc2::lljit::*;
use llvm_sys::orc2::*;
use std::ffi::{c_char, c_uint, c_void, CStr, CString};
use std::sync::Mutex;

/// Size of the region every JIT section is allocated from.
const REGION_SIZE: usize = 2 << 30;
/// Committed memory grows in steps of this many bytes.
const COMMIT_STEP: usize = 1 << 20;
const PAGE: usize = 4096;

/// The process-wide allocation region of JIT code and data.
struct Region {
    base: usize,
    code_next: usize,
    code_committed: usize,
    data_next: usize,
    data_committed: usize,
}

static REGION: Mutex<Option<Region>> = Mutex::new(None);
/// `.llvm_stackmaps` sections allocated since the last registration.
static PENDING_STACKMAPS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn align_up(x: usize, a: usize) -> usize {
    (x + a - 1) & !(a - 1)
}

impl Region {
    fn reserve() -> Option<Region> {
        // SAFETY: a fresh anonymous mapping at an address of the kernel's
        // choosing; it overlaps no Rust object.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                REGION_SIZE,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let base = p as usize;
        let half = base + REGION_SIZE / 2;
        Some(Region {
            base,
            code_next: base,
            code_committed: base,
            data_next: half,
            data_committed: half,
        })
    }

    /// Makes `[*committed, end)` readable and writable, in steps.
    fn commit(committed: &mut usize, end: usize) -> bool {
        if end <= *committed {
            return true;
        }
        let new_end = align_up(end, COMMIT_STEP);
        // SAFETY: `[*committed, new_end)` lies inside the reserved region
        // (callers check `end` against its half; the halves are multiples
        // of the step) and holds no Rust object yet.
        let r = unsafe {
            libc::mprotect(
                *committed as *mut c_void,
                new_end - *committed,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if r != 0 {
            return false;
        }
        *committed = new_end;
        true
    }

    fn alloc_code(&mut self, ctx: &mut ObjectMemory, size: usize, align: usize) -> *mut u8 {
        if ctx.code_start == 0 {
            // A fresh page: finalising this object must not flip pages
            // another object's code is still being written to.
            self.code_next = align_up(self.code_next, PAGE);
            ctx.code_start = self.code_next;
        }
        let start = align_up(self.code_next, align.max(16));
        let end = start + size;
        if end > self.base + REGION_SIZE / 2 || !Self::commit(&mut self.code_committed, end) {
            return std::ptr::null_mut();
        }
        self.code_next = end;
        ctx.code_end = end;
        start as *mut u8
    }

    fn alloc_data(&mut self, size: usize, align: usize) -> *mut u8 {
        let start = align_up(self.data_next, align.max(16));
        let end = start + size;
        if end > self.base + REGION_SIZE || !Self::commit(&mut self.data_committed, end) {
            return std::ptr::null_mut();
        }
        self.data_next = end;
        start as *mut u8
    }
}

/// Per-object memory-manager state: the code range to protect.
#[derive(Default)]
struct ObjectMemory {
    code_start: usize,
    code_end: usize,
}

extern "C" fn mm_create_context(_: *mut c_void) -> *mut c_void {
    Box::into_raw(Box::<ObjectMemory>::default()) as *mut c_void
}

extern "C" fn mm_notify_terminating(_: *mut c_void) {}

extern "C" fn mm_alloc_code(
    opaque: *mut c_void,
    size: usize,
    align: c_uint,
    _section_id: c_uint,
    _name: *const c_char,
) -> *mut u8 {
    // SAFETY: `opaque` is the context `mm_create_context` boxed for this
    // object; RTDyld passes it back and makes no concurrent calls for it.
    let ctx = unsafe { &mut *(opaque as *mut ObjectMemory) };
    let mut g = REGION.lock().unwrap_or_else(|e| e.into_inner());
    match g.as_mut() {
        Some(r) => r.alloc_code(ctx, size, align as usize),
        None => std::ptr::null_mut(),
    }
}

extern "C" fn mm_alloc_data(
    _opaque: *mut c_void,
    size: usize,
    align: c_uint,
    _section_id: c_uint,
    name: *const c_char,
    _read_only: llvm_sys::prelude::LLVMBool,
) -> *mut u8 {
    let p = {
        let mut g = REGION.lock().unwrap_or_else(|e| e.into_inner());
        match g.as_mut() {
            Some(r) => r.alloc_data(size, align as usize),
            None => return std::ptr::null_mut(),
        }
    };
    if !p.is_null() && !name.is_null() {
        // SAFETY: RTDyld passes the section name as a C string.
        let name = unsafe { CStr::from_ptr(name) };
        if name.to_bytes() == b".llvm_stackmaps" {
            PENDING_STACKMAPS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p as usize);
        }
    }
    p
}

extern "C" fn mm_finalize(
    opaque: *mut c_void,
    err: *mut *mut c_char,
) -> llvm_sys::prelude::LLVMBool {
    // SAFETY: as in `mm_alloc_code`.
    let ctx = unsafe { &*(opaque as *const ObjectMemory) };
    if ctx.code_start != 0 && ctx.code_end > ctx.code_start {
        let start = ctx.code_start & !(PAGE - 1);
        let end = align_up(ctx.code_end, PAGE);
        // SAFETY: these pages hold only this object's code (each object's
        // code starts on a fresh page), fully written by RTDyld now; no Rust
        // reference points into them.
        let r = unsafe {
            libc::mprotect(
                start as *mut c_void,
                end - start,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if r != 0 {
            if !err.is_null() {
                // LLVM frees the message with free().
                // SAFETY: `err` is non-null and points at LLVM's message slot.
                unsafe { *err = libc::strdup(c"cannot make JIT code executable".as_ptr()) };
            }
            return 1;
        }
    }
    0
}

extern "C" fn mm_destroy(opaque: *mut c_void) {
    // SAFETY: the box made by `mm_create_context`; RTDyld destroys each
    // context once, after its last use.
    drop(unsafe { Box::from_raw(opaque as *mut ObjectMemory) });
}

extern "C" fn create_object_layer(
    _ctx: *mut c_void,
    es: LLVMOrcExecutionSessionRef,
    _triple: *const c_char,
) -> LLVMOrcObjectLayerRef {
    // SAFETY: `es` is the session LLJIT passes; the callbacks have the
    // signatures the C API declares and live for the process.
    let layer = unsafe {
        llvm_sys::orc2::ee::LLVMOrcCreateRTDyldObjectLinkingLayerWithMCJITMemoryManagerLikeCallbacks(
            es,
            std::ptr::null_mut(),
            mm_create_context,
            mm_notify_terminating,
            mm_alloc_code,
            mm_alloc_data,
            mm_finalize,
            Some(mm_destroy),
        )
    };
    register_listeners(layer);
    layer
}

/// Makes JIT code visible to debuggers and profilers (docs/jit.md,
/// "Debuggers and profilers"): every linked object is registered with
/// gdb's JIT interface, and with `VALK_PERF=1` described in perf's jitdump
/// format (`perf inject --jit`).
fn register_listeners(layer: LLVMOrcObjectLayerRef) {
    use llvm_sys::execution_engine::{
        LLVMCreateGDBRegistrationListener, LLVMCreatePerfJITEventListener,
    };
    use llvm_sys::orc2::ee::LLVMOrcRTDyldObjectLinkingLayerRegisterJITEventListener;
    let gdb = !matches!(std::env::var("VALK_GDB").as_deref(), Ok("0"));
    let perf = matches!(std::env::var("VALK_PERF").as_deref(), Ok("1"));
    // SAFETY: `layer` is the RTDyld layer just made; the listeners are
    // LLVM's process-wide ones (null when LLVM was built without them).
    unsafe {
        if gdb {
            let l = LLVMCreateGDBRegistrationListener();
            if !l.is_null() {
                LLVMOrcRTDyldObjectLinkingLayerRegisterJITEventListener(layer, l);
            }
        }
        if perf {
            let l = LLVMCreatePerfJITEventListener();
            if l.is_null() {
                valk_runtime::eprintln_quiet!(
                    "warning: VALK_PERF=1: this LLVM has no perf support; no jitdump is written"
                );
            } else {
                LLVMOrcRTDyldObjectLinkingLayerRegisterJITEventListener(layer, l);
            }
        }
    }
}

fn take_error(e: LLVMErrorRef) -> Result<(), BackendError> {
    if e.is_null() {
        return Ok(());
    }
    // SAFETY: `e` is a non-null error LLVM returned to us, consumed once
    // here; its message is a C string freed with the matching call.
    unsafe {
        let m = LLVMGetErrorMessage(e);
        let s = CStr::from_ptr(m).to_string_lossy().into_owned();
        LLVMDisposeErrorMessage(m);
        Err(BackendError(format!("internal error: JIT: {s}")))
    }
}

/// The address of runtime symbol `name` in this process (every name
/// [`crate::emit::runtime_symbol_names`] lists).
pub fn runtime_address(name: &str) -> Option<usize> {
    use std::ptr::addr_of;
    use valk_runtime::ffi::typed;
    use valk_runtime::gc::{self, frames};
    use valk_runtime::rt;
    Some(match name {
        "valk_alloc_ptr" => addr_of!(gc::valk_alloc_ptr) as usize,
        "valk_alloc_limit" => addr_of!(gc::valk_alloc_limit) as usize,
        "valk_stack_limit" => addr_of!(rt::valk_stack_limit) as usize,
        "valk_apply_info" => addr_of!(rt::valk_apply_info) as usize,
        "valk_tail_pending" => addr_of!(rt::valk_tail_pending) as usize,
        "valk_interrupt" => addr_of!(valk_runtime::interrupt::valk_interrupt) as usize,
        "valk_young_lo" => addr_of!(gc::barrier::valk_young_lo) as usize,
        "valk_young_size" => addr_of!(gc::barrier::valk_young_size) as usize,
        "valk_gc_remember" => gc::valk_gc_remember as *const () as usize,
        "valk_redefined" => addr_of!(valk_runtime::globals::valk_redefined) as usize,
        "valk_rt_global_written" => {
            valk_runtime::globals::valk_rt_global_written as *const () as usize
        }
        "valk_rt_interrupt" => rt::valk_rt_interrupt as *const () as usize,
        "valk_gc_alloc_slow" => frames::valk_gc_alloc_slow as *const () as usize,
        "valk_rt_call" => frames::valk_rt_call as *const () as usize,
        "valk_rt_call_builtin" => rt::valk_rt_call_builtin as *const () as usize,
        "valk_rt_wrong_type" => rt::valk_rt_wrong_type as *const () as usize,
        "valk_rt_arity" => rt::valk_rt_arity as *const () as usize,
        "valk_rt_unbound" => rt::valk_rt_unbound as *const () as usize,
        "valk_rt_undefined" => rt::valk_rt_undefined as *const () as usize,
        "valk_rt_arity_error" => rt::valk_rt_arity_error as *const () as usize,
        "valk_rt_div_zero" => rt::valk_rt_div_zero as *const () as usize,
        "valk_rt_range" => rt::valk_rt_range as *const () as usize,
        "valk_rt_stack_overflow" => rt::valk_rt_stack_overflow as *const () as usize,
        "valk_rt_arith" => rt::valk_rt_arith as *const () as usize,
        "valk_rt_compare" => rt::valk_rt_compare as *const () as usize,
        "valk_rt_fl_arith" => rt::valk_rt_fl_arith as *const () as usize,
        "valk_rt_fl_compare" => rt::valk_rt_fl_compare as *const () as usize,
        "valk_rt_capture" => rt::valk_rt_capture as *const () as usize,
        "valk_rt_call_ec" => rt::valk_rt_call_ec as *const () as usize,
        "valk_tail_call_ec" => valk_runtime::cont::valk_tail_call_ec as *const () as usize,
        "valk_rt_rest_list" => rt::valk_rt_rest_list as *const () as usize,
        "valk_rt_pack_args" => rt::valk_rt_pack_args as *const () as usize,
        "valk_rt_apply_spread" => rt::valk_rt_apply_spread as *const () as usize,
        "valk_rt_call_spread" => rt::valk_rt_call_spread as *const () as usize,
        "valk_rt_tail_call" => rt::valk_rt_tail_call as *const () as usize,
        "valk_aot_main" => valk_runtime::aot::valk_aot_main as *const () as usize,
        "valk_ffi_target" => addr_of!(typed::valk_ffi_target) as usize,
        "valk_ffi_ntemps" => addr_of!(typed::valk_ffi_ntemps) as usize,
        "valk_ffi_pending" => addr_of!(typed::valk_ffi_pending) as usize,
        "valk_ffi_errno" => addr_of!(typed::valk_ffi_errno) as usize,
        "valk_stdout_pending" => addr_of!(valk_runtime::io::valk_stdout_pending) as usize,
        "valk_ffi_exit" => typed::valk_ffi_exit as *const () as usize,
        "valk_ffi_resolve" => typed::valk_ffi_resolve as *const () as usize,
        "valk_ffi_arg" => typed::valk_ffi_arg as *const () as usize,
        "valk_ffi_finish" => typed::valk_ffi_finish as *const () as usize,
        "valk_ffi_reraise" => typed::valk_ffi_reraise as *const () as usize,
        "valk_ffi_box" => typed::valk_ffi_box as *const () as usize,
        "valk_ffi_flush" => typed::valk_ffi_flush as *const () as usize,
        "__errno_location" => libc::__errno_location as *const () as usize,
        _ => return None,
    })
}

/// An LLJIT instance with the runtime's symbols defined and the support
/// module (`@valk_compiled_entry`) added.
pub struct Jit {
    lljit: LLVMOrcLLJITRef,
    backend: Backend,
    level: u32,
    next_module: u64,
}

impl Jit {
    /// Creates the JIT; `level` (0–3) is the optimisation level of every
    /// module it compiles.
    pub fn new(level: u32) -> Result<Jit, BackendError> {
        let backend = Backend::new(level)?;
        {
            let mut g = REGION.lock().unwrap_or_else(|e| e.into_inner());
            if g.is_none() {
                *g = Some(Region::reserve().ok_or_else(|| {
                    BackendError("error: cannot reserve memory for JIT code".into())
                })?);
            }
        }
        let mut lljit: LLVMOrcLLJITRef = std::ptr::null_mut();
        // SAFETY: the builder is created here and consumed by
        // `LLVMOrcCreateLLJIT`, which writes the instance to `lljit`.
        unsafe {
            let builder = LLVMOrcCreateLLJITBuilder();
            LLVMOrcLLJITBuilderSetObjectLinkingLayerCreator(
                builder,
                create_object_layer,
                std::ptr::null_mut(),
            );
            take_error(LLVMOrcCreateLLJIT(&mut lljit, builder))?;
        }
        let mut jit = Jit {
            lljit,
            backend,
            level,
            next_module: 0,
        };
        jit.define_runtime_symbols()?;
        let support = crate::emit::emit_support_module();
        let obj = jit.backend.compile(&support, level, Output::Object)?;
        jit.add_object(&obj)?;
        Ok(jit)
    }

    fn define_runtime_symbols(&mut self) -> Result<(), BackendError> {
        // SAFETY: `self.lljit` is a live instance; the symbol pairs and the
        // generator are handed over to (and owned by) its main JITDylib;
        // every address is that of a runtime symbol of this process.
        unsafe {
            let jd = LLVMOrcLLJITGetMainJITDylib(self.lljit);
            let mut pairs = Vec::new();
            for name in crate::emit::runtime_symbol_names() {
                let addr = runtime_address(name).ok_or_else(|| {
                    BackendError(format!(
                        "internal error: no address for runtime symbol {name}"
                    ))
                })?;
                let c = CString::new(name).map_err(|e| BackendError(e.to_string()))?;
                pairs.push(LLVMOrcCSymbolMapPair {
                    Name: LLVMOrcLLJITMangleAndIntern(self.lljit, c.as_ptr()),
                    Sym: LLVMJITEvaluatedSymbol {
                        Address: addr as u64,
                        Flags: LLVMJITSymbolFlags {
                            GenericFlags:
                                LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsExported as u8
                                    | LLVMJITSymbolGenericFlags::LLVMJITSymbolGenericFlagsCallable
                                        as u8,
                            TargetFlags: 0,
                        },
                    },
                });
            }
            let mu = LLVMOrcAbsoluteSymbols(pairs.as_mut_ptr(), pairs.len());
            take_error(LLVMOrcJITDylibDefine(jd, mu))?;
            let mut gen: LLVMOrcDefinitionGeneratorRef = std::ptr::null_mut();
            take_error(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                &mut gen,
                LLVMOrcLLJITGetGlobalPrefix(self.lljit),
                None,
                std::ptr::null_mut(),
            ))?;
            LLVMOrcJITDylibAddGenerator(jd, gen);
        }
        Ok(())
    }

    /// The optimisation level of this JIT's modules.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The name [`Jit::fresh_descriptor_name`] will return next.
    pub fn next_descriptor_name(&self) -> String {
        format!("valk_module_{}", self.next_module + 1)
    }

    /// A fresh name for the next module's exported descriptor.
    pub fn fresh_descriptor_name(&mut self) -> String {
        self.next_module += 1;
        format!("valk_module_{}", self.next_module)
    }

    /// Compiles IR text (as `emit::emit_module` writes it) to an object.
    pub fn compile(&self, ir: &str) -> Result<Vec<u8>, BackendError> {
        self.backend.compile(ir, self.level, Output::Object)
    }

    /// The LLVM IR text of `ir` after this JIT's pipeline.
    pub fn optimized_ir(&self, ir: &str) -> Result<String, BackendError> {
        let bytes = self.backend.compile(ir, self.level, Output::LlvmIr)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Adds a relocatable object; it is linked at the first lookup of one
    /// of its symbols.
    pub fn add_object(&mut self, obj: &[u8]) -> Result<(), BackendError> {
        // SAFETY: LLVM copies `obj` into a buffer it owns, which the LLJIT
        // instance (live) takes over.
        unsafe {
            let buf = llvm_sys::core::LLVMCreateMemoryBufferWithMemoryRangeCopy(
                obj.as_ptr() as *const c_char,
                obj.len(),
                c"valk-jit-object".as_ptr(),
            );
            let jd = LLVMOrcLLJITGetMainJITDylib(self.lljit);
            take_error(LLVMOrcLLJITAddObjectFile(self.lljit, jd, buf))
        }
    }

    /// The address of `name`, linking the object defining it if needed;
    /// stack maps of objects linked meanwhile are registered with the
    /// collector before this returns.
    pub fn lookup(&mut self, name: &str) -> Result<usize, BackendError> {
        let c = CString::new(name).map_err(|e| BackendError(e.to_string()))?;
        let mut addr: LLVMOrcExecutorAddress = 0;
        // SAFETY: a live instance, a C string name and an out-parameter.
        let r = take_error(unsafe { LLVMOrcLLJITLookup(self.lljit, &mut addr, c.as_ptr()) });
        let pending =
            std::mem::take(&mut *PENDING_STACKMAPS.lock().unwrap_or_else(|e| e.into_inner()));
        for section in pending {
            // SAFETY: a `.llvm_stackmaps` section allocated by our memory
            // manager for an object linked by the lookup above (so complete
            // and relocated); JIT memory is never freed.
            unsafe { valk_runtime::gc::stackmap::register_stackmaps(section as *const u8) }
                .map_err(|e| BackendError(format!("internal error: JIT stack maps: {e}")))?;
        }
        r?;
        Ok(addr as usize)
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        // Code stays mapped (closures may still point into it); only the
        // LLJIT's own structures go.
        // SAFETY: the instance is live and disposed of once, here.
        unsafe {
            let _ = take_error(LLVMOrcDisposeLLJIT(self.lljit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_runtime_symbol_has_an_address() {
        for name in crate::emit::runtime_symbol_names() {
            assert!(runtime_address(name).is_some(), "{name}");
        }
        assert!(crate::emit::runtime_symbol_names().len() > 20);
    }
}
