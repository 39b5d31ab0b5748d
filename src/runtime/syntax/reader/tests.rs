//! Unit tests of `src/runtime/syntax/reader.rs`.

use super::*;

/// Compact printed form of a datum, to compare whole trees at once.
fn show(d: &Datum) -> String {
    match &d.kind {
        DatumKind::Int(n) => n.to_string(),
        DatumKind::Float(x) => format!("{x:?}f"),
        DatumKind::Number(text) => format!("{text}n"),
        DatumKind::Bool(b) => (if *b { "#t" } else { "#f" }).to_string(),
        DatumKind::Char(c) => format!("#\\{c:?}"),
        DatumKind::Str(s) => format!("{s:?}"),
        DatumKind::Symbol(s) => s.clone(),
        DatumKind::List(items, tail) => {
            let mut parts: Vec<String> = items.iter().map(show).collect();
            if let Some(t) = tail {
                parts.push(".".to_string());
                parts.push(show(t));
            }
            format!("({})", parts.join(" "))
        }
        DatumKind::Vector(items) => {
            let parts: Vec<String> = items.iter().map(show).collect();
            format!("#({})", parts.join(" "))
        }
        DatumKind::Bytevector(b) => {
            let parts: Vec<String> = b.iter().map(|n| n.to_string()).collect();
            format!("#u8({})", parts.join(" "))
        }
        DatumKind::Labeled(n, x) => format!("#{n}={}", show(x)),
        DatumKind::LabelRef(n) => format!("#{n}#"),
    }
}

fn read(text: &str) -> Vec<Datum> {
    let mut sm = SourceMap::new();
    match read_str(&mut sm, "t.valk", text) {
        Ok(d) => d,
        Err(e) => panic!("{text:?}: {e:?}"),
    }
}

/// All datums of `text`, printed and separated by spaces.
fn r(text: &str) -> String {
    read(text).iter().map(show).collect::<Vec<_>>().join(" ")
}

/// The error for `text`: its message and `line:col` of its start, and
/// the source text under its span.
fn fail(text: &str) -> (String, String, String) {
    let mut sm = SourceMap::new();
    match read_str(&mut sm, "t.valk", text) {
        Ok(d) => panic!(
            "{text:?} read as {:?}",
            d.iter().map(show).collect::<Vec<_>>()
        ),
        Err(e) => {
            let span = e.span.expect("reader errors have spans");
            let loc = sm.location(span);
            let under = text[span.start as usize..span.end as usize].to_string();
            (
                e.message,
                loc.trim_start_matches("t.valk:").to_string(),
                under,
            )
        }
    }
}

fn err_msg(text: &str) -> String {
    fail(text).0
}

#[test]
fn reader_numbers() {
    assert_eq!(
        r("0 42 -7 +7 #xff #b-101 #o17 #d9 #e1.0 #x#e10"),
        "0 42 -7 7 255 -5 15 9 1 16"
    );
    assert_eq!(
        r("1.5 .5 -2.5e-3 1e10 #i3 1."),
        "1.5f 0.5f -0.0025f 10000000000.0f 3.0f 1.0f"
    );
    assert_eq!(r("+inf.0 -inf.0"), "inff -inff");
    assert!(matches!(read("+nan.0")[0].kind, DatumKind::Float(x) if x.is_nan()));
    assert_eq!(r("#XFF #E1E2"), "255 100");
}

#[test]
fn reader_symbols() {
    assert_eq!(
        r("foo + - ... 1+ -> <=? a.b |a b| || λ Foo FOO"),
        "foo + - ... 1+ -> <=? a.b a b  λ Foo FOO"
    );
    let d = read("|a\\|b\\x41;\\n| |x y|");
    assert_eq!(d[0].sym(), Some("a|bA\n"));
    assert_eq!(d[1].sym(), Some("x y"));
    assert_eq!(read("||")[0].sym(), Some(""));
    // `|` is a delimiter.
    assert_eq!(r("abc|d e|"), "abc d e");
    // Case-sensitive unless folded.
    assert_eq!(
        r("Abc #!fold-case Abc #\\NEWLINE #!no-fold-case Abc |Q|"),
        "Abc abc #\\'\\n' Abc Q"
    );
}

