;;; divrec: halve a list by keeping every other element, by non-tail
;;; recursion (cons, deep recursion), repeated.
;;; args: (1000 20000)
;;; expect: 500
;;; quick-args: (20 2)
;;; quick-expect: 10

(define (make-items n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons '() acc)))))

(define (halve-rec l)
  (if (null? l)
      '()
      (cons (car l) (halve-rec (cddr l)))))

(define (bench-main n reps)
  (let ((items (make-items n)))
    (let loop ((i 1) (r (halve-rec items)))
      (if (= i reps)
          (length r)
          (loop (+ i 1) (halve-rec items))))))
