//! VIR → LLVM IR (textual). The text is parsed by LLVM afterwards
//! (`pipeline.rs`); generating text keeps the emitter simple and the output
//! readable (`valkc emit-llvm --before-gc` prints exactly this).
//!
//! Conventions (docs/calling-convention.md, "Valk-to-Valk calls"):
//! * every Valk value is `ptr addrspace(1)`; every function has
//!   `gc "statepoint-example"` and `"frame-pointer"="all"`;
//! * VIR function `f` becomes its *direct entry* `@"d<id>.<name>"`
//!   (`tailcc`, exactly its VIR parameters, at most six: past that the
//!   sixth is a vector of the rest) and, for closure bodies, a *fast entry*
//!   `@"u<id>.<name>"` (`tailcc (self, i64 argc, a0, a1, a2, a3x)`) that
//!   checks the argument count, builds the rest list and tail-calls the
//!   direct entry;
//! * a compiled closure is `[@valk_compiled_entry, info, fast entry,
//!   captures...]`; `@valk_compiled_entry` is the generic C-ABI entry the
//!   runtime calls;
//! * runtime calls that may collect go to exit trampolines (`valk_rt_*`,
//!   `valk_gc_alloc_slow`, `valk_rt_call`); a returned `EXCEPTION` is
//!   propagated by returning it.

//!
//! Layout, one concern per module:
//! * this file: the public API (`emit_module`, `emit_support_module`,
//!   `runtime_symbol_names`, [`EmitOptions`], [`EmitError`]) and what is
//!   module-wide — the declarations, the tables filled at start-up
//!   (constants, cells, builtins, `ModCx`), info records, the program
//!   descriptor, `valk_run_toplevel` and `main`;
//! * `text`: the LLVM-text layer (SSA names, labels, typed instruction
//!   helpers, immediates, symbol names, escaping);
//! * `function`: the per-function emitter, its walk over blocks, the
//!   instruction dispatch and the terminators;
//! * `prologue`: direct and fast entries, the stack check, interrupt
//!   polls, phis of block parameters, `@valk_compiled_entry`;
//! * `calls`: direct, tail and closure calls, runtime calls, exceptions;
//! * `arith`: fixnum and flonum arithmetic and comparisons;
//! * `objects`: constants, type tests, allocation, fields, vectors,
//!   strings, boxes, closures, globals.

mod arith;
mod calls;
mod debuginfo;
mod ffi;
mod function;
mod objects;
mod prologue;
mod sites;
mod text;
mod unboxed;

use crate::abi;
use crate::consts;
use function::FnEmitter;
use prologue::{emit_compiled_entry, emit_fast_entry};
use std::collections::HashMap;
use std::fmt::{self, Write};
use text::{direct_name, imm, info_name, llvm_bytes};
use valk_vir::{ConstData, FuncId, Function, Loc, Module};

pub use debuginfo::{LocResolver, SourcePos};
pub use sites::{SiteFrame, SiteResolver, SiteSource};
pub use text::V;

/// Why a module cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitError(pub String);

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmitError {}

/// Renders the location diagnostic of an unbound-variable error at a
/// `global_get.chk`/`global_set.chk` with this location and global name.
pub type UnboundDiag<'a> = dyn Fn(Loc, &str) -> Option<String> + 'a;
/// The name a closure body's procedure prints and reports in arity errors
/// (`None`: anonymous).
pub type ProcName<'a> = dyn Fn(FuncId, &Function) -> Option<String> + 'a;

pub struct EmitOptions<'a> {
    /// Emit `main`, the program descriptor and the stack map label: the
    /// module becomes an AOT executable's only object.
    pub aot: bool,
    /// Not AOT (JIT): export the module's [`ProgramDesc`] under this name
    /// (its stack map field is null: the JIT captures the section while
    /// linking). `@valk_compiled_entry` is only declared; the JIT defines
    /// it once, in [`emit_support_module`].
    ///
    /// [`ProgramDesc`]: valk_runtime::aot::ProgramDesc
    pub descriptor: Option<&'a str>,
    /// AOT only, for programs that use `eval` (docs/libraries.md,
    /// "eval"): `Some(source)` makes `main` call
    /// `valk_eval_install(source, len)` (from `libvalk_eval.a`) first;
    /// `source` is what the evaluator replays for the program's macros.
    pub install_eval: Option<&'a [u8]>,
    pub unbound_diag: &'a UnboundDiag<'a>,
    pub proc_name: &'a ProcName<'a>,
    /// `Some((main file, resolver))`: emit DWARF (`valkc compile -g`,
    /// docs/debugging.md), resolving each VIR `Loc` to its source position.
    pub debug: Option<(&'a str, &'a LocResolver<'a>)>,
    /// Resolves VIR locations for the call sites of backtraces
    /// (docs/debugging.md, "Backtraces"); `None`: no site table.
    pub sites: Option<&'a SiteResolver<'a>>,
}

