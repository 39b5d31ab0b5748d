;;; (valk strings): Valk's string procedures beyond R7RS, and string ports by procedure.
;;; (valk core) has these and everything else (docs/libraries.md).
(define-library (valk strings)
  (import (valk core))
  (export
    string-contains string-index string-join string-null? string-split
    call-with-output-string with-output-to-string with-input-from-string))
