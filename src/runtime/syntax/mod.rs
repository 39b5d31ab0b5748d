//! Reading Scheme text: spans, datums, the reader and the conversion of
//! datums to heap values. Shared by the compiler (the `valk` crate) and
//! `read` (docs/architecture.md).
pub mod datum;
pub mod from_value;
pub mod reader;
pub mod source;
pub mod to_value;
