;;; (scheme complex): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme complex)
  (import (valk core))
  (export
    angle imag-part magnitude make-polar make-rectangular real-part))
