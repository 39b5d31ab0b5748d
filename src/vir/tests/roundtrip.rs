//! Text round trips: `print(parse(text)) == text` for printed text and
//! `parse(print(m))` structurally equal to `m`.

use std::fs;
use std::path::Path;
use valk_vir::equiv::module_equiv;
use valk_vir::ops::{parse_mnemonic, Imm, ImmKind};
use valk_vir::{
    parse_module, print_module, verify_function, verify_module, AllocPlace, ArgCount, Block,
    BlockCall, BuiltinId, Checked, Cond, ConstData, ConstId, FfiTy, FlOp, Foreign, FuncId,
    Function, FunctionBuilder, FxMode, FxOp, GlobalId, Loc, Module, ObjKind, Op, Signature, Ty,
    OPS,
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

/// One instance of every opcode in the table, with sample immediates.
fn sample_ops() -> Vec<Op> {
    OPS.iter()
        .map(|info| {
            let imm = match info.imm {
                ImmKind::None => Imm::None,
                ImmKind::I64 => Imm::I64(-7),
                ImmKind::F64 => Imm::F64(2.5f64.to_bits()),
                ImmKind::Char => Imm::Char('λ'),
                ImmKind::Bool => Imm::Bool(true),
                ImmKind::Const => Imm::Const(ConstId(0)),
                ImmKind::Ty => Imm::Ty(Ty::Pair),
                ImmKind::TyWho => Imm::TyWho(Ty::Vector, "vector-ref".into()),
                ImmKind::Fx => Imm::Fx(FxOp::Mod, FxMode::Ovf),
                ImmKind::Fl => Imm::Fl(FlOp::Div, Checked::Yes),
                ImmKind::Cmp => Imm::Cmp(Cond::Ge, Checked::Yes),
                ImmKind::Alloc => Imm::Alloc(ObjKind::Vector, AllocPlace::Stack),
                ImmKind::Field => Imm::Field(2),
                ImmKind::Global => Imm::Global(GlobalId(0), Checked::Yes),
                ImmKind::Func => Imm::Func(FuncId(0)),
                ImmKind::Builtin => Imm::Builtin(BuiltinId(0)),
                ImmKind::Cases => Imm::Cases(vec![1, -2]),
                ImmKind::Foreign => Imm::Foreign(Box::new(Foreign {
                    lib: Some("libm.so.6".into()),
                    sym: "cos".into(),
                    args: vec![FfiTy::Double],
                    ret: FfiTy::Double,
                })),
            };
            Op::from_imm(info.code, imm).unwrap_or_else(|| panic!("{}", info.name))
        })
        .collect()
}

/// A module whose function `@f(%x)` runs `op` with `nargs` copies of `%x`
/// and branches to empty blocks as `op` needs.
fn module_with(op: &Op, nargs: usize) -> Module {
    let mut m = Module::new();
    m.global("g");
    m.add_const(ConstData::Str("s".into()));
    m.builtin("display");
    let mut f = Function::new("f", Signature::fixed(1));
    let x = f.params()[0];
    let entry = f.entry();
    let blocks: Vec<Block> = (0..op.target_count())
        .map(|_| f.create_block(None))
        .collect();
    for &b in &blocks {
        f.append_inst(b, Op::Unreachable, vec![], vec![], Loc::NONE);
    }
    let targets = blocks.iter().map(|&b| BlockCall::new(b, &[])).collect();
    f.append_inst(entry, op.clone(), vec![x; nargs], targets, Loc(3));
    if !op.is_terminator() {
        f.append_inst(entry, Op::Unreachable, vec![], vec![], Loc::NONE);
    }
    m.add_function(f);
    m
}

fn fewest_args(op: &Op) -> usize {
    match op.arg_count() {
        ArgCount::Exact(n) => n,
        ArgCount::AtLeast(n) => n + 1,
    }
}

/// Every opcode of the table: its mnemonic parses back to it, and an
/// instruction prints, parses and prints again unchanged.
#[test]
fn every_table_opcode_round_trips() {
    let ops = sample_ops();
    assert_eq!(ops.len(), OPS.len());
    for op in &ops {
        let mnemonic = op.mnemonic();
        let (code, _) = parse_mnemonic(&mnemonic).unwrap_or_else(|e| panic!("{mnemonic}: {e:?}"));
        assert_eq!(code, op.code(), "{mnemonic}");
        let m = module_with(op, fewest_args(op));
        let text = print_module(&m);
        assert!(text.contains(&mnemonic), "{text}");
        let back = parse_module(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(print_module(&back), text);
        let f = &back.funcs[0];
        let first = f.block(f.entry()).insts[0];
        assert_eq!(&f.inst(first).op, op, "{text}");
        module_equiv(&m, &back).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}

/// The validator rejects exactly the operand counts the table's
/// `ArgCount` does not accept.
#[test]
fn table_operand_counts_match_the_validator() {
    for op in sample_ops() {
        for n in 0..5 {
            let m = module_with(&op, n);
            let errs = match verify_function(Some(&m), &m.funcs[0]) {
                Ok(()) => String::new(),
                Err(e) => e.to_string(),
            };
            let complains = errs.contains(&format!("`{}` takes ", op.mnemonic()));
            assert_eq!(
                complains,
                !op.arg_count().accepts(n),
                "{} with {n} operands: {errs}",
                op.mnemonic()
            );
        }
    }
}

/// `ffi_call`: the library may be `#f`; every C type prints and parses
/// back; the validator wants exactly the C arguments and no `void` one.
#[test]
fn ffi_call_text_and_rules() {
    let text = "function @f(%a, %b) arity 2 {
entry:
  %0 = ffi_call #f \"qsort\" (pointer uint64 uint64 pointer) -> void(%a, %b, %b, %a)
  %1 = ffi_call \"libz.so.1\" \"x\" (int8 int16 int uint32 int64 float bool string bytevector uint8 uint16) -> string(%a, %a, %a, %a, %a, %a, %a, %a, %a, %a, %a)
  ret %1
}
";
    let m = parse_module(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(print_module(&m), text);
    verify_module(&m).unwrap();
    let f = &m.funcs[0];
    let first = f.block(f.entry()).insts[0];
    match &f.inst(first).op {
        Op::FfiCall(ff) => {
            assert_eq!(ff.lib, None);
            assert_eq!(ff.sym, "qsort");
            assert_eq!(ff.args.len(), 4);
            assert_eq!(ff.ret, FfiTy::Void);
        }
        op => panic!("{op:?}"),
    }
    let bad = text.replace("(%a, %b, %b, %a)", "(%a)");
    let errs = verify_module(&parse_module(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        errs.contains("ffi_call of qsort takes 4 arguments, found 1"),
        "{errs}"
    );
    let bad = text.replace("(pointer uint64", "(void uint64");
    let errs = verify_module(&parse_module(&bad).unwrap())
        .unwrap_err()
        .to_string();
    assert!(errs.contains("void is not a C argument type"), "{errs}");
    let bad = text.replace("-> void", "-> frob");
    assert!(parse_module(&bad)
        .unwrap_err()
        .to_string()
        .contains("unknown C type `frob`"));
    let bad = text.replace("#f \"qsort\"", "#t \"qsort\"");
    assert!(parse_module(&bad)
        .unwrap_err()
        .to_string()
        .contains("expected a library name or `#f`"));
}
