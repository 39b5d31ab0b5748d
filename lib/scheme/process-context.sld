;;; (scheme process-context): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme process-context)
  (import (valk core))
  (export
    get-environment-variable get-environment-variables command-line exit
    emergency-exit))
