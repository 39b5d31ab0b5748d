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

use crate::abi::{self, field_offset, TAG_CLOSURE, TAG_OBJECT, TAG_PAIR};
use crate::consts;
use std::collections::HashMap;
use std::fmt::{self, Write};
use valk_runtime::value::ObjType;
use valk_vir::{
    Block, BlockCall, Cond, ConstData, FlOp, FuncId, Function, FxMode, FxOp, InstData, Loc, Module,
    ObjKind, Op, Ty, Value, ValueDef,
};

/// The LLVM type of every Valk value.
pub const V: &str = "ptr addrspace(1)";

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
    pub unbound_diag: &'a UnboundDiag<'a>,
    pub proc_name: &'a ProcName<'a>,
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

/// Branch weights: `LIKELY` on a `br` whose true edge is the usual one.
const LIKELY: &str = "!prof !0";
const UNLIKELY: &str = "!prof !1";

fn imm(bits: u64) -> String {
    if bits == 0 {
        format!("{V} null")
    } else {
        format!("{V} inttoptr (i64 {} to {V})", bits as i64)
    }
}

/// An immediate as an operand without its type.
fn imm_op(bits: u64) -> String {
    if bits == 0 {
        "null".into()
    } else {
        format!("inttoptr (i64 {} to {V})", bits as i64)
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn llvm_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:02X}");
        }
    }
    s
}

fn ty_code(t: Ty) -> usize {
    Ty::ALL.iter().position(|&x| x == t).unwrap_or(0)
}

fn fx_code(op: FxOp) -> usize {
    FxOp::ALL.iter().position(|&x| x == op).unwrap_or(0)
}

fn fl_code(op: FlOp) -> usize {
    FlOp::ALL.iter().position(|&x| x == op).unwrap_or(0)
}

fn cond_code(c: Cond) -> usize {
    Cond::ALL.iter().position(|&x| x == c).unwrap_or(0)
}

fn obj_type(k: ObjKind) -> ObjType {
    match k {
        ObjKind::Pair => ObjType::Pair,
        ObjKind::Vector => ObjType::Vector,
        ObjKind::Box => ObjType::Box,
        ObjKind::Record => ObjType::Record,
        ObjKind::Values => ObjType::Values,
    }
}

fn heap_type_of(t: Ty) -> Option<ObjType> {
    Some(match t {
        Ty::Flonum => ObjType::Flonum,
        Ty::String => ObjType::String,
        Ty::Symbol => ObjType::Symbol,
        Ty::Vector => ObjType::Vector,
        Ty::Bytevector => ObjType::Bytevector,
        Ty::Box => ObjType::Box,
        Ty::Record => ObjType::Record,
        _ => return None,
    })
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
    float_ids: HashMap<u64, usize>,
    nconsts: usize,
}

impl ModCx {
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

    fn float(&mut self, bits: u64) -> usize {
        if let Some(&i) = self.float_ids.get(&bits) {
            return i;
        }
        self.floats.push(bits);
        let i = self.nconsts + self.floats.len() - 1;
        self.float_ids.insert(bits, i);
        i
    }

    fn table_len(&self) -> usize {
        self.nconsts + self.floats.len()
    }
}

fn direct_name(m: &Module, id: FuncId) -> String {
    format!("@\"d{}.{}\"", id.0, sanitize(&m.func(id).name))
}

fn fast_name(m: &Module, id: FuncId) -> String {
    format!("@\"u{}.{}\"", id.0, sanitize(&m.func(id).name))
}

fn info_name(id: FuncId) -> String {
    format!("@\"i{}\"", id.0)
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
    let live = crate::prune::reachable_functions(m, toplevels);
    for (i, f) in m.funcs.iter().enumerate() {
        if !live[i] {
            continue;
        }
        let id = FuncId::new(i);
        let mut e = FnEmitter::new(m, f, id, &mut cx, opts);
        e.emit_direct()?;
        funcs.push_str(&e.finish_function());
        if f.sig.closure {
            funcs.push_str(&emit_fast_entry(m, id));
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
        "{{ i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr, i64, ptr }} \
         {{ i64 {abi}, ptr @valk_consts, i64 {nt}, ptr @valk_const_data, i64 {cd}, \
         ptr @valk_cells, i64 {nc}, ptr @valk_cell_names, i64 {cn}, ptr @valk_builtins, \
         i64 {nb}, ptr @valk_builtin_names, i64 {bn}, ptr @valk_run_toplevel, i64 {ntop}, \
         ptr {sm} }}, align 8",
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
             define i32 @main(i32 %argc, ptr %argv) #0 {{\n\
             \x20 %r = call i32 @valk_aot_main(i32 %argc, ptr %argv, ptr @valk_program)\n\
             \x20 ret i32 %r\n}}\n",
        );
    } else if let Some(name) = opts.descriptor {
        let _ = writeln!(out, "@\"{name}\" = constant {desc_fields}\n");
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
@valk_interrupt = external global i64

declare ptr @valk_gc_alloc_slow(i64)
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
declare ptr addrspace(1) @valk_rt_rest_list(i64, i64, ptr addrspace(1), ptr addrspace(1), ptr addrspace(1), ptr addrspace(1))
declare ptr addrspace(1) @valk_rt_pack_args(i64, ptr)
declare ptr addrspace(1) @valk_rt_apply_spread(i64, ptr)
declare ptr addrspace(1) @valk_rt_call_spread(ptr addrspace(1))
declare i32 @valk_aot_main(i32, ptr, ptr)
"#;

const INTRINSICS: &str = r#"declare ptr @llvm.frameaddress.p0(i32)
declare { i64, i1 } @llvm.sadd.with.overflow.i64(i64, i64)
declare { i64, i1 } @llvm.ssub.with.overflow.i64(i64, i64)
declare { i64, i1 } @llvm.smul.with.overflow.i64(i64, i64)

"#;

const ATTRS: &str = r#"
attributes #0 = { nounwind "frame-pointer"="all" }

!0 = !{!"branch_weights", i32 2000, i32 1}
!1 = !{!"branch_weights", i32 1, i32 2000}
"#;

const FN_SUFFIX: &str = "#0 gc \"statepoint-example\"";

/// The fast entry of closure body `id`: arity check, rest list, then a tail
/// call of the direct entry.
fn emit_fast_entry(m: &Module, id: FuncId) -> String {
    let f = m.func(id);
    let r = f.sig.required as usize;
    let rest = f.sig.rest;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "define internal tailcc {V} {}({V} %self, i64 %argc, {V} %a0, {V} %a1, {V} %a2, {V} %a3x) \
         align 16 {FN_SUFFIX} {{\nstart:",
        fast_name(m, id)
    );
    let pred = if rest { "uge" } else { "eq" };
    let _ = writeln!(
        s,
        "  %ok = icmp {pred} i64 %argc, {r}\n  br i1 %ok, label %go, label %bad, {LIKELY}\n\
         bad:\n  %e = call {V} @valk_rt_arity({V} %self, i64 %argc)\n  ret {V} %e\ngo:"
    );
    let mut params = vec![format!("{V} %self")];
    let mut cur = "go".to_string();
    for i in 0..r {
        if i < 3 {
            params.push(format!("{V} %a{i}"));
        } else if i == 3 && (!rest && r == 4) {
            params.push(format!("{V} %a3x"));
        } else if i == 3 && rest {
            // Argument 3 is `a3x` itself when at most 4 were passed.
            let _ = writeln!(
                s,
                "  %in3 = icmp ule i64 %argc, 4\n  br i1 %in3, label %j3, label %v3\nv3:\n  \
                 %p3p = getelementptr i8, {V} %a3x, i64 {}\n  %p3v = load {V}, {V} %p3p\n  \
                 br label %j3\nj3:\n  %p3 = phi {V} [ %a3x, %{cur} ], [ %p3v, %v3 ]",
                field_offset(TAG_OBJECT, 0)
            );
            cur = "j3".into();
            params.push(format!("{V} %p3"));
        } else {
            let _ = writeln!(
                s,
                "  %p{i}p = getelementptr i8, {V} %a3x, i64 {}\n  %p{i} = load {V}, {V} %p{i}p",
                field_offset(TAG_OBJECT, i - 3)
            );
            params.push(format!("{V} %p{i}"));
        }
    }
    if rest {
        let _ = writeln!(
            s,
            "  %rest = call {V} @valk_rt_rest_list(i64 %argc, i64 {r}, {V} %a0, {V} %a1, {V} %a2, \
             {V} %a3x)\n  %rx = icmp eq {V} %rest, {}\n  br i1 %rx, label %exc, label %call, \
             {UNLIKELY}\nexc:\n  ret {V} %rest\ncall:",
            imm_op(abi::EXCEPTION)
        );
        params.push(format!("{V} %rest"));
    }
    let _ = cur;
    let args = pack_direct_args(&mut s, params, "pk");
    let _ = writeln!(
        s,
        "  %r = musttail call tailcc {V} {}({})\n  ret {V} %r\n}}\n",
        direct_name(m, id),
        args.join(", ")
    );
    s
}

