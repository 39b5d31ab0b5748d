//! Property test: random valid CFGs built with the builder stay valid
//! through the -O1 pipeline plus `type_check_elim` and through -O2
//! (which inlines @h and @k into @f), validated after every pass, evaluate to the
//! same result before and after, and round-trip through the text format.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use valk_vir::equiv::module_equiv;
use valk_vir::eval::run_to_string;
use valk_vir::ir::{FIXNUM_MAX, FIXNUM_MIN};
use valk_vir::passes::{optimize_with, pipeline, OptLevel, PassKind};

/// The -O1 passes with type inference (`type_check_elim`) after folding.
fn passes() -> Vec<PassKind> {
    let mut p = pipeline(OptLevel::O1);
    p.insert(2, PassKind::TypeCheckElim);
    p
}
use valk_vir::{
    parse_module, print_module, verify_module, Block, BuiltinId, Checked, Cond, FuncId, Function,
    FunctionBuilder, FxMode, FxOp, Module, Signature, Ty, Value,
};

/// What is known about a value, so unchecked operations only get
/// operands they allow.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Certainly a fixnum.
    Fix,
    /// A number or anything else (only for checked operations).
    Any,
    Bool,
    Boxed,
}

/// Deterministic decoder of the random choices.
struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl Choices<'_> {
    fn next(&mut self, n: u32) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v % n.max(1)
    }
    fn pick(&mut self, vals: &[(Value, Kind)], want: &[Kind]) -> Option<Value> {
        let ok: Vec<Value> = vals
            .iter()
            .filter(|(_, k)| want.is_empty() || want.contains(k))
            .map(|(v, _)| *v)
            .collect();
        if ok.is_empty() {
            None
        } else {
            Some(ok[self.next(ok.len() as u32) as usize])
        }
    }
}

const INTERESTING: [i64; 8] = [0, 1, -1, 2, 7, FIXNUM_MAX, FIXNUM_MIN, 1 << 40];

fn build(nblocks: usize, data: &[u32]) -> Module {
    let mut m = Module::new();
    let g = m.global("g");
    let list = m.builtin("list");
    // @f(x, y) is the function under test; @h(a) = a + 1 (overflow-checked).
    let fid = m.declare_function("f", Signature::fixed(2));
    let hid = {
        let mut h = Function::new("h", Signature::fixed(1));
        let mut b = FunctionBuilder::new(&mut h);
        let a = b.param(0);
        let one = b.fixnum(1);
        let r = b.fx(FxOp::Add, FxMode::Ovf, a, one);
        b.ret(r);
        m.add_function(h)
    };
    // @k(a) = a < 0 ? h(a) (a tail call) : h(a) - a: inlining turns the
    // tail call into a call at non-tail sites.
    let kid = {
        let mut k = Function::new("k", Signature::fixed(1));
        let mut b = FunctionBuilder::new(&mut k);
        let a = b.param(0);
        let zero = b.fixnum(0);
        let neg = b.fx_cmp(Cond::Lt, Checked::No, a, zero);
        let (t, e) = (b.create_block(), b.create_block());
        b.br_if(neg, t, &[], e, &[]);
        b.switch_to_block(t);
        b.tail_call(hid, &[a]);
        b.switch_to_block(e);
        let r = b.call(hid, &[a]);
        let d = b.fx(FxOp::Sub, FxMode::Chk, r, a);
        b.ret(d);
        m.add_function(k)
    };
    let mut c = Choices { data, pos: 0 };
    let mut f = Function::new("f", Signature::fixed(2));
    {
        let mut b = FunctionBuilder::new(&mut f);
        let blocks: Vec<Block> = (0..nblocks).map(|_| b.create_block()).collect();
        let mut params: Vec<Vec<Value>> = Vec::new();
        for &blk in &blocks {
            let n = c.next(3);
            params.push((0..n).map(|_| b.append_block_param(blk)).collect());
        }
        let mut entry_vals: Vec<(Value, Kind)> =
            b.params().into_iter().map(|v| (v, Kind::Fix)).collect();
        // A few constants up front give constant folding something to do.
        for _ in 0..3 {
            let k = b.fixnum(INTERESTING[c.next(8) as usize]);
            entry_vals.push((k, Kind::Fix));
        }
        let all = std::iter::once(b.func().entry())
            .chain(blocks.iter().copied())
            .collect::<Vec<_>>();
        for (bi, &blk) in all.iter().enumerate() {
            b.switch_to_block(blk);
            let mut vals = entry_vals.clone();
            if bi > 0 {
                vals.extend(params[bi - 1].iter().map(|&p| (p, Kind::Fix)));
            }
            for _ in 0..c.next(7) {
                let before = vals.len();
                emit(&mut b, &mut c, &mut vals, g, [hid, kid]);
                if bi == 0 {
                    entry_vals.extend_from_slice(&vals[before..]);
                }
            }
            terminate(&mut b, &mut c, &vals, &blocks, &params, [hid, kid], list);
        }
    }
    m.define_function(fid, f);
    m
}

