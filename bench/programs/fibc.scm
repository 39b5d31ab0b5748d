;;; fibc: Fibonacci where every result comes back through a continuation
;;; captured with call/cc and sums are built by counting (the Gabriel suite's
;;; fibc), repeated.
;;; args: (30 5)
;;; expect: 832040
;;; quick-args: (10 1)
;;; quick-expect: 55
(define (add-by-counting x y k)
  (if (= y 0)
      (k x)
      (add-by-counting (+ x 1) (- y 1) k)))

(define (fibc n k)
  (cond ((= n 0) (k 0))
        ((= n 1) (k 1))
        (else
         (add-by-counting
          (call-with-current-continuation (lambda (c) (fibc (- n 1) c)))
          (call-with-current-continuation (lambda (c) (fibc (- n 2) c)))
          k))))

(define (run-fibc n)
  (call-with-current-continuation (lambda (k) (fibc n k))))

(define (bench-main n reps)
  (let loop ((i 1) (r (run-fibc n)))
    (if (= i reps) r (loop (+ i 1) (run-fibc n)))))
