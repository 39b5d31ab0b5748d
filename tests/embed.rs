//! The install step and the embedding example (docs/embedding.md): `./x
//! install` into a temporary prefix, `examples/embed` built there with `cc`
//! and pkg-config (against `libvalk.so`, and statically against
//! `libvalk.a`) and run, and a program compiled by the *installed* `valkc`,
//! which must find `PREFIX/lib/libvalk_runtime.a` with no build tree
//! around.
//!
//! It installs the release build as it is (`VALK_INSTALL_NO_BUILD=1`):
//! `cargo build --release --workspace` must have run, as `./x test` does.
//! The C API itself is tested by `src/embed/tests/api.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory of this build (`.../target`, from `.../release/valkc`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_valkc"))
        .parent()
        .and_then(Path::parent)
        .expect("target/release/valkc")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("valk-embed-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const EXPECTED: &str = "\
[plugin] quoting 3 lines
3 lines:
  (\"apple\" 12 540)
  (\"bread\" 2 640)
  (\"wine\" 4 9800)
discount 549, total 104.31
[plugin] quoting 2 lines
quote failed: host-price: unknown product: \"caviar\"
script error: vector-ref: index out of range: 10 (irritants (10))
handles still live: 1
";

#[test]
fn install_then_embed_and_compile_from_the_prefix() {
    let release = target_dir().join("release");
    for f in [
        "libvalk_embed.so",
        "libvalk_embed.a",
        "libvalk_runtime.a",
        "libvalk_eval.a",
    ] {
        assert!(
            release.join(f).exists(),
            "{} is missing: run `cargo build --release --workspace` first (./x test does)",
            release.join(f).display()
        );
    }
    let prefix = scratch("prefix");
    run(Command::new("bash")
        .arg(root().join("x"))
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .env("VALK_INSTALL_NO_BUILD", "1")
        .env("CARGO_TARGET_DIR", target_dir()));
    for f in [
        "bin/valk",
        "bin/valkc",
        "lib/libvalk.so",
        "lib/libvalk.a",
        "lib/libvalk_runtime.a",
        "lib/libvalk_eval.a",
        "include/valk.h",
        "lib/pkgconfig/valk.pc",
        "share/valk/lib/scheme/base.sld",
        "share/valk/prelude",
    ] {
        assert!(prefix.join(f).exists(), "{f} not installed");
    }

    // The example, built from the installed files only.
    let work = scratch("example");
    for f in ["main.c", "plugin.valk"] {
        std::fs::copy(root().join("examples/embed").join(f), work.join(f)).unwrap();
    }
    let pc_path = prefix.join("lib/pkgconfig");
    let pkg = |args: &[&str]| {
        let out = run(Command::new("pkg-config")
            .args(args)
            .arg("valk")
            .env("PKG_CONFIG_PATH", &pc_path));
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (cflags, libs) = (pkg(&["--cflags"]), pkg(&["--libs"]));
    run(Command::new("cc")
        .current_dir(&work)
        .args(["-Wall", "-Werror", "main.c"])
        .args(&cflags)
        .args(&libs)
        .args(["-o", "embed-demo"]));
    let out = run(Command::new(work.join("embed-demo"))
        .current_dir(&work)
        .arg("plugin.valk")
        .env_remove("VALK_GC_STRESS"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), EXPECTED);
    // Under GC stress too: the handles hold across every collection.
    let out = run(Command::new(work.join("embed-demo"))
        .current_dir(&work)
        .arg("plugin.valk")
        .env("VALK_GC_STRESS", "1"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), EXPECTED);

    // Statically linked against libvalk.a.
    let static_libs = pkg(&["--libs", "--static"]);
    let lib_a = prefix.join("lib/libvalk.a");
    run(Command::new("cc")
        .current_dir(&work)
        .args(["main.c"])
        .args(&cflags)
        .arg(&lib_a)
        .args(static_libs.iter().filter(|a| a.as_str() != "-lvalk"))
        .args(["-o", "embed-static"]));
    let out = run(Command::new(work.join("embed-static"))
        .current_dir(&work)
        .arg("plugin.valk"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), EXPECTED);

    // The installed valkc finds PREFIX/lib/libvalk_runtime.a (and
    // libvalk_eval.a for `eval`) with nothing pointing at the build tree.
    std::fs::write(
        work.join("prog.valk"),
        "(import (scheme base) (scheme write) (scheme eval))\n\
         (define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))\n\
         (display (fact 25)) (newline)\n\
         (display (eval '(* 6 7) (environment '(scheme base)))) (newline)\n",
    )
    .unwrap();
    let clean = |c: &mut Command| {
        for v in ["CARGO_TARGET_DIR", "VALK_RUNTIME_LIB", "VALK_EVAL_LIB"] {
            c.env_remove(v);
        }
        c.env("VALK_CACHE_DIR", work.join("cache"));
    };
    let mut compile = Command::new(prefix.join("bin/valkc"));
    compile
        .current_dir(&work)
        .args(["compile", "prog.valk", "-o", "prog"]);
    clean(&mut compile);
    run(&mut compile);
    let out = run(&mut Command::new(work.join("prog")));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "15511210043330985984000000\n42\n"
    );
    let mut interp = Command::new(prefix.join("bin/valk"));
    interp.current_dir(&work).args(["--no-jit", "prog.valk"]);
    clean(&mut interp);
    let out = run(&mut interp);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "15511210043330985984000000\n42\n"
    );

    let _ = std::fs::remove_dir_all(&prefix);
    let _ = std::fs::remove_dir_all(&work);
}
