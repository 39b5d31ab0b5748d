//! Start-up of AOT executables. The compiled program's `main` calls
//! [`valk_aot_main`] with a [`ProgramDesc`] the backend emits: the tables to
//! fill (constants, global cells, builtins), the stack map section, and a
//! C-ABI function that runs top-level form `i`.
//!
//! The program runs like `valk` runs one, through [`crate::host`]: on the
//! evaluation thread, an uncaught error printed as every engine prints it
//! with exit status 1, `(exit)` honoured, output flushed and GC statistics
//! printed at the end; `main` returns the status.

use crate::builtins::{self, Builtin};
use crate::error::ERROR_EXIT_STATUS;
use crate::gc;
use crate::host::{self, Uncaught};
use crate::rt;
use crate::value::Value;
use std::ffi::{c_char, CStr};

/// Version of [`ProgramDesc`]; the backend writes the one it was built with.
pub const ABI_VERSION: u64 = 2;

/// What a compiled program gives the start-up code. Field order and types
/// are part of the backend ABI (`valk_llvm` emits this struct).
#[repr(C)]
pub struct ProgramDesc {
    pub abi_version: u64,
    pub consts: *mut Value,
    pub nconsts: u64,
    pub const_data: *const u8,
    pub const_data_len: u64,
    pub cells: *mut *mut Value,
    pub ncells: u64,
    pub cell_names: *const u8,
    pub cell_names_len: u64,
    pub builtins: *mut *const Builtin,
    pub nbuiltins: u64,
    pub builtin_names: *const u8,
    pub builtin_names_len: u64,
    /// Runs top-level form `i`; returns its value or `Value::EXCEPTION`.
    pub run_toplevel: unsafe extern "C" fn(u64) -> Value,
    pub ntoplevels: u64,
    /// Start of the module's `.llvm_stackmaps` section (null if none).
    pub stackmaps: *const u8,
    /// The module's call sites (`backtrace::Site`), indexed by the low bits
    /// of its stack-map record IDs; `site_key` is their high bits.
    pub sites: *const crate::backtrace::Site,
    pub nsites: u64,
    pub site_key: u64,
}

/// # Safety
/// `p` must point at `n` bytes that live and stay unchanged for `'a`.
unsafe fn bytes<'a>(p: *const u8, n: u64) -> &'a [u8] {
    if n == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract; `p` is non-null when `n > 0`.
        unsafe { std::slice::from_raw_parts(p, n as usize) }
    }
}

/// Fills the tables of a compiled module and registers its stack maps.
/// Call after `gc::init` and `builtins::install`, before running its code.
///
/// # Safety
/// `desc` must describe a module as the backend emits it.
pub unsafe fn load_module(desc: &ProgramDesc) -> Result<(), String> {
    if desc.abi_version != ABI_VERSION {
        return Err(format!(
            "program built for runtime ABI {}, this runtime has {ABI_VERSION}",
            desc.abi_version
        ));
    }
    if !desc.stackmaps.is_null() {
        // SAFETY: the backend points `stackmaps` at the module's
        // `.llvm_stackmaps` section, which lives as long as the program.
        unsafe { gc::stackmap::register_stackmaps(desc.stackmaps) }.map_err(|e| e.to_string())?;
    }
    // SAFETY: the backend emits `nsites` static sites at `sites`.
    unsafe { crate::backtrace::register_sites(desc.site_key, desc.sites, desc.nsites as usize) };
    let err = |e: rt::TableError| e.0;
    // SAFETY: (the three tables) the backend emits each table and its
    // encoded data as static arrays of the given lengths (this function's
    // contract), alive for the whole program.
    unsafe {
        rt::init_globals(
            desc.cells,
            desc.ncells as usize,
            bytes(desc.cell_names, desc.cell_names_len),
        )
    }
    .map_err(err)?;
    // SAFETY: as above.
    unsafe {
        rt::init_builtins(
            desc.builtins,
            desc.nbuiltins as usize,
            bytes(desc.builtin_names, desc.builtin_names_len),
        )
    }
    .map_err(err)?;
    // SAFETY: as above.
    unsafe {
        rt::init_consts(
            desc.consts,
            desc.nconsts as usize,
            bytes(desc.const_data, desc.const_data_len),
        )
    }
    .map_err(err)?;
    Ok(())
}

/// Runs top-level form `i` of a loaded module (marks the runtime-to-compiled
/// boundary for the frame walker).
///
/// # Safety
/// `desc` must have been loaded with [`load_module`].
pub unsafe fn run_toplevel(desc: &ProgramDesc, i: u64) -> Value {
    crate::cont::run_on_base(run_toplevel_on_base, desc as *const ProgramDesc as u64, i)
}

/// [`run_toplevel`] on the control stack (docs/continuations.md): takes
/// its arguments by value, as a continuation of this form may return here
/// while another form runs.
extern "C" fn run_toplevel_on_base(desc: u64, i: u64) -> u64 {
    // SAFETY: `desc` is the loaded descriptor `run_toplevel` passed (static
    // data of the executable, or JIT memory that is never freed).
    let desc = unsafe { &*(desc as *const ProgramDesc) };
    let saved = gc::frames::enter_compiled();
    // SAFETY: the module is loaded (`run_toplevel`'s contract) and the
    // boundary is marked, as compiled code requires.
    let r = unsafe { (desc.run_toplevel)(i) };
    gc::frames::leave_compiled(saved);
    r.0
}

struct Desc(*const ProgramDesc);
// SAFETY: the descriptor is static data of the executable; the main thread
// only waits for the evaluation thread, which alone uses it.
unsafe impl Send for Desc {}

fn run_program(desc: &ProgramDesc) -> i32 {
    gc::init();
    builtins::install();
    rt::set_apply_info();
    // SAFETY: `desc` is the descriptor the backend emitted (see
    // `valk_aot_main`), loaded once, after `gc::init` and `builtins::install`.
    if let Err(e) = unsafe { load_module(desc) } {
        crate::eprintln_quiet!("error: internal error: {e}");
        return ERROR_EXIT_STATUS;
    }
    for i in 0..desc.ntoplevels {
        // SAFETY: loaded above.
        let r = unsafe { run_toplevel(desc, i) };
        if r == Value::EXCEPTION {
            return match host::take_uncaught(|_| None) {
                Uncaught::Exit(status) => status,
                Uncaught::Error => ERROR_EXIT_STATUS,
            };
        }
    }
    0
}

/// The entry point of an AOT executable: its `main` calls this and returns
/// the status.
///
/// # Safety
/// `argv` must hold `argc` C strings and `desc` must be the program's
/// descriptor emitted by the backend.
#[no_mangle]
pub unsafe extern "C" fn valk_aot_main(
    argc: i32,
    argv: *const *const c_char,
    desc: *const ProgramDesc,
) -> i32 {
    let args: Vec<String> = (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: `argv` holds `argc` C strings (this function's
            // contract).
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    builtins::set_command_line(args);
    crate::interrupt::install_stop_handlers();
    // As Rust's start-up does for `valk`: a closed pipe then shows as a
    // failed write (`EPIPE`), which ends the program the same way on every
    // engine (docs/errors.md, "Output errors").
    // SAFETY: setting a signal's disposition to SIG_IGN has no memory
    // preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let d = Desc(desc);
    let status = host::run_on_evaluation_thread(move |_| {
        let d = d;
        // SAFETY: the caller guarantees `desc` is the program's descriptor,
        // static data of the executable that outlives the run.
        run_program(unsafe { &*d.0 })
    })
    .unwrap_or_else(|e| {
        e.report();
        ERROR_EXIT_STATUS
    });
    host::finish(status)
}
