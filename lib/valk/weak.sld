;;; (valk weak): weak pairs, ephemerons (SRFI 124), guardians, weak hash
;;; tables and explicit collections (docs/gc.md, "Weak references,
;;; ephemerons and guardians"). (valk core) has these too.
(define-library (valk weak)
  (import (valk core))
  (export
    weak-cons weak-pair? weak-car weak-cdr weak-set-car! weak-set-cdr!
    bwp-object?
    make-ephemeron ephemeron? ephemeron-key ephemeron-datum
    ephemeron-broken? reference-barrier
    make-guardian guardian?
    make-weak-eq-hashtable make-weak-eqv-hashtable
    make-ephemeron-eq-hashtable make-ephemeron-eqv-hashtable
    hashtable-weak?
    collect))
