//! The IR builder: create blocks, choose the current block, append
//! instructions and get their result values.
//!
//! ```
//! use valk_vir::{Checked, Cond, Function, FunctionBuilder, Signature};
//! let mut f = Function::new("fib", Signature::fixed(1));
//! let mut b = FunctionBuilder::new(&mut f);
//! let n = b.param(0);
//! let two = b.fixnum(2);
//! let small = b.fx_cmp(Cond::Lt, Checked::No, n, two);
//! let (then, els) = (b.create_named_block("then"), b.create_named_block("else"));
//! b.br_if(small, then, &[], els, &[]);
//! b.switch_to_block(then);
//! b.ret(n);
//! b.switch_to_block(els);
//! b.ret(two);
//! ```
//!
//! The builder does not stop you from building invalid IR (instructions
//! after a terminator, wrong argument counts): the validator reports it.

use crate::entity::{Block, BuiltinId, ConstId, FuncId, GlobalId, Inst, Loc, Value};
use crate::ir::{BlockCall, Cond, FlOp, Function, FxMode, FxOp, ObjKind, Ty};
use crate::ops::{AllocPlace, Checked, Op};

pub struct FunctionBuilder<'f> {
    func: &'f mut Function,
    current: Block,
    loc: Loc,
}

impl<'f> FunctionBuilder<'f> {
    /// A builder positioned at the end of the entry block.
    pub fn new(func: &'f mut Function) -> FunctionBuilder<'f> {
        let current = func.entry();
        FunctionBuilder {
            func,
            current,
            loc: Loc::NONE,
        }
    }

    pub fn func(&self) -> &Function {
        self.func
    }

    pub fn func_mut(&mut self) -> &mut Function {
        self.func
    }

    /// Parameter `i` of the function (the closure is parameter 0 of a
    /// closure body).
    pub fn param(&self, i: usize) -> Value {
        self.func.params()[i]
    }

    pub fn params(&self) -> Vec<Value> {
        self.func.params().to_vec()
    }

    pub fn create_block(&mut self) -> Block {
        self.func.create_block(None)
    }

    pub fn create_named_block(&mut self, name: &str) -> Block {
        self.func.create_block(Some(name))
    }

    pub fn append_block_param(&mut self, b: Block) -> Value {
        self.func.append_block_param(b)
    }

    pub fn block_params(&self, b: Block) -> Vec<Value> {
        self.func.block(b).params.clone()
    }

    pub fn switch_to_block(&mut self, b: Block) {
        self.current = b;
    }

    pub fn current_block(&self) -> Block {
        self.current
    }

    /// Does the current block already end in a terminator?
    pub fn is_terminated(&self) -> bool {
        self.func.terminator(self.current).is_some()
    }

    /// The source location attached to the following instructions.
    pub fn set_loc(&mut self, loc: Loc) {
        self.loc = loc;
    }

    pub fn set_name(&mut self, v: Value, name: &str) {
        self.func.set_value_name(v, name);
    }

    /// Append any instruction; returns it.
    pub fn ins(&mut self, op: Op, args: &[Value], targets: Vec<BlockCall>) -> Inst {
        self.func
            .append_inst(self.current, op, args.to_vec(), targets, self.loc)
    }

    /// Append an instruction whose opcode has a result; return the result.
    fn value(&mut self, op: Op, args: &[Value]) -> Value {
        let i = self.ins(op, args, Vec::new());
        self.func.inst(i).result.expect("opcode with a result")
    }

    fn effect(&mut self, op: Op, args: &[Value]) {
        self.ins(op, args, Vec::new());
    }

    // ---- constants ----
    pub fn fixnum(&mut self, n: i64) -> Value {
        self.value(Op::Fixnum(n), &[])
    }
    pub fn flonum(&mut self, x: f64) -> Value {
        self.value(Op::flonum(x), &[])
    }
    pub fn char(&mut self, c: char) -> Value {
        self.value(Op::Char(c), &[])
    }
    pub fn bool(&mut self, b: bool) -> Value {
        self.value(Op::Bool(b), &[])
    }
    pub fn nil(&mut self) -> Value {
        self.value(Op::Nil, &[])
    }
    pub fn unspecified(&mut self) -> Value {
        self.value(Op::Unspecified, &[])
    }
    pub fn undefined(&mut self) -> Value {
        self.value(Op::Undefined, &[])
    }
    pub fn constant(&mut self, c: ConstId) -> Value {
        self.value(Op::Const(c), &[])
    }
    pub fn copy(&mut self, v: Value) -> Value {
        self.value(Op::Copy, &[v])
    }

    // ---- types ----
    pub fn type_tag(&mut self, v: Value) -> Value {
        self.value(Op::TypeTag, &[v])
    }
    pub fn type_is(&mut self, ty: Ty, v: Value) -> Value {
        self.value(Op::TypeIs(ty), &[v])
    }
    /// Checked cast; `who` names the operation in the wrong-type error.
    pub fn type_check(&mut self, ty: Ty, v: Value, who: &str) -> Value {
        self.value(Op::TypeCheck(ty, who.to_string()), &[v])
    }
    pub fn cast(&mut self, ty: Ty, v: Value) -> Value {
        self.value(Op::Cast(ty), &[v])
    }

    // ---- arithmetic ----
    pub fn fx(&mut self, op: FxOp, mode: FxMode, a: Value, b: Value) -> Value {
        self.value(Op::Fx(op, mode), &[a, b])
    }
    pub fn fx_to_fl(&mut self, v: Value) -> Value {
        self.value(Op::FxToFl, &[v])
    }
    pub fn fl(&mut self, op: FlOp, checked: Checked, a: Value, b: Value) -> Value {
        self.value(Op::Fl(op, checked), &[a, b])
    }
    pub fn fx_cmp(&mut self, c: Cond, checked: Checked, a: Value, b: Value) -> Value {
        self.value(Op::FxCmp(c, checked), &[a, b])
    }
    pub fn fl_cmp(&mut self, c: Cond, checked: Checked, a: Value, b: Value) -> Value {
        self.value(Op::FlCmp(c, checked), &[a, b])
    }
    pub fn eq(&mut self, a: Value, b: Value) -> Value {
        self.value(Op::Eq, &[a, b])
    }
    pub fn not(&mut self, v: Value) -> Value {
        self.value(Op::Not, &[v])
    }

    // ---- memory ----
    pub fn alloc(&mut self, kind: ObjKind, place: AllocPlace, fields: &[Value]) -> Value {
        self.value(Op::Alloc(kind, place), fields)
    }
    pub fn load(&mut self, obj: Value, field: u32) -> Value {
        self.value(Op::Load(field), &[obj])
    }
    pub fn store(&mut self, obj: Value, field: u32, v: Value) {
        self.effect(Op::Store(field), &[obj, v])
    }
    pub fn cons(&mut self, a: Value, d: Value) -> Value {
        self.value(Op::Cons, &[a, d])
    }
    pub fn car(&mut self, p: Value) -> Value {
        self.value(Op::Car, &[p])
    }
    pub fn cdr(&mut self, p: Value) -> Value {
        self.value(Op::Cdr, &[p])
    }
    pub fn vector_ref(&mut self, v: Value, i: Value) -> Value {
        self.value(Op::VectorRef, &[v, i])
    }
    pub fn vector_set(&mut self, v: Value, i: Value, x: Value) {
        self.effect(Op::VectorSet, &[v, i, x])
    }
    pub fn vector_length(&mut self, v: Value) -> Value {
        self.value(Op::VectorLength, &[v])
    }
    pub fn string_ref(&mut self, s: Value, i: Value) -> Value {
        self.value(Op::StringRef, &[s, i])
    }
    pub fn string_set(&mut self, s: Value, i: Value, c: Value) {
        self.effect(Op::StringSet, &[s, i, c])
    }
    pub fn string_length(&mut self, s: Value) -> Value {
        self.value(Op::StringLength, &[s])
    }
    pub fn make_box(&mut self, v: Value) -> Value {
        self.value(Op::MakeBox, &[v])
    }
    pub fn unbox(&mut self, b: Value) -> Value {
        self.value(Op::Unbox, &[b])
    }
    pub fn set_box(&mut self, b: Value, v: Value) {
        self.effect(Op::SetBox, &[b, v])
    }

    // ---- globals ----
    pub fn global_get(&mut self, g: GlobalId, checked: Checked) -> Value {
        self.value(Op::GlobalGet(g, checked), &[])
    }
    pub fn global_set(&mut self, g: GlobalId, checked: Checked, v: Value) {
        self.effect(Op::GlobalSet(g, checked), &[v])
    }
    /// `v`, or the used-before-definition error naming symbol `name`.
    pub fn check_init(&mut self, v: Value, name: Value) -> Value {
        self.value(Op::CheckInit, &[v, name])
    }
    /// Raises the arity error; never returns.
    pub fn arity_error(&mut self, who: Value, expected: Value, got: Value) -> Value {
        self.value(Op::ArityError, &[who, expected, got])
    }

    // ---- calls ----
    pub fn call(&mut self, f: FuncId, args: &[Value]) -> Value {
        self.value(Op::Call(f), args)
    }
    pub fn call_closure(&mut self, callee: Value, args: &[Value]) -> Value {
        let mut all = vec![callee];
        all.extend_from_slice(args);
        self.value(Op::CallClosure, &all)
    }
    pub fn call_runtime(&mut self, builtin: BuiltinId, args: &[Value]) -> Value {
        self.value(Op::CallRuntime(builtin), args)
    }
    pub fn closure(&mut self, f: FuncId, captures: &[Value]) -> Value {
        self.value(Op::Closure(f), captures)
    }
    pub fn env_get(&mut self, closure: Value, index: u32) -> Value {
        self.value(Op::EnvGet(index), &[closure])
    }
    pub fn cont_new(&mut self, f: FuncId, captures: &[Value]) -> Value {
        self.value(Op::ContNew(f), captures)
    }

    // ---- terminators ----
    pub fn br(&mut self, target: Block, args: &[Value]) {
        self.ins(Op::Br, &[], vec![BlockCall::new(target, args)]);
    }
    pub fn br_if(
        &mut self,
        cond: Value,
        then: Block,
        then_args: &[Value],
        els: Block,
        else_args: &[Value],
    ) {
        self.ins(
            Op::BrIf,
            &[cond],
            vec![
                BlockCall::new(then, then_args),
                BlockCall::new(els, else_args),
            ],
        );
    }
    /// `cases` are `(value, target, args)`.
    pub fn switch(
        &mut self,
        v: Value,
        cases: &[(i64, Block, Vec<Value>)],
        default: Block,
        default_args: &[Value],
    ) {
        let mut targets = vec![BlockCall::new(default, default_args)];
        targets.extend(cases.iter().map(|(_, b, a)| BlockCall::new(*b, a)));
        let keys = cases.iter().map(|c| c.0).collect();
        self.ins(Op::Switch(keys), &[v], targets);
    }
    pub fn ret(&mut self, v: Value) {
        self.effect(Op::Ret, &[v])
    }
    pub fn tail_call(&mut self, f: FuncId, args: &[Value]) {
        self.effect(Op::TailCall(f), args)
    }
    pub fn tail_call_closure(&mut self, callee: Value, args: &[Value]) {
        let mut all = vec![callee];
        all.extend_from_slice(args);
        self.effect(Op::TailCallClosure, &all)
    }
    pub fn cont_call(&mut self, k: Value, args: &[Value]) {
        let mut all = vec![k];
        all.extend_from_slice(args);
        self.effect(Op::ContCall, &all)
    }
    pub fn unreachable(&mut self) {
        self.effect(Op::Unreachable, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Signature;

    #[test]
    fn builds_blocks_and_values() {
        let mut f = Function::new("f", Signature::fixed(1));
        let mut b = FunctionBuilder::new(&mut f);
        let x = b.param(0);
        b.set_loc(Loc(4));
        let one = b.fixnum(1);
        let sum = b.fx(FxOp::Add, FxMode::Ovf, x, one);
        let join = b.create_named_block("join");
        let p = b.append_block_param(join);
        assert!(!b.is_terminated());
        b.br(join, &[sum]);
        assert!(b.is_terminated());
        b.switch_to_block(join);
        assert!(!b.is_terminated());
        b.ret(p);
        let e = f.entry();
        assert_eq!(f.block(e).insts.len(), 3);
        let add = f.block(e).insts[1];
        assert_eq!(f.inst(add).result, Some(sum));
        assert_eq!(f.inst(add).loc, Loc(4));
        assert_eq!(f.inst(add).args, vec![x, one]);
        assert_eq!(f.successors(e), vec![join]);
    }

    #[test]
    fn call_closure_puts_callee_first() {
        let mut f = Function::new("f", Signature::closure(1, false));
        let mut b = FunctionBuilder::new(&mut f);
        let (me, a) = (b.param(0), b.param(1));
        let r = b.call_closure(me, &[a, a]);
        b.tail_call_closure(r, &[]);
        let i = f.block(f.entry()).insts[0];
        assert_eq!(f.inst(i).args, vec![me, a, a]);
    }
}
