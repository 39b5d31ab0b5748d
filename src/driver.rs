//! The engine-independent driver: a session owns the source map and the
//! expander, loads the prelude, runs programs and REPL inputs, and reports
//! errors in the one format every engine shares.

use crate::expand::Expander;
use crate::interp;
use crate::syntax::diag::Diagnostic;
use crate::syntax::reader;
use crate::syntax::source::SourceMap;
use valk_runtime::error::{self, ErrorKind};
use valk_runtime::value::ObjType;
use valk_runtime::{builtins, gc, io, Value};

/// The prelude, compiled into the binary so nothing of the build tree is
/// needed at run time.
pub const PRELUDE: &str = include_str!("../prelude/prelude.valk");

/// Exit status for programs that end with an error (syntax or runtime).
pub const ERROR_STATUS: i32 = 1;

/// Why evaluating some source stopped.
#[derive(Debug)]
pub enum Failure {
    /// A diagnostic or runtime error was reported on stderr.
    Reported,
}

pub struct Session {
    pub sources: SourceMap,
    pub expander: Expander,
}

/// Stack reserved for the thread that runs Valk code (1 GiB): deep non-tail
/// recursion (a million frames) must work. Lazily committed by the OS.
pub const STACK_SIZE: usize = 1 << 30;
/// Head room kept below the stack limit for runtime code between checks.
const STACK_MARGIN: usize = 16 << 20;

/// Runs `f` on a thread with a [`STACK_SIZE`] stack and the interpreter's
/// stack check armed; returns `f`'s result.
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new()
        .name("valk".into())
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let marker = 0u8;
            let top = &marker as *const u8 as usize;
            interp::set_stack_limit(top.saturating_sub(STACK_SIZE - STACK_MARGIN));
            f()
        })
        .unwrap_or_else(|e| {
            eprintln!("error: cannot start the evaluation thread: {e}");
            std::process::exit(ERROR_STATUS)
        });
    match handle.join() {
        Ok(v) => v,
        Err(_) => {
            io::flush_stdout();
            eprintln!("error: internal error (the evaluation thread panicked)");
            std::process::exit(ERROR_STATUS)
        }
    }
}

impl Session {
    /// Initialises the runtime (heap, builtins) and loads the prelude.
    pub fn new() -> Session {
        gc::init();
        builtins::install();
        let mut s = Session {
            sources: SourceMap::new(),
            expander: Expander::new(),
        };
        if s.run_source("<prelude>", PRELUDE, false).is_err() {
            eprintln!("error: the prelude failed to load");
            std::process::exit(ERROR_STATUS);
        }
        s
    }

    /// Reads, expands and evaluates every form of `text`. With `print`, the
    /// value of each form is written (REPL, `-e`). Errors are reported on
    /// stderr before returning `Err`.
    pub fn run_source(&mut self, name: &str, text: &str, print: bool) -> Result<(), Failure> {
        let datums = match reader::read_str(&mut self.sources, name, text) {
            Ok(d) => d,
            Err(diag) => return Err(self.report_diag(&diag)),
        };
        for d in &datums {
            let tops = match self.expander.expand_toplevel(d, &mut self.sources) {
                Ok(t) => t,
                Err(diag) => return Err(self.report_diag(&diag)),
            };
            for top in &tops {
                match interp::eval_toplevel(top) {
                    Ok(v) => {
                        if print {
                            print_result(v);
                        }
                    }
                    Err(_) => return Err(self.report_runtime_error()),
                }
            }
        }
        io::flush_stdout();
        Ok(())
    }

    /// Runs a program file.
    pub fn run_file(&mut self, path: &str) -> Result<(), Failure> {
        match std::fs::read_to_string(path) {
            Ok(text) => self.run_source(path, &text, false),
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                Err(Failure::Reported)
            }
        }
    }

    fn report_diag(&self, diag: &Diagnostic) -> Failure {
        io::flush_stdout();
        eprint!("{}", diag.render(&self.sources));
        Failure::Reported
    }

    /// Prints the pending exception as `error: ...`, with the source
    /// location when the engine recorded one.
    fn report_runtime_error(&self) -> Failure {
        io::flush_stdout();
        let exc = error::take_pending();
        let msg = error::format_error(exc);
        let span = interp::take_error_span().filter(|_| is_unbound_error(exc));
        match span {
            Some(span) => {
                let d = Diagnostic::at(span, msg);
                eprint!("{}", d.render(&self.sources));
            }
            None => eprintln!("error: {msg}"),
        }
        Failure::Reported
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

fn is_unbound_error(exc: Value) -> bool {
    exc.has_type(ObjType::Condition)
        && valk_runtime::object::symbol_name(exc.field(0)) == ErrorKind::Unbound.symbol_name()
}

/// REPL-style printing: results with `write`, nothing for unspecified.
pub fn print_result(v: Value) {
    if v == Value::UNSPECIFIED {
        return;
    }
    if v.has_type(ObjType::Values) {
        for i in 0..v.size() {
            io::write_stdout(&valk_runtime::printer::write_string(v.field(i)));
            io::write_stdout("\n");
        }
        return;
    }
    io::write_stdout(&valk_runtime::printer::write_string(v));
    io::write_stdout("\n");
}

/// Ends the process the way every engine does: flush output, print GC
/// statistics if asked, exit with `status`.
pub fn exit(status: i32) -> ! {
    io::flush_stdout();
    gc::finish();
    std::process::exit(status)
}
