//! Expression forms: core special forms and the derived forms that expand
//! into them.

use super::{
    base_name, call, call_global, constant, err, global, lambda_expr, local, name_lambda, seq,
    strip_datum, write_datum, Expander, Meaning, Res,
};
use crate::ast::{Expr, ExprKind, LocalId};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::Span;
use std::borrow::Cow;

/// The elements of a proper list form, or the error `msg`.
pub(crate) fn proper<'d>(d: &'d Datum, msg: &str) -> Res<&'d [Datum]> {
    d.list().ok_or_else(|| err(d.span, msg))
}

/// Parses lambda-style formals: `(a b)`, `(a b . rest)` or `args`.
pub(crate) fn parse_formals<'d>(d: &'d Datum, who: &str) -> Res<(&'d [Datum], Option<&'d Datum>)> {
    match &d.kind {
        DatumKind::Symbol(_) => Ok((&[], Some(d))),
        DatumKind::List(items, tail) => {
            let rest = tail.as_deref();
            check_params(items, rest, who)?;
            Ok((items, rest))
        }
        _ => Err(err(
            d.span,
            format!("{who}: bad formals: expected (param ...), (param ... . rest) or a symbol"),
        )),
    }
}

/// Parameters must be distinct identifiers.
pub(crate) fn check_params(params: &[Datum], rest: Option<&Datum>, who: &str) -> Res<()> {
    let all: Vec<&Datum> = params.iter().chain(rest).collect();
    for (i, p) in all.iter().enumerate() {
        let Some(name) = p.sym() else {
            return Err(err(
                p.span,
                format!("{who}: parameter is not an identifier: {}", write_datum(p)),
            ));
        };
        if all[..i].iter().any(|q| q.sym() == Some(name)) {
            return Err(err(
                p.span,
                format!("{who}: duplicate parameter {}", base_name(name)),
            ));
        }
    }
    Ok(())
}

/// `(load "file")` with one literal string: spliced at expansion time
/// when at top level; any other `load` calls the procedure.
pub(crate) fn literal_load(d: &Datum) -> bool {
    matches!(d.list(), Some([_, f]) if matches!(f.kind, DatumKind::Str(_)))
}

/// The error `(syntax-error "message" form ...)` stands for (R7RS 4.3.3).
fn syntax_error(d: &Datum) -> crate::syntax::diag::Diagnostic {
    match d.list() {
        Some([_, msg, args @ ..]) => {
            let mut text = match &msg.kind {
                DatumKind::Str(s) => s.clone(),
                _ => write_datum(&strip_datum(msg)),
            };
            for a in args {
                text.push(' ');
                text.push_str(&write_datum(&strip_datum(a)));
            }
            err(d.span, text)
        }
        _ => err(
            d.span,
            "syntax-error: expected (syntax-error \"message\" form ...)",
        ),
    }
}

/// `(call-with-values (lambda () producer) consumer)`.
pub(crate) fn call_with_values(producer: Expr, consumer: Expr, span: Span) -> Expr {
    let thunk = lambda_expr(None, Vec::new(), None, producer, span);
    call_global("call-with-values", vec![thunk, consumer], span)
}

fn if_expr(c: Expr, t: Expr, e: Expr, span: Span) -> Expr {
    Expr::new(ExprKind::If(Box::new(c), Box::new(t), Box::new(e)), span)
}

fn let_expr(bindings: Vec<(LocalId, Expr)>, body: Expr, span: Span) -> Expr {
    Expr::new(ExprKind::Let(bindings, Box::new(body)), span)
}

fn letrec_expr(bindings: Vec<(LocalId, Expr)>, body: Expr, span: Span) -> Expr {
    Expr::new(ExprKind::Letrec(bindings, Box::new(body)), span)
}

fn void(span: Span) -> Expr {
    Expr::new(ExprKind::Void, span)
}

fn bool_const(b: bool, span: Span) -> Expr {
    constant(Datum::new(DatumKind::Bool(b), span))
}

fn str_const(s: &str, span: Span) -> Expr {
    constant(Datum::new(DatumKind::Str(s.to_string()), span))
}

