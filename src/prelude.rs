//! The prelude: library procedures and macros written in Valk
//! (`prelude/prelude.valk`), loaded before every program by every engine.
//! It is compiled into the binaries so nothing of the build tree is needed
//! at run time.

/// The prelude's source text.
pub const TEXT: &str = include_str!("../prelude/prelude.valk");

/// The name the prelude's source file has in diagnostics and source maps.
pub const NAME: &str = "<prelude>";

/// Is this source (as registered in a source map) the prelude?
pub fn is_prelude(name: &str, text: &str) -> bool {
    name == NAME && text == TEXT
}
