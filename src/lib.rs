//! The Valk compiler and engines: reader, expander, core AST, VIR
//! lowering, the compile pipeline (the LLVM backend is crate `valk_llvm`),
//! the interpreter, the JIT engine, the `valkc run` cache, the session
//! driver and the REPL. Layering (no module depends on one to its left):
//! `repl → driver → {interp, jit} → pipeline → {lower, expand, syntax}`;
//! `cache → pipeline`; `jit, cache → store` (docs/architecture.md).

pub mod cache;
pub mod driver;
pub mod jit;
pub mod lower;
pub mod pipeline;
pub mod repl;
pub mod store;
pub mod tier;
pub mod warnings;

// The evaluator's modules live in crate `valk_eval` (linked into AOT
// executables that call `eval`); the rest of this crate uses them by
// their old paths.
pub use valk_eval::{ast, expand, interp, prelude, stdlib, syntax};
