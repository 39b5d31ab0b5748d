//! The expander: datums (reader output) to the core AST ([`crate::ast`]).
//!
//! Variables are resolved lexically while expanding: every binding gets a
//! fresh [`LocalId`] of the [`TopLevel`] being built, anything not bound
//! lexically is a global. Special-form names are keywords only where they
//! are not lexically bound (and not redefined as globals at top level).
//!
//! `syntax-rules` macros are expanded with a light form of hygiene:
//! symbols a template inserts are renamed to aliases (`name` + NUL + an
//! expansion number) that can only be captured by bindings made by the same
//! expansion; an alias that is not bound that way means what its base name
//! means where the macro was defined. See `docs/core-ast.md`.

mod body;
mod control;
mod ffi;
mod forms;
mod library;
pub use library::TopKind;
mod print;
mod quasi;
mod records;
mod syntax_rules;
#[cfg(test)]
mod tests;

use crate::ast::{Expr, ExprKind, LocalId, LocalInfo, TopLevel};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::diag::Diagnostic;
use crate::syntax::reader;
use crate::syntax::source::{read_source_file, SourceMap, SourceReadError, Span};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use library::{library_search_path, set_library_dirs, EnvId, CORE_LIBRARY};
pub use print::{print_expr, print_toplevel, write_datum};
use syntax_rules::Macro;

/// Deepest nesting of datums and expressions the expander accepts (the
/// reader stops at 1,000; macros can build deeper forms). Expansion
/// recurses on the datum tree; see [`Expander::expand_toplevel`] for how
/// the stack is kept safe.
pub const MAX_DEPTH: usize = 2_500;

/// Inputs up to this depth are expanded on the caller's thread.
const INLINE_DEPTH: usize = 200;

/// Stack the expander may use on the caller's thread, which may be an
/// ordinary 2 MiB thread.
const INLINE_STACK_BUDGET: usize = 768 << 10;

/// Stack of the helper thread used for deeper inputs (reserved lazily by
/// the OS), and how much of it expansion may use.
const BIG_STACK: usize = 256 << 20;
const BIG_STACK_BUDGET: usize = 224 << 20;

/// Macro expansion steps allowed for one top-level form: stops macros that
/// expand forever.
const MAX_MACRO_STEPS: usize = 100_000;

/// Datum nodes macro expansion may produce for one top-level form: stops
/// macros whose output grows without bound (in breadth).
const MAX_MACRO_WORK: usize = 2_000_000;

/// Nested `load`s allowed (a chain of distinct files).
const MAX_LOAD_NESTING: usize = 200;

pub(crate) type Res<T> = Result<T, Diagnostic>;

pub(crate) fn err(span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::at(span, msg)
}

/// What a name denotes in one lexical frame.
#[derive(Clone)]
enum Binding {
    Local(LocalId),
    Macro(Arc<Macro>),
}

/// What an identifier means at some point of the program.
pub(crate) enum Meaning {
    Local(LocalId),
    Macro(Arc<Macro>),
    Special(&'static str),
    Global(String),
}

/// One scope. Names are unique within a frame (binding forms reject
/// duplicates), so a map is enough.
#[derive(Default)]
struct Frame {
    names: HashMap<String, Binding>,
}

impl Frame {
    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.names.get(name)
    }
}

/// Names the expander treats as syntax when they are not bound.
pub const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "quasiquote",
    "unquote",
    "unquote-splicing",
    "lambda",
    "define",
    "fun",
    "if",
    "set!",
    "begin",
    "let",
    "let*",
    "letrec",
    "letrec*",
    "do",
    "cond",
    "case",
    "and",
    "or",
    "when",
    "unless",
    "define-record-type",
    "let-values",
    "let*-values",
    "define-values",
    "receive",
    "case-lambda",
    "delay",
    "delay-force",
    "parameterize",
    "guard",
    "reset",
    "shift",
    "c-function",
    "define-c-function",
    "import",
    "define-syntax",
    "let-syntax",
    "letrec-syntax",
    "syntax-rules",
    "load",
    "define-library",
    "include",
    "include-ci",
    "cond-expand",
    "syntax-error",
    "else",
    "=>",
];

