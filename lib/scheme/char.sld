;;; (scheme char): the identifiers R7RS-small (section 7.3, appendix A) lists for it.
(define-library (scheme char)
  (import (valk core))
  (export
    char-alphabetic? char-ci<=? char-ci<? char-ci=? char-ci>=? char-ci>?
    char-downcase char-foldcase char-lower-case? char-numeric? char-upcase
    char-upper-case? char-whitespace? digit-value string-ci<=? string-ci<?
    string-ci=? string-ci>=? string-ci>? string-downcase string-foldcase
    string-upcase))
