//! Call sites for backtraces (docs/debugging.md, "Backtraces").
//!
//! Input: the text of emitted functions. Every call that may become a
//! statepoint (not `musttail`, not an intrinsic, not a `gc-leaf-function`
//! call) gets the call attribute `"statepoint-id"`, which
//! `rewrite-statepoints-for-gc` copies into the call's stack-map record.
//! The ID names a *site*: the procedure the call is in, the call's source
//! position, the global its operator names and, for code that VIR inlining
//! copied into another function, the site of the inlined call.
//!
//! Output: the site table (`@valk_sites`, layout `backtrace::Site` of the
//! runtime) and its key, the high bits of every ID, a hash of the table:
//! modules loaded together have distinct keys unless their tables are
//! equal, and then either table answers. Calls are annotated with a
//! placeholder while the table grows; [`SiteTable::finish`] writes the
//! real IDs once the key is known.

use super::text::llvm_bytes;
use std::collections::HashMap;
use std::fmt::Write;
use valk_runtime::backtrace::{SITE_HIDDEN, SITE_INDEX_BITS, SITE_LIBRARY, SITE_TOPLEVEL};
use valk_vir::{InlinedLoc, Loc};

/// Where a VIR `Loc` is, for sites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSource {
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// In the built-in prelude (frames not shown).
    pub library: bool,
    /// The global the call at this location names as its operator.
    pub callee: Option<String>,
    /// The procedure the location's code is in (it may differ from the
    /// emitted function's: contified and inlined code, docs/debugging.md).
    pub frame: Option<SiteFrame>,
}

/// The procedure of a location's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteFrame {
    TopLevel,
    /// A procedure (empty name: anonymous).
    Proc(String),
    /// Not a frame of the program (runtime glue in Valk code).
    Hidden,
}

/// Resolves a VIR `Loc` number for sites; `None`: no position.
pub type SiteResolver<'a> = dyn Fn(u32) -> Option<SiteSource> + 'a;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Entry {
    proc_name: String,
    file: String,
    callee: String,
    line: u32,
    col: u32,
    flags: u32,
    parent: Option<u32>,
}

/// The sites of one module.
#[derive(Default)]
pub struct SiteTable {
    entries: Vec<Entry>,
    ids: HashMap<Entry, u32>,
}

const PLACEHOLDER: &str = "\"statepoint-id\"=\"@site.";

/// The frame of a procedure (`None`: top-level code).
#[derive(Clone, Copy, Debug)]
pub struct ProcFrame<'n> {
    pub name: Option<&'n str>,
    pub library: bool,
    pub hidden: bool,
}

impl SiteTable {
    fn intern(&mut self, e: Entry) -> u32 {
        if let Some(&i) = self.ids.get(&e) {
            return i;
        }
        let i = self.entries.len() as u32;
        self.entries.push(e.clone());
        self.ids.insert(e, i);
        i
    }

    /// The site of a call at `src` (or without a position) in `frame`.
    pub fn site(&mut self, frame: ProcFrame, src: Option<&SiteSource>, parent: Option<u32>) -> u32 {
        let mut flags = 0;
        if frame.name.is_none() {
            flags |= SITE_TOPLEVEL;
        }
        if frame.hidden {
            flags |= SITE_HIDDEN;
        }
        if frame.library || src.is_some_and(|s| s.library) {
            flags |= SITE_LIBRARY;
        }
        let e = Entry {
            proc_name: frame.name.unwrap_or_default().to_string(),
            file: src.map(|s| s.file.clone()).unwrap_or_default(),
            callee: src.and_then(|s| s.callee.clone()).unwrap_or_default(),
            line: src.map_or(0, |s| s.line),
            col: src.map_or(0, |s| s.col),
            flags,
            parent,
        };
        self.intern(e)
    }

    /// The site of a call at VIR location `loc` in a function whose own
    /// frame is `frame`; `inlined` is the module's inlined-location table.
    pub fn site_of_loc(
        &mut self,
        frame: ProcFrame,
        resolve: &SiteResolver,
        inlined: &[InlinedLoc],
        loc: Loc,
    ) -> u32 {
        self.chain(frame, resolve, inlined, loc, None, 0)
    }

