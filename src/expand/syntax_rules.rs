//! `syntax-rules` macros: pattern matching with ellipses (nested, with
//! tail patterns, in vectors), literals, `_`, custom ellipsis and the
//! `(... ...)` escape.
//!
//! Hygiene is approximated by renaming: every symbol a template inserts
//! (that is not a pattern variable) becomes an alias `name NUL n` unique to
//! the expansion `n`. Bindings made with an alias only capture references
//! made with the same alias, and a free alias resolves like its base name in
//! the macro's definition environment (see `Expander::resolve`).

use super::forms::proper;
use super::{
    base_name, check_depth, datum_size, err, library::EnvId, make_list, write_datum, Binding,
    Expander, Res, ALIAS_MARK, MAX_DEPTH, MAX_MACRO_STEPS, MAX_MACRO_WORK,
};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;
use std::borrow::Cow;
use std::sync::Arc;

pub(crate) struct Macro {
    name: String,
    ellipsis: String,
    literals: Vec<String>,
    rules: Vec<(Datum, Datum)>,
    /// Number of lexical frames of the definition environment.
    env: usize,
    /// The top-level environment the macro was defined in.
    top_env: EnvId,
}

/// What a pattern variable matched: one datum, or one match per repetition
/// of the ellipsis it is under.
enum Match<'i> {
    /// Borrowed from the macro use, or built (the rest of a dotted pattern).
    One(Cow<'i, Datum>),
    Many(Vec<Match<'i>>),
}

/// Pattern variables and what they matched (few per rule: a vector).
type Binds<'p, 'i> = Vec<(&'p str, Match<'i>)>;

impl Macro {
    fn is_literal(&self, s: &str) -> bool {
        self.literals.iter().any(|l| base_name(l) == base_name(s))
    }

    fn is_ellipsis(&self, d: &Datum) -> bool {
        match d.sym() {
            Some(s) => base_name(s) == self.ellipsis && !self.is_literal(s),
            None => false,
        }
    }

    fn is_wildcard(&self, s: &str) -> bool {
        base_name(s) == "_" && !self.is_literal(s)
    }

    /// Index of the element followed by an ellipsis in a list pattern.
    fn ellipsis_index(&self, items: &[Datum]) -> Option<usize> {
        (0..items.len().saturating_sub(1)).find(|&i| self.is_ellipsis(&items[i + 1]))
    }

    /// Pattern variables of `pat`, in order.
    fn pattern_vars<'p>(&self, pat: &'p Datum, out: &mut Vec<&'p str>) {
        match &pat.kind {
            DatumKind::Symbol(s)
                if !self.is_literal(s) && !self.is_wildcard(s) && !self.is_ellipsis(pat) =>
            {
                out.push(s);
            }
            DatumKind::List(items, tail) => {
                for i in items {
                    self.pattern_vars(i, out);
                }
                if let Some(t) = tail {
                    self.pattern_vars(t, out);
                }
            }
            DatumKind::Vector(items) => {
                for i in items {
                    self.pattern_vars(i, out);
                }
            }
            _ => {}
        }
    }

    /// Checks a pattern when the macro is defined: at most one ellipsis
    /// per list or vector, never first.
    fn check_pattern(&self, pat: &Datum) -> Res<()> {
        let items = match &pat.kind {
            DatumKind::List(items, tail) => {
                if let Some(t) = tail {
                    self.check_pattern(t)?;
                }
                items
            }
            DatumKind::Vector(items) => items,
            _ => return Ok(()),
        };
        let mut seen = false;
        for (i, item) in items.iter().enumerate() {
            if self.is_ellipsis(item) {
                if i == 0 || seen {
                    return Err(err(
                        item.span,
                        format!("{}: misplaced ellipsis in syntax-rules pattern", self.name),
                    ));
                }
                seen = true;
            } else {
                self.check_pattern(item)?;
            }
        }
        Ok(())
    }

    fn matches<'p, 'i>(&self, pat: &'p Datum, input: &'i Datum, binds: &mut Binds<'p, 'i>) -> bool {
        match &pat.kind {
            DatumKind::Symbol(s) => {
                if self.is_literal(s) {
                    return input.sym().map(base_name) == Some(base_name(s));
                }
                if !self.is_wildcard(s) {
                    binds.push((s, Match::One(Cow::Borrowed(input))));
                }
                true
            }
            DatumKind::List(pitems, ptail) => match &input.kind {
                DatumKind::List(iitems, itail) => self.match_seq(
                    pitems,
                    ptail.as_deref(),
                    iitems,
                    itail.as_deref(),
                    input.span,
                    binds,
                ),
                _ => false,
            },
            DatumKind::Vector(pitems) => match &input.kind {
                DatumKind::Vector(iitems) => {
                    self.match_seq(pitems, None, iitems, None, input.span, binds)
                }
                _ => false,
            },
            _ => same_datum(pat, input),
        }
    }

    /// Matches the tail pattern of a dotted list pattern against a datum
    /// built from the rest of the input. Patterns are normalised, so a tail
    /// pattern is never a list.
    fn match_rest<'p, 'i>(&self, pat: &'p Datum, rest: Datum, binds: &mut Binds<'p, 'i>) -> bool {
        match &pat.kind {
            DatumKind::Symbol(s) if !self.is_literal(s) => {
                if !self.is_wildcard(s) {
                    binds.push((s, Match::One(Cow::Owned(rest))));
                }
                true
            }
            DatumKind::Symbol(s) => rest.sym().map(base_name) == Some(base_name(s)),
            _ => same_datum(pat, &rest),
        }
    }

    /// Matches the elements (and tail) of a list or vector pattern.
    fn match_seq<'p, 'i>(
        &self,
        pitems: &'p [Datum],
        ptail: Option<&'p Datum>,
        iitems: &'i [Datum],
        itail: Option<&'i Datum>,
        span: Span,
        binds: &mut Binds<'p, 'i>,
    ) -> bool {
        let Some(e) = self.ellipsis_index(pitems) else {
            let k = pitems.len();
            if iitems.len() < k {
                return false;
            }
            if !pitems
                .iter()
                .zip(iitems)
                .all(|(p, i)| self.matches(p, i, binds))
            {
                return false;
            }
            return match (ptail, itail) {
                (None, _) => iitems.len() == k && itail.is_none(),
                (Some(pt), Some(t)) if iitems.len() == k => self.matches(pt, t, binds),
                (Some(pt), _) => {
                    let rest = make_list(iitems[k..].to_vec(), itail.cloned(), span);
                    self.match_rest(pt, rest, binds)
                }
            };
        };
        let after = &pitems[e + 2..];
        if iitems.len() < e + after.len() || (ptail.is_none() && itail.is_some()) {
            return false;
        }
        let reps = iitems.len() - e - after.len();
        if !pitems[..e]
            .iter()
            .zip(iitems)
            .all(|(p, i)| self.matches(p, i, binds))
        {
            return false;
        }
        let mut vars = Vec::new();
        self.pattern_vars(&pitems[e], &mut vars);
        let mut per_var: Vec<Vec<Match<'i>>> = vars.iter().map(|_| Vec::new()).collect();
        let mut sub = Binds::new();
        for input in &iitems[e..e + reps] {
            sub.clear();
            if !self.matches(&pitems[e], input, &mut sub) {
                return false;
            }
            for (name, m) in sub.drain(..) {
                if let Some(i) = vars.iter().position(|v| *v == name) {
                    per_var[i].push(m);
                }
            }
        }
        for (v, acc) in vars.into_iter().zip(per_var) {
            binds.push((v, Match::Many(acc)));
        }
        if !after
            .iter()
            .zip(&iitems[e + reps..])
            .all(|(p, i)| self.matches(p, i, binds))
        {
            return false;
        }
        match (ptail, itail) {
            (None, _) => true,
            (Some(pt), Some(t)) => self.matches(pt, t, binds),
            (Some(pt), None) => self.match_rest(
                pt,
                Datum::new(DatumKind::List(Vec::new(), None), span),
                binds,
            ),
        }
    }
}

