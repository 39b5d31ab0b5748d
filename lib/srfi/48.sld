;; SRFI 48: intermediate format strings (docs/srfi.md).
(define-library (srfi 48)
  (export format)
  (import (valk core))
  (include "48.scm"))
