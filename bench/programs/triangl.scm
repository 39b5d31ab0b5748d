;;; triangl: count the ways to solve triangular peg solitaire (15 holes,
;;; one empty) by exhaustive search (vectors, backtracking), repeated.
;;; args: (4 1 2)
;;; expect: (36 1550)
;;; quick-args: (0 10 1)
;;; quick-expect: (36 222)
;; Holes are numbered row by row, (r, c) with 0 <= c <= r < 5.  A move
;; jumps a peg over a neighbour into an empty hole in one of six
;; directions; the table of moves is computed, not written out.

(define (hole r c) (+ (quotient (* r (+ r 1)) 2) c))
(define (on-board? r c) (and (>= r 0) (< r 5) (>= c 0) (<= c r)))

(define (make-moves)
  (let ((dirs '((0 . 1) (0 . -1) (1 . 0) (-1 . 0) (1 . 1) (-1 . -1))))
    (let rows ((r 0) (acc '()))
      (if (= r 5)
          (list->vector (reverse acc))
          (let cols ((c 0) (acc acc))
            (if (> c r)
                (rows (+ r 1) acc)
                (let try ((ds dirs) (acc acc))
                  (if (null? ds)
                      (cols (+ c 1) acc)
                      (let* ((dr (car (car ds))) (dc (cdr (car ds)))
                             (r2 (+ r (* 2 dr))) (c2 (+ c (* 2 dc))))
                        (try (cdr ds)
                             (if (on-board? r2 c2)
                                 (cons (vector (hole r c) (hole (+ r dr) (+ c dc)) (hole r2 c2))
                                       acc)
                                 acc)))))))))))

;; Number of move sequences from `board` (a vector of booleans, #t = peg,
;; `pegs` of them) that end with `goal` pegs left (1 for solutions).
(define (solutions board pegs goal moves)
  (if (= pegs goal)
      1
      (let loop ((i 0) (count 0))
        (if (= i (vector-length moves))
            count
            (let* ((m (vector-ref moves i))
                   (from (vector-ref m 0)) (over (vector-ref m 1)) (to (vector-ref m 2)))
              (if (and (vector-ref board from)
                       (vector-ref board over)
                       (not (vector-ref board to)))
                  (begin
                    (vector-set! board from #f)
                    (vector-set! board over #f)
                    (vector-set! board to #t)
                    (let ((n (solutions board (- pegs 1) goal moves)))
                      (vector-set! board from #t)
                      (vector-set! board over #t)
                      (vector-set! board to #f)
                      (loop (+ i 1) (+ count n))))
                  (loop (+ i 1) count)))))))

(define (bench-main empty goal reps)
  (let ((moves (make-moves)))
    (let loop ((r 1) (result 0))
      (if (> r reps)
          (list (vector-length moves) result)
          (let ((board (make-vector 15 #t)))
            (vector-set! board empty #f)
            (loop (+ r 1) (solutions board 14 goal moves)))))))
