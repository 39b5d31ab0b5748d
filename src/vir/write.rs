//! The printer: VIR text format (see `docs/vir.md`).
//!
//! Values and blocks print under their debug names when they have one
//! (made unique by a `.N` suffix), otherwise anonymous values are
//! numbered `%0, %1, ...` in definition order and anonymous blocks are
//! `b<layout position>`. The parser accepts everything printed here.

use crate::analysis::Cfg;
use crate::entity::{Block, BuiltinId, FuncId, GlobalId, Inst, Loc, Value};
use crate::ir::{ConstData, Function, Module};
use crate::ops::{ArgCount, Imm, Layout};
use std::collections::HashSet;
use std::fmt::Write;

/// Characters allowed in unquoted names (values, blocks, functions,
/// globals).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-?!*+<>=/&^~".contains(c)
}

/// Make a debug name printable without quoting: replace other characters
/// and avoid a leading digit (digits-only names are anonymous values).
fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn is_anon_block_label(s: &str) -> bool {
    s.len() > 1 && s.starts_with('b') && s[1..].chars().all(|c| c.is_ascii_digit())
}

fn unique(used: &mut HashSet<String>, base: String) -> String {
    let mut name = base.clone();
    let mut n = 1;
    while used.contains(&name) {
        name = format!("{base}.{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// A name for a function or global: bare if every character is allowed,
/// otherwise a quoted string.
pub(crate) fn symbol_name(sigil: char, name: &str) -> String {
    if !name.is_empty() && name.chars().all(is_name_char) {
        format!("{sigil}{name}")
    } else {
        format!("{sigil}{}", quote_string(name))
    }
}

/// `"..."` with `\\ \" \n \t \r` and `\u{HEX}` for other control chars.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A flonum as text: Rust's shortest round-trip form, with Scheme's
/// `+inf.0 -inf.0 +nan.0` for the special values.
pub fn format_flonum(x: f64) -> String {
    if x.is_nan() {
        "+nan.0".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+inf.0" } else { "-inf.0" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A character in Scheme syntax: `#\a`, `#\space`, `#\x3bb`.
pub fn format_char(c: char) -> String {
    match c {
        ' ' => "#\\space".into(),
        '\n' => "#\\newline".into(),
        '\t' => "#\\tab".into(),
        '\r' => "#\\return".into(),
        '\0' => "#\\null".into(),
        c if c.is_ascii_graphic() => format!("#\\{c}"),
        c => format!("#\\x{:x}", c as u32),
    }
}

fn is_symbol_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!$%&*/:<=>?^_~+-.@".contains(c)
}

fn symbol_needs_bars(s: &str) -> bool {
    let mut cs = s.chars();
    let (Some(first), second) = (cs.next(), cs.next()) else {
        return true;
    };
    !s.chars().all(is_symbol_char)
        || first.is_ascii_digit()
        || first == '@'
        || (matches!(first, '+' | '-' | '.')
            && second.is_some_and(|c| c.is_ascii_digit() || c == '.'))
        || s == "."
}

/// A constant in Scheme datum syntax (without the quote).
pub fn format_datum(d: &ConstData) -> String {
    let mut out = String::new();
    write_datum(&mut out, d);
    out
}

fn write_datum(out: &mut String, d: &ConstData) {
    match d {
        ConstData::Int(n) => {
            let _ = write!(out, "{n}");
        }
        ConstData::Float(x) => out.push_str(&format_flonum(*x)),
        ConstData::Number(text) => out.push_str(text),
        ConstData::Bool(b) => out.push_str(if *b { "#t" } else { "#f" }),
        ConstData::Char(c) => out.push_str(&format_char(*c)),
        ConstData::Str(s) => out.push_str(&quote_string(s)),
        ConstData::Symbol(s) => {
            if symbol_needs_bars(s) {
                out.push('|');
                for c in s.chars() {
                    match c {
                        '|' => out.push_str("\\|"),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        c if c.is_control() => {
                            let _ = write!(out, "\\u{{{:x}}}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('|');
            } else {
                out.push_str(s);
            }
        }
        ConstData::List(items, tail) => {
            out.push('(');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_datum(out, x);
            }
            if let Some(t) = tail {
                out.push_str(" . ");
                write_datum(out, t);
            }
            out.push(')');
        }
        ConstData::Vector(items) => {
            out.push_str("#(");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_datum(out, x);
            }
            out.push(')');
        }
        ConstData::Bytevector(bytes) => {
            out.push_str("#u8(");
            for (i, x) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{x}");
            }
            out.push(')');
        }
    }
}

/// Unique printed names of a module's functions and globals.
pub struct ModuleNames {
    funcs: Vec<String>,
    globals: Vec<String>,
    builtins: Vec<String>,
}

impl ModuleNames {
    pub fn new(m: &Module) -> ModuleNames {
        let mut used = HashSet::new();
        let funcs = m
            .funcs
            .iter()
            .map(|f| unique(&mut used, f.name.clone()))
            .collect();
        let mut used = HashSet::new();
        let globals = m
            .globals
            .iter()
            .map(|g| unique(&mut used, g.name.clone()))
            .collect();
        ModuleNames {
            funcs,
            globals,
            builtins: m.builtins.clone(),
        }
    }

    /// Names for a function printed without its module.
    pub fn empty() -> ModuleNames {
        ModuleNames {
            funcs: Vec::new(),
            globals: Vec::new(),
            builtins: Vec::new(),
        }
    }

    pub fn func(&self, f: FuncId) -> String {
        match self.funcs.get(f.index()) {
            Some(n) => symbol_name('@', n),
            None => format!("@{}", f.index()),
        }
    }

    /// A builtin by name, quoted (`"display"`); `"<builtin N>"` when
    /// printed without its module.
    pub fn builtin(&self, b: BuiltinId) -> String {
        match self.builtins.get(b.index()) {
            Some(n) => quote_string(n),
            None => quote_string(&format!("<builtin {}>", b.index())),
        }
    }

    pub fn global(&self, g: GlobalId) -> String {
        match self.globals.get(g.index()) {
            Some(n) => symbol_name('$', n),
            None => format!("${}", g.index()),
        }
    }
}

/// Printed names of a function's values and blocks.
pub struct Namer {
    values: Vec<Option<String>>,
    blocks: Vec<Option<String>>,
}

impl Namer {
    pub fn new(f: &Function) -> Namer {
        let mut values = vec![None; f.values.len()];
        let mut blocks = vec![None; f.blocks.len()];
        let mut used = HashSet::new();
        let mut counter = 0usize;
        let mut name_value = |v: Value, values: &mut Vec<Option<String>>| {
            let Some(slot) = values.get_mut(v.index()) else {
                return;
            };
            if slot.is_some() {
                return;
            }
            *slot = Some(match f.value_name(v) {
                Some(n) => unique(&mut used, sanitize(n)),
                None => {
                    counter += 1;
                    (counter - 1).to_string()
                }
            });
        };
        for &b in &f.layout {
            // Tolerate dangling entities: the validator prints broken IR.
            let Some(bd) = f.blocks.get(b.index()) else {
                continue;
            };
            for &p in &bd.params {
                name_value(p, &mut values);
            }
            for &i in &bd.insts {
                if let Some(r) = f.insts.get(i.index()).and_then(|d| d.result) {
                    name_value(r, &mut values);
                }
            }
        }
        let mut used = HashSet::new();
        // Named blocks first so anonymous labels never steal their names;
        // anonymous labels use the layout position, which no named label
        // can collide with (see `is_anon_block_label`).
        for &b in &f.layout {
            if let Some(n) = f.blocks.get(b.index()).and_then(|d| d.name.as_ref()) {
                let mut s = sanitize(n);
                if is_anon_block_label(&s) {
                    s.push_str(".0");
                }
                blocks[b.index()] = Some(unique(&mut used, s));
            }
        }
        for (pos, &b) in f.layout.iter().enumerate() {
            if let Some(slot @ None) = blocks.get_mut(b.index()) {
                *slot = Some(format!("b{pos}"));
            }
        }
        Namer { values, blocks }
    }

    /// `%name`, or `%<undefined v7>` for a value not defined in the layout.
    pub fn value(&self, v: Value) -> String {
        match self.values.get(v.index()).and_then(|n| n.as_ref()) {
            Some(n) => format!("%{n}"),
            None => format!("%<undefined {v}>"),
        }
    }

    pub fn block(&self, b: Block) -> String {
        match self.blocks.get(b.index()).and_then(|n| n.as_ref()) {
            Some(n) => n.clone(),
            None => format!("<deleted {b}>"),
        }
    }
}

fn value_list(namer: &Namer, vs: &[Value]) -> String {
    vs.iter()
        .map(|&v| namer.value(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The immediate of `ffi_call`: `LIB "SYM" (T ...) -> T`, `LIB` a string
/// or `#f` (the process).
fn format_foreign(f: &crate::ir::Foreign) -> String {
    let lib = match &f.lib {
        Some(l) => quote_string(l),
        None => "#f".to_string(),
    };
    let args: Vec<&str> = f.args.iter().map(|t| t.name()).collect();
    format!(
        "{lib} {} ({}) -> {}",
        quote_string(&f.sym),
        args.join(" "),
        f.ret.name()
    )
}

/// One instruction, without indentation or newline.
pub fn format_inst(names: &ModuleNames, f: &Function, namer: &Namer, inst: Inst) -> String {
    let d = f.inst(inst);
    let mut s = String::new();
    if let Some(r) = d.result {
        let _ = write!(s, "{} = ", namer.value(r));
    }
    s.push_str(&d.op.mnemonic());
    let args = &d.args;
    let target = |i: usize| -> String {
        match d.targets.get(i) {
            Some(c) => format!("{}({})", namer.block(c.block), value_list(namer, &c.args)),
            None => "<missing target>".into(),
        }
    };
    // Operands whose count is wrong still print (for the validator's
    // messages), so only the layouts below that need one index `args`.
    let rest_from = |k: usize| value_list(namer, args.get(k..).unwrap_or(&[]));
    let imm = d.op.imm();
    let imm_text = || match &imm {
        Imm::I64(n) => n.to_string(),
        Imm::F64(bits) => format_flonum(f64::from_bits(*bits)),
        Imm::Char(c) => format_char(*c),
        Imm::Bool(b) => if *b { "#t" } else { "#f" }.to_string(),
        Imm::Const(c) => format!("#{}", c.index()),
        Imm::TyWho(_, who) => quote_string(who),
        Imm::Field(n) => n.to_string(),
        Imm::Global(g, _) => names.global(*g),
        Imm::Func(func) => names.func(*func),
        Imm::Builtin(b) => names.builtin(*b),
        Imm::Foreign(ff) => format_foreign(ff),
        _ => String::new(),
    };
    let info = d.op.info();
    let operands = match info.layout {
        Layout::Imm => format!(" {}", imm_text()),
        Layout::ValuesImm => format!(" {}, {}", rest_from(0), imm_text()),
        Layout::Store => match args.split_first() {
            Some((o, rest)) => format!(
                " {}, {}, {}",
                namer.value(*o),
                imm_text(),
                value_list(namer, rest)
            ),
            None => format!(" , {}", imm_text()),
        },
        Layout::ImmValues if info.args == ArgCount::Exact(0) => format!(" {}", imm_text()),
        Layout::ImmValues => format!(" {}, {}", imm_text(), rest_from(0)),
        Layout::ImmCall => format!(" {}({})", imm_text(), rest_from(0)),
        Layout::ValueCall => match args.first() {
            Some(c) => format!(" {}({})", namer.value(*c), rest_from(1)),
            None => " <missing callee>()".into(),
        },
        Layout::Br => format!(" {}", target(0)),
        Layout::BrIf => format!(" {}, {}, {}", rest_from(0), target(0), target(1)),
        Layout::Switch => {
            let mut t = format!(" {}", rest_from(0));
            if let Imm::Cases(cases) = &imm {
                for (k, case) in cases.iter().enumerate() {
                    let _ = write!(t, ", {case}: {}", target(k + 1));
                }
            }
            let _ = write!(t, ", default: {}", target(0));
            t
        }
        Layout::Bare | Layout::Values if args.is_empty() => String::new(),
        Layout::Bare | Layout::Values => format!(" {}", rest_from(0)),
    };
    s.push_str(&operands);
    if !d.loc.is_none() {
        let _ = write!(s, " {}", d.loc);
    }
    s
}

/// The function header line without the trailing ` {`.
fn format_header(names: &ModuleNames, fid: Option<FuncId>, f: &Function, namer: &Namer) -> String {
    let fname = match fid {
        Some(id) => names.func(id),
        None => symbol_name('@', &f.name),
    };
    let mut s = format!(
        "function {fname}({}) arity {}",
        value_list(namer, f.params()),
        f.sig.required
    );
    if f.sig.rest {
        s.push_str(" rest");
    }
    if f.sig.closure {
        s.push_str(" closure");
    }
    s
}

fn write_function(out: &mut String, names: &ModuleNames, fid: Option<FuncId>, f: &Function) {
    if f.layout.is_empty() {
        let _ = writeln!(out, "; function {} has no blocks", f.name);
        return;
    }
    let dangling = f.layout.iter().any(|b| {
        f.blocks
            .get(b.index())
            .is_none_or(|d| d.insts.iter().any(|i| i.index() >= f.insts.len()))
    });
    if dangling {
        let _ = writeln!(
            out,
            "; function {} refers to nonexistent blocks or instructions",
            f.name
        );
        return;
    }
    let namer = Namer::new(f);
    let cfg = Cfg::compute(f);
    let _ = writeln!(out, "{} {{", format_header(names, fid, f, &namer));
    for (pos, &b) in f.layout.iter().enumerate() {
        let mut label = namer.block(b);
        if pos > 0 && !f.block(b).params.is_empty() {
            let _ = write!(label, "({})", value_list(&namer, &f.block(b).params));
        }
        label.push(':');
        let preds = cfg.preds(b);
        if !preds.is_empty() {
            let width = 28usize.max(label.len() + 2);
            let pad = width - label.len();
            let list: Vec<String> = preds.iter().map(|&p| namer.block(p)).collect();
            let _ = write!(label, "{:pad$}; preds: {}", "", list.join(", "));
        }
        let _ = writeln!(out, "{label}");
        for &i in &f.block(b).insts {
            let _ = writeln!(out, "  {}", format_inst(names, f, &namer, i));
        }
    }
    out.push_str("}\n");
}

/// Print one function; references to other functions print as `@N`
/// unless `module` is given.
pub fn print_function(module: Option<&Module>, f: &Function) -> String {
    let names = module
        .map(ModuleNames::new)
        .unwrap_or_else(ModuleNames::empty);
    let fid = module.and_then(|m| {
        m.funcs
            .iter()
            .position(|g| std::ptr::eq(g, f))
            .map(FuncId::new)
    });
    let mut out = String::new();
    write_function(&mut out, &names, fid, f);
    out
}

/// Print a module: globals, constants, then functions, separated by blank
/// lines.
pub fn print_module(m: &Module) -> String {
    let names = ModuleNames::new(m);
    let mut out = String::new();
    let mut sections = 0;
    if !m.globals.is_empty() {
        for (i, _) in m.globals.iter().enumerate() {
            let _ = writeln!(out, "global {}", names.global(GlobalId::new(i)));
        }
        sections += 1;
    }
    if !m.consts.is_empty() {
        if sections > 0 {
            out.push('\n');
        }
        for (i, c) in m.consts.iter().enumerate() {
            let _ = writeln!(out, "const #{i} = {}", format_datum(c));
        }
        sections += 1;
    }
    if !m.inlined.is_empty() {
        if sections > 0 {
            out.push('\n');
        }
        for (i, e) in m.inlined.iter().enumerate() {
            let _ = writeln!(out, "inlined {} = {} at {}", Loc::inlined(i), e.loc, e.at);
        }
        sections += 1;
    }
    for (i, f) in m.funcs.iter().enumerate() {
        if sections > 0 {
            out.push('\n');
        }
        write_function(&mut out, &names, Some(FuncId::new(i)), f);
        sections += 1;
    }
    out
}

impl std::fmt::Display for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print_module(self))
    }
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print_function(None, self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::FunctionBuilder;
    use crate::ir::{Cond, Signature};
    use crate::ops::Checked;

    #[test]
    fn prints_fib_shape() {
        let mut m = Module::new();
        let mut f = Function::new("fib", Signature::fixed(1));
        let mut b = FunctionBuilder::new(&mut f);
        let n = b.param(0);
        b.set_name(n, "n");
        let two = b.fixnum(2);
        let lt = b.fx_cmp(Cond::Lt, Checked::No, n, two);
        let (t, e) = (b.create_named_block("then"), b.create_named_block("else"));
        b.br_if(lt, t, &[], e, &[]);
        b.switch_to_block(t);
        b.ret(n);
        b.switch_to_block(e);
        b.ret(two);
        m.add_function(f);
        let text = print_module(&m);
        assert_eq!(
            text,
            "function @fib(%n) arity 1 {
entry:
  %0 = fixnum 2
  %1 = fx.lt %n, %0
  br_if %1, then(), else()
then:                       ; preds: entry
  ret %n
else:                       ; preds: entry
  ret %0
}
"
        );
    }

    #[test]
    fn names_are_made_unique() {
        let mut f = Function::new("f", Signature::fixed(3));
        let ps = f.params().to_vec();
        f.set_value_name(ps[0], "x");
        f.set_value_name(ps[1], "x");
        f.set_value_name(ps[2], "9 lives");
        let b = f.create_block(Some("b1"));
        f.create_block(Some("entry"));
        let namer = Namer::new(&f);
        assert_eq!(namer.value(ps[0]), "%x");
        assert_eq!(namer.value(ps[1]), "%x.1");
        assert_eq!(namer.value(ps[2]), "%_9_lives");
        assert_eq!(namer.block(b), "b1.0");
        assert_eq!(namer.block(f.layout[2]), "entry.1");
    }

    #[test]
    fn datums_and_scalars() {
        let d = ConstData::List(
            vec![
                ConstData::Symbol("a".into()),
                ConstData::Symbol("hello world".into()),
                ConstData::Symbol("1+".into()),
                ConstData::Str("q\"\n".into()),
                ConstData::Vector(vec![ConstData::Char(' '), ConstData::Char('λ')]),
                ConstData::Bytevector(vec![1, 255]),
            ],
            Some(Box::new(ConstData::Float(2.5))),
        );
        assert_eq!(
            format_datum(&d),
            r#"(a |hello world| |1+| "q\"\n" #(#\space #\x3bb) #u8(1 255) . 2.5)"#
        );
        assert_eq!(format_flonum(f64::NAN), "+nan.0");
        assert_eq!(format_flonum(1e300), "1e300");
        assert_eq!(format_flonum(-0.0), "-0.0");
        assert_eq!(symbol_name('@', "list->vector"), "@list->vector");
        assert_eq!(symbol_name('$', "a b"), "$\"a b\"");
        assert_eq!(format_datum(&ConstData::Symbol("+".into())), "+");
        assert_eq!(format_datum(&ConstData::Symbol("...".into())), "|...|");
    }
}
