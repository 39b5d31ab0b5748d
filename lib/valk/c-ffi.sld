;;; (valk c-ffi): the common C library functions registered by name, so
;;; that `(c-call "strlen" "hello")` works after importing this library
;;; (docs/ffi.md, "Functions by name"). Exports what (valk ffi) does.
(define-library (valk c-ffi)
  (import (valk core))
  (export
    dlopen dlsym c-call c-register c-registered? c-callback c-callback-free
    define-c-function c-function
    errno
    pointer? null-pointer? pointer->integer integer->pointer pointer+ pointer=?
    malloc free
    pointer->string string->pointer pointer->bytevector
    make-immobile-bytevector immobile? bytevector->pointer
    pointer-ref-u8 pointer-set-u8! pointer-ref-s8 pointer-set-s8!
    pointer-ref-u16 pointer-set-u16! pointer-ref-s16 pointer-set-s16!
    pointer-ref-u32 pointer-set-u32! pointer-ref-s32 pointer-set-s32!
    pointer-ref-u64 pointer-set-u64! pointer-ref-s64 pointer-set-s64!
    pointer-ref-float pointer-set-float! pointer-ref-double pointer-set-double!
    pointer-ref-pointer pointer-set-pointer!)
  (begin
    ;; memory
    (c-register "malloc" '(pointer size_t))
    (c-register "calloc" '(pointer size_t size_t))
    (c-register "realloc" '(pointer pointer size_t))
    (c-register "free" '(void pointer))
    ;; input and output
    (c-register "printf" '(int string ...))
    (c-register "fprintf" '(int pointer string ...))
    (c-register "fopen" '(pointer string string))
    (c-register "fclose" '(int pointer))
    (c-register "fread" '(size_t pointer size_t size_t pointer))
    (c-register "fwrite" '(size_t pointer size_t size_t pointer))
    (c-register "fflush" '(int pointer))
    (c-register "puts" '(int string))
    ;; strings
    (c-register "strlen" '(size_t string))
    (c-register "strcmp" '(int string string))
    (c-register "strcpy" '(pointer pointer string))
    (c-register "strcat" '(pointer pointer string))
    (c-register "getenv" '(string string))
    ;; math
    (c-register "sqrt" '(double double) "libm.so.6")
    (c-register "sin" '(double double) "libm.so.6")
    (c-register "cos" '(double double) "libm.so.6")
    (c-register "tan" '(double double) "libm.so.6")
    (c-register "pow" '(double double double) "libm.so.6")
    (c-register "exp" '(double double) "libm.so.6")
    (c-register "log" '(double double) "libm.so.6")))
