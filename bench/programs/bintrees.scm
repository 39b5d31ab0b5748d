;;; bintrees: binary-trees allocation benchmark (GC-heavy: many short-lived
;;; trees built and checked while a long-lived tree stays reachable).
;;; args: (17)
;;; expect: (524287 4063232 4161536 4186112 4192256 4193792 4194176 4194272 262143)
;;; quick-args: (6)
;;; quick-expect: (255 1984 2032 127)
(define-record-type node
  (make-node left right)
  node?
  (left node-left)
  (right node-right))

(define (make-tree depth)
  (if (= depth 0)
      (make-node #f #f)
      (make-node (make-tree (- depth 1)) (make-tree (- depth 1)))))

(define (check tree)
  (if (node-left tree)
      (+ 1 (check (node-left tree)) (check (node-right tree)))
      1))

(define (bench-main max-depth)
  (let* ((min-depth 4)
         (stretch (check (make-tree (+ max-depth 1))))
         (long-lived (make-tree max-depth)))
    (let loop ((depth min-depth) (results (list stretch)))
      (if (> depth max-depth)
          (reverse (cons (check long-lived) results))
          (let ((iterations (expt 2 (+ (- max-depth depth) min-depth))))
            (let inner ((i 0) (sum 0))
              (if (< i iterations)
                  (inner (+ i 1) (+ sum (check (make-tree depth))))
                  (loop (+ depth 2) (cons sum results)))))))))
