//! Core AST -> interpreter tree. Resolves every lexical variable to a
//! (depth, slot) address: each lambda invocation gets one heap frame
//! `[parent, slot...]` holding its parameters and every `let`/`letrec`
//! variable of its body (not of nested lambdas). Without re-entrant
//! continuations a body runs at most once per frame, so one frame per
//! invocation gives each binding a fresh location.

use super::{consts, LambdaCode, Node};
use crate::ast::{Expr, ExprKind, Lambda, LocalId, TopLevel};
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::{SourceMap, Span};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use valk_runtime::backtrace::{Site, SITE_HIDDEN, SITE_LIBRARY, SITE_TOPLEVEL};
use valk_runtime::globals;
use valk_runtime::value::{ProcInfo, Value};

struct FrameScope {
    slots: HashMap<LocalId, u32>,
    size: u32,
    /// The free variables of the lambda owning this frame: (local, depth,
    /// slot) from its closure's environment (`LambdaCode::free`).
    free: Vec<(u32, u32, u32)>,
}

struct Compiler<'a> {
    top: &'a TopLevel,
    /// Resolves spans for backtrace sites (`None`: sites have no position).
    sources: Option<&'a SourceMap>,
    /// The procedure being compiled (`None`: top-level code), for sites.
    procs: Vec<Option<&'static str>>,
    /// The procedure being compiled is expander glue (`Lambda::is_glue`):
    /// its sites are hidden.
    glue: bool,
    frames: Vec<FrameScope>,
    /// Locals bound by `letrec`: reads check for the unassigned marker.
    letrec_bound: HashSet<LocalId>,
    /// The call counter shared by the form's lambdas (`LambdaCode::hot`).
    hot: &'static Cell<u32>,
}

/// Compiles a top-level form. Returns the tree and the size of the frame
/// the form's own (non-lambda) locals need.
pub fn compile_toplevel(top: &TopLevel, sources: Option<&SourceMap>) -> (&'static Node, u32) {
    let mut c = Compiler {
        top,
        sources,
        procs: vec![None],
        glue: false,
        frames: vec![FrameScope {
            slots: HashMap::new(),
            size: 0,
            free: Vec::new(),
        }],
        letrec_bound: HashSet::new(),
        hot: Box::leak(Box::new(Cell::new(0))),
    };
    let node = c.expr(&top.body);
    let size = c.frames[0].size;
    (Box::leak(Box::new(node)), size)
}

