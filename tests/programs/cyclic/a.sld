(define-library (cyclic a)
  (export a)
  (import (scheme base) (cyclic b))
  (begin (define a 1)))
