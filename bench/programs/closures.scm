;;; closures: closures created and called in a loop (allocation of closures,
;;; calls through unknown procedures, captured mutable variables).
;;; args: (10000000)
;;; expect: (219999965 9999999)
;;; quick-args: (1000)
;;; quick-expect: (522000 999)
(define (make-adder k) (lambda (x) (+ x k)))

(define (compose-procs f g) (lambda (x) (f (g x))))

(define (make-counter)
  (let ((count 0))
    (lambda (step)
      (set! count (+ count step))
      count)))

(define (apply-n f n x)
  (if (= n 0) x (apply-n f (- n 1) (f x))))

(define (bench-main n)
  (let ((counter (make-counter)))
    (let loop ((i 0) (acc 0))
      (if (= i n)
          (list acc (counter 0))
          (let* ((add-i (make-adder (remainder i 10)))
                 (twice (compose-procs add-i add-i))
                 (scaled (lambda (x) (* 2 (twice x)))))
            (counter (remainder i 3))
            (loop (+ i 1)
                  (remainder (+ acc (apply-n scaled 3 (remainder i 100))) 1000000007)))))))