/// The error for a keyword that has no meaning as an expression.
fn misplaced(kw: &str, span: Span) -> crate::syntax::diag::Diagnostic {
    match kw {
        "unquote" | "unquote-splicing" => err(span, format!("{kw}: not in quasiquote")),
        "define" | "fun" | "define-values" | "define-record-type" | "define-syntax"
        | "define-c-function" => err(span, format!("{kw}: not allowed in an expression context")),
        "import" | "define-library" => err(span, format!("{kw}: only allowed at top level")),
        "syntax-rules" => err(
            span,
            "syntax-rules: only valid as the transformer of define-syntax or let-syntax",
        ),
        _ => err(span, format!("{kw}: misplaced auxiliary syntax")),
    }
}

/// A parsed `(name init)` binding.
struct Bind<'d> {
    name: &'d Datum,
    init: &'d Datum,
}

fn parse_bindings<'d>(d: &'d Datum, who: &str, distinct: bool) -> Res<Vec<Bind<'d>>> {
    let msg = format!("{who}: bindings must be a list of (name expr)");
    let items = proper(d, &msg)?;
    let mut out: Vec<Bind<'d>> = Vec::new();
    for b in items {
        match b.list() {
            Some([name, init]) if name.sym().is_some() => {
                if distinct && out.iter().any(|o| o.name.sym() == name.sym()) {
                    return Err(err(
                        name.span,
                        format!(
                            "{who}: duplicate binding {}",
                            base_name(name.sym().unwrap_or_default())
                        ),
                    ));
                }
                out.push(Bind { name, init });
            }
            _ => {
                return Err(err(
                    b.span,
                    format!(
                        "{who}: bad binding {}: expected (name expr)",
                        write_datum(b)
                    ),
                ))
            }
        }
    }
    Ok(out)
}

impl Expander {
    /// Expands an expression.
    pub(crate) fn expr(&mut self, d: &Datum) -> Res<Expr> {
        self.enter(d.span)?;
        let r = self.expr_inner(d);
        self.depth -= 1;
        r
    }

    /// Expands an expression bound to `name` (names anonymous lambdas).
    pub(crate) fn expr_named(&mut self, d: &Datum, name: &str) -> Res<Expr> {
        let mut e = self.expr(d)?;
        name_lambda(&mut e, name);
        Ok(e)
    }

    fn expr_inner(&mut self, d: &Datum) -> Res<Expr> {
        let mut cur = Cow::Borrowed(d);
        loop {
            let d = &*cur;
            match &d.kind {
                DatumKind::Symbol(s) => return self.variable(s, d.span),
                DatumKind::List(items, _) if !items.is_empty() => {}
                DatumKind::List(..) => return Err(err(d.span, "empty application")),
                _ => return Ok(constant(strip_datum(d))),
            }
            match self.head_meaning(d) {
                Some(Meaning::Special(kw)) => match self.rewrite_form(kw, d) {
                    Some(next) => cur = Cow::Owned(next?),
                    None => return self.special(kw, d),
                },
                Some(Meaning::Macro(m)) => {
                    let next = self.expand_macro(&m, d)?;
                    cur = Cow::Owned(next);
                }
                _ => return self.application(d),
            }
        }
    }

    fn variable(&mut self, name: &str, span: Span) -> Res<Expr> {
        match self.resolve(name) {
            Meaning::Local(id) => Ok(local(id, span)),
            Meaning::Global(g) => Ok(Expr::new(ExprKind::Global(g), span)),
            // `load` is also a procedure (R7RS 6.14): as a value, that.
            Meaning::Special("load") => Ok(Expr::new(ExprKind::Global("load".into()), span)),
            Meaning::Special(kw) => Err(err(
                span,
                format!("{kw}: syntactic keyword used as a variable"),
            )),
            Meaning::Macro(_) => Err(err(
                span,
                format!("{}: macro used as a variable", base_name(name)),
            )),
        }
    }

    #[inline(never)]
    fn application(&mut self, d: &Datum) -> Res<Expr> {
        let items = proper(d, "application: improper argument list")?;
        let f = self.expr(&items[0])?;
        let args = self.exprs(&items[1..])?;
        Ok(call(f, args, d.span))
    }

    pub(crate) fn exprs(&mut self, ds: &[Datum]) -> Res<Vec<Expr>> {
        // A plain loop: iterator adapters would add frames to every level
        // of nested expressions.
        let mut out = Vec::with_capacity(ds.len());
        for d in ds {
            out.push(self.expr(d)?);
        }
        Ok(out)
    }

