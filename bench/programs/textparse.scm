;;; textparse: write records as comma-separated text into a string port,
;;; then parse the text back (string ports, display, string-ref,
;;; substring, string->number, char predicates), repeated.
;;; args: (20000 5)
;;; expect: (20000 992204394 -49758479 49878 652874)
;;; quick-args: (10 1)
;;; quick-expect: (10 363405 -24769 23 879433)
;; A record is  name,integer,-integer,word word word;  one per line.  The
;; parser splits lines and fields by hand, converts the first number
;; digit by digit and the second with string->number, and counts the
;; words.  The result is (records sum1 sum2 words name-hash).

(define syllables '#("ka" "lo" "mi" "ne" "ru" "sa" "to" "vi"))

(define (make-name x)
  (string-append (vector-ref syllables (remainder x 8))
                 (vector-ref syllables (remainder (quotient x 8) 8))
                 (vector-ref syllables (remainder (quotient x 64) 8))))

(define (build-text n)
  (let ((out (open-output-string)))
    (let loop ((i 0) (x 7))
      (cond ((< i n)
             (display (make-name x) out)
             (display "," out)
             (display (remainder x 100000) out)
             (display "," out)
             (display (- (remainder (quotient x 7) 5000)) out)
             (display "," out)
             (let words ((k (+ 1 (remainder x 4))))
               (cond ((> k 0)
                      (display (make-name (+ x k)) out)
                      (cond ((> k 1) (display " " out)))
                      (words (- k 1)))))
             (newline out)
             (loop (+ i 1) (remainder (* x 16807) 2147483647)))))
    (get-output-string out)))

;; Index of the first occurrence of ch in s at or after i (or the end).
(define (find-char s ch i)
  (cond ((= i (string-length s)) i)
        ((char=? (string-ref s i) ch) i)
        (else (find-char s ch (+ i 1)))))

(define (parse-digits s start end)
  (let loop ((i start) (acc 0))
    (if (= i end)
        acc
        (loop (+ i 1) (+ (* acc 10) (- (char->integer (string-ref s i)) 48))))))

(define (count-words s start end)
  (let loop ((i start) (in-word #f) (count 0))
    (cond ((= i end) count)
          ((char-alphabetic? (string-ref s i))
           (loop (+ i 1) #t (if in-word count (+ count 1))))
          (else (loop (+ i 1) #f count)))))

(define (name-hash s)
  (let loop ((i 0) (h 0))
    (if (= i (string-length s))
        h
        (loop (+ i 1) (remainder (+ (* h 31) (char->integer (string-ref s i))) 1000003)))))

(define (parse text)
  (let loop ((pos 0) (records 0) (sum1 0) (sum2 0) (words 0) (hash 0))
    (if (>= pos (string-length text))
        (list records sum1 sum2 words hash)
        (let* ((eol (find-char text #\newline pos))
               (c1 (find-char text #\, pos))
               (c2 (find-char text #\, (+ c1 1)))
               (c3 (find-char text #\, (+ c2 1)))
               (name (substring text pos c1)))
          (loop (+ eol 1)
                (+ records 1)
                (+ sum1 (parse-digits text (+ c1 1) c2))
                (+ sum2 (string->number (substring text (+ c2 1) c3)))
                (+ words (count-words text (+ c3 1) eol))
                (remainder (+ (* hash 7) (name-hash name)) 1000003))))))

(define (bench-main n reps)
  (let loop ((r 1) (result #f))
    (if (> r reps)
        result
        (loop (+ r 1) (parse (build-text n))))))
