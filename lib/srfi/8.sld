;; SRFI 8: receive (docs/srfi.md). `receive` is a core special form.
(define-library (srfi 8)
  (export receive)
  (import (valk core)))
