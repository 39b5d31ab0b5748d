;;; sieve: sieve of Eratosthenes on a vector, repeated (vector access, loops).
;;; args: (2000000 5)
;;; expect: 148933
;;; quick-args: (1000 1)
;;; quick-expect: 168
(define (count-primes n)
  (let ((composite (make-vector (+ n 1) #f)))
    (let loop ((i 2) (count 0))
      (if (> i n)
          count
          (if (vector-ref composite i)
              (loop (+ i 1) count)
              (begin
                (do ((j (* i i) (+ j i)))
                    ((> j n))
                  (vector-set! composite j #t))
                (loop (+ i 1) (+ count 1))))))))

(define (bench-main n reps)
  (let loop ((i 1) (r (count-primes n)))
    (if (= i reps) r (loop (+ i 1) (count-primes n)))))
