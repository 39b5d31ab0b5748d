//! Unit tests of `src/runtime/builtins/numbers.rs`.

use super::super::testing::*;

#[test]
fn arithmetic() {
    let _g = lock();
    check_all(&[
        ("(+)", "0"),
        ("(+ 1 2)", "3"),
        ("(+ 1 2 3 4)", "10"),
        ("(+ 1 2.5)", "3.5"),
        ("(+ 0.5 1 2)", "3.5"),
        ("(- 5)", "-5"),
        ("(- 5.0)", "-5.0"),
        ("(- 10 1 2)", "7"),
        ("(- 10 0.5)", "9.5"),
        ("(*)", "1"),
        ("(* 2 3 4)", "24"),
        ("(* 2 1.5)", "3.0"),
        ("(/ 6 3)", "2"),
        ("(/ 7 2)", "3.5"),
        ("(/ 2)", "0.5"),
        ("(/ 1 3)", "0.3333333333333333"),
        ("(/ -6 3)", "-2"),
        ("(/ 12 2 3)", "2"),
        ("(/ 1.0 0)", "+inf.0"),
        ("(/ 1 0.0)", "+inf.0"),
        ("(/ -1 0.0)", "-inf.0"),
        ("(/ 0.0 0)", "+nan.0"),
        ("(exact? (/ 6 3))", "#t"),
        // Intermediate sums may leave the fixnum range.
        ("(+ 1152921504606846975 1 -1)", "1152921504606846975"),
        ("(- -1152921504606846976 1 -1)", "-1152921504606846976"),
    ]);
    check_errs(&[
        (
            "(+ 1152921504606846975 1)",
            "+: integer overflow (bignums are not supported yet)",
        ),
        (
            "(- -1152921504606846976 1)",
            "-: integer overflow (bignums are not supported yet)",
        ),
        (
            "(- -1152921504606846976)",
            "-: integer overflow (bignums are not supported yet)",
        ),
        (
            "(* 1152921504606846975 2)",
            "*: integer overflow (bignums are not supported yet)",
        ),
        (
            "(* 1152921504606846975 1152921504606846975 1152921504606846975)",
            "*: integer overflow (bignums are not supported yet)",
        ),
        (
            "(/ -1152921504606846976 -1)",
            "/: integer overflow (bignums are not supported yet)",
        ),
        ("(/ 1 0)", "/: division by zero"),
        ("(/ 0)", "/: division by zero"),
        ("(+ 1 'a)", "+: expected a number: a"),
        ("(- \"x\")", "-: expected a number: \"x\""),
        ("(* 2 #t)", "*: expected a number: #t"),
        ("(/ 1 '())", "/: expected a number: ()"),
    ]);
}

#[test]
fn comparisons() {
    let _g = lock();
    check_all(&[
        ("(= 1 1)", "#t"),
        ("(= 1 1.0)", "#t"),
        ("(= 1 1 2)", "#f"),
        ("(< 1 2 3)", "#t"),
        ("(< 1 3 2)", "#f"),
        ("(> 3 2 1)", "#t"),
        ("(<= 1 1 2)", "#t"),
        ("(>= 2 2 3)", "#f"),
        ("(< 1 1.5 2)", "#t"),
        ("(= +nan.0 +nan.0)", "#f"),
        ("(< 1 +nan.0)", "#f"),
        ("(< -inf.0 -1152921504606846976)", "#t"),
        ("(> +inf.0 1152921504606846975)", "#t"),
        // Compared exactly, not through a rounded double.
        ("(= 1152921504606846975 1152921504606846976.0)", "#f"),
        ("(< 1152921504606846975 1152921504606846976.0)", "#t"),
        ("(= 0 -0.0)", "#t"),
        ("(< 2 2.5)", "#t"),
        ("(> 2 2.5)", "#f"),
        ("(< -3 -2.5)", "#t"),
        ("(= 5)", "#t"),
    ]);
    check_errs(&[
        ("(< 1 'a)", "<: expected a number: a"),
        // Every argument is checked, even after a false comparison.
        ("(< 2 1 'a)", "<: expected a number: a"),
    ]);
}