    /// The site of `loc` whose outermost frame sits on `outer` (the site
    /// of the call it was inlined at).
    fn chain(
        &mut self,
        frame: ProcFrame,
        resolve: &SiteResolver,
        inlined: &[InlinedLoc],
        loc: Loc,
        outer: Option<u32>,
        depth: u32,
    ) -> u32 {
        // Chains follow the code's nesting, so they end; the bound only
        // guards against a malformed table.
        if loc.is_none() || depth > 256 {
            return self.site(frame, None, outer);
        }
        if let Some(i) = loc.inlined_index() {
            let Some(e) = inlined.get(i).copied() else {
                return self.site(frame, None, outer);
            };
            let at = self.chain(frame, resolve, inlined, e.at, outer, depth + 1);
            return self.chain(frame, resolve, inlined, e.loc, Some(at), depth + 1);
        }
        let src = resolve(loc.0);
        match src.as_ref().and_then(|s| s.frame.clone()) {
            None => self.site(frame, src.as_ref(), outer),
            Some(SiteFrame::TopLevel) => {
                let f = ProcFrame {
                    name: None,
                    ..frame
                };
                self.site(f, src.as_ref(), outer)
            }
            Some(SiteFrame::Hidden) => {
                let f = ProcFrame {
                    hidden: true,
                    ..frame
                };
                self.site(f, src.as_ref(), outer)
            }
            Some(SiteFrame::Proc(name)) => {
                let f = ProcFrame {
                    name: Some(&name),
                    ..frame
                };
                self.site(f, src.as_ref(), outer)
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The table's key (the high bits of its IDs): a hash of the entries,
    /// with the top bit set so that no ID LLVM picks by default matches.
    fn key(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: &[u8]| {
            for &x in b {
                h = (h ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
            h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        };
        for e in &self.entries {
            eat(e.proc_name.as_bytes());
            eat(e.file.as_bytes());
            eat(e.callee.as_bytes());
            eat(&e.line.to_le_bytes());
            eat(&e.col.to_le_bytes());
            eat(&e.flags.to_le_bytes());
            eat(&e.parent.unwrap_or(u32::MAX).to_le_bytes());
        }
        let bits = 64 - SITE_INDEX_BITS - 1;
        (h & ((1 << bits) - 1)) | (1 << bits)
    }

    /// Replaces the placeholders in `text` by the final IDs; returns the
    /// text, the table's definition and the key.
    pub fn finish(&self, text: &str) -> (String, String, u64) {
        let key = self.key();
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        let mut rest = text;
        while let Some(p) = rest.find(PLACEHOLDER) {
            out.push_str(&rest[..p]);
            let after = &rest[p + PLACEHOLDER.len()..];
            let end = after.find('"').unwrap_or(after.len());
            let index: u64 = after[..end].parse().unwrap_or(0);
            let _ = write!(
                out,
                "\"statepoint-id\"=\"{}\"",
                (key << SITE_INDEX_BITS) | index
            );
            rest = &after[(end + 1).min(after.len())..];
        }
        out.push_str(rest);
        (out, self.definition(), key)
    }

    /// `@valk_site_strs` and `@valk_sites` (nothing when empty).
    fn definition(&self) -> String {
        if self.entries.is_empty() {
            return String::new();
        }
        let mut strs: Vec<u8> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for e in &self.entries {
            for s in [&e.proc_name, &e.file, &e.callee] {
                if !s.is_empty() && !at.contains_key(s.as_str()) {
                    at.insert(s, strs.len());
                    strs.extend_from_slice(s.as_bytes());
                }
            }
        }
        let n = self.entries.len();
        let str_ref = |s: &str| match at.get(s) {
            Some(&o) => format!("ptr getelementptr (i8, ptr @valk_site_strs, i64 {o})"),
            None => "ptr null".to_string(),
        };
        let mut out = format!(
            "@valk_site_strs = private unnamed_addr constant [{} x i8] c\"{}\", align 1\n\
             @valk_sites = private constant [{n} x {{ ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32 }}] [",
            strs.len(),
            llvm_bytes(&strs)
        );
        for (i, e) in self.entries.iter().enumerate() {
            let parent = match e.parent {
                Some(p) => format!(
                    "ptr getelementptr ([{n} x {{ ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32 }}], ptr @valk_sites, i64 0, i64 {p})"
                ),
                None => "ptr null".to_string(),
            };
            let _ = write!(
                out,
                "{}\n  {{ ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32 }} {{ {}, {}, {}, {parent}, i32 {}, i32 {}, i32 {}, i32 {}, i32 {}, i32 {} }}",
                if i == 0 { "" } else { "," },
                str_ref(&e.proc_name),
                str_ref(&e.file),
                str_ref(&e.callee),
                e.proc_name.len(),
                e.file.len(),
                e.callee.len(),
                e.line,
                e.col,
                e.flags,
            );
        }
        out.push_str("\n], align 8\n");
        out
    }
}

/// Whether an instruction line is a call that may become a statepoint.
fn is_statepoint_call(line: &str) -> bool {
    let t = line.trim_start();
    let t = match t.strip_prefix('%') {
        Some(r) => match r.find(" = ") {
            Some(i) => &r[i + 3..],
            None => return false,
        },
        None => t,
    };
    let t = t.strip_prefix("tail ").unwrap_or(t);
    if !t.starts_with("call ") {
        return false;
    }
    !(t.contains("@llvm.")
        || t.contains(" asm ")
        || t.trim_end().ends_with("#2")
        || t.contains("\"statepoint-id\""))
}

/// Annotates every statepoint call in `text[from..]` with site `site`.
pub fn annotate(text: &mut String, from: usize, site: u32) {
    if !text[from..].contains("call ") {
        return;
    }
    let mut out = String::with_capacity(text.len() - from + 64);
    for line in text[from..].split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(body);
        if is_statepoint_call(body) {
            let _ = write!(out, " {PLACEHOLDER}{site}\"");
        }
        out.push_str(nl);
    }
    text.truncate(from);
    text.push_str(&out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotates_statepoint_calls_only() {
        let mut t = String::from(
            "  %a = call tailcc ptr addrspace(1) @f(i64 1)\n  %b = musttail call tailcc ptr @g()\n  call void @valk_gc_remember(ptr %x) #2\n  %c = call i64 @llvm.ctpop.i64(i64 %d)\n  call void @valk_rt_raise()\n",
        );
        annotate(&mut t, 0, 7);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].ends_with("\"statepoint-id\"=\"@site.7\""), "{t}");
        assert!(!lines[1].contains("statepoint-id"));
        assert!(!lines[2].contains("statepoint-id"));
        assert!(!lines[3].contains("statepoint-id"));
        assert!(lines[4].ends_with("@site.7\""));
        // Already annotated calls keep their site.
        annotate(&mut t, 0, 9);
        assert!(!t.contains("@site.9"));
    }

    #[test]
    fn finish_writes_ids_under_the_table_key() {
        let mut s = SiteTable::default();
        let src = SiteSource {
            file: "x.valk".into(),
            line: 3,
            col: 5,
            library: false,
            callee: Some("g".into()),
            frame: None,
        };
        let f = ProcFrame {
            name: Some("f"),
            library: false,
            hidden: false,
        };
        let a = s.site(f, Some(&src), None);
        let b = s.site(f, None, Some(a));
        assert_eq!(s.site(f, Some(&src), None), a, "interned");
        let mut text = String::from("  call void @h()\n");
        annotate(&mut text, 0, a);
        let from = text.len();
        text.push_str("  call void @k()\n");
        annotate(&mut text, from, b);
        let (out, def, key) = s.finish(&text);
        assert!(key >> (64 - SITE_INDEX_BITS - 1) == 1, "top bit set");
        assert!(out.contains(&format!("\"statepoint-id\"=\"{}\"", key << SITE_INDEX_BITS)));
        assert!(out.contains(&format!(
            "\"statepoint-id\"=\"{}\"",
            (key << SITE_INDEX_BITS) | 1
        )));
        assert!(def.contains("@valk_sites = private constant [2 x"), "{def}");
        assert!(
            def.contains("i64 0, i64 0)"),
            "the second site's parent is the first: {def}"
        );
    }
}
