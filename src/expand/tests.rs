//! Golden tests of the expander: source text -> printed core AST, and
//! source text -> `line:col: message` for errors.

use super::*;
use crate::syntax::reader::read_str;

/// Expands every form of `src` with `ex`; the printed top levels joined by
/// newlines, or the first error as `line:col: message`.
pub(super) fn run_with(ex: &mut Expander, sm: &mut SourceMap, src: &str) -> Result<String, String> {
    let ds = read_str(sm, "t.valk", src).map_err(|d| d.message)?;
    let mut out = Vec::new();
    for d in &ds {
        match ex.expand_toplevel(d, sm) {
            Ok(ts) => out.extend(ts.iter().map(print_toplevel)),
            Err(e) => {
                let loc = e.span.map(|s| sm.location(s)).unwrap_or_default();
                let loc = loc.strip_prefix("t.valk:").unwrap_or(&loc).to_string();
                return Err(format!("{loc}: {}", e.message));
            }
        }
    }
    Ok(out.join("\n"))
}

fn run(src: &str) -> Result<String, String> {
    run_with(&mut Expander::new(), &mut SourceMap::new(), src)
}

#[track_caller]
fn check(src: &str, expected: &str) {
    match run(src) {
        Ok(got) => assert_eq!(got, expected, "\nsource: {src}"),
        Err(e) => panic!("source: {src}\nunexpected error: {e}"),
    }
}

#[track_caller]
fn check_err(src: &str, expected: &str) {
    match run(src) {
        Ok(got) => panic!("source: {src}\nexpected error {expected}, got {got}"),
        Err(e) => assert_eq!(e, expected, "\nsource: {src}"),
    }
}

/// Expands one form and returns its single top level.
fn expand_one(src: &str) -> TopLevel {
    let mut sm = SourceMap::new();
    let ds = read_str(&mut sm, "t.valk", src).expect("read");
    let mut ts = Expander::new()
        .expand_toplevel(&ds[0], &mut sm)
        .expect("expand");
    assert_eq!(ts.len(), 1);
    ts.remove(0)
}

// ----- core forms ------------------------------------------------------------

#[test]
fn expand_define_and_procedures() {
    check("(define x 5)", "(define-global x (const 5))");
    check(
        "(define (f x) (if (< x 2) x (f (- x 1))))",
        "(define-global f (lambda f (x_0) (if (call (global <) x_0 (const 2)) x_0 \
         (call (global f) (call (global -) x_0 (const 1))))))",
    );
    check(
        "(define (f a b . rest) (list a b rest))",
        "(define-global f (lambda f (a_0 b_1 . rest_2) (call (global list) a_0 b_1 rest_2)))",
    );
    check(
        "(define g (lambda (x) x))",
        "(define-global g (lambda g (x_0) x_0))",
    );
    check("(define v)", "(define-global v (void))");
    check(
        "(fun add (a b) (+ a b))",
        "(define-global add (lambda add (a_0 b_1) (call (global +) a_0 b_1)))",
    );
    check(
        "(fun va args args)",
        "(define-global va (lambda va args_0 args_0))",
    );
    check(
        "(fun d (a . r) r)",
        "(define-global d (lambda d (a_0 . r_1) r_1))",
    );
}

#[test]
fn expand_lambda_formals() {
    check("(lambda args args)", "(lambda args_0 args_0)");
    check("(lambda (a . b) b)", "(lambda (a_0 . b_1) b_1)");
    check("(lambda () 1)", "(lambda () (const 1))");
    check(
        "(lambda (x) (display x) x)",
        "(lambda (x_0) (seq (call (global display) x_0) x_0))",
    );
}

#[test]
fn expand_if_set_begin_quote() {
    check("(if 1 2)", "(if (const 1) (const 2) (void))");
    check("(if 1 2 3)", "(if (const 1) (const 2) (const 3))");
    check(
        "(let ((x 1)) (set! x 2) x)",
        "(let ((x_0 (const 1))) (seq (set! x_0 (const 2)) x_0))",
    );
    check("(set! y 3)", "(set-global! y (const 3))");
    check("(begin 1 2)", "(const 1)\n(const 2)");
    check(
        "(f (begin 1 2))",
        "(call (global f) (seq (const 1) (const 2)))",
    );
    check("(begin)", "");
    check(
        "'(a #(1 \"s\" #\\a) 2.5 . b)",
        "(const (a #(1 \"s\" #\\a) 2.5 . b))",
    );
    check("'()", "(const ())");
    check("#(1 2)", "(const #(1 2))");
    check("\"s\"", "(const \"s\")");
    check("(quote (quote x))", "(const 'x)");
}

#[test]
fn expand_set_marks_assigned() {
    let t = expand_one("(lambda (a b) (set! b 1) a)");
    assert!(!t.locals[0].assigned);
    assert!(t.locals[1].assigned);
    assert_eq!(t.locals[1].name, "b");
}

#[test]
fn expand_toplevel_begin_splices() {
    check(
        "(begin (define a 1) (display a))",
        "(define-global a (const 1))\n(call (global display) (global a))",
    );
    check(
        "(begin (begin (define a 1)) 2)",
        "(define-global a (const 1))\n(const 2)",
    );
}

// ----- scoping ---------------------------------------------------------------

#[test]
fn expand_locals_shadow_special_forms() {
    check(
        "(let ((if list)) (if 1 2 3))",
        "(let ((if_0 (global list))) (call if_0 (const 1) (const 2) (const 3)))",
    );
    check(
        "(define (f quote) (quote 1))",
        "(define-global f (lambda f (quote_0) (call quote_0 (const 1))))",
    );
    check(
        "(lambda (define) (define 1))",
        "(lambda (define_0) (call define_0 (const 1)))",
    );
}

#[test]
fn expand_global_define_shadows_keyword() {
    check(
        "(define (receive x) x)\n(receive 1)",
        "(define-global receive (lambda receive (x_0) x_0))\n(call (global receive) (const 1))",
    );
}

#[test]
fn expand_inner_scopes() {
    check(
        "(lambda (x) (lambda (x) x) x)",
        "(lambda (x_0) (seq (lambda (x_1) x_1) x_0))",
    );
    check(
        "(let ((x 1)) (let ((x x)) x))",
        "(let ((x_0 (const 1))) (let ((x_1 x_0)) x_1))",
    );
}

