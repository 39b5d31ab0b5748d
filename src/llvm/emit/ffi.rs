//! `ffi_call`: a direct call of a C function (docs/vir.md, "Foreign
//! calls"; docs/calling-convention.md, "Foreign calls").
//!
//! The address is cached in a module cell filled on the first call by
//! `valk_ffi_resolve`. Arguments are converted in line when the common
//! case holds (a fixnum in range, a flonum, `#f`, a foreign pointer); any
//! other value goes to `valk_ffi_arg`, which converts it exactly as the
//! interpreter does or raises the interpreter's error. The call goes
//! through the exit trampoline `valk_ffi_exit` with the C function's own
//! signature, after the address is stored in `valk_ffi_target`, so it is a
//! statepoint whose frame a callback's collection can walk. Afterwards
//! `errno` is saved, temporary copies are freed when some were made, and
//! an error raised by a callback is re-raised; the result is boxed in line
//! for fixnums, flonums, booleans and NULL.

use super::function::FnEmitter;
use super::text::{imm, imm_op, Weight, V};
use crate::abi::{self, field_offset, TAG_OBJECT};
use valk_runtime::value::ObjType;
use valk_vir::{FfiTy, Foreign};

/// The LLVM type of a C type.
fn llvm_ty(t: FfiTy) -> &'static str {
    match t {
        FfiTy::Void => "void",
        FfiTy::I8 | FfiTy::U8 => "i8",
        FfiTy::I16 | FfiTy::U16 => "i16",
        FfiTy::I32 | FfiTy::U32 => "i32",
        FfiTy::I64 | FfiTy::U64 | FfiTy::Pointer | FfiTy::String | FfiTy::Bytevector => "i64",
        FfiTy::Float => "float",
        FfiTy::Double => "double",
        FfiTy::Bool => "i1",
    }
}

/// The extension attribute the C ABI wants for a narrow integer.
fn ext_attr(t: FfiTy) -> &'static str {
    match t {
        FfiTy::I8 | FfiTy::I16 => "signext ",
        FfiTy::U8 | FfiTy::U16 | FfiTy::Bool => "zeroext ",
        _ => "",
    }
}

/// Can the slow conversion of an argument of type `t` make a temporary
/// copy (a string, a movable bytevector)?
fn may_copy(t: FfiTy) -> bool {
    matches!(t, FfiTy::Pointer | FfiTy::String | FfiTy::Bytevector)
}

/// An operand of a foreign call: a tagged value, or the double of a
/// flonum the emitter keeps unboxed (for a `float`/`double` parameter).
pub(super) enum FfiArg {
    Boxed(String),
    Double(String),
}

