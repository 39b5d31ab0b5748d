//! Builtin procedures (placeholder until the builtins land).
