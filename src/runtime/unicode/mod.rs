//! Unicode case folding (docs/unicode.md): simple folding for
//! `char-foldcase` and `char-ci=?`, full folding for `string-foldcase` and
//! `string-ci=?`. The tables are generated from the Unicode Character
//! Database by `gen_casefold.py` in this folder.

mod casefold_table;

use crate::error::{self, ErrorKind, Raised, VResult};
use crate::object;

pub use casefold_table::UNICODE_VERSION;
use casefold_table::{FULL, SIMPLE_RUNS};

/// Simple case folding (CaseFolding.txt statuses C and S): one character
/// to one character.
pub fn fold_simple(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let cp = c as u32;
    let i = SIMPLE_RUNS.partition_point(|r| r.0 <= cp);
    let Some(&(start, len, stride, delta)) = i.checked_sub(1).map(|i| &SIMPLE_RUNS[i]) else {
        return c;
    };
    let off = cp - start;
    if !off.is_multiple_of(stride as u32) || off / stride as u32 >= len as u32 {
        return c;
    }
    // The table maps scalar values to scalar values.
    char::from_u32(cp.wrapping_add_signed(delta)).unwrap_or(c)
}

/// Full case folding (statuses C and F), appended to `out`: some
/// characters fold to two or three (`ß` to `ss`).
pub fn fold_full_into(c: char, out: &mut impl Extend<char>) {
    if c.is_ascii() {
        out.extend([c.to_ascii_lowercase()]);
        return;
    }
    if let Ok(i) = FULL.binary_search_by_key(&c, |e| e.0) {
        out.extend(FULL[i].1.iter().copied().filter(|&x| x != '\0'));
        return;
    }
    // Characters with an F entry are exactly those whose S entry differs
    // from C, so past the F table simple folding is the C mapping.
    out.extend([fold_simple(c)]);
}

/// Full case folding of a sequence of characters.
pub fn fold_full(chars: impl IntoIterator<Item = char>) -> Vec<char> {
    let it = chars.into_iter();
    let mut out = Vec::with_capacity(it.size_hint().0);
    for c in it {
        fold_full_into(c, &mut out);
    }
    out
}

/// Decodes UTF-8 user data strictly (docs/unicode.md): invalid bytes are
/// an error, not U+FFFD. `base` is the offset of `bytes` in what the user
/// sees (a bytevector range's start), so the error names the right byte.
pub fn decode_utf8<'a>(who: &str, bytes: &'a [u8], base: usize) -> VResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        // An incomplete sequence at the end has no error length: all of
        // its (at most three) bytes are the offending ones.
        let len = e.error_len().unwrap_or(bytes.len() - at);
        invalid_utf8(who, base + at, &bytes[at..at + len])
    })
}

/// `WHO: invalid UTF-8 at byte N: #u8(...)`, with the offending sequence.
pub fn invalid_utf8(who: &str, offset: usize, bad: &[u8]) -> Raised {
    let bv = object::bytevector_from(bad);
    error::error(
        ErrorKind::Other,
        &format!("{who}: invalid UTF-8 at byte {offset}"),
        &[bv],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        fold_full(s.chars()).into_iter().collect()
    }

    #[test]
    fn simple_folding() {
        let cases = [
            ('A', 'a'),
            ('z', 'z'),
            ('1', '1'),
            ('Σ', 'σ'),
            ('ς', 'σ'),
            ('σ', 'σ'),
            ('ſ', 's'),
            ('ϐ', 'β'),
            ('µ', 'μ'),
            ('K', 'k'), // KELVIN SIGN
            ('Å', 'å'), // ANGSTROM SIGN
            ('ß', 'ß'),
            ('ẞ', 'ß'),
            ('İ', 'İ'), // only a Turkic (T) simple mapping
            ('ı', 'ı'),
            ('ᏸ', 'Ᏸ'), // Cherokee folds to uppercase
            ('ꭰ', 'Ꭰ'),
            ('Ā', 'ā'),
            ('ā', 'ā'),
            ('Į', 'į'),
            ('ᾈ', 'ᾀ'),
            ('\u{A7C4}', '\u{A794}'),
            ('𐐀', '𐐨'),
            ('𞤀', '𞤢'),
            ('\u{10FFFF}', '\u{10FFFF}'),
        ];
        for (c, f) in cases {
            assert_eq!(fold_simple(c), f, "fold_simple({c:?} U+{:X})", c as u32);
        }
    }

    #[test]
    fn full_folding() {
        assert_eq!(full("ΣΑΣ"), "σασ");
        assert_eq!(full("Straße"), "strasse");
        assert_eq!(full("ẞ"), "ss");
        assert_eq!(full("İ"), "i\u{307}");
        assert_eq!(full("ﬃ"), "ffi");
        assert_eq!(full("ᾈ"), "ἀι");
        assert_eq!(full("\u{390}"), "\u{3B9}\u{308}\u{301}");
        assert_eq!(full("ᏸ"), "Ᏸ");
        assert_eq!(full("Hello, World"), "hello, world");
    }

    /// The runs reproduce every mapping of a plain list, and fold to
    /// characters that are themselves folded.
    #[test]
    fn runs_are_consistent() {
        let mut prev_end = 0;
        for &(start, len, stride, delta) in SIMPLE_RUNS.iter() {
            assert!(start >= prev_end, "runs overlap at {start:X}");
            assert!(len >= 1 && (stride == 1 || stride == 2));
            prev_end = start + (len as u32 - 1) * stride as u32 + 1;
            for k in 0..len as u32 {
                let c = char::from_u32(start + k * stride as u32).unwrap();
                let f = fold_simple(c);
                assert_eq!(f as u32, (c as u32).wrapping_add_signed(delta));
                assert_eq!(fold_simple(f), f, "{:X} folds to unfolded", c as u32);
            }
        }
        for &(c, ref to) in FULL.iter() {
            for &t in to.iter().filter(|&&t| t != '\0') {
                assert_eq!(fold_simple(t), t, "{:X} folds to unfolded", c as u32);
            }
        }
        assert!(FULL.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// Full folding agrees with lower-casing wherever lower-casing is a
    /// one-to-one mapping of an uppercase letter, apart from the letters
    /// whose folding is known to differ (Cherokee, and characters with
    /// several lowercase look-alikes).
    #[test]
    fn agrees_with_lowercase_on_ascii_and_latin1() {
        for cp in 0..0x250u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if c == 'µ' || c == 'ß' || c == 'ſ' || c == 'İ' || c == 'ŉ' || c == 'ǰ' {
                continue;
            }
            let lower: String = c.to_lowercase().collect();
            assert_eq!(full(&c.to_string()), lower, "U+{cp:X}");
        }
    }
}
