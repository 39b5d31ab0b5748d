//! Property tests for the reader: no input makes it panic (through
//! `read_all` or the incremental `read_one`), errors point inside the text,
//! and printed datums read back to themselves.
//!
//! The case count defaults to 2,000 per property; set `PROPTEST_CASES` for a
//! longer campaign, e.g. `PROPTEST_CASES=200000 cargo test --release --test fuzz_reader`.

use proptest::prelude::*;
use valk::syntax::datum::{Datum, DatumKind};
use valk::syntax::reader::{is_incomplete, read_one, read_str, ReadOne, ReadOptions};
use valk::syntax::source::SourceMap;
use valk_runtime::value::{FIXNUM_MAX, FIXNUM_MIN};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // Failures are shrunk and printed; no regression files are written
        // into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The invariants every input must satisfy (shared with the in-process
/// fuzz target, `valk-fuzz inproc --target reader`).
fn check_any_input(text: &str) {
    valk_gen::fuzz::check_reader_input(text);
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    "[",
    "]",
    "'",
    "`",
    ",",
    ",@",
    "#(",
    "#u8(",
    "\"",
    "\"abc\"",
    "\"a\\nb\"",
    "\"\\x41;\"",
    "\"\\x\"",
    "\"a\\\n  b\"",
    "\\",
    "#\\a",
    "#\\space",
    "#\\x41",
    "#\\",
    "#\\λ",
    "#\\(",
    "#\\)",
    "1",
    "-2",
    "1.5",
    ".5",
    "1e3",
    "#xff",
    "#e1.5",
    "#i3",
    "1/2",
    "+inf.0",
    "99999999999999999999",
    "255",
    "256",
    "foo",
    "λ",
    "|a b|",
    "|",
    "||",
    ".",
    "...",
    "+",
    "-",
    "1+",
    ";c\n",
    ";",
    "#|",
    "|#",
    "#| x |#",
    "#;",
    "#t",
    "#f",
    "#true",
    "#",
    "#!fold-case",
    "#!no-fold-case",
    "#0=",
    "#0#",
    "#1=",
    "#1#",
    "#01=",
    "#0#x",
    "#x",
    "#e",
    "\n",
    " ",
    "é",
    "\u{0}",
    "\r\n",
    "{",
    "}",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(TOKENS).prop_map(str::to_string),
        1 => "[a-z#\\\\|;\"()\\[\\]'`,.@ 0-9λ]{1,4}",
    ]
}

fn token_soup() -> impl Strategy<Value = String> {
    let piece = (
        token(),
        proptest::sample::select(&["", " ", " ", " ", "\n"][..]),
    );
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| {
        pieces
            .into_iter()
            .map(|(t, sep)| t + sep)
            .collect::<String>()
    })
}

// ---- printing datums for round trips ----

fn print(d: &Datum, out: &mut String) {
    match &d.kind {
        DatumKind::Int(n) => out.push_str(&n.to_string()),
        DatumKind::Float(x) => out.push_str(&format!("{x:?}")),
        DatumKind::Number(text) => out.push_str(text),
        DatumKind::Bool(b) => out.push_str(if *b { "#t" } else { "#f" }),
        DatumKind::Char(c) => out.push_str(&format!("#\\x{:x}", *c as u32)),
        DatumKind::Str(s) => {
            out.push('"');
            escape(s, '"', out);
            out.push('"');
        }
        DatumKind::Symbol(s) => {
            out.push('|');
            escape(s, '|', out);
            out.push('|');
        }
        DatumKind::List(items, tail) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print(item, out);
            }
            if let Some(t) = tail {
                out.push_str(" . ");
                print(t, out);
            }
            out.push(')');
        }
        DatumKind::Vector(items) => {
            out.push_str("#(");
            for item in items {
                print(item, out);
                out.push(' ');
            }
            out.push(')');
        }
        DatumKind::Bytevector(bytes) => {
            out.push_str("#u8(");
            for b in bytes {
                out.push_str(&format!("{b} "));
            }
            out.push(')');
        }
        DatumKind::Labeled(n, x) => {
            out.push_str(&format!("#{n}="));
            print(x, out);
        }
        DatumKind::LabelRef(n) => out.push_str(&format!("#{n}#")),
    }
}

fn escape(s: &str, quote: char, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:x};", c as u32)),
            c => out.push(c),
        }
    }
}

