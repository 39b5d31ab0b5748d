//! The C API of libvalk exercised from Rust through its `extern "C"`
//! functions (docs/embedding.md). The tests run on several threads at
//! once: every call goes to the one evaluation thread, and the last error
//! is per calling thread, so they need no lock.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::null_mut;
use valk_embed::*;

fn init() {
    let opts = valk_options {
        library_path: std::ptr::null(),
        // Small enough for the stack-overflow test to be quick.
        stack_size: 256 << 20,
    };
    // SAFETY: valid options.
    assert_eq!(unsafe { valk_init(&opts) }, VALK_OK, "{}", last_error());
}

fn last_error() -> String {
    let p = valk_last_error_message();
    if p.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string valid until the next failure.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn eval(src: &str) -> valk_value {
    let c = CString::new(src).unwrap();
    // SAFETY: a NUL-terminated string.
    unsafe { valk_eval_string(c.as_ptr()) }
}

fn lookup(name: &str) -> valk_value {
    let c = CString::new(name).unwrap();
    // SAFETY: a NUL-terminated string.
    unsafe { valk_lookup(c.as_ptr()) }
}

fn call(f: valk_value, args: &[valk_value]) -> valk_value {
    // SAFETY: `args` holds `args.len()` handles.
    unsafe { valk_call(f, args.len() as c_int, args.as_ptr()) }
}

fn written(v: valk_value) -> String {
    let p = valk_print_string(v, 0);
    assert!(!p.is_null(), "{}", last_error());
    // SAFETY: a NUL-terminated string from malloc.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: from malloc, freed once.
    unsafe { libc_free(p) };
    s
}

extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut c_char);
}

fn int(v: valk_value) -> i64 {
    let mut n = 0;
    // SAFETY: `n` is writable.
    let status = unsafe { valk_to_integer(v, &mut n) };
    assert_eq!(status, VALK_OK, "{}", last_error());
    n
}

#[test]
fn values_are_built_and_inspected() {
    init();
    let n = valk_integer(42);
    assert_eq!(int(n), 42);
    assert_eq!(valk_is_integer(n), 1);
    assert_eq!(valk_is_flonum(n), 0);
    let big = valk_integer(i64::MAX);
    assert_eq!(int(big), i64::MAX);
    assert_eq!(written(big), "9223372036854775807");
    let x = valk_flonum(2.5);
    let mut d = 0.0;
    // SAFETY: `d` is writable.
    assert_eq!(unsafe { valk_to_double(x, &mut d) }, VALK_OK);
    assert_eq!(d, 2.5);
    assert_eq!(valk_is_flonum(x), 1);
    // SAFETY: NUL-terminated strings.
    let (s, sym) = unsafe {
        (
            valk_string(c"héllo".as_ptr()),
            valk_symbol(c"apple".as_ptr()),
        )
    };
    assert_eq!(valk_is_string(s), 1);
    assert_eq!(valk_is_symbol(sym), 1);
    let mut len = 0;
    // SAFETY: `len` is writable.
    let p = unsafe { valk_to_utf8(s, &mut len) };
    // SAFETY: from malloc.
    assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), "héllo");
    assert_eq!(len, 6);
    // SAFETY: from malloc, freed once.
    unsafe { libc_free(p) };
    let t = valk_boolean(1);
    assert_eq!(valk_is_boolean(t), 1);
    assert_eq!(valk_is_true(valk_boolean(0)), 0);
    let items = [n, x, s, sym, t];
    // SAFETY: `items` holds 5 handles.
    let (l, v) = unsafe { (valk_list(5, items.as_ptr()), valk_vector(5, items.as_ptr())) };
    assert_eq!(written(l), "(42 2.5 \"héllo\" apple #t)");
    assert_eq!(written(v), "#(42 2.5 \"héllo\" apple #t)");
    assert_eq!(valk_list_length(l), 5);
    assert_eq!(valk_vector_length(v), 5);
    assert_eq!(int(valk_car(l)), 42);
    assert_eq!(valk_is_pair(valk_cdr(l)), 1);
    assert_eq!(int(valk_vector_ref(v, 0)), 42);
    let p = valk_cons(n, valk_null());
    assert_eq!(written(p), "(42)");
    assert_eq!(valk_is_null(valk_cdr(p)), 1);
    assert_eq!(valk_is_vector(v), 1);
    assert_eq!(valk_is_procedure(lookup("car")), 1);
}

