//! The interactive REPL, on whichever engine the session runs.
//!
//! Input accumulates until it holds complete forms (`reading`: a syntax
//! error inside a form discards the whole form), so multi-line forms
//! work; each form is evaluated in turn and its values written. Errors
//! are reported and the REPL goes on. Meta-commands (`,help`...) and the
//! inspection tools (`tools`: `,describe`, `,trace`, `,disasm`...) are
//! handled here. With a terminal, rustyline provides
//! editing, tab completion of bound names and history (`~/.valk_history`),
//! and Ctrl-C interrupts a running evaluation (`valk_runtime::interrupt`).
//! Piped input is read line by line with no prompts or banner, so sessions
//! can be scripted.

mod reading;
mod tools;

use crate::driver::{Failure, Session};
use reading::{Chunk, Item, Pending};
use std::io::{IsTerminal, Write};
use std::time::Instant;
use tools::Tools;
use valk_runtime::{gc, interrupt};

const HELP: &str = "\
Enter Valk expressions; results are printed with `write`.
  ,help         this text
  ,quit         leave (Ctrl-D also works)
  ,load FILE    run a file in this session
  ,import SET   import libraries, as (import SET ...) does
  ,expand EXPR  show EXPR fully expanded to the core language
  ,describe NAME  what NAME is: kind, arity, where defined, docstring
  ,apropos STR  the bound names containing STR
  ,trace NAME   print calls of procedure NAME and their results
  ,untrace NAME stop tracing NAME
  ,profile EXPR evaluate EXPR and count the calls of your procedures
  ,time EXPR    evaluate EXPR and report wall time and GC figures
  ,vir EXPR     show the VIR that EXPR lowers to
  ,llvm EXPR    show the LLVM IR that EXPR compiles to
  ,disasm NAME  show the machine code of compiled procedure NAME
  ,bt           show the backtrace of the last error
  ,tier NAME    which tier procedure NAME runs in (interpreted or compiled)
Tab completes bound names; Ctrl-C interrupts a running evaluation.
";

/// Meta-command names, for completion.
const COMMANDS: [&str; 16] = [
    ",help",
    ",quit",
    ",load",
    ",import",
    ",expand",
    ",describe",
    ",apropos",
    ",trace",
    ",untrace",
    ",profile",
    ",time",
    ",vir",
    ",llvm",
    ",disasm",
    ",bt",
    ",tier",
];

