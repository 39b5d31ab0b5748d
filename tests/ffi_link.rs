//! `valkc compile -l NAME -L DIR` (and `valkc run -l NAME`): AOT
//! executables linked with a C library find its symbols with library `#f`
//! in typed foreign procedures (docs/ffi.md, "Typed foreign procedures").

use std::path::PathBuf;
use std::process::Command;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("valk-ffi-link-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const PROGRAM: &str = r#"
(define-c-function compress-bound #f "compressBound" (ulong) ulong)
(define-c-function c-cos #f "cos" (double) double)
(display (list (compress-bound 1000) (c-cos 0.0)))
(newline)
"#;

fn valkc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_valkc"))
}

#[test]
fn compile_with_link_flags() {
    let d = scratch("compile");
    let src = d.join("z.valk");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = d.join("z");
    let out = valkc()
        .args(["compile", "-l", "z", "-L", "/usr/lib", "-lm"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "(1013 1.0)\n");
    assert!(run.status.success());

    // Without `-l z` the symbol is not in the process: the error names it.
    let exe2 = d.join("z2");
    let out = valkc()
        .arg("compile")
        .arg(&src)
        .arg("-o")
        .arg(&exe2)
        .output()
        .unwrap();
    assert!(out.status.success());
    let run = Command::new(&exe2).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.starts_with("error: compressBound: C symbol not found in the process\nbacktrace"),
        "{err}"
    );

    // A library the linker cannot find is a link error.
    let out = valkc()
        .args(["compile", "-l", "valk-no-such-library"])
        .arg(&src)
        .arg("-o")
        .arg(d.join("z3"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("valk-no-such-library"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn run_with_link_flags() {
    let d = scratch("run");
    let src = d.join("z.valk");
    std::fs::write(&src, PROGRAM).unwrap();
    let out = valkc()
        .env("VALK_CACHE_DIR", d.join("cache"))
        .args(["run", "-l", "z"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "(1013 1.0)\n");
    let _ = std::fs::remove_dir_all(&d);
}
