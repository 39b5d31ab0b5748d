//! Differential testing and fuzzing for Valk (docs/testing.md).
//!
//! * [`rng`]: a small seeded PRNG (every input is a function of a seed);
//! * [`program`]: random, well-typed, terminating Valk programs that print
//!   a checksum of their values;
//! * [`sexp`]: a minimal S-expression tree for the shrinker;
//! * [`diff`]: runs a program on every engine and configuration, compares
//!   stdout, stderr and status, shrinks a disagreement;
//! * [`fuzz`]: in-process loops over the reader, the expander and the
//!   compiler (lowering, VIR validation, LLVM emission and verifier).

pub mod diff;
pub mod fuzz;
pub mod program;
pub mod rng;
pub mod sexp;
