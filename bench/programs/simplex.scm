;;; simplex: solve a dense linear program with the tableau simplex method
;;; (flonum vectors of vectors, pivoting), repeated.
;;; args: (30 40 100)
;;; expect: (817227 34)
;;; quick-args: (4 5 1)
;;; quick-expect: (1225561 4)
;; Maximise c.x subject to A x <= b, x >= 0, with b >= 0 so the slack
;; variables give the first basis.  Bland's rule (lowest index) picks the
;; entering and leaving variables, so the method never cycles.  The result
;; is (round(1000 * optimum) pivots).

(define (make-tableau m n)
  ;; Rows 0..m-1 are constraints [A | I | b]; row m is the objective.
  ;; Coefficients come from a linear congruential generator.
  (let ((t (make-vector (+ m 1) #f))
        (width (+ n m 1))
        (x 42))
    (define (next! k)
      (set! x (remainder (* x 16807) 2147483647))
      (remainder x k))
    (do ((i 0 (+ i 1))) ((> i m) t)
      (let ((row (make-vector width 0.0)))
        (cond ((< i m)
               (do ((j 0 (+ j 1))) ((= j n))
                 (vector-set! row j (exact->inexact (+ 1 (next! 50)))))
               (vector-set! row (+ n i) 1.0)
               (vector-set! row (- width 1) (exact->inexact (+ 500 (next! 1000)))))
              (else
               (do ((j 0 (+ j 1))) ((= j n))
                 (vector-set! row j (- (exact->inexact (+ 1 (next! 30))))))))
        (vector-set! t i row)))))

(define eps 1e-9)

(define (entering-column obj width)
  (let loop ((j 0))
    (cond ((= j (- width 1)) #f)
          ((< (vector-ref obj j) (- eps)) j)
          (else (loop (+ j 1))))))

(define (leaving-row t m col width)
  (let loop ((i 0) (best #f) (best-ratio 0.0))
    (if (= i m)
        best
        (let* ((row (vector-ref t i))
               (a (vector-ref row col)))
          (if (> a eps)
              (let ((ratio (/ (vector-ref row (- width 1)) a)))
                (if (or (not best) (< ratio best-ratio))
                    (loop (+ i 1) i ratio)
                    (loop (+ i 1) best best-ratio)))
              (loop (+ i 1) best best-ratio))))))

(define (pivot! t m r c width)
  (let* ((prow (vector-ref t r))
         (p (vector-ref prow c)))
    (do ((j 0 (+ j 1))) ((= j width))
      (vector-set! prow j (/ (vector-ref prow j) p)))
    (do ((i 0 (+ i 1))) ((> i m))
      (cond ((not (= i r))
             (let* ((row (vector-ref t i))
                    (f (vector-ref row c)))
               (cond ((not (= f 0.0))
                      (do ((j 0 (+ j 1))) ((= j width))
                        (vector-set! row j (- (vector-ref row j)
                                              (* f (vector-ref prow j)))))))))))))

(define (simplex m n)
  (let ((t (make-tableau m n))
        (width (+ n m 1)))
    (let loop ((pivots 0))
      (let ((c (entering-column (vector-ref t m) width)))
        (if (not c)
            (list (exact (round (* 1000.0 (vector-ref (vector-ref t m) (- width 1)))))
                  pivots)
            (let ((r (leaving-row t m c width)))
              (if (not r)
                  (list 'unbounded pivots)
                  (begin (pivot! t m r c width)
                         (loop (+ pivots 1))))))))))

(define (bench-main m n reps)
  (let loop ((k 1) (result #f))
    (if (> k reps)
        result
        (loop (+ k 1) (simplex m n)))))
