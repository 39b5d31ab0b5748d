;; Racket's mutable hash tables (equal?-based for strings).
(define (bench-make-string-table) (make-hash))
(define (bench-make-fixnum-table) (make-hasheqv))
(define (bench-table-set! t k v) (hash-set! t k v))
(define (bench-table-ref t k d) (hash-ref t k d))
