//! `(command-line)` on every engine: the interpreter (`valk --no-jit F
//! ARGS`), the JIT (`valk F ARGS`), `valkc run F ARGS` and an AOT
//! executable (`EXE ARGS`). The arguments must arrive unchanged, spaces and
//! leading dashes included; the first element is the program's name, which
//! differs today: the source path as given for `valk` and `valkc run`,
//! `argv[0]` for an AOT executable.
//!
//! The exit statuses of `exit` are covered on the interpreter, the JIT and
//! AOT by the golden programs `error-exit-code` (3), `error-exit-false`
//! (`#f` → 1) and `error-exit-out-of-range` (256 → 1); `valkc run` is
//! checked here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory holding the programs, the compile caches and the
/// AOT executables of one test; removed when dropped.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "valk-command-line-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Sandbox(d)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn cache(&self) -> PathBuf {
        self.0.join("cache")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    Interp,
    Jit,
    ValkcRun,
    Aot,
}

const ENGINES: [Engine; 4] = [Engine::Interp, Engine::Jit, Engine::ValkcRun, Engine::Aot];

/// The command running `program` with `args` on `engine`, from the
/// sandbox, with the program named by its file name; for AOT, the
/// executable is compiled first (`-O0`) and named `./EXE`.
fn command(s: &Sandbox, engine: Engine, program: &Path, args: &[&str]) -> Command {
    let name = program.file_name().unwrap();
    let mut c = match engine {
        Engine::Interp => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
            c.arg("--no-jit").arg(name);
            c
        }
        Engine::Jit => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
            c.arg(name);
            c
        }
        Engine::ValkcRun => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_valkc"));
            c.arg("run").arg(name);
            c
        }
        Engine::Aot => {
            let exe = aot_exe(s, program);
            Command::new(Path::new(".").join(exe.file_name().unwrap()))
        }
    };
    c.args(args)
        .current_dir(&s.0)
        .env("VALK_CACHE_DIR", s.cache())
        .env_remove("VALK_GC_STRESS")
        .stdin(Stdio::null());
    c
}

/// Compiles `program` to an executable beside it (once).
fn aot_exe(s: &Sandbox, program: &Path) -> PathBuf {
    let exe = s.0.join(format!(
        "{}-exe",
        program.file_stem().unwrap().to_string_lossy()
    ));
    if !exe.exists() {
        let o = Command::new(env!("CARGO_BIN_EXE_valkc"))
            .arg("compile")
            .arg(program)
            .arg("-O0")
            .arg("-o")
            .arg(&exe)
            .env("VALK_CACHE_DIR", s.cache())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "valkc compile failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    exe
}

fn run(s: &Sandbox, engine: Engine, program: &Path, args: &[&str]) -> Output {
    command(s, engine, program, args).output().unwrap()
}

/// The program name each engine gives as the first element today.
fn program_name(engine: Engine, program: &Path) -> String {
    match engine {
        Engine::Aot => format!("./{}-exe", program.file_stem().unwrap().to_string_lossy()),
        _ => program.file_name().unwrap().to_string_lossy().into_owned(),
    }
}

/// `(write (command-line))` as the engines should print it.
fn written(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|a| format!("{a:?}")).collect();
    format!("({})\n", quoted.join(" "))
}

const PRINT: &str = "(write (command-line))\n(newline)\n";

fn check(s: &Sandbox, program: &Path, args: &[&str]) {
    for engine in ENGINES {
        let o = run(s, engine, program, args);
        let name = program_name(engine, program);
        let mut expected = vec![name.as_str()];
        expected.extend_from_slice(args);
        assert_eq!(
            (
                String::from_utf8_lossy(&o.stdout).into_owned(),
                o.status.code()
            ),
            (written(&expected), Some(0)),
            "{engine:?} with {args:?}; stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn arguments_reach_the_program_on_every_engine() {
    let s = Sandbox::new("args");
    let p = s.write("cl.valk", PRINT);
    check(&s, &p, &["a", "b c", "-x"]);
}

#[test]
fn no_arguments_and_unusual_ones() {
    let s = Sandbox::new("unusual");
    let p = s.write("cl.valk", PRINT);
    check(&s, &p, &[]);
    check(
        &s,
        &p,
        &["", "λ → ∞", "with\"quote", "back\\slash", "tab\there"],
    );
    // Options of `valk`/`valkc run` after another argument belong to the
    // program.
    check(
        &s,
        &p,
        &["a", "--no-jit", "-e", "1", "-V", "--help", "-O", "1"],
    );
}

/// Option-like arguments right after the file belong to the program:
/// `valk F -V` does not print valk's version, nor `valkc run F --help` its
/// help.
#[test]
fn options_right_after_the_file_belong_to_the_program() {
    let s = Sandbox::new("options");
    let p = s.write("cl.valk", PRINT);
    check(&s, &p, &["-V"]);
    check(&s, &p, &["--help"]);
    check(&s, &p, &["--no-jit", "x"]);
}

/// The whole list is fresh strings the program may use like any other.
#[test]
fn command_line_values_are_ordinary_strings() {
    let s = Sandbox::new("strings");
    let p = s.write(
        "args.valk",
        "(define args (cdr (command-line)))\n\
         (for-each (lambda (a) (display (string-length a)) (display \" \")) args)\n\
         (newline)\n\
         (display (apply string-append args))\n\
         (newline)\n\
         (display (equal? (command-line) (command-line)))\n\
         (newline)\n",
    );
    for engine in ENGINES {
        let o = run(&s, engine, &p, &["one", "two three", "λ"]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "3 9 1 \nonetwo threeλ\n#t\n",
            "{engine:?}; stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// `exit` statuses through `valkc run` (the golden corpus covers the
/// other engines): `(exit 7)` → 7, `(exit #f)` → 1, `(exit #t)` → 0,
/// `(exit 256)` → not 0; output before the exit is flushed.
#[test]
fn exit_statuses_through_valkc_run() {
    let s = Sandbox::new("exit");
    for (arg, status) in [
        ("7", Some(7)),
        ("#f", Some(1)),
        ("#t", Some(0)),
        ("", Some(0)),
    ] {
        let p = s.write(
            &format!("exit-{}.valk", arg.replace('#', "")),
            &format!("(display \"before\")\n(exit {arg})\n(display \"after\")\n"),
        );
        let o = run(&s, Engine::ValkcRun, &p, &[]);
        assert_eq!(
            (
                String::from_utf8_lossy(&o.stdout).into_owned(),
                o.status.code()
            ),
            ("before".to_string(), status),
            "(exit {arg})"
        );
    }
    let p = s.write("exit-256.valk", "(exit 256)\n");
    for engine in ENGINES {
        let o = run(&s, engine, &p, &[]);
        assert!(
            o.status.code().is_some_and(|c| c != 0),
            "{engine:?}: (exit 256) gave {:?}",
            o.status
        );
    }
}
