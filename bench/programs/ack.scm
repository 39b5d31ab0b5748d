;;; ack: Ackermann function, repeated (deep non-tail recursion).
;;; args: (3 9 10)
;;; expect: 4093
;;; quick-args: (2 5 2)
;;; quick-expect: 13
(define (ack m n)
  (cond ((= m 0) (+ n 1))
        ((= n 0) (ack (- m 1) 1))
        (else (ack (- m 1) (ack m (- n 1))))))

(define (bench-main m n reps)
  (let loop ((i 1) (r (ack m n)))
    (if (= i reps)
        r
        (loop (+ i 1) (ack m n)))))
