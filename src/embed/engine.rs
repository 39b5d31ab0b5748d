//! The embedded evaluator: what `valk --no-jit` does for a program
//! (`src/driver.rs`), on the evaluation thread (`thread.rs`): a source map
//! and an expander that has expanded the prelude, shared with `eval`, and
//! the interpreter running the expanded forms (docs/embedding.md).

use crate::handles;
use std::cell::RefCell;
use std::rc::Rc;
use valk_eval::expand::Expander;
use valk_eval::syntax::diag::Diagnostic;
use valk_eval::syntax::reader;
use valk_eval::syntax::source::{read_source_file, SourceMap};
use valk_eval::{evaluator, interp, prelude};
use valk_runtime::{builtins, error, gc, io, Value};

/// A failed API call, as the calling thread keeps it (`valk_last_error_*`).
pub struct Failure {
    pub message: String,
    /// A handle to the raised object (0 for errors that are not Valk
    /// values: diagnostics, API misuse).
    pub object: handles::Raw,
}

impl Failure {
    /// An error with a message only (API misuse, diagnostics).
    pub fn message(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            object: 0,
        }
    }

    /// Takes the pending exception of a Valk evaluation that raised.
    pub fn take_pending() -> Failure {
        // The interpreter's location of an unbound variable is for the
        // driver's report; the message names the variable already.
        let _ = interp::take_error_span();
        let exc = error::take_pending();
        let message = match error::exit_request_status(exc) {
            Some(status) => format!("exit requested with status {status}"),
            None => error::format_error(exc),
        };
        Failure {
            message,
            object: handles::new(exc),
        }
    }
}

pub type EResult<T> = Result<T, Failure>;

struct Engine {
    sources: SourceMap,
    expander: Rc<RefCell<Expander>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Initialises the heap, the builtins, the evaluator and the prelude
/// (idempotent).
pub fn init() -> EResult<()> {
    if ENGINE.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    gc::init();
    builtins::install();
    handles::register();
    evaluator::install();
    let expander = Rc::new(RefCell::new(Expander::new()));
    evaluator::set_interaction_expander(expander.clone());
    ENGINE.with(|e| {
        *e.borrow_mut() = Some(Engine {
            sources: SourceMap::new(),
            expander,
        })
    });
    run_source(prelude::NAME, prelude::TEXT).map_err(|f| {
        Failure::message(format!(
            "valk_init: the prelude failed to load: {}",
            f.message
        ))
    })?;
    Ok(())
}

fn with_engine<T>(f: impl FnOnce(&mut Engine) -> EResult<T>) -> EResult<T> {
    ENGINE.with(|e| match e.borrow_mut().as_mut() {
        Some(engine) => f(engine),
        None => Err(Failure::message(
            "the Valk runtime is not initialised (call valk_init)",
        )),
    })
}

fn diagnostic(sources: &SourceMap, d: &Diagnostic) -> Failure {
    Failure::message(match d.span {
        Some(span) => format!("{}: {}", sources.location(span), d.message),
        None => d.message.clone(),
    })
}

/// Reads, expands and runs every form of `text` (expanded as a whole
/// first, as `valk FILE` does); the value of the last form.
pub fn run_source(name: &str, text: &str) -> EResult<Value> {
    // The engine is borrowed while reading and expanding only: the code
    // that runs may call a C procedure that evaluates again.
    let tops = with_engine(|e| {
        let datums =
            reader::read_str(&mut e.sources, name, text).map_err(|d| diagnostic(&e.sources, &d))?;
        let mut ex = e.expander.borrow_mut();
        let mut tops = Vec::new();
        for d in &datums {
            tops.extend(
                ex.expand_toplevel(d, &mut e.sources)
                    .map_err(|d| diagnostic(&e.sources, &d))?,
            );
        }
        Ok(tops)
    })?;
    let scope = gc::Scope::new();
    let last = scope.root(Value::UNSPECIFIED);
    for top in &tops {
        // Compiled with the engine borrowed (backtrace sites read the
        // sources), run without it.
        let compiled = with_engine(|e| Ok(interp::compile_toplevel(top, Some(&e.sources))))?;
        match interp::run_compiled(compiled) {
            Ok(v) => last.set(v),
            Err(_) => {
                io::flush_stdout();
                return Err(Failure::take_pending());
            }
        }
    }
    io::flush_stdout();
    Ok(last.get())
}

/// Loads a source file as `valk --no-jit FILE` runs it.
pub fn load_file(path: &str) -> EResult<Value> {
    match read_source_file(std::path::Path::new(path)) {
        Ok(text) => run_source(path, &text),
        Err(e) => Err(Failure::message(format!("cannot read {path}: {e}"))),
    }
}
