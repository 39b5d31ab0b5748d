//! Unit tests of the lowering: analyses and code shapes on small programs
//! (expanded without the prelude). The golden files under
//! `tests/vir_golden/` show whole modules; the corpus test lowers every
//! program of `tests/programs/`.

use super::*;
use crate::expand::Expander;
use crate::pipeline::{expand_text, optimize_verified};
use crate::syntax::source::SourceMap;
use valk_vir::{Checked, ConstData, FxMode, Op, OptLevel, Ty};

fn expand(src: &str) -> (Vec<TopLevel>, SourceMap) {
    let mut sources = SourceMap::new();
    let mut ex = Expander::new();
    let tops = expand_text(&mut ex, &mut sources, "test.valk", src)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    (tops, sources)
}

fn lower_with(src: &str, opts: &LowerOptions) -> Lowered {
    let (tops, sources) = expand(src);
    let l = lower_program(&tops, &sources, opts).unwrap_or_else(|d| panic!("{}", d.message));
    valk_vir::verify_module(&l.module).unwrap();
    l
}

fn lower(src: &str) -> Lowered {
    lower_with(
        src,
        &LowerOptions {
            fixed_globals: true,
            ..LowerOptions::default()
        },
    )
}

/// The printed text of function `name`.
fn func_text(l: &Lowered, name: &str) -> String {
    let f = l.module.func_by_name(name).unwrap_or_else(|| {
        panic!(
            "no function @{name} in\n{}",
            valk_vir::print_module(&l.module)
        )
    });
    valk_vir::print_function(Some(&l.module), l.module.func(f))
}

/// The opcodes of function `name`, in layout order.
fn ops(l: &Lowered, name: &str) -> Vec<Op> {
    let f = l.module.func(l.module.func_by_name(name).unwrap());
    f.layout
        .iter()
        .flat_map(|&b| f.block(b).insts.iter().map(|&i| f.inst(i).op.clone()))
        .collect()
}

fn count(l: &Lowered, name: &str, pred: impl Fn(&Op) -> bool) -> usize {
    ops(l, name).iter().filter(|o| pred(o)).count()
}

#[test]
fn one_function_per_top_level_form() {
    let l = lower("(define x 1) (display x) (newline)");
    assert_eq!(l.toplevels.len(), 3);
    for (i, &f) in l.toplevels.iter().enumerate() {
        let func = l.module.func(f);
        assert_eq!(func.name, format!("toplevel.{i}"));
        assert_eq!(func.sig, Signature::fixed(0));
        assert_eq!(l.proc_name(f), None);
    }
    let t = func_text(&l, "toplevel.1");
    // x is defined by an earlier form: no unbound check.
    assert!(t.contains("global_get $x"), "{t}");
    assert!(t.contains("call_runtime \"display\""), "{t}");
}

#[test]
fn assigned_captured_variables_are_boxed_others_stay_ssa() {
    let l = lower(
        "(define (f a b)
           (set! a (+ a 1))
           (set! b (+ b 1))
           (lambda () (set! b 0) a))",
    );
    let f = func_text(&l, "f");
    // b is assigned and captured: one box; a is assigned but the closure
    // only reads... a captured variable that is assigned is boxed too.
    assert_eq!(count(&l, "f", |o| *o == Op::MakeBox), 2, "{f}");
    let l = lower("(define (g a) (set! a (+ a 1)) (lambda () 5) a)");
    assert_eq!(count(&l, "g", |o| *o == Op::MakeBox), 0);
    // Captured but never assigned: copied into the closure.
    let l = lower("(define (h a) (lambda () a))");
    assert_eq!(count(&l, "h", |o| *o == Op::MakeBox), 0);
    assert!(func_text(&l, "h").contains("closure @lambda(%a)"));
    assert!(func_text(&l, "lambda").contains("env_get %self, 0"));
}

