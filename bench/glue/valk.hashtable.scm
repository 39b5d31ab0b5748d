;; Valk's built-in hash tables (docs/hash-tables.md), R6RS names.
(define (bench-make-string-table) (make-hashtable string-hash string=?))
(define (bench-make-fixnum-table) (make-eqv-hashtable))
(define (bench-table-set! t k v) (hashtable-set! t k v))
(define (bench-table-ref t k d) (hashtable-ref t k d))
