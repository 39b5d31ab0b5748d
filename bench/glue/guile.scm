;; Guile 3: compiled ahead to bytecode at -O2 (what auto-compilation does).
(use-modules (srfi srfi-9) (srfi srfi-34) (ice-9 rdelim))
;; Files are UTF-8 whatever the locale (Guile's default follows it).
(fluid-set! %default-port-encoding "UTF-8")
(define (exact x) (inexact->exact x))
(define (inexact x) (exact->inexact x))
(define (bench-ticks) (get-internal-real-time))
(define (bench-ticks-per-second) internal-time-units-per-second)
(define (bench-read-args) (read))