#[test]
fn handles_survive_moving_collections() {
    init();
    let before = valk_handle_count();
    let l =
        eval("(let loop ((i 0) (acc '())) (if (= i 1000) acc (loop (+ i 1) (cons (* i i) acc))))");
    assert!(!l.is_null(), "{}", last_error());
    let v = eval("(make-vector 3 (list 1.5 \"x\"))");
    let s = eval("(string-append \"moved\" \"-string\")");
    for i in 0..4 {
        // Garbage in between, then both kinds of collection.
        let g = eval("(let loop ((i 0)) (if (< i 5000) (begin (cons i i) (loop (+ i 1))) 'done))");
        valk_release(g);
        assert_eq!(valk_collect_garbage(i % 2), VALK_OK);
    }
    assert_eq!(valk_list_length(l), 1000);
    assert_eq!(int(valk_car(l)), 999 * 999);
    assert_eq!(written(v), "#((1.5 \"x\") (1.5 \"x\") (1.5 \"x\"))");
    assert_eq!(written(s), "\"moved-string\"");
    let sum = eval("(lambda (l) (apply + l))");
    assert_eq!(
        int(call(sum, &[l])),
        (0..1000i64).map(|i| i * i).sum::<i64>()
    );
    for h in [l, v, s, sum] {
        valk_release(h);
    }
    // Other tests run at the same time: only a bound on leaks here.
    assert!(valk_handle_count() < before + 1000);
}

#[test]
fn procedures_are_looked_up_and_called() {
    init();
    let r = eval("(define (add3 a b c) (+ a b c)) (define greeting \"hi\") 'ok");
    assert_eq!(written(r), "ok");
    let f = lookup("add3");
    assert!(!f.is_null(), "{}", last_error());
    let args = [valk_integer(1), valk_integer(2), valk_flonum(0.5)];
    assert_eq!(written(call(f, &args)), "3.5");
    assert_eq!(written(lookup("greeting")), "\"hi\"");
    // A builtin, and a procedure given no arguments.
    assert_eq!(written(call(lookup("list"), &[])), "()");
}

unsafe extern "C" fn c_scale(ud: *mut c_void, argc: c_int, argv: *const valk_value) -> valk_value {
    // SAFETY: `argv` holds `argc` handles; `ud` points at an i64.
    let (args, factor) = unsafe {
        (
            std::slice::from_raw_parts(argv, argc as usize),
            *(ud as *const i64),
        )
    };
    let mut n = 0;
    // SAFETY: `n` is writable.
    if unsafe { valk_to_integer(args[0], &mut n) } != VALK_OK {
        // SAFETY: a NUL-terminated message and one handle.
        return unsafe { valk_raise_error(c"c-scale: not an integer".as_ptr(), 1, args.as_ptr()) };
    }
    // A collection while C holds the argument handles.
    valk_collect_garbage(1);
    valk_integer(n * factor)
}

unsafe extern "C" fn c_apply_twice(
    _: *mut c_void,
    _argc: c_int,
    argv: *const valk_value,
) -> valk_value {
    // SAFETY: two handles (the arity is checked by the runtime).
    let (f, x) = unsafe { (*argv, *argv.add(1)) };
    let once = call(f, &[x]);
    if once.is_null() {
        // The error of the failed call is raised again.
        return null_mut();
    }
    let twice = call(f, &[once]);
    valk_release(once);
    twice
}

