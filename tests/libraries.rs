//! Where libraries are found (docs/libraries.md): beside the importing
//! file, in `-I`/`--lib-path` directories, in `VALK_LIBRARY_PATH`, and
//! among the installed libraries, in that order, on every engine
//! (interpreter, JIT, `valkc compile`, `valkc run`); and `import` and
//! `,expand` at the REPL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

struct Sandbox(PathBuf);

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "valk-libraries-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Sandbox(d)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A library `(where am i)` whose `here` says which copy was found.
fn library(tag: &str) -> String {
    format!(
        "(define-library (where am i) (export here) (import (scheme base))\n\
         (begin (define here \"{tag}\")))\n"
    )
}

const MAIN: &str =
    "(import (scheme base) (scheme write) (where am i))\n(display here)\n(newline)\n";

/// Runs `main` on every engine with the extra arguments and environment;
/// returns each engine's stdout (stderr on failure).
fn outputs(s: &Sandbox, main: &Path, opts: &[&str], env: &[(&str, &Path)]) -> Vec<String> {
    let valk = env!("CARGO_BIN_EXE_valk");
    let valkc = env!("CARGO_BIN_EXE_valkc");
    let exe = s.0.join("prog.exe");
    let mut runs: Vec<Command> = Vec::new();
    for engine in ["--no-jit", "--jit"] {
        let mut c = Command::new(valk);
        c.arg(engine).args(opts).arg(main);
        runs.push(c);
    }
    let mut compile = Command::new(valkc);
    compile
        .arg("compile")
        .args(opts)
        .arg(main)
        .arg("-o")
        .arg(&exe);
    let mut run = Command::new(valkc);
    run.arg("run").args(opts).arg(main);
    runs.push(run);
    let mut out = Vec::new();
    for mut c in runs.into_iter().chain(std::iter::once(compile)) {
        c.env("VALK_CACHE_DIR", s.0.join("cache"))
            .env_remove("VALK_LIBRARY_PATH");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let text = if o.status.success() {
            String::from_utf8_lossy(&o.stdout).into_owned()
        } else {
            String::from_utf8_lossy(&o.stderr).into_owned()
        };
        out.push(text);
    }
    // The last command compiled the executable: run it.
    let compiled = out.pop().unwrap();
    let o = Command::new(&exe).output();
    out.push(match o {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(_) => compiled,
    });
    out
}

#[track_caller]
fn all_say(outs: &[String], expected: &str) {
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(o, expected, "engine #{i}: {o}");
    }
}

#[test]
fn search_order_on_every_engine() {
    let s = Sandbox::new("order");
    let main = s.write("prog/main.valk", MAIN);
    let inc = s.0.join("inc");
    let env_dir = s.0.join("envdir");
    s.write("envdir/where/am/i.sld", &library("env"));
    let env = [("VALK_LIBRARY_PATH", env_dir.as_path())];
    all_say(&outputs(&s, &main, &[], &env), "env\n");
    s.write("inc/where/am/i.scm", &library("-I"));
    let i = inc.to_string_lossy().into_owned();
    all_say(&outputs(&s, &main, &["-I", &i], &env), "-I\n");
    all_say(&outputs(&s, &main, &["--lib-path", &i], &env), "-I\n");
    s.write("prog/where/am/i.valk", &library("beside"));
    all_say(&outputs(&s, &main, &["-I", &i], &env), "beside\n");
}

#[test]
fn unknown_library_names_the_places_searched() {
    let s = Sandbox::new("unknown");
    let main = s.write("main.valk", MAIN);
    let inc = s.0.join("nothing-here");
    let i = inc.to_string_lossy().into_owned();
    for out in outputs(&s, &main, &["-I", &i], &[]) {
        assert!(
            out.contains("import: unknown library (where am i)") && out.contains(&i),
            "{out}"
        );
    }
}

#[test]
fn repl_imports_and_expands() {
    let s = Sandbox::new("repl");
    s.write("where/am/i.sld", &library("repl"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_valk"))
        .current_dir(&s.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"(import (prefix (where am i) w:))\nw:here\n,import (only (srfi 1) xcons)\n\
              (xcons 1 2)\n(car '(9))\n,expand (unless #f 1)\n",
        )
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "\"repl\"\n(2 . 1)\n9\n(if (const #f) (void) (const 1))\n"
    );
}
