//! Library declarations (docs/libraries.md): `define-library` and what
//! it contains, and the forms that also work outside libraries: `include`,
//! `include-ci` and `cond-expand`.

use super::{library_key, Entry, EnvId, EnvKind, Library, TopBinding, CORE_LIBRARY};
use crate::ast::TopLevel;
use crate::expand::forms::proper;
use crate::expand::{base_name, err, prepare, read_source, write_datum, Expander, Res};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::reader;
use crate::syntax::source::Span;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

impl Expander {
    // ----- define-library ----------------------------------------------

    /// `(define-library name declaration ...)`: expands the library and
    /// records its exports; its definitions and body go to `out`.
    pub(crate) fn define_library(&mut self, d: &Datum, out: &mut Vec<TopLevel>) -> Res<()> {
        const SYNTAX: &str = "define-library: expected (define-library (name ...) declaration ...)";
        let items = proper(d, SYNTAX)?;
        let name = items.get(1).ok_or_else(|| err(d.span, SYNTAX))?;
        let key = library_key(name)?;
        if key == CORE_LIBRARY || (self.libs.defined.contains_key(&key) && !self.interactive) {
            return Err(err(
                name.span,
                format!("define-library: library {key} is already defined"),
            ));
        }
        let saved = self.current_env;
        let env = self.new_env(EnvKind::Library, &key);
        self.current_env = env;
        let pushed = !self.libs.loading.contains(&key);
        if pushed {
            self.libs.loading.push(key.clone());
        }
        let r = self.library_body(&items[2..], env, out);
        if pushed {
            self.libs.loading.pop();
        }
        self.current_env = saved;
        let exports = r?;
        let mut table = HashMap::new();
        for (internal, external, span) in exports {
            let Some(binding) = self.bound_top(env, &internal) else {
                return Err(err(
                    span,
                    format!("define-library: {key} exports {internal}, which it neither defines nor imports"),
                ));
            };
            if let Some(old) = table.insert(external.clone(), binding.clone()) {
                if !old.same(&binding) {
                    return Err(err(
                        span,
                        format!("define-library: {key} exports {external} twice"),
                    ));
                }
            }
        }
        self.libs
            .defined
            .insert(key, Arc::new(Library { exports: table }));
        Ok(())
    }

    /// The declarations of a library: imports take effect at once, the body
    /// forms are expanded after all declarations (with the names they
    /// define known in advance, so a body may use a definition that comes
    /// later even where `(valk core)` has the same name). Returns the export
    /// specs: (internal name, external name, span).
    fn library_body(
        &mut self,
        decls: &[Datum],
        env: EnvId,
        out: &mut Vec<TopLevel>,
    ) -> Res<Vec<(String, String, Span)>> {
        let mut exports = Vec::new();
        let mut body = Vec::new();
        self.library_decls(decls, env, &mut exports, &mut body, out)?;
        let mut defined = Vec::new();
        for f in &body {
            defined_names(f, &mut defined);
        }
        for name in defined {
            let id = self.current_env;
            if self
                .env(id)
                .names
                .get(&name)
                .is_some_and(|e| e.from.is_some())
            {
                continue; // reported when the definition is expanded
            }
            let cell = self.env(id).cell_name(&name);
            self.env_mut(id).names.insert(
                name,
                Entry {
                    binding: TopBinding::Global(cell),
                    from: None,
                },
            );
        }
        for f in &body {
            self.macro_steps = 0;
            self.macro_work = 0;
            let f = prepare(f)?;
            self.toplevel(&f, out)?;
        }
        Ok(exports)
    }

