//! Fixnum and flonum arithmetic and comparisons. Checked operations test
//! their operands' types in line and overflow with the
//! `llvm.*.with.overflow` intrinsics; anything else (other number types,
//! overflow, zero divisors) goes to a slow path calling the runtime's
//! generic operation, joined with the fast result by a phi.

use super::function::FnEmitter;
use super::text::{Conv, Weight, V};
use valk_runtime::value::ObjType;
use valk_vir::{Cond, FlOp, FxMode, FxOp};

// The runtime identifies an operation by its index in the VIR's list.
fn fx_code(op: FxOp) -> usize {
    FxOp::ALL.iter().position(|&x| x == op).unwrap_or(0)
}

fn fl_code(op: FlOp) -> usize {
    FlOp::ALL.iter().position(|&x| x == op).unwrap_or(0)
}

fn cond_code(c: Cond) -> usize {
    Cond::ALL.iter().position(|&x| x == c).unwrap_or(0)
}

/// The `fcmp` predicate of a flonum comparison: ordered (false when an
/// operand is NaN), except `!=`, like the runtime's comparisons.
pub(super) fn fcmp_pred(c: Cond) -> &'static str {
    match c {
        Cond::Eq => "oeq",
        Cond::Ne => "une",
        Cond::Lt => "olt",
        Cond::Le => "ole",
        Cond::Gt => "ogt",
        Cond::Ge => "oge",
    }
}

/// The LLVM instruction computing a generic `op` on two flonums in line,
/// for the operations whose flonum result is the plain IEEE one.
fn inline_flonum_op(op: FxOp) -> Option<&'static str> {
    match op {
        FxOp::Add => Some("fadd"),
        FxOp::Sub => Some("fsub"),
        FxOp::Mul => Some("fmul"),
        _ => None,
    }
}

