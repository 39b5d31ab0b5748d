(define-library (mylib stack)
  (export make push! pop! empty? size)
  (import (scheme base))
  (begin
    ;; `make`, `size` etc. are private names of this library: they do not
    ;; clash with anything the program defines.
    (define (make) (list '*stack*))
    (define (push! s x) (set-cdr! s (cons x (cdr s))))
    (define (pop! s)
      (if (null? (cdr s)) (error "pop!: empty stack")
          (let ((x (cadr s))) (set-cdr! s (cddr s)) x)))
    (define (empty? s) (null? (cdr s)))
    (define (size s) (length (cdr s)))))
