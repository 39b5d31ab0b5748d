//! Unit tests of `src/runtime/num/mod.rs`.
