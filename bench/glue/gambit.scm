;; Gambit: compiled with gsc -exe.  The declarations are the ones Gambit
;; programs normally use (builtins are not redefined, the file is one
;; block); the code stays safe.
(declare (standard-bindings) (extended-bindings) (block))
(define (bench-ticks) (exact (floor (* 1000000. (real-time)))))
(define (bench-ticks-per-second) 1000000)
(define (bench-read-args) (read))