#[test]
fn assigned_variables_are_boxed_where_a_continuation_may_be_captured() {
    let boxes = |src: &str| count(&lower(src), "f", |o| *o == Op::MakeBox);
    // Calling an unknown procedure may capture: n must be a location.
    assert_eq!(
        boxes("(define (f g) (let ((n 0)) (g) (set! n (+ n 1)) n))"),
        1
    );
    // Builtins that never call a procedure are not capture points.
    assert_eq!(
        boxes("(define (f v) (let ((n 0)) (display v) (set! n (+ n 1)) n))"),
        0
    );
    // A capture point in a contified loop counts for the enclosing function.
    assert_eq!(
        boxes(
            "(define (f g)
               (let ((n 0))
                 (let loop ((i 0))
                   (if (< i 3) (begin (g i) (set! n (+ n i)) (loop (+ i 1)))))
                 n))"
        ),
        1
    );
    // `apply` calls a procedure; a never-assigned variable is never boxed.
    assert_eq!(
        boxes("(define (f g l) (let ((n 0)) (apply g l) (set! n 1) n))"),
        1
    );
    assert_eq!(boxes("(define (f g) (let ((n 0)) (g) n))"), 0);
    // Calling a local function is not a capture point in itself...
    assert_eq!(
        boxes(
            "(define (f)
               (let ((n 0))
                 (let loop ((i 0)) (if (< i 3) (begin (set! n i) (loop (+ i 1)))))
                 n))"
        ),
        0
    );
    // ...unless the variable is assigned: then it may hold anything.
    assert_eq!(
        boxes("(define (f g) (let ((n 0) (h (lambda () 1))) (set! h g) (h) (set! n 1) n))"),
        2
    );
}

#[test]
fn assigned_ssa_variables_flow_through_joins() {
    let l = lower("(define (f x) (let ((y 0)) (if x (set! y 1) (set! y 2)) y))");
    let t = func_text(&l, "f");
    // The join receives the arm value and y.
    assert!(t.contains("join(%0, %y.2)") || t.contains("join("), "{t}");
    let f = l.module.func(l.module.func_by_name("f").unwrap());
    let join = f
        .layout
        .iter()
        .find(|&&b| f.block(b).name.as_deref() == Some("join"))
        .unwrap();
    assert_eq!(f.block(*join).params.len(), 2, "{t}");
    // Identical arms need no parameter for y.
    let l = lower("(define (g x) (let ((y 0)) (if x (set! y 1) 'no) y))");
    let f = l.module.func(l.module.func_by_name("g").unwrap());
    let join = f
        .layout
        .iter()
        .find(|&&b| f.block(b).name.as_deref() == Some("join"))
        .unwrap();
    assert_eq!(f.block(*join).params.len(), 2);
}

#[test]
fn named_let_is_a_loop_and_carries_assigned_variables() {
    let l = lower(
        "(define (f l)
           (let ((n 0))
             (let loop ((l l))
               (if (pair? l) (begin (set! n (+ n 1)) (loop (cdr l)))))
             n))",
    );
    let t = func_text(&l, "f");
    assert_eq!(
        count(&l, "f", |o| matches!(
            o,
            Op::Call(_) | Op::TailCall(_) | Op::CallClosure
        )),
        0,
        "{t}"
    );
    // The header has the loop variable and n.
    let f = l.module.func(l.module.func_by_name("f").unwrap());
    let header = f
        .layout
        .iter()
        .find(|&&b| f.block(b).name.as_deref() == Some("loop"))
        .unwrap();
    assert_eq!(f.block(*header).params.len(), 2, "{t}");
}

#[test]
fn non_tail_recursive_local_function_is_known() {
    let l =
        lower("(define (f n) (letrec ((g (lambda (k) (if (= k 0) 0 (+ 1 (g (- k 1))))))) (g n)))");
    // g is a known function without captures: a plain function.
    let g = l.module.func(l.module.func_by_name("g").unwrap());
    assert_eq!(g.sig, Signature::fixed(1));
    assert_eq!(count(&l, "g", |o| matches!(o, Op::Call(_))), 1);
    // f calls it directly in tail position.
    assert_eq!(count(&l, "f", |o| matches!(o, Op::TailCall(_))), 1);
    assert_eq!(count(&l, "f", |o| matches!(o, Op::Closure(_))), 0);
}

#[test]
fn lifted_functions_take_free_variables_first() {
    let l = lower(
        "(define (f a b)
           (define (g x) (+ x a b))
           (+ (g 1) (g 2)))",
    );
    let g = l.module.func(l.module.func_by_name("g").unwrap());
    assert_eq!(g.sig.required, 3);
    assert!(!g.sig.closure);
    let t = func_text(&l, "f");
    assert!(t.contains("call @g(%a, %b,"), "{t}");
}

