;;; (scheme inexact): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme inexact)
  (import (valk core))
  (export
    acos asin atan cos exp finite? infinite? log nan? sin sqrt tan))