/// Equality of constants, ignoring spans.
fn same_datum(a: &Datum, b: &Datum) -> bool {
    match (&a.kind, &b.kind) {
        (DatumKind::List(x, xt), DatumKind::List(y, yt)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| same_datum(p, q))
                && match (xt, yt) {
                    (None, None) => true,
                    (Some(p), Some(q)) => same_datum(p, q),
                    _ => false,
                }
        }
        (DatumKind::Vector(x), DatumKind::Vector(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_datum(p, q))
        }
        (DatumKind::Symbol(x), DatumKind::Symbol(y)) => base_name(x) == base_name(y),
        (x, y) => x == y,
    }
}

/// Transcription state of one expansion.
struct Transcriber<'m> {
    m: &'m Macro,
    /// The expansion number used in aliases.
    id: usize,
    /// Where the macro was used: the span of every inserted datum.
    span: Span,
    /// Datum nodes this expansion may still produce.
    remaining: std::cell::Cell<usize>,
}

/// Pattern variables in scope during transcription; inner bindings (one
/// repetition of an ellipsis) are pushed on top and popped afterwards.
type Env<'b> = Vec<(&'b str, &'b Match<'b>)>;

fn lookup<'b>(env: &[(&'b str, &'b Match<'b>)], name: &str) -> Option<&'b Match<'b>> {
    env.iter().rev().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

impl Transcriber<'_> {
    fn error(&self, msg: impl std::fmt::Display) -> crate::syntax::diag::Diagnostic {
        err(self.span, format!("{}: {msg}", self.m.name))
    }

    /// Accounts for `n` produced nodes.
    fn charge(&self, n: usize) -> Res<()> {
        let left = self.remaining.get();
        if n > left {
            return Err(self.error(format!(
                "macro expansion too large (more than {MAX_MACRO_WORK} datums)"
            )));
        }
        self.remaining.set(left - n);
        Ok(())
    }

    fn alias(&self, s: &str) -> String {
        format!("{s}{ALIAS_MARK}{}", self.id)
    }

    fn transcribe<'b>(&self, t: &Datum, env: &mut Env<'b>, escaped: bool) -> Res<Datum> {
        match &t.kind {
            DatumKind::Symbol(s) => match lookup(env, s) {
                Some(Match::One(d)) => {
                    self.charge(datum_size(d))?;
                    Ok(d.as_ref().clone())
                }
                Some(Match::Many(_)) => Err(self.error(format!(
                    "pattern variable {} used without an ellipsis",
                    base_name(s)
                ))),
                None if !escaped && self.m.is_ellipsis(t) => {
                    Err(self.error("misplaced ellipsis in template"))
                }
                None => {
                    self.charge(1)?;
                    Ok(Datum::new(DatumKind::Symbol(self.alias(s)), self.span))
                }
            },
            DatumKind::List(items, tail) => {
                if !escaped && items.len() == 2 && tail.is_none() && self.m.is_ellipsis(&items[0]) {
                    return self.transcribe(&items[1], env, true);
                }
                self.charge(1)?;
                let out = self.elements(items, env, escaped)?;
                let tail = match tail {
                    Some(t) => Some(self.transcribe(t, env, escaped)?),
                    None => None,
                };
                Ok(make_list(out, tail, self.span))
            }
            DatumKind::Vector(items) => {
                self.charge(1)?;
                Ok(Datum::new(
                    DatumKind::Vector(self.elements(items, env, escaped)?),
                    self.span,
                ))
            }
            kind => {
                self.charge(1)?;
                Ok(Datum::new(kind.clone(), self.span))
            }
        }
    }

    /// Template elements, each possibly followed by ellipses.
    fn elements<'b>(&self, items: &[Datum], env: &mut Env<'b>, escaped: bool) -> Res<Vec<Datum>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let elem = &items[i];
            let mut k = 0;
            while !escaped && i + 1 + k < items.len() && self.m.is_ellipsis(&items[i + 1 + k]) {
                k += 1;
            }
            if k == 0 {
                out.push(self.transcribe(elem, env, escaped)?);
            } else {
                self.repeat(elem, k, env, &mut out)?;
            }
            i += 1 + k;
        }
        Ok(out)
    }

    /// `elem` followed by `k` ellipses: one copy per repetition of the
    /// pattern variables under an ellipsis that `elem` uses.
    fn repeat<'b>(
        &self,
        elem: &Datum,
        k: usize,
        env: &mut Env<'b>,
        out: &mut Vec<Datum>,
    ) -> Res<()> {
        let mut names = Vec::new();
        template_symbols(elem, &mut names);
        // The innermost binding of each name decides.
        let iterated: Vec<(&'b str, &'b Vec<Match<'b>>)> = names
            .iter()
            .filter_map(|n| env.iter().rev().find(|(k, _)| k == n).copied())
            .filter_map(|(n, m)| match m {
                Match::Many(v) => Some((n, v)),
                Match::One(_) => None,
            })
            .collect();
        let Some((_, first)) = iterated.first() else {
            return Err(self.error("no pattern variable under this ellipsis in template"));
        };
        let n = first.len();
        if iterated.iter().any(|(_, v)| v.len() != n) {
            return Err(self.error(
                "pattern variables used under one ellipsis matched different numbers of items",
            ));
        }
        let mark = env.len();
        for j in 0..n {
            for (name, v) in &iterated {
                env.push((name, &v[j]));
            }
            if k == 1 {
                out.push(self.transcribe(elem, env, false)?);
            } else {
                self.repeat(elem, k - 1, env, out)?;
            }
            env.truncate(mark);
        }
        Ok(())
    }
}

