;;; sumfp: add the flonums 0.0..n with a counting loop, repeated (flonum
;;; arithmetic in a tight loop).
;;; args: (10000.0 1000)
;;; expect: 50005000
;;; quick-args: (100.0 2)
;;; quick-expect: 5050

(define (sum-to x)
  (let loop ((i x) (acc 0.0))
    (if (< i 0.0) acc (loop (- i 1.0) (+ acc i)))))

(define (bench-main x reps)
  (let loop ((k 1) (r (sum-to x)))
    (if (= k reps) (exact (round r)) (loop (+ k 1) (sum-to x)))))
