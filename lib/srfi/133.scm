;;; SRFI 133: vector library (docs/srfi.md). The R7RS vector procedures
;;; come from the core (133.sld re-exports them); this file adds the rest.
;;; Multi-vector procedures stop at the shortest vector.

(define (%vstart rest) (if (pair? rest) (car rest) 0))
(define (%vend v rest)
  (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) (vector-length v)))

(define (%vmin-length vs)
  (let loop ((vs (cdr vs)) (n (vector-length (car vs))))
    (if (pair? vs) (loop (cdr vs) (min n (vector-length (car vs)))) n)))

(define (%vrefs vs i)
  (let loop ((vs vs) (acc '()))
    (if (pair? vs) (loop (cdr vs) (cons (vector-ref (car vs) i) acc)) (reverse acc))))

;; ---- constructors ----

(define (vector-unfold f len . seeds)
  (let ((v (make-vector len)))
    (apply vector-unfold! f v 0 len seeds)
    v))

(define (vector-unfold-right f len . seeds)
  (let ((v (make-vector len)))
    (apply vector-unfold-right! f v 0 len seeds)
    v))

(define (vector-unfold! f v start end . seeds)
  (if (null? seeds)
      (do ((i start (+ i 1))) ((>= i end))
        (vector-set! v i (f i)))
      (let loop ((i start) (seeds seeds))
        (when (< i end)
          (call-with-values (lambda () (apply f i seeds))
            (lambda (x . seeds) (vector-set! v i x) (loop (+ i 1) seeds)))))))

(define (vector-unfold-right! f v start end . seeds)
  (if (null? seeds)
      (do ((i (- end 1) (- i 1))) ((< i start))
        (vector-set! v i (f i)))
      (let loop ((i (- end 1)) (seeds seeds))
        (when (>= i start)
          (call-with-values (lambda () (apply f i seeds))
            (lambda (x . seeds) (vector-set! v i x) (loop (- i 1) seeds)))))))

(define (vector-reverse-copy v . rest)
  (let* ((start (%vstart rest)) (end (%vend v rest))
         (r (vector-copy v start end)))
    (vector-reverse! r)
    r))

(define (vector-concatenate vs) (apply vector-append vs))

(define (vector-append-subvectors . args)
  (let loop ((args args) (acc '()))
    (if (pair? args)
        (loop (cdddr args) (cons (vector-copy (car args) (cadr args) (caddr args)) acc))
        (apply vector-append (reverse acc)))))

;; ---- predicates ----

(define (vector-empty? v) (zero? (vector-length v)))

(define (vector= elt=? . vs)
  (define (two a b)
    (let ((n (vector-length a)))
      (and (= n (vector-length b))
           (let loop ((i 0))
             (or (= i n)
                 (and (elt=? (vector-ref a i) (vector-ref b i)) (loop (+ i 1))))))))
  (let loop ((vs vs))
    (or (null? vs) (null? (cdr vs))
        (and (or (eq? (car vs) (cadr vs)) (two (car vs) (cadr vs)))
             (loop (cdr vs))))))

;; ---- iteration ----

(define (vector-fold kons knil v . vs)
  (if (null? vs)
      (let ((n (vector-length v)))
        (let loop ((i 0) (acc knil))
          (if (< i n) (loop (+ i 1) (kons acc (vector-ref v i))) acc)))
      (let* ((all (cons v vs)) (n (%vmin-length all)))
        (let loop ((i 0) (acc knil))
          (if (< i n) (loop (+ i 1) (apply kons acc (%vrefs all i))) acc)))))

(define (vector-fold-right kons knil v . vs)
  (if (null? vs)
      (let loop ((i (- (vector-length v) 1)) (acc knil))
        (if (>= i 0) (loop (- i 1) (kons acc (vector-ref v i))) acc))
      (let ((all (cons v vs)))
        (let loop ((i (- (%vmin-length all) 1)) (acc knil))
          (if (>= i 0) (loop (- i 1) (apply kons acc (%vrefs all i))) acc)))))

(define (vector-map! f v . vs)
  (if (null? vs)
      (do ((i 0 (+ i 1)) (n (vector-length v))) ((= i n))
        (vector-set! v i (f (vector-ref v i))))
      (let* ((all (cons v vs)) (n (%vmin-length all)))
        (do ((i 0 (+ i 1))) ((= i n))
          (vector-set! v i (apply f (%vrefs all i)))))))

(define (vector-count pred v . vs)
  (if (null? vs)
      (vector-fold (lambda (n x) (if (pred x) (+ n 1) n)) 0 v)
      (let* ((all (cons v vs)) (n (%vmin-length all)))
        (let loop ((i 0) (c 0))
          (if (< i n)
              (loop (+ i 1) (if (apply pred (%vrefs all i)) (+ c 1) c))
              c)))))

(define (vector-cumulate f knil v)
  (let* ((n (vector-length v)) (r (make-vector n)))
    (let loop ((i 0) (acc knil))
      (when (< i n)
        (let ((acc (f acc (vector-ref v i))))
          (vector-set! r i acc)
          (loop (+ i 1) acc))))
    r))

;; ---- searching ----

(define (%index pred all from-right? negate?)
  (let ((n (%vmin-length all)))
    (let loop ((i (if from-right? (- n 1) 0)))
      (cond ((if from-right? (< i 0) (>= i n)) #f)
            ((let ((r (if (null? (cdr all))
                          (pred (vector-ref (car all) i))
                          (apply pred (%vrefs all i)))))
               (if negate? (not r) r))
             i)
            (else (loop (if from-right? (- i 1) (+ i 1))))))))

(define (vector-index pred v . vs) (%index pred (cons v vs) #f #f))
(define (vector-index-right pred v . vs) (%index pred (cons v vs) #t #f))
(define (vector-skip pred v . vs) (%index pred (cons v vs) #f #t))
(define (vector-skip-right pred v . vs) (%index pred (cons v vs) #t #t))

(define (vector-binary-search v value cmp . rest)
  (let loop ((lo (%vstart rest)) (hi (%vend v rest)))
    (and (< lo hi)
         (let* ((mid (quotient (+ lo hi) 2))
                (c (cmp (vector-ref v mid) value)))
           (cond ((zero? c) mid)
                 ((negative? c) (loop (+ mid 1) hi))
                 (else (loop lo mid)))))))

(define (vector-any pred v . vs)
  (let* ((all (cons v vs)) (n (%vmin-length all)))
    (let loop ((i 0))
      (and (< i n)
           (or (apply pred (%vrefs all i)) (loop (+ i 1)))))))

(define (vector-every pred v . vs)
  (let* ((all (cons v vs)) (n (%vmin-length all)))
    (let loop ((i 0) (last #t))
      (if (< i n)
          (let ((r (apply pred (%vrefs all i))))
            (and r (loop (+ i 1) r)))
          last))))

(define (vector-partition pred v)
  (let* ((n (vector-length v))
         (yes (vector-count pred v))
         (r (make-vector n)))
    (let loop ((i 0) (y 0) (no yes))
      (when (< i n)
        (let ((x (vector-ref v i)))
          (if (pred x)
              (begin (vector-set! r y x) (loop (+ i 1) (+ y 1) no))
              (begin (vector-set! r no x) (loop (+ i 1) y (+ no 1)))))))
    (values r yes)))

;; ---- mutators ----

(define (vector-swap! v i j)
  (let ((t (vector-ref v i)))
    (vector-set! v i (vector-ref v j))
    (vector-set! v j t)))

(define (vector-reverse! v . rest)
  (let loop ((i (%vstart rest)) (j (- (%vend v rest) 1)))
    (when (< i j)
      (vector-swap! v i j)
      (loop (+ i 1) (- j 1)))))

(define (vector-reverse-copy! to at from . rest)
  (let ((start (%vstart rest)) (end (%vend from rest)))
    (vector-copy! to at from start end)
    (vector-reverse! to at (+ at (- end start)))))

;; ---- conversion ----

(define (reverse-vector->list v . rest)
  (let ((end (%vend v rest)))
    (let loop ((i (%vstart rest)) (acc '()))
      (if (< i end) (loop (+ i 1) (cons (vector-ref v i) acc)) acc))))

(define (reverse-list->vector l) (list->vector (reverse l)))