#[test]
fn expand_internal_defines() {
    check(
        "(define (g . r) (define a 1) (define (h) a) (h))",
        "(define-global g (lambda g r_0 (letrec ((a_1 (const 1)) (h_2 (lambda h () a_1))) (call h_2))))",
    );
    check(
        "(define (f) (begin (define a 1) (define b 2)) (+ a b))",
        "(define-global f (lambda f () (letrec ((a_0 (const 1)) (b_1 (const 2))) \
         (call (global +) a_0 b_1))))",
    );
    // Interleaved: an expression before a definition is bound to a dummy.
    check(
        "(define (w) (display 1) (define z 2) z)",
        "(define-global w (lambda w () (letrec ((__1 (call (global display) (const 1))) \
         (z_0 (const 2))) z_0)))",
    );
    // A body define may shadow a parameter.
    check(
        "(lambda (x) (define x 2) x)",
        "(lambda (x_0) (letrec ((x_1 (const 2))) x_1))",
    );
}

// ----- derived forms ---------------------------------------------------------

#[test]
fn expand_let_forms() {
    check(
        "(let ((x 1) (y 2)) (+ x y))",
        "(let ((x_0 (const 1)) (y_1 (const 2))) (call (global +) x_0 y_1))",
    );
    check("(let () 1)", "(const 1)");
    check(
        "(let ((f (lambda () 1))) f)",
        "(let ((f_0 (lambda f () (const 1)))) f_0)",
    );
    check(
        "(let* ((a 1) (b a) (a b)) a)",
        "(let ((a_0 (const 1))) (let ((b_1 a_0)) (let ((a_2 b_1)) a_2)))",
    );
    check("(let* () 1)", "(const 1)");
    check(
        "(letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1))))) \
         (od? (lambda (n) (if (= n 0) #f (ev? (- n 1)))))) (ev? 10))",
        "(letrec ((ev?_0 (lambda ev? (n_2) (if (call (global =) n_2 (const 0)) (const #t) \
         (call od?_1 (call (global -) n_2 (const 1)))))) (od?_1 (lambda od? (n_3) \
         (if (call (global =) n_3 (const 0)) (const #f) (call ev?_0 (call (global -) n_3 (const 1))))))) \
         (call ev?_0 (const 10)))",
    );
    check(
        "(letrec* ((a 1) (b (+ a 1))) b)",
        "(letrec ((a_0 (const 1)) (b_1 (call (global +) a_0 (const 1)))) b_1)",
    );
}

#[test]
fn expand_named_let() {
    check(
        "(let loop ((i 0)) (if (< i 10) (loop (+ i 1))))",
        "(letrec ((loop_0 (lambda loop (i_1) (if (call (global <) i_1 (const 10)) \
         (call loop_0 (call (global +) i_1 (const 1))) (void))))) (call loop_0 (const 0)))",
    );
    check(
        "(let loop () 1)",
        "(letrec ((loop_0 (lambda loop () (const 1)))) (call loop_0))",
    );
    // The inits are outside the scope of the loop name.
    check(
        "(let ((n 5)) (let n ((i n)) i))",
        "(let ((n_0 (const 5))) (letrec ((n_1 (lambda n (i_2) i_2))) (call n_1 n_0)))",
    );
}

#[test]
fn expand_do() {
    check(
        "(do ((i 0 (+ i 1)) (acc '())) ((= i 3) acc) (display i))",
        "(letrec ((do-loop_0 (lambda do-loop (i_1 acc_2) (if (call (global =) i_1 (const 3)) acc_2 \
         (seq (call (global display) i_1) (call do-loop_0 (call (global +) i_1 (const 1)) acc_2)))))) \
         (call do-loop_0 (const 0) (const ())))",
    );
    check(
        "(do ((i 0 (+ i 1))) ((= i 3)))",
        "(letrec ((do-loop_0 (lambda do-loop (i_1) (if (call (global =) i_1 (const 3)) (void) \
         (call do-loop_0 (call (global +) i_1 (const 1))))))) (call do-loop_0 (const 0)))",
    );
}

#[test]
fn expand_cond() {
    check(
        "(cond ((assv x l) => cdr) ((f x)) (else 3))",
        "(let ((tmp_1 (call (global assv) (global x) (global l)))) (if tmp_1 (call (global cdr) tmp_1) \
         (let ((tmp_0 (call (global f) (global x)))) (if tmp_0 tmp_0 (const 3)))))",
    );
    check("(cond)", "(void)");
    check("(cond (else 1 2))", "(seq (const 1) (const 2))");
    check(
        "(cond (a 1) (b 2 3))",
        "(if (global a) (const 1) (if (global b) (seq (const 2) (const 3)) (void)))",
    );
}

#[test]
fn expand_case() {
    check(
        "(case x ((1 2) 'a) ((3) => f) (else => g))",
        "(let ((key_0 (global x))) (if (call (global %memv) key_0 (const (1 2))) (const a) \
         (if (call (global %eqv?) key_0 (const 3)) (call (global f) key_0) (call (global g) key_0))))",
    );
    check(
        "(case (f) ((a) 1) ((b c) 2))",
        "(let ((key_0 (call (global f)))) (if (call (global %eqv?) key_0 (const a)) (const 1) \
         (if (call (global %memv) key_0 (const (b c))) (const 2) (void))))",
    );
    check("(case 1 (() 1))", "(let ((key_0 (const 1))) (void))");
    check(
        "(case 1 (else 1 2))",
        "(let ((key_0 (const 1))) (seq (const 1) (const 2)))",
    );
}

#[test]
fn expand_and_or_when_unless() {
    check("(and)", "(const #t)");
    check("(and 1)", "(const 1)");
    check(
        "(and 1 2 3)",
        "(if (const 1) (if (const 2) (const 3) (const #f)) (const #f))",
    );
    check("(or)", "(const #f)");
    check(
        "(or 1 2)",
        "(let ((tmp_0 (const 1))) (if tmp_0 tmp_0 (const 2)))",
    );
    check(
        "(when (> x 0) (display x) x)",
        "(if (call (global >) (global x) (const 0)) (seq (call (global display) (global x)) (global x)) (void))",
    );
    check("(unless x 1)", "(if (global x) (void) (const 1))");
}

