;; SRFI 1: list library (docs/srfi.md).
(define-library (srfi 1)
  (export
   ;; constructors
   cons list xcons cons* make-list list-tabulate list-copy circular-list iota
   ;; predicates
   pair? null? proper-list? circular-list? dotted-list? not-pair? null-list? list=
   ;; selectors
   car cdr caar cadr cdar cddr caaar caadr cadar caddr cdaar cdadr cddar cdddr
   caaaar caaadr caadar caaddr cadaar cadadr caddar cadddr
   cdaaar cdaadr cdadar cdaddr cddaar cddadr cdddar cddddr
   list-ref first second third fourth fifth sixth seventh eighth ninth tenth
   car+cdr take drop take-right drop-right take! drop-right! split-at split-at!
   last last-pair
   ;; miscellaneous
   length length+ append concatenate reverse append! concatenate! reverse!
   append-reverse append-reverse! zip unzip1 unzip2 unzip3 unzip4 unzip5 count
   ;; fold, unfold, map
   fold unfold pair-fold reduce fold-right unfold-right pair-fold-right reduce-right
   append-map append-map! pair-for-each filter-map map-in-order map map! for-each
   ;; filtering, partitioning, searching
   filter partition remove filter! partition! remove!
   member memq memv find find-tail any every list-index
   take-while drop-while take-while! span break span! break!
   ;; deletion
   delete delete-duplicates delete! delete-duplicates!
   ;; association lists
   assoc assq assv alist-cons alist-copy alist-delete alist-delete!
   ;; lists as sets
   lset<= lset= lset-adjoin lset-union lset-intersection lset-difference lset-xor
   lset-diff+intersection lset-union! lset-intersection! lset-difference! lset-xor!
   lset-diff+intersection!
   ;; mutators
   set-car! set-cdr!)
  (import (valk core))
  (include "1.scm"))
