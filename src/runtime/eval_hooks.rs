//! The link between the runtime's `eval`, `environment` and `load`
//! builtins and the evaluator (crate `valk_eval`), which the runtime
//! cannot depend on: the evaluator installs a table of function pointers
//! once at start-up (the `valk`/`valkc` sessions, and AOT executables that
//! call `eval`, docs/libraries.md "eval"). Without it the builtins raise
//! an error saying so.
//!
//! Environments are heap objects ([`ObjType::Environment`], one raw word:
//! the expander's environment number).

use crate::error::{self, ErrorKind, VResult};
use crate::gc;
use crate::value::{ObjType, Value};
use std::sync::OnceLock;

/// The evaluator's entry points.
pub struct EvalHooks {
    /// Expands `expr` (any value; it must be a datum) in environment
    /// `env` and runs it; the value of its last form. `expr` need not be
    /// rooted: the hook converts it to a datum before it allocates.
    pub eval: fn(expr: Value, env: u32) -> VResult,
    /// The environment made by importing the import sets `sets` (datums
    /// such as `(scheme base)`); may run libraries expanded on the way.
    /// `sets` need not be rooted: the hook converts them to datums before
    /// it allocates.
    pub environment: fn(sets: &[Value]) -> VResult<u32>,
    /// Reads the file `path` and runs each form in environment `env`.
    pub load: fn(path: &str, env: u32) -> VResult,
}

static HOOKS: OnceLock<EvalHooks> = OnceLock::new();

/// The number of the interaction environment (the expander's
/// `EnvId::INTERACTION`).
pub const INTERACTION: u32 = 0;

/// Installs the evaluator; later calls keep the first table (every
/// evaluator installs the same functions).
pub fn install(hooks: EvalHooks) {
    let _ = HOOKS.set(hooks);
}

/// Whether an evaluator is installed.
pub fn installed() -> bool {
    HOOKS.get().is_some()
}

/// The installed hooks, or the error `who` raises without them.
pub fn hooks(who: &str) -> VResult<&'static EvalHooks> {
    HOOKS.get().ok_or_else(|| {
        error::error(
            ErrorKind::Other,
            &format!("{who}: this program was built without the evaluator"),
            &[],
        )
    })
}

/// A fresh environment object for environment number `id`.
pub fn make_environment(id: u32) -> Value {
    let v = gc::alloc(ObjType::Environment, 1);
    v.set_raw(0, id as u64);
    v
}

/// The environment number of `v`, if it is an environment.
pub fn environment_id(v: Value) -> Option<u32> {
    if v.has_type(ObjType::Environment) {
        Some(v.raw(0) as u32)
    } else {
        None
    }
}
