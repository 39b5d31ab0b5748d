//! DWARF for `valkc compile -g` (docs/debugging.md): a compile unit, a
//! `DISubprogram` per function named after its Valk procedure (the LLVM
//! name stays in the symbol table), and a line
//! location on every instruction.
//!
//! Input: the text of one emitted function in which the function emitter
//! put a marker comment `; valk-loc N` before the code of each VIR
//! instruction that has a source location `Loc(N)`. Output: the same text
//! with `!dbg` attachments (markers removed), plus the metadata nodes,
//! which [`DebugInfo::metadata`] prints at the end of the module.
//!
//! Every instruction gets a location — the latest marker's, or the
//! function's own line before the first marker — because LLVM's verifier
//! requires one on every inlinable call inside a function with a
//! subprogram, and the prologue's stack check is such a call.

use std::collections::HashMap;
use std::fmt::Write;

/// Where a source location is: file path, line and column (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    pub file: String,
    pub line: u32,
    pub col: u32,
}

/// Resolves a VIR `Loc` number to its source position.
pub type LocResolver<'a> = dyn Fn(u32) -> Option<SourcePos> + 'a;

/// The marker the function emitter writes before an instruction's code.
pub const MARKER: &str = "; valk-loc ";

/// The metadata of one module being emitted with debug information.
pub struct DebugInfo<'a> {
    resolve: &'a LocResolver<'a>,
    /// Metadata node texts, `!N = ...` for N from `FIRST`.
    nodes: Vec<String>,
    files: HashMap<String, usize>,
    unit: usize,
    subroutine_type: usize,
    /// The file of the compile unit (the program's main file).
    main_file: String,
}

/// Node numbers start here; the emitter uses no numbered metadata of its
/// own below it.
const FIRST: usize = 1000;

