;; CHICKEN 5 strings hold UTF-8 bytes and string-length counts bytes
;; (Unicode strings need the utf8 egg, which Debian does not package).
;; Programs that read UTF-8 text (`;;; glue: unicode`) get a string-length
;; that counts characters, i.e. the bytes that do not continue a UTF-8
;; sequence, so that their results match the other implementations; it
;; costs one scan of each string.
;; (Not integrated: csc would otherwise inline the builtin.)
(declare (not usual-integrations string-length))
(define (string-length s)
  (let ((n (##sys#size s)))
    (let loop ((i 0) (k 0))
      (if (= i n)
          k
          (let ((b (char->integer (string-ref s i))))
            (loop (+ i 1) (if (and (>= b 128) (< b 192)) k (+ k 1))))))))
