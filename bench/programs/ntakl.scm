;;; ntakl: takl with the length comparison written as nested conditionals
;;; instead of and/or (the same work, different control flow), repeated.
;;; args: (18 12 6 100)
;;; expect: 7
;;; quick-args: (12 8 4 1)
;;; quick-expect: 5

(define (count-down n)
  (if (= n 0) '() (cons n (count-down (- n 1)))))

;; #t when list x is strictly shorter than list y, one test per branch.
(define (shorter? x y)
  (cond ((null? y) #f)
        ((null? x) #t)
        (else (let walk ((x (cdr x)) (y (cdr y)))
                (if (null? y)
                    #f
                    (if (null? x)
                        #t
                        (walk (cdr x) (cdr y))))))))

(define (ntakl x y z)
  (cond ((shorter? y x)
         (ntakl (ntakl (cdr x) y z)
                (ntakl (cdr y) z x)
                (ntakl (cdr z) x y)))
        (else z)))

(define (bench-main x y z reps)
  (let ((lx (count-down x)) (ly (count-down y)) (lz (count-down z)))
    (let loop ((i 1) (r (ntakl lx ly lz)))
      (if (= i reps)
          (length r)
          (loop (+ i 1) (ntakl lx ly lz))))))
