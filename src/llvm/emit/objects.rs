//! Values and objects: constants and the constant table, Scheme booleans,
//! type tests (immediate tags and heap headers), inline allocation with
//! the collector's slow path, field/vector/string access with bounds
//! checks, boxes, closures and their captures, and global cells with the
//! unbound-variable check. Layouts come from `abi.rs` (docs/gc.md,
//! docs/calling-convention.md).

use super::function::FnEmitter;
use super::text::{fast_name, imm, imm_op, info_name, Weight, LIKELY, V};
use super::EmitError;
use crate::abi::{self, field_offset, TAG_CLOSURE, TAG_OBJECT, TAG_PAIR};
use std::fmt::Write;
use valk_runtime::value::ObjType;
use valk_vir::{FuncId, Loc, ObjKind, Ty};

/// The runtime's code for type `t` (in `wrong type` errors).
fn ty_code(t: Ty) -> usize {
    Ty::ALL.iter().position(|&x| x == t).unwrap_or(0)
}

fn obj_type(k: ObjKind) -> ObjType {
    match k {
        ObjKind::Pair => ObjType::Pair,
        ObjKind::Vector => ObjType::Vector,
        ObjKind::Box => ObjType::Box,
        ObjKind::Record => ObjType::Record,
        ObjKind::Values => ObjType::Values,
    }
}

fn heap_type_of(t: Ty) -> Option<ObjType> {
    Some(match t {
        Ty::Flonum => ObjType::Flonum,
        Ty::String => ObjType::String,
        Ty::Symbol => ObjType::Symbol,
        Ty::Vector => ObjType::Vector,
        Ty::Bytevector => ObjType::Bytevector,
        Ty::Box => ObjType::Box,
        Ty::Record => ObjType::Record,
        _ => return None,
    })
}

/// Inline allocation written as raw text under fixed names `%<prefix>.*`
/// (shared by the per-function emitter and the fast entries): bump
/// `valk_alloc_ptr`, else call the slow-path trampoline, which may
/// collect. Returns the tagged object (header written, payload not; a pair
/// has no header); the code continues in block `<prefix>.join`.
pub(super) fn emit_alloc(s: &mut String, p: &str, ty: ObjType, size: usize) -> String {
    // A pair is its car and cdr, without a header; its value is the
    // address of the word before the car, tagged (docs/gc.md, "Objects").
    let pair = ty == ObjType::Pair;
    let bytes = if pair { 16 } else { 8 * (size + 1) };
    let _ = writeln!(
        s,
        "  %{p}.p = load i64, ptr @valk_alloc_ptr\n  %{p}.np = add i64 %{p}.p, {bytes}\n  \
         %{p}.lim = load i64, ptr @valk_alloc_limit\n  %{p}.ok = icmp ule i64 %{p}.np, %{p}.lim\n  \
         br i1 %{p}.ok, label %{p}.fast, label %{p}.slow, {LIKELY}\n{p}.slow:\n  \
         %{p}.s = call ptr @valk_gc_alloc_slow(i64 {bytes})\n  %{p}.si = ptrtoint ptr %{p}.s to i64\n  \
         br label %{p}.join\n{p}.fast:\n  store i64 %{p}.np, ptr @valk_alloc_ptr\n  \
         br label %{p}.join\n{p}.join:\n  %{p}.a = phi i64 [ %{p}.si, %{p}.slow ], [ %{p}.p, %{p}.fast ]",
    );
    if pair {
        let _ = writeln!(
            s,
            "  %{p}.t = sub i64 %{p}.a, {back}\n  %{p}.o = inttoptr i64 %{p}.t to {V}",
            back = 8 - ty.tag(),
        );
    } else {
        let _ = writeln!(
            s,
            "  %{p}.t = or i64 %{p}.a, {tag}\n  %{p}.o = inttoptr i64 %{p}.t to {V}\n  \
             %{p}.h = getelementptr i8, {V} %{p}.o, i64 -{tag}\n  store i64 {hdr}, {V} %{p}.h",
            tag = ty.tag(),
            hdr = abi::header(ty, size) as i64,
        );
    }
    format!("%{p}.o")
}

