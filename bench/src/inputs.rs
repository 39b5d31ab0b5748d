//! Input files for the I/O programs (`readline`, `readsexp`): generated
//! deterministically (a fixed seed, our own generator, so every machine
//! gets the same bytes and the expected results in the program headers hold)
//! into the work directory, once per size, and reused by later runs.
//!
//! A program asks for one with `;;; input: KIND BYTES` (and
//! `;;; quick-input:`); it then runs with the directory holding the file as
//! its working directory and opens it by its fixed name: `lines.txt` for
//! `text`, `data.sexp` for `sexp` (see `bench/README.md`).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bumped whenever the generators change, so stale cached files are not
/// reused (the expected results in the headers change with it).
const GENERATOR_VERSION: u32 = 3;

/// What a generated file contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Lines of text: words, numbers, UTF-8 text, empty lines.
    Text,
    /// Top-level S-expressions typical of data files.
    Sexp,
}

/// An input file a program reads: its kind and (approximate) size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputSpec {
    pub kind: InputKind,
    /// The file is the shortest whole-line (or whole-datum) prefix of the
    /// generated stream that has at least this many bytes.
    pub bytes: u64,
}

impl InputSpec {
    /// Parses a header value such as `text 50000000`.
    pub fn parse(value: &str) -> Result<InputSpec, String> {
        let mut words = value.split_whitespace();
        let kind = match words.next() {
            Some("text") => InputKind::Text,
            Some("sexp") => InputKind::Sexp,
            other => {
                return Err(format!(
                    "input kind must be `text` or `sexp`, got `{}`",
                    other.unwrap_or("")
                ))
            }
        };
        let bytes = words
            .next()
            .and_then(|b| b.parse::<u64>().ok())
            .filter(|&b| b > 0)
            .ok_or_else(|| format!("input `{value}`: expected `KIND BYTES`"))?;
        if words.next().is_some() {
            return Err(format!("input `{value}`: expected `KIND BYTES`"));
        }
        Ok(InputSpec { kind, bytes })
    }

    /// The name the program opens (relative to its working directory).
    pub fn file_name(self) -> &'static str {
        match self.kind {
            InputKind::Text => "lines.txt",
            InputKind::Sexp => "data.sexp",
        }
    }

    /// The cache directory for this input, under `inputs_dir`.
    pub fn dir(self, inputs_dir: &Path) -> PathBuf {
        let kind = match self.kind {
            InputKind::Text => "text",
            InputKind::Sexp => "sexp",
        };
        inputs_dir.join(format!("{kind}-{}-g{GENERATOR_VERSION}", self.bytes))
    }

    /// Makes sure the file exists (generating it if not) and returns the
    /// directory holding it. The file is written under a temporary name and
    /// renamed, so a concurrent or interrupted run never sees half of it.
    pub fn ensure(self, inputs_dir: &Path) -> Result<PathBuf, String> {
        let dir = self.dir(inputs_dir);
        let path = dir.join(self.file_name());
        if path.is_file() {
            return Ok(dir);
        }
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(".{}.{}.tmp", self.file_name(), std::process::id()));
        let file =
            fs::File::create(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let mut out = BufWriter::new(file);
        let written = match self.kind {
            InputKind::Text => generate_text(&mut out, self.bytes),
            InputKind::Sexp => generate_sexp(&mut out, self.bytes),
        };
        written
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        drop(out);
        fs::rename(&tmp, &path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(dir)
    }
}

/// SplitMix64: tiny, fast and fully specified, so the files are the same
/// on every machine and with every Rust version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

#[rustfmt::skip]
const ASCII_WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "scheme", "lambda",
    "continuation", "procedure", "interpreter", "compiler", "garbage", "collection", "port",
    "character", "string", "symbol", "vector", "record", "benchmark", "Valk", "Chez", "Racket",
    "Guile", "CHICKEN", "Gambit", "R7RS", "UTF-8", "input/output", "e.g.", "don't", "it's",
];

/// Non-ASCII words: 2-, 3- and 4-byte UTF-8 sequences.
#[rustfmt::skip]
const UTF8_WORDS: &[&str] = &[
    "café", "naïve", "Straße", "façade", "déjà-vu", "Zürich", "smörgåsbord", "λ", "αβγ",
    "Ελληνικά", "привет", "мир", "日本語", "漢字", "東京", "한국어", "שלום", "مرحبا", "→", "€5", "½",
    "π≈3.14", "🙂", "🚀",
];

