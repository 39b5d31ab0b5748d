;;; tak: Takeuchi function, repeated (calls, comparisons).
;;; args: (18 12 6 1000)
;;; expect: 7
;;; quick-args: (12 8 4 2)
;;; quick-expect: 5
(define (tak x y z)
  (if (not (< y x))
      z
      (tak (tak (- x 1) y z)
           (tak (- y 1) z x)
           (tak (- z 1) x y))))

(define (bench-main x y z reps)
  (let loop ((i 1) (r (tak x y z)))
    (if (= i reps)
        r
        (loop (+ i 1) (tak x y z)))))
