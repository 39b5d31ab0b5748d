;;; takl: Takeuchi function on lists, lengths standing for numbers
;;; (list walking, calls), repeated.
;;; args: (18 12 6 100)
;;; expect: 7
;;; quick-args: (12 8 4 1)
;;; quick-expect: 5
;; A number n is the list (n n-1 ... 1); "less than" compares lengths by
;; walking both lists together.

(define (count-down n)
  (if (= n 0) '() (cons n (count-down (- n 1)))))

;; #t when list x is strictly shorter than list y.
(define (shorter? x y)
  (and (not (null? y))
       (or (null? x)
           (shorter? (cdr x) (cdr y)))))

(define (takl x y z)
  (if (not (shorter? y x))
      z
      (takl (takl (cdr x) y z)
            (takl (cdr y) z x)
            (takl (cdr z) x y))))

(define (bench-main x y z reps)
  (let ((lx (count-down x)) (ly (count-down y)) (lz (count-down z)))
    (let loop ((i 1) (r (takl lx ly lz)))
      (if (= i reps)
          (length r)
          (loop (+ i 1) (takl lx ly lz))))))