fn special_form(name: &str) -> Option<&'static str> {
    SPECIAL_FORMS.iter().copied().find(|s| *s == name)
}

/// Separates macro-inserted aliases from their base name.
const ALIAS_MARK: char = '\u{0}';

/// The name as the user wrote it (aliases stripped).
pub(crate) fn base_name(name: &str) -> &str {
    match name.find(ALIAS_MARK) {
        // Only `base NUL digits [NUL digits ...]` is an alias; a user symbol
        // such as `|a\x0;b|` stays whole.
        Some(i)
            if name[i..]
                .split(ALIAS_MARK)
                .skip(1)
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            &name[..i]
        }
        _ => name,
    }
}

/// State kept across REPL inputs (macros, redefined keywords, loaded files)
/// plus the scratch state of the top-level form being expanded.
pub struct Expander {
    /// The interaction environment's macros.
    macros: HashMap<String, Arc<Macro>>,
    /// Special-form names redefined as globals by a top-level `define` in
    /// the interaction environment.
    shadowed: HashSet<String>,
    /// For each macro expansion (by number): how many lexical frames the
    /// macro's definition environment has, and its top-level environment.
    expansion_env: Vec<(usize, EnvId)>,
    loaded: Vec<PathBuf>,
    loading: Vec<PathBuf>,
    /// Top-level environments and libraries (docs/libraries.md).
    libs: library::Libraries,
    /// The environment top-level forms are expanded in now.
    current_env: EnvId,
    /// The REPL's expander: `import` extends the interaction environment.
    interactive: bool,
    /// Expanding the prelude: what it defines becomes part of `(valk core)`.
    in_prelude: bool,
    /// The caller's source map, held while a form is expanded (so that
    /// `include` and libraries can read files from any depth).
    src: SourceMap,
    // Per top-level form:
    locals: Vec<LocalInfo>,
    frames: Vec<Frame>,
    depth: usize,
    macro_steps: usize,
    /// Datum nodes produced by macro expansion for this top-level form.
    macro_work: usize,
    /// Stack position where expansion of this top-level datum started.
    stack_base: usize,
    stack_budget: usize,
    /// Set when expansion stopped because it used up `stack_budget`.
    stack_exhausted: bool,
}

impl Default for Expander {
    fn default() -> Self {
        Expander::new()
    }
}

impl Expander {
    pub fn new() -> Expander {
        Expander {
            macros: HashMap::new(),
            shadowed: HashSet::new(),
            expansion_env: Vec::new(),
            loaded: Vec::new(),
            loading: Vec::new(),
            libs: library::Libraries::new(),
            current_env: EnvId::INTERACTION,
            interactive: false,
            in_prelude: false,
            src: SourceMap::default(),
            locals: Vec::new(),
            frames: Vec::new(),
            depth: 0,
            macro_steps: 0,
            macro_work: 0,
            stack_base: 0,
            stack_budget: INLINE_STACK_BUDGET,
            stack_exhausted: false,
        }
    }

    /// Every file `load`ed so far (canonical paths when they resolve), in
    /// the order first loaded.
    pub fn loaded_files(&self) -> &[PathBuf] {
        &self.loaded
    }

    /// Expands one top-level datum. `(begin ...)` at top level and
    /// `(load "file")` splice their forms, so one datum can give several
    /// `TopLevel`s (or none, e.g. `define-syntax`).
    pub fn expand_toplevel(
        &mut self,
        datum: &Datum,
        sources: &mut SourceMap,
    ) -> Result<Vec<TopLevel>, Diagnostic> {
        // Expansion recurses on the datum and the caller may be on a small
        // stack: shallow forms are expanded here with a stack budget; deep
        // ones, and any form that runs out of that budget (macros can nest
        // deeply), are expanded again on a helper thread with a big stack.
        // Re-expanding is safe for other forms: a failed attempt only leaves
        // behind state the second attempt recreates identically.
        let datum = prepare(datum)?;
        // Forms that may expand libraries are expanded once, on the big
        // stack: a second attempt would find the libraries defined and not
        // emit their code again.
        let may_import = matches!(
            datum.list(),
            Some([h, ..]) if matches!(
                h.sym().map(base_name),
                Some("import" | "define-library" | "load" | "include" | "include-ci" | "cond-expand")
            )
        );
        if datum_depth(&datum) <= INLINE_DEPTH && !may_import {
            let r = self.expand_here(&datum, sources, INLINE_STACK_BUDGET);
            if r.is_ok() || !self.stack_exhausted {
                return r;
            }
        }
        self.expand_on_big_stack(&datum, sources)
    }

