;;; gcchurn: a vector of lists holds about 100 MB live while slots are
;;; replaced one by one with fresh lists in pseudo-random order (1.2 GB
;;; allocated, with 16-byte pairs): old data dies steadily, new data
;;; survives (a collector benchmark).
;;; args: (100000 60 12)
;;; expect: (1200000 6000000 129808670)
;;; quick-args: (100 10 2)
;;; quick-expect: (200 1000 756522594)
;; The table has `slots` lists of `len` fixnums (six million pairs live,
;; 96 MB with 16-byte pairs, 144 MB with 24-byte ones); `rounds` times
;; `slots` replacements follow.  Each replacement folds the old list's first two elements into
;; a checksum and stores a new list (an old vector pointing at young
;; pairs: the write barrier's work).  The result is (replacements
;; pairs-live checksum).

(define (build-list seed len)
  (let loop ((i 0) (acc '()))
    (if (= i len)
        acc
        (loop (+ i 1) (cons (modulo (+ seed (* i 7)) 1000) acc)))))

(define (list-count l)
  (let loop ((l l) (n 0))
    (if (null? l) n (loop (cdr l) (+ n 1)))))

(define (bench-main slots len rounds)
  (let ((table (make-vector slots '())))
    (do ((i 0 (+ i 1))) ((= i slots))
      (vector-set! table i (build-list i len)))
    (let loop ((k 0) (r 12345) (sum 0))
      (if (= k (* slots rounds))
          (let count ((i 0) (pairs 0))
            (if (= i slots)
                (list k pairs sum)
                (count (+ i 1) (+ pairs (list-count (vector-ref table i))))))
          ;; r: a linear congruential sequence picks the slot.
          (let* ((r2 (modulo (+ (* r 1103515245) 12345) 2147483648))
                 (i (modulo (quotient r2 65536) slots))
                 (old (vector-ref table i))
                 (sum2 (modulo (+ (* sum 31) (car old) (cadr old) i)
                               1000000007)))
            (vector-set! table i (build-list k len))
            (loop (+ k 1) r2 sum2))))))
