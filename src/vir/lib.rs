//! VIR: Valk's SSA intermediate representation.
//!
//! - [`ops`]: the opcode table (`Op` and what each opcode is);
//! - [`ir`]: entities, functions and modules;
//! - [`builder`]: the IR builder;
//! - [`analysis`]: CFG, reverse postorder, dominators;
//! - [`verify`]: the validator;
//! - [`write`] / [`read`]: the text format printer and parser;
//! - [`passes`]: optimisation passes and the pass manager;
//! - [`eval`]: a small reference evaluator for testing passes;
//! - [`equiv`]: structural equality of modules.
//!
//! See `docs/vir.md` for the instruction set and text format.

pub mod analysis;
pub mod builder;
pub mod entity;
pub mod equiv;
pub mod eval;
pub mod ir;
pub mod ops;
pub mod passes;
pub mod read;
pub mod verify;
pub mod write;

pub use analysis::{Cfg, DomTree};
pub use builder::FunctionBuilder;
pub use entity::{Block, BuiltinId, ConstId, FuncId, GlobalId, Inst, Loc, Value};
pub use ir::{
    BlockCall, Cond, ConstData, FfiTy, FlOp, Foreign, Function, FxMode, FxOp, InlinedLoc, InstData,
    Module, ObjKind, Signature, Ty, ValueDef,
};
pub use ops::{AllocPlace, ArgCount, Checked, Op, OpCode, OPS};
pub use passes::{optimize, OptLevel};
pub use read::{parse_function, parse_module, ParseError};
pub use verify::{verify_function, verify_module, VerifyError, VerifyErrors};
pub use write::{print_function, print_module};