#[test]
fn reader_booleans() {
    assert_eq!(r("#t #f #true #false #T"), "#t #f #t #f #t");
    assert_eq!(r("(#t)"), "(#t)");
    // Booleans end at a delimiter.
    assert_eq!(err_msg("(#t#f)"), "bad `#` syntax `#t#f`");
}

#[test]
fn reader_strings() {
    let d = read(r#""a\nb\tc\rd\ae\bf\0g\\h\"i\x41;\x3bb;\|""#);
    assert_eq!(
        d[0].kind,
        DatumKind::Str("a\nb\tc\rd\u{7}e\u{8}f\0g\\h\"iA\u{3bb}|".to_string())
    );
    assert_eq!(
        read("\"abc \\\n     def\"")[0].kind,
        DatumKind::Str("abc def".into())
    );
    assert_eq!(
        read("\"abc\\   \r\n\t def\"")[0].kind,
        DatumKind::Str("abcdef".into())
    );
    assert_eq!(
        read("\"two\nlines λ\"")[0].kind,
        DatumKind::Str("two\nlines λ".into())
    );
    assert_eq!(read("\"\"")[0].kind, DatumKind::Str(String::new()));
    assert_eq!(read("\"a;b\"")[0].kind, DatumKind::Str("a;b".into()));
}

#[test]
fn reader_chars() {
    let cases = [
        ("#\\a", 'a'),
        ("#\\A", 'A'),
        ("#\\space", ' '),
        ("#\\newline", '\n'),
        ("#\\tab", '\t'),
        ("#\\nul", '\0'),
        ("#\\null", '\0'),
        ("#\\alarm", '\u{7}'),
        ("#\\backspace", '\u{8}'),
        ("#\\delete", '\u{7f}'),
        ("#\\escape", '\u{1b}'),
        ("#\\return", '\r'),
        ("#\\x41", 'A'),
        ("#\\x3bb", 'λ'),
        ("#\\x", 'x'),
        ("#\\λ", 'λ'),
        ("#\\(", '('),
        ("#\\)", ')'),
        ("#\\ ", ' '),
        ("#\\;", ';'),
        ("#\\\"", '"'),
        ("#\\#", '#'),
        ("#\\\\", '\\'),
    ];
    for (text, c) in cases {
        let d = read(text);
        assert_eq!(d.len(), 1, "{text}");
        assert_eq!(d[0].kind, DatumKind::Char(c), "{text}");
        assert_eq!(d[0].span.end as usize, text.len(), "{text}");
    }
    assert_eq!(r("(#\\a #\\b)"), "(#\\'a' #\\'b')");
    assert_eq!(err_msg("(#\\a#\\b)"), "unknown character name `#\\a#\\b`");
    assert_eq!(r("(#\\))"), "(#\\')')");
    assert_eq!(r("(#\\( x)"), "(#\\'(' x)");
}

#[test]
fn reader_lists_and_brackets() {
    assert_eq!(r("()"), "()");
    assert_eq!(r("(a (b c) [d e] ())"), "(a (b c) (d e) ())");
    assert_eq!(r("[let ([x 1]) x]"), "(let ((x 1)) x)");
    assert_eq!(r("(a . b)"), "(a . b)");
    assert_eq!(r("(a b . c)"), "(a b . c)");
    assert_eq!(r("(a . (b c))"), "(a b c)");
    assert_eq!(r("(a . (b . c))"), "(a b . c)");
    assert_eq!(r("(a . ())"), "(a)");
    assert_eq!(r("(a .b)"), "(a .b)");
    assert_eq!(r("(a . 'b)"), "(a quote b)");
    assert_eq!(r("(1 .5)"), "(1 0.5f)");
    assert_eq!(r("a b\n c"), "a b c");
}

#[test]
fn reader_vectors_and_bytevectors() {
    assert_eq!(r("#(1 a \"s\" #(2))"), "#(1 a \"s\" #(2))");
    assert_eq!(r("#()"), "#()");
    assert_eq!(r("#u8(0 1 255 #xff)"), "#u8(0 1 255 255)");
    assert_eq!(r("#U8()"), "#u8()");
    assert_eq!(r("#u8(1 #;300 2)"), "#u8(1 2)");
}

#[test]
fn reader_quotes() {
    assert_eq!(
        r("'a `(b ,c ,@d) ''e"),
        "(quote a) (quasiquote (b (unquote c) (unquote-splicing d))) (quote (quote e))"
    );
    let d = read("  ,@ x");
    let items = d[0].list().unwrap();
    assert_eq!((items[0].span.start, items[0].span.end), (2, 4));
    assert_eq!((items[1].span.start, items[1].span.end), (5, 6));
    assert_eq!((d[0].span.start, d[0].span.end), (2, 6));
    assert_eq!(
        r("'#(1) '\"s\" '#\\a"),
        "(quote #(1)) (quote \"s\") (quote #\\'a')"
    );
    assert_eq!(r("' #;x y"), "(quote y)");
}

#[test]
fn reader_comments() {
    assert_eq!(r("a ; comment\nb ;last"), "a b");
    assert_eq!(r("a #| block |# b"), "a b");
    assert_eq!(r("a #| outer #| inner |# still |# b"), "a b");
    assert_eq!(r("#|λ|#x"), "x");
    assert_eq!(r("(a #;b c)"), "(a c)");
    assert_eq!(r("(a #;(b (c)) d)"), "(a d)");
    assert_eq!(r("#;#;a b c"), "c");
    assert_eq!(r("(a #;b)"), "(a)");
    assert_eq!(r("(a . #;b c)"), "(a . c)");
    assert_eq!(r("#; 'x y"), "y");
    assert_eq!(r("; only a comment"), "");
    assert_eq!(r(""), "");
    assert_eq!(r("#!/usr/bin/env valk\n(x)"), "(x)");
    assert_eq!(r("a;b\nc"), "a c");
}

#[test]
fn reader_spans() {
    let text = "(define (f x)\n  \"s\" #\\a 12 #(1) #u8(2))";
    let d = read(text);
    let top = &d[0];
    assert_eq!(
        (top.span.start as usize, top.span.end as usize),
        (0, text.len())
    );
    let items = top.list().unwrap();
    let spans: Vec<&str> = items
        .iter()
        .map(|i| &text[i.span.start as usize..i.span.end as usize])
        .collect();
    assert_eq!(
        spans,
        ["define", "(f x)", "\"s\"", "#\\a", "12", "#(1)", "#u8(2)"]
    );
    let inner = items[1].list().unwrap();
    assert_eq!((inner[1].span.start, inner[1].span.end), (11, 12));
    let d = read("(λ (é) é)");
    let items = d[0].list().unwrap();
    assert_eq!(
        &"(λ (é) é)"[items[2].span.start as usize..items[2].span.end as usize],
        "é"
    );
    let mut sm = SourceMap::new();
    let ds = read_str(&mut sm, "a.valk", "1\n  (x)").unwrap();
    assert_eq!(sm.location(ds[1].span), "a.valk:2:3");
    assert_eq!(ds[1].span.file, FileId(0));
    let ds = read_str(&mut sm, "b.valk", "y").unwrap();
    assert_eq!(ds[0].span.file, FileId(1));
    assert_eq!(read_all(&sm, FileId(1)).unwrap()[0].sym(), Some("y"));
    assert!(read_all(&sm, FileId(9)).is_err());
}

#[test]
fn reader_errors_and_locations() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("(foo))", "unexpected `)`", "1:6", ")"),
        ("a\n]", "unexpected `]`", "2:1", "]"),
        ("(a]", "`]` does not match `(`", "1:3", "]"),
        ("[a)", "`)` does not match `[`", "1:3", ")"),
        ("#(a]", "`]` does not match `#(`", "1:4", "]"),
        ("(a\n (b)", "unterminated list: missing `)`", "1:1", "("),
        ("x [a", "unterminated list: missing `]`", "1:3", "["),
        ("#(1", "unterminated vector: missing `)`", "1:1", "#("),
        (
            "#u8(1",
            "unterminated bytevector: missing `)`",
            "1:1",
            "#u8(",
        ),
        ("(x \"abc", "unterminated string: missing `\"`", "1:4", "\""),
        ("|abc", "unterminated `|` symbol: missing `|`", "1:1", "|"),
        (
            "a #| b #| c |#",
            "unterminated block comment: missing `|#`",
            "1:3",
            "#|",
        ),
        ("(a 'b ')", "expected a datum after `'`", "1:7", "'"),
        ("(a ,@)", "expected a datum after `,@`", "1:4", ",@"),
        ("`", "expected a datum after `` ` ``", "1:1", "`"),
        ("(a #;)", "expected a datum after `#;`", "1:4", "#;"),
        ("#;", "expected a datum after `#;`", "1:1", "#;"),
        ("(. a)", "misplaced `.`", "1:2", "."),
        (".", "misplaced `.`", "1:1", "."),
        (
            "(a . b c)",
            "only one datum may follow `.` in a dotted list",
            "1:8",
            "c",
        ),
        ("(a . b . c)", "misplaced `.`", "1:8", "."),
        ("(a .)", "expected a datum after `.`", "1:4", "."),
        ("#(a . b)", "misplaced `.`", "1:5", "."),
        ("(a '.)", "misplaced `.`", "1:5", "."),
        (
            "#u8(1 256)",
            "bytevector element must be an exact integer from 0 to 255",
            "1:7",
            "256",
        ),
        (
            "#u8(-1)",
            "bytevector element must be an exact integer from 0 to 255",
            "1:5",
            "-1",
        ),
        (
            "#u8(a)",
            "bytevector element must be an exact integer from 0 to 255",
            "1:5",
            "a",
        ),
        (
            "#u8((1))",
            "bytevector element must be an exact integer from 0 to 255",
            "1:5",
            "(1)",
        ),
        (
            "#u8 (1)",
            "bad `#` syntax: `#u8` must be followed by `(`",
            "1:1",
            "#u8",
        ),
        ("# a", "bad `#` syntax: `#` alone", "1:1", "#"),
        ("#", "bad `#` syntax: `#` alone", "1:1", "#"),
        ("#foo", "bad `#` syntax `#foo`", "1:1", "#foo"),
        ("#truex", "bad `#` syntax `#truex`", "1:1", "#truex"),
        ("(#xfg)", "bad number syntax `#xfg`", "1:2", "#xfg"),
        (
            "x 1/0",
            "division by zero in a number literal",
            "1:3",
            "1/0",
        ),
        (
            "#e+inf.0",
            "an infinity or NaN cannot be exact",
            "1:1",
            "#e+inf.0",
        ),
        (
            "(+ 1 #e1e200000)",
            "the exponent of an exact number literal is too large",
            "1:6",
            "#e1e200000",
        ),
        ("#\\foo", "unknown character name `#\\foo`", "1:1", "#\\foo"),
        (
            "#\\xD800",
            "`#\\xD800` is not a Unicode scalar value",
            "1:1",
            "#\\xD800",
        ),
        ("#\\", "expected a character after `#\\`", "1:1", "#\\"),
        ("\"a\\qb\"", "unknown escape `\\q` in string", "1:3", "\\q"),
        (
            "|a\\qb|",
            "unknown escape `\\q` in `|` symbol",
            "1:3",
            "\\q",
        ),
        (
            "\"\\x41\"",
            "bad `\\x` escape: expected hex digits ended by `;`",
            "1:2",
            "\\x41",
        ),
        (
            "\"\\x;\"",
            "bad `\\x` escape: expected hex digits ended by `;`",
            "1:2",
            "\\x",
        ),
        (
            "\"\\xD800;\"",
            "bad `\\x` escape: #xD800 is not a Unicode scalar value",
            "1:2",
            "\\xD800;",
        ),
        (
            "\"a\\  b\"",
            "bad escape: `\\` followed by spaces must end the line",
            "1:3",
            "\\  ",
        ),
        ("#!foo", "unknown directive `#!foo`", "1:1", "#!foo"),
        ("λ \"é\\é\"", "unknown escape `\\é` in string", "1:5", "\\é"),
    ];
    for &(text, msg, loc, under) in cases {
        let (m, l, u) = fail(text);
        assert_eq!(
            (m.as_str(), l.as_str(), u.as_str()),
            (msg, loc, under),
            "input {text:?}"
        );
    }
}

