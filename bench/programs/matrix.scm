;;; matrix: multiply square matrices of fixnums modulo a prime, computing
;;; a power of a matrix by repeated multiplication (vectors of vectors,
;;; nested loops, fixnum arithmetic).
;;; args: (60 100)
;;; expect: (377905 477358)
;;; quick-args: (4 3)
;;; quick-expect: (754812 313778)
;; The result is the trace and the top-right entry of A^(e+1), modulo p.

(define p 1000003)

(define (make-matrix n init)
  (let ((m (make-vector n #f)))
    (do ((i 0 (+ i 1))) ((= i n) m)
      (let ((row (make-vector n 0)))
        (do ((j 0 (+ j 1))) ((= j n))
          (vector-set! row j (init i j)))
        (vector-set! m i row)))))

(define (matrix-multiply a b n)
  (make-matrix n
               (lambda (i j)
                 (let ((row (vector-ref a i)))
                   (let loop ((k 0) (acc 0))
                     (if (= k n)
                         (remainder acc p)
                         (loop (+ k 1)
                               (+ acc (* (vector-ref row k)
                                         (vector-ref (vector-ref b k) j))))))))))

(define (matrix-trace m n)
  (let loop ((i 0) (acc 0))
    (if (= i n) (remainder acc p) (loop (+ i 1) (+ acc (vector-ref (vector-ref m i) i))))))

(define (bench-main n e)
  (let ((a (make-matrix n (lambda (i j) (remainder (+ (* i 31) (* j 17) (* i j 7) 3) 1000)))))
    (let loop ((k 0) (m a))
      (if (= k e)
          (list (matrix-trace m n) (vector-ref (vector-ref m 0) (- n 1)))
          (loop (+ k 1) (matrix-multiply m a n))))))
