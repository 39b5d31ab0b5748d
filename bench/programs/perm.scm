;;; perm: build the list of all permutations of (1 ... n) as fresh lists,
;;; several times, and checksum them (allocation of many short-lived and
;;; long-lived lists: a collector benchmark).
;;; args: (9 1)
;;; expect: (362880 914980)
;;; quick-args: (4 1)
;;; quick-expect: (24 828)
;; Permutations are made by inserting the first element at every position
;; of each permutation of the rest.

(define (insert-everywhere x l)
  (if (null? l)
      (list (list x))
      (cons (cons x l)
            (map (lambda (rest) (cons (car l) rest))
                 (insert-everywhere x (cdr l))))))

(define (permutations l)
  (if (null? l)
      (list '())
      (let loop ((ps (permutations (cdr l))) (acc '()))
        (if (null? ps)
            acc
            (loop (cdr ps) (append (insert-everywhere (car l) (car ps)) acc))))))

(define (count-up n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons i acc)))))

;; Sum over permutations of (position * first element + last element),
;; modulo a prime so it stays a fixnum.
(define (checksum ps)
  (let loop ((ps ps) (i 1) (acc 0))
    (if (null? ps)
        acc
        (let ((p (car ps)))
          (loop (cdr ps) (+ i 1)
                (remainder (+ acc (* i (car p)) (car (reverse p))) 1000003))))))

(define (bench-main n reps)
  (let loop ((r 1) (result 0))
    (if (> r reps)
        result
        (let ((ps (permutations (count-up n))))
          (loop (+ r 1) (list (length ps) (checksum ps)))))))