#[test]
fn escaping_recursive_closure_uses_self() {
    let l = lower("(define (f) (letrec ((g (lambda (n) (if (= n 0) g (g (- n 1)))))) g))");
    let t = func_text(&l, "g");
    // The self tail call loops; the value use is the closure itself.
    assert!(t.contains("br loop("), "{t}");
    assert!(t.contains("ret %self"), "{t}");
    assert_eq!(count(&l, "g", |o| matches!(o, Op::EnvGet(_))), 0);
}

#[test]
fn letrec_reads_before_initialisation_are_checked() {
    let l = lower("(define (f) (letrec ((a (lambda () b)) (c (a)) (b 1)) c))");
    let t = func_text(&l, "f");
    assert!(t.contains("check_init"), "{t}");
    assert!(t.contains("undefined"), "{t}");
    // A safe order needs no check and no box.
    let l = lower("(define (g) (letrec ((b 1) (a (lambda () b)) (c (a))) c))");
    let t = func_text(&l, "g");
    assert!(!t.contains("check_init"), "{t}");
    assert_eq!(count(&l, "g", |o| *o == Op::MakeBox), 0, "{t}");
}

#[test]
fn primitives_are_inlined_unless_redefined() {
    let l = lower("(define (f p) (car p))");
    assert_eq!(count(&l, "f", |o| matches!(o, Op::TypeCheck(_, _))), 1);
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 1);
    let l = lower("(define (car x) x) (define (f p) (car p))");
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 0);
    assert_eq!(count(&l, "f", |o| matches!(o, Op::TailCall(_))), 1);
    // Code of an earlier form (the prelude's) may run before the
    // definition, while the global still holds the builtin: it calls the
    // global's value.
    let l = lower("(define (f p) (car p)) (define (car x) x)");
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 0);
    assert_eq!(count(&l, "f", |o| *o == Op::TailCallClosure), 1);
    let l = lower("(define (f p) (set! car cdr) (car p))");
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 0);
    // Redefined elsewhere (REPL, prelude): the global's closure is called.
    let mut opts = LowerOptions::default();
    opts.predefined.insert("car".into());
    let l = lower_with("(define (f p) (car p))", &opts);
    assert_eq!(count(&l, "f", |o| *o == Op::TailCallClosure), 1);
}

#[test]
fn eqv_against_an_immediate_constant_is_eq() {
    let l = lower("(define (f x) (list (eqv? x 1) (eqv? 'a x) (eqv? x 1.5) (equal? x \"s\")))");
    // Two for the constants; one each in the in-line tests of the others,
    // which fall back to the builtin.
    assert_eq!(count(&l, "f", |o| *o == Op::Eq), 4);
    let t = func_text(&l, "f");
    assert_eq!(t.matches("call_runtime \"eqv?\"").count(), 1, "{t}");
    assert_eq!(t.matches("call_runtime \"equal?\"").count(), 1, "{t}");
}

#[test]
fn eqv_and_equal_test_identity_in_line() {
    let l = lower("(define (f a b) (if (eqv? a b) (equal? b a) #f))");
    let t = func_text(&l, "f");
    assert_eq!(count(&l, "f", |o| *o == Op::Eq), 2, "{t}");
    assert_eq!(count(&l, "f", |o| *o == Op::TypeIs(Ty::Symbol)), 2, "{t}");
    assert_eq!(count(&l, "f", |o| *o == Op::TypeIs(Ty::Null)), 1, "{t}");
    assert!(t.contains("call_runtime \"eqv?\""), "{t}");
}

#[test]
fn fixed_globals_only_in_whole_program_mode() {
    let src = "(define (f x) x) (define (g) (f 1))";
    let l = lower(src);
    assert_eq!(count(&l, "g", |o| matches!(o, Op::TailCall(_))), 1);
    let l = lower_with(src, &LowerOptions::default());
    assert_eq!(count(&l, "g", |o| matches!(o, Op::TailCall(_))), 0);
    assert_eq!(count(&l, "g", |o| *o == Op::TailCallClosure), 1);
    // Defined twice or assigned: through the cell.
    let l = lower("(define (f x) x) (define (f x) 2) (define (g) (f 1))");
    assert_eq!(count(&l, "g", |o| *o == Op::TailCallClosure), 1);
    let l = lower("(define (f x) x) (set! f car) (define (g) (f 1))");
    assert_eq!(count(&l, "g", |o| *o == Op::TailCallClosure), 1);
    // Wrong arity: through the cell, so the callee raises the error.
    let l = lower("(define (f x) x) (define (g) (f 1 2))");
    assert_eq!(count(&l, "g", |o| *o == Op::TailCallClosure), 1);
}

