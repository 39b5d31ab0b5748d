;; Chez Scheme 9.5: an R6RS top-level program (compiled as a whole, the way
;; Chez normally compiles programs).  Chez has R6RS records, so SRFI 9 /
;; R7RS define-record-type is provided here on top of them; constructors
;; must list every field in declaration order (all benchmark programs do).
(import (except (chezscheme) define-record-type)
        (prefix (only (chezscheme) define-record-type) r6:))
(define-syntax define-record-type
  (syntax-rules ()
    ((_ type (ctor field ...) pred spec ...)
     (bench-record-fields type ctor pred () spec ...))))
(define-syntax bench-record-fields
  (syntax-rules ()
    ((_ type ctor pred (acc ...))
     (r6:define-record-type (type ctor pred) (fields acc ...)))
    ((_ type ctor pred (acc ...) (f get) spec ...)
     (bench-record-fields type ctor pred (acc ... (immutable f get)) spec ...))
    ((_ type ctor pred (acc ...) (f get set) spec ...)
     (bench-record-fields type ctor pred (acc ... (mutable f get set)) spec ...))))
(define (bench-ticks)
  (let ((t (current-time 'time-monotonic)))
    (+ (* (time-second t) 1000000) (quotient (time-nanosecond t) 1000))))
(define (bench-ticks-per-second) 1000000)
(define (bench-read-args) (read))
;; R7RS read-line (Chez calls it get-line).
(define (read-line . port)
  (get-line (if (null? port) (current-input-port) (car port))))
