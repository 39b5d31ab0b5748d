//! Precise roots in compiled frames, end to end with real LLVM output.
//!
//! `fixtures/compiled_frames.ll` stands in for backend output. It is run
//! through `opt -passes='default<O2>,rewrite-statepoints-for-gc'` and
//! `llc -O2 -relocation-model=pic`, linked into a shared object and loaded
//! with `dlopen`; its stack maps are registered and the collector then
//! moves objects referenced only from compiled frames (several per segment,
//! several segments, derived pointers, callee-popped stack arguments,
//! musttail calls). The compiled code reads the moved objects afterwards
//! and the results are compared with the expected values.
//!
//! The test binary does not export the runtime's symbols, so the shared
//! object gets a small generated shim: each runtime function is a stub that
//! jumps to the runtime's address (a pure jump keeps the compiled caller's
//! return address on top of the stack for the exit trampoline), and the
//! allocation pointer and limit are absolute symbols at the runtime's
//! statics.
//!
//! Skipped with a note when `llc-19`/`opt-19`/`cc`/`objcopy` are missing.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use valk_runtime::call;
use valk_runtime::error;
use valk_runtime::gc::{self, frames, stackmap, Scope};
use valk_runtime::object;
use valk_runtime::value::{GenericEntry, ProcInfo, Value};

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
}
const RTLD_NOW: c_int = 2;

type BuildList = unsafe extern "C" fn(i64, Value) -> Value;
type SumList = unsafe extern "C" fn(Value) -> i64;
type Unary = unsafe extern "C" fn(Value) -> Value;
type Binary = unsafe extern "C" fn(Value, Value) -> Value;

