//! Unit tests of `src/runtime/num/text.rs`.
