//! Parser tests: round trips through the printer and located errors.

use super::*;
use crate::write::print_module;

const FIB: &str = "global $fib

function @fib(%n) arity 1 {
entry:
  %0 = fixnum 2
  %1 = fx.lt %n, %0
  br_if %1, then(), else()
then:                       ; preds: entry
  ret %n
else:                       ; preds: entry
  %2 = fixnum 1
  %3 = fx.sub %n, %2 !7
  %4 = call @fib(%3)
  %5 = fixnum 2
  %6 = fx.sub %n, %5
  %7 = call @fib(%6)
  %8 = fx.add.chk %4, %7
  ret %8
}
";

#[test]
fn parses_and_reprints() {
    let m = parse_module(FIB).unwrap();
    assert_eq!(m.funcs.len(), 1);
    assert_eq!(m.funcs[0].layout.len(), 3);
    assert_eq!(print_module(&m), FIB);
}

#[test]
fn forward_references() {
    let text = "function @f(%x) arity 1 {
entry:
  br b2()
b1:                         ; preds: b2
  ret %y
b2:                         ; preds: entry
  %y = call @g(%x)
  br b1()
}

function @g(%a) arity 1 {
entry:
  ret %a
}
";
    let m = parse_module(text).unwrap();
    assert_eq!(print_module(&m), text);
}

#[test]
fn every_opcode_round_trips() {
    let text = r#"global $g
global $"odd name"

const #0 = "str\n"
const #1 = (a |b c| 1 2.5 #\x3bb #t #(1 2) #u8(3) . z)

function @all(%self, %x, %r) arity 1 rest closure {
entry:
  %0 = fixnum -5
  %1 = flonum 1.5
  %2 = flonum +inf.0
  %3 = char #\space
  %4 = bool #f
  %5 = nil
  %6 = unspecified
  %7 = undefined
  %8 = const #1
  %9 = copy %x
  %10 = type_tag %x
  %11 = type_is.pair %x
  %12 = type_check.vector %x, "vector-ref"
  %13 = cast.fixnum %x
  %14 = fx.mod.ovf %13, %0
  %15 = fx.quo.chk %x, %0
  %16 = fx.to_fl %13
  %17 = fl.div.chk %1, %16
  %18 = fx.ge.chk %x, %0
  %19 = fl.ne %1, %2
  %20 = eq %x, %5
  %21 = not %20
  %22 = alloc.vector.stack %x, %x
  %23 = alloc.values
  %24 = load %22, 1
  store %22, 0, %x
  %25 = cons %x, %5
  %26 = car %25
  %27 = cdr %25
  %28 = vector_ref %12, %0
  vector_set %12, %0, %x
  %29 = vector_length %12
  %30 = const #0
  %31 = string_ref %30, %0
  string_set %30, %0, %3
  %32 = string_length %30
  %33 = box %x
  %34 = unbox %33
  set_box %33, %x
  %35 = global_get $g
  %36 = global_get.chk $"odd name"
  global_set $g, %x
  global_set.chk $"odd name", %x
  %37 = call @all(%self, %x, %r)
  %38 = call_closure %self(%x)
  %39 = call_runtime "display"(%x, %x) !3
  %40 = closure @all(%x)
  %41 = env_get %self, 0
  %42 = cont_new @all(%x)
  %43 = check_init %x, %30
  %44 = arity_error %30, %30, %0 !5
  switch %x, 0: one(%x), -2: two(), default: three()
one(%a):                    ; preds: entry
  tail_call @all(%self, %a, %r)
two:                        ; preds: entry
  tail_call_closure %self(%x, %x)
three:                      ; preds: entry
  br_if %x, four(), five()
four:                       ; preds: three
  cont_call %42(%x)
five:                       ; preds: three
  unreachable
}
"#;
    let m = parse_module(text).unwrap();
    assert_eq!(print_module(&m), text);
}

fn err_of(text: &str) -> String {
    parse_module(text).unwrap_err().to_string()
}

