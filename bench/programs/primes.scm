;;; primes: the primes below n by a list sieve (build the list 2..n, then
;;; repeatedly keep the head and drop its multiples), repeated (allocation,
;;; list walking, remainder).
;;; args: (1000 1000)
;;; expect: (168 997)
;;; quick-args: (100 1)
;;; quick-expect: (25 97)

(define (interval lo hi)
  (if (> lo hi) '() (cons lo (interval (+ lo 1) hi))))

(define (drop-multiples p l)
  (cond ((null? l) '())
        ((= 0 (remainder (car l) p)) (drop-multiples p (cdr l)))
        (else (cons (car l) (drop-multiples p (cdr l))))))

(define (sieve-list l)
  (if (null? l)
      '()
      (cons (car l) (sieve-list (drop-multiples (car l) (cdr l))))))

(define (primes-below n) (sieve-list (interval 2 n)))

(define (last-of l) (if (null? (cdr l)) (car l) (last-of (cdr l))))

(define (bench-main n reps)
  (let loop ((i 1) (r (primes-below n)))
    (if (= i reps)
        (list (length r) (last-of r))
        (loop (+ i 1) (primes-below n)))))
