//! Output that cannot be lost (docs/errors.md, "Output errors"), on every
//! engine: the interpreter, the JIT and an AOT executable.
//!
//! * standard output on `/dev/full`: an error message and status 1, both
//!   when a write notices it and when only the final flush does;
//! * standard output on a pipe whose reader has gone: status 141, nothing
//!   on standard error, and the program stops (it would otherwise write
//!   forever);
//! * standard error on `/dev/full`: an uncaught error still exits 1, not
//!   with an abort;
//! * `SIGTERM` / `SIGINT` during a long computation: the output written
//!   before is flushed and the status is 143 / 130.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
enum Engine {
    Interp,
    Jit,
    Aot,
}

const ENGINES: [Engine; 3] = [Engine::Interp, Engine::Jit, Engine::Aot];

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-output-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A command running `source` (written to a file named `name`) on `engine`.
fn command(engine: Engine, name: &str, source: &str) -> Command {
    let dir = scratch();
    let file = dir.join(format!("{name}.valk"));
    std::fs::write(&file, source).unwrap();
    // The error texts are the subject; backtraces are checked by the
    // golden corpus (docs/debugging.md).
    let mut c = command_for(engine, name, &dir, &file);
    c.env("VALK_BACKTRACE", "0");
    c
}

fn command_for(engine: Engine, name: &str, dir: &Path, file: &Path) -> Command {
    match engine {
        Engine::Interp => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
            c.arg("--no-jit").arg(file);
            c
        }
        Engine::Jit => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_valk"));
            c.arg("--jit")
                .arg(file)
                .env("VALK_CACHE_DIR", dir.join("cache"));
            c
        }
        Engine::Aot => Command::new(compile(file, &dir.join(name))),
    }
}

fn compile(file: &Path, exe: &Path) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .args(["compile", "-O0"])
        .arg(file)
        .arg("-o")
        .arg(exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "valkc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe.to_path_buf()
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists")
}

const SMALL: &str = "(display \"a little output\")\n(newline)\n";
/// More than the runtime's buffer: a write notices the failure.
const LARGE: &str = "(let loop ((i 0)) (when (< i 100000) (display i) (newline) (loop (+ i 1))))\n\
                     (display \"still running\")\n";

#[test]
fn stdout_on_dev_full_is_an_error() {
    for engine in ENGINES {
        for (name, source) in [("small", SMALL), ("large", LARGE)] {
            let out = command(engine, &format!("full-{name}"), source)
                .stdout(dev_full())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{engine:?} {name}: {err}");
            assert_eq!(
                err, "error: cannot write to standard output: No space left on device\n",
                "{engine:?} {name}"
            );
        }
    }
}

#[test]
fn closed_pipe_ends_the_program_quietly() {
    let endless = "(let loop ((i 0)) (display i) (newline) (loop (+ i 1)))\n";
    for engine in ENGINES {
        let mut child = command(engine, "endless", endless)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 2];
        stdout.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"0\n", "{engine:?}");
        drop(stdout);
        let status = wait_at_most(&mut child, Duration::from_secs(60), engine);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(141), "{engine:?}: {err}");
        assert_eq!(err, "", "{engine:?}");
    }
}

/// Output to a file port that cannot be written (docs/ports.md): an
/// error when the program closes or flushes the port, and at exit for a
/// port left open, never silence.
#[test]
fn file_port_write_errors_are_reported() {
    let cases = [
        (
            "file-close",
            "(define o (open-output-file \"/dev/full\"))\n(display \"x\" o)\n(close-port o)\n",
            "error: close-port: No space left on device: \"/dev/full\"\n",
        ),
        (
            "file-flush",
            "(define o (open-output-file \"/dev/full\"))\n(write-string \"x\" o)\n\
             (display (guard (e ((file-error? e) 'caught)) (flush-output-port o)))\n",
            "",
        ),
        (
            "file-open-at-exit",
            "(define o (open-output-file \"/dev/full\"))\n(display \"x\" o)\n(display \"done\")\n",
            "error: cannot write to \"/dev/full\": No space left on device\n",
        ),
    ];
    for engine in ENGINES {
        for (name, source, expected_err) in cases {
            let out = command(engine, name, source).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err, expected_err, "{engine:?} {name}");
            let status = if expected_err.is_empty() { 0 } else { 1 };
            assert_eq!(out.status.code(), Some(status), "{engine:?} {name}");
        }
    }
}

#[test]
fn stderr_on_dev_full_does_not_abort() {
    for engine in ENGINES {
        let out = command(engine, "err-full", "(display \"out\")\n(car 1)\n")
            .stderr(dev_full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{engine:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "out", "{engine:?}");
    }
}

#[test]
fn signals_flush_output_and_set_the_status() {
    // "ready" on standard error says the program runs; the line after it
    // stays in the runtime's buffer while the loop runs.
    let spin = "(display \"ready\" (current-error-port))\n\
                (display \"before the loop\")\n(newline)\n\
                (define (spin n) (if (= n -1) 'never (spin (+ n 1))))\n(spin 0)\n";
    for engine in ENGINES {
        for (signal, status) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
            let mut child = command(engine, "spin", spin)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut ready = [0u8; 5];
            let mut stderr = child.stderr.take().unwrap();
            stderr.read_exact(&mut ready).unwrap();
            assert_eq!(&ready, b"ready", "{engine:?}");
            // Inside the loop by now (it is the next form).
            std::thread::sleep(Duration::from_millis(300));
            // SAFETY: sending a signal to our own child has no memory
            // preconditions.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            let st = wait_at_most(&mut child, Duration::from_secs(60), engine);
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(st.code(), Some(status), "{engine:?} signal {signal}");
            assert_eq!(out, "before the loop\n", "{engine:?} signal {signal}");
        }
    }
}

fn wait_at_most(
    child: &mut std::process::Child,
    limit: Duration,
    engine: Engine,
) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{engine:?}: the program did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
