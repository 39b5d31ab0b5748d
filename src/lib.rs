//! The Valk compiler and engines: reader, expander, core AST, VIR
//! lowering, the compile pipeline (the LLVM backend is crate `valk_llvm`),
//! the interpreter, the JIT engine, the `valkc run` cache, the session
//! driver and the REPL. Layering (no module depends on one to its left):
//! `repl → driver → {interp, jit} → pipeline → {lower, expand, syntax}`;
//! `cache → pipeline`; `jit, cache → store` (docs/architecture.md).

pub mod ast;
pub mod cache;
pub mod driver;
pub mod expand;
pub mod interp;
pub mod jit;
pub mod lower;
pub mod pipeline;
pub mod prelude;
pub mod repl;
pub mod store;
pub mod syntax;
