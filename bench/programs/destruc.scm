;;; destruc: destroy and rebuild lists in place (set-car!/set-cdr!, some copying).
;;; args: (100 100 2000)
;;; expect: 187801695
;;; quick-args: (5 4 3)
;;; quick-expect: 3263
;; A list of `n` rows of `m` numbers each goes through `rounds` rounds.  Each
;; round reverses every row in place, bumps every number, cuts every row and
;; splices its tail onto the front of the next row (the last row feeds the
;; first), and rebuilds half of the rows as fresh copies.  The result is a
;; checksum of the final structure.

(define (make-rows n m)
  (let outer ((i n) (rows '()))
    (if (= i 0)
        rows
        (outer (- i 1)
               (cons (let inner ((j m) (row '()))
                       (if (= j 0)
                           row
                           (inner (- j 1) (cons (+ (* (- i 1) m) j) row))))
                     rows)))))

(define (reverse-in-place! l)
  (let loop ((l l) (acc '()))
    (if (null? l)
        acc
        (let ((next (cdr l)))
          (set-cdr! l acc)
          (loop next l)))))

(define (bump! l)
  (cond ((pair? l)
         (set-car! l (+ (car l) 1))
         (bump! (cdr l)))))

(define (copy-row l)
  (let loop ((l l) (acc '()))
    (if (null? l)
        (reverse-in-place! acc)
        (loop (cdr l) (cons (car l) acc)))))

(define (last-cell l)
  (if (null? (cdr l)) l (last-cell (cdr l))))

;; Cut `row` after `k` cells; return the cut-off tail (possibly empty).
(define (cut! row k)
  (let loop ((cell row) (k k))
    (cond ((null? cell) '())
          ((or (= k 1) (null? (cdr cell)))
           (let ((tail (cdr cell)))
             (set-cdr! cell '())
             tail))
          (else (loop (cdr cell) (- k 1))))))

(define (round! rows r)
  ;; Reverse and bump every row.
  (let loop ((cells rows))
    (cond ((pair? cells)
           (set-car! cells (reverse-in-place! (car cells)))
           (bump! (car cells))
           (loop (cdr cells)))))
  ;; Cut each row and move its tail to the front of the next row.
  (let loop ((cells rows) (i 0) (carry '()))
    (if (pair? cells)
        (let* ((row (car cells))
               (tail (if (pair? row) (cut! row (+ 1 (remainder (+ i r) 7))) '())))
          (cond ((pair? carry)
                 (set-cdr! (last-cell carry) row)
                 (set-car! cells carry)))
          (loop (cdr cells) (+ i 1) tail))
        (cond ((pair? carry)
               (set-cdr! (last-cell carry) (car rows))
               (set-car! rows carry)))))
  ;; Rebuild half of the rows.
  (let loop ((cells rows) (i 0))
    (cond ((pair? cells)
           (cond ((even? (+ i r))
                  (set-car! cells (copy-row (car cells)))))
           (loop (cdr cells) (+ i 1))))))

(define (checksum rows)
  (let outer ((rows rows) (i 1) (sum 0))
    (if (null? rows)
        sum
        (outer (cdr rows)
               (+ i 1)
               (let inner ((row (car rows)) (j 1) (sum sum))
                 (if (null? row)
                     sum
                     (inner (cdr row)
                            (+ j 1)
                            (remainder (+ sum (* i j (car row))) 1000000007))))))))

(define (bench-main n m rounds)
  (let ((rows (make-rows n m)))
    (let loop ((r 0))
      (cond ((< r rounds)
             (round! rows r)
             (loop (+ r 1)))))
    (checksum rows)))