#[test]
fn expand_quasiquote() {
    check("`x", "(const x)");
    check("`(1 2)", "(const (1 2))");
    check(
        "`(1 ,x ,@y (a . ,b) #(1 ,c))",
        "(call (global %append) (call (global %list) (const 1) (global x)) (global y) \
         (call (global %list) (call (global %cons) (const a) (global b)) \
         (call (global %list->vector) (call (global %list) (const 1) (global c)))))",
    );
    check(
        "`(1 2 ,@'() . 3)",
        "(call (global %append) (const (1 2)) (const ()) (const 3))",
    );
    check("`(,@x)", "(global x)");
    check(
        "`#(1 ,@x 2)",
        "(call (global %list->vector) (call (global %append) (const (1)) (global x) (const (2))))",
    );
    check("`#(1 2)", "(const #(1 2))");
    check("`(1 . ,x)", "(call (global %cons) (const 1) (global x))");
    check(
        "`(1 unquote x)",
        "(call (global %cons) (const 1) (global x))",
    );
}

#[test]
fn expand_quasiquote_nesting() {
    // Inner unquotes stay quoted until the level drops to zero.
    check("`(a `(b ,(c d)))", "(const (a `(b ,(c d))))");
    check(
        "`(a `(b ,(c ,x)))",
        "(call (global %list) (const a) (call (global %list) (const quasiquote) \
         (call (global %list) (const b) (call (global %list) (const unquote) \
         (call (global %list) (const c) (global x))))))",
    );
    check(
        "`(a `(b ,,x))",
        "(call (global %list) (const a) (call (global %list) (const quasiquote) \
         (call (global %list) (const b) (call (global %list) (const unquote) (global x)))))",
    );
    check("`(a `(b ,@(c)))", "(const (a `(b ,@(c))))");
    check(
        "`(1 `#(,(2 ,x)))",
        "(call (global %list) (const 1) (call (global %list) (const quasiquote) \
         (call (global %list->vector) (call (global %list) (call (global %list) (const unquote) \
         (call (global %list) (const 2) (global x)))))))",
    );
}

#[test]
fn expand_values_forms() {
    check(
        "(let-values (((a b) (values 1 2)) ((c . d) (values 3 4 5))) (list a b c d))",
        "(call (global %call-with-values) (lambda () (call (global values) (const 1) (const 2))) \
         (lambda (a_0 b_1) (call (global %call-with-values) (lambda () (call (global values) \
         (const 3) (const 4) (const 5))) (lambda (c_2 . d_3) (call (global list) a_0 b_1 c_2 d_3)))))",
    );
    // let-values inits do not see the new bindings; let*-values ones do.
    check(
        "(let ((a 0)) (let-values (((a) 1) ((b) a)) b))",
        "(let ((a_0 (const 0))) (call (global %call-with-values) (lambda () (const 1)) \
         (lambda (a_1) (call (global %call-with-values) (lambda () a_0) (lambda (b_2) b_2)))))",
    );
    check(
        "(let*-values (((a) 1) ((b) a)) b)",
        "(call (global %call-with-values) (lambda () (const 1)) (lambda (a_0) \
         (call (global %call-with-values) (lambda () a_0) (lambda (b_1) b_1))))",
    );
    check(
        "(let-values ((all (values 1 2))) all)",
        "(call (global %call-with-values) (lambda () (call (global values) (const 1) (const 2))) \
         (lambda all_0 all_0))",
    );
    check(
        "(receive (a . rest) (values 1 2 3) rest)",
        "(call (global %call-with-values) (lambda () (call (global values) (const 1) (const 2) (const 3))) \
         (lambda (a_0 . rest_1) rest_1))",
    );
    check(
        "(define-values (q r) (floor/ 7 2))",
        "(define-global q (void))\n(define-global r (void))\n\
         (call (global %call-with-values) (lambda () (call (global floor/) (const 7) (const 2))) \
         (lambda (q_0 r_1) (seq (set-global! q q_0) (set-global! r r_1))))",
    );
    check(
        "(define (h) (define-values (q . r) (values 1 2)) (list q r))",
        "(define-global h (lambda h () (letrec ((vals_2 (call (global %call-with-values) \
         (lambda () (call (global values) (const 1) (const 2))) (lambda (q_3 . r_4) \
         (call (global %vector) q_3 r_4)))) (q_0 (call (global %vector-ref) vals_2 (const 0))) \
         (r_1 (call (global %vector-ref) vals_2 (const 1)))) (call (global list) q_0 r_1))))",
    );
}

#[test]
fn expand_case_lambda() {
    check(
        "(define cl (case-lambda ((x) x) ((x y) y) ((x . r) r)))",
        "(define-global cl (let ((clause_1 (lambda (x_0) x_0)) (clause_4 (lambda (x_2 y_3) y_3)) \
         (clause_7 (lambda (x_5 . r_6) r_6))) (lambda cl args_8 (let ((n_9 (call (global %length) args_8))) \
         (if (call (global %=) n_9 (const 1)) (call (global %apply) clause_1 args_8) \
         (if (call (global %=) n_9 (const 2)) (call (global %apply) clause_4 args_8) \
         (if (call (global %>=) n_9 (const 1)) (call (global %apply) clause_7 args_8) \
         (call (global %error) (const \"case-lambda: no clause accepts the arguments\") args_8))))))))",
    );
}

#[test]
fn expand_delay_and_import() {
    check(
        "(delay (f))",
        "(call (global %delay) (lambda () (call (global f))))",
    );
    check(
        "(delay-force (f))",
        "(call (global %delay-force) (lambda () (call (global f))))",
    );
}

