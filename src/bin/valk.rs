//! `valk`: run a Valk program, evaluate an expression, or start the REPL.

use clap::Parser;
use valk::driver::{self, EngineKind, Failure, Session};
use valk_runtime::error::ERROR_EXIT_STATUS;
use valk_runtime::host;

#[derive(Parser)]
#[command(
    name = "valk",
    version,
    about = "Valk: run a program or start the REPL (JIT-compiled by default)"
)]
struct Cli {
    /// Use the reference interpreter instead of the JIT.
    #[arg(long)]
    no_jit: bool,
    /// Use the ORC JIT engine (the default).
    #[arg(long, conflicts_with = "no_jit")]
    jit: bool,
    /// Compile the whole program with -O2 before it runs (no tiering;
    /// docs/tiering.md).
    #[arg(long, conflicts_with = "no_jit")]
    opt_whole: bool,
    /// Compile FILE into the JIT cache without running it (what `valk
    /// FILE` starts in the background when its program is not cached).
    #[arg(long, hide = true, requires = "file")]
    cache_only: bool,
    /// Compile with DWARF line tables, for gdb and perf on JIT code (as
    /// `VALK_DEBUG=1`; docs/debugging.md).
    #[arg(short = 'g')]
    debug: bool,
    /// Evaluate EXPR, print its value, and exit.
    #[arg(short = 'e', value_name = "EXPR", conflicts_with = "file")]
    expr: Option<String>,
    /// Program to run; without one, start the REPL.
    file: Option<String>,
    /// Also look for imported libraries in DIR (after the importing file's
    /// directory; repeatable).
    #[arg(short = 'I', long = "lib-path", value_name = "DIR")]
    lib_path: Vec<std::path::PathBuf>,
    /// Arguments passed to the program (`command-line`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() {
    // The program's arguments are cut off before clap sees them: options
    // after FILE belong to the program (`valk prog.valk -V`).
    let mut raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let program_args = raw.split_off(driver::program_args_start(
        &raw,
        1,
        &["-e", "-I", "--lib-path"],
    ));
    let mut cli = Cli::parse_from(raw);
    cli.args.extend(
        program_args
            .iter()
            .map(|a| a.to_string_lossy().into_owned()),
    );
    valk::expand::set_library_dirs(cli.lib_path.clone());
    driver::set_whole_program(cli.opt_whole);
    if cli.debug {
        valk::pipeline::set_debug_info(true);
    }
    if let Some(file) = &cli.file {
        let mut fill = vec!["--cache-only".to_string()];
        for d in &cli.lib_path {
            fill.push("-I".into());
            fill.push(d.to_string_lossy().into_owned());
        }
        fill.push("--".into());
        fill.push(file.clone());
        driver::set_cache_fill_args(fill);
    }
    let kind = if cli.no_jit {
        EngineKind::Interpreter
    } else {
        EngineKind::Jit
    };
    let ran = driver::with_big_stack(move || {
        let mut command_line = vec![cli.file.clone().unwrap_or_else(|| "valk".into())];
        command_line.extend(cli.args.iter().cloned());
        valk_runtime::builtins::set_command_line(command_line);
        if cli.expr.is_some() || cli.file.is_some() {
            valk_runtime::interrupt::install_stop_handlers();
        }
        let result = if cli.cache_only {
            let file = cli.file.clone().unwrap_or_default();
            Session::cache_program(&file)
        } else if let Some(expr) = &cli.expr {
            Session::with_engine(kind)
                .map_err(Failure::from)
                .and_then(|mut s| {
                    s.expander.borrow_mut().set_interactive(true);
                    s.run_source("<expr>", expr, true)
                })
        } else if let Some(file) = &cli.file {
            Session::run_program(kind, file)
        } else {
            return match Session::with_engine(kind) {
                Ok(mut s) => {
                    // `import` at the prompt adds to what is visible.
                    s.expander.borrow_mut().set_interactive(true);
                    valk::repl::run(&mut s)
                }
                Err(e) => Failure::from(e).status(),
            };
        };
        result.map_or_else(Failure::status, |()| 0)
    });
    let status = ran.unwrap_or_else(|e| {
        e.report();
        ERROR_EXIT_STATUS
    });
    // Only the binaries end the process (docs/architecture.md).
    let status = host::finish(status);
    std::process::exit(status)
}
