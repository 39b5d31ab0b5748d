;;; SRFI 132: sort libraries (docs/srfi.md). Every sort is one stable
;;; merge sort on vectors (insertion sort for short runs, a scratch vector
;;; for the merges); lists are sorted by way of a vector, which beats a
;;; list merge sort on allocation and locality. The unstable names share it.

(define (%range who v rest)
  (let* ((len (vector-length v))
         (start (if (pair? rest) (car rest) 0))
         (end (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) len)))
    (unless (and (exact-integer? start) (exact-integer? end) (<= 0 start end len))
      (error (string-append (symbol->string who) ": bad range") start end))
    (values start end)))

;; Sorts v[lo, hi) in place by insertion.
(define (%insertion-sort! less? v lo hi)
  (do ((i (+ lo 1) (+ i 1))) ((>= i hi))
    (let ((x (vector-ref v i)))
      (let loop ((j (- i 1)))
        (if (and (>= j lo) (less? x (vector-ref v j)))
            (begin (vector-set! v (+ j 1) (vector-ref v j)) (loop (- j 1)))
            (vector-set! v (+ j 1) x))))))

;; Merges the sorted runs src[lo, mid) and src[mid, hi) into dst[lo, hi),
;; taking from the left run on ties (stability).
(define (%merge-runs! less? src dst lo mid hi)
  (let loop ((i lo) (j mid) (k lo))
    (cond ((>= i mid) (vector-copy! dst k src j hi))
          ((>= j hi) (vector-copy! dst k src i mid))
          ((less? (vector-ref src j) (vector-ref src i))
           (vector-set! dst k (vector-ref src j))
           (loop i (+ j 1) (+ k 1)))
          (else
           (vector-set! dst k (vector-ref src i))
           (loop (+ i 1) j (+ k 1))))))

;; Bottom-up merge sort of v[start, end): insertion-sorted runs of 16,
;; then passes of doubling width, alternating between v and a scratch.
(define (%sort! less? v start end)
  (let ((n (- end start)) (run 16))
    (when (> n 1)
      (do ((lo start (+ lo run))) ((>= lo end))
        (%insertion-sort! less? v lo (min end (+ lo run))))
      (when (> n run)
        (let ((tmp (make-vector (vector-length v))))
          (let pass ((width run) (src v) (dst tmp))
            (if (>= width n)
                (unless (eq? src v) (vector-copy! v start src start end))
                (begin
                  (do ((lo start (+ lo (* 2 width)))) ((>= lo end))
                    (let ((mid (min end (+ lo width)))
                          (hi (min end (+ lo (* 2 width)))))
                      (%merge-runs! less? src dst lo mid hi)))
                  (pass (* 2 width) dst src)))))))))

