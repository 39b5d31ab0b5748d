//! The benchmark programs: `bench/programs/NAME.scm`, each with a header of
//! `;;; key: value` lines that give its inputs and expected results, and
//! optional C reference versions in `bench/c/NAME.c`.

use crate::inputs::InputSpec;
use std::fs;
use std::path::Path;

/// One benchmark program, as read from `bench/programs/`.
#[derive(Clone, Debug)]
pub struct Program {
    pub name: String,
    /// One-line description (the header's first lines).
    pub about: String,
    /// The argument list written on the program's standard input, e.g. `(38)`.
    pub args: String,
    /// The text the program must print after `result: `.
    pub expect: String,
    pub quick_args: String,
    pub quick_expect: String,
    /// The portable Scheme source (header included).
    pub source: String,
    /// The C reference version, if `bench/c/NAME.c` exists.
    pub c_source: Option<String>,
    /// The generated file the program reads (`;;; input: KIND BYTES`), if
    /// any; the program then runs in the directory holding it.
    pub input: Option<InputSpec>,
    pub quick_input: Option<InputSpec>,
    /// Extra glue the program needs (`;;; glue: NAME`): each engine's
    /// `bench/glue/ENGINE.NAME.EXT`, where that file exists, goes after the
    /// engine's glue.
    pub glue: Option<String>,
}

impl Program {
    /// Input and expected result for the chosen mode.
    pub fn inputs(&self, quick: bool) -> (&str, &str) {
        if quick {
            (&self.quick_args, &self.quick_expect)
        } else {
            (&self.args, &self.expect)
        }
    }

    /// The input file for the chosen mode.
    pub fn input(&self, quick: bool) -> Option<InputSpec> {
        if quick {
            self.quick_input
        } else {
            self.input
        }
    }
}

/// Reads every `*.scm` in `bench_dir/programs`, sorted by name.
pub fn load_programs(bench_dir: &Path) -> Result<Vec<Program>, String> {
    let dir = bench_dir.join("programs");
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut programs = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("scm") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("bad program file name {}", path.display()))?
            .to_string();
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut program =
            parse_program(&name, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let c_path = bench_dir.join("c").join(format!("{name}.c"));
        if c_path.exists() {
            program.c_source = Some(
                fs::read_to_string(&c_path)
                    .map_err(|e| format!("cannot read {}: {e}", c_path.display()))?,
            );
        }
        programs.push(program);
    }
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    if programs.is_empty() {
        return Err(format!("no programs in {}", dir.display()));
    }
    Ok(programs)
}

