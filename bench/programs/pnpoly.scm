;;; pnpoly: count the points of a grid inside a star-shaped polygon with the
;;; crossing-number test (flonum vectors, comparisons, division).
;;; args: (200 5)
;;; expect: 11633
;;; quick-args: (10 1)
;;; quick-expect: 33

;; A 20-pointed star: alternate vertices on radii 1.0 and 0.45, rotated a
;; little so no vertex lies on a grid line.
(define (make-star points)
  (let* ((n (* 2 points))
         (xs (make-vector n 0.0))
         (ys (make-vector n 0.0)))
    (do ((i 0 (+ i 1))) ((= i n) (cons xs ys))
      (let ((r (if (even? i) 1.0 0.45))
            (a (+ 0.013 (/ (* 6.283185307179586 (exact->inexact i)) (exact->inexact n)))))
        (vector-set! xs i (* r (cos a)))
        (vector-set! ys i (* r (sin a)))))))

(define (inside? xs ys x y)
  (let ((n (vector-length xs)))
    (let loop ((i 0) (j (- n 1)) (c #f))
      (if (= i n)
          c
          (let ((xi (vector-ref xs i)) (yi (vector-ref ys i))
                (xj (vector-ref xs j)) (yj (vector-ref ys j)))
            (loop (+ i 1) i
                  (if (and (not (eq? (< yi y) (< yj y)))
                           (< x (+ xi (/ (* (- xj xi) (- y yi)) (- yj yi)))))
                      (not c)
                      c)))))))

(define (bench-main size reps)
  (let* ((star (make-star 20)) (xs (car star)) (ys (cdr star))
         (step (/ 2.2 (exact->inexact size))))
    (let rep ((r 1))
      (let count-rows ((row 0) (count 0))
        (if (= row size)
            (if (= r reps) count (rep (+ r 1)))
            (let ((y (- (* step (exact->inexact row)) 1.1)))
              (let cols ((col 0) (count count))
                (if (= col size)
                    (count-rows (+ row 1) count)
                    (cols (+ col 1)
                          (if (inside? xs ys (- (* step (exact->inexact col)) 1.1) y)
                              (+ count 1)
                              count))))))))))
