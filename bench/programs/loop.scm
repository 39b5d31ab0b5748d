;;; loop: a tail-recursive loop with a large trip count (fixnum arithmetic).
;;; args: (100000000)
;;; expect: 30968251
;;; quick-args: (1000)
;;; quick-expect: 499500
(define (bench-main n)
  (let loop ((i 0) (acc 0))
    (if (= i n)
        acc
        (loop (+ i 1)
              (if (< acc 1000000) (+ acc i) (- acc 999983))))))
