;;; nqueens: count the solutions of the n-queens problem with lists, repeated.
;;; args: (10 50)
;;; expect: 724
;;; quick-args: (6 1)
;;; quick-expect: 4
(define (one-to n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons i acc)))))

;; Can a queen on row `row` stand with the queens already placed, whose rows
;; are listed in `placed` from the nearest column outwards?
(define (safe? row dist placed)
  (cond ((null? placed) #t)
        ((or (= (car placed) (+ row dist))
             (= (car placed) (- row dist)))
         #f)
        (else (safe? row (+ dist 1) (cdr placed)))))

(define (try candidates rejected placed)
  (if (null? candidates)
      (if (null? rejected) 1 0)
      (+ (if (safe? (car candidates) 1 placed)
             (try (append (cdr candidates) rejected)
                  '()
                  (cons (car candidates) placed))
             0)
         (try (cdr candidates)
              (cons (car candidates) rejected)
              placed))))

(define (queens n) (try (one-to n) '() '()))

(define (bench-main n reps)
  (let loop ((i 1) (r (queens n)))
    (if (= i reps) r (loop (+ i 1) (queens n)))))
