//! The evaluator behind `eval`, `environment` and the procedure `load`
//! (docs/libraries.md, "eval"): installed into the runtime's hooks
//! ([`valk_runtime::eval_hooks`]), it expands a datum in an environment
//! with an [`Expander`] and runs the resulting forms on the interpreter.
//!
//! One evaluator per thread (the thread that runs Valk code), created on
//! first use: an expander that has expanded the prelude (for its macros;
//! the prelude's definitions already run in every engine) and a source map
//! of its own. A session of `valk` gives it its own expander instead
//! ([`set_interaction_expander`]), so that `eval` in the interaction
//! environment sees the program's macros. The expander is borrowed only
//! while expanding, never while the expanded code runs, so eval'd code may
//! call `eval` again.

use crate::ast::TopLevel;
use crate::expand::{EnvId, Expander};
use crate::interp;
use crate::prelude;
use crate::syntax::datum::Datum;
use crate::syntax::diag::Diagnostic;
use crate::syntax::reader;
use crate::syntax::source::{read_source_file, SourceMap, SourceReadError, Span};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;
use valk_runtime::error::{self, ErrorKind, VResult};
use valk_runtime::eval_hooks::{self, EvalHooks};
use valk_runtime::syntax::from_value::value_to_datum;
use valk_runtime::Value;

/// Name of the first file of the evaluator's source map: the nodes of
/// eval'd datums point into it, so `load` inside eval'd code is relative
/// to the current directory.
const EVAL_FILE: &str = "<eval>";

struct State {
    expander: Rc<RefCell<Expander>>,
    sources: SourceMap,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Installs the evaluator into the runtime's hooks (idempotent).
pub fn install() {
    eval_hooks::install(EvalHooks {
        eval: eval_hook,
        environment: environment_hook,
        load: load_hook,
    });
}

/// The program an AOT executable was compiled from: (file name, text).
static PROGRAM: OnceLock<(String, String)> = OnceLock::new();

/// [`install`] for AOT executables: the generated `main` calls it before
/// `valk_aot_main` when the program uses `eval` (docs/libraries.md),
/// with the program's main file as `name NUL text`, which the evaluator
/// expands (discarding the code) before its first use, for the program's
/// macros.
///
/// # Safety
/// `source` must point at `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn valk_eval_install(source: *const u8, len: u64) {
    let bytes: &[u8] = if source.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(source, len as usize) }
    };
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let name = String::from_utf8_lossy(&bytes[..nul]).into_owned();
        let text = String::from_utf8_lossy(&bytes[nul + 1..]).into_owned();
        let _ = PROGRAM.set((name, text));
    }
    install();
}

/// Makes `expander` the interaction environment's expander on this thread
/// (a session's own, which has expanded the prelude and the program).
pub fn set_interaction_expander(expander: Rc<RefCell<Expander>>) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        match s.as_mut() {
            Some(st) => st.expander = expander,
            None => *s = Some(State::with_expander(expander)),
        }
    });
}

impl State {
    fn with_expander(expander: Rc<RefCell<Expander>>) -> State {
        let mut sources = SourceMap::new();
        sources.add(EVAL_FILE, "");
        State { expander, sources }
    }

    /// A fresh expander that has expanded the prelude, and the program
    /// of an AOT executable ([`valk_eval_install`]).
    fn new() -> State {
        let mut st = State::with_expander(Rc::new(RefCell::new(Expander::new())));
        st.replay(prelude::NAME, prelude::TEXT);
        if let Some((name, text)) = PROGRAM.get() {
            st.replay(name, text);
        }
        st
    }

    /// Expands every form of `text` for the expander's state (macros,
    /// redefined keywords) only: the code already ran, compiled. A form
    /// that fails (a `load` of a file that is gone) is skipped.
    fn replay(&mut self, name: &str, text: &str) {
        if let Ok(datums) = reader::read_str(&mut self.sources, name, text) {
            let mut ex = self.expander.borrow_mut();
            for d in &datums {
                let _ = ex.expand_toplevel(d, &mut self.sources);
            }
        }
    }
}

/// Runs `f` with the evaluator's expander and source map (created on
/// first use). Nothing Valk runs inside `f`.
fn with_state<T>(f: impl FnOnce(&mut Expander, &mut SourceMap) -> T) -> T {
    let (expander, mut sources) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let st = s.get_or_insert_with(State::new);
        (st.expander.clone(), std::mem::take(&mut st.sources))
    });
    let r = f(&mut expander.borrow_mut(), &mut sources);
    STATE.with(|s| {
        if let Some(st) = s.borrow_mut().as_mut() {
            st.sources = sources;
        }
    });
    r
}

/// The span every node of an eval'd datum gets: the start of
/// [`EVAL_FILE`], the first file of the evaluator's source map.
fn eval_span() -> Span {
    Span::default()
}

/// Raises the expander's complaint as a `syntax-error` condition.
fn syntax_error(d: &Diagnostic) -> error::Raised {
    error::error(ErrorKind::Syntax, &d.message, &[])
}

/// Runs expanded forms in order on the interpreter; the last one's value.
fn run(tops: &[TopLevel]) -> VResult {
    let mut last = Value::UNSPECIFIED;
    for top in tops {
        match interp::eval_toplevel(top, None) {
            Ok(v) => last = v,
            Err(e) => {
                // The location refers to the evaluator's source map, not
                // the session's that reports the error.
                let _ = interp::take_error_span();
                return Err(e);
            }
        }
    }
    Ok(last)
}

fn expand_in(env: u32, datum: &Datum) -> VResult<Vec<TopLevel>> {
    with_state(|ex, sources| ex.expand_toplevel_in(EnvId(env), datum, sources))
        .map_err(|d| syntax_error(&d))
}

fn eval_hook(expr: Value, env: u32) -> VResult {
    let datum = value_to_datum(expr, eval_span(), "eval")?;
    let tops = expand_in(env, &datum)?;
    run(&tops)
}

fn environment_hook(sets: &[Value]) -> VResult<u32> {
    let mut datums = Vec::with_capacity(sets.len());
    for &s in sets {
        datums.push(value_to_datum(s, eval_span(), "environment")?);
    }
    let mut libs = Vec::new();
    let id = with_state(|ex, sources| ex.environment(&datums, sources, &mut libs))
        .map_err(|d| syntax_error(&d))?;
    run(&libs)?;
    Ok(id.0)
}

fn load_hook(path: &str, env: u32) -> VResult {
    let text = read_source_file(std::path::Path::new(path)).map_err(|e| match e {
        SourceReadError::Io(e) => error::file_error("load", path, &e),
        other => error::error(
            ErrorKind::File,
            &format!("load: cannot read {path}: {other}"),
            &[],
        ),
    })?;
    let datums = with_state(|_, sources| reader::read_str(sources, path, &text))
        .map_err(|d| error::error(ErrorKind::Read, &d.message, &[]))?;
    // Form by form, so that a macro the file defines serves its later
    // forms.
    for d in &datums {
        let tops = expand_in(env, d)?;
        run(&tops)?;
    }
    Ok(Value::UNSPECIFIED)
}
