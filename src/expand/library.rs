//! Libraries and environments (docs/libraries.md). Work in progress: the
//! API below is what `eval` uses; its implementation follows.

use super::{Expander, Res};
use crate::ast::TopLevel;
use crate::syntax::datum::Datum;
use crate::syntax::source::SourceMap;

/// A top-level environment: the interaction environment (everything
/// visible, REPL and programs without `import`), a library's, a program's
/// with imports, or one made by `environment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnvId(pub u32);

impl EnvId {
    /// The interaction environment (`interaction-environment`).
    pub const INTERACTION: EnvId = EnvId(0);
}

impl Expander {
    /// The environment made by importing `import_sets` (each an import set
    /// datum such as `(scheme base)` or `(only (srfi 1) fold)`) into an
    /// empty one, as `environment` does. Libraries expanded for the first
    /// time on the way append their definitions and bodies to `out`, which
    /// must run before anything expanded in the environment.
    pub fn environment(
        &mut self,
        import_sets: &[Datum],
        sources: &mut SourceMap,
        out: &mut Vec<TopLevel>,
    ) -> Res<EnvId> {
        let _ = (import_sets, sources, out);
        Ok(EnvId::INTERACTION)
    }

    /// Expands one top-level datum in environment `env` (as `eval` does).
    pub fn expand_toplevel_in(
        &mut self,
        env: EnvId,
        datum: &Datum,
        sources: &mut SourceMap,
    ) -> Res<Vec<TopLevel>> {
        let _ = env;
        self.expand_toplevel(datum, sources)
    }
}
