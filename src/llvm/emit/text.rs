//! The LLVM-text layer: operand and symbol spelling, fresh SSA names and
//! labels, and one typed helper per instruction shape the emitter writes
//! (`icmp`, `gep`, `load`, `store`, `br`, `call`, `phi`…). The semantic
//! modules build code from these instead of formatting instruction text,
//! so what an operation means and how LLVM spells it stay apart.

use super::function::FnEmitter;
use std::fmt::Write;
use valk_vir::{FuncId, Module};

/// The LLVM type of every Valk value (docs/calling-convention.md).
pub const V: &str = "ptr addrspace(1)";

/// Branch-weight metadata attached to a conditional `br` (`!0` and `!1`
/// are defined at the end of every module).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    /// No weight.
    Even,
    /// The true edge is the usual one.
    Likely,
    /// The true edge is the rare one.
    Unlikely,
}

impl Weight {
    fn suffix(self) -> &'static str {
        match self {
            Weight::Even => "",
            Weight::Likely => ", !prof !0",
            Weight::Unlikely => ", !prof !1",
        }
    }
}

pub(super) const LIKELY: &str = "!prof !0";
pub(super) const UNLIKELY: &str = "!prof !1";

/// How a call is made: the C convention (runtime functions), Valk's
/// `tailcc`, or a guaranteed tail call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Conv {
    C,
    Tail,
    MustTail,
}

impl Conv {
    fn prefix(self) -> &'static str {
        match self {
            Conv::C => "call",
            Conv::Tail => "call tailcc",
            Conv::MustTail => "musttail call tailcc",
        }
    }
}

/// A typed immediate value (`ptr addrspace(1) null` or an `inttoptr`).
pub(super) fn imm(bits: u64) -> String {
    if bits == 0 {
        format!("{V} null")
    } else {
        format!("{V} inttoptr (i64 {} to {V})", bits as i64)
    }
}

/// An immediate as an operand without its type.
pub(super) fn imm_op(bits: u64) -> String {
    if bits == 0 {
        "null".into()
    } else {
        format!("inttoptr (i64 {} to {V})", bits as i64)
    }
}

/// Value operands as a typed argument list (`ptr addrspace(1) %a, ...`).
pub(super) fn value_args(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("{V} {a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Bytes as the body of an LLVM `c"..."` string.
pub(super) fn llvm_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:02X}");
        }
    }
    s
}

/// The direct entry of VIR function `id`.
pub(super) fn direct_name(m: &Module, id: FuncId) -> String {
    format!("@\"d{}.{}\"", id.0, sanitize(&m.func(id).name))
}

/// The fast entry of closure body `id`.
pub(super) fn fast_name(m: &Module, id: FuncId) -> String {
    format!("@\"u{}.{}\"", id.0, sanitize(&m.func(id).name))
}

/// The info record of closure body `id`.
pub(super) fn info_name(id: FuncId) -> String {
    format!("@\"i{}\"", id.0)
}

