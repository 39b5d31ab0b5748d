//! The Valk compiler and engines: reader, expander, core AST, interpreter,
//! VIR lowering and (later) the LLVM backend.

pub mod ast;
pub mod syntax;
