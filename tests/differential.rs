//! A short, seeded differential run (docs/testing.md): generated programs
//! on every engine (the stress configurations on some of them) must agree,
//! and a few thousand inputs of each in-process fuzz target must not make
//! the reader, the expander or the compiler panic. The long runs are
//! `./x fuzz` (`valk-fuzz`, crate `valk_gen`).

use std::path::{Path, PathBuf};
use std::time::Duration;
use valk_gen::diff::{self, Bins, Campaign};
use valk_gen::fuzz::{self, Progress, Target};
use valk_gen::program;

fn bins() -> Bins {
    Bins {
        valk: PathBuf::from(env!("CARGO_BIN_EXE_valk")),
        valkc: PathBuf::from(env!("CARGO_BIN_EXE_valkc")),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("differential-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn generated_programs_agree_on_every_engine() {
    let out = scratch("diff");
    let c = Campaign {
        bins: bins(),
        out: out.clone(),
        // Seeds of their own, so that the long runs (from seed 1) do not
        // only repeat this one.
        first_seed: 7_100_000,
        programs: 12,
        deadline: None,
        threads: 2,
        timeout: Duration::from_secs(20),
        stress: true,
        stress_every: 3,
        shrink_runs: 0,
        gen: program::Options {
            forms: 12,
            budget: 30_000,
            ..program::Options::default()
        },
        verbose: false,
    };
    let s = diff::run_campaign(&c);
    let mut report = String::new();
    for f in &s.findings {
        let text = std::fs::read_to_string(f.dir.join("report.txt")).unwrap_or_default();
        report.push_str(&format!(
            "seed {}: {}\n(reproduce: valk-fuzz gen {} > p.valk && valk-fuzz check p.valk)\n{text}\n",
            f.seed, f.kind, f.seed
        ));
    }
    assert!(s.findings.is_empty(), "{report}");
    assert_eq!(s.programs, 12);
    // The generator's programs mostly run to their end.
    assert!(s.errors <= 5, "{} of 12 programs failed", s.errors);
    let _ = std::fs::remove_dir_all(&out);
}

/// The shrinker keeps what the failure needs and drops the rest, in at
/// most the runs it is given.
#[test]
fn shrinking_keeps_the_failing_core() {
    let src = "(define a 1)\n(define (f x) (g x))\n(display (f a))\n(bad (h 1 2) 3)\n(newline)\n";
    let mut runs = 0;
    let small = diff::shrink_with(src, 200, |p| {
        runs += 1;
        p.contains("(bad")
    });
    assert_eq!(small.trim(), "(bad)");
    assert!(runs <= 200);
    // Out of runs at once: the program is unchanged.
    assert_eq!(diff::shrink_with(src, 0, |_| true), src);
}

/// A program that hangs shrinks to the forms that make it hang
/// (docs/testing.md, "Shrinking"): each trial that still hangs takes the
/// timeout, so the runs are few.
#[test]
fn a_hang_shrinks_to_its_loop() {
    let dir = scratch("hang");
    let runner = diff::Runner::new(bins(), dir.clone(), Duration::from_secs(2)).unwrap();
    let src = "(define (f x) (* x 2))\n(display (f 21))\n(newline)\n\
               (define (spin n) (if (> n -1) (spin (+ n 1)) n))\n\
               (spin 0)\n(display \"never\")\n";
    let interp = diff::default_configs(false)[0];
    let small = runner.shrink_timeout(src, interp, None, 12);
    assert!(small.contains("(spin 0)"), "{small}");
    assert!(!small.contains("display"), "{small}");
    let out = runner.run_all(&small, &[interp]);
    assert_eq!(out[0].status, diff::Status::Timeout, "{small}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generator_is_deterministic_and_well_formed() {
    for seed in 0..200 {
        let p = program::generate(seed);
        assert_eq!(p, program::generate(seed));
        let forms = valk_gen::sexp::parse(&p).expect("balanced");
        assert_eq!(
            valk_gen::sexp::parse(&valk_gen::sexp::print_program(&forms)),
            Some(forms)
        );
    }
    assert_ne!(program::generate(1), program::generate(2));
}

fn fuzz_target(t: Target, inputs: u64) {
    let corpus = fuzz::load_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs"));
    let (crashes, n) = fuzz::fuzz_loop(
        t,
        1,
        0,
        inputs,
        None,
        &corpus,
        Duration::from_secs(10),
        &mut Progress::none(),
    );
    assert_eq!(n, inputs);
    if let Some(c) = crashes.first() {
        panic!(
            "{} input {} panicked: {}\n{}\n(reproduce: valk-fuzz inproc --target {} --seed 1; docs/testing.md)",
            t.name(),
            c.index,
            c.message,
            c.input,
            t.name()
        );
    }
}

#[test]
fn fuzz_reader_short() {
    fuzz_target(Target::Reader, 5_000);
}

#[test]
fn fuzz_expander_short() {
    fuzz_target(Target::Expander, 2_000);
}

#[test]
fn fuzz_compiler_short() {
    fuzz_target(Target::Compiler, 12);
}

/// The supervisor of `valk-fuzz inproc` writes down an input that kills
/// its process (release builds abort on panic) and one that hangs, and
/// goes on after each.
#[test]
fn fuzz_supervisor_survives_panics_and_hangs() {
    let exe = Path::new(env!("CARGO_BIN_EXE_valk")).with_file_name("valk-fuzz");
    if !exe.exists() {
        eprintln!(
            "skipped: {} not built (cargo build --release -p valk_gen)",
            exe.display()
        );
        return;
    }
    let out = scratch("supervisor");
    let r = std::process::Command::new(&exe)
        .args([
            "inproc",
            "--target",
            "reader",
            "--inputs",
            "300",
            "--hang-seconds",
            "1",
        ])
        .arg("--out")
        .arg(&out)
        .env("VALK_FUZZ_SELFTEST", "panic:100,hang:200")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(
        stdout.contains("inproc reader: 300 inputs (seed 1), 2 crashes or hangs"),
        "{stdout}"
    );
    let f = out.join("findings");
    assert!(f.join("crash-reader-1-100.valk").exists());
    assert!(f.join("hang-reader-1-200.valk").exists());
    let _ = std::fs::remove_dir_all(&out);
}