    fn expand_here(
        &mut self,
        datum: &Datum,
        sources: &mut SourceMap,
        budget: usize,
    ) -> Result<Vec<TopLevel>, Diagnostic> {
        self.macro_steps = 0;
        self.macro_work = 0;
        self.depth = 0;
        self.stack_base = stack_position();
        self.stack_budget = budget;
        self.stack_exhausted = false;
        self.in_prelude = sources
            .files()
            .get(datum.span.file.0 as usize)
            .is_some_and(|f| crate::prelude::is_prelude(&f.name, &f.text));
        std::mem::swap(&mut self.src, sources);
        let mut out = Vec::new();
        let r = self.toplevel(datum, &mut out);
        std::mem::swap(&mut self.src, sources);
        r.map(|()| out)
    }

    fn expand_on_big_stack(
        &mut self,
        datum: &Datum,
        sources: &mut SourceMap,
    ) -> Result<Vec<TopLevel>, Diagnostic> {
        let span = datum.span;
        std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("valk-expand".into())
                .stack_size(BIG_STACK)
                .spawn_scoped(scope, || self.expand_here(datum, sources, BIG_STACK_BUDGET));
            match spawned {
                Ok(handle) => match handle.join() {
                    Ok(r) => r,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => Err(err(
                    span,
                    "expression nested too deeply (no thread with a bigger stack available)",
                )),
            }
        })
    }

    /// Entering one level of recursion: checks the depth and stack limits.
    pub(crate) fn enter(&mut self, span: Span) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return Err(err(
                span,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        if self.stack_base.abs_diff(stack_position()) > self.stack_budget {
            self.stack_exhausted = true;
            return Err(err(span, "expression nested too deeply (out of stack)"));
        }
        self.depth += 1;
        Ok(())
    }

    fn reset_form(&mut self) {
        self.locals.clear();
        self.frames.clear();
    }

    fn finish(&mut self, body: Expr) -> TopLevel {
        self.frames.clear();
        TopLevel {
            body,
            locals: std::mem::take(&mut self.locals),
        }
    }

    fn toplevel(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        self.enter(d.span)?;
        let r = self.toplevel_inner(d, out);
        self.depth -= 1;
        r
    }

    fn toplevel_inner(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        self.reset_form();
        let mut cur = Cow::Borrowed(d);
        loop {
            let kw = match self.head_meaning(&cur) {
                Some(Meaning::Macro(m)) => {
                    let next = self.expand_macro(&m, &cur)?;
                    cur = Cow::Owned(next);
                    continue;
                }
                Some(Meaning::Special(kw)) => kw,
                _ => break,
            };
            if let Some(next) = self.rewrite_form(kw, &cur) {
                cur = Cow::Owned(next?);
                continue;
            }
            let d = &*cur;
            match kw {
                "begin" => {
                    let items = forms::proper(d, "begin: expected (begin form ...)")?;
                    for sub in &items[1..] {
                        self.toplevel(sub, out)?;
                    }
                    return Ok(());
                }
                "define" | "fun" => {
                    let def = body::parse_define(d, kw)?;
                    let name = base_name(def.name_str()).to_string();
                    let name = self.define_global_name(&name, d.span)?;
                    let value = self.define_value(&def, d.span)?;
                    let e = Expr::new(ExprKind::DefineGlobal(name, Box::new(value)), d.span);
                    out.push(self.finish(e));
                    return Ok(());
                }
                "define-values" => return self.toplevel_define_values(d, out),
                "define-record-type" => {
                    let spec = records::parse(d)?;
                    for (name, part) in spec.parts() {
                        self.reset_form();
                        let name = base_name(&name).to_string();
                        let name = self.define_global_name(&name, d.span)?;
                        let value = self.record_part(&spec, &part, d.span);
                        let e = Expr::new(ExprKind::DefineGlobal(name, Box::new(value)), d.span);
                        out.push(self.finish(e));
                    }
                    return Ok(());
                }
                "define-syntax" => {
                    let (name, m) = self.parse_define_syntax(d)?;
                    let name = base_name(&name).to_string();
                    self.define_top_macro(&name, m, d.span)?;
                    return Ok(());
                }
                "load" if forms::literal_load(d) => return self.load(d, out),
                "import" => {
                    self.import_form(d, out)?;
                    self.reset_form();
                    let e = Expr::new(ExprKind::Void, d.span);
                    out.push(self.finish(e));
                    return Ok(());
                }
                "define-library" => {
                    self.define_library(d, out)?;
                    self.reset_form();
                    let e = Expr::new(ExprKind::Void, d.span);
                    out.push(self.finish(e));
                    return Ok(());
                }
                _ => break,
            }
        }
        let body = self.expr(&cur)?;
        out.push(self.finish(body));
        Ok(())
    }

    /// `(define-values formals expr)` at top level: the globals are first
    /// defined (unspecified), then one form assigns them from the values.
    fn toplevel_define_values(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        let items = forms::proper(d, body::DEFINE_VALUES_SYNTAX)?;
        if items.len() != 3 {
            return Err(err(d.span, body::DEFINE_VALUES_SYNTAX));
        }
        let (params, rest) = forms::parse_formals(&items[1], "define-values")?;
        let names: Vec<&Datum> = params.iter().chain(rest).collect();
        let mut cells = Vec::new();
        for n in &names {
            let name = base_name(n.sym().unwrap_or_default()).to_string();
            self.reset_form();
            let name = self.define_global_name(&name, n.span)?;
            cells.push(name.clone());
            let e = Expr::new(
                ExprKind::DefineGlobal(name, Box::new(Expr::new(ExprKind::Void, n.span))),
                d.span,
            );
            out.push(self.finish(e));
        }
        self.reset_form();
        let producer = self.expr(&items[2])?;
        let mut temps = Vec::new();
        for n in &names {
            temps.push(self.fresh_local(n.sym().unwrap_or_default()));
        }
        let sets: Vec<Expr> = names
            .iter()
            .zip(&cells)
            .zip(&temps)
            .map(|((n, cell), t)| {
                Expr::new(
                    ExprKind::SetGlobal(
                        cell.clone(),
                        Box::new(Expr::new(ExprKind::Local(*t), n.span)),
                    ),
                    d.span,
                )
            })
            .collect();
        let consumer_body = if sets.is_empty() {
            Expr::new(ExprKind::Void, d.span)
        } else {
            seq(sets, d.span)
        };
        let nparams = params.len();
        let consumer = lambda_expr(
            None,
            temps[..nparams].to_vec(),
            temps.get(nparams).copied(),
            consumer_body,
            d.span,
        );
        let e = forms::call_with_values(producer, consumer, d.span);
        out.push(self.finish(e));
        Ok(())
    }

    fn load(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        const SYNTAX: &str = "load: expected (load \"file\") with a literal string";
        let items = forms::proper(d, SYNTAX)?;
        let file = match items {
            [_, f] => match &f.kind {
                DatumKind::Str(s) => s.clone(),
                _ => return Err(err(f.span, SYNTAX)),
            },
            _ => return Err(err(d.span, SYNTAX)),
        };
        let path = self.path_beside(d.span, &file);
        let text = read_source(&path)
            .map_err(|reason| err(d.span, format!("cannot load \"{file}\": {reason}")))?;
        let key = self.note_loaded(&path);
        if self.loading.contains(&key) {
            return Err(err(
                d.span,
                format!("load: \"{file}\" loads itself recursively"),
            ));
        }
        if self.loading.len() >= MAX_LOAD_NESTING {
            return Err(err(d.span, "load: files nested too deeply"));
        }
        let datums = reader::read_str(&mut self.src, &path.to_string_lossy(), &text)?;
        self.loading.push(key);
        let saved_depth = self.depth;
        let mut r = Ok(());
        for datum in &datums {
            self.macro_steps = 0;
            self.macro_work = 0;
            r = prepare(datum).and_then(|datum| self.toplevel(&datum, out));
            if r.is_err() {
                break;
            }
        }
        self.depth = saved_depth;
        self.loading.pop();
        r
    }

    // ----- scopes -------------------------------------------------------

    /// What `name` means here.
    pub(crate) fn resolve(&self, name: &str) -> Meaning {
        let mut name = name;
        let mut depth = self.frames.len();
        // A symbol a macro inserted means what it means where the macro
        // was defined, also at top level (another library's environment).
        let mut top = self.current_env;
        loop {
            for f in self.frames[..depth].iter().rev() {
                if let Some(b) = f.lookup(name) {
                    return match b {
                        Binding::Local(id) => Meaning::Local(*id),
                        Binding::Macro(m) => Meaning::Macro(m.clone()),
                    };
                }
            }
            match self.split_alias(name) {
                Some((base, (env, env_top))) => {
                    name = base;
                    depth = depth.min(env);
                    top = env_top;
                }
                None => break,
            }
        }
        self.resolve_top(top, name)
    }

    /// An alias `base NUL n` made by expansion `n`: its base (possibly an
    /// alias itself) and the size of the macro's definition environment.
    fn split_alias<'n>(&self, name: &'n str) -> Option<(&'n str, (usize, EnvId))> {
        let i = name.rfind(ALIAS_MARK)?;
        let n: usize = name[i + 1..].parse().ok()?;
        let env = *self.expansion_env.get(n)?;
        Some((&name[..i], env))
    }

    /// The meaning of the head of a list form, when it is a symbol.
    pub(crate) fn head_meaning(&self, d: &Datum) -> Option<Meaning> {
        match &d.kind {
            DatumKind::List(items, _) => items.first()?.sym().map(|s| self.resolve(s)),
            _ => None,
        }
    }

    /// True when `d` is the identifier `kw` with its keyword meaning (for
    /// `else`, `=>`, `unquote`, ...).
    pub(crate) fn is_keyword(&self, d: &Datum, kw: &str) -> bool {
        match d.sym() {
            Some(s) if base_name(s) == kw => {
                matches!(self.resolve(s), Meaning::Special(k) if k == kw)
            }
            _ => false,
        }
    }

    /// A new local bound to `name` in the innermost frame.
    pub(crate) fn bind_local(&mut self, name: &str) -> LocalId {
        let id = self.fresh_local(name);
        self.bind(name, Binding::Local(id));
        id
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if self.frames.is_empty() {
            self.frames.push(Frame::default());
        }
        if let Some(f) = self.frames.last_mut() {
            f.names.insert(name.to_string(), b);
        }
    }

    /// A new local not visible to any name (expander temporaries).
    pub(crate) fn fresh_local(&mut self, name: &str) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(LocalInfo {
            name: base_name(name).to_string(),
            assigned: false,
        });
        id
    }

    pub(crate) fn push_frame(&mut self) {
        self.frames.push(Frame::default());
    }

    pub(crate) fn pop_frame(&mut self) {
        self.frames.pop();
    }

    /// Whether the innermost frame already binds `name`.
    pub(crate) fn bound_in_frame(&self, name: &str) -> bool {
        self.frames
            .last()
            .is_some_and(|f| f.names.contains_key(name))
    }

    fn mark_assigned(&mut self, id: LocalId) {
        if let Some(l) = self.locals.get_mut(id.0 as usize) {
            l.assigned = true;
        }
    }
}