/// What a complete input asks for.
#[derive(Debug, PartialEq, Eq)]
enum Input<'a> {
    Quit,
    Help,
    Load(&'a str),
    Import(&'a str),
    Expand(&'a str),
    Time(&'a str),
    Vir(&'a str),
    Llvm(&'a str),
    Describe(&'a str),
    Apropos(&'a str),
    Trace(&'a str),
    Untrace(&'a str),
    Profile(&'a str),
    Disasm(&'a str),
    Backtrace,
    Tier(&'a str),
    Eval(&'a str),
    Unknown(&'a str),
    /// A command that needs an argument was given none.
    Missing(&'a str),
}

fn classify<'a>(text: &'a str) -> Input<'a> {
    let t = text.trim();
    let Some(cmd) = t.strip_prefix(',') else {
        return Input::Eval(text);
    };
    let (name, arg) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
    let arg = arg.trim();
    let needs_arg = |make: fn(&'a str) -> Input<'a>, a: &'a str| {
        if a.is_empty() {
            Input::Missing(name)
        } else {
            make(a)
        }
    };
    match name {
        "q" | "quit" | "exit" => Input::Quit,
        "h" | "help" | "?" => Input::Help,
        "load" => needs_arg(Input::Load, arg.trim_matches('"')),
        "import" => needs_arg(Input::Import, arg),
        "expand" => needs_arg(Input::Expand, arg),
        "time" => needs_arg(Input::Time, arg),
        "vir" => needs_arg(Input::Vir, arg),
        "llvm" => needs_arg(Input::Llvm, arg),
        "describe" | "d" => needs_arg(Input::Describe, arg),
        "apropos" | "a" => needs_arg(Input::Apropos, arg),
        "trace" => needs_arg(Input::Trace, arg),
        "untrace" => needs_arg(Input::Untrace, arg),
        "profile" | "prof" => needs_arg(Input::Profile, arg),
        "disasm" => needs_arg(Input::Disasm, arg),
        "bt" | "backtrace" => Input::Backtrace,
        "tier" => needs_arg(Input::Tier, arg),
        _ => Input::Unknown(name),
    }
}

/// Runs `f` (an evaluation) so that only a Ctrl-C pressed during it can
/// interrupt it.
fn evaluating<T>(f: impl FnOnce() -> T) -> T {
    interrupt::clear();
    tools::reset_trace_depth();
    let r = f();
    interrupt::clear();
    r
}

/// The `,time` report: wall time and what the collector did meanwhile.
fn time_report(wall: std::time::Duration, before: &gc::Stats, after: &gc::Stats) -> String {
    format!(
        ";; {:.3} ms wall, {} collections ({:.3} ms in GC), {} bytes allocated",
        wall.as_secs_f64() * 1e3,
        after.collections - before.collections,
        (after.total_pause - before.total_pause).as_secs_f64() * 1e3,
        after.bytes_allocated - before.bytes_allocated
    )
}

/// Prints IR text returned by the session (errors were reported already).
fn print_text(r: Result<String, Failure>) {
    if let Ok(text) = r {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }
}

/// What the REPL does after an input.
enum Next {
    Continue,
    /// Leave with this exit status (`,quit`: 0; `(exit n)`: n).
    Quit(i32),
}

/// `Next::Quit` when an evaluation asked to end the program.
fn after(r: Result<(), Failure>) -> Next {
    match r {
        Err(Failure::Exit(status)) => Next::Quit(status),
        _ => Next::Continue,
    }
}

/// Prints text on stdout.
fn print_out(text: &str) {
    print_text(Ok(text.to_string()));
}

/// Handles one meta-command (or, for callers other than the reader, any
/// input text).
fn handle(session: &mut Session, tools: &mut Tools, text: &str) -> Next {
    match classify(text) {
        Input::Quit => return Next::Quit(0),
        Input::Help => {
            print!("{HELP}");
            let _ = std::io::stdout().flush();
        }
        Input::Load(path) => {
            if let Ok(text) = crate::syntax::source::read_source_file(std::path::Path::new(path)) {
                let mut sm = crate::syntax::source::SourceMap::new();
                if let Ok(datums) = crate::syntax::reader::read_str(&mut sm, path, &text) {
                    tools.record(&sm, &datums);
                }
            }
            return after(evaluating(|| session.run_file(path)));
        }
        Input::Describe(name) => print_out(&tools::describe(tools, session, name)),
        Input::Apropos(s) => print_out(&tools::apropos(session, s)),
        Input::Backtrace => match valk_runtime::backtrace::last_uncaught() {
            Some(text) => print_out(&text),
            None => print_out(";; no backtrace: no error since the REPL started\n"),
        },
        Input::Tier(name) => print_out(&tools::tier(session, name)),
        Input::Trace(name) => {
            return after(evaluating(|| tools::trace(tools, session, name, true)))
        }
        Input::Untrace(name) => {
            return after(evaluating(|| tools::trace(tools, session, name, false)))
        }
        Input::Profile(expr) => return after(evaluating(|| tools::profile(tools, session, expr))),
        Input::Disasm(name) => match tools::disasm(session, name) {
            Ok(text) => print_out(&text),
            Err(msg) => valk_runtime::eprintln_quiet!("{msg}"),
        },
        Input::Time(expr) => {
            let before = gc::stats();
            let t0 = Instant::now();
            let r = evaluating(|| session.run_source("<repl>", expr, true));
            let wall = t0.elapsed();
            let after_stats = gc::stats();
            valk_runtime::eprintln_quiet!("{}", time_report(wall, &before, &after_stats));
            return after(r);
        }
        Input::Import(sets) => {
            let src = format!("(import {sets})");
            return after(evaluating(|| session.run_source("<repl>", &src, false)));
        }
        Input::Expand(expr) => print_text(evaluating(|| session.expand_text(expr))),
        Input::Vir(expr) => print_text(evaluating(|| session.vir_text(expr))),
        Input::Llvm(expr) => print_text(evaluating(|| session.llvm_text(expr))),
        Input::Eval(src) => return after(evaluating(|| session.run_source("<repl>", src, true))),
        Input::Unknown(name) => {
            valk_runtime::eprintln_quiet!("error: unknown command ,{name} (try ,help)")
        }
        Input::Missing(name) => {
            valk_runtime::eprintln_quiet!("error: ,{name} needs an argument (try ,help)")
        }
    }
    Next::Continue
}

/// Runs the complete items of a chunk of input in order: forms are read
/// from the chunk (so diagnostics show their lines and columns), commands
/// are handled.
fn handle_chunk(session: &mut Session, tools: &mut Tools, chunk: &Chunk) -> Next {
    let mut file = None;
    for item in &chunk.items {
        let next = match item {
            Item::Form(r) => {
                let f = *file.get_or_insert_with(|| session.add_source("<repl>", &chunk.text));
                // Definitions are noted for `,describe` and `,profile`.
                if let Ok(datums) =
                    crate::syntax::reader::read_range(&session.sources, f, r.start, r.end)
                {
                    tools.record(&session.sources, &datums);
                }
                after(evaluating(|| session.run_range(f, r.start, r.end)))
            }
            Item::Command(r) => handle(session, tools, chunk.slice(r)),
        };
        if let Next::Quit(status) = next {
            return Next::Quit(status);
        }
    }
    Next::Continue
}

/// Runs the REPL until `,quit`, `(exit)` or end of input: interactive on a
/// terminal, scripted otherwise. Returns the exit status.
pub fn run(session: &mut Session) -> i32 {
    // Errors print their message only; `,bt` shows the backtrace.
    valk_runtime::backtrace::set_print_uncaught(false);
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        run_terminal(session)
    } else {
        run_piped(session)
    }
}

fn run_piped(session: &mut Session) -> i32 {
    let mut pending = Pending::default();
    let mut tools = Tools::default();
    // Through the runtime's standard input port: a program's `(read)` reads
    // the lines after its form (docs/ports.md).
    while let Some(buf) = valk_runtime::port::stdin_raw_line() {
        pending.push_line(&String::from_utf8_lossy(&buf));
        if let Some(chunk) = pending.take() {
            if let Next::Quit(status) = handle_chunk(session, &mut tools, &chunk) {
                return status;
            }
        }
    }
    // An unfinished datum at the end: reading it reports the error.
    if let Some(chunk) = pending.take_all() {
        if let Next::Quit(status) = handle_chunk(session, &mut tools, &chunk) {
            return status;
        }
    }
    0
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| std::path::Path::new(&h).join(".valk_history"))
}

// ---------------------------------------------------------------------------
// Completion

/// Characters that end a symbol in Scheme source.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '[' | ']' | '\'' | '`' | ',' | '"' | ';' | '@'
        )
}

/// Where the symbol prefix ending at byte `pos` of `line` starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|&(_, c)| is_delimiter(c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Completion candidates for the text before the cursor: meta-commands at
/// the start of the line, else the bound names extending the symbol prefix
/// under the cursor. Returns the start of the replaced text.
fn candidates(names: &[String], line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let lead = before.len() - before.trim_start().len();
    let cmd = before.trim_start();
    if cmd.starts_with(',') && !cmd.contains(char::is_whitespace) {
        let found = COMMANDS
            .iter()
            .filter(|c| c.starts_with(cmd))
            .map(|c| format!("{c} "))
            .collect();
        return (lead, found);
    }
    let start = word_start(line, pos);
    let prefix = &line[start..pos];
    if prefix.is_empty() || prefix.starts_with('#') {
        return (start, Vec::new());
    }
    // `names` is sorted: the matches are one run.
    let first = names.partition_point(|n| n.as_str() < prefix);
    let found = names[first..]
        .iter()
        .take_while(|n| n.starts_with(prefix))
        .cloned()
        .collect();
    (start, found)
}

/// The rustyline helper: completes bound names (refreshed after every
/// input, so new definitions complete too).
struct ReplHelper {
    names: Vec<String>,
}

impl ReplHelper {
    fn refresh(&mut self, session: &Session) {
        let mut names = session.global_names();
        names.sort_unstable();
        names.dedup();
        self.names = names;
    }
}

impl rustyline::completion::Completer for ReplHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(candidates(&self.names, line, pos))
    }
}

impl rustyline::hint::Hinter for ReplHelper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for ReplHelper {}
impl rustyline::validate::Validator for ReplHelper {}
impl rustyline::Helper for ReplHelper {}

// ---------------------------------------------------------------------------
// Ctrl-C during evaluation

/// Presses of Ctrl-C that no poll point took before the process gives up
/// (code stuck in a builtin or a blocking read never polls).
const GIVE_UP_AFTER: u64 = 3;

extern "C" fn on_sigint(_sig: libc::c_int) {
    // Only async-signal-safe work here: plain stores, write, _exit.
    let presses = interrupt::request();
    if presses == 1 {
        // The terminal echoed `^C`: the error report goes on the next line.
        // SAFETY: `write` is async-signal-safe; the buffer is static.
        unsafe { libc::write(2, b"\n".as_ptr().cast(), 1) };
    }
    if presses >= GIVE_UP_AFTER {
        let msg = b"\nvalk: not responding to Ctrl-C; exiting\n";
        // SAFETY: `write` and `_exit` are async-signal-safe; static buffer.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(130);
        }
    }
}

/// The SIGINT handler in force while it lives; dropping it restores the
/// previous disposition.
pub struct SigintHandler {
    previous: libc::sigaction,
}

/// Makes SIGINT (Ctrl-C) request an interrupt of running Valk code instead
/// of ending the process. `None` if the handler cannot be installed.
pub fn install_sigint_handler() -> Option<SigintHandler> {
    // SAFETY: `sigaction` structs are plain data (zeroed is valid) passed
    // by pointer to locals; `on_sigint` only does async-signal-safe work.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // Restart interrupted system calls: the program's reads and writes
        // go on; the interrupt is noticed at the next poll point.
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGINT, &action, &mut previous) != 0 {
            return None;
        }
        Some(SigintHandler { previous })
    }
}

impl Drop for SigintHandler {
    fn drop(&mut self) {
        // SAFETY: restores the disposition `sigaction` returned earlier.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut());
        }
        interrupt::clear();
    }
}

// ---------------------------------------------------------------------------
// Terminal mode

fn run_terminal(session: &mut Session) -> i32 {
    use rustyline::error::ReadlineError;
    use rustyline::{CompletionType, Config, Editor};
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        match Editor::with_config(config) {
            Ok(rl) => rl,
            Err(_) => return run_piped(session),
        };
    let mut helper = ReplHelper { names: Vec::new() };
    helper.refresh(session);
    rl.set_helper(Some(helper));
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    let _sigint = install_sigint_handler();
    println!(
        "Valk {} ({}) — ,help for help, Ctrl-D to leave",
        env!("CARGO_PKG_VERSION"),
        session.engine_name()
    );
    let mut pending = Pending::default();
    let mut tools = Tools::default();
    let mut status = 0;
    loop {
        let prompt = if pending.is_waiting() {
            "  ... "
        } else {
            "valk> "
        };
        match rl.readline(prompt) {
            Ok(line) => {
                pending.push_line(&line);
                let Some(chunk) = pending.take() else {
                    continue;
                };
                // Saved after every input, so a killed session keeps it.
                let _ = rl.add_history_entry(chunk.entered());
                if let Some(h) = &history {
                    let _ = rl.save_history(h);
                }
                let next = handle_chunk(session, &mut tools, &chunk);
                if let Some(helper) = rl.helper_mut() {
                    helper.refresh(session);
                }
                if let Next::Quit(s) = next {
                    status = s;
                    break;
                }
            }
            // Ctrl-C at the prompt abandons the input typed so far.
            Err(ReadlineError::Interrupted) => pending.clear(),
            // Ctrl-D (rustyline has ended the line already).
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_classified() {
        assert_eq!(classify("(+ 1 2)\n"), Input::Eval("(+ 1 2)\n"));
        assert_eq!(classify(",q\n"), Input::Quit);
        assert_eq!(classify("  ,help"), Input::Help);
        assert_eq!(classify(",load \"a b.valk\"\n"), Input::Load("a b.valk"));
        assert_eq!(classify(",time (f 1)\n"), Input::Time("(f 1)"));
        assert_eq!(classify(",vir (f 1)"), Input::Vir("(f 1)"));
        assert_eq!(classify(",llvm\t(f 1)"), Input::Llvm("(f 1)"));
        assert_eq!(classify(",time"), Input::Missing("time"));
        assert_eq!(classify(",frob x"), Input::Unknown("frob"));
    }

    #[test]
    fn words_end_at_scheme_delimiters() {
        assert_eq!(word_start("(defi", 5), 1);
        assert_eq!(word_start("abc", 3), 0);
        assert_eq!(word_start("(f '(vec", 8), 5);
        assert_eq!(word_start("(f `,@lst", 9), 6);
        assert_eq!(word_start("[string-ap", 10), 1);
        assert_eq!(word_start("(f x) (g", 8), 7);
        assert_eq!(word_start("(λx", 4), 1);
    }

    fn names(v: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn completion_offers_bound_names_with_the_prefix() {
        let n = names(&[
            "define",
            "define-record-type",
            "display",
            "car",
            "my-long-name",
        ]);
        assert_eq!(
            candidates(&n, "(defi", 5),
            (1, vec!["define".into(), "define-record-type".into()])
        );
        assert_eq!(
            candidates(&n, "(f (my-l 2)", 8),
            (4, vec!["my-long-name".into()])
        );
        assert_eq!(candidates(&n, "(zz", 3), (1, vec![]));
        // Nothing typed yet, or a literal: no candidates.
        assert_eq!(candidates(&n, "(", 1), (1, vec![]));
        assert_eq!(candidates(&n, "(f #t", 5), (3, vec![]));
    }

    #[test]
    fn completion_of_meta_commands() {
        assert_eq!(
            candidates(&[], ",ti", 3),
            (0, vec![",time ".to_string(), ",tier ".to_string()])
        );
        assert_eq!(candidates(&[], ",tie", 4), (0, vec![",tier ".to_string()]));
        assert_eq!(
            candidates(&[], "  ,l", 4),
            (2, vec![",load ".to_string(), ",llvm ".to_string()])
        );
    }

    #[test]
    fn time_report_shape() {
        let mut a = gc::Stats::default();
        let mut b = a;
        b.collections = 2;
        b.bytes_allocated = 4096;
        b.total_pause = std::time::Duration::from_micros(1500);
        a.bytes_allocated = 96;
        let r = time_report(std::time::Duration::from_millis(12), &a, &b);
        assert_eq!(
            r,
            ";; 12.000 ms wall, 2 collections (1.500 ms in GC), 4000 bytes allocated"
        );
    }
}