#[test]
fn reader_messages_quote_source_text_safely() {
    assert_eq!(err_msg("#`"), "bad `#` syntax `` #` ``");
    assert_eq!(err_msg("#\0"), "bad `#` syntax `#\\u{0}`");
    let long = format!("#{}", "9".repeat(100));
    assert_eq!(
        err_msg(&long),
        format!("bad `#` syntax `#{}...`", "9".repeat(39))
    );
}

#[test]
fn reader_mismatch_note_names_the_opener() {
    let mut sm = SourceMap::new();
    let e = read_str(&mut sm, "m.valk", "(define (f)\n  [g x)").unwrap_err();
    assert_eq!(e.label.as_deref(), Some("expected `]`"));
    assert_eq!(e.notes, ["the list opened with `[` at line 2, column 3"]);
    assert_eq!(sm.location(e.span.unwrap()), "m.valk:2:7");
}

#[test]
fn reader_first_error_wins() {
    assert_eq!(err_msg("(a)) (b"), "unexpected `)`");
    assert_eq!(err_msg("(a #\\bogus"), "unknown character name `#\\bogus`");
}

#[test]
fn reader_incomplete_input() {
    for text in [
        "(",
        "(define (f x)\n  (+ x 1)",
        "[a",
        "#(1 2",
        "#u8(",
        "\"abc",
        "\"abc\\",
        "|sym",
        "#| comment",
        "#| a #| b |#",
        "'",
        "(a `",
        "#;",
        "(a . ",
        "(a #;",
        "\"a\\\n",
    ] {
        assert!(is_incomplete(text), "{text:?} should be incomplete");
    }
    for text in [
        "",
        "a",
        "(a)",
        "(a))",
        "(a]",
        "\"a\"",
        "; (",
        "#| x |#",
        "#|x|# (",
        "(a \"b\" #\\x)",
        "#\\(",
        "(a #foo",
        ")",
        "#u8(300",
    ] {
        let expect = text == "#|x|# (";
        assert_eq!(is_incomplete(text), expect, "{text:?}");
    }
}