impl FnEmitter<'_, '_, '_> {
    /// `ffi_call`: returns the boxed result.
    pub(super) fn ffi_call(&mut self, ff: &Foreign, a: &[String]) -> String {
        let args: Vec<FfiArg> = a.iter().cloned().map(FfiArg::Boxed).collect();
        let r = self.ffi_call_raw(ff, &args);
        self.ffi_result(ff.ret, &r)
    }

    /// The call itself: returns the C result as an operand of its LLVM
    /// type (empty for `void`).
    pub(super) fn ffi_call_raw(&mut self, ff: &Foreign, a: &[FfiArg]) -> String {
        let addr = self.ffi_address(ff);
        let copies = ff.args.iter().any(|&t| may_copy(t));
        // Without copies, `valk_ffi_arg` has nothing to free on an error.
        let mark = if copies {
            self.load_mem("i64", "@valk_ffi_ntemps")
        } else {
            "-1".to_string()
        };
        let (wp, wl) = self.cx.string(ff.sym.as_bytes());
        let mut args = Vec::new();
        for (i, (&t, x)) in ff.args.iter().zip(a).enumerate() {
            let w = match x {
                FfiArg::Double(d) if t == FfiTy::Float => {
                    self.def(format!("fptrunc double {d} to float"))
                }
                FfiArg::Double(d) => d.clone(),
                FfiArg::Boxed(x) => {
                    let slow = format!(
                        "ptr {wp}, i64 {wl}, i64 {i}, i64 {}, {V} {x}, i64 {mark}",
                        t.code()
                    );
                    self.ffi_arg(t, x, &slow)
                }
            };
            args.push(format!("{} {}{w}", llvm_ty(t), ext_attr(t)));
        }
        // Valk's buffered output goes out before C may write.
        let pending = self.load_mem("i64", "@valk_stdout_pending");
        let has = self.icmp("ne", &pending, 0);
        let (lflush, lgo) = (self.label(), self.label());
        self.br_if(&has, &lflush, &lgo, Weight::Unlikely);
        self.start_block(&lflush);
        self.line("call void @valk_ffi_flush() #2");
        self.br(&lgo);
        self.start_block(&lgo);
        self.line(format!("store i64 {addr}, ptr @valk_ffi_target"));
        let ret = llvm_ty(ff.ret);
        // No extension attribute on the result: callees need not extend a
        // narrow result (the SysV ABI leaves the upper bits undefined), so
        // `ffi_result` extends it itself.
        let call = format!("call {ret} @valk_ffi_exit({})", args.join(", "));
        let r = if ff.ret == FfiTy::Void {
            self.line(call);
            String::new()
        } else {
            self.def(call)
        };
        let ep = self.def("call ptr @__errno_location() #2");
        let e = self.load_mem("i32", &ep);
        self.line(format!("store i32 {e}, ptr @valk_ffi_errno"));
        if copies {
            let n = self.load_mem("i64", "@valk_ffi_ntemps");
            let more = self.icmp("ne", &n, &mark);
            let (lfin, ldone) = (self.label(), self.label());
            self.br_if(&more, &lfin, &ldone, Weight::Unlikely);
            self.start_block(&lfin);
            self.line(format!("call void @valk_ffi_finish(i64 {mark})"));
            self.br(&ldone);
            self.start_block(&ldone);
        }
        let p = self.load_mem("i64", "@valk_ffi_pending");
        let ok = self.icmp("eq", &p, 0);
        self.guard(&ok, |e| e.raise("@valk_ffi_reraise", ""));
        r
    }

    /// The function's address: the module cell, resolved on first use.
    fn ffi_address(&mut self, ff: &Foreign) -> String {
        let cell = self.cx.ffi_cell();
        let a0 = self.load_mem("i64", &cell);
        let known = self.icmp("ne", &a0, 0);
        let (lres, lok) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&known, &lok, &lres, Weight::Likely);
        self.start_block(&lres);
        let (lp, ll) = match &ff.lib {
            Some(l) => self.cx.string(l.as_bytes()),
            None => ("null".into(), 0),
        };
        let (sp, sl) = self.cx.string(ff.sym.as_bytes());
        let a1 = self.def(format!(
            "call i64 @valk_ffi_resolve(ptr {lp}, i64 {ll}, ptr {sp}, i64 {sl})"
        ));
        self.line(format!("store i64 {a1}, ptr {cell}"));
        let from1 = self.cur.clone();
        self.br(&lok);
        self.start_block(&lok);
        self.phi("i64", &[(&a0, &from), (&a1, &from1)])
    }

    /// The slow conversion: the word `valk_ffi_arg` returns.
    fn ffi_slow(&mut self, slow: &str) -> String {
        self.def(format!("call i64 @valk_ffi_arg({slow})"))
    }

    /// Argument `x` of type `t` as an operand of its LLVM type.
    fn ffi_arg(&mut self, t: FfiTy, x: &str, slow: &str) -> String {
        let xi = self.int(x);
        match t {
            FfiTy::Bool => self.icmp("ne", &xi, abi::FALSE as i64),
            FfiTy::Float | FfiTy::Double => {
                let d = self.ffi_double(t, x, &xi, slow);
                if t == FfiTy::Float {
                    self.def(format!("fptrunc double {d} to float"))
                } else {
                    d
                }
            }
            FfiTy::Pointer => self.ffi_pointer(x, &xi, slow),
            FfiTy::String | FfiTy::Bytevector => self.ffi_slow(slow),
            FfiTy::Void => "0".into(),
            _ => {
                let w = self.ffi_int(t, &xi, slow);
                match llvm_ty(t) {
                    "i64" => w,
                    ty => self.def(format!("trunc i64 {w} to {ty}")),
                }
            }
        }
    }

    /// An integer argument: a fixnum in the type's range in line.
    fn ffi_int(&mut self, t: FfiTy, xi: &str, slow: &str) -> String {
        let tag = self.tag_of(xi);
        let isfx = self.icmp("eq", &tag, 0);
        let n = self.bin("ashr", xi, 3);
        let ok = match t.int_range() {
            Some((lo, hi))
                if lo > valk_runtime::value::FIXNUM_MIN as i128
                    || hi < valk_runtime::value::FIXNUM_MAX as i128 =>
            {
                let lo = lo.max(valk_runtime::value::FIXNUM_MIN as i128) as i64;
                let hi = hi.min(valk_runtime::value::FIXNUM_MAX as i128) as i64;
                let off = self.bin("sub", &n, lo);
                let span = (hi as i128 - lo as i128 + 1) as u64;
                let inr = self.def(format!("icmp ult i64 {off}, {span}"));
                self.bin1("and", &isfx, &inr)
            }
            _ => isfx,
        };
        let (lfast, lslow, lj) = (self.label(), self.label(), self.label());
        self.br_if(&ok, &lfast, &lslow, Weight::Likely);
        self.start_block(&lslow);
        let w = self.ffi_slow(slow);
        let from_slow = self.cur.clone();
        self.br(&lj);
        self.start_block(&lfast);
        self.br(&lj);
        self.start_block(&lj);
        self.phi("i64", &[(&n, &lfast), (&w, &from_slow)])
    }

    /// A real argument as a double: fixnums and flonums in line.
    fn ffi_double(&mut self, t: FfiTy, x: &str, xi: &str, slow: &str) -> String {
        let tag = self.tag_of(xi);
        let isfx = self.icmp("eq", &tag, 0);
        let (lfx, lnot, lj) = (self.label(), self.label(), self.label());
        self.br_if(&isfx, &lfx, &lnot, Weight::Even);
        self.start_block(&lfx);
        let n = self.bin("ashr", xi, 3);
        let d1 = self.def(format!("sitofp i64 {n} to double"));
        self.br(&lj);
        self.start_block(&lnot);
        let isfl = self.heap_type_test(x, xi, ObjType::Flonum);
        let (lfl, lslow) = (self.label(), self.label());
        self.br_if(&isfl, &lfl, &lslow, Weight::Likely);
        self.start_block(&lfl);
        let d2 = self.load_double(x);
        self.br(&lj);
        self.start_block(&lslow);
        let w = self.ffi_slow(slow);
        let d3 = if t == FfiTy::Float {
            let w32 = self.def(format!("trunc i64 {w} to i32"));
            let f = self.def(format!("bitcast i32 {w32} to float"));
            self.def(format!("fpext float {f} to double"))
        } else {
            self.def(format!("bitcast i64 {w} to double"))
        };
        let from_slow = self.cur.clone();
        self.br(&lj);
        self.start_block(&lj);
        self.phi("double", &[(&d1, &lfx), (&d2, &lfl), (&d3, &from_slow)])
    }

    /// A pointer argument: `#f` and foreign pointers in line.
    fn ffi_pointer(&mut self, x: &str, xi: &str, slow: &str) -> String {
        let isf = self.icmp("eq", xi, abi::FALSE as i64);
        let (lnot, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&isf, &lj, &lnot, Weight::Even);
        self.start_block(&lnot);
        let isp = self.heap_type_test(x, xi, ObjType::Foreign);
        let (lp, lslow) = (self.label(), self.label());
        self.br_if(&isp, &lp, &lslow, Weight::Likely);
        self.start_block(&lp);
        let fp = self.gep(x, field_offset(TAG_OBJECT, 0));
        let a = self.load("i64", &fp);
        self.br(&lj);
        self.start_block(&lslow);
        let w = self.ffi_slow(slow);
        let from_slow = self.cur.clone();
        self.br(&lj);
        self.start_block(&lj);
        self.phi("i64", &[("0", &from), (&a, &lp), (&w, &from_slow)])
    }

    /// The boxed value of C result `r` of type `t`.
    pub(super) fn ffi_result(&mut self, t: FfiTy, r: &str) -> String {
        match t {
            FfiTy::Void => imm_op(abi::UNSPECIFIED),
            FfiTy::Bool => self.def(format!(
                "select i1 {r}, {}, {}",
                imm(abi::TRUE),
                imm(abi::FALSE)
            )),
            FfiTy::Double => self.box_flonum(r),
            FfiTy::Float => {
                let d = self.def(format!("fpext float {r} to double"));
                self.box_flonum(&d)
            }
            FfiTy::I8 | FfiTy::I16 | FfiTy::I32 | FfiTy::U8 | FfiTy::U16 | FfiTy::U32 => {
                let ext = if matches!(t, FfiTy::I8 | FfiTy::I16 | FfiTy::I32) {
                    "sext"
                } else {
                    "zext"
                };
                let n = self.def(format!("{ext} {} {r} to i64", llvm_ty(t)));
                let s = self.bin("shl", &n, 3);
                self.ptr(&s)
            }
            FfiTy::I64 | FfiTy::U64 => {
                let s = self.bin("shl", r, 3);
                let back = self.bin("ashr", &s, 3);
                let mut fits = self.icmp("eq", &back, r);
                if t == FfiTy::U64 {
                    let nonneg = self.icmp("sge", r, 0);
                    fits = self.bin1("and", &fits, &nonneg);
                }
                self.ffi_box_unless(t, r, &fits, &s)
            }
            FfiTy::Pointer => {
                let null = self.icmp("eq", r, 0);
                self.ffi_box_unless(t, r, &null, &(abi::FALSE as i64).to_string())
            }
            FfiTy::String | FfiTy::Bytevector => {
                self.def(format!("call {V} @valk_ffi_box(i64 {}, i64 {r})", t.code()))
            }
        }
    }

    /// `fast` (an i64 holding a value) when `c` holds, else the runtime's
    /// boxing of `r`.
    fn ffi_box_unless(&mut self, t: FfiTy, r: &str, c: &str, fast: &str) -> String {
        let (lfast, lslow, lj) = (self.label(), self.label(), self.label());
        self.br_if(c, &lfast, &lslow, Weight::Likely);
        self.start_block(&lfast);
        let v1 = self.ptr(fast);
        self.br(&lj);
        self.start_block(&lslow);
        let v2 = self.def(format!("call {V} @valk_ffi_box(i64 {}, i64 {r})", t.code()));
        let from_slow = self.cur.clone();
        self.br(&lj);
        self.start_block(&lj);
        self.phi(V, &[(&v1, &lfast), (&v2, &from_slow)])
    }
}

#[cfg(test)]
mod tests {
    use valk_runtime::ffi::typed::TYPE_CODES;
    use valk_vir::FfiTy;

    /// The type codes compiled code passes mean the same C types in the
    /// runtime, and the names agree with the runtime's canonical ones.
    #[test]
    fn type_codes_agree_with_the_runtime() {
        assert_eq!(FfiTy::ALL.len(), TYPE_CODES.len());
        for (t, c) in FfiTy::ALL.iter().zip(TYPE_CODES) {
            assert_eq!(t.name(), c.name());
            assert_eq!(TYPE_CODES[t.code() as usize], c);
            assert_eq!(t.int_range(), c.int_range());
        }
    }
}