    /// A non-empty sequence of expressions (no definitions).
    fn sequence(&mut self, ds: &[Datum], span: Span) -> Res<Expr> {
        let es = self.exprs(ds)?;
        Ok(seq(es, span))
    }

    /// Dispatches a special form. Each form has its own non-inlined
    /// function so that this frame, paid at every level of nesting, stays
    /// small.
    fn special(&mut self, kw: &'static str, d: &Datum) -> Res<Expr> {
        let span = d.span;
        match kw {
            "quote" => match d.list() {
                Some([_, x]) => Ok(Expr::new(ExprKind::Const(strip_datum(x)), span)),
                _ => Err(err(span, "quote: expected (quote datum)")),
            },
            "quasiquote" => match d.list() {
                Some([_, x]) => self.quasiquote(x),
                _ => Err(err(span, "quasiquote: expected (quasiquote template)")),
            },
            "lambda" => self.lambda(d),
            "if" => self.if_form(d),
            "set!" => self.set(d),
            "begin" => self.begin(d),
            "let" => self.let_form(d),
            "let*" => self.let_star(d),
            "letrec" | "letrec*" => self.letrec(d, kw),
            "do" => self.do_form(d),
            "cond" => self.cond(d),
            "case" => self.case(d),
            "and" => self.and(d),
            "or" => self.or(d),
            "when" | "unless" => self.when_unless(d, kw),
            "let-values" | "let*-values" => self.let_values(d, kw),
            "receive" => self.receive(d),
            "case-lambda" => self.case_lambda(d),
            "delay" | "delay-force" => self.delay(d, kw),
            "guard" => self.guard(d),
            "parameterize" => self.parameterize(d),
            "reset" => self.reset(d),
            "shift" => self.shift(d),
            "c-function" => self.c_function(d),
            "let-syntax" | "letrec-syntax" => self.let_syntax(d, kw),
            "load" => self.load_call(d),
            "syntax-error" => Err(syntax_error(d)),
            _ => Err(misplaced(kw, span)),
        }
    }

    /// `(load file [environment])` as a call of the procedure `load`
    /// (docs/libraries.md).
    #[inline(never)]
    fn load_call(&mut self, d: &Datum) -> Res<Expr> {
        let items = proper(d, "load: expected (load file [environment])")?;
        if !(2..=3).contains(&items.len()) {
            return Err(err(d.span, "load: expected (load file [environment])"));
        }
        let args = self.exprs(&items[1..])?;
        Ok(call(global("load", d.span), args, d.span))
    }

    #[inline(never)]
    fn lambda(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "lambda: expected (lambda formals body ...)";
        let items = proper(d, SYNTAX)?;
        if items.len() < 2 {
            return Err(err(d.span, SYNTAX));
        }
        let (params, rest) = parse_formals(&items[1], "lambda")?;
        self.lambda_form(None, params, rest, &items[2..], d.span)
    }

    #[inline(never)]
    fn if_form(&mut self, d: &Datum) -> Res<Expr> {
        let span = d.span;
        match d.list() {
            Some([_, c, t]) => {
                let c = self.expr(c)?;
                let t = self.expr(t)?;
                Ok(if_expr(c, t, void(span), span))
            }
            Some([_, c, t, e]) => {
                let c = self.expr(c)?;
                let t = self.expr(t)?;
                let e = self.expr(e)?;
                Ok(if_expr(c, t, e, span))
            }
            _ => Err(err(span, "if: expected (if test then [else])")),
        }
    }

    #[inline(never)]
    fn begin(&mut self, d: &Datum) -> Res<Expr> {
        let items = proper(d, "begin: expected (begin expr ...)")?;
        if items.len() < 2 {
            return Err(err(d.span, "begin: expected at least one expression"));
        }
        self.sequence(&items[1..], d.span)
    }

    #[inline(never)]
    fn when_unless(&mut self, d: &Datum, kw: &str) -> Res<Expr> {
        let span = d.span;
        let msg = format!("{kw}: expected ({kw} test expr ...)");
        let items = proper(d, &msg)?;
        if items.len() < 3 {
            return Err(err(span, msg));
        }
        let test = self.expr(&items[1])?;
        let body = self.sequence(&items[2..], span)?;
        Ok(if kw == "when" {
            if_expr(test, body, void(span), span)
        } else {
            if_expr(test, void(span), body, span)
        })
    }