#[test]
fn reader_deep_nesting_is_an_error_not_a_crash() {
    for text in [
        "(".repeat(100_000),
        "[".repeat(100_000),
        "#(".repeat(100_000),
        "'".repeat(100_000) + "x",
        "#;".repeat(100_000) + "x",
        "(".repeat(100_000) + &")".repeat(100_000),
    ] {
        let msg = err_msg(&text);
        assert_eq!(
            msg,
            format!("too deeply nested (more than {MAX_DEPTH} levels)")
        );
        assert!(!is_incomplete(&text));
    }
}

#[test]
fn reader_max_depth_tree_can_be_used_on_a_small_stack() {
    // The deepest accepted tree must survive Drop/Clone/PartialEq on a
    // thread with a modest stack (the expander runs on a larger one).
    let text = "(".repeat(MAX_DEPTH) + &")".repeat(MAX_DEPTH);
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || {
            let d = read(&text);
            let copy = d.clone();
            assert!(copy == d);
            drop(copy);
            drop(d);
        })
        .unwrap()
        .join()
        .unwrap();
    // A long flat list is no problem at all.
    let flat = format!("({})", "x ".repeat(200_000));
    assert_eq!(read(&flat)[0].list().unwrap().len(), 200_000);
}

#[test]
fn reader_never_slices_inside_a_character() {
    for text in [
        "#\\λλ",
        "#λ",
        "#\\xλ",
        "\"\\λ\"",
        "(é]",
        "#u8(é)",
        "#eé",
        "é)",
        "#|é",
        "|é\\",
        "\"é\\xé;\"",
        "\u{a0}x\u{2003}(",
        "#!λ",
        "#\\x41λ",
        "#xλ",
    ] {
        let mut sm = SourceMap::new();
        if let Err(e) = read_str(&mut sm, "u.valk", text) {
            let span = e.span.unwrap();
            assert!(text.is_char_boundary(span.start as usize), "{text:?}");
            assert!(text.is_char_boundary(span.end as usize), "{text:?}");
        }
        let _ = is_incomplete(text);
    }
    // Non-ASCII whitespace separates datums.
    assert_eq!(r("a\u{a0}b"), "a b");
}

