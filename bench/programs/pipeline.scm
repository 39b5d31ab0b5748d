;;; pipeline: map / filter / fold pipelines over long lists, repeated.
;;; args: (100000 50)
;;; expect: 103289385775
;;; quick-args: (100 2)
;;; quick-expect: 686457
(define (range-list n)
  (let loop ((i (- n 1)) (acc '()))
    (if (< i 0) acc (loop (- i 1) (cons i acc)))))

(define (keep pred l)
  (let loop ((l l) (acc '()))
    (cond ((null? l) (reverse acc))
          ((pred (car l)) (loop (cdr l) (cons (car l) acc)))
          (else (loop (cdr l) acc)))))

(define (fold-list f acc l)
  (if (null? l) acc (fold-list f (f acc (car l)) (cdr l))))

(define (pipeline xs k)
  (let* ((squares (map (lambda (x) (remainder (* x x) 1000003)) xs))
         (odds (keep odd? squares))
         (shifted (map (lambda (x y) (+ x y k)) odds (reverse odds)))
         (small (keep (lambda (x) (< x 500000)) shifted)))
    (+ (fold-list + 0 small)
       (fold-list (lambda (acc x) (if (> x acc) x acc)) 0 shifted)
       (length small))))

(define (bench-main n reps)
  (let ((xs (range-list n)))
    (let loop ((i 1) (sum 0))
      (if (> i reps)
          sum
          (loop (+ i 1) (+ sum (pipeline xs i)))))))
