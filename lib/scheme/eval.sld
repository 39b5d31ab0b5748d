;;; (scheme eval): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme eval)
  (import (valk core))
  (export
    eval environment))
