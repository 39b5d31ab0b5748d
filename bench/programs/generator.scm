;;; generator: a call/cc generator handing out the integers 0 .. n-1 one at a
;;; time (two continuation switches per value), consumed by a summing loop,
;;; repeated.
;;; args: (1000000 5)
;;; expect: 499999500000
;;; quick-args: (1000 1)
;;; quick-expect: 499500
(define (make-counter-generator n)
  (define return #f)
  (define resume #f)
  (define (produce)
    (let loop ((i 0))
      (if (< i n)
          (begin
            (call-with-current-continuation
             (lambda (k)
               (set! resume k)
               (return i)))
            (loop (+ i 1)))
          #f))
    (set! resume (lambda (ignored) (return 'done)))
    (return 'done))
  (lambda ()
    (call-with-current-continuation
     (lambda (r)
       (set! return r)
       (if resume (resume #f) (produce))))))

(define (sum-generated n)
  (let ((next (make-counter-generator n)))
    (let loop ((sum 0) (count 0))
      (let ((v (next)))
        (if (eq? v 'done)
            (if (= count n) sum 'wrong-count)
            (loop (+ sum v) (+ count 1)))))))

(define (bench-main n reps)
  (let loop ((i 1) (r (sum-generated n)))
    (if (= i reps) r (loop (+ i 1) (sum-generated n)))))
