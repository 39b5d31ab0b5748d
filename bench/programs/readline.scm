;;; readline: read a text file line by line with read-line (lines of
;;; words, numbers and UTF-8 text; file ports, UTF-8 decoding).
;;; args: ()
;;; expect: (804101 46159438 48687)
;;; quick-args: ()
;;; quick-expect: (1599 92269 117)
;;; input: text 50000000
;;; quick-input: text 100000
;;; glue: unicode
;; The harness generates lines.txt (see bench/src/inputs.rs) and runs the
;; program in its directory.  The result: the number of lines, of
;; characters in them (newlines excluded) and of empty lines.

(define (bench-main)
  (call-with-input-file "lines.txt"
    (lambda (port)
      (let loop ((lines 0) (chars 0) (empty 0))
        (let ((line (read-line port)))
          (if (eof-object? line)
              (list lines chars empty)
              (let ((n (string-length line)))
                (loop (+ lines 1)
                      (+ chars n)
                      (if (= n 0) (+ empty 1) empty)))))))))
