;;; (scheme repl): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme repl)
  (import (valk core))
  (export
    interaction-environment))
