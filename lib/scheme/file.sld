;;; (scheme file): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme file)
  (import (valk core))
  (export
    call-with-input-file call-with-output-file delete-file file-exists?
    open-binary-input-file open-binary-output-file open-input-file
    open-output-file with-input-from-file with-output-to-file))