impl FnEmitter<'_, '_, '_> {
    /// A fresh SSA name.
    pub(super) fn t(&mut self) -> String {
        self.tmp += 1;
        format!("%t{}", self.tmp)
    }

    /// A fresh label (shares the counter with SSA names).
    pub(super) fn label(&mut self) -> String {
        self.tmp += 1;
        format!("L{}", self.tmp)
    }

    /// One instruction line of the current block.
    pub(super) fn line(&mut self, s: impl AsRef<str>) {
        self.body.push_str("  ");
        self.body.push_str(s.as_ref());
        self.body.push('\n');
    }

    pub(super) fn start_block(&mut self, label: &str) {
        self.body.push_str(label);
        self.body.push_str(":\n");
        self.cur = label.to_string();
    }

    /// `dst = rhs`.
    pub(super) fn assign(&mut self, dst: &str, rhs: impl AsRef<str>) {
        self.line(format!("{dst} = {}", rhs.as_ref()));
    }

    /// A fresh name defined as `rhs`.
    pub(super) fn def(&mut self, rhs: impl AsRef<str>) -> String {
        let t = self.t();
        self.assign(&t, rhs);
        t
    }

    /// `ptrtoint` of a value (`null` folds to `0`).
    pub(super) fn int(&mut self, v: &str) -> String {
        if v == "null" {
            return "0".into();
        }
        self.def(format!("ptrtoint {V} {v} to i64"))
    }

    /// `inttoptr` of an i64 into a value.
    pub(super) fn ptr(&mut self, i: &str) -> String {
        self.def(format!("inttoptr i64 {i} to {V}"))
    }

    /// `inttoptr` of an i64 into the given name.
    pub(super) fn ptr_to(&mut self, dst: &str, i: &str) {
        self.assign(dst, format!("inttoptr i64 {i} to {V}"));
    }

    /// An i64 binary operation (`add`, `shl`, `ashr`, `and`…).
    pub(super) fn bin(&mut self, op: &str, a: &str, b: impl std::fmt::Display) -> String {
        self.def(format!("{op} i64 {a}, {b}"))
    }

    /// An i1 binary operation (`and`, `or`).
    pub(super) fn bin1(&mut self, op: &str, a: &str, b: &str) -> String {
        self.def(format!("{op} i1 {a}, {b}"))
    }

    /// `icmp` of two i64s.
    pub(super) fn icmp(&mut self, pred: &str, a: &str, b: impl std::fmt::Display) -> String {
        self.def(format!("icmp {pred} i64 {a}, {b}"))
    }

    /// `icmp` of two values.
    pub(super) fn icmp_v(&mut self, pred: &str, a: &str, b: &str) -> String {
        self.def(format!("icmp {pred} {V} {a}, {b}"))
    }

    /// `select` between two values.
    pub(super) fn select_to(&mut self, dst: &str, c: &str, yes: &str, no: &str) {
        self.assign(dst, format!("select i1 {c}, {yes}, {no}"));
    }

    /// Byte offset `off` from a value: `getelementptr i8`.
    pub(super) fn gep(&mut self, base: &str, off: impl std::fmt::Display) -> String {
        self.def(format!("getelementptr i8, {V} {base}, i64 {off}"))
    }

    /// Element `i` of an array of `elem` in ordinary memory.
    pub(super) fn gep_elem(&mut self, elem: &str, base: &str, i: impl std::fmt::Display) -> String {
        self.def(format!("getelementptr {elem}, ptr {base}, i64 {i}"))
    }

    /// A load of type `ty` through a value (a heap address).
    pub(super) fn load(&mut self, ty: &str, p: &str) -> String {
        self.def(format!("load {ty}, {V} {p}"))
    }

    /// A load of a value through a value, into the given name.
    pub(super) fn load_to(&mut self, dst: &str, p: &str) {
        self.assign(dst, format!("load {V}, {V} {p}"));
    }

    /// A load of type `ty` from ordinary memory (tables, globals, `argv`).
    pub(super) fn load_mem(&mut self, ty: &str, p: &str) -> String {
        self.def(format!("load {ty}, ptr {p}"))
    }

    /// A store of type `ty` through a value (a heap address).
    pub(super) fn store(&mut self, ty: &str, v: &str, p: &str) {
        self.line(format!("store {ty} {v}, {V} {p}"));
    }

    /// A store of a value into ordinary memory.
    pub(super) fn store_mem(&mut self, v: &str, p: &str) {
        self.line(format!("store {V} {v}, ptr {p}"));
    }

    pub(super) fn br(&mut self, l: &str) {
        self.line(format!("br label %{l}"));
    }

    pub(super) fn br_if(&mut self, c: &str, yes: &str, no: &str, w: Weight) {
        self.line(format!(
            "br i1 {c}, label %{yes}, label %{no}{}",
            w.suffix()
        ));
    }

    /// A call returning a value; `args` is the typed argument list.
    pub(super) fn call(&mut self, conv: Conv, callee: &str, args: &str) -> String {
        let r = self.t();
        self.call_to(&r, conv, callee, args);
        r
    }

    pub(super) fn call_to(&mut self, dst: &str, conv: Conv, callee: &str, args: &str) {
        self.assign(dst, format!("{} {V} {callee}({args})", conv.prefix()));
    }

    /// A phi of type `ty` over `(value, predecessor label)` pairs.
    pub(super) fn phi(&mut self, ty: &str, incoming: &[(&str, &str)]) -> String {
        let ins: Vec<String> = incoming
            .iter()
            .map(|(v, b)| format!("[ {v}, %{b} ]"))
            .collect();
        self.def(format!("phi {ty} {}", ins.join(", ")))
    }

    pub(super) fn ret(&mut self, v: &str) {
        self.line(format!("ret {V} {v}"));
    }
}
