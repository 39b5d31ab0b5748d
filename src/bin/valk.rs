//! `valk`: run a Valk program, evaluate an expression, or start the REPL.

use clap::Parser;
use valk::driver::{self, Session, ERROR_STATUS};

#[derive(Parser)]
#[command(
    name = "valk",
    version,
    about = "Valk: run a program or start the REPL"
)]
struct Cli {
    /// Use the reference interpreter (the JIT engine is not built yet, so
    /// this is currently the only engine `valk` runs).
    #[arg(long)]
    no_jit: bool,
    /// Use the ORC JIT engine (not available yet).
    #[arg(long, conflicts_with = "no_jit")]
    jit: bool,
    /// Evaluate EXPR, print its value, and exit.
    #[arg(short = 'e', value_name = "EXPR", conflicts_with = "file")]
    expr: Option<String>,
    /// Program to run; without one, start the REPL.
    file: Option<String>,
    /// Arguments passed to the program (`command-line`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    if cli.jit {
        eprintln!("error: the JIT engine is not available in this build yet; use --no-jit");
        std::process::exit(2);
    }
    let status = driver::with_big_stack(move || {
        let mut command_line = vec![cli.file.clone().unwrap_or_else(|| "valk".into())];
        command_line.extend(cli.args.iter().cloned());
        valk_runtime::builtins::set_command_line(command_line);
        let mut session = Session::new();
        let ok = if let Some(expr) = &cli.expr {
            session.run_source("<expr>", expr, true).is_ok()
        } else if let Some(file) = &cli.file {
            session.run_file(file).is_ok()
        } else {
            valk::repl::run(&mut session);
            true
        };
        if ok {
            0
        } else {
            ERROR_STATUS
        }
    });
    driver::exit(status);
}