/// Every symbol in a template (duplicates removed).
fn template_symbols<'t>(t: &'t Datum, out: &mut Vec<&'t str>) {
    match &t.kind {
        DatumKind::Symbol(s) if !out.contains(&s.as_str()) => out.push(s),
        DatumKind::List(items, tail) => {
            for i in items {
                template_symbols(i, out);
            }
            if let Some(t) = tail {
                template_symbols(t, out);
            }
        }
        DatumKind::Vector(items) => {
            for i in items {
                template_symbols(i, out);
            }
        }
        _ => {}
    }
}

impl Expander {
    /// `(define-syntax name transformer)`: the name and the macro, defined
    /// in the current environment.
    pub(crate) fn parse_define_syntax(&mut self, d: &Datum) -> Res<(String, Arc<Macro>)> {
        const SYNTAX: &str = "define-syntax: expected (define-syntax name (syntax-rules ...))";
        let items = proper(d, SYNTAX)?;
        let [_, name, spec] = items else {
            return Err(err(d.span, SYNTAX));
        };
        let Some(name) = name.sym() else {
            return Err(err(name.span, SYNTAX));
        };
        let env = self.frames.len();
        let m = self.parse_transformer("define-syntax", name, spec, env)?;
        Ok((name.to_string(), m))
    }

