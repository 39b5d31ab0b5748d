//! One frame per procedure in debuggers (docs/debugging.md, "gdb and perf
//! on JIT code"): folds the direct entry inlined into a closure's fast
//! entry back into the fast entry's own debug scope.
//!
//! Input: an optimised module with DWARF metadata (`-g`), in which LLVM
//! may have inlined a procedure's direct entry `d<id>.<name>` into its
//! fast entry `u<id>.<name>` (docs/calling-convention.md) — always so when
//! the procedure is only called through its closure, as REPL inputs and
//! tier-1 code are. Output: the same code; the debug location of every
//! instruction of a fast entry that came from its direct entry no longer
//! has that inlining level, so gdb shows one frame `fib` at the current
//! line instead of an inlined `fib` inside a `fib` at its first line.
//! Deeper inlining levels (other procedures inlined into the body) stay.
//! A fast entry that did not inline its direct entry loses its subprogram
//! and locations instead: it only checks the argument count and
//! tail-calls the body, so `break fib` stops once per call, in the body.
//! Only metadata changes, never an instruction: the code is the same.
//!
//! A fast entry's own code only checks the argument count and calls its
//! direct entry (or the runtime), so the outermost inlined level of any
//! location in it is the direct entry.

use inkwell::module::Module;
use llvm_sys::core::{LLVMGetModuleContext, LLVMGetValueName2};
use llvm_sys::debuginfo::*;
use llvm_sys::prelude::{LLVMContextRef, LLVMDIBuilderRef, LLVMMetadataRef, LLVMValueRef};
use std::collections::HashMap;

/// Flattens the direct-entry inlining level in every fast entry of `m`
/// that has a subprogram (none without `-g`: then nothing happens).
pub fn flatten_entry_inlining(m: &Module) {
    let mut f = m.get_first_function();
    let mut builder: Option<LLVMDIBuilderRef> = None;
    while let Some(func) = f {
        f = func.get_next_function();
        let fv = func.as_value_ref_raw();
        // SAFETY: `fv` is a live function of `m`, which we own.
        let sp = unsafe { LLVMGetSubprogram(fv) };
        if sp.is_null() || !is_fast_entry(fv) {
            continue;
        }
        // SAFETY: the module is live; the builder is finalised and disposed
        // of below, before this function returns.
        let b = *builder.get_or_insert_with(|| unsafe { LLVMCreateDIBuilder(m.as_mut_ptr()) });
        // SAFETY: as above.
        let ctx = unsafe { LLVMGetModuleContext(m.as_mut_ptr()) };
        if !inlines_its_body(&func) {
            // Only the argument check and a tail call: without a
            // subprogram of its own, `break fib` stops once per call.
            drop_locations(&func);
            continue;
        }
        let mut folder = Folder {
            ctx,
            builder: b,
            sp,
            locations: HashMap::new(),
            scopes: HashMap::new(),
        };
        for bb in func.get_basic_blocks() {
            let mut i = bb.get_first_instruction();
            while let Some(inst) = i {
                i = inst.get_next_instruction();
                let v = inst.as_value_ref_raw();
                // SAFETY: `v` is a live instruction of `func`; its location
                // (if any) is a `DILocation` of this module's context.
                unsafe {
                    let loc = LLVMInstructionGetDebugLoc(v);
                    if loc.is_null() {
                        continue;
                    }
                    if let Some(new) = folder.fold(loc) {
                        LLVMInstructionSetDebugLoc(v, new);
                    }
                }
            }
        }
    }
    if let Some(b) = builder {
        // SAFETY: the builder made above, finalised and disposed of once.
        unsafe {
            LLVMDIBuilderFinalize(b);
            LLVMDisposeDIBuilder(b);
        }
    }
}

/// Does the fast entry `func` hold inlined code (its direct entry's)?
fn inlines_its_body(func: &inkwell::values::FunctionValue) -> bool {
    func.get_basic_blocks().iter().any(|bb| {
        bb.get_instructions().any(|inst| {
            // SAFETY: a live instruction of `func`; its location, if any,
            // is a `DILocation`.
            unsafe {
                let loc = LLVMInstructionGetDebugLoc(inst.as_value_ref_raw());
                !loc.is_null() && !LLVMDILocationGetInlinedAt(loc).is_null()
            }
        })
    })
}

/// Removes the subprogram of `func` and the locations of its instructions.
fn drop_locations(func: &inkwell::values::FunctionValue) {
    for bb in func.get_basic_blocks() {
        for inst in bb.get_instructions() {
            // SAFETY: a live instruction of `func`; a null location
            // removes the attachment.
            unsafe { LLVMInstructionSetDebugLoc(inst.as_value_ref_raw(), std::ptr::null_mut()) };
        }
    }
    // SAFETY: a live function; a null subprogram removes the attachment.
    unsafe { LLVMSetSubprogram(func.as_value_ref_raw(), std::ptr::null_mut()) };
}

