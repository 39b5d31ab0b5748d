//! Filetests of the LLVM emitter (in the style of Cranelift's filetests):
//! each `filetests/*.vir` file is a small VIR module followed by
//! directives on the LLVM IR that `emit_module` writes for it. The IR must
//! pass the LLVM verifier, then the directives are matched in order:
//!
//! * `; check: TEXT` — a later line than the previous match contains TEXT;
//! * `; nextln: TEXT` — the line right after the previous match contains
//!   TEXT;
//! * `; not: TEXT` — no line between the previous match and the next one
//!   (or the end) contains TEXT.
//!
//! Header directives: `; emit: aot` (an executable's module: `main`, the
//! descriptor, stack map label) or `; emit: jit` (the default: a JIT
//! module exporting its descriptor); `; expect-fail: TEXT` (the file is a
//! test of this runner: matching must fail, with TEXT in the message).
//! Functions named `top*` are the top-level forms, in order; the others
//! are emitted when reachable from them.

mod common;
use common::module;
use std::path::{Path, PathBuf};
use valk_llvm::{default_proc_name, emit_module, Backend, EmitOptions};
use valk_vir::Loc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Nextln,
    Not,
}

struct Directive {
    kind: Kind,
    text: String,
    /// Line number in the test file (1-based).
    line: usize,
}

struct FileTest {
    aot: bool,
    expect_fail: Option<String>,
    directives: Vec<Directive>,
}

fn parse_directives(text: &str) -> Result<FileTest, String> {
    let mut t = FileTest {
        aot: false,
        expect_fail: None,
        directives: Vec::new(),
    };
    for (i, l) in text.lines().enumerate() {
        let Some(c) = l.trim_start().strip_prefix(';') else {
            continue;
        };
        let c = c.trim_start();
        let Some((key, rest)) = c.split_once(':') else {
            continue;
        };
        let rest = rest.trim();
        let kind = match key {
            "check" => Kind::Check,
            "nextln" => Kind::Nextln,
            "not" => Kind::Not,
            "emit" => {
                t.aot = match rest {
                    "aot" => true,
                    "jit" => false,
                    _ => return Err(format!("line {}: unknown `emit: {rest}`", i + 1)),
                };
                continue;
            }
            "expect-fail" => {
                t.expect_fail = Some(rest.to_string());
                continue;
            }
            _ => continue,
        };
        if rest.is_empty() {
            return Err(format!("line {}: empty `{key}:` directive", i + 1));
        }
        t.directives.push(Directive {
            kind,
            text: rest.to_string(),
            line: i + 1,
        });
    }
    if t.directives.is_empty() {
        return Err("no check directives".into());
    }
    Ok(t)
}

/// Matches the directives against `ir`; the error names the failing
/// directive.
fn match_directives(ir: &str, directives: &[Directive]) -> Result<(), String> {
    let lines: Vec<&str> = ir.lines().collect();
    // Next line a `check` may match, and the last matched line.
    let mut pos = 0;
    let mut last: Option<usize> = None;
    let mut nots: Vec<&Directive> = Vec::new();
    let check_nots = |nots: &mut Vec<&Directive>, from: usize, to: usize| {
        for d in nots.drain(..) {
            if let Some(k) = (from..to).find(|&k| lines[k].contains(&d.text)) {
                return Err(format!(
                    "line {}: `not: {}` found at IR line {}: {}",
                    d.line,
                    d.text,
                    k + 1,
                    lines[k]
                ));
            }
        }
        Ok(())
    };
    for d in directives {
        let found = match d.kind {
            Kind::Not => {
                nots.push(d);
                continue;
            }
            Kind::Check => (pos..lines.len()).find(|&k| lines[k].contains(&d.text)),
            Kind::Nextln => {
                let Some(prev) = last else {
                    return Err(format!(
                        "line {}: `nextln: {}` without a previous match",
                        d.line, d.text
                    ));
                };
                Some(prev + 1).filter(|&k| k < lines.len() && lines[k].contains(&d.text))
            }
        };
        let Some(k) = found else {
            let after = match last {
                Some(l) => format!("after IR line {}", l + 1),
                None => "anywhere".into(),
            };
            let kw = if d.kind == Kind::Check {
                "check"
            } else {
                "nextln"
            };
            return Err(format!(
                "line {}: `{kw}: {}` not matched {after}",
                d.line, d.text
            ));
        };
        check_nots(&mut nots, pos, k)?;
        last = Some(k);
        pos = k + 1;
    }
    check_nots(&mut nots, pos, lines.len())
}

