//! Lowered programs run on the VIR reference evaluator (`valk_vir::eval`)
//! give the interpreter's results, before and after -O1. The programs use
//! only what the evaluator supports: inline primitives, `list`/`vector`
//! runtime calls, closures, boxes, globals.

use valk::driver::Session;
use valk::lower::{self, LowerOptions};
use valk::pipeline;
use valk::syntax::reader;
use valk_vir::eval::Machine;
use valk_vir::OptLevel;

/// The runtime (heap, global table) is process-wide: one interpreter
/// session at a time.
static RUNTIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const PROGRAMS: &[&str] = &[
    "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 15)",
    "(let loop ((i 0) (acc 0)) (if (> i 100) acc (loop (+ i 1) (+ acc i))))",
    "(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
     (define c (make-counter)) (c) (c) (c)",
    "(define (count-pairs n)
       (let outer ((i 0) (count 0))
         (if (= i n) count
             (let inner ((j 0) (count count))
               (if (= j n) (outer (+ i 1) count) (inner (+ j 1) (+ count 1)))))))
     (count-pairs 12)",
    "(define (ev? n) (if (= n 0) #t (od? (- n 1))))
     (define (od? n) (if (= n 0) #f (ev? (- n 1))))
     (list (ev? 101) (od? 101))",
    "(define (f n)
       (define (ev? k) (if (= k 0) 'even (od? (- k 1))))
       (define (od? k) (if (= k 0) 'odd (ev? (- k 1))))
       (list (ev? n) (ev? (+ n 1))))
     (f 10)",
    "(define (count-odd l)
       (let ((n 0))
         (let lp ((l l))
           (when (pair? l)
             (if (= (remainder (car l) 2) 1) (set! n (+ n 1)))
             (lp (cdr l))))
         n))
     (count-odd (list 1 2 3 4 5 7))",
    "(define (scale-sum l k)
       (define (scale x) (* x k))
       (let lp ((l l) (s 0)) (if (null? l) s (lp (cdr l) (+ s (scale (car l)))))))
     (scale-sum (list 1 2 3) 10)",
    "(let ((v (vector 1 2 3 4)))
       (do ((i 0 (+ i 1)) (s 0 (+ s (vector-ref v i)))) ((= i (vector-length v)) s)))",
    "(define (classify x)
       (cond ((< x 0) 'negative) ((= x 0) 'zero) ((< x 10) 'small) (else 'big)))
     (list (classify -5) (classify 0) (classify 3) (classify 30))",
    "(define (kind x) (case x ((1) 'one) ((two) 'two) ((#\\a) 'char) (else 'other)))
     (list (kind 1) (kind 'two) (kind #\\a) (kind 5))",
    // (Programs whose letrec reads need `check_init` are covered by the
    // AOT corpus.)
    "(define (ping-pong)
       (letrec ((ping (lambda (n) (if (= n 0) 'ping (pong n))))
                (pong (lambda (n) (ping (- n 1)))))
         ping))
     ((ping-pong) 7)",
    "(+ 1 (let lp ((i 0)) (if (< i 5) (lp (+ i 1)) i)))",
    "(define (f . r) r) (define (g a . r) (cons a r)) (list (f 1 2 3) (g 1) (g 1 2))",
    "(define (t x) (list (and x 1 2) (and) (or #f x) (or) (and #f (car 5))))
     (list (t #t) (t #f))",
    "(define (make-acc total)
       (define (add! x) (set! total (+ total x)) total)
       (lambda (x) (add! x)))
     (define a (make-acc 100)) (a 10) (a 20)",
    "(define (clamp x lo hi)
       (let ((r x)) (if (< r lo) (set! r lo)) (if (> r hi) (set! r hi)) r))
     (list (clamp 5 0 10) (clamp -3 0 10) (clamp 42 0 10))",
    "(define (walk t) (if (pair? t) (+ (walk (car t)) (walk (cdr t))) (if (null? t) 0 1)))
     (walk '((1 2) (3 (4 5)) 6))",
    "(define (area r) (define pi 3) (define (sq x) (* x x)) (* pi (sq r))) (area 4)",
    "(letrec ((a (lambda () b)) (b 2)) (a))",
    "(define x 10) (define (get-x) x) (set! x 20) (get-x)",
    "(define (loop-set n) (let ((acc '())) (do ((i 0 (+ i 1))) ((= i n) acc) (set! acc (cons i acc)))))
     (loop-set 4)",
    "(define (adders) (let lp ((i 0) (fs '())) (if (= i 3) fs (lp (+ i 1) (cons (lambda (x) (+ x i)) fs)))))
     (let ((fs (adders))) (list ((car fs) 100) ((car (cdr fs)) 100)))",
    "(define s \"hello\") (list (string-length s) (string-ref s 1) (eq? s s) (not s))",
];

/// A value rendered by the evaluator (pairs print dotted: `(a . (b . ()))`)
/// rewritten as the printer writes it.
fn eval_to_scheme(text: &str) -> String {
    #[derive(Debug)]
    enum S {
        Atom(String),
        Pair(Box<S>, Box<S>),
    }
    fn parse(toks: &[String], i: &mut usize) -> S {
        let t = toks[*i].clone();
        *i += 1;
        if t != "(" {
            return S::Atom(t);
        }
        let a = parse(toks, i);
        assert_eq!(toks[*i], ".");
        *i += 1;
        let d = parse(toks, i);
        assert_eq!(toks[*i], ")");
        *i += 1;
        S::Pair(Box::new(a), Box::new(d))
    }
    fn write(s: &S, out: &mut String) {
        match s {
            S::Atom(a) => out.push_str(a),
            S::Pair(a, d) => {
                out.push('(');
                write(a, out);
                let mut rest = d;
                loop {
                    match &**rest {
                        S::Pair(a, d) => {
                            out.push(' ');
                            write(a, out);
                            rest = d;
                        }
                        S::Atom(x) if x == "()" => break,
                        S::Atom(x) => {
                            out.push_str(" . ");
                            out.push_str(x);
                            break;
                        }
                    }
                }
                out.push(')');
            }
        }
    }
    if text.starts_with("error") {
        return text.to_string();
    }
    // Tokens: parentheses, the dot, and atoms (`()` is one atom).
    let spaced = text
        .replace("()", "\u{1}")
        .replace('(', " ( ")
        .replace(')', " ) ");
    let toks: Vec<String> = spaced
        .split_whitespace()
        .map(|t| {
            if t == "\u{1}" {
                "()".to_string()
            } else {
                t.to_string()
            }
        })
        .collect();
    let mut i = 0;
    let tree = parse(&toks, &mut i);
    let mut out = String::new();
    write(&tree, &mut out);
    out
}

#[test]
fn evaluator_agrees_with_the_interpreter() {
    let _guard = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    // The interpreter needs the runtime; run everything on one thread.
    let h = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut session = Session::new().expect("session starts");
            let prelude_names = {
                let mut sources = valk::syntax::source::SourceMap::new();
                pipeline::expand_program(&mut sources, "x.valk", "")
                    .unwrap()
                    .prelude_globals()
            };
            let mut failures = Vec::new();
            for (n, src) in PROGRAMS.iter().enumerate() {
                let datums = reader::read_str(&mut session.sources, "t.valk", src).unwrap();
                let mut tops = Vec::new();
                for d in &datums {
                    tops.extend(
                        session
                            .expander
                            .borrow_mut()
                            .expand_toplevel(d, &mut session.sources)
                            .unwrap(),
                    );
                }
                let mut expected = String::new();
                for t in &tops {
                    let v = valk::interp::eval_toplevel(t, None)
                        .unwrap_or_else(|_| panic!("program {n} failed"));
                    expected = valk_runtime::printer::write_string(v);
                }
                for level in [OptLevel::O0, OptLevel::O1] {
                    let opts = LowerOptions {
                        fixed_globals: true,
                        predefined: prelude_names.clone(),
                        ..LowerOptions::default()
                    };
                    let mut l = lower::lower_program(&tops, &session.sources, &opts).unwrap();
                    pipeline::optimize_verified(&mut l, level).unwrap();
                    let mut m = Machine::new(&l.module, 10_000_000);
                    let mut last = String::new();
                    for &f in &l.toplevels {
                        match m.call(f, Vec::new()) {
                            Ok(v) => last = m.render(v),
                            Err(e) => {
                                last = format!("error: {e}");
                                break;
                            }
                        }
                    }
                    let got = eval_to_scheme(&last);
                    if got != expected {
                        failures.push(format!(
                            "program {n} at {level:?}: interpreter {expected}, VIR {got}\n{src}"
                        ));
                    }
                }
            }
            failures
        })
        .unwrap();
    let failures = h.join().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Loop counters (`i...`) are never assigned, so every loop ends.
fn assignable(v: &str) -> bool {
    !v.starts_with('i')
}

/// A small deterministic generator of random programs (closures, `set!`
/// of captured and uncaptured variables, loops in tail and non-tail
/// positions, known and escaping local procedures) whose value is a
/// fixnum: the VIR evaluator must agree with the interpreter on each.
struct Gen {
    state: u64,
    names: usize,
}

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A variable `set!` may target (not a loop counter).
    fn assignable(&mut self, vars: &[String]) -> String {
        let vs: Vec<&String> = vars.iter().filter(|v| assignable(v)).collect();
        vs[self.pick(vs.len() as u64) as usize].clone()
    }
    fn fresh(&mut self, base: &str) -> String {
        self.names += 1;
        format!("{base}{}", self.names)
    }
    fn expr(&mut self, vars: &[String], depth: u32) -> String {
        let leaf = depth == 0 || self.pick(4) == 0;
        if leaf {
            return if !vars.is_empty() && self.pick(3) != 0 {
                vars[self.pick(vars.len() as u64) as usize].clone()
            } else {
                (self.pick(7) as i64 - 3).to_string()
            };
        }
        let d = depth - 1;
        match self.pick(11) {
            0 => format!("(+ {} {})", self.expr(vars, d), self.expr(vars, d)),
            1 => format!("(- {} {})", self.expr(vars, d), self.expr(vars, d)),
            2 => format!(
                "(if (< {} {}) {} {})",
                self.expr(vars, d),
                self.expr(vars, d),
                self.expr(vars, d),
                self.expr(vars, d)
            ),
            3 => {
                let v = self.fresh("v");
                let init = self.expr(vars, d);
                let mut inner = vars.to_vec();
                inner.push(v.clone());
                format!("(let (({v} {init})) {})", self.expr(&inner, d))
            }
            4 if vars.iter().any(|v| assignable(v)) => {
                let v = self.assignable(vars);
                format!(
                    "(begin (set! {v} {}) {})",
                    self.expr(vars, d),
                    self.expr(vars, d)
                )
            }
            5 => {
                let (lp, i, acc) = (self.fresh("lp"), self.fresh("i"), self.fresh("acc"));
                let mut inner = vars.to_vec();
                inner.push(i.clone());
                inner.push(acc.clone());
                let k = self.pick(4);
                format!(
                    "(let {lp} (({i} 0) ({acc} {})) (if (< {i} {k}) ({lp} (+ {i} 1) {}) {acc}))",
                    self.expr(vars, d),
                    self.expr(&inner, d)
                )
            }
            6 => {
                let (f, p) = (self.fresh("f"), self.fresh("p"));
                let mut inner = vars.to_vec();
                inner.push(p.clone());
                let body = self.expr(&inner, d);
                format!(
                    "(let (({f} (lambda ({p}) {body}))) (+ ({f} {}) ({f} {})))",
                    self.expr(vars, d),
                    self.expr(vars, d)
                )
            }
            7 if vars.iter().any(|v| assignable(v)) => {
                // A closure that assigns a captured variable.
                let g = self.fresh("g");
                let v = self.assignable(vars);
                format!(
                    "(let (({g} (lambda () (set! {v} (+ {v} {})) {v}))) (+ ({g}) (+ {v} ({g}))))",
                    self.expr(vars, d)
                )
            }
            8 => {
                // A procedure value passed around (escaping).
                let (h, p) = (self.fresh("h"), self.fresh("p"));
                let mut inner = vars.to_vec();
                inner.push(p.clone());
                let body = self.expr(&inner, d);
                format!(
                    "(let (({h} (lambda ({p}) {body}))) ((car (list {h})) {}))",
                    self.expr(vars, d)
                )
            }
            9 => {
                // A do loop with a body assigning an outer variable.
                let i = self.fresh("i");
                let mut inner = vars.to_vec();
                inner.push(i.clone());
                let body = if !vars.iter().any(|v| assignable(v)) {
                    "0".to_string()
                } else {
                    let v = self.assignable(vars);
                    format!("(set! {v} (+ {v} {}))", self.expr(&inner, d))
                };
                format!(
                    "(do (({i} 0 (+ {i} 1))) ((= {i} 2) {}) {body})",
                    self.expr(&inner, d)
                )
            }
            _ => {
                // Mutually recursive local procedures.
                let (a, b, n) = (self.fresh("a"), self.fresh("b"), self.fresh("n"));
                let mut inner = vars.to_vec();
                inner.push(n.clone());
                let e = self.expr(&inner, d);
                format!(
                    "(letrec (({a} (lambda ({n}) (if (< {n} 1) {e} ({b} (- {n} 1)))))
                              ({b} (lambda ({n}) ({a} {n}))))
                       ({a} {}))",
                    self.pick(3)
                )
            }
        }
    }
}

#[test]
fn random_programs_agree_with_the_interpreter() {
    let _guard = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    let h = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut session = Session::new().expect("session starts");
            let mut g = Gen {
                state: 0x9E37_79B9_7F4A_7C15,
                names: 0,
            };
            let mut failures = Vec::new();
            let mut numbers = 0;
            for n in 0..1000 {
                let body = g.expr(&["a".to_string(), "b".to_string()], 6);
                let src = format!("(define (main a b) {body}) (main 3 4)");
                let datums = reader::read_str(&mut session.sources, "r.valk", &src).unwrap();
                let mut tops = Vec::new();
                for d in &datums {
                    tops.extend(
                        session
                            .expander
                            .borrow_mut()
                            .expand_toplevel(d, &mut session.sources)
                            .unwrap(),
                    );
                }
                let mut expected = String::new();
                for t in &tops {
                    match valk::interp::eval_toplevel(t, None) {
                        Ok(v) => {
                            numbers += v.is_fixnum() as usize;
                            expected = valk_runtime::printer::write_string(v)
                        }
                        Err(_) => {
                            valk_runtime::error::take_pending();
                            expected = "error".into();
                        }
                    }
                }
                for level in [OptLevel::O0, OptLevel::O1] {
                    let opts = LowerOptions {
                        fixed_globals: n % 2 == 0,
                        ..LowerOptions::default()
                    };
                    let mut l = lower::lower_program(&tops, &session.sources, &opts).unwrap();
                    pipeline::optimize_verified(&mut l, level).unwrap();
                    let mut m = Machine::new(&l.module, 50_000_000);
                    let mut last = String::new();
                    for &f in &l.toplevels {
                        match m.call(f, Vec::new()) {
                            Ok(v) => last = m.render(v),
                            Err(e) => {
                                last = format!("error {e:?}");
                                break;
                            }
                        }
                    }
                    if last != expected {
                        failures.push(format!(
                            "program {n} at {level:?}: interpreter {expected}, VIR {last}\n{src}"
                        ));
                    }
                }
            }
            // Nearly every program computes a number (not an error).
            assert!(numbers >= 250, "only {numbers} programs gave a number");
            failures
        })
        .unwrap();
    let failures = h.join().unwrap();
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(3)].join("\n\n")
    );
}
