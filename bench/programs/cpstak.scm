;;; cpstak: Takeuchi function in continuation-passing style (closure
;;; allocation, calls to unknown procedures), repeated.
;;; args: (18 12 6 300)
;;; expect: 7
;;; quick-args: (12 8 4 1)
;;; quick-expect: 5

(define (cps-tak x y z k)
  (if (not (< y x))
      (k z)
      (cps-tak (- x 1) y z
               (lambda (v1)
                 (cps-tak (- y 1) z x
                          (lambda (v2)
                            (cps-tak (- z 1) x y
                                     (lambda (v3)
                                       (cps-tak v1 v2 v3 k)))))))))

(define (bench-main x y z reps)
  (let loop ((i 1) (r (cps-tak x y z (lambda (a) a))))
    (if (= i reps)
        r
        (loop (+ i 1) (cps-tak x y z (lambda (a) a))))))
