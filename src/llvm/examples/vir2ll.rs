//! Development tool: `vir2ll FILE.vir [-O N] [ir|before-gc|raw|asm|exe=PATH]` prints
//! the LLVM IR (or assembly) of hand-written VIR; top-level functions are
//! those named `top*`.

use valk_llvm::{default_proc_name, emit_module, Backend, EmitOptions, Output};
use valk_vir::{parse_module, FuncId, Loc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: vir2ll FILE.vir [-O N] [ir|before-gc|raw|asm|exe=PATH]");
        std::process::exit(2);
    };
    let mut level = 2;
    let mut what = "ir".to_string();
    let mut i = 2;
    while i < args.len() {
        if args[i] == "-O" {
            level = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(2);
            i += 2;
        } else {
            what = args[i].clone();
            i += 1;
        }
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let m = parse_module(&text).unwrap_or_else(|e| {
        eprintln!("{path}: {e:?}");
        std::process::exit(1)
    });
    let tops: Vec<FuncId> = (0..m.funcs.len())
        .filter(|&i| m.funcs[i].name.starts_with("top"))
        .map(FuncId::new)
        .collect();
    let diag = |_: Loc, _: &str| None;
    let opts = EmitOptions {
        aot: true,
        descriptor: None,
        install_eval: None,
        unbound_diag: &diag,
        proc_name: &default_proc_name,
        debug: None,
        sites: None,
    };
    let ir = emit_module(&m, &tops, &opts).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    if let Some(exe) = what.strip_prefix("exe=") {
        let lib = valk_llvm::find_runtime_lib().expect("set VALK_RUNTIME_LIB");
        if let Err(e) =
            valk_llvm::build_executable(&m, &tops, level, &lib, std::path::Path::new(exe))
        {
            eprintln!("{e}");
            std::process::exit(1)
        }
        return;
    }
    if what == "raw" {
        print!("{ir}");
        return;
    }
    let out = match what.as_str() {
        "before-gc" => Output::LlvmIrBeforeGc,
        "asm" => Output::Asm,
        _ => Output::LlvmIr,
    };
    let r = Backend::new(level).and_then(|b| b.compile(&ir, level, out));
    match r {
        Ok(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
