//! The Valk compiler and engines: reader, expander, core AST, interpreter,
//! VIR lowering and (later) the LLVM backend.

pub mod ast;
pub mod expand;
pub mod syntax;
pub mod interp;
pub mod driver;
pub mod repl;
pub mod lower;
pub mod aot;
