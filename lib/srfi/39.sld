;; SRFI 39: parameter objects (docs/srfi.md). Both names are core.
(define-library (srfi 39)
  (export make-parameter parameterize)
  (import (valk core)))
