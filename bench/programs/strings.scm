;;; strings: build strings (string-set!, string-append, substring,
;;; number->string) and search them (string-ref, char=?, string=?).
;;; args: (200000 10)
;;; expect: (755 821 128890 11111 299)
;;; quick-args: (500 2)
;;; quick-expect: (2 3 190 11 14)
;; A pseudo-random text over "abcd" is built character by character, a
;; second text by appending numbered words; both are searched naively.

(define (random-text len seed)
  (let ((s (make-string len #\a))
        (letters "abcd"))
    (let loop ((i 0) (x seed))
      (if (= i len)
          s
          (begin
            (string-set! s i (string-ref letters (remainder x 4)))
            (loop (+ i 1) (remainder (* x 16807) 2147483647)))))))

;; Count the occurrences of `pat` in `text`, overlapping ones included.
(define (count-matches text pat)
  (let ((n (string-length text))
        (m (string-length pat)))
    (let outer ((i 0) (count 0))
      (if (> (+ i m) n)
          count
          (outer (+ i 1)
                 (let inner ((j 0))
                   (cond ((= j m) (+ count 1))
                         ((char=? (string-ref text (+ i j)) (string-ref pat j))
                          (inner (+ j 1)))
                         (else count))))))))

;; Join the words "w0" .. "w{k-1}" with dashes, in chunks of 100 words.
(define (numbered-words k)
  (let loop ((i 0) (chunk "") (chunks '()))
    (cond ((= i k) (apply string-append (reverse (cons chunk chunks))))
          ((= (remainder i 100) 99)
           (loop (+ i 1) "" (cons (string-append chunk "w" (number->string i) "-") chunks)))
          (else
           (loop (+ i 1) (string-append chunk "w" (number->string i) "-") chunks)))))

;; Count the words of `text` (separated by #\-) whose digits read the same
;; backwards.
(define (count-palindromes text)
  (let ((n (string-length text)))
    (let loop ((start 0) (i 0) (count 0))
      (cond ((= i n) count)
            ((char=? (string-ref text i) #\-)
             (let* ((word (substring text (+ start 1) i))
                    (rev (list->string (reverse (string->list word)))))
               (loop (+ i 1) (+ i 1) (if (string=? word rev) (+ count 1) count))))
            (else (loop start (+ i 1) count))))))

(define (bench-main len reps)
  (let loop ((r 1) (result '()))
    (if (> r reps)
        result
        (let* ((text (random-text len r))
               (words (numbered-words (quotient len 10))))
          (loop (+ r 1)
                (list (count-matches text "abca")
                      (count-matches text "dddd")
                      (string-length words)
                      (count-matches words "w1")
                      (count-palindromes words)))))))
