;;; (valk lists): Valk's list procedures beyond R7RS (most agree with SRFI 1's).
;;; (valk core) has these and everything else (docs/libraries.md).
(define-library (valk lists)
  (import (valk core))
  (export
    any append-map count delete delete-duplicates drop every filter filter-map
    find find-tail fold fold-left fold-right iota last last-pair list-index
    partition reduce remove take sort list-sort vector-sort))