#[test]
fn calling_a_fixed_global_before_its_definition_checks_the_cell() {
    let l = lower("(define (g) (f 1)) (define (f x) x)");
    let t = func_text(&l, "g");
    assert!(t.contains("global_get.chk $f"), "{t}");
    assert!(t.contains("tail_call @f("), "{t}");
    let l = lower("(define (f x) x) (define (g) (f 1))");
    let t = func_text(&l, "g");
    assert!(
        t.contains("global_get $f") && !t.contains("global_get.chk"),
        "{t}"
    );
}

#[test]
fn known_call_with_wrong_arity_raises_at_run_time() {
    let l = lower("(define (f) (define (g a) a) (g 1 2))");
    let t = func_text(&l, "f");
    assert!(t.contains("arity_error"), "{t}");
    assert!(l
        .module
        .consts
        .iter()
        .any(|c| *c == ConstData::Str("g".into())));
    assert!(l
        .module
        .consts
        .iter()
        .any(|c| *c == ConstData::Str("1".into())));
}

#[test]
fn evaluation_order_is_callee_then_arguments() {
    let l = lower("(define (f a b) ((a) (b)))");
    let t = func_text(&l, "f");
    let ia = t.find("call_closure %a").unwrap();
    let ib = t.find("call_closure %b").unwrap();
    assert!(ia < ib, "{t}");
    // An unbound global callee is read (and checked) before the arguments.
    let l = lower("(define (f a) (nope (a)))");
    let t = func_text(&l, "f");
    assert!(t.find("global_get.chk $nope").unwrap() < t.find("call_closure %a").unwrap());
}

#[test]
fn raising_instructions_carry_locations() {
    let src = "(define (f v i) (vector-ref v (+ i (g))))";
    let (tops, sources) = expand(src);
    let l = lower_program(&tops, &sources, &LowerOptions::default()).unwrap();
    let mut seen = 0;
    for f in &l.module.funcs {
        for &b in &f.layout {
            for &i in &f.block(b).insts {
                let d = f.inst(i);
                let raises = matches!(
                    d.op,
                    Op::TypeCheck(..)
                        | Op::VectorRef
                        | Op::Fx(_, FxMode::Chk)
                        | Op::GlobalGet(_, Checked::Yes)
                        | Op::CallClosure
                        | Op::TailCallClosure
                );
                if raises {
                    let span = l.span(d.loc).expect("raising instruction without a Loc");
                    assert!(span.end as usize <= src.len());
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 5);
    // The unbound global `g` points at `g`.
    let f = l.module.func(l.module.func_by_name("f").unwrap());
    let g = f
        .layout
        .iter()
        .flat_map(|&b| f.block(b).insts.iter())
        .map(|&i| f.inst(i))
        .find(|d| matches!(d.op, Op::GlobalGet(_, Checked::Yes)))
        .unwrap();
    let span = l.span(g.loc).unwrap();
    assert_eq!(&src[span.start as usize..span.end as usize], "g");
}

#[test]
fn rest_parameters_and_direct_calls_build_the_list() {
    let l = lower("(define (f a . r) r) (define (g) (f 1 2 3))");
    let t = func_text(&l, "g");
    assert_eq!(count(&l, "g", |o| *o == Op::Cons), 2, "{t}");
    let f = l.module.func(l.module.func_by_name("f").unwrap());
    assert!(f.sig.rest && f.sig.closure && f.sig.required == 1);
    assert_eq!(l.proc_name(l.module.func_by_name("f").unwrap()), Some("f"));
}

#[test]
fn deep_expressions_do_not_overflow_the_stack() {
    let mut src = String::from("(define (f x) ");
    for _ in 0..950 {
        src.push_str("(+ 1 ");
    }
    src.push('x');
    for _ in 0..950 {
        src.push(')');
    }
    src.push(')');
    // The expander needs a big stack for this input; the lowering, called
    // on this (small) test thread, moves to one by itself.
    let (tops, sources) = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || expand(&src))
        .unwrap()
        .join()
        .unwrap();
    let l = lower_program(&tops, &sources, &LowerOptions::default()).unwrap();
    assert_eq!(count(&l, "f", |o| matches!(o, Op::Fx(..))), 950);
}

#[test]
fn optimized_modules_stay_valid() {
    let (tops, sources) = expand(
        "(define (f l) (let loop ((l l) (acc '())) (if (null? l) acc (loop (cdr l) (cons (car l) acc)))))
         (define (g x) (cond ((= x 1) 'one) ((= x 2) 'two) (else (f (list x)))))",
    );
    for level in [OptLevel::O1, OptLevel::O2, OptLevel::O3] {
        let mut l = lower_program(&tops, &sources, &LowerOptions::default()).unwrap();
        optimize_verified(&mut l, level).unwrap();
        valk_vir::verify_module(&l.module).unwrap();
    }
}

#[test]
fn contified_bodies_see_assignments_made_before_the_call() {
    let l = lower(
        "(define (f)
           (letrec ((g (lambda () v)) (v 0))
             (set! v 1)
             (g)))",
    );
    // g's header carries v: the body returns the header's parameter.
    let t = func_text(&l, "f");
    assert!(t.contains("br g(%v.1)") || t.contains("br g(%"), "{t}");
    let f = l.module.func(l.module.func_by_name("f").unwrap());
    let g = f
        .layout
        .iter()
        .find(|&&b| f.block(b).name.as_deref() == Some("g"))
        .unwrap();
    assert_eq!(f.block(*g).params.len(), 1, "{t}");
}

#[test]
fn loops_carry_variables_assigned_by_contified_functions_they_call() {
    // helper is contified inside the loop body and assigns x: the loop
    // header must carry x.
    let l = lower(
        "(define (once x)
           (define (helper y) (set! x (+ x y)) (* y 2))
           (let loop ((i 0) (acc 0))
             (if (< i 3) (loop (+ i 1) (+ acc (helper i))) (list acc x))))",
    );
    let t = func_text(&l, "once");
    let f = l.module.func(l.module.func_by_name("once").unwrap());
    let header = f
        .layout
        .iter()
        .find(|&&b| f.block(b).name.as_deref() == Some("loop"))
        .unwrap();
    assert_eq!(f.block(*header).params.len(), 3, "{t}");
}

