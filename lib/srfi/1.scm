;;; SRFI 1: list library (docs/srfi.md). The procedures the core already
;;; provides with SRFI 1 behaviour (map, fold, filter, delete...) are
;;; re-exported by 1.sld; this file defines the rest. Loops are iterative
;;; (accumulate, then reverse) so long lists cost no deep recursion.

(define (xcons a b) (cons b a))

(define (cons* first . rest)
  (let loop ((x first) (rest rest))
    (if (pair? rest)
        (cons x (loop (car rest) (cdr rest)))
        x)))

(define (list-tabulate n proc)
  (let loop ((i (- n 1)) (acc '()))
    (if (< i 0) acc (loop (- i 1) (cons (proc i) acc)))))

(define (circular-list x . rest)
  (let ((l (cons x rest)))
    (set-cdr! (last-pair l) l)
    l))

;; ---- predicates ----

(define (proper-list? x) (list? x))

(define (circular-list? x)
  (let loop ((slow x) (fast x))
    (and (pair? fast)
         (let ((fast (cdr fast)))
           (and (pair? fast)
                (let ((fast (cdr fast)) (slow (cdr slow)))
                  (or (eq? fast slow) (loop slow fast))))))))

(define (dotted-list? x)
  (let loop ((slow x) (fast x))
    (cond ((null? fast) #f)
          ((not (pair? fast)) #t)
          (else
           (let ((fast (cdr fast)))
             (cond ((null? fast) #f)
                   ((not (pair? fast)) #t)
                   (else
                    (let ((fast (cdr fast)) (slow (cdr slow)))
                      (and (not (eq? fast slow)) (loop slow fast))))))))))

(define (not-pair? x) (not (pair? x)))

(define (null-list? l)
  (cond ((pair? l) #f)
        ((null? l) #t)
        (else (error "null-list?: argument out of domain" l))))

(define (list= elt= . lists)
  (define (two a b)
    (let loop ((a a) (b b))
      (cond ((null? a) (null? b))
            ((null? b) #f)
            (else (and (elt= (car a) (car b)) (loop (cdr a) (cdr b)))))))
  (let loop ((lists lists))
    (or (null? lists) (null? (cdr lists))
        (and (two (car lists) (cadr lists)) (loop (cdr lists))))))

;; ---- selectors ----

(define (first x) (car x))
(define (second x) (cadr x))
(define (third x) (caddr x))
(define (fourth x) (cadddr x))
(define (fifth x) (car (cddddr x)))
(define (sixth x) (cadr (cddddr x)))
(define (seventh x) (caddr (cddddr x)))
(define (eighth x) (cadddr (cddddr x)))
(define (ninth x) (car (cddddr (cddddr x))))
(define (tenth x) (cadr (cddddr (cddddr x))))

(define (car+cdr p) (values (car p) (cdr p)))

(define (take-right l k)
  (let loop ((lag l) (lead (drop l k)))
    (if (pair? lead) (loop (cdr lag) (cdr lead)) lag)))

(define (drop-right l k)
  (let loop ((lag l) (lead (drop l k)) (acc '()))
    (if (pair? lead)
        (loop (cdr lag) (cdr lead) (cons (car lag) acc))
        (reverse acc))))

(define (take! l k)
  (if (zero? k)
      '()
      (begin (set-cdr! (drop l (- k 1)) '()) l)))

(define (drop-right! l k)
  (let ((lead (drop l k)))
    (if (pair? lead)
        (let loop ((lag l) (lead (cdr lead)))
          (if (pair? lead)
              (loop (cdr lag) (cdr lead))
              (begin (set-cdr! lag '()) l)))
        '())))

(define (split-at l k)
  (let loop ((l l) (k k) (acc '()))
    (if (zero? k)
        (values (reverse acc) l)
        (loop (cdr l) (- k 1) (cons (car l) acc)))))

(define (split-at! l k)
  (if (zero? k)
      (values '() l)
      (let* ((prev (drop l (- k 1))) (suffix (cdr prev)))
        (set-cdr! prev '())
        (values l suffix))))

;; ---- miscellaneous ----

(define (length+ x)
  (let loop ((slow x) (fast x) (n 0))
    (if (pair? fast)
        (let ((fast (cdr fast)) (n (+ n 1)))
          (if (pair? fast)
              (let ((fast (cdr fast)) (slow (cdr slow)) (n (+ n 1)))
                (if (eq? fast slow) #f (loop slow fast n)))
              n))
        n)))

(define (concatenate lists) (apply append lists))

(define (append! . lists)
  (let loop ((lists lists) (result '()) (tail #f))
    (cond ((null? lists) result)
          ((null? (car lists)) (loop (cdr lists) result tail))
          ((not tail)
           (if (pair? (car lists))
               (loop (cdr lists) (car lists) (last-pair (car lists)))
               (if (null? (cdr lists)) (car lists) (loop (cdr lists) (car lists) #f))))
          (else
           (set-cdr! tail (car lists))
           (loop (cdr lists) result
                 (if (pair? (car lists)) (last-pair (car lists)) tail))))))

(define (concatenate! lists) (apply append! lists))

(define (reverse! l)
  (let loop ((l l) (acc '()))
    (if (pair? l)
        (let ((next (cdr l)))
          (set-cdr! l acc)
          (loop next l))
        acc)))

(define (append-reverse rev-head tail)
  (let loop ((l rev-head) (acc tail))
    (if (pair? l) (loop (cdr l) (cons (car l) acc)) acc)))

(define (append-reverse! rev-head tail)
  (let loop ((l rev-head) (acc tail))
    (if (pair? l)
        (let ((next (cdr l)))
          (set-cdr! l acc)
          (loop next l))
        acc)))

(define (zip l . ls) (apply map list l ls))

(define (unzip1 l) (map car l))
(define (unzip2 l) (values (map car l) (map cadr l)))
(define (unzip3 l) (values (map car l) (map cadr l) (map caddr l)))
(define (unzip4 l) (values (map car l) (map cadr l) (map caddr l) (map cadddr l)))
(define (unzip5 l)
  (values (map car l) (map cadr l) (map caddr l) (map cadddr l)
          (map (lambda (x) (car (cddddr x))) l)))

(define (%any-end? lists)
  (let loop ((ls lists))
    (and (pair? ls) (or (not (pair? (car ls))) (loop (cdr ls))))))

(define (count pred l . ls)
  (if (null? ls)
      (let loop ((l l) (n 0))
        (if (pair? l) (loop (cdr l) (if (pred (car l)) (+ n 1) n)) n))
      (let loop ((lists (cons l ls)) (n 0))
        (if (%any-end? lists)
            n
            (loop (map cdr lists) (if (apply pred (map car lists)) (+ n 1) n))))))

;; ---- fold, unfold, map ----

(define (unfold p f g seed . maybe-tail-gen)
  (let loop ((seed seed) (acc '()))
    (if (p seed)
        (append-reverse! acc (if (pair? maybe-tail-gen) ((car maybe-tail-gen) seed) '()))
        (loop (g seed) (cons (f seed) acc)))))

(define (unfold-right p f g seed . maybe-tail)
  (let loop ((seed seed) (acc (if (pair? maybe-tail) (car maybe-tail) '())))
    (if (p seed) acc (loop (g seed) (cons (f seed) acc)))))

(define (pair-fold f init l . ls)
  (if (null? ls)
      (let loop ((l l) (acc init))
        (if (pair? l)
            (let ((next (cdr l))) (loop next (f l acc)))
            acc))
      (let loop ((lists (cons l ls)) (acc init))
        (if (%any-end? lists)
            acc
            (let ((next (map cdr lists)))
              (loop next (apply f (append lists (list acc)))))))))

(define (pair-fold-right f init l . ls)
  (if (null? ls)
      (let loop ((pairs (pair-fold cons '() l)) (acc init))
        (if (pair? pairs) (loop (cdr pairs) (f (car pairs) acc)) acc))
      (let loop ((tuples (pair-fold (lambda args (cons (drop-right args 1) (last args)))
                                    '() (cons l ls)))
                 (acc init))
        (if (pair? tuples)
            (loop (cdr tuples) (apply f (append (car tuples) (list acc))))
            acc))))

(define (reduce-right f ridentity l)
  (if (null? l)
      ridentity
      (let loop ((r (reverse l)))
        (let lp ((rest (cdr r)) (acc (car r)))
          (if (pair? rest) (lp (cdr rest) (f (car rest) acc)) acc)))))

(define (append-map! f l . ls) (apply append-map f l ls))

(define (pair-for-each f l . ls)
  (if (null? ls)
      (let loop ((l l))
        (if (pair? l)
            (let ((next (cdr l))) (f l) (loop next))))
      (let loop ((lists (cons l ls)))
        (if (not (%any-end? lists))
            (let ((next (map cdr lists))) (apply f lists) (loop next))))))

(define (map-in-order f l . ls)
  (if (null? ls)
      (let loop ((l l) (acc '()))
        (if (pair? l) (loop (cdr l) (cons (f (car l)) acc)) (reverse! acc)))
      (let loop ((lists (cons l ls)) (acc '()))
        (if (%any-end? lists)
            (reverse! acc)
            (loop (map cdr lists) (cons (apply f (map car lists)) acc))))))

(define (map! f l . ls) (apply map-in-order f l ls))

;; ---- filtering, searching ----

(define (filter! pred l) (filter pred l))
(define (remove! pred l) (remove pred l))
(define (partition! pred l) (partition pred l))

(define (take-while pred l)
  (let loop ((l l) (acc '()))
    (if (and (pair? l) (pred (car l)))
        (loop (cdr l) (cons (car l) acc))
        (reverse! acc))))

(define (take-while! pred l) (take-while pred l))

(define (drop-while pred l)
  (let loop ((l l))
    (if (and (pair? l) (pred (car l))) (loop (cdr l)) l)))

(define (span pred l)
  (let loop ((l l) (acc '()))
    (if (and (pair? l) (pred (car l)))
        (loop (cdr l) (cons (car l) acc))
        (values (reverse! acc) l))))

(define (break pred l) (span (lambda (x) (not (pred x))) l))
(define (span! pred l) (span pred l))
(define (break! pred l) (break pred l))

(define (delete! x l . maybe=) (apply delete x l maybe=))
(define (delete-duplicates! l . maybe=) (apply delete-duplicates l maybe=))

;; ---- association lists ----

(define (alist-cons key datum alist) (cons (cons key datum) alist))

(define (alist-copy alist)
  (map (lambda (p) (cons (car p) (cdr p))) alist))

(define (alist-delete key alist . maybe=)
  (let ((= (if (pair? maybe=) (car maybe=) equal?)))
    (remove (lambda (p) (= key (car p))) alist)))

(define (alist-delete! key alist . maybe=) (apply alist-delete key alist maybe=))

;; ---- lists as sets ----

(define (%lmember x l =)
  (let loop ((l l))
    (and (pair? l) (or (= (car l) x) (loop (cdr l))))))

(define (lset<= = . lists)
  (let loop ((lists lists))
    (or (null? lists) (null? (cdr lists))
        (and (let ((a (car lists)) (b (cadr lists)))
               (or (eq? a b) (every (lambda (x) (%lmember x b =)) a)))
             (loop (cdr lists))))))

(define (lset= = . lists)
  (let loop ((lists lists))
    (or (null? lists) (null? (cdr lists))
        (and (let ((a (car lists)) (b (cadr lists)))
               (or (eq? a b)
                   (and (every (lambda (x) (%lmember x b =)) a)
                        (every (lambda (x) (%lmember x a (lambda (p q) (= q p)))) b))))
             (loop (cdr lists))))))

(define (lset-adjoin = l . elts)
  (let loop ((elts elts) (l l))
    (if (pair? elts)
        (loop (cdr elts)
              (if (%lmember (car elts) l (lambda (p q) (= p q))) l (cons (car elts) l)))
        l)))

(define (lset-union = . lists)
  (cond ((null? lists) '())
        (else
         (let loop ((ls (cdr lists)) (acc (car lists)))
           (cond ((null? ls) acc)
                 ((null? (car ls)) (loop (cdr ls) acc))
                 ((null? acc) (loop (cdr ls) (car ls)))
                 ((eq? (car ls) acc) (loop (cdr ls) acc))
                 (else
                  (loop (cdr ls)
                        (fold (lambda (elt ans)
                                (if (%lmember elt ans (lambda (p q) (= p q))) ans (cons elt ans)))
                              acc (car ls)))))))))

(define (lset-union! = . lists) (apply lset-union = lists))

(define (lset-intersection = l . lists)
  (let ((lists (remove (lambda (x) (eq? x l)) lists)))
    (cond ((any null? lists) '())
          ((null? lists) l)
          (else
           (filter (lambda (x) (every (lambda (lis) (%lmember x lis =)) lists)) l)))))

(define (lset-intersection! = l . lists) (apply lset-intersection = l lists))

(define (lset-difference = l . lists)
  (let ((lists (filter pair? lists)))
    (cond ((null? lists) l)
          ((memq l lists) '())
          (else
           (filter (lambda (x) (every (lambda (lis) (not (%lmember x lis =))) lists)) l)))))

(define (lset-difference! = l . lists) (apply lset-difference = l lists))

(define (lset-xor = . lists)
  (reduce (lambda (b a)
            ;; a xor b = (a - b) + (b - a); SRFI 1 builds it on a.
            (let ((a-b (lset-difference = a b))
                  (b-a (lset-difference = b a)))
              (if (null? a-b) b-a (fold cons a-b b-a))))
          '() lists))

(define (lset-xor! = . lists) (apply lset-xor = lists))

(define (lset-diff+intersection = l . lists)
  (cond ((every null? lists) (values l '()))
        ((memq l lists) (values '() l))
        (else
         (partition (lambda (x) (not (any (lambda (lis) (%lmember x lis =)) lists))) l))))

(define (lset-diff+intersection! = l . lists) (apply lset-diff+intersection = l lists))
