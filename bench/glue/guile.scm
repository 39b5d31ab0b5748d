;; Guile 3: compiled ahead to bytecode at -O2 (what auto-compilation does).
(use-modules (srfi srfi-9) (srfi srfi-34))
(define (exact x) (inexact->exact x))
(define (inexact x) (exact->inexact x))
(define (bench-ticks) (get-internal-real-time))
(define (bench-ticks-per-second) internal-time-units-per-second)
(define (bench-read-args) (read))
