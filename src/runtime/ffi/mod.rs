//! The foreign-function interface: calling C from Valk and C calling Valk
//! back (docs/ffi.md).
//!
//! * [`types`]: the C types of signatures and the value conversions;
//! * [`dl`]: `dlopen`/`dlsym` with caches;
//! * [`invoke`]: calls through libffi (`c-call`, `c-register`, the
//!   interpreter's typed foreign procedures), `errno`;
//! * [`callback`]: Valk procedures as C function pointers;
//! * [`typed`]: typed foreign procedures (`define-c-function`) and the
//!   entry points of compiled direct calls.
//!
//! The builtins over these are in `builtins/ffi.rs`.

pub mod callback;
pub mod dl;
pub mod invoke;
pub mod typed;
pub mod types;

pub use types::{CType, Signature};
