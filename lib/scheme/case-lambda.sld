;;; (scheme case-lambda): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme case-lambda)
  (import (valk core))
  (export
    case-lambda))
