;;; (scheme read): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme read)
  (import (valk core))
  (export
    read))
