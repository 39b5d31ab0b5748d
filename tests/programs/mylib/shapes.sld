(define-library (mylib shapes)
  (export make-shape shape-area shape-name describe swap! version)
  (import (scheme base) (scheme write) (mylib util))
  (include "common.scm")
  (cond-expand
    (valk (begin (define implementation "valk")))
    (else (begin (define implementation "other"))))
  (begin
    (define-record-type shape (make-shape name w h) shape? (name shape-name) (w shape-w) (h shape-h))
    (define (shape-area s) (* (shape-w s) (shape-h s)))
    (define (version) (string-append implementation " " library-version))
    ;; Uses (mylib util)'s `double` and its macro `inc!`.
    (define (describe s)
      (let ((n 0))
        (inc! n (double (clamp (shape-area s) 0 100)))
        (display (shape-name s)) (display ": ") (display n) (newline)))
    (define-syntax swap!
      (syntax-rules ()
        ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))))