impl<'a> DebugInfo<'a> {
    pub fn new(main_file: &str, resolve: &'a LocResolver<'a>) -> DebugInfo<'a> {
        let mut d = DebugInfo {
            resolve,
            nodes: Vec::new(),
            files: HashMap::new(),
            unit: 0,
            subroutine_type: 0,
            main_file: main_file.to_string(),
        };
        let file = d.file(main_file);
        d.unit = d.node(format!(
            "distinct !DICompileUnit(language: DW_LANG_C, file: !{file}, producer: \"valkc {}\", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)",
            env!("CARGO_PKG_VERSION")
        ));
        let types = d.node("!{null}".to_string());
        d.subroutine_type = d.node(format!("!DISubroutineType(types: !{types})"));
        d
    }

    fn node(&mut self, text: String) -> usize {
        self.nodes.push(text);
        FIRST + self.nodes.len() - 1
    }

    fn file(&mut self, path: &str) -> usize {
        if let Some(&n) = self.files.get(path) {
            return n;
        }
        let p = std::path::Path::new(path);
        let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string());
        let dir = abs
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let n = self.node(format!(
            "!DIFile(filename: \"{}\", directory: \"{}\")",
            escape(&name),
            escape(&dir)
        ));
        self.files.insert(path.to_string(), n);
        n
    }

    /// `text` (one function) with `!dbg` attachments: the function becomes
    /// a subprogram named `valk_name`.
    pub fn attach(&mut self, text: &str, valk_name: &str) -> String {
        // The function's position: its first located instruction.
        let first = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(MARKER.trim_end()))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .and_then(|n| (self.resolve)(n));
        let (file, line) = match &first {
            Some(p) => (self.file(&p.file.clone()), p.line),
            None => {
                let main = self.main_file.clone();
                (self.file(&main), 0)
            }
        };
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        let mut subprogram = None;
        let mut current: Option<usize> = None;
        let mut locations: HashMap<(usize, u32, u32), usize> = HashMap::new();
        let mut in_list = false;
        for l in text.lines() {
            if l.starts_with("define ") {
                // No linkage name: debuggers then show and match the Valk
                // name (`break fib`, `bt`), not the LLVM one.
                let sp = self.node(format!(
                    "distinct !DISubprogram(name: \"{}\", scope: !{file}, file: !{file}, line: {line}, type: !{}, scopeLine: {line}, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !{})",
                    escape(valk_name),
                    self.subroutine_type,
                    self.unit
                ));
                subprogram = Some(sp);
                let fallback = self.node(format!(
                    "!DILocation(line: {line}, column: 0, scope: !{sp})"
                ));
                current = Some(fallback);
                match l.rfind('{') {
                    Some(i) => {
                        let _ = writeln!(out, "{}!dbg !{sp} {{", &l[..i]);
                    }
                    None => {
                        let _ = writeln!(out, "{l}");
                    }
                }
                continue;
            }
            let trimmed = l.trim_start();
            if let Some(n) = trimmed.strip_prefix(MARKER.trim_end()) {
                if let (Some(sp), Some(pos)) = (
                    subprogram,
                    n.trim().parse::<u32>().ok().and_then(|n| (self.resolve)(n)),
                ) {
                    let f = self.file(&pos.file);
                    let key = (f, pos.line, pos.col);
                    let loc = match locations.get(&key) {
                        Some(&n) => n,
                        None => {
                            // Inlined positions from other files keep the
                            // function's scope: line tables still point at
                            // the right file through the subprogram's
                            // lexical block.
                            let scope = if f == file {
                                sp
                            } else {
                                self.node(format!(
                                    "distinct !DILexicalBlockFile(scope: !{sp}, file: !{f}, discriminator: 0)"
                                ))
                            };
                            let n = self.node(format!(
                                "!DILocation(line: {}, column: {}, scope: !{scope})",
                                pos.line, pos.col
                            ));
                            locations.insert(key, n);
                            n
                        }
                    };
                    current = Some(loc);
                }
                continue;
            }
            let is_inst = l.starts_with("  ")
                && !trimmed.is_empty()
                && !trimmed.starts_with(';')
                && !l.starts_with("    ");
            if in_list {
                // The lines of a `switch` target list; the attachment goes
                // after its closing bracket.
                if trimmed.starts_with(']') {
                    in_list = false;
                    match current {
                        Some(c) => {
                            let _ = writeln!(out, "{l}, !dbg !{c}");
                        }
                        None => {
                            let _ = writeln!(out, "{l}");
                        }
                    }
                } else {
                    let _ = writeln!(out, "{l}");
                }
                continue;
            }
            if is_inst && subprogram.is_some() {
                if l.trim_end().ends_with('[') {
                    in_list = true;
                    let _ = writeln!(out, "{l}");
                    continue;
                }
                if let Some(c) = current {
                    let _ = writeln!(out, "{}, !dbg !{c}", split_comment(l));
                    continue;
                }
            }
            let _ = writeln!(out, "{l}");
        }
        out
    }

    /// The module's metadata: the nodes, the compile unit list and the
    /// module flags.
    pub fn metadata(&self) -> String {
        let mut out = String::new();
        let flags_a = FIRST + self.nodes.len();
        let flags_b = flags_a + 1;
        let _ = writeln!(out, "\n!llvm.dbg.cu = !{{!{}}}", self.unit);
        let _ = writeln!(out, "!llvm.module.flags = !{{!{flags_a}, !{flags_b}}}");
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "!{} = {n}", FIRST + i);
        }
        let _ = writeln!(
            out,
            "!{flags_a} = !{{i32 2, !\"Debug Info Version\", i32 3}}"
        );
        let _ = writeln!(out, "!{flags_b} = !{{i32 7, !\"Dwarf Version\", i32 5}}");
        out
    }
}

/// An instruction line without a trailing `; comment` (the attachment
/// must precede it).
fn split_comment(l: &str) -> &str {
    // Instructions the emitter writes carry no string constants with `;`
    // (those are module-level globals), so the first `;` starts a comment.
    match l.find(';') {
        Some(i) => l[..i].trim_end(),
        None => l,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c == '"' || c == '\\' || !(' '..='~').contains(&c) {
            for b in c.to_string().bytes() {
                let _ = write!(out, "\\{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attaches_locations_and_a_subprogram() {
        let resolve = |n: u32| {
            Some(SourcePos {
                file: "prog.valk".into(),
                line: n,
                col: 3,
            })
        };
        let mut d = DebugInfo::new("prog.valk", &resolve);
        let text = "define internal tailcc ptr @d1.fib(ptr %v1) #2 gc \"statepoint-example\" {\nb0:\n  call void @valk_stack_check()\n  ; valk-loc 7\n  %v2 = add i64 1, 2 ; sum\n  switch i64 %v2, label %b1 [\n    i64 0, label %b2\n  ]\nb1:\n  ret ptr null\n}\n";
        let out = d.attach(text, "fib");
        assert!(out.contains("!dbg !"), "{out}");
        assert!(!out.contains(MARKER), "{out}");
        assert!(out.contains("%v2 = add i64 1, 2, !dbg"), "{out}");
        assert!(out.contains("  ], !dbg"), "{out}");
        assert!(out.contains("call void @valk_stack_check(), !dbg"), "{out}");
        let md = d.metadata();
        assert!(md.contains("DISubprogram(name: \"fib\","), "{md}");
        assert!(md.contains("line: 7, column: 3"), "{md}");
        assert!(md.contains("Debug Info Version"));
    }
}
