//! JIT code is visible to debuggers and profilers (docs/jit.md, "Debuggers
//! and profilers"): with `VALK_PERF=1` the JIT writes a perf jitdump that
//! names the Valk procedures, and gdb's backtrace through JIT frames names
//! them too (gdb's JIT interface).

use std::path::PathBuf;
use std::process::Command;

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-debuggers-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn perf_jitdump_names_the_procedures() {
    let dir = scratch("perf");
    let file = dir.join("fib.valk");
    std::fs::write(
        &file,
        "(define (fibonacci-number n)\n  (if (< n 2) n (+ (fibonacci-number (- n 1)) (fibonacci-number (- n 2)))))\n(display (fibonacci-number 20))\n",
    )
    .unwrap();
    // Every form compiled (the default may run a program tiered first:
    // docs/tiering.md).
    let out = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg(&file)
        .env("VALK_TIER", "1")
        .env("VALK_PERF", "1")
        .env("JITDUMPDIR", &dir)
        .env("VALK_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6765");
    let dumps: Vec<PathBuf> = files_under(&dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("jit-"))
        })
        .collect();
    assert_eq!(dumps.len(), 1, "one jitdump file: {dumps:?}");
    let bytes = std::fs::read(&dumps[0]).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("fibonacci-number"),
        "the jitdump names the procedure"
    );
    // Without the switch, no dump.
    let quiet = scratch("perf-off");
    // Every form compiled (the default may run a program tiered first:
    // docs/tiering.md).
    let out = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg(&file)
        .env("VALK_TIER", "1")
        .env("JITDUMPDIR", &quiet)
        .env("VALK_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(files_under(&quiet).is_empty());
}

#[test]
fn gdb_backtrace_names_jit_frames() {
    if Command::new("gdb").arg("--version").output().is_err() {
        panic!("gdb is missing: `./x setup` installs it");
    }
    let dir = scratch("gdb");
    let file = dir.join("crash.valk");
    std::fs::write(
        &file,
        "(define (descend-and-abort n)\n  (if (= n 0) (c-call (dlsym #f \"abort\") '(void)) (+ 1 (descend-and-abort (- n 1)))))\n(display (descend-and-abort 3))\n",
    )
    .unwrap();
    let out = Command::new("gdb")
        .args(["-q", "-batch", "-ex", "run", "-ex", "bt"])
        .arg("--args")
        .arg(env!("CARGO_BIN_EXE_valk"))
        .arg(&file)
        .env("VALK_TIER", "1")
        .env("VALK_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if text.contains("ptrace") && text.contains("not permitted") {
        eprintln!("skipped: gdb may not trace processes here (ptrace not permitted)");
        return;
    }
    let frames = text
        .lines()
        .filter(|l| l.starts_with('#') && l.contains("descend-and-abort"))
        .count();
    assert!(frames >= 3, "JIT frames named in gdb's backtrace:\n{text}");
}

#[test]
fn gdb_on_an_executable_compiled_with_g() {
    if Command::new("gdb").arg("--version").output().is_err() {
        panic!("gdb is missing: `./x setup` installs it");
    }
    let dir = scratch("dwarf");
    let file = dir.join("fib.valk");
    std::fs::write(
        &file,
        "(define (fib n)\n  (if (< n 2)\n      n\n      (+ (fib (- n 1)) (fib (- n 2)))))\n(display (fib 15))\n",
    )
    .unwrap();
    let exe = dir.join("fib");
    for opt in ["-O0", "-O2"] {
        let built = Command::new(env!("CARGO_BIN_EXE_valkc"))
            .args(["compile", "-g", opt])
            .arg(&file)
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        assert!(built.status.success(), "{built:?}");
        let run = Command::new(&exe).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), "610");
        let out = Command::new("gdb")
            .args(["-q", "-batch", "-ex", "break fib", "-ex", "run"])
            .args(["-ex", "bt", "-ex", "info line"])
            .arg(&exe)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if text.contains("ptrace") && text.contains("not permitted") {
            eprintln!("skipped: gdb may not trace processes here (ptrace not permitted)");
            return;
        }
        assert!(
            text.contains("Breakpoint 1 at") && text.contains("file fib.valk, line 2"),
            "{opt}: break on the Valk name:\n{text}"
        );
        assert!(
            text.contains("#0  fib () at fib.valk:2"),
            "{opt}: bt with the Valk name and line:\n{text}"
        );
        assert!(
            text.contains("Line 2 of \"fib.valk\""),
            "{opt}: info line:\n{text}"
        );
    }
}
