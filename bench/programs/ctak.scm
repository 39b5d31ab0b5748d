;;; ctak: Takeuchi function returning through escaping continuations,
;;; repeated (call/cc-heavy).
;;; args: (18 12 6 200)
;;; expect: 7
;;; quick-args: (12 8 4 1)
;;; quick-expect: 5
(define (ctak x y z)
  (call-with-current-continuation
   (lambda (k) (ctak-aux k x y z))))

(define (ctak-aux k x y z)
  (if (not (< y x))
      (k z)
      (call-with-current-continuation
       (lambda (k)
         (ctak-aux
          k
          (call-with-current-continuation
           (lambda (k) (ctak-aux k (- x 1) y z)))
          (call-with-current-continuation
           (lambda (k) (ctak-aux k (- y 1) z x)))
          (call-with-current-continuation
           (lambda (k) (ctak-aux k (- z 1) x y))))))))

(define (bench-main x y z reps)
  (let loop ((i 1) (r (ctak x y z)))
    (if (= i reps) r (loop (+ i 1) (ctak x y z)))))
