//! Heap exhaustion is a clean fatal error. Each case runs in a child
//! process (this test binary re-executed with `VALK_GC_TEST_CHILD` naming
//! the case), because the heap is configured from the environment once per
//! process and exhaustion ends the process.

use std::process::{Command, Output};
use valk_runtime::gc::{self, Scope};
use valk_runtime::object;
use valk_runtime::value::Value;

const CHILD_VAR: &str = "VALK_GC_TEST_CHILD";

/// The child side: does nothing in a normal test run.
#[test]
fn child_process() {
    let Ok(case) = std::env::var(CHILD_VAR) else {
        return;
    };
    match case.as_str() {
        // Live data grows without bound.
        "grow" => {
            let s = Scope::new();
            let acc = s.root(Value::NIL);
            let mut i = 0i64;
            loop {
                let v = object::make_vector(16, Value::fixnum(i));
                acc.set(object::cons(v, acc.get()));
                i += 1;
            }
        }
        // One request larger than the whole heap.
        "huge" => {
            object::make_vector(1 << 30, Value::NIL);
        }
        // The initial heap itself cannot be obtained.
        "init" => {
            gc::init();
        }
        other => panic!("unknown child case {other}"),
    }
    println!("child returned");
}

fn run_child(case: &str, env: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_VAR, case)
    .env_remove("VALK_GC_STRESS")
    .env_remove("VALK_HEAP_INITIAL")
    .env_remove("VALK_HEAP_MAX");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn child test process")
}

fn check_exhausted(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit status; stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    assert!(
        stderr.contains("error: heap exhausted"),
        "stderr:\n{stderr}"
    );
    assert!(!stdout.contains("child returned"));
    stderr
}

#[test]
fn unbounded_live_data_exhausts_the_heap() {
    let out = run_child("grow", &[("VALK_HEAP_MAX", "16M"), ("VALK_GC_STATS", "1")]);
    let stderr = check_exhausted(&out);
    assert!(stderr.contains("VALK_HEAP_MAX"), "names the knob: {stderr}");
    // The statistics printed at exit show the heap stopped at the limit.
    assert!(stderr.contains("gc: collections:"), "{stderr}");
    // `gc: old space: U KiB used of S KiB`.
    let size_kib: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("gc: old space:"))
        .and_then(|s| s.split(" used of ").nth(1))
        .and_then(|s| s.trim().strip_suffix(" KiB"))
        .and_then(|s| s.parse().ok())
        .expect("old space size line");
    // The major collection that finds the limit reached first copies the
    // old space and the nursery (4 MiB) into one to-space, so the old space
    // may exceed the limit by the nursery's size before the error.
    assert!(size_kib <= (16 + 4) * 1024, "old space {size_kib} KiB");
    assert!(
        size_kib >= 8 * 1024,
        "heap grew toward the limit: {size_kib} KiB"
    );
}

#[test]
fn oversized_request_fails_without_collecting() {
    let out = run_child("huge", &[("VALK_HEAP_MAX", "16M"), ("VALK_GC_STATS", "1")]);
    let stderr = check_exhausted(&out);
    assert!(stderr.contains("gc: collections:    0"), "{stderr}");
}

#[test]
fn unobtainable_initial_heap_is_reported() {
    // 1 PiB is beyond any user address space.
    let out = run_child(
        "init",
        &[
            ("VALK_HEAP_MAX", "1048576G"),
            ("VALK_HEAP_INITIAL", "1048576G"),
            ("VALK_GC_STATS", "1"),
        ],
    );
    check_exhausted(&out);
}
