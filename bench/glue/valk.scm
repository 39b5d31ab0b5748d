;; Valk: plain R7RS.
(define (bench-ticks) (current-jiffy))
(define (bench-ticks-per-second) (jiffies-per-second))
(define (bench-read-args) (read))
