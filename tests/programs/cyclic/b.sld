(define-library (cyclic b)
  (export b)
  (import (scheme base) (cyclic a))
  (begin (define b 2)))