#[test]
fn aliases_of_builtins_and_fixed_globals_are_resolved() {
    let l = lower(
        "(define (my-memv x l) (if (null? l) #f l))
         (define %memv my-memv)
         (define %eqv? eqv?)
         (define %car car)
         (define (f x) (if (%eqv? x 1) (%car (%memv x '(1 2))) 0))",
    );
    let t = func_text(&l, "f");
    assert!(
        t.contains("call_runtime \"eqv?\"") || t.contains("eq "),
        "{t}"
    );
    assert!(t.contains("call @my-memv("), "{t}");
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 1, "{t}");
    // Used before the alias is defined: through the cell.
    let l = lower("(define (g x) (%car x)) (define %car car)");
    assert_eq!(count(&l, "g", |o| *o == Op::TailCallClosure), 1);
    // An alias that is later assigned is not resolved.
    let l = lower("(define %car car) (set! %car cdr) (define (h x) (%car x))");
    assert_eq!(count(&l, "h", |o| *o == Op::Car), 0);
}

#[test]
fn record_procedures_are_called_in_line() {
    let src = "(define-record-type point (make-point x y) point? (x point-x set-point-x!) (y point-y))
               (define (f p) (set-point-x! p (point-y p)) (if (point? p) (point-x p) (make-point 1 2)))
               (define (g p) (map point-x p))";
    let l = lower(src);
    let calls = |name| {
        count(&l, name, |o| {
            matches!(o, Op::CallClosure | Op::CallRuntime(_))
        })
    };
    assert_eq!(calls("f"), 0, "{}", func_text(&l, "f"));
    assert_eq!(count(&l, "f", |o| matches!(o, Op::RecordRef(_))), 2);
    assert_eq!(count(&l, "f", |o| *o == Op::RecordSet(0)), 1);
    assert_eq!(count(&l, "f", |o| *o == Op::RecordIs), 1);
    assert_eq!(count(&l, "f", |o| *o == Op::RecordNew), 1);
    // The accessor stays a procedure, whose body is the same operation.
    assert_eq!(count(&l, "point-x", |o| *o == Op::RecordRef(0)), 1);
    assert!(func_text(&l, "g").contains("global_get $point-x"));
    // Without whole-program knowledge, direct calls go through the cell.
    let l = lower_with(src, &LowerOptions::default());
    assert_eq!(count(&l, "f", |o| matches!(o, Op::RecordRef(_))), 0);
}

#[test]
fn more_primitives_in_line() {
    let l = lower(
        "(define (f a b c) (list (cadr a) (+ a b c) (< a b c) (zero? a) (char->integer b)
                                  (integer->char c) (char<? b c) (vector a b) (make-vector 2 a)))
         (define (g p) (set-car! p 1) (set-cdr! p 2) (string-set! p 0 #\\a))",
    );
    let runtime: Vec<String> = ops(&l, "f")
        .iter()
        .chain(ops(&l, "g").iter())
        .filter_map(|o| match o {
            Op::CallRuntime(b) => Some(l.module.builtin_name(*b).to_string()),
            _ => None,
        })
        .collect();
    // Only the failing paths call the builtins.
    assert_eq!(
        runtime,
        [
            "cadr",
            "zero?",
            "char->integer",
            "integer->char",
            "char<?",
            "string-set!"
        ]
    );
    assert_eq!(count(&l, "g", |o| matches!(o, Op::Store(_))), 2);
}

/// A `define-c-function` with literal operands is a procedure whose body
/// is one `ffi_call`; a computed library or a variadic signature stays a
/// call of `%make-c-function` (libffi in every engine).
#[test]
fn typed_foreign_procedures_lower_to_ffi_call() {
    let l = lower(
        "(define-c-function c-cos \"libm.so.6\" \"cos\" (double) double)
         (define-c-function c-abs #f \"abs\" (int) int)
         (define lib \"libm.so.6\")
         (define-c-function c-sin lib \"sin\" (double) double)
         (define-c-function c-printf #f \"printf\" (string ...) int)
         (define-c-function c-bad #f \"abs\" (frob) int)",
    );
    let text = func_text(&l, "c-cos");
    assert!(
        text.contains("ffi_call \"libm.so.6\" \"cos\" (double) -> double(%"),
        "{text}"
    );
    assert_eq!(count(&l, "c-abs", |o| matches!(o, Op::FfiCall(_))), 1);
    let all = valk_vir::print_module(&l.module);
    assert_eq!(all.matches("ffi_call").count(), 2, "{all}");
    assert_eq!(all.matches("%make-c-function").count(), 3, "{all}");
}

fn lower_guarded(src: &str, guarded: &[(usize, &str)]) -> Lowered {
    let names: Vec<&str> = guarded.iter().map(|g| g.1).collect();
    lower_with(
        src,
        &LowerOptions {
            predefined: names.iter().map(|n| n.to_string()).collect(),
            guarded: guarded.iter().map(|&(i, n)| (i, n.to_string())).collect(),
            ..LowerOptions::default()
        },
    )
}

#[test]
fn guarded_globals_are_tested_then_called_directly() {
    // Tier units (docs/tiering.md, "Guarded calls"): each form is the
    // lambda a global will hold. `a` calls `b` (of the module) and `h`
    // (not), so it has no twin.
    let l = lower_guarded(
        "(lambda (x) (b x) (h x) (a (- x 1)))
         (lambda (y) (b (car y)))",
        &[(0, "a"), (1, "b")],
    );
    let a = func_text(&l, "a");
    assert!(a.contains("proc_is @b"), "{a}");
    assert!(a.contains("call @b("), "{a}");
    assert!(a.contains("call_closure"), "{a}");
    // The self tail call: `eq` with the running closure, then the loop.
    assert!(count(&l, "a", |o| matches!(o, Op::Eq)) >= 1, "{a}");
    assert!(l.module.func_by_name("a.known").is_none());
    // `b` is closed (a primitive and itself): a twin without tests.
    let b = func_text(&l, "b");
    assert!(b.contains("tail_call @b.known"), "{b}");
    let known = func_text(&l, "b.known");
    assert_eq!(count(&l, "b.known", |o| matches!(o, Op::ProcIs(_))), 0);
    assert_eq!(
        count(&l, "b.known", |o| matches!(
            o,
            Op::CallClosure | Op::TailCallClosure
        )),
        0,
        "{known}"
    );
}

#[test]
fn twins_test_every_global_of_their_region_on_entry() {
    let l = lower_guarded(
        "(lambda (n) (if (< n 2) n (+ (fib (- n 1)) (g (- n 2)))))
         (lambda (n) (fib n))",
        &[(0, "fib"), (1, "g")],
    );
    assert!(count(&l, "fib", |o| matches!(o, Op::ProcIs(_))) >= 2);
    let known = func_text(&l, "fib.known");
    assert!(known.contains("call @fib.known("), "{known}");
    assert!(known.contains("call @g.known("), "{known}");
    assert!(!known.contains("global_get"), "{known}");
    // The twins' primitives are unguarded; `fib` tests them on entry.
    assert_eq!(count(&l, "fib.known", |o| matches!(o, Op::Intact(_))), 0);
    assert!(count(&l, "fib", |o| matches!(o, Op::Intact(_))) >= 3);
}

#[test]
fn builtins_are_guarded_unless_the_whole_program_is_known() {
    // docs/tiering.md, "Redefining builtins".
    let car = valk_runtime::builtins::redefinition_index("car").unwrap();
    let incremental = LowerOptions::default();
    let l = lower_with("(define (f p) (car p))", &incremental);
    let t = func_text(&l, "f");
    assert!(t.contains(&format!("intact {car}")), "{t}");
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 1, "{t}");
    // Redefined: the global's value, in tail position.
    assert_eq!(count(&l, "f", |o| *o == Op::TailCallClosure), 1, "{t}");
    // In value position, the runtime's generic call.
    let l = lower_with("(define (f p) (list (car p)))", &incremental);
    assert_eq!(count(&l, "f", |o| *o == Op::CallGeneric), 1);
    // Runtime calls too.
    let l = lower_with("(define (f s) (string->symbol s))", &incremental);
    assert_eq!(count(&l, "f", |o| matches!(o, Op::Intact(_))), 1);
    assert_eq!(count(&l, "f", |o| matches!(o, Op::CallRuntime(_))), 1);
    // Whole programs: unguarded.
    let l = lower("(define (f p) (car p))");
    assert_eq!(count(&l, "f", |o| matches!(o, Op::Intact(_))), 0);
    // `%cons` is guarded by its own byte, not `cons`'s.
    let l = lower_with("(define (f a) (%cons a a))", &incremental);
    let alias = valk_runtime::builtins::redefinition_index("%cons").unwrap();
    assert!(func_text(&l, "f").contains(&format!("intact {alias}")));
    assert_ne!(
        Some(alias),
        valk_runtime::builtins::redefinition_index("cons")
    );
    // No alias resolution: `first` may be assigned by a later input.
    let l = lower_with("(define first car) (define (f p) (first p))", &incremental);
    assert_eq!(count(&l, "f", |o| *o == Op::Car), 0);
}

#[test]
fn writes_of_a_builtins_global_are_noted() {
    let l = lower_with(
        "(define (car x) x) (set! cdr car) (define y 1) (set! y 2)",
        &LowerOptions::default(),
    );
    let written = valk_vir::print_module(&l.module)
        .matches("global_written")
        .count();
    assert_eq!(written, 2);
}

/// Stand-ins for the prelude's call/cc (escapes.rs wants both names
/// defined once).
const CALL_CC: &str = "(define (call/cc f) (%capture-continuation f))
  (define (call-with-current-continuation f) (%capture-continuation f))
  (define (each f l) (if (pair? l) (begin (f (car l)) (each f (cdr l))) #f))";

/// How `name`'s call/cc sites are compiled: `"%call/ec"`,
/// `"%tail-call/ec"` (either as listed), or `""` when none is an escape.
fn escape_kinds(src: &str, name: &str) -> String {
    let l = lower(&format!("{CALL_CC} {src}"));
    let text = func_text(&l, name);
    let mut kinds = Vec::new();
    if text.contains("\"%call/ec\"") {
        kinds.push("%call/ec");
    }
    if text.contains("\"%tail-call/ec\"") {
        kinds.push("%tail-call/ec");
    }
    kinds.join(" ")
}

fn escapes_in(src: &str, name: &str) -> bool {
    !escape_kinds(src, name).is_empty()
}

#[test]
fn continuations_only_called_become_escapes() {
    // Early exit through a lambda that a known procedure only calls.
    assert!(escapes_in(
        "(define (first-even l)
           (call/cc (lambda (return) (each (lambda (x) (if (even? x) (return x))) l) #f)))",
        "first-even"
    ));
    // Passed down to procedures that only call it (fibc), and to apply.
    assert!(escapes_in(
        "(define (add x y k) (if (= y 0) (k x) (add (+ x 1) (- y 1) k)))
         (define (f n) (add 1 (call/cc (lambda (c) (add n 1 c))) (lambda (v) v)))",
        "f"
    ));
    assert!(escapes_in(
        "(define (f) (+ 1 (call/cc (lambda (k) (apply k '(1))))))",
        "f"
    ));
    // In tail position, ending with a call of the continuation itself.
    assert!(escapes_in(
        "(define (find p l) (call/cc (lambda (return)
           (each (lambda (x) (if (p x) (return x))) l) (return #f))))",
        "find"
    ));
    // Through a named-let loop that only calls it.
    assert!(escapes_in(
        "(define (f l) (+ 1 (call/cc (lambda (k)
           (let loop ((l l) (k2 k)) (if (pair? l) (loop (cdr l) k2) (k2 0)))))))",
        "f"
    ));
}

#[test]
fn continuations_that_may_outlive_the_call_stay_full() {
    // Kept in a variable, returned, captured by a kept lambda, passed to
    // a procedure that keeps it.
    assert!(!escapes_in(
        "(define saved #f) (define (f) (+ 1 (call/cc (lambda (k) (set! saved k) 1))))",
        "f"
    ));
    assert!(!escapes_in(
        "(define (f) (+ 1 (call/cc (lambda (k) k))))",
        "f"
    ));
    assert!(!escapes_in(
        "(define (f) (+ 1 (call/cc (lambda (k) (vector (lambda () (k 1)))))))",
        "f"
    ));
    assert!(!escapes_in(
        "(define saved #f) (define (keep x) (set! saved x))
         (define (f) (+ 1 (call/cc (lambda (k) (keep k) 1))))",
        "f"
    ));
    // Kept in tail position too.
    assert!(!escapes_in(
        "(define saved #f) (define (f) (call/cc (lambda (k) (set! saved k) 1)))",
        "f"
    ));
    // The receiver reaches a full capture: left alone (speed).
    assert!(!escapes_in(
        "(define saved #f) (define (g n) (+ n (call/cc (lambda (j) (set! saved j) 1))))
         (define (f n) (+ 1 (call/cc (lambda (k) (k (g n))))))",
        "f"
    ));
}

#[test]
fn tail_position_sites_become_tail_escapes() {
    // A receiver that loops back through the site: `%tail-call/ec` reuses
    // the escape the loop runs on (constant space, as call/cc).
    let spin = "(define (spin n) (call/cc (lambda (k) (if (= n 0) (k 1) (spin (- n 1))))))";
    assert_eq!(escape_kinds(spin, "spin"), "%tail-call/ec");
    // ctak's shape: the tail site converts, so the site that reaches it
    // does too.
    let ctak = "(define (g k n) (if (= n 0) (k 0) (call/cc (lambda (j) (g j (- n 1))))))
         (define (f n) (+ 1 (call/cc (lambda (k) (g k n)))))";
    assert_eq!(escape_kinds(ctak, "g"), "%tail-call/ec");
    assert_eq!(escape_kinds(ctak, "f"), "%call/ec");
    // In tail position of a named-let loop, in an `if` branch.
    assert_eq!(
        escape_kinds(
            "(define (f n) (let loop ((i 0))
               (if (< i n) (call/cc (lambda (k) (loop (+ i 1)))) i)))",
            "loop"
        ),
        "%tail-call/ec"
    );
    // Ending with a call of the continuation itself.
    assert_eq!(
        escape_kinds(
            "(define (find p l) (call/cc (lambda (return)
               (each (lambda (x) (if (p x) (return x))) l) (return #f))))",
            "find"
        ),
        "%tail-call/ec"
    );
    // Not in tail position: a plain escape.
    assert_eq!(
        escape_kinds("(define (f) (list (call/cc (lambda (k) (k 1)))))", "f"),
        "%call/ec"
    );
    // The `%tail-call/ec` call is returned at once (what the backend
    // turns into `musttail`).
    let l = lower(&format!("{CALL_CC} {spin}"));
    let text = func_text(&l, "spin");
    let call = text.find("\"%tail-call/ec\"").expect("a tail escape");
    let next = text[call..].lines().nth(1).unwrap_or_default();
    assert!(next.trim_start().starts_with("ret "), "{text}");
}