    fn library_decls(
        &mut self,
        decls: &[Datum],
        env: EnvId,
        exports: &mut Vec<(String, String, Span)>,
        body: &mut Vec<Datum>,
        out: &mut Vec<TopLevel>,
    ) -> Res<()> {
        for decl in decls {
            let items = proper(decl, "define-library: expected a library declaration")?;
            let head = items.first().and_then(|h| h.sym()).map(base_name);
            match head {
                Some("export") => {
                    for spec in &items[1..] {
                        exports.push(export_spec(spec)?);
                    }
                }
                Some("import") => {
                    for set in &items[1..] {
                        self.import_into(env, set, out)?;
                    }
                }
                Some("begin") => body.extend(items[1..].iter().cloned()),
                Some(kw @ ("include" | "include-ci")) => {
                    body.extend(self.include_files(decl, kw == "include-ci")?)
                }
                Some("include-library-declarations") => {
                    let more = self.include_files(decl, false)?;
                    self.library_decls(&more, env, exports, body, out)?;
                }
                Some("cond-expand") => {
                    let chosen = self.cond_expand_clause(decl)?;
                    self.library_decls(&chosen, env, exports, body, out)?;
                }
                _ => {
                    return Err(err(
                        decl.span,
                        format!(
                            "define-library: unknown declaration {}",
                            crate::expand::print::write_short(decl)
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    // ----- include, cond-expand, syntax-error ---------------------------

    /// The datums of the files an `(include "file" ...)` names, relative to
    /// the including file; `include-ci` folds the case of symbols.
    pub(crate) fn include_files(&mut self, d: &Datum, fold: bool) -> Res<Vec<Datum>> {
        let kw = if fold { "include-ci" } else { "include" };
        let syntax = format!("{kw}: expected ({kw} \"file\" ...)");
        let items = proper(d, &syntax)?;
        if items.len() < 2 {
            return Err(err(d.span, syntax));
        }
        let containing = self.file_of(d.span);
        let mut all = Vec::new();
        for f in &items[1..] {
            let DatumKind::Str(file) = &f.kind else {
                return Err(err(f.span, syntax));
            };
            let text;
            let name;
            if let Some(rel) = containing.strip_prefix("<lib>/") {
                // An installed library includes installed files.
                let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
                let p = dir.join(file).to_string_lossy().replace('\\', "/");
                text = crate::stdlib::file(&p)
                    .ok_or_else(|| err(f.span, format!("{kw}: no installed file {p}")))?
                    .to_string();
                name = format!("<lib>/{p}");
            } else {
                let path = self.path_beside(d.span, file);
                text = read_source(&path).map_err(|reason| {
                    err(f.span, format!("{kw}: cannot read \"{file}\": {reason}"))
                })?;
                self.note_loaded(&path);
                name = path.to_string_lossy().to_string();
            }
            let datums = reader::read_str(&mut self.src, &name, &text)?;
            if fold {
                all.extend(datums.iter().map(fold_symbols));
            } else {
                all.extend(datums);
            }
        }
        Ok(all)
    }

    /// `(include ...)`, `(include-ci ...)` and `(cond-expand ...)` as the
    /// `(begin ...)` they stand for; `None` for other keywords.
    pub(crate) fn rewrite_form(&mut self, kw: &str, d: &Datum) -> Option<Res<Datum>> {
        let forms = match kw {
            "include" => self.include_files(d, false),
            "include-ci" => self.include_files(d, true),
            "cond-expand" => self.cond_expand_clause(d),
            "define-c-function" => return Some(super::super::ffi::define_c_function(d)),
            _ => return None,
        };
        Some(forms.map(|mut forms| {
            forms.insert(0, Datum::new(DatumKind::Symbol("begin".into()), d.span));
            Datum::new(DatumKind::List(forms, None), d.span)
        }))
    }

    /// The body of the first `cond-expand` clause whose requirement holds
    /// (nothing when none does).
    fn cond_expand_clause(&self, d: &Datum) -> Res<Vec<Datum>> {
        const SYNTAX: &str = "cond-expand: expected (cond-expand (requirement form ...) ...)";
        let items = proper(d, SYNTAX)?;
        for clause in &items[1..] {
            let parts = proper(clause, SYNTAX)?;
            let Some((req, body)) = parts.split_first() else {
                return Err(err(clause.span, SYNTAX));
            };
            let holds = if req.sym().map(base_name) == Some("else") {
                true
            } else {
                self.requirement(req)?
            };
            if holds {
                return Ok(body.to_vec());
            }
        }
        Ok(Vec::new())
    }

    fn requirement(&self, req: &Datum) -> Res<bool> {
        if let Some(s) = req.sym() {
            return Ok(valk_runtime::builtins::FEATURES.contains(&base_name(s)));
        }
        let bad = || {
            err(
                req.span,
                format!(
                    "cond-expand: bad requirement {}",
                    crate::expand::print::write_short(req)
                ),
            )
        };
        let items = req.list().ok_or_else(bad)?;
        let head = items.first().and_then(|h| h.sym()).map(base_name);
        match head {
            Some("and") => {
                for r in &items[1..] {
                    if !self.requirement(r)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Some("or") => {
                for r in &items[1..] {
                    if self.requirement(r)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Some("not") if items.len() == 2 => Ok(!self.requirement(&items[1])?),
            Some("library") if items.len() == 2 => Ok(self.library_available(&items[1])),
            _ => Err(bad()),
        }
    }
}

/// `name` or `(rename internal external)`.
fn export_spec(spec: &Datum) -> Res<(String, String, Span)> {
    if let Some(s) = spec.sym() {
        let s = base_name(s).to_string();
        return Ok((s.clone(), s, spec.span));
    }
    if let Some([h, a, b]) = spec.list() {
        if h.sym().map(base_name) == Some("rename") {
            if let (Some(a), Some(b)) = (a.sym(), b.sym()) {
                return Ok((
                    base_name(a).to_string(),
                    base_name(b).to_string(),
                    spec.span,
                ));
            }
        }
    }
    Err(err(
        spec.span,
        format!(
            "export: expected a name or (rename internal external), got {}",
            write_datum(spec)
        ),
    ))
}

/// Names defined at the top of a library body form (through `begin`),
/// found before expansion.
fn defined_names(d: &Datum, out: &mut Vec<String>) {
    let Some(items) = d.list() else { return };
    let head = items.first().and_then(|h| h.sym()).map(base_name);
    match head {
        Some("begin") => {
            for x in &items[1..] {
                defined_names(x, out);
            }
        }
        Some("define" | "fun") => {
            let mut target = items.get(1);
            // `(define ((curried a) b) ...)` defines `curried`.
            while let Some(Datum {
                kind: DatumKind::List(xs, _),
                ..
            }) = target
            {
                target = xs.first();
            }
            if let Some(s) = target.and_then(|t| t.sym()) {
                out.push(base_name(s).to_string());
            }
        }
        Some("define-values") => {
            if let Some(f) = items.get(1) {
                collect_symbols(f, out);
            }
        }
        Some("define-record-type") => {
            // type, (constructor field ...), predicate, (field accessor [modifier]) ...
            for (i, part) in items.iter().enumerate().skip(1) {
                match (&part.kind, i) {
                    (DatumKind::Symbol(s), _) => out.push(base_name(s).to_string()),
                    (DatumKind::List(xs, _), 1 | 2) => {
                        if let Some(s) = xs.first().and_then(|x| x.sym()) {
                            out.push(base_name(s).to_string());
                        }
                    }
                    (DatumKind::List(xs, _), _) => {
                        out.extend(
                            xs.iter()
                                .skip(1)
                                .filter_map(|x| x.sym())
                                .map(|s| base_name(s).to_string()),
                        );
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn collect_symbols(d: &Datum, out: &mut Vec<String>) {
    match &d.kind {
        DatumKind::Symbol(s) => out.push(base_name(s).to_string()),
        DatumKind::List(items, tail) => {
            for i in items {
                collect_symbols(i, out);
            }
            if let Some(t) = tail {
                collect_symbols(t, out);
            }
        }
        _ => {}
    }
}

/// `d` with every symbol case-folded (`include-ci`).
fn fold_symbols(d: &Datum) -> Datum {
    crate::expand::map_symbols(d, &|s| {
        Some(
            valk_runtime::unicode::fold_full(s.chars())
                .into_iter()
                .collect(),
        )
    })
}
