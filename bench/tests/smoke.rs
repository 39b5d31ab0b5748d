//! The harness's smoke test: quick mode (tiny inputs, one run each) on the
//! engines this machine has, checking that every result is verified and
//! the CSV and Markdown report are written. Engines that are not installed
//! (or a Valk engine that does not exist yet) are skipped with a note.

use std::time::{Duration, Instant};
use valk_bench::engines::Engine;
use valk_bench::{Cell, Options, Results};

fn quick(engines: &[Engine], only: Option<&[&str]>, out: &std::path::Path) -> Results {
    let o = Options {
        quick: true,
        only: only.map(|names| names.iter().map(|s| s.to_string()).collect()),
        engines: engines.to_vec(),
        reps: 1,
        warmup: 0,
        timeout: Duration::from_secs(30),
        out_dir: Some(out.to_path_buf()),
        install: false,
        build_valk: false,
        ..Options::default()
    };
    valk_bench::run(&o).expect("the harness runs")
}

/// Checks one run's outputs; peers must get every result right, Valk
/// engines' failures are printed (their own test suites judge them).
fn check(r: &Results, out: &std::path::Path) {
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("CSV written");
    let md = std::fs::read_to_string(out.join("BENCHMARKS.md")).expect("report written");
    assert!(csv.starts_with("program,engine,round,"));
    assert!(csv
        .lines()
        .next()
        .unwrap_or("")
        .contains(",gc_minor,gc_major,"));
    assert!(md.contains("## Time (seconds, median)"));
    assert!(md.contains("Quick (smoke) mode"));
    for s in &r.engines {
        if let Some(p) = &s.problem {
            println!("note: {} skipped: {p}", s.engine.key());
        }
    }
    let mut verified = 0;
    for p in &r.programs {
        for s in r.engines.iter().filter(|s| s.available()) {
            match r.cell(&p.name, s.engine) {
                Cell::Measured(samples) => {
                    assert!(!samples.is_empty());
                    // Valk runs carry the collector's statistics.
                    assert_eq!(s.engine.is_valk(), samples[0].gc.is_some());
                    assert!(csv.contains(&format!("{},{},0,false,ok,", p.name, s.engine.key())));
                    verified += 1;
                }
                Cell::NotApplicable => assert_eq!(s.engine, Engine::C),
                Cell::Failed(kind, detail) if s.engine.is_valk() => {
                    println!(
                        "note: {} on {}: {}: {detail}",
                        p.name,
                        s.engine.key(),
                        kind.word()
                    );
                }
                other => panic!("{} on {}: {other:?}", p.name, s.engine.key()),
            }
        }
    }
    println!("{verified} results verified");
}

#[test]
fn quick_mode_runs_and_verifies() {
    let start = Instant::now();
    let base = std::env::temp_dir().join(format!("valk-bench-smoke-{}", std::process::id()));

    // Every program on the engines that start fast (no compilation).
    let out = base.join("all");
    let r = quick(
        &[
            Engine::ValkInterp,
            Engine::ValkJit,
            Engine::ValkAot,
            Engine::Chez,
            Engine::C,
        ],
        None,
        &out,
    );
    assert!(r.programs.len() >= 16);
    check(&r, &out);

    // Three programs (one with records, one reading a file through each
    // peer's read-line glue) on the peers that compile ahead.
    let out = base.join("compiled");
    let peers = [
        Engine::Chez,
        Engine::Racket,
        Engine::Guile,
        Engine::Chicken,
        Engine::Gambit,
    ];
    let r = quick(&peers, Some(&["fib", "bintrees", "readline"]), &out);
    assert_eq!(r.programs.len(), 3);
    check(&r, &out);

    let _ = std::fs::remove_dir_all(&base);
    println!("smoke test took {:.1} s", start.elapsed().as_secs_f64());
}