#[test]
fn expand_define_record_type() {
    check(
        "(define-record-type point (make-point x y) point? (x point-x set-point-x!) (y point-y))",
        "(define-global point (call (global %make-record-type) (const point) (const (x y))))\n\
         (define-global make-point (let ((rtd_0 (global point))) (lambda make-point (x_1 y_2) \
         (call (global %record) rtd_0 x_1 y_2))))\n\
         (define-global point? (let ((rtd_0 (global point))) (lambda point? (obj_1) \
         (call (global %record?) obj_1 rtd_0))))\n\
         (define-global point-x (let ((rtd_0 (global point))) (lambda point-x (obj_1) \
         (call (global %record-ref) obj_1 rtd_0 (const 0) (const point-x)))))\n\
         (define-global set-point-x! (let ((rtd_0 (global point))) (lambda set-point-x! (obj_1 value_2) \
         (call (global %record-set!) obj_1 rtd_0 (const 0) value_2 (const set-point-x!)))))\n\
         (define-global point-y (let ((rtd_0 (global point))) (lambda point-y (obj_1) \
         (call (global %record-ref) obj_1 rtd_0 (const 1) (const point-y)))))",
    );
    // Fields missing from the constructor get #f; argument order is the
    // constructor's.
    check(
        "(define-record-type <t> (mk c a) #f (a ta) (b tb) (c tc))",
        "(define-global <t> (call (global %make-record-type) (const <t>) (const (a b c))))\n\
         (define-global mk (let ((rtd_0 (global <t>))) (lambda mk (c_1 a_2) \
         (call (global %record) rtd_0 a_2 (const #f) c_1))))\n\
         (define-global ta (let ((rtd_0 (global <t>))) (lambda ta (obj_1) \
         (call (global %record-ref) obj_1 rtd_0 (const 0) (const ta)))))\n\
         (define-global tb (let ((rtd_0 (global <t>))) (lambda tb (obj_1) \
         (call (global %record-ref) obj_1 rtd_0 (const 1) (const tb)))))\n\
         (define-global tc (let ((rtd_0 (global <t>))) (lambda tc (obj_1) \
         (call (global %record-ref) obj_1 rtd_0 (const 2) (const tc)))))",
    );
    // A bare constructor name takes every field; #f for no constructor.
    check(
        "(define-record-type s make-s s? (a) b)",
        "(define-global s (call (global %make-record-type) (const s) (const (a b))))\n\
         (define-global make-s (let ((rtd_0 (global s))) (lambda make-s (a_1 b_2) \
         (call (global %record) rtd_0 a_1 b_2))))\n\
         (define-global s? (let ((rtd_0 (global s))) (lambda s? (obj_1) \
         (call (global %record?) obj_1 rtd_0))))",
    );
    check(
        "(define-record-type u #f #f)",
        "(define-global u (call (global %make-record-type) (const u) (const ())))",
    );
    check(
        "(define (k) (define-record-type point (make-point x) point? (x px)) (px (make-point 1)))",
        "(define-global k (lambda k () (letrec ((point_0 (call (global %make-record-type) (const point) \
         (const (x)))) (make-point_1 (let ((rtd_4 point_0)) (lambda make-point (x_5) \
         (call (global %record) rtd_4 x_5)))) (point?_2 (let ((rtd_6 point_0)) (lambda point? (obj_7) \
         (call (global %record?) obj_7 rtd_6)))) (px_3 (let ((rtd_8 point_0)) (lambda px (obj_9) \
         (call (global %record-ref) obj_9 rtd_8 (const 0) (const px)))))) (call px_3 (call make-point_1 (const 1))))))",
    );
}

// ----- macros ----------------------------------------------------------------

#[test]
fn expand_syntax_rules_basics() {
    check(
        "(define-syntax my-let* (syntax-rules () ((_ () body ...) (let () body ...)) \
         ((_ ((x v) rest ...) body ...) (let ((x v)) (my-let* (rest ...) body ...)))))\n\
         (my-let* ((a 1) (b a)) b)",
        "(let ((a_0 (const 1))) (let ((b_1 a_0)) b_1))",
    );
    check(
        "(define-syntax my-if (syntax-rules (then else) ((_ c then t else e) (if c t e))))\n\
         (my-if 1 then 2 else 3)",
        "(if (const 1) (const 2) (const 3))",
    );
    check(
        "(define-syntax kw (syntax-rules () ((_ 1 x) 'one) ((_ \"s\" x) 'str) ((_ #t x) 'true)))\n\
         (list (kw 1 a) (kw \"s\" b) (kw #t c))",
        "(call (global list) (const one) (const str) (const true))",
    );
    check(
        "(define-syntax q (syntax-rules () ((_ a) '(a b \"s\" 1))))\n(q x)",
        "(const (x b \"s\" 1))",
    );
}

#[test]
fn expand_syntax_rules_ellipses() {
    check(
        "(define-syntax flat (syntax-rules () ((_ (a ...) ...) '(a ... ...))))\n(flat (1 2) (3) ())",
        "(const (1 2 3))",
    );
    check(
        "(define-syntax pairs (syntax-rules () ((_ (k v ...) ...) (list (cons 'k '(v ...)) ...))))\n\
         (pairs (a 1 2) (b))",
        "(call (global list) (call (global cons) (const a) (const (1 2))) \
         (call (global cons) (const b) (const ())))",
    );
    check(
        "(define-syntax vec (syntax-rules () ((_ #(a ...)) (list a ...))))\n(vec #(1 2 3))",
        "(call (global list) (const 1) (const 2) (const 3))",
    );
    check(
        "(define-syntax tl (syntax-rules () ((_ a ... b c) '(b c))))\n(tl 1 2 3 4)",
        "(const (3 4))",
    );
    check(
        "(define-syntax dot (syntax-rules () ((_ a . r) '(a r))))\n(dot 1 2 3)",
        "(const (1 (2 3)))",
    );
    check(
        "(define-syntax dot2 (syntax-rules () ((_ a ... . r) '((a ...) r))))\n(dot2 1 2 . 3)",
        "(const ((1 2) 3))",
    );
    check(
        "(define-syntax my-list (syntax-rules ::: () ((_ x :::) (list x :::))))\n(my-list 1 2)",
        "(call (global list) (const 1) (const 2))",
    );
    // `(... ...)` lets a macro define a macro that uses an ellipsis.
    check(
        "(define-syntax def-seq (syntax-rules () ((_ name) (define-syntax name \
         (syntax-rules () ((_ e (... ...)) (begin e (... ...))))))))\n\
         (def-seq seq2)\n(seq2 1 2 3)",
        "(const 1)\n(const 2)\n(const 3)",
    );
}

