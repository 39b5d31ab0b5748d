;;; `format`, serving both SRFI 28 (basic) and SRFI 48 (intermediate)
;;; (docs/srfi.md). The output is built in a string port, then returned or
;;; written to the destination port in one piece.

(define %format-help
  "(format [port] format-string obj ...)
  port: #f or absent returns a string, #t writes to the current output port
~a display  ~s write  ~w write with shared structure  ~y pretty-print
~d decimal  ~x hexadecimal  ~o octal  ~b binary  ~c write-char
~w,dF fixed: width w, d digits after the point  ~? ~k indirection
~~ tilde  ~t tab  ~% newline  ~& fresh line  ~_ space  ~h this help
")

(define (%format-spaces n out)
  (do ((i 0 (+ i 1))) ((>= i n)) (write-char #\space out)))

;; The digits of the real `x` rounded to `d` places after the point.
(define (%format-fixed-real x d)
  (if (or (nan? x) (infinite? x))
      (number->string x)
      (let* ((e (exact x))
             (scale (expt 10 d))
             (n (round (* (abs e) scale)))
             (int (quotient n scale))
             (frac (number->string (remainder n scale)))
             (sign (if (or (negative? e) (and (zero? e) (eqv? x -0.0))) "-" "")))
        (string-append sign (number->string int) "."
                       (if (= d 0)
                           ""
                           (string-append (make-string (- d (string-length frac)) #\0) frac))))))

(define (%format-fixed obj width digits)
  (let ((text
         (cond ((and (number? obj) digits)
                (if (real? obj)
                    (%format-fixed-real (inexact obj) digits)
                    (let ((re (%format-fixed-real (inexact (real-part obj)) digits))
                          (im (%format-fixed-real (inexact (imag-part obj)) digits)))
                      (string-append re (if (char=? (string-ref im 0) #\-) "" "+") im "i"))))
               ((number? obj) (number->string obj))
               ((string? obj) obj)
               (else (error "format: ~F needs a number or a string" obj)))))
    (if (and width (< (string-length text) width))
        (string-append (make-string (- width (string-length text)) #\space) text)
        text)))

(define (%format-into out fmt args)
  (let ((len (string-length fmt)) (fresh #f))
    ;; `fresh` is #t when the last character written was a newline.
    (define (emit-string s)
      (write-string s out)
      (when (> (string-length s) 0)
        (set! fresh (char=? (string-ref s (- (string-length s) 1)) #\newline))))
    (define (emit-char c) (write-char c out) (set! fresh (char=? c #\newline)))
    (define (to-string proc obj)
      (let ((p (open-output-string))) (proc obj p) (get-output-string p)))
    (define (next args directive)
      (when (null? args)
        (error "format: too few arguments for directive" (string #\~ directive) fmt))
      (car args))
    (define (number-arg args directive)
      (let ((n (next args directive)))
        (unless (number? n)
          (error (string-append "format: ~" (string directive) " needs a number") n))
        n))
    ;; Reads the optional "w" or "w,d" parameters of ~F starting at i.
    (define (read-int i)
      (let loop ((j i) (n #f))
        (if (and (< j len) (char-numeric? (string-ref fmt j)))
            (loop (+ j 1) (+ (* 10 (or n 0)) (digit-value (string-ref fmt j))))
            (values n j))))
    (let loop ((i 0) (args args))
      (cond
       ((>= i len)
        (unless (null? args)
          (error "format: too many arguments" fmt args)))
       ((not (char=? (string-ref fmt i) #\~))
        (emit-char (string-ref fmt i))
        (loop (+ i 1) args))
       ((>= (+ i 1) len) (error "format: incomplete directive at end" fmt))
       (else
        (let ((c (char-downcase (string-ref fmt (+ i 1)))))
          (case c
            ((#\a) (emit-string (to-string display (next args c))) (loop (+ i 2) (cdr args)))
            ((#\s) (emit-string (to-string write (next args c))) (loop (+ i 2) (cdr args)))
            ((#\w) (emit-string (to-string write-shared (next args c))) (loop (+ i 2) (cdr args)))
            ((#\y)
             (emit-string (to-string write (next args c)))
             (emit-char #\newline)
             (loop (+ i 2) (cdr args)))
            ((#\d) (emit-string (number->string (number-arg args c) 10)) (loop (+ i 2) (cdr args)))
            ((#\x) (emit-string (number->string (number-arg args c) 16)) (loop (+ i 2) (cdr args)))
            ((#\o) (emit-string (number->string (number-arg args c) 8)) (loop (+ i 2) (cdr args)))
            ((#\b) (emit-string (number->string (number-arg args c) 2)) (loop (+ i 2) (cdr args)))
            ((#\c)
             (let ((ch (next args c)))
               (unless (char? ch) (error "format: ~c needs a character" ch))
               (emit-char ch)
               (loop (+ i 2) (cdr args))))
            ((#\? #\k)
             (let ((sub (next args c)))
               (unless (string? sub) (error "format: ~? needs a format string" sub))
               (when (null? (cdr args)) (error "format: ~? needs an argument list" fmt))
               (let ((sub-args (cadr args)))
                 (unless (list? sub-args) (error "format: ~? needs an argument list" sub-args))
                 (emit-string (%format-string sub sub-args))
                 (loop (+ i 2) (cddr args)))))
            ((#\~) (emit-char #\~) (loop (+ i 2) args))
            ((#\%) (emit-char #\newline) (loop (+ i 2) args))
            ((#\t) (emit-char #\tab) (loop (+ i 2) args))
            ((#\_) (emit-char #\space) (loop (+ i 2) args))
            ((#\&) (unless fresh (emit-char #\newline)) (loop (+ i 2) args))
            ((#\h) (emit-string %format-help) (loop (+ i 2) args))
            (else
             ;; ~F with optional width and digits: ~F, ~wF, ~w,dF.
             (call-with-values (lambda () (read-int (+ i 1)))
               (lambda (width j)
                 (call-with-values
                     (lambda ()
                       (if (and (< j len) (char=? (string-ref fmt j) #\,))
                           (read-int (+ j 1))
                           (values #f j)))
                   (lambda (digits k)
                     (if (and (< k len) (char-ci=? (string-ref fmt k) #\f))
                         (begin
                           (emit-string (%format-fixed (next args #\F) width digits))
                           (loop (+ k 1) (cdr args)))
                         (error "format: unknown directive"
                                (substring fmt i (min len (+ k 1))) fmt))))))))))))))

(define (%format-string fmt args)
  (let ((out (open-output-string)))
    (%format-into out fmt args)
    (get-output-string out)))

(define (format first . rest)
  (cond ((string? first) (%format-string first rest))
        ((null? rest) (error "format: missing format string" first))
        ((not (string? (car rest))) (error "format: format string is not a string" (car rest)))
        ((eq? first #f) (%format-string (car rest) (cdr rest)))
        ((eq? first #t)
         (write-string (%format-string (car rest) (cdr rest)) (current-output-port)))
        ((output-port? first)
         (write-string (%format-string (car rest) (cdr rest)) first))
        (else (error "format: destination must be #f, #t or an output port" first))))