#[test]
fn c_functions_are_valk_procedures() {
    init();
    static FACTOR: i64 = 7;
    // SAFETY: NUL-terminated names; the functions accept their userdata.
    unsafe {
        assert_eq!(
            valk_define_procedure(
                c"c-scale".as_ptr(),
                Some(c_scale),
                1,
                1,
                &FACTOR as *const i64 as *mut c_void
            ),
            VALK_OK
        );
        assert_eq!(
            valk_define_procedure(
                c"c-apply-twice".as_ptr(),
                Some(c_apply_twice),
                2,
                2,
                null_mut()
            ),
            VALK_OK
        );
    }
    let r = eval("(map c-scale '(1 2 3))");
    assert_eq!(written(r), "(7 14 21)", "{}", last_error());
    let r = eval("(c-apply-twice (lambda (x) (* x 10)) 3)");
    assert_eq!(written(r), "300", "{}", last_error());
    // Nested: Valk -> C -> Valk -> C.
    let r = eval("(c-apply-twice c-scale 2)");
    assert_eq!(written(r), "98");
    // The error a C procedure raises reaches Valk handlers...
    let r = eval(
        "(guard (e (#t (list 'caught (error-object-message e) (error-object-irritants e)))) (c-scale 'x))",
    );
    assert_eq!(
        written(r),
        "(caught \"c-scale: not an integer\" (x))",
        "{}",
        last_error()
    );
    // ... or the caller of the API, with its irritants.
    assert!(eval("(c-scale \"y\")").is_null());
    assert_eq!(last_error(), "c-scale: not an integer: \"y\"");
    assert_eq!(written(valk_last_error_irritants()), "(\"y\")");
    // An error in Valk code called from C, passed on by returning NULL.
    assert!(eval("(c-apply-twice (lambda (x) (car x)) 1)").is_null());
    assert_eq!(last_error(), "car: expected a pair: 1");
    // The runtime checks the arity.
    assert!(eval("(c-scale 1 2)").is_null());
    assert_eq!(
        last_error(),
        "c-scale: wrong number of arguments (expected 1, got 2)"
    );
}

#[test]
fn errors_are_reported_with_their_message() {
    init();
    assert!(eval("(error \"bad thing:\" 1 'two \"three\")").is_null());
    assert_eq!(last_error(), "bad thing: 1 two \"three\"");
    let irr = valk_last_error_irritants();
    assert_eq!(written(irr), "(1 two \"three\")");
    let obj = valk_last_error_object();
    let msg = call(lookup("error-object-message"), &[obj]);
    assert_eq!(written(msg), "\"bad thing:\"");
    assert!(eval("(raise 'oops)").is_null());
    assert_eq!(last_error(), "uncaught exception: oops");
    assert_eq!(written(valk_last_error_irritants()), "(oops)");
    assert!(eval("(vector-ref (vector 1 2) 5)").is_null());
    assert_eq!(last_error(), "vector-ref: index out of range: 5");
    assert!(eval("(+ 1").is_null());
    assert!(
        last_error().starts_with("<valk_eval_string>:1:1: "),
        "{}",
        last_error()
    );
    assert!(valk_last_error_object().is_null());
    // SAFETY: a NUL-terminated path.
    assert!(unsafe { valk_load_file(c"/nonexistent/x.valk".as_ptr()) }.is_null());
    assert!(
        last_error().starts_with("cannot read /nonexistent/x.valk"),
        "{}",
        last_error()
    );
    // The runtime still works after errors.
    assert_eq!(written(eval("(* 6 7)")), "42");
}

#[test]
fn negative_cases_have_clear_messages() {
    init();
    // Calling a non-procedure.
    assert!(call(valk_integer(5), &[]).is_null());
    assert_eq!(last_error(), "attempt to call a non-procedure: 5");
    // Wrong arity, of a Valk procedure and of a builtin.
    eval("(define (one x) x)");
    assert!(call(lookup("one"), &[]).is_null());
    assert_eq!(
        last_error(),
        "one: wrong number of arguments (expected 1, got 0)"
    );
    assert!(call(lookup("car"), &[]).is_null());
    assert_eq!(
        last_error(),
        "car: wrong number of arguments (expected 1, got 0)"
    );
    // An unbound name, looked up and evaluated.
    assert!(lookup("no-such-thing").is_null());
    assert_eq!(last_error(), "unbound variable: no-such-thing");
    assert!(eval("(no-such-thing 1)").is_null());
    assert_eq!(last_error(), "unbound variable: no-such-thing");
    // A released handle (its slot reused by a new handle) is refused.
    let h = valk_integer(1);
    valk_release(h);
    let _reuse = valk_integer(2);
    assert!(valk_car(h).is_null());
    assert_eq!(last_error(), "valk_car: invalid or released handle");
    assert!(call(h, &[]).is_null());
    assert_eq!(last_error(), "valk_call: invalid or released handle");
    assert_eq!(valk_is_integer(h), 0);
    // A null handle (the result of a failed call) is refused too.
    assert!(valk_cdr(null_mut()).is_null());
    assert_eq!(
        last_error(),
        "valk_cdr: null handle (the result of a call that failed)"
    );
    // Releasing twice is ignored.
    valk_release(h);
    // Wrong types.
    assert!(valk_car(valk_integer(3)).is_null());
    assert_eq!(last_error(), "valk_car: expected a pair: 3");
    let mut n = 0;
    // SAFETY: `n` is writable.
    let status = unsafe { valk_to_integer(valk_flonum(1.5), &mut n) };
    assert_eq!(status, VALK_ERROR);
    assert_eq!(
        last_error(),
        "valk_to_integer: expected an exact integer: 1.5"
    );
    assert_eq!(valk_vector_length(valk_null()), -1);
    assert_eq!(last_error(), "valk_vector_length: expected a vector: ()");
}

