//! The Valk compiler and engines: reader, expander, core AST, interpreter,
//! VIR lowering, the AOT driver (the LLVM backend is crate `valk_llvm`),
//! the driver and the REPL.

pub mod aot;
pub mod ast;
pub mod cache;
pub mod driver;
pub mod expand;
pub mod interp;
pub mod jit;
pub mod lower;
pub mod repl;
pub mod syntax;
