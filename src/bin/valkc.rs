//! `valkc`: the Valk compiler driver.

use clap::{Parser, Subcommand};
use valk::cache::RunEnd;
use valk::lower::LowerOptions;
use valk::pipeline;
use valk::syntax::source::SourceMap;

#[derive(Parser)]
#[command(name = "valkc", version, about = "Valk compiler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Also look for imported libraries in DIR (after the importing file's
    /// directory; repeatable).
    #[arg(short = 'I', long = "lib-path", value_name = "DIR", global = true)]
    lib_path: Vec<std::path::PathBuf>,
    /// Emit debugging information (DWARF line tables and functions named
    /// after their Valk procedures) into compiled code.
    #[arg(short = 'g', global = true)]
    debug: bool,
    /// Link the executable with library NAME (`cc -lNAME`; repeatable).
    #[arg(short = 'l', value_name = "NAME", global = true)]
    link_libs: Vec<String>,
    /// Search DIR for `-l` libraries (`cc -LDIR`; repeatable).
    #[arg(short = 'L', value_name = "DIR", global = true)]
    link_dirs: Vec<String>,
}

/// valkc's options that take a value, wherever they appear.
const WITH_VALUE: &[&str] = &["-O", "-I", "--lib-path", "-o", "-l", "-L"];

#[derive(Subcommand)]
enum Command {
    /// Print the VIR of a program.
    EmitVir {
        file: String,
        /// Optimisation level (0-3).
        #[arg(short = 'O', default_value = "0", value_parser = clap::value_parser!(u8).range(0..=3))]
        opt: u8,
        /// Write to this file instead of stdout.
        #[arg(short = 'o')]
        output: Option<String>,
        /// Include the prelude's forms (by default only the program's are
        /// lowered; the prelude's definitions are still known).
        #[arg(long)]
        with_prelude: bool,
    },
    /// Compile a program (with the prelude) into a standalone executable.
    Compile {
        file: String,
        /// Output executable.
        #[arg(short = 'o')]
        output: String,
        /// Optimisation level (0-3).
        #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
        opt: u8,
        /// Write assembly to the output path instead of linking.
        #[arg(long, conflicts_with = "emit_obj")]
        emit_asm: bool,
        /// Write the object file to the output path instead of linking.
        #[arg(long)]
        emit_obj: bool,
    },
    /// Print the LLVM IR of a program (after the whole pipeline).
    EmitLlvm {
        file: String,
        /// Optimisation level (0-3).
        #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
        opt: u8,
        /// Write to this file instead of stdout.
        #[arg(short = 'o')]
        output: Option<String>,
        /// Stop before the statepoint rewrite.
        #[arg(long)]
        before_gc: bool,
        /// The IR as generated, before any LLVM pass.
        #[arg(long, conflicts_with = "before_gc")]
        unoptimized: bool,
    },
    /// Run a program, compiling it only when it or a file it loads changed
    /// since the last run (the executable is cached; see docs/cache.md).
    Run {
        /// Optimisation level (0-3).
        #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=3))]
        opt: u8,
        file: String,
        /// Arguments for the program (`command-line`), even ones starting
        /// with `-`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

fn fail(msg: &str) -> ! {
    valk_runtime::eprint_quiet!("{msg}");
    if !msg.ends_with('\n') {
        valk_runtime::eprintln_quiet!();
    }
    std::process::exit(1)
}

/// Ends this process the way a child that was killed by `sig` ended, so
/// that `valkc run`'s caller sees the program's own fate.
fn die_of_signal(sig: i32) -> ! {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition and raising it at
    // ourselves have no memory-safety preconditions.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

fn emit_vir(file: &str, opt: u8, output: Option<&str>, with_prelude: bool) {
    let text = match valk::syntax::source::read_source_file(std::path::Path::new(file)) {
        Ok(t) => t,
        Err(e) => fail(&format!("error: cannot read {file}: {e}")),
    };
    let mut sources = SourceMap::new();
    let expanded = match pipeline::expand_program(&mut sources, file, &text) {
        Ok(x) => x,
        Err(d) => fail(&d.render(&sources)),
    };
    let mut opts = LowerOptions {
        fixed_globals: true,
        ..LowerOptions::default()
    };
    let tops = if with_prelude {
        let mut all = expanded.prelude.clone();
        all.extend(expanded.program.iter().cloned());
        all
    } else {
        opts.predefined = expanded.prelude_globals();
        expanded.program.clone()
    };
    let lowered = match pipeline::lower(&tops, &sources, &opts, pipeline::opt_level(opt as u32)) {
        Ok(l) => l,
        Err(d) => fail(&d.render(&sources)),
    };
    let text = valk_vir::print_module(&lowered.module);
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                fail(&format!("error: cannot write {path}: {e}"));
            }
        }
        None => print!("{text}"),
    }
}

