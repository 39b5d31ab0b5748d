;;; (scheme lazy): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme lazy)
  (import (valk core))
  (export
    delay force delay-force make-promise promise?))
