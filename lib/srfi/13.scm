;;; SRFI 13: string library (docs/srfi.md). Valk has no SRFI 14 char-sets,
;;; so a "char/char-set/pred" argument is a character or a predicate. The
;;; R7RS string procedures come from the core (13.sld re-exports them);
;;; procedures taking optional start/end parse them with %s13-range.
;;; string-upcase/string-downcase use the core's full Unicode mappings
;;; (docs/unicode.md), imported as %core-string-upcase/-downcase; the `!`
;;; variants map character by character, since they cannot change length.

;; ---- argument helpers ----

(define (%s13-range who s rest)
  (let* ((len (string-length s))
         (start (if (pair? rest) (car rest) 0))
         (end (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) len)))
    (unless (and (exact-integer? start) (exact-integer? end) (<= 0 start end len))
      (error (string-append (symbol->string who) ": bad substring range") s start end))
    (values start end)))

(define (%s13-pred who c)
  (cond ((char? c) (lambda (x) (char=? x c)))
        ((procedure? c) c)
        (else (error (string-append (symbol->string who)
                                    ": expected a character or a predicate")
                     c))))

(define (%s13-sub s start end)
  (if (and (= start 0) (= end (string-length s))) s (substring s start end)))

;; ---- SRFI 13's own argument-parsing utilities ----

