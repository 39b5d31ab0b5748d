;;; SRFI 151: bitwise operations (docs/srfi.md). bitwise-and/ior/xor/not,
;;; arithmetic-shift, bit-count and integer-length are Rust builtins
;;; (src/runtime/builtins/srfi.rs) working on fixnums and bignums alike;
;;; everything here is built from them.

(define (bitwise-eqv . args)
  (let loop ((args args) (acc -1))
    (if (pair? args)
        (loop (cdr args) (bitwise-not (bitwise-xor acc (car args))))
        acc)))

(define (bitwise-nand i j) (bitwise-not (bitwise-and i j)))
(define (bitwise-nor i j) (bitwise-not (bitwise-ior i j)))
(define (bitwise-andc1 i j) (bitwise-and (bitwise-not i) j))
(define (bitwise-andc2 i j) (bitwise-and i (bitwise-not j)))
(define (bitwise-orc1 i j) (bitwise-ior (bitwise-not i) j))
(define (bitwise-orc2 i j) (bitwise-ior i (bitwise-not j)))

(define (shift-left i n) (arithmetic-shift i n))
(define (shift-right i n) (arithmetic-shift i (- n)))

(define (bitwise-if mask i j)
  (bitwise-ior (bitwise-and mask i) (bitwise-and (bitwise-not mask) j)))

;; ---- single bits ----

(define (bit-set? index i)
  (odd? (arithmetic-shift i (- index))))

(define (copy-bit index i boolean)
  (if boolean
      (bitwise-ior i (arithmetic-shift 1 index))
      (bitwise-and i (bitwise-not (arithmetic-shift 1 index)))))

(define (bit-swap index1 index2 i)
  (let ((b1 (bit-set? index1 i)) (b2 (bit-set? index2 i)))
    (copy-bit index2 (copy-bit index1 i b2) b1)))

(define (any-bit-set? test-bits i) (not (zero? (bitwise-and test-bits i))))
(define (every-bit-set? test-bits i) (= test-bits (bitwise-and test-bits i)))

(define (first-set-bit i)
  (if (zero? i)
      -1
      (- (integer-length (bitwise-and i (- i))) 1)))

;; ---- bit fields ----

(define (%mask start end)
  (arithmetic-shift (- (arithmetic-shift 1 (- end start)) 1) start))

(define (bit-field i start end)
  (bitwise-and (arithmetic-shift i (- start))
               (- (arithmetic-shift 1 (- end start)) 1)))

(define (bit-field-any? i start end)
  (not (zero? (bitwise-and i (%mask start end)))))

(define (bit-field-every? i start end)
  (let ((m (%mask start end))) (= m (bitwise-and i m))))

(define (bit-field-clear i start end)
  (bitwise-and i (bitwise-not (%mask start end))))

(define (bit-field-set i start end)
  (bitwise-ior i (%mask start end)))

(define (bit-field-replace dest source start end)
  (bit-field-replace-same dest (arithmetic-shift source start) start end))

(define (bit-field-replace-same dest source start end)
  (bitwise-if (%mask start end) source dest))

(define (bit-field-rotate i count start end)
  (let ((width (- end start)))
    (if (<= width 0)
        i
        (let* ((count (modulo count width))
               (field (bit-field i start end))
               (rotated (bitwise-ior
                         (bitwise-and (arithmetic-shift field count)
                                      (- (arithmetic-shift 1 width) 1))
                         (arithmetic-shift field (- count width)))))
          (bit-field-replace i rotated start end)))))

(define (bit-field-reverse i start end)
  (let loop ((field (bit-field i start end)) (k (- end start)) (acc 0))
    (if (<= k 0)
        (bit-field-replace i acc start end)
        (loop (arithmetic-shift field -1) (- k 1)
              (bitwise-ior (arithmetic-shift acc 1) (bitwise-and field 1))))))

;; ---- bits as booleans ----

(define (bits->list i . maybe-len)
  (let ((len (if (pair? maybe-len) (car maybe-len) (integer-length i))))
    (let loop ((k (- len 1)) (acc '()))
      (if (< k 0) acc (loop (- k 1) (cons (bit-set? k i) acc))))))

(define (bits->vector i . maybe-len)
  (list->vector (apply bits->list i maybe-len)))

(define (list->bits l)
  (let loop ((l (reverse l)) (acc 0))
    (if (pair? l)
        (loop (cdr l) (bitwise-ior (arithmetic-shift acc 1) (if (car l) 1 0)))
        acc)))

(define (vector->bits v) (list->bits (vector->list v)))

(define (bits . booleans) (list->bits booleans))

(define (bitwise-fold proc seed i)
  (let ((len (integer-length i)))
    (let loop ((k 0) (acc seed))
      (if (< k len) (loop (+ k 1) (proc (bit-set? k i) acc)) acc))))

(define (bitwise-for-each proc i)
  (let ((len (integer-length i)))
    (let loop ((k 0))
      (when (< k len) (proc (bit-set? k i)) (loop (+ k 1))))))

(define (bitwise-unfold stop? mapper successor seed)
  (let loop ((seed seed) (k 0) (acc 0))
    (if (stop? seed)
        acc
        (loop (successor seed) (+ k 1)
              (if (mapper seed) (bitwise-ior acc (arithmetic-shift 1 k)) acc)))))

(define (make-bitwise-generator i)
  (lambda ()
    (let ((b (odd? i)))
      (set! i (arithmetic-shift i -1))
      b)))
