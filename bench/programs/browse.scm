;;; browse: build a database of interned symbols with property lists and
;;; match wildcard patterns against its entries (string->symbol,
;;; association lists, recursive matching with backtracking), repeated.
;;; args: (200 80)
;;; expect: (516 #t)
;;; quick-args: (10 1)
;;; quick-expect: (33 #t)
;; Each unit is a symbol made by string-append; its properties (an alist
;; keyed by symbols) hold lists of data built from a linear congruential
;; generator.  A pattern matches a datum element by element: ? matches any
;; one element, * any run of elements, a list matches a list recursively.

(define seed 21)
(define (next-random! n)
  (set! seed (remainder (+ (* seed 1103515245) 12345) 2147483648))
  (remainder (quotient seed 65536) n))

(define atoms '#(a b c d e))

(define (random-datum depth)
  (let loop ((k (+ 3 (next-random! 5))) (acc '()))
    (if (= k 0)
        acc
        (loop (- k 1)
              (cons (if (and (> depth 0) (= 0 (next-random! 4)))
                        (random-datum (- depth 1))
                        (vector-ref atoms (next-random! 5)))
                    acc)))))

(define (make-unit i)
  (let ((name (string->symbol (string-append "unit-" (number->string i)))))
    (cons name
          (list (cons 'pattern (list (random-datum 2) (random-datum 2) (random-datum 1)))
                (cons 'index i)
                (cons 'flag (even? i))))))

(define (make-database n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons (make-unit i) acc)))))

(define (property unit key)
  (let ((p (assq key (cdr unit)))) (and p (cdr p))))

(define (match? pat dat)
  (cond ((null? pat) (null? dat))
        ((eq? (car pat) '*)
         (or (match? (cdr pat) dat)
             (and (pair? dat) (match? pat (cdr dat)))))
        ((null? dat) #f)
        ((eq? (car pat) '?) (match? (cdr pat) (cdr dat)))
        ((pair? (car pat))
         (and (pair? (car dat))
              (match? (car pat) (car dat))
              (match? (cdr pat) (cdr dat))))
        (else (and (eq? (car pat) (car dat))
                   (match? (cdr pat) (cdr dat))))))

(define patterns
  '((* a * b *) (? ? c *) (* (a *) *) (* d ? e) (a * (* b) *) (* (? ?) * c)
    (b ? ? ? *) (* e * e * e *) (? (* c *) *)))

(define (browse db)
  (let loop ((units db) (count 0))
    (if (null? units)
        count
        (let ((data (property (car units) 'pattern)))
          (loop (cdr units)
                (let each-pat ((ps patterns) (count count))
                  (if (null? ps)
                      count
                      (each-pat (cdr ps)
                                (let each-dat ((ds data) (count count))
                                  (if (null? ds)
                                      count
                                      (each-dat (cdr ds)
                                                (if (match? (car ps) (car ds))
                                                    (+ count 1)
                                                    count))))))))))))

(define (bench-main n reps)
  (set! seed 21)
  (let loop ((r 1) (result 0))
    (if (> r reps)
        result
        (let ((db (make-database n)))
          (loop (+ r 1)
                (list (browse db)
                      (eq? (car (car db)) (string->symbol "unit-1"))))))))
