;;; puzzle: pack 18 boxes of four shapes into a 5x5x5 cube by backtracking
;;; search (vectors, nested loops), after Forest Baskett's puzzle, repeated.
;;; args: (250)
;;; expect: (#t 1990)
;;; quick-args: (1)
;;; quick-expect: (#t 1990)
;; Shapes: 13 boxes 1x2x4, 3 boxes 1x1x3, one 1x2x2 and one 2x2x2 (125
;; cells in all).  Each orientation of a shape is a piece type, given by
;; its extent minus one along x, y and z.  The search always fills the
;; lowest empty cell, which must be the lowest corner of the piece put
;; there.  The result is (solved? placements-tried).

(define piece-types
  ;; (class dx dy dz)
  '#((0 3 1 0) (0 1 0 3) (0 0 3 1) (0 1 3 0) (0 3 0 1) (0 0 1 3)
     (1 2 0 0) (1 0 2 0) (1 0 0 2)
     (2 0 1 1) (2 1 0 1) (2 1 1 0)
     (3 1 1 1)))

(define (cell x y z) (+ x (* 5 y) (* 25 z)))

;; The cells a piece type covers with its lowest corner at (x, y, z), or
;; #f when it sticks out of the cube.
(define (piece-cells type x y z)
  (let ((dx (cadr type)) (dy (caddr type)) (dz (cadddr type)))
    (and (< (+ x dx) 5) (< (+ y dy) 5) (< (+ z dz) 5)
         (let loop ((i 0) (j 0) (k 0) (acc '()))
           (cond ((> k dz) acc)
                 ((> j dy) (loop 0 0 (+ k 1) acc))
                 ((> i dx) (loop 0 (+ j 1) k acc))
                 (else (loop (+ i 1) j k
                             (cons (cell (+ x i) (+ y j) (+ z k)) acc))))))))

;; placements: a vector indexed by cell of vectors indexed by type of the
;; covered cells (or #f); computed once per round.
(define (make-placements)
  (let ((v (make-vector 125 #f)))
    (do ((c 0 (+ c 1))) ((= c 125) v)
      (let ((x (remainder c 5)) (y (remainder (quotient c 5) 5)) (z (quotient c 25))
            (row (make-vector (vector-length piece-types) #f)))
        (do ((t 0 (+ t 1))) ((= t (vector-length piece-types)))
          (vector-set! row t (piece-cells (vector-ref piece-types t) x y z)))
        (vector-set! v c row)))))

(define (all-empty? cube cells)
  (or (null? cells)
      (and (not (vector-ref cube (car cells)))
           (all-empty? cube (cdr cells)))))

(define (mark! cube cells val)
  (cond ((pair? cells)
         (vector-set! cube (car cells) val)
         (mark! cube (cdr cells) val))))

(define (solve placements)
  (let ((cube (make-vector 125 #f))
        (left (vector 13 3 1 1))
        (tries 0))
    (define (search start)
      (let find ((c start))
        (cond ((= c 125) #t)
              ((vector-ref cube c) (find (+ c 1)))
              (else
               (let ((row (vector-ref placements c)))
                 (let try ((t 0))
                   (if (= t (vector-length piece-types))
                       #f
                       (let ((class (car (vector-ref piece-types t)))
                             (cells (vector-ref row t)))
                         (if (and cells
                                  (> (vector-ref left class) 0)
                                  (all-empty? cube cells))
                             (begin
                               (set! tries (+ tries 1))
                               (mark! cube cells #t)
                               (vector-set! left class (- (vector-ref left class) 1))
                               (if (search (+ c 1))
                                   #t
                                   (begin
                                     (mark! cube cells #f)
                                     (vector-set! left class (+ (vector-ref left class) 1))
                                     (try (+ t 1)))))
                             (try (+ t 1)))))))))))
    (let ((ok (search 0)))
      (list ok tries))))

(define (bench-main reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (loop (+ r 1) (solve (make-placements))))))