#[test]
fn expand_syntax_rules_hygiene() {
    // Template-introduced bindings do not capture user variables...
    check(
        "(define-syntax swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))\n\
         (let ((tmp 1) (y 2)) (swap! tmp y) (list tmp y))",
        "(let ((tmp_0 (const 1)) (y_1 (const 2))) (seq (let ((tmp_2 tmp_0)) \
         (seq (set! tmp_0 y_1) (set! y_1 tmp_2))) (call (global list) tmp_0 y_1)))",
    );
    check(
        "(define-syntax my-or (syntax-rules () ((_) #f) ((_ e) e) \
         ((_ e r ...) (let ((t e)) (if t t (my-or r ...))))))\n(let ((t 5)) (my-or #f t))",
        "(let ((t_0 (const 5))) (let ((t_1 (const #f))) (if t_1 t_1 t_0)))",
    );
    check(
        "(define-syntax while (syntax-rules () ((_ c body ...) (let lp () (when c body ... (lp))))))\n\
         (let ((lp 0)) (while (< lp 3) (set! lp (+ lp 1))))",
        "(let ((lp_0 (const 0))) (letrec ((lp_1 (lambda lp () (if (call (global <) lp_0 (const 3)) \
         (seq (set! lp_0 (call (global +) lp_0 (const 1))) (call lp_1)) (void))))) (call lp_1)))",
    );
    // ...and user bindings do not capture template keywords or free names.
    check(
        "(define-syntax my-if (syntax-rules () ((_ c a b) (if c a b))))\n\
         (let ((if list)) (my-if 1 2 3))",
        "(let ((if_0 (global list))) (if (const 1) (const 2) (const 3)))",
    );
    check(
        "(define-syntax first (syntax-rules () ((_ x) (car x))))\n\
         (let ((car cdr)) (first '(1 2)))",
        "(let ((car_0 (global cdr))) (call (global car) (const (1 2))))",
    );
    // A macro inserting `define foo` at top level defines the global foo.
    check(
        "(define-syntax defoo (syntax-rules () ((_ v) (define foo v))))\n(defoo 3)\nfoo",
        "(define-global foo (const 3))\n(global foo)",
    );
    // Definitions named by the user in a body are visible to the body.
    check(
        "(define-syntax def2 (syntax-rules () ((_ a b v) (begin (define a v) (define b v)))))\n\
         (define (f) (def2 x y 1) (+ x y))",
        "(define-global f (lambda f () (letrec ((x_0 (const 1)) (y_1 (const 1))) \
         (call (global +) x_0 y_1))))",
    );
}

#[test]
fn expand_local_macros() {
    // let-syntax: the template's x is the x of the definition site.
    check(
        "(define (f x) (let-syntax ((m (syntax-rules () ((_) x)))) (let ((x 2)) (m))))",
        "(define-global f (lambda f (x_0) (let ((x_1 (const 2))) x_0)))",
    );
    check(
        "(define (f) (define-syntax m (syntax-rules () ((_ a) (* a 2)))) (m 3))",
        "(define-global f (lambda f () (call (global *) (const 3) (const 2))))",
    );
    check(
        "(letrec-syntax ((ev? (syntax-rules () ((_) #t) ((_ x . r) (od? . r)))) \
         (od? (syntax-rules () ((_) #f) ((_ x . r) (ev? . r))))) (ev? 1 2 3))",
        "(const #f)",
    );
}

#[test]
fn expand_macros_persist_across_inputs() {
    let mut ex = Expander::new();
    let mut sm = SourceMap::new();
    assert_eq!(
        run_with(
            &mut ex,
            &mut sm,
            "(define-syntax ten (syntax-rules () ((_) 10)))"
        ),
        Ok(String::new())
    );
    assert_eq!(
        run_with(&mut ex, &mut sm, "(+ (ten) 1)"),
        Ok("(call (global +) (const 10) (const 1))".into())
    );
    // A later top-level define replaces the macro.
    assert_eq!(
        run_with(&mut ex, &mut sm, "(define ten 5)\n(ten)"),
        Ok("(define-global ten (const 5))\n(call (global ten))".into())
    );
}

// ----- spans -----------------------------------------------------------------

#[test]
fn expand_spans_point_at_source() {
    let src = "(if (f x) 'y)";
    let t = expand_one(src);
    let text = |s: Span| &src[s.start as usize..s.end as usize];
    assert_eq!(text(t.body.span), src);
    let ExprKind::If(c, then, other) = &t.body.kind else {
        panic!("not an if");
    };
    assert_eq!(text(c.span), "(f x)");
    assert_eq!(text(then.span), "'y");
    assert_eq!(text(other.span), src);
    let ExprKind::Call(f, args) = &c.kind else {
        panic!("not a call");
    };
    assert_eq!(text(f.span), "f");
    assert_eq!(text(args[0].span), "x");
}

// ----- errors ----------------------------------------------------------------

#[test]
fn expand_errors_core_forms() {
    check_err("(if 1)", "1:1: if: expected (if test then [else])");
    check_err("(if 1 2 3 4)", "1:1: if: expected (if test then [else])");
    check_err(
        "(set! (car x) 1)",
        "1:7: set!: expected a variable name, got (car x)",
    );
    check_err(
        "(set! if 1)",
        "1:7: set!: cannot assign to syntactic keyword if",
    );
    check_err("(set! x)", "1:1: set!: expected (set! variable expr)");
    check_err(
        "(if x (define y 1))",
        "1:7: define: not allowed in an expression context",
    );
    check_err(
        "(f (begin (define y 1)))",
        "1:11: define: not allowed in an expression context",
    );
    check_err("()", "1:1: empty application");
    check_err("(f ())", "1:4: empty application");
    check_err("(f . x)", "1:1: application: improper argument list");
    check_err(",x", "1:1: unquote: not in quasiquote");
    check_err("(f ,@x)", "1:4: unquote-splicing: not in quasiquote");
    check_err(
        "`,@x",
        "1:2: unquote-splicing: not in a list or vector context",
    );
    check_err(
        "`(1 . ,@x)",
        "1:7: unquote-splicing: not allowed in the tail of a list",
    );
    check_err("(quote)", "1:1: quote: expected (quote datum)");
    check_err("(quote 1 2)", "1:1: quote: expected (quote datum)");
    check_err("if", "1:1: if: syntactic keyword used as a variable");
    check_err(
        "(list else)",
        "1:7: else: syntactic keyword used as a variable",
    );
    check_err(
        "(f (begin))",
        "1:4: begin: expected at least one expression",
    );
    check_err("(when)", "1:1: when: expected (when test expr ...)");
    check_err("(unless 1)", "1:1: unless: expected (unless test expr ...)");
    check_err(
        "(parameterize (p 1) 2)",
        "1:16: parameterize: bad binding p: expected (parameter value)",
    );
    check_err(
        "(guard (1) 2)",
        "1:9: guard: expected a variable name, got 1",
    );
    check_err(
        "(guard (e))",
        "1:1: guard: expected (guard (variable clause ...) body ...)",
    );
    check_err(
        "(shift 1 2)",
        "1:1: shift: expected (shift variable body ...)",
    );
    check_err("(reset)", "1:1: reset: expected (reset body ...)");
    check_err(
        "(f (import (scheme base)))",
        "1:4: import: only allowed at top level",
    );
}