/// Parses the header of a program:
///
/// ```text
/// ;;; NAME: what it measures
/// ;;; (more description lines)
/// ;;; args: (38)
/// ;;; expect: 39088169
/// ;;; quick-args: (15)
/// ;;; quick-expect: 610
/// ```
///
/// followed, for programs that read a file, by `;;; input: KIND BYTES` and
/// `;;; quick-input: KIND BYTES` (both or neither), and optionally
/// `;;; glue: NAME`.
pub fn parse_program(name: &str, text: &str) -> Result<Program, String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let about = first
        .strip_prefix(";;; ")
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(|| format!("the first line must be `;;; {name}: description`"))?;
    let mut about = about.trim().to_string();
    let (mut args, mut expect, mut quick_args, mut quick_expect) = (None, None, None, None);
    let (mut input, mut quick_input, mut glue) = (None, None, None);
    for line in lines {
        let Some(rest) = line.strip_prefix(";;;") else {
            break;
        };
        let rest = rest.trim();
        let field = rest.split_once(':').and_then(|(key, value)| {
            let value = value.trim().to_string();
            match key {
                "args" | "expect" | "quick-args" | "quick-expect" | "input" | "quick-input"
                | "glue" => Some((key, value)),
                _ => None,
            }
        });
        match field {
            Some((key, value)) => {
                let slot = match key {
                    "args" => &mut args,
                    "expect" => &mut expect,
                    "quick-args" => &mut quick_args,
                    "quick-expect" => &mut quick_expect,
                    "input" => &mut input,
                    "quick-input" => &mut quick_input,
                    _ => &mut glue,
                };
                *slot = Some(value);
            }
            None if args.is_none() => {
                about.push(' ');
                about.push_str(rest);
            }
            None => return Err(format!("unexpected header line `{line}`")),
        }
    }
    let need = |v: Option<String>, key: &str| v.ok_or_else(|| format!("missing `;;; {key}:`"));
    let spec = |v: Option<String>| v.as_deref().map(InputSpec::parse).transpose();
    let (input, quick_input) = (spec(input)?, spec(quick_input)?);
    if input.is_some() != quick_input.is_some() {
        return Err("`input` and `quick-input` go together".to_string());
    }
    if let Some(g) = &glue {
        if g.is_empty() || !g.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("`glue` must be a plain name, got `{g}`"));
        }
    }
    let program = Program {
        name: name.to_string(),
        about,
        args: need(args, "args")?,
        expect: need(expect, "expect")?,
        quick_args: need(quick_args, "quick-args")?,
        quick_expect: need(quick_expect, "quick-expect")?,
        source: text.to_string(),
        c_source: None,
        input,
        quick_input,
        glue,
    };
    for (key, value) in [("args", &program.args), ("quick-args", &program.quick_args)] {
        if !(value.starts_with('(') && value.ends_with(')')) {
            return Err(format!(
                "`{key}` must be a parenthesised list, got `{value}`"
            ));
        }
    }
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIB: &str = ";;; fib: naive Fibonacci\n;;; (calls)\n;;; args: (38)\n;;; expect: 39088169\n;;; quick-args: (15)\n;;; quick-expect: 610\n(define (fib n) n)\n";

    #[test]
    fn parses_header() {
        let p = parse_program("fib", FIB).unwrap();
        assert_eq!(p.about, "naive Fibonacci (calls)");
        assert_eq!(p.inputs(false), ("(38)", "39088169"));
        assert_eq!(p.inputs(true), ("(15)", "610"));
        assert!(p.source.contains("(define (fib n) n)"));
        assert!(p.input(false).is_none() && p.glue.is_none());
    }

    #[test]
    fn parses_inputs_and_glue() {
        let text = FIB.replace(
            ";;; quick-expect: 610\n",
            ";;; quick-expect: 610\n;;; input: text 5000\n;;; quick-input: text 50\n;;; glue: unicode\n",
        );
        let p = parse_program("fib", &text).unwrap();
        assert_eq!(p.input(false).unwrap().bytes, 5000);
        assert_eq!(p.input(true).unwrap().bytes, 50);
        assert_eq!(p.glue.as_deref(), Some("unicode"));
        let lone = FIB.replace(
            ";;; quick-expect: 610\n",
            ";;; quick-expect: 610\n;;; input: text 5\n",
        );
        assert!(parse_program("fib", &lone)
            .unwrap_err()
            .contains("together"));
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(parse_program("tak", FIB)
            .unwrap_err()
            .contains("first line"));
        let no_expect = FIB.replace(";;; expect: 39088169\n", "");
        assert!(parse_program("fib", &no_expect)
            .unwrap_err()
            .contains("expect"));
        let bad_args = FIB.replace("(38)", "38");
        assert!(parse_program("fib", &bad_args)
            .unwrap_err()
            .contains("parenthesised"));
    }

    #[test]
    fn every_shipped_program_parses() {
        let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
        let programs = load_programs(bench).unwrap();
        assert!(programs.len() >= 16, "{} programs", programs.len());
        for name in ["fib", "tak", "sieve", "readline"] {
            let p = programs.iter().find(|p| p.name == name).unwrap();
            assert!(p.c_source.is_some(), "{name} has a C version");
        }
        for name in ["readline", "readsexp"] {
            let p = programs.iter().find(|p| p.name == name).unwrap();
            assert!(
                p.input(false).is_some() && p.input(true).is_some(),
                "{name}"
            );
        }
    }
}