fn write_or_print(output: Option<&str>, bytes: &[u8]) {
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, bytes) {
                fail(&format!("error: cannot write {path}: {e}"));
            }
        }
        None => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(bytes);
        }
    }
}

fn compile(file: &str, output: &str, opt: u8, emit_asm: bool, emit_obj: bool) {
    let r = if emit_asm || emit_obj {
        let out = if emit_asm {
            valk_llvm::Output::Asm
        } else {
            valk_llvm::Output::Object
        };
        pipeline::compile_file(file, opt as u32, out).map(|b| write_or_print(Some(output), &b))
    } else {
        pipeline::build_executable(file, std::path::Path::new(output), opt as u32)
    };
    if let Err(e) = r {
        fail(&e.0);
    }
}

fn emit_llvm(file: &str, opt: u8, output: Option<&str>, before_gc: bool, unoptimized: bool) {
    let r = if unoptimized {
        pipeline::lower_file(file, opt as u32)
            .and_then(|p| pipeline::program_ir(&p, pipeline::Target::Executable))
            .map(String::into_bytes)
    } else {
        let out = if before_gc {
            valk_llvm::Output::LlvmIrBeforeGc
        } else {
            valk_llvm::Output::LlvmIr
        };
        pipeline::compile_file(file, opt as u32, out)
    };
    match r {
        Ok(b) => write_or_print(output, &b),
        Err(e) => fail(&e.0),
    }
}

fn main() {
    // `valkc run FILE ARGS...`: options after FILE belong to the program
    // (`valkc run prog.valk --help`), so they are cut off before clap.
    let mut raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut program_args = Vec::new();
    // The subcommand is the first argument that is neither an option nor
    // an option's value.
    let command_at = valk::driver::program_args_start(&raw, 1, WITH_VALUE);
    if command_at >= 1 && raw.get(command_at - 1).is_some_and(|a| a == "run") {
        program_args = raw.split_off(valk::driver::program_args_start(
            &raw, command_at, WITH_VALUE,
        ));
    }
    let mut cli = Cli::parse_from(raw);
    valk::expand::set_library_dirs(cli.lib_path.clone());
    pipeline::set_debug_info(cli.debug);
    let mut link = Vec::new();
    link.extend(cli.link_dirs.iter().map(|d| format!("-L{d}")));
    link.extend(cli.link_libs.iter().map(|l| format!("-l{l}")));
    valk_llvm::set_link_flags(link);
    if let Command::Run { args, .. } = &mut cli.command {
        args.extend(program_args);
    }
    match cli.command {
        Command::EmitVir {
            file,
            opt,
            output,
            with_prelude,
        } => emit_vir(&file, opt, output.as_deref(), with_prelude),
        Command::Compile {
            file,
            output,
            opt,
            emit_asm,
            emit_obj,
        } => compile(&file, &output, opt, emit_asm, emit_obj),
        Command::EmitLlvm {
            file,
            opt,
            output,
            before_gc,
            unoptimized,
        } => emit_llvm(&file, opt, output.as_deref(), before_gc, unoptimized),
        Command::Run { opt, file, args } => match valk::cache::run(&file, opt as u32, &args) {
            RunEnd::Failed(e) => fail(&e.0),
            RunEnd::Exited(status) => std::process::exit(status),
            RunEnd::Signaled(sig) => die_of_signal(sig),
        },
    }
}
