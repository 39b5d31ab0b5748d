//! Valk's evaluator: everything that turns source text into a running
//! program without LLVM — reader diagnostics (`syntax`), the expander and
//! library system (`expand`), the core AST (`ast`), the prelude text
//! (`prelude`), the standard library files (`stdlib`) and the interpreter
//! (`interp`).
//!
//! It is a crate of its own so that an AOT executable that calls `eval`
//! can link it (as `libvalk_eval.a`, which contains the runtime too)
//! while every other executable links only `libvalk_runtime.a`
//! (docs/libraries.md, "eval"). The modules keep their place in the tree
//! (`src/expand/`, `src/interp/`, ...), shared with the `valk` crate,
//! which re-exports them; hence the `#[path]` attributes.

#[path = "../ast.rs"]
pub mod ast;
pub mod evaluator;
#[path = "../expand/mod.rs"]
pub mod expand;
#[path = "../interp/mod.rs"]
pub mod interp;
#[path = "../prelude.rs"]
pub mod prelude;
pub mod stdlib;
#[path = "../syntax/mod.rs"]
pub mod syntax;
