//! Valk's LLVM backend.