/// Direct-entry arguments: past [`abi::MAX_DIRECT_PARAMS`], the last
/// register carries a vector of the rest (allocated here, inline).
fn pack_direct_args(s: &mut String, params: Vec<String>, prefix: &str) -> Vec<String> {
    if params.len() <= abi::MAX_DIRECT_PARAMS {
        return params;
    }
    let keep = abi::MAX_DIRECT_PARAMS - 1;
    let extra = &params[keep..];
    let mut a = Alloc::new(prefix);
    let obj = a.emit(s, ObjType::Vector, extra.len());
    for (i, p) in extra.iter().enumerate() {
        let _ = writeln!(
            s,
            "  %{prefix}.f{i} = getelementptr i8, {V} {obj}, i64 {}\n  store {p}, {V} %{prefix}.f{i}",
            field_offset(TAG_OBJECT, i)
        );
    }
    let mut out = params[..keep].to_vec();
    out.push(format!("{V} {obj}"));
    out
}

/// Inline allocation writing raw text (used outside the per-function
/// emitter): bump `valk_alloc_ptr`, else the slow-path trampoline.
struct Alloc {
    prefix: String,
}

impl Alloc {
    fn new(prefix: &str) -> Alloc {
        Alloc {
            prefix: prefix.to_string(),
        }
    }

    /// Returns the tagged object (header written, payload not).
    fn emit(&mut self, s: &mut String, ty: ObjType, size: usize) -> String {
        let p = &self.prefix;
        let bytes = 8 * (size + 1);
        let _ = writeln!(
            s,
            "  %{p}.p = load i64, ptr @valk_alloc_ptr\n  %{p}.np = add i64 %{p}.p, {bytes}\n  \
             %{p}.lim = load i64, ptr @valk_alloc_limit\n  %{p}.ok = icmp ule i64 %{p}.np, %{p}.lim\n  \
             br i1 %{p}.ok, label %{p}.fast, label %{p}.slow, {LIKELY}\n{p}.slow:\n  \
             %{p}.s = call ptr @valk_gc_alloc_slow(i64 {bytes})\n  %{p}.si = ptrtoint ptr %{p}.s to i64\n  \
             br label %{p}.join\n{p}.fast:\n  store i64 %{p}.np, ptr @valk_alloc_ptr\n  \
             br label %{p}.join\n{p}.join:\n  %{p}.a = phi i64 [ %{p}.si, %{p}.slow ], [ %{p}.p, %{p}.fast ]\n  \
             %{p}.t = or i64 %{p}.a, {tag}\n  %{p}.o = inttoptr i64 %{p}.t to {V}\n  \
             %{p}.h = getelementptr i8, {V} %{p}.o, i64 -{tag}\n  store i64 {hdr}, {V} %{p}.h",
            tag = ty.tag(),
            hdr = abi::header(ty, size) as i64,
        );
        format!("%{p}.o")
    }
}

fn emit_info(m: &Module, f: &Function, id: FuncId, cx: &mut ModCx, opts: &EmitOptions) -> String {
    let name = (opts.proc_name)(id, f);
    let (np, nl) = match &name {
        Some(n) => cx.string(n.as_bytes()),
        None => ("null".into(), 0),
    };
    let _ = m;
    format!(
        "{} = private unnamed_addr constant {{ ptr, i64, i32, i32, i32, i64 }} {{ ptr {np}, i64 {nl}, \
         i32 {}, i32 0, i32 {}, i64 0 }}, align 8\n\n",
        info_name(id),
        f.sig.required,
        f.sig.rest as u32
    )
}

/// The generic C-ABI entry of every compiled closure: moves the arguments
/// from `argv` (rooted memory) into the fast-entry registers and calls it.
fn emit_compiled_entry(aot: bool) -> String {
    let mut s = String::new();
    // Internal in an executable (only its own closures point at it).
    let linkage = if aot { "internal " } else { "" };
    let _ = writeln!(
        s,
        "define {linkage}{V} @valk_compiled_entry({V} %self, i64 %argc, ptr %argv) {FN_SUFFIX} {{\nstart:\n  \
         %big = icmp ugt i64 %argc, 4\n  br i1 %big, label %pack, label %l3c\npack:\n  \
         %v = call {V} @valk_rt_pack_args(i64 %argc, ptr %argv)\n  %vx = icmp eq {V} %v, {exc}\n  \
         br i1 %vx, label %exc, label %j3, {UNLIKELY}\nexc:\n  ret {V} %v\nl3c:\n  \
         %n3 = icmp ugt i64 %argc, 3\n  br i1 %n3, label %l3, label %j3\nl3:\n  \
         %x3p = getelementptr ptr addrspace(1), ptr %argv, i64 3\n  %x3 = load {V}, ptr %x3p\n  \
         br label %j3\nj3:\n  %a3 = phi {V} [ %v, %pack ], [ %x3, %l3 ], [ null, %l3c ]",
        exc = imm_op(abi::EXCEPTION)
    );
    for i in (0..3).rev() {
        let prev = format!("j{}", i + 1);
        let _ = writeln!(
            s,
            "  %n{i} = icmp ugt i64 %argc, {i}\n  br i1 %n{i}, label %l{i}, label %j{i}\nl{i}:\n  \
             %x{i}p = getelementptr ptr addrspace(1), ptr %argv, i64 {i}\n  %x{i} = load {V}, ptr %x{i}p\n  \
             br label %j{i}\nj{i}:\n  %a{i} = phi {V} [ %x{i}, %l{i} ], [ null, %{prev} ]"
        );
    }
    let _ = writeln!(
        s,
        "  %fp = getelementptr i8, {V} %self, i64 {off}\n  %f = load ptr, {V} %fp\n  \
         %r = call tailcc {V} %f({V} %self, i64 %argc, {V} %a0, {V} %a1, {V} %a2, {V} %a3)\n  \
         ret {V} %r\n}}\n",
        off = field_offset(TAG_CLOSURE, abi::CLOSURE_FAST_ENTRY)
    );
    s
}