/// The raw value of an inkwell value.
trait RawValue {
    fn as_value_ref_raw(&self) -> LLVMValueRef;
}

impl<T: inkwell::values::AsValueRef> RawValue for T {
    fn as_value_ref_raw(&self) -> LLVMValueRef {
        self.as_value_ref()
    }
}

/// Is `f` a fast entry, named `u<digits>.<name>` by the emitter?
fn is_fast_entry(f: LLVMValueRef) -> bool {
    let mut len = 0usize;
    // SAFETY: `f` is a live function; its name is read before anything
    // changes it.
    let name = unsafe {
        let p = LLVMGetValueName2(f, &mut len);
        if p.is_null() {
            return false;
        }
        std::slice::from_raw_parts(p as *const u8, len)
    };
    let Some(rest) = name.strip_prefix(b"u") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&b'.')
}

/// Rebuilds locations of one fast entry, memoised.
struct Folder {
    ctx: LLVMContextRef,
    builder: LLVMDIBuilderRef,
    /// The fast entry's subprogram.
    sp: LLVMMetadataRef,
    /// Old location → new (`None`: unchanged).
    locations: HashMap<LLVMMetadataRef, Option<LLVMMetadataRef>>,
    /// A direct-entry scope → the fast-entry scope replacing it.
    scopes: HashMap<LLVMMetadataRef, LLVMMetadataRef>,
}

impl Folder {
    /// `loc` without its outermost inlining level (`None`: not inlined,
    /// unchanged). Every location and scope handled here is metadata of
    /// the fast entry's module, which outlives the folder.
    fn fold(&mut self, loc: LLVMMetadataRef) -> Option<LLVMMetadataRef> {
        if let Some(&done) = self.locations.get(&loc) {
            return done;
        }
        // SAFETY: `loc` is a `DILocation` of the module (see above), and
        // so is `at` when not null.
        let (at, line, col, scope, outermost) = unsafe {
            let at = LLVMDILocationGetInlinedAt(loc);
            (
                at,
                LLVMDILocationGetLine(loc),
                LLVMDILocationGetColumn(loc),
                LLVMDILocationGetScope(loc),
                !at.is_null() && LLVMDILocationGetInlinedAt(at).is_null(),
            )
        };
        let new = if at.is_null() {
            None
        } else if outermost {
            // `loc` is in the direct entry, inlined at `at` (in the fast
            // entry): it becomes a location of the fast entry.
            let scope = self.own_scope(scope);
            // SAFETY: the module's context and scope; no inlining level.
            Some(unsafe {
                LLVMDIBuilderCreateDebugLocation(self.ctx, line, col, scope, std::ptr::null_mut())
            })
        } else {
            // Deeper: same scope, inlined at the folded `at`.
            self.fold(at).map(|at| {
                // SAFETY: the module's context, scope and location.
                unsafe { LLVMDIBuilderCreateDebugLocation(self.ctx, line, col, scope, at) }
            })
        };
        self.locations.insert(loc, new);
        new
    }

    /// The fast-entry scope standing for direct-entry scope `scope`: the
    /// subprogram itself, or a lexical block file of the same file (the
    /// emitter's scopes for positions in other files, docs/debugging.md).
    fn own_scope(&mut self, scope: LLVMMetadataRef) -> LLVMMetadataRef {
        if let Some(&s) = self.scopes.get(&scope) {
            return s;
        }
        // SAFETY: `scope` and the subprogram are scopes of the module; the
        // builder is live for the whole pass.
        let s = unsafe {
            let file = LLVMDIScopeGetFile(scope);
            if matches!(
                LLVMGetMetadataKind(scope),
                LLVMMetadataKind::LLVMDISubprogramMetadataKind
            ) || file == LLVMDIScopeGetFile(self.sp)
            {
                self.sp
            } else {
                LLVMDIBuilderCreateLexicalBlockFile(self.builder, self.sp, file, 0)
            }
        };
        self.scopes.insert(scope, s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_entry_names() {
        let ctx = inkwell::context::Context::create();
        let m = ctx.create_module("t");
        let ty = ctx.void_type().fn_type(&[], false);
        for (name, fast) in [
            ("u12.fib", true),
            ("u0.x.y", true),
            ("d12.fib", false),
            ("u.fib", false),
            ("user", false),
        ] {
            let f = m.add_function(name, ty, None);
            assert_eq!(is_fast_entry(f.as_value_ref_raw()), fast, "{name}");
        }
    }
}
