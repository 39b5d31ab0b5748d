//! Helpers: compile hand-written VIR into an executable and run it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use valk_vir::{parse_module, verify_module, FuncId, Module};

/// The runtime library (`valk_llvm::find_runtime_lib`).
pub fn runtime_lib() -> PathBuf {
    valk_llvm::find_runtime_lib().expect("libvalk_runtime.a was built")
}

pub fn tmpdir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "valk_llvm_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Parses VIR text whose top-level functions are named `top*`, in order.
pub fn module(text: &str) -> (Module, Vec<FuncId>) {
    let m = parse_module(text).unwrap_or_else(|e| panic!("bad VIR: {e:?}"));
    if let Err(e) = verify_module(&m) {
        panic!("invalid VIR: {e:?}");
    }
    let tops = m
        .funcs
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name.starts_with("top"))
        .map(|(i, _)| FuncId::new(i))
        .collect();
    (m, tops)
}

pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

pub fn build(text: &str, level: u32, dir: &Path) -> PathBuf {
    let (m, tops) = module(text);
    let exe = dir.join("prog");
    valk_llvm::build_executable(&m, &tops, level, &runtime_lib(), &exe)
        .unwrap_or_else(|e| panic!("build failed: {e}"));
    exe
}

pub fn run_exe(exe: &Path, env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(exe);
    c.env_remove("VALK_GC_STRESS").env_remove("VALK_GC_STATS");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        status: o.status.code().unwrap_or(-1),
    }
}

/// Compiles at `level` and runs (optionally under GC stress).
pub fn run(text: &str, level: u32, stress: bool) -> Run {
    let dir = tmpdir();
    let exe = build(text, level, &dir);
    let env: &[(&str, &str)] = if stress {
        &[("VALK_GC_STRESS", "1")]
    } else {
        &[]
    };
    let r = run_exe(&exe, env);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

#[repr(C)]
struct RUsage {
    times: [i64; 4],
    maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut RUsage) -> i32;
}

/// The largest peak resident set (KiB) of any child this process waited
/// for so far.
pub fn children_max_rss_kib() -> i64 {
    const RUSAGE_CHILDREN: i32 = -1;
    let mut u = RUsage {
        times: [0; 4],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: `u` has the layout of `struct rusage` on x86-64 Linux (4
    // time words, then 14 longs) and is written in place.
    unsafe { getrusage(RUSAGE_CHILDREN, &mut u) };
    u.maxrss
}
