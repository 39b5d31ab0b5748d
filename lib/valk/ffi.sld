;;; (valk ffi): calling C (docs/ffi.md): libraries and symbols, calls with
;;; a signature given at run time, functions registered by name,
;;; callbacks, foreign memory and errno. (valk core) has these too.
(define-library (valk ffi)
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
    pointer-ref-pointer pointer-set-pointer!))
