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
//! Prelude positions (`SourcePos::library`) locate the prelude's own
//! procedures; prelude code inlined into another procedure keeps that
//! procedure's current location instead (the call it came from).
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
    /// In the built-in prelude. Prelude code inlined into a program's
    /// procedure keeps the location of the call it was inlined at (the
    /// prelude reads as builtins, as in backtraces); a prelude procedure
    /// compiled on its own (the JIT's prelude module) gets its own lines.
    pub library: bool,
}

/// Resolves a VIR `Loc` number to its source position.
pub type LocResolver<'a> = dyn Fn(u32) -> Option<SourcePos> + 'a;

/// Where a function's subprogram is declared ([`DebugInfo::position`]);
/// `None`: no located instruction (line 0 of the main file).
#[derive(Clone, Debug)]
pub struct FnPosition(Option<SourcePos>);

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
            "distinct !DICompileUnit(language: DW_LANG_C, file: !{file}, producer: \"valkc {}\", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug, nameTableKind: None)",
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
    /// a subprogram named `valk_name`, at its own [`DebugInfo::position`].
    #[cfg(test)]
    pub fn attach(&mut self, text: &str, valk_name: &str) -> String {
        let at = self.position(text);
        self.attach_at(text, valk_name, at)
    }

    /// The position of the function in `text`: its first located
    /// instruction outside the prelude, or else its first located one.
    pub fn position(&self, text: &str) -> FnPosition {
        let mut positions = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix(MARKER.trim_end()))
            .filter_map(|n| n.trim().parse::<u32>().ok())
            .filter_map(|n| (self.resolve)(n));
        let mut first = positions.next();
        if first.as_ref().is_some_and(|p| p.library) {
            if let Some(own) = positions.find(|p| !p.library) {
                first = Some(own);
            }
        }
        FnPosition(first)
    }

    /// `text` (one function) with `!dbg` attachments: the function becomes
    /// a subprogram named `valk_name` at `at`. A closure's fast entry is
    /// attached at its procedure's position: LLVM inlines the direct
    /// entry into it, and inlined code keeps its locations only inside a
    /// function that has a subprogram.
    pub fn attach_at(&mut self, text: &str, valk_name: &str, at: FnPosition) -> String {
        let first = at.0;
        let library = first.as_ref().is_some_and(|p| p.library);
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
                let pos = n
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| (self.resolve)(n))
                    .filter(|p| library || !p.library);
                if let (Some(sp), Some(pos)) = (subprogram, pos) {
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
                library: false,
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

    #[test]
    fn prelude_positions_only_locate_prelude_procedures() {
        // Locations 1–9 are in the prelude, 10 and up in the program.
        let resolve = |n: u32| {
            Some(SourcePos {
                file: if n < 10 { "<prelude>" } else { "prog.valk" }.into(),
                line: n,
                col: 1,
                library: n < 10,
            })
        };
        let mut d = DebugInfo::new("prog.valk", &resolve);
        let user = "define ptr @d1.f() {\nb0:\n  ; valk-loc 3\n  %v1 = add i64 1, 2\n  ; valk-loc 12\n  %v2 = add i64 1, 2\n  ; valk-loc 4\n  %v3 = add i64 1, 2\n  ret ptr null\n}\n";
        let _ = d.attach(user, "f");
        let lib = "define ptr @d2.map() {\nb0:\n  ; valk-loc 5\n  %v1 = add i64 1, 2\n  ret ptr null\n}\n";
        let _ = d.attach(lib, "map");
        let md = d.metadata();
        // `f` is at its own line 12, and the inlined prelude code at
        // location 4 keeps line 12; `map` is at prelude line 5.
        assert!(
            md.contains("name: \"f\", scope: !1000, file: !1000, line: 12"),
            "{md}"
        );
        assert!(!md.contains("line: 4,"), "{md}");
        assert!(!md.contains("line: 3,"), "{md}");
        assert!(md.contains("name: \"map\""), "{md}");
        assert!(md.contains("line: 5, column: 1"), "{md}");
        assert!(md.contains("filename: \"<prelude>\""), "{md}");
    }
}