#[test]
fn reader_numbers_of_the_whole_tower() {
    // Numbers other than fixnums and flonums keep their canonical text.
    for (text, shown) in [
        ("#e1.5", "3/2n"),
        ("1/2", "1/2n"),
        ("-6/4", "-3/2n"),
        ("4/2", "2"),
        ("1+2i", "1+2in"),
        ("+i", "0+1in"),
        ("1.5-2.5i", "1.5-2.5in"),
        ("99999999999999999999", "99999999999999999999n"),
        ("#x-FFFFFFFFFFFFFFFFFF", "-4722366482869645213695n"),
        ("#e1e3", "1000"),
        ("1@0", "1"),
    ] {
        let mut sm = SourceMap::new();
        let d = read_str(&mut sm, "n", text).unwrap();
        assert_eq!(show(&d[0]), shown, "{text}");
    }
}

/// `read_one` on `text`, shown: `datum@end`, `eof@n`, `incomplete` or
/// `error(message)@start..end`.
fn one(text: &str) -> String {
    one_with(text, &mut ReadOptions::default())
}

fn one_with(text: &str, opts: &mut ReadOptions) -> String {
    match read_one(text, opts) {
        ReadOne::Datum(d, end) => format!("{}@{end}", show(&d)),
        ReadOne::Eof(n) => format!("eof@{n}"),
        ReadOne::Incomplete => "incomplete".to_string(),
        ReadOne::Error {
            message,
            start,
            end,
        } => format!("error({message})@{start}..{end}"),
    }
}

