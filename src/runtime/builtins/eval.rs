//! `eval`, `environment`, `interaction-environment`,
//! `scheme-report-environment`, `null-environment` and the procedure
//! `load` (docs/libraries.md, "eval"). They forward to the evaluator's
//! hooks ([`crate::eval_hooks`]).

use super::{arg, opt, opt_arg, string_arg, var, Builtin};
use crate::error::{self, VResult};
use crate::eval_hooks::{self, environment_id, make_environment, INTERACTION};
use crate::object;
use crate::value::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    opt("eval", 1, 1, eval),
    var("environment", 0, environment),
    opt("interaction-environment", 0, 0, interaction_environment),
    opt("scheme-report-environment", 1, 0, scheme_report_environment),
    opt("null-environment", 1, 0, null_environment),
    opt("load", 1, 1, load),
];

/// The environment number of optional argument `i` (the interaction
/// environment when omitted: R7RS requires the argument, Valk does not).
fn env_arg(who: &str, args: &[Value], i: usize) -> VResult<u32> {
    match opt_arg(args, i) {
        None => Ok(INTERACTION),
        Some(v) => environment_id(v).ok_or_else(|| error::wrong_type(who, "an environment", v)),
    }
}

fn eval(args: &[Value]) -> VResult {
    let hooks = eval_hooks::hooks("eval")?;
    let env = env_arg("eval", args, 1)?;
    (hooks.eval)(arg(args, 0), env)
}

fn environment(args: &[Value]) -> VResult {
    let hooks = eval_hooks::hooks("environment")?;
    let id = (hooks.environment)(args)?;
    Ok(make_environment(id))
}

fn interaction_environment(_: &[Value]) -> VResult {
    Ok(make_environment(INTERACTION))
}

/// `(scheme-report-environment 5)` and `(null-environment 5)` (R5RS):
/// the environment of `(scheme r5rs)`.
fn r5rs_environment(who: &str, version: Value) -> VResult {
    if version != Value::fixnum(5) {
        return Err(error::error(
            error::ErrorKind::Other,
            &format!("{who}: only version 5 is supported"),
            &[version],
        ));
    }
    let hooks = eval_hooks::hooks(who)?;
    let scope = crate::gc::Scope::new();
    let scheme = scope.root(object::intern("scheme"));
    let r5rs = object::intern("r5rs");
    // `(scheme r5rs)`; the hook reads it before allocating.
    let set = object::list_from(&[scheme.get(), r5rs]);
    let id = (hooks.environment)(&[set])?;
    Ok(make_environment(id))
}

fn scheme_report_environment(args: &[Value]) -> VResult {
    r5rs_environment("scheme-report-environment", args[0])
}

fn null_environment(args: &[Value]) -> VResult {
    r5rs_environment("null-environment", args[0])
}

fn load(args: &[Value]) -> VResult {
    let hooks = eval_hooks::hooks("load")?;
    let path = object::string_to_rust(string_arg("load", arg(args, 0))?);
    let env = env_arg("load", args, 1)?;
    (hooks.load)(&path, env)
}
