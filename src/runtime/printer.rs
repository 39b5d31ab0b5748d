//! `display` and `write`: Scheme's external representation. (Placeholder
//! until the builtins land.)

use crate::value::Value;

pub fn write_string(v: Value) -> String {
    format!("{v:?}")
}

pub fn display_string(v: Value) -> String {
    format!("{v:?}")
}