(define (vector-sort! less? v . rest)
  (call-with-values (lambda () (%range 'vector-sort! v rest))
    (lambda (start end) (%sort! less? v start end))))

(define vector-stable-sort! vector-sort!)

(define (vector-sort less? v . rest)
  (call-with-values (lambda () (%range 'vector-sort v rest))
    (lambda (start end)
      (let ((copy (vector-copy v start end)))
        (%sort! less? copy 0 (- end start))
        copy))))

(define vector-stable-sort vector-sort)

(define (list-sort less? lis)
  (let ((v (list->vector lis)))
    (%sort! less? v 0 (vector-length v))
    (vector->list v)))

(define list-stable-sort list-sort)

;; The linear-update variants write the sorted elements back into the
;; argument's own pairs.
(define (list-sort! less? lis)
  (let ((v (list->vector lis)))
    (%sort! less? v 0 (vector-length v))
    (let loop ((p lis) (i 0))
      (when (pair? p)
        (set-car! p (vector-ref v i))
        (loop (cdr p) (+ i 1))))
    lis))

(define list-stable-sort! list-sort!)

(define (list-sorted? less? lis)
  (or (not (pair? lis))
      (let loop ((prev (car lis)) (l (cdr lis)))
        (or (not (pair? l))
            (and (not (less? (car l) prev)) (loop (car l) (cdr l)))))))

(define (vector-sorted? less? v . rest)
  (call-with-values (lambda () (%range 'vector-sorted? v rest))
    (lambda (start end)
      (let loop ((i (+ start 1)))
        (or (>= i end)
            (and (not (less? (vector-ref v i) (vector-ref v (- i 1))))
                 (loop (+ i 1))))))))

;; ---- merging ----

(define (list-merge less? a b)
  (let loop ((a a) (b b) (acc '()))
    (cond ((null? a) (append-reverse acc b))
          ((null? b) (append-reverse acc a))
          ((less? (car b) (car a)) (loop a (cdr b) (cons (car b) acc)))
          (else (loop (cdr a) b (cons (car a) acc))))))

(define (append-reverse rev tail)
  (if (pair? rev) (append-reverse (cdr rev) (cons (car rev) tail)) tail))

;; Relinks the pairs of both lists, iteratively.
(define (list-merge! less? a b)
  (cond ((null? a) b)
        ((null? b) a)
        (else
         (let ((head (if (less? (car b) (car a)) b a)))
           (let loop ((tail head)
                      (a (if (eq? head a) (cdr a) a))
                      (b (if (eq? head b) (cdr b) b)))
             (cond ((null? a) (set-cdr! tail b))
                   ((null? b) (set-cdr! tail a))
                   ((less? (car b) (car a)) (set-cdr! tail b) (loop b a (cdr b)))
                   (else (set-cdr! tail a) (loop a (cdr a) b))))
           head))))

(define (%opt rest i default)
  (let loop ((rest rest) (i i))
    (cond ((not (pair? rest)) default)
          ((= i 0) (car rest))
          (else (loop (cdr rest) (- i 1))))))

(define (vector-merge! less? to from1 from2 . rest)
  (let* ((start (%opt rest 0 0))
         (start1 (%opt rest 1 0))
         (end1 (%opt rest 2 (vector-length from1)))
         (start2 (%opt rest 3 0))
         (end2 (%opt rest 4 (vector-length from2))))
    (let loop ((i start1) (j start2) (k start))
      (cond ((>= i end1) (vector-copy! to k from2 j end2))
            ((>= j end2) (vector-copy! to k from1 i end1))
            ((less? (vector-ref from2 j) (vector-ref from1 i))
             (vector-set! to k (vector-ref from2 j))
             (loop i (+ j 1) (+ k 1)))
            (else
             (vector-set! to k (vector-ref from1 i))
             (loop (+ i 1) j (+ k 1)))))))

(define (vector-merge less? v1 v2 . rest)
  (let* ((start1 (%opt rest 0 0))
         (end1 (%opt rest 1 (vector-length v1)))
         (start2 (%opt rest 2 0))
         (end2 (%opt rest 3 (vector-length v2)))
         (to (make-vector (+ (- end1 start1) (- end2 start2)))))
    (vector-merge! less? to v1 v2 0 start1 end1 start2 end2)
    to))

;; ---- deleting neighbour duplicates ----

(define (list-delete-neighbor-dups = lis)
  (if (not (pair? lis))
      lis
      (let loop ((prev (car lis)) (l (cdr lis)) (acc (list (car lis))))
        (cond ((not (pair? l)) (reverse acc))
              ((= prev (car l)) (loop prev (cdr l) acc))
              (else (loop (car l) (cdr l) (cons (car l) acc)))))))

(define (list-delete-neighbor-dups! = lis)
  (when (pair? lis)
    (let loop ((kept lis) (l (cdr lis)))
      (cond ((not (pair? l)) (set-cdr! kept '()))
            ((= (car kept) (car l)) (loop kept (cdr l)))
            (else (set-cdr! kept l) (loop l (cdr l))))))
  lis)

(define (vector-delete-neighbor-dups! = v . rest)
  (call-with-values (lambda () (%range 'vector-delete-neighbor-dups! v rest))
    (lambda (start end)
      (if (>= start end)
          start
          (let loop ((i (+ start 1)) (k (+ start 1)))
            (cond ((>= i end) k)
                  ((= (vector-ref v (- k 1)) (vector-ref v i)) (loop (+ i 1) k))
                  (else (vector-set! v k (vector-ref v i)) (loop (+ i 1) (+ k 1)))))))))

(define (vector-delete-neighbor-dups = v . rest)
  (call-with-values (lambda () (%range 'vector-delete-neighbor-dups v rest))
    (lambda (start end)
      (let* ((copy (vector-copy v start end))
             (n (vector-delete-neighbor-dups! = copy)))
        (vector-copy copy 0 n)))))

;; ---- selection and medians ----

;; Hoare-style partition of v[lo, hi) around a median-of-three pivot
;; value; returns (values lt gt) with v[lo,lt) < pivot, v[lt,gt) equal to
;; it and v[gt,hi) greater (three-way, so runs of equal keys terminate).
(define (%partition3! less? v lo hi)
  (let* ((a (vector-ref v lo))
         (b (vector-ref v (+ lo (quotient (- hi lo) 2))))
         (c (vector-ref v (- hi 1)))
         (pivot (if (less? a b)
                    (cond ((less? b c) b) ((less? a c) c) (else a))
                    (cond ((less? a c) a) ((less? b c) c) (else b)))))
    (define (swap! i j)
      (let ((t (vector-ref v i)))
        (vector-set! v i (vector-ref v j))
        (vector-set! v j t)))
    (let loop ((lt lo) (i lo) (gt hi))
      (if (>= i gt)
          (values lt gt)
          (let ((x (vector-ref v i)))
            (cond ((less? x pivot) (swap! lt i) (loop (+ lt 1) (+ i 1) gt))
                  ((less? pivot x) (swap! i (- gt 1)) (loop lt i (- gt 1)))
                  (else (loop lt (+ i 1) gt))))))))

;; Quickselect: afterwards v[start+k] holds the kth smallest of the range,
;; everything before it is not greater and everything after not smaller.
(define (%select! less? v k start end)
  (let loop ((lo start) (hi end) (target (+ start k)))
    (when (> (- hi lo) 1)
      (call-with-values (lambda () (%partition3! less? v lo hi))
        (lambda (lt gt)
          (cond ((< target lt) (loop lo lt target))
                ((>= target gt) (loop gt hi target))
                (else #t)))))))

(define (vector-select! less? v k . rest)
  (call-with-values (lambda () (%range 'vector-select! v rest))
    (lambda (start end)
      (unless (and (exact-integer? k) (<= 0 k) (< k (- end start)))
        (error "vector-select!: index out of range" k))
      (%select! less? v k start end)
      (vector-ref v (+ start k)))))

(define (vector-separate! less? v k . rest)
  (call-with-values (lambda () (%range 'vector-separate! v rest))
    (lambda (start end)
      (unless (and (exact-integer? k) (<= 0 k (- end start)))
        (error "vector-separate!: count out of range" k))
      (when (< k (- end start))
        (%select! less? v k start end)))))

(define (%median-of-sorted v n knil mean)
  (cond ((zero? n) knil)
        ((odd? n) (vector-ref v (quotient n 2)))
        (else (mean (vector-ref v (- (quotient n 2) 1))
                    (vector-ref v (quotient n 2))))))

(define (%mean a b) (/ (+ a b) 2))

(define (vector-find-median less? v knil . maybe-mean)
  (let ((mean (if (pair? maybe-mean) (car maybe-mean) %mean))
        (n (vector-length v)))
    (cond ((zero? n) knil)
          (else
           (let* ((copy (vector-copy v))
                  (h (quotient n 2)))
             (%select! less? copy h 0 n)
             (if (odd? n)
                 (vector-ref copy h)
                 ;; The lower middle is the largest of copy[0, h).
                 (let loop ((i 1) (best (vector-ref copy 0)))
                   (if (< i h)
                       (loop (+ i 1) (if (less? best (vector-ref copy i)) (vector-ref copy i) best))
                       (mean best (vector-ref copy h))))))))))

(define (vector-find-median! less? v knil . maybe-mean)
  (let ((mean (if (pair? maybe-mean) (car maybe-mean) %mean))
        (n (vector-length v)))
    (%sort! less? v 0 n)
    (%median-of-sorted v n knil mean)))
