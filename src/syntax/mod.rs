//! Reading Valk source: spans, datums, the reader and diagnostics.
pub mod datum;
pub mod diag;
pub mod reader;
pub mod source;
