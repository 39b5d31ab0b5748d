//! `VALK_*` settings (docs/gc.md, "Switches"): a malformed value is a clear
//! error with status 1 on every engine, never silently ignored; the
//! accepted spellings work.

use std::process::Command;

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-settings-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `valk --no-jit`, `valk --jit` and an AOT executable running a program
/// that prints `ok` (built in a scratch directory of its own per `tag`).
fn engines(tag: &str) -> Vec<Command> {
    let dir = scratch(tag);
    let file = dir.join("ok.valk");
    std::fs::write(&file, "(display \"ok\")\n").unwrap();
    let exe = dir.join("ok");
    let built = Command::new(env!("CARGO_BIN_EXE_valkc"))
        .args(["compile", "-O0"])
        .arg(&file)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(built.success());
    let mut interp = Command::new(env!("CARGO_BIN_EXE_valk"));
    interp.arg("--no-jit").arg(&file);
    let mut jit = Command::new(env!("CARGO_BIN_EXE_valk"));
    jit.arg("--jit")
        .arg(&file)
        .env("VALK_CACHE_DIR", dir.join("cache"));
    vec![interp, jit, Command::new(exe)]
}

#[test]
fn malformed_settings_are_errors() {
    let cases = [
        (
            "VALK_HEAP_MAX",
            "64 megs",
            "error: VALK_HEAP_MAX=\"64 megs\" is not a size such as 512M, 4G or 1048576\n",
        ),
        (
            "VALK_HEAP_INITIAL",
            "12T",
            "error: VALK_HEAP_INITIAL=\"12T\" is not a size such as 512M, 4G or 1048576\n",
        ),
        (
            "VALK_GC_STRESS",
            "yes",
            "error: VALK_GC_STRESS=\"yes\" is not 0, 1, an interval N, or minor, major, minor:N or major:N\n",
        ),
        (
            "VALK_GC_STRESS",
            "minor:0",
            "error: VALK_GC_STRESS=\"minor:0\" is not 0, 1, an interval N, or minor, major, minor:N or major:N\n",
        ),
        (
            "VALK_GC_STATS",
            "true",
            "error: VALK_GC_STATS=\"true\" is not 0 or 1\n",
        ),
        (
            "VALK_GC_VERIFY",
            "on",
            "error: VALK_GC_VERIFY=\"on\" is not 0 or 1\n",
        ),
        (
            "VALK_NURSERY",
            "big",
            "error: VALK_NURSERY=\"big\" is not a size such as 512M, 4G or 1048576\n",
        ),
    ];
    for (name, value, message) in cases {
        for mut engine in engines("malformed") {
            let out = engine.env(name, value).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{engine:?} {name}: {err}");
            assert_eq!(err, message, "{engine:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{engine:?}");
        }
    }
    let mut jit = engines("malformed").remove(1);
    let out = jit.env("VALK_JIT_OPT", "7").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: VALK_JIT_OPT=\"7\" is not a level from 0 to 3\n"
    );
}

#[test]
fn accepted_spellings_work() {
    for (name, value) in [
        ("VALK_HEAP_MAX", "64MB"),
        ("VALK_HEAP_MAX", "1GiB"),
        ("VALK_HEAP_INITIAL", "1048576"),
        ("VALK_GC_STRESS", "0"),
        ("VALK_GC_STRESS", "7"),
        ("VALK_GC_STRESS", "minor"),
        ("VALK_GC_STRESS", "major:3"),
        ("VALK_GC_VERIFY", "1"),
        ("VALK_NURSERY", "1M"),
        ("VALK_GC_STATS", "0"),
        ("VALK_HEAP_MAX", ""),
    ] {
        for mut engine in engines("accepted") {
            let out = engine.env(name, value).output().unwrap();
            assert!(out.status.success(), "{engine:?} {name}={value}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
        }
    }
}
