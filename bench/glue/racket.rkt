#lang racket/base
;; Racket CS: a racket/base module, compiled ahead with `raco make`.
;; racket/base pairs are immutable; Racket CS pairs are Chez pairs, so the
;; R7RS mutators are supplied (with the usual pair check) through the
;; unsafe mutators for immutable pairs.  Records come from SRFI 9.
(require srfi/9 racket/unsafe/ops)
(define (set-car! p v)
  (if (pair? p) (unsafe-set-immutable-car! p v) (raise-argument-error 'set-car! "pair?" p)))
(define (set-cdr! p v)
  (if (pair? p) (unsafe-set-immutable-cdr! p v) (raise-argument-error 'set-cdr! "pair?" p)))
;; R7RS `guard` (racket/base has none): the clauses run in the handler of
;; `with-handlers`; no clause matching re-raises the object.
(define-syntax guard
  (syntax-rules ()
    ((_ (var clause ...) body ...)
     (with-handlers ([(lambda (e) #t)
                      (lambda (var) (guard-clauses (raise var) clause ...))])
       body ...))))
(define-syntax guard-clauses
  (syntax-rules (else =>)
    ((_ reraise (else e1 e2 ...)) (begin e1 e2 ...))
    ((_ reraise (test => f) more ...)
     (let ((t test)) (if t (f t) (guard-clauses reraise more ...))))
    ((_ reraise (test) more ...)
     (let ((t test)) (if t t (guard-clauses reraise more ...))))
    ((_ reraise (test e1 e2 ...) more ...)
     (if test (begin e1 e2 ...) (guard-clauses reraise more ...)))
    ((_ reraise) reraise)))
;; R7RS exact-integer-sqrt (racket/base calls it integer-sqrt/remainder).
(define (exact-integer-sqrt n) (integer-sqrt/remainder n))
(define (exact x) (inexact->exact x))
(define (inexact x) (exact->inexact x))
(define (bench-ticks) (inexact->exact (floor (* 1000.0 (current-inexact-milliseconds)))))
(define (bench-ticks-per-second) 1000000)
(define (bench-read-args) (read))