    /// `(delay e)` is `(%delay (lambda () e))`, `(delay-force e)` is
    /// `(%delay-force (lambda () e))`: promises themselves are the
    /// prelude's business.
    #[inline(never)]
    fn delay(&mut self, d: &Datum, kw: &str) -> Res<Expr> {
        let span = d.span;
        match d.list() {
            Some([_, x]) => {
                let body = self.expr(x)?;
                let thunk = lambda_expr(None, Vec::new(), None, body, span);
                let helper = if kw == "delay" {
                    "%delay"
                } else {
                    "%delay-force"
                };
                Ok(call_global(helper, vec![thunk], span))
            }
            _ => Err(err(span, format!("{kw}: expected ({kw} expr)"))),
        }
    }

    /// `(lambda formals body...)` once the formals are checked.
    pub(crate) fn lambda_form(
        &mut self,
        name: Option<String>,
        params: &[Datum],
        rest: Option<&Datum>,
        body: &[Datum],
        span: Span,
    ) -> Res<Expr> {
        self.push_frame();
        let ids: Vec<LocalId> = params
            .iter()
            .map(|p| self.bind_local(p.sym().unwrap_or_default()))
            .collect();
        let rest_id = rest.map(|r| self.bind_local(r.sym().unwrap_or_default()));
        let body = self.body(body, span)?;
        self.pop_frame();
        Ok(lambda_expr(name, ids, rest_id, body, span))
    }

    #[inline(never)]
    fn set(&mut self, d: &Datum) -> Res<Expr> {
        let span = d.span;
        let Some([_, target, value]) = d.list() else {
            return Err(err(span, "set!: expected (set! variable expr)"));
        };
        let Some(name) = target.sym() else {
            return Err(err(
                target.span,
                format!(
                    "set!: expected a variable name, got {}",
                    write_datum(target)
                ),
            ));
        };
        match self.resolve(name) {
            Meaning::Local(id) => {
                let v = self.expr_named(value, name)?;
                self.mark_assigned(id);
                Ok(Expr::new(ExprKind::SetLocal(id, Box::new(v)), span))
            }
            Meaning::Global(g) => {
                let v = self.expr_named(value, name)?;
                Ok(Expr::new(ExprKind::SetGlobal(g, Box::new(v)), span))
            }
            Meaning::Special(_) | Meaning::Macro(_) => Err(err(
                target.span,
                format!(
                    "set!: cannot assign to syntactic keyword {}",
                    base_name(name)
                ),
            )),
        }
    }

