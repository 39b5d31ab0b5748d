;; Valk: plain R7RS.  Valk has no `read` yet, so the harness passes the input
;; numbers as command-line arguments.
(define (bench-ticks) (current-jiffy))
(define (bench-ticks-per-second) (jiffies-per-second))
(define (bench-read-args) (map string->number (cdr (command-line))))
