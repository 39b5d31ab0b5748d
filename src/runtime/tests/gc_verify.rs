//! `VALK_GC_VERIFY=1` finds what it is for (docs/gc.md, "Verification"):
//! an old object made to point at a nursery object without the write
//! barrier is reported before the minor collection that would lose it, and
//! correct programs pass. Each case runs in a child process (this binary
//! re-executed with `VALK_GC_TEST_CHILD`), since the switch is read once
//! per process and a violation ends it.

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
    let s = Scope::new();
    let old = s.root(object::make_vector(4, Value::NIL));
    gc::collect_minor();
    let young = object::cons(Value::fixnum(1), Value::fixnum(2));
    match case.as_str() {
        // A raw store: what a store site that bypasses `set_field` does.
        "raw-store" => old.get().set_raw(2, young.0),
        "barrier" => old.get().set_field(2, young),
        other => panic!("unknown child case {other}"),
    }
    gc::collect_minor();
    gc::collect();
    let p = old.get().field(2);
    assert_eq!((p.car(), p.cdr()), (Value::fixnum(1), Value::fixnum(2)));
    println!("child returned");
}

fn run_child(case: &str) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    Command::new(exe)
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, case)
        .env("VALK_GC_VERIFY", "1")
        .env_remove("VALK_GC_STRESS")
        .output()
        .expect("spawn child test process")
}

#[test]
fn a_store_without_the_barrier_is_reported() {
    let out = run_child("raw-store");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains("internal error: VALK_GC_VERIFY: field 2 of the Vector")
            && err.contains("(a missing write barrier)"),
        "stderr: {err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("child returned"));
}

#[test]
fn a_store_through_the_barrier_passes() {
    let out = run_child("barrier");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("child returned"));
}
