;; A library with private helpers used by an exported macro.
(define-library (mylib util)
  (export double square-all (rename checked-inc safe-inc) while inc!)
  (import (scheme base))
  (include "common.scm")
  (begin
    ;; Private: not exported, used by the exported macro `inc!`.
    (define (helper-add x n) (+ x n))
    (define (double x) (* 2 x))
    (define (square-all xs) (map (lambda (x) (* x x)) xs))
    (define (checked-inc x)
      (if (number? x) (helper-add x 1) (error "checked-inc: not a number" x)))
    (define-syntax inc!
      (syntax-rules ()
        ((_ v) (set! v (helper-add v 1)))
        ((_ v n) (set! v (helper-add v n)))))
    ;; A loop macro that binds a name the user cannot see (`loop`).
    (define-syntax while
      (syntax-rules ()
        ((_ c body ...) (let loop () (when c body ... (loop))))))))
