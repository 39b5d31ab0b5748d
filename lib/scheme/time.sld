;;; (scheme time): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme time)
  (import (valk core))
  (export
    current-second current-jiffy jiffies-per-second))
