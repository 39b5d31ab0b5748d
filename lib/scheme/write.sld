;;; (scheme write): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme write)
  (import (valk core))
  (export
    display write write-shared write-simple))