fn emit_run_toplevel(m: &Module, toplevels: &[FuncId]) -> String {
    let mut s = format!(
        "define internal {V} @valk_run_toplevel(i64 %i) {FN_SUFFIX} {{\nstart:\n  switch i64 %i, label %none ["
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

/// Emits one VIR function as its direct entry.
struct FnEmitter<'m, 'c, 'o> {
    m: &'m Module,
    f: &'m Function,
    id: FuncId,
    cx: &'c mut ModCx,
    opts: &'o EmitOptions<'o>,
    /// Operand text of every VIR value (set when its definition is
    /// emitted; blocks are emitted in reverse postorder).
    names: Vec<String>,
    /// Values that are another value (`copy`, `cast`, `type_check`).
    alias: HashMap<usize, Value>,
    /// Text of the current VIR block (with the LLVM blocks split off it).
    body: String,
    blocks: Vec<(Block, String)>,
    /// The LLVM block being written.
    cur: String,
    tmp: u32,
    phis: HashMap<Block, Vec<(String, Vec<String>)>>,
    /// Slots of the argument array for calls through the runtime.
    argv_slots: usize,
    /// Lines of the `start` block (after the stack check).
    prologue: String,
}

impl<'m, 'c, 'o> FnEmitter<'m, 'c, 'o> {
    fn new(
        m: &'m Module,
        f: &'m Function,
        id: FuncId,
        cx: &'c mut ModCx,
        opts: &'o EmitOptions<'o>,
    ) -> Self {
        FnEmitter {
            m,
            f,
            id,
            cx,
            opts,
            names: Vec::new(),
            alias: HashMap::new(),
            body: String::new(),
            blocks: Vec::new(),
            cur: String::new(),
            tmp: 0,
            phis: HashMap::new(),
            argv_slots: 0,
            prologue: String::new(),
        }
    }

    fn t(&mut self) -> String {
        self.tmp += 1;
        format!("%t{}", self.tmp)
    }

    fn label(&mut self) -> String {
        self.tmp += 1;
        format!("L{}", self.tmp)
    }

    fn line(&mut self, s: impl AsRef<str>) {
        self.body.push_str("  ");
        self.body.push_str(s.as_ref());
        self.body.push('\n');
    }

    fn start_block(&mut self, label: &str) {
        self.body.push_str(label);
        self.body.push_str(":\n");
        self.cur = label.to_string();
    }

    /// The operand text of `v` (following copies and casts).
    fn op(&self, v: Value) -> String {
        let mut i = v.index();
        for _ in 0..=self.alias.len() {
            match self.alias.get(&i) {
                Some(w) => i = w.index(),
                None => break,
            }
        }
        self.names[i].clone()
    }

    /// `ptrtoint` of a value.
    fn int(&mut self, v: &str) -> String {
        if v == "null" {
            return "0".into();
        }
        let t = self.t();
        self.line(format!("{t} = ptrtoint {V} {v} to i64"));
        t
    }

    fn ptr(&mut self, i: &str) -> String {
        let t = self.t();
        self.line(format!("{t} = inttoptr i64 {i} to {V}"));
        t
    }

    fn bool_of(&mut self, c: &str) -> String {
        let t = self.t();
        self.line(format!(
            "{t} = select i1 {c}, {}, {}",
            imm(abi::TRUE),
            imm(abi::FALSE)
        ));
        t
    }

    /// Branches to a block returning `EXCEPTION` when `v` is it.
    fn check_exc(&mut self, v: &str) {
        let c = self.t();
        let (bad, ok) = (self.label(), self.label());
        self.line(format!("{c} = icmp eq {V} {v}, {}", imm_op(abi::EXCEPTION)));
        self.line(format!("br i1 {c}, label %{bad}, label %{ok}, {UNLIKELY}"));
        self.start_block(&bad);
        self.line(format!("ret {}", imm(abi::EXCEPTION)));
        self.start_block(&ok);
    }

    /// Continues in a fresh block when `c` holds; otherwise runs `fail`
    /// (which must end its block, typically by returning).
    fn guard(&mut self, c: &str, fail: impl FnOnce(&mut Self)) {
        let (bad, ok) = (self.label(), self.label());
        self.line(format!("br i1 {c}, label %{ok}, label %{bad}, {LIKELY}"));
        self.start_block(&bad);
        fail(self);
        self.start_block(&ok);
    }

    /// `if (valk_interrupt) { r = valk_rt_interrupt(); if exception: return it }`.
    /// The load is volatile so that it stays inside the loop.
    fn interrupt_poll(&mut self) {
        let (flag, set) = (self.t(), self.t());
        let (slow, go) = (self.label(), self.label());
        self.line(format!(
            "{flag} = load volatile i64, ptr @valk_interrupt, align 8"
        ));
        self.line(format!("{set} = icmp ne i64 {flag}, 0"));
        self.line(format!(
            "br i1 {set}, label %{slow}, label %{go}, {UNLIKELY}"
        ));
        self.start_block(&slow);
        let r = self.t();
        self.line(format!("{r} = call {V} @valk_rt_interrupt()"));
        self.check_exc(&r);
        self.line(format!("br label %{go}"));
        self.start_block(&go);
    }

    /// Calls a runtime function that always raises and returns its result.
    fn raise(&mut self, call: String) {
        let e = self.t();
        self.line(format!("{e} = call {V} {call}"));
        self.line(format!("ret {V} {e}"));
    }

    fn tag_of(&mut self, xi: &str) -> String {
        let t = self.t();
        self.line(format!("{t} = and i64 {xi}, 7"));
        t
    }

    fn icmp(&mut self, pred: &str, a: &str, b: &str) -> String {
        let t = self.t();
        self.line(format!("{t} = icmp {pred} i64 {a}, {b}"));
        t
    }

    fn gep(&mut self, base: &str, off: &str) -> String {
        let t = self.t();
        self.line(format!("{t} = getelementptr i8, {V} {base}, i64 {off}"));
        t
    }

    fn load_field(&mut self, base: &str, tag: u64, i: usize) -> String {
        let p = self.gep(base, &field_offset(tag, i).to_string());
        let t = self.t();
        self.line(format!("{t} = load {V}, {V} {p}"));
        t
    }

    fn store_field(&mut self, base: &str, tag: u64, i: usize, v: &str) {
        let p = self.gep(base, &field_offset(tag, i).to_string());
        self.line(format!("store {V} {v}, {V} {p}"));
    }

    /// The header word of a heap object with tag `tag`.
    fn header(&mut self, x: &str, tag: u64) -> String {
        let p = self.gep(x, &format!("-{tag}"));
        let h = self.t();
        self.line(format!("{h} = load i64, {V} {p}"));
        h
    }

    /// i1: is `x` (integer `xi`) a heap object of type `ty`?
    fn heap_type_test(&mut self, x: &str, xi: &str, ty: ObjType) -> String {
        let tag = self.tag_of(xi);
        let is3 = self.icmp("eq", &tag, &TAG_OBJECT.to_string());
        let (lh, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.line(format!("br i1 {is3}, label %{lh}, label %{lj}"));
        self.start_block(&lh);
        let h = self.header(x, TAG_OBJECT);
        let sh = self.t();
        self.line(format!("{sh} = lshr i64 {h}, 3"));
        let b = self.t();
        self.line(format!("{b} = and i64 {sh}, 255"));
        let eq = self.icmp("eq", &b, &(ty as u8).to_string());
        self.line(format!("br label %{lj}"));
        self.start_block(&lj);
        let r = self.t();
        self.line(format!("{r} = phi i1 [ false, %{from} ], [ {eq}, %{lh} ]"));
        r
    }

    /// i1: does `x` have type `t`?
    fn type_test(&mut self, t: Ty, x: &str) -> String {
        let xi = self.int(x);
        match t {
            Ty::Fixnum | Ty::Pair | Ty::Procedure => {
                let tag = self.tag_of(&xi);
                let want = match t {
                    Ty::Fixnum => 0,
                    Ty::Pair => TAG_PAIR,
                    _ => TAG_CLOSURE,
                };
                self.icmp("eq", &tag, &want.to_string())
            }
            Ty::Null => self.icmp("eq", &xi, &(abi::NIL as i64).to_string()),
            Ty::Boolean => {
                let m = self.t();
                self.line(format!(
                    "{m} = and i64 {xi}, {}",
                    !(abi::TRUE ^ abi::FALSE) as i64
                ));
                self.icmp("eq", &m, &(abi::FALSE as i64).to_string())
            }
            Ty::Char => {
                let m = self.t();
                self.line(format!("{m} = and i64 {xi}, 255"));
                self.icmp("eq", &m, &abi::CHAR_LOW_BYTE.to_string())
            }
            Ty::Number => {
                let tag = self.tag_of(&xi);
                let isfx = self.icmp("eq", &tag, "0");
                let (lf, lj) = (self.label(), self.label());
                let from = self.cur.clone();
                self.line(format!("br i1 {isfx}, label %{lj}, label %{lf}"));
                self.start_block(&lf);
                let fl = self.heap_type_test(x, &xi, ObjType::Flonum);
                let from2 = self.cur.clone();
                self.line(format!("br label %{lj}"));
                self.start_block(&lj);
                let r = self.t();
                self.line(format!(
                    "{r} = phi i1 [ true, %{from} ], [ {fl}, %{from2} ]"
                ));
                r
            }
            _ => {
                let ty = heap_type_of(t).unwrap_or(ObjType::Record);
                self.heap_type_test(x, &xi, ty)
            }
        }
    }

    /// Inline allocation of an object with `size` payload words (header
    /// written); returns the tagged pointer.
    fn alloc(&mut self, ty: ObjType, size: usize) -> String {
        self.tmp += 1;
        let prefix = format!("a{}", self.tmp);
        let mut a = Alloc::new(&prefix);
        let mut s = String::new();
        let obj = a.emit(&mut s, ty, size);
        self.body.push_str(&s);
        self.cur = format!("{prefix}.join");
        obj
    }

    fn box_flonum(&mut self, d: &str) -> String {
        let o = self.alloc(ObjType::Flonum, 1);
        let p = self.gep(&o, &field_offset(TAG_OBJECT, 0).to_string());
        self.line(format!("store double {d}, {V} {p}"));
        o
    }

    fn load_double(&mut self, x: &str) -> String {
        let p = self.gep(x, &field_offset(TAG_OBJECT, 0).to_string());
        let d = self.t();
        self.line(format!("{d} = load double, {V} {p}"));
        d
    }

    /// Stores `args` into the function's argument array; returns `%argv`.
    fn argv(&mut self, args: &[String]) -> String {
        self.argv_slots = self.argv_slots.max(args.len().max(1));
        for (i, a) in args.iter().enumerate() {
            let p = self.t();
            self.line(format!(
                "{p} = getelementptr ptr addrspace(1), ptr %argv, i64 {i}"
            ));
            self.line(format!("store {V} {a}, ptr {p}"));
        }
        "%argv".into()
    }

    // ---- functions ----

    fn compute_names(&mut self) {
        let f = self.f;
        let mut names = Vec::with_capacity(f.values.len());
        for i in 0..f.values.len() {
            let v = Value::new(i);
            let n = match f.value_def(v) {
                ValueDef::Param(..) => format!("%v{i}"),
                ValueDef::Result(inst) => {
                    let d = f.inst(inst);
                    match &d.op {
                        Op::Fixnum(n) => imm_op((*n << 3) as u64),
                        Op::Char(c) => imm_op(abi::char_value(*c)),
                        Op::Bool(b) => imm_op(if *b { abi::TRUE } else { abi::FALSE }),
                        Op::Nil => imm_op(abi::NIL),
                        Op::Unspecified => imm_op(abi::UNSPECIFIED),
                        Op::Undefined => imm_op(abi::UNDEFINED),
                        Op::Copy | Op::Cast(_) | Op::TypeCheck(..) if !d.args.is_empty() => {
                            self.alias.insert(i, d.args[0]);
                            "undef".into()
                        }
                        _ => format!("%v{i}"),
                    }
                }
            };
            names.push(n);
        }
        self.names = names;
    }

    fn emit_direct(&mut self) -> Result<(), EmitError> {
        self.compute_names();
        let f = self.f;
        let cfg = valk_vir::Cfg::compute(f);
        let rpo = valk_vir::analysis::reverse_postorder(f, &cfg);
        let mut position = vec![usize::MAX; f.blocks.len()];
        for (k, b) in rpo.iter().enumerate() {
            position[b.index()] = k;
        }
        for &b in &rpo {
            self.body.clear();
            self.cur = format!("b{}", b.0);
            // A loop header (the target of a back edge) polls for Ctrl-C:
            // a loop compiled to branches has no prologue stack check.
            if cfg
                .preds(b)
                .iter()
                .any(|p| position[p.index()] >= position[b.index()])
            {
                self.interrupt_poll();
            }
            for &i in &f.block(b).insts {
                let d = f.inst(i);
                self.emit_inst(d).map_err(|e| {
                    EmitError(format!(
                        "function @{}: {} ({})",
                        f.name,
                        e.0,
                        d.op.mnemonic()
                    ))
                })?;
            }
            let text = std::mem::take(&mut self.body);
            self.blocks.push((b, text));
        }
        Ok(())
    }

    /// Functions that call anything check the stack on entry. Tail calls
    /// cannot overflow it, but the check is also how a Ctrl-C reaches code
    /// that only tail-calls (`interrupt::request` trips the limit); loops
    /// inside a function poll at their headers instead.
    fn needs_stack_check(&self) -> bool {
        let f = self.f;
        f.layout.iter().any(|&b| {
            f.block(b).insts.iter().any(|&i| {
                matches!(
                    f.inst(i).op,
                    Op::Call(_)
                        | Op::CallClosure
                        | Op::CallRuntime(_)
                        | Op::CheckInit
                        | Op::ArityError
                        | Op::TailCall(_)
                        | Op::TailCallClosure
                )
            })
        })
    }

    fn finish_function(&mut self) -> String {
        let f = self.f;
        let params = f.params();
        let mut s = String::new();
        let direct_params: Vec<String> = if params.len() <= abi::MAX_DIRECT_PARAMS {
            params.iter().map(|p| format!("{V} %v{}", p.0)).collect()
        } else {
            let keep = abi::MAX_DIRECT_PARAMS - 1;
            let mut v: Vec<String> = params[..keep]
                .iter()
                .map(|p| format!("{V} %v{}", p.0))
                .collect();
            v.push(format!("{V} %ovf"));
            v
        };
        let _ = writeln!(
            s,
            "define internal tailcc {V} {}({}) {FN_SUFFIX} {{\nstart:",
            direct_name(self.m, self.id),
            direct_params.join(", ")
        );
        if self.argv_slots > 0 {
            let _ = writeln!(
                s,
                "  %argv = alloca [{} x ptr addrspace(1)], align 8",
                self.argv_slots
            );
        }
        if params.len() > abi::MAX_DIRECT_PARAMS {
            for (k, p) in params[abi::MAX_DIRECT_PARAMS - 1..].iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  %ovf.{k} = getelementptr i8, {V} %ovf, i64 {}\n  %v{} = load {V}, {V} %ovf.{k}",
                    field_offset(TAG_OBJECT, k),
                    p.0
                );
            }
        }
        s.push_str(&self.prologue);
        let entry = f.entry();
        if self.needs_stack_check() {
            let _ = writeln!(
                s,
                "  %fa = call ptr @llvm.frameaddress.p0(i32 0)\n  %fai = ptrtoint ptr %fa to i64\n  \
                 %lim = load i64, ptr @valk_stack_limit\n  %so = icmp ult i64 %fai, %lim\n  \
                 br i1 %so, label %overflow, label %b{}, {UNLIKELY}\noverflow:\n  \
                 %soe = call {V} @valk_rt_stack_overflow()\n  ret {V} %soe",
                entry.0
            );
        } else {
            let _ = writeln!(s, "  br label %b{}", entry.0);
        }
        for (b, text) in std::mem::take(&mut self.blocks) {
            let _ = writeln!(s, "b{}:", b.0);
            if let Some(incoming) = self.phis.get(&b) {
                for (k, &p) in f.block(b).params.iter().enumerate() {
                    let ins: Vec<String> = incoming
                        .iter()
                        .map(|(from, args)| format!("[ {}, %{from} ]", args[k]))
                        .collect();
                    let _ = writeln!(s, "  %v{} = phi {V} {}", p.0, ins.join(", "));
                }
            }
            s.push_str(&text);
        }
        s.push_str("}\n\n");
        s
    }

    /// Records the edge to `bc` from the current LLVM block; returns the
    /// label to branch to. `edge` forces a separate edge block (needed when
    /// one terminator has several edges).
    fn edge(&mut self, bc: &BlockCall, edge: bool, pending: &mut Vec<String>) -> String {
        let args: Vec<String> = bc.args.iter().map(|&a| self.op(a)).collect();
        let target = format!("b{}", bc.block.0);
        if bc.args.is_empty() {
            // Phi-less targets need no edge block.
            return target;
        }
        if !edge {
            let from = self.cur.clone();
            self.phis.entry(bc.block).or_default().push((from, args));
            return target;
        }
        let e = self.label();
        self.phis
            .entry(bc.block)
            .or_default()
            .push((e.clone(), args));
        pending.push(format!("{e}:\n  br label %{target}\n"));
        e
    }

    fn emit_inst(&mut self, d: &InstData) -> Result<(), EmitError> {
        let res = d.result.map(|r| format!("%v{}", r.0));
        let a: Vec<String> = d.args.iter().map(|&v| self.op(v)).collect();
        // Assigns the result name to an operand computed into `val`.
        macro_rules! set {
            ($val:expr) => {{
                let val: String = $val;
                if let Some(r) = d.result {
                    self.names[r.index()] = val;
                }
            }};
        }
        match &d.op {
            Op::Fixnum(_)
            | Op::Char(_)
            | Op::Bool(_)
            | Op::Nil
            | Op::Unspecified
            | Op::Undefined
            | Op::Copy
            | Op::Cast(_) => {}
            Op::Flonum(bits) => {
                let i = self.cx.float(*bits);
                self.load_const(res.as_deref(), i);
            }
            Op::Const(c) => self.load_const(res.as_deref(), c.index()),
            Op::TypeTag => {
                let xi = self.int(&a[0]);
                let t = self.tag_of(&xi);
                let s = self.t();
                self.line(format!("{s} = shl i64 {t}, 3"));
                let r = res.unwrap_or_default();
                self.line(format!("{r} = inttoptr i64 {s} to {V}"));
            }
            Op::TypeIs(t) => {
                let c = self.type_test(*t, &a[0]);
                let r = res.unwrap_or_default();
                self.line(format!(
                    "{r} = select i1 {c}, {}, {}",
                    imm(abi::TRUE),
                    imm(abi::FALSE)
                ));
            }
            Op::TypeCheck(t, who) => {
                let c = self.type_test(*t, &a[0]);
                let (wp, wl) = self.cx.string(who.as_bytes());
                let code = ty_code(*t);
                let x = a[0].clone();
                self.guard(&c, |e| {
                    e.raise(format!(
                        "@valk_rt_wrong_type(ptr {wp}, i64 {wl}, i64 {code}, {V} {x})"
                    ))
                });
            }
            Op::Fx(op, mode) => {
                let v = self.fx(*op, *mode, &a[0], &a[1]);
                set!(v)
            }
            Op::FxToFl => {
                let xi = self.int(&a[0]);
                let n = self.t();
                self.line(format!("{n} = ashr i64 {xi}, 3"));
                let dd = self.t();
                self.line(format!("{dd} = sitofp i64 {n} to double"));
                let o = self.box_flonum(&dd);
                set!(o)
            }
            Op::Fl(op, chk) => {
                let v = self.fl(*op, chk.is_checked(), &a[0], &a[1]);
                set!(v)
            }
            Op::FxCmp(c, chk) => {
                let v = self.fx_cmp(*c, chk.is_checked(), &a[0], &a[1]);
                set!(v)
            }
            Op::FlCmp(c, chk) => {
                let v = self.fl_cmp(*c, chk.is_checked(), &a[0], &a[1]);
                set!(v)
            }
            Op::Eq => {
                let c = self.t();
                self.line(format!("{c} = icmp eq {V} {}, {}", a[0], a[1]));
                let v = self.bool_of(&c);
                set!(v)
            }
            Op::Not => {
                let c = self.t();
                self.line(format!(
                    "{c} = icmp eq {V} {}, {}",
                    a[0],
                    imm_op(abi::FALSE)
                ));
                let v = self.bool_of(&c);
                set!(v)
            }
            Op::Alloc(kind, _) => {
                let ty = obj_type(*kind);
                let o = self.alloc(ty, a.len());
                for (i, x) in a.iter().enumerate() {
                    self.store_field(&o, ty.tag(), i, x);
                }
                set!(o)
            }
            Op::Load(n) => {
                let p = self.dyn_field(&a[0], *n as usize);
                let r = res.unwrap_or_default();
                self.line(format!("{r} = load {V}, {V} {p}"));
            }
            Op::Store(n) => {
                let p = self.dyn_field(&a[0], *n as usize);
                self.line(format!("store {V} {}, {V} {p}", a[1]));
            }
            Op::Cons => {
                let o = self.alloc(ObjType::Pair, 2);
                self.store_field(&o, TAG_PAIR, 0, &a[0]);
                self.store_field(&o, TAG_PAIR, 1, &a[1]);
                set!(o)
            }
            Op::Car | Op::Cdr => {
                let i = if d.op == Op::Car { 0 } else { 1 };
                let v = self.load_field(&a[0], TAG_PAIR, i);
                set!(v)
            }
            Op::VectorRef | Op::VectorSet => {
                let set = d.op == Op::VectorSet;
                let p = self.vector_slot(&a[0], &a[1], if set { 1 } else { 0 });
                if set {
                    self.line(format!("store {V} {}, {V} {p}", a[2]));
                } else {
                    let r = res.unwrap_or_default();
                    self.line(format!("{r} = load {V}, {V} {p}"));
                }
            }
            Op::VectorLength => {
                let h = self.header(&a[0], TAG_OBJECT);
                let n = self.t();
                self.line(format!("{n} = lshr i64 {h}, 16"));
                let s = self.t();
                self.line(format!("{s} = shl i64 {n}, 3"));
                let r = res.unwrap_or_default();
                self.line(format!("{r} = inttoptr i64 {s} to {V}"));
            }
            Op::StringRef | Op::StringSet => {
                let set = d.op == Op::StringSet;
                let p = self.string_slot(&a[0], &a[1], if set { 3 } else { 2 });
                if set {
                    let ci = self.int(&a[2]);
                    let s = self.t();
                    self.line(format!("{s} = lshr i64 {ci}, 8"));
                    let c32 = self.t();
                    self.line(format!("{c32} = trunc i64 {s} to i32"));
                    self.line(format!("store i32 {c32}, {V} {p}"));
                } else {
                    let c32 = self.t();
                    self.line(format!("{c32} = load i32, {V} {p}"));
                    let z = self.t();
                    self.line(format!("{z} = zext i32 {c32} to i64"));
                    let s = self.t();
                    self.line(format!("{s} = shl i64 {z}, 8"));
                    let o = self.t();
                    self.line(format!("{o} = or i64 {s}, {}", abi::CHAR_LOW_BYTE));
                    let r = res.unwrap_or_default();
                    self.line(format!("{r} = inttoptr i64 {o} to {V}"));
                }
            }
            Op::StringLength => {
                let p = self.gep(&a[0], &field_offset(TAG_OBJECT, 0).to_string());
                let n = self.t();
                self.line(format!("{n} = load i64, {V} {p}"));
                let s = self.t();
                self.line(format!("{s} = shl i64 {n}, 3"));
                let r = res.unwrap_or_default();
                self.line(format!("{r} = inttoptr i64 {s} to {V}"));
            }
            Op::MakeBox => {
                let o = self.alloc(ObjType::Box, 1);
                self.store_field(&o, TAG_OBJECT, 0, &a[0]);
                set!(o)
            }
            Op::Unbox => {
                let v = self.load_field(&a[0], TAG_OBJECT, 0);
                set!(v)
            }
            Op::SetBox => self.store_field(&a[0], TAG_OBJECT, 0, &a[1]),
            Op::GlobalGet(g, chk) => {
                let cell = self.cell(g.index());
                let r = res.unwrap_or_default();
                self.line(format!("{r} = load {V}, ptr {cell}"));
                if chk.is_checked() {
                    self.check_bound(&r, g.index(), d.loc);
                }
            }
            Op::GlobalSet(g, chk) => {
                let cell = self.cell(g.index());
                if chk.is_checked() {
                    let old = self.t();
                    self.line(format!("{old} = load {V}, ptr {cell}"));
                    self.check_bound(&old, g.index(), d.loc);
                }
                self.line(format!("store {V} {}, ptr {cell}", a[0]));
            }
            Op::Call(callee) => {
                let args = self.direct_args(&a);
                let r = res.unwrap_or_default();
                self.line(format!(
                    "{r} = call tailcc {V} {}({})",
                    direct_name(self.m, *callee),
                    args.join(", ")
                ));
                self.check_exc(&r);
            }
            Op::CallClosure => {
                let v = self.closure_call(&a[0], &a[1..], false);
                set!(v)
            }
            Op::CallRuntime(b) => {
                let v = self.runtime_call(self.m.builtin_name(*b), &a)?;
                set!(v)
            }
            Op::CheckInit => {
                let v = self.check_init(&a[0], &a[1]);
                set!(v)
            }
            Op::ArityError => {
                let v = self.arity_error(&a[0], &a[1], &a[2]);
                set!(v)
            }
            Op::Closure(body) => {
                let ncap = a.len();
                let o = self.alloc(ObjType::Closure, abi::CLOSURE_FIRST_CAPTURE + ncap);
                let words = [
                    "@valk_compiled_entry".to_string(),
                    info_name(*body),
                    fast_name(self.m, *body),
                ];
                for (i, w) in words.iter().enumerate() {
                    let p = self.gep(&o, &field_offset(TAG_CLOSURE, i).to_string());
                    self.line(format!("store ptr {w}, {V} {p}"));
                }
                for (i, x) in a.iter().enumerate() {
                    self.store_field(&o, TAG_CLOSURE, abi::CLOSURE_FIRST_CAPTURE + i, x);
                }
                set!(o)
            }
            Op::EnvGet(n) => {
                let v =
                    self.load_field(&a[0], TAG_CLOSURE, abi::CLOSURE_FIRST_CAPTURE + *n as usize);
                set!(v)
            }
            Op::ContNew(_) | Op::ContCall => {
                return Err(EmitError(
                    "continuations are not supported by the LLVM backend yet".into(),
                ))
            }
            Op::Br => {
                let mut pending = Vec::new();
                let t = self.edge(&d.targets[0], false, &mut pending);
                self.line(format!("br label %{t}"));
            }
            Op::BrIf => {
                let c = self.t();
                self.line(format!(
                    "{c} = icmp ne {V} {}, {}",
                    a[0],
                    imm_op(abi::FALSE)
                ));
                let mut pending = Vec::new();
                let t = self.edge(&d.targets[0], true, &mut pending);
                let e = self.edge(&d.targets[1], true, &mut pending);
                self.line(format!("br i1 {c}, label %{t}, label %{e}"));
                for p in pending {
                    self.body.push_str(&p);
                }
            }
            Op::Switch(cases) => {
                let xi = self.int(&a[0]);
                let mut pending = Vec::new();
                let dflt = self.edge(&d.targets[0], true, &mut pending);
                let mut arms = Vec::new();
                for (k, &n) in cases.iter().enumerate() {
                    let l = self.edge(&d.targets[k + 1], true, &mut pending);
                    arms.push(format!("i64 {}, label %{l}", n << 3));
                }
                self.line(format!(
                    "switch i64 {xi}, label %{dflt} [ {} ]",
                    arms.join(" ")
                ));
                for p in pending {
                    self.body.push_str(&p);
                }
            }
            Op::Ret => self.line(format!("ret {V} {}", a[0])),
            Op::TailCall(callee) => {
                let args = self.direct_args(&a);
                let r = self.t();
                self.line(format!(
                    "{r} = musttail call tailcc {V} {}({})",
                    direct_name(self.m, *callee),
                    args.join(", ")
                ));
                self.line(format!("ret {V} {r}"));
            }
            Op::TailCallClosure => {
                self.closure_call(&a[0], &a[1..], true);
            }
            Op::Unreachable => self.line("unreachable"),
        }
        Ok(())
    }

    fn load_const(&mut self, res: Option<&str>, i: usize) {
        let n = self.cx.table_len().max(i + 1);
        let _ = n;
        let p = self.t();
        self.line(format!(
            "{p} = getelementptr ptr addrspace(1), ptr @valk_consts, i64 {i}"
        ));
        let r = res.unwrap_or_default();
        self.line(format!("{r} = load {V}, ptr {p}"));
    }

    fn cell(&mut self, g: usize) -> String {
        let p = self.t();
        self.line(format!("{p} = getelementptr ptr, ptr @valk_cells, i64 {g}"));
        let c = self.t();
        self.line(format!("{c} = load ptr, ptr {p}"));
        c
    }

    fn check_bound(&mut self, v: &str, g: usize, loc: Loc) {
        let c = self.t();
        self.line(format!("{c} = icmp ne {V} {v}, {}", imm_op(abi::UNDEFINED)));
        let name = self.m.globals[g].name.clone();
        let diag = (self.opts.unbound_diag)(loc, &name).unwrap_or_default();
        let (np, nl) = self.cx.string(name.as_bytes());
        let (dp, dl) = self.cx.string(diag.as_bytes());
        self.guard(&c, |e| {
            e.raise(format!(
                "@valk_rt_unbound(ptr {np}, i64 {nl}, ptr {dp}, i64 {dl})"
            ))
        });
    }

    /// Address of payload word `n` of an object whose tag is not known
    /// statically (computed from the tag, which never changes).
    fn dyn_field(&mut self, x: &str, n: usize) -> String {
        let xi = self.int(x);
        let tag = self.tag_of(&xi);
        let off = self.t();
        self.line(format!("{off} = sub i64 {}, {tag}", 8 * (n + 1)));
        self.gep(x, &off)
    }

    /// Bounds-checked address of element `i` of vector `v`.
    fn vector_slot(&mut self, v: &str, i: &str, who: u32) -> String {
        let h = self.header(v, TAG_OBJECT);
        let len = self.t();
        self.line(format!("{len} = lshr i64 {h}, 16"));
        let ii = self.int(i);
        let idx = self.t();
        self.line(format!("{idx} = ashr i64 {ii}, 3"));
        let ok = self.icmp("ult", &idx, &len);
        let iv = i.to_string();
        self.guard(&ok, |e| {
            e.raise(format!("@valk_rt_range(i64 {who}, {V} {iv})"))
        });
        let off = self.t();
        self.line(format!(
            "{off} = add i64 {ii}, {}",
            field_offset(TAG_OBJECT, 0)
        ));
        self.gep(v, &off)
    }

    /// Bounds-checked address of the code point `i` of string `s`.
    fn string_slot(&mut self, s: &str, i: &str, who: u32) -> String {
        let lp = self.gep(s, &field_offset(TAG_OBJECT, 0).to_string());
        let len = self.t();
        self.line(format!("{len} = load i64, {V} {lp}"));
        let ii = self.int(i);
        let idx = self.t();
        self.line(format!("{idx} = ashr i64 {ii}, 3"));
        let ok = self.icmp("ult", &idx, &len);
        let iv = i.to_string();
        self.guard(&ok, |e| {
            e.raise(format!("@valk_rt_range(i64 {who}, {V} {iv})"))
        });
        let b = self.t();
        self.line(format!("{b} = shl i64 {idx}, 2"));
        let off = self.t();
        self.line(format!(
            "{off} = add i64 {b}, {}",
            field_offset(TAG_OBJECT, 1)
        ));
        self.gep(s, &off)
    }

    /// Arguments of a direct call (packing past six parameters).
    fn direct_args(&mut self, a: &[String]) -> Vec<String> {
        let params: Vec<String> = a.iter().map(|x| format!("{V} {x}")).collect();
        if params.len() <= abi::MAX_DIRECT_PARAMS {
            return params;
        }
        self.tmp += 1;
        let prefix = format!("pk{}", self.tmp);
        let mut s = String::new();
        let out = pack_direct_args(&mut s, params, &prefix);
        self.body.push_str(&s);
        self.cur = format!("{prefix}.join");
        out
    }

    /// Branches to `yes` when `c` (integer `ci`) is a compiled closure,
    /// else to `no`.
    fn branch_if_compiled(&mut self, c: &str, ci: &str, yes: &str, no: &str) {
        let tag = self.tag_of(ci);
        let isclo = self.icmp("eq", &tag, &TAG_CLOSURE.to_string());
        let l1 = self.label();
        self.line(format!("br i1 {isclo}, label %{l1}, label %{no}, {LIKELY}"));
        self.start_block(&l1);
        let w0p = self.gep(c, &field_offset(TAG_CLOSURE, 0).to_string());
        let w0 = self.t();
        self.line(format!("{w0} = load ptr, {V} {w0p}"));
        let isc = self.t();
        self.line(format!("{isc} = icmp eq ptr {w0}, @valk_compiled_entry"));
        self.line(format!("br i1 {isc}, label %{yes}, label %{no}, {LIKELY}"));
    }

    /// Calls the fast entry of compiled closure `c` with `argc` (an i64
    /// operand) and the four register arguments; returns the result (for a
    /// tail call the block is closed with `ret`).
    fn fast_call(&mut self, c: &str, argc: &str, regs: &[String], tail: bool) -> String {
        let fp = self.gep(
            c,
            &field_offset(TAG_CLOSURE, abi::CLOSURE_FAST_ENTRY).to_string(),
        );
        let fe = self.t();
        self.line(format!("{fe} = load ptr, {V} {fp}"));
        let call_args = format!(
            "{V} {c}, i64 {argc}, {}",
            regs.iter()
                .map(|r| format!("{V} {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let r = self.t();
        if tail {
            self.line(format!("{r} = musttail call tailcc {V} {fe}({call_args})"));
            self.line(format!("ret {V} {r}"));
        } else {
            self.line(format!("{r} = call tailcc {V} {fe}({call_args})"));
        }
        r
    }

    /// A call of an unknown procedure: compiled closures through their
    /// fast entry; `apply` spread in line (so `(apply f l)` in tail
    /// position is a tail call, as in the interpreter); anything else
    /// through `valk_rt_call`.
    fn closure_call(&mut self, c: &str, args: &[String], tail: bool) -> String {
        let ci = self.int(c);
        let (lfast, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.branch_if_compiled(c, &ci, &lfast, &lslow);
        self.start_block(&lfast);
        let n = args.len();
        // Unused registers carry null (they are GC values: never garbage).
        let mut regs: Vec<String> = args.iter().take(abi::FAST_ARGS).cloned().collect();
        regs.resize(abi::FAST_ARGS, "null".into());
        if n > abi::FAST_ARGS {
            let extra = &args[abi::FAST_ARGS - 1..];
            let o = self.alloc(ObjType::Vector, extra.len());
            for (i, x) in extra.iter().enumerate() {
                self.store_field(&o, TAG_OBJECT, i, x);
            }
            regs[abi::FAST_ARGS - 1] = o;
        }
        let mut results: Vec<(String, String)> = Vec::new();
        let r1 = self.fast_call(c, &n.to_string(), &regs, tail);
        if !tail {
            results.push((r1, self.cur.clone()));
            self.line(format!("br label %{ljoin}"));
        }
        self.start_block(&lslow);
        let lplain = self.label();
        if n >= 1 {
            // Is the callee the `apply` builtin?
            let tag = self.tag_of(&ci);
            let isclo = self.icmp("eq", &tag, &TAG_CLOSURE.to_string());
            let (lchk, lapply) = (self.label(), self.label());
            self.line(format!("br i1 {isclo}, label %{lchk}, label %{lplain}"));
            self.start_block(&lchk);
            let w1p = self.gep(c, &field_offset(TAG_CLOSURE, 1).to_string());
            let w1 = self.t();
            self.line(format!("{w1} = load i64, {V} {w1p}"));
            let ai = self.t();
            self.line(format!("{ai} = load i64, ptr @valk_apply_info"));
            let isapply = self.icmp("eq", &w1, &ai);
            self.line(format!("br i1 {isapply}, label %{lapply}, label %{lplain}"));
            self.start_block(&lapply);
            let argv = self.argv(args);
            let sp = self.t();
            self.line(format!(
                "{sp} = call {V} @valk_rt_apply_spread(i64 {n}, ptr {argv})"
            ));
            self.check_exc(&sp);
            let g = self.load_field(&sp, TAG_OBJECT, 0);
            let nv = self.load_field(&sp, TAG_OBJECT, 1);
            let nvi = self.int(&nv);
            let nn = self.t();
            self.line(format!("{nn} = ashr i64 {nvi}, 3"));
            let sregs: Vec<String> = (0..abi::FAST_ARGS)
                .map(|i| self.load_field(&sp, TAG_OBJECT, 2 + i))
                .collect();
            let gi = self.int(&g);
            let (lgfast, lgslow) = (self.label(), self.label());
            self.branch_if_compiled(&g, &gi, &lgfast, &lgslow);
            self.start_block(&lgfast);
            let r3 = self.fast_call(&g, &nn, &sregs, tail);
            if !tail {
                results.push((r3, self.cur.clone()));
                self.line(format!("br label %{ljoin}"));
            }
            self.start_block(&lgslow);
            let r4 = self.t();
            self.line(format!("{r4} = call {V} @valk_rt_call_spread({V} {sp})"));
            if tail {
                self.line(format!("ret {V} {r4}"));
            } else {
                results.push((r4, self.cur.clone()));
                self.line(format!("br label %{ljoin}"));
            }
        } else {
            self.line(format!("br label %{lplain}"));
        }
        self.start_block(&lplain);
        let argv = self.argv(args);
        let r2 = self.t();
        self.line(format!(
            "{r2} = call {V} @valk_rt_call({V} {c}, i64 {n}, ptr {argv})"
        ));
        if tail {
            self.line(format!("ret {V} {r2}"));
            // Nothing follows a tail call; keep a block for the emitter.
            self.start_block(&ljoin);
            self.line("unreachable");
            return String::new();
        }
        results.push((r2, self.cur.clone()));
        self.line(format!("br label %{ljoin}"));
        self.start_block(&ljoin);
        let r = self.t();
        let incoming: Vec<String> = results
            .iter()
            .map(|(v, b)| format!("[ {v}, %{b} ]"))
            .collect();
        self.line(format!("{r} = phi {V} {}", incoming.join(", ")));
        self.check_exc(&r);
        r
    }

    /// `check_init %v, %sym`: `v` unless it is `undefined`.
    fn check_init(&mut self, v: &str, sym: &str) -> String {
        let c = self.t();
        self.line(format!("{c} = icmp ne {V} {v}, {}", imm_op(abi::UNDEFINED)));
        let sym = sym.to_string();
        self.guard(&c, |e| e.raise(format!("@valk_rt_undefined({V} {sym})")));
        v.to_string()
    }

    /// `arity_error %who, %expected, %got`.
    fn arity_error(&mut self, who: &str, expected: &str, got: &str) -> String {
        let r = self.t();
        self.line(format!(
            "{r} = call {V} @valk_rt_arity_error({V} {who}, {V} {expected}, {V} {got})"
        ));
        self.line(format!("ret {V} {r}"));
        // Never returns; later code of the block is unreachable.
        let l = self.label();
        self.start_block(&l);
        imm_op(abi::UNSPECIFIED)
    }

    fn runtime_call(&mut self, name: &str, a: &[String]) -> Result<String, EmitError> {
        if name.starts_with('$') {
            return Err(EmitError(format!(
                "runtime helper \"{name}\" with {} arguments is not supported",
                a.len()
            )));
        }
        if valk_runtime::builtins::lookup(name).is_none() {
            return Err(EmitError(format!("unknown runtime function \"{name}\"")));
        }
        let b = self.cx.builtin(name);
        let bp = self.t();
        self.line(format!(
            "{bp} = getelementptr ptr, ptr @valk_builtins, i64 {b}"
        ));
        let bv = self.t();
        self.line(format!("{bv} = load ptr, ptr {bp}"));
        let argv = self.argv(a);
        let r = self.t();
        self.line(format!(
            "{r} = call {V} @valk_rt_call_builtin(ptr {bv}, i64 {}, ptr {argv})",
            a.len()
        ));
        self.check_exc(&r);
        Ok(r)
    }

    // ---- arithmetic ----

    /// Fixnum arithmetic; returns the result operand.
    fn fx(&mut self, op: FxOp, mode: FxMode, a: &str, b: &str) -> String {
        let ai = self.int(a);
        let bi = self.int(b);
        let code = fx_code(op);
        if mode == FxMode::Plain {
            let r = match op {
                FxOp::Add | FxOp::Sub => {
                    let r = self.t();
                    let o = if op == FxOp::Add { "add" } else { "sub" };
                    self.line(format!("{r} = {o} i64 {ai}, {bi}"));
                    r
                }
                FxOp::Mul => {
                    let u = self.t();
                    self.line(format!("{u} = ashr i64 {ai}, 3"));
                    let r = self.t();
                    self.line(format!("{r} = mul i64 {u}, {bi}"));
                    r
                }
                _ => {
                    let nz = self.icmp("ne", &bi, "0");
                    self.guard(&nz, |e| e.raise(format!("@valk_rt_div_zero(i64 {code})")));
                    self.divide(op, &ai, &bi)
                }
            };
            return self.ptr(&r);
        }
        let (lfx, lslow, ljoin) = (self.label(), self.label(), self.label());
        if mode == FxMode::Chk {
            let o = self.t();
            self.line(format!("{o} = or i64 {ai}, {bi}"));
            let t = self.tag_of(&o);
            let isfx = self.icmp("eq", &t, "0");
            self.line(format!(
                "br i1 {isfx}, label %{lfx}, label %{lslow}, {LIKELY}"
            ));
        } else {
            self.line(format!("br label %{lfx}"));
        }
        self.start_block(&lfx);
        let (val, ovf) = match op {
            FxOp::Add | FxOp::Sub | FxOp::Mul => {
                let (intr, x) = match op {
                    FxOp::Add => ("sadd", ai.clone()),
                    FxOp::Sub => ("ssub", ai.clone()),
                    _ => {
                        let u = self.t();
                        self.line(format!("{u} = ashr i64 {ai}, 3"));
                        ("smul", u)
                    }
                };
                let s = self.t();
                self.line(format!(
                    "{s} = call {{ i64, i1 }} @llvm.{intr}.with.overflow.i64(i64 {x}, i64 {bi})"
                ));
                let v = self.t();
                self.line(format!("{v} = extractvalue {{ i64, i1 }} {s}, 0"));
                let o = self.t();
                self.line(format!("{o} = extractvalue {{ i64, i1 }} {s}, 1"));
                (v, o)
            }
            _ => {
                // Zero divisors and MIN / -1 go to the generic operation.
                let z = self.icmp("eq", &bi, "0");
                let m1 = self.icmp("eq", &bi, "-8");
                let mn = self.icmp("eq", &ai, &(i64::MIN).to_string());
                let both = self.t();
                self.line(format!("{both} = and i1 {m1}, {mn}"));
                let bad = self.t();
                self.line(format!("{bad} = or i1 {z}, {both}"));
                let (lok, ldiv) = (self.label(), self.label());
                let _ = lok;
                self.line(format!(
                    "br i1 {bad}, label %{lslow}, label %{ldiv}, {UNLIKELY}"
                ));
                self.start_block(&ldiv);
                let v = self.divide(op, &ai, &bi);
                (v, "false".to_string())
            }
        };
        let lok = self.label();
        self.line(format!(
            "br i1 {ovf}, label %{lslow}, label %{lok}, {UNLIKELY}"
        ));
        self.start_block(&lok);
        let r1 = self.ptr(&val);
        self.slow_path_join(Some((lslow, ljoin)), r1, "valk_rt_arith", code, a, b)
    }

    /// Quotient/remainder/modulo of tagged fixnums (divisor non-zero).
    fn divide(&mut self, op: FxOp, ai: &str, bi: &str) -> String {
        match op {
            FxOp::Quo => {
                let q = self.t();
                self.line(format!("{q} = sdiv i64 {ai}, {bi}"));
                let r = self.t();
                self.line(format!("{r} = shl i64 {q}, 3"));
                r
            }
            FxOp::Rem => {
                let r = self.t();
                self.line(format!("{r} = srem i64 {ai}, {bi}"));
                r
            }
            _ => {
                let r = self.t();
                self.line(format!("{r} = srem i64 {ai}, {bi}"));
                let nz = self.icmp("ne", &r, "0");
                let x = self.t();
                self.line(format!("{x} = xor i64 {r}, {bi}"));
                let neg = self.icmp("slt", &x, "0");
                let adj = self.t();
                self.line(format!("{adj} = and i1 {nz}, {neg}"));
                let s = self.t();
                self.line(format!("{s} = add i64 {r}, {bi}"));
                let m = self.t();
                self.line(format!("{m} = select i1 {adj}, i64 {s}, i64 {r}"));
                m
            }
        }
    }

    fn fx_cmp(&mut self, c: Cond, chk: bool, a: &str, b: &str) -> String {
        let ai = self.int(a);
        let bi = self.int(b);
        let pred = match c {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Lt => "slt",
            Cond::Le => "sle",
            Cond::Gt => "sgt",
            Cond::Ge => "sge",
        };
        if !chk {
            let t = self.icmp(pred, &ai, &bi);
            return self.bool_of(&t);
        }
        let o = self.t();
        self.line(format!("{o} = or i64 {ai}, {bi}"));
        let t = self.tag_of(&o);
        let isfx = self.icmp("eq", &t, "0");
        let (lfx, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.line(format!(
            "br i1 {isfx}, label %{lfx}, label %{lslow}, {LIKELY}"
        ));
        self.start_block(&lfx);
        let cmp = self.icmp(pred, &ai, &bi);
        let r1 = self.bool_of(&cmp);
        self.line(format!("br label %{ljoin}"));
        self.start_block(&lslow);
        let r2 = self.t();
        self.line(format!(
            "{r2} = call {V} @valk_rt_compare(i64 {}, {V} {a}, {V} {b})",
            cond_code(c)
        ));
        self.check_exc(&r2);
        let slow_end = self.cur.clone();
        self.line(format!("br label %{ljoin}"));
        self.start_block(&ljoin);
        let r = self.t();
        self.line(format!(
            "{r} = phi {V} [ {r1}, %{lfx} ], [ {r2}, %{slow_end} ]"
        ));
        r
    }

    /// Branches to a slow path unless both operands are flonums; returns
    /// (slow label, join label). The caller continues the fast path.
    fn flonum_guard(&mut self, a: &str, b: &str) -> (String, String) {
        let ai = self.int(a);
        let t1 = self.heap_type_test(a, &ai, ObjType::Flonum);
        let (l2, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.line(format!("br i1 {t1}, label %{l2}, label %{lslow}, {LIKELY}"));
        self.start_block(&l2);
        let bi = self.int(b);
        let t2 = self.heap_type_test(b, &bi, ObjType::Flonum);
        let lfast = self.label();
        self.line(format!(
            "br i1 {t2}, label %{lfast}, label %{lslow}, {LIKELY}"
        ));
        self.start_block(&lfast);
        (lslow, ljoin)
    }

    fn fl(&mut self, op: FlOp, chk: bool, a: &str, b: &str) -> String {
        let guard = if chk {
            Some(self.flonum_guard(a, b))
        } else {
            None
        };
        let x = self.load_double(a);
        let y = self.load_double(b);
        let d = self.t();
        let o = match op {
            FlOp::Add => "fadd",
            FlOp::Sub => "fsub",
            FlOp::Mul => "fmul",
            FlOp::Div => "fdiv",
        };
        self.line(format!("{d} = {o} double {x}, {y}"));
        let r1 = self.box_flonum(&d);
        self.slow_path_join(guard, r1, "valk_rt_fl_arith", fl_code(op), a, b)
    }

    /// Ends an inline fast path whose result is `fast`. With a `guard`
    /// (slow label, join label), emits the slow block, which calls runtime
    /// `callee(code, a, b)` (other operand types, overflow), and joins both.
    fn slow_path_join(
        &mut self,
        guard: Option<(String, String)>,
        fast: String,
        callee: &str,
        code: usize,
        a: &str,
        b: &str,
    ) -> String {
        let Some((lslow, ljoin)) = guard else {
            return fast;
        };
        let fast_end = self.cur.clone();
        self.line(format!("br label %{ljoin}"));
        self.start_block(&lslow);
        let slow = self.t();
        self.line(format!(
            "{slow} = call {V} @{callee}(i64 {code}, {V} {a}, {V} {b})"
        ));
        self.check_exc(&slow);
        let slow_end = self.cur.clone();
        self.line(format!("br label %{ljoin}"));
        self.start_block(&ljoin);
        let r = self.t();
        self.line(format!(
            "{r} = phi {V} [ {fast}, %{fast_end} ], [ {slow}, %{slow_end} ]"
        ));
        r
    }

    fn fl_cmp(&mut self, c: Cond, chk: bool, a: &str, b: &str) -> String {
        let guard = if chk {
            Some(self.flonum_guard(a, b))
        } else {
            None
        };
        let x = self.load_double(a);
        let y = self.load_double(b);
        let pred = match c {
            Cond::Eq => "oeq",
            Cond::Ne => "une",
            Cond::Lt => "olt",
            Cond::Le => "ole",
            Cond::Gt => "ogt",
            Cond::Ge => "oge",
        };
        let t = self.t();
        self.line(format!("{t} = fcmp {pred} double {x}, {y}"));
        let r1 = self.bool_of(&t);
        self.slow_path_join(guard, r1, "valk_rt_fl_compare", cond_code(c), a, b)
    }
}