#[test]
fn read_one_reads_one_datum_and_stops_before_the_delimiter() {
    assert_eq!(one("(a b) c"), "(a b)@5");
    assert_eq!(one("  ; c\n #| x |# #;(skip) 42 rest"), "42@26");
    assert_eq!(one("12"), "12@2");
    assert_eq!(one("abc)"), "abc@3");
    assert_eq!(one("\"s\" x"), "\"s\"@3");
    assert_eq!(one("'x"), "(quote x)@2");
    assert_eq!(one(""), "eof@0");
    assert_eq!(one("  ; only a comment"), "eof@18");
    assert_eq!(one("#| a |# #;x "), "eof@12");
    // A port's text is not a script: no `#!/...` line is skipped.
    assert_eq!(one("#! /x"), "error(unknown directive `#!`)@0..2");
    for text in [
        "(", "(a b", "\"abc", "#| x", "'", "#;", "#0=", "#(1", "|ab", "(a . ",
    ] {
        assert_eq!(one(text), "incomplete", "{text:?}");
    }
    assert_eq!(one(")"), "error(unexpected `)`)@0..1");
    assert_eq!(one("  (a]"), "error(`]` does not match `(`)@4..5");
    assert_eq!(
        one("#\\bogus x"),
        "error(unknown character name `#\\bogus`)@0..7"
    );
    // A token cut by the end of the text errs up to the end: the caller
    // re-reads with more input.
    assert_eq!(one("#\\spa"), "error(unknown character name `#\\spa`)@0..5");
    assert_eq!(one("\"\\x4"), "incomplete");
    // Spans are offsets into the text.
    match read_one(" (a)", &mut ReadOptions::default()) {
        ReadOne::Datum(d, 4) => assert_eq!((d.span.start, d.span.end), (1, 4)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_one_keeps_fold_case_state() {
    let mut opts = ReadOptions::default();
    assert_eq!(one_with("#!fold-case ABC", &mut opts), "abc@15");
    assert!(opts.fold_case);
    assert_eq!(one_with("XyZ #!no-fold-case", &mut opts), "xyz@3");
    assert_eq!(one_with(" #!no-fold-case", &mut opts), "eof@15");
    assert!(!opts.fold_case);
    assert_eq!(one_with("XyZ", &mut opts), "XyZ@3");
    assert_eq!(
        one_with("#!FOLD-CASE", &mut opts),
        "error(unknown directive `#!FOLD-CASE`)@0..11"
    );
    // Per file in `read_all`: each file starts without folding.
    assert_eq!(r("#!fold-case A"), "a");
    assert_eq!(r("A"), "A");
}

#[test]
fn read_one_returns_datum_labels() {
    assert_eq!(one("#0=(a . #0#)"), "#0=(a . #0#)@12");
    assert_eq!(one("(#1=(x) #1#)"), "(#1=(x) #1#)@12");
    assert_eq!(one("#12=#(1 #12#)"), "#12=#(1 #12#)@13");
    assert_eq!(one("(#0=a #0# #1=#0#)"), "(#0=a #0# #1=#0#)@17");
    assert_eq!(
        one("#0#"),
        "error(reference to undefined datum label `#0#`)@0..3"
    );
    assert_eq!(
        one("(#0# #0=b)"),
        "error(reference to undefined datum label `#0#`)@1..4"
    );
    assert_eq!(
        one("(#0=a #0=b)"),
        "error(datum label `#0=` is defined twice)@6..9"
    );
    assert_eq!(
        one("#0=#0#"),
        "error(datum label `#0=` refers to itself)@3..6"
    );
    assert_eq!(one("(#0#a)"), "error(bad `#` syntax `#0#a`)@1..5");
    assert_eq!(one("#0=)"), "error(expected a datum after `#0=`)@0..3");
    assert_eq!(
        one("#99999999999=a"),
        "error(datum label `#99999999999=` is too large)@0..13"
    );
    // Labels are scoped to one top-level datum...
    assert_eq!(r("#0=a #0=b"), "a b");
    // ...and those inside a datum comment are forgotten with it.
    assert_eq!(
        err_msg("(#;#0=a #0#)"),
        "reference to undefined datum label `#0#`"
    );
    assert_eq!(r("(#0=a #;#0# #0#)"), "(a a)");
    // `#1` without `=`/`#` is still bad syntax.
    assert_eq!(err_msg("#1"), "bad `#` syntax `#1`");
}

#[test]
fn program_source_gets_labels_resolved() {
    assert_eq!(r("'(#0=(a) #0#)"), "(quote ((a) (a)))");
    assert_eq!(r("#0=(1 #1=2 #1#) #0=x"), "(1 2 2) x");
    assert_eq!(r("(a . #0=(b)) "), "(a b)");
    assert_eq!(r("(#0=(b) . #0#)"), "((b) b)");
    assert_eq!(r("#(#0=\"s\" #0#)"), "#(\"s\" \"s\")");
    for (text, at) in [
        ("#0=(a . #0#)", "1:9"),
        ("'(x #0=#(1 (#0#)))", "1:13"),
        ("(#0=(a #1=(#1#)))", "1:12"),
    ] {
        let (m, loc, under) = fail(text);
        assert_eq!(
            m,
            "circular datum labels are supported by `read`, not in program source"
        );
        assert_eq!(loc, at, "{text}");
        assert!(under.ends_with('#'), "{under}");
    }
    // Copies that double at every label are bounded.
    let mut doubling = String::from("(#0=(a a)");
    for i in 1..40 {
        doubling.push_str(&format!(" #{i}=(#{}# #{}#)", i - 1, i - 1));
    }
    doubling.push(')');
    assert_eq!(
        err_msg(&doubling),
        "datum labels expand to too large a datum"
    );
    // Copies nest no deeper than MAX_DEPTH.
    let deep = "(".repeat(600) + ")".repeat(600).as_str();
    let text = format!("(#0={deep} {}#0#{})", "(".repeat(600), ")".repeat(600));
    assert_eq!(
        err_msg(&text),
        format!("too deeply nested (more than {MAX_DEPTH} levels)")
    );
}

#[test]
fn line_comments_end_at_cr_too() {
    assert_eq!(r("a ; c\rb ; d\r\nc"), "a b c");
    let (_, loc, _) = fail("(a)\r(b)\r  (c))");
    assert_eq!(loc, "3:6");
    let mut sm = SourceMap::new();
    let e = read_str(&mut sm, "m.valk", "(define (f)\r  [g x)").unwrap_err();
    assert_eq!(e.notes, ["the list opened with `[` at line 2, column 3"]);
}
