//! Helpers shared by the REPL test files.

/// Defines `interp::NAME` and `jit::NAME` tests calling `NAME(engine_flag)`
/// for every listed scenario, so each REPL test runs on both engines.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod interp {
            $(#[test] fn $name() { super::$name("--no-jit") })*
        }
        mod jit {
            $(#[test] fn $name() { super::$name("--jit") })*
        }
    };
}
