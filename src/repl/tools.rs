//! The REPL's inspection commands: `,describe`, `,apropos`, `,trace`,
//! `,untrace`, `,profile` and `,disasm` (docs/repl.md, "Tools").
//!
//! Tracing and profiling replace a global's value with a wrapper written
//! in Valk (helpers defined in the session on first use, named `%repl-...`
//! so completion hides them). Globals are value cells that compiled code
//! reads at every call (docs/jit.md), so a wrapper is seen by callers
//! whichever engine compiled them.

use crate::driver::{Failure, Session};
use crate::expand::TopKind;
use crate::syntax::datum::{Datum, DatumKind};
use crate::syntax::source::SourceMap;
use std::collections::{BTreeMap, HashMap};
use valk_runtime::value::ObjType;
use valk_runtime::{builtins, globals, object, printer, Value};

/// Where a global was defined, and its docstring.
struct DefInfo {
    location: String,
    doc: Option<String>,
}

/// The session's knowledge beyond what the runtime keeps.
#[derive(Default)]
pub struct Tools {
    /// Definitions made at the REPL or by `,load`, by name.
    defs: HashMap<String, DefInfo>,
    /// The trace and profile helpers are defined in the session.
    helpers: bool,
}

/// Helpers for `,trace` and `,profile`. They call builtins only, so that
/// tracing a procedure of the prelude cannot make them recurse.
const HELPERS: &str = r#"
(define %repl-trace-depth 0)
(define %repl-traced '())
(define (%repl-trace-prefix d)
  (if (< d 10)
      (let loop ((i 0))
        (if (<= i d)
            (begin (display (if (= (remainder i 2) 0) "|" " ")) (loop (+ i 1)))))
      (begin (display "|[") (display d) (display "]"))))
(define (%repl-trace-blank d)
  (let loop ((i 0))
    (if (<= i (if (< d 10) d 4)) (begin (display " ") (loop (+ i 1))))))
(define (%repl-trace-install name proc)
  (define wrapper
    (lambda args
      (let ((d %repl-trace-depth))
        (%repl-trace-prefix d)
        (write (cons name args))
        (newline)
        (call-with-values
          (lambda ()
            (dynamic-wind
              (lambda () (set! %repl-trace-depth (+ d 1)))
              (lambda () (apply proc args))
              (lambda () (set! %repl-trace-depth d))))
          (lambda results
            (%repl-trace-prefix d)
            (if (pair? results)
                (begin
                  (write (car results))
                  (let loop ((r (cdr results)))
                    (if (pair? r)
                        (begin (newline) (%repl-trace-blank d) (write (car r)) (loop (cdr r)))))))
            (newline)
            (apply values results))))))
  (set! %repl-traced (cons (cons name (cons proc wrapper)) %repl-traced))
  wrapper)
(define (%repl-untrace name current)
  (let loop ((l %repl-traced) (kept '()) (result current))
    (if (pair? l)
        (if (eq? (car (car l)) name)
            (loop (cdr l) kept
                  (if (eq? current (cdr (cdr (car l)))) (car (cdr (car l))) result))
            (loop (cdr l) (cons (car l) kept) result))
        (begin (set! %repl-traced kept) result))))
(define %repl-counts (vector))
(define %repl-originals (vector))
(define %repl-wrappers (vector))
(define (%repl-count i proc)
  (lambda args
    (vector-set! %repl-counts i (+ 1 (vector-ref %repl-counts i)))
    (apply proc args)))
"#;

impl Tools {
    /// Notes the definitions among `datums` (REPL input or a loaded file).
    pub fn record(&mut self, sources: &SourceMap, datums: &[Datum]) {
        for d in datums {
            self.record_one(sources, d);
        }
    }

    fn record_one(&mut self, sources: &SourceMap, d: &Datum) {
        let DatumKind::List(items, _) = &d.kind else {
            return;
        };
        let Some(head) = items.first().and_then(Datum::sym) else {
            return;
        };
        let location = || sources.location(d.span);
        let mut note = |name: &str, doc: Option<String>| {
            let location = location();
            self.defs
                .insert(name.to_string(), DefInfo { location, doc });
        };
        match head {
            "begin" => {
                for x in &items[1..] {
                    self.record_one(sources, x);
                }
            }
            "define" | "define-syntax" if items.len() >= 2 => {
                let mut target = &items[1];
                // `(define ((f a) b) ...)`: the name is innermost.
                while let DatumKind::List(inner, _) = &target.kind {
                    match inner.first() {
                        Some(first) => target = first,
                        None => return,
                    }
                }
                let Some(name) = target.sym() else { return };
                let body: &[Datum] = match (&items[1].kind, items.get(2)) {
                    (DatumKind::List(..), _) => &items[2..],
                    (_, Some(v)) => match v.list() {
                        Some([l, _formals, rest @ ..]) if l.is_sym("lambda") => rest,
                        _ => &[],
                    },
                    _ => &[],
                };
                let doc = match body {
                    [first, _, ..] => match &first.kind {
                        DatumKind::Str(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                note(name, doc);
            }
            "define-values" if items.len() >= 2 => {
                let mut names = Vec::new();
                if let DatumKind::List(formals, tail) = &items[1].kind {
                    names.extend(formals.iter().filter_map(Datum::sym));
                    names.extend(tail.as_deref().and_then(Datum::sym));
                } else {
                    names.extend(items[1].sym());
                }
                for n in names {
                    note(n, None);
                }
            }
            "define-record-type" if items.len() >= 4 => {
                let mut names = Vec::new();
                for x in &items[1..4] {
                    match x.list() {
                        Some(l) => names.extend(l.first().and_then(Datum::sym)),
                        None => names.extend(x.sym()),
                    }
                }
                for field in &items[4..] {
                    if let Some(l) = field.list() {
                        names.extend(l.iter().skip(1).filter_map(Datum::sym));
                    }
                }
                for n in names {
                    note(n, None);
                }
            }
            _ => {}
        }
    }

    fn ensure_helpers(&mut self, session: &mut Session) -> Result<(), Failure> {
        if !self.helpers {
            session.run_source("<repl-tools>", HELPERS, false)?;
            self.helpers = true;
        }
        Ok(())
    }
}

/// Starts trace indentation afresh: an error that ended the previous
/// input unwound past the traced calls without running their `dynamic-wind`
/// exits.
pub fn reset_trace_depth() {
    if let Some(id) = globals::lookup("%repl-trace-depth") {
        globals::set(id, Value::fixnum(0));
    }
}

/// What the global cell `cell` holds, if it is bound.
fn global_value(cell: &str) -> Option<Value> {
    let id = globals::lookup(cell)?;
    let v = globals::get(id);
    (v != Value::UNDEFINED).then_some(v)
}

/// How a procedure is implemented.
fn proc_kind(session: &mut Session, c: Value) -> &'static str {
    let info = object::closure_info(c);
    let builtin = info
        .name()
        .and_then(builtins::proc_info)
        .is_some_and(|b| std::ptr::eq(b, info));
    if builtin {
        "builtin procedure"
    } else if crate::interp::is_interpreted(c) {
        "interpreted procedure"
    } else if session.compiled_entry() == Some(object::closure_entry(c) as usize) {
        "compiled procedure (JIT)"
    } else {
        "procedure"
    }
}

/// `1 required`, `1 required, 1 optional`, `2 required + rest`.
fn arity_text(c: Value) -> String {
    let info = object::closure_info(c);
    let mut s = format!("{} required", info.required);
    if info.optional > 0 {
        s.push_str(&format!(", {} optional", info.optional));
    }
    if info.rest != 0 {
        s.push_str(" + rest");
    }
    s
}

/// A short name for the type of a value.
fn type_name(v: Value) -> String {
    if v.is_fixnum() || v.is_number() {
        return "number".into();
    }
    if v == Value::TRUE || v == Value::FALSE {
        return "boolean".into();
    }
    if v == Value::NIL {
        return "empty list".into();
    }
    if v.is_immediate() && !v.is_heap() {
        let shown = printer::write_string(v);
        return if shown.starts_with("#\\") {
            "character".into()
        } else {
            "special value".into()
        };
    }
    match v.obj_type() {
        Some(ObjType::Record) => "record".into(),
        // `RecordType` → `record type`.
        Some(t) => format!("{t:?}")
            .chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let space = (i > 0 && c.is_uppercase()).then_some(' ');
                space.into_iter().chain(c.to_lowercase())
            })
            .collect(),
        None => "value".into(),
    }
}

/// At most `max` characters of `s`, with `...` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push_str(" ...");
        t
    }
}

/// The `,describe NAME` text.
/// `,tier NAME`: the tier procedure NAME runs in (docs/tiering.md).
pub fn tier(session: &mut Session, name: &str) -> String {
    let meaning = session.expander.borrow().describe_toplevel(name);
    let cell = match meaning {
        TopKind::Special => return format!("{name}: special form\n"),
        TopKind::Macro => return format!("{name}: macro\n"),
        TopKind::Global(cell) => cell,
    };
    match global_value(&cell) {
        None => format!("{name}: not bound\n"),
        Some(v) => format!("{}\n", crate::tier::describe(name, v)),
    }
}

pub fn describe(tools: &Tools, session: &mut Session, name: &str) -> String {
    let meaning = session.expander.borrow().describe_toplevel(name);
    let mut out = String::new();
    let cell = match meaning {
        TopKind::Special => return format!("{name}: special form\n"),
        TopKind::Macro => {
            out.push_str(&format!("{name}: macro\n"));
            None
        }
        TopKind::Global(cell) => Some(cell),
    };
    if let Some(cell) = cell {
        match global_value(&cell) {
            None => return format!("{name}: not bound\n"),
            Some(v) if v.has_type(ObjType::Closure) => {
                out.push_str(&format!("{name}: {}\n", proc_kind(session, v)));
                out.push_str(&format!("  arity: {}\n", arity_text(v)));
            }
            Some(v) => {
                out.push_str(&format!("{name}: variable holding a {}\n", type_name(v)));
                out.push_str(&format!(
                    "  value: {}\n",
                    clip(&printer::write_string(v), 70)
                ));
            }
        }
    }
    if let Some(d) = tools.defs.get(name) {
        out.push_str(&format!("  defined at {}\n", d.location));
        if let Some(doc) = &d.doc {
            out.push_str(&format!("  doc: {doc}\n"));
        }
    }
    out
}

/// The `,apropos STR` text: bound names containing `s`, sorted, with
/// their kinds.
pub fn apropos(session: &mut Session, s: &str) -> String {
    let mut names = session.global_names();
    names.extend(session.expander.borrow().toplevel_macro_names());
    names.retain(|n| n.contains(s) && !n.starts_with('%'));
    names.sort();
    names.dedup();
    let mut out = String::new();
    for n in names {
        let kind = match session.expander.borrow().describe_toplevel(&n) {
            TopKind::Special => "special form",
            TopKind::Macro => "macro",
            TopKind::Global(cell) => match global_value(&cell) {
                Some(v) if v.has_type(ObjType::Closure) => "procedure",
                Some(_) => "variable",
                None => continue,
            },
        };
        out.push_str(&format!("{n}  ({kind})\n"));
    }
    if out.is_empty() {
        out.push_str(&format!(";; no bound name contains {s:?}\n"));
    }
    out
}

/// Checks that `name` is a global procedure that may be wrapped.
fn wrappable(session: &mut Session, name: &str, cmd: &str) -> Result<(), String> {
    let cell = match session.expander.borrow().describe_toplevel(name) {
        TopKind::Global(cell) => cell,
        TopKind::Macro => return Err(format!("error: ,{cmd}: {name} is a macro")),
        TopKind::Special => return Err(format!("error: ,{cmd}: {name} is a special form")),
    };
    if cell != name {
        return Err(format!("error: ,{cmd}: {name} is imported from a library"));
    }
    match global_value(name) {
        None => Err(format!("error: ,{cmd}: {name} is not bound")),
        Some(v) if !v.has_type(ObjType::Closure) => {
            Err(format!("error: ,{cmd}: {name} is not a procedure"))
        }
        Some(v) if proc_kind(session, v) == "builtin procedure" => Err(format!(
            "error: ,{cmd}: {name} is a builtin (compiled code may call it directly)"
        )),
        Some(_) => Ok(()),
    }
}

/// A symbol as the reader reads it back (for generated source).
fn symbol_source(name: &str) -> String {
    printer::write_string(valk_runtime::object::intern(name))
}

/// `,trace NAME` and `,untrace NAME`.
pub fn trace(
    tools: &mut Tools,
    session: &mut Session,
    name: &str,
    on: bool,
) -> Result<(), Failure> {
    let cmd = if on { "trace" } else { "untrace" };
    if let Err(msg) = wrappable(session, name, cmd) {
        valk_runtime::eprintln_quiet!("{msg}");
        return Err(Failure::Reported);
    }
    tools.ensure_helpers(session)?;
    let sym = symbol_source(name);
    let src = if on {
        format!("(set! {sym} (%repl-trace-install '{sym} {sym}))")
    } else {
        format!("(set! {sym} (%repl-untrace '{sym} {sym}))")
    };
    session.run_source("<repl-tools>", &src, false)
}

/// `,profile EXPR`: counts the calls of every procedure defined at the
/// REPL or by `,load` while EXPR runs.
pub fn profile(tools: &mut Tools, session: &mut Session, expr: &str) -> Result<(), Failure> {
    tools.ensure_helpers(session)?;
    let mut names: Vec<String> = tools
        .defs
        .keys()
        .filter(|n| wrappable(session, n, "profile").is_ok())
        .cloned()
        .collect();
    names.sort();
    let syms: Vec<String> = names.iter().map(|n| symbol_source(n)).collect();
    let mut install = format!(
        "(set! %repl-counts (make-vector {n} 0)) (set! %repl-originals (vector {all})) \
         (set! %repl-wrappers (make-vector {n} #f))",
        n = syms.len(),
        all = syms.join(" ")
    );
    let mut restore = String::new();
    for (i, s) in syms.iter().enumerate() {
        install.push_str(&format!(
            " (set! {s} (%repl-count {i} {s})) (vector-set! %repl-wrappers {i} {s})"
        ));
        restore.push_str(&format!(
            " (if (eq? {s} (vector-ref %repl-wrappers {i})) (set! {s} (vector-ref %repl-originals {i})))"
        ));
    }
    session.run_source("<repl-tools>", &install, false)?;
    let t0 = std::time::Instant::now();
    let r = session.run_source("<repl>", expr, true);
    let wall = t0.elapsed();
    let restored = session.run_source("<repl-tools>", &restore, false);
    if let Err(Failure::Exit(s)) = r {
        return Err(Failure::Exit(s));
    }
    restored?;
    let counts = global_value("%repl-counts").unwrap_or(Value::NIL);
    let mut rows: Vec<(i64, &str)> = Vec::new();
    if counts.has_type(ObjType::Vector) {
        for (i, n) in names.iter().enumerate().take(counts.size()) {
            let c = counts.field(i);
            if c.is_fixnum() && c.as_fixnum() > 0 {
                rows.push((c.as_fixnum(), n));
            }
        }
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    print!("{}", profile_table(&rows, wall));
    let _ = std::io::Write::flush(&mut std::io::stdout());
    r
}

/// Most rows a profile shows.
const PROFILE_ROWS: usize = 20;

fn profile_table(rows: &[(i64, &str)], wall: std::time::Duration) -> String {
    let total: i64 = rows.iter().map(|r| r.0).sum();
    let mut out = format!(
        ";; profile: {total} calls of {} procedures in {:.3} ms\n;;      calls       %  procedure\n",
        rows.len(),
        wall.as_secs_f64() * 1e3
    );
    for (count, name) in rows.iter().take(PROFILE_ROWS) {
        let pct = 100.0 * *count as f64 / total.max(1) as f64;
        out.push_str(&format!(";; {count:>10} {pct:>7.1}  {name}\n"));
    }
    if rows.len() > PROFILE_ROWS {
        out.push_str(&format!(";; ({} more)\n", rows.len() - PROFILE_ROWS));
    }
    out
}

/// Copies up to `max` bytes of this process's memory from `addr`, stopping
/// at the first unreadable page (so a bad guess of a function's extent
/// cannot fault).
fn read_code(addr: usize, max: usize) -> Vec<u8> {
    let mut buf = vec![0u8; max];
    let mut local = Vec::new();
    let mut remote = Vec::new();
    let mut off = 0;
    while off < max {
        let a = addr + off;
        let n = (4096 - a % 4096).min(max - off);
        local.push(libc::iovec {
            iov_base: buf[off..].as_mut_ptr().cast(),
            iov_len: n,
        });
        remote.push(libc::iovec {
            iov_base: a as *mut libc::c_void,
            iov_len: n,
        });
        off += n;
    }
    // SAFETY: `process_vm_readv` on our own pid writes only into `buf`
    // (the local iovecs cover it exactly) and reports unreadable remote
    // pages as a short count instead of faulting.
    let got = unsafe {
        libc::process_vm_readv(
            libc::getpid(),
            local.as_ptr(),
            local.len() as libc::c_ulong,
            remote.as_ptr(),
            remote.len() as libc::c_ulong,
            0,
        )
    };
    buf.truncate(got.max(0) as usize);
    buf
}

/// Names of the runtime functions compiled code calls, by address.
fn runtime_names() -> BTreeMap<u64, &'static str> {
    valk_llvm::emit::runtime_symbol_names()
        .iter()
        .filter_map(|&n| valk_llvm::jit::runtime_address(n).map(|a| (a as u64, n)))
        .collect()
}

/// The `,disasm NAME` text.
pub fn disasm(session: &mut Session, name: &str) -> Result<String, String> {
    let cell = match session.expander.borrow().describe_toplevel(name) {
        TopKind::Global(cell) => cell,
        _ => return Err(format!("error: ,disasm: {name} is syntax, not a procedure")),
    };
    let v = match global_value(&cell) {
        Some(v) if v.has_type(ObjType::Closure) => v,
        Some(_) => return Err(format!("error: ,disasm: {name} is not a procedure")),
        None => return Err(format!("error: ,disasm: {name} is not bound")),
    };
    match proc_kind(session, v) {
        "compiled procedure (JIT)" => {}
        "interpreted procedure" if session.is_tiered() => {
            return Ok(format!(
                ";; {name} is interpreted (tier 0, see ,tier {name}): no machine code yet\n"
            ))
        }
        "interpreted procedure" => {
            return Ok(format!(
                ";; {name} is interpreted (this session runs --no-jit): no machine code\n"
            ))
        }
        "builtin procedure" => {
            return Ok(format!(
                ";; {name} is a builtin: Rust code of the runtime, not compiled by the JIT\n"
            ))
        }
        other => {
            return Err(format!(
                "error: ,disasm: {name} is a {other} of unknown code"
            ))
        }
    }
    // Word 2 of a compiled closure is its fast entry (src/llvm/emit/mod.rs).
    let entry = v.raw(2) as usize;
    let names = runtime_names();
    let name_of = |a: u64| {
        if let Some(n) = names.get(&a) {
            return Some(n.to_string());
        }
        // The linker's stubs (`jmp *slot(%rip)`) lead to runtime functions.
        let stub = read_code(a as usize, 6);
        if let [0xff, 0x25, d0, d1, d2, d3] = stub[..] {
            let slot = (a + 6).wrapping_add(i32::from_le_bytes([d0, d1, d2, d3]) as i64 as u64);
            let target = read_code(slot as usize, 8);
            if let Ok(bytes) = <[u8; 8]>::try_from(&target[..]) {
                return names.get(&u64::from_le_bytes(bytes)).map(|n| n.to_string());
            }
        }
        None
    };
    let mut out = String::new();
    let show = |label: &str, addr: usize, out: &mut String| {
        let code = read_code(addr, 16 * 1024);
        let l = valk_llvm::disasm::disassemble(&code, addr as u64, &name_of);
        out.push_str(&format!(";; {name}: {label} at 0x{addr:x}\n"));
        for (pc, text) in &l.lines {
            out.push_str(&format!("  {:6x}  {text}\n", pc - addr as u64));
        }
        l.exits
    };
    let exits = show("fast entry", entry, &mut out);
    // The fast entry checks the argument count and jumps to the body.
    if let [body] = exits[..] {
        if name_of(body).is_none() {
            show("body", body as usize, &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_table_shape() {
        let t = profile_table(
            &[(30, "fib"), (10, "loop")],
            std::time::Duration::from_millis(2),
        );
        assert_eq!(
            t,
            ";; profile: 40 calls of 2 procedures in 2.000 ms\n\
             ;;      calls       %  procedure\n\
             ;;         30    75.0  fib\n\
             ;;         10    25.0  loop\n"
        );
    }
}
