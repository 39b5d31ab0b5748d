;;; earley: Earley recognizer run on an ambiguous grammar and on an
;;; expression grammar (item sets as lists, memv, vectors), repeated.
;;; args: (60 400 20)
;;; expect: ((#t 3782) (#t 2110) (#f 38))
;;; quick-args: (6 10 1)
;;; quick-expect: ((#t 56) (#t 62) (#f 38))
;; A grammar is a vector of rules (lhs . rhs), rhs a vector of symbols; a
;; symbol is a nonterminal when some rule has it as lhs.  An item
;; (rule, dot, origin) is one fixnum.  The result lists, for each input,
;; whether it is accepted and how many items the parse made.

(define ambiguous
  ;; s -> s s | a
  (vector (cons 's (vector 's 's))
          (cons 's (vector 'a))))

(define expressions
  ;; e -> e + t | t ; t -> t * f | f ; f -> ( e ) | n
  (vector (cons 'e (vector 'e '+ 't))
          (cons 'e (vector 't))
          (cons 't (vector 't '* 'f))
          (cons 't (vector 'f))
          (cons 'f (vector 'lp 'e 'rp))
          (cons 'f (vector 'n))))

(define (nonterminal? g sym)
  (let loop ((r 0))
    (and (< r (vector-length g))
         (or (eq? (car (vector-ref g r)) sym) (loop (+ r 1))))))

(define (recognize g start tokens)
  (let* ((n (vector-length tokens))
         (sets (make-vector (+ n 1) '()))
         (span (+ n 1))
         (count 0))
    (define (item r dot origin) (+ (* (+ (* r 8) dot) span) origin))
    (define (item-rule it) (quotient (quotient it span) 8))
    (define (item-dot it) (remainder (quotient it span) 8))
    (define (item-origin it) (remainder it span))
    (define (next-symbol it)
      (let ((rhs (cdr (vector-ref g (item-rule it)))))
        (and (< (item-dot it) (vector-length rhs))
             (vector-ref rhs (item-dot it)))))
    ;; Adds to set i, returns #t when the item is new.
    (define (add! i it)
      (cond ((memv it (vector-ref sets i)) #f)
            (else (vector-set! sets i (cons it (vector-ref sets i)))
                  (set! count (+ count 1))
                  #t)))
    (define (predict! i sym work)
      (let loop ((r 0) (work work))
        (cond ((= r (vector-length g)) work)
              ((and (eq? (car (vector-ref g r)) sym) (add! i (item r 0 i)))
               (loop (+ r 1) (cons (item r 0 i) work)))
              (else (loop (+ r 1) work)))))
    (define (complete! i it work)
      (let ((lhs (car (vector-ref g (item-rule it)))))
        (let loop ((olds (vector-ref sets (item-origin it))) (work work))
          (if (null? olds)
              work
              (let ((old (car olds)))
                (if (eq? (next-symbol old) lhs)
                    (let ((new (+ old span)))
                      (loop (cdr olds) (if (add! i new) (cons new work) work)))
                    (loop (cdr olds) work)))))))
    (define (process! i)
      (let loop ((work (vector-ref sets i)))
        (cond ((pair? work)
               (let* ((it (car work))
                      (sym (next-symbol it)))
                 (cond ((not sym) (loop (complete! i it (cdr work))))
                       ((nonterminal? g sym) (loop (predict! i sym (cdr work))))
                       (else
                        (cond ((and (< i n) (eq? sym (vector-ref tokens i)))
                               (add! (+ i 1) (+ it span))))
                        (loop (cdr work)))))))))
    (predict! 0 start '())
    (do ((i 0 (+ i 1))) ((> i n))
      (process! i))
    (let accept ((its (vector-ref sets n)))
      (cond ((null? its) (list #f count))
            ((and (eq? (car (vector-ref g (item-rule (car its)))) start)
                  (not (next-symbol (car its)))
                  (= 0 (item-origin (car its))))
             (list #t count))
            (else (accept (cdr its)))))))

;; n a's.
(define (a-string n) (make-vector n 'a))

;; An expression of about n tokens: n ( n + n ) * n + ... with balanced
;; parentheses, built from a counter.
(define (expression-tokens n)
  (let loop ((k 0) (acc '(n)))
    (if (>= (length acc) n)
        (list->vector acc)
        (loop (+ k 1)
              (case (remainder k 3)
                ((0) (append '(n +) acc))
                ((1) (append '(lp n *) acc '(rp)))
                (else (append '(n *) acc)))))))

(define (bench-main amb-len expr-len reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (loop (+ r 1)
              (list (recognize ambiguous 's (a-string amb-len))
                    (recognize expressions 'e (expression-tokens expr-len))
                    (recognize expressions 'e (list->vector '(n + lp n * n))))))))
