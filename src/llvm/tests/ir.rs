//! The shape of the generated IR: statepoint GC strategy, `musttail` on
//! every tail call, statepoints after the rewrite, verified modules.

mod common;
use common::module;
use valk_llvm::{default_proc_name, emit_module, Backend, EmitOptions, Output};
use valk_vir::Loc;

const PROG: &str = r#"
global $g

function @ping(%n) arity 1 {
entry:
  %z = fixnum 0
  %c = fx.eq %n, %z
  br_if %c, done(), more()
done:
  ret %n
more:
  %one = fixnum 1
  %m = fx.sub %n, %one
  tail_call @pong(%m)
}

function @pong(%n) arity 1 {
entry:
  %one = fixnum 1
  %m = fx.sub %n, %one
  %k = global_get $g
  tail_call_closure %k(%m)
}

function @clo(%self, %n) arity 1 closure {
entry:
  %r = call @ping(%n)
  %z = fixnum 0
  %c = fx.lt %r, %z
  br_if %c, done(), more()
done:
  %p = cons %r, %self
  ret %p
more:
  %k = global_get $g
  tail_call_closure %k(%r)
}

function @top0() arity 0 {
entry:
  %k = closure @clo()
  global_set $g, %k
  %n = fixnum 10
  %r = call_closure %k(%n)
  ret %r
}
"#;

fn raw_ir() -> String {
    let (m, tops) = module(PROG);
    let diag = |_: Loc, _: &str| None;
    let opts = EmitOptions {
        aot: true,
        descriptor: None,
        install_eval: None,
        unbound_diag: &diag,
        proc_name: &default_proc_name,
        debug: None,
        sites: None,
    };
    emit_module(&m, &tops, &opts).unwrap()
}

fn compiled(level: u32, out: Output) -> String {
    let b = Backend::new(level).unwrap();
    String::from_utf8(b.compile(&raw_ir(), level, out).unwrap()).unwrap()
}

#[test]
fn functions_use_the_statepoint_strategy_and_frame_pointers() {
    let ir = raw_ir();
    let defs: Vec<&str> = ir.lines().filter(|l| l.starts_with("define")).collect();
    assert!(defs.len() >= 6, "{defs:#?}");
    for d in defs.iter().filter(|d| !d.contains("@main(")) {
        assert!(d.contains("gc \"statepoint-example\""), "{d}");
    }
    assert!(ir.contains("\"frame-pointer\"=\"all\""));
    assert!(
        ir.contains("define internal tailcc ptr addrspace(1) @\"d0.ping\"(ptr addrspace(1) %v0)")
    );
}

#[test]
fn every_tail_call_is_musttail() {
    let ir = raw_ir();
    // tail_call @pong, two tail_call_closure (each: the fast path, the
    // in-line `apply` path and the call object an interpreted callee may
    // return, docs/tiering.md), the fast entry's jump to the direct entry.
    // After -O2 inlining, the closure tail call in the fast entry of @clo
    // remains.
    let musttail = ir.matches("musttail call tailcc").count();
    assert_eq!(musttail, 8, "{ir}");
    for level in [0, 2] {
        let before = compiled(level, Output::LlvmIrBeforeGc);
        assert!(before.contains("musttail call tailcc"), "O{level}");
        assert!(!before.contains("gc.statepoint"), "O{level}");
    }
}

#[test]
fn statepoints_after_the_rewrite() {
    for level in [0, 2] {
        let ir = compiled(level, Output::LlvmIr);
        assert!(ir.contains("@llvm.experimental.gc.statepoint"), "O{level}");
        assert!(ir.contains("@llvm.experimental.gc.relocate"), "O{level}");
        // musttail calls survive, marked as GC leaves.
        let mt: Vec<&str> = ir.lines().filter(|l| l.contains("musttail call")).collect();
        assert!(!mt.is_empty(), "O{level}");
        for l in mt {
            assert!(!l.contains("gc.statepoint"), "{l}");
        }
        assert!(ir.contains("\"gc-leaf-function\""), "O{level}");
    }
}

#[test]
fn objects_carry_a_writable_stack_map_section() {
    let obj = Backend::new(2)
        .unwrap()
        .compile(&raw_ir(), 2, Output::Object)
        .unwrap();
    assert_eq!(&obj[..4], b"\x7fELF");
    let asm = compiled(2, Output::Asm);
    assert!(asm.contains(".llvm_stackmaps"));
    assert!(asm.contains("valk_stackmaps:"));
}

#[test]
fn broken_ir_is_an_error_not_a_crash() {
    let b = Backend::new(0).unwrap();
    let e = b
        .compile("define void @f() {\n  ret i32 0\n}\n", 0, Output::Object)
        .unwrap_err();
    assert!(e.0.contains("internal error"), "{e}");
}
