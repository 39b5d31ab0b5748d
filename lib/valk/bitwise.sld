;;; (valk bitwise): bitwise operations on exact integers of any size (also in (srfi 151)).
;;; (valk core) has these and everything else (docs/libraries.md).
(define-library (valk bitwise)
  (import (valk core))
  (export
    arithmetic-shift bit-count bitwise-and bitwise-ior bitwise-not bitwise-xor
    integer-length))
