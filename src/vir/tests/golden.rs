//! Golden tests: each `tests/golden/*.vir` file holds
//!
//! ```text
//! ; run: <pass>[,<pass>...] | -O<n>
//! ; args: <fixnum>...          (optional: evaluate before and after)
//! <input module>
//! ; expect:
//! <expected module after the passes>
//! ```
//!
//! A single pass named on the `run` line runs once; `-O<n>` runs the
//! pipeline of that level to a fixpoint. The validator runs before and
//! after. Set `UPDATE_GOLDEN=1` to rewrite the expected parts.

use std::fs;
use std::path::{Path, PathBuf};
use valk_vir::eval::run_to_string;
use valk_vir::passes::{optimize_with, pipeline, run_pass, OptLevel, PassKind};
use valk_vir::{parse_module, print_module, verify_module, FuncId};

const EXPECT: &str = "; expect:\n";

fn golden_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vir"))
        .collect();
    files.sort();
    files
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("; {key}:")))
        .map(str::trim)
}

fn run_one(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (input, expected) = match text.find(EXPECT) {
        Some(i) => (&text[..i], &text[i + EXPECT.len()..]),
        None => (text.as_str(), ""),
    };
    let run = header(input, "run").ok_or("missing `; run:` line")?;
    let mut m = parse_module(input).map_err(|e| format!("input: {e}"))?;
    verify_module(&m).map_err(|e| format!("input is invalid:\n{e}"))?;
    let before = m.clone();
    if let Some(level) = run.strip_prefix("-O") {
        let n: u32 = level.parse().map_err(|_| format!("bad level {run}"))?;
        let level = OptLevel::from_number(n).ok_or(format!("bad level {run}"))?;
        optimize_with(&mut m, &pipeline(level), true).map_err(|e| e.to_string())?;
    } else {
        for name in run.split(',') {
            let pass = PassKind::from_name(name.trim()).ok_or(format!("unknown pass {name}"))?;
            if pass == PassKind::Inline {
                // The one module pass.
                valk_vir::passes::inline::run_module(&mut m);
            } else {
                for f in &mut m.funcs {
                    run_pass(pass, f);
                }
            }
            verify_module(&m).map_err(|e| format!("after {name}:\n{e}"))?;
        }
    }
    let actual = print_module(&m);
    if let Some(args) = header(input, "args") {
        let args: Vec<i64> = args
            .split_whitespace()
            .map(|a| a.parse().map_err(|_| format!("bad arg {a}")))
            .collect::<Result<_, _>>()?;
        let (want, _) = run_to_string(&before, FuncId(0), &args, 1_000_000);
        let (got, _) = run_to_string(&m, FuncId(0), &args, 1_000_000);
        if want != got {
            return Err(format!("evaluation changed: {want} before, {got} after"));
        }
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(path, format!("{input}{EXPECT}{actual}")).map_err(|e| e.to_string())?;
        return Ok(());
    }
    if actual != expected {
        return Err(format!(
            "output differs.\n--- expected\n{expected}--- actual\n{actual}"
        ));
    }
    // The expected text is printer output, so it must round-trip.
    let reparsed = parse_module(expected).map_err(|e| format!("expected part: {e}"))?;
    if print_module(&reparsed) != expected {
        return Err("the expected part does not round-trip".into());
    }
    Ok(())
}

#[test]
fn golden() {
    let files = golden_files();
    assert!(files.len() >= 10, "golden files missing");
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_one(f) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
