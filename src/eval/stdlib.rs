//! The library files of `lib/` (the standard libraries `(scheme ...)`,
//! `(srfi ...)` and `(valk ...)`), compiled into the binaries by
//! `build.rs` so that no file of the build tree is needed at run time.
//! They are the "installed library directory" of docs/libraries.md: the
//! last place a library is looked up.

include!(concat!(env!("OUT_DIR"), "/stdlib_files.rs"));

/// The text of the installed library file at `rel` (e.g.
/// `scheme/base.sld`), if there is one.
pub fn file(rel: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
}

/// Every installed library file: (path relative to `lib/`, text).
pub fn files() -> &'static [(&'static str, &'static str)] {
    FILES
}