impl Compiler<'_> {
    fn bind(&mut self, id: LocalId) -> u32 {
        let f = self.frames.last_mut().unwrap();
        let slot = f.size;
        f.size += 1;
        f.slots.insert(id, slot);
        slot
    }

    fn resolve(&mut self, id: LocalId) -> (u32, u32) {
        let found = self
            .frames
            .iter()
            .rev()
            .enumerate()
            .find_map(|(depth, f)| f.slots.get(&id).map(|&slot| (depth, slot)));
        if let Some((depth, slot)) = found {
            // Free in the `depth` innermost lambdas.
            let n = self.frames.len();
            for k in 0..depth {
                let free = &mut self.frames[n - 1 - k].free;
                if !free.iter().any(|&(v, _, _)| v == id.0) {
                    free.push((id.0, (depth - k - 1) as u32, slot));
                }
            }
            return (depth as u32, slot);
        }
        // The expander only produces bound locals.
        unreachable!("unbound local {:?}", id)
    }

    fn expr(&mut self, e: &Expr) -> Node {
        match &e.kind {
            ExprKind::Const(d) => constant(d),
            ExprKind::Void => Node::Imm(Value::UNSPECIFIED),
            ExprKind::Local(id) => {
                let (depth, slot) = self.resolve(*id);
                if self.letrec_bound.contains(id) {
                    Node::LocalChecked(depth, slot, self.name(*id))
                } else {
                    Node::Local(depth, slot)
                }
            }
            ExprKind::Global(name) => {
                Node::Global(globals::global_id(name), e.span, self.site(e.span, ""))
            }
            ExprKind::SetLocal(id, v) => {
                let (depth, slot) = self.resolve(*id);
                Node::SetLocal(depth, slot, Box::new(self.expr(v)))
            }
            ExprKind::SetGlobal(name, v) => Node::SetGlobal(
                globals::global_id(name),
                Box::new(self.expr(v)),
                e.span,
                self.site(e.span, ""),
            ),
            ExprKind::DefineGlobal(name, v) => {
                Node::Define(globals::global_id(name), Box::new(self.expr(v)))
            }
            ExprKind::If(c, t, f) => Node::If(
                Box::new(self.expr(c)),
                Box::new(self.expr(t)),
                Box::new(self.expr(f)),
            ),
            ExprKind::Lambda(l) => Node::Lambda(self.lambda(l, e.span)),
            ExprKind::Call(f, args) => {
                let callee = match &f.kind {
                    ExprKind::Global(name) => name.as_str(),
                    _ => "",
                };
                let site = self.site(e.span, callee);
                Node::Call(
                    Box::new(self.expr(f)),
                    args.iter().map(|a| self.expr(a)).collect(),
                    site,
                )
            }
            ExprKind::Seq(es) => Node::Seq(es.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Let(binds, body) => {
                let inits: Vec<Node> = binds.iter().map(|(_, x)| self.expr(x)).collect();
                let slots: Vec<u32> = binds.iter().map(|(id, _)| self.bind(*id)).collect();
                let body = self.expr(body);
                Node::Let(slots.into_iter().zip(inits).collect(), Box::new(body))
            }
            ExprKind::Letrec(binds, body) => {
                let slots: Vec<u32> = binds
                    .iter()
                    .map(|(id, _)| {
                        self.letrec_bound.insert(*id);
                        self.bind(*id)
                    })
                    .collect();
                let inits: Vec<Node> = binds.iter().map(|(_, x)| self.expr(x)).collect();
                let body = self.expr(body);
                Node::Letrec(slots.into_iter().zip(inits).collect(), Box::new(body))
            }
        }
    }

    fn name(&self, id: LocalId) -> &'static str {
        Box::leak(self.top.locals[id.0 as usize].name.clone().into_boxed_str())
    }

    fn lambda(&mut self, l: &Lambda, span: Span) -> &'static LambdaCode {
        self.frames.push(FrameScope {
            slots: HashMap::new(),
            size: 0,
            free: Vec::new(),
        });
        for p in &l.params {
            self.bind(*p);
        }
        if let Some(r) = l.rest {
            self.bind(r);
        }
        let name: Option<&'static str> = l.name.as_deref().map(intern);
        self.procs.push(Some(name.unwrap_or("")));
        let glue = std::mem::replace(&mut self.glue, l.is_glue());
        // Before its first call an activation is the procedure without a
        // position, as compiled code's prologue reports it.
        let entry_site = self.site_at(Some(span), "", false);
        let body = self.expr(&l.body);
        self.procs.pop();
        self.glue = glue;
        let frame = self.frames.pop().unwrap();
        // Room for the compiled closure of an upgrade (`upgrade` in
        // `mod.rs`): at most one capture per free variable.
        let pad = if super::pad_closures() {
            frame.free.len() as u32
        } else {
            0
        };
        let free_frame: Box<[bool]> = frame
            .free
            .iter()
            .map(|&(id, _, _)| self.top.locals[id as usize].assigned)
            .collect();
        let code = Box::leak(Box::new(LambdaCode {
            required: l.params.len() as u32,
            rest: l.rest.is_some(),
            frame_size: frame.size,
            body,
            name,
            entry_site,
            hot: self.hot,
            free: frame.free.into_boxed_slice(),
            loop_factory: Cell::new(None),
            closure_factory: Cell::new(None),
            pad,
            free_frame,
            info: ProcInfo {
                name: name.map_or(std::ptr::null(), |n| n.as_ptr()),
                name_len: name.map_or(0, |n| n.len()),
                required: l.params.len() as u32,
                optional: 0,
                rest: l.rest.is_some() as u32,
                data: 0,
            },
        }));
        code.info.data = code as *const LambdaCode as usize;
        code
    }
}

/// Interned text for sites (names and files repeat).
fn intern(s: &str) -> &'static str {
    thread_local! {
        static TEXTS: RefCell<HashSet<&'static str>> = RefCell::new(HashSet::new());
    }
    TEXTS.with(|t| {
        let mut t = t.borrow_mut();
        match t.get(s) {
            Some(&x) => x,
            None => {
                let x: &'static str = Box::leak(s.to_string().into_boxed_str());
                t.insert(x);
                x
            }
        }
    })
}

impl Compiler<'_> {
    /// The backtrace site of a call (or global reference) at `span` in the
    /// procedure being compiled; `callee`: the global its operator names.
    fn site(&self, span: Span, callee: &str) -> &'static Site {
        self.site_at(Some(span), callee, true)
    }

    fn site_at(&self, span: Option<Span>, callee: &str, position: bool) -> &'static Site {
        let proc = *self.procs.last().expect("procedure stack");
        let mut flags = if proc.is_none() { SITE_TOPLEVEL } else { 0 };
        if self.glue {
            flags |= SITE_HIDDEN;
        }
        let (file, line, col) = match (span, self.sources) {
            (Some(span), Some(sources)) if (span.file.0 as usize) < sources.files().len() => {
                let f = sources.get(span.file);
                if f.name == crate::prelude::NAME {
                    flags |= SITE_LIBRARY;
                }
                let (line, col) = f.line_col(span.start);
                if position {
                    (intern(&f.name), line, col)
                } else {
                    ("", 0, 0)
                }
            }
            _ => ("", 0, 0),
        };
        let site = Box::leak(Box::new(Site::new(
            proc.unwrap_or(""),
            file,
            line,
            col,
            intern(callee),
            flags,
        )));
        valk_runtime::backtrace::note_library_site(site);
        site
    }
}

/// Immediate constants stay in the tree; heap constants go to the rooted
/// constant table.
fn constant(d: &Datum) -> Node {
    match &d.kind {
        DatumKind::Int(n) => Node::Imm(Value::fixnum(*n)),
        DatumKind::Bool(b) => Node::Imm(Value::bool(*b)),
        DatumKind::Char(c) => Node::Imm(Value::char(*c)),
        DatumKind::List(items, None) if items.is_empty() => Node::Imm(Value::NIL),
        _ => Node::Const(consts::add(super::datum_to_value(d))),
    }
}
