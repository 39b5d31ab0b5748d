;; Guile's native hash tables: hash-set!/hash-ref (equal?) for strings,
;; hashv-set!/hashv-ref for fixnums; the glue picks by key type.
(define (bench-make-string-table) (make-hash-table))
(define (bench-make-fixnum-table) (make-hash-table))
(define (bench-table-set! t k v)
  (if (string? k) (hash-set! t k v) (hashv-set! t k v)))
(define (bench-table-ref t k d)
  (if (string? k) (hash-ref t k d) (hashv-ref t k d)))