const PUNCTUATION: &[&str] = &[",", ".", ";", ":", "!", "?", ")", "\""];

/// Lines of 0 to a few hundred characters: mostly words, some numbers,
/// some UTF-8 words, about 6% empty lines, a few long lines; every line
/// ends with a newline.
fn generate_text(out: &mut impl Write, bytes: u64) -> std::io::Result<()> {
    let mut rng = Rng(0x5EED_0001);
    let mut written = 0u64;
    let mut line = String::new();
    while written < bytes {
        line.clear();
        let words = match rng.below(100) {
            0..=5 => 0,
            6..=7 => 40 + rng.below(80),
            _ => 1 + rng.below(18),
        };
        for i in 0..words {
            if i > 0 {
                line.push(' ');
            }
            match rng.below(100) {
                0..=71 => line.push_str(rng.pick(ASCII_WORDS)),
                72..=83 => line.push_str(&rng.below(1_000_000).to_string()),
                84..=87 => {
                    let n = rng.below(100_000);
                    line.push_str(&format!("{}.{:02}", n / 100, n % 100));
                }
                _ => line.push_str(rng.pick(UTF8_WORDS)),
            }
            if rng.chance(8) {
                line.push_str(rng.pick(PUNCTUATION));
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    Ok(())
}

#[rustfmt::skip]
const SYMBOLS: &[&str] = &[
    "id", "name", "type", "value", "point", "x", "y", "z", "color", "red", "green", "blue",
    "children", "parent", "attributes", "width", "height", "depth", "make-point", "string?",
    "set-car!", "list->vector", "<=", ">=", "+", "-", "...", "*global*", "%internal", "a.b",
    "foo-bar-baz", "node", "leaf", "edge", "weight", "label", "tags", "created", "modified",
    "author", "version", "define", "lambda", "if", "let*", "quote", "unquote", "k1", "v2",
    "ThisIsMixedCase", "with_underscore", "&rest", "~tilde", "^caret", "a:b", "$dollar",
];

/// String contents: ASCII and UTF-8 words; escapes are added separately.
#[rustfmt::skip]
const STRING_WORDS: &[&str] = &[
    "hello", "world", "Alice", "Bob", "data", "file", "line", "path/to/file.txt", "42", "3.14",
    "café", "Straße", "日本語", "привет", "λx.x", "🙂", "a b c", "", "end",
];

const ESCAPES: &[&str] = &["\\\"", "\\\\", "\\n", "\\t"];

#[rustfmt::skip]
const CHARS: &[&str] = &[
    "#\\a", "#\\z", "#\\A", "#\\Z", "#\\0", "#\\9", "#\\space", "#\\newline", "#\\tab", "#\\(",
    "#\\)", "#\\;", "#\\\"", "#\\#", "#\\λ", "#\\é", "#\\日",
];

/// Data-file-like S-expressions: records of `(key value)` fields whose
/// values are symbols, strings with escapes, fixnums, flonums, booleans,
/// characters, vectors and nested lists; one top-level datum per record,
/// indented, with a comment line now and then.
fn generate_sexp(out: &mut impl Write, bytes: u64) -> std::io::Result<()> {
    let mut rng = Rng(0x5EED_0002);
    let mut written = 0u64;
    let mut text = String::new();
    let mut serial = 0u64;
    while written < bytes {
        text.clear();
        if rng.chance(5) {
            text.push_str("; record ");
            text.push_str(&serial.to_string());
            text.push('\n');
        }
        text.push_str("(record ");
        text.push_str(&serial.to_string());
        serial += 1;
        for _ in 0..2 + rng.below(7) {
            text.push_str("\n  (");
            text.push_str(rng.pick(SYMBOLS));
            for _ in 0..1 + rng.below(3) {
                text.push(' ');
                datum(&mut rng, &mut text, 0);
            }
            text.push(')');
        }
        text.push_str(")\n");
        out.write_all(text.as_bytes())?;
        written += text.len() as u64;
    }
    Ok(())
}

fn datum(rng: &mut Rng, out: &mut String, depth: u32) {
    // Past depth 4 only atoms, so records stay of data-file size.
    let kinds = if depth < 4 { 100 } else { 80 };
    match rng.below(kinds) {
        0..=19 => out.push_str(rng.pick(SYMBOLS)),
        20..=31 => {
            out.push('"');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(rng.pick(STRING_WORDS));
                if rng.chance(15) {
                    out.push_str(rng.pick(ESCAPES));
                }
            }
            out.push('"');
        }
        32..=51 => {
            let n = match rng.below(10) {
                0..=5 => rng.below(100) as i64,
                6..=8 => rng.below(1_000_000) as i64,
                _ => rng.below(1_000_000_000) as i64,
            };
            let n = if rng.chance(20) { -n } else { n };
            out.push_str(&n.to_string());
        }
        52..=63 => {
            let n = rng.below(10_000_000);
            let sign = if rng.chance(20) { "-" } else { "" };
            match rng.below(10) {
                0..=6 => out.push_str(&format!("{sign}{}.{:03}", n / 1000, n % 1000)),
                7 => out.push_str(&format!(
                    "{sign}{}.{}e{}",
                    n % 10,
                    n / 10 % 1000,
                    rng.below(6)
                )),
                // At most three decimals in all, so that 1000x is an
                // integer: readers that are not correctly rounded (CHICKEN
                // 5.3 reads 9.95e-2 one ulp off) still give the checksum
                // of readsexp.scm.
                8 => out.push_str(&format!(
                    "{sign}{}.{}e-{}",
                    n % 10,
                    n / 10 % 10,
                    1 + rng.below(2)
                )),
                _ => out.push_str(&format!("{sign}0.{}", n % 1000 + 1)),
            }
        }
        64..=69 => out.push_str(if rng.chance(50) { "#t" } else { "#f" }),
        70..=75 => out.push_str(rng.pick(CHARS)),
        76..=79 => out.push_str("()"),
        80..=85 => {
            out.push_str("#(");
            for i in 0..rng.below(6) {
                if i > 0 {
                    out.push(' ');
                }
                // Vectors in data files mostly hold atoms.
                datum(rng, out, depth + 4);
            }
            out.push(')');
        }
        _ => {
            out.push('(');
            for i in 0..1 + rng.below(5) {
                if i > 0 {
                    out.push(' ');
                }
                datum(rng, out, depth + 1);
            }
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let s = InputSpec::parse("text 1000").unwrap();
        assert_eq!((s.kind, s.bytes), (InputKind::Text, 1000));
        assert_eq!(s.file_name(), "lines.txt");
        assert_eq!(InputSpec::parse("sexp 5").unwrap().file_name(), "data.sexp");
        assert!(InputSpec::parse("json 5").is_err());
        assert!(InputSpec::parse("text").is_err());
        assert!(InputSpec::parse("text 5 6").is_err());
    }

    #[test]
    fn generation_is_deterministic_and_sized() {
        for kind in [InputKind::Text, InputKind::Sexp] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            match kind {
                InputKind::Text => {
                    generate_text(&mut a, 20_000).unwrap();
                    generate_text(&mut b, 20_000).unwrap();
                }
                InputKind::Sexp => {
                    generate_sexp(&mut a, 20_000).unwrap();
                    generate_sexp(&mut b, 20_000).unwrap();
                }
            }
            assert_eq!(a, b);
            assert!(
                a.len() >= 20_000 && a.len() < 25_000,
                "{kind:?} {}",
                a.len()
            );
            let text = String::from_utf8(a).unwrap();
            assert!(text.ends_with('\n'));
            assert!(!text.is_ascii(), "{kind:?} has UTF-8");
        }
    }

    #[test]
    fn ensure_caches_the_file() {
        let dir = std::env::temp_dir().join(format!("valk-bench-inputs-{}", std::process::id()));
        let spec = InputSpec::parse("sexp 3000").unwrap();
        let d = spec.ensure(&dir).unwrap();
        let path = d.join("data.sexp");
        let first = fs::read(&path).unwrap();
        assert!(first.len() >= 3000);
        let again = spec.ensure(&dir).unwrap();
        assert_eq!(again, d);
        assert_eq!(fs::read(&path).unwrap(), first);
        let _ = fs::remove_dir_all(&dir);
    }
}
