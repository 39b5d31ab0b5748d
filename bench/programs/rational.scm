;;; rational: exact rational arithmetic: the sum of the harmonic numbers
;;; H(1) ... H(N), and Gaussian elimination on the Hilbert matrix of size K
;;; (normalised fractions, gcds of growing bignums).
;;; args: (1200 50)
;;; expect: (521 517 #t #t 1466)
;;; quick-args: (50 5)
;;; quick-expect: (23 20 #t #t 12)
(define (harmonic-sum n)
  ;; Returns (H(n) . H(1) + ... + H(n)).
  (let loop ((k 1) (h 0) (sum 0))
    (if (> k n)
        (cons h sum)
        (let ((h (+ h (/ 1 k))))
          (loop (+ k 1) h (+ sum h))))))

(define (integer-digits n)
  (string-length (number->string (abs n))))

(define (hilbert-row i k)
  ;; Row i of the Hilbert matrix augmented by the row sum (the right-hand
  ;; side whose solution is all ones).
  (let ((row (make-vector (+ k 1) 0)))
    (do ((j 0 (+ j 1))) ((= j k) row)
      (let ((x (/ 1 (+ i j 1))))
        (vector-set! row j x)
        (vector-set! row k (+ (vector-ref row k) x))))))

(define (gauss-solve! m k)
  ;; Gauss-Jordan elimination in place on the k x (k+1) matrix m (no
  ;; pivoting needed: the Hilbert matrix is positive definite). Returns
  ;; (determinant . solution list).
  (let loop ((col 0) (det 1))
    (if (= col k)
        (let collect ((i (- k 1)) (xs '()))
          (if (< i 0)
              (cons det xs)
              (let ((row (vector-ref m i)))
                (collect (- i 1) (cons (/ (vector-ref row k) (vector-ref row i)) xs)))))
        (let* ((pivot-row (vector-ref m col))
               (pivot (vector-ref pivot-row col)))
          (do ((i 0 (+ i 1))) ((= i k))
            (cond ((not (= i col))
                   (let* ((row (vector-ref m i))
                          (factor (/ (vector-ref row col) pivot)))
                     (do ((j col (+ j 1))) ((> j k))
                       (vector-set! row j (- (vector-ref row j)
                                             (* factor (vector-ref pivot-row j)))))))))
          (loop (+ col 1) (* det pivot))))))

(define (hilbert-solve k)
  (let ((m (make-vector k #f)))
    (do ((i 0 (+ i 1))) ((= i k))
      (vector-set! m i (hilbert-row i k)))
    (gauss-solve! m k)))

;; Result: the digit counts of the numerator and denominator of
;; H(1) + ... + H(N) and whether it equals (N+1) H(N) - N; then, for the
;; Hilbert system, whether the solution is all ones and the digit count of
;; 1/det.
(define (bench-main n k)
  (let* ((hs (harmonic-sum n))
         (h (car hs))
         (sum (cdr hs))
         (solved (hilbert-solve k)))
    (list (integer-digits (numerator sum))
          (integer-digits (denominator sum))
          (= sum (- (* (+ n 1) h) n))
          (let all-ones ((xs (cdr solved)))
            (cond ((null? xs) #t)
                  ((= (car xs) 1) (all-ones (cdr xs)))
                  (else #f)))
          (integer-digits (/ 1 (car solved))))))