impl FnEmitter<'_, '_, '_> {
    /// Fixnum arithmetic; returns the result operand. Tagged fixnums are
    /// `n << 3`, so sums and differences need no untagging.
    pub(super) fn fx(&mut self, op: FxOp, mode: FxMode, a: &str, b: &str) -> String {
        let ai = self.int(a);
        let bi = self.int(b);
        let code = fx_code(op);
        if mode == FxMode::Plain {
            let r = match op {
                FxOp::Add => self.bin("add", &ai, &bi),
                FxOp::Sub => self.bin("sub", &ai, &bi),
                FxOp::Mul => {
                    let u = self.bin("ashr", &ai, 3);
                    self.bin("mul", &u, &bi)
                }
                _ => {
                    let nz = self.icmp("ne", &bi, 0);
                    let args = format!("i64 {code}");
                    self.guard(&nz, |e| e.raise("@valk_rt_div_zero", &args));
                    self.divide(op, &ai, &bi)
                }
            };
            return self.ptr(&r);
        }
        let (lfx, lslow, ljoin) = (self.label(), self.label(), self.label());
        if mode == FxMode::Chk {
            // Both are fixnums when the tag of their `or` is 0.
            let o = self.bin("or", &ai, &bi);
            let t = self.tag_of(&o);
            let isfx = self.icmp("eq", &t, 0);
            self.br_if(&isfx, &lfx, &lslow, Weight::Likely);
        } else {
            self.br(&lfx);
        }
        self.start_block(&lfx);
        let (val, ovf) = match op {
            FxOp::Add | FxOp::Sub | FxOp::Mul => {
                let (intr, x) = match op {
                    FxOp::Add => ("sadd", ai.clone()),
                    FxOp::Sub => ("ssub", ai.clone()),
                    _ => ("smul", self.bin("ashr", &ai, 3)),
                };
                let s = self.def(format!(
                    "call {{ i64, i1 }} @llvm.{intr}.with.overflow.i64(i64 {x}, i64 {bi})"
                ));
                let v = self.def(format!("extractvalue {{ i64, i1 }} {s}, 0"));
                let o = self.def(format!("extractvalue {{ i64, i1 }} {s}, 1"));
                (v, o)
            }
            _ => {
                // Zero divisors and MIN / -1 go to the generic operation.
                let z = self.icmp("eq", &bi, 0);
                let m1 = self.icmp("eq", &bi, -8);
                let mn = self.icmp("eq", &ai, i64::MIN);
                let both = self.bin1("and", &m1, &mn);
                let bad = self.bin1("or", &z, &both);
                // The first label number is unused; it is kept so that the
                // emitted names stay as they were.
                let (_, ldiv) = (self.label(), self.label());
                self.br_if(&bad, &lslow, &ldiv, Weight::Unlikely);
                self.start_block(&ldiv);
                let v = self.divide(op, &ai, &bi);
                (v, "false".to_string())
            }
        };
        let lok = self.label();
        // Overflow goes straight to the runtime (it makes the bignum).
        let inline_fl = mode == FxMode::Chk && self.flonum_code;
        let lrt = if inline_fl && inline_flonum_op(op).is_some() {
            self.label()
        } else {
            lslow.clone()
        };
        self.br_if(&ovf, &lrt, &lok, Weight::Unlikely);
        self.start_block(&lok);
        let r1 = self.ptr(&val);
        let Some(fop) = inline_flonum_op(op).filter(|_| inline_fl) else {
            return self.slow_path_join(Some((lslow, ljoin)), r1, "valk_rt_arith", code, a, b);
        };
        // Not two fixnums: two flonums, or a fixnum and a flonum, are
        // computed in line (the runtime converts the fixnum the same way,
        // docs/numbers.md); anything else calls the runtime.
        let fx_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&lslow);
        let (x, y) = self.flonum_operands_of_numbers(a, b, false, &lrt);
        let d = self.def(format!("{fop} double {x}, {y}"));
        let r2 = self.box_flonum(&d);
        let fl_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&lrt);
        let r3 = self.call(
            Conv::C,
            "@valk_rt_arith",
            &format!("i64 {code}, {V} {a}, {V} {b}"),
        );
        let rt_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&ljoin);
        self.phi(V, &[(&r1, &fx_end), (&r2, &fl_end), (&r3, &rt_end)])
    }

    /// The doubles of two operands known not to be both fixnums, for the
    /// inline flonum path of a generic operation: both flonums, or one
    /// fixnum converted by `sitofp` and one flonum. With `exact`, only
    /// fixnums of at most 53 bits are converted (their double is exact, as
    /// comparisons need). Other operands branch to `lrt`. Leaves the
    /// current block at the join of the accepted cases.
    fn flonum_operands_of_numbers(
        &mut self,
        a: &str,
        b: &str,
        exact: bool,
        lrt: &str,
    ) -> (String, String) {
        let ai = self.int(a);
        let bi = self.int(b);
        let (la_fl, la_other, lcomp) = (self.label(), self.label(), self.label());
        let mut ins: Vec<(String, String, String)> = Vec::new();
        let ta = self.heap_type_test(a, &ai, ObjType::Flonum);
        self.br_if(&ta, &la_fl, &la_other, Weight::Likely);
        // `a` is a flonum.
        self.start_block(&la_fl);
        let x = self.load_double(a);
        let tb = self.heap_type_test(b, &bi, ObjType::Flonum);
        let (lff, lfo) = (self.label(), self.label());
        self.br_if(&tb, &lff, &lfo, Weight::Likely);
        self.start_block(&lff);
        let y = self.load_double(b);
        ins.push((x.clone(), y, self.cur.clone()));
        self.br(&lcomp);
        self.start_block(&lfo);
        {
            let bfx = self.convertible_fixnum(&bi, exact);
            let lconv = self.label();
            self.br_if(&bfx, &lconv, lrt, Weight::Likely);
            self.start_block(&lconv);
            let n = self.bin("ashr", &bi, 3);
            let y = self.def(format!("sitofp i64 {n} to double"));
            ins.push((x, y, self.cur.clone()));
            self.br(&lcomp);
        }
        // `a` is not a flonum.
        self.start_block(&la_other);
        {
            let afx = self.convertible_fixnum(&ai, exact);
            let lconv = self.label();
            self.br_if(&afx, &lconv, lrt, Weight::Likely);
            self.start_block(&lconv);
            let n = self.bin("ashr", &ai, 3);
            let x = self.def(format!("sitofp i64 {n} to double"));
            let tb = self.heap_type_test(b, &bi, ObjType::Flonum);
            let lof = self.label();
            self.br_if(&tb, &lof, lrt, Weight::Likely);
            self.start_block(&lof);
            let y = self.load_double(b);
            ins.push((x, y, self.cur.clone()));
            self.br(&lcomp);
        }
        self.start_block(&lcomp);
        let xs: Vec<(&str, &str)> = ins
            .iter()
            .map(|(x, _, l)| (x.as_str(), l.as_str()))
            .collect();
        let x = self.phi("double", &xs);
        let ys: Vec<(&str, &str)> = ins
            .iter()
            .map(|(_, y, l)| (y.as_str(), l.as_str()))
            .collect();
        let y = self.phi("double", &ys);
        (x, y)
    }

    /// i1: is tagged `xi` a fixnum, and with `exact` one of magnitude at
    /// most 2^53 (converted to a double without rounding)?
    pub(super) fn convertible_fixnum(&mut self, xi: &str, exact: bool) -> String {
        let tag = self.tag_of(xi);
        let fx = self.icmp("eq", &tag, 0);
        if !exact {
            return fx;
        }
        // |n| <= 2^53 iff (n << 3) + 2^56 <= 2^57, unsigned.
        let s = self.bin("add", xi, 1i64 << 56);
        let small = self.icmp("ule", &s, 1i64 << 57);
        self.bin1("and", &fx, &small)
    }

    /// Quotient/remainder/modulo of tagged fixnums (divisor non-zero).
    fn divide(&mut self, op: FxOp, ai: &str, bi: &str) -> String {
        match op {
            FxOp::Quo => {
                let q = self.bin("sdiv", ai, bi);
                self.bin("shl", &q, 3)
            }
            FxOp::Rem => self.bin("srem", ai, bi),
            _ => {
                // Modulo: the remainder, moved into the divisor's sign.
                let r = self.bin("srem", ai, bi);
                let nz = self.icmp("ne", &r, 0);
                let x = self.bin("xor", &r, bi);
                let neg = self.icmp("slt", &x, 0);
                let adj = self.bin1("and", &nz, &neg);
                let s = self.bin("add", &r, bi);
                self.def(format!("select i1 {adj}, i64 {s}, i64 {r}"))
            }
        }
    }

    /// `exact->inexact` of a fixnum: a new flonum box.
    pub(super) fn fx_to_fl(&mut self, x: &str) -> String {
        let xi = self.int(x);
        let n = self.bin("ashr", &xi, 3);
        let d = self.def(format!("sitofp i64 {n} to double"));
        self.box_flonum(&d)
    }

    /// Fixnum comparison (tagged values compare like their numbers).
    pub(super) fn fx_cmp(&mut self, c: Cond, chk: bool, a: &str, b: &str) -> String {
        let ai = self.int(a);
        let bi = self.int(b);
        let pred = match c {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Lt => "slt",
            Cond::Le => "sle",
            Cond::Gt => "sgt",
            Cond::Ge => "sge",
        };
        if !chk {
            let t = self.icmp(pred, &ai, &bi);
            return self.bool_of(&t);
        }
        let o = self.bin("or", &ai, &bi);
        let t = self.tag_of(&o);
        let isfx = self.icmp("eq", &t, 0);
        let (lfx, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.br_if(&isfx, &lfx, &lslow, Weight::Likely);
        self.start_block(&lfx);
        let cmp = self.icmp(pred, &ai, &bi);
        let r1 = self.bool_of(&cmp);
        if !self.flonum_code {
            return self.slow_path_join(
                Some((lslow, ljoin)),
                r1,
                "valk_rt_compare",
                cond_code(c),
                a,
                b,
            );
        }
        self.br(&ljoin);
        // Two flonums compare in line, and a fixnum with a flonum when the
        // fixnum converts exactly (the runtime compares exactly,
        // docs/numbers.md); other numbers compare in the runtime.
        self.start_block(&lslow);
        let lrt = self.label();
        let (x, y) = self.flonum_operands_of_numbers(a, b, true, &lrt);
        let t = self.def(format!("fcmp {} double {x}, {y}", fcmp_pred(c)));
        let r3 = self.bool_of(&t);
        let fl_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&lrt);
        let r2 = self.call(
            Conv::C,
            "@valk_rt_compare",
            &format!("i64 {}, {V} {a}, {V} {b}", cond_code(c)),
        );
        let slow_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&ljoin);
        self.phi(V, &[(&r1, &lfx), (&r3, &fl_end), (&r2, &slow_end)])
    }

    /// Branches to a slow path unless both operands are flonums; returns
    /// (slow label, join label). The caller continues the fast path.
    fn flonum_guard(&mut self, a: &str, b: &str) -> (String, String) {
        let ai = self.int(a);
        let t1 = self.heap_type_test(a, &ai, ObjType::Flonum);
        let (l2, lslow, ljoin) = (self.label(), self.label(), self.label());
        self.br_if(&t1, &l2, &lslow, Weight::Likely);
        self.start_block(&l2);
        let bi = self.int(b);
        let t2 = self.heap_type_test(b, &bi, ObjType::Flonum);
        let lfast = self.label();
        self.br_if(&t2, &lfast, &lslow, Weight::Likely);
        self.start_block(&lfast);
        (lslow, ljoin)
    }

    /// The unboxed operands of a flonum operation, after the type guard of a
    /// checked one (whose failing edge goes to the generic slow path).
    fn flonum_operands(
        &mut self,
        chk: bool,
        a: &str,
        b: &str,
    ) -> (Option<(String, String)>, String, String) {
        let guard = chk.then(|| self.flonum_guard(a, b));
        let x = self.load_double(a);
        let y = self.load_double(b);
        (guard, x, y)
    }

    /// Flonum arithmetic: unbox, operate, box the result.
    pub(super) fn fl(&mut self, op: FlOp, chk: bool, a: &str, b: &str) -> String {
        let (guard, x, y) = self.flonum_operands(chk, a, b);
        let o = match op {
            FlOp::Add => "fadd",
            FlOp::Sub => "fsub",
            FlOp::Mul => "fmul",
            FlOp::Div => "fdiv",
        };
        let d = self.def(format!("{o} double {x}, {y}"));
        let r1 = self.box_flonum(&d);
        self.slow_path_join(guard, r1, "valk_rt_fl_arith", fl_code(op), a, b)
    }

    /// Flonum comparison (ordered, except `!=`).
    pub(super) fn fl_cmp(&mut self, c: Cond, chk: bool, a: &str, b: &str) -> String {
        let (guard, x, y) = self.flonum_operands(chk, a, b);
        let t = self.def(format!("fcmp {} double {x}, {y}", fcmp_pred(c)));
        let r1 = self.bool_of(&t);
        self.slow_path_join(guard, r1, "valk_rt_fl_compare", cond_code(c), a, b)
    }

    /// Ends an inline fast path whose result is `fast`. With a `guard`
    /// (slow label, join label), emits the slow block, which calls runtime
    /// `callee(code, a, b)` (other operand types, overflow), and joins both.
    fn slow_path_join(
        &mut self,
        guard: Option<(String, String)>,
        fast: String,
        callee: &str,
        code: usize,
        a: &str,
        b: &str,
    ) -> String {
        let Some((lslow, ljoin)) = guard else {
            return fast;
        };
        let fast_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&lslow);
        let slow = self.call(
            Conv::C,
            &format!("@{callee}"),
            &format!("i64 {code}, {V} {a}, {V} {b}"),
        );
        let slow_end = self.cur.clone();
        self.br(&ljoin);
        self.start_block(&ljoin);
        self.phi(V, &[(&fast, &fast_end), (&slow, &slow_end)])
    }
}
