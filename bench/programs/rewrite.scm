;;; rewrite: a Boyer-like theorem prover: rewrite a term to normal form
;;; with a table of lemmas (one-way matching, substitution), then check that
;;; the resulting if-expression is a tautology (lists, symbols, assq).
;;; args: (1200)
;;; expect: (#t 58)
;;; quick-args: (2)
;;; quick-expect: (#t 58)
;; Lemmas are (lhs rhs) pairs, indexed by the operator of lhs; the symbols
;; in pattern-vars are the variables of a pattern, every other symbol is a
;; constant.  The result is (tautology? rewrite-steps) of the last round.

(define pattern-vars '(x y z u w a b c d p q))

(define lemmas
  '(((implies p q) (if p (if q t f) t))
    ((and p q) (if p (if q t f) f))
    ((or p q) (if p t (if q t f)))
    ((not p) (if p f t))
    ((iff x y) (and (implies x y) (implies y x)))
    ((plus (plus x y) z) (plus x (plus y z)))
    ((plus zero x) x)
    ((times x (plus y z)) (plus (times x y) (times x z)))
    ((times (times x y) z) (times x (times y z)))
    ((times one x) x)
    ((equal (plus x y) (plus x z)) (equal y z))
    ((equal (times x y) zero) (or (equal x zero) (equal y zero)))
    ((lessp (plus x y) (plus x z)) (lessp y z))
    ((append (append x y) z) (append x (append y z)))
    ((reverse (append x y)) (append (reverse y) (reverse x)))
    ((length (reverse x)) (length x))
    ((length (append x y)) (plus (length x) (length y)))
    ((member x (append a b)) (or (member x a) (member x b)))
    ((member x (reverse y)) (member x y))
    ((equal (append a b) (append a c)) (equal b c))
    ((difference x x) zero)
    ((difference (plus x y) x) y)
    ((greatereqp x y) (not (lessp x y)))
    ((lesseqp x y) (not (lessp y x)))
    ((greaterp x y) (lessp y x))
    ((zerop x) (equal x zero))))

;; Lemmas grouped by operator: ((op lemma ...) ...).
(define (index-lemmas ls)
  (let loop ((ls ls) (table '()))
    (if (null? ls)
        table
        (let* ((op (car (car (car ls))))
               (entry (assq op table)))
          (if entry
              (begin (set-cdr! entry (append (cdr entry) (list (car ls))))
                     (loop (cdr ls) table))
              (loop (cdr ls) (cons (list op (car ls)) table)))))))

(define lemma-table (index-lemmas lemmas))
(define steps 0)

;; One-way matching: extends the binding list or returns #f.
(define (match pat term binds)
  (cond ((symbol? pat)
         (if (memq pat pattern-vars)
             (let ((b (assq pat binds)))
               (cond ((not b) (cons (cons pat term) binds))
                     ((equal? (cdr b) term) binds)
                     (else #f)))
             (and (eq? pat term) binds)))
        ((pair? pat)
         (and (pair? term)
              (eq? (car pat) (car term))
              (let loop ((ps (cdr pat)) (ts (cdr term)) (binds binds))
                (cond ((null? ps) (and (null? ts) binds))
                      ((null? ts) #f)
                      (else (let ((b (match (car ps) (car ts) binds)))
                              (and b (loop (cdr ps) (cdr ts) b))))))))
        (else (and (equal? pat term) binds))))

(define (instantiate pat binds)
  (cond ((symbol? pat)
         (let ((b (assq pat binds))) (if b (cdr b) pat)))
        ((pair? pat)
         (cons (car pat) (map (lambda (p) (instantiate p binds)) (cdr pat))))
        (else pat)))

(define (rewrite term)
  (if (pair? term)
      (rewrite-top (cons (car term) (map rewrite (cdr term))))
      term))

(define (rewrite-top term)
  (let ((entry (assq (car term) lemma-table)))
    (if entry
        (let try ((ls (cdr entry)))
          (if (null? ls)
              term
              (let ((b (match (car (car ls)) term '())))
                (if b
                    (begin (set! steps (+ steps 1))
                           (rewrite (instantiate (cadr (car ls)) b)))
                    (try (cdr ls))))))
        term)))

(define (tautology? x true-list false-list)
  (cond ((or (eq? x 't) (member x true-list)) #t)
        ((or (eq? x 'f) (member x false-list)) #f)
        ((and (pair? x) (eq? (car x) 'if))
         (let ((test (cadr x)))
           (cond ((and (pair? test) (eq? (car test) 'if))
                  ;; (if (if a b c) d e) is (if a (if b d e) (if c d e)).
                  (tautology? (list 'if (cadr test)
                                    (list 'if (caddr test) (caddr x) (cadddr x))
                                    (list 'if (cadddr test) (caddr x) (cadddr x)))
                              true-list false-list))
                 ((or (eq? test 't) (member test true-list))
                  (tautology? (caddr x) true-list false-list))
                 ((or (eq? test 'f) (member test false-list))
                  (tautology? (cadddr x) true-list false-list))
                 (else (and (tautology? (caddr x) (cons test true-list) false-list)
                            (tautology? (cadddr x) true-list (cons test false-list)))))))
        (else #f)))

;; A chain of implications v1 -> v2 -> v3 -> v4 gives v1 -> v4 (and a
;; little more), with every variable standing for a term that rewriting
;; simplifies.
(define (chain vars)
  (if (null? (cddr vars))
      (list 'implies (car vars) (cadr vars))
      (list 'and (list 'implies (car vars) (cadr vars)) (chain (cdr vars)))))

(define (theorem seed)
  (let ((vs (list (list 'lessp (list 'plus seed 'k) (list 'plus seed (list 'plus 'zero 'm)))
                  (list 'member 'e (list 'reverse (list 'append 'l1 (list 'append 'l2 seed))))
                  (list 'zerop (list 'times 'n (list 'difference (list 'plus seed 'j) seed)))
                  (list 'equal (list 'append seed 'l4) (list 'append seed (list 'reverse 'l5))))))
    (list 'implies
          (chain vs)
          (list 'and
                (list 'implies (car vs) (cadddr vs))
                (list 'or (list 'not (car vs)) (list 'or (cadr vs) (cadddr vs)))))))

(define (bench-main reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (begin
          (set! steps 0)
          (let* ((t (rewrite (theorem (list 'g r))))
                 (ok (tautology? t '() '())))
            (loop (+ r 1) (list ok steps)))))))