    /// Parses a `(syntax-rules ...)` transformer.
    pub(crate) fn parse_transformer(
        &mut self,
        who: &str,
        name: &str,
        spec: &Datum,
        env: usize,
    ) -> Res<Arc<Macro>> {
        let is_rules =
            matches!(spec.list(), Some([head, ..]) if self.is_keyword(head, "syntax-rules"));
        if !is_rules {
            return Err(err(
                spec.span,
                format!("{who}: only syntax-rules transformers are supported"),
            ));
        }
        const SYNTAX: &str =
            "syntax-rules: expected (syntax-rules (literal ...) (pattern template) ...)";
        let items = spec.list().unwrap_or_default();
        let (ellipsis, rest) = match items.get(1) {
            Some(e) if e.sym().is_some() => (base_name(e.sym().unwrap_or_default()), &items[2..]),
            _ => ("...", &items[1..]),
        };
        let Some((lits, rules)) = rest.split_first() else {
            return Err(err(spec.span, SYNTAX));
        };
        let mut literals = Vec::new();
        for l in proper(lits, SYNTAX)? {
            match l.sym() {
                Some(s) => literals.push(s.to_string()),
                None => {
                    return Err(err(
                        l.span,
                        format!(
                            "syntax-rules: literal must be an identifier, got {}",
                            write_datum(l)
                        ),
                    ))
                }
            }
        }
        let mut m = Macro {
            name: base_name(name).to_string(),
            ellipsis: ellipsis.to_string(),
            literals,
            rules: Vec::new(),
            env,
            top_env: self.current_env,
        };
        for r in rules {
            let Some([pattern, template]) = r.list() else {
                return Err(err(
                    r.span,
                    format!(
                        "syntax-rules: bad rule {}: expected (pattern template)",
                        write_datum(r)
                    ),
                ));
            };
            if !matches!(&pattern.kind, DatumKind::List(items, _) if !items.is_empty()) {
                return Err(err(
                    pattern.span,
                    "syntax-rules: a pattern must be a list starting with the macro keyword",
                ));
            }
            m.check_pattern(pattern)?;
            let mut vars = Vec::new();
            if let DatumKind::List(items, tail) = &pattern.kind {
                for p in items[1..].iter().chain(tail.as_deref()) {
                    m.pattern_vars(p, &mut vars);
                }
            }
            for (i, v) in vars.iter().enumerate() {
                if vars[..i].contains(v) {
                    return Err(err(
                        pattern.span,
                        format!("syntax-rules: duplicate pattern variable {}", base_name(v)),
                    ));
                }
            }
            m.rules.push((pattern.clone(), template.clone()));
        }
        Ok(Arc::new(m))
    }