/// An address in the current stack frame.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Nesting depth of a datum (an atom is 1), computed without recursion.
fn datum_depth(d: &Datum) -> usize {
    let mut max = 0;
    let mut stack = vec![(d, 1usize)];
    while let Some((d, depth)) = stack.pop() {
        max = max.max(depth);
        match &d.kind {
            DatumKind::List(items, tail) => {
                stack.extend(items.iter().map(|x| (x, depth + 1)));
                if let Some(t) = tail {
                    stack.push((t, depth + 1));
                }
            }
            DatumKind::Vector(items) => stack.extend(items.iter().map(|x| (x, depth + 1))),
            _ => {}
        }
    }
    max
}

/// Number of nodes of a datum, counted without recursion.
pub(crate) fn datum_size(d: &Datum) -> usize {
    if !matches!(d.kind, DatumKind::List(..) | DatumKind::Vector(_)) {
        return 1;
    }
    let mut n = 0;
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        n += 1;
        match &d.kind {
            DatumKind::List(items, tail) => {
                stack.extend(items);
                stack.extend(tail.as_deref());
            }
            DatumKind::Vector(items) => stack.extend(items),
            _ => {}
        }
    }
    n
}

/// Checks the nesting depth of a datum without recursion.
pub(crate) fn check_depth(d: &Datum, limit: usize) -> Res<()> {
    let mut stack = vec![(d, 1usize)];
    while let Some((d, depth)) = stack.pop() {
        if depth > limit {
            return Err(err(
                d.span,
                format!("expression nested too deeply (more than {limit} levels)"),
            ));
        }
        match &d.kind {
            DatumKind::List(items, tail) => {
                stack.extend(items.iter().map(|x| (x, depth + 1)));
                if let Some(t) = tail {
                    stack.push((t, depth + 1));
                }
            }
            DatumKind::Vector(items) => stack.extend(items.iter().map(|x| (x, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// Depth check, then list normalisation: `(a . (b c))` becomes `(a b c)`
/// (the reader already does this; hand-built datums may not).
fn prepare(d: &Datum) -> Res<Cow<'_, Datum>> {
    check_depth(d, MAX_DEPTH)?;
    if needs_normalizing(d) {
        Ok(Cow::Owned(normalize(d)))
    } else {
        Ok(Cow::Borrowed(d))
    }
}

fn needs_normalizing(d: &Datum) -> bool {
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        match &d.kind {
            DatumKind::List(items, tail) => {
                if let Some(t) = tail {
                    if matches!(t.kind, DatumKind::List(..)) {
                        return true;
                    }
                    stack.push(t);
                }
                stack.extend(items);
            }
            DatumKind::Vector(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// Rebuilds a datum with list tails merged into their lists.
pub(crate) fn normalize(d: &Datum) -> Datum {
    match &d.kind {
        DatumKind::List(items, tail) => {
            let items: Vec<Datum> = items.iter().map(normalize).collect();
            let tail = tail.as_ref().map(|t| normalize(t));
            make_list(items, tail, d.span)
        }
        DatumKind::Vector(items) => Datum::new(
            DatumKind::Vector(items.iter().map(normalize).collect()),
            d.span,
        ),
        _ => d.clone(),
    }
}

/// A list datum with `tail` merged in when the tail is itself a list.
pub(crate) fn make_list(mut items: Vec<Datum>, tail: Option<Datum>, span: Span) -> Datum {
    let tail = match tail {
        Some(Datum {
            kind: DatumKind::List(more, rest),
            ..
        }) => {
            items.extend(more);
            rest.map(|r| *r)
        }
        t => t,
    };
    if items.is_empty() {
        // `(() . x)` cannot occur; a lone tail is the tail itself.
        return tail.unwrap_or_else(|| Datum::new(DatumKind::List(Vec::new(), None), span));
    }
    Datum::new(DatumKind::List(items, tail.map(Box::new)), span)
}

/// A copy of `d` with macro aliases replaced by their base names (for
/// quoted data).
pub(crate) fn strip_datum(d: &Datum) -> Datum {
    map_symbols(d, &|s| {
        (base_name(s).len() != s.len()).then(|| base_name(s).to_string())
    })
}

/// A copy of `d` with each symbol `s` for which `f(s)` is `Some(new)`
/// replaced by `new`.
pub(crate) fn map_symbols(d: &Datum, f: &impl Fn(&str) -> Option<String>) -> Datum {
    match &d.kind {
        DatumKind::Symbol(s) => match f(s) {
            Some(new) => Datum::new(DatumKind::Symbol(new), d.span),
            None => d.clone(),
        },
        DatumKind::List(items, tail) => Datum::new(
            DatumKind::List(
                items.iter().map(|x| map_symbols(x, f)).collect(),
                tail.as_ref().map(|t| Box::new(map_symbols(t, f))),
            ),
            d.span,
        ),
        DatumKind::Vector(items) => Datum::new(
            DatumKind::Vector(items.iter().map(|x| map_symbols(x, f)).collect()),
            d.span,
        ),
        _ => d.clone(),
    }
}

impl Expander {
    /// The source file whose text holds `span` (its name in the source map).
    fn file_of(&self, span: Span) -> String {
        self.src
            .files()
            .get(span.file.0 as usize)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    }

    /// `file` as named by a form at `span` (`load`, `include`): relative to
    /// the directory of the file holding the form.
    fn path_beside(&self, span: Span, file: &str) -> PathBuf {
        if Path::new(file).is_absolute() {
            return PathBuf::from(file);
        }
        Path::new(&self.file_of(span))
            .parent()
            .unwrap_or(Path::new(""))
            .join(file)
    }

    /// Records a file the program is built from (`loaded_files`, which the
    /// caches key on); returns its canonical path.
    fn note_loaded(&mut self, path: &Path) -> PathBuf {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.loaded.contains(&canonical) {
            self.loaded.push(canonical.clone());
        }
        canonical
    }
}

/// Reads a source file for `load`, `include` or `import`; the error is the
/// reason alone, as users expect it.
fn read_source(path: &Path) -> Result<String, String> {
    read_source_file(path).map_err(|e| match &e {
        SourceReadError::Io(e) => io_message(e),
        other => other.to_string(),
    })
}

/// `message (os error 2)` without the OS error number, as users expect.
fn io_message(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return "No such file or directory".to_string();
    }
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

// ----- small AST builders ------------------------------------------------

pub(crate) fn seq(mut exprs: Vec<Expr>, span: Span) -> Expr {
    if exprs.len() == 1 {
        return exprs
            .pop()
            .unwrap_or_else(|| Expr::new(ExprKind::Void, span));
    }
    if exprs.is_empty() {
        return Expr::new(ExprKind::Void, span);
    }
    Expr::new(ExprKind::Seq(exprs), span)
}

pub(crate) fn global(name: &str, span: Span) -> Expr {
    Expr::new(ExprKind::Global(name.to_string()), span)
}

pub(crate) fn call(f: Expr, args: Vec<Expr>, span: Span) -> Expr {
    Expr::new(ExprKind::Call(Box::new(f), args), span)
}

/// A call of a runtime procedure from expanded code. Builtins are called
/// through their `%` alias (`INTERNAL_ALIASES` in the runtime, `%append` and
/// `%memv` in the prelude), so a program that redefines `cons` or `append`
/// cannot change what `quasiquote` or `case` mean.
pub(crate) fn call_global(name: &str, args: Vec<Expr>, span: Span) -> Expr {
    let internal = if name.starts_with('%') {
        name.to_string()
    } else {
        format!("%{name}")
    };
    call(global(&internal, span), args, span)
}

pub(crate) fn constant(d: Datum) -> Expr {
    let span = d.span;
    Expr::new(ExprKind::Const(d), span)
}

pub(crate) fn local(id: LocalId, span: Span) -> Expr {
    Expr::new(ExprKind::Local(id), span)
}

pub(crate) fn lambda_expr(
    name: Option<String>,
    params: Vec<LocalId>,
    rest: Option<LocalId>,
    body: Expr,
    span: Span,
) -> Expr {
    Expr::new(
        ExprKind::Lambda(Box::new(crate::ast::Lambda {
            name,
            params,
            rest,
            body,
            span,
        })),
        span,
    )
}

/// Gives an anonymous lambda the name it is bound to (also through the
/// `let` that `case-lambda` wraps around its dispatcher).
pub(crate) fn name_lambda(e: &mut Expr, name: &str) {
    match &mut e.kind {
        ExprKind::Lambda(l) if l.name.is_none() => l.name = Some(base_name(name).to_string()),
        ExprKind::Let(_, body) if matches!(body.kind, ExprKind::Lambda(_)) => {
            name_lambda(body, name)
        }
        _ => {}
    }
}
