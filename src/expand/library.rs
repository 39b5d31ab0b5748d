//! Libraries and top-level environments (docs/libraries.md).
//!
//! Every top-level form is expanded in one top-level environment:
//! * the *interaction* environment (the REPL, and programs without
//!   `import`): everything visible, definitions are globals of their own
//!   name (the behaviour from before libraries existed);
//! * a *library*'s: only what it imports and defines is visible; its
//!   definitions are globals renamed `(lib name)::name`, so they never
//!   clash with another library's or with the core's;
//! * a *program*'s (a file whose forms start with `import`): like a
//!   library's, its definitions renamed `(program)::name`;
//! * an *eval* environment made by `environment`: immutable.
//!
//! Macros remember the environment they were defined in, and a symbol a
//! macro inserts resolves there (`Expander::resolve`): that is what makes
//! a macro exported from library A work in B even when it refers to A's
//! private helpers.
//!
//! `(valk core)` is built in: it exports every builtin, every prelude
//! definition and macro and every special form. Its bindings are *weak*: a
//! library's or program's own definition of the same name takes precedence
//! (any other name both imported and defined is an error, as R7RS says).

use super::forms::proper;
use super::syntax_rules::Macro;
use super::{base_name, err, prepare, read_source, special_form, write_datum, Expander, Res};
use crate::ast::TopLevel;
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::reader;
use crate::syntax::source::{SourceMap, Span};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod declarations;
#[cfg(test)]
mod tests;

/// A top-level environment: an index into the expander's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnvId(pub u32);

impl EnvId {
    /// The interaction environment (`interaction-environment`).
    pub const INTERACTION: EnvId = EnvId(0);
}

/// The name of the built-in library of everything.
pub const CORE_LIBRARY: &str = "(valk core)";

/// How many libraries may be in the middle of loading one another.
const MAX_LIBRARY_NESTING: usize = 200;

/// What a name is bound to at top level.
/// What a top-level name denotes, for the REPL ([`Expander::describe_toplevel`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopKind {
    Macro,
    Special,
    /// The global cell of this name.
    Global(String),
}

#[derive(Clone)]
pub(crate) enum TopBinding {
    /// A global cell of this (possibly renamed) name.
    Global(String),
    Macro(Arc<Macro>),
    Special(&'static str),
}

impl TopBinding {
    fn same(&self, other: &TopBinding) -> bool {
        match (self, other) {
            (TopBinding::Global(a), TopBinding::Global(b)) => a == b,
            (TopBinding::Macro(a), TopBinding::Macro(b)) => Arc::ptr_eq(a, b),
            (TopBinding::Special(a), TopBinding::Special(b)) => a == b,
            _ => false,
        }
    }

