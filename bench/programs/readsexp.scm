;;; readsexp: read a file of S-expressions with read (data-file records:
;;; nested lists, symbols, strings with escapes, fixnums, flonums,
;;; booleans, characters, vectors, comments) and walk every datum.
;;; args: ()
;;; expect: (52030 1511252 476272 523270 2861999 126147 1306399 63217 104049104 263095 6286102879857 126589 946226620337 31683 31622 52566 131179)
;;; quick-args: ()
;;; quick-expect: (271 7607 2398 2656 14735 632 6776 320 660128 1336 32886372768 580 2846335414 163 148 261 616)
;;; input: sexp 10000000
;;; quick-input: sexp 50000
;;; glue: unicode
;; The harness generates data.sexp (see bench/src/inputs.rs) and runs the
;; program in its directory.  The result counts what `read` built:
;; (datums pairs empty-lists symbols symbol-chars strings string-chars
;;  chars char-codes fixnums fixnum-sum flonums flonum-sum-x1000 trues
;;  falses vectors vector-elements)

(define (bump! counts i k)
  (vector-set! counts i (+ (vector-ref counts i) k)))

(define (walk x counts)
  (cond ((pair? x)
         (bump! counts 1 1)
         (walk (car x) counts)
         (walk (cdr x) counts))
        ((null? x) (bump! counts 2 1))
        ((symbol? x)
         (bump! counts 3 1)
         (bump! counts 4 (string-length (symbol->string x))))
        ((string? x)
         (bump! counts 5 1)
         (bump! counts 6 (string-length x)))
        ((char? x)
         (bump! counts 7 1)
         (bump! counts 8 (char->integer x)))
        ((and (integer? x) (exact? x))
         (bump! counts 9 1)
         (bump! counts 10 x))
        ((real? x)
         (bump! counts 11 1)
         (bump! counts 12 (exact (round (* 1000 x)))))
        ((eq? x #t) (bump! counts 13 1))
        ((eq? x #f) (bump! counts 14 1))
        ((vector? x)
         (bump! counts 15 1)
         (bump! counts 16 (vector-length x))
         (let loop ((i 0))
           (cond ((< i (vector-length x))
                  (walk (vector-ref x i) counts)
                  (loop (+ i 1))))))
        (else (error "unexpected datum" x))))

(define (bench-main)
  (call-with-input-file "data.sexp"
    (lambda (port)
      (let ((counts (make-vector 17 0)))
        (let loop ()
          (let ((datum (read port)))
            (cond ((eof-object? datum) (vector->list counts))
                  (else
                   (bump! counts 0 1)
                   (walk datum counts)
                   (loop)))))))))
