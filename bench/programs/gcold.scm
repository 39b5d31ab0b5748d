;;; gcold: long-lived data grows steadily (to about 130 MB of 16-byte
;;; pairs) while short-lived lists come and go: the old
;;; generation keeps growing, so the collector runs major collections on
;;; an ever larger heap.
;;; args: (1000 8000)
;;; expect: (8000000 599485425)
;;; quick-args: (10 100)
;;; quick-expect: (1000 751747469)
;; Each of `steps` steps builds a list of `len` fixnums, keeps its reverse
;; (the list itself is garbage) at the front of a list of kept lists, and
;; folds a sample of the new list into a checksum; at the end every kept
;; list is walked.  The result is (pairs-kept checksum).

(define (build-list seed len)
  (let loop ((i 0) (acc '()))
    (if (= i len)
        acc
        (loop (+ i 1) (cons (modulo (+ seed (* i 13)) 10007) acc)))))

(define (rev l)
  (let loop ((l l) (acc '()))
    (if (null? l) acc (loop (cdr l) (cons (car l) acc)))))

(define (fold-list l acc)
  (if (null? l)
      acc
      (fold-list (cdr l) (modulo (+ (* acc 31) (car l)) 1000000007))))

(define (bench-main steps len)
  (let loop ((k 0) (kept '()) (sum 0))
    (if (= k steps)
        (let walk ((ls kept) (pairs 0) (sum sum))
          (if (null? ls)
              (list pairs sum)
              (walk (cdr ls)
                    (+ pairs (length (car ls)))
                    (fold-list (car ls) sum))))
        (let ((new (rev (build-list k len))))
          (loop (+ k 1)
                (cons new kept)
                (modulo (+ (* sum 31) (car new) (cadr new)) 1000000007))))))
