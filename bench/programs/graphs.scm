;;; graphs: single-source shortest paths (Dijkstra's algorithm with a
;;; binary heap) on random sparse weighted graphs, plus a count of the
;;; nodes reachable from each of several sources (vectors, lists, fixnums).
;;; args: (20000 5 4)
;;; expect: (4283424 416 60000)
;;; quick-args: (20 3 1)
;;; quick-expect: (2556 223 60)
;; Node i has `degree` edges to pseudo-random nodes with weights 1..100,
;; and an edge to i+1 so every node is reachable from node 0.  The result
;; is (sum of distances from 0, largest distance, reachable-count sum).

(define (make-graph n degree seed)
  (let ((adj (make-vector n '())))
    (let loop ((i 0) (x seed))
      (if (= i n)
          adj
          (let edges ((k 0) (x x)
                      (out (if (< (+ i 1) n) (list (cons (+ i 1) 100)) '())))
            (if (= k degree)
                (begin (vector-set! adj i out)
                       (loop (+ i 1) x))
                (let* ((x1 (remainder (* x 16807) 2147483647))
                       (x2 (remainder (* x1 16807) 2147483647)))
                  (edges (+ k 1) x2
                         (cons (cons (remainder x1 n) (+ 1 (remainder x2 100))) out)))))))))

;; A binary min-heap of (distance . node) pairs in a vector, with its size
;; in a one-element vector; stale entries are skipped when popped.
(define (heap-push! heap size entry)
  (let up ((i (vector-ref size 0)))
    (let ((parent (quotient (- i 1) 2)))
      (if (and (> i 0) (< (car entry) (car (vector-ref heap parent))))
          (begin (vector-set! heap i (vector-ref heap parent))
                 (up parent))
          (vector-set! heap i entry))))
  (vector-set! size 0 (+ 1 (vector-ref size 0))))

(define (heap-pop! heap size)
  (let* ((top (vector-ref heap 0))
         (n (- (vector-ref size 0) 1))
         (last (vector-ref heap n)))
    (vector-set! size 0 n)
    (let down ((i 0))
      (let* ((l (+ (* 2 i) 1))
             (r (+ l 1))
             (smallest
              (if (and (< r n) (< (car (vector-ref heap r)) (car (vector-ref heap l))))
                  r
                  l)))
        (if (and (< l n) (< (car (vector-ref heap smallest)) (car last)))
            (begin (vector-set! heap i (vector-ref heap smallest))
                   (down smallest))
            (vector-set! heap i last))))
    top))

(define (shortest-paths adj degree source)
  (let* ((n (vector-length adj))
         (dist (make-vector n #f))
         (heap (make-vector (* n (+ degree 2)) #f)) ; one entry per edge at most
         (size (vector 0)))
    (vector-set! dist source 0)
    (heap-push! heap size (cons 0 source))
    (let loop ()
      (if (= 0 (vector-ref size 0))
          dist
          (let* ((e (heap-pop! heap size))
                 (d (car e))
                 (u (cdr e)))
            (cond ((= d (vector-ref dist u))
                   (let relax ((es (vector-ref adj u)))
                     (cond ((pair? es)
                            (let ((v (car (car es)))
                                  (nd (+ d (cdr (car es)))))
                              (cond ((or (not (vector-ref dist v)) (< nd (vector-ref dist v)))
                                     (vector-set! dist v nd)
                                     (heap-push! heap size (cons nd v))))
                              (relax (cdr es))))))))
            (loop))))))

(define (reachable adj source)
  (let ((seen (make-vector (vector-length adj) #f)))
    (let visit ((stack (list source)) (count 0))
      (cond ((null? stack) count)
            ((vector-ref seen (car stack)) (visit (cdr stack) count))
            (else
             (vector-set! seen (car stack) #t)
             (visit (let push ((es (vector-ref adj (car stack))) (s (cdr stack)))
                      (if (null? es) s (push (cdr es) (cons (car (car es)) s))))
                    (+ count 1)))))))

(define (bench-main n degree reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (let* ((adj (make-graph n degree r))
               (dist (shortest-paths adj degree 0)))
          (loop (+ r 1)
                (let sum ((i 0) (total 0) (most 0))
                  (if (= i n)
                      (list total most
                            (+ (reachable adj 0) (reachable adj (quotient n 2))
                               (reachable adj (- n 1))))
                      (sum (+ i 1) (+ total (vector-ref dist i))
                           (max most (vector-ref dist i))))))))))
