//! `valk_runtime`: values, heap objects, builtins and the collector shared
//! by the interpreter, the JIT and every AOT executable. Contains no LLVM.
//! Built as an rlib (linked into `valk`/`valkc`) and as `libvalk_runtime.a`
//! (linked into AOT executables).

pub mod aot;
pub mod backtrace;
pub mod builtins;
pub mod call;
pub mod cont;
pub mod dynamic;
pub mod error;
pub mod eval_hooks;
pub mod ffi;
// The collector lives in the top-level folder `src/gc/` so that it is
// visible as a part of its own, but it is a module of this crate: it shares
// the value representation, the error path and the root tables with the
// rest of the runtime (docs/architecture.md, docs/gc.md).
#[path = "../gc/mod.rs"]
pub mod gc;
pub mod globals;
pub mod guarded;
pub mod host;
pub mod interrupt;
pub mod io;
pub mod num;
pub mod object;
pub mod port;
pub mod printer;
pub mod rt;
pub mod syntax;
pub mod unicode;
pub mod value;

pub use error::{Raised, VResult};
pub use value::Value;
