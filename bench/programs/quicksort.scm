;;; quicksort: in-place quicksort of a vector of pseudo-random fixnums,
;;; repeated (vector access, comparisons, recursion).
;;; args: (200000 10)
;;; expect: (#t 0 500978 999985)
;;; quick-args: (100 1)
;;; quick-expect: (#t 1669 522503 943658)
(define (random-vector n seed)
  (let ((v (make-vector n 0)))
    (let loop ((i 0) (x seed))
      (if (= i n)
          v
          (let ((next (remainder (* x 16807) 2147483647)))
            (vector-set! v i (remainder next 1000000))
            (loop (+ i 1) next))))))

(define (swap! v i j)
  (let ((t (vector-ref v i)))
    (vector-set! v i (vector-ref v j))
    (vector-set! v j t)))

;; Sort v[lo..hi] (inclusive), pivot in the middle, Hoare partition.
(define (quicksort! v lo hi)
  (cond
   ((< lo hi)
    (let ((pivot (vector-ref v (quotient (+ lo hi) 2))))
      (let partition ((i lo) (j hi))
        (if (> i j)
            (begin (quicksort! v lo j)
                   (quicksort! v i hi))
            (let* ((i (let scan ((i i)) (if (< (vector-ref v i) pivot) (scan (+ i 1)) i)))
                   (j (let scan ((j j)) (if (> (vector-ref v j) pivot) (scan (- j 1)) j))))
              (if (<= i j)
                  (begin (swap! v i j)
                         (partition (+ i 1) (- j 1)))
                  (partition i j)))))))))

(define (sorted? v)
  (let loop ((i 1))
    (cond ((>= i (vector-length v)) #t)
          ((> (vector-ref v (- i 1)) (vector-ref v i)) #f)
          (else (loop (+ i 1))))))

(define (bench-main n reps)
  (let loop ((r 1) (result '()))
    (if (> r reps)
        result
        (let ((v (random-vector n r)))
          (quicksort! v 0 (- n 1))
          (loop (+ r 1)
                (list (sorted? v)
                      (vector-ref v 0)
                      (vector-ref v (quotient n 2))
                      (vector-ref v (- n 1))))))))
