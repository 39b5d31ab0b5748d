//! Reading Valk source: spans, datums and the reader.
pub mod datum;
pub mod source;