#[test]
fn expand_errors_lambda_and_define() {
    check_err("(lambda (x x) x)", "1:12: lambda: duplicate parameter x");
    check_err(
        "(lambda (x 1) x)",
        "1:12: lambda: parameter is not an identifier: 1",
    );
    check_err(
        "(lambda 5 1)",
        "1:9: lambda: bad formals: expected (param ...), (param ... . rest) or a symbol",
    );
    check_err("(lambda (x))", "1:1: body has no expression");
    check_err(
        "(lambda)",
        "1:1: lambda: expected (lambda formals body ...)",
    );
    check_err(
        "(define ((f a) b) a)",
        "1:9: define: curried define (define ((f a) b) ...) is not supported",
    );
    check_err(
        "(define)",
        "1:1: define: expected (define name expr) or (define (name param ...) body ...)",
    );
    check_err(
        "(define x 1 2)",
        "1:1: define: expected (define name expr) or (define (name param ...) body ...)",
    );
    check_err("(define (f x x) x)", "1:14: define: duplicate parameter x");
    check_err("(define (f))", "1:1: body has no expression");
    check_err("(let ((x 1)) (define y 2))", "1:1: body has no expression");
    check_err(
        "(define (f) 1 (define y 2))",
        "1:1: body must end with an expression, not a definition",
    );
    check_err(
        "(define (f) (define a 1) (define a 2) a)",
        "1:34: duplicate definition of a",
    );
    check_err(
        "(fun f)",
        "1:1: fun: expected (fun name (param ...) body ...)",
    );
    check_err("(fun f (a a) a)", "1:11: fun: duplicate parameter a");
}

#[test]
fn expand_errors_let_forms() {
    check_err(
        "(let ((x)) x)",
        "1:7: let: bad binding (x): expected (name expr)",
    );
    check_err("(let ((x 1) (x 2)) x)", "1:14: let: duplicate binding x");
    check_err(
        "(let (x) 1)",
        "1:7: let: bad binding x: expected (name expr)",
    );
    check_err(
        "(let ((1 2)) 1)",
        "1:7: let: bad binding (1 2): expected (name expr)",
    );
    check_err(
        "(let x 1)",
        "1:8: let: bindings must be a list of (name expr)",
    );
    check_err(
        "(let 5 1)",
        "1:6: let: bindings must be a list of (name expr)",
    );
    check_err(
        "(let loop)",
        "1:1: let: expected (let name ((name expr) ...) body ...)",
    );
    check_err(
        "(let)",
        "1:1: let: expected (let ((name expr) ...) body ...)",
    );
    check_err(
        "(letrec ((a 1) (a 2)) a)",
        "1:17: letrec: duplicate binding a",
    );
    check_err(
        "(let-values (((a a) (values 1 2))) a)",
        "1:18: let-values: duplicate parameter a",
    );
    check_err(
        "(let-values (((a) 1) ((a) 2)) a)",
        "1:24: let-values: duplicate binding a",
    );
    check_err(
        "(let-values ((a)) a)",
        "1:14: let-values: bad binding (a): expected (formals expr)",
    );
    check_err(
        "(do ((i 0)) ())",
        "1:13: do: expected a (test expr ...) clause",
    );
    check_err("(do ((i 0) (i 1)) (#t))", "1:13: do: duplicate variable i");
    check_err(
        "(do ((1 0)) (#t))",
        "1:6: do: bad variable clause (1 0): expected (var init [step])",
    );
    check_err(
        "(receive (a))",
        "1:1: receive: expected (receive formals expr body ...)",
    );
    check_err(
        "(case-lambda (5 1))",
        "1:15: case-lambda: bad formals: expected (param ...), (param ... . rest) or a symbol",
    );
}

#[test]
fn expand_errors_cond_case() {
    check_err(
        "(cond (else 1) (x 2))",
        "1:7: cond: else clause must be last",
    );
    check_err(
        "(cond ())",
        "1:7: cond: bad clause (): expected (test expr ...)",
    );
    check_err(
        "(cond (else))",
        "1:7: cond: else clause needs an expression",
    );
    check_err(
        "(cond (x => f g))",
        "1:7: cond: expected (test => receiver)",
    );
    check_err(
        "(case x (else 1) ((1) 2))",
        "1:9: case: else clause must be last",
    );
    check_err(
        "(case x (1 2))",
        "1:10: case: clause data must be a list (datum ...)",
    );
    check_err(
        "(case x ((1)))",
        "1:9: case: bad clause ((1)): expected ((datum ...) expr ...)",
    );
    check_err("(case)", "1:1: case: expected (case key clause ...)");
}

