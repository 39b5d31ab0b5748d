//! Every program of the golden corpus (`tests/programs/*.valk`, except the
//! `syntax-*` ones, which fail expansion) is lowered together with the
//! prelude at -O0 .. -O3, validated after lowering and after every pass,
//! printed, parsed and printed again: the two texts must be identical and
//! the parsed module structurally equal to the original.

use std::path::PathBuf;
use valk::lower::{self, LowerOptions};
use valk::pipeline;
use valk::syntax::source::SourceMap;
use valk_vir::OptLevel;

fn programs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "valk"))
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("syntax-")
        })
        .collect();
    out.sort();
    out
}

fn check(path: &PathBuf, fixed_globals: bool, levels: &[OptLevel]) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut sources = SourceMap::new();
    let name = path.to_string_lossy().to_string();
    let ex =
        pipeline::expand_program(&mut sources, &name, &text).map_err(|d| d.render(&sources))?;
    let mut tops = ex.prelude.clone();
    tops.extend(ex.program.iter().cloned());
    let opts = LowerOptions {
        fixed_globals,
        ..LowerOptions::default()
    };
    for &level in levels {
        let mut l = lower::lower_program(&tops, &sources, &opts).map_err(|d| d.render(&sources))?;
        assert_eq!(l.toplevels.len(), tops.len());
        pipeline::optimize_verified(&mut l, level)
            .map_err(|d| format!("{level:?}: {}", d.message))?;
        valk_vir::verify_module(&l.module).map_err(|e| format!("{level:?}: {e}"))?;
        let printed = valk_vir::print_module(&l.module);
        let parsed =
            valk_vir::parse_module(&printed).map_err(|e| format!("{level:?}: parse: {e:?}"))?;
        valk_vir::equiv::module_equiv(&parsed, &l.module).map_err(|e| format!("{level:?}: {e}"))?;
        let again = valk_vir::print_module(&parsed);
        if again != printed {
            return Err(format!("{level:?}: printing the parsed module differs"));
        }
    }
    Ok(())
}

#[test]
fn corpus_lowers_validates_and_round_trips() {
    let progs = programs();
    assert!(progs.len() >= 100, "the corpus is missing");
    let all = [OptLevel::O0, OptLevel::O1, OptLevel::O2, OptLevel::O3];
    // Validation after every pass dominates the time: use the cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let progs = &progs;
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for p in progs.iter().skip(t).step_by(threads) {
                        if let Err(e) = check(p, true, &all) {
                            failures.push(format!("{}: {e}", p.display()));
                        }
                        // The REPL/JIT mode (every global through its cell).
                        if let Err(e) = check(p, false, &[OptLevel::O0, OptLevel::O1]) {
                            failures.push(format!("{} (no fixed globals): {e}", p.display()));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a checker thread panicked".into()])
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
