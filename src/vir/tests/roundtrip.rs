//! Text round trips: `print(parse(text)) == text` for printed text and
//! `parse(print(m))` structurally equal to `m`.

use std::fs;
use std::path::Path;
use valk_vir::equiv::module_equiv;
use valk_vir::{
    AllocPlace, Checked,
    parse_module, print_module, verify_module, Cond, ConstData, FunctionBuilder, FxMode, FxOp, Loc,
    Module, ObjKind, Signature, Ty,
};

fn check_round_trip(m: &Module) {
    let text = print_module(m);
    let back = parse_module(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    module_equiv(m, &back).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(print_module(&back), text);
}

#[test]
fn golden_inputs_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut n = 0;
    for e in fs::read_dir(dir).unwrap() {
        let text = fs::read_to_string(e.unwrap().path()).unwrap();
        for part in text.split("; expect:\n") {
            check_round_trip(&parse_module(part).unwrap());
            n += 1;
        }
    }
    assert!(n >= 20);
}

/// A module built with the builder, with awkward names, every kind of
/// constant and a forward reference between functions.
#[test]
fn built_module_round_trips() {
    let mut m = Module::new();
    let g = m.global("list->vector!");
    let g2 = m.global("has space");
    let c = m.add_const(ConstData::List(
        vec![
            ConstData::Symbol("quote".into()),
            ConstData::Str("tab\there \u{1}".into()),
            ConstData::Char('\n'),
            ConstData::Float(f64::NEG_INFINITY),
            ConstData::Bytevector(vec![]),
            ConstData::Vector(vec![]),
            ConstData::List(vec![], None),
        ],
        Some(Box::new(ConstData::Symbol("".into()))),
    ));
    let later = m.declare_function("later one", Signature::closure(1, true));
    let mut f = valk_vir::Function::new("main", Signature::fixed(2));
    {
        let mut b = FunctionBuilder::new(&mut f);
        let (x, y) = (b.param(0), b.param(1));
        b.set_name(x, "x");
        b.set_name(y, "x");
        b.set_loc(Loc(0));
        let k = b.constant(c);
        let s = b.fx(FxOp::Mod, FxMode::Chk, x, y);
        b.set_name(s, "42");
        let t = b.type_check(Ty::Pair, k, "car");
        let a = b.car(t);
        let v = b.alloc(ObjKind::Record, AllocPlace::Heap, &[a, s]);
        b.global_set(g, Checked::Yes, v);
        let clo = b.closure(later, &[v]);
        let r = b.call_closure(clo, &[x, y, a]);
        b.set_loc(Loc::NONE);
        let loop_ = b.create_named_block("loop");
        let p = b.append_block_param(loop_);
        b.set_name(p, "p");
        let exit = b.create_block();
        b.br(loop_, &[r]);
        b.switch_to_block(loop_);
        let z = b.fixnum(0);
        let cnd = b.fx_cmp(Cond::Le, Checked::Yes, p, z);
        b.br_if(cnd, exit, &[], loop_, &[z]);
        b.switch_to_block(exit);
        let gv = b.global_get(g2, Checked::No);
        b.ret(gv);
    }
    m.add_function(f);
    let mut body = valk_vir::Function::new("later one", Signature::closure(1, true));
    {
        let mut b = FunctionBuilder::new(&mut body);
        let me = b.param(0);
        let e = b.env_get(me, 0);
        b.tail_call_closure(me, &[e]);
    }
    m.define_function(later, body);
    verify_module(&m).unwrap();
    check_round_trip(&m);
}

/// Awkward scalar immediates survive the text format.
#[test]
fn scalars_round_trip() {
    let chars = [
        '(', ')', ';', 'x', '#', '\\', '"', '\0', '\u{7f}', 'λ', ' ', '\n', 'a',
    ];
    let floats = [
        0.0,
        -0.0,
        1e-7,
        1e300,
        f64::MIN_POSITIVE,
        f64::NAN,
        f64::INFINITY,
        2.5,
    ];
    let mut m = Module::new();
    let list = m.builtin("list");
    let mut f = valk_vir::Function::new("f", Signature::fixed(0));
    {
        let mut b = FunctionBuilder::new(&mut f);
        let mut vs = Vec::new();
        for c in chars {
            vs.push(b.char(c));
        }
        for x in floats {
            vs.push(b.flonum(x));
        }
        vs.push(b.fixnum(valk_vir::ir::FIXNUM_MIN));
        let l = b.call_runtime(list, &vs);
        b.ret(l);
    }
    m.add_function(f);
    for c in chars {
        m.add_const(ConstData::List(vec![ConstData::Char(c)], None));
        m.add_const(ConstData::Symbol(c.to_string()));
        m.add_const(ConstData::Str(c.to_string()));
    }
    for x in floats {
        m.add_const(ConstData::Float(x));
    }
    for s in [
        "", ".", "+", "-", "...", "+5", "-x", "1+", "a.b", "|", "#t", "@x",
    ] {
        m.add_const(ConstData::Symbol(s.to_string()));
    }
    verify_module(&m).unwrap();
    check_round_trip(&m);
}