(define (string-parse-start+end proc s args)
  (unless (string? s) (error "string-parse-start+end: not a string" proc s))
  (let ((len (string-length s)))
    (if (pair? args)
        (let ((start (car args)) (args (cdr args)))
          (unless (and (exact-integer? start) (<= 0 start len))
            (error "bad start index" proc start))
          (if (pair? args)
              (let ((end (car args)))
                (unless (and (exact-integer? end) (<= start end len))
                  (error "bad end index" proc end))
                (values (cdr args) start end))
              (values '() start len)))
        (values '() 0 len))))

(define (string-parse-final-start+end proc s args)
  (call-with-values (lambda () (string-parse-start+end proc s args))
    (lambda (rest start end)
      (if (pair? rest)
          (error "too many arguments" proc rest)
          (values start end)))))

(define-syntax let-string-start+end
  (syntax-rules ()
    ((_ (start end rest) proc s args body ...)
     (call-with-values (lambda () (string-parse-start+end proc s args))
       (lambda (rest start end) body ...)))
    ((_ (start end) proc s args body ...)
     (call-with-values (lambda () (string-parse-final-start+end proc s args))
       (lambda (start end) body ...)))))

(define (substring-spec-ok? s start end)
  (and (string? s) (exact-integer? start) (exact-integer? end)
       (<= 0 start end (string-length s))))

(define (check-substring-spec proc s start end)
  (unless (substring-spec-ok? s start end)
    (error "illegal substring spec" proc s start end)))

;; ---- predicates ----

(define (string-every c s . rest)
  (let ((pred (%s13-pred 'string-every c)))
    (call-with-values (lambda () (%s13-range 'string-every s rest))
      (lambda (start end)
        (let loop ((i start) (last #t))
          (if (< i end)
              (let ((r (pred (string-ref s i)))) (and r (loop (+ i 1) r)))
              last))))))

(define (string-any c s . rest)
  (let ((pred (%s13-pred 'string-any c)))
    (call-with-values (lambda () (%s13-range 'string-any s rest))
      (lambda (start end)
        (let loop ((i start))
          (and (< i end) (or (pred (string-ref s i)) (loop (+ i 1)))))))))

;; ---- constructors, conversion ----

(define (string-tabulate proc len)
  (let ((s (make-string len)))
    (do ((i 0 (+ i 1))) ((= i len) s)
      (string-set! s i (proc i)))))

(define (reverse-list->string chars) (list->string (reverse chars)))

(define (string-join strings . rest)
  (let ((delim (if (pair? rest) (car rest) " "))
        (grammar (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) 'infix)))
    (define (joined l)
      (let loop ((l (cdr l)) (acc (list (car l))))
        (if (pair? l) (loop (cdr l) (cons (car l) (cons delim acc))) (reverse acc))))
    (cond ((null? strings)
           (if (eq? grammar 'strict-infix)
               (error "string-join: empty list with strict-infix grammar")
               ""))
          ((eq? grammar 'infix) (apply string-append (joined strings)))
          ((eq? grammar 'strict-infix) (apply string-append (joined strings)))
          ((eq? grammar 'prefix) (apply string-append delim (joined strings)))
          ((eq? grammar 'suffix) (string-append (apply string-append (joined strings)) delim))
          (else (error "string-join: bad grammar" grammar)))))

;; ---- selection ----

(define (substring/shared s start . maybe-end)
  (substring s start (if (pair? maybe-end) (car maybe-end) (string-length s))))

(define (string-take s n) (substring s 0 n))
(define (string-drop s n) (substring s n (string-length s)))
(define (string-take-right s n)
  (let ((len (string-length s))) (substring s (- len n) len)))
(define (string-drop-right s n) (substring s 0 (- (string-length s) n)))

(define (string-pad s n . rest)
  (let ((c (if (pair? rest) (car rest) #\space)))
    (call-with-values (lambda () (%s13-range 'string-pad s (if (pair? rest) (cdr rest) '())))
      (lambda (start end)
        (let ((len (- end start)))
          (if (>= len n)
              (substring s (- end n) end)
              (string-append (make-string (- n len) c) (substring s start end))))))))

(define (string-pad-right s n . rest)
  (let ((c (if (pair? rest) (car rest) #\space)))
    (call-with-values (lambda () (%s13-range 'string-pad-right s (if (pair? rest) (cdr rest) '())))
      (lambda (start end)
        (let ((len (- end start)))
          (if (>= len n)
              (substring s start (+ start n))
              (string-append (substring s start end) (make-string (- n len) c))))))))

(define (%s13-trim who s rest left? right?)
  (let ((pred (%s13-pred who (if (pair? rest) (car rest) char-whitespace?))))
    (call-with-values (lambda () (%s13-range who s (if (pair? rest) (cdr rest) '())))
      (lambda (start end)
        (let* ((i (if left?
                      (let loop ((i start))
                        (if (and (< i end) (pred (string-ref s i))) (loop (+ i 1)) i))
                      start))
               (j (if right?
                      (let loop ((j end))
                        (if (and (> j i) (pred (string-ref s (- j 1)))) (loop (- j 1)) j))
                      end)))
          (substring s i j))))))

(define (string-trim s . rest) (%s13-trim 'string-trim s rest #t #f))
(define (string-trim-right s . rest) (%s13-trim 'string-trim-right s rest #f #t))
(define (string-trim-both s . rest) (%s13-trim 'string-trim-both s rest #t #t))

;; ---- comparison ----

;; The index in s1 of the first mismatch of the two ranges, and the order
;; there (-1, 0, 1) under char comparison `lt?`/`eq?`.
(define (%s13-compare s1 s2 rest char=? char<?)
  (let* ((len1 (string-length s1)) (len2 (string-length s2))
         (start1 (if (pair? rest) (car rest) 0))
         (rest (if (pair? rest) (cdr rest) '()))
         (end1 (if (pair? rest) (car rest) len1))
         (rest (if (pair? rest) (cdr rest) '()))
         (start2 (if (pair? rest) (car rest) 0))
         (rest (if (pair? rest) (cdr rest) '()))
         (end2 (if (pair? rest) (car rest) len2)))
    (unless (and (<= 0 start1 end1 len1) (<= 0 start2 end2 len2))
      (error "string comparison: bad substring range" start1 end1 start2 end2))
    (let loop ((i start1) (j start2))
      (cond ((= i end1) (values i (if (= j end2) 0 -1)))
            ((= j end2) (values i 1))
            (else
             (let ((a (string-ref s1 i)) (b (string-ref s2 j)))
               (cond ((char=? a b) (loop (+ i 1) (+ j 1)))
                     ((char<? a b) (values i -1))
                     (else (values i 1)))))))))

(define (string-compare s1 s2 proc< proc= proc> . rest)
  (call-with-values (lambda () (%s13-compare s1 s2 rest char=? char<?))
    (lambda (i order)
      (cond ((< order 0) (proc< i)) ((= order 0) (proc= i)) (else (proc> i))))))

(define (string-compare-ci s1 s2 proc< proc= proc> . rest)
  (call-with-values (lambda () (%s13-compare s1 s2 rest char-ci=? char-ci<?))
    (lambda (i order)
      (cond ((< order 0) (proc< i)) ((= order 0) (proc= i)) (else (proc> i))))))

(define (%s13-order s1 s2 rest ci?)
  (call-with-values
      (lambda () (if ci?
                     (%s13-compare s1 s2 rest char-ci=? char-ci<?)
                     (%s13-compare s1 s2 rest char=? char<?)))
    (lambda (i order) order)))

(define (string= s1 s2 . rest) (= 0 (%s13-order s1 s2 rest #f)))
(define (string<> s1 s2 . rest) (not (= 0 (%s13-order s1 s2 rest #f))))
(define (string< s1 s2 . rest) (< (%s13-order s1 s2 rest #f) 0))
(define (string> s1 s2 . rest) (> (%s13-order s1 s2 rest #f) 0))
(define (string<= s1 s2 . rest) (<= (%s13-order s1 s2 rest #f) 0))
(define (string>= s1 s2 . rest) (>= (%s13-order s1 s2 rest #f) 0))
(define (string-ci= s1 s2 . rest) (= 0 (%s13-order s1 s2 rest #t)))
(define (string-ci<> s1 s2 . rest) (not (= 0 (%s13-order s1 s2 rest #t))))
(define (string-ci< s1 s2 . rest) (< (%s13-order s1 s2 rest #t) 0))
(define (string-ci> s1 s2 . rest) (> (%s13-order s1 s2 rest #t) 0))
(define (string-ci<= s1 s2 . rest) (<= (%s13-order s1 s2 rest #t) 0))
(define (string-ci>= s1 s2 . rest) (>= (%s13-order s1 s2 rest #t) 0))

;; A polynomial hash kept in fixnum range by reducing at every step.
(define (%s13-hash who s rest fold)
  (let ((bound (if (and (pair? rest) (car rest)) (car rest) 4194304)))
    (unless (and (exact-integer? bound) (> bound 0))
      (error (string-append (symbol->string who) ": bad bound") bound))
    (call-with-values (lambda () (%s13-range who s (if (pair? rest) (cdr rest) '())))
      (lambda (start end)
        (let loop ((i start) (h 0))
          (if (< i end)
              (loop (+ i 1)
                    (modulo (+ (* h 31) (char->integer (fold (string-ref s i)))) 4294967291))
              (modulo h bound)))))))

;; string-hash is the core's (shared with SRFI 69), which takes the same
;; optional bound, start and end.
(define (string-hash-ci s . rest) (%s13-hash 'string-hash-ci s rest char-foldcase))

;; ---- prefixes and suffixes ----

(define (%s13-2ranges s1 s2 rest)
  (let* ((start1 (if (pair? rest) (car rest) 0)) (rest (if (pair? rest) (cdr rest) '()))
         (end1 (if (pair? rest) (car rest) (string-length s1))) (rest (if (pair? rest) (cdr rest) '()))
         (start2 (if (pair? rest) (car rest) 0)) (rest (if (pair? rest) (cdr rest) '()))
         (end2 (if (pair? rest) (car rest) (string-length s2))))
    (unless (and (<= 0 start1 end1 (string-length s1)) (<= 0 start2 end2 (string-length s2)))
      (error "bad substring range" start1 end1 start2 end2))
    (values start1 end1 start2 end2)))

(define (%s13-prefix-length s1 s2 rest same?)
  (call-with-values (lambda () (%s13-2ranges s1 s2 rest))
    (lambda (start1 end1 start2 end2)
      (let loop ((i start1) (j start2) (n 0))
        (if (and (< i end1) (< j end2) (same? (string-ref s1 i) (string-ref s2 j)))
            (loop (+ i 1) (+ j 1) (+ n 1))
            n)))))

(define (%s13-suffix-length s1 s2 rest same?)
  (call-with-values (lambda () (%s13-2ranges s1 s2 rest))
    (lambda (start1 end1 start2 end2)
      (let loop ((i (- end1 1)) (j (- end2 1)) (n 0))
        (if (and (>= i start1) (>= j start2) (same? (string-ref s1 i) (string-ref s2 j)))
            (loop (- i 1) (- j 1) (+ n 1))
            n)))))

(define (string-prefix-length s1 s2 . rest) (%s13-prefix-length s1 s2 rest char=?))
(define (string-suffix-length s1 s2 . rest) (%s13-suffix-length s1 s2 rest char=?))
(define (string-prefix-length-ci s1 s2 . rest) (%s13-prefix-length s1 s2 rest char-ci=?))
(define (string-suffix-length-ci s1 s2 . rest) (%s13-suffix-length s1 s2 rest char-ci=?))

(define (%s13-range1-length s1 rest)
  (call-with-values (lambda () (%s13-2ranges s1 "" (if (pair? rest) (list (car rest) (if (pair? (cdr rest)) (cadr rest) (string-length s1))) '())))
    (lambda (start1 end1 start2 end2) (- end1 start1))))

(define (string-prefix? s1 s2 . rest)
  (= (%s13-prefix-length s1 s2 rest char=?) (%s13-range1-length s1 rest)))
(define (string-suffix? s1 s2 . rest)
  (= (%s13-suffix-length s1 s2 rest char=?) (%s13-range1-length s1 rest)))
(define (string-prefix-ci? s1 s2 . rest)
  (= (%s13-prefix-length s1 s2 rest char-ci=?) (%s13-range1-length s1 rest)))
(define (string-suffix-ci? s1 s2 . rest)
  (= (%s13-suffix-length s1 s2 rest char-ci=?) (%s13-range1-length s1 rest)))

;; ---- searching ----

(define (string-index s c . rest)
  (let ((pred (%s13-pred 'string-index c)))
    (call-with-values (lambda () (%s13-range 'string-index s rest))
      (lambda (start end)
        (let loop ((i start))
          (cond ((>= i end) #f) ((pred (string-ref s i)) i) (else (loop (+ i 1)))))))))

(define (string-index-right s c . rest)
  (let ((pred (%s13-pred 'string-index-right c)))
    (call-with-values (lambda () (%s13-range 'string-index-right s rest))
      (lambda (start end)
        (let loop ((i (- end 1)))
          (cond ((< i start) #f) ((pred (string-ref s i)) i) (else (loop (- i 1)))))))))

(define (string-skip s c . rest)
  (let ((pred (%s13-pred 'string-skip c)))
    (apply string-index s (lambda (x) (not (pred x))) rest)))

(define (string-skip-right s c . rest)
  (let ((pred (%s13-pred 'string-skip-right c)))
    (apply string-index-right s (lambda (x) (not (pred x))) rest)))

(define (string-count s c . rest)
  (let ((pred (%s13-pred 'string-count c)))
    (call-with-values (lambda () (%s13-range 'string-count s rest))
      (lambda (start end)
        (let loop ((i start) (n 0))
          (if (< i end) (loop (+ i 1) (if (pred (string-ref s i)) (+ n 1) n)) n))))))

(define (%s13-contains s1 s2 rest same?)
  (call-with-values (lambda () (%s13-2ranges s1 s2 rest))
    (lambda (start1 end1 start2 end2)
      (let ((n (- end2 start2)))
        (let loop ((i start1))
          (and (<= (+ i n) end1)
               (if (let match ((k 0))
                     (or (= k n)
                         (and (same? (string-ref s1 (+ i k)) (string-ref s2 (+ start2 k)))
                              (match (+ k 1)))))
                   i
                   (loop (+ i 1)))))))))

(define (string-contains s1 s2 . rest) (%s13-contains s1 s2 rest char=?))
(define (string-contains-ci s1 s2 . rest) (%s13-contains s1 s2 rest char-ci=?))

;; ---- case mapping ----

(define (%s13-map-range! who f s rest)
  (call-with-values (lambda () (%s13-range who s rest))
    (lambda (start end)
      (do ((i start (+ i 1))) ((= i end))
        (string-set! s i (f (string-ref s i)))))))

(define (string-upcase s . rest)
  (if (null? rest)
      (%core-string-upcase s)
      (call-with-values (lambda () (%s13-range 'string-upcase s rest))
        (lambda (start end) (%core-string-upcase (substring s start end))))))

(define (string-downcase s . rest)
  (if (null? rest)
      (%core-string-downcase s)
      (call-with-values (lambda () (%s13-range 'string-downcase s rest))
        (lambda (start end) (%core-string-downcase (substring s start end))))))

(define (string-upcase! s . rest) (%s13-map-range! 'string-upcase! char-upcase s rest))
(define (string-downcase! s . rest) (%s13-map-range! 'string-downcase! char-downcase s rest))

;; A word is a maximal run of alphabetic characters: its first letter is
;; upcased, the rest downcased.
(define (string-titlecase! s . rest)
  (call-with-values (lambda () (%s13-range 'string-titlecase! s rest))
    (lambda (start end)
      (let loop ((i start) (in-word #f))
        (when (< i end)
          (let ((c (string-ref s i)))
            (if (char-alphabetic? c)
                (begin (string-set! s i (if in-word (char-downcase c) (char-upcase c)))
                       (loop (+ i 1) #t))
                (loop (+ i 1) #f))))))))

(define (string-titlecase s . rest)
  (call-with-values (lambda () (%s13-range 'string-titlecase s rest))
    (lambda (start end)
      (let ((c (substring s start end)))
        (string-titlecase! c)
        c))))

;; ---- reverse, append ----

(define (string-reverse s . rest)
  (call-with-values (lambda () (%s13-range 'string-reverse s rest))
    (lambda (start end)
      (let ((r (make-string (- end start))))
        (do ((i start (+ i 1)) (j (- end start 1) (- j 1))) ((= i end) r)
          (string-set! r j (string-ref s i)))))))

(define (string-reverse! s . rest)
  (call-with-values (lambda () (%s13-range 'string-reverse! s rest))
    (lambda (start end)
      (let loop ((i start) (j (- end 1)))
        (when (< i j)
          (let ((t (string-ref s i)))
            (string-set! s i (string-ref s j))
            (string-set! s j t)
            (loop (+ i 1) (- j 1))))))))

(define (string-concatenate strings) (apply string-append strings))
(define (string-concatenate/shared strings) (apply string-append strings))
(define (string-append/shared . strings) (apply string-append strings))

(define (string-concatenate-reverse strings . rest)
  (let* ((final (if (pair? rest) (car rest) ""))
         (end (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) (string-length final))))
    (apply string-append (append (reverse strings) (list (substring final 0 end))))))

(define (string-concatenate-reverse/shared strings . rest)
  (apply string-concatenate-reverse strings rest))

;; ---- fold, unfold, map ----

;; R7RS string-map/string-for-each take several strings; SRFI 13's take
;; one string and an optional range. These accept both forms.
(define (string-map proc s . rest)
  (if (and (pair? rest) (string? (car rest)))
      (let* ((all (cons s rest))
             (n (apply min (map string-length all)))
             (r (make-string n)))
        (do ((i 0 (+ i 1))) ((= i n) r)
          (string-set! r i (apply proc (map (lambda (x) (string-ref x i)) all)))))
      (call-with-values (lambda () (%s13-range 'string-map s rest))
        (lambda (start end)
          (let ((r (make-string (- end start))))
            (do ((i start (+ i 1))) ((= i end) r)
              (string-set! r (- i start) (proc (string-ref s i)))))))))

(define (string-map! proc s . rest) (%s13-map-range! 'string-map! proc s rest))

(define (string-for-each proc s . rest)
  (if (and (pair? rest) (string? (car rest)))
      (let* ((all (cons s rest))
             (n (apply min (map string-length all))))
        (do ((i 0 (+ i 1))) ((= i n))
          (apply proc (map (lambda (x) (string-ref x i)) all))))
      (call-with-values (lambda () (%s13-range 'string-for-each s rest))
        (lambda (start end)
          (do ((i start (+ i 1))) ((= i end))
            (proc (string-ref s i)))))))

(define (string-for-each-index proc s . rest)
  (call-with-values (lambda () (%s13-range 'string-for-each-index s rest))
    (lambda (start end)
      (do ((i start (+ i 1))) ((= i end))
        (proc i)))))

(define (string-fold kons knil s . rest)
  (call-with-values (lambda () (%s13-range 'string-fold s rest))
    (lambda (start end)
      (let loop ((i start) (acc knil))
        (if (< i end) (loop (+ i 1) (kons (string-ref s i) acc)) acc)))))

(define (string-fold-right kons knil s . rest)
  (call-with-values (lambda () (%s13-range 'string-fold-right s rest))
    (lambda (start end)
      (let loop ((i (- end 1)) (acc knil))
        (if (>= i start) (loop (- i 1) (kons (string-ref s i) acc)) acc)))))

(define (string-unfold p f g seed . rest)
  (let ((base (if (pair? rest) (car rest) ""))
        (make-final (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) (lambda (x) ""))))
    (let loop ((seed seed) (acc '()))
      (if (p seed)
          (string-append base (list->string (reverse acc)) (make-final seed))
          (loop (g seed) (cons (f seed) acc))))))

(define (string-unfold-right p f g seed . rest)
  (let ((base (if (pair? rest) (car rest) ""))
        (make-final (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) (lambda (x) ""))))
    (let loop ((seed seed) (acc '()))
      (if (p seed)
          (string-append (make-final seed) (list->string acc) base)
          (loop (g seed) (cons (f seed) acc))))))

;; ---- replicate, rotate ----

(define (xsubstring s from . rest)
  (let* ((to (if (and (pair? rest) (car rest)) (car rest) #f))
         (range (if (pair? rest) (cdr rest) '())))
    (call-with-values (lambda () (%s13-range 'xsubstring s range))
      (lambda (start end)
        (let* ((len (- end start))
               (to (or to (+ from len))))
          (when (and (= len 0) (< from to))
            (error "xsubstring: empty source substring" s))
          (let ((r (make-string (- to from))))
            (do ((i from (+ i 1))) ((= i to) r)
              (string-set! r (- i from) (string-ref s (+ start (modulo i len)))))))))))

(define (string-xcopy! target tstart s sfrom . rest)
  (let ((x (apply xsubstring s sfrom rest)))
    (string-copy! target tstart x)))

;; ---- miscellaneous ----

(define (string-replace s1 s2 start1 end1 . rest)
  (call-with-values (lambda () (%s13-range 'string-replace s2 rest))
    (lambda (start2 end2)
      (string-append (substring s1 0 start1)
                     (substring s2 start2 end2)
                     (substring s1 end1 (string-length s1))))))

(define (string-tokenize s . rest)
  (let ((pred (if (pair? rest)
                  (%s13-pred 'string-tokenize (car rest))
                  (lambda (c) (not (char-whitespace? c))))))
    (call-with-values (lambda () (%s13-range 'string-tokenize s (if (pair? rest) (cdr rest) '())))
      (lambda (start end)
        (let loop ((i start) (acc '()))
          (let ((b (let skip ((i i)) (if (and (< i end) (not (pred (string-ref s i)))) (skip (+ i 1)) i))))
            (if (>= b end)
                (reverse acc)
                (let ((e (let take ((i b)) (if (and (< i end) (pred (string-ref s i))) (take (+ i 1)) i))))
                  (loop e (cons (substring s b e) acc))))))))))

;; SRFI 13 puts the string first; the later convention (and Guile) puts the
;; criterion first. Both orders are accepted.
(define (%s13-filter who keep? a b rest)
  (let-values (((s c) (if (string? a) (values a b) (values b a))))
    (let ((pred (%s13-pred who c)))
      (call-with-values (lambda () (%s13-range who s rest))
        (lambda (start end)
          (let loop ((i start) (acc '()))
            (if (< i end)
                (loop (+ i 1) (let ((x (string-ref s i)))
                                (if (eq? keep? (and (pred x) #t)) (cons x acc) acc)))
                (list->string (reverse acc)))))))))

(define (string-filter a b . rest) (%s13-filter 'string-filter #t a b rest))
(define (string-delete a b . rest) (%s13-filter 'string-delete #f a b rest))

;; ---- Knuth-Morris-Pratt search ----

(define (make-kmp-restart-vector pattern . rest)
  (let* ((c= (if (pair? rest) (car rest) char=?))
         (range (if (pair? rest) (cdr rest) '())))
    (call-with-values (lambda () (%s13-range 'make-kmp-restart-vector pattern range))
      (lambda (start end)
        (let* ((n (- end start)) (rv (make-vector n -1)))
          (when (> n 0)
            (let ((c0 (string-ref pattern start)))
              ;; rv[i] is where to resume after a mismatch at pattern
              ;; position i; -1 when even position 0 cannot match there
              ;; (the SRFI's example: "abdabx" gives #(-1 0 0 -1 1 2)).
              (let loop ((i 0) (j -1) (k start))
                (when (< i (- n 1))
                  (let retry ((j j))
                    (cond ((= j -1)
                           (vector-set! rv (+ i 1)
                                        (if (c= (string-ref pattern (+ k 1)) c0) -1 0))
                           (loop (+ i 1) 0 (+ k 1)))
                          ((c= (string-ref pattern k) (string-ref pattern (+ start j)))
                           (vector-set! rv (+ i 1) (+ j 1))
                           (loop (+ i 1) (+ j 1) (+ k 1)))
                          (else (retry (vector-ref rv j)))))))))
          rv)))))

(define (kmp-step pattern rv c i c= p-start)
  (let loop ((i i))
    (cond ((c= c (string-ref pattern (+ i p-start))) (+ i 1))
          (else (let ((i (vector-ref rv i))) (if (= i -1) 0 (loop i)))))))

(define (string-kmp-partial-search pat rv s i . rest)
  (let* ((c= (if (pair? rest) (car rest) char=?))
         (rest (if (pair? rest) (cdr rest) '()))
         (p-start (if (pair? rest) (car rest) 0))
         (range (if (pair? rest) (cdr rest) '()))
         (patlen (vector-length rv)))
    (call-with-values (lambda () (%s13-range 'string-kmp-partial-search s range))
      (lambda (s-start s-end)
        (let loop ((si s-start) (pi i))
          (cond ((= pi patlen) (- si))
                ((= si s-end) pi)
                (else (loop (+ si 1) (kmp-step pat rv (string-ref s si) pi c= p-start)))))))))