#[test]
fn expand_errors_toplevel_forms() {
    check_err(
        "(import (foo bar))",
        "1:9: import: unknown library (foo bar) (looked for foo/bar.sld, .scm or .valk in ., the installed libraries)",
    );
    check_err(
        "(import 5)",
        "1:9: import: expected an import set like (scheme base), got 5",
    );
    // Other than (load "literal") at top level, `load` is the procedure.
    check("(load x)", "(call (global load) (global x))");
    check(
        "(load x env)",
        "(call (global load) (global x) (global env))",
    );
    check_err("(load)", "1:1: load: expected (load file [environment])");
    check_err(
        "(load \"does-not-exist.valk\")",
        "1:1: cannot load \"does-not-exist.valk\": No such file or directory",
    );
    check(
        "(f (load \"x\"))",
        "(call (global f) (call (global load) (const \"x\")))",
    );
    check_err("(f (import (a)))", "1:4: import: only allowed at top level");
    check_err(
        "(define-values (a b))",
        "1:1: define-values: expected (define-values formals expr)",
    );
    check_err(
        "(define-values (a a) 1)",
        "1:19: define-values: duplicate parameter a",
    );
}

#[test]
fn expand_errors_records() {
    check_err(
        "(define-record-type point (make-point x z) point? (x px))",
        "1:41: define-record-type: constructor argument z is not a field",
    );
    check_err(
        "(define-record-type 5 #f #f)",
        "1:21: define-record-type: the type name must be an identifier, got 5",
    );
    check_err(
        "(define-record-type p #f #f (x a) (x b))",
        "1:35: define-record-type: duplicate field x",
    );
    check_err(
        "(define-record-type p #f #f (x 1))",
        "1:32: define-record-type: an accessor must be an identifier, got 1",
    );
    check_err(
        "(define-record-type p (mk x x) #f (x a))",
        "1:29: define-record-type: duplicate constructor argument x",
    );
    check_err(
        "(define-record-type point)",
        "1:1: define-record-type: expected (define-record-type name (constructor field ...) \
         predicate (field accessor [modifier]) ...)",
    );
    check_err(
        "(define-record-type)",
        "1:1: define-record-type: expected (define-record-type name (constructor field ...) \
         predicate (field accessor [modifier]) ...)",
    );
}

#[test]
fn expand_errors_macros() {
    check_err(
        "(define-syntax m (syntax-rules () ((_ a) a)))\n(m)",
        "2:1: m: no syntax-rules pattern matches (m)",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_ a ...) (f a))))\n(m 1 2)",
        "2:1: m: pattern variable a used without an ellipsis",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_ a) (a ...))))\n(m 1)",
        "2:1: m: no pattern variable under this ellipsis in template",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_ (a ...) (b ...)) ((a b) ...))))\n(m (1 2) (3))",
        "2:1: m: pattern variables used under one ellipsis matched different numbers of items",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_ a ... b ...) 1)))",
        "1:47: m: misplaced ellipsis in syntax-rules pattern",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_ a a) 1)))",
        "1:36: syntax-rules: duplicate pattern variable a",
    );
    check_err(
        "(define-syntax m (er-macro-transformer (lambda (x) x)))",
        "1:18: define-syntax: only syntax-rules transformers are supported",
    );
    check_err(
        "(let-syntax ((m 5)) 1)",
        "1:17: let-syntax: only syntax-rules transformers are supported",
    );
    check_err(
        "(define-syntax m (syntax-rules () (x 1)))",
        "1:36: syntax-rules: a pattern must be a list starting with the macro keyword",
    );
    check_err(
        "(syntax-rules ())",
        "1:1: syntax-rules: only valid as the transformer of define-syntax or let-syntax",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_) 1)))\nm",
        "2:1: m: macro used as a variable",
    );
}

#[test]
fn expand_errors_runaway_macros() {
    // Each step nests the argument deeper (and copies it).
    check_err(
        "(define-syntax m (syntax-rules () ((_ x) (m (x)))))\n(m 1)",
        "2:1: m: macro expansion too large (more than 2000000 datums)",
    );
    // Each step makes the form wider.
    check_err(
        "(define-syntax m (syntax-rules () ((_ a ...) (m a ... a ...))))\n(m 1)",
        "2:1: m: macro expansion too large (more than 2000000 datums)",
    );
    // Each step nests the expression deeper.
    check_err(
        "(define-syntax m (syntax-rules () ((_ x) (f (m x)))))\n(m 1)",
        "2:1: expression nested too deeply (more than 2500 levels)",
    );
    // Expands to itself at top level and in a body.
    check_err(
        "(define-syntax m (syntax-rules () ((_) (begin (m)))))\n(m)",
        "2:1: expression nested too deeply (more than 2500 levels)",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_) (begin (m)))))\n(define (f) (m) 1)",
        "2:13: m: macro expansion does not terminate (more than 100000 steps)",
    );
    check_err(
        "(define-syntax m (syntax-rules () ((_) (m))))\n(m)",
        "2:1: m: macro expansion does not terminate (more than 100000 steps)",
    );
}

// ----- deep input ------------------------------------------------------------

/// `n` nested copies of `(open HOLE close)` around `x`, built without the
/// reader (whose own limit is lower).
fn nested(open: &str, n: usize) -> (Datum, SourceMap) {
    let mut sm = SourceMap::new();
    let tpl = read_str(&mut sm, "t.valk", open).expect("read").remove(0);
    fn subst(d: &Datum, inner: &mut Option<Datum>) -> Datum {
        match &d.kind {
            DatumKind::Symbol(s) if s == "HOLE" => inner.take().unwrap_or_else(|| d.clone()),
            DatumKind::List(items, t) => Datum::new(
                DatumKind::List(items.iter().map(|x| subst(x, inner)).collect(), t.clone()),
                d.span,
            ),
            _ => d.clone(),
        }
    }
    let mut d = Datum::new(DatumKind::Symbol("x".into()), tpl.span);
    for _ in 0..n {
        d = subst(&tpl, &mut Some(d));
    }
    (d, sm)
}

/// Drops a deeply nested datum without recursing.
fn dismantle(d: Datum) {
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        match d.kind {
            DatumKind::List(items, tail) => {
                stack.extend(items);
                stack.extend(tail.map(|t| *t));
            }
            DatumKind::Vector(items) => stack.extend(items),
            _ => {}
        }
    }
}

#[test]
fn expand_deep_nesting_is_a_clean_error() {
    let (d, mut sm) = nested("(f HOLE)", 100_000);
    let r = Expander::new().expand_toplevel(&d, &mut sm);
    let e = r.expect_err("must fail");
    assert_eq!(
        e.message,
        "expression nested too deeply (more than 2500 levels)"
    );
    dismantle(d);
}