struct Lib {
    stackmaps: *const u8,
    build_list: BuildList,
    sum_list: SumList,
    vector_to_list: Unary,
    many_caller: Binary,
    tc_start: BuildList,
    entry_outer: GenericEntry,
    entry_inner: GenericEntry,
    /// Function name -> address, for checking the parsed stack maps.
    addrs: Vec<(&'static str, u64)>,
}
// SAFETY: the fixture's code and stack maps are immutable mapped memory
// (the library is never unloaded); calls are made under the heap lock.
unsafe impl Send for Lib {}
// SAFETY: as above.
unsafe impl Sync for Lib {}

/// First of `names` that runs with `--version`.
fn tool(names: &[&str]) -> Option<String> {
    names.iter().map(|s| s.to_string()).find(|n| {
        Command::new(n)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shim_source() -> String {
    let f = |name: &str, addr: usize| {
        format!(
            "    .globl {name}\n    .hidden {name}\n    .type {name},@function\n{name}:\n    \
             movabsq ${addr:#x}, %r11\n    jmpq *%r11\n"
        )
    };
    // Default visibility: ld 2.40 trips an assertion on hidden absolute
    // symbols referenced through the GOT.
    let d = |name: &str, addr: usize| format!("    .globl {name}\n    .set {name}, {addr:#x}\n");
    let mut s = String::from("    .text\n");
    s += &f(
        "valk_gc_alloc_slow",
        gc::valk_gc_alloc_slow as *const () as usize,
    );
    s += &f("valk_rt_call", frames::valk_rt_call as *const () as usize);
    s += &d(
        "valk_alloc_ptr",
        std::ptr::addr_of!(gc::valk_alloc_ptr) as usize,
    );
    s += &d(
        "valk_alloc_limit",
        std::ptr::addr_of!(gc::valk_alloc_limit) as usize,
    );
    s += "    .section .note.GNU-stack,\"\",@progbits\n";
    s
}

fn build_and_load() -> Option<Lib> {
    let (Some(opt), Some(llc)) = (
        tool(&["opt-19", "/usr/lib/llvm-19/bin/opt"]),
        tool(&["llc-19", "/usr/lib/llvm-19/bin/llc"]),
    ) else {
        eprintln!("note: compiled_frames skipped: llc-19/opt-19 not found");
        return None;
    };
    let (Some(cc), Some(objcopy)) = (tool(&["cc", "gcc", "clang"]), tool(&["objcopy"])) else {
        eprintln!("note: compiled_frames skipped: cc/objcopy not found");
        return None;
    };
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compiled_frames.ll");
    let dir: PathBuf =
        std::env::temp_dir().join(format!("valk-compiled-frames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n);
    run(Command::new(&opt)
        .arg("-passes=default<O2>,rewrite-statepoints-for-gc")
        .arg(&fixture)
        .arg("-o")
        .arg(p("fixture.bc")));
    run(Command::new(&llc)
        .args(["-O2", "-relocation-model=pic", "-filetype=obj"])
        .arg(p("fixture.bc"))
        .arg("-o")
        .arg(p("fixture.o")));
    // The section holds absolute function addresses: make it writable so
    // the shared object needs no text relocations (docs/calling-convention.md, "LLVM facts the backend relies on").
    run(Command::new(&objcopy)
        .arg("--set-section-flags=.llvm_stackmaps=alloc,contents,load,data")
        .arg(p("fixture.o")));
    std::fs::write(p("shim.s"), shim_source()).unwrap();
    run(Command::new(&cc)
        .arg("-c")
        .arg(p("shim.s"))
        .arg("-o")
        .arg(p("shim.o")));
    run(Command::new(&cc)
        .arg("-shared")
        .arg("-o")
        .arg(p("libcf.so"))
        .arg(p("fixture.o"))
        .arg(p("shim.o")));
    let path = CString::new(p("libcf.so").to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path; the library has no constructors.
    let h = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
    // SAFETY: after a failed `dlopen`, `dlerror` returns a C string.
    assert!(!h.is_null(), "dlopen: {:?}", unsafe {
        CStr::from_ptr(dlerror())
    });
    // Mapped now; the files are no longer needed.
    let _ = std::fs::remove_dir_all(&dir);
    let sym = |name: &str| {
        let c = CString::new(name).unwrap();
        // SAFETY: `h` is an open handle, `c` a NUL-terminated name.
        let a = unsafe { dlsym(h, c.as_ptr()) };
        assert!(!a.is_null(), "dlsym {name}");
        a
    };
    let names = [
        "cf_cons",
        "cf_build_list",
        "cf_sum_list",
        "cf_vector_to_list",
        "cf_many",
        "cf_many_caller",
        "cf_tc_a",
        "cf_tc_b",
        "cf_tc_start",
        "cf_entry_outer",
        "cf_entry_inner",
    ];
    // SAFETY: each symbol is the fixture function of that signature
    // (fixture.ll declares them so), and `valk_stackmaps` its section.
    unsafe {
        Some(Lib {
            stackmaps: sym("valk_stackmaps") as *const u8,
            build_list: std::mem::transmute::<*mut c_void, BuildList>(sym("cf_build_list")),
            sum_list: std::mem::transmute::<*mut c_void, SumList>(sym("cf_sum_list")),
            vector_to_list: std::mem::transmute::<*mut c_void, Unary>(sym("cf_vector_to_list")),
            many_caller: std::mem::transmute::<*mut c_void, Binary>(sym("cf_many_caller")),
            tc_start: std::mem::transmute::<*mut c_void, BuildList>(sym("cf_tc_start")),
            entry_outer: std::mem::transmute::<*mut c_void, GenericEntry>(sym("cf_entry_outer")),
            entry_inner: std::mem::transmute::<*mut c_void, GenericEntry>(sym("cf_entry_inner")),
            addrs: names.iter().map(|&n| (n, sym(n) as u64)).collect(),
        })
    }
}

static LIB: OnceLock<Option<Lib>> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

/// Holds the heap lock; turns stress mode off again on drop.
struct Guard(#[allow(dead_code)] MutexGuard<'static, ()>);
impl Drop for Guard {
    fn drop(&mut self) {
        gc::set_stress(false);
    }
}

/// The loaded fixture with its stack maps registered, and the heap lock;
/// `None` (test skipped) without the tools.
fn setup() -> Option<(&'static Lib, Guard)> {
    let g = Guard(LOCK.lock().unwrap_or_else(|e| e.into_inner()));
    gc::set_stress(false);
    let lib = LIB
        .get_or_init(|| {
            let lib = build_and_load()?;
            // SAFETY: the loaded library's complete, mapped section.
            let n = unsafe { stackmap::register_stackmaps(lib.stackmaps) }
                .unwrap_or_else(|e| panic!("register: {e}"));
            assert!(n >= 20, "only {n} call sites");
            Some(lib)
        })
        .as_ref()?;
    Some((lib, g))
}

/// Calls compiled code from Rust with the boundary marked, checking that
/// the boundary bookkeeping is balanced afterwards.
fn enter<R>(f: impl FnOnce() -> R) -> R {
    let depth = frames::segment_depth();
    let exit = frames::current_exit();
    let s = frames::enter_compiled();
    let r = f();
    frames::leave_compiled(s);
    assert_eq!(frames::segment_depth(), depth);
    assert_eq!(frames::current_exit(), exit);
    r
}

fn fx(n: i64) -> Value {
    Value::fixnum(n)
}

/// A collection copies live objects to another space, and a later one may
/// put an object back at its old address (spaces are reused): only a
/// single collection guarantees a different one; odd counts are checked.
fn assert_moved(old: Value, new: Value, collections: u64) {
    assert!(collections > 0);
    if !collections.is_multiple_of(2) {
        assert_ne!(old, new, "moved by {collections} collections");
    }
}

fn items(l: Value) -> Vec<Value> {
    object::list_to_vec(l).expect("a proper list")
}

fn fixnums(vs: &[Value]) -> Vec<i64> {
    vs.iter()
        .map(|v| {
            assert!(v.is_fixnum(), "{v:?}");
            v.as_fixnum()
        })
        .collect()
}

#[test]
fn fixture_stack_maps_parse_and_register() {
    let Some((lib, _g)) = setup() else { return };
    // SAFETY: the loaded library's complete, mapped section.
    let len = unsafe { stackmap::section_len(lib.stackmaps) };
    // SAFETY: as above, `len` bytes long.
    let bytes = unsafe { std::slice::from_raw_parts(lib.stackmaps, len) };
    let sec = stackmap::parse(bytes).unwrap();
    // Every gc function with a call site has a function record, relocated
    // to its loaded address.
    let addr = |n: &str| lib.addrs.iter().find(|a| a.0 == n).unwrap().1;
    for f in [
        "cf_cons",
        "cf_build_list",
        "cf_vector_to_list",
        "cf_many_caller",
    ] {
        assert!(
            sec.functions.iter().any(|r| r.address == addr(f)),
            "no record for {f}"
        );
    }
    assert!(!sec
        .functions
        .iter()
        .any(|r| r.address == addr("cf_sum_list")));
    let sites = stackmap::safepoints(&sec).unwrap();
    for (ra, plan) in &sites {
        assert!(stackmap::is_compiled_return_address(*ra));
        assert_eq!(stackmap::lookup(*ra).as_ref(), Some(plan));
    }
    // The element pointer of cf_vector_to_list is a derived pointer.
    let v2l = addr("cf_vector_to_list");
    assert!(
        sites
            .iter()
            .any(|(_, p)| p.function == v2l && !p.derived.is_empty()),
        "no derived pair in cf_vector_to_list"
    );
    // Calls with callee-popped stack arguments use RBP-based slots.
    let caller = addr("cf_many_caller");
    assert!(sites
        .iter()
        .any(|(_, p)| p.function == caller
            && p.bases.iter().any(|s| s.reg == stackmap::FrameReg::Fp)));
    assert!(!stackmap::is_compiled_return_address(v2l));
}

#[test]
fn nested_compiled_frames_are_updated_at_every_allocation() {
    let Some((lib, _g)) = setup() else { return };
    let s = Scope::new();
    let extra = s.root(object::string_from("extra"));
    let old = extra.get();
    let before = gc::stats();
    gc::set_stress(true);
    // SAFETY: a compiled fixture function with its stack maps registered,
    // called inside a marked boundary (`enter`).
    let l = enter(|| unsafe { (lib.build_list)(40, extra.get()) });
    let lr = s.root(l);
    gc::set_stress(false);
    let after = gc::stats();
    // One collection per cons; each new pair is moved at least once (the
    // minor collection after its allocation promotes it; the major ones
    // among them move the whole list again).
    assert!(after.collections - before.collections >= 41);
    assert!(after.objects_moved - before.objects_moved > 40);
    // cf_cons above cf_build_list when the last cons collected.
    assert!(frames::last_walk().frames >= 2, "{:?}", frames::last_walk());
    let v = items(lr.get());
    assert_eq!(v.len(), 41);
    assert_moved(old, v[0], after.collections - before.collections);
    assert_eq!(v[0], extra.get(), "compiled frames and handles agree");
    assert_eq!(object::string_to_rust(v[0]), "extra");
    assert_eq!(fixnums(&v[1..]), (1..=40).collect::<Vec<_>>());
    // SAFETY: a compiled fixture function with its stack maps registered;
    // summing does not allocate, so no collection needs the boundary.
    assert_eq!(unsafe { (lib.sum_list)(v[0]) }, 0);
    // SAFETY: a compiled fixture function with its stack maps registered,
    // called inside a marked boundary (`enter`).
    assert_eq!(enter(|| unsafe { (lib.sum_list)(lr.get().cdr()) }), 820);
}

#[test]
fn derived_pointers_are_rebased_when_their_object_moves() {
    let Some((lib, _g)) = setup() else { return };
    let s = Scope::new();
    let vec = s.root(object::make_vector(24, Value::FALSE));
    for i in 0..24 {
        let e = object::string_from(&format!("s{i}"));
        vec.get().set_field(i, e);
    }
    let old_vec = vec.get();
    let old_first = vec.get().field(0);
    let before = gc::stats();
    gc::set_stress(true);
    // SAFETY: a compiled fixture function with its stack maps registered,
    // called inside a marked boundary (`enter`).
    let l = enter(|| unsafe { (lib.vector_to_list)(vec.get()) });
    let lr = s.root(l);
    gc::set_stress(false);
    let walk = frames::last_walk();
    assert!(walk.derived >= 1 && walk.frames >= 2, "{walk:?}");
    let n = gc::stats().collections - before.collections;
    assert!(n >= 24);
    assert_moved(old_vec, vec.get(), n);
    let v = items(lr.get());
    assert_eq!(v.len(), 24);
    // Last element first; every one read through the rebased pointer.
    for (k, e) in v.iter().enumerate() {
        assert_eq!(object::string_to_rust(*e), format!("s{}", 23 - k));
        assert_eq!(*e, vec.get().field(23 - k), "same object");
    }
    assert_moved(old_first, v[23], n);
}

#[test]
fn callee_popped_stack_arguments_and_rbp_slots() {
    let Some((lib, _g)) = setup() else { return };
    let s = Scope::new();
    let x = s.root(object::string_from("x"));
    let y = s.root(object::cons(fx(7), fx(8)));
    let (old_x, old_y) = (x.get(), y.get());
    let before = gc::stats().collections;
    gc::set_stress(true);
    // SAFETY: a compiled fixture function with its stack maps registered,
    // called inside a marked boundary (`enter`).
    let r = enter(|| unsafe { (lib.many_caller)(x.get(), y.get()) });
    let rr = s.root(r);
    gc::set_stress(false);
    let n = gc::stats().collections - before;
    assert!(n >= 10);
    let v = items(rr.get());
    assert_eq!(v.len(), 10);
    assert_moved(old_x, x.get(), n);
    assert_moved(old_y, y.get(), n);
    for (i, e) in v.iter().enumerate() {
        match i {
            0 | 8 => assert_eq!(*e, x.get()),
            1 | 9 => assert_eq!(*e, y.get()),
            _ => assert_eq!(*e, fx(i as i64 - 1)),
        }
    }
    assert_eq!(object::string_to_rust(v[0]), "x");
    assert_eq!((v[1].car(), v[1].cdr()), (fx(7), fx(8)));
}

#[test]
fn frames_stay_walkable_through_musttail_calls() {
    let Some((lib, _g)) = setup() else { return };
    let s = Scope::new();
    let keep = s.root(object::make_flonum(2.5));
    let old = keep.get();
    let before = gc::stats().collections;
    gc::set_stress(true);
    // SAFETY: a compiled fixture function with its stack maps registered,
    // called inside a marked boundary (`enter`).
    let r = enter(|| unsafe { (lib.tc_start)(200, keep.get()) });
    let rr = s.root(r);
    gc::set_stress(false);
    let n = gc::stats().collections - before;
    assert!(n >= 201);
    let v = items(rr.get());
    assert_eq!(v.len(), 201);
    assert_moved(old, keep.get(), n);
    assert_eq!(v[0], keep.get());
    assert_eq!(v[0].as_flonum(), 2.5);
    assert_eq!(fixnums(&v[1..]), (1..=200).collect::<Vec<_>>());
}

// ---- runtime -> compiled -> runtime -> compiled -> runtime ----

static OUTER_INFO: ProcInfo = ProcInfo {
    name: b"outer".as_ptr(),
    name_len: 5,
    required: 1,
    optional: 0,
    rest: 0,
    data: 0,
};
static INNER_INFO: ProcInfo = ProcInfo {
    name: b"inner".as_ptr(),
    name_len: 5,
    required: 1,
    optional: 0,
    rest: 0,
    data: 0,
};
static COLLECT_INFO: ProcInfo = ProcInfo {
    name: b"collect".as_ptr(),
    name_len: 7,
    required: 0,
    optional: 0,
    rest: 0,
    data: 0,
};

/// What the walker saw during the innermost collection.
static INNER_WALK: Mutex<Option<frames::WalkStats>> = Mutex::new(None);

/// A builtin: collects, records the walk, returns 777.
unsafe extern "C" fn collect_entry(_self: Value, _argc: u64, _argv: *const Value) -> Value {
    gc::collect();
    *INNER_WALK.lock().unwrap() = Some(frames::last_walk());
    fx(777)
}

/// outer(n) with outer -> inner -> collect, all through `valk_rt_call`.
fn nested_call(lib: &Lib, n: i64, inner_target: Option<Value>) -> (Value, Value) {
    let s = Scope::new();
    let target = match inner_target {
        Some(v) => s.root(v),
        None => s.root(object::make_closure(collect_entry, &COLLECT_INFO, 0)),
    };
    let inner = s.root(object::make_closure(lib.entry_inner, &INNER_INFO, 1));
    inner.get().set_field(2, target.get());
    let outer = s.root(object::make_closure(lib.entry_outer, &OUTER_INFO, 1));
    outer.get().set_field(2, inner.get());
    let old_outer = outer.get();
    let depth = frames::segment_depth();
    let before = gc::stats().collections;
    let r = call::call(outer.get(), &[fx(n)]);
    assert_eq!(frames::segment_depth(), depth);
    match r {
        Ok(v) => {
            let v = s.root(v);
            // The object moved, and compiled frames, handles and the heap
            // all see it at its new place (checked by the callers).
            assert_moved(old_outer, outer.get(), gc::stats().collections - before);
            (v.get(), outer.get())
        }
        Err(_) => (Value::EXCEPTION, outer.get()),
    }
}

fn check_nested(res: Value, outer: Value, n: i64) {
    let total = n * (n + 1) / 2;
    // res = (r total . l), r = (777 total . m), m = (l 1 2 3),
    // l = (outer 1 ... n)
    let r = res.car();
    let l = res.cdr().cdr();
    assert_eq!(res.cdr().car(), fx(total));
    assert_eq!(r.car(), fx(777));
    assert_eq!(r.cdr().car(), fx(total));
    let m = items(r.cdr().cdr());
    assert_eq!(m.len(), 4);
    assert_eq!(m[0], l, "one list, reached through both frames");
    assert_eq!(fixnums(&m[1..]), vec![1, 2, 3]);
    let lv = items(l);
    assert_eq!(lv[0], outer);
    assert!(lv[0].is_closure());
    assert_eq!(fixnums(&lv[1..]), (1..=n).collect::<Vec<_>>());
}

#[test]
fn runtime_and_compiled_frames_interleave() {
    let Some((lib, _g)) = setup() else { return };
    let before = gc::stats();
    *INNER_WALK.lock().unwrap() = None;
    let (res, outer) = nested_call(lib, 30, None);
    check_nested(res, outer, 30);
    let after = gc::stats();
    // Only the builtin collected: once, with one compiled frame in each
    // of two segments (inner's and outer's).
    assert_eq!(after.collections, before.collections + 1);
    assert!(after.objects_moved > before.objects_moved);
    let w = INNER_WALK.lock().unwrap().expect("the builtin ran");
    assert_eq!((w.segments, w.frames), (2, 2), "{w:?}");
    assert!(w.slots >= 3, "{w:?}");
}

#[test]
fn runtime_and_compiled_frames_interleave_under_stress() {
    let Some((lib, _g)) = setup() else { return };
    let before = gc::stats();
    gc::set_stress(true);
    let (res, outer) = nested_call(lib, 25, None);
    let s = Scope::new();
    let (res, outer) = (s.root(res), s.root(outer));
    gc::set_stress(false);
    assert!(gc::stats().collections - before.collections > 30);
    check_nested(res.get(), outer.get(), 25);
}

#[test]
fn exceptions_return_through_compiled_frames() {
    let Some((lib, _g)) = setup() else { return };
    // inner calls a non-procedure: the error comes back as the exception
    // marker through both compiled frames and both runtime boundaries.
    let exit = frames::current_exit();
    let (res, _) = nested_call(lib, 5, Some(fx(5)));
    assert_eq!(res, Value::EXCEPTION);
    assert_eq!(frames::current_exit(), exit);
    let e = error::take_pending();
    let msg = error::format_error(e);
    assert!(msg.contains("non-procedure"), "{msg}");
}