/// Emits the module of a test file and verifies it with LLVM.
fn emit_and_verify(text: &str, aot: bool) -> Result<String, String> {
    let (m, tops) = module(text);
    let diag = |_: Loc, name: &str| Some(format!("<diagnostic for {name}>"));
    let opts = EmitOptions {
        aot,
        descriptor: if aot {
            None
        } else {
            Some("valk_filetest_program")
        },
        install_eval: None,
        unbound_diag: &diag,
        proc_name: &default_proc_name,
        debug: None,
        sites: None,
    };
    let ir = emit_module(&m, &tops, &opts).map_err(|e| format!("emit failed: {e}"))?;
    let backend = Backend::new(0).map_err(|e| e.to_string())?;
    let parsed = backend.parse(&ir).map_err(|e| format!("{e}\n{ir}"))?;
    parsed
        .verify()
        .map_err(|e| format!("the LLVM verifier rejects the IR: {e}\n{ir}"))?;
    Ok(ir)
}

/// Runs one file; `Err` is the report of a failure.
fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let t = parse_directives(&text)?;
    let ir = emit_and_verify(&text, t.aot)?;
    match (match_directives(&ir, &t.directives), &t.expect_fail) {
        (Ok(()), None) => Ok(()),
        (Err(e), None) => Err(format!("{e}\n--- emitted IR ---\n{ir}")),
        (Err(e), Some(want)) if e.contains(want.as_str()) => Ok(()),
        (Err(e), Some(want)) => Err(format!(
            "failed as expected, but the message lacks `{want}`: {e}"
        )),
        (Ok(()), Some(_)) => Err(format!(
            "`expect-fail`: the directives matched\n--- emitted IR ---\n{ir}"
        )),
    }
}

fn filetests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/filetests")
}

#[test]
fn filetests() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(filetests_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "vir"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{} filetests", files.len());
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_file(f) {
            failures.push(format!("FAIL {}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} filetests failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

// ---- the runner itself ----

fn directives(text: &str) -> Vec<Directive> {
    parse_directives(text).unwrap().directives
}

const IR: &str = "define @f {\nstart:\n  %a = add\n  %b = mul\n  ret %b\n}\n";

#[test]
fn matching_directives_pass() {
    let d = directives("; check: start:\n; nextln: add\n; not: sub\n; check: ret\n");
    assert_eq!(match_directives(IR, &d), Ok(()));
}

#[test]
fn a_failing_check_fails() {
    let cases = [
        // Text that is not there.
        ("; check: sdiv\n", "`check: sdiv` not matched anywhere"),
        // Checks match in order.
        (
            "; check: mul\n; check: add\n",
            "`check: add` not matched after IR line 4",
        ),
        // `nextln` needs the very next line.
        ("; check: start:\n; nextln: mul\n", "line 2: `nextln: mul`"),
        // `not` between two matches, and after the last.
        (
            "; check: start:\n; not: add\n; check: ret\n",
            "`not: add` found at IR line 3",
        ),
        (
            "; check: add\n; not: ret\n",
            "`not: ret` found at IR line 5",
        ),
    ];
    for (text, want) in cases {
        let e = match_directives(IR, &directives(text)).unwrap_err();
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn a_file_without_checks_is_an_error() {
    assert!(parse_directives("; emit: aot\nfunction @top() arity 0 {\n}\n").is_err());
}