impl FnEmitter<'_, '_, '_> {
    // ---- constants and booleans ----

    /// Entry `i` of the module's constant table (filled at start-up).
    pub(super) fn load_const(&mut self, res: &str, i: usize) {
        let p = self.gep_elem(V, "@valk_consts", i);
        self.assign(res, format!("load {V}, ptr {p}"));
    }

    /// `#t` or `#f` from an i1.
    pub(super) fn bool_of(&mut self, c: &str) -> String {
        self.def(format!(
            "select i1 {c}, {}, {}",
            imm(abi::TRUE),
            imm(abi::FALSE)
        ))
    }

    /// `eq?`: identity of the value words.
    pub(super) fn eq(&mut self, a: &str, b: &str) -> String {
        let c = self.icmp_v("eq", a, b);
        self.bool_of(&c)
    }

    pub(super) fn not(&mut self, a: &str) -> String {
        let c = self.icmp_v("eq", a, &imm_op(abi::FALSE));
        self.bool_of(&c)
    }

    // ---- type tests ----

    /// The low three bits (the tag) of integer `xi`.
    pub(super) fn tag_of(&mut self, xi: &str) -> String {
        self.bin("and", xi, 7)
    }

    /// The header word of a heap object with tag `tag`.
    fn header(&mut self, x: &str, tag: u64) -> String {
        let p = self.gep(x, format!("-{tag}"));
        self.load("i64", &p)
    }

    /// i1: is `x` (integer `xi`) a heap object of type `ty`?
    pub(super) fn heap_type_test(&mut self, x: &str, xi: &str, ty: ObjType) -> String {
        self.heap_type_in(x, xi, &[ty])
    }

    /// i1: is `x` a tag-3 heap object of one of the types `tys`?
    fn heap_type_in(&mut self, x: &str, xi: &str, tys: &[ObjType]) -> String {
        let tag = self.tag_of(xi);
        let is3 = self.icmp("eq", &tag, TAG_OBJECT);
        let (lh, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&is3, &lh, &lj, Weight::Even);
        self.start_block(&lh);
        let h = self.header(x, TAG_OBJECT);
        let sh = self.bin("lshr", &h, 3);
        let b = self.bin("and", &sh, 255);
        let eq = match tys {
            [ty] => self.icmp("eq", &b, *ty as u8),
            _ => {
                // Type codes are below 64: one bit per accepted type.
                let mask = tys.iter().fold(0u64, |m, &t| m | 1 << (t as u8));
                let bit = self.bin("shl", "1", &b);
                let hit = self.bin("and", &bit, mask as i64);
                self.icmp("ne", &hit, 0)
            }
        };
        self.br(&lj);
        self.start_block(&lj);
        self.phi("i1", &[("false", &from), (&eq, &lh)])
    }

    /// i1: does `x` have type `t`?
    fn type_test(&mut self, t: Ty, x: &str) -> String {
        let xi = self.int(x);
        match t {
            Ty::Fixnum | Ty::Pair | Ty::Procedure => {
                let tag = self.tag_of(&xi);
                let want = match t {
                    Ty::Fixnum => 0,
                    Ty::Pair => TAG_PAIR,
                    _ => TAG_CLOSURE,
                };
                self.icmp("eq", &tag, want)
            }
            Ty::Null => self.icmp("eq", &xi, abi::NIL as i64),
            Ty::Boolean => {
                let m = self.bin("and", &xi, !(abi::TRUE ^ abi::FALSE) as i64);
                self.icmp("eq", &m, abi::FALSE as i64)
            }
            Ty::Char => {
                let m = self.bin("and", &xi, 255);
                self.icmp("eq", &m, abi::CHAR_LOW_BYTE)
            }
            Ty::Number => {
                let tag = self.tag_of(&xi);
                let isfx = self.icmp("eq", &tag, 0);
                let (lf, lj) = (self.label(), self.label());
                let from = self.cur.clone();
                self.br_if(&isfx, &lj, &lf, Weight::Even);
                self.start_block(&lf);
                let fl = self.heap_type_in(
                    x,
                    &xi,
                    &[
                        ObjType::Flonum,
                        ObjType::Bignum,
                        ObjType::Rational,
                        ObjType::Complex,
                    ],
                );
                let from2 = self.cur.clone();
                self.br(&lj);
                self.start_block(&lj);
                self.phi("i1", &[("true", &from), (&fl, &from2)])
            }
            _ => {
                let ty = heap_type_of(t).unwrap_or(ObjType::Record);
                self.heap_type_test(x, &xi, ty)
            }
        }
    }

    /// `type_tag`: the tag as a fixnum.
    pub(super) fn type_tag(&mut self, res: &str, x: &str) {
        let xi = self.int(x);
        let t = self.tag_of(&xi);
        let s = self.bin("shl", &t, 3);
        self.ptr_to(res, &s);
    }

    /// `type_is`: the test as a Scheme boolean.
    pub(super) fn type_is(&mut self, res: &str, t: Ty, x: &str) {
        let c = self.type_test(t, x);
        self.select_to(res, &c, &imm(abi::TRUE), &imm(abi::FALSE));
    }

    /// `type_check`: raises `wrong type` (naming `who`) unless `x` has type
    /// `t`; the result is `x` itself (an alias).
    pub(super) fn type_check(&mut self, t: Ty, who: &str, x: &str) {
        let c = self.type_test(t, x);
        let (wp, wl) = self.cx.string(who.as_bytes());
        let code = ty_code(t);
        let args = format!("ptr {wp}, i64 {wl}, i64 {code}, {V} {x}");
        self.guard(&c, |e| e.raise("@valk_rt_wrong_type", &args));
    }

    // ---- allocation and fields ----

    /// Inline allocation of an object with `size` payload words (header
    /// written); returns the tagged pointer.
    pub(super) fn alloc(&mut self, ty: ObjType, size: usize) -> String {
        self.tmp += 1;
        let prefix = format!("a{}", self.tmp);
        let mut s = String::new();
        let obj = emit_alloc(&mut s, &prefix, ty, size);
        self.body.push_str(&s);
        self.cur = format!("{prefix}.join");
        obj
    }

    pub(super) fn load_field(&mut self, base: &str, tag: u64, i: usize) -> String {
        let p = self.gep(base, field_offset(tag, i));
        self.load(V, &p)
    }

    pub(super) fn store_field(&mut self, base: &str, tag: u64, i: usize, v: &str) {
        let p = self.gep(base, field_offset(tag, i));
        self.store(V, v, &p);
    }

    /// `alloc`: an object of `kind` holding `fields`.
    pub(super) fn alloc_object(&mut self, kind: ObjKind, fields: &[String]) -> String {
        let ty = obj_type(kind);
        let o = self.alloc(ty, fields.len());
        for (i, x) in fields.iter().enumerate() {
            self.store_field(&o, ty.tag(), i, x);
        }
        o
    }

    /// Address of payload word `n` of an object whose tag is not known
    /// statically (computed from the tag, which never changes).
    fn dyn_field(&mut self, x: &str, n: usize) -> String {
        let xi = self.int(x);
        let tag = self.tag_of(&xi);
        let off = self.bin("sub", &(8 * (n + 1)).to_string(), &tag);
        self.gep(x, &off)
    }

    pub(super) fn load_word(&mut self, res: &str, x: &str, n: usize) {
        let p = self.dyn_field(x, n);
        self.load_to(res, &p);
    }

    pub(super) fn store_word(&mut self, x: &str, n: usize, v: &str) {
        let p = self.dyn_field(x, n);
        self.mutate_field(&p, v);
        self.store(V, v, &p);
    }

    pub(super) fn cons(&mut self, car: &str, cdr: &str) -> String {
        let o = self.alloc(ObjType::Pair, 2);
        self.store_field(&o, TAG_PAIR, 0, car);
        self.store_field(&o, TAG_PAIR, 1, cdr);
        o
    }

    /// `car` (`i == 0`) or `cdr` (`i == 1`).
    pub(super) fn car_cdr(&mut self, p: &str, i: usize) -> String {
        self.load_field(p, TAG_PAIR, i)
    }

    pub(super) fn make_box(&mut self, x: &str) -> String {
        let o = self.alloc(ObjType::Box, 1);
        self.store_field(&o, TAG_OBJECT, 0, x);
        o
    }

    pub(super) fn unbox(&mut self, b: &str) -> String {
        self.load_field(b, TAG_OBJECT, 0)
    }

    pub(super) fn set_box(&mut self, b: &str, x: &str) {
        let p = self.gep(b, field_offset(TAG_OBJECT, 0));
        self.mutate_field(&p, x);
        self.store(V, x, &p);
    }

    /// A flonum box holding double `d`.
    pub(super) fn box_flonum(&mut self, d: &str) -> String {
        let o = self.alloc(ObjType::Flonum, 1);
        let p = self.gep(&o, field_offset(TAG_OBJECT, 0));
        self.store("double", d, &p);
        o
    }

    /// The double inside flonum `x`.
    pub(super) fn load_double(&mut self, x: &str) -> String {
        let p = self.gep(x, field_offset(TAG_OBJECT, 0));
        self.load("double", &p)
    }

    /// Every store of a value into a field of an object that may be older
    /// than the value (`store`, `set-car!`/`set-cdr!`, record modifiers,
    /// `vector-set!`, `set_box`) calls this first, with the field's
    /// address and the value: the generational collector's write barrier
    /// (docs/gc.md, "Write barrier"). A nursery value calls
    /// `@valk_gc_remember` with the field, which records it when the field
    /// is outside the nursery; a leaf call (no statepoint: it neither
    /// allocates nor collects). Stores into a fresh allocation skip it.
    ///
    /// Only the value's address is tested in line. LLVM treats
    /// `ptrtoint` of a GC pointer as a pure function of the SSA value,
    /// which is the same before and after a statepoint until RS4GC
    /// rewrites it, so an integer address may be one computed before a
    /// collection moved the object. For the value that only gives false
    /// positives (a promoted object tests young; nothing else ever moves
    /// into the nursery); the field's address is passed as a GC pointer,
    /// which RS4GC relocates.
    fn mutate_field(&mut self, addr: &str, v: &str) {
        let lo = self.load_mem("i64", "@valk_young_lo");
        let size = self.load_mem("i64", "@valk_young_size");
        let vi = self.int(v);
        let dv = self.bin("sub", &vi, &lo);
        let young = self.icmp("ult", &dv, &size);
        let (lrem, ldone) = (self.label(), self.label());
        self.br_if(&young, &lrem, &ldone, Weight::Even);
        self.start_block(&lrem);
        self.line(format!("call void @valk_gc_remember({V} {addr}) #2"));
        self.br(&ldone);
        self.start_block(&ldone);
    }

    // ---- records (docs/lowering.md, "Records") ----

    /// i1: is `x` a record whose type descriptor (payload word 0) is
    /// `rtd`? A tag test, a header test and one compare.
    fn record_test(&mut self, x: &str, rtd: &str) -> String {
        let xi = self.int(x);
        let is_rec = self.heap_type_test(x, &xi, ObjType::Record);
        let (lt, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&is_rec, &lt, &lj, Weight::Likely);
        self.start_block(&lt);
        let d = self.load_field(x, TAG_OBJECT, 0);
        let same = self.icmp_v("eq", &d, rtd);
        self.br(&lj);
        self.start_block(&lj);
        self.phi("i1", &[("false", &from), (&same, &lt)])
    }

    /// `record_is`.
    pub(super) fn record_is(&mut self, x: &str, rtd: &str) -> String {
        let c = self.record_test(x, rtd);
        self.bool_of(&c)
    }

    /// Branches on `ok` to a fast block filled by `fast` and a slow block
    /// calling runtime builtin `name` with `slow_args` (which raises the
    /// builtin's error); returns the joined result.
    fn fast_or_runtime(
        &mut self,
        ok: &str,
        name: &str,
        slow_args: &[String],
        fast: impl FnOnce(&mut Self) -> String,
    ) -> Result<String, EmitError> {
        let (lf, ls, lj) = (self.label(), self.label(), self.label());
        self.br_if(ok, &lf, &ls, Weight::Likely);
        self.start_block(&lf);
        let v = fast(self);
        let fast_end = self.cur.clone();
        self.br(&lj);
        self.start_block(&ls);
        let r = self.runtime_call(name, slow_args)?;
        let slow_end = self.cur.clone();
        self.br(&lj);
        self.start_block(&lj);
        Ok(self.phi(V, &[(&v, &fast_end), (&r, &slow_end)]))
    }

    /// `record_ref.n`: the checked field load; the failing path calls
    /// `%record-ref`, which raises the accessor's error.
    pub(super) fn record_ref(
        &mut self,
        n: usize,
        x: &str,
        rtd: &str,
        who: &str,
    ) -> Result<String, EmitError> {
        let ok = self.record_test(x, rtd);
        let args = [x, rtd, &imm_op((n as u64) << 3), who].map(String::from);
        self.fast_or_runtime(&ok, "%record-ref", &args, |e| {
            e.load_field(x, TAG_OBJECT, 1 + n)
        })
    }

    /// `record_set.n`: the checked field store (`%record-set!` raises).
    pub(super) fn record_set(
        &mut self,
        n: usize,
        x: &str,
        rtd: &str,
        v: &str,
        who: &str,
    ) -> Result<(), EmitError> {
        let ok = self.record_test(x, rtd);
        let args = [x, rtd, &imm_op((n as u64) << 3), v, who].map(String::from);
        self.fast_or_runtime(&ok, "%record-set!", &args, |e| {
            let p = e.gep(x, field_offset(TAG_OBJECT, 1 + n));
            e.mutate_field(&p, v);
            e.store(V, v, &p);
            imm_op(abi::UNSPECIFIED)
        })?;
        Ok(())
    }

    /// `record_new`: inline allocation when `rtd` is a record type with
    /// exactly `fields.len()` fields; otherwise `%record` raises.
    pub(super) fn record_new(&mut self, rtd: &str, fields: &[String]) -> Result<String, EmitError> {
        let ri = self.int(rtd);
        let is_rtd = self.heap_type_test(rtd, &ri, ObjType::RecordType);
        let (lc, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&is_rtd, &lc, &lj, Weight::Likely);
        self.start_block(&lc);
        let count = self.load_field(rtd, TAG_OBJECT, 2);
        let want = imm_op((fields.len() as u64) << 3);
        let same = self.icmp_v("eq", &count, &want);
        self.br(&lj);
        self.start_block(&lj);
        let ok = self.phi("i1", &[("false", &from), (&same, &lc)]);
        let mut args = vec![rtd.to_string()];
        args.extend(fields.iter().cloned());
        self.fast_or_runtime(&ok, "%record", &args, |e| {
            let o = e.alloc(ObjType::Record, 1 + fields.len());
            e.store_field(&o, TAG_OBJECT, 0, rtd);
            for (i, f) in fields.iter().enumerate() {
                e.store_field(&o, TAG_OBJECT, 1 + i, f);
            }
            o
        })
    }

    // ---- characters ----

    /// `char_to_int`: `(c << 8 | low) → c << 3`.
    pub(super) fn char_to_int(&mut self, c: &str) -> String {
        let ci = self.int(c);
        let s = self.bin("lshr", &ci, 5);
        let f = self.bin("and", &s, -8);
        self.ptr(&f)
    }

    /// `int_to_char`: `n << 3 → n << 8 | low`.
    pub(super) fn int_to_char(&mut self, n: &str) -> String {
        let ni = self.int(n);
        let s = self.bin("shl", &ni, 5);
        let c = self.bin("or", &s, abi::CHAR_LOW_BYTE);
        self.ptr(&c)
    }

    // ---- vectors and strings ----

    /// Bounds-checked address of element `i` of vector `v`; `who` names
    /// the operation in the range error.
    fn vector_slot(&mut self, v: &str, i: &str, who: u32) -> String {
        let h = self.header(v, TAG_OBJECT);
        let len = self.bin("lshr", &h, 16);
        let ii = self.int(i);
        let idx = self.bin("ashr", &ii, 3);
        let ok = self.icmp("ult", &idx, &len);
        let args = format!("i64 {who}, {V} {i}");
        self.guard(&ok, |e| e.raise("@valk_rt_range", &args));
        let off = self.bin("add", &ii, field_offset(TAG_OBJECT, 0));
        self.gep(v, &off)
    }

    pub(super) fn vector_ref(&mut self, res: &str, v: &str, i: &str) {
        let p = self.vector_slot(v, i, 0);
        self.load_to(res, &p);
    }

    pub(super) fn vector_set(&mut self, v: &str, i: &str, x: &str) {
        let p = self.vector_slot(v, i, 1);
        self.mutate_field(&p, x);
        self.store(V, x, &p);
    }

    /// The length (from the header) as a fixnum.
    pub(super) fn vector_length(&mut self, res: &str, v: &str) {
        let h = self.header(v, TAG_OBJECT);
        let n = self.bin("lshr", &h, 16);
        let s = self.bin("shl", &n, 3);
        self.ptr_to(res, &s);
    }

    /// Bounds-checked address of the code point `i` of string `s`.
    fn string_slot(&mut self, s: &str, i: &str, who: u32) -> String {
        let lp = self.gep(s, field_offset(TAG_OBJECT, 0));
        let len = self.load("i64", &lp);
        let ii = self.int(i);
        let idx = self.bin("ashr", &ii, 3);
        let ok = self.icmp("ult", &idx, &len);
        let args = format!("i64 {who}, {V} {i}");
        self.guard(&ok, |e| e.raise("@valk_rt_range", &args));
        let b = self.bin("shl", &idx, 2);
        let off = self.bin("add", &b, field_offset(TAG_OBJECT, 1));
        self.gep(s, &off)
    }

    /// A character from the 32-bit code point.
    pub(super) fn string_ref(&mut self, res: &str, s: &str, i: &str) {
        let p = self.string_slot(s, i, 2);
        let c32 = self.load("i32", &p);
        let z = self.def(format!("zext i32 {c32} to i64"));
        let sh = self.bin("shl", &z, 8);
        let o = self.bin("or", &sh, abi::CHAR_LOW_BYTE);
        self.ptr_to(res, &o);
    }

    pub(super) fn string_set(&mut self, s: &str, i: &str, c: &str) {
        let p = self.string_slot(s, i, 3);
        let ci = self.int(c);
        let sh = self.bin("lshr", &ci, 8);
        let c32 = self.def(format!("trunc i64 {sh} to i32"));
        self.store("i32", &c32, &p);
    }

    /// The length (payload word 0) as a fixnum.
    pub(super) fn string_length(&mut self, res: &str, s: &str) {
        let p = self.gep(s, field_offset(TAG_OBJECT, 0));
        let n = self.load("i64", &p);
        let sh = self.bin("shl", &n, 3);
        self.ptr_to(res, &sh);
    }

    // ---- closures ----

    /// A compiled closure of `body`: `[@valk_compiled_entry, info, fast
    /// entry, captures...]` (docs/calling-convention.md).
    pub(super) fn closure(&mut self, body: FuncId, captures: &[String]) -> String {
        let o = self.alloc(
            ObjType::Closure,
            abi::CLOSURE_FIRST_CAPTURE + captures.len(),
        );
        let words = [
            "@valk_compiled_entry".to_string(),
            info_name(body),
            fast_name(self.m, body),
        ];
        for (i, w) in words.iter().enumerate() {
            let p = self.gep(&o, field_offset(TAG_CLOSURE, i));
            self.store("ptr", w, &p);
        }
        for (i, x) in captures.iter().enumerate() {
            self.store_field(&o, TAG_CLOSURE, abi::CLOSURE_FIRST_CAPTURE + i, x);
        }
        o
    }

    /// i1: is `x` a closure of `f` (its procedure-info word is `f`'s)?
    /// Info constants are never merged (`emit_info`), so the address
    /// identifies the function.
    pub(super) fn proc_is(&mut self, f: FuncId, x: &str) -> String {
        let xi = self.int(x);
        let tag = self.tag_of(&xi);
        let is_closure = self.icmp("eq", &tag, TAG_CLOSURE);
        let (lc, lj) = (self.label(), self.label());
        let from = self.cur.clone();
        self.br_if(&is_closure, &lc, &lj, Weight::Likely);
        self.start_block(&lc);
        let p = self.gep(x, field_offset(TAG_CLOSURE, 1));
        let info = self.load("ptr", &p);
        let same = self.def(format!("icmp eq ptr {info}, {}", info_name(f)));
        self.br(&lj);
        self.start_block(&lj);
        self.phi("i1", &[("false", &from), (&same, &lc)])
    }

    /// Captured value `n` of closure `c`.
    pub(super) fn env_get(&mut self, c: &str, n: usize) -> String {
        self.load_field(c, TAG_CLOSURE, abi::CLOSURE_FIRST_CAPTURE + n)
    }

    // ---- globals ----

    /// The value cell of global `g` (cells are allocated at start-up).
    fn cell(&mut self, g: usize) -> String {
        let p = self.gep_elem("ptr", "@valk_cells", g);
        self.load_mem("ptr", &p)
    }

    pub(super) fn global_get(&mut self, res: &str, g: usize, chk: bool, loc: Loc) {
        let cell = self.cell(g);
        self.assign(res, format!("load {V}, ptr {cell}"));
        if chk {
            self.check_bound(res, g, loc);
        }
    }

    pub(super) fn global_set(&mut self, g: usize, chk: bool, loc: Loc, v: &str) {
        let cell = self.cell(g);
        if chk {
            let old = self.load_mem(V, &cell);
            self.check_bound(&old, g, loc);
        }
        self.store_mem(v, &cell);
    }

    /// Tells the runtime that the cell of global `g`, a builtin's, was
    /// written (docs/tiering.md, "Redefining builtins"). A leaf call.
    pub(super) fn global_written(&mut self, g: usize) {
        let cell = self.cell(g);
        self.line(format!("call void @valk_rt_global_written(ptr {cell}) #2"));
    }

    /// i1: does the global with redefinition index `n` still hold its
    /// builtin (byte `n` of `@valk_redefined` is 0)? A plain load: LLVM
    /// may reuse it until the next call, which is the only thing that
    /// can change it.
    pub(super) fn intact(&mut self, n: u32) -> String {
        let p = self.gep_elem("i8", "@valk_redefined", n);
        let b = self.load_mem("i8", &p);
        self.def(format!("icmp eq i8 {b}, 0"))
    }

    /// Raises `unbound variable` (with the source diagnostic) when `v` is
    /// the `undefined` marker.
    fn check_bound(&mut self, v: &str, g: usize, loc: Loc) {
        let c = self.icmp_v("ne", v, &imm_op(abi::UNDEFINED));
        let name = self.m.globals[g].name.clone();
        let diag = (self.opts.unbound_diag)(loc, &name).unwrap_or_default();
        let (np, nl) = self.cx.string(name.as_bytes());
        let (dp, dl) = self.cx.string(diag.as_bytes());
        let args = format!("ptr {np}, i64 {nl}, ptr {dp}, i64 {dl}");
        self.guard(&c, |e| e.raise("@valk_rt_unbound", &args));
    }
}
