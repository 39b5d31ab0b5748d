;; Gambit's tables.
(define (bench-make-string-table) (make-table test: string=?))
(define (bench-make-fixnum-table) (make-table test: eqv?))
(define (bench-table-set! t k v) (table-set! t k v))
(define (bench-table-ref t k d) (table-ref t k d))
