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
(define (exact x) (inexact->exact x))
(define (inexact x) (exact->inexact x))
(define (bench-ticks) (inexact->exact (floor (* 1000.0 (current-inexact-milliseconds)))))
(define (bench-ticks-per-second) 1000000)
(define (bench-read-args) (read))
