;; SRFI 28: basic format strings (docs/srfi.md). SRFI 48's `format` is a
;; superset; re-exporting it keeps one binding when both are imported.
(define-library (srfi 28)
  (export format)
  (import (srfi 48)))