fn fx_op(c: &mut Choices, with_division: bool) -> FxOp {
    let ops = if with_division {
        &FxOp::ALL[..]
    } else {
        &FxOp::ALL[..3]
    };
    ops[c.next(ops.len() as u32) as usize]
}

fn emit(
    b: &mut FunctionBuilder,
    c: &mut Choices,
    vals: &mut Vec<(Value, Kind)>,
    g: valk_vir::GlobalId,
    hk: [FuncId; 2],
) {
    use Kind::*;
    let any = [Fix, Any, Bool, Boxed];
    let (v, k) = match c.next(14) {
        0 => (b.fixnum(INTERESTING[c.next(8) as usize]), Fix),
        1 => {
            let (x, y) = (c.pick(vals, &[Fix]).unwrap(), c.pick(vals, &[Fix]).unwrap());
            let op = fx_op(c, false);
            (b.fx(op, FxMode::Plain, x, y), Fix)
        }
        2 => {
            let (x, y) = (c.pick(vals, &[Fix]).unwrap(), c.pick(vals, &[Fix]).unwrap());
            let op = fx_op(c, false);
            (b.fx(op, FxMode::Ovf, x, y), Any)
        }
        3 => {
            let (x, y) = (c.pick(vals, &any).unwrap(), c.pick(vals, &any).unwrap());
            let op = fx_op(c, true);
            (b.fx(op, FxMode::Chk, x, y), Any)
        }
        4 => {
            let (x, y) = (c.pick(vals, &[Fix]).unwrap(), c.pick(vals, &[Fix]).unwrap());
            (
                b.fx_cmp(Cond::ALL[c.next(6) as usize], Checked::No, x, y),
                Bool,
            )
        }
        5 => {
            let (x, y) = (c.pick(vals, &any).unwrap(), c.pick(vals, &any).unwrap());
            (
                b.fx_cmp(Cond::ALL[c.next(6) as usize], Checked::Yes, x, y),
                Bool,
            )
        }
        6 => {
            let i = c.next(vals.len() as u32) as usize;
            let (x, k) = vals[i];
            (b.copy(x), k)
        }
        7 => {
            let x = c.pick(vals, &any).unwrap();
            if c.next(2) == 0 {
                (b.not(x), Bool)
            } else {
                let y = c.pick(vals, &any).unwrap();
                (b.eq(x, y), Bool)
            }
        }
        8 => {
            let x = c.pick(vals, &any).unwrap();
            (b.type_is(Ty::Fixnum, x), Bool)
        }
        9 => {
            let x = c.pick(vals, &any).unwrap();
            b.global_set(g, Checked::No, x);
            (b.global_get(g, Checked::Yes), Any)
        }
        10 => {
            let x = c.pick(vals, &[Fix]).unwrap();
            (b.call(hk[c.next(2) as usize], &[x]), Any)
        }
        11 => {
            let x = c.pick(vals, &any).unwrap();
            if let Some(bx) = c.pick(vals, &[Boxed]) {
                b.set_box(bx, x);
                (b.unbox(bx), Any)
            } else {
                (b.make_box(x), Boxed)
            }
        }
        12 => {
            let (x, y) = (c.pick(vals, &[Fix]).unwrap(), c.pick(vals, &[Fix]).unwrap());
            (
                b.fx(FxOp::ALL[3 + c.next(3) as usize], FxMode::Plain, x, y),
                Fix,
            )
        }
        _ => {
            let x = c.pick(vals, &any).unwrap();
            (b.type_check(Ty::Fixnum, x, "test"), Fix)
        }
    };
    vals.push((v, k));
}

