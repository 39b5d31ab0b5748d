;; CHICKEN 5: compiled with csc -O3 (safe; -O4 and up would be unsafe).
(import (chicken time) (chicken io))
(define (exact x) (inexact->exact x))
(define (inexact x) (exact->inexact x))
(define (bench-ticks) (current-process-milliseconds))
(define (bench-ticks-per-second) 1000)
(define (bench-read-args) (read))
