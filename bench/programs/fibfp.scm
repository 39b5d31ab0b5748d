;;; fibfp: naive Fibonacci on flonums (boxed/unboxed floating point, calls).
;;; args: (33.0)
;;; expect: 3524578
;;; quick-args: (15.0)
;;; quick-expect: 610
(define (fibfp n)
  (if (< n 2.0)
      n
      (+ (fibfp (- n 1.0)) (fibfp (- n 2.0)))))

(define (bench-main n) (exact (round (fibfp n))))
