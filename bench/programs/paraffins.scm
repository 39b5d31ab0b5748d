;;; paraffins: build every paraffin isomer C(n)H(2n+2) as a tree of
;;; radicals and count them (list and vector allocation, nested loops).
;;; args: (19 5)
;;; expect: (1 1 1 2 3 5 9 18 35 75 159 355 802 1858 4347 10359 24894 60523 148284)
;;; quick-args: (6 1)
;;; quick-expect: (1 1 1 2 3 5)
;; A radical with k carbons is h (k = 0) or a carbon with three radicals
;; whose sizes add up to k - 1, listed in a canonical order (sizes
;; non-decreasing, and for equal sizes by non-decreasing position in that
;; size's list) so each is built once.  Every paraffin has a centre: a bond
;; between two radicals of n/2 carbons, or a carbon with four radicals of
;; fewer than n/2 carbons each (less than or equal when n is odd).

;; Radicals of each size up to `max`: a vector of vectors.
(define (make-radicals max)
  (let ((rads (make-vector (+ max 1) '#())))
    (vector-set! rads 0 (vector 'h))
    (do ((k 1 (+ k 1))) ((> k max) rads)
      (let ((acc '()))
        (do ((i 0 (+ i 1))) ((> (* 3 i) (- k 1)))
          (do ((j i (+ j 1))) ((> (+ i j j) (- k 1)))
            (let ((l (- k 1 i j)))
              (let ((ri (vector-ref rads i)) (rj (vector-ref rads j)) (rl (vector-ref rads l)))
                (do ((a 0 (+ a 1))) ((= a (vector-length ri)))
                  (do ((b (if (= i j) a 0) (+ b 1))) ((= b (vector-length rj)))
                    (do ((c (if (= j l) b 0) (+ c 1))) ((= c (vector-length rl)))
                      (set! acc (cons (list 'c (vector-ref ri a) (vector-ref rj b) (vector-ref rl c))
                                      acc)))))))))
        (vector-set! rads k (list->vector (reverse acc)))))))

(define (bond-centred rads n)
  (if (odd? n)
      '()
      (let ((r (vector-ref rads (quotient n 2))) (acc '()))
        (do ((a 0 (+ a 1))) ((= a (vector-length r)) acc)
          (do ((b a (+ b 1))) ((= b (vector-length r)))
            (set! acc (cons (list 'bond (vector-ref r a) (vector-ref r b)) acc)))))))

(define (carbon-centred rads n)
  (let ((limit (quotient (- n 1) 2)) (acc '()))
    (do ((i 0 (+ i 1))) ((> (* 4 i) (- n 1)) acc)
      (do ((j i (+ j 1))) ((> (+ i (* 3 j)) (- n 1)))
        (do ((k j (+ k 1))) ((> (+ i j (* 2 k)) (- n 1)))
          (let ((l (- n 1 i j k)))
            (cond
             ((<= l limit)
              (let ((ri (vector-ref rads i)) (rj (vector-ref rads j))
                    (rk (vector-ref rads k)) (rl (vector-ref rads l)))
                (do ((a 0 (+ a 1))) ((= a (vector-length ri)))
                  (do ((b (if (= i j) a 0) (+ b 1))) ((= b (vector-length rj)))
                    (do ((c (if (= j k) b 0) (+ c 1))) ((= c (vector-length rk)))
                      (do ((d (if (= k l) c 0) (+ d 1))) ((= d (vector-length rl)))
                        (set! acc (cons (list 'c (vector-ref ri a) (vector-ref rj b)
                                              (vector-ref rk c) (vector-ref rl d))
                                        acc)))))))))))))))

(define (paraffins n)
  (let ((rads (make-radicals (quotient n 2))))
    (append (bond-centred rads n) (carbon-centred rads n))))

(define (bench-main n reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (loop (+ r 1)
              (let count ((k 1) (acc '()))
                (if (> k n)
                    (reverse acc)
                    (count (+ k 1) (cons (length (paraffins k)) acc))))))))
