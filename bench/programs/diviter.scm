;;; diviter: halve a list by keeping every other element, with loops
;;; (cons, cdr walking), repeated.
;;; args: (1000 20000)
;;; expect: 500
;;; quick-args: (20 2)
;;; quick-expect: 10

(define (make-items n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons '() acc)))))

;; Every second element of l, in order, built by an accumulating loop.
(define (halve-iter l)
  (let loop ((l l) (acc '()))
    (if (null? l)
        (reverse acc)
        (loop (cddr l) (cons (car l) acc)))))

(define (bench-main n reps)
  (let ((items (make-items n)))
    (let loop ((i 1) (r (halve-iter items)))
      (if (= i reps)
          (length r)
          (loop (+ i 1) (halve-iter items))))))
