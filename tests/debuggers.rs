//! JIT code is visible to debuggers and profilers (docs/jit.md, "Debuggers
//! and profilers"): with `VALK_PERF=1` the JIT writes a perf jitdump that
//! names the Valk procedures (with line records, docs/debugging.md), and
//! gdb's backtrace through JIT frames names them too (gdb's JIT
//! interface); with `valk -g` gdb also shows their Valk lines. AOT
//! executables compiled with `-g` carry DWARF; `-g` never changes the code.

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
    // `VALK_PERF=1` turns line tables on: the dump has debug-info records
    // naming the program's file, for `perf report --sort srcline`.
    let files = jitdump_debug_files(&bytes);
    assert!(
        files.iter().any(|f| f.ends_with("/fib.valk")),
        "debug-info records name fib.valk: {files:?}"
    );
    // `VALK_DEBUG=0` turns them off again.
    let plain = scratch("perf-plain");
    let out = Command::new(env!("CARGO_BIN_EXE_valk"))
        .arg(&file)
        .env("VALK_TIER", "1")
        .env("VALK_PERF", "1")
        .env("VALK_DEBUG", "0")
        .env("JITDUMPDIR", &plain)
        .env("VALK_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dump = files_under(&plain)
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("jit-"))
        })
        .expect("a jitdump");
    let files = jitdump_debug_files(&std::fs::read(dump).unwrap());
    assert!(files.is_empty(), "no line records: {files:?}");
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

