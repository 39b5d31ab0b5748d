;;; fib: naive doubly recursive Fibonacci (calls and fixnum arithmetic).
;;; args: (37)
;;; expect: 24157817
;;; quick-args: (15)
;;; quick-expect: 610
(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

(define (bench-main n) (fib n))
