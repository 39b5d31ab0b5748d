//! The JIT engine: core AST → VIR → LLVM object → ORC JIT, in-process.
//!
//! Each batch of top-level forms (one REPL input, or all forms of a loaded
//! file) becomes one module with its own constant, cell and builtin
//! tables and an exported descriptor (`valk_runtime::aot::ProgramDesc`);
//! the engine looks the descriptor up (which links the object and
//! registers its stack maps), fills the tables and runs the forms in
//! order. Globals live in the runtime's value cells, so a redefinition is
//! seen by every module compiled before it. A whole program (`valk FILE`)
//! is compiled as one module with the prelude, like an AOT executable.

use crate::ast::TopLevel;
use crate::lower::{self, LowerOptions, Lowered};
use crate::pipeline::{self, Target};
use crate::store;
use crate::syntax::diag::Diagnostic;
use crate::syntax::source::SourceMap;
use std::collections::HashSet;
use valk_llvm::jit::Jit;
use valk_runtime::aot::{self as rt_aot, ProgramDesc};
use valk_runtime::{globals, Value};
use valk_vir::FuncId;

/// Default optimisation level of JIT-compiled code (`VALK_JIT_OPT`
/// overrides it: 0–3).
pub const DEFAULT_OPT: u32 = 2;

/// Why a batch did not run to the end.
#[derive(Debug)]
pub enum JitFailure {
    /// A compile-time diagnostic (rendered by the caller).
    Diag(Diagnostic),
    /// A failure already rendered (internal errors of the backend).
    Message(String),
    /// A runtime error: the exception is pending.
    Raised,
}

/// A module compiled and loaded into the JIT, ready to run.
pub struct LoadedModule {
    desc: *const ProgramDesc,
    /// Globals the module's forms may define or assign.
    written: HashSet<String>,
}

