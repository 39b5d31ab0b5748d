;;; sum: add the integers 0..n with a counting loop, repeated (fixnum
;;; arithmetic in a tight loop).
;;; args: (10000 5000)
;;; expect: 50005000
;;; quick-args: (100 2)
;;; quick-expect: 5050

(define (sum-to n)
  (let loop ((i n) (acc 0))
    (if (< i 0) acc (loop (- i 1) (+ acc i)))))

(define (bench-main n reps)
  (let loop ((k 1) (r (sum-to n)))
    (if (= k reps) r (loop (+ k 1) (sum-to n)))))
