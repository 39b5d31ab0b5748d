//! The interactive REPL (interpreter-backed until the JIT lands).
//!
//! Input accumulates until it holds complete datums, so multi-line forms
//! work; each complete input is evaluated and its values written. Errors
//! are reported and the REPL goes on. With a terminal, rustyline provides
//! editing and history (`~/.valk_history`); piped input is read line by
//! line with no prompts, so sessions can be scripted.

use crate::driver::Session;
use crate::syntax::reader;
use std::io::{BufRead, IsTerminal};
use std::time::Instant;
use valk_runtime::gc;

const HELP: &str = "\
Enter Valk expressions; results are printed with `write`.
  ,help         this text
  ,quit         leave (Ctrl-D also works)
  ,load FILE    run a file in this session
  ,time EXPR    evaluate EXPR and report wall time and GC figures
";

/// What a complete input line asks for.
enum Input<'a> {
    Quit,
    Help,
    Load(&'a str),
    Time(&'a str),
    Eval(&'a str),
    Unknown(&'a str),
}

fn classify(text: &str) -> Input<'_> {
    let t = text.trim();
    let Some(cmd) = t.strip_prefix(',') else {
        return Input::Eval(text);
    };
    let (name, arg) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
    let arg = arg.trim();
    match name {
        "q" | "quit" | "exit" => Input::Quit,
        "h" | "help" | "?" => Input::Help,
        "load" => Input::Load(arg.trim_matches('"')),
        "time" => Input::Time(arg),
        _ => Input::Unknown(name),
    }
}

/// Handles one complete input; returns false to quit.
fn handle(session: &mut Session, text: &str) -> bool {
    match classify(text) {
        Input::Quit => return false,
        Input::Help => print!("{HELP}"),
        Input::Load(path) => {
            let _ = session.run_file(path);
        }
        Input::Time(expr) => {
            let before = gc::stats();
            let t0 = Instant::now();
            let _ = session.run_source("<repl>", expr, true);
            let dt = t0.elapsed();
            let after = gc::stats();
            eprintln!(
                ";; {:.3} ms, {} collections, {} bytes allocated",
                dt.as_secs_f64() * 1e3,
                after.collections - before.collections,
                after.bytes_allocated - before.bytes_allocated
            );
        }
        Input::Eval(src) => {
            let _ = session.run_source("<repl>", src, true);
        }
        Input::Unknown(name) => eprintln!("error: unknown command ,{name} (try ,help)"),
    }
    true
}

/// True when `text` needs more lines before it can be evaluated.
fn needs_more(text: &str) -> bool {
    !text.trim_start().starts_with(',') && reader::is_incomplete(text)
}

pub fn run(session: &mut Session) {
    if std::io::stdin().is_terminal() {
        run_terminal(session);
    } else {
        run_piped(session);
    }
}

fn run_piped(session: &mut Session) {
    let stdin = std::io::stdin();
    let mut pending = String::new();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        pending.push_str(&line);
        pending.push('\n');
        if needs_more(&pending) {
            continue;
        }
        let text = std::mem::take(&mut pending);
        if !text.trim().is_empty() && !handle(session, &text) {
            return;
        }
    }
    if !pending.trim().is_empty() {
        handle(session, &pending);
    }
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".valk_history"))
}

fn run_terminal(session: &mut Session) {
    use rustyline::error::ReadlineError;
    let mut rl = match rustyline::DefaultEditor::new() {
        Ok(rl) => rl,
        Err(_) => return run_piped(session),
    };
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    println!(
        "Valk {} (interpreter) — ,help for help",
        env!("CARGO_PKG_VERSION")
    );
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            "valk> "
        } else {
            "  ... "
        };
        match rl.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                pending.push('\n');
                if needs_more(&pending) {
                    continue;
                }
                let text = std::mem::take(&mut pending);
                if text.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(text.trim_end());
                if !handle(session, &text) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                pending.clear();
            }
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
}
