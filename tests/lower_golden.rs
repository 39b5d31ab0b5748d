//! Golden tests of the VIR lowering: every `tests/vir_golden/NAME.valk` is
//! lowered (without the prelude's forms, like `valkc emit-vir`) and
//! printed at -O0 and -O1; the text must equal `NAME.O0.vir` and
//! `NAME.O1.vir`. `UPDATE_GOLDEN=1 cargo test --test lower_golden`
//! rewrites the expectations.
//!
//! Also here: the dedicated tail-position test over `tail.valk`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use valk::lower::{self, LowerOptions};
use valk::pipeline;
use valk::syntax::source::SourceMap;
use valk_vir::{Module, Op, OptLevel, ValueDef};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vir_golden")
}

/// The module of `path` at `level` (validated after lowering and after
/// every pass).
fn lower_file(path: &Path, level: OptLevel) -> Module {
    let text = std::fs::read_to_string(path).unwrap();
    let mut sources = SourceMap::new();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let ex = pipeline::expand_program(&mut sources, &name, &text)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    let opts = LowerOptions {
        fixed_globals: true,
        predefined: ex.prelude_globals(),
        ..LowerOptions::default()
    };
    let mut l = lower::lower_program(&ex.program, &sources, &opts)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    pipeline::optimize_verified(&mut l, level).unwrap_or_else(|d| panic!("{}", d.message));
    valk_vir::verify_module(&l.module).unwrap();
    l.module
}

#[test]
fn golden_vir() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "valk"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 6, "golden sources are missing");
    let mut failures = Vec::new();
    for src in &sources {
        for (level, tag) in [(OptLevel::O0, "O0"), (OptLevel::O1, "O1")] {
            let text = valk_vir::print_module(&lower_file(src, level));
            // The printed text parses back to the same text.
            let reparsed = valk_vir::parse_module(&text)
                .unwrap_or_else(|e| panic!("{}: {e:?}", src.display()));
            assert_eq!(valk_vir::print_module(&reparsed), text, "{}", src.display());
            let expected_path = src.with_extension(format!("{tag}.vir"));
            if update {
                std::fs::write(&expected_path, &text).unwrap();
                continue;
            }
            match std::fs::read_to_string(&expected_path) {
                Ok(expected) if expected == text => {}
                Ok(_) => failures.push(format!(
                    "{} differs (UPDATE_GOLDEN=1 to accept)",
                    expected_path.display()
                )),
                Err(_) => failures.push(format!("{} is missing", expected_path.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// How each call instruction of `f` is made, by callee: the global a
/// closure call's callee was read from, or the function a direct call
/// names.
fn calls(m: &Module, fname: &str) -> Vec<(String, bool)> {
    let f = &m.funcs[m
        .func_by_name(fname)
        .unwrap_or_else(|| panic!("no @{fname}"))
        .index()];
    let mut globals_of = HashMap::new();
    for &b in &f.layout {
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            if let (Op::GlobalGet(g, _), Some(r)) = (&d.op, d.result) {
                globals_of.insert(r, m.global_name(*g).to_string());
            }
        }
    }
    let mut out = Vec::new();
    for &b in &f.layout {
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            let (callee, tail) = match &d.op {
                Op::Call(g) => (m.func(*g).name.clone(), false),
                Op::TailCall(g) => (m.func(*g).name.clone(), true),
                Op::CallClosure | Op::TailCallClosure => {
                    let c = d.args[0];
                    let name = match f.value_def(c) {
                        ValueDef::Result(_) => globals_of.get(&c).cloned().unwrap_or_default(),
                        ValueDef::Param(..) => String::new(),
                    };
                    (name, d.op == Op::TailCallClosure)
                }
                _ => continue,
            };
            out.push((callee, tail));
        }
    }
    out
}

#[test]
fn tail_calls_in_every_tail_context() {
    for level in [OptLevel::O0, OptLevel::O1] {
        let m = lower_file(&dir().join("tail.valk"), level);
        let mut checked = 0;
        for f in &m.funcs {
            let fname = f.name.clone();
            let cs = calls(&m, &fname);
            let mut tails = 0;
            for (callee, tail) in &cs {
                match callee.as_str() {
                    "tl" | "tl-known" => {
                        assert!(*tail, "@{fname}: call of {callee} should be a tail call");
                        tails += 1;
                    }
                    "nt" | "nt-known" => {
                        assert!(!*tail, "@{fname}: call of {callee} must not be a tail call")
                    }
                    _ => {}
                }
            }
            if fname.starts_with("t-") && fname != "t-apply" && fname != "t-closure" {
                // Every test procedure (or the lambda it returns) makes at
                // least one tail call.
                let lambda_tails = if fname == "t-lambda" {
                    calls(&m, "lambda")
                        .iter()
                        .filter(|(c, t)| c == "tl" && *t)
                        .count()
                } else {
                    0
                };
                assert!(
                    tails + lambda_tails > 0,
                    "@{fname} has no tail call: {cs:?}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 17, "only {checked} procedures checked");
        // Both kinds of tail call appear.
        let text = valk_vir::print_module(&m);
        assert!(text.contains("tail_call @tl-known"));
        assert!(text.contains("tail_call_closure"));
        // The loop of t-named-let is a branch, not a call.
        let nl = calls(&m, "t-named-let");
        assert_eq!(nl, vec![("tl".to_string(), true)]);
        // (apply f l) in tail position stays a tail call of apply.
        assert_eq!(calls(&m, "t-apply"), vec![("apply".to_string(), true)]);
        // (f (nt 1)): the argument is a call, the call of f a tail call.
        assert_eq!(
            calls(&m, "t-closure"),
            vec![("nt".to_string(), false), (String::new(), true)]
        );
    }
}

#[test]
fn loops_are_branches() {
    let m = lower_file(&dir().join("loops.valk"), OptLevel::O0);
    for name in [
        "sum-to",
        "vector-sum",
        "count-pairs",
        "length-plus-one",
        "count-evens",
        "countdown",
    ] {
        assert!(
            calls(&m, name).is_empty(),
            "@{name} should have no calls: {:?}",
            calls(&m, name)
        );
    }
    let text = valk_vir::print_module(&m);
    // Each loop has a header block that branches back to itself.
    for header in ["loop(", "inner(", "outer(", "lp("] {
        assert!(
            text.contains(&format!("br {header}")),
            "no branch to {header}"
        );
    }
}