/// The file names of the line entries of a jitdump's debug-info records
/// (record type 2, `JIT_CODE_DEBUG_INFO`, in perf's jitdump format).
fn jitdump_debug_files(dump: &[u8]) -> Vec<String> {
    let u32_at = |o: usize| u32::from_le_bytes(dump[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(dump[o..o + 8].try_into().unwrap()) as usize;
    let mut files = Vec::new();
    // Header: magic, version, header size, ...
    let mut off = u32_at(8);
    while off + 16 <= dump.len() {
        let (id, size) = (u32_at(off), u32_at(off + 4));
        if id == 2 {
            // Record header (16 bytes), code address, entry count, then
            // entries: address, line, discriminator, NUL-terminated name.
            let count = u64_at(off + 24);
            let mut p = off + 32;
            for _ in 0..count {
                p += 16;
                let end = p + dump[p..].iter().position(|&b| b == 0).unwrap();
                files.push(String::from_utf8_lossy(&dump[p..end]).into_owned());
                p = end + 1;
            }
        }
        assert!(size > 0, "a jitdump record of size 0");
        off += size;
    }
    files.sort();
    files.dedup();
    files
}

/// Is gdb unable to trace processes here (a container without ptrace)?
fn ptrace_refused(text: &str) -> bool {
    text.contains("ptrace") && text.contains("not permitted")
}

fn gdb_or_panic() {
    if Command::new("gdb").arg("--version").output().is_err() {
        panic!("gdb is missing: `./x setup` installs it");
    }
}

/// `valk -g` on JIT code, every way it compiles: the whole program
/// (`VALK_TIER=1`), tier-1 compiles of single procedures
/// (`VALK_TIER=eager`), the file as one module with globals through cells
/// (`VALK_JIT_WHOLE_PROGRAM=0`, as `,load` compiles it) and REPL inputs.
/// gdb stops at a pending breakpoint on the Valk name, `info line` names
/// the Valk line, and after the program aborts inside a runtime function
/// (a foreign call) `bt` shows the JIT frames with their Valk lines.
#[test]
fn gdb_on_jit_code_with_g() {
    gdb_or_panic();
    let dir = scratch("jit-g");
    let file = dir.join("crash.valk");
    let program = "(define (descend-and-abort n)\n  (if (= n 0)\n      (c-call (dlsym #f \"abort\") '(void))\n      (+ 1 (descend-and-abort (- n 1)))))\n";
    std::fs::write(&file, format!("{program}(display (descend-and-abort 3))\n")).unwrap();
    let input = dir.join("input.valk");
    std::fs::write(&input, format!("{program}(descend-and-abort 3)\n")).unwrap();
    let modes: [(&str, &[(&str, &str)]); 4] = [
        ("whole program", &[("VALK_TIER", "1")]),
        ("tier 1", &[("VALK_TIER", "eager")]),
        (
            "one module",
            &[("VALK_TIER", "1"), ("VALK_JIT_WHOLE_PROGRAM", "0")],
        ),
        ("REPL", &[("VALK_TIER", "1")]),
    ];
    for (mode, env) in modes {
        let repl = mode == "REPL";
        let mut cmd = Command::new("gdb");
        cmd.args(["-q", "-batch", "-ex", "set breakpoint pending on"])
            .args(["-ex", "break descend-and-abort"]);
        if repl {
            // `run ARGS` replaces the arguments: `-g` goes with the input.
            cmd.args(["-ex", &format!("run -g < {}", input.display())]);
        } else {
            cmd.args(["-ex", "run"]);
        }
        cmd.args(["-ex", "info line", "-ex", "delete", "-ex", "continue"])
            .args(["-ex", "bt"]);
        if repl {
            cmd.arg(env!("CARGO_BIN_EXE_valk"));
        } else {
            cmd.arg("--args")
                .arg(env!("CARGO_BIN_EXE_valk"))
                .arg("-g")
                .arg(&file);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .env("VALK_CACHE_DIR", dir.join("cache"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if ptrace_refused(&text) {
            eprintln!("skipped: gdb may not trace processes here (ptrace not permitted)");
            return;
        }
        let name = if repl { "<repl>" } else { "crash.valk" };
        assert!(
            text.contains("hit Breakpoint 1")
                && text.contains(&format!(", descend-and-abort () at {name}:2")),
            "{mode}: break on the Valk name:\n{text}"
        );
        assert!(
            text.contains(&format!("Line 2 of \"{name}\"")),
            "{mode}: info line:\n{text}"
        );
        assert!(
            text.contains("SIGABRT"),
            "{mode}: the program aborts:\n{text}"
        );
        let frames = |line: u32| {
            text.lines()
                .filter(|l| {
                    l.starts_with('#')
                        && l.contains(&format!("in descend-and-abort () at {name}:{line}"))
                })
                .count()
        };
        // The innermost activation at the foreign call (line 3), the
        // others at the recursive call (line 4), one frame each.
        assert_eq!(frames(3), 1, "{mode}: the frame at the abort:\n{text}");
        assert!(frames(4) >= 2, "{mode}: the callers' frames:\n{text}");
        assert_eq!(frames(2), 0, "{mode}: no entry frames:\n{text}");
    }
}

/// The code of a JIT object and of an AOT object is the same with and
/// without DWARF: `.text`, the stack maps (with the backtraces' site IDs),
/// the read-only data (with the site tables) and the text relocations.
#[test]
fn debug_info_does_not_change_the_code() {
    let dir = scratch("same-code");
    let file = dir.join("tak.valk");
    std::fs::write(
        &file,
        "(define (tak x y z)\n  (if (not (< y x)) z\n      (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))\n(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n(display (list (tak 18 12 6) (fib 20)))\n",
    )
    .unwrap();
    let mut objects = Vec::new();
    for debug in ["0", "1"] {
        let cache = dir.join(format!("cache{debug}"));
        let out = Command::new(env!("CARGO_BIN_EXE_valk"))
            .arg("--cache-only")
            .arg(&file)
            .env("VALK_DEBUG", debug)
            .env("VALK_CACHE_DIR", &cache)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let obj = files_under(&cache.join("jit"))
            .into_iter()
            .find(|p| p.extension().is_some_and(|x| x == "o"))
            .expect("the cached object");
        objects.push(std::fs::read(obj).unwrap());
    }
    for opt in ["-O0", "-O2"] {
        for g in [false, true] {
            let obj = dir.join(format!("tak{opt}{g}.o"));
            let out = Command::new(env!("CARGO_BIN_EXE_valkc"))
                .args(["compile", "--emit-obj", opt])
                .args(g.then_some("-g"))
                .arg(&file)
                .arg("-o")
                .arg(&obj)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            objects.push(std::fs::read(obj).unwrap());
        }
    }
    for (what, pair) in ["JIT", "AOT -O0", "AOT -O2"].iter().zip(objects.chunks(2)) {
        let (plain, debug) = (&pair[0], &pair[1]);
        assert!(
            elf_section(debug, ".debug_line").is_some()
                && elf_section(plain, ".debug_line").is_none(),
            "{what}: line tables only with -g"
        );
        for section in [".text", ".llvm_stackmaps", ".rodata", ".rela.text"] {
            let (a, b) = (elf_section(plain, section), elf_section(debug, section));
            assert!(a.is_some(), "{what}: no {section}");
            if section == ".rela.text" {
                // Entries without their symbol index (DWARF adds symbols).
                let strip = |r: &[u8]| -> Vec<u8> {
                    r.chunks(24)
                        .flat_map(|e| e[..12].iter().chain(&e[16..]).copied().collect::<Vec<_>>())
                        .collect()
                };
                assert_eq!(strip(a.unwrap()), strip(b.unwrap()), "{what}: {section}");
            } else {
                assert!(a == b, "{what}: {section} differs with -g");
            }
        }
    }
}

/// The contents of section `name` of an ELF64 little-endian object.
fn elf_section<'a>(elf: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF");
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    (0..shnum).find_map(|i| {
        let h = header(i);
        let n = strtab + u32_at(h);
        let end = n + elf[n..].iter().position(|&b| b == 0)?;
        (&elf[n..end] == name.as_bytes()).then(|| {
            let (off, size) = (u64_at(h + 0x18), u64_at(h + 0x20));
            &elf[off..off + size]
        })
    })
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
        // One location, or two when LLVM also inlined the body into the
        // closure's entry (docs/debugging.md).
        assert!(
            text.contains("Breakpoint 1 at")
                && (text.contains("file fib.valk, line 2") || text.contains("fib. (2 locations)")),
            "{opt}: break on the Valk name:\n{text}"
        );
        assert!(
            text.contains(", fib () at fib.valk:2"),
            "{opt}: stops in fib:\n{text}"
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