/// The default procedure name: the VIR function name without a `.N`
/// uniqueness suffix; `lambda...` names are anonymous.
pub fn default_proc_name(_: FuncId, f: &Function) -> Option<String> {
    let mut name = f.name.as_str();
    if let Some((base, suffix)) = name.rsplit_once('.') {
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty() {
            name = base;
        }
    }
    if name.starts_with("lambda") || name.is_empty() {
        None
    } else {
        Some(name.to_string())
    }
}

/// Module-wide state: interned strings and table entries.
#[derive(Default)]
struct ModCx {
    strings: Vec<Vec<u8>>,
    string_ids: HashMap<Vec<u8>, usize>,
    builtins: Vec<String>,
    builtin_ids: HashMap<String, usize>,
    /// Boxed flonum constants after the module's constants: bits → index.
    floats: Vec<u64>,
    nconsts: usize,
    /// Closure bodies whose direct entry takes no closure
    /// ([`prologue::selfless_closures`]), indexed by `FuncId`.
    selfless: Vec<bool>,
    /// Address cells of the module's foreign calls (`ffi_call`).
    ffi_cells: usize,
    /// Call sites for backtraces (`sites.rs`).
    sites: sites::SiteTable,
}

impl ModCx {
    /// A fresh cell for the address of one foreign call's C function.
    fn ffi_cell(&mut self) -> String {
        self.ffi_cells += 1;
        format!("@ffi.cell.{}", self.ffi_cells - 1)
    }

    /// `(ptr, len)` operands of a private string constant.
    fn string(&mut self, s: &[u8]) -> (String, usize) {
        let id = match self.string_ids.get(s) {
            Some(&i) => i,
            None => {
                self.strings.push(s.to_vec());
                self.string_ids.insert(s.to_vec(), self.strings.len() - 1);
                self.strings.len() - 1
            }
        };
        if s.is_empty() {
            ("null".into(), 0)
        } else {
            (format!("@str.{id}"), s.len())
        }
    }

    fn builtin(&mut self, name: &str) -> usize {
        if let Some(&i) = self.builtin_ids.get(name) {
            return i;
        }
        self.builtins.push(name.to_string());
        self.builtin_ids
            .insert(name.to_string(), self.builtins.len() - 1);
        self.builtins.len() - 1
    }

    /// A table slot for one flonum literal. Equal literals are not
    /// shared: each occurrence is its own object, as in the interpreter, so
    /// that `(eq? 1.5 1.5)` is `#f` on every engine (docs/numbers.md).
    fn float(&mut self, bits: u64) -> usize {
        self.floats.push(bits);
        self.nconsts + self.floats.len() - 1
    }

    fn table_len(&self) -> usize {
        self.nconsts + self.floats.len()
    }
}

/// Is `f` code of the built-in prelude (its first located instruction is)?
fn in_library(f: &Function, resolve: &SiteResolver) -> bool {
    f.insts
        .iter()
        .filter(|d| !d.loc.is_none() && d.loc.inlined_index().is_none())
        .find_map(|d| resolve(d.loc.0))
        .is_some_and(|s| s.library)
}

/// Does `f` (function `id`) end in a tail call of another known function?
fn tail_calls_another(f: &Function, id: FuncId) -> bool {
    f.insts
        .iter()
        .any(|d| matches!(d.op, valk_vir::Op::TailCall(g) if g != id))
}