    pub(crate) fn bind_macro(&mut self, name: &str, m: Arc<Macro>) {
        self.bind(name, Binding::Macro(m));
    }

    /// One expansion step of the macro use `form`.
    pub(crate) fn expand_macro(&mut self, m: &Arc<Macro>, form: &Datum) -> Res<Datum> {
        self.macro_steps += 1;
        if self.macro_steps > MAX_MACRO_STEPS {
            return Err(err(
                form.span,
                format!(
                    "{}: macro expansion does not terminate (more than {MAX_MACRO_STEPS} steps)",
                    m.name
                ),
            ));
        }
        let DatumKind::List(items, tail) = &form.kind else {
            return Err(err(form.span, format!("{}: bad macro use", m.name)));
        };
        for (pattern, template) in &m.rules {
            let DatumKind::List(pitems, ptail) = &pattern.kind else {
                continue;
            };
            let mut binds = Binds::new();
            if !m.match_seq(
                &pitems[1..],
                ptail.as_deref(),
                &items[1..],
                tail.as_deref(),
                form.span,
                &mut binds,
            ) {
                continue;
            }
            let id = self.expansion_env.len();
            self.expansion_env.push((m.env, m.top_env));
            let mut env: Env<'_> = binds.iter().map(|(k, v)| (*k, v)).collect();
            let t = Transcriber {
                m,
                id,
                span: form.span,
                remaining: std::cell::Cell::new(MAX_MACRO_WORK.saturating_sub(self.macro_work)),
            };
            let out = t.transcribe(template, &mut env, false)?;
            self.macro_work = MAX_MACRO_WORK - t.remaining.get();
            check_depth(&out, MAX_DEPTH)?;
            return Ok(out);
        }
        Err(err(
            form.span,
            format!(
                "{}: no syntax-rules pattern matches {}",
                m.name,
                super::print::write_short(form)
            ),
        ))
    }
}
