;; Common driver, appended after every program: gets the argument list at run
;; time from the glue's bench-read-args (standard input) so that no
;; compiler can constant-fold the input, times one call
;; of bench-main with the implementation's own clock, and prints the result
;; and the elapsed ticks.  Only integers, symbols, booleans and lists of them
;; are ever printed, so every implementation writes the same text.
(define bench-args (bench-read-args))
(define bench-t0 (bench-ticks))
(define bench-result (apply bench-main bench-args))
(define bench-t1 (bench-ticks))
(display "result: ")
(write bench-result)
(newline)
(display "ticks: ")
(write (- bench-t1 bench-t0))
(display " ")
(write (bench-ticks-per-second))
(newline)