#[test]
fn integer_division() {
    let _g = lock();
    check_all(&[
        ("(quotient 17 5)", "3"),
        ("(quotient -17 5)", "-3"),
        ("(remainder 17 5)", "2"),
        ("(remainder -17 5)", "-2"),
        ("(remainder 17 -5)", "2"),
        ("(modulo 17 5)", "2"),
        ("(modulo -17 5)", "3"),
        ("(modulo 17 -5)", "-3"),
        ("(modulo -17 -5)", "-2"),
        ("(floor-quotient -7 2)", "-4"),
        ("(floor-remainder -7 2)", "1"),
        ("(truncate-quotient -7 2)", "-3"),
        ("(truncate-remainder -7 2)", "-1"),
        ("(floor/ -7 2)", "-4 1"),
        ("(truncate/ -7 2)", "-3 -1"),
        ("(quotient 7.0 2)", "3.0"),
        ("(modulo -7.0 2)", "1.0"),
        ("(remainder 7 2.0)", "1.0"),
        ("(exact-integer-sqrt 17)", "4 1"),
        ("(exact-integer-sqrt 16)", "4 0"),
        ("(exact-integer-sqrt 0)", "0 0"),
        (
            "(exact-integer-sqrt 1152921504606846975)",
            "1073741823 2147483646",
        ),
    ]);
    check_errs(&[
        ("(quotient 1 0)", "quotient: division by zero"),
        ("(modulo 1 0)", "modulo: division by zero"),
        ("(remainder 1.0 0)", "remainder: division by zero"),
        ("(floor/ 1 0)", "floor/: division by zero"),
        ("(quotient 1.5 1)", "quotient: expected an integer: 1.5"),
        (
            "(quotient -1152921504606846976 -1)",
            "quotient: integer overflow (bignums are not supported yet)",
        ),
        (
            "(exact-integer-sqrt -1)",
            "exact-integer-sqrt: expected a non-negative exact integer: -1",
        ),
        (
            "(exact-integer-sqrt 4.0)",
            "exact-integer-sqrt: expected a non-negative exact integer: 4.0",
        ),
    ]);
}

#[test]
fn other_arithmetic() {
    let _g = lock();
    check_all(&[
        ("(abs -5)", "5"),
        ("(abs -5.5)", "5.5"),
        ("(min 3 1 2)", "1"),
        ("(max 3 1 2)", "3"),
        ("(max 1 2.0)", "2.0"),
        ("(min 1 2.0)", "1.0"),
        ("(max 1 +nan.0)", "+nan.0"),
        ("(gcd)", "0"),
        ("(gcd 12 18)", "6"),
        ("(gcd -12 18 8)", "2"),
        ("(gcd 0 5)", "5"),
        ("(lcm)", "1"),
        ("(lcm 4 6)", "12"),
        ("(lcm -4 6)", "12"),
        ("(lcm 4 0)", "0"),
        ("(gcd 12.0 18)", "6.0"),
        ("(expt 2 10)", "1024"),
        ("(expt 2 0)", "1"),
        ("(expt 0 0)", "1"),
        ("(expt 0 5)", "0"),
        ("(expt -2 3)", "-8"),
        ("(expt 1 1000000000000)", "1"),
        ("(expt -1 1000000000001)", "-1"),
        ("(expt 2 -1)", "0.5"),
        ("(expt -1 -3)", "-1"),
        ("(expt 2.0 3)", "8.0"),
        ("(expt 4 0.5)", "2.0"),
        ("(expt 2 59)", "576460752303423488"),
        ("(square 5)", "25"),
        ("(square 1.5)", "2.25"),
        ("(sqrt 16)", "4"),
        ("(sqrt 0)", "0"),
        ("(sqrt 2)", "1.4142135623730951"),
        ("(sqrt 16.0)", "4.0"),
        ("(exact? (sqrt 16))", "#t"),
        ("(exp 0)", "1"),
        ("(exp 1)", "2.718281828459045"),
        ("(log 1)", "0"),
        ("(log 8 2)", "3.0"),
        ("(log 100 10)", "2.0"),
        ("(log 0.0)", "-inf.0"),
        ("(sin 0)", "0"),
        ("(cos 0)", "1"),
        ("(tan 0)", "0"),
        ("(asin 0)", "0"),
        ("(acos 1)", "0"),
        ("(atan 0)", "0"),
        ("(atan 1)", "0.7853981633974483"),
        ("(atan 1 1)", "0.7853981633974483"),
        ("(atan 0 1)", "0"),
        ("(sin 0.0)", "0.0"),
        ("(floor 2.5)", "2.0"),
        ("(floor -2.5)", "-3.0"),
        ("(ceiling 2.1)", "3.0"),
        ("(truncate -2.7)", "-2.0"),
        ("(round 2.5)", "2.0"),
        ("(round 3.5)", "4.0"),
        ("(round -2.5)", "-2.0"),
        ("(round 2.6)", "3.0"),
        ("(round 7)", "7"),
        ("(floor 7)", "7"),
        ("(exact 2.0)", "2"),
        ("(exact -0.0)", "0"),
        ("(exact 5)", "5"),
        ("(inexact 5)", "5.0"),
        ("(exact->inexact 1)", "1.0"),
        ("(inexact->exact 3.0)", "3"),
        ("(numerator 6)", "6"),
        ("(denominator 6)", "1"),
        ("(numerator 0.75)", "3.0"),
        ("(denominator 0.75)", "4.0"),
    ]);
    check_errs(&[
        (
            "(expt 2 60)",
            "expt: integer overflow (bignums are not supported yet)",
        ),
        (
            "(expt 10 100)",
            "expt: integer overflow (bignums are not supported yet)",
        ),
        ("(expt 0 -1)", "expt: division by zero"),
        (
            "(expt -8 0.5)",
            "expt: complex numbers are not supported yet: -8",
        ),
        (
            "(abs -1152921504606846976)",
            "abs: integer overflow (bignums are not supported yet)",
        ),
        (
            "(square 1152921504606846975)",
            "square: integer overflow (bignums are not supported yet)",
        ),
        (
            "(sqrt -4)",
            "sqrt: complex numbers are not supported yet: -4",
        ),
        (
            "(sqrt -4.0)",
            "sqrt: complex numbers are not supported yet: -4.0",
        ),
        ("(log -1)", "log: complex numbers are not supported yet: -1"),
        ("(asin 2)", "asin: complex numbers are not supported yet: 2"),
        ("(atan 0 0)", "atan: undefined for 0 and 0"),
        (
            "(exact 2.5)",
            "exact: exact rationals are not supported yet: 2.5",
        ),
        ("(exact +inf.0)", "exact: no exact representation: +inf.0"),
        ("(exact +nan.0)", "exact: no exact representation: +nan.0"),
        (
            "(exact 1e300)",
            "exact: integer overflow (bignums are not supported yet)",
        ),
        ("(gcd 1.5)", "gcd: expected an integer: 1.5"),
        ("(abs 'x)", "abs: expected a number: x"),
        ("(max 1 'x)", "max: expected a number: x"),
    ]);
}