#[test]
fn errors_are_located() {
    assert_eq!(
        err_of("function @f() arity 0 {\nentry:\n  %0 = frob 1\n}\n"),
        "line 3, column 8: unknown opcode `frob`"
    );
    assert!(err_of("function @f() arity 0 {\nentry:\n  ret %x\n}\n")
        .contains("value %x is used but never defined"));
    assert!(
        err_of("function @f() arity 0 {\nentry:\n  br nowhere()\n}\n")
            .contains("block `nowhere` is used but has no label")
    );
    assert!(
        err_of("function @f() arity 0 {\nentry:\n  %0 = call @g()\n  ret %0\n}\n")
            .contains("unknown function @g")
    );
    assert!(
        err_of("function @f(%a) arity 0 {\nentry:\n  unreachable\n}\n")
            .contains("lists 1 parameters but its signature needs 0")
    );
    assert!(
        err_of("function @f() arity 0 {\nentry:\n  %0 = nil\n  %0 = nil\n  ret %0\n}\n")
            .contains("defined twice")
    );
    assert!(err_of("global $x\nglobal $x\n").contains("declared twice"));
    assert!(err_of("const #0 = \"abc\n").contains("unterminated string"));
    assert!(err_of("function @f() arity 0 {\nentry:\n  ret\n").contains("not closed"));
    assert!(err_of("function @f() arity 0 {\nentry:\n  store %a, 1\n}\n").contains("expected `,`"));
    assert!(err_of("bogus").contains("expected `global`, `const`, `inlined` or `function`"));
    assert!(err_of("const #0 = (a\nfunction @x)\n").contains("@x is declared but has no body"));
    assert!(err_of("  function@f() arity 0 {\n").contains("`function` must start a line"));
    assert!(
        err_of("function @f() arity 0 {\nentry:\n  %0 = fixnum 99999999999999999999\n}\n")
            .contains("bad integer")
    );
}

#[test]
fn datums() {
    let m = parse_module(
        "const #4 = (quote x)\nconst #7 = (1 . -2.5e3)\nconst #1 = 'y\nconst #2 = |a\\|b|\n",
    )
    .unwrap();
    assert_eq!(
        m.consts[1],
        ConstData::List(
            vec![ConstData::Int(1)],
            Some(Box::new(ConstData::Float(-2500.0)))
        )
    );
    assert_eq!(m.consts[3], ConstData::Symbol("a|b".into()));
    assert_eq!(
        m.consts[2],
        ConstData::List(
            vec![
                ConstData::Symbol("quote".into()),
                ConstData::Symbol("y".into())
            ],
            None
        )
    );
    assert_eq!(
        print_module(&m),
        "const #0 = (quote x)\nconst #1 = (1 . -2500.0)\nconst #2 = (quote y)\nconst #3 = |a\\|b|\n"
    );
}

#[test]
fn numbers_beyond_fixnums_and_flonums_keep_their_text() {
    let text = "const #0 = 123456789012345678901234567890\nconst #1 = -1/3\nconst #2 = 1.5-2.0i\nconst #3 = 0+1i\nconst #4 = +inf.0+1.0i\nconst #5 = 1e21\nconst #6 = -9223372036854775809\nconst #7 = 4611686018427387904\nconst #8 = 1152921504606846975\n";
    let m = parse_module(text).unwrap();
    let numbers = [
        "123456789012345678901234567890",
        "-1/3",
        "1.5-2.0i",
        "0+1i",
        "+inf.0+1.0i",
    ];
    for (i, n) in numbers.iter().enumerate() {
        assert_eq!(m.consts[i], ConstData::Number(n.to_string()), "#{i}");
    }
    assert_eq!(m.consts[5], ConstData::Float(1e21));
    assert_eq!(
        m.consts[6],
        ConstData::Number("-9223372036854775809".into())
    );
    assert_eq!(m.consts[7], ConstData::Number("4611686018427387904".into()));
    assert_eq!(m.consts[8], ConstData::Int(1152921504606846975));
    assert_eq!(print_module(&m), text);
}
