//! Running one child process: feed its standard input, capture its output,
//! kill it at a deadline, and measure its wall time and peak resident set
//! size (from `wait4`'s resource usage, so the number is the child's own).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    Timeout,
}

/// What one run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub exit: Exit,
    /// Whole-process wall time, from spawn to reaping.
    pub wall: Duration,
    /// Peak resident set size in KiB.
    pub max_rss_kb: u64,
    /// User plus system CPU time (with reaped descendants).
    pub cpu: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// A short description of a failed run, for reports.
    pub fn failure_summary(&self) -> String {
        let how = match self.exit {
            Exit::Code(c) => format!("exit status {c}"),
            Exit::Signal(s) => format!("killed by signal {s}"),
            Exit::Timeout => "timed out".to_string(),
        };
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        match error_excerpt(text) {
            s if s.is_empty() => how,
            s => format!("{how}: {s}"),
        }
    }
}

/// The gist of an error report: its first line that names an error or
/// exception (diagnostics put the message first and source excerpts after
/// it), then its last two lines (where backtraces end with the message).
pub fn error_excerpt(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first = lines.iter().position(|l| {
        let l = l.to_lowercase();
        (l.contains("error") || l.contains("exception")) && !l.contains("with-exception-handler")
    });
    let mut picked: Vec<usize> = first.into_iter().collect();
    for i in lines.len().saturating_sub(2)..lines.len() {
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    let text: Vec<&str> = picked.iter().map(|&i| lines[i]).collect();
    last_lines(&text.join("\n"), 3)
}

/// The last `n` non-empty lines of `text`, joined with " / ", at most 300
/// characters.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let joined = lines[lines.len().saturating_sub(n)..].join(" / ");
    if joined.chars().count() > 300 {
        let tail: String = joined.chars().rev().take(300).collect();
        format!("…{}", tail.chars().rev().collect::<String>())
    } else {
        joined
    }
}

/// Runs `argv` in `cwd` with `stdin` as its input. The child stays in our
/// process group, so a Ctrl-C at the terminal stops it with the harness.
pub fn run(
    argv: &[OsString],
    cwd: &Path,
    stdin: &str,
    timeout: Duration,
) -> Result<Outcome, String> {
    run_with_env(argv, cwd, stdin, timeout, &[])
}

/// [`run`] with extra environment variables.
pub fn run_with_env(
    argv: &[OsString],
    cwd: &Path,
    stdin: &str,
    timeout: Duration,
    env: &[(&str, &str)],
) -> Result<Outcome, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".to_string());
    };
    let mut command = Command::new(program);
    command
        .envs(env.iter().copied())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.to_string_lossy()))?;
    let pid = child.id() as libc::pid_t;

    let input = stdin.to_string();
    let mut child_stdin = child.stdin.take();
    let feeder = thread::spawn(move || {
        if let Some(pipe) = child_stdin.as_mut() {
            // A program that exits without reading gives EPIPE: not our concern.
            let _ = pipe.write_all(input.as_bytes());
        }
    });
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);

    let timed_out = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let timed_out = Arc::clone(&timed_out);
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
                timed_out.store(true, Ordering::SeqCst);
                // SAFETY: plain syscall; the child is not reaped before
                // this watchdog has finished, so the pid is still its.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        })
    };

    let exited = wait_exit(pid);
    let wall = start.elapsed();
    drop(done_tx);
    let _ = watchdog.join();
    let _ = feeder.join();
    exited?;
    let (status, usage) = wait_for(pid)?;
    let timed_out = timed_out.load(Ordering::SeqCst);
    let collect = |h: Option<thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    };
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    let exit = if timed_out {
        Exit::Timeout
    } else if libc::WIFEXITED(status) {
        Exit::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(-1)
    };
    Ok(Outcome {
        exit,
        wall,
        max_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        stdout,
        stderr,
    })
}

fn timeval(t: libc::timeval) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let micros = u32::try_from(t.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// Reads a pipe to its end on a thread of its own (so a chatty child
/// cannot block on a full pipe while we wait for it).
fn drain<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Waits until `pid` has exited, without reaping it.
fn wait_exit(pid: libc::pid_t) -> Result<(), String> {
    loop {
        // SAFETY: siginfo_t is plain old data; zeroed is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: pointer to a live local of the right type.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waitid failed: {err}"));
        }
    }
}

/// Reaps `pid` and returns its wait status and resource usage.
fn wait_for(pid: libc::pid_t) -> Result<(libc::c_int, libc::rusage), String> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to live locals of the right types.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4 failed: {err}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, stdin: &str, timeout: Duration) -> Outcome {
        let argv: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
        run(&argv, Path::new("/"), stdin, timeout).unwrap()
    }

    #[test]
    fn captures_output_and_status() {
        let o = sh(
            "read x; echo got $x; echo oops >&2; exit 3",
            "42\n",
            Duration::from_secs(10),
        );
        assert_eq!(o.exit, Exit::Code(3));
        assert_eq!(o.stdout, "got 42\n");
        assert_eq!(o.stderr, "oops\n");
        assert!(o.max_rss_kb > 0);
        assert!(o.cpu < Duration::from_secs(5));
        assert!(o.failure_summary().starts_with("exit status 3: oops"));
        let valk = "error: unbound variable: read\n --> f.scm:28:21\n |\n28 | (read)\n |  ^^^^\n";
        assert_eq!(
            error_excerpt(valk),
            "error: unbound variable: read / 28 | (read) / |  ^^^^"
        );
        assert_eq!(error_excerpt("a\nb\nc\n"), "b / c");
    }

    #[test]
    fn kills_at_the_deadline() {
        let t = Instant::now();
        let o = sh("exec sleep 30", "", Duration::from_millis(300));
        assert_eq!(o.exit, Exit::Timeout);
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn measures_peak_memory() {
        // A child that touches ~64 MiB shows at least that much peak RSS.
        // dd reads into a 64 MiB buffer (a grandchild: wait4 counts reaped
        // descendants too).
        let o = sh(
            "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null",
            "",
            Duration::from_secs(30),
        );
        assert!(o.success(), "{o:?}");
        assert!(o.max_rss_kb >= 60 * 1024, "peak {} KiB", o.max_rss_kb);
    }

    #[test]
    fn missing_program_is_an_error() {
        let argv: Vec<OsString> = vec!["/nonexistent/valk-bench-probe".into()];
        assert!(run(&argv, Path::new("/"), "", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\n\nb\nc\nd\n", 2), "c / d");
        assert_eq!(last_lines("", 2), "");
    }
}
