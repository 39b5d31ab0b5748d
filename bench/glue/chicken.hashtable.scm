;; CHICKEN 5 ships SRFI 69 as an egg (not installed with Debian's
;; chicken-bin), so this is a plain chained table: a vector of bucket
;; alists, doubled when full.
(import (chicken fixnum))
(define-record-type bench-table (bench-table-make hash same buckets count)
  bench-table?
  (hash bench-table-hash)
  (same bench-table-same)
  (buckets bench-table-buckets bench-table-buckets-set!)
  (count bench-table-count bench-table-count-set!))
(define (bench-string-hash s)
  (let loop ((i 0) (h 0))
    (if (= i (string-length s))
        h
        (loop (+ i 1) (fxand (+ (* h 31) (char->integer (string-ref s i))) #x3ffffff)))))
(define (bench-fixnum-hash x) (fxand (* (abs x) 40503) #x3ffffff))
(define (bench-make-string-table) (bench-table-make bench-string-hash string=? (make-vector 16 '()) 0))
(define (bench-make-fixnum-table) (bench-table-make bench-fixnum-hash = (make-vector 16 '()) 0))
(define (bench-bucket t k)
  (remainder ((bench-table-hash t) k) (vector-length (bench-table-buckets t))))
(define (bench-find t k)
  (let ((same (bench-table-same t)))
    (let loop ((l (vector-ref (bench-table-buckets t) (bench-bucket t k))))
      (cond ((null? l) #f) ((same (caar l) k) (car l)) (else (loop (cdr l)))))))
(define (bench-table-ref t k d)
  (let ((e (bench-find t k))) (if e (cdr e) d)))
(define (bench-grow! t)
  (let* ((old (bench-table-buckets t)) (n (* 2 (vector-length old))))
    (bench-table-buckets-set! t (make-vector n '()))
    (do ((i 0 (+ i 1))) ((= i (vector-length old)))
      (for-each (lambda (e)
                  (let ((b (bench-bucket t (car e))))
                    (vector-set! (bench-table-buckets t) b
                                 (cons e (vector-ref (bench-table-buckets t) b)))))
                (vector-ref old i)))))
(define (bench-table-set! t k v)
  (let ((e (bench-find t k)))
    (if e
        (set-cdr! e v)
        (begin
          (if (> (bench-table-count t) (vector-length (bench-table-buckets t)))
              (bench-grow! t))
          (let ((b (bench-bucket t k)))
            (vector-set! (bench-table-buckets t) b
                         (cons (cons k v) (vector-ref (bench-table-buckets t) b))))
          (bench-table-count-set! t (+ 1 (bench-table-count t)))))))
