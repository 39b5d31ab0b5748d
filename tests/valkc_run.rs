//! `valkc run`: compile on the first run, reuse the cached executable
//! while the sources are unchanged, recompile when the main file or a file
//! it loads changes; arguments, output and exit status pass through.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory for sources plus a private cache directory.
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let root = std::env::temp_dir().join(format!(
            "valkc-run-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(root.join("src")).unwrap();
        Sandbox { root }
    }

    fn cache(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.join("src").join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn command(&self, file: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_valkc"));
        c.arg("run")
            .arg(file)
            .args(args)
            .env("VALK_CACHE_DIR", self.cache())
            .env("VALK_CACHE_LOG", "1");
        c
    }

    fn run(&self, file: &Path, args: &[&str]) -> Run {
        Run::from(self.command(file, args).output().unwrap())
    }

    /// Files in the cache's `run` directory whose name ends with `ext`.
    fn cached(&self, ext: &str) -> Vec<PathBuf> {
        match std::fs::read_dir(self.cache().join("run")) {
            Ok(d) => d
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

struct Run {
    stdout: String,
    /// stderr without the cache log line.
    stderr: String,
    status: Option<i32>,
    hit: bool,
    compiled: bool,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let mut stderr = String::new();
        let (mut hit, mut compiled) = (false, false);
        for line in err.split_inclusive('\n') {
            if line.starts_with("valk cache: hit ") {
                hit = true;
            } else if line.starts_with("valk cache: compiling ") {
                compiled = true;
            } else {
                stderr.push_str(line);
            }
        }
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr,
            status: o.status.code(),
            hit,
            compiled,
        }
    }
}

impl Run {
    fn assert_compiled(&self) -> &Self {
        assert!(
            self.compiled && !self.hit,
            "expected a compile: {}",
            self.stderr
        );
        self
    }
    fn assert_hit(&self) -> &Self {
        assert!(
            self.hit && !self.compiled,
            "expected a cache hit: {}",
            self.stderr
        );
        self
    }
    fn assert_ok(&self, stdout: &str) -> &Self {
        assert_eq!(self.stdout, stdout);
        assert_eq!(self.stderr, "");
        assert_eq!(self.status, Some(0));
        self
    }
}

#[test]
fn compiles_once_then_hits() {
    let s = Sandbox::new("hit");
    let f = s.write("hello.valk", "(display \"Hello\")\n(newline)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("Hello\n");
    assert_eq!(s.cached(".exe").len(), 1);
    assert_eq!(s.cached(".manifest").len(), 1);
    s.run(&f, &[]).assert_hit().assert_ok("Hello\n");
    s.run(&f, &[]).assert_hit().assert_ok("Hello\n");
    // Without VALK_CACHE_LOG nothing extra is printed.
    let o = s
        .command(&f, &[])
        .env_remove("VALK_CACHE_LOG")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "Hello\n");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // `-O0` after the file is the program's argument: still a hit.
    s.run(&f, &["-O0"]).assert_hit().assert_ok("Hello\n");
    // Before it, another optimisation level: another executable.
    let mut c = Command::new(env!("CARGO_BIN_EXE_valkc"));
    let r = Run::from(
        c.args(["run", "-O0"])
            .arg(&f)
            .env("VALK_CACHE_DIR", s.cache())
            .env("VALK_CACHE_LOG", "1")
            .output()
            .unwrap(),
    );
    r.assert_compiled().assert_ok("Hello\n");
    s.run(&f, &[]).assert_hit();
}

#[test]
fn editing_the_main_file_recompiles() {
    let s = Sandbox::new("edit-main");
    let f = s.write("m.valk", "(display 1)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("1");
    s.run(&f, &[]).assert_hit().assert_ok("1");
    s.write("m.valk", "(display 2)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("2");
    s.run(&f, &[]).assert_hit().assert_ok("2");
    // The previous executable was removed.
    assert_eq!(s.cached(".exe").len(), 1);
    // Restoring the old text (a different key again) works too.
    s.write("m.valk", "(display 1)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("1");
}

#[test]
fn editing_a_loaded_file_recompiles() {
    let s = Sandbox::new("edit-dep");
    s.write("leaf.valk", "(define leaf 'one)\n");
    std::fs::create_dir_all(s.root.join("src/lib")).unwrap();
    std::fs::write(
        s.root.join("src/lib/mid.valk"),
        "(load \"../leaf.valk\")\n(define (show) (display leaf) (newline))\n",
    )
    .unwrap();
    let f = s.write("main.valk", "(load \"lib/mid.valk\")\n(show)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("one\n");
    s.run(&f, &[]).assert_hit().assert_ok("one\n");
    // Only the transitively loaded file changes.
    s.write("leaf.valk", "(define leaf 'two)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("two\n");
    s.run(&f, &[]).assert_hit().assert_ok("two\n");
    // A deleted loaded file: recompiling reports the load error.
    std::fs::remove_file(s.root.join("src/leaf.valk")).unwrap();
    let r = s.run(&f, &[]);
    r.assert_compiled();
    assert_eq!(r.status, Some(1));
    assert!(r.stderr.contains("cannot load"), "{}", r.stderr);
}

#[test]
fn editing_an_imported_library_recompiles() {
    let s = Sandbox::new("edit-lib");
    std::fs::create_dir_all(s.root.join("src/geo")).unwrap();
    let lib = |body: &str| {
        std::fs::write(
            s.root.join("src/geo/util.sld"),
            format!(
                "(define-library (geo util) (export f) (import (scheme base))\n\
                 (include \"body.scm\")\n(begin (define (f) {body})))\n"
            ),
        )
        .unwrap()
    };
    std::fs::write(s.root.join("src/geo/body.scm"), "(define k 1)\n").unwrap();
    lib("(+ k 1)");
    let f = s.write(
        "main.valk",
        "(import (scheme base) (scheme write) (geo util))\n(display (f))\n(newline)\n",
    );
    s.run(&f, &[]).assert_compiled().assert_ok("2\n");
    s.run(&f, &[]).assert_hit().assert_ok("2\n");
    lib("(+ k 10)");
    s.run(&f, &[]).assert_compiled().assert_ok("11\n");
    // A file the library includes is a source too.
    std::fs::write(s.root.join("src/geo/body.scm"), "(define k 5)\n").unwrap();
    s.run(&f, &[]).assert_compiled().assert_ok("15\n");
    s.run(&f, &[]).assert_hit().assert_ok("15\n");
}

#[test]
fn arguments_reach_command_line() {
    let s = Sandbox::new("args");
    let f = s.write(
        "args.valk",
        "(for-each (lambda (a) (display a) (newline)) (cdr (command-line)))\n",
    );
    let args = ["a b", "-O0", "--help", "-x", "--", "last"];
    let want = "a b\n-O0\n--help\n-x\n--\nlast\n";
    s.run(&f, &args).assert_compiled().assert_ok(want);
    s.run(&f, &args).assert_hit().assert_ok(want);
    s.run(&f, &[]).assert_hit().assert_ok("");
}

#[test]
fn errors_and_exit_status_pass_through() {
    let s = Sandbox::new("raise");
    let f = s.write("bad.valk", "(display \"before\")\n(newline)\n(car 1)\n");
    // The program's own output, as `valkc compile`'s executable gives it.
    let exe = s.root.join("bad-exe");
    let st = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .arg("compile")
        .arg(&f)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(st.success());
    let direct = Command::new(&exe).output().unwrap();
    assert_ne!(direct.status.code(), Some(0));
    let direct_err = String::from_utf8_lossy(&direct.stderr).into_owned();
    assert!(direct_err.contains("car"), "{direct_err}");
    for first in [true, false] {
        let r = s.run(&f, &[]);
        if first {
            r.assert_compiled();
        } else {
            r.assert_hit();
        }
        assert_eq!(r.stdout, "before\n");
        assert_eq!(r.stderr, direct_err);
        assert_eq!(r.status, direct.status.code());
    }
    // An explicit exit status too.
    let f = s.write("exit.valk", "(display \"x\")\n(exit 7)\n");
    for _ in 0..2 {
        let r = s.run(&f, &[]);
        assert_eq!((r.stdout.as_str(), r.status), ("x", Some(7)));
    }
}

#[test]
fn compile_errors_print_like_compile_and_are_not_cached() {
    let s = Sandbox::new("syntax");
    let f = s.write("broken.valk", "(display 1)\n(define (f x) (+ x 1)\n");
    let compile = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .arg("compile")
        .arg(&f)
        .arg("-o")
        .arg(s.root.join("never"))
        .output()
        .unwrap();
    assert_eq!(compile.status.code(), Some(1));
    let diag = String::from_utf8_lossy(&compile.stderr).into_owned();
    assert!(diag.contains("broken.valk"), "{diag}");
    for _ in 0..2 {
        let r = s.run(&f, &[]);
        r.assert_compiled();
        assert_eq!(r.stdout, "");
        assert_eq!(r.stderr, diag);
        assert_eq!(r.status, Some(1));
    }
    assert!(s.cached(".exe").is_empty());
    assert!(s.cached(".manifest").is_empty());
    // Nor are temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(s.cache().join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A missing file: the same message as `valkc compile`.
    let missing = s.root.join("src/none.valk");
    let r = s.run(&missing, &[]);
    assert_eq!(r.status, Some(1));
    assert!(r.stderr.starts_with("error: cannot read"), "{}", r.stderr);
    // Once fixed, it compiles and is cached.
    s.write("broken.valk", "(display 1)\n(define (f x) (+ x 1))\n");
    s.run(&f, &[]).assert_compiled().assert_ok("1");
    s.run(&f, &[]).assert_hit().assert_ok("1");
}

#[test]
fn corrupt_manifest_or_missing_executable_recompiles() {
    let s = Sandbox::new("corrupt");
    let f = s.write("c.valk", "(display 'ok)\n");
    s.run(&f, &[]).assert_compiled().assert_ok("ok");
    let manifest = s.cached(".manifest").pop().unwrap();
    let good = std::fs::read(&manifest).unwrap();
    for bad in [
        &good[..good.len() / 2],
        b"",
        b"\xff\xfe garbage",
        b"valk-run-manifest 1\nopt 2\nexe ../../etc/passwd\nname x\nend\n",
    ] {
        std::fs::write(&manifest, bad).unwrap();
        s.run(&f, &[]).assert_compiled().assert_ok("ok");
        s.run(&f, &[]).assert_hit().assert_ok("ok");
    }
    // The executable disappears (cache cleaned by hand).
    for exe in s.cached(".exe") {
        std::fs::remove_file(exe).unwrap();
    }
    s.run(&f, &[]).assert_compiled().assert_ok("ok");
    s.run(&f, &[]).assert_hit().assert_ok("ok");
    // The manifest disappears.
    std::fs::remove_file(&manifest).unwrap();
    s.run(&f, &[]).assert_compiled().assert_ok("ok");
}

#[test]
fn concurrent_runs_both_succeed() {
    let s = Sandbox::new("race");
    let f = s.write(
        "r.valk",
        "(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc i))))\n\
         (display (loop 1000 0))\n(newline)\n",
    );
    for round in 0..2 {
        let children: Vec<_> = (0..3)
            .map(|_| {
                s.command(&f, &[])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let r = Run::from(c.wait_with_output().unwrap());
            r.assert_ok("500500\n");
            if round == 1 {
                r.assert_hit();
            }
        }
        assert_eq!(s.cached(".exe").len(), 1);
        assert_eq!(s.cached(".manifest").len(), 1);
    }
}

#[test]
fn unusable_cache_directory_still_runs() {
    let s = Sandbox::new("nocache");
    let f = s.write("n.valk", "(display \"fine\")\n(exit 3)\n");
    // A cache directory below a regular file cannot be created.
    let blocker = s.write("blocker", "");
    let o = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .arg("run")
        .arg(&f)
        .env("VALK_CACHE_DIR", blocker.join("cache"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "fine");
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("warning: "), "{err}");
}

#[test]
fn loads_with_the_same_text_share_nothing_stale() {
    // Two main files with the same text in different directories load
    // different libraries: each gets its own entry.
    let s = Sandbox::new("two");
    std::fs::create_dir_all(s.root.join("src/a")).unwrap();
    std::fs::create_dir_all(s.root.join("src/b")).unwrap();
    let main = "(load \"lib.valk\")\n(display v)\n";
    std::fs::write(s.root.join("src/a/lib.valk"), "(define v 'a)\n").unwrap();
    std::fs::write(s.root.join("src/b/lib.valk"), "(define v 'b)\n").unwrap();
    let fa = s.write("a/main.valk", main);
    let fb = s.write("b/main.valk", main);
    s.run(&fa, &[]).assert_compiled().assert_ok("a");
    s.run(&fb, &[]).assert_compiled().assert_ok("b");
    s.run(&fa, &[]).assert_hit().assert_ok("a");
    s.run(&fb, &[]).assert_hit().assert_ok("b");
}
