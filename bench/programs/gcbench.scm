;;; gcbench: build and drop complete binary trees of several depths, top
;;; down (mutation) and bottom up, while a long-lived tree and a flonum
;;; vector stay reachable (records, allocation, collector).
;;; args: (15 14)
;;; expect: (12495552 #t 1)
;;; quick-args: (8 6)
;;; quick-expect: (48480 #t 1)
;; After Boehm's GC benchmark, rewritten: for each even depth d from 4 to
;; max-depth, build 2^(max-depth - d + 4) trees each way and count their
;; nodes; the result sums every count and checks the long-lived data.

(define-record-type node
  (make-node left right)
  node?
  (left node-left set-node-left!)
  (right node-right set-node-right!))

(define (tree-size d) (- (expt 2 (+ d 1)) 1))

(define (populate! d n)
  (cond ((> d 0)
         (set-node-left! n (make-node #f #f))
         (set-node-right! n (make-node #f #f))
         (populate! (- d 1) (node-left n))
         (populate! (- d 1) (node-right n)))))

(define (make-tree d)
  (if (= d 0)
      (make-node #f #f)
      (make-node (make-tree (- d 1)) (make-tree (- d 1)))))

(define (count-nodes n)
  (if (node-left n)
      (+ 1 (count-nodes (node-left n)) (count-nodes (node-right n)))
      1))

(define (bench-main max-depth long-lived-depth)
  (let ((long-lived (make-node #f #f))
        (floats (make-vector 50000 0.0)))
    (populate! long-lived-depth long-lived)
    (do ((i 0 (+ i 1))) ((= i 50000))
      (vector-set! floats i (/ 1.0 (exact->inexact (+ i 1)))))
    (let depths ((d 4) (total 0))
      (if (> d max-depth)
          (list total
                (= (count-nodes long-lived) (tree-size long-lived-depth))
                (exact (round (* 1000.0 (vector-ref floats 1000)))))
          (let ((iters (expt 2 (+ (- max-depth d) 4))))
            (let trees ((i 0) (total total))
              (if (= i iters)
                  (depths (+ d 2) total)
                  (let ((a (make-node #f #f)))
                    (populate! d a)
                    (let ((b (make-tree d)))
                      (trees (+ i 1)
                             (+ total (count-nodes a) (count-nodes b))))))))))))
