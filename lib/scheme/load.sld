;;; (scheme load): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme load)
  (import (valk core))
  (export
    load))