    pub(crate) fn meaning(&self) -> super::Meaning {
        match self {
            TopBinding::Global(g) => super::Meaning::Global(g.clone()),
            TopBinding::Macro(m) => super::Meaning::Macro(m.clone()),
            TopBinding::Special(s) => super::Meaning::Special(s),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EnvKind {
    Interaction,
    Library,
    Program,
    Eval,
}

/// A name in an environment: its binding and, when imported, the library
/// it came from.
#[derive(Clone)]
struct Entry {
    binding: TopBinding,
    from: Option<String>,
}

/// An import of `(valk core)` under renaming steps (innermost first).
#[derive(Clone)]
struct OpenImport {
    steps: Vec<Step>,
}

#[derive(Clone)]
enum Step {
    Prefix(String),
    Except(HashSet<String>),
    /// old name → new name.
    Rename(Vec<(String, String)>),
}

impl OpenImport {
    /// The core name that `local` stands for under this import, if any.
    fn core_name(&self, local: &str) -> Option<String> {
        let mut name = local.to_string();
        for step in self.steps.iter().rev() {
            match step {
                Step::Prefix(p) => name = name.strip_prefix(p.as_str())?.to_string(),
                Step::Except(names) => {
                    if names.contains(&name) {
                        return None;
                    }
                }
                Step::Rename(pairs) => {
                    if let Some((old, _)) = pairs.iter().find(|(_, new)| *new == name) {
                        name = old.clone();
                    } else if pairs.iter().any(|(old, _)| *old == name) {
                        return None;
                    }
                }
            }
        }
        Some(name)
    }
}

pub(crate) struct TopEnv {
    pub(crate) kind: EnvKind,
    /// `(foo bar)` for a library; what renamed definitions are prefixed with.
    label: String,
    names: HashMap<String, Entry>,
    open: Vec<OpenImport>,
}

impl TopEnv {
    pub(crate) fn new(kind: EnvKind, label: &str) -> TopEnv {
        TopEnv {
            kind,
            label: label.to_string(),
            names: HashMap::new(),
            open: Vec::new(),
        }
    }

    /// The global cell a definition of `name` here creates.
    fn cell_name(&self, name: &str) -> String {
        match self.kind {
            EnvKind::Interaction => name.to_string(),
            _ => format!("{}::{name}", self.label),
        }
    }
}

/// A library: its exports (external name → binding).
pub(crate) struct Library {
    exports: HashMap<String, TopBinding>,
}

/// The bindings an import set denotes.
struct Imported {
    /// (local name, binding, library).
    names: Vec<(String, TopBinding, String)>,
    /// Set when the import is `(valk core)` under renaming steps.
    open: Option<OpenImport>,
}

/// Library state of an expander (docs/libraries.md).
#[derive(Default)]
pub(crate) struct Libraries {
    pub(crate) envs: Vec<TopEnv>,
    defined: HashMap<String, Arc<Library>>,
    loading: Vec<String>,
    /// `-I` directories, then `VALK_LIBRARY_PATH`'s.
    dirs: Vec<PathBuf>,
    /// For each library file read (by file id): the directory its name is
    /// relative to, which is where the libraries it imports are looked
    /// for first (`foo/bar.sld` imports `(foo baz)` from beside itself).
    roots: HashMap<u32, PathBuf>,
    /// Environments made by `environment`, by their import sets.
    environments: HashMap<String, EnvId>,
    /// The environment of the program, once its first `import` made one:
    /// what `interaction-environment` then stands for.
    program_env: Option<EnvId>,
    /// Library file names looked for and not found: a cache of the
    /// compiled program is stale once one of them appears.
    absent: std::cell::RefCell<Vec<PathBuf>>,
    /// Macros and globals the prelude defines: part of `(valk core)`.
    pub(crate) core_macros: HashMap<String, Arc<Macro>>,
    pub(crate) core_defined: HashSet<String>,
}

/// Directories given with `-I DIR` / `--lib-path DIR`, for every expander
/// the process makes (the program's, `eval`'s).
static COMMAND_LINE_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Sets the `-I` directories searched for libraries, after the importing
/// file's directory and before `VALK_LIBRARY_PATH`'s (docs/libraries.md).
pub fn set_library_dirs(dirs: Vec<PathBuf>) {
    if let Ok(mut d) = COMMAND_LINE_DIRS.lock() {
        *d = dirs;
    }
}

/// The directories searched for libraries after the importing file's:
/// the `-I` ones, then `VALK_LIBRARY_PATH`'s (caches key on them).
pub fn library_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = COMMAND_LINE_DIRS
        .lock()
        .map(|d| d.clone())
        .unwrap_or_default();
    if let Some(p) = std::env::var_os("VALK_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&p).filter(|d| !d.as_os_str().is_empty()));
    }
    dirs
}

impl Libraries {
    pub(crate) fn new() -> Libraries {
        Libraries {
            envs: vec![TopEnv::new(EnvKind::Interaction, "")],
            dirs: library_search_path(),
            ..Default::default()
        }
    }
}

/// `(foo bar)` as written in messages and used as the key of a library.
fn library_key(name: &Datum) -> Res<String> {
    let bad = || {
        err(
            name.span,
            format!(
                "expected a library name like (foo bar), got {}",
                write_datum(name)
            ),
        )
    };
    let items = name.list().ok_or_else(bad)?;
    if items.is_empty() {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for p in items {
        match &p.kind {
            DatumKind::Symbol(s) => parts.push(base_name(s).to_string()),
            DatumKind::Int(n) if *n >= 0 => parts.push(n.to_string()),
            _ => return Err(bad()),
        }
    }
    Ok(format!("({})", parts.join(" ")))
}

/// `foo/bar` for the library `(foo bar)`.
fn library_path(key: &str) -> String {
    key.trim_start_matches('(')
        .trim_end_matches(')')
        .split(' ')
        .collect::<Vec<_>>()
        .join("/")
}

const LIBRARY_EXTENSIONS: &[&str] = &["sld", "scm", "valk"];

/// Where a library's source comes from.
enum LibrarySource {
    /// The file, and the directory its library name is relative to.
    File(PathBuf, PathBuf),
    Installed(&'static str, &'static str),
}

impl Expander {
    /// Library file names this expander looked for without finding them
    /// (`valkc run` recompiles when one appears: docs/cache.md).
    pub fn absent_library_files(&self) -> Vec<PathBuf> {
        self.libs.absent.borrow().clone()
    }

    /// Makes this expander the REPL's: `import` adds to the interaction
    /// environment instead of starting a program environment.
    pub fn set_interactive(&mut self, interactive: bool) {
        self.interactive = interactive;
    }

    /// The environment made by importing `import_sets` (each an import set
    /// datum such as `(scheme base)` or `(only (srfi 1) fold)`) into an
    /// empty one, as `environment` does. Libraries expanded for the first
    /// time on the way append their definitions and bodies to `out`, which
    /// must run before anything expanded in the environment.
    pub fn environment(
        &mut self,
        import_sets: &[Datum],
        sources: &mut SourceMap,
        out: &mut Vec<TopLevel>,
    ) -> Res<EnvId> {
        // Environments are immutable: one per distinct list of import
        // sets, however often a program asks for it.
        let spec: Vec<String> = import_sets.iter().map(write_datum).collect();
        let spec = spec.join(" ");
        if let Some(&env) = self.libs.environments.get(&spec) {
            return Ok(env);
        }
        // `(import set ...)` expanded in the new environment, with the
        // stack and step limits of any top-level form.
        let span = import_sets.first().map(|d| d.span).unwrap_or_default();
        let mut items = vec![Datum::new(DatumKind::Symbol("import".into()), span)];
        items.extend(import_sets.iter().cloned());
        let form = Datum::new(DatumKind::List(items, None), span);
        let saved = self.current_env;
        let env = self.new_env(EnvKind::Eval, "(environment)");
        self.current_env = env;
        let r = self.expand_toplevel(&form, sources);
        self.current_env = saved;
        out.extend(r?);
        self.libs.environments.insert(spec, env);
        Ok(env)
    }

    /// Expands one top-level datum in environment `env` (as `eval` does).
    pub fn expand_toplevel_in(
        &mut self,
        env: EnvId,
        datum: &Datum,
        sources: &mut SourceMap,
    ) -> Res<Vec<TopLevel>> {
        // In a program with `import`, the interaction environment is the
        // program's own: what it imported and defined (docs/libraries.md).
        let env = match self.libs.program_env {
            Some(program) if env == EnvId::INTERACTION => program,
            _ => env,
        };
        let saved = (self.current_env, self.interactive);
        // `(eval '(import ...) (interaction-environment))` imports into the
        // interaction environment, as at the REPL.
        (self.current_env, self.interactive) = (env, true);
        let r = self.expand_toplevel(datum, sources);
        (self.current_env, self.interactive) = saved;
        r
    }

    pub(crate) fn new_env(&mut self, kind: EnvKind, label: &str) -> EnvId {
        self.libs.envs.push(TopEnv::new(kind, label));
        EnvId(self.libs.envs.len() as u32 - 1)
    }

    pub(crate) fn env(&self, id: EnvId) -> &TopEnv {
        &self.libs.envs[id.0 as usize]
    }

    fn env_mut(&mut self, id: EnvId) -> &mut TopEnv {
        &mut self.libs.envs[id.0 as usize]
    }

    /// What `name` means at top level in environment `id` (no lexical
    /// binding applies).
    pub(crate) fn resolve_top(&self, id: EnvId, name: &str) -> super::Meaning {
        let env = self.env(id);
        if env.kind == EnvKind::Interaction && !env.names.contains_key(name) {
            return self.resolve_interaction(name);
        }
        match self.bound_top(id, name) {
            Some(b) => b.meaning(),
            // Library syntax, and what the reader's abbreviations ('x `x
            // ,x ,@x) stand for, are recognised everywhere, imported or not.
            None if matches!(
                name,
                "import"
                    | "define-library"
                    | "quote"
                    | "quasiquote"
                    | "unquote"
                    | "unquote-splicing"
            ) =>
            {
                super::Meaning::Special(special_form(name).unwrap_or("import"))
            }
            None => super::Meaning::Global(env.cell_name(name)),
        }
    }

    /// What a name typed at the REPL denotes (`,describe`): a macro, a
    /// special form, or the global cell it names.
    pub fn describe_toplevel(&self, name: &str) -> TopKind {
        match self.resolve_top(self.current_env, name) {
            super::Meaning::Macro(_) => TopKind::Macro,
            super::Meaning::Special(_) => TopKind::Special,
            super::Meaning::Global(cell) => TopKind::Global(cell),
            super::Meaning::Local(_) => TopKind::Global(name.to_string()),
        }
    }

    /// The macro names the REPL's environment sees (`,apropos`).
    pub fn toplevel_macro_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.macros.keys().cloned().collect();
        v.extend(self.libs.core_macros.keys().cloned());
        v.extend(
            self.env(self.current_env)
                .names
                .iter()
                .filter(|(_, e)| matches!(e.binding, TopBinding::Macro(_)))
                .map(|(n, _)| n.clone()),
        );
        v.retain(|n| matches!(self.describe_toplevel(n), TopKind::Macro));
        v
    }

    /// What `name` is bound to in a library, program or eval environment
    /// (imported or defined), if anything.
    fn bound_top(&self, id: EnvId, name: &str) -> Option<TopBinding> {
        let env = self.env(id);
        if let Some(e) = env.names.get(name) {
            return Some(e.binding.clone());
        }
        env.open
            .iter()
            .find_map(|open| open.core_name(name).and_then(|n| self.core_lookup(&n)))
    }

    /// The interaction environment's meaning of a name it has not imported.
    fn resolve_interaction(&self, name: &str) -> super::Meaning {
        if let Some(m) = self.macros.get(name) {
            return super::Meaning::Macro(m.clone());
        }
        if let Some(kw) = special_form(name) {
            if !self.shadowed.contains(name) {
                return super::Meaning::Special(kw);
            }
        }
        super::Meaning::Global(name.to_string())
    }

    /// `(valk core)`'s binding of `name`, if it has one.
    fn core_lookup(&self, name: &str) -> Option<TopBinding> {
        if let Some(m) = self.libs.core_macros.get(name) {
            return Some(TopBinding::Macro(m.clone()));
        }
        if let Some(kw) = special_form(name) {
            return Some(TopBinding::Special(kw));
        }
        match name {
            "..." => return Some(TopBinding::Special("...")),
            "_" => return Some(TopBinding::Special("_")),
            _ => {}
        }
        if self.libs.core_defined.contains(name) || valk_runtime::builtins::lookup(name).is_some() {
            return Some(TopBinding::Global(name.to_string()));
        }
        None
    }

    /// A top-level definition of `name` in the current environment: the
    /// global cell it defines.
    pub(crate) fn define_global_name(&mut self, name: &str, span: Span) -> Res<String> {
        let id = self.current_env;
        if self.in_prelude {
            self.libs.core_defined.insert(name.to_string());
        }
        match self.env(id).kind {
            EnvKind::Interaction => {
                self.macros.remove(name);
                if special_form(name).is_some() {
                    self.shadowed.insert(name.to_string());
                }
                self.env_mut(id).names.remove(name);
                Ok(name.to_string())
            }
            EnvKind::Eval => Err(err(
                span,
                format!("define: cannot define {name} in an environment made by `environment` (it is immutable)"),
            )),
            EnvKind::Library | EnvKind::Program => {
                self.check_not_imported(id, name, span)?;
                let cell = self.env(id).cell_name(name);
                self.env_mut(id).names.insert(
                    name.to_string(),
                    Entry {
                        binding: TopBinding::Global(cell.clone()),
                        from: None,
                    },
                );
                Ok(cell)
            }
        }
    }

    /// A top-level `define-syntax` of `name` in the current environment.
    pub(crate) fn define_top_macro(&mut self, name: &str, m: Arc<Macro>, span: Span) -> Res<()> {
        let id = self.current_env;
        if self.in_prelude {
            self.libs.core_macros.insert(name.to_string(), m.clone());
        }
        match self.env(id).kind {
            EnvKind::Interaction => {
                self.shadowed.remove(name);
                self.env_mut(id).names.remove(name);
                self.macros.insert(name.to_string(), m);
                Ok(())
            }
            EnvKind::Eval => Err(err(
                span,
                format!("define-syntax: cannot define {name} in an environment made by `environment` (it is immutable)"),
            )),
            EnvKind::Library | EnvKind::Program => {
                self.check_not_imported(id, name, span)?;
                self.env_mut(id).names.insert(
                    name.to_string(),
                    Entry {
                        binding: TopBinding::Macro(m),
                        from: None,
                    },
                );
                Ok(())
            }
        }
    }

    fn check_not_imported(&self, id: EnvId, name: &str, span: Span) -> Res<()> {
        if let Some(Entry {
            from: Some(lib), ..
        }) = self.env(id).names.get(name)
        {
            return Err(err(
                span,
                format!("{name} is imported from {lib} and cannot be defined here as well"),
            ));
        }
        Ok(())
    }

    // ----- import -----------------------------------------------------

    /// `(import set ...)` at top level.
    pub(crate) fn import_form(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        let items = proper(d, "import: expected (import (library name) ...)")?;
        let cur = self.current_env;
        let target = match self.env(cur).kind {
            EnvKind::Interaction if !self.interactive && !self.in_prelude => {
                // The first `import` of a program file: from here on the
                // program sees only what it imports.
                let id = self.new_env(EnvKind::Program, "(program)");
                self.current_env = id;
                self.libs.program_env = Some(id);
                id
            }
            _ => cur,
        };
        for set in &items[1..] {
            self.import_into(target, set, out)?;
        }
        Ok(())
    }

    /// Imports one import set into environment `target`.
    fn import_into(&mut self, target: EnvId, set: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        let imported = self.import_set(set, out)?;
        let interaction = self.env(target).kind == EnvKind::Interaction;
        for (local, binding, lib) in imported.names {
            if let Some(old) = self.env(target).names.get(&local) {
                if !interaction && !old.binding.same(&binding) {
                    let what = match &old.from {
                        Some(l) => format!("imported from {l}"),
                        None => "defined here".to_string(),
                    };
                    return Err(err(
                        set.span,
                        format!("import: {local} from {lib} conflicts with the {local} {what}"),
                    ));
                }
            }
            self.env_mut(target).names.insert(
                local,
                Entry {
                    binding,
                    from: Some(lib),
                },
            );
        }
        if let Some(open) = imported.open {
            if !interaction {
                self.env_mut(target).open.push(open);
            }
        }
        Ok(())
    }

    /// The bindings an import set denotes.
    fn import_set(&mut self, set: &Datum, out: &mut Vec<TopLevel>) -> Res<Imported> {
        let bad = || {
            err(
                set.span,
                format!(
                    "import: expected an import set like (scheme base), got {}",
                    write_datum(set)
                ),
            )
        };
        let items = set.list().ok_or_else(bad)?;
        let head = items.first().and_then(|h| h.sym()).map(base_name);
        let modifier = match head {
            Some(h @ ("only" | "except" | "prefix" | "rename"))
                if items.len() >= 2 && items[1].list().is_some_and(|l| !l.is_empty()) =>
            {
                Some(h)
            }
            _ => None,
        };
        let Some(modifier) = modifier else {
            return self.import_library(set, out);
        };
        let mut inner = self.import_set(&items[1], out)?;
        let args = &items[2..];
        let ident = |d: &Datum| -> Res<String> {
            d.sym().map(|s| base_name(s).to_string()).ok_or_else(|| {
                err(
                    d.span,
                    format!(
                        "import: {modifier}: expected an identifier, got {}",
                        write_datum(d)
                    ),
                )
            })
        };
        match modifier {
            "only" => {
                let mut names = Vec::new();
                for a in args {
                    let n = ident(a)?;
                    if let Some(x) = inner.names.iter().find(|(l, _, _)| *l == n) {
                        names.push(x.clone());
                    } else if let Some(b) = self.open_lookup(&inner, &n) {
                        names.push((n, b, CORE_LIBRARY.to_string()));
                    } else {
                        return Err(err(
                            a.span,
                            format!("import: {} does not export {n}", write_datum(&items[1])),
                        ));
                    }
                }
                Ok(Imported { names, open: None })
            }
            "except" => {
                let mut excluded = HashSet::new();
                for a in args {
                    let n = ident(a)?;
                    let known = inner.names.iter().any(|(l, _, _)| *l == n)
                        || self.open_lookup(&inner, &n).is_some();
                    if !known {
                        return Err(err(
                            a.span,
                            format!("import: {} does not export {n}", write_datum(&items[1])),
                        ));
                    }
                    excluded.insert(n);
                }
                inner.names.retain(|(l, _, _)| !excluded.contains(l));
                if let Some(open) = &mut inner.open {
                    open.steps.push(Step::Except(excluded));
                }
                Ok(inner)
            }
            "prefix" => {
                let [p] = args else {
                    return Err(err(set.span, "import: expected (prefix import-set prefix)"));
                };
                let p = ident(p)?;
                for (l, _, _) in &mut inner.names {
                    *l = format!("{p}{l}");
                }
                if let Some(open) = &mut inner.open {
                    open.steps.push(Step::Prefix(p));
                }
                Ok(inner)
            }
            _ => {
                let mut pairs = Vec::new();
                for a in args {
                    match a.list() {
                        Some([old, new]) => pairs.push((ident(old)?, ident(new)?)),
                        _ => {
                            return Err(err(a.span, "import: rename: expected (old-name new-name)"))
                        }
                    }
                }
                for (old, new) in &pairs {
                    if let Some(x) = inner.names.iter_mut().find(|(l, _, _)| l == old) {
                        x.0 = new.clone();
                    } else if inner.open.is_none() || self.open_lookup(&inner, old).is_none() {
                        return Err(err(
                            set.span,
                            format!("import: {} does not export {old}", write_datum(&items[1])),
                        ));
                    }
                }
                if let Some(open) = &mut inner.open {
                    open.steps.push(Step::Rename(pairs));
                }
                Ok(inner)
            }
        }
    }

    fn open_lookup(&self, imported: &Imported, local: &str) -> Option<TopBinding> {
        let open = imported.open.as_ref()?;
        self.core_lookup(&open.core_name(local)?)
    }

    /// The exports of the library named by `name`, loading it if needed.
    fn import_library(&mut self, name: &Datum, out: &mut Vec<TopLevel>) -> Res<Imported> {
        let key = library_key(name)?;
        if key == CORE_LIBRARY {
            return Ok(Imported {
                names: Vec::new(),
                open: Some(OpenImport { steps: Vec::new() }),
            });
        }
        let lib = self.library(&key, name.span, out)?;
        let mut names: Vec<(String, TopBinding, String)> = lib
            .exports
            .iter()
            .map(|(n, b)| (n.clone(), b.clone(), key.clone()))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Imported { names, open: None })
    }

    /// The library `key`, expanding it (once per program) if needed.
    fn library(&mut self, key: &str, span: Span, out: &mut Vec<TopLevel>) -> Res<Arc<Library>> {
        if let Some(lib) = self.libs.defined.get(key) {
            return Ok(lib.clone());
        }
        if let Some(i) = self.libs.loading.iter().position(|k| k == key) {
            let mut chain: Vec<&str> = self.libs.loading[i..].iter().map(|s| s.as_str()).collect();
            chain.push(key);
            return Err(err(
                span,
                format!("import: library cycle: {}", chain.join(" imports ")),
            ));
        }
        if self.libs.loading.len() >= MAX_LIBRARY_NESTING {
            return Err(err(span, "import: libraries nested too deeply"));
        }
        let source = self.find_library(key, span).ok_or_else(|| {
            err(
                span,
                format!(
                    "import: unknown library {key} (looked for {}.sld, .scm or .valk in {})",
                    library_path(key),
                    self.search_description(span)
                ),
            )
        })?;
        let (name, text) = match &source {
            LibrarySource::File(path, _) => {
                let text = read_source(path).map_err(|reason| {
                    err(
                        span,
                        format!("import: cannot read {}: {reason}", path.display()),
                    )
                })?;
                self.note_loaded(path);
                (path.to_string_lossy().to_string(), text)
            }
            LibrarySource::Installed(rel, text) => (format!("<lib>/{rel}"), text.to_string()),
        };
        let datums = reader::read_str(&mut self.src, &name, &text)?;
        if let LibrarySource::File(_, root) = source {
            let file = self.src.files().len() as u32 - 1;
            self.libs.roots.insert(file, root);
        }
        self.libs.loading.push(key.to_string());
        let saved = (self.current_env, self.depth);
        let mut r = Ok(());
        for d in &datums {
            r = prepare(d).and_then(|d| {
                let is_library = matches!(d.list(), Some([h, ..]) if h.sym().map(base_name) == Some("define-library"));
                if !is_library {
                    return Err(err(
                        d.span,
                        format!("{name}: a library file holds define-library forms only"),
                    ));
                }
                self.define_library(&d, out)
            });
            if r.is_err() {
                break;
            }
        }
        (self.current_env, self.depth) = saved;
        self.libs.loading.pop();
        r?;
        self.libs.defined.get(key).cloned().ok_or_else(|| {
            err(
                span,
                format!("import: {name} does not define the library {key}"),
            )
        })
    }

    /// Directories searched for a library imported by the form at `span`,
    /// in order.
    fn search_dirs(&self, span: Span) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(root) = self.libs.roots.get(&span.file.0) {
            dirs.push(root.clone());
        }
        let importer = self.file_of(span);
        if !dirs.is_empty() {
            // A library file: its root, found above.
        } else if !importer.starts_with('<') {
            let dir = Path::new(&importer).parent().unwrap_or(Path::new(""));
            dirs.push(if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir.to_path_buf()
            });
        } else if importer.starts_with("<lib>") {
            // An installed library imports installed ones.
        } else {
            dirs.push(PathBuf::from("."));
        }
        dirs.extend(self.libs.dirs.iter().cloned());
        dirs
    }

