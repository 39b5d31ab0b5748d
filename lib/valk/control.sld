;;; (valk control): Valk's control forms: delimited continuations and `fun`.
;;; (valk core) has these and everything else (docs/libraries.md).
(define-library (valk control)
  (import (valk core))
  (export
    shift reset fun))