    #[inline(never)]
    fn let_form(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "let: expected (let ((name expr) ...) body ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() >= 2 && items[1].sym().is_some() {
            return self.named_let(d, items);
        }
        if items.len() < 2 {
            return Err(err(span, SYNTAX));
        }
        let binds = parse_bindings(&items[1], "let", true)?;
        let mut inits = Vec::new();
        for b in &binds {
            inits.push(self.expr_named(b.init, b.name.sym().unwrap_or_default())?);
        }
        self.push_frame();
        let ids: Vec<LocalId> = binds
            .iter()
            .map(|b| self.bind_local(b.name.sym().unwrap_or_default()))
            .collect();
        let body = self.body(&items[2..], span)?;
        self.pop_frame();
        if ids.is_empty() {
            return Ok(body);
        }
        Ok(let_expr(ids.into_iter().zip(inits).collect(), body, span))
    }

    #[inline(never)]
    /// `(let loop ((v init) ...) body...)`: the inits are expanded outside
    /// the scope of `loop`, so `Letrec` + call is exact.
    fn named_let(&mut self, d: &Datum, items: &[Datum]) -> Res<Expr> {
        let span = d.span;
        if items.len() < 3 {
            return Err(err(
                span,
                "let: expected (let name ((name expr) ...) body ...)",
            ));
        }
        let name = items[1].sym().unwrap_or_default();
        let binds = parse_bindings(&items[2], "let", true)?;
        let mut inits = Vec::new();
        for b in &binds {
            inits.push(self.expr_named(b.init, b.name.sym().unwrap_or_default())?);
        }
        self.push_frame();
        let loop_id = self.bind_local(name);
        let params: Vec<Datum> = binds.iter().map(|b| b.name.clone()).collect();
        let lambda = self.lambda_form(
            Some(base_name(name).to_string()),
            &params,
            None,
            &items[3..],
            span,
        )?;
        self.pop_frame();
        let start = call(local(loop_id, items[1].span), inits, span);
        Ok(letrec_expr(vec![(loop_id, lambda)], start, span))
    }

    #[inline(never)]
    fn let_star(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "let*: expected (let* ((name expr) ...) body ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() < 2 {
            return Err(err(span, SYNTAX));
        }
        let binds = parse_bindings(&items[1], "let*", false)?;
        let mut done = Vec::new();
        for b in &binds {
            let name = b.name.sym().unwrap_or_default();
            let init = self.expr_named(b.init, name)?;
            self.push_frame();
            done.push((self.bind_local(name), init));
        }
        if done.is_empty() {
            self.push_frame();
        }
        let mut body = self.body(&items[2..], span)?;
        for _ in 0..done.len().max(1) {
            self.pop_frame();
        }
        while let Some(b) = done.pop() {
            body = let_expr(vec![b], body, span);
        }
        Ok(body)
    }

    #[inline(never)]
    fn letrec(&mut self, d: &Datum, kw: &str) -> Res<Expr> {
        let msg = format!("{kw}: expected ({kw} ((name expr) ...) body ...)");
        let span = d.span;
        let items = proper(d, &msg)?;
        if items.len() < 2 {
            return Err(err(span, msg));
        }
        let binds = parse_bindings(&items[1], kw, true)?;
        self.push_frame();
        let ids: Vec<LocalId> = binds
            .iter()
            .map(|b| self.bind_local(b.name.sym().unwrap_or_default()))
            .collect();
        let mut bindings = Vec::new();
        for (b, id) in binds.iter().zip(ids) {
            bindings.push((
                id,
                self.expr_named(b.init, b.name.sym().unwrap_or_default())?,
            ));
        }
        let body = self.body(&items[2..], span)?;
        self.pop_frame();
        Ok(letrec_expr(bindings, body, span))
    }

    #[inline(never)]
    /// `(do ((var init [step]) ...) (test res ...) command ...)` as a loop
    /// procedure: `(letrec ((loop (lambda (var ...) (if test (begin res
    /// ...) (begin command ... (loop step ...)))))) (loop init ...))`.
    fn do_form(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str =
            "do: expected (do ((var init [step]) ...) (test expr ...) command ...)";
        let span = d.span;
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 {
            return Err(err(span, SYNTAX));
        }
        let specs = proper(&items[1], SYNTAX)?;
        let mut vars: Vec<(&Datum, &Datum, Option<&Datum>)> = Vec::new();
        for s in specs {
            match s.list() {
                Some([v, init]) if v.sym().is_some() => vars.push((v, init, None)),
                Some([v, init, step]) if v.sym().is_some() => vars.push((v, init, Some(step))),
                _ => {
                    return Err(err(
                        s.span,
                        format!(
                            "do: bad variable clause {}: expected (var init [step])",
                            write_datum(s)
                        ),
                    ))
                }
            }
            let (v, ..) = vars[vars.len() - 1];
            if vars[..vars.len() - 1]
                .iter()
                .any(|(w, ..)| w.sym() == v.sym())
            {
                return Err(err(
                    v.span,
                    format!(
                        "do: duplicate variable {}",
                        base_name(v.sym().unwrap_or_default())
                    ),
                ));
            }
        }
        let exit = match items[2].list() {
            Some(e) if !e.is_empty() => e,
            _ => return Err(err(items[2].span, "do: expected a (test expr ...) clause")),
        };
        let mut inits = Vec::new();
        for (v, init, _) in &vars {
            inits.push(self.expr_named(init, v.sym().unwrap_or_default())?);
        }
        let loop_id = self.fresh_local("do-loop");
        self.push_frame();
        let params: Vec<LocalId> = vars
            .iter()
            .map(|(v, ..)| self.bind_local(v.sym().unwrap_or_default()))
            .collect();
        let test = self.expr(&exit[0])?;
        let result = if exit.len() > 1 {
            self.sequence(&exit[1..], items[2].span)?
        } else {
            void(items[2].span)
        };
        let mut commands = self.exprs(&items[3..])?;
        let mut steps = Vec::new();
        for ((v, _, step), id) in vars.iter().zip(&params) {
            steps.push(match step {
                Some(s) => self.expr(s)?,
                None => local(*id, v.span),
            });
        }
        self.pop_frame();
        commands.push(call(local(loop_id, span), steps, span));
        let body = if_expr(test, result, seq(commands, span), span);
        let lambda = lambda_expr(Some("do-loop".to_string()), params, None, body, span);
        let start = call(local(loop_id, span), inits, span);
        Ok(letrec_expr(vec![(loop_id, lambda)], start, span))
    }

    #[inline(never)]
    fn cond(&mut self, d: &Datum) -> Res<Expr> {
        enum Clause {
            Else(Expr),
            Test(Expr, Expr),
            Value(Expr),
            Arrow(Expr, Expr),
        }
        let span = d.span;
        let items = proper(d, "cond: expected (cond clause ...)")?;
        let mut clauses = Vec::new();
        for (i, c) in items.iter().enumerate().skip(1) {
            let parts = match c.list() {
                Some(p) if !p.is_empty() => p,
                _ => {
                    return Err(err(
                        c.span,
                        format!(
                            "cond: bad clause {}: expected (test expr ...)",
                            write_datum(c)
                        ),
                    ))
                }
            };
            if self.is_keyword(&parts[0], "else") {
                if i + 1 != items.len() {
                    return Err(err(c.span, "cond: else clause must be last"));
                }
                if parts.len() < 2 {
                    return Err(err(c.span, "cond: else clause needs an expression"));
                }
                if parts.len() == 3 && self.is_keyword(&parts[1], "=>") {
                    return Err(err(c.span, "cond: => is not allowed in an else clause"));
                }
                clauses.push(Clause::Else(self.sequence(&parts[1..], c.span)?));
            } else if parts.len() >= 2 && self.is_keyword(&parts[1], "=>") {
                if parts.len() != 3 {
                    return Err(err(c.span, "cond: expected (test => receiver)"));
                }
                let test = self.expr(&parts[0])?;
                let receiver = self.expr(&parts[2])?;
                clauses.push(Clause::Arrow(test, receiver));
            } else if parts.len() == 1 {
                clauses.push(Clause::Value(self.expr(&parts[0])?));
            } else {
                let test = self.expr(&parts[0])?;
                let body = self.sequence(&parts[1..], c.span)?;
                clauses.push(Clause::Test(test, body));
            }
        }
        let mut acc = void(span);
        while let Some(c) = clauses.pop() {
            acc = match c {
                Clause::Else(e) => e,
                Clause::Test(t, body) => if_expr(t, body, acc, span),
                Clause::Value(t) => {
                    let tmp = self.fresh_local("tmp");
                    let s = t.span;
                    let test = if_expr(local(tmp, s), local(tmp, s), acc, span);
                    let_expr(vec![(tmp, t)], test, span)
                }
                Clause::Arrow(t, f) => {
                    let tmp = self.fresh_local("tmp");
                    let s = t.span;
                    let fs = f.span;
                    let apply = call(f, vec![local(tmp, s)], fs);
                    let test = if_expr(local(tmp, s), apply, acc, span);
                    let_expr(vec![(tmp, t)], test, span)
                }
            };
        }
        Ok(acc)
    }

    #[inline(never)]
    fn case(&mut self, d: &Datum) -> Res<Expr> {
        enum Body {
            Seq(Expr),
            Arrow(Expr),
        }
        let span = d.span;
        let items = proper(d, "case: expected (case key clause ...)")?;
        if items.len() < 2 {
            return Err(err(span, "case: expected (case key clause ...)"));
        }
        let key = self.expr(&items[1])?;
        let tmp = self.fresh_local("key");
        let mut clauses: Vec<(Option<&[Datum]>, Body, Span)> = Vec::new();
        for (i, c) in items.iter().enumerate().skip(2) {
            let parts = match c.list() {
                Some(p) if p.len() >= 2 => p,
                _ => {
                    return Err(err(
                        c.span,
                        format!(
                            "case: bad clause {}: expected ((datum ...) expr ...)",
                            write_datum(c)
                        ),
                    ))
                }
            };
            let data = if self.is_keyword(&parts[0], "else") {
                if i + 1 != items.len() {
                    return Err(err(c.span, "case: else clause must be last"));
                }
                None
            } else {
                match parts[0].list() {
                    Some(data) => Some(data),
                    None => {
                        return Err(err(
                            parts[0].span,
                            "case: clause data must be a list (datum ...)",
                        ))
                    }
                }
            };
            let body = if self.is_keyword(&parts[1], "=>") {
                if parts.len() != 3 {
                    return Err(err(c.span, "case: expected (data => receiver)"));
                }
                Body::Arrow(self.expr(&parts[2])?)
            } else {
                Body::Seq(self.sequence(&parts[1..], c.span)?)
            };
            clauses.push((data, body, c.span));
        }
        let mut acc = void(span);
        while let Some((data, body, cspan)) = clauses.pop() {
            let body = match body {
                Body::Seq(e) => e,
                Body::Arrow(f) => {
                    let fs = f.span;
                    call(f, vec![local(tmp, cspan)], fs)
                }
            };
            acc = match data {
                None => body,
                // No datum: the clause can never be chosen.
                Some([]) => acc,
                Some(data) => {
                    let test = match data {
                        [one] => call_global(
                            "eqv?",
                            vec![local(tmp, cspan), constant(strip_datum(one))],
                            cspan,
                        ),
                        many => {
                            let list = Datum::new(
                                DatumKind::List(many.iter().map(strip_datum).collect(), None),
                                cspan,
                            );
                            call_global("memv", vec![local(tmp, cspan), constant(list)], cspan)
                        }
                    };
                    if_expr(test, body, acc, cspan)
                }
            };
        }
        Ok(let_expr(vec![(tmp, key)], acc, span))
    }

    #[inline(never)]
    fn and(&mut self, d: &Datum) -> Res<Expr> {
        let items = proper(d, "and: expected (and expr ...)")?;
        let mut es = self.exprs(&items[1..])?;
        let Some(mut acc) = es.pop() else {
            return Ok(bool_const(true, d.span));
        };
        while let Some(e) = es.pop() {
            acc = if_expr(e, acc, bool_const(false, d.span), d.span);
        }
        Ok(acc)
    }

    #[inline(never)]
    fn or(&mut self, d: &Datum) -> Res<Expr> {
        let items = proper(d, "or: expected (or expr ...)")?;
        let mut es = self.exprs(&items[1..])?;
        let Some(mut acc) = es.pop() else {
            return Ok(bool_const(false, d.span));
        };
        while let Some(e) = es.pop() {
            let tmp = self.fresh_local("tmp");
            let s = e.span;
            let test = if_expr(local(tmp, s), local(tmp, s), acc, d.span);
            acc = let_expr(vec![(tmp, e)], test, d.span);
        }
        Ok(acc)
    }

    #[inline(never)]
    /// `let-values` / `let*-values` through `call-with-values`, one nested
    /// consumer lambda per binding.
    fn let_values(&mut self, d: &Datum, kw: &str) -> Res<Expr> {
        let msg = format!("{kw}: expected ({kw} ((formals expr) ...) body ...)");
        let span = d.span;
        let items = proper(d, &msg)?;
        if items.len() < 2 {
            return Err(err(span, msg));
        }
        let binds = proper(&items[1], &msg)?;
        let sequential = kw == "let*-values";
        let mut parsed = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for b in binds {
            let Some([formals, init]) = b.list() else {
                return Err(err(
                    b.span,
                    format!(
                        "{kw}: bad binding {}: expected (formals expr)",
                        write_datum(b)
                    ),
                ));
            };
            let (params, rest) = parse_formals(formals, kw)?;
            if !sequential {
                for p in params.iter().chain(rest) {
                    let name = p.sym().unwrap_or_default();
                    if seen.contains(&name) {
                        return Err(err(
                            p.span,
                            format!("{kw}: duplicate binding {}", base_name(name)),
                        ));
                    }
                    seen.push(name);
                }
            }
            parsed.push((params, rest, init, b.span));
        }
        // For let-values every init is expanded in the outer scope first.
        let mut inits = Vec::new();
        if !sequential {
            for (.., init, _) in &parsed {
                inits.push(Some(self.expr(init)?));
            }
        }
        let mut layers = Vec::new();
        for (i, (params, rest, init, bspan)) in parsed.iter().enumerate() {
            let producer = match inits.get_mut(i).and_then(Option::take) {
                Some(e) => e,
                None => self.expr(init)?,
            };
            self.push_frame();
            let ids: Vec<LocalId> = params
                .iter()
                .map(|p| self.bind_local(p.sym().unwrap_or_default()))
                .collect();
            let rest_id = rest.map(|r| self.bind_local(r.sym().unwrap_or_default()));
            layers.push((producer, ids, rest_id, *bspan));
        }
        if layers.is_empty() {
            self.push_frame();
        }
        let mut body = self.body(&items[2..], span)?;
        for _ in 0..layers.len().max(1) {
            self.pop_frame();
        }
        while let Some((producer, ids, rest_id, bspan)) = layers.pop() {
            let consumer = lambda_expr(None, ids, rest_id, body, bspan);
            body = call_with_values(producer, consumer, bspan);
        }
        Ok(body)
    }

    #[inline(never)]
    /// `(receive formals expr body ...)`.
    fn receive(&mut self, d: &Datum) -> Res<Expr> {
        const SYNTAX: &str = "receive: expected (receive formals expr body ...)";
        let items = proper(d, SYNTAX)?;
        if items.len() < 3 {
            return Err(err(d.span, SYNTAX));
        }
        let (params, rest) = parse_formals(&items[1], "receive")?;
        let producer = self.expr(&items[2])?;
        let consumer = self.lambda_form(None, params, rest, &items[3..], d.span)?;
        Ok(call_with_values(producer, consumer, d.span))
    }

    #[inline(never)]
    /// `(case-lambda (formals body ...) ...)`: each clause becomes a
    /// procedure; a variadic dispatcher picks the first clause whose arity
    /// accepts `(length args)` and applies it.
    fn case_lambda(&mut self, d: &Datum) -> Res<Expr> {
        let span = d.span;
        let items = proper(
            d,
            "case-lambda: expected (case-lambda (formals body ...) ...)",
        )?;
        let mut procs = Vec::new();
        for c in &items[1..] {
            let parts = match c.list() {
                Some(p) if !p.is_empty() => p,
                _ => {
                    return Err(err(
                        c.span,
                        format!(
                            "case-lambda: bad clause {}: expected (formals body ...)",
                            write_datum(c)
                        ),
                    ))
                }
            };
            let (params, rest) = parse_formals(&parts[0], "case-lambda")?;
            let lambda = self.lambda_form(None, params, rest, &parts[1..], c.span)?;
            let id = self.fresh_local("clause");
            procs.push((id, lambda, params.len(), rest.is_some(), c.span));
        }
        let args = self.fresh_local("args");
        let n = self.fresh_local("n");
        let mut acc = call_global(
            "error",
            vec![
                str_const("case-lambda: no clause accepts the arguments", span),
                local(args, span),
            ],
            span,
        );
        for (id, _, count, variadic, cspan) in procs.iter().rev() {
            let k = constant(Datum::new(DatumKind::Int(*count as i64), *cspan));
            let test = call_global(
                if *variadic { ">=" } else { "=" },
                vec![local(n, *cspan), k],
                *cspan,
            );
            let apply = call_global(
                "apply",
                vec![local(*id, *cspan), local(args, *cspan)],
                *cspan,
            );
            acc = if_expr(test, apply, acc, *cspan);
        }
        let count = call_global("length", vec![local(args, span)], span);
        let dispatch = let_expr(vec![(n, count)], acc, span);
        let dispatcher = lambda_expr(None, Vec::new(), Some(args), dispatch, span);
        let bindings = procs.into_iter().map(|(id, l, ..)| (id, l)).collect();
        Ok(let_expr(bindings, dispatcher, span))
    }

    #[inline(never)]
    /// `let-syntax` (macros see the outer scope) and `letrec-syntax`
    /// (macros also see each other).
    fn let_syntax(&mut self, d: &Datum, kw: &str) -> Res<Expr> {
        let msg = format!("{kw}: expected ({kw} ((name (syntax-rules ...)) ...) body ...)");
        let span = d.span;
        let items = proper(d, &msg)?;
        if items.len() < 2 {
            return Err(err(span, msg));
        }
        let binds = parse_bindings(&items[1], kw, true)?;
        let recursive = kw == "letrec-syntax";
        let outer_env = self.frames.len();
        self.push_frame();
        let env = if recursive {
            self.frames.len()
        } else {
            outer_env
        };
        let mut macros = Vec::new();
        for b in &binds {
            let name = b.name.sym().unwrap_or_default();
            macros.push((name, self.parse_transformer(kw, name, b.init, env)?));
        }
        for (name, m) in macros {
            self.bind_macro(name, m);
        }
        let body = self.body(&items[2..], span)?;
        self.pop_frame();
        Ok(body)
    }
}