#[test]
fn expand_deep_but_allowed_nesting_works() {
    // Deeper than the reader allows, on an ordinary test thread: expansion
    // moves to a helper thread with a big stack.
    for (tpl, n) in [
        ("(f HOLE)", 2_000),
        ("(lambda () HOLE)", 2_000),
        ("(let ((x 1)) HOLE)", 1_200),
        ("'(a HOLE)", 1_200),
        ("`(a ,HOLE)", 800),
    ] {
        let (d, mut sm) = nested(tpl, n);
        let r = Expander::new().expand_toplevel(&d, &mut sm);
        assert!(r.is_ok(), "{tpl}: {:?}", r.err());
        dismantle(d);
    }
}

#[test]
fn expand_deep_macro_output_moves_to_big_stack() {
    // A shallow form whose macro builds 1,500 nested lambdas: more than the
    // inline stack budget allows, so it is expanded again on a big stack.
    let ones = "1 ".repeat(1_500);
    let src = format!(
        "(define-syntax deep (syntax-rules () ((_ () x) x) ((_ (a . r) x) (lambda () (deep r x)))))\n\
         (deep ({ones}) 0)"
    );
    let mut ex = Expander::new();
    let mut sm = SourceMap::new();
    let ds = read_str(&mut sm, "t.valk", &src).expect("read");
    ex.expand_toplevel(&ds[0], &mut sm).expect("define-syntax");
    let t = ex.expand_toplevel(&ds[1], &mut sm).expect("deep expansion");
    let mut depth = 0;
    let mut e = &t[0].body;
    while let ExprKind::Lambda(l) = &e.kind {
        depth += 1;
        e = &l.body;
    }
    assert_eq!(depth, 1_500);
}

// ----- load ------------------------------------------------------------------

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("valk-expand-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("temp dir");
    dir
}

#[test]
fn expand_load_splices_relative_files() {
    let dir = temp_dir("load");
    std::fs::write(dir.join("main.valk"), "(load \"sub/a.valk\")\n").unwrap();
    std::fs::write(
        dir.join("sub/a.valk"),
        "(define a 1)\n(load \"b.valk\")\n(define-syntax two (syntax-rules () ((_) 2)))",
    )
    .unwrap();
    std::fs::write(dir.join("sub/b.valk"), "(begin (define b (two)))").unwrap_or(());
    // b.valk runs before the macro is defined: `(two)` is a plain call.
    let mut sm = SourceMap::new();
    let main = dir.join("main.valk");
    let text = std::fs::read_to_string(&main).unwrap();
    let ds = read_str(&mut sm, &main.to_string_lossy(), &text).unwrap();
    let mut ex = Expander::new();
    let ts = ex.expand_toplevel(&ds[0], &mut sm).expect("load");
    let printed: Vec<String> = ts.iter().map(print_toplevel).collect();
    assert_eq!(
        printed,
        [
            "(define-global a (const 1))",
            "(define-global b (call (global two)))",
        ]
    );
    let loaded: Vec<String> = ex
        .loaded_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(loaded, ["a.valk", "b.valk"]);
    // The macro defined by the loaded file is available afterwards.
    let more = read_str(&mut sm, "<repl>", "(two)").unwrap();
    let ts = ex.expand_toplevel(&more[0], &mut sm).unwrap();
    assert_eq!(print_toplevel(&ts[0]), "(const 2)");
    // Loading again is allowed and not recorded twice.
    ex.expand_toplevel(&ds[0], &mut sm).expect("load again");
    assert_eq!(ex.loaded_files().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn expand_load_errors() {
    let dir = temp_dir("loaderr");
    std::fs::write(
        dir.join("self.valk"),
        "(define x 1)\n(load \"self.valk\")\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.valk"), "(define x 1)\n  (if)\n").unwrap();
    std::fs::write(dir.join("unclosed.valk"), "(define x").unwrap();
    let mut sm = SourceMap::new();
    let mut ex = Expander::new();
    let load = |ex: &mut Expander, sm: &mut SourceMap, file: &str| {
        let src = format!("(load \"{}\")", dir.join(file).display());
        let ds = read_str(sm, "<repl>", &src).unwrap();
        let e = ex.expand_toplevel(&ds[0], sm).expect_err("must fail");
        let loc = e.span.map(|s| sm.location(s)).unwrap_or_default();
        (loc, e.message)
    };
    let (loc, msg) = load(&mut ex, &mut sm, "self.valk");
    assert!(loc.ends_with("self.valk:2:1"), "{loc}");
    assert_eq!(msg, "load: \"self.valk\" loads itself recursively");
    let (loc, msg) = load(&mut ex, &mut sm, "bad.valk");
    assert!(loc.ends_with("bad.valk:2:3"), "{loc}");
    assert_eq!(msg, "if: expected (if test then [else])");
    let (_, msg) = load(&mut ex, &mut sm, "unclosed.valk");
    assert!(!msg.is_empty());
    // A failed load leaves the expander usable.
    assert_eq!(
        run_with(&mut ex, &mut sm, "(define y 2)"),
        Ok("(define-global y (const 2))".into())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- printer ---------------------------------------------------------------

#[test]
fn expand_printer_writes_datums() {
    check(
        "'(1.0 -2.5 #\\space #\\x \"a\\\"b\\n\" #u8(1 2) |a b| #t #f)",
        "(const (1.0 -2.5 #\\space #\\x \"a\\\"b\\n\" #u8(1 2) |a b| #t #f))",
    );
}

#[test]
fn expand_alias_names() {
    assert_eq!(base_name("tmp"), "tmp");
    assert_eq!(base_name("tmp\u{0}12"), "tmp");
    assert_eq!(base_name("tmp\u{0}12\u{0}3"), "tmp");
    assert_eq!(base_name("a\u{0}b"), "a\u{0}b");
    assert_eq!(base_name("a\u{0}"), "a\u{0}");
    // A user symbol with a NUL is not mistaken for an alias.
    check("'|a\\x0;b|", "(const |a\\x0;b|)");
}

#[test]
fn expand_expander_is_send() {
    // The driver may move the session (and its expander) to the thread
    // that runs programs; deep forms are expanded on a helper thread.
    fn assert_send<T: Send>() {}
    assert_send::<Expander>();
}