/// Emits the textual LLVM IR of `m`. `toplevels` are run in order by the
/// generated `valk_run_toplevel(i)`; each must take no parameters.
pub fn emit_module(
    m: &Module,
    toplevels: &[FuncId],
    opts: &EmitOptions,
) -> Result<String, EmitError> {
    for &t in toplevels {
        let f = m
            .funcs
            .get(t.index())
            .ok_or_else(|| EmitError(format!("top-level function {t} does not exist")))?;
        if f.sig.param_count() != 0 {
            return Err(EmitError(format!(
                "top-level function @{} must take no parameters",
                f.name
            )));
        }
    }
    let mut cx = ModCx {
        nconsts: m.consts.len(),
        ..ModCx::default()
    };
    let mut funcs = String::new();
    let live = valk_vir::passes::prune::reachable_functions(m, toplevels);
    cx.selfless = prologue::selfless_closures(m, &live);
    let mut is_top = vec![false; m.funcs.len()];
    for &t in toplevels {
        is_top[t.index()] = true;
    }
    // LLVM 19's dead-argument elimination can turn the return type of a
    // function whose results are all unused into `void` while the
    // function still `musttail`-calls another one returning a value,
    // which the verifier rejects (LLVM issue 126817, fixed after 19). A
    // non-call use keeps the pass off such functions: they are listed in
    // `@llvm.compiler.used` (docs/calling-convention.md, "LLVM facts").
    let mut keep_signature = Vec::new();
    for (i, f) in m.funcs.iter().enumerate() {
        if live[i] && tail_calls_another(f, FuncId::new(i)) {
            keep_signature.push(text::direct_name(m, FuncId::new(i)));
        }
    }
    let mut debug = opts
        .debug
        .map(|(main, resolve)| debuginfo::DebugInfo::new(main, resolve));
    for (i, f) in m.funcs.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let id = FuncId::new(i);
        let frame = opts.sites.map(|resolve| {
            let name = (!is_top[i]).then(|| {
                (opts.proc_name)(id, f)
                    .or_else(|| default_proc_name(id, f))
                    .unwrap_or_default()
            });
            (name, in_library(f, resolve))
        });
        let mut e = FnEmitter::new(m, f, id, &mut cx, opts);
        e.site_frame = frame.clone();
        e.emit_direct()?;
        let mut text = e.finish_function();
        if let Some((name, library)) = &frame {
            // The prologue's calls (stack check, rest list): the procedure's
            // frame without a position.
            let pf = sites::ProcFrame {
                name: name.as_deref(),
                library: *library,
                hidden: false,
            };
            let site = cx.sites.site(pf, None, None);
            sites::annotate(&mut text, 0, site);
        }
        if is_top[i] && !has_loop(f) {
            text = run_once(text);
        }
        let mut fast = f
            .sig
            .closure
            .then(|| emit_fast_entry(m, id, cx.selfless[i]));
        if let Some(d) = debug.as_mut() {
            let name = (opts.proc_name)(id, f)
                .or_else(|| default_proc_name(id, f))
                .unwrap_or_else(|| f.name.clone());
            let at = d.position(&text);
            text = d.attach_at(&text, &name, at.clone());
            fast = fast.map(|t| d.attach_at(&t, &name, at));
        }
        funcs.push_str(&text);
        if let Some(fast) = fast {
            funcs.push_str(&fast);
            funcs.push_str(&emit_info(m, f, id, &mut cx, opts));
        }
    }
    let mut out = String::new();
    out.push_str("; Valk module (valk_llvm)\n\n");
    if opts.aot {
        // A global label at the start of this object's stack map section, so
        // the program can find it (`__LLVM_StackMaps` is a local symbol).
        out.push_str("module asm \".pushsection .llvm_stackmaps,\\22a\\22,@progbits\"\n");
        out.push_str("module asm \".globl valk_stackmaps\"\n");
        out.push_str("module asm \".hidden valk_stackmaps\"\n");
        out.push_str("module asm \"valk_stackmaps:\"\n");
        out.push_str("module asm \".popsection\"\n\n");
    }
    if opts.aot {
        // Everything the module references is linked into the same
        // executable: direct references, no GOT or PLT.
        out.push_str(
            &DECLS
                .replace("declare ", "declare dso_local ")
                .replace("= external global", "= external dso_local global"),
        );
    } else {
        out.push_str(DECLS);
    }
    out.push_str(INTRINSICS);
    // Tables filled at start-up.
    let nt = cx.table_len();
    let _ = writeln!(
        out,
        "@valk_consts = internal global [{nt} x {V}] zeroinitializer, align 8"
    );
    let _ = writeln!(
        out,
        "@valk_cells = internal global [{} x ptr] zeroinitializer, align 8",
        m.globals.len()
    );
    let nb = cx.builtins.len();
    let _ = writeln!(
        out,
        "@valk_builtins = internal global [{nb} x ptr] zeroinitializer, align 8"
    );
    let mut const_data = Vec::new();
    for c in &m.consts {
        consts::encode_const(&mut const_data, c);
    }
    for &bits in &cx.floats {
        consts::encode_const(&mut const_data, &ConstData::Float(f64::from_bits(bits)));
    }
    let cell_names = consts::encode_names(m.globals.iter().map(|g| g.name.as_str()));
    let builtin_names = consts::encode_names(cx.builtins.iter().map(|s| s.as_str()));
    for (name, data) in [
        ("valk_const_data", &const_data),
        ("valk_cell_names", &cell_names),
        ("valk_builtin_names", &builtin_names),
    ] {
        let _ = writeln!(
            out,
            "@{name} = private unnamed_addr constant [{} x i8] c\"{}\", align 1",
            data.len(),
            llvm_bytes(data)
        );
    }
    let (funcs, site_def, site_key) = cx.sites.finish(&funcs);
    out.push_str(&site_def);
    out.push('\n');
    out.push_str(&funcs);
    if opts.aot {
        out.push_str(&emit_compiled_entry(true));
    } else {
        let _ = writeln!(
            out,
            "declare {V} @valk_compiled_entry({V}, i64, ptr) {FN_SUFFIX}\n"
        );
    }
    out.push_str(&emit_run_toplevel(m, toplevels));
    let desc_fields = format!(
        "{{ i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, \
         ptr, i64, i64 }} \
         {{ i64 {abi}, ptr @valk_consts, i64 {nt}, ptr @valk_const_data, i64 {cd}, \
         ptr @valk_cells, i64 {nc}, ptr @valk_cell_names, i64 {cn}, ptr @valk_builtins, \
         i64 {nb}, ptr @valk_builtin_names, i64 {bn}, ptr @valk_run_toplevel, i64 {ntop}, \
         ptr {sm}, ptr {sites}, i64 {nsites}, i64 {site_key} }}, align 8",
        sites = if cx.sites.is_empty() {
            "null"
        } else {
            "@valk_sites"
        },
        nsites = cx.sites.len(),
        abi = abi::ABI_VERSION,
        cd = const_data.len(),
        nc = m.globals.len(),
        cn = cell_names.len(),
        bn = builtin_names.len(),
        ntop = toplevels.len(),
        sm = if opts.aot { "@valk_stackmaps" } else { "null" },
    );
    if opts.aot {
        let _ = writeln!(
            out,
            "@valk_stackmaps = external hidden global [0 x i8]\n\
             @valk_program = internal constant {desc_fields}\n\n\
             define i32 @main(i32 %argc, ptr %argv) #0 {{\n{install}\
             \x20 %r = call i32 @valk_aot_main(i32 %argc, ptr %argv, ptr @valk_program)\n\
             \x20 ret i32 %r\n}}\n{install_decl}",
            install = match opts.install_eval {
                Some(src) => format!(
                    "  call void @valk_eval_install(ptr @valk_eval_source, i64 {})\n",
                    src.len()
                ),
                None => String::new(),
            },
            install_decl = match opts.install_eval {
                Some(src) => format!(
                    "declare dso_local void @valk_eval_install(ptr, i64)\n\
                     @valk_eval_source = private unnamed_addr constant [{} x i8] c\"{}\", align 1\n",
                    src.len(),
                    llvm_bytes(src)
                ),
                None => String::new(),
            },
        );
    } else if let Some(name) = opts.descriptor {
        let _ = writeln!(out, "@\"{name}\" = constant {desc_fields}\n");
    }
    for i in 0..cx.ffi_cells {
        let _ = writeln!(out, "@ffi.cell.{i} = internal global i64 0");
    }
    for (i, s) in cx.strings.iter().enumerate() {
        if !s.is_empty() {
            let _ = writeln!(
                out,
                "@str.{i} = private unnamed_addr constant [{} x i8] c\"{}\", align 1",
                s.len(),
                llvm_bytes(s)
            );
        }
    }
    out.push_str(ATTRS);
    if !keep_signature.is_empty() {
        let list: Vec<String> = keep_signature.iter().map(|n| format!("ptr {n}")).collect();
        let _ = writeln!(
            out,
            "@llvm.compiler.used = appending global [{} x ptr] [{}], section \"llvm.metadata\"",
            list.len(),
            list.join(", ")
        );
    }
    if let Some(d) = &debug {
        out.push_str(&d.metadata());
    }
    Ok(out)
}

