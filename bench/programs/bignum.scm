;;; bignum: exact-integer arithmetic on large numbers: pi to D digits by
;;; the Chudnovsky series (binary splitting, exact-integer-sqrt), and 3^E
;;; converted to a decimal string (bignum multiplication, division and
;;; number->string); both R times.
;;; args: (10000 100000 8)
;;; expect: (10000 44897 375678 47713 214074)
;;; quick-args: (100 1000 1)
;;; quick-expect: (100 480 170679 478 2142)
(define (chudnovsky-split a b)
  ;; (P Q T) of the terms a <= k < b of the Chudnovsky series.
  (if (= (- b a) 1)
      (let* ((p (if (= a 0) 1 (* (- (* 6 a) 5) (- (* 2 a) 1) (- (* 6 a) 1))))
             (q (if (= a 0) 1 (* a a a 10939058860032000)))
             (t (* p (+ 13591409 (* 545140134 a)))))
        (list p q (if (odd? a) (- t) t)))
      (let* ((m (quotient (+ a b) 2))
             (left (chudnovsky-split a m))
             (right (chudnovsky-split m b)))
        (list (* (car left) (car right))
              (* (cadr left) (cadr right))
              (+ (* (caddr left) (cadr right))
                 (* (car left) (caddr right)))))))

(define (pi-digits digits)
  ;; floor(pi * 10^digits), computed with 10 guard digits.
  (let* ((scaled (+ digits 10))
         (pqt (chudnovsky-split 0 (+ (quotient scaled 14) 2)))
         (one (expt 10 scaled)))
    (call-with-values
      (lambda () (exact-integer-sqrt (* 10005 one one)))
      (lambda (root rest)
        (quotient (quotient (* 426880 root (cadr pqt)) (caddr pqt))
                  (expt 10 10))))))

(define (digit-sum s)
  (let loop ((i 0) (sum 0))
    (if (= i (string-length s))
        sum
        (loop (+ i 1)
              (+ sum (- (char->integer (string-ref s i)) (char->integer #\0)))))))

;; One round's result: the number of decimals of pi, the sum of all its
;; digits (the leading 3 included), its last six decimals, then the length
;; and digit sum of 3^E in decimal.
(define (bignum-round digits e)
  (let* ((pi-string (number->string (pi-digits digits)))
         (power-string (number->string (expt 3 e))))
    (list (- (string-length pi-string) 1)
          (digit-sum pi-string)
          (string->number (substring pi-string (- (string-length pi-string) 6)
                                     (string-length pi-string)))
          (string-length power-string)
          (digit-sum power-string))))

;; Every round must give the same result (so none of them is dead code).
(define (bench-main digits e rounds)
  (let loop ((i 1) (result (bignum-round digits e)))
    (cond ((= i rounds) result)
          ((equal? result (bignum-round digits e)) (loop (+ i 1) result))
          (else (list 'mismatch i)))))