fn terminate(
    b: &mut FunctionBuilder,
    c: &mut Choices,
    vals: &[(Value, Kind)],
    blocks: &[Block],
    params: &[Vec<Value>],
    hk: [FuncId; 2],
    list: BuiltinId,
) {
    let any = [Kind::Fix, Kind::Any, Kind::Bool, Kind::Boxed];
    let choice = if blocks.is_empty() { 0 } else { c.next(10) };
    let target = |c: &mut Choices| -> (Block, Vec<Value>) {
        let t = c.next(blocks.len() as u32) as usize;
        let args = params[t]
            .iter()
            .map(|_| c.pick(vals, &[Kind::Fix]).unwrap())
            .collect();
        (blocks[t], args)
    };
    match choice {
        0 | 1 => {
            // Return several values so more of the computation is observed.
            let n = 1 + c.next(4);
            let vs: Vec<Value> = (0..n).map(|_| c.pick(vals, &any).unwrap()).collect();
            let l = b.call_runtime(list, &vs);
            b.ret(l)
        }
        2 | 3 => {
            let (t, a) = target(c);
            b.br(t, &a)
        }
        4..=6 => {
            // Prefer booleans: most other values are always true.
            let cond = match c.pick(vals, &[Kind::Bool]) {
                Some(v) if c.next(4) > 0 => v,
                _ => c.pick(vals, &any).unwrap(),
            };
            let (t1, a1) = target(c);
            let (t2, a2) = target(c);
            b.br_if(cond, t1, &a1, t2, &a2)
        }
        7 | 8 => {
            let v = c.pick(vals, &[Kind::Fix]).unwrap();
            let mut cases = Vec::new();
            for k in 0..c.next(4) {
                let (t, a) = target(c);
                cases.push((k as i64 - 1, t, a));
            }
            let (d, da) = target(c);
            b.switch(v, &cases, d, &da)
        }
        _ => {
            let v = c.pick(vals, &[Kind::Fix]).unwrap();
            b.tail_call(hk[c.next(2) as usize], &[v])
        }
    }
}

/// `m` stays valid through `passes` (validated after every pass), means
/// the same, reaches a fixpoint, and its text round-trips.
fn check_level(m: &Module, x: i64, y: i64, passes: &[PassKind]) -> Result<(), TestCaseError> {
    if let Err(e) = verify_module(m) {
        panic!("generator built invalid IR: {e}\n{}", print_module(m));
    }
    // Text round trip of the random module.
    let text = print_module(m);
    let back = parse_module(&text).unwrap();
    prop_assert_eq!(module_equiv(m, &back), Ok(()));
    prop_assert_eq!(print_module(&back), text.clone());

    let fuel = 3000;
    let (before, out_of_fuel) = run_to_string(m, FuncId(0), &[x, y], fuel);
    let mut opt = m.clone();
    if let Err(e) = optimize_with(&mut opt, passes, true) {
        panic!("{e}\ninput:\n{text}");
    }
    verify_module(&opt).unwrap();
    // The optimised function never executes more instructions.
    let (after, _) = run_to_string(&opt, FuncId(0), &[x, y], fuel);
    if !out_of_fuel {
        prop_assert_eq!(
            &before,
            &after,
            "input:\n{}\noutput:\n{}",
            text,
            print_module(&opt)
        );
    }
    // The pipeline reached a fixpoint: running it again changes nothing.
    let once = print_module(&opt);
    optimize_with(&mut opt, passes, true).unwrap();
    prop_assert_eq!(print_module(&opt), once);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn o1_preserves_validity_and_meaning(
        nblocks in 0usize..7,
        data in prop::collection::vec(any::<u32>(), 40..400),
        x in prop::sample::select(INTERESTING.to_vec()),
        y in -3i64..4,
    ) {
        check_level(&build(nblocks, &data), x, y, &passes())?;
    }

    /// -O2 includes the module pass `inline`.
    #[test]
    fn o2_preserves_validity_and_meaning(
        nblocks in 0usize..7,
        data in prop::collection::vec(any::<u32>(), 40..400),
        x in prop::sample::select(INTERESTING.to_vec()),
        y in -3i64..4,
    ) {
        let m = build(nblocks, &data);
        check_level(&m, x, y, &pipeline(OptLevel::O2))?;
        // @h and @k are small and not recursive: no direct call is left.
        let mut opt = m.clone();
        optimize_with(&mut opt, &pipeline(OptLevel::O2), true).unwrap();
        let f = valk_vir::print_function(Some(&opt), &opt.funcs[0]);
        prop_assert!(!f.contains("call @"), "{}", f);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Damaged text never panics the parser; whatever parses can be
    /// validated and printed without panicking either.
    #[test]
    fn parser_survives_damaged_text(
        data in prop::collection::vec(any::<u32>(), 40..200),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, prop::sample::select(
            vec!["", "%", "@", "$", "(", ")", ",", ":", "\n", "\"", "#", "!", "br", "%0", "b1", "function", "9"]
        )), 1..4),
    ) {
        let m = build(3, &data);
        let mut chars: Vec<char> = print_module(&m).chars().collect();
        for (at, del, ins) in edits {
            let i = at.index(chars.len() + 1);
            let end = (i + del).min(chars.len());
            chars.splice(i..end, ins.chars());
        }
        let text: String = chars.into_iter().collect();
        if let Ok(parsed) = parse_module(&text) {
            let _ = verify_module(&parsed);
            let _ = print_module(&parsed);
        }
    }
}
