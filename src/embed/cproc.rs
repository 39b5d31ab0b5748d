//! C functions as Valk procedures (`valk_define_procedure`,
//! docs/embedding.md, "C procedures"): a closure whose generic entry is
//! [`entry`] and whose `ProcInfo` (leaked, one per registration) names the
//! function in the table below.

use crate::{handles, valk_value, LAST};
use std::ffi::{c_int, c_void};
use std::sync::Mutex;
use valk_runtime::value::ProcInfo;
use valk_runtime::{dynamic, error, globals, io, object, Value};

type CFn = unsafe extern "C" fn(*mut c_void, c_int, *const valk_value) -> valk_value;

struct CProc {
    name: &'static str,
    func: CFn,
    userdata: usize,
    min: u32,
    /// `None`: any number of arguments from `min`.
    max: Option<u32>,
}

static PROCS: Mutex<Vec<CProc>> = Mutex::new(Vec::new());

fn procs() -> std::sync::MutexGuard<'static, Vec<CProc>> {
    PROCS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds global `name` to a new procedure calling `func` (on the
/// evaluation thread).
pub fn define(name: &str, func: CFn, min: u32, max: i32, userdata: usize) {
    let name: &'static str = Box::leak(name.into());
    let max = u32::try_from(max).ok();
    let index = {
        let mut p = procs();
        p.push(CProc {
            name,
            func,
            userdata,
            min,
            max,
        });
        p.len() - 1
    };
    let info: &'static ProcInfo = Box::leak(Box::new(ProcInfo {
        name: name.as_ptr(),
        name_len: name.len(),
        required: min,
        optional: max.map_or(0, |m| m - min),
        rest: max.is_none() as u32,
        data: index,
    }));
    let c = object::make_closure(entry, info, 0);
    globals::set(globals::global_id(name), c);
}

fn arity_text(min: u32, max: Option<u32>) -> String {
    match max {
        None => format!("at least {min}"),
        Some(m) if m == min => format!("{min}"),
        Some(m) => format!("{min} to {m}"),
    }
}

/// Raises `r` where a builtin's error reaches Valk code: the handlers see
/// it (as `builtins::builtin_entry` does).
fn raised() -> Value {
    dynamic::deliver();
    Value::EXCEPTION
}

/// The generic entry of every C procedure: checks the arity, passes the
/// arguments as handles, takes the result handle over.
///
/// # Safety
/// `self_` is a closure made by [`define`] and `argv` points at `argc`
/// values in the root stack (the generic calling convention).
unsafe extern "C" fn entry(self_: Value, argc: u64, argv: *const Value) -> Value {
    let index = object::closure_info(self_).data;
    let (name, func, userdata, min, max) = {
        let p = procs();
        let Some(cp) = p.get(index) else {
            error::fatal("internal error: closure is not a C procedure");
        };
        (cp.name, cp.func, cp.userdata, cp.min, cp.max)
    };
    let argc = argc as usize;
    if argc < min as usize || max.is_some_and(|m| argc > m as usize) {
        let _ = error::arity(name, &arity_text(min, max), argc);
        return raised();
    }
    // Handles allocate nothing on the Valk heap, so the arguments read
    // here cannot move before they are all rooted in the table.
    let args: Vec<valk_value> = (0..argc)
        .map(|i| {
            // SAFETY: `i < argc` values at `argv` (the contract); volatile
            // as builtins read root-stack slots.
            let v = unsafe { std::ptr::read_volatile(argv.add(i)) };
            handles::new(v) as usize as valk_value
        })
        .collect();
    io::flush_stdout();
    // SAFETY: `func` was registered for calls with `userdata`
    // (`valk_define_procedure`'s contract); `args` holds `argc` handles.
    let r = unsafe { func(userdata as *mut c_void, argc as c_int, args.as_ptr()) };
    crate::flush_c_stdio();
    let r = r as usize as handles::Raw;
    let result = if r == 0 { None } else { handles::get(r) };
    let taken_over = r != 0 && !args.iter().any(|&a| a as usize as handles::Raw == r);
    for &a in &args {
        handles::release(a as usize as handles::Raw);
    }
    if taken_over {
        handles::release(r);
    }
    match result {
        Some(v) => v,
        None if r != 0 => {
            let _ = error::error(
                error::ErrorKind::Other,
                &format!("{name}: the C procedure returned an invalid or released handle"),
                &[],
            );
            raised()
        }
        None => {
            // NULL: raise the evaluation thread's last error again (from
            // `valk_raise_error` or a failed API call).
            match LAST.with(|l| l.borrow_mut().take()) {
                Some(e) => match handles::get(e.object) {
                    Some(obj) => {
                        handles::release(e.object);
                        let _ = error::raise(obj);
                    }
                    None => {
                        let text = e.message.to_string_lossy().into_owned();
                        let _ = error::error(error::ErrorKind::Other, &text, &[]);
                    }
                },
                None => {
                    let _ = error::error(
                        error::ErrorKind::Other,
                        &format!("{name}: the C procedure returned NULL without an error"),
                        &[],
                    );
                }
            }
            raised()
        }
    }
}
