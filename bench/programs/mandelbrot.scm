;;; mandelbrot: count the points of a grid inside the Mandelbrot set
;;; (flonum loops).
;;; args: (560 100)
;;; expect: 54069
;;; quick-args: (20 20)
;;; quick-expect: 80
(define (inside? cr ci max-iter)
  (let loop ((zr 0.0) (zi 0.0) (i 0))
    (cond ((= i max-iter) #t)
          ((> (+ (* zr zr) (* zi zi)) 4.0) #f)
          (else (loop (+ (- (* zr zr) (* zi zi)) cr)
                      (+ (* 2.0 zr zi) ci)
                      (+ i 1))))))

(define (bench-main size max-iter)
  (let ((scale (/ 3.0 size)))
    (let rows ((y 0) (count 0))
      (if (= y size)
          count
          (let ((ci (- (* y scale) 1.5)))
            (let cols ((x 0) (count count))
              (if (= x size)
                  (rows (+ y 1) count)
                  (cols (+ x 1)
                        (if (inside? (- (* x scale) 2.0) ci max-iter)
                            (+ count 1)
                            count)))))))))
