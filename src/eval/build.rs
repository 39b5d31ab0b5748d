//! Embeds every file under `lib/` (the installed libraries,
//! docs/libraries.md) as `FILES: &[(relative path, text)]`.

use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, base, out);
        } else if let Ok(rel) = p.strip_prefix(base) {
            out.push((rel.to_string_lossy().replace('\\', "/"), p.clone()));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let lib = manifest.join("../../lib");
    println!("cargo:rerun-if-changed={}", lib.display());
    let mut files = Vec::new();
    walk(&lib, &lib, &mut files);
    files.sort();
    let mut src = String::from("static FILES: &[(&str, &str)] = &[\n");
    for (rel, path) in &files {
        let abs = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        src.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    src.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("stdlib_files.rs");
    fs::write(out, src).expect("OUT_DIR is writable");
}
