;;; (scheme cxr): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme cxr)
  (import (valk core))
  (export
    caaar caadr cadar caddr cdaar cdadr cddar cdddr caaaar caaadr caadar
    caaddr cadaar cadadr caddar cadddr cdaaar cdaadr cdadar cdaddr cddaar
    cddadr cdddar cddddr))
