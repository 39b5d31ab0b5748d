;;; hashtable: insert 1 million string keys and 1 million fixnum keys into
;;; hash tables (string=? and eqv?), then look each one up, plus a million
;;; fixnum misses (string hashing, probing, growth).
;;; args: (1000000)
;;; expect: (1000000 499999500000 1000000 499999500000 0)
;;; quick-args: (1000)
;;; quick-expect: (1000 499500 1000 499500 0)
;;; glue: hashtable
;; The tables come from each implementation's own hash tables, named
;; through the glue (bench-make-string-table, bench-make-fixnum-table,
;; bench-table-set!, bench-table-ref). Lookups use freshly built strings,
;; so string keys are compared by contents.

;; A key: "k" and the base-26 digits of 7i, as letters.
(define (key i)
  (let ((s (make-string 7 #\k)))
    (let loop ((j 6) (x (* i 7)))
      (cond ((> j 0)
             (string-set! s j (integer->char (+ 97 (remainder x 26))))
             (loop (- j 1) (quotient x 26)))))
    s))

(define (next x) (remainder (* x 16807) 2147483647))

(define (bench-main n)
  (let ((st (bench-make-string-table))
        (ft (bench-make-fixnum-table)))
    (do ((i 0 (+ i 1))) ((= i n))
      (bench-table-set! st (key i) i))
    (do ((i 0 (+ i 1)) (x 1 (next x))) ((= i n))
      (bench-table-set! ft x i))
    (let loop ((i 0) (x 1) (sfound 0) (ssum 0) (ffound 0) (fsum 0) (misses 0))
      (if (= i n)
          (list sfound ssum ffound fsum misses)
          (let ((sv (bench-table-ref st (key i) #f))
                (fv (bench-table-ref ft x #f))
                ;; negative fixnums are never stored
                (m (bench-table-ref ft (- x) #f)))
            (loop (+ i 1) (next x)
                  (if sv (+ sfound 1) sfound) (if sv (+ ssum sv) ssum)
                  (if fv (+ ffound 1) ffound) (if fv (+ fsum fv) fsum)
                  (if m (+ misses 1) misses)))))))