#[test]
fn deep_recursion_is_a_stack_overflow_error() {
    init();
    let r = eval("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (deep 100000)");
    assert_eq!(written(r), "100000", "{}", last_error());
    assert!(eval("(deep 100000000)").is_null());
    assert_eq!(last_error(), "stack overflow");
    // ... which a handler can catch, and the runtime goes on.
    let r = eval("(guard (e (#t 'caught)) (deep 100000000))");
    assert_eq!(written(r), "caught");
    assert_eq!(written(eval("(deep 10)")), "10");
}

/// The tests above again, in a child process with the collector moving
/// objects at every allocation (`VALK_GC_STRESS`, read when the heap
/// starts) and the heap checked around every collection.
#[test]
fn the_api_under_gc_stress() {
    if std::env::var_os("VALK_GC_STRESS").is_some() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--skip",
            "deep_recursion",
            "--skip",
            "under_gc_stress",
            "--skip",
            "shutdown",
        ])
        .env("VALK_GC_STRESS", "1")
        .env("VALK_GC_VERIFY", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `valk_shutdown` flushes Valk's output and ends the runtime: later calls
/// fail with a message, and `valk_init` cannot start it again. In a child
/// process, as the other tests share this one's runtime.
#[test]
fn shutdown_ends_the_runtime() {
    if std::env::var_os("VALK_EMBED_SHUTDOWN_CHILD").is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "shutdown_ends_the_runtime", "--nocapture"])
            .env("VALK_EMBED_SHUTDOWN_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The output Valk buffered was written before the runtime ended.
        assert!(stdout.contains("written by Valk"), "{stdout}");
        return;
    }
    // Before valk_init: a clear error.
    assert!(valk_integer(1).is_null());
    assert_eq!(
        last_error(),
        "valk_integer: the Valk runtime is not initialised (call valk_init)"
    );
    init();
    let kept = eval("(display \"written by Valk\") (list 1 2)");
    assert!(!kept.is_null(), "{}", last_error());
    valk_shutdown();
    assert!(eval("(+ 1 2)").is_null());
    assert_eq!(
        last_error(),
        "valk_eval_string: the Valk runtime has been shut down"
    );
    // Releasing after shut-down is harmless.
    valk_release(kept);
    // SAFETY: NULL options are allowed.
    assert_eq!(unsafe { valk_init(std::ptr::null()) }, VALK_ERROR);
    assert_eq!(
        last_error(),
        "valk_init: the runtime was shut down and cannot be restarted"
    );
}

/// Host threads call at the same time: the calls are serialised on the
/// evaluation thread, and each thread keeps its own last error.
#[test]
fn several_host_threads_share_the_runtime() {
    init();
    eval("(define (square-list n) (let loop ((i 0) (acc '())) (if (= i n) (reverse acc) (loop (+ i 1) (cons (* i i) acc)))))");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..20 {
                    let n = valk_integer(t * 20 + i);
                    let l = call(lookup("square-list"), &[n]);
                    assert_eq!(valk_list_length(l), t * 20 + i);
                    valk_release(n);
                    valk_release(l);
                    assert!(eval(&format!("(error \"thread\" {t})")).is_null());
                    assert_eq!(last_error(), format!("thread: {t}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