impl LoadedModule {
    /// Number of top-level forms.
    pub fn len(&self) -> usize {
        // SAFETY: `desc` is the loaded module's descriptor in JIT memory,
        // which is never freed (docs/jit.md).
        unsafe { (*self.desc).ntoplevels as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs form `i`: its value, or `None` with the exception pending.
    pub fn run(&self, i: usize) -> Option<Value> {
        // SAFETY: as in `len`; the module was loaded by `link`.
        let r = unsafe { rt_aot::run_toplevel(&*self.desc, i as u64) };
        (r != Value::EXCEPTION).then_some(r)
    }
}

pub struct JitEngine {
    jit: Jit,
    level: u32,
    /// Globals bound by code this engine compiled (the prelude, earlier
    /// inputs): never assumed to hold a builtin or a fixed procedure.
    defined: HashSet<String>,
}

fn opt_level_from_env() -> u32 {
    valk_runtime::host::env_setting("VALK_JIT_OPT", "a level from 0 to 3", |s| {
        s.parse::<u32>().ok().filter(|&n| n <= 3)
    })
    .unwrap_or(DEFAULT_OPT)
}

/// Do JIT modules get DWARF line tables (docs/debugging.md, "gdb and perf
/// on JIT code")? `VALK_DEBUG=1` turns them on, as does `VALK_PERF=1`
/// unless `VALK_DEBUG=0`; `valk -g` sets [`pipeline::set_debug_info`]
/// itself. They are off by default because they cost compile time.
fn debug_from_env() -> bool {
    valk_runtime::host::env_switch("VALK_DEBUG")
        .unwrap_or_else(|| valk_runtime::host::env_flag("VALK_PERF"))
}

impl JitEngine {
    /// Creates the JIT. Call on the thread that will run Valk code, after
    /// `gc::init` and `builtins::install`.
    pub fn new() -> Result<JitEngine, String> {
        let level = opt_level_from_env();
        if debug_from_env() {
            pipeline::set_debug_info(true);
        }
        let jit = Jit::new(level).map_err(|e| e.0)?;
        valk_runtime::rt::set_apply_info();
        let mut engine = JitEngine {
            jit,
            level,
            defined: HashSet::new(),
        };
        // Tail calls between compiled and interpreted code (tiers, `eval`)
        // stay proper (docs/tiering.md).
        if let Some(e) = engine.compiled_entry() {
            valk_runtime::call::set_compiled_entry(e);
        }
        crate::interp::register_entry();
        Ok(engine)
    }

    /// The optimisation level (0–3) of the code this engine compiles.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Lowers `tops` for this session: globals go through their cells.
    pub fn lower(&self, tops: &[TopLevel], sources: &SourceMap) -> Result<Lowered, Diagnostic> {
        let opts = LowerOptions {
            fixed_globals: false,
            predefined: self.defined.clone(),
            ..LowerOptions::default()
        };
        pipeline::lower(tops, sources, &opts, pipeline::opt_level(self.level))
    }

    /// The LLVM IR of a lowered batch as this engine emits it
    /// (`optimized`: after the JIT's pipeline, statepoints included).
    pub fn llvm_ir(
        &mut self,
        lowered: &Lowered,
        sources: &SourceMap,
        optimized: bool,
    ) -> Result<String, JitFailure> {
        let name = "valk_module_preview";
        let ir = emit(lowered, &lowered.toplevels, sources, name)?;
        if !optimized {
            return Ok(ir);
        }
        self.jit
            .optimized_ir(&ir)
            .map_err(|e| JitFailure::Message(e.0))
    }

    /// Compiles and loads a whole program (`valk FILE`): the prelude and
    /// the program's forms, expanded into `sources`, lowered with fixed
    /// globals as for an AOT executable; forms that only define unused
    /// globals are dropped. Cached by the text of every source file.
    pub fn load_program(
        &mut self,
        tops: &[TopLevel],
        sources: &SourceMap,
    ) -> Result<LoadedModule, JitFailure> {
        let parts = program_parts(sources);
        self.load_with(Some(&parts), HashSet::new(), |jit, name| {
            let lowered = pipeline::lower_whole_program(tops, sources, jit.level)
                .map_err(JitFailure::Diag)?;
            emit(
                &lowered,
                &pipeline::pruned_toplevels(&lowered),
                sources,
                name,
            )
        })
    }

    /// Compiles and loads `tops` (one module). With `cache_key`, the
    /// object is looked up in (and stored into) the compile cache under a
    /// key made of it, the compiler identity, the level and the module
    /// name; the caller vouches that the key determines the lowering
    /// (e.g. the prelude's text, compiled first in every session).
    pub fn load(
        &mut self,
        tops: &[TopLevel],
        sources: &SourceMap,
        cache_key: Option<&[&[u8]]>,
    ) -> Result<LoadedModule, JitFailure> {
        let written = lower::globals_written(tops);
        self.load_with(cache_key, written, |jit, name| {
            let lowered = jit.lower(tops, sources).map_err(JitFailure::Diag)?;
            emit(&lowered, &lowered.toplevels, sources, name)
        })
    }

    /// The cache key under which [`JitEngine::load_program`] would look
    /// up the whole program in `sources`, and whether its object is there.
    pub fn program_cache_state(&self, sources: &SourceMap) -> (String, bool) {
        let name = self.jit.next_descriptor_name();
        let key = self.object_key(&program_parts(sources), &name);
        let cached = read_cached_object(&key).is_some();
        (key, cached)
    }

    /// Is the object of the next module, cached under `parts` (as
    /// [`JitEngine::load`] would look it up), in the compile cache?
    pub fn is_cached(&self, parts: &[&[u8]]) -> bool {
        let name = self.jit.next_descriptor_name();
        read_cached_object(&self.object_key(parts, &name)).is_some()
    }

    /// Compiles (or takes from the cache) and loads one module whose IR
    /// `make_ir` writes with the given descriptor name. A cached object the
    /// JIT cannot link is removed and the module compiled afresh (under a
    /// new name: the failed one may be half-defined in the JIT).
    pub fn load_with(
        &mut self,
        cache_key: Option<&[&[u8]]>,
        written: HashSet<String>,
        make_ir: impl FnOnce(&mut JitEngine, &str) -> Result<String, JitFailure>,
    ) -> Result<LoadedModule, JitFailure> {
        let mut name = self.jit.fresh_descriptor_name();
        if let Some(parts) = cache_key {
            let key = self.object_key(parts, &name);
            if let Some(obj) = read_cached_object(&key) {
                match self.link(&obj, &name) {
                    Ok(desc) => {
                        log_cache("hit");
                        return Ok(LoadedModule { desc, written });
                    }
                    Err(_) => {
                        remove_cached_object(&key);
                        log_cache("object unusable, recompiling");
                        name = self.jit.fresh_descriptor_name();
                    }
                }
            }
        }
        let ir = make_ir(self, &name)?;
        let obj = self
            .jit
            .compile(&ir)
            .map_err(|e| JitFailure::Message(e.0))?;
        if let Some(parts) = cache_key {
            store_cached_object(&self.object_key(parts, &name), &obj);
            log_cache("compiled");
        }
        let desc = self.link(&obj, &name)?;
        Ok(LoadedModule { desc, written })
    }

    /// The cache key of an object: `parts`, the executable, the level,
    /// the descriptor name (which is baked into the object) and whether
    /// it carries DWARF.
    fn object_key(&self, parts: &[&[u8]], name: &str) -> String {
        let identity = store::executable_identity();
        let level = self.level.to_string();
        let debug: &[u8] = if pipeline::debug_info() { b"-g" } else { b"" };
        let mut all: Vec<&[u8]> = vec![
            b"valk-jit-object-1",
            identity.as_bytes(),
            level.as_bytes(),
            debug,
            name.as_bytes(),
        ];
        all.extend_from_slice(parts);
        store::sha256_hex(&all)
    }

    /// Adds `obj` to the JIT, links it by looking up its descriptor `name`
    /// and fills the module's tables.
    fn link(&mut self, obj: &[u8], name: &str) -> Result<*const ProgramDesc, JitFailure> {
        self.jit
            .add_object(obj)
            .map_err(|e| JitFailure::Message(e.0))?;
        let addr = self
            .jit
            .lookup(name)
            .map_err(|e| JitFailure::Message(e.0))?;
        let desc = addr as *const ProgramDesc;
        if desc.is_null() {
            return Err(JitFailure::Message(format!(
                "error: internal error: JIT: no descriptor {name}"
            )));
        }
        // SAFETY: `desc` is the non-null address of the descriptor the
        // backend emitted in this object, linked and relocated by the lookup.
        unsafe { rt_aot::load_module(&*desc) }
            .map_err(|e| JitFailure::Message(format!("error: internal error: {e}")))?;
        Ok(desc)
    }

    /// Links an object compiled elsewhere (by [`compile_detached`], on a
    /// compiler thread) whose descriptor is `name`, and fills its tables.
    pub fn load_object(&mut self, obj: &[u8], name: &str) -> Result<LoadedModule, JitFailure> {
        let desc = self.link(obj, name)?;
        Ok(LoadedModule {
            desc,
            written: HashSet::new(),
        })
    }

    /// The address of `@valk_compiled_entry`, word 0 of every closure
    /// this JIT compiled (REPL `,describe` and `,disasm`).
    pub fn compiled_entry(&mut self) -> Option<usize> {
        self.jit.lookup("valk_compiled_entry").ok()
    }

    /// Records the globals a module bound once its forms ran (all, or up
    /// to an error): later inputs must not assume they still hold a
    /// builtin.
    pub fn note_bindings(&mut self, m: &LoadedModule) {
        for name in &m.written {
            if let Some(id) = globals::lookup(name) {
                if globals::get(id) != Value::UNDEFINED {
                    self.defined.insert(name.clone());
                }
            }
        }
    }
}

/// What the cache key of a whole program is made of: the text and name
/// of every source file (the prelude, the program, what it loads).
fn program_parts(sources: &SourceMap) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = vec![b"whole-program"];
    for f in sources.files() {
        parts.push(f.name.as_bytes());
        parts.push(f.text.as_bytes());
    }
    parts
}

/// Subdirectory of the cache holding JIT objects.
const CACHE_SUBDIR: &str = "jit";
/// At most this many objects are kept; the oldest go first.
const CACHE_MAX_OBJECTS: usize = 256;

fn log_cache(what: &str) {
    if store::log_enabled() {
        valk_runtime::eprintln_quiet!("valk: JIT cache {what}");
    }
}

fn remove_cached_object(key: &str) {
    if let Some(dir) = store::cache_dir() {
        let _ = std::fs::remove_file(dir.join(CACHE_SUBDIR).join(format!("{key}.o")));
    }
}

fn read_cached_object(key: &str) -> Option<Vec<u8>> {
    let dir = store::cache_dir()?.join(CACHE_SUBDIR);
    let bytes = std::fs::read(dir.join(format!("{key}.o"))).ok()?;
    // Entries are written atomically; anything else is not ours.
    bytes.starts_with(b"\x7fELF").then_some(bytes)
}

/// Stores an object (best effort: a read-only or missing cache directory
/// only means compiling again next time).
fn store_cached_object(key: &str, obj: &[u8]) {
    let Ok(dir) = store::cache_subdir(CACHE_SUBDIR) else {
        return;
    };
    if store::write_atomic(&dir.join(format!("{key}.o")), obj).is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut objects: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "o"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if objects.len() > CACHE_MAX_OBJECTS {
        objects.sort();
        for (_, p) in &objects[..objects.len() - CACHE_MAX_OBJECTS] {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Compiles `tops` into a JIT object with descriptor `descriptor`, as
/// [`JitEngine::load`] would at `level`, but without the JIT: lowering,
/// VIR passes, emission and LLVM run on the calling thread and touch no
/// runtime state (no heap, no global cell), so a compiler thread may call
/// it (docs/tiering.md). `predefined`: the globals that may not hold their
/// builtin (`LowerOptions::predefined`); `guarded`: the forms whose
/// lambda a global will hold (`LowerOptions::guarded`).
pub fn compile_detached(
    backend: &valk_llvm::pipeline::Backend,
    level: u32,
    tops: &[TopLevel],
    sources: &SourceMap,
    predefined: HashSet<String>,
    guarded: std::collections::HashMap<usize, String>,
    descriptor: &str,
) -> Result<Vec<u8>, String> {
    let opts = LowerOptions {
        fixed_globals: false,
        predefined,
        guarded,
    };
    let lowered = pipeline::lower(tops, sources, &opts, pipeline::opt_level(level))
        .map_err(|d| d.render(sources))?;
    let ir = match emit(&lowered, &lowered.toplevels, sources, descriptor) {
        Ok(ir) => ir,
        Err(JitFailure::Message(m)) => return Err(m),
        Err(_) => return Err("error: internal error: emission failed".into()),
    };
    // `VALK_TIER_DUMP=DIR`: the module's assembly, for comparing tiered
    // code with AOT code (docs/tiering.md).
    if let Some(dir) = std::env::var_os("VALK_TIER_DUMP") {
        if let Ok(asm) = backend.compile(&ir, level, valk_llvm::pipeline::Output::Asm) {
            let path = std::path::Path::new(&dir).join(format!("{descriptor}.s"));
            let _ = std::fs::write(path, asm);
        }
    }
    backend
        .compile(&ir, level, valk_llvm::pipeline::Output::Object)
        .map_err(|e| e.0)
}

fn emit(
    lowered: &Lowered,
    toplevels: &[FuncId],
    sources: &SourceMap,
    descriptor: &str,
) -> Result<String, JitFailure> {
    pipeline::emit_llvm(
        lowered,
        toplevels,
        sources,
        Target::JitModule { descriptor },
    )
    .map_err(|e| JitFailure::Message(format!("error: internal error: {e}")))
}
