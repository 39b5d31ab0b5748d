;;; exceptions: a loop where one iteration in four raises inside a guard
;;; (numbers and freshly allocated lists, raised at several call depths),
;;; and guards that never raise.
;;; args: (1000000)
;;; expect: (250000 750000 375000000000 249999000000)
;;; quick-args: (1000)
;;; quick-expect: (250 750 375000 249000)
(define (check i)
  ;; Raises for multiples of 4: the number itself or a list holding it.
  ;; (Only R7RS/R6RS common ground: no error-object procedures.)
  (if (= (remainder i 4) 0)
      (if (even? (quotient i 4))
          (raise i)
          (raise (list 'multiple-of-four i)))
      i))

(define (nested i depth)
  (if (= depth 0)
      (check i)
      (+ 0 (nested i (- depth 1)))))

(define (guarded i)
  (guard (e ((number? e) (- e))
            ((pair? e) (- (cadr e))))
    (nested i (remainder i 5))))

(define (never-raises i)
  (guard (e (#t 0))
    (* i 2)))

(define (bench-main n)
  (let loop ((i 0) (caught 0) (passed 0) (sum-ok 0) (sum-guarded 0))
    (if (= i n)
        (list caught passed sum-ok sum-guarded)
        (let ((v (guarded i)))
          (if (or (< v 0) (= i 0))
              (loop (+ i 1) (+ caught 1) passed sum-ok
                    (+ sum-guarded (never-raises (- v))))
              (loop (+ i 1) caught (+ passed 1) (+ sum-ok v)
                    (+ sum-guarded (never-raises 0))))))))