/// The module the JIT adds once, before any other: the one definition of
/// `@valk_compiled_entry` every JIT module's closures point at (so the
/// inline "is this a compiled closure?" test works across modules).
pub fn emit_support_module() -> String {
    let mut out = String::from("; Valk JIT support module (valk_llvm)\n\n");
    out.push_str(DECLS);
    out.push_str(&emit_compiled_entry(false));
    out.push_str(ATTRS);
    out
}

/// The runtime symbols compiled code refers to (besides
/// `@valk_compiled_entry`), as declared in every module.
pub fn runtime_symbol_names() -> Vec<&'static str> {
    DECLS
        .lines()
        .filter_map(|l| {
            let name = l.split('@').nth(1)?;
            let end = name.find(['(', ' '])?;
            Some(&name[..end])
        })
        .collect()
}

const DECLS: &str = r#"@valk_alloc_ptr = external global i64
@valk_alloc_limit = external global i64
@valk_stack_limit = external global i64
@valk_apply_info = external global i64
@valk_tail_pending = external global i64
@valk_interrupt = external global i64
@valk_young_lo = external global i64
@valk_young_size = external global i64
@valk_redefined = external global [1024 x i8]

declare ptr @valk_gc_alloc_slow(i64)
declare void @valk_gc_remember(ptr addrspace(1))
declare void @valk_rt_global_written(ptr)
declare ptr addrspace(1) @valk_rt_call(ptr addrspace(1), i64, ptr)
declare ptr addrspace(1) @valk_rt_call_builtin(ptr, i64, ptr)
declare ptr addrspace(1) @valk_rt_wrong_type(ptr, i64, i64, ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_arity(ptr addrspace(1), i64)
declare ptr addrspace(1) @valk_rt_unbound(ptr, i64, ptr, i64)
declare ptr addrspace(1) @valk_rt_undefined(ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_arity_error(ptr addrspace(1), ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_div_zero(i64)
declare ptr addrspace(1) @valk_rt_range(i64, ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_stack_overflow()
declare ptr addrspace(1) @valk_rt_interrupt()
declare ptr addrspace(1) @valk_rt_arith(i64, ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_compare(i64, ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_fl_arith(i64, ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_fl_compare(i64, ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_capture(ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_call_ec(ptr addrspace(1), i64)
declare tailcc ptr addrspace(1) @valk_tail_call_ec(ptr addrspace(1), i64)
declare ptr addrspace(1) @valk_rt_rest_list(i64, i64, ptr addrspace(1), ptr addrspace(1), ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_pack_args(i64, ptr)
declare ptr addrspace(1) @valk_rt_apply_spread(i64, ptr)
declare ptr addrspace(1) @valk_rt_call_spread(ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_tail_call(ptr addrspace(1), i64, ptr)
declare i32 @valk_aot_main(i32, ptr, ptr)
@valk_ffi_target = external global i64
@valk_ffi_ntemps = external global i64
@valk_ffi_pending = external global i64
@valk_ffi_errno = external global i32
@valk_stdout_pending = external global i64
declare void @valk_ffi_exit()
declare i64 @valk_ffi_resolve(ptr, i64, ptr, i64)
declare i64 @valk_ffi_arg(ptr, i64, i64, i64, ptr addrspace(1), i64)
declare void @valk_ffi_finish(i64)
declare ptr addrspace(1) @valk_ffi_reraise()
declare ptr addrspace(1) @valk_ffi_box(i64, i64)
declare void @valk_ffi_flush()
declare ptr @__errno_location()
"#;

const INTRINSICS: &str = r#"declare ptr @llvm.frameaddress.p0(i32)
declare { i64, i1 } @llvm.sadd.with.overflow.i64(i64, i64)
declare { i64, i1 } @llvm.ssub.with.overflow.i64(i64, i64)
declare { i64, i1 } @llvm.smul.with.overflow.i64(i64, i64)

"#;

const ATTRS: &str = r#"
attributes #0 = { nounwind "frame-pointer"="all" }
attributes #1 = { nounwind "frame-pointer"="all" noinline optnone }
attributes #2 = { nounwind "gc-leaf-function" }

!0 = !{!"branch_weights", i32 2000, i32 1}
!1 = !{!"branch_weights", i32 1, i32 2000}
"#;

/// Attributes and GC strategy of every Valk function.
const FN_SUFFIX: &str = "#0 gc \"statepoint-example\"";

/// The procedure info of closure-body `f`. Not `unnamed_addr`: its
/// address identifies the function (`proc_is`, guarded calls of tiered
/// code, docs/tiering.md), so LLVM must not merge equal infos.
fn emit_info(m: &Module, f: &Function, id: FuncId, cx: &mut ModCx, opts: &EmitOptions) -> String {
    let name = (opts.proc_name)(id, f);
    let (np, nl) = match &name {
        Some(n) => cx.string(n.as_bytes()),
        None => ("null".into(), 0),
    };
    let _ = m;
    format!(
        "{} = private constant {{ ptr, i64, i32, i32, i32, i64 }} {{ ptr {np}, i64 {nl}, \
         i32 {}, i32 0, i32 {}, i64 0 }}, align 8\n\n",
        info_name(id),
        f.sig.required,
        f.sig.rest as u32
    )
}

/// Does `f` have a loop (a back edge in its CFG)?
fn has_loop(f: &Function) -> bool {
    let cfg = valk_vir::Cfg::compute(f);
    let rpo = valk_vir::analysis::reverse_postorder(f, &cfg);
    let mut position = vec![usize::MAX; f.blocks.len()];
    for (k, b) in rpo.iter().enumerate() {
        position[b.index()] = k;
    }
    rpo.iter().any(|&b| {
        cfg.preds(b)
            .iter()
            .any(|p| position[p.index()] >= position[b.index()])
    })
}

/// The definition `text` of a top-level form without loops, which runs
/// each of its instructions at most once per run of the form, with
/// attribute group `#1` (`optnone noinline`) instead of `#0`: LLVM
/// neither optimises it nor inlines into it, and generates its code with
/// the fast instruction selector. Optimising code that runs once never
/// pays back, and the top-level forms are most of a large program
/// (docs/architecture.md, "Large programs").
fn run_once(text: String) -> String {
    let suffix = FN_SUFFIX;
    let cold = FN_SUFFIX.replacen("#0", "#1", 1);
    text.replacen(suffix, &cold, 1)
}

/// The dispatcher over the top-level forms, `optnone` like the forms
/// without loops ([`run_once`]): each form is the only caller of its
/// function, so LLVM would otherwise inline every form into this one
/// function, and a large program would become one huge function, on which
/// LLVM's passes and code generation are super-linear
/// (docs/architecture.md, "Large programs").
fn emit_run_toplevel(m: &Module, toplevels: &[FuncId]) -> String {
    let mut s = format!(
        "define internal {V} @valk_run_toplevel(i64 %i) {} {{\nstart:\n  switch i64 %i, label %none [",
        FN_SUFFIX.replacen("#0", "#1", 1)
    );
    for k in 0..toplevels.len() {
        let _ = write!(s, " i64 {k}, label %t{k}");
    }
    let _ = writeln!(s, " ]\nnone:\n  ret {}", imm(abi::UNSPECIFIED));
    for (k, &t) in toplevels.iter().enumerate() {
        let _ = writeln!(
            s,
            "t{k}:\n  %r{k} = call tailcc {V} {}()\n  ret {V} %r{k}",
            direct_name(m, t)
        );
    }
    s.push_str("}\n\n");
    s
}
