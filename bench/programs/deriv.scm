;;; deriv: symbolic differentiation of a polynomial, repeated (lists, symbols).
;;; args: (2000000)
;;; expect: (+ (* (* 3 x x) (+ (/ 0 3) (/ 1 x) (/ 1 x))) (* (* a x x) (+ (/ 0 a) (/ 1 x) (/ 1 x))) (* (* b x) (+ (/ 0 b) (/ 1 x))) 0)
;;; quick-args: (10)
;;; quick-expect: (+ (* (* 3 x x) (+ (/ 0 3) (/ 1 x) (/ 1 x))) (* (* a x x) (+ (/ 0 a) (/ 1 x) (/ 1 x))) (* (* b x) (+ (/ 0 b) (/ 1 x))) 0)
(define (deriv a)
  (cond ((not (pair? a))
         (if (eq? a 'x) 1 0))
        ((eq? (car a) '+)
         (cons '+ (map deriv (cdr a))))
        ((eq? (car a) '-)
         (cons '- (map deriv (cdr a))))
        ((eq? (car a) '*)
         (list '*
               a
               (cons '+ (map (lambda (a) (list '/ (deriv a) a)) (cdr a)))))
        ((eq? (car a) '/)
         (list '-
               (list '/ (deriv (cadr a)) (caddr a))
               (list '/
                     (cadr a)
                     (list '* (caddr a) (caddr a) (deriv (caddr a))))))
        (else 'error)))

(define (bench-main reps)
  ;; The expression is built at run time so that no compiler can fold it.
  (let ((expr (list '+ (list '* 3 'x 'x) (list '* 'a 'x 'x) (list '* 'b 'x) 5)))
    (let loop ((i 1) (r (deriv expr)))
      (if (= i reps) r (loop (+ i 1) (deriv expr))))))
