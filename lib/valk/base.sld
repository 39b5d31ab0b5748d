;;; (valk base): the rest of Valk's extensions.
;;; (valk core) has these and everything else (docs/libraries.md).
(define-library (valk base)
  (import (valk core))
  (export
    assert error-object-backtrace exact-rational? gensym string->uninterned-symbol subvector
    void))
