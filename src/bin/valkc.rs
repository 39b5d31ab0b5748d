//! `valkc`: the Valk compiler driver.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "valkc", version, about = "Valk compiler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::EmitVir { .. } => {
            eprintln!("error: emit-vir is not available yet (VIR lowering has not landed)");
            std::process::exit(2);
        }
    }
}
