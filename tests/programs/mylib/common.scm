;; Shared by (mylib util) and (mylib shapes) through `include`.
(define library-version "1.2")
(define (clamp x lo hi) (max lo (min hi x)))
