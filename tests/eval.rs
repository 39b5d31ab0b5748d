//! `eval` outside the golden corpus (docs/libraries.md, "eval"): AOT
//! executables carry the evaluator only when the program uses `eval`, and
//! the procedure `load` (which programs reach through the expander's
//! `load` syntax) loads a file into an environment.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("valk-eval-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles `text` into an executable in `dir`; returns its path.
fn compile(dir: &Path, name: &str, text: &str) -> PathBuf {
    let src = dir.join(format!("{name}.valk"));
    std::fs::write(&src, text).unwrap();
    let exe = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .arg("compile")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "valkc compile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn only_executables_that_use_eval_carry_the_evaluator() {
    let dir = temp_dir("aot");
    let hello = compile(&dir, "hello", "(display \"hello\")\n(newline)\n");
    let with_eval = compile(&dir, "with_eval", "(display (eval '(* 6 7)))\n(newline)\n");
    let run = |exe: &Path| {
        let out = Command::new(exe).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&hello), "hello\n");
    assert_eq!(run(&with_eval), "42\n");
    // The symbol table names `valk_eval_install` only when the evaluator
    // (expander and interpreter) was linked in.
    let hello_bytes = std::fs::read(&hello).unwrap();
    let eval_bytes = std::fs::read(&with_eval).unwrap();
    assert!(!contains(&hello_bytes, b"valk_eval_install"));
    assert!(contains(&eval_bytes, b"valk_eval_install"));
    assert!(hello_bytes.len() < eval_bytes.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_load_procedure_loads_into_an_environment() {
    use valk_runtime::eval_hooks::{make_environment, INTERACTION};
    use valk_runtime::{builtins, object, printer};
    let dir = temp_dir("load");
    let file = dir.join("defs.scm");
    std::fs::write(
        &file,
        "(define-syntax twice (syntax-rules () ((_ e) (* 2 e))))\n\
         (define loaded (twice 21))\n",
    )
    .unwrap();
    let path = file.to_string_lossy().into_owned();
    let h = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut session = valk::driver::Session::new().expect("session starts");
            let load = builtins::lookup("load").expect("load is a builtin");
            let env = make_environment(INTERACTION);
            let r = (load.func)(&[object::string_from(&path), env]);
            assert!(r.is_ok());
            // The definition and the macro are the session's now.
            session
                .run_source("t.valk", "(define seen (list loaded (twice 5)))", false)
                .expect("runs");
            let seen = valk_runtime::globals::get(valk_runtime::globals::global_id("seen"));
            assert_eq!(printer::write_string(seen), "(42 10)");
            let missing = (load.func)(&[object::string_from("/nonexistent/x.scm")]);
            assert!(missing.is_err());
            let msg = valk_runtime::error::format_error(valk_runtime::error::take_pending());
            assert!(msg.starts_with("load: "), "{msg}");
        })
        .unwrap();
    h.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