/// Structural equality, ignoring spans.
fn same(a: &Datum, b: &Datum) -> bool {
    use DatumKind::*;
    match (&a.kind, &b.kind) {
        (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
        (List(xs, xt), List(ys, yt)) => {
            xs.len() == ys.len()
                && xs.iter().zip(ys).all(|(x, y)| same(x, y))
                && match (xt, yt) {
                    (None, None) => true,
                    (Some(x), Some(y)) => same(x, y),
                    _ => false,
                }
        }
        (Vector(xs), Vector(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (x, y) => x == y,
    }
}

fn mk(kind: DatumKind) -> Datum {
    Datum::new(kind, Default::default())
}

fn atom() -> impl Strategy<Value = Datum> {
    prop_oneof![
        (FIXNUM_MIN..=FIXNUM_MAX).prop_map(DatumKind::Int),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(DatumKind::Float),
        any::<bool>().prop_map(DatumKind::Bool),
        any::<char>().prop_map(DatumKind::Char),
        any::<String>().prop_map(DatumKind::Str),
        any::<String>().prop_map(DatumKind::Symbol),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(DatumKind::Bytevector),
    ]
    .prop_map(mk)
}

fn datum() -> impl Strategy<Value = Datum> {
    atom().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| mk(DatumKind::List(items, None))),
            (proptest::collection::vec(inner.clone(), 1..5), atom())
                .prop_map(|(items, tail)| mk(DatumKind::List(items, Some(Box::new(tail))))),
            proptest::collection::vec(inner, 0..6).prop_map(|items| mk(DatumKind::Vector(items))),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_any_input(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,80}") {
        check_any_input(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check_any_input(&text);
    }

    #[test]
    fn read_one_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_any_input(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn read_one_never_panics_on_token_soup(text in token_soup()) {
        check_any_input(&text);
        // Every prefix too (what a port sees before refilling its buffer).
        for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)).step_by(7) {
            check_any_input(&text[..cut]);
        }
    }

    #[test]
    fn tokens_not_starting_like_a_number_are_symbols(
        text in "[^0-9+.#\\-\\s()\\[\\]\";|'`,][^\\s()\\[\\]\";|]{0,12}"
    ) {
        // The reader's symbol fast path skips the number parser for them.
        prop_assert_eq!(valk_runtime::num::text::parse_number(&text, 10), Ok(None));
        let mut sm = SourceMap::new();
        if let Ok(d) = read_str(&mut sm, "s", &text) {
            prop_assert!(matches!(d[0].kind, DatumKind::Symbol(_)), "{:?}", d[0]);
        }
    }

    #[test]
    fn integers_round_trip(n in FIXNUM_MIN..=FIXNUM_MAX) {
        let mut sm = SourceMap::new();
        let d = read_str(&mut sm, "n", &n.to_string()).unwrap();
        prop_assert_eq!(&d[0].kind, &DatumKind::Int(n));
        if n >= 0 {
            let d = read_str(&mut sm, "x", &format!("#x{n:x}")).unwrap();
            prop_assert_eq!(&d[0].kind, &DatumKind::Int(n));
            let d = read_str(&mut sm, "b", &format!("#b{n:b}")).unwrap();
            prop_assert_eq!(&d[0].kind, &DatumKind::Int(n));
        }
    }

    #[test]
    fn integers_past_fixnum_range_are_bignums(
        n in prop_oneof![FIXNUM_MAX as i128 + 1..=i128::MAX, i128::MIN..FIXNUM_MIN as i128]
    ) {
        let mut sm = SourceMap::new();
        let d = read_str(&mut sm, "n", &n.to_string()).unwrap();
        prop_assert_eq!(&d[0].kind, &DatumKind::Number(n.to_string()));
    }

    #[test]
    fn floats_round_trip(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let mut sm = SourceMap::new();
        for text in [format!("{x:?}"), format!("{x:e}")] {
            let d = read_str(&mut sm, "f", &text).unwrap();
            match d[0].kind {
                DatumKind::Float(y) => prop_assert_eq!(x.to_bits(), y.to_bits(), "{}", text),
                ref k => prop_assert!(false, "{} read as {:?}", text, k),
            }
        }
    }

    #[test]
    fn printed_datums_read_back(d in datum()) {
        let mut text = String::new();
        print(&d, &mut text);
        let mut sm = SourceMap::new();
        let back = match read_str(&mut sm, "p", &text) {
            Ok(back) => back,
            Err(e) => return Err(TestCaseError::fail(format!("{text:?}: {}", e.render(&sm)))),
        };
        prop_assert_eq!(back.len(), 1);
        prop_assert!(same(&d, &back[0]), "{:?} read back as {:?}", text, back[0]);
        prop_assert_eq!(back[0].span.end as usize, text.len());
        prop_assert!(!is_incomplete(&text));
        // The incremental reader reads the same datum, up to the end.
        match read_one(&text, &mut ReadOptions::default()) {
            ReadOne::Datum(one, end) => {
                prop_assert!(same(&d, &one), "{:?} read_one as {:?}", text, one);
                prop_assert_eq!(end, text.len());
            }
            other => prop_assert!(false, "{:?} read_one as {:?}", text, other),
        }
        // Followed by a delimiter and more text, it stops before it.
        let more = format!("{text} (x)");
        match read_one(&more, &mut ReadOptions::default()) {
            ReadOne::Datum(one, end) => {
                prop_assert!(same(&d, &one));
                prop_assert_eq!(end, text.len());
            }
            other => prop_assert!(false, "{:?} read_one as {:?}", more, other),
        }
        // Every proper prefix that cuts a list open is incomplete input.
        if let Some(cut) = text.rfind(')') {
            prop_assert!(is_incomplete(&text[..cut]), "{:?}", &text[..cut]);
        }
    }
}