#[test]
fn predicates() {
    let _g = lock();
    check_all(&[
        ("(number? 1)", "#t"),
        ("(number? 1.5)", "#t"),
        ("(number? 'a)", "#f"),
        ("(complex? 1)", "#t"),
        ("(real? 1.5)", "#t"),
        ("(rational? 1.5)", "#t"),
        ("(rational? +inf.0)", "#f"),
        ("(rational? +nan.0)", "#f"),
        ("(integer? 2)", "#t"),
        ("(integer? 2.0)", "#t"),
        ("(integer? 2.5)", "#f"),
        ("(integer? +inf.0)", "#f"),
        ("(integer? \"2\")", "#f"),
        ("(exact? 1)", "#t"),
        ("(exact? 1.0)", "#f"),
        ("(inexact? 1.0)", "#t"),
        ("(exact-integer? 5)", "#t"),
        ("(exact-integer? 5.0)", "#f"),
        ("(nan? +nan.0)", "#t"),
        ("(nan? 1)", "#f"),
        ("(infinite? -inf.0)", "#t"),
        ("(infinite? 1.0)", "#f"),
        ("(finite? 1)", "#t"),
        ("(finite? +inf.0)", "#f"),
        ("(zero? 0)", "#t"),
        ("(zero? -0.0)", "#t"),
        ("(zero? 1)", "#f"),
        ("(positive? 1)", "#t"),
        ("(positive? 0)", "#f"),
        ("(negative? -0.5)", "#t"),
        ("(positive? +nan.0)", "#f"),
        ("(odd? 3)", "#t"),
        ("(odd? -3)", "#t"),
        ("(even? 0)", "#t"),
        ("(even? 3.0)", "#f"),
        ("(even? -4.0)", "#t"),
    ]);
    check_errs(&[
        ("(exact? 'a)", "exact?: expected a number: a"),
        ("(zero? 'a)", "zero?: expected a number: a"),
        ("(odd? 1.5)", "odd?: expected an integer: 1.5"),
        ("(nan? \"x\")", "nan?: expected a number: \"x\""),
    ]);
}

#[test]
fn number_text() {
    let _g = lock();
    check_all(&[
        ("(number->string 42)", "\"42\""),
        ("(number->string -42)", "\"-42\""),
        ("(number->string 255 16)", "\"ff\""),
        ("(number->string -255 2)", "\"-11111111\""),
        ("(number->string 8 8)", "\"10\""),
        ("(number->string 1.5)", "\"1.5\""),
        ("(number->string 1e21)", "\"1e21\""),
        (
            "(number->string -1152921504606846976 16)",
            "\"-1000000000000000\"",
        ),
        ("(string->number \"42\")", "42"),
        ("(string->number \"-1.5e3\")", "-1500.0"),
        ("(string->number \"ff\" 16)", "255"),
        ("(string->number \"#xff\")", "255"),
        ("(string->number \"101\" 2)", "5"),
        ("(string->number \"abc\")", "#f"),
        ("(string->number \"\")", "#f"),
        ("(string->number \"+inf.0\")", "+inf.0"),
        ("(string->number \"1e500\")", "+inf.0"),
    ]);
    check_errs(&[
        (
            "(number->string 1.5 2)",
            "number->string: inexact numbers can only be printed in radix 10: 1.5",
        ),
        (
            "(number->string 10 3)",
            "number->string: expected a radix (2, 8, 10 or 16): 3",
        ),
        (
            "(number->string 'a)",
            "number->string: expected a number: a",
        ),
        ("(string->number 5)", "string->number: expected a string: 5"),
        (
            "(string->number \"1/3\")",
            "string->number: exact rationals are not supported yet: \"1/3\"",
        ),
    ]);
}

#[test]
fn numbers_under_stress() {
    let _g = lock();
    with_stress(|| {
        check_all(&[
            ("(+ 1.5 (* 2 2.5) (- 1.0))", "5.5"),
            (
                "(list (/ 7 2) (sqrt 2.0) (floor/ 7.0 2))",
                "(3.5 1.4142135623730951 3.0 1.0)",
            ),
            ("(number->string (/ 1.0 3))", "\"0.3333333333333333\""),
        ]);
    });
}