    fn search_description(&self, span: Span) -> String {
        let mut parts: Vec<String> = self
            .search_dirs(span)
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        parts.push("the installed libraries".to_string());
        parts.join(", ")
    }

    fn find_library(&self, key: &str, span: Span) -> Option<LibrarySource> {
        let rel = library_path(key);
        for dir in self.search_dirs(span) {
            for ext in LIBRARY_EXTENSIONS {
                let p = dir.join(format!("{rel}.{ext}"));
                if p.is_file() {
                    return Some(LibrarySource::File(p, dir.clone()));
                }
                let mut absent = self.libs.absent.borrow_mut();
                if !absent.contains(&p) {
                    absent.push(p);
                }
            }
        }
        for ext in LIBRARY_EXTENSIONS {
            let installed = format!("{rel}.{ext}");
            if let Some((p, t)) = crate::stdlib::files().iter().find(|(p, _)| *p == installed) {
                return Some(LibrarySource::Installed(p, t));
            }
        }
        None
    }

    /// Whether `(library name)` in `cond-expand` holds.
    fn library_available(&self, name: &Datum) -> bool {
        match library_key(name) {
            Ok(key) => {
                key == CORE_LIBRARY
                    || self.libs.defined.contains_key(&key)
                    || self.find_library(&key, name.span).is_some()
            }
            Err(_) => false,
        }
    }
}
