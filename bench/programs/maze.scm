;;; maze: generate a random maze on a grid (Kruskal's algorithm with
;;; union-find over a shuffled wall list) and find the shortest path
;;; through it by breadth-first search (vectors, fixnums), repeated.
;;; args: (100 100 50)
;;; expect: (466 191032)
;;; quick-args: (5 4 1)
;;; quick-expect: (7 846139)
;; Cell (x, y) is number x + w*y.  A wall is the pair of cells it
;; separates, encoded as one fixnum.  The result is the path length from
;; the top-left to the bottom-right cell and a checksum of the open walls.

(define (find-root parent i)
  (let ((p (vector-ref parent i)))
    (if (= p i)
        i
        (let ((r (find-root parent p)))
          (vector-set! parent i r)
          r))))

(define (make-walls w h)
  (let loop ((c 0) (acc '()))
    (if (= c (* w h))
        (list->vector acc)
        (let* ((x (remainder c w))
               (acc (if (< (+ x 1) w) (cons (+ (* c 2) 0) acc) acc))
               (acc (if (< (+ c w) (* w h)) (cons (+ (* c 2) 1) acc) acc)))
          (loop (+ c 1) acc)))))

(define (shuffle! v seed)
  (let loop ((i (- (vector-length v) 1)) (x seed))
    (cond ((> i 0)
           (let* ((x (remainder (* x 16807) 2147483647))
                  (j (remainder x (+ i 1)))
                  (t (vector-ref v i)))
             (vector-set! v i (vector-ref v j))
             (vector-set! v j t)
             (loop (- i 1) x))))))

;; The open passages as adjacency lists: a vector of lists of cells.
(define (make-maze w h seed)
  (let ((walls (make-walls w h))
        (parent (make-vector (* w h) 0))
        (adj (make-vector (* w h) '())))
    (do ((i 0 (+ i 1))) ((= i (* w h)))
      (vector-set! parent i i))
    (shuffle! walls seed)
    (do ((k 0 (+ k 1))) ((= k (vector-length walls)) adj)
      (let* ((wall (vector-ref walls k))
             (a (quotient wall 2))
             (b (if (= 0 (remainder wall 2)) (+ a 1) (+ a w)))
             (ra (find-root parent a))
             (rb (find-root parent b)))
        (cond ((not (= ra rb))
               (vector-set! parent ra rb)
               (vector-set! adj a (cons b (vector-ref adj a)))
               (vector-set! adj b (cons a (vector-ref adj b)))))))))

(define (path-length adj from to)
  (let ((dist (make-vector (vector-length adj) -1))
        (queue (make-vector (vector-length adj) 0)))
    (vector-set! dist from 0)
    (vector-set! queue 0 from)
    (let loop ((head 0) (tail 1))
      (if (= head tail)
          (vector-ref dist to)
          (let ((c (vector-ref queue head)))
            (let each ((ns (vector-ref adj c)) (tail tail))
              (cond ((null? ns) (loop (+ head 1) tail))
                    ((< (vector-ref dist (car ns)) 0)
                     (vector-set! dist (car ns) (+ 1 (vector-ref dist c)))
                     (vector-set! queue tail (car ns))
                     (each (cdr ns) (+ tail 1)))
                    (else (each (cdr ns) tail)))))))))

(define (checksum adj)
  (let loop ((i 0) (acc 0))
    (if (= i (vector-length adj))
        acc
        (loop (+ i 1)
              (remainder (+ (* acc 31) (apply + (vector-ref adj i))) 1000003)))))

(define (bench-main w h reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (let ((adj (make-maze w h r)))
          (loop (+ r 1)
                (list (path-length adj 0 (- (* w h) 1)) (checksum adj)))))))
